//! `gatefold trace` on a built site: a leaked copy is named by its image and, when it came
//! through a marked link, by that link; exit 0 traced, 3 ours without a mark, 4 not ours.

use std::io::Cursor;
use std::path::Path;
use std::process::{Command, Output};

mod common;
use common::repo;

/// A photograph-like picture: smooth shapes, edges and fine texture (deterministic).
fn picture(w: u32, h: u32, seed: u32) -> image::RgbImage {
    let mut state = seed.wrapping_mul(2_654_435_761).wrapping_add(1);
    let mut noise = move || {
        state ^= state << 13;
        state ^= state >> 17;
        state ^= state << 5;
        (state % 1000) as f32 / 1000.0
    };
    let blobs: Vec<[f32; 4]> = (0..14).map(|_| [noise() * w as f32, noise() * h as f32, 30.0 + noise() * w as f32 / 4.0, noise() * 180.0 - 60.0]).collect();
    image::RgbImage::from_fn(w, h, |x, y| {
        let (fx, fy) = (x as f32, y as f32);
        let mut v = 90.0 + 40.0 * (fx / 41.0 + seed as f32).sin() * (fy / 57.0).cos();
        for b in &blobs {
            let d = ((fx - b[0]).powi(2) + (fy - b[1]).powi(2)).sqrt();
            if d < b[2] {
                v += b[3] * (1.0 - d / b[2]);
            }
        }
        v += 16.0 * ((fx * 0.9 + fy * 1.7).sin() * (fx * 2.3 - fy * 0.7 + seed as f32).cos());
        let v = v.clamp(0.0, 255.0);
        image::Rgb([v as u8, (v * 0.8 + 30.0).min(255.0) as u8, (255.0 - v * 0.6) as u8])
    })
}

fn jpeg(img: &image::DynamicImage, quality: u8) -> Vec<u8> {
    let mut out = Vec::new();
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, quality).encode_image(&img.to_rgb8()).unwrap();
    out
}

/// A site of two galleries of 1280×853 pictures, one link each.
fn site() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let g = dir.path().join("galleries");
    std::fs::create_dir_all(g.join("launch")).unwrap();
    std::fs::create_dir_all(g.join("archive")).unwrap();
    std::fs::write(g.join("site.yaml"), "title: Trace test\nbase_url: https://images.example.com/\ndefault_locale: en\ntimezone: Asia/Shanghai\nimages:\n  widths: [640, 1280]\n  thumbnail: 200\n").unwrap();
    std::fs::write(
        g.join("launch/gallery.yaml"),
        "title: Launch\nimages:\n  - hero.jpg\n  - side.jpg\nlinks:\n  press:\n    label: Press\n  dealer-a:\n    label: Dealer A\n    mark:\n      forensic: true\n  dealer-b:\n    label: Dealer B\n    mark: true\n",
    )
    .unwrap();
    std::fs::write(g.join("archive/gallery.yaml"), "title: Archive\nimages:\n  - old.jpg\nlinks:\n  team:\n    label: Team\n").unwrap();
    for (path, seed) in [("launch/hero.jpg", 1), ("launch/side.jpg", 2), ("archive/old.jpg", 3)] {
        std::fs::write(g.join(path), jpeg(&image::DynamicImage::ImageRgb8(picture(1280, 853, seed)), 92)).unwrap();
    }
    dir
}

fn trace(root: &Path, files: &[&Path], json: bool) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_gatefold"));
    cmd.arg("--galleries").arg(root.join("galleries")).arg("trace").arg("--themes").arg(repo().join("themes"));
    if json {
        cmd.arg("--json");
    }
    cmd.args(files).current_dir(root).env_remove("GATEFOLD_GALLERIES").env_remove("SIGNING_KEY").env_remove("GATEFOLD_ADMIN_TOKEN").env_remove("RETIRED_SIGNING_KEYS");
    cmd.output().unwrap()
}

