//! Pipeline tests on images made here, so every property is checked against a known input.

use super::container::{self, KeptExif};
use super::*;
use super::encode;
use gatefold_contract::manifest::VariantRole;
use std::cell::RefCell;
use std::collections::{BTreeMap, HashSet};
use std::fs;
use std::path::{Path, PathBuf};

const RED: [u8; 3] = [220, 30, 30];
const BLUE: [u8; 3] = [30, 30, 220];

/// Stored 400×200: left half red, right half blue.
fn halves(w: u32, h: u32) -> pixels::Pixels {
    let data = (0..h).flat_map(|_| (0..w).flat_map(move |x| if x < w / 2 { RED } else { BLUE })).collect();
    pixels::Pixels { data, width: w, height: h, alpha: false }
}

/// EXIF with orientation, a GPS block (latitude ref + a map datum we can find by bytes) and
/// a copyright.
fn exif_with_gps(orientation: u16) -> Vec<u8> {
    let mut t = b"II*\0".to_vec();
    t.extend_from_slice(&8u32.to_le_bytes());
    // IFD0 at 8: 3 entries → 2 + 36 + 4 = 42 bytes → GPS IFD at 50, copyright text after it.
    let gps_at = 8 + 2 + 3 * 12 + 4;
    let gps_len = 2 + 2 * 12 + 4;
    let datum_at = gps_at + gps_len;
    let datum = b"SECRETPLACE\0";
    let copyright_at = datum_at + datum.len();
    let copyright = b"(c) Brand\0";
    let entry = |t: &mut Vec<u8>, tag: u16, typ: u16, count: u32, value: u32| {
        t.extend_from_slice(&tag.to_le_bytes());
        t.extend_from_slice(&typ.to_le_bytes());
        t.extend_from_slice(&count.to_le_bytes());
        t.extend_from_slice(&value.to_le_bytes());
    };
    t.extend_from_slice(&3u16.to_le_bytes());
    entry(&mut t, 0x0112, 3, 1, u32::from(orientation));
    entry(&mut t, 0x8298, 2, copyright.len() as u32, copyright_at as u32);
    entry(&mut t, 0x8825, 4, 1, gps_at as u32);
    t.extend_from_slice(&0u32.to_le_bytes());
    t.extend_from_slice(&2u16.to_le_bytes());
    entry(&mut t, 0x0001, 2, 2, u32::from_le_bytes(*b"N\0\0\0"));
    entry(&mut t, 0x0012, 2, datum.len() as u32, datum_at as u32);
    t.extend_from_slice(&0u32.to_le_bytes());
    t.extend_from_slice(datum);
    t.extend_from_slice(copyright);
    t
}

/// A JPEG with the given APP1 EXIF (and optional ICC APP2) spliced in after SOI.
fn jpeg_with(p: &pixels::Pixels, exif: Option<&[u8]>, icc: Option<&[u8]>) -> Vec<u8> {
    let plain = pixels::encode_jpeg(p, 95).unwrap();
    let mut out = plain[..2].to_vec();
    if let Some(tiff) = exif {
        out.extend_from_slice(&[0xFF, 0xE1]);
        out.extend_from_slice(&((tiff.len() + 8) as u16).to_be_bytes());
        out.extend_from_slice(b"Exif\0\0");
        out.extend_from_slice(tiff);
    }
    if let Some(icc) = icc {
        out.extend_from_slice(&[0xFF, 0xE2]);
        out.extend_from_slice(&((icc.len() + 16) as u16).to_be_bytes());
        out.extend_from_slice(b"ICC_PROFILE\0\x01\x01");
        out.extend_from_slice(icc);
    }
    out.extend_from_slice(&plain[2..]);
    out
}

struct Workspace {
    _dir: tempfile::TempDir,
    root: PathBuf,
    /// R2 key → cached file, of every run so far (keys are content-addressed).
    objects: RefCell<BTreeMap<String, PathBuf>>,
}

