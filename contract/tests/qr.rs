//! Real scanners read the contract's QR codes back to the URL: zbar for both forms, the SVG
//! rendered by libvips (librsvg, as desktop viewers do). The owner kit and the admin API draw
//! these codes ([`gatefold_contract::qr`]); the contract itself does no I/O, so the scanners are
//! run here, beside it.

use gatefold_contract::qr::{png, svg};
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
fn the_png_keeps_a_quiet_zone_of_four_modules() {
    let img = image::load_from_memory(&png(URL, 1024).unwrap()).unwrap().to_luma8();
    let modules = gatefold_contract::qr::code(URL).unwrap().width() as u32 + 8;
    let module_px = img.width() / modules;
    let border = 4 * module_px;
    for i in 0..img.width() {
        for j in 0..border {
            assert_eq!(img.get_pixel(i, j).0[0], 255, "top border at {i},{j}");
            assert_eq!(img.get_pixel(j, i).0[0], 255, "left border at {j},{i}");
        }
    }
    assert_eq!(img.get_pixel(border, border).0[0], 0, "the finder pattern starts after the quiet zone");
}

#[test]
fn the_svg_scans_back_to_the_url() {
    let dir = tempfile::tempdir().unwrap();
    let svg_path = dir.path().join("code.svg");
    let png_path = dir.path().join("code.png");
    std::fs::write(&svg_path, svg(URL).unwrap()).unwrap();
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
