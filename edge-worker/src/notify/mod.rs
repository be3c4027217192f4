//! Owner notifications, delivered off the visitor's path.
//!
//! The visitor hands each access event to the gallery's `GalleryLog` (after the response);
//! the log stores it, then [`kinds`] says which notifications it stands for and [`outbox`]
//! adds them to the log's `outbox` table, one row per channel, link, kind and batching window
//! (a burst of 1,000 opens of a link within a window is one row with count 1,000). The log's
//! alarm sends every due row ([`send`]: the contract's `outgoing` builds the platform's request,
//! `delivered` reads its answer), retries with doubling backoff for 24 hours, then keeps a dead
//! letter the admin page shows. [`digest`] is the daily digest: the hourly cron posts the due
//! galleries to one coordinator log, whose alarm asks a few galleries' logs at a time.
//!
//! Secrets: a channel names the worker secrets holding its URL and signing key; they are read
//! when sending and never logged. A missing one is reported (dead letter, notify test).


use crate::access::{ADMITTED, AccessEvent, EventKind};
use gatefold_contract::Denial;
use gatefold_contract::manifest::{Gallery, Link, Site};
use gatefold_contract::notify::{self, Channel, Notice, NoticeLink, NotifyKind, Platform};
use gatefold_contract::Locale;
use serde::{Deserialize, Serialize};
use worker::Env;

/// An admitted open's place in its link's count, carried with the access event.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ViewHint {
    /// 1 for the link's first open.
    pub view_number: u64,
    /// The view limit in force (overrides applied).
    pub max_views: Option<u32>,
}

/// A distributed guess at a link's password, as its `LinkGate` hands it to the gallery's log
/// (see `crate::password::attack`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AttackReport {
    /// The gallery (a log does not know its own name).
    pub gallery: String,
    /// The link's name in its gallery (`<link>` or `<audience>/<recipient>`).
    pub link: String,
    /// Wrong tries and the networks (allocations) they came from, in the last hour.
    pub wrong: u32,
    pub networks: u32,
    pub at_ms: i64,
}

/// "37 wrong passwords from 6 networks in the last hour" in the site's language.
pub fn attack_detail(locale: Locale, r: &AttackReport) -> String {
    match locale {
        Locale::ZhCn => format!("最近 1 小时内来自 {} 个网络的 {} 次错误密码", r.networks, r.wrong),
        _ => format!("{} wrong passwords from {} networks in the last hour", r.wrong, r.networks),
    }
}

/// Where a `password_attack` notice sends the owner: the admin page with the link's password
/// dialog open and a generated passphrase in it, one tap from a new password.
pub fn change_password_url(site: &Site, gallery: &str, link: &str) -> String {
    format!("{}#password={gallery}/{link}", admin_url(site))
}

/// Batching window when `NOTIFY_BATCH_SECONDS` is not set: one message per link and kind a minute.
pub const DEFAULT_BATCH_SECONDS: i64 = 60;
/// First retry delay when `NOTIFY_RETRY_SECONDS` is not set; it doubles, up to [`MAX_BACKOFF_MS`].
pub const DEFAULT_RETRY_SECONDS: i64 = 60;
pub const MAX_BACKOFF_MS: i64 = 3_600_000;
/// How long a notice is retried after its first try before it becomes a dead letter.
pub const RETRY_FOR_MS: i64 = 24 * 3_600_000;
/// How long dead letters are kept, and at most how many per gallery.
pub const DEAD_LETTER_KEEP_MS: i64 = 30 * 86_400_000;
pub const DEAD_LETTER_MAX: u32 = 500;
/// Characters of a platform's answer kept in a dead letter or shown by the notify test.
pub const ANSWER_EXCERPT: usize = 200;

/// Share of the view limit at which `limit_near` is sent.
const NEAR_PERCENT: u64 = 80;

/// Denials that mean "someone tried a link the owner closed or that ran out".
const CLOSED: [Denial; 3] = [Denial::LinkDisabled, Denial::LinkExpired, Denial::ViewLimitReached];

