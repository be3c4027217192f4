//! Device type, OS and browser family from a User-Agent, for the access log, its exports, the
//! admin page and a session's client binding.
//!
//! A small table of substring tests instead of a regex-driven parser: every visitor's isolate
//! loads this code, and a full parser's regex engine and tables were a fifth of the worker's wasm.
//! The labels are the ones the log has always used (woothee's names: `Windows 10`, `Mac OSX`,
//! `iPhone`, `Webview`, `Google Search App`…), so old and new rows and existing sessions agree.
//! Whether a request is a link-preview bot is `crate::bots`' decision, not this one's.

/// What the log stores about a client: `device` is `desktop`, `mobile`, `bot` or `other`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Client {
    pub device: &'static str,
    pub os: &'static str,
    pub browser: &'static str,
}

pub const UNKNOWN: &str = "unknown";

const DESKTOP: &str = "desktop";
const MOBILE: &str = "mobile";
const BOT: &str = "bot";
const OTHER: &str = "other";

/// Crawlers recognised by name, in the order they are tried: `(marker, browser label)`.
const CRAWLERS: &[(&str, &str)] = &[
    ("compatible; Googlebot-Mobile", "Googlebot Mobile"),
    ("compatible; Googlebot", "Googlebot"),
    ("Googlebot-Image/", "Googlebot"),
    ("compatible; AdsBot-Google-Mobile;", "AdsBot-Google-Mobile"),
    ("Google Web Preview", "Google Web Preview"),
    ("compatible; Yahoo! Slurp", "Yahoo! Slurp"),
    ("msnbot", "msnbot"),
    ("compatible; bingbot", "bingbot"),
    ("BingPreview", "BingPreview"),
    ("compatible; Baiduspider", "Baiduspider"),
    ("Baiduspider+", "Baiduspider"),
    ("Baiduspider-image+", "Baiduspider"),
    ("facebookexternalhit", "facebook"),
    ("Twitterbot/", "twitter"),
    ("compatible; AhrefsBot/", "ahref AhrefsBot"),
];

pub fn classify(ua: &str) -> Client {
    let other = Client {
        device: OTHER,
        os: UNKNOWN,
        browser: UNKNOWN,
    };
    if ua.is_empty() || ua == "-" {
        return other;
    }
    if ua.starts_with("AdsBot-Google") && !ua.contains("compatible; AdsBot-Google-Mobile;") {
        return Client {
            device: BOT,
            os: UNKNOWN,
            browser: "AdsBot-Google",
        };
    }
    if let Some((_, name)) = CRAWLERS.iter().find(|(marker, _)| ua.contains(marker)) {
        return Client {
            device: BOT,
            os: UNKNOWN,
            browser: name,
        };
    }
    if let Some(browser) = browser(ua) {
        // A browser on no OS this table knows is still a browser, of no device type.
        let (device, os) = os(ua, browser).unwrap_or((OTHER, UNKNOWN));
        return Client {
            device,
            os,
            browser,
        };
    }
    if let Some((device, os)) = os(ua, UNKNOWN) {
        return Client {
            device,
            os,
            browser: UNKNOWN,
        };
    }
    if ua.contains("CFNetwork/") {
        return Client {
            device: MOBILE,
            os: "iOS",
            browser: UNKNOWN,
        };
    }
    if is_http_library(ua) {
        return Client {
            device: OTHER,
            os: UNKNOWN,
            browser: "HTTP Library",
        };
    }
    if looks_like_crawler(ua) {
        return Client {
            device: BOT,
            os: UNKNOWN,
            browser: "misc crawler",
        };
    }
    other
}

