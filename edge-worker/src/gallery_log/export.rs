//! Raw-event exports: CSV for any spreadsheet, XLSX with a summary sheet for Excel users.
//! Pure functions over rows already read from the `GalleryLog`, tested natively.

use super::rollup::Query;
use super::GalleryLogClient;
use super::access_log::{EXPORT_PAGE, ExportPage, StoredEvent};
use crate::access::COLUMNS;
use gatefold_contract::admin::{AuditEntry, FollowUp, GalleryStats};
use gatefold_contract::manifest::{Site, split_link_name};
use gatefold_contract::time::WallTime;

/// The gallery's forwarding flags by link name (`super::forwarding::all`).
pub type Flags = std::collections::BTreeMap<String, gatefold_contract::devices::Forwarding>;

/// The export's header: local time first, then every stored column, then a recipient's
/// audience and own name (the parts of `link`, empty for other links), then whether the row's
/// link is flagged "possibly forwarded" (its evidence, empty when not).
pub fn headers() -> Vec<&'static str> {
    std::iter::once("time_local").chain(COLUMNS.iter().map(|c| c.header)).chain(["audience", "recipient", "possibly_forwarded"]).collect()
}

/// Excel opens a BOM-less UTF-8 CSV as the system code page and mangles Chinese.
pub const UTF8_BOM: &str = "\u{feff}";

/// `2026-03-02 01:30:00 +08:00`: a logged time (Unix ms) on the site's clock, saying its offset.
fn stamp_ms(site: &Site, ts_ms: i64) -> String {
    WallTime::at(site, ts_ms.div_euclid(1000)).stamp()
}

/// A spreadsheet runs a cell starting with `=`, `+`, `-`, `@` (or a tab/CR before one) as a
/// formula; referrers, cities and image ids arrive from outside, so such cells are prefixed
/// with `'` (OWASP's CSV-injection advice).
pub fn defuse(cell: &str) -> String {
    if cell.starts_with(['=', '+', '-', '@', '\t', '\r']) { format!("'{cell}") } else { cell.to_string() }
}

/// The cells of a row in [`headers`] order, each defused.
fn cells(site: &Site, flags: &Flags, r: &StoredEvent) -> Vec<String> {
    // Serialising gives each column's value by the column's name: no field list to keep in step.
    let json = serde_json::to_value(&r.event).unwrap_or_default();
    let (audience, recipient) = match split_link_name(&r.event.link) {
        (Some(audience), recipient) => (defuse(audience), defuse(recipient)),
        (None, _) => (String::new(), String::new()),
    };
    std::iter::once(stamp_ms(site, r.event.ts))
        .chain(COLUMNS.iter().map(|c| match &json[c.name] {
            serde_json::Value::String(s) => defuse(s),
            serde_json::Value::Null => String::new(),
            other => defuse(&other.to_string()),
        }))
        .chain([audience, recipient])
        .chain(std::iter::once(flags.get(&r.event.link).map_or_else(String::new, |f| defuse(&f.summary(site.default_locale == gatefold_contract::Locale::ZhCn)))))
        .collect()
}

/// Starts a CSV export: BOM and header line.
pub fn csv_header() -> Vec<u8> {
    let mut out = UTF8_BOM.as_bytes().to_vec();
    out.extend(csv_rows_with(|w| w.write_record(headers())));
    out
}

/// CSV lines (every field quoted, CRLF) for a page of rows.
pub fn csv_rows(site: &Site, flags: &Flags, rows: &[StoredEvent]) -> Vec<u8> {
    csv_rows_with(|w| {
        for r in rows {
            w.write_record(cells(site, flags, r))?;
        }
        Ok(())
    })
}

fn csv_rows_with(write: impl FnOnce(&mut csv::Writer<Vec<u8>>) -> csv::Result<()>) -> Vec<u8> {
    let mut w = csv::WriterBuilder::new().terminator(csv::Terminator::CRLF).quote_style(csv::QuoteStyle::Always).from_writer(Vec::new());
    // Writing into a Vec cannot fail; a failure here would be a bug in the csv crate.
    write(&mut w).expect("writing CSV into memory");
    w.into_inner().expect("flushing CSV into memory")
}

