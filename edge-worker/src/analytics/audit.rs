//! The audit log of owner actions and the follow-up lists: pure parts, tested natively.
//!
//! Every owner action through the admin API leaves one [`AuditEntry`] in its gallery's
//! `GalleryLog` (table `audit`). The handler words what the action changed with [`Terms`]
//! read before and after it ([`changes`]), so the log says "expires 2026-12-01 23:59 →
//! 2026-12-08 23:59", never the request body (a password never reaches it).

use crate::analytics::rollup::LinkActivity;
use gatefold_contract::admin::{AUDIT_MAX_ACTION, AUDIT_MAX_STATE, AUDIT_MAX_TARGET, Activity, AuditEntry, FollowUpLink, LinkStatus};
use gatefold_contract::manifest::{Gallery, Site};
use gatefold_contract::owner::ShownExpiry;
use gatefold_contract::LinkState;

/// Keeps at most `max` characters.
fn cut(s: &mut String, max: usize) {
    if let Some((at, _)) = s.char_indices().nth(max) {
        s.truncate(at);
    }
}

/// The entry as the log stores it: every text field cut to its cap, whatever arrives.
pub fn bounded(mut e: AuditEntry) -> AuditEntry {
    cut(&mut e.action, AUDIT_MAX_ACTION);
    cut(&mut e.target, AUDIT_MAX_TARGET);
    for s in [&mut e.before, &mut e.after, &mut e.device, &mut e.actor].into_iter().flatten() {
        cut(s, AUDIT_MAX_STATE);
    }
    if let Some(ip) = &mut e.ip {
        // The access log's IP column cap (the longest IPv6 text form).
        cut(ip, 45);
    }
    e
}

/// What an owner action can change on a link, an audience or a gallery.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Terms {
    /// `active`, `disabled`, `expired`, `limit_reached`.
    pub state: String,
    pub expires_at: Option<i64>,
    pub max_views: Option<u32>,
    /// Moves on at every revoke.
    pub sessions: u32,
    /// Whether a password is set, for links that need one.
    pub password: Option<bool>,
}

pub fn state_name(s: LinkState) -> &'static str {
    match s {
        LinkState::Active => "active",
        LinkState::Disabled => "disabled",
        LinkState::Expired => "expired",
        LinkState::LimitReached => "limit_reached",
    }
}

impl Terms {
    pub fn of_link(st: &LinkStatus) -> Terms {
        Terms {
            state: state_name(st.state).into(),
            expires_at: st.expires_at,
            max_views: st.max_views,
            sessions: st.session_epoch,
            password: st.policy.password.then_some(st.password_set),
        }
    }
}

impl Terms {
    /// An audience's or a gallery's scope: its own state, its terms over `policy` (the
    /// audience's published terms; a gallery scope has none), settled once by `effective`.
    pub fn of_scope(policy: &gatefold_contract::LinkPolicy, st: &crate::gate::Status) -> Terms {
        let eff = policy.effective(&st.overrides);
        Terms {
            state: if eff.disabled { "disabled" } else { "active" }.into(),
            expires_at: eff.expires_at,
            max_views: eff.max_views,
            sessions: st.session_epoch,
            password: None,
        }
    }
}

/// An expiry in the site timezone as owners gave it: a date's end shows as its 23:59.
fn expiry_text(site: &Site, at: Option<i64>) -> String {
    let Some(at) = at else { return "expires never".into() };
    let e = ShownExpiry::at_instant(at, site.utc_offset_at(at));
    let shown = if e.end_of_day { at - 60 } else { at } + i64::from(e.utc_offset);
    chrono::DateTime::from_timestamp(shown, 0).map_or_else(|| format!("expires {at}"), |t| format!("expires {}", t.format("%Y-%m-%d %H:%M")))
}

fn views_text(max: Option<u32>) -> String {
    max.map_or_else(|| "views unlimited".into(), |n| format!("views {n}"))
}

