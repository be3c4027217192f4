// Decision tables spell their row type out where they are read; a type alias would hide the columns.
#![allow(clippy::type_complexity)]

use super::*;
use crate::token::ClientBinding;

const NOW: i64 = 1_800_000_000;

fn policy() -> LinkPolicy {
    LinkPolicy { max_views: Some(3), expires: Some(ResolvedExpiry::at_instant(NOW + 100)), download: Downloads::NONE, view_seconds: None, disabled: false, password: false, terms_fingerprint: None, opens_at: None, devices: None }
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
        ("an enable stored by an earlier version does not reopen a link published disabled", LinkPolicy { disabled: true, ..policy() }, Overrides { disabled: Some(false), ..none.clone() }, 0, NOW, Err(Denial::LinkDisabled)),
        ("lowered limit below current views", policy(), Overrides { max_views: Some(1), ..none.clone() }, 2, NOW, Err(Denial::ViewLimitReached)),
        ("zero-view limit override closes the link", policy(), Overrides { max_views: Some(0), ..none.clone() }, 0, NOW, Err(Denial::ViewLimitReached)),
    ];
    for (name, policy, overrides, views, now, expected) in table {
        let got = decide_open(&policy.effective(&overrides), views, now).map(|a| a.view_number);
        assert_eq!(got, expected, "{name}");
    }
}

#[test]
fn a_session_lasts_view_seconds_or_the_default() {
    let timed = LinkPolicy { view_seconds: Some(30), ..policy() };
    assert_eq!(decide_open(&timed.effective(&Overrides::default()), 0, NOW).unwrap().session_expires_at, NOW + 30);
    assert_eq!(decide_open(&policy().effective(&Overrides::default()), 0, NOW).unwrap().session_expires_at, NOW + i64::from(DEFAULT_SESSION_SECONDS));
    assert!(timed.effective(&Overrides::default()).session_end_is_final());
    assert!(!policy().effective(&Overrides::default()).session_end_is_final());
}

/// A session issued at `NOW - 10` lasting until `until`; `password`: admitted through it.
fn session(until: i64, password: bool) -> Session {
    Session { view_number: 1, issued_at: NOW - 10, expires_at: until, epoch: 0, client: ClientBinding::new("Chrome", "Windows"), password }
}

