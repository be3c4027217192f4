//! `links/<id>/password`: a link's password set (never echoed, refused when too easy to guess)
//! or cleared, and a generated passphrase to offer.

use super::api::{self, ApiRoute, Failure};
use super::audit::Note;
use super::call::{Answer, Call, body_text, json};
use super::records::find_link;
use crate::analytics::audit::Terms;
use crate::gate::{self, GateClient, Scope};
use gatefold_contract::manifest::{Gallery, Link, Site};
use worker::{Request, Result};

/// `PUT|DELETE links/<id>/password`.
pub(super) async fn set_or_clear(call: &mut Call<'_>, route: ApiRoute<'_>, gallery: &str, link: &str) -> Result<Answer> {
    let (env, now) = (call.env, call.now);
    let site = call.site.clone();
    let settings = &site.settings;
    let req = &mut call.req;
    let note = &mut call.note;
    let (g, l) = match find_link(&site, env, gallery, link).await? {
        Ok(found) => found,
        Err(f) => return Ok(Err(f)),
    };
    let client = GateClient::new(env, gallery, link)?;
    let scope = Scope::link(gallery, link);
    let (own, wider) = futures_util::future::join(client.status(), gate::wider_statuses(env, &scope)).await;
    let wider = wider?;
    let before = Terms::of_link(&api::link_status(settings, &g, &l, own?, &wider, now));
    let action = if matches!(route, ApiRoute::SetPassword { .. }) { "password_set" } else { "password_clear" };
    // Noted before the body is read: a link without `password: required` refuses (409)
    // and that goes on record; the password itself never does.
    let n = note.insert(Note::change(action, format!("{gallery}/{link}"), settings, &before));
    let hash = match route {
        ApiRoute::SetPassword { .. } => match set_password_hash(req, settings, &g, &l).await? {
            Ok(hash) => Some(hash),
            Err(f) => return Ok(Err(f)),
        },
        _ => None,
    };
    let st = api::link_status(settings, &g, &l, client.set_password(hash.as_ref()).await?, &wider, now);
    n.changed(settings, &before, &Terms::of_link(&st));
    Ok(Ok(json(&st)?))
}

/// The hash of the password a `PUT .../password` body sets, or why it is refused. The body is
/// never echoed (serde's messages would quote it) and the password goes nowhere but the hash.
async fn set_password_hash(req: &mut Request, site: &Site, gallery: &Gallery, link: &Link) -> Result<std::result::Result<crate::password::StoredHash, Failure>> {
    #[derive(serde::Deserialize)]
    struct Body {
        password: String,
    }
    if !link.policy.password {
        return Ok(Err(Failure::new(409, "password_not_required", format!("link {:?} has no `password: required` in git: add it to the link or its audience and publish first", link.name))));
    }
    let text = match body_text(req).await? {
        Ok(text) => text,
        Err(f) => return Ok(Err(f)),
    };
    let Ok(body) = serde_json::from_str::<Body>(&text) else {
        return Ok(Err(Failure::new(400, "bad_request", "body must be JSON like {\"password\": \"...\"}")));
    };
    if let Err(e) = crate::password::check_new(&body.password) {
        return Ok(Err(Failure::new(400, "bad_password", e)));
    }
    if let Some(f) = api::weak_password(site, gallery, link, &body.password, crate::password::passphrase()?) {
        return Ok(Err(f));
    }
    Ok(Ok(crate::password::hash_new(&body.password).await?))
}
