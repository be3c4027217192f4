//! The detector `gatefold trace` reads a leaked copy with.
//!
//! Detection is non-blind: the generator keeps each marked variant's pair `A` = image + δ and
//! `B` = image − δ, so the reference `Ū = (A+B)/2` and the signal `D = (A−B)/2` are known
//! exactly, as their decoder sees them. A trace:
//! 1. decodes the leak ([`Suspect::decode`]: JPEG, PNG or WebP) to grey;
//! 2. finds which reference it shows and where ([`locate`], [`register`]): scale per axis and
//!    translation, found coarsely and refined to a tenth of a pixel; a picture no reference
//!    matches with a correlation of at least [`MATCH_FLOOR`] is not ours;
//! 3. reads one number per chip ([`read_chips`]): `c_i = Σ (L − Ū)·D` over the chip's pixels
//!    the leak covers;
//! 4. scores each candidate link's codeword ([`score`]): `S = Σ s_i·c_i / sqrt(Σ c_i²)`.
//!
//! Why the threshold holds whatever the picture: a codeword the leak was not made from is a
//! keyed random sign per chip, independent of the `c_i`, so `S` is a Rademacher sum normalised
//! by its own weights and Hoeffding's inequality gives `P(S ≥ t) ≤ exp(−t²/2)`. Over `N`
//! scores (candidates × variants tried) the chance that any wrong one reaches [`threshold`]`(N)`
//! is at most [`FALSE_ACCUSATION`]. Reading chips is done once per variant; each candidate then
//! costs one pass of signs over the chips (a few thousand), so 2,000 candidates take
//! milliseconds.

mod chips;
mod plane;
mod register;
#[cfg(test)]
mod tests;

pub use chips::Chips;
pub use plane::{Integral, Plane, Rect, content};
pub use register::{Registration, Transform};

use gatefold_contract::mark::{Codeword, Geometry};
use rayon::prelude::*;

/// The chance a trace names anyone who did not receive the copy, over all its scores.
pub const FALSE_ACCUSATION: f64 = 1e-6;

/// Least correlation (at half resolution, after registration) of a leak with a reference for
/// the two to be the same picture. Re-encoding, resizing, a 2× screenshot and a ±10 %
/// brightness change keep it above 0.95; another picture, even of the same style, stays well
/// below.
pub const MATCH_FLOOR: f32 = 0.9;

/// Least share of a reference the leak must show for chips to be read.
pub const MIN_COVERAGE: f32 = 0.3;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DetectError {
    /// The bytes are no image this detector reads.
    Decode(String),
    /// A reference pair that does not decode or whose halves differ in size.
    Reference(String),
}

impl std::fmt::Display for DetectError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            DetectError::Decode(e) => write!(f, "not an image this trace reads (JPEG, PNG or WebP): {e}"),
            DetectError::Reference(e) => write!(f, "a marked reference could not be read: {e} (fix: build the site again)"),
        }
    }
}

impl std::error::Error for DetectError {}

/// A leaked copy, decoded to grey, ready to be sampled at any scale.
pub struct Suspect {
    pub width: u32,
    pub height: u32,
    integral: Integral,
    content: Rect,
}

impl Suspect {
    /// Decodes a JPEG, PNG or WebP file's bytes.
    pub fn decode(bytes: &[u8]) -> Result<Suspect, DetectError> {
        let image = image::load_from_memory(bytes).map_err(|e| DetectError::Decode(e.to_string()))?;
        Ok(Suspect::from_plane(&Plane::from_image(&image)))
    }

    pub fn from_plane(plane: &Plane) -> Suspect {
        Suspect { width: plane.width, height: plane.height, integral: Integral::new(plane), content: content(plane) }
    }

    /// The picture's rectangle once flat borders (a screenshot's surround) are trimmed.
    pub fn content(&self) -> Rect {
        self.content
    }
}

/// One variant as the detector compares leaks against it: `Ū` and `D` (zero for a picture
/// published without marks, which can be recognised but carries no chips), in grey.
pub struct Reference {
    pub u: Plane,
    pub d: Plane,
    u_int: Integral,
    d_int: Integral,
    pyramid: Vec<Plane>,
    marked: bool,
}

impl Reference {
    /// The reference of a marked pair, from `A`'s and `B`'s JPEG bytes.
    pub fn from_pair(a: &[u8], b: &[u8]) -> Result<Reference, DetectError> {
        let decode = |bytes: &[u8], which: &str| {
            image::load_from_memory(bytes).map(|i| Plane::from_image(&i)).map_err(|e| DetectError::Reference(format!("{which}: {e}")))
        };
        let (a, b) = (decode(a, "A")?, decode(b, "B")?);
        if (a.width, a.height) != (b.width, b.height) {
            return Err(DetectError::Reference(format!("A is {}×{} but B is {}×{}", a.width, a.height, b.width, b.height)));
        }
        let u = a.data.iter().zip(&b.data).map(|(a, b)| (a + b) / 2.0).collect();
        let d = a.data.iter().zip(&b.data).map(|(a, b)| (a - b) / 2.0).collect();
        Ok(Reference::from_planes(Plane::new(a.width, a.height, u), Some(Plane::new(a.width, a.height, d))))
    }

