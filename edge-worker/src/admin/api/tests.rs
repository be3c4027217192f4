use super::*;
use gatefold_contract::manifest::IpLogging;
use gatefold_contract::policy::Against;
use gatefold_contract::{LinkPolicy, LinkState, Locale, Overrides};

pub(crate) fn shanghai() -> Site {
    Site {
        title: "t".into(),
        base_url: "https://g.example/".into(),
        default_locale: Locale::ZhCn,
        timezone: "Asia/Shanghai".into(),
        ip_logging: IpLogging::Truncated,
        utc_offsets: vec![(i64::MIN, 8 * 3600)],
        dev_key: false,
        key_fingerprint: String::new(),
        analytics: Default::default(),
        digest_hour: gatefold_contract::notify::DEFAULT_DIGEST_HOUR,
    }
}

#[test]
fn routes_match_exactly_with_their_verbs() {
    assert_eq!(route("GET", "links"), Ok(ApiRoute::Links));
    assert_eq!(route("POST", "links/spring/market/disable"), Ok(ApiRoute::Disable { gallery: "spring", link: "market" }));
    assert_eq!(route("PATCH", "links/spring/market"), Ok(ApiRoute::Patch { gallery: "spring", link: "market" }));
    assert_eq!(route("POST", "links/spring/market/revoke"), Ok(ApiRoute::Revoke { gallery: "spring", link: "market" }));
    assert_eq!(route("POST", "galleries/spring/disable"), Ok(ApiRoute::DisableGallery { gallery: "spring" }));
    assert_eq!(route("GET", "galleries/spring/enable").unwrap_err().status, 405);
    assert_eq!(route("GET", "galleries/spring/export.xlsx"), Ok(ApiRoute::ExportXlsx { gallery: "spring" }));
    assert_eq!(route("GET", "links/spring/market/disable").unwrap_err().status, 405);
    assert_eq!(route("POST", "links/spring/market/x/delete").unwrap_err().status, 404);
    // Read with PATCH's eyes it is recipient `market/delete`: the method is what is wrong.
    assert_eq!(route("POST", "links/spring/market/delete").unwrap_err().status, 405);
    assert_eq!(route("GET", "links/").unwrap_err().status, 404);
    assert_eq!(route("PUT", "links/spring/market/password"), Ok(ApiRoute::SetPassword { gallery: "spring", link: "market" }));
    assert_eq!(route("DELETE", "links/spring/market/password"), Ok(ApiRoute::ClearPassword { gallery: "spring", link: "market" }));
    assert_eq!(route("GET", "links/spring/market/password").unwrap_err().status, 405, "a password is never read back");
    assert_eq!(route("POST", "links/spring/market/password").unwrap_err().status, 405);
}

fn launch() -> Gallery {
    let at = |day: i64| gatefold_contract::ResolvedExpiry { written: Expiry::EndOfDay(NaiveDate::from_ymd_opt(2026, 12, 1).unwrap()), at: day };
    let link = |name: &str, expires: Option<i64>, max_views: Option<u32>| {
        let policy = LinkPolicy { expires: expires.map(at), max_views, ..LinkPolicy::default() };
        (name.to_string(), Link { name: name.into(), label: name.into(), token: format!("t-{name}"), rotate: 0, policy, recipient: None, notify: None, mark: None })
    };
    let links: std::collections::BTreeMap<String, Link> =
        [link("channel/d1", Some(100), Some(20)), link("channel/d2", Some(300), Some(2)), link("press/x", None, Some(5)), link("team", Some(900), Some(99))].into_iter().collect();
    // The terms the generator writes into the record: the widest of each audience's recipients,
    // and their fingerprint.
    let audience = |name: &str, label: &str| {
        let recipients = links.values().filter(|l| l.audience() == Some(name)).map(|l| &l.policy);
        let terms = gatefold_contract::policy::audience_terms(&LinkPolicy::default(), recipients);
        (name.to_string(), gatefold_contract::manifest::Audience { label: label.into(), recipients: links.values().filter(|l| l.audience() == Some(name)).count() as u32, terms })
    };
    let audiences = [audience("channel", "渠道伙伴"), audience("press", "Press")];
    Gallery { id: "launch-a".into(), title: "Launch".into(), images: vec![], links, audiences: audiences.into_iter().collect(), notify: Vec::new() }
}

