//! The admin API's HTTP client: where the worker is, how to sign in, one method per API
//! route (its path built by the API's one table, `gatefold_contract::admin::ApiRoute`), every
//! refusal turned into an error naming what to do.

use anyhow::{Context, Result, bail};
use gatefold_contract::admin::{API_PREFIX, ApiError, ApiRoute, AuditLog, GalleryStats, GalleryStatus, LINKS_PAGE_MAX, LinkPatch, LinkStatus, LinksResponse, NotifyTestAnswer};
use serde::de::DeserializeOwned;
use std::path::Path;
use std::time::Duration;

pub const DEFAULT_URL: &str = "http://127.0.0.1:8787";

/// A switch an owner throws on a link, an audience or a whole gallery.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    Disable,
    Enable,
    /// Ends every open session (links and audiences only).
    Revoke,
}

impl Action {
    fn on_link<'a>(self, gallery: &'a str, link: &'a str) -> ApiRoute<'a> {
        match self {
            Action::Disable => ApiRoute::Disable { gallery, link },
            Action::Enable => ApiRoute::Enable { gallery, link },
            Action::Revoke => ApiRoute::Revoke { gallery, link },
        }
    }

    fn on_audience<'a>(self, gallery: &'a str, audience: &'a str) -> ApiRoute<'a> {
        match self {
            Action::Disable => ApiRoute::DisableAudience { gallery, audience },
            Action::Enable => ApiRoute::EnableAudience { gallery, audience },
            Action::Revoke => ApiRoute::RevokeAudience { gallery, audience },
        }
    }
}

/// Where the admin API is and how to sign in.
#[derive(Debug, Clone)]
pub struct Server {
    pub url: String,
    pub token: String,
}

impl Server {
    /// From `GATEFOLD_URL` / `GATEFOLD_ADMIN_TOKEN`, falling back to `.dev.vars` in `dir`.
    pub fn from_env(dir: &Path) -> Result<Server> {
        let url = std::env::var("GATEFOLD_URL").ok().filter(|u| !u.is_empty()).unwrap_or_else(|| DEFAULT_URL.to_string());
        let token = match std::env::var("GATEFOLD_ADMIN_TOKEN").ok().filter(|t| !t.is_empty()) {
            Some(t) => t,
            None => {
                let path = dir.join(".dev.vars");
                crate::keys::read_dev_vars(&path)?.remove("ADMIN_TOKEN").filter(|t| !t.is_empty()).with_context(|| {
                    format!("no admin token: set GATEFOLD_ADMIN_TOKEN, or run from the project folder where {} holds ADMIN_TOKEN", path.display())
                })?
            }
        };
        Ok(Server { url: url.trim_end_matches('/').to_string(), token })
    }

    fn agent() -> ureq::Agent {
        ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_global(Some(Duration::from_secs(120)))
            .build()
            .into()
    }

    /// The admin token, and where the admin path sits behind Cloudflare Access, the service
    /// token Access lets the CLI and CI through with (`CF_ACCESS_CLIENT_ID`,
    /// `CF_ACCESS_CLIENT_SECRET`); the worker still checks the admin token.
    fn signed<B>(&self, req: ureq::RequestBuilder<B>) -> ureq::RequestBuilder<B> {
        let req = req.header("Authorization", &format!("Bearer {}", self.token));
        let var = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
        match (var("CF_ACCESS_CLIENT_ID"), var("CF_ACCESS_CLIENT_SECRET")) {
            (Some(id), Some(secret)) => req.header("CF-Access-Client-Id", &id).header("CF-Access-Client-Secret", &secret),
            _ => req,
        }
    }

