//! `gatefold plan`: what a change to the galleries does for the people holding the links.
//!
//! Two manifests are compared (the one deployed, or the one a PR's base commit builds, against
//! the one the working tree builds) and the differences are told from a recipient's side: which
//! links appear or stop working, which policies change, which images are new, replaced or gone,
//! and — the question owners ask first — whether any URL already handed out changes.
//!
//! Tokens are secrets (a token is the key to a gallery), so every rendering shortens them unless
//! asked otherwise: a plan ends up in CI logs and PR summaries that many people can read.

use anyhow::{Context, Result, bail};
use chrono::{DateTime, Timelike};
use gatefold_contract::LinkPolicy;
use gatefold_contract::manifest::{Gallery, Image, Manifest, link_url};
use serde::Serialize;
use std::collections::BTreeSet;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;

/// Everything that changes for recipients between two manifests.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Plan {
    pub base_url: String,
    pub timezone: String,
    /// Site-wide changes (base URL, timezone, default language, IP logging).
    pub site: Vec<FieldChange>,
    /// Galleries with any change, by id.
    pub galleries: Vec<GalleryPlan>,
    /// Links in both manifests whose URL stays exactly the same.
    pub urls_kept: usize,
    /// Links in both manifests whose URL changes: the old URL stops working.
    pub urls_changed: usize,
    /// Links in the new manifest.
    pub links_total: usize,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Change {
    Added,
    Removed,
    Changed,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FieldChange {
    pub field: String,
    pub old: String,
    pub new: String,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct GalleryPlan {
    pub id: String,
    pub title: String,
    pub change: Change,
    /// Title changes; empty for added or removed galleries.
    pub fields: Vec<FieldChange>,
    pub links: Vec<LinkPlan>,
    pub images: Vec<ImagePlan>,
    /// The same images are shown in a different order.
    pub reordered: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LinkPlan {
    pub name: String,
    pub label: String,
    pub change: Change,
    /// The URL recipients hold today (absent for added links).
    pub old_url: Option<String>,
    /// The URL after publishing (absent for removed links).
    pub new_url: Option<String>,
    /// True when an existing link gets a new URL (its `rotate` changed, or the site's base URL):
    /// whoever holds the old URL loses access.
    pub url_changed: bool,
    /// Policy and label changes, old → new. For an added link: its policy, from "—".
    pub fields: Vec<FieldChange>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ImagePlan {
    pub id: String,
    pub file_name: String,
    pub change: Change,
    /// The original's content changed (same image id, new content-hashed key): every link keeps
    /// working and shows the new image.
    pub replaced: bool,
    /// Caption, alt text and file name changes.
    pub fields: Vec<FieldChange>,
}

impl Plan {
    /// Nothing any recipient could notice.
    pub fn is_empty(&self) -> bool {
        self.site.is_empty() && self.galleries.is_empty()
    }

    fn links(&self) -> impl Iterator<Item = &LinkPlan> {
        self.galleries.iter().flat_map(|g| g.links.iter())
    }

    fn images(&self) -> impl Iterator<Item = &ImagePlan> {
        self.galleries.iter().flat_map(|g| g.images.iter())
    }

    /// A copy whose URLs show only the start of each token: enough to tell links apart in a
    /// review, useless for opening a gallery.
    pub fn redacted(&self) -> Plan {
        let mut plan = self.clone();
        for g in &mut plan.galleries {
            for l in &mut g.links {
                for url in [&mut l.old_url, &mut l.new_url].into_iter().flatten() {
                    *url = redact_url(url);
                }
            }
        }
        plan
    }

    /// One line: counts of what changes.
    pub fn headline(&self) -> String {
        if self.is_empty() {
            return "No changes for recipients.".to_string();
        }
        let count = |n: usize, one: &str, many: &str| (n > 0).then(|| format!("{n} {}", if n == 1 { one } else { many }));
        let galleries = |c| self.galleries.iter().filter(|g| g.change == c).count();
        let links = |c| self.links().filter(|l| l.change == c).count();
        let policy = self.links().filter(|l| l.change == Change::Changed && l.fields.iter().any(|f| f.field != "label")).count();
        let images = |c| self.images().filter(|i| i.change == c).count();
        let replaced = self.images().filter(|i| i.replaced).count();
        let edited = self.images().filter(|i| i.change == Change::Changed && !i.fields.is_empty()).count();
        let parts: Vec<String> = [
            count(galleries(Change::Added), "gallery added", "galleries added"),
            count(galleries(Change::Removed), "gallery removed", "galleries removed"),
            count(links(Change::Added), "link added", "links added"),
            count(links(Change::Removed), "link removed", "links removed"),
            count(policy, "link with policy changes", "links with policy changes"),
            count(self.urls_changed, "link with a NEW URL", "links with NEW URLs"),
            count(images(Change::Added), "image added", "images added"),
            count(replaced, "image replaced", "images replaced"),
            count(images(Change::Removed), "image removed", "images removed"),
            count(edited, "caption/alt change", "caption/alt changes"),
            count(self.site.len(), "site setting changed", "site settings changed"),
        ]
        .into_iter()
        .flatten()
        .collect();
        if parts.is_empty() { "Only the order of images changes.".to_string() } else { format!("{}.", parts.join(", ")) }
    }

    /// The sentence owners look for: do the URLs already handed out keep working?
    pub fn url_statement(&self) -> String {
        if self.urls_changed == 0 {
            match self.urls_kept {
                0 => "No link that exists today is affected.".to_string(),
                1 => "The existing link keeps its URL.".to_string(),
                n => format!("All {n} existing links keep their URLs."),
            }
        } else {
            format!(
                "WARNING: {} existing link{} get{} a new URL; the old URL stops working (recipients need the new link or QR code). {} other link{} keep{} {} URL{}.",
                self.urls_changed,
                plural(self.urls_changed),
                if self.urls_changed == 1 { "s" } else { "" },
                self.urls_kept,
                plural(self.urls_kept),
                if self.urls_kept == 1 { "s" } else { "" },
                if self.urls_kept == 1 { "its" } else { "their" },
                plural(self.urls_kept),
            )
        }
    }

    /// GitHub-flavoured Markdown, for `$GITHUB_STEP_SUMMARY` and PR comments.
    pub fn to_markdown(&self) -> String {
        let mut out = String::from("## Gatefold plan: what changes for recipients\n\n");
        let _ = writeln!(out, "**{}**\n", self.headline());
        let _ = writeln!(out, "{}\n", if self.urls_changed > 0 { format!("> [!WARNING]\n> {}", self.url_statement()) } else { self.url_statement() });
        if !self.site.is_empty() {
            out.push_str("### Site\n\n");
            for f in &self.site {
                let _ = writeln!(out, "- {}: {} → **{}**", f.field, f.old, f.new);
            }
            out.push('\n');
        }
        for g in &self.galleries {
            let badge = match g.change {
                Change::Added => " (new gallery)",
                Change::Removed => " (removed: every link of it answers \"not found\")",
                Change::Changed => "",
            };
            let _ = writeln!(out, "### `{}` — {}{badge}\n", g.id, md_text(&g.title));
            for f in &g.fields {
                let _ = writeln!(out, "- {}: {} → **{}**", f.field, md_text(&f.old), md_text(&f.new));
            }
            if !g.links.is_empty() {
                out.push_str("| Link | Change | Details |\n|---|---|---|\n");
                for l in &g.links {
                    let _ = writeln!(out, "| `{}` ({}) | {} | {} |", l.name, md_cell(&l.label), link_change_label(l), md_lines(&link_details(l, "\n")));
                }
                out.push('\n');
            }
            if !g.images.is_empty() {
                out.push_str("| Image | Change | Details |\n|---|---|---|\n");
                for i in &g.images {
                    let details = i.fields.iter().map(|f| format!("{}: {} → {}", f.field, quote(&f.old), quote(&f.new))).collect::<Vec<_>>().join("\n");
                    let _ = writeln!(out, "| `{}` ({}) | {} | {} |", i.id, md_cell(&i.file_name), image_change_label(i), md_lines(&details));
                }
                out.push('\n');
            }
            if g.reordered {
                out.push_str("- The images are shown in a new order.\n\n");
            }
        }
        out
    }

    /// Plain text for a terminal.
    pub fn to_text(&self) -> String {
        let mut out = format!("{}\n{}\n", self.headline(), self.url_statement());
        for f in &self.site {
            let _ = writeln!(out, "\nsite: {}: {} → {}", f.field, f.old, f.new);
        }
        for g in &self.galleries {
            let what = match g.change {
                Change::Added => " [new gallery]",
                Change::Removed => " [removed: its links answer \"not found\"]",
                Change::Changed => "",
            };
            let _ = writeln!(out, "\n{} — {}{what}", g.id, g.title);
            for f in &g.fields {
                let _ = writeln!(out, "  {}: {} → {}", f.field, f.old, f.new);
            }
            for l in &g.links {
                let _ = writeln!(out, "  link {} ({}): {}", l.name, l.label, link_change_label(l));
                for line in link_details(l, "\n").lines() {
                    let _ = writeln!(out, "      {line}");
                }
            }
            for i in &g.images {
                let _ = writeln!(out, "  image {} ({}): {}", i.id, i.file_name, image_change_label(i));
                for f in &i.fields {
                    let _ = writeln!(out, "      {}: {} → {}", f.field, quote(&f.old), quote(&f.new));
                }
            }
            if g.reordered {
                let _ = writeln!(out, "  the images are shown in a new order");
            }
        }
        out
    }
}

fn link_change_label(l: &LinkPlan) -> &'static str {
    match (l.change, l.url_changed) {
        (Change::Added, _) => "new link",
        (Change::Removed, _) => "removed: its URL answers \"not found\"",
        (Change::Changed, true) => "NEW URL: the old URL stops working",
        (Change::Changed, false) => "policy changed",
    }
}

fn link_details(l: &LinkPlan, sep: &str) -> String {
    let mut parts: Vec<String> = Vec::new();
    match l.change {
        Change::Added => {
            parts.push(l.fields.iter().map(|f| format!("{}: {}", f.field, f.new)).collect::<Vec<_>>().join(", "));
            parts.extend(l.new_url.as_ref().map(|u| format!("URL: {u}")));
        }
        Change::Removed => parts.extend(l.old_url.as_ref().map(|u| format!("was: {u}"))),
        Change::Changed => {
            parts.extend(l.fields.iter().map(|f| format!("{}: {} → {}", f.field, f.old, f.new)));
            if l.url_changed {
                parts.extend(l.old_url.as_ref().map(|u| format!("old URL: {u}")));
                parts.extend(l.new_url.as_ref().map(|u| format!("new URL: {u}")));
            }
        }
    }
    parts.retain(|p| !p.is_empty());
    parts.join(sep)
}

fn image_change_label(i: &ImagePlan) -> &'static str {
    match (i.change, i.replaced) {
        (Change::Added, _) => "added",
        (Change::Removed, _) => "removed",
        (Change::Changed, true) => "replaced (links unchanged, recipients see the new image)",
        (Change::Changed, false) => "text changed",
    }
}

fn quote(s: &str) -> String {
    if s == NONE { s.to_string() } else { format!("\"{s}\"") }
}

/// Captions come from YAML the PR author wrote: keep them from breaking the Markdown table or
/// injecting markup into the summary.
fn md_cell(s: &str) -> String {
    md_text(s).replace('|', "\\|").replace('\n', " ")
}

/// Several lines in one table cell: each escaped, joined with `<br>`.
fn md_lines(s: &str) -> String {
    s.lines().map(md_cell).collect::<Vec<_>>().join("<br>")
}

fn md_text(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;")
}

fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}

const NONE: &str = "—";

/// Shortens the token in `<base>/s/<token>` to its first characters.
pub fn redact_url(url: &str) -> String {
    match url.rfind("/s/") {
        Some(i) => {
            let token = &url[i + 3..];
            let shown: String = token.chars().take(6).collect();
            format!("{}/s/{shown}…", &url[..i])
        }
        None => url.to_string(),
    }
}

/// Compares two manifests from a recipient's point of view.
pub fn diff(old: &Manifest, new: &Manifest) -> Plan {
    let tz = new.site.timezone.parse::<chrono_tz::Tz>().ok();
    let mut site = Vec::new();
    let mut push = |field: &str, a: String, b: String| {
        if a != b {
            site.push(FieldChange { field: field.to_string(), old: a, new: b });
        }
    };
    push("title", old.site.title.clone(), new.site.title.clone());
    push("base URL (every link URL)", old.site.base_url.clone(), new.site.base_url.clone());
    push("timezone", old.site.timezone.clone(), new.site.timezone.clone());
    push("default language", old.site.default_locale.tag().to_string(), new.site.default_locale.tag().to_string());
    push("IP logging", format!("{:?}", old.site.ip_logging).to_lowercase(), format!("{:?}", new.site.ip_logging).to_lowercase());
    push("signing key", key_kind(old), key_kind(new));

    let ids: BTreeSet<&String> = old.galleries.keys().chain(new.galleries.keys()).collect();
    let mut galleries = Vec::new();
    let (mut urls_kept, mut urls_changed) = (0, 0);
    for id in ids {
        let plan = match (old.galleries.get(id), new.galleries.get(id)) {
            (None, Some(g)) => whole_gallery(g, Change::Added, &new.site.base_url, tz),
            (Some(g), None) => whole_gallery(g, Change::Removed, &old.site.base_url, tz),
            (Some(a), Some(b)) => {
                let plan = gallery_changes(a, b, &old.site.base_url, &new.site.base_url, tz);
                for name in a.links.keys().filter(|n| b.links.contains_key(*n)) {
                    let same = link_url(&old.site.base_url, &a.links[name].token) == link_url(&new.site.base_url, &b.links[name].token);
                    if same { urls_kept += 1 } else { urls_changed += 1 }
                }
                plan
            }
            (None, None) => continue,
        };
        if plan.change != Change::Changed || !plan.fields.is_empty() || !plan.links.is_empty() || !plan.images.is_empty() || plan.reordered {
            galleries.push(plan);
        }
    }
    Plan {
        base_url: new.site.base_url.clone(),
        timezone: new.site.timezone.clone(),
        site,
        galleries,
        urls_kept,
        urls_changed,
        links_total: new.galleries.values().map(|g| g.links.len()).sum(),
    }
}

fn key_kind(m: &Manifest) -> String {
    if m.site.dev_key { "development key".into() } else { "production key".into() }
}

fn whole_gallery(g: &Gallery, change: Change, base_url: &str, tz: Option<chrono_tz::Tz>) -> GalleryPlan {
    GalleryPlan {
        id: g.id.clone(),
        title: g.title.clone(),
        change,
        fields: Vec::new(),
        links: g
            .links
            .values()
            .map(|l| {
                let u = Some(link_url(base_url, &l.token));
                LinkPlan {
                    name: l.name.clone(),
                    label: l.label.clone(),
                    change,
                    old_url: if change == Change::Removed { u.clone() } else { None },
                    new_url: if change == Change::Added { u } else { None },
                    url_changed: false,
                    fields: if change == Change::Added { policy_fields(&LinkPolicy::default(), &l.policy, tz, true) } else { Vec::new() },
                }
            })
            .collect(),
        images: g
            .images
            .iter()
            .map(|i| ImagePlan { id: i.id.clone(), file_name: i.file_name.clone(), change, replaced: false, fields: Vec::new() })
            .collect(),
        reordered: false,
    }
}

fn gallery_changes(a: &Gallery, b: &Gallery, old_base: &str, new_base: &str, tz: Option<chrono_tz::Tz>) -> GalleryPlan {
    let mut fields = Vec::new();
    if a.title != b.title {
        fields.push(FieldChange { field: "title".into(), old: a.title.clone(), new: b.title.clone() });
    }

    let mut links = Vec::new();
    for (name, new) in &b.links {
        let new_url = link_url(new_base, &new.token);
        match a.links.get(name) {
            None => links.push(LinkPlan {
                name: name.clone(),
                label: new.label.clone(),
                change: Change::Added,
                old_url: None,
                new_url: Some(new_url),
                url_changed: false,
                fields: policy_fields(&LinkPolicy::default(), &new.policy, tz, true),
            }),
            Some(old) => {
                let old_url = link_url(old_base, &old.token);
                let url_changed = old_url != new_url;
                let mut fields = policy_fields(&old.policy, &new.policy, tz, false);
                if old.label != new.label {
                    fields.push(FieldChange { field: "label".into(), old: old.label.clone(), new: new.label.clone() });
                }
                if old.rotate != new.rotate {
                    fields.push(FieldChange { field: "rotate".into(), old: old.rotate.to_string(), new: new.rotate.to_string() });
                }
                if url_changed || !fields.is_empty() {
                    links.push(LinkPlan {
                        name: name.clone(),
                        label: new.label.clone(),
                        change: Change::Changed,
                        old_url: Some(old_url),
                        new_url: Some(new_url),
                        url_changed,
                        fields,
                    });
                }
            }
        }
    }
    for (name, old) in a.links.iter().filter(|(n, _)| !b.links.contains_key(*n)) {
        links.push(LinkPlan {
            name: name.clone(),
            label: old.label.clone(),
            change: Change::Removed,
            old_url: Some(link_url(old_base, &old.token)),
            new_url: None,
            url_changed: false,
            fields: Vec::new(),
        });
    }

    let mut images = Vec::new();
    for new in &b.images {
        match a.image(&new.id) {
            None => images.push(ImagePlan { id: new.id.clone(), file_name: new.file_name.clone(), change: Change::Added, replaced: false, fields: Vec::new() }),
            Some(old) => {
                let fields = image_fields(old, new);
                let replaced = old.original.key != new.original.key;
                if replaced || !fields.is_empty() {
                    images.push(ImagePlan { id: new.id.clone(), file_name: new.file_name.clone(), change: Change::Changed, replaced, fields });
                }
            }
        }
    }
    for old in a.images.iter().filter(|i| b.image(&i.id).is_none()) {
        images.push(ImagePlan { id: old.id.clone(), file_name: old.file_name.clone(), change: Change::Removed, replaced: false, fields: Vec::new() });
    }

    // Order among the images present on both sides; additions and removals are reported already.
    let kept = |from: &Gallery, other: &Gallery| from.images.iter().filter(|i| other.image(&i.id).is_some()).map(|i| i.id.clone()).collect::<Vec<_>>();
    let reordered = kept(a, b) != kept(b, a);

    GalleryPlan { id: b.id.clone(), title: b.title.clone(), change: Change::Changed, fields, links, images, reordered }
}

fn image_fields(a: &Image, b: &Image) -> Vec<FieldChange> {
    let opt = |s: &Option<String>| s.clone().unwrap_or_else(|| NONE.to_string());
    let mut out = Vec::new();
    if a.caption != b.caption {
        out.push(FieldChange { field: "caption".into(), old: opt(&a.caption), new: opt(&b.caption) });
    }
    if a.alt != b.alt {
        out.push(FieldChange { field: "alt".into(), old: a.alt.clone(), new: b.alt.clone() });
    }
    if a.file_name != b.file_name {
        out.push(FieldChange { field: "download file name".into(), old: a.file_name.clone(), new: b.file_name.clone() });
    }
    out
}

/// Policy differences in the words of the gallery.yaml fields. With `all`, every field is
/// listed (a new link's whole policy).
fn policy_fields(a: &LinkPolicy, b: &LinkPolicy, tz: Option<chrono_tz::Tz>, all: bool) -> Vec<FieldChange> {
    let views = |v: Option<u32>| v.map_or("unlimited".to_string(), |n| n.to_string());
    let expiry = |t: Option<i64>| t.map_or("never".to_string(), |t| format_instant(t, tz));
    let download = |d: bool| if d { "allowed" } else { "not allowed" }.to_string();
    let seconds = |s: Option<u32>| s.map_or("no limit".to_string(), format_duration);
    let state = |d: bool| if d { "yes" } else { "no" }.to_string();
    let rows = [
        ("max_views", views(a.max_views), views(b.max_views)),
        ("expires", expiry(a.expires_at), expiry(b.expires_at)),
        ("download", download(a.download), download(b.download)),
        ("view_seconds", seconds(a.view_seconds), seconds(b.view_seconds)),
        ("disabled", state(a.disabled), state(b.disabled)),
    ];
    rows.into_iter()
        .filter(|(_, old, new)| all || old != new)
        .map(|(field, old, new)| FieldChange { field: field.to_string(), old: if all { NONE.to_string() } else { old }, new })
        .collect()
}

/// An instant in the site's timezone. Date-only expiries are stored as the next local midnight;
/// they read back as the day the owner wrote ("end of 2026-12-05").
pub fn format_instant(unix: i64, tz: Option<chrono_tz::Tz>) -> String {
    let Some(utc) = DateTime::from_timestamp(unix, 0) else { return unix.to_string() };
    let Some(tz) = tz else { return utc.format("%Y-%m-%d %H:%M UTC").to_string() };
    let local = utc.with_timezone(&tz);
    if local.hour() == 0 && local.minute() == 0 && local.second() == 0 {
        let day = local.date_naive().pred_opt().unwrap_or(local.date_naive());
        format!("end of {} ({})", day.format("%Y-%m-%d"), tz.name())
    } else {
        format!("{} ({})", local.format("%Y-%m-%d %H:%M"), tz.name())
    }
}

fn format_duration(s: u32) -> String {
    match s {
        s if s % 3600 == 0 => format!("{} h", s / 3600),
        s if s % 60 == 0 => format!("{} min", s / 60),
        s => format!("{s} s"),
    }
}

// ---------------------------------------------------------------------------------------------
// Where the two manifests come from.

/// `gatefold plan`: what publishing the working tree would change for recipients.
#[derive(Debug, Clone, clap::Args)]
pub struct PlanArgs {
    /// Compare with the galleries at this git ref (branch, tag or commit), e.g. the PR's base.
    /// Default: where HEAD branched from origin/main (or main), else HEAD.
    #[arg(long, value_name = "GIT_REF", conflicts_with = "against_manifest")]
    pub against: Option<String>,
    /// Compare with a manifest.json (e.g. one fetched from the last publish).
    #[arg(long, value_name = "FILE")]
    pub against_manifest: Option<PathBuf>,
    /// The new side as an already built manifest.json (default: build the working tree into a
    /// temporary directory).
    #[arg(long, value_name = "FILE")]
    pub manifest: Option<PathBuf>,
    /// Themes directory used for the builds.
    #[arg(long, default_value = "themes")]
    pub themes: PathBuf,
    /// Image cache directory (default: .gatefold-cache next to the galleries directory).
    #[arg(long)]
    pub cache: Option<PathBuf>,
    /// GitHub-flavoured Markdown (for $GITHUB_STEP_SUMMARY).
    #[arg(long, conflicts_with = "json")]
    pub markdown: bool,
    /// Machine-readable output.
    #[arg(long)]
    pub json: bool,
    /// Print link URLs in full. They grant access to galleries: never in CI logs.
    #[arg(long)]
    pub reveal_tokens: bool,
}

/// Runs `gatefold plan` for the galleries directory `galleries` and prints the plan.
pub fn run_plan(galleries: &Path, args: &PlanArgs) -> Result<()> {
    let root = crate::build::project_root_of(galleries);
    let cache = args.cache.clone().unwrap_or_else(|| root.join(".gatefold-cache"));
    let scratch = tempfile::tempdir().context("creating a temporary directory for the plan's builds")?;

    let new = match &args.manifest {
        Some(path) => read_manifest(path)?,
        None => build_manifest(galleries, &args.themes, &cache, &scratch.path().join("new"))?,
    };
    let old = match (&args.against_manifest, &args.against) {
        (Some(path), _) => read_manifest(path)?,
        (None, git_ref) => {
            let git_ref = match git_ref {
                Some(r) => r.clone(),
                None => default_base(galleries)?,
            };
            eprintln!("plan: comparing with the galleries at {git_ref}");
            manifest_at_ref(galleries, &git_ref, &args.themes, &cache.join("plan-base"), scratch.path(), &new)?
        }
    };
    if old.site.dev_key != new.site.dev_key && args.against_manifest.is_none() {
        bail!("the two builds used different signing keys, so every token would differ; run both with the same SIGNING_KEY");
    }

    let plan = diff(&old, &new);
    let shown = if args.reveal_tokens { plan } else { plan.redacted() };
    if args.json {
        println!("{}", serde_json::to_string_pretty(&shown).context("serialising the plan")?);
    } else if args.markdown {
        print!("{}", shown.to_markdown());
    } else {
        print!("{}", shown.to_text());
    }
    Ok(())
}

pub fn read_manifest(path: &Path) -> Result<Manifest> {
    let json = std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    Manifest::from_json(&json).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))
}

