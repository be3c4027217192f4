//! The `GalleryLog` Durable Object (wasm only): SQLite schema, inserts and grouped queries.

use super::rollup::{self, DimRow, HourRow, ImageRow, LinkActivity, LinkKindRow, Query, Rollup};
use super::throttle::{self, AuthAnswer, AuthRequest};
use super::{Batch, ExportPage, MAX_AGGREGATED_ROWS_PER_MINUTE, MAX_EVENTS_PER_REQUEST, OVERFLOW_VISITOR, Op, PRUNE_BATCH, PRUNE_EVERY_MS, StoredEvent};
use crate::access::{ADMITTED, AccessEvent, COLUMNS, EventKind, wire_name};
use crate::notify::{self, outbox};
use crate::notify::digest::{DigestPlan, DigestRequest, FAN_OUT};
use gatefold_contract::manifest::Gallery;
use gatefold_contract::notify::{Digest, DigestLink, NotifyKind};
use gatefold_contract::admin::{AUDIT_PAGE_MAX, AuditEntry, AuditLog};
use serde::Deserialize;
use std::rc::Rc;
use worker::{DurableObject, Env, Method, Request, Response, Result, SqlStorage, SqlStorageValue as V, State, durable_object};

/// Indexes every stats query starts from: (kind, outcome, ts) narrows to admitted opens in a
/// window without touching other rows, (link, ts) serves the per-link filter and finds the
/// row an aggregated event joins. Dimension columns sit in the row; grouping 100k rows by
/// them is a single pass.
const INDEXES: &str = "
CREATE INDEX IF NOT EXISTS events_kind_outcome_ts ON events(kind, outcome, ts);
CREATE INDEX IF NOT EXISTS events_link_ts ON events(link, ts);
CREATE INDEX IF NOT EXISTS events_ts ON events(ts);
CREATE TABLE IF NOT EXISTS auth_failures (ip TEXT PRIMARY KEY, failures INTEGER NOT NULL, last_failure INTEGER NOT NULL);
CREATE INDEX IF NOT EXISTS auth_failures_last ON auth_failures(last_failure);
DROP TABLE IF EXISTS auth_budget;
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS audit (id INTEGER PRIMARY KEY, at INTEGER NOT NULL, action TEXT NOT NULL, target TEXT NOT NULL,
  before TEXT, after TEXT, ip TEXT, device TEXT);
CREATE INDEX IF NOT EXISTS audit_at ON audit(at);
";

/// The largest request the worker sends its logs: a batch of [`MAX_EVENTS_PER_REQUEST`] events,
/// each field capped (`access_event!`), stays well under it.
const LOG_BODY_BYTES: usize = 32 * 1024 * 1024;

fn column_names() -> String {
    COLUMNS.iter().map(|c| c.name).collect::<Vec<_>>().join(", ")
}

/// Creates the events table from [`COLUMNS`], and adds columns a log written by an earlier
/// version lacks (each new column has a default, so old rows stay valid).
fn migrate(sql: &SqlStorage) -> Result<()> {
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
    // Who acted (issue 18): audit logs written before it lack the column.
    let audit: Vec<String> = sql.exec("PRAGMA table_info(audit)", None)?.to_array::<Info>()?.into_iter().map(|i| i.name).collect();
    if !audit.iter().any(|c| c == "actor") {
        sql.exec("ALTER TABLE audit ADD COLUMN actor TEXT", None)?;
    }
    sql.exec(crate::notify::outbox::SCHEMA, None)?;
    Ok(())
}

#[durable_object]
pub struct GalleryLog {
    sql: SqlStorage,
    state: State,
    env: Env,
}

impl DurableObject for GalleryLog {
    fn new(state: State, env: Env) -> Self {
        let sql = state.storage().sql();
        if let Err(e) = migrate(&sql) {
            worker::console_error!("GalleryLog: creating the schema failed: {e}");
        }
        Self { sql, state, env }
    }