#[test]
fn an_audiences_extension_made_against_terms_a_publish_moved_has_lapsed_for_its_row_and_its_recipients() {
    let s = shanghai();
    let g = launch();
    // Extended under terms a publish has moved since (another fingerprint), though their widest
    // expiry is 300 still.
    let against = |fingerprint: Option<String>| Some(Against { published: Some(300), fingerprint });
    let stale = Status { overrides: Overrides { expires_at: Some(5_000), expires_against: against(Some("an earlier publish".into())), ..Overrides::default() }, ..Status::default() };
    let row = audience_status(&g, "channel", stale.clone(), &Status::default(), &[]).unwrap();
    assert_eq!(row.overrides.expires_at, None);
    assert!(row.notices.iter().any(|n| n.contains("runtime expiry lapsed")), "{:?}", row.notices);
    let st = link_status(&s, &g, &g.links["channel/d2"], Status::default(), &[stale, Status::default()], 400);
    assert_eq!((st.state, st.expires_at, st.audience_overrides.expires_at), (LinkState::Expired, Some(300), None));
    assert!(st.notices.iter().any(|n| n == "audience launch-a/channel: the runtime expiry lapsed: a publish changed the published terms it was made against"), "{:?}", st.notices);
    // Made against the terms still published: it holds for the row and every recipient.
    let published = g.audiences["channel"].terms.terms_fingerprint.clone();
    let current = Status { overrides: Overrides { expires_at: Some(5_000), expires_against: against(published), ..Overrides::default() }, ..Status::default() };
    assert_eq!(audience_status(&g, "channel", current.clone(), &Status::default(), &[]).unwrap().overrides.expires_at, Some(5_000));
    let st = link_status(&s, &g, &g.links["channel/d1"], Status::default(), &[current, Status::default()], 400);
    assert_eq!((st.state, st.expires_at), (LinkState::Active, Some(5_000)));
}

#[test]
fn an_audience_row_counts_its_recipients_and_shows_its_own_and_its_gallerys_disable() {
    let g = launch();
    let did = |link: &str, opens, downloads| rollup::LinkActivity { link: link.into(), opens, downloads, first_ms: None, last_ms: None };
    let activity = [did("channel/d1", 1, 1), did("team", 4, 0)];
    let row = audience_status(&g, "channel", Status::default(), &Status::default(), &activity).unwrap();
    assert_eq!((row.label.as_str(), row.recipients, row.opened, row.downloaded, row.disabled), ("渠道伙伴", 2, 1, 1, false));
    let gallery_off = Status { overrides: Overrides { disabled: Some(true), ..Overrides::default() }, ..Status::default() };
    assert!(audience_status(&g, "channel", Status::default(), &gallery_off, &activity).unwrap().disabled);
    assert!(audience_status(&g, "nobody", Status::default(), &Status::default(), &activity).is_none());
}

#[test]
fn a_recipient_status_folds_in_its_audience_and_sums_the_session_epochs() {
    let s = shanghai();
    let g = launch();
    let link = &g.links["channel/d2"];
    let raised = Some(Against { published: Some(20), fingerprint: g.audiences["channel"].terms.terms_fingerprint.clone() });
    let audience = Status { overrides: Overrides { disabled: Some(true), max_views: Some(50), max_views_against: raised, ..Overrides::default() }, session_epoch: 2, ..Status::default() };
    let own = Status { views: 1, session_epoch: 3, ..Status::default() };
    let st = link_status(&s, &g, link, own, &[audience, Status::default()], 10);
    assert_eq!((st.state, st.max_views, st.session_epoch, st.audience.as_deref()), (LinkState::Disabled, Some(50), 5, Some("channel")));
    assert!(st.audience_overrides.is_disabled() && !st.gallery_overrides.is_disabled());
    let plain = link_status(&s, &g, &g.links["team"], Status::default(), &[Status::default()], 10);
    assert_eq!((plain.audience, plain.audience_overrides), (None, Overrides::default()));
}

