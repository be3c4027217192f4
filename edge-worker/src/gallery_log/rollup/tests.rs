use super::*;
use gatefold_contract::manifest::IpLogging;
use gatefold_contract::{LinkPolicy, Locale};

fn site(offsets: Vec<(i64, i32)>) -> Site {
    Site {
        title: "t".into(),
        base_url: "https://x.test".into(),
        default_locale: Locale::En,
        timezone: "Asia/Shanghai".into(),
        ip_logging: IpLogging::Truncated,
        utc_offsets: offsets,
        dev_key: true,
        key_fingerprint: String::new(),
        analytics: Default::default(),
        digest_hour: gatefold_contract::notify::DEFAULT_DIGEST_HOUR,
    }
}

/// The local hour number SQLite computes for an event at `ts_ms` ([`Query::local_hour_sql`]
/// with one offset).
fn local_hour(ts_ms: i64, offset: i32) -> i64 {
    (ts_ms / 1000 + i64::from(offset)) / 3600
}

/// Unix seconds of `hh:mm` UTC on day number `day`.
fn utc(day: i64, hh: i64, mm: i64) -> i64 {
    day * 86_400 + hh * 3600 + mm * 60
}

/// 2026-11-30, a Monday.
const NOV_30: i64 = 20_787;

/// Stats of `opens` (Unix seconds, count) in the window `[from, to)` of a site at `offset`.
fn stats_of(offset: i32, from: i64, to: i64, opens: &[(i64, u64)]) -> GalleryStats {
    let rows = opens.iter().map(|&(at, n)| HourRow { hour: local_hour(at * 1000, offset), n }).collect();
    let rollup = Rollup { local_hours: rows, ..Rollup::default() };
    let s = site(vec![(i64::MIN, offset)]);
    aggregate(&rollup, &Context { site: &s, gallery: &gallery(), from, to, link: None })
}

fn days(stats: &GalleryStats) -> Vec<(&str, u64)> {
    stats.opens_per_day.iter().map(|c| (c.key.as_str(), c.count)).collect()
}

#[test]
fn opens_late_in_the_utc_evening_land_on_the_next_local_morning() {
    // 2026-03-01 17:30 UTC is 2026-03-02 01:30 in Shanghai (+8).
    let q = Query { from_ms: 0, to_ms: i64::MAX, link: None, offsets: Query::offsets_for(&site(vec![(0, 8 * 3600)]), 0, i64::MAX) };
    assert_eq!(q.local_hour_sql(), "((ts / 1000 + (28800)) / 3600)");
    let local = local_time(&[HourRow { hour: local_hour(utc(20_513, 17, 30) * 1000, 8 * 3600), n: 3 }]);
    assert_eq!(local.per_day, BTreeMap::from([(20_514, 3)]));
    assert_eq!(date_of_day(20_514), "2026-03-02");
    assert_eq!(local.per_hour[1], 3);
    assert_eq!(local.per_hour.iter().sum::<u64>(), 3);
}

#[test]
fn a_sunday_evening_open_in_utc_is_a_monday_early_hour_in_shanghai() {
    // Sunday 2026-11-29 17:30 UTC is Monday 2026-11-30 01:30 in Shanghai.
    let week = (utc(NOV_30 - 6, 0, 0) - 8 * 3600, utc(NOV_30 + 1, 0, 0) - 8 * 3600);
    let stats = stats_of(8 * 3600, week.0, week.1, &[(utc(NOV_30 - 1, 17, 30), 3), (utc(NOV_30 - 1, 17, 59), 1), (utc(NOV_30 - 1, 15, 59), 2)]);
    assert_eq!(stats.opens_by_weekday_hour.len(), 7);
    assert!(stats.opens_by_weekday_hour.iter().all(|row| row.len() == 24));
    assert_eq!(stats.opens_by_weekday_hour[0][1], 4, "Monday 01:00–01:59");
    assert_eq!(stats.opens_by_weekday_hour[6][23], 2, "Sunday 23:00–23:59");
    assert_eq!(stats.opens_by_weekday_hour.iter().flatten().sum::<u64>(), 6);
    assert_eq!(stats.opens_per_hour[1], 4);
    assert_eq!(&days(&stats)[5..], &[("2026-11-29", 2), ("2026-11-30", 4)]);
}

