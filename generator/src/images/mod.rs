//! Image checks and processing.
//!
//! [`probe`] is the cheap check `gatefold check` and every build run on each source file:
//! format judged by content, size, dimensions (decompression bombs) and truncation.

use std::fmt;
use std::io::Read;
use std::path::Path;

/// Hard limits on a source image.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    pub max_bytes: u64,
    pub max_pixels: u64,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits { max_bytes: 50 * 1000 * 1000, max_pixels: 100_000_000 }
    }
}

/// The formats Gatefold accepts, judged by content.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SourceFormat {
    Png,
    Jpeg,
    Gif,
    WebP,
}

impl SourceFormat {
    pub fn content_type(self) -> &'static str {
        match self {
            SourceFormat::Png => "image/png",
            SourceFormat::Jpeg => "image/jpeg",
            SourceFormat::Gif => "image/gif",
            SourceFormat::WebP => "image/webp",
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

/// Checks a source image without decoding its pixels.
pub fn probe(path: &Path, limits: &Limits) -> Result<Probe, ImageProblem> {
    let meta = std::fs::metadata(path).map_err(|e| problem(format!("cannot read the file: {e}"), "check that the file exists and is readable"))?;
    let bytes = meta.len();
    if bytes > limits.max_bytes {
        return Err(problem(
            format!("the file is {:.1} MB, over the {} MB limit", bytes as f64 / 1e6, limits.max_bytes / 1_000_000),
            "export it at a smaller size or higher compression (a 6000 px JPEG at quality 90 is typically under 20 MB)",
        ));
    }
    let mut head = Vec::with_capacity(512);
    std::fs::File::open(path)
        .and_then(|f| f.take(512).read_to_end(&mut head))
        .map_err(|e| problem(format!("cannot read the file: {e}"), "check that the file is readable"))?;
    let Some(format) = sniff(&head) else {
        return Err(match sniff_other(&head) {
            Some(other) => problem(
                format!("this is a {other} file; Gatefold accepts PNG, JPEG, GIF and WebP"),
                format!("convert it, e.g. `convert in.{} out.jpg` (ImageMagick) or export as JPEG from your editor", other.to_ascii_lowercase()),
            ),
            None => problem(
                "this is not a PNG, JPEG, GIF or WebP image (judged by its content, whatever its name)",
                "export it as JPEG or PNG, or remove it from the gallery",
            ),
        });
    };
    let reader = image::ImageReader::open(path)
        .and_then(|r| r.with_guessed_format())
        .map_err(|e| problem(format!("cannot read the file: {e}"), "check that the file is readable"))?;
    let (width, height) = reader
        .into_dimensions()
        .map_err(|e| problem(format!("the image header is damaged: {e}"), "re-export the image from its source"))?;
    let pixels = u64::from(width) * u64::from(height);
    if pixels > limits.max_pixels {
        return Err(problem(
            format!("{width}×{height} is {:.0} megapixels, over the {} megapixel limit", pixels as f64 / 1e6, limits.max_pixels / 1_000_000),
            "scale it down before adding it, or raise images.max_megapixels in site.yaml if you trust the file",
        ));
    }
    Ok(Probe { format, width, height, bytes })
}
