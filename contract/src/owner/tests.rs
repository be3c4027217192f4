use super::*;

pub(crate) fn wording(lang: &str) -> Wording {
    Wording {
        date_format: "%-d %b %Y %H:%M".into(),
        available_until: format!("[{lang}] until {{date}} ({{tz}})"),
        no_expiry: format!("[{lang}] no expiry"),
        share_expires: "Valid until: {date} ({tz})".into(),
        share_no_expiry: "Valid until: no expiry".into(),
        opens_on: "Opens on {date} ({tz})".into(),
        downloads_on: "downloads on".into(),
        downloads_off: "downloads off".into(),
        views_limit: "up to {n} opens".into(),
        views_unlimited: "unlimited opens".into(),
        view_time: "each open lasts {duration}".into(),
        duration_hours: "{n} h".into(),
        duration_minutes: "{n} min".into(),
        duration_seconds: "{n} s".into(),
        share_do_not_forward: "Do not forward.".into(),
        reminder: "Reminder: {gallery}\nHello {audience}, {contents}. {until}\n{do_not_forward}".into(),
        reminder_images: "{n} images".into(),
    }
}

fn kit() -> OwnerKit {
    OwnerKit {
        locale: Locale::En,
        timezone: "Asia/Shanghai".into(),
        card: format!(
            "<link href=\"{}\"><h2>{}</h2>{}<p>{}</p><p>{}</p><p>{}</p>",
            placeholder(CSS), placeholder(LABEL), placeholder(QR), placeholder(URL),
            placeholder("expiry:en"), placeholder("expiry:zh-CN")
        ),
        share_kit: format!("Hello\n\n{}Bye\n", placeholder(LINKS)),
        share_link: format!(
            "* {}\n  {}\n  {}\n  {}\n  {}\n{}\n",
            placeholder(LABEL), placeholder(URL), placeholder(EXPIRY), placeholder(DOWNLOADS), placeholder(VIEWS), placeholder(VIEW_TIME)
        ),
        share_audience: format!("* {}: {} recipients, links in {}\n\n", placeholder(LABEL), placeholder(RECIPIENTS), placeholder(FILE)),
        wording: [(Locale::En, wording("en")), (Locale::ZhCn, wording("zh"))].into_iter().collect(),
    }
}

// 2026-12-31 end of day in Shanghai: 2027-01-01 00:00 +08:00.
const NEW_YEAR: i64 = 1_798_732_800;

fn terms(label: &str) -> LinkTerms {
    LinkTerms {
        label: label.into(),
        url: "https://g.example/s/tok?a=1&b=2".into(),
        opens: None,
        expiry: Some(ShownExpiry::at_instant(NEW_YEAR, 8 * 3600)),
        download: true,
        max_views: Some(20),
        view_seconds: Some(600),
    }
}

#[test]
fn the_card_escapes_every_value_but_the_qr_code() {
    let card = kit().card(&terms("<script>alert('x')</script> & co"), "<svg></svg>", "https://a.example/admin/owner.css?v=\"1\"").unwrap();
    assert!(card.contains("<h2>&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; co</h2>"), "{card}");
    assert!(card.contains("<svg></svg>"));
    assert!(card.contains("https://g.example/s/tok?a=1&amp;b=2"));
    assert!(card.contains("href=\"https://a.example/admin/owner.css?v=&quot;1&quot;\""));
}

#[test]
fn the_card_prints_the_expiry_in_every_language_as_the_last_minute_of_the_day() {
    let card = kit().card(&terms("Market"), "", "x.css").unwrap();
    assert!(card.contains("[en] until 31 Dec 2026 23:59 (Asia/Shanghai)"), "{card}");
    assert!(card.contains("[zh] until 31 Dec 2026 23:59 (Asia/Shanghai)"), "{card}");
    let open_ended = LinkTerms { expiry: None, ..terms("Market") };
    assert!(kit().card(&open_ended, "", "x.css").unwrap().contains("<p>[en] no expiry</p><p>[zh] no expiry</p>"));
}