#[test]
fn a_monday_morning_open_in_utc_is_a_sunday_evening_in_new_york() {
    // Monday 2026-11-30 03:00 UTC is Sunday 2026-11-29 22:00 at UTC-5.
    let day = (utc(NOV_30 - 1, 0, 0) + 5 * 3600, utc(NOV_30 + 1, 0, 0) + 5 * 3600);
    let stats = stats_of(-5 * 3600, day.0, day.1, &[(utc(NOV_30, 3, 0), 7)]);
    assert_eq!(stats.opens_by_weekday_hour[6][22], 7);
    assert_eq!(stats.opens_by_weekday_hour[0].iter().sum::<u64>(), 0);
    assert_eq!(days(&stats), vec![("2026-11-29", 7), ("2026-11-30", 0)]);
}

#[test]
fn every_day_of_the_window_is_in_the_series_with_zeros_at_both_edges() {
    let week = (utc(NOV_30 - 6, 0, 0) - 8 * 3600, utc(NOV_30 + 1, 0, 0) - 8 * 3600);
    let stats = stats_of(8 * 3600, week.0, week.1, &[(utc(NOV_30 - 4, 2, 0), 2), (utc(NOV_30 - 2, 9, 0), 1)]);
    assert_eq!(
        days(&stats),
        vec![("2026-11-24", 0), ("2026-11-25", 0), ("2026-11-26", 2), ("2026-11-27", 0), ("2026-11-28", 1), ("2026-11-29", 0), ("2026-11-30", 0)]
    );
}

#[test]
fn a_one_day_window_is_one_day_even_without_opens() {
    let stats = stats_of(8 * 3600, utc(NOV_30, 0, 0) - 8 * 3600, utc(NOV_30 + 1, 0, 0) - 8 * 3600, &[]);
    assert_eq!(days(&stats), vec![("2026-11-30", 0)]);
}

#[test]
fn a_window_from_the_beginning_starts_at_the_first_day_with_opens_and_ends_today() {
    let now = utc(NOV_30, 6, 0);
    let stats = stats_of(8 * 3600, 0, now + 1, &[(utc(NOV_30 - 2, 1, 0), 5)]);
    assert_eq!(days(&stats), vec![("2026-11-28", 5), ("2026-11-29", 0), ("2026-11-30", 0)]);
    assert!(stats_of(8 * 3600, 0, now + 1, &[]).opens_per_day.is_empty(), "no opens ever: nothing to draw");
}

#[test]
fn a_window_ending_far_off_stops_after_the_last_day_with_opens_padded_to_the_maximum() {
    let far = utc(NOV_30 + 3 * MAX_SERIES_DAYS, 0, 0);
    let stats = stats_of(0, utc(NOV_30, 0, 0), far, &[(utc(NOV_30, 1, 0), 1), (utc(NOV_30 + MAX_SERIES_DAYS + 9, 1, 0), 2)]);
    assert_eq!(stats.opens_per_day.len() as i64, MAX_SERIES_DAYS + 10, "no day with opens is left out");
    assert_eq!(stats.opens_per_day.iter().map(|c| c.count).sum::<u64>(), 3);
    let padded = stats_of(0, utc(NOV_30, 0, 0), far, &[(utc(NOV_30, 1, 0), 1)]);
    assert_eq!(padded.opens_per_day.len() as i64, MAX_SERIES_DAYS);
}

#[test]
fn a_dst_change_inside_the_window_becomes_a_case_branch() {
    let s = site(vec![(0, 3600), (1_000_000, 7200), (5_000_000, 3600)]);
    let q = Query { from_ms: 500_000_000, to_ms: 2_000_000_000, link: None, offsets: Query::offsets_for(&s, 500_000_000, 2_000_000_000) };
    assert_eq!(q.offsets, vec![(i64::MIN, 3600), (1_000_000, 7200)]);
    assert_eq!(q.local_hour_sql(), "((ts / 1000 + (CASE WHEN ts < 1000000000 THEN 3600 ELSE 7200 END)) / 3600)");
}

