//! `<gallery>/gallery.yaml`, the gallery folder's files and `description.md`.

use std::collections::{BTreeMap, HashSet};
use std::path::{Path, PathBuf};

use saphyr::YamlData;

use super::policy::{self, Setting};
use gatefold_contract::policy::audience_terms;
use gatefold_contract::{LinkPolicy, ResolvedExpiry};
use gatefold_contract::manifest::{Audience, Recipient, link_name};
use super::yaml::{FileDiagnostics, Node, describe, did_you_mean, is_null, join, pos};
use super::{GalleryConfig, LinkConfig, MAX_IMAGES, PreviewImage, SiteConfig, is_plain_file_name, is_slug, markdown, recipients, suggest_slug};

pub const GALLERY_FIELDS: &[&str] = &["title", "description", "cover", "disabled", "opens_at", "images", "links", "notify", "preview_image"];
const IMAGE_ENTRY_FIELDS: &[&str] = &["file", "caption", "alt"];
const LINK_FIELDS: &[&str] = &["label", "max_views", "expires", "download", "view_seconds", "devices", "disabled", "rotate", "password", "recipients", "notify", "opens_at", "mark"];
const DESCRIPTION_FILE: &str = "description.md";
const MAX_DESCRIPTION_BYTES: u64 = 256 * 1024;

/// An image as `gallery.yaml` (or the folder) lists it, before it is probed.
pub struct ListedImage {
    pub file: String,
    pub path: PathBuf,
    pub caption: Option<String>,
    pub alt: Option<String>,
}

/// Files that live in a gallery folder without being images.
fn is_companion_file(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    lower.starts_with('.')
        || lower.starts_with("readme")
        // Recipient lists (`recipients: dealers.csv`) sit next to the images.
        || [".md", ".txt", ".yaml", ".yml", ".csv"].iter().any(|ext| lower.ends_with(ext))
        || lower == "thumbs.db"
}

/// The folder's candidate image files, sorted by name; sub-folders and symlinks are reported.
fn folder_files(ctx: &mut FileDiagnostics, dir: &Path) -> Vec<String> {
    let mut files = Vec::new();
    let entries = match std::fs::read_dir(dir) {
        Ok(rd) => rd,
        Err(e) => {
            ctx.diags.push(crate::diagnostics::Diagnostic::error(dir, format!("cannot list the folder: {e}")).fix("check the folder's permissions"));
            return files;
        }
    };
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        if is_companion_file(&name) {
            continue;
        }
        let path = entry.path();
        let Ok(meta) = std::fs::symlink_metadata(&path) else { continue };
        if meta.file_type().is_symlink() {
            // A symlink could publish a file from outside the repo that nobody reviewed.
            ctx.diags.push(
                crate::diagnostics::Diagnostic::error(&path, "is a symbolic link; galleries only publish files stored in the folder itself")
                    .fix("copy the image into the gallery folder instead of linking to it"),
            );
        } else if meta.is_dir() {
            ctx.diags.push(
                crate::diagnostics::Diagnostic::warning(&path, "sub-folders of a gallery are not published")
                    .fix("move its images into the gallery folder, or make it a gallery of its own next to the others"),
            );
        } else {
            files.push(name);
        }
    }
    files.sort();
    files
}