/// The CSV export as a stream: the header, then one page of rows at a time read from the log
/// and written out before the next is asked for, so the worker and the object hold one page
/// whatever the log's size.
pub fn csv_stream(
    log: GalleryLogClient,
    site: Site,
    flags: Flags,
    query: Query,
) -> impl futures_util::TryStream<Ok = Vec<u8>, Error = worker::Error, Item = worker::Result<Vec<u8>>> + 'static {
    // State: the last id written, or `None` before the header; the stream ends after a short page.
    let site = (site, flags);
    futures_util::stream::try_unfold((log, site, query, None::<i64>, false), |(log, site, query, after, done)| async move {
        if done {
            return Ok(None);
        }
        let Some(after_id) = after else { return Ok(Some((csv_header(), (log, site, query, Some(0), false)))) };
        let rows = log.export_page(&ExportPage { query: query.clone(), after_id, limit: EXPORT_PAGE }).await?;
        let last = rows.last().map_or(after_id, |r| r.id);
        let done = rows.len() < EXPORT_PAGE as usize;
        Ok(Some((csv_rows(&site.0, &site.1, &rows), (log, site, query, Some(last), done))))
    })
}

/// Most events an Excel export holds: the workbook is built in memory (rust_xlsxwriter's
/// streaming mode needs a file system), and a Worker has 128 MB.
pub const XLSX_MAX_ROWS: usize = 50_000;

/// Excel's limit for the text of one cell.
const XLSX_MAX_CELL_CHARS: usize = 32_767;

/// Text as Excel can hold it: anything longer is cut, so no stored value can fail the export.
fn xlsx_text(s: &str) -> &str {
    s.char_indices().nth(XLSX_MAX_CELL_CHARS).map_or(s, |(at, _)| &s[..at])
}

/// Why an Excel export was not made.
#[derive(Debug)]
pub enum XlsxRefused {
    TooManyRows,
    Failed(worker::Error),
}

impl XlsxRefused {
    pub fn message() -> String {
        format!(
            "this window holds more than {XLSX_MAX_ROWS} log rows, more than an Excel export takes: narrow the dates or pick one link, or use the CSV export, which has no limit"
        )
    }
}

/// Reads the window's rows page by page into a workbook (see [`xlsx`]), refusing past
/// [`XLSX_MAX_ROWS`].
pub async fn xlsx_from_log(log: &GalleryLogClient, site: &Site, stats: &GalleryStats, query: &Query, extra: &Extra) -> Result<Vec<u8>, XlsxRefused> {
    let mut book = Xlsx::new(site, stats).map_err(xlsx_error)?;
    book.flags = log.flags().await.map_err(XlsxRefused::Failed)?;
    let mut after_id = 0;
    loop {
        let rows = log.export_page(&ExportPage { query: query.clone(), after_id, limit: EXPORT_PAGE }).await.map_err(XlsxRefused::Failed)?;
        if book.rows + rows.len() > XLSX_MAX_ROWS {
            return Err(XlsxRefused::TooManyRows);
        }
        book.add(&rows).map_err(xlsx_error)?;
        match rows.last() {
            Some(last) if rows.len() == EXPORT_PAGE as usize => after_id = last.id,
            _ => break,
        }
    }
    book.extras(extra).map_err(xlsx_error)?;
    book.finish().map_err(xlsx_error)
}

/// What a workbook holds besides the access log: the window's owner actions (newest first)
/// and the gallery's follow-up lists.
#[derive(Debug, Clone, Default)]
pub struct Extra {
    pub audit: Vec<AuditEntry>,
    pub follow_up: Option<FollowUp>,
}

/// The audit log's columns, in the CSV and the "Audit" sheet.
pub const AUDIT_HEADERS: [&str; 8] = ["time_local", "action", "target", "before", "after", "ip", "device", "actor"];

