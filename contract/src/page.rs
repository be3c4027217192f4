//! The gallery page the worker fills in for one link.
//!
//! The generator renders a gallery's page once per language and download mode
//! ([`crate::manifest::page_path`]), never once per link, with placeholders where the link's
//! parts go: its token (in every image and download URL), audience label, expiry line, view
//! duration and the visitor's session end. The worker fills them with [`PageTemplate::fill`]
//! for the link and session at hand, every value HTML-escaped, so a 500-recipient audience adds
//! no static file and a runtime change of expiry shows on the page at once.

use crate::owner::{BadDateFormat, ShownExpiry, Wording, escape_html, fill};
use crate::Locale;
use serde::{Deserialize, Serialize};

/// The link's token: inside URLs (`/s/{{gf:token}}/i/…`).
pub const TOKEN: &str = "token";
/// The audience label ("Sales team").
pub const LABEL: &str = "label";
/// The whole "Available until …" / "No expiry" line.
pub const EXPIRY: &str = "expiry";
/// The view duration in seconds, or empty when the link has none.
pub const VIEW_SECONDS: &str = "view_seconds";
/// The visitor's session end (Unix seconds): the page hides its images at that instant.
pub const SESSION_EXPIRES: &str = "session_expires";

/// One gallery page in one language and download mode, as the generator rendered it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PageTemplate {
    pub locale: Locale,
    /// The site timezone's IANA name, printed next to the expiry.
    pub timezone: String,
    /// How this language words the expiry line (the theme's strings).
    pub wording: Wording,
    /// The page with `{{gf:…}}` placeholders.
    pub html: String,
}

/// What the page says about the link and session it is shown for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PageLink<'a> {
    pub token: &'a str,
    pub label: &'a str,
    /// The link's effective expiry (runtime changes included), if any.
    pub expiry: Option<ShownExpiry>,
    pub view_seconds: Option<u32>,
    pub session_expires_at: i64,
}

impl PageTemplate {
    pub fn from_json(json: &str) -> Result<PageTemplate, String> {
        serde_json::from_str(json).map_err(|e| format!("page template: {e}"))
    }

    /// The page for `link`, in one pass over the template; every value HTML-escaped.
    pub fn fill(&self, link: &PageLink<'_>) -> Result<String, BadDateFormat> {
        let expiry = self.wording.available(link.expiry.as_ref(), &self.timezone)?;
        Ok(fill(&self.html, |name| {
            Some(escape_html(&match name {
                TOKEN => link.token.to_string(),
                LABEL => link.label.to_string(),
                EXPIRY => expiry.clone(),
                VIEW_SECONDS => link.view_seconds.map(|s| s.to_string()).unwrap_or_default(),
                SESSION_EXPIRES => link.session_expires_at.to_string(),
                _ => return None,
            }))
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::owner::placeholder;

    fn template(html: &str) -> PageTemplate {
        PageTemplate {
            locale: Locale::En,
            timezone: "Asia/Shanghai".into(),
            wording: crate::owner::tests::wording("en"),
            html: html.into(),
        }
    }

    fn link<'a>(label: &'a str) -> PageLink<'a> {
        PageLink { token: "abc234", label, expiry: None, view_seconds: None, session_expires_at: 1_900_000_000 }
    }

    #[test]
    fn the_link_fills_every_placeholder() {
        let html = format!(
            "<img src=\"/s/{}/i/a.webp\"><p>{}</p><li>{}</li><meta content=\"{}\"><meta content=\"{}\">",
            placeholder(TOKEN),
            placeholder(LABEL),
            placeholder(EXPIRY),
            placeholder(VIEW_SECONDS),
            placeholder(SESSION_EXPIRES)
        );
        let expiry = Some(ShownExpiry { at: 1_924_963_200, utc_offset: 8 * 3600, end_of_day: true });
        let page = template(&html).fill(&PageLink { view_seconds: Some(600), expiry, ..link("Sales") }).unwrap();
        assert_eq!(
            page,
            "<img src=\"/s/abc234/i/a.webp\"><p>Sales</p><li>[en] until 31 Dec 2030 23:59 (Asia/Shanghai)</li>\
             <meta content=\"600\"><meta content=\"1900000000\">"
        );
    }

    #[test]
    fn values_are_escaped_and_never_filled_twice() {
        let html = format!("<p>{}</p><li>{}</li><meta content=\"{}\">", placeholder(LABEL), placeholder(EXPIRY), placeholder(VIEW_SECONDS));
        let page = template(&html).fill(&link("<b>\"Press\" & {{gf:token}}</b>")).unwrap();
        assert_eq!(page, "<p>&lt;b&gt;&quot;Press&quot; &amp; {{gf:token}}&lt;/b&gt;</p><li>[en] no expiry</li><meta content=\"\">");
    }
}