#[test]
fn requests_inside_a_session_follow_the_decision_table() {
    let none = Overrides::default();
    let dl = LinkPolicy { download: Downloads::ORIGINAL, ..policy() };
    let web = LinkPolicy { download: Downloads::WEB, ..policy() };
    let locked = LinkPolicy { password: true, ..policy() };
    let timed = |secs| LinkPolicy { view_seconds: Some(secs), ..policy() };
    // (case, policy, overrides, session's own end, access, now, decision); sessions were issued at NOW - 10
    let table: Vec<(&str, LinkPolicy, Overrides, i64, Access, i64, Result<(), Denial>)> = vec![
        ("view inside the session", policy(), none.clone(), NOW + 10, Access::View, NOW, Ok(())),
        ("session over", policy(), none.clone(), NOW + 10, Access::View, NOW + 10, Err(Denial::SessionExpired)),
        ("download refused where off", policy(), none.clone(), NOW + 10, Access::Download(DownloadSize::Original), NOW, Err(Denial::DownloadDisabled)),
        ("download allowed where on", dl.clone(), none.clone(), NOW + 10, Access::Download(DownloadSize::Original), NOW, Ok(())),
        ("web size refused where only originals are offered", dl.clone(), none.clone(), NOW + 10, Access::Download(DownloadSize::Web), NOW, Err(Denial::DownloadDisabled)),
        ("original refused where only the web size is offered", web.clone(), none.clone(), NOW + 10, Access::Download(DownloadSize::Original), NOW, Err(Denial::DownloadDisabled)),
        ("web size allowed where offered", web.clone(), none.clone(), NOW + 10, Access::Download(DownloadSize::Web), NOW, Ok(())),
        ("disable stops open sessions", dl.clone(), Overrides { disabled: Some(true), ..none.clone() }, NOW + 10, Access::View, NOW, Err(Denial::LinkDisabled)),
        ("expiry stops open sessions", dl.clone(), none.clone(), NOW + 1000, Access::View, NOW + 100, Err(Denial::LinkExpired)),
        ("limit does not stop admitted sessions", policy(), Overrides { max_views: Some(0), ..none.clone() }, NOW + 10, Access::View, NOW, Ok(())),
        ("a password published since refuses a session opened without it", locked.clone(), none.clone(), NOW + 10, Access::View, NOW, Err(Denial::PasswordRequired)),
        ("a password published since refuses its downloads too", LinkPolicy { download: Downloads::ORIGINAL, ..locked.clone() }, none.clone(), NOW + 10, Access::Download(DownloadSize::Original), NOW, Err(Denial::PasswordRequired)),
        ("a shorter view time published since ends an older session", timed(5), none.clone(), NOW + 1000, Access::View, NOW - 5, Err(Denial::SessionExpired)),
        ("a shorter view time leaves what is left of it", timed(30), none.clone(), NOW + 1000, Access::View, NOW + 19, Ok(())),
        ("a longer view time published since extends nothing", timed(3600), none.clone(), NOW + 10, Access::View, NOW + 10, Err(Denial::SessionExpired)),
        ("no view time any more: the default's end is later, the session's own holds", policy(), none.clone(), NOW + 10, Access::View, NOW + 10, Err(Denial::SessionExpired)),
    ];
    for (name, policy, overrides, until, access, now, expected) in table {
        assert_eq!(decide_in_session(&policy.effective(&overrides), &session(until, false), access, now), expected, "{name}");
    }
}

#[test]
fn a_password_link_keeps_the_sessions_admitted_through_its_password() {
    let locked = LinkPolicy { password: true, ..policy() }.effective(&Overrides::default());
    assert_eq!(decide_in_session(&locked, &session(NOW + 10, true), Access::View, NOW), Ok(()));
    assert_eq!(decide_in_session(&locked, &session(NOW + 10, false), Access::View, NOW), Err(Denial::PasswordRequired));
    let open = policy().effective(&Overrides::default());
    assert_eq!(decide_in_session(&open, &session(NOW + 10, true), Access::View, NOW), Ok(()), "loosening ends nothing");
}

#[test]
fn state_and_remaining_views_for_the_admin_page() {
    let e = policy().effective(&Overrides::default());
    assert_eq!(e.state(1, NOW), LinkState::Active);
    assert_eq!(e.views_left(1), Some(2));
    assert_eq!(e.views_left(7), Some(0));
    assert_eq!(e.state(3, NOW), LinkState::LimitReached);
    assert_eq!(serde_json::to_string(&LinkState::LimitReached).unwrap(), "\"limit_reached\"");
}

fn against<T>(published: Option<T>) -> Option<Against<T>> {
    Some(Against { published, fingerprint: None })
}

