//! Downloads behind the session and the published switch: originals (with `Range`), the web
//! size, and "download all" as one ZIP streamed from R2.

use super::images::{admit, display_image, missing_media};
use super::{MEDIA_BUCKET, Visit, deny};
use crate::access::EventKind;
use crate::http::{self, headers};
use crate::zip;
use gatefold_contract::manifest::{Gallery, Link, Variant};
use gatefold_contract::policy::{Access, DownloadSize};
use gatefold_contract::Denial;
use worker::{Headers, Response, Result, wasm_bindgen, wasm_bindgen_futures, web_sys};

/// Whether a download of `size` is allowed: the published switch first, so where that size is
/// off no session, cookie or header can reach the bucket; then the session and in-session
/// policy ([`admit`]). Logged as `event` (kind, image) unless this is a HEAD or there is
/// nothing to log (an image that does not exist).
async fn admit_download(
    v: &Visit<'_>,
    gallery: &Gallery,
    link: &Link,
    token: &str,
    size: DownloadSize,
    event: Option<(EventKind, Option<&str>)>,
) -> Result<std::result::Result<(), Denial>> {
    let decision = if !link.policy.download.allows(size) { Err(Denial::DownloadDisabled) } else { admit(v, gallery, link, token, Access::Download(size)).await? };
    if let Some((kind, image)) = event
        && !v.head
    {
        v.log(&gallery.id, &link.name, kind, decision, image);
    }
    Ok(decision)
}

/// `GET|HEAD /s/<token>/download/<image-id>`.
pub async fn download(v: &Visit<'_>, token: &str, image_id: &str) -> Result<Response> {
    let Some((gallery, link)) = v.link_with_images(token).await? else { return deny(v, Denial::NotFound).await };
    let (gallery, link) = (gallery.as_ref(), &link);
    let found = gallery.image(image_id);
    let event = found.map(|img| (EventKind::Download, Some(img.id.as_str())));
    if let Err(d) = admit_download(v, gallery, link, token, DownloadSize::Original, event).await? {
        return deny(v, d).await;
    }
    let Some(img) = found else { return deny(v, Denial::NotFound).await };
    let bucket = v.env.bucket(MEDIA_BUCKET)?;
    let size = img.original.size;
    let range = match http::byte_range(v.header("Range").as_deref(), size) {
        Ok(r) => r,
        Err(http::Unsatisfiable) => {
            let resp = Response::empty()?.with_status(416);
            resp.headers().set("Content-Range", &format!("bytes */{size}"))?;
            headers::gated(resp.headers())?;
            return Ok(resp);
        }
    };
    let headers = Headers::new();
    headers.set("Content-Type", img.original.content_type.as_str())?;
    headers.set("Content-Disposition", &http::attachment_disposition(&img.file_name))?;
    headers.set("Accept-Ranges", "bytes")?;
    headers::gated(&headers)?;
    let (status, length) = match range {
        Some((first, last)) => {
            headers.set("Content-Range", &format!("bytes {first}-{last}/{size}"))?;
            (206, last - first + 1)
        }
        None => (200, size),
    };
    headers.set("Content-Length", &length.to_string())?;
    if v.head {
        if bucket.head(&img.original.key).await?.is_none() {
            return missing_media(v, &img.original.key).await;
        }
        return Ok(Response::empty()?.with_status(status).with_headers(headers));
    }
    let mut get = bucket.get(&img.original.key);
    if let Some((first, last)) = range {
        get = get.range(worker::Range::OffsetWithLength { offset: first, length: last - first + 1 });
    }
    let Some(object) = get.execute().await? else { return missing_media(v, &img.original.key).await };
    let Some(body) = object.body() else { return missing_media(v, &img.original.key).await };
    Ok(Response::from_body(body.response_body()?)?.with_status(status).with_headers(headers))
}

/// `GET|HEAD /s/<token>/web/<image-id>`: the image's web size
/// ([`gatefold_contract::manifest::Image::web_download`], the widest display JPEG, re-encoded so
/// it carries no metadata) as an attachment, served like display images (this data centre's
/// cache, else R2). HEAD gives the page its byte size (the manifest cannot know encoded sizes)
/// and, like every HEAD, logs nothing.
pub async fn web_download(v: &Visit<'_>, token: &str, image_id: &str) -> Result<Response> {
    let Some((gallery, link)) = v.link_with_images(token).await? else { return deny(v, Denial::NotFound).await };
    let (gallery, link) = (gallery.as_ref(), &link);
    let found = gallery.image(image_id);
    // The access log has no size column: a web download is a download of the image.
    let event = found.map(|img| (EventKind::Download, Some(img.id.as_str())));
    if let Err(d) = admit_download(v, gallery, link, token, DownloadSize::Web, event).await? {
        return deny(v, d).await;
    }
    let Some((img, variant)) = found.and_then(|img| img.web_download().map(|w| (img, w))) else {
        return deny(v, Denial::NotFound).await;
    };
    let resp = display_image(v, variant).await?;
    if resp.status_code() == 200 {
        resp.headers().set("Content-Disposition", &http::attachment_disposition(&web_file_name(&img.file_name, variant)))?;
    }
    Ok(resp)
}

/// `<stem>-web.<ext>` for an original named `<stem>.<anything>`: the web size's own type.
fn web_file_name(original: &str, variant: &Variant) -> String {
    let stem = original.rsplit_once('.').map_or(original, |(stem, _)| stem);
    format!("{stem}-web.{}", variant.content_type.extension())
}

