//! What a chat app shows for a pasted link: the Open Graph and Twitter card tags of the page
//! answered to everything that asks for a link without counting an open (Feishu, DingTalk,
//! Slack, WhatsApp, Telegram and the other unfurlers, mail scanners, HEAD).
//!
//! The generator writes one [`PreviewPage`] per gallery and language ([`crate::manifest::preview_path`]):
//! the gallery's and site's titles, how many images it holds in that language's words, the
//! "until …" wording, the preview image when the gallery opted in (`preview_image: cover`),
//! and the interstitial page with a slot for the tags. The worker adds what only it knows, the
//! link's state as its gate tells it: an open link's card reads "12 images · until 31 Dec 2030
//! 23:59", a closed one's the denial ("This link has expired") and shows no image. No tag
//! holds the link's token, a session or anything of a gated image: the card says no more than
//! the interstitial has always said.
//!
//! WeChat draws cards from these tags only for pages that use its JS-SDK; the tags are there,
//! but no WeChat card is promised.

use crate::owner::{BadDateFormat, ShownExpiry, Wording, escape_html};
use crate::{Denial, Locale};
use serde::{Deserialize, Serialize};
use std::fmt::Write;

/// Where the interstitial's head takes the tags: the generator writes this marker into the
/// page and the worker replaces its first occurrence (a title cannot hold it: the theme
/// escapes `<`). An HTML comment, so a page shown unfilled still reads right.
pub const META_SLOT: &str = "<!--gatefold:preview-meta-->";

/// The widest side of a preview image: chat cards draw at most about 600 px, and a small
/// image holds nothing worth taking.
pub const IMAGE_WIDTH: u32 = 600;

/// One gallery's preview in one language, as the generator wrote it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PreviewPage {
    pub locale: Locale,
    /// How this language words dates (the theme's strings).
    pub wording: Wording,
    pub card: Card,
    /// The interstitial (title, "View gallery" button) with [`META_SLOT`] in its head.
    pub html: String,
}

/// What the card says whatever the link's state.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Card {
    /// The gallery's title.
    pub title: String,
    pub site_title: String,
    /// "12 images", in this language.
    pub images: String,
    /// "until {date}", in this language.
    pub until: String,
    /// The preview image (`preview_image: cover`), `None` without one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image: Option<CardImage>,
    /// The theme's stylesheet, for the page a closed link's card comes with.
    pub stylesheet: String,
}

/// A preview image: a small JPEG made for previews only, public at its own content-addressed
/// path (`/assets/preview/<hash>.jpg`), from which no gated variant can be derived.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CardImage {
    pub path: String,
    pub width: u32,
    pub height: u32,
    /// The cover's alt text.
    pub alt: String,
}

/// Public path of the preview image whose bytes hash to `hash`.
pub fn image_path(hash: &str) -> String {
    format!("{}preview/{hash}.jpg", crate::manifest::PUBLIC_PREFIX)
}

/// The link's state as its gate answered it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CardState {
    /// It would open; its expiry in force, if any.
    Open(Option<ShownExpiry>),
    /// Closed for this reason.
    Closed(Denial),
}

impl PreviewPage {
    pub fn from_json(json: &str) -> Result<PreviewPage, String> {
        serde_json::from_str(json).map_err(|e| format!("preview page: {e}"))
    }

    /// One line on the link: "12 images · until 31 Dec 2030 23:59", "12 images", or the
    /// denial's title.
    pub fn description(&self, state: CardState) -> Result<String, BadDateFormat> {
        Ok(match state {
            CardState::Open(None) => self.card.images.clone(),
            CardState::Open(Some(expiry)) => format!("{} · {}", self.card.images, self.card.until.replacen("{date}", &self.wording.date(&expiry)?, 1)),
            CardState::Closed(denial) => denial.title(self.locale).to_string(),
        })
    }

    /// The card's tags, every value escaped; `origin` (`https://host`) makes the image's URL
    /// absolute, as Open Graph asks. A closed link's card shows no image.
    pub fn meta(&self, state: CardState, origin: &str) -> Result<String, BadDateFormat> {
        let description = self.description(state)?;
        let card = &self.card;
        let image = match state {
            CardState::Open(_) => card.image.as_ref(),
            CardState::Closed(_) => None,
        };
        let mut out = String::new();
        let mut tag = |attr: &str, name: &str, value: &str| {
            let _ = writeln!(out, "<meta {attr}=\"{name}\" content=\"{}\">", escape_html(value));
        };
        tag("name", "description", &description);
        tag("property", "og:type", "website");
        tag("property", "og:title", &card.title);
        tag("property", "og:site_name", &card.site_title);
        tag("property", "og:description", &description);
        tag("property", "og:locale", og_locale(self.locale));
        if let Some(img) = image {
            tag("property", "og:image", &format!("{origin}{}", img.path));
            tag("property", "og:image:type", "image/jpeg");
            tag("property", "og:image:width", &img.width.to_string());
            tag("property", "og:image:height", &img.height.to_string());
            tag("property", "og:image:alt", &img.alt);
        }
        tag("name", "twitter:card", if image.is_some() { "summary_large_image" } else { "summary" });
        tag("name", "twitter:title", &card.title);
        tag("name", "twitter:description", &description);
        if let Some(img) = image {
            tag("name", "twitter:image", &format!("{origin}{}", img.path));
            tag("name", "twitter:image:alt", &img.alt);
        }
        Ok(out)
    }

    /// The interstitial of an open link, its card in the head.
    pub fn interstitial(&self, until: Option<ShownExpiry>, origin: &str) -> Result<String, BadDateFormat> {
        Ok(self.html.replacen(META_SLOT, &self.meta(CardState::Open(until), origin)?, 1))
    }

    /// The page a closed link answers what counts nothing: the denial as its own page says it,
    /// with the card (the gallery's title, the denial as its description, no image).
    pub fn closed(&self, denial: Denial, origin: &str) -> Result<String, BadDateFormat> {
        let meta = self.meta(CardState::Closed(denial), origin)?;
        let (site, title, message) = (escape_html(&self.card.site_title), escape_html(denial.title(self.locale)), escape_html(denial.message(self.locale)));
        Ok(format!(
            "<!doctype html>\n<html lang=\"{lang}\">\n<head>\n<meta charset=\"utf-8\">\n\
             <meta name=\"viewport\" content=\"width=device-width, initial-scale=1, viewport-fit=cover\">\n\
             <meta name=\"referrer\" content=\"no-referrer\">\n<meta name=\"robots\" content=\"noindex, nofollow\">\n\
             <meta name=\"color-scheme\" content=\"light dark\">\n{meta}<title>{title} · {site}</title>\n\
             <link rel=\"icon\" href=\"data:,\">\n<link rel=\"stylesheet\" href=\"{css}\">\n</head>\n\
             <body class=\"gf-page gf-notice-page gf-denied-{code}\">\n<main class=\"gf-notice\">\n\
             <p class=\"gf-site\">{site}</p>\n<h1>{title}</h1>\n<p>{message}</p>\n</main>\n</body>\n</html>\n",
            lang = self.locale.tag(),
            css = escape_html(&self.card.stylesheet),
            code = denial.code(),
        ))
    }
}

/// Open Graph's `language_TERRITORY` form of a language.
fn og_locale(locale: Locale) -> &'static str {
    match locale {
        Locale::En => "en_US",
        Locale::ZhCn => "zh_CN",
    }
}

#[cfg(test)]
mod tests;