#[test]
fn overrides_hold_until_a_publish_changes_what_they_replaced() {
    let extended = Overrides { expires_at: Some(NOW + 1000), expires_against: against(Some(NOW + 100)), ..Overrides::default() };
    let raised = Overrides { max_views: Some(10), max_views_against: against(Some(3)), ..Overrides::default() };
    let republished = LinkPolicy { expires: Some(ResolvedExpiry::at_instant(NOW - 86_400)), max_views: Some(5), ..policy() };
    // (case, published policy, overrides, expiry in force, limit in force, disabled)
    let table: Vec<(&str, LinkPolicy, Overrides, Option<i64>, Option<u32>, bool)> = vec![
        ("no override: the published policy", policy(), Overrides::default(), Some(NOW + 100), Some(3), false),
        ("extension over the expiry it was made against", policy(), extended.clone(), Some(NOW + 1000), Some(3), false),
        ("a publish changed the expiry: the extension lapses", republished.clone(), extended.clone(), Some(NOW - 86_400), Some(5), false),
        ("a publish removed the expiry: the extension lapses", LinkPolicy { expires: None, ..policy() }, extended.clone(), None, Some(3), false),
        ("extension of a link that had no expiry", LinkPolicy { expires: None, ..policy() }, Overrides { expires_against: against(None), ..extended.clone() }, Some(NOW + 1000), Some(3), false),
        ("raised limit over the limit it was made against", policy(), raised.clone(), Some(NOW + 100), Some(10), false),
        ("a publish changed the limit: the raise lapses", republished.clone(), raised.clone(), Some(NOW - 86_400), Some(5), false),
        ("a publish changing the expiry leaves the limit's override", LinkPolicy { expires: Some(ResolvedExpiry::at_instant(NOW + 5)), ..policy() }, raised.clone(), Some(NOW + 5), Some(10), false),
        ("an override stored without memory holds", republished.clone(), Overrides { expires_at: Some(NOW + 1000), ..Overrides::default() }, Some(NOW + 1000), Some(5), false),
        ("YAML disable beats everything", LinkPolicy { disabled: true, ..policy() }, extended.clone(), Some(NOW + 1000), Some(3), true),
        ("runtime disable", policy(), Overrides { disabled: Some(true), ..Overrides::default() }, Some(NOW + 100), Some(3), true),
        ("a gallery's disable closes its link", policy(), Overrides::default().within(&Overrides { disabled: Some(true), ..Overrides::default() }), Some(NOW + 100), Some(3), true),
        ("a gallery without a disable leaves the link alone", policy(), extended.clone().within(&Overrides::default()), Some(NOW + 1000), Some(3), false),
    ];
    for (case, policy, overrides, expires_at, max_views, disabled) in table {
        let e = policy.effective(&overrides);
        assert_eq!((e.expires_at, e.max_views, e.disabled), (expires_at, max_views, disabled), "{case}");
    }
}

#[test]
fn settling_records_the_published_values_and_drops_lapsed_changes() {
    let legacy = Overrides { expires_at: Some(NOW + 1000), max_views: Some(9), disabled: Some(false), ..Overrides::default() };
    let settled = legacy.settled(&policy());
    assert_eq!(settled.expires_against, against(Some(NOW + 100)));
    assert_eq!(settled.max_views_against, against(Some(3)));
    assert_eq!(settled.disabled, None, "an old enable is no override");
    let after_publish = settled.settled(&LinkPolicy { expires: Some(ResolvedExpiry::at_instant(NOW + 7)), ..policy() });
    assert_eq!((after_publish.expires_at, after_publish.expires_against), (None, None));
    assert_eq!(after_publish.max_views, Some(9));
}

