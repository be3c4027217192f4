//! The coordinator's room (the instance named `COORDINATOR`): the day's queue of galleries to
//! digest (`digest_queue`), worked off [`FAN_OUT`] galleries per alarm.

use super::{Client, DigestPlan, DigestRequest, FAN_OUT};
use serde::Deserialize;
use worker::{Env, Result, SqlStorage, SqlStorageValue as V};

pub const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS digest_queue (day TEXT NOT NULL, gallery TEXT NOT NULL, body TEXT NOT NULL, sent INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (day, gallery));
";

#[derive(Deserialize)]
struct Queued {
    gallery: String,
    body: String,
}

#[derive(Deserialize)]
struct N {
    n: i64,
}

/// Keeps each gallery's digest of a day once; drops the days before.
pub fn plan(sql: &SqlStorage, plan: &DigestPlan) -> Result<()> {
    for r in &plan.requests {
        sql.exec(
            "INSERT OR IGNORE INTO digest_queue (day, gallery, body) VALUES (?, ?, ?)",
            vec![V::from(r.day.as_str()), V::from(r.gallery.as_str()), V::from(serde_json::to_string(r)?.as_str())],
        )?;
    }
    // Older days are done with: a day's rows only guard against a repeated run.
    if let Some(day) = plan.requests.first().map(|r| r.day.as_str()) {
        sql.exec("DELETE FROM digest_queue WHERE day < ?", vec![V::from(day)])?;
    }
    Ok(())
}

/// Galleries still to be asked.
pub fn pending(sql: &SqlStorage) -> Result<u64> {
    let n = sql.exec("SELECT COUNT(*) AS n FROM digest_queue WHERE sent = 0", None)?.one::<N>()?.n;
    Ok(u64::try_from(n).unwrap_or(0))
}

/// Asks the next [`FAN_OUT`] galleries' instances for their digest (a failure is logged: the
/// gallery is not asked again that day).
pub async fn fan_out(env: &Env, sql: &SqlStorage) -> Result<()> {
    let rows: Vec<Queued> = sql.exec("SELECT gallery, body FROM digest_queue WHERE sent = 0 LIMIT ?", vec![V::from(i64::from(FAN_OUT))])?.to_array()?;
    for q in rows {
        let req: DigestRequest = serde_json::from_str(&q.body)?;
        if let Err(e) = Client::new(env, &q.gallery)?.gallery(&req).await {
            worker::console_error!("digest of {} for {}: {e}", q.gallery, req.day);
        }
        sql.exec("UPDATE digest_queue SET sent = 1 WHERE day = ? AND gallery = ?", vec![V::from(req.day.as_str()), V::from(q.gallery.as_str())])?;
    }
    Ok(())
}
