//! Each platform's request for a [`Notice`]: its native format in the site's language, its
//! signature, and how to read its answer.

use super::*;

use crate::Locale;
use crate::time::{self, Clock, DAY, WallTime};
use data_encoding::{BASE64, HEXLOWER};
use hmac::{Hmac, Mac};
use sha2::Sha256;

mod escape;

/// Platform size limits, with margin for the JSON around the text. WeCom refuses a markdown
/// `content` over 4096 bytes; DingTalk's markdown is documented at 20,000 bytes; a Slack
/// section's text at 3,000 characters; a Feishu card at 30 KB of request body.
const WECOM_MAX: usize = 4096;
const DINGTALK_MAX: usize = 18_000;
const SLACK_SECTION_MAX: usize = 3000;
const FEISHU_MAX: usize = 24_000;
/// Links listed per digest section before "+N more": a digest is read on a phone.
const DIGEST_LIST_MAX: usize = 10;

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
    percent_encoding::utf8_percent_encode(&raw, percent_encoding::NON_ALPHANUMERIC).to_string()
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
    message: &'static str,
    open_admin: &'static str,
    id: &'static str,
}

fn words(locale: Locale) -> Words {
    match locale {
        Locale::En => Words { gallery: "Gallery", audience: "Audience", link: "Link", when: "When", place: "Place", device: "Device", detail: "Detail", message: "Message", open_admin: "Open the admin page", id: "Event id" },
        Locale::ZhCn => Words { gallery: "图库", audience: "受众", link: "链接", when: "时间", place: "地点", device: "设备", detail: "详情", message: "留言", open_admin: "打开管理页", id: "事件编号" },
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
        (Locale::En, PasswordAttack) => "Someone is guessing a link's password",
        (Locale::En, GoLive) => "Gone live: opens now",
        (Locale::En, AccessRequested) => "Access requested",
        (Locale::En, ForwardingSuspected) => "Link possibly forwarded",
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
        (Locale::ZhCn, PasswordAttack) => "有人在猜测链接密码",
        (Locale::ZhCn, GoLive) => "已按计划开放",
        (Locale::ZhCn, AccessRequested) => "访问申请",
        (Locale::ZhCn, ForwardingSuspected) => "链接可能被转发",
        (Locale::ZhCn, Test) => "Gatefold 测试消息",
    }
}

/// "3 opens in the last minute" for a batched notice; `None` for a single event.
fn count_line(kind: NotifyKind, count: u32, locale: Locale) -> Option<String> {
    if count <= 1 {
        return None;
    }
    if kind == NotifyKind::GoLive {
        return Some(match locale {
            Locale::En => format!("{count} links opened at this moment"),
            Locale::ZhCn => format!("{count} 个链接于此刻开放"),
        });
    }
    let (en, zh) = match kind {
        NotifyKind::FirstOpen | NotifyKind::Open => ("opens", "次打开"),
        NotifyKind::Download => ("downloads", "次下载"),
        NotifyKind::DeniedAfterClose => ("refused attempts", "次被拒绝的访问"),
        NotifyKind::OwnerAction => ("owner actions", "次管理操作"),
        NotifyKind::AccessRequested => ("access requests", "个访问申请"),
        _ => ("events", "个事件"),
    };
    Some(match locale {
        Locale::En => format!("{count} {en} in the last minute"),
        Locale::ZhCn => format!("最近 1 分钟内 {count} {zh}"),
    })
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

fn message(notice: &Notice, locale: Locale, site: &impl Clock, now_s: i64) -> Message {
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
        format!("{} – {}", time::for_owner(site, notice.first_at), time::for_owner(site, notice.last_at))
    } else {
        time::for_owner(site, notice.last_at)
    };
    facts.push((w.when, when));
    if let Some(c) = count_line(notice.kind, notice.count, locale) {
        facts.push((if locale == Locale::En { "Count" } else { "次数" }, c));
    }
    for (label, value) in [(w.place, &notice.place), (w.device, &notice.device), (w.detail, &notice.detail), (w.message, &notice.message)] {
        if let Some(v) = value.as_deref().map(one_line).filter(|v| !v.is_empty()) {
            facts.push((label, v));
        }
    }
    let sections = notice.digest.as_ref().map(|d| digest_sections(d, locale, site, now_s)).unwrap_or_default();
    Message { title, facts, sections, admin_url: notice.admin_url.clone(), id: notice.id.clone(), words: w }
}

