//! The manifest: what the generator publishes and the worker reads, and the paths both use.
//!
//! It holds every token, so it lives under [`PRIVATE_PREFIX`] in the static-assets directory,
//! which the worker never serves to anyone: the worker alone reads it through its assets
//! binding.

use crate::media::MediaType;
use crate::{LinkPolicy, Locale};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Bumped on any incompatible change; the worker refuses a manifest of another format.
pub const FORMAT: u32 = 2;

/// Everything under this prefix in the assets directory is for the worker's eyes only.
pub const PRIVATE_PREFIX: &str = "/_gatefold/";
/// Theme files (CSS, JS, fonts): public, content-hashed, cached for a year.
pub const PUBLIC_PREFIX: &str = "/assets/";
/// Where the manifest sits inside the assets directory.
pub const MANIFEST_PATH: &str = "/_gatefold/manifest.json";

/// Placeholder in a rendered gallery page that the worker replaces with the visitor's session
/// end (Unix seconds) when it serves the page, so the page can hide its images at that moment.
pub const SESSION_EXPIRES_PLACEHOLDER: &str = "__GATEFOLD_SESSION_EXPIRES__";

/// Asset path of a display image or thumbnail of a gallery.
pub fn gallery_asset_path(gallery: &str, file: &str) -> String {
    format!("/_gatefold/g/{gallery}/{file}")
}

/// Asset path of the gallery page rendered for one link in one language.
pub fn page_path(gallery: &str, link: &str, locale: Locale) -> String {
    format!("/_gatefold/pages/{gallery}/{link}.{}.html", locale.tag())
}

/// Asset path of the title-only page shown to link-preview bots.
pub fn preview_path(gallery: &str, locale: Locale) -> String {
    format!("/_gatefold/preview/{gallery}.{}.html", locale.tag())
}

/// Asset path of a denial page.
pub fn denial_path(denial: crate::Denial, locale: Locale) -> String {
    format!("/_gatefold/denied/{}.{}.html", denial.code(), locale.tag())
}

/// Path a visitor opens: `<base_url>/s/<token>`.
pub fn link_path(token: &str) -> String {
    format!("/s/{token}")
}

/// Path a visitor's browser fetches a display image or thumbnail at.
pub fn image_path(token: &str, file: &str) -> String {
    format!("/s/{token}/i/{file}")
}

/// Path a visitor downloads an original at.
pub fn download_path(token: &str, image_id: &str) -> String {
    format!("/s/{token}/download/{image_id}")
}

pub fn link_url(base_url: &str, token: &str) -> String {
    format!("{}{}", base_url.trim_end_matches('/'), link_path(token))
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Manifest {
    pub format: u32,
    pub site: Site,
    /// Gallery id → gallery.
    pub galleries: BTreeMap<String, Gallery>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Site {
    pub title: String,
    pub base_url: String,
    pub default_locale: Locale,
    /// IANA name, e.g. `Asia/Shanghai`.
    pub timezone: String,
    pub ip_logging: IpLogging,
    /// The site timezone's UTC offsets: `(from unix seconds, offset seconds)`, ascending, so the
    /// worker can bucket times by local hour and day without a timezone database.
    pub utc_offsets: Vec<(i64, i32)>,
    /// True when built with the development signing key: never to be published.
    pub dev_key: bool,
    /// Access-log settings (`analytics:` in site.yaml). Absent in manifests written before it
    /// existed, which then keep the default.
    #[serde(default)]
    pub analytics: Analytics,
}

/// How the access log is kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Analytics {
    /// Events older than this many days are deleted by the gallery's log.
    pub retention_days: u32,
}

impl Analytics {
    /// A bit over a year: enough to compare a launch with the one a year before.
    pub const DEFAULT_RETENTION_DAYS: u32 = 400;
}

impl Default for Analytics {
    fn default() -> Analytics {
        Analytics { retention_days: Analytics::DEFAULT_RETENTION_DAYS }
    }
}

impl Site {
    /// UTC offset in seconds at `unix` seconds.
    pub fn utc_offset_at(&self, unix: i64) -> i32 {
        crate::expiry::utc_offset_at(&self.utc_offsets, unix)
    }
}

/// How much of a visitor's IP address the access log keeps.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum IpLogging {
    Full,
    /// IPv4 /24, IPv6 /48: enough for a rough location, not to identify a person.
    #[default]
    Truncated,
    Off,
}

