//! `gatefold stats|disable|enable|extend|revoke|password|export|notify test|audit`: the admin
//! API from the command line.
//!
//! A target is `<gallery>` (disable/enable only), `<gallery>/<link>`,
//! `<gallery>/<audience>/<recipient>` (one recipient's link) or `<gallery>/@<audience>` (every
//! recipient of an audience at once: one write on the worker, whatever their number).
//!
//! Mount with `#[command(flatten)] Admin(admin::AdminCommand)` in the CLI's `Command` enum and
//! call [`run`]. The server and token come from `GATEFOLD_URL` (default the local
//! `wrangler dev`, <http://127.0.0.1:8787>) and `GATEFOLD_ADMIN_TOKEN` (default `ADMIN_TOKEN`
//! from `.dev.vars`, which `scripts/dev.sh` writes).

use anyhow::{Context, Result, bail};
use gatefold_contract::admin::{ApiError, AuditLog, Count, GalleryStats, GalleryStatus, LINKS_PAGE_MAX, LinkPatch, LinkStatus, LinksResponse, NotifyTestAnswer};
use gatefold_contract::{LinkState, Overrides};
use std::path::{Path, PathBuf};
use std::time::Duration;

mod password;
pub use password::{MIN_PASSWORD_CHARS, check_password};

pub const DEFAULT_URL: &str = "http://127.0.0.1:8787";

#[derive(Debug, clap::Subcommand)]
pub enum AdminCommand {
    /// Show a gallery's statistics from the running site.
    Stats {
        gallery: String,
        /// Only this link's traffic.
        #[arg(long)]
        link: Option<String>,
        /// First day (YYYY-MM-DD, site timezone).
        #[arg(long)]
        from: Option<String>,
        /// Last day, included.
        #[arg(long)]
        to: Option<String>,
        /// Print the API's JSON.
        #[arg(long)]
        json: bool,
    },
    /// Turn a link off at once (`<gallery>/<link>`, `<gallery>/<audience>/<recipient>`), a whole
    /// audience (`<gallery>/@<audience>`), or every link of a gallery (`<gallery>`).
    Disable { target: String },
    /// Lift a runtime disable (a link disabled in gallery.yaml stays off until a publish).
    Enable { target: String },
    /// Extend a link's (or a whole audience's, `<gallery>/@<audience>`) expiry and/or change its
    /// view limit.
    Extend {
        target: String,
        /// Valid through this day (YYYY-MM-DD, site timezone) or an RFC 3339 time.
        #[arg(long, conflicts_with = "days")]
        until: Option<String>,
        /// Valid for this many more days, counted from the later of now and the expiry in force.
        #[arg(long)]
        days: Option<u32>,
        /// New view limit.
        #[arg(long)]
        max_views: Option<u32>,
        /// Allow a change that closes the link sooner (an earlier expiry, a limit at or below
        /// the views already used).
        #[arg(long)]
        force: bool,
    },
    /// End every open session of a link (or of every recipient of `<gallery>/@<audience>`) at
    /// once, keeping its URL: `gatefold revoke <gallery>/<link>`.
    Revoke { target: String },
    /// Set the password of a `password: required` link: asked without echo, or one line read
    /// from standard input when it is not a terminal; one too easy to guess is refused, with a
    /// generated passphrase offered. Ends the link's open sessions. `--generate` alone prints a
    /// passphrase; with a target it sets one and prints it.
    Password {
        /// `<gallery>/<link>`, `<gallery>/<audience>/<recipient>`, or `<gallery>/@<audience>`
        /// (the same password on each of its recipients' links).
        #[arg(required_unless_present = "generate")]
        target: Option<String>,
        /// Remove the password: the link then answers "not available yet" until a new one is set.
        #[arg(long, conflicts_with = "generate")]
        clear: bool,
        /// A generated passphrase (four words of three syllables, about 76 bits).
        #[arg(long)]
        generate: bool,
    },
    /// Save a gallery's access log as CSV or Excel.
    Export {
        gallery: String,
        #[arg(long, conflicts_with = "xlsx", required_unless_present = "xlsx")]
        csv: Option<PathBuf>,
        #[arg(long)]
        xlsx: Option<PathBuf>,
        #[arg(long)]
        link: Option<String>,
        #[arg(long)]
        from: Option<String>,
        #[arg(long)]
        to: Option<String>,
    },
    /// Owner notifications: `gatefold notify test [--gallery G]`.
    Notify {
        #[command(subcommand)]
        command: NotifyCommand,
    },
    /// Show a gallery's audit log: every owner action through the admin API, newest first.
    Audit {
        gallery: String,
        /// Print the API's JSON.
        #[arg(long)]
        json: bool,
    },
}

