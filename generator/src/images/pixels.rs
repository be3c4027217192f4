//! Pixel work: decode (JPEG at reduced scale when the outputs allow), turn upright, convert to
//! sRGB, resize, encode WebP and JPEG.

use super::SourceFormat;
use super::container::Layout;
use fast_image_resize as fir;
use image::{DynamicImage, ImageDecoder};
use std::io::Cursor;
use std::panic::{AssertUnwindSafe, catch_unwind};

/// 8-bit sRGB pixels, upright, either RGB or RGBA.
#[derive(Debug, Clone)]
pub(crate) struct Pixels {
    pub data: Vec<u8>,
    pub width: u32,
    pub height: u32,
    pub alpha: bool,
}

/// Decodes `bytes` upright and in sRGB. `min_width` is the widest output needed (in upright
/// pixels); a JPEG is then decoded at the smallest libjpeg scale (n/8) still at least that
/// wide, which is what keeps a 100 MP photo within a few tens of MB.
pub(crate) fn decode(format: SourceFormat, bytes: &[u8], layout: &Layout, orientation: u16, min_width: Option<u32>) -> Result<Pixels, String> {
    let (img, icc) = match format {
        SourceFormat::Jpeg => match decode_jpeg(bytes, orientation, min_width)? {
            Some(img) => (img, layout.icc.clone()),
            // CMYK and other colour spaces libjpeg won't turn into RGB: the slower general path.
            None => decode_general(format, bytes)?,
        },
        _ => {
            let (img, icc) = decode_general(format, bytes)?;
            (img, layout.icc.clone().or(icc))
        }
    };
    let mut img = img;
    img.apply_orientation(image::metadata::Orientation::from_exif(orientation.min(8) as u8).unwrap_or(image::metadata::Orientation::NoTransforms));
    let alpha = img.color().has_alpha();
    let (width, height) = (img.width(), img.height());
    let mut data = if alpha { img.into_rgba8().into_raw() } else { img.into_rgb8().into_raw() };
    if let Some(icc) = icc {
        to_srgb(&icc, &mut data, alpha)?;
    }
    Ok(Pixels { data, width, height, alpha })
}

fn decode_jpeg(bytes: &[u8], orientation: u16, min_width: Option<u32>) -> Result<Option<DynamicImage>, String> {
    // libjpeg reports fatal errors by unwinding (the mozjpeg crate's error manager).
    let run = catch_unwind(AssertUnwindSafe(|| -> std::io::Result<Option<DynamicImage>> {
        let mut d = mozjpeg::Decompress::new_mem(bytes)?;
        if !matches!(d.color_space(), mozjpeg::ColorSpace::JCS_YCbCr | mozjpeg::ColorSpace::JCS_GRAYSCALE | mozjpeg::ColorSpace::JCS_RGB) {
            return Ok(None);
        }
        let upright_width = if orientation >= 5 { d.height() } else { d.width() };
        if let Some(min) = min_width {
            d.scale(jpeg_scale(upright_width, min));
        }
        let mut s = d.rgb()?;
        let (w, h) = (s.width() as u32, s.height() as u32);
        let data: Vec<u8> = s.read_scanlines()?;
        s.finish()?;
        Ok(image::RgbImage::from_raw(w, h, data).map(DynamicImage::ImageRgb8))
    }));
    match run {
        Ok(Ok(img)) => Ok(img),
        Ok(Err(e)) => Err(format!("the JPEG data is damaged: {e}")),
        Err(panic) => Err(format!(
            "the JPEG data is damaged: {}",
            panic.downcast_ref::<String>().map(String::as_str).or(panic.downcast_ref::<&str>().copied()).unwrap_or("decoder error")
        )),
    }
}

/// The libjpeg scale (n/8) to decode a JPEG `width` px wide when the widest output is
/// `widest`: only 1/8, 1/4 and 1/2 (libjpeg-turbo has SIMD for those; 3/8, 5/8… run plain C
/// and alias), and only while the decoded image stays at least 1.5× the widest output, so
/// the Lanczos3 step still has real pixels to filter. Decoding to about the output size and
/// resizing by 1.1× (the old rule) doubled DSSIM at 1920 px.
pub(crate) fn jpeg_scale(width: usize, widest: u32) -> u8 {
    let need = (widest as usize * 3).div_ceil(2);
    [1u8, 2, 4].into_iter().find(|n| (width * usize::from(*n)).div_ceil(8) >= need).unwrap_or(8)
}

