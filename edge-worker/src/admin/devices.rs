//! `links/<id>/devices`: the devices a link admitted (and refused at its limit), its extra
//! allowance and forwarding flag; an owner forgets one (its slot is free) or allows one more.
//! Each change is one operation inside the link's `LinkGate` and one audit row.

use super::call::{Call, json};
use super::error::{Failure, Result};
use super::note::Note;
use crate::gate::{DeviceChange, DeviceChangeResponse, DeviceList, GateClient};
use gatefold_contract::admin::ApiRoute;
use gatefold_contract::devices::{ForgetDevice, LinkDevices};
use gatefold_contract::manifest::{Gallery, Link};
use worker::Response;

fn answer(g: &Gallery, l: &Link, list: DeviceList) -> LinkDevices {
    LinkDevices { gallery: g.id.clone(), link: l.name.clone(), label: l.label.clone(), limit: l.policy.devices, summary: list.summary, devices: list.devices }
}

/// "2 of 2 devices (+1)": what the audit row shows before and after.
fn slots(l: &Link, list: &DeviceList) -> String {
    let limit = l.policy.devices.map_or_else(|| "no limit".to_string(), |n| format!("limit {n}"));
    let extra = if list.summary.extra > 0 { format!(" +{}", list.summary.extra) } else { String::new() };
    format!("{} devices, {limit}{extra}", list.summary.count)
}

/// `GET links/<id>/devices`.
pub(super) async fn list(call: &mut Call<'_>, gallery: &str, link: &str) -> Result<Response> {
    let (g, l) = call.link(gallery, link).await?;
    let list = GateClient::new(call.env, gallery, link)?.devices().await?;
    json(&answer(&g, &l, list))
}

/// `POST links/<id>/devices/forget` (`{"device": "<id>"}`) and `POST links/<id>/devices/allow`.
pub(super) async fn change(call: &mut Call<'_>, route: ApiRoute<'_>, gallery: &str, link: &str) -> Result<Response> {
    let (g, l) = call.link(gallery, link).await?;
    let client = GateClient::new(call.env, gallery, link)?;
    let change = match route {
        ApiRoute::ForgetDevice { .. } => {
            let text = call.body().await?;
            let body: ForgetDevice = serde_json::from_str(&text)
                .map_err(|_| Failure::new(400, "bad_request", "body must be JSON like {\"device\": \"<id from GET …/devices>\"}"))?;
            if body.device.is_empty() || body.device.len() > 64 || !body.device.bytes().all(|b| b.is_ascii_hexdigit()) {
                return Err(Failure::new(400, "bad_request", "field `device`: give a device id as GET …/devices lists it").into());
            }
            DeviceChange::Forget { id: body.device }
        }
        _ => DeviceChange::AllowOne,
    };
    let before = client.devices().await?;
    let action = match &change {
        DeviceChange::Forget { id } => format!("device_forget {id}"),
        DeviceChange::AllowOne => "device_allow".to_string(),
    };
    let mut note = Note { action, target: format!("{gallery}/{link}"), before: Some(slots(&l, &before)), after: None };
    match client.change_devices(&change).await? {
        DeviceChangeResponse::Changed(list) => {
            note.after = Some(slots(&l, &list));
            call.note = Some(note);
            json(&answer(&g, &l, list))
        }
        DeviceChangeResponse::Refused(message) => {
            call.note = Some(note);
            Err(Failure::new(409, "device_change_refused", message).into())
        }
    }
}
