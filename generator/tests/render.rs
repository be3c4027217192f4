//! Renders a hand-built site with the default theme and checks what visitors, bots and
//! owners get.

use gatefold_contract::policy::Downloads;
use gatefold::model::{GalleryModel, SiteModel};
use gatefold::render::{self, RenderReport};
use gatefold_contract::manifest::{self, Image, IpLogging, Link, Original, PageMode, Variant, VariantRole};
use gatefold_contract::owner::ShownExpiry;
use gatefold_contract::page::{PageLink, PageTemplate};
use gatefold_contract::preview::{CardState, PreviewPage};
use gatefold_contract::{Denial, LinkPolicy, Locale, ResolvedExpiry};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

const SALES_TOKEN: &str = "salestokensalestokensalest";
const MARKET_TOKEN: &str = "markettokenmarkettokenmark";
/// 5 Dec 2026 15:59 UTC = 23:59 in Shanghai.
const EXPIRES: i64 = 1_796_486_340;
/// The visitor's session end the worker fills in.
const SESSION_END: i64 = 1_796_000_000;

fn theme_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../themes/default")
}

fn variant(id: &str, role: VariantRole, width: u32, ext: &str, full_size: bool) -> Variant {
    Variant {
        role,
        width,
        height: width * 3 / 4,
        content_type: format!("image/{ext}").parse().unwrap(),
        file: format!("{id}-{width}.{ext}"),
        key: manifest::display_key(&format!("{id:0>16}"), &format!("{width}.{ext}")),
        full_size,
        marked: None,
    }
}

fn image(id: &str, caption: Option<&str>) -> Image {
    let mut variants =
        vec![variant(id, VariantRole::Thumb, 400, "webp", false), variant(id, VariantRole::Thumb, 400, "jpeg", false)];
    for (width, full) in [(800, false), (1600, true)] {
        variants.push(variant(id, VariantRole::Display, width, "webp", full));
        variants.push(variant(id, VariantRole::Display, width, "jpeg", full));
    }
    Image {
        id: id.into(),
        file_name: format!("{id}.jpg"),
        caption: caption.map(Into::into),
        alt: format!("Photo of {id}"),
        width: 4000,
        height: 3000,
        animated: false,
        variants,
        original: Original {
            key: manifest::original_key(&format!("{id:0>16}"), "jpg"),
            size: 12_000_000,
            content_type: gatefold_contract::MediaType::Jpeg,
            crc32: 7,
            marked: None,
        },
    }
}

fn link(name: &str, label: &str, token: &str, policy: LinkPolicy) -> (String, Link) {
    (name.into(), Link { name: name.into(), label: label.into(), token: token.into(), rotate: 0, policy, recipient: None, notify: None, mark: None })
}

fn site(dev_key: bool) -> SiteModel {
    let links = BTreeMap::from([
        link(
            "sales",
            "Sales team",
            SALES_TOKEN,
            LinkPolicy { download: Downloads::ORIGINAL, max_views: Some(200), expires: Some(ResolvedExpiry::at_instant(EXPIRES)), ..LinkPolicy::default() },
        ),
        link(
            "market",
            "Market <partners>",
            MARKET_TOKEN,
            LinkPolicy { view_seconds: Some(600), ..LinkPolicy::default() },
        ),
    ]);
    let gallery = GalleryModel {
        id: "launch".into(),
        title: "Product A launch".into(),
        description_html: Some("<p>Final <strong>launch</strong> images.</p>".into()),
        cover: Some("hero".into()),
        images: vec![image("hero", Some("Front view")), image("detail", None)],
        links,
        audiences: Default::default(),
        notify: Vec::new(),
        preview_image: None,
    };
    SiteModel {
        title: "Acme Images".into(),
        base_url: "https://img.example.com/".into(),
        default_locale: Locale::ZhCn,
        timezone: chrono_tz::Asia::Shanghai,
        utc_offsets: vec![(0, 8 * 3600)],
        ip_logging: IpLogging::Truncated,
        dev_key,
        key_fingerprint: String::new(),
        analytics: Default::default(),
        digest_hour: 9,
        galleries: BTreeMap::from([("launch".into(), gallery)]),
    }
}

struct Rendered {
    _dir: tempfile::TempDir,
    site: PathBuf,
    owner: PathBuf,
    report: RenderReport,
}

