//! `GateClient`: the typed client of one `LinkGate` object, and the wider scopes' states asked
//! at once.

use super::*;
use crate::password::StoredHash;
use gatefold_contract::manifest::{Gallery, Link};

impl OpenRequest {
    pub fn new(gallery: &Gallery, link: &Link, now: i64) -> OpenRequest {
        OpenRequest { policy: link.policy.clone(), now, wider_terms: owned_wider_terms(gallery, link), device: None }
    }

    /// The request of a counted open from `device`.
    pub fn from_device(gallery: &Gallery, link: &Link, now: i64, device: DeviceSeen) -> OpenRequest {
        OpenRequest { device: Some(device), ..OpenRequest::new(gallery, link, now) }
    }
}

/// [`Scope::wider_terms`] of `link`'s scope, to send to its object.
pub fn owned_wider_terms(gallery: &Gallery, link: &Link) -> Vec<LinkPolicy> {
    Scope::link(&gallery.id, &link.name).wider_terms(gallery).into_iter().cloned().collect()
}

/// The current state of a scope's wider scopes, asked of their objects at once, in
/// [`Scope::wider`] order.
pub async fn wider_statuses(env: &Env, scope: &Scope) -> Result<Vec<Status>> {
    let clients = scope.wider().iter().map(|w| GateClient::for_scope(env, w)).collect::<Result<Vec<_>>>()?;
    join_all(clients.iter().map(GateClient::status)).await.into_iter().collect()
}

/// Typed client of one `LinkGate` object.
pub struct GateClient {
    stub: Stub,
    name: String,
}

impl GateClient {
    /// The client of one link's object (`link` is `<audience>/<recipient>` for a recipient).
    pub fn new(env: &Env, gallery: &str, link: &str) -> Result<GateClient> {
        GateClient::for_scope(env, &Scope::link(gallery, link))
    }

    pub fn for_scope(env: &Env, scope: &Scope) -> Result<GateClient> {
        GateClient::for_object(env, &scope.object_name())
    }

    /// The client of the object named `name` ([`Scope::object_name`]).
    pub fn for_object(env: &Env, name: &str) -> Result<GateClient> {
        let stub = env.durable_object("LINK_GATE")?.id_from_name(name)?.get_stub()?;
        Ok(GateClient { stub, name: name.to_string() })
    }

    async fn call<T: serde::de::DeserializeOwned>(&self, method: Method, op: &str, body: Option<String>) -> Result<T> {
        let mut init = RequestInit::new();
        init.with_method(method);
        if let Some(body) = body {
            init.with_body(Some(body.into()));
        }
        let mut resp = self.stub.fetch_with_request(Request::new_with_init(&format!("{STUB_ORIGIN}/{op}"), &init)?).await?;
        if resp.status_code() != 200 {
            let detail = resp.text().await.unwrap_or_default();
            return Err(worker::Error::RustError(format!("LinkGate {} /{op} answered {}: {detail}", self.name, resp.status_code())));
        }
        resp.json().await
    }

    /// Decides a new open (counts it when admitted).
    pub async fn open(&self, req: &OpenRequest) -> Result<OpenResponse> {
        self.call(Method::Post, "open", Some(serde_json::to_string(req)?)).await
    }

    pub async fn status(&self) -> Result<Status> {
        self.call(Method::Get, "status", None).await
    }

    /// The link's real state without taking an open, its wider scopes' included, in one call.
    pub async fn state(&self, req: &OpenRequest) -> Result<StateResponse> {
        self.call(Method::Post, "state", Some(serde_json::to_string(req)?)).await
    }

    /// A wider scope's state settled against the terms it was published with (a change a
    /// publish made lapse is stored as lapsed), the asking link subscribed to its changes.
    pub async fn subscribe(&self, req: &SubscribeRequest) -> Result<SubscribeResponse> {
        self.call(Method::Post, "subscribe", Some(serde_json::to_string(req)?)).await
    }

    /// A wider scope's state, pushed to a link holding a copy of it.
    pub async fn push(&self, copy: &ScopeCopy) -> Result<()> {
        self.call::<serde_json::Value>(Method::Put, "copy", Some(serde_json::to_string(copy)?)).await.map(drop)
    }

    /// Applies an owner's action inside the object, in one step with its checks.
    pub async fn change(&self, req: &ChangeRequest) -> Result<ChangeResponse> {
        self.call(Method::Post, "change", Some(serde_json::to_string(req)?)).await
    }

    /// Moves the session epoch on: every session issued before is over.
    pub async fn revoke(&self) -> Result<Status> {
        self.call(Method::Post, "revoke", None).await
    }

    /// Checks a visitor's password inside the object and, when right, counts the open.
    pub async fn unlock(&self, req: &UnlockRequest) -> Result<UnlockResponse> {
        self.call(Method::Post, "unlock", Some(serde_json::to_string(req)?)).await
    }

    /// The link's devices (admitted and refused), its extra allowance and forwarding flag.
    pub async fn devices(&self) -> Result<DeviceList> {
        self.call(Method::Get, "devices", None).await
    }

    /// An owner's action on the link's devices, applied inside the object.
    pub async fn change_devices(&self, change: &DeviceChange) -> Result<DeviceChangeResponse> {
        self.call(Method::Post, "devices", Some(serde_json::to_string(change)?)).await
    }

    /// "Allow one more device": one more device may open the link (the one operation the admin
    /// API, the CLI and an access request's grant share).
    pub async fn allow_device(&self) -> Result<DeviceChangeResponse> {
        self.change_devices(&DeviceChange::AllowOne).await
    }

    /// Forgets one device: its slot is free, its next open a new device's.
    pub async fn forget_device(&self, id: &str) -> Result<DeviceChangeResponse> {
        self.change_devices(&DeviceChange::Forget { id: id.to_string() }).await
    }

    /// Sets (`Some`) or clears (`None`) the password; either way every open session ends.
    pub async fn set_password(&self, hash: Option<&StoredHash>) -> Result<Status> {
        let body = PasswordChange { hash: hash.map(StoredHash::encode) };
        self.call(Method::Put, "password", Some(serde_json::to_string(&body)?)).await
    }
}

