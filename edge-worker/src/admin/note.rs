//! What goes on record for each owner action: who acted, what changed, and when it is
//! stored (once the owner has the answer). The log is read back by [`super::audit`].

use super::error::{Error, Result};
use super::log::{GalleryLogClient, Terms, audit, describe_user_agent};
use gatefold_contract::admin::AuditEntry;
use gatefold_contract::manifest::Site;
use gatefold_contract::policy::Change;
use worker::{Context, Env, Response};

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

/// Puts the call's action on record once its answer is known: an action answered 200 (it
/// changed something, or was an export or a download), and a change the link's object refused
/// (409: `needs_force`, disabled in gallery.yaml, no password in git), because an attempt to
/// close a link sooner or reopen one is worth knowing about even when it did not happen.
/// Requests that were malformed (400), named nothing (404) or failed (500) changed nothing and
/// are not owner actions: they stay out, so each action leaves exactly one row.
pub(super) fn record_outcome(env: &Env, ctx: &Context, note: Option<Note>, owner: Owner, answer: &Result<Response>) {
    let Some(note) = note else { return };
    match answer {
        Ok(resp) if resp.status_code() == 200 => record(env, ctx, note, owner),
        Err(Error::Refused(f)) if f.status == 409 => record(env, ctx, Note { after: Some(format!("refused: {}", f.code)), ..note }, owner),
        _ => {}
    }
}

/// Stores the action in its gallery's log after the owner has the answer. A failure is in the
/// worker's log (never silently lost), and never fails the owner's request.
fn record(env: &Env, ctx: &Context, note: Note, owner: Owner) {
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
                    let (device, os, browser) = describe_user_agent(ua);
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
        Change::OpenNow => "open_now",
        Change::AddViews { .. } => "raise",
        Change::Limits { expires_at, extend_days, max_views, .. } => audit::patch_action(expires_at.is_some() || extend_days.is_some(), max_views.is_some()),
    }
}
