//! Pages and owner kits from the theme.
//!
//! Every word a visitor or owner reads comes from the theme: HTML from minijinja templates in
//! `templates/`, interface strings from `strings/<locale>.yaml`, denial wording from
//! [`Denial::title`]/[`Denial::message`]. This module only decides *what* goes where:
//!
//! - `site_dir` (deployed, served only through the worker): one gallery page template per
//!   gallery, download mode and language (never one per link: the worker fills in the link), a
//!   preview per gallery and language (the interstitial and the chat card's words, for link-preview
//!   fetchers and scanners), a denial page per
//!   reason and language, and the theme's static files under `/assets/<content-hash>/`;
//! - `owner_dir` (never deployed; it holds every token): QR codes, printable QR cards, ready-to-
//!   send share messages and an overview page.
//!
//! `theme` loads the theme (templates, strings, static files), `pages` renders what visitors
//! and bots get, `owner` the owner kit; all read the [`SiteModel`].

mod owner;
mod pages;
mod theme;

use crate::model::{GalleryModel, SiteModel};
use anyhow::{Context, Result, bail};
use chrono::TimeZone;
use gatefold_contract::manifest::{self, PageMode};
use gatefold_contract::{Denial, Expiry, Locale, ResolvedExpiry};
use minijinja::context;
use minijinja::value::Value;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use theme::{Theme, copy_static};

/// Counts of what [`render`] wrote.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RenderReport {
    /// Every page written under `site_dir`: gallery page templates, preview and denial pages.
    pub pages: usize,
    /// Gallery page templates: galleries × the download modes their links use × languages.
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

/// Renders every page and owner file. `site_dir` = the static-assets root (`<staging>/site`),
/// `owner_dir` = `<staging>/owner` (never deployed).
pub fn render(theme_dir: &Path, site: &SiteModel, site_dir: &Path, owner_dir: &Path) -> Result<RenderReport> {
    Ok(render_reusing(theme_dir, site, site_dir, owner_dir, None)?.0)
}

/// What a previous build rendered, read back from its output directory: a gallery whose
/// inputs are unchanged gets that build's files again (hard links) instead of being rendered.
pub struct Previous<'a> {
    /// The previous build's output directory (`dist/`), the same layout as the staging root.
    pub root: &'a Path,
    pub state: RenderState,
}

/// What a build rendered per gallery, kept beside its output ([`RenderState::FILE`]) so the
/// next build can reuse what did not change.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RenderState {
    /// Everything outside the galleries that their files depend on: this generator's version,
    /// the theme's files and the site's settings.
    pub context: String,
    pub galleries: BTreeMap<String, GalleryRender>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GalleryRender {
    /// Hash of everything the gallery's files are rendered from (with the context).
    pub fingerprint: String,
    /// The files rendered for it, relative to the output directory.
    pub files: Vec<String>,
    /// What it counted in the report.
    pub counts: [usize; 5],
}

impl RenderState {
    /// Beside `site/` and `owner/` in the output directory (never deployed).
    pub const FILE: &'static str = "render-state.json";

    /// The state a previous build left in `root`, if readable: anything else means render all.
    pub fn read(root: &Path) -> Option<RenderState> {
        serde_json::from_slice(&std::fs::read(root.join(Self::FILE)).ok()?).ok()
    }
}

/// [`render`], reusing the files of `previous` for every gallery whose inputs are unchanged;
/// the others are rendered in parallel. Answers what was rendered for the next build.
pub fn render_reusing(
    theme_dir: &Path,
    site: &SiteModel,
    site_dir: &Path,
    owner_dir: &Path,
    previous: Option<&Previous<'_>>,
) -> Result<(RenderReport, RenderState)> {
    let theme = Theme::load(theme_dir)?;
    for gallery in site.galleries.values() {
        check_segment("gallery id", &gallery.id)?;
        for link in gallery.links.values() {
            // A recipient's link `<audience>/<recipient>` becomes a sub-folder and a file name.
            let (audience, name) = manifest::split_link_name(&link.name);
            for part in audience.into_iter().chain([name]) {
                check_segment(&format!("link name in gallery {}", gallery.id), part)?;
            }
        }
    }
    let root = site_dir.parent().context("the site directory has no parent")?;
    let assets_base = copy_static(&theme_dir.join("static"), site_dir)?;
    let pages = Renderer { theme: &theme, site, assets_base: &assets_base };
    let mut report = RenderReport { assets_base: assets_base.clone(), ..RenderReport::default() };
    let context = render_context(theme_dir, site, &assets_base)?;

    let rendered: Vec<(String, GalleryRender)> = site
        .galleries
        .values()
        .collect::<Vec<_>>()
        .par_iter()
        .map(|gallery| {
            let fingerprint = gallery_fingerprint(&context, gallery)?;
            let reused = previous
                .filter(|p| p.state.context == context)
                .and_then(|p| p.state.galleries.get(&gallery.id).filter(|g| g.fingerprint == fingerprint).map(|g| (p, g)))
                .and_then(|(p, g)| relink(p.root, root, &g.files).then(|| g.clone()));
            let done = match reused {
                Some(g) => g,
                None => pages.gallery_files(gallery, root, site_dir, owner_dir, fingerprint)?,
            };
            Ok((gallery.id.clone(), done))
        })
        .collect::<Result<_>>()?;
    let mut state = RenderState { context, galleries: BTreeMap::new() };
    for (id, g) in rendered {
        let [gallery_pages, preview_pages, qr_codes, cards, share_kits] = g.counts;
        report.gallery_pages += gallery_pages;
        report.preview_pages += preview_pages;
        report.qr_codes += qr_codes;
        report.cards += cards;
        report.share_kits += share_kits;
        state.galleries.insert(id, g);
    }
    for denial in Denial::ALL {
        for locale in Locale::ALL {
            let html = pages.denial_page(denial, locale)?;
            write(&site_file(site_dir, &manifest::denial_path(denial, locale)), html)?;
            report.denial_pages += 1;
        }
    }
    for locale in Locale::ALL {
        write(&site_file(site_dir, &manifest::password_page_path(locale)), pages.password_page(locale)?)?;
    }
    report.pages = report.gallery_pages + report.preview_pages + report.denial_pages;
    pages.owner_css(site_dir, owner_dir)?;
    pages.owner_index(owner_dir)?;
    Ok((report, state))
}