/// The copy of `image`'s `width` px variant a marked link's visitor gets, spliced from the
/// build's pair as the worker splices it.
fn served_copy(root: &Path, image: &str, width: u32, link: &str) -> Vec<u8> {
    use gatefold_contract::mark::{Geometry, MarkIndex};
    let out = Command::new(env!("CARGO_BIN_EXE_gatefold"))
        .arg("--galleries")
        .arg(root.join("galleries"))
        .args(["build", "--themes"])
        .arg(repo().join("themes"))
        .arg("--out")
        .arg(root.join("dist"))
        .current_dir(root)
        .env_remove("SIGNING_KEY")
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
    let manifest: gatefold_contract::Manifest = serde_json::from_slice(&std::fs::read(root.join("dist/manifest.json")).unwrap()).unwrap();
    let objects: Vec<serde_json::Value> = serde_json::from_slice(&std::fs::read(root.join("dist/objects.json")).unwrap()).unwrap();
    let file = |key: &str| std::fs::read(objects.iter().find(|o| o["key"] == key).and_then(|o| o["file"].as_str()).unwrap_or_else(|| panic!("{key} in objects.json"))).unwrap();
    let gallery = &manifest.galleries["launch"];
    let variant = gallery.image(image).unwrap().variants.iter().find(|v| v.width == width && v.marked.is_some()).expect("a marked variant");
    let pair = variant.marked.as_ref().unwrap();
    let index = MarkIndex::from_bytes(&file(&pair.index)).unwrap();
    let key = gatefold_contract::SigningKey::from_secret(gatefold_contract::token::DEV_SECRET);
    let geometry = Geometry { width: variant.width, height: variant.height };
    let bits = key.mark_key().codeword("launch", link, image, width, geometry.chips());
    index.splice(&file(&pair.a), &file(&pair.b), &bits, None).unwrap()
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[test]
fn a_resized_re_encoded_copy_of_an_image_no_marked_link_sees_is_named_and_exits_3() {
    let root = site();
    let source = image::load_from_memory(&std::fs::read(root.path().join("galleries/archive/old.jpg")).unwrap()).unwrap();
    let leak = root.path().join("leak.jpg");
    std::fs::write(&leak, jpeg(&source.resize(700, 700, image::imageops::FilterType::Triangle), 60)).unwrap();
    let out = trace(root.path(), &[&leak], false);
    assert_eq!(out.status.code(), Some(3), "{}\n{}", text(&out.stdout), text(&out.stderr));
    let said = text(&out.stdout);
    assert!(said.contains("one of this site's images") && said.contains("archive/old (old.jpg)"), "{said}");
    assert!(said.contains("gallery archive has no marked link"), "{said}");
}

#[test]
fn a_picture_from_elsewhere_is_not_ours_and_exits_4() {
    let root = site();
    let leak = root.path().join("elsewhere.png");
    let mut png = Cursor::new(Vec::new());
    image::DynamicImage::ImageRgb8(picture(900, 600, 77)).write_to(&mut png, image::ImageFormat::Png).unwrap();
    std::fs::write(&leak, png.into_inner()).unwrap();
    let out = trace(root.path(), &[&leak], true);
    assert_eq!(out.status.code(), Some(4), "{}\n{}", text(&out.stdout), text(&out.stderr));
    let findings: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(findings[0]["verdict"], "not_ours", "{findings}");
    assert!(findings[0].get("image").is_none());
}

#[test]
fn a_file_that_is_no_image_is_an_error_naming_it() {
    let root = site();
    let leak = root.path().join("notes.txt");
    std::fs::write(&leak, "not a picture").unwrap();
    let out = trace(root.path(), &[&leak], false);
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stderr).contains("notes.txt"), "{}", text(&out.stderr));
}

