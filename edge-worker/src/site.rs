//! What this isolate serves, read from the private records in the static assets: the site's
//! settings once, and per request only the records it needs, each remembered in a small bounded
//! memo, so nothing read or kept per isolate grows with the archive: an open reads its token's
//! shard (whose entry is the link itself) and checks its gallery's record's format from the
//! record's first bytes; an image or a download also reads the gallery's images; the owners'
//! side reads a gallery's whole record. Also the signing key and the secrets check.
//!
//! The records hold every token, so they sit under the private prefix of the static assets;
//! the worker reads them through its `ASSETS` binding, never through a public URL. Assets
//! belong to the deployed version, as the isolate does: a record read once stays current for
//! the isolate's life. A record that is missing, unreadable or of another format is the
//! deployment's fault: the request fails (500, the reason in the log) rather than guessing.

use gatefold_contract::manifest::{
    self, GALLERY_INDEX_PATH, Gallery, GalleryIndex, GalleryMedia, GalleryRecord, HasFormat, Link, LinkEntry, MediaRecord, SITE_PATH, Site,
    SiteRecord, TokenShard,
};
use gatefold_contract::owner::ShownExpiry;
use gatefold_contract::token::{DEV_SECRET, MIN_SECRET_CHARS};
use gatefold_contract::{LinkPolicy, SigningKey};
use std::cell::{Cell, RefCell};
use std::rc::Rc;
use worker::Env;

/// Any host works for the assets binding; it only looks at the path.
pub const ASSETS_ORIGIN: &str = "https://assets.gatefold.internal";

/// Gallery records kept per isolate (whole ones for the owners' side, images for visitors): a
/// page's images and a burst of visitors of one launch hit a handful of galleries, and 64
/// records of 25 images are well under a megabyte.
const GALLERY_MEMO: usize = 64;
/// Galleries whose record an open found readable: an id each, so many more than records.
const CHECKED_MEMO: usize = 1024;
/// Token shards kept per isolate: a shard is small (about 16 tokens at 1,000 galleries), but
/// all 256 would grow with the archive.
const SHARD_MEMO: usize = 32;

/// What this isolate serves: the site's settings (`site.json`) and the signing key. Galleries
/// and tokens are read on demand ([`Deployment::link_by_token`], [`Deployment::gallery`]).
pub struct Deployment {
    pub settings: Site,
    pub key: SigningKey,
}

impl Deployment {
    /// The gallery and link a token opens, if it is a current token: the link's entry in its
    /// token shard, and of the gallery's record only its format, from its first bytes (an open
    /// shows the page rendered with the images, and never reads the other links). The gallery
    /// holds this link and its audience only, no images ([`LinkEntry::gallery`]). `Err` when
    /// the records are missing or unreadable (a broken deployment: the caller answers 500).
    pub async fn link_by_token(&self, env: &Env, token: &str) -> Result<Option<(Rc<Gallery>, Link)>, String> {
        let Some(entry) = link_entry(env, token).await? else { return Ok(None) };
        check_gallery(env, token, &entry.gallery).await?;
        Ok(Some((Rc::new(entry.gallery(String::new(), Vec::new())), entry.link)))
    }

    /// [`Deployment::link_by_token`] with the gallery's title and images, for a request of one
    /// of them (an image, a download): the gallery's record read without its links
    /// ([`MediaRecord`]).
    pub async fn link_with_images(&self, env: &Env, token: &str) -> Result<Option<(Rc<Gallery>, Link)>, String> {
        let Some(entry) = link_entry(env, token).await? else { return Ok(None) };
        let media = media(env, &entry.gallery).await?.ok_or_else(|| {
            format!(
                "{} names gallery {:?}, which has no record: rebuild and deploy the site",
                manifest::token_shard_path(manifest::token_shard(token)),
                entry.gallery
            )
        })?;
        Ok(Some((Rc::new(entry.gallery(media.title.clone(), media.images.clone())), entry.link)))
    }

