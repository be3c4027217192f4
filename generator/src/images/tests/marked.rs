//! Marked pairs and stamped bands in the image step: planned without encoding, encoded into the
//! cache once, and spliced by the worker's rule into JPEGs that decode.

use super::*;
use crate::config::StampPosition;
use gatefold_contract::manifest::{MarkedPair, band_key};
use gatefold_contract::mark::{Band, Geometry, MarkIndex, MarkKey};

const GALLERY: &str = "launch";

/// A textured 640×400 photo stand-in (the mark hides in texture).
fn photo() -> Vec<u8> {
    let (w, h) = (640u32, 400u32);
    let data = (0..h)
        .flat_map(|y| (0..w).flat_map(move |x| [((x * 7 + y * 3) % 256) as u8, ((x ^ y) % 256) as u8, (((x * y) >> 4) % 256) as u8]))
        .collect();
    pixels::encode_jpeg(&pixels::Pixels { data, width: w, height: h, alpha: false }, 92).unwrap()
}

fn settings() -> Settings {
    Settings { widths: vec![320, 640], thumb_width: 100, ..Settings::default() }
}

fn key() -> MarkKey {
    MarkKey::from_secret("a test signing key that is long enough")
}

fn stamp(link: &str, text: &str, originals: bool) -> JobStamp {
    JobStamp { link: link.into(), id: stamp_id(&key(), GALLERY, link, text, StampPosition::Corner), text: text.into(), position: StampPosition::Corner, originals }
}

fn marked_job(ws: &Workspace, originals: bool, stamps: Vec<JobStamp>) -> Job {
    Job { mark: Some(JobMark { key: key(), originals, stamps }), ..ws.job("hero.jpg", &photo()) }
}

/// A link's copy of `pair` as the worker splices it.
fn splice(ws: &Workspace, pair: &MarkedPair, link: &str, width: u32, height: u32, band: Option<&str>) -> Vec<u8> {
    let index = MarkIndex::from_bytes(&ws.bytes(&pair.index)).unwrap();
    let bits = key().codeword(GALLERY, link, "hero", width, Geometry { width, height }.chips());
    let band_bytes = band.map(|stamp| ws.bytes(&band_key(pair, stamp)));
    // A band object: `Band::to_bytes` (12 bytes, then 8 per chip), then the segments.
    let band = band_bytes.as_ref().map(|b| {
        let head = 12 + u32::from_le_bytes(b[8..12].try_into().unwrap()) as usize * 8;
        (Band::from_bytes(&b[..head]).unwrap(), &b[head..])
    });
    index.splice(&ws.bytes(&pair.a), &ws.bytes(&pair.b), &bits, band.as_ref().map(|(b, s)| (b, *s))).unwrap()
}

#[test]
fn a_marked_gallery_gets_a_pair_for_each_jpeg_display_size_and_nothing_else() {
    let ws = Workspace::new();
    let p = &ws.run(&[marked_job(&ws, false, Vec::new())], &settings()).unwrap()[0];
    let marked: Vec<(u32, &str)> = p.variants.iter().filter(|v| v.marked.is_some()).map(|v| (v.width, v.content_type.as_str())).collect();
    assert_eq!(marked, vec![(640, "image/jpeg"), (320, "image/jpeg")], "JPEG display sizes only, no thumbnail, no WebP");
    assert!(p.original.marked.is_none(), "originals stay untouched unless a link marks them");
    for v in p.variants.iter().filter(|v| v.marked.is_some()) {
        let copy = splice(&ws, v.marked.as_ref().unwrap(), "dealers/shop-1", v.width, v.height, None);
        let img = image::load_from_memory(&copy).unwrap();
        assert_eq!((img.width(), img.height()), (v.width, v.height));
    }
}

#[test]
fn two_links_get_different_copies_of_one_pair() {
    let ws = Workspace::new();
    let p = &ws.run(&[marked_job(&ws, false, Vec::new())], &settings()).unwrap()[0];
    let v = p.variants.iter().find(|v| v.marked.is_some()).unwrap();
    let pair = v.marked.as_ref().unwrap();
    assert_ne!(splice(&ws, pair, "dealers/shop-1", v.width, v.height, None), splice(&ws, pair, "dealers/shop-2", v.width, v.height, None));
}

#[test]
fn an_unmarked_gallery_plans_no_marked_output() {
    let ws = Workspace::new();
    let p = &ws.run(&[ws.job("hero.jpg", &photo())], &settings()).unwrap()[0];
    assert!(p.variants.iter().all(|v| v.marked.is_none()) && p.original.marked.is_none());
    assert!(ws.objects.borrow().keys().all(|k| !k.starts_with("marked/")));
}