#[test]
fn the_audience_filter_keeps_only_that_audiences_recipients() {
    let index = site_of(&[("launch-a", "Launch", &[("channel/d1", "D1"), ("channel/d2", "D2"), ("press/x", "X"), ("team", "Team")])]);
    let q = query(&[("audience", "channel")]).unwrap();
    let names: Vec<&str> = q.matching(&index).iter().map(|(_, l)| l.name.as_str()).collect();
    assert_eq!(names, ["channel/d1", "channel/d2"]);
    assert_eq!(gallery_summaries(&index)[0].audiences, 2, "channel and press: a mail-merge file to offer");
}

#[test]
fn link_ids_have_two_or_three_parts_and_the_method_says_whether_an_action_ends_them() {
    let table: Vec<(&str, &str, Result<ApiRoute<'_>, u16>)> = vec![
        ("POST", "links/launch-a/channel/dealer-001/disable", Ok(ApiRoute::Disable { gallery: "launch-a", link: "channel/dealer-001" })),
        ("POST", "links/launch-a/channel/dealer-001/enable", Ok(ApiRoute::Enable { gallery: "launch-a", link: "channel/dealer-001" })),
        ("POST", "links/launch-a/channel/dealer-001/revoke", Ok(ApiRoute::Revoke { gallery: "launch-a", link: "channel/dealer-001" })),
        ("GET", "links/launch-a/channel/dealer-001/qr.svg", Ok(ApiRoute::QrSvg { gallery: "launch-a", link: "channel/dealer-001" })),
        ("HEAD", "links/launch-a/channel/dealer-001/qr.png", Ok(ApiRoute::QrPng { gallery: "launch-a", link: "channel/dealer-001" })),
        ("GET", "links/launch-a/channel/dealer-001/card.html", Ok(ApiRoute::Card { gallery: "launch-a", link: "channel/dealer-001" })),
        ("PATCH", "links/launch-a/channel/dealer-001", Ok(ApiRoute::Patch { gallery: "launch-a", link: "channel/dealer-001" })),
        ("PATCH", "links/launch-a/team", Ok(ApiRoute::Patch { gallery: "launch-a", link: "team" })),
        // A recipient named like an action is still a recipient to PATCH.
        ("PATCH", "links/launch-a/channel/disable", Ok(ApiRoute::Patch { gallery: "launch-a", link: "channel/disable" })),
        ("POST", "links/launch-a/channel/disable/disable", Ok(ApiRoute::Disable { gallery: "launch-a", link: "channel/disable" })),
        ("POST", "links/launch-a/channel/dealer-001/extra/disable", Err(404)),
        ("PATCH", "links/launch-a/channel/dealer-001/extra", Err(404)),
        // Two parts before an action name no link; read as PATCH's link id they would.
        ("POST", "links/launch-a/disable", Err(405)),
        ("PATCH", "links/launch-a", Err(404)),
        ("POST", "links/launch-a//dealer-001/disable", Err(404)),
        ("POST", "links/launch-a/channel/dealer-001/", Err(404)),
        ("POST", "links/launch-a/channel/dealer-001/qr.svg", Err(405)),
        ("GET", "links/launch-a/channel/dealer-001/revoke", Err(405)),
        ("POST", "audiences/launch-a/channel/disable", Ok(ApiRoute::DisableAudience { gallery: "launch-a", audience: "channel" })),
        ("POST", "audiences/launch-a/channel/enable", Ok(ApiRoute::EnableAudience { gallery: "launch-a", audience: "channel" })),
        ("POST", "audiences/launch-a/channel/revoke", Ok(ApiRoute::RevokeAudience { gallery: "launch-a", audience: "channel" })),
        ("PATCH", "audiences/launch-a/channel", Ok(ApiRoute::PatchAudience { gallery: "launch-a", audience: "channel" })),
        ("POST", "audiences/launch-a/channel/dealer-001/disable", Err(404)),
        ("GET", "audiences/launch-a/channel", Err(405)),
        ("GET", "galleries/launch-a/mail-merge.csv", Ok(ApiRoute::MailMerge { gallery: "launch-a" })),
        ("POST", "galleries/launch-a/mail-merge.csv", Err(405)),
        ("GET", "galleries/launch-a/audit", Ok(ApiRoute::Audit { gallery: "launch-a" })),
        ("GET", "galleries/launch-a/audit.csv", Ok(ApiRoute::AuditCsv { gallery: "launch-a" })),
        ("GET", "galleries/launch-a/follow-up", Ok(ApiRoute::FollowUp { gallery: "launch-a" })),
        ("POST", "galleries/launch-a/audit", Err(405)),
    ];
    for (method, path, want) in table {
        assert_eq!(route(method, path).map_err(|f| f.status), want, "{method} {path}");
    }
    let qr = ApiRoute::QrPng { gallery: "launch-a", link: "channel/dealer-001" }.path();
    assert_eq!(route("GET", &qr), Ok(ApiRoute::QrPng { gallery: "launch-a", link: "channel/dealer-001" }), "the mail merge's QR paths are routes");
}

