//! What the log's rows stand for in owner notifications: which notices a stored access event
//! ([`kinds`]), an owner action or a password attack gives, worded for the site's language and
//! enqueued in the [`outbox`](super::outbox) of every channel that wants them. Each function
//! answers when the earliest notice it enqueued is due, for the object's alarm.

use super::outbox;
use super::{AskAccess, AttackReport, Batch};
use crate::access::{ADMITTED, AccessEvent, EventKind};
use crate::notify;
use crate::site::Deployment;
use gatefold_contract::admin::AuditEntry;
use gatefold_contract::manifest::Gallery;
use gatefold_contract::notify::{NoticeLink, NotifyKind};
use gatefold_contract::policy::Admission;
use gatefold_contract::{Denial, Locale};
use std::rc::Rc;
use worker::{Env, Result, SqlStorage};

/// Share of the view limit at which `limit_near` is sent.
const NEAR_PERCENT: u64 = 80;

/// Denials that mean "someone tried a link the owner closed or that ran out".
const CLOSED: [Denial; 3] = [Denial::LinkDisabled, Denial::LinkExpired, Denial::ViewLimitReached];

/// The notifications one stored access event stands for (`admission`: an admitted open's).
/// Only `open` events count as a person's attempt: previews (link unfurlers, scanners' GETs
/// without fetch metadata) are logged as `preview` and HEAD requests are not logged at all,
/// so neither ever notifies.
pub fn kinds(e: &AccessEvent, admission: Option<&Admission>) -> Vec<NotifyKind> {
    let mut out = Vec::new();
    match (e.kind, e.outcome == ADMITTED) {
        (EventKind::Open, true) => {
            let Some(a) = admission else { return vec![NotifyKind::Open] };
            if a.view_number == 1 {
                out.push(NotifyKind::FirstOpen);
            }
            out.push(NotifyKind::Open);
            if let Some(max) = a.max_views.map(u64::from).filter(|m| *m > 0) {
                // The first view at or past 80 %, unless it is the last one.
                let near = (max * NEAR_PERCENT).div_ceil(100);
                if a.view_number == near && a.view_number < max {
                    out.push(NotifyKind::LimitNear);
                }
                if a.view_number == max {
                    out.push(NotifyKind::LimitReached);
                }
            }
        }
        (EventKind::Download | EventKind::DownloadAll, true) => out.push(NotifyKind::Download),
        (EventKind::Open, false) if CLOSED.iter().any(|d| d.code() == e.outcome) => out.push(NotifyKind::DeniedAfterClose),
        _ => {}
    }
    out
}

/// "4 of 5 views used" in the site's language.
pub fn views_detail(locale: Locale, used: u64, max: u32) -> String {
    match locale {
        Locale::ZhCn => format!("已用 {used}/{max} 次查看"),
        _ => format!("{used} of {max} views used"),
    }
}

/// "37 wrong passwords from 6 networks in the last hour" in the site's language.
pub fn attack_detail(locale: Locale, r: &AttackReport) -> String {
    match locale {
        Locale::ZhCn => format!("最近 1 小时内来自 {} 个网络的 {} 次错误密码", r.networks, r.wrong),
        _ => format!("{} wrong passwords from {} networks in the last hour", r.wrong, r.networks),
    }
}

/// "Shanghai, CN" from the event's location, if any.
pub fn place(e: &AccessEvent) -> Option<String> {
    let parts: Vec<&str> = [e.city.as_deref(), e.country.as_deref()].into_iter().flatten().filter(|s| !s.is_empty()).collect();
    (!parts.is_empty()).then(|| parts.join(", "))
}

/// "mobile · iPhone · Safari".
pub fn device(e: &AccessEvent) -> String {
    format!("{} · {} · {}", e.device, e.os, e.browser)
}

/// "extend: 2026-12-01 → 2026-12-08 · 203.0.113.0" for an audit entry.
pub fn action_detail(entry: &AuditEntry) -> String {
    let mut s = entry.action.clone();
    match (&entry.before, &entry.after) {
        (Some(b), Some(a)) => s.push_str(&format!(": {b} → {a}")),
        (None, Some(a)) => s.push_str(&format!(": {a}")),
        _ => {}
    }
    if let Some(ip) = &entry.ip {
        s.push_str(&format!(" · {ip}"));
    }
    s
}

