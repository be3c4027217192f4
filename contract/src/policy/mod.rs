//! Link policy: what the owner published in YAML, what they changed at runtime, and the
//! decisions the worker takes on every open and every gated request.
//!
//! [`in_force`] is the one composition of a link's policy in force from its published terms,
//! its own runtime changes and its wider scopes' (audience, gallery), each settled against the
//! terms its scope was published with. Every reader uses it: the gate's opens and password
//! unlocks, in-session checks, bots and HEAD, the admin API and the daily digest.
//!
//! The worker's Durable Object calls [`decide_open`] inside its single-threaded critical
//! section, so check-and-increment is one atomic step (the bug peers ship when they check
//! the limit and increment separately).

use crate::Denial;
use crate::expiry::{ResolvedExpiry, UtcOffsets, add_local_days};
use crate::token::Session;
use serde::{Deserialize, Serialize};

mod downloads;
pub use downloads::{DownloadSize, Downloads};

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
    /// What may be downloaded (originals, web-size JPEGs, both or nothing). Display images
    /// are always shown.
    pub download: Downloads,
    /// Length of a visitor's session. When set, the session ends for good after this many
    /// seconds (`session_expired`); when unset a session lasts [`DEFAULT_SESSION_SECONDS`].
    pub view_seconds: Option<u32>,
    /// Published as disabled (the link's own `disabled` or its gallery's).
    pub disabled: bool,
    /// `password: required`: no open without the password the owner set at runtime (git
    /// never holds it); until one is set the link answers `password_not_set`.
    #[serde(default)]
    pub password: bool,
    /// Set on an audience's terms only ([`audience_terms`]): a fingerprint of every expiry and
    /// view limit its recipients were published with. A runtime change to the audience records
    /// it and lapses once a publish changes it, as a link's own change lapses once its published
    /// value changes. `None` on a link's own policy and on [`GALLERY_TERMS`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub terms_fingerprint: Option<String>,
    /// `opens_at:` — before this instant the link answers `not_yet_open` (no view, no session).
    /// The latest of the link's own, its audience's and its gallery's: the generator composes
    /// them, so the most restrictive wins. `None`: open from the publish.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub opens_at: Option<ResolvedExpiry>,
    /// `devices: N`: the link opens on the first N devices only (`device_limit` for one more);
    /// `None`: any number (the forwarding rule still watches them).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub devices: Option<u8>,
}

/// Changes an owner made at runtime through the admin API, at one scope (a link, or a whole
/// gallery). They sit on top of the published policy under three rules:
/// - disabled wins from either side: YAML or a runtime disable closes the link, and a runtime
///   enable only lifts a runtime disable (`Some(false)`, which earlier versions stored to
///   reopen a link published disabled, reads as no override);
/// - a runtime expiry or view limit remembers the published value it was made against and
///   lapses once a publish changes that value (the newer decision in git wins);
/// - an override without that memory (stored by an earlier version) holds until the next
///   owner action or open records it.
///
/// A wider scope's overrides follow the same rules against that scope's own published terms
/// ([`Scoped`]): an audience's against its [`audience_terms`] (their fingerprint, so an
/// audience's override without that memory lapses instead), a gallery's against
/// [`GALLERY_TERMS`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(default, deny_unknown_fields)]
pub struct Overrides {
    /// `Some(true)` disables.
    pub disabled: Option<bool>,
    /// Replaces the published expiry (Unix seconds).
    pub expires_at: Option<i64>,
    /// Replaces the published view limit.
    pub max_views: Option<u32>,
    /// The published expiry `expires_at` was set against.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expires_against: Option<Against<i64>>,
    /// The published view limit `max_views` was set against.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_views_against: Option<Against<u32>>,
    /// "Open now": the owner opened the link before its published `opens_at`, which it
    /// remembers; it lapses once a publish moves that moment (the newer decision in git wins).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub opened_early: Option<Against<i64>>,
}

