//! Owner files for an authenticated admin (wasm only): a link's QR code (SVG, PNG), its
//! printable card, a gallery's share kit and its mail-merge file, filled from the private owner kit the generator
//! wrote at publish time (`gatefold_contract::owner`) with each link's terms as they stand now.
//! No file per link exists anywhere: the card and the codes are drawn per request.

use super::api;
use super::note::Note;
use super::call::{Call, download, owner_file};
use super::error::{Failure, Result};
use super::records::{link_statuses, scope_statuses};
use crate::gate::Scope;
use crate::site::asset_text;
use gatefold_contract::admin::{API_PREFIX, ApiRoute, LinkStatus};
use gatefold_contract::manifest::{Gallery, Link, Site};
use gatefold_contract::owner::{self, AudienceTerms, OwnerKit};
use gatefold_contract::{LinkState, Locale, qr};
use worker::{Env, Response};

/// Path the worker serves the theme's owner stylesheet at: public like the admin page's own
/// style (it holds nothing private), because a card opened from a blob URL loads it without
/// the bearer token.
pub const CSS_PATH: &str = "/admin/owner.css";

/// The theme's owner stylesheet, as the last publish wrote it.
pub async fn css(env: &Env) -> worker::Result<Option<String>> {
    asset_text(env, owner::OWNER_CSS_PATH).await
}

/// The gallery's owner kit in `locale`. A missing or unreadable kit is the deployment's fault
/// (a site built by an older generator): an error naming the fix.
pub(super) async fn kit(env: &Env, gallery: &str, locale: Locale) -> worker::Result<OwnerKit> {
    let path = owner::kit_path(gallery, locale);
    let text = asset_text(env, &path)
        .await?
        .ok_or_else(|| worker::Error::RustError(format!("{path} is missing from the assets: publish the site with this version of gatefold")))?;
    OwnerKit::from_json(&text).map_err(|e| worker::Error::RustError(format!("{path}: {e}; publish the site with this version of gatefold")))
}

fn qr_failure(e: qr::QrError) -> Failure {
    Failure::new(500, "qr_failed", e.to_string())
}

/// The link's printable card; its stylesheet is an absolute URL on `origin`.
async fn card(env: &Env, site: &Site, gallery: &Gallery, link: &Link, st: &LinkStatus, locale: Locale, origin: &str) -> Result<String> {
    let kit = kit(env, &gallery.id, locale).await?;
    let svg = qr::inline_svg(&st.url).map_err(qr_failure)?;
    let html = kit
        .card(&api::link_terms(site, link, st), &svg, &format!("{origin}{CSS_PATH}"))
        .map_err(|e| worker::Error::RustError(format!("{}: {e}", owner::kit_path(&gallery.id, locale))))?;
    Ok(html)
}

/// The gallery's share message with every link that opens now (not disabled, expired or used
/// up), in the site's order, with its terms in force.
/// Then one block per audience that is not disabled (`open_audiences`), naming its recipient
/// count and the mail-merge file that holds their links.
async fn share_kit(env: &Env, site: &Site, gallery: &Gallery, statuses: &[LinkStatus], open_audiences: &[&str], locale: Locale) -> worker::Result<String> {
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
    kit.share_kit_with_audiences(&terms, &audiences).map_err(|e| worker::Error::RustError(format!("{}: {e}", owner::kit_path(&gallery.id, locale))))
}

/// The name the admin page saves a gallery's mail-merge file under.
fn mail_merge_name(gallery: &str) -> String {
    format!("{gallery}-mail-merge.csv")
}

/// The gallery's mail-merge file (one row per recipient), each QR file named by the admin API
/// path that serves it at `origin` (the owner fetches it signed in).
fn mail_merge(site: &Site, gallery: &Gallery, origin: &str) -> String {
    owner::mail_merge_csv(site, gallery, |l| format!("{origin}{API_PREFIX}{}", ApiRoute::QrPng { gallery: &gallery.id, link: &l.name }.path()))
}

/// `?locale=`: the language of a card or share kit, the site's when not given.
fn locale(call: &Call<'_>) -> Result<Locale> {
    Ok(api::locale_param(&call.site.settings, call.query()?.get("locale").map(String::as_str))?)
}

/// `GET links/<id>/qr.svg|qr.png|card.html`.
pub(super) async fn link_file(call: &mut Call<'_>, route: ApiRoute<'_>, gallery: &str, link: &str) -> Result<Response> {
    let (g, l) = call.link(gallery, link).await?;
    let settings = &call.site.settings;
    let url = gatefold_contract::manifest::link_url(&settings.base_url, &l.token);
    let (resp, content_type) = match route {
        ApiRoute::QrSvg { .. } => (Response::ok(qr::svg(&url).map_err(qr_failure)?)?, "image/svg+xml"),
        ApiRoute::QrPng { .. } => (Response::from_bytes(qr::png(&url, qr::MIN_PNG_PX).map_err(qr_failure)?)?, "image/png"),
        _ => {
            let locale = locale(call)?;
            let st = link_statuses(call.env, settings, &[(&g, &l)], call.now).await?.remove(0);
            let html = card(call.env, settings, &g, &l, &st, locale, &call.origin()?).await?;
            (Response::ok(html)?, "text/html; charset=utf-8")
        }
    };
    owner_file(resp, content_type)
}

/// `GET galleries/<g>/share-kit.txt`.
pub(super) async fn gallery_share_kit(call: &mut Call<'_>, gallery: &str) -> Result<Response> {
    let g = call.gallery(gallery).await?;
    let locale = locale(call)?;
    let (env, settings) = (call.env, &call.site.settings);
    // Recipients' links are for the mail merge, one per person: the share kit lists the
    // links meant to be passed on, and asking hundreds of recipients' objects would pass
    // the Free plan's subrequest limit.
    let pairs: Vec<_> = g.links.values().filter(|l| l.audience().is_none()).map(|l| (g.as_ref(), l)).collect();
    let audience_scopes = g.audiences.keys().flat_map(|a| [Scope::audience(gallery, a), Scope::gallery(gallery)]);
    let (statuses, scopes) = futures_util::future::join(link_statuses(env, settings, &pairs, call.now), scope_statuses(env, audience_scopes)).await;
    let scopes = scopes?;
    let closed = |s: Scope| scopes.get(&s.object_name()).is_some_and(|st| st.overrides.is_disabled());
    let open: Vec<&str> = g.audiences.keys().map(String::as_str).filter(|a| !closed(Scope::audience(gallery, a)) && !closed(Scope::gallery(gallery))).collect();
    let text = share_kit(env, settings, &g, &statuses?, &open, locale).await?;
    owner_file(Response::ok(text)?, "text/plain; charset=utf-8")
}

/// `GET galleries/<g>/mail-merge.csv`.
pub(super) async fn gallery_mail_merge(call: &mut Call<'_>, gallery: &str) -> Result<Response> {
    let g = call.gallery(gallery).await?;
    if g.audiences.is_empty() {
        let message = format!("gallery {gallery:?} has no audience with recipients: add `recipients:` to a link in its gallery.yaml");
        return Err(Failure::new(404, "no_recipients", message).into());
    }
    let body = Response::ok(mail_merge(&call.site.settings, &g, &call.origin()?))?;
    let recipients = g.links.values().filter(|l| l.audience().is_some()).count();
    call.note(Note::taken("mail_merge", gallery, format!("{}, {recipients} recipients", mail_merge_name(gallery))));
    download(body, "text/csv; charset=utf-8", &mail_merge_name(gallery))
}
