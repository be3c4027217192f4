//! Gatefold's edge worker: gates every request to a gallery.
//!
//! This file is the entry: it refuses to serve with unfit secrets, routes, and hands each
//! request to its module.
//!
//! The crate builds two Workers (features, `Cargo.toml`): the visitor's (`visitor`), which
//! every gallery request loads, and the owner's (`owner`: [`admin`], [`digest`], [`notify`],
//! [`sign_in_throttle`], the gallery log's object, exports and notices), which the visitor's
//! Worker reaches for `/admin` through its `OWNER` service binding. Each checks the secrets and
//! the site's key itself. Both features together are the whole worker in one script.
//! - [`route`] decides which handler a path belongs to (exact shapes only) and which methods
//!   it answers;
//! - [`site`] reads the site's settings once per isolate and the records a request needs
//!   (a token shard, a gallery), holds the signing key, and checks the secrets;
//! - [`visitor`] serves a link's page (counted opens, the interstitial, sessions bound to
//!   their client), gated images and originals, and denials;
//! - [`gate`] is the `LinkGate` Durable Object that counts opens exactly and holds a link's
//!   runtime overrides and session epoch, with its typed client;
//! - [`access`] builds access-log events, which [`gallery_log`] stores (the `GalleryLog`
//!   Durable Object per gallery: the access log, the audit log and the notification outbox,
//!   one module per role);
//! - [`sign_in_throttle`] (the `SignInThrottle` Durable Object: admin sign-in failures per
//!   network) and [`digest`] (the `DailyDigest` Durable Object: the hourly cron's daily
//!   digests, spread over a coordinator's alarms) are classes of their own;
//! - [`notify`] tells owners what happens (Feishu, DingTalk, WeCom, Slack, webhooks): the
//!   gallery's log turns events into notices and sends them from its alarm;
//! - [`admin`] is the admin page and its bearer-token API;
//! - [`zip`] lays out the "download all" archive (stored, UTF-8 names, ZIP64 where needed);
//! - [`password`] holds link passwords' stored hash, their wrong-attempt throttle (pure) and
//!   PBKDF2 through Web Crypto; the gate checks a password and counts the open in one operation;
//! - [`user_agent`] names a client's device, OS and browser for the log and session binding;
//! - [`bots`] (link-preview fetchers), [`http`] (cookies, fetch metadata, the security
//!   headers) and [`network`] (the networks the throttles count by) are pure helpers, tested
//!   natively.

pub mod access;
#[cfg(feature = "owner")]
pub mod admin;
pub mod bots;
#[cfg(feature = "owner")]
pub mod digest;
pub mod gallery_log;
pub mod gate;
pub mod http;
pub mod network;
#[cfg(feature = "owner")]
pub mod notify;
pub mod password;
pub mod route;
#[cfg(feature = "owner")]
pub mod sign_in_throttle;
pub mod site;
pub mod user_agent;
pub mod visitor;
pub mod zip;

pub use gate::LinkGate;

use route::Route;
use worker::{Context, Env, Request, Response, Result, event};

#[event(fetch)]
async fn fetch(req: Request, env: Env, ctx: Context) -> Result<Response> {
    if let Err(problem) = site::check_secrets(&env) {
        return refusal(&problem);
    }
    let path = req.path();
    let route = route::route(&path);
    let method = req.method().to_string();
    if !route.allows_method(&method) {
        let resp = Response::error("Method Not Allowed", 405)?;
        resp.headers().set("Allow", route.allowed_methods())?;
        return Ok(resp);
    }
    // Everything that names a link or an owner's data needs the site signed with this worker's
    // key; robots.txt and the public theme files do not.
    if !matches!(route, Route::Robots | Route::Asset)
        && let Err(problem) = site::check_key(&env).await
    {
        return refusal(&problem);
    }
    match route {
        Route::Robots => {
            let resp = Response::ok("User-agent: *\nDisallow: /\n")?;
            resp.headers().set("Content-Type", "text/plain; charset=utf-8")?;
            Ok(resp)
        }
        Route::Asset => {
            let resp = env.assets("ASSETS")?.fetch_request(req).await?;
            if resp.status_code() == 200 {
                let headers = resp.headers().clone();
                http::headers::public_immutable(&headers)?;
                Ok(resp.with_headers(headers))
            } else {
                Ok(Response::error("Not Found", 404)?)
            }
        }
        Route::Admin => admin_route(req, env, ctx).await,
        _ => visitor_route(&req, &env, &ctx, route).await,
    }
}

