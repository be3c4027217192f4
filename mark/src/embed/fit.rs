//! How much of δ a JPEG at a given quality can carry and stay within the PSNR budget.
//!
//! The marked JPEG differs from the unmarked one by more than δ: wherever δ moves a DCT
//! coefficient across a quantiser's decision boundary, the decoded images differ by a whole
//! quantiser step. On busy images that doubles the error. This predicts the difference in the
//! DCT domain, the way the encoder quantises luma (ITU-T T.81 Annex K table scaled by quality,
//! as `jpeg-encoder` does), and finds the largest scale of δ that keeps it within budget.

/// Annex K's luminance table, row-major.
const LUMA_TABLE: [u16; 64] = [
    16, 11, 10, 16, 24, 40, 51, 61, 12, 12, 14, 19, 26, 58, 60, 55, 14, 13, 16, 24, 40, 57, 69, 56, 14, 17, 22, 29, 51, 87, 80, 62, 18, 22, 37, 56, 68, 109, 103, 77, 24, 35, 55, 64, 81, 104,
    113, 92, 49, 64, 78, 87, 103, 121, 120, 101, 72, 92, 95, 98, 112, 100, 103, 99,
];

fn luma_steps(quality: u8) -> [f32; 64] {
    let q = u32::from(quality.clamp(1, 100));
    let scale = if q < 50 { 5000 / q } else { 200 - q * 2 };
    LUMA_TABLE.map(|v| ((u32::from(v) * scale + 50) / 100).clamp(1, 255) as f32)
}

/// The orthonormal 8-point DCT-II basis: `BASIS[k][n]`.
fn basis() -> [[f32; 8]; 8] {
    let mut b = [[0f32; 8]; 8];
    for (k, row) in b.iter_mut().enumerate() {
        let c = if k == 0 { (1.0f32 / 8.0).sqrt() } else { (2.0f32 / 8.0).sqrt() };
        for (n, v) in row.iter_mut().enumerate() {
            *v = c * ((std::f32::consts::PI * (2 * n + 1) as f32 * k as f32) / 16.0).cos();
        }
    }
    b
}

/// The 2-D DCT of the 8×8 block at (`bx`, `by`) of `plane`, edges replicated as the encoder
/// pads them.
fn dct_block(plane: &[f32], width: u32, height: u32, bx: u32, by: u32, shift: f32, b: &[[f32; 8]; 8]) -> [f32; 64] {
    let mut px = [0f32; 64];
    for y in 0..8 {
        let sy = (by * 8 + y).min(height - 1);
        for x in 0..8 {
            let sx = (bx * 8 + x).min(width - 1);
            px[(y * 8 + x) as usize] = plane[(sy * width + sx) as usize] - shift;
        }
    }
    let mut rows = [0f32; 64];
    for y in 0..8 {
        for k in 0..8 {
            rows[y * 8 + k] = (0..8).map(|n| b[k][n] * px[y * 8 + n]).sum();
        }
    }
    let mut out = [0f32; 64];
    for k in 0..8 {
        for x in 0..8 {
            out[k * 8 + x] = (0..8).map(|n| b[k][n] * rows[n * 8 + x]).sum();
        }
    }
    out
}

/// The quantised luma DCT coefficients of `rgb` (luma rounded to integers, as the encoder's
/// colour conversion does).
fn quantised(rgb: &[u8], width: u32, height: u32, steps: &[f32; 64], b: &[[f32; 8]; 8]) -> Vec<f32> {
    let luma: Vec<f32> = super::luma(rgb).into_iter().map(f32::round).collect();
    let (bw, bh) = (width.div_ceil(8), height.div_ceil(8));
    let mut out = Vec::with_capacity((bw * bh * 64) as usize);
    for by in 0..bh {
        for bx in 0..bw {
            out.extend(dct_block(&luma, width, height, bx, by, 128.0, b).iter().zip(steps).map(|(c, q)| (c / q).round() * q));
        }
    }
    out
}

/// The largest s in (0, 1] (to 1/64) such that `rgb` ± s·δ, rounded to 8 bits and quantised
/// at `quality`, stays at least `min_psnr` dB from `rgb` quantised alike (both signs: `A` and
/// `B`). The rounding matters: it adds fine-grained noise wherever δ moves a pixel, and that
/// tips high-frequency coefficients too.
pub(super) fn scale(rgb: &[u8], delta: &[f32], width: u32, height: u32, quality: u8, min_psnr: f64) -> f32 {
    let (b, steps) = (basis(), luma_steps(quality));
    let plain = quantised(rgb, width, height, &steps, &b);
    let budget = 255f64 * 255.0 / 10f64.powf(min_psnr / 10.0) * plain.len() as f64;
    let fits = |s: f32| {
        [s, -s].iter().all(|s| {
            let scaled: Vec<f32> = delta.iter().map(|d| d * s).collect();
            let marked = quantised(&super::apply(rgb, &scaled, 1.0), width, height, &steps, &b);
            marked.iter().zip(&plain).map(|(m, p)| f64::from(m - p).powi(2)).sum::<f64>() <= budget
        })
    };
    if fits(1.0) {
        return 1.0;
    }
    let (mut lo, mut hi) = (0f32, 1f32);
    for _ in 0..6 {
        let mid = (lo + hi) / 2.0;
        if fits(mid) { lo = mid } else { hi = mid }
    }
    lo
}
