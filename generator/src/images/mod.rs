//! Image checks and processing.
//!
//! [`probe`] is the cheap check `gatefold check` and every build run on each source file:
//! format judged by content, size, dimensions (decompression bombs) and truncation.
//! [`verify`] adds a full decode (`gatefold check`); [`process`] is the build's image step
//! (plan, and encode when asked).

mod animation;
mod cache;
mod container;
mod encode;
mod marked;
mod pixels;
mod preview;
mod process;
mod settings;
mod sources;

pub use cache::prune_cache;
pub use marked::{JobMark, JobStamp, ORIGINAL_QUALITY, stamp_id};
pub use preview::{PreviewFile, cover_preview};
pub use process::{Job, Object, OnDone, Outcome, Planned, Plans, Processed, process, process_known};
pub use sources::Sources;
pub use settings::{ImageSettings, Limits, MAX_IMAGE_BYTES, Settings};

use gatefold_contract::MediaType;
use std::fmt;
use std::io::{Read, Seek, SeekFrom};
use std::path::Path;

/// The formats Gatefold accepts, judged by content.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SourceFormat {
    Png,
    Jpeg,
    Gif,
    WebP,
}

impl SourceFormat {
    pub fn media_type(self) -> MediaType {
        match self {
            SourceFormat::Png => MediaType::Png,
            SourceFormat::Jpeg => MediaType::Jpeg,
            SourceFormat::Gif => MediaType::Gif,
            SourceFormat::WebP => MediaType::Webp,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Probe {
    pub format: SourceFormat,
    /// Pixel size as stored (before EXIF orientation).
    pub width: u32,
    pub height: u32,
    pub bytes: u64,
}

/// Why a source image cannot be used, and what the owner can do about it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImageProblem {
    pub message: String,
    pub fix: String,
}

impl fmt::Display for ImageProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} (fix: {})", self.message, self.fix)
    }
}

impl std::error::Error for ImageProblem {}

fn problem(message: impl Into<String>, fix: impl Into<String>) -> ImageProblem {
    ImageProblem { message: message.into(), fix: fix.into() }
}

/// Names formats people commonly try to upload, so the error can suggest a conversion.
fn sniff_other(head: &[u8]) -> Option<&'static str> {
    let at = |offset: usize, magic: &[u8]| head.len() >= offset + magic.len() && &head[offset..offset + magic.len()] == magic;
    if at(4, b"ftypheic") || at(4, b"ftypheix") || at(4, b"ftypmif1") || at(4, b"ftyphevc") {
        Some("HEIC")
    } else if at(4, b"ftypavif") {
        Some("AVIF")
    } else if at(0, b"BM") {
        Some("BMP")
    } else if at(0, b"II*\0") || at(0, b"MM\0*") {
        Some("TIFF")
    } else if at(0, b"%PDF") {
        Some("PDF")
    } else if at(0, b"8BPS") {
        Some("PSD")
    } else if head.iter().take(512).any(|_| true) && String::from_utf8_lossy(&head[..head.len().min(512)]).contains("<svg") {
        Some("SVG")
    } else {
        None
    }
}

fn sniff(head: &[u8]) -> Option<SourceFormat> {
    if head.starts_with(b"\x89PNG\r\n\x1a\n") {
        Some(SourceFormat::Png)
    } else if head.starts_with(&[0xFF, 0xD8, 0xFF]) {
        Some(SourceFormat::Jpeg)
    } else if head.starts_with(b"GIF87a") || head.starts_with(b"GIF89a") {
        Some(SourceFormat::Gif)
    } else if head.len() >= 12 && &head[0..4] == b"RIFF" && &head[8..12] == b"WEBP" {
        Some(SourceFormat::WebP)
    } else {
        None
    }
}

const CUT_SHORT_FIX: &str = "copy or export the file again: its end is missing";

/// Cheap truncation check on the last bytes of a file; the full structure walk is in
/// [`verify`].
fn tail_problem(format: SourceFormat, head: &[u8], tail: &[u8], len: u64) -> Option<ImageProblem> {
    let has = |needle: &[u8]| tail.windows(needle.len()).any(|w| w == needle);
    let cut = match format {
        SourceFormat::Jpeg => !has(&[0xFF, 0xD9]),
        SourceFormat::Png => !has(b"IEND"),
        SourceFormat::Gif => !tail.contains(&0x3B),
        SourceFormat::WebP => head.get(4..8).map(|b| u64::from(u32::from_le_bytes([b[0], b[1], b[2], b[3]])) + 8).is_none_or(|riff| riff > len),
    };
    cut.then(|| problem(format!("the {format:?} file is cut short (its end marker is missing)"), CUT_SHORT_FIX))
}

