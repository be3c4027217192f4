//! Container-level work on the four source formats, without touching pixels: finding the
//! metadata (EXIF, ICC), judging truncation, counting frames, and rewriting a file with its
//! private metadata removed.
//!
//! Stripping works by allow-list: only the segments/chunks a viewer needs to show the pixels
//! right are kept (image data, colour profile, animation control), so metadata kinds we never
//! heard of (maker notes, XMP, IPTC, trailing "extra" JPEGs with their own EXIF) go too.

use super::SourceFormat;

/// What the container says about an image, beyond its pixels.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub(crate) struct Layout {
    /// TIFF-structured EXIF payload (starts with `II*\0` or `MM\0*`).
    pub exif: Option<Vec<u8>>,
    /// Raw ICC profile, when the container carries it uncompressed (JPEG, WebP).
    pub icc: Option<Vec<u8>>,
    pub animated: bool,
}

/// Why a container is unusable. The text is shown to the gallery owner.
pub(crate) type Broken = String;

fn be16(b: &[u8], at: usize) -> Option<usize> {
    Some(u16::from_be_bytes(b.get(at..at + 2)?.try_into().ok()?) as usize)
}
fn be32(b: &[u8], at: usize) -> Option<usize> {
    Some(u32::from_be_bytes(b.get(at..at + 4)?.try_into().ok()?) as usize)
}
fn le32(b: &[u8], at: usize) -> Option<usize> {
    Some(u32::from_le_bytes(b.get(at..at + 4)?.try_into().ok()?) as usize)
}

/// Reads the container structure; `Err` when it is cut short or malformed.
pub(crate) fn layout(format: SourceFormat, bytes: &[u8]) -> Result<Layout, Broken> {
    match format {
        SourceFormat::Jpeg => jpeg_segments(bytes).map(|s| jpeg_layout(bytes, &s)),
        SourceFormat::Png => png_chunks(bytes).map(|c| png_layout(bytes, &c)),
        SourceFormat::Gif => gif_frames(bytes).map(|frames| Layout { animated: frames > 1, ..Layout::default() }),
        SourceFormat::WebP => webp_chunks(bytes).map(|c| webp_layout(bytes, &c)),
    }
}

/// The file with private metadata removed and nothing re-encoded. `keep_exif` is a minimal
/// replacement EXIF block (orientation, copyright) or `None`.
pub(crate) fn strip(format: SourceFormat, bytes: &[u8], keep_exif: Option<&[u8]>) -> Result<Vec<u8>, Broken> {
    match format {
        SourceFormat::Jpeg => jpeg_strip(bytes, keep_exif),
        SourceFormat::Png => png_strip(bytes, keep_exif),
        SourceFormat::WebP => webp_strip(bytes, keep_exif),
        // GIF has no EXIF; comment and application extensions are kept as they are.
        SourceFormat::Gif => gif_frames(bytes).map(|_| bytes.to_vec()),
    }
}

// ---------------------------------------------------------------- JPEG

#[derive(Debug, Clone, Copy)]
struct Segment {
    marker: u8,
    /// From the 0xFF of the marker to the end of the segment (for SOS: of its entropy data).
    start: usize,
    end: usize,
}