impl Rendered {
    fn site(&self, contract_path: &str) -> String {
        read(&self.site.join(contract_path.trim_start_matches('/')))
    }
    fn template(&self, mode: PageMode, locale: Locale) -> PageTemplate {
        PageTemplate::from_json(&self.site(&manifest::page_path("launch", mode, locale))).unwrap()
    }
    /// What a visitor of `link` gets: the template of its mode, filled as the worker fills it.
    fn page(&self, link: &str, locale: Locale) -> String {
        let built = site(false);
        let l = &built.galleries["launch"].links[link];
        let expiry = l.policy.expires.map(|e| ShownExpiry { at: e.at, utc_offset: 8 * 3600, end_of_day: false });
        let visit = PageLink { token: &l.token, label: &l.label, expiry, view_seconds: l.policy.view_seconds, session_expires_at: SESSION_END };
        self.template(PageMode::of(&l.policy), locale).fill(&visit).unwrap()
    }
    fn owner(&self, rel: &str) -> String {
        read(&self.owner.join(rel))
    }
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("reading {}: {e}", path.display()))
}

fn render_with(built: &SiteModel) -> Rendered {
    let dir = tempfile::tempdir().unwrap();
    let site = dir.path().join("site");
    let owner = dir.path().join("owner");
    let report = render::render(&theme_dir(), built, &site, &owner).unwrap();
    Rendered { _dir: dir, site, owner, report }
}

/// The download modes the fixture's links use (view only, originals): only those are rendered.
const USED_MODES: [PageMode; 2] = [PageMode::View, PageMode::Original];

/// Every page under the site directory, gallery pages as their templates' HTML.
fn all_site_pages(r: &Rendered) -> Vec<(String, String)> {
    let mut pages = Vec::new();
    for locale in Locale::ALL {
        for mode in USED_MODES {
            let p = manifest::page_path("launch", mode, locale);
            pages.push((p, r.template(mode, locale).html));
        }
        let p = manifest::preview_path("launch", locale);
        let preview = PreviewPage::from_json(&r.site(&p)).unwrap();
        pages.push((p.clone(), preview.interstitial(None, "https://img.example.com").unwrap()));
        for d in Denial::ALL {
            let p = manifest::denial_path(d, locale);
            pages.push((p.clone(), r.site(&p)));
        }
    }
    pages
}

#[test]
fn every_expected_file_is_written_and_counted() {
    let r = render_with(&site(false));
    assert_eq!(r.report.gallery_pages, 4, "1 gallery × the 2 download modes its links use × 2 languages");
    for mode in [PageMode::Web, PageMode::Both] {
        assert!(!r.site.join(manifest::page_path("launch", mode, Locale::En).trim_start_matches('/')).exists(), "no link uses {mode:?}");
    }
    assert_eq!(r.report.preview_pages, 2);
    assert_eq!(r.report.denial_pages, Denial::ALL.len() * 2);
    assert_eq!(r.report.pages, 6 + Denial::ALL.len() * 2);
    assert_eq!(r.report.qr_codes, 2);
    assert_eq!(all_site_pages(&r).len(), r.report.pages);
    for rel in [
        "index.html",
        "owner.css",
        "qr/launch/sales.svg",
        "qr/launch/sales.png",
        "qr/launch/market.svg",
        "qr/launch/market.png",
        "cards/launch/sales.html",
        "cards/launch/market.html",
        "share-kit/launch.en.txt",
        "share-kit/launch.zh-CN.txt",
    ] {
        assert!(r.owner.join(rel).is_file(), "owner/{rel} missing");
    }
}

#[test]
fn theme_assets_live_under_one_content_hashed_folder() {
    let r = render_with(&site(false));
    let base = &r.report.assets_base;
    assert!(base.starts_with("/assets/") && base.ends_with('/') && base.len() == "/assets/12345678/".len(), "{base}");
    let assets: Vec<_> = std::fs::read_dir(r.site.join("assets")).unwrap().map(|e| e.unwrap().file_name()).collect();
    assert_eq!(assets.len(), 1, "only the hashed folder sits under assets/: {assets:?}");
    for file in ["gallery.css", "gallery.js"] {
        assert!(r.site(&format!("{base}{file}")).len() > 100, "{file}");
    }
    let page = r.page("sales", Locale::En);
    assert!(page.contains(&format!("href=\"{base}gallery.css\"")));
    assert!(page.contains(&format!("src=\"{base}gallery.js\"")));
}

#[test]
fn download_markup_appears_only_on_the_link_that_allows_downloads() {
    let r = render_with(&site(false));
    for locale in Locale::ALL {
        let sales = r.page("sales", locale);
        assert!(sales.contains("class=\"gf-download\""), "{locale}");
        assert!(sales.contains(&format!("href=\"{}\"", manifest::download_path(SALES_TOKEN, "hero"))));
        assert!(sales.contains(&format!("href=\"{}\"", manifest::download_path(SALES_TOKEN, "detail"))));

        let market = r.page("market", locale);
        assert!(!market.contains("/download/"), "{locale}: a download URL on a view-only page");
        assert!(
            !market.contains("gf-download") && !market.contains(" download"),
            "{locale}: download markup on a view-only page"
        );
    }
}

