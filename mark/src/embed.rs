//! A variant's marked pair: `A` = image + δ, `B` = image − δ, δ a keyed pattern scaled by how
//! much the image around each pixel hides it, both encoded with the layout the splice needs.

use gatefold_contract::mark::{Geometry, MarkIndex, MarkKey, RESTART_MCUS, index_pair};
use jpeg_encoder::{ColorType, Encoder, SamplingFactor};

/// Pattern cells: one random value per `CELL`×`CELL` px, smoothly interpolated, so the mark
/// lives in the low and middle frequencies that survive re-encoding and downscaling.
const CELL: u32 = 4;
/// δ's amplitude in grey levels where the image is busiest, and its floor in flat areas.
const STRENGTH: f32 = 3.0;
const FLAT_FLOOR: f32 = 0.3;
/// The mark's PSNR against the unmarked image is kept at or above this (dB).
pub const MIN_PSNR: f64 = 40.5;

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

/// The keyed pattern in [−1, 1] for `image`'s `width`×`height` variant.
pub fn pattern(key: &MarkKey, image: &str, width: u32, height: u32) -> Vec<f32> {
    let (cw, ch) = (width.div_ceil(CELL) + 1, height.div_ceil(CELL) + 1);
    let mut cells = vec![0u8; (cw * ch) as usize];
    blake3::Hasher::new_keyed(&key.pattern_seed(image, width)).finalize_xof().fill(&mut cells);
    let cell = |x: u32, y: u32| if cells[(y * cw + x) as usize] & 1 == 1 { 1.0f32 } else { -1.0 };
    bilinear(width, height, CELL, cell)
}

/// How much δ each pixel carries, in [FLAT_FLOOR, 1]: the local contrast of 8×8 blocks.
pub fn mask(luma: &[f32], width: u32, height: u32) -> Vec<f32> {
    let (bw, bh) = (width.div_ceil(8), height.div_ceil(8));
    let mut activity = vec![0f32; (bw * bh) as usize];
    for by in 0..bh {
        for bx in 0..bw {
            let (mut s, mut s2, mut n) = (0f32, 0f32, 0f32);
            for y in by * 8..((by + 1) * 8).min(height) {
                for x in bx * 8..((bx + 1) * 8).min(width) {
                    let v = luma[(y * width + x) as usize];
                    s += v;
                    s2 += v * v;
                    n += 1.0;
                }
            }
            let var = (s2 / n - (s / n) * (s / n)).max(0.0);
            activity[(by * bw + bx) as usize] = (var.sqrt() / 16.0).clamp(FLAT_FLOOR, 1.0);
        }
    }
    let block = |x: u32, y: u32| activity[(y.min(bh - 1) * bw + x.min(bw - 1)) as usize];
    bilinear(width, height, 8, block)
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

pub fn luma(rgb: &[u8]) -> Vec<f32> {
    rgb.chunks_exact(3).map(|p| 0.299 * f32::from(p[0]) + 0.587 * f32::from(p[1]) + 0.114 * f32::from(p[2])).collect()
}

/// δ for `rgb`: pattern × mask × strength, scaled down if it would pass `MIN_PSNR`.
pub fn delta(rgb: &[u8], width: u32, height: u32, key: &MarkKey, image: &str) -> Vec<f32> {
    let m = mask(&luma(rgb), width, height);
    let mut d: Vec<f32> = pattern(key, image, width, height).iter().zip(&m).map(|(p, m)| p * m * STRENGTH).collect();
    let mse = d.iter().map(|v| f64::from(*v) * f64::from(*v)).sum::<f64>() / d.len().max(1) as f64;
    let limit = 255f64 * 255.0 / 10f64.powf(MIN_PSNR / 10.0);
    if mse > limit {
        let s = (limit / mse).sqrt() as f32;
        d.iter_mut().for_each(|v| *v *= s);
    }
    d
}

fn apply(rgb: &[u8], d: &[f32], sign: f32) -> Vec<u8> {
    rgb.chunks_exact(3).zip(d).flat_map(|(p, d)| p.iter().map(move |c| (f32::from(*c) + sign * d).round().clamp(0.0, 255.0) as u8)).collect()
}

/// The marked pair of `image`'s `width`×`height` variant `rgb` at `quality`.
pub fn encode_pair(rgb: &[u8], width: u32, height: u32, quality: u8, key: &MarkKey, image: &str) -> Result<Pair, String> {
    let d = delta(rgb, width, height, key, image);
    let a = encode_jpeg(&apply(rgb, &d, 1.0), width, height, quality)?;
    let b = encode_jpeg(&apply(rgb, &d, -1.0), width, height, quality)?;
    let index = index_pair(&a, &b, Geometry { width, height }).map_err(|e| e.to_string())?;
    Ok(Pair { a, b, index })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn gradient(w: u32, h: u32) -> Vec<u8> {
        (0..h).flat_map(|y| (0..w).flat_map(move |x| [(x * 255 / w) as u8, (y * 255 / h) as u8, ((x ^ y) & 0xFF) as u8])).collect()
    }

    #[test]
    fn a_pair_splices_into_a_jpeg_whose_chips_are_a_or_b() {
        let (w, h) = (200, 120);
        let key = MarkKey::from_secret("a test secret that is long enough!!");
        let pair = encode_pair(&gradient(w, h), w, h, 85, &key, "img").unwrap();
        let g = Geometry { width: w, height: h };
        let bits = key.codeword("g", "l", "img", w, g.chips());
        let copy = pair.index.splice(&pair.a, &pair.b, &bits, None).unwrap();
        let decode = |b: &[u8]| image::load_from_memory(b).unwrap().to_luma8();
        let (c, a, b) = (decode(&copy), decode(&pair.a), decode(&pair.b));
        for (x, y) in [(5, 5), (70, 5), (150, 40), (30, 100)] {
            let want = if bits.bit(g.chip_at(x, y)) { a.get_pixel(x, y) } else { b.get_pixel(x, y) };
            assert_eq!(c.get_pixel(x, y), want, "({x},{y})");
        }
    }

    #[test]
    fn the_mark_stays_under_the_psnr_limit() {
        let (w, h) = (256, 256);
        let rgb = gradient(w, h);
        let d = delta(&rgb, w, h, &MarkKey::from_secret("a test secret that is long enough!!"), "img");
        let mse = d.iter().map(|v| f64::from(*v).powi(2)).sum::<f64>() / d.len() as f64;
        assert!(10.0 * (255f64 * 255.0 / mse).log10() >= MIN_PSNR - 0.01);
    }
}
