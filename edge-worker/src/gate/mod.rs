//! `LinkGate`: the Durable Object that decides every new open and holds every runtime change.
//!
//! One object per link (`id_from_name("<gallery>/<link>")`, a recipient's link
//! `<gallery>/<audience>/<recipient>`, so counters survive token rotation), and one per wider
//! scope whose runtime changes apply to many links at once with a single write: a gallery
//! (`<gallery>/*`) and an audience (`<gallery>/@<audience>`, every recipient of it). Link names
//! are slugs, so these names never collide with a link.
//!
//! A session carries the sum of its link's and its wider scopes' session epochs
//! ([`session_epoch`]): epochs only grow, so a revoke at any of the scopes makes every earlier
//! session's sum smaller than the one in force.
//!
//! SQLite calls are synchronous, so reading the count, deciding and storing the new count
//! happen with no `await` in between: no other request to this object can interleave, and
//! 200 concurrent opens of a 50-view link admit exactly 50. Owner actions are applied the same
//! way (read, apply, write in one step inside the object), so two owners acting at once both
//! land. The link's wider scopes' objects (its audience's, its gallery's) are asked on every
//! open before that step, which is what makes a disable of a whole audience or gallery close
//! every link's next open at once; each settles its own runtime changes against the terms it was
//! published with (which the open carries), so they lapse as a link's own do, and the decision
//! is the one composition of them all, [`gatefold_contract::policy::in_force`].
//!
//! Storage keeps the `overrides` column in the JSON shape every earlier version reads; what
//! this version adds (the published values a change was made against, the session epoch) sits
//! in columns of its own, so rolling back the worker never drops a runtime disable.
//!
//! Every change is mirrored to KV `LINK_STATE`, which the in-session checks read (see
//! [`runtime`]): `runtime/<object name>` holds this version's shape, and for links
//! `overrides/<gallery>/<link>` keeps the shape earlier versions read.

use crate::password::{self, StoredHash};
use futures_util::future::{join, join_all};
use gatefold_contract::policy::{Admission, Change, Refusal, decide_open};
use gatefold_contract::{Denial, LinkPolicy, Overrides};
use serde::{Deserialize, Serialize};
use worker::{DurableObject, Env, Method, Request, RequestInit, Response, Result, SqlStorage, SqlStorageValue, State, Stub, durable_object};

mod attempts;
mod client;
mod runtime;
mod scope;

pub use client::{GateClient, owned_wider_terms, wider_statuses};
use runtime::Mirror;
pub use runtime::{LinkRuntime, runtime, runtimes};
pub use scope::{Scope, policy_in_force, session_epoch, settled_in_force};

/// Any host works for a Durable Object stub; it only looks at the path.
const STUB_ORIGIN: &str = "https://link-gate";

/// How often a KV mirror write is tried before the failure is reported to the owner.
const MIRROR_ATTEMPTS: u32 = 3;

/// Version of the KV mirror's shape; a value this version does not know reads as disabled.
const MIRROR_SHAPE: u32 = 1;

/// How long an in-session check may use a mirrored state (edge cache): with KV's own
/// propagation this bounds how long an open session keeps its images after a disable.
const MIRROR_CACHE_SECONDS: u64 = 30;

#[derive(Debug, Deserialize, Serialize)]
pub struct OpenRequest {
    pub policy: LinkPolicy,
    pub now: i64,
    /// The published terms of the link's wider scopes ([`Scope::wider_terms`]), which their
    /// runtime changes are settled against.
    pub wider_terms: Vec<LinkPolicy>,
}

#[derive(Debug, Deserialize, Serialize, PartialEq)]
#[serde(rename_all = "snake_case")]
pub enum OpenResponse {
    Admitted(Admission),
    Denied(Denial),
}

/// What an object holds, as `GET /status` answers it.
#[derive(Debug, Clone, Default, Deserialize, Serialize, PartialEq)]
pub struct Status {
    pub views: u64,
    /// This scope's own runtime changes (not its wider scopes').
    pub overrides: Overrides,
    pub first_open: Option<i64>,
    pub last_open: Option<i64>,
    pub session_epoch: u32,
    /// Whether the owner has set a password (links with `password: required` stay closed
    /// until they do). The password itself never leaves the object.
    #[serde(default)]
    pub password_set: bool,
    /// What the owner must be told (unreadable stored state, a failed mirror write).
    pub notices: Vec<String>,
    /// A distributed attack on the link's password going on now (`password::attack`); only
    /// the status the admin API reads carries it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub password_attack: Option<password::Attack>,
}

