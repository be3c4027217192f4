//! The `SignInThrottle` Durable Object (wasm only): every network's sign-in failures, decided
//! and booked one request at a time.

use super::{AuthAnswer, AuthRequest, FORGET_AFTER_SECONDS, MAX_NETWORKS_KEPT, decide};
use serde::Deserialize;
use worker::{DurableObject, Env, Method, Request, Response, Result, SqlStorage, SqlStorageValue as V, State, durable_object};

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS auth_failures (ip TEXT PRIMARY KEY, failures INTEGER NOT NULL, last_failure INTEGER NOT NULL);
CREATE INDEX IF NOT EXISTS auth_failures_last ON auth_failures(last_failure);
";

/// An attempt is a network name and two numbers.
const BODY_BYTES: usize = 4 * 1024;

#[durable_object]
pub struct SignInThrottle {
    sql: SqlStorage,
}

#[derive(Deserialize)]
struct FailureRow {
    failures: u32,
    last_failure: i64,
}

impl DurableObject for SignInThrottle {
    fn new(state: State, _env: Env) -> Self {
        let sql = state.storage().sql();
        if let Err(e) = sql.exec(SCHEMA, None) {
            worker::console_error!("SignInThrottle: creating the schema failed: {e}");
        }
        Self { sql }
    }

    async fn fetch(&self, mut req: Request) -> Result<Response> {
        if req.method() != Method::Post || req.path() != "/attempt" {
            return Response::error("SignInThrottle: unknown operation", 404);
        }
        match crate::http::read_json::<AuthRequest>(&mut req, BODY_BYTES).await? {
            Ok(who) => Response::from_json(&self.attempt(&who)?),
            Err(e) => Response::error(format!("body must be an AuthRequest: {e}"), 400),
        }
    }
}

impl SignInThrottle {
    /// The throttle's decision and its booking in one step: the object handles one request
    /// at a time, so no other try can slip in between.
    fn attempt(&self, a: &AuthRequest) -> Result<AuthAnswer> {
        let own = self
            .sql
            .exec("SELECT failures, last_failure FROM auth_failures WHERE ip = ?", vec![V::from(a.network.as_str())])?
            .to_array::<FailureRow>()?
            .into_iter()
            .next()
            .map(|f| (f.failures, f.last_failure));
        match decide(own, a.correct, a.now) {
            Err(wait) => return Ok(AuthAnswer { retry_after: wait }),
            Ok(None) if own.is_some() => {
                self.sql.exec("DELETE FROM auth_failures WHERE ip = ?", vec![V::from(a.network.as_str())])?;
            }
            Ok(None) => {}
            Ok(Some(failures)) => {
                // Each write forgets what no wait counts any more and keeps the table bounded,
                // however many networks guess (see `MAX_NETWORKS_KEPT`).
                self.sql.exec("DELETE FROM auth_failures WHERE last_failure <= ?", vec![V::from(a.now - FORGET_AFTER_SECONDS)])?;
                self.sql.exec(
                    "DELETE FROM auth_failures WHERE ip IN (SELECT ip FROM auth_failures ORDER BY last_failure DESC LIMIT -1 OFFSET ?)",
                    vec![V::from(MAX_NETWORKS_KEPT as i64 - 1)],
                )?;
                self.sql.exec(
                    "INSERT INTO auth_failures (ip, failures, last_failure) VALUES (?, ?, ?)
                     ON CONFLICT(ip) DO UPDATE SET failures = excluded.failures, last_failure = excluded.last_failure",
                    vec![V::from(a.network.as_str()), V::from(i64::from(failures)), V::from(a.now)],
                )?;
            }
        }
        Ok(AuthAnswer { retry_after: 0 })
    }
}
