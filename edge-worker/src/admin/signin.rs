//! Who is asking the admin API: the bearer token (the CLI, CI, the page after a token
//! sign-in), throttled per network, or a person Cloudflare Access let through (see
//! [`super::access`]).

use super::access::{self, AccessConfig};
use super::api;
use super::error::{Failure, Result};
use crate::sign_in_throttle::{self, AuthRequest};
use gatefold_contract::token::secrets_equal;
use worker::{Env, Method, Request};

/// Who acted: recorded with every owner action.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Actor {
    /// The bearer token (whoever holds it: the CLI, CI, the page signed in with it).
    Token,
    /// A person Cloudflare Access signed in, by e-mail.
    Access(String),
}

impl Actor {
    /// The audit log's actor column.
    pub fn name(&self) -> String {
        match self {
            Actor::Token => "token".into(),
            Actor::Access(email) => email.clone(),
        }
    }
}

/// Why `ADMIN_TOKEN` cannot be used, if it cannot: the one rule the worker's secrets check
/// applies too (`site::secret_too_short`), so no shorter token opens the API in any run.
pub fn token_problem(token: Option<&str>) -> Option<Failure> {
    match token {
        None => Some(Failure::new(503, "admin_disabled", "ADMIN_TOKEN is not set on this deployment: `wrangler secret put ADMIN_TOKEN` (or .dev.vars locally)")),
        Some(t) => crate::site::secret_too_short("ADMIN_TOKEN", t).map(|why| Failure::new(503, "admin_disabled", why)),
    }
}

/// Whether a request signed in by Access may act: plain reads are always fine; a change, or a
/// read that goes on the audit log (`audited`: exports, downloads), must come from this
/// origin's own page, because a browser attaches Access's cookie (and so Access its assertion)
/// to requests another site makes it send.
pub fn access_may_act(method: &Method, audited: bool, origin: Option<&str>, sec_fetch_site: Option<&str>, own_origin: &str) -> bool {
    (matches!(method, Method::Get | Method::Head) && !audited) || crate::http::same_origin(origin, sec_fetch_site, own_origin)
}

fn var(env: &Env, name: &str) -> Option<String> {
    env.var(name).ok().map(|v| v.to_string())
}

/// This deployment's Access settings (see [`access::config`]).
pub fn access_config(env: &Env) -> std::result::Result<Option<AccessConfig>, String> {
    let dev = var(env, crate::site::DEV_VAR).as_deref() == Some("1");
    access::config(var(env, access::TEAM_VAR).as_deref(), var(env, access::AUD_VAR).as_deref(), var(env, access::JWKS_VAR).as_deref(), dev)
}

fn now_ms() -> f64 {
    worker::Date::now().as_millis() as f64
}

/// Whether the request carries a bearer token or an Access assertion at all (without either,
/// there is nothing to check and nothing to throttle).
pub fn presents_credentials(req: &Request) -> worker::Result<bool> {
    let h = req.headers();
    Ok(api::bearer(h.get("Authorization")?.as_deref()).is_some() || h.get(access::HEADER)?.is_some())
}

/// The actor of an admin API request, or the failure to answer. A bearer token wins when both
/// are sent (the CLI behind Access); otherwise an Access assertion, when Access is configured.
pub async fn authorize(req: &Request, env: &Env, audited: bool) -> Result<Actor> {
    let header = req.headers().get("Authorization")?;
    if let Some(given) = api::bearer(header.as_deref()) {
        return by_token(req, env, given).await;
    }
    let assertion = req.headers().get(access::HEADER)?;
    let config = access_config(env);
    match (assertion, config) {
        (_, Err(problem)) => {
            worker::console_error!("admin: {problem}");
            Err(Failure::new(503, "access_misconfigured", problem).into())
        }
        (Some(assertion), Ok(Some(config))) => by_access(req, &config, &assertion, audited).await,
        (_, Ok(_)) => Err(Failure::new(401, "unauthorized", "send the admin token as `Authorization: Bearer <ADMIN_TOKEN>`").into()),
    }
}

