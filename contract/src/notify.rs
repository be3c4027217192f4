//! Owner notifications: the channels a site, gallery or link declares (`notify:` in YAML), the
//! events they ask for, one message ([`Notice`]) and how each platform wants it (format and
//! signature). Pure: the worker passes in the clock, the secrets and the locale; the generator
//! validates the declarations. Delivery (aggregation, alarms, retries) is the worker's.

use serde::{Deserialize, Serialize};

/// Where a channel sends.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Platform {
    /// Feishu / Lark custom bot: interactive card, optional timestamp signature.
    Feishu,
    /// DingTalk custom robot: markdown, optional signature in the URL.
    Dingtalk,
    /// WeCom (企业微信) group robot: markdown, no signature (the key is in the URL).
    Wecom,
    /// Slack incoming webhook: Block Kit, no signature (the URL is the secret).
    Slack,
    /// Any HTTPS endpoint: Gatefold's documented JSON, HMAC-SHA256 signed.
    Webhook,
}

impl Platform {
    pub const ALL: [Platform; 5] = [Platform::Feishu, Platform::Dingtalk, Platform::Wecom, Platform::Slack, Platform::Webhook];

    /// The name `to:` writes (as serde spells it).
    pub fn name(self) -> &'static str {
        match self {
            Platform::Feishu => "feishu",
            Platform::Dingtalk => "dingtalk",
            Platform::Wecom => "wecom",
            Platform::Slack => "slack",
            Platform::Webhook => "webhook",
        }
    }

    /// Whether the platform signs its requests with a secret of its own (`sign_secret:`):
    /// WeCom and Slack carry their key in the URL and have no signature.
    pub fn signs(self) -> bool {
        matches!(self, Platform::Feishu | Platform::Dingtalk | Platform::Webhook)
    }
}

/// What a channel can be told about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NotifyKind {
    /// A link's first counted open.
    FirstOpen,
    /// Every counted open (opt-in: noisy).
    Open,
    /// An original, a web size or the ZIP downloaded.
    Download,
    /// 80 % of a link's views used.
    LimitNear,
    /// A link's last allowed view used.
    LimitReached,
    /// A link expires within 48 hours.
    ExpiresSoon,
    /// A person tried a disabled, expired or used-up link.
    DeniedAfterClose,
    /// An owner acted through the admin API (disable, enable, extend, raise, revoke, password,
    /// export).
    OwnerAction,
    /// The daily digest of a gallery.
    Digest,
    /// `gatefold notify test`: sent to every channel, never declared in `on:`.
    Test,
}

impl NotifyKind {
    /// What `on:` may list (everything but [`NotifyKind::Test`]).
    pub const DECLARABLE: [NotifyKind; 9] = [
        NotifyKind::FirstOpen,
        NotifyKind::Open,
        NotifyKind::Download,
        NotifyKind::LimitNear,
        NotifyKind::LimitReached,
        NotifyKind::ExpiresSoon,
        NotifyKind::DeniedAfterClose,
        NotifyKind::OwnerAction,
        NotifyKind::Digest,
    ];

    /// The name `on:` writes and the webhook's `type` (as serde spells it).
    pub fn name(self) -> &'static str {
        match self {
            NotifyKind::FirstOpen => "first_open",
            NotifyKind::Open => "open",
            NotifyKind::Download => "download",
            NotifyKind::LimitNear => "limit_near",
            NotifyKind::LimitReached => "limit_reached",
            NotifyKind::ExpiresSoon => "expires_soon",
            NotifyKind::DeniedAfterClose => "denied_after_close",
            NotifyKind::OwnerAction => "owner_action",
            NotifyKind::Digest => "digest",
            NotifyKind::Test => "test",
        }
    }
}

/// One declared channel, after inheritance (site → gallery → link: the nearer list replaces
/// the wider one; `notify: []` turns notifications off there).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Channel {
    pub to: Platform,
    /// Name of the worker secret (`.dev.vars` locally) holding the URL: never the URL itself.
    pub url_secret: String,
    /// Name of the secret holding the platform's signing secret (the HMAC key for `webhook`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sign_secret: Option<String>,
    pub on: Vec<NotifyKind>,
}

impl Channel {
    /// Whether this channel asks for `kind`.
    pub fn wants(&self, kind: NotifyKind) -> bool {
        self.on.contains(&kind)
    }
}

/// When the daily digest goes out when `site.yaml` does not say: 09:00 in the site timezone.
pub const DEFAULT_DIGEST_HOUR: u8 = 9;

/// One message to send: one event (or all events of one kind on one link within one batching
/// window, with their count), a gallery's digest, or a test.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Notice {
    /// Idempotency key: every retry of this notice carries it, so receivers can drop repeats.
    pub id: String,
    pub kind: NotifyKind,
    pub gallery: String,
    pub gallery_title: String,
    /// The link it is about (none for a digest, a test or an action on a whole gallery).
    pub link: Option<NoticeLink>,
    /// How many events this notice stands for (1 unless batched).
    pub count: u32,
    /// First and last event it stands for (Unix seconds).
    pub first_at: i64,
    pub last_at: i64,
    /// Where the (last) visitor was, e.g. "Shanghai, CN"; their device, e.g. "mobile · iOS · Safari".
    pub place: Option<String>,
    pub device: Option<String>,
    /// A line of its own: an owner action ("extend: 2026-12-01 → 2026-12-08 by 203.0.113.0"),
    /// views used ("16 of 20 views"), the denial ("link_expired").
    pub detail: Option<String>,
    pub digest: Option<Digest>,
    /// The admin page, so the message links to where the owner acts.
    pub admin_url: String,
}

