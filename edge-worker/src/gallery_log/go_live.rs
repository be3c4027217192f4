//! Scheduled openings' room (`go_lives`): the links of the gallery published with an
//! `opens_at:` still ahead, as the visitor's Worker hands them over when it first sees them
//! after a publish, and the `go_live` notice each moment gives, enqueued from the log's alarm
//! (the one alarm it shares with the outbox) on the minute, once.
//!
//! A row is only a reminder to look: at its moment the gallery's published record decides
//! which links open then (a publish may have moved or removed the moment since), so a stale
//! row never announces anything.

use super::GoLives;
use super::outbox;
use crate::notify;
use gatefold_contract::manifest::{Gallery, Link};
use gatefold_contract::notify::{Channel, NotifyKind};
use serde::Deserialize;
use std::collections::BTreeMap;
use worker::{Env, Result, SqlStorage, SqlStorageValue as V};

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS go_lives (
  link TEXT PRIMARY KEY, at INTEGER NOT NULL, gallery TEXT NOT NULL, sent INTEGER NOT NULL DEFAULT 0);
CREATE INDEX IF NOT EXISTS go_lives_due ON go_lives(sent, at);
";

/// Links named in a `go_live` notice's detail before "and N more".
const NAMED_LINKS: usize = 5;

pub fn create(sql: &SqlStorage) -> Result<()> {
    sql.exec(SCHEMA, None)?;
    Ok(())
}

/// Stores the openings handed over (a moment moved by a publish is announced again at its new
/// time; one already announced is not) and answers when the earliest unsent one is due (ms).
pub fn schedule(sql: &SqlStorage, go_lives: &GoLives) -> Result<Option<i64>> {
    for (link, at) in go_lives.links.iter().take(super::GO_LIVES_MAX) {
        sql.exec(
            "INSERT INTO go_lives (link, at, gallery) VALUES (?, ?, ?)
             ON CONFLICT(link) DO UPDATE SET sent = CASE WHEN at = excluded.at THEN sent ELSE 0 END, at = excluded.at, gallery = excluded.gallery",
            vec![V::from(link.as_str()), V::from(*at), V::from(go_lives.gallery.as_str())],
        )?;
    }
    next_due(sql)
}

#[derive(Deserialize)]
struct Next {
    at: Option<i64>,
}

/// When the next unsent opening is due (Unix ms), if any.
pub fn next_due(sql: &SqlStorage) -> Result<Option<i64>> {
    Ok(sql.exec("SELECT MIN(at) AS at FROM go_lives WHERE sent = 0", None)?.one::<Next>()?.at.map(|s| s.saturating_mul(1000)))
}

#[derive(Deserialize)]
struct DueRow {
    link: String,
    at: i64,
    gallery: String,
}

/// The links of `due` that really open at their row's moment under the published `gallery`,
/// grouped by moment.
fn opening<'g>(gallery: &'g Gallery, due: &[DueRow]) -> BTreeMap<i64, Vec<&'g Link>> {
    let mut by_moment: BTreeMap<i64, Vec<&Link>> = BTreeMap::new();
    for row in due {
        if let Some(link) = gallery.links.get(&row.link).filter(|l| l.policy.opens_at() == Some(row.at)) {
            by_moment.entry(row.at).or_default().push(link);
        }
    }
    by_moment
}

/// Each channel wanting `go_live` for some of `links`, with those links, in the links' order.
fn by_channel<'g>(gallery: &'g Gallery, links: &[&'g Link]) -> Vec<(&'g Channel, Vec<&'g Link>)> {
    let mut out: Vec<(&Channel, Vec<&Link>)> = Vec::new();
    for link in links {
        for channel in notify::wanting(gallery, Some(link), NotifyKind::GoLive) {
            match out.iter_mut().find(|(c, _)| c.to == channel.to && c.url_secret == channel.url_secret) {
                Some((_, those)) => those.push(link),
                None => out.push((channel, vec![link])),
            }
        }
    }
    out
}

/// "Press, Dealers and 3 more" for a notice naming several links.
fn named(links: &[&Link], locale: gatefold_contract::Locale) -> String {
    let names: Vec<&str> = links.iter().take(NAMED_LINKS).map(|l| l.label.as_str()).collect();
    let more = links.len().saturating_sub(NAMED_LINKS);
    match (more, locale) {
        (0, _) => names.join(", "),
        (n, gatefold_contract::Locale::ZhCn) => format!("{} 等 {} 个", names.join("、"), n + names.len()),
        (n, _) => format!("{} and {n} more", names.join(", ")),
    }
}

/// Enqueues one `go_live` notice per moment reached and channel (due now), marks those rows
/// sent, and drops rows of galleries no longer published. Returns whether anything was enqueued.
pub async fn announce(env: &Env, sql: &SqlStorage, now_ms: i64) -> Result<bool> {
    let due: Vec<DueRow> =
        sql.exec("SELECT link, at, gallery FROM go_lives WHERE sent = 0 AND at * 1000 <= ?", vec![V::from(now_ms)])?.to_array::<DueRow>()?;
    let Some(gallery_id) = due.first().map(|r| r.gallery.clone()) else { return Ok(false) };
    let site = crate::site::load(env).await.map_err(worker::Error::RustError)?;
    let Some(gallery) = site.gallery(env, &gallery_id).await.map_err(worker::Error::RustError)? else {
        sql.exec("DELETE FROM go_lives", None)?;
        return Ok(false);
    };
    let mut enqueued = false;
    for (at, links) in opening(&gallery, &due) {
        for (channel, those) in by_channel(&gallery, &links) {
            let link = (those.len() == 1).then(|| notify::notice_link(&gallery, those[0]));
            let mut n = notify::notice(&site.settings, &gallery, link, NotifyKind::GoLive, at.saturating_mul(1000), at.saturating_mul(1000));
            n.count = u32::try_from(those.len()).unwrap_or(u32::MAX);
            n.detail = Some(named(&those, site.settings.default_locale));
            outbox::enqueue(sql, channel, &n, now_ms)?;
            enqueued = true;
        }
    }
    // Announced, or not opening then any more: done, unless a publish moved the moment later,
    // which is then waited for.
    for row in &due {
        let later = gallery.links.get(&row.link).and_then(|l| l.policy.opens_at()).filter(|at| at.saturating_mul(1000) > now_ms);
        match later {
            Some(at) => sql.exec("UPDATE go_lives SET at = ? WHERE link = ?", vec![V::from(at), V::from(row.link.as_str())])?,
            None => sql.exec("UPDATE go_lives SET sent = 1 WHERE link = ? AND at = ?", vec![V::from(row.link.as_str()), V::from(row.at)])?,
        };
    }
    Ok(enqueued)
}
