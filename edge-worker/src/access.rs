//! The access log entry the worker writes for every open, full-size image view and download,
//! and the hand-off to the gallery's log (the `GalleryLog` Durable Object, see `analytics`).
//!
//! Building the event is pure (headers and `cf` fields in, struct out) so it is tested
//! natively; sending it happens after the response, through `ctx.wait_until`.

use gatefold_contract::manifest::IpLogging;
use gatefold_contract::{Denial, SigningKey};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EventKind {
    Open,
    ImageView,
    Download,
    Preview,
}

/// One line of a gallery's access log. The JSON shape is what `GalleryLog` stores.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AccessEvent {
    /// Unix milliseconds.
    pub ts: i64,
    pub gallery: String,
    pub link: String,
    pub kind: EventKind,
    /// `admitted`, or the denial code (`view_limit_reached`, …).
    pub outcome: String,
    /// Image id for image views and downloads.
    pub image: Option<String>,
    /// As much of the IP as the site's `ip_logging` keeps.
    pub ip: Option<String>,
    pub country: Option<String>,
    pub region: Option<String>,
    pub city: Option<String>,
    pub timezone: Option<String>,
    pub asn: Option<u32>,
    pub colo: Option<String>,
    /// `desktop`, `mobile`, `bot` or `other`.
    pub device: String,
    pub os: String,
    pub browser: String,
    pub referrer: Option<String>,
    /// Keyed daily hash of IP and User-Agent: counts unique visitors without storing who.
    pub visitor: String,
}

pub const ADMITTED: &str = "admitted";

pub fn outcome(result: Result<(), Denial>) -> String {
    match result {
        Ok(()) => ADMITTED.to_string(),
        Err(d) => d.code().to_string(),
    }
}

/// Location fields as Cloudflare puts them on `request.cf`.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CfGeo {
    pub country: Option<String>,
    pub region: Option<String>,
    pub city: Option<String>,
    pub timezone: Option<String>,
    pub asn: Option<u32>,
    pub colo: Option<String>,
}

/// What the request tells about its visitor.
#[derive(Debug, Clone, Default)]
pub struct Visitor {
    pub ip: Option<String>,
    pub user_agent: Option<String>,
    pub referrer: Option<String>,
    pub geo: CfGeo,
}

pub struct EventSpec<'a> {
    pub gallery: &'a str,
    pub link: &'a str,
    pub kind: EventKind,
    pub outcome: String,
    pub image: Option<&'a str>,
}

pub fn build_event(spec: EventSpec<'_>, visitor: &Visitor, ip_logging: IpLogging, key: &SigningKey, now_ms: i64) -> AccessEvent {
    let ua = visitor.user_agent.as_deref().unwrap_or("");
    let ip = visitor.ip.as_deref().unwrap_or("");
    let (device, os, browser) = describe_user_agent(ua);
    AccessEvent {
        ts: now_ms,
        gallery: spec.gallery.to_string(),
        link: spec.link.to_string(),
        kind: spec.kind,
        outcome: spec.outcome,
        image: spec.image.map(str::to_string),
        ip: if ip.is_empty() { None } else { ip_logging.apply(ip).filter(|s| !s.is_empty()) },
        country: visitor.geo.country.clone(),
        region: visitor.geo.region.clone(),
        city: visitor.geo.city.clone(),
        timezone: visitor.geo.timezone.clone(),
        asn: visitor.geo.asn,
        colo: visitor.geo.colo.clone(),
        device,
        os,
        browser,
        referrer: visitor.referrer.clone().filter(|r| !r.is_empty()),
        visitor: key.visitor_hash(now_ms.div_euclid(86_400_000), ip, ua),
    }
}

/// Device type, OS and browser from a User-Agent (woothee's rules; `crate::bots` decides
/// preview handling separately).
pub fn describe_user_agent(ua: &str) -> (String, String, String) {
    let unknown = || "unknown".to_string();
    let Some(r) = woothee::parser::Parser::new().parse(ua) else {
        return ("other".to_string(), unknown(), unknown());
    };
    let device = match r.category {
        "pc" => "desktop",
        "smartphone" | "mobilephone" => "mobile",
        "crawler" => "bot",
        _ => "other",
    };
    let known = |s: &str| if s.is_empty() || s == woothee::woothee::VALUE_UNKNOWN { unknown() } else { s.to_string() };
    (device.to_string(), known(r.os), known(r.name))
}

