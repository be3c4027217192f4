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
use serde::{Deserialize, Serialize};

/// PBKDF2 iterations for new passwords. Chosen from bench/password (BENCHMARKS.md, "Link
/// passwords"): under workerd here a derive costs ~0.2–0.4 ms per 1,000 iterations, and on
/// Cloudflare 100,000 were reported at ~50 ms (0.5 ms per 1,000), so 10,000 take ~2–5 ms and
/// leave at least half of the Free plan's 10 ms CPU per request to the rest of the open.
/// Guessing online is bounded by the throttle ([`PER_NETWORK`], [`PER_ALLOCATION`]), not by this.
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

/// Wrong passwords one network (IPv4 /24, IPv6 /64: `crate::network`) may try at one link.
/// Keyed on the network alone: a guesser chooses their User-Agent, not their provider.
pub const PER_NETWORK: Window = Window { attempts: 5, seconds: 15 * 60 };

/// Wrong passwords one IPv6 /48 (one site's allocation: 65,536 /64s) may try at one link, all
/// its networks together, once each of them has guessed wrong in the window: moving between
/// /64s of one allocation buys a /64's first try, no more. A /64 with no wrong guess of its own
/// is still evaluated, so a guesser sharing a recipient's /48 (an office, a provider's pool)
/// never locks the recipient out. An IPv4 /24 is its own allocation.
pub const PER_ALLOCATION: Window = Window { attempts: 10, seconds: 15 * 60 };

/// Allocations (an IPv4 /24, an IPv6 /48: one each, whatever the number of /64s in it) that
/// may guess wrong at one link within [`ATTACK_SECONDS`] before the link counts as under a
/// distributed attack (a recipient's office, home and phone, and a colleague).
pub const NETWORK_BUDGET: usize = 4;
pub const ATTACK_SECONDS: i64 = 60 * 60;

/// Under a distributed attack each network gets its first guess per window evaluated, no more:
/// the guesses a link takes then grow with the attacker's networks, never with their time on
/// each. A network with no wrong guess in the window is still always evaluated, so no attacker
/// elsewhere can lock a recipient out (there is no cap for the link as a whole).
pub const UNDER_ATTACK: Window = Window { attempts: 1, seconds: 15 * 60 };

/// A distributed attack is reported to the owner at most this often per link.
pub const REPORT_EVERY_SECONDS: i64 = 60 * 60;

/// Attempts older than this count in no window and are deleted.
pub const FORGET_AFTER_SECONDS: i64 = ATTACK_SECONDS;

/// The most attempts a link keeps (the oldest go first): every window then reads a bounded
/// table, whatever the number of networks guessing. Past it the attack figures are floors.
pub const MAX_ATTEMPTS_KEPT: usize = 4_096;

/// Who is guessing, as the link's throttle keys it: the network and its allocation, each a
/// keyed hash (the link's object never holds an address).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Guesser {
    pub net: String,
    pub wide: String,
}

/// A distributed attack on a link's password: its wrong tries and the allocations they came
/// from within the last [`ATTACK_SECONDS`] (one definition, shared with the admin API).
pub use gatefold_contract::admin::PasswordAttack as Attack;

/// What the link's attempts say about one guesser, as its storage reads them (a few indexed
/// queries, never the whole table): the times of the newest wrong tries of its network and of
/// its allocation within the throttle's window (at most [`Record::KEPT`] each: no window needs
/// more), and the link's wrong tries and distinct allocations of the last [`ATTACK_SECONDS`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Record {
    pub network: Vec<i64>,
    pub allocation: Vec<i64>,
    pub wrong: u32,
    pub networks: u32,
}

impl Record {
    /// How many of a key's newest attempts the throttle reads.
    pub const KEPT: usize = if PER_NETWORK.attempts > PER_ALLOCATION.attempts { PER_NETWORK.attempts } else { PER_ALLOCATION.attempts };
    /// The oldest attempt time any window still counts at `now` (exclusive).
    pub fn since(now: i64) -> i64 {
        now - PER_NETWORK.seconds.max(PER_ALLOCATION.seconds)
    }
}

impl Window {
    /// Seconds until one more attempt fits, given the times of earlier attempts (at least the
    /// newest [`Window::attempts`] of them); `None` when one fits now.
    pub fn wait(&self, attempts: impl IntoIterator<Item = i64>, now: i64) -> Option<i64> {
        let mut recent: Vec<i64> = attempts.into_iter().filter(|&at| at > now - self.seconds && at <= now).collect();
        if recent.len() < self.attempts {
            return None;
        }
        recent.sort_unstable();
        // Once this one leaves the window, one fewer than the limit remain.
        let frees_one = recent[recent.len() - self.attempts];
        Some((frees_one + self.seconds - now).max(1))
    }
}

/// The link's attack, if the wrong tries of the last hour came from more allocations than
/// [`NETWORK_BUDGET`].
pub fn attack(r: &Record) -> Option<Attack> {
    (r.networks as usize > NETWORK_BUDGET).then_some(Attack { wrong: r.wrong, networks: r.networks })
}