/// A password attempt at a link with `password: required`, posted from its password page.
#[derive(Debug, Deserialize, Serialize)]
pub struct UnlockRequest {
    pub policy: LinkPolicy,
    pub now: i64,
    pub password: String,
    /// Who is trying, for the throttle: their network and allocation (keyed hashes).
    pub network: password::Guesser,
    /// As [`OpenRequest::wider_terms`].
    pub wider_terms: Vec<LinkPolicy>,
}

#[derive(Debug, Deserialize, Serialize, PartialEq)]
#[serde(rename_all = "snake_case")]
pub enum UnlockResponse {
    /// The right password: the open is counted, as `/open` counts one.
    Admitted(Admission),
    /// The link's state denial, `password_not_set`, or `wrong_password`.
    Denied(Denial),
    /// `too_many_attempts`: no password is checked until this many seconds have passed.
    Throttled { retry_after: i64 },
}

/// An owner setting (`Some`, already hashed) or clearing (`None`) a link's password.
#[derive(Debug, Deserialize, Serialize)]
pub struct PasswordChange {
    pub hash: Option<String>,
}

/// An owner's action, with the published policy it is judged against (`LinkPolicy::default()`
/// for a gallery or audience).
#[derive(Debug, Deserialize, Serialize)]
pub struct ChangeRequest {
    pub change: Change,
    pub policy: LinkPolicy,
    pub now: i64,
    /// The site timezone's UTC-offset table (the manifest's): days of an extension are
    /// calendar days there.
    pub utc_offsets: Vec<(i64, i32)>,
}

#[derive(Debug, Deserialize, Serialize, PartialEq)]
#[serde(rename_all = "snake_case")]
pub enum ChangeResponse {
    Changed(Status),
    Refused(Refusal),
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
    expires_against: Option<String>,
    max_views_against: Option<String>,
    session_epoch: i64,
    mirror_error: Option<String>,
    revision: i64,
    password: Option<String>,
}

/// A row as read: its status, whether its overrides could be read, its revision, and its
/// password hash (`None` when unset or unreadable: either way no password opens the link).
struct Loaded {
    status: Status,
    readable: bool,
    revision: i64,
    password: Option<StoredHash>,
}


/// Columns added after the first version (for objects created before them).
const ADDED_COLUMNS: [&str; 6] = [
    "expires_against TEXT",
    "max_views_against TEXT",
    "session_epoch INTEGER NOT NULL DEFAULT 0",
    "mirror_error TEXT",
    "revision INTEGER NOT NULL DEFAULT 0",
    // `password::StoredHash` as text, NULL when no password is set.
    "password TEXT",
];

fn text_or_null(value: Option<String>) -> SqlStorageValue {
    value.map_or(SqlStorageValue::Null, SqlStorageValue::String)
}

/// `overrides` and its `_against` columns, or why they cannot be read.
fn read_overrides(r: &Row) -> std::result::Result<Overrides, String> {
    let mut o: Overrides = serde_json::from_str(&r.overrides).map_err(|e| format!("overrides {:.120}: {e}", r.overrides))?;
    if let Some(text) = &r.expires_against {
        o.expires_against = Some(serde_json::from_str(text).map_err(|e| format!("expires_against {text:.120}: {e}"))?);
    }
    if let Some(text) = &r.max_views_against {
        o.max_views_against = Some(serde_json::from_str(text).map_err(|e| format!("max_views_against {text:.120}: {e}"))?);
    }
    Ok(o)
}

impl LinkGate {
    fn sql(&self) -> SqlStorage {
        self.state.storage().sql()
    }

    fn scope(&self) -> Result<Scope> {
        let name = self.state.id().name().ok_or_else(|| worker::Error::RustError("LinkGate has no name: create it with id_from_name".into()))?;
        Scope::from_object_name(&name).ok_or_else(|| {
            worker::Error::RustError(format!("LinkGate name {name:?} is not <gallery>/<link>, <gallery>/<audience>/<recipient>, <gallery>/* or <gallery>/@<audience>"))
        })
    }

