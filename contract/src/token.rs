//! Link tokens and visitor sessions, both keyed BLAKE3 (a MAC/PRF) under the site's
//! `SIGNING_KEY`, each use under its own derived key so one can never stand in for the other.

use data_encoding::BASE32_NOPAD;

/// Token length in bytes: 128 bits, as unguessable as a random UUID, 26 characters in a URL.
const TOKEN_BYTES: usize = 16;
pub const TOKEN_CHARS: usize = 26;

/// The development key's secret. Builds made with it are labelled as such and must never be
/// published; production builds refuse to run without a real `SIGNING_KEY`.
pub const DEV_SECRET: &str = "gatefold-dev-signing-key-NOT-FOR-PRODUCTION";

/// Shortest `SIGNING_KEY` accepted for a production build.
pub const MIN_SECRET_CHARS: usize = 32;

#[derive(Clone)]
pub struct SigningKey {
    tokens: [u8; 32],
    sessions: [u8; 32],
    visitors: [u8; 32],
    devices: [u8; 32],
    fingerprint: [u8; 32],
    marks: crate::mark::MarkKey,
}

impl std::fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SigningKey(…)")
    }
}

impl SigningKey {
    pub fn from_secret(secret: &str) -> SigningKey {
        SigningKey {
            tokens: blake3::derive_key("gatefold 2026 link token v1", secret.as_bytes()),
            sessions: blake3::derive_key("gatefold 2026 visitor session v1", secret.as_bytes()),
            visitors: blake3::derive_key("gatefold 2026 visitor hash v1", secret.as_bytes()),
            devices: blake3::derive_key("gatefold 2026 device cookie v1", secret.as_bytes()),
            fingerprint: blake3::derive_key("gatefold 2026 signing key fingerprint v1", secret.as_bytes()),
            marks: crate::mark::MarkKey::from_secret(secret),
        }
    }

    pub fn dev() -> SigningKey {
        SigningKey::from_secret(DEV_SECRET)
    }

    /// Which key this is, in a form that reveals nothing about it: a key derivation of the
    /// secret under a context of its own (one-way, and unrelated to the token, session and
    /// visitor keys), so it can travel with the build in `site.json` and let the worker refuse
    /// a site signed with another key than its own `SIGNING_KEY`, or with the public
    /// development key.
    /// The key forensic marks are made and read with (`crate::mark`).
    pub fn mark_key(&self) -> &crate::mark::MarkKey {
        &self.marks
    }

    pub fn fingerprint(&self) -> String {
        data_encoding::HEXLOWER.encode(&self.fingerprint[..16])
    }

    /// The token in a link's URL `<base_url>/s/<token>`. It depends only on the gallery id, the
    /// link name and the owner's `rotate` counter: replacing images never changes it, bumping
    /// `rotate` always does.
    pub fn link_token(&self, gallery: &str, link: &str, rotate: u32) -> String {
        let mut hasher = blake3::Hasher::new_keyed(&self.tokens);
        // Length-prefix each part so ("a-b", "c") and ("a", "b-c") can never collide.
        for part in [gallery.as_bytes(), link.as_bytes()] {
            hasher.update(&(part.len() as u64).to_le_bytes());
            hasher.update(part);
        }
        hasher.update(&rotate.to_le_bytes());
        let digest = hasher.finalize();
        BASE32_NOPAD.encode(&digest.as_bytes()[..TOKEN_BYTES]).to_ascii_lowercase()
    }

    fn session_mac(&self, token: &str, session: &Session) -> blake3::Hash {
        let mut hasher = blake3::Hasher::new_keyed(&self.sessions);
        hasher.update(&(token.len() as u64).to_le_bytes());
        hasher.update(token.as_bytes());
        hasher.update(&session.view_number.to_le_bytes());
        hasher.update(&session.issued_at.to_le_bytes());
        hasher.update(&session.expires_at.to_le_bytes());
        hasher.update(&session.epoch.to_le_bytes());
        hasher.update(&session.client.0);
        // Only sessions admitted through a password carry the mark, so every session issued
        // before it existed keeps verifying (as not admitted through one). The fields before
        // are of fixed length: a message with the mark can never equal one without.
        if session.password {
            hasher.update(PASSWORD_MARK.as_bytes());
        }
        hasher.finalize()
    }

