//! The one definition of a link's QR code: the generator's owner kit and the worker's admin API
//! draw the same code from the same URL.
//!
//! Error correction is level Q (25 % of the code can be damaged) rather than the minimum M:
//! these codes end up printed on cards, table tents and packaging, where scuffs, folds and
//! glare are normal. The quiet zone is the standard 4 modules (what `qrcode` draws for a full
//! QR code), which scanners need to find the code on a busy background.
//!
//! Both forms are drawn by `qrcode`'s renderer: SVG with its SVG canvas, PNG on a one-bit
//! canvas here that `png` encodes (greyscale, 1 bit per pixel: a 1 000 px code is a few KB).

use qrcode::render::{Canvas, Pixel};
use qrcode::{EcLevel, QrCode};
use std::fmt;

pub const EC_LEVEL: EcLevel = EcLevel::Q;
/// Modules of white border around the code, on each side.
pub const QUIET_ZONE_MODULES: u32 = 4;
/// Smallest PNG side drawn: below this a printed code loses sharpness.
pub const MIN_PNG_PX: u32 = 1024;
/// Pixels per module of the SVG at its natural size (it scales: it has a `viewBox`).
const SVG_MODULE_PX: u32 = 8;

/// Why no code could be drawn.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum QrError {
    EmptyUrl,
    /// The URL does not fit in a QR code at level Q.
    TooLong { url: String, reason: String },
    Png(String),
}

impl fmt::Display for QrError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            QrError::EmptyUrl => write!(f, "cannot make a QR code for an empty URL"),
            QrError::TooLong { url, reason } => write!(f, "cannot encode {url} as a QR code ({reason}): is the URL too long?"),
            QrError::Png(e) => write!(f, "encoding a QR code as PNG: {e}"),
        }
    }
}

impl std::error::Error for QrError {}

/// The code of `url`, at level [`EC_LEVEL`].
pub fn code(url: &str) -> Result<QrCode, QrError> {
    if url.is_empty() {
        return Err(QrError::EmptyUrl);
    }
    QrCode::with_error_correction_level(url.as_bytes(), EC_LEVEL)
        .map_err(|e| QrError::TooLong { url: url.to_string(), reason: e.to_string() })
}

/// A standalone SVG document (XML declaration included) of the QR code for `url`, with a
/// `viewBox`, so it scales without loss.
pub fn svg(url: &str) -> Result<String, QrError> {
    use qrcode::render::svg::Color;
    Ok(code(url)?
        .render::<Color<'_>>()
        .quiet_zone(true)
        .module_dimensions(SVG_MODULE_PX, SVG_MODULE_PX)
        .dark_color(Color("#000000"))
        .light_color(Color("#ffffff"))
        .build())
}

/// The `<svg>` element alone, for embedding in an HTML page (no XML declaration).
pub fn inline_svg(url: &str) -> Result<String, QrError> {
    let doc = svg(url)?;
    let start = doc.find("<svg").expect("qrcode's SVG canvas writes an <svg> element");
    Ok(doc[start..].to_string())
}

/// A PNG of the QR code for `url`, at least `min_px` (and never less than [`MIN_PNG_PX`])
/// pixels square, whole pixels per module so edges stay crisp.
#[cfg(feature = "png")]
pub fn png(url: &str, min_px: u32) -> Result<Vec<u8>, QrError> {
    let side = min_px.max(MIN_PNG_PX);
    let bits = code(url)?.render::<Bit>().quiet_zone(true).min_dimensions(side, side).build();
    let mut out = Vec::new();
    let mut encoder = png::Encoder::new(&mut out, bits.width, bits.height);
    encoder.set_color(png::ColorType::Grayscale);
    encoder.set_depth(png::BitDepth::One);
    // zlib-level deflate: the smallest file; the WASM costs the same at every level.
    encoder.set_compression(png::Compression::Balanced);
    let png_error = |e: png::EncodingError| QrError::Png(e.to_string());
    let mut writer = encoder.write_header().map_err(png_error)?;
    writer.write_image_data(&bits.rows).map_err(png_error)?;
    writer.finish().map_err(png_error)?;
    Ok(out)
}

/// One pixel of a one-bit image: `true` is dark.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Bit(pub bool);

