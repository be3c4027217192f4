//! The audit log's room: the `audit` table of owner actions (with who acted), and how the
//! admin API words an action.
//!
//! Every owner action through the admin API leaves one [`AuditEntry`] in its gallery's log.
//! The handler words what the action changed with [`Terms`] read before and after it
//! ([`changes`]), so the log says "expires 2026-12-01 23:59 → 2026-12-08 23:59", never the
//! request body (a password never reaches it).

use gatefold_contract::admin::{AUDIT_MAX_ACTION, AUDIT_MAX_STATE, AUDIT_MAX_TARGET, AUDIT_PAGE_MAX, AuditEntry, AuditLog, LinkStatus};
use gatefold_contract::manifest::Site;
use gatefold_contract::owner::ShownExpiry;
use gatefold_contract::time::WallTime;
use gatefold_contract::{LinkPolicy, LinkState, Overrides};
use serde::Deserialize;
use worker::{Result, SqlStorage, SqlStorageValue as V};

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS audit (id INTEGER PRIMARY KEY, at INTEGER NOT NULL, action TEXT NOT NULL, target TEXT NOT NULL,
  before TEXT, after TEXT, ip TEXT, device TEXT);
CREATE INDEX IF NOT EXISTS audit_at ON audit(at);
";

/// Creates the table, and adds the `actor` column to a log written before it was recorded.
pub fn create(sql: &SqlStorage) -> Result<()> {
    sql.exec(SCHEMA, None)?;
    #[derive(Deserialize)]
    struct Info {
        name: String,
    }
    let columns: Vec<String> = sql.exec("PRAGMA table_info(audit)", None)?.to_array::<Info>()?.into_iter().map(|i| i.name).collect();
    if !columns.iter().any(|c| c == "actor") {
        sql.exec("ALTER TABLE audit ADD COLUMN actor TEXT", None)?;
    }
    Ok(())
}

/// Stores one owner action, and drops entries older than the access log's retention (the
/// audit log is small: a few rows per owner action, pruned at each write).
pub fn record(sql: &SqlStorage, e: &AuditEntry, retention_days: u32) -> Result<()> {
    sql.exec(
        "INSERT INTO audit (at, action, target, before, after, ip, device, actor) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        vec![
            V::from(e.at),
            V::from(e.action.as_str()),
            V::from(e.target.as_str()),
            V::from(e.before.clone()),
            V::from(e.after.clone()),
            V::from(e.ip.clone()),
            V::from(e.device.clone()),
            V::from(e.actor.clone()),
        ],
    )?;
    let cutoff = e.at - i64::from(retention_days) * 86_400_000;
    sql.exec("DELETE FROM audit WHERE at < ?", vec![V::from(cutoff)])?;
    Ok(())
}

#[derive(Deserialize)]
struct AuditRow {
    at: i64,
    action: String,
    target: String,
    before: Option<String>,
    after: Option<String>,
    ip: Option<String>,
    device: Option<String>,
    actor: Option<String>,
}

/// Owner actions in `[from, to)` (Unix ms), newest first, at most [`AUDIT_PAGE_MAX`].
pub fn read(sql: &SqlStorage, from: i64, to: i64) -> Result<AuditLog> {
    let rows = sql
        .exec(
            "SELECT at, action, target, before, after, ip, device, actor FROM audit WHERE at >= ? AND at < ? ORDER BY at DESC, id DESC LIMIT ?",
            vec![V::from(from), V::from(to), V::from(i64::from(AUDIT_PAGE_MAX))],
        )?
        .to_array::<AuditRow>()?;
    let entries = rows
        .into_iter()
        .map(|r| AuditEntry { at: r.at, action: r.action, target: r.target, before: r.before, after: r.after, ip: r.ip, device: r.device, actor: r.actor })
        .collect();
    Ok(AuditLog { entries })
}

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
    /// `active`, `disabled`, `expired`, `limit_reached`, `not_yet_open`.
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
        LinkState::NotYetOpen => "not_yet_open",
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
    /// An audience's or a gallery's scope: its own state (its `overrides` and session epoch),
    /// its terms over `policy` (the audience's published terms; a gallery scope has none),
    /// settled once by `effective`.
    pub fn of_scope(policy: &LinkPolicy, overrides: &Overrides, session_epoch: u32) -> Terms {
        let eff = policy.effective(overrides);
        Terms {
            state: if eff.disabled { "disabled" } else { "active" }.into(),
            expires_at: eff.expires_at,
            max_views: eff.max_views,
            sessions: session_epoch,
            password: None,
        }
    }
}

/// An expiry in the site timezone as owners gave it: a date's end shows as its 23:59.
fn expiry_text(site: &Site, at: Option<i64>) -> String {
    let Some(at) = at else { return "expires never".into() };
    let e = ShownExpiry::at_instant(at, site.utc_offset_at(at));
    let shown = WallTime::with_offset(if e.end_of_day { at - 60 } else { at }, e.utc_offset);
    format!("expires {}", shown.minute())
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

#[cfg(test)]
mod tests {
    use super::*;
    use gatefold_contract::Locale;
    use gatefold_contract::manifest::IpLogging;

    /// A site in Asia/Shanghai.
    fn shanghai() -> Site {
        Site {
            title: "t".into(),
            base_url: "https://g.example/".into(),
            default_locale: Locale::ZhCn,
            timezone: "Asia/Shanghai".into(),
            ip_logging: IpLogging::Truncated,
            utc_offsets: vec![(i64::MIN, 8 * 3600)],
            dev_key: false,
            key_fingerprint: String::new(),
            analytics: Default::default(),
            digest_hour: gatefold_contract::notify::DEFAULT_DIGEST_HOUR,
        }
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
}
