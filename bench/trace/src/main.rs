//! The trace benchmark: how often `gatefold trace` names the right recipient behind a leaked
//! copy, and never a wrong one. See bench/trace/README.md.
//!
//! usage: gatefold-bench-trace [--quick] [--trials N] [--candidates N] [--nulls N]
//!        [--collusion N] [--never N] [--images N] [--known] [--locate-every N] [--only TRANSFORM] [--set NAME] [--work DIR] [--wallpapers DIR]
//!        [--root DIR]

mod known;
mod marked;
mod report;
mod rng;
mod sets;
mod transforms;
mod trials;

use anyhow::{Context, Result, bail};
use gatefold_contract::mark::MarkKey;
use gatefold_mark::detect::{self, Reference};
use marked::Marked;
use rayon::prelude::*;
use rng::Rng;
use std::path::PathBuf;
use std::time::Instant;
use transforms::Transform;
use trials::{Job, Kind};

pub struct Options {
    pub trials: usize,
    pub candidates: usize,
    pub nulls: usize,
    pub collusion: usize,
    pub never: usize,
    pub images: usize,
    pub work: PathBuf,
    pub wallpapers: PathBuf,
    pub root: PathBuf,
    pub quick: bool,
    /// Also read every leak with its geometry known (no registration), for comparison.
    pub known: bool,
    /// Every n-th trace searches all the gallery's images; the others register the leak
    /// against its own image (1: every trace is a full `gatefold trace`).
    pub locate_every: usize,
    /// Only these transforms' trials (`Debug` names, e.g. `Brighter10`) and only this set.
    pub only: Vec<String>,
    pub set: Option<String>,
}

fn options() -> Result<Options> {
    let root = std::env::current_dir()?;
    let mut o = Options {
        trials: 200,
        candidates: 2000,
        nulls: 520,
        collusion: 200,
        never: 32,
        images: 12,
        work: std::env::temp_dir().join("gatefold-bench-trace"),
        wallpapers: PathBuf::new(),
        root,
        quick: false,
        known: false,
        locate_every: 10,
        only: vec![],
        set: None,
    };
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        let mut value = || args.next().with_context(|| format!("{a} needs a value"));
        match a.as_str() {
            "--quick" => {
                o.quick = true;
                (o.trials, o.nulls, o.collusion, o.images, o.known, o.locate_every) = (10, 24, 10, 4, true, 2);
            }
            "--known" => o.known = true,
            "--only" => o.only.push(value()?),
            "--set" => o.set = Some(value()?),
            "--locate-every" => o.locate_every = value()?.parse::<usize>()?.max(1),
            "--trials" => o.trials = value()?.parse()?,
            "--candidates" => o.candidates = value()?.parse()?,
            "--nulls" => o.nulls = value()?.parse()?,
            "--collusion" => o.collusion = value()?.parse()?,
            "--never" => o.never = value()?.parse()?,
            "--images" => o.images = value()?.parse()?,
            "--work" => o.work = value()?.into(),
            "--wallpapers" => o.wallpapers = value()?.into(),
            "--root" => o.root = value()?.into(),
            other => bail!("unknown argument {other} (see bench/trace/README.md)"),
        }
    }
    if o.wallpapers.as_os_str().is_empty() {
        o.wallpapers = o.work.join("deb/x/usr/share/backgrounds/mate/nature");
    }
    Ok(o)
}

/// Every job of one set: the trials of each transform, the nulls, the collusions.
fn jobs(set: usize, o: &Options, n_images: usize, rng: &mut Rng) -> Vec<Job> {
    let mut jobs = Vec::new();
    let job = |kind, transform, image, recipients, rng: &mut Rng| Job { set, kind, transform, image, recipients, seed: rng.next_u64() >> 16, locate: false, shot: None };
    for t in transforms::ALL {
        for i in 0..o.trials {
            let r = rng.below(o.candidates);
            jobs.push(job(Kind::Trial, t, i % n_images, vec![r], rng));
        }
    }
    // Nulls cycle through the transforms and the copy as received (the strongest signal).
    let kinds = [Kind::NullUnmarked, Kind::NullOtherGallery, Kind::NullOtherRecipient, Kind::NullOtherImage];
    let null_transforms: Vec<Transform> = std::iter::once(Transform::None).chain(transforms::ALL).collect();
    for i in 0..o.nulls {
        let t = null_transforms[(i / kinds.len()) % null_transforms.len()];
        jobs.push(job(kinds[i % kinds.len()], t, i % n_images, vec![], rng));
    }
    for i in 0..o.collusion {
        let a = rng.below(o.candidates);
        let b = (a + 1 + rng.below(o.candidates - 1)) % o.candidates;
        jobs.push(job(Kind::Collusion, Transform::None, i % n_images, vec![a, b], rng));
    }
    jobs
}

