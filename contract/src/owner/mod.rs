//! The owner files both sides fill: a link's printable QR card and a gallery's share kit.
//!
//! The generator renders the theme's owner templates once per gallery and language, with
//! placeholders where a link's fields go, into one private [`OwnerKit`] file
//! ([`kit_path`]: never a file per link). Its own `dist/owner/` kit and the worker's admin API
//! then fill the same kit with [`OwnerKit::card`] and [`OwnerKit::share_kit`], so both say
//! exactly the same thing; the worker fills in the link's terms as they stand at runtime.
//!
//! Placeholders are `{{gf:<name>}}`. Filling is one pass over the template: a value is never
//! scanned again, so a label that contains a placeholder stays text. In the card every value
//! except the QR code (which [`crate::qr`] draws) is HTML-escaped.

use crate::Locale;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt::Write;

/// Asset path of a gallery's owner kit in one language (private: the worker reads it for an
/// authenticated admin only).
pub fn kit_path(gallery: &str, locale: Locale) -> String {
    format!("/_gatefold/owner/{gallery}.kit.{}.json", locale.tag())
}

/// Asset path of the theme's owner stylesheet, which the worker serves at a fixed admin path.
pub const OWNER_CSS_PATH: &str = "/_gatefold/owner/owner.css";

/// The card's placeholders, in the order a template usually has them.
pub const LABEL: &str = "label";
pub const URL: &str = "url";
pub const QR: &str = "qr";
/// The stylesheet's URL (absolute in the worker: a card opened from a blob URL has no base).
pub const CSS: &str = "css";
/// `expiry:<locale tag>`: the "available until" line in that language (the card prints all).
pub const EXPIRY: &str = "expiry";
/// The share kit's link blocks, each [`OwnerKit::share_link`] filled.
pub const LINKS: &str = "links";
pub const DOWNLOADS: &str = "downloads";
pub const VIEWS: &str = "views";
/// The session length line, with its indent and line break, or nothing.
pub const VIEW_TIME: &str = "view_time";

/// An audience's block of the share kit ([`OwnerKit::share_audience`]): how many recipients.
pub const RECIPIENTS: &str = "recipients";
/// Where the recipients' own links are (the mail-merge file).
pub const FILE: &str = "file";

/// What a follow-up reminder names: the gallery, whom it goes to and what they have.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReminderTerms {
    pub gallery: String,
    /// The audience's (or the plain link's) label.
    pub audience: String,
    pub images: usize,
    pub download: bool,
    /// The latest expiry among the people reminded (`None`: one of them has none).
    pub expiry: Option<ShownExpiry>,
}

/// `{{gf:name}}`, as the generator puts it into a template.
pub fn placeholder(name: &str) -> String {
    format!("{{{{gf:{name}}}}}")
}

/// One gallery's owner templates in one language, with the wording of link terms in every
/// language.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OwnerKit {
    pub locale: Locale,
    /// The site timezone's IANA name, printed next to times.
    pub timezone: String,
    /// The card's HTML: [`LABEL`], [`URL`], [`QR`], [`CSS`], `expiry:<tag>` per language.
    pub card: String,
    /// The share message: [`LINKS`] where the links go.
    pub share_kit: String,
    /// One link's block of the share message: [`LABEL`], [`URL`], [`EXPIRY`], [`DOWNLOADS`],
    /// [`VIEWS`], [`VIEW_TIME`].
    pub share_link: String,
    /// One audience's block of the share message: [`LABEL`], [`RECIPIENTS`], [`FILE`]. Its
    /// recipients each get their own link, sent by mail merge, so the message names the
    /// audience instead of listing hundreds of links.
    pub share_audience: String,
    pub wording: BTreeMap<Locale, Wording>,
}

/// What the share kit says about an audience.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AudienceTerms {
    pub label: String,
    pub recipients: u32,
    /// Where the owner finds the recipients' links, e.g. `mail-merge/launch-a.csv`.
    pub file: String,
}

/// How a language words a link's terms: the theme's strings of the same names (the generator
/// reads them out of the whole strings file, so unknown fields are ignored). `{date}`, `{tz}`,
/// `{n}` and `{duration}` are filled in.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Wording {
    /// strftime, e.g. `%-d %b %Y %H:%M`.
    pub date_format: String,
    pub available_until: String,
    pub no_expiry: String,
    pub share_expires: String,
    pub share_no_expiry: String,
    /// "Opens on {date} ({tz})": a link published with `opens_at:` still ahead (cards and share
    /// kits print it before its expiry).
    pub opens_on: String,
    pub downloads_on: String,
    pub downloads_off: String,
    pub views_limit: String,
    pub views_unlimited: String,
    pub view_time: String,
    pub duration_hours: String,
    pub duration_minutes: String,
    pub duration_seconds: String,
    /// The share message's "do not forward" line, which the reminder repeats.
    pub share_do_not_forward: String,
    /// The follow-up reminder ([`OwnerKit::reminder`]): `{gallery}`, `{audience}`,
    /// `{contents}`, `{until}`, `{do_not_forward}`.
    pub reminder: String,
    /// What the gallery holds, in the reminder: `{n}` images.
    pub reminder_images: String,
}

