//! The admin API: its paths ([`ApiRoute`], parsed and built in one place, [`ROUTES`] for the
//! admin page) and its JSON, what the worker answers under `/admin/api/` and what the CLI and
//! the admin page read. Times are Unix seconds unless a field name says `_ms`.

use crate::{LinkPolicy, LinkState, Overrides};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

mod route;
pub use route::{ApiRoute, Endpoint, NoRoute, ROUTES};

/// Prefix of every admin API route: the paths of [`ROUTES`] are under it.
pub const API_PREFIX: &str = "/admin/api/";

/// `GET /admin/api/links?gallery=&audience=&state=&q=&offset=&limit=`: one page of links.
///
/// `gallery`, `audience` and `q` filter on the published site; only the page's links have
/// their runtime state asked, and `state` is applied to those answers. A recipient's link
/// (named `<audience>/<recipient>`) comes right after the others of its audience, and the
/// audiences of the page's recipients come in `audiences`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LinksResponse {
    /// The site timezone (IANA name) the admin page shows times in.
    pub timezone: String,
    pub links: Vec<LinkStatus>,
    /// Links matching `gallery` and `q` (before `state`, which needs each link's runtime state).
    pub total: usize,
    /// Where this page starts, in the `gallery` + `q` matches.
    pub offset: usize,
    /// The `offset` of the next page; `None` at the end.
    pub next_offset: Option<usize>,
    /// Every gallery of the site, for the filter, whatever the query.
    pub galleries: Vec<GallerySummary>,
    /// The audiences of the recipients on this page (and the one filtered on), in site order.
    #[serde(default)]
    pub audiences: Vec<AudienceStatus>,
}

/// An audience as owners see it: one row above its recipients, acted on as a whole with one
/// write (`/admin/api/audiences/<gallery>/<audience>/…`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AudienceStatus {
    pub gallery: String,
    pub name: String,
    pub label: String,
    pub recipients: u32,
    /// Recipients with at least one admitted open, and with at least one download, as the
    /// gallery's access log holds them (its retention).
    pub opened: u32,
    pub downloaded: u32,
    /// The audience scope's own runtime changes (they apply to each recipient that has none of
    /// its own; its disable closes them all).
    pub overrides: Overrides,
    /// Closed by the audience's or the gallery's disable.
    pub disabled: bool,
    pub notices: Vec<String>,
}

/// What a recipient did with their link, from the gallery's access log.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Activity {
    /// Never opened.
    Neither,
    /// Opened, nothing downloaded.
    Opened,
    /// Downloaded at least one file.
    Downloaded,
}

impl Activity {
    pub fn of(opens: u64, downloads: u64) -> Activity {
        match (opens, downloads) {
            (_, 1..) => Activity::Downloaded,
            (1.., 0) => Activity::Opened,
            (0, 0) => Activity::Neither,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Activity::Neither => "neither",
            Activity::Opened => "opened",
            Activity::Downloaded => "downloaded",
        }
    }
}
/// A gallery as the links filter lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GallerySummary {
    pub id: String,
    pub title: String,
    /// How many links it has.
    pub links: usize,
    /// How many audiences of recipients (0: no mail-merge file).
    #[serde(default)]
    pub audiences: usize,
}

/// Links per page when the query gives no `limit`.
pub const LINKS_PAGE_DEFAULT: usize = 50;
/// The largest `limit` answered.
pub const LINKS_PAGE_MAX: usize = 100;