/// The site's settings and the gallery's record, `None` when the gallery is no longer published.
async fn published(env: &Env, gallery: &str) -> Result<Option<(Rc<Deployment>, Rc<Gallery>)>> {
    let site = crate::site::load(env).await.map_err(worker::Error::RustError)?;
    let gallery = site.gallery(env, gallery).await.map_err(worker::Error::RustError)?;
    Ok(gallery.map(|g| (site, g)))
}

fn now_ms() -> i64 {
    worker::Date::now().as_millis() as i64
}

/// Which notifications the batch's events stand for, into the outbox of every channel of
/// their link that wants them, one row per link, kind and batching window.
pub async fn for_events(env: &Env, sql: &SqlStorage, batch: &Batch) -> Result<Option<i64>> {
    let Some(gallery_id) = &batch.gallery else { return Ok(None) };
    let admission = batch.admission.as_ref();
    let todo: Vec<(&AccessEvent, Vec<NotifyKind>)> = batch.events.iter().map(|e| (e, kinds(e, admission))).filter(|(_, k)| !k.is_empty()).collect();
    if todo.is_empty() {
        return Ok(None);
    }
    let Some((site, gallery)) = published(env, gallery_id).await? else { return Ok(None) };
    let (window_ms, gather_ms, now) = (notify::batch_ms(env), notify::gather_ms(env), now_ms());
    let mut earliest: Option<i64> = None;
    for (e, kinds) in todo {
        let Some(link) = gallery.links.get(&e.link) else { continue };
        for kind in kinds {
            let channels: Vec<_> = notify::wanting(&gallery, Some(link), kind).collect();
            if channels.is_empty() {
                continue;
            }
            let window = notify::window_start(e.ts, window_ms);
            let mut n = notify::notice(&site.settings, &gallery, Some(notify::notice_link(&gallery, link)), kind, window, e.ts);
            n.count = e.count;
            n.place = place(e);
            n.device = Some(device(e));
            n.detail = match (kind, admission) {
                (NotifyKind::DeniedAfterClose, _) => Some(e.outcome.clone()),
                (_, Some(a)) if e.kind == EventKind::Open => a.max_views.map(|m| views_detail(site.settings.default_locale, a.view_number, m)),
                _ => None,
            };
            for c in channels {
                let due = outbox::enqueue_event(sql, c, &n, now, gather_ms, window + window_ms)?;
                earliest = Some(earliest.map_or(due, |d: i64| d.min(due)));
            }
        }
    }
    Ok(earliest)
}

/// An owner action on the gallery, an audience or a link, for the channels that want it, sent
/// at once.
pub async fn for_owner_action(env: &Env, sql: &SqlStorage, entry: &AuditEntry) -> Result<Option<i64>> {
    let (gallery_id, rest) = entry.target.split_once('/').map_or((entry.target.as_str(), None), |(g, r)| (g, Some(r)));
    let Some((site, gallery)) = published(env, gallery_id).await? else { return Ok(None) };
    let link = rest.and_then(|r| gallery.links.get(r));
    let channels: Vec<_> = notify::wanting(&gallery, link, NotifyKind::OwnerAction).collect();
    if channels.is_empty() {
        return Ok(None);
    }
    let about = match (link, rest) {
        (Some(l), _) => Some(notify::notice_link(&gallery, l)),
        (None, Some(r)) => Some(NoticeLink {
            id: entry.target.clone(),
            label: r.to_string(),
            audience_label: r.strip_prefix('@').and_then(|a| gallery.audiences.get(a)).map(|a| a.label.clone()),
        }),
        (None, None) => None,
    };
    let mut n = notify::notice(&site.settings, &gallery, about, NotifyKind::OwnerAction, entry.at, entry.at);
    n.id = notify::notice_id(&gallery.id, &format!("{}:{}", entry.target, entry.action), NotifyKind::OwnerAction, entry.at);
    n.detail = Some(action_detail(entry));
    n.device.clone_from(&entry.device);
    let now = now_ms();
    for c in channels {
        outbox::enqueue(sql, c, &n, now)?;
    }
    Ok(Some(now))
}

