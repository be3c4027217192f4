//! Link policy: what the owner published in YAML, what they changed at runtime, and the
//! decisions the worker takes on every open and every gated request.
//!
//! The worker's Durable Object calls [`decide_open`] inside its single-threaded critical
//! section, so check-and-increment is one atomic step (the bug peers ship when they check
//! the limit and increment separately).

use crate::Denial;
use crate::expiry::ResolvedExpiry;
use serde::{Deserialize, Serialize};

/// How long a visitor's session lasts when the link sets no `view_seconds`.
/// When such a session ends, coming back is simply a new open.
pub const DEFAULT_SESSION_SECONDS: u32 = 12 * 60 * 60;

/// The policy published for one link, with site defaults already applied and dates already
/// resolved to instants by the generator.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct LinkPolicy {
    /// Opens allowed in total; `None` means unlimited.
    pub max_views: Option<u32>,
    /// When the link starts answering `link_expired`, as the owner wrote it and as an instant;
    /// `None` means never.
    pub expires: Option<ResolvedExpiry>,
    /// Whether originals may be downloaded. Display images are always shown.
    pub download: bool,
    /// Length of a visitor's session. When set, the session ends for good after this many
    /// seconds (`session_expired`); when unset a session lasts [`DEFAULT_SESSION_SECONDS`].
    pub view_seconds: Option<u32>,
    /// Published as disabled (the link's own `disabled` or its gallery's).
    pub disabled: bool,
}

/// Changes an owner made at runtime through the admin API. They sit on top of the published
/// policy, survive republishing, and are only cleared by the owner.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(default, deny_unknown_fields)]
pub struct Overrides {
    /// `Some(true)` disables, `Some(false)` enables even a link published as disabled.
    pub disabled: Option<bool>,
    /// Replaces the published expiry (Unix seconds).
    pub expires_at: Option<i64>,
    /// Replaces the published view limit.
    pub max_views: Option<u32>,
}

impl Overrides {
    pub fn is_empty(&self) -> bool {
        *self == Overrides::default()
    }
}

/// The policy in force: published policy with overrides applied.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Effective {
    pub max_views: Option<u32>,
    pub expires_at: Option<i64>,
    pub download: bool,
    pub view_seconds: Option<u32>,
    pub disabled: bool,
}

impl LinkPolicy {
    /// Unix seconds from which the link answers `link_expired`; `None` means never.
    pub fn expires_at(&self) -> Option<i64> {
        self.expires.map(|e| e.at)
    }

    pub fn effective(&self, overrides: &Overrides) -> Effective {
        Effective {
            max_views: overrides.max_views.or(self.max_views),
            expires_at: overrides.expires_at.or(self.expires_at()),
            download: self.download,
            view_seconds: self.view_seconds,
            disabled: overrides.disabled.unwrap_or(self.disabled),
        }
    }
}

/// A link's state as owners see it in the admin page.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LinkState {
    Active,
    Disabled,
    Expired,
    LimitReached,
}

impl Effective {
    pub fn is_expired(&self, now: i64) -> bool {
        self.expires_at.is_some_and(|at| now >= at)
    }

    pub fn is_used_up(&self, views: u64) -> bool {
        self.max_views.is_some_and(|max| views >= u64::from(max))
    }

    /// Disabled beats expired beats used up: the reason shown is the one the owner can act on first.
    pub fn state(&self, views: u64, now: i64) -> LinkState {
        if self.disabled {
            LinkState::Disabled
        } else if self.is_expired(now) {
            LinkState::Expired
        } else if self.is_used_up(views) {
            LinkState::LimitReached
        } else {
            LinkState::Active
        }
    }

    pub fn views_remaining(&self, views: u64) -> Option<u64> {
        self.max_views.map(|max| u64::from(max).saturating_sub(views))
    }

    pub fn session_seconds(&self) -> u32 {
        self.view_seconds.unwrap_or(DEFAULT_SESSION_SECONDS)
    }

    /// Whether a visitor whose session ran out is refused (`session_expired`) rather than
    /// counted as a new open.
    pub fn session_end_is_final(&self) -> bool {
        self.view_seconds.is_some()
    }
}

/// A granted open: the view number it used and when its session ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Admission {
    /// 1 for the link's first open, and so on: unique per link.
    pub view_number: u64,
    pub session_expires_at: i64,
    /// The link's session epoch, which the new session carries. `decide_open` does not know
    /// it (it is the link's runtime state): the `LinkGate` fills it in.
    #[serde(default)]
    pub session_epoch: u32,
}

/// Decides a new open. `views` is the count before this open; on success the caller stores
/// `admission.view_number` as the new count.
pub fn decide_open(policy: &LinkPolicy, overrides: &Overrides, views: u64, now: i64) -> Result<Admission, Denial> {
    let effective = policy.effective(overrides);
    match effective.state(views, now) {
        LinkState::Disabled => Err(Denial::LinkDisabled),
        LinkState::Expired => Err(Denial::LinkExpired),
        LinkState::LimitReached => Err(Denial::ViewLimitReached),
        LinkState::Active => Ok(Admission {
            view_number: views + 1,
            session_expires_at: now + i64::from(effective.session_seconds()),
            session_epoch: 0,
        }),
    }
}

/// What a gated request asks for, beyond the page itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// The gallery page, thumbnails and display-size images.
    View,
    /// An original file.
    Download,
}

