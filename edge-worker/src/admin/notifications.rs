//! `notify/test` (one test message per channel) and a gallery's `notifications` (waiting, and
//! given up on).

use super::call::{Call, json};
use super::error::{Error, Failure, Result};
use super::log::GalleryLogClient;
use worker::Response;

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct NotifyTestRequest {
    gallery: Option<String>,
}

/// `POST notify/test`: every gallery's channels, or one gallery's (`{"gallery": "<id>"}`).
pub(super) async fn test(call: &mut Call<'_>) -> Result<Response> {
    let body = call.body().await?;
    let only = if body.trim().is_empty() {
        None
    } else {
        serde_json::from_str::<NotifyTestRequest>(&body)
            .map_err(|e| Failure::new(400, "bad_request", format!("the body must be {{\"gallery\": \"<id>\"}} or empty: {e}")))?
            .gallery
    };
    let index = call.index().await?;
    let ids: Vec<&str> = index.galleries.iter().map(|g| g.id.as_str()).filter(|id| only.as_deref().is_none_or(|o| o == *id)).collect();
    if ids.is_empty() {
        return Err(Failure::new(404, "not_found", format!("no gallery {:?}: see `gatefold list`", only.unwrap_or_default())).into());
    }
    let (env, site) = (call.env, &call.site);
    let mut galleries = Vec::new();
    for id in ids {
        if let Some(g) = site.gallery(env, id).await.map_err(Error::deployment)? {
            galleries.push(g);
        }
    }
    json(&crate::notify::test_all(env, &site.settings, &galleries, call.now * 1000).await)
}

/// `GET galleries/<g>/notifications`.
pub(super) async fn list(call: &mut Call<'_>, gallery: &str) -> Result<Response> {
    let g = call.gallery(gallery).await?;
    json(&GalleryLogClient::new(call.env, &g.id)?.notifications().await?)
}
