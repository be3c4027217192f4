//! Pages and owner kits from the theme.
//!
//! Every word a visitor or owner reads comes from the theme: HTML from minijinja templates in
//! `templates/`, interface strings from `strings/<locale>.yaml`, denial wording from
//! [`Denial::title`]/[`Denial::message`]. This module only decides *what* goes where:
//!
//! - `site_dir` (deployed, served only through the worker): one gallery page per link and
//!   language, a title-only preview page per gallery and language for link-preview bots, a
//!   denial page per reason and language, and the theme's static files under
//!   `/assets/<content-hash>/`;
//! - `owner_dir` (never deployed; it holds every token): QR codes, printable QR cards, ready-to-
//!   send share messages and an overview page.

use anyhow::{Context, Result, bail};
use chrono::TimeZone;
use gatefold_contract::manifest::{
    self, Gallery, Image, Link, Manifest, PUBLIC_PREFIX, SESSION_EXPIRES_PLACEHOLDER, Variant, VariantRole,
};
use gatefold_contract::{Denial, Locale};
use minijinja::value::{Kwargs, Value};
use minijinja::{Environment, UndefinedBehavior, context};
use serde::Serialize;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// What the build knows about a gallery beyond the manifest.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct GalleryExtras {
    /// The gallery's `description.md`, already rendered to sanitized HTML.
    pub description_html: Option<String>,
    /// Id of the image shown large at the top of the gallery page.
    pub cover: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Extras {
    /// Gallery id → extras.
    pub galleries: BTreeMap<String, GalleryExtras>,
}

/// Counts of what [`render`] wrote.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RenderReport {
    /// Every HTML page written under `site_dir`: gallery, preview and denial pages.
    pub pages: usize,
    pub gallery_pages: usize,
    pub preview_pages: usize,
    pub denial_pages: usize,
    /// One per link, each written as SVG and PNG.
    pub qr_codes: usize,
    pub cards: usize,
    pub share_kits: usize,
    /// Public path of the theme's static files, e.g. `/assets/1a2b3c4d/`; other pages (the
    /// admin page) link their CSS and JS under it.
    pub assets_base: String,
}

/// Side of the PNG QR codes in the owner kit: sharp on an A4 poster at 300 dpi up to ~8 cm.
const QR_PNG_PX: u32 = 1024;

/// Renders every page and owner file. `site_dir` = the static-assets root (`<staging>/site`),
/// `owner_dir` = `<staging>/owner` (never deployed).
pub fn render(
    theme_dir: &Path,
    manifest: &Manifest,
    extras: &Extras,
    site_dir: &Path,
    owner_dir: &Path,
) -> Result<RenderReport> {
    let theme = Theme::load(theme_dir)?;
    let tz: chrono_tz::Tz = manifest.site.timezone.parse().map_err(|_| {
        anyhow::anyhow!(
            "site timezone {:?} is not an IANA timezone name (for example Asia/Shanghai or Europe/Berlin)",
            manifest.site.timezone
        )
    })?;
    for gallery in manifest.galleries.values() {
        check_segment("gallery id", &gallery.id)?;
        for link in gallery.links.values() {
            check_segment(&format!("link name in gallery {}", gallery.id), &link.name)?;
        }
    }

    let assets_base = copy_static(&theme_dir.join("static"), site_dir)?;
    let ctx = Ctx { theme: &theme, manifest, extras, tz, assets_base: &assets_base };
    let mut report = RenderReport { assets_base: assets_base.clone(), ..RenderReport::default() };

    for gallery in manifest.galleries.values() {
        for locale in Locale::ALL {
            for link in gallery.links.values() {
                let html = ctx.gallery_page(gallery, link, locale)?;
                write(&site_file(site_dir, &manifest::page_path(&gallery.id, &link.name, locale)), html)?;
                report.gallery_pages += 1;
            }
            let html = ctx.preview_page(gallery, locale)?;
            write(&site_file(site_dir, &manifest::preview_path(&gallery.id, locale)), html)?;
            report.preview_pages += 1;
        }
    }
    for denial in Denial::ALL {
        for locale in Locale::ALL {
            let html = ctx.denial_page(denial, locale)?;
            write(&site_file(site_dir, &manifest::denial_path(denial, locale)), html)?;
            report.denial_pages += 1;
        }
    }
    report.pages = report.gallery_pages + report.preview_pages + report.denial_pages;

    ctx.owner_kit(owner_dir, &mut report)?;
    Ok(report)
}

