//! A `LinkGate` object's SQL storage: one row (`id = 1`) holding its count, runtime changes,
//! session epoch and password hash, its schema beside the code that reads and writes it.
//!
//! Every write bumps `revision`, which the KV mirror compares to know it wrote the latest state.

use super::{LinkGate, Status};
use crate::password::StoredHash;
use gatefold_contract::Overrides;
use gatefold_contract::policy::Admission;
use serde::Deserialize;
use worker::{Result, SqlStorage, SqlStorageValue};

/// The object's table (idempotent: run when the object starts). `overrides` is
/// `contract::Overrides` as JSON, with the published values its changes were made against;
/// `mirror_error` what the owner is told while the KV mirror is behind (NULL once a write
/// succeeded); `password` a `password::StoredHash` as text (NULL when none is set).
const SCHEMA: &str = "CREATE TABLE IF NOT EXISTS gate (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    views INTEGER NOT NULL DEFAULT 0,
    overrides TEXT NOT NULL DEFAULT '{}',
    first_open INTEGER,
    last_open INTEGER,
    session_epoch INTEGER NOT NULL DEFAULT 0,
    mirror_error TEXT,
    revision INTEGER NOT NULL DEFAULT 0,
    password TEXT)";

#[derive(Deserialize)]
struct Row {
    views: i64,
    overrides: String,
    first_open: Option<i64>,
    last_open: Option<i64>,
    session_epoch: i64,
    mirror_error: Option<String>,
    revision: i64,
    password: Option<String>,
}

/// A row as read: its status, whether its overrides could be read, its revision, and its
/// password hash (`None` when unset or unreadable: either way no password opens the link).
pub(super) struct Loaded {
    pub(super) status: Status,
    pub(super) readable: bool,
    pub(super) revision: i64,
    pub(super) password: Option<StoredHash>,
}

/// Creates the object's table.
pub(super) fn create_table(sql: &SqlStorage) {
    if let Err(e) = sql.exec(SCHEMA, None) {
        worker::console_error!("LinkGate: creating its table failed: {e}");
    }
}

fn text_or_null(value: Option<String>) -> SqlStorageValue {
    value.map_or(SqlStorageValue::Null, SqlStorageValue::String)
}

impl LinkGate {
    pub(super) fn sql(&self) -> SqlStorage {
        self.state.storage().sql()
    }

    pub(super) fn load(&self) -> Result<Loaded> {
        let rows: Vec<Row> = self
            .sql()
            .exec("SELECT views, overrides, first_open, last_open, session_epoch, mirror_error, revision, password FROM gate WHERE id = 1", None)?
            .to_array()?;
        let Some(r) = rows.into_iter().next() else {
            return Ok(Loaded { status: Status::default(), readable: true, revision: 0, password: None });
        };
        let mut notices: Vec<String> = r.mirror_error.iter().cloned().collect();
        let (overrides, readable) = match serde_json::from_str::<Overrides>(&r.overrides) {
            Ok(o) => (o, true),
            Err(e) => {
                notices.push(format!(
                    "the stored runtime state is in a shape this version cannot read (overrides {:.120}: {e}), so the link answers \
                     disabled; deploy the version that wrote it, or disable/enable to start afresh",
                    r.overrides
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
                devices: Default::default(),
            },
            readable,
            revision: r.revision,
            password,
        })
    }

    /// Stores `overrides` (the row is created when missing).
    pub(super) fn save(&self, overrides: &Overrides) -> Result<()> {
        self.sql().exec(
            "INSERT INTO gate (id, overrides, revision) VALUES (1, ?, 1)
             ON CONFLICT(id) DO UPDATE SET overrides = excluded.overrides, revision = gate.revision + 1",
            vec![SqlStorageValue::String(serde_json::to_string(overrides)?)],
        )?;
        Ok(())
    }

    /// Counts an admitted open (synchronous: callers decide and count with no await between).
    pub(super) fn count(&self, admission: Admission, session_epoch: u32, now: i64) -> Result<Admission> {
        self.sql().exec(
            "INSERT INTO gate (id, views, first_open, last_open) VALUES (1, ?, ?, ?)
             ON CONFLICT(id) DO UPDATE SET views = excluded.views,
               first_open = COALESCE(gate.first_open, excluded.first_open), last_open = excluded.last_open",
            vec![SqlStorageValue::Integer(admission.view_number as i64), SqlStorageValue::Integer(now), SqlStorageValue::Integer(now)],
        )?;
        Ok(Admission { session_epoch, ..admission })
    }

    /// Moves the session epoch on: every session issued before ends.
    pub(super) fn bump_epoch(&self) -> Result<()> {
        self.sql().exec(
            "INSERT INTO gate (id, session_epoch, revision) VALUES (1, 1, 1)
             ON CONFLICT(id) DO UPDATE SET session_epoch = gate.session_epoch + 1, revision = gate.revision + 1",
            None,
        )?;
        Ok(())
    }

    /// Stores a password hash (`None` clears it) and moves the session epoch on.
    pub(super) fn store_password(&self, hash: Option<String>) -> Result<()> {
        self.sql().exec(
            "INSERT INTO gate (id, session_epoch, revision, password) VALUES (1, 1, 1, ?)
             ON CONFLICT(id) DO UPDATE SET password = excluded.password, session_epoch = gate.session_epoch + 1, revision = gate.revision + 1",
            vec![text_or_null(hash)],
        )?;
        Ok(())
    }

    /// What the owner must be told about the KV mirror (`None`: it is up to date).
    pub(super) fn store_mirror_error(&self, notice: Option<String>) -> Result<()> {
        self.sql().exec("UPDATE gate SET mirror_error = ? WHERE id = 1", vec![text_or_null(notice)])?;
        Ok(())
    }
}