/// The digest's sections, each capped at [`DIGEST_LIST_MAX`] lines (the rest counted).
fn digest_sections(d: &Digest, locale: Locale, site: &impl Clock, now_s: i64) -> Vec<(String, Vec<String>, usize)> {
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
    push(
        if en { "Possibly forwarded".into() } else { "可能被转发".into() },
        d.links.iter().filter_map(|l| l.forwarded.as_ref().map(|f| format!("{}{}{f}", name(l), if en { ": " } else { "：" }))).collect(),
    );
    push(if en { "Not opened yet".into() } else { "尚未打开".into() }, d.links.iter().filter(|l| !l.opened).map(name).collect());
    push(
        if en { "Opened but never downloaded".into() } else { "已打开但从未下载".into() },
        d.links.iter().filter(|l| l.opened && !l.downloaded && l.download_on).map(name).collect(),
    );
    let mut expiring: Vec<(&DigestLink, i64)> = d.links.iter().filter_map(|l| l.expires_at.filter(|&at| at > now_s && at <= now_s + 7 * DAY).map(|at| (l, at))).collect();
    expiring.sort_by_key(|(_, at)| *at);
    push(
        if en { "Expiring within 7 days".into() } else { "7 天内过期".into() },
        expiring.iter().map(|(l, at)| format!("{}{}{}", name(l), if en { ": " } else { "：" }, WallTime::at(site, *at).date())).collect(),
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

/// Markdown for Feishu's lark_md, DingTalk and WeCom (the subset all three render). Every piece
/// of text goes through `text`, the platform's escape ([`escape`]); only the markup around it is
/// Gatefold's.
fn markdown(m: &Message, locale: Locale, heading: bool, text: fn(&str) -> String) -> String {
    let mut out = String::new();
    if heading {
        out.push_str(&format!("### {}\n", text(&m.title)));
    }
    for (k, v) in &m.facts {
        out.push_str(&format!("**{}**: {}\n", text(k), text(v)));
    }
    for (heading, lines, more) in &m.sections {
        out.push_str(&format!("\n**{}**\n", text(heading)));
        for l in lines {
            out.push_str(&format!("- {}\n", text(l)));
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
pub fn outgoing(to: Platform, url: &str, sign_secret: Option<&str>, notice: &Notice, locale: Locale, site: &impl Clock, now_ms: i64) -> Outgoing {
    let now_s = now_ms.div_euclid(1000);
    let m = message(notice, locale, site, now_s);
    let json = vec![("Content-Type".to_string(), "application/json".to_string())];
    match to {
        Platform::Feishu => {
            // https://open.feishu.cn/document/client-docs/bot-v3/add-custom-bot: msg_type
            // interactive with a card; timestamp (seconds, as a string) and sign at the top.
            // The admin link is the tail, outside the cut: escaping can make labels ~5× longer.
            let tail = format!("\n[{}]({})", m.words.open_admin, m.admin_url);
            let body_md = format!("{}{tail}", truncate(&markdown(&m, locale, false, escape::feishu), FEISHU_MAX.saturating_sub(tail.len())));
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
            let md = markdown(&m, locale, true, escape::inert_markdown);
            let text = truncate(&format!("{md}\n[{}]({})\n\n> {}", m.words.open_admin, m.admin_url, escape::inert_markdown(&footer(&m))), DINGTALK_MAX);
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
            let tail = format!("\n[{}]({})\n> {}", m.words.open_admin, m.admin_url, escape::inert_markdown(&footer(&m)));
            let content = format!("{}{tail}", truncate(&markdown(&m, locale, true, escape::inert_markdown), WECOM_MAX.saturating_sub(tail.len())));
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
        NotifyKind::LimitReached | NotifyKind::DeniedAfterClose | NotifyKind::PasswordAttack => "red",
        NotifyKind::AccessRequested => "green",
        NotifyKind::ForwardingSuspected => "orange",
        NotifyKind::LimitNear | NotifyKind::ExpiresSoon => "orange",
        NotifyKind::OwnerAction => "purple",
        NotifyKind::GoLive => "green",
        _ => "blue",
    }
}

/// https://api.slack.com/reference/block-kit/blocks: a header (plain text, ≤ 150 characters),
/// sections (mrkdwn, ≤ 3000 characters each), a context line; `text` is the notification
/// fallback.
fn slack(m: &Message, locale: Locale) -> serde_json::Value {
    let title: String = m.title.chars().take(150).collect();
    let facts: String = m.facts.iter().map(|(k, v)| format!("*{k}*: {}\n", escape::slack(v))).collect();
    let mut blocks = vec![
        serde_json::json!({"type": "header", "text": {"type": "plain_text", "text": title}}),
        serde_json::json!({"type": "section", "text": {"type": "mrkdwn", "text": truncate(&facts, SLACK_SECTION_MAX)}}),
    ];
    for (heading, lines, more) in &m.sections {
        let mut text = format!("*{}*\n", escape::slack(heading));
        for l in lines {
            text.push_str(&format!("• {}\n", escape::slack(l)));
        }
        if *more > 0 {
            text.push_str(&format!("• {}\n", more_line(*more, locale)));
        }
        blocks.push(serde_json::json!({"type": "section", "text": {"type": "mrkdwn", "text": truncate(&text, SLACK_SECTION_MAX)}}));
    }
    blocks.push(serde_json::json!({"type": "section", "text": {"type": "mrkdwn", "text": format!("<{}|{}>", m.admin_url, m.words.open_admin)}}));
    blocks.push(serde_json::json!({"type": "context", "elements": [{"type": "mrkdwn", "text": escape::slack(&footer(m))}]}));
    // The fallback `text` is mrkdwn too (it is what a notification shows): escaped like the rest.
    // No previews: Slack would fetch the admin page's URL (and anything a message links) to
    // unfurl it.
    serde_json::json!({"text": escape::slack(&title), "blocks": blocks, "unfurl_links": false, "unfurl_media": false})
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
    /// An access request's words (absent for every other kind).
    #[serde(skip_serializing_if = "Option::is_none")]
    message: Option<&'a str>,
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
        message: n.message.as_deref(),
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
mod tests;