#[test]
fn a_placeholder_inside_a_value_stays_text() {
    let card = kit().card(&terms("{{gf:url}}"), "", "x.css").unwrap();
    assert!(card.contains("<h2>{{gf:url}}</h2>"), "{card}");
    assert_eq!(fill("a {{gf:nope}} {{gf:x", |_| None), "a {{gf:nope}} {{gf:x");
}

#[test]
fn the_share_kit_lists_each_link_with_its_terms() {
    let exact = LinkTerms { expiry: Some(ShownExpiry { at: NEW_YEAR + 3600, utc_offset: 8 * 3600, end_of_day: false }), view_seconds: None, max_views: None, download: false, ..terms("B") };
    let text = kit().share_kit(&[terms("A & <b>"), exact]).unwrap();
    assert_eq!(
        text,
        "Hello\n\n\
         * A & <b>\n  https://g.example/s/tok?a=1&b=2\n  Valid until: 31 Dec 2026 23:59 (Asia/Shanghai)\n  downloads on\n  up to 20 opens\n  each open lasts 10 min\n\n\
         * B\n  https://g.example/s/tok?a=1&b=2\n  Valid until: 1 Jan 2027 01:00 (Asia/Shanghai)\n  downloads off\n  unlimited opens\n\n\
         Bye\n"
    );
}

#[test]
fn the_share_kit_names_each_audience_with_its_count_after_the_links() {
    let audience = AudienceTerms { label: "Dealers".into(), recipients: 200, file: "mail-merge/launch-a.csv".into() };
    let text = kit().share_kit_with_audiences(&[LinkTerms { view_seconds: None, ..terms("Team") }], &[audience]).unwrap();
    assert!(text.ends_with("  up to 20 opens\n\n* Dealers: 200 recipients, links in mail-merge/launch-a.csv\n\nBye\n"), "{text}");
}

fn recipient_gallery() -> (crate::manifest::Site, crate::manifest::Gallery) {
    use crate::manifest::{Gallery, Link, Recipient, Site};
    let site = Site {
        title: "S".into(),
        base_url: "https://g.example".into(),
        default_locale: Locale::En,
        timezone: "Asia/Shanghai".into(),
        ip_logging: crate::manifest::IpLogging::Truncated,
        utc_offsets: vec![(i64::MIN / 2, 8 * 3600)],
        dev_key: false,
        key_fingerprint: String::new(),
        analytics: Default::default(),
        digest_hour: crate::notify::DEFAULT_DIGEST_HOUR,
    };
    let link = |name: &str, label: &str, recipient: Option<Recipient>, expires: Option<crate::ResolvedExpiry>| Link {
        name: name.into(),
        label: label.into(),
        token: format!("tok-{}", name.replace('/', "-")),
        rotate: 0,
        policy: crate::LinkPolicy { expires, ..Default::default() },
        recipient,
        notify: None,
        mark: None,
    };
    let end_of_2026 = crate::ResolvedExpiry { written: crate::Expiry::parse("2026-12-31").unwrap(), at: NEW_YEAR };
    let links = [
        link("team", "Team", None, None),
        link("channel/dealer-001", "经销商 001", Some(Recipient { email: Some("a@d.example".into()), note: Some("上海, \"浦东\"".into()) }), Some(end_of_2026)),
        link("channel/dealer-002", "=HYPERLINK(\"x\")", Some(Recipient::default()), None),
    ];
    let gallery = Gallery {
        id: "launch-a".into(),
        title: "Launch".into(),
        images: vec![],
        links: links.into_iter().map(|l| (l.name.clone(), l)).collect(),
        audiences: [("channel".to_string(), crate::manifest::Audience { label: "Dealers".into(), recipients: 2, terms: Default::default() })].into_iter().collect(),
        notify: Vec::new(),
    };
    (site, gallery)
}