/// The published value a runtime change replaced (`published: None`: there was none), and for
/// an audience's change the fingerprint of its published terms ([`LinkPolicy::terms_fingerprint`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Against<T> {
    pub published: Option<T>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fingerprint: Option<String>,
}

impl<T: PartialEq> Against<T> {
    /// What a change made now against `terms`, whose value is `published`, remembers.
    fn of(published: Option<T>, terms: &LinkPolicy) -> Against<T> {
        Against { published, fingerprint: terms.terms_fingerprint.clone() }
    }

    /// Whether a change remembering `against` still holds under `terms`, whose value is
    /// `published`. A change stored without that memory (by an earlier version) holds and gets
    /// today's recorded, except under terms with a fingerprint (an audience's): there a change
    /// that recorded none, or another one, lapses. The audience's terms may have moved for some
    /// recipient since, and nothing tells which way, so the recipients' own published terms
    /// apply (the newer decision in git wins) and the owner sees the lapse.
    fn holds(against: Option<&Against<T>>, published: Option<T>, terms: &LinkPolicy) -> bool {
        match against {
            None => terms.terms_fingerprint.is_none(),
            Some(a) => a.published == published && a.fingerprint == terms.terms_fingerprint,
        }
    }
}

impl Overrides {
    pub fn is_empty(&self) -> bool {
        *self == Overrides::default()
    }

    /// What a stored shape this version cannot read stands for: the link closed.
    pub fn unreadable() -> Overrides {
        Overrides { disabled: Some(true), ..Overrides::default() }
    }

    pub fn is_disabled(&self) -> bool {
        self.disabled == Some(true)
    }

    /// These overrides under a wider scope's (the gallery's): its disable closes the link too.
    pub fn within(mut self, wider: &Overrides) -> Overrides {
        if wider.is_disabled() {
            self.disabled = Some(true);
        }
        self
    }

    fn expiry_holds(&self, policy: &LinkPolicy) -> bool {
        self.expires_at.is_some() && Against::holds(self.expires_against.as_ref(), policy.expires_at(), policy)
    }

    /// Whether an "open now" still holds: made against the moment published now, which is
    /// still ahead of nothing else (a link published without `opens_at` needs none).
    fn opened_early_holds(&self, policy: &LinkPolicy) -> bool {
        policy.opens_at.is_some() && self.opened_early.as_ref().is_some_and(|a| Against::holds(Some(a), policy.opens_at(), policy))
    }

    fn limit_holds(&self, policy: &LinkPolicy) -> bool {
        self.max_views.is_some() && Against::holds(self.max_views_against.as_ref(), policy.max_views, policy)
    }

    /// Without the changes a publish made stale; overrides without memory of the published
    /// value get today's recorded, so they lapse at the next publish that changes it.
    pub fn settled(&self, policy: &LinkPolicy) -> Overrides {
        let mut next = self.clone();
        if next.disabled == Some(false) {
            next.disabled = None;
        }
        if self.expiry_holds(policy) {
            next.expires_against = Some(Against::of(policy.expires_at(), policy));
        } else {
            (next.expires_at, next.expires_against) = (None, None);
        }
        if self.limit_holds(policy) {
            next.max_views_against = Some(Against::of(policy.max_views, policy));
        } else {
            (next.max_views, next.max_views_against) = (None, None);
        }
        if !self.opened_early_holds(policy) {
            next.opened_early = None;
        }
        next
    }