/// A distributed guess at a link's password (reported by its `LinkGate`), for the channels
/// that want `password_attack`, sent at once; the message links to the password dialog.
pub async fn for_attack(env: &Env, sql: &SqlStorage, report: &AttackReport) -> Result<Option<i64>> {
    let Some((site, gallery)) = published(env, &report.gallery).await? else { return Ok(None) };
    let Some(link) = gallery.links.get(&report.link) else { return Ok(None) };
    let channels: Vec<_> = notify::wanting(&gallery, Some(link), NotifyKind::PasswordAttack).collect();
    if channels.is_empty() {
        return Ok(None);
    }
    let mut n = notify::notice(&site.settings, &gallery, Some(notify::notice_link(&gallery, link)), NotifyKind::PasswordAttack, report.at_ms, report.at_ms);
    n.detail = Some(attack_detail(site.settings.default_locale, report));
    n.admin_url = notify::change_password_url(&site.settings, &gallery.id, &link.name);
    let now = now_ms();
    for c in channels {
        outbox::enqueue(sql, c, &n, now)?;
    }
    Ok(Some(now))
}

/// A person's access request, for the channels of its link that want `access_requested`: who
/// (the link's label), which link, why it was refused, their device and place, their name and
/// message; the message links to the admin page opened on the request. A link's requests within
/// one batching window are one message with their count (the first one's words).
pub async fn for_request(env: &Env, sql: &SqlStorage, ask: &AskAccess, key: &str) -> Result<Option<i64>> {
    let Some((site, gallery)) = published(env, &ask.gallery).await? else { return Ok(None) };
    let Some(link) = gallery.links.get(&ask.link) else { return Ok(None) };
    let channels: Vec<_> = notify::wanting(&gallery, Some(link), NotifyKind::AccessRequested).collect();
    if channels.is_empty() {
        return Ok(None);
    }
    let window_ms = notify::batch_ms(env);
    let window = notify::window_start(ask.at, window_ms);
    let mut n = notify::notice(&site.settings, &gallery, Some(notify::notice_link(&gallery, link)), NotifyKind::AccessRequested, window, ask.at);
    n.detail = Some(ask.reason.clone());
    n.device = Some(ask.device.clone());
    n.place.clone_from(&ask.place);
    n.message = match (&ask.name, &ask.message) {
        (Some(name), Some(m)) => Some(format!("{name}: {m}")),
        (Some(name), None) => Some(name.clone()),
        (None, m) => m.clone(),
    };
    n.admin_url = notify::request_url(&site.settings, &format!("{}.{key}", gallery.id));
    let due = window + window_ms;
    for c in channels {
        outbox::enqueue(sql, c, &n, due)?;
    }
    Ok(Some(due))
}

/// A link flagged "possibly forwarded" (reported by its `LinkGate`, once per link and day),
/// for the channels that want `forwarding_suspected`, sent at once with its evidence.
pub async fn for_forwarding(env: &Env, sql: &SqlStorage, report: &super::ForwardingReport) -> Result<Option<i64>> {
    let Some((site, gallery)) = published(env, &report.gallery).await? else { return Ok(None) };
    let Some(link) = gallery.links.get(&report.link) else { return Ok(None) };
    let channels: Vec<_> = notify::wanting(&gallery, Some(link), NotifyKind::ForwardingSuspected).collect();
    if channels.is_empty() {
        return Ok(None);
    }
    let f = &report.forwarding;
    let at_ms = f.at * 1000;
    let mut n = notify::notice(&site.settings, &gallery, Some(notify::notice_link(&gallery, link)), NotifyKind::ForwardingSuspected, at_ms, at_ms);
    // Once per link and day: the day is the notice's identity, so a retry is the same notice.
    let day = gatefold_contract::devices::notice_day(f.at);
    n.id = notify::notice_id(&gallery.id, &link.name, NotifyKind::ForwardingSuspected, day * 86_400_000);
    n.detail = Some(f.summary(site.settings.default_locale == Locale::ZhCn));
    n.place = (!f.cities.is_empty()).then(|| f.cities.join(", "));
    n.device = Some(forwarding_devices(f));
    let now = now_ms();
    for c in channels {
        outbox::enqueue(sql, c, &n, now)?;
    }
    Ok(Some(now))
}