/// Seconds the guesser must wait before another try at this link, if any. A network with no
/// wrong try of its own in the window is always evaluated; otherwise the longer of its
/// network's wait (narrowed under attack) and its allocation's.
pub fn throttled(r: &Record, now: i64) -> Option<i64> {
    let per_network = if attack(r).is_some() { UNDER_ATTACK } else { PER_NETWORK };
    if !r.network.iter().any(|&at| at > now - per_network.seconds && at <= now) {
        return None;
    }
    match (per_network.wait(r.network.iter().copied(), now), PER_ALLOCATION.wait(r.allocation.iter().copied(), now)) {
        (Some(a), Some(b)) => Some(a.max(b)),
        (a, b) => a.or(b),
    }
}

/// Reads `password` from a posted `application/x-www-form-urlencoded` body. `None` when the
/// form has no such field (the interstitial's button, a replayed empty form).
pub fn from_form(body: &[u8]) -> Option<String> {
    worker::url::form_urlencoded::parse(body).find(|(k, _)| k == "password").map(|(_, v)| v.into_owned())
}

pub use crypto::{hash_new, passphrase, random_bytes, random_hex, verify};

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

    /// A generated passphrase (`contract::passphrase::generate`) from Web Crypto's random bytes.
    pub fn passphrase() -> worker::Result<String> {
        let c = crypto()?;
        gatefold_contract::passphrase::generate(|buf| c.get_random_values_with_u8_array(buf).map(drop)).map_err(|e| fail("getRandomValues", e))
    }

    /// `bytes` random bytes from Web Crypto, in lowercase hex (an access request's key).
    pub fn random_hex(bytes: usize) -> worker::Result<String> {
        let mut buf = vec![0u8; bytes];
        random_bytes(&mut buf)?;
        Ok(data_encoding::HEXLOWER.encode(&buf))
    }

    /// `buf` filled from Web Crypto's random source (device ids).
    pub fn random_bytes(buf: &mut [u8]) -> worker::Result<()> {
        crypto()?.get_random_values_with_u8_array(buf).map(drop).map_err(|e| fail("getRandomValues", e))
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

    /// One row of the attempts table.
    struct Guess {
        net: String,
        wide: String,
        at: i64,
    }

    fn guess(net: &str, wide: &str, at: i64) -> Guess {
        Guess { net: net.into(), wide: wide.into(), at }
    }

    fn who(net: &str, wide: &str) -> Guesser {
        Guesser { net: net.into(), wide: wide.into() }
    }

    /// What `gate::attempts` reads from a table holding `rows`, for `who` at `now`.
    fn record(rows: &[Guess], who: &Guesser, now: i64) -> Record {
        let newest = |key: &dyn Fn(&Guess) -> bool| {
            let mut at: Vec<i64> = rows.iter().filter(|g| key(g) && g.at > Record::since(now)).map(|g| g.at).collect();
            at.sort_unstable_by(|a, b| b.cmp(a));
            at.truncate(Record::KEPT);
            at
        };
        let hour: Vec<&Guess> = rows.iter().filter(|g| g.at > now - ATTACK_SECONDS).collect();
        let mut wides: Vec<&str> = hour.iter().map(|g| g.wide.as_str()).collect();
        wides.sort_unstable();
        wides.dedup();
        Record {
            network: newest(&|g| g.net == who.net),
            allocation: newest(&|g| g.wide == who.wide),
            wrong: hour.len() as u32,
            networks: wides.len() as u32,
        }
    }

    fn wait(rows: &[Guess], who: &Guesser, now: i64) -> Option<i64> {
        throttled(&record(rows, who, now), now)
    }

    fn attack_on(rows: &[Guess], now: i64) -> Option<Attack> {
        attack(&record(rows, &who("-", "-"), now))
    }

    #[test]
    fn a_network_gets_five_tries_per_quarter_hour_then_waits_for_the_oldest_to_expire() {
        let now = 10_000;
        let a = who("a", "a");
        let four: Vec<Guess> = [now - 800, now - 600, now - 10, now - 5].iter().map(|&t| guess("a", "a", t)).collect();
        assert_eq!(wait(&four, &a, now), None);
        let five: Vec<Guess> = [now - 800, now - 600, now - 300, now - 10, now - 5].iter().map(|&t| guess("a", "a", t)).collect();
        assert_eq!(wait(&five, &a, now), Some(100), "the try 800 s ago leaves the 900 s window in 100 s");
        assert_eq!(wait(&five, &a, now + 100), None);
        let old: Vec<Guess> = [now - 900, now - 901, now - 3000, now - 10, now - 5].iter().map(|&t| guess("a", "a", t)).collect();
        assert_eq!(wait(&old, &a, now), None, "attempts at or past the window's edge have expired");
    }

    #[test]
    fn the_newest_attempts_of_a_key_are_all_a_window_needs() {
        // The storage reads at most `Record::KEPT` attempts per key: the verdict is the same as
        // with every row.
        let now = 10_000;
        let many: Vec<i64> = (0..200).map(|i| now - 890 + i * 4).collect();
        let kept: Vec<i64> = many.iter().rev().take(Record::KEPT).copied().collect();
        assert_eq!(PER_NETWORK.wait(kept.iter().copied(), now), PER_NETWORK.wait(many.iter().copied(), now));
        assert_eq!(PER_ALLOCATION.wait(kept, now), PER_ALLOCATION.wait(many, now));
    }

    #[test]
    fn the_network_is_the_key_whatever_the_browser() {
        // Ten User-Agents of one network are one guesser: the key has no browser in it, so
        // its sixth wrong try waits whoever sends it.
        let now = 10_000;
        let five: Vec<Guess> = (0..5).map(|i| guess("net", "net", now - 50 + i)).collect();
        assert!(wait(&five, &who("net", "net"), now).is_some());
    }

    #[test]
    fn a_network_without_wrong_guesses_is_always_evaluated() {
        // The case: 50 guesses from one network and 15 from three others; a fourth
        // network's first try is evaluated (the per-link cap that refused it is gone).
        let now = 100_000;
        let mut all: Vec<Guess> = (0..50).map(|i| guess("n1", "n1", now - 3_000 + i)).collect();
        for (i, n) in ["n2", "n3", "n4"].iter().enumerate() {
            all.extend((0..5).map(|j| guess(n, n, now - 100 + (i * 5 + j) as i64)));
        }
        assert_eq!(wait(&all, &who("n5", "n5"), now), None);
        assert!(wait(&all, &who("n2", "n2"), now).is_some());
    }

    #[test]
    fn an_ipv6_allocation_is_not_65536_fresh_networks() {
        // Ten wrong tries from ten /64s of one /48 saturate the allocation.
        let now = 10_000;
        let from_one_48: Vec<Guess> = (0..10).map(|i| guess(&format!("64-{i}"), "48-a", now - 100 + i)).collect();
        assert_eq!(wait(&from_one_48, &who("64-3", "48-a"), now), Some(800), "a /64 that guessed wrong waits for its allocation");
        assert_eq!(wait(&from_one_48, &who("64-other", "48-b"), now), None, "another allocation does not");
        let many: Vec<Guess> = (0..300).map(|i| guess(&format!("64-{i}"), "48-a", now - 800 + i)).collect();
        assert_eq!(attack_on(&many, now), None, "a /48 with 300 /64s is one network of the attack budget");
    }

    #[test]
    fn a_fresh_64_in_a_saturated_48_still_gets_its_try() {
        // A guesser sharing a recipient's /48 (an office, a provider's pool) never locks the
        // recipient out: a /64 with no wrong try of its own is evaluated once per window.
        let now = 10_000;
        let mut rows: Vec<Guess> = (0..40).map(|i| guess("64-attacker", "48-a", now - 100 + i)).collect();
        rows.extend((0..10).map(|i| guess(&format!("64-{i}"), "48-a", now - 50 + i)));
        assert_eq!(wait(&rows, &who("64-recipient", "48-a"), now), None, "its first try is evaluated");
        rows.push(guess("64-recipient", "48-a", now));
        assert!(wait(&rows, &who("64-recipient", "48-a"), now + 1).is_some(), "a second wrong try waits for the saturated /48");
        assert_eq!(wait(&rows, &who("64-recipient", "48-a"), now + PER_NETWORK.seconds), None, "the next window brings its try back");
    }

    #[test]
    fn past_the_budget_of_networks_the_link_is_under_attack_and_each_network_gets_one_try() {
        let now = 100_000;
        let five_networks: Vec<Guess> = (0..5).flat_map(|n| (0..2).map(move |i| guess(&format!("n{n}"), &format!("n{n}"), now - 600 + n * 10 + i))).collect();
        assert_eq!(attack_on(&five_networks[..8], now), None, "four networks are within the budget");
        assert_eq!(attack_on(&five_networks, now), Some(Attack { wrong: 10, networks: 5 }));
        assert!(wait(&five_networks, &who("n0", "n0"), now).is_some(), "a network that already guessed waits under attack");
        assert_eq!(wait(&five_networks, &who("fresh", "fresh"), now), None, "a fresh one is still evaluated");
        assert_eq!(attack_on(&five_networks, now + ATTACK_SECONDS), None, "an hour later it is over");
    }

    #[test]
    fn the_form_field_is_read_decoded_and_only_that_field() {
        assert_eq!(from_form(b"password=p%40ss+word%26%3D").as_deref(), Some("p@ss word&="));
        assert_eq!(from_form("password=%E5%AF%86%E7%A0%81".as_bytes()).as_deref(), Some("密码"));
        assert_eq!(from_form(b"other=x"), None);
        assert_eq!(from_form(b""), None);
    }
}
