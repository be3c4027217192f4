//! The trials: which copy is leaked, how it is transformed, and what each reading of it says.
//!
//! - `Trial`: a random recipient's copy of one of the set's images, transformed; identified
//!   when the right recipient scores highest and at or above the threshold.
//! - Nulls (no candidate may pass the threshold): the unmarked variant; the same image's copy
//!   for a link of another gallery with the same link names (codewords are keyed by gallery);
//!   a copy for a link of this gallery that is not among the candidates; and, for the
//!   detector, an image of the other set (not one of this gallery's images at all).
//! - `Collusion`: two recipients average their copies (pixel by pixel); identified when at
//!   least one of them passes the threshold, and nobody else does.

use crate::marked::Marked;
use crate::rng::Rng;
use crate::transforms::{self, Geometry, Leak, Transform};
use anyhow::Result;
use gatefold_contract::mark::{Codeword, MarkKey};
use gatefold_mark::detect::{self, Reference, Suspect};
use rayon::prelude::*;
use std::path::PathBuf;
use std::time::Instant;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Kind {
    Trial,
    NullUnmarked,
    NullOtherGallery,
    NullOtherRecipient,
    NullOtherImage,
    Collusion,
}

#[derive(Debug, Clone)]
pub struct Job {
    pub set: usize,
    pub kind: Kind,
    pub transform: Transform,
    pub image: usize,
    /// Candidate indexes of the recipients whose copies were leaked (none for nulls).
    pub recipients: Vec<usize>,
    pub seed: u64,
    /// Search all the gallery's images for the leak (as `gatefold trace` does); otherwise
    /// register it against its own image's reference only (the bench's shortcut, see README).
    pub locate: bool,
    /// The screenshot's PNG and placement, made before the trials run.
    pub shot: Option<(PathBuf, Geometry)>,
}

/// One reading of one leak.
#[derive(Debug, Clone, Default)]
pub struct Reading {
    /// The best scoring candidate and its score.
    pub best: Option<(usize, f64)>,
    /// The leaked recipients' scores (trials and collusion).
    pub truth: Vec<f64>,
    /// The highest score of a candidate that did not leak.
    pub best_wrong: f64,
    /// Candidates at or above the threshold that did not leak.
    pub false_accusations: usize,
    /// Scores of codewords never issued to anyone.
    pub never_issued: Vec<f64>,
    /// Chips read (of the variant's).
    pub chips_read: usize,
    pub seconds: f64,
    /// The trace searched all the gallery's images (`Job::locate`).
    pub located: bool,
    /// Of which: decoding, finding and registering the image, reading chips, scoring.
    pub stages: [f64; 4],
    /// The detector named another image or none (it did not take the leak for this image).
    pub misidentified: bool,
    /// The detector found none of the gallery's images in the leak ("not ours").
    pub not_ours: bool,
    /// The reading with the leak's geometry known (`--known`): right recipient highest and ≥ t.
    pub known_identified: Option<bool>,
}

pub fn link(i: usize) -> String {
    format!("r{i:04}")
}

/// The leaked file (before the transform) for `job`.
pub fn source(job: &Job, m: &Marked, other: Option<&Marked>, key: &MarkKey, gallery: &str) -> Result<Vec<u8>> {
    Ok(match job.kind {
        Kind::Trial => m.copy(key, gallery, &link(job.recipients[0]))?,
        Kind::NullUnmarked => m.unmarked.clone(),
        Kind::NullOtherGallery => m.copy(key, &format!("{gallery}-elsewhere"), &link(job.seed as usize % 2000))?,
        Kind::NullOtherRecipient => m.copy(key, gallery, &format!("not-a-candidate-{}", job.seed))?,
        Kind::NullOtherImage => other.expect("another image").copy(key, "another-gallery", &link(job.seed as usize % 2000))?,
        Kind::Collusion => {
            let a = transforms::decode(&m.copy(key, gallery, &link(job.recipients[0]))?)?;
            let b = transforms::decode(&m.copy(key, gallery, &link(job.recipients[1]))?)?;
            let avg: Vec<u8> = a.0.iter().zip(&b.0).map(|(x, y)| ((u16::from(*x) + u16::from(*y) + 1) / 2) as u8).collect();
            transforms::png(&avg, a.1, a.2)?
        }
    })
}

