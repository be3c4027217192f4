//! `gatefold plan`: what a change to the galleries does for the people holding the links.
//!
//! Two manifests are compared (the one deployed, or the one a PR's base commit builds, against
//! the one the working tree builds) and the differences are told from a recipient's side: which
//! links appear or stop working, which policies change, which images are new, replaced or gone,
//! and — the question owners ask first — whether any URL already handed out changes.
//!
//! Tokens are secrets (a token is the key to a gallery), so every rendering shortens them unless
//! asked otherwise: a plan ends up in CI logs and PR summaries that many people can read.

mod report;
mod source;
#[cfg(test)]
mod tests;

pub use report::redact_url;
pub use source::{PlanOptions, build_manifest, manifest_at_ref, read_manifest, run_plan};

use gatefold_contract::manifest::{Gallery, Image, Manifest, Site, link_url, split_link_name};
use gatefold_contract::policy::Downloads;
use gatefold_contract::{LinkPolicy, ResolvedExpiry};
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet};

/// How an absent value reads in a plan.
const NONE: &str = "—";

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
    /// The new manifest's scheduled openings (`opens_at:`), earliest first: the moments the
    /// owners' `go_live` notices will come.
    pub go_lives: Vec<GoLivePlan>,
}

/// Links of one gallery that open at one moment.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct GoLivePlan {
    pub gallery: String,
    /// Unix seconds.
    pub at: i64,
    /// In the site timezone, as owners read it.
    pub when: String,
    /// The links (`<link>` or `<audience>/<recipient>`), in name order.
    pub links: Vec<String>,
}

