//! Plans of hand-built manifests: what recipients are told for each kind of change.

use gatefold_contract::policy::Downloads;
use super::*;
use gatefold_contract::Expiry;
use gatefold_contract::manifest::{IpLogging, Link, Original, Site};
use gatefold_contract::{Locale, SigningKey};
use std::collections::BTreeMap;

// 2026-12-05T16:00:00Z = 2026-12-06 00:00 in Shanghai: a date-only expiry of 2026-12-05.
const END_OF_DEC_5_SHANGHAI: i64 = 1_796_486_400;

fn key() -> SigningKey {
    SigningKey::from_secret("plan tests: a secret long enough for tokens")
}

fn link(gallery: &str, name: &str, rotate: u32, policy: LinkPolicy) -> Link {
    Link { name: name.into(), label: format!("{name} team"), token: key().link_token(gallery, name, rotate), rotate, policy, recipient: None, notify: None, mark: None }
}

fn image(id: &str, content: &str) -> Image {
    Image {
        id: id.into(),
        file_name: format!("{id}.jpg"),
        caption: Some(format!("{id} caption")),
        alt: format!("{id} alt"),
        width: 1600,
        height: 900,
        animated: false,
        variants: Vec::new(),
        original: Original { key: format!("originals/launch/{content}.jpg"), size: 1000, content_type: gatefold_contract::MediaType::Jpeg, crc32: 0, marked: None },
    }
}

fn market() -> LinkPolicy {
    LinkPolicy { max_views: Some(100), expires: Some(ResolvedExpiry { written: Expiry::parse("2026-12-05").unwrap(), at: END_OF_DEC_5_SHANGHAI }), download: Downloads::NONE, view_seconds: None, disabled: false, password: false, terms_fingerprint: None, opens_at: None, devices: None }
}

fn manifest(links: Vec<Link>, images: Vec<Image>) -> Manifest {
    let gallery = Gallery {
        id: "launch".into(),
        title: "Aurora X1 launch".into(),
        images,
        links: links.into_iter().map(|l| (l.name.clone(), l)).collect(),
        audiences: Default::default(),
        notify: Vec::new(),
    };
    Manifest {
        format: gatefold_contract::manifest::FORMAT,
        site: Site {
            title: "Aurora".into(),
            base_url: "https://images.example.com".into(),
            default_locale: Locale::ZhCn,
            timezone: "Asia/Shanghai".into(),
            ip_logging: IpLogging::Truncated,
            utc_offsets: vec![(0, 8 * 3600)],
            dev_key: false,
            key_fingerprint: String::new(),
            analytics: Default::default(),
            digest_hour: gatefold_contract::notify::DEFAULT_DIGEST_HOUR,
        },
        galleries: BTreeMap::from([("launch".to_string(), gallery)]),
    }
}

fn base() -> Manifest {
    manifest(vec![link("launch", "market", 0, market()), link("launch", "sales", 0, LinkPolicy::default())], vec![image("hero", "aaaa"), image("side", "bbbb")])
}

#[test]
fn identical_manifests_change_nothing_and_keep_every_url() {
    let plan = diff(&base(), &base());
    assert!(plan.is_empty());
    assert_eq!((plan.urls_kept, plan.urls_changed, plan.links_total), (2, 0, 2));
    assert_eq!(plan.headline(), "No changes for recipients.");
    assert_eq!(plan.url_statement(), "All 2 existing links keep their URLs.");
}

