//! The outbox of a gallery's log: notices waiting to be sent, one row per channel and notice,
//! and the dead letters given up on. SQL only; the log's alarm does the sending.

use crate::notify::{DEAD_LETTER_KEEP_MS, DEAD_LETTER_MAX, Tried};
use gatefold_contract::admin::DeadLetter;
use gatefold_contract::notify::{Channel, Notice, Platform};
use serde::Deserialize;
use worker::{Result, SqlStorage, SqlStorageValue as V};

pub const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS outbox (
  key TEXT PRIMARY KEY, platform TEXT NOT NULL, url_secret TEXT NOT NULL, sign_secret TEXT,
  notice TEXT NOT NULL, count INTEGER NOT NULL, last_at INTEGER NOT NULL, place TEXT, device TEXT, detail TEXT,
  due INTEGER NOT NULL, attempts INTEGER NOT NULL DEFAULT 0, first_try INTEGER);
CREATE INDEX IF NOT EXISTS outbox_due ON outbox(due);
CREATE TABLE IF NOT EXISTS dead_letters (
  id INTEGER PRIMARY KEY, notice_id TEXT NOT NULL, platform TEXT NOT NULL, url_secret TEXT NOT NULL, kind TEXT NOT NULL,
  link TEXT NOT NULL, at INTEGER NOT NULL, attempts INTEGER NOT NULL, status INTEGER, reason TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS notify_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS expiry_told (link TEXT NOT NULL, expires_at INTEGER NOT NULL, PRIMARY KEY (link, expires_at));
CREATE TABLE IF NOT EXISTS digest_queue (day TEXT NOT NULL, gallery TEXT NOT NULL, body TEXT NOT NULL, sent INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (day, gallery));
";

/// Adds `n` events to the notice's row for this channel, or starts it (due at `due`).
/// `notice` carries the row's first event; later ones update the count, the last time, place,
/// device and detail (views used so far).
pub fn enqueue(sql: &SqlStorage, channel: &Channel, notice: &Notice, due: i64) -> Result<()> {
    let platform = channel.to.name();
    let key = format!("{}:{platform}:{}", notice.id, channel.url_secret);
    sql.exec(
        "INSERT INTO outbox (key, platform, url_secret, sign_secret, notice, count, last_at, place, device, detail, due)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT(key) DO UPDATE SET count = count + excluded.count, last_at = MAX(last_at, excluded.last_at),
           place = COALESCE(excluded.place, place), device = COALESCE(excluded.device, device), detail = COALESCE(excluded.detail, detail)",
        vec![
            V::from(key.as_str()),
            V::from(platform),
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

/// A row due for sending.
#[derive(Debug, Deserialize)]
pub struct Due {
    pub key: String,
    pub platform: String,
    pub url_secret: String,
    pub sign_secret: Option<String>,
    notice: String,
    count: i64,
    last_at: i64,
    place: Option<String>,
    device: Option<String>,
    detail: Option<String>,
    pub attempts: i64,
    pub first_try: Option<i64>,
}

impl Due {
    pub fn to(&self) -> Result<Platform> {
        Ok(serde_json::from_value(serde_json::Value::String(self.platform.clone()))?)
    }

    /// The notice as it stands: the first event's fields with the batch's count and latest.
    pub fn notice(&self) -> Result<Notice> {
        let mut n: Notice = serde_json::from_str(&self.notice)?;
        n.count = u32::try_from(self.count).unwrap_or(u32::MAX);
        n.last_at = self.last_at;
        n.place.clone_from(&self.place);
        n.device.clone_from(&self.device);
        n.detail.clone_from(&self.detail);
        Ok(n)
    }
}

/// At most `limit` rows due at `now`, oldest first.
pub fn due(sql: &SqlStorage, now: i64, limit: u32) -> Result<Vec<Due>> {
    sql.exec(
        "SELECT key, platform, url_secret, sign_secret, notice, count, last_at, place, device, detail, attempts, first_try
         FROM outbox WHERE due <= ? ORDER BY due LIMIT ?",
        vec![V::from(now), V::from(i64::from(limit))],
    )?
    .to_array()
}

#[derive(Deserialize)]
struct Next {
    due: Option<i64>,
}

/// When the next row is due, if any.
pub fn next_due(sql: &SqlStorage) -> Result<Option<i64>> {
    Ok(sql.exec("SELECT MIN(due) AS due FROM outbox", None)?.one::<Next>()?.due)
}

pub fn delivered(sql: &SqlStorage, key: &str) -> Result<()> {
    sql.exec("DELETE FROM outbox WHERE key = ?", vec![V::from(key)])?;
    Ok(())
}

/// A failed try: retried at `retry_at`, or given up (a dead letter) when `give_up`.
pub fn failed(sql: &SqlStorage, row: &Due, tried: &Tried, now: i64, retry_at: Option<i64>) -> Result<()> {
    let attempts = row.attempts + 1;
    let Some(at) = retry_at else {
        let notice = row.notice()?;
        sql.exec(
            "INSERT INTO dead_letters (notice_id, platform, url_secret, kind, link, at, attempts, status, reason) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            vec![
                V::from(notice.id.as_str()),
                V::from(row.platform.as_str()),
                V::from(row.url_secret.as_str()),
                V::from(notice.kind.name()),
                V::from(notice.link.as_ref().map_or("", |l| l.id.as_str())),
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
    platform: String,
    url_secret: String,
    kind: String,
    link: String,
    at: i64,
    attempts: i64,
    status: Option<i64>,
    reason: String,
}

/// What waits (notices to send, and on the digest coordinator the galleries still to be asked
/// for their digest), and the dead letters newest first.
pub fn status(sql: &SqlStorage) -> Result<gatefold_contract::admin::NotificationStatus> {
    let pending = sql.exec("SELECT (SELECT COUNT(*) FROM outbox) + (SELECT COUNT(*) FROM digest_queue WHERE sent = 0) AS n", None)?.one::<N>()?.n;
    let rows: Vec<DeadRow> = sql
        .exec("SELECT notice_id, platform, url_secret, kind, link, at, attempts, status, reason FROM dead_letters ORDER BY id DESC", None)?
        .to_array()?;
    let name = |s: String| serde_json::Value::String(s);
    let dead_letters = rows
        .into_iter()
        .map(|r| {
            Ok(DeadLetter {
                id: r.notice_id,
                to: serde_json::from_value(name(r.platform))?,
                url_secret: r.url_secret,
                kind: serde_json::from_value(name(r.kind))?,
                link: r.link,
                at: r.at,
                attempts: u32::try_from(r.attempts).unwrap_or(u32::MAX),
                status: r.status.and_then(|s| u16::try_from(s).ok()),
                reason: r.reason,
            })
        })
        .collect::<Result<Vec<_>>>()?;
    Ok(gatefold_contract::admin::NotificationStatus { pending: u64::try_from(pending).unwrap_or(0), dead_letters })
}

#[derive(Deserialize)]
struct Value {
    value: String,
}

pub fn meta(sql: &SqlStorage, key: &str) -> Result<Option<String>> {
    Ok(sql.exec("SELECT value FROM notify_meta WHERE key = ?", vec![V::from(key)])?.to_array::<Value>()?.into_iter().next().map(|v| v.value))
}

pub fn set_meta(sql: &SqlStorage, key: &str, value: &str) -> Result<()> {
    sql.exec(
        "INSERT INTO notify_meta (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
        vec![V::from(key), V::from(value)],
    )?;
    Ok(())
}

/// Whether `expires_soon` was already sent for this link and expiry; marks it told.
pub fn tell_expiry_once(sql: &SqlStorage, link: &str, expires_at: i64) -> Result<bool> {
    let before = sql.exec("SELECT COUNT(*) AS n FROM expiry_told WHERE link = ? AND expires_at = ?", vec![V::from(link), V::from(expires_at)])?.one::<N>()?.n;
    if before > 0 {
        return Ok(false);
    }
    sql.exec("INSERT INTO expiry_told (link, expires_at) VALUES (?, ?)", vec![V::from(link), V::from(expires_at)])?;
    Ok(true)
}
