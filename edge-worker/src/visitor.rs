//! Visitor handlers: the gallery page (counted opens, the interstitial, sessions, bot
//! previews), gated display images, downloads (originals, web sizes, all originals as one ZIP),
//! and denials.
//!
//! Only a person opens a gallery: a top-level browser navigation without a session counts an
//! open, as does the interstitial's "View gallery" button (a same-origin POST). Everything
//! else that asks for a link's page (mail gateways, link checkers, unfurlers, bots, HEAD) is
//! told the link's real state and counts nothing.
//!
//! A link with `password: required` opens only through its password page's form (a
//! same-origin POST the link's gate checks); without a session everyone is told its state, or
//! `password_not_set`, or shown that page.
//!
//! This file holds what every handler shares (the request as read once, answers, the link's
//! state); `open` the page route's counted opens, `preview` what counts nothing is answered
//! (the interstitial, chat apps' link previews), `session` the page a session shows, `locked`
//! password links, `images` gated display images, `downloads` the downloads, `request` the
//! "Request access" form a person refused by a closed link finds in the denial page.

use crate::access::{self, EventKind, EventSpec, Visitor};
use crate::gate::{self, GateClient};
use crate::http::{self, headers};
use crate::password;
use crate::site::{self, Deployment};
use gatefold_contract::manifest::{self, Gallery, Link};
use gatefold_contract::policy::Admission;
use gatefold_contract::token::{ClientBinding, Session};
use gatefold_contract::{Denial, Locale};
use std::rc::Rc;
use worker::{Context, Env, Headers, Request, Response, Result};

/// The R2 bucket holding display images and originals under content-addressed keys.
pub const MEDIA_BUCKET: &str = "MEDIA";

/// Origin of the internal URLs display images are cached under (`<origin>/<R2 key>`): only
/// this worker reaches its data centre's cache, and it puts and looks up images there only
/// after a visitor's session passed, so the cached copy can be public and immutable while
/// every visitor's answer stays `private, no-store`.
pub const MEDIA_CACHE_ORIGIN: &str = "https://media.gatefold.internal";

mod device;
mod downloads;
mod images;
mod locked;
mod marked;
mod open;
mod preview;
mod request;
mod session;

pub use device::{RequestDevice, with_device_cookie};
pub use downloads::{download, download_all, web_download};
pub use images::image;
pub use open::{confirm_open, open};
pub use request::request_access;

/// One visitor request and what the handlers need about it, read once.
pub struct Visit<'a> {
    pub req: &'a Request,
    pub env: &'a Env,
    pub ctx: &'a Context,
    pub site: &'a Deployment,
    pub now_ms: i64,
    pub locale: Locale,
    pub json: bool,
    pub head: bool,
    /// The request's device, made on first use ([`Visit::request_device`]).
    pub device: std::cell::OnceCell<RequestDevice>,
}