/// Decides a request made inside an admitted session. The view limit does not apply here:
/// the session already paid for its open. Disable and expiry do, so switching a link off
/// also stops sessions that are already open.
pub fn decide_in_session(
    policy: &LinkPolicy,
    overrides: &Overrides,
    session_expires_at: i64,
    access: Access,
    now: i64,
) -> Result<(), Denial> {
    let effective = policy.effective(overrides);
    if effective.disabled {
        return Err(Denial::LinkDisabled);
    }
    if effective.is_expired(now) {
        return Err(Denial::LinkExpired);
    }
    if now >= session_expires_at {
        return Err(Denial::SessionExpired);
    }
    if access == Access::Download && !effective.download {
        return Err(Denial::DownloadDisabled);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: i64 = 1_800_000_000;

    fn policy() -> LinkPolicy {
        LinkPolicy { max_views: Some(3), expires: Some(ResolvedExpiry::at_instant(NOW + 100)), download: false, view_seconds: None, disabled: false }
    }

    #[test]
    fn opens_follow_the_decision_table() {
        let none = Overrides::default();
        let table: Vec<(&str, LinkPolicy, Overrides, u64, i64, Result<u64, Denial>)> = vec![
            ("fresh link admits its first view", policy(), none.clone(), 0, NOW, Ok(1)),
            ("last allowed view", policy(), none.clone(), 2, NOW, Ok(3)),
            ("limit reached", policy(), none.clone(), 3, NOW, Err(Denial::ViewLimitReached)),
            ("expired exactly at the instant", policy(), none.clone(), 0, NOW + 100, Err(Denial::LinkExpired)),
            ("disabled beats expired", LinkPolicy { disabled: true, ..policy() }, none.clone(), 9, NOW + 500, Err(Denial::LinkDisabled)),
            ("expired beats used up", policy(), none.clone(), 9, NOW + 500, Err(Denial::LinkExpired)),
            ("unlimited and never expiring", LinkPolicy { max_views: None, expires: None, ..policy() }, none.clone(), 1_000_000, NOW, Ok(1_000_001)),
            ("raised limit admits again", policy(), Overrides { max_views: Some(10), ..none.clone() }, 3, NOW, Ok(4)),
            ("extended expiry admits again", policy(), Overrides { expires_at: Some(NOW + 1000), ..none.clone() }, 0, NOW + 500, Ok(1)),
            ("runtime disable", policy(), Overrides { disabled: Some(true), ..none.clone() }, 0, NOW, Err(Denial::LinkDisabled)),
            ("runtime enable of a link published disabled", LinkPolicy { disabled: true, ..policy() }, Overrides { disabled: Some(false), ..none.clone() }, 0, NOW, Ok(1)),
            ("lowered limit below current views", policy(), Overrides { max_views: Some(1), ..none.clone() }, 2, NOW, Err(Denial::ViewLimitReached)),
            ("zero-view limit override closes the link", policy(), Overrides { max_views: Some(0), ..none.clone() }, 0, NOW, Err(Denial::ViewLimitReached)),
        ];
        for (name, policy, overrides, views, now, expected) in table {
            let got = decide_open(&policy, &overrides, views, now).map(|a| a.view_number);
            assert_eq!(got, expected, "{name}");
        }
    }

    #[test]
    fn a_session_lasts_view_seconds_or_the_default() {
        let timed = LinkPolicy { view_seconds: Some(30), ..policy() };
        assert_eq!(decide_open(&timed, &Overrides::default(), 0, NOW).unwrap().session_expires_at, NOW + 30);
        assert_eq!(
            decide_open(&policy(), &Overrides::default(), 0, NOW).unwrap().session_expires_at,
            NOW + i64::from(DEFAULT_SESSION_SECONDS)
        );
        assert!(timed.effective(&Overrides::default()).session_end_is_final());
        assert!(!policy().effective(&Overrides::default()).session_end_is_final());
    }

    #[test]
    fn requests_inside_a_session_follow_the_decision_table() {
        let none = Overrides::default();
        let dl = LinkPolicy { download: true, ..policy() };
        let table: Vec<(&str, LinkPolicy, Overrides, i64, Access, i64, Result<(), Denial>)> = vec![
            ("view inside the session", policy(), none.clone(), NOW + 10, Access::View, NOW, Ok(())),
            ("session over", policy(), none.clone(), NOW + 10, Access::View, NOW + 10, Err(Denial::SessionExpired)),
            ("download refused where off", policy(), none.clone(), NOW + 10, Access::Download, NOW, Err(Denial::DownloadDisabled)),
            ("download allowed where on", dl.clone(), none.clone(), NOW + 10, Access::Download, NOW, Ok(())),
            ("disable stops open sessions", dl.clone(), Overrides { disabled: Some(true), ..none.clone() }, NOW + 10, Access::View, NOW, Err(Denial::LinkDisabled)),
            ("expiry stops open sessions", dl.clone(), none.clone(), NOW + 1000, Access::View, NOW + 100, Err(Denial::LinkExpired)),
            ("limit does not stop admitted sessions", policy(), Overrides { max_views: Some(0), ..none.clone() }, NOW + 10, Access::View, NOW, Ok(())),
        ];
        for (name, policy, overrides, until, access, now, expected) in table {
            assert_eq!(decide_in_session(&policy, &overrides, until, access, now), expected, "{name}");
        }
    }

    #[test]
    fn state_and_remaining_views_for_the_admin_page() {
        let e = policy().effective(&Overrides::default());
        assert_eq!(e.state(1, NOW), LinkState::Active);
        assert_eq!(e.views_remaining(1), Some(2));
        assert_eq!(e.views_remaining(7), Some(0));
        assert_eq!(e.state(3, NOW), LinkState::LimitReached);
        assert_eq!(serde_json::to_string(&LinkState::LimitReached).unwrap(), "\"limit_reached\"");
    }
}
