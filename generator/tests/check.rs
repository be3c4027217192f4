//! `gatefold check` on the fixture sites in `tests/fixtures/sites/`: each `invalid-*` folder is
//! one kind of mistake, and the tests pin the exact report an owner sees (file, line, field,
//! message and fix).

use gatefold_contract::policy::Downloads;
use std::path::{Path, PathBuf};

use gatefold::config::{LoadOptions, Project, load};
use gatefold::diagnostics::{Diagnostic, Diagnostics, Severity};
use gatefold::images::SourceFormat;
use gatefold_contract::manifest::IpLogging;
use gatefold_contract::{Expiry, LinkPolicy, Locale, ResolvedExpiry};

/// 2026-01-01T00:00:00Z: before every expiry in the fixtures except the deliberately old one.
const NOW: i64 = 1_767_225_600;

fn sites() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../tests/fixtures/sites")
}

fn options() -> LoadOptions {
    LoadOptions { themes: Some(PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../themes")), verify_images: true, now: NOW, known: None }
}

/// An expiry as written in a fixture, with the instant it must resolve to.
fn expires(written: &str, at: i64) -> Option<ResolvedExpiry> {
    Some(ResolvedExpiry { written: Expiry::parse(written).unwrap(), at })
}

fn load_ok(dir: &Path) -> (Project, Diagnostics) {
    load(dir, &options()).unwrap_or_else(|d| panic!("{} should load:\n{d}", dir.display()))
}

fn problems(site: &str) -> Diagnostics {
    match load(&sites().join(site), &options()) {
        Ok((_, warnings)) => panic!("{site} should fail, but loaded with:\n{warnings}"),
        Err(d) => d,
    }
}

/// What a test expects of one diagnostic; `None` fields are not checked.
struct Expect<'a> {
    severity: Severity,
    file: &'a str,
    line: Option<usize>,
    column: Option<usize>,
    field: Option<&'a str>,
    message: &'a str,
    fix: &'a str,
}

fn error<'a>(file: &'a str, at: Option<(usize, usize)>, field: Option<&'a str>, message: &'a str, fix: &'a str) -> Expect<'a> {
    Expect { severity: Severity::Error, file, line: at.map(|a| a.0), column: at.map(|a| a.1), field, message, fix }
}

fn warning<'a>(file: &'a str, at: Option<(usize, usize)>, field: Option<&'a str>, message: &'a str, fix: &'a str) -> Expect<'a> {
    Expect { severity: Severity::Warning, ..error(file, at, field, message, fix) }
}

/// Asserts that the report is exactly the expected diagnostics, in order.
fn assert_report(site: &str, report: &Diagnostics, expected: &[Expect<'_>]) {
    let root = sites().join(site);
    let shown = report.to_string();
    assert_eq!(report.0.len(), expected.len(), "{site}: wrong number of diagnostics:\n{shown}");
    for (d, e) in report.0.iter().zip(expected) {
        let matches = |d: &Diagnostic| {
            d.severity == e.severity
                && d.file == root.join(e.file)
                && d.line == e.line
                && d.column == e.column
                && d.field.as_deref() == e.field
                && d.message.contains(e.message)
                && d.fix.as_deref().is_some_and(|f| f.contains(e.fix))
        };
        assert!(matches(d), "{site}: expected {:?} {} {:?}:{:?} {:?} `{}` (fix: `{}`), got\n{d}\n\nwhole report:\n{shown}", e.severity, e.file, e.line, e.column, e.field, e.message, e.fix);
    }
}

#[test]
fn the_good_site_loads_with_every_setting() {
    let (project, _) = load_ok(&sites().join("good"));
    let site = &project.site;
    assert_eq!(site.title, "Gatefold fixture 图库");
    assert_eq!(site.base_url, "https://images.example.com", "trailing slash trimmed");
    assert_eq!(site.default_locale, Locale::ZhCn);
    assert_eq!(site.timezone, chrono_tz::Tz::Asia__Shanghai);
    assert_eq!(site.theme, "default");
    assert_eq!(site.ip_logging, IpLogging::Full);
    assert_eq!(site.plan, gatefold::config::WorkersPlan::Paid);
    assert_eq!(site.images.widths, vec![480, 960, 1920], "sorted and deduplicated");
    assert_eq!((site.images.thumbnail, site.images.webp_quality, site.images.jpeg_quality), (300, 75, 85));
    assert!(site.images.avif);
    assert_eq!(site.images.max_megapixels, 50);
    assert_eq!(site.link_defaults.max_views, Some(100));
    assert_eq!(site.link_defaults.view_seconds, Some(900));
    assert_eq!(site.link_defaults.expires.as_ref().map(|e| (e.at, e.written.to_string())), Some((1_798_732_800, "2026-12-31".to_string())));

    let ids: Vec<&str> = project.galleries.iter().map(|g| g.id.as_str()).collect();
    assert_eq!(ids, ["launch", "preview"], "sorted by id; the folder without gallery.yaml is skipped");
}

#[test]
fn listed_images_keep_their_order_captions_and_alt_texts() {
    let (project, _) = load_ok(&sites().join("good"));
    let launch = &project.galleries[0];
    let images: Vec<(&str, &str, Option<&str>, &str, SourceFormat)> =
        launch.images.iter().map(|i| (i.file.as_str(), i.id.as_str(), i.caption.as_deref(), i.alt.as_str(), i.probe.format)).collect();
    assert_eq!(
        images,
        [
            ("hero.jpg", "hero", Some("Aurora X1, front"), "Aurora X1 seen from the front", SourceFormat::Jpeg),
            ("detail.png", "detail", Some("细节 · Detail"), "细节 · Detail", SourceFormat::Png),
            ("teaser.gif", "teaser", None, "Aurora X1 launch", SourceFormat::Gif),
            ("mood.webp", "mood", None, "Aurora X1 launch", SourceFormat::WebP),
        ]
    );
    assert_eq!((launch.images[0].probe.width, launch.images[0].probe.height), (320, 200));
    assert_eq!(launch.images[0].path, sites().join("good/launch/hero.jpg"));
    assert_eq!(launch.cover.as_deref(), Some("mood.webp"));
    assert_eq!(launch.cover_image().map(|i| i.file.as_str()), Some("mood.webp"));
    assert_eq!(launch.yaml_path, sites().join("good/launch/gallery.yaml"));
}

#[test]
fn without_an_images_list_every_image_in_the_folder_is_published_by_name() {
    let (project, _) = load_ok(&sites().join("good"));
    let preview = &project.galleries[1];
    let files: Vec<&str> = preview.images.iter().map(|i| i.file.as_str()).collect();
    assert_eq!(files, ["a-front.webp", "b-side.jpg"]);
    assert_eq!(preview.cover, None);
    assert_eq!(preview.cover_image().map(|i| i.file.as_str()), Some("a-front.webp"), "the first image is the default cover");
}

#[test]
fn descriptions_come_from_description_md_or_inline_markdown() {
    let (project, _) = load_ok(&sites().join("good"));
    assert_eq!(
        project.galleries[0].description_html.as_deref(),
        Some("<p>Final launch assets. <strong>Do not forward.</strong></p>\n<p>Questions: <a href=\"mailto:brand@example.com\">the brand team</a>.</p>\n")
    );
    assert_eq!(project.galleries[1].description_html.as_deref(), Some("<p>Review before launch, <em>ten minutes</em> per open.</p>\n"));
}

#[test]
fn links_inherit_site_defaults_for_the_fields_they_leave_out() {
    let (project, _) = load_ok(&sites().join("good"));
    let launch = &project.galleries[0];
    let names: Vec<(&str, &str, u32)> = launch.links.iter().map(|l| (l.name.as_str(), l.label.as_str(), l.rotate)).collect();
    assert_eq!(names, [("market", "市场团队 / Marketing", 0), ("sales", "Sales", 2), ("dealer-shanghai", "dealer-shanghai", 0), ("press", "press", 0)], "YAML order");
    let policies: Vec<LinkPolicy> = launch.links.iter().map(|l| l.policy(launch.disabled)).collect();
    assert_eq!(
        policies,
        [
            // 2026-12-05 in Shanghai: the link works through that day.
            LinkPolicy { max_views: Some(100), expires: expires("2026-12-05", 1_796_486_400), download: Downloads::NONE, view_seconds: Some(600), disabled: false, password: false, terms_fingerprint: None, opens_at: None, devices: None },
            LinkPolicy { max_views: Some(50), expires: expires("2026-12-21T18:00:00+08:00", 1_797_847_200), download: Downloads::ORIGINAL, view_seconds: None, disabled: false, password: false, terms_fingerprint: None, opens_at: None, devices: None },
            LinkPolicy { max_views: Some(100), expires: expires("2026-12-31", 1_798_732_800), download: Downloads::NONE, view_seconds: Some(900), disabled: true, password: false, terms_fingerprint: None, opens_at: None, devices: None },
            LinkPolicy { max_views: None, expires: None, download: Downloads::NONE, view_seconds: Some(900), disabled: false, password: false, terms_fingerprint: None, opens_at: None, devices: None },
        ]
    );
    assert_eq!(launch.links[0].expires.as_ref().map(|e| e.written.to_string()).as_deref(), Some("2026-12-05"));
}

#[test]
fn a_disabled_gallery_disables_its_links() {
    let (project, _) = load_ok(&sites().join("good"));
    let preview = &project.galleries[1];
    assert!(preview.disabled);
    assert_eq!(
        preview.links[0].policy(preview.disabled),
        LinkPolicy { max_views: Some(10), expires: expires("2026-11-24", 1_795_536_000), download: Downloads::NONE, view_seconds: Some(900), disabled: true, password: false, terms_fingerprint: None, opens_at: None, devices: None }
    );
}

#[test]
fn a_folder_without_gallery_yaml_is_skipped_with_a_warning() {
    let (_, warnings) = load_ok(&sites().join("good"));
    assert_report(
        "good",
        &warnings,
        &[warning("drafts", None, None, "folder `drafts` has no gallery.yaml, so it is not published", "add drafts/gallery.yaml")],
    );
}

#[test]
fn warnings_alone_do_not_stop_a_build() {
    let (project, warnings) = load_ok(&sites().join("warnings"));
    assert_eq!(project.galleries[0].images.len(), 1, "the unlisted file is not published");
    let html = project.galleries[0].description_html.clone().unwrap();
    assert!(!html.contains("<a href=\"https://x.example\">"), "raw HTML is shown as text: {html}");
    assert!(!html.contains("javascript"), "{html}");
    assert_report(
        "warnings",
        &warnings,
        &[
            warning("empty-folder", None, None, "has no gallery.yaml", "add empty-folder/gallery.yaml"),
            warning("g/gallery.yaml", Some((3, 3)), Some("description"), "2 piece(s) of raw HTML will be shown as text", "use Markdown"),
            warning("g/gallery.yaml", Some((3, 3)), Some("description"), "the link to `javascript:alert(1)` was removed", "link to a web page"),
            warning("g/gallery.yaml", Some((4, 1)), Some("images"), "not listed and will not be published: extra.jpg", "add them under `images:`"),
            warning(
                "g/gallery.yaml",
                Some((8, 14)),
                Some("links.market.expires"),
                "link `market` expired on 2025-06-30 (Asia/Shanghai); its visitors will see 'expired'",
                "set a later `expires:`",
            ),
        ],
    );
}

#[test]
fn unknown_field_suggests_the_right_name() {
    assert_report(
        "invalid-unknown-field",
        &problems("invalid-unknown-field"),
        &[
            error("g/gallery.yaml", Some((5, 5)), Some("links.market.max_view"), "unknown field `max_view`", "did you mean `max_views`?"),
            error("g/gallery.yaml", Some((6, 5)), Some("links.market.expire"), "unknown field `expire`", "did you mean `expires`?"),
        ],
    );
}

#[test]
fn heic_is_refused_with_a_conversion_hint() {
    assert_report(
        "invalid-heic",
        &problems("invalid-heic"),
        &[error("g/photo.heic", None, None, "this is a HEIC file; Gatefold accepts PNG, JPEG, GIF and WebP", "convert it")],
    );
}

#[test]
fn a_truncated_jpeg_is_caught_by_the_full_check() {
    let report = problems("invalid-truncated-jpeg");
    assert_report("invalid-truncated-jpeg", &report, &[error("g/cut.jpg", None, None, "cut short", "again")]);
}

#[test]
fn a_billion_laughs_file_is_refused_with_a_clean_error() {
    let report = problems("invalid-alias-bomb");
    assert_report(
        "invalid-alias-bomb",
        &report,
        &[error("g/gallery.yaml", Some((9, 10)), None, "YAML aliases expand to too many nodes", "write the values out")],
    );
}

#[test]
fn a_thousand_levels_of_nesting_fail_cleanly() {
    assert_report(
        "invalid-deep-nesting",
        &problems("invalid-deep-nesting"),
        &[error("g/gallery.yaml", Some((5, 65)), None, "the YAML nests deeper than 32 levels", "remove the extra nesting")],
    );
}

#[test]
fn impossible_and_vague_dates_are_errors_on_their_lines() {
    assert_report(
        "invalid-bad-date",
        &problems("invalid-bad-date"),
        &[
            error("g/gallery.yaml", Some((4, 14)), Some("links.market.expires"), "`2026-02-30` is not a calendar date", "write a date like 2026-12-31"),
            error("g/gallery.yaml", Some((6, 14)), Some("links.sales.expires"), "`next tuesday` is not a date", "write a date like 2026-12-31"),
            error("g/gallery.yaml", Some((8, 14)), Some("links.press.expires"), "expected a date, found `20261231`", "write a date like 2026-12-31"),
        ],
    );
}

#[test]
fn an_opening_after_the_expiry_and_an_unreadable_opening_are_errors_and_the_latest_opening_wins() {
    assert_report(
        "invalid-opens-at",
        &problems("invalid-opens-at"),
        &[
            error("g/gallery.yaml", Some((2, 11)), Some("links.market.opens_at"), "link `market` opens at 2026-12-10 but expires at 2026-12-05 (Asia/Shanghai): it would never open", "set `opens_at:` earlier than `expires:`"),
            warning("g/gallery.yaml", Some((7, 15)), Some("links.sales.opens_at"), "opens at 2026-12-01T10:00:00 but the gallery opens later, at 2026-12-10: the later moment wins", "remove this `opens_at:`"),
            error("g/gallery.yaml", Some((9, 15)), Some("links.press.opens_at"), "`next tuesday` is not a date", "write a date like 2026-12-01 (opens at the start of that day"),
            error("g/gallery.yaml", Some((11, 15)), Some("links.channel.opens_at"), "recipient `bob` of `channel` opens at 2026-12-20T09:00:00 but expires at 2026-12-15", "move `expires:` later"),
        ],
    );
}

#[test]
fn zero_negative_and_non_numeric_limits_are_errors() {
    assert_report(
        "invalid-zero-limit",
        &problems("invalid-zero-limit"),
        &[
            error("g/gallery.yaml", Some((4, 16)), Some("links.market.max_views"), "must be at least 1, found 0", "or `unlimited`"),
            error("g/gallery.yaml", Some((5, 19)), Some("links.market.view_seconds"), "must be at least 10, found -5", "at least 10"),
            error("g/gallery.yaml", Some((7, 16)), Some("links.sales.max_views"), "expected a whole number, found `many`", "at least 1"),
            error("g/gallery.yaml", Some((8, 15)), Some("links.sales.download"), "`yes` is not a download setting", "`true` or `original` (originals), `web`"),
        ],
    );
}

#[test]
fn a_link_named_twice_is_reported_at_the_second_one() {
    assert_report(
        "invalid-duplicate-link",
        &problems("invalid-duplicate-link"),
        &[error("g/gallery.yaml", Some((7, 3)), None, "`market` appears twice", "rename or remove the second one")],
    );
}

#[test]
fn missing_files_suggest_the_nearest_name() {
    assert_report(
        "invalid-missing-file",
        &problems("invalid-missing-file"),
        &[
            warning("g/gallery.yaml", Some((2, 1)), Some("images"), "not listed and will not be published: a.jpg", "add them under `images:`"),
            error("g/gallery.yaml", Some((3, 11)), Some("images[0].file"), "`a.jpeg` does not exist in the gallery folder", "did you mean `a.jpg`?"),
            error("g/gallery.yaml", Some((5, 11)), Some("images[1].file"), "`back.jpg` does not exist in the gallery folder", "add `back.jpg` to"),
        ],
    );
}

#[test]
fn an_image_listed_twice_is_an_error() {
    assert_report(
        "invalid-duplicate-image",
        &problems("invalid-duplicate-image"),
        &[error("g/gallery.yaml", Some((4, 11)), Some("images[1].file"), "`a.jpg` is listed twice", "remove the second entry")],
    );
}

#[test]
fn images_outside_the_gallery_folder_are_refused() {
    assert_report(
        "invalid-path-traversal",
        &problems("invalid-path-traversal"),
        &[error("g/gallery.yaml", Some((3, 11)), Some("images[0].file"), "`../../site.yaml` is not a file name in the gallery folder", "write just the file name")],
    );
}

#[test]
fn a_gallery_needs_at_least_one_link() {
    assert_report(
        "invalid-no-links",
        &problems("invalid-no-links"),
        &[
            error("g/gallery.yaml", Some((2, 8)), Some("links"), "no links: nobody could open this gallery", "add at least one link"),
            error("h/gallery.yaml", Some((1, 1)), Some("links"), "missing `links`", "add `links:`"),
        ],
    );
}

#[test]
fn bad_folder_and_link_names_get_a_valid_suggestion() {
    assert_report(
        "invalid-bad-slug",
        &problems("invalid-bad-slug"),
        &[
            error("Launch 2026", None, None, "gallery folder name `Launch 2026` is not a valid gallery id", "e.g. `launch-2026`"),
            error("Launch 2026/gallery.yaml", Some((3, 3)), Some("links.Market Team"), "link name `Market Team` is not valid", "e.g. `market-team`; put the human name in `label:`"),
        ],
    );
}

#[test]
fn the_cover_must_be_one_of_the_images() {
    assert_report(
        "invalid-cover",
        &problems("invalid-cover"),
        &[error("g/gallery.yaml", Some((2, 8)), Some("cover"), "`a.jpeg` is not one of the gallery's images", "did you mean `a.jpg`?")],
    );
}

#[test]
fn a_preview_image_setting_other_than_cover_or_none_is_an_error() {
    assert_report(
        "invalid-preview-image",
        &problems("invalid-preview-image"),
        &[error("g/gallery.yaml", Some((2, 16)), Some("preview_image"), "`thumbnail` is not a preview image setting", "write `preview_image: cover`")],
    );
}

#[test]
fn an_empty_title_is_an_error() {
    assert_report("invalid-empty-title", &problems("invalid-empty-title"), &[error("g/gallery.yaml", Some((1, 8)), Some("title"), "must not be empty", "write a short")]);
}

#[test]
fn a_base_url_with_a_path_is_an_error() {
    assert_report(
        "invalid-base-url",
        &problems("invalid-base-url"),
        &[error("site.yaml", Some((2, 11)), Some("base_url"), "must be just scheme and host", "https://images.example.com")],
    );
}

#[test]
fn more_than_25_images_is_an_error() {
    assert_report(
        "invalid-too-many-images",
        &problems("invalid-too-many-images"),
        &[error("g/gallery.yaml", None, Some("images"), "the folder holds 26 image files; a gallery holds at most 25", "second gallery folder")],
    );
}

#[test]
fn a_decompression_bomb_is_refused_before_decoding() {
    assert_report(
        "invalid-pixel-bomb",
        &problems("invalid-pixel-bomb"),
        &[error("g/bomb.png", None, None, "50000×50000 is 2500 megapixels, over the 100 megapixel limit", "scale it down")],
    );
}

#[test]
fn a_description_in_two_places_is_an_error() {
    assert_report(
        "invalid-both-descriptions",
        &problems("invalid-both-descriptions"),
        &[error("g/gallery.yaml", Some((2, 1)), Some("description"), "written both here and in description.md", "keep one")],
    );
}

#[test]
fn many_problems_in_many_files_are_reported_in_one_run() {
    assert_report(
        "invalid-many",
        &problems("invalid-many"),
        &[
            error("alpha/gallery.yaml", Some((4, 11)), Some("images[1].file"), "`ghost.jpg` does not exist", "remove this entry"),
            error("alpha/gallery.yaml", Some((7, 14)), Some("links.market.expires"), "`2026-02-30` is not a calendar date", "2026-12-31"),
            error("alpha/gallery.yaml", Some((8, 5)), Some("links.market.downlaod"), "unknown field `downlaod`", "did you mean `download`?"),
            error("beta/fake.jpg", None, None, "this is not a PNG, JPEG, GIF or WebP image", "export it as JPEG"),
            error("beta/gallery.yaml", Some((2, 8)), Some("cover"), "`nope.jpg` is not one of the gallery's images", "fake.jpg"),
            error("beta/gallery.yaml", Some((5, 19)), Some("links.sales.view_seconds"), "must be at least 10, found 5", "600 for ten minutes"),
            error("site.yaml", Some((3, 11)), Some("timezone"), "`Asia/Shangai` is not a known timezone", "did you mean `Asia/Shanghai`?"),
            error("site.yaml", Some((4, 1)), Some("ip_loging"), "unknown field `ip_loging`", "did you mean `ip_logging`?"),
            error("site.yaml", Some((6, 14)), Some("links.max_views"), "must be at least 1, found 0", "or `unlimited`"),
        ],
    );
}

#[test]
fn every_invalid_fixture_fails_and_is_tested_here() {
    let source = include_str!("check.rs");
    let mut names: Vec<String> = std::fs::read_dir(sites())
        .unwrap()
        .flatten()
        .filter(|e| e.path().is_dir())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with("invalid-"))
        .collect();
    names.sort();
    assert!(names.len() >= 19, "{names:?}");
    for name in names {
        assert!(load(&sites().join(&name), &options()).is_err(), "{name} should fail");
        assert!(source.contains(&format!("problems(\"{name}\")")), "{name} has no test asserting its report");
    }
}

/// A problem in a CSV row: the file and line, no column.
fn row_error<'a>(file: &'a str, line: usize, field: &'a str, message: &'a str, fix: &'a str) -> Expect<'a> {
    Expect { line: Some(line), column: None, ..error(file, None, Some(field), message, fix) }
}

#[test]
fn every_bad_row_of_a_recipient_csv_is_reported_with_its_line() {
    let csv = "g/dealers.csv";
    assert_report(
        "invalid-recipients-csv",
        &problems("invalid-recipients-csv"),
        &[
            row_error(csv, 3, "name", "recipient `dealer-001` appears twice (first on line 2)", "give each recipient a name of its own"),
            row_error(csv, 4, "name", "recipient name `Dealer Shanghai` is not valid", "e.g. `dealer-shanghai`; put the human name in `label`"),
            row_error(csv, 5, "label", "recipient `dealer-004` has no label", "write the name owners see"),
            row_error(csv, 6, "max_views", "`zero` is not a number of views", "leave the cell empty to inherit the audience's"),
            row_error(csv, 6, "expires", "`2026-02-30` is not a calendar date", "`never`, or leave the cell empty"),
            row_error(csv, 6, "download", "`all` is not a download setting", "`original+web`"),
            row_error(csv, 7, "row", "the row has 7 cells, the header has 6", "put quotes around cells containing commas"),
            Expect { severity: Severity::Warning, ..row_error(csv, 8, "email", "`someone@localhost` does not look like an e-mail address", "name@example.com") },
        ],
    );
}

#[test]
fn a_recipient_csv_header_names_known_columns_and_an_empty_list_is_refused() {
    let csv = "g/dealers.csv";
    assert_report(
        "invalid-recipients-header",
        &problems("invalid-recipients-header"),
        &[
            row_error(csv, 1, "phone", "unknown column `phone`", "known columns: name, label, email, note"),
            row_error(csv, 1, "emial", "unknown column `emial`", "did you mean `email`?"),
            row_error(csv, 1, "header", "the header has no `label` column", "starting with `name,label`"),
            error("g/gallery.yaml", Some((6, 17)), Some("links.nobody.recipients"), "the audience has no recipients", "add at least one recipient"),
        ],
    );
}

#[test]
fn inline_recipient_lists_passwords_and_download_values_are_checked_where_written() {
    let yaml = "g/gallery.yaml";
    assert_report(
        "invalid-recipients-inline",
        &problems("invalid-recipients-inline"),
        &[
            error(yaml, Some((4, 15)), Some("links.press.password"), "the password itself never goes in git", "`gatefold password g/@press`"),
            error(yaml, Some((8, 9)), Some("links.press.recipients[1]"), "recipient `xinhua` appears twice (first on line 6)", "a name of its own"),
            error(yaml, Some((10, 9)), Some("links.press.recipients[2].name"), "missing `name`", "add `name: dealer-shanghai`"),
            error(yaml, Some((13, 9)), Some("links.press.recipients[3].phone"), "unknown field `phone`", "known fields here: name, label, email"),
            error(yaml, Some((14, 30)), Some("links.press.recipients[3].download"), "`original` is listed twice", "list each size once"),
            error(yaml, Some((16, 17)), Some("links.nobody.recipients"), "the audience has no recipients", "remove `recipients:` to make it a plain link"),
            error(yaml, Some((18, 15)), Some("links.team.download"), "`everything` is not a download setting", "`[original, web]` for both"),
        ],
    );
}

#[test]
fn a_recipient_list_must_be_a_csv_file_in_the_gallery_folder() {
    let yaml = "g/gallery.yaml";
    assert_report(
        "invalid-recipients-file",
        &problems("invalid-recipients-file"),
        &[
            error(yaml, Some((4, 17)), Some("links.outside.recipients"), "`../dealers.csv` is not a CSV file name in the gallery folder", "the list must sit in the gallery's own folder"),
            error(yaml, Some((6, 17)), Some("links.typo.recipients"), "`dealers.csv` does not exist in the gallery folder", "did you mean `Dealers.csv`?"),
            error(yaml, Some((8, 17)), Some("links.not-csv.recipients"), "`a.jpg` is not a CSV file name", "write just the file name"),
            error(yaml, Some((10, 17)), Some("links.odd.recipients"), "expected a CSV file name or a list of recipients, found `42`", "`recipients: dealers.csv`"),
        ],
    );
}

#[test]
fn a_device_limit_outside_one_to_twenty_is_an_error_on_its_line_or_cell() {
    let fix = "from 1 to 20";
    assert_report(
        "invalid-devices",
        &problems("invalid-devices"),
        &[
            row_error("g/dealers.csv", 3, "devices", "`25` is not a number of devices from 1 to 20", "inherit the audience's"),
            error("g/gallery.yaml", Some((4, 14)), Some("links.market.devices"), "must be at least 1, found 0", fix),
            error("g/gallery.yaml", Some((6, 14)), Some("links.sales.devices"), "expected a whole number, found `two`", fix),
            error("site.yaml", Some((5, 12)), Some("links.devices"), "must be at most 20, found 21", fix),
        ],
    );
}


#[test]
fn mark_mistakes_are_reported_where_they_were_written() {
    let fix_email = "give every recipient an `email` in the recipient list";
    assert_report(
        "invalid-mark",
        &problems("invalid-mark"),
        &[
            error("g/gallery.yaml", Some((8, 16)), Some("links.sales.mark.visible"), "`{lable}` is not a stamp placeholder", "did you mean `{label}`?"),
            error("g/gallery.yaml", Some((11, 17)), Some("links.press.mark.forensic"), "a visible stamp needs the forensic mark", "remove `forensic: false`"),
            error("g/gallery.yaml", Some((16, 17)), Some("links.team.mark.position"), "`middle` is not a stamp position", "`position: corner`"),
            error("g/gallery.yaml", Some((20, 16)), Some("links.channel.mark.visible"), "the stamp names `{email}` but `channel/bob` has no e-mail address", fix_email),
            error("g/gallery.yaml", Some((24, 7)), Some("links.crew.mark.colour"), "unknown field `colour`", "forensic, visible, position, originals"),
            // The site's default, inherited by a plain link without an address, is reported where it was written.
            error("site.yaml", Some((6, 12)), Some("mark.visible"), "the stamp names `{email}` but `market` has no e-mail address", "its own `mark:`"),
        ],
    );
}

#[test]
fn the_marks_site_loads_with_a_warning_about_its_tiled_stamp() {
    let (project, warnings) = load_ok(&sites().join("marks"));
    assert_report(
        "marks",
        &warnings,
        &[warning("launch/gallery.yaml", Some((26, 16)), Some("links.board.mark.visible"), "a tiled stamp covers every chip", "use `position: corner`")],
    );
    let launch = project.galleries.iter().find(|g| g.id == "launch").unwrap();
    let link = |name: &str| launch.links.iter().find(|l| l.name == name).unwrap().mark.clone();
    let shop = link("dealers/shop-1").unwrap();
    assert_eq!(shop.stamp.unwrap().0, "上海店 · 2026-01-01 · shop1@example.cn", "the recipient's own label and address on the publish date");
    assert!(shop.originals);
    assert_eq!(link("board").unwrap().stamp.unwrap().1, gatefold::config::StampPosition::Tile);
    assert!(link("market").is_some_and(|m| m.stamp.is_none()), "the site's default");
    assert!(link("agency").is_none());
}