#[test]
fn the_mail_merge_file_has_one_quoted_row_per_recipient_for_excel() {
    let (site, gallery) = recipient_gallery();
    let csv = mail_merge_csv(&site, &gallery, |l| format!("qr/{}/{}.png", "launch-a", l.name));
    assert!(csv.starts_with(UTF8_BOM), "Excel needs the BOM to read Chinese");
    let lines: Vec<&str> = csv.trim_start_matches(UTF8_BOM).split("\r\n").collect();
    assert_eq!(lines[0], "\"recipient\",\"audience\",\"label\",\"email\",\"url\",\"qr_file\",\"expires\",\"note\"");
    assert_eq!(
        lines[1],
        "\"launch-a/channel/dealer-001\",\"channel\",\"经销商 001\",\"a@d.example\",\"https://g.example/s/tok-channel-dealer-001\",\"qr/launch-a/channel/dealer-001.png\",\"2026-12-31 23:59 (Asia/Shanghai)\",\"上海, \"\"浦东\"\"\""
    );
    assert!(lines[2].contains("\"'=HYPERLINK(\"\"x\"\")\""), "a formula-like label is defused: {}", lines[2]);
    assert_eq!(lines.len(), 4, "two recipients, the plain link left out, a final CRLF: {lines:?}");
    assert_eq!(lines[3], "");
}

#[test]
fn durations_read_in_the_largest_whole_unit() {
    let w = wording("en");
    assert_eq!(w.view_time(7200), "each open lasts 2 h");
    assert_eq!(w.view_time(90), "each open lasts 90 s");
}

#[test]
fn a_kit_must_word_every_language_and_a_bad_date_format_is_an_error() {
    let mut k = kit();
    k.wording.remove(&Locale::ZhCn);
    assert!(OwnerKit::from_json(&serde_json::to_string(&k).unwrap()).unwrap_err().contains("zh-CN"));
    assert!(OwnerKit::from_json(&serde_json::to_string(&kit()).unwrap()).is_ok());
    let mut w = wording("en");
    w.date_format = "%Q".into();
    assert!(w.date(&ShownExpiry::at_instant(NEW_YEAR, 0)).is_err());
}

#[test]
fn only_local_midnight_reads_as_the_end_of_the_day_before() {
    assert!(ShownExpiry::at_instant(NEW_YEAR, 8 * 3600).end_of_day);
    assert!(!ShownExpiry::at_instant(NEW_YEAR, 0).end_of_day);
}

#[test]
fn a_reminder_names_the_gallery_its_contents_and_the_expiry_and_keeps_a_label_as_text() {
    let k = kit();
    let r = ReminderTerms {
        gallery: "Spring".into(),
        audience: "Dealers {until}".into(),
        images: 12,
        download: true,
        expiry: Some(ShownExpiry { at: 1_798_732_800, utc_offset: 8 * 3600, end_of_day: true }),
    };
    let text = k.reminder(&r).unwrap();
    assert_eq!(text, "Reminder: Spring\nHello Dealers {until}, 12 images, downloads on. Valid until: 31 Dec 2026 23:59 (Asia/Shanghai)\nDo not forward.");
    let open_ended = k.reminder(&ReminderTerms { expiry: None, download: false, ..r }).unwrap();
    assert!(open_ended.contains("12 images, downloads off. Valid until: no expiry"), "{open_ended}");
}

#[test]
fn cards_and_share_kits_print_when_a_scheduled_link_opens() {
    let opens = ShownExpiry { at: NEW_YEAR - 14 * 3600, utc_offset: 8 * 3600, end_of_day: false };
    let scheduled = LinkTerms { opens: Some(opens), ..terms("Press") };
    let card = kit().card(&scheduled, "<svg></svg>", "x.css").unwrap();
    assert!(card.contains("Opens on"), "{card}");
    let text = kit().share_kit(&[scheduled]).unwrap();
    let (opens_at, until) = (text.find("Opens on").expect("opens line"), text.find("Valid until").expect("expiry line"));
    assert!(opens_at < until, "{text}");
    assert!(!kit().share_kit(&[terms("Open")]).unwrap().contains("Opens on"), "a link already open prints no opening");
}
