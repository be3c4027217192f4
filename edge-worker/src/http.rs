//! Small pure pieces of HTTP the handlers share: cookies, content negotiation, fetch
//! metadata, the security headers, and log-safe paths.

/// The security headers, defined here and nowhere else: every page, gated file and admin
/// response takes its set from this module.
pub mod headers {
    use worker::{Headers, Result};

    /// A CSP whose only variable part is where forms may post.
    macro_rules! csp {
        ($form_action:literal) => {
            concat!(
                "default-src 'none'; img-src 'self' data:; style-src 'self'; script-src 'self'; connect-src 'self'; base-uri 'none'; form-action ",
                $form_action,
                "; frame-ancestors 'none'"
            )
        };
    }

    /// The Content-Security-Policy of every HTML page but one: the pages need nothing from
    /// anywhere else, so nothing from anywhere else may load, and no form may post anywhere.
    pub const CSP: &str = csp!("'none'");

    /// The interstitial's policy: the same, except that its one form ("View gallery") may
    /// post back to this origin.
    pub const INTERSTITIAL_CSP: &str = csp!("'self'");

    /// What a page's headers say beyond its content type.
    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    pub struct PageSecurity {
        pub csp: &'static str,
        pub referrer_policy: &'static str,
    }

    /// Gallery, denial and admin pages: no Referer ever leaves them (their URL holds a token).
    pub const PAGE: PageSecurity = PageSecurity { csp: CSP, referrer_policy: "no-referrer" };

    /// The interstitial: under `no-referrer` a browser sends `Origin: null` with the form's
    /// POST, and a browser without fetch metadata would then have no way to prove the POST is
    /// same-origin. `same-origin` keeps the Referer inside this site, where it came from.
    pub const INTERSTITIAL: PageSecurity = PageSecurity { csp: INTERSTITIAL_CSP, referrer_policy: "same-origin" };

    /// The password page of a link with `password: required`: its form posts the password back
    /// to the link's own path, proven same-origin exactly as the interstitial's button is, so
    /// it needs exactly the interstitial's policy (`form-action 'self'`, `same-origin`).
    pub const PASSWORD: PageSecurity = INTERSTITIAL;

    /// A denial page whose slot the worker filled (the "Request access" form, or the request's
    /// state linking back to the link): its form posts to the link's own `/request` path,
    /// proven same-origin like the interstitial's, so it takes the interstitial's policy too.
    pub const FILLED_DENIAL: PageSecurity = INTERSTITIAL;

    /// The headers of an HTML page (`text/html` plus [`locked_down`]).
    pub fn html_page(h: &Headers, page: PageSecurity) -> Result<()> {
        h.set("Content-Type", "text/html; charset=utf-8")?;
        locked_down(h, page)
    }

    /// Everything but the content type, for any document or file of a page (the admin page's
    /// script and style too).
    pub fn locked_down(h: &Headers, page: PageSecurity) -> Result<()> {
        set_all(h, &page_fields(page))
    }

    /// Headers of anything gated: never stored by a shared cache, never sniffed.
    pub fn gated(h: &Headers) -> Result<()> {
        set_all(h, &GATED)
    }

    pub fn page_fields(page: PageSecurity) -> [(&'static str, &'static str); 5] {
        [
            ("Content-Security-Policy", page.csp),
            ("Referrer-Policy", page.referrer_policy),
            ("X-Robots-Tag", "noindex, nofollow"),
            ("X-Content-Type-Options", "nosniff"),
            ("X-Frame-Options", "DENY"),
        ]
    }

    pub const GATED: [(&str, &str); 3] = [
        ("Cache-Control", "private, no-store"),
        ("X-Content-Type-Options", "nosniff"),
        ("Vary", "Accept-Language, Accept, Cookie"),
    ];

    /// Owner-only answers (admin page files, API JSON, exports): never stored anywhere, never
    /// read by another site's page (a browser signed in by Access sends its cookie along).
    pub const OWNER: [(&str, &str); 3] = [("Cache-Control", "no-store"), ("X-Content-Type-Options", "nosniff"), ("Cross-Origin-Resource-Policy", "same-origin")];

    /// Public, content-hashed theme files: cacheable for good, never sniffed.
    pub const PUBLIC_IMMUTABLE: [(&str, &str); 2] =
        [("Cache-Control", "public, max-age=31536000, immutable"), ("X-Content-Type-Options", "nosniff")];

    pub fn owner(h: &Headers) -> Result<()> {
        set_all(h, &OWNER)
    }

    pub fn public_immutable(h: &Headers) -> Result<()> {
        set_all(h, &PUBLIC_IMMUTABLE)
    }