/// Gallery ids and link names become file names in the owner kit: refuse anything that could
/// climb out of its folder, even though the config loader validates them first.
fn check_segment(what: &str, value: &str) -> Result<()> {
    let ok = !value.is_empty()
        && value != "."
        && value != ".."
        && value.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
    if !ok {
        bail!("{what} {value:?} cannot be used in a file name: use letters, digits, '-', '_' or '.'");
    }
    Ok(())
}

fn site_file(site_dir: &Path, contract_path: &str) -> PathBuf {
    site_dir.join(contract_path.trim_start_matches('/'))
}

fn write(path: &Path, contents: impl AsRef<[u8]>) -> Result<()> {
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).with_context(|| format!("creating {}", parent.display()))?;
    }
    std::fs::write(path, contents).with_context(|| format!("writing {}", path.display()))
}

/// Copies the theme's `static/` files to `site_dir/assets/<hash>/`, the hash covering every
/// file's path and bytes, so a changed theme gets new URLs and browsers may cache the old
/// ones forever. Returns the public base path, ending in `/`.
fn copy_static(static_dir: &Path, site_dir: &Path) -> Result<String> {
    let mut files = Vec::new();
    for entry in walkdir::WalkDir::new(static_dir).sort_by_file_name() {
        let entry = entry.with_context(|| format!("listing {}", static_dir.display()))?;
        if !entry.file_type().is_file() {
            continue;
        }
        let rel = entry.path().strip_prefix(static_dir).expect("walkdir stays under its root").to_path_buf();
        let bytes = std::fs::read(entry.path()).with_context(|| format!("reading {}", entry.path().display()))?;
        files.push((rel, bytes));
    }
    if files.is_empty() {
        bail!("{} has no files: the theme needs at least gallery.css and gallery.js", static_dir.display());
    }
    let mut hasher = blake3::Hasher::new();
    for (rel, bytes) in &files {
        let name = rel.to_string_lossy();
        hasher.update(&(name.len() as u64).to_le_bytes());
        hasher.update(name.as_bytes());
        hasher.update(&(bytes.len() as u64).to_le_bytes());
        hasher.update(bytes);
    }
    let hash = &hasher.finalize().to_hex()[..8];
    let base = format!("{PUBLIC_PREFIX}{hash}/");
    let dir = site_file(site_dir, &base);
    for (rel, bytes) in &files {
        write(&dir.join(rel), bytes)?;
    }
    Ok(base)
}

/// The theme: its templates and its interface strings in every language.
struct Theme {
    env: Environment<'static>,
    strings: BTreeMap<Locale, BTreeMap<String, String>>,
    owner_css: String,
}

impl Theme {
    fn load(dir: &Path) -> Result<Theme> {
        let templates = dir.join("templates");
        if !templates.is_dir() {
            bail!("{} is missing: a theme keeps its page templates there", templates.display());
        }
        let mut env = Environment::new();
        env.set_loader(minijinja::path_loader(templates));
        // A misspelt variable or a string missing from a language must fail the build, not
        // print an empty gap on a page sent to customers.
        env.set_undefined_behavior(UndefinedBehavior::Strict);
        env.set_trim_blocks(true);
        env.set_lstrip_blocks(true);
        env.set_keep_trailing_newline(true);
        env.add_filter("fill", fill);
        env.set_formatter(html_formatter);

        let mut strings = BTreeMap::new();
        for locale in Locale::ALL {
            let path = dir.join("strings").join(format!("{}.yaml", locale.tag()));
            let text = std::fs::read_to_string(&path).with_context(|| format!("reading {}", path.display()))?;
            let map: BTreeMap<String, String> = serde_yaml_ng::from_str(&text).with_context(|| {
                format!("parsing {}: it must be a flat map of string keys to string values", path.display())
            })?;
            strings.insert(locale, map);
        }
        // Every language must say everything the first one says, and nothing it doesn't.
        let (first, reference) = strings.iter().next().expect("Locale::ALL is not empty");
        for (locale, map) in &strings {
            let path = dir.join("strings").join(format!("{}.yaml", locale.tag()));
            if let Some(key) = reference.keys().find(|k| !map.contains_key(*k)) {
                bail!("{} has no string {key:?}: add it (see strings/{}.yaml)", path.display(), first.tag());
            }
            if let Some(key) = map.keys().find(|k| !reference.contains_key(*k)) {
                bail!(
                    "{} has string {key:?} that strings/{}.yaml lacks: add it there too or remove it",
                    path.display(),
                    first.tag()
                );
            }
        }

        let owner_css_path = dir.join("owner").join("owner.css");
        let owner_css = std::fs::read_to_string(&owner_css_path)
            .with_context(|| format!("reading {}", owner_css_path.display()))?;
        Ok(Theme { env, strings, owner_css })
    }

