//! `site.yaml`: settings for the whole site and the defaults every link inherits.

use std::path::Path;
use std::str::FromStr;

use chrono_tz::Tz;
use gatefold_contract::Locale;
use gatefold_contract::policy::Downloads;
use gatefold_contract::manifest::{Analytics, IpLogging};

use super::policy;
use super::yaml::{self, FileDiagnostics, Node, did_you_mean, join};
use super::{LinkDefaults, SiteConfig, WorkersPlan, is_slug};
use crate::images::ImageSettings;

pub const SITE_FIELDS: &[&str] = &["title", "base_url", "default_locale", "timezone", "theme", "ip_logging", "analytics", "plan", "images", "links", "notify", "notify_digest_at", "preview_image", "mark"];
const ANALYTICS_FIELDS: &[&str] = &["retention_days"];
const IMAGE_FIELDS: &[&str] = &["widths", "thumbnail", "webp_quality", "jpeg_quality", "avif", "max_megapixels"];
const LINK_DEFAULT_FIELDS: &[&str] = &["max_views", "expires", "download", "view_seconds", "devices"];

impl SiteConfig {
    fn set_timezone(&mut self, tz: Tz) {
        self.timezone = tz;
        self.utc_offsets = utc_offsets(tz);
    }
}

/// The timezone's UTC offsets from 2000 to 2060 as `(from, offset)` seconds: the table the
/// manifest carries, so expiries are resolved and analytics bucketed by local hour with the
/// same data in the generator and in the worker (which has no timezone database).
pub fn utc_offsets(tz: Tz) -> Vec<(i64, i32)> {
    use chrono::{Offset, TimeZone};
    let offset_at = |t: i64| {
        let utc = chrono::DateTime::from_timestamp(t, 0).expect("2000..2060 is in range").naive_utc();
        tz.offset_from_utc_datetime(&utc).fix().local_minus_utc()
    };
    let (start, end) = (946_684_800_i64, 2_871_763_200_i64);
    let mut out = vec![(i64::MIN / 2, offset_at(start))];
    let mut prev = offset_at(start);
    // Offsets change at most a few times a year and never twice within six hours: step six
    // hours, then find the exact second of each change by bisection.
    const STEP: i64 = 6 * 3600;
    let mut t = start;
    while t < end {
        let next = t + STEP;
        let o = offset_at(next);
        if o != prev {
            let (mut lo, mut hi) = (t, next);
            while hi - lo > 1 {
                let mid = lo + (hi - lo) / 2;
                if offset_at(mid) == prev { lo = mid } else { hi = mid }
            }
            out.push((hi, o));
            prev = o;
        }
        t = next;
    }
    out
}

/// Checks and normalises a base URL: http(s), a host, no path, query or fragment.
pub fn normalize_base_url(text: &str) -> Result<String, String> {
    let text = text.trim();
    let url = url::Url::parse(text).map_err(|e| format!("`{text}` is not a URL ({e})"))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(format!("`{text}` must start with https:// (or http:// for local testing)"));
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err(format!("`{text}` has no host name"));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(format!("`{text}` must not contain a user name or password"));
    }
    if url.path() != "/" || url.query().is_some() || url.fragment().is_some() {
        return Err(format!("`{text}` must be just scheme and host (Gatefold serves the whole host), without a path, `?` or `#`"));
    }
    Ok(url.as_str().trim_end_matches('/').to_string())
}