    fn set_all(h: &Headers, fields: &[(&str, &str)]) -> Result<()> {
        fields.iter().try_for_each(|(name, value)| h.set(name, value))
    }

    #[cfg(test)]
    mod tests {
        use super::*;

        #[test]
        fn only_the_interstitial_and_password_page_may_post_a_form_and_only_here() {
            assert!(CSP.contains("form-action 'none'") && !CSP.contains("'self'; frame"));
            assert!(INTERSTITIAL_CSP.contains("form-action 'self'"));
            assert_eq!(CSP.replace("form-action 'none'", "form-action 'self'"), INTERSTITIAL_CSP);
            assert_eq!(PASSWORD.csp, INTERSTITIAL_CSP, "the password form posts to this origin only");
            for page in [PAGE, INTERSTITIAL, PASSWORD] {
                let fields = page_fields(page);
                assert!(fields.contains(&("X-Frame-Options", "DENY")) && fields.iter().any(|(_, v)| v.contains("frame-ancestors 'none'")));
            }
            assert!(GATED.contains(&("Cache-Control", "private, no-store")));
        }
    }
}

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

/// What a request to a link's page is, as the browser's fetch metadata tells it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FetchIntent {
    /// A person's top-level navigation (`Sec-Fetch-Mode: navigate`, `Sec-Fetch-Dest:
    /// document`), not marked as a prefetch: the only GET that may count an open.
    Navigation,
    /// Anything else: no fetch metadata at all (mail gateways, link checkers, curl, unfurlers,
    /// browsers too old to send it), scripts, frames, and every prefetch or prerender.
    Other,
}

/// Classifies a request by its fetch metadata; `header` looks a request header up by name.
/// Browsers set `Sec-Fetch-*` themselves (scripts cannot), so a page cannot fake a navigation;
/// a non-browser can, but then it pretends to be the person and gets the person's answer.
pub fn fetch_intent(header: impl Fn(&str) -> Option<String>) -> FetchIntent {
    let is = |name: &str, value: &str| header(name).is_some_and(|v| v.trim().eq_ignore_ascii_case(value));
    // Chromium: `Sec-Purpose: prefetch` (`prefetch;prerender` for prerenders); Firefox and
    // older Chromium: `Purpose: prefetch` or `X-Moz: prefetch`; Safari's Top Sites:
    // `X-Purpose: preview`.
    let marked = |name: &str, word: &str| header(name).is_some_and(|v| v.to_ascii_lowercase().contains(word));
    let prefetch = marked("Sec-Purpose", "prefetch")
        || marked("Purpose", "prefetch")
        || marked("X-Moz", "prefetch")
        || marked("X-Purpose", "preview");
    if is("Sec-Fetch-Mode", "navigate") && is("Sec-Fetch-Dest", "document") && !prefetch {
        FetchIntent::Navigation
    } else {
        FetchIntent::Other
    }
}

/// Whether a POST comes from a page of this origin: `Sec-Fetch-Site: same-origin` from
/// browsers that send fetch metadata, else an `Origin` equal to the request's own origin.
/// Neither (or `Origin: null`) is refused: a form on another site, or a scanner replaying it.
pub fn same_origin(origin: Option<&str>, sec_fetch_site: Option<&str>, request_origin: &str) -> bool {
    if let Some(site) = sec_fetch_site {
        return site.trim().eq_ignore_ascii_case("same-origin");
    }
    origin.is_some_and(|o| o.trim().eq_ignore_ascii_case(request_origin))
}

/// A request path fit for the worker's log: the link token (a bearer secret) replaced.
pub fn redact_token(path: &str) -> String {
    let Some(rest) = path.strip_prefix("/s/") else { return path.to_string() };
    match rest.split_once('/') {
        Some((_, tail)) => format!("/s/<redacted>/{tail}"),
        None => "/s/<redacted>".to_string(),
    }
}

/// `Set-Cookie` for a session scoped to one link's paths.
pub fn session_cookie(name: &str, value: &str, token: &str, max_age: i64) -> String {
    format!("{name}={value}; Path=/s/{token}; Max-Age={max_age}; HttpOnly; Secure; SameSite=Lax")
}

/// `filename*` parameter value (RFC 5987/6266): UTF-8, percent-encoded, so Chinese file names
/// survive and nothing in a name can break out of the header.
pub fn attachment_disposition(file_name: &str) -> String {
    format!("attachment; filename*=UTF-8''{}", percent_encoding::utf8_percent_encode(file_name, gatefold_contract::URL_UNRESERVED))
}

