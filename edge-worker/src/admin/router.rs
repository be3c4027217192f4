//! The admin module's entry: the page's files, then the API — its route read from the path
//! (`gatefold_contract::admin`), the caller signed in ([`super::signin`]), one handler per
//! route in its resource's module, and the owner action put on record ([`super::audit`]).
//! Every handler answers [`Result`]; its error becomes the API's error JSON here, once.

use super::api;
use super::note::{Owner, record_outcome};
use super::call::{Call, json, now_secs};
use super::error::{Error, Failure, Result};
use super::{CHARTS_JS, CHARTS_PATH, CSS_PATH, DEVICES_JS, DEVICES_PATH, JS_PATH, PAGE_CSS, PAGE_HTML, PAGE_JS, REQUESTS_JS, REQUESTS_PATH, ROUTES_PATH, STATS_JS, STATS_PATH, STRINGS_JS, STRINGS_PATH};
use super::{audiences, audit, devices, follow_up, galleries, links, notifications, owner, passwords, requests, signin};
use crate::http;
use gatefold_contract::admin::{API_PREFIX, ApiRoute, WhoAmI};
use worker::{Context, Env, Headers, Method, Request, Response};

pub async fn handle(req: Request, env: Env, ctx: Context) -> worker::Result<Response> {
    let path = req.path();
    let answer = match path.strip_prefix(API_PREFIX) {
        Some(rest) => api_call(req, rest, &env, &ctx).await,
        None => page_file(&path, req.method(), &env).await,
    };
    match answer {
        Ok(resp) => Ok(resp),
        Err(Error::Refused(f)) => f.response(),
        Err(Error::Internal(e)) => {
            worker::console_error!("admin API {path}: {e}");
            Failure::new(500, "internal", format!("the worker failed: {e}")).response()
        }
    }
}

/// The admin page and its files, the same to everyone: they hold no data.
async fn page_file(path: &str, method: Method, env: &Env) -> Result<Response> {
    let get = matches!(method, Method::Get | Method::Head);
    let page = |body: &str, content_type: &str| -> Result<Response> {
        let headers = Headers::new();
        headers.set("Content-Type", content_type)?;
        http::headers::owner(&headers)?;
        http::headers::locked_down(&headers, http::headers::PAGE)?;
        Ok(Response::ok(body)?.with_headers(headers))
    };
    match path {
        "/admin" if get => page(PAGE_HTML, "text/html; charset=utf-8"),
        p if p == JS_PATH && get => page(PAGE_JS, "text/javascript; charset=utf-8"),
        p if p == CSS_PATH && get => page(PAGE_CSS, "text/css; charset=utf-8"),
        p if p == CHARTS_PATH && get => page(CHARTS_JS, "text/javascript; charset=utf-8"),
        p if p == STRINGS_PATH && get => page(STRINGS_JS, "text/javascript; charset=utf-8"),
        p if p == STATS_PATH && get => page(STATS_JS, "text/javascript; charset=utf-8"),
        p if p == REQUESTS_PATH && get => page(REQUESTS_JS, "text/javascript; charset=utf-8"),
        p if p == DEVICES_PATH && get => page(DEVICES_JS, "text/javascript; charset=utf-8"),
        p if p == ROUTES_PATH && get => page(&super::routes_js(), "text/javascript; charset=utf-8"),
        p if p == owner::CSS_PATH && get => match owner::css(env).await? {
            Some(css) => page(&css, "text/css; charset=utf-8"),
            None => Err(Failure::new(404, "not_found", "this site was published without the owner stylesheet: publish it with this version of gatefold").into()),
        },
        "/admin" => Err(Failure::new(405, "method_not_allowed", "/admin takes GET").into()),
        _ => Err(Failure::new(404, "not_found", "no such admin path").into()),
    }
}

/// One API call: routed, signed in, answered, and put on record.
async fn api_call(req: Request, rest: &str, env: &Env, ctx: &Context) -> Result<Response> {
    let route = api::route(req.method().as_ref(), rest)?;
    if route == ApiRoute::WhoAmI && !signin::presents_credentials(&req)? {
        return json(&WhoAmI { actor: None });
    }
    let actor = signin::authorize(&req, env, route.audited_read()).await?;
    let owner = Owner { ip: crate::network::client_ip(|h| req.headers().get(h).ok().flatten()), user_agent: req.headers().get("User-Agent")?, actor: actor.name() };
    let site = crate::site::load(env).await.map_err(Error::deployment)?;
    let mut call = Call { req, env, site, now: now_secs(), note: None };
    let answer = serve(route, &mut call, &actor).await;
    record_outcome(env, ctx, call.note, owner, &answer);
    answer
}

/// The handler of each route.
async fn serve(route: ApiRoute<'_>, call: &mut Call<'_>, actor: &signin::Actor) -> Result<Response> {
    use ApiRoute as R;
    match route {
        R::Links => links::list(call).await,
        R::Disable { gallery, link } | R::Enable { gallery, link } | R::Revoke { gallery, link } | R::OpenNow { gallery, link } | R::Patch { gallery, link } => {
            links::act(call, route.clone(), gallery, link).await
        }
        R::SetPassword { gallery, link } | R::ClearPassword { gallery, link } => passwords::set_or_clear(call, route.clone(), gallery, link).await,
        R::QrSvg { gallery, link } | R::QrPng { gallery, link } | R::Card { gallery, link } => owner::link_file(call, route.clone(), gallery, link).await,
        R::Devices { gallery, link } => devices::list(call, gallery, link).await,
        R::ForgetDevice { gallery, link } | R::AllowDevice { gallery, link } => devices::change(call, route.clone(), gallery, link).await,
        R::DisableAudience { gallery, audience } | R::EnableAudience { gallery, audience } | R::RevokeAudience { gallery, audience } | R::PatchAudience { gallery, audience } => {
            audiences::act(call, route.clone(), gallery, audience).await
        }
        R::DisableGallery { gallery } | R::EnableGallery { gallery } => galleries::switch(call, route.clone(), gallery).await,
        R::Stats { gallery } => galleries::stats(call, gallery).await,
        R::ExportCsv { gallery } => galleries::export_csv(call, gallery).await,
        R::ExportXlsx { gallery } => galleries::export_xlsx(call, gallery).await,
        R::ShareKit { gallery } => owner::gallery_share_kit(call, gallery).await,
        R::MailMerge { gallery } => owner::gallery_mail_merge(call, gallery).await,
        R::Audit { gallery } | R::AuditCsv { gallery } => audit::log(call, route.clone(), gallery).await,
        R::FollowUp { gallery } => follow_up::list(call, gallery).await,
        R::Notifications { gallery } => notifications::list(call, gallery).await,
        R::NotifyTest => notifications::test(call).await,
        R::Passphrase => passwords::passphrase(),
        R::WhoAmI => json(&WhoAmI { actor: Some(actor.name()) }),
        R::Requests { gallery } => requests::list(call, gallery).await,
        R::GrantRequest { request } => requests::grant(call, request).await,
        R::DeclineRequest { request } => requests::decline(call, request).await,
    }
}
