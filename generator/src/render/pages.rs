//! What visitors and bots get: one gallery page per link and language, a title-only preview
//! per gallery and language, and a denial page per reason and language.

use super::Renderer;
use crate::built::BuiltGallery;
use anyhow::{Context, Result};
use gatefold_contract::manifest::{self, Image, Link, SESSION_EXPIRES_PLACEHOLDER, Variant, VariantRole};
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
    /// Only on links that allow downloads.
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
    fn images(&self, gallery: &BuiltGallery, link: &Link) -> Result<Vec<ImageView>> {
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
                let large = picture(&link.token, &display).with_context(|| no_variants(gallery, image, "display"))?;
                // An image too small for a separate thumbnail shows its display file in the grid.
                let thumb =
                    picture(&link.token, &grid).or_else(|| picture(&link.token, &display)).expect("display exists");
                Ok(ImageView {
                    index,
                    number: index + 1,
                    id: image.id.clone(),
                    alt: image.alt.clone(),
                    caption: image.caption.clone(),
                    file_name: image.file_name.clone(),
                    thumb,
                    large,
                    download: link.policy.download.then(|| manifest::download_path(&link.token, &image.id)),
                })
            })
            .collect()
    }

    pub(super) fn gallery_page(&self, gallery: &BuiltGallery, link: &Link, locale: Locale) -> Result<String> {
        let images = self.images(gallery, link)?;
        let cover = gallery.cover.as_deref().and_then(|id| images.iter().find(|i| i.id == id));
        let description = gallery.description_html.clone().map(Value::from_safe_string);
        let expires = link.policy.expires.map(|e| self.format_expiry(&e, locale)).transpose()?;
        let session_over = Denial::SessionExpired;
        self.theme
            .render(
                "gallery.html",
                context! {
                gallery_title => &gallery.title,
                label => &link.label,
                description,
                images,
                cover,
                download => link.policy.download,
                view_seconds => link.policy.view_seconds,
                expires,
                timezone => self.site.timezone.name(),
                session_placeholder => SESSION_EXPIRES_PLACEHOLDER,
                session_over_title => session_over.title(locale),
                session_over_message => session_over.message(locale), ..self.base(locale) },
            )
            .with_context(|| format!("rendering the page of link {} of gallery {} in {locale}", link.name, gallery.id))
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
