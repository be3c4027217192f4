//! A variant's marked pair: `A` = image + δ, `B` = image − δ, δ a keyed pattern scaled by how
//! much the image around each pixel hides it, both encoded with the layout the splice needs.
//!
//! # Strength and mask
//! - Pattern ([`pattern`]): one keyed random sign per 8×8 px cell, bilinearly interpolated (RMS
//!   1). Its energy sits mostly below 1/16 cycle per pixel, so a 50 % downscale, a JPEG at
//!   quality 50, WebP and a browser's resampling keep most of it, and a registration error of a
//!   pixel or two costs little.
//! - Mask ([`mask`]): δ's local RMS is sqrt(k·2σ² + 0.55²) grey levels, capped at 6, with σ the
//!   image's local standard deviation and k = 0.03/0.97: SSIM's own contrast-masking term, so each
//!   busy window loses at most about 3 % of SSIM and flat areas carry about half a grey level,
//!   which shows no mottle in smooth gradients at 1:1. σ is the least over five 7×7 windows
//!   (centred, and shifted 3 px each way): a flat pixel beside an edge has a window that misses
//!   the edge, so objects and text get no halo of noise.
//! - Budget ([`fitted_delta`]): δ is scaled down (to 1/64) until the marked JPEG, predicted
//!   through the encoder's own quantiser, stays ≥ 40.5 dB from the unmarked JPEG at the same
//!   quality. On busy images δ tips coefficients across quantiser steps and that costs as much
//!   as δ itself; predicting from δ alone misses it by 1–2 dB.
//! - δ is deterministic: the same pixels, quality, key and image id give the same δ, so
//!   [`crate::stamp`] reproduces a chip's pixels exactly. Only luma changes (δ is added to R, G
//!   and B alike).
//!
//! # What the detector reads
//! The trace decodes `A` and `B` (reference (A+B)/2, signal D = (A−B)/2, which is δ as the
//! quantiser left it) and reads each 64×16 px chip's correlation with D. Chips in flat areas
//! carry little, chips in texture a lot: a score Σ sign·c_i / sqrt(Σ c_i²) is capped near
//! sqrt(chips)·mean|c|/rms(c), 18–48 for a 1920 px image with ~2,400 chips (figures below).
//!
//! # Measured
//! `cargo run --release -p gatefold-mark --example embed_figures` on Debian's wallpaper photos
//! (mate-backgrounds: 14 JPEGs scaled to 1920 px wide) and two synthesized flat product scenes
//! (a bottle on a white sweep; text-heavy packaging with Chinese and Latin lines), display
//! JPEG at quality 82; PSNR and grey SSIM of `A` and `B` (the worse of the two) against the
//! unmarked JPEG from the same encoder at the same quality, and of `A` against the unmarked
//! variant the generator serves (mozjpeg); 2 shared cores at a 1-minute load of 8.3–8.5:
//!
//! | set | PSNR dB min / median | SSIM min / median | vs mozjpeg: PSNR min / SSIM min | `encode_pair`, 1920 px |
//! |---|---|---|---|---|
//! | textured photographs (14) | 40.60 / 46.2 | 0.9896 / 0.9923 | 38.18 / 0.9889 | 0.4–1.4 s |
//! | flat: bottle, packaging | 49.52, 45.92 | 0.9960, 0.9961 | 43.61 / 0.9960 | 1.4, 2.7 s |
//!
//! Against mozjpeg the busiest photos fall below 40 dB through the encoders alone: Dune's two
//! unmarked JPEGs (mozjpeg and this encoder, same tables and quality) are 40.07 dB apart before
//! any mark; Elephants 43.00 dB (marked 38.70). The mark's own cost is the first column.
//!
//! With the geometry known (the detector's registration left out), the right link's score and
//! the best of 2,000 wrong links' (lowest right score / highest wrong one over each set;
//! threshold 6.54 for 2,000 candidates at 10⁻⁶), textured then flat: JPEG q50 19/3.7,
//! 12/3.5; 50 % downscale 19/3.6, 17/4.5; crop 5 % per edge 19/3.9, 16/3.2; WebP q75 17/3.8,
//! 12/4.2; brightness +10 % 10/3.9 (a bright image's highlights clip), 17/3.5; 60 % + crop +
//! JPEG 70 16/3.8, 11/3.5; two copies averaged 15/3.5, 13/3.6.

use gatefold_contract::mark::{Geometry, MarkIndex, MarkKey, RESTART_MCUS, index_pair};
use jpeg_encoder::{ColorType, Encoder, SamplingFactor};

