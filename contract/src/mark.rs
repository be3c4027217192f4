//! Forensic marks: what the generator, the worker and `gatefold trace` agree on.
//!
//! A marked image is made once per variant at publish as two baseline JPEGs, `A` (the image plus
//! a keyed, perceptually masked pattern) and `B` (the image minus it), encoded with the same
//! quantisation and standard Huffman tables and a restart marker every [`RESTART_MCUS`] MCUs.
//! Restart markers reset the decoder's DC prediction, so each restart segment ("chip") of `A`
//! can stand in for the same segment of `B`: a recipient's copy is `A`'s header, then chip by
//! chip `A`'s or `B`'s bytes as the recipient's [`Codeword`] says, then the end marker. The
//! worker does no pixel work and the result is a valid JPEG of known size and CRC-32 before a
//! byte is read ([`MarkIndex::spliced_size_crc`]), which the ZIP's layout needs.
//!
//! A visible stamp replaces a band of whole chips with the recipient's own stamped segments,
//! encoded at publish ([`Band`]); the trace masks those chips.
//!
//! Keys: [`MarkKey`] is derived from the site's signing key under a context of its own and
//! named by [`MarkKey::id`]; every marked object's R2 key carries that id, so a later key never
//! reuses an earlier key's objects and a trace given the earlier key still reads its marks.

use crc32fast::Hasher as Crc;

/// This scheme's version: part of every marked object's key and of the trace's report.
pub const SCHEME: u32 = 1;
/// A 4:2:0 JPEG's MCU is 16×16 pixels.
pub const MCU: u32 = 16;
/// MCUs per restart interval: a chip is 64×16 pixels.
pub const RESTART_MCUS: u32 = 4;

/// The key marks are made and read with (32 bytes, derived from the signing key's secret).
#[derive(Clone)]
pub struct MarkKey {
    key: [u8; 32],
    id: String,
}

impl std::fmt::Debug for MarkKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "MarkKey({})", self.id)
    }
}

impl MarkKey {
    /// The mark key of a signing key's secret (see `SigningKey::mark_key`).
    pub fn from_secret(secret: &str) -> MarkKey {
        let key = blake3::derive_key("gatefold 2026 forensic mark key v1", secret.as_bytes());
        let id = blake3::derive_key("gatefold 2026 forensic mark key id v1", &key);
        MarkKey { key, id: data_encoding::HEXLOWER.encode(&id[..6]) }
    }

    /// Names the key without revealing it (12 hex digits): R2 keys and trace reports carry it.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// 32 bytes seeding the pattern of `image`'s `width` px variant: the generator draws the
    /// pattern from it, and nobody without the key can.
    pub fn pattern_seed(&self, image: &str, width: u32) -> [u8; 32] {
        let mut h = blake3::Hasher::new_keyed(&self.key);
        h.update(b"pattern\0").update(image.as_bytes()).update(b"\0").update(&width.to_le_bytes());
        *h.finalize().as_bytes()
    }

    /// The chips' signs for one link's copy of one variant.
    pub fn codeword(&self, gallery: &str, link: &str, image: &str, width: u32, chips: u32) -> Codeword {
        let mut h = blake3::Hasher::new_keyed(&self.key);
        for part in ["codeword", gallery, link, image] {
            h.update(part.as_bytes()).update(b"\0");
        }
        h.update(&width.to_le_bytes());
        let mut bits = vec![0u8; chips.div_ceil(8) as usize];
        h.finalize_xof().fill(&mut bits);
        Codeword { bits, chips }
    }
}

/// One bit per chip: 1 takes `A`'s segment (pattern added), 0 takes `B`'s (pattern subtracted).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Codeword {
    bits: Vec<u8>,
    chips: u32,
}

impl Codeword {
    pub fn len(&self) -> u32 {
        self.chips
    }

    pub fn is_empty(&self) -> bool {
        self.chips == 0
    }

    pub fn bit(&self, chip: u32) -> bool {
        self.bits[(chip / 8) as usize] >> (chip % 8) & 1 == 1
    }

    /// +1.0 for a 1 bit, −1.0 for a 0 bit: the sign the chip's pattern was added with.
    pub fn sign(&self, chip: u32) -> f32 {
        if self.bit(chip) { 1.0 } else { -1.0 }
    }
}

/// Where each chip lies in a `width`×`height` variant: chip `c` is MCUs `c·RESTART_MCUS ..` in
/// raster order (a chip may wrap to the next MCU row).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Geometry {
    pub width: u32,
    pub height: u32,
}

