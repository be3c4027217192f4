//! A plan as owners read it: plain text for the terminal, Markdown for a PR summary, and
//! redacted (tokens shortened) unless asked otherwise.

use super::{AudiencePlan, Change, GoLivePlan, ImagePlan, LinkPlan, NONE, Plan};
use std::fmt::Write as _;

impl Plan {
    /// Nothing any recipient could notice.
    pub fn is_empty(&self) -> bool {
        self.site.is_empty() && self.galleries.is_empty()
    }

    fn links(&self) -> impl Iterator<Item = &LinkPlan> {
        self.galleries.iter().flat_map(|g| g.links.iter())
    }

    fn audiences(&self) -> impl Iterator<Item = &AudiencePlan> {
        self.galleries.iter().flat_map(|g| g.audiences.iter())
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
        let recipients_added: usize = self.audiences().map(|a| a.added.len()).sum();
        let recipients_removed: usize = self.audiences().map(|a| a.removed.len()).sum();
        let audience_policy = self.audiences().filter(|a| a.change == Change::Changed && !a.changes.is_empty()).count();
        let images = |c| self.images().filter(|i| i.change == c).count();
        let replaced = self.images().filter(|i| i.replaced).count();
        let edited = self.images().filter(|i| i.change == Change::Changed && !i.fields.is_empty()).count();
        let parts: Vec<String> = [
            count(galleries(Change::Added), "gallery added", "galleries added"),
            count(galleries(Change::Removed), "gallery removed", "galleries removed"),
            count(links(Change::Added), "link added", "links added"),
            count(links(Change::Removed), "link removed", "links removed"),
            count(policy, "link with policy changes", "links with policy changes"),
            count(recipients_added, "recipient added", "recipients added"),
            count(recipients_removed, "recipient removed", "recipients removed"),
            count(audience_policy, "audience with changes", "audiences with changes"),
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
            if !g.audiences.is_empty() {
                out.push_str("| Audience | Change | Details |\n|---|---|---|\n");
                for a in &g.audiences {
                    let _ = writeln!(out, "| `@{}` ({}) | {} | {} |", a.name, md_cell(&a.label), audience_summary(a), md_lines(&audience_details(a)));
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
        if !self.go_lives.is_empty() {
            out.push_str("### Scheduled go-lives\n\n| When | Gallery | Links |\n|---|---|---|\n");
            for g in &self.go_lives {
                let _ = writeln!(out, "| {} | `{}` | {} |", md_cell(&g.when), g.gallery, md_cell(&go_live_links(g)));
            }
            out.push('\n');
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
            for a in &g.audiences {
                let _ = writeln!(out, "  audience {} ({}): {}", a.name, a.label, audience_summary(a));
                for line in audience_details(a).lines() {
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
        if !self.go_lives.is_empty() {
            let _ = writeln!(out, "\nscheduled go-lives (opens_at):");
            for g in &self.go_lives {
                let _ = writeln!(out, "  {} {}: {}", g.when, g.gallery, go_live_links(g));
            }
        }
        out
    }
}

/// "3 links: market, press, dealers/a" (at most five named).
fn go_live_links(g: &GoLivePlan) -> String {
    let named: Vec<&str> = g.links.iter().take(5).map(String::as_str).collect();
    let more = g.links.len().saturating_sub(named.len());
    let tail = if more > 0 { format!(" and {more} more") } else { String::new() };
    format!("{} link{}: {}{tail}", g.links.len(), plural(g.links.len()), named.join(", "))
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

/// "new audience, 200 recipients" / "3 added, 1 removed, 196 unchanged".
fn audience_summary(a: &AudiencePlan) -> String {
    match a.change {
        Change::Added => format!("new audience, {} recipient{}", a.added.len(), plural(a.added.len())),
        Change::Removed => format!("removed: its {} recipient link{} answer \"not found\"", a.removed.len(), plural(a.removed.len())),
        Change::Changed => {
            let changed: usize = a.changes.iter().map(|c| c.recipients).max().unwrap_or(0).max(a.new_urls);
            let mut parts = Vec::new();
            if !a.added.is_empty() {
                parts.push(format!("{} added", a.added.len()));
            }
            if !a.removed.is_empty() {
                parts.push(format!("{} removed", a.removed.len()));
            }
            if changed > 0 {
                parts.push(format!("{changed} changed"));
            }
            parts.push(format!("{} unchanged", a.unchanged));
            parts.join(", ")
        }
    }
}

/// Names added and removed (a long list cut short: the mail-merge file has them all), then
/// each shared change with how many recipients it applies to.
fn audience_details(a: &AudiencePlan) -> String {
    const SHOWN: usize = 50;
    let names = |names: &[String]| {
        let mut text = names.iter().take(SHOWN).cloned().collect::<Vec<_>>().join(", ");
        if names.len() > SHOWN {
            text.push_str(&format!(" and {} more", names.len() - SHOWN));
        }
        text
    };
    let mut lines = Vec::new();
    if a.change != Change::Removed && !a.added.is_empty() {
        lines.push(format!("added: {}", names(&a.added)));
    }
    if !a.removed.is_empty() {
        lines.push(format!("removed (their URLs answer \"not found\"): {}", names(&a.removed)));
    }
    for c in &a.changes {
        let each = format!("{} recipient{}", c.recipients, plural(c.recipients));
        if a.change == Change::Added {
            lines.push(format!("{}: {} ({each})", c.field, c.new));
        } else {
            lines.push(format!("{}: {} → {} ({each})", c.field, c.old, c.new));
        }
    }
    if a.new_urls > 0 {
        lines.push(format!("WARNING: {} recipient{} get a NEW URL; the old one stops working (send them the new link or QR code)", a.new_urls, plural(a.new_urls)));
    }
    lines.join("\n")
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