impl Visit<'_> {
    pub fn now(&self) -> i64 {
        self.now_ms.div_euclid(1000)
    }

    fn header(&self, name: &str) -> Option<String> {
        self.req.headers().get(name).ok().flatten()
    }

    /// `scheme://host[:port]` this request was made to.
    fn origin(&self) -> Result<String> {
        Ok(self.req.url()?.origin().ascii_serialization())
    }

    fn visitor(&self) -> Visitor {
        let geo = js_cf(self.req).unwrap_or_default();
        // A Referer from this site is one of its own pages, whose URL holds a token.
        let own = self.origin().ok();
        let referrer = self.header("Referer").filter(|r| own.as_deref().is_none_or(|o| !r.starts_with(o)));
        Visitor { ip: crate::network::client_ip(|h| self.header(h)), user_agent: self.header("User-Agent"), referrer, geo }
    }

    fn log(&self, gallery: &str, link: &str, kind: EventKind, outcome: Result<(), Denial>, image: Option<&str>) {
        self.log_with(gallery, link, kind, outcome, image, None);
    }

    /// Logs an admitted open with its admission (view number and limit), which the owner's
    /// notifications need (first open, 80 % used, last view).
    fn log_admitted_open(&self, gallery: &str, link: &str, a: &Admission) {
        self.log_with(gallery, link, EventKind::Open, Ok(()), None, Some(*a));
    }

    fn log_with(&self, gallery: &str, link: &str, kind: EventKind, outcome: Result<(), Denial>, image: Option<&str>, admission: Option<Admission>) {
        let mut event = access::build_event(
            EventSpec { gallery, link, kind, outcome: access::outcome(outcome), image },
            &self.visitor(),
            self.site.settings.ip_logging,
            &self.site.key,
            self.now_ms,
        );
        event.admission = admission;
        crate::gallery_log::record(self.env, self.ctx, event);
    }

    /// The client a session is bound to: browser family and OS of this request's User-Agent,
    /// and its device (a session cookie copied to another device does not verify there).
    fn client(&self) -> ClientBinding {
        self.browser_and_os().with_device(self.request_device().ok().map(|d| d.id).as_ref())
    }

    /// The client's browser and OS alone: how sessions were bound before devices were.
    fn browser_and_os(&self) -> ClientBinding {
        let (_, os, browser) = access::describe_user_agent(&self.header("User-Agent").unwrap_or_default());
        ClientBinding::new(&browser, &os)
    }

    /// Who is guessing a link's password, for its throttle: the network and allocation of the
    /// address (`crate::network`), never the User-Agent, each under the site's keyed hash (one
    /// fixed "day", so a window never restarts at midnight).
    fn password_guesser(&self) -> password::Guesser {
        let n = crate::network::Network::of(&crate::network::client_ip(|h| self.header(h)).unwrap_or_default());
        let key = |part: &str| self.site.key.visitor_hash(0, part, "password-throttle");
        password::Guesser { net: key(&n.net), wide: key(&n.wide) }
    }

    /// The gallery and link `token` opens (the gallery without its images: the page has
    /// them). Records that cannot be read fail the request.
    async fn link(&self, token: &str) -> Result<Option<(Rc<Gallery>, Link)>> {
        self.site.link_by_token(self.env, token).await.map_err(worker::Error::RustError)
    }

    /// [`Visit::link`] with the gallery's images, for an image or a download.
    async fn link_with_images(&self, token: &str) -> Result<Option<(Rc<Gallery>, Link)>> {
        self.site.link_with_images(self.env, token).await.map_err(worker::Error::RustError)
    }

    /// The session of `token`'s link this client presents, if authentic, made by this client
    /// and not older than the link's current epoch (an owner's revoke ends older ones). A
    /// newer epoch than the one read is a session the gate issued after a revoke that KV has
    /// not yet shown here: epochs only grow and the MAC covers them, so it is genuine.
    fn session(&self, token: &str, runtime: &gate::LinkRuntime) -> Option<Session> {
        let cookies = self.header("Cookie");
        let value = http::cookie(cookies.as_deref(), Session::COOKIE)?;
        let key = &self.site.key;
        Session::decode(value, key, token, self.client())
            // A session an earlier version issued is bound to browser and OS alone; a browser
            // without a device cookie presents it as before, so a deploy neither ends a live
            // session nor counts its next page as an open (on a one-view link: a lockout).
            // Sessions issued since carry the device: this never admits one elsewhere.
            .or_else(|| self.device_cookie().is_none().then(|| Session::decode(value, key, token, self.browser_and_os())).flatten())
            .filter(|s| s.epoch >= runtime.session_epoch)
    }
}

/// `request.cf` as JSON: the typed accessors in `worker` unwrap fields that local runs omit.
fn js_cf(req: &Request) -> Option<access::CfGeo> {
    use worker::js_sys::{JSON, Reflect};
    let cf = Reflect::get(req.inner().as_ref(), &"cf".into()).ok()?;
    if cf.is_undefined() || cf.is_null() {
        return None;
    }
    let text: String = JSON::stringify(&cf).ok()?.into();
    serde_json::from_str(&text).ok()
}

