//! `mark:` — forensic marks and visible stamps, on a link or an audience in `gallery.yaml` (its
//! recipients inherit it) or as the site's default in `site.yaml`.
//!
//! ```yaml
//! mark:
//!   forensic: true                # invisible per-link mark (default false)
//!   visible: "{label} · {date}"   # optional stamp in the pixels; also {email}, {recipient}
//!   position: corner              # corner | tile
//!   originals: false              # also mark original downloads
//! ```
//!
//! `mark: true` is `forensic: true`; `mark: false` turns the site's default off for a link. A
//! link's own `mark:` replaces the wider one whole (as `notify:` does): what a link gets is
//! read in one place.

use std::path::PathBuf;

use saphyr::{Scalar, YamlData};

use super::yaml::{FileDiagnostics, Node, did_you_mean, join, pos};
use super::{LinkConfig, SiteConfig};
use crate::diagnostics::Diagnostic;

pub const MARK_FIELDS: &[&str] = &["forensic", "visible", "position", "originals"];
/// What a stamp's text may name.
pub const PLACEHOLDERS: &[&str] = &["label", "date", "email", "recipient"];
/// A stamp is a line in a corner, not a paragraph: the template and the text it renders to.
const MAX_STAMP_CHARS: usize = 80;

/// Where a visible stamp goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StampPosition {
    /// Bottom-right, a few rows of chips tall.
    Corner,
    /// Repeated across the whole image: every chip is the link's own, so it costs a full copy
    /// of each variant per link.
    Tile,
}

impl StampPosition {
    pub fn name(self) -> &'static str {
        match self {
            StampPosition::Corner => "corner",
            StampPosition::Tile => "tile",
        }
    }
}

/// Where a setting was written, for diagnostics raised where it is applied (an inherited
/// template checked against a recipient list).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Written {
    pub file: PathBuf,
    pub line: usize,
    pub column: usize,
    pub field: String,
}

impl Written {
    fn of(ctx: &FileDiagnostics, node: &Node<'_>, field: &str) -> Written {
        let (line, column) = pos(node);
        Written { file: ctx.path.clone(), line, column, field: field.to_string() }
    }

    fn error(&self, message: impl Into<String>, fix: impl Into<String>) -> Diagnostic {
        Diagnostic::error(&self.file, message).at(self.line, self.column).field(self.field.clone()).fix(fix)
    }

    fn warning(&self, message: impl Into<String>, fix: impl Into<String>) -> Diagnostic {
        Diagnostic { severity: crate::diagnostics::Severity::Warning, ..self.error(message, fix) }
    }
}

/// A visible stamp as written: its template (placeholders checked) and position.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VisibleConfig {
    pub template: String,
    pub position: StampPosition,
    pub at: Written,
}

/// `mark:` as written on a scope. `None` on a link: no mark (`mark: false`, or
/// `forensic: false` without a stamp).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MarkConfig {
    pub visible: Option<VisibleConfig>,
    pub originals: bool,
}

/// A link's mark once its stamp's text is known.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LinkMarkConfig {
    /// Originals (and the ZIP's) are marked too.
    pub originals: bool,
    /// The stamp's text for this link and where it goes.
    pub stamp: Option<(String, StampPosition)>,
}

/// Reads a `mark:` value. `Some(None)`: explicitly unmarked; `None`: errors (reported).
pub fn read(ctx: &mut FileDiagnostics, node: &Node<'_>, field: &str) -> Option<Option<MarkConfig>> {
    if let YamlData::Value(Scalar::Boolean(b)) = &node.data {
        return Some(b.then_some(MarkConfig { visible: None, originals: false }));
    }
    let map = ctx.mapping(node, field, "the mark settings (`forensic: true`, optionally `visible:`, `position:`, `originals:`)")?;
    ctx.unknown_keys(&map, field, MARK_FIELDS);
    let errors = ctx.diags.iter().filter(|d| d.is_error()).count();
    let forensic = map.value("forensic").and_then(|n| ctx.bool(n, &join(field, "forensic")));
    let originals = map.value("originals").and_then(|n| ctx.bool(n, &join(field, "originals"))).unwrap_or(false);
    let position = match map.value("position") {
        Some(n) => read_position(ctx, n, &join(field, "position")),
        None => Some(StampPosition::Corner),
    };
    let visible = map.value("visible").and_then(|n| {
        let f = join(field, "visible");
        let template = ctx.required_text(n, &f)?;
        check_template(ctx, n, &f, &template).then(|| (template, Written::of(ctx, n, &f)))
    });
    match (forensic, &visible) {
        (Some(false), Some(_)) => ctx.error(
            map.value("forensic"),
            &join(field, "forensic"),
            "a visible stamp needs the forensic mark: one cut removes a stamp, the mark stays in every pixel",
            "remove `forensic: false` (a stamp always comes with the forensic mark), or remove `visible:`",
        ),
        (_, None) if map.value("position").is_some() => ctx.warning(
            map.value("position"),
            &join(field, "position"),
            "`position:` places the visible stamp, and there is none",
            "add `visible: \"{label} · {date}\"`, or remove `position:`",
        ),
        (None | Some(false), None) if originals => ctx.warning(
            map.value("originals"),
            &join(field, "originals"),
            "`originals: true` without `forensic: true` marks nothing",
            "add `forensic: true`, or remove `originals:`",
        ),
        _ => {}
    }
    if ctx.diags.iter().filter(|d| d.is_error()).count() > errors {
        return None;
    }
    let marked = forensic == Some(true) || visible.is_some();
    let position = position?;
    Some(marked.then(|| MarkConfig { visible: visible.map(|(template, at)| VisibleConfig { template, position, at }), originals }))
}

