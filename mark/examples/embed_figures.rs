//! The embedder's figures on real images: PSNR/SSIM of a marked 1920 px display JPEG against
//! the unmarked one, and how strongly the mark reads after the leaks the issue lists, with the
//! geometry known (registration is the detector's job; this isolates what the mark survives).
//!
//! usage: cargo run --release -p gatefold-mark --example embed_figures -- [IMAGE|DIR]…
//! With no argument it reads Debian's wallpaper photos from /usr/share/backgrounds and
//! /usr/share/wallpapers (without them installed: `apt-get download mate-backgrounds`,
//! `dpkg-deb -x` it and pass its usr/share/backgrounds/mate, as bench/images does). Two
//! synthesized flat product-style scenes are always added.
//! With FIGURES_DUMP=<dir>, writes each image's unmarked and marked JPEG there to look at.

use gatefold_contract::mark::{Geometry, MarkKey};
use gatefold_mark::{embed, quality, stamp};
use image::{DynamicImage, ImageBuffer, Rgb, RgbImage, imageops::FilterType};
use std::path::{Path, PathBuf};
use std::time::Instant;

const QUALITY: u8 = 82;
const CANDIDATES: usize = 2000;

fn main() {
    let mut inputs: Vec<PathBuf> = std::env::args().skip(1).map(PathBuf::from).collect();
    if inputs.is_empty() {
        inputs = vec!["/usr/share/backgrounds".into(), "/usr/share/wallpapers".into()];
    }
    let mut files = Vec::new();
    for p in &inputs {
        collect(p, &mut files);
    }
    files.sort();
    let key = MarkKey::from_secret("figures: a signing key secret long enough to mark");
    let threshold = (2.0 * (CANDIDATES as f64 / 1e-6).ln()).sqrt();
    println!("threshold for {CANDIDATES} candidates at 1e-6: {threshold:.2}; display JPEG q{QUALITY}");
    println!("PSNR/SSIM: marked vs unmarked from the same encoder; moz: vs the generator's unmarked variant (mozjpeg); enc: the two unmarked encodes");
    println!("{:<22} {:>6} {:>7} {:>6} {:>7} {:>6} {:>6}  {:>6} {:>6} {:>6} {:>6} {:>6} {:>6} {:>6} {:>7}  (score of the right link / best of {CANDIDATES} wrong)", "image", "PSNR", "SSIM", "moz", "moz", "enc", "ms", "copy", "q50", "50%", "crop", "webp75", "+10%", "60%c70", "avg2");
    for f in &files {
        let Ok(img) = image::open(f) else { continue };
        let name = f.file_stem().unwrap().to_string_lossy().chars().take(22).collect::<String>();
        run(&name, &to_display(img), &key);
    }
    let font = stamp::Font::system().ok();
    for (name, scene) in [("flat: bottle", bottle_scene()), ("flat: packaging", packaging_scene(font.as_ref()))] {
        run(name, &scene, &key);
    }
}

fn collect(p: &Path, out: &mut Vec<PathBuf>) {
    if p.is_dir() {
        for e in std::fs::read_dir(p).into_iter().flatten().flatten() {
            collect(&e.path(), out);
        }
    } else if p.extension().is_some_and(|e| e.eq_ignore_ascii_case("jpg") || e.eq_ignore_ascii_case("jpeg")) {
        out.push(p.to_path_buf());
    }
}

fn to_display(img: DynamicImage) -> RgbImage {
    let img = img.to_rgb8();
    let h = (u64::from(img.height()) * 1920 / u64::from(img.width())) as u32;
    image::imageops::resize(&img, 1920, h, FilterType::Lanczos3)
}

fn decode(jpeg: &[u8]) -> RgbImage {
    image::load_from_memory(jpeg).unwrap().to_rgb8()
}

