use super::render::render_overrides_in_force;
use super::*;
use gatefold_contract::admin::{AuditLog, LinkStatus, LinksResponse, NotifyTestAnswer};
use gatefold_contract::{LinkState, Overrides};

#[test]
fn the_notify_test_report_has_a_line_per_channel_and_counts_failures() {
    let answer: NotifyTestAnswer = serde_json::from_value(serde_json::json!({"channels": [
        {"to": "feishu", "url_secret": "NOTIFY_FEISHU_URL", "gallery": "launch", "status": 200, "ok": true, "detail": "{\"code\":0}"},
        {"to": "wecom", "url_secret": "NOTIFY_WECOM_URL", "gallery": "launch", "status": null, "ok": false, "detail": "secret NOTIFY_WECOM_URL is not set"},
    ]})).unwrap();
    let (report, failed, total) = render_notify_test(&answer);
    assert_eq!((failed, total), (1, 2));
    let lines: Vec<&str> = report.lines().collect();
    assert_eq!(lines.len(), 2, "{report}");
    assert!(lines[0].starts_with("feishu   NOTIFY_FEISHU_URL") && lines[0].contains(" 200  ok  {\"code\":0}"), "{report}");
    assert!(lines[1].contains("  -  FAILED  secret NOTIFY_WECOM_URL is not set"), "{report}");
    assert!(serde_json::from_value::<NotifyTestAnswer>(serde_json::json!({"error": "x"})).is_err(), "an answer without channels is refused when read");
}

#[test]
fn the_audit_table_shows_local_times_and_changes() {
    let answer: AuditLog = serde_json::from_value(serde_json::json!({"entries": [
        {"at": 1_796_018_700_000_i64, "action": "extend", "target": "launch/market", "before": "2026-12-01", "after": "2026-12-08", "ip": "203.0.113.0", "device": "desktop · macOS", "actor": "owner@example.com"},
        {"at": 1_796_018_000_000_i64, "action": "export", "target": "launch", "before": null, "after": null, "ip": null, "device": null},
    ]})).unwrap();
    let table = render_audit(&answer, chrono_tz::Asia::Shanghai);
    let lines: Vec<&str> = table.lines().collect();
    assert!(lines[0].starts_with("2026-11-30 14:05:00  extend     launch/market"), "{table}");
    assert!(lines[0].contains("2026-12-01 → 2026-12-08") && lines[0].contains("203.0.113.0") && lines[0].ends_with("desktop · macOS"), "{table}");
    assert!(lines[0].contains(" owner@example.com "), "who acted (Access e-mail or token): {table}");
    assert!(lines[1].starts_with("2026-11-30 13:53:20  export") && lines[1].ends_with("-"), "{table}");
    assert_eq!(lines[2], "times in Asia/Shanghai");
    assert_eq!(render_audit(&AuditLog { entries: vec![] }, chrono_tz::UTC), "no owner actions on record\n");
}

fn link(overrides: Overrides, gallery_overrides: Overrides) -> LinkStatus {
    LinkStatus {
        gallery: "spring".into(),
        gallery_title: "Spring".into(),
        name: "market".into(),
        label: "Market".into(),
        url: "https://g.example/s/x".into(),
        policy: Default::default(),
        overrides,
        gallery_overrides,
        audience: None,
        activity: None,
        audience_overrides: Overrides::default(),
        state: LinkState::Active,
        expires_at: Some(1_798_732_800),
        max_views: None,
        opens_at: None,
        views: 2,
        views_left: None,
        first_open: None,
        last_open: None,
        session_epoch: 0,
        password_set: false,
        notices: vec![],
        password_attack: None,
        devices: Default::default(),
    }
}

#[test]
fn times_are_shown_in_the_site_timezone() {
    let line = render_link(&link(Overrides::default(), Overrides::default()), chrono_tz::Asia::Shanghai);
    assert!(line.contains("expires 2027-01-01 00:00 CST"), "{line}");
    assert!(site_timezone("Mars/Olympus").unwrap_err().to_string().contains("update gatefold"));
}

#[test]
fn publish_lists_the_overrides_still_in_force_on_the_links_it_touches() {
    let extended = Overrides { expires_at: Some(1_798_732_800), max_views: Some(9), ..Overrides::default() };
    let off = Overrides { disabled: Some(true), ..Overrides::default() };
    let all = LinksResponse { timezone: "Asia/Shanghai".into(), links: vec![link(extended, off)], total: 1, offset: 0, next_offset: None, galleries: vec![], audiences: vec![] };
    let touched = vec![("spring".to_string(), "market".to_string())];
    let out = render_overrides_in_force(&all, &touched, chrono_tz::Asia::Shanghai);
    assert!(out.contains("spring/market: gallery disabled at runtime, expiry set to 2027-01-01 00:00 CST, view limit set to 9"), "{out}");
    assert_eq!(render_overrides_in_force(&all, &[("spring".into(), "other".into())], chrono_tz::Asia::Shanghai), "");
}

