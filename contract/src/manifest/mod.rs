//! The manifest and the records the worker reads: what the generator publishes, and the paths
//! both sides use.
//!
//! The full [`Manifest`] (every gallery, image and link) is written compactly to
//! `dist/manifest.json` for `plan`, `publish` and `smoke`, and stored in R2 by each publish; it
//! is never a static asset, so it can grow with the archive. The worker reads small records
//! instead, each under [`PRIVATE_PREFIX`] in the static-assets directory (which the worker never
//! serves to anyone), so what one request reads does not grow with the number of galleries:
//! - [`SITE_PATH`]: the site's settings ([`SiteRecord`]);
//! - [`token_shard_path`]: one of [`TOKEN_SHARDS`] shards mapping tokens to their link
//!   ([`TokenShard`]), found by a hash of the token ([`token_shard`]). Each token's entry
//!   ([`LinkEntry`]) is everything a visitor's open needs besides the page: the link and its
//!   audience's terms, so an open reads one small shard, never its gallery's record, and a
//!   recipient of a 500-recipient audience parses their own link, not 500;
//! - [`gallery_record_path`]: one gallery, its images and links ([`GalleryRecord`]), read by the
//!   owners' side whole, by a visitor's image and download requests without its links
//!   ([`MediaRecord`]) and by an open for its format only, from its first bytes
//!   ([`check_leading_format`]);
//! - [`GALLERY_INDEX_PATH`]: gallery ids, titles and link names, for the admin API only.
//!
//! Display images and originals live in R2 under content-addressed keys ([`display_key`],
//! [`original_key`]): the source's content hash, the pipeline version and the image settings
//! name them, so a build knows every key without encoding anything.

use crate::media::MediaType;
use crate::policy::Downloads;
use crate::{LinkPolicy, Locale};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

mod records;
mod visitor_paths;
pub use records::*;
pub use visitor_paths::*;

/// Bumped on any incompatible change; the worker refuses records of another format.
pub const FORMAT: u32 = 5;

/// Everything under this prefix in the assets directory is for the worker's eyes only.
pub const PRIVATE_PREFIX: &str = "/_gatefold/";
/// Theme files (CSS, JS, fonts): public, content-hashed, cached for a year.
pub const PUBLIC_PREFIX: &str = "/assets/";
/// The full manifest's file name in `dist/` (beside `site/`, never deployed as an asset).
pub const MANIFEST_FILE: &str = "manifest.json";
/// The site's settings, read once per isolate.
pub const SITE_PATH: &str = "/_gatefold/site.json";
/// Gallery ids, titles and link names: the admin API's list (visitors never read it).
pub const GALLERY_INDEX_PATH: &str = "/_gatefold/galleries.json";
/// How many token shards a build writes. Fixed, so a token's shard never depends on the archive:
/// at 1,000 galleries of 4 links a shard holds about 16 tokens.
pub const TOKEN_SHARDS: usize = 256;

/// The shard holding `token`: the first byte of its BLAKE3 hash.
pub fn token_shard(token: &str) -> u8 {
    blake3::hash(token.as_bytes()).as_bytes()[0]
}

/// Asset path of token shard `shard`.
pub fn token_shard_path(shard: u8) -> String {
    format!("/_gatefold/t/{shard:02x}.json")
}

/// Asset path of one gallery's record.
pub fn gallery_record_path(gallery: &str) -> String {
    format!("/_gatefold/g/{gallery}.json")
}

/// A gallery page is rendered once per gallery, language and download mode its links use; the
/// worker fills in the link ([`crate::page`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PageMode {
    /// Images only.
    View,
    /// Images, a download per original and "download all" (one ZIP of originals).
    Original,
    /// Images and a web-size JPEG download per image.
    Web,
    /// Both sizes offered.
    Both,
}

impl PageMode {
    pub const ALL: [PageMode; 4] = [PageMode::View, PageMode::Original, PageMode::Web, PageMode::Both];

    pub fn of(policy: &LinkPolicy) -> PageMode {
        match (policy.download.original, policy.download.web) {
            (false, false) => PageMode::View,
            (true, false) => PageMode::Original,
            (false, true) => PageMode::Web,
            (true, true) => PageMode::Both,
        }
    }

