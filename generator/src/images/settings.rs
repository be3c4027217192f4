//! What the image step is asked to make, and its limits: `site.yaml`'s `images:` as the owner
//! writes it ([`ImageSettings`], whose defaults are the only ones), and the step's own
//! [`Settings`] and [`Limits`] derived from it.

/// Largest source image accepted.
pub const MAX_IMAGE_BYTES: u64 = 50 * 1000 * 1000;

/// `site.yaml`'s `images:` (read by `config::site`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImageSettings {
    /// Sorted, deduplicated, each 16..=8192.
    pub widths: Vec<u32>,
    pub thumbnail: u32,
    pub webp_quality: u8,
    pub jpeg_quality: u8,
    pub avif: bool,
    pub max_megapixels: u32,
}

/// The image defaults: the only copy (the image step's settings and limits derive from it).
impl Default for ImageSettings {
    fn default() -> ImageSettings {
        ImageSettings { widths: vec![480, 960, 1920], thumbnail: 360, webp_quality: 80, jpeg_quality: 82, avif: false, max_megapixels: 100 }
    }
}

impl ImageSettings {
    /// The hard limits on a source image under these settings.
    pub fn limits(&self) -> Limits {
        Limits { max_bytes: MAX_IMAGE_BYTES, max_pixels: u64::from(self.max_megapixels) * 1_000_000 }
    }
}

/// Hard limits on a source image.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    pub max_bytes: u64,
    pub max_pixels: u64,
}

impl Default for Limits {
    fn default() -> Limits {
        ImageSettings::default().limits()
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settings {
    /// Display widths, ascending, e.g. `[480, 960, 1920]`.
    pub widths: Vec<u32>,
    /// Grid thumbnail width, e.g. 360.
    pub thumb_width: u32,
    pub webp_quality: u8,
    pub jpeg_quality: u8,
    /// Also AVIF variants of every size (`image/avif`); several times slower than WebP.
    pub avif: bool,
    pub limits: Limits,
}

/// The image settings of `site.yaml` (whose defaults are the only ones: [`ImageSettings`]).
impl From<&ImageSettings> for Settings {
    fn from(s: &ImageSettings) -> Settings {
        Settings {
            widths: s.widths.clone(),
            thumb_width: s.thumbnail,
            webp_quality: s.webp_quality,
            jpeg_quality: s.jpeg_quality,
            avif: s.avif,
            limits: s.limits(),
        }
    }
}

impl Default for Settings {
    fn default() -> Settings {
        Settings::from(&ImageSettings::default())
    }
}

impl Settings {
    /// What of the settings changes an image's outputs: part of its cache key.
    pub(super) fn fingerprint(&self) -> String {
        format!("w={:?};t={};wq={};jq={};avif={}", self.widths, self.thumb_width, self.webp_quality, self.jpeg_quality, self.avif)
    }
}