#[test]
fn a_marked_copy_downscaled_cropped_and_re_encoded_is_traced_to_its_link() {
    let root = site();
    let copy = image::load_from_memory(&served_copy(root.path(), "hero", 1280, "dealer-b")).unwrap();
    let (w, h) = (768, 512);
    let leak = copy.resize_exact(w, h, image::imageops::FilterType::Triangle).crop_imm(30, 20, w - 70, h - 45);
    let file = root.path().join("leak.jpg");
    std::fs::write(&file, jpeg(&leak, 70)).unwrap();
    let out = trace(root.path(), &[&file], false);
    assert_eq!(out.status.code(), Some(0), "{}\n{}", text(&out.stdout), text(&out.stderr));
    let said = text(&out.stdout);
    assert!(said.contains("traced to launch/dealer-b (Dealer B)"), "{said}");
    assert!(said.contains("history:    not read: set GATEFOLD_ADMIN_TOKEN"), "{said}");

    let out = trace(root.path(), &[&file], true);
    let findings: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let f = &findings[0];
    assert_eq!(f["verdict"], "identified");
    assert_eq!(f["link"]["id"], "launch/dealer-b");
    assert!(f["best_score"].as_f64().unwrap() > f["threshold"].as_f64().unwrap());
    assert!(f["runner_up"].as_f64().unwrap() < f["threshold"].as_f64().unwrap(), "{f}");
}

#[test]
fn a_smaller_variants_copy_is_traced_and_an_unmarked_copy_of_a_marked_image_exits_3() {
    let root = site();
    let small = root.path().join("small.png");
    let mut png = Cursor::new(Vec::new());
    image::load_from_memory(&served_copy(root.path(), "side", 640, "dealer-a")).unwrap().write_to(&mut png, image::ImageFormat::Png).unwrap();
    std::fs::write(&small, png.into_inner()).unwrap();
    // The unmarked display variant the press link gets, re-encoded.
    let source = image::load_from_memory(&std::fs::read(root.path().join("galleries/launch/side.jpg")).unwrap()).unwrap();
    let plain = root.path().join("plain.jpg");
    std::fs::write(&plain, jpeg(&source.resize(1280, 1280, image::imageops::FilterType::Lanczos3), 80)).unwrap();
    let out = trace(root.path(), &[&small, &plain], true);
    assert_eq!(out.status.code(), Some(3), "the highest status of the two: {}\n{}", text(&out.stdout), text(&out.stderr));
    let findings: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(findings[0]["link"]["id"], "launch/dealer-a", "{findings}");
    assert_eq!(findings[0]["link"]["variant"], 640);
    assert_eq!(findings[1]["verdict"], "no_mark", "{findings}");
    assert_eq!(findings[1]["image"]["image"], "side");
}

#[test]
fn marks_made_before_a_key_rotation_are_read_with_the_retired_key() {
    let root = site();
    let copy = served_copy(root.path(), "hero", 1280, "dealer-a");
    let file = root.path().join("before-rotation.jpg");
    std::fs::write(&file, jpeg(&image::load_from_memory(&copy).unwrap(), 85)).unwrap();
    // The site's key is rotated: builds and traces now use another secret.
    std::fs::write(root.path().join(".dev.vars"), "SIGNING_KEY=a rotated secret that is long enough to sign\n").unwrap();
    let out = trace(root.path(), &[&file], true);
    assert_eq!(out.status.code(), Some(3), "the new key cannot read the old mark: {}\n{}", text(&out.stdout), text(&out.stderr));

    let mut cmd = Command::new(env!("CARGO_BIN_EXE_gatefold"));
    cmd.arg("--galleries").arg(root.path().join("galleries")).arg("trace").arg("--themes").arg(repo().join("themes")).arg("--json").arg(&file);
    cmd.current_dir(root.path()).env_remove("GATEFOLD_GALLERIES").env_remove("SIGNING_KEY").env_remove("GATEFOLD_ADMIN_TOKEN");
    let out = cmd.env("RETIRED_SIGNING_KEYS", gatefold_contract::token::DEV_SECRET).output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}\n{}", text(&out.stdout), text(&out.stderr));
    let findings: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(findings[0]["link"]["id"], "launch/dealer-a", "{findings}");
    assert_eq!(findings[0]["link"]["key_id"], gatefold_contract::SigningKey::dev().mark_key().id(), "{findings}");
}