/// One link as owners see it: published policy, runtime changes and what is left.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LinkStatus {
    pub gallery: String,
    pub gallery_title: String,
    /// `<link>`, or `<audience>/<recipient>` for a recipient's link.
    pub name: String,
    pub label: String,
    /// The audience of a recipient's link.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub audience: Option<String>,
    /// A recipient's activity (recipients' links only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub activity: Option<Activity>,
    pub url: String,
    pub policy: LinkPolicy,
    /// The link's own runtime changes.
    pub overrides: Overrides,
    /// Runtime changes made to the whole gallery (one write for all its links).
    pub gallery_overrides: Overrides,
    /// Runtime changes made to a recipient's whole audience (one write for all its recipients).
    #[serde(default)]
    pub audience_overrides: Overrides,
    pub state: LinkState,
    /// Expiry and limit in force (published policy with overrides applied).
    pub expires_at: Option<i64>,
    pub max_views: Option<u32>,
    /// When it opens (`opens_at:` published, not opened early by the owner); `None`: open.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub opens_at: Option<i64>,
    pub views: u64,
    /// `None` when the link is unlimited.
    pub views_left: Option<u64>,
    pub first_open: Option<i64>,
    pub last_open: Option<i64>,
    /// Moves on at every revoke (the link's, or its whole audience's); sessions issued before
    /// it are over.
    pub session_epoch: u32,
    /// Whether the owner has set the password of a link with `password: required` (until then
    /// it answers `password_not_set`). Always false for links without one.
    #[serde(default)]
    pub password_set: bool,
    /// What the owner must know: a stored state this version cannot read (the link answers
    /// disabled), a runtime change a publish made lapse, a mirror write that failed.
    pub notices: Vec<String>,
    /// A password attack going on now (wrong passwords from more networks than a recipient
    /// has, within the last hour): the admin page shows it on the link with its figures.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub password_attack: Option<PasswordAttack>,
    /// The devices the link admitted, the owner's extra allowance, and its "possibly
    /// forwarded" flag with its evidence (the admin page's badge and filter).
    #[serde(default)]
    pub devices: crate::devices::DeviceSummary,
}

/// A distributed guess at a link's password: its wrong tries within the last hour and the
/// networks (IPv4 /24s, IPv6 /48s) they came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct PasswordAttack {
    pub wrong: u32,
    pub networks: u32,
}

/// `POST /admin/api/galleries/<gallery>/disable|enable`: the gallery's own runtime state.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GalleryStatus {
    pub gallery: String,
    pub overrides: Overrides,
    pub notices: Vec<String>,
}

/// `PATCH /admin/api/links/<gallery>/<link>`: extend the expiry and/or change the view limit.
/// Exactly one way of giving the expiry may be used. A change that closes the link sooner (an
/// expiry earlier than the one in force, a limit at or below the views used) answers 409
/// `needs_force` naming the effect unless `force` is set.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct LinkPatch {
    /// Unix seconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<i64>,
    /// `2026-12-31` (valid through the end of that day in the site timezone) or RFC 3339.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires: Option<String>,
    /// Days added to the later of now and the expiry in force.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub extend_days: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_views: Option<u32>,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub force: bool,
}

/// Every admin API error: `{"error": "<code>", "message": "<English sentence>"}`, and for a
/// refused weak password a generated passphrase to offer (`suggestion`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApiError {
    pub error: String,
    pub message: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub suggestion: Option<String>,
}

/// `GET /admin/api/passphrase`: a freshly generated passphrase (`contract::passphrase`), and
/// `GET /admin/api/whoami`: who the API takes the caller for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Passphrase {
    pub passphrase: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WhoAmI {
    /// The Cloudflare Access e-mail, or `token`; `null` when the request carried neither a
    /// token nor an Access assertion (the page asks before showing its sign-in form).
    pub actor: Option<String>,
}

/// A label and how often it occurred.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Count {
    pub key: String,
    pub count: u64,
}

/// The longest per-day series a window gives whole (a little over a year, the default access
/// log retention); see [`GalleryStats::opens_per_day`].
pub const MAX_SERIES_DAYS: i64 = 400;