    fn render(&self, template: &str, ctx: Value) -> Result<String> {
        let tmpl = self.env.get_template(template).with_context(|| format!("loading template {template}"))?;
        tmpl.render(ctx).map_err(|e| anyhow::anyhow!("rendering template {template}: {e:#}"))
    }

    fn strings(&self, locale: Locale) -> &BTreeMap<String, String> {
        &self.strings[&locale]
    }
}

/// Escapes the five characters that matter in HTML text and quoted attributes, and nothing
/// else: minijinja's default also escapes `/`, which turns every URL into `&#x2f;` noise.
fn html_formatter(
    out: &mut minijinja::Output<'_>,
    state: &minijinja::State<'_, '_>,
    value: &Value,
) -> Result<(), minijinja::Error> {
    if state.auto_escape() != minijinja::AutoEscape::Html || value.is_safe() {
        return minijinja::escape_formatter(out, state, value);
    }
    let text = if value.is_none() { String::new() } else { value.to_string() };
    let mut escaped = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => escaped.push_str("&amp;"),
            '<' => escaped.push_str("&lt;"),
            '>' => escaped.push_str("&gt;"),
            '"' => escaped.push_str("&quot;"),
            '\'' => escaped.push_str("&#39;"),
            c => escaped.push(c),
        }
    }
    out.write_str(&escaped)
        .map_err(|_| minijinja::Error::new(minijinja::ErrorKind::WriteFailure, "writing template output"))
}

/// `{{ t.available_until | fill(date=d, tz=z) }}`: replaces `{date}` and `{tz}` in a string from
/// the strings file, so word order stays the translator's choice.
fn fill(text: String, kwargs: Kwargs) -> Result<String, minijinja::Error> {
    let mut out = text;
    for key in kwargs.args().map(str::to_string).collect::<Vec<_>>() {
        let value: Value = kwargs.get(&key)?;
        out = out.replace(&format!("{{{key}}}"), &value.to_string());
    }
    kwargs.assert_all_used()?;
    Ok(out)
}

struct Ctx<'a> {
    theme: &'a Theme,
    manifest: &'a Manifest,
    extras: &'a Extras,
    tz: chrono_tz::Tz,
    assets_base: &'a str,
}

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
    content_type: String,
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

#[derive(Debug, Serialize)]
struct LinkView {
    name: String,
    label: String,
    url: String,
    disabled: bool,
    download: bool,
    max_views: Option<u32>,
    view_seconds: Option<u32>,
    expires: Option<String>,
    qr_svg: String,
    qr_png: String,
    card: String,
    inline_qr: Option<String>,
}

/// Formats preferred in `<source>` order; the `<img>` fallback is the most compatible type
/// an image has.
const SOURCE_ORDER: [&str; 3] = ["image/avif", "image/webp", "image/gif"];
const FALLBACK_ORDER: [&str; 4] = ["image/jpeg", "image/png", "image/gif", "image/webp"];

