//! The admin API from the command line, as a library: the client ([`Server`], one method per
//! API route), the text the commands print ([`render`]), setting link passwords
//! ([`password`]), and what a target names ([`Target`]). The commands themselves (their clap
//! arguments and what each prints) are `crate::cmd::admin`.
//!
//! A target is `<gallery>` (disable/enable only), `<gallery>/<link>`,
//! `<gallery>/<audience>/<recipient>` (one recipient's link) or `<gallery>/@<audience>` (every
//! recipient of an audience at once: one write on the worker, whatever their number).
//!
//! The server and token come from `GATEFOLD_URL` (default the local `wrangler dev`,
//! <http://127.0.0.1:8787>) and `GATEFOLD_ADMIN_TOKEN` (default `ADMIN_TOKEN` from
//! `.dev.vars`, which `scripts/dev.sh` writes).

use anyhow::{Result, bail};

mod client;
pub mod password;
pub mod render;
pub use client::{Action, DEFAULT_URL, Server, Window};
pub use password::{MIN_PASSWORD_CHARS, check_password};
pub use render::{render_audience, render_audit, render_devices, render_link, render_notify_test, render_requests, render_stats, site_time, site_timezone};

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
    pub fn links_only(target: &str) -> Result<Target> {
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

/// The runtime overrides still in force on `links` (`(gallery, link)` pairs), one line each,
/// for `gatefold publish` and `plan` to show; empty when there are none.
pub fn overrides_in_force(server: &Server, links: &[(String, String)]) -> Result<String> {
    let all = server.links()?;
    Ok(render::render_overrides_in_force(&all, links, site_timezone(&all.timezone)?))
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

#[cfg(test)]
mod tests;