/// The link a notice is about.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NoticeLink {
    /// `<gallery>/<link>` or `<gallery>/<audience>/<recipient>`, or `<gallery>/@<audience>`
    /// for an action on a whole audience.
    pub id: String,
    pub label: String,
    pub audience_label: Option<String>,
}

/// A gallery's daily digest: the day before the digest hour, link by link.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Digest {
    /// The local day it covers, `YYYY-MM-DD` (site timezone).
    pub day: String,
    pub links: Vec<DigestLink>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DigestLink {
    pub id: String,
    pub label: String,
    pub audience_label: Option<String>,
    /// Opens and downloads during the day covered.
    pub opens: u64,
    pub downloads: u64,
    /// Ever (as far as the access log reaches).
    pub opened: bool,
    pub downloaded: bool,
    /// Whether the link offers any download (so "never downloaded" means something).
    pub download_on: bool,
    pub views_left: Option<u64>,
    pub expires_at: Option<i64>,
}

/// An HTTP request to make: the channel's URL (with the platform's signature parameters where
/// it wants them there), headers and JSON body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outgoing {
    pub url: String,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

// ---------------------------------------------------------------------------------------------
// Rendering and signing.

use crate::Locale;
use crate::manifest::Site;
use data_encoding::{BASE64, HEXLOWER};
use hmac::{Hmac, Mac};
use sha2::Sha256;

/// Platform size limits, with margin for the JSON around the text. WeCom refuses a markdown
/// `content` over 4096 bytes; DingTalk's markdown is documented at 20,000 bytes; a Slack
/// section's text at 3,000 characters; a Feishu card at 30 KB of request body.
const WECOM_MAX: usize = 4096;
const DINGTALK_MAX: usize = 18_000;
const SLACK_SECTION_MAX: usize = 3000;
const FEISHU_MAX: usize = 24_000;
/// Links listed per digest section before "+N more": a digest is read on a phone.
const DIGEST_LIST_MAX: usize = 10;
const DAY: i64 = 24 * 3600;

fn hmac_sha256(key: &[u8], message: &[u8]) -> [u8; 32] {
    let mut mac = Hmac::<Sha256>::new_from_slice(key).expect("HMAC takes keys of any length");
    mac.update(message);
    mac.finalize().into_bytes().into()
}

/// Feishu custom bot: base64(HMAC-SHA256(key = "{timestamp}\n{secret}", message = "")).
pub fn feishu_sign(timestamp_s: i64, secret: &str) -> String {
    BASE64.encode(&hmac_sha256(format!("{timestamp_s}\n{secret}").as_bytes(), b""))
}

/// DingTalk custom robot: base64(HMAC-SHA256(key = secret, message = "{timestamp}\n{secret}")),
/// URL-encoded as the query parameter `sign`.
pub fn dingtalk_sign(timestamp_ms: i64, secret: &str) -> String {
    let raw = BASE64.encode(&hmac_sha256(secret.as_bytes(), format!("{timestamp_ms}\n{secret}").as_bytes()));
    // Base64 has three characters a query must escape.
    raw.replace('+', "%2B").replace('/', "%2F").replace('=', "%3D")
}

/// Gatefold's webhook: hex HMAC-SHA256(key = secret, message = "{timestamp}.{body}").
pub fn webhook_sign(timestamp_s: i64, body: &str, secret: &str) -> String {
    HEXLOWER.encode(&hmac_sha256(secret.as_bytes(), format!("{timestamp_s}.{body}").as_bytes()))
}

/// Words of a message in the site locale.
struct Words {
    gallery: &'static str,
    audience: &'static str,
    link: &'static str,
    when: &'static str,
    place: &'static str,
    device: &'static str,
    detail: &'static str,
    open_admin: &'static str,
    id: &'static str,
}

fn words(locale: Locale) -> Words {
    match locale {
        Locale::En => Words { gallery: "Gallery", audience: "Audience", link: "Link", when: "When", place: "Place", device: "Device", detail: "Detail", open_admin: "Open the admin page", id: "Event id" },
        Locale::ZhCn => Words { gallery: "图库", audience: "受众", link: "链接", when: "时间", place: "地点", device: "设备", detail: "详情", open_admin: "打开管理页", id: "事件编号" },
    }
}

fn kind_title(kind: NotifyKind, locale: Locale) -> &'static str {
    use NotifyKind::*;
    match (locale, kind) {
        (Locale::En, FirstOpen) => "First open",
        (Locale::En, Open) => "Opened",
        (Locale::En, Download) => "Downloaded",
        (Locale::En, LimitNear) => "80 % of the views used",
        (Locale::En, LimitReached) => "View limit reached",
        (Locale::En, ExpiresSoon) => "Expires within 48 hours",
        (Locale::En, DeniedAfterClose) => "Someone tried a closed link",
        (Locale::En, OwnerAction) => "Owner action",
        (Locale::En, Digest) => "Daily digest",
        (Locale::En, Test) => "Test message from Gatefold",
        (Locale::ZhCn, FirstOpen) => "首次打开",
        (Locale::ZhCn, Open) => "打开",
        (Locale::ZhCn, Download) => "下载",
        (Locale::ZhCn, LimitNear) => "浏览次数已用 80%",
        (Locale::ZhCn, LimitReached) => "浏览次数已用完",
        (Locale::ZhCn, ExpiresSoon) => "48 小时内过期",
        (Locale::ZhCn, DeniedAfterClose) => "有人尝试打开已关闭的链接",
        (Locale::ZhCn, OwnerAction) => "管理操作",
        (Locale::ZhCn, Digest) => "每日摘要",
        (Locale::ZhCn, Test) => "Gatefold 测试消息",
    }
}