fn jpeg_segments(b: &[u8]) -> Result<Vec<Segment>, Broken> {
    const CUT: &str = "the JPEG file is cut short (no end-of-image marker): it was probably not fully copied or uploaded";
    if !b.starts_with(&[0xFF, 0xD8]) {
        return Err("not a JPEG stream".into());
    }
    let mut segs = vec![Segment { marker: 0xD8, start: 0, end: 2 }];
    let mut pos = 2;
    loop {
        let start = pos;
        if b.get(pos) != Some(&0xFF) {
            return Err(if pos >= b.len() { CUT.into() } else { format!("the JPEG structure is damaged at byte {pos}") });
        }
        while b.get(pos) == Some(&0xFF) {
            pos += 1;
        }
        let Some(&marker) = b.get(pos) else { return Err(CUT.into()) };
        pos += 1;
        match marker {
            0xD9 => {
                segs.push(Segment { marker, start, end: pos });
                return Ok(segs);
            }
            0x01 | 0xD0..=0xD7 => segs.push(Segment { marker, start, end: pos }),
            _ => {
                let len = be16(b, pos).ok_or(CUT)?;
                if len < 2 {
                    return Err(format!("the JPEG structure is damaged at byte {pos}"));
                }
                pos += len;
                if pos > b.len() {
                    return Err(CUT.into());
                }
                if marker == 0xDA {
                    // Entropy-coded data runs to the next marker that is not a stuffed 0xFF00
                    // or a restart marker.
                    loop {
                        let Some(off) = b.get(pos..).and_then(|rest| rest.iter().position(|&x| x == 0xFF)) else {
                            return Err(CUT.into());
                        };
                        pos += off;
                        match b.get(pos + 1) {
                            None => return Err(CUT.into()),
                            Some(0x00 | 0xD0..=0xD7 | 0xFF) => pos += 1,
                            Some(_) => break,
                        }
                    }
                }
                segs.push(Segment { marker, start, end: pos });
            }
        }
    }
}

fn jpeg_payload<'a>(b: &'a [u8], s: &Segment) -> &'a [u8] {
    // Marker (2 bytes, fill bytes aside) and length (2 bytes) precede the payload.
    let head = b[s.start..s.end].iter().position(|&x| x != 0xFF).unwrap_or(0) + s.start + 1;
    &b[(head + 2).min(s.end)..s.end]
}

fn jpeg_layout(b: &[u8], segs: &[Segment]) -> Layout {
    let mut out = Layout::default();
    let mut icc_parts: Vec<(u8, &[u8])> = Vec::new();
    for s in segs.iter().take_while(|s| s.marker != 0xDA) {
        let p = jpeg_payload(b, s);
        if s.marker == 0xE1 && p.starts_with(b"Exif\0\0") && out.exif.is_none() {
            out.exif = Some(p[6..].to_vec());
        } else if s.marker == 0xE2 && p.starts_with(b"ICC_PROFILE\0") && p.len() >= 14 {
            icc_parts.push((p[12], &p[14..]));
        }
    }
    if !icc_parts.is_empty() {
        icc_parts.sort_by_key(|(seq, _)| *seq);
        out.icc = Some(icc_parts.iter().flat_map(|(_, d)| d.iter().copied()).collect());
    }
    out
}

fn jpeg_keeps(b: &[u8], s: &Segment) -> bool {
    let p = jpeg_payload(b, s);
    match s.marker {
        // JFIF header (not the JFXX thumbnail extension).
        0xE0 => p.starts_with(b"JFIF\0"),
        0xE2 => p.starts_with(b"ICC_PROFILE\0"),
        // Adobe: tells decoders how to read the colour transform of CMYK/RGB files.
        0xEE => p.starts_with(b"Adobe"),
        0xE1 | 0xE3..=0xED | 0xEF | 0xFE => false,
        _ => true,
    }
}

fn jpeg_strip(b: &[u8], keep_exif: Option<&[u8]>) -> Result<Vec<u8>, Broken> {
    let segs = jpeg_segments(b)?;
    let mut out = Vec::with_capacity(b.len());
    let mut exif_written = keep_exif.is_none();
    for s in &segs {
        if !jpeg_keeps(b, s) {
            continue;
        }
        // EXIF belongs right after SOI and JFIF.
        if !exif_written && s.marker != 0xD8 && s.marker != 0xE0 {
            let tiff = keep_exif.unwrap_or_default();
            let len = 2 + 6 + tiff.len();
            if len > 0xFFFF {
                return Err("EXIF block too large".into());
            }
            out.extend_from_slice(&[0xFF, 0xE1]);
            out.extend_from_slice(&(len as u16).to_be_bytes());
            out.extend_from_slice(b"Exif\0\0");
            out.extend_from_slice(tiff);
            exif_written = true;
        }
        out.extend_from_slice(&b[s.start..s.end]);
    }
    Ok(out)
}

// ---------------------------------------------------------------- PNG

#[derive(Debug, Clone, Copy)]
struct Chunk {
    kind: [u8; 4],
    start: usize,
    data: usize,
    end: usize,
}

