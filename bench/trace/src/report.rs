//! The report: what the mark costs (quality, time, bytes) and what the trace finds, as markdown
//! tables (printed, and written to `<work>/report.md`).

use crate::marked::Marked;
use crate::sets::Set;
use crate::transforms::{self, Transform};
use crate::trials::{Job, Kind, Reading, identified, link};
use crate::Options;
use anyhow::Result;
use gatefold_contract::mark::MarkKey;
use gatefold_mark::quality;
use std::fmt::Write;

pub fn load() -> String {
    std::fs::read_to_string("/proc/loadavg").map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" ")).unwrap_or_default()
}

fn median(mut v: Vec<f64>) -> f64 {
    if v.is_empty() {
        return f64::NAN;
    }
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn min(v: &[f64]) -> f64 {
    v.iter().copied().fold(f64::INFINITY, f64::min)
}

fn max(v: &[f64]) -> f64 {
    v.iter().copied().fold(f64::NEG_INFINITY, f64::max)
}

pub struct Quality {
    /// Per set: PSNR and SSIM of recipients' copies against the unmarked variant.
    pub psnr: Vec<Vec<f64>>,
    pub ssim: Vec<Vec<f64>>,
}

/// Two recipients' copies of every image against its unmarked variant (same encoder, quality).
pub fn quality(sets: &[Set], marked: &[Vec<Marked>], key: &MarkKey, candidates: usize) -> Result<Quality> {
    let mut q = Quality { psnr: vec![], ssim: vec![] };
    for (set, images) in sets.iter().zip(marked) {
        let (mut p, mut s) = (vec![], vec![]);
        for (i, m) in images.iter().enumerate() {
            let plain = transforms::decode(&m.unmarked)?.0;
            for r in [i, candidates - 1 - i] {
                let copy = transforms::decode(&m.copy(key, &set.gallery, &link(r))?)?.0;
                p.push(quality::psnr(&copy, &plain));
                s.push(quality::ssim(&copy, &plain, m.width, m.height));
            }
        }
        q.psnr.push(p);
        q.ssim.push(s);
    }
    Ok(q)
}

fn pct(n: usize, d: usize) -> String {
    if d == 0 { "–".into() } else { format!("{:.1} %", 100.0 * n as f64 / d as f64) }
}

#[allow(clippy::too_many_arguments)]
pub fn print(o: &Options, sets: &[Set], marked: &[Vec<Marked>], jobs: &[Job], readings: &[Reading], q: &Quality, t: f64, shots_s: f64, trace_s: f64, total_s: f64) -> Result<()> {
    let mut md = String::new();
    writeln!(md, "{} candidates per trace; threshold t = {t:.2} (a false accusation ≤ 1e-6 per trace over {} candidates × 5 variants). Each trace: decode, find the image among the gallery's {} and register it, read chips, score every candidate.\n", o.candidates, o.candidates, o.images)?;
    writeln!(md, "| set | images | marking s / image (median, one core) | A + B + index / unmarked bytes | copy / unmarked bytes | PSNR dB (min / median) | SSIM (min / median) |")?;
    writeln!(md, "|---|---|---|---|---|---|---|")?;
    for (s, set) in sets.iter().enumerate() {
        let ms: Vec<f64> = marked[s].iter().map(|m| m.mark_s).collect();
        let unmarked: usize = marked[s].iter().map(|m| m.unmarked.len()).sum();
        let pair: usize = marked[s].iter().map(|m| m.pair.a.len() + m.pair.b.len() + m.pair.index.to_bytes().len()).sum();
        let copy: usize = marked[s].iter().map(|m| (m.pair.a.len() + m.pair.b.len()) / 2).sum();
        writeln!(
            md,
            "| {} | {} ({}×{}…) | {:.3} | {:.2} | {:.3} | {:.1} / {:.1} | {:.4} / {:.4} |",
            set.name,
            set.images.len(),
            set.images[0].width,
            set.images[0].height,
            median(ms),
            pair as f64 / unmarked as f64,
            copy as f64 / unmarked as f64,
            min(&q.psnr[s]),
            median(q.psnr[s].clone()),
            min(&q.ssim[s]),
            median(q.ssim[s].clone())
        )?;
    }
    writeln!(md, "\n| set | transform | trials | identified | image not found / wrong image | right recipient's score: median (min) | margin over t: median (min) | best wrong score: median (max) | false accusations | trace s: median (max) |{}", if o.known { " identified, geometry known |" } else { "" })?;
    writeln!(md, "|---|---|---|---|---|---|---|---|---|---|{}", if o.known { "---|" } else { "" })?;
    for (s, set) in sets.iter().enumerate() {
        for tr in transforms::ALL {
            let rs: Vec<&Reading> = jobs.iter().zip(readings).filter(|(j, _)| j.set == s && j.kind == Kind::Trial && j.transform == tr).map(|(_, r)| r).collect();
            row(&mut md, set.name, tr.label(), &rs, t)?;
        }
    }
    // Which images the misses were of: a registration that fails on one picture shows here.
    let mut missed: std::collections::BTreeMap<(usize, usize), Vec<&str>> = Default::default();
    for (j, _) in jobs.iter().zip(readings).filter(|(j, r)| j.kind == Kind::Trial && !identified(r, t)) {
        missed.entry((j.set, j.image)).or_default().push(j.transform.label());
    }
    if !missed.is_empty() {
        let list: Vec<String> = missed.iter().map(|((s, i), ts)| format!("{} ({}×)", marked[*s][*i].id, ts.len())).collect();
        writeln!(md, "\nMissed trials by image: {}.", list.join(", "))?;
    }
    writeln!(md, "\n| set | null traces | traces | image not found (not ours) | highest score | any candidate ≥ t |")?;
    writeln!(md, "|---|---|---|---|---|---|")?;
    for (s, set) in sets.iter().enumerate() {
        for (kind, label) in [
            (Kind::NullUnmarked, "unmarked variant"),
            (Kind::NullOtherGallery, "another gallery's copy (same link names)"),
            (Kind::NullOtherRecipient, "a link not among the candidates"),
            (Kind::NullOtherImage, "an image of another gallery"),
        ] {
            let rs: Vec<&Reading> = jobs.iter().zip(readings).filter(|(j, _)| j.set == s && j.kind == kind).map(|(_, r)| r).collect();
            let best: Vec<f64> = rs.iter().filter_map(|r| r.best.map(|b| b.1)).collect();
            let over = rs.iter().filter(|r| r.false_accusations > 0).count();
            let not_ours = rs.iter().filter(|r| r.not_ours).count();
            let highest = if best.is_empty() { "–".to_string() } else { format!("{:.2}", max(&best)) };
            writeln!(md, "| {} | {label} | {} | {not_ours} | {highest} | {over} |", set.name, rs.len())?;
        }
    }
    let never: Vec<f64> = readings.iter().flat_map(|r| r.never_issued.iter().copied()).collect();
    let tail = |x: f64| never.iter().filter(|s| **s >= x).count();
    writeln!(
        md,
        "\nNever-issued codewords: {} scores, highest {:.2}; ≥ 3: {} ({:.2e}; Hoeffding bound {:.2e}), ≥ 4: {} (bound {:.2e}), ≥ 5: {}, ≥ t: {}.",
        never.len(),
        max(&never),
        tail(3.0),
        tail(3.0) as f64 / never.len().max(1) as f64,
        (-4.5f64).exp(),
        tail(4.0),
        (-8f64).exp(),
        tail(5.0),
        tail(t)
    )?;
    writeln!(md, "\n| set | collusion (two copies averaged) | trials | at least one colluder ≥ t | both ≥ t | weaker colluder's score: median | an innocent ≥ t |")?;
    writeln!(md, "|---|---|---|---|---|---|---|")?;
    for (s, set) in sets.iter().enumerate() {
        let rs: Vec<&Reading> = jobs.iter().zip(readings).filter(|(j, _)| j.set == s && j.kind == Kind::Collusion).map(|(_, r)| r).collect();
        let one = rs.iter().filter(|r| r.truth.iter().any(|x| *x >= t)).count();
        let both = rs.iter().filter(|r| r.truth.iter().all(|x| *x >= t)).count();
        let weaker: Vec<f64> = rs.iter().map(|r| min(&r.truth)).collect();
        let innocent = rs.iter().filter(|r| r.false_accusations > 0).count();
        writeln!(md, "| {} | {} | {} | {} | {} | {:.1} | {innocent} |", set.name, Transform::None.label(), rs.len(), pct(one, rs.len()), pct(both, rs.len()), median(weaker))?;
    }
    for (located, label) in [(true, format!("a full trace (the leak searched among the gallery's {} images)", o.images)), (false, "a trace registered against its own image only".to_string())] {
        let rs: Vec<&Reading> = readings.iter().filter(|r| r.located == located).collect();
        if rs.is_empty() {
            continue;
        }
        let stage = |i: usize| median(rs.iter().map(|r| r.stages[i]).collect());
        let total: Vec<f64> = rs.iter().map(|r| r.seconds).collect();
        let found = rs.iter().filter(|r| !r.misidentified).count();
        writeln!(
            md,
            "\n{label}: {} traces, median {:.2} s (max {:.2}): decode {:.2}, find and register {:.2}, read chips {:.2}, score {} candidates {:.3}; the right image found in {found}.",
            rs.len(),
            median(total.clone()),
            max(&total),
            stage(0),
            stage(1),
            stage(2),
            o.candidates,
            stage(3)
        )?;
    }
    writeln!(md, "\nScreenshots {shots_s:.0} s, traces {trace_s:.0} s, whole run {total_s:.0} s; 1-minute load at the end: {}.", load())?;
    print!("{md}");
    std::fs::write(o.work.join("report.md"), md)?;
    Ok(())
}

fn row(md: &mut String, set: &str, transform: &str, rs: &[&Reading], t: f64) -> Result<()> {
    let ok = rs.iter().filter(|r| identified(r, t)).count();
    let lost = rs.iter().filter(|r| r.misidentified).count();
    let truth: Vec<f64> = rs.iter().filter_map(|r| r.truth.first().copied()).collect();
    let margin: Vec<f64> = truth.iter().map(|s| s - t).collect();
    let wrong: Vec<f64> = rs.iter().map(|r| r.best_wrong).filter(|w| w.is_finite()).collect();
    let accused = rs.iter().filter(|r| r.false_accusations > 0).count();
    let secs: Vec<f64> = rs.iter().map(|r| r.seconds).collect();
    let known: Vec<bool> = rs.iter().filter_map(|r| r.known_identified).collect();
    write!(
        md,
        "| {set} | {transform} | {} | {} | {lost} | {:.1} ({:.1}) | {:.1} ({:.1}) | {:.1} ({:.1}) | {accused} | {:.2} ({:.2}) |",
        rs.len(),
        pct(ok, rs.len()),
        median(truth.clone()),
        min(&truth),
        median(margin.clone()),
        min(&margin),
        median(wrong.clone()),
        max(&wrong),
        median(secs.clone()),
        max(&secs)
    )?;
    if !known.is_empty() {
        write!(md, " {} |", pct(known.iter().filter(|k| **k).count(), known.len()))?;
    }
    writeln!(md)?;
    Ok(())
}
