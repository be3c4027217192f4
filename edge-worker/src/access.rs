//! The access log entry the worker writes for every open, full-size image view and download,
//! which the gallery's log stores (`crate::gallery_log::record`, its `access_log` room).
//!
//! [`AccessEvent`] is the one definition of a log row: its fields, their SQL column types, their
//! export headers and their length caps are declared together in `access_event!`, and the
//! table, the insert, the export and the caps are all derived from [`COLUMNS`].
//!
//! Building the event is pure (headers and `cf` fields in, struct out) so it is tested
//! natively; the gallery's log receives it after the response, through `ctx.wait_until`.

use gatefold_contract::manifest::IpLogging;
use gatefold_contract::policy::Admission;
use gatefold_contract::{Denial, SigningKey};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EventKind {
    Open,
    ImageView,
    /// An original or a web-size download of one image.
    Download,
    Preview,
    /// Every original of the gallery as one ZIP: stats count it as a download of each image.
    DownloadAll,
}

/// The name a value has on the wire and in the log's SQLite (serde's, so never typed twice).
pub fn wire_name<T: Serialize>(value: &T) -> String {
    match serde_json::to_value(value) {
        Ok(serde_json::Value::String(s)) => s,
        other => unreachable!("wire_name is for unit enum variants, got {other:?}"),
    }
}

/// The outcome of an event that was let through; any other outcome is a denial code.
pub const ADMITTED: &str = "admitted";

pub fn outcome(result: Result<(), Denial>) -> String {
    match result {
        Ok(()) => ADMITTED.to_string(),
        Err(d) => d.code().to_string(),
    }
}

/// One stored column of the access log.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Column {
    /// Field and SQL column name.
    pub name: &'static str,
    /// SQL type and constraints in `CREATE TABLE`.
    pub sql: &'static str,
    /// Header in the CSV and Excel exports.
    pub header: &'static str,
    /// Most characters kept (0 for numbers): every logged field is bounded, whatever arrives.
    pub max_chars: usize,
}

impl Column {
    pub fn is_number(&self) -> bool {
        self.sql.starts_with("INTEGER")
    }
}

/// Keeps at most `max` characters of a logged value.
trait Bounded {
    fn bound(&mut self, max: usize);
}

impl Bounded for String {
    fn bound(&mut self, max: usize) {
        if let Some((at, _)) = self.char_indices().nth(max) {
            self.truncate(at);
        }
    }
}

impl Bounded for Option<String> {
    fn bound(&mut self, max: usize) {
        if let Some(s) = self {
            s.bound(max);
        }
    }
}

macro_rules! numbers_are_bounded {
    ($($t:ty),*) => { $(impl Bounded for $t { fn bound(&mut self, _: usize) {} })* };
}
numbers_are_bounded!(i64, u32, Option<u32>, EventKind);

