//! The two bench sets, made in the benchmark: textured photographs (Debian's wallpaper photos,
//! as `bench/images` uses) and flat product-style scenes (synthesized in Chromium by
//! `chromium.mjs scenes`). Each image is brought to the 1920 px display variant a recipient
//! receives, with the generator's resampler (Lanczos3).

use anyhow::{Context, Result, bail};
use fast_image_resize as fir;
use std::path::Path;
use std::process::Command;

/// The widest display variant (`images.widths`' default top) and its JPEG quality.
pub const DISPLAY_WIDTH: u32 = 1920;
pub const JPEG_QUALITY: u8 = 82;

/// Debian's photos in `mate-backgrounds` (the same ones `bench/images` uses, all of them).
const WALLPAPERS: [&str; 12] =
    ["Garden", "Wood", "Aqua", "TwoWings", "LadyBird", "YellowFlower", "Storm", "RainDrops", "Blinds", "Dune", "FreshFlower", "GreenMeadow"];

pub struct Image {
    /// The image's id in its gallery (what codewords and patterns are keyed by).
    pub id: String,
    pub width: u32,
    pub height: u32,
    pub rgb: Vec<u8>,
}

pub struct Set {
    /// "textured" or "flat".
    pub name: &'static str,
    /// The gallery its images are published in (codewords are keyed by it).
    pub gallery: String,
    pub images: Vec<Image>,
}

/// Lanczos3 to `width` px wide, the height keeping the aspect ratio (as the generator does).
pub fn resize(rgb: &[u8], w: u32, h: u32, width: u32, height: u32) -> Result<Vec<u8>> {
    if (w, h) == (width, height) {
        return Ok(rgb.to_vec());
    }
    let from = fir::images::ImageRef::new(w, h, rgb, fir::PixelType::U8x3)?;
    let mut to = fir::images::Image::new(width, height, fir::PixelType::U8x3);
    let opts = fir::ResizeOptions::new().resize_alg(fir::ResizeAlg::Convolution(fir::FilterType::Lanczos3));
    fir::Resizer::new().resize(&from, &mut to, &opts)?;
    Ok(to.into_vec())
}

fn display(id: String, path: &Path) -> Result<Image> {
    let img = image::open(path).with_context(|| format!("reading {}", path.display()))?.to_rgb8();
    let (w, h) = img.dimensions();
    let height = ((u64::from(h) * u64::from(DISPLAY_WIDTH) + u64::from(w) / 2) / u64::from(w)) as u32;
    let rgb = resize(img.as_raw(), w, h, DISPLAY_WIDTH, height)?;
    Ok(Image { id, width: DISPLAY_WIDTH, height, rgb })
}

/// The textured set: `count` of Debian's wallpaper photos from `dir`
/// (`usr/share/backgrounds/mate/nature` of the `mate-backgrounds` package; run.sh fetches it).
pub fn textured(dir: &Path, count: usize) -> Result<Set> {
    let mut images = Vec::new();
    for name in WALLPAPERS.iter().take(count) {
        let path = dir.join(format!("{name}.jpg"));
        if !path.exists() {
            bail!("{} is missing: the textured set is Debian's mate-backgrounds photos (fix: run bench/trace/run.sh, which fetches them, or pass --wallpapers <dir>)", path.display());
        }
        images.push(display(format!("{}.jpg", name.to_lowercase()), &path)?);
    }
    Ok(Set { name: "textured", gallery: "launch-photos".into(), images })
}

/// The flat set: `count` product-style scenes rendered by Chromium into `work/flat`.
pub fn flat(root: &Path, work: &Path, count: usize, seed: u64) -> Result<Set> {
    let dir = work.join(format!("flat-{seed}-{count}"));
    if !dir.join(".done").exists() {
        let status = Command::new("node")
            .arg(root.join("bench/trace/chromium.mjs"))
            .args(["scenes", &dir.to_string_lossy(), &count.to_string(), &seed.to_string()])
            .current_dir(root)
            .status()
            .context("running node bench/trace/chromium.mjs (fix: npm ci in the repository)")?;
        if !status.success() {
            bail!("synthesizing the flat set in Chromium failed ({status})");
        }
        std::fs::write(dir.join(".done"), b"")?;
    }
    let images = (0..count).map(|i| display(format!("packshot-{i:02}.png"), &dir.join(format!("flat-{i:02}.png")))).collect::<Result<_>>()?;
    Ok(Set { name: "flat", gallery: "launch-packshots".into(), images })
}
