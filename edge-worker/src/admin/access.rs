//! Signing owners in with Cloudflare Access.
//!
//! When the deployment names its Access team domain and the admin application's audience tag
//! ([`TEAM_VAR`], [`AUD_VAR`] in `wrangler.toml`), Access sits in front of `/admin` and attaches
//! a signed assertion to every request it lets through (`Cf-Access-Jwt-Assertion`, RS256). The
//! worker trusts it only after checking it itself: the signature against the team's public keys
//! (fetched from `https://<team>/cdn-cgi/access/certs` and kept per isolate), the algorithm
//! (RS256 only: `none` or anything else is refused before a key is looked at), the key id, the
//! audience, the issuer and the expiry. Any doubt (a key it cannot fetch, an unknown key id, a
//! claim missing) refuses: Access never fails open. The assertion's e-mail is the actor the
//! audit log records.
//!
//! Parsing and the claim checks are pure and tested natively; the signature is checked with
//! Web Crypto (RSASSA-PKCS1-v1_5, SHA-256) through `web-sys`, so no RSA code is compiled in.

use data_encoding::BASE64URL_NOPAD;
use serde::Deserialize;

/// The Access team domain, e.g. `yourteam.cloudflareaccess.com`.
pub const TEAM_VAR: &str = "ACCESS_TEAM_DOMAIN";
/// The Access application's audience (AUD) tag.
pub const AUD_VAR: &str = "ACCESS_AUD";
/// Where the keys are fetched from: only for a local run (tests use a stand-in key server).
pub const JWKS_VAR: &str = "ACCESS_JWKS_URL";
/// The header Access puts its assertion in.
pub const HEADER: &str = "Cf-Access-Jwt-Assertion";

/// An assertion longer than this is refused unread (Access's are about 1 KB).
const MAX_ASSERTION_BYTES: usize = 8 * 1024;
/// A key set longer than this is refused unread (Access's hold two keys, about 2 KB).
const MAX_JWKS_BYTES: usize = 64 * 1024;
/// How long fetched keys are used before they are fetched again.
const JWKS_TTL_MS: f64 = 10.0 * 60_000.0;
/// An unknown key id fetches the keys again (Access rotates them), but not more often than this.
const JWKS_REFETCH_MS: f64 = 30_000.0;
/// Clock skew allowed for `nbf` and `iat` (never for `exp`).
const SKEW_SECONDS: f64 = 60.0;

/// Access as this deployment configures it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccessConfig {
    /// The team's host name, e.g. `yourteam.cloudflareaccess.com`.
    pub team: String,
    pub aud: String,
    pub jwks_url: String,
}

impl AccessConfig {
    /// The issuer every assertion of the team names.
    pub fn issuer(&self) -> String {
        format!("https://{}", self.team)
    }
}

/// Access from the deployment's variables: `None` when neither is set (bearer tokens only),
/// an error the owner can act on when they are set wrongly. Another key address than the
/// team's is accepted only in a local run (`dev`).
pub fn config(team: Option<&str>, aud: Option<&str>, jwks: Option<&str>, dev: bool) -> Result<Option<AccessConfig>, String> {
    let team = team.map(str::trim).filter(|t| !t.is_empty());
    let aud = aud.map(str::trim).filter(|a| !a.is_empty());
    let (team, aud) = match (team, aud) {
        (None, None) => return Ok(None),
        (Some(t), Some(a)) => (t, a),
        _ => return Err(format!("Cloudflare Access needs both {TEAM_VAR} and {AUD_VAR} in wrangler.toml's [vars]; only one is set")),
    };
    let team = team.trim_start_matches("https://").trim_end_matches('/').to_ascii_lowercase();
    if team.is_empty() || !team.contains('.') || !team.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'-') {
        return Err(format!("{TEAM_VAR} must be the team's host name, e.g. yourteam.cloudflareaccess.com, not {team:?}"));
    }
    let own = format!("https://{team}/cdn-cgi/access/certs");
    let jwks_url = match jwks.map(str::trim).filter(|u| !u.is_empty()) {
        None => own,
        Some(u) if u == own => own,
        Some(u) if dev => u.to_string(),
        Some(_) => return Err(format!("{JWKS_VAR} may name another key address than {own} only in a local run ({}=1)", crate::site::DEV_VAR)),
    };
    Ok(Some(AccessConfig { team, aud: aud.to_string(), jwks_url }))
}

#[derive(Debug, Deserialize)]
struct Header {
    alg: String,
    kid: Option<String>,
}

/// The claims checked (everything else in the assertion is ignored).
#[derive(Debug, Deserialize)]
pub struct Claims {
    #[serde(default)]
    aud: Audience,
    exp: Option<f64>,
    nbf: Option<f64>,
    iat: Option<f64>,
    iss: Option<String>,
    email: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(untagged)]
enum Audience {
    #[default]
    None,
    One(String),
    Many(Vec<String>),
}

impl Audience {
    fn contains(&self, aud: &str) -> bool {
        match self {
            Audience::None => false,
            Audience::One(a) => a == aud,
            Audience::Many(all) => all.iter().any(|a| a == aud),
        }
    }
}