    /// The overrides after an owner's action, or why it is refused. `views` is the link's count
    /// now: the rules are checked where that count lives, in one step with the write. Days of an
    /// extension are calendar days in the site timezone (`offsets`, the manifest's table).
    pub fn apply(&self, change: &Change, policy: &LinkPolicy, views: u64, now: i64, offsets: &UtcOffsets) -> Result<Overrides, Refusal> {
        let mut next = self.settled(policy);
        match *change {
            Change::Disable => next.disabled = Some(true),
            Change::Enable if policy.disabled => return Err(Refusal::DisabledInYaml),
            Change::Enable => next.disabled = None,
            Change::OpenNow => {
                if policy.opens_at().is_none_or(|at| at <= now) || next.opened_early.is_some() {
                    return Err(Refusal::BadRequest("the link is already open: it has no `opens_at` still ahead".into()));
                }
                next.opened_early = Some(Against::of(policy.opens_at(), policy));
            }
            Change::Limits { expires_at, extend_days, max_views, force } => {
                let in_force = policy.effective(&next);
                let expiry = match (expires_at, extend_days) {
                    (Some(_), Some(_)) => return Err(Refusal::BadRequest("give either an expiry or a number of days to extend by, not both".into())),
                    (Some(at), None) => Some(at),
                    (None, Some(days)) => Some(add_local_days(in_force.expires_at.unwrap_or(now).max(now), days, offsets)),
                    (None, None) => None,
                };
                if expiry.is_none() && max_views.is_none() {
                    return Err(Refusal::BadRequest("nothing to change: give an expiry, a number of days or a view limit".into()));
                }
                if let Some(at) = expiry {
                    if at <= now {
                        return Err(Refusal::BadRequest("the new expiry (`expires`) has already passed; give a future date to extend the link".into()));
                    }
                    if !force && in_force.expires_at.is_none_or(|current| at < current) {
                        return Err(Refusal::ShortensExpiry { in_force: in_force.expires_at, asked: at });
                    }
                    next.expires_at = Some(at);
                    next.expires_against = Some(Against::of(policy.expires_at(), policy));
                }
                if let Some(max) = max_views {
                    if !force && u64::from(max) <= views {
                        return Err(Refusal::LimitAtOrBelowViews { views, asked: max });
                    }
                    next.max_views = Some(max);
                    next.max_views_against = Some(Against::of(policy.max_views, policy));
                }
            }
            Change::AddViews { views: more } => {
                // Relative to the limit in force, read where the count lives: two grants made at
                // once both land.
                let Some(max) = policy.effective(&next).max_views else {
                    return Err(Refusal::BadRequest("this link has no view limit: there are no views to add".into()));
                };
                next.max_views = Some(max.saturating_add(more));
                next.max_views_against = Some(Against::of(policy.max_views, policy));
            }
        }
        Ok(next)
    }
}

/// An owner's action on a link's (or a scope's) overrides.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Change {
    Disable,
    Enable,
    /// A new expiry (an instant, or calendar days in the site timezone counted from the later
    /// of now and the expiry in force) and/or view limit. `force` allows closing the link
    /// sooner than it would close.
    Limits { expires_at: Option<i64>, extend_days: Option<u32>, max_views: Option<u32>, force: bool },
    /// "Open now": lifts the link's published `opens_at` until a publish moves it.
    OpenNow,
    /// Views added to the view limit in force (an access request's "+10 views").
    AddViews { views: u32 },
}

/// Why an owner's action changed nothing.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Refusal {
    /// Enabling a link published disabled: only a publish reopens it.
    DisabledInYaml,
    /// The new expiry is earlier than the one in force (`None`: the link never expired).
    ShortensExpiry { in_force: Option<i64>, asked: i64 },
    /// The new view limit leaves no view for anyone new.
    LimitAtOrBelowViews { views: u64, asked: u32 },
    BadRequest(String),
}

impl Refusal {
    /// HTTP status and stable code of the admin API answer.
    pub fn status_and_code(&self) -> (u16, &'static str) {
        match self {
            Refusal::DisabledInYaml => (409, "disabled_in_yaml"),
            Refusal::ShortensExpiry { .. } | Refusal::LimitAtOrBelowViews { .. } => (409, "needs_force"),
            Refusal::BadRequest(_) => (400, "bad_request"),
        }
    }