#[test]
fn no_page_names_an_original() {
    let r = render_with(&site(false));
    for (path, html) in all_site_pages(&r) {
        // R2 keys stay between the build and the worker: URLs name images by link and file.
        assert!(!html.contains("originals/") && !html.contains("display/"), "{path}: an R2 key");
    }
}

#[test]
fn gallery_pages_show_every_image_from_its_own_link() {
    let r = render_with(&site(false));
    let page = r.page("market", Locale::En);
    assert!(page.contains(&format!("src=\"{}\"", manifest::image_path(MARKET_TOKEN, "hero-400.jpeg"))));
    assert!(
        page.contains(&format!("{} 1600w", manifest::image_path(MARKET_TOKEN, "detail-1600.webp"))),
        "lightbox offers full size"
    );
    assert!(!page.contains(SALES_TOKEN), "one link's page never carries another's token");
    assert_eq!(page.matches("<button class=\"gf-thumb\"").count(), 2);
    assert!(page.contains("data-index=\"1\""));
    assert!(page.contains("type=\"image/webp\""));
    assert!(page.contains("loading=\"lazy\"") || page.contains("loading=\"eager\""));
    assert!(page.contains("width=\"400\" height=\"300\""), "sizes reserve space");
    assert!(page.contains("<dialog id=\"gf-lightbox\""));
    assert!(page.contains("Front view"), "caption");
    assert!(page.contains("alt=\"Photo of detail\""));
    assert!(page.contains("<p>Final <strong>launch</strong> images.</p>"), "description is inserted as HTML");
    assert!(page.contains("Market &lt;partners&gt;"), "labels are escaped");
    assert!(page.contains("gf-cover"), "the cover image is shown");
}

#[test]
fn grid_images_never_load_the_full_size_file() {
    let r = render_with(&site(false));
    let page = r.page("market", Locale::En);
    let (outside_templates, _) = page.split_once("<template").unwrap();
    assert!(!outside_templates.contains("-1600."), "full-size variants appear outside the lightbox template");
}

#[test]
fn pages_keep_to_the_strict_content_security_policy() {
    let r = render_with(&site(false));
    for (path, html) in all_site_pages(&r) {
        assert!(!html.contains("style="), "{path}: style attribute");
        assert!(!html.contains("<style"), "{path}: inline style element");
        for (i, _) in html.match_indices("<script") {
            let tag = &html[i..i + html[i..].find('>').unwrap()];
            assert!(tag.contains(" src=\""), "{path}: inline script {tag}");
        }
        assert!(!has_event_handler_attribute(&html), "{path}: inline event handler");
        // The interstitial (preview page) keeps its Referer on this origin so its button's POST
        // can show where it came from; every other page sends none.
        let referrer = if path.contains("/preview/") { "same-origin" } else { "no-referrer" };
        assert!(html.contains(&format!("<meta name=\"referrer\" content=\"{referrer}\">")), "{path}");
        assert!(html.contains("<meta name=\"robots\" content=\"noindex"), "{path}");
    }
}

#[test]
fn gallery_pages_carry_the_session_end_the_view_duration_and_the_session_over_notice() {
    let r = render_with(&site(false));
    for locale in Locale::ALL {
        let page = r.page("market", locale);
        assert!(page.contains(&format!("<meta name=\"gatefold-session-expires\" content=\"{SESSION_END}\">")));
        assert!(page.contains("<meta name=\"gatefold-view-seconds\" content=\"600\">"));
        assert!(page.contains("<section id=\"gf-session-over\""));
        assert!(page.contains(Denial::SessionExpired.title(locale)));
        assert!(page.contains(Denial::SessionExpired.message(locale)));
    }
    // gallery.js reads an empty duration as none: no countdown.
    let untimed = r.page("sales", Locale::En);
    assert!(untimed.contains("<meta name=\"gatefold-view-seconds\" content=\"\">"), "{untimed}");
}

