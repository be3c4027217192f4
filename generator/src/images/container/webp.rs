//! WebP: RIFF chunks, and stripping by chunk allow-list.

use super::{Broken, Chunk, Layout, le32};

/// Reads the container structure; `Err` when it is cut short or malformed.
pub(super) fn layout(b: &[u8]) -> Result<Layout, Broken> {
    webp_chunks(b).map(|parts| webp_layout(b, &parts))
}

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

pub(super) fn webp_strip(b: &[u8], keep_exif: Option<&[u8]>) -> Result<Vec<u8>, Broken> {
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
