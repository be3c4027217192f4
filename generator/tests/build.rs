//! The built site, from fixture galleries into temporary directories.

use gatefold::build::{BuildOptions, ImageMode, Object, build, materialize};
use gatefold_contract::manifest::{self, GalleryIndex, GalleryRecord, Manifest, PageMode, SiteRecord, TokenShard};
use gatefold_contract::page::{PageLink, PageTemplate};
use gatefold_contract::{Denial, LinkPolicy, Locale};
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

mod common;
use common::{copy_tree, options, project, repo};

fn read_manifest(dist: &Path) -> Manifest {
    Manifest::from_json(&std::fs::read_to_string(dist.join(manifest::MANIFEST_FILE)).unwrap()).unwrap()
}

fn read_objects(dist: &Path) -> Vec<Object> {
    serde_json::from_slice(&std::fs::read(dist.join("objects.json")).unwrap()).unwrap()
}

fn read_record<T: serde::de::DeserializeOwned + manifest::HasFormat>(dist: &Path, contract_path: &str) -> T {
    manifest::read_record(contract_path, &std::fs::read_to_string(site_file(dist, contract_path)).unwrap()).unwrap()
}

fn site_file(dist: &Path, contract_path: &str) -> PathBuf {
    dist.join("site").join(contract_path.trim_start_matches('/'))
}

