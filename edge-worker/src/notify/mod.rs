//! Owner notifications, delivered off the visitor's path: what a notice says ([`notice`],
//! [`notice_link`], its idempotency key), which channels want it ([`wanting`]), and one try to
//! deliver it ([`send`]: the contract's `outgoing` builds the platform's request, `delivered`
//! reads its answer). The folding window, the gathering delay of a window's first notice and
//! the first retry delay are settings of the deployment ([`batch_ms`], [`gather_ms`],
//! [`retry_ms`]).
//!
//! Who tells what: the gallery's log (`crate::gallery_log`) derives notices from its stored
//! access events, owner actions and password-attack reports, keeps them in its outbox and
//! sends them from its alarm; the daily digest (`crate::digest`) builds a gallery's digest and
//! hands it to that outbox; the admin API's notify test sends one [`test_all`].
//!
//! Secrets: a channel names the worker secrets holding its URL and signing key; they are read
//! when sending and never logged. A missing one is reported (dead letter, notify test).

use gatefold_contract::manifest::{Gallery, Link, Site};
use gatefold_contract::notify::{self, Channel, Notice, NoticeLink, NotifyKind};
use worker::Env;

/// Where a `password_attack` notice sends the owner: the admin page with the link's password
/// dialog open and a generated passphrase in it, one tap from a new password.
pub fn change_password_url(site: &Site, gallery: &str, link: &str) -> String {
    format!("{}#password={gallery}/{link}", admin_url(site))
}

/// Folding window when `NOTIFY_BATCH_SECONDS` is not set: per link and kind, a window's first
/// notice goes out at once and the rest of the window is folded into one trailing message, so
/// a burst is at most two messages a minute.
pub const DEFAULT_BATCH_SECONDS: i64 = 60;
/// How long a window's first notice waits for the events arriving with it when
/// `NOTIFY_GATHER_SECONDS` is not set: a moment, so it still reads as instant while the opens of
/// one click (a group chat's members tapping the same link) come as one message.
pub const DEFAULT_GATHER_SECONDS: i64 = 1;
/// First retry delay when `NOTIFY_RETRY_SECONDS` is not set: the outbox's schedule is this,
/// three and six times it, then doubling to 360 times it (10 s, 30 s, 1 min, … 1 h), for
/// 8,640 times it (24 h); see `gallery_log::outbox::retry_delay_ms`.
pub const DEFAULT_RETRY_SECONDS: i64 = 10;
/// Characters of a platform's answer kept in a dead letter or shown by the notify test.
pub const ANSWER_EXCERPT: usize = 200;

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

/// A seconds setting from a worker variable, else its default.
fn seconds_var(env: &Env, name: &str, default: i64) -> i64 {
    env.var(name).ok().and_then(|v| v.to_string().trim().parse::<i64>().ok()).filter(|s| *s > 0).unwrap_or(default)
}

/// The batching window (`NOTIFY_BATCH_SECONDS`) in ms.
pub fn batch_ms(env: &Env) -> i64 {
    seconds_var(env, "NOTIFY_BATCH_SECONDS", DEFAULT_BATCH_SECONDS) * 1000
}

/// How long a window's first notice gathers the events arriving with it
/// (`NOTIFY_GATHER_SECONDS`), in ms.
pub fn gather_ms(env: &Env) -> i64 {
    seconds_var(env, "NOTIFY_GATHER_SECONDS", DEFAULT_GATHER_SECONDS) * 1000
}

/// The idempotency key of a window's trailing message (the notices folded after its first):
/// its own, so a receiver deduplicating by id keeps both.
pub fn trailing_id(first: &str) -> String {
    let mut h = blake3::Hasher::new();
    h.update(first.as_bytes());
    h.update(b"\0trailing");
    h.finalize().to_hex()[..32].to_string()
}

/// The first retry delay (`NOTIFY_RETRY_SECONDS`) in ms.
pub fn retry_ms(env: &Env) -> i64 {
    seconds_var(env, "NOTIFY_RETRY_SECONDS", DEFAULT_RETRY_SECONDS) * 1000
}

/// Where an `access_requested` notice sends the owner: the admin page opened on the request.
pub fn request_url(site: &Site, request_id: &str) -> String {
    format!("{}#request={request_id}", admin_url(site))
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
        message: None,
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
pub async fn send(env: &Env, site: &Site, channel: &Channel, notice: &Notice, now_ms: i64) -> Tried {
    let Some(url) = secret(env, &channel.url_secret) else { return missing(&channel.url_secret) };
    let to = channel.to;
    let sign = match channel.sign_secret.as_deref() {
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
        let tried = send(env, site, c, &n, now_ms).await;
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

#[cfg(test)]
mod tests {
    use super::*;

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
    fn windows_start_on_their_boundary() {
        assert_eq!(window_start(125_000, 60_000), 120_000);
        assert_eq!(window_start(120_000, 60_000), 120_000);
    }
}
