//! The layout of a ZIP archive of files whose sizes and CRC-32s are known in advance: every
//! byte the worker writes around the files' own bytes, and the archive's exact length, so
//! "download all" can announce a `Content-Length` and pipe each file from R2 untouched.
//!
//! Choices (APPNOTE 6.3.10):
//! - every entry is STORED (method 0): the originals are already compressed images;
//! - general-purpose bit 11 says names are UTF-8, so Chinese names survive on every reader;
//! - no data descriptors: sizes and CRCs come from the manifest and go in the local headers;
//! - ZIP64 exactly where a field would not fit: an entry's size ≥ 0xFFFFFFFF gets a ZIP64
//!   extra field in its local and central headers, a local header offset ≥ 0xFFFFFFFF one in
//!   its central header, and ≥ 65,535 entries or a central directory at or past 0xFFFFFFFF
//!   (offset or size) the ZIP64 end record and locator; below those sizes the archive is
//!   plain ZIP 2.0 that every reader opens;
//! - every entry's DOS date and time is 1980-01-01 00:00:00, the earliest DOS time: the
//!   manifest carries no capture or build time for originals, and a fixed stamp makes the same
//!   gallery produce the same archive byte for byte (no clock in the worker either).
//!
//! Pure: no I/O, tested natively with synthetic sizes past 4 GB and 70,000 entries.

/// One file of the archive, as the manifest describes its original.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// The name inside the archive (UTF-8, no directories).
    pub name: String,
    pub size: u64,
    pub crc32: u32,
}

/// Where each entry's local header starts, and where the central directory does.
#[derive(Debug)]
pub struct Layout {
    entries: Vec<Entry>,
    offsets: Vec<u64>,
    central_offset: u64,
    central_len: u64,
    total: u64,
}

/// Why an archive cannot be laid out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ZipError {
    /// A name longer than the 65,535 bytes a header can hold.
    NameTooLong(String),
}

impl std::fmt::Display for ZipError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ZipError::NameTooLong(name) => write!(f, "file name of {} bytes is too long for a ZIP header: {name:.40}…", name.len()),
        }
    }
}

impl std::error::Error for ZipError {}

const LOCAL_SIG: u32 = 0x0403_4b50;
const CENTRAL_SIG: u32 = 0x0201_4b50;
const END_SIG: u32 = 0x0605_4b50;
const ZIP64_END_SIG: u32 = 0x0606_4b50;
const ZIP64_LOCATOR_SIG: u32 = 0x0706_4b50;
const ZIP64_EXTRA_ID: u16 = 0x0001;
/// A 32-bit field holding this (or a 16-bit one holding 0xFFFF) means "see ZIP64".
const MAX32: u64 = 0xFFFF_FFFF;
const MAX16: u64 = 0xFFFF;
/// Bit 11: names and comments are UTF-8.
const FLAG_UTF8: u16 = 1 << 11;
/// 2.0 (stored files, no ZIP64) and 4.5 (ZIP64).
const VERSION_20: u16 = 20;
const VERSION_45: u16 = 45;
/// 1980-01-01 00:00:00 in DOS form (day 1, month 1, year 1980 + 0; time 0).
const DOS_DATE: u16 = (1 << 5) | 1;
const DOS_TIME: u16 = 0;
const LOCAL_FIXED: u64 = 30;
const CENTRAL_FIXED: u64 = 46;
const END_LEN: u64 = 22;
const ZIP64_END_LEN: u64 = 56;
const ZIP64_LOCATOR_LEN: u64 = 20;

fn needs_zip64_size(size: u64) -> bool {
    size >= MAX32
}

/// Length of an entry's local header: fixed part, name, and a ZIP64 extra field with both
/// sizes (4 + 16 bytes) when the size does not fit 32 bits (APPNOTE 4.5.3: in a local header
/// the ZIP64 field holds both sizes).
fn local_len(entry: &Entry) -> u64 {
    LOCAL_FIXED + entry.name.len() as u64 + if needs_zip64_size(entry.size) { 20 } else { 0 }
}

