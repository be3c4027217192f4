//! One source image's plan and its encode.
//!
//! [`plan`] decides everything about an image without decoding a pixel: its upright size (from
//! the probe and the EXIF orientation), whether it is shown animated, every output file with its
//! size, codec and parameters, and the stripped original's hash, size and CRC-32 (a container
//! rewrite, no decode). From the plan alone the build knows every R2 key and writes every
//! record and page. [`encode`] then makes exactly the files the plan names: the stripped
//! original for download, the display sizes and thumbnail in WebP and JPEG (and, opt-in,
//! AVIF), and for an animation an animated WebP of its own at a display width (never the
//! original's bytes, which only a download gives).

use super::animation;
use super::cache::{Encoding, Entry, EntryFile, PIPELINE_VERSION, hex16};
use super::container::{self, KeptExif, Layout};
use super::pixels::{self, Pixels};
use super::settings::Settings;
use super::{Probe, SourceFormat};
use anyhow::{Context, Result, anyhow, bail};
use gatefold_contract::MediaType;
use gatefold_contract::manifest::VariantRole;
use rayon::prelude::*;
use std::fs;
use std::path::Path;
use std::sync::Mutex;

/// Animations larger than this are shown as a still: re-encoding every frame of a bigger one
/// would hold too many frames at once (see [`animation::MAX_WIDTH`]).
const MAX_ANIMATION_BYTES: u64 = 25 * 1024 * 1024;

/// libwebp `method` for an animation's frames: each frame is a whole picture, so the faster
/// method of the widest still (see `WEBP_METHOD_WIDEST`) keeps a 100-frame animation's encode
/// in seconds.
const WEBP_METHOD_ANIMATION: u8 = 2;

/// libwebp `method` for the WebP variants: 2 for the widest display size, 3 for the smaller
/// ones. The widest (1920 px) holds ~3/4 of the pixels, so its method sets the build time:
/// method 2 skips rate-distortion mode choice and encodes ~3× faster. Measured on the bench
/// (q80, DSSIM against an exact Lanczos3 reference, BENCHMARKS.md "Image pipeline"): at 1920 px
/// method 2 is 0.001867 vs sharp's 0.001779 (1.05×; method 3: 0.001716), while at 960/480/360
/// px method 2 was 6–9% worse than sharp and method 3 is 2–4% better, for little time.
const WEBP_METHOD_WIDEST: u8 = 2;
const WEBP_METHOD: u8 = 3;

/// ravif quality and speed (1 slowest … 10 fastest) for AVIF variants. AVIF costs several
/// times WebP even at speed 9, which is why it is opt-in.
const AVIF_QUALITY: u8 = 60;
const AVIF_SPEED: u8 = 9;

/// Sources above this many pixels that cannot be decoded at reduced scale (PNG, WebP, GIF,
/// CMYK JPEG) are decoded one at a time, to bound peak memory.
const BIG_FULL_DECODE_PIXELS: u64 = 24_000_000;

/// Upright output sizes for a source `w`×`h`: configured widths never above the source, plus
/// the source's own width when it is well above the largest one kept (so a 1500 px image is
/// not shown at 960), or the source size alone when it is below every width.
pub(crate) fn display_widths(settings: &Settings, w: u32) -> Vec<u32> {
    let mut widths: Vec<u32> = settings.widths.iter().copied().filter(|x| *x <= w).collect();
    widths.sort_unstable();
    widths.dedup();
    match widths.last() {
        None => widths.push(w),
        Some(&top) if top < *settings.widths.iter().max().unwrap_or(&top) && u64::from(w) * 5 > u64::from(top) * 6 => widths.push(w),
        _ => {}
    }
    widths
}

/// The libwebp method for one WebP variant: see `WEBP_METHOD_WIDEST`.
pub(crate) fn webp_method(role: VariantRole, width: u32, top_width: Option<u32>) -> u8 {
    if role == VariantRole::Display && Some(width) == top_width { WEBP_METHOD_WIDEST } else { WEBP_METHOD }
}

/// Height of a `width` px wide output of an upright `w`×`h` image, rounded, at least 1.
pub(crate) fn height_for(w: u32, h: u32, width: u32) -> u32 {
    ((u64::from(h) * u64::from(width) + u64::from(w) / 2) / u64::from(w)).max(1) as u32
}

fn damaged(m: String) -> anyhow::Error {
    anyhow!("{m} (fix: re-export or re-copy the image from its source)")
}

/// The container's metadata (EXIF, ICC, frames) and the EXIF block the original keeps.
pub(crate) fn read_container(probe: &Probe, bytes: &[u8]) -> Result<(Layout, KeptExif)> {
    // The probe is from the load; the bytes are read now: a file cut since then is refused.
    if let Some(p) = super::cut_short(probe.format, bytes) {
        return Err(anyhow!("{p}"));
    }
    let layout = container::layout(probe.format, bytes).map_err(damaged)?;
    let kept = layout.exif.as_deref().map(container::read_exif).unwrap_or(KeptExif { orientation: 1, copyright: None });
    Ok((layout, kept))
}