/// A request body larger than its cap: answered 413 without reading the rest.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TooLarge;

/// The part of a body read so far, refusing to grow past its cap. Kept apart from the stream
/// so the rule is tested natively.
#[derive(Debug)]
pub struct CappedBody {
    cap: usize,
    bytes: Vec<u8>,
}

impl CappedBody {
    /// `declared`: the request's `Content-Length`, if any; a body declared over the cap is
    /// refused before a byte is read.
    pub fn new(cap: usize, declared: Option<&str>) -> Result<CappedBody, TooLarge> {
        match declared.and_then(|n| n.trim().parse::<u64>().ok()) {
            Some(n) if n > cap as u64 => Err(TooLarge),
            _ => Ok(CappedBody { cap, bytes: Vec::new() }),
        }
    }

    /// Takes the next chunk, or refuses once the body would pass the cap.
    pub fn push(&mut self, chunk: &[u8]) -> Result<(), TooLarge> {
        if self.bytes.len() + chunk.len() > self.cap {
            return Err(TooLarge);
        }
        self.bytes.extend_from_slice(chunk);
        Ok(())
    }

    pub fn into_bytes(self) -> Vec<u8> {
        self.bytes
    }
}

/// The body of `req`, read while it streams and refused ([`TooLarge`]) as soon as it passes
/// `cap` bytes, whatever the request declares (a chunked body declares nothing): memory stays
/// at the cap plus one chunk. Every handler that reads a body reads it through here.
pub async fn read_body(req: &mut worker::Request, cap: usize) -> worker::Result<Result<Vec<u8>, TooLarge>> {
    use futures_util::StreamExt;
    let declared = req.headers().get("Content-Length")?;
    let mut body = match CappedBody::new(cap, declared.as_deref()) {
        Ok(body) => body,
        Err(too_large) => return Ok(Err(too_large)),
    };
    // A request without a body (a bodiless POST) has no stream to read.
    if req.inner().body().is_none() {
        return Ok(Ok(Vec::new()));
    }
    let mut stream = req.stream()?;
    while let Some(chunk) = stream.next().await {
        if body.push(&chunk?).is_err() {
            return Ok(Err(TooLarge));
        }
    }
    Ok(Ok(body.into_bytes()))
}

/// The body of a response the worker fetched, read through the same cap as [`read_body`].
pub async fn read_response(resp: &mut worker::Response, cap: usize) -> worker::Result<Result<Vec<u8>, TooLarge>> {
    use futures_util::StreamExt;
    let declared = resp.headers().get("Content-Length")?;
    let mut body = match CappedBody::new(cap, declared.as_deref()) {
        Ok(body) => body,
        Err(too_large) => return Ok(Err(too_large)),
    };
    let mut stream = resp.stream()?;
    while let Some(chunk) = stream.next().await {
        if body.push(&chunk?).is_err() {
            return Ok(Err(TooLarge));
        }
    }
    Ok(Ok(body.into_bytes()))
}

/// [`read_body`] as UTF-8 text parsed into `T` (with serde_json: JavaScript's JSON.parse would
/// turn 64-bit integers into lossy floats). `Err` says why in words, without quoting the body.
pub async fn read_json<T: serde::de::DeserializeOwned>(req: &mut worker::Request, cap: usize) -> worker::Result<Result<T, String>> {
    Ok(match read_body(req, cap).await? {
        Ok(bytes) => serde_json::from_slice(&bytes).map_err(|e| e.to_string()),
        Err(TooLarge) => Err(format!("the body is over {cap} bytes")),
    })
}

/// A `Range` no byte of the object satisfies: answered 416.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Unsatisfiable;