/// `GET /admin/api/galleries/<gallery>/stats`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct GalleryStats {
    pub gallery: String,
    pub gallery_title: String,
    /// The window asked for, Unix seconds, `to` exclusive.
    pub from: i64,
    pub to: i64,
    /// Only this link's events, when asked for.
    pub link: Option<String>,
    /// The timezone days and hours are bucketed in.
    pub timezone: String,
    pub totals: Totals,
    /// Admitted opens per local day (`YYYY-MM-DD`), oldest first: every day of the window,
    /// zero where nothing happened, the first and the last day included. A window longer than
    /// [`MAX_SERIES_DAYS`] (the default "from the beginning") starts at the first day with
    /// opens instead and ends no later than [`MAX_SERIES_DAYS`] days on, or the last day
    /// with opens.
    pub opens_per_day: Vec<Count>,
    /// Admitted opens per local hour of day, index 0 = 00:00–00:59.
    pub opens_per_hour: Vec<u64>,
    /// Admitted opens per local weekday and hour: 7 rows, Monday first (ISO 8601), of 24
    /// hours each, index 0 = 00:00–00:59, in the site timezone.
    #[serde(default)]
    pub opens_by_weekday_hour: Vec<Vec<u64>>,
    /// Admitted opens by country (ISO code, `unknown` when the edge did not say), most first.
    pub countries: Vec<Count>,
    /// `City, CC`, most first.
    pub cities: Vec<Count>,
    pub devices: Vec<Count>,
    pub os: Vec<Count>,
    pub browsers: Vec<Count>,
    /// Referrer host, or `(direct)`.
    pub referrers: Vec<Count>,
    /// Every image of the gallery in gallery order.
    pub images: Vec<ImageStats>,
    /// Every link of the gallery (or the one asked for).
    pub links: Vec<LinkStats>,
    /// Links without a single admitted open ever.
    pub never_opened: Vec<String>,
    /// Every audience of the gallery (or the asked link's) with its recipients' activity.
    #[serde(default)]
    pub audiences: Vec<AudienceStats>,
}

/// An audience's recipients by activity, from the gallery's access log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct AudienceStats {
    pub name: String,
    pub label: String,
    pub recipients: u32,
    pub opened: u32,
    pub downloaded: u32,
    /// Neither opened nor downloaded.
    pub neither: u32,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct Totals {
    pub opens_admitted: u64,
    /// All refused opens.
    pub opens_denied: u64,
    /// Refused requests of every kind (opens, downloads, images) by denial code.
    pub denied_by_reason: BTreeMap<String, u64>,
    /// Distinct visitors among admitted opens; a visitor is an IP + browser on one day.
    pub unique_visitors: u64,
    pub downloads: u64,
    pub image_views: u64,
    /// Link-preview bots answered with the title-only page.
    pub previews: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct ImageStats {
    pub id: String,
    pub file_name: String,
    /// Full-size views.
    pub views: u64,
    pub downloads: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct LinkStats {
    pub name: String,
    pub label: String,
    /// A recipient's audience and own name (the two parts of `name`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub audience: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recipient: Option<String>,
    /// A recipient's activity ever (not limited to the window; recipients' links only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub activity: Option<Activity>,
    /// First admitted open ever, as the log holds it.
    #[serde(default)]
    pub first_open: Option<i64>,
    pub opens_admitted: u64,
    pub opens_denied: u64,
    pub image_views: u64,
    pub downloads: u64,
    /// Last admitted open ever (not limited to the window), as the gallery's access log holds
    /// it: one query for every link, however many recipients.
    pub last_open: Option<i64>,
}

/// One owner action as the gallery's audit log keeps it (`GalleryLog`, table `audit`):
/// `POST /audit` takes it, `GET /admin/api/galleries/<g>/audit` answers [`AuditLog`].
/// Text fields are cut to [`AUDIT_MAX_ACTION`], [`AUDIT_MAX_TARGET`] and
/// [`AUDIT_MAX_STATE`] characters when stored, like the access log's.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditEntry {
    /// Unix milliseconds.
    pub at: i64,
    /// `disable`, `enable`, `extend`, `raise`, `revoke`, `password_set`, `export_csv`, …
    pub action: String,
    /// `<g>/<link>`, `<g>/<audience>/<recipient>`, `<g>/@<audience>` or `<g>`.
    pub target: String,
    /// The state or terms before the action, and after it (`active` → `disabled`, `views 20`
    /// → `views 30`); a refused change has `refused: <code>` after.
    pub before: Option<String>,
    pub after: Option<String>,
    /// As much of the owner's IP as the site's `ip_logging` keeps.
    pub ip: Option<String>,
    /// The owner's device as the access log describes a User-Agent.
    pub device: Option<String>,
    /// Who acted: the Cloudflare Access e-mail, or `token` for the admin token. Absent in
    /// entries recorded before it was kept.
    #[serde(default)]
    pub actor: Option<String>,
}

pub const AUDIT_MAX_ACTION: usize = 32;
pub const AUDIT_MAX_TARGET: usize = 200;
pub const AUDIT_MAX_STATE: usize = 200;
/// Most entries one audit answer holds (newest first): narrow `from`/`to` for older ones.
pub const AUDIT_PAGE_MAX: u32 = 500;

/// `GET /admin/api/galleries/<gallery>/audit?from&to`: newest first, at most [`AUDIT_PAGE_MAX`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditLog {
    pub entries: Vec<AuditEntry>,
}