impl Workspace {
    fn new() -> Workspace {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().to_path_buf();
        Workspace { _dir: dir, root, objects: RefCell::default() }
    }
    fn source(&self, name: &str, data: &[u8]) -> PathBuf {
        let path = self.root.join("src").join(name);
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        fs::write(&path, data).unwrap();
        path
    }
    /// A job for a file as the load would hand it over: probed when it was checked.
    fn job(&self, name: &str, data: &[u8]) -> Job {
        let source = self.source(name, data);
        let probe = probe(&source, &Limits::default()).unwrap();
        Job { gallery: "launch".into(), image_id: name.split('.').next().unwrap().into(), source, file_name: name.into(), probe, mark: None }
    }
    fn plans(&self, jobs: &[Job], settings: &Settings, encode: bool) -> anyhow::Result<Plans> {
        let plans = process(jobs, settings, &self.root.join("cache"), encode, &|_, _| {})?;
        self.objects.borrow_mut().extend(plans.objects().into_iter().map(|o| (o.key, o.file)));
        Ok(plans)
    }
    /// A build's image step: every image planned and encoded.
    fn run(&self, jobs: &[Job], settings: &Settings) -> anyhow::Result<Vec<Processed>> {
        Ok(self.plans(jobs, settings, true)?.images.into_iter().map(|p| p.processed).collect())
    }
    /// The bytes of an R2 object a run listed.
    fn bytes(&self, key: &str) -> Vec<u8> {
        let file = self.objects.borrow().get(key).cloned().unwrap_or_else(|| panic!("no object {key}"));
        fs::read(&file).unwrap_or_else(|e| panic!("reading {}: {e}", file.display()))
    }
    fn cache_entries(&self) -> Vec<PathBuf> {
        let mut v: Vec<PathBuf> = fs::read_dir(self.root.join("cache")).unwrap().map(|e| e.unwrap().path()).filter(|p| p.is_dir()).collect();
        v.sort();
        v
    }
}

fn small_settings() -> Settings {
    Settings { widths: vec![100, 160], thumb_width: 50, ..Settings::default() }
}

fn rgb_at(img: &image::RgbImage, x: u32, y: u32) -> [u8; 3] {
    img.get_pixel(x, y).0
}

fn close(a: [u8; 3], b: [u8; 3], tolerance: i32) -> bool {
    a.iter().zip(b).all(|(x, y)| (i32::from(*x) - i32::from(y)).abs() <= tolerance)
}

#[test]
fn exif_orientation_is_applied_to_every_variant() {
    let site = Workspace::new();
    let jpeg = jpeg_with(&halves(400, 200), Some(&exif_with_gps(6)), None);
    let out = site.run(&[site.job("photo.jpg", &jpeg)], &small_settings()).unwrap();
    let p = &out[0];
    assert_eq!((p.width, p.height), (200, 400), "stored 400×200 turned 90° is 200 wide");
    for v in &p.variants {
        let img = image::load_from_memory(&site.bytes(&v.key)).unwrap().to_rgb8();
        assert_eq!((img.width(), img.height()), (v.width, v.height), "{}", v.file);
        assert_eq!(v.height, v.width * 2, "{} keeps the upright 1:2 shape", v.file);
        // Orientation 6: the stored left (red) half is on top once upright.
        assert!(close(rgb_at(&img, v.width / 2, 2), RED, 40), "{} top is red", v.file);
        assert!(close(rgb_at(&img, v.width / 2, v.height - 3), BLUE, 40), "{} bottom is blue", v.file);
    }
}

#[test]
fn gps_is_stripped_from_every_output_while_the_original_keeps_orientation_and_copyright() {
    let site = Workspace::new();
    let tiff = exif_with_gps(6);
    let fixture = exif::Reader::new().read_raw(tiff.clone()).unwrap();
    assert!(fixture.fields().any(|f| f.ifd_num == exif::In::PRIMARY && f.tag == exif::Tag::GPSLatitudeRef), "the fixture has GPS");
    let jpeg = jpeg_with(&halves(400, 200), Some(&tiff), None);
    assert!(jpeg.windows(11).any(|w| w == b"SECRETPLACE"));
    let out = site.run(&[site.job("photo.jpg", &jpeg)], &small_settings()).unwrap();
    let p = &out[0];
    let mut files: Vec<(String, Vec<u8>)> = p.variants.iter().map(|v| (v.file.clone(), site.bytes(&v.key))).collect();
    files.push((p.original.key.clone(), site.bytes(&p.original.key)));
    for (name, bytes) in &files {
        assert!(!bytes.windows(11).any(|w| w == b"SECRETPLACE"), "{name} still holds the GPS block");
        let format = if name.ends_with(".webp") { SourceFormat::WebP } else { SourceFormat::Jpeg };
        if let Some(exif) = container::layout(format, bytes).unwrap().exif {
            let parsed = exif::Reader::new().read_raw(exif).unwrap();
            assert!(parsed.fields().all(|f| !format!("{:?}", f.tag).starts_with("GPS")), "{name} has GPS tags");
        }
    }
    let original = site.bytes(&p.original.key);
    let kept = container::read_exif(&container::layout(SourceFormat::Jpeg, &original).unwrap().exif.unwrap());
    assert_eq!(kept, KeptExif { orientation: 6, copyright: Some("(c) Brand".into()) });
    assert_eq!(p.original.size, original.len() as u64);
    assert!(p.original.key.starts_with("originals/") && p.original.key.ends_with(".jpg"), "{}", p.original.key);
    assert_eq!(p.original.crc32, crc32fast::hash(&original), "the CRC-32 a ZIP of originals uses");
}

