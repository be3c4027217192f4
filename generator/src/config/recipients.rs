//! `recipients:` of an audience: a CSV file in the gallery folder (as Excel saves it) or an
//! inline YAML list. Each row becomes one link named `<audience>/<recipient>`.
//!
//! Rows are read all at once and every bad row is reported with its file and line, so an
//! owner fixing a list of 500 dealers sees every mistake in one run.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use gatefold_contract::ResolvedExpiry;
use gatefold_contract::policy::Downloads;
use saphyr::YamlData;

use super::policy::{self, EXPIRY_FIX, Setting};
use super::yaml::{FileDiagnostics, Node, describe, did_you_mean, join, pos};
use super::{SiteConfig, is_plain_file_name, is_slug, suggest_slug};
use crate::diagnostics::Diagnostic;

/// More would be a mailing list, not an audience: pages, QR files and the cockpit are sized
/// for hundreds.
pub const MAX_RECIPIENTS: usize = 2_000;
/// 2,000 rows of name, label, e-mail and note fit in well under 2 MB.
const MAX_CSV_BYTES: u64 = 2_000_000;
/// The columns a recipient list may have (`name` and `label` required).
pub const COLUMNS: &[&str] = &["name", "label", "email", "note", "max_views", "expires", "download", "devices"];
const REQUIRED: &[&str] = &["name", "label"];

/// Where a row or cell is written, for its diagnostics.
#[derive(Debug, Clone)]
pub struct Place {
    file: PathBuf,
    line: usize,
    column: Option<usize>,
    field: String,
}

impl Place {
    fn diag(&self, d: Diagnostic) -> Diagnostic {
        let d = match self.column {
            Some(col) => d.at(self.line, col),
            None => d.line(self.line),
        };
        d.field(&self.field)
    }

    fn error(&self, message: impl Into<String>, fix: impl Into<String>) -> Diagnostic {
        self.diag(Diagnostic::error(&self.file, message)).fix(fix)
    }

    fn warning(&self, message: impl Into<String>, fix: impl Into<String>) -> Diagnostic {
        self.diag(Diagnostic::warning(&self.file, message)).fix(fix)
    }
}

/// One recipient as the list writes it; the audience's policy fills what it leaves out.
#[derive(Debug, Clone)]
pub struct Row {
    pub name: String,
    pub label: String,
    pub email: Option<String>,
    pub note: Option<String>,
    pub max_views: Setting<u32>,
    pub expires: Setting<ResolvedExpiry>,
    pub download: Option<Downloads>,
    pub devices: Setting<u8>,
    pub at: Place,
}

/// Reads `recipients:` (a CSV file name or an inline list) of audience `audience`; `None` when
/// it has errors (all reported).
pub fn read(ctx: &mut FileDiagnostics, node: &Node<'_>, prefix: &str, dir: &Path, site: &SiteConfig) -> Option<Vec<Row>> {
    let field = join(prefix, "recipients");
    let errors_before = ctx.diags.iter().filter(|d| d.is_error()).count();
    let rows = match &node.data {
        YamlData::Value(saphyr::Scalar::String(file)) => read_csv_file(ctx, node, &field, file.trim(), dir, site),
        YamlData::Sequence(items) => items.iter().enumerate().filter_map(|(i, item)| inline_row(ctx, item, &format!("{field}[{i}]"), site)).collect(),
        _ => {
            ctx.error(
                Some(node),
                &field,
                format!("expected a CSV file name or a list of recipients, found {}", describe(node)),
                "write `recipients: dealers.csv` (a CSV file in the gallery folder with the header `name,label`) or a list of `- name: …` / `label: …` entries",
            );
            return None;
        }
    };
    if rows.is_empty() && ctx.diags.iter().filter(|d| d.is_error()).count() == errors_before {
        ctx.error(Some(node), &field, "the audience has no recipients, so nobody could open it", "add at least one recipient, or remove `recipients:` to make it a plain link");
        return None;
    }
    if rows.len() > MAX_RECIPIENTS {
        ctx.error(
            Some(node),
            &field,
            format!("{} recipients; an audience holds at most {MAX_RECIPIENTS}", rows.len()),
            "split the list into two audiences (two links, each with its own `recipients:`)",
        );
        return None;
    }
    check_rows(ctx, &rows);
    (ctx.diags.iter().filter(|d| d.is_error()).count() == errors_before).then_some(rows)
}

