//! `galleries/<g>/requests` and `requests/<id>/grant|decline`: the access requests people left
//! on closed links, and the owner's one-tap answers. A grant acts on the link's own `LinkGate`
//! through the same change (and lapse rules) as the links' actions, so the link's URL and QR
//! code open again: nothing is sent anew.

use super::call::{Call, json};
use super::error::{Failure, Result};
use super::links::change_link;
use super::log::GalleryLogClient;
use super::log::requests::{Answer, Stored};
use super::note::Note;
use super::records::link_statuses;
use crate::gate::{DeviceChangeResponse, GateClient};
use gatefold_contract::manifest::Gallery;
use gatefold_contract::policy::Change;
use gatefold_contract::admin::GrantAnswer;
use gatefold_contract::requests::{self, AccessRequest, DeclineBody, Grant, GrantBody, RequestState, RequestsResponse};
use worker::Response;

/// A stored request as owners see it, with its opaque id and its link's label.
pub(super) fn shown(g: &Gallery, r: Stored) -> AccessRequest {
    let state = r.state();
    AccessRequest {
        id: format!("{}.{}", g.id, r.key),
        gallery: g.id.clone(),
        label: g.links.get(&r.link).map_or_else(|| r.link.clone(), |l| l.label.clone()),
        link: r.link,
        at: r.at,
        name: r.name,
        message: r.message,
        reason: r.reason,
        device: r.device,
        place: r.place,
        state,
        answered_at: r.answered_at,
        answer: r.answer,
        reply: r.reply,
    }
}

/// The gallery's open requests, newest first (the follow-up panel lists them).
pub(super) async fn open_requests(env: &worker::Env, g: &Gallery) -> worker::Result<Vec<AccessRequest>> {
    Ok(GalleryLogClient::new(env, &g.id)?.requests(true).await?.into_iter().map(|r| shown(g, r)).collect())
}

/// `GET galleries/<g>/requests`.
pub(super) async fn list(call: &mut Call<'_>, gallery: &str) -> Result<Response> {
    let g = call.gallery(gallery).await?;
    let stored = GalleryLogClient::new(call.env, gallery)?.requests(false).await?;
    let requests: Vec<AccessRequest> = stored.into_iter().map(|r| shown(&g, r)).collect();
    let open = requests.iter().filter(|r| r.state == RequestState::Open).count();
    json(&RequestsResponse { gallery: g.id.clone(), gallery_title: g.title.clone(), timezone: call.site.settings.timezone.clone(), open: u32::try_from(open).unwrap_or(u32::MAX), requests })
}

/// The request an id names, read from its gallery's log.
async fn find(call: &Call<'_>, id: &str) -> Result<(std::rc::Rc<Gallery>, Stored)> {
    let unknown = || Failure::new(404, "unknown_request", format!("no access request {id:?}: take the id from `gatefold requests` or the admin page"));
    let (gallery, key) = requests::split_id(id).ok_or_else(unknown)?;
    let g = call.gallery(gallery).await?;
    let r = GalleryLogClient::new(call.env, gallery)?.request(key).await?.ok_or_else(unknown)?;
    Ok((g, r))
}

fn already_answered(r: &Stored) -> Failure {
    Failure::new(409, "already_answered", format!("this request was {} already ({})", r.state, r.answer.as_deref().unwrap_or("no answer")))
}

/// `POST requests/<id>/grant`: the request is claimed (so two owners grant it once), the grant
/// applied to its link's gate, and the claim put back if the gate refused it.
pub(super) async fn grant(call: &mut Call<'_>, id: &str) -> Result<Response> {
    let body = call.body().await?;
    let grant = serde_json::from_str::<GrantBody>(&body).map_err(|e| e.to_string()).and_then(|b| b.grant()).map_err(|e| Failure::new(400, "bad_request", e))?;
    let (g, r) = find(call, id).await?;
    call.link(&g.id, &r.link).await?;
    let log = GalleryLogClient::new(call.env, &g.id)?;
    let at = call.now * 1000;
    let claim = Answer { key: r.key.clone(), state: RequestState::Granted, at, answer: Some(grant.answer()), reply: None };
    let Some(claimed) = log.answer_request(&claim).await? else { return Err(already_answered(&r).into()) };
    let applied = match grant {
        Grant::ExtendDays(days) => change_link(call, &g.id, &r.link, Some(Change::Limits { expires_at: None, extend_days: Some(days), max_views: None, force: false }), "grant").await,
        Grant::AddViews(views) => change_link(call, &g.id, &r.link, Some(Change::AddViews { views }), "grant").await,
        Grant::Device => allow_device(call, &g, &r.link).await,
    };
    match applied {
        Ok(link) => json(&GrantAnswer { request: shown(&g, claimed), link }),
        Err(e) => {
            log.answer_request(&Answer { key: r.key.clone(), state: RequestState::Open, at, answer: None, reply: None }).await?;
            Err(e)
        }
    }
}

/// "Allow this device": the link's one operation for it (the admin API's "allow one more
/// device" too), on record like every grant. A link without `devices:` admits any device, so
/// there is nothing to allow.
async fn allow_device(call: &mut Call<'_>, g: &Gallery, link: &str) -> Result<gatefold_contract::admin::LinkStatus> {
    let l = g.links.get(link).cloned().ok_or_else(|| Failure::new(404, "unknown_link", format!("gallery {:?} has no link {link:?}", g.id)))?;
    if l.policy.devices.is_none() {
        return Err(Failure::new(409, "no_device_limit", "this link admits any device: there is no device to allow; extend it or add views instead").into());
    }
    match GateClient::new(call.env, &g.id, link)?.allow_device().await? {
        DeviceChangeResponse::Refused(message) => Err(Failure::new(409, "device_change_refused", message).into()),
        DeviceChangeResponse::Changed(_) => {
            call.note(Note::taken("grant", &format!("{}/{link}", g.id), "+1 device".into()));
            let mut st = link_statuses(call.env, &call.site.settings, &[(g, &l)], call.now).await?;
            Ok(st.remove(0))
        }
    }
}

/// `POST requests/<id>/decline` (`{"reply": "..."}`, optional): the reply is shown to the person
/// who asked when they come back to the link.
pub(super) async fn decline(call: &mut Call<'_>, id: &str) -> Result<Response> {
    let body = call.body().await?;
    let body = if body.trim().is_empty() { DeclineBody::default() } else { serde_json::from_str::<DeclineBody>(&body).map_err(|e| Failure::new(400, "bad_request", format!("body must be JSON like {{\"reply\": \"...\"}}: {e}")))? };
    let (g, r) = find(call, id).await?;
    let reply = requests::bounded(body.reply.as_deref(), requests::MESSAGE_MAX_CHARS);
    let answer = Answer { key: r.key.clone(), state: RequestState::Declined, at: call.now * 1000, answer: Some("declined".into()), reply };
    let Some(declined) = GalleryLogClient::new(call.env, &g.id)?.answer_request(&answer).await? else { return Err(already_answered(&r).into()) };
    call.note(Note::taken("decline", &format!("{}/{}", g.id, r.link), "declined".into()));
    json(&shown(&g, declined))
}