    fn load(&self) -> Result<Loaded> {
        let rows: Vec<Row> = self
            .sql()
            .exec(
                "SELECT views, overrides, first_open, last_open, expires_against, max_views_against, session_epoch, mirror_error, revision, password
                 FROM gate WHERE id = 1",
                None,
            )?
            .to_array()?;
        let Some(r) = rows.into_iter().next() else {
            return Ok(Loaded { status: Status::default(), readable: true, revision: 0, password: None });
        };
        let mut notices: Vec<String> = r.mirror_error.iter().cloned().collect();
        let (overrides, readable) = match read_overrides(&r) {
            Ok(o) => (o, true),
            Err(e) => {
                notices.push(format!(
                    "the stored runtime state is in a shape this version cannot read ({e}), so the link answers disabled; \
                     deploy the version that wrote it, or disable/enable to start afresh"
                ));
                (Overrides::unreadable(), false)
            }
        };
        let password = r.password.as_deref().and_then(|text| match StoredHash::parse(text) {
            Ok(h) => Some(h),
            Err(e) => {
                notices.push(format!("the stored password cannot be read ({e}), so the link answers password_not_set: set the password again"));
                None
            }
        });
        Ok(Loaded {
            status: Status {
                views: r.views.max(0) as u64,
                overrides,
                first_open: r.first_open,
                last_open: r.last_open,
                session_epoch: u32::try_from(r.session_epoch).unwrap_or(u32::MAX),
                password_set: password.is_some(),
                notices,
                password_attack: None,
            },
            readable,
            revision: r.revision,
            password,
        })
    }

    /// Stores `overrides` (the row is created when missing) and bumps the revision.
    fn save(&self, overrides: &Overrides) -> Result<()> {
        let against = |a: Option<String>| text_or_null(a);
        self.sql().exec(
            "INSERT INTO gate (id, views, overrides, expires_against, max_views_against, revision) VALUES (1, 0, ?, ?, ?, 1)
             ON CONFLICT(id) DO UPDATE SET overrides = excluded.overrides, expires_against = excluded.expires_against,
               max_views_against = excluded.max_views_against, revision = gate.revision + 1",
            vec![
                SqlStorageValue::String(serde_json::to_string(&overrides.stored_shape())?),
                against(overrides.expires_against.as_ref().map(serde_json::to_string).transpose()?),
                against(overrides.max_views_against.as_ref().map(serde_json::to_string).transpose()?),
            ],
        )?;
        Ok(())
    }

    /// The wider scopes' states, each from its own object (asked at once) and settled there
    /// against the terms it was published with, so a gallery's or an audience's disable or
    /// revoke is seen by the very next open and a change of theirs that a publish made lapse is
    /// stored as lapsed (a later publish cannot revive it), as a link's own is.
    async fn wider_settled(&self, scope: &Scope, terms: &[LinkPolicy]) -> Result<Vec<Status>> {
        let wider = scope.wider();
        if terms.len() != wider.len() {
            let name = scope.object_name();
            return Err(worker::Error::RustError(format!("LinkGate {name}: {} wider scopes but terms for {}", wider.len(), terms.len())));
        }
        let clients = wider.iter().map(|w| GateClient::for_scope(&self.env, w)).collect::<Result<Vec<_>>>()?;
        join_all(clients.iter().zip(terms).map(|(c, t)| c.settle(t))).await.into_iter().collect()
    }

    /// Decides an open from this link's loaded state and its wider scopes' (synchronous).
    fn decide(policy: &LinkPolicy, loaded: &Loaded, wider: &[Status], terms: &[LinkPolicy], now: i64) -> std::result::Result<Admission, Denial> {
        let terms: Vec<&LinkPolicy> = terms.iter().collect();
        let in_force = policy_in_force(policy, &loaded.status.overrides, wider.iter().map(|w| &w.overrides), &terms);
        decide_open(&in_force, loaded.status.views, now)
    }

