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
//! land. The link's wider scopes' states (its audience's, its gallery's) come from the copies
//! the link's object holds of them (`wider`): each scope's object pushes every change to the
//! links holding a copy before it answers the owner, which is what makes a disable of a whole
//! audience or gallery close every link's next open at once while an open, a HEAD or a bot asks
//! one object only. A link without a usable copy asks the scope's object, which settles its own
//! runtime changes against the terms it was published with (which the open carries), so they
//! lapse as a link's own do; the decision is the one composition of them all,
//! [`gatefold_contract::policy::in_force`].
//!
//! The object's row lives in SQLite (`store`, its schema beside it); every change is mirrored
//! to KV `LINK_STATE` as `runtime/<object name>` (`mirror`), which the in-session checks read
//! (see [`runtime`]). A link's password is checked here too (`unlock`), with its wrong-attempt
//! throttle (`attempts`).

use crate::password;
use futures_util::future::{join, join_all};
use gatefold_contract::devices::{DeviceDecision, DeviceSeen, DeviceSummary};
use gatefold_contract::policy::{Admission, Change, Refusal, decide_open};
use gatefold_contract::{Denial, LinkPolicy, Overrides};
use serde::{Deserialize, Serialize};
use worker::{DurableObject, Env, Method, Request, RequestInit, Response, Result, State, Stub, durable_object};

mod attempts;
mod client;
mod devices;
mod mirror;
mod runtime;
mod scope;
mod store;
mod unlock;
mod wider;

pub use client::{GateClient, owned_wider_terms, wider_statuses};
pub use devices::{DeviceChange, DeviceChangeResponse, DeviceList};
pub use wider::{ScopeCopy, SubscribeRequest, SubscribeResponse};
pub use runtime::{LinkRuntime, runtime, runtimes};
pub use scope::{Scope, policy_in_force, session_epoch, settled_in_force};
use store::Loaded;

/// Any host works for a Durable Object stub; it only looks at the path.
const STUB_ORIGIN: &str = "https://link-gate";

#[derive(Debug, Deserialize, Serialize)]
pub struct OpenRequest {
    pub policy: LinkPolicy,
    pub now: i64,
    /// The published terms of the link's wider scopes ([`Scope::wider_terms`]), which their
    /// runtime changes are settled against.
    pub wider_terms: Vec<LinkPolicy>,
    /// The device a counted open comes from (`crate::visitor::device`); `None` for a request
    /// that counts nothing.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub device: Option<DeviceSeen>,
}

#[derive(Debug, Deserialize, Serialize, PartialEq)]
#[serde(rename_all = "snake_case")]
pub enum OpenResponse {
    Admitted(Admission),
    Denied(Denial),
}

/// A link's real state without taking an open (`POST /state`, with an [`OpenRequest`]): what
/// HEAD, bots and scanners are told, in one object call.
#[derive(Debug, Deserialize, Serialize, PartialEq)]
pub struct StateResponse {
    /// Why a new open would be refused now (`None`: it would be admitted, password apart).
    pub denial: Option<Denial>,
    /// The link's own status (whether a password is set).
    pub own: Status,
    /// When the link closes under the policy in force (runtime changes of every scope
    /// included), if ever: what a chat app's preview says ("until …"), read in the same call.
    #[serde(default)]
    pub expires_at: Option<i64>,
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
    /// A link's admitted devices, extra allowance and forwarding flag (only the status the
    /// admin API reads carries it).
    #[serde(default)]
    pub devices: DeviceSummary,
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
    /// As [`OpenRequest::device`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub device: Option<DeviceSeen>,
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

impl LinkGate {
    fn scope(&self) -> Result<Scope> {
        let name = self.state.id().name().ok_or_else(|| worker::Error::RustError("LinkGate has no name: create it with id_from_name".into()))?;
        Scope::from_object_name(&name).ok_or_else(|| {
            worker::Error::RustError(format!("LinkGate name {name:?} is not <gallery>/<link>, <gallery>/<audience>/<recipient>, <gallery>/* or <gallery>/@<audience>"))
        })
    }

    /// Decides an open from this link's loaded state and its wider scopes' (synchronous).
    fn decide(policy: &LinkPolicy, loaded: &Loaded, wider: &[Status], terms: &[LinkPolicy], now: i64) -> std::result::Result<Admission, Denial> {
        let terms: Vec<&LinkPolicy> = terms.iter().collect();
        let in_force = policy_in_force(policy, &loaded.status.overrides, wider.iter().map(|w| &w.overrides), &terms);
        decide_open(&in_force, loaded.status.views, now)
    }

