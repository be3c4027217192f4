//! Gatefold's edge worker: gates every request to a gallery.
//!
//! - [`route`] decides which handler a path belongs to (exact shapes only);
//! - [`visitor`] serves pages, gated images and originals, and denials;
//! - [`gate`] is the `LinkGate` Durable Object that counts opens exactly;
//! - [`access`] builds access-log events, which [`analytics`] stores;
//! - [`bots`] and [`http`] are pure helpers, tested natively.

pub mod access;
pub mod admin;
pub mod analytics;
pub mod bots;
pub mod gate;
pub mod http;
pub mod route;
pub mod site;
pub mod visitor;

pub use gate::LinkGate;

use gatefold_contract::{Denial, Locale};
use route::Route;
use worker::{Context, Env, Request, Response, Result, event};

#[event(fetch)]
async fn fetch(req: Request, env: Env, ctx: Context) -> Result<Response> {
    let path = req.path();
    let route = route::route(&path);
    let method = req.method().to_string();
    if !route.allows_method(&method) {
        let resp = Response::error("Method Not Allowed", 405)?;
        resp.headers().set("Allow", "GET, HEAD")?;
        return Ok(resp);
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
                headers.set("Cache-Control", "public, max-age=31536000, immutable")?;
                headers.set("X-Content-Type-Options", "nosniff")?;
                Ok(resp.with_headers(headers))
            } else {
                Ok(Response::error("Not Found", 404)?)
            }
        }
        Route::Admin => admin::handle(req, env, ctx).await,
        _ => visitor_route(&req, &env, &ctx, route).await,
    }
}

async fn visitor_route(req: &Request, env: &Env, ctx: &Context, route: Route<'_>) -> Result<Response> {
    let site = match site::load(env).await {
        Ok(site) => site,
        Err(e) => {
            worker::console_error!("gatefold: refusing to serve: {e}");
            return Response::error("This gallery site is not available right now.", 500);
        }
    };
    let header = |name: &str| req.headers().get(name).ok().flatten();
    let c = visitor::Ctx {
        req,
        env,
        ctx,
        now_ms: worker::Date::now().as_millis() as i64,
        locale: Locale::negotiate(header("Accept-Language").as_deref(), site.manifest.site.default_locale),
        json: http::wants_json(header("Accept").as_deref()),
        head: req.method() == worker::Method::Head,
        site: &site,
    };
    let result = match route {
        Route::Page { token } => visitor::open(&c, token).await,
        Route::Image { token, file } => visitor::image(&c, token, file).await,
        Route::Download { token, image } => visitor::download(&c, token, image).await,
        _ => visitor::deny(&c, Denial::NotFound).await,
    };
    result.or_else(|e| {
        worker::console_error!("gatefold: {} {}: {e}", req.method().to_string(), req.path());
        Response::error("Something went wrong on our side. Please try again.", 500)
    })
}