#[test]
fn originals_marked_make_a_full_size_pair_and_a_stamp_band_for_it() {
    let ws = Workspace::new();
    let job = marked_job(&ws, true, vec![stamp("press", "Press · 2026-12-07", true)]);
    let p = &ws.run(&[job], &settings()).unwrap()[0];
    let pair = p.original.marked.as_ref().expect("a marked original");
    assert!(pair.a.ends_with("-original.a.jpg"), "{}", pair.a);
    let id = stamp_id(&key(), GALLERY, "press", "Press · 2026-12-07", StampPosition::Corner);
    let copy = splice(&ws, pair, "press", p.width, p.height, Some(&id));
    let img = image::load_from_memory(&copy).unwrap().to_rgb8();
    assert_eq!((img.width(), img.height()), (640, 400));
}

#[test]
fn a_stamped_copy_differs_from_the_unstamped_one_only_near_its_corner() {
    let ws = Workspace::new();
    let s = stamp("dealers/shop-1", "上海店 · 2026-12-07", false);
    let p = &ws.run(&[marked_job(&ws, false, vec![s.clone()])], &settings()).unwrap()[0];
    let v = p.variants.iter().find(|v| v.width == 640 && v.marked.is_some()).unwrap();
    let pair = v.marked.as_ref().unwrap();
    let plain = image::load_from_memory(&splice(&ws, pair, &s.link, v.width, v.height, None)).unwrap().to_luma8();
    let stamped = image::load_from_memory(&splice(&ws, pair, &s.link, v.width, v.height, Some(&s.id))).unwrap().to_luma8();
    let differs = |y0: u32, y1: u32| (y0..y1).any(|y| (0..v.width).any(|x| plain.get_pixel(x, y) != stamped.get_pixel(x, y)));
    assert!(differs(v.height * 3 / 4, v.height), "the stamp is drawn at the bottom");
    assert!(!differs(0, v.height / 2), "above the band the copy is the pair's");
}

#[test]
fn planning_alone_knows_every_marked_key_and_a_later_encode_makes_exactly_them() {
    let ws = Workspace::new();
    let jobs = [marked_job(&ws, true, vec![stamp("a", "A", false)])];
    let planned = ws.plans(&jobs, &settings(), false).unwrap();
    let keys: Vec<String> = planned.objects().into_iter().map(|o| o.key).filter(|k| k.starts_with("marked/")).collect();
    // 2 display pairs + the original's, 3 objects each; the stamp's bands over the 2 display pairs.
    assert_eq!(keys.len(), 3 * 3 + 2, "{keys:?}");
    assert!(planned.objects().iter().filter(|o| o.key.starts_with("marked/")).all(|o| !o.file.exists()), "nothing encoded by a plan");
    assert_eq!(planned.encode(|_| true, &|_, _| {}).unwrap(), 1);
    assert!(planned.objects().iter().all(|o| o.file.is_file()), "every planned object encoded");
    let again = ws.plans(&jobs, &settings(), true).unwrap();
    assert_eq!(again.objects(), planned.objects(), "the same keys and files");
}

#[test]
fn a_new_stamped_link_encodes_its_bands_only_and_the_cache_keeps_the_rest() {
    let ws = Workspace::new();
    let first = ws.plans(&[marked_job(&ws, false, vec![stamp("a", "A", false)])], &settings(), true).unwrap();
    let pair_file = first.objects().into_iter().find(|o| o.key.ends_with(".a.jpg")).unwrap().file;
    let before = fs::metadata(&pair_file).unwrap().modified().unwrap();
    let outcomes = std::sync::Mutex::new(Vec::new());
    let jobs = [marked_job(&ws, false, vec![stamp("a", "A", false), stamp("b", "B", false)])];
    let second = process(&jobs, &settings(), &ws.root.join("cache"), true, &|_, o| outcomes.lock().unwrap().push(o)).unwrap();
    assert!(matches!(outcomes.lock().unwrap()[0], Outcome::Built(_)), "the new bands were made");
    assert_eq!(fs::metadata(&pair_file).unwrap().modified().unwrap(), before, "the pairs were not encoded again");
    assert_eq!(second.objects().iter().filter(|o| o.key.ends_with(".band")).count(), 4);
    let unmarked = process(&[ws.job("hero.jpg", &photo())], &settings(), &ws.root.join("cache"), true, &|_, _| {}).unwrap();
    assert!(!pair_file.exists(), "unmarking the gallery prunes its pairs");
    assert!(unmarked.objects().iter().all(|o| o.file.is_file()));
}
