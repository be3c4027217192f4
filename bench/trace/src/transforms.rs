//! What a leaker does to the 1920 px display JPEG they received, with the tools a leaker has:
//! libjpeg-style re-encoding (mozjpeg, its libjpeg-turbo-like defaults), lossy WebP (libwebp),
//! Lanczos3 resizing, and a screenshot of the lightbox in Chromium (`chromium.mjs lightbox`).
//! Each leak is a file's bytes (JPEG, PNG or WebP), as the trace would be given it, and where
//! its pixels came from in the copy (for the report and the known-geometry reading).

use crate::rng::Rng;
use crate::sets::resize;
use anyhow::{Result, anyhow};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Transform {
    /// The copy as received (used by the null traces; the strongest signal).
    None,
    Jpeg50,
    Downscale50,
    Crop5,
    Screenshot,
    Webp75,
    Brighter10,
    Darker10,
    Downscale60CropJpeg70,
}

/// The transforms the issue names, in the report's order.
pub const ALL: [Transform; 8] = [
    Transform::Jpeg50,
    Transform::Downscale50,
    Transform::Crop5,
    Transform::Screenshot,
    Transform::Webp75,
    Transform::Brighter10,
    Transform::Darker10,
    Transform::Downscale60CropJpeg70,
];

impl Transform {
    pub fn label(self) -> &'static str {
        match self {
            Transform::None => "as received",
            Transform::Jpeg50 => "JPEG q50",
            Transform::Downscale50 => "downscale 50 %",
            Transform::Crop5 => "crop 5 % each edge",
            Transform::Screenshot => "lightbox screenshot 2× (PNG)",
            Transform::Webp75 => "WebP q75",
            Transform::Brighter10 => "brightness +10 %",
            Transform::Darker10 => "brightness −10 %",
            Transform::Downscale60CropJpeg70 => "60 % + crop + JPEG q70",
        }
    }
}

/// Where a leak's pixel came from: copy x = `ax`·(leak x) + `bx` (pixel centres), and alike in y.
#[derive(Debug, Clone, Copy)]
pub struct Geometry {
    pub ax: f64,
    pub bx: f64,
    pub ay: f64,
    pub by: f64,
}

impl Geometry {
    pub const IDENTITY: Geometry = Geometry { ax: 1.0, bx: 0.0, ay: 1.0, by: 0.0 };

    /// A resize of a `w`×`h` image to `w2`×`h2` followed by a crop whose top-left is (`cx`, `cy`).
    fn resized_cropped(w: u32, h: u32, w2: u32, h2: u32, cx: u32, cy: u32) -> Geometry {
        let (ax, ay) = (f64::from(w) / f64::from(w2), f64::from(h) / f64::from(h2));
        Geometry { ax, bx: (f64::from(cx) + 0.5) * ax - 0.5, ay, by: (f64::from(cy) + 0.5) * ay - 0.5 }
    }

    /// An image shown in a rectangle (`x`, `y`, `width`, `height`, device px) of a screenshot.
    pub fn shown(w: u32, h: u32, x: f64, y: f64, width: f64, height: f64) -> Geometry {
        let (ax, ay) = (f64::from(w) / width, f64::from(h) / height);
        Geometry { ax, bx: (0.5 - x) * ax - 0.5, ay, by: (0.5 - y) * ay - 0.5 }
    }
}

pub struct Leak {
    pub bytes: Vec<u8>,
    pub geometry: Geometry,
}

pub fn mozjpeg(rgb: &[u8], w: u32, h: u32, quality: u8) -> Result<Vec<u8>> {
    std::panic::catch_unwind(|| -> std::io::Result<Vec<u8>> {
        let mut c = mozjpeg::Compress::new(mozjpeg::ColorSpace::JCS_EXT_RGB);
        c.set_fastest_defaults();
        c.set_size(w as usize, h as usize);
        c.set_quality(f32::from(quality));
        c.set_optimize_coding(true);
        let mut s = c.start_compress(Vec::with_capacity(rgb.len() / 8))?;
        s.write_scanlines(rgb)?;
        s.finish()
    })
    .map_err(|_| anyhow!("mozjpeg panicked"))?
    .map_err(|e| anyhow!("JPEG encoding: {e}"))
}

fn webp(rgb: &[u8], w: u32, h: u32, quality: u8) -> Result<Vec<u8>> {
    let mut config = webp::WebPConfig::new().map_err(|()| anyhow!("WebP configuration"))?;
    config.quality = f32::from(quality);
    config.method = 4;
    let out = webp::Encoder::from_rgb(rgb, w, h).encode_advanced(&config).map_err(|e| anyhow!("WebP encoding: {e:?}"))?;
    Ok(out.to_vec())
}

pub fn png(rgb: &[u8], w: u32, h: u32) -> Result<Vec<u8>> {
    let mut out = Vec::new();
    let enc = image::codecs::png::PngEncoder::new_with_quality(&mut out, image::codecs::png::CompressionType::Fast, image::codecs::png::FilterType::Sub);
    image::ImageEncoder::write_image(enc, rgb, w, h, image::ExtendedColorType::Rgb8)?;
    Ok(out)
}

