//! Forensic marks, native side (the generator and `gatefold trace`; never the worker).
//!
//! - [`embed`]: a variant's marked pair `A`/`B` (image ± a keyed, perceptually masked pattern),
//!   encoded so that the worker can splice a recipient's copy from them
//!   (`gatefold_contract::mark`).
//! - [`stamp`]: the visible stamp and the band of a stamped recipient's own chips.
//! - [`quality`]: PSNR and SSIM, what "invisible" is measured by.
//! - [`detect`]: reads a leaked copy against its reference pair and scores candidate links
//!   (`gatefold trace`).

pub mod detect;
pub mod embed;
pub mod quality;
pub mod stamp;
