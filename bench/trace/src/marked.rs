//! A bench image as a marked gallery publishes it: its marked pair (timed), its unmarked variant
//! (what unmarked links get, same encoder and quality) and recipients' copies spliced from the
//! pair by their codewords, exactly as the worker splices them.

use crate::sets::{Image, JPEG_QUALITY};
use anyhow::{Result, anyhow};
use gatefold_contract::mark::{Codeword, Geometry, MarkKey};
use gatefold_mark::embed::{Pair, encode_jpeg, encode_pair, luma};
use std::time::Instant;

pub struct Marked {
    pub id: String,
    pub width: u32,
    pub height: u32,
    pub pair: Pair,
    pub unmarked: Vec<u8>,
    /// Wall seconds `encode_pair` took for this image (both JPEGs and the index).
    pub mark_s: f64,
    /// The references a non-blind reader aligns against: Ū = (A+B)/2 and D = (A−B)/2, luma.
    pub mean: Vec<f32>,
    pub diff: Vec<f32>,
}

pub fn decode_luma(jpeg: &[u8]) -> Result<Vec<f32>> {
    let img = image::load_from_memory(jpeg)?.to_rgb8();
    Ok(luma(img.as_raw()))
}

impl Marked {
    pub fn new(img: &Image, key: &MarkKey) -> Result<Marked> {
        let t = Instant::now();
        let pair = encode_pair(&img.rgb, img.width, img.height, JPEG_QUALITY, key, &img.id).map_err(|e| anyhow!("{}: {e}", img.id))?;
        let mark_s = t.elapsed().as_secs_f64();
        let unmarked = encode_jpeg(&img.rgb, img.width, img.height, JPEG_QUALITY).map_err(|e| anyhow!("{}: {e}", img.id))?;
        let (a, b) = (decode_luma(&pair.a)?, decode_luma(&pair.b)?);
        let mean = a.iter().zip(&b).map(|(a, b)| (a + b) / 2.0).collect();
        let diff = a.iter().zip(&b).map(|(a, b)| (a - b) / 2.0).collect();
        Ok(Marked { id: img.id.clone(), width: img.width, height: img.height, pair, unmarked, mark_s, mean, diff })
    }

    pub fn geometry(&self) -> Geometry {
        Geometry { width: self.width, height: self.height }
    }

    /// The codeword of `link` in `gallery` for this image's variant.
    pub fn codeword(&self, key: &MarkKey, gallery: &str, link: &str) -> Codeword {
        key.codeword(gallery, link, &self.id, self.width, self.geometry().chips())
    }

    /// `link`'s copy, spliced from A and B as the worker does.
    pub fn copy(&self, key: &MarkKey, gallery: &str, link: &str) -> Result<Vec<u8>> {
        let bits = self.codeword(key, gallery, link);
        Ok(self.pair.index.splice(&self.pair.a, &self.pair.b, &bits, None)?)
    }
}
