//! The link policy fields, shared by `site.yaml` `links:` (defaults) and each gallery link.

use gatefold_contract::expiry::{Expiry, ExpiryError, ResolvedExpiry};
use gatefold_contract::policy::Downloads;

use super::SiteConfig;
use super::yaml::{FileDiagnostics, Map, Node, describe, join, scalar_text};

pub const EXPIRY_FIX: &str = "write a date like 2026-12-31 (the link works through that day in the site timezone) or a date-time like 2026-12-31T18:00:00+08:00";

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
    pub expires: Setting<ResolvedExpiry>,
    pub download: Option<Downloads>,
    pub view_seconds: Setting<u32>,
    pub devices: Setting<u8>,
}

pub const MIN_VIEW_SECONDS: i64 = 10;

/// The fix for a bad `devices:` value or cell.
pub const DEVICES_FIX: &str = "write on how many of the recipient's devices the link opens, from 1 to 20 (e.g. `devices: 2` for a phone and a laptop), or `unlimited`";

/// A `devices` cell of a recipient list (empty: inherit). The error is the message to show.
pub fn devices_cell(cell: &str) -> Result<Setting<u8>, String> {
    use gatefold_contract::devices::{MAX_DEVICES, MIN_DEVICES};
    match cell.trim() {
        "" => Ok(Setting::Inherit),
        t if t.eq_ignore_ascii_case("unlimited") => Ok(Setting::Cleared),
        t => match t.parse::<u8>() {
            Ok(n) if (MIN_DEVICES..=MAX_DEVICES).contains(&n) => Ok(Setting::Set(n)),
            _ => Err(format!("`{t}` is not a number of devices from {MIN_DEVICES} to {MAX_DEVICES}")),
        },
    }
}

pub const DOWNLOAD_FIX: &str = "write `false` (view only), `true` or `original` (originals), `web` (the widest display JPEG, for slides and chat), or `[original, web]` for both";

/// One download size word (`original`, `web`), as YAML lists and CSV cells write it.
fn download_size(word: &str) -> Option<Downloads> {
    match word.trim().to_ascii_lowercase().as_str() {
        "original" => Some(Downloads::ORIGINAL),
        "web" => Some(Downloads::WEB),
        _ => None,
    }
}

/// A `download` cell of a recipient list: `false`, `true`, `original`, `web` or
/// `original+web`. The error is the message to show.
pub fn download_cell(cell: &str) -> Result<Downloads, String> {
    match cell.trim().to_ascii_lowercase().as_str() {
        "false" => return Ok(Downloads::NONE),
        "true" => return Ok(Downloads::ORIGINAL),
        _ => {}
    }
    let mut out = Downloads::NONE;
    for word in cell.split('+') {
        let size = download_size(word).ok_or_else(|| format!("`{cell}` is not a download setting"))?;
        out = Downloads { original: out.original || size.original, web: out.web || size.web };
    }
    Ok(out)
}

/// `download:` in YAML: a boolean, one size word, or a list of size words.
fn read_download(ctx: &mut FileDiagnostics, node: &Node<'_>, field: &str) -> Option<Downloads> {
    use saphyr::{Scalar, YamlData};
    match &node.data {
        YamlData::Value(Scalar::Boolean(true)) => Some(Downloads::ORIGINAL),
        YamlData::Value(Scalar::Boolean(false)) => Some(Downloads::NONE),
        YamlData::Value(Scalar::String(s)) => match download_size(s) {
            Some(d) => Some(d),
            None => {
                ctx.error(Some(node), field, format!("`{s}` is not a download setting"), DOWNLOAD_FIX);
                None
            }
        },
        YamlData::Sequence(items) if !items.is_empty() => {
            let mut out = Downloads::NONE;
            for item in items {
                let size = scalar_text(item).and_then(|w| download_size(&w));
                match size {
                    Some(size) if (size.original && out.original) || (size.web && out.web) => {
                        ctx.error(Some(item), field, format!("{} is listed twice", describe(item)), "list each size once: `[original, web]`");
                        return None;
                    }
                    Some(size) => out = Downloads { original: out.original || size.original, web: out.web || size.web },
                    None => {
                        ctx.error(Some(item), field, format!("{} is not a download size", describe(item)), "list the sizes `original` and/or `web`, e.g. `[original, web]`");
                        return None;
                    }
                }
            }
            Some(out)
        }
        _ => {
            ctx.error(Some(node), field, format!("expected a download setting, found {}", describe(node)), DOWNLOAD_FIX);
            None
        }
    }
}

