//! The admin module's I/O (wasm only).

use super::api::{self, ApiRoute, Failure, GateStatus};
use super::{CSS_PATH, JS_PATH, PAGE_CSP, PAGE_CSS, PAGE_HTML, PAGE_JS};
use crate::analytics::throttle::AuthRequest;
use crate::analytics::{GalleryLogClient, export, rollup};
use futures_util::future::join_all;
use gatefold_contract::admin::{ApiError, LinkPatch, LinksResponse};
use gatefold_contract::manifest::{Gallery, Manifest};
use gatefold_contract::token::secrets_equal;
use gatefold_contract::Overrides;
use std::collections::HashMap;
use worker::{Context, Env, Headers, Method, Request, RequestInit, Response, Result};

pub async fn handle(req: Request, env: Env, _ctx: Context) -> Result<Response> {
    let path = req.path();
    let method = req.method();
    let get = matches!(method, Method::Get | Method::Head);
    let page = |body: &str, content_type: &str| -> Result<Response> {
        let headers = Headers::new();
        headers.set("Content-Type", content_type)?;
        headers.set("Cache-Control", "no-store")?;
        headers.set("Content-Security-Policy", PAGE_CSP)?;
        headers.set("X-Content-Type-Options", "nosniff")?;
        headers.set("Referrer-Policy", "no-referrer")?;
        headers.set("X-Robots-Tag", "noindex, nofollow")?;
        headers.set("X-Frame-Options", "DENY")?;
        Ok(Response::ok(body)?.with_headers(headers))
    };
    match path.as_str() {
        "/admin" if get => return page(PAGE_HTML, "text/html; charset=utf-8"),
        p if p == JS_PATH && get => return page(PAGE_JS, "text/javascript; charset=utf-8"),
        p if p == CSS_PATH && get => return page(PAGE_CSS, "text/css; charset=utf-8"),
        "/admin" => return failure(Failure::new(405, "method_not_allowed", "/admin takes GET")),
        _ => {}
    }
    let Some(rest) = path.strip_prefix(gatefold_contract::admin::API_PREFIX) else {
        return failure(Failure::new(404, "not_found", "no such admin path"));
    };
    let route = match api::route(method.as_ref(), rest) {
        Ok(r) => r,
        Err(f) => return failure(f),
    };
    if let Err(f) = authorize(&req, &env).await? {
        return failure(f);
    }
    match serve(route, req, &env).await {
        Ok(Ok(resp)) => Ok(resp),
        Ok(Err(f)) => failure(f),
        Err(e) => {
            worker::console_error!("admin API {path}: {e}");
            failure(Failure::new(500, "internal", format!("the worker failed: {e}")))
        }
    }
}

fn now_secs() -> i64 {
    (worker::Date::now().as_millis() / 1000) as i64
}

fn no_store(mut resp: Response) -> Result<Response> {
    let h = resp.headers_mut();
    h.set("Cache-Control", "no-store")?;
    h.set("X-Content-Type-Options", "nosniff")?;
    Ok(resp)
}

fn json<T: serde::Serialize>(value: &T) -> Result<Response> {
    no_store(Response::from_json(value)?)
}

fn failure(f: Failure) -> Result<Response> {
    let resp = Response::from_json(&ApiError { error: f.code.to_string(), message: f.message })?.with_status(f.status);
    let mut resp = no_store(resp)?;
    if f.status == 401 {
        resp.headers_mut().set("WWW-Authenticate", "Bearer realm=\"gatefold-admin\"")?;
    }
    if let Some(secs) = f.retry_after {
        resp.headers_mut().set("Retry-After", &secs.to_string())?;
    }
    Ok(resp)
}

