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
//! - `POST /revoke` → `{"session_epoch"}`: ends every open session of the link by bumping its
//!   session epoch (mirrored to KV at `session-epoch/<gallery>/<link>`).
//!
//! The worker talks to it through [`GateClient`]; open sessions read [`runtime`].

use gatefold_contract::policy::{Admission, decide_open};
use gatefold_contract::{Denial, LinkPolicy, Overrides};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use worker::{DurableObject, Env, Method, Request, RequestInit, Response, Result, SqlStorage, SqlStorageValue, State, Stub, durable_object};

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

/// KV key the session epoch of a link is mirrored to (a decimal number).
pub fn session_epoch_key(gallery: &str, link: &str) -> String {
    format!("session-epoch/{gallery}/{link}")
}

/// Typed client of one link's `LinkGate` Durable Object.
pub struct GateClient {
    stub: Stub,
}

impl GateClient {
    pub fn new(env: &Env, gallery: &str, link: &str) -> Result<GateClient> {
        Ok(GateClient { stub: env.durable_object("LINK_GATE")?.id_from_name(&format!("{gallery}/{link}"))?.get_stub()? })
    }

    /// Counts an open if the policy allows it: the only call that uses a view.
    pub async fn open(&self, req: &OpenRequest) -> Result<OpenResponse> {
        self.call(Method::Post, "/open", Some(serde_json::to_string(req)?)).await
    }

    /// Views and overrides as they are now; counts nothing.
    pub async fn status(&self) -> Result<Status> {
        self.call(Method::Get, "/status", None).await
    }

    /// Ends every open session of the link; answers the new epoch.
    pub async fn revoke(&self) -> Result<u32> {
        let answer: Revoked = self.call(Method::Post, "/revoke", None).await?;
        Ok(answer.session_epoch)
    }

    async fn call<T: DeserializeOwned>(&self, method: Method, op: &str, body: Option<String>) -> Result<T> {
        let mut init = RequestInit::new();
        init.with_method(method).with_body(body.map(Into::into));
        let mut resp = self.stub.fetch_with_request(Request::new_with_init(&format!("{STUB_ORIGIN}{op}"), &init)?).await?;
        if resp.status_code() != 200 {
            return Err(worker::Error::RustError(format!("LinkGate {op} answered {}: {}", resp.status_code(), resp.text().await.unwrap_or_default())));
        }
        resp.json().await
    }
}

#[derive(Debug, Deserialize, Serialize)]
struct Revoked {
    session_epoch: u32,
}

/// What an open session checks on every gated request.
#[derive(Debug, Clone, PartialEq)]
pub struct LinkRuntime {
    pub overrides: Overrides,
    pub session_epoch: u32,
}

/// The link's runtime state as last mirrored to KV, edge-cached for 30 s: with KV's own
/// propagation this bounds how long an open session outlives a disable or revoke (≤ 60 s).
/// Fails closed: stored overrides this version cannot read disable the link, and an
/// unreadable epoch matches no session.
pub async fn runtime(env: &Env, gallery: &str, link: &str) -> Result<LinkRuntime> {
    let kv = env.kv("LINK_STATE")?;
    let overrides = match kv.get(&overrides_key(gallery, link)).cache_ttl(30).text().await? {
        None => Overrides::default(),
        Some(text) => serde_json::from_str(&text).unwrap_or_else(|e| {
            worker::console_error!("overrides of {gallery}/{link} are unreadable ({e}): the link answers disabled until they are set again");
            Overrides { disabled: Some(true), ..Overrides::default() }
        }),
    };
    let session_epoch = match kv.get(&session_epoch_key(gallery, link)).cache_ttl(30).text().await? {
        None => 0,
        Some(text) => text.trim().parse().unwrap_or(u32::MAX),
    };
    Ok(LinkRuntime { overrides, session_epoch })
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

#[derive(Deserialize)]
struct Count {
    n: i64,
}

#[derive(Deserialize)]
struct EpochRow {
    session_epoch: i64,
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

    fn session_epoch(&self) -> Result<u32> {
        let rows: Vec<EpochRow> = self.sql().exec("SELECT session_epoch FROM gate WHERE id = 1", None)?.to_array()?;
        Ok(rows.first().map_or(0, |r| r.session_epoch.clamp(0, i64::from(u32::MAX)) as u32))
    }

    fn name(&self) -> Result<(String, String)> {
        let name = self.state.id().name().ok_or_else(|| worker::Error::RustError("LinkGate has no name: create it with id_from_name(\"<gallery>/<link>\")".into()))?;
        let (gallery, link) = name.split_once('/').ok_or_else(|| worker::Error::RustError(format!("LinkGate name {name:?} is not <gallery>/<link>")))?;
        Ok((gallery.to_string(), link.to_string()))
    }

    async fn revoke(&self) -> Result<Revoked> {
        self.sql().exec(
            "INSERT INTO gate (id, views, session_epoch) VALUES (1, 0, 1) ON CONFLICT(id) DO UPDATE SET session_epoch = gate.session_epoch + 1",
            None,
        )?;
        let session_epoch = self.session_epoch()?;
        let (gallery, link) = self.name()?;
        self.env.kv("LINK_STATE")?.put(&session_epoch_key(&gallery, &link), session_epoch.to_string())?.execute().await?;
        Ok(Revoked { session_epoch })
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
                OpenResponse::Admitted(Admission { session_epoch: self.session_epoch()?, ..admission })
            }
        })
    }

    async fn set_overrides(&self, overrides: Overrides) -> Result<Status> {
        let json = serde_json::to_string(&overrides)?;
        self.sql().exec(
            "INSERT INTO gate (id, views, overrides) VALUES (1, 0, ?) ON CONFLICT(id) DO UPDATE SET overrides = excluded.overrides",
            vec![SqlStorageValue::String(json.clone())],
        )?;
        let (gallery, link) = self.name()?;
        self.env.kv("LINK_STATE")?.put(&overrides_key(&gallery, &link), json)?.execute().await?;
        self.status()
    }
}

impl DurableObject for LinkGate {
    fn new(state: State, env: Env) -> Self {
        // Idempotent and cheap; running it here keeps every handler free of schema checks.
        let sql = state.storage().sql();
        let schema = sql
            .exec(
                "CREATE TABLE IF NOT EXISTS gate (
                    id INTEGER PRIMARY KEY CHECK (id = 1),
                    views INTEGER NOT NULL DEFAULT 0,
                    overrides TEXT NOT NULL DEFAULT '{}',
                    first_open INTEGER,
                    last_open INTEGER)",
                None,
            )
            .and_then(|_| sql.exec("SELECT COUNT(*) AS n FROM pragma_table_info('gate') WHERE name = 'session_epoch'", None)?.one::<Count>())
            .and_then(|c| if c.n == 0 { sql.exec("ALTER TABLE gate ADD COLUMN session_epoch INTEGER NOT NULL DEFAULT 0", None).map(drop) } else { Ok(()) });
        if let Err(e) = schema {
            worker::console_error!("LinkGate: preparing its table failed: {e}");
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
            (Method::Post, "/revoke") => Response::from_json(&self.revoke().await?),
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