#[test]
fn a_target_names_a_gallery_a_link_a_recipient_or_an_audience() {
    let link = |g: &str, l: &str| Target::Link { gallery: g.into(), link: l.into() };
    assert_eq!(Target::parse("spring").unwrap(), Target::Gallery("spring".into()));
    assert_eq!(Target::parse("spring/market").unwrap(), link("spring", "market"));
    assert_eq!(Target::parse("launch-a/channel/dealer-001").unwrap(), link("launch-a", "channel/dealer-001"));
    assert_eq!(Target::parse("launch-a/@channel").unwrap(), Target::Audience { gallery: "launch-a".into(), audience: "channel".into() });
    for bad in ["", "/market", "spring/", "a/b/c/d", "a//c", "@a", "a/@", "a/@b/c", "a/b/@c", "a/@b/@c"] {
        assert!(Target::parse(bad).unwrap_err().to_string().contains("<gallery>/@<audience>"), "{bad}");
    }
    assert!(Target::links_only("spring").unwrap_err().to_string().contains("only be disabled or enabled"));
    assert!(split_target("launch-a/@channel").is_err());
    assert_eq!(split_target("launch-a/channel/dealer-001").unwrap(), ("launch-a".to_string(), "channel/dealer-001".to_string()));
}

#[test]
fn short_or_empty_passwords_are_refused_before_anything_is_sent_and_never_repeated() {
    for bad in ["", "   ", "1234567", "短密码"] {
        let err = check_password(bad).unwrap_err().to_string();
        assert!(err.contains("nothing was changed"), "{err}");
        assert!(bad.trim().is_empty() || !err.contains(bad), "the message repeats the password: {err}");
    }
    assert!(check_password("correct horse").is_ok());
    assert!(check_password("八个汉字的密码啊").is_ok(), "characters are counted, not bytes");
}

#[test]
fn an_audience_answer_says_its_state_and_notices() {
    let answer = serde_json::json!({ "overrides": { "disabled": true }, "notices": ["200 recipients"] });
    assert_eq!(render_audience("launch-a", "channel", &answer), "audience launch-a/@channel: disabled at runtime: every recipient's link refuses new opens\n  note: 200 recipients");
}

#[test]
fn filters_are_url_encoded() {
    let w = Window { link: Some("dealer shanghai".into()), from: Some("2026-03-01".into()), to: None };
    assert_eq!(w.query(), "?link=dealer+shanghai&from=2026-03-01");
    assert_eq!(Window::default().query(), "");
}

#[test]
fn an_unreachable_server_says_how_to_start_it() {
    let s = Server { url: "http://127.0.0.1:9".into(), token: "x".repeat(20) };
    let err = s.links().unwrap_err().to_string();
    assert!(err.contains("cannot reach the Gatefold server") && err.contains("GATEFOLD_URL"), "{err}");
}

#[test]
fn a_weak_password_is_refused_with_a_generated_passphrase_offered() {
    let err = password::check_strength("Summer2024!", &["launch", "market"]).unwrap_err().to_string();
    assert!(err.contains("too easy to guess") && err.contains("nothing was changed"), "{err}");
    let offered = err.split("you could use: ").nth(1).and_then(|rest| rest.split(' ').next()).unwrap();
    assert_eq!(offered.split('-').count(), 4, "{err}");
    assert!(password::check_strength(offered, &[]).is_ok(), "the offered passphrase passes the same rule");
    assert!(!err.contains("Summer"), "the password is never repeated");
    assert!(password::check_strength("launch-market-2026", &["launch", "market"]).is_err(), "the link's own names are guessed first");
}

#[test]
fn words_and_years_are_refused_by_zxcvbn_where_the_worker_rule_lets_them_through() {
    // Passwords the compact rule shared with the worker accepts (their words are not on its
    // bounded list), which zxcvbn's dictionaries price far lower.
    for p in ["Snowflake2020!", "Motorcycle1999"] {
        assert!(gatefold_contract::passphrase::check(p, &[]).is_ok(), "{p} passes the worker's floor");
        let err = password::check_strength(p, &[]).unwrap_err().to_string();
        assert!(err.contains("zxcvbn") && err.contains("nothing was changed"), "{p}: {err}");
    }
    for p in ["Elephant2023!", "butterfly2024!", "Basketball2024"] {
        assert!(password::check_strength(p, &[]).is_err(), "{p} is refused");
    }
    for p in ["correct horse battery staple", "mauve otter tunnel", "paper lantern 41", "Kx9#mQ2$vL8@pZ"] {
        assert!(password::check_strength(p, &[]).is_ok(), "{p} is strong");
    }
}

#[test]
fn generated_passphrases_differ() {
    let (a, b) = (password::generate().unwrap(), password::generate().unwrap());
    assert_ne!(a, b);
    assert!(a.len() == 27 && a.split('-').all(|w| w.len() == 6), "{a}");
}

#[test]
fn the_client_builds_every_path_from_the_apis_one_table() {
    // Paths are spelled once, in `gatefold_contract::admin::ApiRoute` (escaping each name and
    // keeping a recipient's `/`, tested there); the client names routes and spells none.
    let client = include_str!("client.rs");
    for shape in ["\"links/", "\"galleries/", "\"audiences/", "\"notify/", "(\"links", "(\"galleries", "url_component", "form_urlencoded::byte_serialize"] {
        assert!(!client.contains(shape), "the CLI's client spells {shape:?} itself");
    }
    assert!(client.contains("route.path()"), "requests go to the table's path");
}
