//! The typed client of a `GalleryLog` Durable Object: the only code that builds its requests.

use super::rollup::{LinkActivity, Query, Rollup};
use crate::sign_in_throttle::{AuthAnswer, AuthRequest};
use super::{AUTH_OBJECT, Batch, ExportPage, Op, StoredEvent};
use gatefold_contract::admin::{AuditEntry, AuditLog};
use serde::Serialize;
use serde::de::DeserializeOwned;
use worker::{Env, Method, Request, RequestInit, Result, Stub};

/// Any host works for a stub; the object only looks at the path.
const STUB_ORIGIN: &str = "https://gallery-log";

pub struct GalleryLogClient {
    stub: Stub,
    name: String,
}

impl GalleryLogClient {
    /// The log of one gallery.
    pub fn new(env: &Env, gallery: &str) -> Result<GalleryLogClient> {
        let stub = env.durable_object("GALLERY_LOG")?.id_from_name(gallery)?.get_stub()?;
        Ok(GalleryLogClient { stub, name: gallery.to_string() })
    }

    /// The object that throttles admin sign-ins.
    pub fn admin_auth(env: &Env) -> Result<GalleryLogClient> {
        GalleryLogClient::new(env, AUTH_OBJECT)
    }

    async fn call(&self, op: Op, body: &impl Serialize) -> Result<String> {
        self.send(Method::Post, op.path(), Some(serde_json::to_string(body)?)).await
    }

    /// `path`: an [`Op`]'s path, with a query where the operation takes one.
    async fn send(&self, method: Method, path: &str, body: Option<String>) -> Result<String> {
        let mut init = RequestInit::new();
        init.with_method(method).with_body(body.map(Into::into));
        let req = Request::new_with_init(&format!("{STUB_ORIGIN}{path}"), &init)?;
        let mut resp = self.stub.fetch_with_request(req).await?;
        let text = resp.text().await.unwrap_or_default();
        if !(200..300).contains(&resp.status_code()) {
            return Err(worker::Error::RustError(format!("GalleryLog {} {path} answered {}: {text}", self.name, resp.status_code())));
        }
        Ok(text)
    }

    // serde_json on the text, not `resp.json()`: JavaScript's JSON.parse would turn 64-bit
    // ids and the offset table's sentinels into lossy floats.
    async fn ask<T: DeserializeOwned>(&self, op: Op, body: &impl Serialize) -> Result<T> {
        Ok(serde_json::from_str(&self.call(op, body).await?)?)
    }

    pub async fn record(&self, batch: &Batch) -> Result<()> {
        self.call(Op::Events, batch).await.map(drop)
    }

    pub async fn stats(&self, query: &Query) -> Result<Rollup> {
        self.ask(Op::Stats, query).await
    }

    /// Every link's activity ever (one query of the gallery's log).
    pub async fn activity(&self) -> Result<Vec<LinkActivity>> {
        self.ask(Op::Activity, &serde_json::json!({})).await
    }

    /// Stores one owner action (`retention_days`: the site's, as for events).
    pub async fn record_audit(&self, entry: &AuditEntry, retention_days: u32) -> Result<()> {
        self.send(Method::Post, &format!("{}?retention_days={retention_days}", Op::Audit.path()), Some(serde_json::to_string(entry)?)).await.map(drop)
    }

    /// Owner actions in `[from_ms, to_ms)`, newest first (capped: see `AUDIT_PAGE_MAX`).
    pub async fn audit(&self, from_ms: i64, to_ms: i64) -> Result<AuditLog> {
        Ok(serde_json::from_str(&self.send(Method::Get, &format!("{}?from={from_ms}&to={to_ms}", Op::Audit.path()), None).await?)?)
    }

    pub async fn export_page(&self, page: &ExportPage) -> Result<Vec<StoredEvent>> {
        self.ask(Op::Export, page).await
    }

    /// Decides a sign-in whose token was already compared: the network's wait, else the
    /// verdict stands and a wrong token is booked as a failure in the same step.
    pub async fn attempt_sign_in(&self, who: &AuthRequest) -> Result<AuthAnswer> {
        self.ask(Op::SignInAttempt, who).await
    }

    /// Hands a day's digests to the coordinator (see `crate::notify::digest`).
    pub async fn plan_digests(&self, plan: &crate::digest::DigestPlan) -> Result<()> {
        self.call(Op::DigestPlan, plan).await.map(drop)
    }

    /// Asks this gallery's log to enqueue its digest of a day.
    pub async fn digest(&self, req: &crate::digest::DigestRequest) -> Result<()> {
        self.call(Op::Digest, req).await.map(drop)
    }

    /// A distributed guess at one of the gallery's link passwords, for the owner's channels.
    pub async fn password_attack(&self, report: &crate::notify::AttackReport) -> Result<()> {
        self.call(Op::PasswordAttack, report).await.map(drop)
    }

    /// Notifications waiting and given up on.
    pub async fn notifications(&self) -> Result<gatefold_contract::admin::NotificationStatus> {
        self.ask(Op::Notifications, &serde_json::json!({})).await
    }
}