#[derive(Debug, clap::Subcommand)]
pub enum NotifyCommand {
    /// Send one test message to every configured channel (each gallery's, deduplicated by
    /// secret) and report each platform's answer; exits 1 if any channel failed.
    Test {
        /// Only this gallery's channels.
        #[arg(long)]
        gallery: Option<String>,
    },
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
    fn query(&self) -> String {
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
fn link_path(gallery: &str, link: &str) -> String {
    let (audience, name) = gatefold_contract::manifest::split_link_name(link);
    let names: Vec<String> = [Some(gallery), audience, Some(name)].into_iter().flatten().map(url_component).collect();
    format!("links/{}", names.join("/"))
}

fn audience_path(gallery: &str, audience: &str) -> String {
    format!("audiences/{}/{}", url_component(gallery), url_component(audience))
}

/// What an admin command acts on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// `<gallery>`: every link of it (disable/enable only).
    Gallery(String),
    /// `<gallery>/<link>`, or `<gallery>/<audience>/<recipient>` (link `<audience>/<recipient>`).
    Link { gallery: String, link: String },
    /// `<gallery>/@<audience>`: every recipient of the audience.
    Audience { gallery: String, audience: String },
}

const TARGET_FORMS: &str = "name it as <gallery>/<link>, <gallery>/<audience>/<recipient> or <gallery>/@<audience>, e.g. spring-launch/market, launch-a/channel/dealer-001, launch-a/@channel";

impl Target {
    pub fn parse(target: &str) -> Result<Target> {
        let parts: Vec<&str> = target.split('/').collect();
        if parts.iter().any(|p| p.is_empty() || p.starts_with('@') && p.len() == 1) {
            bail!("{target:?}: {TARGET_FORMS}");
        }
        let at = |p: &str| p.starts_with('@');
        Ok(match parts.as_slice() {
            [g] if !at(g) => Target::Gallery(g.to_string()),
            [g, a] if !at(g) && at(a) => Target::Audience { gallery: g.to_string(), audience: a[1..].to_string() },
            [g, l] if !at(g) => Target::Link { gallery: g.to_string(), link: l.to_string() },
            [g, a, r] if ![g, a, r].iter().any(|p| at(p)) => Target::Link { gallery: g.to_string(), link: gatefold_contract::manifest::link_name(Some(a), r) },
            _ => bail!("{target:?}: {TARGET_FORMS}"),
        })
    }