/// Checks that need every row: names valid and unique, e-mail addresses plausible.
fn check_rows(ctx: &mut FileDiagnostics, rows: &[Row]) {
    let mut seen: HashMap<&str, &Place> = HashMap::new();
    for row in rows {
        if !is_slug(&row.name) {
            ctx.diags.push(row.at.error(
                format!("recipient name `{}` is not valid (it becomes part of the link's id and its QR file names)", row.name),
                format!("use lowercase letters, digits and dashes, e.g. `{}`; put the human name in `label`", suggest_slug(&row.name)),
            ));
        } else if let Some(first) = seen.insert(&row.name, &row.at) {
            ctx.diags.push(row.at.error(
                format!("recipient `{}` appears twice (first on line {})", row.name, first.line),
                "give each recipient a name of its own, e.g. add the city: `dealer-shanghai-2`",
            ));
        }
        if let Some(email) = &row.email
            && !plausible_email(email)
        {
            let at = Place { field: row.at.field.replace(".name", ".email").replace("name", "email"), ..row.at.clone() };
            ctx.diags.push(at.warning(format!("`{email}` does not look like an e-mail address"), "write it as name@example.com, or leave the cell empty"));
        }
    }
}

/// A sanity check, not a validation: one `@` with text on both sides, a dot in the domain,
/// no spaces.
fn plausible_email(email: &str) -> bool {
    match email.split_once('@') {
        Some((local, domain)) => {
            !local.is_empty() && !domain.contains('@') && domain.contains('.') && !domain.starts_with('.') && !domain.ends_with('.') && !email.contains(char::is_whitespace)
        }
        None => false,
    }
}

fn optional(text: &str) -> Option<String> {
    let t = text.trim();
    (!t.is_empty()).then(|| t.to_string())
}

fn inline_row(ctx: &mut FileDiagnostics, item: &Node<'_>, field: &str, site: &SiteConfig) -> Option<Row> {
    let map = ctx.mapping(item, field, "a recipient (`name:`, `label:` and optional `email:`, `note:`, `max_views:`, `expires:`, `download:`, `devices:`)")?;
    ctx.unknown_keys(&map, field, COLUMNS);
    let (line, col) = pos(item);
    let at = Place { file: ctx.path.clone(), line, column: Some(col), field: field.to_string() };
    let required = |ctx: &mut FileDiagnostics, key: &str, fix: &str| match map.value(key) {
        Some(n) => ctx.required_text(n, &join(field, key)),
        None => {
            ctx.error(Some(item), &join(field, key), format!("missing `{key}`"), fix);
            None
        }
    };
    let name = required(ctx, "name", "add `name: dealer-shanghai` (lowercase letters, digits and dashes: it is part of the link's id)");
    let label = required(ctx, "label", "add `label: 上海经销商` (the name owners see and the QR card shows)");
    let mut text = |key: &str| map.value(key).and_then(|n| ctx.text(n, &join(field, key))).and_then(|t| optional(&t));
    let (email, note) = (text("email"), text("note"));
    let fields = policy::read(ctx, &map, field, site);
    Some(Row { name: name?, label: label?, email, note, max_views: fields.max_views, expires: fields.expires, download: fields.download, devices: fields.devices, at })
}