fn picture(token: &str, variants: &[&Variant]) -> Option<Picture> {
    let fallback_type = FALLBACK_ORDER
        .iter()
        .find(|t| variants.iter().any(|v| v.content_type == **t))
        .copied()
        .or_else(|| variants.first().map(|v| v.content_type.as_str()))?;
    let of_type = |t: &str| {
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
        .map(|t| of_type(t))
        .filter(|vs| !vs.is_empty())
        .map(|vs| Source { content_type: vs[0].content_type.clone(), srcset: srcset(&vs) })
        .collect();
    Some(Picture {
        sources,
        src: manifest::image_path(token, &smallest.file),
        srcset: srcset(&fallback),
        width: smallest.width,
        height: smallest.height,
    })
}

impl Ctx<'_> {
    fn base(&self, locale: Locale) -> Value {
        context! {
            lang => locale.tag(),
            t => self.theme.strings(locale),
            site_title => &self.manifest.site.title,
            assets => self.assets_base,
            dev_key => self.manifest.site.dev_key,
        }
    }

    fn format_time(&self, unix: i64, locale: Locale) -> Result<String> {
        let format = &self.theme.strings(locale)["date_format"];
        let at = self
            .tz
            .timestamp_opt(unix, 0)
            .single()
            .with_context(|| format!("expiry {unix} (Unix seconds) is out of range"))?;
        // A date-only expiry is stored as the next local midnight; recipients read "until 5 Dec
        // 23:59", not "until 6 Dec 00:00".
        let at = if chrono::Timelike::num_seconds_from_midnight(&at) == 0 { at - chrono::Duration::minutes(1) } else { at };
        let mut out = String::new();
        use std::fmt::Write;
        write!(out, "{}", at.format(format)).map_err(|_| {
            anyhow::anyhow!("date_format {format:?} in the theme strings for {locale} is not a valid strftime format")
        })?;
        Ok(out)
    }

    fn images(&self, gallery: &Gallery, link: &Link) -> Result<Vec<ImageView>> {
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

    fn gallery_page(&self, gallery: &Gallery, link: &Link, locale: Locale) -> Result<String> {
        let images = self.images(gallery, link)?;
        let extras = self.extras.galleries.get(&gallery.id);
        let cover = extras.and_then(|e| e.cover.as_deref()).and_then(|id| images.iter().find(|i| i.id == id));
        let description = extras.and_then(|e| e.description_html.clone()).map(Value::from_safe_string);
        let expires = link.policy.expires_at.map(|at| self.format_time(at, locale)).transpose()?;
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
                timezone => &self.manifest.site.timezone,
                session_placeholder => SESSION_EXPIRES_PLACEHOLDER,
                session_over_title => session_over.title(locale),
                session_over_message => session_over.message(locale), ..self.base(locale) },
            )
            .with_context(|| format!("rendering the page of link {} of gallery {} in {locale}", link.name, gallery.id))
    }

    fn preview_page(&self, gallery: &Gallery, locale: Locale) -> Result<String> {
        self.theme
            .render("preview.html", context! { gallery_title => &gallery.title, ..self.base(locale) })
            .with_context(|| format!("rendering the preview page of gallery {} in {locale}", gallery.id))
    }

    fn denial_page(&self, denial: Denial, locale: Locale) -> Result<String> {
        self.theme
            .render(
                "denied.html",
                context! { code => denial.code(), title => denial.title(locale), message => denial.message(locale), ..self.base(locale) },
            )
            .with_context(|| format!("rendering the {denial} page in {locale}"))
    }

    fn link_view(&self, gallery: &Gallery, link: &Link, locale: Locale, inline_qr: bool) -> Result<LinkView> {
        let url = manifest::link_url(&self.manifest.site.base_url, &link.token);
        Ok(LinkView {
            name: link.name.clone(),
            label: link.label.clone(),
            disabled: link.policy.disabled,
            download: link.policy.download,
            max_views: link.policy.max_views,
            view_seconds: link.policy.view_seconds,
            expires: link.policy.expires_at.map(|at| self.format_time(at, locale)).transpose()?,
            qr_svg: format!("qr/{}/{}.svg", gallery.id, link.name),
            qr_png: format!("qr/{}/{}.png", gallery.id, link.name),
            card: format!("cards/{}/{}.html", gallery.id, link.name),
            inline_qr: if inline_qr { Some(crate::qr::inline_svg(&url)?) } else { None },
            url,
        })
    }

    fn owner_kit(&self, owner_dir: &Path, report: &mut RenderReport) -> Result<()> {
        let primary = self.manifest.site.default_locale;
        // Printed cards carry both languages, the site's own first.
        let secondary: Vec<Locale> = Locale::ALL.into_iter().filter(|l| *l != primary).collect();
        write(&owner_dir.join("owner.css"), &self.theme.owner_css)?;

        let mut overview = Vec::new();
        for gallery in self.manifest.galleries.values() {
            let mut links = Vec::new();
            for link in gallery.links.values() {
                let url = manifest::link_url(&self.manifest.site.base_url, &link.token);
                let dir = owner_dir.join("qr").join(&gallery.id);
                write(&dir.join(format!("{}.svg", link.name)), crate::qr::svg(&url)?)?;
                write(&dir.join(format!("{}.png", link.name)), crate::qr::png(&url, QR_PNG_PX)?)?;
                report.qr_codes += 1;

                let view = self.link_view(gallery, link, primary, true)?;
                let other: Vec<Value> = secondary
                    .iter()
                    .map(|l| {
                        Ok(context! {
                            lang => l.tag(),
                            t => self.theme.strings(*l),
                            expires => link.policy.expires_at.map(|at| self.format_time(at, *l)).transpose()?,
                        })
                    })
                    .collect::<Result<_>>()?;
                let card = self
                    .theme
                    .render(
                        "owner/card.html",
                        context! {
                        gallery_title => &gallery.title,
                        link => view,
                        other,
                        timezone => &self.manifest.site.timezone,
                        css => "../../owner.css", ..self.base(primary) },
                    )
                    .with_context(|| {
                        format!("rendering the QR card of link {} of gallery {}", link.name, gallery.id)
                    })?;
                write(&owner_dir.join("cards").join(&gallery.id).join(format!("{}.html", link.name)), card)?;
                report.cards += 1;
                links.push(self.link_view(gallery, link, primary, false)?);
            }

            let mut kits = Vec::new();
            for locale in Locale::ALL {
                let links = gallery
                    .links
                    .values()
                    .filter(|l| !l.policy.disabled)
                    .map(|l| self.link_view(gallery, l, locale, false))
                    .collect::<Result<Vec<_>>>()?;
                let text = self
                    .theme
                    .render(
                        "owner/share-kit.txt",
                        context! { gallery_title => &gallery.title, links, timezone => &self.manifest.site.timezone, ..self.base(locale) },
                    )
                    .with_context(|| format!("rendering the share kit of gallery {} in {locale}", gallery.id))?;
                let file = format!("share-kit/{}.{}.txt", gallery.id, locale.tag());
                write(&owner_dir.join(&file), text)?;
                kits.push(context! { lang => locale.tag(), file });
                report.share_kits += 1;
            }
            overview.push(
                context! { id => &gallery.id, title => &gallery.title, images => gallery.images.len(), links, kits },
            );
        }

        let index = self
            .theme
            .render(
                "owner/index.html",
                context! { galleries => overview, timezone => &self.manifest.site.timezone, css => "owner.css", ..self.base(primary) },
            )
            .context("rendering the owner overview page")?;
        write(&owner_dir.join("index.html"), index)
    }
}

