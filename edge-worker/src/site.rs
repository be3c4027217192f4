//! The manifest and signing key, loaded once per isolate.
//!
//! The manifest holds every token, so it sits under the private prefix of the static assets;
//! the worker reads it through its `ASSETS` binding, never through a public URL.

use gatefold_contract::manifest::{MANIFEST_PATH, Manifest};
use gatefold_contract::SigningKey;
use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;
use worker::Env;

/// Any host works for the assets binding; it only looks at the path.
pub const ASSETS_ORIGIN: &str = "https://assets.gatefold.internal";

pub struct Site {
    pub manifest: Manifest,
    /// Token → (gallery id, link name).
    pub tokens: HashMap<String, (String, String)>,
    pub key: SigningKey,
}

impl Site {
    /// The gallery and link a token opens, if it is a current token.
    pub fn by_token(&self, token: &str) -> Option<(&gatefold_contract::manifest::Gallery, &gatefold_contract::manifest::Link)> {
        let (g, l) = self.tokens.get(token)?;
        self.manifest.link(g, l)
    }
}

thread_local! {
    // Workers isolates are single-threaded: a thread-local is the isolate-wide cache.
    static SITE: RefCell<Option<Rc<Site>>> = const { RefCell::new(None) };
}

/// The cached site, loading it on first use. An error names what is wrong for the log; the
/// caller answers 500 without details.
pub async fn load(env: &Env) -> Result<Rc<Site>, String> {
    if let Some(site) = SITE.with(|s| s.borrow().clone()) {
        return Ok(site);
    }
    let secret = env
        .secret("SIGNING_KEY")
        .map_err(|_| "secret SIGNING_KEY is not set (put it in .dev.vars locally, or `wrangler secret put SIGNING_KEY`)".to_string())?
        .to_string();
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
    let site = Rc::new(Site { tokens: manifest.token_index(), manifest, key: SigningKey::from_secret(&secret) });
    SITE.with(|s| *s.borrow_mut() = Some(site.clone()));
    Ok(site)
}
