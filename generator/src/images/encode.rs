//! Encoding one source image into its cache entry: the stripped original for download, the
//! display sizes and thumbnail in WebP and JPEG (and, opt-in, AVIF), or the animation itself.

use super::cache::{Entry, EntryFile, ORIGINAL_NAME, PIPELINE_VERSION, hex16};
use super::container::{self, KeptExif};
use super::pixels::{self, Pixels};
use super::process::Settings;
use super::{Probe, SourceFormat};
use anyhow::{Context, Result, anyhow};
use gatefold_contract::MediaType;
use gatefold_contract::manifest::VariantRole;
use rayon::prelude::*;
use std::fs;
use std::path::Path;
use std::sync::Mutex;

/// The static-assets host refuses files over 25 MiB; an animation larger than that cannot be
/// served as it is.
const MAX_ASSET_BYTES: u64 = 25 * 1024 * 1024;

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

fn height_for(w: u32, h: u32, width: u32) -> u32 {
    ((u64::from(h) * u64::from(width) + u64::from(w) / 2) / u64::from(w)).max(1) as u32
}

/// Encodes `bytes` (the source at `path`, checked at load as `probe`) into the cache entry
/// directory `dir`. `big_decode` serialises the full decodes of very large sources.
pub(crate) fn build_entry(path: &Path, bytes: &[u8], probe: &Probe, source_hash: &str, settings: &Settings, dir: &Path, big_decode: &Mutex<()>) -> Result<Entry> {
    // The probe is from the load; the bytes are read now: a file cut since then is refused.
    if let Some(p) = super::cut_short(probe.format, bytes) {
        return Err(anyhow!("{p}"));
    }
    let format = probe.format;
    let layout = container::layout(format, bytes).map_err(|m| anyhow!("{m} (fix: re-export or re-copy the image from its source)"))?;
    let kept = layout.exif.as_deref().map(container::read_exif).unwrap_or(KeptExif { orientation: 1, copyright: None });
    let (w, h) = if kept.orientation >= 5 { (probe.height, probe.width) } else { (probe.width, probe.height) };

    let hash16 = |op: &str| hex16(&blake3::Hasher::new().update(PIPELINE_VERSION.as_bytes()).update(source_hash.as_bytes()).update(op.as_bytes()).finalize());
    let write = |name: &str, data: &[u8]| -> Result<()> {
        fs::write(dir.join(name), data).with_context(|| format!("writing {}", dir.join(name).display()))
    };

    // The original, for download: private metadata out, pixels untouched.
    let original = container::strip(format, bytes, container::minimal_exif(&kept).as_deref())
        .map_err(|m| anyhow!("{m} (fix: re-export or re-copy the image from its source)"))?;
    let ext = format.media_type().extension();
    write(&format!("{ORIGINAL_NAME}.{ext}"), &original)?;

    let animated = layout.animated && (original.len() as u64) <= MAX_ASSET_BYTES;
    if layout.animated && !animated {
        eprintln!(
            "warning: {}: the animation is {:.1} MB, over the 25 MiB a page asset may have; it is shown as a still image (download keeps the animation)",
            path.display(),
            original.len() as f64 / 1e6
        );
    }
    // Hashed from memory: reading the written file back cost a second pass over every original.
    let original_hash16 = hex16(&blake3::hash(&original));
    let original_size = original.len() as u64;
    drop(original);
    let widths = if animated { Vec::new() } else { display_widths(settings, w) };
    let thumb_w = settings.thumb_width.min(w);
    let widest = widths.last().copied().unwrap_or(thumb_w).max(thumb_w);

    let pixels = {
        let scaled_jpeg = format == SourceFormat::Jpeg;
        let _guard = (!scaled_jpeg && u64::from(w) * u64::from(h) > BIG_FULL_DECODE_PIXELS).then(|| big_decode.lock());
        pixels::decode(format, bytes, &layout, kept.orientation, Some(widest)).map_err(|m| anyhow!("{m} (fix: re-export the image from its source)"))?
    };

    let mut files = Vec::new();
    if animated {
        // The animation itself, stripped like the download, is the display image.
        let suffix = format!("anim.{ext}");
        fs::copy(dir.join(format!("{ORIGINAL_NAME}.{ext}")), dir.join(&suffix)).with_context(|| format!("writing {}", dir.join(&suffix).display()))?;
        files.push(EntryFile { role: VariantRole::Display, width: w, height: h, content_type: format.media_type(), full_size: true, hash16: hash16(&suffix), suffix });
    }
    // One Lanczos3 step from the decoded image to the widest size, then every smaller size
    // straight from that one (as sharp does): chaining 1920→960→480 compounds the blur.
    let mut sizes: Vec<(VariantRole, u32)> = widths.iter().rev().map(|x| (VariantRole::Display, *x)).collect();
    sizes.push((VariantRole::Thumb, thumb_w));
    let top_width = widths.last().copied();
    let base = pixels::resize(&pixels, widest, height_for(w, h, widest)).map_err(|m| anyhow!("resizing to {widest} px: {m}"))?;
    drop(pixels);
    let resized: Vec<(VariantRole, u32, Pixels)> = sizes
        .par_iter()
        .map(|&(role, width)| {
            let p = pixels::resize(&base, width, height_for(w, h, width)).map_err(|m| anyhow!("resizing to {width} px: {m}"))?;
            Ok((role, width, p))
        })
        .collect::<Result<_>>()?;
    drop(base);
    let mut kinds = vec![MediaType::Webp, MediaType::Jpeg];
    if settings.avif {
        kinds.push(MediaType::Avif);
    }
    let tasks: Vec<(usize, MediaType)> = (0..resized.len()).flat_map(|i| kinds.iter().map(move |k| (i, *k))).collect();
    // Across sizes and formats too, so one large image does not leave a core idle.
    let encoded: Vec<Vec<u8>> = tasks
        .par_iter()
        .map(|&(i, kind)| {
            let (role, width, ref p) = resized[i];
            match kind {
                MediaType::Webp => pixels::encode_webp(p, settings.webp_quality, webp_method(role, width, top_width)),
                MediaType::Jpeg => pixels::encode_jpeg(p, settings.jpeg_quality),
                MediaType::Avif => pixels::encode_avif(p, AVIF_QUALITY, AVIF_SPEED),
                other => unreachable!("{other} is not an output format"),
            }
            .map_err(|m| anyhow!(m))
        })
        .collect::<Result<_>>()?;
    for (&(i, kind), data) in tasks.iter().zip(encoded) {
        let (role, width, ref p) = resized[i];
        let name = match role {
            VariantRole::Thumb => "thumb".to_string(),
            VariantRole::Display => width.to_string(),
        };
        let op = match kind {
            MediaType::Webp => format!("q={};m={}", settings.webp_quality, webp_method(role, width, top_width)),
            MediaType::Avif => format!("q={AVIF_QUALITY};s={AVIF_SPEED}"),
            _ => format!("q={}", settings.jpeg_quality),
        };
        let suffix = format!("{name}.{}", kind.extension());
        write(&suffix, &data)?;
        // Every format of the widest display size counts as a full-size view when fetched.
        let full_size = role == VariantRole::Display && Some(width) == top_width;
        let op = format!("{suffix};w={width};{op}");
        files.push(EntryFile { role, width, height: p.height, content_type: kind, full_size, hash16: hash16(&op), suffix });
    }
    Ok(Entry {
        width: w,
        height: h,
        animated,
        files,
        original_ext: ext.into(),
        original_content_type: format.media_type(),
        original_size,
        original_hash16,
    })
}
