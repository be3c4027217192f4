//! The audit log read back (JSON, CSV). What goes on record for each owner action is
//! [`super::note`].

use super::call::{Call, download, json};
use super::error::Result;
use super::log::{GalleryLogClient, export};
use super::note::Note;
use gatefold_contract::admin::ApiRoute;
use worker::Response;

/// `GET galleries/<g>/audit` (JSON) and `audit.csv`.
pub(super) async fn log(call: &mut Call<'_>, route: ApiRoute<'_>, gallery: &str) -> Result<Response> {
    let g = call.gallery(gallery).await?;
    let (from, to) = call.window()?;
    let log = GalleryLogClient::new(call.env, &g.id)?.audit(from.saturating_mul(1000), to.saturating_mul(1000)).await?;
    if let ApiRoute::Audit { .. } = route {
        return json(&log);
    }
    let name = format!("{gallery}-audit-{}.csv", call.local_date());
    call.note(Note::taken("export_audit_csv", gallery, name.clone()));
    let body = Response::from_bytes(export::audit_csv(&call.site.settings, &log.entries))?;
    download(body, "text/csv; charset=utf-8", &name)
}