fn unsupported(head: &[u8]) -> ImageProblem {
    match sniff_other(head) {
        Some(other) => problem(
            format!("this is a {other} file; Gatefold accepts PNG, JPEG, GIF and WebP"),
            format!("convert it, e.g. `convert in.{} out.jpg` (ImageMagick) or export as JPEG from your editor", other.to_ascii_lowercase()),
        ),
        None => problem(
            "this is not a PNG, JPEG, GIF or WebP image (judged by its content, whatever its name)",
            "export it as JPEG or PNG, or remove it from the gallery",
        ),
    }
}

fn too_large(bytes: u64, limits: &Limits) -> Option<ImageProblem> {
    (bytes > limits.max_bytes).then(|| {
        problem(
            format!("the file is {:.1} MB, over the {} MB limit", bytes as f64 / 1e6, limits.max_bytes / 1_000_000),
            "export it at a smaller size or higher compression (a 6000 px JPEG at quality 90 is typically under 20 MB)",
        )
    })
}

fn check_pixels(format: SourceFormat, width: u32, height: u32, bytes: u64, limits: &Limits) -> Result<Probe, ImageProblem> {
    let pixels = u64::from(width) * u64::from(height);
    if pixels > limits.max_pixels {
        return Err(problem(
            format!("{width}×{height} is {:.0} megapixels, over the {} megapixel limit", pixels as f64 / 1e6, limits.max_pixels / 1_000_000),
            "scale it down before adding it, or raise images.max_megapixels in site.yaml if you trust the file",
        ));
    }
    if pixels == 0 {
        return Err(problem("the image has no pixels (width or height is 0)", "re-export the image from its source"));
    }
    Ok(Probe { format, width, height, bytes })
}

/// Checks a source image without decoding its pixels.
pub fn probe(path: &Path, limits: &Limits) -> Result<Probe, ImageProblem> {
    let meta = std::fs::metadata(path).map_err(|e| problem(format!("cannot read the file: {e}"), "check that the file exists and is readable"))?;
    let bytes = meta.len();
    if let Some(p) = too_large(bytes, limits) {
        return Err(p);
    }
    let unreadable = |e: std::io::Error| problem(format!("cannot read the file: {e}"), "check that the file is readable");
    let mut file = std::fs::File::open(path).map_err(unreadable)?;
    let mut head = Vec::with_capacity(512);
    (&mut file).take(512).read_to_end(&mut head).map_err(unreadable)?;
    let Some(format) = sniff(&head) else { return Err(unsupported(&head)) };
    let mut tail = Vec::with_capacity(1024);
    file.seek(SeekFrom::Start(bytes.saturating_sub(1024))).map_err(unreadable)?;
    file.take(1024).read_to_end(&mut tail).map_err(unreadable)?;
    if let Some(p) = tail_problem(format, &head, &tail, bytes) {
        return Err(p);
    }
    let reader = image::ImageReader::open(path)
        .and_then(|r| r.with_guessed_format())
        .map_err(|e| problem(format!("cannot read the file: {e}"), "check that the file is readable"))?;
    let (width, height) = reader
        .into_dimensions()
        .map_err(|e| problem(format!("the image header is damaged: {e}"), "re-export the image from its source"))?;
    check_pixels(format, width, height, bytes, limits)
}

/// The truncation check of [`probe`] on a file already in memory: whether it was cut since
/// it was probed.
pub(crate) fn cut_short(format: SourceFormat, data: &[u8]) -> Option<ImageProblem> {
    let head = &data[..data.len().min(512)];
    tail_problem(format, head, &data[data.len().saturating_sub(1024)..], data.len() as u64)
}

/// [`probe`] plus a walk of the whole file structure and a full decode of every frame, so a
/// file damaged or cut anywhere is caught before a build (`gatefold check`).
pub fn verify(path: &Path, limits: &Limits) -> Result<Probe, ImageProblem> {
    let probe = probe(path, limits)?;
    let data = std::fs::read(path).map_err(|e| problem(format!("cannot read the file: {e}"), "check that the file is readable"))?;
    let damaged = |m: String| problem(m, "re-export or re-copy the image from its source");
    let layout = container::layout(probe.format, &data).map_err(damaged)?;
    let orientation = layout.exif.as_deref().map_or(1, |e| container::read_exif(e).orientation);
    pixels::decode(probe.format, &data, &layout, orientation, None).map_err(damaged)?;
    if layout.animated || probe.format == SourceFormat::Gif {
        pixels::decode_all_frames(probe.format, &data).map_err(damaged)?;
    }
    Ok(probe)
}

#[cfg(test)]
mod tests;