#[test]
fn combined_dimension_rows_add_up_per_dimension() {
    let row = |country: &str, device: &str, n| DimRow {
        country: Some(country.into()),
        city: None,
        device: Some(device.into()),
        os: None,
        browser: None,
        referrer: None,
        n,
    };
    let mut r = Rollup::default();
    split_dims(vec![row("JP", "mobile", 2), row("JP", "desktop", 3), row("CN", "mobile", 1)], &mut r);
    assert_eq!(ranked_values(&r.devices), vec![Count { key: "desktop".into(), count: 3 }, Count { key: "mobile".into(), count: 3 }]);
    assert_eq!(r.places.iter().filter(|p| p.country.as_deref() == Some("JP")).map(|p| p.n).sum::<u64>(), 5);
}

#[test]
fn referrers_reduce_to_their_host() {
    assert_eq!(referrer_host(None), "(direct)");
    assert_eq!(referrer_host(Some("")), "(direct)");
    assert_eq!(referrer_host(Some("https://Mail.Example.com:8443/inbox?id=7")), "mail.example.com");
    assert_eq!(referrer_host(Some("https://user:pw@weixin.qq.com/")), "weixin.qq.com");
    assert_eq!(referrer_host(Some("android-app://com.tencent.mm")), "com.tencent.mm");
}

fn gallery() -> Gallery {
    let link = |name: &str| gatefold_contract::manifest::Link {
        name: name.into(),
        label: format!("{name} label"),
        token: "t".repeat(26),
        rotate: 0,
        policy: LinkPolicy::default(),
        recipient: None,
        notify: None,
        mark: None,
    };
    Gallery {
        id: "spring".into(),
        title: "Spring".into(),
        images: Vec::new(),
        links: [("market".to_string(), link("market")), ("sales".to_string(), link("sales"))].into_iter().collect(),
        audiences: Default::default(),
        notify: Vec::new(),
    }
}

#[test]
fn totals_split_admitted_from_denied_and_list_links_never_opened() {
    let row = |link: &str, kind: &str, outcome: &str, n| LinkKindRow {
        link: link.into(),
        kind: serde_json::from_value(serde_json::Value::String(kind.into())).unwrap(),
        outcome: outcome.into(),
        n,
    };
    let rollup = Rollup {
        by_link: vec![
            row("market", "open", "admitted", 5),
            row("market", "open", "view_limit_reached", 2),
            row("sales", "open", "link_disabled", 1),
            row("market", "download", "admitted", 3),
            row("market", "download", "download_disabled", 4),
            row("market", "image_view", "admitted", 7),
            row("market", "preview", "admitted", 2),
        ],
        unique_visitors: 4,
        places: vec![
            PlaceRow { country: Some("JP".into()), city: Some("Tokyo".into()), n: 3 },
            PlaceRow { country: None, city: None, n: 2 },
        ],
        ..Rollup::default()
    };
    let g = gallery();
    let s = site(vec![(0, 0)]);
    let rollup = Rollup { activity: vec![LinkActivity { link: "market".into(), opens: 9, downloads: 0, first_ms: Some(50_000), last_ms: Some(99_000) }], ..rollup };
    let stats = aggregate(&rollup, &Context { site: &s, gallery: &g, from: 0, to: 100, link: None });
    assert_eq!(stats.totals.opens_admitted, 5);
    assert_eq!(stats.totals.opens_denied, 3);
    assert_eq!(stats.totals.downloads, 3);
    assert_eq!(stats.totals.image_views, 7);
    assert_eq!(stats.totals.previews, 2);
    assert_eq!(stats.totals.unique_visitors, 4);
    assert_eq!(
        stats.totals.denied_by_reason,
        BTreeMap::from([("download_disabled".into(), 4), ("link_disabled".into(), 1), ("view_limit_reached".into(), 2)])
    );
    assert_eq!(stats.never_opened, vec!["sales".to_string()]);
    assert_eq!(stats.links[0].opens_admitted, 5);
    assert_eq!((stats.links[0].first_open, stats.links[0].last_open), (Some(50), Some(99)));
    assert_eq!((stats.links[0].audience.as_deref(), stats.links[0].activity), (None, None), "not a recipient");
    assert!(stats.audiences.is_empty());
    assert_eq!(stats.links[1].opens_denied, 1);
    assert_eq!(stats.countries, vec![Count { key: "JP".into(), count: 3 }, Count { key: "unknown".into(), count: 2 }]);
    assert_eq!(stats.cities, vec![Count { key: "Tokyo, JP".into(), count: 3 }]);
}

