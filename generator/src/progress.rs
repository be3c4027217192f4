//! What a long command tells the person running it while it works. The library only calls a
//! [`Progress`]; the command line decides how it looks (a bar on a terminal, plain lines in a CI
//! log), and tests and the scratch builds of `plan` pass [`Quiet`].

use crate::images::{Job, Outcome};

/// Reports of a build, a plan or a publish as they happen. Every method may be called from the
/// image step's worker threads.
pub trait Progress: std::fmt::Debug + Send + Sync {
    /// The image step starts on `total` images.
    fn images_started(&self, total: usize) {
        let _ = total;
    }

    /// One image is done: planned, taken from the cache, encoded or failed.
    fn image_done(&self, job: &Job, outcome: Outcome) {
        let _ = (job, outcome);
    }

    /// The image step is over.
    fn images_finished(&self) {}

    /// A stage of a longer command starts (`wrangler deploy`, the smoke test).
    fn step(&self, what: &str) {
        let _ = what;
    }

    /// Something to know on the way that stops nothing (a manifest ignored, overrides in force).
    fn note(&self, what: &str) {
        let _ = what;
    }

    /// One line of the command's own report (an upload summary, a smoke check's verdict): what
    /// a script reading the command's output gets.
    fn line(&self, what: &str) {
        let _ = what;
    }
}

/// Reports nothing.
#[derive(Debug, Clone, Copy, Default)]
pub struct Quiet;

impl Progress for Quiet {}
