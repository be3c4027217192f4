//! The contract between the Gatefold generator and the edge worker.
//!
//! Everything both sides must agree on lives here and only here, compiled natively for the
//! generator and its tests, and into the WASM worker:
//! - [`manifest`]: the JSON the generator writes and the worker reads (token → gallery, link,
//!   policy, assets), and the asset paths both sides use;
//! - [`policy`]: the published link policy, runtime overrides and the admission decisions;
//! - [`token`]: link tokens and signed visitor sessions;
//! - [`denial`]: denial codes, their HTTP statuses and messages in every supported language;
//! - [`locale`]: the supported languages and Accept-Language negotiation.
//!
//! Nothing here reads a clock or the environment: time and secrets are passed in, which keeps
//! every rule a pure function with table tests next to it.

pub mod admin;
pub mod denial;
pub mod locale;
pub mod manifest;
pub mod policy;
pub mod token;

pub use denial::Denial;
pub use locale::Locale;
pub use manifest::Manifest;
pub use policy::{LinkPolicy, LinkState, Overrides};
pub use token::SigningKey;