fn main() -> Result<()> {
    let o = options()?;
    std::fs::create_dir_all(&o.work)?;
    let started = Instant::now();
    let key = MarkKey::from_secret("the trace benchmark's signing key, never used elsewhere");
    let t = detect::threshold(o.candidates as u64 * 5);
    println!("load_average_start={}", report::load());
    let sets = vec![sets::textured(&o.wallpapers, o.images)?, sets::flat(&o.root, &o.work, o.images, 22)?];
    println!("sets: {} ({} images), {} ({} images), {:.1} s", sets[0].name, sets[0].images.len(), sets[1].name, sets[1].images.len(), started.elapsed().as_secs_f64());

    // Marked pairs one image at a time (each encode_pair is timed alone, on one core).
    let marked: Vec<Vec<Marked>> = sets.iter().map(|s| s.images.iter().map(|i| Marked::new(i, &key)).collect::<Result<_>>()).collect::<Result<_>>()?;
    let quality = report::quality(&sets, &marked, &key, o.candidates)?;

    let mut rng = Rng::new(0x22_7ACE);
    let mut all: Vec<Job> = (0..sets.len()).flat_map(|s| jobs(s, &o, sets[s].images.len(), &mut rng)).collect();
    all.retain(|j| (o.only.is_empty() || o.only.iter().any(|t| *t == format!("{:?}", j.transform))) && o.set.as_ref().is_none_or(|s| s == sets[j.set].name));
    println!("jobs: {} ({} trials per transform and set, {} candidates, {} nulls and {} collusions per set)", all.len(), o.trials, o.candidates, o.nulls, o.collusion);

    // Screenshots first, in one Chromium per set.
    let shots_dir = o.work.join("shots");
    std::fs::create_dir_all(&shots_dir)?;
    let shot_started = Instant::now();
    for (s, set) in sets.iter().enumerate() {
        let idx: Vec<usize> = (0..all.len()).filter(|&j| all[j].set == s && all[j].transform == Transform::Screenshot).collect();
        let mut pairs = Vec::new();
        for &j in &idx {
            let job = &all[j];
            let m = &marked[s][job.image];
            let other = &marked[1 - s][job.image % marked[1 - s].len()];
            let src = trials::source(job, m, Some(other), &key, &set.gallery)?;
            let input = shots_dir.join(format!("{}-{j}.jpg", set.name));
            std::fs::write(&input, src)?;
            pairs.push((input, shots_dir.join(format!("{}-{j}.png", set.name))));
        }
        // Every image of a set may differ in size: screenshot per size, placements per job.
        let sizes: Vec<(u32, u32)> = idx.iter().map(|&j| (marked[s][all[j].image].width, marked[s][all[j].image].height)).collect();
        let geometries = transforms::screenshots(&o.root, &shots_dir, &pairs, &sizes)?;
        for ((&j, (_, png)), g) in idx.iter().zip(pairs).zip(geometries) {
            all[j].shot = Some((png, g));
        }
    }
    let shots_s = shot_started.elapsed().as_secs_f64();
    println!("screenshots: {:.1} s", shots_s);

    // The detector's references: each gallery's marked pairs, decoded once (as a trace does).
    let refs: Vec<Vec<Reference>> = marked.iter().map(|ms| ms.iter().map(|m| Ok(Reference::from_pair(&m.pair.a, &m.pair.b)?)).collect::<Result<_>>()).collect::<Result<_>>()?;
    let trace_started = Instant::now();
    // Leaks are made two at a time; each trace then runs alone with both cores (the detector
    // is parallel inside), so its time is what `gatefold trace` takes for one file.
    // Every `locate_every`-th job of each kind, transform and set searches the whole gallery.
    let mut counts = std::collections::HashMap::new();
    for job in &mut all {
        let n = counts.entry((job.set, job.kind, job.transform)).or_insert(0usize);
        job.locate = *n % o.locate_every == 0;
        *n += 1;
    }
    let readings: Vec<Result<trials::Reading>> = all
        .chunks(2)
        .flat_map(|pair| {
            let leaks: Vec<Result<transforms::Leak>> = pair
                .par_iter()
                .map(|job| {
                    let m = &marked[job.set][job.image];
                    let other = &marked[1 - job.set][job.image % marked[1 - job.set].len()];
                    trials::leak(job, &trials::source(job, m, Some(other), &key, &sets[job.set].gallery)?)
                })
                .collect();
            pair.iter().zip(leaks).map(|(job, leak)| {
                let leak = leak?;
                let gallery = &sets[job.set].gallery;
                let set_refs: Vec<&Reference> = refs[job.set].iter().collect();
                let mut r = trials::trace(job, &leak.bytes, &marked[job.set], &set_refs, &key, gallery, o.candidates, o.never, t)?;
                if o.known {
                    let m = &marked[job.set][job.image];
                    let (rgb, lw, lh) = transforms::decode(&leak.bytes)?;
                    let chips = known::read_chips(m, &gatefold_mark::embed::luma(&rgb), lw, lh, &leak.geometry);
                    let k = trials::read(job, m, &key, gallery, o.candidates, 0, t, &|c| known::score(&chips, c));
                    r.known_identified = Some(trials::identified(&k, t));
                }
                // Progress on stderr: a long run shows how far it is and what it finds.
                eprintln!("{} {:?} {} image={} right={:?} best_wrong={:.2} s={:.2}", sets[job.set].name, job.kind, job.transform.label(), job.image, r.truth, r.best_wrong, r.seconds);
                Ok(r)
            }).collect::<Vec<_>>()
        })
        .collect();
    let readings: Vec<trials::Reading> = readings.into_iter().collect::<Result<_>>()?;
    let trace_s = trace_started.elapsed().as_secs_f64();
    let _ = std::fs::remove_dir_all(&shots_dir);
    report::print(&o, &sets, &marked, &all, &readings, &quality, t, shots_s, trace_s, started.elapsed().as_secs_f64())
}
