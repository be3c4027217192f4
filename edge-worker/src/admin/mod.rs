//! Admin API (`/admin/api/…`, bearer token or Cloudflare Access: [`signin`], [`access`]) and
//! the admin page (`/admin`).
//!
//! The router hands every `/admin` request to [`handle`]. Decisions (routes, patches,
//! windows, link states) are pure functions in [`api`]; this module does the I/O: the site's
//! records (the admin index, the galleries' records), the links' `LinkGate` objects, the
//! galleries' `GalleryLog` objects.
//!
//! The page is product UI, not part of a visitor theme: its files live in
//! `edge-worker/admin-page/`, compiled into the worker and served only here (never copied to
//! the public assets). They hold no data: everything comes from the API after sign-in.

pub mod access;
pub mod api;

mod audiences;
mod audit;
mod call;
mod follow_up;
mod galleries;
mod links;
mod notifications;
mod passwords;
mod records;
mod router;
mod signin;
mod owner;
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
