use super::*;

fn page(title: &str, image: bool) -> PreviewPage {
    PreviewPage {
        locale: Locale::En,
        wording: crate::owner::tests::wording("en"),
        card: Card {
            title: title.into(),
            site_title: "Acme \"Images\"".into(),
            images: "12 images".into(),
            until: "until {date}".into(),
            image: image.then(|| CardImage { path: image_path("0f1e2d3c4b5a69788796a5b4c3d2e1f0"), width: 600, height: 400, alt: "Front <view>".into() }),
            stylesheet: "/assets/abc/gallery.css".into(),
        },
        html: format!("<html><head>{META_SLOT}<title>t</title></head><body><h1>x</h1></body></html>"),
    }
}

/// 31 Dec 2030, the whole day, in UTC+8.
const END_OF_2030: ShownExpiry = ShownExpiry { at: 1_924_963_200, utc_offset: 8 * 3600, end_of_day: true };

fn content<'a>(meta: &'a str, name: &str) -> Vec<&'a str> {
    meta.lines()
        .filter(|l| l.contains(&format!("=\"{name}\" ")))
        .map(|l| l.split("content=\"").nth(1).unwrap().trim_end_matches("\">"))
        .collect()
}

#[test]
fn an_open_link_reads_its_image_count_and_expiry() {
    let p = page("Showroom launch", false);
    let meta = p.meta(CardState::Open(Some(END_OF_2030)), "https://img.example.com").unwrap();
    assert_eq!(content(&meta, "og:title"), ["Showroom launch"]);
    assert_eq!(content(&meta, "og:site_name"), ["Acme &quot;Images&quot;"]);
    assert_eq!(content(&meta, "og:description"), ["12 images · until 31 Dec 2030 23:59"]);
    assert_eq!(content(&meta, "twitter:description"), ["12 images · until 31 Dec 2030 23:59"]);
    assert_eq!(content(&meta, "twitter:card"), ["summary"]);
    assert_eq!(content(&meta, "og:locale"), ["en_US"]);
    assert!(content(&meta, "og:image").is_empty(), "no image unless the gallery opts in");
    let forever = p.meta(CardState::Open(None), "https://img.example.com").unwrap();
    assert_eq!(content(&forever, "og:description"), ["12 images"], "no expiry, no date");
}

#[test]
fn a_closed_link_reads_its_denial_and_shows_no_image() {
    let p = page("Showroom launch", true);
    for (denial, text) in [(Denial::LinkExpired, "This link has expired"), (Denial::LinkDisabled, "This link has been disabled")] {
        let meta = p.meta(CardState::Closed(denial), "https://img.example.com").unwrap();
        assert_eq!(content(&meta, "og:description"), [text]);
        assert_eq!(content(&meta, "og:title"), ["Showroom launch"]);
        assert!(!meta.contains("og:image") && !meta.contains("twitter:image"), "{meta}");
        assert_eq!(content(&meta, "twitter:card"), ["summary"]);
    }
    let zh = PreviewPage { locale: Locale::ZhCn, ..p };
    let meta = zh.meta(CardState::Closed(Denial::LinkExpired), "https://img.example.com").unwrap();
    assert_eq!(content(&meta, "og:description"), ["链接已过期"]);
    assert_eq!(content(&meta, "og:locale"), ["zh_CN"]);
}

#[test]
fn a_gallery_that_opts_in_shows_its_preview_image_at_an_absolute_url() {
    let meta = page("Launch", true).meta(CardState::Open(None), "https://img.example.com").unwrap();
    let url = "https://img.example.com/assets/preview/0f1e2d3c4b5a69788796a5b4c3d2e1f0.jpg";
    assert_eq!(content(&meta, "og:image"), [url]);
    assert_eq!(content(&meta, "twitter:image"), [url]);
    assert_eq!(content(&meta, "og:image:width"), ["600"]);
    assert_eq!(content(&meta, "og:image:alt"), ["Front &lt;view&gt;"]);
    assert_eq!(content(&meta, "twitter:card"), ["summary_large_image"]);
}

#[test]
fn titles_with_quotes_and_script_stay_text() {
    let hostile = "\"><script>alert('x')</script><meta property=\"og:image\" content=\"https://evil.example/x.jpg";
    let p = page(hostile, false);
    let meta = p.meta(CardState::Open(None), "https://img.example.com").unwrap();
    assert!(!meta.contains("<script") && !meta.contains("property=\"og:image\""), "no tag injected: {meta}");
    assert_eq!(content(&meta, "og:title")[0], "&quot;&gt;&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;&lt;meta property=&quot;og:image&quot; content=&quot;https://evil.example/x.jpg");
    assert_eq!(meta.matches("<meta ").count(), meta.lines().count(), "one tag per line, none injected");
    let closed = p.closed(Denial::ViewLimitReached, "https://img.example.com").unwrap();
    assert!(!closed.contains("<script") && !closed.contains("property=\"og:image\""), "{closed}");
}

#[test]
fn the_interstitial_gets_the_tags_in_its_slot_once() {
    let p = page("Launch", false);
    let html = p.interstitial(None, "https://img.example.com").unwrap();
    assert!(!html.contains(META_SLOT));
    assert!(html.starts_with("<html><head><meta name=\"description\" content=\"12 images\">"), "{html}");
    assert!(html.ends_with("<title>t</title></head><body><h1>x</h1></body></html>"));
}

#[test]
fn the_closed_page_says_the_denial_in_its_language() {
    let p = PreviewPage { locale: Locale::ZhCn, ..page("发布会", false) };
    let html = p.closed(Denial::LinkExpired, "https://img.example.com").unwrap();
    assert!(html.contains("<html lang=\"zh-CN\">"));
    assert!(html.contains("<h1>链接已过期</h1>") && html.contains(Denial::LinkExpired.message(Locale::ZhCn)));
    assert!(html.contains("<meta property=\"og:title\" content=\"发布会\">"));
    assert!(html.contains("class=\"gf-page gf-notice-page gf-denied-link_expired\""));
}

#[test]
fn the_preview_page_reads_back_what_was_written() {
    let p = page("Launch", true);
    let json = serde_json::to_string(&p).unwrap();
    assert_eq!(PreviewPage::from_json(&json).unwrap(), p);
    assert!(PreviewPage::from_json("{\"locale\":\"en\"}").is_err());
}
