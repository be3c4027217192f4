//! `LinkGate`: one Durable Object per link (`id_from_name("<gallery>/<link>")`, so counters
//! survive token rotation) that decides every new open atomically.
//!
//! SQLite calls are synchronous, so reading the count, deciding and storing the new count
//! happen with no `await` in between: no other request to this object can interleave, and
//! 200 concurrent opens of a 50-view link admit exactly 50.
//!
//! API (the admin module calls it too):
//! - `POST /open` `{"policy": LinkPolicy, "now": i64}` → `{"admitted": {"view_number", "session_expires_at"}}` | `{"denied": "<code>"}`
//! - `GET /status` → `{"views", "overrides", "first_open", "last_open"}`
//! - `PUT /overrides` body `Overrides` (full replacement) → status; also mirrored to KV
//!   `LINK_STATE` at `overrides/<gallery>/<link>` for in-session checks.

use gatefold_contract::policy::{Admission, decide_open};
use gatefold_contract::{Denial, LinkPolicy, Overrides};
use serde::{Deserialize, Serialize};
use worker::{DurableObject, Env, Method, Request, Response, Result, SqlStorage, SqlStorageValue, State, durable_object};

pub const STUB_ORIGIN: &str = "https://link-gate";

#[derive(Debug, Deserialize, Serialize)]
pub struct OpenRequest {
    pub policy: LinkPolicy,
    pub now: i64,
}

#[derive(Debug, Deserialize, Serialize, PartialEq)]
#[serde(rename_all = "snake_case")]
pub enum OpenResponse {
    Admitted(Admission),
    Denied(Denial),
}

#[derive(Debug, Deserialize, Serialize, PartialEq)]
pub struct Status {
    pub views: u64,
    pub overrides: Overrides,
    pub first_open: Option<i64>,
    pub last_open: Option<i64>,
}

/// KV key the overrides of a link are mirrored to.
pub fn overrides_key(gallery: &str, link: &str) -> String {
    format!("overrides/{gallery}/{link}")
}

#[durable_object]
pub struct LinkGate {
    state: State,
    env: Env,
}

#[derive(Deserialize)]
struct Row {
    views: i64,
    overrides: String,
    first_open: Option<i64>,
    last_open: Option<i64>,
}

impl LinkGate {
    fn sql(&self) -> SqlStorage {
        self.state.storage().sql()
    }

    fn status(&self) -> Result<Status> {
        let rows: Vec<Row> = self.sql().exec("SELECT views, overrides, first_open, last_open FROM gate WHERE id = 1", None)?.to_array()?;
        Ok(match rows.into_iter().next() {
            None => Status { views: 0, overrides: Overrides::default(), first_open: None, last_open: None },
            Some(r) => Status {
                views: r.views.max(0) as u64,
                overrides: serde_json::from_str(&r.overrides).unwrap_or_default(),
                first_open: r.first_open,
                last_open: r.last_open,
            },
        })
    }

    fn open(&self, req: &OpenRequest) -> Result<OpenResponse> {
        let status = self.status()?;
        Ok(match decide_open(&req.policy, &status.overrides, status.views, req.now) {
            Err(denial) => OpenResponse::Denied(denial),
            Ok(admission) => {
                self.sql().exec(
                    "INSERT INTO gate (id, views, overrides, first_open, last_open) VALUES (1, ?, '{}', ?, ?)
                     ON CONFLICT(id) DO UPDATE SET views = excluded.views,
                       first_open = COALESCE(gate.first_open, excluded.first_open), last_open = excluded.last_open",
                    vec![
                        SqlStorageValue::Integer(admission.view_number as i64),
                        SqlStorageValue::Integer(req.now),
                        SqlStorageValue::Integer(req.now),
                    ],
                )?;
                OpenResponse::Admitted(admission)
            }
        })
    }

    async fn set_overrides(&self, overrides: Overrides) -> Result<Status> {
        let json = serde_json::to_string(&overrides)?;
        self.sql().exec(
            "INSERT INTO gate (id, views, overrides) VALUES (1, 0, ?) ON CONFLICT(id) DO UPDATE SET overrides = excluded.overrides",
            vec![SqlStorageValue::String(json.clone())],
        )?;
        let name = self.state.id().name().ok_or_else(|| worker::Error::RustError("LinkGate has no name: create it with id_from_name(\"<gallery>/<link>\")".into()))?;
        let (gallery, link) = name.split_once('/').ok_or_else(|| worker::Error::RustError(format!("LinkGate name {name:?} is not <gallery>/<link>")))?;
        self.env.kv("LINK_STATE")?.put(&overrides_key(gallery, link), json)?.execute().await?;
        self.status()
    }
}

impl DurableObject for LinkGate {
    fn new(state: State, env: Env) -> Self {
        // Idempotent and cheap; running it here keeps every handler free of schema checks.
        if let Err(e) = state.storage().sql().exec(
            "CREATE TABLE IF NOT EXISTS gate (
                id INTEGER PRIMARY KEY CHECK (id = 1),
                views INTEGER NOT NULL DEFAULT 0,
                overrides TEXT NOT NULL DEFAULT '{}',
                first_open INTEGER,
                last_open INTEGER)",
            None,
        ) {
            worker::console_error!("LinkGate: creating its table failed: {e}");
        }
        LinkGate { state, env }
    }

    async fn fetch(&self, mut req: Request) -> Result<Response> {
        let path = req.path();
        match (req.method(), path.as_str()) {
            (Method::Post, "/open") => {
                let body: OpenRequest = match req.json().await {
                    Ok(b) => b,
                    Err(e) => return Response::error(format!("body must be {{\"policy\": LinkPolicy, \"now\": i64}}: {e}"), 400),
                };
                Response::from_json(&self.open(&body)?)
            }
            (Method::Get, "/status") => Response::from_json(&self.status()?),
            (Method::Put, "/overrides") => {
                let overrides: Overrides = match req.json().await {
                    Ok(o) => o,
                    Err(e) => return Response::error(format!("body must be Overrides JSON: {e}"), 400),
                };
                Response::from_json(&self.set_overrides(overrides).await?)
            }
            _ => Response::error("LinkGate: unknown operation", 404),
        }
    }
}
