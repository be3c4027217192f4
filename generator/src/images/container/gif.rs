//! GIF: the block structure up to the trailer, and the frame count.

use super::Broken;

/// Walks the GIF block structure to its trailer and counts the frames.
pub(super) fn gif_frames(b: &[u8]) -> Result<usize, Broken> {
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


#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_gif_without_trailer_is_reported_as_cut_short() {
        let mut gif = b"GIF89a".to_vec();
        gif.extend_from_slice(&[1, 0, 1, 0, 0, 0, 0]);
        assert!(gif_frames(&gif).unwrap_err().contains("cut short"));
        gif.push(0x3B);
        assert_eq!(gif_frames(&gif), Ok(0));
    }
}