impl Geometry {
    pub fn mcus_per_row(&self) -> u32 {
        self.width.div_ceil(MCU)
    }

    pub fn mcu_rows(&self) -> u32 {
        self.height.div_ceil(MCU)
    }

    pub fn chips(&self) -> u32 {
        (self.mcus_per_row() * self.mcu_rows()).div_ceil(RESTART_MCUS)
    }

    /// The chip pixel (`x`, `y`) belongs to.
    pub fn chip_at(&self, x: u32, y: u32) -> u32 {
        ((y / MCU) * self.mcus_per_row() + x / MCU) / RESTART_MCUS
    }

    /// The first MCU row at or above `row` where a chip starts: a stamp's band starts there.
    pub fn band_start(&self, row: u32) -> u32 {
        (0..=row.min(self.mcu_rows())).rev().find(|r| (r * self.mcus_per_row()) % RESTART_MCUS == 0).unwrap_or(0)
    }

    /// The first MCU row at or below `row` where a chip starts (or the image's end).
    pub fn band_end(&self, row: u32) -> u32 {
        (row..self.mcu_rows()).find(|r| (r * self.mcus_per_row()) % RESTART_MCUS == 0).unwrap_or(self.mcu_rows())
    }
}

/// One chip's bytes in `A` and `B`, its restart marker included (the last chip has none).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Segment {
    pub a_len: u32,
    pub b_len: u32,
    pub a_crc: u32,
    pub b_crc: u32,
}

/// A marked pair's layout: `A` and `B` share `header_len` bytes (SOI … SOS), then hold one
/// segment per chip, then the two-byte end marker.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MarkIndex {
    pub header_len: u32,
    pub header_crc: u32,
    pub segments: Vec<Segment>,
}

/// A stamped recipient's own chips `first ..`: their lengths and CRCs, the bytes in a file of
/// their own (markers renumbered to their place in the full image).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Band {
    pub first: u32,
    pub segments: Vec<(u32, u32)>,
}

const INDEX_MAGIC: &[u8; 4] = b"GFMI";
const BAND_MAGIC: &[u8; 4] = b"GFMB";
/// A 25,000 px wide image has fewer chips than this; anything longer is not ours.
const MAX_CHIPS: u32 = 4_000_000;
const EOI: [u8; 2] = [0xFF, 0xD9];

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MarkError {
    /// An index or band that does not parse, or does not fit the bytes it describes.
    Corrupt(&'static str),
}

impl std::fmt::Display for MarkError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            MarkError::Corrupt(what) => write!(f, "marked image data is damaged: {what} (fix: publish the site again)"),
        }
    }
}

impl std::error::Error for MarkError {}

struct Reader<'a>(&'a [u8]);

impl Reader<'_> {
    fn u32(&mut self) -> Result<u32, MarkError> {
        let (head, rest) = self.0.split_first_chunk::<4>().ok_or(MarkError::Corrupt("truncated"))?;
        self.0 = rest;
        Ok(u32::from_le_bytes(*head))
    }
}

fn crc_of(crc: u32, len: u64) -> Crc {
    Crc::new_with_initial_len(crc, len)
}