/// An entry's cells in [`AUDIT_HEADERS`] order, each defused (targets and states hold names
/// an owner wrote in git).
fn audit_cells(site: &Site, e: &AuditEntry) -> [String; 8] {
    let text = |s: &Option<String>| defuse(s.as_deref().unwrap_or_default());
    [stamp_ms(site, e.at), defuse(&e.action), defuse(&e.target), text(&e.before), text(&e.after), text(&e.ip), text(&e.device), text(&e.actor)]
}

/// The audit log as CSV: BOM, header, one row per entry in the order given.
pub fn audit_csv(site: &Site, entries: &[AuditEntry]) -> Vec<u8> {
    let mut out = UTF8_BOM.as_bytes().to_vec();
    out.extend(csv_rows_with(|w| {
        w.write_record(AUDIT_HEADERS)?;
        for e in entries {
            w.write_record(audit_cells(site, e))?;
        }
        Ok(())
    }));
    out
}

fn xlsx_error(e: rust_xlsxwriter::XlsxError) -> XlsxRefused {
    XlsxRefused::Failed(worker::Error::RustError(format!("building the workbook: {e}")))
}

/// A workbook with a "Summary" sheet (totals and breakdowns) and an "Events" sheet (every row),
/// filled a page of rows at a time. Every text cell goes through [`xlsx_text`].
pub struct Xlsx<'a> {
    book: rust_xlsxwriter::Workbook,
    site: &'a Site,
    /// The gallery's forwarding flags, for the events' `possibly_forwarded` column.
    pub flags: Flags,
    /// Event rows written so far.
    pub rows: usize,
}