/// Hands events to the gallery's `GalleryLog` Durable Object after the response is sent.
/// A failed log write is reported in the worker log and never fails the visitor's request.
pub fn record(env: &worker::Env, ctx: &worker::Context, event: AccessEvent) {
    let env = env.clone();
    ctx.wait_until(async move {
        if let Err(e) = send(&env, &event).await {
            worker::console_error!("access log: could not record {:?} event for {}/{}: {e}", event.kind, event.gallery, event.link);
        }
    });
}

async fn send(env: &worker::Env, event: &AccessEvent) -> worker::Result<()> {
    let stub = env.durable_object("GALLERY_LOG")?.id_from_name(&event.gallery)?.get_stub()?;
    let mut init = worker::RequestInit::new();
    init.with_method(worker::Method::Post)
        .with_body(Some(serde_json::to_string(&[event])?.into()));
    let req = worker::Request::new_with_init("https://gallery-log/events", &init)?;
    let resp = stub.fetch_with_request(req).await?;
    if !(200..300).contains(&resp.status_code()) {
        return Err(worker::Error::RustError(format!("GalleryLog answered {}", resp.status_code())));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn visitor() -> Visitor {
        Visitor {
            ip: Some("203.0.113.77".into()),
            user_agent: Some("Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1".into()),
            referrer: Some("https://weixin.qq.com/".into()),
            geo: CfGeo { country: Some("CN".into()), city: Some("Shanghai".into()), asn: Some(4134), ..CfGeo::default() },
        }
    }

    fn spec() -> EventSpec<'static> {
        EventSpec { gallery: "g", link: "market", kind: EventKind::Open, outcome: outcome(Ok(())), image: None }
    }

    #[test]
    fn an_event_carries_location_device_and_a_truncated_ip() {
        let e = build_event(spec(), &visitor(), IpLogging::Truncated, &SigningKey::dev(), 1_800_000_000_000);
        assert_eq!(e.ip.as_deref(), Some("203.0.113.0"));
        assert_eq!((e.device.as_str(), e.os.as_str(), e.browser.as_str()), ("mobile", "iPhone", "Safari"));
        assert_eq!(e.country.as_deref(), Some("CN"));
        assert_eq!(e.asn, Some(4134));
        assert_eq!(e.outcome, "admitted");
        assert_eq!(e.visitor.len(), 16);
    }

    #[test]
    fn ip_logging_off_keeps_no_ip_but_still_counts_unique_visitors() {
        let a = build_event(spec(), &visitor(), IpLogging::Off, &SigningKey::dev(), 1_800_000_000_000);
        let mut other = visitor();
        other.ip = Some("198.51.100.1".into());
        let b = build_event(spec(), &other, IpLogging::Off, &SigningKey::dev(), 1_800_000_000_000);
        assert_eq!(a.ip, None);
        assert_ne!(a.visitor, b.visitor);
    }

    #[test]
    fn events_serialise_with_snake_case_kinds_and_denial_codes() {
        let mut s = spec();
        s.kind = EventKind::ImageView;
        s.outcome = outcome(Err(Denial::ViewLimitReached));
        let json = serde_json::to_value(build_event(s, &Visitor::default(), IpLogging::Full, &SigningKey::dev(), 5)).unwrap();
        assert_eq!(json["kind"], "image_view");
        assert_eq!(json["outcome"], "view_limit_reached");
        assert_eq!(json["ip"], serde_json::Value::Null);
        assert_eq!(json["device"], "other");
    }

    #[test]
    fn desktop_browsers_are_described() {
        let (device, os, browser) = describe_user_agent("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36");
        assert_eq!((device.as_str(), browser.as_str()), ("desktop", "Chrome"));
        assert!(os.starts_with("Windows"), "{os}");
    }
}
