//! Admin API (`/admin/api/…`, bearer token or Cloudflare Access: [`signin`], [`access`]) and
//! the admin page (`/admin`).
//!
//! The worker's router hands every `/admin` request to [`handle`] ([`router`]): the page's
//! files, or an API call — its route read from the path by the one table of the API's paths
//! (`gatefold_contract::admin`), the caller signed in, then one handler per route, each in its
//! resource's module:
//! - [`links`] (the paged list, and disable/enable/revoke/patch of one link),
//!   [`audiences`] (an audience's row and the actions on all its recipients),
//!   [`galleries`] (a whole gallery's switch, its statistics and exports),
//!   [`owner`] (QR codes, cards, share kits, mail merge), [`passwords`], [`notifications`],
//!   [`audit`] (what goes on record for each action, and the log read back), [`follow_up`];
//! - [`call`] is one call's context (site, clock, what goes on record) with the records it
//!   names, its query and body, and its answers; [`records`] reads many records and scope
//!   states at once; [`error`] is the one error path: handlers return `error::Result` and use
//!   `?`, and the router turns a refusal or a failure into the API's error JSON once.
//!
//! Decisions (patches, windows, link and audience states, paging) are pure functions in
//! [`api`], unit-tested natively; the other modules do the I/O: the site's records, the
//! scopes' `LinkGate` objects, the galleries' logs (reached only through `log` below).
//!
//! The page is product UI, not part of a visitor theme: its files live in
//! `edge-worker/admin-page/`, compiled into the worker and served only here (never copied to
//! the public assets). They hold no data: everything comes from the API after sign-in.

pub mod access;
pub mod api;

/// The gallery log as the admin module uses it: every path into it is here, so the log's
/// modules can move without touching a handler.
mod log {
    pub(super) use crate::access::describe_user_agent;
    pub(super) use crate::analytics::audit::{self, Terms};
    pub(super) use crate::analytics::throttle::AuthRequest;
    pub(super) use crate::analytics::{GalleryLogClient, export, rollup};
}

mod audiences;
mod audit;
mod call;
mod error;
mod follow_up;
mod galleries;
mod links;
mod notifications;
mod owner;
mod passwords;
mod records;
mod router;
mod signin;
pub use owner::CSS_PATH as OWNER_CSS_PATH;
pub use router::handle;

// The page takes the visitor pages' security headers (`http::headers::PAGE`): its script and
// style come from this origin, charts are inline SVG built by the script, exports are fetched
// with the token and saved as blobs, and no form posts anywhere.

pub const PAGE_HTML: &str = include_str!("../../admin-page/admin.html");
pub const PAGE_JS: &str = include_str!("../../admin-page/admin.js");
pub const PAGE_CSS: &str = include_str!("../../admin-page/admin.css");
pub const CHARTS_JS: &str = include_str!("../../admin-page/charts.js");

/// Where the page loads its script and style from (the HTML names these paths).
pub const JS_PATH: &str = "/admin/admin.js";
pub const CSS_PATH: &str = "/admin/admin.css";
pub const CHARTS_PATH: &str = "/admin/charts.js";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_page_loads_its_script_and_style_from_the_paths_the_worker_serves() {
        assert!(PAGE_HTML.contains(&format!("src=\"{JS_PATH}\"")));
        assert!(PAGE_HTML.contains(&format!("href=\"{CSS_PATH}\"")));
        assert!(PAGE_HTML.contains(&format!("src=\"{CHARTS_PATH}\"")));
        assert!(!CHARTS_JS.contains("style="), "inline styles would be blocked by the CSP");
        assert!(!PAGE_HTML.contains("<script>"), "inline scripts would be blocked by the CSP");
        assert!(!PAGE_HTML.contains("style=\""), "inline styles would be blocked by the CSP");
    }
}