impl<'a> Xlsx<'a> {
    pub fn new(site: &'a Site, stats: &GalleryStats) -> Result<Xlsx<'a>, rust_xlsxwriter::XlsxError> {
        use rust_xlsxwriter::{Format, Workbook, Worksheet, XlsxError};
        let mut book = Workbook::new();
        let bold = Format::new().set_bold();

        let summary = book.add_worksheet().set_name("Summary")?;
        summary.set_column_width(0, 28)?;
        summary.set_column_width(1, 14)?;
        let mut r = 0u32;
        let pair = |sheet: &mut Worksheet, r: &mut u32, k: &str, v: f64| -> Result<(), XlsxError> {
            sheet.write_string(*r, 0, xlsx_text(&defuse(k)))?;
            sheet.write_number(*r, 1, v)?;
            *r += 1;
            Ok(())
        };
        let title = |sheet: &mut Worksheet, r: &mut u32, k: &str, v: &str| -> Result<(), XlsxError> {
            sheet.write_string_with_format(*r, 0, k, &bold)?;
            sheet.write_string(*r, 1, xlsx_text(&defuse(v)))?;
            *r += 1;
            Ok(())
        };
        title(summary, &mut r, "Gallery", &stats.gallery_title)?;
        title(summary, &mut r, "From", &WallTime::at(site, stats.from).stamp())?;
        title(summary, &mut r, "To", &WallTime::at(site, stats.to).stamp())?;
        title(summary, &mut r, "Timezone", &stats.timezone)?;
        r += 1;
        let t = &stats.totals;
        for (k, v) in [
            ("Opens admitted", t.opens_admitted),
            ("Opens denied", t.opens_denied),
            ("Unique visitors", t.unique_visitors),
            ("Downloads", t.downloads),
            ("Full-size image views", t.image_views),
            ("Link previews", t.previews),
        ] {
            pair(summary, &mut r, k, v as f64)?;
        }
        let section = |sheet: &mut Worksheet, r: &mut u32, title: &str, items: Vec<(String, u64)>| -> Result<(), XlsxError> {
            *r += 1;
            sheet.write_string_with_format(*r, 0, title, &bold)?;
            *r += 1;
            for (k, v) in items {
                pair(sheet, r, &k, v as f64)?;
            }
            Ok(())
        };
        let counts = |v: &[gatefold_contract::admin::Count]| v.iter().map(|c| (c.key.clone(), c.count)).collect::<Vec<_>>();
        section(summary, &mut r, "Denied by reason", t.denied_by_reason.iter().map(|(k, v)| (k.clone(), *v)).collect())?;
        section(summary, &mut r, "Opens per link", stats.links.iter().map(|l| (l.name.clone(), l.opens_admitted)).collect())?;
        section(summary, &mut r, "Opens per day", counts(&stats.opens_per_day))?;
        section(summary, &mut r, "Opens per hour of day", stats.opens_per_hour.iter().enumerate().map(|(h, n)| (format!("{h:02}:00"), *n)).collect())?;
        // The admin page's peak-hours grid, as a grid: a row per weekday, a column per hour.
        r += 1;
        summary.write_string_with_format(r, 0, "Opens by weekday and hour", &bold)?;
        r += 1;
        summary.write_string_with_format(r, 0, "Weekday", &bold)?;
        for h in 0..24u16 {
            summary.write_string_with_format(r, h + 1, format!("{h:02}:00"), &bold)?;
        }
        for (day, row) in ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"].iter().zip(&stats.opens_by_weekday_hour) {
            r += 1;
            summary.write_string(r, 0, *day)?;
            for (h, n) in row.iter().enumerate() {
                summary.write_number(r, h as u16 + 1, *n as f64)?;
            }
        }
        r += 1;
        section(summary, &mut r, "Countries", counts(&stats.countries))?;
        section(summary, &mut r, "Cities", counts(&stats.cities))?;
        section(summary, &mut r, "Devices", counts(&stats.devices))?;
        section(summary, &mut r, "Operating systems", counts(&stats.os))?;
        section(summary, &mut r, "Browsers", counts(&stats.browsers))?;
        section(summary, &mut r, "Referrers", counts(&stats.referrers))?;
        section(summary, &mut r, "Image views", stats.images.iter().map(|i| (i.file_name.clone(), i.views)).collect())?;
        section(summary, &mut r, "Image downloads", stats.images.iter().map(|i| (i.file_name.clone(), i.downloads)).collect())?;

        let events = book.add_worksheet().set_name("Events")?;
        // Sheet 1, which `add` fills; a Recipients sheet comes after it.
        for (c, name) in headers().into_iter().enumerate() {
            events.write_string_with_format(0, c as u16, name, &bold)?;
        }
        events.set_freeze_panes(1, 0)?;

        // Who of each audience opened or downloaded: the follow-up list owners work from.
        if stats.links.iter().any(|l| l.audience.is_some()) {
            let sheet = book.add_worksheet().set_name("Recipients")?;
            let labels: std::collections::HashMap<&str, &str> = stats.audiences.iter().map(|a| (a.name.as_str(), a.label.as_str())).collect();
            for (c, name) in ["audience", "audience_label", "recipient", "label", "activity", "opens", "downloads", "first_open", "last_open"].into_iter().enumerate() {
                sheet.write_string_with_format(0, c as u16, name, &bold)?;
            }
            sheet.set_freeze_panes(1, 0)?;
            let mut row = 0u32;
            for l in stats.links.iter().filter(|l| l.audience.is_some()) {
                row += 1;
                let audience = l.audience.as_deref().unwrap_or_default();
                let when = |at: Option<i64>| at.map(|s| WallTime::at(site, s).stamp()).unwrap_or_default();
                let texts = [audience, labels.get(audience).copied().unwrap_or_default(), l.recipient.as_deref().unwrap_or_default(), &l.label, l.activity.map_or("", |a| a.name())];
                for (c, text) in texts.iter().enumerate() {
                    sheet.write_string(row, c as u16, xlsx_text(&defuse(text)))?;
                }
                sheet.write_number(row, 5, l.opens_admitted as f64)?;
                sheet.write_number(row, 6, l.downloads as f64)?;
                sheet.write_string(row, 7, when(l.first_open))?;
                sheet.write_string(row, 8, when(l.last_open))?;
            }
        }
        Ok(Xlsx { book, site, flags: Flags::new(), rows: 0 })
    }

