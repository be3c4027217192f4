//! A link's wrong-password attempts: the throttle's storage (keyed on the guesser's network,
//! see `crate::password`) and the report of a distributed attack to the gallery's log.

use super::{LinkGate, Scope};
use crate::password;
use serde::Deserialize;
use worker::{Result, SqlStorage, SqlStorageValue};

#[derive(Deserialize)]
struct At {
    at: i64,
}

#[derive(Deserialize)]
struct Hour {
    wrong: i64,
    networks: i64,
}

#[derive(Deserialize)]
struct ReportedAt {
    at: i64,
}

#[derive(Deserialize)]
struct RowId {
    id: i64,
}

/// The attempts table (`client` holds the network's keyed hash, `wide` its allocation's, added
/// later), its indexes (every read is a range of one of them) and the time of the last attack
/// report. Idempotent, run when the object starts.
pub(super) fn create_tables(sql: &SqlStorage) {
    for table in [
        "CREATE TABLE IF NOT EXISTS password_attempts (client TEXT NOT NULL, at INTEGER NOT NULL)",
        "CREATE TABLE IF NOT EXISTS password_reports (id INTEGER PRIMARY KEY CHECK (id = 1), at INTEGER NOT NULL)",
    ] {
        if let Err(e) = sql.exec(table, None) {
            worker::console_error!("LinkGate: creating a password table failed ({table}): {e}");
        }
    }
    if let Err(e) = sql.exec("ALTER TABLE password_attempts ADD COLUMN wide TEXT", None)
        && !e.to_string().contains("duplicate column")
    {
        worker::console_error!("LinkGate: adding column password_attempts.wide failed: {e}");
    }
    for statement in [
        // Rows of earlier versions have no allocation: each is its own.
        "UPDATE password_attempts SET wide = client WHERE wide IS NULL",
        "CREATE INDEX IF NOT EXISTS password_attempts_at ON password_attempts (at)",
        "CREATE INDEX IF NOT EXISTS password_attempts_client_at ON password_attempts (client, at)",
        "CREATE INDEX IF NOT EXISTS password_attempts_wide_at ON password_attempts (wide, at)",
    ] {
        if let Err(e) = sql.exec(statement, None) {
            worker::console_error!("LinkGate: {statement} failed: {e}");
        }
    }
}

/// The newest attempts of one key within the throttle's window (see `password::Record`).
fn newest(sql: &SqlStorage, column: &str, key: &str, now: i64) -> Result<Vec<i64>> {
    let rows: Vec<At> = sql
        .exec(
            &format!("SELECT at FROM password_attempts WHERE {column} = ? AND at > ? ORDER BY at DESC LIMIT ?"),
            vec![SqlStorageValue::String(key.into()), SqlStorageValue::Integer(password::Record::since(now)), SqlStorageValue::Integer(password::Record::KEPT as i64)],
        )?
        .to_array()?;
    Ok(rows.into_iter().map(|r| r.at).collect())
}

/// The link's wrong tries and distinct allocations of the last [`password::ATTACK_SECONDS`].
pub(super) fn last_hour(sql: &SqlStorage, now: i64) -> Result<(u32, u32)> {
    let rows: Vec<Hour> = sql
        .exec(
            "SELECT COUNT(*) AS wrong, COUNT(DISTINCT wide) AS networks FROM password_attempts WHERE at > ?",
            vec![SqlStorageValue::Integer(now - password::ATTACK_SECONDS)],
        )?
        .to_array()?;
    let count = |n: i64| u32::try_from(n).unwrap_or(u32::MAX);
    Ok(rows.first().map_or((0, 0), |h| (count(h.wrong), count(h.networks))))
}

fn record(sql: &SqlStorage, who: &password::Guesser, now: i64) -> Result<password::Record> {
    let (wrong, networks) = last_hour(sql, now)?;
    Ok(password::Record { network: newest(sql, "client", &who.net, now)?, allocation: newest(sql, "wide", &who.wide, now)?, wrong, networks })
}

impl LinkGate {
    /// The throttle: `Err(seconds to wait)`, or the attempt booked as wrong (its row id, so a
    /// right password can take it back). Forgets attempts no window counts any more, keeps at
    /// most [`password::MAX_ATTEMPTS_KEPT`], and tells the owner when the booking shows a
    /// distributed attack (see `password::attack`).
    pub(super) fn book_attempt(&self, who: &password::Guesser, now: i64) -> Result<std::result::Result<i64, i64>> {
        let sql = self.sql();
        sql.exec("DELETE FROM password_attempts WHERE at <= ?", vec![SqlStorageValue::Integer(now - password::FORGET_AFTER_SECONDS)])?;
        if let Some(wait) = password::throttled(&record(&sql, who, now)?, now) {
            return Ok(Err(wait));
        }
        let rows: Vec<RowId> = sql
            .exec(
                "INSERT INTO password_attempts (client, wide, at) VALUES (?, ?, ?) RETURNING rowid AS id",
                vec![SqlStorageValue::String(who.net.clone()), SqlStorageValue::String(who.wide.clone()), SqlStorageValue::Integer(now)],
            )?
            .to_array()?;
        let id = rows.first().map(|r| r.id).ok_or_else(|| worker::Error::RustError("booking a password attempt returned no row id".into()))?;
        sql.exec(
            "DELETE FROM password_attempts WHERE rowid IN (SELECT rowid FROM password_attempts ORDER BY at DESC, rowid DESC LIMIT -1 OFFSET ?)",
            vec![SqlStorageValue::Integer(password::MAX_ATTEMPTS_KEPT as i64)],
        )?;
        let (wrong, networks) = last_hour(&sql, now)?;
        if let Some(attack) = password::attack(&password::Record { wrong, networks, ..Default::default() }) {
            self.report_attack(attack, now)?;
        }
        Ok(Ok(id))
    }

    /// The link's status with the password attack going on now, if any.
    pub(super) fn status_now(&self) -> Result<super::Status> {
        let mut status = self.load()?.status;
        let (wrong, networks) = last_hour(&self.sql(), worker::Date::now().as_millis() as i64 / 1000)?;
        status.password_attack = password::attack(&password::Record { wrong, networks, ..Default::default() });
        Ok(status)
    }

    /// Hands a distributed attack to the gallery's log (which tells the owner's channels that
    /// want `password_attack`), at most once per [`password::REPORT_EVERY_SECONDS`], after the
    /// answer: the visitor never waits for it.
    fn report_attack(&self, attack: password::Attack, now: i64) -> Result<()> {
        let Scope::Link { gallery, link } = self.scope()? else { return Ok(()) };
        let sql = self.sql();
        let last: Vec<ReportedAt> = sql.exec("SELECT at FROM password_reports WHERE id = 1", None)?.to_array()?;
        if last.first().is_some_and(|r| now - r.at < password::REPORT_EVERY_SECONDS) {
            return Ok(());
        }
        sql.exec(
            "INSERT INTO password_reports (id, at) VALUES (1, ?) ON CONFLICT(id) DO UPDATE SET at = excluded.at",
            vec![SqlStorageValue::Integer(now)],
        )?;
        let env = self.env.clone();
        let report = crate::notify::AttackReport { gallery: gallery.clone(), link, wrong: attack.wrong, networks: attack.networks, at_ms: now * 1000 };
        self.state.wait_until(async move {
            let told = async { crate::analytics::GalleryLogClient::new(&env, &report.gallery)?.password_attack(&report).await };
            if let Err(e) = told.await {
                worker::console_error!("LinkGate {}/{}: reporting a password attack failed: {e}", report.gallery, report.link);
            }
        });
        Ok(())
    }

}
