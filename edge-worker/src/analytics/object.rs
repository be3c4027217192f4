//! The `GalleryLog` Durable Object (wasm only): SQLite schema, inserts and grouped queries.

use super::export::Row;
use super::rollup::{self, DimRow, HourRow, ImageRow, LinkKindRow, Query, Rollup};
use super::{ExportPage, MAX_EVENTS_PER_REQUEST, throttle};
use crate::access::{AccessEvent, EventKind};
use serde::{Deserialize, Serialize};
use worker::{DurableObject, Env, Method, Request, Response, Result, SqlStorage, SqlStorageValue as V, State, Stub, durable_object};

/// Events by time, plus the two indexes every stats query starts from: (kind, outcome, ts)
/// narrows to admitted opens in a window without touching other rows, and (link, ts) serves
/// the per-link filter. Dimension columns sit in the row; grouping 100k rows by them is a
/// single pass.
const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS events (
  id INTEGER PRIMARY KEY,
  ts INTEGER NOT NULL,
  link TEXT NOT NULL,
  kind TEXT NOT NULL,
  outcome TEXT NOT NULL,
  image TEXT, ip TEXT, country TEXT, region TEXT, city TEXT, timezone TEXT, asn INTEGER, colo TEXT,
  device TEXT, os TEXT, browser TEXT, referrer TEXT, visitor TEXT
);
CREATE INDEX IF NOT EXISTS events_kind_outcome_ts ON events(kind, outcome, ts);
CREATE INDEX IF NOT EXISTS events_link_ts ON events(link, ts);
CREATE INDEX IF NOT EXISTS events_ts ON events(ts);
CREATE TABLE IF NOT EXISTS auth_failures (ip TEXT PRIMARY KEY, failures INTEGER NOT NULL, last_failure INTEGER NOT NULL);
";

#[durable_object]
pub struct GalleryLog {
    sql: SqlStorage,
}

impl DurableObject for GalleryLog {
    fn new(state: State, _env: Env) -> Self {
        let sql = state.storage().sql();
        if let Err(e) = sql.exec(SCHEMA, None) {
            worker::console_error!("GalleryLog: creating the schema failed: {e}");
        }
        Self { sql }
    }

    async fn fetch(&self, mut req: Request) -> Result<Response> {
        if req.method() != Method::Post {
            return Response::error("GalleryLog takes POST only", 405);
        }
        let path = req.path();
        // serde_json on the text, not `req.json()`: JavaScript's JSON.parse would turn large
        // integers (offset table sentinels, 64-bit ids) into lossy floats.
        let body = req.text().await?;
        match path.as_str() {
            "/events" => {
                let events: Vec<AccessEvent> = serde_json::from_str(&body)?;
                if events.len() > MAX_EVENTS_PER_REQUEST {
                    return Response::error(format!("at most {MAX_EVENTS_PER_REQUEST} events per request"), 413);
                }
                self.insert(&events)?;
                Ok(Response::empty()?.with_status(204))
            }
            "/stats" => Response::from_json(&self.rollup(&serde_json::from_str(&body)?)?),
            "/export" => Response::from_json(&self.export(&serde_json::from_str(&body)?)?),
            "/auth/check" => {
                let a: AuthRequest = serde_json::from_str(&body)?;
                Response::from_json(&AuthAnswer { retry_after: self.retry_after(&a)? })
            }
            "/auth/fail" => {
                let a: AuthRequest = serde_json::from_str(&body)?;
                self.fail(&a)?;
                Response::from_json(&AuthAnswer { retry_after: self.retry_after(&a)? })
            }
            "/auth/ok" => {
                let a: AuthRequest = serde_json::from_str(&body)?;
                self.sql.exec("DELETE FROM auth_failures WHERE ip = ?", vec![V::from(a.ip)])?;
                Response::from_json(&AuthAnswer { retry_after: 0 })
            }
            _ => Response::error("unknown GalleryLog operation", 404),
        }
    }
}

fn kind_name(kind: EventKind) -> &'static str {
    match kind {
        EventKind::Open => rollup::KIND_OPEN,
        EventKind::ImageView => rollup::KIND_IMAGE_VIEW,
        EventKind::Download => rollup::KIND_DOWNLOAD,
        EventKind::Preview => rollup::KIND_PREVIEW,
    }
}

#[derive(Deserialize)]
struct Count1 {
    n: u64,
}

#[derive(Debug, Serialize, Deserialize)]
pub struct AuthRequest {
    pub ip: String,
    pub now: i64,
}

#[derive(Debug, Serialize, Deserialize)]
pub struct AuthAnswer {
    pub retry_after: i64,
}

#[derive(Deserialize)]
struct FailureRow {
    failures: u32,
    last_failure: i64,
}

