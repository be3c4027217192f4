//! QR codes for share links: an SVG that scales to any print size and a PNG big enough for
//! posters and slides.
//!
//! Error correction is level Q (25 % of the code can be damaged) rather than the minimum M:
//! these codes end up printed on cards, table tents and packaging, where scuffs, folds and
//! glare are normal. The quiet zone is the standard 4 modules, which scanners need to find the
//! code on a busy background.

use anyhow::{Context, Result, bail};
use image::{ImageEncoder, Luma};
use qrcode::{EcLevel, QrCode};

const EC_LEVEL: EcLevel = EcLevel::Q;

/// Smallest PNG side accepted: below this a printed code loses sharpness.
pub const MIN_PNG_PX: u32 = 1024;

fn code(url: &str) -> Result<QrCode> {
    if url.is_empty() {
        bail!("cannot make a QR code for an empty URL");
    }
    QrCode::with_error_correction_level(url.as_bytes(), EC_LEVEL)
        .with_context(|| format!("encoding {url} as a QR code (is the URL too long?)"))
}

/// A standalone SVG document (XML declaration included) of the QR code for `url`, with a
/// `viewBox`, so it scales without loss; 8 px per module at its natural size.
pub fn svg(url: &str) -> Result<String> {
    let code = code(url)?;
    Ok(code
        .render::<qrcode::render::svg::Color<'_>>()
        .quiet_zone(true)
        .module_dimensions(8, 8)
        .dark_color(qrcode::render::svg::Color("#000000"))
        .light_color(qrcode::render::svg::Color("#ffffff"))
        .build())
}

/// The `<svg>` element alone, for embedding in an HTML page (no XML declaration).
pub fn inline_svg(url: &str) -> Result<String> {
    let doc = svg(url)?;
    let start = doc.find("<svg").context("the QR renderer produced no <svg> element")?;
    Ok(doc[start..].to_string())
}

/// A greyscale PNG of the QR code for `url`, at least `min_px` (and never less than
/// [`MIN_PNG_PX`]) pixels square, with whole pixels per module so edges stay crisp.
pub fn png(url: &str, min_px: u32) -> Result<Vec<u8>> {
    let code = code(url)?;
    let img = code
        .render::<Luma<u8>>()
        .quiet_zone(true)
        .min_dimensions(min_px.max(MIN_PNG_PX), min_px.max(MIN_PNG_PX))
        .build();
    let mut out = Vec::new();
    image::codecs::png::PngEncoder::new(&mut out)
        .write_image(img.as_raw(), img.width(), img.height(), image::ExtendedColorType::L8)
        .with_context(|| format!("encoding the QR code for {url} as PNG"))?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;
    use std::process::Command;

    const URL: &str = "https://gallery.example.com/s/abcdefghijklmnopqrstuvwxyz";

    /// Decodes every QR code in an image file with zbar (Debian `zbar-tools`).
    fn zbar(path: &Path) -> String {
        let out = Command::new("zbarimg")
            .args(["--raw", "-q"])
            .arg(path)
            .output()
            .expect("zbarimg runs (install Debian zbar-tools)");
        assert!(out.status.success(), "zbarimg found no code in {}", path.display());
        String::from_utf8(out.stdout).unwrap().trim_end().to_string()
    }

    #[test]
    fn the_png_is_at_least_1024_px_and_scans_back_to_the_url() {
        let bytes = png(URL, 1024).unwrap();
        let img = image::load_from_memory(&bytes).unwrap();
        assert!(img.width() >= 1024 && img.height() == img.width(), "{}x{}", img.width(), img.height());

        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("code.png");
        std::fs::write(&path, &bytes).unwrap();
        assert_eq!(zbar(&path), URL);
    }

    #[test]
    fn a_smaller_request_still_gets_a_printable_png() {
        let img = image::load_from_memory(&png(URL, 200).unwrap()).unwrap();
        assert!(img.width() >= MIN_PNG_PX);
    }

    #[test]
    fn the_png_keeps_a_quiet_zone_of_four_modules() {
        let img = image::load_from_memory(&png(URL, 1024).unwrap()).unwrap().to_luma8();
        let modules = code(URL).unwrap().width() as u32 + 8;
        let module_px = img.width() / modules;
        let border = 4 * module_px;
        for i in 0..img.width() {
            for j in 0..border {
                assert_eq!(img.get_pixel(i, j).0[0], 255, "top border at {i},{j}");
                assert_eq!(img.get_pixel(j, i).0[0], 255, "left border at {j},{i}");
            }
        }
    }

    #[test]
    fn the_svg_scales_and_scans_back_to_the_url() {
        let doc = svg(URL).unwrap();
        assert!(doc.contains("viewBox=\"0 0 "), "{doc}");
        let dir = tempfile::tempdir().unwrap();
        let svg_path = dir.path().join("code.svg");
        let png_path = dir.path().join("code.png");
        std::fs::write(&svg_path, &doc).unwrap();
        // libvips renders SVG through librsvg, the same library desktop viewers use.
        let status = Command::new("vips")
            .arg("copy")
            .arg(&svg_path)
            .arg(&png_path)
            .status()
            .expect("vips runs (install Debian libvips-tools)");
        assert!(status.success());
        assert_eq!(zbar(&png_path), URL);
    }

    #[test]
    fn inline_svg_has_no_xml_declaration() {
        let inline = inline_svg(URL).unwrap();
        assert!(inline.starts_with("<svg") && inline.ends_with("</svg>"));
    }

    #[test]
    fn error_correction_is_at_least_level_m() {
        assert!(code(URL).unwrap().error_correction_level() >= EcLevel::M);
    }

    #[test]
    fn an_empty_url_is_refused() {
        assert!(svg("").is_err());
    }
}
