//! Link passwords: the stored hash, the wrong-attempt throttle, and PBKDF2-SHA256 through Web
//! Crypto.
//!
//! Git only says *that* a link needs a password (`password: required`); the owner sets it at
//! runtime through the admin API, and the link's `LinkGate` object keeps a salted PBKDF2-SHA256
//! hash of it in the string form [`StoredHash`] reads and writes. The iteration count travels
//! in that string, so [`ITERATIONS`] can change later without invalidating stored passwords.
//!
//! The hash format and the throttle are pure and tested natively; deriving needs the runtime's
//! `crypto.subtle` (workers-rs has no wrapper, so it is reached through `web-sys`).

use data_encoding::BASE64;

/// PBKDF2 iterations for new passwords. Chosen from bench/password (BENCHMARKS.md, "Link
/// passwords"): under workerd here a derive costs ~0.2–0.4 ms per 1,000 iterations, and on
/// Cloudflare 100,000 were reported at ~50 ms (0.5 ms per 1,000), so 10,000 take ~2–5 ms and
/// leave at least half of the Free plan's 10 ms CPU per request to the rest of the open.
/// Guessing online is bounded by the throttle ([`PER_CLIENT`], [`PER_LINK`]), not by this.
pub const ITERATIONS: u32 = 10_000;

/// Bytes of random salt per password.
pub const SALT_BYTES: usize = 16;

/// Bytes of derived key stored (SHA-256's output size: more would cost more rounds).
pub const HASH_BYTES: usize = 32;

/// The shortest password an owner may set, in bytes.
pub const MIN_BYTES: usize = 8;

/// The longest, in bytes: PBKDF2 hashes the password once per iteration through HMAC's key,
/// so the size is bounded to keep the cost of a guess fixed.
pub const MAX_BYTES: usize = 256;

/// The name of the algorithm in the stored string.
const SCHEME: &str = "pbkdf2-sha256";

/// A stored password hash: `pbkdf2-sha256$<iterations>$<salt base64>$<hash base64>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredHash {
    pub iterations: u32,
    pub salt: Vec<u8>,
    pub hash: Vec<u8>,
}

impl StoredHash {
    pub fn encode(&self) -> String {
        format!("{SCHEME}${}${}${}", self.iterations, BASE64.encode(&self.salt), BASE64.encode(&self.hash))
    }

    /// Reads a stored string; the error says which part is wrong (never any of its bytes).
    pub fn parse(text: &str) -> Result<StoredHash, String> {
        let parts: Vec<&str> = text.split('$').collect();
        let [scheme, iterations, salt, hash] = parts.as_slice() else {
            return Err(format!("a stored password hash has {} '$'-separated parts, not 4 ({SCHEME}$<iterations>$<salt>$<hash>)", parts.len()));
        };
        if *scheme != SCHEME {
            return Err(format!("a stored password hash uses scheme {scheme:?}; this version reads {SCHEME:?} only"));
        }
        let iterations = iterations.parse::<u32>().ok().filter(|&n| n > 0).ok_or("the iteration count of a stored password hash is not a positive number")?;
        let salt = BASE64.decode(salt.as_bytes()).map_err(|e| format!("the salt of a stored password hash is not base64: {e}"))?;
        let hash = BASE64.decode(hash.as_bytes()).map_err(|e| format!("the hash of a stored password hash is not base64: {e}"))?;
        if salt.is_empty() || hash.is_empty() {
            return Err("a stored password hash has an empty salt or hash".into());
        }
        Ok(StoredHash { iterations, salt, hash })
    }
}

/// Whether a password an owner wants to set is acceptable; the error is the owner's sentence.
pub fn check_new(password: &str) -> Result<(), String> {
    let n = password.len();
    if n < MIN_BYTES {
        return Err(format!("the password is {n} bytes long: use at least {MIN_BYTES}"));
    }
    if n > MAX_BYTES {
        return Err(format!("the password is {n} bytes long: use at most {MAX_BYTES}"));
    }
    Ok(())
}

/// A limit on wrong passwords within a sliding window.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Window {
    pub attempts: usize,
    pub seconds: i64,
}

