//! What the handlers read in bulk: the records of a page's links and the runtime state of
//! the scopes' `LinkGate` objects, each asked once and all at once. (One gallery's or one
//! link's record: [`super::call::Call`].) Every failure here is the worker's or the
//! deployment's: `worker::Result`.

use super::api;
use crate::gate::{GateClient, Scope, Status};
use crate::site::Deployment;
use futures_util::future::join_all;
use gatefold_contract::admin::LinkStatus;
use gatefold_contract::manifest::{Gallery, IndexedGallery, IndexedLink, Link, Site};
use std::collections::HashMap;
use std::rc::Rc;
use worker::{Env, Result};

/// The records of the galleries of `links` (each read once), paired with their links, in order.
pub(super) async fn records_of(site: &Deployment, env: &Env, links: &[(&IndexedGallery, &IndexedLink)]) -> Result<Vec<(Rc<Gallery>, Link)>> {
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
pub(super) async fn scope_statuses(env: &Env, scopes: impl IntoIterator<Item = Scope>) -> Result<HashMap<String, Status>> {
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
pub(super) async fn link_statuses(env: &Env, site: &Site, links: &[(&Gallery, &Link)], now: i64) -> Result<Vec<LinkStatus>> {
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