#[test]
fn only_the_widest_display_webp_uses_the_fast_method() {
    let top = Some(1920);
    assert_eq!(encode::webp_method(VariantRole::Display, 1920, top), 2, "the widest size is ~3/4 of the encode time");
    assert_eq!(encode::webp_method(VariantRole::Display, 960, top), 3);
    assert_eq!(encode::webp_method(VariantRole::Display, 480, top), 3);
    assert_eq!(encode::webp_method(VariantRole::Thumb, 360, top), 3);
    assert_eq!(encode::webp_method(VariantRole::Thumb, 300, Some(300)), 3, "a thumbnail as wide as a tiny source's display is still a thumbnail");
    assert_eq!(encode::webp_method(VariantRole::Display, 1500, Some(1500)), 2, "a source's own width, when widest");
}

#[test]
fn sources_are_never_upscaled() {
    assert_eq!(encode::display_widths(&Settings::default(), 4000), vec![480, 960, 1920]);
    assert_eq!(encode::display_widths(&Settings::default(), 1000), vec![480, 960], "1000 is too close to 960 to add");
    assert_eq!(encode::display_widths(&Settings::default(), 1500), vec![480, 960, 1500], "its own width beats showing 960");
    assert_eq!(encode::display_widths(&Settings::default(), 300), vec![300]);

    let site = Workspace::new();
    let mut png = Vec::new();
    image::RgbImage::from_pixel(80, 40, image::Rgb(RED)).write_to(&mut std::io::Cursor::new(&mut png), image::ImageFormat::Png).unwrap();
    let out = site.run(&[site.job("small.png", &png)], &small_settings()).unwrap();
    let widths: HashSet<u32> = out[0].variants.iter().map(|v| v.width).collect();
    assert_eq!(widths, HashSet::from([80, 50]), "one display at source size plus the thumbnail");
    let full: Vec<_> = out[0].variants.iter().filter(|v| v.full_size).collect();
    assert_eq!(full.len(), 2, "the WebP and JPEG of the largest size are full size");
    assert!(full.iter().all(|v| v.width == 80 && v.role == VariantRole::Display));
}

#[test]
fn an_animated_gif_stays_animated() {
    use image::codecs::gif::{GifEncoder, Repeat};
    let mut gif = Vec::new();
    {
        let mut enc = GifEncoder::new(&mut gif);
        enc.set_repeat(Repeat::Infinite).unwrap();
        for c in [RED, BLUE, [30, 200, 30]] {
            let frame = image::RgbaImage::from_pixel(60, 40, image::Rgba([c[0], c[1], c[2], 255]));
            enc.encode_frame(image::Frame::new(frame)).unwrap();
        }
    }
    let site = Workspace::new();
    let out = site.run(&[site.job("spin.gif", &gif)], &small_settings()).unwrap();
    let p = &out[0];
    assert!(p.animated);
    let display: Vec<_> = p.variants.iter().filter(|v| v.role == VariantRole::Display).collect();
    assert_eq!(display.len(), 1);
    assert_eq!(display[0].content_type, "image/webp", "an animated WebP of its own");
    assert!(display[0].full_size);
    let shown = site.bytes(&display[0].key);
    assert_eq!(pixels::decode_all_frames(SourceFormat::WebP, &shown).unwrap(), 3);
    assert_ne!(shown, site.bytes(&p.original.key), "never the original's bytes: only a download gives those");
    assert!(p.variants.iter().any(|v| v.role == VariantRole::Thumb && v.content_type == "image/webp"), "a still thumbnail");
}