fn read_position(ctx: &mut FileDiagnostics, node: &Node<'_>, field: &str) -> Option<StampPosition> {
    let fix = "write `position: corner` (bottom-right, the default) or `position: tile` (repeated across the image)";
    match ctx.text(node, field)?.trim() {
        "corner" => Some(StampPosition::Corner),
        "tile" => Some(StampPosition::Tile),
        other => {
            ctx.error(Some(node), field, format!("`{other}` is not a stamp position"), fix);
            None
        }
    }
}

/// The placeholders of `template` in order, or the first problem.
pub fn placeholders(template: &str) -> Result<Vec<&str>, String> {
    let mut names = Vec::new();
    let mut rest = template;
    while let Some(open) = rest.find(['{', '}']) {
        if rest[open..].starts_with('}') {
            return Err("a `}` without its `{`".into());
        }
        let after = &rest[open + 1..];
        let close = after.find('}').ok_or("a `{` without its `}`")?;
        names.push(&after[..close]);
        rest = &after[close + 1..];
    }
    Ok(names)
}

fn check_template(ctx: &mut FileDiagnostics, node: &Node<'_>, field: &str, template: &str) -> bool {
    let known = PLACEHOLDERS.iter().map(|p| format!("{{{p}}}")).collect::<Vec<_>>().join(", ");
    let names = match placeholders(template) {
        Ok(names) => names,
        Err(problem) => {
            ctx.error(Some(node), field, format!("the stamp `{template}` has {problem}"), format!("placeholders are written in braces: {known}"));
            return false;
        }
    };
    let mut ok = true;
    for name in names.iter().filter(|n| !PLACEHOLDERS.contains(n)) {
        let fix = match did_you_mean(name, PLACEHOLDERS.iter().copied()) {
            Some(best) => format!("did you mean `{{{best}}}`? (known: {known})"),
            None => format!("use one of {known}"),
        };
        ctx.error(Some(node), field, format!("`{{{name}}}` is not a stamp placeholder"), fix);
        ok = false;
    }
    if template.chars().count() > MAX_STAMP_CHARS {
        ctx.error(Some(node), field, format!("the stamp is {} characters; at most {MAX_STAMP_CHARS} fit a corner", template.chars().count()), "shorten it, e.g. `{label} · {date}`");
        ok = false;
    }
    ok
}

/// The stamp's text for `link` on `date` (the publish date in the site's timezone).
pub fn stamp_text(template: &str, link: &LinkConfig, date: &str) -> String {
    let recipient = link.name.rsplit('/').next().unwrap_or(&link.name);
    let email = link.recipient.as_ref().and_then(|r| r.email.as_deref()).unwrap_or("");
    template.replace("{label}", &link.label).replace("{date}", date).replace("{email}", email).replace("{recipient}", recipient)
}

/// The publish date a stamp's `{date}` names: `now` in the site's timezone.
pub fn stamp_date(site: &SiteConfig, now: i64) -> String {
    use chrono::TimeZone;
    site.timezone.timestamp_opt(now, 0).single().map(|t| t.format("%Y-%m-%d").to_string()).unwrap_or_default()
}

/// The size of what `resolve` marks: the gallery's image count and display sizes.
pub struct Scale {
    pub images: usize,
    pub sizes: usize,
}

