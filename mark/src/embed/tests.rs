use super::*;
use crate::quality;
use gatefold_contract::mark::Codeword;

fn key() -> MarkKey {
    MarkKey::from_secret("a test secret that is long enough!!")
}

fn gradient(w: u32, h: u32) -> Vec<u8> {
    (0..h).flat_map(|y| (0..w).flat_map(move |x| [(x * 255 / w) as u8, (y * 255 / h) as u8, ((x ^ y) & 0xFF) as u8])).collect()
}

/// A busy, photo-like image: waves at several scales plus grain.
fn textured(w: u32, h: u32) -> Vec<u8> {
    let mut s = 7u32;
    (0..h)
        .flat_map(|y| (0..w).map(move |x| (x as f32, y as f32)))
        .flat_map(|(x, y)| {
            s = s.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
            let grain = (s >> 24) as f32 / 255.0 * 40.0 - 20.0;
            let v = 120.0 + 50.0 * (x / 9.0).sin() * (y / 13.0).cos() + 30.0 * ((x + y) / 3.1).sin() + grain;
            [v, v * 0.8 + 20.0, v * 0.6 + 40.0].map(|c| c.clamp(0.0, 255.0) as u8)
        })
        .collect()
}

/// A product shot: a plain background, a flat-coloured box with a few lines of "text" on it.
fn flat(w: u32, h: u32) -> Vec<u8> {
    (0..h)
        .flat_map(|y| (0..w).map(move |x| (x, y)))
        .flat_map(|(x, y)| {
            let in_box = (w / 4..3 * w / 4).contains(&x) && (h / 5..4 * h / 5).contains(&y);
            let text = in_box && (y / 6) % 3 == 0 && (x / 5) % 4 != 3 && y > h / 3;
            if text {
                [30, 30, 35]
            } else if in_box {
                [200, 40, 50]
            } else {
                [235, 236, 238]
            }
        })
        .collect()
}

fn decode(b: &[u8]) -> image::RgbImage {
    image::load_from_memory(b).unwrap().to_rgb8()
}

#[test]
fn a_pair_splices_into_a_jpeg_whose_chips_are_a_or_b() {
    let (w, h) = (200, 120);
    let key = key();
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
    let d = delta(&textured(w, h), w, h, &key(), "img");
    let mse = d.iter().map(|v| f64::from(*v).powi(2)).sum::<f64>() / d.len() as f64;
    assert!(10.0 * (255f64 * 255.0 / mse).log10() >= MIN_PSNR - 0.01);
}

#[test]
fn marked_jpegs_keep_psnr_and_ssim_against_the_unmarked_jpeg_on_busy_and_flat_images() {
    let (w, h) = (480, 320);
    for (name, rgb) in [("textured", textured(w, h)), ("flat", flat(w, h))] {
        let plain = decode(&encode_jpeg(&rgb, w, h, 82).unwrap());
        let pair = encode_pair(&rgb, w, h, 82, &key(), name).unwrap();
        for marked in [decode(&pair.a), decode(&pair.b)] {
            let (psnr, ssim) = (quality::psnr(marked.as_raw(), plain.as_raw()), quality::ssim(marked.as_raw(), plain.as_raw(), w, h));
            assert!(psnr >= 40.0, "{name}: PSNR {psnr:.2} dB");
            assert!(ssim >= 0.97, "{name}: SSIM {ssim:.4}");
            assert!(psnr < 60.0, "{name}: the mark is there at all ({psnr:.2} dB)");
        }
    }
}

#[test]
fn flat_areas_carry_less_of_the_mark_than_busy_ones() {
    let (w, h) = (128, 64);
    let half: Vec<u8> = (0..h).flat_map(|y| (0..w).flat_map(move |x| if x < w / 2 { [128; 3] } else { [if (x + y) % 2 == 0 { 60 } else { 200 }; 3] })).collect();
    let m = mask(&luma(&half), w, h);
    let (flat, busy) = (m[(32 * w + 10) as usize], m[(32 * w + 110) as usize]);
    assert!(flat < 1.0, "flat {flat}");
    assert!(busy >= 5.0 * flat, "flat {flat}, busy {busy}");
    assert!(busy <= MAX_AMPLITUDE);
}

#[test]
fn delta_is_the_same_for_the_same_image_and_key_and_differs_per_image_and_key() {
    let (w, h) = (96, 64);
    let rgb = textured(w, h);
    let d = delta(&rgb, w, h, &key(), "img");
    assert_eq!(d, delta(&rgb, w, h, &key(), "img"));
    assert_ne!(d, delta(&rgb, w, h, &key(), "other"));
    assert_ne!(d, delta(&rgb, w, h, &MarkKey::from_secret("another secret that is long enough"), "img"));
}

/// The per-chip correlation of a leak with the pair's signal, as the trace reads it (the leak
/// already in the reference's frame).
fn chips(leak: &[f32], a: &[f32], b: &[f32], g: Geometry) -> Vec<f64> {
    let mut c = vec![0f64; g.chips() as usize];
    for y in 0..g.height {
        for x in 0..g.width {
            let i = (y * g.width + x) as usize;
            let (reference, signal) = ((a[i] + b[i]) / 2.0, (a[i] - b[i]) / 2.0);
            c[g.chip_at(x, y) as usize] += f64::from((leak[i] - reference) * signal);
        }
    }
    c
}

fn score(c: &[f64], bits: &Codeword) -> f64 {
    c.iter().enumerate().map(|(i, c)| f64::from(bits.sign(i as u32)) * c).sum::<f64>() / c.iter().map(|c| c * c).sum::<f64>().sqrt()
}

#[test]
fn a_copy_re_encoded_at_quality_50_still_names_its_link_among_200() {
    let (w, h) = (640, 480);
    let key = key();
    let g = Geometry { width: w, height: h };
    for (name, rgb) in [("textured", textured(w, h)), ("flat", flat(w, h))] {
        let pair = encode_pair(&rgb, w, h, 82, &key, name).unwrap();
        let bits = key.codeword("g", "right", name, w, g.chips());
        let copy = decode(&pair.index.splice(&pair.a, &pair.b, &bits, None).unwrap());
        let mut leak = Vec::new();
        image::codecs::jpeg::JpegEncoder::new_with_quality(&mut leak, 50).encode_image(&copy).unwrap();
        let c = chips(&luma(decode(&leak).as_raw()), &luma(decode(&pair.a).as_raw()), &luma(decode(&pair.b).as_raw()), g);
        let right = score(&c, &bits);
        let best_wrong = (0..200).map(|i| score(&c, &key.codeword("g", &format!("wrong{i}"), name, w, g.chips()))).fold(f64::MIN, f64::max);
        assert!(right > 8.0 && right > 2.0 * best_wrong, "{name}: right {right:.1}, best wrong {best_wrong:.1}");
    }
}

#[test]
fn a_flat_area_next_to_an_edge_gets_no_more_than_any_flat_area() {
    // A dark box's edge on a light background: no halo of mark around objects and text.
    let (w, h) = (96, 64);
    let rgb: Vec<u8> = (0..w * h).flat_map(|i| [if i % w < 48 { 30 } else { 220 }; 3]).collect();
    let m = mask(&luma(&rgb), w, h);
    for x in 0..w {
        assert!((m[(32 * w + x) as usize] - FLAT_RMS).abs() < 0.01, "x {x}: {}", m[(32 * w + x) as usize]);
    }
}