fn png_chunks(b: &[u8]) -> Result<Vec<Chunk>, Broken> {
    const CUT: &str = "the PNG file is cut short (no IEND chunk): it was probably not fully copied or uploaded";
    let mut pos = 8;
    let mut chunks = Vec::new();
    loop {
        let len = be32(b, pos).ok_or(CUT)?;
        let kind: [u8; 4] = b.get(pos + 4..pos + 8).ok_or(CUT)?.try_into().map_err(|_| CUT)?;
        let end = pos.checked_add(12 + len).ok_or(CUT)?;
        if end > b.len() {
            return Err(CUT.into());
        }
        chunks.push(Chunk { kind, start: pos, data: pos + 8, end });
        pos = end;
        if &kind == b"IEND" {
            return Ok(chunks);
        }
    }
}

fn png_layout(b: &[u8], chunks: &[Chunk]) -> Layout {
    let mut out = Layout::default();
    for c in chunks {
        match &c.kind {
            b"eXIf" => out.exif = Some(b[c.data..c.end - 4].to_vec()),
            b"acTL" => out.animated = be32(b, c.data).is_some_and(|frames| frames > 1),
            _ => {}
        }
    }
    out
}

/// Chunks that affect how the pixels look or move; everything else (text, time, EXIF,
/// unknown private chunks) is dropped.
const PNG_KEEP: [&[u8; 4]; 16] = [
    b"IHDR", b"PLTE", b"IDAT", b"IEND", b"tRNS", b"gAMA", b"cHRM", b"sRGB", b"iCCP", b"sBIT", b"bKGD", b"pHYs", b"acTL", b"fcTL",
    b"fdAT", b"cICP",
];

fn png_strip(b: &[u8], keep_exif: Option<&[u8]>) -> Result<Vec<u8>, Broken> {
    let chunks = png_chunks(b)?;
    let mut out = Vec::with_capacity(b.len());
    out.extend_from_slice(&b[..8]);
    for c in &chunks {
        if &c.kind == b"IHDR"
            && let Some(tiff) = keep_exif
        {
            out.extend_from_slice(&b[c.start..c.end]);
            out.extend_from_slice(&(tiff.len() as u32).to_be_bytes());
            let mut crc = crc32fast::Hasher::new();
            crc.update(b"eXIf");
            crc.update(tiff);
            out.extend_from_slice(b"eXIf");
            out.extend_from_slice(tiff);
            out.extend_from_slice(&crc.finalize().to_be_bytes());
            continue;
        }
        if PNG_KEEP.contains(&&c.kind) {
            out.extend_from_slice(&b[c.start..c.end]);
        }
    }
    Ok(out)
}

// ---------------------------------------------------------------- GIF

/// Walks the GIF block structure to its trailer and counts the frames.
fn gif_frames(b: &[u8]) -> Result<usize, Broken> {
    const CUT: &str = "the GIF file is cut short (no trailer): it was probably not fully copied or uploaded";
    let skip_sub_blocks = |mut pos: usize| -> Result<usize, Broken> {
        loop {
            let len = *b.get(pos).ok_or(CUT)? as usize;
            pos += 1 + len;
            if len == 0 {
                return Ok(pos);
            }
        }
    };
    let packed = *b.get(10).ok_or(CUT)?;
    let mut pos = 13;
    if packed & 0x80 != 0 {
        pos += 3 << ((packed & 7) + 1);
    }
    let mut frames = 0;
    loop {
        match *b.get(pos).ok_or(CUT)? {
            0x3B => return Ok(frames),
            0x21 => pos = skip_sub_blocks(pos + 2)?,
            0x2C => {
                let packed = *b.get(pos + 9).ok_or(CUT)?;
                pos += 10;
                if packed & 0x80 != 0 {
                    pos += 3 << ((packed & 7) + 1);
                }
                // LZW minimum code size, then the image data.
                pos = skip_sub_blocks(pos + 1)?;
                frames += 1;
            }
            other => return Err(format!("the GIF structure is damaged at byte {pos} (block type {other:#04x})")),
        }
    }
}

// ---------------------------------------------------------------- WebP