fn run(name: &str, img: &RgbImage, key: &MarkKey) {
    let (w, h) = img.dimensions();
    let unmarked = decode(&embed::encode_jpeg(img.as_raw(), w, h, QUALITY).unwrap());
    let t = Instant::now();
    let pair = embed::encode_pair(img.as_raw(), w, h, QUALITY, key, name).unwrap();
    let ms = t.elapsed().as_millis();
    let (a, b) = (decode(&pair.a), decode(&pair.b));
    if let Some(dir) = std::env::var_os("FIGURES_DUMP") {
        let stem = name.replace([' ', ':'], "_");
        unmarked.save(Path::new(&dir).join(format!("{stem}.unmarked.png"))).unwrap();
        a.save(Path::new(&dir).join(format!("{stem}.marked.png"))).unwrap();
    }
    let psnr = quality::psnr(a.as_raw(), unmarked.as_raw()).min(quality::psnr(b.as_raw(), unmarked.as_raw()));
    let ssim = quality::ssim(a.as_raw(), unmarked.as_raw(), w, h).min(quality::ssim(b.as_raw(), unmarked.as_raw(), w, h));
    let served = decode(&mozjpeg_like_the_generator(img));
    let (psnr_moz, ssim_moz) = (quality::psnr(a.as_raw(), served.as_raw()), quality::ssim(a.as_raw(), served.as_raw(), w, h));
    let encoders = quality::psnr(unmarked.as_raw(), served.as_raw());
    let g = Geometry { width: w, height: h };
    let (la, lb) = (embed::luma(a.as_raw()), embed::luma(b.as_raw()));
    let reference: Vec<f32> = la.iter().zip(&lb).map(|(a, b)| (a + b) / 2.0).collect();
    let signal: Vec<f32> = la.iter().zip(&lb).map(|(a, b)| (a - b) / 2.0).collect();
    let bits = key.codeword("g", "right", name, w, g.chips());
    let copy = decode(&pair.index.splice(&pair.a, &pair.b, &bits, None).unwrap());
    let other = decode(&pair.index.splice(&pair.a, &pair.b, &key.codeword("g", "colluder", name, w, g.chips()), None).unwrap());
    let wrong: Vec<_> = (0..CANDIDATES).map(|i| key.codeword("g", &format!("wrong{i}"), name, w, g.chips())).collect();
    let mut cells = Vec::new();
    for leak in leaks(&copy, &other) {
        let chips = read_chips(&leak, &reference, &signal, g);
        let s = score(&chips, &bits);
        let worst = wrong.iter().map(|c| score(&chips, c)).fold(f64::MIN, f64::max);
        cells.push(format!("{s:>4.0}/{worst:<3.1}"));
    }
    println!("{name:<22} {psnr:>6.2} {ssim:>7.4} {psnr_moz:>6.2} {ssim_moz:>7.4} {encoders:>6.2} {ms:>6}  {}", cells.join(" "));
}

/// The unmarked display variant as the generator encodes it (generator/src/images/pixels.rs).
fn mozjpeg_like_the_generator(img: &RgbImage) -> Vec<u8> {
    let mut c = mozjpeg::Compress::new(mozjpeg::ColorSpace::JCS_EXT_RGB);
    c.set_fastest_defaults();
    c.set_size(img.width() as usize, img.height() as usize);
    c.set_quality(f32::from(QUALITY));
    c.set_optimize_coding(true);
    let mut s = c.start_compress(Vec::new()).unwrap();
    s.write_scanlines(img.as_raw()).unwrap();
    s.finish().unwrap()
}

/// A leak in the reference's frame: luma and whether each pixel was seen.
struct Leak {
    luma: Vec<f32>,
    seen: Vec<bool>,
}

fn reencode_jpeg(img: &RgbImage, q: u8) -> RgbImage {
    let mut out = Vec::new();
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, q).encode_image(img).unwrap();
    decode(&out)
}

fn webp(img: &RgbImage, q: f32) -> RgbImage {
    let bytes = webp::Encoder::from_rgb(img.as_raw(), img.width(), img.height()).encode(q);
    webp::Decoder::new(&bytes).decode().unwrap().to_image().to_rgb8()
}

