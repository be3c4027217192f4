//! `gatefold stats|disable|enable|extend|export`: the admin API from the command line.
//!
//! Mount with `#[command(flatten)] Admin(admin::AdminCommand)` in the CLI's `Command` enum and
//! call [`run`]. The server and token come from `GATEFOLD_URL` (default the local
//! `wrangler dev`, <http://127.0.0.1:8787>) and `GATEFOLD_ADMIN_TOKEN` (default `ADMIN_TOKEN`
//! from `.dev.vars`, which `scripts/dev.sh` writes).

use anyhow::{Context, Result, bail};
use gatefold_contract::LinkState;
use gatefold_contract::admin::{ApiError, Count, GalleryStats, LinkPatch, LinkStatus, LinksResponse};
use std::path::{Path, PathBuf};
use std::time::Duration;

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
    /// Turn a link off at once: `gatefold disable <gallery>/<link>`.
    Disable { target: String },
    /// Turn a link back on.
    Enable { target: String },
    /// Extend a link's expiry and/or change its view limit.
    Extend {
        target: String,
        /// Valid through this day (YYYY-MM-DD, site timezone) or an RFC 3339 time.
        #[arg(long, conflicts_with = "days")]
        until: Option<String>,
        /// Valid for this many more days from now.
        #[arg(long)]
        days: Option<u32>,
        /// New view limit.
        #[arg(long)]
        max_views: Option<u32>,
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
                let text = std::fs::read_to_string(&path).with_context(|| {
                    format!("no admin token: set GATEFOLD_ADMIN_TOKEN, or run from the project folder where {} holds ADMIN_TOKEN", path.display())
                })?;
                dev_var(&text, "ADMIN_TOKEN").with_context(|| format!("{} has no ADMIN_TOKEN line; set GATEFOLD_ADMIN_TOKEN instead", path.display()))?
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
    fn send(&self, method: &str, path: &str, body: Option<&serde_json::Value>) -> Result<Vec<u8>> {
        let url = format!("{}/admin/api/{path}", self.url);
        let agent = Self::agent();
        let auth = format!("Bearer {}", self.token);
        let result = match (method, body) {
            ("GET", _) => agent.get(&url).header("Authorization", &auth).call(),
            ("POST", None) => agent.post(&url).header("Authorization", &auth).send_empty(),
            ("PATCH", Some(b)) => agent.patch(&url).header("Authorization", &auth).send_json(b),
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
        let detail = api.map(|a| a.message).unwrap_or_else(|| String::from_utf8_lossy(&bytes).chars().take(200).collect());
        match status {
            401 => bail!("the server refused the admin token ({detail}): check GATEFOLD_ADMIN_TOKEN or ADMIN_TOKEN in .dev.vars"),
            429 => bail!("{detail}"),
            404 => bail!("{detail}"),
            _ => bail!("{method} {url} answered {status}: {detail}"),
        }
    }

    pub fn links(&self) -> Result<LinksResponse> {
        serde_json::from_slice(&self.send("GET", "links", None)?).context("reading the links list")
    }

    pub fn stats(&self, gallery: &str, q: &Window) -> Result<GalleryStats> {
        let path = format!("galleries/{}/stats{}", enc(gallery), q.query());
        serde_json::from_slice(&self.send("GET", &path, None)?).context("reading the statistics")
    }

    pub fn set_enabled(&self, gallery: &str, link: &str, enabled: bool) -> Result<LinkStatus> {
        let path = format!("links/{}/{}/{}", enc(gallery), enc(link), if enabled { "enable" } else { "disable" });
        serde_json::from_slice(&self.send("POST", &path, None)?).context("reading the link's new state")
    }

    pub fn patch(&self, gallery: &str, link: &str, patch: &LinkPatch) -> Result<LinkStatus> {
        let path = format!("links/{}/{}", enc(gallery), enc(link));
        serde_json::from_slice(&self.send("PATCH", &path, Some(&serde_json::to_value(patch)?))?).context("reading the link's new state")
    }

    pub fn export(&self, gallery: &str, ext: &str, q: &Window) -> Result<Vec<u8>> {
        self.send("GET", &format!("galleries/{}/export.{ext}{}", enc(gallery), q.query()), None)
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
            .filter_map(|(k, v)| v.as_ref().map(|v| format!("{k}={}", enc(v))))
            .collect();
        if pairs.is_empty() { String::new() } else { format!("?{}", pairs.join("&")) }
    }
}

fn enc(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

/// `KEY=value` (optionally quoted) from a `.dev.vars` file.
pub fn dev_var(text: &str, key: &str) -> Option<String> {
    text.lines().find_map(|line| {
        let (k, v) = line.trim().split_once('=')?;
        (k.trim() == key).then(|| v.trim().trim_matches('"').trim_matches('\'').to_string()).filter(|v| !v.is_empty())
    })
}

/// `<gallery>/<link>` → the two names.
pub fn split_target(target: &str) -> Result<(&str, &str)> {
    match target.split_once('/') {
        Some((g, l)) if !g.is_empty() && !l.is_empty() && !l.contains('/') => Ok((g, l)),
        _ => bail!("{target:?}: name the link as <gallery>/<link>, e.g. spring-launch/market"),
    }
}

pub fn run(cmd: AdminCommand) -> Result<()> {
    let server = Server::from_env(Path::new("."))?;
    match cmd {
        AdminCommand::Stats { gallery, link, from, to, json } => {
            let stats = server.stats(&gallery, &Window { link, from, to })?;
            if json {
                println!("{}", serde_json::to_string_pretty(&stats)?);
            } else {
                print!("{}", render_stats(&stats));
            }
        }
        AdminCommand::Disable { target } => {
            let (g, l) = split_target(&target)?;
            println!("{}", render_link(&server.set_enabled(g, l, false)?));
        }
        AdminCommand::Enable { target } => {
            let (g, l) = split_target(&target)?;
            println!("{}", render_link(&server.set_enabled(g, l, true)?));
        }
        AdminCommand::Extend { target, until, days, max_views } => {
            let (g, l) = split_target(&target)?;
            let expires_at = days.map(|d| chrono::Utc::now().timestamp() + i64::from(d) * 86_400);
            let patch = LinkPatch { expires_at, expires: until, max_views };
            if patch == LinkPatch::default() {
                bail!("nothing to change: give --until DATE, --days N and/or --max-views N");
            }
            println!("{}", render_link(&server.patch(g, l, &patch)?));
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

fn when(unix: Option<i64>) -> String {
    unix.and_then(|t| chrono::DateTime::from_timestamp(t, 0)).map_or("never".into(), |d| d.format("%Y-%m-%d %H:%M UTC").to_string())
}

pub fn render_link(l: &LinkStatus) -> String {
    let views = match l.max_views {
        Some(max) => format!("{}/{max} views ({} left)", l.views, l.views_remaining.unwrap_or(0)),
        None => format!("{} views (unlimited)", l.views),
    };
    let expires = l.expires_at.map_or("no expiry".to_string(), |t| format!("expires {}", when(Some(t))));
    format!("{}/{}: {} · {views} · {expires} · last open {}", l.gallery, l.name, state_word(l.state), when(l.last_open))
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

pub fn render_stats(s: &GalleryStats) -> String {
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
        out.push_str(&format!("  {:<20} opens {:>6}  refused {:>5}  downloads {:>5}  last open {}\n", l.name, l.opens_admitted, l.opens_denied, l.downloads, when(l.last_open)));
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
mod tests {
    use super::*;

    #[test]
    fn the_token_is_read_from_dev_vars_quoted_or_not() {
        assert_eq!(dev_var("SIGNING_KEY=abc\nADMIN_TOKEN=\"s3cret\"\n", "ADMIN_TOKEN").as_deref(), Some("s3cret"));
        assert_eq!(dev_var("ADMIN_TOKEN = plain", "ADMIN_TOKEN").as_deref(), Some("plain"));
        assert_eq!(dev_var("ADMIN_TOKEN_OLD=x", "ADMIN_TOKEN"), None);
    }

    #[test]
    fn a_target_must_name_gallery_and_link() {
        assert_eq!(split_target("spring/market").unwrap(), ("spring", "market"));
        for bad in ["spring", "/market", "spring/", "a/b/c"] {
            assert!(split_target(bad).unwrap_err().to_string().contains("<gallery>/<link>"), "{bad}");
        }
    }

    #[test]
    fn filters_are_url_encoded() {
        let w = Window { link: Some("dealer shanghai".into()), from: Some("2026-03-01".into()), to: None };
        assert_eq!(w.query(), "?link=dealer+shanghai&from=2026-03-01");
        assert_eq!(Window::default().query(), "");
    }

    #[test]
    fn an_unreachable_server_says_how_to_start_it() {
        let s = Server { url: "http://127.0.0.1:9".into(), token: "x".repeat(20) };
        let err = s.links().unwrap_err().to_string();
        assert!(err.contains("cannot reach the Gatefold server") && err.contains("GATEFOLD_URL"), "{err}");
    }
}