fn webp_chunks(b: &[u8]) -> Result<Vec<Chunk>, Broken> {
    const CUT: &str = "the WebP file is cut short (shorter than its RIFF header says): it was probably not fully copied or uploaded";
    let riff_end = le32(b, 4).ok_or(CUT)?.checked_add(8).ok_or(CUT)?;
    if riff_end > b.len() {
        return Err(CUT.into());
    }
    let mut pos = 12;
    let mut chunks = Vec::new();
    while pos < riff_end {
        let kind: [u8; 4] = b.get(pos..pos + 4).ok_or(CUT)?.try_into().map_err(|_| CUT)?;
        let len = le32(b, pos + 4).ok_or(CUT)?;
        let end = (pos + 8).checked_add(len + (len & 1)).ok_or(CUT)?;
        if end > riff_end {
            return Err(CUT.into());
        }
        chunks.push(Chunk { kind, start: pos, data: pos + 8, end });
        pos = end;
    }
    Ok(chunks)
}

fn webp_chunk_data<'a>(b: &'a [u8], c: &Chunk) -> &'a [u8] {
    let len = le32(b, c.start + 4).unwrap_or(0);
    &b[c.data..c.data + len]
}

fn webp_layout(b: &[u8], chunks: &[Chunk]) -> Layout {
    let mut out = Layout::default();
    for c in chunks {
        match &c.kind {
            b"VP8X" => out.animated = b.get(c.data).is_some_and(|flags| flags & 0x02 != 0),
            b"ICCP" => out.icc = Some(webp_chunk_data(b, c).to_vec()),
            b"EXIF" => {
                let d = webp_chunk_data(b, c);
                // Some writers keep JPEG's "Exif\0\0" prefix.
                out.exif = Some(d.strip_prefix(b"Exif\0\0").unwrap_or(d).to_vec());
            }
            _ => {}
        }
    }
    out
}

fn webp_strip(b: &[u8], keep_exif: Option<&[u8]>) -> Result<Vec<u8>, Broken> {
    let chunks = webp_chunks(b)?;
    let has_vp8x = chunks.first().is_some_and(|c| &c.kind == b"VP8X");
    let mut out = Vec::with_capacity(b.len());
    out.extend_from_slice(b"RIFF\0\0\0\0WEBP");
    for c in &chunks {
        match &c.kind {
            b"EXIF" | b"XMP " => {}
            b"VP8X" => {
                let at = out.len() + 8;
                out.extend_from_slice(&b[c.start..c.end]);
                // Clear the EXIF (0x08) and XMP (0x04) flags; set EXIF again if we add it.
                out[at] &= !0x0C;
                if keep_exif.is_some() {
                    out[at] |= 0x08;
                }
            }
            // Unknown chunks may carry anything; a decoder ignores them anyway.
            b"VP8 " | b"VP8L" | b"ALPH" | b"ANIM" | b"ANMF" | b"ICCP" => out.extend_from_slice(&b[c.start..c.end]),
            _ => {}
        }
    }
    // A simple-format WebP (no VP8X) cannot carry EXIF; orientation is then left to the pixels.
    if let Some(tiff) = keep_exif.filter(|_| has_vp8x) {
        out.extend_from_slice(b"EXIF");
        out.extend_from_slice(&(tiff.len() as u32).to_le_bytes());
        out.extend_from_slice(tiff);
        if tiff.len() % 2 == 1 {
            out.push(0);
        }
    }
    let riff = (out.len() - 8) as u32;
    out[4..8].copy_from_slice(&riff.to_le_bytes());
    Ok(out)
}

// ---------------------------------------------------------------- EXIF

/// What survives of a photo's EXIF in published files.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub(crate) struct KeptExif {
    /// 1–8 as in EXIF; 1 is upright.
    pub orientation: u16,
    pub copyright: Option<String>,
}