    /// A link or an audience, not a whole gallery.
    fn links_only(target: &str) -> Result<Target> {
        match Target::parse(target)? {
            Target::Gallery(_) => bail!("{target:?}: {TARGET_FORMS} (a whole gallery can only be disabled or enabled)"),
            t => Ok(t),
        }
    }
}

/// `<gallery>/<link>` → the two names (`<link>` may be `<audience>/<recipient>`).
pub fn split_target(target: &str) -> Result<(String, String)> {
    match Target::parse(target)? {
        Target::Link { gallery, link } => Ok((gallery, link)),
        _ => bail!("{target:?}: name one link as <gallery>/<link> or <gallery>/<audience>/<recipient>, e.g. spring-launch/market"),
    }
}

/// The worker's answer to an audience change, one line per fact it states.
pub fn render_audience(gallery: &str, audience: &str, answer: &serde_json::Value) -> String {
    let mut out = format!("audience {gallery}/@{audience}");
    let overrides = answer.get("overrides").and_then(|o| serde_json::from_value::<Overrides>(o.clone()).ok());
    match overrides {
        Some(o) => {
            let mut facts = Vec::new();
            facts.push(if o.is_disabled() { "disabled at runtime: every recipient's link refuses new opens".to_string() } else { "no runtime disable".to_string() });
            if let Some(max) = o.max_views {
                facts.push(format!("view limit {max} per recipient"));
            }
            if let Some(at) = o.expires_at.and_then(|t| chrono::DateTime::from_timestamp(t, 0)) {
                facts.push(format!("expires {}", at.format("%Y-%m-%d %H:%M UTC")));
            }
            out.push_str(&format!(": {}", facts.join(" · ")));
        }
        None => out.push_str(&format!(": {answer}")),
    }
    for notice in answer.get("notices").and_then(|n| n.as_array()).into_iter().flatten() {
        out.push_str(&format!("\n  note: {}", notice.as_str().map(str::to_string).unwrap_or_else(|| notice.to_string())));
    }
    out
}

pub fn run(cmd: AdminCommand) -> Result<()> {
    if let AdminCommand::Password { target: None, generate: true, .. } = cmd {
        println!("{}", password::generate()?);
        return Ok(());
    }
    let server = Server::from_env(Path::new("."))?;
    // Every change answers with the link as it now stands, shown in the site timezone.
    let show = |l: LinkStatus| -> Result<()> {
        println!("{}", render_link(&l, site_timezone(&server.timezone()?)?));
        Ok(())
    };
    match cmd {
        AdminCommand::Stats { gallery, link, from, to, json } => {
            let stats = server.stats(&gallery, &Window { link, from, to })?;
            if json {
                println!("{}", serde_json::to_string_pretty(&stats)?);
            } else {
                print!("{}", render_stats(&stats, site_timezone(&stats.timezone)?));
            }
        }
        AdminCommand::Disable { target } => switch(&server, &target, "disable", show)?,
        AdminCommand::Enable { target } => switch(&server, &target, "enable", show)?,
        AdminCommand::Revoke { target } => match Target::links_only(&target)? {
            Target::Audience { gallery, audience } => println!("{}", render_audience(&gallery, &audience, &server.audience_action(&gallery, &audience, "revoke")?)),
            Target::Link { gallery, link } => show(server.link_action(&gallery, &link, "revoke")?)?,
            Target::Gallery(_) => unreachable!("links_only refuses a gallery"),
        },
        AdminCommand::Extend { target, until, days, max_views, force } => {
            let patch = LinkPatch { expires: until, extend_days: days, max_views, force, ..LinkPatch::default() };
            if patch == (LinkPatch { force, ..LinkPatch::default() }) {
                bail!("nothing to change: give --until DATE, --days N and/or --max-views N");
            }
            match Target::links_only(&target)? {
                Target::Audience { gallery, audience } => println!("{}", render_audience(&gallery, &audience, &server.patch_audience(&gallery, &audience, &patch)?)),
                Target::Link { gallery, link } => show(server.patch(&gallery, &link, &patch)?)?,
                Target::Gallery(_) => unreachable!("links_only refuses a gallery"),
            }
        }
        AdminCommand::Password { target, clear, generate } => {
            let target = target.context("give the link: gatefold password <gallery>/<link>")?;
            let new = if clear { password::New::Clear } else if generate { password::New::Generate } else { password::New::Ask };
            password::set(&server, &target, new, show)?
        }
        AdminCommand::Export { gallery, csv, xlsx, link, from, to } => {
            let (ext, path) = match (csv, xlsx) {
                (Some(p), None) => ("csv", p),
                (None, Some(p)) => ("xlsx", p),
                _ => bail!("give exactly one of --csv FILE or --xlsx FILE"),
            };
            let bytes = server.export(&gallery, ext, &Window { link, from, to })?;
            std::fs::write(&path, &bytes).with_context(|| format!("writing {}", path.display()))?;
            println!("wrote {} ({} bytes)", path.display(), bytes.len());
        }
        AdminCommand::Notify { command: NotifyCommand::Test { gallery } } => {
            let (report, failed, total) = render_notify_test(&server.notify_test(gallery.as_deref())?);
            print!("{report}");
            if total == 0 {
                bail!("no notification channel is configured{}: declare `notify:` in galleries/site.yaml or a gallery.yaml, then publish", gallery.map(|g| format!(" for gallery {g}")).unwrap_or_default());
            }
            if failed > 0 {
                bail!("{failed} of {total} channel(s) failed: check each secret (`wrangler secret put <NAME>`, `.dev.vars` locally) and the bot's settings");
            }
        }
        AdminCommand::Audit { gallery, json } => {
            let answer = server.audit(&gallery)?;
            if json {
                println!("{}", serde_json::to_string_pretty(&answer)?);
            } else {
                print!("{}", render_audit(&answer, site_timezone(&server.timezone()?)?));
            }
        }
    }
    Ok(())
}

/// `gatefold notify test`'s report, one line per channel: platform, secret name, gallery, HTTP
/// status, ok/failed and the detail. Returns the report, how many failed and how many ran.
pub fn render_notify_test(answer: &NotifyTestAnswer) -> (String, usize, usize) {
    let mut out = String::new();
    let mut failed = 0;
    for c in &answer.channels {
        failed += usize::from(!c.ok);
        let status = c.status.map_or_else(|| "-".to_string(), |s| s.to_string());
        out.push_str(&format!(
            "{:<8} {:<24} {:<20} {:>3}  {}{}\n",
            c.to.name(),
            c.url_secret,
            c.gallery,
            status,
            if c.ok { "ok" } else { "FAILED" },
            if c.detail.is_empty() { String::new() } else { format!("  {}", c.detail) }
        ));
    }
    (out, failed, answer.channels.len())
}

/// `gatefold audit`'s table: time (site timezone), action, target, before → after, IP, device.
pub fn render_audit(answer: &AuditLog, tz: chrono_tz::Tz) -> String {
    if answer.entries.is_empty() {
        return "no owner actions on record\n".into();
    }
    let mut out = String::new();
    for e in &answer.entries {
        let when = chrono::DateTime::from_timestamp_millis(e.at).map_or_else(|| "?".into(), |t| t.with_timezone(&tz).format("%Y-%m-%d %H:%M:%S").to_string());
        let change = match (&e.before, &e.after) {
            (Some(b), Some(a)) => format!("{b} → {a}"),
            (None, Some(a)) => format!("→ {a}"),
            (Some(b), None) => format!("{b} →"),
            (None, None) => "-".into(),
        };
        let or_dash = |v: &Option<String>| v.clone().unwrap_or_else(|| "-".into());
        out.push_str(&format!("{when}  {:<10} {:<28} {:<32} {:<16} {:<24} {}\n", e.action, e.target, change, or_dash(&e.ip), or_dash(&e.actor), or_dash(&e.device)));
    }
    out.push_str(&format!("times in {tz}\n"));
    out
}

/// The runtime overrides still in force on `links` (`(gallery, link)` pairs), one line each,
/// for `gatefold publish` and `plan` to show; empty when there are none.
pub fn overrides_in_force(server: &Server, links: &[(String, String)]) -> Result<String> {
    let all = server.links()?;
    Ok(render_overrides_in_force(&all, links, site_timezone(&all.timezone)?))
}

/// What `gatefold publish` and `plan` say about runtime overrides on the links of `manifest`,
/// when an admin token is at hand (`GATEFOLD_ADMIN_TOKEN`; pull-request checks have none):
/// the worker at `GATEFOLD_URL`, else at the site's `base_url`. `None` without a token. A
/// worker that cannot be asked is said, never an error: the publish itself is done.
pub fn overrides_report(manifest: &gatefold_contract::Manifest) -> Option<String> {
    let token = std::env::var("GATEFOLD_ADMIN_TOKEN").ok().filter(|t| !t.is_empty())?;
    let url = std::env::var("GATEFOLD_URL").ok().filter(|u| !u.is_empty()).unwrap_or_else(|| manifest.site.base_url.clone());
    let server = Server { url: url.trim_end_matches('/').to_string(), token };
    let links: Vec<(String, String)> =
        manifest.galleries.values().flat_map(|g| g.links.keys().map(|l| (g.id.clone(), l.clone()))).collect();
    Some(match overrides_in_force(&server, &links) {
        Ok(report) if report.is_empty() => "No runtime overrides in force on the published links.\n".to_string(),
        Ok(report) => report,
        Err(e) => format!("Could not list the runtime overrides in force ({}): {e:#}\n", server.url),
    })
}

fn render_overrides_in_force(all: &LinksResponse, links: &[(String, String)], tz: chrono_tz::Tz) -> String {
    let mut out = String::new();
    for l in all.links.iter().filter(|l| links.iter().any(|(g, n)| *g == l.gallery && *n == l.name)) {
        let changes = describe_overrides(&l.overrides, &l.gallery_overrides, tz);
        if !changes.is_empty() {
            out.push_str(&format!("  {}/{}: {}\n", l.gallery, l.name, changes.join(", ")));
        }
    }
    if out.is_empty() { out } else { format!("Runtime overrides still in force (the admin page or `gatefold enable|extend` changes them):\n{out}") }
}

fn describe_overrides(own: &Overrides, gallery: &Overrides, tz: chrono_tz::Tz) -> Vec<String> {
    let mut changes = Vec::new();
    if gallery.is_disabled() {
        changes.push("gallery disabled at runtime".to_string());
    }
    if own.is_disabled() {
        changes.push("disabled at runtime".to_string());
    }
    if let Some(at) = own.expires_at {
        changes.push(format!("expiry set to {}", site_time(Some(at), tz)));
    }
    if let Some(max) = own.max_views {
        changes.push(format!("view limit set to {max}"));
    }
    changes
}

/// `disable`/`enable` of a link, an audience or a whole gallery.
fn switch(server: &Server, target: &str, action: &str, show: impl Fn(LinkStatus) -> Result<()>) -> Result<()> {
    let gallery = match Target::parse(target)? {
        Target::Link { gallery, link } => return show(server.link_action(&gallery, &link, action)?),
        Target::Audience { gallery, audience } => {
            println!("{}", render_audience(&gallery, &audience, &server.audience_action(&gallery, &audience, action)?));
            return Ok(());
        }
        Target::Gallery(gallery) => gallery,
    };
    let st = server.gallery_action(&gallery, action)?;
    let state = if st.overrides.is_disabled() { "disabled at runtime: every link refuses new opens" } else { "no runtime disable" };
    println!("gallery {}: {state}", st.gallery);
    for notice in &st.notices {
        println!("  note: {notice}");
    }
    Ok(())
}

fn state_word(state: LinkState) -> &'static str {
    match state {
        LinkState::Active => "active",
        LinkState::Disabled => "disabled",
        LinkState::Expired => "expired",
        LinkState::LimitReached => "limit reached",
    }
}