#[test]
fn only_a_bearer_header_yields_a_token() {
    assert_eq!(bearer(Some("Bearer abc")), Some("abc"));
    assert_eq!(bearer(Some("bearer  abc ")), Some("abc"));
    assert_eq!(bearer(Some("Basic abc")), None);
    assert_eq!(bearer(Some("Bearer ")), None);
    assert_eq!(bearer(None), None);
}

#[test]
fn a_date_extends_through_the_end_of_that_day_in_the_site_timezone() {
    // 2027-01-01 00:00 in Shanghai is 2026-12-31 16:00 UTC.
    assert_eq!(expiry_from_owner_input(&shanghai(), "2026-12-31").unwrap(), 1_798_732_800);
    assert_eq!(expiry_from_owner_input(&shanghai(), "2026-12-31T18:00:00+08:00").unwrap(), 1_798_711_200);
    assert!(expiry_from_owner_input(&shanghai(), "31/12/2026").unwrap_err().message.contains("`expires`"));
}

#[test]
fn a_patch_becomes_one_change_with_its_date_read_in_the_site_timezone() {
    let patch = LinkPatch { expires: Some("2026-12-31".into()), max_views: Some(100), force: true, ..LinkPatch::default() };
    assert_eq!(
        patch_change(&shanghai(), &patch).unwrap(),
        Change::Limits { expires_at: Some(1_798_732_800), extend_days: None, max_views: Some(100), force: true }
    );
    let both = LinkPatch { expires_at: Some(50), expires: Some("2030-01-01".into()), ..LinkPatch::default() };
    assert_eq!(patch_change(&shanghai(), &both).unwrap_err().status, 400);
}

#[test]
fn refusals_show_times_in_the_site_timezone() {
    let f = refusal(&shanghai(), &Refusal::ShortensExpiry { in_force: Some(1_798_732_800), asked: 1_798_711_200 });
    assert_eq!((f.status, f.code), (409, "needs_force"));
    assert!(f.message.contains("2027-01-01 00:00 (Asia/Shanghai)") && f.message.contains("2026-12-31 18:00"), "{}", f.message);
    assert_eq!(refusal(&shanghai(), &Refusal::DisabledInYaml).message, "disabled in gallery.yaml: change it there");
}