/// A GIF of `frames` small frames, each its own colour.
fn many_frame_gif(frames: u8, width: u32, height: u32) -> Vec<u8> {
    use image::codecs::gif::{GifEncoder, Repeat};
    let mut gif = Vec::new();
    {
        let mut enc = GifEncoder::new(&mut gif);
        enc.set_repeat(Repeat::Infinite).unwrap();
        for i in 0..frames {
            let frame = image::RgbaImage::from_pixel(width, height, image::Rgba([i.wrapping_mul(37), 255 - i, i, 255]));
            enc.encode_frame(image::Frame::new(frame)).unwrap();
        }
    }
    gif
}

#[test]
fn an_animation_whose_frames_pass_the_budget_stops_decoding_and_is_shown_still() {
    use super::animation::{Failed, encode_webp};
    // 200 frames of 16×8: 512 bytes each at the display size. A budget of 40 frames stops the
    // decoding at the 41st; the real budget (256 MB) holds them all.
    let gif = many_frame_gif(200, 16, 8);
    let layout = container::Layout { animated: true, ..Default::default() };
    let frame_bytes = 16 * 8 * 4;
    assert_eq!(encode_webp(SourceFormat::Gif, &gif, &layout, 1, 16, 8, 80, 2, 40 * frame_bytes), Err(Failed::OverBudget { frames: 41 }));
    let whole = encode_webp(SourceFormat::Gif, &gif, &layout, 1, 16, 8, 80, 2, super::animation::FRAMES_BUDGET_BYTES).unwrap();
    assert_eq!(pixels::decode_all_frames(SourceFormat::WebP, &whole).unwrap(), 200);
    // Past the budget the display file is a still WebP of the same size: the first frame.
    let site = Workspace::new();
    let job = site.job("many.gif", &gif);
    let f = encode::plan(&job.source, &gif, &job.probe, "h", &small_settings()).unwrap().files.into_iter().find(|f| f.role == VariantRole::Display).unwrap();
    let shown = encode::animated_display(&job.source, SourceFormat::Gif, &gif, &layout, 1, &f, 40 * frame_bytes).unwrap();
    assert!(shown.starts_with(b"RIFF") && !shown.windows(4).any(|w| w == b"ANIM"), "a still WebP");
    let still = image::load_from_memory(&shown).unwrap();
    assert_eq!((still.width(), still.height()), (f.width, f.height));
}

#[test]
fn an_animation_is_shown_at_the_widest_display_size_with_each_frames_time() {
    use image::AnimationDecoder;
    use image::codecs::gif::{GifEncoder, Repeat};
    // The middle frame asks for 0 ms, which browsers show for 100 ms; the last one lasts longest.
    let mut gif = Vec::new();
    {
        let mut enc = GifEncoder::new(&mut gif);
        enc.set_repeat(Repeat::Infinite).unwrap();
        for (c, ms) in [(RED, 70), (BLUE, 0), ([30, 200, 30], 400)] {
            let frame = image::RgbaImage::from_pixel(240, 120, image::Rgba([c[0], c[1], c[2], 255]));
            enc.encode_frame(image::Frame::from_parts(frame, 0, 0, image::Delay::from_numer_denom_ms(ms, 1))).unwrap();
        }
    }
    let site = Workspace::new();
    let out = site.run(&[site.job("wide.gif", &gif)], &small_settings()).unwrap();
    let display: Vec<_> = out[0].variants.iter().filter(|v| v.role == VariantRole::Display).collect();
    assert_eq!(display.iter().map(|v| (v.width, v.height)).collect::<Vec<_>>(), [(160, 80)], "240 px cut to the widest display size");
    let shown = site.bytes(&display[0].key);
    let frames = image::codecs::webp::WebPDecoder::new(std::io::Cursor::new(&shown)).unwrap().into_frames().collect_frames().unwrap();
    let timing: Vec<u32> = frames.iter().map(|f| f.delay().numer_denom_ms()).map(|(n, d)| n / d).collect();
    assert_eq!(timing, [70, 100, 400], "every frame keeps its time, the last one too");
    assert!(frames.iter().all(|f| (f.buffer().width(), f.buffer().height()) == (160, 80)));
    let middle = frames[1].buffer().get_pixel(80, 40).0;
    assert!(close([middle[0], middle[1], middle[2]], BLUE, 24), "{middle:?}: the frames in their order");
}

