//! Raw-event exports: CSV for any spreadsheet, XLSX with a summary sheet for Excel users.
//! Pure functions over rows already read from the `GalleryLog`, tested natively.

use super::rollup::civil_date;
use gatefold_contract::admin::GalleryStats;
use gatefold_contract::manifest::Site;
use serde::{Deserialize, Serialize};

/// One stored event as the `GalleryLog` returns it for export.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct Row {
    pub id: i64,
    pub ts: i64,
    pub link: String,
    pub kind: String,
    pub outcome: String,
    pub image: Option<String>,
    pub ip: Option<String>,
    pub country: Option<String>,
    pub region: Option<String>,
    pub city: Option<String>,
    pub timezone: Option<String>,
    pub asn: Option<i64>,
    pub colo: Option<String>,
    pub device: Option<String>,
    pub os: Option<String>,
    pub browser: Option<String>,
    pub referrer: Option<String>,
    pub visitor: Option<String>,
}

pub const COLUMNS: [&str; 18] = [
    "time_local", "timestamp_ms", "link", "kind", "outcome", "image", "ip", "country", "region", "city",
    "visitor_timezone", "asn", "colo", "device", "os", "browser", "referrer", "visitor",
];

/// Excel opens a BOM-less UTF-8 CSV as the system code page and mangles Chinese.
pub const UTF8_BOM: &str = "\u{feff}";

/// `2026-03-02 01:30:00 +08:00` in the site timezone.
pub fn local_time(site: &Site, ts_ms: i64) -> String {
    let secs = ts_ms.div_euclid(1000);
    let offset = site.utc_offset_at(secs);
    let local = secs + i64::from(offset);
    let (day, sod) = (local.div_euclid(86_400), local.rem_euclid(86_400));
    let sign = if offset < 0 { '-' } else { '+' };
    let abs = offset.unsigned_abs();
    format!(
        "{} {:02}:{:02}:{:02} {sign}{:02}:{:02}",
        civil_date(day),
        sod / 3600,
        sod % 3600 / 60,
        sod % 60,
        abs / 3600,
        abs % 3600 / 60
    )
}

/// A spreadsheet runs a cell starting with `=`, `+`, `-`, `@` (or a tab/CR before one) as a
/// formula; referrers, cities and image ids arrive from outside, so such cells are prefixed
/// with `'` (OWASP's CSV-injection advice).
pub fn defuse(cell: &str) -> String {
    if cell.starts_with(['=', '+', '-', '@', '\t', '\r']) { format!("'{cell}") } else { cell.to_string() }
}

fn cells(site: &Site, r: &Row) -> [String; 18] {
    let opt = |v: &Option<String>| defuse(v.as_deref().unwrap_or(""));
    [
        local_time(site, r.ts),
        r.ts.to_string(),
        defuse(&r.link),
        defuse(&r.kind),
        defuse(&r.outcome),
        opt(&r.image),
        opt(&r.ip),
        opt(&r.country),
        opt(&r.region),
        opt(&r.city),
        opt(&r.timezone),
        r.asn.map(|a| a.to_string()).unwrap_or_default(),
        opt(&r.colo),
        opt(&r.device),
        opt(&r.os),
        opt(&r.browser),
        opt(&r.referrer),
        opt(&r.visitor),
    ]
}

/// Starts a CSV export: BOM and header line.
pub fn csv_header() -> Vec<u8> {
    let mut out = UTF8_BOM.as_bytes().to_vec();
    out.extend(csv_rows_with(|w| w.write_record(COLUMNS)));
    out
}

/// CSV lines (RFC 4180 quoting, CRLF) for a page of rows.
pub fn csv_rows(site: &Site, rows: &[Row]) -> Vec<u8> {
    csv_rows_with(|w| {
        for r in rows {
            w.write_record(cells(site, r))?;
        }
        Ok(())
    })
}

fn csv_rows_with(write: impl FnOnce(&mut csv::Writer<Vec<u8>>) -> csv::Result<()>) -> Vec<u8> {
    let mut w = csv::WriterBuilder::new().terminator(csv::Terminator::CRLF).from_writer(Vec::new());
    // Writing into a Vec cannot fail; a failure here would be a bug in the csv crate.
    write(&mut w).expect("writing CSV into memory");
    w.into_inner().expect("flushing CSV into memory")
}

