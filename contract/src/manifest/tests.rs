use super::*;

#[test]
fn ip_logging_truncates_to_a_network() {
    assert_eq!(IpLogging::Truncated.apply("203.0.113.77").as_deref(), Some("203.0.113.0"));
    assert_eq!(IpLogging::Truncated.apply("2001:db8:1234:5678::1").as_deref(), Some("2001:db8:1234::"));
    assert_eq!(IpLogging::Full.apply("203.0.113.77").as_deref(), Some("203.0.113.77"));
    assert_eq!(IpLogging::Off.apply("203.0.113.77"), None);
}

#[test]
fn utc_offsets_follow_transitions() {
    let site = Site {
        title: String::new(),
        base_url: String::new(),
        default_locale: Locale::En,
        timezone: "Test/Zone".into(),
        ip_logging: IpLogging::Off,
        utc_offsets: vec![(0, 3600), (1000, 7200)],
        dev_key: true,
        key_fingerprint: String::new(),
        analytics: Analytics::default(),
        digest_hour: crate::notify::DEFAULT_DIGEST_HOUR,
    };
    assert_eq!(site.utc_offset_at(-5), 3600);
    assert_eq!(site.utc_offset_at(999), 3600);
    assert_eq!(site.utc_offset_at(1000), 7200);
}

#[test]
fn private_paths_stay_under_the_private_prefix() {
    for p in [
        SITE_PATH.to_string(),
        GALLERY_INDEX_PATH.to_string(),
        token_shard_path(0xab),
        gallery_record_path("g"),
        page_path("g", PageMode::Original, Locale::ZhCn),
        preview_path("g", Locale::En),
        password_page_path(Locale::En),
        denial_path(crate::Denial::NotFound, Locale::En),
    ] {
        assert!(p.starts_with(PRIVATE_PREFIX), "{p}");
    }
}

fn manifest_with_tokens(tokens: &[(&str, &str, &str)]) -> Manifest {
    let mut galleries: BTreeMap<String, Gallery> = BTreeMap::new();
    for (g, l, t) in tokens {
        let gallery = galleries.entry(g.to_string()).or_insert_with(|| Gallery {
            id: g.to_string(),
            title: format!("Gallery {g}"),
            images: vec![],
            links: BTreeMap::new(),
            audiences: BTreeMap::new(),
            notify: Vec::new(),
        });
        gallery.links.insert(
            l.to_string(),
            Link { name: l.to_string(), label: l.to_string(), token: t.to_string(), rotate: 0, policy: LinkPolicy::default(), recipient: None, notify: None, mark: None },
        );
    }
    Manifest {
        format: FORMAT,
        site: Site {
            title: String::new(),
            base_url: String::new(),
            default_locale: Locale::En,
            timezone: "UTC".into(),
            ip_logging: IpLogging::Off,
            utc_offsets: vec![(0, 0)],
            dev_key: true,
            key_fingerprint: String::new(),
            analytics: Analytics::default(),
            digest_hour: crate::notify::DEFAULT_DIGEST_HOUR,
        },
        galleries,
    }
}

#[test]
fn records_put_every_token_in_its_shard_and_every_gallery_in_its_record() {
    let m = manifest_with_tokens(&[("a", "sales", "t1aaaa"), ("a", "press", "t2bbbb"), ("b", "sales", "t3cccc")]);
    let r = m.records();
    assert_eq!(r.shards.len(), TOKEN_SHARDS);
    assert_eq!(r.shards.iter().map(|s| s.tokens.len()).sum::<usize>(), 3);
    for (g, l, t) in [("a", "sales", "t1aaaa"), ("a", "press", "t2bbbb"), ("b", "sales", "t3cccc")] {
        let shard = &r.shards[usize::from(token_shard(t))];
        assert_eq!(shard.tokens[t].at(), LinkRef { gallery: g.into(), link: l.into() });
    }
    assert_eq!(r.galleries.iter().map(|g| g.gallery.id.as_str()).collect::<Vec<_>>(), ["a", "b"]);
    let names: Vec<&str> = r.index.galleries[0].links.iter().map(|l| l.name.as_str()).collect();
    assert_eq!(names, ["press", "sales"]);
}

#[test]
fn a_record_of_another_format_is_refused() {
    let json = serde_json::to_string(&SiteRecord { format: FORMAT + 1, site: manifest_with_tokens(&[]).site }).unwrap();
    let err = read_record::<SiteRecord>("site.json", &json).unwrap_err();
    assert!(err.contains("rebuild the site"), "{err}");
    let json = serde_json::to_string(&manifest_with_tokens(&[]).records().site).unwrap();
    assert!(read_record::<SiteRecord>("site.json", &json).is_ok());
}

