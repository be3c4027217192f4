//! Owner files for an authenticated admin (wasm only): a link's QR code (SVG, PNG), its
//! printable card, a gallery's share kit and its mail-merge file, filled from the private owner kit the generator
//! wrote at publish time (`gatefold_contract::owner`) with each link's terms as they stand now.
//! No file per link exists anywhere: the card and the codes are drawn per request.

use super::api::{self, Failure};
use crate::site::asset_text;
use gatefold_contract::admin::LinkStatus;
use gatefold_contract::manifest::{Gallery, Link, Site};
use gatefold_contract::owner::{self, AudienceTerms, OwnerKit};
use gatefold_contract::{LinkState, Locale, qr};
use worker::{Env, Response, Result};

/// Path the worker serves the theme's owner stylesheet at: public like the admin page's own
/// style (it holds nothing private), because a card opened from a blob URL loads it without
/// the bearer token.
pub const CSS_PATH: &str = "/admin/owner.css";

/// The theme's owner stylesheet, as the last publish wrote it.
pub async fn css(env: &Env) -> Result<Option<String>> {
    asset_text(env, owner::OWNER_CSS_PATH).await
}

/// The gallery's owner kit in `locale`. A missing or unreadable kit is the deployment's fault
/// (a site built by an older generator): an error naming the fix.
pub(super) async fn kit(env: &Env, gallery: &str, locale: Locale) -> Result<OwnerKit> {
    let path = owner::kit_path(gallery, locale);
    let text = asset_text(env, &path)
        .await?
        .ok_or_else(|| worker::Error::RustError(format!("{path} is missing from the assets: publish the site with this version of gatefold")))?;
    OwnerKit::from_json(&text).map_err(|e| worker::Error::RustError(format!("{path}: {e}; publish the site with this version of gatefold")))
}

fn qr_failure(e: qr::QrError) -> Failure {
    Failure::new(500, "qr_failed", e.to_string())
}

pub fn qr_svg(url: &str) -> std::result::Result<(String, &'static str), Failure> {
    qr::svg(url).map(|svg| (svg, "image/svg+xml")).map_err(qr_failure)
}

pub fn qr_png(url: &str) -> std::result::Result<(Vec<u8>, &'static str), Failure> {
    qr::png(url, qr::MIN_PNG_PX).map(|png| (png, "image/png")).map_err(qr_failure)
}

/// The link's printable card; its stylesheet is an absolute URL on `origin`.
pub async fn card(env: &Env, site: &Site, gallery: &Gallery, link: &Link, st: &LinkStatus, locale: Locale, origin: &str) -> Result<std::result::Result<Response, Failure>> {
    let kit = kit(env, &gallery.id, locale).await?;
    let svg = match qr::inline_svg(&st.url) {
        Ok(svg) => svg,
        Err(e) => return Ok(Err(qr_failure(e))),
    };
    let html = kit
        .card(&api::link_terms(site, link, st), &svg, &format!("{origin}{CSS_PATH}"))
        .map_err(|e| worker::Error::RustError(format!("{}: {e}", owner::kit_path(&gallery.id, locale))))?;
    Ok(Ok(Response::ok(html)?))
}

/// The gallery's share message with every link that opens now (not disabled, expired or used
/// up), in the site's order, with its terms in force.
/// Then one block per audience that is not disabled (`open_audiences`), naming its recipient
/// count and the mail-merge file that holds their links.
pub async fn share_kit(env: &Env, site: &Site, gallery: &Gallery, statuses: &[LinkStatus], open_audiences: &[&str], locale: Locale) -> Result<Response> {
    let kit = kit(env, &gallery.id, locale).await?;
    let terms: Vec<_> = statuses
        .iter()
        .filter(|st| st.state == LinkState::Active)
        .filter_map(|st| gallery.links.get(&st.name).map(|l| api::link_terms(site, l, st)))
        .collect();
    let audiences: Vec<AudienceTerms> = gallery
        .audiences
        .iter()
        .filter(|(name, _)| open_audiences.contains(&name.as_str()))
        .map(|(name, a)| AudienceTerms { label: format!("{} ({name})", a.label), recipients: a.recipients, file: mail_merge_name(&gallery.id) })
        .collect();
    let text = kit.share_kit_with_audiences(&terms, &audiences).map_err(|e| worker::Error::RustError(format!("{}: {e}", owner::kit_path(&gallery.id, locale))))?;
    Response::ok(text)
}

/// The name the admin page saves a gallery's mail-merge file under.
pub fn mail_merge_name(gallery: &str) -> String {
    format!("{gallery}-mail-merge.csv")
}

/// The gallery's mail-merge file (one row per recipient), each QR file named by the admin API
/// path that serves it at `origin` (the owner fetches it signed in).
pub fn mail_merge(site: &Site, gallery: &Gallery, origin: &str) -> String {
    owner::mail_merge_csv(site, gallery, |l| format!("{origin}{}{}/qr.png", gatefold_contract::admin::API_PREFIX, api::link_path(&gallery.id, &l.name)))
}
