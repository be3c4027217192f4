//! The preview image of a gallery with `preview_image: cover`: a small, low-resolution JPEG of
//! the cover made for chat apps' link previews only, and public at its own path.
//!
//! It is made from the source's pixels (upright, sRGB, no metadata), never from a display
//! variant, and named by the hash of its own bytes: its URL says nothing of the cover's R2
//! keys or display file names, so no gated variant can be derived from it. Made once per
//! source and kept in the build cache (`previews/`), keyed by the source's content hash.

use super::Probe;
use super::encode::{height_for, read_container};
use super::pixels;
use anyhow::{Context, Result, anyhow};
use gatefold_contract::preview::IMAGE_WIDTH;
use std::fs;
use std::path::{Path, PathBuf};

/// Low on purpose: a preview is a hint of the gallery, not a copy of its image.
const JPEG_QUALITY: u8 = 60;
/// Bumped whenever a preview of the same source would come out differently.
const VERSION: &str = "preview-1";

/// A made preview image: where its bytes are and what the page says of it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct PreviewFile {
    /// BLAKE3 of the JPEG's bytes, 32 hex digits: its public name.
    pub hash: String,
    pub width: u32,
    pub height: u32,
    /// The file in the cache.
    #[serde(skip)]
    pub path: PathBuf,
}

/// The preview image of `source` (checked at load as `probe`), from the cache in `cache_dir`
/// or made now.
pub fn cover_preview(source: &Path, probe: &Probe, cache_dir: &Path) -> Result<PreviewFile> {
    let bytes = fs::read(source).with_context(|| format!("reading {}", source.display()))?;
    let mut key = blake3::Hasher::new();
    key.update(VERSION.as_bytes());
    key.update(&IMAGE_WIDTH.to_le_bytes());
    key.update(&[JPEG_QUALITY]);
    key.update(&bytes);
    let dir = cache_dir.join("previews");
    let path = dir.join(format!("{}.jpg", key.finalize().to_hex()));
    let jpeg = match fs::read(&path) {
        Ok(cached) => cached,
        Err(_) => {
            let jpeg = encode(&bytes, probe).with_context(|| format!("making the preview image of {}", source.display()))?;
            fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
            let tmp = path.with_extension(format!("tmp-{}", std::process::id()));
            fs::write(&tmp, &jpeg).with_context(|| format!("writing {}", tmp.display()))?;
            fs::rename(&tmp, &path).with_context(|| format!("writing {}", path.display()))?;
            jpeg
        }
    };
    let (width, height) = image::ImageReader::with_format(std::io::Cursor::new(&jpeg), image::ImageFormat::Jpeg)
        .into_dimensions()
        .with_context(|| format!("reading back {}", path.display()))?;
    let hash = blake3::hash(&jpeg).to_hex()[..32].to_string();
    Ok(PreviewFile { hash, width, height, path })
}

/// The source's first frame, upright, at most [`IMAGE_WIDTH`] wide, as a baseline JPEG.
fn encode(bytes: &[u8], probe: &Probe) -> Result<Vec<u8>> {
    let (layout, kept) = read_container(probe, bytes)?;
    let decoded = pixels::decode(probe.format, bytes, &layout, kept.orientation, Some(IMAGE_WIDTH)).map_err(|m| anyhow!("{m} (fix: re-export the image from its source)"))?;
    let width = decoded.width.min(IMAGE_WIDTH);
    let small = pixels::resize(&decoded, width, height_for(decoded.width, decoded.height, width)).map_err(|m| anyhow!("resizing to {width} px: {m}"))?;
    pixels::encode_jpeg(&small, JPEG_QUALITY).map_err(|m| anyhow!(m))
}