/// Bearer token check, throttled per IP by the auth `GalleryLog` object.
async fn authorize(req: &Request, env: &Env) -> Result<std::result::Result<(), Failure>> {
    let Ok(expected) = env.secret("ADMIN_TOKEN").map(|s| s.to_string()) else {
        return Ok(Err(Failure::new(503, "admin_disabled", "ADMIN_TOKEN is not set on this deployment: `wrangler secret put ADMIN_TOKEN` (or .dev.vars locally)")));
    };
    if expected.len() < 16 {
        return Ok(Err(Failure::new(503, "admin_disabled", "ADMIN_TOKEN is shorter than 16 characters: set a long random one")));
    }
    let ip = req.headers().get("CF-Connecting-IP")?.unwrap_or_else(|| "unknown".into());
    // Checked and booked as a failure in one step before comparing: see analytics::throttle.
    let (throttle, ask) = (GalleryLogClient::admin_auth(env)?, AuthRequest::new(&ip, now_secs()));
    let wait = throttle.attempt_sign_in(&ask).await?;
    if wait.retry_after > 0 {
        let mut f = Failure::new(429, "too_many_attempts", wait.message());
        f.retry_after = Some(wait.retry_after);
        return Ok(Err(f));
    }
    let header = req.headers().get("Authorization")?;
    let given = api::bearer(header.as_deref());
    if given.is_some_and(|t| secrets_equal(t, &expected)) {
        throttle.signed_in(&ask).await?;
        return Ok(Ok(()));
    }
    Ok(Err(match given {
        None => Failure::new(401, "unauthorized", "send the admin token as `Authorization: Bearer <ADMIN_TOKEN>`"),
        Some(_) => Failure::new(401, "unauthorized", "wrong admin token"),
    }))
}

fn unknown_gallery(gallery: &str) -> Failure {
    Failure::new(404, "unknown_gallery", format!("no gallery {gallery:?} in the published site"))
}

fn find_gallery<'m>(m: &'m Manifest, gallery: &str) -> std::result::Result<&'m Gallery, Failure> {
    m.galleries.get(gallery).ok_or_else(|| unknown_gallery(gallery))
}

async fn gate(env: &Env, gallery: &str, link: &str, put: Option<&Overrides>) -> Result<GateStatus> {
    let stub = env.durable_object("LINK_GATE")?.id_from_name(&format!("{gallery}/{link}"))?.get_stub()?;
    let req = match put {
        None => Request::new("https://link-gate/status", Method::Get)?,
        Some(o) => {
            let mut init = RequestInit::new();
            init.with_method(Method::Put).with_body(Some(serde_json::to_string(o)?.into()));
            Request::new_with_init("https://link-gate/overrides", &init)?
        }
    };
    let mut resp = stub.fetch_with_request(req).await?;
    if resp.status_code() != 200 {
        return Err(worker::Error::RustError(format!("LinkGate {gallery}/{link} answered {}", resp.status_code())));
    }
    resp.json().await
}

type Answer = std::result::Result<Response, Failure>;