/// A one-bit greyscale image as PNG stores it: rows of `ceil(width / 8)` bytes, most
/// significant bit first, 1 = white.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bitmap {
    pub width: u32,
    pub height: u32,
    pub rows: Vec<u8>,
}

impl Bitmap {
    fn stride(&self) -> usize {
        self.width.div_ceil(8) as usize
    }

    /// Whether the pixel at (`x`, `y`) is dark.
    pub fn is_dark(&self, x: u32, y: u32) -> bool {
        let byte = self.rows[y as usize * self.stride() + (x / 8) as usize];
        byte & (0x80 >> (x % 8)) == 0
    }
}

impl Pixel for Bit {
    type Image = Bitmap;
    type Canvas = Bitmap;

    fn default_unit_size() -> (u32, u32) {
        (1, 1)
    }

    fn default_color(color: qrcode::Color) -> Bit {
        Bit(color == qrcode::Color::Dark)
    }
}

impl Canvas for Bitmap {
    type Pixel = Bit;
    type Image = Bitmap;

    fn new(width: u32, height: u32, _dark: Bit, _light: Bit) -> Bitmap {
        let stride = width.div_ceil(8) as usize;
        Bitmap { width, height, rows: vec![0xff; stride * height as usize] }
    }

    fn draw_dark_pixel(&mut self, x: u32, y: u32) {
        let i = y as usize * self.stride() + (x / 8) as usize;
        self.rows[i] &= !(0x80 >> (x % 8));
    }

    fn into_image(self) -> Bitmap {
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const URL: &str = "https://gallery.example.com/s/abcdefghijklmnopqrstuvwxyz";

    fn bitmap(px: u32) -> Bitmap {
        code(URL).unwrap().render::<Bit>().quiet_zone(true).min_dimensions(px, px).build()
    }

    #[test]
    fn the_code_uses_level_q() {
        assert_eq!(code(URL).unwrap().error_correction_level(), EcLevel::Q);
    }

    #[test]
    fn the_bitmap_is_square_at_least_as_big_as_asked_and_keeps_a_four_module_quiet_zone() {
        let bits = bitmap(MIN_PNG_PX);
        assert!(bits.width >= MIN_PNG_PX && bits.height == bits.width, "{}x{}", bits.width, bits.height);
        let modules = code(URL).unwrap().width() as u32 + 2 * QUIET_ZONE_MODULES;
        assert_eq!(bits.width % modules, 0, "whole pixels per module");
        let border = QUIET_ZONE_MODULES * bits.width / modules;
        for i in 0..bits.width {
            for j in 0..border {
                assert!(!bits.is_dark(i, j) && !bits.is_dark(j, i), "border pixel {i},{j} is dark");
            }
        }
        // The finder pattern's corner starts right after the quiet zone.
        assert!(bits.is_dark(border, border) && !bits.is_dark(border - 1, border));
    }

    #[test]
    fn the_svg_scales_and_draws_the_same_module_grid() {
        let doc = svg(URL).unwrap();
        let side = (code(URL).unwrap().width() as u32 + 2 * QUIET_ZONE_MODULES) * SVG_MODULE_PX;
        assert!(doc.contains(&format!("viewBox=\"0 0 {side} {side}\"")), "{doc}");
    }

    #[test]
    fn inline_svg_has_no_xml_declaration() {
        let inline = inline_svg(URL).unwrap();
        assert!(inline.starts_with("<svg") && inline.ends_with("</svg>"));
    }

    #[cfg(feature = "png")]
    #[test]
    fn the_png_is_a_one_bit_greyscale_image_of_at_least_1024_px() {
        let bytes = png(URL, 200).unwrap();
        assert_eq!(&bytes[..8], b"\x89PNG\r\n\x1a\n");
        // IHDR: width, height, bit depth 1, colour type 0 (greyscale).
        let width = u32::from_be_bytes(bytes[16..20].try_into().unwrap());
        assert!(width >= MIN_PNG_PX, "{width}");
        assert_eq!((bytes[24], bytes[25]), (1, 0));
        assert!(bytes.len() < 32 * 1024, "{} bytes", bytes.len());
    }

    #[test]
    fn an_empty_or_oversized_url_is_refused_with_a_reason() {
        assert_eq!(svg("").unwrap_err(), QrError::EmptyUrl);
        let long = format!("https://g.example/{}", "x".repeat(5000));
        assert!(svg(&long).unwrap_err().to_string().contains("too long"));
    }
}