/// A hash of every file of the theme in `theme_dir` (templates, strings, static files): what
/// the theme gives a build's output.
pub fn theme_fingerprint(theme_dir: &Path) -> Result<String> {
    Ok(theme::fingerprint(theme_dir)?.to_hex().to_string())
}

/// Everything but the gallery itself that its files depend on.
fn render_context(theme_dir: &Path, site: &SiteModel, assets_base: &str) -> Result<String> {
    let mut hasher = blake3::Hasher::new();
    hasher.update(env!("CARGO_PKG_VERSION").as_bytes());
    hasher.update(theme::fingerprint(theme_dir)?.as_bytes());
    hasher.update(assets_base.as_bytes());
    hasher.update(&serde_json::to_vec(&site.manifest_site()).context("hashing the site settings")?);
    Ok(hasher.finalize().to_hex().to_string())
}

fn gallery_fingerprint(context: &str, gallery: &GalleryModel) -> Result<String> {
    let mut hasher = blake3::Hasher::new();
    hasher.update(context.as_bytes());
    let inputs = (&gallery.id, &gallery.title, &gallery.description_html, &gallery.cover, &gallery.images, &gallery.links, &gallery.audiences, &gallery.preview_image);
    hasher.update(&serde_json::to_vec(&inputs).context("hashing a gallery")?);
    Ok(hasher.finalize().to_hex().to_string())
}

/// Hard-links `files` from the previous output into the new one. False (and nothing left
/// behind) when any is missing: the gallery is then rendered afresh. A hard link shares the
/// previous build's bytes, which no build ever rewrites in place: every file is written anew.
fn relink(from: &Path, to: &Path, files: &[String]) -> bool {
    let mut made = Vec::with_capacity(files.len());
    // Each folder once: `create_dir_all` on an existing folder still takes its parent's lock,
    // which the threads relinking other galleries contend for.
    let mut folders = std::collections::BTreeSet::new();
    // Only plain relative paths: a state file naming anything else is not ours to follow.
    if !files.iter().all(|f| Path::new(f).components().all(|c| matches!(c, std::path::Component::Normal(_)))) {
        return false;
    }
    for file in files {
        let target = to.join(file);
        let folder_ready = target.parent().is_some_and(|p| folders.contains(p) || (std::fs::create_dir_all(p).is_ok() && folders.insert(p.to_path_buf())));
        let linked = folder_ready && std::fs::hard_link(from.join(file), &target).is_ok();
        if !linked {
            for m in made {
                let _ = std::fs::remove_file(m);
            }
            return false;
        }
        made.push(target);
    }
    true
}

/// How many files [`render`] writes under `site_dir` for galleries whose links use
/// `modes_per_gallery` page modes each ([`page_modes`]), with the theme in `theme_dir`, counted
/// without rendering (`gatefold check` weighs a deployment with it): the theme's static files,
/// the denial and password pages and the owner stylesheet, and per gallery its page templates,
/// previews and owner kits.
pub fn site_file_count(theme_dir: &Path, modes_per_gallery: impl IntoIterator<Item = usize>) -> Result<usize> {
    let denials = Denial::ALL.len() * Locale::ALL.len();
    let password_pages = Locale::ALL.len();
    let owner_css = 1;
    let galleries: usize = modes_per_gallery.into_iter().map(files_per_gallery).sum();
    Ok(theme::static_files(&theme_dir.join("static"))?.len() + denials + password_pages + owner_css + galleries)
}

/// Files [`render`] writes for a gallery whose links use `modes` page modes: its page
/// templates (modes × languages), its previews and its owner kits (one per language each).
pub fn files_per_gallery(modes: usize) -> usize {
    let languages = Locale::ALL.len();
    modes * languages + languages + languages
}

