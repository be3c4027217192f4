//! The contract between the Gatefold generator and the edge worker.
//!
//! Everything both sides must agree on lives here and only here, compiled natively for the
//! generator and its tests, and into the WASM worker:
//! - [`manifest`]: the full manifest and the small records the worker reads (site, token
//!   shards, one per gallery), the asset paths and the R2 keys both sides use;
//! - [`policy`]: the published link policy, runtime overrides and the admission decisions;
//! - [`expiry`]: link expiries as owners write them, and their one conversion to an instant;
//! - [`time`]: an instant as the site's clock shows it (local day, wall time, the forms owners
//!   read), the one conversion the other way;
//! - [`mark`]: forensic marks: the mark key, a link's codeword, a marked pair's index and the
//!   splice that makes a recipient's copy from it (no pixel work);
//! - [`media`]: the image media types written into the manifest and served;
//! - [`token`]: link tokens and signed visitor sessions;
//! - [`devices`]: the devices a link admitted, the device limit and the forwarding rule;
//! - [`denial`]: denial codes, their HTTP statuses and messages in every supported language;
//! - [`locale`]: the supported languages and Accept-Language negotiation;
//! - [`admin`]: the admin API's requests and answers, shared by the worker and the CLI;
//! - [`notify`]: notification channels and events as declared, the one message (`Notice`) and
//!   each platform's request for it with its signature, and how to read the platform's answer;
//! - [`qr`]: a link's QR code (SVG, and PNG with the `png` feature);
//! - [`requests`]: access requests (which denials offer one, their bounds, the owner's
//!   answers, the denial page's form and request state in every supported language);
//! - [`owner`]: the owner kit's card and share-kit templates and the one function filling them;
//! - [`page`]: the gallery page template (one per gallery, language and download mode) the
//!   worker fills in for a link;
//! - [`preview`]: the Open Graph and Twitter card tags a chat app's link preview reads, and
//!   the page a closed link's preview gets;
//! - [`passphrase`]: how strong an owner's link password is, and a generated passphrase to
//!   offer instead (the CLI and the admin API alike);
//! - `named`: enums whose names, lookup and serde form come from one list (`named_enum!`).
//!
//! Nothing here reads a clock or the environment: time and secrets are passed in, which keeps
//! every rule a pure function with table tests next to it.

pub mod admin;
pub mod denial;
pub mod devices;
pub mod expiry;
pub mod locale;
pub mod manifest;
pub mod mark;
pub mod media;
mod named;
pub mod notify;
pub mod owner;
pub mod page;
pub mod passphrase;
pub mod policy;
pub mod preview;
pub mod qr;
pub mod requests;
pub mod time;
pub mod token;

pub use denial::Denial;
pub use expiry::{Expiry, ResolvedExpiry};
pub use locale::Locale;
pub use manifest::Manifest;
pub use media::MediaType;
pub use policy::{LinkPolicy, LinkState, Overrides};
pub use token::SigningKey;

/// RFC 3986's unreserved characters: all a name keeps unescaped when it is percent-encoded into
/// a URL path segment (the admin API's paths) or a header's `filename*` (downloads).
pub const URL_UNRESERVED: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC.remove(b'-').remove(b'.').remove(b'_').remove(b'~');
