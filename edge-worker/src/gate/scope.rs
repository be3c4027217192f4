//! What each `LinkGate` object stands for (a link, an audience, a gallery), how a link's scopes
//! nest, and what a link's sessions and policy in force are made of across them.

use gatefold_contract::manifest::{Gallery, split_link_name};
use gatefold_contract::policy::{Effective, GALLERY_TERMS, InForce, Scoped};
use gatefold_contract::{LinkPolicy, Overrides};

/// What one `LinkGate` object stands for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Scope {
    /// A link; `link` is `<audience>/<recipient>` for a recipient's link.
    Link { gallery: String, link: String },
    Gallery { gallery: String },
    /// Every recipient of an audience: one write for all their links.
    Audience { gallery: String, audience: String },
}

impl Scope {
    pub fn link(gallery: &str, link: &str) -> Scope {
        Scope::Link { gallery: gallery.into(), link: link.into() }
    }

    pub fn gallery(gallery: &str) -> Scope {
        Scope::Gallery { gallery: gallery.into() }
    }

    pub fn audience(gallery: &str, audience: &str) -> Scope {
        Scope::Audience { gallery: gallery.into(), audience: audience.into() }
    }

    /// The Durable Object's name.
    pub fn object_name(&self) -> String {
        match self {
            Scope::Link { gallery, link } => format!("{gallery}/{link}"),
            Scope::Gallery { gallery } => format!("{gallery}/*"),
            Scope::Audience { gallery, audience } => format!("{gallery}/@{audience}"),
        }
    }

    /// The scope an object name stands for: `<gallery>/*`, `<gallery>/@<audience>`,
    /// `<gallery>/<link>` or `<gallery>/<audience>/<recipient>`; `None` for any other shape.
    pub fn from_object_name(name: &str) -> Option<Scope> {
        let (gallery, rest) = name.split_once('/')?;
        let part = |s: &str| !s.is_empty() && !s.contains(['/', '@', '*']);
        if !part(gallery) {
            return None;
        }
        if rest == "*" {
            return Some(Scope::gallery(gallery));
        }
        if let Some(audience) = rest.strip_prefix('@') {
            return part(audience).then(|| Scope::audience(gallery, audience));
        }
        let (audience, link) = split_link_name(rest);
        (audience.is_none_or(part) && part(link)).then(|| Scope::link(gallery, rest))
    }

    /// KV key of this version's mirror.
    pub(super) fn mirror_key(&self) -> String {
        format!("runtime/{}", self.object_name())
    }

    /// KV key earlier versions read a link's overrides from (recipients' links are newer
    /// than every such version: they have none).
    pub(super) fn legacy_mirror_key(&self) -> Option<String> {
        match self {
            Scope::Link { gallery, link } if !link.contains('/') => Some(format!("overrides/{gallery}/{link}")),
            _ => None,
        }
    }

    /// The scopes whose changes apply to this one's links, narrowest first: a recipient's
    /// audience, then the gallery.
    pub fn wider(&self) -> Vec<Scope> {
        match self {
            Scope::Link { gallery, link } => match split_link_name(link).0 {
                Some(audience) => vec![Scope::audience(gallery, audience), Scope::gallery(gallery)],
                None => vec![Scope::gallery(gallery)],
            },
            _ => vec![],
        }
    }

    /// The terms each of [`Scope::wider`]'s scopes was published with, in that order: a
    /// recipient's audience's from its gallery's record ([`gatefold_contract::manifest::Audience::terms`]),
    /// then the gallery's ([`GALLERY_TERMS`]). An audience the record lacks has none.
    pub fn wider_terms<'g>(&self, gallery: &'g Gallery) -> Vec<&'g LinkPolicy> {
        let terms = |w: &Scope| match w {
            Scope::Audience { audience, .. } => gallery.audience_terms(audience).unwrap_or(&GALLERY_TERMS),
            _ => &GALLERY_TERMS,
        };
        self.wider().iter().map(terms).collect()
    }
}

/// The session epoch a link's sessions must reach: its own plus its wider scopes'. Each only
/// grows, so a revoke at any scope ends every session issued before it (saturating: a link
/// revoked four billion times stays revoked).
pub fn session_epoch(own: u32, wider: impl IntoIterator<Item = u32>) -> u32 {
    wider.into_iter().fold(own, u32::saturating_add)
}


/// A link's policy in force ([`in_force`]) from its published policy and own overrides, its
/// wider scopes' overrides (in [`Scope::wider`] order, as their objects or KV mirrors hold them)
/// and the terms those scopes were published with ([`Scope::wider_terms`]). A scope without
/// terms given is settled against none, never left out: its disable always counts.
pub fn policy_in_force<'a>(policy: &LinkPolicy, own: &Overrides, wider: impl IntoIterator<Item = &'a Overrides>, terms: &[&LinkPolicy]) -> Effective {
    settled_in_force(policy, own, wider, terms).effective
}

/// [`policy_in_force`] with every scope's overrides as it settled them ([`InForce`]).
pub fn settled_in_force<'a>(policy: &LinkPolicy, own: &Overrides, wider: impl IntoIterator<Item = &'a Overrides>, terms: &[&LinkPolicy]) -> InForce {
    let wider: Vec<Scoped<'_>> =
        wider.into_iter().enumerate().map(|(i, overrides)| Scoped { terms: terms.get(i).copied().unwrap_or(&GALLERY_TERMS), overrides }).collect();
    InForce::of(Scoped { terms: policy, overrides: own }, &wider)
}