/// Builds `galleries` into `out` (a scratch directory) and returns the manifest.
pub fn build_manifest(galleries: &Path, themes: &Path, cache: &Path, out: &Path) -> Result<Manifest> {
    let report = crate::build::build(&crate::build::BuildOptions {
        galleries: galleries.to_path_buf(),
        themes: themes.to_path_buf(),
        out: out.to_path_buf(),
        cache: cache.to_path_buf(),
        production: false,
        progress: crate::images::Progress::Quiet,
        now: None,
    })
    .with_context(|| format!("building {}", galleries.display()))?;
    Ok(report.manifest)
}

/// Where a PR branch left main: what reviewers compare against.
fn default_base(galleries: &Path) -> Result<String> {
    for candidate in ["origin/main", "main"] {
        if let Ok(base) = git(galleries, &["merge-base", "HEAD", candidate]) {
            return Ok(base.trim().to_string());
        }
    }
    git(galleries, &["rev-parse", "--verify", "HEAD"]).map(|s| s.trim().to_string()).context(
        "finding a commit to compare with (fix: pass --against <git-ref> or --against-manifest <file>, or run inside a git repository with at least one commit)",
    )
}

/// The manifest the galleries at `git_ref` build, with the same signing key as the working tree
/// (tokens must be comparable). A ref without the galleries directory yields a site with no
/// galleries: everything is new.
pub fn manifest_at_ref(galleries: &Path, git_ref: &str, themes: &Path, cache: &Path, scratch: &Path, new: &Manifest) -> Result<Manifest> {
    let commit = git(galleries, &["rev-parse", "--verify", "--quiet", &format!("{git_ref}^{{commit}}")])
        .with_context(|| format!("`{git_ref}` is not a commit in this repository (fix: fetch it, e.g. `git fetch origin {git_ref}`, or use a full commit id)"))?;
    let commit = commit.trim();
    // Path of the galleries directory inside the repository, e.g. "galleries/".
    let prefix = git(galleries, &["rev-parse", "--show-prefix"])?.trim().trim_end_matches('/').to_string();
    let spec = if prefix.is_empty() { commit.to_string() } else { format!("{commit}:{prefix}") };
    if git(galleries, &["cat-file", "-e", &spec]).is_err() {
        return Ok(Manifest { galleries: Default::default(), ..new.clone() });
    }

    let tree = scratch.join("base");
    std::fs::create_dir_all(&tree).with_context(|| format!("creating {}", tree.display()))?;
    let mut args = vec!["archive", "--format=tar", commit];
    if !prefix.is_empty() {
        args.push(&prefix);
    }
    // Pathspecs are relative to the working directory: run from the top of the repository.
    let top = PathBuf::from(git(galleries, &["rev-parse", "--show-toplevel"])?.trim());
    let output = Command::new("git").args(&args).current_dir(&top).output().context("running git archive")?;
    if !output.status.success() {
        bail!("git archive {commit} {prefix} failed: {}", String::from_utf8_lossy(&output.stderr).trim());
    }
    // The tar crate refuses entries escaping the destination.
    tar::Archive::new(output.stdout.as_slice())
        .unpack(&tree)
        .with_context(|| format!("unpacking the galleries of {git_ref} into {}", tree.display()))?;
    let base_galleries = if prefix.is_empty() { tree.clone() } else { tree.join(&prefix) };

    // A local key in .dev.vars must sign the base build too, or every token would differ.
    let dev_vars = crate::build::project_root_of(galleries).join(".dev.vars");
    if dev_vars.exists() {
        let to = crate::build::project_root_of(&base_galleries).join(".dev.vars");
        std::fs::copy(&dev_vars, &to).with_context(|| format!("copying {} to {}", dev_vars.display(), to.display()))?;
    }
    build_manifest(&base_galleries, themes, cache, &scratch.join("base-dist")).with_context(|| format!("building the galleries as of {git_ref}"))
}

