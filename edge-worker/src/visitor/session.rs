//! The page a session shows: the gallery's page filled for the link, and what a session
//! presented on the page route comes to.

use super::{Visit, localized, respond_html};
use crate::access::EventKind;
use crate::gate;
use crate::http::headers;
use crate::site;
use gatefold_contract::Denial;
use gatefold_contract::manifest::{self, Gallery, Link, PageMode};
use gatefold_contract::page::{PageLink, PageTemplate};
use gatefold_contract::policy::{Access, decide_in_session};
use gatefold_contract::token::Session;
use worker::{Response, Result};

/// The gallery's page for this link and session: the gallery's template in the link's download
/// mode (the marked template for a marked link), filled with the link's label, its expiry and view time as they stand now (runtime
/// changes included) and the session's end.
pub(super) async fn page(v: &Visit<'_>, gallery: &Gallery, link: &Link, token: &str, session: &Session) -> Result<Response> {
    let runtime = gate::runtime(v.env, &gallery.id, &link.name).await?;
    let effective = runtime.in_force(gallery, link);
    let mode = PageMode::of(&link.policy);
    // A marked link's page loads only the variants its copies are spliced from.
    let page_path = if link.mark.is_some() { manifest::marked_page_path } else { manifest::page_path };
    let (path, text) = localized(v, |l| page_path(&gallery.id, mode, l)).await?;
    let rebuild = |e: String| worker::Error::RustError(format!("{path}: {e}; rebuild the site with this version of gatefold"));
    let template = PageTemplate::from_json(&text).map_err(rebuild)?;
    let html = template
        .fill(&PageLink {
            token,
            label: &link.label,
            expiry: effective.expires_at.map(|at| site::shown_expiry(&v.site.settings, &link.policy, at)),
            view_seconds: effective.view_seconds,
            session_expires_at: effective.session_end(session),
        })
        .map_err(|e| rebuild(e.to_string()))?;
    respond_html(v, 200, html, headers::PAGE)
}

/// What a session presented on the page route comes to: the page, a final refusal, or
/// nothing (no session, or one that simply ended: the visitor is like a new one).
pub(super) enum PageSession {
    Show(Session),
    Refuse(Denial),
    None,
}

pub(super) async fn page_session(v: &Visit<'_>, gallery: &Gallery, link: &Link, token: &str) -> Result<PageSession> {
    let runtime = gate::runtime(v.env, &gallery.id, &link.name).await?;
    let Some(session) = v.session(token, &runtime) else { return Ok(PageSession::None) };
    let now = v.now();
    let effective = runtime.in_force(gallery, link);
    if now < effective.session_end(&session) {
        return Ok(match decide_in_session(&effective, &session, Access::View, now) {
            Ok(()) => PageSession::Show(session),
            // Opened before `password: required` was published: this visitor is asked for the
            // password like anyone new.
            Err(Denial::PasswordRequired) => PageSession::None,
            Err(d) => PageSession::Refuse(d),
        });
    }
    if effective.session_end_is_final() {
        v.log(&gallery.id, &link.name, EventKind::Open, Err(Denial::SessionExpired), None);
        return Ok(PageSession::Refuse(Denial::SessionExpired));
    }
    // Sessions without a set duration just end: coming back is a new open.
    Ok(PageSession::None)
}
