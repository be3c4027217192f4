//! EXIF: what survives of a photo's metadata (orientation, copyright), read and rewritten.

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
}
