//! "Request access": what a person refused by a closed link sees in the denial page's slot (the
//! form, or where the request this browser made stands), and the form's POST, which only hands
//! the request to the gallery's log (the owner's Worker stores it, throttles it and tells the
//! owner). Nothing here answers or grants: that is the owner's side.
//!
//! Only a person's form creates a request: the POST must be same-origin (`Sec-Fetch-Site` or
//! `Origin`) and a navigation (`Sec-Fetch-Mode: navigate`, what a form submission is), its body
//! bounded, from no link-preview fetcher; HEAD and GET never reach it (the route answers POST
//! only). The browser is told which request it made by a cookie scoped to the link's path,
//! holding the request's 128 random bits, never anything guessable.

use super::{Visit, back_to_page, deny, deny_with, opening_fragment};
use crate::access;
use crate::gallery_log::{AskAccess, Asked, GalleryLogClient};
use crate::http;
use gatefold_contract::Denial;
use gatefold_contract::manifest::{Gallery, Link};
use gatefold_contract::requests::{self, VisitorView};
use gatefold_contract::time::WallTime;
use worker::{Response, Result};

/// A request id as the cookie holds it: 32 lowercase hex digits.
fn is_request_key(s: &str) -> bool {
    s.len() == 32 && s.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

impl Visit<'_> {
    /// The request this browser made for the link, per its cookie, if it looks like one.
    fn request_key(&self) -> Option<String> {
        let cookies = self.header("Cookie");
        http::cookie(cookies.as_deref(), requests::COOKIE).filter(|k| is_request_key(k)).map(str::to_string)
    }

    fn is_bot(&self) -> bool {
        crate::bots::is_preview_bot(self.header("User-Agent").as_deref())
    }
}

/// A denial as a person sees it: where "Request access" is offered, the slot holds the form or
/// the state of this browser's request. JSON clients, HEAD and link-preview fetchers get the
/// plain denial (they never ask).
pub(super) async fn deny_person(v: &Visit<'_>, gallery: &Gallery, link: &Link, token: &str, denial: Denial) -> Result<Response> {
    let opening = opening_fragment(v, gallery, link, denial);
    if v.json || v.head || v.is_bot() || !requests::offered_for(denial.code()) {
        return deny_with(v, denial, &opening).await;
    }
    let view = match v.request_key() {
        Some(key) => GalleryLogClient::new(v.env, &gallery.id)?.request_view(&link.name, &key).await?,
        None => None,
    };
    let view = view.map(|r| VisitorView { state: r.state, asked: WallTime::at(&v.site.settings, r.at.div_euclid(1000)).minute(), reply: r.reply });
    deny_with(v, denial, &(opening + &requests::fragment(v.locale, denial, token, view.as_ref()))).await
}

/// `POST /s/<token>/request`: the denial page's form. Answers 303 to the link's page (which then
/// shows the request's state), or the reason nothing was asked.
pub async fn request_access(v: &Visit<'_>, token: &str) -> Result<Response> {
    let Some((gallery, link)) = v.link(token).await? else { return deny(v, Denial::NotFound).await };
    let (gallery, link) = (gallery.as_ref(), &link);
    let navigation = v.header("Sec-Fetch-Mode").is_none_or(|m| m.trim().eq_ignore_ascii_case("navigate"));
    if !http::same_origin(v.header("Origin").as_deref(), v.header("Sec-Fetch-Site").as_deref(), &v.origin()?) || !navigation || v.is_bot() {
        return deny(v, Denial::CrossSiteRequest).await;
    }
    let Ok(body) = http::read_body(&mut v.req.clone()?, requests::FORM_MAX_BYTES).await? else {
        return deny(v, Denial::RequestTooLarge).await;
    };
    // Asked with this browser's device, so a device refused at the link's limit is told so.
    let state = crate::gate::GateClient::new(v.env, &gallery.id, &link.name)?
        .state(&crate::gate::OpenRequest::from_device(gallery, link, v.now(), v.device()?))
        .await?
        .denial
        .map_or(Ok(()), Err);
    let denial = match state {
        // Open again (granted meanwhile, or never closed): nothing to ask, the page opens.
        Ok(()) => return back_to_page(token),
        Err(d) if !requests::offered_for(d.code()) => return deny(v, d).await,
        Err(d) => d,
    };
    let log = GalleryLogClient::new(v.env, &gallery.id)?;
    // A browser whose request is still waiting is shown it, not given a second one.
    if let Some(key) = v.request_key()
        && log.request_view(&link.name, &key).await?.is_some_and(|r| r.state == requests::RequestState::Open)
    {
        return back_to_page(token);
    }
    let field = |name: &str| worker::url::form_urlencoded::parse(&body).find(|(k, _)| k == name).map(|(_, v)| v.into_owned());
    let visitor = v.visitor();
    let (device, os, browser) = access::describe_user_agent(visitor.user_agent.as_deref().unwrap_or_default());
    let place = [visitor.geo.city.as_deref(), visitor.geo.country.as_deref()].into_iter().flatten().filter(|s| !s.is_empty()).collect::<Vec<_>>().join(", ");
    let network = crate::network::Network::of(visitor.ip.as_deref().unwrap_or_default());
    let key = |part: &str| v.site.key.visitor_hash(0, part, "request-throttle");
    let ask = AskAccess {
        gallery: gallery.id.clone(),
        link: link.name.clone(),
        at: v.now_ms,
        name: requests::bounded(field("name").as_deref(), requests::NAME_MAX_CHARS),
        message: requests::bounded(field("message").as_deref(), requests::MESSAGE_MAX_CHARS),
        reason: denial.code().to_string(),
        device: format!("{device} · {os} · {browser}"),
        place: (!place.is_empty()).then_some(place),
        network: key(&network.net),
        wide: key(&network.wide),
        retention_days: v.site.settings.analytics.retention_days,
    };
    match log.ask_access(&ask).await? {
        Asked::Created { key } => {
            let resp = back_to_page(token)?;
            resp.headers().set("Set-Cookie", &http::session_cookie(requests::COOKIE, &key, token, requests::COOKIE_SECONDS))?;
            Ok(resp)
        }
        Asked::Throttled { retry_after } => {
            let resp = deny_with(v, denial, &requests::throttled(v.locale)).await?.with_status(429);
            resp.headers().set("Retry-After", &retry_after.to_string())?;
            Ok(resp)
        }
    }
}