/// "3 opens in the last minute" for a batched notice; `None` for a single event.
fn count_line(kind: NotifyKind, count: u32, locale: Locale) -> Option<String> {
    if count <= 1 {
        return None;
    }
    let (en, zh) = match kind {
        NotifyKind::FirstOpen | NotifyKind::Open => ("opens", "次打开"),
        NotifyKind::Download => ("downloads", "次下载"),
        NotifyKind::DeniedAfterClose => ("refused attempts", "次被拒绝的访问"),
        NotifyKind::OwnerAction => ("owner actions", "次管理操作"),
        _ => ("events", "个事件"),
    };
    Some(match locale {
        Locale::En => format!("{count} {en} in the last minute"),
        Locale::ZhCn => format!("最近 1 分钟内 {count} {zh}"),
    })
}

/// `YYYY-MM-DD HH:MM` in the site timezone, followed by the zone's name.
fn local_time(site: &Site, unix: i64) -> String {
    let local = unix + i64::from(site.utc_offset_at(unix));
    match chrono::DateTime::from_timestamp(local, 0) {
        Some(t) => format!("{} ({})", t.naive_utc().format("%Y-%m-%d %H:%M"), site.timezone),
        None => unix.to_string(),
    }
}

fn local_date(site: &Site, unix: i64) -> String {
    let local = unix + i64::from(site.utc_offset_at(unix));
    chrono::DateTime::from_timestamp(local, 0).map(|t| t.naive_utc().format("%Y-%m-%d").to_string()).unwrap_or_default()
}

fn rfc3339(unix: i64) -> String {
    chrono::DateTime::from_timestamp(unix, 0).map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)).unwrap_or_default()
}

