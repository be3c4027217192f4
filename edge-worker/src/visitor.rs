//! Visitor handlers: the gallery page (counted opens, sessions, bot previews), gated display
//! images and original downloads, and denials.

use crate::access::{self, EventKind, EventSpec, Visitor};
use crate::gate::{GateClient, OpenRequest, OpenResponse};
use crate::http::{self, CSP};
use crate::site::{ASSETS_ORIGIN, Site};
use gatefold_contract::manifest::{self, Gallery, Link, SESSION_EXPIRES_PLACEHOLDER};
use gatefold_contract::policy::{Access, decide_in_session};
use gatefold_contract::token::Session;
use gatefold_contract::{Denial, Locale, Overrides};
use worker::{Context, Env, Headers, Method, Request, Response, Result};

/// Everything a handler needs about the request, read once.
pub struct Ctx<'a> {
    pub req: &'a Request,
    pub env: &'a Env,
    pub ctx: &'a Context,
    pub site: &'a Site,
    pub now_ms: i64,
    pub locale: Locale,
    pub json: bool,
    pub head: bool,
}

impl Ctx<'_> {
    pub fn now(&self) -> i64 {
        self.now_ms.div_euclid(1000)
    }

    fn header(&self, name: &str) -> Option<String> {
        self.req.headers().get(name).ok().flatten()
    }

    fn visitor(&self) -> Visitor {
        let geo = js_cf(self.req).unwrap_or_default();
        Visitor {
            ip: self.header("CF-Connecting-IP"),
            user_agent: self.header("User-Agent"),
            referrer: self.header("Referer"),
            geo,
        }
    }

    fn log(&self, gallery: &str, link: &str, kind: EventKind, outcome: Result<(), Denial>, image: Option<&str>) {
        let event = access::build_event(
            EventSpec { gallery, link, kind, outcome: access::outcome(outcome), image },
            &self.visitor(),
            self.site.manifest.site.ip_logging,
            &self.site.key,
            self.now_ms,
        );
        access::record(self.env, self.ctx, event);
    }

    fn session(&self, token: &str) -> Option<Session> {
        let cookies = self.header("Cookie");
        let value = http::cookie(cookies.as_deref(), Session::COOKIE)?;
        Session::decode(value, &self.site.key, token)
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

fn html_headers(h: &Headers) -> Result<()> {
    h.set("Content-Type", "text/html; charset=utf-8")?;
    h.set("Content-Security-Policy", CSP)?;
    h.set("Referrer-Policy", "no-referrer")?;
    h.set("X-Robots-Tag", "noindex, nofollow")?;
    h.set("X-Content-Type-Options", "nosniff")?;
    h.set("X-Frame-Options", "DENY")?;
    Ok(())
}

fn gated_headers(h: &Headers) -> Result<()> {
    h.set("Cache-Control", "private, no-store")?;
    h.set("X-Content-Type-Options", "nosniff")?;
    h.set("Vary", "Accept-Language, Accept, Cookie")?;
    Ok(())
}

async fn asset_text(env: &Env, path: &str) -> Result<Option<String>> {
    let mut resp = env.assets("ASSETS")?.fetch(format!("{ASSETS_ORIGIN}{path}"), None).await?;
    if resp.status_code() != 200 {
        return Ok(None);
    }
    Ok(Some(resp.text().await?))
}

/// An HTML page from the private assets in the visitor's language, else the site default.
async fn localized_html(c: &Ctx<'_>, path_for: impl Fn(Locale) -> String) -> Result<String> {
    for locale in [c.locale, c.site.manifest.site.default_locale, Locale::En] {
        if let Some(text) = asset_text(c.env, &path_for(locale)).await? {
            return Ok(text);
        }
    }
    Err(worker::Error::RustError(format!("{} is missing from the assets: rebuild the site", path_for(c.locale))))
}

fn respond_html(c: &Ctx<'_>, status: u16, body: String) -> Result<Response> {
    let resp = if c.head { Response::empty()? } else { Response::from_html(body)? };
    let resp = resp.with_status(status);
    html_headers(resp.headers())?;
    gated_headers(resp.headers())?;
    Ok(resp)
}

/// A denial as the localized HTML page or, for API clients, JSON.
pub async fn deny(c: &Ctx<'_>, denial: Denial) -> Result<Response> {
    if c.json {
        let body = serde_json::json!({"error": denial.code(), "message": denial.message(c.locale)});
        let resp = if c.head { Response::empty()? } else { Response::from_json(&body)? };
        let resp = resp.with_status(denial.status());
        resp.headers().set("Content-Type", "application/json; charset=utf-8")?;
        gated_headers(resp.headers())?;
        return Ok(resp);
    }
    let body = localized_html(c, |l| manifest::denial_path(denial, l)).await?;
    respond_html(c, denial.status(), body)
}

/// Overrides as last mirrored to KV. Edge-cached for 30 s: with KV's own propagation this
/// bounds how long an already-open session keeps its images after a disable (≤ 60 s).
async fn cached_overrides(env: &Env, gallery: &str, link: &str) -> Result<Overrides> {
    Ok(crate::gate::runtime(env, gallery, link).await?.overrides)
}

async fn ask_gate(env: &Env, gallery: &str, link: &Link, now: i64) -> Result<OpenResponse> {
    GateClient::new(env, gallery, &link.name)?.open(&OpenRequest { policy: link.policy.clone(), now }).await
}

async fn page(c: &Ctx<'_>, gallery: &Gallery, link: &Link, token: &str, session: Session, set_cookie: bool) -> Result<Response> {
    let html = localized_html(c, |l| manifest::page_path(&gallery.id, &link.name, l)).await?;
    let html = html.replace(SESSION_EXPIRES_PLACEHOLDER, &session.expires_at.to_string());
    let resp = respond_html(c, 200, html)?;
    if set_cookie {
        let max_age = (session.expires_at - c.now()).max(0) + http::COOKIE_GRACE_SECONDS;
        let value = session.encode(&c.site.key, token);
        resp.headers().set("Set-Cookie", &http::session_cookie(Session::COOKIE, &value, token, max_age))?;
    }
    Ok(resp)
}

/// `GET|HEAD /s/<token>`.
pub async fn open(c: &Ctx<'_>, token: &str) -> Result<Response> {
    let Some((gallery, link)) = c.site.by_token(token) else { return deny(c, Denial::NotFound).await };
    let ua = c.header("User-Agent");
    if c.head || crate::bots::is_preview_bot(ua.as_deref()) {
        // Neither may use up a view: a bot (or a HEAD) sees the title-only preview.
        if !c.head {
            c.log(&gallery.id, &link.name, EventKind::Preview, Ok(()), None);
        }
        let html = localized_html(c, |l| manifest::preview_path(&gallery.id, l)).await?;
        return respond_html(c, 200, html);
    }
    let now = c.now();
    if let Some(session) = c.session(token) {
        let overrides = cached_overrides(c.env, &gallery.id, &link.name).await?;
        if now < session.expires_at {
            return match decide_in_session(&link.policy, &overrides, session.expires_at, Access::View, now) {
                Ok(()) => page(c, gallery, link, token, session, false).await,
                Err(d) => deny(c, d).await,
            };
        }
        if link.policy.effective(&overrides).session_end_is_final() {
            c.log(&gallery.id, &link.name, EventKind::Open, Err(Denial::SessionExpired), None);
            return deny(c, Denial::SessionExpired).await;
        }
        // Sessions without a set duration just end: coming back is a new open.
    }
    match ask_gate(c.env, &gallery.id, link, now).await? {
        OpenResponse::Admitted(a) => {
            c.log(&gallery.id, &link.name, EventKind::Open, Ok(()), None);
            let session = Session { view_number: a.view_number, issued_at: now, expires_at: a.session_expires_at };
            page(c, gallery, link, token, session, true).await
        }
        OpenResponse::Denied(d) => {
            c.log(&gallery.id, &link.name, EventKind::Open, Err(d), None);
            deny(c, d).await
        }
    }
}

/// Session and in-session policy for a gated file of `token`'s link.
async fn admit(c: &Ctx<'_>, gallery: &Gallery, link: &Link, token: &str, access: Access) -> Result<Result<(), Denial>> {
    let Some(session) = c.session(token) else { return Ok(Err(Denial::NoSession)) };
    let overrides = cached_overrides(c.env, &gallery.id, &link.name).await?;
    Ok(decide_in_session(&link.policy, &overrides, session.expires_at, access, c.now()))
}

/// `GET|HEAD /s/<token>/i/<file>`.
pub async fn image(c: &Ctx<'_>, token: &str, file: &str) -> Result<Response> {
    let Some((gallery, link)) = c.site.by_token(token) else { return deny(c, Denial::NotFound).await };
    let Some((img, variant)) = gallery.variant(file) else { return deny(c, Denial::NotFound).await };
    let decision = admit(c, gallery, link, token, Access::View).await?;
    if variant.full_size && !c.head {
        c.log(&gallery.id, &link.name, EventKind::ImageView, decision, Some(&img.id));
    }
    if let Err(d) = decision {
        return deny(c, d).await;
    }
    let assets = c.env.assets("ASSETS")?;
    let method = if c.head { Method::Head } else { Method::Get };
    let mut init = worker::RequestInit::new();
    init.with_method(method);
    let resp = assets
        .fetch(format!("{ASSETS_ORIGIN}{}", manifest::gallery_asset_path(&gallery.id, &variant.file)), Some(init))
        .await?;
    if resp.status_code() != 200 {
        worker::console_error!("{}/{} is in the manifest but not in the assets ({})", gallery.id, variant.file, resp.status_code());
        return deny(c, Denial::NotFound).await;
    }
    let headers = Headers::new();
    headers.set("Content-Type", &variant.content_type)?;
    if let Ok(Some(len)) = resp.headers().get("Content-Length") {
        headers.set("Content-Length", &len)?;
    }
    gated_headers(&headers)?;
    Ok(resp.with_headers(headers))
}

/// `GET|HEAD /s/<token>/download/<image-id>`.
pub async fn download(c: &Ctx<'_>, token: &str, image_id: &str) -> Result<Response> {
    let Some((gallery, link)) = c.site.by_token(token) else { return deny(c, Denial::NotFound).await };
    let Some(img) = gallery.image(image_id) else { return deny(c, Denial::NotFound).await };
    // The published switch is checked before anything else, so where downloads are off no
    // session, cookie or header can reach the bucket.
    let decision = if !link.policy.download {
        Err(Denial::DownloadDisabled)
    } else {
        admit(c, gallery, link, token, Access::Download).await?
    };
    if !c.head {
        c.log(&gallery.id, &link.name, EventKind::Download, decision, Some(&img.id));
    }
    if let Err(d) = decision {
        return deny(c, d).await;
    }
    let bucket = c.env.bucket("ORIGINALS")?;
    let size = img.original.size;
    let range = match http::byte_range(c.header("Range").as_deref(), size) {
        Ok(r) => r,
        Err(()) => {
            let resp = Response::empty()?.with_status(416);
            resp.headers().set("Content-Range", &format!("bytes */{size}"))?;
            gated_headers(resp.headers())?;
            return Ok(resp);
        }
    };
    let headers = Headers::new();
    headers.set("Content-Type", &img.original.content_type)?;
    headers.set("Content-Disposition", &http::attachment_disposition(&img.file_name))?;
    headers.set("Accept-Ranges", "bytes")?;
    gated_headers(&headers)?;
    let (status, length) = match range {
        Some((first, last)) => {
            headers.set("Content-Range", &format!("bytes {first}-{last}/{size}"))?;
            (206, last - first + 1)
        }
        None => (200, size),
    };
    headers.set("Content-Length", &length.to_string())?;
    if c.head {
        if bucket.head(&img.original.key).await?.is_none() {
            return missing_original(c, &img.original.key).await;
        }
        return Ok(Response::empty()?.with_status(status).with_headers(headers));
    }
    let mut get = bucket.get(&img.original.key);
    if let Some((first, last)) = range {
        get = get.range(worker::Range::OffsetWithLength { offset: first, length: last - first + 1 });
    }
    let Some(object) = get.execute().await? else { return missing_original(c, &img.original.key).await };
    let Some(body) = object.body() else { return missing_original(c, &img.original.key).await };
    Ok(Response::from_body(body.response_body()?)?.with_status(status).with_headers(headers))
}

async fn missing_original(c: &Ctx<'_>, key: &str) -> Result<Response> {
    worker::console_error!("original {key} is in the manifest but not in the ORIGINALS bucket: upload dist/originals");
    deny(c, Denial::NotFound).await
}