    /// Sends the notifications that are due (and, on the coordinator, asks the next galleries
    /// for their digest), then sets the alarm for what is left.
    async fn alarm(&self) -> Result<Response> {
        let now = worker::Date::now().as_millis() as i64;
        if let Err(e) = self.fan_out_digests().await {
            worker::console_error!("digest fan-out: {e}");
        }
        // A run that could not work (the site's records unreadable) waits a retry delay
        // rather than firing again at once for rows that are still due.
        let mut not_before = now;
        if let Err(e) = self.deliver(now).await {
            worker::console_error!("notifications: {e}");
            not_before = now + notify::retry_ms(&self.env);
        }
        self.rearm(not_before).await?;
        Response::empty()
    }

    async fn fetch(&self, mut req: Request) -> Result<Response> {
        let Some(op) = Op::from_path(&req.path()) else { return Response::error("unknown GalleryLog operation", 404) };
        // The audit log is read with GET (its window in the query); everything else is POST.
        if op == Op::Audit && req.method() == Method::Get {
            let q: std::collections::HashMap<String, String> = req.url()?.query_pairs().into_owned().collect();
            let ms = |k: &str, default: i64| q.get(k).map_or(Ok(default), |v| v.parse::<i64>().map_err(|_| worker::Error::RustError(format!("audit query `{k}`: {v:?} is not Unix ms"))));
            return Response::from_json(&self.audit(ms("from", 0)?, ms("to", i64::MAX)?)?);
        }
        if req.method() != Method::Post {
            return Response::error("GalleryLog takes POST (and GET for /audit)", 405);
        }
        // serde_json on the text, not `req.json()`: JavaScript's JSON.parse would turn large
        // integers (offset table sentinels, 64-bit ids) into lossy floats.
        let Ok(body) = crate::http::read_body(&mut req, LOG_BODY_BYTES).await? else {
            return Response::error(format!("a GalleryLog request is at most {LOG_BODY_BYTES} bytes"), 413);
        };
        let body = String::from_utf8(body).map_err(|_| worker::Error::RustError("a GalleryLog request must be UTF-8 JSON".into()))?;
        match op {
            Op::Events => {
                let batch: Batch = serde_json::from_str(&body)?;
                if batch.events.len() > MAX_EVENTS_PER_REQUEST {
                    return Response::error(format!("at most {MAX_EVENTS_PER_REQUEST} events per request"), 413);
                }
                self.insert(&batch)?;
                // Stored first: a notification problem never loses the event.
                if let Err(e) = self.notify_events(&batch).await {
                    worker::console_error!("notifications: could not enqueue for {:?}: {e}", batch.gallery);
                }
                Ok(Response::empty()?.with_status(204))
            }
            Op::Stats => Response::from_json(&self.rollup(&serde_json::from_str(&body)?)?),
            Op::Export => Response::from_json(&self.export(&serde_json::from_str(&body)?)?),
            Op::Activity => Response::from_json(&self.activity(None)?),
            Op::Audit => {
                let q: std::collections::HashMap<String, String> = req.url()?.query_pairs().into_owned().collect();
                let retention_days = q.get("retention_days").and_then(|v| v.parse::<u32>().ok()).ok_or_else(|| worker::Error::RustError("POST /audit needs ?retention_days=N".into()))?;
                let entry = super::audit::bounded(serde_json::from_str(&body)?);
                self.record_audit(&entry, retention_days)?;
                // Told after the row is stored: a failed notice never loses the record.
                if let Err(e) = notify::on_owner_action(self, &entry).await {
                    worker::console_error!("notifying the owner action {} on {}: {e}", entry.action, entry.target);
                }
                Ok(Response::empty()?.with_status(204))
            }
            Op::SignInAttempt => Response::from_json(&self.attempt(&serde_json::from_str(&body)?)?),
            Op::Digest => {
                self.digest(&serde_json::from_str(&body)?).await?;
                Ok(Response::empty()?.with_status(204))
            }
            Op::DigestPlan => {
                self.plan_digests(&serde_json::from_str(&body)?).await?;
                Ok(Response::empty()?.with_status(204))
            }
            Op::Notifications => Response::from_json(&outbox::status(&self.sql)?),
            Op::PasswordAttack => {
                self.password_attack(&serde_json::from_str(&body)?).await?;
                Ok(Response::empty()?.with_status(204))
            }
        }
    }
}