    /// This scope's state settled against `terms`: what a narrower link's open asks of it.
    async fn settle(&self, terms: &LinkPolicy) -> Result<Status> {
        let scope = self.scope()?;
        let loaded = self.load()?;
        let (settled, resettle) = Self::settled(&loaded, terms);
        if !resettle {
            return Ok(loaded.status);
        }
        self.resettle(&scope, &settled).await?;
        Ok(self.load()?.status)
    }

    /// The stored overrides as `policy` leaves them (a publish may have made a change lapse),
    /// and whether that differs from what is stored.
    fn settled(loaded: &Loaded, policy: &LinkPolicy) -> (Overrides, bool) {
        let stored = &loaded.status.overrides;
        let settled = if loaded.readable { stored.settled(policy) } else { stored.clone() };
        let resettle = loaded.readable && settled != *stored;
        (settled, resettle)
    }

    /// A publish made a runtime change lapse (or an earlier version's change gets the published
    /// value recorded): store it so a later publish cannot revive it.
    async fn resettle(&self, scope: &Scope, settled: &Overrides) -> Result<()> {
        self.save(settled)?;
        self.mirror(scope).await
    }

    /// Counts an admitted open (synchronous: callers decide and count with no await between).
    fn count(&self, admission: Admission, session_epoch: u32, now: i64) -> Result<Admission> {
        self.sql().exec(
            "INSERT INTO gate (id, views, overrides, first_open, last_open) VALUES (1, ?, '{}', ?, ?)
             ON CONFLICT(id) DO UPDATE SET views = excluded.views,
               first_open = COALESCE(gate.first_open, excluded.first_open), last_open = excluded.last_open",
            vec![SqlStorageValue::Integer(admission.view_number as i64), SqlStorageValue::Integer(now), SqlStorageValue::Integer(now)],
        )?;
        Ok(Admission { session_epoch, ..admission })
    }

    async fn open(&self, req: &OpenRequest) -> Result<OpenResponse> {
        let scope = self.scope()?;
        let wider = self.wider_settled(&scope, &req.wider_terms).await?;
        // From here to the writes: no await.
        let loaded = self.load()?;
        let (settled, resettle) = Self::settled(&loaded, &req.policy);
        let status = &loaded.status;
        let response = match Self::decide(&req.policy, &loaded, &wider, &req.wider_terms, req.now) {
            Err(denial) => OpenResponse::Denied(denial),
            // A password link opens through `/unlock` only, whoever asks here.
            Ok(_) if req.policy.password => OpenResponse::Denied(if status.password_set { Denial::PasswordRequired } else { Denial::PasswordNotSet }),
            Ok(admission) => {
                let epoch = session_epoch(status.session_epoch, wider.iter().map(|w| w.session_epoch));
                OpenResponse::Admitted(self.count(admission, epoch, req.now)?)
            }
        };
        if resettle {
            self.resettle(&scope, &settled).await?;
        }
        Ok(response)
    }

    /// A password attempt: the link's state, then the password being set, then the throttle
    /// (checked and booked as a wrong attempt in one step, so concurrent guesses cannot pass
    /// the limit together), then PBKDF2. A right password asks the wider scopes again (a
    /// disable or revoke of the audience or gallery landing during the derive is seen), then
    /// takes its booking back and counts the open with the state decided again, in one
    /// synchronous step.
    async fn unlock(&self, req: &UnlockRequest) -> Result<UnlockResponse> {
        let scope = self.scope()?;
        let wider = self.wider_settled(&scope, &req.wider_terms).await?;
        let loaded = self.load()?;
        let (settled, resettle) = Self::settled(&loaded, &req.policy);
        let decided = Self::decide(&req.policy, &loaded, &wider, &req.wider_terms, req.now);
        let checked = match (decided, &loaded.password) {
            (Err(denial), _) => Err(UnlockResponse::Denied(denial)),
            (Ok(_), None) => Err(UnlockResponse::Denied(Denial::PasswordNotSet)),
            (Ok(_), Some(stored)) => match self.book_attempt(&req.network, req.now)? {
                Err(retry_after) => Err(UnlockResponse::Throttled { retry_after }),
                Ok(booking) => Ok((stored, booking)),
            },
        };
        if resettle {
            self.resettle(&scope, &settled).await?;
        }
        let (stored, booking) = match checked {
            Ok(found) => found,
            Err(answer) => return Ok(answer),
        };
        if !password::verify(&req.password, stored).await? {
            return Ok(UnlockResponse::Denied(Denial::WrongPassword));
        }
        let wider = self.wider_settled(&scope, &req.wider_terms).await?;
        // From here to the count: no await.
        let now = self.load()?;
        if now.password.as_ref() != Some(stored) {
            // The owner changed the password while this one was being checked.
            return Ok(UnlockResponse::Denied(Denial::WrongPassword));
        }
        self.sql().exec("DELETE FROM password_attempts WHERE rowid = ?", vec![SqlStorageValue::Integer(booking)])?;
        Ok(match Self::decide(&req.policy, &now, &wider, &req.wider_terms, req.now) {
            Err(denial) => UnlockResponse::Denied(denial),
            Ok(admission) => {
                let epoch = session_epoch(now.status.session_epoch, wider.iter().map(|w| w.session_epoch));
                UnlockResponse::Admitted(self.count(admission, epoch, req.now)?)
            }
        })
    }

