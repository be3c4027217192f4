//! The visible stamp: a recipient's label rendered into the pixels (not a CSS overlay), with a
//! font that covers Chinese, and the band of chips it covers encoded so that the worker can
//! splice it over the recipient's marked copy ([`stamp_band`]).
//!
//! Legibility on light and dark images alike: light text over a dark outline. Size: about
//! 2.5 % of the image's height. [`Position::Corner`] puts it once at the bottom right;
//! [`Position::Tile`] repeats it across the whole image in staggered rows at low opacity, so a
//! crop cannot remove it (at the price of a band as large as the image).

use crate::embed;
use ab_glyph::{Font as _, FontVec, PxScale, ScaleFont as _, point};
use gatefold_contract::mark::{Band, Codeword, Geometry, MCU, MarkKey, RESTART_MCUS, split_segments};
use std::path::Path;
use std::sync::{Arc, Mutex};

/// Where Debian's `fonts-noto-cjk` puts Noto Sans CJK, and the face in it that draws Chinese as
/// Chinese readers expect (the collection's faces: 0 JP, 1 KR, 2 SC, 3 TC, 4 HK).
pub const SYSTEM_FONT: &str = "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc";
pub const SYSTEM_FACE: u32 = 2;
/// Text height as a share of the image's height, and never below this many pixels.
const SIZE_SHARE: f32 = 0.025;
const MIN_SIZE: f32 = 14.0;
/// A stamp's text is bounded: labels and dates, not paragraphs.
pub const MAX_CHARS: usize = 120;

/// A loaded font face.
pub struct Font(FontVec);

impl std::fmt::Debug for Font {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Font")
    }
}

impl Font {
    /// Noto Sans CJK SC from the system's `fonts-noto-cjk`.
    pub fn system() -> Result<Font, String> {
        Font::system_at(Path::new(SYSTEM_FONT))
    }

    fn system_at(path: &Path) -> Result<Font, String> {
        if !path.exists() {
            return Err(format!(
                "visible stamps need a font that covers Chinese, and {} is missing (fix: install the Debian/Ubuntu package fonts-noto-cjk, e.g. `apt-get install fonts-noto-cjk`)",
                path.display()
            ));
        }
        Font::load(path, SYSTEM_FACE)
    }

    /// Face `index` of the font file (TTF/OTF, or a collection) at `path`.
    pub fn load(path: &Path, index: u32) -> Result<Font, String> {
        let bytes = std::fs::read(path).map_err(|e| format!("reading the stamp font {}: {e}", path.display()))?;
        FontVec::try_from_vec_and_index(bytes, index).map(Font).map_err(|e| format!("{} (face {index}) is not a font ab_glyph can read: {e}", path.display()))
    }

    /// Whether the face has a glyph for every character of `text` (spaces aside).
    pub fn covers(&self, text: &str) -> bool {
        text.chars().filter(|c| !c.is_whitespace()).all(|c| self.0.glyph_id(c).0 != 0)
    }
}

/// Where the stamp goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Position {
    Corner,
    Tile,
}

impl std::str::FromStr for Position {
    type Err = String;

    fn from_str(s: &str) -> Result<Position, String> {
        match s {
            "corner" => Ok(Position::Corner),
            "tile" => Ok(Position::Tile),
            other => Err(format!("unknown stamp position \"{other}\" (fix: corner or tile)")),
        }
    }
}

/// Rendered text: coverage in [0, 1] over a `width`×`height` box holding all its ink.
pub struct TextMask {
    pub width: u32,
    pub height: u32,
    pub alpha: Vec<f32>,
}

