//! The built site, from fixture galleries into temporary directories.

use gatefold::build::{BuildOptions, build};
use gatefold::cli::Progress;
use gatefold_contract::manifest::{self, Manifest};
use gatefold_contract::{Denial, Locale};
use std::path::{Path, PathBuf};

mod common;
use common::{copy_tree, repo};

/// Copies a fixture site into a temp project so a test can change it.
fn project(fixture: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    copy_tree(&repo().join("tests/fixtures/sites").join(fixture), &dir.path().join("galleries"));
    dir
}

fn options(root: &Path) -> BuildOptions {
    BuildOptions {
        themes: repo().join("themes"),
        progress: Progress::Quiet,
        now: Some(1_790_000_000),
        ..BuildOptions::for_project(root)
    }
}

fn read_manifest(dist: &Path) -> Manifest {
    let path = dist.join("site").join(manifest::MANIFEST_PATH.trim_start_matches('/'));
    Manifest::from_json(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn site_file(dist: &Path, contract_path: &str) -> PathBuf {
    dist.join("site").join(contract_path.trim_start_matches('/'))
}

#[test]
fn building_the_good_site_writes_pages_images_originals_and_owner_kits() {
    let root = project("good");
    let opts = options(root.path());
    build(&opts).unwrap();
    let dist = &opts.out;
    let m = read_manifest(dist);
    assert!(!m.galleries.is_empty());
    for g in m.galleries.values() {
        for locale in Locale::ALL {
            assert!(site_file(dist, &manifest::preview_path(&g.id, locale)).is_file());
        }
        for img in &g.images {
            assert!(dist.join("originals").join(&img.original.key).is_file(), "original {}", img.original.key);
            for v in &img.variants {
                assert!(site_file(dist, &manifest::gallery_asset_path(&g.id, &v.file)).is_file(), "variant {}", v.file);
            }
            assert!(img.variants.iter().any(|v| v.full_size), "{} has a full-size variant", img.id);
        }
        for l in g.links.values() {
            for locale in Locale::ALL {
                let page = std::fs::read_to_string(site_file(dist, &manifest::page_path(&g.id, &l.name, locale))).unwrap();
                assert!(page.contains(manifest::SESSION_EXPIRES_PLACEHOLDER));
            }
            for ext in ["svg", "png"] {
                assert!(dist.join(format!("owner/qr/{}/{}.{ext}", g.id, l.name)).is_file());
            }
            assert!(dist.join(format!("owner/cards/{}/{}.html", g.id, l.name)).is_file());
        }
    }
    for d in Denial::ALL {
        assert!(site_file(dist, &manifest::denial_path(d, Locale::ZhCn)).is_file());
    }
}

#[test]
fn the_deployed_tree_holds_only_private_files_and_public_theme_assets() {
    let root = project("good");
    let opts = options(root.path());
    build(&opts).unwrap();
    let top: Vec<String> = std::fs::read_dir(opts.out.join("site"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    let mut top = top;
    top.sort();
    assert_eq!(top, ["_gatefold", "assets"]);
    // Tokens must not leak into public files.
    let m = read_manifest(&opts.out);
    let tokens: Vec<&str> = m.galleries.values().flat_map(|g| g.links.values().map(|l| l.token.as_str())).collect();
    for entry in walkdir::WalkDir::new(opts.out.join("site/assets")) {
        let entry = entry.unwrap();
        if entry.file_type().is_file() {
            let bytes = std::fs::read(entry.path()).unwrap();
            let text = String::from_utf8_lossy(&bytes);
            for t in &tokens {
                assert!(!text.contains(t), "{} leaks a token", entry.path().display());
            }
        }
    }
}

#[test]
fn rebuilding_without_changes_gives_the_same_manifest() {
    let root = project("good");
    let opts = options(root.path());
    let first = build(&opts).unwrap().site.manifest();
    let second = build(&opts).unwrap().site.manifest();
    assert_eq!(first, second);
}

#[test]
fn replacing_images_keeps_every_url() {
    let root = project("good");
    let opts = options(root.path());
    let before = build(&opts).unwrap().site.manifest();
    // New content under the same names: every still PNG and JPEG re-encoded with its colours inverted.
    let mut replaced = Vec::new();
    for g in before.galleries.values() {
        for img in g.images.iter().filter(|i| !i.animated) {
            let format = match img.original.content_type.as_str() {
                "image/jpeg" => image::ImageFormat::Jpeg,
                "image/png" => image::ImageFormat::Png,
                _ => continue,
            };
            let path = opts.galleries.join(&g.id).join(&img.file_name);
            let mut pixels = image::open(&path).unwrap().to_rgb8();
            image::imageops::invert(&mut pixels);
            pixels.save_with_format(&path, format).unwrap();
            replaced.push((g.id.clone(), img.id.clone(), img.original.key.clone()));
        }
    }
    assert!(replaced.len() >= 2, "the fixture needs still PNG or JPEG images to replace");
    let after = build(&opts).unwrap().site.manifest();
    let tokens = |m: &Manifest| -> Vec<(String, String, String)> {
        m.galleries.values().flat_map(|g| g.links.values().map(|l| (g.id.clone(), l.name.clone(), l.token.clone()))).collect()
    };
    assert_eq!(tokens(&before), tokens(&after));
    for (gallery, image, old_key) in replaced {
        let new_key = &after.galleries[&gallery].image(&image).unwrap().original.key;
        assert_ne!(new_key, &old_key, "{gallery}/{image} was replaced, so its original is new");
    }
}

#[test]
fn a_failed_build_leaves_the_last_good_dist_untouched() {
    let root = project("good");
    let opts = options(root.path());
    build(&opts).unwrap();
    let manifest_path = opts.out.join("site").join(manifest::MANIFEST_PATH.trim_start_matches('/'));
    let good = std::fs::read(&manifest_path).unwrap();

    std::fs::write(opts.galleries.join("site.yaml"), "title: [unclosed\n").unwrap();
    let err = build(&opts).unwrap_err();
    assert!(format!("{err:#}").contains("site.yaml"), "{err:#}");

    assert_eq!(std::fs::read(&manifest_path).unwrap(), good);
    let leftovers: Vec<_> = std::fs::read_dir(root.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with("dist."))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}

#[test]
fn a_build_that_fails_late_also_leaves_dist_untouched() {
    let root = project("good");
    let opts = options(root.path());
    build(&opts).unwrap();
    let manifest_path = opts.out.join("site").join(manifest::MANIFEST_PATH.trim_start_matches('/'));
    let good = std::fs::read(&manifest_path).unwrap();
    // A theme without templates fails in the render step, after images were processed.
    let broken_themes = root.path().join("broken-themes/default");
    std::fs::create_dir_all(&broken_themes).unwrap();
    let err = build(&BuildOptions { themes: root.path().join("broken-themes"), ..opts.clone() }).unwrap_err();
    assert!(format!("{err:#}").contains("theme"), "{err:#}");
    assert_eq!(std::fs::read(&manifest_path).unwrap(), good);
}