/// The bearer token, compared in constant time, then decided by the network's throttle with
/// the verdict in hand (see `crate::sign_in_throttle`): a right token is never a failure.
async fn by_token(req: &Request, env: &Env, given: &str) -> Result<Actor> {
    let expected = env.secret("ADMIN_TOKEN").ok().map(|s| s.to_string());
    if let Some(f) = token_problem(expected.as_deref()) {
        return Err(f.into());
    }
    let correct = expected.is_some_and(|e| secrets_equal(given, &e));
    let ip = crate::network::client_ip(|h| req.headers().get(h).ok().flatten()).unwrap_or_else(|| "unknown".into());
    let now = (now_ms() / 1000.0) as i64;
    let answer = sign_in_throttle::attempt(env, &AuthRequest::new(&ip, now, correct)).await?;
    if answer.retry_after > 0 {
        let mut f = Failure::new(429, "too_many_attempts", answer.message());
        f.retry_after = Some(answer.retry_after);
        return Err(f.into());
    }
    if !correct {
        return Err(Failure::new(401, "unauthorized", "wrong admin token").into());
    }
    Ok(Actor::Token)
}

async fn by_access(req: &Request, config: &AccessConfig, assertion: &str, audited: bool) -> Result<Actor> {
    let email = access::verify(config, assertion, now_ms()).await.map_err(|why| Failure::new(401, "access_denied", format!("Cloudflare Access sign-in refused: {why}")))?;
    let h = req.headers();
    let own = req.url()?.origin().ascii_serialization();
    if !access_may_act(&req.method(), audited, h.get("Origin")?.as_deref(), h.get("Sec-Fetch-Site")?.as_deref(), &own) {
        return Err(Failure::new(403, "cross_site_request", "a change or an export signed in by Cloudflare Access must come from this site's admin page").into());
    }
    Ok(Actor::Access(email))
}

#[cfg(test)]
mod tests {
    use super::*;
    use gatefold_contract::token::MIN_SECRET_CHARS;

    #[test]
    fn one_rule_for_the_admin_token_length() {
        assert_eq!(token_problem(None).unwrap().status, 503);
        let short = "x".repeat(MIN_SECRET_CHARS - 1);
        let f = token_problem(Some(&short)).unwrap();
        assert_eq!((f.status, f.code), (503, "admin_disabled"));
        assert!(f.message.contains("32"), "{}", f.message);
        let key = "k".repeat(MIN_SECRET_CHARS);
        assert_eq!(crate::site::secrets_problem(Some(&key), Some(&short), false), Some(f.message), "the sign-in and the deployment's check say the same");
        assert_eq!(token_problem(Some(&"x".repeat(20))).map(|f| f.status), Some(503), "a 20-character token opened the API before");
        assert_eq!(token_problem(Some(&"x".repeat(MIN_SECRET_CHARS))), None);
    }

    #[test]
    fn access_changes_and_exports_come_from_the_admin_page_only() {
        let me = "https://images.example.com";
        assert!(access_may_act(&Method::Get, false, None, Some("cross-site"), me), "plain reads are safe");
        assert!(access_may_act(&Method::Post, false, None, Some("same-origin"), me));
        assert!(access_may_act(&Method::Patch, false, Some(me), None, me));
        assert!(access_may_act(&Method::Get, true, None, Some("same-origin"), me), "an export from the admin page");
        for (m, audited) in [(Method::Post, false), (Method::Patch, false), (Method::Put, false), (Method::Delete, false), (Method::Get, true)] {
            assert!(!access_may_act(&m, audited, None, Some("cross-site"), me), "{m:?}");
            assert!(!access_may_act(&m, audited, Some("https://evil.example"), None, me), "{m:?}");
            assert!(!access_may_act(&m, audited, None, None, me), "{m:?} without fetch metadata or Origin");
        }
    }

    #[test]
    fn actors_as_the_audit_log_names_them() {
        assert_eq!(Actor::Token.name(), "token");
        assert_eq!(Actor::Access("owner@example.com".into()).name(), "owner@example.com");
    }
}
