//! The admin API's HTTP client: where the worker is, how to sign in, one request per API
//! route, every refusal turned into an error naming what to do.

use anyhow::{Context, Result, bail};
use gatefold_contract::admin::{ApiError, AuditLog, GalleryStats, GalleryStatus, LINKS_PAGE_MAX, LinkPatch, LinkStatus, LinksResponse, NotifyTestAnswer};
use std::path::Path;
use std::time::Duration;

pub const DEFAULT_URL: &str = "http://127.0.0.1:8787";

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

    /// Sends a request and returns the body of a 2xx answer; anything else becomes an error
    /// naming what to do.
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

    fn send(&self, method: &str, path: &str, body: Option<&serde_json::Value>) -> Result<Vec<u8>> {
        let url = format!("{}/admin/api/{path}", self.url);
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

    /// One page of the links list (`query`: `offset=…&limit=…`, filters).
    pub fn links_page(&self, query: &str) -> Result<LinksResponse> {
        serde_json::from_slice(&self.send("GET", &format!("links?{query}"), None)?).context("reading the links list")
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
        let path = format!("galleries/{}/stats{}", url_component(gallery), q.query());
        serde_json::from_slice(&self.send("GET", &path, None)?).context("reading the statistics")
    }

    /// `action` is `disable`, `enable` or `revoke`; `link` is `<link>` or `<audience>/<recipient>`.
    pub fn link_action(&self, gallery: &str, link: &str, action: &str) -> Result<LinkStatus> {
        let path = format!("{}/{action}", link_path(gallery, link));
        serde_json::from_slice(&self.send("POST", &path, None)?).context("reading the link's new state")
    }

    /// `action` is `disable` or `enable`: one write for every link of the gallery.
    pub fn gallery_action(&self, gallery: &str, action: &str) -> Result<GalleryStatus> {
        let path = format!("galleries/{}/{action}", url_component(gallery));
        serde_json::from_slice(&self.send("POST", &path, None)?).context("reading the gallery's new state")
    }

    pub fn patch(&self, gallery: &str, link: &str, patch: &LinkPatch) -> Result<LinkStatus> {
        serde_json::from_slice(&self.send("PATCH", &link_path(gallery, link), Some(&serde_json::to_value(patch)?))?).context("reading the link's new state")
    }

    /// `action` is `disable`, `enable` or `revoke`: one write for every recipient of the
    /// audience. Answers the worker's JSON as it is (shown by [`render_audience`]).
    pub fn audience_action(&self, gallery: &str, audience: &str, action: &str) -> Result<serde_json::Value> {
        let path = format!("{}/{action}", audience_path(gallery, audience));
        serde_json::from_slice(&self.send("POST", &path, None)?).context("reading the audience's new state")
    }

    pub fn patch_audience(&self, gallery: &str, audience: &str, patch: &LinkPatch) -> Result<serde_json::Value> {
        serde_json::from_slice(&self.send("PATCH", &audience_path(gallery, audience), Some(&serde_json::to_value(patch)?))?).context("reading the audience's new state")
    }

    /// Sets (`Some`) or clears (`None`) a link's password. The password travels only in the
    /// request body, over the admin connection.
    pub fn set_password(&self, gallery: &str, link: &str, password: Option<&str>) -> Result<LinkStatus> {
        let path = format!("{}/password", link_path(gallery, link));
        let answer = match password {
            Some(p) => self.send("PUT", &path, Some(&serde_json::json!({ "password": p })))?,
            None => self.send("DELETE", &path, None)?,
        };
        serde_json::from_slice(&answer).context("reading the link's new state")
    }

    /// `POST notify/test`: one answer per channel the worker tried.
    pub fn notify_test(&self, gallery: Option<&str>) -> Result<NotifyTestAnswer> {
        let body = match gallery {
            Some(g) => serde_json::json!({ "gallery": g }),
            None => serde_json::json!({}),
        };
        serde_json::from_slice(&self.send("POST", "notify/test", Some(&body))?).context("reading the notification test's answer")
    }

    /// `GET galleries/<g>/audit`: `{"entries": [AuditEntry...]}`, newest first.
    pub fn audit(&self, gallery: &str) -> Result<AuditLog> {
        serde_json::from_slice(&self.send("GET", &format!("galleries/{}/audit", url_component(gallery)), None)?).context("reading the audit log")
    }

    pub fn export(&self, gallery: &str, ext: &str, q: &Window) -> Result<Vec<u8>> {
        self.send("GET", &format!("galleries/{}/export.{ext}{}", url_component(gallery), q.query()), None)
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
    pub(super) fn query(&self) -> String {
        let pairs: Vec<String> = [("link", &self.link), ("from", &self.from), ("to", &self.to)]
            .iter()
            .filter_map(|(k, v)| v.as_ref().map(|v| format!("{k}={}", url_component(v))))
            .collect();
        if pairs.is_empty() { String::new() } else { format!("?{}", pairs.join("&")) }
    }
}

/// `s` escaped for one path segment or query value.
fn url_component(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

/// `links/<gallery>/<link>` or `links/<gallery>/<audience>/<recipient>`, each name escaped.
pub(super) fn link_path(gallery: &str, link: &str) -> String {
    let (audience, name) = gatefold_contract::manifest::split_link_name(link);
    let names: Vec<String> = [Some(gallery), audience, Some(name)].into_iter().flatten().map(url_component).collect();
    format!("links/{}", names.join("/"))
}

pub(super) fn audience_path(gallery: &str, audience: &str) -> String {
    format!("audiences/{}/{}", url_component(gallery), url_component(audience))
}