fn git(dir: &Path, args: &[&str]) -> Result<String> {
    let output = Command::new("git")
        .args(args)
        .current_dir(dir)
        .output()
        .with_context(|| format!("running git {} in {}", args.join(" "), dir.display()))?;
    if !output.status.success() {
        bail!("git {} failed: {}", args.join(" "), String::from_utf8_lossy(&output.stderr).trim());
    }
    String::from_utf8(output.stdout).context("git printed non-UTF-8 output")
}

#[cfg(test)]
mod tests {
    use super::*;
    use gatefold_contract::manifest::{IpLogging, Link, Original, Site};
    use gatefold_contract::{Locale, SigningKey};
    use std::collections::BTreeMap;

    // 2026-12-05T16:00:00Z = 2026-12-06 00:00 in Shanghai: a date-only expiry of 2026-12-05.
    const END_OF_DEC_5_SHANGHAI: i64 = 1_796_486_400;

    fn key() -> SigningKey {
        SigningKey::from_secret("plan tests: a secret long enough for tokens")
    }

    fn link(gallery: &str, name: &str, rotate: u32, policy: LinkPolicy) -> Link {
        Link { name: name.into(), label: format!("{name} team"), token: key().link_token(gallery, name, rotate), rotate, policy }
    }

    fn image(id: &str, content: &str) -> Image {
        Image {
            id: id.into(),
            file_name: format!("{id}.jpg"),
            caption: Some(format!("{id} caption")),
            alt: format!("{id} alt"),
            width: 1600,
            height: 900,
            animated: false,
            variants: Vec::new(),
            original: Original { key: format!("originals/launch/{content}.jpg"), size: 1000, content_type: "image/jpeg".into() },
        }
    }