fn read_csv_file(ctx: &mut FileDiagnostics, node: &Node<'_>, field: &str, file: &str, dir: &Path, site: &SiteConfig) -> Vec<Row> {
    if !is_plain_file_name(file) || !file.to_ascii_lowercase().ends_with(".csv") {
        ctx.error(Some(node), field, format!("`{file}` is not a CSV file name in the gallery folder"), "write just the file name, e.g. `dealers.csv`: the list must sit in the gallery's own folder");
        return Vec::new();
    }
    let path = dir.join(file);
    if !path.is_file() {
        let csvs: Vec<String> = std::fs::read_dir(dir)
            .map(|rd| rd.flatten().map(|e| e.file_name().to_string_lossy().into_owned()).filter(|n| n.to_ascii_lowercase().ends_with(".csv")).collect())
            .unwrap_or_default();
        let fix = match did_you_mean(file, csvs.iter().map(String::as_str)) {
            Some(best) => format!("did you mean `{best}`? File names are case-sensitive"),
            None => format!("save the list as {} (Excel: \"CSV UTF-8\") or fix the name", path.display()),
        };
        ctx.error(Some(node), field, format!("`{file}` does not exist in the gallery folder"), fix);
        return Vec::new();
    }
    let mut diags = Vec::new();
    let rows = read_csv(&path, site, &mut diags);
    ctx.diags.extend(diags);
    rows
}

const UTF8_FIX: &str = "save it as UTF-8: in Excel choose \"CSV UTF-8 (Comma delimited)\"; in Numbers or LibreOffice pick the UTF-8 encoding";

/// Reads a recipient CSV: UTF-8 with or without BOM, CRLF or LF, quoted cells, a header row.
pub fn read_csv(path: &Path, site: &SiteConfig, diags: &mut Vec<Diagnostic>) -> Vec<Row> {
    let bytes = match std::fs::metadata(path).and_then(|m| if m.len() > MAX_CSV_BYTES { Ok(None) } else { std::fs::read(path).map(Some) }) {
        Ok(Some(b)) => b,
        Ok(None) => {
            diags.push(Diagnostic::error(path, format!("the list is over {} MB", MAX_CSV_BYTES / 1_000_000)).fix(format!("an audience holds at most {MAX_RECIPIENTS} recipients; keep only name, label, email and note columns")));
            return Vec::new();
        }
        Err(e) => {
            diags.push(Diagnostic::error(path, format!("cannot read the file: {e}")).fix("check the file's permissions"));
            return Vec::new();
        }
    };
    let text = match String::from_utf8(bytes) {
        Ok(t) => t,
        Err(e) => {
            let at = e.utf8_error().valid_up_to();
            let line = e.as_bytes()[..at].iter().filter(|b| **b == b'\n').count() + 1;
            diags.push(Diagnostic::error(path, "the list is not UTF-8 text (Chinese saved as GBK?)").line(line).fix(UTF8_FIX));
            return Vec::new();
        }
    };
    // Excel's "CSV UTF-8" starts with a byte-order mark; it is not part of the first column name.
    let text = text.strip_prefix('\u{feff}').unwrap_or(&text);
    // Lines are counted from byte offsets: the csv crate's own line numbers skip blank lines
    // and miscount CRLF, and every error must name the line the owner sees in an editor.
    // A record's position may sit before the line ends that precede it: skip them first.
    let line_at = |byte: u64| {
        let bytes = text.as_bytes();
        let mut at = (byte as usize).min(bytes.len());
        while at < bytes.len() && matches!(bytes[at], b'\r' | b'\n') {
            at += 1;
        }
        bytes[..at].iter().filter(|b| **b == b'\n').count() + 1
    };
    let mut reader = csv::ReaderBuilder::new().has_headers(true).flexible(false).trim(csv::Trim::All).from_reader(text.as_bytes());
    let header_at = |column: Option<&str>| Place { file: path.to_path_buf(), line: 1, column: None, field: column.unwrap_or("header").to_string() };
    let header: Vec<String> = match reader.headers() {
        Ok(h) => h.iter().map(|c| c.trim().to_ascii_lowercase()).collect(),
        Err(e) => {
            diags.push(header_at(None).error(format!("cannot read the header row: {e}"), "the first row names the columns: `name,label` and optional `email,note,max_views,expires,download,devices`"));
            return Vec::new();
        }
    };
    let mut columns: HashMap<&str, usize> = HashMap::new();
    let mut header_ok = true;
    for (i, name) in header.iter().enumerate() {
        if !COLUMNS.contains(&name.as_str()) {
            header_ok = false;
            let fix = match did_you_mean(name, COLUMNS.iter().copied()) {
                Some(best) => format!("did you mean `{best}`? (known columns: {})", COLUMNS.join(", ")),
                None => format!("remove the column or rename it; known columns: {}", COLUMNS.join(", ")),
            };
            diags.push(header_at(Some(name)).error(format!("unknown column `{name}`"), fix));
        } else if columns.insert(name, i).is_some() {
            header_ok = false;
            diags.push(header_at(Some(name)).error(format!("column `{name}` appears twice"), "keep one of the two columns"));
        }
    }
    for required in REQUIRED {
        if !columns.contains_key(required) {
            header_ok = false;
            diags.push(header_at(None).error(
                format!("the header has no `{required}` column"),
                "the first row must name the columns, starting with `name,label` (then optional `email,note,max_views,expires,download,devices`)",
            ));
        }
    }
    if !header_ok {
        return Vec::new();
    }
    let mut rows = Vec::new();
    for record in reader.records() {
        let record = match record {
            Ok(r) => r,
            Err(e) => {
                let line = e.position().map(|p| line_at(p.byte())).unwrap_or(0);
                let message = match e.kind() {
                    csv::ErrorKind::UnequalLengths { expected_len, len, .. } => format!("the row has {len} cells, the header has {expected_len}"),
                    _ => format!("cannot read the row: {e}"),
                };
                diags.push(Place { file: path.to_path_buf(), line, column: None, field: "row".into() }.error(message, "put quotes around cells containing commas (\"上海, 浦东\") and give every row as many cells as the header"));
                continue;
            }
        };
        // Excel keeps rows that were only cleared as a line of commas.
        if record.iter().all(str::is_empty) {
            continue;
        }
        let line = record.position().map(|p| line_at(p.byte())).unwrap_or(0);
        let cell = |name: &str| columns.get(name).and_then(|&i| record.get(i)).unwrap_or("").to_string();
        let at = |column: &str| Place { file: path.to_path_buf(), line, column: None, field: column.to_string() };
        if let Some(row) = csv_row(&cell, &at, site, diags) {
            rows.push(row);
        }
    }
    rows
}

