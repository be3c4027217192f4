//! Links tied to their recipient's devices, and forwarding flagged: the devices a link's
//! `LinkGate` has admitted, the one rule deciding whether one more is admitted, and the one
//! rule deciding whether a link looks forwarded. Pure: the worker's gate stores the rows and
//! passes the clock in; the admin API, the admin page and the CLI read the same types.

use serde::{Deserialize, Serialize};

/// `devices:` bounds (YAML, CSV and `check`).
pub const MIN_DEVICES: u8 = 1;
pub const MAX_DEVICES: u8 = 20;

/// "Allow one more device" at most this many times per link: the device table stays bounded
/// whatever an owner taps.
pub const MAX_EXTRA_DEVICES: u32 = 20;

/// Devices a link without a limit remembers (the least recently seen one is forgotten first):
/// enough for the forwarding rule, bounded for a link opened by a whole city.
pub const DEVICES_KEPT_UNLIMITED: usize = 100;

/// Refused devices remembered as evidence (the newest).
pub const REFUSED_KEPT: usize = 20;

/// The window of the forwarding rule for links without a limit.
pub const FORWARDING_WINDOW_SECONDS: i64 = 24 * 60 * 60;
/// Devices, or cities, within the window that make a link without a limit look forwarded.
pub const FORWARDING_DEVICES: usize = 3;
pub const FORWARDING_CITIES: usize = 2;

/// The device an open comes from, as the worker tells the link's gate: its id under the site's
/// keyed hash (never the cookie's id itself), and what a person recognises it by.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeviceSeen {
    /// 16 hex characters: the site key's hash of the device cookie's id.
    pub id: String,
    pub browser: String,
    pub os: String,
    /// `request.cf.city` when Cloudflare knows it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub city: Option<String>,
}

impl DeviceSeen {
    /// The same device with every field cut to a bound (a gate stores what it is sent).
    pub fn bounded(mut self) -> DeviceSeen {
        fn cut(s: &mut String, n: usize) {
            if let Some((i, _)) = s.char_indices().nth(n) {
                s.truncate(i);
            }
        }
        cut(&mut self.id, 32);
        cut(&mut self.browser, 40);
        cut(&mut self.os, 40);
        if let Some(c) = self.city.as_mut() {
            cut(c, 60);
        }
        self
    }
}

/// A device as a link's gate remembers it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeviceRecord {
    pub id: String,
    pub browser: String,
    pub os: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub city: Option<String>,
    /// Unix seconds of its first and its latest open.
    pub first_seen: i64,
    pub last_seen: i64,
    /// Admitted (it holds a slot) or refused at the limit (kept as evidence only).
    pub admitted: bool,
}

/// Why a link is flagged "possibly forwarded", with its evidence.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Forwarding {
    /// When the rule last fired (Unix seconds).
    pub at: i64,
    /// `over_limit` (a device beyond `devices:` tried it), `devices` (3 or more within 24 h),
    /// `cities` (2 or more within 24 h).
    pub reason: ForwardingReason,
    /// The devices behind it (admitted and refused), newest first.
    pub devices: Vec<DeviceRecord>,
    /// The distinct cities among them.
    pub cities: Vec<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ForwardingReason {
    OverLimit,
    Devices,
    Cities,
}

impl ForwardingReason {
    pub fn code(self) -> &'static str {
        match self {
            ForwardingReason::OverLimit => "over_limit",
            ForwardingReason::Devices => "devices",
            ForwardingReason::Cities => "cities",
        }
    }
}

impl Forwarding {
    /// One line of evidence for a notification, an export cell or the digest:
    /// "3 devices, 2 cities (Shanghai, Beijing) within 24 h".
    pub fn summary(&self, zh: bool) -> String {
        let admitted = self.devices.iter().filter(|d| d.admitted).count();
        let refused = self.devices.len() - admitted;
        let cities = if self.cities.is_empty() { String::new() } else { format!(" ({})", self.cities.join(", ")) };
        match (zh, self.reason) {
            (false, ForwardingReason::OverLimit) => format!("{refused} device(s) beyond the limit tried it; {admitted} admitted; {} cities{cities}", self.cities.len()),
            (true, ForwardingReason::OverLimit) => format!("{refused} 台超出上限的设备尝试打开；已放行 {admitted} 台；{} 个城市{cities}", self.cities.len()),
            (false, _) => format!("{} devices, {} cities{cities} within 24 h", self.devices.len(), self.cities.len()),
            (true, _) => format!("24 小时内 {} 台设备、{} 个城市{cities}", self.devices.len(), self.cities.len()),
        }
    }
}