#[test]
fn owner_actions_follow_the_decision_table() {
    let none = Overrides::default();
    let limits = |expires_at, extend_days, max_views, force| Change::Limits { expires_at, extend_days, max_views, force };
    let day = 86_400;
    let yaml_off = LinkPolicy { disabled: true, ..policy() };
    let forever = LinkPolicy { expires: None, ..policy() };
    let extended = Overrides { expires_at: Some(NOW + 10 * day), expires_against: against(Some(NOW + 100)), ..none.clone() };
    // (case, policy, current, change, views, expiry in force after, limit after, refusal)
    type Row<'a> = (&'a str, LinkPolicy, Overrides, Change, u64, Result<(Option<i64>, Option<u32>, bool), Refusal>);
    let table: Vec<Row<'_>> = vec![
        ("disable", policy(), none.clone(), Change::Disable, 0, Ok((Some(NOW + 100), Some(3), true))),
        ("enable lifts a runtime disable", policy(), Overrides { disabled: Some(true), ..none.clone() }, Change::Enable, 0, Ok((Some(NOW + 100), Some(3), false))),
        ("enable of a link published disabled", yaml_off.clone(), none.clone(), Change::Enable, 0, Err(Refusal::DisabledInYaml)),
        ("days count from the expiry in force when later", policy(), extended.clone(), limits(None, Some(3), None, false), 0, Ok((Some(NOW + 13 * day), Some(3), false))),
        ("days count from now once expired", LinkPolicy { expires: Some(ResolvedExpiry::at_instant(NOW - day)), ..policy() }, none.clone(), limits(None, Some(3), None, false), 0, Ok((Some(NOW + 3 * day), Some(3), false))),
        ("days on a link that never expires would shorten it", forever.clone(), none.clone(), limits(None, Some(3), None, false), 0, Err(Refusal::ShortensExpiry { in_force: None, asked: NOW + 3 * day })),
        ("forced days on a link that never expires", forever.clone(), none.clone(), limits(None, Some(3), None, true), 0, Ok((Some(NOW + 3 * day), Some(3), false))),
        ("an earlier expiry needs force", policy(), extended.clone(), limits(Some(NOW + day), None, None, false), 0, Err(Refusal::ShortensExpiry { in_force: Some(NOW + 10 * day), asked: NOW + day })),
        ("an earlier expiry with force", policy(), extended.clone(), limits(Some(NOW + 50), None, None, true), 0, Ok((Some(NOW + 50), Some(3), false))),
        ("a past expiry is refused even with force", policy(), none.clone(), limits(Some(NOW - 1), None, None, true), 0, Err(Refusal::BadRequest("the new expiry (`expires`) has already passed; give a future date to extend the link".into()))),
        ("a limit above the views used", policy(), none.clone(), limits(None, None, Some(5), false), 2, Ok((Some(NOW + 100), Some(5), false))),
        ("a limit at the views used needs force", policy(), none.clone(), limits(None, None, Some(2), false), 2, Err(Refusal::LimitAtOrBelowViews { views: 2, asked: 2 })),
        ("a limit below the views used with force", policy(), none.clone(), limits(None, None, Some(1), true), 2, Ok((Some(NOW + 100), Some(1), false))),
        ("both kinds of expiry", policy(), none.clone(), limits(Some(NOW + day), Some(1), None, false), 0, Err(Refusal::BadRequest("give either an expiry or a number of days to extend by, not both".into()))),
        ("nothing", policy(), none.clone(), limits(None, None, None, false), 0, Err(Refusal::BadRequest("nothing to change: give an expiry, a number of days or a view limit".into()))),
    ];
    for (case, policy, current, change, views, expected) in table {
        let got = current.apply(&change, &policy, views, NOW, &[]).map(|o| {
            let e = policy.effective(&o);
            (e.expires_at, e.max_views, e.disabled)
        });
        assert_eq!(got, expected, "{case}");
    }
}

#[test]
fn a_change_remembers_the_published_value_it_replaced() {
    let next = Overrides::default().apply(&Change::Limits { expires_at: Some(NOW + 500), extend_days: None, max_views: Some(7), force: false }, &policy(), 0, NOW, &[]).unwrap();
    assert_eq!(next.expires_against, against(Some(NOW + 100)));
    assert_eq!(next.max_views_against, against(Some(3)));
}

