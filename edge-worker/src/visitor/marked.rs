//! Marked links' images (`mark:` in gallery.yaml; `gatefold_contract::mark`): each recipient's
//! own copy, spliced chip by chip from the variant's marked pair by the link's codeword. No
//! pixel work: the worker reads the pair's index, `A` and `B` (and the link's stamp band) from R2
//! behind this data centre's cache, as it reads unmarked images, and copies restart segments.
//!
//! - What a marked link gets ([`display_choice`], [`original_choice`]): a still image's marked
//!   variants only (the marked page uses its JPEG variants), never a variant without a pair, so
//!   no unmarked byte of a still image reaches a marked link; animations as everyone gets them
//!   (they are never marked); originals marked when the link says `originals: true`.
//! - A copy is checked before a byte leaves ([`splice_checked`]): the worker's mark key must be
//!   the one the link was published with, and the spliced bytes must have the size and CRC-32
//!   the index promises, else the request fails (500, the reason in the log): never `A` or `B`
//!   whole, never a copy whose mark no trace could read.
//! - The spliced copy is kept in the cache under a key naming the gallery, the link, the pair
//!   and the stamp ([`copy_cache_key`]): a later view costs no splice, and no other link's
//!   lookup can reach it. Visitors always get the gated headers.

use super::{MEDIA_BUCKET, MEDIA_CACHE_ORIGIN, Visit, gated_image, missing_media};
use crate::http::headers;
use gatefold_contract::SigningKey;
use gatefold_contract::manifest::{Image, Link, LinkMark, MarkedPair, Variant, band_key};
use gatefold_contract::mark::{Band, Codeword, Geometry, MarkIndex, MarkKey};
use gatefold_contract::media::MediaType;
use worker::{Bucket, Cache, Context, Headers, Response, Result};

/// What a link is served for one file of an image.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum Choice<'a> {
    /// The file as published: an unmarked link, an animation, an unmarked original.
    Plain,
    /// The link's own copy, spliced from this pair.
    Marked(&'a MarkedPair),
    /// Nothing: a marked link asked for a still image's file that has no marked pair (a WebP
    /// thumbnail, a non-JPEG size). Serving it would hand out unmarked pixels.
    Refused,
}

/// What `link` gets for display file `variant` of `img`.
pub(super) fn display_choice<'a>(link: &Link, img: &Image, variant: &'a Variant) -> Choice<'a> {
    match (&link.mark, &variant.marked) {
        (None, _) => Choice::Plain,
        _ if img.animated => Choice::Plain,
        (Some(_), Some(pair)) => Choice::Marked(pair),
        (Some(_), None) => Choice::Refused,
    }
}

/// What `link` gets for `img`'s original: marked only when the link marks originals. A link
/// that does while the image has no marked original is a build that does not fit its own
/// records: refused rather than served unmarked.
pub(super) fn original_choice<'a>(link: &Link, img: &'a Image) -> Choice<'a> {
    match (&link.mark, &img.original.marked) {
        (Some(LinkMark { originals: true, .. }), _) if img.animated => Choice::Plain,
        (Some(LinkMark { originals: true, .. }), Some(pair)) => Choice::Marked(pair),
        (Some(LinkMark { originals: true, .. }), None) => Choice::Refused,
        _ => Choice::Plain,
    }
}

/// The name a marked original is downloaded under: a marked original is a JPEG whatever the
/// source was, so its extension says so.
pub(super) fn marked_original_name(file_name: &str, original: MediaType) -> String {
    if original == MediaType::Jpeg {
        return file_name.to_string();
    }
    let stem = file_name.rsplit_once('.').map_or(file_name, |(stem, _)| stem);
    format!("{stem}.{}", MediaType::Jpeg.extension())
}

/// Fails closed when this worker's mark key is not the one `mark` was published with: a copy
/// spliced under another key carries marks nobody holding the link's key can read.
pub(super) fn check_key(own: &MarkKey, gallery: &str, link: &str, mark: &LinkMark) -> std::result::Result<(), String> {
    if gatefold_contract::token::secrets_equal(own.id(), &mark.key_id) {
        return Ok(());
    }
    Err(format!(
        "link {gallery}/{link} was published with mark key {} but this worker's SIGNING_KEY makes mark key {}: refusing its marked images; publish the site with this worker's key",
        mark.key_id,
        own.id()
    ))
}

