//! The notification outbox's room: notices waiting to be sent (`outbox`, one row per channel
//! and notice, batching repeats), their delivery from the log's alarm with doubling backoff,
//! and the dead letters given up on (`dead_letters`).

use crate::notify::{self, Tried};
use gatefold_contract::admin::{DeadLetter, NotificationStatus};
use gatefold_contract::notify::{Channel, Notice, NotifyKind, Platform};
use serde::{Deserialize, Serialize};
use worker::{Env, Result, SqlStorage, SqlStorageValue as V};

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS outbox (
  key TEXT PRIMARY KEY, platform TEXT NOT NULL, url_secret TEXT NOT NULL, sign_secret TEXT,
  notice TEXT NOT NULL, count INTEGER NOT NULL, last_at INTEGER NOT NULL, place TEXT, device TEXT, detail TEXT,
  due INTEGER NOT NULL, attempts INTEGER NOT NULL DEFAULT 0, first_try INTEGER);
CREATE INDEX IF NOT EXISTS outbox_due ON outbox(due);
CREATE TABLE IF NOT EXISTS dead_letters (
  id INTEGER PRIMARY KEY, notice_id TEXT NOT NULL, platform TEXT NOT NULL, url_secret TEXT NOT NULL, kind TEXT NOT NULL,
  link TEXT NOT NULL, at INTEGER NOT NULL, attempts INTEGER NOT NULL, status INTEGER, reason TEXT NOT NULL);
";

/// Notices the alarm sends per run (each is one subrequest).
const SEND_PER_ALARM: u32 = 25;
/// The longest wait between two tries of a notice.
pub const MAX_BACKOFF_MS: i64 = 3_600_000;
/// How long a notice is retried after its first try before it becomes a dead letter.
pub const RETRY_FOR_MS: i64 = 24 * 3_600_000;
/// How long dead letters are kept, and at most how many per gallery.
pub const DEAD_LETTER_KEEP_MS: i64 = 30 * 86_400_000;
pub const DEAD_LETTER_MAX: u32 = 500;

pub fn create(sql: &SqlStorage) -> Result<()> {
    sql.exec(SCHEMA, None)?;
    Ok(())
}

/// A notice for one channel, as another object hands it over (the daily digest).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Queued {
    pub channel: Channel,
    pub notice: Notice,
}

/// Adds the notice's events to its row for this channel, or starts it (due at `due`).
/// `notice` carries the row's first event; later ones update the count, the last time, place,
/// device and detail (views used so far).
pub fn enqueue(sql: &SqlStorage, channel: &Channel, notice: &Notice, due: i64) -> Result<()> {
    let key = format!("{}:{}:{}", notice.id, channel.to.name(), channel.url_secret);
    sql.exec(
        "INSERT INTO outbox (key, platform, url_secret, sign_secret, notice, count, last_at, place, device, detail, due)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT(key) DO UPDATE SET count = count + excluded.count, last_at = MAX(last_at, excluded.last_at),
           place = COALESCE(excluded.place, place), device = COALESCE(excluded.device, device), detail = COALESCE(excluded.detail, detail)",
        vec![
            V::from(key.as_str()),
            V::from(channel.to.name()),
            V::from(channel.url_secret.as_str()),
            V::from(channel.sign_secret.clone()),
            V::from(serde_json::to_string(notice)?.as_str()),
            V::from(i64::from(notice.count)),
            V::from(notice.last_at),
            V::from(notice.place.clone()),
            V::from(notice.device.clone()),
            V::from(notice.detail.clone()),
            V::from(due),
        ],
    )?;
    Ok(())
}

/// A row as stored: the channel in its columns, the notice's first event as JSON and what
/// later events changed beside it.
#[derive(Deserialize)]
struct Row {
    key: String,
    platform: Platform,
    url_secret: String,
    sign_secret: Option<String>,
    notice: String,
    count: i64,
    last_at: i64,
    place: Option<String>,
    device: Option<String>,
    detail: Option<String>,
    attempts: i64,
    first_try: Option<i64>,
}

/// A row due for sending: the channel it goes to and the notice as it stands.
#[derive(Debug)]
pub struct Due {
    pub key: String,
    /// `on` holds the notice's kind: the row is this channel's for that kind.
    pub channel: Channel,
    pub notice: Notice,
    pub attempts: i64,
    pub first_try: Option<i64>,
}

impl Row {
    /// The notice as it stands: the first event's fields with the batch's count and latest.
    fn due(self) -> Result<Due> {
        let mut notice: Notice = serde_json::from_str(&self.notice)?;
        notice.count = u32::try_from(self.count).unwrap_or(u32::MAX);
        notice.last_at = self.last_at;
        notice.place = self.place;
        notice.device = self.device;
        notice.detail = self.detail;
        let channel = Channel { to: self.platform, url_secret: self.url_secret, sign_secret: self.sign_secret, on: vec![notice.kind] };
        Ok(Due { key: self.key, channel, notice, attempts: self.attempts, first_try: self.first_try })
    }
}

/// At most `limit` rows due at `now`, oldest first.
fn due(sql: &SqlStorage, now: i64, limit: u32) -> Result<Vec<Due>> {
    sql.exec(
        "SELECT key, platform, url_secret, sign_secret, notice, count, last_at, place, device, detail, attempts, first_try
         FROM outbox WHERE due <= ? ORDER BY due LIMIT ?",
        vec![V::from(now), V::from(i64::from(limit))],
    )?
    .to_array::<Row>()?
    .into_iter()
    .map(Row::due)
    .collect()
}