    /// A visitor fingerprint for unique counts that changes every day (the salt is the day),
    /// so visitors cannot be followed across days and the raw IP need not be kept.
    pub fn visitor_hash(&self, day: i64, ip: &str, user_agent: &str) -> String {
        let mut hasher = blake3::Hasher::new_keyed(&self.visitors);
        hasher.update(&day.to_le_bytes());
        for part in [ip, user_agent] {
            hasher.update(&(part.len() as u64).to_le_bytes());
            hasher.update(part.as_bytes());
        }
        hasher.finalize().to_hex()[..16].to_string()
    }
}

/// A browser's device id: random, kept in a long-lived cookie the site signs
/// (`<id>.<mac>`), so a link's gate can tell its recipient's devices apart. One per site (the
/// cookie belongs to the site's host, and the id is never sent elsewhere): never a tracking
/// id across sites. The gate only ever sees [`DeviceId::hashed`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DeviceId([u8; 16]);

impl DeviceId {
    /// `__Secure-`: only an HTTPS origin can set it, so nothing on a plain-HTTP path plants one.
    pub const COOKIE: &'static str = "__Secure-gf_device";
    /// 400 days: the longest a browser keeps a cookie (Chrome's cap).
    pub const MAX_AGE_SECONDS: i64 = 400 * 24 * 60 * 60;

    /// A device id from 16 random bytes (the worker's `getRandomValues`).
    pub fn from_random(bytes: [u8; 16]) -> DeviceId {
        DeviceId(bytes)
    }

    fn mac(&self, key: &SigningKey) -> blake3::Hash {
        let mut hasher = blake3::Hasher::new_keyed(&key.devices);
        hasher.update(b"cookie");
        hasher.update(&self.0);
        hasher.finalize()
    }

    /// The cookie's value: the id and its MAC, cookie-safe characters only.
    pub fn encode(&self, key: &SigningKey) -> String {
        format!("{}.{}", data_encoding::HEXLOWER.encode(&self.0), &self.mac(key).to_hex()[..32])
    }

    /// The id of a cookie this site set, or `None` (forged, altered, another key's). The MAC
    /// comparison is constant-time.
    pub fn decode(value: &str, key: &SigningKey) -> Option<DeviceId> {
        let (id, mac) = value.split_once('.')?;
        let bytes = data_encoding::HEXLOWER.decode(id.as_bytes()).ok()?;
        let id = DeviceId(bytes.try_into().ok()?);
        let expected = id.mac(key).to_hex();
        crate::token::secrets_equal(&expected[..32], mac).then_some(id)
    }

    /// What a link's gate stores: the site key's hash of the id (16 hex characters), so its
    /// rows and the admin API never hold the cookie's value.
    pub fn hashed(&self, key: &SigningKey) -> String {
        let mut hasher = blake3::Hasher::new_keyed(&key.devices);
        hasher.update(b"stored");
        hasher.update(&self.0);
        hasher.finalize().to_hex()[..16].to_string()
    }
}

/// Whether a string could be a link token; anything else is `not_found` without a lookup.
pub fn is_token_shaped(s: &str) -> bool {
    s.len() == TOKEN_CHARS && s.bytes().all(|b| matches!(b, b'a'..=b'z' | b'2'..=b'7'))
}

/// The client a session was opened by, as far as it can be told without tracking anyone:
/// browser family and operating system (never the IP, which changes as a phone moves between
/// networks). A copied cookie is only worth something in the same kind of browser on the same
/// kind of system. Kept as a fixed-size digest so no part of the User-Agent goes into the MAC
/// unbounded, and so it never needs to travel in the cookie.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClientBinding([u8; 16]);