#[test]
fn a_policy_change_is_reported_old_to_new_in_the_site_timezone() {
    let mut new = base();
    let g = new.galleries.get_mut("launch").unwrap();
    let m = g.links.get_mut("market").unwrap();
    m.policy.max_views = Some(200);
    m.policy.expires = Some(ResolvedExpiry::at_instant(END_OF_DEC_5_SHANGHAI + 15 * 86_400 + 3600));
    m.policy.download = Downloads::ORIGINAL;
    m.policy.view_seconds = Some(600);
    let plan = diff(&base(), &new);
    let l = &plan.galleries[0].links[0];
    assert_eq!((l.name.as_str(), l.change, l.url_changed), ("market", Change::Changed, false));
    let fields: Vec<(&str, &str, &str)> = l.fields.iter().map(|f| (f.field.as_str(), f.old.as_str(), f.new.as_str())).collect();
    assert_eq!(
        fields,
        vec![
            ("max_views", "100", "200"),
            ("expires", "end of 2026-12-05 (Asia/Shanghai)", "2026-12-21 01:00 (Asia/Shanghai)"),
            ("download", "not allowed", "originals"),
            ("view_seconds", "no limit", "10 min"),
        ]
    );
    assert_eq!(plan.urls_kept, 2);
    assert_eq!(plan.headline(), "1 link with policy changes.");
}

#[test]
fn bumping_rotate_flags_the_link_whose_old_url_stops_working() {
    let new = manifest(vec![link("launch", "market", 1, market()), link("launch", "sales", 0, LinkPolicy::default())], base().galleries["launch"].images.clone());
    let plan = diff(&base(), &new);
    assert_eq!((plan.urls_kept, plan.urls_changed), (1, 1));
    let l = &plan.galleries[0].links[0];
    assert!(l.url_changed);
    assert_ne!(l.old_url, l.new_url);
    assert_eq!(l.fields, vec![FieldChange { field: "rotate".into(), old: "0".into(), new: "1".into() }]);
    assert!(plan.url_statement().starts_with("WARNING: 1 existing link gets a new URL; the old URL stops working"), "{}", plan.url_statement());
    assert!(plan.to_markdown().contains("NEW URL: the old URL stops working"));
}

#[test]
fn links_added_and_removed_are_listed_with_the_new_links_policy() {
    let new = manifest(vec![link("launch", "market", 0, market()), link("launch", "press", 0, LinkPolicy { max_views: Some(30), download: Downloads::ORIGINAL, ..LinkPolicy::default() })], base().galleries["launch"].images.clone());
    let plan = diff(&base(), &new);
    let links: Vec<(&str, Change)> = plan.galleries[0].links.iter().map(|l| (l.name.as_str(), l.change)).collect();
    assert_eq!(links, vec![("press", Change::Added), ("sales", Change::Removed)]);
    let press = &plan.galleries[0].links[0];
    assert!(press.fields.iter().any(|f| f.field == "max_views" && f.new == "30"));
    assert!(plan.to_text().contains("link sales (sales team): removed: its URL answers \"not found\""), "{}", plan.to_text());
    assert_eq!(plan.urls_kept, 1);
}

#[test]
fn images_are_added_replaced_removed_and_re_captioned_by_id() {
    let mut hero = image("hero", "cccc");
    hero.caption = Some("New front view".into());
    let new = manifest(base().galleries["launch"].links.values().cloned().collect(), vec![hero, image("detail", "dddd")]);
    let plan = diff(&base(), &new);
    let images: Vec<(&str, Change, bool)> = plan.galleries[0].images.iter().map(|i| (i.id.as_str(), i.change, i.replaced)).collect();
    assert_eq!(images, vec![("hero", Change::Changed, true), ("detail", Change::Added, false), ("side", Change::Removed, false)]);
    assert_eq!(plan.galleries[0].images[0].fields, vec![FieldChange { field: "caption".into(), old: "hero caption".into(), new: "New front view".into() }]);
    assert_eq!(plan.urls_changed, 0, "replacing images never changes a URL");
    assert_eq!(plan.headline(), "1 image added, 1 image replaced, 1 image removed, 1 caption/alt change.");
}

#[test]
fn a_new_order_of_the_same_images_is_noticed() {
    let mut new = base();
    new.galleries.get_mut("launch").unwrap().images.reverse();
    let plan = diff(&base(), &new);
    assert!(plan.galleries[0].reordered);
    assert_eq!(plan.headline(), "Only the order of images changes.");
}

