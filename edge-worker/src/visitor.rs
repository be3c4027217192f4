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

use crate::access::{self, EventKind, EventSpec, Visitor};
use crate::gate::{self, GateClient, OpenRequest, OpenResponse, Scope, UnlockRequest, UnlockResponse};
use crate::http::{self, FetchIntent, headers};
use crate::password;
use crate::site::{self, Deployment};
use gatefold_contract::manifest::{self, Gallery, Link, PageMode, Variant};
use gatefold_contract::page::{PageLink, PageTemplate};
use gatefold_contract::owner::escape_html;
use gatefold_contract::policy::{Access, Admission, decide_in_session, decide_open};
use gatefold_contract::token::{ClientBinding, Session};
use gatefold_contract::{Denial, Locale};
use std::rc::Rc;
use worker::{Cache, Context, Env, Headers, Request, Response, Result};

/// The R2 bucket holding display images and originals under content-addressed keys.
pub const MEDIA_BUCKET: &str = "MEDIA";

/// Origin of the internal URLs display images are cached under (`<origin>/<R2 key>`): only
/// this worker reaches its data centre's cache, and it puts and looks up images there only
/// after a visitor's session passed, so the cached copy can be public and immutable while
/// every visitor's answer stays `private, no-store`.
pub const MEDIA_CACHE_ORIGIN: &str = "https://media.gatefold.internal";

mod downloads;