#[test]
fn display_p3_colours_are_converted_to_srgb() {
    let p3 = lcms2::Profile::new_rgb(
        &lcms2::CIExyY { x: 0.3127, y: 0.3290, Y: 1.0 },
        &lcms2::CIExyYTRIPLE {
            Red: lcms2::CIExyY { x: 0.680, y: 0.320, Y: 1.0 },
            Green: lcms2::CIExyY { x: 0.265, y: 0.690, Y: 1.0 },
            Blue: lcms2::CIExyY { x: 0.150, y: 0.060, Y: 1.0 },
        },
        &[&lcms2::ToneCurve::new(2.2), &lcms2::ToneCurve::new(2.2), &lcms2::ToneCurve::new(2.2)],
    )
    .unwrap();
    let icc = p3.icc().unwrap();
    let colour = [40u8, 170, 90];
    let mut expected = colour;
    lcms2::Transform::new(&p3, lcms2::PixelFormat::RGB_8, &lcms2::Profile::new_srgb(), lcms2::PixelFormat::RGB_8, lcms2::Intent::Perceptual)
        .unwrap()
        .transform_in_place(&mut expected[..]);
    assert!(!close(expected, colour, 10), "the test colour must move noticeably in sRGB: {expected:?}");

    let flat = pixels::Pixels { data: colour.repeat(200 * 100), width: 200, height: 100, alpha: false };
    let site = Workspace::new();
    let out = site.run(&[site.job("p3.jpg", &jpeg_with(&flat, None, Some(&icc)))], &small_settings()).unwrap();
    for v in &out[0].variants {
        let img = image::load_from_memory(&site.bytes(&v.key)).unwrap().to_rgb8();
        let got = rgb_at(&img, v.width / 2, v.height / 2);
        assert!(close(got, expected, 6), "{}: {got:?} is not the sRGB {expected:?}", v.file);
    }
    let original = site.bytes(&out[0].original.key);
    assert_eq!(container::layout(SourceFormat::Jpeg, &original).unwrap().icc.as_deref(), Some(&icc[..]), "the download keeps its profile");
}

/// The single cache entry directory of a one-image cache.
fn only_entry(site: &Workspace) -> PathBuf {
    let entries = site.cache_entries();
    assert_eq!(entries.len(), 1, "{entries:?}");
    entries[0].clone()
}

fn mark(entry: &Path, file: &str) {
    fs::write(entry.join(file), b"FROM-CACHE").unwrap();
}

#[test]
fn a_rebuild_without_changes_takes_everything_from_the_cache() {
    let site = Workspace::new();
    let jobs = [site.job("photo.jpg", &jpeg_with(&halves(400, 200), None, None))];
    let first = site.run(&jobs, &small_settings()).unwrap();
    // Tamper with the cached file: if the second run re-encoded, the mark would be gone.
    mark(&only_entry(&site), "100.webp");
    let second = site.run(&jobs, &small_settings()).unwrap();
    assert_eq!(first, second);
    let v = second[0].variants.iter().find(|v| v.file.ends_with("-100.webp")).unwrap();
    assert_eq!(site.bytes(&v.key), b"FROM-CACHE");
}

#[test]
fn a_changed_source_rebuilds_only_itself_and_its_old_outputs_are_pruned() {
    let site = Workspace::new();
    let a = site.job("a.jpg", &jpeg_with(&halves(400, 200), None, None));
    let b = site.job("b.jpg", &jpeg_with(&halves(300, 200), None, None));
    let first = site.run(&[a.clone(), b.clone()], &small_settings()).unwrap();
    for entry in site.cache_entries() {
        mark(&entry, "100.webp");
    }
    let old_entries = site.cache_entries();
    // New content for b (and a later mtime is not needed: size changes).
    site.source("b.jpg", &jpeg_with(&halves(320, 200), None, None));
    let second = site.run(&[a.clone(), b.clone()], &small_settings()).unwrap();
    let variant = |p: &Processed| p.variants.iter().find(|v| v.file.ends_with("-100.webp")).unwrap().clone();
    let file = |p: &Processed| variant(p).file;
    assert_eq!(site.bytes(&variant(&second[0]).key), b"FROM-CACHE", "a came from the cache");
    assert_ne!(site.bytes(&variant(&second[1]).key), b"FROM-CACHE", "b was rebuilt");
    assert_ne!(file(&first[1]), file(&second[1]), "b's file names follow its content");
    assert_eq!(file(&first[0]), file(&second[0]));
    let now = site.cache_entries();
    assert_eq!(now.len(), 2);
    // a's entry, found independently: the only entry a cache holding a alone has.
    let alone = Workspace::new();
    alone.run(&[alone.job("a.jpg", &jpeg_with(&halves(400, 200), None, None))], &small_settings()).unwrap();
    let a_entry = alone.cache_entries()[0].file_name().unwrap().to_owned();
    let kept: Vec<_> = old_entries.iter().filter(|e| now.contains(e)).map(|e| e.file_name().unwrap().to_owned()).collect();
    assert_eq!(kept, [a_entry], "a's entry stayed and b's old entry was pruned");
}