    /// The download sizes a page of this mode offers.
    pub fn downloads(self) -> Downloads {
        match self {
            PageMode::View => Downloads::NONE,
            PageMode::Original => Downloads::ORIGINAL,
            PageMode::Web => Downloads::WEB,
            PageMode::Both => Downloads::BOTH,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            PageMode::View => "view",
            PageMode::Original => "original",
            PageMode::Web => "web",
            PageMode::Both => "both",
        }
    }
}

/// Asset path of a gallery's page template ([`crate::page::PageTemplate`]) for one download
/// mode and language. One folder for every gallery's pages: a folder per gallery would cost a
/// thousand directory creations on every build of a large archive.
pub fn page_path(gallery: &str, mode: PageMode, locale: Locale) -> String {
    format!("/_gatefold/pages/{gallery}.{}.{}.json", mode.name(), locale.tag())
}

/// Asset path of the page template marked links get ([`Link::mark`]): its images are the
/// marked JPEG variants only, which the worker splices per recipient.
pub fn marked_page_path(gallery: &str, mode: PageMode, locale: Locale) -> String {
    format!("/_gatefold/pages/{gallery}.{}.marked.{}.json", mode.name(), locale.tag())
}

/// Asset path of a gallery's preview in one language ([`crate::preview::PreviewPage`]): the
/// interstitial and the card that link-preview fetchers, scanners and HEAD are answered with.
pub fn preview_path(gallery: &str, locale: Locale) -> String {
    format!("/_gatefold/preview/{gallery}.{}.json", locale.tag())
}

/// Asset path of the password page of links with `password: required` (one per language, for
/// every gallery: it names no gallery, so it tells nobody what the link holds).
pub fn password_page_path(locale: Locale) -> String {
    format!("/_gatefold/password.{}.html", locale.tag())
}

/// Where the password page's error line goes: the generator writes this marker into the page,
/// and the worker replaces it with the escaped error ("that password is not correct") or with
/// nothing. An HTML comment, so a page shown unfilled still reads right.
pub const PASSWORD_ERROR_SLOT: &str = "<!--gatefold:password-error-->";

/// Where a denial page's per-request part goes (a request-access form, the state of a request
/// already made, the moment a scheduled link opens): the generator writes this marker into every
/// denial page, and the worker replaces it with an escaped fragment or with nothing. An HTML
/// comment, so a page shown unfilled still reads right.
pub const DENIAL_SLOT: &str = "<!--gatefold:denial-slot-->";

/// Asset path of a denial page.
pub fn denial_path(denial: crate::Denial, locale: Locale) -> String {
    format!("/_gatefold/denied/{}.{}.html", denial.code(), locale.tag())
}

/// R2 key of a display image or thumbnail: `hash16` derives from the source's content hash, the
/// pipeline version and the settings that made it; `suffix` is its size and type (`960.webp`).
pub fn display_key(hash16: &str, suffix: &str) -> String {
    format!("display/{hash16}-{suffix}")
}

/// R2 keys of a marked pair (`crate::mark`): `A`, `B` and their index. `hash16` derives from
/// the source, the pipeline, the settings and the mark key's id; `suffix` names the size
/// (`1920`, `original`).
pub fn marked_keys(hash16: &str, suffix: &str) -> MarkedPair {
    MarkedPair {
        a: format!("marked/{hash16}-{suffix}.a.jpg"),
        b: format!("marked/{hash16}-{suffix}.b.jpg"),
        index: format!("marked/{hash16}-{suffix}.idx"),
    }
}

/// R2 key of one stamped link's band of one marked pair: [`crate::mark::Band`]'s bytes, then the
/// band's segments. `stamp` is the link's [`LinkMark::stamp`].
pub fn band_key(pair: &MarkedPair, stamp: &str) -> String {
    format!("{}.{stamp}.band", pair.index.trim_end_matches(".idx"))
}

/// R2 key of a metadata-stripped original, named by the hash of its bytes.
pub fn original_key(hash16: &str, extension: &str) -> String {
    format!("originals/{hash16}.{extension}")
}

/// R2 key where each publish records the manifest it deployed (`publish` diffs against it).
pub const PUBLISHED_MANIFEST_KEY: &str = "gatefold/published-manifest.json";

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
    /// [`crate::SigningKey::fingerprint`] of the key the build signed its links with: the
    /// worker serves the site only with that same key, and a site signed with the public
    /// development key only in a local run. Empty in records written before it existed, which
    /// the worker then refuses.
    #[serde(default)]
    pub key_fingerprint: String,
    /// Access-log settings (`analytics:` in site.yaml). Absent in manifests written before it
    /// existed, which then keep the default.
    #[serde(default)]
    pub analytics: Analytics,
    /// Hour of the day (0–23, site timezone) the galleries' daily digests go out
    /// (`notify_digest_at:` in site.yaml).
    #[serde(default = "default_digest_hour")]
    pub digest_hour: u8,
}