    /// An English sentence naming the effect; `time` renders an instant for the owner.
    pub fn message(&self, time: impl Fn(i64) -> String) -> String {
        match self {
            Refusal::DisabledInYaml => "disabled in gallery.yaml: change it there".into(),
            Refusal::ShortensExpiry { in_force: Some(current), asked } => format!(
                "the link now expires {}; {} is earlier, so it would close sooner: confirm with force (CLI: --force)",
                time(*current),
                time(*asked)
            ),
            Refusal::ShortensExpiry { in_force: None, asked } => {
                format!("the link never expires now; an expiry of {} would close it then: confirm with force (CLI: --force)", time(*asked))
            }
            Refusal::LimitAtOrBelowViews { views, asked } => format!(
                "{views} views are used already; a limit of {asked} lets nobody new in: confirm with force (CLI: --force)"
            ),
            Refusal::BadRequest(why) => why.clone(),
        }
    }
}

/// The policy in force: published policy with overrides applied.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Effective {
    pub max_views: Option<u32>,
    pub expires_at: Option<i64>,
    pub download: Downloads,
    pub view_seconds: Option<u32>,
    pub disabled: bool,
    pub password: bool,
    /// Before this instant the link is not open yet (`None`: open, or opened early).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub opens_at: Option<i64>,
}

impl LinkPolicy {
    /// Unix seconds from which the link answers `link_expired`; `None` means never.
    pub fn expires_at(&self) -> Option<i64> {
        self.expires.map(|e| e.at)
    }

    /// Unix seconds from which the link opens (`opens_at:`); `None`: open from the publish.
    pub fn opens_at(&self) -> Option<i64> {
        self.opens_at.map(|e| e.at)
    }

    /// The policy in force under `overrides` alone, no wider scope: [`in_force`] of one scope.
    pub fn effective(&self, overrides: &Overrides) -> Effective {
        in_force(Scoped { terms: self, overrides }, &[])
    }
}

/// What a gallery scope's runtime changes are judged and settled against: no terms. A gallery
/// publishes no expiry or view limit of its own (gallery.yaml's `disabled:` is already part of
/// every link's published policy), so an expiry or limit set on a whole gallery would hold until
/// an owner changes it, and enabling a gallery lifts only its runtime disable.
pub static GALLERY_TERMS: LinkPolicy = LinkPolicy {
    max_views: None,
    expires: None,
    download: Downloads::NONE,
    view_seconds: None,
    disabled: false,
    password: false,
    terms_fingerprint: None,
    opens_at: None,
    devices: None,
};

/// The widest of some recipients' terms: the latest expiry, the largest view limit, `None` where
/// any recipient has none. An owner's change to a whole audience is judged against them, so
/// "extend by 7 days" starts from the last day any recipient has and never shortens anyone's
/// published terms without `force`. Whether such a change still holds is decided by the
/// audience's fingerprint ([`audience_terms`]), not by them: a recipient's own later expiry
/// would keep them still while the audience's own expiry moves.
pub fn widest_terms<'a>(recipients: impl IntoIterator<Item = &'a LinkPolicy>) -> LinkPolicy {
    let recipients: Vec<&LinkPolicy> = recipients.into_iter().collect();
    let every = |has: fn(&LinkPolicy) -> bool| recipients.iter().all(|p| has(p));
    let expires = if every(|p| p.expires.is_some()) { recipients.iter().filter_map(|p| p.expires).max_by_key(|e| e.at) } else { None };
    let max_views = if every(|p| p.max_views.is_some()) { recipients.iter().filter_map(|p| p.max_views).max() } else { None };
    LinkPolicy { expires, max_views, ..GALLERY_TERMS.clone() }
}