/// The central header's ZIP64 extra field data: only the fields whose 32-bit slot overflowed,
/// in APPNOTE order (uncompressed size, compressed size, local header offset).
fn central_zip64_fields(entry: &Entry, offset: u64) -> Vec<u64> {
    let mut fields = Vec::new();
    if needs_zip64_size(entry.size) {
        fields.extend([entry.size, entry.size]);
    }
    if offset >= MAX32 {
        fields.push(offset);
    }
    fields
}

fn central_len(entry: &Entry, offset: u64) -> u64 {
    let fields = central_zip64_fields(entry, offset).len() as u64;
    CENTRAL_FIXED + entry.name.len() as u64 + if fields > 0 { 4 + 8 * fields } else { 0 }
}

fn clamp32(value: u64) -> u32 {
    value.min(MAX32) as u32
}

struct Bytes(Vec<u8>);

impl Bytes {
    fn u16(&mut self, v: u16) -> &mut Self {
        self.0.extend_from_slice(&v.to_le_bytes());
        self
    }
    fn u32(&mut self, v: u32) -> &mut Self {
        self.0.extend_from_slice(&v.to_le_bytes());
        self
    }
    fn u64(&mut self, v: u64) -> &mut Self {
        self.0.extend_from_slice(&v.to_le_bytes());
        self
    }
    fn raw(&mut self, v: &[u8]) -> &mut Self {
        self.0.extend_from_slice(v);
        self
    }
}

impl Layout {
    /// Lays out `entries` in order.
    pub fn new(entries: Vec<Entry>) -> Result<Layout, ZipError> {
        if let Some(long) = entries.iter().find(|e| e.name.len() as u64 > MAX16) {
            return Err(ZipError::NameTooLong(long.name.clone()));
        }
        let mut offsets = Vec::with_capacity(entries.len());
        let mut at = 0u64;
        for entry in &entries {
            offsets.push(at);
            at += local_len(entry) + entry.size;
        }
        let central_offset = at;
        let central_len: u64 = entries.iter().zip(&offsets).map(|(e, &o)| central_len(e, o)).sum();
        let mut layout = Layout { entries, offsets, central_offset, central_len, total: 0 };
        layout.total = central_offset + central_len + layout.end_len();
        Ok(layout)
    }

    /// The archive's exact length in bytes.
    pub fn total_len(&self) -> u64 {
        self.total
    }

    pub fn entries(&self) -> &[Entry] {
        &self.entries
    }

    /// Whether the end of the archive needs the ZIP64 end record and locator.
    pub fn zip64_end(&self) -> bool {
        self.entries.len() as u64 >= MAX16 || self.central_offset >= MAX32 || self.central_len >= MAX32
    }

    fn end_len(&self) -> u64 {
        END_LEN + if self.zip64_end() { ZIP64_END_LEN + ZIP64_LOCATOR_LEN } else { 0 }
    }

    /// Where entry `i`'s local header starts; its data follows the header.
    pub fn offset(&self, i: usize) -> u64 {
        self.offsets[i]
    }

    /// Entry `i`'s local header, written just before its bytes.
    pub fn local_header(&self, i: usize) -> Vec<u8> {
        let entry = &self.entries[i];
        let zip64 = needs_zip64_size(entry.size);
        let mut b = Bytes(Vec::with_capacity(local_len(entry) as usize));
        b.u32(LOCAL_SIG)
            .u16(if zip64 { VERSION_45 } else { VERSION_20 })
            .u16(FLAG_UTF8)
            .u16(0) // stored
            .u16(DOS_TIME)
            .u16(DOS_DATE)
            .u32(entry.crc32)
            .u32(clamp32(entry.size))
            .u32(clamp32(entry.size))
            .u16(entry.name.len() as u16)
            .u16(if zip64 { 20 } else { 0 })
            .raw(entry.name.as_bytes());
        if zip64 {
            b.u16(ZIP64_EXTRA_ID).u16(16).u64(entry.size).u64(entry.size);
        }
        b.0
    }

