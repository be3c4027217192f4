//! `notify/test` (one test message per channel) and a gallery's `notifications` (waiting, and
//! given up on).

use super::api::Failure;
use super::call::{Answer, Call, body_text, json};
use super::records::find_gallery;
use crate::analytics::GalleryLogClient;
use worker::Result;

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct NotifyTestRequest {
    gallery: Option<String>,
}

/// `POST notify/test`.
pub(super) async fn test(call: &mut Call<'_>) -> Result<Answer> {
    let (env, now) = (call.env, call.now);
    let site = call.site.clone();
    let settings = &site.settings;
    let req = &mut call.req;
    let body = match body_text(req).await? {
        Ok(body) => body,
        Err(f) => return Ok(Err(f)),
    };
    let only = if body.trim().is_empty() {
        None
    } else {
        match serde_json::from_str::<NotifyTestRequest>(&body) {
            Ok(r) => r.gallery,
            Err(e) => return Ok(Err(Failure::new(400, "bad_request", format!("the body must be {{\"gallery\": \"<id>\"}} or empty: {e}")))),
        }
    };
    let index = site.index(env).await.map_err(worker::Error::RustError)?;
    let ids: Vec<&str> = index.galleries.iter().map(|g| g.id.as_str()).filter(|id| only.as_deref().is_none_or(|o| o == *id)).collect();
    if ids.is_empty() {
        return Ok(Err(Failure::new(404, "not_found", format!("no gallery {:?}: see `gatefold list`", only.unwrap_or_default()))));
    }
    let mut galleries = Vec::new();
    for id in ids {
        if let Some(g) = site.gallery(env, id).await.map_err(worker::Error::RustError)? {
            galleries.push(g);
        }
    }
    Ok(Ok(json(&crate::notify::test_all(env, settings, &galleries, now * 1000).await)?))
}

/// `GET galleries/<g>/notifications`.
pub(super) async fn list(call: &mut Call<'_>, gallery: &str) -> Result<Answer> {
    let env = call.env;
    let site = call.site.clone();
    let g = match find_gallery(&site, env, gallery).await? {
        Ok(g) => g,
        Err(f) => return Ok(Err(f)),
    };
    Ok(Ok(json(&GalleryLogClient::new(env, &g.id)?.notifications().await?)?))
}