fn decode_general(format: SourceFormat, bytes: &[u8]) -> Result<(DynamicImage, Option<Vec<u8>>), String> {
    let fmt = match format {
        SourceFormat::Png => image::ImageFormat::Png,
        SourceFormat::Jpeg => image::ImageFormat::Jpeg,
        SourceFormat::Gif => image::ImageFormat::Gif,
        SourceFormat::WebP => image::ImageFormat::WebP,
    };
    let damaged = |e: image::ImageError| format!("the image data is damaged: {e}");
    let mut reader = image::ImageReader::with_format(Cursor::new(bytes), fmt);
    // Pixel count is checked by `probe`; the default 512 MB allocation cap would refuse a
    // legitimate 100 MP RGBA PNG.
    reader.no_limits();
    let mut dec = reader.into_decoder().map_err(damaged)?;
    let icc = dec.icc_profile().ok().flatten();
    let img = DynamicImage::from_decoder(dec).map_err(damaged)?;
    Ok((img, icc))
}

/// Converts pixels tagged with an ICC profile to sRGB, so browsers that ignore profiles (and
/// the stripped outputs, which carry none) show the colours the photographer saw.
pub(crate) fn to_srgb(icc: &[u8], data: &mut [u8], alpha: bool) -> Result<(), String> {
    let Ok(src) = lcms2::Profile::new_icc(icc) else {
        // An unreadable profile is ignored, as browsers do.
        return Ok(());
    };
    if src.color_space() != lcms2::ColorSpaceSignature::RgbData {
        return Ok(());
    }
    let desc = src.info(lcms2::InfoType::Description, lcms2::Locale::none()).unwrap_or_default();
    if desc.contains("sRGB") {
        return Ok(());
    }
    let fmt = if alpha { lcms2::PixelFormat::RGBA_8 } else { lcms2::PixelFormat::RGB_8 };
    let t = lcms2::Transform::new(&src, fmt, &lcms2::Profile::new_srgb(), fmt, lcms2::Intent::Perceptual)
        .map_err(|e| format!("cannot convert its colour profile ({desc}) to sRGB: {e}"))?;
    t.transform_in_place(data);
    Ok(())
}

/// Lanczos3 resize (alpha-aware).
pub(crate) fn resize(src: &Pixels, width: u32, height: u32) -> Result<Pixels, String> {
    if (width, height) == (src.width, src.height) {
        return Ok(src.clone());
    }
    let pt = if src.alpha { fir::PixelType::U8x4 } else { fir::PixelType::U8x3 };
    let from = fir::images::ImageRef::new(src.width, src.height, &src.data, pt).map_err(|e| e.to_string())?;
    let mut to = fir::images::Image::new(width, height, pt);
    let opts = fir::ResizeOptions::new().resize_alg(fir::ResizeAlg::Convolution(fir::FilterType::Lanczos3));
    fir::Resizer::new().resize(&from, &mut to, &opts).map_err(|e| e.to_string())?;
    Ok(Pixels { data: to.into_vec(), width, height, alpha: src.alpha })
}

/// Lossy WebP at `quality` with libwebp's `method` (0 fastest … 6 smallest; sharp's
/// default "effort" is 4).
pub(crate) fn encode_webp(p: &Pixels, quality: u8, method: u8) -> Result<Vec<u8>, String> {
    let enc = if p.alpha { webp::Encoder::from_rgba(&p.data, p.width, p.height) } else { webp::Encoder::from_rgb(&p.data, p.width, p.height) };
    let mut config = webp::WebPConfig::new().map_err(|()| "WebP encoder configuration failed".to_string())?;
    config.quality = f32::from(quality.min(100));
    config.method = i32::from(method.min(6));
    enc.encode_advanced(&config).map(|m| m.to_vec()).map_err(|e| format!("WebP encoding failed: {e:?}"))
}