/// A workbook with a "Summary" sheet (totals and breakdowns) and an "Events" sheet (every row).
pub fn xlsx(site: &Site, stats: &GalleryStats, rows: &[Row]) -> Result<Vec<u8>, rust_xlsxwriter::XlsxError> {
    use rust_xlsxwriter::{Format, Workbook};
    let mut book = Workbook::new();
    let bold = Format::new().set_bold();

    let summary = book.add_worksheet().set_name("Summary")?;
    summary.set_column_width(0, 28)?;
    summary.set_column_width(1, 14)?;
    let mut r = 0u32;
    let pair = |sheet: &mut rust_xlsxwriter::Worksheet, r: &mut u32, k: &str, v: f64| -> Result<(), rust_xlsxwriter::XlsxError> {
        sheet.write_string(*r, 0, defuse(k))?;
        sheet.write_number(*r, 1, v)?;
        *r += 1;
        Ok(())
    };
    summary.write_string_with_format(r, 0, "Gallery", &bold)?;
    summary.write_string(r, 1, defuse(&stats.gallery_title))?;
    r += 1;
    summary.write_string_with_format(r, 0, "From", &bold)?;
    summary.write_string(r, 1, local_time(site, stats.from.saturating_mul(1000)))?;
    r += 1;
    summary.write_string_with_format(r, 0, "To", &bold)?;
    summary.write_string(r, 1, local_time(site, stats.to.saturating_mul(1000)))?;
    r += 1;
    summary.write_string_with_format(r, 0, "Timezone", &bold)?;
    summary.write_string(r, 1, &stats.timezone)?;
    r += 2;
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
    let section = |sheet: &mut rust_xlsxwriter::Worksheet, r: &mut u32, title: &str, items: Vec<(String, u64)>| -> Result<(), rust_xlsxwriter::XlsxError> {
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
    section(summary, &mut r, "Countries", counts(&stats.countries))?;
    section(summary, &mut r, "Cities", counts(&stats.cities))?;
    section(summary, &mut r, "Devices", counts(&stats.devices))?;
    section(summary, &mut r, "Operating systems", counts(&stats.os))?;
    section(summary, &mut r, "Browsers", counts(&stats.browsers))?;
    section(summary, &mut r, "Referrers", counts(&stats.referrers))?;
    section(summary, &mut r, "Image views", stats.images.iter().map(|i| (i.file_name.clone(), i.views)).collect())?;
    section(summary, &mut r, "Image downloads", stats.images.iter().map(|i| (i.file_name.clone(), i.downloads)).collect())?;

    let events = book.add_worksheet().set_name("Events")?;
    for (c, name) in COLUMNS.iter().enumerate() {
        events.write_string_with_format(0, c as u16, *name, &bold)?;
    }
    for (i, row) in rows.iter().enumerate() {
        let line = i as u32 + 1;
        for (c, cell) in cells(site, row).iter().enumerate() {
            // Numbers stay numbers so owners can sum and sort them.
            match c {
                1 => events.write_number(line, 1, row.ts as f64)?,
                11 if row.asn.is_some() => events.write_number(line, 11, row.asn.unwrap_or_default() as f64)?,
                _ => events.write_string(line, c as u16, cell)?,
            };
        }
    }
    events.set_freeze_panes(1, 0)?;
    book.save_to_buffer()
}

#[cfg(test)]
mod tests {
    use super::*;
    use gatefold_contract::Locale;
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
            analytics: Default::default(),
        }
    }

    fn row() -> Row {
        Row {
            id: 1,
            ts: 1_772_386_200_000, // 2026-03-01 17:30:00 UTC
            link: "market".into(),
            kind: "open".into(),
            outcome: "admitted".into(),
            city: Some("上海, \"Pudong\"".into()),
            referrer: Some("=HYPERLINK(\"http://evil\")".into()),
            asn: Some(4134),
            ..Row::default()
        }
    }

    #[test]
    fn local_times_use_the_site_offset_including_half_hours() {
        assert_eq!(local_time(&site(), 1_772_386_200_000), "2026-03-01 23:00:00 +05:30");
        let mut west = site();
        west.utc_offsets = vec![(0, -5 * 3600)];
        assert_eq!(local_time(&west, 1_772_386_200_000), "2026-03-01 12:30:00 -05:00");
    }

    #[test]
    fn csv_starts_with_a_bom_and_quotes_commas_and_quotes() {
        let mut out = csv_header();
        out.extend(csv_rows(&site(), &[row()]));
        let text = String::from_utf8(out).unwrap();
        assert!(text.starts_with("\u{feff}time_local,timestamp_ms,link,"));
        let line = text.lines().nth(1).unwrap();
        assert!(line.contains(",\"上海, \"\"Pudong\"\"\","), "{line}");
        assert!(text.ends_with("\r\n"));
    }

    #[test]
    fn cells_that_a_spreadsheet_would_run_as_formulas_are_defused() {
        let text = String::from_utf8(csv_rows(&site(), &[row()])).unwrap();
        assert!(text.contains("\"'=HYPERLINK(\"\"http://evil\"\")\""), "{text}");
        assert_eq!(defuse("-1"), "'-1");
        assert_eq!(defuse("weixin.qq.com"), "weixin.qq.com");
    }

    #[test]
    fn a_workbook_is_a_zip_with_both_sheets() {
        let stats = GalleryStats { gallery: "g".into(), gallery_title: "春季".into(), opens_per_hour: vec![0; 24], ..GalleryStats::default() };
        let bytes = xlsx(&site(), &stats, &[row()]).unwrap();
        assert_eq!(&bytes[..2], b"PK");
        let text = String::from_utf8_lossy(&bytes);
        assert!(text.contains("xl/worksheets/sheet2.xml"));
    }
}