#[derive(Deserialize)]
struct Next {
    due: Option<i64>,
}

/// When the next row is due, if any.
pub fn next_due(sql: &SqlStorage) -> Result<Option<i64>> {
    Ok(sql.exec("SELECT MIN(due) AS due FROM outbox", None)?.one::<Next>()?.due)
}

/// Delay before retry number `attempts` (1 = the first retry): `base`, doubling, capped.
pub fn backoff_ms(attempts: u32, base_ms: i64) -> i64 {
    let factor = 1_i64.checked_shl(attempts.saturating_sub(1).min(30)).unwrap_or(i64::MAX);
    base_ms.max(1).saturating_mul(factor).min(MAX_BACKOFF_MS)
}

/// Sends what is due: delivered rows go, failed ones wait their backoff, and after 24 hours
/// of trying (or at once when a secret is missing) become dead letters.
pub async fn deliver(env: &Env, sql: &SqlStorage, now: i64) -> Result<()> {
    let rows = due(sql, now, SEND_PER_ALARM)?;
    if rows.is_empty() {
        return Ok(());
    }
    let site = crate::site::load(env).await.map_err(worker::Error::RustError)?;
    let retry_ms = notify::retry_ms(env);
    for row in rows {
        let tried = notify::send(env, &site.settings, &row.channel, &row.notice, now).await;
        if tried.ok {
            sql.exec("DELETE FROM outbox WHERE key = ?", vec![V::from(row.key.as_str())])?;
            continue;
        }
        let first = row.first_try.unwrap_or(now);
        let attempts = u32::try_from(row.attempts + 1).unwrap_or(u32::MAX);
        let retry_at = (!tried.missing_secret && now - first < RETRY_FOR_MS).then(|| now + backoff_ms(attempts, retry_ms));
        if retry_at.is_none() {
            worker::console_error!("notifications: gave up {:?} to {} ({}): {}", row.notice.kind, row.channel.to.name(), row.channel.url_secret, tried.detail);
        }
        failed(sql, &row, &tried, now, retry_at)?;
    }
    Ok(())
}

/// A failed try: retried at `retry_at`, or given up (a dead letter) when there is none.
fn failed(sql: &SqlStorage, row: &Due, tried: &Tried, now: i64, retry_at: Option<i64>) -> Result<()> {
    let attempts = row.attempts + 1;
    let Some(at) = retry_at else {
        sql.exec(
            "INSERT INTO dead_letters (notice_id, platform, url_secret, kind, link, at, attempts, status, reason) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            vec![
                V::from(row.notice.id.as_str()),
                V::from(row.channel.to.name()),
                V::from(row.channel.url_secret.as_str()),
                V::from(row.notice.kind.name()),
                V::from(row.notice.link.as_ref().map_or("", |l| l.id.as_str())),
                V::from(now),
                V::from(attempts),
                V::from(tried.status.map(i64::from)),
                V::from(tried.detail.as_str()),
            ],
        )?;
        sql.exec("DELETE FROM outbox WHERE key = ?", vec![V::from(row.key.as_str())])?;
        sql.exec(
            "DELETE FROM dead_letters WHERE at < ? OR id NOT IN (SELECT id FROM dead_letters ORDER BY id DESC LIMIT ?)",
            vec![V::from(now - DEAD_LETTER_KEEP_MS), V::from(i64::from(DEAD_LETTER_MAX))],
        )?;
        return Ok(());
    };
    sql.exec(
        "UPDATE outbox SET attempts = ?, first_try = COALESCE(first_try, ?), due = ? WHERE key = ?",
        vec![V::from(attempts), V::from(now), V::from(at), V::from(row.key.as_str())],
    )?;
    Ok(())
}

#[derive(Deserialize)]
struct N {
    n: i64,
}

#[derive(Deserialize)]
struct DeadRow {
    notice_id: String,
    platform: Platform,
    url_secret: String,
    kind: NotifyKind,
    link: String,
    at: i64,
    attempts: i64,
    status: Option<i64>,
    reason: String,
}

/// What waits to be sent, and the dead letters newest first.
pub fn status(sql: &SqlStorage) -> Result<NotificationStatus> {
    let pending = sql.exec("SELECT COUNT(*) AS n FROM outbox", None)?.one::<N>()?.n;
    let dead_letters = sql
        .exec("SELECT notice_id, platform, url_secret, kind, link, at, attempts, status, reason FROM dead_letters ORDER BY id DESC", None)?
        .to_array::<DeadRow>()?
        .into_iter()
        .map(|r| DeadLetter {
            id: r.notice_id,
            to: r.platform,
            url_secret: r.url_secret,
            kind: r.kind,
            link: r.link,
            at: r.at,
            attempts: u32::try_from(r.attempts).unwrap_or(u32::MAX),
            status: r.status.and_then(|s| u16::try_from(s).ok()),
            reason: r.reason,
        })
        .collect();
    Ok(NotificationStatus { pending: u64::try_from(pending).unwrap_or(0), dead_letters })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_up_to_an_hour() {
        assert_eq!(backoff_ms(1, 60_000), 60_000);
        assert_eq!(backoff_ms(2, 60_000), 120_000);
        assert_eq!(backoff_ms(7, 60_000), MAX_BACKOFF_MS);
        assert_eq!(backoff_ms(400, 60_000), MAX_BACKOFF_MS);
    }
}