    /// Sets or clears the password: the epoch moves on (every open session ends) and earlier
    /// wrong attempts are forgotten.
    async fn set_password(&self, change: &PasswordChange) -> Result<Status> {
        let scope = self.scope()?;
        if let Some(text) = &change.hash {
            StoredHash::parse(text).map_err(worker::Error::RustError)?;
        }
        self.sql().exec(
            "INSERT INTO gate (id, views, overrides, session_epoch, revision, password) VALUES (1, 0, '{}', 1, 1, ?)
             ON CONFLICT(id) DO UPDATE SET password = excluded.password, session_epoch = gate.session_epoch + 1, revision = gate.revision + 1",
            vec![text_or_null(change.hash.clone())],
        )?;
        self.sql().exec("DELETE FROM password_attempts", None)?;
        self.mirror(&scope).await?;
        Ok(self.load()?.status)
    }

    async fn change(&self, req: &ChangeRequest) -> Result<ChangeResponse> {
        let scope = self.scope()?;
        let loaded = self.load()?;
        let next = match loaded.status.overrides.apply(&req.change, &req.policy, loaded.status.views, req.now, &req.utc_offsets) {
            Ok(next) => next,
            Err(refusal) => return Ok(ChangeResponse::Refused(refusal)),
        };
        self.save(&next)?;
        self.mirror(&scope).await?;
        Ok(ChangeResponse::Changed(self.load()?.status))
    }

    async fn revoke(&self) -> Result<Status> {
        let scope = self.scope()?;
        self.sql().exec(
            "INSERT INTO gate (id, views, overrides, session_epoch, revision) VALUES (1, 0, '{}', 1, 1)
             ON CONFLICT(id) DO UPDATE SET session_epoch = gate.session_epoch + 1, revision = gate.revision + 1",
            None,
        )?;
        self.mirror(&scope).await?;
        Ok(self.load()?.status)
    }

    /// Writes the current state to KV, retrying; a write that still fails is recorded and
    /// shown to the owner in every status until a later write succeeds. Concurrent changes may
    /// finish their writes out of order, so a write that finds a newer revision writes again.
    async fn mirror(&self, scope: &Scope) -> Result<()> {
        let kv = self.env.kv("LINK_STATE")?;
        let mut failure = None;
        let mut written = -1;
        for attempt in 1..=MIRROR_ATTEMPTS + 1 {
            let loaded = self.load()?;
            if !loaded.readable || loaded.revision == written {
                break;
            }
            let status = &loaded.status;
            let mirror = serde_json::to_string(&Mirror { shape: MIRROR_SHAPE, overrides: status.overrides.clone(), session_epoch: status.session_epoch })?;
            let mut result = kv.put(&scope.mirror_key(), mirror)?.execute().await;
            if let (Ok(()), Some(legacy)) = (&result, scope.legacy_mirror_key()) {
                result = kv.put(&legacy, serde_json::to_string(&status.overrides.stored_shape())?)?.execute().await;
            }
            match result {
                Ok(()) => {
                    written = loaded.revision;
                    failure = None;
                }
                Err(e) => {
                    worker::console_error!("LinkGate {}: mirroring to KV failed (attempt {attempt}): {e}", scope.object_name());
                    failure = Some(e.to_string());
                    if attempt < MIRROR_ATTEMPTS {
                        worker::Delay::from(std::time::Duration::from_millis(200 * u64::from(attempt))).await;
                    }
                }
            }
        }
        let notice = failure.map(|e| {
            format!(
                "the change is stored, but copying it to KV failed {MIRROR_ATTEMPTS} times ({e}): open sessions keep their images \
                 until a later change copies it; repeat the action"
            )
        });
        self.sql().exec("UPDATE gate SET mirror_error = ? WHERE id = 1", vec![text_or_null(notice)])?;
        Ok(())
    }

