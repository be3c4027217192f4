//! PNG: chunks with their CRCs, and stripping by chunk allow-list.

use super::{Broken, Chunk, Layout, be32};

/// Reads the container structure; `Err` when it is cut short or malformed.
pub(super) fn layout(b: &[u8]) -> Result<Layout, Broken> {
    png_chunks(b).map(|parts| png_layout(b, &parts))
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

pub(super) fn png_strip(b: &[u8], keep_exif: Option<&[u8]>) -> Result<Vec<u8>, Broken> {
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
