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
//!   for, enqueued for the channels that want them;
//! - [`requests`] — access requests (`requests`): what a refused person asked, throttled per
//!   network and link, bounded per link and gallery, under the retention, and their answers.
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
pub mod go_live;
pub mod forwarding;
#[cfg(feature = "owner")]
pub mod notices;
#[cfg(feature = "owner")]
pub mod outbox;
#[cfg(feature = "owner")]
pub mod requests;
#[cfg(feature = "owner")]
pub mod rollup;

mod client;
#[cfg(feature = "owner")]
mod object;
pub use client::{GalleryLogClient, record, schedule_go_live};
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

/// Links of a gallery that open later (`opens_at:`), as the visitor's Worker first sees them
/// after a publish: the log's alarm is armed for the earliest, to send `go_live` on the minute.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GoLives {
    /// The gallery (a log does not know its own name).
    pub gallery: String,
    /// `(link name, opens at in Unix seconds)`, at most [`GO_LIVES_MAX`].
    pub links: Vec<(String, i64)>,
}

/// The most links one [`GoLives`] names (a gallery's links are bounded by its record anyway).
pub const GO_LIVES_MAX: usize = 1000;
/// A person's access request, as the visitor's Worker hands it to the gallery's log (see
/// [`requests`] for what the log keeps and how it throttles).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AskAccess {
    pub gallery: String,
    pub link: String,
    /// Unix ms.
    pub at: i64,
    pub name: Option<String>,
    pub message: Option<String>,
    /// The denial code the person was shown.
    pub reason: String,
    pub device: String,
    pub place: Option<String>,
    /// The asker's network and allocation (`crate::network`) under the site's keyed hash.
    pub network: String,
    pub wide: String,
    pub retention_days: u32,
}

/// The log's answer to an [`AskAccess`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Asked {
    /// Stored; `key` is the request's random part, the asking browser's cookie.
    Created { key: String },
    /// This network asked too often for this link lately: seconds until it may again.
    Throttled { retry_after: i64 },
}

/// `{link, key}` → where that browser's request stands, if the link has it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ViewQuery {
    pub link: String,
    pub key: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RequestView {
    pub state: gatefold_contract::requests::RequestState,
    /// Unix ms.
    pub at: i64,
    pub reply: Option<String>,
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
    /// [`GoLives`]: scheduled openings to announce (`go_live`) from the log's alarm.
    GoLive,
    /// An [`AskAccess`] → [`Asked`]: stored under the throttle and bounds, `access_requested`
    /// enqueued.
    AskAccess,
    /// A [`ViewQuery`] → `Option<`[`RequestView`]`>`.
    RequestView,
    /// `requests::ListQuery` → `Vec<`[`requests::Stored`]`>`, newest first.
    Requests,
    /// `requests::Answer` → the request as it now stands (`None`: unknown, or not open when the
    /// answer needs it open).
    AnswerRequest,
}

impl Op {
    const ALL: [Op; 15] = [
        Op::Events,
        Op::Stats,
        Op::Export,
        Op::Activity,
        Op::Audit,
        Op::Notifications,
        Op::PasswordAttack,
        Op::Forwarding,
        Op::Flags,
        Op::Enqueue,
        Op::GoLive,
        Op::AskAccess,
        Op::RequestView,
        Op::Requests,
        Op::AnswerRequest,
    ];

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
            Op::GoLive => "/go-live",
            Op::AskAccess => "/requests/ask",
            Op::RequestView => "/requests/view",
            Op::Requests => "/requests/list",
            Op::AnswerRequest => "/requests/answer",
        }
    }

    pub fn from_path(path: &str) -> Option<Op> {
        Op::ALL.into_iter().find(|op| op.path() == path)
    }
}