async fn serve(route: ApiRoute<'_>, mut req: Request, env: &Env) -> Result<Answer> {
    // The same isolate-wide manifest the visitor routes use.
    let site = crate::site::load(env).await.map_err(worker::Error::RustError)?;
    let m = &site.manifest;
    let now = now_secs();
    match route {
        ApiRoute::Links => {
            let pairs: Vec<_> = m.galleries.values().flat_map(|g| g.links.values().map(move |l| (g, l))).collect();
            let statuses = join_all(pairs.iter().map(|(g, l)| gate(env, &g.id, &l.name, None))).await;
            let mut links = Vec::with_capacity(pairs.len());
            for ((g, l), status) in pairs.into_iter().zip(statuses) {
                links.push(api::link_status(&m.site, g, l, status?, now));
            }
            Ok(Ok(json(&LinksResponse { timezone: m.site.timezone.clone(), links })?))
        }
        ApiRoute::Disable { gallery, link } | ApiRoute::Enable { gallery, link } | ApiRoute::Patch { gallery, link } => {
            let (g, l) = match m.galleries.get(gallery) {
                None => return Ok(Err(unknown_gallery(gallery))),
                Some(g) => match g.links.get(link) {
                    None => return Ok(Err(Failure::new(404, "unknown_link", format!("gallery {gallery:?} has no link {link:?}")))),
                    Some(l) => (g, l),
                },
            };
            let current = gate(env, gallery, link, None).await?;
            let mut next = current.overrides.clone();
            match route {
                ApiRoute::Disable { .. } => next.disabled = Some(true),
                // Back to the published switch when that already means "on", so the override
                // list only holds real departures from the YAML.
                ApiRoute::Enable { .. } => next.disabled = l.policy.disabled.then_some(false),
                _ => {
                    let patch: LinkPatch = match req.json().await {
                        Ok(p) => p,
                        Err(e) => return Ok(Err(Failure::new(400, "bad_request", format!("body must be JSON like {{\"expires\": \"2026-12-31\", \"max_views\": 100}}: {e}")))),
                    };
                    next = match api::apply_patch(&m.site, &current.overrides, &patch, now) {
                        Ok(n) => n,
                        Err(f) => return Ok(Err(f)),
                    };
                }
            }
            let updated = gate(env, gallery, link, Some(&next)).await?;
            Ok(Ok(json(&api::link_status(&m.site, g, l, updated, now))?))
        }
        ApiRoute::Stats { gallery } | ApiRoute::ExportCsv { gallery } | ApiRoute::ExportXlsx { gallery } => {
            let g = match find_gallery(&m, gallery) {
                Ok(g) => g,
                Err(f) => return Ok(Err(f)),
            };
            let url = req.url()?;
            let params: HashMap<String, String> = url.query_pairs().into_owned().collect();
            let (from, to) = match api::window(&m.site, params.get("from").map(String::as_str), params.get("to").map(String::as_str), now) {
                Ok(w) => w,
                Err(f) => return Ok(Err(f)),
            };
            let link = params.get("link").filter(|l| !l.is_empty()).cloned();
            if let Some(l) = &link
                && !g.links.contains_key(l)
            {
                return Ok(Err(Failure::new(404, "unknown_link", format!("gallery {gallery:?} has no link {l:?}"))));
            }
            let query = rollup::Query {
                from_ms: from.saturating_mul(1000),
                to_ms: to.saturating_mul(1000),
                link: link.clone(),
                offsets: rollup::Query::offsets_for(&m.site, from.saturating_mul(1000), to.saturating_mul(1000)),
            };
            let file_base = format!("{gallery}-{}", rollup::civil_date((now + i64::from(m.site.utc_offset_at(now))).div_euclid(86_400)));
            let log = GalleryLogClient::new(env, gallery)?;
            if let ApiRoute::ExportCsv { .. } = route {
                let body = Response::from_stream(export::csv_stream(log, m.site.clone(), query))?;
                return Ok(Ok(download(body, "text/csv; charset=utf-8", &format!("{file_base}.csv"))?));
            }
            let stats = stats(env, &m, g, &query, from, to, link.as_deref()).await?;
            if let ApiRoute::ExportXlsx { .. } = route {
                let body = match export::xlsx_from_log(&log, &m.site, &stats, &query).await {
                    Ok(body) => Response::from_bytes(body)?,
                    Err(export::XlsxRefused::TooManyRows) => return Ok(Err(Failure::new(413, "too_many_rows", export::XlsxRefused::message()))),
                    Err(export::XlsxRefused::Failed(e)) => return Err(e),
                };
                return Ok(Ok(download(body, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", &format!("{file_base}.xlsx"))?));
            }
            Ok(Ok(json(&stats)?))
        }
    }
}

async fn stats(
    env: &Env,
    m: &Manifest,
    g: &Gallery,
    query: &rollup::Query,
    from: i64,
    to: i64,
    link: Option<&str>,
) -> Result<gatefold_contract::admin::GalleryStats> {
    let (rollup, gates) = futures_util::future::join(
        GalleryLogClient::new(env, &g.id)?.stats(query),
        join_all(g.links.values().map(|l| gate(env, &g.id, &l.name, None))),
    )
    .await;
    let rollup = rollup?;
    let mut last_open = HashMap::new();
    for (l, st) in g.links.values().zip(gates) {
        last_open.insert(l.name.clone(), st?.last_open);
    }
    Ok(rollup::aggregate(&rollup, &rollup::Context { site: &m.site, gallery: g, from, to, link, last_open: &last_open }))
}

fn download(body: Response, content_type: &str, file_name: &str) -> Result<Response> {
    let mut resp = no_store(body)?;
    let h = resp.headers_mut();
    h.set("Content-Type", content_type)?;
    h.set("Content-Disposition", &crate::http::attachment_disposition(file_name))?;
    Ok(resp)
}