#[test]
fn one_template_per_gallery_download_mode_and_language_serves_every_link() {
    let r = render_with(&site(false));
    for locale in Locale::ALL {
        for mode in USED_MODES {
            let t = r.template(mode, locale);
            assert_eq!((t.locale, t.timezone.as_str()), (locale, "Asia/Shanghai"));
            assert!(!t.html.contains(SALES_TOKEN) && !t.html.contains(MARKET_TOKEN), "a template never holds a token");
            assert!(!t.html.contains("Sales team"), "nor a label");
        }
    }
    // The expiry line is worded from the theme's strings, exactly as the owner files read them.
    let en = r.template(PageMode::View, Locale::En);
    assert_eq!(en.wording.available_until, "Available until {date} ({tz})");
    assert_eq!(en.wording.no_expiry, "No expiry");
}

#[test]
fn preview_pages_carry_the_card_and_nothing_to_open() {
    let r = render_with(&site(false));
    for locale in Locale::ALL {
        let preview = PreviewPage::from_json(&r.site(&manifest::preview_path("launch", locale))).unwrap();
        assert_eq!((preview.locale, preview.card.title.as_str(), preview.card.site_title.as_str()), (locale, "Product A launch", "Acme Images"));
        assert!(preview.card.image.is_none(), "no `preview_image: cover`, no image");
        assert!(preview.html.contains(gatefold_contract::preview::META_SLOT), "the slot for the card's tags");
        let open = preview.interstitial(None, "https://img.example.com").unwrap();
        let closed = preview.closed(Denial::LinkExpired, "https://img.example.com").unwrap();
        for html in [&open, &closed] {
            assert!(html.contains("<meta property=\"og:title\" content=\"Product A launch\">"));
            assert!(html.contains("<meta name=\"robots\" content=\"noindex"));
            assert!(!html.contains("<img") && !html.contains("/s/") && !html.contains("og:image"));
            assert!(!html.contains(SALES_TOKEN) && !html.contains(MARKET_TOKEN));
        }
        assert!(closed.contains(Denial::LinkExpired.message(locale)) && closed.contains(&format!("href=\"{}gallery.css\"", r.report.assets_base)));
    }
    let end_of_2030 = Some(ShownExpiry { at: 1_924_963_200, utc_offset: 8 * 3600, end_of_day: true });
    let card = |locale| PreviewPage::from_json(&r.site(&manifest::preview_path("launch", locale))).unwrap();
    assert_eq!(card(Locale::En).description(CardState::Open(end_of_2030)).unwrap(), "2 images · until 31 Dec 2030 23:59");
    assert_eq!(card(Locale::ZhCn).description(CardState::Open(end_of_2030)).unwrap(), "共 2 张图片 · 有效期至 2030年12月31日 23:59");
}

#[test]
fn a_gallery_with_a_preview_image_names_it_by_its_hash_with_the_covers_alt() {
    let mut s = site(false);
    let gallery = s.galleries.get_mut("launch").unwrap();
    gallery.preview_image = Some(gatefold::images::PreviewFile { hash: "0123456789abcdef0123456789abcdef".into(), width: 600, height: 450, path: PathBuf::new() });
    let r = render_with(&s);
    let preview = PreviewPage::from_json(&r.site(&manifest::preview_path("launch", Locale::En))).unwrap();
    let image = preview.card.image.clone().expect("the gallery opted in");
    assert_eq!(image.path, "/assets/preview/0123456789abcdef0123456789abcdef.jpg");
    assert_eq!((image.width, image.height, image.alt.as_str()), (600, 450, "Photo of hero"));
    let html = preview.interstitial(None, "https://img.example.com").unwrap();
    assert!(html.contains("<meta property=\"og:image\" content=\"https://img.example.com/assets/preview/0123456789abcdef0123456789abcdef.jpg\">"));
}

#[test]
fn denial_pages_explain_in_the_contract_wording_without_tokens() {
    let r = render_with(&site(false));
    for denial in Denial::ALL {
        for locale in Locale::ALL {
            let html = r.site(&manifest::denial_path(denial, locale));
            assert!(html.contains(denial.title(locale)), "{denial} {locale}");
            assert!(html.contains(denial.message(locale)), "{denial} {locale}");
            assert!(html.contains("Acme Images"));
            assert!(!html.contains("/s/") && !html.contains(SALES_TOKEN) && !html.contains(MARKET_TOKEN));
            assert_eq!(html.matches(manifest::DENIAL_SLOT).count(), 1, "{denial} {locale}: one slot for the worker's part");
        }
    }
}

#[test]
fn qr_cards_carry_the_code_the_url_and_the_expiry_in_both_languages() {
    let r = render_with(&site(false));
    let card = r.owner("cards/launch/sales.html");
    assert!(card.contains("<svg"), "inline QR");
    assert!(card.contains(&format!("https://img.example.com/s/{SALES_TOKEN}")));
    assert!(card.contains("扫码查看") && card.contains("Scan to view"));
    assert!(card.contains("有效期至 2026年12月5日 23:59") && card.contains("Available until 5 Dec 2026 23:59"));
    assert!(card.contains("Sales team") && card.contains("Product A launch"));
    assert!(card.contains("href=\"../../owner.css\""));
    assert!(r.owner("owner.css").contains("@page"));
    assert!(r.owner("cards/launch/market.html").contains("长期有效"));
}