/// An assertion taken apart: what was signed, the signature, the key id and the claims.
#[derive(Debug)]
pub struct Assertion {
    pub kid: String,
    pub signed: Vec<u8>,
    pub signature: Vec<u8>,
    pub claims: Claims,
}

fn part<T: serde::de::DeserializeOwned>(text: &str, what: &str) -> Result<T, String> {
    let bytes = BASE64URL_NOPAD.decode(text.as_bytes()).map_err(|_| format!("the assertion's {what} is not base64url"))?;
    serde_json::from_slice(&bytes).map_err(|_| format!("the assertion's {what} is not the JSON expected"))
}

/// Takes an assertion apart, refusing anything but a compact RS256 JWT with a key id.
pub fn parse(token: &str) -> Result<Assertion, String> {
    let token = token.trim();
    if token.len() > MAX_ASSERTION_BYTES {
        return Err(format!("the assertion is longer than {MAX_ASSERTION_BYTES} bytes"));
    }
    let parts: Vec<&str> = token.split('.').collect();
    let [header, payload, signature] = parts.as_slice() else {
        return Err("the assertion is not a JWT (three dot-separated parts)".into());
    };
    let h: Header = part(header, "header")?;
    if h.alg != "RS256" {
        return Err(format!("the assertion is signed with {:?}; only RS256 is accepted", h.alg.chars().take(16).collect::<String>()));
    }
    let kid = h.kid.filter(|k| !k.is_empty()).ok_or("the assertion names no key (kid)")?;
    let claims: Claims = part(payload, "payload")?;
    let signature = BASE64URL_NOPAD.decode(signature.as_bytes()).map_err(|_| "the assertion's signature is not base64url".to_string())?;
    if signature.is_empty() {
        return Err("the assertion is not signed".into());
    }
    Ok(Assertion { kid, signed: format!("{header}.{payload}").into_bytes(), signature, claims })
}

/// The person an assertion's claims name, if they hold for `config` at `now` (Unix seconds).
pub fn check_claims(c: &Claims, config: &AccessConfig, now: f64) -> Result<String, String> {
    if c.iss.as_deref() != Some(config.issuer().as_str()) {
        return Err("the assertion was issued by another team".into());
    }
    if !c.aud.contains(&config.aud) {
        return Err("the assertion is for another Access application (aud)".into());
    }
    match c.exp {
        None => return Err("the assertion has no expiry".into()),
        Some(exp) if exp <= now => return Err("the assertion has expired: reload the page to sign in again".into()),
        Some(_) => {}
    }
    if c.nbf.is_some_and(|nbf| nbf > now + SKEW_SECONDS) || c.iat.is_some_and(|iat| iat > now + SKEW_SECONDS) {
        return Err("the assertion is not valid yet".into());
    }
    let email = c.email.as_deref().map(str::trim).filter(|e| !e.is_empty() && e.len() <= 254 && e.contains('@'));
    email.map(str::to_string).ok_or_else(|| "the assertion names no person (a service token?): sign in with the admin token instead".into())
}

/// One public key of the team's key set.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
pub struct Jwk {
    pub kid: Option<String>,
    pub kty: String,
    pub alg: Option<String>,
    #[serde(rename = "use")]
    pub usage: Option<String>,
    pub n: Option<String>,
    pub e: Option<String>,
}

#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
pub struct Jwks {
    pub keys: Vec<Jwk>,
}

impl Jwks {
    /// The RSA signing key with this id, as (n, e).
    pub fn rsa_key(&self, kid: &str) -> Option<(&str, &str)> {
        self.keys
            .iter()
            .filter(|k| k.kid.as_deref() == Some(kid) && k.kty == "RSA")
            .filter(|k| k.alg.as_deref().is_none_or(|a| a == "RS256") && k.usage.as_deref().is_none_or(|u| u == "sig"))
            .find_map(|k| Some((k.n.as_deref()?, k.e.as_deref()?)))
    }
}

pub use crypto::verify;

/// The key set's fetching and caching, and RS256 through Web Crypto (compiles natively like
/// every binding; runs in the Workers runtime only).
mod crypto {
    use super::*;
    use std::cell::RefCell;
    use std::rc::Rc;
    use web_sys::{CryptoKey, JsonWebKey, RsaHashedImportParams};
    use worker::js_sys::{self, Reflect, Uint8Array};
    use worker::wasm_bindgen::{JsCast, JsValue};
    use worker::wasm_bindgen_futures::JsFuture;

    struct Cached {
        url: String,
        fetched_ms: f64,
        keys: Rc<Jwks>,
        /// The keys imported into Web Crypto so far, by key id: importing costs more than a
        /// verify, and the key set changes only when it is fetched again (which empties this).
        imported: Vec<(String, CryptoKey)>,
    }

    thread_local! {
        // Workers isolates are single-threaded: a thread-local is the isolate's cache.
        static KEYS: RefCell<Option<Cached>> = const { RefCell::new(None) };
    }