    fn market() -> LinkPolicy {
        LinkPolicy { max_views: Some(100), expires_at: Some(END_OF_DEC_5_SHANGHAI), download: false, view_seconds: None, disabled: false }
    }

    fn manifest(links: Vec<Link>, images: Vec<Image>) -> Manifest {
        let gallery = Gallery {
            id: "launch".into(),
            title: "Aurora X1 launch".into(),
            images,
            links: links.into_iter().map(|l| (l.name.clone(), l)).collect(),
        };
        Manifest {
            format: gatefold_contract::manifest::FORMAT,
            site: Site {
                title: "Aurora".into(),
                base_url: "https://images.example.com".into(),
                default_locale: Locale::ZhCn,
                timezone: "Asia/Shanghai".into(),
                ip_logging: IpLogging::Truncated,
                utc_offsets: vec![(0, 8 * 3600)],
                dev_key: false,
                analytics: Default::default(),
            },
            galleries: BTreeMap::from([("launch".to_string(), gallery)]),
        }
    }

    fn base() -> Manifest {
        manifest(vec![link("launch", "market", 0, market()), link("launch", "sales", 0, LinkPolicy::default())], vec![image("hero", "aaaa"), image("side", "bbbb")])
    }

    #[test]
    fn identical_manifests_change_nothing_and_keep_every_url() {
        let plan = diff(&base(), &base());
        assert!(plan.is_empty());
        assert_eq!((plan.urls_kept, plan.urls_changed, plan.links_total), (2, 0, 2));
        assert_eq!(plan.headline(), "No changes for recipients.");
        assert_eq!(plan.url_statement(), "All 2 existing links keep their URLs.");
    }

