//! Which handler a request path belongs to. Pure, so every bypass attempt is a table test.
//!
//! Matching is exact on purpose: the worker answers a handful of path shapes and everything
//! else is `not_found`. A path that needed decoding (`%2e`, `%2f`), has empty or dot segments,
//! a backslash or an uppercase token never reaches a handler, so no handler has to think about
//! normalisation. Query strings are ignored by the caller (they select nothing here).

use gatefold_contract::token::is_token_shaped;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Route<'a> {
    /// `/s/<token>`: the gallery page. A person's navigation without a session counts an
    /// open; anything else gets the interstitial, whose button POSTs back here to count it.
    Page { token: &'a str },
    /// `/s/<token>/i/<file>`: a display image or thumbnail of the link's gallery.
    Image { token: &'a str, file: &'a str },
    /// `/s/<token>/download/<image-id>`: an original from R2.
    Download { token: &'a str, image: &'a str },
    /// `/s/<token>/web/<image-id>`: an image's web size (its widest display JPEG) to keep.
    WebDownload { token: &'a str, image: &'a str },
    /// `/s/<token>/download-all`: every original of the gallery as one ZIP.
    DownloadAll { token: &'a str },
    /// `/s/<token>/request`: the denial page's "Request access" form (POST only).
    Request { token: &'a str },
    /// `/assets/<...>`: public, content-hashed theme files; the whole path is passed on.
    Asset,
    Robots,
    /// `/admin` and `/admin/api/...`: the admin module decides methods and auth itself.
    Admin,
    NotFound,
}

impl Route<'_> {
    /// The methods a visitor route answers, as the `Allow` header lists them. POST exists on
    /// a link's page only, for the interstitial's "View gallery" button (a GET with a flag
    /// would be followed by every scanner).
    pub fn allowed_methods(&self) -> &'static str {
        match self {
            Route::Page { .. } => "GET, HEAD, POST",
            // Only a form creates a request: nothing a scanner follows or a HEAD reaches.
            Route::Request { .. } => "POST",
            _ => "GET, HEAD",
        }
    }

    /// Visitor routes answer [`Route::allowed_methods`] only; the admin API has its own verbs.
    pub fn allows_method(&self, method: &str) -> bool {
        match self {
            Route::Admin => true,
            _ => self.allowed_methods().split(", ").any(|m| m == method),
        }
    }
}

pub fn route(path: &str) -> Route<'_> {
    if path == "/robots.txt" {
        return Route::Robots;
    }
    if path == "/admin" || is_admin_page_file(path) || path.strip_prefix("/admin/api/").is_some_and(all_segments_clean) {
        return Route::Admin;
    }
    if let Some(rest) = path.strip_prefix("/assets/") {
        return if all_segments_clean(rest) { Route::Asset } else { Route::NotFound };
    }
    let Some(rest) = path.strip_prefix("/s/") else { return Route::NotFound };
    let parts: Vec<&str> = rest.split('/').collect();
    let token = parts[0];
    if !is_token_shaped(token) {
        return Route::NotFound;
    }
    match parts.as_slice() {
        [_] => Route::Page { token },
        [_, "i", file] if is_file_name(file) => Route::Image { token, file },
        [_, "download", image] if is_image_id(image) => Route::Download { token, image },
        [_, "web", image] if is_image_id(image) => Route::WebDownload { token, image },
        [_, "download-all"] => Route::DownloadAll { token },
        [_, "request"] => Route::Request { token },
        _ => Route::NotFound,
    }
}

#[cfg(feature = "owner")]
fn is_admin_page_file(path: &str) -> bool {
    crate::admin::PAGE_FILES.contains(&path)
}

/// The visitor's Worker does not carry the admin page, so it does not know the page's file
/// names: every clean path under `/admin/` goes to the owner's Worker, which routes it again by
/// the page's own list (anything else is its 404).
#[cfg(not(feature = "owner"))]
fn is_admin_page_file(path: &str) -> bool {
    path.strip_prefix("/admin/").is_some_and(all_segments_clean)
}

/// Segments made of `[A-Za-z0-9._-]` that are neither empty nor `.`/`..`: no encoding, no
/// traversal, no double slash, no backslash.
fn all_segments_clean(rest: &str) -> bool {
    !rest.is_empty()
        && rest.split('/').all(|seg| {
            !seg.is_empty()
                && !seg.starts_with('.')
                && seg.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
        })
}

/// Generated display file names: lowercase, digits, `.`, `-`, `_`, not hidden.
fn is_file_name(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 200
        && !s.starts_with('.')
        && s.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || matches!(b, b'.' | b'_' | b'-'))
}

fn is_image_id(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 200
        && s.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || matches!(b, b'_' | b'-'))
}

#[cfg(test)]
mod tests {
    use super::*;

    const T: &str = "abcdefghijklmnopqrstuvwxyz";

