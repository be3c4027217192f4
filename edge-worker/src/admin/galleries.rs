//! `galleries/<g>`: the switch for every link of a gallery, its statistics and its access log
//! exported as CSV or Excel.

use super::api::{self, ApiRoute, Failure};
use super::audit::Note;
use super::call::{Answer, Call, download, json};
use super::follow_up::follow_up;
use super::records::find_gallery;
use crate::analytics::audit::Terms;
use crate::analytics::{GalleryLogClient, export, rollup};
use crate::gate::{ChangeRequest, ChangeResponse, GateClient, Scope};
use gatefold_contract::admin::GalleryStatus;
use gatefold_contract::manifest::{Gallery, Site};
use gatefold_contract::policy::{Change, GALLERY_TERMS};
use std::collections::HashMap;
use worker::{Env, Response, Result};

/// `POST galleries/<g>/disable|enable`.
pub(super) async fn switch(call: &mut Call<'_>, route: ApiRoute<'_>, gallery: &str) -> Result<Answer> {
    let (env, now) = (call.env, call.now);
    let site = call.site.clone();
    let settings = &site.settings;
    let note = &mut call.note;
    if let Err(f) = find_gallery(&site, env, gallery).await? {
        return Ok(Err(f));
    }
    let (change, action) = if matches!(route, ApiRoute::DisableGallery { .. }) { (Change::Disable, "disable") } else { (Change::Enable, "enable") };
    // One write for the whole gallery: every link's object consults it on open.
    let req = ChangeRequest { change, policy: GALLERY_TERMS.clone(), now, utc_offsets: settings.utc_offsets.clone() };
    let client = GateClient::for_scope(env, &Scope::gallery(gallery))?;
    let before = Terms::of_scope(&GALLERY_TERMS, &client.status().await?);
    let n = note.insert(Note::change(action, gallery.to_string(), settings, &before));
    match client.change(&req).await? {
        ChangeResponse::Changed(st) => {
            n.changed(settings, &before, &Terms::of_scope(&GALLERY_TERMS, &st));
            Ok(Ok(json(&GalleryStatus { gallery: gallery.to_string(), overrides: st.overrides, notices: st.notices })?))
        }
        ChangeResponse::Refused(r) => Ok(Err(api::refusal(settings, &r))),
    }
}

/// `GET galleries/<g>/stats`, `export.csv`, `export.xlsx`.
pub(super) async fn stats_or_export(call: &mut Call<'_>, route: ApiRoute<'_>, gallery: &str) -> Result<Answer> {
    let (env, now) = (call.env, call.now);
    let site = call.site.clone();
    let settings = &site.settings;
    let req = &mut call.req;
    let note = &mut call.note;
    let g = match find_gallery(&site, env, gallery).await? {
        Ok(g) => g,
        Err(f) => return Ok(Err(f)),
    };
    let url = req.url()?;
    let params: HashMap<String, String> = url.query_pairs().into_owned().collect();
    let (from, to) = match api::window(settings, params.get("from").map(String::as_str), params.get("to").map(String::as_str), now) {
        Ok(w) => w,
        Err(f) => return Ok(Err(f)),
    };
    let link = params.get("link").filter(|l| !l.is_empty()).cloned();
    if let Some(l) = &link
        && !g.links.contains_key(l)
    {
        return Ok(Err(Failure::new(404, "unknown_link", format!("gallery {gallery:?} has no link {l:?}"))));
    }
    let query = rollup::Query {
        from_ms: from.saturating_mul(1000),
        to_ms: to.saturating_mul(1000),
        link: link.clone(),
        offsets: rollup::Query::offsets_for(settings, from.saturating_mul(1000), to.saturating_mul(1000)),
    };
    let file_base = format!("{gallery}-{}", rollup::civil_date((now + i64::from(settings.utc_offset_at(now))).div_euclid(86_400)));
    let log = GalleryLogClient::new(env, gallery)?;
    let scope_text = link.as_deref().map_or_else(String::new, |l| format!(", link {l}"));
    if let ApiRoute::ExportCsv { .. } = route {
        *note = Some(Note::taken("export_csv", gallery, format!("{file_base}.csv{scope_text}")));
        let body = Response::from_stream(export::csv_stream(log, settings.clone(), query))?;
        return Ok(Ok(download(body, "text/csv; charset=utf-8", &format!("{file_base}.csv"))?));
    }
    let stats = stats(env, settings, &g, &query, from, to, link.as_deref()).await?;
    if let ApiRoute::ExportXlsx { .. } = route {
        *note = Some(Note::taken("export_xlsx", gallery, format!("{file_base}.xlsx{scope_text}")));
        // The owner actions and the follow-up lists go along as sheets of their own.
        let (entries, follow) = futures_util::future::join(log.audit(query.from_ms, query.to_ms), follow_up(env, settings, &g, now)).await;
        let extra = export::Extra { audit: entries?.entries, follow_up: Some(follow?) };
        let body = match export::xlsx_from_log(&log, settings, &stats, &query, &extra).await {
            Ok(body) => Response::from_bytes(body)?,
            Err(export::XlsxRefused::TooManyRows) => return Ok(Err(Failure::new(413, "too_many_rows", export::XlsxRefused::message()))),
            Err(export::XlsxRefused::Failed(e)) => return Err(e),
        };
        return Ok(Ok(download(body, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", &format!("{file_base}.xlsx"))?));
    }
    Ok(Ok(json(&stats)?))
}

async fn stats(
    env: &Env,
    site: &Site,
    g: &Gallery,
    query: &rollup::Query,
    from: i64,
    to: i64,
    link: Option<&str>,
) -> Result<gatefold_contract::admin::GalleryStats> {
    // One request to the gallery's log answers every link, first and last opens and
    // recipients' activity included: never one request per link (a 500-recipient audience
    // would pass the Free plan's subrequest limit).
    let rollup = GalleryLogClient::new(env, &g.id)?.stats(query).await?;
    Ok(rollup::aggregate(&rollup, &rollup::Context { site, gallery: g, from, to, link }))
}