    #[test]
    fn a_policy_change_is_reported_old_to_new_in_the_site_timezone() {
        let mut new = base();
        let g = new.galleries.get_mut("launch").unwrap();
        let m = g.links.get_mut("market").unwrap();
        m.policy.max_views = Some(200);
        m.policy.expires_at = Some(END_OF_DEC_5_SHANGHAI + 15 * 86_400 + 3600);
        m.policy.download = true;
        m.policy.view_seconds = Some(600);
        let plan = diff(&base(), &new);
        let l = &plan.galleries[0].links[0];
        assert_eq!((l.name.as_str(), l.change, l.url_changed), ("market", Change::Changed, false));
        let fields: Vec<(&str, &str, &str)> = l.fields.iter().map(|f| (f.field.as_str(), f.old.as_str(), f.new.as_str())).collect();
        assert_eq!(
            fields,
            vec![
                ("max_views", "100", "200"),
                ("expires", "end of 2026-12-05 (Asia/Shanghai)", "2026-12-21 01:00 (Asia/Shanghai)"),
                ("download", "not allowed", "allowed"),
                ("view_seconds", "no limit", "10 min"),
            ]
        );
        assert_eq!(plan.urls_kept, 2);
        assert_eq!(plan.headline(), "1 link with policy changes.");
    }