/// `GET|HEAD /s/<token>/download-all`: every original of the gallery as one ZIP (stored, UTF-8
/// names, ZIP64 where needed; see [`crate::zip`]), named after the gallery, with its exact
/// length up front. The body is a `FixedLengthStream` filled after the response returns: each
/// local header written from WASM, then the R2 object piped natively into the stream, so no
/// file byte passes through WASM memory and memory stays constant whatever the gallery's size.
/// No ranges: a resumed ZIP would need the same headers again, and they are cheap to re-send.
pub async fn download_all(v: &Visit<'_>, token: &str) -> Result<Response> {
    let Some((gallery, link)) = v.link_with_images(token).await? else { return deny(v, Denial::NotFound).await };
    let (gallery, link) = (gallery.as_ref(), &link);
    if let Err(d) = admit_download(v, gallery, link, token, DownloadSize::Original, Some((EventKind::DownloadAll, None))).await? {
        return deny(v, d).await;
    }
    let entries = gallery.images.iter().map(|img| zip::Entry { name: img.file_name.clone(), size: img.original.size, crc32: img.original.crc32 });
    let layout = zip::Layout::new(entries.collect()).map_err(|e| worker::Error::RustError(format!("gallery {}: {e}", gallery.id)))?;
    let headers = Headers::new();
    headers.set("Content-Type", "application/zip")?;
    headers.set("Content-Disposition", &http::attachment_disposition(&archive_name(&gallery.title)))?;
    headers.set("Content-Length", &layout.total_len().to_string())?;
    headers.set("Accept-Ranges", "none")?;
    headers::gated(&headers)?;
    if v.head {
        return Ok(Response::empty()?.with_headers(headers));
    }
    let (readable, writable) = fixed_length_stream(layout.total_len())?;
    let keys: Vec<String> = gallery.images.iter().map(|img| img.original.key.clone()).collect();
    let bucket = v.env.bucket(MEDIA_BUCKET)?;
    let gallery_id = gallery.id.clone();
    v.ctx.wait_until(async move {
        if let Err(problem) = write_archive(&bucket, &layout, &keys, &writable).await {
            worker::console_error!("download-all of {gallery_id} stopped: {problem}");
            // An aborted stream makes the browser's download fail instead of leaving a ZIP
            // that looks whole but is not.
            let _ = wasm_bindgen_futures::JsFuture::from(writable.abort_with_reason(&problem.as_str().into())).await;
        }
    });
    Ok(Response::from_body(worker::ResponseBody::Stream(readable))?.with_headers(headers))
}

/// The archive's file name: the gallery's title, minus what no file system takes in a name.
fn archive_name(title: &str) -> String {
    let name: String = title.chars().map(|c| if c.is_control() || matches!(c, '/' | '\\' | ':') { '-' } else { c }).collect();
    format!("{}.zip", name.trim())
}

/// A `FixedLengthStream` of `length` bytes (workerd's, so the response carries that
/// `Content-Length`): its readable and writable sides. workers-rs has no binding for it.
fn fixed_length_stream(length: u64) -> Result<(web_sys::ReadableStream, web_sys::WritableStream)> {
    use wasm_bindgen::JsCast;
    use worker::js_sys::{Array, Function, Reflect, global};
    let js = |e: wasm_bindgen::JsValue| worker::Error::RustError(format!("FixedLengthStream: {e:?}"));
    let ctor: Function = Reflect::get(&global(), &"FixedLengthStream".into()).map_err(js)?.dyn_into().map_err(js)?;
    // A JS number is exact up to 2^53 bytes, far past R2's 5 GB per object times any gallery.
    let stream = Reflect::construct(&ctor, &Array::of1(&(length as f64).into())).map_err(js)?;
    let readable = Reflect::get(&stream, &"readable".into()).map_err(js)?.unchecked_into();
    let writable = Reflect::get(&stream, &"writable".into()).map_err(js)?.unchecked_into();
    Ok((readable, writable))
}

/// Writes the archive into `out`: per entry its local header, then its R2 object piped in
/// (keeping `out` open), then the central directory, then closes `out`.
async fn write_archive(bucket: &worker::Bucket, layout: &zip::Layout, keys: &[String], out: &web_sys::WritableStream) -> std::result::Result<(), String> {
    use wasm_bindgen_futures::JsFuture;
    let js = |what: &str, e: wasm_bindgen::JsValue| format!("{what}: {e:?}");
    let write = |bytes: Vec<u8>| async move {
        let writer = out.get_writer().map_err(|e| js("locking the archive stream", e))?;
        let chunk = worker::js_sys::Uint8Array::from(bytes.as_slice());
        let written = JsFuture::from(writer.write_with_chunk(&chunk)).await;
        writer.release_lock();
        written.map(drop).map_err(|e| js("writing to the archive stream", e))
    };
    let options = web_sys::StreamPipeOptions::new();
    options.set_prevent_close(true);
    for (i, (entry, key)) in layout.entries().iter().zip(keys).enumerate() {
        write(layout.local_header(i)).await?;
        let object = bucket.get(key).execute().await.map_err(|e| format!("reading {key}: {e}"))?;
        let Some(object) = object else {
            return Err(format!("{key} ({}) is in the site's records but not in the {MEDIA_BUCKET} bucket: publish the site again", entry.name));
        };
        if object.size() != entry.size {
            return Err(format!("{key} ({}) is {} bytes in R2 but {} in the manifest: publish the site again", entry.name, object.size(), entry.size));
        }
        let Some(worker::ResponseBody::Stream(body)) = object.body().map(|b| b.response_body()).transpose().map_err(|e| e.to_string())? else {
            return Err(format!("{key} ({}) has no body in R2", entry.name));
        };
        JsFuture::from(body.pipe_to_with_options(out, &options)).await.map_err(|e| js(&format!("piping {key}"), e))?;
    }
    write(layout.central_directory()).await?;
    JsFuture::from(out.close()).await.map(drop).map_err(|e| js("closing the archive stream", e))
}
