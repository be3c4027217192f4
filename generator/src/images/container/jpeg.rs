//! JPEG: segments up to the end of the scan, and stripping by segment allow-list.

use super::{Broken, Layout, be16};

#[derive(Debug, Clone, Copy)]
struct Segment {
    marker: u8,
    /// From the 0xFF of the marker to the end of the segment (for SOS: of its entropy data).
    start: usize,
    end: usize,
}

/// Reads the container structure; `Err` when it is cut short or malformed.
pub(super) fn layout(b: &[u8]) -> Result<Layout, Broken> {
    jpeg_segments(b).map(|parts| jpeg_layout(b, &parts))
}

/// The first 0xFF byte of `b`. The entropy-coded data is most of a JPEG and is walked for
/// markers on every plan and encode: 16 bytes at a time (the comparison vectorises) took this
/// walk from ~1.7 % of an image build's CPU time, byte by byte, to a fraction of it.
fn find_ff(b: &[u8]) -> Option<usize> {
    let mut chunks = b.chunks_exact(16);
    for (i, chunk) in (&mut chunks).enumerate() {
        let chunk: &[u8; 16] = chunk.try_into().expect("chunks of 16");
        if chunk.iter().fold(false, |any, &x| any | (x == 0xFF)) {
            return chunk.iter().position(|&x| x == 0xFF).map(|at| i * 16 + at);
        }
    }
    let done = b.len() - chunks.remainder().len();
    chunks.remainder().iter().position(|&x| x == 0xFF).map(|at| done + at)
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
                        let Some(off) = b.get(pos..).and_then(find_ff) else {
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

pub(super) fn jpeg_strip(b: &[u8], keep_exif: Option<&[u8]>) -> Result<Vec<u8>, Broken> {
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


#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_jpeg_without_end_marker_is_reported_as_cut_short() {
        let err = jpeg_segments(&[0xFF, 0xD8, 0xFF, 0xDB, 0x00, 0x04, 1, 2, 0xFF, 0xDA, 0x00, 0x02, 9, 9, 9]).unwrap_err();
        assert!(err.contains("cut short"), "{err}");
    }

    #[test]
    fn the_marker_search_finds_the_first_0xff_wherever_it_falls_in_its_16_byte_chunks() {
        for len in [0, 1, 15, 16, 17, 40] {
            for at in 0..=len {
                let mut b = vec![0x12u8; len + 2];
                b[len + 1] = 0xFF;
                if at < len {
                    b[at] = 0xFF;
                }
                let first = if at < len { at } else { len + 1 };
                assert_eq!(find_ff(&b), Some(first), "len {len}, 0xFF at {at}");
            }
            assert_eq!(find_ff(&vec![0u8; len]), None);
        }
    }
}
