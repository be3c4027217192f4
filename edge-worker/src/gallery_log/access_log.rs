//! The access log's room: the `events` table (its columns derived from `crate::access`'s one
//! definition of a row), the writes (aggregating repeats, pruning to the retention) and the
//! grouped reads behind statistics, activity and exports.

use super::Batch;
use super::rollup::{self, DimRow, HourRow, ImageRow, LinkActivity, LinkKindRow, Query, Rollup};
use crate::access::{ADMITTED, AccessEvent, COLUMNS, EventKind, wire_name};
use serde::{Deserialize, Serialize};
use worker::{Result, SqlStorage, SqlStorageValue as V};

/// Events are inserted in chunks of this many rows per statement-batch, keeping each request's
/// work bounded.
pub const MAX_EVENTS_PER_REQUEST: usize = 10_000;

/// Distinct aggregated rows one gallery's log takes per minute; past it, further aggregated
/// events of that minute fold into one overflow row per link, kind and outcome (visitor
/// [`OVERFLOW_VISITOR`]), so even rotating User-Agents and addresses cannot grow the log by
/// one row per request, while the counts stay exact.
pub const MAX_AGGREGATED_ROWS_PER_MINUTE: u32 = 100;
pub const OVERFLOW_VISITOR: &str = "(overflow)";

/// Old rows are deleted at most this often, and at most this many per write, so pruning
/// never makes one write slow.
pub const PRUNE_EVERY_MS: i64 = 3_600_000;
pub const PRUNE_BATCH: u32 = 10_000;

/// Rows per page when reading events for an export: one page is all the worker and the
/// object hold at a time.
pub const EXPORT_PAGE: u32 = 1_000;

const MINUTE_MS: i64 = 60_000;

/// Indexes every stats query starts from: (kind, outcome, ts) narrows to admitted opens in a
/// window without touching other rows, (link, ts) serves the per-link filter and finds the
/// row an aggregated event joins. Dimension columns sit in the row; grouping 100k rows by
/// them is a single pass. `meta` remembers when the log was last pruned.
const INDEXES: &str = "
CREATE INDEX IF NOT EXISTS events_kind_outcome_ts ON events(kind, outcome, ts);
CREATE INDEX IF NOT EXISTS events_link_ts ON events(link, ts);
CREATE INDEX IF NOT EXISTS events_ts ON events(ts);
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL);
";

/// A stored row as an export reads it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StoredEvent {
    pub id: i64,
    #[serde(flatten)]
    pub event: AccessEvent,
}

/// One page of a raw-event export.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ExportPage {
    pub query: Query,
    /// Rows with an id above this one.
    pub after_id: i64,
    pub limit: u32,
}

/// Which activity to read: ever (`within: None`) or in `[from_ms, to_ms)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct ActivityQuery {
    #[serde(default)]
    pub within: Option<(i64, i64)>,
}

#[derive(Deserialize)]
struct Count1 {
    n: u64,
}

#[derive(Deserialize)]
struct Id {
    id: i64,
}

fn column_names() -> String {
    COLUMNS.iter().map(|c| c.name).collect::<Vec<_>>().join(", ")
}

/// Creates the events table from [`COLUMNS`], and adds columns a log written by an earlier
/// version lacks (each new column has a default, so old rows stay valid).
pub fn create(sql: &SqlStorage) -> Result<()> {
    let defs: Vec<String> = COLUMNS.iter().map(|c| format!("{} {}", c.name, c.sql)).collect();
    sql.exec(&format!("CREATE TABLE IF NOT EXISTS events (id INTEGER PRIMARY KEY, {})", defs.join(", ")), None)?;
    #[derive(Deserialize)]
    struct Info {
        name: String,
    }
    let present: Vec<String> = sql.exec("PRAGMA table_info(events)", None)?.to_array::<Info>()?.into_iter().map(|i| i.name).collect();
    for c in COLUMNS.iter().filter(|c| !present.iter().any(|p| p == c.name)) {
        sql.exec(&format!("ALTER TABLE events ADD COLUMN {} {}", c.name, c.sql), None)?;
    }
    sql.exec(INDEXES, None)?;
    Ok(())
}

/// A JSON value of a serialised event as the SQL value of its column.
fn sql_value(v: &serde_json::Value) -> V {
    match v {
        serde_json::Value::Number(n) => n.as_i64().map_or_else(|| V::from(n.as_f64().unwrap_or_default()), V::from),
        serde_json::Value::String(s) => V::from(s.as_str()),
        serde_json::Value::Bool(b) => V::from(*b),
        _ => V::Null,
    }
}

