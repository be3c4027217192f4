use super::mirror::{Mirror, Mirrored};
use super::*;
use gatefold_contract::manifest::{Audience, Gallery};
use gatefold_contract::policy::GALLERY_TERMS;

#[test]
fn scopes_name_their_objects_without_colliding_with_links() {
    for scope in [Scope::link("spring", "market"), Scope::gallery("spring"), Scope::Audience { gallery: "spring".into(), audience: "dealers".into() }] {
        assert_eq!(Scope::from_object_name(&scope.object_name()), Some(scope.clone()));
    }
    assert_eq!(Scope::gallery("spring").object_name(), "spring/*");
    assert_eq!(Scope::link("spring", "market").wider(), vec![Scope::gallery("spring")]);
}

#[test]
fn a_recipient_link_round_trips_and_has_its_audience_and_gallery_as_wider_scopes() {
    let recipient = Scope::link("launch-a", "channel/dealer-001");
    assert_eq!(recipient.object_name(), "launch-a/channel/dealer-001");
    assert_eq!(Scope::from_object_name("launch-a/channel/dealer-001"), Some(recipient.clone()));
    assert_eq!(recipient.wider(), vec![Scope::audience("launch-a", "channel"), Scope::gallery("launch-a")]);
    assert_eq!(Scope::audience("launch-a", "channel").object_name(), "launch-a/@channel");
    assert!(Scope::audience("launch-a", "channel").wider().is_empty());
    for bad in ["launch-a", "launch-a/", "/x", "launch-a/a/b/c", "launch-a//b", "launch-a/a/", "launch-a/@", "launch-a/@a/b", "launch-a/a/@b", "launch-a/a/*", "@x/y"] {
        assert_eq!(Scope::from_object_name(bad), None, "{bad}");
    }
}

#[test]
fn a_recipients_wider_terms_are_its_audiences_then_the_gallerys() {
    let audience = LinkPolicy { max_views: Some(20), ..LinkPolicy::default() };
    let mut gallery = Gallery { id: "launch-a".into(), title: "Launch".into(), images: vec![], links: Default::default(), audiences: Default::default(), notify: vec![] };
    gallery.audiences.insert("channel".into(), Audience { label: "Dealers".into(), recipients: 1, terms: audience.clone() });
    assert_eq!(Scope::link("launch-a", "channel/dealer-001").wider_terms(&gallery), vec![&audience, &GALLERY_TERMS]);
    assert_eq!(Scope::link("launch-a", "team").wider_terms(&gallery), vec![&GALLERY_TERMS]);
    assert_eq!(Scope::link("launch-a", "gone/dealer-001").wider_terms(&gallery), vec![&GALLERY_TERMS, &GALLERY_TERMS], "an audience the record lacks has no terms");
}

#[test]
fn a_wider_scope_without_terms_still_closes_the_link() {
    let closed = Overrides { disabled: Some(true), ..Overrides::default() };
    let policy = LinkPolicy::default();
    assert!(policy_in_force(&policy, &Overrides::default(), [&Overrides::default(), &closed], &[]).disabled);
    assert!(policy_in_force(&policy, &Overrides::default(), [&Overrides::unreadable()], &[&policy]).disabled, "an unreadable wider state closes the link");
}

#[test]
fn a_revoke_at_any_scope_leaves_every_earlier_session_behind() {
    // (link, audience, gallery) epochs: each revoke moves one on.
    let issued = session_epoch(2, [0, 0]);
    for (after, label) in [(session_epoch(3, [0, 0]), "link revoked"), (session_epoch(2, [1, 0]), "audience revoked"), (session_epoch(2, [0, 1]), "gallery revoked")] {
        assert!(issued < after, "{label}");
    }
    assert_eq!(session_epoch(u32::MAX, [1]), u32::MAX);
}

#[test]
fn a_mirror_in_an_unknown_shape_reads_as_disabled() {
    let ok = r#"{"shape":1,"overrides":{"disabled":null,"expires_at":null,"max_views":null},"session_epoch":3}"#;
    assert_eq!(Mirror::read(ok), Mirrored { overrides: Overrides::default(), session_epoch: 3 });
    for unknown in [r#"{"shape":2,"overrides":{},"session_epoch":3}"#, r#"{"shape":1,"overrides":{"paused":true},"session_epoch":0}"#, "not json"] {
        assert!(Mirror::read(unknown).overrides.is_disabled(), "{unknown}");
    }
}