    /// Sends `route`'s request (`query`: `?…` or nothing) and returns the body of a 2xx
    /// answer; anything else becomes an error naming what to do.
    fn send(&self, route: &ApiRoute<'_>, query: &str, body: Option<&serde_json::Value>) -> Result<Vec<u8>> {
        let (method, path) = (route.method(), route.path());
        let url = format!("{}{API_PREFIX}{path}{query}", self.url);
        let agent = Self::agent();
        let result = match (method, body) {
            ("GET", _) => self.signed(agent.get(&url)).call(),
            ("POST", None) => self.signed(agent.post(&url)).send_empty(),
            ("POST", Some(b)) => self.signed(agent.post(&url)).send_json(b),
            ("PATCH", Some(b)) => self.signed(agent.patch(&url)).send_json(b),
            ("PUT", Some(b)) => self.signed(agent.put(&url)).send_json(b),
            ("DELETE", None) => self.signed(agent.delete(&url)).call(),
            _ => bail!("unsupported request {method} {path}"),
        };
        let mut resp = result.map_err(|e| match e {
            ureq::Error::Io(_) | ureq::Error::ConnectionFailed | ureq::Error::HostNotFound | ureq::Error::Timeout(_) => {
                anyhow::anyhow!("cannot reach the Gatefold server at {} ({e}): start it with `make run`, or set GATEFOLD_URL", self.url)
            }
            other => anyhow::anyhow!("{method} {url}: {other}"),
        })?;
        let status = resp.status().as_u16();
        let bytes = resp.body_mut().with_config().limit(2 << 30).read_to_vec().with_context(|| format!("reading the answer of {url}"))?;
        if (200..300).contains(&status) {
            return Ok(bytes);
        }
        let api: Option<ApiError> = serde_json::from_slice(&bytes).ok();
        let detail = api.map(|a| match a.suggestion {
            Some(s) => format!("{}; a generated passphrase you could use: {s}", a.message),
            None => a.message,
        });
        let detail = detail.unwrap_or_else(|| String::from_utf8_lossy(&bytes).chars().take(200).collect());
        match status {
            401 => bail!("the server refused the admin token ({detail}): check GATEFOLD_ADMIN_TOKEN or ADMIN_TOKEN in .dev.vars"),
            404 | 409 | 429 => bail!("{detail}"),
            _ => bail!("{method} {url} answered {status}: {detail}"),
        }
    }

    /// A request's JSON answer, read as `T`; `what` names it in the error.
    fn call<T: DeserializeOwned>(&self, route: ApiRoute<'_>, query: &str, body: Option<&serde_json::Value>, what: &str) -> Result<T> {
        serde_json::from_slice(&self.send(&route, query, body)?).with_context(|| format!("reading {what}"))
    }

    /// One page of the links list (`query`: `offset=…&limit=…`, filters).
    pub fn links_page(&self, query: &str) -> Result<LinksResponse> {
        self.call(ApiRoute::Links, &format!("?{query}"), None, "the links list")
    }

    /// Every link, page by page (the worker asks a page's links only).
    pub fn links(&self) -> Result<LinksResponse> {
        let mut all = self.links_page(&format!("offset=0&limit={LINKS_PAGE_MAX}"))?;
        let mut next = all.next_offset;
        while let Some(offset) = next {
            let page = self.links_page(&format!("offset={offset}&limit={LINKS_PAGE_MAX}"))?;
            if page.next_offset.is_some_and(|n| n <= offset) {
                bail!("the server's links list did not move on from offset {offset}: update the worker");
            }
            all.links.extend(page.links);
            next = page.next_offset;
        }
        all.next_offset = None;
        Ok(all)
    }

    /// The site timezone the server shows times in.
    pub fn timezone(&self) -> Result<String> {
        Ok(self.links_page("limit=1")?.timezone)
    }

    pub fn stats(&self, gallery: &str, q: &Window) -> Result<GalleryStats> {
        self.call(ApiRoute::Stats { gallery }, &q.query(), None, "the statistics")
    }

    /// `link` is `<link>` or `<audience>/<recipient>`.
    pub fn link_action(&self, gallery: &str, link: &str, action: Action) -> Result<LinkStatus> {
        self.call(action.on_link(gallery, link), "", None, "the link's new state")
    }

    /// One write for every link of the gallery (which is disabled or enabled, never revoked).
    pub fn gallery_action(&self, gallery: &str, action: Action) -> Result<GalleryStatus> {
        let route = match action {
            Action::Disable => ApiRoute::DisableGallery { gallery },
            Action::Enable => ApiRoute::EnableGallery { gallery },
            Action::Revoke => bail!("a whole gallery can only be disabled or enabled"),
        };
        self.call(route, "", None, "the gallery's new state")
    }

    pub fn patch(&self, gallery: &str, link: &str, patch: &LinkPatch) -> Result<LinkStatus> {
        self.call(ApiRoute::Patch { gallery, link }, "", Some(&serde_json::to_value(patch)?), "the link's new state")
    }

    /// One write for every recipient of the audience. Answers the worker's JSON as it is
    /// (shown by [`super::render_audience`]).
    pub fn audience_action(&self, gallery: &str, audience: &str, action: Action) -> Result<serde_json::Value> {
        self.call(action.on_audience(gallery, audience), "", None, "the audience's new state")
    }