pub use downloads::{download, download_all, web_download};

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

    /// Logs an admitted open with its view number and limit, which the owner's notifications
    /// need (first open, 80 % used, last view).
    fn log_admitted_open(&self, gallery: &str, link: &str, a: &Admission) {
        let views = crate::notify::ViewHint { view_number: a.view_number, max_views: a.max_views };
        self.log_with(gallery, link, EventKind::Open, Ok(()), None, Some(views));
    }

    fn log_with(&self, gallery: &str, link: &str, kind: EventKind, outcome: Result<(), Denial>, image: Option<&str>, views: Option<crate::notify::ViewHint>) {
        let mut event = access::build_event(
            EventSpec { gallery, link, kind, outcome: access::outcome(outcome), image },
            &self.visitor(),
            self.site.settings.ip_logging,
            &self.site.key,
            self.now_ms,
        );
        event.views = views;
        access::record(self.env, self.ctx, event);
    }

    /// The client a session is bound to: browser family and OS of this request's User-Agent.
    fn client(&self) -> ClientBinding {
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

    /// The gallery and link `token` opens. Records that cannot be read fail the request.
    async fn link(&self, token: &str) -> Result<Option<(Rc<Gallery>, Link)>> {
        self.site.link_by_token(self.env, token).await.map_err(worker::Error::RustError)
    }

    /// The session of `token`'s link this client presents, if authentic, made by this client
    /// and not older than the link's current epoch (an owner's revoke ends older ones). A
    /// newer epoch than the one read is a session the gate issued after a revoke that KV has
    /// not yet shown here: epochs only grow and the MAC covers them, so it is genuine.
    fn session(&self, token: &str, runtime: &gate::LinkRuntime) -> Option<Session> {
        let cookies = self.header("Cookie");
        let value = http::cookie(cookies.as_deref(), Session::COOKIE)?;
        Session::decode(value, &self.site.key, token, self.client()).filter(|s| s.epoch >= runtime.session_epoch)
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
    if v.json {
        return respond_json(v, denial.status(), &serde_json::json!({"error": denial.code(), "message": denial.message(v.locale)}));
    }
    let body = localized_html(v, |l| manifest::denial_path(denial, l)).await?;
    respond_html(v, denial.status(), body, headers::PAGE)
}

/// The gallery's page for this link and session: the gallery's template in the link's download
/// mode, filled with the link's label, its expiry and view time as they stand now (runtime
/// changes included) and the session's end.
async fn page(v: &Visit<'_>, gallery: &Gallery, link: &Link, token: &str, session: &Session) -> Result<Response> {
    let runtime = gate::runtime(v.env, &gallery.id, &link.name).await?;
    let effective = runtime.in_force(gallery, link);
    let mode = PageMode::of(&link.policy);
    let (path, text) = localized(v, |l| manifest::page_path(&gallery.id, mode, l)).await?;
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

/// `Set-Cookie` carrying a new session for `token`'s link.
fn set_session(v: &Visit<'_>, resp: &Response, token: &str, session: &Session) -> Result<()> {
    let max_age = (session.expires_at - v.now()).max(0) + http::COOKIE_GRACE_SECONDS;
    let value = session.encode(&v.site.key, token);
    resp.headers().set("Set-Cookie", &http::session_cookie(Session::COOKIE, &value, token, max_age))
}

/// The link's real state, read from its gate without taking an open (its own state and its
/// wider scopes': a gallery's or an audience's disable closes every link under it, asked at
/// once), with the link's own status.
async fn link_state(v: &Visit<'_>, gallery: &Gallery, link: &Link) -> Result<(std::result::Result<(), Denial>, gate::Status)> {
    let (own, wider) = futures_util::future::join(
        GateClient::new(v.env, &gallery.id, &link.name)?.status(),
        gate::wider_statuses(v.env, &Scope::link(&gallery.id, &link.name)),
    )
    .await;
    let (own, wider) = (own?, wider?);
    let terms = Scope::link(&gallery.id, &link.name).wider_terms(gallery);
    let in_force = gate::policy_in_force(&link.policy, &own.overrides, wider.iter().map(|w| &w.overrides), &terms);
    let state = decide_open(&in_force, own.views, v.now()).map(drop);
    Ok((state, own))
}

/// What a request that counts nothing is told: the link's real state, read from its gate
/// without taking an open. A closed link answers its denial (403 disabled, 410 expired or used
/// up); an open one answers 200 with the interstitial, whose button makes the counted open.
async fn without_counting(v: &Visit<'_>, gallery: &Gallery, link: &Link) -> Result<Response> {
    let (state, _) = link_state(v, gallery, link).await?;
    if !v.head {
        v.log(&gallery.id, &link.name, EventKind::Preview, state, None);
    }
    if let Err(denial) = state {
        return deny(v, denial).await;
    }
    if v.json {
        return respond_json(v, 200, &serde_json::json!({"state": "active", "message": v.locale.open_in_a_browser()}));
    }
    let html = localized_html(v, |l| manifest::preview_path(&gallery.id, l)).await?;
    respond_html(v, 200, html, headers::INTERSTITIAL)
}

/// The session an admitted open at `now` gives this client (`password`: admitted through it).
fn session_of(v: &Visit<'_>, a: Admission, now: i64, password: bool) -> Session {
    Session { view_number: a.view_number, issued_at: now, expires_at: a.session_expires_at, epoch: a.session_epoch, client: v.client(), password }
}

/// Takes an open at the link's gate, logging it either way.
async fn count_open(v: &Visit<'_>, gallery: &Gallery, link: &Link) -> Result<std::result::Result<Session, Denial>> {
    let now = v.now();
    let answer = GateClient::new(v.env, &gallery.id, &link.name)?.open(&OpenRequest::new(gallery, link, now)).await?;
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

/// What a session presented on the page route comes to: the page, a final refusal, or
/// nothing (no session, or one that simply ended: the visitor is like a new one).
enum PageSession {
    Show(Session),
    Refuse(Denial),
    None,
}

async fn page_session(v: &Visit<'_>, gallery: &Gallery, link: &Link, token: &str) -> Result<PageSession> {
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
        PageSession::Refuse(d) => return deny(v, d).await,
        PageSession::None => {}
    }
    if http::fetch_intent(|name| v.header(name)) != FetchIntent::Navigation {
        return without_counting(v, gallery, link).await;
    }
    let shown = match count_open(v, gallery, link).await? {
        Ok(session) => page(v, gallery, link, token, &session).await.map(|resp| (resp, session)),
        Err(d) => return deny(v, d).await,
    };
    with_new_session(v, token, shown)
}

/// The answer to a counted open, carrying the new session's cookie.
fn with_new_session(v: &Visit<'_>, token: &str, answer: Result<(Response, Session)>) -> Result<Response> {
    let (resp, session) = answer?;
    set_session(v, &resp, token, &session)?;
    Ok(resp)
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
        PageSession::Refuse(d) => return deny(v, d).await,
        PageSession::None => {}
    }
    if link.policy.password {
        return unlock(v, gallery, link, token).await;
    }
    match count_open(v, gallery, link).await? {
        Ok(session) => with_new_session(v, token, back_to_page(token).map(|resp| (resp, session))),
        Err(d) => deny(v, d).await,
    }
}

/// 303 to the link's page after a counted POST, so a reload never posts again.
fn back_to_page(token: &str) -> Result<Response> {
    let resp = Response::empty()?.with_status(303);
    resp.headers().set("Location", &format!("/s/{token}"))?;
    headers::gated(resp.headers())?;
    Ok(resp)
}

/// A posted form larger than this holds no password that could be right (passwords are at
/// most [`password::MAX_BYTES`], percent-encoded at most three times as long).
const MAX_FORM_BYTES: usize = 4_096;

/// `GET|HEAD /s/<token>` of a link with `password: required`. A valid session shows the
/// gallery; everything else (people, bots, HEAD, scanners alike) counts nothing and is told
/// [`locked`]'s answer.
async fn open_locked(v: &Visit<'_>, gallery: &Gallery, link: &Link, token: &str) -> Result<Response> {
    if !v.head {
        match page_session(v, gallery, link, token).await? {
            PageSession::Show(session) => return page(v, gallery, link, token, &session).await,
            PageSession::Refuse(d) => return deny(v, d).await,
            PageSession::None => {}
        }
    }
    locked(v, gallery, link).await
}

/// A password link's answer to anyone without a session: its state denial first (the same for
/// everyone), then `password_not_set` while the owner has set none (fail closed), else the
/// password page (401). Counts nothing; logged as a preview with that outcome.
async fn locked(v: &Visit<'_>, gallery: &Gallery, link: &Link) -> Result<Response> {
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
        _ => deny(v, denial).await,
    }
}

