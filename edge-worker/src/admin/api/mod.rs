//! The admin API's pure parts: routes (read by the table in `gatefold_contract::admin`),
//! bearer parsing, windows, patches, link and audience states, paging. Everything that
//! decides something is here and unit-tested natively; `super` only does I/O.

use crate::gate::{Scope, Status, session_epoch, settled_in_force};
use gatefold_contract::admin::{GallerySummary, LINKS_PAGE_DEFAULT, LINKS_PAGE_MAX, LinkPatch, LinkStatus};
use gatefold_contract::admin::{ApiRoute, AudienceStatus, NoRoute};
use gatefold_contract::manifest::{Gallery, GalleryIndex, IndexedGallery, IndexedLink, Link, Site, link_url, split_link_name};
use gatefold_contract::owner::LinkTerms;
use gatefold_contract::{LinkState, Locale, Overrides};
use super::log::rollup;
pub use super::error::Failure;
use gatefold_contract::policy::{Change, Refusal};
use gatefold_contract::expiry::{Expiry, parse_owner_expiry};
use chrono::NaiveDate;

/// Matches `path` (after `/admin/api/`) and method by the API's one table of paths
/// ([`ApiRoute::parse`]). `Err` carries 404 or 405.
pub fn route<'a>(method: &str, rest: &'a str) -> Result<ApiRoute<'a>, Failure> {
    ApiRoute::parse(method, rest).map_err(|no| match no {
        NoRoute::MethodNotAllowed { allowed } => Failure::new(405, "method_not_allowed", format!("/admin/api/{rest} takes {allowed}")),
        NoRoute::NotFound => Failure::new(404, "not_found", format!("no admin API route /admin/api/{rest}")),
    })
}

/// The refusal of a password too easy to guess for this link (its site, gallery and link names
/// are what a guesser tries first), offering `suggestion` instead; `None` when it is strong.
pub fn weak_password(site: &Site, gallery: &Gallery, link: &Link, password: &str, suggestion: String) -> Option<Failure> {
    let audience = link.audience().and_then(|a| gallery.audiences.get(a)).map(|a| a.label.as_str()).unwrap_or_default();
    let context = [site.title.as_str(), gallery.id.as_str(), gallery.title.as_str(), link.name.as_str(), link.label.as_str(), audience];
    let weak = gatefold_contract::passphrase::check(password, &context).err()?;
    Some(Failure { suggestion: Some(suggestion), ..Failure::new(400, "weak_password", weak.message) })
}

/// The token of an `Authorization: Bearer <token>` header.
pub fn bearer(header: Option<&str>) -> Option<&str> {
    let h = header?.trim();
    let (scheme, token) = h.split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then(|| token.trim()).filter(|t| !t.is_empty())
}

/// What an owner is told of runtime changes a publish made lapse: `stored` as the scope's object
/// holds them, `settled` against the terms it was published with.
fn lapses(stored: &Overrides, settled: &Overrides) -> Vec<String> {
    let expiry = (stored.expires_at.is_some() && settled.expires_at.is_none())
        .then(|| "the runtime expiry lapsed: a publish changed the published terms it was made against".to_string());
    let limit = (stored.max_views.is_some() && settled.max_views.is_none())
        .then(|| "the runtime view limit lapsed: a publish changed the published terms it was made against".to_string());
    expiry.into_iter().chain(limit).collect()
}

/// A link as owners see it: `gate` is the link's object, `wider` its wider scopes' in
/// [`Scope::wider`] order (a recipient's audience, then the gallery). Its state, expiry, limit
/// and views left are the policy in force the gate decides opens by ([`settled_in_force`]): every
/// scope is settled once, there.
pub fn link_status(site: &Site, gallery: &Gallery, link: &Link, gate: Status, wider: &[Status], now: i64) -> LinkStatus {
    let scope = Scope::link(&gallery.id, &link.name);
    let terms = scope.wider_terms(gallery);
    // What the next open will find: a change a publish made stale is already gone.
    let settled = settled_in_force(&link.policy, &gate.overrides, wider.iter().map(|w| &w.overrides), &terms);
    let mut notices = gate.notices;
    notices.extend(lapses(&gate.overrides, &settled.own));
    for ((w, name), s) in wider.iter().zip(scope.wider()).zip(&settled.wider) {
        let name = match name {
            Scope::Audience { audience, .. } => format!("audience {}/{audience}", gallery.id),
            _ => format!("gallery {}", gallery.id),
        };
        let lapsed = lapses(&w.overrides, s);
        notices.extend(w.notices.iter().cloned().chain(lapsed).map(|n| format!("{name}: {n}")));
    }
    let audience = link.audience();
    let effective = &settled.effective;
    let scope_overrides = |i: Option<usize>| i.and_then(|i| settled.wider.get(i).cloned()).unwrap_or_default();
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
        opens_at: effective.opens_at.filter(|at| *at > now),
        views: gate.views,
        views_left: effective.views_left(gate.views),
        first_open: gate.first_open,
        last_open: gate.last_open,
        overrides: settled.own.clone(),
        gallery_overrides: scope_overrides(wider.len().checked_sub(1)),
        audience_overrides: scope_overrides(audience.and(wider.len().checked_sub(2))),
        session_epoch: session_epoch(gate.session_epoch, wider.iter().map(|w| w.session_epoch)),
        // A hash left from before git dropped `password: required` opens nothing: not "set".
        password_set: link.policy.password && gate.password_set,
        notices,
        password_attack: gate.password_attack,
        devices: gate.devices,
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
    Failure::new(status, code, r.message(|t| gatefold_contract::time::for_owner(site, t)))
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
    /// `forwarded=1`: only links flagged "possibly forwarded".
    pub forwarded: bool,
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
            forwarded: matches!(given("forwarded"), Some("1" | "true")),
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

/// An audience as its row in the links list shows it: `gate` is its scope's object, `wider`
/// the gallery's, `activity` the gallery log's per-link answer.
pub fn audience_status(gallery: &Gallery, name: &str, gate: Status, wider: &Status, activity: &[rollup::LinkActivity]) -> Option<AudienceStatus> {
    let audience = gallery.audiences.get(name)?;
    let counted = rollup::audience_stats(gallery, &rollup::activity_by_link(activity)).into_iter().find(|a| a.name == name).unwrap_or_default();
    // Settled against its published terms, as every recipient's open settles it.
    let overrides = gate.overrides.settled(&audience.terms);
    let mut notices = gate.notices;
    notices.extend(lapses(&gate.overrides, &overrides));
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
        opens: st.opens_at.map(|at| gatefold_contract::owner::ShownExpiry { at, utc_offset: site.utc_offset_at(at), end_of_day: false }),
        expiry: st.expires_at.map(|at| crate::site::shown_expiry(site, &link.policy, at)),
        download: link.policy.download.any(),
        max_views: st.max_views,
        view_seconds: link.policy.view_seconds,
    }
}

#[cfg(test)]
pub(crate) mod tests;
