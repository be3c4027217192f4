//! Gated display images: the session first, then this data centre's cache, else R2.

use super::{MEDIA_BUCKET, MEDIA_CACHE_ORIGIN, Visit, deny};
use crate::access::EventKind;
use crate::gate;
use crate::http::headers;
use gatefold_contract::Denial;
use gatefold_contract::manifest::{Gallery, Link, Variant};
use gatefold_contract::policy::{Access, decide_in_session};
use worker::{Cache, Headers, Response, Result};

/// Session and in-session policy for a gated file of `token`'s link. Checked before the file
/// is looked up, so without a session a real and a made-up file answer the same.
pub(super) async fn admit(v: &Visit<'_>, gallery: &Gallery, link: &Link, token: &str, access: Access) -> Result<std::result::Result<(), Denial>> {
    let runtime = gate::runtime(v.env, &gallery.id, &link.name).await?;
    let Some(session) = v.session(token, &runtime) else { return Ok(Err(Denial::NoSession)) };
    Ok(decide_in_session(&runtime.in_force(gallery, link), &session, access, v.now()))
}

/// `GET|HEAD /s/<token>/i/<file>`.
pub async fn image(v: &Visit<'_>, token: &str, file: &str) -> Result<Response> {
    let Some((gallery, link)) = v.link_with_images(token).await? else { return deny(v, Denial::NotFound).await };
    let decision = admit(v, &gallery, &link, token, Access::View).await?;
    let found = gallery.variant(file);
    if let Some((img, variant)) = found
        && variant.full_size
        && !v.head
    {
        v.log(&gallery.id, &link.name, EventKind::ImageView, decision, Some(&img.id));
    }
    if let Err(d) = decision {
        return deny(v, d).await;
    }
    let Some((_, variant)) = found else { return deny(v, Denial::NotFound).await };
    display_image(v, variant).await
}

/// A display image for a visitor whose session passed: from this data centre's cache, else
/// from R2, putting R2's answer in the cache after the response (so repeat views cost no R2
/// operation). The visitor's answer is always rebuilt with the gated headers: the cache's
/// public ones never reach a browser.
pub(super) async fn display_image(v: &Visit<'_>, variant: &Variant) -> Result<Response> {
    let cache_key = format!("{MEDIA_CACHE_ORIGIN}/{}", variant.key);
    let source = match Cache::default().get(cache_key.as_str(), false).await? {
        Some(hit) => hit,
        None => {
            let bucket = v.env.bucket(MEDIA_BUCKET)?;
            let object = if v.head { bucket.head(&variant.key).await? } else { bucket.get(&variant.key).execute().await? };
            let Some(object) = object else { return missing_media(v, &variant.key).await };
            let headers = Headers::new();
            headers.set("Content-Type", variant.content_type.as_str())?;
            headers.set("Content-Length", &object.size().to_string())?;
            headers.set("ETag", &object.http_etag())?;
            if v.head {
                return gated_image(Response::empty()?.with_headers(headers), true);
            }
            let Some(body) = object.body() else { return missing_media(v, &variant.key).await };
            headers::public_immutable(&headers)?;
            let mut cached = Response::from_body(body.response_body()?)?.with_headers(headers);
            let visitor = cached.cloned()?;
            v.ctx.wait_until(async move {
                if let Err(e) = Cache::default().put(cache_key.as_str(), cached).await {
                    worker::console_error!("caching {cache_key}: {e}");
                }
            });
            visitor
        }
    };
    gated_image(source, v.head)
}

/// `source`'s body (none for HEAD) with its type, length and tag, and the gated headers.
fn gated_image(source: Response, head: bool) -> Result<Response> {
    let headers = Headers::new();
    for name in ["Content-Type", "Content-Length", "ETag"] {
        if let Some(value) = source.headers().get(name)? {
            headers.set(name, &value)?;
        }
    }
    headers::gated(&headers)?;
    let resp = if head { Response::empty()? } else { source };
    Ok(resp.with_status(200).with_headers(headers))
}

/// An object the gallery's record names but R2 lacks: the publish did not upload it.
pub(super) async fn missing_media(v: &Visit<'_>, key: &str) -> Result<Response> {
    worker::console_error!("{key} is in the site's records but not in the {MEDIA_BUCKET} bucket: publish the site again (`gatefold publish`), or locally `make run`");
    deny(v, Denial::NotFound).await
}
