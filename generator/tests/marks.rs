//! `mark:` from gallery.yaml to the built site: what each link publishes, the marked pairs and
//! bands the image step lists, the marked links' pages, and the no-op rebuild, on the `marks`
//! fixture site (a site default, an opted-out link, an audience with stamped recipients and
//! marked originals, a tiled stamp, an animation, and an unmarked gallery).

use gatefold::build::{BuildOptions, ImageMode, Object, build, materialize};
use gatefold_contract::manifest::{self, Manifest, PageMode, VariantRole};
use gatefold_contract::page::PageTemplate;
use gatefold_contract::{Locale, SigningKey};
use std::collections::BTreeSet;
use std::path::Path;

mod common;
use common::{options, project};

fn read_manifest(dist: &Path) -> Manifest {
    Manifest::from_json(&std::fs::read_to_string(dist.join(manifest::MANIFEST_FILE)).unwrap()).unwrap()
}

fn read_objects(dist: &Path) -> Vec<Object> {
    serde_json::from_slice(&std::fs::read(dist.join("objects.json")).unwrap()).unwrap()
}

/// The key the test build signs with: `SIGNING_KEY` when the environment has one, else the
/// development key.
fn signing_key() -> SigningKey {
    std::env::var("SIGNING_KEY").ok().filter(|k| !k.is_empty()).map_or_else(SigningKey::dev, |k| SigningKey::from_secret(&k))
}

fn page(dist: &Path, path: &str) -> String {
    let json = std::fs::read_to_string(dist.join("site").join(path.trim_start_matches('/'))).unwrap_or_else(|e| panic!("{path}: {e}"));
    PageTemplate::from_json(&json).unwrap().html
}

#[test]
fn each_link_publishes_the_mark_in_force_for_it() {
    let root = project("marks");
    let opts = options(root.path());
    build(&opts).unwrap();
    let m = read_manifest(&opts.out);
    let launch = &m.galleries["launch"];
    let mark = |link: &str| launch.links[link].mark.clone();
    let key_id = signing_key().mark_key().id().to_string();
    let market = mark("market").expect("the site's default marks a link without its own");
    assert_eq!((market.key_id.as_str(), market.stamp.as_deref(), market.originals), (key_id.as_str(), None, false));
    assert_eq!(mark("agency"), None, "`mark: false` opts out of the site's default");
    let (one, two) = (mark("dealers/shop-1").unwrap(), mark("dealers/shop-2").unwrap());
    assert!(one.originals && two.originals, "recipients inherit their audience's mark");
    assert_ne!(one.stamp, two.stamp, "each recipient's stamp is their own");
    assert!(mark("board").unwrap().stamp.is_some());
    assert!(m.galleries["plain"].links["press"].mark.is_none());
}

#[test]
fn a_marked_gallery_lists_pairs_and_bands_and_every_one_is_in_objects_json() {
    let root = project("marks");
    let opts = options(root.path());
    let report = build(&opts).unwrap();
    let m = read_manifest(&opts.out);
    for image in &m.galleries["launch"].images {
        for v in &image.variants {
            let should = !image.animated && v.role == VariantRole::Display && v.content_type == "image/jpeg";
            assert_eq!(v.marked.is_some(), should, "{} {} {}", image.id, v.width, v.content_type.as_str());
        }
        assert_eq!(image.original.marked.is_some(), !image.animated, "a link marks originals: every still's original is paired");
    }
    assert!(m.galleries["plain"].images.iter().all(|i| i.marked_pairs().next().is_none()), "an unmarked gallery has no pairs");
    let listed: BTreeSet<String> = read_objects(&opts.out).into_iter().map(|o| o.key).collect();
    let wanted = m.r2_keys();
    assert_eq!(listed, wanted, "objects.json is exactly the manifest's R2 keys");
    assert_eq!(report.site.r2_keys(), wanted);
    // Bands: the two recipients' over every display pair and the originals', the tiled link's
    // over the display pairs only (it does not mark originals).
    let pairs = m.galleries["launch"].images.iter().flat_map(|i| &i.variants).filter(|v| v.marked.is_some()).count();
    let originals = m.galleries["launch"].images.iter().filter(|i| i.original.marked.is_some()).count();
    assert_eq!(wanted.iter().filter(|k| k.ends_with(".band")).count(), 2 * (pairs + originals) + pairs);
    for o in read_objects(&opts.out).iter().filter(|o| o.key.starts_with("marked/")) {
        assert!(o.file.is_file(), "{} is in the cache", o.key);
        let expected = if o.key.ends_with(".jpg") { "image/jpeg" } else { "application/octet-stream" };
        assert_eq!(o.content_type, expected, "{}", o.key);
    }
}

#[test]
fn marked_links_get_a_page_of_their_own_naming_only_marked_jpegs() {
    let root = project("marks");
    let opts = options(root.path());
    build(&opts).unwrap();
    let m = read_manifest(&opts.out);
    for locale in Locale::ALL {
        let marked = page(&opts.out, &manifest::marked_page_path("launch", PageMode::Original, locale));
        let unmarked = page(&opts.out, &manifest::page_path("launch", PageMode::Original, locale));
        for image in &m.galleries["launch"].images {
            for v in &image.variants {
                let allowed = v.marked.is_some() || image.animated;
                assert_eq!(marked.contains(&v.file), allowed, "{} on the marked page", v.file);
            }
        }
        assert!(unmarked.contains(".webp"), "the unmarked page keeps its WebP sources");
        assert!(!Path::new(&opts.out.join("site").join(manifest::page_path("launch", PageMode::View, locale).trim_start_matches('/'))).exists(), "no unmarked link views only");
    }
}

#[test]
fn a_rebuild_without_changes_writes_nothing_and_marking_a_link_later_makes_only_what_is_new() {
    let root = project("marks");
    let opts = options(root.path());
    build(&opts).unwrap();
    let again = build(&opts).unwrap();
    assert!(again.unchanged, "a no-op build with marks writes nothing");
    assert_eq!(again.encoded_images, 0);
    let yaml = root.path().join("galleries/plain/gallery.yaml");
    std::fs::write(&yaml, std::fs::read_to_string(&yaml).unwrap().replace("mark: false", "mark:\n      visible: \"{label}\"")).unwrap();
    let marked = build(&opts).unwrap();
    assert!(!marked.unchanged);
    let press = read_manifest(&opts.out).galleries["plain"].links["press"].mark.clone().unwrap();
    assert!(press.stamp.is_some());
    assert!(read_objects(&opts.out).iter().all(|o| o.file.is_file()));
}

#[test]
fn publish_materializes_marked_objects_from_a_plan_only_build() {
    let root = project("marks");
    let opts = BuildOptions { images: ImageMode::PlanOnly, ..options(root.path()) };
    let report = build(&opts).unwrap();
    assert_eq!(report.encoded_images, 0);
    let bands: BTreeSet<String> = report.site.r2_keys().into_iter().filter(|k| k.ends_with(".band")).take(2).collect();
    let got = materialize(&opts, &report, &bands).unwrap();
    assert_eq!(got.objects.iter().map(|o| o.key.clone()).collect::<BTreeSet<_>>(), bands);
    assert!(got.objects.iter().all(|o| o.file.is_file()));
}
