use super::*;
use crate::embed::encode_pair;
use gatefold_contract::mark::MarkKey;
use image::{DynamicImage, ImageFormat, RgbImage, imageops::FilterType};
use std::io::Cursor;

const SECRET: &str = "a test secret that is long enough!!";

/// A photograph-like picture: smooth shapes, edges and fine texture (deterministic).
fn textured(w: u32, h: u32, seed: u32) -> RgbImage {
    let mut state = seed.wrapping_mul(2_654_435_761).wrapping_add(1);
    let mut noise = move || {
        state ^= state << 13;
        state ^= state >> 17;
        state ^= state << 5;
        (state % 1000) as f32 / 1000.0
    };
    let blobs: Vec<[f32; 5]> = (0..12).map(|_| [noise() * w as f32, noise() * h as f32, 20.0 + noise() * w as f32 / 4.0, noise() * 200.0, noise()]).collect();
    RgbImage::from_fn(w, h, |x, y| {
        let (fx, fy) = (x as f32, y as f32);
        let mut v = 60.0 + 40.0 * (fx / 37.0 + seed as f32).sin() * (fy / 53.0).cos();
        for b in &blobs {
            let d = ((fx - b[0]).powi(2) + (fy - b[1]).powi(2)).sqrt();
            if d < b[2] {
                v += b[3] * (1.0 - d / b[2]) * if b[4] > 0.5 { 1.0 } else { -0.5 };
            }
        }
        let grain = 18.0 * ((fx * 0.9 + fy * 1.7 + seed as f32).sin() * (fx * 2.3 - fy * 0.7).cos());
        let v = (v + grain).clamp(0.0, 255.0);
        image::Rgb([v as u8, (v * 0.8 + 30.0).min(255.0) as u8, (255.0 - v * 0.6) as u8])
    })
}

fn encode(img: &DynamicImage, format: ImageFormat) -> Vec<u8> {
    let mut out = Cursor::new(Vec::new());
    img.write_to(&mut out, format).unwrap();
    out.into_inner()
}

fn jpeg(img: &DynamicImage, quality: u8) -> Vec<u8> {
    let mut out = Vec::new();
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, quality).encode_image(&img.to_rgb8()).unwrap();
    out
}

struct Marked {
    reference: Reference,
    key: MarkKey,
    copies: Vec<Vec<u8>>,
}

/// A marked pair of `img` and the copies of recipients `r0`, `r1`, ….
fn marked(img: &RgbImage, recipients: usize) -> Marked {
    let key = MarkKey::from_secret(SECRET);
    let (w, h) = img.dimensions();
    let pair = encode_pair(img.as_raw(), w, h, 85, &key, "img").unwrap();
    let chips = Geometry { width: w, height: h }.chips();
    let copies = (0..recipients).map(|r| pair.index.splice(&pair.a, &pair.b, &key.codeword("g", &format!("r{r}"), "img", w, chips), None).unwrap()).collect();
    Marked { reference: Reference::from_pair(&pair.a, &pair.b).unwrap(), key, copies }
}

/// Scores of candidates `r0` … `r{n-1}` for a leak.
fn scores(m: &Marked, leak: &[u8], n: usize) -> Vec<f64> {
    let suspect = Suspect::decode(leak).unwrap();
    let located = locate(&suspect, &[&m.reference]).expect("the leak is recognised");
    let chips = read_chips(&suspect, &m.reference, &located.registration);
    let (w, _) = m.reference.size();
    (0..n).map(|r| score(&chips, &m.key.codeword("g", &format!("r{r}"), "img", w, m.reference.geometry().chips()))).collect()
}

fn assert_traced(m: &Marked, leak: &[u8], who: usize, what: &str) {
    let n = 200;
    let s = scores(m, leak, n);
    let t = threshold(n as u64);
    let best = (0..n).max_by(|a, b| s[*a].total_cmp(&s[*b])).unwrap();
    let wrong = (0..n).filter(|r| *r != who).map(|r| s[r]).fold(f64::MIN, f64::max);
    assert_eq!(best, who, "{what}: the leak's recipient scores best ({} vs {wrong})", s[who]);
    assert!(s[who] > t, "{what}: score {} over threshold {t}", s[who]);
    assert!(wrong < t, "{what}: no other recipient passes ({wrong})");
}