#[test]
fn a_stored_shape_this_version_cannot_read_is_no_override_but_a_closed_link() {
    assert!(serde_json::from_str::<Overrides>(r#"{"disabled":true,"paused_until":9}"#).is_err(), "an unknown shape is not read as no override");
    assert!(Overrides::unreadable().is_disabled());
}

#[test]
fn refusals_name_their_effect() {
    let time = |t: i64| format!("@{t}");
    assert_eq!(Refusal::DisabledInYaml.message(time), "disabled in gallery.yaml: change it there");
    assert_eq!(Refusal::DisabledInYaml.status_and_code(), (409, "disabled_in_yaml"));
    assert!(Refusal::ShortensExpiry { in_force: Some(9), asked: 5 }.message(time).contains("@9; @5 is earlier"));
    assert!(Refusal::LimitAtOrBelowViews { views: 4, asked: 3 }.message(time).contains("4 views are used"));
}

#[test]
fn extending_by_days_counts_calendar_days_in_the_site_timezone() {
    // Berlin 2027: CET, then CEST from 28 March 01:00 UTC.
    let berlin: &UtcOffsets = &[(i64::MIN / 2, 3600), (1_806_195_600, 2 * 3600)];
    let end_of_27th = crate::expiry::parse_owner_expiry("2027-03-27", berlin).unwrap();
    let link = LinkPolicy { expires: Some(end_of_27th), ..policy() };
    let now = end_of_27th.at - 30 * 86_400;
    let one_day = Change::Limits { expires_at: None, extend_days: Some(1), max_views: None, force: false };
    let next = Overrides::default().apply(&one_day, &link, 0, now, berlin).unwrap();
    // The end of 2027-03-28 local time: midnight into the 29th, CEST (22:00 UTC), 23 hours on.
    assert_eq!(next.expires_at, Some(1_806_271_200));
}

#[test]
fn an_audiences_terms_are_the_widest_of_its_recipients() {
    let at = ResolvedExpiry::at_instant;
    let recipient = |expires: Option<i64>, max_views: Option<u32>| LinkPolicy { expires: expires.map(at), max_views, download: Downloads::ORIGINAL, ..policy() };
    let channel = widest_terms(&[recipient(Some(100), Some(20)), recipient(Some(300), Some(2))]);
    assert_eq!((channel.expires_at(), channel.max_views), (Some(300), Some(20)));
    assert_eq!(channel, LinkPolicy { expires: Some(at(300)), max_views: Some(20), ..GALLERY_TERMS.clone() }, "terms only: no downloads, view time or password");
    let press = widest_terms(&[recipient(None, Some(5)), recipient(Some(7), Some(3))]);
    assert_eq!((press.expires_at(), press.max_views), (None, Some(5)), "a recipient that never expires: the audience never does");
    assert_eq!(widest_terms(&Vec::new()), GALLERY_TERMS);
    // Extending the audience by a day starts from its last recipient's expiry.
    let next = Overrides::default().apply(&Change::Limits { expires_at: None, extend_days: Some(1), max_views: None, force: false }, &channel, 0, 50, &[]).unwrap();
    assert_eq!(next.expires_at, Some(300 + 86_400));
}

/// What an owner's forced change to a scope published with `terms` stores.
fn changed(terms: &LinkPolicy, expires_at: Option<i64>, max_views: Option<u32>) -> Overrides {
    let change = Change::Limits { expires_at, extend_days: None, max_views, force: true };
    Overrides::default().apply(&change, terms, 0, NOW, &[]).unwrap()
}

#[test]
fn the_policy_in_force_settles_every_scope_then_combines_them() {
    let day = 86_400;
    // A recipient published to expire at NOW + 100 with 3 views, in an audience declaring the
    // same terms, in a gallery (no terms of its own).
    let link = policy();
    let terms = audience_terms(&link, [&link]);
    let republished = LinkPolicy { expires: Some(ResolvedExpiry::at_instant(NOW - 2 * day)), ..policy() };
    let republished_terms = audience_terms(&republished, [&republished]);
    let four = LinkPolicy { max_views: Some(4), ..policy() };
    let none = Overrides::default();
    let closed = Overrides { disabled: Some(true), ..none.clone() };
    let extended = |to: i64| Overrides { expires_at: Some(to), expires_against: against(Some(NOW + 100)), ..none.clone() };
    let audience_extended = changed(&terms, Some(NOW + 30 * day), None);
    let audience_raised = changed(&terms, None, Some(10));
    let legacy = Overrides { expires_at: Some(NOW + 9 * day), ..none.clone() };
    let gallery_limit = Overrides { max_views: Some(50), max_views_against: against(None), ..none.clone() };
    // (case, link's policy, own, audience terms, audience's, gallery's) → (expiry, limit, disabled)
    type Row<'a> = (&'a str, LinkPolicy, Overrides, LinkPolicy, Overrides, Overrides, (Option<i64>, Option<u32>, bool));
    let table: Vec<Row<'_>> = vec![
        ("nothing changed: the published policy", link.clone(), none.clone(), terms.clone(), none.clone(), none.clone(), (Some(NOW + 100), Some(3), false)),
        ("an audience's extension reaches its recipient", link.clone(), none.clone(), terms.clone(), audience_extended.clone(), none.clone(), (Some(NOW + 30 * day), Some(3), false)),
        ("a republish moving the audience's terms makes its extension lapse", republished.clone(), none.clone(), republished_terms.clone(), audience_extended.clone(), none.clone(), (Some(NOW - 2 * day), Some(3), false)),
        ("a republish moving the audience's limit makes its raise lapse", four.clone(), none.clone(), audience_terms(&four, [&four]), audience_raised.clone(), none.clone(), (Some(NOW + 100), Some(4), false)),
        ("an audience's raise over unchanged terms holds", link.clone(), none.clone(), terms.clone(), audience_raised.clone(), none.clone(), (Some(NOW + 100), Some(10), false)),
        ("the link's own change wins over its audience's", link.clone(), extended(NOW + day), terms.clone(), audience_extended.clone(), none.clone(), (Some(NOW + day), Some(3), false)),
        ("a republish of the recipient makes its own change and its audience's lapse alike", republished.clone(), extended(NOW + day), republished_terms.clone(), audience_extended.clone(), none.clone(), (Some(NOW - 2 * day), Some(3), false)),
        ("an audience's change stored without memory lapses: its terms have a fingerprint", link.clone(), none.clone(), terms.clone(), legacy.clone(), none.clone(), (Some(NOW + 100), Some(3), false)),
        ("an audience's change recorded without a fingerprint (an earlier version's) lapses", link.clone(), none.clone(), terms.clone(), extended(NOW + 30 * day), none.clone(), (Some(NOW + 100), Some(3), false)),
        ("the audience fills in before the gallery", link.clone(), none.clone(), terms.clone(), audience_raised.clone(), gallery_limit.clone(), (Some(NOW + 100), Some(10), false)),
        ("a gallery's limit (no published terms) holds through publishes", republished.clone(), none.clone(), republished_terms.clone(), none.clone(), gallery_limit.clone(), (Some(NOW - 2 * day), Some(50), false)),
        ("an audience's disable closes its recipient", link.clone(), none.clone(), terms.clone(), closed.clone(), none.clone(), (Some(NOW + 100), Some(3), true)),
        ("a gallery's disable closes it", link.clone(), extended(NOW + day), terms.clone(), none.clone(), closed.clone(), (Some(NOW + day), Some(3), true)),
        ("an unreadable wider state closes it", link.clone(), none.clone(), terms.clone(), Overrides::unreadable(), none.clone(), (Some(NOW + 100), Some(3), true)),
        ("YAML's disable beats every runtime change", LinkPolicy { disabled: true, ..policy() }, Overrides { disabled: Some(false), ..none.clone() }, terms.clone(), audience_extended.clone(), none.clone(), (Some(NOW + 30 * day), Some(3), true)),
    ];
    for (case, policy, own, terms, audience, gallery, expected) in table {
        let e = in_force(
            Scoped { terms: &policy, overrides: &own },
            &[Scoped { terms: &terms, overrides: &audience }, Scoped { terms: &GALLERY_TERMS, overrides: &gallery }],
        );
        assert_eq!((e.expires_at, e.max_views, e.disabled), expected, "{case}");
        assert_eq!((e.download, e.view_seconds, e.password), (policy.download, policy.view_seconds, policy.password), "{case}: the link's own");
    }
}