/// A link's expiry as owners read it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ShownExpiry {
    /// Unix seconds: the link closes at this instant.
    pub at: i64,
    /// The site timezone's UTC offset at `at`, in seconds.
    pub utc_offset: i32,
    /// Valid through a whole day: shown as that day's last minute ("until 5 Dec 23:59"), not
    /// as the midnight the link closes at.
    pub end_of_day: bool,
}

impl ShownExpiry {
    /// An expiry whose written form is unknown (a runtime change): an instant at local
    /// midnight reads as the end of the day before, which is how owners give dates.
    pub fn at_instant(at: i64, utc_offset: i32) -> ShownExpiry {
        ShownExpiry { at, utc_offset, end_of_day: (at + i64::from(utc_offset)).rem_euclid(86_400) == 0 }
    }
}

/// What a card or share kit says about one link.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LinkTerms {
    pub label: String,
    pub url: String,
    /// When it opens (`opens_at:` still ahead); `None`: open now.
    pub opens: Option<ShownExpiry>,
    pub expiry: Option<ShownExpiry>,
    pub download: bool,
    pub max_views: Option<u32>,
    pub view_seconds: Option<u32>,
}

/// Why a date could not be written in a language's format.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BadDateFormat(pub String);

impl std::fmt::Display for BadDateFormat {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "date_format {:?} is not a valid strftime format", self.0)
    }
}

impl Wording {
    /// The expiry's date and time in this language's format, in the site timezone.
    pub fn date(&self, e: &ShownExpiry) -> Result<String, BadDateFormat> {
        let shown = if e.end_of_day { e.at - 60 } else { e.at };
        let bad = || BadDateFormat(self.date_format.clone());
        let offset = chrono::FixedOffset::east_opt(e.utc_offset).ok_or_else(bad)?;
        let at = chrono::DateTime::from_timestamp(shown, 0).ok_or_else(bad)?.with_timezone(&offset);
        let mut out = String::new();
        write!(out, "{}", at.format(&self.date_format)).map_err(|_| bad())?;
        Ok(out)
    }

    /// "Available until …" (the card's line), or "No expiry".
    pub(crate) fn available(&self, e: Option<&ShownExpiry>, tz: &str) -> Result<String, BadDateFormat> {
        Ok(match e {
            Some(e) => fill_words(&self.available_until, &[("date", &self.date(e)?), ("tz", tz)]),
            None => self.no_expiry.clone(),
        })
    }

    /// "Opens on …" when the link opens later, else nothing.
    pub(crate) fn opens_line(&self, opens: Option<&ShownExpiry>, tz: &str) -> Result<Option<String>, BadDateFormat> {
        opens.map(|o| Ok(fill_words(&self.opens_on, &[("date", &self.date(o)?), ("tz", tz)]))).transpose()
    }

    /// "Each open lasts 10 min", in whole hours or minutes where they fit.
    pub fn view_time(&self, seconds: u32) -> String {
        let d = if seconds.is_multiple_of(3600) {
            fill_words(&self.duration_hours, &[("n", &(seconds / 3600).to_string())])
        } else if seconds.is_multiple_of(60) {
            fill_words(&self.duration_minutes, &[("n", &(seconds / 60).to_string())])
        } else {
            fill_words(&self.duration_seconds, &[("n", &seconds.to_string())])
        };
        fill_words(&self.view_time, &[("duration", &d)])
    }
}

impl OwnerKit {
    fn words(&self, locale: Locale) -> &Wording {
        // The generator writes every language; a kit without one is refused when it is read.
        &self.wording[&locale]
    }

    /// Reads a kit as the generator wrote it, checking it can word every language.
    pub fn from_json(json: &str) -> Result<OwnerKit, String> {
        let kit: OwnerKit = serde_json::from_str(json).map_err(|e| format!("owner kit: {e}"))?;
        if let Some(l) = Locale::ALL.into_iter().find(|l| !kit.wording.contains_key(l)) {
            return Err(format!("owner kit: no wording for {}", l.tag()));
        }
        Ok(kit)
    }