/// One line of owner text, so a label cannot break a message's layout.
fn one_line(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// A link as messages name it: "Label (Audience)".
fn link_name(label: &str, audience: Option<&str>) -> String {
    match audience {
        Some(a) => format!("{} ({})", one_line(label), one_line(a)),
        None => one_line(label),
    }
}

/// The message, independent of platform: a title, `label: value` facts, digest sections
/// (heading, lines, and how many more were left out).
struct Message {
    title: String,
    facts: Vec<(&'static str, String)>,
    sections: Vec<(String, Vec<String>, usize)>,
    admin_url: String,
    id: String,
    words: Words,
}

fn message(notice: &Notice, locale: Locale, site: &Site, now_s: i64) -> Message {
    let w = words(locale);
    let kind = kind_title(notice.kind, locale);
    let title = match &notice.link {
        Some(l) => format!("{kind}: {} · {}", link_name(&l.label, l.audience_label.as_deref()), one_line(&notice.gallery_title)),
        None => format!("{kind}: {}", one_line(&notice.gallery_title)),
    };
    let mut facts = vec![(w.gallery, format!("{} ({})", one_line(&notice.gallery_title), notice.gallery))];
    if let Some(l) = &notice.link {
        if let Some(a) = &l.audience_label {
            facts.push((w.audience, one_line(a)));
        }
        facts.push((w.link, format!("{} ({})", one_line(&l.label), l.id)));
    }
    let when = if notice.count > 1 && notice.first_at != notice.last_at {
        format!("{} – {}", local_time(site, notice.first_at), local_time(site, notice.last_at))
    } else {
        local_time(site, notice.last_at)
    };
    facts.push((w.when, when));
    if let Some(c) = count_line(notice.kind, notice.count, locale) {
        facts.push((if locale == Locale::En { "Count" } else { "次数" }, c));
    }
    for (label, value) in [(w.place, &notice.place), (w.device, &notice.device), (w.detail, &notice.detail)] {
        if let Some(v) = value.as_deref().map(one_line).filter(|v| !v.is_empty()) {
            facts.push((label, v));
        }
    }
    let sections = notice.digest.as_ref().map(|d| digest_sections(d, locale, site, now_s)).unwrap_or_default();
    Message { title, facts, sections, admin_url: notice.admin_url.clone(), id: notice.id.clone(), words: w }
}

/// The digest's sections, each capped at [`DIGEST_LIST_MAX`] lines (the rest counted).
fn digest_sections(d: &Digest, locale: Locale, site: &Site, now_s: i64) -> Vec<(String, Vec<String>, usize)> {
    let en = locale == Locale::En;
    let name = |l: &DigestLink| link_name(&l.label, l.audience_label.as_deref());
    let mut sections = Vec::new();
    let mut push = |heading: String, lines: Vec<String>| {
        if !lines.is_empty() {
            let more = lines.len().saturating_sub(DIGEST_LIST_MAX);
            sections.push((heading, lines.into_iter().take(DIGEST_LIST_MAX).collect(), more));
        }
    };
    let mut active: Vec<&DigestLink> = d.links.iter().filter(|l| l.opens > 0 || l.downloads > 0).collect();
    active.sort_by_key(|l| std::cmp::Reverse(l.opens + l.downloads));
    push(
        if en { format!("Opens and downloads on {}", d.day) } else { format!("{} 的打开与下载", d.day) },
        active
            .iter()
            .map(|l| if en { format!("{}: {} opens, {} downloads", name(l), l.opens, l.downloads) } else { format!("{}：打开 {} 次，下载 {} 次", name(l), l.opens, l.downloads) })
            .collect(),
    );
    if active.is_empty() {
        // An empty day is news too: the owner learns the digest ran.
        push(if en { format!("Opens and downloads on {}", d.day) } else { format!("{} 的打开与下载", d.day) }, vec![if en { "none".into() } else { "无".into() }]);
    }
    push(if en { "Not opened yet".into() } else { "尚未打开".into() }, d.links.iter().filter(|l| !l.opened).map(name).collect());
    push(
        if en { "Opened but never downloaded".into() } else { "已打开但从未下载".into() },
        d.links.iter().filter(|l| l.opened && !l.downloaded && l.download_on).map(name).collect(),
    );
    let mut expiring: Vec<(&DigestLink, i64)> = d.links.iter().filter_map(|l| l.expires_at.filter(|&at| at > now_s && at <= now_s + 7 * DAY).map(|at| (l, at))).collect();
    expiring.sort_by_key(|(_, at)| *at);
    push(
        if en { "Expiring within 7 days".into() } else { "7 天内过期".into() },
        expiring.iter().map(|(l, at)| format!("{}{}{}", name(l), if en { ": " } else { "：" }, local_date(site, *at))).collect(),
    );
    let mut left: Vec<(&DigestLink, u64)> = d.links.iter().filter_map(|l| l.views_left.map(|v| (l, v))).collect();
    left.sort_by_key(|(_, v)| *v);
    push(
        if en { "Views left".into() } else { "剩余浏览次数".into() },
        left.iter().map(|(l, v)| if en { format!("{}: {v}", name(l)) } else { format!("{}：{v}", name(l)) }).collect(),
    );
    sections
}

fn more_line(more: usize, locale: Locale) -> String {
    match locale {
        Locale::En => format!("+{more} more"),
        Locale::ZhCn => format!("另有 {more} 项"),
    }
}

/// Cuts `text` to at most `max` bytes at a line (else a character) boundary, marking the cut.
fn truncate(text: &str, max: usize) -> String {
    if text.len() <= max {
        return text.to_string();
    }
    const MARK: &str = "\n…";
    let mut end = max.saturating_sub(MARK.len());
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    let cut = text[..end].rfind('\n').filter(|&i| i > end / 2).unwrap_or(end);
    format!("{}{MARK}", &text[..cut])
}

/// Markdown for Feishu's lark_md, DingTalk and WeCom (the subset all three render).
fn markdown(m: &Message, locale: Locale, heading: bool) -> String {
    let mut out = String::new();
    if heading {
        out.push_str(&format!("### {}\n", m.title));
    }
    for (k, v) in &m.facts {
        out.push_str(&format!("**{k}**: {v}\n"));
    }
    for (heading, lines, more) in &m.sections {
        out.push_str(&format!("\n**{heading}**\n"));
        for l in lines {
            out.push_str(&format!("- {l}\n"));
        }
        if *more > 0 {
            out.push_str(&format!("- {}\n", more_line(*more, locale)));
        }
    }
    out
}

fn footer(m: &Message) -> String {
    format!("{}: {}", m.words.id, m.id)
}

/// The request that delivers `notice` to a channel of platform `to` at `url`: the platform's
/// native message in `locale`, signed with `sign_secret` where the platform signs.
/// `now_ms` is the signature's clock (platforms refuse stale timestamps: Feishu and DingTalk
/// after an hour, Gatefold's receivers after five minutes), so each retry calls this again.
pub fn outgoing(to: Platform, url: &str, sign_secret: Option<&str>, notice: &Notice, locale: Locale, site: &Site, now_ms: i64) -> Outgoing {
    let now_s = now_ms.div_euclid(1000);
    let m = message(notice, locale, site, now_s);
    let json = vec![("Content-Type".to_string(), "application/json".to_string())];
    match to {
        Platform::Feishu => {
            // https://open.feishu.cn/document/client-docs/bot-v3/add-custom-bot: msg_type
            // interactive with a card; timestamp (seconds, as a string) and sign at the top.
            let body_md = truncate(&format!("{}\n[{}]({})", markdown(&m, locale, false), m.words.open_admin, m.admin_url), FEISHU_MAX);
            let mut body = serde_json::json!({
                "msg_type": "interactive",
                "card": {
                    "config": {"wide_screen_mode": true},
                    "header": {"title": {"tag": "plain_text", "content": m.title}, "template": header_colour(notice.kind)},
                    "elements": [
                        {"tag": "div", "text": {"tag": "lark_md", "content": body_md}},
                        {"tag": "note", "elements": [{"tag": "plain_text", "content": footer(&m)}]},
                    ],
                },
            });
            if let Some(secret) = sign_secret {
                body["timestamp"] = now_s.to_string().into();
                body["sign"] = feishu_sign(now_s, secret).into();
            }
            Outgoing { url: url.to_string(), headers: json, body: body.to_string() }
        }
        Platform::Dingtalk => {
            // https://open.dingtalk.com/document/robots/custom-robot-access: msgtype markdown
            // with title (the notification preview) and text; the signature goes in the URL.
            let text = truncate(&format!("{}\n[{}]({})\n\n> {}", markdown(&m, locale, true), m.words.open_admin, m.admin_url, footer(&m)), DINGTALK_MAX);
            let body = serde_json::json!({"msgtype": "markdown", "markdown": {"title": m.title, "text": text}});
            let url = match sign_secret {
                Some(secret) => format!("{url}{}timestamp={now_ms}&sign={}", if url.contains('?') { '&' } else { '?' }, dingtalk_sign(now_ms, secret)),
                None => url.to_string(),
            };
            Outgoing { url, headers: json, body: body.to_string() }
        }
        Platform::Wecom => {
            // https://developer.work.weixin.qq.com/document/path/91770: msgtype markdown,
            // markdown.content at most 4096 bytes (UTF-8). The link and id come first in the
            // tail so a cut list never drops them.
            let tail = format!("\n[{}]({})\n> {}", m.words.open_admin, m.admin_url, footer(&m));
            let content = format!("{}{tail}", truncate(&markdown(&m, locale, true), WECOM_MAX.saturating_sub(tail.len())));
            let body = serde_json::json!({"msgtype": "markdown", "markdown": {"content": content}});
            Outgoing { url: url.to_string(), headers: json, body: body.to_string() }
        }
        Platform::Slack => Outgoing { url: url.to_string(), headers: json, body: slack(&m, locale).to_string() },
        Platform::Webhook => {
            let body = webhook_body(notice);
            let mut headers = json;
            headers.push(("X-Gatefold-Event-Id".into(), notice.id.clone()));
            headers.push(("X-Gatefold-Timestamp".into(), now_s.to_string()));
            if let Some(secret) = sign_secret {
                headers.push(("X-Gatefold-Signature".into(), format!("sha256={}", webhook_sign(now_s, &body, secret))));
            }
            Outgoing { url: url.to_string(), headers, body }
        }
    }
}

fn header_colour(kind: NotifyKind) -> &'static str {
    match kind {
        NotifyKind::LimitReached | NotifyKind::DeniedAfterClose => "red",
        NotifyKind::LimitNear | NotifyKind::ExpiresSoon => "orange",
        NotifyKind::OwnerAction => "purple",
        _ => "blue",
    }
}

/// Slack's mrkdwn treats `&`, `<` and `>` as control characters.
fn slack_escape(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;")
}

/// https://api.slack.com/reference/block-kit/blocks: a header (plain text, ≤ 150 characters),
/// sections (mrkdwn, ≤ 3000 characters each), a context line; `text` is the notification
/// fallback.
fn slack(m: &Message, locale: Locale) -> serde_json::Value {
    let title: String = m.title.chars().take(150).collect();
    let facts: String = m.facts.iter().map(|(k, v)| format!("*{k}*: {}\n", slack_escape(v))).collect();
    let mut blocks = vec![
        serde_json::json!({"type": "header", "text": {"type": "plain_text", "text": title}}),
        serde_json::json!({"type": "section", "text": {"type": "mrkdwn", "text": truncate(&facts, SLACK_SECTION_MAX)}}),
    ];
    for (heading, lines, more) in &m.sections {
        let mut text = format!("*{}*\n", slack_escape(heading));
        for l in lines {
            text.push_str(&format!("• {}\n", slack_escape(l)));
        }
        if *more > 0 {
            text.push_str(&format!("• {}\n", more_line(*more, locale)));
        }
        blocks.push(serde_json::json!({"type": "section", "text": {"type": "mrkdwn", "text": truncate(&text, SLACK_SECTION_MAX)}}));
    }
    blocks.push(serde_json::json!({"type": "section", "text": {"type": "mrkdwn", "text": format!("<{}|{}>", m.admin_url, m.words.open_admin)}}));
    blocks.push(serde_json::json!({"type": "context", "elements": [{"type": "mrkdwn", "text": slack_escape(&footer(m))}]}));
    serde_json::json!({"text": title, "blocks": blocks})
}

/// Gatefold's documented webhook body (README, "Webhook"), fields in the documented order.
#[derive(Serialize)]
struct WebhookBody<'a> {
    id: &'a str,
    #[serde(rename = "type")]
    kind: NotifyKind,
    occurred_at: String,
    first_at: String,
    count: u32,
    gallery: WebhookGallery<'a>,
    link: Option<&'a NoticeLink>,
    place: Option<&'a str>,
    device: Option<&'a str>,
    detail: Option<&'a str>,
    digest: Option<&'a Digest>,
    admin_url: &'a str,
}