#[test]
fn building_the_good_site_writes_records_page_templates_and_owner_kits_and_lists_every_object() {
    let root = project("good");
    let opts = options(root.path());
    build(&opts).unwrap();
    let dist = &opts.out;
    let m = read_manifest(dist);
    assert!(!m.galleries.is_empty());
    let objects = read_objects(dist);
    let listed: BTreeSet<&str> = objects.iter().map(|o| o.key.as_str()).collect();
    assert_eq!(listed.len(), objects.len(), "each object once");
    for o in &objects {
        assert!(o.file.is_absolute() && o.file.is_file(), "{} at {}", o.key, o.file.display());
        assert!(o.file.starts_with(std::path::absolute(&opts.cache).unwrap()), "{} is read from the image cache", o.key);
    }
    for g in m.galleries.values() {
        for locale in Locale::ALL {
            assert!(site_file(dist, &manifest::preview_path(&g.id, locale)).is_file());
            let used: BTreeSet<PageMode> = g.links.values().map(|l| PageMode::of(&l.policy)).collect();
            for mode in PageMode::ALL {
                let path = site_file(dist, &manifest::page_path(&g.id, mode, locale));
                if !used.contains(&mode) {
                    assert!(!path.exists(), "no link of {} uses {mode:?}, so its page is not rendered", g.id);
                    continue;
                }
                let json = std::fs::read_to_string(path).unwrap();
                let template = PageTemplate::from_json(&json).unwrap();
                assert_eq!((template.locale, template.timezone.as_str()), (locale, m.site.timezone.as_str()));
            }
        }
        for img in &g.images {
            let original = objects.iter().find(|o| o.key == img.original.key).unwrap();
            let bytes = std::fs::read(&original.file).unwrap();
            assert_eq!((bytes.len() as u64, crc32fast::hash(&bytes)), (img.original.size, img.original.crc32), "{}", img.id);
            assert_eq!(original.content_type, img.original.content_type.as_str());
            for v in &img.variants {
                let object = objects.iter().find(|o| o.key == v.key).unwrap_or_else(|| panic!("variant {} is not listed", v.key));
                if v.content_type == "image/avif" {
                    // The `image` crate here reads no AVIF; the pipeline's own tests check its size.
                    assert_eq!(&std::fs::read(&object.file).unwrap()[4..12], b"ftypavif", "{}", v.key);
                } else {
                    assert_eq!(image::image_dimensions(&object.file).unwrap(), (v.width, v.height), "{}", v.key);
                }
                assert!(v.file.starts_with(&format!("{}-", img.id)), "{} names its image in the URL", v.file);
            }
            assert!(img.variants.iter().any(|v| v.full_size), "{} has a full-size variant", img.id);
        }
        for l in g.links.values() {
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
fn the_records_are_the_manifests_records_and_no_image_or_manifest_is_deployed() {
    let root = project("good");
    let opts = options(root.path());
    build(&opts).unwrap();
    let dist = &opts.out;
    let records = read_manifest(dist).records();
    assert_eq!(read_record::<SiteRecord>(dist, manifest::SITE_PATH), records.site);
    for (n, shard) in records.shards.iter().enumerate() {
        assert_eq!(&read_record::<TokenShard>(dist, &manifest::token_shard_path(n as u8)), shard);
    }
    for g in &records.galleries {
        assert_eq!(&read_record::<GalleryRecord>(dist, &manifest::gallery_record_path(&g.gallery.id)), g);
    }
    assert_eq!(read_record::<GalleryIndex>(dist, manifest::GALLERY_INDEX_PATH), records.index);
    let json = std::fs::read_to_string(dist.join(manifest::MANIFEST_FILE)).unwrap();
    assert!(!json.contains("\n  "), "the manifest is written compactly");

    assert!(!dist.join("originals").exists());
    // Display images and originals are R2 objects now: the private tree holds JSON and HTML.
    for entry in walkdir::WalkDir::new(dist.join("site/_gatefold")) {
        let path = entry.unwrap().into_path();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        let ext = path.extension().map(|e| e.to_string_lossy().into_owned()).unwrap_or_default();
        assert!(path.is_dir() || ["json", "html", "css"].contains(&ext.as_str()), "{} is deployed", path.display());
        assert_ne!(name, manifest::MANIFEST_FILE, "{} is deployed", path.display());
    }
}

#[test]
fn site_json_names_the_signing_key_by_its_fingerprint_never_by_the_key() {
    let root = project("good");
    let secret = "a-local-signing-key-for-this-test-only-0123456789";
    std::fs::write(root.path().join(".dev.vars"), format!("SIGNING_KEY={secret}\n")).unwrap();
    let opts = options(root.path());
    build(&opts).unwrap();
    // SIGNING_KEY in the environment wins over .dev.vars, as it does for every build.
    let used = std::env::var("SIGNING_KEY").ok().filter(|k| !k.is_empty()).unwrap_or_else(|| secret.to_string());
    let record: SiteRecord = read_record(&opts.out, manifest::SITE_PATH);
    assert_eq!(record.site.key_fingerprint, gatefold_contract::SigningKey::from_secret(&used).fingerprint());
    assert_ne!(record.site.key_fingerprint, gatefold_contract::SigningKey::dev().fingerprint());
    let text = std::fs::read_to_string(site_file(&opts.out, manifest::SITE_PATH)).unwrap();
    assert!(!text.contains(&used), "the key itself is nowhere in site.json");
}

#[test]
fn check_counts_exactly_the_files_a_build_deploys() {
    // `good` uses two download modes, `e2e` all four in one gallery and fewer in others.
    for fixture in ["good", "e2e"] {
        let root = project(fixture);
        let opts = options(root.path());
        build(&opts).unwrap();
        let deployed = walkdir::WalkDir::new(opts.out.join("site")).into_iter().filter(|e| e.as_ref().unwrap().file_type().is_file()).count();
        let (project, _) = gatefold::build::load(&opts.galleries, &opts.themes, false, 1_790_000_000).unwrap();
        assert_eq!(gatefold::build::deployed_files(&project, &opts.themes).unwrap(), deployed, "{fixture}");
    }
}

/// The text of the QR code in a PNG, read by zbarimg (an independent decoder).
fn decode_qr(png: &Path) -> String {
    let out = std::process::Command::new("zbarimg").args(["--quiet", "--raw"]).arg(png).output().expect("zbarimg (Debian zbar-tools) runs");
    assert!(out.status.success(), "zbarimg could not read {}: {}", png.display(), String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap().trim().to_string()
}

#[test]
fn a_recipient_list_of_200_dealers_builds_one_link_qr_code_and_mail_merge_row_each() {
    let root = project("e2e");
    let opts = options(root.path());
    build(&opts).unwrap();
    let m = read_manifest(&opts.out);
    let g = &m.galleries["launch-a"];
    let terms = &g.audiences["channel"].terms;
    assert!(terms.terms_fingerprint.is_some(), "an audience's terms carry their fingerprint");
    let terms = LinkPolicy { max_views: Some(20), terms_fingerprint: terms.terms_fingerprint.clone(), ..LinkPolicy::default() };
    assert_eq!(g.audiences["channel"], manifest::Audience { label: "渠道伙伴".into(), recipients: 200, terms });
    let dealers: Vec<&manifest::Link> = g.links.values().filter(|l| l.audience() == Some("channel")).collect();
    assert_eq!(dealers.len(), 200);
    assert_eq!(BTreeSet::from_iter(dealers.iter().map(|l| &l.token)).len(), 200, "every recipient has a token of its own");
    let d7 = &g.links["channel/dealer-007"];
    assert_eq!((d7.label.as_str(), d7.policy.max_views, g.links["channel/dealer-008"].policy.max_views), ("经销商 007", Some(2), Some(20)));
    assert!(g.links["press/xinhua"].policy.password && !g.links["team"].policy.password);

    let owner = opts.out.join("owner");
    for name in ["channel/dealer-001", "channel/dealer-007", "channel/dealer-200", "press/xinhua"] {
        let png = owner.join(format!("qr/launch-a/{name}.png"));
        assert_eq!(decode_qr(&png), manifest::link_url(&m.site.base_url, &g.links[name].token), "{name}");
        assert!(owner.join(format!("cards/launch-a/{name}.html")).is_file(), "{name} has a card");
    }

    let csv = std::fs::read_to_string(owner.join("mail-merge/launch-a.csv")).unwrap();
    let mut reader = csv::Reader::from_reader(csv.trim_start_matches('\u{feff}').as_bytes());
    let rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    assert_eq!(rows.iter().filter(|r| &r[1] == "channel").count(), 200, "one row per dealer");
    assert_eq!(rows.len(), 202, "and the two press recipients; the plain link `team` has no row");
    let first = &rows[0];
    assert_eq!((&first[0], &first[2], &first[3]), ("launch-a/channel/dealer-001", "经销商 001", "dealer001@dealers.example"));
    assert_eq!(&first[4], manifest::link_url(&m.site.base_url, &g.links["channel/dealer-001"].token));
    assert_eq!(&first[5], "qr/launch-a/channel/dealer-001.png");
    assert!(!owner.join("mail-merge/kit.csv").exists(), "a gallery without audiences has no mail-merge file");

    let kit = std::fs::read_to_string(owner.join("share-kit/launch-a.en.txt")).unwrap();
    assert!(kit.contains("200 recipients") && !kit.contains("dealer-001"), "the share kit names the audience, not 200 links:\n{kit}");

    // The overview folds each audience's recipients under one line the owner opens.
    let index = std::fs::read_to_string(owner.join("index.html")).unwrap();
    let channel = &index[index.find("id=\"audience-launch-a-channel\"").expect("the channel audience folds its recipients")..];
    let channel = &channel[..channel.find("</details>").unwrap()];
    assert!(channel.contains("200 recipients") && channel.contains("qr/launch-a/channel/dealer-200.svg"), "{channel:.400}");
    let outside = index.replace(channel, "");
    assert!(!outside.contains("qr/launch-a/channel/") && outside.contains("qr/launch-a/team.svg"), "recipients only inside their audience");
}

#[test]
fn a_filled_page_template_is_the_page_a_visitor_of_that_link_gets() {
    let root = project("good");
    let opts = options(root.path());
    build(&opts).unwrap();
    let m = read_manifest(&opts.out);
    let (g, l) = m.galleries.values().flat_map(|g| g.links.values().map(move |l| (g, l))).find(|(_, l)| l.policy.download.original).unwrap();
    let path = manifest::page_path(&g.id, PageMode::of(&l.policy), Locale::En);
    let template = PageTemplate::from_json(&std::fs::read_to_string(site_file(&opts.out, &path)).unwrap()).unwrap();
    let page = template
        .fill(&PageLink { token: &l.token, label: &l.label, expiry: None, view_seconds: Some(90), session_expires_at: 1_900_000_000 })
        .unwrap();
    assert!(!page.contains("{{gf:"), "every placeholder is filled");
    for img in &g.images {
        for v in &img.variants {
            assert!(page.contains(&manifest::image_path(&l.token, &v.file)), "{} is shown from the link's URL", v.file);
        }
        assert!(page.contains(&manifest::download_path(&l.token, &img.id)));
    }
    assert!(page.contains("<meta name=\"gatefold-view-seconds\" content=\"90\">"));
    assert!(page.contains("<meta name=\"gatefold-session-expires\" content=\"1900000000\">"));
}

#[test]
fn a_gallery_opens_on_the_cover_its_yaml_names_else_on_its_first_image() {
    let root = project("good");
    let opts = options(root.path());
    build(&opts).unwrap();
    let m = read_manifest(&opts.out);
    // The position of the image shown large above the grid, on each page of the gallery.
    let covers = |gallery: &str| -> Vec<Option<usize>> {
        let g = &m.galleries[gallery];
        g.links.values().map(|l| {
            let path = manifest::page_path(&g.id, PageMode::of(&l.policy), Locale::En);
            let html = PageTemplate::from_json(&std::fs::read_to_string(site_file(&opts.out, &path)).unwrap()).unwrap().html;
            let figure = html.split_once("<figure class=\"gf-cover\">").map(|(_, rest)| rest.split_once("</figure>").unwrap().0.to_string());
            figure.map(|f| f.split_once("data-index=\"").unwrap().1.split_once('"').unwrap().0.parse().unwrap())
        }).collect()
    };
    let mood = m.galleries["launch"].images.iter().position(|i| i.file_name == "mood.webp").unwrap();
    assert!(covers("launch").iter().all(|c| *c == Some(mood)), "`cover: mood.webp`: {:?}", covers("launch"));
    assert_eq!(covers("preview"), [Some(0)], "no `cover:`: the first image, as galleries/README.md promises");
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
    // Tokens must not leak into public files, nor into the page templates shared by every link.
    let m = read_manifest(&opts.out);
    let tokens: Vec<&str> = m.galleries.values().flat_map(|g| g.links.values().map(|l| l.token.as_str())).collect();
    let shared = [opts.out.join("site/assets"), opts.out.join("site/_gatefold/pages")];
    for entry in shared.iter().flat_map(walkdir::WalkDir::new) {
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

/// The inode of a built file: a reused file is a hard link to the previous build's.
fn inode(path: &Path) -> u64 {
    use std::os::unix::fs::MetadataExt;
    std::fs::metadata(path).unwrap_or_else(|e| panic!("{}: {e}", path.display())).ino()
}

#[test]
fn a_rebuild_reuses_the_files_of_unchanged_galleries_and_renders_changed_ones_again() {
    let root = project("good");
    let mut opts = options(root.path());
    let themes = root.path().join("themes");
    copy_tree(&repo().join("themes"), &themes);
    opts.themes = themes.clone();
    build(&opts).unwrap();
    let page = |g: &str| site_file(&opts.out, &manifest::page_path(g, PageMode::View, Locale::En));
    let kit = |g: &str| site_file(&opts.out, &gatefold_contract::owner::kit_path(g, Locale::En));
    let (launch_page, launch_kit, preview_page) = (inode(&page("launch")), inode(&kit("launch")), inode(&page("preview")));

    let yaml = opts.galleries.join("preview/gallery.yaml");
    let text = std::fs::read_to_string(&yaml).unwrap().replace("title: Internal preview", "title: Internal preview, second round");
    std::fs::write(&yaml, text).unwrap();
    build(&opts).unwrap();
    assert_eq!(inode(&page("launch")), launch_page, "an unchanged gallery's page is the previous build's file");
    assert_eq!(inode(&kit("launch")), launch_kit, "and so is its owner kit");
    assert_ne!(inode(&page("preview")), preview_page, "a changed gallery is rendered again");
    assert!(std::fs::read_to_string(page("preview")).unwrap().contains("second round"));
    assert!(opts.out.join("owner/qr/launch").read_dir().unwrap().count() > 0, "reused owner files are in place");

    // A theme change touches every gallery's pages.
    let strings = themes.join("default/strings/en.yaml");
    std::fs::write(&strings, std::fs::read_to_string(&strings).unwrap() + "\n# edited\n").unwrap();
    build(&opts).unwrap();
    assert_ne!(inode(&page("launch")), launch_page, "a new theme renders every gallery again");
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
    let manifest_path = opts.out.join(manifest::MANIFEST_FILE);
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
    let manifest_path = opts.out.join(manifest::MANIFEST_FILE);
    let good = std::fs::read(&manifest_path).unwrap();
    // A theme without templates fails in the render step, after images were processed.
    let broken_themes = root.path().join("broken-themes/default");
    std::fs::create_dir_all(&broken_themes).unwrap();
    let err = build(&BuildOptions { themes: root.path().join("broken-themes"), ..opts.clone() }).unwrap_err();
    assert!(format!("{err:#}").contains("theme"), "{err:#}");
    assert_eq!(std::fs::read(&manifest_path).unwrap(), good);
}

/// Every file under `dir` with its length and modification time.
fn snapshot(dir: &Path) -> Vec<(PathBuf, u64, std::time::SystemTime)> {
    walkdir::WalkDir::new(dir)
        .sort_by_file_name()
        .into_iter()
        .map(|e| e.unwrap())
        .filter(|e| e.file_type().is_file())
        .map(|e| {
            let meta = e.metadata().unwrap();
            (e.into_path(), meta.len(), meta.modified().unwrap())
        })
        .collect()
}

#[test]
fn a_plan_only_build_encodes_nothing_and_materialize_encodes_only_the_images_owning_the_keys_asked_for() {
    let root = project("good");
    let encoded = options(root.path());
    let full = build(&encoded).unwrap();
    let opts = BuildOptions { out: root.path().join("planned"), cache: root.path().join("plan-cache"), images: ImageMode::PlanOnly, ..encoded.clone() };
    let report = build(&opts).unwrap();
    assert_eq!(report.encoded_images, 0);
    assert!(!opts.out.join("objects.json").exists(), "nothing encoded, nothing to list");
    assert_eq!(read_manifest(&opts.out), read_manifest(&encoded.out), "planning alone gives the manifest encoding gives");
    assert_eq!(report.site.r2_keys(), read_objects(&encoded.out).into_iter().map(|o| o.key).collect(), "every object the full build listed");
    assert_eq!(full.encoded_images, full.images);

    let plans = &report.plans.images;
    let (a, b) = (&plans[0].processed, &plans[1].processed);
    let wanted: BTreeSet<String> = [a.original.key.clone(), b.variants[0].key.clone()].into();
    let dist_before = snapshot(&opts.out);
    let got = materialize(&opts, &report, &wanted).unwrap();
    assert_eq!(got.encoded_images, 2);
    assert_eq!(got.objects.iter().map(|o| o.key.clone()).collect::<BTreeSet<_>>(), wanted);
    for o in &got.objects {
        let made = std::fs::read(&o.file).unwrap();
        let same = read_objects(&encoded.out).into_iter().find(|e| e.key == o.key).unwrap();
        assert_eq!(made, std::fs::read(&same.file).unwrap(), "{} is the file a full build makes", o.key);
    }
    for other in &plans[2..] {
        assert!(other.objects(report.plans.cache()).iter().all(|o| !o.file.exists()), "{} was not asked for", other.job.file_name);
    }
    assert_eq!(snapshot(&opts.out), dist_before, "dist/ is untouched");
    assert_eq!(materialize(&opts, &report, &wanted).unwrap().encoded_images, 0, "now cached");

    let err = format!("{:#}", materialize(&opts, &report, &BTreeSet::from(["display/0000000000000000-1.webp".to_string()])).unwrap_err());
    assert!(err.contains("display/0000000000000000-1.webp") && err.contains("not objects of this build"), "{err}");
}

#[test]
fn a_gallery_with_preview_image_cover_gets_one_small_jpeg_of_its_cover_named_by_its_own_bytes() {
    use gatefold_contract::preview::PreviewPage;
    let root = project("e2e");
    let opts = options(root.path());
    build(&opts).unwrap();
    let files: Vec<PathBuf> = walkdir::WalkDir::new(opts.out.join("site/assets/preview")).into_iter().map(|e| e.unwrap()).filter(|e| e.file_type().is_file()).map(|e| e.into_path()).collect();
    assert_eq!(files.len(), 1, "one gallery opted in: {files:?}");
    let bytes = std::fs::read(&files[0]).unwrap();
    let hash = &blake3::hash(&bytes).to_hex()[..32];
    let preview = |gallery: &str| PreviewPage::from_json(&std::fs::read_to_string(site_file(&opts.out, &manifest::preview_path(gallery, Locale::En))).unwrap()).unwrap();
    let image = preview("chat-cover").card.image.expect("the cover gallery's card has an image");
    assert_eq!(image.path, format!("/assets/preview/{hash}.jpg"), "named by the hash of its own bytes");
    assert_eq!(site_file(&opts.out, &image.path), files[0]);
    // interior.jpg is 640×800: the preview is 600 px wide, upright, a JPEG.
    assert_eq!((image.width, image.height), (600, 750));
    assert_eq!(image::image_dimensions(&files[0]).unwrap(), (600, 750));
    assert_eq!(image::guess_format(&bytes).unwrap(), image::ImageFormat::Jpeg);
    assert!(preview("chat-card").card.image.is_none() && preview("showroom").card.image.is_none(), "only the gallery that opted in");
    // Made for previews only: no R2 object of the site has these bytes.
    for o in read_objects(&opts.out) {
        assert_ne!(std::fs::read(&o.file).unwrap(), bytes, "{} is the preview", o.key);
    }
    // The same source gives the same file from a fresh cache: the URL stays put.
    let again = options(root.path());
    let again = BuildOptions { cache: root.path().join("another-cache"), out: root.path().join("dist-2"), ..again };
    build(&again).unwrap();
    assert!(again.out.join("site").join(image.path.trim_start_matches('/')).is_file());
}
