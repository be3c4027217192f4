//! The page route's opens: a person's navigation (or the interstitial's button) counts one,
//! everything else is told the link's real state.

use super::locked::{open_locked, unlock};
use super::session::{PageSession, page, page_session};
use super::device::{refused, with_device_cookie};
use super::preview::without_counting;
use super::{Visit, back_to_page, deny, session_of, with_new_session};
use crate::access::EventKind;
use crate::gate::{GateClient, OpenRequest, OpenResponse};
use crate::http::{self, FetchIntent};
use gatefold_contract::Denial;
use gatefold_contract::manifest::{Gallery, Link};
use gatefold_contract::token::Session;
use worker::{Response, Result};

/// Takes an open from this request's device at the link's gate, logging it either way.
async fn count_open(v: &Visit<'_>, gallery: &Gallery, link: &Link) -> Result<std::result::Result<Session, Denial>> {
    let now = v.now();
    let answer = GateClient::new(v.env, &gallery.id, &link.name)?.open(&OpenRequest::from_device(gallery, link, now, v.device()?)).await?;
    let session = match answer {
        OpenResponse::Admitted(a) => {
            v.log_admitted_open(&gallery.id, &link.name, &a);
            Ok(session_of(v, a, now, false))
        }
        OpenResponse::Denied(d) => {
            v.log(&gallery.id, &link.name, EventKind::Open, Err(d), None);
            Err(d)
        }
    };
    Ok(session)
}

/// `GET|HEAD /s/<token>`.
pub async fn open(v: &Visit<'_>, token: &str) -> Result<Response> {
    let Some((gallery, link)) = v.link(token).await? else { return deny(v, Denial::NotFound).await };
    let (gallery, link) = (gallery.as_ref(), &link);
    if link.policy.password {
        return open_locked(v, gallery, link, token).await;
    }
    if v.head || crate::bots::is_preview_bot(v.header("User-Agent").as_deref()) {
        return without_counting(v, gallery, link).await;
    }
    match page_session(v, gallery, link, token).await? {
        PageSession::Show(session) => return page(v, gallery, link, token, &session).await,
        PageSession::Refuse(d) => return refused(v, gallery, link, token, d).await,
        PageSession::None => {}
    }
    if http::fetch_intent(|name| v.header(name)) != FetchIntent::Navigation {
        return without_counting(v, gallery, link).await;
    }
    let shown = match count_open(v, gallery, link).await? {
        Ok(session) => page(v, gallery, link, token, &session).await.map(|resp| (resp, session)),
        Err(d) => return refused(v, gallery, link, token, d).await,
    };
    with_device_cookie(v, with_new_session(v, token, shown))
}

/// `POST /s/<token>`: the interstitial's "View gallery" button. Counts the open, then sends
/// the browser back to the page with a 303 so a reload never posts again.
pub async fn confirm_open(v: &Visit<'_>, token: &str) -> Result<Response> {
    let Some((gallery, link)) = v.link(token).await? else { return deny(v, Denial::NotFound).await };
    let (gallery, link) = (gallery.as_ref(), &link);
    let origin = v.header("Origin");
    let fetch_site = v.header("Sec-Fetch-Site");
    if !http::same_origin(origin.as_deref(), fetch_site.as_deref(), &v.origin()?) {
        v.log(&gallery.id, &link.name, EventKind::Open, Err(Denial::CrossSiteRequest), None);
        return deny(v, Denial::CrossSiteRequest).await;
    }
    match page_session(v, gallery, link, token).await? {
        PageSession::Show(_) => return back_to_page(token),
        PageSession::Refuse(d) => return refused(v, gallery, link, token, d).await,
        PageSession::None => {}
    }
    if link.policy.password {
        return unlock(v, gallery, link, token).await;
    }
    match count_open(v, gallery, link).await? {
        Ok(session) => with_device_cookie(v, with_new_session(v, token, back_to_page(token).map(|resp| (resp, session)))),
        Err(d) => refused(v, gallery, link, token, d).await,
    }
}
