//! An animation's display file: the GIF, APNG or animated WebP re-encoded as a lossy animated
//! WebP at a display width. Never the original's bytes: only a download may give those, so a
//! view-only link must not receive them through its display image.

use super::SourceFormat;
use super::container::Layout;
use super::pixels::{self, Pixels};
use image::{AnimationDecoder, DynamicImage, Frames};
use std::io::Cursor;

/// Widest an animation is shown (or the widest display size, if smaller). libwebp's animation
/// encoder holds every frame until it assembles the file, and every frame is a whole picture:
/// at 960 px a 100-frame animation is about 200 MB while it encodes and a few MB to download.
pub(crate) const MAX_WIDTH: u32 = 960;

/// The most the frames of one display animation may hold while it encodes (every frame at the
/// display size, RGBA): 256 MB. A file under 25 MiB can still hold thousands of frames
/// (5,000 × 960×540 would be 10 GB), so the frames are counted while they are decoded.
pub(crate) const FRAMES_BUDGET_BYTES: u64 = 256 * 1024 * 1024;

/// Why an animation was not re-encoded.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Failed {
    /// Its frames at the display size would pass the budget: it is shown as a still instead.
    OverBudget { frames: usize },
    /// The owner's sentence.
    Broken(String),
}

impl From<String> for Failed {
    fn from(m: String) -> Failed {
        Failed::Broken(m)
    }
}

/// Browsers show a frame of 10 ms or less for 100 ms (Chromium's and Firefox's rule for
/// animated images, which GIFs made for them rely on): the re-encode plays as the original did.
const SHORTEST_FRAME_MS: u32 = 10;
const SHORT_FRAME_SHOWN_MS: u32 = 100;

/// Re-encodes the animation in `bytes` as an animated WebP `width`×`height`, upright and in
/// sRGB, every frame lossy at `quality` with libwebp's `method`. Frame timing is kept, the last
/// frame's too; the result loops forever, as nearly every GIF does. Stops decoding as soon as
/// the frames kept would pass `budget` bytes ([`FRAMES_BUDGET_BYTES`]).
#[allow(clippy::too_many_arguments)]
pub(crate) fn encode_webp(format: SourceFormat, bytes: &[u8], layout: &Layout, orientation: u16, width: u32, height: u32, quality: u8, method: u8, budget: u64) -> Result<Vec<u8>, Failed> {
    let damaged = |e: image::ImageError| Failed::Broken(format!("the animation is damaged: {e}"));
    let frames: Frames<'_> = match format {
        SourceFormat::Gif => image::codecs::gif::GifDecoder::new(Cursor::new(bytes)).map_err(damaged)?.into_frames(),
        SourceFormat::WebP => image::codecs::webp::WebPDecoder::new(Cursor::new(bytes)).map_err(damaged)?.into_frames(),
        SourceFormat::Png => image::codecs::png::PngDecoder::new(Cursor::new(bytes)).map_err(damaged)?.apng().map_err(damaged)?.into_frames(),
        SourceFormat::Jpeg => return Err(Failed::Broken("a JPEG is never an animation".into())),
    };
    let turn = image::metadata::Orientation::from_exif(orientation.min(8) as u8).unwrap_or(image::metadata::Orientation::NoTransforms);
    // Each frame is resized as soon as it is decoded: only frames at the display size are kept.
    let mut shown: Vec<(Pixels, u32)> = Vec::new();
    let frame_bytes = u64::from(width) * u64::from(height) * 4;
    for frame in frames {
        if (shown.len() as u64 + 1) * frame_bytes > budget {
            return Err(Failed::OverBudget { frames: shown.len() + 1 });
        }
        let frame = frame.map_err(damaged)?;
        let (numer, denom) = frame.delay().numer_denom_ms();
        let ms = numer.checked_div(denom).unwrap_or(0);
        let mut canvas = DynamicImage::ImageRgba8(frame.into_buffer());
        canvas.apply_orientation(turn);
        let (w, h) = (canvas.width(), canvas.height());
        let mut rgba = Pixels { data: canvas.into_rgba8().into_raw(), width: w, height: h, alpha: true };
        if let Some(icc) = &layout.icc {
            pixels::to_srgb(icc, &mut rgba.data, true).map_err(Failed::Broken)?;
        }
        shown.push((pixels::resize(&rgba, width, height).map_err(Failed::Broken)?, if ms <= SHORTEST_FRAME_MS { SHORT_FRAME_SHOWN_MS } else { ms }));
    }
    if shown.is_empty() {
        return Err(Failed::Broken("the animation has no frames".into()));
    }
    let total_ms: u32 = shown.iter().map(|(_, ms)| ms).sum();
    let total_ms = i32::try_from(total_ms).map_err(|_| Failed::Broken("the animation plays for longer than 24 days".into()))?;
    let mut config = webp::WebPConfig::new().map_err(|()| Failed::Broken("WebP encoder configuration failed".into()))?;
    config.quality = f32::from(quality.min(100));
    config.method = i32::from(method.min(6));
    let mut encoder = webp::AnimEncoder::new(width, height, &config);
    encoder.set_loop_count(0);
    // The `webp` crate always ends the stream at timestamp 0 (libwebp then gives the last frame
    // the average duration). Timestamps counted back from the end, so that the animation ends
    // exactly at 0, give the last frame its own duration too; libwebp takes the differences.
    let mut at = -total_ms;
    for (frame, ms) in &shown {
        encoder.add_frame(webp::AnimFrame::from_rgba(&frame.data, frame.width, frame.height, at));
        at += *ms as i32;
    }
    encoder.try_encode().map(|m| m.to_vec()).map_err(|e| Failed::Broken(format!("WebP animation encoding failed: {e:?}")))
}
