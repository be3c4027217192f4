//! Access log storage and analytics: one `GalleryLog` Durable Object per gallery
//! (`id_from_name(gallery)`), holding the gallery's events in its own SQLite database.
//!
//! One object per gallery keeps every write and every stats query local to one small
//! database (no cross-gallery scans, no global hot spot), and SQLite's indexes answer the
//! grouped counts of [`rollup`] directly. The worker hands events over with
//! `crate::access::record` after the response has been sent.
//!
//! Everything talks to the object through [`GalleryLogClient`]; the operations it sends are
//! the [`Op`]s (only reachable through the `GALLERY_LOG` binding, never from the internet):
//! - [`Op::Events`] — a [`Batch`]; stores it (aggregating repeats) and drops rows older than
//!   the site's retention, at most once an hour.
//! - [`Op::Stats`] — [`rollup::Query`] → [`rollup::Rollup`].
//! - [`Op::Export`] — [`ExportPage`] → `Vec<`[`StoredEvent`]`>`, oldest first.
//! - [`Op::Activity`] — `{}` → every link's `Vec<`[`rollup::LinkActivity`]`>` ever (the admin
//!   links list's recipients, in one query however many there are).
//! - [`Op::Audit`] — `POST /audit?retention_days=N` with an `AuditEntry` stores one owner
//!   action (and drops entries older than the retention); `GET /audit?from&to` (Unix ms)
//!   answers an `AuditLog`, newest first.
//! - [`Op::PasswordAttack`] — a link's `LinkGate` reports a distributed guess at its password
//!   ([`crate::notify::AttackReport`]); enqueued as a `password_attack` notice.
//! - [`Op::SignInAttempt`] — the admin sign-in throttle (only on the object
//!   named [`AUTH_OBJECT`]; see [`crate::sign_in_throttle`]).

pub mod audit;
pub mod export;
pub mod outbox;
pub mod rollup;

mod client;
mod object;
pub use client::GalleryLogClient;
pub use object::GalleryLog;

use crate::access::AccessEvent;
use serde::{Deserialize, Serialize};

/// The object that keeps admin sign-in failures. Gallery ids are folder names made of
/// letters, digits and dashes, so a name with a colon cannot collide with one.
pub const AUTH_OBJECT: &str = "gatefold:admin-auth";

/// Events are inserted in chunks of this many rows per statement-batch, keeping each request's
/// work bounded.
pub const MAX_EVENTS_PER_REQUEST: usize = 10_000;

/// Distinct aggregated rows one gallery's log takes per minute; past it, further aggregated
/// events of that minute fold into one overflow row per link, kind and outcome (visitor
/// [`OVERFLOW_VISITOR`]), so even rotating User-Agents and addresses cannot grow the log by
/// one row per request, while the counts stay exact.
pub const MAX_AGGREGATED_ROWS_PER_MINUTE: u32 = 100;
pub const OVERFLOW_VISITOR: &str = "(overflow)";

/// Old rows are deleted at most this often, and at most this many per write, so pruning
/// never makes one write slow.
pub const PRUNE_EVERY_MS: i64 = 3_600_000;
pub const PRUNE_BATCH: u32 = 10_000;

/// Rows per page when reading events for an export: one page is all the worker and the
/// object hold at a time.
pub const EXPORT_PAGE: u32 = 1_000;

/// A write to a gallery's log.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Batch {
    /// The writer's clock (Unix ms), which the object prunes by.
    pub now_ms: i64,
    /// `analytics.retention_days` of the published site.
    pub retention_days: u32,
    pub events: Vec<AccessEvent>,
    /// The gallery the log belongs to (a Durable Object does not know its own name), so the
    /// log can read its record and tell the owner's channels (`crate::notify`). Absent: no
    /// notifications are derived.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gallery: Option<String>,
    /// For a batch of one admitted open: its view number and limit.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub views: Option<crate::notify::ViewHint>,
}

/// A stored row as an export reads it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StoredEvent {
    pub id: i64,
    #[serde(flatten)]
    pub event: AccessEvent,
}

/// One page of a raw-event export.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ExportPage {
    pub query: rollup::Query,
    /// Rows with an id above this one.
    pub after_id: i64,
    pub limit: u32,
}

/// The operations a `GalleryLog` answers, named once for the client and the object.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    Events,
    Stats,
    Export,
    Activity,
    Audit,
    SignInAttempt,
    Digest,
    DigestPlan,
    Notifications,
    PasswordAttack,
}

impl Op {
    const ALL: [Op; 10] = [
        Op::Events,
        Op::Stats,
        Op::Export,
        Op::Activity,
        Op::Audit,
        Op::SignInAttempt,
        Op::Digest,
        Op::DigestPlan,
        Op::Notifications,
        Op::PasswordAttack,
    ];

    pub fn path(self) -> &'static str {
        match self {
            Op::Events => "/events",
            Op::Stats => "/stats",
            Op::Export => "/export",
            Op::Activity => "/activity",
            Op::Audit => "/audit",
            Op::SignInAttempt => "/auth/attempt",
            Op::Digest => "/digest",
            Op::DigestPlan => "/digest/plan",
            Op::Notifications => "/notifications",
            Op::PasswordAttack => "/password-attack",
        }
    }

    pub fn from_path(path: &str) -> Option<Op> {
        Op::ALL.into_iter().find(|op| op.path() == path)
    }
}