    /// The link's printable card: every value HTML-escaped but the QR code's SVG.
    pub fn card(&self, link: &LinkTerms, qr_svg: &str, css_url: &str) -> Result<String, BadDateFormat> {
        let mut expiries = BTreeMap::new();
        for locale in Locale::ALL {
            let w = self.words(locale);
            let available = w.available(link.expiry.as_ref(), &self.timezone)?;
            let line = match w.opens_line(link.opens.as_ref(), &self.timezone)? {
                Some(opens) => format!("{opens} · {available}"),
                None => available,
            };
            expiries.insert(format!("{EXPIRY}:{}", locale.tag()), line);
        }
        Ok(fill(&self.card, |name| match name {
            LABEL => Some(escape_html(&link.label)),
            URL => Some(escape_html(&link.url)),
            QR => Some(qr_svg.to_string()),
            CSS => Some(escape_html(css_url)),
            other => expiries.get(other).map(|s| escape_html(s)),
        }))
    }

    /// The ready-to-send reminder for people who have not opened or downloaded yet, after the
    /// seed's communication template (gallery, what is inside, until when, do not forward),
    /// in the kit's language. Plain text: the admin page shows it as text, never as HTML.
    pub fn reminder(&self, r: &ReminderTerms) -> Result<String, BadDateFormat> {
        let w = self.words(self.locale);
        let until = match &r.expiry {
            Some(e) => fill_words(&w.share_expires, &[("date", &w.date(e)?), ("tz", &self.timezone)]),
            None => w.share_no_expiry.clone(),
        };
        let downloads = if r.download { &w.downloads_on } else { &w.downloads_off };
        let contents = format!("{}, {downloads}", fill_words(&w.reminder_images, &[("n", &r.images.to_string())]));
        Ok(fill_once(
            &w.reminder,
            &[("gallery", &r.gallery), ("audience", &r.audience), ("contents", &contents), ("until", &until), ("do_not_forward", &w.share_do_not_forward)],
        ))
    }

    /// The ready-to-send message with one block per link, in the order given.
    pub fn share_kit(&self, links: &[LinkTerms]) -> Result<String, BadDateFormat> {
        self.share_kit_with_audiences(links, &[])
    }

    /// The ready-to-send message with one block per link (recipients' links left out by the
    /// caller), then one block per audience.
    pub fn share_kit_with_audiences(&self, links: &[LinkTerms], audiences: &[AudienceTerms]) -> Result<String, BadDateFormat> {
        let w = self.words(self.locale);
        let mut blocks = String::new();
        for link in links {
            let mut expiry = match &link.expiry {
                Some(e) => fill_words(&w.share_expires, &[("date", &w.date(e)?), ("tz", &self.timezone)]),
                None => w.share_no_expiry.clone(),
            };
            if let Some(opens) = w.opens_line(link.opens.as_ref(), &self.timezone)? {
                expiry = format!("{opens}\n  {expiry}");
            }
            let views = match link.max_views {
                Some(n) => fill_words(&w.views_limit, &[("n", &n.to_string())]),
                None => w.views_unlimited.clone(),
            };
            let view_time = link.view_seconds.map(|s| format!("  {}\n", w.view_time(s))).unwrap_or_default();
            blocks.push_str(&fill(&self.share_link, |name| {
                Some(match name {
                    LABEL => link.label.clone(),
                    URL => link.url.clone(),
                    EXPIRY => expiry.clone(),
                    DOWNLOADS => if link.download { w.downloads_on.clone() } else { w.downloads_off.clone() },
                    VIEWS => views.clone(),
                    VIEW_TIME => view_time.clone(),
                    _ => return None,
                })
            }));
        }
        for audience in audiences {
            blocks.push_str(&fill(&self.share_audience, |name| {
                Some(match name {
                    LABEL => audience.label.clone(),
                    RECIPIENTS => audience.recipients.to_string(),
                    FILE => audience.file.clone(),
                    _ => return None,
                })
            }));
        }
        Ok(fill(&self.share_kit, |name| (name == LINKS).then(|| blocks.clone())))
    }
}

/// A spreadsheet runs a cell starting with `=`, `+`, `-`, `@` (or a tab/CR before one) as a
/// formula; labels and notes come from lists people paste together, so such cells are
/// prefixed with `'` (OWASP's CSV-injection advice).
pub fn defuse(cell: &str) -> String {
    if cell.starts_with(['=', '+', '-', '@', '\t', '\r']) { format!("'{cell}") } else { cell.to_string() }
}