/// `text` (at most [`MAX_CHARS`] characters) rendered at `px` pixels per em.
pub fn text_mask(font: &Font, text: &str, px: f32) -> TextMask {
    let scaled = font.0.as_scaled(PxScale::from(px));
    let mut glyphs = Vec::new();
    let (mut x, mut previous) = (0f32, None);
    for c in text.chars().take(MAX_CHARS) {
        let id = scaled.glyph_id(c);
        if let Some(p) = previous {
            x += scaled.kern(p, id);
        }
        glyphs.push(id.with_scale_and_position(PxScale::from(px), point(x, scaled.ascent())));
        x += scaled.h_advance(id);
        previous = Some(id);
    }
    // The box is the line's advance and ascent-to-descent, grown to every glyph's ink (an
    // italic overhang or a negative side bearing is not cut off).
    let outlined: Vec<_> = glyphs.into_iter().filter_map(|g| font.0.outline_glyph(g)).collect();
    let (mut x0, mut y0, mut x1, mut y1) = (0f32, 0f32, x, scaled.ascent() - scaled.descent());
    for o in &outlined {
        let b = o.px_bounds();
        (x0, y0, x1, y1) = (x0.min(b.min.x), y0.min(b.min.y), x1.max(b.max.x), y1.max(b.max.y));
    }
    let (ox, oy) = (x0.floor() as i64, y0.floor() as i64);
    let (width, height) = ((x1.ceil() as i64 - ox).max(1) as u32, (y1.ceil() as i64 - oy).max(1) as u32);
    let mut alpha = vec![0f32; (width * height) as usize];
    for o in outlined {
        let b = o.px_bounds();
        o.draw(|gx, gy, c| {
            let (px, py) = (b.min.x as i64 + i64::from(gx) - ox, b.min.y as i64 + i64::from(gy) - oy);
            if (0..i64::from(width)).contains(&px) && (0..i64::from(height)).contains(&py) {
                let a = &mut alpha[(py as u32 * width + px as u32) as usize];
                *a = (*a + c).min(1.0);
            }
        });
    }
    TextMask { width, height, alpha }
}

/// The mask grown by `radius` px (a square max filter): the outline drawn under the text.
fn dilate(m: &TextMask, radius: u32) -> TextMask {
    let (w, h, r) = (m.width + 2 * radius, m.height + 2 * radius, radius as i64);
    let at = |x: i64, y: i64| if (0..i64::from(m.width)).contains(&x) && (0..i64::from(m.height)).contains(&y) { m.alpha[(y * i64::from(m.width) + x) as usize] } else { 0.0 };
    let mut rows = vec![0f32; (w * m.height) as usize];
    for y in 0..i64::from(m.height) {
        for x in 0..i64::from(w) {
            rows[(y * i64::from(w) + x) as usize] = (-r..=r).map(|d| at(x - r + d, y)).fold(0.0, f32::max);
        }
    }
    let row = |x: i64, y: i64| if (0..i64::from(m.height)).contains(&y) { rows[(y * i64::from(w) + x) as usize] } else { 0.0 };
    let alpha = (0..i64::from(h)).flat_map(|y| (0..i64::from(w)).map(move |x| (x, y))).map(|(x, y)| (-r..=r).map(|d| row(x, y - r + d)).fold(0.0, f32::max)).collect();
    TextMask { width: w, height: h, alpha }
}

/// Blends `color` into `rgb` (`width`×`height`) through `mask` × `opacity` with the mask's
/// top-left at (`x`, `y`); returns the rows touched.
pub fn blend(rgb: &mut [u8], width: u32, height: u32, mask: &TextMask, (x, y): (i64, i64), color: [u8; 3], opacity: f32) -> Option<(u32, u32)> {
    let mut rows: Option<(u32, u32)> = None;
    for my in 0..mask.height {
        let py = y + i64::from(my);
        if !(0..i64::from(height)).contains(&py) {
            continue;
        }
        for mx in 0..mask.width {
            let px = x + i64::from(mx);
            let a = mask.alpha[(my * mask.width + mx) as usize] * opacity;
            if a <= 0.0 || !(0..i64::from(width)).contains(&px) {
                continue;
            }
            let i = ((py as u32 * width + px as u32) * 3) as usize;
            for (c, want) in rgb[i..i + 3].iter_mut().zip(color) {
                *c = (f32::from(*c) * (1.0 - a) + f32::from(want) * a).round() as u8;
            }
            let py = py as u32;
            rows = Some(rows.map_or((py, py + 1), |(t, b)| (t.min(py), b.max(py + 1))));
        }
    }
    rows
}

const TEXT: [u8; 3] = [250, 250, 250];
const OUTLINE: [u8; 3] = [16, 16, 16];

