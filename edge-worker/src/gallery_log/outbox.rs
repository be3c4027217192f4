//! The notification outbox's room: notices waiting to be sent (`outbox`, one row per channel
//! and notice, folding repeats), their delivery from the log's alarm on the retry schedule
//! ([`retry_delay_ms`]), and the dead letters given up on (`dead_letters`).
//!
//! An event's notice ([`enqueue_event`]): the first of its window (per link, kind and channel,
//! remembered in `notice_windows`) is due at once, after a short gathering moment that folds
//! the events arriving with it; later ones of the window are folded into one trailing message
//! due at the window's end, with their count. A burst of any size is at most two messages per
//! window.

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
CREATE TABLE IF NOT EXISTS notice_windows (key TEXT PRIMARY KEY, until INTEGER NOT NULL);
CREATE INDEX IF NOT EXISTS notice_windows_until ON notice_windows(until);
CREATE TABLE IF NOT EXISTS dead_letters (
  id INTEGER PRIMARY KEY, notice_id TEXT NOT NULL, platform TEXT NOT NULL, url_secret TEXT NOT NULL, kind TEXT NOT NULL,
  link TEXT NOT NULL, at INTEGER NOT NULL, attempts INTEGER NOT NULL, status INTEGER, reason TEXT NOT NULL);
";

/// Notices the alarm sends per run (each is one subrequest).
const SEND_PER_ALARM: u32 = 25;
/// The retry schedule in units of the first delay (`NOTIFY_RETRY_SECONDS`, 10 s by default):
/// 10 s, 30 s, 1 min, then doubling.
const RETRY_STEPS: [i64; 3] = [1, 3, 6];
/// The longest wait between two tries, in those units: 1 h at 10 s.
const MAX_BACKOFF_STEPS: i64 = 360;
/// How long a notice is retried after its first try before it becomes a dead letter, in those
/// units: 24 h at 10 s. Shortened first delays (the tests') scale the whole schedule.
const RETRY_FOR_STEPS: i64 = 8_640;
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
    let key = row_key(notice, channel);
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

/// The key of a notice's row for `channel`.
fn row_key(notice: &Notice, channel: &Channel) -> String {
    format!("{}:{}:{}", notice.id, channel.to.name(), channel.url_secret)
}

/// How long after its end a window's first notice is remembered.
const WINDOW_GRACE_MS: i64 = 60_000;

#[derive(Deserialize)]
struct Pending {
    due: i64,
    attempts: i64,
}

/// An event's notice for `channel` (`notice.id` names its window): folded into the window's
/// first message while that still gathers, else into the window's trailing
/// message (due at `window_end`); the window's first notice starts a row due after `gather_ms`.
/// Answers when the row it went into is due.
pub fn enqueue_event(sql: &SqlStorage, channel: &Channel, notice: &Notice, now: i64, gather_ms: i64, window_end: i64) -> Result<i64> {
    let key = row_key(notice, channel);
    sql.exec("DELETE FROM notice_windows WHERE until < ?", vec![V::from(now)])?;
    let seen = sql.exec("SELECT until AS due, 0 AS attempts FROM notice_windows WHERE key = ?", vec![V::from(key.as_str())])?.to_array::<Pending>()?;
    if seen.is_empty() {
        // Remembered a while past the window's end, so an event logged late still folds.
        sql.exec("INSERT INTO notice_windows (key, until) VALUES (?, ?)", vec![V::from(key.as_str()), V::from(window_end.max(now).saturating_add(WINDOW_GRACE_MS))])?;
        let due = now + gather_ms;
        enqueue(sql, channel, notice, due)?;
        return Ok(due);
    }
    let first = sql.exec("SELECT due, attempts FROM outbox WHERE key = ?", vec![V::from(key.as_str())])?.to_array::<Pending>()?;
    // Only while it still gathers: once due, the alarm may be sending it (a row is deleted when
    // its platform took it), and an event folded in then would be lost with it.
    if let Some(p) = first.first().filter(|p| p.attempts == 0 && p.due > now) {
        enqueue(sql, channel, notice, p.due)?;
        return Ok(p.due);
    }
    let trailing = Notice { id: notify::trailing_id(&notice.id), ..notice.clone() };
    let due = window_end.max(now);
    enqueue(sql, channel, &trailing, due)?;
    Ok(due)
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

/// Delay before retry number `attempts` (1 = the first retry) when the first is `base_ms`:
/// 1, 3 and 6 times it, then doubling, capped at 360 times it (10 s, 30 s, 1 min, 2 min, … 1 h).
pub fn retry_delay_ms(attempts: u32, base_ms: i64) -> i64 {
    let steps = match attempts.max(1) as usize {
        n if n <= RETRY_STEPS.len() => RETRY_STEPS[n - 1],
        n => {
            let doublings = u32::try_from(n - RETRY_STEPS.len()).unwrap_or(u32::MAX).min(30);
            RETRY_STEPS[RETRY_STEPS.len() - 1].saturating_mul(1_i64 << doublings)
        }
    };
    base_ms.max(1).saturating_mul(steps.min(MAX_BACKOFF_STEPS))
}

/// How long a notice is retried after its first try when the first delay is `base_ms`.
pub fn retry_for_ms(base_ms: i64) -> i64 {
    base_ms.max(1).saturating_mul(RETRY_FOR_STEPS)
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
        let retry_at = (!tried.missing_secret && now - first < retry_for_ms(retry_ms)).then(|| now + retry_delay_ms(attempts, retry_ms));
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
    fn retries_come_after_10_s_30_s_1_min_then_doubling_to_an_hour_for_a_day() {
        let delays: Vec<i64> = (1..=10).map(|n| retry_delay_ms(n, 10_000) / 1000).collect();
        assert_eq!(delays, [10, 30, 60, 120, 240, 480, 960, 1920, 3600, 3600]);
        assert_eq!(retry_delay_ms(400, 10_000), 3_600_000);
        assert_eq!(retry_for_ms(10_000), 24 * 3_600_000);
    }

    #[test]
    fn a_shortened_first_delay_scales_the_whole_schedule() {
        let delays: Vec<i64> = (1..=4).map(|n| retry_delay_ms(n, 1_000)).collect();
        assert_eq!(delays, [1_000, 3_000, 6_000, 12_000]);
        assert_eq!(retry_delay_ms(50, 1_000), 360_000);
        assert_eq!(retry_for_ms(1_000), 8_640_000);
    }
}
