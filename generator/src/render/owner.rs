//! What only owners get: QR codes, printable QR cards, ready-to-send share messages and an
//! overview page in `dist/owner/` (never deployed: it holds every token), and the private
//! owner kits under `/_gatefold/owner/` that the worker fills for an authenticated admin.

use super::{RenderReport, Renderer, write};
use crate::built::BuiltGallery;
use anyhow::{Context, Result};
use gatefold_contract::manifest::{self, Link};
use gatefold_contract::owner::{self, LinkTerms, OwnerKit, ShownExpiry};
use gatefold_contract::{Expiry, Locale, qr};
use std::collections::BTreeMap;
use minijinja::context;
use minijinja::value::Value;
use serde::Serialize;
use std::path::Path;

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
    fn link_view(&self, gallery: &BuiltGallery, link: &Link, locale: Locale) -> Result<LinkView> {
        let url = manifest::link_url(&self.site.base_url, &link.token);
        Ok(LinkView {
            name: link.name.clone(),
            label: link.label.clone(),
            disabled: link.policy.disabled,
            download: link.policy.download,
            max_views: link.policy.max_views,
            view_seconds: link.policy.view_seconds,
            expires: link.policy.expires.map(|e| self.format_expiry(&e, locale)).transpose()?,
            qr_svg: format!("qr/{}/{}.svg", gallery.id, link.name),
            qr_png: format!("qr/{}/{}.png", gallery.id, link.name),
            card: format!("cards/{}/{}.html", gallery.id, link.name),
            url,
        })
    }

    /// One gallery's owner templates in `locale`, rendered from the theme with placeholders
    /// where a link's fields go ([`gatefold_contract::owner`]).
    fn gallery_kit(&self, gallery: &BuiltGallery, locale: Locale) -> Result<OwnerKit> {
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
        let wording = Locale::ALL.into_iter().map(|l| Ok((l, self.theme.wording(l)?))).collect::<Result<_>>()?;
        Ok(OwnerKit { locale, timezone: self.site.timezone.name().to_string(), card, share_kit, share_link, wording })
    }

    /// What the owner files say about a link as published.
    fn link_terms(&self, link: &Link) -> LinkTerms {
        LinkTerms {
            label: link.label.clone(),
            url: manifest::link_url(&self.site.base_url, &link.token),
            expiry: link.policy.expires.map(|e| ShownExpiry {
                at: e.at,
                utc_offset: gatefold_contract::expiry::utc_offset_at(&self.site.utc_offsets, e.at),
                end_of_day: matches!(e.written, Expiry::EndOfDay(_)),
            }),
            download: link.policy.download,
            max_views: link.policy.max_views,
            view_seconds: link.policy.view_seconds,
        }
    }

    /// The private owner kits the worker fills for an admin (one file per gallery and
    /// language, never one per link), and the local `owner_dir` kit filled from the same kits.
    pub(super) fn owner_kit(&self, site_dir: &Path, owner_dir: &Path, report: &mut RenderReport) -> Result<()> {
        let primary = self.site.default_locale;
        write(&owner_dir.join("owner.css"), &self.theme.owner_css)?;
        write(&super::site_file(site_dir, owner::OWNER_CSS_PATH), &self.theme.owner_css)?;

        let mut overview = Vec::new();
        for gallery in self.site.galleries.values() {
            let mut kits = BTreeMap::new();
            for locale in Locale::ALL {
                let kit = self.gallery_kit(gallery, locale)?;
                write(&super::site_file(site_dir, &owner::kit_path(&gallery.id, locale)), serde_json::to_vec(&kit)?)?;
                kits.insert(locale, kit);
            }
            let bad_format = |e: owner::BadDateFormat| anyhow::anyhow!("theme strings: {e}");

            let mut links = Vec::new();
            for link in gallery.links.values() {
                let url = manifest::link_url(&self.site.base_url, &link.token);
                let dir = owner_dir.join("qr").join(&gallery.id);
                write(&dir.join(format!("{}.svg", link.name)), qr::svg(&url)?)?;
                write(&dir.join(format!("{}.png", link.name)), qr::png(&url, QR_PNG_PX)?)?;
                report.qr_codes += 1;

                let card = kits[&primary].card(&self.link_terms(link), &qr::inline_svg(&url)?, "../../owner.css").map_err(bad_format)?;
                write(&owner_dir.join("cards").join(&gallery.id).join(format!("{}.html", link.name)), card)?;
                report.cards += 1;
                links.push(self.link_view(gallery, link, primary)?);
            }

            let mut kit_files = Vec::new();
            let enabled: Vec<LinkTerms> = gallery.links.values().filter(|l| !l.policy.disabled).map(|l| self.link_terms(l)).collect();
            for (locale, kit) in &kits {
                let file = format!("share-kit/{}.{}.txt", gallery.id, locale.tag());
                write(&owner_dir.join(&file), kit.share_kit(&enabled).map_err(bad_format)?)?;
                kit_files.push(context! { lang => locale.tag(), file });
                report.share_kits += 1;
            }
            overview.push(
                context! { id => &gallery.id, title => &gallery.title, images => gallery.images.len(), links, kits => kit_files },
            );
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

