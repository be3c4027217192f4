//! The admin module's I/O (wasm only).

use super::api::{self, ApiRoute, Failure};
use super::owner;
use super::{CHARTS_JS, CHARTS_PATH, CSS_PATH, JS_PATH, PAGE_CSS, PAGE_HTML, PAGE_JS};
use crate::http;
use crate::gallery_log::{GalleryLogClient, export, rollup};
use futures_util::future::join_all;
use crate::gate::{self, ChangeRequest, ChangeResponse, GateClient, Scope, Status};
use gatefold_contract::admin::{ApiError, AudienceStatus, AuditEntry, FollowUp, FollowUpGroup, GalleryStatus, LinkPatch, LinkStatus, LinksResponse};
use gatefold_contract::owner::{ReminderTerms, ShownExpiry};
use crate::gallery_log::audit::{self, Terms};
use crate::gallery_log::follow_up;
use crate::site::Deployment;
use gatefold_contract::manifest::{Gallery, IndexedGallery, IndexedLink, Link, Site};
use gatefold_contract::policy::{Change, GALLERY_TERMS};
use gatefold_contract::time::WallTime;
use std::collections::HashMap;
use std::rc::Rc;
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
    let actor = match super::signin::authorize(&req, &env, route.audited_read()).await? {
        Ok(actor) => actor,
        Err(f) => return failure(f),
    };
    let owner = Owner { ip: crate::network::client_ip(|h| req.headers().get(h).ok().flatten()), user_agent: req.headers().get("User-Agent")?, actor: actor.name() };
    let mut note = None;
    let answer = serve(route, req, &env, &actor, &mut note).await;
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

/// Who acted, as the request tells it.
struct Owner {
    ip: Option<String>,
    user_agent: Option<String>,
    /// The Access e-mail, or "token".
    actor: String,
}

/// An owner action to put on record: its name, target (`<g>/<link>`, `<g>/<a>/<r>`,
/// `<g>/@<a>`, `<g>`) and what it changed.
struct Note {
    action: String,
    target: String,
    before: Option<String>,
    after: Option<String>,
}

impl Note {
    /// An action that changes terms: until its answer is known, both sides say the state before.
    fn change(action: &str, target: String, site: &Site, before: &Terms) -> Note {
        let (b, _) = audit::changes(site, before, before);
        Note { action: action.into(), target, before: b, after: None }
    }

    /// An export or download: nothing before, what was taken after.
    fn taken(action: &str, target: &str, what: String) -> Note {
        Note { action: action.into(), target: target.into(), before: None, after: Some(what) }
    }

    fn changed(&mut self, site: &Site, before: &Terms, after: &Terms) {
        (self.before, self.after) = audit::changes(site, before, after);
    }
}

/// Stores the action in its gallery's log after the owner has the answer. A failure is in the
/// worker's log (never silently lost), and never fails the owner's request.
fn record_audit(env: &Env, ctx: &Context, note: Note, owner: Owner) {
    let env = env.clone();
    ctx.wait_until(async move {
        let stored = async {
            let site = crate::site::load(&env).await.map_err(worker::Error::RustError)?;
            let s = &site.settings;
            let entry = AuditEntry {
                at: worker::Date::now().as_millis() as i64,
                action: note.action.clone(),
                target: note.target.clone(),
                before: note.before,
                after: note.after,
                ip: owner.ip.as_deref().and_then(|ip| s.ip_logging.apply(ip)),
                device: owner.user_agent.as_deref().map(|ua| {
                    let (device, os, browser) = crate::access::describe_user_agent(ua);
                    format!("{device}, {os}, {browser}")
                }),
                actor: Some(owner.actor),
            };
            let gallery = note.target.split('/').next().unwrap_or_default();
            GalleryLogClient::new(&env, gallery)?.record_audit(&entry, s.analytics.retention_days).await
        };
        if let Err(e) = stored.await {
            worker::console_error!("audit log: recording {} on {} failed: {e}", note.action, note.target);
        }
    });
}

fn now_secs() -> i64 {
    (worker::Date::now().as_millis() / 1000) as i64
}

fn no_store(mut resp: Response) -> Result<Response> {
    http::headers::owner(resp.headers_mut())?;
    Ok(resp)
}

fn json<T: serde::Serialize>(value: &T) -> Result<Response> {
    no_store(Response::from_json(value)?)
}

fn failure(f: Failure) -> Result<Response> {
    let resp = Response::from_json(&ApiError { error: f.code.to_string(), message: f.message, suggestion: f.suggestion })?.with_status(f.status);
    let mut resp = no_store(resp)?;
    if f.status == 401 {
        resp.headers_mut().set("WWW-Authenticate", "Bearer realm=\"gatefold-admin\"")?;
    }
    if let Some(secs) = f.retry_after {
        resp.headers_mut().set("Retry-After", &secs.to_string())?;
    }
    Ok(resp)
}

