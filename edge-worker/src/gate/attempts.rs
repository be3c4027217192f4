//! A link's wrong-password attempts: the throttle's storage (keyed on the guesser's network,
//! see `crate::password`) and the report of a distributed attack to the gallery's log.

use super::{LinkGate, Scope};
use crate::password;
use serde::Deserialize;
use worker::{Result, SqlStorage, SqlStorageValue};

#[derive(Deserialize)]
struct Attempt {
    /// The network (`password::Guesser::net`); the name is the first version's.
    client: String,
    wide: Option<String>,
    at: i64,
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
/// later) and the time of the last attack report. Idempotent, run when the object starts.
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
}

impl LinkGate {
    /// The throttle: `Err(seconds to wait)`, or the attempt booked as wrong (its row id, so a
    /// right password can take it back). Forgets attempts no window counts any more, and tells
    /// the owner when the booking shows a distributed attack (see `password::attack`).
    pub(super) fn book_attempt(&self, who: &password::Guesser, now: i64) -> Result<std::result::Result<i64, i64>> {
        let sql = self.sql();
        sql.exec("DELETE FROM password_attempts WHERE at <= ?", vec![SqlStorageValue::Integer(now - password::FORGET_AFTER_SECONDS)])?;
        let mut guesses: Vec<password::Guess> = sql
            .exec("SELECT client, wide, at FROM password_attempts", None)?
            .to_array::<Attempt>()?
            .into_iter()
            // Rows of earlier versions have no allocation: each is its own.
            .map(|a| password::Guess { wide: a.wide.unwrap_or_else(|| a.client.clone()), net: a.client, at: a.at })
            .collect();
        if let Some(wait) = password::throttled(&guesses, who, now) {
            return Ok(Err(wait));
        }
        let rows: Vec<RowId> = sql
            .exec(
                "INSERT INTO password_attempts (client, wide, at) VALUES (?, ?, ?) RETURNING rowid AS id",
                vec![SqlStorageValue::String(who.net.clone()), SqlStorageValue::String(who.wide.clone()), SqlStorageValue::Integer(now)],
            )?
            .to_array()?;
        let id = rows.first().map(|r| r.id).ok_or_else(|| worker::Error::RustError("booking a password attempt returned no row id".into()))?;
        guesses.push(password::Guess { net: who.net.clone(), wide: who.wide.clone(), at: now });
        if let Some(attack) = password::attack(&guesses, now) {
            self.report_attack(attack, now)?;
        }
        Ok(Ok(id))
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
        let report = crate::gallery_log::AttackReport { gallery: gallery.clone(), link, wrong: attack.wrong, networks: attack.networks, at_ms: now * 1000 };
        self.state.wait_until(async move {
            let told = async { crate::gallery_log::GalleryLogClient::new(&env, &report.gallery)?.password_attack(&report).await };
            if let Err(e) = told.await {
                worker::console_error!("LinkGate {}/{}: reporting a password attack failed: {e}", report.gallery, report.link);
            }
        });
        Ok(())
    }

}
