//! What visitors and bots get: one gallery page template per gallery, download mode and
//! language (the worker fills in the link: [`gatefold_contract::page`]), a title-only preview
//! per gallery and language, and a denial page per reason and language.

use super::Renderer;
use crate::built::BuiltGallery;
use anyhow::{Context, Result};
use gatefold_contract::manifest::{self, Image, PageMode, Variant, VariantRole};
use gatefold_contract::owner::placeholder;
use gatefold_contract::page::{self, PageTemplate};
use gatefold_contract::{Denial, Locale, MediaType};
use minijinja::context;
use minijinja::value::Value;
use serde::Serialize;

/// One `srcset` per image type, best format first, and the fallback `<img>`.
#[derive(Debug, Serialize)]
struct Picture {
    sources: Vec<Source>,
    src: String,
    srcset: String,
    width: u32,
    height: u32,
}

#[derive(Debug, Serialize)]
struct Source {
    #[serde(rename = "type")]
    content_type: MediaType,
    srcset: String,
}

#[derive(Debug, Serialize)]
struct ImageView {
    index: usize,
    number: usize,
    id: String,
    alt: String,
    caption: Option<String>,
    file_name: String,
    /// Grid: thumbnails and the smaller display sizes.
    thumb: Picture,
    /// Lightbox: every display size, the largest being the full-size view.
    large: Picture,
    /// Only on pages for links that allow downloads.
    download: Option<String>,
}

/// Formats preferred in `<source>` order; the `<img>` fallback is the most compatible type
/// an image has.
const SOURCE_ORDER: [MediaType; 3] = [MediaType::Avif, MediaType::Webp, MediaType::Gif];
const FALLBACK_ORDER: [MediaType; 4] = [MediaType::Jpeg, MediaType::Png, MediaType::Gif, MediaType::Webp];

fn picture(token: &str, variants: &[&Variant]) -> Option<Picture> {
    let fallback_type = FALLBACK_ORDER
        .iter()
        .find(|t| variants.iter().any(|v| v.content_type == **t))
        .copied()
        .or_else(|| variants.first().map(|v| v.content_type))?;
    let of_type = |t: MediaType| {
        let mut vs: Vec<&Variant> = variants.iter().copied().filter(|v| v.content_type == t).collect();
        vs.sort_by_key(|v| v.width);
        vs
    };
    let srcset = |vs: &[&Variant]| {
        vs.iter()
            .map(|v| format!("{} {}w", manifest::image_path(token, &v.file), v.width))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let fallback = of_type(fallback_type);
    let smallest = fallback.first()?;
    let sources = SOURCE_ORDER
        .iter()
        .filter(|t| **t != fallback_type)
        .map(|t| of_type(*t))
        .filter(|vs| !vs.is_empty())
        .map(|vs| Source { content_type: vs[0].content_type, srcset: srcset(&vs) })
        .collect();
    Some(Picture {
        sources,
        src: manifest::image_path(token, &smallest.file),
        srcset: srcset(&fallback),
        width: smallest.width,
        height: smallest.height,
    })
}

impl Renderer<'_> {
    /// Every image's markup, with `token` in its URLs (the placeholder, in a page template).
    fn images(&self, gallery: &BuiltGallery, token: &str, download: bool) -> Result<Vec<ImageView>> {
        gallery
            .images
            .iter()
            .enumerate()
            .map(|(index, image)| {
                let grid: Vec<&Variant> = image
                    .variants
                    .iter()
                    .filter(|v| v.role == VariantRole::Thumb || (v.role == VariantRole::Display && !v.full_size))
                    .collect();
                let display: Vec<&Variant> = image.variants.iter().filter(|v| v.role == VariantRole::Display).collect();
                let large = picture(token, &display).with_context(|| no_variants(gallery, image, "display"))?;
                // An image too small for a separate thumbnail shows its display file in the grid.
                let thumb = picture(token, &grid).or_else(|| picture(token, &display)).expect("display exists");
                Ok(ImageView {
                    index,
                    number: index + 1,
                    id: image.id.clone(),
                    alt: image.alt.clone(),
                    caption: image.caption.clone(),
                    file_name: image.file_name.clone(),
                    thumb,
                    large,
                    download: download.then(|| manifest::download_path(token, &image.id)),
                })
            })
            .collect()
    }

    /// The gallery's page for every link of one download mode, in `locale`: placeholders where
    /// the link's token, label, expiry line, view duration and the session's end go.
    pub(super) fn gallery_page(&self, gallery: &BuiltGallery, mode: PageMode, locale: Locale) -> Result<PageTemplate> {
        let what = || format!("rendering the {} page of gallery {} in {locale}", mode.name(), gallery.id);
        let download = mode.downloads().original;
        let images = self.images(gallery, &placeholder(page::TOKEN), download)?;
        let cover = gallery.cover.as_deref().and_then(|id| images.iter().find(|i| i.id == id));
        let description = gallery.description_html.clone().map(Value::from_safe_string);
        let session_over = Denial::SessionExpired;
        let html = self
            .theme
            .render(
                "gallery.html",
                context! {
                gallery_title => &gallery.title,
                label => placeholder(page::LABEL),
                description,
                images,
                cover,
                download,
                view_seconds => placeholder(page::VIEW_SECONDS),
                expiry => placeholder(page::EXPIRY),
                session_expires => placeholder(page::SESSION_EXPIRES),
                session_over_title => session_over.title(locale),
                session_over_message => session_over.message(locale), ..self.base(locale) },
            )
            .with_context(what)?;
        // The worker words the expiry line exactly as the owner files do: the same strings.
        let wording = self.theme.wording(locale).with_context(what)?;
        Ok(PageTemplate { locale, timezone: self.site.timezone.name().to_string(), wording, html })
    }

    pub(super) fn preview_page(&self, gallery: &BuiltGallery, locale: Locale) -> Result<String> {
        self.theme
            .render("preview.html", context! { gallery_title => &gallery.title, ..self.base(locale) })
            .with_context(|| format!("rendering the preview page of gallery {} in {locale}", gallery.id))
    }

    pub(super) fn denial_page(&self, denial: Denial, locale: Locale) -> Result<String> {
        self.theme
            .render(
                "denied.html",
                context! { code => denial.code(), title => denial.title(locale), message => denial.message(locale), ..self.base(locale) },
            )
            .with_context(|| format!("rendering the {denial} page in {locale}"))
    }

    /// The password page of links with `password: required`, in `locale`: the site title and
    /// the form only, with the slot the worker fills with its error line.
    pub(super) fn password_page(&self, locale: Locale) -> Result<String> {
        let asking = Denial::PasswordRequired;
        self.theme
            .render(
                "password.html",
                context! { title => asking.title(locale), message => asking.message(locale), error_slot => manifest::PASSWORD_ERROR_SLOT, ..self.base(locale) },
            )
            .with_context(|| format!("rendering the password page in {locale}"))
    }
}

