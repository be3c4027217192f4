//! What visitors and bots get: one gallery page template per gallery, download mode and
//! language (the worker fills in the link: [`gatefold_contract::page`]), a title-only preview
//! per gallery and language, and a denial page per reason and language.

use super::Renderer;
use crate::model::GalleryModel;
use anyhow::{Context, Result};
use gatefold_contract::manifest::{self, Image, PageMode, Variant, VariantRole};
use gatefold_contract::policy::Downloads;
use gatefold_contract::owner::placeholder;
use gatefold_contract::page::{self, PageTemplate};
use gatefold_contract::preview::{self, Card, CardImage, PreviewPage};
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
    /// The first size offered (the lightbox's download button); only on pages with downloads.
    download: Option<String>,
    /// The sizes this page offers for the image, original first.
    sizes: Vec<SizeView>,
}

/// One download size of an image on the page: what it is, its pixels and, where the build
/// knows it, its byte size (the web size's encoded length is only known to R2: the page's
/// script asks the worker with a HEAD of `url`).
#[derive(Debug, Serialize)]
struct SizeView {
    /// `original` or `web` (the string key of its label is `size_<kind>`).
    kind: &'static str,
    url: String,
    width: u32,
    height: u32,
    bytes: Option<String>,
}

/// Bytes as people read them, the same in both languages: decimal units (as operating systems
/// show downloads), one decimal below 100. `gallery.js` formats the web sizes it learns by the
/// same rule (`humanSize`).
pub fn human_size(bytes: u64) -> String {
    const UNITS: [&str; 4] = ["KB", "MB", "GB", "TB"];
    if bytes < 1000 {
        return format!("{bytes} B");
    }
    let mut value = bytes as f64 / 1000.0;
    let mut unit = 0;
    while value >= 999.95 && unit < UNITS.len() - 1 {
        value /= 1000.0;
        unit += 1;
    }
    if value < 99.95 { format!("{value:.1} {}", UNITS[unit]) } else { format!("{value:.0} {}", UNITS[unit]) }
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
    /// `marked`: the page of marked links, which names only the marked variants (JPEG display
    /// sizes, spliced per link by the worker; an animation, never marked, keeps its own).
    fn images(&self, gallery: &GalleryModel, token: &str, downloads: Downloads, marked: bool) -> Result<Vec<ImageView>> {
        gallery
            .images
            .iter()
            .enumerate()
            .map(|(index, image)| {
                let only_marked = marked && image.variants.iter().any(|v| v.marked.is_some());
                let offered: Vec<&Variant> = image.variants.iter().filter(|v| !only_marked || v.marked.is_some()).collect();
                let grid: Vec<&Variant> = offered
                    .iter()
                    .copied()
                    .filter(|v| v.role == VariantRole::Thumb || (v.role == VariantRole::Display && !v.full_size))
                    .collect();
                let display: Vec<&Variant> = offered.iter().copied().filter(|v| v.role == VariantRole::Display).collect();
                let large = picture(token, &display).with_context(|| no_variants(gallery, image, "display"))?;
                // An image too small for a separate thumbnail shows its display file in the grid.
                let thumb = picture(token, &grid).or_else(|| picture(token, &display)).expect("display exists");
                let mut sizes = Vec::new();
                if downloads.original {
                    sizes.push(SizeView {
                        kind: "original",
                        url: manifest::download_path(token, &image.id),
                        width: image.width,
                        height: image.height,
                        // A marked original's size is the link's own: the script asks (HEAD).
                        bytes: (!marked).then(|| human_size(image.original.size)),
                    });
                }
                if downloads.web {
                    let web = image.web_download().with_context(|| no_variants(gallery, image, "display"))?;
                    sizes.push(SizeView { kind: "web", url: manifest::web_download_path(token, &image.id), width: web.width, height: web.height, bytes: None });
                }
                Ok(ImageView {
                    index,
                    number: index + 1,
                    id: image.id.clone(),
                    alt: image.alt.clone(),
                    caption: image.caption.clone(),
                    file_name: image.file_name.clone(),
                    thumb,
                    large,
                    download: sizes.first().map(|s| s.url.clone()),
                    sizes,
                })
            })
            .collect()
    }

    /// The gallery's page for every link of one download mode, in `locale`: placeholders where
    /// the link's token, label, expiry line, view duration and the session's end go.
    /// `marked`: the template of the gallery's marked links ([`manifest::marked_page_path`]).
    pub(super) fn gallery_page(&self, gallery: &GalleryModel, mode: PageMode, locale: Locale, marked: bool) -> Result<PageTemplate> {
        let what = || format!("rendering the {} page of gallery {} in {locale}", mode.name(), gallery.id);
        let downloads = mode.downloads();
        let download = downloads.any();
        let token = placeholder(page::TOKEN);
        let images = self.images(gallery, &token, downloads, marked)?;
        // "Download all": one ZIP of the originals, where originals are offered.
        let download_all = (downloads.original && !gallery.images.is_empty()).then(|| {
            let total: u64 = gallery.images.iter().map(|i| i.original.size).sum();
            // Marked originals are each link's own copy: their total is known to the worker only.
            let size = if marked { format!("≈ {}", human_size(total)) } else { human_size(total) };
            context! { url => manifest::download_all_path(&token), n => gallery.images.len(), size }
        });
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
                download_all,
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

    /// What anything that asks for a link without counting an open is answered, in `locale`:
    /// the interstitial (with the slot for the card's tags) and the card's words.
    pub(super) fn preview_page(&self, gallery: &GalleryModel, locale: Locale) -> Result<PreviewPage> {
        let what = || format!("rendering the preview page of gallery {} in {locale}", gallery.id);
        let html = self
            .theme
            .render("preview.html", context! { gallery_title => &gallery.title, meta_slot => preview::META_SLOT, ..self.base(locale) })
            .with_context(what)?;
        if !html.contains(preview::META_SLOT) {
            anyhow::bail!("the theme's preview.html has no `{{{{ meta_slot | safe }}}}` in its head: chat previews need it for their tags");
        }
        let strings = self.theme.strings(locale);
        let word = |key: &str| strings.get(key).cloned().with_context(|| format!("strings/{}.yaml has no `{key}`", locale.tag()));
        let n = gallery.images.len();
        let images = if n == 1 { word("image_count_one")? } else { word("image_count")?.replace("{n}", &n.to_string()) };
        let cover = gallery.cover.as_deref().and_then(|id| gallery.images.iter().find(|i| i.id == id));
        let image = gallery.preview_image.as_ref().map(|f| CardImage {
            path: preview::image_path(&f.hash),
            width: f.width,
            height: f.height,
            alt: cover.map(|c| c.alt.clone()).unwrap_or_else(|| gallery.title.clone()),
        });
        let card = Card { title: gallery.title.clone(), site_title: self.site.title.clone(), images, until: word("preview_until")?, image, stylesheet: format!("{}gallery.css", self.assets_base) };
        Ok(PreviewPage { locale, wording: self.theme.wording(locale).with_context(what)?, card, html })
    }

    pub(super) fn denial_page(&self, denial: Denial, locale: Locale) -> Result<String> {
        self.theme
            .render(
                "denied.html",
                context! { code => denial.code(), title => denial.title(locale), message => denial.message(locale), slot => manifest::DENIAL_SLOT, ..self.base(locale) },
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

fn no_variants(gallery: &GalleryModel, image: &Image, role: &str) -> String {
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
            marked: None,
        }
    }

    #[test]
    fn sizes_read_as_people_expect_them() {
        let cases = [
            (0, "0 B"),
            (999, "999 B"),
            (1000, "1.0 KB"),
            (1_234_567, "1.2 MB"),
            (99_940_000, "99.9 MB"),
            (99_960_000, "100 MB"),
            (999_960_000, "1.0 GB"),
            (1_200_000_000, "1.2 GB"),
            (5_000_000_000_000_000, "5000 TB"),
        ];
        for (bytes, shown) in cases {
            assert_eq!(human_size(bytes), shown, "{bytes}");
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
