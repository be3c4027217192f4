//! Supported languages and Accept-Language negotiation.

use serde::{Deserialize, Serialize};

/// A language Gatefold pages and messages are available in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Locale {
    #[serde(rename = "en")]
    En,
    #[serde(rename = "zh-CN")]
    ZhCn,
}

impl Locale {
    pub const ALL: [Locale; 2] = [Locale::En, Locale::ZhCn];

    /// The BCP 47 tag, as used in `lang=` attributes and file names.
    pub fn tag(self) -> &'static str {
        match self {
            Locale::En => "en",
            Locale::ZhCn => "zh-CN",
        }
    }

    pub fn from_tag(tag: &str) -> Option<Locale> {
        let tag = tag.trim();
        let primary = tag.split(['-', '_']).next().unwrap_or("");
        if primary.eq_ignore_ascii_case("zh") {
            Some(Locale::ZhCn)
        } else if primary.eq_ignore_ascii_case("en") {
            Some(Locale::En)
        } else {
            None
        }
    }

    /// Picks the best supported language for an `Accept-Language` header, honouring q-values;
    /// falls back to the site default when the visitor asks for nothing we have.
    pub fn negotiate(accept_language: Option<&str>, default: Locale) -> Locale {
        let Some(header) = accept_language else { return default };
        let mut best: Option<(f32, usize, Locale)> = None;
        for (index, part) in header.split(',').enumerate() {
            let mut pieces = part.split(';');
            let tag = pieces.next().unwrap_or("").trim();
            let q = pieces
                .find_map(|p| p.trim().strip_prefix("q="))
                .and_then(|q| q.trim().parse::<f32>().ok())
                .unwrap_or(1.0);
            if q <= 0.0 {
                continue;
            }
            let Some(locale) = Locale::from_tag(tag) else { continue };
            // Higher q wins; on a tie the earlier entry wins, as the header lists preference order.
            let better = match best {
                None => true,
                Some((bq, bi, _)) => q > bq || (q == bq && index < bi),
            };
            if better {
                best = Some((q, index, locale));
            }
        }
        best.map(|(_, _, l)| l).unwrap_or(default)
    }
}

impl Locale {
    /// What an API client (`Accept: application/json`) is told about a link that is open but
    /// that its request did not open: only a person's browser opens a gallery.
    pub fn open_in_a_browser(self) -> &'static str {
        match self {
            Locale::En => "This link is open. Open it in a web browser to view the gallery.",
            Locale::ZhCn => "此链接可以访问，请在浏览器中打开以查看图库。",
        }
    }
}

impl std::fmt::Display for Locale {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.tag())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chinese_browsers_get_chinese() {
        assert_eq!(Locale::negotiate(Some("zh-CN,zh;q=0.9,en;q=0.8"), Locale::En), Locale::ZhCn);
        assert_eq!(Locale::negotiate(Some("zh-TW"), Locale::En), Locale::ZhCn);
    }

    #[test]
    fn q_values_beat_order() {
        assert_eq!(Locale::negotiate(Some("en;q=0.5, zh;q=0.9"), Locale::En), Locale::ZhCn);
        assert_eq!(Locale::negotiate(Some("fr, en;q=0.1, zh;q=0"), Locale::ZhCn), Locale::En);
    }

    #[test]
    fn unknown_or_missing_header_uses_the_site_default() {
        assert_eq!(Locale::negotiate(None, Locale::ZhCn), Locale::ZhCn);
        assert_eq!(Locale::negotiate(Some("de-DE,fr"), Locale::ZhCn), Locale::ZhCn);
        assert_eq!(Locale::negotiate(Some(""), Locale::En), Locale::En);
    }

    #[test]
    fn tags_round_trip_through_serde() {
        assert_eq!(serde_json::to_string(&Locale::ZhCn).unwrap(), "\"zh-CN\"");
        assert_eq!(serde_json::from_str::<Locale>("\"en\"").unwrap(), Locale::En);
    }
}
