//! Links with `password: required`: what anyone without a session is told, the password
//! form's attempt, and the password page.

use super::device::refused;
use super::session::{PageSession, page, page_session};
use super::{Visit, back_to_page, deny, link_state, localized, respond_html, respond_json, session_of, with_new_session};
use crate::access::EventKind;
use crate::gate::{self, GateClient, UnlockRequest, UnlockResponse};
use crate::http::{self, headers};
use crate::password;
use gatefold_contract::Denial;
use gatefold_contract::manifest::{self, Gallery, Link};
use gatefold_contract::owner::escape_html;
use worker::{Response, Result};

/// A posted form larger than this holds no password that could be right (passwords are at
/// most [`password::MAX_BYTES`], percent-encoded at most three times as long).
const MAX_FORM_BYTES: usize = 4_096;

/// `GET|HEAD /s/<token>` of a link with `password: required`. A valid session shows the
/// gallery; everything else (people, bots, HEAD, scanners alike) counts nothing and is told
/// [`locked`]'s answer.
pub(super) async fn open_locked(v: &Visit<'_>, gallery: &Gallery, link: &Link, token: &str) -> Result<Response> {
    if !v.head {
        match page_session(v, gallery, link, token).await? {
            PageSession::Show(session) => return page(v, gallery, link, token, &session).await,
            PageSession::Refuse(d) => return refused(v, gallery, link, token, d).await,
            PageSession::None => {}
        }
    }
    locked(v, gallery, link, token).await
}

/// A password link's answer to anyone without a session: its state denial first (the same for
/// everyone), then `password_not_set` while the owner has set none (fail closed), else the
/// password page (401). Counts nothing; logged as a preview with that outcome.
async fn locked(v: &Visit<'_>, gallery: &Gallery, link: &Link, token: &str) -> Result<Response> {
    let (state, own) = link_state(v, gallery, link).await?;
    let denial = match state {
        Err(d) => d,
        Ok(()) if own.password_set => Denial::PasswordRequired,
        Ok(()) => Denial::PasswordNotSet,
    };
    if !v.head {
        v.log(&gallery.id, &link.name, EventKind::Preview, Err(denial), None);
    }
    match denial {
        Denial::PasswordRequired => password_page(v, denial, None).await,
        _ => refused(v, gallery, link, token, denial).await,
    }
}

/// `POST /s/<token>` with the password form of a link with `password: required` (the caller
/// checked it is same-origin). The gate checks state, throttle and password and counts the
/// open in one operation; the password goes nowhere else (no log, event or error names it).
pub(super) async fn unlock(v: &Visit<'_>, gallery: &Gallery, link: &Link, token: &str) -> Result<Response> {
    let Ok(body) = http::read_body(&mut v.req.clone()?, MAX_FORM_BYTES).await? else {
        // No password fits in it: refused before it is read whole, and never compared.
        v.log(&gallery.id, &link.name, EventKind::Open, Err(Denial::RequestTooLarge), None);
        return deny(v, Denial::RequestTooLarge).await;
    };
    let Some(password) = password::from_form(&body) else {
        // No password field (the interstitial's button, a replayed empty form): as a GET.
        return locked(v, gallery, link, token).await;
    };
    let now = v.now();
    let req = UnlockRequest {
        policy: link.policy.clone(),
        now,
        password,
        network: v.password_guesser(),
        wider_terms: gate::owned_wider_terms(gallery, link),
        device: Some(v.device()?),
    };
    let answer = GateClient::new(v.env, &gallery.id, &link.name)?.unlock(&req).await?;
    let (outcome, denial, retry_after) = match answer {
        UnlockResponse::Admitted(a) => {
            v.log_admitted_open(&gallery.id, &link.name, &a);
            let shown = with_new_session(v, token, back_to_page(token).map(|resp| (resp, session_of(v, a, now, true))));
            return super::with_device_cookie(v, shown);
        }
        UnlockResponse::Denied(d) => (Err(d), d, None),
        UnlockResponse::Throttled { retry_after } => (Err(Denial::TooManyAttempts), Denial::TooManyAttempts, Some(retry_after)),
    };
    v.log(&gallery.id, &link.name, EventKind::Open, outcome, None);
    match denial {
        Denial::WrongPassword | Denial::TooManyAttempts => password_page(v, denial, retry_after).await,
        _ => refused(v, gallery, link, token, denial).await,
    }
}

/// The password page in the visitor's language (JSON for API clients), with `denial`'s status:
/// 401 asking for the password, 401 after a wrong one, 429 while throttled (with
/// `Retry-After`). Its error line says what went wrong, escaped; empty when only asking.
async fn password_page(v: &Visit<'_>, denial: Denial, retry_after: Option<i64>) -> Result<Response> {
    let resp = if v.json {
        respond_json(v, denial.status(), &serde_json::json!({"error": denial.code(), "message": denial.message(v.locale)}))?
    } else {
        let (path, template) = localized(v, manifest::password_page_path).await?;
        if !template.contains(manifest::PASSWORD_ERROR_SLOT) {
            return Err(worker::Error::RustError(format!("{path} has no error slot: rebuild the site with this version of gatefold")));
        }
        let error = match denial {
            Denial::PasswordRequired => String::new(),
            _ => format!(
                "<p class=\"gf-password-error\" role=\"alert\"><strong>{}</strong> {}</p>",
                escape_html(denial.title(v.locale)),
                escape_html(denial.message(v.locale))
            ),
        };
        respond_html(v, denial.status(), template.replacen(manifest::PASSWORD_ERROR_SLOT, &error, 1), headers::PASSWORD)?
    };
    if let Some(secs) = retry_after {
        resp.headers().set("Retry-After", &secs.to_string())?;
    }
    Ok(resp)
}