/// The browser family, most specific first: Edge, Opera and in-app browsers all say `Chrome`
/// or `Safari` too.
fn browser(ua: &str) -> Option<&'static str> {
    let chromium_webview = ua.contains("Chrome") && ua.contains("wv");
    let name =
        if ua.contains("compatible; MSIE") || ua.contains("Trident/") || ua.contains("IEMobile") {
            "Internet Explorer"
        } else if ["Edge/", "Edg/", "EdgiOS/", "EdgA/"]
            .iter()
            .any(|m| has_version(ua, m))
        {
            "Edge"
        } else if has_version(ua, "Vivaldi/") {
            "Vivaldi"
        } else if has_version(ua, "FxiOS/") {
            "Firefox"
        } else if has_yandex_version(ua) {
            "Yandex Browser"
        } else if ua.contains("SamsungBrowser/") {
            "SamsungBrowser"
        } else if !chromium_webview && ua.contains("Safari/") {
            if ["Chrome/", "CrMo/", "CriOS/"]
                .iter()
                .any(|m| has_version(ua, m))
            {
                if has_version(ua, "OPR/") {
                    "Opera"
                } else {
                    "Chrome"
                }
            } else if has_version(ua, "GSA/") {
                "Google Search App"
            } else {
                "Safari"
            }
        } else if ua.contains("Firefox/") {
            "Firefox"
        } else if ua.contains("Opera") {
            "Opera"
        } else if chromium_webview || is_ios_webview(ua) {
            // Android's WebView, and iOS apps' WKWebView (WeChat, Feishu, DingTalk and WeCom on
            // iPhone name no `Safari/`).
            "Webview"
        } else {
            return None;
        };
    Some(name)
}

/// The OS and the device type it implies.
fn os(ua: &str, browser: &str) -> Option<(&'static str, &'static str)> {
    if ua.contains("Windows") {
        if ua.contains("Xbox") {
            let name = if ua.contains("Xbox; Xbox One)") {
                "Xbox One"
            } else {
                "Xbox 360"
            };
            return Some((OTHER, name));
        }
        match windows_version(ua) {
            None => return Some((DESKTOP, "Windows UNKNOWN Ver")),
            Some(v) => {
                let known = match v {
                    "NT 10.0" => Some((DESKTOP, "Windows 10")),
                    "NT 6.3" => Some((DESKTOP, "Windows 8.1")),
                    "NT 6.2" => Some((DESKTOP, "Windows 8")),
                    "NT 6.1" => Some((DESKTOP, "Windows 7")),
                    "NT 6.0" => Some((DESKTOP, "Windows Vista")),
                    "NT 5.1" => Some((DESKTOP, "Windows XP")),
                    "NT 5.0" => Some((DESKTOP, "Windows 2000")),
                    "NT 4.0" => Some((DESKTOP, "Windows NT 4.0")),
                    "98" => Some((DESKTOP, "Windows 98")),
                    "95" => Some((DESKTOP, "Windows 95")),
                    "CE" => Some((MOBILE, "Windows CE")),
                    v if is_windows_phone(v) => Some((MOBILE, "Windows Phone OS")),
                    _ => None,
                };
                if known.is_some() {
                    return known;
                }
            }
        }
    }
    if ua.contains("Mac OS X") {
        if !ua.contains("like Mac OS X") {
            return Some((DESKTOP, "Mac OSX"));
        }
        let name = if ua.contains("iPhone;") {
            "iPhone"
        } else if ua.contains("iPad;") {
            "iPad"
        } else if ua.contains("iPod") {
            "iPod"
        } else {
            "Mac OSX"
        };
        return Some((if name == "Mac OSX" { DESKTOP } else { MOBILE }, name));
    }
    if ua.contains("Linux") {
        return Some(if ua.contains("Android") {
            (MOBILE, "Android")
        } else {
            (DESKTOP, "Linux")
        });
    }
    let phone = [
        ("iPhone", "iPhone"),
        ("iPad", "iPad"),
        ("iPod", "iPod"),
        ("Android", "Android"),
        ("CFNetwork", "iOS"),
        ("BB10", "BlackBerry 10"),
        ("BlackBerry", "BlackBerry"),
    ];
    if let Some((_, name)) = phone.iter().find(|(marker, _)| ua.contains(marker)) {
        return Some((MOBILE, name));
    }
    if browser == "Firefox"
        && (ua.starts_with("Mozilla/5.0 (Mobile;") || ua.starts_with("Mozilla/5.0 (Tablet;"))
    {
        return Some((MOBILE, "Firefox OS"));
    }
    if ua.contains("(Win98;") {
        return Some((DESKTOP, "Windows 98"));
    }
    if ua.contains("Macintosh; U; PPC;") || ua.contains("Mac_PowerPC") {
        return Some((DESKTOP, "Mac OS Classic"));
    }
    if ua.contains("X11; FreeBSD ") {
        return Some((DESKTOP, "BSD"));
    }
    if ua.contains("X11; CrOS ") {
        return Some((DESKTOP, "ChromeOS"));
    }
    None
}