/// "Chrome · macOS; Safari · iOS (refused)": the devices behind a flag, newest first.
pub fn forwarding_devices(f: &gatefold_contract::devices::Forwarding) -> String {
    let list: Vec<String> = f.devices.iter().take(6).map(|d| format!("{} · {}{}", d.browser, d.os, if d.admitted { "" } else { " (refused)" })).collect();
    list.join("; ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(kind: EventKind, outcome: &str) -> AccessEvent {
        AccessEvent {
            ts: 1_800_000_000_000,
            link: "alpha".into(),
            kind,
            outcome: outcome.into(),
            count: 1,
            image: None,
            ip: None,
            country: Some("CN".into()),
            region: None,
            city: Some("Shanghai".into()),
            timezone: None,
            asn: None,
            colo: None,
            device: "mobile".into(),
            os: "iPhone".into(),
            browser: "Safari".into(),
            referrer: None,
            visitor: "v".into(),
        }
    }

    fn open(n: u64, max: Option<u32>) -> Vec<NotifyKind> {
        kinds(&event(EventKind::Open, ADMITTED), Some(&Admission { view_number: n, max_views: max, session_expires_at: 0, session_epoch: 0 }))
    }

    #[test]
    fn the_first_open_is_also_an_open() {
        assert_eq!(open(1, None), [NotifyKind::FirstOpen, NotifyKind::Open]);
        assert_eq!(open(2, None), [NotifyKind::Open]);
    }

    #[test]
    fn limit_near_is_the_open_reaching_80_percent_once_and_limit_reached_the_last() {
        let near: Vec<u64> = (1..=5).filter(|n| open(*n, Some(5)).contains(&NotifyKind::LimitNear)).collect();
        assert_eq!(near, [4]);
        let reached: Vec<u64> = (1..=5).filter(|n| open(*n, Some(5)).contains(&NotifyKind::LimitReached)).collect();
        assert_eq!(reached, [5]);
        // With one view, the first open is the last: no "near" before it.
        assert_eq!(open(1, Some(1)), [NotifyKind::FirstOpen, NotifyKind::Open, NotifyKind::LimitReached]);
        assert_eq!((1..=20).filter(|n| open(*n, Some(20)).contains(&NotifyKind::LimitNear)).collect::<Vec<_>>(), [16]);
    }

    #[test]
    fn only_a_persons_open_of_a_closed_link_is_a_denial_worth_telling() {
        for code in ["link_disabled", "link_expired", "view_limit_reached"] {
            assert_eq!(kinds(&event(EventKind::Open, code), None), [NotifyKind::DeniedAfterClose]);
            assert!(kinds(&event(EventKind::Preview, code), None).is_empty(), "{code} preview");
        }
        assert!(kinds(&event(EventKind::Open, "session_expired"), None).is_empty());
        assert!(kinds(&event(EventKind::Open, "cross_site_request"), None).is_empty());
        assert!(kinds(&event(EventKind::Preview, ADMITTED), None).is_empty());
        assert!(kinds(&event(EventKind::ImageView, ADMITTED), None).is_empty());
    }

    #[test]
    fn downloads_of_any_kind_notify_when_admitted() {
        assert_eq!(kinds(&event(EventKind::Download, ADMITTED), None), [NotifyKind::Download]);
        assert_eq!(kinds(&event(EventKind::DownloadAll, ADMITTED), None), [NotifyKind::Download]);
        assert!(kinds(&event(EventKind::Download, "no_session"), None).is_empty());
    }

    #[test]
    fn an_attack_reads_as_tries_and_networks_and_links_to_the_password_dialog() {
        let r = AttackReport { gallery: "launch".into(), link: "channel/dealer-007".into(), wrong: 37, networks: 6, at_ms: 0 };
        assert_eq!(attack_detail(Locale::En, &r), "37 wrong passwords from 6 networks in the last hour");
        assert_eq!(attack_detail(Locale::ZhCn, &r), "最近 1 小时内来自 6 个网络的 37 次错误密码");
    }

    #[test]
    fn place_and_device_read_as_a_line() {
        let e = event(EventKind::Open, ADMITTED);
        assert_eq!(place(&e).as_deref(), Some("Shanghai, CN"));
        assert_eq!(device(&e), "mobile · iPhone · Safari");
    }
}