pub(crate) fn read_exif(tiff: &[u8]) -> KeptExif {
    let Ok(exif) = exif::Reader::new().read_raw(tiff.to_vec()) else {
        return KeptExif { orientation: 1, copyright: None };
    };
    let orientation = exif
        .get_field(exif::Tag::Orientation, exif::In::PRIMARY)
        .and_then(|f| f.value.get_uint(0))
        .filter(|o| (1..=8).contains(o))
        .unwrap_or(1) as u16;
    let copyright = exif.get_field(exif::Tag::Copyright, exif::In::PRIMARY).and_then(|f| match &f.value {
        exif::Value::Ascii(parts) => {
            let text: String = parts.iter().map(|p| String::from_utf8_lossy(p).trim().to_string()).filter(|s| !s.is_empty()).collect::<Vec<_>>().join(" / ");
            (!text.is_empty()).then_some(text)
        }
        _ => None,
    });
    KeptExif { orientation, copyright }
}

/// A minimal little-endian TIFF/EXIF block with only orientation and copyright, or `None`
/// when there is nothing worth keeping.
pub(crate) fn minimal_exif(kept: &KeptExif) -> Option<Vec<u8>> {
    let copyright = kept.copyright.as_deref().map(|c| {
        let mut v: Vec<u8> = c.bytes().filter(|b| *b != 0).take(4000).collect();
        v.push(0);
        v
    });
    if kept.orientation <= 1 && copyright.is_none() {
        return None;
    }
    let entries = 1 + usize::from(copyright.is_some());
    let values_at = 8 + 2 + entries * 12 + 4;
    let mut t = Vec::with_capacity(values_at + copyright.as_ref().map_or(0, Vec::len));
    t.extend_from_slice(b"II*\0");
    t.extend_from_slice(&8u32.to_le_bytes());
    t.extend_from_slice(&(entries as u16).to_le_bytes());
    // Orientation: SHORT, count 1, value inline.
    t.extend_from_slice(&0x0112u16.to_le_bytes());
    t.extend_from_slice(&3u16.to_le_bytes());
    t.extend_from_slice(&1u32.to_le_bytes());
    t.extend_from_slice(&kept.orientation.max(1).to_le_bytes());
    t.extend_from_slice(&[0, 0]);
    if let Some(c) = &copyright {
        t.extend_from_slice(&0x8298u16.to_le_bytes());
        t.extend_from_slice(&2u16.to_le_bytes());
        t.extend_from_slice(&(c.len() as u32).to_le_bytes());
        if c.len() <= 4 {
            let mut inline = [0u8; 4];
            inline[..c.len()].copy_from_slice(c);
            t.extend_from_slice(&inline);
        } else {
            t.extend_from_slice(&(values_at as u32).to_le_bytes());
        }
    }
    t.extend_from_slice(&0u32.to_le_bytes());
    if let Some(c) = copyright.filter(|c| c.len() > 4) {
        t.extend_from_slice(&c);
    }
    Some(t)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn minimal_exif_reads_back_as_orientation_and_copyright_only() {
        let kept = KeptExif { orientation: 6, copyright: Some("© Brand 2026".into()) };
        let tiff = minimal_exif(&kept).unwrap();
        assert_eq!(read_exif(&tiff), kept);
        let exif = exif::Reader::new().read_raw(tiff).unwrap();
        assert_eq!(exif.fields().count(), 2);
    }

    #[test]
    fn an_upright_photo_without_copyright_keeps_no_exif_at_all() {
        assert_eq!(minimal_exif(&KeptExif { orientation: 1, copyright: None }), None);
    }

    #[test]
    fn a_jpeg_without_end_marker_is_reported_as_cut_short() {
        let err = jpeg_segments(&[0xFF, 0xD8, 0xFF, 0xDB, 0x00, 0x04, 1, 2, 0xFF, 0xDA, 0x00, 0x02, 9, 9, 9]).unwrap_err();
        assert!(err.contains("cut short"), "{err}");
    }

    #[test]
    fn a_gif_without_trailer_is_reported_as_cut_short() {
        let mut gif = b"GIF89a".to_vec();
        gif.extend_from_slice(&[1, 0, 1, 0, 0, 0, 0]);
        assert!(gif_frames(&gif).unwrap_err().contains("cut short"));
        gif.push(0x3B);
        assert_eq!(gif_frames(&gif), Ok(0));
    }
}