/// The original, for download: private metadata out, pixels untouched.
fn stripped_original(probe: &Probe, bytes: &[u8], kept: &KeptExif) -> Result<Vec<u8>> {
    container::strip(probe.format, bytes, container::minimal_exif(kept).as_deref()).map_err(damaged)
}

/// Plans `bytes` (the source at `path`, checked at load as `probe`, with content hash
/// `source_hash`): reads the container, never the pixels.
pub(crate) fn plan(path: &Path, bytes: &[u8], probe: &Probe, source_hash: &str, settings: &Settings) -> Result<Entry> {
    let format = probe.format;
    let (layout, kept) = read_container(probe, bytes)?;
    let (w, h) = if kept.orientation >= 5 { (probe.height, probe.width) } else { (probe.width, probe.height) };
    let original = stripped_original(probe, bytes, &kept)?;
    let ext = format.media_type().extension();

    let animated = layout.animated && (original.len() as u64) <= MAX_ANIMATION_BYTES;
    if layout.animated && !animated {
        eprintln!(
            "warning: {}: the animation is {:.1} MB, over the 25 MiB an animation is shown up to; it is shown as a still image (download keeps the animation)",
            path.display(),
            original.len() as f64 / 1e6
        );
    }
    let hash16 = |op: &str| hex16(&blake3::Hasher::new().update(PIPELINE_VERSION.as_bytes()).update(source_hash.as_bytes()).update(op.as_bytes()).finalize());

    let mut files = Vec::new();
    if animated {
        // Its own display file: every frame re-encoded at the widest display size (at most
        // animation::MAX_WIDTH), still animated.
        let widths = display_widths(settings, w);
        let width = widths.iter().copied().filter(|x| *x <= animation::MAX_WIDTH).max().unwrap_or(widths[0].min(animation::MAX_WIDTH));
        let (quality, method) = (settings.webp_quality, WEBP_METHOD_ANIMATION);
        let suffix = format!("{width}.anim.webp");
        files.push(EntryFile {
            role: VariantRole::Display,
            width,
            height: height_for(w, h, width),
            content_type: MediaType::Webp,
            full_size: true,
            hash16: hash16(&format!("{suffix};w={width};q={quality};m={method}")),
            suffix,
            encoding: Encoding::AnimatedWebp { quality, method },
        });
    }
    let widths = if animated { Vec::new() } else { display_widths(settings, w) };
    let top_width = widths.last().copied();
    let mut sizes: Vec<(VariantRole, u32)> = widths.iter().rev().map(|x| (VariantRole::Display, *x)).collect();
    sizes.push((VariantRole::Thumb, settings.thumb_width.min(w)));
    for (role, width) in sizes {
        let name = match role {
            VariantRole::Thumb => "thumb".to_string(),
            VariantRole::Display => width.to_string(),
        };
        let mut encodings = vec![
            Encoding::Webp { quality: settings.webp_quality, method: webp_method(role, width, top_width) },
            Encoding::Jpeg { quality: settings.jpeg_quality },
        ];
        if settings.avif {
            encodings.push(Encoding::Avif { quality: AVIF_QUALITY, speed: AVIF_SPEED });
        }
        for encoding in encodings {
            let (kind, op) = match encoding {
                Encoding::Webp { quality, method } => (MediaType::Webp, format!("q={quality};m={method}")),
                Encoding::Jpeg { quality } => (MediaType::Jpeg, format!("q={quality}")),
                Encoding::Avif { quality, speed } => (MediaType::Avif, format!("q={quality};s={speed}")),
                Encoding::AnimatedWebp { .. } => unreachable!("stills are never animations"),
            };
            let suffix = format!("{name}.{}", kind.extension());
            files.push(EntryFile {
                role,
                width,
                height: height_for(w, h, width),
                content_type: kind,
                // Every format of the widest display size counts as a full-size view when fetched.
                full_size: role == VariantRole::Display && Some(width) == top_width,
                hash16: hash16(&format!("{suffix};w={width};{op}")),
                suffix,
                encoding,
            });
        }
    }
    Ok(Entry {
        width: w,
        height: h,
        animated,
        files,
        original_ext: ext.into(),
        original_content_type: format.media_type(),
        original_size: original.len() as u64,
        // Hashed from memory: reading the written file back cost a second pass over every original.
        original_hash16: hex16(&blake3::hash(&original)),
        original_crc32: crc32fast::hash(&original),
    })
}