#[derive(Serialize)]
struct WebhookGallery<'a> {
    id: &'a str,
    title: &'a str,
}

fn webhook_body(n: &Notice) -> String {
    let body = WebhookBody {
        id: &n.id,
        kind: n.kind,
        occurred_at: rfc3339(n.last_at),
        first_at: rfc3339(n.first_at),
        count: n.count,
        gallery: WebhookGallery { id: &n.gallery, title: &n.gallery_title },
        link: n.link.as_ref(),
        place: n.place.as_deref(),
        device: n.device.as_deref(),
        detail: n.detail.as_deref(),
        digest: n.digest.as_ref(),
        admin_url: &n.admin_url,
    };
    serde_json::to_string(&body).expect("plain data serialises")
}

/// Whether the platform accepted the message: Feishu answers `{"code":0}` (older bots
/// `{"StatusCode":0}`), DingTalk and WeCom `{"errcode":0}`, Slack the text `ok`, a webhook any
/// 2xx. Feishu, DingTalk and WeCom answer HTTP 200 with an error code inside for a refused
/// message (bad signature, rate limit), so the status alone is not enough.
pub fn delivered(to: Platform, status: u16, body: &str) -> bool {
    if !(200..300).contains(&status) {
        return false;
    }
    let code = |field: &str| serde_json::from_str::<serde_json::Value>(body).ok().and_then(|v| v.get(field).and_then(serde_json::Value::as_i64));
    match to {
        Platform::Feishu => code("code") == Some(0) || code("StatusCode") == Some(0),
        Platform::Dingtalk | Platform::Wecom => code("errcode") == Some(0),
        Platform::Slack => body.trim() == "ok",
        Platform::Webhook => true,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::manifest::{Analytics, IpLogging};
    use serde_json::Value;

    fn site(locale: Locale) -> Site {
        Site {
            title: "Acme".into(),
            base_url: "https://img.example.com".into(),
            default_locale: locale,
            timezone: "Asia/Shanghai".into(),
            ip_logging: IpLogging::Truncated,
            utc_offsets: vec![(i64::MIN / 2, 8 * 3600)],
            dev_key: false,
            analytics: Analytics::default(),
            digest_hour: 9,
        }
    }

    /// 2026-11-30 06:05:00 UTC = 14:05 in Shanghai.
    const AT: i64 = 1_796_018_700;

    fn notice(kind: NotifyKind, count: u32) -> Notice {
        Notice {
            id: "n-7f3a".into(),
            kind,
            gallery: "launch".into(),
            gallery_title: "Product A launch".into(),
            link: Some(NoticeLink { id: "launch/channel/dealer-007".into(), label: "Dealer 007".into(), audience_label: Some("渠道伙伴".into()) }),
            count,
            first_at: AT - 50,
            last_at: AT,
            place: Some("Shanghai, CN".into()),
            device: Some("mobile · iOS · Safari".into()),
            detail: None,
            digest: None,
            admin_url: "https://img.example.com/admin#launch".into(),
        }
    }

    fn json(o: &Outgoing) -> Value {
        serde_json::from_str(&o.body).unwrap()
    }

    // Signatures. No platform publishes a (timestamp, secret) → sign triple, so each vector
    // below was derived ONCE, independently of this code, with Python's hmac module following
    // the platform's published algorithm, and is hard-coded here:
    //   python3 -c "import hmac,hashlib,base64; print(base64.b64encode(hmac.new(b'1599360473\nthis is secret', b'', hashlib.sha256).digest()).decode())"

    #[test]
    fn feishu_signs_an_empty_message_keyed_with_timestamp_and_secret() {
        // Algorithm: https://open.feishu.cn/document/client-docs/bot-v3/add-custom-bot
        // ("签名校验": timestamp + "\n" + 密钥 as the HmacSHA256 key, empty message, Base64;
        // the doc's example timestamp is 1599360473). Vector derived with python3 (above).
        assert_eq!(feishu_sign(1_599_360_473, "this is secret"), "/eYKrXQBzTjUZJ3s6NX16VxGbTwmK7AEs8/FnvC1CSw=");
    }

    #[test]
    fn dingtalk_signs_timestamp_and_secret_with_the_secret_and_url_encodes_it() {
        // Algorithm and the secret "this is secret" from DingTalk's published sample
        // (https://open.dingtalk.com/document/robots/customize-robot-security-settings, mirrored at
        // https://apifox.com/apidoc/docs-site/467052/doc-3550006): HmacSHA256(key = secret,
        // message = timestamp + "\n" + secret), Base64, urlEncode. Vector derived with
        //   python3 -c "import hmac,hashlib,base64,urllib.parse; print(urllib.parse.quote_plus(base64.b64encode(hmac.new(b'this is secret', b'1577262236757\nthis is secret', hashlib.sha256).digest())))"
        assert_eq!(dingtalk_sign(1_577_262_236_757, "this is secret"), "hmPWwU%2B7lVdm3ZZz0r9tSfx0L4Q26jWOZr9%2BGs6EZQM%3D");
    }

    #[test]
    fn the_webhook_signs_timestamp_dot_body_in_hex() {
        // Gatefold's own scheme (README, "Webhook"). Vector derived with
        //   python3 -c "import hmac,hashlib; print(hmac.new(b'whsec-test', b'1700000000.{\"a\":1}', hashlib.sha256).hexdigest())"
        assert_eq!(webhook_sign(1_700_000_000, "{\"a\":1}", "whsec-test"), "fed7a1a6c799a6367d73724d76bc70c16678908a32a879cd1ded6565ac05cece");
    }

    #[test]
    fn feishu_gets_an_interactive_card_with_its_signature() {
        // Shape of https://open.feishu.cn/document/client-docs/bot-v3/add-custom-bot
        // ("发送消息卡片": {"timestamp": "...", "sign": "...", "msg_type": "interactive", "card": {...}}).
        let now_ms = 1_599_360_473_000;
        let o = outgoing(Platform::Feishu, "https://open.feishu.cn/open-apis/bot/v2/hook/x", Some("this is secret"), &notice(NotifyKind::Open, 3), Locale::En, &site(Locale::En), now_ms);
        assert_eq!(o.url, "https://open.feishu.cn/open-apis/bot/v2/hook/x");
        let v = json(&o);
        assert_eq!(v["msg_type"], "interactive");
        assert_eq!(v["timestamp"], "1599360473", "seconds, as a string");
        assert_eq!(v["sign"], "/eYKrXQBzTjUZJ3s6NX16VxGbTwmK7AEs8/FnvC1CSw=");
        assert_eq!(v["card"]["header"]["title"]["content"], "Opened: Dealer 007 (渠道伙伴) · Product A launch");
        let md = v["card"]["elements"][0]["text"]["content"].as_str().unwrap();
        for want in ["3 opens in the last minute", "2026-11-30 14:04 (Asia/Shanghai) – 2026-11-30 14:05 (Asia/Shanghai)", "Shanghai, CN", "mobile · iOS · Safari", "launch/channel/dealer-007", "(https://img.example.com/admin#launch)"] {
            assert!(md.contains(want), "{want} in {md}");
        }
        assert_eq!(v["card"]["elements"][1]["elements"][0]["content"], "Event id: n-7f3a");
        let unsigned = outgoing(Platform::Feishu, "u", None, &notice(NotifyKind::Open, 1), Locale::En, &site(Locale::En), now_ms);
        assert!(json(&unsigned).get("sign").is_none() && json(&unsigned).get("timestamp").is_none());
    }

    #[test]
    fn dingtalk_gets_markdown_and_the_signature_in_the_url() {
        // Shape of https://open.dingtalk.com/document/robots/custom-robot-access
        // ({"msgtype": "markdown", "markdown": {"title": ..., "text": ...}}; &timestamp=&sign= in the URL).
        let url = "https://oapi.dingtalk.com/robot/send?access_token=XXXXXX";
        let o = outgoing(Platform::Dingtalk, url, Some("this is secret"), &notice(NotifyKind::FirstOpen, 1), Locale::ZhCn, &site(Locale::ZhCn), 1_577_262_236_757);
        assert_eq!(o.url, format!("{url}&timestamp=1577262236757&sign=hmPWwU%2B7lVdm3ZZz0r9tSfx0L4Q26jWOZr9%2BGs6EZQM%3D"));
        let v = json(&o);
        assert_eq!(v["msgtype"], "markdown");
        assert_eq!(v["markdown"]["title"], "首次打开: Dealer 007 (渠道伙伴) · Product A launch");
        let text = v["markdown"]["text"].as_str().unwrap();
        assert!(text.starts_with("### 首次打开"), "{text}");
        for want in ["**受众**: 渠道伙伴", "**地点**: Shanghai, CN", "[打开管理页](https://img.example.com/admin#launch)", "事件编号: n-7f3a"] {
            assert!(text.contains(want), "{want} in {text}");
        }
        assert!(!text.contains("次数"), "a single event has no count line: {text}");
    }

    #[test]
    fn wecom_gets_markdown_content_within_4096_bytes() {
        // Shape of https://developer.work.weixin.qq.com/document/path/91770
        // ({"msgtype": "markdown", "markdown": {"content": "..."}}, content ≤ 4096 bytes UTF-8).
        let o = outgoing(Platform::Wecom, "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=k", None, &notice(NotifyKind::Download, 1), Locale::ZhCn, &site(Locale::ZhCn), AT * 1000);
        assert_eq!(o.url, "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=k", "WeCom has no signature");
        let v = json(&o);
        assert_eq!(v["msgtype"], "markdown");
        assert!(v["markdown"]["content"].as_str().unwrap().contains("### 下载"), "{v}");
        // A digest of 2,000 recipients with long Chinese labels still fits, cut at a line.
        let mut n = digest_notice(2000);
        for l in &mut n.digest.as_mut().unwrap().links {
            l.label = "很长的经销商名称".repeat(40);
        }
        let o = outgoing(Platform::Wecom, "u", None, &n, Locale::ZhCn, &site(Locale::ZhCn), AT * 1000);
        let content = json(&o)["markdown"]["content"].as_str().unwrap().to_string();
        assert!(content.len() <= 4096, "{}", content.len());
        assert!(content.ends_with("事件编号: d-1"), "the admin link and id survive the cut: {content}");
    }

    #[test]
    fn slack_gets_block_kit_with_a_fallback_text() {
        // Shape of https://api.slack.com/reference/block-kit/blocks and
        // https://api.slack.com/messaging/webhooks ({"text": ..., "blocks": [...]}).
        let mut n = notice(NotifyKind::DeniedAfterClose, 2);
        n.detail = Some("link_expired <b>&".into());
        let o = outgoing(Platform::Slack, "https://hooks.slack.com/services/T/B/X", Some("ignored"), &n, Locale::En, &site(Locale::En), AT * 1000);
        let v = json(&o);
        assert_eq!(v["text"], "Someone tried a closed link: Dealer 007 (渠道伙伴) · Product A launch");
        assert_eq!(v["blocks"][0]["type"], "header");
        assert_eq!(v["blocks"][0]["text"]["type"], "plain_text");
        let facts = v["blocks"][1]["text"]["text"].as_str().unwrap();
        assert!(facts.contains("*Count*: 2 refused attempts in the last minute"), "{facts}");
        assert!(facts.contains("link_expired &lt;b&gt;&amp;"), "mrkdwn control characters escaped: {facts}");
        let blocks = v["blocks"].as_array().unwrap();
        assert_eq!(blocks[blocks.len() - 2]["text"]["text"], "<https://img.example.com/admin#launch|Open the admin page>");
        assert_eq!(blocks[blocks.len() - 1]["type"], "context");
        assert_eq!(o.headers, vec![("Content-Type".to_string(), "application/json".to_string())]);
    }

    #[test]
    fn the_webhook_sends_the_documented_json_signed() {
        let mut n = notice(NotifyKind::OwnerAction, 1);
        n.detail = Some("extend: 2026-12-01 → 2026-12-08".into());
        let o = outgoing(Platform::Webhook, "https://hooks.example.com/g", Some("whsec-test"), &n, Locale::En, &site(Locale::En), 1_700_000_000_999);
        let header = |name: &str| o.headers.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone());
        assert_eq!(header("Content-Type").as_deref(), Some("application/json"));
        assert_eq!(header("X-Gatefold-Event-Id").as_deref(), Some("n-7f3a"));
        assert_eq!(header("X-Gatefold-Timestamp").as_deref(), Some("1700000000"));
        assert_eq!(header("X-Gatefold-Signature").unwrap(), format!("sha256={}", webhook_sign(1_700_000_000, &o.body, "whsec-test")));
        let keys: Vec<String> = serde_json::from_str::<serde_json::Map<String, Value>>(&o.body).unwrap().keys().cloned().collect();
        let mut want = ["id", "type", "occurred_at", "first_at", "count", "gallery", "link", "place", "device", "detail", "digest", "admin_url"].map(String::from).to_vec();
        want.sort();
        let mut keys = keys;
        keys.sort();
        assert_eq!(keys, want);
        assert!(o.body.starts_with("{\"id\":\"n-7f3a\",\"type\":\"owner_action\",\"occurred_at\":\"2026-11-30T06:05:00Z\""), "{}", o.body);
        let v = json(&o);
        assert_eq!(v["gallery"], serde_json::json!({"id": "launch", "title": "Product A launch"}));
        assert_eq!(v["link"], serde_json::json!({"id": "launch/channel/dealer-007", "label": "Dealer 007", "audience_label": "渠道伙伴"}));
        assert_eq!(v["digest"], Value::Null);
        assert_eq!(v["first_at"], "2026-11-30T06:04:10Z");
    }

    fn digest_notice(links: usize) -> Notice {
        let links = (0..links)
            .map(|i| DigestLink {
                id: format!("launch/l{i}"),
                label: format!("Link {i}"),
                audience_label: None,
                opens: if i % 3 == 0 { i as u64 } else { 0 },
                downloads: if i % 6 == 0 { 1 } else { 0 },
                opened: i % 3 == 0,
                downloaded: i % 6 == 0,
                download_on: true,
                views_left: Some(100 - (i as u64 % 100)),
                expires_at: Some(AT + (i as i64 % 10) * DAY),
            })
            .collect();
        Notice { id: "d-1".into(), kind: NotifyKind::Digest, link: None, count: 1, place: None, device: None, digest: Some(Digest { day: "2026-11-29".into(), links }), ..notice(NotifyKind::Digest, 1) }
    }

    #[test]
    fn a_digest_lists_each_section_capped_with_the_rest_counted() {
        let o = outgoing(Platform::Dingtalk, "u", None, &digest_notice(4), Locale::En, &site(Locale::En), AT * 1000);
        let text = json(&o)["markdown"]["text"].as_str().unwrap().to_string();
        for want in [
            "**Opens and downloads on 2026-11-29**\n- Link 3: 3 opens, 0 downloads\n- Link 0: 0 opens, 1 downloads\n",
            "**Not opened yet**\n- Link 1\n- Link 2\n",
            "**Opened but never downloaded**\n- Link 3\n",
            // Link 0 expires now (not within the future 7 days); 1..3 days ahead, local dates.
            "**Expiring within 7 days**\n- Link 1: 2026-12-01\n- Link 2: 2026-12-02\n- Link 3: 2026-12-03\n",
            "**Views left**\n- Link 3: 97\n",
        ] {
            assert!(text.contains(want), "{want:?} in {text}");
        }
        let o = outgoing(Platform::Slack, "u", None, &digest_notice(100), Locale::ZhCn, &site(Locale::ZhCn), AT * 1000);
        let body = o.body;
        assert!(body.contains("另有 56 项"), "66 links not opened, 10 listed: {body}");
        let v: Value = serde_json::from_str(&body).unwrap();
        for b in v["blocks"].as_array().unwrap() {
            assert!(b["text"]["text"].as_str().is_none_or(|t| t.chars().count() <= 3000));
        }
    }

    #[test]
    fn the_webhook_carries_the_digest_as_data() {
        let o = outgoing(Platform::Webhook, "u", Some("k"), &digest_notice(2), Locale::En, &site(Locale::En), AT * 1000);
        let v = json(&o);
        assert_eq!(v["type"], "digest");
        assert_eq!(v["link"], Value::Null);
        assert_eq!(v["digest"]["day"], "2026-11-29");
        assert_eq!(v["digest"]["links"][1]["views_left"], 99);
    }

    #[test]
    fn delivery_is_judged_by_each_platforms_answer() {
        assert!(delivered(Platform::Feishu, 200, r#"{"code":0,"data":{},"msg":"success"}"#));
        assert!(delivered(Platform::Feishu, 200, r#"{"Extra":null,"StatusCode":0,"StatusMessage":"success"}"#));
        assert!(!delivered(Platform::Feishu, 200, r#"{"code":19021,"msg":"sign match fail or timestamp is not within one hour from current time"}"#));
        assert!(delivered(Platform::Dingtalk, 200, r#"{"errcode":0,"errmsg":"ok"}"#));
        assert!(!delivered(Platform::Dingtalk, 200, r#"{"errcode":310000,"errmsg":"sign not match"}"#));
        assert!(delivered(Platform::Wecom, 200, r#"{"errcode":0,"errmsg":"ok"}"#));
        assert!(!delivered(Platform::Wecom, 200, r#"{"errcode":45009,"errmsg":"api freq out of limit"}"#));
        assert!(!delivered(Platform::Wecom, 500, r#"{"errcode":0}"#));
        assert!(delivered(Platform::Slack, 200, "ok"));
        assert!(!delivered(Platform::Slack, 200, "invalid_payload"));
        assert!(!delivered(Platform::Slack, 404, "no_team"));
        assert!(delivered(Platform::Webhook, 204, ""));
        assert!(!delivered(Platform::Webhook, 500, "{}"));
        assert!(!delivered(Platform::Webhook, 302, ""));
    }

    #[test]
    fn truncation_keeps_utf8_and_cuts_at_a_line() {
        let text = "一二三\n四五六\n七八九\n";
        let cut = truncate(text, 24);
        assert_eq!(cut, "一二三\n四五六\n…");
        assert_eq!(truncate("一二三四五", 8), "一\n…", "never inside a character");
        assert_eq!(truncate("short", 100), "short");
    }

    #[test]
    fn names_match_serde() {
        for p in Platform::ALL {
            assert_eq!(serde_json::to_value(p).unwrap(), p.name());
        }
        for k in NotifyKind::DECLARABLE.into_iter().chain([NotifyKind::Test]) {
            assert_eq!(serde_json::to_value(k).unwrap(), k.name());
        }
    }
}