pub fn read(ctx: &mut FileDiagnostics, id: &str, dir: &Path, root: Option<&Node<'_>>, site: &SiteConfig, now: i64) -> Option<(GalleryConfig, Vec<ListedImage>)> {
    if !is_slug(id) {
        ctx.diags.push(
            crate::diagnostics::Diagnostic::error(dir, format!("gallery folder name `{id}` is not a valid gallery id (it becomes part of every URL)"))
                .fix(format!("rename the folder to lowercase letters, digits and dashes, e.g. `{}`", suggest_slug(id))),
        );
    }
    let Some(root) = root else {
        ctx.error(None, "", "gallery.yaml is empty", "write at least `title:` and one link under `links:` (see galleries/README.md)");
        return None;
    };
    let map = ctx.mapping(root, "", "the gallery settings")?;
    ctx.unknown_keys(&map, "", GALLERY_FIELDS);

    let title = match map.value("title") {
        Some(node) => ctx.required_text(node, "title"),
        None => {
            ctx.error(Some(root), "title", "missing `title`", "add `title: <the gallery's name>`; recipients see it on the page");
            None
        }
    };

    // Description: inline or description.md, never both (which one would win is a guess).
    let description_file = dir.join(DESCRIPTION_FILE);
    let markdown_text = match (map.get("description"), description_file.is_file()) {
        (Some(entry), true) => {
            ctx.error(
                Some(entry.key_node),
                "description",
                format!("the description is written both here and in {DESCRIPTION_FILE}"),
                format!("keep one: remove `description:` or delete {DESCRIPTION_FILE}"),
            );
            None
        }
        (Some(entry), false) => {
            if is_null(entry.value) { None } else { ctx.text(entry.value, "description").map(|t| (t, ctx.path.clone(), Some(pos(entry.value)))) }
        }
        (None, true) => read_description(ctx, &description_file).map(|t| (t, description_file.clone(), None)),
        (None, false) => None,
    };
    let description_html = markdown_text.and_then(|(text, file, at)| {
        let rendered = markdown::render(&text);
        let warn = |ctx: &mut FileDiagnostics, message: String, fix: &str| {
            let mut d = crate::diagnostics::Diagnostic::warning(&file, message).fix(fix);
            if let Some((line, col)) = at {
                d = d.at(line, col).field("description");
            }
            ctx.diags.push(d);
        };
        if rendered.raw_html > 0 {
            warn(ctx, format!("{} piece(s) of raw HTML will be shown as text, not run", rendered.raw_html), "use Markdown (**bold**, [text](https://…)) instead of HTML tags");
        }
        for url in &rendered.unsafe_links {
            warn(ctx, format!("the link to `{url}` was removed; only http, https and mailto links are kept"), "link to a web page or an e-mail address");
        }
        if rendered.images > 0 {
            warn(ctx, "images in the description are shown as their alt text (an external image would reveal every visitor to its host)".into(), "add the image to the gallery instead");
        }
        let trimmed = rendered.html.trim();
        (!trimmed.is_empty()).then_some(rendered.html)
    });

    // Images: the listed ones, or every file of the folder.
    let files = folder_files(ctx, dir);
    let mut images = Vec::new();
    match map.get("images") {
        Some(entry) => {
            let listed = read_image_list(ctx, entry.value, dir, &files, &mut images);
            let unlisted: Vec<&str> = files.iter().filter(|f| !listed.contains(f.as_str())).map(String::as_str).collect();
            if !unlisted.is_empty() {
                ctx.warning(
                    Some(entry.key_node),
                    "images",
                    format!("{} file(s) in the folder are not listed and will not be published: {}", unlisted.len(), unlisted.join(", ")),
                    "add them under `images:` or move them out of the gallery folder",
                );
            }
            if images.len() > MAX_IMAGES {
                ctx.error(Some(entry.key_node), "images", format!("{} images listed; a gallery holds at most {MAX_IMAGES}", images.len()), "split the images into two galleries");
            }
        }
        None => {
            images = files.iter().map(|f| ListedImage { file: f.clone(), path: dir.join(f), caption: None, alt: None }).collect();
            if images.len() > MAX_IMAGES {
                ctx.error(
                    None,
                    "images",
                    format!("the folder holds {} image files; a gallery holds at most {MAX_IMAGES}", images.len()),
                    "move some images into a second gallery folder, or list the ones to publish under `images:`",
                );
            }
        }
    }
    if images.is_empty() && !ctx.diags.iter().any(|d| d.is_error() && d.field.as_deref().is_some_and(|f| f.starts_with("images"))) {
        ctx.error(map.get("images").map(|e| e.key_node), "images", "the gallery has no images", "add PNG, JPEG, GIF or WebP files to the gallery folder");
    }

    let cover = map.value("cover").and_then(|node| {
        let file = ctx.text(node, "cover")?.trim().to_string();
        if images.iter().any(|i| i.file == file) {
            return Some(file);
        }
        let names: Vec<&str> = images.iter().map(|i| i.file.as_str()).collect();
        let fix = match did_you_mean(&file, names.iter().copied()) {
            Some(best) => format!("did you mean `{best}`? The cover must be one of the gallery's images"),
            None => format!("write one of the gallery's images: {}", names.join(", ")),
        };
        ctx.error(Some(node), "cover", format!("`{file}` is not one of the gallery's images"), fix);
        None
    });

    let preview_image = map.value("preview_image").map(|node| read_preview_image(ctx, node)).unwrap_or(site.preview_image);
    let disabled = map.value("disabled").and_then(|n| ctx.bool(n, "disabled")).unwrap_or(false);
    // The gallery's list replaces the site's (after errors, the site's stands: the load fails
    // anyway, and the links are still checked).
    let notify = map.value("notify").and_then(|n| super::notify::read(ctx, n, "notify")).unwrap_or_else(|| site.notify.clone());

    let gallery_opens = map.value("opens_at").and_then(|node| Some((policy::read_opens_at(ctx, node, "opens_at", site)?, node)));
    let (links, audiences) = match map.get("links") {
        Some(entry) => read_links(ctx, entry.value, Where { gallery: id, scale: super::mark::Scale { images: images.len(), sizes: site.images.widths.len() }, dir, opens: gallery_opens }, site, now),
        None => {
            ctx.error(Some(root), "links", "missing `links`: a gallery without links cannot be opened by anyone", "add `links:` with one entry per audience, e.g.\n  links:\n    market:\n      max_views: 100");
            Default::default()
        }
    };

    let gallery = GalleryConfig {
        id: id.to_string(),
        dir: dir.to_path_buf(),
        yaml_path: ctx.path.clone(),
        title: title.unwrap_or_default(),
        description_html,
        cover,
        // Filled by the load once every listed image is probed.
        images: Vec::new(),
        disabled,
        links,
        audiences,
        notify,
        preview_image,
    };
    Some((gallery, images))
}