    pub fn add(&mut self, rows: &[StoredEvent]) -> Result<(), rust_xlsxwriter::XlsxError> {
        let events = self.book.worksheet_from_index(1)?;
        for row in rows {
            self.rows += 1;
            let line = self.rows as u32;
            for (c, cell) in cells(self.site, &self.flags, row).iter().enumerate() {
                // Numbers stay numbers so owners can sum and sort them (column 0 is local time).
                let number = c.checked_sub(1).and_then(|i| COLUMNS.get(i)).is_some_and(|col| col.is_number());
                match cell.parse::<f64>() {
                    Ok(n) if number => events.write_number(line, c as u16, n)?,
                    _ => events.write_string(line, c as u16, xlsx_text(cell))?,
                };
            }
        }
        Ok(())
    }

    /// The "Audit" and "Follow-up" sheets, after the others.
    pub fn extras(&mut self, extra: &Extra) -> Result<(), rust_xlsxwriter::XlsxError> {
        let bold = rust_xlsxwriter::Format::new().set_bold();
        let sheet = self.book.add_worksheet().set_name("Audit")?;
        for (c, name) in AUDIT_HEADERS.into_iter().enumerate() {
            sheet.write_string_with_format(0, c as u16, name, &bold)?;
        }
        sheet.set_freeze_panes(1, 0)?;
        for (r, e) in extra.audit.iter().enumerate() {
            for (c, cell) in audit_cells(self.site, e).iter().enumerate() {
                sheet.write_string(r as u32 + 1, c as u16, xlsx_text(cell))?;
            }
        }
        let sheet = self.book.add_worksheet().set_name("Follow-up")?;
        for (c, name) in ["audience", "group", "list", "link", "label", "first_open", "last_open", "views_left"].into_iter().enumerate() {
            sheet.write_string_with_format(0, c as u16, name, &bold)?;
        }
        sheet.set_freeze_panes(1, 0)?;
        let mut r = 0u32;
        let site = self.site;
        let when = |at: Option<i64>| at.map(|s| WallTime::at(site, s).stamp()).unwrap_or_default();
        for g in extra.follow_up.iter().flat_map(|f| &f.groups) {
            for (list, links) in [("not_opened", &g.not_opened), ("not_downloaded", &g.not_downloaded)] {
                for l in links {
                    r += 1;
                    let (first, last) = (when(l.first_open), when(l.last_open));
                    let texts = [g.audience.as_deref().unwrap_or_default(), g.label.as_str(), list, &l.name, &l.label, &first, &last];
                    for (c, text) in texts.iter().enumerate() {
                        sheet.write_string(r, c as u16, xlsx_text(&defuse(text)))?;
                    }
                    if let Some(n) = l.views_left {
                        sheet.write_number(r, 7, n as f64)?;
                    }
                }
            }
        }
        Ok(())
    }

    pub fn finish(mut self) -> Result<Vec<u8>, rust_xlsxwriter::XlsxError> {
        self.book.save_to_buffer()
    }
}

/// A whole workbook from rows in memory (tests and small exports).
pub fn xlsx(site: &Site, stats: &GalleryStats, rows: &[StoredEvent]) -> Result<Vec<u8>, rust_xlsxwriter::XlsxError> {
    let mut book = Xlsx::new(site, stats)?;
    book.add(rows)?;
    book.finish()
}

#[cfg(test)]
mod tests {
    use super::*;
    use gatefold_contract::Locale;
    use crate::access::{ADMITTED, CfGeo, EventKind, EventSpec, Visitor, build_event};
    use gatefold_contract::SigningKey;
    use gatefold_contract::manifest::IpLogging;

    fn site() -> Site {
        Site {
            title: "t".into(),
            base_url: "https://x.test".into(),
            default_locale: Locale::ZhCn,
            timezone: "Asia/Kolkata".into(),
            ip_logging: IpLogging::Truncated,
            utc_offsets: vec![(0, 5 * 3600 + 1800)],
            dev_key: true,
            key_fingerprint: String::new(),
            analytics: Default::default(),
            digest_hour: gatefold_contract::notify::DEFAULT_DIGEST_HOUR,
        }
    }

