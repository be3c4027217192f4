//! `links`: the paged, filtered links list and the actions on one link.

use super::api;
use super::audiences::audience_rows;
use super::note::{Note, action_of};
use super::call::{Call, json};
use super::error::Result;
use super::log::Terms;
use super::records::{link_statuses, records_of};
use crate::gate::{self, ChangeRequest, ChangeResponse, GateClient, Scope};
use gatefold_contract::admin::{ApiRoute, LinkStatus, LinksResponse};
use gatefold_contract::manifest::{Gallery, Link};
use gatefold_contract::policy::Change;
use std::rc::Rc;
use worker::Response;

/// `GET links`: one page of links, with the audiences of its recipients.
pub(super) async fn list(call: &mut Call<'_>) -> Result<Response> {
    let (env, now, site) = (call.env, call.now, call.site.clone());
    let params = call.query()?;
    let q = api::LinksQuery::parse(|n| params.get(n).map(String::as_str))?;
    // The index pages and filters; only the records of the galleries on the page are read.
    let index = call.index().await?;
    let matches = q.matching(&index);
    let mut pager = api::Pager::new(matches.len(), q.offset, q.limit, q.state.is_some() || q.forwarded);
    let mut galleries: Vec<Rc<Gallery>> = Vec::new();
    while let Some(chunk) = pager.next_chunk() {
        let records = records_of(&site, env, &matches[chunk]).await?;
        let pairs: Vec<(&Gallery, &Link)> = records.iter().map(|(g, l)| (g.as_ref(), l)).collect();
        let answers = link_statuses(env, &site.settings, &pairs, now).await?;
        for (g, _) in records {
            if !galleries.iter().any(|r| r.id == g.id) {
                galleries.push(g);
            }
        }
        pager.absorb(answers, |st| q.state.is_none_or(|s| st.state == s) && (!q.forwarded || st.devices.forwarding.is_some()));
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
    json(&LinksResponse {
        timezone: site.settings.timezone.clone(),
        links,
        total: matches.len(),
        offset: q.offset,
        next_offset,
        galleries: api::gallery_summaries(&index),
        audiences,
    })
}

/// `POST links/<id>/disable|enable|revoke|open-now`, `PATCH links/<id>`.
pub(super) async fn act(call: &mut Call<'_>, route: ApiRoute<'_>, gallery: &str, link: &str) -> Result<Response> {
    call.link(gallery, link).await?;
    let change = match route {
        ApiRoute::Disable { .. } => Change::Disable,
        ApiRoute::Enable { .. } => Change::Enable,
        ApiRoute::OpenNow { .. } => Change::OpenNow,
        ApiRoute::Revoke { .. } => return json(&change_link(call, gallery, link, None, "revoke").await?),
        _ => call.patch().await?,
    };
    let action = action_of(&change);
    json(&change_link(call, gallery, link, Some(change), action).await?)
}

/// Applies `change` (`None`: a revoke) to one link's gate and puts it on record as `action`
/// with the terms before and after; the link as it now stands. A refusal of the link's object
/// is the API's 409 (and on record as refused).
pub(super) async fn change_link(call: &mut Call<'_>, gallery: &str, link: &str, change: Option<Change>, action: &str) -> Result<LinkStatus> {
    let (env, now, site) = (call.env, call.now, call.site.clone());
    let settings = &site.settings;
    let (g, l) = call.link(gallery, link).await?;
    let (g, l) = (g.as_ref(), &l);
    let client = GateClient::new(env, gallery, link)?;
    let scope = Scope::link(gallery, link);
    // The state before, for the audit log, read with the wider scopes the answer needs.
    let (own, wider) = futures_util::future::join(client.status(), gate::wider_statuses(env, &scope)).await;
    let wider = wider?;
    let before = Terms::of_link(&api::link_status(settings, g, l, own?, &wider, now));
    let note = call.note(Note::change(action, format!("{gallery}/{link}"), settings, &before));
    let Some(change) = change else {
        let st = api::link_status(settings, g, l, client.revoke().await?, &wider, now);
        note.changed(settings, &before, &Terms::of_link(&st));
        return Ok(st);
    };
    let req = ChangeRequest { change, policy: l.policy.clone(), now, utc_offsets: settings.utc_offsets.clone() };
    match client.change(&req).await? {
        ChangeResponse::Changed(updated) => {
            let st = api::link_status(settings, g, l, updated, &wider, now);
            note.changed(settings, &before, &Terms::of_link(&st));
            Ok(st)
        }
        ChangeResponse::Refused(r) => Err(api::refusal(settings, &r).into()),
    }
}