fn no_variants(gallery: &BuiltGallery, image: &Image, role: &str) -> String {
    format!("image {} ({}) of gallery {} has no {role} variants to show", image.id, image.file_name, gallery.id)
}


#[cfg(test)]
mod tests {
    use super::*;

    fn variant(role: VariantRole, width: u32, content_type: &str, full_size: bool) -> Variant {
        let ext = content_type.trim_start_matches("image/");
        Variant {
            role,
            width,
            height: width * 2 / 3,
            content_type: content_type.parse().unwrap(),
            file: format!("a-{width}.{ext}"),
            key: manifest::display_key("0123456789abcdef", &format!("{width}.{ext}")),
            full_size,
        }
    }

    #[test]
    fn pictures_offer_webp_first_and_fall_back_to_the_smallest_jpeg() {
        let vs = [
            variant(VariantRole::Display, 1600, "image/jpeg", true),
            variant(VariantRole::Display, 800, "image/jpeg", false),
            variant(VariantRole::Display, 800, "image/webp", false),
        ];
        let refs: Vec<&Variant> = vs.iter().collect();
        let p = picture("tok", &refs).unwrap();
        assert_eq!(p.src, "/s/tok/i/a-800.jpeg");
        assert_eq!(p.srcset, "/s/tok/i/a-800.jpeg 800w, /s/tok/i/a-1600.jpeg 1600w");
        assert_eq!(p.sources.len(), 1);
        assert_eq!(p.sources[0].content_type, "image/webp");
        assert_eq!((p.width, p.height), (800, 533));
    }

    #[test]
    fn an_animated_gif_is_its_own_fallback() {
        let vs = [variant(VariantRole::Display, 400, "image/gif", true)];
        let refs: Vec<&Variant> = vs.iter().collect();
        let p = picture("tok", &refs).unwrap();
        assert!(p.sources.is_empty());
        assert_eq!(p.src, "/s/tok/i/a-400.gif");
    }

    #[test]
    fn no_variants_make_no_picture() {
        assert!(picture("tok", &[]).is_none());
    }
}
