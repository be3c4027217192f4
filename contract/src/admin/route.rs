//! The admin API's paths, parsed and built in one place: the worker reads a request's route
//! with [`ApiRoute::parse`], the CLI builds its requests with [`ApiRoute::method`] and
//! [`ApiRoute::path`], and the admin page fills the same table ([`ROUTES`], which the worker
//! serves it as a script) — so a path is spelled once, in [`api_routes!`] below.
//!
//! A pattern is a path under [`super::API_PREFIX`] whose segments are literals or
//! placeholders: `{gallery}`, `{audience}` (one segment each) and `{link}`, a link's name in
//! its gallery: one segment (`<link>`) or two (`<audience>/<recipient>`, a recipient's link),
//! so a link's id (`<gallery>/<link>`) has two parts or three. Every segment is non-empty;
//! names are never decoded, so a segment holding an encoded `/` is a name no link has.

use percent_encoding::{AsciiSet, utf8_percent_encode};
use serde::Serialize;

/// One route of the admin API as the table spells it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Endpoint {
    /// The [`ApiRoute`] variant's name.
    pub name: &'static str,
    /// `GET`, `POST`, `PATCH`, `PUT` or `DELETE` (`HEAD` is read as `GET`).
    pub method: &'static str,
    /// The path under [`super::API_PREFIX`], with `{gallery}`, `{audience}`, `{link}`.
    pub path: &'static str,
}

/// What a route's placeholders hold.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
struct Names<'a> {
    gallery: Option<&'a str>,
    audience: Option<&'a str>,
    link: Option<&'a str>,
    /// An access request's opaque id (`gatefold_contract::requests`).
    request: Option<&'a str>,
}