/// Before and after, naming only what changed (the state alone when nothing did, e.g. a
/// disable of a link already disabled).
pub fn changes(site: &Site, before: &Terms, after: &Terms) -> (Option<String>, Option<String>) {
    let mut b = Vec::new();
    let mut a = Vec::new();
    if before.state != after.state {
        b.push(before.state.clone());
        a.push(after.state.clone());
    }
    if before.expires_at != after.expires_at {
        b.push(expiry_text(site, before.expires_at));
        a.push(expiry_text(site, after.expires_at));
    }
    if before.max_views != after.max_views {
        b.push(views_text(before.max_views));
        a.push(views_text(after.max_views));
    }
    if before.sessions != after.sessions {
        b.push(format!("sessions {}", before.sessions));
        a.push(format!("sessions {}", after.sessions));
    }
    if before.password != after.password {
        let word = |p: Option<bool>| if p == Some(true) { "password set" } else { "no password" };
        b.push(word(before.password).into());
        a.push(word(after.password).into());
    }
    if b.is_empty() {
        return (Some(before.state.clone()), Some(after.state.clone()));
    }
    (Some(b.join(", ")), Some(a.join(", ")))
}

/// A PATCH's action name from what it asks: `extend` (the expiry), `raise` (the view limit),
/// `extend_raise` (both).
pub fn patch_action(expiry: bool, views: bool) -> &'static str {
    match (expiry, views) {
        (true, true) => "extend_raise",
        (false, true) => "raise",
        _ => "extend",
    }
}

/// Who the follow-up lists a link under, if anyone: never opened, or opened without a
/// download where downloads are on. Links that no longer open are nobody to remind.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FollowUpKind {
    NotOpened,
    NotDownloaded,
}

pub fn follow_up_kind(st: &LinkStatus, activity: Activity) -> Option<FollowUpKind> {
    if st.state != LinkState::Active {
        return None;
    }
    match activity {
        Activity::Neither => Some(FollowUpKind::NotOpened),
        Activity::Opened if st.policy.download.any() => Some(FollowUpKind::NotDownloaded),
        _ => None,
    }
}

/// One follow-up row: first and last open from the log, views left from the status.
pub fn follow_up_link(st: &LinkStatus, did: Option<&LinkActivity>) -> FollowUpLink {
    FollowUpLink {
        name: st.name.clone(),
        label: st.label.clone(),
        first_open: did.and_then(|d| d.first_ms).map(|ms| ms.div_euclid(1000)),
        last_open: did.and_then(|d| d.last_ms).map(|ms| ms.div_euclid(1000)),
        views_left: st.views_left,
    }
}

/// The group order of a follow-up: the gallery's plain links first, then its audiences.
pub fn group_names(gallery: &Gallery) -> Vec<Option<String>> {
    std::iter::once(None).chain(gallery.audiences.keys().cloned().map(Some)).collect()
}

/// A link's activity from the log's rows (`Neither` when it has none).
pub fn activity_of(rows: &std::collections::HashMap<&str, &LinkActivity>, link: &str) -> Activity {
    rows.get(link).map_or(Activity::Neither, |a| a.activity())
}

#[cfg(test)]
mod tests {
    use super::*;
    use gatefold_contract::{LinkPolicy, Overrides};

    /// The admin API tests' site: Asia/Shanghai, `ip_logging: truncated`.
    fn shanghai() -> Site {
        crate::admin::api::tests::shanghai()
    }

    #[test]
    fn every_field_of_an_entry_is_cut_to_its_cap_whatever_arrives() {
        let huge = "é".repeat(5_000);
        let e = bounded(AuditEntry { at: 1, action: huge.clone(), target: huge.clone(), before: Some(huge.clone()), after: Some(huge.clone()), ip: Some(huge.clone()), device: Some(huge.clone()), actor: Some(huge) });
        assert_eq!(e.action.chars().count(), AUDIT_MAX_ACTION);
        assert_eq!(e.target.chars().count(), AUDIT_MAX_TARGET);
        for f in [&e.before, &e.after, &e.device, &e.actor] {
            assert_eq!(f.as_ref().unwrap().chars().count(), AUDIT_MAX_STATE);
        }
        assert_eq!(e.ip.unwrap().chars().count(), 45);
    }

    fn terms(state: &str) -> Terms {
        Terms { state: state.into(), ..Terms::default() }
    }