#[test]
fn recipients_are_grouped_under_their_audience_by_what_they_did() {
    let mut g = gallery();
    for r in ["dealer-001", "dealer-002", "dealer-003", "dealer-004"] {
        let name = format!("channel/{r}");
        let link = gatefold_contract::manifest::Link { name: name.clone(), label: r.to_uppercase(), token: r.into(), rotate: 0, policy: LinkPolicy::default(), recipient: None, notify: None, mark: None };
        g.links.insert(name, link);
    }
    g.audiences.insert("channel".into(), gatefold_contract::manifest::Audience { label: "渠道伙伴".into(), recipients: 4, terms: Default::default() });
    g.audiences.insert("press".into(), gatefold_contract::manifest::Audience { label: "Press".into(), recipients: 0, terms: Default::default() });
    let did = |link: &str, opens, downloads| LinkActivity { link: link.into(), opens, downloads, first_ms: (opens > 0).then_some(1_000), last_ms: (opens > 0).then_some(2_000) };
    let rollup = Rollup { activity: vec![did("channel/dealer-001", 2, 0), did("channel/dealer-002", 1, 3), did("market", 5, 5)], ..Rollup::default() };
    let s = site(vec![(0, 0)]);
    let stats = aggregate(&rollup, &Context { site: &s, gallery: &g, from: 0, to: 100, link: None });
    assert_eq!(
        stats.audiences,
        vec![
            AudienceStats { name: "channel".into(), label: "渠道伙伴".into(), recipients: 4, opened: 2, downloaded: 1, neither: 2 },
            AudienceStats { name: "press".into(), label: "Press".into(), ..AudienceStats::default() },
        ]
    );
    let by_name = |n: &str| stats.links.iter().find(|l| l.name == n).unwrap().clone();
    let one = by_name("channel/dealer-001");
    assert_eq!((one.audience.as_deref(), one.recipient.as_deref(), one.activity), (Some("channel"), Some("dealer-001"), Some(Activity::Opened)));
    assert_eq!((one.first_open, one.last_open), (Some(1), Some(2)));
    assert_eq!(by_name("channel/dealer-002").activity, Some(Activity::Downloaded));
    assert_eq!(by_name("channel/dealer-003").activity, Some(Activity::Neither));
    let only = aggregate(&rollup, &Context { site: &s, gallery: &g, from: 0, to: 100, link: Some("channel/dealer-002") });
    assert_eq!((only.links.len(), only.audiences.len()), (1, 1), "one recipient's stats keep its audience");
    assert!(aggregate(&rollup, &Context { site: &s, gallery: &g, from: 0, to: 100, link: Some("market") }).audiences.is_empty());
}

#[test]
fn a_zip_of_all_originals_counts_as_a_download_of_each_image() {
    let mut g = gallery();
    let image = |id: &str| -> gatefold_contract::manifest::Image {
        serde_json::from_value(serde_json::json!({
            "id": id, "file_name": format!("{id}.jpg"), "caption": null, "alt": id, "width": 1, "height": 1,
            "animated": false, "variants": [],
            "original": {"key": format!("o/{id}"), "size": 1, "content_type": "image/jpeg", "crc32": 0}
        }))
        .unwrap()
    };
    g.images = vec![image("a"), image("b"), image("c")];
    let row = |kind: EventKind, outcome: &str, n| LinkKindRow { link: "market".into(), kind, outcome: outcome.into(), n };
    let rollup = Rollup {
        by_link: vec![row(EventKind::DownloadAll, ADMITTED, 2), row(EventKind::DownloadAll, "download_disabled", 5), row(EventKind::Download, ADMITTED, 1)],
        images: vec![ImageRow { image: Some("a".into()), kind: EventKind::Download, n: 1 }],
        ..Rollup::default()
    };
    let s = site(vec![(0, 0)]);
    let stats = aggregate(&rollup, &Context { site: &s, gallery: &g, from: 0, to: 100, link: None });
    assert_eq!(stats.totals.downloads, 2 * 3 + 1);
    assert_eq!(stats.links[0].downloads, 7);
    let per_image: Vec<u64> = stats.images.iter().map(|i| i.downloads).collect();
    assert_eq!(per_image, vec![3, 2, 2]);
    assert_eq!(stats.totals.denied_by_reason.get("download_disabled"), Some(&5));
}