fn no_variants(gallery: &Gallery, image: &Image, role: &str) -> String {
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
            content_type: content_type.into(),
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

    #[test]
    fn names_that_could_leave_their_folder_are_refused() {
        assert!(check_segment("gallery id", "spring-launch_2026").is_ok());
        for bad in ["", "..", "a/b", "a\\b", "x y"] {
            assert!(check_segment("gallery id", bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn fill_replaces_named_placeholders() {
        let mut env = Environment::new();
        env.add_filter("fill", fill);
        let out = env.render_str("{{ 'Until {date} ({tz})' | fill(date='5 Dec', tz='UTC') }}", ()).unwrap();
        assert_eq!(out, "Until 5 Dec (UTC)");
    }

    #[test]
    fn html_output_escapes_markup_but_leaves_urls_readable() {
        let mut env = Environment::new();
        env.set_formatter(html_formatter);
        env.add_template("t.html", "<a href=\"{{ u }}\">{{ s }}</a>{{ h }}{{ n }}").unwrap();
        let out = env
            .get_template("t.html")
            .unwrap()
            .render(context! { u => "/s/tok/i/a.jpg?x=1&y=2", s => "<b>\"it's\"</b>", h => Value::from_safe_string("<i>ok</i>".into()), n => () })
            .unwrap();
        assert_eq!(out, "<a href=\"/s/tok/i/a.jpg?x=1&amp;y=2\">&lt;b&gt;&quot;it&#39;s&quot;&lt;/b&gt;</a><i>ok</i>");
    }
}