/// Renders `text` into `rgb` (RGB8, `width`×`height`) at `position`; returns the rows it
/// touched (`top..bottom`), or `None` when the text draws nothing.
pub fn render(rgb: &mut [u8], width: u32, height: u32, text: &str, position: Position, font: &Font) -> Option<(u32, u32)> {
    let mut px = (height as f32 * SIZE_SHARE).max(MIN_SIZE);
    let mut glyphs = text_mask(font, text.trim(), px);
    // A long label on a narrow image is set smaller rather than cut off at the left edge.
    let room = width as f32 * 0.9;
    if glyphs.width as f32 > room && px > MIN_SIZE {
        px = (px * room / glyphs.width as f32).max(MIN_SIZE);
        glyphs = text_mask(font, text.trim(), px);
    }
    let radius = (px / 10.0).round().max(1.0) as u32;
    let outline = dilate(&glyphs, radius);
    let r = i64::from(radius);
    let (opacity, spots) = match position {
        Position::Corner => {
            let margin = (px * 0.8) as i64;
            (0.92, vec![(i64::from(width) - i64::from(glyphs.width) - margin, i64::from(height) - i64::from(glyphs.height) - margin)])
        }
        Position::Tile => (0.28, tile_spots(width, height, &glyphs, px)),
    };
    let mut rows: Option<(u32, u32)> = None;
    for (x, y) in spots {
        for touched in [blend(rgb, width, height, &outline, (x - r, y - r), OUTLINE, opacity), blend(rgb, width, height, &glyphs, (x, y), TEXT, opacity)].into_iter().flatten() {
            rows = Some(rows.map_or(touched, |(t, b)| (t.min(touched.0), b.max(touched.1))));
        }
    }
    rows
}

/// Top-left corners of the tiled copies: rows every 5 em, each row shifted a third of a step
/// further than the last, so the copies run diagonally across the image.
fn tile_spots(width: u32, height: u32, glyphs: &TextMask, px: f32) -> Vec<(i64, i64)> {
    let step_x = i64::from(glyphs.width) + (px * 4.0) as i64;
    let step_y = (px * 5.0) as i64;
    let mut spots = Vec::new();
    let mut y = (px * 1.5) as i64 - step_y;
    let mut row = 0i64;
    while y < i64::from(height) {
        let shift = (row * step_x / 3) % step_x;
        let mut x = shift - step_x;
        while x < i64::from(width) {
            spots.push((x, y));
            x += step_x;
        }
        y += step_y;
        row += 1;
    }
    spots
}

/// A stamped recipient's band of `image`'s `width`×`height` variant: pixels = image +
/// sign·δ per chip by `codeword` (the δ of [`embed::encode_pair`]), the stamp drawn over them,
/// the chips the stamp covers encoded as `encode_pair` encodes (restart markers renumbered to
/// their place in the full image). The bytes are the band's segments, concatenated. For many
/// links of one variant, [`Marked`] computes δ once.
#[allow(clippy::too_many_arguments)]
pub fn stamp_band(rgb: &[u8], width: u32, height: u32, quality: u8, key: &MarkKey, image_id: &str, codeword: &Codeword, text: &str, position: Position, font: &Font) -> Result<(Band, Vec<u8>), String> {
    Marked::new(rgb, width, height, quality, key, image_id)?.band(codeword, text, position, font)
}

/// One variant as [`embed::encode_pair`] marks it: what all its stamped links' bands share.
pub struct Marked<'a> {
    rgb: &'a [u8],
    geometry: Geometry,
    quality: u8,
    delta: Arc<Vec<f32>>,
}

/// The δ of the last few variants stamped: a build stamps each variant once per stamped link,
/// usually one link after another, and fitting δ costs more than encoding a corner's band.
static RECENT: Mutex<Vec<Recent>> = Mutex::new(Vec::new());
/// A variant's identity (a hash of its pixels, size, quality, key id and image id) and its δ.
type Recent = ([u8; 32], Arc<Vec<f32>>);
const RECENT_KEPT: usize = 4;

fn shared_delta(rgb: &[u8], width: u32, height: u32, quality: u8, key: &MarkKey, image_id: &str) -> Arc<Vec<f32>> {
    let mut h = blake3::Hasher::new();
    h.update(rgb).update(&width.to_le_bytes()).update(&height.to_le_bytes()).update(&[quality]).update(key.id().as_bytes()).update(image_id.as_bytes());
    let id = *h.finalize().as_bytes();
    let recent = || RECENT.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    if let Some((_, d)) = recent().iter().find(|(k, _)| *k == id) {
        return d.clone();
    }
    // Fitted outside the lock: other variants' bands need not wait for this one.
    let d = Arc::new(embed::fitted_delta(rgb, width, height, quality, key, image_id));
    let mut kept = recent();
    kept.retain(|(k, _)| *k != id);
    kept.push((id, d.clone()));
    if kept.len() > RECENT_KEPT {
        kept.remove(0);
    }
    d
}

