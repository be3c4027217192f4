//! What a request that counts nothing is told: the link's real state, read from its gate
//! without taking an open, as a page carrying the chat card's Open Graph and Twitter tags.
//!
//! Chat apps (Feishu, DingTalk, Slack, WhatsApp, Telegram…) fetch a pasted link from their
//! servers to draw a card. Whether or not their User-Agent is one `crate::bots` knows, they
//! send no browser fetch metadata, so they land here with the mail scanners and HEAD: an open
//! link answers 200 with the interstitial, a closed one its denial's status with the denial's
//! page, each with the card in its head. The card says the gallery's and site's titles and
//! "12 images · until …" or the denial, in the language negotiated for the request (the site's
//! default when the fetcher asks for none); no session, no view, no gated image, and one gate
//! call, the same `/state` the interstitial always made.

use super::{Visit, announce_opening, deny, gate_state, localized, respond_html, respond_json};
use crate::access::EventKind;
use crate::http::headers;
use crate::site;
use gatefold_contract::Denial;
use gatefold_contract::manifest::{self, Gallery, Link};
use gatefold_contract::preview::PreviewPage;
use worker::{Response, Result};

/// `GET|HEAD /s/<token>` that counts nothing (HEAD, bots, scanners, anything without a
/// person's navigation): a closed link answers its denial (403 disabled, 410 expired or used
/// up), an open one 200 with the interstitial, whose button makes the counted open.
pub(super) async fn without_counting(v: &Visit<'_>, gallery: &Gallery, link: &Link) -> Result<Response> {
    let answer = gate_state(v, gallery, link).await?;
    let state = answer.denial.map_or(Ok(()), Err);
    if !v.head {
        v.log(&gallery.id, &link.name, EventKind::Preview, state, None);
    }
    if let Err(denial) = state {
        announce_opening(v, gallery, link, denial);
    }
    if v.json {
        return match state {
            Err(denial) => deny(v, denial).await,
            Ok(()) => respond_json(v, 200, &serde_json::json!({"state": "active", "message": v.locale.open_in_a_browser()})),
        };
    }
    let (path, text) = localized(v, |l| manifest::preview_path(&gallery.id, l)).await?;
    let rebuild = |e: String| worker::Error::RustError(format!("{path}: {e}; rebuild the site with this version of gatefold"));
    let preview = PreviewPage::from_json(&text).map_err(rebuild)?;
    let origin = v.origin()?;
    match state {
        Err(denial) => closed(v, &preview, denial, &origin),
        Ok(()) => {
            let until = answer.expires_at.map(|at| site::shown_expiry(&v.site.settings, &link.policy, at));
            let html = preview.interstitial(until, &origin).map_err(|e| rebuild(e.to_string()))?;
            respond_html(v, 200, html, headers::INTERSTITIAL)
        }
    }
}

/// A closed link's page with its card: the denial's status and words, the gallery's title in
/// the tags, no image.
fn closed(v: &Visit<'_>, preview: &PreviewPage, denial: Denial, origin: &str) -> Result<Response> {
    let html = preview.closed(denial, origin).map_err(|e| worker::Error::RustError(format!("preview page: {e}; rebuild the site")))?;
    respond_html(v, denial.status(), html, headers::PAGE)
}