/// `mark` (the link's own, its audience's or the site's) made concrete for `links`, one per
/// link; an `{email}` on a link without one is an error at the template, naming the links. A
/// tiled stamp is warned about with the storage it takes.
pub fn resolve(mark: Option<&MarkConfig>, links: &mut [LinkConfig], date: &str, scale: &Scale, diags: &mut Vec<Diagnostic>) {
    let Some(mark) = mark else { return };
    if let Some(v) = mark.visible.as_ref().filter(|v| v.position == StampPosition::Tile) {
        let copies = links.len() * scale.images * (scale.sizes + usize::from(mark.originals));
        diags.push(v.at.warning(
            format!(
                "a tiled stamp covers every chip, so each of {} link(s) gets a whole JPEG of its own per image and size: {copies} objects (links × images × sizes) stored in R2 and made at every publish",
                links.len()
            ),
            "use `position: corner` (a few rows per link), or keep tiles for short recipient lists",
        ));
    }
    if let Some(v) = &mark.visible
        && placeholders(&v.template).is_ok_and(|p| p.contains(&"email"))
    {
        let without: Vec<&str> = links.iter().filter(|l| l.recipient.as_ref().and_then(|r| r.email.as_deref()).is_none_or(str::is_empty)).map(|l| l.name.as_str()).collect();
        if !without.is_empty() {
            let shown = without.iter().take(5).map(|n| format!("`{n}`")).collect::<Vec<_>>().join(", ");
            let more = if without.len() > 5 { format!(" and {} more", without.len() - 5) } else { String::new() };
            diags.push(v.at.error(
                format!("the stamp names `{{email}}` but {shown}{more} has no e-mail address"),
                "give every recipient an `email` in the recipient list, or stamp `{label}` or `{recipient}` instead",
            ));
            return;
        }
    }
    for link in links {
        let stamp = mark.visible.as_ref().map(|v| (stamp_text(&v.template, link, date), v.position));
        link.mark = Some(LinkMarkConfig { originals: mark.originals, stamp });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read_yaml(text: &str) -> (Option<Option<MarkConfig>>, Vec<Diagnostic>) {
        let node = super::super::yaml::parse(std::path::Path::new("gallery.yaml"), text).unwrap().unwrap();
        let mut ctx = FileDiagnostics::new("gallery.yaml");
        let mark = read(&mut ctx, &node, "links.x.mark");
        (mark, ctx.diags)
    }

    #[test]
    fn a_stamp_with_known_placeholders_reads_with_its_position() {
        let (mark, diags) = read_yaml("forensic: true\nvisible: \"{label} · {date}\"\nposition: tile\noriginals: true\n");
        assert!(diags.is_empty(), "{diags:?}");
        let mark = mark.unwrap().unwrap();
        assert!(mark.originals);
        let v = mark.visible.unwrap();
        assert_eq!((v.template.as_str(), v.position, v.at.line), ("{label} · {date}", StampPosition::Tile, 2));
    }

    #[test]
    fn booleans_are_short_forms_and_forensic_false_marks_nothing() {
        assert_eq!(read_yaml("true").0, Some(Some(MarkConfig { visible: None, originals: false })));
        assert_eq!(read_yaml("false").0, Some(None));
        assert_eq!(read_yaml("forensic: false\n").0, Some(None));
    }

    #[test]
    fn an_unknown_placeholder_is_named_with_the_closest_one() {
        let (mark, diags) = read_yaml("forensic: true\nvisible: \"{lable} {date}\"\n");
        assert!(mark.is_none());
        let text = diags[0].to_string();
        assert!(text.contains("gallery.yaml:2:") && text.contains("links.x.mark.visible") && text.contains("`{lable}` is not a stamp placeholder") && text.contains("did you mean `{label}`"), "{text}");
    }

    #[test]
    fn a_bad_position_and_an_unclosed_brace_are_errors() {
        let (_, diags) = read_yaml("forensic: true\nvisible: \"{label\"\nposition: middle\n");
        let all = diags.iter().map(ToString::to_string).collect::<Vec<_>>().join("\n");
        assert!(all.contains("`middle` is not a stamp position") && all.contains("position: corner"), "{all}");
        assert!(all.contains("a `{` without its `}`"), "{all}");
    }

    #[test]
    fn a_visible_stamp_with_forensic_false_is_refused() {
        let (mark, diags) = read_yaml("forensic: false\nvisible: \"{label}\"\n");
        assert!(mark.is_none());
        assert!(diags[0].is_error() && diags[0].to_string().contains("remove `forensic: false`"), "{:?}", diags);
    }

    #[test]
    fn a_visible_stamp_implies_the_forensic_mark() {
        let mark = read_yaml("visible: \"{label}\"\n").0.unwrap().unwrap();
        assert_eq!(mark.visible.unwrap().position, StampPosition::Corner);
    }

    #[test]
    fn the_stamp_text_fills_every_placeholder() {
        let link = LinkConfig {
            name: "dealers/shop-7".into(),
            label: "上海店".into(),
            max_views: None,
            expires: None,
            download: gatefold_contract::policy::Downloads::NONE,
            view_seconds: None,
            devices: None,
            disabled: false,
            rotate: 0,
            password: false,
            recipient: Some(gatefold_contract::manifest::Recipient { email: Some("a@b.cn".into()), note: None }),
            notify: None,
            opens_at: None,
            mark: None,
        };
        assert_eq!(stamp_text("{label} · {date} · {email} · {recipient}", &link, "2026-12-07"), "上海店 · 2026-12-07 · a@b.cn · shop-7");
    }
}