impl ClientBinding {
    /// The binding of browser family, OS and the device cookie's id: a session cookie copied
    /// to another device (which has its own device cookie, or none) fails to verify.
    pub fn with_device(self, device: Option<&DeviceId>) -> ClientBinding {
        let Some(device) = device else { return self };
        let mut hasher = blake3::Hasher::new_derive_key("gatefold 2026 session device binding v1");
        hasher.update(&self.0);
        hasher.update(&device.0);
        let mut digest = [0; 16];
        digest.copy_from_slice(&hasher.finalize().as_bytes()[..16]);
        ClientBinding(digest)
    }

    pub fn new(browser_family: &str, os: &str) -> ClientBinding {
        let mut hasher = blake3::Hasher::new_derive_key("gatefold 2026 session client binding v1");
        for part in [browser_family, os] {
            hasher.update(&(part.len() as u64).to_le_bytes());
            hasher.update(part.as_bytes());
        }
        let mut digest = [0; 16];
        digest.copy_from_slice(&hasher.finalize().as_bytes()[..16]);
        ClientBinding(digest)
    }
}

/// A visitor's admitted session for one link, carried in a signed cookie scoped to that
/// link's path.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Session {
    /// The open that created this session (1 = the link's first open).
    pub view_number: u64,
    pub issued_at: i64,
    pub expires_at: i64,
    /// The link's session epoch when the session was opened: an owner's revoke bumps the
    /// link's epoch, and every session of an older epoch is no session from then on.
    pub epoch: u32,
    /// The client that opened it. Not written in the cookie: the MAC covers it, and
    /// [`Session::decode`] takes the presenting client's binding, so a cookie shown by another
    /// client simply fails to verify.
    pub client: ClientBinding,
    /// Admitted through the link's password: a link published with `password: required` after
    /// a session was opened refuses that session unless it was.
    pub password: bool,
}

/// What marks a session admitted through a password, in its cookie and under its MAC.
const PASSWORD_MARK: &str = "pw";

impl Session {
    /// The cookie name. `__Secure-` makes browsers refuse it unless set by an HTTPS origin with
    /// `Secure`, so nothing on a plain-HTTP path can plant or overwrite a session. One cookie
    /// per link path, so sessions for other links never collide.
    pub const COOKIE: &'static str = "__Secure-gf_session";

    /// `<view>.<issued>.<expires>.<epoch>[.pw].<mac>` (`pw`: admitted through the password);
    /// only cookie-safe characters.
    pub fn encode(&self, key: &SigningKey, token: &str) -> String {
        let mac = key.session_mac(token, self);
        let mark = if self.password { format!(".{PASSWORD_MARK}") } else { String::new() };
        format!("{}.{}.{}.{}{mark}.{}", self.view_number, self.issued_at, self.expires_at, self.epoch, mac.to_hex())
    }

    /// Verifies a cookie value for the link `token`, presented by `client`. A cookie issued for
    /// another link or another client, altered in any way, or signed with another key is
    /// rejected. The MAC comparison is constant-time. Expiry and epoch are not checked here:
    /// an expired but authentic session is a different answer (`session_expired`) from a
    /// forged one, and the current epoch lives in the link's runtime state.
    pub fn decode(value: &str, key: &SigningKey, token: &str, client: ClientBinding) -> Option<Session> {
        let mut parts = value.split('.');
        let view_number = parts.next()?.parse().ok()?;
        let issued_at = parts.next()?.parse().ok()?;
        let expires_at = parts.next()?.parse().ok()?;
        let epoch = parts.next()?.parse().ok()?;
        let (password, mac) = match (parts.next()?, parts.next()) {
            (PASSWORD_MARK, Some(mac)) => (true, mac),
            (mac, None) => (false, mac),
            _ => return None,
        };
        let mac = blake3::Hash::from_hex(mac).ok()?;
        if parts.next().is_some() {
            return None;
        }
        let session = Session { view_number, issued_at, expires_at, epoch, client, password };
        // blake3::Hash's PartialEq is constant-time.
        (key.session_mac(token, &session) == mac).then_some(session)
    }
}