/// `marker` followed by a version number (a digit or a dot), anywhere in `ua`.
fn has_version(ua: &str, marker: &str) -> bool {
    ua.match_indices(marker).any(|(at, _)| {
        ua[at + marker.len()..].starts_with(|c: char| c.is_ascii_digit() || c == '.')
    })
}

/// Yandex Browser gives a four-part version (`YaBrowser/23.11.1.822`).
fn has_yandex_version(ua: &str) -> bool {
    ua.match_indices("YaBrowser/").any(|(at, m)| {
        let v = ua[at + m.len()..]
            .split(|c: char| !(c.is_ascii_digit() || c == '.'))
            .next()
            .unwrap_or("");
        let parts: Vec<&str> = v.split('.').collect();
        parts.len() >= 4 && parts[..4].iter().all(|p| !p.is_empty())
    })
}

/// iOS apps' web views: an iPhone, iPad or iPod User-Agent without `Safari/`.
fn is_ios_webview(ua: &str) -> bool {
    ["iPhone;", "iPad;", "iPod"].iter().any(|d| {
        ua.find(d)
            .is_some_and(|at| ua[at..].contains("like Mac OS X"))
    }) && !ua.contains("Safari/")
}

/// The version after the first `Windows ` that is followed by letters, digits, dots and spaces
/// up to a `;`, `)` or `\`.
fn windows_version(ua: &str) -> Option<&str> {
    ua.match_indices("Windows ").find_map(|(at, m)| {
        let rest = &ua[at + m.len()..];
        let end = rest
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == ' ' || c == '.'))
            .unwrap_or(rest.len());
        (end > 0 && rest[end..].starts_with([';', ')', '\\'])).then(|| &rest[..end])
    })
}

/// `Phone 8.0` or `Phone OS 7.5` after `Windows `.
fn is_windows_phone(version: &str) -> bool {
    version
        .strip_prefix("Phone ")
        .map(|v| v.strip_prefix("OS ").unwrap_or(v))
        .is_some_and(|v| v.starts_with(|c: char| c.is_ascii_digit() || c == '.'))
}

/// Command-line tools and HTTP client libraries.
fn is_http_library(ua: &str) -> bool {
    const PREFIXES: &[&str] = &[
        "Apache-HttpClient/",
        "Jakarta Commons-HttpClient/",
        "Java/",
        "Wget/",
        "libwww-perl",
        "WWW-Mechanize",
        "LWP::Simple",
        "LWP ",
        "lwp-trivial",
        "Ruby",
        "feedzirra",
        "Typhoeus",
        "Python-urllib/",
        "Twisted ",
        "curl/",
    ];
    PREFIXES.iter().any(|p| ua.starts_with(p))
        || ua.contains("Java(TM) 2 Runtime Environment,")
        || ["-HttpClient", " HttpClient"].iter().any(|m| {
            ua.match_indices(m)
                .any(|(at, _)| matches!(ua[at + m.len()..].chars().next(), None | Some('/')))
        })
}

/// Anything calling itself a bot, crawler or spider as a word of its own.
fn looks_like_crawler(ua: &str) -> bool {
    let lower = ua.to_ascii_lowercase();
    ["bot", "crawler", "spider"].iter().any(|w| {
        lower.match_indices(w).any(|(at, _)| {
            matches!(
                lower[at + w.len()..].chars().next(),
                None | Some('-' | '_' | ' ' | '.' | '/' | ';' | '@' | '(' | ')')
            )
        })
    }) || lower.contains("watchdog")
        || lower.contains("watch dog")
        || ["feedparser", "feed parser", "webparser", "web parser"]
            .iter()
            .any(|w| lower.contains(w))
}

#[cfg(test)]
mod tests;