#[test]
fn a_removed_gallery_lists_every_link_that_stops_working() {
    let mut new = base();
    new.galleries.clear();
    let plan = diff(&base(), &new);
    assert_eq!(plan.galleries[0].change, Change::Removed);
    assert_eq!(plan.galleries[0].links.len(), 2);
    assert!(plan.galleries[0].links.iter().all(|l| l.change == Change::Removed && l.old_url.is_some()));
    assert_eq!(plan.url_statement(), "No link that exists today is affected.");
}

#[test]
fn a_new_base_url_changes_every_url() {
    let mut new = base();
    new.site.base_url = "https://gallery.example.com".into();
    let plan = diff(&base(), &new);
    assert_eq!((plan.urls_kept, plan.urls_changed), (0, 2));
    assert_eq!(plan.site[0].field, "base URL (every link URL)");
}

#[test]
fn redacted_plans_never_contain_a_whole_token() {
    let new = manifest(vec![link("launch", "market", 1, market())], Vec::new());
    let plan = diff(&base(), &new).redacted();
    let all = format!("{}{}{}", plan.to_markdown(), plan.to_text(), serde_json::to_string(&plan).unwrap());
    for l in base().galleries["launch"].links.values().chain(new.galleries["launch"].links.values()) {
        assert!(!all.contains(&l.token), "token of {} leaked", l.name);
        assert!(all.contains(&l.token[..6]));
    }
}

#[test]
fn markdown_escapes_what_the_yaml_author_wrote() {
    let mut hero = image("hero", "aaaa");
    hero.caption = Some("a | b <script>".into());
    hero.alt = "new alt".into();
    let new = manifest(base().galleries["launch"].links.values().cloned().collect(), vec![hero, image("side", "bbbb")]);
    let md = diff(&base(), &new).to_markdown();
    assert!(md.contains("a \\| b &lt;script&gt;"), "{md}");
    assert!(md.contains("caption: \"hero caption\" → \"a \\| b &lt;script&gt;\"<br>alt: "), "several changes in one cell are separated by a real <br>: {md}");
}

/// `base()` with audience `channel` of dealers `first..=last` (max 20 views each).
fn with_dealers(range: std::ops::RangeInclusive<u32>, max_views: u32) -> Manifest {
    let mut m = base();
    let g = m.galleries.get_mut("launch").unwrap();
    for i in range.clone() {
        let name = gatefold_contract::manifest::link_name(Some("channel"), &format!("dealer-{i:03}"));
        g.links.insert(name.clone(), Link { recipient: Some(Default::default()), ..link("launch", &name, 0, LinkPolicy { max_views: Some(max_views), ..LinkPolicy::default() }) });
    }
    g.audiences.insert("channel".into(), gatefold_contract::manifest::Audience { label: "渠道伙伴".into(), recipients: range.count() as u32, terms: LinkPolicy { max_views: Some(max_views), ..LinkPolicy::default() } });
    m
}

#[test]
fn recipients_added_and_removed_are_named_per_audience_and_the_unchanged_only_counted() {
    let plan = diff(&with_dealers(1..=500, 20), &with_dealers(3..=502, 20));
    let g = &plan.galleries[0];
    assert!(g.links.is_empty(), "recipients are not listed as links: {:?}", g.links);
    let a = &g.audiences[0];
    assert_eq!((a.name.as_str(), a.change), ("channel", Change::Changed));
    assert_eq!(a.added, ["dealer-501", "dealer-502"]);
    assert_eq!(a.removed, ["dealer-001", "dealer-002"]);
    assert_eq!((a.unchanged, a.new_urls), (498, 0));
    assert_eq!(plan.headline(), "2 recipients added, 2 recipients removed.");
    let text = plan.to_text();
    assert!(text.contains("  audience channel (渠道伙伴): 2 added, 2 removed, 498 unchanged\n      added: dealer-501, dealer-502\n"), "{text}");
    assert!(!text.contains("dealer-003"), "no unchanged recipient is listed: {text}");
    assert!(plan.to_markdown().contains("| `@channel` (渠道伙伴) | 2 added, 2 removed, 498 unchanged |"), "{}", plan.to_markdown());
}

