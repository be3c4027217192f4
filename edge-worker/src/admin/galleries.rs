//! `galleries/<g>`: the switch for every link of a gallery, its statistics and its access log
//! exported as CSV or Excel.

use super::api;
use super::note::Note;
use super::call::{Call, download, json};
use super::error::{Failure, Result};
use super::follow_up::follow_up;
use super::log::{GalleryLogClient, Terms, export, rollup};
use crate::gate::{ChangeRequest, ChangeResponse, GateClient, Scope};
use gatefold_contract::admin::{ApiRoute, GalleryStats, GalleryStatus};
use gatefold_contract::manifest::Gallery;
use gatefold_contract::policy::{Change, GALLERY_TERMS};
use std::rc::Rc;
use worker::Response;

/// `POST galleries/<g>/disable|enable`.
pub(super) async fn switch(call: &mut Call<'_>, route: ApiRoute<'_>, gallery: &str) -> Result<Response> {
    let (env, now, site) = (call.env, call.now, call.site.clone());
    let settings = &site.settings;
    call.gallery(gallery).await?;
    let (change, action) = if matches!(route, ApiRoute::DisableGallery { .. }) { (Change::Disable, "disable") } else { (Change::Enable, "enable") };
    // One write for the whole gallery: every link's object consults it on open.
    let req = ChangeRequest { change, policy: GALLERY_TERMS.clone(), now, utc_offsets: settings.utc_offsets.clone() };
    let client = GateClient::for_scope(env, &Scope::gallery(gallery))?;
    let scope = client.status().await?;
    let before = Terms::of_scope(&GALLERY_TERMS, &scope.overrides, scope.session_epoch);
    let note = call.note(Note::change(action, gallery.to_string(), settings, &before));
    match client.change(&req).await? {
        ChangeResponse::Changed(st) => {
            note.changed(settings, &before, &Terms::of_scope(&GALLERY_TERMS, &st.overrides, st.session_epoch));
            json(&GalleryStatus { gallery: gallery.to_string(), overrides: st.overrides, notices: st.notices })
        }
        ChangeResponse::Refused(r) => Err(api::refusal(settings, &r).into()),
    }
}

/// What a statistics or export request asks of a gallery's log: `?from=&to=&link=`.
struct Asked {
    gallery: Rc<Gallery>,
    query: rollup::Query,
    from: i64,
    to: i64,
    /// `<gallery>-<today>`: exported files are named after it.
    file_base: String,
    /// `, link <name>` when one link was asked for, for the audit log.
    scope_text: String,
}

impl Asked {
    async fn read(call: &Call<'_>, gallery: &str) -> Result<Asked> {
        let g = call.gallery(gallery).await?;
        let (from, to) = call.window()?;
        let link = call.query()?.remove("link").filter(|l| !l.is_empty());
        if let Some(l) = &link
            && !g.links.contains_key(l)
        {
            return Err(Failure::new(404, "unknown_link", format!("gallery {gallery:?} has no link {l:?}")).into());
        }
        let scope_text = link.as_deref().map_or_else(String::new, |l| format!(", link {l}"));
        let (from_ms, to_ms) = (from.saturating_mul(1000), to.saturating_mul(1000));
        let offsets = rollup::Query::offsets_for(&call.site.settings, from_ms, to_ms);
        let query = rollup::Query { from_ms, to_ms, link, offsets };
        Ok(Asked { gallery: g, query, from, to, file_base: format!("{gallery}-{}", call.local_date()), scope_text })
    }

    /// The gallery's statistics: one request to its log answers every link, first and last
    /// opens and recipients' activity included, never one request per link (a 500-recipient
    /// audience would pass the Free plan's subrequest limit).
    async fn stats(&self, call: &Call<'_>) -> Result<GalleryStats> {
        let rollup = GalleryLogClient::new(call.env, &self.gallery.id)?.stats(&self.query).await?;
        let context = rollup::Context { site: &call.site.settings, gallery: &self.gallery, from: self.from, to: self.to, link: self.query.link.as_deref() };
        Ok(rollup::aggregate(&rollup, &context))
    }
}

/// `GET galleries/<g>/stats`.
pub(super) async fn stats(call: &mut Call<'_>, gallery: &str) -> Result<Response> {
    let asked = Asked::read(call, gallery).await?;
    json(&asked.stats(call).await?)
}

/// `GET galleries/<g>/export.csv`: the access log, streamed.
pub(super) async fn export_csv(call: &mut Call<'_>, gallery: &str) -> Result<Response> {
    let Asked { query, file_base, scope_text, .. } = Asked::read(call, gallery).await?;
    call.note(Note::taken("export_csv", gallery, format!("{file_base}.csv{scope_text}")));
    let log = GalleryLogClient::new(call.env, gallery)?;
    let flags = log.flags().await?;
    let body = Response::from_stream(export::csv_stream(log, call.site.settings.clone(), flags, query))?;
    download(body, "text/csv; charset=utf-8", &format!("{file_base}.csv"))
}

/// `GET galleries/<g>/export.xlsx`: the statistics, the access log, the owner actions and the
/// follow-up lists, each a sheet.
pub(super) async fn export_xlsx(call: &mut Call<'_>, gallery: &str) -> Result<Response> {
    let asked = Asked::read(call, gallery).await?;
    let stats = asked.stats(call).await?;
    let Asked { gallery: g, query, file_base, scope_text, .. } = asked;
    call.note(Note::taken("export_xlsx", gallery, format!("{file_base}.xlsx{scope_text}")));
    let (env, settings) = (call.env, &call.site.settings);
    let log = GalleryLogClient::new(env, gallery)?;
    let (entries, follow) = futures_util::future::join(log.audit(query.from_ms, query.to_ms), follow_up(env, settings, &g, call.now)).await;
    let extra = export::Extra { audit: entries?.entries, follow_up: Some(follow?) };
    let body = match export::xlsx_from_log(&log, settings, &stats, &query, &extra).await {
        Ok(body) => Response::from_bytes(body)?,
        Err(export::XlsxRefused::TooManyRows) => return Err(Failure::new(413, "too_many_rows", export::XlsxRefused::message()).into()),
        Err(export::XlsxRefused::Failed(e)) => return Err(e.into()),
    };
    download(body, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", &format!("{file_base}.xlsx"))
}