/// A single byte range from a `Range` header, resolved against the object size.
/// `Ok(None)`: no (usable) range, send everything; `Err(Unsatisfiable)`: 416.
pub fn byte_range(header: Option<&str>, size: u64) -> Result<Option<(u64, u64)>, Unsatisfiable> {
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
            return Err(Unsatisfiable);
        }
        (size.saturating_sub(suffix), size - 1)
    } else {
        let Ok(first) = start.parse::<u64>() else { return Ok(None) };
        if first >= size {
            return Err(Unsatisfiable);
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

    fn headers<'a>(pairs: &'a [(&'a str, &'a str)]) -> impl Fn(&str) -> Option<String> + 'a {
        move |name| pairs.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.to_string())
    }

    #[test]
    fn only_a_top_level_navigation_that_is_no_prefetch_is_a_navigation() {
        let nav = [("Sec-Fetch-Mode", "navigate"), ("Sec-Fetch-Dest", "document")];
        assert_eq!(fetch_intent(headers(&nav)), FetchIntent::Navigation);
        let table: [(&str, &[(&str, &str)]); 9] = [
            ("no fetch metadata (curl, mail gateways)", &[("User-Agent", "curl/8.5.0")]),
            ("script fetch", &[("Sec-Fetch-Mode", "cors"), ("Sec-Fetch-Dest", "empty")]),
            ("frame", &[("Sec-Fetch-Mode", "navigate"), ("Sec-Fetch-Dest", "iframe")]),
            ("mode only", &[("Sec-Fetch-Mode", "navigate")]),
            ("Chromium prefetch", &[("Sec-Fetch-Mode", "navigate"), ("Sec-Fetch-Dest", "document"), ("Sec-Purpose", "prefetch")]),
            ("Chromium prerender", &[("Sec-Fetch-Mode", "navigate"), ("Sec-Fetch-Dest", "document"), ("Sec-Purpose", "prefetch;prerender")]),
            ("Purpose header", &[("Sec-Fetch-Mode", "navigate"), ("Sec-Fetch-Dest", "document"), ("Purpose", "prefetch")]),
            ("Firefox X-Moz", &[("Sec-Fetch-Mode", "navigate"), ("Sec-Fetch-Dest", "document"), ("X-Moz", "prefetch")]),
            ("Safari Top Sites", &[("Sec-Fetch-Mode", "navigate"), ("Sec-Fetch-Dest", "document"), ("X-Purpose", "preview")]),
        ];
        for (name, h) in table {
            assert_eq!(fetch_intent(headers(h)), FetchIntent::Other, "{name}");
        }
    }

    #[test]
    fn only_posts_from_this_origin_are_same_origin() {
        let me = "https://gallery.example";
        assert!(same_origin(None, Some("same-origin"), me));
        assert!(same_origin(Some("https://gallery.example"), None, me));
        assert!(!same_origin(Some("https://gallery.example"), Some("cross-site"), me), "fetch metadata wins over a forged Origin");
        assert!(!same_origin(Some("https://evil.example"), None, me));
        assert!(!same_origin(Some("null"), None, me));
        assert!(!same_origin(None, None, me));
        assert!(!same_origin(None, Some("same-site"), me));
        assert!(!same_origin(None, Some("none"), me));
    }

    #[test]
    fn logged_paths_carry_no_token() {
        assert_eq!(redact_token("/s/abcdefghijklmnopqrstuvwxyz"), "/s/<redacted>");
        assert_eq!(redact_token("/s/abcdefghijklmnopqrstuvwxyz/i/hero-640.webp"), "/s/<redacted>/i/hero-640.webp");
        assert_eq!(redact_token("/admin/api/links"), "/admin/api/links");
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
    fn a_body_is_refused_once_it_passes_its_cap_declared_or_not() {
        assert_eq!(CappedBody::new(10, Some("11")).unwrap_err(), TooLarge, "declared too large: refused unread");
        let mut chunked = CappedBody::new(10, None).unwrap();
        assert_eq!(chunked.push(b"12345"), Ok(()));
        assert_eq!(chunked.push(b"67890"), Ok(()));
        assert_eq!(chunked.push(b"x"), Err(TooLarge), "one byte past the cap, whatever was declared");
        let mut lying = CappedBody::new(10, Some("3")).unwrap();
        assert_eq!(lying.push(&[0; 11]), Err(TooLarge), "a body longer than it declared is still capped");
        let mut fine = CappedBody::new(10, Some("not a number")).unwrap();
        fine.push(b"ok").unwrap();
        assert_eq!(fine.into_bytes(), b"ok");
    }

    #[test]
    fn byte_ranges_resolve_against_the_size() {
        assert_eq!(byte_range(None, 100), Ok(None));
        assert_eq!(byte_range(Some("bytes=0-9"), 100), Ok(Some((0, 9))));
        assert_eq!(byte_range(Some("bytes=90-"), 100), Ok(Some((90, 99))));
        assert_eq!(byte_range(Some("bytes=-10"), 100), Ok(Some((90, 99))));
        assert_eq!(byte_range(Some("bytes=50-500"), 100), Ok(Some((50, 99))));
        assert_eq!(byte_range(Some("bytes=100-"), 100), Err(Unsatisfiable));
        assert_eq!(byte_range(Some("bytes=0-1,5-6"), 100), Ok(None));
        assert_eq!(byte_range(Some("items=0-1"), 100), Ok(None));
        assert_eq!(byte_range(Some("bytes=9-3"), 100), Ok(None));
    }
}