/// The page modes a gallery's links use (each link's [`PageMode::of`]): only these gallery
/// pages are rendered and deployed, since no link could ask for another.
pub fn page_modes(modes: impl IntoIterator<Item = PageMode>) -> BTreeSet<PageMode> {
    modes.into_iter().collect()
}

/// The gallery pages a gallery's links use: the page mode of each unmarked link, and of each
/// marked link its marked page (`true`).
pub fn gallery_pages(gallery: &GalleryModel) -> BTreeSet<(bool, PageMode)> {
    gallery.links.values().map(|l| (l.mark.is_some(), PageMode::of(&l.policy))).collect()
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

/// Renders one built site's pages and owner files with one theme.
struct Renderer<'a> {
    theme: &'a Theme,
    site: &'a SiteModel,
    /// Public path of the theme's static files.
    assets_base: &'a str,
}

impl Renderer<'_> {
    /// Every file of one gallery: page templates (download modes × languages), previews and
    /// owner files.
    fn gallery_files(&self, gallery: &GalleryModel, root: &Path, site_dir: &Path, owner_dir: &Path, fingerprint: String) -> Result<GalleryRender> {
        let mut files = Vec::new();
        let mut counts = RenderReport::default();
        for locale in Locale::ALL {
            for (marked, mode) in gallery_pages(gallery) {
                let template = self.gallery_page(gallery, mode, locale, marked)?;
                let path = if marked { manifest::marked_page_path(&gallery.id, mode, locale) } else { manifest::page_path(&gallery.id, mode, locale) };
                let path = site_file(site_dir, &path);
                write(&path, serde_json::to_vec(&template).context("serialising a page template")?)?;
                files.push(path);
                counts.gallery_pages += 1;
            }
            let path = site_file(site_dir, &manifest::preview_path(&gallery.id, locale));
            write(&path, serde_json::to_vec(&self.preview_page(gallery, locale)?).context("serialising a preview page")?)?;
            files.push(path);
            counts.preview_pages += 1;
        }
        files.extend(self.gallery_owner_files(gallery, site_dir, owner_dir, &mut counts)?);
        let files = files
            .into_iter()
            .map(|f| f.strip_prefix(root).map(|r| r.to_string_lossy().into_owned()).context("a rendered file outside the output"))
            .collect::<Result<_>>()?;
        let counts = [counts.gallery_pages, counts.preview_pages, counts.qr_codes, counts.cards, counts.share_kits];
        Ok(GalleryRender { fingerprint, files, counts })
    }

    fn base(&self, locale: Locale) -> Value {
        context! {
            lang => locale.tag(),
            t => self.theme.strings(locale),
            site_title => &self.site.title,
            assets => self.assets_base,
            dev_key => self.site.dev_key,
        }
    }

    /// An expiry in the theme's date format and the site timezone. A date reads as the last
    /// minute of that day ("until 5 Dec 23:59"), not as the midnight the link closes at.
    fn format_expiry(&self, expiry: &ResolvedExpiry, locale: Locale) -> Result<String> {
        let format = &self.theme.strings(locale)["date_format"];
        let shown = match expiry.written {
            Expiry::EndOfDay(_) => expiry.at - 60,
            Expiry::LocalTime(_) | Expiry::Moment(_) => expiry.at,
        };
        let at = self
            .site
            .timezone
            .timestamp_opt(shown, 0)
            .single()
            .with_context(|| format!("expiry {} is out of range", expiry.written))?;
        let mut out = String::new();
        use std::fmt::Write;
        write!(out, "{}", at.format(format)).map_err(|_| {
            anyhow::anyhow!("date_format {format:?} in the theme strings for {locale} is not a valid strftime format")
        })?;
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relinking_takes_every_file_or_none_and_only_plain_relative_paths() {
        let (from, to) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
        std::fs::create_dir_all(from.path().join("site/p")).unwrap();
        std::fs::write(from.path().join("site/p/a.json"), "a").unwrap();
        let files = |names: &[&str]| names.iter().map(|n| n.to_string()).collect::<Vec<_>>();

        assert!(!relink(from.path(), to.path(), &files(&["site/p/a.json", "site/p/missing.json"])));
        assert!(!to.path().join("site/p/a.json").exists(), "a failed relink leaves nothing behind");
        assert!(!relink(from.path(), to.path(), &files(&["site/../../etc/passwd"])));
        assert!(!relink(from.path(), to.path(), &files(&["/etc/passwd"])));
        assert!(relink(from.path(), to.path(), &files(&["site/p/a.json"])));
        assert_eq!(std::fs::read_to_string(to.path().join("site/p/a.json")).unwrap(), "a");
    }

    #[test]
    fn names_that_could_leave_their_folder_are_refused() {
        assert!(check_segment("gallery id", "spring-launch_2026").is_ok());
        for bad in ["", "..", "a/b", "a\\b", "x y"] {
            assert!(check_segment("gallery id", bad).is_err(), "{bad:?}");
        }
    }
}