fn unknown_gallery(gallery: &str) -> Failure {
    Failure::new(404, "unknown_gallery", format!("no gallery {gallery:?} in the published site"))
}

/// A gallery's record: read from the deployment, never from a list of every gallery.
async fn find_gallery(site: &Deployment, env: &Env, gallery: &str) -> Result<std::result::Result<Rc<Gallery>, Failure>> {
    Ok(site.gallery(env, gallery).await.map_err(worker::Error::RustError)?.ok_or_else(|| unknown_gallery(gallery)))
}

/// The records of the galleries of `links` (each read once), paired with their links, in order.
async fn records_of(site: &Deployment, env: &Env, links: &[(&IndexedGallery, &IndexedLink)]) -> Result<Vec<(Rc<Gallery>, Link)>> {
    let mut ids: Vec<&str> = links.iter().map(|(g, _)| g.id.as_str()).collect();
    ids.dedup();
    let mut records = HashMap::new();
    for (id, found) in ids.iter().zip(join_all(ids.iter().map(|id| site.gallery(env, id))).await) {
        let record = found.map_err(worker::Error::RustError)?.ok_or_else(|| {
            worker::Error::RustError(format!("{} lists gallery {id:?}, which has no record: rebuild and deploy the site", gatefold_contract::manifest::GALLERY_INDEX_PATH))
        })?;
        records.insert(*id, record);
    }
    links
        .iter()
        .map(|(g, l)| {
            let record = &records[g.id.as_str()];
            let link = record.links.get(&l.name).cloned().ok_or_else(|| {
                worker::Error::RustError(format!("{} lists link {}/{}, which its record lacks: rebuild and deploy the site", gatefold_contract::manifest::GALLERY_INDEX_PATH, g.id, l.name))
            })?;
            Ok((record.clone(), link))
        })
        .collect()
}

/// The states of `scopes`' objects, each asked once and all at once, by object name.
async fn scope_statuses(env: &Env, scopes: impl IntoIterator<Item = Scope>) -> Result<HashMap<String, Status>> {
    let mut names: Vec<Scope> = Vec::new();
    for scope in scopes {
        if !names.contains(&scope) {
            names.push(scope);
        }
    }
    let clients = names.iter().map(|s| GateClient::for_scope(env, s)).collect::<Result<Vec<_>>>()?;
    let answers = join_all(clients.iter().map(GateClient::status)).await;
    names.iter().zip(answers).map(|(s, st)| Ok((s.object_name(), st?))).collect()
}

/// The links as owners see them, asking their objects and their wider scopes' (galleries',
/// audiences', once each) at once.
async fn link_statuses(env: &Env, site: &Site, links: &[(&Gallery, &Link)], now: i64) -> Result<Vec<LinkStatus>> {
    let scopes: Vec<Scope> = links.iter().map(|(g, l)| Scope::link(&g.id, &l.name)).collect();
    let mut known = scope_statuses(env, scopes.iter().flat_map(|s| [s.clone()].into_iter().chain(s.wider()))).await?;
    links
        .iter()
        .zip(&scopes)
        .map(|((g, l), scope)| {
            let own = known.remove(&scope.object_name()).unwrap_or_default();
            let wider: Vec<Status> = scope.wider().iter().map(|w| known.get(&w.object_name()).cloned().unwrap_or_default()).collect();
            Ok(api::link_status(site, g, l, own, &wider, now))
        })
        .collect()
}

/// The audiences of `wanted` (gallery, audience) as their rows show them, with their
/// recipients' activity from each gallery's log (one query per gallery), and each recipient's
/// activity set on `statuses`.
async fn audience_rows(env: &Env, galleries: &[Rc<Gallery>], wanted: &[(String, String)], statuses: &mut [LinkStatus]) -> Result<Vec<AudienceStatus>> {
    let mut asked: Vec<String> = wanted.iter().map(|(g, _)| g.clone()).chain(statuses.iter().filter(|s| s.audience.is_some()).map(|s| s.gallery.clone())).collect();
    asked.sort_unstable();
    asked.dedup();
    let logs = asked.iter().map(|g| GalleryLogClient::new(env, g)).collect::<Result<Vec<_>>>()?;
    let scopes = wanted.iter().flat_map(|(g, a)| [Scope::audience(g, a), Scope::gallery(g)]);
    let (activity, scopes) = futures_util::future::join(join_all(logs.iter().map(GalleryLogClient::activity)), scope_statuses(env, scopes)).await;
    let mut by_gallery = HashMap::new();
    for (g, rows) in asked.iter().zip(activity) {
        by_gallery.insert(g.as_str(), rows?);
    }
    let scopes = scopes?;
    for st in statuses.iter_mut().filter(|s| s.audience.is_some()) {
        let did = by_gallery.get(st.gallery.as_str()).and_then(|rows| rows.iter().find(|r| r.link == st.name));
        st.activity = Some(did.map_or(gatefold_contract::admin::Activity::Neither, |d| d.activity()));
    }
    Ok(wanted
        .iter()
        .filter_map(|(g, a)| {
            let gallery = galleries.iter().find(|r| r.id == *g)?;
            let status = |s: Scope| scopes.get(&s.object_name()).cloned().unwrap_or_default();
            api::audience_status(gallery, a, status(Scope::audience(g, a)), &status(Scope::gallery(g)), by_gallery.get(g.as_str()).map_or(&[], Vec::as_slice))
        })
        .collect())
}