#[derive(Deserialize)]
struct Count1 {
    n: u64,
}

#[derive(Deserialize)]
struct Id {
    id: i64,
}

#[derive(Deserialize)]
struct FailureRow {
    failures: u32,
    last_failure: i64,
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

const MINUTE_MS: i64 = 60_000;

#[derive(Deserialize)]
struct AuditRow {
    at: i64,
    action: String,
    target: String,
    before: Option<String>,
    after: Option<String>,
    ip: Option<String>,
    device: Option<String>,
    actor: Option<String>,
}

impl GalleryLog {
    fn insert(&self, batch: &Batch) -> Result<()> {
        // Writes inside one request are committed together by the runtime, so a batch is stored
        // whole or not at all.
        for e in &batch.events {
            let e = e.clone().bounded();
            if e.aggregates() { self.add_to_minute(e)? } else { self.insert_row(&e)? }
        }
        self.prune(batch.now_ms, batch.retention_days)
    }

    fn insert_row(&self, e: &AccessEvent) -> Result<()> {
        let json = serde_json::to_value(e)?;
        let values: Vec<V> = COLUMNS.iter().map(|c| sql_value(&json[c.name])).collect();
        let marks = vec!["?"; COLUMNS.len()].join(", ");
        self.sql.exec(&format!("INSERT INTO events ({}) VALUES ({marks})", column_names()), values)?;
        Ok(())
    }