/// Where a link's spliced copy of `image`'s `pair` is kept in this data centre's cache: the
/// gallery, the link, the image (its codeword's other input: two images of the same bytes share
/// a pair), the mark key and the stamp are all in it (each part percent-encoded, so no two
/// links' keys can meet), and only that link's request, after its session passed, looks it up.
pub(super) fn copy_cache_key(gallery: &str, link: &str, image: &str, mark: &LinkMark, pair: &MarkedPair) -> String {
    let part = |s: &str| percent_encoding::utf8_percent_encode(s, percent_encoding::NON_ALPHANUMERIC).to_string();
    let stem = pair.index.trim_end_matches(".idx");
    let stamp = mark.stamp.as_deref().map(|s| format!(".{}", part(s))).unwrap_or_default();
    format!("{MEDIA_CACHE_ORIGIN}/copy/{}/{}/{}/{}/{stem}{stamp}.jpg", part(gallery), part(link), part(image), part(&mark.key_id))
}

/// A stamp band's object ([`band_key`]): the [`Band`]'s bytes, then its segments' bytes.
pub(super) fn split_band(object: &[u8]) -> std::result::Result<(Band, &[u8]), String> {
    let damaged = || "stamp band object is damaged (publish the site again)".to_string();
    let n = object.get(8..12).ok_or_else(damaged)?;
    let n = u32::from_le_bytes(n.try_into().map_err(|_| damaged())?) as usize;
    let header = n.checked_mul(8).and_then(|len| len.checked_add(12)).filter(|&len| len <= object.len()).ok_or_else(damaged)?;
    let band = Band::from_bytes(&object[..header]).map_err(|e| e.to_string())?;
    Ok((band, &object[header..]))
}

/// The copy `bits` make of a pair from its objects' bytes, refused unless it has exactly the
/// size and CRC-32 the index promises (damaged or mismatched objects fail closed); with that CRC.
pub(super) fn splice_checked(index: &[u8], a: &[u8], b: &[u8], band: Option<&[u8]>, bits: &Codeword) -> std::result::Result<(Vec<u8>, u32), String> {
    let index = MarkIndex::from_bytes(index).map_err(|e| e.to_string())?;
    let band = band.map(split_band).transpose()?;
    let (size, crc) = index.spliced_size_crc(bits, band.as_ref().map(|(band, _)| band)).map_err(|e| e.to_string())?;
    let copy = index.splice(a, b, bits, band.as_ref().map(|(band, bytes)| (band, *bytes))).map_err(|e| e.to_string())?;
    if copy.len() as u64 != size || crc32fast::hash(&copy) != crc {
        return Err("a marked pair's bytes differ from its index (publish the site again)".to_string());
    }
    Ok((copy, crc))
}

/// One link's copy of one marked pair: everything needed to splice it, owned, so "download
/// all" can splice after its response has started.
#[derive(Debug, Clone)]
pub(super) struct Copy {
    pub pair: MarkedPair,
    pub band: Option<String>,
    pub bits: Codeword,
    pub cache_key: String,
}

/// Why a copy could not be made.
pub(super) enum Failure {
    /// An object the records name is not in R2: the publish did not upload it.
    Missing(String),
    /// Anything else (damaged objects, the Workers runtime): the request fails.
    Broken(String),
}

impl From<worker::Error> for Failure {
    fn from(e: worker::Error) -> Failure {
        Failure::Broken(e.to_string())
    }
}