pub fn decode(bytes: &[u8]) -> Result<(Vec<u8>, u32, u32)> {
    let img = image::load_from_memory(bytes)?.to_rgb8();
    let (w, h) = img.dimensions();
    Ok((img.into_raw(), w, h))
}

fn crop(rgb: &[u8], w: u32, x: u32, y: u32, cw: u32, ch: u32) -> Vec<u8> {
    let mut out = Vec::with_capacity((cw * ch * 3) as usize);
    for row in y..y + ch {
        let start = ((row * w + x) * 3) as usize;
        out.extend_from_slice(&rgb[start..start + (cw * 3) as usize]);
    }
    out
}

fn scaled(n: u32, f: f64) -> u32 {
    (f64::from(n) * f).round() as u32
}

/// Applies `t` (all but the screenshot, which runs in batches in Chromium) to a copy's JPEG.
pub fn apply(t: Transform, copy: &[u8], rng: &mut Rng) -> Result<Leak> {
    let (rgb, w, h) = decode(copy)?;
    let leak = match t {
        Transform::None => Leak { bytes: copy.to_vec(), geometry: Geometry::IDENTITY },
        Transform::Jpeg50 => Leak { bytes: mozjpeg(&rgb, w, h, 50)?, geometry: Geometry::IDENTITY },
        Transform::Webp75 => Leak { bytes: webp(&rgb, w, h, 75)?, geometry: Geometry::IDENTITY },
        Transform::Downscale50 => {
            let (w2, h2) = (scaled(w, 0.5), scaled(h, 0.5));
            Leak { bytes: png(&resize(&rgb, w, h, w2, h2)?, w2, h2)?, geometry: Geometry::resized_cropped(w, h, w2, h2, 0, 0) }
        }
        Transform::Crop5 => {
            let (cx, cy) = (scaled(w, 0.05), scaled(h, 0.05));
            let (cw, ch) = (w - 2 * cx, h - 2 * cy);
            Leak { bytes: png(&crop(&rgb, w, cx, cy, cw, ch), cw, ch)?, geometry: Geometry::resized_cropped(w, h, w, h, cx, cy) }
        }
        Transform::Brighter10 | Transform::Darker10 => {
            let f = if t == Transform::Brighter10 { 1.1 } else { 0.9 };
            let out: Vec<u8> = rgb.iter().map(|v| (f32::from(*v) * f).round().clamp(0.0, 255.0) as u8).collect();
            Leak { bytes: png(&out, w, h)?, geometry: Geometry::IDENTITY }
        }
        Transform::Downscale60CropJpeg70 => {
            let (w2, h2) = (scaled(w, 0.6), scaled(h, 0.6));
            let small = resize(&rgb, w, h, w2, h2)?;
            // A crop of 2–8 % from each edge, different every trial.
            let mut edge = |n: u32| scaled(n, 0.02 + 0.06 * rng.unit());
            let (left, right, top, bottom) = (edge(w2), edge(w2), edge(h2), edge(h2));
            let (cw, ch) = (w2 - left - right, h2 - top - bottom);
            let out = crop(&small, w2, left, top, cw, ch);
            Leak { bytes: mozjpeg(&out, cw, ch, 70)?, geometry: Geometry::resized_cropped(w, h, w2, h2, left, top) }
        }
        Transform::Screenshot => return Err(anyhow!("the screenshot transform runs in Chromium (screenshots())")),
    };
    Ok(leak)
}

/// The screenshot transform for many copies at once: one Chromium, one lightbox page.
/// `jobs` are (copy JPEG path, PNG path to write), `sizes` the copies' sizes; returns where
/// each copy landed on its screenshot.
pub fn screenshots(root: &std::path::Path, dir: &std::path::Path, jobs: &[(std::path::PathBuf, std::path::PathBuf)], sizes: &[(u32, u32)]) -> Result<Vec<Geometry>> {
    if jobs.is_empty() {
        return Ok(Vec::new());
    }
    let list: Vec<serde_json::Value> = jobs.iter().map(|(i, o)| serde_json::json!({"input": i, "output": o})).collect();
    let file = dir.join("lightbox-jobs.json");
    std::fs::write(&file, serde_json::to_vec(&list)?)?;
    let out = std::process::Command::new("node").arg(root.join("bench/trace/chromium.mjs")).arg("lightbox").arg(&file).current_dir(root).output()?;
    if !out.status.success() {
        return Err(anyhow!("the lightbox screenshots failed: {}", String::from_utf8_lossy(&out.stderr)));
    }
    let rects: Vec<serde_json::Value> = String::from_utf8(out.stdout)?.lines().map(serde_json::from_str).collect::<Result<_, _>>()?;
    if rects.len() != jobs.len() {
        return Err(anyhow!("{} screenshots for {} copies", rects.len(), jobs.len()));
    }
    sizes
        .iter()
        .zip(rects)
        .map(|(&(w, h), r)| {
            let f = |k: &str| r[k].as_f64().ok_or_else(|| anyhow!("screenshot rectangle without {k}"));
            Ok(Geometry::shown(w, h, f("x")?, f("y")?, f("width")?, f("height")?))
        })
        .collect()
}
