//! The `GalleryLog` Durable Object (wasm only): each room's tables, the operations dispatched
//! to its room, and the alarm that sends the outbox.

use super::access_log::{self, ActivityQuery, MAX_EVENTS_PER_REQUEST};
use super::outbox::{self, Queued};
use super::{AskAccess, Asked, Batch, Op, audit, forwarding, go_live, notices, requests};
use std::collections::HashMap;
use worker::{DurableObject, Env, Method, Request, Response, Result, SqlStorage, State, durable_object};

/// The largest request the worker sends its logs: a batch of [`MAX_EVENTS_PER_REQUEST`] events,
/// each field capped (`access_event!`), stays well under it.
const LOG_BODY_BYTES: usize = 32 * 1024 * 1024;

/// Every room's tables, created or brought up to date when the object starts.
fn create_tables(sql: &SqlStorage) -> Result<()> {
    access_log::create(sql)?;
    audit::create(sql)?;
    go_live::create(sql)?;
    requests::create(sql)?;
    forwarding::create(sql)?;
    outbox::create(sql)
}

#[durable_object]
pub struct GalleryLog {
    sql: SqlStorage,
    state: State,
    env: Env,
}

fn now_ms() -> i64 {
    worker::Date::now().as_millis() as i64
}

fn no_content() -> Result<Response> {
    Ok(Response::empty()?.with_status(204))
}

impl DurableObject for GalleryLog {
    fn new(state: State, env: Env) -> Self {
        let sql = state.storage().sql();
        if let Err(e) = create_tables(&sql) {
            worker::console_error!("GalleryLog: creating the schema failed: {e}");
        }
        Self { sql, state, env }
    }

    /// Announces the openings reached (`go_live`), sends the notifications that are due, then
    /// sets the alarm for what is left of either.
    async fn alarm(&self) -> Result<Response> {
        let now = now_ms();
        // A run that could not work (the site's records unreadable) waits a retry delay
        // rather than firing again at once for rows that are still due.
        let mut not_before = now;
        if let Err(e) = go_live::announce(&self.env, &self.sql, now).await {
            worker::console_error!("go-live: {e}");
            not_before = now + crate::notify::retry_ms(&self.env);
        }
        if let Err(e) = outbox::deliver(&self.env, &self.sql, now).await {
            worker::console_error!("notifications: {e}");
            not_before = now + crate::notify::retry_ms(&self.env);
        }
        let next = [outbox::next_due(&self.sql)?, go_live::next_due(&self.sql)?].into_iter().flatten().min();
        if let Some(at) = next {
            self.state.storage().set_alarm((at.max(not_before) - now).max(0)).await?;
        }
        Response::empty()
    }

    async fn fetch(&self, mut req: Request) -> Result<Response> {
        let Some(op) = Op::from_path(&req.path()) else { return Response::error("unknown GalleryLog operation", 404) };
        let query: HashMap<String, String> = req.url()?.query_pairs().into_owned().collect();
        // The audit log is read with GET (its window in the query); everything else is POST.
        if op == Op::Audit && req.method() == Method::Get {
            let ms = |k: &str, default: i64| query.get(k).map_or(Ok(default), |v| v.parse::<i64>().map_err(|_| worker::Error::RustError(format!("audit query `{k}`: {v:?} is not Unix ms"))));
            return Response::from_json(&audit::read(&self.sql, ms("from", 0)?, ms("to", i64::MAX)?)?);
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
                access_log::insert(&self.sql, &batch)?;
                // Stored first: a notification problem never loses the event.
                let told = async { self.arm(notices::for_events(&self.env, &self.sql, &batch).await?).await };
                if let Err(e) = told.await {
                    worker::console_error!("notifications: could not enqueue for {:?}: {e}", batch.gallery);
                }
                no_content()
            }
            Op::Stats => Response::from_json(&access_log::rollup(&self.sql, &serde_json::from_str(&body)?)?),
            Op::Export => Response::from_json(&access_log::export(&self.sql, &serde_json::from_str(&body)?)?),
            Op::Activity => {
                let q: ActivityQuery = serde_json::from_str(&body)?;
                Response::from_json(&access_log::activity(&self.sql, None, q.within)?)
            }
            Op::Audit => {
                let retention_days = query.get("retention_days").and_then(|v| v.parse::<u32>().ok()).ok_or_else(|| worker::Error::RustError("POST /audit needs ?retention_days=N".into()))?;
                let entry = audit::bounded(serde_json::from_str(&body)?);
                audit::record(&self.sql, &entry, retention_days)?;
                // Told after the row is stored: a failed notice never loses the record.
                let told = async { self.arm(notices::for_owner_action(&self.env, &self.sql, &entry).await?).await };
                if let Err(e) = told.await {
                    worker::console_error!("notifying the owner action {} on {}: {e}", entry.action, entry.target);
                }
                no_content()
            }
            Op::Notifications => Response::from_json(&outbox::status(&self.sql)?),
            Op::PasswordAttack => {
                let due = notices::for_attack(&self.env, &self.sql, &serde_json::from_str(&body)?).await?;
                self.arm(due).await?;
                no_content()
            }
            Op::GoLive => {
                let go_lives: super::GoLives = serde_json::from_str(&body)?;
                if go_lives.links.len() > super::GO_LIVES_MAX {
                    return Response::error(format!("at most {} links per request", super::GO_LIVES_MAX), 413);
                }
                let due = go_live::schedule(&self.sql, &go_lives)?;
                self.arm(due).await?;
                no_content()
            }
            Op::Forwarding => {
                let report: super::ForwardingReport = serde_json::from_str(&body)?;
                forwarding::record(&self.sql, &report.link, &report.forwarding)?;
                let due = notices::for_forwarding(&self.env, &self.sql, &report).await?;
                self.arm(due).await?;
                no_content()
            }
            Op::Flags => Response::from_json(&forwarding::all(&self.sql)?),
            Op::Enqueue => {
                let queued: Vec<Queued> = serde_json::from_str(&body)?;
                let now = now_ms();
                for q in &queued {
                    outbox::enqueue(&self.sql, &q.channel, &q.notice, now)?;
                }
                self.arm((!queued.is_empty()).then_some(now)).await?;
                no_content()
            }
            Op::AskAccess => {
                let ask: AskAccess = serde_json::from_str(&body)?;
                let asked = requests::store(&self.sql, &ask, &crate::password::random_hex(16)?)?;
                if let Asked::Created { key } = &asked {
                    // Stored first: a notification problem never loses the request.
                    let told = async { self.arm(notices::for_request(&self.env, &self.sql, &ask, key).await?).await };
                    if let Err(e) = told.await {
                        worker::console_error!("notifications: could not enqueue the access request on {}/{}: {e}", ask.gallery, ask.link);
                    }
                }
                Response::from_json(&asked)
            }
            Op::RequestView => Response::from_json(&requests::view(&self.sql, &serde_json::from_str(&body)?)?),
            Op::Requests => Response::from_json(&requests::list(&self.sql, &serde_json::from_str(&body)?)?),
            Op::AnswerRequest => Response::from_json(&requests::answer(&self.sql, &serde_json::from_str(&body)?)?),
        }
    }
}

impl GalleryLog {
    /// Sets the alarm for `at` (Unix ms) unless one is set earlier.
    async fn arm(&self, at: Option<i64>) -> Result<()> {
        let Some(at) = at else { return Ok(()) };
        let storage = self.state.storage();
        if storage.get_alarm().await?.is_some_and(|set| set <= at) {
            return Ok(());
        }
        storage.set_alarm((at - now_ms()).max(0)).await
    }
}
