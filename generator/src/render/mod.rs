//! Pages and owner kits from the theme.
//!
//! Every word a visitor or owner reads comes from the theme: HTML from minijinja templates in
//! `templates/`, interface strings from `strings/<locale>.yaml`, denial wording from
//! [`Denial::title`]/[`Denial::message`]. This module only decides *what* goes where:
//!
//! - `site_dir` (deployed, served only through the worker): one gallery page template per
//!   gallery, download mode and language (never one per link: the worker fills in the link), a
//!   title-only preview page per gallery and language for link-preview bots, a denial page per
//!   reason and language, and the theme's static files under `/assets/<content-hash>/`;
//! - `owner_dir` (never deployed; it holds every token): QR codes, printable QR cards, ready-to-
//!   send share messages and an overview page.
//!
//! `theme` loads the theme (templates, strings, static files), `pages` renders what visitors
//! and bots get, `owner` the owner kit; all read the [`BuiltSite`].

mod owner;
mod pages;
mod theme;

use crate::built::BuiltSite;
use anyhow::{Context, Result, bail};
use chrono::TimeZone;
use gatefold_contract::manifest::{self, PageMode};
use gatefold_contract::{Denial, Expiry, Locale, ResolvedExpiry};
use minijinja::context;
use minijinja::value::Value;
use std::path::{Path, PathBuf};
use theme::{Theme, copy_static};

/// Counts of what [`render`] wrote.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RenderReport {
    /// Every page written under `site_dir`: gallery page templates, preview and denial pages.
    pub pages: usize,
    /// Gallery page templates: galleries × download modes × languages.
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
pub fn render(
    theme_dir: &Path,
    site: &BuiltSite,
    site_dir: &Path,
    owner_dir: &Path,
) -> Result<RenderReport> {
    let theme = Theme::load(theme_dir)?;
    for gallery in site.galleries.values() {
        check_segment("gallery id", &gallery.id)?;
        for link in gallery.links.values() {
            check_segment(&format!("link name in gallery {}", gallery.id), &link.name)?;
        }
    }

    let assets_base = copy_static(&theme_dir.join("static"), site_dir)?;
    let pages = Renderer { theme: &theme, site, assets_base: &assets_base };
    let mut report = RenderReport { assets_base: assets_base.clone(), ..RenderReport::default() };

    for gallery in site.galleries.values() {
        for locale in Locale::ALL {
            for mode in PageMode::ALL {
                let template = pages.gallery_page(gallery, mode, locale)?;
                let json = serde_json::to_vec(&template).context("serialising a page template")?;
                write(&site_file(site_dir, &manifest::page_path(&gallery.id, mode, locale)), json)?;
                report.gallery_pages += 1;
            }
            let html = pages.preview_page(gallery, locale)?;
            write(&site_file(site_dir, &manifest::preview_path(&gallery.id, locale)), html)?;
            report.preview_pages += 1;
        }
    }
    for denial in Denial::ALL {
        for locale in Locale::ALL {
            let html = pages.denial_page(denial, locale)?;
            write(&site_file(site_dir, &manifest::denial_path(denial, locale)), html)?;
            report.denial_pages += 1;
        }
    }
    report.pages = report.gallery_pages + report.preview_pages + report.denial_pages;

    pages.owner_kit(site_dir, owner_dir, &mut report)?;
    Ok(report)
}

/// How many files [`render`] writes under `site_dir` for `galleries` galleries with the theme
/// in `theme_dir`, counted without rendering (`gatefold check` weighs a deployment with it):
/// the theme's static files, the denial pages and the owner stylesheet, and per gallery its
/// page templates, previews and owner kits.
pub fn site_file_count(theme_dir: &Path, galleries: usize) -> Result<usize> {
    let denials = Denial::ALL.len() * Locale::ALL.len();
    let owner_css = 1;
    Ok(theme::static_files(&theme_dir.join("static"))?.len() + denials + owner_css + galleries * files_per_gallery())
}

/// Files [`render`] writes for each gallery: its page templates (download modes × languages),
/// its previews and its owner kits (one per language each).
pub fn files_per_gallery() -> usize {
    let languages = Locale::ALL.len();
    PageMode::ALL.len() * languages + languages + languages
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
    site: &'a BuiltSite,
    /// Public path of the theme's static files.
    assets_base: &'a str,
}

impl Renderer<'_> {
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
    fn names_that_could_leave_their_folder_are_refused() {
        assert!(check_segment("gallery id", "spring-launch_2026").is_ok());
        for bad in ["", "..", "a/b", "a\\b", "x y"] {
            assert!(check_segment("gallery id", bad).is_err(), "{bad:?}");
        }
    }
}