#[test]
fn a_failing_build_names_every_bad_file() {
    let site = Workspace::new();
    let good = jpeg_with(&halves(400, 200), None, None);
    let cut = &good[..good.len() / 2];
    // Checked whole at load, cut before the build reads them.
    let cut_after_check = |name: &str| {
        let job = site.job(name, &good);
        fs::write(&job.source, cut).unwrap();
        job
    };
    let jobs = [site.job("ok.jpg", &good), cut_after_check("cut1.jpg"), cut_after_check("cut2.jpg")];
    let err = format!("{:#}", site.run(&jobs, &small_settings()).unwrap_err());
    assert!(err.contains("2 of 3"), "{err}");
    assert!(err.contains("cut1.jpg") && err.contains("cut2.jpg") && !err.contains("ok.jpg"), "{err}");
    assert!(err.contains("cut short"), "{err}");
}

#[test]
fn verify_catches_truncated_files_of_every_format() {
    let site = Workspace::new();
    let mut png = Vec::new();
    image::RgbImage::from_pixel(64, 64, image::Rgb(RED)).write_to(&mut std::io::Cursor::new(&mut png), image::ImageFormat::Png).unwrap();
    let jpeg = jpeg_with(&halves(400, 200), None, None);
    let webp = pixels::encode_webp(&halves(64, 64), 80, 4).unwrap();
    for (name, data) in [("a.png", &png), ("a.jpg", &jpeg), ("a.webp", &webp)] {
        let whole = site.source(name, data);
        assert!(verify(&whole, &Limits::default()).is_ok(), "{name} whole");
        let cut = site.source(&format!("cut-{name}"), &data[..data.len() * 2 / 3]);
        let problem = verify(&cut, &Limits::default()).unwrap_err();
        assert!(problem.message.contains("cut short") || problem.message.contains("damaged"), "{name}: {problem}");
    }
}

#[test]
fn a_png_download_loses_its_text_and_exif_chunks() {
    let mut png = Vec::new();
    image::RgbImage::from_pixel(8, 8, image::Rgb(RED)).write_to(&mut std::io::Cursor::new(&mut png), image::ImageFormat::Png).unwrap();
    // Insert a tEXt chunk with a location after IHDR (8 + 25 bytes).
    let mut chunk = Vec::new();
    let data = b"Location\0SECRETPLACE";
    chunk.extend_from_slice(&(data.len() as u32).to_be_bytes());
    chunk.extend_from_slice(b"tEXt");
    chunk.extend_from_slice(data);
    let mut crc = crc32fast::Hasher::new();
    crc.update(b"tEXt");
    crc.update(data);
    chunk.extend_from_slice(&crc.finalize().to_be_bytes());
    png.splice(33..33, chunk);
    let stripped = container::strip(SourceFormat::Png, &png, None).unwrap();
    assert!(!stripped.windows(11).any(|w| w == b"SECRETPLACE"));
    assert_eq!(image::load_from_memory(&stripped).unwrap().to_rgb8(), image::load_from_memory(&png).unwrap().to_rgb8());
}

/// Width and height from the `ispe` (image spatial extent) box of an AVIF file.
fn avif_size(avif: &[u8]) -> (u32, u32) {
    let at = avif.windows(4).position(|w| w == b"ispe").expect("an AVIF has an ispe box") + 8;
    let be = |i: usize| u32::from_be_bytes(avif[i..i + 4].try_into().unwrap());
    (be(at), be(at + 4))
}

