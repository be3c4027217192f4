//! The owner's input: `galleries/site.yaml` and one folder per gallery with `gallery.yaml`,
//! images and an optional `description.md`, checked all at once.
//!
//! [`load`] reports every problem of a run together (errors and warnings, each naming file,
//! line, field and fix) and returns nothing half-loaded: either the whole [`Project`] or the
//! full list of problems. The format is documented in `galleries/README.md`.

mod gallery;
mod mark;
mod markdown;
mod notify;
mod policy;
mod recipients;
mod site;
mod yaml;

use std::path::{Path, PathBuf};

use std::collections::BTreeMap;
use std::sync::Arc;

use gatefold_contract::manifest::{Audience, Recipient};
use gatefold_contract::policy::Downloads;
use gatefold_contract::{LinkPolicy, Locale, ResolvedExpiry, manifest::Analytics, manifest::IpLogging};
use rayon::prelude::*;

use crate::diagnostics::{Diagnostic, Diagnostics};
use crate::images::{self, ImageProblem, ImageSettings, Limits, Probe};


pub use policy::EXPIRY_FIX;
pub use mark::{LinkMarkConfig, MarkConfig, StampPosition, VisibleConfig};
pub use site::utc_offsets;
pub use markdown::{Rendered, render as render_markdown};
pub use site::normalize_base_url;

/// At most this many images per gallery: a gallery is a curated set, not an archive.
pub const MAX_IMAGES: usize = 25;

#[derive(Debug, Clone)]
pub struct Project {
    /// The galleries directory.
    pub dir: PathBuf,
    pub site: SiteConfig,
    /// Sorted by id.
    pub galleries: Vec<GalleryConfig>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct SiteConfig {
    /// `scheme://host[:port]`, without a trailing slash.
    pub base_url: String,
    pub title: String,
    pub default_locale: Locale,
    pub timezone: chrono_tz::Tz,
    /// The timezone's offset table ([`utc_offsets`]); expiries are resolved with it.
    pub utc_offsets: Vec<(i64, i32)>,
    pub theme: String,
    pub images: ImageSettings,
    pub link_defaults: LinkDefaults,
    pub ip_logging: IpLogging,
    pub analytics: Analytics,
    /// The Workers plan the site deploys to (`plan:`): how many files a deployment may hold.
    pub plan: WorkersPlan,
    /// Every gallery's channels unless its gallery.yaml declares its own (`notify:`).
    pub notify: Vec<gatefold_contract::notify::Channel>,
    /// `notify_digest_at:`: the hour (site timezone) of the daily digests.
    pub digest_hour: u8,
    /// `preview_image:`: every gallery's unless its gallery.yaml says otherwise.
    pub preview_image: PreviewImage,
    /// `mark:`: every link's unless it or its audience declares its own.
    pub mark: Option<MarkConfig>,
}

/// The Cloudflare Workers plan of the account the site deploys to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum WorkersPlan {
    #[default]
    Free,
    Paid,
}

impl WorkersPlan {
    /// Static-asset files one Worker version may have (Cloudflare's Static Assets limits):
    /// `wrangler deploy` refuses a version with more.
    pub fn asset_file_limit(self) -> usize {
        match self {
            WorkersPlan::Free => 20_000,
            WorkersPlan::Paid => 100_000,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            WorkersPlan::Free => "free",
            WorkersPlan::Paid => "paid",
        }
    }
}

/// What every link inherits for the fields it leaves out.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct LinkDefaults {
    pub max_views: Option<u32>,
    pub expires: Option<ResolvedExpiry>,
    pub download: Downloads,
    pub view_seconds: Option<u32>,
    pub devices: Option<u8>,
}

