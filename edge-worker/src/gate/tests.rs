use super::*;
use gatefold_contract::policy::Against;

#[test]
fn scopes_name_their_objects_without_colliding_with_links() {
    for scope in [Scope::link("spring", "market"), Scope::gallery("spring"), Scope::Audience { gallery: "spring".into(), audience: "dealers".into() }] {
        assert_eq!(Scope::from_object_name(&scope.object_name()), Some(scope.clone()));
    }
    assert_eq!(Scope::gallery("spring").object_name(), "spring/*");
    assert_eq!(Scope::link("spring", "market").legacy_mirror_key().as_deref(), Some("overrides/spring/market"));
    assert_eq!(Scope::gallery("spring").legacy_mirror_key(), None);
    assert_eq!(Scope::link("spring", "market").wider(), vec![Scope::gallery("spring")]);
}

#[test]
fn a_recipient_link_round_trips_and_has_its_audience_and_gallery_as_wider_scopes() {
    let recipient = Scope::link("launch-a", "channel/dealer-001");
    assert_eq!(recipient.object_name(), "launch-a/channel/dealer-001");
    assert_eq!(Scope::from_object_name("launch-a/channel/dealer-001"), Some(recipient.clone()));
    assert_eq!(recipient.wider(), vec![Scope::audience("launch-a", "channel"), Scope::gallery("launch-a")]);
    assert_eq!(Scope::audience("launch-a", "channel").object_name(), "launch-a/@channel");
    assert_eq!(recipient.legacy_mirror_key(), None, "no earlier version knew recipients");
    assert!(Scope::audience("launch-a", "channel").wider().is_empty());
    for bad in ["launch-a", "launch-a/", "/x", "launch-a/a/b/c", "launch-a//b", "launch-a/a/", "launch-a/@", "launch-a/@a/b", "launch-a/a/@b", "launch-a/a/*", "@x/y"] {
        assert_eq!(Scope::from_object_name(bad), None, "{bad}");
    }
}

#[test]
fn wider_scopes_disable_and_fill_in_what_the_link_leaves_unset() {
    let audience = Overrides { expires_at: Some(500), max_views: Some(9), expires_against: Some(Against { published: None }), ..Overrides::default() };
    let gallery = Overrides::default();
    let plain = under_wider(Overrides::default(), [&audience, &gallery]);
    assert_eq!((plain.expires_at, plain.max_views, plain.expires_against, plain.is_disabled()), (Some(500), Some(9), None, false));
    let own = Overrides { expires_at: Some(100), ..Overrides::default() };
    let narrower_wins = under_wider(own, [&audience, &gallery]);
    assert_eq!((narrower_wins.expires_at, narrower_wins.max_views), (Some(100), Some(9)));
    let closed = Overrides { disabled: Some(true), ..Overrides::default() };
    assert!(under_wider(Overrides { disabled: Some(false), ..Overrides::default() }, [&closed, &gallery]).is_disabled());
    assert!(under_wider(Overrides::default(), [&gallery, &Overrides::unreadable()]).is_disabled(), "an unreadable wider state closes the link");
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
    assert_eq!(Mirror::read(ok), LinkRuntime { overrides: Overrides::default(), session_epoch: 3 });
    for unknown in [r#"{"shape":2,"overrides":{},"session_epoch":3}"#, r#"{"shape":1,"overrides":{"paused":true},"session_epoch":0}"#, "not json"] {
        assert!(Mirror::read(unknown).overrides.is_disabled(), "{unknown}");
    }
}