#[test]
fn avif_on_adds_an_avif_of_every_size_and_its_largest_counts_as_full_size() {
    let site = Workspace::new();
    let jpeg = jpeg_with(&halves(400, 200), None, None);
    let settings = Settings { avif: true, ..small_settings() };
    let out = site.run(&[site.job("photo.jpg", &jpeg)], &settings).unwrap();
    let p = &out[0];
    let avifs: Vec<_> = p.variants.iter().filter(|v| v.content_type == "image/avif").collect();
    let sizes = |t: &str| p.variants.iter().filter(|v| v.content_type == t).map(|v| (v.role, v.width, v.height)).collect::<Vec<_>>();
    assert_eq!(sizes("image/avif"), sizes("image/webp"), "the same sizes as WebP, thumbnail included");
    for v in &avifs {
        let data = site.bytes(&v.key);
        assert_eq!(&data[4..12], b"ftypavif", "{} is an AVIF file", v.file);
        assert_eq!(avif_size(&data), (v.width, v.height), "{} has the size the manifest says", v.file);
        assert!(v.file.ends_with(".avif"), "{}", v.file);
    }
    let full: Vec<_> = p.variants.iter().filter(|v| v.full_size).map(|v| (v.content_type.as_str(), v.width)).collect();
    assert_eq!(full, vec![("image/webp", 160), ("image/jpeg", 160), ("image/avif", 160)], "one full-size file per format, all the largest");

    let without = site.run(&[site.job("photo.jpg", &jpeg)], &small_settings()).unwrap();
    assert!(without[0].variants.iter().all(|v| v.content_type != "image/avif"), "AVIF is opt-in");
}

#[test]
fn a_jpeg_is_decoded_at_a_power_of_two_scale_leaving_room_for_lanczos() {
    assert_eq!(pixels::jpeg_scale(5769, 1920), 4, "1/2 gives 2885 px, at least 1.5 × 1920");
    assert_eq!(pixels::jpeg_scale(12640, 1920), 2, "1/4 gives 3160 px");
    assert_eq!(pixels::jpeg_scale(24000, 1920), 1, "1/8 gives 3000 px");
    assert_eq!(pixels::jpeg_scale(4000, 1920), 8, "1/2 would give 2000 px, too close to 1920: full size");
}

/// One source of every kind the pipeline treats differently: each format, an animation, an
/// EXIF-rotated JPEG and an image smaller than the thumbnail.
fn every_kind(site: &Workspace) -> Vec<Job> {
    let png = |w: u32, h: u32| {
        let mut png = Vec::new();
        image::RgbImage::from_pixel(w, h, image::Rgb(RED)).write_to(&mut std::io::Cursor::new(&mut png), image::ImageFormat::Png).unwrap();
        png
    };
    let mut gif = Vec::new();
    {
        let mut enc = image::codecs::gif::GifEncoder::new(&mut gif);
        for c in [RED, BLUE] {
            enc.encode_frame(image::Frame::new(image::RgbaImage::from_pixel(60, 40, image::Rgba([c[0], c[1], c[2], 255])))).unwrap();
        }
    }
    vec![
        site.job("flat.png", &png(300, 200)),
        site.job("turned.jpg", &jpeg_with(&halves(400, 200), Some(&exif_with_gps(6)), None)),
        site.job("still.webp", &pixels::encode_webp(&halves(240, 160), 80, 4).unwrap()),
        site.job("spin.gif", &gif),
        site.job("tiny.png", &png(8, 6)),
    ]
}

fn manifest_view(plans: &Plans) -> Vec<Processed> {
    plans.images.iter().map(|p| p.processed.clone()).collect()
}

#[test]
fn planning_alone_gives_exactly_the_manifest_encoding_gives() {
    let planned = Workspace::new();
    let plans = planned.plans(&every_kind(&planned), &small_settings(), false).unwrap();
    assert!(plans.objects().iter().all(|o| !o.file.exists()), "planning encodes nothing");

    let encoded = Workspace::new();
    let built = encoded.plans(&every_kind(&encoded), &small_settings(), true).unwrap();
    assert_eq!(manifest_view(&plans), manifest_view(&built));
    let turned = &built.images[1].processed;
    assert_eq!((turned.width, turned.height), (200, 400), "the plan turns the probe's size upright");
    assert!(built.images[3].processed.animated);
    for o in built.objects() {
        let bytes = encoded.bytes(&o.key);
        if let Some(v) = built.images.iter().flat_map(|p| &p.processed.variants).find(|v| v.key == o.key) {
            let img = image::load_from_memory(&bytes).unwrap();
            assert_eq!((img.width(), img.height()), (v.width, v.height), "{} has the size its plan gave", v.key);
        }
    }

    // Encoding the plan later makes the very files a build that encoded at once made.
    assert_eq!(plans.encode(|_| true, &|_, _| {}).unwrap(), 5);
    for o in plans.objects() {
        assert_eq!(fs::read(&o.file).unwrap(), encoded.bytes(&o.key), "{}", o.key);
    }
}