    async fn fetch_keys(url: &str) -> Result<Jwks, String> {
        let fail = |what: &str| format!("the team's keys could not be read ({what}), so Access sign-in is refused");
        let mut resp = worker::Fetch::Url(url.parse().map_err(|_| fail("bad address"))?).send().await.map_err(|_| fail("no answer"))?;
        if resp.status_code() != 200 {
            return Err(fail(&format!("HTTP {}", resp.status_code())));
        }
        let body = crate::http::read_response(&mut resp, MAX_JWKS_BYTES).await.map_err(|_| fail("no body"))?.map_err(|_| fail("too large"))?;
        serde_json::from_slice(&body).map_err(|_| fail("not a key set"))
    }

    /// The keys, fetched again when stale or when `kid` is unknown (at most every 30 s).
    async fn keys_for(url: &str, kid: &str, now_ms: f64) -> Result<Rc<Jwks>, String> {
        let cached = KEYS.with(|k| k.borrow().as_ref().filter(|c| c.url == url).map(|c| (c.fetched_ms, c.keys.clone())));
        if let Some((at, keys)) = &cached {
            let fresh = now_ms - at < JWKS_TTL_MS;
            if fresh && (keys.rsa_key(kid).is_some() || now_ms - at < JWKS_REFETCH_MS) {
                return Ok(keys.clone());
            }
        }
        let keys = Rc::new(fetch_keys(url).await?);
        KEYS.with(|k| *k.borrow_mut() = Some(Cached { url: url.to_string(), fetched_ms: now_ms, keys: keys.clone(), imported: Vec::new() }));
        Ok(keys)
    }

    fn fail(what: &str, e: JsValue) -> String {
        worker::console_error!("Access: Web Crypto {what} failed: {e:?}");
        format!("the assertion's signature could not be checked ({what})")
    }

    fn subtle() -> Result<web_sys::SubtleCrypto, String> {
        let c = Reflect::get(&js_sys::global(), &"crypto".into()).map_err(|e| fail("lookup", e))?;
        Ok(c.unchecked_into::<web_sys::Crypto>().subtle())
    }

    /// The key `kid` of the cached set `url` as Web Crypto holds it, imported once per fetch.
    async fn imported(url: &str, kid: &str, n: &str, e: &str) -> Result<CryptoKey, String> {
        let known = |k: &RefCell<Option<Cached>>| k.borrow().as_ref().filter(|c| c.url == url).and_then(|c| c.imported.iter().find(|(id, _)| id == kid).map(|(_, key)| key.clone()));
        if let Some(key) = KEYS.with(known) {
            return Ok(key);
        }
        let key = import_rs256(n, e).await?;
        KEYS.with(|k| {
            if let Some(c) = k.borrow_mut().as_mut().filter(|c| c.url == url && c.keys.rsa_key(kid) == Some((n, e))) {
                c.imported.push((kid.to_string(), key.clone()));
            }
        });
        Ok(key)
    }

    async fn import_rs256(n: &str, e: &str) -> Result<CryptoKey, String> {
        let subtle = subtle()?;
        let jwk = JsonWebKey::new("RSA");
        jwk.set_n(n);
        jwk.set_e(e);
        jwk.set_alg("RS256");
        jwk.set_ext(true);
        let algorithm = RsaHashedImportParams::new(&"SHA-256".into());
        Reflect::set(&algorithm, &"name".into(), &"RSASSA-PKCS1-v1_5".into()).map_err(|e| fail("parameters", e))?;
        let usages = js_sys::Array::of1(&"verify".into());
        let key = subtle.import_key_with_object("jwk", &jwk, &algorithm, false, &usages).map_err(|e| fail("importKey", e))?;
        Ok(JsFuture::from(key).await.map_err(|e| fail("importKey", e))?.unchecked_into())
    }

    async fn rs256(key: &CryptoKey, signed: &[u8], signature: &[u8]) -> Result<bool, String> {
        let ok = subtle()?
            .verify_with_str_and_js_u8_array_and_js_u8_array("RSASSA-PKCS1-v1_5", key, &Uint8Array::from(signature), &Uint8Array::from(signed))
            .map_err(|e| fail("verify", e))?;
        Ok(JsFuture::from(ok).await.map_err(|e| fail("verify", e))?.as_bool() == Some(true))
    }

    /// The person a request's assertion names, once its signature, algorithm, key, audience,
    /// issuer and expiry all hold; the error says which did not (never the assertion itself).
    pub async fn verify(config: &AccessConfig, token: &str, now_ms: f64) -> Result<String, String> {
        let assertion = parse(token)?;
        let email = check_claims(&assertion.claims, config, now_ms / 1000.0)?;
        let keys = keys_for(&config.jwks_url, &assertion.kid, now_ms).await?;
        let (n, e) = keys.rsa_key(&assertion.kid).ok_or("the assertion names a key the team does not have")?;
        let key = imported(&config.jwks_url, &assertion.kid, n, e).await?;
        if !rs256(&key, &assertion.signed, &assertion.signature).await? {
            return Err("the assertion's signature does not match the team's key".into());
        }
        Ok(email)
    }
}

#[cfg(test)]
mod tests;