impl Copy {
    /// `link`'s copy of `pair`, a `width`×`height` image (`image` is its id): the key checked
    /// first. `link` must be marked.
    pub fn new(key: &SigningKey, gallery: &str, link: &Link, image: &str, pair: &MarkedPair, width: u32, height: u32) -> std::result::Result<Copy, String> {
        let mark = link.mark.as_ref().ok_or_else(|| format!("link {gallery}/{}: not marked", link.name))?;
        check_key(key.mark_key(), gallery, &link.name, mark)?;
        let chips = Geometry { width, height }.chips();
        Ok(Copy {
            pair: pair.clone(),
            band: mark.stamp.as_deref().map(|stamp| band_key(pair, stamp)),
            bits: key.mark_key().codeword(gallery, &link.name, image, width, chips),
            cache_key: copy_cache_key(gallery, &link.name, image, mark, pair),
        })
    }

    /// The copy of a display variant.
    pub fn of_variant(key: &SigningKey, gallery: &str, link: &Link, img: &Image, pair: &MarkedPair, variant: &Variant) -> std::result::Result<Copy, String> {
        Copy::new(key, gallery, link, &img.id, pair, variant.width, variant.height)
    }

    /// The copy of the full-size original (the image's own size).
    pub fn of_original(key: &SigningKey, gallery: &str, link: &Link, img: &Image, pair: &MarkedPair) -> std::result::Result<Copy, String> {
        Copy::new(key, gallery, link, &img.id, pair, img.width, img.height)
    }

    /// The copy's size and CRC-32 from the index (and band) alone: for HEAD and the ZIP's
    /// layout, before any image byte is read.
    pub async fn size_crc(&self, bucket: &Bucket, ctx: Option<&Context>) -> std::result::Result<(u64, u32), Failure> {
        let band = async {
            match &self.band {
                Some(key) => shared(bucket, key, ctx).await.map(Some),
                None => Ok(None),
            }
        };
        let (index, band) = futures_util::future::join(shared(bucket, &self.pair.index, ctx), band).await;
        let index = MarkIndex::from_bytes(&index?).map_err(|e| Failure::Broken(e.to_string()))?;
        let band = band?;
        let band = band.as_deref().map(split_band).transpose().map_err(Failure::Broken)?;
        index.spliced_size_crc(&self.bits, band.as_ref().map(|(band, _)| band)).map_err(|e| Failure::Broken(e.to_string()))
    }

    /// The copy's bytes: this link's copy from the cache, else spliced now ([`Copy::splice`]).
    pub async fn bytes(&self, bucket: &Bucket, ctx: Option<&Context>) -> std::result::Result<Vec<u8>, Failure> {
        if let Some(mut hit) = Cache::default().get(self.cache_key.as_str(), false).await? {
            return Ok(hit.bytes().await?);
        }
        Ok(self.splice(bucket, ctx).await?.0)
    }

    /// The copy spliced from the pair's objects (fetched side by side) and checked
    /// ([`splice_checked`]), with its CRC-32. With `ctx`, the objects and the copy are put in
    /// the cache after the response.
    async fn splice(&self, bucket: &Bucket, ctx: Option<&Context>) -> std::result::Result<(Vec<u8>, u32), Failure> {
        let band = async {
            match &self.band {
                Some(key) => shared(bucket, key, ctx).await.map(Some),
                None => Ok(None),
            }
        };
        let (index, a, b, band) =
            futures_util::future::join4(shared(bucket, &self.pair.index, ctx), shared(bucket, &self.pair.a, ctx), shared(bucket, &self.pair.b, ctx), band).await;
        let (copy, crc) = splice_checked(&index?, &a?, &b?, band?.as_deref(), &self.bits).map_err(|e| Failure::Broken(format!("{}: {e}", self.pair.index)))?;
        if let Some(ctx) = ctx.filter(|_| copy.len() <= CACHED_UP_TO) {
            let cached = cacheable(copy.clone(), Some(&etag(copy.len() as u64, crc)))?;
            let key = self.cache_key.clone();
            ctx.wait_until(async move {
                if let Err(e) = Cache::default().put(key.as_str(), cached).await {
                    worker::console_error!("caching a marked copy: {e}");
                }
            });
        }
        Ok((copy, crc))
    }
}

