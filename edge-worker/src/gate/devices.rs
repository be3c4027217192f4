//! A link's devices (`devices:`) and its forwarding flag, inside its `LinkGate`: the devices it
//! admitted (hashed ids, first and last seen, browser family, OS, city), the ones refused at
//! its limit (evidence only), the owner's extra allowance and the latest flag, decided in the
//! same synchronous step as the count (`gatefold_contract::devices` holds the rules).

use super::{LinkGate, Scope, Status};
use gatefold_contract::devices::{
    self, DEVICES_KEPT_UNLIMITED, DeviceDecision, DeviceRecord, DeviceSeen, DeviceSummary, Forwarding, MAX_EXTRA_DEVICES, REFUSED_KEPT,
};
use serde::{Deserialize, Serialize};
use worker::{Result, SqlStorage, SqlStorageValue};

/// The device rows and the link's device state (idempotent: run when the object starts).
/// `forwarding` is a `contract::devices::Forwarding` as JSON; `noticed_day` the UTC day its
/// last `forwarding_suspected` notice was handed to the gallery's log.
const SCHEMA: [&str; 2] = [
    "CREATE TABLE IF NOT EXISTS devices (
        id TEXT PRIMARY KEY,
        browser TEXT NOT NULL,
        os TEXT NOT NULL,
        city TEXT,
        first_seen INTEGER NOT NULL,
        last_seen INTEGER NOT NULL,
        admitted INTEGER NOT NULL)",
    "CREATE TABLE IF NOT EXISTS device_state (
        id INTEGER PRIMARY KEY CHECK (id = 1),
        extra INTEGER NOT NULL DEFAULT 0,
        forwarding TEXT,
        noticed_day INTEGER)",
];

pub(super) fn create_tables(sql: &SqlStorage) {
    for statement in SCHEMA {
        if let Err(e) = sql.exec(statement, None) {
            worker::console_error!("LinkGate: creating its device tables failed: {e}");
        }
    }
}

/// A link's devices, as the admin API answers them and an owner's action changes them.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, Serialize)]
pub struct DeviceList {
    pub devices: Vec<DeviceRecord>,
    pub summary: DeviceSummary,
}

/// An owner's action on a link's devices (`POST /devices`).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DeviceChange {
    /// Frees the device's slot (its next open is a new device).
    Forget { id: String },
    /// One more device may open the link.
    AllowOne,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DeviceChangeResponse {
    Changed(DeviceList),
    /// No such device, or the allowance is at its cap: the message says which.
    Refused(String),
}

#[derive(Deserialize)]
struct Row {
    id: String,
    browser: String,
    os: String,
    city: Option<String>,
    first_seen: i64,
    last_seen: i64,
    admitted: i64,
}

#[derive(Deserialize, Default)]
struct StateRow {
    extra: i64,
    forwarding: Option<String>,
    noticed_day: Option<i64>,
}

impl LinkGate {
    pub(super) fn device_rows(&self) -> Result<Vec<DeviceRecord>> {
        let rows: Vec<Row> =
            self.sql().exec("SELECT id, browser, os, city, first_seen, last_seen, admitted FROM devices ORDER BY last_seen DESC, id", None)?.to_array()?;
        Ok(rows
            .into_iter()
            .map(|r| DeviceRecord { id: r.id, browser: r.browser, os: r.os, city: r.city, first_seen: r.first_seen, last_seen: r.last_seen, admitted: r.admitted != 0 })
            .collect())
    }

    fn device_state(&self) -> Result<StateRow> {
        let rows: Vec<StateRow> = self.sql().exec("SELECT extra, forwarding, noticed_day FROM device_state WHERE id = 1", None)?.to_array()?;
        Ok(rows.into_iter().next().unwrap_or_default())
    }

    /// The link's devices and their summary (`GET /devices`, and `/status`'s `devices`).
    pub(super) fn device_list(&self) -> Result<DeviceList> {
        let devices = self.device_rows()?;
        let state = self.device_state()?;
        let count = devices.iter().filter(|d| d.admitted).count() as u32;
        let forwarding = state.forwarding.as_deref().and_then(|f| serde_json::from_str(f).ok());
        Ok(DeviceList { devices, summary: DeviceSummary { count, extra: state.extra.max(0) as u32, forwarding } })
    }

    pub(super) fn with_devices(&self, mut status: Status) -> Result<Status> {
        status.devices = self.device_list()?.summary;
        Ok(status)
    }

    /// Whether `seen` would be refused at the limit now, without remembering it: what a request
    /// that counts nothing (an access request's form) is told about its own device.
    pub(super) fn device_would_be_refused(&self, seen: &DeviceSeen, limit: Option<u8>) -> Result<bool> {
        if limit.is_none() {
            return Ok(false);
        }
        let extra = self.device_state()?.extra.max(0) as u32;
        Ok(devices::decide_among(&self.device_rows()?, &seen.id, limit, extra) == DeviceDecision::Refused)
    }

    /// An open from `seen` at a link with `limit` (synchronous, between the decision and the
    /// count): a known device or a free slot is admitted (and remembered), one more is refused
    /// and kept as evidence; either way the forwarding rule runs on the devices as they now
    /// stand, and a new flag is handed to the gallery's log once per day.
    pub(super) fn take_device(&self, seen: &DeviceSeen, limit: Option<u8>, now: i64) -> Result<DeviceDecision> {
        let seen = seen.clone().bounded();
        let state = self.device_state()?;
        let decision = devices::decide_among(&self.device_rows()?, &seen.id, limit, state.extra.max(0) as u32);
        self.remember(&seen, decision != DeviceDecision::Refused, now)?;
        self.prune(limit)?;
        if let Some(flag) = devices::forwarding(&self.device_rows()?, limit, now) {
            self.flag(flag, state.noticed_day, now)?;
        }
        Ok(decision)
    }

