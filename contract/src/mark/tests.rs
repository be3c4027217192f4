use super::*;

/// A stand-in JPEG with `chips` restart segments: a minimal header through SOS, then
/// entropy bytes (with a stuffed 0xFF00 in each) and RSTn markers, then EOI.
fn fake_jpeg(chips: u32, fill: u8) -> Vec<u8> {
    let mut out = vec![0xFF, 0xD8, 0xFF, 0xDB, 0x00, 0x04, 1, 2, 0xFF, 0xDA, 0x00, 0x03, 9];
    for c in 0..chips {
        out.extend((0..(3 + c % 5)).map(|i| fill.wrapping_add(i as u8) & 0x7F));
        out.extend([0xFF, 0x00]);
        if c + 1 < chips {
            out.extend([0xFF, 0xD0 + (c % 8) as u8]);
        }
    }
    out.extend([0xFF, 0xD9]);
    out
}

fn geometry(chips: u32) -> Geometry {
    Geometry { width: MCU * RESTART_MCUS, height: MCU * chips }
}

#[test]
fn a_pair_splits_into_one_segment_per_chip_with_shared_header() {
    let (a, b) = (fake_jpeg(10, 1), fake_jpeg(10, 40));
    let index = index_pair(&a, &b, geometry(10)).unwrap();
    assert_eq!(index.segments.len(), 10);
    assert_eq!(index.file_len(false), a.len() as u64);
    assert_eq!(index.file_len(true), b.len() as u64);
    assert_eq!(MarkIndex::from_bytes(&index.to_bytes()).unwrap(), index);
}

#[test]
fn a_splice_takes_each_chip_from_the_side_its_bit_names_and_knows_its_crc_in_advance() {
    let (a, b) = (fake_jpeg(10, 1), fake_jpeg(10, 40));
    let index = index_pair(&a, &b, geometry(10)).unwrap();
    let key = MarkKey::from_secret("a test secret that is long enough!!");
    let bits = key.codeword("g", "dealer-1", "img", 1920, 10);
    let copy = index.splice(&a, &b, &bits, None).unwrap();
    let (size, crc) = index.spliced_size_crc(&bits, None).unwrap();
    assert_eq!((size, crc), (copy.len() as u64, crc32fast::hash(&copy)));
    let (_, sa) = split_segments(&a).unwrap();
    let (_, sb) = split_segments(&b).unwrap();
    let (_, sc) = split_segments(&copy).unwrap();
    for c in 0..10u32 {
        let want = if bits.bit(c) { &a[sa[c as usize].clone()] } else { &b[sb[c as usize].clone()] };
        assert_eq!(&copy[sc[c as usize].clone()], want, "chip {c}");
    }
}

#[test]
fn a_band_replaces_its_chips_and_the_crc_still_matches() {
    let (a, b) = (fake_jpeg(8, 1), fake_jpeg(8, 40));
    let index = index_pair(&a, &b, geometry(8)).unwrap();
    let stamped = fake_jpeg(8, 90);
    let (_, ss) = split_segments(&stamped).unwrap();
    let bytes: Vec<u8> = ss[5..8].iter().flat_map(|r| stamped[r.clone()].to_vec()).collect();
    let band = Band { first: 5, segments: ss[5..8].iter().map(|r| (r.len() as u32, crc32fast::hash(&stamped[r.clone()]))).collect() };
    assert_eq!(Band::from_bytes(&band.to_bytes()).unwrap(), band);
    let bits = MarkKey::from_secret("a test secret that is long enough!!").codeword("g", "l", "i", 64, 8);
    let copy = index.splice(&a, &b, &bits, Some((&band, &bytes))).unwrap();
    assert!(copy.ends_with(&stamped[ss[5].start..]));
    assert_eq!(index.spliced_size_crc(&bits, Some(&band)).unwrap(), (copy.len() as u64, crc32fast::hash(&copy)));
}

#[test]
fn pieces_that_do_not_fit_the_index_are_refused_not_served() {
    let (a, b) = (fake_jpeg(6, 1), fake_jpeg(6, 40));
    let index = index_pair(&a, &b, geometry(6)).unwrap();
    let bits = MarkKey::from_secret("a test secret that is long enough!!").codeword("g", "l", "i", 64, 6);
    assert!(index.splice(&a[..a.len() - 3], &b, &bits, None).is_err());
    let short = MarkKey::from_secret("a test secret that is long enough!!").codeword("g", "l", "i", 64, 5);
    assert!(index.splice(&a, &b, &short, None).is_err());
    assert!(index_pair(&a, &fake_jpeg(7, 40), geometry(6)).is_err());
    assert!(MarkIndex::from_bytes(b"GFMI\x02\0\0\0").is_err());
}

#[test]
fn codewords_differ_per_link_image_and_key_and_are_balanced() {
    let key = MarkKey::from_secret("a test secret that is long enough!!");
    let one = key.codeword("g", "a", "img", 1920, 2400);
    assert_eq!(one, key.codeword("g", "a", "img", 1920, 2400));
    for other in [key.codeword("g", "b", "img", 1920, 2400), key.codeword("g", "a", "img2", 1920, 2400), MarkKey::from_secret("another secret that is long enough!").codeword("g", "a", "img", 1920, 2400)] {
        let agree = (0..2400).filter(|c| one.bit(*c) == other.bit(*c)).count();
        assert!((1000..1400).contains(&agree), "{agree} of 2400 agree");
    }
    let ones = (0..2400).filter(|c| one.bit(*c)).count();
    assert!((1000..1400).contains(&ones));
    assert_ne!(key.id(), MarkKey::from_secret("another secret that is long enough!").id());
}

#[test]
fn chips_follow_restart_intervals_and_bands_start_on_a_chip() {
    let g = Geometry { width: 1920, height: 1280 };
    assert_eq!((g.mcus_per_row(), g.mcu_rows(), g.chips()), (120, 80, 2400));
    assert_eq!(g.chip_at(0, 0), 0);
    assert_eq!(g.chip_at(64, 0), 1);
    assert_eq!(g.chip_at(0, 16), 30);
    let odd = Geometry { width: 1000, height: 700 };
    assert_eq!(odd.mcus_per_row(), 63);
    let start = odd.band_start(41);
    assert!(start <= 41 && (start * 63) % RESTART_MCUS == 0);
    assert_eq!(odd.band_end(44), odd.mcu_rows());
}

#[test]
fn a_band_placed_past_the_last_chip_is_refused_even_near_the_top_of_u32() {
    let (a, b) = (fake_jpeg(4, 1), fake_jpeg(4, 40));
    let index = index_pair(&a, &b, geometry(4)).unwrap();
    let bits = MarkKey::from_secret("a test secret that is long enough!!").codeword("g", "l", "i", 64, 4);
    for first in [3, u32::MAX - 1, u32::MAX] {
        let band = Band { first, segments: vec![(1, 0), (1, 0)] };
        assert!(index.spliced_size_crc(&bits, Some(&band)).is_err(), "first = {first}");
    }
}