impl MarkIndex {
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(16 + self.segments.len() * 16);
        out.extend_from_slice(INDEX_MAGIC);
        for v in [SCHEME, self.header_len, self.header_crc, self.segments.len() as u32] {
            out.extend_from_slice(&v.to_le_bytes());
        }
        for s in &self.segments {
            for v in [s.a_len, s.b_len, s.a_crc, s.b_crc] {
                out.extend_from_slice(&v.to_le_bytes());
            }
        }
        out
    }

    pub fn from_bytes(bytes: &[u8]) -> Result<MarkIndex, MarkError> {
        let rest = bytes.strip_prefix(INDEX_MAGIC).ok_or(MarkError::Corrupt("not a mark index"))?;
        let mut r = Reader(rest);
        if r.u32()? != SCHEME {
            return Err(MarkError::Corrupt("a mark scheme this version cannot read"));
        }
        let (header_len, header_crc, n) = (r.u32()?, r.u32()?, r.u32()?);
        if n > MAX_CHIPS || r.0.len() != n as usize * 16 {
            return Err(MarkError::Corrupt("chip count"));
        }
        let segments = (0..n).map(|_| Ok(Segment { a_len: r.u32()?, b_len: r.u32()?, a_crc: r.u32()?, b_crc: r.u32()? })).collect::<Result<_, MarkError>>()?;
        Ok(MarkIndex { header_len, header_crc, segments })
    }

    /// Total length of `A` (or `B` with `b`).
    pub fn file_len(&self, b: bool) -> u64 {
        let body: u64 = self.segments.iter().map(|s| u64::from(if b { s.b_len } else { s.a_len })).sum();
        u64::from(self.header_len) + body + EOI.len() as u64
    }

    /// Where each chip of a copy comes from, in order: `A`'s or `B`'s bytes by the codeword, or
    /// the band's (its offset kept as it goes: a tiled stamp's band covers every chip).
    fn pieces<'a>(&'a self, bits: &'a Codeword, band: Option<&'a Band>) -> impl Iterator<Item = Pick> + 'a {
        let mut band_offset = 0u64;
        (0..self.segments.len() as u32).map(move |c| {
            if let Some(band) = band
                && c >= band.first
                && let Some(&(len, crc)) = band.segments.get((c - band.first) as usize)
            {
                let offset = band_offset;
                band_offset += u64::from(len);
                return Pick::Band { offset, len, crc };
            }
            let s = self.segments[c as usize];
            if bits.bit(c) { Pick::A { len: s.a_len, crc: s.a_crc } } else { Pick::B { len: s.b_len, crc: s.b_crc } }
        })
    }

    /// Size and CRC-32 of the copy `bits` (and `band`) make, from the index alone.
    pub fn spliced_size_crc(&self, bits: &Codeword, band: Option<&Band>) -> Result<(u64, u32), MarkError> {
        self.check(bits, band)?;
        let mut crc = crc_of(self.header_crc, u64::from(self.header_len));
        let mut size = u64::from(self.header_len) + EOI.len() as u64;
        for piece in self.pieces(bits, band) {
            let (len, piece_crc) = match piece {
                Pick::A { len, crc } | Pick::B { len, crc } | Pick::Band { len, crc, .. } => (len, crc),
            };
            crc.combine(&crc_of(piece_crc, u64::from(len)));
            size += u64::from(len);
        }
        crc.update(&EOI);
        Ok((size, crc.finalize()))
    }

    fn check(&self, bits: &Codeword, band: Option<&Band>) -> Result<(), MarkError> {
        if bits.len() as usize != self.segments.len() {
            return Err(MarkError::Corrupt("codeword and index disagree on the chip count"));
        }
        // In u64: on the 32-bit worker a damaged `first` must not wrap past the check.
        if let Some(band) = band
            && u64::from(band.first) + band.segments.len() as u64 > self.segments.len() as u64
        {
            return Err(MarkError::Corrupt("stamp band past the last chip"));
        }
        Ok(())
    }

    /// The copy `bits` (and `band`, with its bytes) make from `a` and `b`. Refuses rather than
    /// serving anything when the pieces do not fit the index: never `A` or `B` whole.
    pub fn splice(&self, a: &[u8], b: &[u8], bits: &Codeword, band: Option<(&Band, &[u8])>) -> Result<Vec<u8>, MarkError> {
        self.check(bits, band.map(|(b, _)| b))?;
        if a.len() as u64 != self.file_len(false) || b.len() as u64 != self.file_len(true) {
            return Err(MarkError::Corrupt("image sizes differ from the index"));
        }
        if let Some((band, bytes)) = band
            && bytes.len() as u64 != band.segments.iter().map(|s| u64::from(s.0)).sum::<u64>()
        {
            return Err(MarkError::Corrupt("stamp band size"));
        }
        let mut out = Vec::with_capacity(a.len().max(b.len()));
        out.extend_from_slice(&a[..self.header_len as usize]);
        let (mut at_a, mut at_b) = (self.header_len as usize, self.header_len as usize);
        for (s, piece) in self.segments.iter().zip(self.pieces(bits, band.map(|(b, _)| b))) {
            match piece {
                Pick::A { len, .. } => out.extend_from_slice(&a[at_a..at_a + len as usize]),
                Pick::B { len, .. } => out.extend_from_slice(&b[at_b..at_b + len as usize]),
                Pick::Band { offset, len, .. } => {
                    let bytes = band.map(|(_, bytes)| bytes).unwrap_or_default();
                    out.extend_from_slice(&bytes[offset as usize..offset as usize + len as usize]);
                }
            }
            at_a += s.a_len as usize;
            at_b += s.b_len as usize;
        }
        out.extend_from_slice(&EOI);
        Ok(out)
    }
}