/// Pieces and copies up to this size are kept in the Cache API. Display pairs are far below it;
/// a large marked original's halves and copy are read from R2 and spliced each time instead,
/// so a download never holds a second clone of each for the cache (an isolate has 128 MB).
const CACHED_UP_TO: usize = 8 << 20;

/// `bytes` as the cache keeps them: public and immutable to the cache (which only this worker
/// reaches, after a session passed), never to a visitor.
fn cacheable(bytes: Vec<u8>, etag: Option<&str>) -> Result<Response> {
    let headers = Headers::new();
    headers.set("Content-Type", MediaType::Jpeg.as_str())?;
    headers.set("Content-Length", &bytes.len().to_string())?;
    if let Some(etag) = etag {
        headers.set("ETag", etag)?;
    }
    headers::public_immutable(&headers)?;
    Ok(Response::from_bytes(bytes)?.with_headers(headers))
}

/// One of the objects every marked link shares (an index, `A`, `B`, a band): from the cache,
/// else from R2, put in the cache after the response when there is one to wait on.
async fn shared(bucket: &Bucket, key: &str, ctx: Option<&Context>) -> std::result::Result<Vec<u8>, Failure> {
    let cache_key = format!("{MEDIA_CACHE_ORIGIN}/{key}");
    if let Some(mut hit) = Cache::default().get(cache_key.as_str(), false).await? {
        return Ok(hit.bytes().await?);
    }
    let Some(object) = bucket.get(key).execute().await? else { return Err(Failure::Missing(key.to_string())) };
    let Some(body) = object.body() else { return Err(Failure::Missing(key.to_string())) };
    let bytes = body.bytes().await?;
    if let Some(ctx) = ctx.filter(|_| bytes.len() <= CACHED_UP_TO) {
        let cached = cacheable(bytes.clone(), None)?;
        ctx.wait_until(async move {
            if let Err(e) = Cache::default().put(cache_key.as_str(), cached).await {
                worker::console_error!("caching {cache_key}: {e}");
            }
        });
    }
    Ok(bytes)
}

/// A failure as the visitor's answer: a missing object is the publish's fault and answers like
/// any missing image (not found, logged); anything else fails the request (500, logged).
pub(super) async fn failed(v: &Visit<'_>, failure: Failure) -> Result<Response> {
    match failure {
        Failure::Missing(key) => missing_media(v, &key).await,
        Failure::Broken(problem) => Err(worker::Error::RustError(format!("marked image: {problem}"))),
    }
}

/// `GET|HEAD` of a link's marked copy as a display image (or, with a disposition added by the
/// caller, a web download): this link's cached copy, else spliced now. HEAD reads the index
/// alone for the length.
pub(super) async fn serve(v: &Visit<'_>, copy: &Copy) -> Result<Response> {
    if let Some(hit) = Cache::default().get(copy.cache_key.as_str(), false).await? {
        return gated_image(hit, v.head);
    }
    let bucket = v.env.bucket(MEDIA_BUCKET)?;
    if v.head {
        let (size, crc) = match copy.size_crc(&bucket, Some(v.ctx)).await {
            Ok(found) => found,
            Err(failure) => return failed(v, failure).await,
        };
        return gated_image(marked_head(size, crc)?, true);
    }
    let (bytes, crc) = match copy.splice(&bucket, Some(v.ctx)).await {
        Ok(spliced) => spliced,
        Err(failure) => return failed(v, failure).await,
    };
    let head = marked_head(bytes.len() as u64, crc)?;
    gated_image(Response::from_bytes(bytes)?.with_headers(head.headers().clone()), false)
}

/// A marked copy's type, length and tag (its CRC: the copy's bytes are this link's alone).
fn marked_head(size: u64, crc: u32) -> Result<Response> {
    let headers = Headers::new();
    headers.set("Content-Type", MediaType::Jpeg.as_str())?;
    headers.set("Content-Length", &size.to_string())?;
    headers.set("ETag", &etag(size, crc))?;
    Ok(Response::empty()?.with_headers(headers))
}

fn etag(size: u64, crc: u32) -> String {
    format!("\"m{crc:08x}-{size}\"")
}

#[cfg(test)]
mod tests;
