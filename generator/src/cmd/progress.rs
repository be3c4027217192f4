//! How the library's progress looks on the command line: a bar on a terminal, plain lines
//! otherwise (CI logs); publish steps and notes on stderr, the command's own report on stdout.

use gatefold::images::{Job, Outcome};
use gatefold::progress::Progress;
use std::io::IsTerminal;
use std::sync::RwLock;
use std::sync::atomic::{AtomicUsize, Ordering};

#[derive(Debug)]
pub struct Terminal {
    bar: bool,
    images: RwLock<Option<Images>>,
}

/// One run of the image step.
#[derive(Debug)]
struct Images {
    bar: Option<indicatif::ProgressBar>,
    done: AtomicUsize,
    /// Images that needed no encoding (cached or only planned): in line mode they get one
    /// summary line instead of one each, so a large archive's log stays readable.
    unchanged: AtomicUsize,
    total: usize,
}

impl Terminal {
    /// A bar on a terminal, plain lines otherwise.
    pub fn auto() -> Terminal {
        Terminal { bar: std::io::stderr().is_terminal(), images: RwLock::new(None) }
    }
}

impl Progress for Terminal {
    fn images_started(&self, total: usize) {
        let bar = self.bar.then(|| {
            let bar = indicatif::ProgressBar::new(total as u64);
            bar.set_style(
                indicatif::ProgressStyle::with_template("{spinner} images {bar:30} {pos}/{len} {elapsed} {wide_msg}")
                    .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
            );
            bar
        });
        let run = Images { bar, done: AtomicUsize::new(0), unchanged: AtomicUsize::new(0), total };
        *self.images.write().unwrap_or_else(|e| e.into_inner()) = Some(run);
    }

    fn image_done(&self, job: &Job, outcome: Outcome) {
        let images = self.images.read().unwrap_or_else(|e| e.into_inner());
        let Some(run) = images.as_ref() else { return };
        let n = run.done.fetch_add(1, Ordering::Relaxed) + 1;
        if let Some(bar) = &run.bar {
            bar.set_message(format!("{}/{}", job.gallery, job.file_name));
            bar.inc(1);
            return;
        }
        let what = match outcome {
            Outcome::Cached | Outcome::Planned => {
                run.unchanged.fetch_add(1, Ordering::Relaxed);
                return;
            }
            Outcome::Built(took) => format!("built in {:.2}s", took.as_secs_f64()),
            Outcome::Failed => "FAILED".to_string(),
        };
        eprintln!("image {n}/{}: {}/{} {what}", run.total, job.gallery, job.file_name);
    }

    fn images_finished(&self) {
        let Some(run) = self.images.write().unwrap_or_else(|e| e.into_inner()).take() else { return };
        if let Some(bar) = run.bar {
            bar.finish_and_clear();
        }
        let unchanged = run.unchanged.into_inner();
        if unchanged > 0 {
            eprintln!("images: {unchanged} of {} from the cache or planned without encoding", run.total);
        }
    }

    fn step(&self, what: &str) {
        eprintln!("==> {what}");
    }

    fn note(&self, what: &str) {
        eprintln!("{what}");
    }

    fn line(&self, what: &str) {
        println!("{what}");
    }
}