#[test]
fn windows_take_dates_or_seconds_and_include_the_last_day() {
    let s = shanghai();
    let (from, to) = window(&s, Some("2026-03-01"), Some("2026-03-01"), 0).unwrap();
    assert_eq!(to - from, 86_400);
    assert_eq!(from, 1_772_294_400);
    assert_eq!(window(&s, None, None, 500).unwrap(), (0, 501));
    assert_eq!(window(&s, Some("100"), Some("200"), 500).unwrap(), (100, 200));
    assert!(window(&s, Some("yesterday"), None, 500).is_err());
    assert!(window(&s, Some("300"), Some("200"), 500).is_err());
}

#[test]
fn a_link_status_applies_overrides_and_counts_what_is_left() {
    let s = shanghai();
    let link = Link { name: "market".into(), label: "Market".into(), token: "abc".into(), rotate: 0, policy: LinkPolicy { max_views: Some(10), ..LinkPolicy::default() }, recipient: None, notify: None, mark: None };
    let gallery = Gallery { id: "spring".into(), title: "Spring".into(), images: vec![], links: Default::default(), audiences: Default::default(), notify: Vec::new() };
    let gate = Status { views: 4, overrides: Overrides { max_views: Some(5), ..Overrides::default() }, first_open: Some(1), last_open: Some(2), ..Status::default() };
    let st = link_status(&s, &gallery, &link, gate.clone(), &[Status::default()], 100);
    assert_eq!(st.url, "https://g.example/s/abc");
    assert_eq!(st.max_views, Some(5));
    assert_eq!(st.views_left, Some(1));
    assert_eq!(st.state, LinkState::Active);
    let gallery_off = Status { overrides: Overrides { disabled: Some(true), ..Overrides::default() }, ..Status::default() };
    assert_eq!(link_status(&s, &gallery, &link, gate, &[gallery_off], 100).state, LinkState::Disabled);
}

#[test]
fn a_link_status_says_when_a_publish_made_a_change_lapse() {
    let s = shanghai();
    let link = Link { name: "m".into(), label: "M".into(), token: "abc".into(), rotate: 0, policy: LinkPolicy { max_views: Some(10), ..LinkPolicy::default() }, recipient: None, notify: None, mark: None };
    let gallery = Gallery { id: "g".into(), title: "G".into(), images: vec![], links: Default::default(), audiences: Default::default(), notify: Vec::new() };
    let stale = Overrides { max_views: Some(50), max_views_against: Some(Against { published: Some(20), fingerprint: None }), ..Overrides::default() };
    let st = link_status(&s, &gallery, &link, Status { overrides: stale, ..Status::default() }, &[Status::default()], 100);
    assert_eq!(st.max_views, Some(10));
    assert!(st.notices.iter().any(|n| n.contains("view limit lapsed")), "{:?}", st.notices);
}

/// `(gallery id, title, [(link name, label)])`.
type SiteSpec<'a> = [(&'a str, &'a str, &'a [(&'a str, &'a str)])];

/// The admin index the generator writes for these galleries.
fn site_of(galleries: &SiteSpec<'_>) -> GalleryIndex {
    let galleries = galleries
        .iter()
        .map(|(id, title, links)| {
            let links = links
                .iter()
                .map(|(name, label)| (name.to_string(), Link { name: name.to_string(), label: label.to_string(), token: format!("t{name}"), rotate: 0, policy: LinkPolicy::default(), recipient: None, notify: None, mark: None }))
                .collect();
            (id.to_string(), Gallery { id: id.to_string(), title: title.to_string(), images: vec![], links, audiences: Default::default(), notify: Vec::new() })
        })
        .collect();
    gatefold_contract::manifest::Manifest { format: gatefold_contract::manifest::FORMAT, site: shanghai(), galleries }.records().index
}