/// `GET /admin/api/galleries/<gallery>/follow-up`: whom to remind, grouped by audience
/// (plain links in a group of their own, `audience: None`), from the gallery log's one
/// activity query. Links that no longer open (disabled, expired, used up) are left out.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FollowUp {
    pub gallery: String,
    pub gallery_title: String,
    pub timezone: String,
    pub groups: Vec<FollowUpGroup>,
    /// Access requests waiting for an answer, newest first.
    #[serde(default)]
    pub requests: Vec<crate::requests::AccessRequest>,
    /// Links flagged "possibly forwarded" (newest first), one line each in the panel.
    #[serde(default)]
    pub forwarded: Vec<ForwardedLink>,
}

/// A link flagged "possibly forwarded", with its evidence.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ForwardedLink {
    pub name: String,
    pub label: String,
    pub forwarding: crate::devices::Forwarding,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FollowUpGroup {
    /// The audience, `None` for the gallery's plain links.
    pub audience: Option<String>,
    pub label: String,
    /// Never opened.
    pub not_opened: Vec<FollowUpLink>,
    /// Opened but nothing downloaded, where download is on.
    pub not_downloaded: Vec<FollowUpLink>,
    /// The ready-to-send reminder in the site locale (the owner kit's template).
    pub reminder: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FollowUpLink {
    pub name: String,
    pub label: String,
    pub first_open: Option<i64>,
    pub last_open: Option<i64>,
    /// `None` when unlimited.
    pub views_left: Option<u64>,
}

/// `POST /admin/api/requests/<id>/grant`'s answer: the request, answered, and its link as it now
/// stands (the same URL and QR code open again).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GrantAnswer {
    pub request: crate::requests::AccessRequest,
    pub link: LinkStatus,
}

/// `POST /admin/api/notify/test`'s answer: one row per channel tried.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NotifyTestAnswer {
    pub channels: Vec<NotifyTestChannel>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NotifyTestChannel {
    pub to: crate::notify::Platform,
    pub url_secret: String,
    /// The (first) gallery declaring the channel.
    pub gallery: String,
    /// The platform's HTTP status; `None` when nothing was sent (a secret missing, no answer).
    pub status: Option<u16>,
    pub ok: bool,
    /// The platform's answer (an excerpt) or why nothing was sent.
    pub detail: String,
}

/// `GET /admin/api/galleries/<g>/notifications`: what waits to be sent and what was given up.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NotificationStatus {
    /// Notices waiting to be sent (or retried); on the digest coordinator, also the galleries
    /// still to be asked for their digest. Zero: nothing more goes out until something happens.
    pub pending: u64,
    /// Newest first.
    pub dead_letters: Vec<DeadLetter>,
}

/// A notification given up on after its retries (or at once, when its channel's secret is
/// missing).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeadLetter {
    /// The notice's idempotency key.
    pub id: String,
    pub to: crate::notify::Platform,
    pub url_secret: String,
    pub kind: crate::notify::NotifyKind,
    /// The link it was about (empty for the gallery).
    pub link: String,
    /// When it was given up (Unix ms).
    pub at: i64,
    pub attempts: u32,
    /// The last HTTP status, if any answer came.
    pub status: Option<u16>,
    /// Why: the last answer's excerpt or the missing secret.
    pub reason: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_patch_rejects_fields_it_does_not_know() {
        assert!(serde_json::from_str::<LinkPatch>(r#"{"max_views": 5}"#).is_ok());
        assert!(serde_json::from_str::<LinkPatch>(r#"{"max_view": 5}"#).is_err());
    }

    #[test]
    fn an_empty_patch_serialises_to_an_empty_object() {
        assert_eq!(serde_json::to_string(&LinkPatch::default()).unwrap(), "{}");
    }
}