/// `preview_image: cover | none`: whether link previews in chat apps show a small copy of the
/// cover. Anything else is refused: a typo must not publish an image nobody chose.
pub(super) fn read_preview_image(ctx: &mut FileDiagnostics, node: &Node<'_>) -> PreviewImage {
    let fix = "write `preview_image: cover` (chat previews show a small, low-resolution copy of the cover) or `preview_image: none` (no image, the default)";
    match ctx.text(node, "preview_image").as_deref().map(str::trim) {
        Some("cover") => PreviewImage::Cover,
        Some("none") => PreviewImage::None,
        Some(other) => {
            ctx.error(Some(node), "preview_image", format!("`{other}` is not a preview image setting"), fix);
            PreviewImage::None
        }
        None => PreviewImage::None,
    }
}

fn read_description(ctx: &mut FileDiagnostics, path: &Path) -> Option<String> {
    let too_big = std::fs::metadata(path).map(|m| m.len() > MAX_DESCRIPTION_BYTES).unwrap_or(false);
    if too_big {
        ctx.diags.push(
            crate::diagnostics::Diagnostic::error(path, format!("the description is over {} KB", MAX_DESCRIPTION_BYTES / 1024)).fix("shorten it; a gallery description is a few paragraphs"),
        );
        return None;
    }
    match std::fs::read(path).map(String::from_utf8) {
        Ok(Ok(text)) => Some(text),
        Ok(Err(_)) => {
            ctx.diags.push(crate::diagnostics::Diagnostic::error(path, "the description is not UTF-8 text").fix("save the file as UTF-8"));
            None
        }
        Err(e) => {
            ctx.diags.push(crate::diagnostics::Diagnostic::error(path, format!("cannot read the file: {e}")).fix("check the file's permissions"));
            None
        }
    }
}