/// Compares two secrets (the admin token, say) in time independent of where they differ and
/// of their lengths: both sides are hashed first, and hash equality is constant-time.
pub fn secrets_equal(a: &str, b: &str) -> bool {
    blake3::hash(a.as_bytes()) == blake3::hash(b.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_stable_long_and_url_safe() {
        let key = SigningKey::from_secret("a test secret that is long enough!!");
        let t = key.link_token("spring-launch", "market", 0);
        assert_eq!(t, key.link_token("spring-launch", "market", 0));
        assert_eq!(t.len(), TOKEN_CHARS);
        assert!(is_token_shaped(&t), "{t}");
    }

    #[test]
    fn tokens_differ_by_link_gallery_rotation_and_key() {
        let key = SigningKey::from_secret("secret one, long enough for tests");
        let base = key.link_token("g", "market", 0);
        assert_ne!(base, key.link_token("g", "sales", 0));
        assert_ne!(base, key.link_token("h", "market", 0));
        assert_ne!(base, key.link_token("g", "market", 1));
        assert_ne!(base, SigningKey::from_secret("secret two, long enough for tests").link_token("g", "market", 0));
        assert_ne!(key.link_token("a-b", "c", 0), key.link_token("a", "b-c", 0));
    }

    #[test]
    fn a_fingerprint_names_its_key_and_nothing_else() {
        let key = SigningKey::from_secret("a test secret that is long enough!!");
        assert_eq!(key.fingerprint(), SigningKey::from_secret("a test secret that is long enough!!").fingerprint());
        assert_eq!(key.fingerprint().len(), 32);
        assert_ne!(key.fingerprint(), SigningKey::from_secret("another secret, long enough too!!").fingerprint());
        assert_ne!(key.fingerprint(), SigningKey::dev().fingerprint());
        // Not the token key, the session key or the visitor key, nor the secret's plain hash.
        let secret = "a test secret that is long enough!!";
        for other in [key.tokens, key.sessions, key.visitors, *blake3::hash(secret.as_bytes()).as_bytes()] {
            assert!(!data_encoding::HEXLOWER.encode(&other).contains(&key.fingerprint()));
        }
    }

    #[test]
    fn a_device_cookie_verifies_under_its_key_only_and_binds_sessions_to_its_device() {
        let key = SigningKey::from_secret("a test secret that is long enough!!");
        let id = DeviceId::from_random([7; 16]);
        let value = id.encode(&key);
        assert_eq!(DeviceId::decode(&value, &key), Some(id));
        assert_eq!(DeviceId::decode(&value, &SigningKey::dev()), None);
        let mut forged = value.clone();
        forged.replace_range(0..1, "1");
        assert_eq!(DeviceId::decode(&forged, &key), None);
        assert_eq!(DeviceId::decode("junk", &key), None);
        assert_eq!(id.hashed(&key).len(), 16);
        assert!(!value.contains(&id.hashed(&key)));
        let client = ClientBinding::new("Chrome", "macOS");
        let other = DeviceId::from_random([8; 16]);
        assert_ne!(client.with_device(Some(&id)), client.with_device(Some(&other)));
        assert_ne!(client.with_device(Some(&id)), client);
        assert_eq!(client.with_device(None), client);
    }

    #[test]
    fn only_token_shaped_strings_pass_the_shape_check() {
        assert!(!is_token_shaped(""));
        assert!(!is_token_shaped("../../_gatefold/manifest.js"));
        assert!(!is_token_shaped(&"A".repeat(TOKEN_CHARS)));
        assert!(!is_token_shaped(&"a".repeat(TOKEN_CHARS + 1)));
    }

    fn chrome_on_windows() -> ClientBinding {
        ClientBinding::new("Chrome", "Windows 10")
    }

    fn session() -> Session {
        Session { view_number: 7, issued_at: 100, expires_at: 160, epoch: 2, client: chrome_on_windows(), password: false }
    }

    #[test]
    fn whether_a_session_came_through_the_password_is_signed_with_it() {
        let key = SigningKey::dev();
        let unlocked = Session { password: true, ..session() };
        let cookie = unlocked.encode(&key, "t");
        assert!(cookie.contains(".2.pw."), "{cookie}");
        assert_eq!(Session::decode(&cookie, &key, "t", chrome_on_windows()), Some(unlocked));
        let plain = session().encode(&key, "t");
        assert_eq!(Session::decode(&plain, &key, "t", chrome_on_windows()), Some(session()), "a session without the mark reads as not unlocked");
        let forged = plain.replacen(".2.", ".2.pw.", 1);
        assert_eq!(Session::decode(&forged, &key, "t", chrome_on_windows()), None, "the mark cannot be added to a session");
        let stripped = cookie.replacen(".pw.", ".", 1);
        assert_eq!(Session::decode(&stripped, &key, "t", chrome_on_windows()), None, "nor taken off one");
        assert_eq!(Session::decode(&cookie.replacen(".pw.", ".px.", 1), &key, "t", chrome_on_windows()), None);
    }

    #[test]
    fn a_session_round_trips_for_its_own_link_only() {
        let key = SigningKey::dev();
        let cookie = session().encode(&key, "tokena");
        assert_eq!(Session::decode(&cookie, &key, "tokena", chrome_on_windows()), Some(session()));
        assert_eq!(Session::decode(&cookie, &key, "tokenb", chrome_on_windows()), None, "cookie from another link");
        assert_eq!(Session::decode(&cookie, &SigningKey::from_secret("other"), "tokena", chrome_on_windows()), None, "other key");
    }

    #[test]
    fn a_session_is_no_session_in_another_browser_or_system() {
        let key = SigningKey::dev();
        let cookie = session().encode(&key, "t");
        for other in [ClientBinding::new("Firefox", "Windows 10"), ClientBinding::new("Chrome", "Mac OSX"), ClientBinding::new("Chrome", "")] {
            assert_eq!(Session::decode(&cookie, &key, "t", other), None, "{other:?}");
        }
        assert_ne!(ClientBinding::new("ab", "c"), ClientBinding::new("a", "bc"), "parts cannot slide into each other");
    }

    #[test]
    fn the_epoch_is_signed_with_the_session() {
        let key = SigningKey::dev();
        let cookie = session().encode(&key, "t");
        assert!(cookie.contains(".160.2."), "{cookie}");
        let bumped = cookie.replacen(".160.2.", ".160.3.", 1);
        assert_eq!(Session::decode(&bumped, &key, "t", chrome_on_windows()), None, "an epoch cannot be rewritten to the current one");
    }

    #[test]
    fn altered_sessions_are_rejected() {
        let key = SigningKey::dev();
        let cookie = session().encode(&key, "t");
        let decode = |v: &str| Session::decode(v, &key, "t", chrome_on_windows());
        assert_eq!(decode(&cookie.replacen(".160.", ".999999.", 1)), None);
        let mut flipped = cookie.clone();
        let last = flipped.pop().unwrap();
        flipped.push(if last == '0' { '1' } else { '0' });
        assert_eq!(decode(&flipped), None);
        assert_eq!(decode(&format!("{cookie}.x")), None);
        assert_eq!(decode("garbage"), None);
        let without_epoch = format!("7.100.160.{}", cookie.rsplit('.').next().unwrap());
        assert_eq!(decode(&without_epoch), None, "a cookie in the old format");
    }

    #[test]
    fn visitor_hashes_change_daily() {
        let key = SigningKey::dev();
        let a = key.visitor_hash(20_000, "203.0.113.9", "UA");
        assert_eq!(a, key.visitor_hash(20_000, "203.0.113.9", "UA"));
        assert_ne!(a, key.visitor_hash(20_001, "203.0.113.9", "UA"));
        assert_ne!(a, key.visitor_hash(20_000, "203.0.113.10", "UA"));
    }

    #[test]
    fn secrets_compare_by_content() {
        assert!(secrets_equal("abc", "abc"));
        assert!(!secrets_equal("abc", "abd"));
        assert!(!secrets_equal("abc", "abcd"));
    }
}