    /// One gallery's whole record (every link, its channels), `None` when the site has no such
    /// gallery: for the owners' side (admin API, log, digest), never a visitor's request.
    pub async fn gallery(&self, env: &Env, id: &str) -> Result<Option<Rc<Gallery>>, String> {
        if let Some(g) = GALLERIES.with(|m| m.borrow_mut().get(id)) {
            return Ok(Some(g));
        }
        let path = manifest::gallery_record_path(id);
        let Some(record) = read::<GalleryRecord>(env, &path).await? else { return Ok(None) };
        if record.gallery.id != id {
            return Err(format!("{path} holds gallery {:?}: rebuild and deploy the site", record.gallery.id));
        }
        let gallery = Rc::new(record.gallery);
        GALLERIES.with(|m| m.borrow_mut().insert(id.to_string(), gallery.clone()));
        Ok(Some(gallery))
    }

    /// The admin API's list of galleries and links. Read per request, never kept: it grows
    /// with the archive and only owners ask for it.
    pub async fn index(&self, env: &Env) -> Result<GalleryIndex, String> {
        read(env, GALLERY_INDEX_PATH).await?.ok_or_else(|| missing(GALLERY_INDEX_PATH))
    }
}

/// `policy`'s expiry instant as pages, cards and share kits show it: written the way the owner
/// gave it when it is still the published one, else (a runtime change) as an instant.
pub fn shown_expiry(site: &Site, policy: &LinkPolicy, at: i64) -> ShownExpiry {
    let utc_offset = site.utc_offset_at(at);
    match &policy.expires {
        Some(published) if published.at == at => {
            ShownExpiry { at, utc_offset, end_of_day: matches!(published.written, gatefold_contract::Expiry::EndOfDay(_)) }
        }
        _ => ShownExpiry::at_instant(at, utc_offset),
    }
}

fn missing(path: &str) -> String {
    format!("{path} is missing from the assets: build the site with this version of gatefold (`gatefold build`) and deploy it")
}

/// `token`'s entry in its shard, `None` for a token no link has.
async fn link_entry(env: &Env, token: &str) -> Result<Option<LinkEntry>, String> {
    let shard = token_shard(env, manifest::token_shard(token)).await?;
    Ok(shard.tokens.get(token).cloned())
}

/// Checks once per isolate (a bounded memo) that `gallery`'s record is there and of this
/// worker's format, from its first bytes only ([`manifest::check_leading_format`]): the open
/// takes its link from the token's shard and shows the page rendered with the images, so a
/// 500-recipient gallery's open reads no more of its record than a 4-link gallery's.
async fn check_gallery(env: &Env, token: &str, gallery: &str) -> Result<(), String> {
    if MEDIA.with(|m| m.borrow_mut().get(gallery)).is_some() || CHECKED.with(|m| m.borrow_mut().get(gallery)).is_some() {
        return Ok(());
    }
    let path = manifest::gallery_record_path(gallery);
    let Some(prefix) = asset_prefix(env, &path, manifest::FORMAT_PREFIX_BYTES).await.map_err(|e| format!("reading {path}: {e}"))? else {
        let shard = manifest::token_shard_path(manifest::token_shard(token));
        return Err(format!("{shard} names gallery {gallery:?}, which has no record: rebuild and deploy the site"));
    };
    manifest::check_leading_format(&path, &prefix)?;
    CHECKED.with(|m| m.borrow_mut().insert(gallery.to_string(), Rc::new(())));
    Ok(())
}

/// The first `bytes` bytes (or all, if fewer) of a private asset as text, the rest of its body
/// left unread; `None` when the deployment has no such file.
async fn asset_prefix(env: &Env, path: &str, bytes: usize) -> worker::Result<Option<String>> {
    use futures_util::StreamExt;
    let mut resp = env.assets("ASSETS")?.fetch(format!("{ASSETS_ORIGIN}{path}"), None).await?;
    if resp.status_code() != 200 {
        return Ok(None);
    }
    let mut stream = resp.stream()?;
    let mut read = Vec::with_capacity(bytes);
    while read.len() < bytes {
        let Some(chunk) = stream.next().await else { break };
        read.extend_from_slice(&chunk?);
    }
    read.truncate(bytes);
    // A cut inside a multi-byte character only shortens the text: the format is ASCII and first.
    Ok(Some(String::from_utf8_lossy(&read).into_owned()))
}