#[test]
fn an_audiences_change_lapses_when_a_publish_moves_its_terms_under_a_recipient_with_its_own() {
    let day = 86_400;
    let expiring = |at: i64| Some(ResolvedExpiry::at_instant(at));
    // The audience declares NOW + 100 with 5 views; one recipient has its own later expiry and
    // larger limit, so the widest terms are that recipient's before and after every publish.
    let declared = LinkPolicy { max_views: Some(5), ..policy() };
    let own_row = LinkPolicy { expires: expiring(NOW + 400 * day), max_views: Some(30), ..declared.clone() };
    let recipient = declared.clone();
    let terms = audience_terms(&declared, [&recipient, &own_row]);
    let extended = Overrides::default()
        .apply(&Change::Limits { expires_at: None, extend_days: Some(30), max_views: None, force: false }, &terms, 0, NOW, &[])
        .unwrap();
    assert_eq!(extended.expires_at, Some(NOW + 430 * day), "extended from the widest terms");
    let raised = changed(&terms, None, Some(50));
    // (case, the recipient as republished, the audience as republished, audience's change) → (expiry, limit)
    let closed_audience = LinkPolicy { expires: expiring(NOW - 2 * day), ..declared.clone() };
    let one_view = LinkPolicy { max_views: Some(1), ..declared.clone() };
    let table: Vec<(&str, LinkPolicy, LinkPolicy, Overrides, (Option<i64>, Option<u32>))> = vec![
        ("unchanged: the extension holds", recipient.clone(), declared.clone(), extended.clone(), (Some(NOW + 430 * day), Some(5))),
        ("the audience's expiry moved into the past: the extension lapses", closed_audience.clone(), closed_audience.clone(), extended.clone(), (Some(NOW - 2 * day), Some(5))),
        ("unchanged: the raise holds", recipient.clone(), declared.clone(), raised.clone(), (Some(NOW + 100), Some(50))),
        ("the audience's limit moved down to one view: the raise lapses", one_view.clone(), one_view.clone(), raised.clone(), (Some(NOW + 100), Some(1))),
    ];
    for (case, recipient, declared, audience, expected) in table {
        let republished = audience_terms(&declared, [&recipient, &own_row]);
        assert_eq!((republished.expires_at(), republished.max_views), (terms.expires_at(), terms.max_views), "{case}: the widest terms never moved");
        let e = in_force(Scoped { terms: &recipient, overrides: &Overrides::default() }, &[Scoped { terms: &republished, overrides: &audience }]);
        assert_eq!((e.expires_at, e.max_views), expected, "{case}");
    }
    // The row with its own terms: the lapsed extension gives it back its own expiry.
    let republished = audience_terms(&closed_audience, [&closed_audience, &own_row]);
    let e = in_force(Scoped { terms: &own_row, overrides: &Overrides::default() }, &[Scoped { terms: &republished, overrides: &extended }]);
    assert_eq!(e.expires_at, Some(NOW + 400 * day));
}

