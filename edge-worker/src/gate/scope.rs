//! What each `LinkGate` object stands for (a link, an audience, a gallery), how a link's scopes
//! nest, and what a link's sessions and runtime state are made of across them.

use gatefold_contract::Overrides;
use gatefold_contract::manifest::split_link_name;

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
}

/// A link's own overrides under its wider scopes' (narrowest first, as [`Scope::wider`] lists
/// them): any wider disable closes it, and an expiry or view limit set on a wider scope (an
/// audience's extend) applies where the link has none of its own: the narrower scope wins.
/// A wider change is the owner's runtime change for all its links, never lapsed by a publish
/// of one of them, so it carries no published value it was made against.
pub fn under_wider<'a>(own: Overrides, wider: impl IntoIterator<Item = &'a Overrides>) -> Overrides {
    wider.into_iter().fold(own, |mut o, w| {
        if o.expires_at.is_none() && w.expires_at.is_some() {
            (o.expires_at, o.expires_against) = (w.expires_at, None);
        }
        if o.max_views.is_none() && w.max_views.is_some() {
            (o.max_views, o.max_views_against) = (w.max_views, None);
        }
        o.within(w)
    })
}

/// The session epoch a link's sessions must reach: its own plus its wider scopes'. Each only
/// grows, so a revoke at any scope ends every session issued before it (saturating: a link
/// revoked four billion times stays revoked).
pub fn session_epoch(own: u32, wider: impl IntoIterator<Item = u32>) -> u32 {
    wider.into_iter().fold(own, u32::saturating_add)
}