/// Reads site.yaml. Always returns settings (defaults where a field is wrong) so the galleries
/// can still be checked in the same run; problems go to `ctx`.
pub fn read(ctx: &mut FileDiagnostics, root: Option<&Node<'_>>, themes_dir: Option<&Path>) -> SiteConfig {
    let mut site = SiteConfig {
        base_url: String::new(),
        title: String::new(),
        default_locale: Locale::En,
        timezone: Tz::UTC,
        utc_offsets: utc_offsets(Tz::UTC),
        theme: "default".into(),
        images: ImageSettings::default(),
        link_defaults: LinkDefaults::default(),
        ip_logging: IpLogging::Truncated,
        analytics: Analytics::default(),
        plan: WorkersPlan::default(),
        notify: Vec::new(),
        digest_hour: gatefold_contract::notify::DEFAULT_DIGEST_HOUR,
        preview_image: super::PreviewImage::None,
        mark: None,
    };
    let Some(root) = root else {
        ctx.error(None, "", "site.yaml is empty", "write at least `title:` and `base_url:` (see galleries/README.md)");
        return site;
    };
    let Some(map) = ctx.mapping(root, "", "the site settings") else { return site };
    ctx.unknown_keys(&map, "", SITE_FIELDS);

    match map.value("title") {
        Some(node) => site.title = ctx.required_text(node, "title").unwrap_or_default(),
        None => ctx.error(Some(root), "title", "missing `title`", "add `title: <your site's name>`; it is shown on every page"),
    }
    match map.value("base_url") {
        Some(node) => {
            if let Some(text) = ctx.text(node, "base_url") {
                match normalize_base_url(&text) {
                    Ok(url) => site.base_url = url,
                    Err(message) => ctx.error(Some(node), "base_url", message, "write the address visitors use, e.g. `https://images.example.com`"),
                }
            }
        }
        None => ctx.error(Some(root), "base_url", "missing `base_url`", "add `base_url: https://images.example.com` (the address links and QR codes point to)"),
    }
    if let Some(node) = map.value("default_locale") {
        let tags: Vec<&str> = Locale::ALL.iter().map(|l| l.tag()).collect();
        if let Some(t) = ctx.text(node, "default_locale") {
            match Locale::ALL.iter().find(|l| l.tag() == t.trim()) {
                Some(l) => site.default_locale = *l,
                None => ctx.error(Some(node), "default_locale", format!("`{t}` is not a supported language"), format!("write one of: {}", tags.join(", "))),
            }
        }
    }
    if let Some(node) = map.value("timezone")
        && let Some(t) = ctx.text(node, "timezone")
    {
        match Tz::from_str(t.trim()) {
            Ok(tz) => site.set_timezone(tz),
            Err(_) => {
                let names = chrono_tz::TZ_VARIANTS.iter().map(|tz| tz.name());
                let fix = match did_you_mean(t.trim(), names) {
                    Some(best) => format!("did you mean `{best}`? Timezones use IANA names like Asia/Shanghai or Europe/Berlin"),
                    None => "write an IANA timezone name like Asia/Shanghai, Europe/Berlin or UTC".into(),
                };
                ctx.error(Some(node), "timezone", format!("`{t}` is not a known timezone"), fix);
            }
        }
    }
    if let Some(node) = map.value("theme")
        && let Some(t) = ctx.text(node, "theme")
    {
        let t = t.trim().to_string();
        if !is_slug(&t) {
            ctx.error(Some(node), "theme", format!("`{t}` is not a theme folder name"), "write the name of a folder in themes/, e.g. `default`");
        } else if let Some(dir) = themes_dir.filter(|d| d.is_dir()) {
            if dir.join(&t).is_dir() {
                site.theme = t;
            } else {
                let mut available: Vec<String> = std::fs::read_dir(dir)
                    .map(|rd| rd.flatten().filter(|e| e.path().is_dir()).map(|e| e.file_name().to_string_lossy().into_owned()).collect())
                    .unwrap_or_default();
                available.sort();
                ctx.error(Some(node), "theme", format!("there is no theme `{t}` in {}", dir.display()), format!("write one of: {}", available.join(", ")));
            }
        } else {
            site.theme = t;
        }
    }
    if let Some(node) = map.value("ip_logging")
        && let Some(t) = ctx.text(node, "ip_logging")
    {
        match t.trim() {
            "full" => site.ip_logging = IpLogging::Full,
            "truncated" => site.ip_logging = IpLogging::Truncated,
            "off" => site.ip_logging = IpLogging::Off,
            other => ctx.error(
                Some(node),
                "ip_logging",
                format!("`{other}` is not an IP logging mode"),
                "write `truncated` (network only: rough location, not the person), `full` or `off`",
            ),
        }
    }
    if let Some(node) = map.value("plan")
        && let Some(t) = ctx.text(node, "plan")
    {
        match t.trim() {
            "free" => site.plan = WorkersPlan::Free,
            "paid" => site.plan = WorkersPlan::Paid,
            other => ctx.error(
                Some(node),
                "plan",
                format!("`{other}` is not a Workers plan"),
                "write `free` (20,000 files per deployment, the default) or `paid` (100,000), as your Cloudflare account has",
            ),
        }
    }
    if let Some(node) = map.value("analytics")
        && let Some(analytics) = ctx.mapping(node, "analytics", "the access-log settings")
    {
        ctx.unknown_keys(&analytics, "analytics", ANALYTICS_FIELDS);
        if let Some(node) = analytics.value("retention_days")
            && let Some(days) = ctx.int(node, "analytics.retention_days", 1, 36_500, "write how many days the access log keeps, e.g. 400 (the default)")
        {
            site.analytics.retention_days = days as u32;
        }
    }
    if let Some(node) = map.value("notify")
        && let Some(channels) = super::notify::read(ctx, node, "notify")
    {
        site.notify = channels;
    }
    if let Some(node) = map.value("notify_digest_at")
        && let Some(hour) = super::notify::read_digest_at(ctx, node, "notify_digest_at")
    {
        site.digest_hour = hour;
    }
    if let Some(node) = map.value("mark") {
        site.mark = super::mark::read(ctx, node, "mark").flatten();
    }
    if let Some(node) = map.value("preview_image") {
        site.preview_image = super::gallery::read_preview_image(ctx, node);
    }
    if let Some(node) = map.value("images") {
        read_images(ctx, node, &mut site.images);
    }
    if let Some(node) = map.value("links")
        && let Some(links) = ctx.mapping(node, "links", "the link defaults")
    {
        ctx.unknown_keys(&links, "links", LINK_DEFAULT_FIELDS);
        let fields = policy::read(ctx, &links, "links", &site);
        site.link_defaults = LinkDefaults {
            max_views: fields.max_views.or(None),
            expires: fields.expires.or(None),
            download: fields.download.unwrap_or(Downloads::NONE),
            view_seconds: fields.view_seconds.or(None),
            devices: fields.devices.or(None),
        };
    }
    site
}