#[test]
fn a_policy_change_of_an_audience_is_one_line_with_its_recipient_count() {
    let plan = diff(&with_dealers(1..=300, 20), &with_dealers(1..=300, 30));
    let a = &plan.galleries[0].audiences[0];
    assert_eq!(a.changes, [SharedChange { field: "max_views".into(), old: "20".into(), new: "30".into(), recipients: 300 }]);
    assert!(plan.to_text().contains("300 changed, 0 unchanged\n      max_views: 20 → 30 (300 recipients)\n"), "{}", plan.to_text());
    assert_eq!(plan.headline(), "1 audience with changes.");
}

#[test]
fn a_new_audience_names_its_recipients_and_their_policy_once() {
    let plan = diff(&base(), &with_dealers(1..=3, 20));
    let a = &plan.galleries[0].audiences[0];
    assert_eq!((a.change, a.added.len(), a.unchanged), (Change::Added, 3, 0));
    let text = plan.to_text();
    assert!(text.contains("audience channel (渠道伙伴): new audience, 3 recipients\n      added: dealer-001, dealer-002, dealer-003\n      disabled: no (3 recipients)\n      download: not allowed (3 recipients)\n"), "{text}");
}

#[test]
fn scheduled_go_lives_are_listed_by_moment_with_their_links_and_an_opening_change_is_a_policy_change() {
    let opens = ResolvedExpiry { written: Expiry::parse("2026-12-01 10:00").unwrap(), at: END_OF_DEC_5_SHANGHAI - 4 * 86_400 - 14 * 3600 };
    let scheduled = LinkPolicy { opens_at: Some(opens), ..market() };
    let new = manifest(vec![link("launch", "market", 0, scheduled.clone()), link("launch", "sales", 0, scheduled)], base().galleries["launch"].images.clone());
    let plan = diff(&base(), &new);
    assert_eq!(plan.go_lives.len(), 1);
    assert_eq!(plan.go_lives[0].links, ["market", "sales"]);
    assert_eq!(plan.go_lives[0].when, "2026-12-01 10:00 (Asia/Shanghai)");
    assert!(plan.to_text().contains("scheduled go-lives (opens_at):\n  2026-12-01 10:00 (Asia/Shanghai) launch: 2 links: market, sales"), "{}", plan.to_text());
    assert!(plan.to_markdown().contains("### Scheduled go-lives"));
    let market = plan.galleries[0].links.iter().find(|l| l.name == "market").expect("market changed");
    assert!(market.fields.iter().any(|f| f.field == "opens_at" && f.old == "at publish" && f.new.starts_with("2026-12-01 10:00")), "{:?}", market.fields);
}

#[test]
fn marking_a_link_is_a_change_the_plan_names() {
    let mut new = base();
    let mark = gatefold_contract::manifest::LinkMark { key_id: key().mark_key().id().to_string(), stamp: Some("0123456789abcdef".into()), originals: true };
    new.galleries.get_mut("launch").unwrap().links.get_mut("sales").unwrap().mark = Some(mark.clone());
    let plan = diff(&base(), &new);
    let l = &plan.galleries[0].links[0];
    assert_eq!((l.name.as_str(), l.change, l.url_changed), ("sales", Change::Changed, false));
    let f = &l.fields[0];
    assert_eq!((f.field.as_str(), f.old.as_str()), ("mark", "none"));
    assert_eq!(f.new, format!("forensic (key {}) + stamp 0123456789abcdef + originals", mark.key_id));
    assert!(diff(&new, &new).is_empty(), "an unchanged mark is no change");
}