    fn remember(&self, seen: &DeviceSeen, admitted: bool, now: i64) -> Result<()> {
        // A refused device stays refused (admitted = 0) until it is admitted; an admitted one
        // never drops back to refused.
        self.sql().exec(
            "INSERT INTO devices (id, browser, os, city, first_seen, last_seen, admitted) VALUES (?, ?, ?, ?, ?, ?, ?)
             ON CONFLICT(id) DO UPDATE SET browser = excluded.browser, os = excluded.os, city = COALESCE(excluded.city, devices.city),
               last_seen = excluded.last_seen, admitted = MAX(devices.admitted, excluded.admitted)",
            vec![
                SqlStorageValue::String(seen.id.clone()),
                SqlStorageValue::String(seen.browser.clone()),
                SqlStorageValue::String(seen.os.clone()),
                seen.city.clone().map_or(SqlStorageValue::Null, SqlStorageValue::String),
                SqlStorageValue::Integer(now),
                SqlStorageValue::Integer(now),
                SqlStorageValue::Integer(i64::from(admitted)),
            ],
        )?;
        Ok(())
    }

    /// Keeps the tables bounded: the newest refused devices, and for a link without a limit
    /// the most recently seen admitted ones (a limit bounds them itself).
    fn prune(&self, limit: Option<u8>) -> Result<()> {
        let sql = self.sql();
        sql.exec(
            "DELETE FROM devices WHERE admitted = 0 AND id NOT IN (SELECT id FROM devices WHERE admitted = 0 ORDER BY last_seen DESC LIMIT ?)",
            vec![SqlStorageValue::Integer(REFUSED_KEPT as i64)],
        )?;
        if limit.is_none() {
            sql.exec(
                "DELETE FROM devices WHERE admitted = 1 AND id NOT IN (SELECT id FROM devices WHERE admitted = 1 ORDER BY last_seen DESC LIMIT ?)",
                vec![SqlStorageValue::Integer(DEVICES_KEPT_UNLIMITED as i64)],
            )?;
        }
        Ok(())
    }

    fn flag(&self, flag: Forwarding, noticed_day: Option<i64>, now: i64) -> Result<()> {
        let day = devices::notice_day(now);
        let tell = noticed_day != Some(day);
        self.sql().exec(
            "INSERT INTO device_state (id, forwarding, noticed_day) VALUES (1, ?, ?)
             ON CONFLICT(id) DO UPDATE SET forwarding = excluded.forwarding, noticed_day = excluded.noticed_day",
            vec![SqlStorageValue::String(serde_json::to_string(&flag)?), SqlStorageValue::Integer(if tell { day } else { noticed_day.unwrap_or(day) })],
        )?;
        if tell {
            self.report_forwarding(flag)?;
        }
        Ok(())
    }

    /// Hands a new flag to the gallery's log after the answer: the visitor never waits for it.
    fn report_forwarding(&self, forwarding: Forwarding) -> Result<()> {
        let Scope::Link { gallery, link } = self.scope()? else { return Ok(()) };
        let env = self.env.clone();
        let report = crate::gallery_log::ForwardingReport { gallery, link, forwarding };
        self.state.wait_until(async move {
            let told = async { crate::gallery_log::GalleryLogClient::new(&env, &report.gallery)?.forwarding(&report).await };
            if let Err(e) = told.await {
                worker::console_error!("LinkGate {}/{}: reporting a forwarding flag failed: {e}", report.gallery, report.link);
            }
        });
        Ok(())
    }

    /// An owner forgetting a device (its slot is free; a flag it was evidence of is cleared) or
    /// allowing one more.
    pub(super) fn change_devices(&self, change: &DeviceChange) -> Result<DeviceChangeResponse> {
        let sql = self.sql();
        match change {
            DeviceChange::Forget { id } => {
                let list = self.device_list()?;
                if !list.devices.iter().any(|d| &d.id == id) {
                    return Ok(DeviceChangeResponse::Refused(format!("this link has no device {id}: list its devices again")));
                }
                sql.exec("DELETE FROM devices WHERE id = ?", vec![SqlStorageValue::String(id.clone())])?;
                if list.summary.forwarding.is_some_and(|f| f.devices.iter().any(|d| &d.id == id)) {
                    sql.exec("UPDATE device_state SET forwarding = NULL WHERE id = 1", None)?;
                }
            }
            DeviceChange::AllowOne => {
                let extra = self.device_state()?.extra.max(0) as u32;
                if extra >= MAX_EXTRA_DEVICES {
                    return Ok(DeviceChangeResponse::Refused(format!(
                        "this link already allows {MAX_EXTRA_DEVICES} devices more than published: forget a device instead, or raise `devices:` in git"
                    )));
                }
                sql.exec("INSERT INTO device_state (id, extra) VALUES (1, 1) ON CONFLICT(id) DO UPDATE SET extra = device_state.extra + 1", None)?;
            }
        }
        Ok(DeviceChangeResponse::Changed(self.device_list()?))
    }
}