#[cfg(feature = "owner")]
async fn admin_route(req: Request, env: Env, ctx: Context) -> Result<Response> {
    admin::handle(req, env, ctx).await
}

/// The visitor's Worker carries no owner code: `/admin` goes to the owner's Worker, which
/// checks the secrets, the site's key and the caller again.
#[cfg(not(feature = "owner"))]
async fn admin_route(req: Request, env: Env, _ctx: Context) -> Result<Response> {
    env.service("OWNER")?.fetch_request(req).await
}

/// The hourly Cron Trigger: at the site's digest hour, starts the galleries' daily digests.
#[cfg(feature = "owner")]
#[event(scheduled)]
async fn scheduled(event: worker::ScheduledEvent, env: Env, _ctx: worker::ScheduleContext) {
    let fit = match site::check_secrets(&env) {
        Ok(()) => site::check_key(&env).await,
        unfit => unfit,
    };
    if let Err(problem) = fit {
        worker::console_error!("gatefold: refusing to send digests: {problem}");
        return;
    }
    if let Err(e) = digest::scheduled(&env, event.schedule() as i64).await {
        worker::console_error!("gatefold: daily digest: {e}");
    }
}

/// The answer while the deployment must not serve (unfit secrets, a site signed with another or
/// the development key, unreadable settings): 503, in both languages since the visitor's may be
/// either, telling the owner where to look. The reason goes to the log only: it names secrets
/// and keys, which a visitor has no business reading.
fn refusal(problem: &str) -> Result<Response> {
    worker::console_error!("gatefold: refusing to serve: {problem}");
    let resp = Response::error(
        "This gallery site is not available: its configuration is unsafe or incomplete. Owner: see the worker's log (`wrangler tail`) for what to fix.\n\
         此图库网站暂不可用：其配置不安全或不完整。网站所有者：请查看 worker 日志（`wrangler tail`）了解需要修复的内容。",
        503,
    )?;
    resp.headers().set("Content-Type", "text/plain; charset=utf-8")?;
    resp.headers().set("Cache-Control", "no-store")?;
    resp.headers().set("Retry-After", "3600")?;
    Ok(resp)
}

/// The owner's Worker alone (reached through the visitor's service binding) serves no gallery.
#[cfg(not(feature = "visitor"))]
async fn visitor_route(_req: &Request, _env: &Env, _ctx: &Context, _route: Route<'_>) -> Result<Response> {
    Response::error("Not Found", 404)
}

#[cfg(feature = "visitor")]
async fn visitor_route(req: &Request, env: &Env, ctx: &Context, route: Route<'_>) -> Result<Response> {
    use gatefold_contract::{Denial, Locale};
    let site = match site::load(env).await {
        Ok(site) => site,
        Err(e) => return refusal(&e),
    };
    let header = |name: &str| req.headers().get(name).ok().flatten();
    let v = visitor::Visit {
        req,
        env,
        ctx,
        now_ms: worker::Date::now().as_millis() as i64,
        locale: Locale::negotiate(header("Accept-Language").as_deref(), site.settings.default_locale),
        json: http::wants_json(header("Accept").as_deref()),
        head: req.method() == worker::Method::Head,
        site: &site,
        device: Default::default(),
    };
    let result = match route {
        Route::Page { token } if req.method() == worker::Method::Post => visitor::confirm_open(&v, token).await,
        Route::Page { token } => visitor::open(&v, token).await,
        Route::Image { token, file } => visitor::image(&v, token, file).await,
        Route::Download { token, image } => visitor::download(&v, token, image).await,
        Route::WebDownload { token, image } => visitor::web_download(&v, token, image).await,
        Route::DownloadAll { token } => visitor::download_all(&v, token).await,
        Route::Request { token } => visitor::request_access(&v, token).await,
        _ => visitor::deny(&v, Denial::NotFound).await,
    };
    result.or_else(|e| {
        worker::console_error!("gatefold: {} {}: {e}", req.method().to_string(), http::redact_token(&req.path()));
        let resp = Response::error("Something went wrong on our side. Please try again.", 500)?;
        resp.headers().set("Cache-Control", "no-store")?;
        Ok(resp)
    })
}
