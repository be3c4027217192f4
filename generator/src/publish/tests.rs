//! Publish and smoke-test decisions on hand-built manifests, and the smoke test against a real
//! HTTP server.

use super::*;
use gatefold_contract::manifest::{Gallery, Image, IpLogging, Link, Original, Site, Variant, VariantRole};
use gatefold_contract::MediaType;
use gatefold_contract::{Denial, LinkPolicy, Locale, ResolvedExpiry};
use std::collections::BTreeMap;

const NOW: i64 = 1_800_000_000;

fn image(key: &str) -> Image {
    Image {
        id: key.into(),
        file_name: format!("{key}.jpg"),
        caption: None,
        alt: String::new(),
        width: 10,
        height: 10,
        animated: false,
        variants: ["480.webp", "480.jpg"]
            .into_iter()
            .map(|suffix| Variant {
                role: VariantRole::Display,
                width: 10,
                height: 10,
                content_type: if suffix.ends_with("webp") { MediaType::Webp } else { MediaType::Jpeg },
                file: format!("{key}-{suffix}"),
                key: format!("display/{key}-{suffix}"),
                full_size: true,
                marked: None,
            })
            .collect(),
        original: Original { key: format!("originals/{key}.jpg"), size: 3, content_type: MediaType::Jpeg, crc32: 0, marked: None },
    }
}

fn manifest(links: &[(&str, &str, LinkPolicy)], images: &[&str]) -> Manifest {
    let links = links
        .iter()
        .map(|(name, token, policy)| (name.to_string(), Link { name: name.to_string(), label: name.to_string(), token: token.to_string(), rotate: 0, policy: policy.clone(), recipient: None, notify: None, mark: None }))
        .collect();
    let gallery = Gallery { id: "g".into(), title: "G".into(), images: images.iter().map(|k| image(k)).collect(), links, audiences: Default::default(), notify: Vec::new() };
    Manifest {
        format: gatefold_contract::manifest::FORMAT,
        site: Site {
            title: "S".into(),
            base_url: "https://images.example.com".into(),
            default_locale: Locale::En,
            timezone: "UTC".into(),
            ip_logging: IpLogging::Off,
            utc_offsets: vec![(0, 0)],
            dev_key: false,
            key_fingerprint: String::new(),
            analytics: Default::default(),
            digest_hour: gatefold_contract::notify::DEFAULT_DIGEST_HOUR,
        },
        galleries: BTreeMap::from([("g".to_string(), gallery)]),
    }
}

#[test]
fn only_objects_the_last_publish_lacked_are_uploaded_display_variants_and_originals_alike() {
    let before = manifest(&[], &["a", "b"]);
    let after = manifest(&[], &["b", "c"]);
    let keys = |ks: &[&str]| ks.iter().map(|k| k.to_string()).collect::<BTreeSet<String>>();
    assert_eq!(objects_to_upload(&after, Some(&before)), keys(&["display/c-480.jpg", "display/c-480.webp", "originals/c.jpg"]));
    assert_eq!(objects_to_upload(&after, None).len(), 6, "the first publish uploads every object");
    assert_eq!(objects_to_upload(&after, Some(&after)), keys(&[]), "nothing changed, nothing uploaded");
}

#[test]
fn smoke_checks_expect_each_links_published_state_and_retired_urls_gone() {
    let open = LinkPolicy::default();
    let expired = LinkPolicy { expires: Some(ResolvedExpiry::at_instant(NOW - 1)), ..LinkPolicy::default() };
    let disabled = LinkPolicy { disabled: true, ..LinkPolicy::default() };
    let before = manifest(&[("market", "tokenold", open.clone())], &[]);
    let after = manifest(&[("market", "tokennew", open), ("press", "tokenp", expired), ("sales", "tokens", disabled)], &[]);
    let checks = smoke_checks(&after, Some(&before), NOW);
    let shard = gatefold_contract::manifest::token_shard_path(gatefold_contract::manifest::token_shard("tokennew"));
    let got: Vec<(&str, &str, Expect)> = checks.iter().map(|c| (c.what.as_str(), c.path.as_str(), c.expect)).collect();
    assert_eq!(
        got,
        vec![
            ("link g/market", "/s/tokennew", Expect::Page),
            ("link g/press", "/s/tokenp", Expect::Denied(Denial::LinkExpired)),
            ("link g/sales", "/s/tokens", Expect::Denied(Denial::LinkDisabled)),
            ("retired URL of g/market", "/s/tokenold", Expect::NotFound),
            ("private site record", "/_gatefold/site.json", Expect::NotFound),
            ("private gallery index", "/_gatefold/galleries.json", Expect::NotFound),
            ("private link shard", shard.as_str(), Expect::NotFound),
            ("private gallery record", "/_gatefold/g/g.json", Expect::NotFound),
            ("private page template", "/_gatefold/pages/g.view.en.json", Expect::NotFound),
        ]
    );
    assert!(checks.iter().all(|c| !c.what.contains("token")), "check names must not carry tokens");
}

#[test]
fn answers_are_judged_strictly_where_it_matters() {
    assert_eq!(judge(Expect::Page, 200), Verdict::Pass);
    assert_eq!(judge(Expect::Denied(Denial::LinkExpired), 410), Verdict::Pass);
    assert!(matches!(judge(Expect::Page, 403), Verdict::Note(_)), "runtime disable is the owner's choice");
    assert!(matches!(judge(Expect::Page, 404), Verdict::Fail(_)), "a published link must exist");
    assert!(matches!(judge(Expect::Page, 500), Verdict::Fail(_)));
    assert!(matches!(judge(Expect::NotFound, 200), Verdict::Fail(_)), "a retired URL must never open");
    assert!(matches!(judge(Expect::NotFound, 403), Verdict::Fail(_)));
    assert_eq!(judge(Expect::NotFound, 404), Verdict::Pass);
}

#[test]
fn the_smoke_test_speaks_http_to_a_real_server() {
    // A tiny server answering 200 for one path and 404 otherwise, so the HTTP side of the
    // smoke test (HEAD, statuses, no redirects followed) is exercised for real.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let server = std::thread::spawn(move || {
        use std::io::{BufRead, BufReader, Write};
        let mut methods = Vec::new();
        for stream in listener.incoming().take(2) {
            let mut stream = stream.unwrap();
            let mut line = String::new();
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            reader.read_line(&mut line).unwrap();
            loop {
                let mut h = String::new();
                reader.read_line(&mut h).unwrap();
                if h == "\r\n" || h.is_empty() {
                    break;
                }
            }
            methods.push(line.split(' ').next().unwrap().to_string());
            let status = if line.contains("/s/good ") { "200 OK" } else { "404 Not Found" };
            write!(stream, "HTTP/1.1 {status}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n").unwrap();
        }
        methods
    });
    let checks = vec![
        SmokeCheck { what: "good".into(), path: "/s/good".into(), expect: Expect::Page },
        SmokeCheck { what: "private".into(), path: "/_gatefold/site.json".into(), expect: Expect::NotFound },
    ];
    let outcome = run_smoke_checks(&format!("http://{addr}/"), &checks, &crate::progress::Quiet).unwrap();
    assert_eq!(outcome, SmokeOutcome { passed: 2, noted: 0, failed: 0 });
    assert_eq!(server.join().unwrap(), vec!["HEAD", "HEAD"], "the smoke test must not burn views");
}
