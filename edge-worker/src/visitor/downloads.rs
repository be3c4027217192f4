//! Downloads behind the session and the published switch: originals (with `Range`), the web
//! size, and "download all" as one ZIP streamed from R2; a marked link's own copies where its
//! mark covers them ([`super::marked`]).

use super::images::{admit, link_image};
use super::marked::{self, Choice};
use super::{MEDIA_BUCKET, Visit, deny, missing_media};
use crate::access::EventKind;
use crate::http::{self, headers};
use crate::zip;
use gatefold_contract::manifest::{Gallery, Image, Link, Variant};
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
    let pair = match marked::original_choice(link, img) {
        Choice::Plain => None,
        Choice::Marked(pair) => Some(pair),
        Choice::Refused => return Err(worker::Error::RustError(format!("{}/{}: marks originals but image {} has no marked original; rebuild the site", gallery.id, link.name, img.id))),
    };
    if let Some(pair) = pair {
        let copy = marked::Copy::of_original(&v.site.key, &gallery.id, link, img, pair).map_err(worker::Error::RustError)?;
        return marked_original(v, img, &copy).await;
    }
    let bucket = v.env.bucket(MEDIA_BUCKET)?;
    let size = img.original.size;
    let range = match http::byte_range(v.header("Range").as_deref(), size) {
        Ok(r) => r,
        Err(http::Unsatisfiable) => return unsatisfiable(size),
    };
    let (status, headers) = attachment_headers(img.original.content_type.as_str(), &img.file_name, size, range)?;
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

/// A marked link's copy of an original, as a JPEG attachment with `Range`: its length from the
/// index alone for HEAD, its bytes from the cache or spliced now for GET.
async fn marked_original(v: &Visit<'_>, img: &Image, copy: &marked::Copy) -> Result<Response> {
    let bucket = v.env.bucket(MEDIA_BUCKET)?;
    let found = if v.head { copy.size_crc(&bucket, Some(v.ctx)).await.map(|(size, _)| (size, None)) } else { copy.bytes(&bucket, Some(v.ctx)).await.map(|b| (b.len() as u64, Some(b))) };
    let (size, bytes) = match found {
        Ok(found) => found,
        Err(failure) => return marked::failed(v, failure).await,
    };
    let range = match http::byte_range(v.header("Range").as_deref(), size) {
        Ok(r) => r,
        Err(http::Unsatisfiable) => return unsatisfiable(size),
    };
    let name = marked::marked_original_name(&img.file_name, img.original.content_type);
    let (status, headers) = attachment_headers(gatefold_contract::media::MediaType::Jpeg.as_str(), &name, size, range)?;
    let Some(bytes) = bytes else { return Ok(Response::empty()?.with_status(status).with_headers(headers)) };
    let body = match range {
        Some((first, last)) => bytes[first as usize..=last as usize].to_vec(),
        None => bytes,
    };
    Ok(Response::from_bytes(body)?.with_status(status).with_headers(headers))
}

/// 416 for a range outside a file of `size` bytes.
fn unsatisfiable(size: u64) -> Result<Response> {
    let resp = Response::empty()?.with_status(416);
    resp.headers().set("Content-Range", &format!("bytes */{size}"))?;
    headers::gated(resp.headers())?;
    Ok(resp)
}

/// An attachment's headers (gated) and status for `range` of a `size`-byte file.
fn attachment_headers(content_type: &str, name: &str, size: u64, range: Option<(u64, u64)>) -> Result<(u16, Headers)> {
    let headers = Headers::new();
    headers.set("Content-Type", content_type)?;
    headers.set("Content-Disposition", &http::attachment_disposition(name))?;
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
    Ok((status, headers))
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
    let resp = link_image(v, gallery, link, img, variant).await?;
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
    let bucket = v.env.bucket(MEDIA_BUCKET)?;
    let (entries, sources) = match archive_entries(v, gallery, link, &bucket).await? {
        Ok(found) => found,
        Err(failure) => return marked::failed(v, failure).await,
    };
    let layout = zip::Layout::new(entries).map_err(|e| worker::Error::RustError(format!("gallery {}: {e}", gallery.id)))?;
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
    let gallery_id = gallery.id.clone();
    v.ctx.wait_until(async move {
        if let Err(problem) = write_archive(&bucket, &layout, &sources, &writable).await {
            worker::console_error!("download-all of {gallery_id} stopped: {problem}");
            // An aborted stream makes the browser's download fail instead of leaving a ZIP
            // that looks whole but is not.
            let _ = wasm_bindgen_futures::JsFuture::from(writable.abort_with_reason(&problem.as_str().into())).await;
        }
    });
    Ok(Response::from_body(worker::ResponseBody::Stream(readable))?.with_headers(headers))
}

