//! The admin commands' text: links, audiences, statistics, the audit log and the notification
//! test report, with times in the site timezone as the admin page shows them.

use anyhow::Result;
use gatefold_contract::admin::{AuditLog, Count, GalleryStats, LinkStatus, LinksResponse, NotifyTestAnswer};
use gatefold_contract::{LinkState, Overrides};

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

/// `gatefold devices`' text: the limit and its slots, then one line per device (id, browser,
/// OS, city, first and last seen in the site timezone, refused ones marked), then the
/// forwarding flag with its evidence.
pub fn render_devices(d: &gatefold_contract::devices::LinkDevices, tz: chrono_tz::Tz) -> String {
    let when = |at: i64| chrono::DateTime::from_timestamp(at, 0).map_or_else(|| "?".into(), |t| t.with_timezone(&tz).format("%Y-%m-%d %H:%M").to_string());
    let limit = match d.limit {
        Some(n) => format!("{} of {} device(s){}", d.summary.count, u32::from(n) + d.summary.extra, if d.summary.extra > 0 { format!(" (devices: {n}, +{} allowed)", d.summary.extra) } else { String::new() }),
        None => format!("{} device(s), no limit", d.summary.count),
    };
    let mut out = format!("{}/{} ({}): {limit}\n", d.gallery, d.link, d.label);
    for dev in &d.devices {
        let state = if dev.admitted { "" } else { "  refused" };
        out.push_str(&format!(
            "  {:<16}  {:<10} {:<10} {:<14} first {}  last {}{state}\n",
            dev.id,
            dev.browser,
            dev.os,
            dev.city.as_deref().unwrap_or("-"),
            when(dev.first_seen),
            when(dev.last_seen)
        ));
    }
    if let Some(f) = &d.summary.forwarding {
        out.push_str(&format!("possibly forwarded ({}): {}, at {}\n", f.reason.code(), f.summary(false), when(f.at)));
    }
    out.push_str(&format!("times in {tz}; forget one with --forget <id>, allow one more with --allow\n"));
    out
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

/// A gallery's access requests, newest first: id, state, link, when, why, who and their words
/// (one line each: a message cannot break the layout).
pub fn render_requests(answer: &gatefold_contract::requests::RequestsResponse, tz: chrono_tz::Tz) -> String {
    let mut out = format!("{} ({}): {} open request(s)\n", answer.gallery_title, answer.gallery, answer.open);
    let line = |s: &str| s.split_whitespace().collect::<Vec<_>>().join(" ");
    for r in &answer.requests {
        let when = chrono::DateTime::from_timestamp_millis(r.at).map_or_else(|| "?".into(), |t| t.with_timezone(&tz).format("%Y-%m-%d %H:%M").to_string());
        let state = match (&r.answer, r.state) {
            (Some(a), gatefold_contract::requests::RequestState::Granted) => format!("granted {a}"),
            _ => r.state.name().to_string(),
        };
        out.push_str(&format!("  {}  {:<14} {}/{} ({})  {when}  {}\n", r.id, state, r.gallery, r.link, line(&r.label), r.reason));
        let mut who = vec![r.device.clone()];
        who.extend(r.place.clone());
        who.extend(r.name.as_deref().map(line));
        out.push_str(&format!("      {}\n", who.join(" · ")));
        if let Some(m) = &r.message {
            out.push_str(&format!("      \"{}\"\n", line(m)));
        }
        if let Some(reply) = &r.reply {
            out.push_str(&format!("      reply: \"{}\"\n", line(reply)));
        }
    }
    if answer.requests.iter().any(|r| r.state == gatefold_contract::requests::RequestState::Open) {
        out.push_str("answer with: gatefold grant <id> --days 7 | --views 10 | --device, or gatefold decline <id> [--reply TEXT]\n");
    }
    out
}

pub(super) fn render_overrides_in_force(all: &LinksResponse, links: &[(String, String)], tz: chrono_tz::Tz) -> String {
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

fn state_word(state: LinkState) -> &'static str {
    match state {
        LinkState::Active => "active",
        LinkState::Disabled => "disabled",
        LinkState::Expired => "expired",
        LinkState::LimitReached => "limit reached",
        LinkState::NotYetOpen => "not yet open",
    }
}

/// The site timezone the API names, for showing times as the admin page does.
pub fn site_timezone(name: &str) -> Result<chrono_tz::Tz> {
    name.parse().map_err(|e| anyhow::anyhow!("the server's site timezone {name:?} is unknown to this gatefold ({e}): update gatefold"))
}

/// An instant in the site timezone (`never` for none).
pub fn site_time(unix: Option<i64>, tz: chrono_tz::Tz) -> String {
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
