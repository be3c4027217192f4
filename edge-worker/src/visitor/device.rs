//! The device a visitor's request comes from: a long-lived cookie (`DeviceId`, a random id the
//! site's key signs) set on every counted open whose browser has none, whatever the link's
//! `devices:`, because the forwarding rule watches every link. One per site: the cookie belongs
//! to the site's host only, so it never follows anyone across sites.
//!
//! [`Visit::device`] is the one way other code learns a request's device (hashed id, browser
//! family, OS, city); sessions are bound to it as well as to the client ([`Visit::client`]).

use super::Visit;
use crate::access;
use gatefold_contract::Denial;
use gatefold_contract::devices::DeviceSeen;
use gatefold_contract::manifest::{Gallery, Link};
use gatefold_contract::token::DeviceId;
use worker::{Response, Result};

/// The device of a request: the one its cookie names, else a new one (`fresh`: the answer to
/// a counted open sets its cookie).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RequestDevice {
    pub id: DeviceId,
    pub fresh: bool,
}

impl Visit<'_> {
    /// The device this request's cookie names, if the cookie is this site's and unaltered.
    pub fn device_cookie(&self) -> Option<DeviceId> {
        let cookies = self.header("Cookie");
        let value = crate::http::cookie(cookies.as_deref(), DeviceId::COOKIE)?;
        DeviceId::decode(value, &self.site.key)
    }

    /// This request's device, made once per request: its cookie's, else a new random one.
    pub fn request_device(&self) -> Result<RequestDevice> {
        if let Some(d) = self.device.get() {
            return Ok(*d);
        }
        let device = match self.device_cookie() {
            Some(id) => RequestDevice { id, fresh: false },
            None => {
                let mut bytes = [0u8; 16];
                crate::password::random_bytes(&mut bytes)?;
                RequestDevice { id: DeviceId::from_random(bytes), fresh: true }
            }
        };
        Ok(*self.device.get_or_init(|| device))
    }

    /// The request's device as a link's gate stores it: the site key's hash of its id, the
    /// browser family and OS of the User-Agent, and the city Cloudflare places the request in.
    pub fn device(&self) -> Result<DeviceSeen> {
        let id = self.request_device()?.id.hashed(&self.site.key);
        let (_, os, browser) = access::describe_user_agent(&self.header("User-Agent").unwrap_or_default());
        let city = super::js_cf(self.req).and_then(|g| g.city).filter(|c| !c.is_empty());
        Ok(DeviceSeen { id, browser, os, city }.bounded())
    }
}

/// The answer to a counted open (admitted or refused) with the device cookie appended when the
/// browser had none: `__Secure-`, HttpOnly, SameSite=Lax, the whole site, 400 days.
pub fn with_device_cookie(v: &Visit<'_>, resp: Result<Response>) -> Result<Response> {
    let resp = resp?;
    let device = v.request_device()?;
    if device.fresh && !v.head {
        resp.headers().append("Set-Cookie", &device_cookie(&device.id.encode(&v.site.key)))?;
    }
    Ok(resp)
}

/// A refusal of a person at the link's page: its denial page as a person sees it (with
/// "Request access" where offered). A device refused at the link's limit keeps its new device
/// cookie, so its next try, and its request, are the same device (the one an owner's "allow
/// one more" lets in); any other refusal sets nothing.
pub(super) async fn refused(v: &Visit<'_>, gallery: &Gallery, link: &Link, token: &str, denial: Denial) -> Result<Response> {
    let page = super::request::deny_person(v, gallery, link, token, denial).await;
    match denial {
        Denial::DeviceLimit => with_device_cookie(v, page),
        _ => page,
    }
}

fn device_cookie(value: &str) -> String {
    format!("{}={value}; Path=/; Max-Age={}; HttpOnly; Secure; SameSite=Lax", DeviceId::COOKIE, DeviceId::MAX_AGE_SECONDS)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_device_cookie_is_secure_http_only_lax_site_wide_and_400_days() {
        let c = device_cookie("abc.def");
        assert_eq!(c, "__Secure-gf_device=abc.def; Path=/; Max-Age=34560000; HttpOnly; Secure; SameSite=Lax");
    }
}