    fn row() -> StoredEvent {
        let visitor = Visitor { geo: CfGeo { asn: Some(4134), ..CfGeo::default() }, ..Visitor::default() };
        let spec = EventSpec { gallery: "g", link: "market", kind: EventKind::Open, outcome: ADMITTED.into(), image: None };
        let mut event = build_event(spec, &visitor, IpLogging::Off, &SigningKey::dev(), 1_772_386_200_000).event; // 2026-03-01 17:30:00 UTC
        event.city = Some("上海, \"Pudong\"".into());
        // Rows logged before referrers were cut to their origin can hold anything.
        event.referrer = Some("=HYPERLINK(\"http://evil\")".into());
        StoredEvent { id: 1, event }
    }

    #[test]
    fn csv_starts_with_a_bom_and_quotes_commas_and_quotes() {
        let mut out = csv_header();
        out.extend(csv_rows(&site(), &Flags::new(), &[row()]));
        let text = String::from_utf8(out).unwrap();
        assert!(text.starts_with("\u{feff}\"time_local\",\"timestamp_ms\",\"link\",\"kind\",\"outcome\",\"count\","), "{text}");
        let line = text.lines().nth(1).unwrap();
        assert!(line.contains(",\"上海, \"\"Pudong\"\"\","), "{line}");
        assert!(line.contains(",\"1772386200000\",\"market\",\"open\",\"admitted\",\"1\",\"\","), "every field is quoted: {line}");
        assert!(text.ends_with("\r\n"));
    }

    #[test]
    fn every_cell_that_starts_like_a_formula_is_defused() {
        for start in ["=", "+", "-", "@", "\t", "\r"] {
            let mut r = row();
            let hostile = format!("{start}cmd|' /C calc'!A0");
            r.event.link = hostile.clone();
            r.event.city = Some(hostile.clone());
            r.event.os = hostile.clone();
            let text = String::from_utf8(csv_rows(&site(), &Flags::new(), &[r])).unwrap();
            // link, city, os, and the audience part of the link (the hostile text holds a `/`).
            assert_eq!(text.matches(&format!("\"'{start}cmd")).count(), 4, "{text:?}");
        }
    }

    #[test]
    fn a_workbook_takes_any_stored_value_even_a_huge_one() {
        let mut r = row();
        r.event.referrer = Some(format!("https://{}.example/", "a".repeat(40_000)));
        let stats = GalleryStats { referrers: vec![gatefold_contract::admin::Count { key: "b".repeat(40_000), count: 1 }], ..GalleryStats::default() };
        assert_eq!(&xlsx(&site(), &stats, &[r]).unwrap()[..2], b"PK");
    }

    #[test]
    fn cells_that_a_spreadsheet_would_run_as_formulas_are_defused() {
        let text = String::from_utf8(csv_rows(&site(), &Flags::new(), &[row()])).unwrap();
        assert!(text.contains("\"'=HYPERLINK(\"\"http://evil\"\")\""), "{text}");
        assert_eq!(defuse("-1"), "'-1");
        assert_eq!(defuse("weixin.qq.com"), "weixin.qq.com");
    }

    #[test]
    fn a_recipients_rows_name_its_audience_and_recipient() {
        let mut r = row();
        r.event.link = "channel/dealer-001".into();
        let text = String::from_utf8(csv_rows(&site(), &Flags::new(), &[r, row()])).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert!(lines[0].ends_with(",\"channel\",\"dealer-001\",\"\""), "{}", lines[0]);
        assert!(lines[1].ends_with(",\"\",\"\",\"\""), "{}", lines[1]);
        assert_eq!(headers()[headers().len() - 3..], ["audience", "recipient", "possibly_forwarded"]);
    }

