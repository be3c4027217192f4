//! `gatefold links`.

use super::args::OutDir;
use anyhow::Result;
use gatefold::{build, keys};
use gatefold_contract::manifest::link_url;
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
        println!("{}/{} ({})\n  {}\n  {views}, {expires}, {download}{duration}{disabled}\n  QR: {}", r.gallery, r.link, r.label, r.url, r.qr_png.display());
    }
    Ok(())
}
