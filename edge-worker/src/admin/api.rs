//! The admin API's pure parts: routes, bearer parsing, windows and patches. Everything that
//! decides something is here and unit-tested natively; `super` only does I/O.

use crate::gate::{Status, session_epoch, under_wider};
use gatefold_contract::admin::{GallerySummary, LINKS_PAGE_DEFAULT, LINKS_PAGE_MAX, LinkPatch, LinkStatus};
use gatefold_contract::admin::AudienceStatus;
use gatefold_contract::manifest::{Gallery, GalleryIndex, IndexedGallery, IndexedLink, Link, Site, link_url, split_link_name};
use gatefold_contract::owner::LinkTerms;
use gatefold_contract::{LinkPolicy, LinkState, Locale};
use crate::analytics::rollup;
use gatefold_contract::policy::{Change, Refusal};
use gatefold_contract::expiry::{Expiry, parse_owner_expiry};
use chrono::NaiveDate;

/// An admin API route. `link` is a link's name in its gallery: `<link>`, or
/// `<audience>/<recipient>` for a recipient's link (its id has three parts).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ApiRoute<'a> {
    Links,
    DisableAudience { gallery: &'a str, audience: &'a str },
    EnableAudience { gallery: &'a str, audience: &'a str },
    RevokeAudience { gallery: &'a str, audience: &'a str },
    PatchAudience { gallery: &'a str, audience: &'a str },
    Disable { gallery: &'a str, link: &'a str },
    Enable { gallery: &'a str, link: &'a str },
    Revoke { gallery: &'a str, link: &'a str },
    DisableGallery { gallery: &'a str },
    EnableGallery { gallery: &'a str },
    Patch { gallery: &'a str, link: &'a str },
    Stats { gallery: &'a str },
    ExportCsv { gallery: &'a str },
    ExportXlsx { gallery: &'a str },
    QrSvg { gallery: &'a str, link: &'a str },
    QrPng { gallery: &'a str, link: &'a str },
    Card { gallery: &'a str, link: &'a str },
    ShareKit { gallery: &'a str },
    MailMerge { gallery: &'a str },
    /// The gallery's audit log of owner actions (JSON, or CSV).
    Audit { gallery: &'a str },
    AuditCsv { gallery: &'a str },
    /// Whom to remind: not opened, opened without a download.
    FollowUp { gallery: &'a str },
    /// `PUT`: sets the link's password (JSON `{"password": "..."}`); `DELETE`: clears it.
    SetPassword { gallery: &'a str, link: &'a str },
    ClearPassword { gallery: &'a str, link: &'a str },
    /// `POST notify/test` (JSON `{"gallery": "<id>"}`, optional): one test message per channel.
    NotifyTest,
    /// A gallery's notifications waiting and given up on.
    Notifications { gallery: &'a str },
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

/// The methods the admin API answers, each tried in turn to tell 405 from 404.
const METHODS: [&str; 5] = ["GET", "POST", "PATCH", "PUT", "DELETE"];

/// Matches `path` (after `/admin/api/`) and method. `Err` carries 404 or 405.
///
/// A link's id has two parts (`<gallery>/<link>`) or three (`<gallery>/<audience>/<recipient>`),
/// so the method says whether the last segment is an action: POST and GET routes end in one,
/// PATCH routes do not. Every segment is non-empty; a segment holding an encoded `/` is a name
/// no link has.
pub fn route<'a>(method: &str, rest: &'a str) -> Result<ApiRoute<'a>, Failure> {
    let method = if method == "HEAD" { "GET" } else { method };
    if let Some(route) = route_for(method, rest) {
        return Ok(route);
    }
    match METHODS.into_iter().find(|m| *m != method && route_for(m, rest).is_some()) {
        Some(want) => Err(Failure::new(405, "method_not_allowed", format!("/admin/api/{rest} takes {want}"))),
        None => Err(Failure::new(404, "not_found", format!("no admin API route /admin/api/{rest}"))),
    }
}

/// A link's path under the API (`links/<gallery>/<link>`, three parts for a recipient), as
/// [`route`] reads it.
pub fn link_path(gallery: &str, link: &str) -> String {
    format!("links/{gallery}/{link}")
}

/// A link id of two or three non-empty parts: the gallery and the link's name (one slice of
/// `id`, `<audience>/<recipient>` for a recipient).
fn link_id(id: &str) -> Option<(&str, &str)> {
    let (gallery, link) = id.split_once('/')?;
    let parts = id.split('/').count();
    ((2..=3).contains(&parts) && id.split('/').all(|p| !p.is_empty())).then_some((gallery, link))
}

fn route_for<'a>(method: &str, rest: &'a str) -> Option<ApiRoute<'a>> {
    let parts: Vec<&'a str> = rest.split('/').collect();
    if parts.iter().any(|p| p.is_empty()) {
        return None;
    }
    let (first, last) = (parts[0], parts[parts.len() - 1]);
    // What comes between the first segment and the last (an action's target).
    let before_last = || rest.get(first.len() + 1..rest.len() - last.len() - 1);
    Some(match (method, first) {
        ("GET", "links") if parts.len() == 1 => ApiRoute::Links,
        ("POST" | "GET" | "PUT" | "DELETE", "links") => {
            let (gallery, link) = link_id(before_last()?)?;
            match (method, last) {
                ("PUT", "password") => ApiRoute::SetPassword { gallery, link },
                ("DELETE", "password") => ApiRoute::ClearPassword { gallery, link },
                ("POST", "disable") => ApiRoute::Disable { gallery, link },
                ("POST", "enable") => ApiRoute::Enable { gallery, link },
                ("POST", "revoke") => ApiRoute::Revoke { gallery, link },
                ("GET", "qr.svg") => ApiRoute::QrSvg { gallery, link },
                ("GET", "qr.png") => ApiRoute::QrPng { gallery, link },
                ("GET", "card.html") => ApiRoute::Card { gallery, link },
                _ => return None,
            }
        }
        ("PATCH", "links") => {
            let (gallery, link) = link_id(rest.get(first.len() + 1..)?)?;
            ApiRoute::Patch { gallery, link }
        }
        (_, "audiences") => match (method, parts.as_slice()) {
            ("POST", [_, gallery, audience, "disable"]) => ApiRoute::DisableAudience { gallery, audience },
            ("POST", [_, gallery, audience, "enable"]) => ApiRoute::EnableAudience { gallery, audience },
            ("POST", [_, gallery, audience, "revoke"]) => ApiRoute::RevokeAudience { gallery, audience },
            ("PATCH", [_, gallery, audience]) => ApiRoute::PatchAudience { gallery, audience },
            _ => return None,
        },
        (_, "galleries") => match (method, parts.as_slice()) {
            ("POST", [_, gallery, "disable"]) => ApiRoute::DisableGallery { gallery },
            ("POST", [_, gallery, "enable"]) => ApiRoute::EnableGallery { gallery },
            ("GET", [_, gallery, "stats"]) => ApiRoute::Stats { gallery },
            ("GET", [_, gallery, "export.csv"]) => ApiRoute::ExportCsv { gallery },
            ("GET", [_, gallery, "export.xlsx"]) => ApiRoute::ExportXlsx { gallery },
            ("GET", [_, gallery, "share-kit.txt"]) => ApiRoute::ShareKit { gallery },
            ("GET", [_, gallery, "mail-merge.csv"]) => ApiRoute::MailMerge { gallery },
            ("GET", [_, gallery, "notifications"]) => ApiRoute::Notifications { gallery },
            ("GET", [_, gallery, "audit"]) => ApiRoute::Audit { gallery },
            ("GET", [_, gallery, "audit.csv"]) => ApiRoute::AuditCsv { gallery },
            ("GET", [_, gallery, "follow-up"]) => ApiRoute::FollowUp { gallery },
            _ => return None,
        },
        ("POST", "notify") if parts == ["notify", "test"] => ApiRoute::NotifyTest,
        _ => return None,
    })
}

/// The token of an `Authorization: Bearer <token>` header.
pub fn bearer(header: Option<&str>) -> Option<&str> {
    let h = header?.trim();
    let (scheme, token) = h.split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then(|| token.trim()).filter(|t| !t.is_empty())
}

/// A link as owners see it: `gate` is the link's object, `wider` its wider scopes' in
/// [`crate::gate::Scope::wider`] order (a recipient's audience, then the gallery).
pub fn link_status(site: &Site, gallery: &Gallery, link: &Link, gate: Status, wider: &[Status], now: i64) -> LinkStatus {
    // What the next open will find: a change a publish made stale is already gone.
    let overrides = gate.overrides.settled(&link.policy);
    let mut notices = gate.notices;
    if gate.overrides.expires_at.is_some() && overrides.expires_at.is_none() {
        notices.push("the runtime expiry lapsed: a publish changed the published expiry it was made against".into());
    }
    if gate.overrides.max_views.is_some() && overrides.max_views.is_none() {
        notices.push("the runtime view limit lapsed: a publish changed the published limit it was made against".into());
    }
    let audience = link.audience();
    let last = wider.len().saturating_sub(1);
    for (i, w) in wider.iter().enumerate() {
        let scope = match audience {
            Some(a) if i < last => format!("audience {}/{a}", gallery.id),
            _ => format!("gallery {}", gallery.id),
        };
        notices.extend(w.notices.iter().map(|n| format!("{scope}: {n}")));
    }
    let effective = link.policy.effective(&under_wider(overrides.clone(), wider.iter().map(|w| &w.overrides)));
    let scope_overrides = |i: Option<usize>| i.and_then(|i| wider.get(i)).map(|w| w.overrides.clone()).unwrap_or_default();
    LinkStatus {
        gallery: gallery.id.clone(),
        gallery_title: gallery.title.clone(),
        name: link.name.clone(),
        label: link.label.clone(),
        audience: audience.map(str::to_string),
        activity: None,
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
        gallery_overrides: scope_overrides(wider.len().checked_sub(1)),
        audience_overrides: scope_overrides(audience.and(wider.len().checked_sub(2))),
        session_epoch: session_epoch(gate.session_epoch, wider.iter().map(|w| w.session_epoch)),
        // A hash left from before git dropped `password: required` opens nothing: not "set".
        password_set: link.policy.password && gate.password_set,
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

/// `GET links`'s query: filters on the published site, the runtime state asked for, the page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LinksQuery {
    pub gallery: Option<String>,
    /// Only the recipients of audiences of this name.
    pub audience: Option<String>,
    pub state: Option<LinkState>,
    /// Lowercased search text.
    pub q: Option<String>,
    pub offset: usize,
    pub limit: usize,
}

impl LinksQuery {
    /// From the query string's values (`param(name)`); empty values mean "not given".
    pub fn parse<'p>(param: impl Fn(&str) -> Option<&'p str>) -> Result<LinksQuery, Failure> {
        let given = |name: &str| param(name).map(str::trim).filter(|v| !v.is_empty());
        let bad = |msg: String| Failure::new(400, "bad_request", msg);
        let number = |name: &str, default: usize| -> Result<usize, Failure> {
            given(name).map_or(Ok(default), |v| v.parse().map_err(|_| bad(format!("query `{name}`: {v:?} is not a whole number"))))
        };
        let state = given("state")
            .map(|v| {
                serde_json::from_value(serde_json::Value::String(v.to_string()))
                    .map_err(|_| bad(format!("query `state`: {v:?} is not one of active, disabled, expired, limit_reached")))
            })
            .transpose()?;
        let limit = number("limit", LINKS_PAGE_DEFAULT)?;
        if limit == 0 {
            return Err(bad(format!("query `limit`: give 1 to {LINKS_PAGE_MAX} links per page")));
        }
        Ok(LinksQuery {
            gallery: given("gallery").map(str::to_string),
            audience: given("audience").map(str::to_string),
            state,
            q: given("q").map(str::to_lowercase),
            offset: number("offset", 0)?,
            limit: limit.min(LINKS_PAGE_MAX),
        })
    }

    /// The links of the site's index that `gallery`, `audience` and `q` select, in the site's
    /// order (galleries by id, links by name, so an audience's recipients come together): the
    /// order pages are cut from.
    pub fn matching<'m>(&self, index: &'m GalleryIndex) -> Vec<(&'m IndexedGallery, &'m IndexedLink)> {
        let found = |text: &str, q: &str| text.to_lowercase().contains(q);
        index
            .galleries
            .iter()
            .filter(|g| self.gallery.as_ref().is_none_or(|id| *id == g.id))
            .flat_map(|g| g.links.iter().map(move |l| (g, l)))
            .filter(|(_, l)| self.audience.as_deref().is_none_or(|a| split_link_name(&l.name).0 == Some(a)))
            .filter(|(g, l)| {
                self.q.as_deref().is_none_or(|q| found(&l.name, q) || found(&l.label, q) || found(&g.id, q) || found(&g.title, q))
            })
            .collect()
    }
}

/// What an owner's change to a whole audience is judged against: the widest terms its
/// recipients were published with (the latest expiry, the largest view limit, `None` where any
/// recipient has none), so "extend by 7 days" starts from the last day any recipient has and
/// never shortens anyone's published terms without `force`. A publish that moves those terms
/// makes the audience's change lapse, as a link's does.
pub fn audience_policy(gallery: &Gallery, audience: &str) -> LinkPolicy {
    let recipients: Vec<&LinkPolicy> = gallery.links.values().filter(|l| l.audience() == Some(audience)).map(|l| &l.policy).collect();
    let expires = if recipients.iter().all(|p| p.expires.is_some()) { recipients.iter().filter_map(|p| p.expires).max_by_key(|e| e.at) } else { None };
    let max_views = if recipients.iter().all(|p| p.max_views.is_some()) { recipients.iter().filter_map(|p| p.max_views).max() } else { None };
    LinkPolicy { expires, max_views, ..LinkPolicy::default() }
}

/// An audience as its row in the links list shows it: `gate` is its scope's object, `wider`
/// the gallery's, `activity` the gallery log's per-link answer.
pub fn audience_status(gallery: &Gallery, name: &str, gate: Status, wider: &Status, activity: &[rollup::LinkActivity]) -> Option<AudienceStatus> {
    let audience = gallery.audiences.get(name)?;
    let counted = rollup::audience_stats(gallery, &rollup::activity_by_link(activity)).into_iter().find(|a| a.name == name).unwrap_or_default();
    let overrides = gate.overrides.settled(&audience_policy(gallery, name));
    let mut notices = gate.notices;
    notices.extend(wider.notices.iter().map(|n| format!("gallery {}: {n}", gallery.id)));
    Some(AudienceStatus {
        gallery: gallery.id.clone(),
        name: name.to_string(),
        label: audience.label.clone(),
        recipients: counted.recipients,
        opened: counted.opened,
        downloaded: counted.downloaded,
        disabled: overrides.clone().within(&wider.overrides).is_disabled(),
        overrides,
        notices,
    })
}

/// Every gallery of the site, for the links filter.
pub fn gallery_summaries(index: &GalleryIndex) -> Vec<GallerySummary> {
    index
        .galleries
        .iter()
        .map(|g| {
            let mut audiences: Vec<&str> = g.links.iter().filter_map(|l| split_link_name(&l.name).0).collect();
            audiences.dedup();
            GallerySummary { id: g.id.clone(), title: g.title.clone(), links: g.links.len(), audiences: audiences.len() }
        })
        .collect()
}

/// Links asked per round when `state` filters, so a page of rare states fills in few rounds.
pub const STATE_CHUNK: usize = 25;
/// Link objects asked in one request at most: past it a page ends early, `next_offset` saying
/// where to go on, rather than one request fanning out to every link of a large site.
pub const MAX_ASKS: usize = 200;

/// Cuts one page out of `total` matches, asking their runtime state chunk by chunk:
/// `while let Some(r) = p.next_chunk() { p.absorb(ask(r)) }`, then [`Pager::finish`].
#[derive(Debug)]
pub struct Pager<T> {
    total: usize,
    limit: usize,
    filtered: bool,
    /// The next match not looked at yet.
    pos: usize,
    asked: usize,
    page: Vec<T>,
}

impl<T> Pager<T> {
    /// `filtered`: a `state` filter drops answers, so more than a page may need asking.
    pub fn new(total: usize, offset: usize, limit: usize, filtered: bool) -> Pager<T> {
        Pager { total, limit, filtered, pos: offset.min(total), asked: 0, page: Vec::new() }
    }

    /// The matches to ask next, `None` when the page is full, the matches end or the budget is spent.
    pub fn next_chunk(&self) -> Option<std::ops::Range<usize>> {
        let wanted = self.limit - self.page.len();
        let n = if self.filtered { wanted.max(STATE_CHUNK) } else { wanted };
        let n = n.min(MAX_ASKS - self.asked).min(self.total - self.pos);
        (n > 0 && wanted > 0).then(|| self.pos..self.pos + n)
    }

    /// The answers for the chunk last given, in order; `keep` says which belong on the page.
    /// Answers past a full page are dropped unseen: the next page starts at the first of them.
    pub fn absorb(&mut self, answers: Vec<T>, keep: impl Fn(&T) -> bool) {
        self.asked += answers.len();
        for answer in answers {
            if self.page.len() == self.limit {
                break;
            }
            self.pos += 1;
            if keep(&answer) {
                self.page.push(answer);
            }
        }
    }

    /// The page and the next page's offset (`None` at the end).
    pub fn finish(self) -> (Vec<T>, Option<usize>) {
        let next = (self.pos < self.total).then_some(self.pos);
        (self.page, next)
    }
}

/// `?locale=`: a supported language, the site's when not given.
pub fn locale_param(site: &Site, given: Option<&str>) -> Result<Locale, Failure> {
    match given.map(str::trim).filter(|v| !v.is_empty()) {
        None => Ok(site.default_locale),
        Some(v) => Locale::ALL.into_iter().find(|l| l.tag() == v).ok_or_else(|| {
            let tags: Vec<&str> = Locale::ALL.iter().map(|l| l.tag()).collect();
            Failure::new(400, "bad_request", format!("query `locale`: {v:?} is not one of {}", tags.join(", ")))
        }),
    }
}

/// What a card or share kit says about a link as it stands: its terms in force (runtime changes
/// applied), its expiry written the way the owner gave it when it is still the published one.
pub fn link_terms(site: &Site, link: &Link, st: &LinkStatus) -> LinkTerms {
    LinkTerms {
        label: link.label.clone(),
        url: st.url.clone(),
        expiry: st.expires_at.map(|at| crate::site::shown_expiry(site, &link.policy, at)),
        download: link.policy.download.any(),
        max_views: st.max_views,
        view_seconds: link.policy.view_seconds,
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use gatefold_contract::manifest::IpLogging;
    use gatefold_contract::policy::Against;
    use gatefold_contract::{LinkPolicy, LinkState, Locale, Overrides};

    pub(crate) fn shanghai() -> Site {
        Site {
            title: "t".into(),
            base_url: "https://g.example/".into(),
            default_locale: Locale::ZhCn,
            timezone: "Asia/Shanghai".into(),
            ip_logging: IpLogging::Truncated,
            utc_offsets: vec![(i64::MIN, 8 * 3600)],
            dev_key: false,
            analytics: Default::default(),
            digest_hour: gatefold_contract::notify::DEFAULT_DIGEST_HOUR,
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
        assert_eq!(route("POST", "links/spring/market/x/delete").unwrap_err().status, 404);
        // Read with PATCH's eyes it is recipient `market/delete`: the method is what is wrong.
        assert_eq!(route("POST", "links/spring/market/delete").unwrap_err().status, 405);
        assert_eq!(route("GET", "links/").unwrap_err().status, 404);
        assert_eq!(route("PUT", "links/spring/market/password"), Ok(ApiRoute::SetPassword { gallery: "spring", link: "market" }));
        assert_eq!(route("DELETE", "links/spring/market/password"), Ok(ApiRoute::ClearPassword { gallery: "spring", link: "market" }));
        assert_eq!(route("GET", "links/spring/market/password").unwrap_err().status, 405, "a password is never read back");
        assert_eq!(route("POST", "links/spring/market/password").unwrap_err().status, 405);
    }

    fn launch() -> Gallery {
        let at = |day: i64| gatefold_contract::ResolvedExpiry { written: Expiry::EndOfDay(NaiveDate::from_ymd_opt(2026, 12, 1).unwrap()), at: day };
        let link = |name: &str, expires: Option<i64>, max_views: Option<u32>| {
            let policy = LinkPolicy { expires: expires.map(at), max_views, ..LinkPolicy::default() };
            (name.to_string(), Link { name: name.into(), label: name.into(), token: format!("t-{name}"), rotate: 0, policy, recipient: None, notify: None })
        };
        let links = [link("channel/d1", Some(100), Some(20)), link("channel/d2", Some(300), Some(2)), link("press/x", None, Some(5)), link("team", Some(900), Some(99))];
        let audiences = [("channel", "渠道伙伴", 2), ("press", "Press", 1)]
            .map(|(n, l, r)| (n.to_string(), gatefold_contract::manifest::Audience { label: l.into(), recipients: r }));
        Gallery { id: "launch-a".into(), title: "Launch".into(), images: vec![], links: links.into_iter().collect(), audiences: audiences.into_iter().collect(), notify: Vec::new() }
    }

    #[test]
    fn an_audience_change_is_judged_against_the_widest_terms_of_its_recipients() {
        let g = launch();
        let channel = audience_policy(&g, "channel");
        assert_eq!((channel.expires_at(), channel.max_views), (Some(300), Some(20)));
        let press = audience_policy(&g, "press");
        assert_eq!((press.expires_at(), press.max_views), (None, Some(5)), "a recipient that never expires: the audience never does");
        assert_eq!(audience_policy(&g, "nobody"), LinkPolicy::default());
        // Extending the audience by a day starts from its last recipient's expiry.
        let next = Overrides::default().apply(&Change::Limits { expires_at: None, extend_days: Some(1), max_views: None, force: false }, &channel, 0, 50).unwrap();
        assert_eq!(next.expires_at, Some(300 + 86_400));
    }

    #[test]
    fn an_audience_row_counts_its_recipients_and_shows_its_own_and_its_gallerys_disable() {
        let g = launch();
        let did = |link: &str, opens, downloads| rollup::LinkActivity { link: link.into(), opens, downloads, first_ms: None, last_ms: None };
        let activity = [did("channel/d1", 1, 1), did("team", 4, 0)];
        let row = audience_status(&g, "channel", Status::default(), &Status::default(), &activity).unwrap();
        assert_eq!((row.label.as_str(), row.recipients, row.opened, row.downloaded, row.disabled), ("渠道伙伴", 2, 1, 1, false));
        let gallery_off = Status { overrides: Overrides { disabled: Some(true), ..Overrides::default() }, ..Status::default() };
        assert!(audience_status(&g, "channel", Status::default(), &gallery_off, &activity).unwrap().disabled);
        assert!(audience_status(&g, "nobody", Status::default(), &Status::default(), &activity).is_none());
    }

    #[test]
    fn a_recipient_status_folds_in_its_audience_and_sums_the_session_epochs() {
        let s = shanghai();
        let g = launch();
        let link = &g.links["channel/d2"];
        let audience = Status { overrides: Overrides { disabled: Some(true), max_views: Some(50), ..Overrides::default() }, session_epoch: 2, ..Status::default() };
        let own = Status { views: 1, session_epoch: 3, ..Status::default() };
        let st = link_status(&s, &g, link, own, &[audience, Status::default()], 10);
        assert_eq!((st.state, st.max_views, st.session_epoch, st.audience.as_deref()), (LinkState::Disabled, Some(50), 5, Some("channel")));
        assert!(st.audience_overrides.is_disabled() && !st.gallery_overrides.is_disabled());
        let plain = link_status(&s, &g, &g.links["team"], Status::default(), &[Status::default()], 10);
        assert_eq!((plain.audience, plain.audience_overrides), (None, Overrides::default()));
    }

    #[test]
    fn the_audience_filter_keeps_only_that_audiences_recipients() {
        let index = site_of(&[("launch-a", "Launch", &[("channel/d1", "D1"), ("channel/d2", "D2"), ("press/x", "X"), ("team", "Team")])]);
        let q = query(&[("audience", "channel")]).unwrap();
        let names: Vec<&str> = q.matching(&index).iter().map(|(_, l)| l.name.as_str()).collect();
        assert_eq!(names, ["channel/d1", "channel/d2"]);
        assert_eq!(gallery_summaries(&index)[0].audiences, 2, "channel and press: a mail-merge file to offer");
    }

    #[test]
    fn link_ids_have_two_or_three_parts_and_the_method_says_whether_an_action_ends_them() {
        let table: Vec<(&str, &str, Result<ApiRoute<'_>, u16>)> = vec![
            ("POST", "links/launch-a/channel/dealer-001/disable", Ok(ApiRoute::Disable { gallery: "launch-a", link: "channel/dealer-001" })),
            ("POST", "links/launch-a/channel/dealer-001/enable", Ok(ApiRoute::Enable { gallery: "launch-a", link: "channel/dealer-001" })),
            ("POST", "links/launch-a/channel/dealer-001/revoke", Ok(ApiRoute::Revoke { gallery: "launch-a", link: "channel/dealer-001" })),
            ("GET", "links/launch-a/channel/dealer-001/qr.svg", Ok(ApiRoute::QrSvg { gallery: "launch-a", link: "channel/dealer-001" })),
            ("HEAD", "links/launch-a/channel/dealer-001/qr.png", Ok(ApiRoute::QrPng { gallery: "launch-a", link: "channel/dealer-001" })),
            ("GET", "links/launch-a/channel/dealer-001/card.html", Ok(ApiRoute::Card { gallery: "launch-a", link: "channel/dealer-001" })),
            ("PATCH", "links/launch-a/channel/dealer-001", Ok(ApiRoute::Patch { gallery: "launch-a", link: "channel/dealer-001" })),
            ("PATCH", "links/launch-a/team", Ok(ApiRoute::Patch { gallery: "launch-a", link: "team" })),
            // A recipient named like an action is still a recipient to PATCH.
            ("PATCH", "links/launch-a/channel/disable", Ok(ApiRoute::Patch { gallery: "launch-a", link: "channel/disable" })),
            ("POST", "links/launch-a/channel/disable/disable", Ok(ApiRoute::Disable { gallery: "launch-a", link: "channel/disable" })),
            ("POST", "links/launch-a/channel/dealer-001/extra/disable", Err(404)),
            ("PATCH", "links/launch-a/channel/dealer-001/extra", Err(404)),
            // Two parts before an action name no link; read as PATCH's link id they would.
            ("POST", "links/launch-a/disable", Err(405)),
            ("PATCH", "links/launch-a", Err(404)),
            ("POST", "links/launch-a//dealer-001/disable", Err(404)),
            ("POST", "links/launch-a/channel/dealer-001/", Err(404)),
            ("POST", "links/launch-a/channel/dealer-001/qr.svg", Err(405)),
            ("GET", "links/launch-a/channel/dealer-001/revoke", Err(405)),
            ("POST", "audiences/launch-a/channel/disable", Ok(ApiRoute::DisableAudience { gallery: "launch-a", audience: "channel" })),
            ("POST", "audiences/launch-a/channel/enable", Ok(ApiRoute::EnableAudience { gallery: "launch-a", audience: "channel" })),
            ("POST", "audiences/launch-a/channel/revoke", Ok(ApiRoute::RevokeAudience { gallery: "launch-a", audience: "channel" })),
            ("PATCH", "audiences/launch-a/channel", Ok(ApiRoute::PatchAudience { gallery: "launch-a", audience: "channel" })),
            ("POST", "audiences/launch-a/channel/dealer-001/disable", Err(404)),
            ("GET", "audiences/launch-a/channel", Err(405)),
            ("GET", "galleries/launch-a/mail-merge.csv", Ok(ApiRoute::MailMerge { gallery: "launch-a" })),
            ("POST", "galleries/launch-a/mail-merge.csv", Err(405)),
            ("GET", "galleries/launch-a/audit", Ok(ApiRoute::Audit { gallery: "launch-a" })),
            ("GET", "galleries/launch-a/audit.csv", Ok(ApiRoute::AuditCsv { gallery: "launch-a" })),
            ("GET", "galleries/launch-a/follow-up", Ok(ApiRoute::FollowUp { gallery: "launch-a" })),
            ("POST", "galleries/launch-a/audit", Err(405)),
        ];
        for (method, path, want) in table {
            assert_eq!(route(method, path).map_err(|f| f.status), want, "{method} {path}");
        }
        let qr = format!("{}/qr.png", link_path("launch-a", "channel/dealer-001"));
        assert_eq!(route("GET", &qr), Ok(ApiRoute::QrPng { gallery: "launch-a", link: "channel/dealer-001" }), "the mail merge's QR paths are routes");
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
        let link = Link { name: "market".into(), label: "Market".into(), token: "abc".into(), rotate: 0, policy: LinkPolicy { max_views: Some(10), ..LinkPolicy::default() }, recipient: None, notify: None };
        let gallery = Gallery { id: "spring".into(), title: "Spring".into(), images: vec![], links: Default::default(), audiences: Default::default(), notify: Vec::new() };
        let gate = Status { views: 4, overrides: Overrides { max_views: Some(5), ..Overrides::default() }, first_open: Some(1), last_open: Some(2), ..Status::default() };
        let st = link_status(&s, &gallery, &link, gate.clone(), &[Status::default()], 100);
        assert_eq!(st.url, "https://g.example/s/abc");
        assert_eq!(st.max_views, Some(5));
        assert_eq!(st.views_remaining, Some(1));
        assert_eq!(st.state, LinkState::Active);
        let gallery_off = Status { overrides: Overrides { disabled: Some(true), ..Overrides::default() }, ..Status::default() };
        assert_eq!(link_status(&s, &gallery, &link, gate, &[gallery_off], 100).state, LinkState::Disabled);
    }

    #[test]
    fn a_link_status_says_when_a_publish_made_a_change_lapse() {
        let s = shanghai();
        let link = Link { name: "m".into(), label: "M".into(), token: "abc".into(), rotate: 0, policy: LinkPolicy { max_views: Some(10), ..LinkPolicy::default() }, recipient: None, notify: None };
        let gallery = Gallery { id: "g".into(), title: "G".into(), images: vec![], links: Default::default(), audiences: Default::default(), notify: Vec::new() };
        let stale = Overrides { max_views: Some(50), max_views_against: Some(Against { published: Some(20) }), ..Overrides::default() };
        let st = link_status(&s, &gallery, &link, Status { overrides: stale, ..Status::default() }, &[Status::default()], 100);
        assert_eq!(st.max_views, Some(10));
        assert!(st.notices.iter().any(|n| n.contains("view limit lapsed")), "{:?}", st.notices);
    }

    /// `(gallery id, title, [(link name, label)])`.
    type SiteSpec<'a> = [(&'a str, &'a str, &'a [(&'a str, &'a str)])];

    /// The admin index the generator writes for these galleries.
    fn site_of(galleries: &SiteSpec<'_>) -> GalleryIndex {
        let galleries = galleries
            .iter()
            .map(|(id, title, links)| {
                let links = links
                    .iter()
                    .map(|(name, label)| (name.to_string(), Link { name: name.to_string(), label: label.to_string(), token: format!("t{name}"), rotate: 0, policy: LinkPolicy::default(), recipient: None, notify: None }))
                    .collect();
                (id.to_string(), Gallery { id: id.to_string(), title: title.to_string(), images: vec![], links, audiences: Default::default(), notify: Vec::new() })
            })
            .collect();
        gatefold_contract::manifest::Manifest { format: gatefold_contract::manifest::FORMAT, site: shanghai(), galleries }.records().index
    }

    fn query(pairs: &[(&str, &str)]) -> Result<LinksQuery, Failure> {
        LinksQuery::parse(|name| pairs.iter().find(|(k, _)| *k == name).map(|(_, v)| *v))
    }

    /// Drives a pager over `states` as the handler does over the links' objects.
    fn page_of(states: &[LinkState], offset: usize, limit: usize, state: Option<LinkState>) -> (Vec<usize>, Option<usize>, usize) {
        let mut pager = Pager::new(states.len(), offset, limit, state.is_some());
        let mut asked = 0;
        while let Some(r) = pager.next_chunk() {
            asked += r.len();
            pager.absorb(r.map(|i| (i, states[i])).collect(), |(_, s)| state.is_none_or(|want| *s == want));
        }
        let (page, next) = pager.finish();
        (page.into_iter().map(|(i, _)| i).collect(), next, asked)
    }

    #[test]
    fn the_links_query_has_defaults_a_cap_and_clear_errors() {
        let q = query(&[]).unwrap();
        assert_eq!((q.offset, q.limit, q.state, q.gallery, q.q), (0, 50, None, None, None));
        let q = query(&[("limit", "500"), ("offset", "7"), ("state", "limit_reached"), ("q", " Dealer "), ("gallery", "spring")]).unwrap();
        assert_eq!((q.offset, q.limit, q.state, q.gallery.as_deref(), q.q.as_deref()), (7, 100, Some(LinkState::LimitReached), Some("spring"), Some("dealer")));
        assert!(query(&[("state", "open")]).unwrap_err().message.contains("active, disabled, expired, limit_reached"));
        assert!(query(&[("offset", "-1")]).unwrap_err().message.contains("`offset`"));
        assert_eq!(query(&[("limit", "0")]).unwrap_err().status, 400);
        assert_eq!(query(&[("state", "")]).unwrap().state, None);
    }

    #[test]
    fn search_matches_name_label_gallery_id_or_title_in_any_case() {
        let m = site_of(&[("spring", "Spring Launch", &[("market", "Marketing"), ("press", "Press")]), ("dealer", "Dealer kit", &[("sh", "Shanghai")])]);
        let names = |pairs: &[(&str, &str)]| -> Vec<String> { query(pairs).unwrap().matching(&m).iter().map(|(g, l)| format!("{}/{}", g.id, l.name)).collect() };
        assert_eq!(names(&[]), ["dealer/sh", "spring/market", "spring/press"]);
        assert_eq!(names(&[("q", "MARK")]), ["spring/market"]);
        assert_eq!(names(&[("q", "launch")]), ["spring/market", "spring/press"]);
        assert_eq!(names(&[("q", "shang")]), ["dealer/sh"]);
        assert_eq!(names(&[("gallery", "spring"), ("q", "press")]), ["spring/press"]);
        assert_eq!(names(&[("gallery", "nope")]), Vec::<String>::new());
        assert_eq!(gallery_summaries(&m)[1], GallerySummary { id: "spring".into(), title: "Spring Launch".into(), links: 2, audiences: 0 });
    }

    #[test]
    fn pages_without_a_state_filter_ask_exactly_the_page() {
        let states = vec![LinkState::Active; 120];
        assert_eq!(page_of(&states, 0, 50, None), ((0..50).collect(), Some(50), 50));
        assert_eq!(page_of(&states, 100, 50, None), ((100..120).collect(), None, 20));
        assert_eq!(page_of(&states, 500, 50, None), (vec![], None, 0));
    }

    #[test]
    fn a_state_filter_asks_in_chunks_until_the_page_is_full_and_resumes_after_the_last_one_kept() {
        // Every 10th link is disabled.
        let states: Vec<LinkState> = (0..300).map(|i| if i % 10 == 0 { LinkState::Disabled } else { LinkState::Active }).collect();
        let (page, next, _) = page_of(&states, 0, 3, Some(LinkState::Disabled));
        assert_eq!((page, next), (vec![0, 10, 20], Some(21)));
        let (page, next, _) = page_of(&states, 21, 3, Some(LinkState::Disabled));
        assert_eq!((page, next), (vec![30, 40, 50], Some(51)));
    }

    #[test]
    fn a_sparse_state_ends_the_page_early_at_the_ask_budget_and_paging_on_finds_every_link_once() {
        let states: Vec<LinkState> = (0..1000).map(|i| if i % 97 == 0 { LinkState::Expired } else { LinkState::Active }).collect();
        let (first, next, asked) = page_of(&states, 0, 50, Some(LinkState::Expired));
        assert!(asked <= MAX_ASKS, "{asked}");
        assert_eq!(next, Some(MAX_ASKS));
        assert_eq!(first, vec![0, 97, 194]);
        let mut seen = Vec::new();
        let mut offset = Some(0);
        while let Some(o) = offset {
            let (page, next, _) = page_of(&states, o, 4, Some(LinkState::Expired));
            seen.extend(page);
            offset = next;
        }
        assert_eq!(seen, (0..1000).filter(|i| i % 97 == 0).collect::<Vec<_>>());
    }

    #[test]
    fn the_locale_defaults_to_the_site_and_refuses_unknown_tags() {
        assert_eq!(locale_param(&shanghai(), None), Ok(Locale::ZhCn));
        assert_eq!(locale_param(&shanghai(), Some("en")), Ok(Locale::En));
        assert!(locale_param(&shanghai(), Some("fr")).unwrap_err().message.contains("en, zh-CN"));
    }

    #[test]
    fn owner_file_routes_are_get_only() {
        assert_eq!(route("GET", "links/spring/market/qr.svg"), Ok(ApiRoute::QrSvg { gallery: "spring", link: "market" }));
        assert_eq!(route("GET", "links/spring/market/qr.png"), Ok(ApiRoute::QrPng { gallery: "spring", link: "market" }));
        assert_eq!(route("GET", "links/spring/market/card.html"), Ok(ApiRoute::Card { gallery: "spring", link: "market" }));
        assert_eq!(route("GET", "galleries/spring/share-kit.txt"), Ok(ApiRoute::ShareKit { gallery: "spring" }));
        assert_eq!(route("POST", "links/spring/market/qr.svg").unwrap_err().status, 405);
    }

    #[test]
    fn link_terms_keep_a_published_date_as_the_end_of_that_day_and_take_runtime_limits() {
        let s = shanghai();
        let published = gatefold_contract::ResolvedExpiry { written: Expiry::EndOfDay(NaiveDate::from_ymd_opt(2026, 12, 31).unwrap()), at: 1_798_732_800 };
        let link = Link { name: "m".into(), label: "M".into(), token: "abc".into(), rotate: 0, policy: LinkPolicy { expires: Some(published), max_views: Some(10), ..LinkPolicy::default() }, recipient: None, notify: None };
        let gallery = Gallery { id: "g".into(), title: "G".into(), images: vec![], links: Default::default(), audiences: Default::default(), notify: Vec::new() };
        let st = link_status(&s, &gallery, &link, Status::default(), &[Status::default()], 100);
        let t = link_terms(&s, &link, &st);
        assert_eq!((t.max_views, t.expiry.unwrap().end_of_day, t.url.as_str()), (Some(10), true, "https://g.example/s/abc"));
        let extended = Status { overrides: Overrides { max_views: Some(20), expires_at: Some(1_798_736_400), ..Overrides::default() }, ..Status::default() };
        let st = link_status(&s, &gallery, &link, extended, &[Status::default()], 100);
        let t = link_terms(&s, &link, &st);
        assert_eq!((t.max_views, t.expiry.unwrap().at, t.expiry.unwrap().end_of_day), (Some(20), 1_798_736_400, false));
    }
}