/// `password: required`, the only value: the password itself is set at runtime and never
/// written into git, where everyone with the repository could read it.
pub fn read_password(ctx: &mut FileDiagnostics, node: &Node<'_>, field: &str, target: &str) -> bool {
    if scalar_text(node).is_some_and(|t| t.trim() == "required") {
        return true;
    }
    ctx.error(
        Some(node),
        field,
        format!("`password:` takes only `required`, found {}: the password itself never goes in git, where everyone with the repository can read it", describe(node)),
        format!("write `password: required`, then set the password with `gatefold password {target}` (or in the admin page); remove the line for a link without a password"),
    );
    false
}

fn word(node: &Node<'_>) -> Option<String> {
    scalar_text(node).map(|t| t.trim().to_ascii_lowercase())
}

/// An owner's expiry resolved in the site timezone; the error is the message to show.
pub fn read_expiry(written: &str, site: &SiteConfig) -> Result<ResolvedExpiry, String> {
    Expiry::parse(written).and_then(|e| e.resolve(&site.utc_offsets)).map_err(|e| match e {
        ExpiryError::SkippedTime(s) => format!("`{s}` does not exist in {} (skipped by a daylight-saving change)", site.timezone),
        other => other.to_string(),
    })
}

pub const OPENS_AT_FIX: &str = "write a date like 2026-12-01 (opens at the start of that day in the site timezone), a local time like 2026-12-01 10:00, or a moment like 2026-12-01T10:00:00+08:00; remove the line to open at publish";

/// `opens_at:` on a gallery, a link or an audience: the same forms as `expires:`, read as an
/// opening (a date opens at the start of that day in the site timezone).
pub fn read_opens_at(ctx: &mut FileDiagnostics, node: &Node<'_>, field: &str, site: &SiteConfig) -> Option<ResolvedExpiry> {
    let text = scalar_text(node).filter(|_| matches!(node.data, saphyr::YamlData::Value(saphyr::Scalar::String(_))));
    let Some(text) = text else {
        ctx.error(Some(node), field, format!("expected a date or date-time, found {}", describe(node)), OPENS_AT_FIX);
        return None;
    };
    let read = Expiry::parse(&text).and_then(|e| e.resolve_opening(&site.utc_offsets)).map_err(|e| match e {
        ExpiryError::SkippedTime(s) => format!("`{s}` does not exist in {} (skipped by a daylight-saving change)", site.timezone),
        other => other.to_string(),
    });
    match read {
        Ok(at) => Some(at),
        Err(message) => {
            ctx.error(Some(node), field, message, OPENS_AT_FIX);
            None
        }
    }
}

/// Reads the policy fields present in `map` (unknown keys are the caller's job).
pub fn read(ctx: &mut FileDiagnostics, map: &Map<'_, '_>, prefix: &str, site: &SiteConfig) -> PolicyFields {
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
            Some(t) if matches!(node.data, saphyr::YamlData::Value(saphyr::Scalar::String(_))) => match read_expiry(&t, site) {
                Ok(e) => out.expires = Setting::Set(e),
                Err(message) => ctx.error(Some(node), &field, message, format!("{EXPIRY_FIX}, or `never`")),
            },
            _ => ctx.error(Some(node), &field, format!("expected a date, found {}", describe(node)), format!("{EXPIRY_FIX}, or `never`")),
        }
    }
    if let Some(node) = map.value("download") {
        out.download = read_download(ctx, node, &join(prefix, "download"));
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
    if let Some(node) = map.value("devices") {
        use gatefold_contract::devices::{MAX_DEVICES, MIN_DEVICES};
        let field = join(prefix, "devices");
        if word(node).as_deref() == Some("unlimited") {
            out.devices = Setting::Cleared;
        } else if let Some(n) = ctx.int(node, &field, i64::from(MIN_DEVICES), i64::from(MAX_DEVICES), DEVICES_FIX) {
            out.devices = Setting::Set(n as u8);
        }
    }
    out
}
