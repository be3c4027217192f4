//! Reading a leak's chips with its geometry known (the bench knows how it made every leak):
//! no identification and no registration, so the figures it gives next to the detector's
//! separate what the mark survives from what finding and aligning the leak costs.
//!
//! The reading is the detector's statistic (`i22-common`: c_i = Σ_{px in chip} (L − Ū)·D over
//! chips the leak covers whole, S_k = Σ_i s_k,i·c_i / sqrt(Σ_i c_i²)), with the leak's
//! brightness fitted to Ū (L ≈ α·Ū + β) first.

use crate::marked::Marked;
use crate::transforms::Geometry as Placement;
use gatefold_contract::mark::Codeword;

/// Bilinear sample of `img` (`w`×`h`) at (`u`, `v`), `None` outside.
fn sample(img: &[f32], w: u32, h: u32, u: f64, v: f64) -> Option<f32> {
    if u < 0.0 || v < 0.0 || u > f64::from(w - 1) || v > f64::from(h - 1) {
        return None;
    }
    let (x0, y0) = (u.floor() as u32, v.floor() as u32);
    let (x1, y1) = ((x0 + 1).min(w - 1), (y0 + 1).min(h - 1));
    let (tx, ty) = ((u - f64::from(x0)) as f32, (v - f64::from(y0)) as f32);
    let at = |x: u32, y: u32| img[(y * w + x) as usize];
    let top = at(x0, y0) * (1.0 - tx) + at(x1, y0) * tx;
    let bottom = at(x0, y1) * (1.0 - tx) + at(x1, y1) * tx;
    Some(top * (1.0 - ty) + bottom * ty)
}

/// Chip values of a leak (`luma`, `lw`×`lh`) placed by `p` on `m`'s frame; `None` for chips the
/// leak does not cover whole.
pub fn read_chips(m: &Marked, luma: &[f32], lw: u32, lh: u32, p: &Placement) -> Vec<Option<f32>> {
    let (w, h) = (m.width, m.height);
    let g = m.geometry();
    let mut warped = vec![f32::NAN; (w * h) as usize];
    for y in 0..h {
        let v = (f64::from(y) - p.by) / p.ay;
        for x in 0..w {
            let u = (f64::from(x) - p.bx) / p.ax;
            if let Some(s) = sample(luma, lw, lh, u, v) {
                warped[(y * w + x) as usize] = s;
            }
        }
    }
    // L ≈ α·Ū + β over the covered pixels (a brightness change is not the mark).
    let (mut n, mut sx, mut sy, mut sxx, mut sxy) = (0f64, 0f64, 0f64, 0f64, 0f64);
    for (l, u) in warped.iter().zip(&m.mean).filter(|(l, _)| !l.is_nan()) {
        let (l, u) = (f64::from(*l), f64::from(*u));
        n += 1.0;
        sx += u;
        sy += l;
        sxx += u * u;
        sxy += u * l;
    }
    let alpha = if n > 0.0 { (n * sxy - sx * sy) / (n * sxx - sx * sx).max(1e-9) } else { 1.0 };
    let beta = if n > 0.0 { (sy - alpha * sx) / n } else { 0.0 };
    let (alpha, beta) = (alpha as f32, beta as f32);
    let mut chips = vec![Some(0f32); g.chips() as usize];
    for y in 0..h {
        for x in 0..w {
            let i = (y * w + x) as usize;
            let c = g.chip_at(x, y) as usize;
            match (chips[c], warped[i]) {
                (_, l) if l.is_nan() => chips[c] = None,
                (Some(acc), l) => chips[c] = Some(acc + (l - alpha * m.mean[i] - beta) * m.diff[i]),
                (None, _) => {}
            }
        }
    }
    chips
}

/// S_k for one codeword over the readable chips.
pub fn score(chips: &[Option<f32>], bits: &Codeword) -> f64 {
    let (mut dot, mut norm) = (0f64, 0f64);
    for (i, c) in chips.iter().enumerate() {
        if let Some(c) = c {
            dot += f64::from(bits.sign(i as u32)) * f64::from(*c);
            norm += f64::from(*c) * f64::from(*c);
        }
    }
    if norm > 0.0 { dot / norm.sqrt() } else { 0.0 }
}