/// A private asset in the visitor's language, else the site default, else English: its path
/// and text.
async fn localized(v: &Visit<'_>, path_for: impl Fn(Locale) -> String) -> Result<(String, String)> {
    for locale in [v.locale, v.site.settings.default_locale, Locale::En] {
        let path = path_for(locale);
        if let Some(text) = site::asset_text(v.env, &path).await? {
            return Ok((path, text));
        }
    }
    Err(worker::Error::RustError(format!("{} is missing from the assets: rebuild the site", path_for(v.locale))))
}

async fn localized_html(v: &Visit<'_>, path_for: impl Fn(Locale) -> String) -> Result<String> {
    Ok(localized(v, path_for).await?.1)
}

fn respond_html(v: &Visit<'_>, status: u16, body: String, page: headers::PageSecurity) -> Result<Response> {
    let resp = if v.head { Response::empty()? } else { Response::from_html(body)? };
    let resp = resp.with_status(status);
    headers::html_page(resp.headers(), page)?;
    headers::gated(resp.headers())?;
    Ok(resp)
}

fn respond_json(v: &Visit<'_>, status: u16, body: &serde_json::Value) -> Result<Response> {
    let resp = if v.head { Response::empty()? } else { Response::from_json(body)? };
    let resp = resp.with_status(status);
    resp.headers().set("Content-Type", "application/json; charset=utf-8")?;
    headers::gated(resp.headers())?;
    Ok(resp)
}

/// A denial as the localized HTML page or, for API clients, JSON.
pub async fn deny(v: &Visit<'_>, denial: Denial) -> Result<Response> {
    deny_with(v, denial, "").await
}

/// [`deny`] with `fragment` in the page's per-request slot ([`manifest::DENIAL_SLOT`]): HTML the
/// caller has built and escaped (a form, a request's state, an opening time). JSON clients get
/// the code and message only.
pub async fn deny_with(v: &Visit<'_>, denial: Denial, fragment: &str) -> Result<Response> {
    if v.json {
        return respond_json(v, denial.status(), &serde_json::json!({"error": denial.code(), "message": denial.message(v.locale)}));
    }
    let page = localized_html(v, |l| manifest::denial_path(denial, l)).await?;
    let security = if fragment.is_empty() { headers::PAGE } else { headers::FILLED_DENIAL };
    respond_html(v, denial.status(), fill_denial_slot(&page, fragment), security)
}

/// For `not_yet_open`, hands the link's opening moment to the gallery's log, whose alarm
/// announces it (`go_live`), and returns it; `None` for every other code. Every answer that
/// tells a scheduled link's state calls it, so the publish's smoke test arms the alarm.
fn announce_opening(v: &Visit<'_>, gallery: &Gallery, link: &Link, denial: Denial) -> Option<i64> {
    let at = link.policy.opens_at().filter(|_| denial == Denial::NotYetOpen)?;
    crate::gallery_log::schedule_go_live(v.env, v.ctx, &gallery.id, &link.name, at);
    Some(at)
}

/// What a denial of `link`'s page says in its slot before anything else: for `not_yet_open`,
/// when the link opens (in the visitor's language, the site timezone); nothing for every other
/// code.
fn opening_fragment(v: &Visit<'_>, gallery: &Gallery, link: &Link, denial: Denial) -> String {
    let Some(at) = announce_opening(v, gallery, link, denial) else { return String::new() };
    let when = gatefold_contract::time::opens_on(&v.site.settings, at, v.locale);
    let iso = chrono::DateTime::from_timestamp(at, 0).map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)).unwrap_or_default();
    format!("<p class=\"gf-opens-at\"><time datetime=\"{iso}\">{}</time></p>", gatefold_contract::owner::escape_html(&when))
}

/// The denial page with `fragment` in its slot. A theme whose denial template lacks the slot
/// still shows the fragment, at the end of the body, rather than hiding a form from the visitor.
fn fill_denial_slot(page: &str, fragment: &str) -> String {
    if page.contains(manifest::DENIAL_SLOT) {
        return page.replacen(manifest::DENIAL_SLOT, fragment, 1);
    }
    match page.rfind("</body>") {
        Some(at) if !fragment.is_empty() => format!("{}{fragment}{}", &page[..at], &page[at..]),
        _ => page.to_string(),
    }
}