fn scale(img: &RgbImage, f: f64) -> RgbImage {
    let (w, h) = ((f64::from(img.width()) * f).round() as u32, (f64::from(img.height()) * f).round() as u32);
    image::imageops::resize(img, w, h, FilterType::Triangle)
}

/// Places `part` (a crop at `x0`,`y0` of the reference, possibly scaled) back in the frame.
fn place(part: &RgbImage, w: u32, h: u32, x0: u32, y0: u32) -> Leak {
    let (mut luma, mut seen) = (vec![0f32; (w * h) as usize], vec![false; (w * h) as usize]);
    let l = embed::luma(part.as_raw());
    for y in 0..part.height().min(h - y0) {
        for x in 0..part.width().min(w - x0) {
            let i = ((y + y0) * w + x + x0) as usize;
            luma[i] = l[(y * part.width() + x) as usize];
            seen[i] = true;
        }
    }
    Leak { luma, seen }
}

fn leaks(copy: &RgbImage, other: &RgbImage) -> Vec<Leak> {
    let (w, h) = copy.dimensions();
    let whole = |img: &RgbImage| place(img, w, h, 0, 0);
    let (cx, cy) = (w / 20, h / 20);
    let crop = image::imageops::crop_imm(copy, cx, cy, w - 2 * cx, h - 2 * cy).to_image();
    let bright: RgbImage = ImageBuffer::from_fn(w, h, |x, y| Rgb(copy.get_pixel(x, y).0.map(|v| (f32::from(v) * 1.1).round().min(255.0) as u8)));
    let small = scale(copy, 0.6);
    let (sx, sy) = (small.width() / 20, small.height() / 20);
    let small_crop = reencode_jpeg(&image::imageops::crop_imm(&small, sx, sy, small.width() - 2 * sx, small.height() - 2 * sy).to_image(), 70);
    let back = image::imageops::resize(&small_crop, (f64::from(small_crop.width()) / 0.6).round() as u32, (f64::from(small_crop.height()) / 0.6).round() as u32, FilterType::Triangle);
    let average: RgbImage = ImageBuffer::from_fn(w, h, |x, y| {
        let (p, q) = (copy.get_pixel(x, y).0, other.get_pixel(x, y).0);
        Rgb([0, 1, 2].map(|c| (u16::from(p[c]) + u16::from(q[c])).div_ceil(2) as u8))
    });
    vec![
        whole(copy),
        whole(&reencode_jpeg(copy, 50)),
        whole(&image::imageops::resize(&scale(copy, 0.5), w, h, FilterType::Triangle)),
        place(&crop, w, h, cx, cy),
        whole(&webp(copy, 75.0)),
        whole(&bright),
        place(&back, w, h, (f64::from(sx) / 0.6).round() as u32, (f64::from(sy) / 0.6).round() as u32),
        whole(&average),
    ]
}

/// c_i = Σ (L − (g·Ū + o))·D over chip i's pixels, gain and offset fitted by least squares;
/// chips not wholly seen read 0.
fn read_chips(leak: &Leak, reference: &[f32], signal: &[f32], g: Geometry) -> Vec<f64> {
    let (mut n, mut sx, mut sy, mut sxx, mut sxy) = (0f64, 0f64, 0f64, 0f64, 0f64);
    for i in (0..reference.len()).filter(|i| leak.seen[*i]) {
        let (x, y) = (f64::from(reference[i]), f64::from(leak.luma[i]));
        n += 1.0;
        sx += x;
        sy += y;
        sxx += x * x;
        sxy += x * y;
    }
    let gain = (n * sxy - sx * sy) / (n * sxx - sx * sx);
    let offset = (sy - gain * sx) / n;
    let mut chips = vec![0f64; g.chips() as usize];
    let mut full = vec![true; g.chips() as usize];
    for y in 0..g.height {
        for x in 0..g.width {
            let (i, c) = ((y * g.width + x) as usize, g.chip_at(x, y) as usize);
            if leak.seen[i] {
                chips[c] += (f64::from(leak.luma[i]) - gain * f64::from(reference[i]) - offset) * f64::from(signal[i]);
            } else {
                full[c] = false;
            }
        }
    }
    chips.iter().zip(full).map(|(c, f)| if f { *c } else { 0.0 }).collect()
}

