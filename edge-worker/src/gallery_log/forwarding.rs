//! The gallery's forwarding flags (`flags`): the latest "possibly forwarded" flag of each link
//! its `LinkGate` reported (once per link and day), kept here so the follow-up panel, the
//! daily digest and the exports read every link's flag in one query instead of asking each
//! link's object.

use gatefold_contract::devices::Forwarding;
use serde::Deserialize;
use std::collections::BTreeMap;
use worker::{Result, SqlStorage, SqlStorageValue};

/// One row per flagged link: when it was last reported and its evidence
/// (`contract::devices::Forwarding` as JSON).
const SCHEMA: &str = "CREATE TABLE IF NOT EXISTS forwarding_flags (
    link TEXT PRIMARY KEY,
    at INTEGER NOT NULL,
    evidence TEXT NOT NULL)";

/// Flags kept per gallery (a gallery holds at most a few thousand links).
const MAX_FLAGS: i64 = 5_000;

pub fn create(sql: &SqlStorage) -> Result<()> {
    sql.exec(SCHEMA, None)?;
    Ok(())
}

/// Stores a link's new flag (replacing its older one), bounded to the newest [`MAX_FLAGS`].
pub fn record(sql: &SqlStorage, link: &str, flag: &Forwarding) -> Result<()> {
    sql.exec(
        "INSERT INTO forwarding_flags (link, at, evidence) VALUES (?, ?, ?)
         ON CONFLICT(link) DO UPDATE SET at = excluded.at, evidence = excluded.evidence",
        vec![SqlStorageValue::String(link.to_string()), SqlStorageValue::Integer(flag.at), SqlStorageValue::String(serde_json::to_string(flag)?)],
    )?;
    sql.exec(
        "DELETE FROM forwarding_flags WHERE link NOT IN (SELECT link FROM forwarding_flags ORDER BY at DESC LIMIT ?)",
        vec![SqlStorageValue::Integer(MAX_FLAGS)],
    )?;
    Ok(())
}

#[derive(Deserialize)]
struct Row {
    link: String,
    evidence: String,
}

/// Every flagged link's latest flag, by link name (unreadable rows left out).
pub fn all(sql: &SqlStorage) -> Result<BTreeMap<String, Forwarding>> {
    let rows: Vec<Row> = sql.exec("SELECT link, evidence FROM forwarding_flags", None)?.to_array()?;
    Ok(rows.into_iter().filter_map(|r| serde_json::from_str(&r.evidence).ok().map(|f| (r.link, f))).collect())
}

/// The flags reported from `from` (Unix seconds) on, by link name: the digest's day.
pub fn since(sql: &SqlStorage, from: i64) -> Result<BTreeMap<String, Forwarding>> {
    Ok(all(sql)?.into_iter().filter(|(_, f)| f.at >= from).collect())
}
