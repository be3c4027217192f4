use super::*;
use crate::manifest::{Analytics, IpLogging, Site};
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
        key_fingerprint: String::new(),
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
        message: None,
        digest: None,
        admin_url: "https://img.example.com/admin#launch".into(),
    }
}

fn json(o: &Outgoing) -> Value {
    serde_json::from_str(&o.body).unwrap()
}

/// lark_md as a Feishu client shows it: the `&#NN;` and `&sim;` entities of its escaping table
/// turned back into their characters.
fn lark_md_shown(md: &str) -> String {
    let mut out = String::new();
    let mut rest = md;
    while let Some(at) = rest.find('&') {
        out.push_str(&rest[..at]);
        rest = &rest[at..];
        let entity = rest.find(';').map(|end| &rest[..=end]);
        let decoded = match entity {
            Some("&sim;") => Some('~'),
            Some(e) => e.strip_prefix("&#").and_then(|n| n.strip_suffix(';')).and_then(|n| n.parse().ok()).and_then(char::from_u32),
            None => None,
        };
        match (decoded, entity) {
            (Some(c), Some(e)) => {
                out.push(c);
                rest = &rest[e.len()..];
            }
            _ => {
                out.push('&');
                rest = &rest[1..];
            }
        }
    }
    out + rest
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
    let md = &lark_md_shown(v["card"]["elements"][0]["text"]["content"].as_str().unwrap());
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
    assert_eq!((v["unfurl_links"].as_bool(), v["unfurl_media"].as_bool()), (Some(false), Some(false)), "Slack fetches no preview of any link");
}

