use super::*;
use crate::embed::encode_pair;
use gatefold_contract::mark::split_segments;

const LABEL: &str = "华东经销商 · 2027-03-01";

fn font() -> Font {
    Font::system().expect("the tests need fonts-noto-cjk")
}

fn key() -> MarkKey {
    MarkKey::from_secret("a test secret that is long enough!!")
}

fn grey(w: u32, h: u32, v: u8) -> Vec<u8> {
    vec![v; (w * h * 3) as usize]
}

/// A busy, photo-like image.
fn photo(w: u32, h: u32) -> Vec<u8> {
    (0..h)
        .flat_map(|y| (0..w).map(move |x| (x as f32, y as f32)))
        .flat_map(|(x, y)| {
            let v = 110.0 + 60.0 * (x / 11.0).sin() * (y / 7.0).cos() + 25.0 * ((x * y) / 900.0).sin();
            [v, v * 0.9 + 10.0, v * 0.7 + 30.0].map(|c| c.clamp(0.0, 255.0) as u8)
        })
        .collect()
}

/// The bounding box (x0, y0, x1, y1) of the pixels that differ between `a` and `b`.
fn changed(a: &[u8], b: &[u8], w: u32) -> Option<(u32, u32, u32, u32)> {
    let mut bbox: Option<(u32, u32, u32, u32)> = None;
    for (i, (p, q)) in a.chunks_exact(3).zip(b.chunks_exact(3)).enumerate() {
        if p != q {
            let (x, y) = (i as u32 % w, i as u32 / w);
            bbox = Some(bbox.map_or((x, y, x + 1, y + 1), |(x0, y0, x1, y1)| (x0.min(x), y0.min(y), x1.max(x + 1), y1.max(y + 1))));
        }
    }
    bbox
}

fn decode(b: &[u8]) -> image::RgbImage {
    image::load_from_memory(b).unwrap().to_rgb8()
}

#[test]
fn the_system_font_covers_chinese_labels() {
    let f = font();
    assert!(f.covers(LABEL));
    let m = text_mask(&f, "经", 40.0);
    assert!(m.alpha.iter().filter(|a| **a > 0.5).count() > 100, "the glyph draws");
}

#[test]
fn a_font_that_cannot_be_read_is_named_in_the_error() {
    let err = Font::load(Path::new("/nonexistent/fonts/stamp.ttc"), 0).unwrap_err();
    assert!(err.contains("/nonexistent/fonts/stamp.ttc"), "{err}");
}

#[test]
fn without_the_system_font_the_error_names_the_package_to_install() {
    let err = Font::system_at(Path::new("/nonexistent/NotoSansCJK-Regular.ttc")).unwrap_err();
    assert!(err.contains("fonts-noto-cjk") && err.contains("/nonexistent/NotoSansCJK-Regular.ttc"), "{err}");
}

#[test]
fn a_long_label_on_a_narrow_image_is_set_smaller_and_stays_inside_it() {
    let (w, h) = (480, 1200);
    let plain = grey(w, h, 128);
    let mut img = plain.clone();
    render(&mut img, w, h, "华东区一级经销商 上海市浦东新区 张伟 · zhang.wei@example.com · 2027-03-01", Position::Corner, &font()).unwrap();
    let (x0, _, x1, _) = changed(&plain, &img, w).unwrap();
    assert!(x0 > 0 && x1 < w, "{x0}..{x1}");
}

#[test]
fn positions_read_from_the_config_words() {
    assert_eq!("corner".parse::<Position>(), Ok(Position::Corner));
    assert_eq!("tile".parse::<Position>(), Ok(Position::Tile));
    assert!("center".parse::<Position>().unwrap_err().contains("corner or tile"));
}

#[test]
fn a_corner_stamp_sits_bottom_right_at_about_a_fortieth_of_the_height() {
    let (w, h) = (800, 600);
    let plain = grey(w, h, 128);
    let mut img = plain.clone();
    let rows = render(&mut img, w, h, LABEL, Position::Corner, &font()).unwrap();
    let (x0, y0, x1, y1) = changed(&plain, &img, w).unwrap();
    assert_eq!(rows, (y0, y1));
    assert!(x0 > w / 3 && x1 < w && y0 > h * 4 / 5 && y1 < h, "box {:?}", (x0, y0, x1, y1));
    assert!((12..=40).contains(&(y1 - y0)), "height {}", y1 - y0);
}

#[test]
fn the_stamp_reads_on_white_and_on_black() {
    let (w, h) = (1200, 800);
    for (background, want) in [(255u8, "dark outline"), (0u8, "light text")] {
        let mut img = grey(w, h, background);
        render(&mut img, w, h, LABEL, Position::Corner, &font()).unwrap();
        let contrasting = img.iter().filter(|v| v.abs_diff(background) > 150).count();
        assert!(contrasting > 300, "{want} on {background}: {contrasting} samples");
    }
}

#[test]
fn a_tiled_stamp_covers_the_whole_image_faintly() {
    let (w, h) = (640, 480);
    let plain = grey(w, h, 128);
    let mut img = plain.clone();
    let rows = render(&mut img, w, h, LABEL, Position::Tile, &font()).unwrap();
    assert!(rows.0 < h / 10 && rows.1 > h * 9 / 10, "rows {rows:?}");
    for (qx, qy) in [(0, 0), (1, 0), (0, 1), (1, 1)] {
        let marked = (qy * h / 2..(qy + 1) * h / 2).flat_map(|y| (qx * w / 2..(qx + 1) * w / 2).map(move |x| (y * w + x) as usize * 3)).filter(|i| img[*i] != plain[*i]).count();
        assert!(marked > 500, "quarter ({qx},{qy}): {marked} pixels");
    }
    assert!(img.iter().zip(&plain).all(|(a, b)| a.abs_diff(*b) < 90), "faint");
}