    /// Adds an aggregating event to its visitor's row of the minute, or starts that row; past
    /// the minute's row budget, to the minute's overflow row.
    fn add_to_minute(&self, e: AccessEvent) -> Result<()> {
        let start = e.ts.div_euclid(MINUTE_MS) * MINUTE_MS;
        if let Some(id) = self.minute_row(&e, start)? {
            self.sql.exec("UPDATE events SET count = count + ? WHERE id = ?", vec![V::from(i64::from(e.count)), V::from(id)])?;
            return Ok(());
        }
        let rows = self
            .sql
            .exec(
                "SELECT COUNT(*) AS n FROM events WHERE ts >= ? AND ts < ? AND NOT (kind = ? AND outcome = ?)",
                vec![V::from(start), V::from(start + MINUTE_MS), V::from(wire_name(&EventKind::Open)), V::from(ADMITTED)],
            )?
            .one::<Count1>()?
            .n;
        if rows < u64::from(MAX_AGGREGATED_ROWS_PER_MINUTE) || e.visitor == OVERFLOW_VISITOR {
            return self.insert_row(&e);
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
        match self.minute_row(&overflow, start)? {
            Some(id) => {
                self.sql.exec("UPDATE events SET count = count + ? WHERE id = ?", vec![V::from(i64::from(overflow.count)), V::from(id)])?;
                Ok(())
            }
            None => self.insert_row(&overflow),
        }
    }

    fn minute_row(&self, e: &AccessEvent, start: i64) -> Result<Option<i64>> {
        let rows = self
            .sql
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
    fn prune(&self, now_ms: i64, retention_days: u32) -> Result<()> {
        let last = self.sql.exec("SELECT value AS id FROM meta WHERE key = 'pruned_at'", None)?.to_array::<Id>()?.first().map_or(i64::MIN, |r| r.id);
        if now_ms.saturating_sub(last) < PRUNE_EVERY_MS {
            return Ok(());
        }
        let cutoff = now_ms - i64::from(retention_days) * 86_400_000;
        self.sql.exec(
            "DELETE FROM events WHERE id IN (SELECT id FROM events WHERE ts < ? ORDER BY ts LIMIT ?)",
            vec![V::from(cutoff), V::from(i64::from(PRUNE_BATCH))],
        )?;
        let left = self.sql.exec("SELECT COUNT(*) AS n FROM (SELECT 1 FROM events WHERE ts < ? LIMIT 1)", vec![V::from(cutoff)])?.one::<Count1>()?.n;
        if left == 0 {
            self.sql.exec(
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

    fn rollup(&self, q: &Query) -> Result<Rollup> {
        let (w, b) = Self::window(q);
        // Kinds and outcomes are bound, never spliced: their names come from serde.
        let with = |extra: &[V]| b.iter().cloned().chain(extra.iter().cloned()).collect::<Vec<V>>();
        let admitted_open = [V::from(wire_name(&EventKind::Open)), V::from(ADMITTED)];
        let admitted_opens = format!("{w} AND kind = ? AND outcome = ?");
        let mut out = Rollup {
            by_link: self
                .sql
                .exec(&format!("SELECT link, kind, outcome, SUM(count) AS n FROM events WHERE {w} GROUP BY link, kind, outcome"), b.clone())?
                .to_array::<LinkKindRow>()?,
            local_hours: self
                .sql
                .exec(&format!("SELECT {} AS hour, SUM(count) AS n FROM events WHERE {admitted_opens} GROUP BY hour", q.local_hour_sql()), with(&admitted_open))?
                .to_array::<HourRow>()?,
            unique_visitors: self
                .sql
                .exec(&format!("SELECT COUNT(DISTINCT visitor) AS n FROM events WHERE {admitted_opens}"), with(&admitted_open))?
                .one::<Count1>()?
                .n,
            images: self
                .sql
                .exec(
                    &format!("SELECT image, kind, SUM(count) AS n FROM events WHERE {w} AND kind IN (?, ?) AND outcome = ? GROUP BY image, kind"),
                    with(&[V::from(wire_name(&EventKind::ImageView)), V::from(wire_name(&EventKind::Download)), V::from(ADMITTED)]),
                )?
                .to_array::<ImageRow>()?,
            ..Rollup::default()
        };
        let dims = self
            .sql
            .exec(
                &format!(
                    "SELECT country, city, device, os, browser, referrer, SUM(count) AS n FROM events WHERE {admitted_opens}
                     GROUP BY country, city, device, os, browser, referrer"
                ),
                with(&admitted_open),
            )?
            .to_array::<DimRow>()?;
        rollup::split_dims(dims, &mut out);
        out.activity = self.activity(q.link.as_deref())?;
        Ok(out)
    }

    /// Every link's (or one link's) admitted opens and downloads ever, first and last open:
    /// one grouped pass, whatever the number of links. A ZIP of everything is a download too.
    fn activity(&self, link: Option<&str>) -> Result<Vec<LinkActivity>> {
        let [open, download, all] = [EventKind::Open, EventKind::Download, EventKind::DownloadAll].map(|k| wire_name(&k));
        let (open, download, all) = (open.as_str(), download.as_str(), all.as_str());
        let mut binds: Vec<V> = [open, download, all, open, open, ADMITTED, open, download, all].into_iter().map(V::from).collect();
        let only = link.map_or("", |l| {
            binds.push(V::from(l));
            " AND link = ?"
        });
        self.sql
            .exec(
                &format!(
                    "SELECT link, SUM(CASE WHEN kind = ? THEN count ELSE 0 END) AS opens, SUM(CASE WHEN kind IN (?, ?) THEN count ELSE 0 END) AS downloads,
                       MIN(CASE WHEN kind = ? THEN ts END) AS first_ms, MAX(CASE WHEN kind = ? THEN ts END) AS last_ms
                     FROM events WHERE outcome = ? AND kind IN (?, ?, ?){only} GROUP BY link"
                ),
                binds,
            )?
            .to_array()
    }

    fn export(&self, page: &ExportPage) -> Result<Vec<StoredEvent>> {
        let (w, mut b) = Self::window(&page.query);
        b.push(V::from(page.after_id));
        b.push(V::from(i64::from(page.limit.min(super::EXPORT_PAGE))));
        self.sql
            .exec(&format!("SELECT id, {} FROM events WHERE {w} AND id > ? ORDER BY id LIMIT ?", column_names()), b)?
            .to_array()
    }

    /// Stores one owner action, and drops entries older than the access log's retention (the
    /// audit log is small: a few rows per owner action, pruned at each write).
    fn record_audit(&self, e: &AuditEntry, retention_days: u32) -> Result<()> {
        self.sql.exec(
            "INSERT INTO audit (at, action, target, before, after, ip, device, actor) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            vec![
                V::from(e.at),
                V::from(e.action.as_str()),
                V::from(e.target.as_str()),
                V::from(e.before.clone()),
                V::from(e.after.clone()),
                V::from(e.ip.clone()),
                V::from(e.device.clone()),
                V::from(e.actor.clone()),
            ],
        )?;
        let cutoff = e.at - i64::from(retention_days) * 86_400_000;
        self.sql.exec("DELETE FROM audit WHERE at < ?", vec![V::from(cutoff)])?;
        Ok(())
    }

    /// Owner actions in `[from, to)` (Unix ms), newest first, at most [`AUDIT_PAGE_MAX`].
    fn audit(&self, from: i64, to: i64) -> Result<AuditLog> {
        let rows = self
            .sql
            .exec(
                "SELECT at, action, target, before, after, ip, device, actor FROM audit WHERE at >= ? AND at < ? ORDER BY at DESC, id DESC LIMIT ?",
                vec![V::from(from), V::from(to), V::from(i64::from(AUDIT_PAGE_MAX))],
            )?
            .to_array::<AuditRow>()?;
        let entries = rows
            .into_iter()
            .map(|r| AuditEntry { at: r.at, action: r.action, target: r.target, before: r.before, after: r.after, ip: r.ip, device: r.device, actor: r.actor })
            .collect();
        Ok(AuditLog { entries })
    }

    fn failures(&self, ip: &str) -> Result<Option<FailureRow>> {
        Ok(self
            .sql
            .exec("SELECT failures, last_failure FROM auth_failures WHERE ip = ?", vec![V::from(ip)])?
            .to_array::<FailureRow>()?
            .into_iter()
            .next())
    }

    /// The throttle's decision and its booking in one step: the object handles one request
    /// at a time, so no other try can slip in between (see `throttle`).
    fn attempt(&self, a: &AuthRequest) -> Result<AuthAnswer> {
        let own = self.failures(&a.network)?.map(|f| (f.failures, f.last_failure));
        match throttle::decide(own, a.correct, a.now) {
            Err(wait) => return Ok(AuthAnswer { retry_after: wait }),
            Ok(None) if own.is_some() => {
                self.sql.exec("DELETE FROM auth_failures WHERE ip = ?", vec![V::from(a.network.as_str())])?;
            }
            Ok(None) => {}
            Ok(Some(failures)) => {
                // Each write forgets what no wait counts any more and keeps the table bounded,
                // however many networks guess (see `throttle::MAX_NETWORKS_KEPT`).
                self.sql.exec("DELETE FROM auth_failures WHERE last_failure <= ?", vec![V::from(a.now - throttle::FORGET_AFTER_SECONDS)])?;
                self.sql.exec(
                    "DELETE FROM auth_failures WHERE ip IN (SELECT ip FROM auth_failures ORDER BY last_failure DESC LIMIT -1 OFFSET ?)",
                    vec![V::from(throttle::MAX_NETWORKS_KEPT as i64 - 1)],
                )?;
                self.sql.exec(
                    "INSERT INTO auth_failures (ip, failures, last_failure) VALUES (?, ?, ?)
                     ON CONFLICT(ip) DO UPDATE SET failures = excluded.failures, last_failure = excluded.last_failure",
                    vec![V::from(a.network.as_str()), V::from(i64::from(failures)), V::from(a.now)],
                )?;
            }
        }
        Ok(AuthAnswer { retry_after: 0 })
    }
}

mod notifications;
