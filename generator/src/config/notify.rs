//! `notify:` (site.yaml, gallery.yaml, a link or an audience) and site.yaml's
//! `notify_digest_at:`.
//!
//! A channel names its URL and signing key by secret NAME only: webhook URLs carry their
//! credential (WeCom's `key=`, Slack's path), so a URL written here would publish it in git.

use gatefold_contract::notify::{Channel, NotifyKind, Platform};
use saphyr::YamlData;

use super::yaml::{FileDiagnostics, Node, describe, did_you_mean, is_null, join};

const CHANNEL_FIELDS: &[&str] = &["to", "url_secret", "sign_secret", "on"];

/// How a secret is stored, said in every fix that mentions one.
const SECRET_HOWTO: &str = "store the value with `wrangler secret put <NAME>` (and in `.dev.vars` for `gatefold dev`)";

/// Reads a `notify:` list; `None` when it has errors (all reported), so nothing half-read
/// is built. `notify: []` (or an empty `notify:`) is `Some(vec![])`: notifications off there.
pub fn read(ctx: &mut FileDiagnostics, node: &Node<'_>, field: &str) -> Option<Vec<Channel>> {
    if is_null(node) {
        return Some(Vec::new());
    }
    let YamlData::Sequence(items) = &node.data else {
        ctx.error(
            Some(node),
            field,
            format!("expected a list of channels, found {}", describe(node)),
            "write one `- to: feishu` entry (with `url_secret:` and `on:`) per channel, or `notify: []` for none",
        );
        return None;
    };
    let errors_before = ctx.diags.iter().filter(|d| d.is_error()).count();
    let mut channels: Vec<Channel> = Vec::with_capacity(items.len());
    for (i, item) in items.iter().enumerate() {
        let at = format!("{field}[{i}]");
        let Some(channel) = read_channel(ctx, item, &at) else { continue };
        if channels.iter().any(|c| c.to == channel.to && c.url_secret == channel.url_secret) {
            ctx.error(
                Some(item),
                &at,
                format!("`{}` with `url_secret: {}` is listed twice", channel.to.name(), channel.url_secret),
                "merge the two entries' `on:` lists into one entry",
            );
            continue;
        }
        channels.push(channel);
    }
    let errors = ctx.diags.iter().filter(|d| d.is_error()).count();
    (errors == errors_before).then_some(channels)
}

fn read_channel(ctx: &mut FileDiagnostics, item: &Node<'_>, at: &str) -> Option<Channel> {
    let map = ctx.mapping(item, at, "a channel (`to:`, `url_secret:`, `on:`)")?;
    ctx.unknown_keys(&map, at, CHANNEL_FIELDS);
    let names: Vec<&str> = Platform::ALL.iter().map(|p| p.name()).collect();
    let to = match map.value("to") {
        None => {
            ctx.error(Some(item), &join(at, "to"), "missing `to`", format!("add `to:` with one of: {}", names.join(", ")));
            None
        }
        Some(node) => ctx.text(node, &join(at, "to")).and_then(|t| {
            let t = t.trim().to_lowercase();
            let found = Platform::ALL.into_iter().find(|p| p.name() == t);
            if found.is_none() {
                let fix = match did_you_mean(&t, names.iter().copied()) {
                    Some(best) => format!("did you mean `{best}`? (one of: {})", names.join(", ")),
                    None => format!("write one of: {} (`webhook` for any other HTTPS receiver)", names.join(", ")),
                };
                ctx.error(Some(node), &join(at, "to"), format!("`{t}` is not a notification platform"), fix);
            }
            found
        }),
    };
    let url_secret = match map.value("url_secret") {
        None => {
            ctx.error(
                Some(item),
                &join(at, "url_secret"),
                "missing `url_secret`: the name of the secret holding the channel's URL",
                format!("add e.g. `url_secret: NOTIFY_FEISHU_URL` and {SECRET_HOWTO}"),
            );
            None
        }
        Some(node) => secret_name(ctx, node, &join(at, "url_secret"), "URL"),
    };
    let sign_secret = map.value("sign_secret").filter(|n| !is_null(n)).and_then(|node| {
        let name = secret_name(ctx, node, &join(at, "sign_secret"), "signing secret")?;
        match to {
            Some(p) if !p.signs() => {
                ctx.error(
                    Some(node),
                    &join(at, "sign_secret"),
                    format!("{} has no request signing; its key is part of the URL", p.name()),
                    "remove `sign_secret:`; keep the whole URL in the `url_secret` secret",
                );
                None
            }
            _ => Some(name),
        }
    });
    if to == Some(Platform::Webhook) && map.value("sign_secret").is_none_or(is_null) {
        ctx.error(
            Some(item),
            &join(at, "sign_secret"),
            "a `webhook` channel needs `sign_secret`: receivers verify X-Gatefold-Signature with it",
            format!("add e.g. `sign_secret: NOTIFY_WEBHOOK_SIGN` and {SECRET_HOWTO} (a long random value, e.g. `openssl rand -hex 32`)"),
        );
    }
    let on = match map.value("on") {
        None => {
            ctx.error(Some(item), &join(at, "on"), "missing `on`: the events this channel is told about", format!("add e.g. `on: [first_open, download, digest]` (events: {})", event_names()));
            None
        }
        Some(node) => read_events(ctx, node, &join(at, "on")),
    };
    Some(Channel { to: to?, url_secret: url_secret?, sign_secret, on: on? })
}