#[test]
fn a_feishu_card_cut_for_length_keeps_its_admin_link() {
    // Labels full of characters Feishu's escaping turns into entities grow ~5×: the cut falls
    // in the list, never on the admin link after it.
    let mut n = digest_notice(2000);
    for l in &mut n.digest.as_mut().unwrap().links {
        l.label = "<[*_~]>".repeat(60);
    }
    let v = json(&outgoing(Platform::Feishu, "u", None, &n, Locale::ZhCn, &site(Locale::ZhCn), AT * 1000));
    let md = v["card"]["elements"][0]["text"]["content"].as_str().unwrap();
    assert!(md.len() <= FEISHU_MAX, "{}", md.len());
    assert!(md.contains("\n…\n"), "the list was cut");
    assert!(md.ends_with("\n[打开管理页](https://img.example.com/admin#launch)"), "{}", &md[md.len().saturating_sub(200)..]);
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
            forwarded: (i == 1).then(|| "3 devices, 2 cities within 24 h".into()),
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
        "**Possibly forwarded**\n- Link 1: 3 devices, 2 cities within 24 h\n",
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

#[test]
fn a_password_attack_says_how_many_tries_from_how_many_networks_and_links_to_changing_it() {
    let mut n = notice(NotifyKind::PasswordAttack, 1);
    n.detail = Some("37 wrong passwords from 6 networks in the last hour".into());
    n.admin_url = "https://img.example.com/admin#password=launch/channel/dealer-007".into();
    let card = json(&outgoing(Platform::Feishu, "https://open.feishu.cn/hook", None, &n, Locale::ZhCn, &site(Locale::ZhCn), AT * 1000));
    assert_eq!(card["card"]["header"]["title"]["content"], "有人在猜测链接密码: Dealer 007 (渠道伙伴) · Product A launch");
    assert_eq!(card["card"]["header"]["template"], "red");
    let text = card["card"]["elements"][0]["text"]["content"].as_str().unwrap();
    assert!(text.contains("37 wrong passwords from 6 networks"), "{text}");
    assert!(text.contains("(https://img.example.com/admin#password=launch/channel/dealer-007)"), "{text}");
    let hook = json(&outgoing(Platform::Webhook, "https://hooks.example.com/x", Some("k"), &n, Locale::En, &site(Locale::En), AT * 1000));
    assert_eq!(hook["type"], "password_attack");
    assert_eq!(hook["detail"], "37 wrong passwords from 6 networks in the last hour");
    let slack = outgoing(Platform::Slack, "https://hooks.slack.com/x", None, &n, Locale::En, &site(Locale::En), AT * 1000);
    assert!(slack.body.contains("Someone is guessing a link's password"), "{}", slack.body);
}

/// Labels as a hostile partner's CSV could carry them: a spoofed admin link with an @all
/// mention (Feishu's `<at>`), and an image every reader's client would fetch.
const SPOOF: &str = "[打开管理页](https://evil.example/admin) <at id=all></at>";
const TRACKER: &str = "![x](https://tracker.example/p.gif)";

fn hostile_notice(kind: NotifyKind) -> Notice {
    let mut n = notice(kind, 1);
    n.gallery_title = TRACKER.into();
    n.link = Some(NoticeLink { id: "launch/channel/dealer-007".into(), label: SPOOF.into(), audience_label: Some(format!("<@all> {TRACKER}")) });
    n.place = Some("**Shanghai** <font color=\"warning\">CN</font>".into());
    n
}

fn hostile_digest() -> Notice {
    let mut n = digest_notice(3);
    n.gallery_title = TRACKER.into();
    for l in &mut n.digest.as_mut().unwrap().links {
        l.label = SPOOF.into();
        l.audience_label = Some(TRACKER.into());
    }
    n
}

/// What a message may hold only where Gatefold wrote it: a link is the admin page's, nothing
/// is an image, a mention or a colour tag.
fn assert_inert(platform: &str, markup: &str) {
    for bad in ["](https://evil", "](https://tracker", "![", "<at", "</at>", "<@", "<font", "*Shanghai*"] {
        assert!(!markup.contains(bad), "{platform}: {bad:?} live in {markup}");
    }
    assert_eq!(markup.matches("](").count(), 1, "{platform}: one link, the admin page's: {markup}");
}

#[test]
fn labels_carry_no_markup_into_feishu_cards() {
    for n in [hostile_notice(NotifyKind::FirstOpen), hostile_digest()] {
        let v = json(&outgoing(Platform::Feishu, "u", None, &n, Locale::ZhCn, &site(Locale::ZhCn), AT * 1000));
        let md = v["card"]["elements"][0]["text"]["content"].as_str().unwrap();
        assert_inert("feishu", md);
        assert!(md.ends_with("[打开管理页](https://img.example.com/admin#launch)"), "{md}");
        // Shown as typed: escaped, not dropped.
        assert!(lark_md_shown(md).contains(if n.digest.is_some() { SPOOF } else { TRACKER }), "{md}");
        // The card header is plain_text, which renders no markup: the label goes there as it is.
        assert_eq!(v["card"]["header"]["title"]["tag"], "plain_text");
    }
}

#[test]
fn labels_carry_no_markup_into_dingtalk_or_wecom_markdown() {
    for n in [hostile_notice(NotifyKind::FirstOpen), hostile_notice(NotifyKind::OwnerAction), hostile_digest()] {
        let ding = json(&outgoing(Platform::Dingtalk, "u", None, &n, Locale::ZhCn, &site(Locale::ZhCn), AT * 1000));
        let text = ding["markdown"]["text"].as_str().unwrap();
        assert_inert("dingtalk", text);
        assert!(text.contains("［打开管理页］（https://evil.example/admin） ＜at id=all＞＜/at＞"), "readable, not live: {text}");
        let wecom = json(&outgoing(Platform::Wecom, "u", None, &n, Locale::ZhCn, &site(Locale::ZhCn), AT * 1000));
        let content = wecom["markdown"]["content"].as_str().unwrap();
        assert_inert("wecom", content);
        assert!(content.contains("！［x］（https://tracker.example/p.gif）"), "{content}");
    }
}

#[test]
fn labels_carry_no_markup_into_slack() {
    for n in [hostile_notice(NotifyKind::FirstOpen), hostile_digest()] {
        let body = outgoing(Platform::Slack, "u", None, &n, Locale::En, &site(Locale::En), AT * 1000).body;
        let v: Value = serde_json::from_str(&body).unwrap();
        let mrkdwn: Vec<&str> = v["blocks"].as_array().unwrap().iter().filter(|b| b["text"]["type"] == "mrkdwn").filter_map(|b| b["text"]["text"].as_str()).collect();
        let links: Vec<&&str> = mrkdwn.iter().filter(|t| t.contains('<')).collect();
        assert_eq!(links, [&"<https://img.example.com/admin#launch|Open the admin page>"], "the only <…> is the admin page's");
        assert!(mrkdwn.iter().any(|t| t.contains("&lt;at id=all&gt;&lt;/at&gt;")) || n.digest.is_some(), "{mrkdwn:?}");
        assert!(!v["text"].as_str().unwrap().contains('<'), "the notification's fallback text: {}", v["text"]);
    }
}

#[test]
fn the_webhook_hands_labels_over_as_data() {
    // JSON has no markup to escape: the receiver gets each label exactly as the owner wrote it.
    let v = json(&outgoing(Platform::Webhook, "u", Some("k"), &hostile_notice(NotifyKind::FirstOpen), Locale::En, &site(Locale::En), AT * 1000));
    assert_eq!(v["link"]["label"], SPOOF);
    assert_eq!(v["gallery"]["title"], TRACKER);
    let d = json(&outgoing(Platform::Webhook, "u", Some("k"), &hostile_digest(), Locale::En, &site(Locale::En), AT * 1000));
    assert_eq!(d["digest"]["links"][0]["label"], SPOOF);
}

#[test]
fn an_access_requests_message_is_a_fact_of_its_own_escaped_like_every_label() {
    let mut n = hostile_notice(NotifyKind::AccessRequested);
    n.detail = Some("link_expired".into());
    n.message = Some(format!("please {SPOOF}"));
    let ding = json(&outgoing(Platform::Dingtalk, "u", None, &n, Locale::En, &site(Locale::En), AT * 1000));
    let text = ding["markdown"]["text"].as_str().unwrap();
    assert_inert("dingtalk", text);
    assert!(text.contains("**Message**: please") && text.contains("Access requested"), "{text}");
    let hook = json(&outgoing(Platform::Webhook, "u", Some("k"), &n, Locale::En, &site(Locale::En), AT * 1000));
    assert_eq!(hook["type"], "access_requested");
    assert_eq!(hook["message"], format!("please {SPOOF}"));
    let plain = json(&outgoing(Platform::Webhook, "u", Some("k"), &notice(NotifyKind::FirstOpen, 1), Locale::En, &site(Locale::En), AT * 1000));
    assert!(plain.get("message").is_none(), "only a request carries a message");
}