    #[test]
    fn bumping_rotate_flags_the_link_whose_old_url_stops_working() {
        let new = manifest(vec![link("launch", "market", 1, market()), link("launch", "sales", 0, LinkPolicy::default())], base().galleries["launch"].images.clone());
        let plan = diff(&base(), &new);
        assert_eq!((plan.urls_kept, plan.urls_changed), (1, 1));
        let l = &plan.galleries[0].links[0];
        assert!(l.url_changed);
        assert_ne!(l.old_url, l.new_url);
        assert_eq!(l.fields, vec![FieldChange { field: "rotate".into(), old: "0".into(), new: "1".into() }]);
        assert!(plan.url_statement().starts_with("WARNING: 1 existing link gets a new URL; the old URL stops working"), "{}", plan.url_statement());
        assert!(plan.to_markdown().contains("NEW URL: the old URL stops working"));
    }

    #[test]
    fn links_added_and_removed_are_listed_with_the_new_links_policy() {
        let new = manifest(vec![link("launch", "market", 0, market()), link("launch", "press", 0, LinkPolicy { max_views: Some(30), download: true, ..LinkPolicy::default() })], base().galleries["launch"].images.clone());
        let plan = diff(&base(), &new);
        let links: Vec<(&str, Change)> = plan.galleries[0].links.iter().map(|l| (l.name.as_str(), l.change)).collect();
        assert_eq!(links, vec![("press", Change::Added), ("sales", Change::Removed)]);
        let press = &plan.galleries[0].links[0];
        assert!(press.fields.iter().any(|f| f.field == "max_views" && f.new == "30"));
        assert!(plan.to_text().contains("link sales (sales team): removed: its URL answers \"not found\""), "{}", plan.to_text());
        assert_eq!(plan.urls_kept, 1);
    }