/// The pixels as RGB: transparent pixels flattened onto white (what every JPEG of them shows).
pub(crate) fn rgb(p: &Pixels) -> std::borrow::Cow<'_, [u8]> {
    if !p.alpha {
        return std::borrow::Cow::Borrowed(&p.data);
    }
    let flat = p
        .data
        .chunks_exact(4)
        .flat_map(|px| {
            let a = u32::from(px[3]);
            [0, 1, 2].map(|i| ((u32::from(px[i]) * a + 255 * (255 - a) + 127) / 255) as u8)
        })
        .collect::<Vec<u8>>();
    std::borrow::Cow::Owned(flat)
}

/// Baseline mozjpeg with optimised Huffman tables, no trellis (its "fastest" profile, like
/// libjpeg-turbo), as sharp's default. Progressive mode made files ~1.7% smaller, but its
/// refinement scans took about a third of the JPEG encode time in a profile. Transparent pixels are
/// flattened onto white: JPEG has no alpha.
pub(crate) fn encode_jpeg(p: &Pixels, quality: u8) -> Result<Vec<u8>, String> {
    let rgb = rgb(p);
    let rgb: &[u8] = &rgb;
    let run = catch_unwind(AssertUnwindSafe(|| -> std::io::Result<Vec<u8>> {
        let mut c = mozjpeg::Compress::new(mozjpeg::ColorSpace::JCS_EXT_RGB);
        c.set_fastest_defaults();
        c.set_size(p.width as usize, p.height as usize);
        c.set_quality(f32::from(quality));
        c.set_optimize_coding(true);
        let mut s = c.start_compress(Vec::with_capacity(rgb.len() / 8))?;
        s.write_scanlines(rgb)?;
        s.finish()
    }));
    match run {
        Ok(Ok(v)) => Ok(v),
        Ok(Err(e)) => Err(format!("JPEG encoding failed: {e}")),
        Err(_) => Err("JPEG encoding failed".into()),
    }
}

/// AVIF through rav1e. 8-bit output: our inputs are 8-bit sRGB and 10-bit would only cost
/// encode time. Transparent pixels keep their alpha (ravif drops an all-opaque channel).
pub(crate) fn encode_avif(p: &Pixels, quality: u8, speed: u8) -> Result<Vec<u8>, String> {
    use rgb::FromSlice;
    let enc = ravif::Encoder::new()
        .with_quality(f32::from(quality.clamp(1, 100)))
        .with_alpha_quality(f32::from(quality.clamp(1, 100)))
        .with_speed(speed.clamp(1, 10))
        .with_bit_depth(ravif::BitDepth::Eight);
    let (w, h) = (p.width as usize, p.height as usize);
    let encoded = if p.alpha {
        enc.encode_rgba(ravif::Img::new(p.data.as_rgba(), w, h))
    } else {
        enc.encode_rgb(ravif::Img::new(p.data.as_rgb(), w, h))
    };
    encoded.map(|e| e.avif_file).map_err(|e| format!("AVIF encoding failed: {e}"))
}

/// Decodes every frame (GIF, APNG, animated WebP) so damage in a later frame is caught.
pub(crate) fn decode_all_frames(format: SourceFormat, bytes: &[u8]) -> Result<usize, String> {
    use image::AnimationDecoder;
    let damaged = |e: image::ImageError| format!("the image data is damaged: {e}");
    let frames = match format {
        SourceFormat::Gif => image::codecs::gif::GifDecoder::new(Cursor::new(bytes)).map_err(damaged)?.into_frames().collect_frames(),
        SourceFormat::WebP => image::codecs::webp::WebPDecoder::new(Cursor::new(bytes)).map_err(damaged)?.into_frames().collect_frames(),
        SourceFormat::Png => image::codecs::png::PngDecoder::new(Cursor::new(bytes)).map_err(damaged)?.apng().map_err(damaged)?.into_frames().collect_frames(),
        SourceFormat::Jpeg => return Ok(1),
    };
    frames.map(|f| f.len()).map_err(damaged)
}