/// A link's devices as its gate answers them (`/status`, the admin API).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeviceSummary {
    /// Admitted devices.
    pub count: u32,
    /// "Allow one more device" taps on top of `devices:`.
    #[serde(default)]
    pub extra: u32,
    /// The link's latest forwarding flag (kept until the owner forgets the devices behind it);
    /// boxed: most links have none, and every status carries the field.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub forwarding: Option<Box<Forwarding>>,
}

/// A link's devices as the admin API answers them (`GET links/<id>/devices`, and after a
/// forget or an allow).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LinkDevices {
    pub gallery: String,
    pub link: String,
    pub label: String,
    /// `devices:` as published (`None`: no limit).
    pub limit: Option<u8>,
    /// Admitted devices, extra allowance and the forwarding flag.
    pub summary: DeviceSummary,
    /// Admitted and refused devices, most recently seen first.
    pub devices: Vec<DeviceRecord>,
}

/// `POST links/<id>/devices/forget`'s body.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ForgetDevice {
    pub device: String,
}

/// What the gate does with an open from `device` at a link with `limit` (`devices:`), given
/// the devices it already admitted and the owner's extra allowance.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeviceDecision {
    /// Already one of the link's devices.
    Known,
    /// A new device with a free slot (or no limit).
    New,
    /// A new device and no slot left: `device_limit`.
    Refused,
}

/// [`decide_device`] for the device `id` against a link's stored `devices`. With a limit only the
/// first `limit + extra` admitted devices (by first sight) hold a slot: a limit published after
/// more devices had opened the link, or lowered, keeps the earliest ones (the recipient's own,
/// most likely) and lets none of the later ones in, rather than refusing every new device while
/// all the old ones stay admitted.
pub fn decide_among(devices: &[DeviceRecord], id: &str, limit: Option<u8>, extra: u32) -> DeviceDecision {
    let mut holders: Vec<&DeviceRecord> = devices.iter().filter(|d| d.admitted).collect();
    if let Some(n) = limit {
        holders.sort_by(|a, b| (a.first_seen, &a.id).cmp(&(b.first_seen, &b.id)));
        holders.truncate(usize::from(n).saturating_add(extra as usize));
    }
    decide_device(holders.iter().any(|d| d.id == id), holders.len(), limit, extra)
}

pub fn decide_device(known: bool, admitted: usize, limit: Option<u8>, extra: u32) -> DeviceDecision {
    match limit {
        _ if known => DeviceDecision::Known,
        Some(n) if admitted as u64 >= u64::from(n) + u64::from(extra) => DeviceDecision::Refused,
        _ => DeviceDecision::New,
    }
}

/// The forwarding rule over a link's devices at `now`, after an open (admitted or refused):
/// a refused device at a link with a limit, or (without one) 3 or more devices or 2 or more
/// cities seen within 24 hours. `None`: nothing suspicious.
pub fn forwarding(devices: &[DeviceRecord], limit: Option<u8>, now: i64) -> Option<Forwarding> {
    let recent: Vec<&DeviceRecord> = devices.iter().filter(|d| now - d.last_seen < FORWARDING_WINDOW_SECONDS).collect();
    let evidence = |reason, list: Vec<&DeviceRecord>| {
        let mut list: Vec<DeviceRecord> = list.into_iter().cloned().collect();
        list.sort_by(|a, b| b.last_seen.cmp(&a.last_seen).then_with(|| a.id.cmp(&b.id)));
        let mut cities: Vec<String> = Vec::new();
        for c in list.iter().filter_map(|d| d.city.clone()).filter(|c| !c.is_empty()) {
            if !cities.contains(&c) {
                cities.push(c);
            }
        }
        Some(Forwarding { at: now, reason, devices: list, cities })
    };
    if limit.is_some() {
        // Only an attempt beyond the limit is evidence: a recipient's own devices are the limit.
        return if recent.iter().any(|d| !d.admitted) { evidence(ForwardingReason::OverLimit, devices.iter().collect()) } else { None };
    }
    let recent: Vec<&DeviceRecord> = recent.into_iter().filter(|d| d.admitted).collect();
    let mut cities: Vec<&str> = recent.iter().filter_map(|d| d.city.as_deref()).filter(|c| !c.is_empty()).collect();
    cities.sort_unstable();
    cities.dedup();
    if recent.len() >= FORWARDING_DEVICES {
        evidence(ForwardingReason::Devices, recent)
    } else if cities.len() >= FORWARDING_CITIES {
        evidence(ForwardingReason::Cities, recent)
    } else {
        None
    }
}

