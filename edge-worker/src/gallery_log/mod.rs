//! The gallery log: one `GalleryLog` Durable Object per gallery (`id_from_name(gallery)`),
//! holding in its own SQLite database what happened to the gallery and what its owners are
//! still to be told. One room per role, each with its table's schema beside its code:
//! - [`access_log`] — the access log (`events`): every open, image view and download, stored
//!   after the visitor's response ([`record`]), aggregated, pruned to the site's retention,
//!   and the grouped reads behind [`rollup`] (statistics), [`export`] (CSV and Excel, pure)
//!   and every link's activity;
//! - [`audit`] — the audit log (`audit`) of owner actions, and how an action is worded;
//!   [`follow_up`] — who to remind (pure, from the links' activity);
//! - [`outbox`] — the notification outbox (`outbox`, `dead_letters`): notices waiting, sent
//!   from the object's alarm with retries, then dead letters;
//! - [`forwarding`] — each link's latest "possibly forwarded" flag (`forwarding_flags`), as its
//!   `LinkGate` reported it;
//! - [`notices`] — which notices a stored event, an owner action or a password attack stands
//!   for, enqueued for the channels that want them.
//!
//! One object per gallery keeps every write and every stats query local to one small database
//! (no cross-gallery scans, no global hot spot), and SQLite's indexes answer the grouped counts
//! directly. The log imports nothing that calls it: the visitor, the admin API, a link's
//! `LinkGate` and the daily digest (`crate::digest`) all reach it through
//! [`GalleryLogClient`], with the operations named once in [`Op`] (only reachable through the
//! `GALLERY_LOG` binding, never from the internet). The class lives in the owner's Worker; the
//! visitor's binds it by `script_name` and compiles only the client's writes.

// The visitor's Worker only writes to the log ([`record`], a `LinkGate`'s attack report): the
// object, its rooms and everything that reads them are the owner's Worker's.
#[cfg(feature = "owner")]
pub mod access_log;
#[cfg(feature = "owner")]
pub mod audit;
#[cfg(feature = "owner")]
pub mod export;
#[cfg(feature = "owner")]
pub mod follow_up;
#[cfg(feature = "owner")]
pub mod forwarding;
#[cfg(feature = "owner")]
pub mod notices;
#[cfg(feature = "owner")]
pub mod outbox;
#[cfg(feature = "owner")]
pub mod rollup;

mod client;
#[cfg(feature = "owner")]
mod object;
pub use client::{GalleryLogClient, record};
#[cfg(feature = "owner")]
pub use object::GalleryLog;

use crate::access::AccessEvent;
use gatefold_contract::policy::Admission;
use serde::{Deserialize, Serialize};

/// A write to a gallery's log.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Batch {
    /// The writer's clock (Unix ms), which the object prunes by.
    pub now_ms: i64,
    /// `analytics.retention_days` of the published site.
    pub retention_days: u32,
    pub events: Vec<AccessEvent>,
    /// The gallery the log belongs to (a Durable Object does not know its own name), so the
    /// log can read its record and tell the owner's channels ([`notices`]). Absent: no
    /// notifications are derived.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gallery: Option<String>,
    /// For a batch of one admitted open: its admission (view number, limit in force).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub admission: Option<Admission>,
}

/// A distributed guess at a link's password, as its `LinkGate` hands it to the gallery's log
/// (see `crate::password::attack`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AttackReport {
    /// The gallery (a log does not know its own name).
    pub gallery: String,
    /// The link's name in its gallery (`<link>` or `<audience>/<recipient>`).
    pub link: String,
    /// Wrong tries and the networks (allocations) they came from, in the last hour.
    pub wrong: u32,
    pub networks: u32,
    pub at_ms: i64,
}

/// A link's new "possibly forwarded" flag, as its `LinkGate` hands it to the gallery's log
/// (once per link and day): stored, and told to the channels that want `forwarding_suspected`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ForwardingReport {
    pub gallery: String,
    pub link: String,
    pub forwarding: gatefold_contract::devices::Forwarding,
}

/// The operations a `GalleryLog` answers, named once for the client and the object.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    /// A [`Batch`]: stored (aggregating repeats, pruning at most once an hour), then its
    /// notices enqueued.
    Events,
    /// [`rollup::Query`] → [`rollup::Rollup`].
    Stats,
    /// [`access_log::ExportPage`] → `Vec<`[`access_log::StoredEvent`]`>`, oldest first.
    Export,
    /// [`access_log::ActivityQuery`] → every link's `Vec<`[`rollup::LinkActivity`]`>` (ever, or
    /// within a window), in one query however many links there are.
    Activity,
    /// `POST /audit?retention_days=N` with an `AuditEntry` stores one owner action (and drops
    /// entries older than the retention); `GET /audit?from&to` (Unix ms) answers an
    /// `AuditLog`, newest first.
    Audit,
    /// `{}` → the outbox's `NotificationStatus`.
    Notifications,
    /// An [`AttackReport`] from a link's `LinkGate`: a `password_attack` notice.
    PasswordAttack,
    /// A [`ForwardingReport`] from a link's `LinkGate` (once per link and day): the
    /// flag stored, a `forwarding_suspected` notice.
    Forwarding,
    /// `{}` → every flagged link's latest flag (`BTreeMap<link, Forwarding>`).
    Flags,
    /// `Vec<`[`outbox::Queued`]`>`: notices built elsewhere (the daily digest), sent at once.
    Enqueue,
}

impl Op {
    const ALL: [Op; 10] = [Op::Events, Op::Stats, Op::Export, Op::Activity, Op::Audit, Op::Notifications, Op::PasswordAttack, Op::Forwarding, Op::Flags, Op::Enqueue];

    pub fn path(self) -> &'static str {
        match self {
            Op::Events => "/events",
            Op::Stats => "/stats",
            Op::Export => "/export",
            Op::Activity => "/activity",
            Op::Audit => "/audit",
            Op::Notifications => "/notifications",
            Op::PasswordAttack => "/password-attack",
            Op::Forwarding => "/forwarding",
            Op::Flags => "/flags",
            Op::Enqueue => "/outbox",
        }
    }

    pub fn from_path(path: &str) -> Option<Op> {
        Op::ALL.into_iter().find(|op| op.path() == path)
    }
}
