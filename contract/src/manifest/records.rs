//! The records the worker reads ([`Manifest::records`]), their formats and how they are read.

use super::*;

/// `site.json`: the site's settings, read once per isolate.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SiteRecord {
    pub format: u32,
    pub site: Site,
}

/// Where a token leads: a gallery and one of its links.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LinkRef {
    pub gallery: String,
    pub link: String,
}

/// A token's entry in its shard: what a visitor's open needs to know of the link besides its
/// page. The audience is the one a recipient's link belongs to (its published terms settle the
/// audience's runtime changes), so the open never reads the gallery's record.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LinkEntry {
    pub gallery: String,
    pub link: Link,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub audience: Option<Audience>,
}

impl LinkEntry {
    pub fn at(&self) -> LinkRef {
        LinkRef { gallery: self.gallery.clone(), link: self.link.name.clone() }
    }

    /// The gallery as this link's requests see it: its id, this one link and its audience,
    /// and `images` (empty for an open, which shows the page rendered with them; the gallery's
    /// [`MediaRecord`] for an image or a download). Never the gallery's other links or
    /// channels: owner-side code reads the whole [`GalleryRecord`].
    pub fn gallery(&self, title: String, images: Vec<Image>) -> Gallery {
        let audiences = match (self.link.audience(), &self.audience) {
            (Some(name), Some(audience)) => BTreeMap::from([(name.to_string(), audience.clone())]),
            _ => BTreeMap::new(),
        };
        Gallery {
            id: self.gallery.clone(),
            title,
            images,
            links: BTreeMap::from([(self.link.name.clone(), self.link.clone())]),
            audiences,
            notify: Vec::new(),
        }
    }
}

/// One token shard: every token whose [`token_shard`] is this shard's number.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TokenShard {
    pub format: u32,
    pub tokens: BTreeMap<String, LinkEntry>,
}

/// One gallery's record: the gallery as the manifest has it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GalleryRecord {
    pub format: u32,
    pub gallery: Gallery,
}

/// A gallery record ([`GalleryRecord`], the same file) as a visitor's image and download
/// requests read it: the images and the title, the links and channels skipped unparsed (a
/// 500-recipient gallery's image costs what a 4-link gallery's does). The format is checked as
/// for every record; the fields read are [`Gallery`]'s own, so the two cannot drift apart.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct MediaRecord {
    pub format: u32,
    pub gallery: GalleryMedia,
}

/// The part of a [`Gallery`] its images' requests read ([`MediaRecord`]).
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct GalleryMedia {
    pub id: String,
    pub title: String,
    pub images: Vec<Image>,
}

/// The admin API's list of galleries: enough to page and filter links without reading every
/// gallery's record.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GalleryIndex {
    pub format: u32,
    pub galleries: Vec<IndexedGallery>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IndexedGallery {
    pub id: String,
    pub title: String,
    /// Whether any of its channels asks for the daily digest: the hourly run visits only these.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub digest: bool,
    /// The gallery's links, in its order.
    pub links: Vec<IndexedLink>,
}

/// A link as the admin API's list filters it: its search matches the audience label too.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IndexedLink {
    pub name: String,
    pub label: String,
}

/// Everything the worker reads, cut from one manifest; the generator writes exactly this.
#[derive(Debug, Clone, PartialEq)]
pub struct Records {
    pub site: SiteRecord,
    /// Every shard, empty ones included, so a lookup never misses a file.
    pub shards: Vec<TokenShard>,
    pub galleries: Vec<GalleryRecord>,
    pub index: GalleryIndex,
}

/// A record of another format is refused: the worker and the build must be of one version.
pub fn check_format(what: &str, format: u32) -> Result<(), String> {
    if format == FORMAT {
        Ok(())
    } else {
        Err(format!("{what}: format {format} but this worker reads format {FORMAT}; rebuild the site with this version of gatefold"))
    }
}

/// Reads one record (`site.json`, a shard, a gallery, the index), checking its format.
pub fn read_record<T: serde::de::DeserializeOwned + HasFormat>(what: &str, json: &str) -> Result<T, String> {
    let record: T = serde_json::from_str(json).map_err(|e| format!("{what}: {e}"))?;
    check_format(what, record.format())?;
    Ok(record)
}

/// Bytes of a record enough to hold its leading `{"format":N` ([`leading_format`]).
pub const FORMAT_PREFIX_BYTES: usize = 32;

/// The format a record declares as its first field, read from its first bytes alone: every
/// record serialises `format` first (its struct's first field), so a reader that needs nothing
/// else of a record (an open, of its gallery's) need not read, let alone parse, the rest.
/// `None` when the text does not start that way.
pub fn leading_format(prefix: &str) -> Option<u32> {
    let rest = prefix.trim_start().strip_prefix('{')?.trim_start().strip_prefix("\"format\"")?.trim_start().strip_prefix(':')?.trim_start();
    let digits = rest.find(|c: char| !c.is_ascii_digit()).unwrap_or(rest.len());
    // A prefix cut inside the number cannot say which number it is.
    if digits == 0 || digits == rest.len() {
        return None;
    }
    rest[..digits].parse().ok()
}

/// [`check_format`] of a record from its first bytes ([`leading_format`]); a record that does not
/// start with its format is refused as one of another format is.
pub fn check_leading_format(what: &str, prefix: &str) -> Result<(), String> {
    let format = leading_format(prefix)
        .ok_or_else(|| format!("{what}: does not start with its format; rebuild the site with this version of gatefold"))?;
    check_format(what, format)
}

/// Records carry their format so a stale file is caught where it is read.
pub trait HasFormat {
    fn format(&self) -> u32;
}

macro_rules! has_format {
    ($($t:ty),*) => { $(impl HasFormat for $t { fn format(&self) -> u32 { self.format } })* };
}
has_format!(SiteRecord, TokenShard, GalleryRecord, MediaRecord, GalleryIndex, Manifest);

impl Manifest {
    /// The records the worker reads: the site, [`TOKEN_SHARDS`] token shards, one record per
    /// gallery and the admin index.
    pub fn records(&self) -> Records {
        let mut shards: Vec<TokenShard> =
            (0..TOKEN_SHARDS).map(|_| TokenShard { format: FORMAT, tokens: BTreeMap::new() }).collect();
        for g in self.galleries.values() {
            for l in g.links.values() {
                let audience = l.audience().and_then(|a| g.audiences.get(a)).cloned();
                shards[usize::from(token_shard(&l.token))]
                    .tokens
                    .insert(l.token.clone(), LinkEntry { gallery: g.id.clone(), link: l.clone(), audience });
            }
        }
        Records {
            site: SiteRecord { format: FORMAT, site: self.site.clone() },
            shards,
            galleries: self.galleries.values().map(|g| GalleryRecord { format: FORMAT, gallery: g.clone() }).collect(),
            index: GalleryIndex {
                format: FORMAT,
                galleries: self
                    .galleries
                    .values()
                    .map(|g| IndexedGallery {
                        id: g.id.clone(),
                        title: g.title.clone(),
                        digest: g.notify.iter().any(|c| c.wants(crate::notify::NotifyKind::Digest)),
                        links: g.links.values().map(|l| IndexedLink { name: l.name.clone(), label: l.label.clone() }).collect(),
                    })
                    .collect(),
            },
        }
    }
}