#[test]
fn an_audiences_fingerprint_moves_with_any_recipients_terms_but_not_with_a_recipient_like_another() {
    let declared = policy();
    let other = LinkPolicy { max_views: Some(9), ..policy() };
    let fingerprint = |recipients: &[&LinkPolicy]| audience_terms(&declared, recipients.iter().copied()).terms_fingerprint.unwrap();
    let base = fingerprint(&[&declared, &other]);
    assert_eq!(fingerprint(&[&other, &declared, &declared]), base, "one more recipient with terms another has");
    assert_ne!(fingerprint(&[&declared]), base, "the only recipient with its own terms removed");
    assert_ne!(fingerprint(&[&declared, &LinkPolicy { max_views: Some(10), ..policy() }]), base, "a recipient's limit moved");
    assert_ne!(audience_terms(&other, [&declared, &other]).terms_fingerprint.unwrap(), base, "the audience's declared terms moved");
}

#[test]
fn the_policy_in_force_shows_each_scope_as_it_settled_it() {
    let terms = audience_terms(&policy(), [&policy()]);
    let stale = Overrides { max_views: Some(10), max_views_against: against(Some(2)), ..Overrides::default() };
    let audience = changed(&terms, None, Some(7));
    let got = InForce::of(Scoped { terms: &policy(), overrides: &stale }, &[Scoped { terms: &terms, overrides: &audience }]);
    assert_eq!(got.own.max_views, None, "the link's own raise lapsed");
    assert_eq!(got.wider, vec![audience.clone()]);
    assert_eq!(got.effective.max_views, Some(7));
}