async fn find_link(site: &Deployment, env: &Env, gallery: &str, link: &str) -> Result<std::result::Result<(Rc<Gallery>, Link), Failure>> {
    let g = match find_gallery(site, env, gallery).await? {
        Ok(g) => g,
        Err(f) => return Ok(Err(f)),
    };
    Ok(match g.links.get(link).cloned() {
        Some(l) => Ok((g, l)),
        None => Err(Failure::new(404, "unknown_link", format!("gallery {gallery:?} has no link {link:?}"))),
    })
}

fn query_params(req: &Request) -> Result<HashMap<String, String>> {
    Ok(req.url()?.query_pairs().into_owned().collect())
}

/// An owner file: never stored, never sniffed, and as locked down as the admin page.
fn owner_file(mut resp: Response, content_type: &str) -> Result<Response> {
    let h = resp.headers_mut();
    h.set("Content-Type", content_type)?;
    http::headers::locked_down(h, http::headers::PAGE)?;
    no_store(resp)
}

type Answer = std::result::Result<Response, Failure>;

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct NotifyTestRequest {
    gallery: Option<String>,
}

async fn serve(route: ApiRoute<'_>, mut req: Request, env: &Env, actor: &super::signin::Actor, note: &mut Option<Note>) -> Result<Answer> {
    // The same isolate-wide settings and record memo the visitor routes use.
    let site = crate::site::load(env).await.map_err(worker::Error::RustError)?;
    let settings = &site.settings;
    let now = now_secs();
    match route {
        ApiRoute::Links => {
            let params = query_params(&req)?;
            let q = match api::LinksQuery::parse(|n| params.get(n).map(String::as_str)) {
                Ok(q) => q,
                Err(f) => return Ok(Err(f)),
            };
            // The index pages and filters; only the records of the galleries on the page are read.
            let index = site.index(env).await.map_err(worker::Error::RustError)?;
            let matches = q.matching(&index);
            let mut pager = api::Pager::new(matches.len(), q.offset, q.limit, q.state.is_some());
            let mut galleries: Vec<Rc<Gallery>> = Vec::new();
            while let Some(chunk) = pager.next_chunk() {
                let records = records_of(&site, env, &matches[chunk]).await?;
                let pairs: Vec<(&Gallery, &Link)> = records.iter().map(|(g, l)| (g.as_ref(), l)).collect();
                let answers = link_statuses(env, settings, &pairs, now).await?;
                for (g, _) in records {
                    if !galleries.iter().any(|r| r.id == g.id) {
                        galleries.push(g);
                    }
                }
                pager.absorb(answers, |st| q.state.is_none_or(|s| st.state == s));
            }
            let (mut links, next_offset) = pager.finish();
            // The audiences of the page's recipients, and the one filtered on (even when none
            // of its recipients is on this page).
            let mut wanted: Vec<(String, String)> = Vec::new();
            let filtered = q.audience.iter().flat_map(|a| galleries.iter().filter(|g| g.audiences.contains_key(a)).map(|g| (g.id.clone(), a.clone())));
            for key in links.iter().filter_map(|l| Some((l.gallery.clone(), l.audience.clone()?))).chain(filtered) {
                if !wanted.contains(&key) {
                    wanted.push(key);
                }
            }
            let audiences = audience_rows(env, &galleries, &wanted, &mut links).await?;
            Ok(Ok(json(&LinksResponse {
                timezone: settings.timezone.clone(),
                links,
                total: matches.len(),
                offset: q.offset,
                next_offset,
                galleries: api::gallery_summaries(&index),
                audiences,
            })?))
        }
        ApiRoute::QrSvg { gallery, link } | ApiRoute::QrPng { gallery, link } | ApiRoute::Card { gallery, link } => {
            let (g, l) = match find_link(&site, env, gallery, link).await? {
                Ok(found) => found,
                Err(f) => return Ok(Err(f)),
            };
            let (g, l) = (g.as_ref(), &l);
            let url = gatefold_contract::manifest::link_url(&settings.base_url, &l.token);
            let file = match route {
                ApiRoute::QrSvg { .. } => owner::qr_svg(&url).map(|(svg, ct)| (Response::ok(svg), ct)),
                ApiRoute::QrPng { .. } => owner::qr_png(&url).map(|(png, ct)| (Response::from_bytes(png), ct)),
                _ => {
                    let locale = match api::locale_param(settings, query_params(&req)?.get("locale").map(String::as_str)) {
                        Ok(l) => l,
                        Err(f) => return Ok(Err(f)),
                    };
                    let st = link_statuses(env, settings, &[(g, l)], now).await?.remove(0);
                    let origin = req.url()?.origin().ascii_serialization();
                    match owner::card(env, settings, g, l, &st, locale, &origin).await? {
                        Ok(resp) => Ok((Ok(resp), "text/html; charset=utf-8")),
                        Err(f) => Err(f),
                    }
                }
            };
            match file {
                Ok((resp, content_type)) => Ok(Ok(owner_file(resp?, content_type)?)),
                Err(f) => Ok(Err(f)),
            }
        }
        ApiRoute::ShareKit { gallery } => {
            let g = match find_gallery(&site, env, gallery).await? {
                Ok(g) => g,
                Err(f) => return Ok(Err(f)),
            };
            let locale = match api::locale_param(settings, query_params(&req)?.get("locale").map(String::as_str)) {
                Ok(l) => l,
                Err(f) => return Ok(Err(f)),
            };
            // Recipients' links are for the mail merge, one per person: the share kit lists the
            // links meant to be passed on, and asking hundreds of recipients' objects would pass
            // the Free plan's subrequest limit.
            let pairs: Vec<_> = g.links.values().filter(|l| l.audience().is_none()).map(|l| (g.as_ref(), l)).collect();
            let audience_scopes = g.audiences.keys().flat_map(|a| [Scope::audience(gallery, a), Scope::gallery(gallery)]);
            let (statuses, scopes) = futures_util::future::join(link_statuses(env, settings, &pairs, now), scope_statuses(env, audience_scopes)).await;
            let scopes = scopes?;
            let closed = |s: Scope| scopes.get(&s.object_name()).is_some_and(|st| st.overrides.is_disabled());
            let open: Vec<&str> = g.audiences.keys().map(String::as_str).filter(|a| !closed(Scope::audience(gallery, a)) && !closed(Scope::gallery(gallery))).collect();
            let resp = owner::share_kit(env, settings, &g, &statuses?, &open, locale).await?;
            Ok(Ok(owner_file(resp, "text/plain; charset=utf-8")?))
        }
        ApiRoute::MailMerge { gallery } => {
            let g = match find_gallery(&site, env, gallery).await? {
                Ok(g) => g,
                Err(f) => return Ok(Err(f)),
            };
            if g.audiences.is_empty() {
                return Ok(Err(Failure::new(404, "no_recipients", format!("gallery {gallery:?} has no audience with recipients: add `recipients:` to a link in its gallery.yaml"))));
            }
            let origin = req.url()?.origin().ascii_serialization();
            let body = Response::ok(owner::mail_merge(settings, &g, &origin))?;
            let recipients = g.links.values().filter(|l| l.audience().is_some()).count();
            *note = Some(Note::taken("mail_merge", gallery, format!("{}, {recipients} recipients", owner::mail_merge_name(gallery))));
            Ok(Ok(download(body, "text/csv; charset=utf-8", &owner::mail_merge_name(gallery))?))
        }
        ApiRoute::DisableGallery { gallery } | ApiRoute::EnableGallery { gallery } => {
            if let Err(f) = find_gallery(&site, env, gallery).await? {
                return Ok(Err(f));
            }
            let (change, action) = if matches!(route, ApiRoute::DisableGallery { .. }) { (Change::Disable, "disable") } else { (Change::Enable, "enable") };
            // One write for the whole gallery: every link's object consults it on open.
            let req = ChangeRequest { change, policy: GALLERY_TERMS.clone(), now, utc_offsets: settings.utc_offsets.clone() };
            let client = GateClient::for_scope(env, &Scope::gallery(gallery))?;
            let scope = client.status().await?;
            let before = Terms::of_scope(&GALLERY_TERMS, &scope.overrides, scope.session_epoch);
            let n = note.insert(Note::change(action, gallery.to_string(), settings, &before));
            match client.change(&req).await? {
                ChangeResponse::Changed(st) => {
                    n.changed(settings, &before, &Terms::of_scope(&GALLERY_TERMS, &st.overrides, st.session_epoch));
                    Ok(Ok(json(&GalleryStatus { gallery: gallery.to_string(), overrides: st.overrides, notices: st.notices })?))
                }
                ChangeResponse::Refused(r) => Ok(Err(api::refusal(settings, &r))),
            }
        }
        ApiRoute::DisableAudience { gallery, audience }
        | ApiRoute::EnableAudience { gallery, audience }
        | ApiRoute::RevokeAudience { gallery, audience }
        | ApiRoute::PatchAudience { gallery, audience } => {
            let g = match find_gallery(&site, env, gallery).await? {
                Ok(g) => g,
                Err(f) => return Ok(Err(f)),
            };
            if !g.audiences.contains_key(audience) {
                return Ok(Err(Failure::new(404, "unknown_audience", format!("gallery {gallery:?} has no audience {audience:?} (recipients: in gallery.yaml)"))));
            }
            // One write for the whole audience, whatever its number of recipients: each
            // recipient's object consults it on open, and its KV mirror in session.
            let client = GateClient::for_scope(env, &Scope::audience(gallery, audience))?;
            let policy = g.audience_terms(audience).cloned().unwrap_or_default();
            let scope = client.status().await?;
            let before = Terms::of_scope(&policy, &scope.overrides, scope.session_epoch);
            let target = format!("{gallery}/@{audience}");
            let change = match route {
                ApiRoute::DisableAudience { .. } => Change::Disable,
                ApiRoute::EnableAudience { .. } => Change::Enable,
                ApiRoute::RevokeAudience { .. } => {
                    let after = client.revoke().await?;
                    note.insert(Note::change("revoke", target, settings, &before)).changed(settings, &before, &Terms::of_scope(&policy, &after.overrides, after.session_epoch));
                    return audience_answer(env, &g, audience).await;
                }
                _ => match patch_change(&mut req, settings).await? {
                    Ok(c) => c,
                    Err(f) => return Ok(Err(f)),
                },
            };
            let n = note.insert(Note::change(action_of(&change), target, settings, &before));
            match client.change(&ChangeRequest { change, policy: policy.clone(), now, utc_offsets: settings.utc_offsets.clone() }).await? {
                ChangeResponse::Changed(st) => {
                    n.changed(settings, &before, &Terms::of_scope(&policy, &st.overrides, st.session_epoch));
                    audience_answer(env, &g, audience).await
                }
                ChangeResponse::Refused(r) => Ok(Err(api::refusal(settings, &r))),
            }
        }
        ApiRoute::Disable { gallery, link } | ApiRoute::Enable { gallery, link } | ApiRoute::Revoke { gallery, link } | ApiRoute::Patch { gallery, link } => {
            let (g, l) = match find_link(&site, env, gallery, link).await? {
                Ok(found) => found,
                Err(f) => return Ok(Err(f)),
            };
            let (g, l) = (g.as_ref(), &l);
            let client = GateClient::new(env, gallery, link)?;
            let scope = Scope::link(gallery, link);
            // The state before, for the audit log, read with the wider scopes the answer needs.
            let (own, wider) = futures_util::future::join(client.status(), gate::wider_statuses(env, &scope)).await;
            let wider = wider?;
            let before = Terms::of_link(&api::link_status(settings, g, l, own?, &wider, now));
            let target = format!("{gallery}/{link}");
            let change = match route {
                ApiRoute::Disable { .. } => Change::Disable,
                ApiRoute::Enable { .. } => Change::Enable,
                ApiRoute::Revoke { .. } => {
                    let st = api::link_status(settings, g, l, client.revoke().await?, &wider, now);
                    note.insert(Note::change("revoke", target, settings, &before)).changed(settings, &before, &Terms::of_link(&st));
                    return Ok(Ok(json(&st)?));
                }
                _ => match patch_change(&mut req, settings).await? {
                    Ok(c) => c,
                    Err(f) => return Ok(Err(f)),
                },
            };
            let n = note.insert(Note::change(action_of(&change), target, settings, &before));
            let req = ChangeRequest { change, policy: l.policy.clone(), now, utc_offsets: settings.utc_offsets.clone() };
            match client.change(&req).await? {
                ChangeResponse::Changed(updated) => {
                    let st = api::link_status(settings, g, l, updated, &wider, now);
                    n.changed(settings, &before, &Terms::of_link(&st));
                    Ok(Ok(json(&st)?))
                }
                ChangeResponse::Refused(r) => Ok(Err(api::refusal(settings, &r))),
            }
        }
        ApiRoute::SetPassword { gallery, link } | ApiRoute::ClearPassword { gallery, link } => {
            let (g, l) = match find_link(&site, env, gallery, link).await? {
                Ok(found) => found,
                Err(f) => return Ok(Err(f)),
            };
            let client = GateClient::new(env, gallery, link)?;
            let scope = Scope::link(gallery, link);
            let (own, wider) = futures_util::future::join(client.status(), gate::wider_statuses(env, &scope)).await;
            let wider = wider?;
            let before = Terms::of_link(&api::link_status(settings, &g, &l, own?, &wider, now));
            let action = if matches!(route, ApiRoute::SetPassword { .. }) { "password_set" } else { "password_clear" };
            // Noted before the body is read: a link without `password: required` refuses (409)
            // and that goes on record; the password itself never does.
            let n = note.insert(Note::change(action, format!("{gallery}/{link}"), settings, &before));
            let hash = match route {
                ApiRoute::SetPassword { .. } => match set_password_hash(&mut req, settings, &g, &l).await? {
                    Ok(hash) => Some(hash),
                    Err(f) => return Ok(Err(f)),
                },
                _ => None,
            };
            let st = api::link_status(settings, &g, &l, client.set_password(hash.as_ref()).await?, &wider, now);
            n.changed(settings, &before, &Terms::of_link(&st));
            Ok(Ok(json(&st)?))
        }
        ApiRoute::Audit { gallery } | ApiRoute::AuditCsv { gallery } => {
            let g = match find_gallery(&site, env, gallery).await? {
                Ok(g) => g,
                Err(f) => return Ok(Err(f)),
            };
            let params = query_params(&req)?;
            let (from, to) = match api::window(settings, params.get("from").map(String::as_str), params.get("to").map(String::as_str), now) {
                Ok(w) => w,
                Err(f) => return Ok(Err(f)),
            };
            let log = GalleryLogClient::new(env, &g.id)?.audit(from.saturating_mul(1000), to.saturating_mul(1000)).await?;
            if let ApiRoute::Audit { .. } = route {
                return Ok(Ok(json(&log)?));
            }
            let name = format!("{gallery}-audit-{}.csv", WallTime::at(settings, now).date());
            *note = Some(Note::taken("export_audit_csv", gallery, name.clone()));
            let body = Response::from_bytes(export::audit_csv(settings, &log.entries))?;
            Ok(Ok(download(body, "text/csv; charset=utf-8", &name)?))
        }
        ApiRoute::FollowUp { gallery } => {
            let g = match find_gallery(&site, env, gallery).await? {
                Ok(g) => g,
                Err(f) => return Ok(Err(f)),
            };
            Ok(Ok(json(&follow_up(env, settings, &g, now).await?)?))
        }
        ApiRoute::NotifyTest => {
            let body = match body_text(&mut req).await? {
                Ok(body) => body,
                Err(f) => return Ok(Err(f)),
            };
            let only = if body.trim().is_empty() {
                None
            } else {
                match serde_json::from_str::<NotifyTestRequest>(&body) {
                    Ok(r) => r.gallery,
                    Err(e) => return Ok(Err(Failure::new(400, "bad_request", format!("the body must be {{\"gallery\": \"<id>\"}} or empty: {e}")))),
                }
            };
            let index = site.index(env).await.map_err(worker::Error::RustError)?;
            let ids: Vec<&str> = index.galleries.iter().map(|g| g.id.as_str()).filter(|id| only.as_deref().is_none_or(|o| o == *id)).collect();
            if ids.is_empty() {
                return Ok(Err(Failure::new(404, "not_found", format!("no gallery {:?}: see `gatefold list`", only.unwrap_or_default()))));
            }
            let mut galleries = Vec::new();
            for id in ids {
                if let Some(g) = site.gallery(env, id).await.map_err(worker::Error::RustError)? {
                    galleries.push(g);
                }
            }
            Ok(Ok(json(&crate::notify::test_all(env, settings, &galleries, now * 1000).await)?))
        }
        ApiRoute::Passphrase => Ok(Ok(json(&gatefold_contract::admin::Passphrase { passphrase: crate::password::passphrase()? })?)),
        ApiRoute::WhoAmI => Ok(Ok(json(&gatefold_contract::admin::WhoAmI { actor: Some(actor.name()) })?)),
        ApiRoute::Notifications { gallery } => {
            let g = match find_gallery(&site, env, gallery).await? {
                Ok(g) => g,
                Err(f) => return Ok(Err(f)),
            };
            Ok(Ok(json(&GalleryLogClient::new(env, &g.id)?.notifications().await?)?))
        }
        ApiRoute::Stats { gallery } | ApiRoute::ExportCsv { gallery } | ApiRoute::ExportXlsx { gallery } => {
            let g = match find_gallery(&site, env, gallery).await? {
                Ok(g) => g,
                Err(f) => return Ok(Err(f)),
            };
            let url = req.url()?;
            let params: HashMap<String, String> = url.query_pairs().into_owned().collect();
            let (from, to) = match api::window(settings, params.get("from").map(String::as_str), params.get("to").map(String::as_str), now) {
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
                offsets: rollup::Query::offsets_for(settings, from.saturating_mul(1000), to.saturating_mul(1000)),
            };
            let file_base = format!("{gallery}-{}", WallTime::at(settings, now).date());
            let log = GalleryLogClient::new(env, gallery)?;
            let scope_text = link.as_deref().map_or_else(String::new, |l| format!(", link {l}"));
            if let ApiRoute::ExportCsv { .. } = route {
                *note = Some(Note::taken("export_csv", gallery, format!("{file_base}.csv{scope_text}")));
                let body = Response::from_stream(export::csv_stream(log, settings.clone(), query))?;
                return Ok(Ok(download(body, "text/csv; charset=utf-8", &format!("{file_base}.csv"))?));
            }
            let stats = stats(env, settings, &g, &query, from, to, link.as_deref()).await?;
            if let ApiRoute::ExportXlsx { .. } = route {
                *note = Some(Note::taken("export_xlsx", gallery, format!("{file_base}.xlsx{scope_text}")));
                // The owner actions and the follow-up lists go along as sheets of their own.
                let (entries, follow) = futures_util::future::join(log.audit(query.from_ms, query.to_ms), follow_up(env, settings, &g, now)).await;
                let extra = export::Extra { audit: entries?.entries, follow_up: Some(follow?) };
                let body = match export::xlsx_from_log(&log, settings, &stats, &query, &extra).await {
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

/// Admin request bodies are small JSON objects (a patch, a password, a gallery id).
const MAX_BODY_BYTES: usize = 16 * 1024;

/// The request's body as text, read under [`MAX_BODY_BYTES`] while it streams
/// ([`http::read_body`]): 413 past it.
async fn body_text(req: &mut Request) -> Result<std::result::Result<String, Failure>> {
    Ok(match http::read_body(req, MAX_BODY_BYTES).await? {
        Ok(bytes) => String::from_utf8(bytes).map_err(|_| Failure::new(400, "bad_request", "the body must be UTF-8 JSON")),
        Err(http::TooLarge) => Err(Failure::new(413, "request_too_large", format!("the body is over {MAX_BODY_BYTES} bytes: admin requests are small JSON objects"))),
    })
}

/// A PATCH body (a link's or an audience's) as the change its object applies.
async fn patch_change(req: &mut Request, site: &Site) -> Result<std::result::Result<Change, Failure>> {
    let body = match body_text(req).await? {
        Ok(body) => body,
        Err(f) => return Ok(Err(f)),
    };
    Ok(match serde_json::from_str::<LinkPatch>(&body) {
        Ok(patch) => api::patch_change(site, &patch),
        Err(e) => Err(Failure::new(400, "bad_request", format!("body must be JSON like {{\"expires\": \"2026-12-31\", \"max_views\": 100}} or {{\"extend_days\": 7}}: {e}"))),
    })
}

/// An audience's row after an action on it.
async fn audience_answer(env: &Env, g: &Rc<Gallery>, audience: &str) -> Result<Answer> {
    let rows = audience_rows(env, std::slice::from_ref(g), &[(g.id.clone(), audience.to_string())], &mut Vec::new()).await?;
    match rows.into_iter().next() {
        Some(row) => Ok(Ok(json(&row)?)),
        None => Ok(Err(Failure::new(404, "unknown_audience", format!("gallery {:?} has no audience {audience:?}", g.id)))),
    }
}

/// The hash of the password a `PUT .../password` body sets, or why it is refused. The body is
/// never echoed (serde's messages would quote it) and the password goes nowhere but the hash.
async fn set_password_hash(req: &mut Request, site: &Site, gallery: &Gallery, link: &Link) -> Result<std::result::Result<crate::password::StoredHash, Failure>> {
    #[derive(serde::Deserialize)]
    struct Body {
        password: String,
    }
    if !link.policy.password {
        return Ok(Err(Failure::new(409, "password_not_required", format!("link {:?} has no `password: required` in git: add it to the link or its audience and publish first", link.name))));
    }
    let text = match body_text(req).await? {
        Ok(text) => text,
        Err(f) => return Ok(Err(f)),
    };
    let Ok(body) = serde_json::from_str::<Body>(&text) else {
        return Ok(Err(Failure::new(400, "bad_request", "body must be JSON like {\"password\": \"...\"}")));
    };
    if let Err(e) = crate::password::check_new(&body.password) {
        return Ok(Err(Failure::new(400, "bad_password", e)));
    }
    if let Some(f) = api::weak_password(site, gallery, link, &body.password, crate::password::passphrase()?) {
        return Ok(Err(f));
    }
    Ok(Ok(crate::password::hash_new(&body.password).await?))
}

async fn stats(
    env: &Env,
    site: &Site,
    g: &Gallery,
    query: &rollup::Query,
    from: i64,
    to: i64,
    link: Option<&str>,
) -> Result<gatefold_contract::admin::GalleryStats> {
    // One request to the gallery's log answers every link, first and last opens and
    // recipients' activity included: never one request per link (a 500-recipient audience
    // would pass the Free plan's subrequest limit).
    let rollup = GalleryLogClient::new(env, &g.id)?.stats(query).await?;
    Ok(rollup::aggregate(&rollup, &rollup::Context { site, gallery: g, from, to, link }))
}

fn download(body: Response, content_type: &str, file_name: &str) -> Result<Response> {
    let mut resp = no_store(body)?;
    let h = resp.headers_mut();
    h.set("Content-Type", content_type)?;
    h.set("Content-Disposition", &crate::http::attachment_disposition(file_name))?;
    Ok(resp)
}

/// A change's name in the audit log.
fn action_of(change: &Change) -> &'static str {
    match change {
        Change::Disable => "disable",
        Change::Enable => "enable",
        Change::Limits { expires_at, extend_days, max_views, .. } => audit::patch_action(expires_at.is_some() || extend_days.is_some(), max_views.is_some()),
    }
}

/// The gallery's follow-up lists, from the log's one activity query. Plain links are asked
/// from their own objects (a gallery has a handful); recipients' state (their own and their
/// audience's and gallery's runtime changes) from their KV mirrors read in bulk, with the log's
/// count of their opens as the views used, because asking hundreds of recipients' objects
/// would pass the Free plan's subrequest limit. Both go through the one composition of the
/// policy in force (`api::link_status`).
async fn follow_up(env: &Env, site: &Site, g: &Rc<Gallery>, now: i64) -> Result<FollowUp> {
    let log = GalleryLogClient::new(env, &g.id)?;
    let plain: Vec<(&Gallery, &Link)> = g.links.values().filter(|l| l.audience().is_none()).map(|l| (g.as_ref(), l)).collect();
    let recipients: Vec<&Link> = g.links.values().filter(|l| l.audience().is_some()).collect();
    let names: Vec<&str> = recipients.iter().map(|l| l.name.as_str()).collect();
    let (rows, plain, runtimes) = futures_util::future::join3(log.activity(), link_statuses(env, site, &plain, now), gate::runtimes(env, &g.id, &names)).await;
    let (rows, mut statuses, runtimes) = (rows?, plain?, runtimes?);
    let by_link = rollup::activity_by_link(&rows);
    for l in recipients {
        // Every listed link has its entry; were one missing, it would read as closed.
        let runtime = runtimes.get(&l.name).cloned().unwrap_or_else(|| gate::LinkRuntime { own: gatefold_contract::Overrides::unreadable(), ..Default::default() });
        let (own, wider) = runtime.statuses(by_link.get(l.name.as_str()).map_or(0, |d| d.opens));
        statuses.push(api::link_status(site, g, l, own, &wider, now));
    }
    let kit = owner::kit(env, &g.id, site.default_locale).await?;
    let mut groups = Vec::new();
    for group in follow_up::group_names(g) {
        // Plain links each get a group (and a reminder) of their own; an audience one for all.
        let members: Vec<Vec<&LinkStatus>> = match &group {
            Some(a) => vec![statuses.iter().filter(|st| st.audience.as_deref() == Some(a.as_str())).collect()],
            None => statuses.iter().filter(|st| st.audience.is_none()).map(|st| vec![st]).collect(),
        };
        for members in members {
            let mut not_opened = Vec::new();
            let mut not_downloaded = Vec::new();
            let mut reminded: Vec<&LinkStatus> = Vec::new();
            for st in members {
                let did = by_link.get(st.name.as_str()).copied();
                match follow_up::follow_up_kind(st, follow_up::activity_of(&by_link, &st.name)) {
                    Some(follow_up::FollowUpKind::NotOpened) => not_opened.push(follow_up::follow_up_link(st, did)),
                    Some(follow_up::FollowUpKind::NotDownloaded) => not_downloaded.push(follow_up::follow_up_link(st, did)),
                    None => continue,
                }
                reminded.push(st);
            }
            let Some(first) = reminded.first() else { continue };
            let label = match &group {
                Some(a) => g.audiences.get(a).map_or_else(|| a.clone(), |x| x.label.clone()),
                None => first.label.clone(),
            };
            let expiry = if reminded.iter().all(|st| st.expires_at.is_some()) { reminded.iter().filter_map(|st| st.expires_at).max() } else { None };
            let terms = ReminderTerms {
                gallery: g.title.clone(),
                audience: label.clone(),
                images: g.images.len(),
                download: reminded.iter().any(|st| st.policy.download.any()),
                expiry: expiry.map(|at| ShownExpiry::at_instant(at, site.utc_offset_at(at))),
            };
            let reminder = kit.reminder(&terms).map_err(|e| worker::Error::RustError(format!("{}: {e}", gatefold_contract::owner::kit_path(&g.id, site.default_locale))))?;
            let audience = if group.is_some() { group.clone() } else { None };
            groups.push(FollowUpGroup { audience, label, not_opened, not_downloaded, reminder });
        }
    }
    Ok(FollowUp { gallery: g.id.clone(), gallery_title: g.title.clone(), timezone: site.timezone.clone(), groups })
}