    #[test]
    fn a_flagged_links_rows_carry_its_forwarding_evidence() {
        use gatefold_contract::devices::{DeviceRecord, Forwarding, ForwardingReason};
        let device = |id: &str, city: &str| DeviceRecord { id: id.into(), browser: "Chrome".into(), os: "macOS".into(), city: Some(city.into()), first_seen: 1, last_seen: 1, admitted: true };
        let mut flags = Flags::new();
        let mut r = row();
        r.event.link = "press".into();
        flags.insert("press".into(), Forwarding { at: 1, reason: ForwardingReason::Cities, devices: vec![device("a", "Shanghai"), device("b", "Beijing")], cities: vec!["Shanghai".into(), "Beijing".into()] });
        let text = String::from_utf8(csv_rows(&site(), &flags, &[r, row()])).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert!(lines[0].ends_with(",\"24 小时内 2 台设备、2 个城市 (Shanghai, Beijing)\""), "in the site's language: {}", lines[0]);
        assert!(lines[1].ends_with(",\"\""), "another link's rows are not flagged: {}", lines[1]);
    }

    #[test]
    fn a_workbook_with_recipients_has_a_recipients_sheet() {
        let link = gatefold_contract::admin::LinkStats {
            name: "channel/dealer-001".into(),
            audience: Some("channel".into()),
            recipient: Some("dealer-001".into()),
            activity: Some(gatefold_contract::admin::Activity::Opened),
            ..Default::default()
        };
        let stats = GalleryStats { links: vec![link], opens_per_hour: vec![0; 24], ..GalleryStats::default() };
        let bytes = xlsx(&site(), &stats, &[row()]).unwrap();
        assert!(String::from_utf8_lossy(&bytes).contains("xl/worksheets/sheet3.xml"));
        assert!(!String::from_utf8_lossy(&xlsx(&site(), &GalleryStats::default(), &[]).unwrap()).contains("sheet3.xml"));
    }

    #[test]
    fn a_workbook_is_a_zip_with_both_sheets() {
        let stats = GalleryStats { gallery: "g".into(), gallery_title: "春季".into(), opens_per_hour: vec![0; 24], opens_by_weekday_hour: vec![vec![1; 24]; 7], ..GalleryStats::default() };
        let bytes = xlsx(&site(), &stats, &[row()]).unwrap();
        assert_eq!(&bytes[..2], b"PK");
        let text = String::from_utf8_lossy(&bytes);
        assert!(text.contains("xl/worksheets/sheet2.xml"));
    }

    #[test]
    fn the_audit_csv_has_a_bom_a_header_and_defused_cells() {
        let e = AuditEntry { at: 0, action: "disable".into(), target: "g/=cmd".into(), before: Some("active".into()), after: Some("disabled".into()), ip: Some("203.0.113.0".into()), device: None, actor: Some("owner@example.com".into()) };
        let text = String::from_utf8(audit_csv(&site(), &[e])).unwrap();
        assert!(text.starts_with(UTF8_BOM));
        let mut lines = text.trim_start_matches(UTF8_BOM).lines();
        assert_eq!(lines.next(), Some("\"time_local\",\"action\",\"target\",\"before\",\"after\",\"ip\",\"device\",\"actor\""));
        let row = lines.next().unwrap();
        assert!(row.contains("\"'g/=cmd\"") || row.contains("\"g/=cmd\""), "{row}");
        assert!(row.contains("\"active\",\"disabled\",\"203.0.113.0\",\"\",\"owner@example.com\""), "{row}");
        let e = AuditEntry { at: 0, action: "=HYPERLINK()".into(), target: "g".into(), before: None, after: None, ip: None, device: None, actor: None };
        assert!(String::from_utf8(audit_csv(&site(), &[e])).unwrap().contains("\"'=HYPERLINK()\""));
    }

    #[test]
    fn a_workbook_with_extras_has_audit_and_follow_up_sheets() {
        let stats = GalleryStats { gallery: "g".into(), gallery_title: "G".into(), opens_per_hour: vec![0; 24], ..GalleryStats::default() };
        let site = site();
        let mut book = Xlsx::new(&site, &stats).unwrap();
        let e = AuditEntry { at: 0, action: "disable".into(), target: "g/a".into(), before: None, after: None, ip: None, device: None, actor: None };
        book.extras(&Extra { audit: vec![e], follow_up: None }).unwrap();
        let text = String::from_utf8_lossy(&book.finish().unwrap()).to_string();
        assert!(text.contains("xl/worksheets/sheet4.xml"), "Summary, Events, Audit, Follow-up");
    }
}
