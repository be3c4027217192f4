//! What only owners get: QR codes, printable QR cards, ready-to-send share messages and an
//! overview page in `dist/owner/` (never deployed: it holds every token), and the private
//! owner kits under `/_gatefold/owner/` that the worker fills for an authenticated admin.

use super::{RenderReport, Renderer, write};
use crate::model::GalleryModel;
use anyhow::{Context, Result};
use gatefold_contract::manifest::{self, Link};
use gatefold_contract::owner::{self, AudienceTerms, LinkTerms, OwnerKit, ShownExpiry};
use gatefold_contract::{Expiry, Locale, qr};
use std::collections::BTreeMap;
use minijinja::context;
use minijinja::value::Value;
use serde::Serialize;
use rayon::prelude::*;
use std::path::{Path, PathBuf};

/// Side of the PNG QR codes in the owner kit: sharp on an A4 poster at 300 dpi up to ~8 cm.
const QR_PNG_PX: u32 = 1024;

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
}

impl Renderer<'_> {
    fn link_view(&self, gallery: &GalleryModel, link: &Link, locale: Locale) -> Result<LinkView> {
        let url = manifest::link_url(&self.site.base_url, &link.token);
        Ok(LinkView {
            name: link.name.clone(),
            label: link.label.clone(),
            disabled: link.policy.disabled,
            download: link.policy.download.any(),
            max_views: link.policy.max_views,
            view_seconds: link.policy.view_seconds,
            expires: link.policy.expires.map(|e| self.format_expiry(&e, locale)).transpose()?,
            qr_svg: qr_file(gallery, link, "svg"),
            qr_png: qr_file(gallery, link, "png"),
            card: card_file(gallery, link),
            url,
        })
    }

    /// One gallery's owner templates in `locale`, rendered from the theme with placeholders
    /// where a link's fields go ([`gatefold_contract::owner`]).
    fn gallery_kit(&self, gallery: &GalleryModel, locale: Locale) -> Result<OwnerKit> {
        let ph = owner::placeholder;
        let expiry = |l: Locale| ph(&format!("{}:{}", owner::EXPIRY, l.tag()));
        // Printed cards carry both languages, the kit's own first.
        let other: Vec<Value> = Locale::ALL
            .into_iter()
            .filter(|l| *l != locale)
            .map(|l| context! { lang => l.tag(), t => self.theme.strings(l), expiry => expiry(l) })
            .collect();
        let what = |file: &str| format!("rendering {file} of gallery {} in {locale}", gallery.id);
        let card = self
            .theme
            .render(
                "owner/card.html",
                context! {
                    gallery_title => &gallery.title,
                    link => context! { label => ph(owner::LABEL), url => ph(owner::URL), qr => ph(owner::QR), expiry => expiry(locale) },
                    other,
                    css => ph(owner::CSS),
                    ..self.base(locale)
                },
            )
            .with_context(|| what("the QR card"))?;
        let share_kit = self
            .theme
            .render("owner/share-kit.txt", context! { gallery_title => &gallery.title, links => ph(owner::LINKS), ..self.base(locale) })
            .with_context(|| what("the share kit"))?;
        let link = context! {
            label => ph(owner::LABEL), url => ph(owner::URL), expiry => ph(owner::EXPIRY),
            downloads => ph(owner::DOWNLOADS), views => ph(owner::VIEWS), view_time => ph(owner::VIEW_TIME),
        };
        let share_link = self
            .theme
            .render("owner/share-kit-link.txt", context! { link, ..self.base(locale) })
            .with_context(|| what("a share kit's link"))?;
        let audience = context! { label => ph(owner::LABEL), recipients => ph(owner::RECIPIENTS), file => ph(owner::FILE) };
        let share_audience = self
            .theme
            .render("owner/share-kit-audience.txt", context! { audience, ..self.base(locale) })
            .with_context(|| what("a share kit's audience"))?;
        let wording = Locale::ALL.into_iter().map(|l| Ok((l, self.theme.wording(l)?))).collect::<Result<_>>()?;
        Ok(OwnerKit { locale, timezone: self.site.timezone.name().to_string(), card, share_kit, share_link, share_audience, wording })
    }

    /// What the owner files say about a link as published.
    fn link_terms(&self, link: &Link) -> LinkTerms {
        LinkTerms {
            label: link.label.clone(),
            url: manifest::link_url(&self.site.base_url, &link.token),
            opens: link.policy.opens_at.map(|o| ShownExpiry::at_instant(o.at, gatefold_contract::expiry::utc_offset_at(&self.site.utc_offsets, o.at))).map(|o| ShownExpiry { end_of_day: false, ..o }),
            expiry: link.policy.expires.map(|e| ShownExpiry {
                at: e.at,
                utc_offset: gatefold_contract::expiry::utc_offset_at(&self.site.utc_offsets, e.at),
                end_of_day: matches!(e.written, Expiry::EndOfDay(_)),
            }),
            download: link.policy.download.any(),
            max_views: link.policy.max_views,
            view_seconds: link.policy.view_seconds,
        }
    }

    /// The owner stylesheet, in the local kit and where the worker serves it to admins.
    pub(super) fn owner_css(&self, site_dir: &Path, owner_dir: &Path) -> Result<()> {
        write(&owner_dir.join("owner.css"), &self.theme.owner_css)?;
        write(&super::site_file(site_dir, owner::OWNER_CSS_PATH), &self.theme.owner_css)
    }

    /// One gallery's private owner kits (one file per language, never one per link, which the
    /// worker fills for an admin) and its local `owner_dir` files filled from the same kits: a
    /// QR code (SVG, PNG) and card per link, a share kit per language. Answers the files written.
    pub(super) fn gallery_owner_files(&self, gallery: &GalleryModel, site_dir: &Path, owner_dir: &Path, counts: &mut RenderReport) -> Result<Vec<PathBuf>> {
        let primary = self.site.default_locale;
        let mut written = Vec::new();
        let put = |written: &mut Vec<PathBuf>, path: PathBuf, contents: &[u8]| -> Result<()> {
            write(&path, contents)?;
            written.push(path);
            Ok(())
        };
        let mut kits = BTreeMap::new();
        for locale in Locale::ALL {
            let kit = self.gallery_kit(gallery, locale)?;
            put(&mut written, super::site_file(site_dir, &owner::kit_path(&gallery.id, locale)), &serde_json::to_vec(&kit)?)?;
            kits.insert(locale, kit);
        }
        let bad_format = |e: owner::BadDateFormat| anyhow::anyhow!("theme strings: {e}");
        // Each link's QR codes and card, in parallel: an audience of hundreds of recipients is
        // one gallery, and drawing 1024-pixel PNGs is most of its render time.
        let links: Vec<&Link> = gallery.links.values().collect();
        let files = links
            .par_iter()
            .map(|link| {
                let url = manifest::link_url(&self.site.base_url, &link.token);
                let card = kits[&primary].card(&self.link_terms(link), &qr::inline_svg(&url)?, &owner_css_from(&card_file(gallery, link))).map_err(bad_format)?;
                let files = [
                    (owner_dir.join(qr_file(gallery, link, "svg")), qr::svg(&url)?.into_bytes()),
                    (owner_dir.join(qr_file(gallery, link, "png")), qr::png(&url, QR_PNG_PX)?),
                    (owner_dir.join(card_file(gallery, link)), card.into_bytes()),
                ];
                for (path, bytes) in &files {
                    write(path, bytes)?;
                }
                Ok(files.map(|(path, _)| path))
            })
            .collect::<Result<Vec<_>>>()?;
        for paths in files {
            written.extend(paths);
            counts.qr_codes += 1;
            counts.cards += 1;
        }
        // Recipients get their own links by mail merge: the share kit names their audience.
        let enabled: Vec<LinkTerms> = gallery.links.values().filter(|l| !l.policy.disabled && l.audience().is_none()).map(|l| self.link_terms(l)).collect();
        let audiences: Vec<AudienceTerms> = gallery
            .audiences
            .iter()
            .map(|(name, a)| AudienceTerms { label: format!("{} ({name})", a.label), recipients: a.recipients, file: mail_merge_file(gallery) })
            .collect();
        for (locale, kit) in &kits {
            put(&mut written, owner_dir.join(share_kit_file(gallery, *locale)), kit.share_kit_with_audiences(&enabled, &audiences).map_err(bad_format)?.as_bytes())?;
            counts.share_kits += 1;
        }
        if !gallery.audiences.is_empty() {
            let csv = owner::mail_merge_csv(&self.site.manifest_site(), &gallery.manifest(), |l| qr_file(gallery, l, "png"));
            put(&mut written, owner_dir.join(mail_merge_file(gallery)), csv.as_bytes())?;
        }
        Ok(written)
    }

    /// The local kit's overview page: every gallery, its links and their files.
    pub(super) fn owner_index(&self, owner_dir: &Path) -> Result<()> {
        let primary = self.site.default_locale;
        let mut overview = Vec::new();
        for gallery in self.site.galleries.values() {
            let view = |link: &Link| self.link_view(gallery, link, primary);
            // Plain links one by one; an audience's recipients folded under it, so a list of
            // hundreds of dealers stays one line until the owner opens it.
            let links = gallery.links.values().filter(|l| l.audience().is_none()).map(view).collect::<Result<Vec<_>>>()?;
            let audiences = gallery
                .audiences
                .iter()
                .map(|(name, a)| {
                    let members = gallery.links.values().filter(|l| l.audience() == Some(name.as_str())).map(view).collect::<Result<Vec<_>>>()?;
                    Ok(context! { name, label => &a.label, recipients => a.recipients, links => members })
                })
                .collect::<Result<Vec<_>>>()?;
            let mail_merge = (!gallery.audiences.is_empty()).then(|| mail_merge_file(gallery));
            let kits: Vec<Value> =
                Locale::ALL.into_iter().map(|l| context! { lang => l.tag(), file => share_kit_file(gallery, l) }).collect();
            overview.push(context! { id => &gallery.id, title => &gallery.title, images => gallery.images.len(), links, audiences, mail_merge, kits });
        }
        let index = self
            .theme
            .render(
                "owner/index.html",
                context! { galleries => overview, timezone => self.site.timezone.name(), css => "owner.css", ..self.base(primary) },
            )
            .context("rendering the owner overview page")?;
        write(&owner_dir.join("index.html"), index)
    }
}

/// A link's QR file in the owner folder; a recipient's (`<audience>/<recipient>`) sits in its
/// audience's sub-folder. Names are checked as plain segments before anything is written.
fn qr_file(gallery: &GalleryModel, link: &Link, ext: &str) -> String {
    format!("qr/{}/{}.{ext}", gallery.id, link.name)
}

/// The owner stylesheet (`owner.css` at the owner folder's root) from a file at `file`.
fn owner_css_from(file: &str) -> String {
    format!("{}owner.css", "../".repeat(file.matches('/').count()))
}

/// The gallery's mail-merge file (galleries with audiences only).
pub(super) fn mail_merge_file(gallery: &GalleryModel) -> String {
    format!("mail-merge/{}.csv", gallery.id)
}

fn card_file(gallery: &GalleryModel, link: &Link) -> String {
    format!("cards/{}/{}.html", gallery.id, link.name)
}

fn share_kit_file(gallery: &GalleryModel, locale: Locale) -> String {
    format!("share-kit/{}.{}.txt", gallery.id, locale.tag())
}
