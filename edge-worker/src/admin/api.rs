//! The admin API's pure parts: routes, bearer parsing, windows and patches. Everything that
//! decides something is here and unit-tested natively; `super` only does I/O.

use crate::gate::Status;
use gatefold_contract::admin::{LinkPatch, LinkStatus};
use gatefold_contract::manifest::{Gallery, Link, Site, link_url};
use gatefold_contract::policy::{Change, Refusal};
use gatefold_contract::expiry::{Expiry, parse_owner_expiry};
use chrono::NaiveDate;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ApiRoute<'a> {
    Links,
    Disable { gallery: &'a str, link: &'a str },
    Enable { gallery: &'a str, link: &'a str },
    Revoke { gallery: &'a str, link: &'a str },
    DisableGallery { gallery: &'a str },
    EnableGallery { gallery: &'a str },
    Patch { gallery: &'a str, link: &'a str },
    Stats { gallery: &'a str },
    ExportCsv { gallery: &'a str },
    ExportXlsx { gallery: &'a str },
}

/// An API failure: HTTP status, stable code and an English sentence saying what to do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    pub status: u16,
    pub code: &'static str,
    pub message: String,
    /// Seconds for a `Retry-After` header (throttled sign-ins).
    pub retry_after: Option<i64>,
}

impl Failure {
    pub fn new(status: u16, code: &'static str, message: impl Into<String>) -> Failure {
        Failure { status, code, message: message.into(), retry_after: None }
    }
}

/// Matches `path` (after `/admin/api/`) and method. `Err` carries 404 or 405.
pub fn route<'a>(method: &str, rest: &'a str) -> Result<ApiRoute<'a>, Failure> {
    let parts: Vec<&str> = rest.split('/').collect();
    let not_found = || Failure::new(404, "not_found", format!("no admin API route /admin/api/{rest}"));
    let (want, route) = match parts.as_slice() {
        ["links"] => ("GET", ApiRoute::Links),
        ["links", gallery, link, "disable"] => ("POST", ApiRoute::Disable { gallery, link }),
        ["links", gallery, link, "enable"] => ("POST", ApiRoute::Enable { gallery, link }),
        ["links", gallery, link, "revoke"] => ("POST", ApiRoute::Revoke { gallery, link }),
        ["galleries", gallery, "disable"] => ("POST", ApiRoute::DisableGallery { gallery }),
        ["galleries", gallery, "enable"] => ("POST", ApiRoute::EnableGallery { gallery }),
        ["links", gallery, link] => ("PATCH", ApiRoute::Patch { gallery, link }),
        ["galleries", gallery, "stats"] => ("GET", ApiRoute::Stats { gallery }),
        ["galleries", gallery, "export.csv"] => ("GET", ApiRoute::ExportCsv { gallery }),
        ["galleries", gallery, "export.xlsx"] => ("GET", ApiRoute::ExportXlsx { gallery }),
        _ => return Err(not_found()),
    };
    if method == want || (want == "GET" && method == "HEAD") {
        Ok(route)
    } else {
        Err(Failure::new(405, "method_not_allowed", format!("/admin/api/{rest} takes {want}")))
    }
}

/// The token of an `Authorization: Bearer <token>` header.
pub fn bearer(header: Option<&str>) -> Option<&str> {
    let h = header?.trim();
    let (scheme, token) = h.split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then(|| token.trim()).filter(|t| !t.is_empty())
}

/// A link as owners see it: `gate` is the link's object, `wider` its gallery's.
pub fn link_status(site: &Site, gallery: &Gallery, link: &Link, gate: Status, wider: &Status, now: i64) -> LinkStatus {
    // What the next open will find: a change a publish made stale is already gone.
    let overrides = gate.overrides.settled(&link.policy);
    let mut notices = gate.notices;
    if gate.overrides.expires_at.is_some() && overrides.expires_at.is_none() {
        notices.push("the runtime expiry lapsed: a publish changed the published expiry it was made against".into());
    }
    if gate.overrides.max_views.is_some() && overrides.max_views.is_none() {
        notices.push("the runtime view limit lapsed: a publish changed the published limit it was made against".into());
    }
    notices.extend(wider.notices.iter().map(|n| format!("gallery {}: {n}", gallery.id)));
    let effective = link.policy.effective(&overrides.clone().within(&wider.overrides));
    LinkStatus {
        gallery: gallery.id.clone(),
        gallery_title: gallery.title.clone(),
        name: link.name.clone(),
        label: link.label.clone(),
        url: link_url(&site.base_url, &link.token),
        policy: link.policy.clone(),
        state: effective.state(gate.views, now),
        expires_at: effective.expires_at,
        max_views: effective.max_views,
        views: gate.views,
        views_remaining: effective.views_remaining(gate.views),
        first_open: gate.first_open,
        last_open: gate.last_open,
        overrides,
        gallery_overrides: wider.overrides.clone(),
        session_epoch: gate.session_epoch,
        notices,
    }
}

/// An owner's typed expiry (API `expires`, the admin page's date field) as an instant, through
/// the one conversion the generator uses too (`gatefold_contract::expiry`): a date means "valid
/// through that whole day" in the site timezone.
pub fn expiry_from_owner_input(site: &Site, s: &str) -> Result<i64, Failure> {
    parse_owner_expiry(s, &site.utc_offsets).map(|e| e.at).map_err(|e| {
        Failure::new(400, "bad_request", format!("field `expires`: {e}; write a date like 2026-12-31 or an RFC 3339 time like 2026-12-31T18:00:00+08:00"))
    })
}

/// The first instant of local day `date` in the site timezone (the end of the day before).
fn start_of_day(site: &Site, date: NaiveDate) -> Option<i64> {
    Expiry::EndOfDay(date.pred_opt()?).instant(&site.utc_offsets).ok()
}

/// An instant in the site timezone, for messages to owners.
pub fn site_time(site: &Site, unix: i64) -> String {
    let local = unix + i64::from(site.utc_offset_at(unix));
    chrono::DateTime::from_timestamp(local, 0).map_or_else(|| unix.to_string(), |t| format!("{} ({})", t.format("%Y-%m-%d %H:%M"), site.timezone))
}

/// The owner's patch as the change the link's object applies.
pub fn patch_change(site: &Site, patch: &LinkPatch) -> Result<Change, Failure> {
    if patch.expires_at.is_some() && patch.expires.is_some() {
        return Err(Failure::new(400, "bad_request", "give either `expires_at` (Unix seconds) or `expires` (date), not both"));
    }
    let expires_at = match (&patch.expires, patch.expires_at) {
        (Some(s), _) => Some(expiry_from_owner_input(site, s)?),
        (None, at) => at,
    };
    Ok(Change::Limits { expires_at, extend_days: patch.extend_days, max_views: patch.max_views, force: patch.force })
}

/// A refused change as the API's answer.
pub fn refusal(site: &Site, r: &Refusal) -> Failure {
    let (status, code) = r.status_and_code();
    Failure::new(status, code, r.message(|t| site_time(site, t)))
}

/// Parses `from`/`to` query values: a date (`to` includes that whole day) or Unix seconds.
/// Defaults: from the beginning to now.
pub fn window(site: &Site, from: Option<&str>, to: Option<&str>, now: i64) -> Result<(i64, i64), Failure> {
    let parse = |name: &str, v: &str, end: bool| -> Result<i64, Failure> {
        if let Ok(date) = NaiveDate::parse_from_str(v, "%Y-%m-%d") {
            let day = if end { date.succ_opt() } else { Some(date) };
            if let Some(at) = day.and_then(|d| start_of_day(site, d)) {
                return Ok(at);
            }
        }
        v.parse::<i64>().map_err(|_| Failure::new(400, "bad_request", format!("query `{name}`: {v:?} is neither a date like 2026-03-01 nor Unix seconds")))
    };
    let from = from.filter(|v| !v.is_empty()).map(|v| parse("from", v, false)).transpose()?.unwrap_or(0);
    let to = to.filter(|v| !v.is_empty()).map(|v| parse("to", v, true)).transpose()?.unwrap_or(now + 1);
    if from >= to {
        return Err(Failure::new(400, "bad_request", "query `from` must be before `to`"));
    }
    Ok((from, to))
}

#[cfg(test)]
mod tests {
    use super::*;
    use gatefold_contract::manifest::IpLogging;
    use gatefold_contract::policy::Against;
    use gatefold_contract::{LinkPolicy, LinkState, Locale, Overrides};

    fn shanghai() -> Site {
        Site {
            title: "t".into(),
            base_url: "https://g.example/".into(),
            default_locale: Locale::ZhCn,
            timezone: "Asia/Shanghai".into(),
            ip_logging: IpLogging::Truncated,
            utc_offsets: vec![(i64::MIN, 8 * 3600)],
            dev_key: false,
            analytics: Default::default(),
        }
    }

    #[test]
    fn routes_match_exactly_with_their_verbs() {
        assert_eq!(route("GET", "links"), Ok(ApiRoute::Links));
        assert_eq!(route("POST", "links/spring/market/disable"), Ok(ApiRoute::Disable { gallery: "spring", link: "market" }));
        assert_eq!(route("PATCH", "links/spring/market"), Ok(ApiRoute::Patch { gallery: "spring", link: "market" }));
        assert_eq!(route("POST", "links/spring/market/revoke"), Ok(ApiRoute::Revoke { gallery: "spring", link: "market" }));
        assert_eq!(route("POST", "galleries/spring/disable"), Ok(ApiRoute::DisableGallery { gallery: "spring" }));
        assert_eq!(route("GET", "galleries/spring/enable").unwrap_err().status, 405);
        assert_eq!(route("GET", "galleries/spring/export.xlsx"), Ok(ApiRoute::ExportXlsx { gallery: "spring" }));
        assert_eq!(route("GET", "links/spring/market/disable").unwrap_err().status, 405);
        assert_eq!(route("POST", "links/spring/market/delete").unwrap_err().status, 404);
        assert_eq!(route("GET", "links/").unwrap_err().status, 404);
    }

    #[test]
    fn only_a_bearer_header_yields_a_token() {
        assert_eq!(bearer(Some("Bearer abc")), Some("abc"));
        assert_eq!(bearer(Some("bearer  abc ")), Some("abc"));
        assert_eq!(bearer(Some("Basic abc")), None);
        assert_eq!(bearer(Some("Bearer ")), None);
        assert_eq!(bearer(None), None);
    }

    #[test]
    fn a_date_extends_through_the_end_of_that_day_in_the_site_timezone() {
        // 2027-01-01 00:00 in Shanghai is 2026-12-31 16:00 UTC.
        assert_eq!(expiry_from_owner_input(&shanghai(), "2026-12-31").unwrap(), 1_798_732_800);
        assert_eq!(expiry_from_owner_input(&shanghai(), "2026-12-31T18:00:00+08:00").unwrap(), 1_798_711_200);
        assert!(expiry_from_owner_input(&shanghai(), "31/12/2026").unwrap_err().message.contains("`expires`"));
    }

    #[test]
    fn a_patch_becomes_one_change_with_its_date_read_in_the_site_timezone() {
        let patch = LinkPatch { expires: Some("2026-12-31".into()), max_views: Some(100), force: true, ..LinkPatch::default() };
        assert_eq!(
            patch_change(&shanghai(), &patch).unwrap(),
            Change::Limits { expires_at: Some(1_798_732_800), extend_days: None, max_views: Some(100), force: true }
        );
        let both = LinkPatch { expires_at: Some(50), expires: Some("2030-01-01".into()), ..LinkPatch::default() };
        assert_eq!(patch_change(&shanghai(), &both).unwrap_err().status, 400);
    }

    #[test]
    fn refusals_show_times_in_the_site_timezone() {
        let f = refusal(&shanghai(), &Refusal::ShortensExpiry { in_force: Some(1_798_732_800), asked: 1_798_711_200 });
        assert_eq!((f.status, f.code), (409, "needs_force"));
        assert!(f.message.contains("2027-01-01 00:00 (Asia/Shanghai)") && f.message.contains("2026-12-31 18:00"), "{}", f.message);
        assert_eq!(refusal(&shanghai(), &Refusal::DisabledInYaml).message, "disabled in gallery.yaml: change it there");
    }

    #[test]
    fn windows_take_dates_or_seconds_and_include_the_last_day() {
        let s = shanghai();
        let (from, to) = window(&s, Some("2026-03-01"), Some("2026-03-01"), 0).unwrap();
        assert_eq!(to - from, 86_400);
        assert_eq!(from, 1_772_294_400);
        assert_eq!(window(&s, None, None, 500).unwrap(), (0, 501));
        assert_eq!(window(&s, Some("100"), Some("200"), 500).unwrap(), (100, 200));
        assert!(window(&s, Some("yesterday"), None, 500).is_err());
        assert!(window(&s, Some("300"), Some("200"), 500).is_err());
    }

    #[test]
    fn a_link_status_applies_overrides_and_counts_what_is_left() {
        let s = shanghai();
        let link = Link { name: "market".into(), label: "Market".into(), token: "abc".into(), rotate: 0, policy: LinkPolicy { max_views: Some(10), ..LinkPolicy::default() } };
        let gallery = Gallery { id: "spring".into(), title: "Spring".into(), images: vec![], links: Default::default() };
        let gate = Status { views: 4, overrides: Overrides { max_views: Some(5), ..Overrides::default() }, first_open: Some(1), last_open: Some(2), ..Status::default() };
        let st = link_status(&s, &gallery, &link, gate.clone(), &Status::default(), 100);
        assert_eq!(st.url, "https://g.example/s/abc");
        assert_eq!(st.max_views, Some(5));
        assert_eq!(st.views_remaining, Some(1));
        assert_eq!(st.state, LinkState::Active);
        let gallery_off = Status { overrides: Overrides { disabled: Some(true), ..Overrides::default() }, ..Status::default() };
        assert_eq!(link_status(&s, &gallery, &link, gate, &gallery_off, 100).state, LinkState::Disabled);
    }

    #[test]
    fn a_link_status_says_when_a_publish_made_a_change_lapse() {
        let s = shanghai();
        let link = Link { name: "m".into(), label: "M".into(), token: "abc".into(), rotate: 0, policy: LinkPolicy { max_views: Some(10), ..LinkPolicy::default() } };
        let gallery = Gallery { id: "g".into(), title: "G".into(), images: vec![], links: Default::default() };
        let stale = Overrides { max_views: Some(50), max_views_against: Some(Against { published: Some(20) }), ..Overrides::default() };
        let st = link_status(&s, &gallery, &link, Status { overrides: stale, ..Status::default() }, &Status::default(), 100);
        assert_eq!(st.max_views, Some(10));
        assert!(st.notices.iter().any(|n| n.contains("view limit lapsed")), "{:?}", st.notices);
    }
}
