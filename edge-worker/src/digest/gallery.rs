//! A gallery's room (the instance named after the gallery): its digest of a day, built from
//! the gallery's log and its links' runtime state and handed to the log's outbox, once per day;
//! and the `expires_soon` notices it sent, so each expiry is told once.

use super::DigestRequest;
use crate::gallery_log::GalleryLogClient;
use crate::gallery_log::export::Flags;
use crate::gallery_log::outbox::Queued;
use crate::gallery_log::rollup::{LinkActivity, activity_by_link};
use crate::gate::LinkRuntime;
use crate::notify;
use gatefold_contract::Overrides;
use gatefold_contract::manifest::{Gallery, Link};
use gatefold_contract::notify::{Digest, DigestLink, Notice, NoticeLink, NotifyKind};
use gatefold_contract::time;
use serde::Deserialize;
use std::collections::HashMap;
use worker::{Env, Result, SqlStorage, SqlStorageValue as V};

pub const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS expiry_told (link TEXT NOT NULL, expires_at INTEGER NOT NULL, PRIMARY KEY (link, expires_at));
";

/// A link expiring within this many seconds is told `expires_soon`.
const SOON_SECONDS: i64 = 48 * 3600;

#[derive(Deserialize)]
struct Value {
    value: String,
}

#[derive(Deserialize)]
struct N {
    n: i64,
}

fn digested_day(sql: &SqlStorage) -> Result<Option<String>> {
    Ok(sql.exec("SELECT value FROM meta WHERE key = 'digest_day'", None)?.to_array::<Value>()?.into_iter().next().map(|v| v.value))
}

fn set_digested_day(sql: &SqlStorage, day: &str) -> Result<()> {
    sql.exec("INSERT INTO meta (key, value) VALUES ('digest_day', ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value", vec![V::from(day)])?;
    Ok(())
}

fn told(sql: &SqlStorage, link: &str, expires_at: i64) -> Result<bool> {
    Ok(sql.exec("SELECT COUNT(*) AS n FROM expiry_told WHERE link = ? AND expires_at = ?", vec![V::from(link), V::from(expires_at)])?.one::<N>()?.n > 0)
}

fn mark_told(sql: &SqlStorage, link: &str, expires_at: i64) -> Result<()> {
    sql.exec("INSERT OR IGNORE INTO expiry_told (link, expires_at) VALUES (?, ?)", vec![V::from(link), V::from(expires_at)])?;
    Ok(())
}

/// What the digest says of each link, and the links expiring soon (with their notice link and
/// expiry), from the day's and every time's activity and each link's runtime state.
fn digest_links<'g>(
    gallery: &'g Gallery,
    runtimes: &HashMap<String, LinkRuntime>,
    day: &[LinkActivity],
    ever: &[LinkActivity],
    flags: &Flags,
    zh: bool,
    now: i64,
) -> (Vec<DigestLink>, Vec<(&'g Link, NoticeLink, i64)>) {
    let (day, ever) = (activity_by_link(day), activity_by_link(ever));
    let mut links = Vec::new();
    let mut soon = Vec::new();
    for link in gallery.links.values() {
        // Every listed link has its entry; were one missing, it would read as closed.
        let runtime = runtimes.get(&link.name).cloned().unwrap_or_else(|| LinkRuntime { own: Overrides::unreadable(), ..Default::default() });
        let effective = runtime.in_force(gallery, link);
        let today = day.get(link.name.as_str());
        let act = ever.get(link.name.as_str());
        let opens_ever = act.map_or(0, |a| a.opens);
        let nl = notify::notice_link(gallery, link);
        links.push(DigestLink {
            id: nl.id.clone(),
            label: nl.label.clone(),
            audience_label: nl.audience_label.clone(),
            opens: today.map_or(0, |a| a.opens),
            downloads: today.map_or(0, |a| a.downloads),
            opened: opens_ever > 0,
            downloaded: act.is_some_and(|a| a.downloads > 0),
            download_on: effective.download.any(),
            views_left: effective.views_left(opens_ever),
            expires_at: effective.expires_at,
            forwarded: flags.get(&link.name).map(|f| f.summary(zh)),
        });
        if let Some(at) = effective.expires_at.filter(|at| *at > now && *at - now <= SOON_SECONDS) {
            soon.push((link, nl, at));
        }
    }
    (links, soon)
}

/// `notice` for every channel of `link` (or of the gallery) that wants `kind`.
fn for_channels(gallery: &Gallery, link: Option<&Link>, kind: NotifyKind, notice: &Notice) -> Vec<Queued> {
    notify::wanting(gallery, link, kind).map(|c| Queued { channel: c.clone(), notice: notice.clone() }).collect()
}

/// This gallery's digest of a day (once) and its `expires_soon` notices (each expiry once),
/// into the gallery log's outbox.
pub async fn digest(env: &Env, sql: &SqlStorage, req: &DigestRequest) -> Result<()> {
    if digested_day(sql)?.as_deref() == Some(req.day.as_str()) {
        return Ok(());
    }
    let site = crate::site::load(env).await.map_err(worker::Error::RustError)?;
    let Some(gallery) = site.gallery(env, &req.gallery).await.map_err(worker::Error::RustError)? else { return Ok(()) };
    let now_ms = worker::Date::now().as_millis() as i64;
    let log = GalleryLogClient::new(env, &gallery.id)?;
    let (day, ever, flags) = futures_util::future::join3(log.activity_within(req.from_ms, req.to_ms), log.activity(), log.flags()).await;
    // The links flagged during the day covered.
    let flags: Flags = flags?.into_iter().filter(|(_, f)| f.at * 1000 >= req.from_ms && f.at * 1000 < req.to_ms).collect();
    // Read in bulk: three KV reads per link would pass an invocation's 1,000 operations at
    // about 330 links.
    let names: Vec<&str> = gallery.links.keys().map(String::as_str).collect();
    let runtimes = crate::gate::runtimes(env, &gallery.id, &names).await?;
    let zh = site.settings.default_locale == gatefold_contract::Locale::ZhCn;
    let (links, soon) = digest_links(&gallery, &runtimes, &day?, &ever?, &flags, zh, now_ms.div_euclid(1000));

    let mut n = notify::notice(&site.settings, &gallery, None, NotifyKind::Digest, req.from_ms, now_ms);
    n.digest = Some(Digest { day: req.day.clone(), links });
    let mut queued = for_channels(&gallery, None, NotifyKind::Digest, &n);
    let mut telling = Vec::new();
    for (link, nl, at) in soon {
        if notify::wanting(&gallery, Some(link), NotifyKind::ExpiresSoon).next().is_none() || told(sql, &link.name, at)? {
            continue;
        }
        let mut n = notify::notice(&site.settings, &gallery, Some(nl), NotifyKind::ExpiresSoon, at * 1000, now_ms);
        n.detail = Some(time::for_owner(&site.settings, at));
        queued.extend(for_channels(&gallery, Some(link), NotifyKind::ExpiresSoon, &n));
        telling.push((link.name.as_str(), at));
    }
    if !queued.is_empty() {
        log.enqueue(&queued).await?;
    }
    // Marked once the log has them: a failed hand-over is tried again by a repeated run.
    for (link, at) in telling {
        mark_told(sql, link, at)?;
    }
    set_digested_day(sql, &req.day)
}
