use super::*;

const TEAM: &str = "acme.cloudflareaccess.com";
const AUD: &str = "4714c1358e65fe4b408ad6d432a5f878f08194bdb4752441fd56faefa9b2b6f2";

fn cfg() -> AccessConfig {
    config(Some(TEAM), Some(AUD), None, false).unwrap().unwrap()
}

fn b64(json: &serde_json::Value) -> String {
    BASE64URL_NOPAD.encode(json.to_string().as_bytes())
}

fn jwt(header: serde_json::Value, claims: serde_json::Value) -> String {
    format!("{}.{}.{}", b64(&header), b64(&claims), BASE64URL_NOPAD.encode(b"signature bytes"))
}

fn claims(now: f64) -> serde_json::Value {
    serde_json::json!({"aud": [AUD], "email": "owner@example.com", "exp": now + 600.0, "iat": now, "nbf": now, "iss": format!("https://{TEAM}"), "sub": "x"})
}

#[test]
fn access_is_off_without_its_variables_and_refused_when_half_set() {
    assert_eq!(config(None, None, None, false), Ok(None));
    assert_eq!(config(Some(" "), Some(""), None, false), Ok(None));
    assert!(config(Some(TEAM), None, None, false).unwrap_err().contains("ACCESS_AUD"));
    assert!(config(None, Some(AUD), None, false).unwrap_err().contains("ACCESS_TEAM_DOMAIN"));
    assert!(config(Some("acme cloudflareaccess"), Some(AUD), None, false).unwrap_err().contains("host name"));
}

#[test]
fn the_keys_come_from_the_team_unless_a_local_run_names_a_stand_in() {
    let c = config(Some("https://Acme.cloudflareaccess.com/"), Some(AUD), None, false).unwrap().unwrap();
    assert_eq!(c.team, TEAM);
    assert_eq!(c.issuer(), "https://acme.cloudflareaccess.com");
    assert_eq!(c.jwks_url, "https://acme.cloudflareaccess.com/cdn-cgi/access/certs");
    let stand_in = Some("http://127.0.0.1:9999/certs");
    assert!(config(Some(TEAM), Some(AUD), stand_in, false).unwrap_err().contains("GATEFOLD_DEV=1"));
    assert_eq!(config(Some(TEAM), Some(AUD), stand_in, true).unwrap().unwrap().jwks_url, "http://127.0.0.1:9999/certs");
    let own = Some("https://acme.cloudflareaccess.com/cdn-cgi/access/certs");
    assert!(config(Some(TEAM), Some(AUD), own, false).is_ok(), "naming the team's own address is fine anywhere");
}

#[test]
fn a_person_s_assertion_names_its_email() {
    let now = 1_800_000_000.0;
    let a = parse(&jwt(serde_json::json!({"alg": "RS256", "kid": "k1", "typ": "JWT"}), claims(now))).unwrap();
    assert_eq!(a.kid, "k1");
    assert_eq!(a.signature, b"signature bytes");
    assert!(a.signed.starts_with(b"eyJ") && a.signed.iter().filter(|b| **b == b'.').count() == 1);
    assert_eq!(check_claims(&a.claims, &cfg(), now), Ok("owner@example.com".into()));
    let single_aud = serde_json::json!({"aud": AUD, "email": "o@example.com", "exp": now + 1.0, "iss": format!("https://{TEAM}")});
    assert!(check_claims(&parse(&jwt(serde_json::json!({"alg": "RS256", "kid": "k1"}), single_aud)).unwrap().claims, &cfg(), now).is_ok());
}

#[test]
fn anything_but_rs256_with_a_key_id_is_refused_before_a_key_is_looked_at() {
    let now = 1_800_000_000.0;
    for alg in ["none", "HS256", "RS512", "ES256", "rs256"] {
        let e = parse(&jwt(serde_json::json!({"alg": alg, "kid": "k1"}), claims(now))).unwrap_err();
        assert!(e.contains("only RS256"), "{alg}: {e}");
    }
    let unsigned = format!("{}.{}.", b64(&serde_json::json!({"alg": "RS256", "kid": "k1"})), b64(&claims(now)));
    assert!(parse(&unsigned).unwrap_err().contains("not signed"));
    assert!(parse(&jwt(serde_json::json!({"alg": "RS256"}), claims(now))).unwrap_err().contains("kid"));
    assert!(parse("a.b").unwrap_err().contains("three"));
    assert!(parse("@@@.b.c").unwrap_err().contains("base64url"));
    assert!(parse(&"a".repeat(9000)).unwrap_err().contains("longer"));
}

#[test]
fn expired_foreign_or_anonymous_assertions_are_refused() {
    let now = 1_800_000_000.0;
    let refuse = |edit: &dyn Fn(&mut serde_json::Value)| {
        let mut c = claims(now);
        edit(&mut c);
        let a = parse(&jwt(serde_json::json!({"alg": "RS256", "kid": "k1"}), c)).unwrap();
        check_claims(&a.claims, &cfg(), now).unwrap_err()
    };
    assert!(refuse(&|c| c["exp"] = (now - 1.0).into()).contains("expired"));
    assert!(refuse(&|c| c["exp"] = now.into()).contains("expired"), "an assertion expiring now has expired");
    assert!(refuse(&|c| { c.as_object_mut().unwrap().remove("exp"); }).contains("no expiry"));
    assert!(refuse(&|c| c["aud"] = serde_json::json!(["another-app"])).contains("aud"));
    assert!(refuse(&|c| { c.as_object_mut().unwrap().remove("aud"); }).contains("aud"));
    assert!(refuse(&|c| c["iss"] = "https://evil.cloudflareaccess.com".into()).contains("another team"));
    assert!(refuse(&|c| c["nbf"] = (now + 3600.0).into()).contains("not valid yet"));
    assert!(refuse(&|c| { c.as_object_mut().unwrap().remove("email"); }).contains("service token"));
    assert!(refuse(&|c| c["email"] = "".into()).contains("no person"));
}

#[test]
fn only_the_named_rsa_signing_key_is_used() {
    let set: Jwks = serde_json::from_value(serde_json::json!({"keys": [
        {"kid": "k1", "kty": "RSA", "alg": "RS256", "use": "sig", "n": "n1", "e": "AQAB"},
        {"kid": "k2", "kty": "RSA", "n": "n2", "e": "AQAB"},
        {"kid": "k3", "kty": "EC", "crv": "P-256", "x": "x", "y": "y"},
        {"kid": "k4", "kty": "RSA", "alg": "RS512", "n": "n4", "e": "AQAB"},
        {"kid": "k5", "kty": "RSA", "use": "enc", "n": "n5", "e": "AQAB"},
    ], "public_cert": {"kid": "k1", "cert": "..."}})).unwrap();
    assert_eq!(set.rsa_key("k1"), Some(("n1", "AQAB")));
    assert_eq!(set.rsa_key("k2"), Some(("n2", "AQAB")));
    for unusable in ["k3", "k4", "k5", "k9", ""] {
        assert_eq!(set.rsa_key(unusable), None, "{unusable}");
    }
}