    /// Replaces the overrides wholesale: kept for tools that set a known state directly (the
    /// end-to-end harness); owner actions go through `/change`.
    async fn replace(&self, overrides: &Overrides) -> Result<Status> {
        let scope = self.scope()?;
        self.save(overrides)?;
        self.mirror(&scope).await?;
        Ok(self.load()?.status)
    }
}

impl DurableObject for LinkGate {
    fn new(state: State, env: Env) -> Self {
        // Idempotent and cheap; running it here keeps every handler free of schema checks.
        let sql = state.storage().sql();
        if let Err(e) = sql.exec(
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
        attempts::create_tables(&sql);
        for column in ADDED_COLUMNS {
            if let Err(e) = sql.exec(&format!("ALTER TABLE gate ADD COLUMN {column}"), None)
                && !e.to_string().contains("duplicate column")
            {
                worker::console_error!("LinkGate: adding column {column} failed: {e}");
            }
        }
        LinkGate { state, env }
    }

    async fn fetch(&self, mut req: Request) -> Result<Response> {
        // The worker's own requests: a policy, a change, a password hash, a few hundred bytes.
        const BODY_BYTES: usize = 64 * 1024;
        let path = req.path();
        match (req.method(), path.as_str()) {
            (Method::Post, "/open") => match crate::http::read_json::<OpenRequest>(&mut req, BODY_BYTES).await? {
                Ok(body) => Response::from_json(&self.open(&body).await?),
                Err(e) => Response::error(format!("body must be {{\"policy\": LinkPolicy, \"now\": i64}}: {e}"), 400),
            },
            (Method::Get, "/status") => Response::from_json(&self.status_now()?),
            (Method::Post, "/settle") => match crate::http::read_json::<LinkPolicy>(&mut req, BODY_BYTES).await? {
                Ok(terms) => Response::from_json(&self.settle(&terms).await?),
                Err(e) => Response::error(format!("body must be the scope's published terms (LinkPolicy): {e}"), 400),
            },
            (Method::Post, "/change") => match crate::http::read_json::<ChangeRequest>(&mut req, BODY_BYTES).await? {
                Ok(body) => Response::from_json(&self.change(&body).await?),
                Err(e) => Response::error(format!("body must be a ChangeRequest: {e}"), 400),
            },
            (Method::Post, "/revoke") => Response::from_json(&self.revoke().await?),
            (Method::Post, "/unlock") => match crate::http::read_json::<UnlockRequest>(&mut req, BODY_BYTES).await? {
                Ok(body) => Response::from_json(&self.unlock(&body).await?),
                // serde's message would quote the body, and the body holds a password.
                Err(_) => Response::error("body must be an UnlockRequest", 400),
            },
            (Method::Put, "/password") => match crate::http::read_json::<PasswordChange>(&mut req, BODY_BYTES).await? {
                Ok(body) => Response::from_json(&self.set_password(&body).await?),
                Err(e) => Response::error(format!("body must be {{\"hash\": \"pbkdf2-sha256$...\" | null}}: {e}"), 400),
            },
            (Method::Put, "/overrides") => match crate::http::read_json::<Overrides>(&mut req, BODY_BYTES).await? {
                Ok(o) => Response::from_json(&self.replace(&o).await?),
                Err(e) => Response::error(format!("body must be Overrides JSON: {e}"), 400),
            },
            _ => Response::error("LinkGate: unknown operation", 404),
        }
    }
}

#[cfg(test)]
mod tests;
