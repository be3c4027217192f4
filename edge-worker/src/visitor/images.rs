//! Gated display images: the session first, then this data centre's cache, else R2; a marked
//! link's own copy ([`super::marked`]).

use super::marked::{self, Choice};
use super::{MEDIA_BUCKET, MEDIA_CACHE_ORIGIN, Visit, deny, gated_image, missing_media};
use crate::access::EventKind;
use crate::gate;
use crate::http::headers;
use gatefold_contract::Denial;
use gatefold_contract::manifest::{Gallery, Image, Link, Variant};
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
    let Some((img, variant)) = found else { return deny(v, Denial::NotFound).await };
    link_image(v, &gallery, &link, img, variant).await
}

/// Display file `variant` of `img` as `link` gets it (its session passed): as published, or the
/// link's marked copy, or nothing for a marked link's unmarked still.
pub(super) async fn link_image(v: &Visit<'_>, gallery: &Gallery, link: &Link, img: &Image, variant: &Variant) -> Result<Response> {
    match marked::display_choice(link, img, variant) {
        Choice::Plain => display_image(v, variant).await,
        Choice::Refused => deny(v, Denial::NotFound).await,
        Choice::Marked(pair) => {
            let copy = marked::Copy::of_variant(&v.site.key, &gallery.id, link, img, pair, variant).map_err(worker::Error::RustError)?;
            marked::serve(v, &copy).await
        }
    }
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