    /// The central directory and end records, written after the last entry's bytes.
    pub fn central_directory(&self) -> Vec<u8> {
        let mut b = Bytes(Vec::with_capacity((self.central_len + self.end_len()) as usize));
        for (entry, &offset) in self.entries.iter().zip(&self.offsets) {
            let fields = central_zip64_fields(entry, offset);
            let version = if fields.is_empty() { VERSION_20 } else { VERSION_45 };
            b.u32(CENTRAL_SIG)
                .u16(version) // made by: MS-DOS attributes, this spec version
                .u16(version)
                .u16(FLAG_UTF8)
                .u16(0)
                .u16(DOS_TIME)
                .u16(DOS_DATE)
                .u32(entry.crc32)
                .u32(clamp32(entry.size))
                .u32(clamp32(entry.size))
                .u16(entry.name.len() as u16)
                .u16(if fields.is_empty() { 0 } else { 4 + 8 * fields.len() as u16 })
                .u16(0) // comment
                .u16(0) // disk
                .u16(0) // internal attributes
                .u32(0) // external attributes
                .u32(clamp32(offset))
                .raw(entry.name.as_bytes());
            if !fields.is_empty() {
                b.u16(ZIP64_EXTRA_ID).u16(8 * fields.len() as u16);
                for f in fields {
                    b.u64(f);
                }
            }
        }
        let count = self.entries.len() as u64;
        if self.zip64_end() {
            let end64_offset = self.central_offset + self.central_len;
            b.u32(ZIP64_END_SIG)
                .u64(ZIP64_END_LEN - 12) // size of the record after this field
                .u16(VERSION_45)
                .u16(VERSION_45)
                .u32(0)
                .u32(0)
                .u64(count)
                .u64(count)
                .u64(self.central_len)
                .u64(self.central_offset);
            b.u32(ZIP64_LOCATOR_SIG).u32(0).u64(end64_offset).u32(1);
        }
        let count16 = count.min(MAX16) as u16;
        b.u32(END_SIG)
            .u16(0)
            .u16(0)
            .u16(count16)
            .u16(count16)
            .u32(clamp32(self.central_len))
            .u32(clamp32(self.central_offset))
            .u16(0);
        b.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(name: &str, size: u64) -> Entry {
        Entry { name: name.into(), size, crc32: 0xDEAD_BEEF }
    }

    fn u16_at(b: &[u8], at: usize) -> u16 {
        u16::from_le_bytes(b[at..at + 2].try_into().unwrap())
    }
    fn u32_at(b: &[u8], at: usize) -> u32 {
        u32::from_le_bytes(b[at..at + 4].try_into().unwrap())
    }
    fn u64_at(b: &[u8], at: usize) -> u64 {
        u64::from_le_bytes(b[at..at + 8].try_into().unwrap())
    }

    /// Writes the archive with `data` as the entries' bytes.
    fn write(layout: &Layout, data: &[&[u8]]) -> Vec<u8> {
        let mut out = Vec::new();
        for (i, bytes) in data.iter().enumerate() {
            assert_eq!(out.len() as u64, layout.offset(i));
            out.extend(layout.local_header(i));
            out.extend_from_slice(bytes);
        }
        out.extend(layout.central_directory());
        out
    }

    #[test]
    fn a_small_archive_is_read_back_byte_for_byte_by_the_zip_crate() {
        let files: [(&str, &[u8]); 3] = [("产品图.jpg", b"\xff\xd8 not really a jpeg"), ("b.png", b""), ("c.jpg", &[7u8; 5000])];
        let entries = files.iter().map(|(n, d)| Entry { name: n.to_string(), size: d.len() as u64, crc32: crc32fast::hash(d) }).collect();
        let layout = Layout::new(entries).unwrap();
        assert!(!layout.zip64_end());
        let bytes = write(&layout, &files.map(|f| f.1));
        assert_eq!(bytes.len() as u64, layout.total_len());
        let mut archive = zip::ZipArchive::new(std::io::Cursor::new(bytes)).unwrap();
        assert_eq!(archive.len(), 3);
        for (i, (name, data)) in files.iter().enumerate() {
            let mut file = archive.by_index(i).unwrap();
            assert_eq!(file.name().unwrap(), *name);
            assert_eq!(file.compression(), zip::CompressionMethod::Stored);
            let mut read = Vec::new();
            std::io::Read::read_to_end(&mut file, &mut read).unwrap();
            assert_eq!(&read, data, "{name}");
        }
    }

    #[test]
    fn headers_mark_names_as_utf8_stored_with_the_fixed_date_and_no_data_descriptor() {
        let layout = Layout::new(vec![entry("产品图.jpg", 10)]).unwrap();
        let local = layout.local_header(0);
        assert_eq!(u32_at(&local, 0), LOCAL_SIG);
        assert_eq!(u16_at(&local, 6), 1 << 11, "only bit 11: UTF-8, no data descriptor (bit 3)");
        assert_eq!(u16_at(&local, 8), 0, "stored");
        assert_eq!((u16_at(&local, 10), u16_at(&local, 12)), (0, 0x21), "1980-01-01 00:00");
        assert_eq!(u32_at(&local, 14), 0xDEAD_BEEF);
        assert_eq!((u32_at(&local, 18), u32_at(&local, 22)), (10, 10));
        assert_eq!(&local[30..], "产品图.jpg".as_bytes());
        assert_eq!(layout.total_len(), 30 + 13 + 10 + 46 + 13 + 22);
    }

    #[test]
    fn an_entry_past_4_gb_gets_zip64_fields_in_both_headers_and_the_end_records() {
        let big = 5 * 1024 * 1024 * 1024u64;
        let layout = Layout::new(vec![entry("small.jpg", 100), entry("huge.tif", big), entry("after.jpg", 7)]).unwrap();
        // The local header of the big entry holds 0xFFFFFFFF and both sizes in its extra field.
        let local = layout.local_header(1);
        assert_eq!(u16_at(&local, 4), 45);
        assert_eq!((u32_at(&local, 18), u32_at(&local, 22)), (u32::MAX, u32::MAX));
        assert_eq!(u16_at(&local, 28), 20);
        let extra = 30 + "huge.tif".len();
        assert_eq!((u16_at(&local, extra), u16_at(&local, extra + 2)), (1, 16));
        assert_eq!((u64_at(&local, extra + 4), u64_at(&local, extra + 12)), (big, big));
        // The small entries before it need nothing; the one after it starts past 4 GB.
        assert_eq!(layout.local_header(0).len(), 30 + 9);
        assert_eq!(layout.local_header(2).len(), 30 + 9, "a local header never holds an offset");
        let after = layout.offset(2);
        assert_eq!(after, (30 + 9 + 100) + (30 + 8 + 20 + big));

        let cd = layout.central_directory();
        let first = 46 + 9;
        let second = 46 + 8 + 4 + 16;
        // Entry 2 (past 4 GB): offset in a ZIP64 field, sizes plain.
        let third = &cd[first + second..];
        assert_eq!(u32_at(third, 0), CENTRAL_SIG);
        assert_eq!((u32_at(third, 20), u32_at(third, 42)), (7, u32::MAX));
        assert_eq!(u16_at(third, 30), 12);
        assert_eq!((u16_at(third, 46 + 9), u16_at(third, 46 + 9 + 2)), (1, 8));
        assert_eq!(u64_at(third, 46 + 9 + 4), after);
        // The central directory starts past 4 GB: ZIP64 end record, locator, then the end record.
        assert!(layout.zip64_end());
        let central_len = (first + second + 46 + 9 + 12) as u64;
        let central_offset = after + 30 + 9 + 7;
        let end64 = &cd[central_len as usize..];
        assert_eq!(u32_at(end64, 0), ZIP64_END_SIG);
        assert_eq!((u64_at(end64, 24), u64_at(end64, 32)), (3, 3));
        assert_eq!((u64_at(end64, 40), u64_at(end64, 48)), (central_len, central_offset));
        let locator = &end64[56..];
        assert_eq!(u32_at(locator, 0), ZIP64_LOCATOR_SIG);
        assert_eq!(u64_at(locator, 8), central_offset + central_len);
        let end = &locator[20..];
        assert_eq!(u32_at(end, 0), END_SIG);
        assert_eq!(u16_at(end, 10), 3);
        assert_eq!((u32_at(end, 12), u32_at(end, 16)), (central_len as u32, u32::MAX));
        assert_eq!(end.len(), 22);
        assert_eq!(layout.total_len(), central_offset + cd.len() as u64);
    }

    #[test]
    fn seventy_thousand_entries_need_the_zip64_end_record_and_nothing_else() {
        let entries: Vec<Entry> = (0..70_000).map(|i| entry(&format!("img-{i:05}.jpg"), 1000)).collect();
        let layout = Layout::new(entries).unwrap();
        assert!(layout.zip64_end());
        let per_entry = (30 + 13 + 1000) as u64;
        let central_len = 70_000 * (46 + 13) as u64;
        assert_eq!(layout.total_len(), 70_000 * per_entry + central_len + 56 + 20 + 22);
        let cd = layout.central_directory();
        assert_eq!(cd.len() as u64, central_len + 56 + 20 + 22);
        let end64 = &cd[central_len as usize..];
        assert_eq!((u64_at(end64, 24), u64_at(end64, 32)), (70_000, 70_000));
        let end = &cd[cd.len() - 22..];
        assert_eq!((u16_at(end, 8), u16_at(end, 10)), (0xFFFF, 0xFFFF));
        assert_eq!(u32_at(end, 16), (70_000 * per_entry) as u32, "the offset still fits 32 bits");
        assert_eq!(u16_at(&cd, 30), 0, "no entry needs a ZIP64 extra field");
    }

    #[test]
    fn the_zip_crate_reads_an_archive_of_seventy_thousand_entries_through_its_zip64_end() {
        let entries: Vec<Entry> = (0..70_000).map(|i| Entry { name: format!("{i}.jpg"), size: 0, crc32: 0 }).collect();
        let layout = Layout::new(entries).unwrap();
        let bytes = write(&layout, &vec![&[][..]; 70_000]);
        assert_eq!(bytes.len() as u64, layout.total_len());
        let mut archive = zip::ZipArchive::new(std::io::Cursor::new(bytes)).unwrap();
        assert_eq!(archive.len(), 70_000);
        assert_eq!(archive.by_index(69_999).unwrap().name().unwrap(), "69999.jpg");
    }

    #[test]
    fn exactly_65535_entries_already_take_the_zip64_end_and_65534_do_not() {
        assert!(Layout::new((0..65_535).map(|i| entry(&i.to_string(), 0)).collect()).unwrap().zip64_end());
        assert!(!Layout::new((0..65_534).map(|i| entry(&i.to_string(), 0)).collect()).unwrap().zip64_end());
    }

    #[test]
    fn a_size_of_exactly_0xffffffff_is_zip64_and_one_less_is_not() {
        let at = Layout::new(vec![entry("a", 0xFFFF_FFFF)]).unwrap();
        assert_eq!(at.local_header(0).len(), 30 + 1 + 20);
        let below = Layout::new(vec![entry("a", 0xFFFF_FFFE)]).unwrap();
        assert_eq!(below.local_header(0).len(), 30 + 1);
    }

    #[test]
    fn a_name_too_long_for_a_header_is_refused() {
        let long = "x".repeat(70_000);
        assert!(matches!(Layout::new(vec![entry(&long, 1)]), Err(ZipError::NameTooLong(_))));
    }
}