fn query(pairs: &[(&str, &str)]) -> Result<LinksQuery, Failure> {
    LinksQuery::parse(|name| pairs.iter().find(|(k, _)| *k == name).map(|(_, v)| *v))
}

/// Drives a pager over `states` as the handler does over the links' objects.
fn page_of(states: &[LinkState], offset: usize, limit: usize, state: Option<LinkState>) -> (Vec<usize>, Option<usize>, usize) {
    let mut pager = Pager::new(states.len(), offset, limit, state.is_some());
    let mut asked = 0;
    while let Some(r) = pager.next_chunk() {
        asked += r.len();
        pager.absorb(r.map(|i| (i, states[i])).collect(), |(_, s)| state.is_none_or(|want| *s == want));
    }
    let (page, next) = pager.finish();
    (page.into_iter().map(|(i, _)| i).collect(), next, asked)
}

#[test]
fn the_links_query_has_defaults_a_cap_and_clear_errors() {
    let q = query(&[]).unwrap();
    assert_eq!((q.offset, q.limit, q.state, q.gallery, q.q), (0, 50, None, None, None));
    let q = query(&[("limit", "500"), ("offset", "7"), ("state", "limit_reached"), ("q", " Dealer "), ("gallery", "spring")]).unwrap();
    assert_eq!((q.offset, q.limit, q.state, q.gallery.as_deref(), q.q.as_deref()), (7, 100, Some(LinkState::LimitReached), Some("spring"), Some("dealer")));
    assert!(query(&[("state", "open")]).unwrap_err().message.contains("active, disabled, expired, limit_reached"));
    assert!(query(&[("offset", "-1")]).unwrap_err().message.contains("`offset`"));
    assert_eq!(query(&[("limit", "0")]).unwrap_err().status, 400);
    assert_eq!(query(&[("state", "")]).unwrap().state, None);
}

#[test]
fn search_matches_name_label_gallery_id_or_title_in_any_case() {
    let m = site_of(&[("spring", "Spring Launch", &[("market", "Marketing"), ("press", "Press")]), ("dealer", "Dealer kit", &[("sh", "Shanghai")])]);
    let names = |pairs: &[(&str, &str)]| -> Vec<String> { query(pairs).unwrap().matching(&m).iter().map(|(g, l)| format!("{}/{}", g.id, l.name)).collect() };
    assert_eq!(names(&[]), ["dealer/sh", "spring/market", "spring/press"]);
    assert_eq!(names(&[("q", "MARK")]), ["spring/market"]);
    assert_eq!(names(&[("q", "launch")]), ["spring/market", "spring/press"]);
    assert_eq!(names(&[("q", "shang")]), ["dealer/sh"]);
    assert_eq!(names(&[("gallery", "spring"), ("q", "press")]), ["spring/press"]);
    assert_eq!(names(&[("gallery", "nope")]), Vec::<String>::new());
    assert_eq!(gallery_summaries(&m)[1], GallerySummary { id: "spring".into(), title: "Spring Launch".into(), links: 2, audiences: 0 });
}

#[test]
fn pages_without_a_state_filter_ask_exactly_the_page() {
    let states = vec![LinkState::Active; 120];
    assert_eq!(page_of(&states, 0, 50, None), ((0..50).collect(), Some(50), 50));
    assert_eq!(page_of(&states, 100, 50, None), ((100..120).collect(), None, 20));
    assert_eq!(page_of(&states, 500, 50, None), (vec![], None, 0));
}

#[test]
fn a_state_filter_asks_in_chunks_until_the_page_is_full_and_resumes_after_the_last_one_kept() {
    // Every 10th link is disabled.
    let states: Vec<LinkState> = (0..300).map(|i| if i % 10 == 0 { LinkState::Disabled } else { LinkState::Active }).collect();
    let (page, next, _) = page_of(&states, 0, 3, Some(LinkState::Disabled));
    assert_eq!((page, next), (vec![0, 10, 20], Some(21)));
    let (page, next, _) = page_of(&states, 21, 3, Some(LinkState::Disabled));
    assert_eq!((page, next), (vec![30, 40, 50], Some(51)));
}

