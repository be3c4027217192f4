//! One admin API call: the request's context (the site, the clock, what goes on record), its
//! query and body read under their caps, and its answers (JSON, downloads, owner files, errors),
//! never stored by any cache.

use super::api::{self, Failure};
use super::audit::Note;
use crate::http;
use crate::site::Deployment;
use gatefold_contract::admin::{ApiError, LinkPatch};
use gatefold_contract::manifest::Site;
use gatefold_contract::policy::Change;
use std::collections::HashMap;
use std::rc::Rc;
use worker::{Env, Request, Response, Result};

/// One admin API request as its handler sees it.
pub(super) struct Call<'a> {
    pub req: Request,
    pub env: &'a Env,
    /// The same isolate-wide settings and record memo the visitor routes use.
    pub site: Rc<Deployment>,
    /// Unix seconds.
    pub now: i64,
    /// The owner action to put on record, set by the handlers of actions.
    pub note: Option<Note>,
}

pub(super) fn now_secs() -> i64 {
    (worker::Date::now().as_millis() / 1000) as i64
}

pub(super) fn no_store(mut resp: Response) -> Result<Response> {
    http::headers::owner(resp.headers_mut())?;
    Ok(resp)
}

pub(super) fn json<T: serde::Serialize>(value: &T) -> Result<Response> {
    no_store(Response::from_json(value)?)
}

pub(super) fn failure(f: Failure) -> Result<Response> {
    let resp = Response::from_json(&ApiError { error: f.code.to_string(), message: f.message, suggestion: f.suggestion })?.with_status(f.status);
    let mut resp = no_store(resp)?;
    if f.status == 401 {
        resp.headers_mut().set("WWW-Authenticate", "Bearer realm=\"gatefold-admin\"")?;
    }
    if let Some(secs) = f.retry_after {
        resp.headers_mut().set("Retry-After", &secs.to_string())?;
    }
    Ok(resp)
}

pub(super) fn query_params(req: &Request) -> Result<HashMap<String, String>> {
    Ok(req.url()?.query_pairs().into_owned().collect())
}

/// An owner file: never stored, never sniffed, and as locked down as the admin page.
pub(super) fn owner_file(mut resp: Response, content_type: &str) -> Result<Response> {
    let h = resp.headers_mut();
    h.set("Content-Type", content_type)?;
    http::headers::locked_down(h, http::headers::PAGE)?;
    no_store(resp)
}

pub(super) type Answer = std::result::Result<Response, Failure>;

pub(super) fn download(body: Response, content_type: &str, file_name: &str) -> Result<Response> {
    let mut resp = no_store(body)?;
    let h = resp.headers_mut();
    h.set("Content-Type", content_type)?;
    h.set("Content-Disposition", &crate::http::attachment_disposition(file_name))?;
    Ok(resp)
}

/// Admin request bodies are small JSON objects (a patch, a password, a gallery id).
const MAX_BODY_BYTES: usize = 16 * 1024;

/// The request's body as text, read under [`MAX_BODY_BYTES`] while it streams
/// ([`http::read_body`]): 413 past it.
pub(super) async fn body_text(req: &mut Request) -> Result<std::result::Result<String, Failure>> {
    Ok(match http::read_body(req, MAX_BODY_BYTES).await? {
        Ok(bytes) => String::from_utf8(bytes).map_err(|_| Failure::new(400, "bad_request", "the body must be UTF-8 JSON")),
        Err(http::TooLarge) => Err(Failure::new(413, "request_too_large", format!("the body is over {MAX_BODY_BYTES} bytes: admin requests are small JSON objects"))),
    })
}

/// A PATCH body (a link's or an audience's) as the change its object applies.
pub(super) async fn patch_change(req: &mut Request, site: &Site) -> Result<std::result::Result<Change, Failure>> {
    let body = match body_text(req).await? {
        Ok(body) => body,
        Err(f) => return Ok(Err(f)),
    };
    Ok(match serde_json::from_str::<LinkPatch>(&body) {
        Ok(patch) => api::patch_change(site, &patch),
        Err(e) => Err(Failure::new(400, "bad_request", format!("body must be JSON like {{\"expires\": \"2026-12-31\", \"max_views\": 100}} or {{\"extend_days\": 7}}: {e}"))),
    })
}