#[derive(Debug, Clone)]
pub struct GalleryConfig {
    /// The folder name.
    pub id: String,
    pub dir: PathBuf,
    pub yaml_path: PathBuf,
    pub title: String,
    /// Rendered Markdown; raw HTML escaped, unsafe links and images removed.
    pub description_html: Option<String>,
    /// File name of the cover image, when set in YAML (otherwise the first image).
    pub cover: Option<String>,
    pub images: Vec<ImageConfig>,
    /// Disables every link of the gallery.
    pub disabled: bool,
    /// In YAML order; an audience's recipients (named `<audience>/<recipient>`) in list order
    /// where the audience stands.
    pub links: Vec<LinkConfig>,
    /// Audiences (`recipients:`) by name.
    pub audiences: BTreeMap<String, Audience>,
    /// The gallery's channels: its own `notify:`, else the site's.
    pub notify: Vec<gatefold_contract::notify::Channel>,
    /// What a chat app's link preview shows besides the words (`preview_image:`).
    pub preview_image: PreviewImage,
}

/// `preview_image:` of a gallery: no image in link previews (the default), or a small
/// low-resolution copy of the cover made for previews only.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum PreviewImage {
    #[default]
    None,
    Cover,
}

#[derive(Debug, Clone)]
pub struct ImageConfig {
    pub file: String,
    pub path: PathBuf,
    /// Stable slug of the file stem, unique within the gallery.
    pub id: String,
    pub caption: Option<String>,
    /// The written alt text, else the caption, else the gallery title.
    pub alt: String,
    pub probe: Probe,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LinkConfig {
    /// `<link>`, or `<audience>/<recipient>` for a recipient's link.
    pub name: String,
    pub label: String,
    pub max_views: Option<u32>,
    pub expires: Option<ResolvedExpiry>,
    pub download: Downloads,
    pub view_seconds: Option<u32>,
    /// `devices: N`: the devices of its recipient it opens on.
    pub devices: Option<u8>,
    pub disabled: bool,
    /// Bumped by the owner to issue a new URL; the old one stops working.
    pub rotate: u32,
    /// `password: required`.
    pub password: bool,
    /// The recipient list's details (recipient links only).
    pub recipient: Option<Recipient>,
    /// The link's (or its audience's) own `notify:`; `None`: the gallery's.
    pub notify: Option<Vec<gatefold_contract::notify::Channel>>,
    /// `opens_at:` in force: the latest of the link's own, its audience's and its gallery's.
    pub opens_at: Option<ResolvedExpiry>,
    /// `mark:` in force (the link's own, its audience's or the site's), its stamp's text filled.
    pub mark: Option<LinkMarkConfig>,
}

impl LinkConfig {
    pub fn policy(&self, gallery_disabled: bool) -> LinkPolicy {
        LinkPolicy {
            max_views: self.max_views,
            expires: self.expires,
            download: self.download,
            view_seconds: self.view_seconds,
            disabled: self.disabled || gallery_disabled,
            password: self.password,
            terms_fingerprint: None,
            opens_at: self.opens_at,
            devices: self.devices,
        }
    }
}

#[derive(Debug, Clone)]
pub struct LoadOptions {
    /// The themes folder `theme:` must name a folder of (`--themes`); `None` leaves the name
    /// unchecked.
    pub themes: Option<PathBuf>,
    /// Fully decode every image (`gatefold check`); false checks headers only.
    pub verify_images: bool,
    /// Unix seconds, for "already expired" warnings.
    pub now: i64,
    /// The image cache's source index: an image whose stamp it knows is not probed again
    /// (never with `verify_images`).
    pub known: Option<Arc<images::Sources>>,
}

impl GalleryConfig {
    /// The cover image: the configured one, else the first.
    pub fn cover_image(&self) -> Option<&ImageConfig> {
        self.cover.as_ref().and_then(|c| self.images.iter().find(|i| &i.file == c)).or(self.images.first())
    }
}

/// `[a-z0-9][a-z0-9-]{0,62}`: safe in URLs, file names and Durable Object names.
pub fn is_slug(s: &str) -> bool {
    let b = s.as_bytes();
    !b.is_empty()
        && b.len() <= 63
        && (b[0].is_ascii_lowercase() || b[0].is_ascii_digit())
        && b.iter().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == b'-')
}