/// Stores a batch, then prunes.
pub fn insert(sql: &SqlStorage, batch: &Batch) -> Result<()> {
    // Writes inside one request are committed together by the runtime, so a batch is stored
    // whole or not at all.
    for e in &batch.events {
        let e = e.clone().bounded();
        if e.aggregates() { add_to_minute(sql, e)? } else { insert_row(sql, &e)? }
    }
    prune(sql, batch.now_ms, batch.retention_days)
}

fn insert_row(sql: &SqlStorage, e: &AccessEvent) -> Result<()> {
    let json = serde_json::to_value(e)?;
    let values: Vec<V> = COLUMNS.iter().map(|c| sql_value(&json[c.name])).collect();
    let marks = vec!["?"; COLUMNS.len()].join(", ");
    sql.exec(&format!("INSERT INTO events ({}) VALUES ({marks})", column_names()), values)?;
    Ok(())
}

/// Adds an aggregating event to its visitor's row of the minute, or starts that row; past
/// the minute's row budget, to the minute's overflow row.
fn add_to_minute(sql: &SqlStorage, e: AccessEvent) -> Result<()> {
    let start = e.ts.div_euclid(MINUTE_MS) * MINUTE_MS;
    if let Some(id) = minute_row(sql, &e, start)? {
        sql.exec("UPDATE events SET count = count + ? WHERE id = ?", vec![V::from(i64::from(e.count)), V::from(id)])?;
        return Ok(());
    }
    let rows = sql
        .exec(
            "SELECT COUNT(*) AS n FROM events WHERE ts >= ? AND ts < ? AND NOT (kind = ? AND outcome = ?)",
            vec![V::from(start), V::from(start + MINUTE_MS), V::from(wire_name(&EventKind::Open)), V::from(ADMITTED)],
        )?
        .one::<Count1>()?
        .n;
    if rows < u64::from(MAX_AGGREGATED_ROWS_PER_MINUTE) || e.visitor == OVERFLOW_VISITOR {
        return insert_row(sql, &e);
    }
    let overflow = AccessEvent {
        visitor: OVERFLOW_VISITOR.into(),
        image: None,
        ip: None,
        country: None,
        region: None,
        city: None,
        timezone: None,
        asn: None,
        colo: None,
        referrer: None,
        device: "other".into(),
        os: "unknown".into(),
        browser: "unknown".into(),
        ..e
    };
    match minute_row(sql, &overflow, start)? {
        Some(id) => {
            sql.exec("UPDATE events SET count = count + ? WHERE id = ?", vec![V::from(i64::from(overflow.count)), V::from(id)])?;
            Ok(())
        }
        None => insert_row(sql, &overflow),
    }
}

fn minute_row(sql: &SqlStorage, e: &AccessEvent, start: i64) -> Result<Option<i64>> {
    let rows = sql
        .exec(
            "SELECT id FROM events WHERE link = ? AND ts >= ? AND ts < ? AND kind = ? AND outcome = ? AND visitor = ? AND image IS ? LIMIT 1",
            vec![
                V::from(e.link.as_str()),
                V::from(start),
                V::from(start + MINUTE_MS),
                V::from(wire_name(&e.kind)),
                V::from(e.outcome.as_str()),
                V::from(e.visitor.as_str()),
                V::from(e.image.clone()),
            ],
        )?
        .to_array::<Id>()?;
    Ok(rows.first().map(|r| r.id))
}

/// Deletes rows older than the retention, at most once per [`PRUNE_EVERY_MS`] and
/// [`PRUNE_BATCH`] rows at a time (a backlog is worked off by the next writes).
fn prune(sql: &SqlStorage, now_ms: i64, retention_days: u32) -> Result<()> {
    let last = sql.exec("SELECT value AS id FROM meta WHERE key = 'pruned_at'", None)?.to_array::<Id>()?.first().map_or(i64::MIN, |r| r.id);
    if now_ms.saturating_sub(last) < PRUNE_EVERY_MS {
        return Ok(());
    }
    let cutoff = now_ms - i64::from(retention_days) * 86_400_000;
    sql.exec("DELETE FROM events WHERE id IN (SELECT id FROM events WHERE ts < ? ORDER BY ts LIMIT ?)", vec![V::from(cutoff), V::from(i64::from(PRUNE_BATCH))])?;
    let left = sql.exec("SELECT COUNT(*) AS n FROM (SELECT 1 FROM events WHERE ts < ? LIMIT 1)", vec![V::from(cutoff)])?.one::<Count1>()?.n;
    if left == 0 {
        sql.exec(
            "INSERT INTO meta (key, value) VALUES ('pruned_at', ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
            vec![V::from(now_ms)],
        )?;
    }
    Ok(())
}

