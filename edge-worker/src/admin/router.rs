//! The admin module's entry (wasm only): the page's files, then sign-in, then one handler per
//! API route (one module per resource), then the audit log.

use super::api::{self, ApiRoute, Failure};
use super::audit::{Note, Owner, record_audit};
use super::call::{Answer, Call, failure, json, now_secs};
use super::{CHARTS_JS, CHARTS_PATH, CSS_PATH, JS_PATH, PAGE_CSS, PAGE_HTML, PAGE_JS};
use super::{audiences, audit, follow_up, galleries, links, notifications, owner, passwords};
use crate::http;
use worker::{Context, Env, Headers, Method, Request, Response, Result};

pub async fn handle(req: Request, env: Env, ctx: Context) -> Result<Response> {
    let path = req.path();
    let method = req.method();
    let get = matches!(method, Method::Get | Method::Head);
    let page = |body: &str, content_type: &str| -> Result<Response> {
        let headers = Headers::new();
        headers.set("Content-Type", content_type)?;
        http::headers::owner(&headers)?;
        http::headers::locked_down(&headers, http::headers::PAGE)?;
        Ok(Response::ok(body)?.with_headers(headers))
    };
    match path.as_str() {
        "/admin" if get => return page(PAGE_HTML, "text/html; charset=utf-8"),
        p if p == JS_PATH && get => return page(PAGE_JS, "text/javascript; charset=utf-8"),
        p if p == CSS_PATH && get => return page(PAGE_CSS, "text/css; charset=utf-8"),
        p if p == CHARTS_PATH && get => return page(CHARTS_JS, "text/javascript; charset=utf-8"),
        p if p == owner::CSS_PATH && get => {
            return match owner::css(&env).await? {
                Some(css) => page(&css, "text/css; charset=utf-8"),
                None => failure(Failure::new(404, "not_found", "this site was published without the owner stylesheet: publish it with this version of gatefold")),
            };
        }
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
    if route == ApiRoute::WhoAmI && !super::signin::presents_credentials(&req)? {
        return json(&gatefold_contract::admin::WhoAmI { actor: None });
    }
    let actor = match super::signin::authorize(&req, &env).await? {
        Ok(actor) => actor,
        Err(f) => return failure(f),
    };
    let owner = Owner { ip: req.headers().get("CF-Connecting-IP")?, user_agent: req.headers().get("User-Agent")?, actor: actor.name() };
    let (answer, note) = match crate::site::load(&env).await {
        Ok(site) => {
            let mut call = Call { req, env: &env, site, now: now_secs(), note: None };
            (serve(route, &mut call, &actor).await, call.note)
        }
        Err(e) => (Err(worker::Error::RustError(e)), None),
    };
    // What goes on record: an action answered 200 (it changed something, or was an export or
    // a download), and a change the link's object refused (409: `needs_force`, disabled in
    // gallery.yaml, no password in git), because an attempt to close a link sooner or
    // reopen one is worth knowing about even when it did not happen. Requests that were
    // malformed (400), named nothing (404) or failed (500) changed nothing and are not
    // owner actions: they stay out, so each action leaves exactly one row.
    if let Some(note) = note {
        match &answer {
            Ok(Ok(resp)) if resp.status_code() == 200 => record_audit(&env, &ctx, note, owner),
            Ok(Err(f)) if f.status == 409 => record_audit(&env, &ctx, Note { after: Some(format!("refused: {}", f.code)), ..note }, owner),
            _ => {}
        }
    }
    match answer {
        Ok(Ok(resp)) => Ok(resp),
        Ok(Err(f)) => failure(f),
        Err(e) => {
            worker::console_error!("admin API {path}: {e}");
            failure(Failure::new(500, "internal", format!("the worker failed: {e}")))
        }
    }
}

async fn serve(route: ApiRoute<'_>, call: &mut Call<'_>, actor: &super::signin::Actor) -> Result<Answer> {
    match route {
        ApiRoute::Links => links::list(call).await,
        ApiRoute::QrSvg { gallery, link } | ApiRoute::QrPng { gallery, link } | ApiRoute::Card { gallery, link } => owner::link_file(call, route.clone(), gallery, link).await,
        ApiRoute::ShareKit { gallery } => owner::gallery_share_kit(call, gallery).await,
        ApiRoute::MailMerge { gallery } => owner::gallery_mail_merge(call, gallery).await,
        ApiRoute::DisableGallery { gallery } | ApiRoute::EnableGallery { gallery } => galleries::switch(call, route.clone(), gallery).await,
        ApiRoute::DisableAudience { gallery, audience }
        | ApiRoute::EnableAudience { gallery, audience }
        | ApiRoute::RevokeAudience { gallery, audience }
        | ApiRoute::PatchAudience { gallery, audience } => audiences::act(call, route.clone(), gallery, audience).await,
        ApiRoute::Disable { gallery, link } | ApiRoute::Enable { gallery, link } | ApiRoute::Revoke { gallery, link } | ApiRoute::Patch { gallery, link } => {
            links::act(call, route.clone(), gallery, link).await
        }
        ApiRoute::SetPassword { gallery, link } | ApiRoute::ClearPassword { gallery, link } => passwords::set_or_clear(call, route.clone(), gallery, link).await,
        ApiRoute::Audit { gallery } | ApiRoute::AuditCsv { gallery } => audit::log(call, route.clone(), gallery).await,
        ApiRoute::FollowUp { gallery } => follow_up::list(call, gallery).await,
        ApiRoute::NotifyTest => notifications::test(call).await,
        ApiRoute::Passphrase => Ok(Ok(json(&gatefold_contract::admin::Passphrase { passphrase: crate::password::passphrase()? })?)),
        ApiRoute::WhoAmI => Ok(Ok(json(&gatefold_contract::admin::WhoAmI { actor: Some(actor.name()) })?)),
        ApiRoute::Notifications { gallery } => notifications::list(call, gallery).await,
        ApiRoute::Stats { gallery } | ApiRoute::ExportCsv { gallery } | ApiRoute::ExportXlsx { gallery } => galleries::stats_or_export(call, route.clone(), gallery).await,
    }
}