    #[test]
    fn images_are_added_replaced_removed_and_re_captioned_by_id() {
        let mut hero = image("hero", "cccc");
        hero.caption = Some("New front view".into());
        let new = manifest(base().galleries["launch"].links.values().cloned().collect(), vec![hero, image("detail", "dddd")]);
        let plan = diff(&base(), &new);
        let images: Vec<(&str, Change, bool)> = plan.galleries[0].images.iter().map(|i| (i.id.as_str(), i.change, i.replaced)).collect();
        assert_eq!(images, vec![("hero", Change::Changed, true), ("detail", Change::Added, false), ("side", Change::Removed, false)]);
        assert_eq!(plan.galleries[0].images[0].fields, vec![FieldChange { field: "caption".into(), old: "hero caption".into(), new: "New front view".into() }]);
        assert_eq!(plan.urls_changed, 0, "replacing images never changes a URL");
        assert_eq!(plan.headline(), "1 image added, 1 image replaced, 1 image removed, 1 caption/alt change.");
    }

    #[test]
    fn a_new_order_of_the_same_images_is_noticed() {
        let mut new = base();
        new.galleries.get_mut("launch").unwrap().images.reverse();
        let plan = diff(&base(), &new);
        assert!(plan.galleries[0].reordered);
        assert_eq!(plan.headline(), "Only the order of images changes.");
    }

