//! The manifest and signing key, loaded once per isolate.
//!
//! The manifest holds every token, so it sits under the private prefix of the static assets;
//! the worker reads it through its `ASSETS` binding, never through a public URL.

use gatefold_contract::manifest::{MANIFEST_PATH, Manifest};
use gatefold_contract::token::{DEV_SECRET, MIN_SECRET_CHARS};
use gatefold_contract::SigningKey;
use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::rc::Rc;
use worker::Env;

/// Any host works for the assets binding; it only looks at the path.
pub const ASSETS_ORIGIN: &str = "https://assets.gatefold.internal";

/// What this isolate serves: the published manifest, its token index and the signing key
/// (`manifest::Site` is the site's settings inside the manifest).
pub struct Deployment {
    pub manifest: Manifest,
    /// Token → (gallery id, link name).
    pub tokens: HashMap<String, (String, String)>,
    pub key: SigningKey,
}

impl Deployment {
    /// The gallery and link a token opens, if it is a current token.
    pub fn by_token(&self, token: &str) -> Option<(&gatefold_contract::manifest::Gallery, &gatefold_contract::manifest::Link)> {
        let (g, l) = self.tokens.get(token)?;
        self.manifest.link(g, l)
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
        } else if value.chars().count() < MIN_SECRET_CHARS {
            Some(format!("secret {name} is shorter than {MIN_SECRET_CHARS} characters: set a long random one with `wrangler secret put {name}`"))
        } else {
            None
        }
    })
}

/// [`secrets_problem`] for this deployment's environment. Secrets cannot change under a
/// running isolate (setting one deploys a new version), so a pass is remembered.
pub fn check_secrets(env: &Env) -> Result<(), String> {
    if SECRETS_OK.with(Cell::get) {
        return Ok(());
    }
    let secret = |name: &str| env.secret(name).ok().map(|s| s.to_string());
    let dev = env.var(DEV_VAR).is_ok_and(|v| v.to_string() == "1");
    if let Some(problem) = secrets_problem(secret("SIGNING_KEY").as_deref(), secret("ADMIN_TOKEN").as_deref(), dev) {
        return Err(problem);
    }
    SECRETS_OK.with(|ok| ok.set(true));
    Ok(())
}

thread_local! {
    // Workers isolates are single-threaded: a thread-local is the isolate-wide cache.
    static SITE: RefCell<Option<Rc<Deployment>>> = const { RefCell::new(None) };
    static SECRETS_OK: Cell<bool> = const { Cell::new(false) };
}

/// The cached site, loading it on first use. An error names what is wrong for the log; the
/// caller answers 500 without details.
pub async fn load(env: &Env) -> Result<Rc<Deployment>, String> {
    if let Some(site) = SITE.with(|s| s.borrow().clone()) {
        return Ok(site);
    }
    // `check_secrets` ran before any route: the key is present and fit to use.
    let secret = env.secret("SIGNING_KEY").map_err(|e| format!("SIGNING_KEY: {e}"))?.to_string();
    let assets = env.assets("ASSETS").map_err(|e| format!("ASSETS binding: {e}"))?;
    let mut resp = assets
        .fetch(format!("{ASSETS_ORIGIN}{MANIFEST_PATH}"), None)
        .await
        .map_err(|e| format!("reading {MANIFEST_PATH}: {e}"))?;
    if resp.status_code() != 200 {
        return Err(format!("reading {MANIFEST_PATH}: status {} (was the site built with `gatefold build`?)", resp.status_code()));
    }
    let text = resp.text().await.map_err(|e| format!("reading {MANIFEST_PATH}: {e}"))?;
    let manifest = Manifest::from_json(&text).map_err(|e| format!("{MANIFEST_PATH}: {e}; rebuild the site with this version of gatefold"))?;
    let site = Rc::new(Deployment { tokens: manifest.token_index(), manifest, key: SigningKey::from_secret(&secret) });
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
}