/// One data row of a recipient CSV; `None` after reporting its bad cells.
fn csv_row(cell: &dyn Fn(&str) -> String, at: &dyn Fn(&str) -> Place, site: &SiteConfig, diags: &mut Vec<Diagnostic>) -> Option<Row> {
    let mut ok = true;
    let mut bad = |column: &str, message: String, fix: &str| {
        ok = false;
        diags.push(at(column).error(message, fix));
    };
    let name = cell("name");
    if name.is_empty() {
        bad("name", "the row has no name".into(), "write the recipient's name, e.g. `dealer-shanghai` (lowercase letters, digits and dashes: it is part of the link's id)");
    }
    let label = cell("label");
    if label.is_empty() {
        bad("label", format!("recipient `{name}` has no label"), "write the name owners see and the QR card shows, e.g. 上海经销商");
    }
    let max_views = match cell("max_views").as_str() {
        "" => Setting::Inherit,
        t if t.eq_ignore_ascii_case("unlimited") => Setting::Cleared,
        t => match t.parse::<u32>() {
            Ok(n) if n >= 1 => Setting::Set(n),
            _ => {
                bad("max_views", format!("`{t}` is not a number of views"), "write how many times this recipient may open the link (at least 1), `unlimited`, or leave the cell empty to inherit the audience's");
                Setting::Inherit
            }
        },
    };
    let expires = match cell("expires").as_str() {
        "" => Setting::Inherit,
        t if t.eq_ignore_ascii_case("never") => Setting::Cleared,
        t => match policy::read_expiry(t, site) {
            Ok(e) => Setting::Set(e),
            Err(message) => {
                bad("expires", message, &format!("{EXPIRY_FIX}, `never`, or leave the cell empty to inherit the audience's"));
                Setting::Inherit
            }
        },
    };
    let download = match cell("download").as_str() {
        "" => None,
        t => match policy::download_cell(t) {
            Ok(d) => Some(d),
            Err(message) => {
                bad("download", message, "write `false`, `true`, `original`, `web`, `original+web`, or leave the cell empty to inherit the audience's");
                None
            }
        },
    };
    let devices = policy::devices_cell(&cell("devices")).unwrap_or_else(|message| {
        bad("devices", message, &format!("{}, or leave the cell empty to inherit the audience's", policy::DEVICES_FIX));
        Setting::Inherit
    });
    ok.then(|| Row {
        devices,
        name,
        label,
        email: optional(&cell("email")),
        note: optional(&cell("note")),
        max_views,
        expires,
        download,
        at: at("name"),
    })
}

