//! The audit log: what goes on record for each owner action (who acted, what changed), and
//! the gallery's log read back (JSON, CSV).

use super::api::{self, ApiRoute};
use super::call::{Answer, Call, download, json, query_params};
use super::records::find_gallery;
use crate::analytics::audit::{self, Terms};
use crate::analytics::{GalleryLogClient, export, rollup};
use gatefold_contract::admin::AuditEntry;
use gatefold_contract::manifest::Site;
use gatefold_contract::policy::Change;
use worker::{Context, Env, Response, Result};

/// Who acted, as the request tells it.
pub(super) struct Owner {
    pub ip: Option<String>,
    pub user_agent: Option<String>,
    /// The Access e-mail, or "token".
    pub actor: String,
}

/// An owner action to put on record: its name, target (`<g>/<link>`, `<g>/<a>/<r>`,
/// `<g>/@<a>`, `<g>`) and what it changed.
pub(super) struct Note {
    pub action: String,
    pub target: String,
    pub before: Option<String>,
    pub after: Option<String>,
}

impl Note {
    /// An action that changes terms: until its answer is known, both sides say the state before.
    pub(super) fn change(action: &str, target: String, site: &Site, before: &Terms) -> Note {
        let (b, _) = audit::changes(site, before, before);
        Note { action: action.into(), target, before: b, after: None }
    }

    /// An export or download: nothing before, what was taken after.
    pub(super) fn taken(action: &str, target: &str, what: String) -> Note {
        Note { action: action.into(), target: target.into(), before: None, after: Some(what) }
    }

    pub(super) fn changed(&mut self, site: &Site, before: &Terms, after: &Terms) {
        (self.before, self.after) = audit::changes(site, before, after);
    }
}

/// Stores the action in its gallery's log after the owner has the answer. A failure is in the
/// worker's log (never silently lost), and never fails the owner's request.
pub(super) fn record_audit(env: &Env, ctx: &Context, note: Note, owner: Owner) {
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

/// A change's name in the audit log.
pub(super) fn action_of(change: &Change) -> &'static str {
    match change {
        Change::Disable => "disable",
        Change::Enable => "enable",
        Change::Limits { expires_at, extend_days, max_views, .. } => audit::patch_action(expires_at.is_some() || extend_days.is_some(), max_views.is_some()),
    }
}

/// `GET galleries/<g>/audit` (JSON) and `audit.csv`.
pub(super) async fn log(call: &mut Call<'_>, route: ApiRoute<'_>, gallery: &str) -> Result<Answer> {
    let (env, now) = (call.env, call.now);
    let site = call.site.clone();
    let settings = &site.settings;
    let req = &mut call.req;
    let note = &mut call.note;
    let g = match find_gallery(&site, env, gallery).await? {
        Ok(g) => g,
        Err(f) => return Ok(Err(f)),
    };
    let params = query_params(req)?;
    let (from, to) = match api::window(settings, params.get("from").map(String::as_str), params.get("to").map(String::as_str), now) {
        Ok(w) => w,
        Err(f) => return Ok(Err(f)),
    };
    let log = GalleryLogClient::new(env, &g.id)?.audit(from.saturating_mul(1000), to.saturating_mul(1000)).await?;
    if let ApiRoute::Audit { .. } = route {
        return Ok(Ok(json(&log)?));
    }
    let name = format!("{gallery}-audit-{}.csv", rollup::civil_date((now + i64::from(settings.utc_offset_at(now))).div_euclid(86_400)));
    *note = Some(Note::taken("export_audit_csv", gallery, name.clone()));
    let body = Response::from_bytes(export::audit_csv(settings, &log.entries))?;
    Ok(Ok(download(body, "text/csv; charset=utf-8", &name)?))
}