/// Wrong passwords one client (IP and browser family) may try for one link.
pub const PER_CLIENT: Window = Window { attempts: 5, seconds: 15 * 60 };

/// Wrong passwords a link takes from everyone together: bounds a guesser with many addresses.
pub const PER_LINK: Window = Window { attempts: 50, seconds: 60 * 60 };

/// Attempts older than this count in no window and are deleted.
pub const FORGET_AFTER_SECONDS: i64 = if PER_CLIENT.seconds > PER_LINK.seconds { PER_CLIENT.seconds } else { PER_LINK.seconds };

impl Window {
    /// Seconds until one more attempt fits, given the times of earlier attempts; `None` when
    /// one fits now.
    pub fn wait(&self, attempts: &[i64], now: i64) -> Option<i64> {
        let mut recent: Vec<i64> = attempts.iter().copied().filter(|&at| at > now - self.seconds && at <= now).collect();
        if recent.len() < self.attempts {
            return None;
        }
        recent.sort_unstable();
        // Once this one leaves the window, one fewer than the limit remain.
        let frees_one = recent[recent.len() - self.attempts];
        Some((frees_one + self.seconds - now).max(1))
    }
}

/// Seconds this client must wait before another try at this link, if any: the longer of the
/// two windows' waits.
pub fn throttled(client_attempts: &[i64], link_attempts: &[i64], now: i64) -> Option<i64> {
    match (PER_CLIENT.wait(client_attempts, now), PER_LINK.wait(link_attempts, now)) {
        (Some(a), Some(b)) => Some(a.max(b)),
        (a, b) => a.or(b),
    }
}

/// Reads `password` from a posted `application/x-www-form-urlencoded` body. `None` when the
/// form has no such field (the interstitial's button, a replayed empty form).
pub fn from_form(body: &[u8]) -> Option<String> {
    worker::url::form_urlencoded::parse(body).find(|(k, _)| k == "password").map(|(_, v)| v.into_owned())
}

pub use crypto::{hash_new, verify};

/// PBKDF2 through the runtime's Web Crypto (it compiles natively like every binding, and runs
/// in the Workers runtime only).
mod crypto {
    use super::{HASH_BYTES, ITERATIONS, SALT_BYTES, StoredHash};
    use gatefold_contract::token::secrets_equal;
    use worker::js_sys::{self, Reflect, Uint8Array};
    use worker::wasm_bindgen::{JsCast, JsValue};
    use worker::wasm_bindgen_futures::JsFuture;
    use web_sys::{Crypto, CryptoKey, Pbkdf2Params};

    fn fail(what: &str, e: JsValue) -> worker::Error {
        worker::Error::RustError(format!("Web Crypto {what} failed: {e:?}"))
    }

    fn crypto() -> worker::Result<Crypto> {
        let c = Reflect::get(&js_sys::global(), &"crypto".into()).map_err(|e| fail("lookup", e))?;
        if c.is_undefined() {
            return Err(worker::Error::RustError("this runtime has no globalThis.crypto".into()));
        }
        Ok(c.unchecked_into())
    }

    async fn derive(password: &str, salt: &[u8], iterations: u32) -> worker::Result<Vec<u8>> {
        let subtle = crypto()?.subtle();
        let raw = Uint8Array::from(password.as_bytes());
        let usages = js_sys::Array::of1(&"deriveBits".into());
        let key = subtle.import_key_with_str("raw", &raw, "PBKDF2", false, &usages).map_err(|e| fail("importKey", e))?;
        let key: CryptoKey = JsFuture::from(key).await.map_err(|e| fail("importKey", e))?.unchecked_into();
        let params = Pbkdf2Params::new("PBKDF2", &"SHA-256".into(), iterations, &Uint8Array::from(salt));
        let bits = subtle.derive_bits_with_object(&params, &key, (HASH_BYTES * 8) as u32).map_err(|e| fail("deriveBits", e))?;
        let bits = JsFuture::from(bits).await.map_err(|e| fail("deriveBits", e))?;
        Ok(Uint8Array::new(&bits).to_vec())
    }