    #[test]
    fn a_removed_gallery_lists_every_link_that_stops_working() {
        let mut new = base();
        new.galleries.clear();
        let plan = diff(&base(), &new);
        assert_eq!(plan.galleries[0].change, Change::Removed);
        assert_eq!(plan.galleries[0].links.len(), 2);
        assert!(plan.galleries[0].links.iter().all(|l| l.change == Change::Removed && l.old_url.is_some()));
        assert_eq!(plan.url_statement(), "No link that exists today is affected.");
    }

    #[test]
    fn a_new_base_url_changes_every_url() {
        let mut new = base();
        new.site.base_url = "https://gallery.example.com".into();
        let plan = diff(&base(), &new);
        assert_eq!((plan.urls_kept, plan.urls_changed), (0, 2));
        assert_eq!(plan.site[0].field, "base URL (every link URL)");
    }

    #[test]
    fn redacted_plans_never_contain_a_whole_token() {
        let new = manifest(vec![link("launch", "market", 1, market())], Vec::new());
        let plan = diff(&base(), &new).redacted();
        let all = format!("{}{}{}", plan.to_markdown(), plan.to_text(), serde_json::to_string(&plan).unwrap());
        for l in base().galleries["launch"].links.values().chain(new.galleries["launch"].links.values()) {
            assert!(!all.contains(&l.token), "token of {} leaked", l.name);
            assert!(all.contains(&l.token[..6]));
        }
    }

    #[test]
    fn markdown_escapes_what_the_yaml_author_wrote() {
        let mut hero = image("hero", "aaaa");
        hero.caption = Some("a | b <script>".into());
        hero.alt = "new alt".into();
        let new = manifest(base().galleries["launch"].links.values().cloned().collect(), vec![hero, image("side", "bbbb")]);
        let md = diff(&base(), &new).to_markdown();
        assert!(md.contains("a \\| b &lt;script&gt;"), "{md}");
        assert!(md.contains("caption: \"hero caption\" → \"a \\| b &lt;script&gt;\"<br>alt: "), "several changes in one cell are separated by a real <br>: {md}");
    }
}