/// The site timezone the API names, for showing times as the admin page does.
fn site_timezone(name: &str) -> Result<chrono_tz::Tz> {
    name.parse().map_err(|e| anyhow::anyhow!("the server's site timezone {name:?} is unknown to this gatefold ({e}): update gatefold"))
}

/// An instant in the site timezone (`never` for none).
fn site_time(unix: Option<i64>, tz: chrono_tz::Tz) -> String {
    unix.and_then(|t| chrono::DateTime::from_timestamp(t, 0))
        .map_or("never".into(), |d| d.with_timezone(&tz).format("%Y-%m-%d %H:%M %Z").to_string())
}

pub fn render_link(l: &LinkStatus, tz: chrono_tz::Tz) -> String {
    let views = match l.max_views {
        Some(max) => format!("{}/{max} views ({} left)", l.views, l.views_left.unwrap_or(0)),
        None => format!("{} views (unlimited)", l.views),
    };
    let expires = l.expires_at.map_or("no expiry".to_string(), |t| format!("expires {}", site_time(Some(t), tz)));
    let mut out = format!("{}/{}: {} · {views} · {expires} · last open {}", l.gallery, l.name, state_word(l.state), site_time(l.last_open, tz));
    if l.policy.disabled {
        out.push_str("\n  disabled in gallery.yaml: change it there and publish to reopen it");
    }
    for notice in &l.notices {
        out.push_str(&format!("\n  note: {notice}"));
    }
    out
}