/// Whether `file` names a file directly inside the gallery folder (no paths, no tricks): an
/// image of the list, a recipients CSV.
fn is_plain_file_name(file: &str) -> bool {
    !file.is_empty() && !file.starts_with('.') && !file.contains(['/', '\\', '\0']) && Path::new(file).components().count() == 1
}

/// Lowercase ASCII letters and digits with single dashes between words; may be empty.
fn slugify(s: &str) -> String {
    let mut out = String::new();
    for c in s.chars().flat_map(char::to_lowercase) {
        if c.is_ascii_alphanumeric() {
            out.push(c);
        } else if !out.ends_with('-') && !out.is_empty() {
            out.push('-');
        }
    }
    let mut out = out.trim_end_matches('-').to_string();
    out.truncate(63);
    out.trim_end_matches('-').to_string()
}

/// A valid slug to propose in a fix.
pub fn suggest_slug(s: &str) -> String {
    let slug = slugify(s);
    if slug.is_empty() { "gallery-1".into() } else { slug }
}

/// Stable, unique ids for a gallery's images, derived from their file stems. Ids are assigned
/// in file-name order so that reordering the YAML list never changes an image's id.
fn image_ids(files: &[&str]) -> Vec<String> {
    let mut order: Vec<usize> = (0..files.len()).collect();
    order.sort_by_key(|&i| files[i]);
    let mut ids = vec![String::new(); files.len()];
    let mut taken = std::collections::HashSet::new();
    for i in order {
        let stem = Path::new(files[i]).file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default();
        let mut base = slugify(&stem);
        base.truncate(50);
        if base.is_empty() {
            // Names without Latin letters (e.g. 发布会.jpg) still need a stable ASCII id.
            base = format!("image-{}", &blake3::hash(stem.as_bytes()).to_hex()[..8]);
        }
        let mut id = base.clone();
        let mut n = 2;
        while !taken.insert(id.clone()) {
            id = format!("{base}-{n}");
            n += 1;
        }
        ids[i] = id;
    }
    ids
}

fn check_image(path: &Path, limits: &Limits, verify: bool, known: Option<&images::Sources>) -> Result<Probe, ImageProblem> {
    match known {
        _ if verify => images::verify(path, limits),
        Some(known) => known.probe(path, limits),
        None => images::probe(path, limits),
    }
}

