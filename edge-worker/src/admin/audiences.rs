//! `audiences`: an audience's row (its recipients' activity, its own runtime state) and the
//! actions on all its recipients at once, one write whatever their number.

use super::api;
use super::note::{Note, action_of};
use super::call::{Call, json};
use super::error::{Failure, Result};
use super::log::{GalleryLogClient, Terms};
use super::records::scope_statuses;
use crate::gate::{ChangeRequest, ChangeResponse, GateClient, Scope};
use futures_util::future::join_all;
use gatefold_contract::admin::{Activity, ApiRoute, AudienceStatus, LinkStatus};
use gatefold_contract::manifest::Gallery;
use gatefold_contract::policy::Change;
use std::collections::HashMap;
use std::rc::Rc;
use worker::{Env, Response};

/// `POST audiences/<g>/<a>/disable|enable|revoke`, `PATCH audiences/<g>/<a>`.
pub(super) async fn act(call: &mut Call<'_>, route: ApiRoute<'_>, gallery: &str, audience: &str) -> Result<Response> {
    let (env, now, site) = (call.env, call.now, call.site.clone());
    let settings = &site.settings;
    let g = call.gallery(gallery).await?;
    if !g.audiences.contains_key(audience) {
        return Err(unknown_audience(gallery, audience, " (recipients: in gallery.yaml)").into());
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
            call.note(Note::change("revoke", target, settings, &before)).changed(settings, &before, &Terms::of_scope(&policy, &after.overrides, after.session_epoch));
            return audience_answer(env, &g, audience).await;
        }
        _ => call.patch().await?,
    };
    let note = call.note(Note::change(action_of(&change), target, settings, &before));
    match client.change(&ChangeRequest { change, policy: policy.clone(), now, utc_offsets: settings.utc_offsets.clone() }).await? {
        ChangeResponse::Changed(st) => {
            note.changed(settings, &before, &Terms::of_scope(&policy, &st.overrides, st.session_epoch));
            audience_answer(env, &g, audience).await
        }
        ChangeResponse::Refused(r) => Err(api::refusal(settings, &r).into()),
    }
}

fn unknown_audience(gallery: &str, audience: &str, hint: &str) -> Failure {
    Failure::new(404, "unknown_audience", format!("gallery {gallery:?} has no audience {audience:?}{hint}"))
}

/// The audiences of `wanted` (gallery, audience) as their rows show them, with their
/// recipients' activity from each gallery's log (one query per gallery), and each recipient's
/// activity set on `statuses`.
pub(super) async fn audience_rows(env: &Env, galleries: &[Rc<Gallery>], wanted: &[(String, String)], statuses: &mut [LinkStatus]) -> worker::Result<Vec<AudienceStatus>> {
    let mut asked: Vec<String> = wanted.iter().map(|(g, _)| g.clone()).chain(statuses.iter().filter(|s| s.audience.is_some()).map(|s| s.gallery.clone())).collect();
    asked.sort_unstable();
    asked.dedup();
    let logs = asked.iter().map(|g| GalleryLogClient::new(env, g)).collect::<worker::Result<Vec<_>>>()?;
    let scopes = wanted.iter().flat_map(|(g, a)| [Scope::audience(g, a), Scope::gallery(g)]);
    let (activity, scopes) = futures_util::future::join(join_all(logs.iter().map(GalleryLogClient::activity)), scope_statuses(env, scopes)).await;
    let mut by_gallery = HashMap::new();
    for (g, rows) in asked.iter().zip(activity) {
        by_gallery.insert(g.as_str(), rows?);
    }
    let scopes = scopes?;
    for st in statuses.iter_mut().filter(|s| s.audience.is_some()) {
        let did = by_gallery.get(st.gallery.as_str()).and_then(|rows| rows.iter().find(|r| r.link == st.name));
        st.activity = Some(did.map_or(Activity::Neither, |d| d.activity()));
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

/// An audience's row after an action on it.
async fn audience_answer(env: &Env, g: &Rc<Gallery>, audience: &str) -> Result<Response> {
    let rows = audience_rows(env, std::slice::from_ref(g), &[(g.id.clone(), audience.to_string())], &mut Vec::new()).await?;
    let row = rows.into_iter().next().ok_or_else(|| unknown_audience(&g.id, audience, ""))?;
    json(&row)
}
