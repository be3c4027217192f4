//! `galleries/<g>/follow-up`: whom to remind (not opened, opened without a download), per
//! audience and per plain link, with a ready-to-send reminder.

use super::api;
use super::call::{Call, json};
use super::error;
use super::log::follow_up::{FollowUpKind, activity_of, follow_up_kind, follow_up_link, group_names};
use super::log::{GalleryLogClient, rollup};
use super::owner;
use super::records::link_statuses;
use crate::gate;
use gatefold_contract::admin::{FollowUp, FollowUpGroup, ForwardedLink, LinkStatus};
use gatefold_contract::manifest::{Gallery, Link, Site};
use gatefold_contract::owner::{ReminderTerms, ShownExpiry};
use std::rc::Rc;
use worker::{Env, Response, Result};

/// `GET galleries/<g>/follow-up`.
pub(super) async fn list(call: &mut Call<'_>, gallery: &str) -> error::Result<Response> {
    let g = call.gallery(gallery).await?;
    json(&follow_up(call.env, &call.site.settings, &g, call.now).await?)
}

/// The gallery's follow-up lists, from the log's one activity query. Plain links are asked
/// from their own objects (a gallery has a handful); recipients' state (their own and their
/// audience's and gallery's runtime changes) from their KV mirrors read in bulk, with the log's
/// count of their opens as the views used, because asking hundreds of recipients' objects
/// would pass the Free plan's subrequest limit. Both go through the one composition of the
/// policy in force (`api::link_status`).
pub(super) async fn follow_up(env: &Env, site: &Site, g: &Rc<Gallery>, now: i64) -> Result<FollowUp> {
    let log = GalleryLogClient::new(env, &g.id)?;
    let plain: Vec<(&Gallery, &Link)> = g.links.values().filter(|l| l.audience().is_none()).map(|l| (g.as_ref(), l)).collect();
    let recipients: Vec<&Link> = g.links.values().filter(|l| l.audience().is_some()).collect();
    let names: Vec<&str> = recipients.iter().map(|l| l.name.as_str()).collect();
    let (rows, plain, runtimes, flags) =
        futures_util::future::join4(log.activity(), link_statuses(env, site, &plain, now), gate::runtimes(env, &g.id, &names), log.flags()).await;
    let (rows, mut statuses, runtimes) = (rows?, plain?, runtimes?);
    let requests = super::requests::open_requests(env, g).await?;
    let mut forwarded: Vec<ForwardedLink> =
        flags?.into_iter().filter_map(|(name, forwarding)| g.links.get(&name).map(|l| ForwardedLink { label: l.label.clone(), name, forwarding })).collect();
    forwarded.sort_by_key(|f| std::cmp::Reverse(f.forwarding.at));
    let by_link = rollup::activity_by_link(&rows);
    for l in recipients {
        // Every listed link has its entry; were one missing, it would read as closed.
        let runtime = runtimes.get(&l.name).cloned().unwrap_or_else(|| gate::LinkRuntime { own: gatefold_contract::Overrides::unreadable(), ..Default::default() });
        let (own, wider) = runtime.statuses(by_link.get(l.name.as_str()).map_or(0, |d| d.opens));
        statuses.push(api::link_status(site, g, l, own, &wider, now));
    }
    let kit = owner::kit(env, &g.id, site.default_locale).await?;
    let mut groups = Vec::new();
    for group in group_names(g) {
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
                match follow_up_kind(st, activity_of(&by_link, &st.name)) {
                    Some(FollowUpKind::NotOpened) => not_opened.push(follow_up_link(st, did)),
                    Some(FollowUpKind::NotDownloaded) => not_downloaded.push(follow_up_link(st, did)),
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
    Ok(FollowUp { gallery: g.id.clone(), gallery_title: g.title.clone(), timezone: site.timezone.clone(), groups, requests, forwarded })
}
