//! A variant's marked pair: `A` = image + δ, `B` = image − δ, δ a keyed pattern scaled by how
//! much the image around each pixel hides it, both encoded with the layout the splice needs.

use gatefold_contract::mark::{Geometry, MarkIndex, MarkKey, RESTART_MCUS, index_pair};
use jpeg_encoder::{ColorType, Encoder, SamplingFactor};

/// Pattern cells: one random sign per `CELL`×`CELL` px, bilinearly interpolated, so the mark
/// lives in the low and middle frequencies that survive re-encoding and downscaling.
const CELL: u32 = 4;
/// A bilinear field of independent ±1 cells has an RMS of 2/3: this brings it to 1.
const PATTERN_GAIN: f32 = 1.5;
/// The SSIM the mark may cost a window: δ's local RMS is held at
/// sqrt(SSIM_LOSS / (1 − SSIM_LOSS) · (2σ² + C2)) grey levels (σ the image's local standard
/// deviation, C2 = (0.03·255)²), which keeps SSIM's contrast-structure term ≥ 1 − SSIM_LOSS.
const SSIM_LOSS: f32 = 0.016;
/// SSIM's C2: what keeps flat areas' share of the mark small but not nil.
const C2: f32 = (0.03 * 255.0) * (0.03 * 255.0);
/// δ's local RMS never exceeds this many grey levels, however busy the image.
const MAX_AMPLITUDE: f32 = 6.0;
/// The local standard deviation is measured over a (2·RADIUS+1)² box.
const MASK_RADIUS: u32 = 4;
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
/// [`MAX_AMPLITUDE`] and flat ones under one grey level.
pub fn mask(luma: &[f32], width: u32, height: u32) -> Vec<f32> {
    let k = SSIM_LOSS / (1.0 - SSIM_LOSS);
    local_variance(luma, width, height, MASK_RADIUS).into_iter().map(|var| (k * (2.0 * var + C2)).sqrt().min(MAX_AMPLITUDE)).collect()
}

/// Each pixel's variance over the box of `radius` around it (clipped at the image's edges),
/// from summed-area tables.
fn local_variance(luma: &[f32], width: u32, height: u32, radius: u32) -> Vec<f32> {
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
    let r = radius as usize;
    let mut out = Vec::with_capacity(w * h);
    for y in 0..h {
        let (y0, y1) = (y.saturating_sub(r), (y + r + 1).min(h));
        for x in 0..w {
            let (x0, x1) = (x.saturating_sub(r), (x + r + 1).min(w));
            let n = ((y1 - y0) * (x1 - x0)) as f64;
            let sum = |t: &[f64]| t[y1 * stride + x1] - t[y0 * stride + x1] - t[y1 * stride + x0] + t[y0 * stride + x0];
            let mean = sum(&s1) / n;
            out.push((sum(&s2) / n - mean * mean).max(0.0) as f32);
        }
    }
    out
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