fn read_images(ctx: &mut FileDiagnostics, node: &Node<'_>, out: &mut ImageSettings) {
    let Some(map) = ctx.mapping(node, "images", "the image settings") else { return };
    ctx.unknown_keys(&map, "images", IMAGE_FIELDS);
    const WIDTH_FIX: &str = "write pixel widths between 16 and 8192, e.g. [480, 960, 1920]";
    if let Some(node) = map.value("widths") {
        match &node.data {
            saphyr::YamlData::Sequence(items) if !items.is_empty() => {
                let mut widths = Vec::new();
                for (i, item) in items.iter().enumerate() {
                    if let Some(w) = ctx.int(item, &format!("images.widths[{i}]"), 16, 8192, WIDTH_FIX) {
                        widths.push(w as u32);
                    }
                }
                widths.sort_unstable();
                widths.dedup();
                if !widths.is_empty() {
                    out.widths = widths;
                }
            }
            _ => ctx.error(Some(node), "images.widths", format!("expected a list of widths, found {}", yaml::describe(node)), WIDTH_FIX),
        }
    }
    if let Some(node) = map.value("thumbnail")
        && let Some(n) = ctx.int(node, "images.thumbnail", 16, 8192, "write the grid thumbnail width in pixels, e.g. 360")
    {
        out.thumbnail = n as u32;
    }
    for (key, slot) in [("webp_quality", &mut out.webp_quality), ("jpeg_quality", &mut out.jpeg_quality)] {
        if let Some(node) = map.value(key)
            && let Some(n) = ctx.int(node, &join("images", key), 1, 100, "write a quality from 1 to 100 (80 is a good balance)")
        {
            *slot = n as u8;
        }
    }
    if let Some(node) = map.value("avif")
        && let Some(b) = ctx.bool(node, "images.avif")
    {
        out.avif = b;
    }
    if let Some(node) = map.value("max_megapixels")
        && let Some(n) = ctx.int(node, "images.max_megapixels", 1, 1000, "write the largest image size you accept in megapixels, 1 to 1000 (default 100)")
    {
        out.max_megapixels = n as u32;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn shanghai_has_one_fixed_offset() {
        let offsets = utc_offsets(chrono_tz::Asia::Shanghai);
        assert_eq!(offsets.len(), 1);
        assert_eq!(offsets[0].1, 8 * 3600);
    }

    #[test]
    fn berlin_switches_to_summer_time_at_the_right_instant() {
        let offsets = utc_offsets(chrono_tz::Europe::Berlin);
        // 2026-03-29 01:00 UTC: CET → CEST.
        let change = chrono::Utc.with_ymd_and_hms(2026, 3, 29, 1, 0, 0).unwrap().timestamp();
        assert!(offsets.contains(&(change, 7200)), "{:?}", &offsets[..4]);
    }

    #[test]
    fn a_date_resolves_as_the_timezone_database_says() {
        // Chile springs forward at local midnight: 2026-09-06 00:00 does not exist in Santiago,
        // so 5 September ends at 01:00 local on the 6th.
        let tz = chrono_tz::America::Santiago;
        let at = gatefold_contract::Expiry::parse("2026-09-05").unwrap().instant(&utc_offsets(tz)).unwrap();
        assert_eq!(tz.timestamp_opt(at, 0).unwrap().format("%Y-%m-%d %H:%M").to_string(), "2026-09-06 01:00");
    }

    #[test]
    fn base_urls_are_trimmed_and_checked() {
        assert_eq!(normalize_base_url("https://images.example.com/").unwrap(), "https://images.example.com");
        assert_eq!(normalize_base_url("http://127.0.0.1:8787").unwrap(), "http://127.0.0.1:8787");
        assert!(normalize_base_url("ftp://example.com").is_err());
        assert!(normalize_base_url("https://example.com/gallery").is_err());
        assert!(normalize_base_url("https://example.com/?a=1").is_err());
        assert!(normalize_base_url("images.example.com").is_err());
        assert!(normalize_base_url("https://user:pw@example.com").is_err());
    }

    fn site(text: &str) -> (SiteConfig, Vec<crate::diagnostics::Diagnostic>) {
        let mut ctx = FileDiagnostics::new("site.yaml");
        let root = yaml::parse(Path::new("site.yaml"), text).unwrap();
        let site = read(&mut ctx, root.as_ref(), None);
        (site, ctx.diags)
    }

    #[test]
    fn a_minimal_site_gets_the_documented_defaults() {
        let (s, diags) = site("title: T\nbase_url: https://x.example/\n");
        assert!(diags.is_empty(), "{diags:?}");
        assert_eq!(s.base_url, "https://x.example");
        assert_eq!(s.timezone, Tz::UTC);
        assert_eq!(s.default_locale, Locale::En);
        assert_eq!(s.images, ImageSettings::default());
        assert_eq!(s.ip_logging, IpLogging::Truncated);
        assert_eq!(s.link_defaults, LinkDefaults::default());
        assert_eq!(s.analytics.retention_days, 400);
        assert_eq!(s.plan, WorkersPlan::Free);
    }

    #[test]
    fn the_workers_plan_is_read_and_checked() {
        let (s, diags) = site("title: T\nbase_url: https://x.example\nplan: paid\n");
        assert!(diags.is_empty(), "{diags:?}");
        assert_eq!(s.plan, WorkersPlan::Paid);
        let (s, diags) = site("title: T\nbase_url: https://x.example\nplan: business\n");
        assert_eq!(diags.len(), 1, "{diags:?}");
        assert_eq!((diags[0].line, diags[0].field.as_deref()), (Some(3), Some("plan")));
        assert_eq!(s.plan, WorkersPlan::Free, "a wrong value keeps the default");
    }

    #[test]
    fn the_access_log_retention_is_read_and_checked() {
        let (s, diags) = site("title: T\nbase_url: https://x.example\nanalytics:\n  retention_days: 90\n");
        assert!(diags.is_empty(), "{diags:?}");
        assert_eq!(s.analytics.retention_days, 90);
        let (s, diags) = site("title: T\nbase_url: https://x.example\nanalytics:\n  retention_days: 0\n");
        assert_eq!(diags.len(), 1, "{diags:?}");
        assert_eq!((diags[0].line, diags[0].field.as_deref()), (Some(4), Some("analytics.retention_days")));
        assert_eq!(s.analytics.retention_days, 400, "a wrong value keeps the default");
    }

    #[test]
    fn widths_are_sorted_and_deduplicated() {
        let (s, diags) = site("title: T\nbase_url: https://x.example\nimages:\n  widths: [1920, 480, 1920]\n");
        assert!(diags.is_empty(), "{diags:?}");
        assert_eq!(s.images.widths, vec![480, 1920]);
    }

    #[test]
    fn a_misspelt_timezone_gets_a_suggestion() {
        let (_, diags) = site("title: T\nbase_url: https://x.example\ntimezone: Asia/Shangai\n");
        assert_eq!(diags.len(), 1);
        assert_eq!(diags[0].line, Some(3));
        assert!(diags[0].fix.as_deref().unwrap().contains("Asia/Shanghai"), "{}", diags[0]);
    }
}