/// Pattern cells: one random sign per `CELL`×`CELL` px, bilinearly interpolated, so the mark
/// lives in the low and middle frequencies that survive re-encoding and downscaling.
const CELL: u32 = 8;
/// A bilinear field of independent ±1 cells has an RMS of 2/3: this brings it to 1.
const PATTERN_GAIN: f32 = 1.5;
/// The SSIM the mark may cost a busy window: δ's local RMS is sqrt(k·2σ² + FLAT_RMS²) grey
/// levels with k = SSIM_LOSS / (1 − SSIM_LOSS) (σ the image's local standard deviation), which
/// keeps SSIM's contrast-structure term, 1 − σδ² / (2σ² + σδ² + C2), above 1 − SSIM_LOSS − FLAT_RMS²/C2.
const SSIM_LOSS: f32 = 0.03;
/// δ's local RMS never exceeds this many grey levels, however busy the image.
const MAX_AMPLITUDE: f32 = 6.0;
/// The local contrast is measured over (2·MASK_RADIUS+1)² boxes shifted up to MASK_SHIFT px.
const MASK_RADIUS: u32 = 3;
const MASK_SHIFT: u32 = 3;
/// δ's RMS in flat areas (grey levels): little enough that smooth gradients show no mottle
/// at 1:1, much as JPEG's quantiser keeps most of it out of them anyway.
const FLAT_RMS: f32 = 0.55;
/// The marked JPEG's PSNR against the unmarked JPEG of the same quality is kept at or above
/// this (dB), as the quantiser predicts it ([`fitted_delta`]); δ alone never goes below it.
pub const MIN_PSNR: f64 = 40.5;

mod fit;

/// A marked pair and its index.
pub struct Pair {
    pub a: Vec<u8>,
    pub b: Vec<u8>,
    pub index: MarkIndex,
}

/// Encodes RGB8 `rgb` (`width`×`height`) as the marked layout requires: baseline, 4:2:0, the
/// standard Huffman tables, a restart marker every `RESTART_MCUS` MCUs.
pub fn encode_jpeg(rgb: &[u8], width: u32, height: u32, quality: u8) -> Result<Vec<u8>, String> {
    let (w, h) = (u16::try_from(width).map_err(|_| "too wide to mark")?, u16::try_from(height).map_err(|_| "too tall to mark")?);
    let mut out = Vec::new();
    let mut enc = Encoder::new(&mut out, quality);
    enc.set_sampling_factor(SamplingFactor::F_2_2);
    enc.set_restart_interval(RESTART_MCUS as u16);
    enc.set_optimized_huffman_tables(false);
    enc.set_progressive(false);
    enc.encode(rgb, w, h, ColorType::Rgb).map_err(|e| format!("encoding the marked image: {e}"))?;
    Ok(out)
}

/// The keyed pattern for `image`'s `width`×`height` variant: RMS ≈ 1, peaks at ±[`PATTERN_GAIN`].
pub fn pattern(key: &MarkKey, image: &str, width: u32, height: u32) -> Vec<f32> {
    let (cw, ch) = (width.div_ceil(CELL) + 1, height.div_ceil(CELL) + 1);
    let mut cells = vec![0u8; (cw * ch) as usize];
    blake3::Hasher::new_keyed(&key.pattern_seed(image, width)).finalize_xof().fill(&mut cells);
    let cell = |x: u32, y: u32| if cells[(y * cw + x) as usize] & 1 == 1 { PATTERN_GAIN } else { -PATTERN_GAIN };
    bilinear(width, height, CELL, cell)
}

/// How many grey levels (RMS) of δ each pixel carries: SSIM's own masking model applied to the
/// local contrast of the image around it (see [`SSIM_LOSS`]), so busy areas carry up to
/// [`MAX_AMPLITUDE`] and flat ones [`FLAT_RMS`].
///
/// The contrast is the least of five windows that hold the pixel (centred on it and shifted
/// [`MASK_SHIFT`] px each way): a flat pixel next to an edge has a window that misses the edge,
/// so the edge lends it no mark; noise there would show as a halo around objects and text.
pub fn mask(luma: &[f32], width: u32, height: u32) -> Vec<f32> {
    let k = SSIM_LOSS / (1.0 - SSIM_LOSS);
    let var = BoxVariance::new(luma, width, height);
    let (w, h, r, d) = (width as i64, height as i64, MASK_RADIUS as i64, MASK_SHIFT as i64);
    let mut out = Vec::with_capacity(luma.len());
    for y in 0..h {
        for x in 0..w {
            let least = [(0, 0), (-d, 0), (d, 0), (0, -d), (0, d)].iter().map(|(dx, dy)| var.at(x + dx, y + dy, r)).fold(f32::MAX, f32::min);
            out.push((k * 2.0 * least + FLAT_RMS * FLAT_RMS).sqrt().min(MAX_AMPLITUDE));
        }
    }
    out
}

/// Variances of `luma` over boxes, from summed-area tables.
struct BoxVariance {
    width: i64,
    height: i64,
    s1: Vec<f64>,
    s2: Vec<f64>,
}

impl BoxVariance {
    fn new(luma: &[f32], width: u32, height: u32) -> BoxVariance {
        let (w, h) = (width as usize, height as usize);
        let stride = w + 1;
        let (mut s1, mut s2) = (vec![0f64; stride * (h + 1)], vec![0f64; stride * (h + 1)]);
        for y in 0..h {
            let (mut r1, mut r2) = (0f64, 0f64);
            for x in 0..w {
                let v = f64::from(luma[y * w + x]);
                r1 += v;
                r2 += v * v;
                s1[(y + 1) * stride + x + 1] = s1[y * stride + x + 1] + r1;
                s2[(y + 1) * stride + x + 1] = s2[y * stride + x + 1] + r2;
            }
        }
        BoxVariance { width: width.into(), height: height.into(), s1, s2 }
    }