fn table(out: &mut String, title: &str, rows: &[Count]) {
    if rows.is_empty() {
        return;
    }
    out.push_str(&format!("\n{title}\n"));
    for c in rows.iter().take(10) {
        out.push_str(&format!("  {:<28} {:>8}\n", c.key, c.count));
    }
}

pub fn render_stats(s: &GalleryStats, tz: chrono_tz::Tz) -> String {
    let t = &s.totals;
    let mut out = format!(
        "{} ({}){}\n  opens {:>8}\n  refused {:>6}\n  unique visitors {}\n  downloads {:>4}\n  full-size views {}\n",
        s.gallery_title,
        s.gallery,
        s.link.as_ref().map(|l| format!(" · link {l}")).unwrap_or_default(),
        t.opens_admitted,
        t.opens_denied,
        t.unique_visitors,
        t.downloads,
        t.image_views
    );
    for (reason, n) in &t.denied_by_reason {
        out.push_str(&format!("  refused {reason}: {n}\n"));
    }
    out.push_str("\nLinks\n");
    for l in &s.links {
        out.push_str(&format!("  {:<20} opens {:>6}  refused {:>5}  downloads {:>5}  last open {}\n", l.name, l.opens_admitted, l.opens_denied, l.downloads, site_time(l.last_open, tz)));
    }
    if !s.never_opened.is_empty() {
        out.push_str(&format!("  never opened: {}\n", s.never_opened.join(", ")));
    }
    let peak: Vec<Count> = {
        let mut hours: Vec<Count> = s.opens_per_hour.iter().enumerate().filter(|(_, n)| **n > 0).map(|(h, n)| Count { key: format!("{h:02}:00"), count: *n }).collect();
        hours.sort_by(|a, b| b.count.cmp(&a.count).then(a.key.cmp(&b.key)));
        hours
    };
    table(&mut out, &format!("Peak hours ({})", s.timezone), &peak);
    table(&mut out, "Opens per day", &s.opens_per_day);
    table(&mut out, "Countries", &s.countries);
    table(&mut out, "Cities", &s.cities);
    table(&mut out, "Devices", &s.devices);
    table(&mut out, "Operating systems", &s.os);
    table(&mut out, "Browsers", &s.browsers);
    table(&mut out, "Referrers", &s.referrers);
    let images: Vec<Count> = s.images.iter().map(|i| Count { key: format!("{} ({} downloads)", i.file_name, i.downloads), count: i.views }).collect();
    table(&mut out, "Full-size views per image", &images);
    out
}

#[cfg(test)]
mod tests;