fn default_digest_hour() -> u8 {
    crate::notify::DEFAULT_DIGEST_HOUR
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

impl crate::time::Clock for Site {
    fn utc_offset_at(&self, unix: i64) -> i32 {
        Site::utc_offset_at(self, unix)
    }
    fn timezone(&self) -> &str {
        &self.timezone
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
    /// Link name → link. A recipient's link is named `<audience>/<recipient>`, so its id
    /// everywhere (CLI, admin API, stats, exports, Durable Object) is
    /// `<gallery>/<audience>/<recipient>`; every other link is `<link>`.
    pub links: BTreeMap<String, Link>,
    /// Audiences that expanded into one link per recipient (`recipients:` in YAML), by name.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub audiences: BTreeMap<String, Audience>,
    /// The gallery's notification channels (site.yaml's unless gallery.yaml declares its own):
    /// the digest, owner actions on the gallery or an audience, and every link without its own.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub notify: Vec<crate::notify::Channel>,
}

/// An audience whose links are one per recipient; runtime changes to it (`<gallery>/@<name>`
/// scope) apply to all of them with one write.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Audience {
    pub label: String,
    /// How many recipients (links named `<audience>/<recipient>`) it has.
    pub recipients: u32,
    /// Its published terms ([`crate::policy::widest_terms`] of its recipients'): what a change
    /// to the whole audience is judged and settled against. Older manifests: no terms.
    #[serde(default)]
    pub terms: LinkPolicy,
}

/// The parts of a link name: `(Some(audience), recipient)` for a recipient's link,
/// `(None, link)` otherwise.
pub fn split_link_name(name: &str) -> (Option<&str>, &str) {
    match name.split_once('/') {
        Some((audience, recipient)) => (Some(audience), recipient),
        None => (None, name),
    }
}

/// A link's name from its parts.
pub fn link_name(audience: Option<&str>, name: &str) -> String {
    match audience {
        Some(audience) => format!("{audience}/{name}"),
        None => name.to_string(),
    }
}

impl Gallery {
    /// The image and variant a display file name belongs to, if it is one of this gallery's.
    pub fn variant(&self, file: &str) -> Option<(&Image, &Variant)> {
        self.images.iter().find_map(|img| img.variants.iter().find(|v| v.file == file).map(|v| (img, v)))
    }

    pub fn image(&self, id: &str) -> Option<&Image> {
        self.images.iter().find(|img| img.id == id)
    }

    /// The published terms of audience `name` ([`Audience::terms`]).
    pub fn audience_terms(&self, name: &str) -> Option<&LinkPolicy> {
        self.audiences.get(name).map(|a| &a.terms)
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Link {
    /// `<link>`, or `<audience>/<recipient>` for a recipient's link ([`split_link_name`]).
    pub name: String,
    /// Label shown to owners and on the QR card, e.g. "Sales team" (a recipient's own label,
    /// e.g. "上海经销商", for a recipient's link).
    pub label: String,
    pub token: String,
    pub rotate: u32,
    pub policy: LinkPolicy,
    /// What the recipient list says about the person (recipient links only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recipient: Option<Recipient>,
    /// The link's own channels (declared on the link or its audience), replacing the gallery's;
    /// `None`: the gallery's ([`Gallery::notify`]). `Some(vec![])`: none for this link.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notify: Option<Vec<crate::notify::Channel>>,
    /// `mark:` as published for this link (its own, else its audience's, else the site's).
    /// `None`: served exactly as an unmarked link.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mark: Option<LinkMark>,
}

/// How a marked link's images are marked.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LinkMark {
    /// The key the marks are made with ([`crate::mark::MarkKey::id`]): a worker whose own key
    /// differs refuses marked images rather than serving unreadable marks.
    pub key_id: String,
    /// The visible stamp's id (16 hex digits of the rendered text's hash): each marked pair's
    /// band for this link is at [`band_key`]. `None`: no visible stamp.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stamp: Option<String>,
    /// Originals (and the ZIP's originals) are marked too; else they are served untouched.
    #[serde(default)]
    pub originals: bool,
}

impl Link {
    /// The channels this link's events go to.
    pub fn channels<'a>(&'a self, gallery: &'a Gallery) -> &'a [crate::notify::Channel] {
        self.notify.as_deref().unwrap_or(&gallery.notify)
    }
}

impl Link {
    /// The audience a recipient's link belongs to.
    pub fn audience(&self) -> Option<&str> {
        split_link_name(&self.name).0
    }
}

/// A recipient's contact details from the list, for the owner's mail merge and exports (never
/// shown to visitors).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct Recipient {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
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
    /// Name in the visitor's URL (`/s/<token>/i/<file>`), unique in its gallery.
    pub file: String,
    /// Object key in R2 ([`display_key`]): content-addressed, so immutable.
    pub key: String,
    /// Whether viewing it counts as a full-size view in analytics.
    pub full_size: bool,
    /// The variant as a marked pair, for marked links (JPEG display variants of a gallery with
    /// a marked link). `None`: no marked link sees it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub marked: Option<MarkedPair>,
}

/// A marked pair's R2 objects ([`marked_keys`]): a marked link's copy is spliced from them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MarkedPair {
    pub a: String,
    pub b: String,
    pub index: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Original {
    /// Object key in R2 ([`original_key`]).
    pub key: String,
    pub size: u64,
    pub content_type: MediaType,
    /// CRC-32 (IEEE) of the stripped original, so a ZIP of originals needs no pass over bytes.
    pub crc32: u32,
    /// The original at full size as a marked JPEG pair, for links marked with `originals: true`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub marked: Option<MarkedPair>,
}

impl Image {
    /// The web-size download: the widest display JPEG (its pixels re-encoded, so no metadata),
    /// or for an animation its widest display file. `None` only for an image without display
    /// variants.
    pub fn web_download(&self) -> Option<&Variant> {
        let display = || self.variants.iter().filter(|v| v.role == VariantRole::Display);
        display()
            .filter(|v| v.content_type == MediaType::Jpeg)
            .max_by_key(|v| v.width)
            .or_else(|| display().filter(|v| v.full_size).max_by_key(|v| v.width))
    }

    /// The R2 objects this image needs: every display variant and the original, and their
    /// marked pairs (a stamped link's bands are its gallery's: [`band_keys`]).
    pub fn r2_keys(&self) -> impl Iterator<Item = &str> {
        let pairs = self.marked_pairs().flat_map(|(_, p)| [p.a.as_str(), p.b.as_str(), p.index.as_str()]);
        self.variants.iter().map(|v| v.key.as_str()).chain([self.original.key.as_str()]).chain(pairs)
    }

    /// The image's marked pairs, each with whether it is the original's.
    pub fn marked_pairs(&self) -> impl Iterator<Item = (bool, &MarkedPair)> {
        self.variants.iter().filter_map(|v| v.marked.as_ref().map(|p| (false, p))).chain(self.original.marked.as_ref().map(|p| (true, p)))
    }
}

/// The R2 keys of the bands `links`' stamps need over `images`' marked pairs: every display
/// pair, and the original's when the link marks originals.
pub fn band_keys<'a>(images: &'a [Image], links: impl IntoIterator<Item = &'a Link>) -> impl Iterator<Item = String> {
    links.into_iter().filter_map(|l| Some((l.mark.as_ref()?.stamp.as_deref()?, l.mark.as_ref()?.originals))).flat_map(move |(stamp, originals)| {
        images.iter().flat_map(Image::marked_pairs).filter(move |(original, _)| !original || originals).map(move |(_, pair)| band_key(pair, stamp))
    })
}

impl Manifest {
    /// Every R2 object the site's images need. Keys are content-addressed, so a key the last
    /// publish uploaded holds exactly the bytes wanted now.
    pub fn r2_keys(&self) -> std::collections::BTreeSet<String> {
        let images = self.galleries.values().flat_map(|g| &g.images).flat_map(Image::r2_keys).map(str::to_string);
        images.chain(self.galleries.values().flat_map(|g| band_keys(&g.images, g.links.values()))).collect()
    }

    pub fn link(&self, gallery: &str, link: &str) -> Option<(&Gallery, &Link)> {
        let g = self.galleries.get(gallery)?;
        Some((g, g.links.get(link)?))
    }

    pub fn from_json(json: &str) -> Result<Manifest, String> {
        read_record("manifest", json)
    }
}

#[cfg(test)]
mod tests;
