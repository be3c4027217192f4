//! The link policy fields, shared by `site.yaml` `links:` (defaults) and each gallery link.

use chrono_tz::Tz;

use super::expiry::{self, EXPIRY_FIX, Expiry};
use super::yaml::{Ctx, Map, Node, describe, join, scalar_text};

/// A field as written: absent (inherit), explicitly cleared (`unlimited` / `never`), or set.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum Setting<T> {
    #[default]
    Inherit,
    Cleared,
    Set(T),
}

impl<T: Clone> Setting<T> {
    pub fn or(&self, inherited: Option<T>) -> Option<T> {
        match self {
            Setting::Inherit => inherited,
            Setting::Cleared => None,
            Setting::Set(v) => Some(v.clone()),
        }
    }
}

#[derive(Debug, Clone, Default)]
pub struct PolicyFields {
    pub max_views: Setting<u32>,
    pub expires: Setting<Expiry>,
    pub download: Option<bool>,
    pub view_seconds: Setting<u32>,
}

pub const MIN_VIEW_SECONDS: i64 = 10;

fn word(node: &Node<'_>) -> Option<String> {
    scalar_text(node).map(|t| t.trim().to_ascii_lowercase())
}

/// Reads the policy fields present in `map` (unknown keys are the caller's job).
pub fn read(ctx: &mut Ctx, map: &Map<'_, '_>, prefix: &str, tz: Tz) -> PolicyFields {
    let mut out = PolicyFields::default();
    if let Some(node) = map.value("max_views") {
        let field = join(prefix, "max_views");
        if word(node).as_deref() == Some("unlimited") {
            out.max_views = Setting::Cleared;
        } else if let Some(n) = ctx.int(node, &field, 1, i64::from(u32::MAX), "write how many times the link may be opened (at least 1), or `unlimited`") {
            out.max_views = Setting::Set(n as u32);
        }
    }
    if let Some(node) = map.value("expires") {
        let field = join(prefix, "expires");
        match scalar_text(node) {
            Some(t) if t.trim().eq_ignore_ascii_case("never") => out.expires = Setting::Cleared,
            Some(t) if matches!(node.data, saphyr::YamlData::Value(saphyr::Scalar::String(_))) => match expiry::parse(&t, tz) {
                Ok(e) => out.expires = Setting::Set(e),
                Err(message) => ctx.error(Some(node), &field, message, format!("{EXPIRY_FIX}, or `never`")),
            },
            _ => ctx.error(Some(node), &field, format!("expected a date, found {}", describe(node)), format!("{EXPIRY_FIX}, or `never`")),
        }
    }
    if let Some(node) = map.value("download") {
        out.download = ctx.bool(node, &join(prefix, "download"));
    }
    if let Some(node) = map.value("view_seconds") {
        let field = join(prefix, "view_seconds");
        if word(node).as_deref() == Some("unlimited") {
            out.view_seconds = Setting::Cleared;
        } else if let Some(n) = ctx.int(
            node,
            &field,
            MIN_VIEW_SECONDS,
            i64::from(u32::MAX),
            "write how many seconds a visitor may look after opening the link (at least 10, e.g. 600 for ten minutes), or `unlimited`",
        ) {
            out.view_seconds = Setting::Set(n as u32);
        }
    }
    out
}
