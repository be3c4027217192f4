//! The typed client of a `GalleryLog` Durable Object: the only code that builds its requests.

use super::{AskAccess, Asked, AttackReport, Batch, GoLives, Op, RequestView, ViewQuery};
use crate::access::GalleryEvent;
use serde::Serialize;
use worker::{Context, Env, Method, Request, RequestInit, Result, Stub};

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

    pub async fn record(&self, batch: &Batch) -> Result<()> {
        self.call(Op::Events, batch).await.map(drop)
    }

    /// Openings to announce at their moment (`go_live`).
    pub async fn go_live(&self, go_lives: &GoLives) -> Result<()> {
        self.call(Op::GoLive, go_lives).await.map(drop)
    }

    /// A person's access request: stored (or throttled) and the owner told.
    pub async fn ask_access(&self, ask: &AskAccess) -> Result<Asked> {
        Ok(serde_json::from_str(&self.call(Op::AskAccess, ask).await?)?)
    }

    /// Where the request `key` (a browser's cookie) for `link` stands, if the link has it.
    pub async fn request_view(&self, link: &str, key: &str) -> Result<Option<RequestView>> {
        Ok(serde_json::from_str(&self.call(Op::RequestView, &ViewQuery { link: link.into(), key: key.into() }).await?)?)
    }

    /// A distributed guess at one of the gallery's link passwords, for the owner's channels.
    pub async fn password_attack(&self, report: &AttackReport) -> Result<()> {
        self.call(Op::PasswordAttack, report).await.map(drop)
    }

    /// A link's new forwarding flag, from its `LinkGate`.
    pub async fn forwarding(&self, report: &super::ForwardingReport) -> Result<()> {
        self.call(Op::Forwarding, report).await.map(drop)
    }
}

/// The reads and the owner's writes: the owner's Worker only.
#[cfg(feature = "owner")]
mod owner {
    use super::super::access_log::{ActivityQuery, ExportPage, StoredEvent};
    use super::super::outbox::Queued;
    use super::super::rollup::{LinkActivity, Query, Rollup};
    use super::{GalleryLogClient, Op};
    use gatefold_contract::admin::{AuditEntry, AuditLog, NotificationStatus};
    use serde::Serialize;
    use serde::de::DeserializeOwned;
    use worker::{Method, Result};

    impl GalleryLogClient {
        // serde_json on the text, not `resp.json()`: JavaScript's JSON.parse would turn 64-bit
        // ids and the offset table's sentinels into lossy floats.
        async fn ask<T: DeserializeOwned>(&self, op: Op, body: &impl Serialize) -> Result<T> {
            Ok(serde_json::from_str(&self.call(op, body).await?)?)
        }

        pub async fn stats(&self, query: &Query) -> Result<Rollup> {
            self.ask(Op::Stats, query).await
        }

        /// Every link's activity ever (one query of the gallery's log).
        pub async fn activity(&self) -> Result<Vec<LinkActivity>> {
            self.ask(Op::Activity, &ActivityQuery::default()).await
        }

        /// Every link's admitted opens and downloads in `[from_ms, to_ms)`.
        pub async fn activity_within(&self, from_ms: i64, to_ms: i64) -> Result<Vec<LinkActivity>> {
            self.ask(Op::Activity, &ActivityQuery { within: Some((from_ms, to_ms)) }).await
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

        /// The gallery's access requests (all, or the open ones), newest first.
        pub async fn requests(&self, open_only: bool) -> Result<Vec<super::super::requests::Stored>> {
            self.ask(Op::Requests, &super::super::requests::ListQuery { open_only, key: None }).await
        }

        /// One request by its random part.
        pub async fn request(&self, key: &str) -> Result<Option<super::super::requests::Stored>> {
            let found: Vec<super::super::requests::Stored> = self.ask(Op::Requests, &super::super::requests::ListQuery { open_only: false, key: Some(key.into()) }).await?;
            Ok(found.into_iter().next())
        }

        /// Answers a request (or reopens it after a grant its link's gate refused).
        pub async fn answer_request(&self, answer: &super::super::requests::Answer) -> Result<Option<super::super::requests::Stored>> {
            self.ask(Op::AnswerRequest, answer).await
        }

        /// Notices to send at once, each to its channel.
        pub async fn enqueue(&self, notices: &[Queued]) -> Result<()> {
            self.call(Op::Enqueue, &notices).await.map(drop)
        }

        /// Notifications waiting and given up on.
        /// Every flagged link's latest forwarding flag, by link name.
        pub async fn flags(&self) -> Result<std::collections::BTreeMap<String, gatefold_contract::devices::Forwarding>> {
            self.ask(Op::Flags, &serde_json::json!({})).await
        }

        pub async fn notifications(&self) -> Result<NotificationStatus> {
            self.ask(Op::Notifications, &serde_json::json!({})).await
        }
    }
}

/// Hands an event to the gallery's log after the response is sent, with the site's retention
/// so the log can drop old rows. A failed log write is reported in the worker log and never
/// fails the visitor's request.
pub fn record(env: &Env, ctx: &Context, event: GalleryEvent) {
    let env = env.clone();
    ctx.wait_until(async move {
        let sent = async {
            let site = crate::site::load(&env).await.map_err(worker::Error::RustError)?;
            let batch = Batch {
                now_ms: event.event.ts,
                retention_days: site.settings.analytics.retention_days,
                events: vec![event.event.clone()],
                gallery: Some(event.gallery.clone()),
                admission: event.admission,
            };
            GalleryLogClient::new(&env, &event.gallery)?.record(&batch).await
        };
        if let Err(e) = sent.await {
            worker::console_error!("access log: could not record {:?} event for {}/{}: {e}", event.event.kind, event.gallery, event.event.link);
        }
    });
}

thread_local! {
    /// Openings this isolate has handed to their log already: a new deployment starts new
    /// isolates, so each scheduled link is handed over once per isolate after a publish.
    static GO_LIVES_HANDED: std::cell::RefCell<std::collections::HashSet<(String, String, i64)>> = Default::default();
}

/// Hands a link that is not open yet to its gallery's log after the response, once per isolate
/// and moment, so the log's alarm announces the opening (`go_live`) on the minute. A failure is
/// logged and tried again by the next request that sees the link closed.
pub fn schedule_go_live(env: &Env, ctx: &Context, gallery: &str, link: &str, at: i64) {
    let key = (gallery.to_string(), link.to_string(), at);
    if GO_LIVES_HANDED.with(|h| h.borrow().contains(&key)) {
        return;
    }
    let env = env.clone();
    ctx.wait_until(async move {
        let go_lives = GoLives { gallery: key.0.clone(), links: vec![(key.1.clone(), at)] };
        let sent = async { GalleryLogClient::new(&env, &key.0)?.go_live(&go_lives).await };
        match sent.await {
            Ok(()) => GO_LIVES_HANDED.with(|h| {
                let mut handed = h.borrow_mut();
                // Bounded: an isolate that saw very many scheduled links starts over.
                if handed.len() >= super::GO_LIVES_MAX {
                    handed.clear();
                }
                handed.insert(key);
            }),
            Err(e) => worker::console_error!("go-live: could not schedule {}/{}: {e}", key.0, key.1),
        }
    });
}
