use super::*;
use gatefold_contract::LinkPolicy;
use gatefold_contract::manifest::{Original, VariantRole, marked_keys};
use gatefold_contract::mark::{MCU, RESTART_MCUS, index_pair, split_segments};

const SECRET: &str = "a-long-random-production-secret-0123456789";

fn link(name: &str, mark: Option<LinkMark>) -> Link {
    Link { name: name.into(), label: name.into(), token: format!("t-{name}"), rotate: 0, policy: LinkPolicy::default(), recipient: None, notify: None, mark }
}

fn mark(key: &SigningKey, stamp: Option<&str>, originals: bool) -> Option<LinkMark> {
    Some(LinkMark { key_id: key.mark_key().id().to_string(), stamp: stamp.map(str::to_string), originals })
}

fn variant(role: VariantRole, width: u32, content_type: MediaType, marked: bool) -> Variant {
    Variant {
        role,
        width,
        height: width / 2,
        content_type,
        file: format!("front-{width}.{}", content_type.extension()),
        key: format!("display/0123456789abcdef-{width}.{}", content_type.extension()),
        full_size: false,
        marked: marked.then(|| marked_keys("fedcba9876543210", &width.to_string())),
    }
}

fn image(animated: bool, marked_original: bool) -> Image {
    Image {
        id: "front".into(),
        file_name: "front.png".into(),
        caption: None,
        alt: String::new(),
        width: 4000,
        height: 3000,
        animated,
        variants: vec![variant(VariantRole::Thumb, 360, MediaType::Webp, false), variant(VariantRole::Display, 1920, MediaType::Jpeg, true)],
        original: Original {
            key: "originals/00.png".into(),
            size: 10,
            content_type: MediaType::Png,
            crc32: 0,
            marked: marked_original.then(|| marked_keys("fedcba9876543210", "original")),
        },
    }
}

#[test]
fn an_unmarked_link_gets_every_file_as_published() {
    let img = image(false, true);
    let plain = link("press", None);
    for v in &img.variants {
        assert_eq!(display_choice(&plain, &img, v), Choice::Plain, "{}", v.file);
    }
    assert_eq!(original_choice(&plain, &img), Choice::Plain);
}

#[test]
fn a_marked_link_gets_marked_copies_of_stills_and_nothing_unmarked() {
    let key = SigningKey::from_secret(SECRET);
    let img = image(false, true);
    let dealer = link("dealers/sh", mark(&key, None, false));
    let (thumb, display) = (&img.variants[0], &img.variants[1]);
    assert_eq!(display_choice(&dealer, &img, display), Choice::Marked(display.marked.as_ref().unwrap()));
    assert_eq!(display_choice(&dealer, &img, thumb), Choice::Refused, "a WebP thumbnail has no pair: not served to a marked link");
    assert_eq!(original_choice(&dealer, &img), Choice::Plain, "originals untouched without `originals: true`");
}

#[test]
fn animations_are_never_marked_and_originals_are_when_the_link_says_so() {
    let key = SigningKey::from_secret(SECRET);
    let press = link("press", mark(&key, None, true));
    let spin = image(true, false);
    assert_eq!(display_choice(&press, &spin, &spin.variants[0]), Choice::Plain);
    assert_eq!(original_choice(&press, &spin), Choice::Plain);
    let still = image(false, true);
    assert_eq!(original_choice(&press, &still), Choice::Marked(still.original.marked.as_ref().unwrap()));
    assert_eq!(original_choice(&press, &image(false, false)), Choice::Refused, "no marked original: refused, never the pristine one");
}

#[test]
fn a_marked_original_is_named_as_the_jpeg_it_is() {
    assert_eq!(marked_original_name("产品图.png", MediaType::Png), "产品图.jpg");
    assert_eq!(marked_original_name("front.jpg", MediaType::Jpeg), "front.jpg");
    assert_eq!(marked_original_name("noext", MediaType::Webp), "noext.jpg");
}

#[test]
fn a_worker_on_another_mark_key_refuses_the_link_naming_both_key_ids_only() {
    let own = SigningKey::from_secret(SECRET);
    let other = SigningKey::from_secret("another-long-random-production-secret-987");
    let m = mark(&own, None, false).unwrap();
    assert_eq!(check_key(own.mark_key(), "g", "l", &m), Ok(()));
    let told = check_key(other.mark_key(), "g", "l", &m).unwrap_err();
    assert!(told.contains(own.mark_key().id()) && told.contains(other.mark_key().id()) && told.contains("g/l"), "{told}");
    assert!(!told.contains(SECRET));
    let img = image(false, true);
    let refused = Copy::of_variant(&other, "g", &link("l", Some(m)), &img, img.variants[1].marked.as_ref().unwrap(), &img.variants[1]);
    assert!(refused.is_err(), "no copy is made under another key");
}

