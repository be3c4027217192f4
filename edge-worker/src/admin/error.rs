//! The admin API's one error path. A handler returns [`Result`] and uses `?` on everything:
//! a [`Failure`] is an answer for the owner (status, stable code, what to do), a
//! `worker::Error` is the worker failing (logged, answered 500). The router turns either into
//! the JSON every admin error has ([`ApiError`]).

use gatefold_contract::admin::ApiError;
use worker::Response;

/// An API failure: HTTP status, stable code and an English sentence saying what to do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    pub status: u16,
    pub code: &'static str,
    pub message: String,
    /// Seconds for a `Retry-After` header (throttled sign-ins).
    pub retry_after: Option<i64>,
    /// A generated passphrase offered with a refused weak password.
    pub suggestion: Option<String>,
}

impl Failure {
    pub fn new(status: u16, code: &'static str, message: impl Into<String>) -> Failure {
        Failure { status, code, message: message.into(), retry_after: None, suggestion: None }
    }

    /// The answer the owner gets: the error JSON, never stored, with the headers its status
    /// calls for.
    pub fn response(self) -> worker::Result<Response> {
        let (status, retry_after) = (self.status, self.retry_after);
        let body = ApiError { error: self.code.to_string(), message: self.message, suggestion: self.suggestion };
        let mut resp = Response::from_json(&body)?.with_status(status);
        let h = resp.headers_mut();
        crate::http::headers::owner(h)?;
        if status == 401 {
            h.set("WWW-Authenticate", "Bearer realm=\"gatefold-admin\"")?;
        }
        if let Some(secs) = retry_after {
            h.set("Retry-After", &secs.to_string())?;
        }
        Ok(resp)
    }
}

/// Why an admin API call has no answer of its own.
#[derive(Debug)]
pub enum Error {
    /// Said to the owner as it is (a bad request, an unknown name, a refused change).
    Refused(Failure),
    /// The worker failed (a binding, a Durable Object, a broken deployment): 500, logged.
    Internal(worker::Error),
}

impl Error {
    /// A deployment whose records are missing or unreadable (the site module's errors).
    pub fn deployment(message: String) -> Error {
        Error::Internal(worker::Error::RustError(message))
    }
}

impl From<Failure> for Error {
    fn from(f: Failure) -> Error {
        Error::Refused(f)
    }
}

impl From<worker::Error> for Error {
    fn from(e: worker::Error) -> Error {
        Error::Internal(e)
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failures_and_worker_errors_both_travel_by_question_mark() {
        fn refuse() -> Result<()> {
            Err(Failure::new(404, "unknown_gallery", "no gallery"))?
        }
        fn fail() -> Result<()> {
            Err(worker::Error::RustError("storage".into()))?
        }
        assert!(matches!(refuse(), Err(Error::Refused(Failure { status: 404, code: "unknown_gallery", .. }))));
        assert!(matches!(fail(), Err(Error::Internal(_))));
        assert!(matches!(Error::deployment("site.json is missing".into()), Error::Internal(worker::Error::RustError(m)) if m.contains("site.json")));
    }
}
