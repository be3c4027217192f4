//! Container-level work on the four source formats, without touching pixels: finding the
//! metadata (EXIF, ICC), judging truncation, counting frames, and rewriting a file with its
//! private metadata removed.
//!
//! Stripping works by allow-list: only the segments/chunks a viewer needs to show the pixels
//! right are kept (image data, colour profile, animation control), so metadata kinds we never
//! heard of (maker notes, XMP, IPTC, trailing "extra" JPEGs with their own EXIF) go too.

mod exif;
mod gif;
mod jpeg;
mod png;
mod webp;

use super::SourceFormat;
use gif::gif_frames;
use jpeg::jpeg_strip;
use png::png_strip;
use webp::webp_strip;

pub(crate) use exif::{KeptExif, minimal_exif, read_exif};

/// What the container says about an image, beyond its pixels.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub(crate) struct Layout {
    /// TIFF-structured EXIF payload (starts with `II*\0` or `MM\0*`).
    pub exif: Option<Vec<u8>>,
    /// Raw ICC profile, when the container carries it uncompressed (JPEG, WebP).
    pub icc: Option<Vec<u8>>,
    pub animated: bool,
}

/// Why a container is unusable. The text is shown to the gallery owner.
pub(crate) type Broken = String;

pub(super) fn be16(b: &[u8], at: usize) -> Option<usize> {
    Some(u16::from_be_bytes(b.get(at..at + 2)?.try_into().ok()?) as usize)
}
pub(super) fn be32(b: &[u8], at: usize) -> Option<usize> {
    Some(u32::from_be_bytes(b.get(at..at + 4)?.try_into().ok()?) as usize)
}
pub(super) fn le32(b: &[u8], at: usize) -> Option<usize> {
    Some(u32::from_le_bytes(b.get(at..at + 4)?.try_into().ok()?) as usize)
}

/// Reads the container structure; `Err` when it is cut short or malformed.
pub(crate) fn layout(format: SourceFormat, bytes: &[u8]) -> Result<Layout, Broken> {
    match format {
        SourceFormat::Jpeg => jpeg::layout(bytes),
        SourceFormat::Png => png::layout(bytes),
        SourceFormat::Gif => gif_frames(bytes).map(|frames| Layout { animated: frames > 1, ..Layout::default() }),
        SourceFormat::WebP => webp::layout(bytes),
    }
}

/// The file with private metadata removed and nothing re-encoded. `keep_exif` is a minimal
/// replacement EXIF block (orientation, copyright) or `None`.
pub(crate) fn strip(format: SourceFormat, bytes: &[u8], keep_exif: Option<&[u8]>) -> Result<Vec<u8>, Broken> {
    match format {
        SourceFormat::Jpeg => jpeg_strip(bytes, keep_exif),
        SourceFormat::Png => png_strip(bytes, keep_exif),
        SourceFormat::WebP => webp_strip(bytes, keep_exif),
        // GIF has no EXIF; comment and application extensions are kept as they are.
        SourceFormat::Gif => gif_frames(bytes).map(|_| bytes.to_vec()),
    }
}

/// A PNG or WebP chunk: its four-character type and where it and its data lie.
#[derive(Debug, Clone, Copy)]
pub(super) struct Chunk {
    pub kind: [u8; 4],
    pub start: usize,
    pub data: usize,
    pub end: usize,
}