#[test]
fn one_scope_alone_is_its_effective_policy() {
    let own = Overrides { expires_at: Some(NOW + 1000), max_views: Some(9), ..Overrides::default() };
    assert_eq!(in_force(Scoped { terms: &policy(), overrides: &own }, &[]), policy().effective(&own));
}

#[test]
fn before_its_opening_a_link_is_not_yet_open_and_from_that_second_it_opens() {
    let scheduled = LinkPolicy { opens_at: Some(ResolvedExpiry::at_instant(NOW + 10)), expires: Some(ResolvedExpiry::at_instant(NOW + 100)), ..policy() };
    let e = scheduled.effective(&Overrides::default());
    assert_eq!(decide_open(&e, 0, NOW + 9), Err(Denial::NotYetOpen));
    assert_eq!(e.state(0, NOW + 9), LinkState::NotYetOpen);
    assert_eq!(decide_open(&e, 0, NOW + 10).map(|a| a.view_number), Ok(1));
    assert_eq!(serde_json::to_string(&LinkState::NotYetOpen).unwrap(), "\"not_yet_open\"");
    // Disabled and expired are the reasons the owner can act on first.
    assert_eq!(decide_open(&LinkPolicy { disabled: true, ..scheduled.clone() }.effective(&Overrides::default()), 0, NOW), Err(Denial::LinkDisabled));
    let session = Session { view_number: 1, issued_at: NOW, expires_at: NOW + 1000, epoch: 0, client: ClientBinding::new("Chrome", "Windows"), password: false };
    assert_eq!(decide_in_session(&e, &session, Access::View, NOW + 5), Err(Denial::NotYetOpen), "a session cannot predate the opening");
}

#[test]
fn open_now_lifts_the_opening_until_a_publish_moves_it() {
    let offsets = [(i64::MIN / 2, 8 * 3600)];
    let scheduled = LinkPolicy { opens_at: Some(ResolvedExpiry::at_instant(NOW + 500)), ..policy() };
    let opened = Overrides::default().apply(&Change::OpenNow, &scheduled, 0, NOW, &offsets).unwrap();
    assert_eq!(decide_open(&scheduled.effective(&opened), 0, NOW).map(|a| a.view_number), Ok(1));
    assert!(matches!(opened.apply(&Change::OpenNow, &scheduled, 0, NOW, &offsets), Err(Refusal::BadRequest(_))), "already open");
    assert!(matches!(Overrides::default().apply(&Change::OpenNow, &policy(), 0, NOW, &offsets), Err(Refusal::BadRequest(_))), "nothing scheduled");
    let moved = LinkPolicy { opens_at: Some(ResolvedExpiry::at_instant(NOW + 900)), ..policy() };
    assert_eq!(decide_open(&moved.effective(&opened), 0, NOW), Err(Denial::NotYetOpen), "a publish moving the moment takes over");
    assert_eq!(opened.settled(&moved).opened_early, None);
}

#[test]
fn added_views_raise_the_limit_in_force_and_lapse_like_a_raise() {
    let used_up = Overrides::default().apply(&Change::Limits { expires_at: None, extend_days: None, max_views: Some(5), force: false }, &policy(), 3, NOW, &[]).unwrap();
    let next = used_up.apply(&Change::AddViews { views: 10 }, &policy(), 5, NOW, &[]).unwrap();
    assert_eq!(next.max_views, Some(15), "5 in force + 10");
    assert_eq!(next.max_views_against, used_up.max_views_against, "judged against the published limit, so a publish that moves it lapses the raise");
    let unlimited = LinkPolicy { max_views: None, ..policy() };
    assert!(matches!(Overrides::default().apply(&Change::AddViews { views: 10 }, &unlimited, 0, NOW, &[]), Err(Refusal::BadRequest(_))));
}