    /// The reference of a picture published without marks (recognised, never attributed).
    pub fn unmarked(bytes: &[u8]) -> Result<Reference, DetectError> {
        let image = image::load_from_memory(bytes).map_err(|e| DetectError::Reference(e.to_string()))?;
        Ok(Reference::from_planes(Plane::from_image(&image), None))
    }

    pub fn from_planes(u: Plane, d: Option<Plane>) -> Reference {
        let marked = d.is_some();
        let d = d.unwrap_or_else(|| Plane::new(u.width, u.height, vec![0.0; u.data.len()]));
        assert_eq!((u.width, u.height), (d.width, d.height), "Ū and D differ in size");
        Reference { u_int: Integral::new(&u), d_int: Integral::new(&d), pyramid: register::pyramid(&u), u, d, marked }
    }

    pub fn is_marked(&self) -> bool {
        self.marked
    }

    pub fn size(&self) -> (u32, u32) {
        (self.u.width, self.u.height)
    }

    /// The chip layout codewords for this variant are drawn for.
    pub fn geometry(&self) -> Geometry {
        Geometry { width: self.u.width, height: self.u.height }
    }
}

/// Where `reference` lies in `suspect`, searched from scratch; `None` when nothing fits.
pub fn register(suspect: &Suspect, reference: &Reference) -> Option<Registration> {
    locate(suspect, &[reference]).map(|l| l.registration)
}

/// [`register`] for another size of a picture already registered (`known` against a
/// reference of `known_size`): only the fine steps run.
pub fn register_from(suspect: &Suspect, reference: &Reference, known: &Registration, known_size: (u32, u32)) -> Registration {
    let start = known.transform.rescaled(known_size, reference.size());
    let mut reg = register::refine(&suspect.integral, &reference.pyramid, start, 2.0);
    if reg.ncc < known.ncc - 0.05 {
        // The fine steps lost it (a tiny variant): keep the known placement, rescaled.
        reg = Registration { transform: start, ..*known };
    }
    reg
}

/// The reference a leak shows, among `references`, and where.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Located {
    pub index: usize,
    pub registration: Registration,
}

/// How many coarse placements (over all references) are refined before the best is chosen.
const REFINED: usize = 3;

/// Which of `references` `suspect` shows: the best correlation after registration, if it
/// reaches [`MATCH_FLOOR`] over at least [`MIN_COVERAGE`] of the reference.
pub fn locate(suspect: &Suspect, references: &[&Reference]) -> Option<Located> {
    let mut hits: Vec<(usize, register::Hit)> = references
        .par_iter()
        .enumerate()
        .flat_map_iter(|(i, r)| register::coarse(&suspect.integral, suspect.content, &r.u_int).into_iter().map(move |h| (i, h)))
        .collect();
    hits.sort_by(|a, b| b.1.ncc.total_cmp(&a.1.ncc));
    hits.iter()
        .take(REFINED)
        .map(|&(index, hit)| {
            let r = references[index];
            let error = f64::from(r.u.width.max(r.u.height)) / 64.0;
            Located { index, registration: register::refine(&suspect.integral, &r.pyramid, hit.transform, error) }
        })
        .filter(|l| l.registration.ncc >= MATCH_FLOOR && l.registration.coverage >= MIN_COVERAGE)
        .max_by(|a, b| a.registration.ncc.total_cmp(&b.registration.ncc))
}

/// The chips of `reference` as `suspect`, registered by `registration`, shows them.
pub fn read_chips(suspect: &Suspect, reference: &Reference, registration: &Registration) -> Chips {
    chips::read(&suspect.integral, reference, registration)
}

/// A candidate's score: `Σ s_i·c_i / sqrt(Σ c_i²)` over the chips read, leaving out `skip`
/// (a visible stamp's band, whose pixels differ from the reference).
pub fn score_masked(chips: &Chips, codeword: &Codeword, skip: std::ops::Range<u32>) -> f64 {
    let (mut sum, mut energy) = (0f64, 0f64);
    for (i, c) in chips.values.iter().enumerate() {
        let i = i as u32;
        if skip.contains(&i) || i >= codeword.len() {
            continue;
        }
        let c = f64::from(*c);
        sum += f64::from(codeword.sign(i)) * c;
        energy += c * c;
    }
    if energy > 0.0 { sum / energy.sqrt() } else { 0.0 }
}

/// [`score_masked`] over every chip read.
pub fn score(chips: &Chips, codeword: &Codeword) -> f64 {
    score_masked(chips, codeword, 0..0)
}

/// The score no wrong candidate reaches, over `n_tests` scores, with probability at least
/// 1 − [`FALSE_ACCUSATION`]: `sqrt(2·ln(n / 1e-6))` (Hoeffding, union bound).
pub fn threshold(n_tests: u64) -> f64 {
    (2.0 * (n_tests.max(1) as f64 / FALSE_ACCUSATION).ln()).sqrt()
}