/// The UTC day of `at`: a link's `forwarding_suspected` notice goes out once per day.
pub fn notice_day(at: i64) -> i64 {
    at.div_euclid(86_400)
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: i64 = 1_800_000_000;

    fn dev(id: &str, city: Option<&str>, ago: i64, admitted: bool) -> DeviceRecord {
        DeviceRecord { id: id.into(), browser: "Chrome".into(), os: "macOS".into(), city: city.map(Into::into), first_seen: NOW - ago, last_seen: NOW - ago, admitted }
    }

    #[test]
    fn the_first_n_devices_are_admitted_and_one_more_is_refused_until_the_owner_allows_it() {
        assert_eq!(decide_device(false, 0, Some(2), 0), DeviceDecision::New);
        assert_eq!(decide_device(false, 1, Some(2), 0), DeviceDecision::New);
        assert_eq!(decide_device(false, 2, Some(2), 0), DeviceDecision::Refused);
        assert_eq!(decide_device(true, 2, Some(2), 0), DeviceDecision::Known);
        assert_eq!(decide_device(false, 2, Some(2), 1), DeviceDecision::New);
        assert_eq!(decide_device(false, 500, None, 0), DeviceDecision::New);
    }

    #[test]
    fn a_limit_published_after_more_devices_opened_keeps_the_earliest_and_admits_no_later_one() {
        let seen = [dev("first", None, 300, true), dev("second", None, 200, true), dev("third", None, 100, true)];
        assert_eq!(decide_among(&seen, "first", Some(1), 0), DeviceDecision::Known);
        assert_eq!(decide_among(&seen, "second", Some(1), 0), DeviceDecision::Refused, "beyond the new limit");
        assert_eq!(decide_among(&seen, "new-phone", Some(1), 0), DeviceDecision::Refused);
        assert_eq!(decide_among(&seen, "second", Some(1), 1), DeviceDecision::Known, "one more allowed: the next earliest");
        assert_eq!(decide_among(&seen, "new-phone", None, 0), DeviceDecision::New);
    }

    #[test]
    fn without_a_limit_three_devices_or_two_cities_within_a_day_look_forwarded() {
        let two = [dev("a", Some("Shanghai"), 10, true), dev("b", Some("Shanghai"), 20, true)];
        assert_eq!(forwarding(&two, None, NOW), None);
        let three = [dev("a", None, 10, true), dev("b", None, 20, true), dev("c", None, 30, true)];
        let f = forwarding(&three, None, NOW).unwrap();
        assert_eq!((f.reason, f.devices.len(), f.devices[0].id.as_str()), (ForwardingReason::Devices, 3, "a"));
        let cities = [dev("a", Some("Shanghai"), 10, true), dev("b", Some("Beijing"), 20, true)];
        let f = forwarding(&cities, None, NOW).unwrap();
        assert_eq!((f.reason, f.cities.clone()), (ForwardingReason::Cities, vec!["Shanghai".to_string(), "Beijing".to_string()]));
    }

    #[test]
    fn devices_seen_more_than_a_day_ago_are_no_evidence() {
        let old = [dev("a", Some("Shanghai"), 10, true), dev("b", Some("Beijing"), FORWARDING_WINDOW_SECONDS, true), dev("c", None, FORWARDING_WINDOW_SECONDS + 5, true)];
        assert_eq!(forwarding(&old, None, NOW), None);
    }

    #[test]
    fn with_a_limit_only_a_refused_device_flags_the_link() {
        let own = [dev("a", Some("Shanghai"), 10, true), dev("b", Some("Beijing"), 20, true), dev("c", None, 30, true)];
        assert_eq!(forwarding(&own, Some(3), NOW), None);
        let refused = [dev("a", Some("Shanghai"), 10, true), dev("b", None, 20, true), dev("x", Some("Beijing"), 1, false)];
        let f = forwarding(&refused, Some(2), NOW).unwrap();
        assert_eq!((f.reason, f.devices.len()), (ForwardingReason::OverLimit, 3));
        assert_eq!(f.summary(false), "1 device(s) beyond the limit tried it; 2 admitted; 2 cities (Beijing, Shanghai)");
    }

    #[test]
    fn a_notice_day_is_the_utc_day() {
        assert_eq!(notice_day(86_399), 0);
        assert_eq!(notice_day(86_400), 1);
    }

    #[test]
    fn a_device_is_bounded_before_it_is_stored() {
        let d = DeviceSeen { id: "x".repeat(100), browser: "b".repeat(100), os: "o".into(), city: Some("城".repeat(100)) }.bounded();
        assert_eq!((d.id.len(), d.browser.len(), d.city.unwrap().chars().count()), (32, 40, 60));
    }
}