    /// The variance over the box of `radius` around (`x`, `y`), clipped to the image.
    fn at(&self, x: i64, y: i64, radius: i64) -> f32 {
        let (x0, x1) = ((x - radius).clamp(0, self.width - 1) as usize, (x + radius + 1).clamp(1, self.width) as usize);
        let (y0, y1) = ((y - radius).clamp(0, self.height - 1) as usize, (y + radius + 1).clamp(1, self.height) as usize);
        let stride = self.width as usize + 1;
        let n = ((y1 - y0) * (x1 - x0)) as f64;
        let sum = |t: &[f64]| t[y1 * stride + x1] - t[y0 * stride + x1] - t[y1 * stride + x0] + t[y0 * stride + x0];
        let mean = sum(&self.s1) / n;
        (sum(&self.s2) / n - mean * mean).max(0.0) as f32
    }
}

/// A `width`×`height` field interpolated from values on a grid of `step` px.
fn bilinear(width: u32, height: u32, step: u32, at: impl Fn(u32, u32) -> f32) -> Vec<f32> {
    let mut out = Vec::with_capacity((width * height) as usize);
    for y in 0..height {
        let fy = y as f32 / step as f32;
        let (y0, ty) = (fy as u32, fy.fract());
        for x in 0..width {
            let fx = x as f32 / step as f32;
            let (x0, tx) = (fx as u32, fx.fract());
            let top = at(x0, y0) * (1.0 - tx) + at(x0 + 1, y0) * tx;
            let bottom = at(x0, y0 + 1) * (1.0 - tx) + at(x0 + 1, y0 + 1) * tx;
            out.push(top * (1.0 - ty) + bottom * ty);
        }
    }
    out
}

/// BT.601 luma of RGB8 pixels, 0–255.
pub fn luma(rgb: &[u8]) -> Vec<f32> {
    rgb.chunks_exact(3).map(|p| 0.299 * f32::from(p[0]) + 0.587 * f32::from(p[1]) + 0.114 * f32::from(p[2])).collect()
}

/// δ for `rgb` in grey levels per pixel: pattern × mask, scaled down if it would pass
/// `MIN_PSNR`. Deterministic: the same image, key and id always give the same δ.
pub fn delta(rgb: &[u8], width: u32, height: u32, key: &MarkKey, image: &str) -> Vec<f32> {
    let m = mask(&luma(rgb), width, height);
    let mut d: Vec<f32> = pattern(key, image, width, height).iter().zip(&m).map(|(p, m)| p * m).collect();
    let mse = d.iter().map(|v| f64::from(*v) * f64::from(*v)).sum::<f64>() / d.len().max(1) as f64;
    let limit = 255f64 * 255.0 / 10f64.powf(MIN_PSNR / 10.0);
    if mse > limit {
        let s = (limit / mse).sqrt() as f32;
        d.iter_mut().for_each(|v| *v *= s);
    }
    d
}

/// The δ [`encode_pair`] marks with at `quality`: [`delta`], scaled down where the quantiser
/// would otherwise take the marked JPEG below [`MIN_PSNR`] of the unmarked one (on busy images
/// δ tips coefficients across quantiser steps, which costs more than δ itself).
pub fn fitted_delta(rgb: &[u8], width: u32, height: u32, quality: u8, key: &MarkKey, image: &str) -> Vec<f32> {
    let mut d = delta(rgb, width, height, key, image);
    let s = fit::scale(rgb, &d, width, height, quality, MIN_PSNR);
    if s < 1.0 {
        d.iter_mut().for_each(|v| *v *= s);
    }
    d
}

/// `rgb` with `sign`·δ added to each channel of each pixel (a pure luma change: chroma, which
/// 4:2:0 halves, carries none of the mark).
pub fn apply(rgb: &[u8], d: &[f32], sign: f32) -> Vec<u8> {
    rgb.chunks_exact(3).zip(d).flat_map(|(p, d)| p.iter().map(move |c| (f32::from(*c) + sign * d).round().clamp(0.0, 255.0) as u8)).collect()
}

/// The marked pair of `image`'s `width`×`height` variant `rgb` at `quality`.
pub fn encode_pair(rgb: &[u8], width: u32, height: u32, quality: u8, key: &MarkKey, image: &str) -> Result<Pair, String> {
    let d = fitted_delta(rgb, width, height, quality, key, image);
    let a = encode_jpeg(&apply(rgb, &d, 1.0), width, height, quality)?;
    let b = encode_jpeg(&apply(rgb, &d, -1.0), width, height, quality)?;
    let index = index_pair(&a, &b, Geometry { width, height }).map_err(|e| e.to_string())?;
    Ok(Pair { a, b, index })
}

#[cfg(test)]
mod tests;