#[test]
fn token_shards_spread_tokens() {
    let used: std::collections::HashSet<u8> = (0..2000).map(|i| token_shard(&format!("token{i}"))).collect();
    assert!(used.len() > 200, "{}", used.len());
}

#[test]
fn a_token_entry_holds_its_link_and_its_audience_and_no_other_link() {
    let mut m = manifest_with_tokens(&[("a", "sales", "t1aaaa"), ("a", "dealers/d1", "t2bbbb"), ("a", "dealers/d2", "t3cccc")]);
    let terms = LinkPolicy { max_views: Some(7), ..LinkPolicy::default() };
    m.galleries.get_mut("a").unwrap().audiences.insert("dealers".into(), Audience { label: "Dealers".into(), recipients: 2, terms: terms.clone() });
    let r = m.records();
    let entry = |t: &str| r.shards[usize::from(token_shard(t))].tokens[t].clone();
    let recipient = entry("t2bbbb");
    assert_eq!(recipient.link, m.galleries["a"].links["dealers/d1"]);
    let seen = recipient.gallery("Gallery a".into(), vec![]);
    assert_eq!(seen.audience_terms("dealers"), Some(&terms), "the audience's terms travel with its recipient");
    assert_eq!(seen.links.keys().collect::<Vec<_>>(), ["dealers/d1"], "one recipient's entry names no other recipient");
    let plain = entry("t1aaaa");
    assert_eq!(plain.audience, None);
    assert!(plain.gallery(String::new(), vec![]).audiences.is_empty());
}

#[test]
fn a_gallery_record_reads_as_its_media_or_its_leading_format_without_parsing_its_links() {
    let m = manifest_with_tokens(&[("a", "sales", "t1aaaa"), ("a", "press", "t2bbbb")]);
    let record = &m.records().galleries[0];
    let json = serde_json::to_string(record).unwrap();
    let media = read_record::<MediaRecord>("g/a.json", &json).unwrap();
    assert_eq!((media.gallery.id.as_str(), media.gallery.title.as_str(), &media.gallery.images), ("a", "Gallery a", &record.gallery.images));
    assert_eq!(leading_format(&json[..FORMAT_PREFIX_BYTES.min(json.len())]), Some(FORMAT), "an open reads the format from the first bytes");
    let stale = json.replacen(&format!("\"format\":{FORMAT}"), &format!("\"format\":{}", FORMAT - 1), 1);
    let err = read_record::<MediaRecord>("g/a.json", &stale).unwrap_err();
    assert!(err.contains("rebuild the site"), "a record of another format is refused: {err}");
    let err = check_leading_format("g/a.json", &stale[..FORMAT_PREFIX_BYTES]).unwrap_err();
    assert!(err.contains(&format!("format {} but this worker reads format {FORMAT}", FORMAT - 1)), "an open refuses it too: {err}");
}

#[test]
fn every_record_states_its_format_first_and_a_prefix_without_it_is_refused() {
    let m = manifest_with_tokens(&[("a", "sales", "t1aaaa")]);
    let r = m.records();
    let written = [
        serde_json::to_string(&r.site).unwrap(),
        serde_json::to_string(&r.shards[0]).unwrap(),
        serde_json::to_string(&r.galleries[0]).unwrap(),
        serde_json::to_string_pretty(&r.galleries[0]).unwrap(),
        serde_json::to_string(&r.index).unwrap(),
    ];
    for json in written {
        let cut = &json[..FORMAT_PREFIX_BYTES.min(json.len())];
        assert_eq!(leading_format(cut), Some(FORMAT), "{cut}");
        assert!(check_leading_format("record", cut).is_ok());
    }
    for (text, why) in [
        (r#"{"gallery":{"id":"a"},"format":5}"#, "format not first"),
        (r#"{"format":"5"}"#, "not a number"),
        (r#"{"format":"#, "cut before the number"),
        (r#"{"format":12"#, "cut inside the number"),
        (r#"[5]"#, "not an object"),
        ("", "empty"),
    ] {
        assert_eq!(leading_format(text), None, "{why}");
        let err = check_leading_format("g/a.json", text).unwrap_err();
        assert!(err.starts_with("g/a.json: ") && err.contains("rebuild the site"), "{why}: {err}");
    }
    assert_eq!(leading_format(" {\n  \"format\" : 7 ,"), Some(7), "whitespace as any JSON writer puts it");
}
