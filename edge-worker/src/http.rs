//! Small pure pieces of HTTP the handlers share: cookies, content negotiation, fixed headers.

/// The Content-Security-Policy every HTML response carries: the pages need nothing from
/// anywhere else, so nothing from anywhere else may load.
pub const CSP: &str = "default-src 'none'; img-src 'self' data:; style-src 'self'; script-src 'self'; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

/// Sessions are kept this long past their end so that an authentic but ended session is
/// recognised (and answered `session_expired`) instead of silently counting a new open.
pub const COOKIE_GRACE_SECONDS: i64 = 30 * 24 * 60 * 60;

/// The value of cookie `name` in a `Cookie` header. Later duplicates are ignored: the browser
/// sends the most specific path first.
pub fn cookie<'a>(header: Option<&'a str>, name: &str) -> Option<&'a str> {
    header?.split(';').find_map(|pair| {
        let (k, v) = pair.split_once('=')?;
        (k.trim() == name).then(|| v.trim().trim_matches('"'))
    })
}

/// Whether the client asked for JSON (API clients, the page's own scripts) rather than HTML.
pub fn wants_json(accept: Option<&str>) -> bool {
    accept.is_some_and(|a| {
        a.split(',').any(|part| {
            let mut pieces = part.split(';');
            let media = pieces.next().unwrap_or("").trim();
            let refused = pieces.any(|p| matches!(p.trim().strip_prefix("q="), Some(q) if q.trim().parse::<f32>().is_ok_and(|q| q <= 0.0)));
            media.eq_ignore_ascii_case("application/json") && !refused
        })
    })
}

/// `Set-Cookie` for a session scoped to one link's paths.
pub fn session_cookie(name: &str, value: &str, token: &str, max_age: i64) -> String {
    format!("{name}={value}; Path=/s/{token}; Max-Age={max_age}; HttpOnly; Secure; SameSite=Lax")
}

/// `filename*` parameter value (RFC 5987/6266): UTF-8, percent-encoded, so Chinese file names
/// survive and nothing in a name can break out of the header.
pub fn attachment_disposition(file_name: &str) -> String {
    let mut encoded = String::with_capacity(file_name.len() * 3);
    for b in file_name.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'_' | b'~') {
            encoded.push(b as char);
        } else {
            encoded.push_str(&format!("%{b:02X}"));
        }
    }
    format!("attachment; filename*=UTF-8''{encoded}")
}

/// A single byte range from a `Range` header, resolved against the object size.
/// `Ok(None)`: no (usable) range, send everything; `Err(())`: unsatisfiable (416).
pub fn byte_range(header: Option<&str>, size: u64) -> Result<Option<(u64, u64)>, ()> {
    let Some(spec) = header.and_then(|h| h.trim().strip_prefix("bytes=")) else { return Ok(None) };
    // Several ranges would need a multipart answer: sending the whole file is allowed instead.
    if spec.contains(',') {
        return Ok(None);
    }
    let Some((start, end)) = spec.trim().split_once('-') else { return Ok(None) };
    let (start, end) = (start.trim(), end.trim());
    let range = if start.is_empty() {
        let Ok(suffix) = end.parse::<u64>() else { return Ok(None) };
        if suffix == 0 || size == 0 {
            return Err(());
        }
        (size.saturating_sub(suffix), size - 1)
    } else {
        let Ok(first) = start.parse::<u64>() else { return Ok(None) };
        if first >= size {
            return Err(());
        }
        let last = if end.is_empty() { size - 1 } else {
            let Ok(last) = end.parse::<u64>() else { return Ok(None) };
            if last < first {
                return Ok(None);
            }
            last.min(size - 1)
        };
        (first, last)
    };
    Ok(Some(range))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cookies_are_found_by_exact_name() {
        let h = Some("theme=dark; gf_session=1.2.3.abc; other=x");
        assert_eq!(cookie(h, "gf_session"), Some("1.2.3.abc"));
        assert_eq!(cookie(Some("xgf_session=evil; gf_session=good"), "gf_session"), Some("good"));
        assert_eq!(cookie(Some("gf_session=first; gf_session=second"), "gf_session"), Some("first"));
        assert_eq!(cookie(Some("gf_session"), "gf_session"), None);
        assert_eq!(cookie(None, "gf_session"), None);
    }

    #[test]
    fn json_is_chosen_only_when_asked_for() {
        assert!(wants_json(Some("application/json")));
        assert!(wants_json(Some("text/html;q=0.9, application/json")));
        assert!(!wants_json(Some("text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8")));
        assert!(!wants_json(Some("application/json;q=0")));
        assert!(!wants_json(Some("application/jsonp")));
        assert!(!wants_json(None));
    }

    #[test]
    fn session_cookies_are_scoped_and_locked_down() {
        let c = session_cookie("gf_session", "v", "tok", 60);
        for part in ["gf_session=v", "Path=/s/tok", "Max-Age=60", "HttpOnly", "Secure", "SameSite=Lax"] {
            assert!(c.contains(part), "{c} lacks {part}");
        }
    }

    #[test]
    fn download_names_are_percent_encoded() {
        assert_eq!(attachment_disposition("hero.jpg"), "attachment; filename*=UTF-8''hero.jpg");
        assert_eq!(attachment_disposition("新车 1.jpg"), "attachment; filename*=UTF-8''%E6%96%B0%E8%BD%A6%201.jpg");
        assert_eq!(attachment_disposition("a\";\r\nx.jpg"), "attachment; filename*=UTF-8''a%22%3B%0D%0Ax.jpg");
    }

    #[test]
    fn byte_ranges_resolve_against_the_size() {
        assert_eq!(byte_range(None, 100), Ok(None));
        assert_eq!(byte_range(Some("bytes=0-9"), 100), Ok(Some((0, 9))));
        assert_eq!(byte_range(Some("bytes=90-"), 100), Ok(Some((90, 99))));
        assert_eq!(byte_range(Some("bytes=-10"), 100), Ok(Some((90, 99))));
        assert_eq!(byte_range(Some("bytes=50-500"), 100), Ok(Some((50, 99))));
        assert_eq!(byte_range(Some("bytes=100-"), 100), Err(()));
        assert_eq!(byte_range(Some("bytes=0-1,5-6"), 100), Ok(None));
        assert_eq!(byte_range(Some("items=0-1"), 100), Ok(None));
        assert_eq!(byte_range(Some("bytes=9-3"), 100), Ok(None));
    }
}