enum Pick {
    A { len: u32, crc: u32 },
    B { len: u32, crc: u32 },
    Band { offset: u64, len: u32, crc: u32 },
}


impl Band {
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(12 + self.segments.len() * 8);
        out.extend_from_slice(BAND_MAGIC);
        for v in [self.first, self.segments.len() as u32] {
            out.extend_from_slice(&v.to_le_bytes());
        }
        for (len, crc) in &self.segments {
            out.extend_from_slice(&len.to_le_bytes());
            out.extend_from_slice(&crc.to_le_bytes());
        }
        out
    }

    pub fn from_bytes(bytes: &[u8]) -> Result<Band, MarkError> {
        let rest = bytes.strip_prefix(BAND_MAGIC).ok_or(MarkError::Corrupt("not a stamp band"))?;
        let mut r = Reader(rest);
        let (first, n) = (r.u32()?, r.u32()?);
        if n > MAX_CHIPS || r.0.len() != n as usize * 8 {
            return Err(MarkError::Corrupt("band chip count"));
        }
        let segments = (0..n).map(|_| Ok((r.u32()?, r.u32()?))).collect::<Result<_, MarkError>>()?;
        Ok(Band { first, segments })
    }
}

/// Splits a baseline JPEG with restart markers into its header (through SOS), its restart
/// segments (each with its trailing RSTn marker, the last without) and checks the end marker.
pub fn split_segments(jpeg: &[u8]) -> Result<(usize, Vec<std::ops::Range<usize>>), MarkError> {
    let header_len = scan_start(jpeg)?;
    let body = jpeg.len().checked_sub(2).filter(|end| *end >= header_len && jpeg[*end..] == EOI).ok_or(MarkError::Corrupt("no end marker"))?;
    let mut segments = Vec::new();
    let (mut start, mut i) = (header_len, header_len);
    while i + 1 < body {
        if jpeg[i] == 0xFF {
            match jpeg[i + 1] {
                0x00 => i += 2,
                0xD0..=0xD7 => {
                    segments.push(start..i + 2);
                    i += 2;
                    start = i;
                }
                0xFF => i += 1,
                _ => return Err(MarkError::Corrupt("a marker inside the scan")),
            }
        } else {
            i += 1;
        }
    }
    segments.push(start..body);
    Ok((header_len, segments))
}

/// Where the entropy-coded data starts: just after the (single) SOS segment.
fn scan_start(jpeg: &[u8]) -> Result<usize, MarkError> {
    if jpeg.get(..2) != Some(&[0xFF, 0xD8]) {
        return Err(MarkError::Corrupt("not a JPEG"));
    }
    let mut i = 2;
    loop {
        let (marker, len) = match jpeg.get(i..i + 4) {
            Some(&[0xFF, m, hi, lo]) => (m, usize::from(hi) << 8 | usize::from(lo)),
            _ => return Err(MarkError::Corrupt("header")),
        };
        if marker == 0xC2 {
            return Err(MarkError::Corrupt("progressive JPEG"));
        }
        i += 2 + len;
        if marker == 0xDA {
            return (i <= jpeg.len()).then_some(i).ok_or(MarkError::Corrupt("header"));
        }
    }
}

/// The index of a pair `a`/`b` encoded as this module requires, checked against `geometry`.
pub fn index_pair(a: &[u8], b: &[u8], geometry: Geometry) -> Result<MarkIndex, MarkError> {
    let (ha, sa) = split_segments(a)?;
    let (hb, sb) = split_segments(b)?;
    if ha != hb || a[..ha] != b[..hb] {
        return Err(MarkError::Corrupt("the pair's headers differ"));
    }
    if sa.len() != sb.len() || sa.len() != geometry.chips() as usize {
        return Err(MarkError::Corrupt("the pair's chips differ from its geometry"));
    }
    let segments = sa
        .iter()
        .zip(&sb)
        .map(|(ra, rb)| Segment { a_len: ra.len() as u32, b_len: rb.len() as u32, a_crc: crc32fast::hash(&a[ra.clone()]), b_crc: crc32fast::hash(&b[rb.clone()]) })
        .collect();
    Ok(MarkIndex { header_len: ha as u32, header_crc: crc32fast::hash(&a[..ha]), segments })
}

#[cfg(test)]
mod tests;