macro_rules! access_event {
    ($( $(#[doc = $doc:literal])* $field:ident: $ty:ty => $sql:literal, $header:literal, $max:literal; )*) => {
        /// One row of a gallery's access log: the JSON shape the worker sends to `GalleryLog`
        /// and the row it stores.
        #[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
        pub struct AccessEvent {
            $( $(#[doc = $doc])* pub $field: $ty, )*
        }

        /// The log's columns in table order, derived from the fields above.
        pub const COLUMNS: &[Column] = &[ $( Column { name: stringify!($field), sql: $sql, header: $header, max_chars: $max } ),* ];

        impl AccessEvent {
            /// The event with every field cut to its column's cap.
            pub fn bounded(mut self) -> AccessEvent {
                $( Bounded::bound(&mut self.$field, $max); )*
                self
            }
        }
    };
}

access_event! {
    /// Unix milliseconds (of the first event, for an aggregated row).
    ts: i64 => "INTEGER NOT NULL", "timestamp_ms", 0;
    link: String => "TEXT NOT NULL", "link", 64;
    kind: EventKind => "TEXT NOT NULL", "kind", 0;
    /// [`ADMITTED`], or the denial code (`view_limit_reached`, …).
    outcome: String => "TEXT NOT NULL", "outcome", 40;
    /// How many events the row stands for: repeated denied and sessionless events of one
    /// visitor within a minute share a row (see [`AccessEvent::aggregates`]).
    count: u32 => "INTEGER NOT NULL DEFAULT 1", "count", 0;
    /// Image id for image views and downloads.
    image: Option<String> => "TEXT", "image", 128;
    /// As much of the IP as the site's `ip_logging` keeps.
    ip: Option<String> => "TEXT", "ip", 45;
    country: Option<String> => "TEXT", "country", 8;
    region: Option<String> => "TEXT", "region", 64;
    city: Option<String> => "TEXT", "city", 64;
    timezone: Option<String> => "TEXT", "visitor_timezone", 64;
    asn: Option<u32> => "INTEGER", "asn", 0;
    colo: Option<String> => "TEXT", "colo", 8;
    /// `desktop`, `mobile`, `bot` or `other`.
    device: String => "TEXT", "device", 16;
    os: String => "TEXT", "os", 64;
    browser: String => "TEXT", "browser", 64;
    /// Origin only (`https://mail.example.com`): full URLs carry personal query strings and
    /// would let anyone write arbitrary text into the owner's log.
    referrer: Option<String> => "TEXT", "referrer", 200;
    /// Keyed daily hash of IP and User-Agent: counts unique visitors without storing who.
    visitor: String => "TEXT", "visitor", 32;
}

impl AccessEvent {
    /// Admitted opens are each a counted view and stay one row each (the `LinkGate` bounds
    /// them); every other event — denials, previews, in-session image requests — is folded
    /// into one row per visitor, link, kind, outcome and image per minute, so repeating a
    /// request does not grow the log.
    pub fn aggregates(&self) -> bool {
        !(self.kind == EventKind::Open && self.outcome == ADMITTED)
    }
}

/// A User-Agent longer than this is cut before parsing and hashing: real ones are ~150.
pub const MAX_USER_AGENT: usize = 512;

/// `scheme://host[:port]` of a Referer, lowercased, or `None` when it is not a URL with a
/// plain host name (so nothing else an attacker writes there reaches the log).
pub fn referrer_origin(referrer: &str) -> Option<String> {
    let (scheme, rest) = referrer.trim().split_once("://")?;
    let scheme_ok = scheme.starts_with(|c: char| c.is_ascii_alphabetic())
        && scheme.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'));
    let authority = rest.split(['/', '?', '#', '\\']).next().unwrap_or("");
    let host_port = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    let host_ok = !host_port.is_empty()
        && host_port.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_' | ':' | '[' | ']'));
    (scheme_ok && host_ok).then(|| format!("{scheme}://{host_port}").to_ascii_lowercase())
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

/// An event and the gallery whose log it goes to (one `GalleryLog` per gallery, so the
/// gallery is not a column).
#[derive(Debug, Clone, PartialEq)]
pub struct GalleryEvent {
    pub gallery: String,
    pub event: AccessEvent,
    /// An admitted open's admission (its view number and the limit in force), for the owner's
    /// notifications (first open, 80 % used, last view); `None` for every other event.
    pub admission: Option<Admission>,
}

pub fn build_event(spec: EventSpec<'_>, visitor: &Visitor, ip_logging: IpLogging, key: &SigningKey, now_ms: i64) -> GalleryEvent {
    let mut ua = visitor.user_agent.clone().unwrap_or_default();
    Bounded::bound(&mut ua, MAX_USER_AGENT);
    let ip = visitor.ip.as_deref().unwrap_or("");
    let (device, os, browser) = describe_user_agent(&ua);
    let event = AccessEvent {
        ts: now_ms,
        link: spec.link.to_string(),
        kind: spec.kind,
        outcome: spec.outcome,
        count: 1,
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
        referrer: visitor.referrer.as_deref().and_then(referrer_origin),
        visitor: key.visitor_hash(now_ms.div_euclid(86_400_000), ip, &ua),
    };
    GalleryEvent { gallery: spec.gallery.to_string(), event: event.bounded(), admission: None }
}

/// Device type, OS and browser from a User-Agent (`crate::user_agent`; `crate::bots` decides
/// preview handling separately).
pub fn describe_user_agent(ua: &str) -> (String, String, String) {
    let c = crate::user_agent::classify(ua);
    (c.device.to_string(), c.os.to_string(), c.browser.to_string())
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
        let e = build_event(spec(), &visitor(), IpLogging::Truncated, &SigningKey::dev(), 1_800_000_000_000).event;
        assert_eq!(e.ip.as_deref(), Some("203.0.113.0"));
        assert_eq!((e.device.as_str(), e.os.as_str(), e.browser.as_str()), ("mobile", "iPhone", "Safari"));
        assert_eq!(e.country.as_deref(), Some("CN"));
        assert_eq!(e.asn, Some(4134));
        assert_eq!(e.outcome, "admitted");
        assert_eq!(e.visitor.len(), 16);
        assert_eq!(e.referrer.as_deref(), Some("https://weixin.qq.com"));
        assert_eq!(e.count, 1);
    }

    #[test]
    fn the_referrer_is_kept_as_its_origin_only() {
        assert_eq!(referrer_origin("https://Mail.Example.com:8443/inbox?id=7#x").as_deref(), Some("https://mail.example.com:8443"));
        assert_eq!(referrer_origin("https://user:pw@weixin.qq.com/").as_deref(), Some("https://weixin.qq.com"));
        assert_eq!(referrer_origin("android-app://com.tencent.mm").as_deref(), Some("android-app://com.tencent.mm"));
        assert_eq!(referrer_origin("=HYPERLINK(\"http://evil\")"), None);
        assert_eq!(referrer_origin("https://evil.test\"=1/"), None);
        assert_eq!(referrer_origin("1https://x.test/"), None);
        assert_eq!(referrer_origin(""), None);
    }

    #[test]
    fn every_field_from_the_request_is_bounded_whatever_arrives() {
        let huge = "a".repeat(40_000);
        let v = Visitor {
            ip: Some(huge.clone()),
            user_agent: Some(format!("Mozilla/5.0 {huge}")),
            referrer: Some(format!("https://{huge}.example/")),
            geo: CfGeo { country: Some(huge.clone()), region: Some(huge.clone()), city: Some("城".repeat(40_000)), timezone: Some(huge.clone()), asn: Some(1), colo: Some(huge.clone()) },
        };
        let mut s = spec();
        s.image = Some(&huge);
        let e = build_event(s, &v, IpLogging::Full, &SigningKey::dev(), 5).event;
        let json = serde_json::to_value(&e).unwrap();
        for c in COLUMNS {
            let len = json[c.name].as_str().map_or(0, |s| s.chars().count());
            assert!(c.is_number() || c.max_chars > 0 || c.name == "kind", "{} has no cap", c.name);
            assert!(len <= c.max_chars.max(16), "{} kept {len} characters", c.name);
        }
        assert_eq!(e.city.as_deref().map(|c| c.chars().count()), Some(64));
    }

    #[test]
    fn only_admitted_opens_stay_one_row_each() {
        let e = |kind, outcome: &str| AccessEvent { kind, outcome: outcome.into(), ..build_event(spec(), &visitor(), IpLogging::Off, &SigningKey::dev(), 5).event };
        assert!(!e(EventKind::Open, ADMITTED).aggregates());
        assert!(e(EventKind::Open, "link_expired").aggregates());
        assert!(e(EventKind::Preview, ADMITTED).aggregates());
        assert!(e(EventKind::ImageView, "no_session").aggregates());
    }

    #[test]
    fn kinds_are_named_as_serde_names_them() {
        assert_eq!(wire_name(&EventKind::ImageView), "image_view");
        assert_eq!(COLUMNS.iter().map(|c| c.name).collect::<Vec<_>>()[..5], ["ts", "link", "kind", "outcome", "count"]);
    }

    #[test]
    fn ip_logging_off_keeps_no_ip_but_still_counts_unique_visitors() {
        let a = build_event(spec(), &visitor(), IpLogging::Off, &SigningKey::dev(), 1_800_000_000_000).event;
        let mut other = visitor();
        other.ip = Some("198.51.100.1".into());
        let b = build_event(spec(), &other, IpLogging::Off, &SigningKey::dev(), 1_800_000_000_000).event;
        assert_eq!(a.ip, None);
        assert_ne!(a.visitor, b.visitor);
    }

    #[test]
    fn events_serialise_with_snake_case_kinds_and_denial_codes() {
        let mut s = spec();
        s.kind = EventKind::ImageView;
        s.outcome = outcome(Err(Denial::ViewLimitReached));
        let json = serde_json::to_value(build_event(s, &Visitor::default(), IpLogging::Full, &SigningKey::dev(), 5).event).unwrap();
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