impl GalleryLog {
    fn insert(&self, events: &[AccessEvent]) -> Result<()> {
        // Writes inside one request are committed together by the runtime, so a batch is stored
        // whole or not at all.
        for e in events {
            self.sql.exec(
                "INSERT INTO events (ts, link, kind, outcome, image, ip, country, region, city, timezone, asn, colo, device, os, browser, referrer, visitor)
                 VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                vec![
                    V::from(e.ts),
                    V::from(e.link.as_str()),
                    V::from(kind_name(e.kind)),
                    V::from(e.outcome.as_str()),
                    V::from(e.image.clone()),
                    V::from(e.ip.clone()),
                    V::from(e.country.clone()),
                    V::from(e.region.clone()),
                    V::from(e.city.clone()),
                    V::from(e.timezone.clone()),
                    V::from(e.asn.map(i64::from)),
                    V::from(e.colo.clone()),
                    V::from(e.device.as_str()),
                    V::from(e.os.as_str()),
                    V::from(e.browser.as_str()),
                    V::from(e.referrer.clone()),
                    V::from(e.visitor.as_str()),
                ],
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
        let admitted_opens = format!("kind = 'open' AND outcome = 'admitted' AND {w}");
        let mut out = Rollup {
            by_link: self
                .sql
                .exec(&format!("SELECT link, kind, outcome, COUNT(*) AS n FROM events WHERE {w} GROUP BY link, kind, outcome"), b.clone())?
                .to_array::<LinkKindRow>()?,
            local_hours: self
                .sql
                .exec(&format!("SELECT {} AS hour, COUNT(*) AS n FROM events WHERE {admitted_opens} GROUP BY hour", q.local_hour_sql()), b.clone())?
                .to_array::<HourRow>()?,
            unique_visitors: self
                .sql
                .exec(&format!("SELECT COUNT(DISTINCT visitor) AS n FROM events WHERE {admitted_opens}"), b.clone())?
                .one::<Count1>()?
                .n,
            images: self
                .sql
                .exec(
                    &format!(
                        "SELECT image, kind, COUNT(*) AS n FROM events WHERE kind IN ('image_view', 'download') AND outcome = 'admitted' AND {w} GROUP BY image, kind"
                    ),
                    b.clone(),
                )?
                .to_array::<ImageRow>()?,
            ..Rollup::default()
        };
        let dims = self
            .sql
            .exec(
                &format!(
                    "SELECT country, city, device, os, browser, referrer, COUNT(*) AS n FROM events WHERE {admitted_opens}
                     GROUP BY country, city, device, os, browser, referrer"
                ),
                b,
            )?
            .to_array::<DimRow>()?;
        rollup::split_dims(dims, &mut out);
        Ok(out)
    }

    fn export(&self, page: &ExportPage) -> Result<Vec<Row>> {
        let (w, mut b) = Self::window(&page.query);
        b.push(V::from(page.after_id));
        b.push(V::from(i64::from(page.limit.min(50_000))));
        self.sql
            .exec(
                &format!(
                    "SELECT id, ts, link, kind, outcome, image, ip, country, region, city, timezone, asn, colo, device, os, browser, referrer, visitor
                     FROM events WHERE {w} AND id > ? ORDER BY id LIMIT ?"
                ),
                b,
            )?
            .to_array()
    }

    fn failures(&self, ip: &str) -> Result<Option<FailureRow>> {
        Ok(self
            .sql
            .exec("SELECT failures, last_failure FROM auth_failures WHERE ip = ?", vec![V::from(ip)])?
            .to_array::<FailureRow>()?
            .into_iter()
            .next())
    }

    fn retry_after(&self, a: &AuthRequest) -> Result<i64> {
        Ok(self.failures(&a.ip)?.map_or(0, |f| throttle::retry_after(f.failures, f.last_failure, a.now)))
    }

    fn fail(&self, a: &AuthRequest) -> Result<()> {
        let failures = self.failures(&a.ip)?.map_or(1, |f| throttle::next_failures(f.failures, f.last_failure, a.now));
        self.sql.exec(
            "INSERT INTO auth_failures (ip, failures, last_failure) VALUES (?, ?, ?)
             ON CONFLICT(ip) DO UPDATE SET failures = excluded.failures, last_failure = excluded.last_failure",
            vec![V::from(a.ip.as_str()), V::from(i64::from(failures)), V::from(a.now)],
        )?;
        Ok(())
    }
}

/// The log object of a gallery (or [`super::AUTH_OBJECT`]).
pub fn stub(env: &Env, name: &str) -> Result<Stub> {
    env.durable_object("GALLERY_LOG")?.id_from_name(name)?.get_stub()
}

/// POSTs JSON to the log object and reads its JSON answer.
pub async fn call<T: serde::de::DeserializeOwned>(env: &Env, name: &str, op: &str, body: &impl Serialize) -> Result<T> {
    let mut init = worker::RequestInit::new();
    init.with_method(Method::Post).with_body(Some(serde_json::to_string(body)?.into()));
    let req = Request::new_with_init(&format!("https://gallery-log{op}"), &init)?;
    let mut resp = stub(env, name)?.fetch_with_request(req).await?;
    if resp.status_code() != 200 {
        return Err(worker::Error::RustError(format!("GalleryLog {op} answered {}: {}", resp.status_code(), resp.text().await.unwrap_or_default())));
    }
    Ok(serde_json::from_str(&resp.text().await?)?)
}
