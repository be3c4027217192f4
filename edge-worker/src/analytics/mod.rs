//! Access log storage and analytics: one `GalleryLog` Durable Object per gallery
//! (`id_from_name(gallery)`), holding the gallery's events in its own SQLite database.
//!
//! One object per gallery keeps every write and every stats query local to one small
//! database (no cross-gallery scans, no global hot spot), and SQLite's indexes answer the
//! grouped counts of [`rollup`] directly. The worker hands events over with
//! `crate::access::record` after the response has been sent.
//!
//! Requests the object answers (only reachable through the `GALLERY_LOG` binding):
//! - `POST /events` — JSON array of [`crate::access::AccessEvent`]; stores them.
//! - `POST /stats` — [`rollup::Query`] → [`rollup::Rollup`].
//! - `POST /export` — [`ExportPage`] → `Vec<`[`export::Row`]`>`, oldest first.
//! - `POST /auth/check`, `/auth/fail`, `/auth/ok` — the admin sign-in throttle (only on the
//!   object named [`AUTH_OBJECT`]; see `crate::admin::auth`).

pub mod export;
pub mod rollup;
pub mod throttle;

mod object;
pub use object::{AuthAnswer, AuthRequest, GalleryLog, call, stub};

use serde::{Deserialize, Serialize};

/// The object that keeps admin sign-in failures. Gallery ids are folder names made of
/// letters, digits and dashes, so a name with a colon cannot collide with one.
pub const AUTH_OBJECT: &str = "gatefold:admin-auth";

/// Events are inserted in chunks of this many rows per statement-batch, keeping each request's
/// work bounded.
pub const MAX_EVENTS_PER_REQUEST: usize = 10_000;

/// One page of a raw-event export.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ExportPage {
    pub query: rollup::Query,
    /// Rows with an id above this one.
    pub after_id: i64,
    pub limit: u32,
}