/// The chips of a pair's `A` or `B` as the codeword picks them.
fn pair_chips(a: &[u8], b: &[u8], bits: &Codeword) -> Vec<Vec<u8>> {
    let ((_, ra), (_, rb)) = (split_segments(a).unwrap(), split_segments(b).unwrap());
    ra.into_iter().zip(rb).enumerate().map(|(c, (ra, rb))| if bits.bit(c as u32) { a[ra].to_vec() } else { b[rb].to_vec() }).collect()
}

#[test]
fn a_band_without_a_stamp_is_the_pairs_own_chips_byte_for_byte() {
    // 13 MCUs a row: chips wrap from one MCU row to the next, and bands start where one begins.
    let (w, h) = (200, 150);
    let (key, rgb) = (key(), photo(w, h));
    let g = Geometry { width: w, height: h };
    let pair = encode_pair(&rgb, w, h, 82, &key, "img").unwrap();
    let bits = key.codeword("g", "link", "img", w, g.chips());
    let chips = pair_chips(&pair.a, &pair.b, &bits);
    let marked = Marked::new(&rgb, w, h, 82, &key, "img").unwrap();
    let pixels = marked.copy(&bits);
    for rows in [g.band_start(3)..g.band_end(5), g.band_start(6)..g.mcu_rows(), 0..g.mcu_rows()] {
        let (band, bytes) = encode_band(&pixels, g, 82, rows.clone()).unwrap();
        assert_eq!(band.first, rows.start * g.mcus_per_row() / RESTART_MCUS);
        let mut at = 0;
        for (j, (len, crc)) in band.segments.iter().enumerate() {
            let seg = &bytes[at..at + *len as usize];
            assert_eq!(seg, chips[band.first as usize + j].as_slice(), "rows {rows:?}, chip {}", band.first as usize + j);
            assert_eq!(*crc, crc32fast::hash(seg));
            at += *len as usize;
        }
        assert_eq!(at, bytes.len());
    }
}

#[test]
fn a_stamped_band_splices_into_a_jpeg_that_shows_the_stamp_and_keeps_the_rest() {
    let (w, h) = (320, 240);
    let (key, rgb) = (key(), photo(w, h));
    let g = Geometry { width: w, height: h };
    let pair = encode_pair(&rgb, w, h, 82, &key, "img").unwrap();
    let bits = key.codeword("g", "link", "img", w, g.chips());
    let (band, bytes) = stamp_band(&rgb, w, h, 82, &key, "img", &bits, LABEL, Position::Corner, &font()).unwrap();
    assert!(band.first > 0 && band.first as usize + band.segments.len() == g.chips() as usize, "a corner band ends the image: {band:?}");
    let stamped = pair.index.splice(&pair.a, &pair.b, &bits, Some((&band, &bytes))).unwrap();
    let plain = pair.index.splice(&pair.a, &pair.b, &bits, None).unwrap();
    assert_eq!(pair.index.spliced_size_crc(&bits, Some(&band)).unwrap(), (stamped.len() as u64, crc32fast::hash(&stamped)));
    let ((hs, ss), (hp, sp)) = (split_segments(&stamped).unwrap(), split_segments(&plain).unwrap());
    assert_eq!(stamped[..hs], plain[..hp]);
    for (c, (rs, rp)) in ss.iter().zip(&sp).enumerate() {
        let (s, p) = (&stamped[rs.clone()], &plain[rp.clone()]);
        if c < band.first as usize {
            assert_eq!(s, p, "chip {c} outside the band");
        }
        if c + 1 < ss.len() {
            assert_eq!(&s[s.len() - 2..], &[0xFF, 0xD0 + (c % 8) as u8], "chip {c}'s restart marker");
        }
    }
    let (ds, dp) = (decode(&stamped), decode(&plain));
    let (x0, y0, x1, y1) = changed(ds.as_raw(), dp.as_raw(), w).expect("the stamp shows");
    // Chroma upsampling blends one row across the band's top edge.
    assert!(x0 > w / 3 && y0 + 2 >= band.first * RESTART_MCUS / g.mcus_per_row() * MCU && y1 <= h && x1 <= w, "{:?}", (x0, y0, x1, y1));
    let differ = ds.as_raw().iter().zip(dp.as_raw()).filter(|(a, b)| a.abs_diff(**b) > 60).count();
    assert!(differ > 200, "the stamp stands out: {differ} samples");
}

#[test]
fn a_tiled_band_replaces_every_chip() {
    let (w, h) = (256, 160);
    let (key, rgb) = (key(), photo(w, h));
    let g = Geometry { width: w, height: h };
    let bits = key.codeword("g", "link", "img", w, g.chips());
    let (band, _) = stamp_band(&rgb, w, h, 82, &key, "img", &bits, LABEL, Position::Tile, &font()).unwrap();
    assert_eq!((band.first, band.segments.len()), (0, g.chips() as usize));
}

#[test]
fn a_codeword_for_another_size_is_refused() {
    let (w, h) = (128, 64);
    let bits = key().codeword("g", "link", "img", w, 3);
    let err = stamp_band(&photo(w, h), w, h, 82, &key(), "img", &bits, LABEL, Position::Corner, &font()).unwrap_err();
    assert!(err.contains("chips"), "{err}");
}