fn event_names() -> String {
    NotifyKind::DECLARABLE.iter().map(|k| k.name()).collect::<Vec<_>>().join(", ")
}

fn read_events(ctx: &mut FileDiagnostics, node: &Node<'_>, field: &str) -> Option<Vec<NotifyKind>> {
    let YamlData::Sequence(items) = &node.data else {
        ctx.error(Some(node), field, format!("expected a list of events, found {}", describe(node)), format!("write e.g. `[first_open, download, digest]` (events: {})", event_names()));
        return None;
    };
    if items.is_empty() {
        ctx.error(Some(node), field, "no events: this channel would never be sent anything", format!("list the events it wants (events: {}) or remove the channel", event_names()));
        return None;
    }
    let mut out = Vec::with_capacity(items.len());
    let mut ok = true;
    for (i, item) in items.iter().enumerate() {
        let at = format!("{field}[{i}]");
        let Some(t) = ctx.text(item, &at) else {
            ok = false;
            continue;
        };
        let t = t.trim();
        match NotifyKind::DECLARABLE.into_iter().find(|k| k.name() == t) {
            Some(kind) if out.contains(&kind) => ctx.warning(Some(item), &at, format!("`{t}` is listed twice"), "remove the second one"),
            Some(kind) => out.push(kind),
            None => {
                ok = false;
                let fix = if t == NotifyKind::Test.name() {
                    "remove it: `gatefold notify test` reaches every channel without being listed".to_string()
                } else {
                    match did_you_mean(t, NotifyKind::DECLARABLE.iter().map(|k| k.name())) {
                        Some(best) => format!("did you mean `{best}`? (events: {})", event_names()),
                        None => format!("write one of: {}", event_names()),
                    }
                };
                ctx.error(Some(item), &at, format!("`{t}` is not a notification event"), fix);
            }
        }
    }
    ok.then_some(out)
}

/// A secret's name: uppercase letters, digits and `_`, starting with a letter (what
/// `wrangler secret put` and `.dev.vars` accept without quoting). A URL or key pasted in its
/// place is refused without repeating it, since it is the credential itself.
fn secret_name(ctx: &mut FileDiagnostics, node: &Node<'_>, field: &str, what: &str) -> Option<String> {
    let t = ctx.text(node, field)?;
    let t = t.trim();
    let looks_like_url = t.contains("://") || t.starts_with("www.") || t.contains('?') || t.contains('/');
    if looks_like_url {
        ctx.error(
            Some(node),
            field,
            format!("this is a URL, but the {what} is a secret: only the secret's NAME belongs here, never the value (it would be published in git)"),
            format!("write a name like `NOTIFY_FEISHU_URL` here, then {SECRET_HOWTO} with the URL as its value; remove the URL from the file's history if it was committed"),
        );
        return None;
    }
    let valid = t.starts_with(|c: char| c.is_ascii_uppercase()) && t.chars().all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_');
    if !valid {
        let suggestion: String = t.chars().map(|c| if c.is_ascii_alphanumeric() { c.to_ascii_uppercase() } else { '_' }).collect();
        let suggestion = suggestion.trim_start_matches(|c: char| c.is_ascii_digit() || c == '_');
        let example = if suggestion.is_empty() { "NOTIFY_FEISHU_URL" } else { suggestion };
        ctx.error(
            Some(node),
            field,
            format!("`{t}` is not a secret name (uppercase letters, digits and `_`, starting with a letter)"),
            format!("write e.g. `{example}`; if this is the {what} itself, put it in a secret instead: {SECRET_HOWTO}"),
        );
        return None;
    }
    Some(t.to_string())
}