    #[test]
    fn each_action_words_only_what_it_changed() {
        let s = shanghai();
        // 2026-12-02 00:00 and 2026-12-09 00:00 in Shanghai: ends of 1 and 8 December.
        let (dec1, dec8) = (1_796_140_800, 1_796_745_600);
        let base = Terms { expires_at: Some(dec1), max_views: Some(20), ..terms("active") };
        let said = |after: Terms| changes(&s, &base, &after);
        assert_eq!(said(Terms { expires_at: Some(dec8), ..base.clone() }), (Some("expires 2026-12-01 23:59".into()), Some("expires 2026-12-08 23:59".into())));
        assert_eq!(said(Terms { max_views: Some(30), ..base.clone() }), (Some("views 20".into()), Some("views 30".into())));
        assert_eq!(said(Terms { state: "disabled".into(), ..base.clone() }), (Some("active".into()), Some("disabled".into())));
        assert_eq!(said(Terms { sessions: 1, ..base.clone() }), (Some("sessions 0".into()), Some("sessions 1".into())));
        assert_eq!(said(Terms { max_views: None, expires_at: Some(dec1 + 3600), ..base.clone() }).1, Some("expires 2026-12-02 01:00, views unlimited".into()));
        let locked = Terms { password: Some(false), ..base.clone() };
        assert_eq!(changes(&s, &locked, &Terms { password: Some(true), ..base.clone() }), (Some("no password".into()), Some("password set".into())));
        assert_eq!(changes(&s, &Terms { password: Some(true), ..base.clone() }, &locked).1, Some("no password".into()));
        assert_eq!(said(base.clone()), (Some("active".into()), Some("active".into())), "a no-op still says the state");
        assert_eq!(said(Terms { expires_at: None, ..base.clone() }).1, Some("expires never".into()));
    }

    #[test]
    fn a_patch_is_named_by_what_it_asks() {
        assert_eq!(patch_action(true, false), "extend");
        assert_eq!(patch_action(false, true), "raise");
        assert_eq!(patch_action(true, true), "extend_raise");
    }

    fn status(state: LinkState, download: bool) -> LinkStatus {
        let mut policy = LinkPolicy::default();
        policy.download = if download { gatefold_contract::policy::Downloads::ORIGINAL } else { gatefold_contract::policy::Downloads::NONE };
        LinkStatus {
            gallery: "g".into(),
            gallery_title: "G".into(),
            name: "a/r".into(),
            label: "R".into(),
            audience: Some("a".into()),
            activity: None,
            url: "https://g.example/s/x".into(),
            policy,
            overrides: Overrides::default(),
            gallery_overrides: Overrides::default(),
            audience_overrides: Overrides::default(),
            state,
            expires_at: None,
            max_views: Some(5),
            views: 2,
            views_left: Some(3),
            first_open: None,
            last_open: None,
            session_epoch: 0,
            password_set: false,
            notices: vec![],
            password_attack: None,
        }
    }

    #[test]
    fn follow_up_lists_the_unopened_and_the_opened_without_download_where_download_is_on() {
        use Activity::*;
        assert_eq!(follow_up_kind(&status(LinkState::Active, true), Neither), Some(FollowUpKind::NotOpened));
        assert_eq!(follow_up_kind(&status(LinkState::Active, true), Opened), Some(FollowUpKind::NotDownloaded));
        assert_eq!(follow_up_kind(&status(LinkState::Active, false), Opened), None, "nothing to download");
        assert_eq!(follow_up_kind(&status(LinkState::Active, false), Neither), Some(FollowUpKind::NotOpened));
        assert_eq!(follow_up_kind(&status(LinkState::Active, true), Downloaded), None);
        for closed in [LinkState::Disabled, LinkState::Expired, LinkState::LimitReached] {
            assert_eq!(follow_up_kind(&status(closed, true), Neither), None, "{closed:?}: nothing to remind");
        }
        let did = LinkActivity { link: "a/r".into(), opens: 2, downloads: 0, first_ms: Some(5_000), last_ms: Some(9_999) };
        let row = follow_up_link(&status(LinkState::Active, true), Some(&did));
        assert_eq!((row.first_open, row.last_open, row.views_left), (Some(5), Some(9), Some(3)));
    }
}