#[test]
fn the_threshold_follows_the_hoeffding_bound() {
    assert!((threshold(1) - (2.0 * 1e6f64.ln()).sqrt()).abs() < 1e-9);
    let t = threshold(10_000);
    assert!((t - 6.79).abs() < 0.01, "{t}");
    assert!((-t * t / 2.0).exp() * 10_000.0 <= FALSE_ACCUSATION * 1.0001);
}

#[test]
fn a_recipients_copy_as_served_names_that_recipient() {
    let m = marked(&textured(640, 480, 1), 3);
    assert_traced(&m, &m.copies[1], 1, "as served");
}

#[test]
fn a_copy_re_encoded_at_quality_50_still_names_its_recipient() {
    let m = marked(&textured(640, 480, 2), 2);
    let leak = jpeg(&image::load_from_memory(&m.copies[0]).unwrap(), 50);
    assert_traced(&m, &leak, 0, "JPEG q50");
}

#[test]
fn a_copy_downscaled_to_half_names_its_recipient() {
    let m = marked(&textured(768, 512, 3), 2);
    let img = image::load_from_memory(&m.copies[1]).unwrap();
    let leak = encode(&img.resize_exact(384, 256, FilterType::Triangle), ImageFormat::Png);
    assert_traced(&m, &leak, 1, "50 % downscale");
}

#[test]
fn a_copy_cropped_by_five_percent_per_edge_and_brightened_names_its_recipient() {
    let m = marked(&textured(640, 480, 4), 2);
    let img = image::load_from_memory(&m.copies[0]).unwrap().crop_imm(32, 24, 576, 432).brighten(12);
    assert_traced(&m, &jpeg(&img, 90), 0, "crop + brightness");
}

#[test]
fn a_screenshot_with_a_dark_surround_names_its_recipient() {
    let m = marked(&textured(640, 480, 5), 2);
    let img = image::load_from_memory(&m.copies[1]).unwrap().resize_exact(800, 600, FilterType::CatmullRom);
    let mut shot = RgbImage::from_pixel(1100, 760, image::Rgb([12, 12, 12]));
    image::imageops::overlay(&mut shot, &img.to_rgb8(), 150, 80);
    // A button in the surround, as a lightbox has.
    for y in 20..60 {
        for x in 1040..1080 {
            shot.put_pixel(x, y, image::Rgb([200, 200, 200]));
        }
    }
    assert_traced(&m, &encode(&DynamicImage::ImageRgb8(shot), ImageFormat::Png), 1, "screenshot");
}

#[test]
fn the_unmarked_picture_and_another_picture_are_told_apart() {
    let img = textured(640, 480, 6);
    let m = marked(&img, 1);
    // The picture itself, never marked: recognised, but nobody's copy.
    let plain = jpeg(&DynamicImage::ImageRgb8(img), 85);
    let s = scores(&m, &plain, 500);
    assert!(s.iter().all(|s| *s < threshold(500)), "no recipient for an unmarked copy: {:?}", s.iter().cloned().fold(f64::MIN, f64::max));
    // Another picture: not ours.
    let other = Suspect::decode(&jpeg(&DynamicImage::ImageRgb8(textured(640, 480, 99)), 85)).unwrap();
    assert!(locate(&other, &[&m.reference]).is_none());
}

#[test]
fn a_variant_registered_from_another_size_reads_the_same_placement() {
    let img = textured(640, 480, 7);
    let small = DynamicImage::ImageRgb8(img.clone()).resize_exact(320, 240, FilterType::Triangle).to_rgb8();
    let m = marked(&img, 1);
    let s = marked(&small, 1);
    let leak = Suspect::decode(&m.copies[0]).unwrap();
    let on_small = locate(&leak, &[&s.reference]).unwrap().registration;
    let big = register_from(&leak, &m.reference, &on_small, s.reference.size());
    assert!((big.transform.sx - 1.0).abs() < 0.002 && big.transform.tx.abs() < 0.3, "{big:?}");
}