/// `notify_digest_at: "09:00"`: a whole hour in the site timezone.
pub fn read_digest_at(ctx: &mut FileDiagnostics, node: &Node<'_>, field: &str) -> Option<u8> {
    const FIX: &str = "write a whole hour between \"00:00\" and \"23:00\" in quotes, e.g. `notify_digest_at: \"09:00\"` (site timezone)";
    // YAML 1.1 readers turn an unquoted 09:00 into a number; saphyr keeps it as text, and an
    // integer hour (`9`) is accepted as the same thing.
    if let YamlData::Value(saphyr::Scalar::Integer(_)) = &node.data {
        return ctx.int(node, field, 0, 23, FIX).map(|h| h as u8);
    }
    let t = ctx.text(node, field)?;
    let t = t.trim();
    let parsed = t.split_once(':').and_then(|(h, m)| Some((h.parse::<u8>().ok()?, m.parse::<u8>().ok()?)).filter(|_| h.len() <= 2 && m.len() == 2));
    match parsed {
        Some((h, 0)) if h <= 23 => Some(h),
        Some((h, m)) if h <= 23 && m <= 59 => {
            ctx.error(
                Some(node),
                field,
                format!("`{t}`: the digest goes out on the hour, not at :{m:02} (its cron trigger runs once an hour)"),
                format!("write \"{h:02}:00\" or \"{:02}:00\"", (h + 1) % 24),
            );
            None
        }
        _ => {
            ctx.error(Some(node), field, format!("`{t}` is not a time of day"), FIX);
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::yaml;
    use std::path::Path;

    fn notify(text: &str) -> (Option<Vec<Channel>>, Vec<crate::diagnostics::Diagnostic>) {
        let mut ctx = FileDiagnostics::new("g.yaml");
        let root = yaml::parse(Path::new("g.yaml"), text).unwrap().unwrap();
        let YamlData::Mapping(m) = &root.data else { panic!() };
        let node = m.values().next().unwrap();
        let out = read(&mut ctx, node, "notify");
        (out, ctx.diags)
    }

    #[test]
    fn every_platform_is_read_with_its_secrets_and_events() {
        let (out, diags) = notify(
            "notify:\n  - to: feishu\n    url_secret: FEISHU_URL\n    sign_secret: FEISHU_SIGN\n    on: [first_open, digest]\n  - to: wecom\n    url_secret: WECOM_URL\n    on: [download]\n  - to: webhook\n    url_secret: HOOK_URL\n    sign_secret: HOOK_KEY\n    on: [owner_action]\n",
        );
        assert!(diags.is_empty(), "{diags:?}");
        let out = out.unwrap();
        assert_eq!(out.len(), 3);
        assert_eq!(out[0], Channel { to: Platform::Feishu, url_secret: "FEISHU_URL".into(), sign_secret: Some("FEISHU_SIGN".into()), on: vec![NotifyKind::FirstOpen, NotifyKind::Digest] });
        assert_eq!(out[1].sign_secret, None);
        assert_eq!(out[2].to, Platform::Webhook);
    }

    #[test]
    fn an_empty_list_turns_notifications_off() {
        assert_eq!(notify("notify: []\n"), (Some(vec![]), vec![]));
        assert_eq!(notify("notify:\n"), (Some(vec![]), vec![]));
    }

    #[test]
    fn a_url_in_place_of_a_secret_name_is_refused_without_echoing_it() {
        let (out, diags) = notify("notify:\n  - to: wecom\n    url_secret: https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=abc\n    on: [download]\n");
        assert!(out.is_none());
        assert_eq!(diags.len(), 1, "{diags:?}");
        let d = &diags[0];
        assert_eq!((d.line, d.field.as_deref()), (Some(3), Some("notify[0].url_secret")));
        assert!(d.message.contains("is a secret"), "{d}");
        assert!(!d.to_string().contains("key=abc"), "the credential is not repeated: {d}");
        assert!(d.fix.as_deref().unwrap().contains("wrangler secret put"), "{d}");
    }

    #[test]
    fn secret_names_are_uppercase_words() {
        let (_, diags) = notify("notify:\n  - to: slack\n    url_secret: slack-url\n    on: [download]\n");
        assert_eq!(diags.len(), 1, "{diags:?}");
        assert!(diags[0].fix.as_deref().unwrap().contains("`SLACK_URL`"), "{}", diags[0]);
    }

    #[test]
    fn an_unknown_event_gets_a_suggestion_with_its_line() {
        let (out, diags) = notify("notify:\n  - to: slack\n    url_secret: SLACK_URL\n    on:\n      - first_open\n      - donwload\n");
        assert!(out.is_none());
        assert_eq!(diags.len(), 1, "{diags:?}");
        assert_eq!((diags[0].line, diags[0].field.as_deref()), (Some(6), Some("notify[0].on[1]")));
        assert!(diags[0].fix.as_deref().unwrap().contains("did you mean `download`"), "{}", diags[0]);
    }

    #[test]
    fn test_is_not_declarable() {
        let (_, diags) = notify("notify:\n  - to: slack\n    url_secret: SLACK_URL\n    on: [test]\n");
        assert!(diags[0].fix.as_deref().unwrap().contains("gatefold notify test"), "{}", diags[0]);
    }

    #[test]
    fn signing_follows_the_platform() {
        let (_, diags) = notify("notify:\n  - to: webhook\n    url_secret: HOOK_URL\n    on: [download]\n");
        assert_eq!(diags.len(), 1, "{diags:?}");
        assert_eq!(diags[0].field.as_deref(), Some("notify[0].sign_secret"));
        let (_, diags) = notify("notify:\n  - to: slack\n    url_secret: SLACK_URL\n    sign_secret: SLACK_SIGN\n    on: [download]\n");
        assert_eq!(diags.len(), 1, "{diags:?}");
        assert!(diags[0].message.contains("no request signing"), "{}", diags[0]);
        assert_eq!(diags[0].line, Some(4));
    }

    #[test]
    fn missing_fields_and_unknown_platforms_are_each_reported() {
        let (out, diags) = notify("notify:\n  - to: feishoo\n  - url_secret: X\n    on: [digest]\n");
        assert!(out.is_none());
        let fields: Vec<_> = diags.iter().map(|d| d.field.clone().unwrap()).collect();
        assert_eq!(fields, ["notify[0].to", "notify[0].url_secret", "notify[0].on", "notify[1].to"], "{diags:?}");
        assert!(diags[0].fix.as_deref().unwrap().contains("did you mean `feishu`"), "{}", diags[0]);
    }

    #[test]
    fn the_same_channel_twice_is_refused() {
        let (_, diags) = notify("notify:\n  - {to: slack, url_secret: S, on: [download]}\n  - {to: slack, url_secret: S, on: [digest]}\n");
        assert_eq!(diags.len(), 1, "{diags:?}");
        assert_eq!(diags[0].line, Some(3));
    }

    fn digest_at(text: &str) -> (Option<u8>, Vec<crate::diagnostics::Diagnostic>) {
        let mut ctx = FileDiagnostics::new("site.yaml");
        let root = yaml::parse(Path::new("site.yaml"), text).unwrap().unwrap();
        let YamlData::Mapping(m) = &root.data else { panic!() };
        let out = read_digest_at(&mut ctx, m.values().next().unwrap(), "notify_digest_at");
        (out, ctx.diags)
    }

    #[test]
    fn the_digest_hour_is_a_whole_hour() {
        assert_eq!(digest_at("a: \"09:00\"\n").0, Some(9));
        assert_eq!(digest_at("a: \"0:00\"\n").0, Some(0));
        assert_eq!(digest_at("a: \"23:00\"\n").0, Some(23));
        assert_eq!(digest_at("a: 7\n").0, Some(7));
        let (h, diags) = digest_at("a: \"09:30\"\n");
        assert_eq!(h, None);
        assert!(diags[0].message.contains("runs once an hour"), "{}", diags[0]);
        assert!(diags[0].fix.as_deref().unwrap().contains("\"09:00\" or \"10:00\""), "{}", diags[0]);
        for bad in ["a: \"24:00\"\n", "a: nine\n", "a: \"9:0\"\n", "a: 24\n"] {
            assert_eq!(digest_at(bad).0, None, "{bad}");
        }
    }
}