impl Row {
    /// A warning for a row whose own expiry has passed.
    pub fn expired_warning(&self, written: &str, tz: &chrono_tz::Tz) -> Diagnostic {
        self.at.warning(
            format!("recipient `{}` expired on {written} ({tz}); they will see 'expired'", self.name),
            "set a later `expires` for the recipient, clear the cell to inherit the audience's, or remove the row",
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{LoadOptions, Project, load};

    fn site() -> SiteConfig {
        let mut ctx = FileDiagnostics::new("site.yaml");
        let mut site = super::super::site::read(&mut ctx, None, None);
        site.timezone = chrono_tz::Asia::Shanghai;
        site.utc_offsets = super::super::utc_offsets(site.timezone);
        site
    }

    fn csv(bytes: &[u8]) -> (Vec<Row>, Vec<Diagnostic>) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("dealers.csv");
        std::fs::write(&path, bytes).unwrap();
        let mut diags = Vec::new();
        let rows = read_csv(&path, &site(), &mut diags);
        (rows, diags)
    }

    #[test]
    fn excel_csv_with_bom_crlf_quotes_and_chinese_reads_like_plain_lf() {
        let excel = "\u{feff}name,label,email,note\r\ndealer-sh,上海经销商,sh@d.example,\"浦东, \"\"旗舰\"\"\"\r\ndealer-bj,北京经销商,,\r\n";
        let plain = "name,label,email,note\ndealer-sh,上海经销商,sh@d.example,\"浦东, \"\"旗舰\"\"\"\ndealer-bj,北京经销商,,\n";
        for text in [excel, plain] {
            let (rows, diags) = csv(text.as_bytes());
            assert!(diags.is_empty(), "{diags:?}");
            assert_eq!(rows.iter().map(|r| (r.name.as_str(), r.label.as_str())).collect::<Vec<_>>(), [("dealer-sh", "上海经销商"), ("dealer-bj", "北京经销商")]);
            assert_eq!(rows[0].note.as_deref(), Some("浦东, \"旗舰\""));
            assert_eq!((rows[0].email.as_deref(), rows[1].email.as_deref(), rows[1].note.as_deref()), (Some("sh@d.example"), None, None));
            assert_eq!(rows[1].at.line, 3);
        }
    }

    #[test]
    fn columns_may_come_in_any_order_in_any_case_and_cleared_rows_are_skipped() {
        let (rows, diags) = csv(b"Label,NAME\nA,a\n,\nB,b\n");
        assert!(diags.is_empty(), "{diags:?}");
        assert_eq!(rows.iter().map(|r| (r.name.as_str(), r.at.line)).collect::<Vec<_>>(), [("a", 2), ("b", 4)]);
    }

    #[test]
    fn override_cells_set_clear_or_inherit() {
        let (rows, diags) = csv(b"name,label,max_views,expires,download\na,A,5,2026-12-31,web\nb,B,unlimited,never,original+web\nc,C,,,\n");
        assert!(diags.is_empty(), "{diags:?}");
        assert_eq!(rows[0].max_views, Setting::Set(5));
        assert!(matches!(rows[0].expires, Setting::Set(ResolvedExpiry { at: 1_798_732_800, .. })), "end of 2026-12-31 in Shanghai");
        assert_eq!(rows[0].download, Some(Downloads::WEB));
        assert_eq!((rows[1].max_views.clone(), rows[1].expires.clone(), rows[1].download), (Setting::Cleared, Setting::Cleared, Some(Downloads::BOTH)));
        assert_eq!((rows[2].max_views.clone(), rows[2].expires.clone(), rows[2].download), (Setting::Inherit, Setting::Inherit, None));
    }

    #[test]
    fn gbk_text_is_refused_with_the_excel_option_to_choose() {
        // "经销商" in GBK, as Excel's plain "CSV" saves it on a Chinese Windows.
        let (rows, diags) = csv(b"name,label\nd-1,\xbe\xad\xcf\xfa\xc9\xcc\n");
        assert!(rows.is_empty());
        assert_eq!((diags[0].line, diags[0].message.as_str()), (Some(2), "the list is not UTF-8 text (Chinese saved as GBK?)"));
        assert!(diags[0].fix.as_deref().unwrap().contains("CSV UTF-8"));
    }

    #[test]
    fn plausible_emails_pass_and_odd_ones_do_not() {
        for ok in ["a@b.example", "first.last+tag@mail.example.cn"] {
            assert!(plausible_email(ok), "{ok}");
        }
        for odd in ["", "a", "a@b", "@b.example", "a@@b.example", "a b@c.example", "a@.example", "a@example."] {
            assert!(!plausible_email(odd), "{odd}");
        }
    }

    /// A galleries folder with one gallery `g` of `yaml` and `files`.
    fn load_gallery(yaml: &str, files: &[(&str, &[u8])]) -> Result<(Project, crate::diagnostics::Diagnostics), crate::diagnostics::Diagnostics> {
        let dir = tempfile::tempdir().unwrap();
        let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/fixtures/sites/invalid-duplicate-link");
        std::fs::copy(fixtures.join("site.yaml"), dir.path().join("site.yaml")).unwrap();
        std::fs::create_dir(dir.path().join("g")).unwrap();
        std::fs::copy(fixtures.join("g/a.jpg"), dir.path().join("g/a.jpg")).unwrap();
        std::fs::write(dir.path().join("g/gallery.yaml"), yaml).unwrap();
        for (name, bytes) in files {
            std::fs::write(dir.path().join("g").join(name), bytes).unwrap();
        }
        load(dir.path(), &LoadOptions { themes: None, verify_images: false, now: 0, known: None })
    }

    #[test]
    fn a_recipients_devices_come_from_its_row_else_its_audience_and_unlimited_clears_them() {
        let yaml = "title: G\nlinks:\n  channel:\n    devices: 2\n    recipients: dealers.csv\n  inline:\n    devices: 4\n    recipients:\n      - name: ann\n        label: Ann\n        devices: 1\n  team:\n    devices: 20\n";
        let (project, _) = load_gallery(yaml, &[("dealers.csv", b"name,label,devices\nsh,Shanghai,3\nbj,Beijing,\ngz,Guangzhou,unlimited\n")]).unwrap();
        let devices: Vec<(&str, Option<u8>)> = project.galleries[0].links.iter().map(|l| (l.name.as_str(), l.devices)).collect();
        assert_eq!(devices, [("channel/sh", Some(3)), ("channel/bj", Some(2)), ("channel/gz", None), ("inline/ann", Some(1)), ("team", Some(20))]);
        assert_eq!(project.galleries[0].links[0].policy(false).devices, Some(3), "the published policy carries it");
    }

    #[test]
    fn each_recipient_becomes_a_link_inheriting_the_audience_policy_except_what_its_row_overrides() {
        let yaml = "title: G\nlinks:\n  channel:\n    label: 渠道\n    max_views: 20\n    download: true\n    password: required\n    rotate: 2\n    recipients: dealers.csv\n  team: {}\n";
        let (project, warnings) = load_gallery(yaml, &[("dealers.csv", b"name,label,email,max_views,download\nsh,Shanghai,sh@d.example,,\nbj,Beijing,,3,web\n")]).unwrap();
        assert!(warnings.0.is_empty(), "{warnings}");
        let g = &project.galleries[0];
        assert_eq!(g.images.len(), 1, "the CSV is not an image");
        let names: Vec<&str> = g.links.iter().map(|l| l.name.as_str()).collect();
        assert_eq!(names, ["channel/sh", "channel/bj", "team"]);
        let (sh, bj) = (&g.links[0], &g.links[1]);
        assert_eq!((sh.label.as_str(), sh.max_views, sh.download, sh.password, sh.rotate), ("Shanghai", Some(20), Downloads::ORIGINAL, true, 2));
        assert_eq!(sh.recipient, Some(gatefold_contract::manifest::Recipient { email: Some("sh@d.example".into()), note: None }));
        assert_eq!((bj.max_views, bj.download, bj.password), (Some(3), Downloads::WEB, true));
        assert!(!g.links[2].password && g.links[2].recipient.is_none());
        // The audience's published terms are its recipients' widest: Shanghai's 20 over Beijing's 3,
        // with the fingerprint of every recipient's terms.
        let terms = gatefold_contract::LinkPolicy { max_views: Some(20), ..Default::default() };
        let fingerprint = g.audiences["channel"].terms.terms_fingerprint.clone().expect("an audience's terms have a fingerprint");
        assert_eq!(g.audiences["channel"], gatefold_contract::manifest::Audience { label: "渠道".into(), recipients: 2, terms: gatefold_contract::LinkPolicy { terms_fingerprint: Some(fingerprint.clone()), ..terms } });
        // Beijing's own limit moved: the widest terms stay, the fingerprint moves.
        let (moved, _) = load_gallery(yaml, &[("dealers.csv", b"name,label,email,max_views,download\nsh,Shanghai,sh@d.example,,\nbj,Beijing,,4,web\n")]).unwrap();
        let moved = &moved.galleries[0].audiences["channel"].terms;
        assert_eq!(moved.max_views, Some(20));
        assert_ne!(moved.terms_fingerprint.as_deref(), Some(fingerprint.as_str()));
    }

    #[test]
    fn an_audience_and_a_link_of_the_same_name_clash() {
        let yaml = "title: G\nlinks:\n  channel:\n    recipients:\n      - name: a\n        label: A\n  channel:\n    label: Plain\n";
        let report = load_gallery(yaml, &[]).unwrap_err().to_string();
        assert!(report.contains("gallery.yaml:7:") && report.contains("`channel` appears twice"), "{report}");
    }

    #[test]
    fn download_takes_false_true_original_web_or_a_list() {
        let yaml = "title: G\nlinks:\n  a:\n    download: false\n  b:\n    download: true\n  c:\n    download: original\n  d:\n    download: web\n  e:\n    download: [original, web]\n  f:\n    download: [web]\n";
        let (project, _) = load_gallery(yaml, &[]).unwrap();
        let got: Vec<Downloads> = project.galleries[0].links.iter().map(|l| l.download).collect();
        assert_eq!(got, [Downloads::NONE, Downloads::ORIGINAL, Downloads::ORIGINAL, Downloads::WEB, Downloads::BOTH, Downloads::WEB]);
        for bad in ["yes", "[]", "[original, thumbnail]", "{original: true}", "3"] {
            let report = load_gallery(&format!("title: G\nlinks:\n  a:\n    download: {bad}\n"), &[]).unwrap_err().to_string();
            assert!(report.contains("gallery.yaml:4:") && report.contains("links.a.download"), "{bad}: {report}");
        }
    }

    #[test]
    fn password_takes_only_required_and_never_the_password() {
        let (project, _) = load_gallery("title: G\nlinks:\n  a:\n    password: required\n", &[]).unwrap();
        assert!(project.galleries[0].links[0].password);
        for bad in ["hunter22", "true", "\"\"", "secret-password"] {
            let report = load_gallery(&format!("title: G\nlinks:\n  a:\n    password: {bad}\n"), &[]).unwrap_err().to_string();
            assert!(report.contains("gallery.yaml:4:15: links.a.password: `password:` takes only `required`"), "{bad}: {report}");
            assert!(report.contains("gatefold password g/a"), "{report}");
        }
    }

    #[test]
    fn more_than_two_thousand_recipients_is_an_error_naming_the_way_out() {
        let mut list = String::from("name,label\n");
        for i in 0..=MAX_RECIPIENTS {
            list.push_str(&format!("d-{i},D {i}\n"));
        }
        let report = load_gallery("title: G\nlinks:\n  channel:\n    recipients: dealers.csv\n", &[("dealers.csv", list.as_bytes())]).unwrap_err().to_string();
        assert!(report.contains("gallery.yaml:4:17: links.channel.recipients: 2001 recipients; an audience holds at most 2000"), "{report}");
        assert!(report.contains("split the list into two audiences"), "{report}");
    }
}