#[test]
fn each_link_and_stamp_has_its_own_cache_key_for_a_copy() {
    let key = SigningKey::from_secret(SECRET);
    let pair = marked_keys("fedcba9876543210", "1920");
    let m = mark(&key, None, false).unwrap();
    let stamped = mark(&key, Some("0011223344556677"), false).unwrap();
    let keys = [
        copy_cache_key("g", "dealers/sh", "front", &m, &pair),
        copy_cache_key("g", "dealers/bj", "front", &m, &pair),
        copy_cache_key("g/dealers", "sh", "front", &m, &pair),
        copy_cache_key("h", "dealers/sh", "front", &m, &pair),
        copy_cache_key("g", "dealers/sh", "back", &m, &pair),
        copy_cache_key("g", "dealers/sh", "front", &stamped, &pair),
        copy_cache_key("g", "dealers/sh", "front", &m, &marked_keys("fedcba9876543210", "960")),
    ];
    for (i, a) in keys.iter().enumerate() {
        assert!(a.starts_with(MEDIA_CACHE_ORIGIN) && a.contains(key.mark_key().id()), "{a}");
        for b in &keys[i + 1..] {
            assert_ne!(a, b);
        }
    }
    assert!(keys[0].contains("/g/dealers%2Fsh/front/"), "the key names the gallery, the link and the image: {}", keys[0]);
}

/// A stand-in JPEG with `chips` restart segments (as `contract::mark`'s tests make them).
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

const CHIPS: u32 = 12;
const WIDTH: u32 = MCU * RESTART_MCUS;
const HEIGHT: u32 = MCU * CHIPS;

fn pair() -> (Vec<u8>, Vec<u8>, Vec<u8>) {
    let (a, b) = (fake_jpeg(CHIPS, 1), fake_jpeg(CHIPS, 40));
    let index = index_pair(&a, &b, Geometry { width: WIDTH, height: HEIGHT }).unwrap();
    (index.to_bytes(), a, b)
}

fn copy_for(key: &SigningKey, name: &str, stamp: Option<&str>) -> Copy {
    let pair = marked_keys("fedcba9876543210", "64");
    Copy::new(key, "g", &link(name, mark(key, stamp, false)), "front", &pair, WIDTH, HEIGHT).unwrap()
}

#[test]
fn two_recipients_get_different_copies_each_taking_every_chip_from_a_or_b() {
    let key = SigningKey::from_secret(SECRET);
    let (index, a, b) = pair();
    let (one, two) = (copy_for(&key, "dealers/sh", None), copy_for(&key, "dealers/bj", None));
    assert_ne!(one.bits, two.bits);
    let (copy_one, crc) = splice_checked(&index, &a, &b, None, &one.bits).unwrap();
    let (copy_two, _) = splice_checked(&index, &a, &b, None, &two.bits).unwrap();
    assert_eq!(crc, crc32fast::hash(&copy_one));
    assert_ne!(copy_one, copy_two);
    assert!(copy_one != a && copy_one != b, "neither side whole");
    let (_, sa) = split_segments(&a).unwrap();
    let (_, sb) = split_segments(&b).unwrap();
    let (_, sc) = split_segments(&copy_one).unwrap();
    for c in 0..CHIPS {
        let want = if one.bits.bit(c) { &a[sa[c as usize].clone()] } else { &b[sb[c as usize].clone()] };
        assert_eq!(&copy_one[sc[c as usize].clone()], want, "chip {c}");
    }
}

#[test]
fn a_stamped_link_takes_its_band_from_its_own_object() {
    let key = SigningKey::from_secret(SECRET);
    let (index, a, b) = pair();
    let stamped = fake_jpeg(CHIPS, 90);
    let (_, ss) = split_segments(&stamped).unwrap();
    let band = Band { first: 9, segments: ss[9..].iter().map(|r| (r.len() as u32, crc32fast::hash(&stamped[r.clone()]))).collect() };
    let mut object = band.to_bytes();
    object.extend(ss[9..].iter().flat_map(|r| stamped[r.clone()].to_vec()));
    let (read, bytes) = split_band(&object).unwrap();
    assert_eq!(read, band);
    let copy = copy_for(&key, "dealers/sh", Some("0011223344556677"));
    assert_eq!(copy.band.as_deref(), Some("marked/fedcba9876543210-64.0011223344556677.band"));
    let (spliced, _) = splice_checked(&index, &a, &b, Some(&object), &copy.bits).unwrap();
    assert!(spliced[..spliced.len() - 2].ends_with(bytes), "the band's chips end the copy, then EOI");
    assert!(split_band(&object[..object.len() - bytes.len() - 1]).is_err(), "a truncated band header is refused");
    assert!(splice_checked(&index, &a, &b, Some(&object[..object.len() - 1]), &copy.bits).is_err(), "a truncated band is refused");
}

#[test]
fn damaged_or_mismatched_pieces_fail_closed() {
    let key = SigningKey::from_secret(SECRET);
    let (index, a, b) = pair();
    let bits = copy_for(&key, "dealers/sh", None).bits;
    // A byte flipped inside an entropy segment of both sides: same length, other CRC.
    let mut a2 = a.clone();
    let mut b2 = b.clone();
    a2[14] ^= 0x01;
    b2[14] ^= 0x01;
    assert!(splice_checked(&index, &a2, &b2, None, &bits).is_err());
    assert!(splice_checked(&index, &a[..a.len() - 1], &b, None, &bits).is_err(), "a truncated A");
    assert!(splice_checked(&index[..index.len() - 1], &a, &b, None, &bits).is_err(), "a truncated index");
    assert!(splice_checked(&index, &b, &a, None, &bits).is_err(), "sides swapped");
    let other_size = key.mark_key().codeword("g", "dealers/sh", "front", WIDTH, CHIPS + 4);
    assert!(splice_checked(&index, &a, &b, None, &other_size).is_err(), "a codeword for another geometry");
}