    /// A new random salt and the hash of `password` with it, at [`ITERATIONS`].
    pub async fn hash_new(password: &str) -> worker::Result<StoredHash> {
        let mut salt = [0u8; SALT_BYTES];
        crypto()?.get_random_values_with_u8_array(&mut salt).map_err(|e| fail("getRandomValues", e))?;
        let hash = derive(password, &salt, ITERATIONS).await?;
        Ok(StoredHash { iterations: ITERATIONS, salt: salt.to_vec(), hash })
    }

    /// Whether `password` is the one `stored` was made from (compared in constant time).
    pub async fn verify(password: &str, stored: &StoredHash) -> worker::Result<bool> {
        let derived = derive(password, &stored.salt, stored.iterations).await?;
        // Both sides are hashed before comparing, so their length leaks nothing either.
        let hex = |b: &[u8]| data_encoding::HEXLOWER.encode(b);
        Ok(secrets_equal(&hex(&derived), &hex(&stored.hash)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_stored_hash_reads_back_and_names_what_is_wrong() {
        let h = StoredHash { iterations: 10_000, salt: (0..16).collect(), hash: vec![7; 32] };
        let text = h.encode();
        assert!(text.starts_with("pbkdf2-sha256$10000$AAECAwQFBgcICQoLDA0ODw==$"), "{text}");
        assert_eq!(StoredHash::parse(&text), Ok(h));
        for (bad, says) in [
            ("pbkdf2-sha256$20000$AAEC", "parts"),
            ("bcrypt$20000$AAEC$AAEC", "scheme"),
            ("pbkdf2-sha256$0$AAEC$AAEC", "iteration"),
            ("pbkdf2-sha256$many$AAEC$AAEC", "iteration"),
            ("pbkdf2-sha256$1$not base64!$AAEC", "salt"),
            ("pbkdf2-sha256$1$AAEC$", "empty"),
        ] {
            let e = StoredHash::parse(bad).unwrap_err();
            assert!(e.contains(says), "{bad}: {e}");
        }
    }

    #[test]
    fn new_passwords_are_8_to_256_bytes() {
        assert!(check_new("1234567").unwrap_err().contains("at least 8"));
        assert!(check_new("12345678").is_ok());
        assert!(check_new("密码密码密码").is_ok(), "6 Chinese characters are 18 bytes");
        assert!(check_new(&"x".repeat(256)).is_ok());
        assert!(check_new(&"x".repeat(257)).unwrap_err().contains("at most 256"));
    }

    #[test]
    fn a_client_gets_five_tries_per_quarter_hour_then_waits_for_the_oldest_to_expire() {
        let now = 10_000;
        let four = [now - 800, now - 600, now - 10, now - 5];
        assert_eq!(throttled(&four, &four, now), None);
        let five = [now - 800, now - 600, now - 300, now - 10, now - 5];
        assert_eq!(throttled(&five, &five, now), Some(100), "the try 800 s ago leaves the 900 s window in 100 s");
        assert_eq!(throttled(&five, &five, now + 100), None);
        let old = [now - 900, now - 901, now - 5000, now - 10, now - 5];
        assert_eq!(throttled(&old, &old, now), None, "attempts at or past the window's edge have expired");
    }

    #[test]
    fn a_link_takes_fifty_wrong_tries_an_hour_from_everyone() {
        let now = 100_000;
        let everyone: Vec<i64> = (0..50).map(|i| now - 3_000 + i).collect();
        assert_eq!(throttled(&[], &everyone, now), Some(600));
        assert_eq!(throttled(&[], &everyone[1..], now), None);
        let client = [now - 10; 5];
        assert_eq!(throttled(&client, &everyone, now), Some(890), "the longer of the two waits");
    }

    #[test]
    fn the_form_field_is_read_decoded_and_only_that_field() {
        assert_eq!(from_form(b"password=p%40ss+word%26%3D").as_deref(), Some("p@ss word&="));
        assert_eq!(from_form("password=%E5%AF%86%E7%A0%81".as_bytes()).as_deref(), Some("密码"));
        assert_eq!(from_form(b"other=x"), None);
        assert_eq!(from_form(b""), None);
    }
}