/// The terms an audience is published with, as the generator writes them into the gallery
/// record: its recipients' [`widest_terms`] and a fingerprint of the expiry and view limit the
/// audience declares and of every distinct (expiry, view limit) its recipients have. Any publish
/// that moves one of them moves the fingerprint, so the audience's runtime changes lapse for all
/// its recipients at once; adding or removing a recipient whose terms another already has does
/// not.
pub fn audience_terms<'a>(declared: &LinkPolicy, recipients: impl IntoIterator<Item = &'a LinkPolicy>) -> LinkPolicy {
    let recipients: Vec<&LinkPolicy> = recipients.into_iter().collect();
    let pairs: std::collections::BTreeSet<(Option<i64>, Option<u32>)> = recipients.iter().map(|p| (p.expires_at(), p.max_views)).collect();
    let mut hasher = blake3::Hasher::new_derive_key("gatefold audience terms v1");
    let mut add = |(expires_at, max_views): (Option<i64>, Option<u32>)| {
        hasher.update(format!("{expires_at:?} {max_views:?};").as_bytes());
    };
    add((declared.expires_at(), declared.max_views));
    pairs.into_iter().for_each(&mut add);
    let fingerprint = data_encoding::HEXLOWER.encode(&hasher.finalize().as_bytes()[..16]);
    LinkPolicy { terms_fingerprint: Some(fingerprint), ..widest_terms(recipients) }
}

/// One scope's runtime changes beside the published terms they are judged against: a link's
/// own policy, an audience's [`audience_terms`], a gallery's [`GALLERY_TERMS`].
#[derive(Debug, Clone, Copy)]
pub struct Scoped<'a> {
    pub terms: &'a LinkPolicy,
    pub overrides: &'a Overrides,
}

/// The policy in force for a link: its published policy and own runtime changes (`link`) under
/// its wider scopes' (narrowest first: a recipient's audience, then the gallery).
///
/// Each scope's overrides are first settled against its own terms ([`Overrides::settled`]), so
/// a wider scope's expiry or limit lapses exactly as a link's own does. Then a disable at any
/// scope (or in YAML) closes the link; an expiry or limit comes from the narrowest scope that
/// still has one, else from the link's published policy; downloads, view time and the password
/// are the link's published ones.
pub fn in_force(link: Scoped<'_>, wider: &[Scoped<'_>]) -> Effective {
    InForce::of(link, wider).effective
}

/// [`in_force`] with each scope's overrides as it settled them, for readers that show them
/// (the admin API): every scope is settled once, here.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InForce {
    pub effective: Effective,
    /// The link's own overrides, settled against its published policy.
    pub own: Overrides,
    /// The wider scopes', in the order given, each settled against its terms.
    pub wider: Vec<Overrides>,
}

impl InForce {
    pub fn of(link: Scoped<'_>, wider: &[Scoped<'_>]) -> InForce {
        let own = link.overrides.settled(link.terms);
        let wider: Vec<Overrides> = wider.iter().map(|scope| scope.overrides.settled(scope.terms)).collect();
        let (mut expires_at, mut max_views, mut disabled) = (own.expires_at, own.max_views, link.terms.disabled || own.is_disabled());
        for settled in &wider {
            expires_at = expires_at.or(settled.expires_at);
            max_views = max_views.or(settled.max_views);
            disabled |= settled.is_disabled();
        }
        let effective = Effective {
            max_views: max_views.or(link.terms.max_views),
            expires_at: expires_at.or(link.terms.expires_at()),
            download: link.terms.download,
            view_seconds: link.terms.view_seconds,
            disabled,
            password: link.terms.password,
            opens_at: if own.opened_early.is_some() { None } else { link.terms.opens_at() },
        };
        InForce { effective, own, wider }
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
    /// Published with an `opens_at:` still ahead.
    NotYetOpen,
}

impl Effective {
    pub fn is_expired(&self, now: i64) -> bool {
        self.expires_at.is_some_and(|at| now >= at)
    }

    /// Whether `opens_at` is still ahead at `now`: from that second the link opens.
    pub fn is_not_yet_open(&self, now: i64) -> bool {
        self.opens_at.is_some_and(|at| now < at)
    }