impl IpLogging {
    pub fn apply(self, ip: &str) -> Option<String> {
        match self {
            IpLogging::Off => None,
            IpLogging::Full => Some(ip.to_string()),
            IpLogging::Truncated => Some(truncate_ip(ip)),
        }
    }
}

fn truncate_ip(ip: &str) -> String {
    if let Ok(v4) = ip.parse::<std::net::Ipv4Addr>() {
        let [a, b, c, _] = v4.octets();
        format!("{a}.{b}.{c}.0")
    } else if let Ok(v6) = ip.parse::<std::net::Ipv6Addr>() {
        let s = v6.segments();
        std::net::Ipv6Addr::new(s[0], s[1], s[2], 0, 0, 0, 0, 0).to_string()
    } else {
        String::new()
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Gallery {
    pub id: String,
    pub title: String,
    pub images: Vec<Image>,
    /// Link name → link.
    pub links: BTreeMap<String, Link>,
}

impl Gallery {
    /// The image and variant a display file name belongs to, if it is one of this gallery's.
    pub fn variant(&self, file: &str) -> Option<(&Image, &Variant)> {
        self.images.iter().find_map(|img| img.variants.iter().find(|v| v.file == file).map(|v| (img, v)))
    }

    pub fn image(&self, id: &str) -> Option<&Image> {
        self.images.iter().find(|img| img.id == id)
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Link {
    pub name: String,
    /// Audience label shown to owners and on the QR card, e.g. "Sales team".
    pub label: String,
    pub token: String,
    pub rotate: u32,
    pub policy: LinkPolicy,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Image {
    /// Stable id derived from the file name (survives content changes), used in download URLs
    /// and analytics.
    pub id: String,
    /// The original's file name, offered when downloading.
    pub file_name: String,
    pub caption: Option<String>,
    pub alt: String,
    pub width: u32,
    pub height: u32,
    pub animated: bool,
    pub variants: Vec<Variant>,
    pub original: Original,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum VariantRole {
    /// Small image for the grid.
    Thumb,
    /// Responsive display size; the largest one is what the lightbox shows ("full size").
    Display,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Variant {
    pub role: VariantRole,
    pub width: u32,
    pub height: u32,
    /// WebP, JPEG, GIF or AVIF.
    pub content_type: MediaType,
    /// File name under the gallery's asset directory; content-hashed, so immutable.
    pub file: String,
    /// Whether viewing it counts as a full-size view in analytics.
    pub full_size: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Original {
    /// Object key in the originals R2 bucket, and path under `dist/originals/`.
    pub key: String,
    pub size: u64,
    pub content_type: MediaType,
}

impl Manifest {
    /// Token → (gallery id, link name), built once per worker isolate.
    pub fn token_index(&self) -> std::collections::HashMap<String, (String, String)> {
        self.galleries
            .values()
            .flat_map(|g| g.links.values().map(move |l| (l.token.clone(), (g.id.clone(), l.name.clone()))))
            .collect()
    }

    pub fn link(&self, gallery: &str, link: &str) -> Option<(&Gallery, &Link)> {
        let g = self.galleries.get(gallery)?;
        Some((g, g.links.get(link)?))
    }

    pub fn from_json(json: &str) -> Result<Manifest, String> {
        let manifest: Manifest = serde_json::from_str(json).map_err(|e| format!("manifest: {e}"))?;
        if manifest.format != FORMAT {
            return Err(format!("manifest format {} but this worker reads format {FORMAT}", manifest.format));
        }
        Ok(manifest)
    }
}

#[cfg(test)]
mod tests {
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
            analytics: Analytics::default(),
        };
        assert_eq!(site.utc_offset_at(-5), 3600);
        assert_eq!(site.utc_offset_at(999), 3600);
        assert_eq!(site.utc_offset_at(1000), 7200);
    }

    #[test]
    fn private_paths_stay_under_the_private_prefix() {
        for p in [
            MANIFEST_PATH.to_string(),
            gallery_asset_path("g", "a.webp"),
            page_path("g", "l", Locale::ZhCn),
            preview_path("g", Locale::En),
            denial_path(crate::Denial::NotFound, Locale::En),
        ] {
            assert!(p.starts_with(PRIVATE_PREFIX), "{p}");
        }
    }
}
