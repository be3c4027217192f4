//! Forensic marks, native side (the generator and `gatefold trace`; never the worker).
//!
//! - [`embed`]: a variant's marked pair `A`/`B` (image ± a keyed, perceptually masked pattern),
//!   encoded so that the worker can splice a recipient's copy from them
//!   (`gatefold_contract::mark`).

pub mod embed;