/// `WHERE` clause and bindings for a query's window and link filter.
fn window(q: &Query) -> (String, Vec<V>) {
    let mut clause = String::from("ts >= ? AND ts < ?");
    let mut binds = vec![V::from(q.from_ms), V::from(q.to_ms)];
    if let Some(link) = &q.link {
        clause.push_str(" AND link = ?");
        binds.push(V::from(link.as_str()));
    }
    (clause, binds)
}

/// The grouped counts of a stats query (see [`rollup`] for what becomes of them).
pub fn rollup(sql: &SqlStorage, q: &Query) -> Result<Rollup> {
    let (w, b) = window(q);
    // Kinds and outcomes are bound, never spliced: their names come from serde.
    let with = |extra: &[V]| b.iter().cloned().chain(extra.iter().cloned()).collect::<Vec<V>>();
    let admitted_open = [V::from(wire_name(&EventKind::Open)), V::from(ADMITTED)];
    let admitted_opens = format!("{w} AND kind = ? AND outcome = ?");
    let mut out = Rollup {
        by_link: sql
            .exec(&format!("SELECT link, kind, outcome, SUM(count) AS n FROM events WHERE {w} GROUP BY link, kind, outcome"), b.clone())?
            .to_array::<LinkKindRow>()?,
        local_hours: sql
            .exec(&format!("SELECT {} AS hour, SUM(count) AS n FROM events WHERE {admitted_opens} GROUP BY hour", q.local_hour_sql()), with(&admitted_open))?
            .to_array::<HourRow>()?,
        unique_visitors: sql.exec(&format!("SELECT COUNT(DISTINCT visitor) AS n FROM events WHERE {admitted_opens}"), with(&admitted_open))?.one::<Count1>()?.n,
        images: sql
            .exec(
                &format!("SELECT image, kind, SUM(count) AS n FROM events WHERE {w} AND kind IN (?, ?) AND outcome = ? GROUP BY image, kind"),
                with(&[V::from(wire_name(&EventKind::ImageView)), V::from(wire_name(&EventKind::Download)), V::from(ADMITTED)]),
            )?
            .to_array::<ImageRow>()?,
        ..Rollup::default()
    };
    let dims = sql
        .exec(
            &format!(
                "SELECT country, city, device, os, browser, referrer, SUM(count) AS n FROM events WHERE {admitted_opens}
                 GROUP BY country, city, device, os, browser, referrer"
            ),
            with(&admitted_open),
        )?
        .to_array::<DimRow>()?;
    rollup::split_dims(dims, &mut out);
    out.activity = activity(sql, q.link.as_deref(), None)?;
    Ok(out)
}

/// Every link's (or one link's) admitted opens and downloads, first and last open, ever or
/// within `[from_ms, to_ms)`: one grouped pass, whatever the number of links. A ZIP of
/// everything is a download too.
pub fn activity(sql: &SqlStorage, link: Option<&str>, within: Option<(i64, i64)>) -> Result<Vec<LinkActivity>> {
    let [open, download, all] = [EventKind::Open, EventKind::Download, EventKind::DownloadAll].map(|k| wire_name(&k));
    let (open, download, all) = (open.as_str(), download.as_str(), all.as_str());
    let mut binds: Vec<V> = [open, download, all, open, open, ADMITTED, open, download, all].into_iter().map(V::from).collect();
    let mut only = String::new();
    if let Some(l) = link {
        binds.push(V::from(l));
        only.push_str(" AND link = ?");
    }
    if let Some((from_ms, to_ms)) = within {
        binds.extend([V::from(from_ms), V::from(to_ms)]);
        only.push_str(" AND ts >= ? AND ts < ?");
    }
    sql.exec(
        &format!(
            "SELECT link, SUM(CASE WHEN kind = ? THEN count ELSE 0 END) AS opens, SUM(CASE WHEN kind IN (?, ?) THEN count ELSE 0 END) AS downloads,
               MIN(CASE WHEN kind = ? THEN ts END) AS first_ms, MAX(CASE WHEN kind = ? THEN ts END) AS last_ms
             FROM events WHERE outcome = ? AND kind IN (?, ?, ?){only} GROUP BY link"
        ),
        binds,
    )?
    .to_array()
}

/// One page of rows in a query's window, oldest first.
pub fn export(sql: &SqlStorage, page: &ExportPage) -> Result<Vec<StoredEvent>> {
    let (w, mut b) = window(&page.query);
    b.push(V::from(page.after_id));
    b.push(V::from(i64::from(page.limit.min(EXPORT_PAGE))));
    sql.exec(&format!("SELECT id, {} FROM events WHERE {w} AND id > ? ORDER BY id LIMIT ?", column_names()), b)?.to_array()
}