#[test]
fn share_kits_list_each_audience_with_its_terms() {
    let r = render_with(&site(false));
    let en = r.owner("share-kit/launch.en.txt");
    assert!(en.contains("Subject: Product A launch"));
    assert!(en.contains(&format!("https://img.example.com/s/{SALES_TOKEN}")));
    assert!(en.contains(&format!("https://img.example.com/s/{MARKET_TOKEN}")));
    assert!(en.contains("Market <partners>"), "plain text is not HTML-escaped");
    assert!(en.contains("Originals can be downloaded") && en.contains("View only, no downloads"));
    assert!(en.contains("Up to 200 opens") && en.contains("Unlimited opens"));
    assert!(en.contains("Each open lasts 10 min"));
    assert!(en.contains("do not forward"));
    let zh = r.owner("share-kit/launch.zh-CN.txt");
    assert!(zh.contains("请勿将链接转发给未授权伙伴"));
    assert!(zh.contains("查看截止：2026年12月5日 23:59"));
}

#[test]
fn disabled_links_stay_out_of_share_kits_but_keep_their_qr() {
    let mut m = site(false);
    m.galleries.get_mut("launch").unwrap().links.get_mut("market").unwrap().policy.disabled = true;
    let r = render_with(&m);
    assert!(!r.owner("share-kit/launch.en.txt").contains(MARKET_TOKEN));
    assert!(r.owner("index.html").contains("is-disabled"));
    assert!(r.owner.join("qr/launch/market.svg").is_file());
}

#[test]
fn the_owner_overview_links_every_qr_card_and_share_kit() {
    let r = render_with(&site(false));
    let index = r.owner("index.html");
    for href in [
        "qr/launch/sales.svg",
        "qr/launch/sales.png",
        "cards/launch/sales.html",
        "cards/launch/market.html",
        "share-kit/launch.en.txt",
        "share-kit/launch.zh-CN.txt",
    ] {
        assert!(index.contains(&format!("href=\"{href}\"")), "{href}");
    }
    assert!(index.contains("lang=\"zh-CN\""), "owner files use the site's default language");
    assert!(!index.contains("development key") && !index.contains("开发密钥"));
}

#[test]
fn dev_key_builds_say_so_in_every_owner_file() {
    let r = render_with(&site(true));
    for rel in ["index.html", "cards/launch/sales.html", "cards/launch/market.html"] {
        assert!(r.owner(rel).contains("开发密钥"), "{rel}");
    }
    assert!(r.owner("share-kit/launch.en.txt").contains("development key"));
    assert!(r.owner("share-kit/launch.zh-CN.txt").contains("开发密钥"));
}

#[test]
fn a_theme_missing_a_translation_names_the_file_and_the_key() {
    let dir = tempfile::tempdir().unwrap();
    let theme = dir.path().join("theme");
    copy_dir(&theme_dir(), &theme);
    let zh = theme.join("strings/zh-CN.yaml");
    let text = read(&zh).lines().filter(|l| !l.starts_with("no_expiry:")).collect::<Vec<_>>().join("\n");
    std::fs::write(&zh, text).unwrap();
    let err =
        render::render(&theme, &site(false), &dir.path().join("s"), &dir.path().join("o")).unwrap_err();
    let msg = format!("{err:#}");
    assert!(msg.contains("zh-CN.yaml") && msg.contains("no_expiry"), "{msg}");
}

fn copy_dir(from: &Path, to: &Path) {
    for entry in walkdir::WalkDir::new(from) {
        let entry = entry.unwrap();
        let dest = to.join(entry.path().strip_prefix(from).unwrap());
        if entry.file_type().is_dir() {
            std::fs::create_dir_all(&dest).unwrap();
        } else {
            std::fs::copy(entry.path(), &dest).unwrap();
        }
    }
}

/// Whether any tag has an `on…=` attribute (onclick, onload…), which a strict CSP blocks.
fn has_event_handler_attribute(html: &str) -> bool {
    html.match_indices(" on").any(|(i, _)| {
        let rest = &html[i + 3..];
        let name_len = rest.chars().take_while(|c| c.is_ascii_lowercase()).count();
        name_len > 0 && rest[name_len..].starts_with('=')
    })
}