impl<'a> Marked<'a> {
    pub fn new(rgb: &'a [u8], width: u32, height: u32, quality: u8, key: &MarkKey, image_id: &str) -> Result<Marked<'a>, String> {
        if rgb.len() as u64 != u64::from(width) * u64::from(height) * 3 {
            return Err(format!("{} bytes are not a {width}×{height} RGB image", rgb.len()));
        }
        Ok(Marked { rgb, geometry: Geometry { width, height }, quality, delta: shared_delta(rgb, width, height, quality, key, image_id) })
    }

    /// The pixels of the copy `codeword` splices from the pair's `A` and `B`, before encoding:
    /// each chip's pixels exactly as `A`'s or `B`'s.
    pub fn copy(&self, codeword: &Codeword) -> Vec<u8> {
        let (g, w) = (self.geometry, self.geometry.width);
        let signed: Vec<f32> = self.delta.iter().enumerate().map(|(i, d)| d * codeword.sign(g.chip_at(i as u32 % w, i as u32 / w))).collect();
        embed::apply(self.rgb, &signed, 1.0)
    }

    /// The band of `codeword`'s copy with `text` stamped at `position` (see [`stamp_band`]).
    pub fn band(&self, codeword: &Codeword, text: &str, position: Position, font: &Font) -> Result<(Band, Vec<u8>), String> {
        let g = self.geometry;
        if codeword.len() != g.chips() {
            return Err(format!("the codeword has {} chips, the {}×{} image {}", codeword.len(), g.width, g.height, g.chips()));
        }
        let mut pixels = self.copy(codeword);
        let (top, bottom) = render(&mut pixels, g.width, g.height, text, position, font).ok_or_else(|| format!("the stamp \"{text}\" draws nothing (fix: give it visible text)"))?;
        // A tiled stamp's band is the whole image, wherever its first and last rows fall.
        let rows = match position {
            Position::Corner => g.band_start(top / MCU)..g.band_end(bottom.div_ceil(MCU)),
            Position::Tile => 0..g.mcu_rows(),
        };
        encode_band(&pixels, g, self.quality, rows)
    }
}

/// Encodes MCU rows `rows` (each starting a chip) of `pixels` as `encode_pair` encodes the
/// whole image, and renumbers the segments' restart markers to the full image's.
pub fn encode_band(pixels: &[u8], g: Geometry, quality: u8, rows: std::ops::Range<u32>) -> Result<(Band, Vec<u8>), String> {
    let mpr = g.mcus_per_row();
    if rows.is_empty() || rows.end > g.mcu_rows() || !(rows.start * mpr).is_multiple_of(RESTART_MCUS) || (rows.end < g.mcu_rows() && !(rows.end * mpr).is_multiple_of(RESTART_MCUS)) {
        return Err(format!("MCU rows {rows:?} do not start and end on chips"));
    }
    let (y0, y1) = (rows.start * MCU, (rows.end * MCU).min(g.height));
    let slice = &pixels[(y0 * g.width * 3) as usize..(y1 * g.width * 3) as usize];
    let jpeg = embed::encode_jpeg(slice, g.width, y1 - y0, quality)?;
    let (_, ranges) = split_segments(&jpeg).map_err(|e| e.to_string())?;
    let first = rows.start * mpr / RESTART_MCUS;
    let last_chip = g.chips() - 1;
    let (mut bytes, mut segments) = (Vec::new(), Vec::new());
    for (j, r) in ranges.iter().enumerate() {
        let chip = first + j as u32;
        let mut seg = jpeg[r.clone()].to_vec();
        let rst = 0xD0 + (chip % 8) as u8;
        let has_marker = seg.len() >= 2 && seg[seg.len() - 2] == 0xFF && (0xD0..=0xD7).contains(&seg[seg.len() - 1]);
        match (has_marker, chip == last_chip) {
            (true, _) => *seg.last_mut().expect("a marker") = rst,
            (false, false) => seg.extend_from_slice(&[0xFF, rst]),
            (false, true) => {}
        }
        segments.push((seg.len() as u32, crc32fast::hash(&seg)));
        bytes.extend_from_slice(&seg);
    }
    Ok((Band { first, segments }, bytes))
}

#[cfg(test)]
mod tests;
