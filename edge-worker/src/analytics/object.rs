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
CREATE TABLE IF NOT EXISTS auth_budget (id INTEGER PRIMARY KEY CHECK (id = 1), spent REAL NOT NULL, at INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS audit (id INTEGER PRIMARY KEY, at INTEGER NOT NULL, action TEXT NOT NULL, target TEXT NOT NULL,
  before TEXT, after TEXT, ip TEXT, device TEXT);
CREATE INDEX IF NOT EXISTS audit_at ON audit(at);
";

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
        let body = req.text().await?;
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
            Op::SignedIn => {
                let a: AuthRequest = serde_json::from_str(&body)?;
                self.signed_in(&a)?;
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

#[derive(Deserialize)]
struct BudgetRow {
    spent: f64,
    at: i64,
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
            "INSERT INTO audit (at, action, target, before, after, ip, device) VALUES (?, ?, ?, ?, ?, ?, ?)",
            vec![
                V::from(e.at),
                V::from(e.action.as_str()),
                V::from(e.target.as_str()),
                V::from(e.before.clone()),
                V::from(e.after.clone()),
                V::from(e.ip.clone()),
                V::from(e.device.clone()),
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
                "SELECT at, action, target, before, after, ip, device FROM audit WHERE at >= ? AND at < ? ORDER BY at DESC, id DESC LIMIT ?",
                vec![V::from(from), V::from(to), V::from(i64::from(AUDIT_PAGE_MAX))],
            )?
            .to_array::<AuditRow>()?;
        let entries = rows
            .into_iter()
            .map(|r| AuditEntry { at: r.at, action: r.action, target: r.target, before: r.before, after: r.after, ip: r.ip, device: r.device })
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

    fn budget_spent(&self, now: i64) -> Result<f64> {
        let row = self.sql.exec("SELECT spent, at FROM auth_budget WHERE id = 1", None)?.to_array::<BudgetRow>()?.into_iter().next();
        Ok(row.map_or(0.0, |b| throttle::global_spent(b.spent, b.at, now)))
    }

    fn set_budget(&self, spent: f64, now: i64) -> Result<()> {
        self.sql.exec(
            "INSERT INTO auth_budget (id, spent, at) VALUES (1, ?, ?) ON CONFLICT(id) DO UPDATE SET spent = excluded.spent, at = excluded.at",
            vec![V::from(spent), V::from(now)],
        )?;
        Ok(())
    }

    /// Check and booking in one step: the object handles one request at a time, so no other
    /// try can slip in between.
    fn attempt(&self, a: &AuthRequest) -> Result<AuthAnswer> {
        let own = self.failures(&a.ip)?;
        let own_wait = own.as_ref().map_or(0, |f| throttle::retry_after(f.failures, f.last_failure, a.now));
        if own_wait > 0 {
            return Ok(AuthAnswer { retry_after: own_wait, everyone: false });
        }
        let spent = self.budget_spent(a.now)?;
        let global_wait = throttle::global_wait(spent);
        if global_wait > 0 {
            return Ok(AuthAnswer { retry_after: global_wait, everyone: true });
        }
        let failures = own.map_or(1, |f| throttle::next_failures(f.failures, f.last_failure, a.now));
        self.sql.exec(
            "INSERT INTO auth_failures (ip, failures, last_failure) VALUES (?, ?, ?)
             ON CONFLICT(ip) DO UPDATE SET failures = excluded.failures, last_failure = excluded.last_failure",
            vec![V::from(a.ip.as_str()), V::from(i64::from(failures)), V::from(a.now)],
        )?;
        self.set_budget(spent + 1.0, a.now)?;
        Ok(AuthAnswer { retry_after: 0, everyone: false })
    }

    /// A right token: the address starts afresh and its booked try goes back to the budget.
    fn signed_in(&self, a: &AuthRequest) -> Result<()> {
        self.sql.exec("DELETE FROM auth_failures WHERE ip = ?", vec![V::from(a.ip.as_str())])?;
        let spent = self.budget_spent(a.now)?;
        self.set_budget((spent - 1.0).max(0.0), a.now)
    }
}

#[derive(Deserialize)]
struct DayCount {
    link: String,
    kind: String,
    n: i64,
}

#[derive(Deserialize)]
struct Queued {
    gallery: String,
    body: String,
}

/// Notices the alarm sends per run (each is one subrequest).
const SEND_PER_ALARM: u32 = 25;

/// Notifications: the outbox, its alarm, the digest.
impl GalleryLog {
    async fn site(&self) -> Result<Rc<crate::site::Deployment>> {
        crate::site::load(&self.env).await.map_err(worker::Error::RustError)
    }

    async fn gallery(&self, site: &crate::site::Deployment, id: &str) -> Result<Option<Rc<Gallery>>> {
        site.gallery(&self.env, id).await.map_err(worker::Error::RustError)
    }

    /// Sets the alarm for `at` (Unix ms) unless one is set earlier.
    async fn arm(&self, at: i64) -> Result<()> {
        let storage = self.state.storage();
        if storage.get_alarm().await?.is_some_and(|set| set <= at) {
            return Ok(());
        }
        let now = worker::Date::now().as_millis() as i64;
        storage.set_alarm((at - now).max(0)).await
    }

    /// The alarm for the next due notice or queued digest, if any, no sooner than `not_before`.
    async fn rearm(&self, not_before: i64) -> Result<()> {
        #[derive(Deserialize)]
        struct C {
            n: i64,
        }
        let queued = self.sql.exec("SELECT COUNT(*) AS n FROM digest_queue WHERE sent = 0", None)?.one::<C>()?.n;
        let next = outbox::next_due(&self.sql)?;
        let now = worker::Date::now().as_millis() as i64;
        let at = match (queued > 0, next) {
            (true, _) => Some(now),
            (false, next) => next,
        };
        let storage = self.state.storage();
        match at {
            Some(at) => storage.set_alarm((at.max(not_before) - now).max(0)).await,
            None => Ok(()),
        }
    }

    /// Which notifications the batch's events stand for, into the outbox of every channel of
    /// their link that wants them, one row per link, kind and window.
    async fn notify_events(&self, batch: &super::Batch) -> Result<()> {
        let Some(gallery_id) = &batch.gallery else { return Ok(()) };
        let todo: Vec<(&AccessEvent, Vec<NotifyKind>)> =
            batch.events.iter().map(|e| (e, notify::kinds(e, batch.views))).filter(|(_, k)| !k.is_empty()).collect();
        if todo.is_empty() {
            return Ok(());
        }
        let site = self.site().await?;
        let Some(gallery) = self.gallery(&site, gallery_id).await? else { return Ok(()) };
        let window_ms = notify::batch_ms(&self.env);
        let mut earliest: Option<i64> = None;
        for (e, kinds) in todo {
            let Some(link) = gallery.links.get(&e.link) else { continue };
            for kind in kinds {
                let channels: Vec<_> = notify::wanting(&gallery, Some(link), kind).collect();
                if channels.is_empty() {
                    continue;
                }
                let window = notify::window_start(e.ts, window_ms);
                let mut n = notify::notice(&site.settings, &gallery, Some(notify::notice_link(&gallery, link)), kind, window, e.ts);
                n.count = e.count;
                n.place = notify::place(e);
                n.device = Some(notify::device(e));
                n.detail = match (kind, batch.views) {
                    (NotifyKind::DeniedAfterClose, _) => Some(e.outcome.clone()),
                    (_, Some(v)) if e.kind == EventKind::Open => v.max_views.map(|m| notify::views_detail(site.settings.default_locale, v.view_number, m)),
                    _ => None,
                };
                let due = window + window_ms;
                for c in channels {
                    outbox::enqueue(&self.sql, c, &n, due)?;
                }
                earliest = Some(earliest.map_or(due, |d: i64| d.min(due)));
            }
        }
        if let Some(at) = earliest {
            self.arm(at).await?;
        }
        Ok(())
    }

    /// An owner action on the gallery, an audience or a link, for the channels that want it.
    pub async fn owner_action(&self, entry: &gatefold_contract::admin::AuditEntry) -> Result<()> {
        let (gallery_id, rest) = entry.target.split_once('/').map_or((entry.target.as_str(), None), |(g, r)| (g, Some(r)));
        let site = self.site().await?;
        let Some(gallery) = self.gallery(&site, gallery_id).await? else { return Ok(()) };
        let link = rest.and_then(|r| gallery.links.get(r));
        let channels: Vec<_> = notify::wanting(&gallery, link, NotifyKind::OwnerAction).collect();
        if channels.is_empty() {
            return Ok(());
        }
        let about = match (link, rest) {
            (Some(l), _) => Some(notify::notice_link(&gallery, l)),
            (None, Some(r)) => Some(gatefold_contract::notify::NoticeLink {
                id: entry.target.clone(),
                label: r.to_string(),
                audience_label: r.strip_prefix('@').and_then(|a| gallery.audiences.get(a)).map(|a| a.label.clone()),
            }),
            (None, None) => None,
        };
        let mut n = notify::notice(&site.settings, &gallery, about, NotifyKind::OwnerAction, entry.at, entry.at);
        n.id = notify::notice_id(&gallery.id, &format!("{}:{}", entry.target, entry.action), NotifyKind::OwnerAction, entry.at);
        n.detail = Some(notify::action_detail(entry));
        n.device.clone_from(&entry.device);
        let now = worker::Date::now().as_millis() as i64;
        for c in channels {
            outbox::enqueue(&self.sql, c, &n, now)?;
        }
        self.arm(now).await
    }

    /// Sends what is due: delivered rows go, failed ones wait their backoff, and after 24 hours
    /// of trying (or at once when a secret is missing) become dead letters.
    async fn deliver(&self, now: i64) -> Result<()> {
        let rows = outbox::due(&self.sql, now, SEND_PER_ALARM)?;
        if rows.is_empty() {
            return Ok(());
        }
        let site = self.site().await?;
        let retry_ms = notify::retry_ms(&self.env);
        for row in rows {
            let notice = row.notice()?;
            let tried = notify::send(&self.env, &site.settings, row.to()?, &row.url_secret, row.sign_secret.as_deref(), &notice, now).await;
            if tried.ok {
                outbox::delivered(&self.sql, &row.key)?;
                continue;
            }
            let first = row.first_try.unwrap_or(now);
            let attempts = u32::try_from(row.attempts + 1).unwrap_or(u32::MAX);
            let retry_at = (!tried.missing_secret && now - first < notify::RETRY_FOR_MS).then(|| now + notify::backoff_ms(attempts, retry_ms));
            if retry_at.is_none() {
                worker::console_error!("notifications: gave up {:?} to {} ({}): {}", notice.kind, row.platform, row.url_secret, tried.detail);
            }
            outbox::failed(&self.sql, &row, &tried, now, retry_at)?;
        }
        Ok(())
    }

    /// The coordinator: keeps each gallery's digest of a day once, and starts its alarm.
    async fn plan_digests(&self, plan: &DigestPlan) -> Result<()> {
        for r in &plan.requests {
            self.sql.exec(
                "INSERT OR IGNORE INTO digest_queue (day, gallery, body) VALUES (?, ?, ?)",
                vec![V::from(r.day.as_str()), V::from(r.gallery.as_str()), V::from(serde_json::to_string(r)?.as_str())],
            )?;
        }
        // Older days are done with: a day's rows only guard against a repeated run.
        if let Some(day) = plan.requests.first().map(|r| r.day.as_str()) {
            self.sql.exec("DELETE FROM digest_queue WHERE day < ?", vec![V::from(day)])?;
        }
        self.arm(worker::Date::now().as_millis() as i64).await
    }

    /// The coordinator's alarm: asks the next [`FAN_OUT`] galleries' logs for their digest.
    async fn fan_out_digests(&self) -> Result<()> {
        let rows: Vec<Queued> =
            self.sql.exec("SELECT gallery, body FROM digest_queue WHERE sent = 0 LIMIT ?", vec![V::from(i64::from(FAN_OUT))])?.to_array()?;
        for q in rows {
            let req: DigestRequest = serde_json::from_str(&q.body)?;
            if let Err(e) = super::GalleryLogClient::new(&self.env, &q.gallery)?.digest(&req).await {
                worker::console_error!("digest of {} for {}: {e}", q.gallery, req.day);
            }
            self.sql.exec("UPDATE digest_queue SET sent = 1 WHERE day = ? AND gallery = ?", vec![V::from(req.day.as_str()), V::from(q.gallery.as_str())])?;
        }
        Ok(())
    }

    /// This gallery's digest of a day (once) and its `expires_soon` notices.
    async fn digest(&self, req: &DigestRequest) -> Result<()> {
        if outbox::meta(&self.sql, "digest_day")?.as_deref() == Some(req.day.as_str()) {
            return Ok(());
        }
        let site = self.site().await?;
        let Some(gallery) = self.gallery(&site, &req.gallery).await? else { return Ok(()) };
        let now_ms = worker::Date::now().as_millis() as i64;
        let now = now_ms.div_euclid(1000);
        let [open, download, all] = [EventKind::Open, EventKind::Download, EventKind::DownloadAll].map(|k| wire_name(&k));
        let day: Vec<DayCount> = self
            .sql
            .exec(
                "SELECT link, kind, SUM(count) AS n FROM events WHERE ts >= ? AND ts < ? AND outcome = ? AND kind IN (?, ?, ?) GROUP BY link, kind",
                vec![V::from(req.from_ms), V::from(req.to_ms), V::from(ADMITTED), V::from(open.as_str()), V::from(download.as_str()), V::from(all.as_str())],
            )?
            .to_array()?;
        let ever = self.activity(None)?;
        let mut links = Vec::new();
        let mut soon = Vec::new();
        for link in gallery.links.values() {
            let runtime = crate::gate::runtime(&self.env, &gallery.id, &link.name).await?;
            let effective = link.policy.effective(&runtime.overrides);
            let sum = |kinds: &[&str]| day.iter().filter(|d| d.link == link.name && kinds.contains(&d.kind.as_str())).map(|d| d.n.max(0) as u64).sum::<u64>();
            let act = ever.iter().find(|a| a.link == link.name);
            let opens_ever = act.map_or(0, |a| a.opens);
            let nl = notify::notice_link(&gallery, link);
            links.push(DigestLink {
                id: nl.id.clone(),
                label: nl.label.clone(),
                audience_label: nl.audience_label.clone(),
                opens: sum(&[open.as_str()]),
                downloads: sum(&[download.as_str(), all.as_str()]),
                opened: opens_ever > 0,
                downloaded: act.is_some_and(|a| a.downloads > 0),
                download_on: effective.download.any(),
                views_left: link.policy.max_views.map(|m| u64::from(m).saturating_sub(opens_ever)),
                expires_at: effective.expires_at,
            });
            if let Some(at) = effective.expires_at.filter(|at| *at > now && *at - now <= 48 * 3600) {
                soon.push((link, nl, at));
            }
        }
        let enqueue_all = |kind: NotifyKind, link: Option<&gatefold_contract::manifest::Link>, n: &gatefold_contract::notify::Notice| -> Result<()> {
            for c in notify::wanting(&gallery, link, kind) {
                outbox::enqueue(&self.sql, c, n, now_ms)?;
            }
            Ok(())
        };
        let mut n = notify::notice(&site.settings, &gallery, None, NotifyKind::Digest, req.from_ms, now_ms);
        n.digest = Some(Digest { day: req.day.clone(), links });
        enqueue_all(NotifyKind::Digest, None, &n)?;
        for (link, nl, at) in soon {
            if notify::wanting(&gallery, Some(link), NotifyKind::ExpiresSoon).next().is_none() || !outbox::tell_expiry_once(&self.sql, &link.name, at)? {
                continue;
            }
            let mut n = notify::notice(&site.settings, &gallery, Some(nl), NotifyKind::ExpiresSoon, at * 1000, now_ms);
            n.detail = Some(crate::admin::api::site_time(&site.settings, at));
            enqueue_all(NotifyKind::ExpiresSoon, Some(link), &n)?;
        }
        outbox::set_meta(&self.sql, "digest_day", &req.day)?;
        self.arm(now_ms).await
    }
}