/// Reads `images:`; returns the set of listed file names (valid or not) for the unlisted check.
fn read_image_list(ctx: &mut FileDiagnostics, node: &Node<'_>, dir: &Path, files: &[String], out: &mut Vec<ListedImage>) -> HashSet<String> {
    let mut listed = HashSet::new();
    let YamlData::Sequence(items) = &node.data else {
        ctx.error(Some(node), "images", format!("expected a list of images, found {}", describe(node)), "write one `- file: name.jpg` line per image, or remove `images:` to publish every image in the folder");
        return listed;
    };
    for (i, item) in items.iter().enumerate() {
        let field = format!("images[{i}]");
        let (file_node, caption, alt) = match &item.data {
            YamlData::Mapping(_) => {
                let Some(m) = ctx.mapping(item, &field, "an image entry") else { continue };
                ctx.unknown_keys(&m, &field, IMAGE_ENTRY_FIELDS);
                let caption = m.value("caption").and_then(|n| if is_null(n) { None } else { ctx.text(n, &join(&field, "caption")) });
                let alt = m.value("alt").and_then(|n| if is_null(n) { None } else { ctx.text(n, &join(&field, "alt")) });
                let Some(file_node) = m.value("file") else {
                    ctx.error(Some(item), &join(&field, "file"), "missing `file`", "add `file: <name of the image in this folder>`");
                    continue;
                };
                (file_node, caption, alt)
            }
            // `- hero.jpg` is a handy short form when there is no caption.
            _ => (item, None, None),
        };
        let file_field = if matches!(item.data, YamlData::Mapping(_)) { join(&field, "file") } else { field.clone() };
        let Some(file) = ctx.text(file_node, &file_field) else { continue };
        let file = file.trim().to_string();
        if !is_plain_file_name(&file) {
            ctx.error(Some(file_node), &file_field, format!("`{file}` is not a file name in the gallery folder"), "write just the file name, e.g. `hero.jpg`: images must sit in the gallery's own folder");
            continue;
        }
        if !listed.insert(file.clone()) {
            ctx.error(Some(file_node), &file_field, format!("`{file}` is listed twice"), "remove the second entry");
            continue;
        }
        if !files.contains(&file) {
            let fix = match did_you_mean(&file, files.iter().map(String::as_str)) {
                Some(best) => format!("did you mean `{best}`? File names are case-sensitive"),
                None if dir.join(&file).exists() => "this name is not an image file; list only images".into(),
                None => format!("add `{file}` to {} or remove this entry", dir.display()),
            };
            ctx.error(Some(file_node), &file_field, format!("`{file}` does not exist in the gallery folder"), fix);
            continue;
        }
        out.push(ListedImage { path: dir.join(&file), file, caption: caption.map(|c| c.trim().to_string()).filter(|c| !c.is_empty()), alt: alt.map(|a| a.trim().to_string()).filter(|a| !a.is_empty()) });
    }
    listed
}

/// The gallery a `links:` mapping belongs to: its id, folder and `opens_at:` (with its node).
struct Where<'g, 'n, 'a> {
    gallery: &'g str,
    /// The gallery's images and display sizes, which a tiled stamp is multiplied by.
    scale: super::mark::Scale,
    dir: &'g Path,
    opens: Option<(ResolvedExpiry, &'n Node<'a>)>,
}

/// The `opens_at:` in force from a wider one and the link's own (the later wins: the most
/// restrictive), with the node it was written at; a link's own earlier moment is reported.
fn compose_opens<'n, 'a>(ctx: &mut FileDiagnostics, wider: Option<(ResolvedExpiry, &'n Node<'a>)>, own: Option<(ResolvedExpiry, &'n Node<'a>)>, field: &str) -> Option<(ResolvedExpiry, &'n Node<'a>)> {
    match (wider, own) {
        (Some(w), Some(o)) if o.0.at < w.0.at => {
            ctx.warning(Some(o.1), field, format!("opens at {} but the gallery opens later, at {}: the later moment wins", o.0.written, w.0.written), "remove this `opens_at:` or set it at or after the gallery's");
            Some(w)
        }
        (w, None) => w,
        (_, o) => o,
    }
}