/// Excel reads a CSV as UTF-8 (Chinese labels intact) only when it starts with this mark.
pub const UTF8_BOM: &str = "\u{feff}";

/// The mail-merge file's columns, in order.
pub const MAIL_MERGE_COLUMNS: [&str; 8] = ["recipient", "audience", "label", "email", "url", "qr_file", "expires", "note"];

/// A gallery's mail-merge file: one row per recipient link (id `<gallery>/<audience>/<recipient>`,
/// audience, label, e-mail, URL, QR file, expiry, note) for the owner's mail tool. UTF-8 with a
/// BOM, every cell quoted, CRLF, formula-like cells defused. The expiry is the published one, in
/// the site timezone (a whole day reads as its last minute, as the share kit writes it);
/// `qr_file` names each link's QR image as the caller serves it.
pub fn mail_merge_csv(site: &crate::manifest::Site, gallery: &crate::manifest::Gallery, qr_file: impl Fn(&crate::manifest::Link) -> String) -> String {
    let mut w = csv::WriterBuilder::new().terminator(csv::Terminator::CRLF).quote_style(csv::QuoteStyle::Always).from_writer(Vec::new());
    let mut rows: Vec<Vec<String>> = vec![MAIL_MERGE_COLUMNS.iter().map(|c| c.to_string()).collect()];
    for link in gallery.links.values() {
        let Some(audience) = link.audience() else { continue };
        let recipient = link.recipient.clone().unwrap_or_default();
        let expires = link.policy.expires.map(|e| {
            let offset = crate::expiry::utc_offset_at(&site.utc_offsets, e.at);
            let shown = ShownExpiry { at: e.at, utc_offset: offset, end_of_day: matches!(e.written, crate::Expiry::EndOfDay(_)) };
            let at = if shown.end_of_day { shown.at - 60 } else { shown.at };
            let local = chrono::DateTime::from_timestamp(at + i64::from(offset), 0).map(|t| t.naive_utc().format("%Y-%m-%d %H:%M").to_string()).unwrap_or_default();
            format!("{local} ({})", site.timezone)
        });
        rows.push(vec![
            format!("{}/{}", gallery.id, link.name),
            audience.to_string(),
            link.label.clone(),
            recipient.email.unwrap_or_default(),
            crate::manifest::link_url(&site.base_url, &link.token),
            qr_file(link),
            expires.unwrap_or_default(),
            recipient.note.unwrap_or_default(),
        ]);
    }
    for row in rows {
        // Writing into a Vec cannot fail; a failure here would be a bug in the csv crate.
        w.write_record(row.iter().map(|c| defuse(c))).expect("writing CSV into memory");
    }
    let bytes = w.into_inner().expect("flushing CSV into memory");
    format!("{UTF8_BOM}{}", String::from_utf8(bytes).expect("CSV of UTF-8 cells is UTF-8"))
}

/// Replaces every `{{gf:name}}` of `template` whose `value(name)` is known, in one pass; an
/// unknown placeholder is left as it is.
pub fn fill(template: &str, value: impl Fn(&str) -> Option<String>) -> String {
    const OPEN: &str = "{{gf:";
    let mut out = String::with_capacity(template.len());
    let mut rest = template;
    while let Some(start) = rest.find(OPEN) {
        out.push_str(&rest[..start]);
        let after = &rest[start + OPEN.len()..];
        match after.find("}}").and_then(|end| value(&after[..end]).map(|v| (end, v))) {
            Some((end, v)) => {
                out.push_str(&v);
                rest = &after[end + 2..];
            }
            None => {
                out.push_str(OPEN);
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

/// `{name}` in a sentence from the theme's strings (the translator's word order).
/// Fills `{name}`s in one pass: a value (a label an owner typed) is never scanned again, so a
/// label holding `{until}` stays text. Unknown names stay as written.
fn fill_once(text: &str, values: &[(&str, &str)]) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = rest.find('{') {
        out.push_str(&rest[..start]);
        let after = &rest[start + 1..];
        match after.find('}').and_then(|end| values.iter().find(|(k, _)| *k == &after[..end]).map(|(_, v)| (end, v))) {
            Some((end, v)) => {
                out.push_str(v);
                rest = &after[end + 1..];
            }
            None => {
                out.push('{');
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

fn fill_words(text: &str, values: &[(&str, &str)]) -> String {
    values.iter().fold(text.to_string(), |out, (k, v)| out.replace(&format!("{{{k}}}"), v))
}

/// Escapes the five characters that matter in HTML text and quoted attributes, and nothing
/// else (the theme's pages use it too: URLs stay readable).
pub fn escape_html(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
pub(crate) mod tests;