/// The link's real state, read from its gate without taking an open (its own state and its
/// wider scopes': a gallery's or an audience's disable closes every link under it), in one call
/// of the link's object, with the link's own status.
async fn link_state(v: &Visit<'_>, gallery: &Gallery, link: &Link) -> Result<(std::result::Result<(), Denial>, gate::Status)> {
    let answer = gate_state(v, gallery, link).await?;
    Ok((answer.denial.map_or(Ok(()), Err), answer.own))
}

/// The gate's whole answer behind [`link_state`] (with the expiry in force): one object call.
async fn gate_state(v: &Visit<'_>, gallery: &Gallery, link: &Link) -> Result<gate::StateResponse> {
    GateClient::new(v.env, &gallery.id, &link.name)?.state(&gate::OpenRequest::new(gallery, link, v.now())).await
}

/// The session an admitted open at `now` gives this client (`password`: admitted through it).
fn session_of(v: &Visit<'_>, a: Admission, now: i64, password: bool) -> Session {
    Session { view_number: a.view_number, issued_at: now, expires_at: a.session_expires_at, epoch: a.session_epoch, client: v.client(), password }
}

/// `Set-Cookie` carrying a new session for `token`'s link.
fn set_session(v: &Visit<'_>, resp: &Response, token: &str, session: &Session) -> Result<()> {
    let max_age = (session.expires_at - v.now()).max(0) + http::COOKIE_GRACE_SECONDS;
    let value = session.encode(&v.site.key, token);
    resp.headers().set("Set-Cookie", &http::session_cookie(Session::COOKIE, &value, token, max_age))
}

/// The answer to a counted open, carrying the new session's cookie.
fn with_new_session(v: &Visit<'_>, token: &str, answer: Result<(Response, Session)>) -> Result<Response> {
    let (resp, session) = answer?;
    set_session(v, &resp, token, &session)?;
    Ok(resp)
}

/// 303 to the link's page after a counted POST, so a reload never posts again.
fn back_to_page(token: &str) -> Result<Response> {
    let resp = Response::empty()?.with_status(303);
    resp.headers().set("Location", &format!("/s/{token}"))?;
    headers::gated(resp.headers())?;
    Ok(resp)
}

/// `source`'s body (none for HEAD) with its type, length and tag, and the gated headers.
fn gated_image(source: Response, head: bool) -> Result<Response> {
    let headers = Headers::new();
    for name in ["Content-Type", "Content-Length", "ETag"] {
        if let Some(value) = source.headers().get(name)? {
            headers.set(name, &value)?;
        }
    }
    headers::gated(&headers)?;
    let resp = if head { Response::empty()? } else { source };
    Ok(resp.with_status(200).with_headers(headers))
}

/// An object the gallery's record names but R2 lacks: the publish did not upload it.
async fn missing_media(v: &Visit<'_>, key: &str) -> Result<Response> {
    worker::console_error!("{key} is in the site's records but not in the {MEDIA_BUCKET} bucket: publish the site again (`gatefold publish`), or locally `make run`");
    deny(v, Denial::NotFound).await
}

#[cfg(test)]
mod tests {
    use super::fill_denial_slot;
    use gatefold_contract::manifest::DENIAL_SLOT;

    #[test]
    fn a_denial_slot_is_replaced_by_the_fragment_or_by_nothing() {
        let page = format!("<body><p>Expired</p>{DENIAL_SLOT}</body>");
        assert_eq!(fill_denial_slot(&page, "<form></form>"), "<body><p>Expired</p><form></form></body>");
        assert_eq!(fill_denial_slot(&page, ""), "<body><p>Expired</p></body>");
    }

    #[test]
    fn a_theme_without_the_slot_still_shows_the_fragment_before_the_end_of_its_body() {
        assert_eq!(fill_denial_slot("<body><p>Expired</p></body>", "<form></form>"), "<body><p>Expired</p><form></form></body>");
        assert_eq!(fill_denial_slot("<body><p>Expired</p></body>", ""), "<body><p>Expired</p></body>");
    }
}