/// The table: each route's variant, its fields (the placeholders of its path), its method and
/// its path. Generates [`ApiRoute`], [`ROUTES`] and the conversions between the two.
macro_rules! api_routes {
    ($($(#[$doc:meta])* $name:ident $({ $($field:ident),+ })? = $method:literal $path:literal;)+) => {
        /// An admin API route. `link` is a link's name in its gallery: `<link>`, or
        /// `<audience>/<recipient>` for a recipient's link (its id has three parts).
        #[derive(Debug, Clone, PartialEq, Eq)]
        pub enum ApiRoute<'a> {
            $($(#[$doc])* $name $({ $($field: &'a str),+ })?,)+
        }

        /// Every route of the admin API, in the order [`ApiRoute::parse`] tries them.
        pub const ROUTES: &[Endpoint] = &[$(Endpoint { name: stringify!($name), method: $method, path: $path }),+];

        impl<'a> ApiRoute<'a> {
            /// This route's row of [`ROUTES`].
            pub fn endpoint(&self) -> Endpoint {
                match self {
                    $(ApiRoute::$name { .. } => Endpoint { name: stringify!($name), method: $method, path: $path },)+
                }
            }

            fn names(&self) -> Names<'a> {
                match *self {
                    $(ApiRoute::$name $({ $($field),+ })? => Names { $($($field: Some($field),)+)? ..Names::default() },)+
                }
            }

            fn from_names(name: &str, names: Names<'a>) -> Option<ApiRoute<'a>> {
                Some(match name {
                    $(stringify!($name) => ApiRoute::$name $({ $($field: names.$field?),+ })?,)+
                    _ => return None,
                })
            }
        }
    };
}

api_routes! {
    Links = "GET" "links";
    Disable { gallery, link } = "POST" "links/{gallery}/{link}/disable";
    Enable { gallery, link } = "POST" "links/{gallery}/{link}/enable";
    Revoke { gallery, link } = "POST" "links/{gallery}/{link}/revoke";
    /// "Open now": lifts a published `opens_at:` still ahead until a publish moves it.
    OpenNow { gallery, link } = "POST" "links/{gallery}/{link}/open-now";
    Patch { gallery, link } = "PATCH" "links/{gallery}/{link}";
    /// `PUT`: sets the link's password (JSON `{"password": "..."}`); `DELETE`: clears it.
    SetPassword { gallery, link } = "PUT" "links/{gallery}/{link}/password";
    ClearPassword { gallery, link } = "DELETE" "links/{gallery}/{link}/password";
    QrSvg { gallery, link } = "GET" "links/{gallery}/{link}/qr.svg";
    QrPng { gallery, link } = "GET" "links/{gallery}/{link}/qr.png";
    Card { gallery, link } = "GET" "links/{gallery}/{link}/card.html";
    /// The devices a link admitted (and refused), its extra allowance and forwarding flag.
    Devices { gallery, link } = "GET" "links/{gallery}/{link}/devices";
    /// JSON `{"device": "<id>"}`: forgets one device, freeing its slot.
    ForgetDevice { gallery, link } = "POST" "links/{gallery}/{link}/devices/forget";
    /// One more device may open the link.
    AllowDevice { gallery, link } = "POST" "links/{gallery}/{link}/devices/allow";
    DisableAudience { gallery, audience } = "POST" "audiences/{gallery}/{audience}/disable";
    EnableAudience { gallery, audience } = "POST" "audiences/{gallery}/{audience}/enable";
    RevokeAudience { gallery, audience } = "POST" "audiences/{gallery}/{audience}/revoke";
    PatchAudience { gallery, audience } = "PATCH" "audiences/{gallery}/{audience}";
    DisableGallery { gallery } = "POST" "galleries/{gallery}/disable";
    EnableGallery { gallery } = "POST" "galleries/{gallery}/enable";
    Stats { gallery } = "GET" "galleries/{gallery}/stats";
    ExportCsv { gallery } = "GET" "galleries/{gallery}/export.csv";
    ExportXlsx { gallery } = "GET" "galleries/{gallery}/export.xlsx";
    ShareKit { gallery } = "GET" "galleries/{gallery}/share-kit.txt";
    MailMerge { gallery } = "GET" "galleries/{gallery}/mail-merge.csv";
    /// A gallery's notifications waiting and given up on.
    Notifications { gallery } = "GET" "galleries/{gallery}/notifications";
    /// The gallery's audit log of owner actions (JSON, or CSV).
    Audit { gallery } = "GET" "galleries/{gallery}/audit";
    AuditCsv { gallery } = "GET" "galleries/{gallery}/audit.csv";
    /// Whom to remind: not opened, opened without a download.
    FollowUp { gallery } = "GET" "galleries/{gallery}/follow-up";
    /// `POST notify/test` (JSON `{"gallery": "<id>"}`, optional): one test message per channel.
    NotifyTest = "POST" "notify/test";
    /// A generated passphrase (the password dialog's "Generate").
    Passphrase = "GET" "passphrase";
    /// Who the API takes the caller for (the page signed in by Cloudflare Access asks first).
    WhoAmI = "GET" "whoami";
    /// A gallery's access requests, newest first, each with its opaque `id`.
    Requests { gallery } = "GET" "galleries/{gallery}/requests";
    /// Grants a request on its link's gate (JSON `{"extend_days": 7}`, `{"add_views": 10}` or
    /// `{"device": true}`), or declines it (JSON `{"reply": "..."}`, optional).
    GrantRequest { request } = "POST" "requests/{request}/grant";
    DeclineRequest { request } = "POST" "requests/{request}/decline";
}

/// Why a path is no route: nothing has its shape (404), or another method does (405).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NoRoute {
    NotFound,
    /// The first method (of `GET`, `POST`, `PATCH`, `PUT`, `DELETE`) the path takes.
    MethodNotAllowed { allowed: &'static str },
}

impl NoRoute {
    pub fn status(self) -> u16 {
        match self {
            NoRoute::NotFound => 404,
            NoRoute::MethodNotAllowed { .. } => 405,
        }
    }
}

/// The methods the admin API answers, each tried in turn to tell 405 from 404.
const METHODS: [&str; 5] = ["GET", "POST", "PATCH", "PUT", "DELETE"];

/// Characters a name keeps in a path segment; everything else is percent-encoded.
const SEGMENT: &AsciiSet = crate::URL_UNRESERVED;

impl<'a> ApiRoute<'a> {
    /// The reads that put an entry on the audit log and tell the owner's channels (exports and
    /// downloads: the handler's `Note::taken`); under Cloudflare Access they must come from the
    /// admin page, as changes must.
    pub fn audited_read(&self) -> bool {
        matches!(self, ApiRoute::ExportCsv { .. } | ApiRoute::ExportXlsx { .. } | ApiRoute::MailMerge { .. } | ApiRoute::AuditCsv { .. })
    }

    /// The route of `method` and `rest`, the path after [`super::API_PREFIX`].
    ///
    /// The method says whether a link id's last segment is an action: POST and GET routes end
    /// in one, PATCH routes do not, so `links/g/a/disable` is recipient `a/disable` to PATCH and
    /// link `a`'s disable to POST.
    pub fn parse(method: &str, rest: &'a str) -> Result<ApiRoute<'a>, NoRoute> {
        let method = if method == "HEAD" { "GET" } else { method };
        if let Some(route) = Self::parse_as(method, rest) {
            return Ok(route);
        }
        match METHODS.into_iter().find(|m| *m != method && Self::parse_as(m, rest).is_some()) {
            Some(allowed) => Err(NoRoute::MethodNotAllowed { allowed }),
            None => Err(NoRoute::NotFound),
        }
    }

    fn parse_as(method: &str, rest: &'a str) -> Option<ApiRoute<'a>> {
        ROUTES.iter().filter(|e| e.method == method).find_map(|e| ApiRoute::from_names(e.name, names_in(e.path, rest)?))
    }

    pub fn method(&self) -> &'static str {
        self.endpoint().method
    }

    /// The path under [`super::API_PREFIX`], each name percent-encoded on its own (a
    /// recipient's `/` stays a separator).
    pub fn path(&self) -> String {
        let names = self.names();
        let encode = |name: &str| name.split('/').map(|part| utf8_percent_encode(part, SEGMENT).to_string()).collect::<Vec<_>>().join("/");
        self.endpoint()
            .path
            .split('/')
            .map(|seg| match placeholder(seg) {
                Some("gallery") => encode(names.gallery.unwrap_or_default()),
                Some("audience") => encode(names.audience.unwrap_or_default()),
                Some("link") => encode(names.link.unwrap_or_default()),
                Some("request") => encode(names.request.unwrap_or_default()),
                _ => seg.to_string(),
            })
            .collect::<Vec<_>>()
            .join("/")
    }
}

/// `{name}` → `name`.
fn placeholder(segment: &str) -> Option<&str> {
    segment.strip_prefix('{')?.strip_suffix('}')
}

/// The names `rest` gives `pattern`'s placeholders, if it has the pattern's shape.
fn names_in<'a>(pattern: &str, rest: &'a str) -> Option<Names<'a>> {
    // Each segment of `rest` with the byte offset it starts at, so a two-segment link name is
    // one slice of `rest`.
    let mut segments = Vec::new();
    let mut at = 0;
    for seg in rest.split('/') {
        if seg.is_empty() {
            return None;
        }
        segments.push((at, seg));
        at += seg.len() + 1;
    }
    let shape: Vec<&str> = pattern.split('/').collect();
    // `{link}` takes one segment, or two for a recipient: whatever the literals leave it.
    let link_len = match segments.len().checked_sub(shape.len() - 1) {
        Some(n @ 1..=2) if shape.contains(&"{link}") => n,
        _ if segments.len() == shape.len() && !shape.contains(&"{link}") => 0,
        _ => return None,
    };
    let mut names = Names::default();
    let mut i = 0;
    for seg in shape {
        let (start, first) = *segments.get(i)?;
        match placeholder(seg) {
            Some("link") => {
                let (last_start, last) = segments[i + link_len - 1];
                names.link = Some(&rest[start..last_start + last.len()]);
                i += link_len;
                continue;
            }
            Some("gallery") => names.gallery = Some(first),
            Some("audience") => names.audience = Some(first),
            Some("request") => names.request = Some(first),
            Some(other) => unreachable!("unknown placeholder {{{other}}} in the routes table"),
            None if seg == first => {}
            None => return None,
        }
        i += 1;
    }
    Some(names)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn example(e: &Endpoint, link: &'static str) -> ApiRoute<'static> {
        let names = Names { gallery: Some("launch-a"), audience: Some("channel"), link: Some(link), request: Some("launch-a.0123456789abcdef0123456789abcdef") };
        ApiRoute::from_names(e.name, names).unwrap_or_else(|| panic!("{} has no variant", e.name))
    }

    #[test]
    fn every_route_of_the_table_is_read_back_from_the_path_it_builds() {
        for e in ROUTES {
            for link in ["market", "channel/dealer-001"] {
                let route = example(e, link);
                assert_eq!(route.endpoint(), *e);
                let path = route.path();
                assert_eq!(ApiRoute::parse(e.method, &path), Ok(route.clone()), "{} {path}", e.method);
                if e.method == "GET" {
                    assert_eq!(ApiRoute::parse("HEAD", &path), Ok(route), "HEAD is read as GET");
                }
            }
        }
    }

    #[test]
    fn the_table_names_each_route_once_and_only_known_placeholders() {
        for (i, e) in ROUTES.iter().enumerate() {
            assert!(ROUTES[..i].iter().all(|o| o.name != e.name), "{} twice", e.name);
            assert!(ROUTES[..i].iter().all(|o| (o.method, o.path) != (e.method, e.path)), "{} {} twice", e.method, e.path);
            assert!(METHODS.contains(&e.method), "{}", e.method);
            for seg in e.path.split('/') {
                assert!(!seg.is_empty() && placeholder(seg).is_none_or(|p| ["gallery", "audience", "link", "request"].contains(&p)), "{}", e.path);
            }
        }
    }

    #[test]
    fn paths_are_built_with_each_name_escaped_and_the_recipient_segment_kept() {
        let path = |r: ApiRoute<'_>| r.path();
        assert_eq!(path(ApiRoute::Patch { gallery: "launch-a", link: "channel/dealer-001" }), "links/launch-a/channel/dealer-001");
        assert_eq!(path(ApiRoute::Disable { gallery: "spring", link: "market" }), "links/spring/market/disable");
        assert_eq!(path(ApiRoute::Patch { gallery: "a b", link: "c?d" }), "links/a%20b/c%3Fd");
        assert_eq!(path(ApiRoute::Stats { gallery: "新车 1" }), "galleries/%E6%96%B0%E8%BD%A6%201/stats");
        assert_eq!(path(ApiRoute::PatchAudience { gallery: "launch-a", audience: "channel" }), "audiences/launch-a/channel");
        assert_eq!(path(ApiRoute::NotifyTest), "notify/test");
        assert_eq!(ApiRoute::SetPassword { gallery: "g", link: "l" }.method(), "PUT");
        assert_eq!(ApiRoute::ClearPassword { gallery: "g", link: "l" }.method(), "DELETE");
        assert_eq!(path(ApiRoute::ForgetDevice { gallery: "launch-a", link: "channel/dealer-001" }), "links/launch-a/channel/dealer-001/devices/forget");
        assert_eq!(ApiRoute::parse("GET", "links/launch-a/market/devices"), Ok(ApiRoute::Devices { gallery: "launch-a", link: "market" }));
    }

    #[test]
    fn a_path_of_no_shape_is_not_found_and_another_methods_is_not_allowed() {
        assert_eq!(ApiRoute::parse("GET", "links/spring/market/disable"), Err(NoRoute::MethodNotAllowed { allowed: "POST" }));
        assert_eq!(ApiRoute::parse("GET", "audiences/launch-a/channel"), Err(NoRoute::MethodNotAllowed { allowed: "PATCH" }));
        assert_eq!(ApiRoute::parse("POST", "links/launch-a/disable").map_err(NoRoute::status), Err(405), "PATCH reads it as link `disable`");
        for rest in ["", "links/", "links//market", "links/spring", "links/a/b/c/d/disable", "nothing", "notify/test/x"] {
            assert_eq!(ApiRoute::parse("POST", rest).map_err(NoRoute::status), Err(404), "{rest:?}");
        }
    }
}