#[test]
fn a_plan_without_changes_reads_no_image_bytes() {
    let site = Workspace::new();
    let (a, b) = (jpeg_with(&halves(400, 200), None, None), jpeg_with(&halves(300, 200), None, None));
    let job = site.job("photo.jpg", &a);
    let other = site.job("other.jpg", &b);
    let first = site.plans(std::slice::from_ref(&job), &small_settings(), false).unwrap();
    let of_b = site.plans(std::slice::from_ref(&other), &small_settings(), false).unwrap();
    // The file as a settled, unchanged source, remembered under the hash of other bytes: only
    // a plan that does not read it takes that hash's plan.
    let meta = fs::metadata(&job.source).unwrap();
    let known = sources::stamp(&meta, std::time::SystemTime::now() + sources::SETTLED, blake3::hash(&b).to_hex().to_string(), &job.probe).unwrap();
    let index = Sources { stamps: [(Sources::key(&job.source), known)].into() };
    fs::write(site.root.join("cache").join(sources::SOURCES_FILE), index.changed_bytes(&Sources::default()).unwrap().unwrap()).unwrap();
    let second = site.plans(std::slice::from_ref(&job), &small_settings(), false).unwrap();
    assert_eq!(second.images[0].cache_key(), of_b.images[0].cache_key(), "the stamp's hash, the bytes unread");

    // The same bytes written again with the mtime put back: the stamp no longer matches (the
    // ctime moved), so the file is read and its own plan taken.
    std::thread::sleep(std::time::Duration::from_millis(20));
    let mtime = meta.modified().unwrap();
    fs::write(&job.source, &a).unwrap();
    fs::File::options().write(true).open(&job.source).unwrap().set_modified(mtime).unwrap();
    let third = site.plans(&[job], &small_settings(), false).unwrap();
    assert_eq!(manifest_view(&first), manifest_view(&third));
}

#[test]
fn encoding_picks_only_the_images_asked_for_and_refuses_a_source_changed_since_its_plan() {
    let site = Workspace::new();
    let jobs = [site.job("a.jpg", &jpeg_with(&halves(400, 200), None, None)), site.job("b.jpg", &jpeg_with(&halves(300, 200), None, None))];
    let plans = site.plans(&jobs, &small_settings(), false).unwrap();
    assert_eq!(plans.encode(|p| p.job.image_id == "b", &|_, _| {}).unwrap(), 1);
    let made = |i: usize| plans.images[i].objects(plans.cache()).iter().all(|o| o.file.is_file());
    assert!(!made(0) && made(1));
    assert_eq!(plans.encode(|_| true, &|_, _| {}).unwrap(), 1, "b is cached: only a is encoded");

    let again = Workspace::new();
    let job = again.job("c.jpg", &jpeg_with(&halves(400, 200), None, None));
    let plans = again.plans(std::slice::from_ref(&job), &small_settings(), false).unwrap();
    again.source("c.jpg", &jpeg_with(&halves(420, 200), None, None));
    let err = format!("{:#}", plans.encode(|_| true, &|_, _| {}).unwrap_err());
    assert!(err.contains("c.jpg") && err.contains("changed since it was planned"), "{err}");
}

#[test]
fn the_same_file_in_many_galleries_is_encoded_once_into_one_entry() {
    let site = Workspace::new();
    let bytes = jpeg_with(&halves(400, 200), None, None);
    // Jobs of one content in parallel share one cache entry: none may replace it under another.
    let jobs: Vec<Job> = (0..12).map(|i| Job { gallery: format!("g{i}"), ..site.job(&format!("front{i}.jpg"), &bytes) }).collect();
    for _ in 0..3 {
        let _ = fs::remove_dir_all(site.root.join("cache"));
        let processed = site.run(&jobs, &small_settings()).unwrap();
        assert_eq!(processed.len(), 12);
        assert_eq!(site.cache_entries().len(), 1);
    }
}

mod marked;