/// The leak `job` makes.
pub fn leak(job: &Job, source: &[u8]) -> Result<Leak> {
    if let Some((png, geometry)) = &job.shot {
        return Ok(Leak { bytes: std::fs::read(png)?, geometry: *geometry });
    }
    transforms::apply(job.transform, source, &mut Rng::new(job.seed))
}

/// Scores every candidate (and `never` never-issued codewords) of image `m` with `score`.
#[allow(clippy::too_many_arguments)]
pub fn read(job: &Job, m: &Marked, key: &MarkKey, gallery: &str, candidates: usize, never: usize, t: f64, score: &(dyn Fn(&Codeword) -> f64 + Sync)) -> Reading {
    let mut r = Reading { best_wrong: f64::NEG_INFINITY, ..Reading::default() };
    let scores: Vec<f64> = (0..candidates).into_par_iter().map(|k| score(&m.codeword(key, gallery, &link(k)))).collect();
    for (k, s) in scores.into_iter().enumerate() {
        if r.best.is_none_or(|(_, b)| s > b) {
            r.best = Some((k, s));
        }
        if job.recipients.contains(&k) {
            r.truth.push(s);
        } else {
            r.best_wrong = r.best_wrong.max(s);
            if s >= t {
                r.false_accusations += 1;
            }
        }
    }
    r.never_issued = (0..never).map(|j| score(&m.codeword(key, gallery, &format!("never-issued-{}-{j}", job.seed)))).collect();
    r
}

/// Whether a reading names the leaked recipient: highest of all candidates and ≥ `t`.
pub fn identified(r: &Reading, t: f64) -> bool {
    !r.misidentified && r.truth.first().is_some_and(|x| *x >= t && r.best.is_some_and(|(_, b)| *x >= b))
}

/// The trace as `gatefold trace` runs it: decode, find which of the gallery's images the leak
/// shows and where, read its chips, score every candidate. Timed from the file's bytes.
#[allow(clippy::too_many_arguments)]
pub fn trace(job: &Job, bytes: &[u8], marked: &[Marked], refs: &[&Reference], key: &MarkKey, gallery: &str, candidates: usize, never: usize, t: f64) -> Result<Reading> {
    let begun = Instant::now();
    let suspect = Suspect::decode(bytes)?;
    let decoded = begun.elapsed().as_secs_f64();
    let found = if job.locate {
        detect::locate(&suspect, refs)
    } else {
        let own = job.image.min(refs.len() - 1);
        detect::register(&suspect, refs[own])
            .filter(|r| r.ncc >= detect::MATCH_FLOOR && r.coverage >= detect::MIN_COVERAGE)
            .map(|registration| detect::Located { index: own, registration })
    };
    let Some(found) = found else {
        let seconds = begun.elapsed().as_secs_f64();
        let r = Reading { located: job.locate, not_ours: true, misidentified: true, best_wrong: f64::NEG_INFINITY, seconds, stages: [decoded, seconds - decoded, 0.0, 0.0], ..Reading::default() };
        return Ok(r);
    };
    let located = begun.elapsed().as_secs_f64();
    let chips = detect::read_chips(&suspect, refs[found.index], &found.registration);
    let chipped = begun.elapsed().as_secs_f64();
    let mut r = read(job, &marked[found.index], key, gallery, candidates, never, t, &|c| detect::score(&chips, c));
    r.seconds = begun.elapsed().as_secs_f64();
    r.located = job.locate;
    r.stages = [decoded, located - decoded, chipped - located, r.seconds - chipped];
    r.chips_read = chips.read as usize;
    r.misidentified = found.index != job.image;
    Ok(r)
}
