//! What only owners get (never deployed: it holds every token): QR codes, printable QR cards,
//! ready-to-send share messages and an overview page.

use super::{RenderReport, Renderer, write};
use crate::built::BuiltGallery;
use anyhow::{Context, Result};
use gatefold_contract::Locale;
use gatefold_contract::manifest::{self, Link};
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
    inline_qr: Option<String>,
}

impl Renderer<'_> {
    fn link_view(&self, gallery: &BuiltGallery, link: &Link, locale: Locale, inline_qr: bool) -> Result<LinkView> {
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
            inline_qr: if inline_qr { Some(crate::qr::inline_svg(&url)?) } else { None },
            url,
        })
    }

    pub(super) fn owner_kit(&self, owner_dir: &Path, report: &mut RenderReport) -> Result<()> {
        let primary = self.site.default_locale;
        // Printed cards carry both languages, the site's own first.
        let secondary: Vec<Locale> = Locale::ALL.into_iter().filter(|l| *l != primary).collect();
        write(&owner_dir.join("owner.css"), &self.theme.owner_css)?;

        let mut overview = Vec::new();
        for gallery in self.site.galleries.values() {
            let mut links = Vec::new();
            for link in gallery.links.values() {
                let url = manifest::link_url(&self.site.base_url, &link.token);
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
                            expires => link.policy.expires.map(|e| self.format_expiry(&e, *l)).transpose()?,
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
                        timezone => self.site.timezone.name(),
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
                        context! { gallery_title => &gallery.title, links, timezone => self.site.timezone.name(), ..self.base(locale) },
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
                context! { galleries => overview, timezone => self.site.timezone.name(), css => "owner.css", ..self.base(primary) },
            )
            .context("rendering the owner overview page")?;
        write(&owner_dir.join("index.html"), index)
    }
}