fn score(chips: &[f64], bits: &gatefold_contract::mark::Codeword) -> f64 {
    let norm = chips.iter().map(|c| c * c).sum::<f64>().sqrt();
    chips.iter().enumerate().map(|(i, c)| f64::from(bits.sign(i as u32)) * c).sum::<f64>() / norm.max(1e-12)
}

/// A studio product shot: a bottle with soft shading and a shadow on a near-white sweep.
fn bottle_scene() -> RgbImage {
    let (w, h) = (1920u32, 1280u32);
    ImageBuffer::from_fn(w, h, |x, y| {
        let (fx, fy) = (x as f32 / w as f32, y as f32 / h as f32);
        let mut v = [240.0 - 14.0 * fy, 240.0 - 14.0 * fy, 238.0 - 12.0 * fy];
        let (bx, by) = ((fx - 0.5) / 0.09, (fy - 0.55) / 0.33);
        let shadow = (-((fx - 0.56) / 0.12).powi(2) - ((fy - 0.9) / 0.03).powi(2)).exp();
        v.iter_mut().for_each(|c| *c -= 60.0 * shadow);
        let neck = (fx - 0.5).abs() < 0.025 && (0.12..0.25).contains(&fy);
        if bx * bx + (by.max(0.0) * 0.3).powi(2) < 1.0 && fy > 0.22 && fy < 0.88 || neck {
            let shade = 0.55 + 0.45 * (1.0 - ((fx - 0.47) / 0.1).powi(2)).max(0.0);
            v = [30.0 + 120.0 * shade, 70.0 + 100.0 * shade, 40.0 + 60.0 * shade];
            if (0.5..0.7).contains(&fy) {
                v = [235.0 * shade + 10.0, 230.0 * shade + 10.0, 215.0 * shade + 10.0];
            }
        }
        Rgb(v.map(|c| c.round().clamp(0.0, 255.0) as u8))
    })
}

/// Text-heavy packaging: a box face in flat colours with Chinese and Latin text on a plain
/// background (rows of blocks stand in for text when no CJK font is installed).
fn packaging_scene(font: Option<&stamp::Font>) -> RgbImage {
    let (w, h) = (1920u32, 1280u32);
    let mut img: RgbImage = ImageBuffer::from_fn(w, h, |x, y| {
        let inside = (420..1500).contains(&x) && (160..1120).contains(&y);
        let band = (420..1500).contains(&x) && (160..400).contains(&y);
        Rgb(if band { [180, 30, 40] } else if inside { [248, 246, 240] } else { [222, 224, 228] })
    });
    let lines = ["极光系列 限量版", "AURORA · 2027 LAUNCH", "产品说明：请勿外传", "净含量 500 ml · 保质期 24 个月", "Made for dealers only — do not share", "成分：水、甘油、烟酰胺、透明质酸钠"];
    for (i, text) in lines.iter().enumerate() {
        let y = 230 + i as u32 * 140;
        match font {
            Some(f) => {
                let mask = stamp::text_mask(f, text, if i == 0 { 96.0 } else { 52.0 });
                stamp::blend(&mut img, w, h, &mask, (480, i64::from(y)), if i == 0 { [255, 255, 255] } else { [30, 30, 35] }, 1.0);
            }
            None => {
                for k in 0..text.chars().count() as u32 {
                    for yy in y..y + 40 {
                        for xx in 480 + k * 36..480 + k * 36 + 28 {
                            img.put_pixel(xx.min(w - 1), yy, Rgb([30, 30, 35]));
                        }
                    }
                }
            }
        }
    }
    img
}