    #[test]
    fn visitor_paths_route_to_their_handlers() {
        assert_eq!(route(&format!("/s/{T}")), Route::Page { token: T });
        assert_eq!(route(&format!("/s/{T}/i/hero-960.webp")), Route::Image { token: T, file: "hero-960.webp" });
        assert_eq!(route(&format!("/s/{T}/download/hero")), Route::Download { token: T, image: "hero" });
        assert_eq!(route(&format!("/s/{T}/web/hero")), Route::WebDownload { token: T, image: "hero" });
        assert_eq!(route(&format!("/s/{T}/download-all")), Route::DownloadAll { token: T });
        assert_eq!(route(&format!("/s/{T}/request")), Route::Request { token: T });
        assert_eq!(route("/assets/3f2a/gallery.css"), Route::Asset);
        assert_eq!(route("/robots.txt"), Route::Robots);
        assert_eq!(route("/admin"), Route::Admin);
        assert_eq!(route("/admin/api/links"), Route::Admin);
        assert_eq!(route("/admin/admin.js"), Route::Admin);
        assert_eq!(route("/admin/admin.css"), Route::Admin);
        assert_eq!(route("/admin/charts.js"), Route::Admin);
        assert_eq!(route("/admin/routes.js"), Route::Admin);
        assert_eq!(route("/admin/strings.js"), Route::Admin);
        assert_eq!(route("/admin/stats.js"), Route::Admin);
        assert_eq!(route("/admin/requests.js"), Route::Admin);
        assert_eq!(route("/admin/devices.js"), Route::Admin);
        assert_eq!(route("/admin/owner.css"), Route::Admin);
    }

    #[test]
    fn anything_not_exactly_a_known_shape_is_not_found() {
        let bad = [
            "/".to_string(),
            "/s/".to_string(),
            format!("/s/{T}/"),
            format!("/s/{T}//i/a.webp"),
            format!("/s/{}", T.to_uppercase()),
            format!("/s/{T}x"),
            format!("/s/{T}/i/../../_gatefold/manifest.json"),
            format!("/s/{T}/i/%2e%2e/manifest.json"),
            format!("/s/{T}/i/a%2fb.webp"),
            format!("/s/{T}/i/A.webp"),
            format!("/s/{T}/i/.hidden"),
            format!("/s/{T}/i/a.webp/junk"),
            format!("/s/{T}/i/a\\b.webp"),
            format!("/s/{T}/download/hero/extra"),
            format!("/s/{T}/download/hero.jpg"),
            format!("/s/{T}/download/"),
            format!("/s/{T}/other/x"),
            format!("/s/{T}/web/"),
            format!("/s/{T}/web/hero.jpg"),
            format!("/s/{T}/web/hero/extra"),
            format!("/s/{T}/web/Hero"),
            format!("/s/{T}/download-all/"),
            format!("/s/{T}/download-all/x"),
            format!("/s/{T}/download-all.zip"),
            format!("/s/{T}/Download-all"),
            format!("/s/{T}/request/"),
            format!("/s/{T}/request/x"),
            format!("/s/{T}/Request"),
            "/_gatefold/manifest.json".to_string(),
            "/_gatefold/pages/g/l.en.html".to_string(),
            "/assets/".to_string(),
            "/assets//x.css".to_string(),
            "/assets/../_gatefold/manifest.json".to_string(),
            "/assets/%2e%2e/_gatefold/manifest.json".to_string(),
            "/assets/a\\b.css".to_string(),
            "/admin/".to_string(),
            "/admin/admin.html".to_string(),
            "/admin/../admin.js".to_string(),
            "/admin/api/../../_gatefold/manifest.json".to_string(),
            "/ADMIN".to_string(),
            "/robots.txt/".to_string(),
            "/S/x".to_string(),
        ];
        for path in bad {
            assert_eq!(route(&path), Route::NotFound, "{path}");
        }
    }

    #[test]
    fn visitor_routes_answer_get_and_head_and_the_page_also_post() {
        let path = format!("/s/{T}");
        let page = route(&path);
        assert!(page.allows_method("GET") && page.allows_method("HEAD") && page.allows_method("POST"));
        for m in ["PUT", "DELETE", "PATCH", "OPTIONS", "get", "post", ""] {
            assert!(!page.allows_method(m), "{m}");
        }
        let file = format!("/s/{T}/i/hero-960.webp");
        let download = format!("/s/{T}/download/hero");
        let web = format!("/s/{T}/web/hero");
        let all = format!("/s/{T}/download-all");
        for other in [route(&file), route(&download), route(&web), route(&all), Route::Asset, Route::Robots, Route::NotFound] {
            assert!(other.allows_method("GET") && !other.allows_method("POST"), "{other:?}");
        }
        assert!(Route::Admin.allows_method("POST"));
        let request = format!("/s/{T}/request");
        let request = route(&request);
        assert!(request.allows_method("POST"));
        for m in ["GET", "HEAD", "PUT", "OPTIONS"] {
            assert!(!request.allows_method(m), "a {m} never creates a request");
        }
    }
}