/// The notifications one stored access event stands for. Only `open` events count as a
/// person's attempt: previews (link unfurlers, scanners' GETs without fetch metadata) are
/// logged as `preview` and HEAD requests are not logged at all, so neither ever notifies.
pub fn kinds(e: &AccessEvent, views: Option<ViewHint>) -> Vec<NotifyKind> {
    let mut out = Vec::new();
    match (e.kind, e.outcome == ADMITTED) {
        (EventKind::Open, true) => {
            let Some(v) = views else { return vec![NotifyKind::Open] };
            if v.view_number == 1 {
                out.push(NotifyKind::FirstOpen);
            }
            out.push(NotifyKind::Open);
            if let Some(max) = v.max_views.map(u64::from).filter(|m| *m > 0) {
                // The first view at or past 80 %, unless it is the last one.
                let near = (max * NEAR_PERCENT).div_ceil(100);
                if v.view_number == near && v.view_number < max {
                    out.push(NotifyKind::LimitNear);
                }
                if v.view_number == max {
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

/// Start (Unix ms) of the batching window `ts_ms` falls in.
pub fn window_start(ts_ms: i64, window_ms: i64) -> i64 {
    ts_ms.div_euclid(window_ms.max(1)) * window_ms.max(1)
}

/// The idempotency key of a notice: the same for every retry and every channel, different for
/// every gallery, link, kind and window.
pub fn notice_id(gallery: &str, link: &str, kind: NotifyKind, window: i64) -> String {
    let mut h = blake3::Hasher::new();
    for part in [gallery, link, kind.name(), &window.to_string()] {
        h.update(part.as_bytes());
        h.update(&[0]);
    }
    h.finalize().to_hex()[..32].to_string()
}

/// Delay before retry number `attempts` (1 = the first retry): `base`, doubling, capped.
pub fn backoff_ms(attempts: u32, base_ms: i64) -> i64 {
    let factor = 1_i64.checked_shl(attempts.saturating_sub(1).min(30)).unwrap_or(i64::MAX);
    base_ms.max(1).saturating_mul(factor).min(MAX_BACKOFF_MS)
}

/// "4 of 5 views used" in the site's language.
pub fn views_detail(locale: Locale, used: u64, max: u32) -> String {
    match locale {
        Locale::ZhCn => format!("已用 {used}/{max} 次查看"),
        _ => format!("{used} of {max} views used"),
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

/// A seconds setting from a worker variable, else its default.
fn seconds_var(env: &Env, name: &str, default: i64) -> i64 {
    env.var(name).ok().and_then(|v| v.to_string().trim().parse::<i64>().ok()).filter(|s| *s > 0).unwrap_or(default)
}

/// The batching window (`NOTIFY_BATCH_SECONDS`) in ms.
pub fn batch_ms(env: &Env) -> i64 {
    seconds_var(env, "NOTIFY_BATCH_SECONDS", DEFAULT_BATCH_SECONDS) * 1000
}

/// The first retry delay (`NOTIFY_RETRY_SECONDS`) in ms.
pub fn retry_ms(env: &Env) -> i64 {
    seconds_var(env, "NOTIFY_RETRY_SECONDS", DEFAULT_RETRY_SECONDS) * 1000
}

/// The admin page, which every message links to.
pub fn admin_url(site: &Site) -> String {
    format!("{}/admin", site.base_url.trim_end_matches('/'))
}

/// The link part of a notice.
pub fn notice_link(gallery: &Gallery, link: &Link) -> NoticeLink {
    NoticeLink {
        id: format!("{}/{}", gallery.id, link.name),
        label: link.label.clone(),
        audience_label: link.audience().and_then(|a| gallery.audiences.get(a)).map(|a| a.label.clone()),
    }
}

/// A notice with nothing counted yet, for `kind` on `link` (or the gallery) within `window`.
pub fn notice(site: &Site, gallery: &Gallery, link: Option<NoticeLink>, kind: NotifyKind, window: i64, at_ms: i64) -> Notice {
    let link_name = link.as_ref().map_or("", |l| l.id.as_str());
    Notice {
        id: notice_id(&gallery.id, link_name, kind, window),
        kind,
        gallery: gallery.id.clone(),
        gallery_title: gallery.title.clone(),
        link,
        count: 1,
        first_at: at_ms.div_euclid(1000),
        last_at: at_ms.div_euclid(1000),
        place: None,
        device: None,
        detail: None,
        digest: None,
        admin_url: admin_url(site),
    }
}

/// A worker secret (or plain variable), `None` when unset or empty. Never logged.
pub fn secret(env: &Env, name: &str) -> Option<String> {
    let value = env.secret(name).map(|s| s.to_string()).or_else(|_| env.var(name).map(|v| v.to_string())).ok()?;
    (!value.is_empty()).then_some(value)
}

/// One try to deliver a notice to one channel.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tried {
    pub status: Option<u16>,
    pub ok: bool,
    /// The answer's excerpt or why nothing was sent (never the URL or a secret).
    pub detail: String,
    /// A secret is missing: retrying cannot help until the owner sets it.
    pub missing_secret: bool,
}

fn missing(name: &str) -> Tried {
    Tried {
        status: None,
        ok: false,
        detail: format!("secret {name} is not set: `wrangler secret put {name}` (locally: add it to .dev.vars)"),
        missing_secret: true,
    }
}

fn excerpt(s: &str) -> String {
    s.chars().take(ANSWER_EXCERPT).collect()
}

/// Sends `notice` to the channel: its URL and signing key from the secrets it names, the
/// platform's request from `contract::notify::outgoing`, success as `delivered` reads it.
pub async fn send(env: &Env, site: &Site, to: Platform, url_secret: &str, sign_secret: Option<&str>, notice: &Notice, now_ms: i64) -> Tried {
    let Some(url) = secret(env, url_secret) else { return missing(url_secret) };
    let sign = match sign_secret {
        Some(name) => match secret(env, name) {
            Some(s) => Some(s),
            None => return missing(name),
        },
        None => None,
    };
    let out = notify::outgoing(to, &url, sign.as_deref(), notice, site.default_locale, site, now_ms);
    let answer = async {
        let headers = worker::Headers::new();
        for (k, v) in &out.headers {
            headers.set(k, v)?;
        }
        let mut init = worker::RequestInit::new();
        init.with_method(worker::Method::Post).with_headers(headers).with_body(Some(out.body.clone().into()));
        let req = worker::Request::new_with_init(&out.url, &init)?;
        let mut resp = worker::Fetch::Request(req).send().await?;
        let status = resp.status_code();
        let body = resp.text().await.unwrap_or_default();
        Ok::<_, worker::Error>((status, body))
    };
    match answer.await {
        Ok((status, body)) => {
            let ok = notify::delivered(to, status, &body);
            Tried { status: Some(status), ok, detail: excerpt(&body), missing_secret: false }
        }
        // The error text may quote the URL, which is a secret: say only what happened.
        Err(_) => Tried { status: None, ok: false, detail: "no answer (network error or bad URL)".into(), missing_secret: false },
    }
}

/// The channels of `link` (or of the gallery) that want `kind`.
pub fn wanting<'a>(gallery: &'a Gallery, link: Option<&'a Link>, kind: NotifyKind) -> impl Iterator<Item = &'a Channel> {
    link.map_or(gallery.notify.as_slice(), |l| l.channels(gallery)).iter().filter(move |c| c.wants(kind))
}

/// Enqueues an `owner_action` notice for the gallery's channels (the link's, when the action
/// targets one link), sent by the log's next alarm. Called by the audit handler after it
/// recorded the entry.
pub async fn on_owner_action(log: &crate::gallery_log::GalleryLog, entry: &gatefold_contract::admin::AuditEntry) -> worker::Result<()> {
    log.owner_action(entry).await
}

/// `POST /admin/api/notify/test`: one `test` notice to every channel the galleries declare
/// (theirs and their links'), once per URL secret, sent now; each answer reported.
pub async fn test_all(env: &Env, site: &Site, galleries: &[std::rc::Rc<Gallery>], now_ms: i64) -> gatefold_contract::admin::NotifyTestAnswer {
    let mut seen: Vec<&str> = Vec::new();
    let mut todo = Vec::new();
    for g in galleries {
        for c in g.notify.iter().chain(g.links.values().flat_map(|l| l.notify.iter().flatten())) {
            if !seen.contains(&c.url_secret.as_str()) {
                seen.push(&c.url_secret);
                todo.push((g, c));
            }
        }
    }
    let tries = todo.iter().map(|(g, c)| async move {
        let n = notice(site, g, None, NotifyKind::Test, now_ms, now_ms);
        let tried = send(env, site, c.to, &c.url_secret, c.sign_secret.as_deref(), &n, now_ms).await;
        gatefold_contract::admin::NotifyTestChannel {
            to: c.to,
            url_secret: c.url_secret.clone(),
            gallery: g.id.clone(),
            status: tried.status,
            ok: tried.ok,
            detail: tried.detail,
        }
    });
    gatefold_contract::admin::NotifyTestAnswer { channels: futures_util::future::join_all(tries).await }
}

/// "extend: 2026-12-01 → 2026-12-08 · 203.0.113.0" for an audit entry.
pub fn action_detail(entry: &gatefold_contract::admin::AuditEntry) -> String {
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::access::{ADMITTED, EventKind};

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
        kinds(&event(EventKind::Open, ADMITTED), Some(ViewHint { view_number: n, max_views: max }))
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
    fn notice_ids_are_stable_and_distinct() {
        let a = notice_id("g", "g/alpha", NotifyKind::Open, 60_000);
        assert_eq!(a, notice_id("g", "g/alpha", NotifyKind::Open, 60_000));
        assert_eq!(a.len(), 32);
        assert_ne!(a, notice_id("g", "g/alpha", NotifyKind::Open, 120_000));
        assert_ne!(a, notice_id("g", "g/alpha", NotifyKind::FirstOpen, 60_000));
        assert_ne!(notice_id("g", "ab", NotifyKind::Open, 1), notice_id("ga", "b", NotifyKind::Open, 1));
    }

    #[test]
    fn backoff_doubles_up_to_an_hour() {
        assert_eq!(backoff_ms(1, 60_000), 60_000);
        assert_eq!(backoff_ms(2, 60_000), 120_000);
        assert_eq!(backoff_ms(7, 60_000), MAX_BACKOFF_MS);
        assert_eq!(backoff_ms(400, 60_000), MAX_BACKOFF_MS);
    }

    #[test]
    fn windows_start_on_their_boundary() {
        assert_eq!(window_start(125_000, 60_000), 120_000);
        assert_eq!(window_start(120_000, 60_000), 120_000);
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