/// A gallery's title and images (its record without the links), kept in a bounded memo.
async fn media(env: &Env, id: &str) -> Result<Option<Rc<GalleryMedia>>, String> {
    if let Some(g) = MEDIA.with(|m| m.borrow_mut().get(id)) {
        return Ok(Some(g));
    }
    let path = manifest::gallery_record_path(id);
    let Some(record) = read::<MediaRecord>(env, &path).await? else { return Ok(None) };
    if record.gallery.id != id {
        return Err(format!("{path} holds gallery {:?}: rebuild and deploy the site", record.gallery.id));
    }
    let media = Rc::new(record.gallery);
    MEDIA.with(|m| m.borrow_mut().insert(id.to_string(), media.clone()));
    Ok(Some(media))
}

async fn token_shard(env: &Env, shard: u8) -> Result<Rc<TokenShard>, String> {
    if let Some(s) = SHARDS.with(|m| m.borrow_mut().get(&shard)) {
        return Ok(s);
    }
    // Every build writes all shards, empty ones too: a missing one is a broken deployment.
    let path = manifest::token_shard_path(shard);
    let record = Rc::new(read::<TokenShard>(env, &path).await?.ok_or_else(|| missing(&path))?);
    SHARDS.with(|m| m.borrow_mut().insert(shard, record.clone()));
    Ok(record)
}

/// Text of a private asset, `None` when the deployment has no such file.
pub async fn asset_text(env: &Env, path: &str) -> worker::Result<Option<String>> {
    let mut resp = env.assets("ASSETS")?.fetch(format!("{ASSETS_ORIGIN}{path}"), None).await?;
    if resp.status_code() != 200 {
        return Ok(None);
    }
    Ok(Some(resp.text().await?))
}

/// One record, its format checked; `None` when the file does not exist.
async fn read<T: serde::de::DeserializeOwned + HasFormat>(env: &Env, path: &str) -> Result<Option<T>, String> {
    let Some(text) = asset_text(env, path).await.map_err(|e| format!("reading {path}: {e}"))? else { return Ok(None) };
    manifest::read_record(path, &text).map(Some)
}

/// The last `capacity` entries used, most recent last. A linear scan over a few dozen entries
/// costs less than hashing, and the WASM carries no map crate for it (Workers bill startup by
/// script size).
pub struct Recent<K, V> {
    capacity: usize,
    entries: Vec<(K, Rc<V>)>,
}

impl<K: PartialEq, V> Recent<K, V> {
    pub const fn new(capacity: usize) -> Recent<K, V> {
        Recent { capacity, entries: Vec::new() }
    }

    pub fn get<Q: PartialEq<K> + ?Sized>(&mut self, key: &Q) -> Option<Rc<V>> {
        let at = self.entries.iter().position(|(k, _)| key == k)?;
        let entry = self.entries.remove(at);
        let value = entry.1.clone();
        self.entries.push(entry);
        Some(value)
    }