/// An animation's display file `f`: re-encoded, or, when its frames would pass `budget`, its
/// first frame as a still WebP of the same size (as for animations over 25 MiB; a download
/// keeps the animation), with a warning naming `source`.
#[allow(clippy::too_many_arguments)]
pub(crate) fn animated_display(source: &Path, format: SourceFormat, bytes: &[u8], layout: &Layout, orientation: u16, f: &EntryFile, budget: u64) -> Result<Vec<u8>> {
    let Encoding::AnimatedWebp { quality, method } = f.encoding else { bail!("{} is not an animation's display file", f.suffix) };
    let fix = |m: String| anyhow!("{m} (fix: re-export the animation from its source)");
    match animation::encode_webp(format, bytes, layout, orientation, f.width, f.height, quality, method, budget) {
        Ok(data) => Ok(data),
        Err(animation::Failed::Broken(m)) => Err(fix(m)),
        Err(animation::Failed::OverBudget { frames }) => {
            eprintln!(
                "warning: {}: the animation has {frames} frames or more, over the {} MB its frames may take at {} px while they are encoded; it is shown as a still image (download keeps the animation)",
                source.display(),
                budget / 1_000_000,
                f.width
            );
            let first = pixels::decode(format, bytes, layout, orientation, Some(f.width)).map_err(fix)?;
            let still = pixels::resize(&first, f.width, f.height).map_err(|m| anyhow!("resizing to {} px: {m}", f.width))?;
            pixels::encode_webp(&still, quality, method).map_err(|m| anyhow!("{m}"))
        }
    }
}

/// Makes every file `plan` names from `bytes` (the source at `source`) into the cache entry
/// directory `dir`. `big_decode` serialises the full decodes of very large sources.
pub(crate) fn encode(source: &Path, bytes: &[u8], probe: &Probe, plan: &Entry, dir: &Path, big_decode: &Mutex<()>) -> Result<()> {
    let format = probe.format;
    let (layout, kept) = read_container(probe, bytes)?;
    let write = |name: &str, data: &[u8]| -> Result<()> {
        fs::write(dir.join(name), data).with_context(|| format!("writing {}", dir.join(name).display()))
    };
    let original = stripped_original(probe, bytes, &kept)?;
    if hex16(&blake3::hash(&original)) != plan.original_hash16 {
        bail!("the file changed since it was planned (fix: build again)");
    }
    write(&plan.original_name(), &original)?;
    drop(original);
    for f in &plan.files {
        if matches!(f.encoding, Encoding::AnimatedWebp { .. }) {
            let data = animated_display(source, format, bytes, &layout, kept.orientation, f, animation::FRAMES_BUDGET_BYTES)?;
            write(&f.suffix, &data)?;
        }
    }

    let stills: Vec<&EntryFile> = plan.files.iter().filter(|f| !matches!(f.encoding, Encoding::AnimatedWebp { .. })).collect();
    // Every plan has a thumbnail, so there is a widest still.
    let widest = stills.iter().max_by_key(|f| f.width).context("the plan names no still image")?;
    let (w, h) = (plan.width, plan.height);
    let pixels = {
        let scaled_jpeg = format == SourceFormat::Jpeg;
        let _guard = (!scaled_jpeg && u64::from(w) * u64::from(h) > BIG_FULL_DECODE_PIXELS).then(|| big_decode.lock());
        pixels::decode(format, bytes, &layout, kept.orientation, Some(widest.width)).map_err(|m| anyhow!("{m} (fix: re-export the image from its source)"))?
    };
    // One Lanczos3 step from the decoded image to the widest size, then every smaller size
    // straight from that one (as sharp does): chaining 1920→960→480 compounds the blur.
    let base = pixels::resize(&pixels, widest.width, widest.height).map_err(|m| anyhow!("resizing to {} px: {m}", widest.width))?;
    drop(pixels);
    let mut sizes: Vec<(u32, u32)> = stills.iter().map(|f| (f.width, f.height)).collect();
    sizes.dedup();
    let resized: Vec<Pixels> = sizes
        .par_iter()
        .map(|&(width, height)| pixels::resize(&base, width, height).map_err(|m| anyhow!("resizing to {width} px: {m}")))
        .collect::<Result<_>>()?;
    drop(base);
    // Across sizes and formats too, so one large image does not leave a core idle.
    stills
        .par_iter()
        .map(|f| {
            let p = &resized[sizes.iter().position(|s| *s == (f.width, f.height)).expect("every size was resized")];
            let data = match f.encoding {
                Encoding::Webp { quality, method } => pixels::encode_webp(p, quality, method),
                Encoding::Jpeg { quality } => pixels::encode_jpeg(p, quality),
                Encoding::Avif { quality, speed } => pixels::encode_avif(p, quality, speed),
                Encoding::AnimatedWebp { .. } => unreachable!("animations were written above"),
            }
            .map_err(|m| anyhow!(m))?;
            write(&f.suffix, &data)
        })
        .collect::<Result<()>>()
}
