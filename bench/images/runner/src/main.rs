//! `gatefold-bench-images <input dir> <work dir> [runs] [avif]`: cold build (fresh cache)
//! `runs` times, then a no-change rebuild, printing wall times as `key=value` lines. The
//! settings are the defaults (display 1920/960/480 + a 360 thumbnail, WebP q80, JPEG q82);
//! `avif` turns AVIF variants on as well.

use anyhow::{Context, Result};
use gatefold::images;
use std::path::PathBuf;
use std::time::Instant;

fn main() -> Result<()> {
    let args: Vec<String> = std::env::args().collect();
    let input = PathBuf::from(args.get(1).context("usage: gatefold-bench-images <input dir> <work dir> [runs]")?);
    let work = PathBuf::from(args.get(2).context("missing <work dir>")?);
    let runs: usize = args.get(3).map_or(Ok(3), |s| s.parse())?;
    let settings = images::Settings { avif: args.get(4).is_some_and(|a| a == "avif"), ..images::Settings::default() };
    let mut jobs = Vec::new();
    for e in std::fs::read_dir(&input).with_context(|| format!("reading {}", input.display()))? {
        let path = e?.path();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        if name.starts_with('.') {
            continue;
        }
        let probe = images::probe(&path, &settings.limits).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
        jobs.push(images::Job { gallery: "bench".into(), image_id: name.split('.').next().unwrap().into(), source: path, file_name: name, probe });
    }
    jobs.sort_by(|a, b| a.file_name.cmp(&b.file_name));
    let mut cold = Vec::new();
    for _ in 0..runs {
        let _ = std::fs::remove_dir_all(&work);
        let t = Instant::now();
        images::process(&jobs, &settings, &work.join("cache"), true, &|_, _| {})?;
        cold.push(t.elapsed().as_secs_f64());
    }
    cold.sort_by(f64::total_cmp);
    let t = Instant::now();
    let plans = images::process(&jobs, &settings, &work.join("cache"), true, &|_, _| {})?;
    let warm = t.elapsed().as_secs_f64();
    println!("images={}", jobs.len());
    println!("cold_median_s={:.3}", cold[cold.len() / 2]);
    println!("warm_s={warm:.4}");
    // The display files under their URL names (`<image>-<hash>-<size>.<ext>`), which is how
    // quality.py matches outputs to sources.
    let outputs = work.join("outputs");
    std::fs::create_dir_all(&outputs)?;
    let files: std::collections::BTreeMap<String, PathBuf> = plans.objects().into_iter().map(|o| (o.key, o.file)).collect();
    for v in plans.images.iter().flat_map(|p| &p.processed.variants) {
        std::fs::hard_link(&files[&v.key], outputs.join(&v.file)).with_context(|| format!("linking {}", v.file))?;
    }
    println!("outputs={}", outputs.display());
    Ok(())
}
