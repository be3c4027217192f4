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
//!   [`owner`] (QR codes, cards, share kits, mail merge), [`passwords`], [`devices`] (a link's
//!   devices, forget, allow one more), [`notifications`],
//!   [`note`] (what goes on record for each action), [`audit`] (the log read back), [`follow_up`],
//!   [`requests`] (access requests and their one-tap answers);
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
    pub(super) use crate::gallery_log::audit::{self, Terms};
    pub(super) use crate::gallery_log::{GalleryLogClient, export, follow_up, requests, rollup};
}

mod audiences;
mod audit;
mod call;
mod devices;
mod error;
mod follow_up;
mod galleries;
mod links;
mod note;
mod notifications;
mod owner;
mod passwords;
mod records;
mod requests;
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
pub const STRINGS_JS: &str = include_str!("../../admin-page/strings.js");
pub const STATS_JS: &str = include_str!("../../admin-page/stats.js");
pub const REQUESTS_JS: &str = include_str!("../../admin-page/requests.js");
pub const DEVICES_JS: &str = include_str!("../../admin-page/devices.js");

/// Where the page loads its scripts and style from (the HTML names these paths).
pub const JS_PATH: &str = "/admin/admin.js";
pub const CSS_PATH: &str = "/admin/admin.css";
pub const CHARTS_PATH: &str = "/admin/charts.js";
pub const STRINGS_PATH: &str = "/admin/strings.js";
pub const STATS_PATH: &str = "/admin/stats.js";
pub const REQUESTS_PATH: &str = "/admin/requests.js";
pub const DEVICES_PATH: &str = "/admin/devices.js";
/// The admin API's routes as the page reads them ([`routes_js`]).
pub const ROUTES_PATH: &str = "/admin/routes.js";

/// Every file of the page under `/admin/` (the worker's route table sends them here).
pub const PAGE_FILES: [&str; 9] = [JS_PATH, CSS_PATH, CHARTS_PATH, STRINGS_PATH, STATS_PATH, REQUESTS_PATH, DEVICES_PATH, ROUTES_PATH, owner::CSS_PATH];

/// The script that gives the page the API's one table of paths
/// (`gatefold_contract::admin::ROUTES`) as `window.AdminRoutes`: the page builds every request
/// from it and spells no path of its own.
pub fn routes_js() -> String {
    let table = serde_json::to_string(gatefold_contract::admin::ROUTES).expect("the routes table is plain strings");
    format!("\"use strict\";\nwindow.AdminRoutes = {table};\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_page_loads_its_script_and_style_from_the_paths_the_worker_serves() {
        assert!(PAGE_HTML.contains(&format!("src=\"{JS_PATH}\"")));
        assert!(PAGE_HTML.contains(&format!("href=\"{CSS_PATH}\"")));
        for path in [CHARTS_PATH, ROUTES_PATH, STRINGS_PATH, STATS_PATH, REQUESTS_PATH, DEVICES_PATH] {
            assert!(PAGE_HTML.contains(&format!("src=\"{path}\"")), "{path}");
        }
        // Deferred scripts run in document order: the table, the strings and the panel come
        // before the script that reads them.
        let at = |path: &str| PAGE_HTML.find(&format!("src=\"{path}\"")).unwrap();
        assert!([ROUTES_PATH, STRINGS_PATH, STATS_PATH, REQUESTS_PATH, DEVICES_PATH].iter().all(|p| at(p) < at(JS_PATH)));
        assert!(at(STRINGS_PATH) < at(REQUESTS_PATH), "the panel adds its words to the strings");
        assert!(!CHARTS_JS.contains("style="), "inline styles would be blocked by the CSP");
        assert!(!PAGE_HTML.contains("<script>"), "inline scripts would be blocked by the CSP");
        assert!(!PAGE_HTML.contains("style=\""), "inline styles would be blocked by the CSP");
    }

    #[test]
    fn the_page_names_only_routes_of_the_apis_table_and_spells_no_path() {
        use gatefold_contract::admin::ROUTES;
        let mut named = 0;
        for js in [PAGE_JS, STATS_JS, REQUESTS_JS, DEVICES_JS] {
            // Every route the page asks for is `R.<Name>`, a row of the table the worker serves it.
            for (at, _) in js.match_indices("R.") {
                let before = js[..at].chars().next_back();
                let name: String = js[at + 2..].chars().take_while(|c| c.is_ascii_alphanumeric()).collect();
                if before.is_some_and(|c| c.is_alphanumeric() || c == '.' || c == '_') || !name.starts_with(|c: char| c.is_ascii_uppercase()) {
                    continue;
                }
                assert!(ROUTES.iter().any(|r| r.name == name), "the page asks for R.{name}, which the API's table does not have");
                named += 1;
            }
            for shape in ["links/", "galleries/", "audiences/", "/admin/api/links", "\"passphrase\"", "\"whoami\""] {
                assert!(!js.contains(shape), "the page spells the path {shape:?} itself");
            }
        }
        assert!(named >= 20, "the page names its routes as R.<Name> ({named} found)");
        let served = routes_js();
        assert!(served.starts_with("\"use strict\";\nwindow.AdminRoutes = [{\"name\":\"Links\",\"method\":\"GET\",\"path\":\"links\"}"), "{served}");
    }

    #[test]
    fn every_page_script_stays_small() {
        for (name, js) in [("admin.js", PAGE_JS), ("stats.js", STATS_JS), ("strings.js", STRINGS_JS), ("charts.js", CHARTS_JS), ("requests.js", REQUESTS_JS), ("devices.js", DEVICES_JS)] {
            assert!(js.lines().count() <= 600, "{name} has {} lines", js.lines().count());
        }
    }
}