    pub fn insert(&mut self, key: K, value: Rc<V>) {
        self.entries.retain(|(k, _)| *k != key);
        if self.entries.len() >= self.capacity {
            self.entries.remove(0);
        }
        self.entries.push((key, value));
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

/// The variable that marks a local development run (`scripts/dev.sh` writes it to `.dev.vars`;
/// the end-to-end harness sets it where a test needs it). It is configuration, never part of a
/// request, so no visitor can switch the key checks off; production's wrangler.toml never sets it.
pub const DEV_VAR: &str = "GATEFOLD_DEV";

/// Why the deployment's secrets are unfit to serve with, if they are: `SIGNING_KEY` (and
/// `ADMIN_TOKEN` when set) at least [`MIN_SECRET_CHARS`] long and not the development key,
/// unless `dev` (a local run). A missing `ADMIN_TOKEN` only turns the admin API off.
pub fn secrets_problem(signing_key: Option<&str>, admin_token: Option<&str>, dev: bool) -> Option<String> {
    let Some(signing_key) = signing_key else {
        return Some("secret SIGNING_KEY is not set (put it in .dev.vars locally, or `wrangler secret put SIGNING_KEY`)".to_string());
    };
    if dev {
        return None;
    }
    [("SIGNING_KEY", Some(signing_key)), ("ADMIN_TOKEN", admin_token)].into_iter().find_map(|(name, value)| {
        let value = value?;
        if value == DEV_SECRET {
            Some(format!("secret {name} is the development key: set a long random one with `wrangler secret put {name}`"))
        } else {
            secret_too_short(name, value)
        }
    })
}

/// Why the secret `name` is too short to use, if it is: the one length rule for every secret
/// (the admin sign-in applies it to `ADMIN_TOKEN` in every run, a local one too).
pub fn secret_too_short(name: &str, value: &str) -> Option<String> {
    (value.chars().count() < MIN_SECRET_CHARS)
        .then(|| format!("secret {name} is shorter than {MIN_SECRET_CHARS} characters: set a long random one with `wrangler secret put {name}`"))
}

/// [`secrets_problem`] for this deployment's environment. Secrets cannot change under a
/// running isolate (setting one deploys a new version), so a pass is remembered.
pub fn check_secrets(env: &Env) -> Result<(), String> {
    if SECRETS_OK.with(Cell::get) {
        return Ok(());
    }
    let secret = |name: &str| env.secret(name).ok().map(|s| s.to_string());
    if let Some(problem) = secrets_problem(secret("SIGNING_KEY").as_deref(), secret("ADMIN_TOKEN").as_deref(), is_dev(env)) {
        return Err(problem);
    }
    SECRETS_OK.with(|ok| ok.set(true));
    Ok(())
}

/// Why this worker must not serve the site it was deployed with, if so: the site was signed
/// with the public development key (outside a local run, `dev`), or with another key than the
/// worker's own `SIGNING_KEY` (its links then open under a key the worker does not hold), or by
/// a gatefold that recorded no key at all. `site_fingerprint` is `site.json`'s.
pub fn key_problem(site_fingerprint: &str, own: &SigningKey, dev: bool) -> Option<String> {
    let rebuild = "build the site with the SIGNING_KEY this worker has (`SIGNING_KEY=… gatefold build`, as `gatefold publish` does) and deploy it";
    if site_fingerprint.is_empty() {
        return Some(format!("{SITE_PATH} names no signing key: it was built by an older gatefold; {rebuild}"));
    }
    if site_fingerprint == SigningKey::dev().fingerprint() && !dev {
        return Some(format!(
            "the site was built with the public development key (no SIGNING_KEY at build time), so anyone can compute its links; {rebuild}"
        ));
    }
    (site_fingerprint != own.fingerprint()).then(|| {
        format!("the site was built with another signing key (fingerprint {site_fingerprint}) than this worker's SIGNING_KEY (fingerprint {}); {rebuild}", own.fingerprint())
    })
}

/// [`key_problem`] for this deployment. A pass is remembered: the assets and the secrets are
/// the deployed version's, as the isolate is.
pub async fn check_key(env: &Env) -> Result<(), String> {
    if KEY_OK.with(Cell::get) {
        return Ok(());
    }
    let site = load(env).await?;
    if let Some(problem) = key_problem(&site.settings.key_fingerprint, &site.key, is_dev(env)) {
        return Err(problem);
    }
    KEY_OK.with(|ok| ok.set(true));
    Ok(())
}

fn is_dev(env: &Env) -> bool {
    env.var(DEV_VAR).is_ok_and(|v| v.to_string() == "1")
}

thread_local! {
    // Workers isolates are single-threaded: a thread-local is the isolate-wide cache.
    static SITE: RefCell<Option<Rc<Deployment>>> = const { RefCell::new(None) };
    static SECRETS_OK: Cell<bool> = const { Cell::new(false) };
    static KEY_OK: Cell<bool> = const { Cell::new(false) };
    static GALLERIES: RefCell<Recent<String, Gallery>> = const { RefCell::new(Recent::new(GALLERY_MEMO)) };
    static MEDIA: RefCell<Recent<String, GalleryMedia>> = const { RefCell::new(Recent::new(GALLERY_MEMO)) };
    static CHECKED: RefCell<Recent<String, ()>> = const { RefCell::new(Recent::new(CHECKED_MEMO)) };
    static SHARDS: RefCell<Recent<u8, TokenShard>> = const { RefCell::new(Recent::new(SHARD_MEMO)) };
}

/// The cached site, loading `site.json` on first use. An error names what is wrong for the
/// log; the caller answers 500 without details.
pub async fn load(env: &Env) -> Result<Rc<Deployment>, String> {
    if let Some(site) = SITE.with(|s| s.borrow().clone()) {
        return Ok(site);
    }
    // `check_secrets` ran before any route: the key is present and fit to use.
    let secret = env.secret("SIGNING_KEY").map_err(|e| format!("SIGNING_KEY: {e}"))?.to_string();
    let record = read::<SiteRecord>(env, SITE_PATH).await?.ok_or_else(|| missing(SITE_PATH))?;
    let site = Rc::new(Deployment { settings: record.site, key: SigningKey::from_secret(&secret) });
    SITE.with(|s| *s.borrow_mut() = Some(site.clone()));
    Ok(site)
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = "a-long-random-production-secret-0123456789";

    #[test]
    fn the_worker_refuses_weak_or_development_secrets_outside_local_dev() {
        let short = "x".repeat(MIN_SECRET_CHARS - 1);
        let short = short.as_str();
        let table = [
            ("long random secrets", Some(GOOD), Some(GOOD), false, true),
            ("no admin token: admin off, site fine", Some(GOOD), None, false, true),
            ("no signing key", None, Some(GOOD), false, false),
            ("no signing key, even in dev", None, None, true, false),
            ("short signing key", Some(short), Some(GOOD), false, false),
            ("short admin token", Some(GOOD), Some(short), false, false),
            ("development signing key", Some(DEV_SECRET), Some(GOOD), false, false),
            ("development key as admin token", Some(GOOD), Some(DEV_SECRET), false, false),
            ("development key in local dev", Some(DEV_SECRET), Some("dev"), true, true),
        ];
        for (name, key, admin, dev, fine) in table {
            let problem = secrets_problem(key, admin, dev);
            assert_eq!(problem.is_none(), fine, "{name}: {problem:?}");
        }
        let message = secrets_problem(Some(GOOD), Some(short), false).unwrap();
        assert!(message.contains("ADMIN_TOKEN") && message.contains("wrangler secret put ADMIN_TOKEN"), "{message}");
    }

    #[test]
    fn the_worker_serves_only_a_site_signed_with_its_own_key_and_a_development_site_only_locally() {
        let own = SigningKey::from_secret(GOOD);
        let dev = SigningKey::dev();
        let other = SigningKey::from_secret("another-long-random-production-secret-987");
        let table = [
            ("signed with the worker's key", own.fingerprint(), &own, false, true),
            ("signed with the worker's key, local run", own.fingerprint(), &own, true, true),
            ("signed with another key", other.fingerprint(), &own, false, false),
            ("signed with another key, even locally", other.fingerprint(), &own, true, false),
            ("development-key site, production worker", dev.fingerprint(), &own, false, false),
            ("development-key site, worker also on the development key, not local", dev.fingerprint(), &dev, false, false),
            ("development-key site in a local run on the development key", dev.fingerprint(), &dev, true, true),
            ("development-key site in a local run on another key", dev.fingerprint(), &own, true, false),
            ("a site.json from before fingerprints", String::new(), &own, false, false),
            ("a site.json from before fingerprints, locally", String::new(), &dev, true, false),
        ];
        for (name, site, worker, local, fine) in table {
            let problem = key_problem(&site, worker, local);
            assert_eq!(problem.is_none(), fine, "{name}: {problem:?}");
        }
        let told = key_problem(&dev.fingerprint(), &own, false).unwrap();
        assert!(told.contains("development key") && told.contains("SIGNING_KEY"), "{told}");
        assert!(!told.contains(GOOD), "the log never names the secret: {told}");
    }

    #[test]
    fn the_memo_keeps_the_most_recently_used_up_to_its_capacity() {
        let mut m: Recent<String, u32> = Recent::new(3);
        for (k, v) in [("a", 1), ("b", 2), ("c", 3)] {
            m.insert(k.to_string(), Rc::new(v));
        }
        assert_eq!(m.get("a").as_deref(), Some(&1), "a is now the most recent");
        m.insert("d".to_string(), Rc::new(4));
        assert_eq!(m.len(), 3);
        assert_eq!(m.get("b"), None, "the least recently used went");
        assert_eq!(m.get("a").as_deref(), Some(&1));
        m.insert("a".to_string(), Rc::new(10));
        assert_eq!((m.len(), m.get("a").as_deref()), (3, Some(&10)), "a key is held once, with its newest value");
        for i in 0..100 {
            m.insert(format!("k{i}"), Rc::new(i));
        }
        assert_eq!(m.len(), 3, "bounded whatever was read");
    }
}
