//! The paths a visitor's browser opens and fetches under `/s/<token>`: the worker routes them
//! (the worker's `route.rs`), the generator writes them into pages and link lists.

/// Path a visitor opens: `<base_url>/s/<token>`.
pub fn link_path(token: &str) -> String {
    format!("/s/{token}")
}

/// Path a visitor's browser fetches a display image or thumbnail at.
pub fn image_path(token: &str, file: &str) -> String {
    format!("/s/{token}/i/{file}")
}

/// Path a visitor downloads an original at.
pub fn download_path(token: &str, image_id: &str) -> String {
    format!("/s/{token}/download/{image_id}")
}

/// Path a visitor downloads an image's web size at ([`super::Image::web_download`]).
pub fn web_download_path(token: &str, image_id: &str) -> String {
    format!("/s/{token}/web/{image_id}")
}

/// Path a visitor downloads every original of the gallery at, as one ZIP.
pub fn download_all_path(token: &str) -> String {
    format!("/s/{token}/download-all")
}

pub fn link_url(base_url: &str, token: &str) -> String {
    format!("{}{}", base_url.trim_end_matches('/'), link_path(token))
}