#[test]
fn a_sparse_state_ends_the_page_early_at_the_ask_budget_and_paging_on_finds_every_link_once() {
    let states: Vec<LinkState> = (0..1000).map(|i| if i % 97 == 0 { LinkState::Expired } else { LinkState::Active }).collect();
    let (first, next, asked) = page_of(&states, 0, 50, Some(LinkState::Expired));
    assert!(asked <= MAX_ASKS, "{asked}");
    assert_eq!(next, Some(MAX_ASKS));
    assert_eq!(first, vec![0, 97, 194]);
    let mut seen = Vec::new();
    let mut offset = Some(0);
    while let Some(o) = offset {
        let (page, next, _) = page_of(&states, o, 4, Some(LinkState::Expired));
        seen.extend(page);
        offset = next;
    }
    assert_eq!(seen, (0..1000).filter(|i| i % 97 == 0).collect::<Vec<_>>());
}

#[test]
fn the_locale_defaults_to_the_site_and_refuses_unknown_tags() {
    assert_eq!(locale_param(&shanghai(), None), Ok(Locale::ZhCn));
    assert_eq!(locale_param(&shanghai(), Some("en")), Ok(Locale::En));
    assert!(locale_param(&shanghai(), Some("fr")).unwrap_err().message.contains("en, zh-CN"));
}

#[test]
fn owner_file_routes_are_get_only() {
    assert_eq!(route("GET", "links/spring/market/qr.svg"), Ok(ApiRoute::QrSvg { gallery: "spring", link: "market" }));
    assert_eq!(route("GET", "links/spring/market/qr.png"), Ok(ApiRoute::QrPng { gallery: "spring", link: "market" }));
    assert_eq!(route("GET", "links/spring/market/card.html"), Ok(ApiRoute::Card { gallery: "spring", link: "market" }));
    assert_eq!(route("GET", "galleries/spring/share-kit.txt"), Ok(ApiRoute::ShareKit { gallery: "spring" }));
    assert_eq!(route("POST", "links/spring/market/qr.svg").unwrap_err().status, 405);
}

#[test]
fn link_terms_keep_a_published_date_as_the_end_of_that_day_and_take_runtime_limits() {
    let s = shanghai();
    let published = gatefold_contract::ResolvedExpiry { written: Expiry::EndOfDay(NaiveDate::from_ymd_opt(2026, 12, 31).unwrap()), at: 1_798_732_800 };
    let link = Link { name: "m".into(), label: "M".into(), token: "abc".into(), rotate: 0, policy: LinkPolicy { expires: Some(published), max_views: Some(10), ..LinkPolicy::default() }, recipient: None, notify: None, mark: None };
    let gallery = Gallery { id: "g".into(), title: "G".into(), images: vec![], links: Default::default(), audiences: Default::default(), notify: Vec::new() };
    let st = link_status(&s, &gallery, &link, Status::default(), &[Status::default()], 100);
    let t = link_terms(&s, &link, &st);
    assert_eq!((t.max_views, t.expiry.unwrap().end_of_day, t.url.as_str()), (Some(10), true, "https://g.example/s/abc"));
    let extended = Status { overrides: Overrides { max_views: Some(20), expires_at: Some(1_798_736_400), ..Overrides::default() }, ..Status::default() };
    let st = link_status(&s, &gallery, &link, extended, &[Status::default()], 100);
    let t = link_terms(&s, &link, &st);
    assert_eq!((t.max_views, t.expiry.unwrap().at, t.expiry.unwrap().end_of_day), (Some(20), 1_798_736_400, false));
}
