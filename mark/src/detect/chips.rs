//! Reading chips: per chip `c_i = Σ (L − Ū)·D` over the pixels the leak covers, with the leak
//! `L` warped onto the reference's grid.
//!
//! Three things keep `c_i` clean of the picture itself. The reference is blurred to the leak's
//! resolution when the leak is smaller (a 50 % downscale lost what `Ū` still has: comparing
//! against the sharp `Ū` would turn every edge into noise). Per chip, the residual is regressed
//! on `Ū` and a constant, so a local change of contrast or brightness (re-encoding, a filter)
//! is not read as mark. And residuals are clipped to a few robust standard deviations, so a
//! caption, a cursor or a visible stamp over some pixels bounds their weight instead of
//! swamping the chip.

use super::Reference;
use super::plane::Integral;
use super::register::Registration;
use gatefold_contract::mark::{Geometry, MCU, RESTART_MCUS};
use rayon::prelude::*;

/// What a leak says about each chip of one reference: `values[i]` is `c_i`, 0 for a chip not
/// read (not covered enough by the leak).
#[derive(Debug, Clone, PartialEq)]
pub struct Chips {
    pub values: Vec<f32>,
    /// Chips read.
    pub read: u32,
}

/// A chip is read when the leak covers at least this share of its pixels.
const MIN_CHIP_COVER: f32 = 0.75;
/// Residuals are clipped at this many robust standard deviations.
const CLIP_SIGMAS: f32 = 3.0;

#[derive(Clone, Copy, Default)]
struct Sums {
    n: f32,
    r: f64,
    u: f64,
    uu: f64,
    ru: f64,
    rd: f64,
    ud: f64,
    d: f64,
}

pub fn read(suspect: &Integral, reference: &Reference, reg: &Registration) -> Chips {
    let (w, h) = (reference.u.width, reference.u.height);
    let geometry = Geometry { width: w, height: h };
    let t = reg.transform;
    // A leak smaller than the reference: blur the reference (Ū and D alike) to its footprint.
    let (bx, by) = ((0.5 / t.sx).max(0.5), (0.5 / t.sy).max(0.5));
    let blur = bx > 0.75 || by > 0.75;
    let (gain, offset) = (reg.gain.max(0.05), reg.offset);
    let rows: Vec<Vec<Option<(f32, f32, f32)>>> = (0..h)
        .into_par_iter()
        .map(|y| {
            (0..w)
                .map(|x| {
                    let (u, v) = t.apply(f64::from(x), f64::from(y));
                    let l = suspect.mean(u, v, t.sx / 2.0, t.sy / 2.0)?;
                    let (ub, db) = if blur {
                        (reference.u_int.mean(f64::from(x), f64::from(y), bx, by)?, reference.d_int.mean(f64::from(x), f64::from(y), bx, by)?)
                    } else {
                        (reference.u.at(x, y), reference.d.at(x, y))
                    };
                    Some(((l - offset) / gain - ub, ub, db))
                })
                .collect()
        })
        .collect();
    let mut sample: Vec<f32> = rows.iter().step_by(3).flat_map(|r| r.iter().step_by(3).flatten().map(|p| p.0.abs())).collect();
    let clip = if sample.is_empty() {
        f32::INFINITY
    } else {
        let mid = sample.len() / 2;
        (CLIP_SIGMAS * 1.4826 * *sample.select_nth_unstable_by(mid, f32::total_cmp).1).max(2.0)
    };
    let chips = geometry.chips() as usize;
    let mut sums = vec![Sums::default(); chips];
    for (y, row) in rows.iter().enumerate() {
        for (x, p) in row.iter().enumerate() {
            let Some((r, u, d)) = *p else { continue };
            let r = f64::from(r.clamp(-clip, clip));
            let (u, d) = (f64::from(u), f64::from(d));
            let s = &mut sums[geometry.chip_at(x as u32, y as u32) as usize];
            s.n += 1.0;
            s.r += r;
            s.u += u;
            s.uu += u * u;
            s.ru += r * u;
            s.rd += r * d;
            s.ud += u * d;
            s.d += d;
        }
    }
    let area = chip_areas(geometry);
    let mut read = 0;
    let values = sums
        .iter()
        .zip(&area)
        .map(|(s, area)| {
            if s.n < MIN_CHIP_COVER * *area as f32 || s.n < 8.0 {
                return 0.0;
            }
            read += 1;
            let n = f64::from(s.n);
            // r ≈ a·u + b by least squares; what is left of r is read against D.
            let var = s.uu - s.u * s.u / n;
            let a = if var > 1e-6 { (s.ru - s.r * s.u / n) / var } else { 0.0 };
            let b = (s.r - a * s.u) / n;
            (s.rd - a * s.ud - b * s.d) as f32
        })
        .collect();
    Chips { values, read }
}

/// Pixels in each chip (chips at the right and bottom edges are partial).
fn chip_areas(g: Geometry) -> Vec<u32> {
    let mut area = vec![0u32; g.chips() as usize];
    for row in 0..g.mcu_rows() {
        let mh = (g.height - row * MCU).min(MCU);
        for col in 0..g.mcus_per_row() {
            let mw = (g.width - col * MCU).min(MCU);
            area[((row * g.mcus_per_row() + col) / RESTART_MCUS) as usize] += mw * mh;
        }
    }
    area
}