/// `POST /s/<token>` with the password form of a link with `password: required` (the caller
/// checked it is same-origin). The gate checks state, throttle and password and counts the
/// open in one operation; the password goes nowhere else (no log, event or error names it).
async fn unlock(v: &Visit<'_>, gallery: &Gallery, link: &Link, token: &str) -> Result<Response> {
    let Ok(body) = http::read_body(&mut v.req.clone()?, MAX_FORM_BYTES).await? else {
        // No password fits in it: refused before it is read whole, and never compared.
        v.log(&gallery.id, &link.name, EventKind::Open, Err(Denial::RequestTooLarge), None);
        return deny(v, Denial::RequestTooLarge).await;
    };
    let Some(password) = password::from_form(&body) else {
        // No password field (the interstitial's button, a replayed empty form): as a GET.
        return locked(v, gallery, link).await;
    };
    let now = v.now();
    let req = UnlockRequest {
        policy: link.policy.clone(),
        now,
        password,
        network: v.password_guesser(),
        wider_terms: gate::owned_wider_terms(gallery, link),
    };
    let answer = GateClient::new(v.env, &gallery.id, &link.name)?.unlock(&req).await?;
    let (outcome, denial, retry_after) = match answer {
        UnlockResponse::Admitted(a) => {
            v.log_admitted_open(&gallery.id, &link.name, &a);
            return with_new_session(v, token, back_to_page(token).map(|resp| (resp, session_of(v, a, now, true))));
        }
        UnlockResponse::Denied(d) => (Err(d), d, None),
        UnlockResponse::Throttled { retry_after } => (Err(Denial::TooManyAttempts), Denial::TooManyAttempts, Some(retry_after)),
    };
    v.log(&gallery.id, &link.name, EventKind::Open, outcome, None);
    match denial {
        Denial::WrongPassword | Denial::TooManyAttempts => password_page(v, denial, retry_after).await,
        _ => deny(v, denial).await,
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

/// Session and in-session policy for a gated file of `token`'s link. Checked before the file
/// is looked up, so without a session a real and a made-up file answer the same.
async fn admit(v: &Visit<'_>, gallery: &Gallery, link: &Link, token: &str, access: Access) -> Result<std::result::Result<(), Denial>> {
    let runtime = gate::runtime(v.env, &gallery.id, &link.name).await?;
    let Some(session) = v.session(token, &runtime) else { return Ok(Err(Denial::NoSession)) };
    Ok(decide_in_session(&runtime.in_force(gallery, link), &session, access, v.now()))
}

/// `GET|HEAD /s/<token>/i/<file>`.
pub async fn image(v: &Visit<'_>, token: &str, file: &str) -> Result<Response> {
    let Some((gallery, link)) = v.link(token).await? else { return deny(v, Denial::NotFound).await };
    let decision = admit(v, &gallery, &link, token, Access::View).await?;
    let found = gallery.variant(file);
    if let Some((img, variant)) = found
        && variant.full_size
        && !v.head
    {
        v.log(&gallery.id, &link.name, EventKind::ImageView, decision, Some(&img.id));
    }
    if let Err(d) = decision {
        return deny(v, d).await;
    }
    let Some((_, variant)) = found else { return deny(v, Denial::NotFound).await };
    display_image(v, variant).await
}

/// A display image for a visitor whose session passed: from this data centre's cache, else
/// from R2, putting R2's answer in the cache after the response (so repeat views cost no R2
/// operation). The visitor's answer is always rebuilt with the gated headers: the cache's
/// public ones never reach a browser.
async fn display_image(v: &Visit<'_>, variant: &Variant) -> Result<Response> {
    let cache_key = format!("{MEDIA_CACHE_ORIGIN}/{}", variant.key);
    let source = match Cache::default().get(cache_key.as_str(), false).await? {
        Some(hit) => hit,
        None => {
            let bucket = v.env.bucket(MEDIA_BUCKET)?;
            let object = if v.head { bucket.head(&variant.key).await? } else { bucket.get(&variant.key).execute().await? };
            let Some(object) = object else { return missing_media(v, &variant.key).await };
            let headers = Headers::new();
            headers.set("Content-Type", variant.content_type.as_str())?;
            headers.set("Content-Length", &object.size().to_string())?;
            headers.set("ETag", &object.http_etag())?;
            if v.head {
                return gated_image(Response::empty()?.with_headers(headers), true);
            }
            let Some(body) = object.body() else { return missing_media(v, &variant.key).await };
            headers::public_immutable(&headers)?;
            let mut cached = Response::from_body(body.response_body()?)?.with_headers(headers);
            let visitor = cached.cloned()?;
            v.ctx.wait_until(async move {
                if let Err(e) = Cache::default().put(cache_key.as_str(), cached).await {
                    worker::console_error!("caching {cache_key}: {e}");
                }
            });
            visitor
        }
    };
    gated_image(source, v.head)
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