/// Where an archive entry's bytes come from.
enum Source {
    /// The original's R2 object, piped untouched.
    Object(String),
    /// The link's marked copy of the original, spliced while the archive is written.
    Marked(marked::Copy),
}

/// The archive's entries and their sources, in the gallery's order: each original as published,
/// or, for a link marking originals, its own copy, whose size and CRC-32 come from the pair's
/// index (read for every image side by side) before the first byte is sent.
async fn archive_entries(
    v: &Visit<'_>,
    gallery: &Gallery,
    link: &Link,
    bucket: &worker::Bucket,
) -> Result<std::result::Result<(Vec<zip::Entry>, Vec<Source>), marked::Failure>> {
    let mut plan = Vec::with_capacity(gallery.images.len());
    for img in &gallery.images {
        plan.push(match marked::original_choice(link, img) {
            Choice::Plain => (img, Source::Object(img.original.key.clone())),
            Choice::Marked(pair) => (img, Source::Marked(marked::Copy::of_original(&v.site.key, &gallery.id, link, img, pair).map_err(worker::Error::RustError)?)),
            Choice::Refused => return Err(worker::Error::RustError(format!("{}/{}: marks originals but image {} has no marked original; rebuild the site", gallery.id, link.name, img.id))),
        });
    }
    let sized = futures_util::future::join_all(plan.iter().map(|(img, source)| async move {
        match source {
            Source::Object(_) => Ok(zip::Entry { name: img.file_name.clone(), size: img.original.size, crc32: img.original.crc32 }),
            Source::Marked(copy) => {
                let (size, crc32) = copy.size_crc(bucket, Some(v.ctx)).await?;
                Ok(zip::Entry { name: marked::marked_original_name(&img.file_name, img.original.content_type), size, crc32 })
            }
        }
    }))
    .await;
    let mut entries = match sized.into_iter().collect::<std::result::Result<Vec<_>, marked::Failure>>() {
        Ok(entries) => entries,
        Err(failure) => return Ok(Err(failure)),
    };
    unique_names(&mut entries);
    Ok(Ok((entries, plan.into_iter().map(|(_, source)| source).collect())))
}

/// Gives every entry a name of its own: a marked original is a JPEG, so `hero.png` and
/// `hero.jpg` of one gallery would both be `hero.jpg` in the archive; the later one becomes
/// `hero (2).jpg`.
fn unique_names(entries: &mut [zip::Entry]) {
    let mut taken = std::collections::BTreeSet::new();
    for entry in entries.iter_mut() {
        let (stem, ext) = entry.name.rsplit_once('.').map_or((entry.name.clone(), String::new()), |(s, e)| (s.to_string(), format!(".{e}")));
        let mut n = 1;
        while !taken.insert(entry.name.to_lowercase()) {
            n += 1;
            entry.name = format!("{stem} ({n}){ext}");
        }
    }
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
async fn write_archive(bucket: &worker::Bucket, layout: &zip::Layout, sources: &[Source], out: &web_sys::WritableStream) -> std::result::Result<(), String> {
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
    for (i, (entry, source)) in layout.entries().iter().zip(sources).enumerate() {
        write(layout.local_header(i)).await?;
        let key = match source {
            Source::Object(key) => key,
            Source::Marked(copy) => {
                let bytes = copy.bytes(bucket, None).await.map_err(|f| match f {
                    marked::Failure::Missing(key) => format!("{key} ({}) is in the site's records but not in the {MEDIA_BUCKET} bucket: publish the site again", entry.name),
                    marked::Failure::Broken(problem) => format!("{} (marked): {problem}", entry.name),
                })?;
                // Every copy was checked against its index's size and CRC-32 when spliced (a
                // cached one before it was cached): a length that differs is another layout.
                if bytes.len() as u64 != entry.size {
                    return Err(format!("{}: the marked copy is {} bytes but the archive's layout says {}", entry.name, bytes.len(), entry.size));
                }
                write(bytes).await?;
                continue;
            }
        };
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_that_would_share_a_name_get_one_of_their_own() {
        let e = |name: &str| zip::Entry { name: name.into(), size: 0, crc32: 0 };
        let mut entries = vec![e("hero.jpg"), e("hero.jpg"), e("HERO.jpg"), e("side.png"), e("notes")];
        unique_names(&mut entries);
        let names: Vec<&str> = entries.iter().map(|e| e.name.as_str()).collect();
        assert_eq!(names, ["hero.jpg", "hero (2).jpg", "HERO (3).jpg", "side.png", "notes"]);
    }
}
