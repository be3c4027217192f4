//! The `DailyDigest` Durable Object (wasm only): the coordinator's queue and alarm, and each
//! gallery's digest.

use super::{DigestPlan, DigestRequest, Op, coordinator, gallery};
use gatefold_contract::admin::NotificationStatus;
use worker::{DurableObject, Env, Method, Request, Response, Result, SqlStorage, State, durable_object};

/// A day's plan names every gallery with a digest: about 100 bytes each.
const BODY_BYTES: usize = 4 * 1024 * 1024;

#[durable_object]
pub struct DailyDigest {
    sql: SqlStorage,
    state: State,
    env: Env,
}

impl DurableObject for DailyDigest {
    fn new(state: State, env: Env) -> Self {
        let sql = state.storage().sql();
        // Both rooms' tables: an instance only ever fills its own role's.
        for schema in [coordinator::SCHEMA, gallery::SCHEMA] {
            if let Err(e) = sql.exec(schema, None) {
                worker::console_error!("DailyDigest: creating the schema failed: {e}");
            }
        }
        Self { sql, state, env }
    }

    /// The coordinator's alarm: asks the next galleries for their digest, again at once while
    /// some are left.
    async fn alarm(&self) -> Result<Response> {
        if let Err(e) = coordinator::fan_out(&self.env, &self.sql).await {
            worker::console_error!("digest fan-out: {e}");
        }
        if coordinator::pending(&self.sql)? > 0 {
            self.state.storage().set_alarm(0).await?;
        }
        Response::empty()
    }

    async fn fetch(&self, mut req: Request) -> Result<Response> {
        let Some(op) = Op::from_path(&req.path()).filter(|_| req.method() == Method::Post) else {
            return Response::error("DailyDigest: unknown operation", 404);
        };
        match op {
            Op::Plan => match crate::http::read_json::<DigestPlan>(&mut req, BODY_BYTES).await? {
                Ok(plan) => {
                    coordinator::plan(&self.sql, &plan)?;
                    self.state.storage().set_alarm(0).await?;
                }
                Err(e) => return Response::error(format!("body must be a DigestPlan: {e}"), 400),
            },
            Op::Gallery => match crate::http::read_json::<DigestRequest>(&mut req, BODY_BYTES).await? {
                Ok(day) => gallery::digest(&self.env, &self.sql, &day).await?,
                Err(e) => return Response::error(format!("body must be a DigestRequest: {e}"), 400),
            },
            Op::Notifications => return Response::from_json(&NotificationStatus { pending: coordinator::pending(&self.sql)?, dead_letters: Vec::new() }),
        }
        Ok(Response::empty()?.with_status(204))
    }
}