/// An error where a link would open only after it expires: it would never open.
fn check_opens_before_expiry(ctx: &mut FileDiagnostics, opens: Option<&(ResolvedExpiry, &Node<'_>)>, expires: Option<&ResolvedExpiry>, field: &str, whose: &str, site: &SiteConfig) {
    let (Some((open, node)), Some(expires)) = (opens, expires) else { return };
    if open.at < expires.at {
        return;
    }
    ctx.error(
        Some(node),
        field,
        format!("{whose} opens at {} but expires at {} ({}): it would never open", open.written, expires.written, site.timezone),
        "set `opens_at:` earlier than `expires:`, or move `expires:` later",
    );
}

/// The gallery's links, an audience's recipients expanded into one link each, and the
/// audiences.
fn read_links(ctx: &mut FileDiagnostics, node: &Node<'_>, at: Where<'_, '_, '_>, site: &SiteConfig, now: i64) -> (Vec<LinkConfig>, BTreeMap<String, Audience>) {
    let (gallery, dir) = (at.gallery, at.dir);
    let mut links = Vec::new();
    let mut audiences = BTreeMap::new();
    let Some(map) = ctx.mapping(node, "links", "one entry per link") else { return (links, audiences) };
    if map.entries.is_empty() {
        ctx.error(Some(node), "links", "no links: nobody could open this gallery", "add at least one link, e.g. `market:` with its policy");
        return (links, audiences);
    }
    let defaults = &site.link_defaults;
    let date = super::mark::stamp_date(site, now);
    // Audience and link names share the `links:` mapping, so YAML's duplicate-key check
    // already keeps them apart; recipient links add `/` and cannot clash with either.
    for entry in &map.entries {
        let name = entry.key.clone();
        let prefix = join("links", &name);
        if !is_slug(&name) {
            ctx.error(
                Some(entry.key_node),
                &prefix,
                format!("link name `{name}` is not valid (it appears in the link's files and admin pages)"),
                format!("use lowercase letters, digits and dashes, e.g. `{}`; put the human name in `label:`", suggest_slug(&name)),
            );
        }
        let mut link = LinkConfig {
            name: name.clone(),
            label: name.clone(),
            max_views: defaults.max_views,
            expires: defaults.expires,
            download: defaults.download,
            view_seconds: defaults.view_seconds,
            devices: defaults.devices,
            disabled: false,
            rotate: 0,
            password: false,
            recipient: None, notify: None,
            opens_at: at.opens.map(|(o, _)| o),
            mark: None,
        };
        // The link's (or audience's) own `mark:` replaces the site's whole.
        let mut mark = site.mark.clone();
        let mut opens = at.opens;
        let mut expiry_node = None;
        let mut rows = None;
        if !is_null(entry.value) {
            let Some(m) = ctx.mapping(entry.value, &prefix, "the link's settings") else { continue };
            ctx.unknown_keys(&m, &prefix, LINK_FIELDS);
            let fields = policy::read(ctx, &m, &prefix, site);
            link.max_views = fields.max_views.or(defaults.max_views);
            link.expires = fields.expires.or(defaults.expires);
            link.download = fields.download.unwrap_or(defaults.download);
            link.view_seconds = fields.view_seconds.or(defaults.view_seconds);
            link.devices = fields.devices.or(defaults.devices);
            if matches!(fields.expires, Setting::Set(_)) {
                expiry_node = m.value("expires");
            }
            let own = m.value("opens_at").and_then(|n| Some((policy::read_opens_at(ctx, n, &join(&prefix, "opens_at"), site)?, n)));
            opens = compose_opens(ctx, at.opens, own, &join(&prefix, "opens_at"));
            link.opens_at = opens.map(|(o, _)| o);
            if let Some(n) = m.value("label")
                && let Some(label) = ctx.required_text(n, &join(&prefix, "label"))
            {
                link.label = label;
            }
            if let Some(n) = m.value("disabled")
                && let Some(b) = ctx.bool(n, &join(&prefix, "disabled"))
            {
                link.disabled = b;
            }
            if let Some(n) = m.value("rotate")
                && let Some(r) = ctx.int(n, &join(&prefix, "rotate"), 0, i64::from(u32::MAX), "write 0, then raise it by one each time the link's URL must change")
            {
                link.rotate = r as u32;
            }
            let target = if m.value("recipients").is_some() { format!("{gallery}/@{name}") } else { format!("{gallery}/{name}") };
            if let Some(n) = m.value("password") {
                link.password = policy::read_password(ctx, n, &join(&prefix, "password"), &target);
            }
            if let Some(n) = m.value("notify") {
                // On an audience it is every recipient's (copied below with the policy).
                link.notify = super::notify::read(ctx, n, &join(&prefix, "notify"));
            }
            if let Some(n) = m.value("mark") {
                mark = super::mark::read(ctx, n, &join(&prefix, "mark")).flatten();
            }
            if let Some(n) = m.value("recipients") {
                // `None` after errors: the audience is left out so nothing half-read is built.
                rows = Some(recipients::read(ctx, n, &prefix, dir, site));
            }
        }
        warn_if_expired(ctx, &link, expiry_node.unwrap_or(entry.key_node), &prefix, site, now);
        let first_of_entry = links.len();
        let opens_field = join(&prefix, "opens_at");
        match rows {
            None => {
                check_opens_before_expiry(ctx, opens.as_ref(), link.expires.as_ref(), &opens_field, &format!("link `{name}`"), site);
                links.push(link);
                super::mark::resolve(mark.as_ref(), &mut links[first_of_entry..], &date, &at.scale, &mut ctx.diags);
            }
            Some(None) => {}
            Some(Some(rows)) => {
                let first = links.len();
                for row in rows {
                    let expires = row.expires.or(link.expires);
                    if let (Setting::Set(_), Some(ResolvedExpiry { at, written })) = (&row.expires, &expires)
                        && *at <= now
                    {
                        ctx.diags.push(row.expired_warning(&written.to_string(), &site.timezone));
                    }
                    check_opens_before_expiry(ctx, opens.as_ref(), expires.as_ref(), &opens_field, &format!("recipient `{}` of `{name}`", row.name), site);
                    links.push(LinkConfig {
                        name: link_name(Some(&name), &row.name),
                        label: row.label,
                        max_views: row.max_views.or(link.max_views),
                        expires,
                        download: row.download.unwrap_or(link.download),
                        devices: row.devices.or(link.devices),
                        recipient: Some(Recipient { email: row.email, note: row.note }),
                        ..link.clone()
                    });
                }
                super::mark::resolve(mark.as_ref(), &mut links[first..], &date, &at.scale, &mut ctx.diags);
                let recipients: Vec<LinkPolicy> = links[first..].iter().map(|l| l.policy(false)).collect();
                let terms = audience_terms(&link.policy(false), &recipients);
                audiences.insert(name.clone(), Audience { label: link.label.clone(), recipients: recipients.len() as u32, terms });
            }
        }
    }
    (links, audiences)
}

fn warn_if_expired(ctx: &mut FileDiagnostics, link: &LinkConfig, node: &Node<'_>, prefix: &str, site: &SiteConfig, now: i64) {
    let Some(ResolvedExpiry { at, written }) = &link.expires else { return };
    if *at > now {
        return;
    }
    ctx.warning(
        Some(node),
        &join(prefix, "expires"),
        format!("link `{}` expired on {written} ({}); its visitors will see 'expired'", link.name, site.timezone),
        "set a later `expires:` to reopen it, or remove the link if it is no longer needed",
    );
}
