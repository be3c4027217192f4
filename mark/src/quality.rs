//! How far a marked image is from the unmarked one: PSNR over 8-bit samples and grey SSIM
//! (Wang et al. 2004: an 11-tap Gaussian window, σ = 1.5, K1 = 0.01, K2 = 0.03, over the window
//! positions that lie wholly inside the image). The embed tests and the trace bench use both.

use crate::embed::luma;

/// PSNR in dB of two equally long 8-bit sample buffers (any channel layout); infinite when
/// they are equal.
pub fn psnr(a: &[u8], b: &[u8]) -> f64 {
    assert_eq!(a.len(), b.len(), "PSNR of buffers of different lengths");
    let se: u64 = a.iter().zip(b).map(|(x, y)| u64::from(x.abs_diff(*y)).pow(2)).sum();
    if se == 0 {
        return f64::INFINITY;
    }
    let mse = se as f64 / a.len() as f64;
    10.0 * (255.0 * 255.0 / mse).log10()
}

/// Grey SSIM of two RGB8 images of `width`×`height` (luma by BT.601).
pub fn ssim(a_rgb: &[u8], b_rgb: &[u8], width: u32, height: u32) -> f64 {
    ssim_grey(&luma(a_rgb), &luma(b_rgb), width, height)
}

const WINDOW: usize = 11;
const SIGMA: f32 = 1.5;

fn gaussian() -> [f32; WINDOW] {
    let mut g = [0f32; WINDOW];
    let c = (WINDOW / 2) as f32;
    for (i, v) in g.iter_mut().enumerate() {
        *v = (-((i as f32 - c).powi(2)) / (2.0 * SIGMA * SIGMA)).exp();
    }
    let sum: f32 = g.iter().sum();
    g.map(|v| v / sum)
}

/// `plane` filtered by the window, keeping only positions where it fits wholly: the result is
/// (`width`−10)×(`height`−10).
fn filter(plane: &[f32], width: usize, height: usize, g: &[f32; WINDOW]) -> Vec<f32> {
    let ow = width - WINDOW + 1;
    let mut rows = vec![0f32; ow * height];
    for y in 0..height {
        let src = &plane[y * width..(y + 1) * width];
        for x in 0..ow {
            rows[y * ow + x] = src[x..x + WINDOW].iter().zip(g).map(|(v, k)| v * k).sum();
        }
    }
    let oh = height - WINDOW + 1;
    let mut out = vec![0f32; ow * oh];
    for (i, k) in g.iter().enumerate() {
        for y in 0..oh {
            let (dst, src) = (&mut out[y * ow..(y + 1) * ow], &rows[(y + i) * ow..(y + i + 1) * ow]);
            dst.iter_mut().zip(src).for_each(|(d, s)| *d += k * s);
        }
    }
    out
}

/// Grey SSIM of two luma planes (0–255) of `width`×`height`. Images smaller than the window are
/// compared as one window.
pub fn ssim_grey(a: &[f32], b: &[f32], width: u32, height: u32) -> f64 {
    let (w, h) = (width as usize, height as usize);
    assert!(a.len() == w * h && b.len() == w * h, "SSIM of planes of different sizes");
    const C1: f64 = (0.01 * 255.0) * (0.01 * 255.0);
    const C2: f64 = (0.03 * 255.0) * (0.03 * 255.0);
    if w < WINDOW || h < WINDOW {
        let n = a.len().max(1) as f64;
        let (ma, mb) = (a.iter().map(|v| f64::from(*v)).sum::<f64>() / n, b.iter().map(|v| f64::from(*v)).sum::<f64>() / n);
        let (mut va, mut vb, mut cov) = (0f64, 0f64, 0f64);
        for (x, y) in a.iter().zip(b) {
            let (dx, dy) = (f64::from(*x) - ma, f64::from(*y) - mb);
            va += dx * dx / n;
            vb += dy * dy / n;
            cov += dx * dy / n;
        }
        return ((2.0 * ma * mb + C1) * (2.0 * cov + C2)) / ((ma * ma + mb * mb + C1) * (va + vb + C2));
    }
    let g = gaussian();
    let product = |p: &[f32], q: &[f32]| p.iter().zip(q).map(|(x, y)| x * y).collect::<Vec<f32>>();
    let (mu_a, mu_b) = (filter(a, w, h, &g), filter(b, w, h, &g));
    let (aa, bb, ab) = (filter(&product(a, a), w, h, &g), filter(&product(b, b), w, h, &g), filter(&product(a, b), w, h, &g));
    let mut sum = 0f64;
    for i in 0..mu_a.len() {
        let (ma, mb) = (f64::from(mu_a[i]), f64::from(mu_b[i]));
        let va = (f64::from(aa[i]) - ma * ma).max(0.0);
        let vb = (f64::from(bb[i]) - mb * mb).max(0.0);
        let cov = f64::from(ab[i]) - ma * mb;
        sum += ((2.0 * ma * mb + C1) * (2.0 * cov + C2)) / ((ma * ma + mb * mb + C1) * (va + vb + C2));
    }
    sum / mu_a.len() as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    fn noise(w: u32, h: u32, seed: u32) -> Vec<u8> {
        let mut s = seed;
        (0..w * h * 3)
            .map(|_| {
                s = s.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
                (s >> 24) as u8
            })
            .collect()
    }

    #[test]
    fn identical_images_have_infinite_psnr_and_an_ssim_of_one() {
        let img = noise(40, 30, 1);
        assert_eq!(psnr(&img, &img), f64::INFINITY);
        assert!((ssim(&img, &img, 40, 30) - 1.0).abs() < 1e-6);
    }

    #[test]
    fn psnr_of_a_known_error_matches_the_formula() {
        // Every sample off by 4: MSE 16, PSNR = 10·log10(255²/16) ≈ 36.0896 dB.
        let a = vec![100u8; 300];
        let b = vec![104u8; 300];
        assert!((psnr(&a, &b) - 36.0896).abs() < 1e-3);
    }

    #[test]
    fn unrelated_images_score_far_below_a_slightly_changed_one() {
        let (w, h) = (64, 48);
        let a = noise(w, h, 1);
        let near: Vec<u8> = a.iter().map(|v| v.saturating_add(2)).collect();
        let far = noise(w, h, 2);
        let (s_near, s_far) = (ssim(&a, &near, w, h), ssim(&a, &far, w, h));
        assert!(s_near > 0.99, "{s_near}");
        assert!(s_far < 0.2, "{s_far}");
    }

    #[test]
    fn noise_on_a_flat_image_costs_more_ssim_than_on_a_busy_one() {
        let (w, h) = (64, 64);
        let flat = vec![128u8; (w * h * 3) as usize];
        let busy = noise(w, h, 3);
        let jitter = noise(w, h, 4);
        let add = |img: &[u8]| img.iter().zip(&jitter).map(|(v, j)| (i32::from(*v) + i32::from(j % 9) - 4).clamp(0, 255) as u8).collect::<Vec<u8>>();
        assert!(ssim(&flat, &add(&flat), w, h) < ssim(&busy, &add(&busy), w, h));
    }
}
