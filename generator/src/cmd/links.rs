//! `gatefold links`.

use super::args::OutDir;
use anyhow::Result;
use gatefold::{build, keys};
use gatefold_contract::manifest::{LinkMark, link_url};
use std::path::{Path, PathBuf};

#[derive(Debug, clap::Args)]
pub struct LinksArgs {
    /// Machine-readable output.
    #[arg(long)]
    json: bool,
    /// The build whose QR codes are listed.
    #[command(flatten)]
    out: OutDir,
    /// List links as a production build would (SIGNING_KEY from the environment).
    #[arg(long)]
    production: bool,
}

#[derive(serde::Serialize)]
struct LinkRow {
    gallery: String,
    link: String,
    label: String,
    url: String,
    token: String,
    policy: gatefold_contract::LinkPolicy,
    qr_svg: PathBuf,
    qr_png: PathBuf,
    card: PathBuf,
    /// `mark:` in force: `None` for an unmarked link.
    #[serde(skip_serializing_if = "Option::is_none")]
    mark: Option<MarkRow>,
}

/// A marked link's mark as `links` shows it: the published [`LinkMark`] and its stamp's text.
#[derive(serde::Serialize)]
struct MarkRow {
    #[serde(flatten)]
    published: LinkMark,
    /// The visible stamp's text and position.
    #[serde(skip_serializing_if = "Option::is_none")]
    stamp_text: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    position: Option<&'static str>,
}

impl MarkRow {
    fn describe(&self) -> String {
        let stamp = match (&self.stamp_text, self.position) {
            (Some(text), Some(position)) => format!(", stamp \"{text}\" ({position})"),
            _ => String::new(),
        };
        let originals = if self.published.originals { ", originals marked" } else { "" };
        format!("marked (key {}{stamp}{originals})", self.published.key_id)
    }
}

pub fn run(galleries: &Path, args: LinksArgs) -> Result<()> {
    // Quick load: listing links must not wait for a full decode of every image. The theme is
    // not used here, so its name is not checked.
    let (project, _) = build::load_unthemed(galleries, false, build::now_unix())?;
    let (key, origin) = keys::signing_key(&build::project_root_of(galleries), args.production)?;
    let owner = args.out.out_dir.join("owner");
    let rows: Vec<LinkRow> = project
        .galleries
        .iter()
        .flat_map(|g| {
            let owner = &owner;
            let base = &project.site.base_url;
            build::link_entries(g, &key).into_values().map(move |l| LinkRow {
                mark: l.mark.clone().map(|published| {
                    let stamp = g.links.iter().find(|c| c.name == l.name).and_then(|c| c.mark.as_ref()?.stamp.clone());
                    MarkRow { published, stamp_text: stamp.as_ref().map(|s| s.0.clone()), position: stamp.map(|s| s.1.name()) }
                }),
                url: link_url(base, &l.token),
                qr_svg: owner.join(format!("qr/{}/{}.svg", g.id, l.name)),
                qr_png: owner.join(format!("qr/{}/{}.png", g.id, l.name)),
                card: owner.join(format!("cards/{}/{}.html", g.id, l.name)),
                gallery: g.id.clone(),
                link: l.name,
                label: l.label,
                token: l.token,
                policy: l.policy,
            })
        })
        .collect();
    if args.json {
        println!("{}", serde_json::to_string_pretty(&rows)?);
        return Ok(());
    }
    eprintln!("links signed with {origin}");
    for r in &rows {
        let p = &r.policy;
        let views = p.max_views.map_or("unlimited views".to_string(), |n| format!("{n} views"));
        let site = &project.site;
        let expires = p.expires.map_or("no expiry".to_string(), |e| format!("expires {}", e.describe(site.timezone.name(), &site.utc_offsets)));
        let download = if p.download.any() { "download on" } else { "download off" };
        let duration = p.view_seconds.map(|s| format!(", {s}s sessions")).unwrap_or_default();
        let duration = format!("{duration}{}", p.devices.map(|n| format!(", {n} devices")).unwrap_or_default());
        let disabled = if p.disabled { ", DISABLED" } else { "" };
        let mark = r.mark.as_ref().map(|m| format!("\n  {}", m.describe())).unwrap_or_default();
        println!("{}/{} ({})\n  {}\n  {views}, {expires}, {download}{duration}{disabled}{mark}\n  QR: {}", r.gallery, r.link, r.label, r.url, r.qr_png.display());
    }
    Ok(())
}