    pub fn is_used_up(&self, views: u64) -> bool {
        self.max_views.is_some_and(|max| views >= u64::from(max))
    }

    /// Disabled beats expired beats not yet open beats used up: the reason shown is the one the
    /// owner can act on first (a link that expires before it opens never opens).
    pub fn state(&self, views: u64, now: i64) -> LinkState {
        if self.disabled {
            LinkState::Disabled
        } else if self.is_expired(now) {
            LinkState::Expired
        } else if self.is_not_yet_open(now) {
            LinkState::NotYetOpen
        } else if self.is_used_up(views) {
            LinkState::LimitReached
        } else {
            LinkState::Active
        }
    }

    /// Views left after `views` opens; `None` when unlimited.
    pub fn views_left(&self, views: u64) -> Option<u64> {
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

    /// When `session` ends under this policy: its own end, or sooner when the view time now in
    /// force is shorter than the one it was issued under (a publish never reaches the sessions
    /// already out, so a shorter `view_seconds` is applied here). A longer one ends nothing.
    pub fn session_end(&self, session: &Session) -> i64 {
        session.expires_at.min(session.issued_at.saturating_add(i64::from(self.session_seconds())))
    }
}

/// A granted open: the view number it used and when its session ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Admission {
    /// 1 for the link's first open, and so on: unique per link.
    pub view_number: u64,
    pub session_expires_at: i64,
    /// The link's session epoch, which the session must carry: a revoke moves it on and ends
    /// every session issued before. [`decide_open`] leaves 0; the link's `LinkGate` sets it.
    pub session_epoch: u32,
    /// The view limit in force when it was admitted (overrides applied), so the owner's
    /// notifications can tell "4 of 5 views used" without asking the gate again.
    #[serde(default)]
    pub max_views: Option<u32>,
}

/// Decides a new open under the policy in force ([`in_force`]). `views` is the count before
/// this open; on success the caller stores `admission.view_number` as the new count.
pub fn decide_open(effective: &Effective, views: u64, now: i64) -> Result<Admission, Denial> {
    match effective.state(views, now) {
        LinkState::Disabled => Err(Denial::LinkDisabled),
        LinkState::Expired => Err(Denial::LinkExpired),
        LinkState::LimitReached => Err(Denial::ViewLimitReached),
        LinkState::NotYetOpen => Err(Denial::NotYetOpen),
        LinkState::Active => Ok(Admission {
            view_number: views + 1,
            session_expires_at: now + i64::from(effective.session_seconds()),
            session_epoch: 0,
            max_views: effective.max_views,
        }),
    }
}

/// What a gated request asks for, beyond the page itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// The gallery page, thumbnails and display-size images.
    View,
    /// A file to download, in one size (the ZIP of originals is [`DownloadSize::Original`]).
    Download(DownloadSize),
}

/// Decides a request made inside an admitted session, under the policy in force now
/// ([`in_force`]). The view limit does not apply here: the session already paid for its open.
/// Everything else a later decision tightened does, so sessions issued before it end: a
/// disable or an expiry, a `password: required` published since (a session not admitted
/// through the password is refused as `password_required`), a shorter view time
/// ([`Effective::session_end`]), a download size switched off.
pub fn decide_in_session(effective: &Effective, session: &Session, access: Access, now: i64) -> Result<(), Denial> {
    if effective.disabled {
        return Err(Denial::LinkDisabled);
    }
    if effective.is_expired(now) {
        return Err(Denial::LinkExpired);
    }
    if effective.is_not_yet_open(now) {
        return Err(Denial::NotYetOpen);
    }
    if effective.password && !session.password {
        return Err(Denial::PasswordRequired);
    }
    if now >= effective.session_end(session) {
        return Err(Denial::SessionExpired);
    }
    if let Access::Download(size) = access
        && !effective.download.allows(size)
    {
        return Err(Denial::DownloadDisabled);
    }
    Ok(())
}

#[cfg(test)]
mod tests;