fn read_yaml_file<T>(path: &Path, diags: &mut Diagnostics, read: impl FnOnce(&mut yaml::FileDiagnostics, Option<&yaml::Node<'_>>) -> T) -> Option<T> {
    let text = match yaml::read_text(path) {
        Ok(t) => t,
        Err(d) => {
            diags.push(d);
            return None;
        }
    };
    let mut ctx = yaml::FileDiagnostics::new(path);
    let result = match yaml::parse(path, &text) {
        Ok(root) => Some(read(&mut ctx, root.as_ref())),
        Err(d) => {
            ctx.diags.push(d);
            None
        }
    };
    diags.0.extend(ctx.diags);
    result
}

/// Loads and checks the whole galleries directory.
///
/// Ok: the project and its warnings. Err: every problem found (errors and warnings), sorted
/// by file and position.
pub fn load(galleries_dir: &Path, options: &LoadOptions) -> Result<(Project, Diagnostics), Diagnostics> {
    let mut diags = Diagnostics::default();
    if !galleries_dir.is_dir() {
        diags.push(Diagnostic::error(galleries_dir, "the galleries folder does not exist").fix("run gatefold in the repository root, or pass the galleries folder with --galleries"));
        return Err(diags);
    }
    let site_path = galleries_dir.join("site.yaml");
    let themes_dir = options.themes.as_deref();
    let site = if site_path.is_file() {
        read_yaml_file(&site_path, &mut diags, |ctx, root| site::read(ctx, root, themes_dir))
    } else {
        diags.push(Diagnostic::error(&site_path, "site.yaml is missing").fix("create it with at least `title:` and `base_url:` (see galleries/README.md)"));
        None
    };
    // Galleries are still checked against defaults when site.yaml is broken, so one run
    // shows every problem.
    let site_ok = site.is_some();
    let site = site.unwrap_or_else(|| {
        let mut ctx = yaml::FileDiagnostics::new(&site_path);
        site::read(&mut ctx, None, None)
    });

    let mut folders: Vec<PathBuf> = match std::fs::read_dir(galleries_dir) {
        Ok(rd) => rd.flatten().map(|e| e.path()).filter(|p| p.is_dir()).collect(),
        Err(e) => {
            diags.push(Diagnostic::error(galleries_dir, format!("cannot list the folder: {e}")).fix("check the folder's permissions"));
            return Err(diags);
        }
    };
    folders.sort();
    // Galleries as read, each with the images it lists (probed below).
    let mut listed = Vec::new();
    for dir in folders {
        let name = dir.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        if name.starts_with('.') {
            continue;
        }
        let yaml_path = dir.join("gallery.yaml");
        if !yaml_path.is_file() {
            if dir.join("gallery.yml").is_file() {
                diags.push(Diagnostic::error(dir.join("gallery.yml"), "gallery files are named gallery.yaml").fix("rename gallery.yml to gallery.yaml"));
            } else {
                diags.push(
                    Diagnostic::warning(&dir, format!("folder `{name}` has no gallery.yaml, so it is not published"))
                        .fix(format!("add {name}/gallery.yaml with a title and links, or move the folder out of {}", galleries_dir.display())),
                );
            }
            continue;
        }
        if let Some(Some(g)) = read_yaml_file(&yaml_path, &mut diags, |ctx, root| gallery::read(ctx, &name, &dir, root, &site, options.now)) {
            listed.push(g);
        }
    }
    if site_ok && listed.is_empty() && !diags.has_errors() {
        diags.push(Diagnostic::warning(galleries_dir, "there are no galleries yet").fix("add a folder with images and a gallery.yaml (see galleries/README.md)"));
    }

    // Images are the slow part: check them all in parallel.
    let limits = site.images.limits();
    let jobs: Vec<&Path> = listed.iter().flat_map(|(_, images)| images.iter().map(|i| i.path.as_path())).collect();
    let known = options.known.as_deref().filter(|_| !options.verify_images);
    let mut probes = jobs.par_iter().map(|p| check_image(p, &limits, options.verify_images, known)).collect::<Vec<_>>().into_iter();

    let mut galleries = Vec::with_capacity(listed.len());
    for (mut g, listed_images) in listed {
        let files: Vec<&str> = listed_images.iter().map(|i| i.file.as_str()).collect();
        let ids = image_ids(&files);
        for (img, id) in listed_images.into_iter().zip(ids) {
            match probes.next().expect("one probe per image") {
                Ok(probe) => {
                    let alt = img.alt.clone().or_else(|| img.caption.clone()).unwrap_or_else(|| g.title.clone());
                    g.images.push(ImageConfig { file: img.file, path: img.path, id, caption: img.caption, alt, probe });
                }
                Err(problem) => diags.push(Diagnostic::error(&img.path, problem.message).fix(problem.fix)),
            }
        }
        galleries.push(g);
    }

    let diags = diags.sorted();
    if diags.has_errors() || !site_ok {
        return Err(diags);
    }
    Ok((Project { dir: galleries_dir.to_path_buf(), site, galleries }, diags))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slugs_follow_the_id_rule() {
        for ok in ["market", "dealer-shanghai", "x1", "0", &"a".repeat(63)] {
            assert!(is_slug(ok), "{ok}");
        }
        for bad in ["", "Market", "-x", "a_b", "a b", "市场", &"a".repeat(64), "../x"] {
            assert!(!is_slug(bad), "{bad}");
        }
        assert_eq!(suggest_slug("Dealer Shanghai"), "dealer-shanghai");
        assert_eq!(suggest_slug("市场"), "gallery-1");
    }

    #[test]
    fn image_ids_are_unique_and_do_not_depend_on_list_order() {
        assert_eq!(image_ids(&["Hero Shot.JPG", "hero-shot.png", "a.gif"]), vec!["hero-shot", "hero-shot-2", "a"]);
        assert_eq!(image_ids(&["hero-shot.png", "a.gif", "Hero Shot.JPG"]), vec!["hero-shot-2", "a", "hero-shot"]);
        let chinese = image_ids(&["发布会.jpg"]);
        assert!(chinese[0].starts_with("image-") && is_slug(&chinese[0]), "{chinese:?}");
        assert_eq!(chinese, image_ids(&["发布会.jpg"]));
    }

    /// The nearer `notify:` replaces the wider one: site → gallery → link or audience.
    #[test]
    fn notify_lists_are_inherited_and_replaced() {
        use gatefold_contract::notify::{NotifyKind, Platform};
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        let image = Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/fixtures/sites/e2e/dealer/front.jpg");
        std::fs::write(
            root.join("site.yaml"),
            "title: T\nbase_url: https://x.example\nnotify_digest_at: \"18:00\"\nnotify:\n  - {to: slack, url_secret: SITE_SLACK, on: [digest]}\n",
        )
        .unwrap();
        for (id, yaml) in [
            ("inherits", "title: I\nlinks:\n  a:\n"),
            (
                "own",
                "title: O\nnotify:\n  - {to: wecom, url_secret: OWN_WECOM, on: [download]}\nlinks:\n  quiet:\n    notify: []\n  loud:\n    notify:\n      - {to: webhook, url_secret: HOOK, sign_secret: HOOK_KEY, on: [open]}\n  plain:\n  crew:\n    notify: []\n    recipients:\n      - {name: ann, label: Ann}\n",
            ),
            ("off", "title: X\nnotify: []\nlinks:\n  a:\n"),
        ] {
            std::fs::create_dir(root.join(id)).unwrap();
            std::fs::copy(&image, root.join(id).join("front.jpg")).unwrap();
            std::fs::write(root.join(id).join("gallery.yaml"), yaml).unwrap();
        }
        let (project, _) = load(root, &LoadOptions { themes: None, verify_images: false, now: 0, known: None }).unwrap_or_else(|d| panic!("{d}"));
        assert_eq!(project.site.digest_hour, 18);
        let g = |id: &str| project.galleries.iter().find(|g| g.id == id).unwrap();
        let link = |gallery: &str, name: &str| g(gallery).links.iter().find(|l| l.name == name).unwrap().notify.clone();
        assert_eq!(g("inherits").notify, project.site.notify);
        assert_eq!(g("inherits").notify[0].to, Platform::Slack);
        assert_eq!(link("inherits", "a"), None, "a link without its own list follows its gallery's");
        assert_eq!(g("own").notify[0].url_secret, "OWN_WECOM");
        assert_eq!(link("own", "quiet"), Some(vec![]));
        assert_eq!(link("own", "loud").unwrap()[0].on, vec![NotifyKind::Open]);
        assert_eq!(link("own", "plain"), None);
        assert_eq!(link("own", "crew/ann"), Some(vec![]), "an audience's list is each recipient's");
        assert!(g("off").notify.is_empty());
    }

    #[test]
    fn a_gallery_switch_disables_every_link() {
        let link = LinkConfig {
            name: "market".into(),
            label: "Marketing".into(),
            max_views: Some(5),
            expires: Some(ResolvedExpiry::at_instant(100)),
            download: Downloads::ORIGINAL,
            view_seconds: Some(60),
            devices: Some(2),
            disabled: false,
            rotate: 0,
            password: false,
            recipient: None,
            notify: None,
            opens_at: None,
            mark: None,
        };
        assert_eq!(
            link.policy(true),
            LinkPolicy { max_views: Some(5), expires: Some(ResolvedExpiry::at_instant(100)), download: Downloads::ORIGINAL, view_seconds: Some(60), disabled: true, password: false, terms_fingerprint: None, opens_at: None, devices: Some(2) }
        );
        assert!(!link.policy(false).disabled);
    }
}