    /// This scope's state settled against `terms` (a change a publish made lapse is stored as
    /// lapsed, so a later publish cannot revive it): what a narrower link asks of it.
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

    /// The link's real state for a request that counts nothing (no lapse stored: as `/status`).
    async fn state(&self, req: &OpenRequest) -> Result<StateResponse> {
        let scope = self.scope()?;
        let wider = self.wider_states(&scope, &req.wider_terms).await?;
        let loaded = self.load()?;
        let mut denial = Self::decide(&req.policy, &loaded, &wider, &req.wider_terms, req.now).err();
        // A device named here is asking about itself (nothing is counted or remembered).
        if let (None, Some(device)) = (denial, req.device.as_ref())
            && self.device_would_be_refused(device, req.policy.devices)?
        {
            denial = Some(Denial::DeviceLimit);
        }
        let terms: Vec<&LinkPolicy> = req.wider_terms.iter().collect();
        let expires_at = policy_in_force(&req.policy, &loaded.status.overrides, wider.iter().map(|w| &w.overrides), &terms).expires_at;
        Ok(StateResponse { denial, own: loaded.status, expires_at })
    }

    async fn open(&self, req: &OpenRequest) -> Result<OpenResponse> {
        let scope = self.scope()?;
        let wider = self.wider_states(&scope, &req.wider_terms).await?;
        // From here to the writes: no await.
        let loaded = self.load()?;
        let (settled, resettle) = Self::settled(&loaded, &req.policy);
        let status = &loaded.status;
        let response = match Self::decide(&req.policy, &loaded, &wider, &req.wider_terms, req.now) {
            Err(denial) => OpenResponse::Denied(denial),
            // A password link opens through `/unlock` only, whoever asks here.
            Ok(_) if req.policy.password => OpenResponse::Denied(if status.password_set { Denial::PasswordRequired } else { Denial::PasswordNotSet }),
            Ok(_) if self.device_refused(req.device.as_ref(), &req.policy, req.now)? => OpenResponse::Denied(Denial::DeviceLimit),
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

    /// Whether the open's device is one more than the link admits (no device: a request that
    /// counts nothing, never refused here). Synchronous, between the decision and the count.
    fn device_refused(&self, device: Option<&DeviceSeen>, policy: &LinkPolicy, now: i64) -> Result<bool> {
        let Some(device) = device else { return Ok(false) };
        Ok(self.take_device(device, policy.devices, now)? == DeviceDecision::Refused)
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
        self.bump_epoch()?;
        self.mirror(&scope).await?;
        Ok(self.load()?.status)
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
        store::create_table(&sql);
        attempts::create_tables(&sql);
        wider::create_tables(&sql);
        devices::create_tables(&sql);
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
            (Method::Post, "/state") => match crate::http::read_json::<OpenRequest>(&mut req, BODY_BYTES).await? {
                Ok(body) => Response::from_json(&self.state(&body).await?),
                Err(e) => Response::error(format!("body must be {{\"policy\": LinkPolicy, \"now\": i64}}: {e}"), 400),
            },
            (Method::Get, "/status") => Response::from_json(&self.with_devices(self.status_now()?)?),
            (Method::Get, "/devices") => Response::from_json(&self.device_list()?),
            (Method::Post, "/devices") => match crate::http::read_json::<DeviceChange>(&mut req, BODY_BYTES).await? {
                Ok(change) => Response::from_json(&self.change_devices(&change)?),
                Err(e) => Response::error(format!("body must be a DeviceChange: {e}"), 400),
            },
            (Method::Post, "/subscribe") => match crate::http::read_json::<SubscribeRequest>(&mut req, BODY_BYTES).await? {
                Ok(body) => match self.subscribe(&body).await? {
                    Ok(answer) => Response::from_json(&answer),
                    Err(e) => Response::error(e, 400),
                },
                Err(e) => Response::error(format!("body must be a SubscribeRequest: {e}"), 400),
            },
            (Method::Put, "/copy") => match crate::http::read_json::<ScopeCopy>(&mut req, BODY_BYTES).await? {
                Ok(copy) if self.take_push(&copy)? => Response::from_json(&serde_json::json!({})),
                Ok(copy) => Response::error(format!("{} is not a wider scope of this link", copy.scope), 400),
                Err(e) => Response::error(format!("body must be a ScopeCopy: {e}"), 400),
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