    pub fn patch_audience(&self, gallery: &str, audience: &str, patch: &LinkPatch) -> Result<serde_json::Value> {
        self.call(ApiRoute::PatchAudience { gallery, audience }, "", Some(&serde_json::to_value(patch)?), "the audience's new state")
    }

    /// Sets (`Some`) or clears (`None`) a link's password. The password travels only in the
    /// request body, over the admin connection.
    pub fn set_password(&self, gallery: &str, link: &str, password: Option<&str>) -> Result<LinkStatus> {
        match password {
            Some(p) => self.call(ApiRoute::SetPassword { gallery, link }, "", Some(&serde_json::json!({ "password": p })), "the link's new state"),
            None => self.call(ApiRoute::ClearPassword { gallery, link }, "", None, "the link's new state"),
        }
    }

    /// A link's devices (admitted and refused), its extra allowance and forwarding flag.
    pub fn devices(&self, gallery: &str, link: &str) -> Result<gatefold_contract::devices::LinkDevices> {
        self.call(ApiRoute::Devices { gallery, link }, "", None, "the link's devices")
    }

    /// Forgets one device of a link (`device`: its id as [`Server::devices`] lists it).
    pub fn forget_device(&self, gallery: &str, link: &str, device: &str) -> Result<gatefold_contract::devices::LinkDevices> {
        self.call(ApiRoute::ForgetDevice { gallery, link }, "", Some(&serde_json::json!({ "device": device })), "the link's devices")
    }

    /// Lets one more device open a link.
    pub fn allow_device(&self, gallery: &str, link: &str) -> Result<gatefold_contract::devices::LinkDevices> {
        self.call(ApiRoute::AllowDevice { gallery, link }, "", None, "the link's devices")
    }

    /// `POST notify/test`: one answer per channel the worker tried.
    pub fn notify_test(&self, gallery: Option<&str>) -> Result<NotifyTestAnswer> {
        let body = match gallery {
            Some(g) => serde_json::json!({ "gallery": g }),
            None => serde_json::json!({}),
        };
        self.call(ApiRoute::NotifyTest, "", Some(&body), "the notification test's answer")
    }

    /// `GET galleries/<g>/audit`: `{"entries": [AuditEntry...]}`, newest first.
    pub fn requests(&self, gallery: &str) -> Result<gatefold_contract::requests::RequestsResponse> {
        self.call(ApiRoute::Requests { gallery }, "", None, "the access requests")
    }

    /// Every gallery's id (the links list's filter), for commands that cover them all.
    pub fn gallery_ids(&self) -> Result<Vec<String>> {
        Ok(self.links_page("limit=1")?.galleries.into_iter().map(|g| g.id).collect())
    }

    pub fn grant(&self, request: &str, grant: &gatefold_contract::requests::GrantBody) -> Result<gatefold_contract::admin::GrantAnswer> {
        self.call(ApiRoute::GrantRequest { request }, "", Some(&serde_json::to_value(grant)?), "the granted request")
    }

    pub fn decline(&self, request: &str, reply: Option<String>) -> Result<gatefold_contract::requests::AccessRequest> {
        let body = serde_json::to_value(gatefold_contract::requests::DeclineBody { reply })?;
        self.call(ApiRoute::DeclineRequest { request }, "", Some(&body), "the declined request")
    }

    pub fn audit(&self, gallery: &str) -> Result<AuditLog> {
        self.call(ApiRoute::Audit { gallery }, "", None, "the audit log")
    }

    /// The access log exported as `xlsx` (Excel) or else CSV.
    pub fn export(&self, gallery: &str, xlsx: bool, q: &Window) -> Result<Vec<u8>> {
        let route = if xlsx { ApiRoute::ExportXlsx { gallery } } else { ApiRoute::ExportCsv { gallery } };
        self.send(&route, &q.query(), None)
    }
}

/// Optional stats/export filters.
#[derive(Debug, Clone, Default)]
pub struct Window {
    pub link: Option<String>,
    pub from: Option<String>,
    pub to: Option<String>,
}

impl Window {
    /// `?link=…&from=…&to=…` (form-encoded), or nothing.
    pub(super) fn query(&self) -> String {
        let mut q = url::form_urlencoded::Serializer::new(String::new());
        for (k, v) in [("link", &self.link), ("from", &self.from), ("to", &self.to)] {
            if let Some(v) = v {
                q.append_pair(k, v);
            }
        }
        let q = q.finish();
        if q.is_empty() { q } else { format!("?{q}") }
    }
}
