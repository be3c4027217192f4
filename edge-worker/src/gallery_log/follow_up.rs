//! Who to remind: the follow-up lists of links never opened, or opened without a download
//! where downloads are on, from the links' status and the access log's activity. Pure.

use super::rollup::LinkActivity;
use gatefold_contract::LinkState;
use gatefold_contract::admin::{Activity, FollowUpLink, LinkStatus};
use gatefold_contract::manifest::Gallery;

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
            opens_at: None,
            views: 2,
            views_left: Some(3),
            first_open: None,
            last_open: None,
            session_epoch: 0,
            password_set: false,
            notices: vec![],
            password_attack: None,
            devices: Default::default(),
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
