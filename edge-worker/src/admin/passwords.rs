//! `links/<id>/password`: a link's password set (never echoed, refused when too easy to guess)
//! or cleared, and a generated passphrase to offer.

use super::api;
use super::note::Note;
use super::call::{Call, json};
use super::error::{Failure, Result};
use super::log::Terms;
use crate::gate::{self, GateClient, Scope};
use crate::password::{self as hashing, StoredHash};
use gatefold_contract::admin::{ApiRoute, Passphrase};
use gatefold_contract::manifest::{Gallery, Link, Site};
use worker::Response;

/// `PUT|DELETE links/<id>/password`.
pub(super) async fn set_or_clear(call: &mut Call<'_>, route: ApiRoute<'_>, gallery: &str, link: &str) -> Result<Response> {
    let (env, now, site) = (call.env, call.now, call.site.clone());
    let settings = &site.settings;
    let (g, l) = call.link(gallery, link).await?;
    let client = GateClient::new(env, gallery, link)?;
    let scope = Scope::link(gallery, link);
    let (own, wider) = futures_util::future::join(client.status(), gate::wider_statuses(env, &scope)).await;
    let wider = wider?;
    let before = Terms::of_link(&api::link_status(settings, &g, &l, own?, &wider, now));
    let action = if matches!(route, ApiRoute::SetPassword { .. }) { "password_set" } else { "password_clear" };
    // Noted before the body is read: a link without `password: required` refuses (409)
    // and that goes on record; the password itself never does.
    call.note(Note::change(action, format!("{gallery}/{link}"), settings, &before));
    let hash = match route {
        ApiRoute::SetPassword { .. } => Some(new_password_hash(call, settings, &g, &l).await?),
        _ => None,
    };
    let st = api::link_status(settings, &g, &l, client.set_password(hash.as_ref()).await?, &wider, now);
    if let Some(note) = &mut call.note {
        note.changed(settings, &before, &Terms::of_link(&st));
    }
    json(&st)
}

/// `GET passphrase`: a generated passphrase (the password dialog's "Generate").
pub(super) fn passphrase() -> Result<Response> {
    json(&Passphrase { passphrase: hashing::passphrase()? })
}

/// The hash of the password a `PUT .../password` body sets, or why it is refused. The body is
/// never echoed (serde's messages would quote it) and the password goes nowhere but the hash.
async fn new_password_hash(call: &mut Call<'_>, site: &Site, gallery: &Gallery, link: &Link) -> Result<StoredHash> {
    #[derive(serde::Deserialize)]
    struct Body {
        password: String,
    }
    if !link.policy.password {
        let message = format!("link {:?} has no `password: required` in git: add it to the link or its audience and publish first", link.name);
        return Err(Failure::new(409, "password_not_required", message).into());
    }
    let text = call.body().await?;
    let Ok(body) = serde_json::from_str::<Body>(&text) else {
        return Err(Failure::new(400, "bad_request", "body must be JSON like {\"password\": \"...\"}").into());
    };
    hashing::check_new(&body.password).map_err(|e| Failure::new(400, "bad_password", e))?;
    if let Some(f) = api::weak_password(site, gallery, link, &body.password, hashing::passphrase()?) {
        return Err(f.into());
    }
    Ok(hashing::hash_new(&body.password).await?)
}