/// Every scheduled opening of `m`, by moment then gallery.
fn go_lives(m: &Manifest) -> Vec<GoLivePlan> {
    let mut by: std::collections::BTreeMap<(i64, &str), Vec<String>> = std::collections::BTreeMap::new();
    for g in m.galleries.values() {
        for l in g.links.values() {
            if let Some(at) = l.policy.opens_at() {
                by.entry((at, &g.id)).or_default().push(l.name.clone());
            }
        }
    }
    by.into_iter()
        .map(|((at, gallery), links)| GoLivePlan { gallery: gallery.to_string(), at, when: gatefold_contract::time::for_owner(&m.site, at), links })
        .collect()
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
    /// Links other than recipients' (those are summarised in `audiences`).
    pub links: Vec<LinkPlan>,
    /// Audiences with any change, by name: recipients added and removed by name, the rest
    /// counted, never listed one by one.
    pub audiences: Vec<AudiencePlan>,
    pub images: Vec<ImagePlan>,
    /// The same images are shown in a different order.
    pub reordered: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AudiencePlan {
    pub name: String,
    pub label: String,
    /// Added or removed as a whole, or changed.
    pub change: Change,
    /// Recipient names (the part after `<audience>/`).
    pub added: Vec<String>,
    pub removed: Vec<String>,
    /// Recipients on both sides with no change at all.
    pub unchanged: usize,
    /// Changes shared by recipients, each with how many recipients it applies to (a new
    /// audience: its recipients' policies).
    pub changes: Vec<SharedChange>,
    /// Recipients on both sides whose URL changes: the old URL stops working.
    pub new_urls: usize,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SharedChange {
    pub field: String,
    pub old: String,
    pub new: String,
    pub recipients: usize,
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

/// Compares two manifests from a recipient's point of view.
/// A link's `mark:` as the plan shows it: `none`, or what its copies carry.
fn mark_text(mark: Option<&gatefold_contract::manifest::LinkMark>) -> String {
    let Some(m) = mark else { return "none".into() };
    let stamp = m.stamp.as_ref().map(|s| format!(" + stamp {s}")).unwrap_or_default();
    let originals = if m.originals { " + originals" } else { "" };
    format!("forensic (key {}){stamp}{originals}", m.key_id)
}

/// The `mark` field's change, when there is one (an added link's only when it is marked).
fn mark_change(old: Option<&gatefold_contract::manifest::LinkMark>, new: Option<&gatefold_contract::manifest::LinkMark>) -> Option<FieldChange> {
    (old != new).then(|| FieldChange { field: "mark".into(), old: mark_text(old), new: mark_text(new) })
}

pub fn diff(old: &Manifest, new: &Manifest) -> Plan {
    // Expiries on both sides read in the new site's timezone, as recipients will live with it.
    let tz = &new.site;
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
        if plan.change != Change::Changed || !plan.fields.is_empty() || !plan.links.is_empty() || !plan.audiences.is_empty() || !plan.images.is_empty() || plan.reordered {
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
        go_lives: go_lives(new),
    }
}

fn key_kind(m: &Manifest) -> String {
    if m.site.dev_key { "development key".into() } else { "production key".into() }
}

fn whole_gallery(g: &Gallery, change: Change, base_url: &str, tz: &Site) -> GalleryPlan {
    let (old, new) = if change == Change::Removed { (Some(g), None) } else { (None, Some(g)) };
    let (links, audiences) = group_recipients(
        g.links
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
        old,
        new,
    );
    GalleryPlan {
        id: g.id.clone(),
        title: g.title.clone(),
        change,
        fields: Vec::new(),
        links,
        audiences,
        images: g
            .images
            .iter()
            .map(|i| ImagePlan { id: i.id.clone(), file_name: i.file_name.clone(), change, replaced: false, fields: Vec::new() })
            .collect(),
        reordered: false,
    }
}

fn gallery_changes(a: &Gallery, b: &Gallery, old_base: &str, new_base: &str, tz: &Site) -> GalleryPlan {
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
                fields: policy_fields(&LinkPolicy::default(), &new.policy, tz, true).into_iter().chain(mark_change(None, new.mark.as_ref())).collect(),
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
                fields.extend(mark_change(old.mark.as_ref(), new.mark.as_ref()));
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

    let (links, audiences) = group_recipients(links, Some(a), Some(b));
    GalleryPlan { id: b.id.clone(), title: b.title.clone(), change: Change::Changed, fields, links, audiences, images, reordered }
}

/// Takes recipients' link plans out of `links` and summarises them per audience: a list of
/// 500 dealers with one new row reads as "1 added, 500 unchanged", not 501 lines.
fn group_recipients(links: Vec<LinkPlan>, old: Option<&Gallery>, new: Option<&Gallery>) -> (Vec<LinkPlan>, Vec<AudiencePlan>) {
    let (recipients, links): (Vec<LinkPlan>, Vec<LinkPlan>) = links.into_iter().partition(|l| split_link_name(&l.name).0.is_some());
    let audience_of = |name: &str| split_link_name(name).0.map(str::to_string);
    let names: BTreeSet<String> = [old, new]
        .into_iter()
        .flatten()
        .flat_map(|g| g.audiences.keys().cloned().chain(g.links.keys().filter_map(|n| audience_of(n))))
        .collect();
    let mut audiences = Vec::new();
    for name in names {
        let has = |g: Option<&Gallery>| g.is_some_and(|g| g.audiences.contains_key(&name) || g.links.keys().any(|n| audience_of(n).as_deref() == Some(name.as_str())));
        let change = match (has(old), has(new)) {
            (false, true) => Change::Added,
            (true, false) => Change::Removed,
            _ => Change::Changed,
        };
        let mine: Vec<&LinkPlan> = recipients.iter().filter(|l| audience_of(&l.name).as_deref() == Some(name.as_str())).collect();
        let recipient = |l: &LinkPlan| split_link_name(&l.name).1.to_string();
        let added: Vec<String> = mine.iter().filter(|l| l.change == Change::Added).map(|l| recipient(l)).collect();
        let removed: Vec<String> = mine.iter().filter(|l| l.change == Change::Removed).map(|l| recipient(l)).collect();
        let changed: Vec<&&LinkPlan> = mine.iter().filter(|l| l.change == Change::Changed).collect();
        let in_new = new.map_or(0, |g| g.links.keys().filter(|n| audience_of(n).as_deref() == Some(name.as_str())).count());
        let unchanged = in_new - added.len() - changed.len();
        let mut grouped: BTreeMap<(String, String, String), usize> = BTreeMap::new();
        for l in mine.iter().filter(|l| l.change == Change::Changed || (change == Change::Added && l.change == Change::Added)) {
            for f in &l.fields {
                *grouped.entry((f.field.clone(), f.old.clone(), f.new.clone())).or_default() += 1;
            }
        }
        let mut changes: Vec<SharedChange> = grouped.into_iter().map(|((field, old, new), recipients)| SharedChange { field, old, new, recipients }).collect();
        let label_of = |g: Option<&Gallery>| g.and_then(|g| g.audiences.get(&name)).map(|a| a.label.clone());
        if let (Some(a), Some(b)) = (label_of(old), label_of(new))
            && a != b
        {
            changes.insert(0, SharedChange { field: "audience label".into(), old: a, new: b, recipients: in_new });
        }
        let new_urls = changed.iter().filter(|l| l.url_changed).count();
        if change == Change::Changed && added.is_empty() && removed.is_empty() && changes.is_empty() && new_urls == 0 {
            continue;
        }
        let label = label_of(new).or_else(|| label_of(old)).unwrap_or_else(|| name.clone());
        audiences.push(AudiencePlan { name, label, change, added, removed, unchanged, changes, new_urls });
    }
    (links, audiences)
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
fn policy_fields(a: &LinkPolicy, b: &LinkPolicy, tz: &Site, all: bool) -> Vec<FieldChange> {
    let views = |v: Option<u32>| v.map_or("unlimited".to_string(), |n| n.to_string());
    let expiry = |e: Option<ResolvedExpiry>| e.map_or("never".to_string(), |e| e.describe(&tz.timezone, &tz.utc_offsets));
    let download = |d: Downloads| {
        match (d.original, d.web) {
            (false, false) => "not allowed",
            (true, false) => "originals",
            (false, true) => "web size",
            (true, true) => "originals and web size",
        }
        .to_string()
    };
    let seconds = |s: Option<u32>| s.map_or("no limit".to_string(), format_duration);
    let state = |d: bool| if d { "yes" } else { "no" }.to_string();
    let devices = |d: Option<u8>| d.map_or("no limit".to_string(), |n| format!("{n} devices"));
    let mut rows = vec![
        ("max_views", views(a.max_views), views(b.max_views)),
        ("expires", expiry(a.expires), expiry(b.expires)),
        ("opens_at", a.opens_at.map_or("at publish".to_string(), |o| gatefold_contract::time::for_owner(tz, o.at)), b.opens_at.map_or("at publish".to_string(), |o| gatefold_contract::time::for_owner(tz, o.at))),
        ("download", download(a.download), download(b.download)),
        ("view_seconds", seconds(a.view_seconds), seconds(b.view_seconds)),
        ("disabled", state(a.disabled), state(b.disabled)),
        ("password", if a.password { "required" } else { "no" }.to_string(), if b.password { "required" } else { "no" }.to_string()),
    ];
    // A new link lists `devices` only when it has a limit (most links have none).
    if !all || b.devices.is_some() {
        rows.push(("devices", devices(a.devices), devices(b.devices)));
    }
    rows.into_iter()
        .filter(|(_, old, new)| all || old != new)
        .map(|(field, old, new)| FieldChange { field: field.to_string(), old: if all { NONE.to_string() } else { old }, new })
        .collect()
}

fn format_duration(s: u32) -> String {
    match s {
        s if s % 3600 == 0 => format!("{} h", s / 3600),
        s if s % 60 == 0 => format!("{} min", s / 60),
        s => format!("{s} s"),
    }
}

