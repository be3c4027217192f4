//! One admin API call: the request's context (the site, the clock, what goes on record), the
//! records it names, its query and body read under their caps, and its answers (JSON,
//! downloads, owner files), never stored by any cache.

use super::api;
use super::note::Note;
use super::error::{Error, Failure, Result};
use crate::http;
use crate::site::Deployment;
use gatefold_contract::admin::LinkPatch;
use gatefold_contract::manifest::{Gallery, GalleryIndex, Link};
use gatefold_contract::policy::Change;
use gatefold_contract::time::WallTime;
use std::collections::HashMap;
use std::rc::Rc;
use worker::{Env, Request, Response};

/// Admin request bodies are small JSON objects (a patch, a password, a gallery id).
const MAX_BODY_BYTES: usize = 16 * 1024;

/// One admin API request as its handler sees it.
pub(super) struct Call<'a> {
    pub req: Request,
    pub env: &'a Env,
    /// The same isolate-wide settings and record memo the visitor routes use.
    pub site: Rc<Deployment>,
    /// Unix seconds.
    pub now: i64,
    /// The owner action to put on record, set by the handlers of actions.
    pub note: Option<Note>,
}

impl Call<'_> {
    /// A gallery's record: read from the deployment, never from a list of every gallery.
    pub async fn gallery(&self, gallery: &str) -> Result<Rc<Gallery>> {
        let found = self.site.gallery(self.env, gallery).await.map_err(Error::deployment)?;
        Ok(found.ok_or_else(|| Failure::new(404, "unknown_gallery", format!("no gallery {gallery:?} in the published site")))?)
    }

    /// A link's gallery record and the link in it.
    pub async fn link(&self, gallery: &str, link: &str) -> Result<(Rc<Gallery>, Link)> {
        let g = self.gallery(gallery).await?;
        let l = g.links.get(link).cloned().ok_or_else(|| Failure::new(404, "unknown_link", format!("gallery {gallery:?} has no link {link:?}")))?;
        Ok((g, l))
    }

    /// The site's index of every gallery and link (names and titles only).
    pub async fn index(&self) -> Result<GalleryIndex> {
        self.site.index(self.env).await.map_err(Error::deployment)
    }

    pub fn query(&self) -> Result<HashMap<String, String>> {
        Ok(self.req.url()?.query_pairs().into_owned().collect())
    }

    /// `?from=&to=` as the window they give in the site timezone.
    pub fn window(&self) -> Result<(i64, i64)> {
        let params = self.query()?;
        let param = |name: &str| params.get(name).map(String::as_str);
        Ok(api::window(&self.site.settings, param("from"), param("to"), self.now)?)
    }

    /// Today in the site timezone (`YYYY-MM-DD`), for the names of exported files.
    pub fn local_date(&self) -> String {
        WallTime::at(&self.site.settings, self.now).date()
    }

    /// This origin (`https://host`), for URLs the owner follows signed in.
    pub fn origin(&self) -> Result<String> {
        Ok(self.req.url()?.origin().ascii_serialization())
    }

    /// The request's body as text, read under [`MAX_BODY_BYTES`] while it streams
    /// ([`http::read_body`]): 413 past it.
    pub async fn body(&mut self) -> Result<String> {
        match http::read_body(&mut self.req, MAX_BODY_BYTES).await? {
            Ok(bytes) => Ok(String::from_utf8(bytes).map_err(|_| Failure::new(400, "bad_request", "the body must be UTF-8 JSON"))?),
            Err(http::TooLarge) => {
                Err(Failure::new(413, "request_too_large", format!("the body is over {MAX_BODY_BYTES} bytes: admin requests are small JSON objects")).into())
            }
        }
    }

    /// A PATCH body (a link's or an audience's) as the change its object applies.
    pub async fn patch(&mut self) -> Result<Change> {
        let body = self.body().await?;
        let patch = serde_json::from_str::<LinkPatch>(&body).map_err(|e| {
            Failure::new(400, "bad_request", format!("body must be JSON like {{\"expires\": \"2026-12-31\", \"max_views\": 100}} or {{\"extend_days\": 7}}: {e}"))
        })?;
        Ok(api::patch_change(&self.site.settings, &patch)?)
    }

    /// Puts `note` on record once the answer is known (see the router), and hands it back to
    /// fill in what changed.
    pub fn note(&mut self, note: Note) -> &mut Note {
        self.note.insert(note)
    }
}

pub(super) fn now_secs() -> i64 {
    (worker::Date::now().as_millis() / 1000) as i64
}

fn no_store(mut resp: Response) -> Result<Response> {
    http::headers::owner(resp.headers_mut())?;
    Ok(resp)
}

pub(super) fn json<T: serde::Serialize>(value: &T) -> Result<Response> {
    no_store(Response::from_json(value)?)
}

/// An owner file: never stored, never sniffed, and as locked down as the admin page.
pub(super) fn owner_file(mut resp: Response, content_type: &str) -> Result<Response> {
    let h = resp.headers_mut();
    h.set("Content-Type", content_type)?;
    http::headers::locked_down(h, http::headers::PAGE)?;
    no_store(resp)
}

/// A file the page saves under `file_name`.
pub(super) fn download(body: Response, content_type: &str, file_name: &str) -> Result<Response> {
    let mut resp = no_store(body)?;
    let h = resp.headers_mut();
    h.set("Content-Type", content_type)?;
    h.set("Content-Disposition", &http::attachment_disposition(file_name))?;
    Ok(resp)
}
