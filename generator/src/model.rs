//! The generator's model of a built site: what `render` turns into pages and owner
//! kits, and what the manifest (the worker's wire format, [`Manifest`]) is written from.
//!
//! It keeps what the wire format drops or flattens: the timezone as a [`Tz`] (pages format
//! dates with it) and each gallery's description and cover, which only the pages show. Images,
//! links and policies are the contract's own types: they mean the same on both sides.

use chrono_tz::Tz;
use gatefold_contract::Locale;
use gatefold_contract::manifest::{self, Analytics, Audience, Image, IpLogging, Link, Manifest};
use gatefold_contract::notify::Channel;
use std::collections::{BTreeMap, BTreeSet};

#[derive(Debug, Clone, PartialEq)]
pub struct SiteModel {
    pub title: String,
    /// `scheme://host[:port]`, without a trailing slash.
    pub base_url: String,
    pub default_locale: Locale,
    pub timezone: Tz,
    /// The timezone's offset table ([`crate::config::utc_offsets`]), as the worker gets it.
    pub utc_offsets: Vec<(i64, i32)>,
    pub ip_logging: IpLogging,
    /// Signed with the development key: never to be published.
    pub dev_key: bool,
    /// The signing key's fingerprint ([`gatefold_contract::SigningKey::fingerprint`]), for the
    /// worker to check it serves the site with the key it was built with.
    pub key_fingerprint: String,
    /// How the access log is kept (retention).
    pub analytics: Analytics,
    /// The daily digests' hour (site timezone).
    pub digest_hour: u8,
    /// Gallery id → gallery.
    pub galleries: BTreeMap<String, GalleryModel>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct GalleryModel {
    /// The folder name.
    pub id: String,
    pub title: String,
    /// The gallery's `description.md`, already rendered to sanitized HTML.
    pub description_html: Option<String>,
    /// Id of the image shown large at the top of the gallery page: the one `cover:` names, else
    /// the first ([`crate::config::GalleryConfig::cover_image`]); `None` only without images.
    pub cover: Option<String>,
    /// In the owner's order, processed.
    pub images: Vec<Image>,
    /// Link name → link (a recipient's named `<audience>/<recipient>`).
    pub links: BTreeMap<String, Link>,
    /// Audiences (`recipients:`) by name.
    pub audiences: BTreeMap<String, Audience>,
    /// The gallery's notification channels (its own or the site's).
    pub notify: Vec<Channel>,
    /// The small copy of the cover link previews show (`preview_image: cover`), else `None`.
    pub preview_image: Option<crate::images::PreviewFile>,
}

impl GalleryModel {
    /// The gallery as the manifest carries it.
    pub fn manifest(&self) -> manifest::Gallery {
        manifest::Gallery { id: self.id.clone(), title: self.title.clone(), images: self.images.clone(), links: self.links.clone(), audiences: self.audiences.clone(), notify: self.notify.clone() }
    }
}

impl SiteModel {
    /// The manifest the worker reads: this model without what only the pages need.
    pub fn manifest(&self) -> Manifest {
        Manifest {
            format: manifest::FORMAT,
            site: self.manifest_site(),
            galleries: self.galleries.values().map(|g| (g.id.clone(), g.manifest())).collect(),
        }
    }

    /// The site's settings as the manifest carries them.
    pub fn manifest_site(&self) -> manifest::Site {
        manifest::Site {
            title: self.title.clone(),
            base_url: self.base_url.clone(),
            default_locale: self.default_locale,
            timezone: self.timezone.name().to_string(),
            ip_logging: self.ip_logging,
            utc_offsets: self.utc_offsets.clone(),
            dev_key: self.dev_key,
            key_fingerprint: self.key_fingerprint.clone(),
            analytics: self.analytics,
            digest_hour: self.digest_hour,
        }
    }

    /// Every R2 object key the site's images use: each variant's and each original's, their
    /// marked pairs and the stamped links' bands.
    pub fn r2_keys(&self) -> BTreeSet<String> {
        let images = self.galleries.values().flat_map(|g| &g.images).flat_map(Image::r2_keys).map(str::to_string);
        images.chain(self.galleries.values().flat_map(|g| gatefold_contract::manifest::band_keys(&g.images, g.links.values()))).collect()
    }

    pub fn links(&self) -> usize {
        self.galleries.values().map(|g| g.links.len()).sum()
    }

    pub fn images(&self) -> usize {
        self.galleries.values().map(|g| g.images.len()).sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn site() -> SiteModel {
        let gallery = GalleryModel {
            id: "launch".into(),
            title: "Launch".into(),
            description_html: Some("<p>Only on the page.</p>".into()),
            cover: Some("hero".into()),
            images: Vec::new(),
            links: BTreeMap::new(),
            audiences: BTreeMap::new(),
            notify: Vec::new(),
            preview_image: None,
        };
        SiteModel {
            title: "Acme".into(),
            base_url: "https://img.example.com".into(),
            default_locale: Locale::En,
            timezone: chrono_tz::Europe::Berlin,
            utc_offsets: vec![(i64::MIN / 2, 3600), (1_774_746_000, 7200)],
            ip_logging: IpLogging::Off,
            dev_key: true,
            key_fingerprint: String::new(),
            analytics: Analytics::default(),
            digest_hour: 9,
            galleries: BTreeMap::from([("launch".to_string(), gallery)]),
        }
    }

    #[test]
    fn the_manifest_carries_the_timezone_by_name_and_offsets_and_leaves_page_text_out() {
        let manifest = site().manifest();
        assert_eq!(manifest.format, manifest::FORMAT);
        assert_eq!(manifest.site.timezone, "Europe/Berlin");
        assert_eq!(manifest.site.utc_offsets, site().utc_offsets);
        let json = serde_json::to_string(&manifest).unwrap();
        assert!(!json.contains("Only on the page") && !json.contains("cover"), "{json}");
        assert_eq!(Manifest::from_json(&json).unwrap(), manifest, "the worker reads what was written");
    }
}
