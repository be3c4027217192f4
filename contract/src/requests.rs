//! Access requests: a person refused by a closed link asks its owner to open it again, from the
//! denial page, and the owner answers in one tap (more days, more views, one more device, or a
//! decline with a reply). One definition of what a request holds, its bounds, which denials
//! offer one, the owner's answers, and the denial page's fragment (the form, or the state of
//! the visitor's request) in both languages, escaped.

use crate::owner::escape_html;
use crate::{Denial, Locale};
use serde::{Deserialize, Serialize};

/// Longest message a visitor may leave, and longest reply an owner may give (characters).
pub const MESSAGE_MAX_CHARS: usize = 500;
/// Longest name a visitor may give (characters).
pub const NAME_MAX_CHARS: usize = 100;
/// The largest form body read: a message and a name of their longest, every character four
/// UTF-8 bytes, each percent-encoded (three characters a byte), with the field names.
pub const FORM_MAX_BYTES: usize = (MESSAGE_MAX_CHARS + NAME_MAX_CHARS) * 12 + 64;
/// The name of the cookie telling a link's page which request this browser made (path-scoped to
/// the link, so it names nothing on any other link).
pub const COOKIE: &str = "__Secure-gf_request";
/// How long a browser remembers its request.
pub const COOKIE_SECONDS: i64 = 30 * 86_400;
/// Bounds of a grant: at most a year, at most this many views at a time.
pub const MAX_EXTEND_DAYS: u32 = 366;
pub const MAX_ADD_VIEWS: u32 = 10_000;

/// Whether a person refused with `code` (a denial code) is offered "Request access": the link
/// exists and its owner could open it again (disabled, expired, used up, tied to other devices,
/// not open yet). Codes, not variants, so denials added elsewhere join by their stable name.
pub fn offered_for(code: &str) -> bool {
    matches!(code, "link_expired" | "view_limit_reached" | "link_disabled" | "device_limit" | "not_yet_open")
}

/// Where a request stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RequestState {
    /// Waiting for the owner.
    Open,
    Granted,
    Declined,
}

impl RequestState {
    pub fn name(self) -> &'static str {
        match self {
            RequestState::Open => "open",
            RequestState::Granted => "granted",
            RequestState::Declined => "declined",
        }
    }

    pub fn from_name(s: &str) -> Option<RequestState> {
        [RequestState::Open, RequestState::Granted, RequestState::Declined].into_iter().find(|r| r.name() == s)
    }
}

/// One request as owners see it (`GET /admin/api/galleries/<gallery>/requests`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccessRequest {
    /// Opaque and unguessable: `<gallery>.<128 random bits in hex>`.
    pub id: String,
    pub gallery: String,
    /// The link's name in its gallery, and its label (the recipient).
    pub link: String,
    pub label: String,
    /// Unix milliseconds.
    pub at: i64,
    /// What the visitor wrote (bounded; shown escaped everywhere).
    pub name: Option<String>,
    pub message: Option<String>,
    /// The denial code the visitor was shown.
    pub reason: String,
    /// "mobile · iPhone · Safari", and "Shanghai, CN" when the edge said.
    pub device: String,
    pub place: Option<String>,
    pub state: RequestState,
    /// When and how it was answered (`+7 days`, `+10 views`, `+1 device`, `declined`).
    pub answered_at: Option<i64>,
    pub answer: Option<String>,
    /// The owner's reply to a decline, shown to the visitor.
    pub reply: Option<String>,
}

/// The requests of a gallery, newest first, with how many are open.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RequestsResponse {
    pub gallery: String,
    pub gallery_title: String,
    pub timezone: String,
    pub open: u32,
    pub requests: Vec<AccessRequest>,
}

/// `POST /admin/api/requests/<id>/grant`: exactly one of the three.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GrantBody {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub extend_days: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub add_views: Option<u32>,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub device: bool,
}

/// A grant as the link's gate applies it: relative to what is in force.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Grant {
    /// Calendar days added to the later of now and the expiry in force.
    ExtendDays(u32),
    /// Views added to the limit in force.
    AddViews(u32),
    /// One more device admitted.
    Device,
}

impl GrantBody {
    /// The one grant the body names, or why it is no grant.
    pub fn grant(&self) -> Result<Grant, String> {
        let given = [self.extend_days.is_some(), self.add_views.is_some(), self.device].iter().filter(|b| **b).count();
        if given != 1 {
            return Err("give exactly one of {\"extend_days\": 7}, {\"add_views\": 10} or {\"device\": true}".into());
        }
        match (self.extend_days, self.add_views) {
            (Some(d), _) if (1..=MAX_EXTEND_DAYS).contains(&d) => Ok(Grant::ExtendDays(d)),
            (Some(d), _) => Err(format!("`extend_days` must be 1 to {MAX_EXTEND_DAYS}, not {d}")),
            (_, Some(v)) if (1..=MAX_ADD_VIEWS).contains(&v) => Ok(Grant::AddViews(v)),
            (_, Some(v)) => Err(format!("`add_views` must be 1 to {MAX_ADD_VIEWS}, not {v}")),
            _ => Ok(Grant::Device),
        }
    }
}

impl Grant {
    /// How the answer reads in the owner's lists and the audit log.
    pub fn answer(self) -> String {
        match self {
            Grant::ExtendDays(d) => format!("+{d} days"),
            Grant::AddViews(v) => format!("+{v} views"),
            Grant::Device => "+1 device".into(),
        }
    }
}

/// The gallery and the random key an opaque request id (`<gallery>.<32 hex digits>`) names.
pub fn split_id(id: &str) -> Option<(&str, &str)> {
    let (gallery, key) = id.rsplit_once('.')?;
    let hex = key.len() == 32 && key.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
    (hex && !gallery.is_empty()).then_some((gallery, key))
}

/// `POST /admin/api/requests/<id>/decline`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DeclineBody {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reply: Option<String>,
}

/// Keeps at most `max` characters of `s`, trimmed; `None` when nothing is left.
pub fn bounded(s: Option<&str>, max: usize) -> Option<String> {
    let s = s?.trim();
    let cut: String = s.chars().take(max).collect();
    let cut = cut.trim_end().to_string();
    (!cut.is_empty()).then_some(cut)
}

/// What the visitor who asked is shown of their request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VisitorView {
    pub state: RequestState,
    /// When they asked, as the site's local time (`2026-03-02 10:32`).
    pub asked: String,
    pub reply: Option<String>,
}

struct Words {
    heading: &'static str,
    intro: &'static str,
    name: &'static str,
    message: &'static str,
    send: &'static str,
    waiting: &'static str,
    granted: &'static str,
    open: &'static str,
    declined: &'static str,
    reply: &'static str,
    again: &'static str,
}

fn words(locale: Locale) -> Words {
    match locale {
        Locale::En => Words {
            heading: "Request access",
            intro: "Ask the owner of this link to open it for you again. They are told at once and can reopen this same link: nothing needs to be sent again.",
            name: "Your name (optional)",
            message: "Message (optional)",
            send: "Request access",
            waiting: "Requested at {at}, waiting for the owner.",
            granted: "Granted: you can open the gallery.",
            open: "Open the gallery",
            declined: "The owner declined your request.",
            reply: "Their reply:",
            again: "Ask again",
        },
        Locale::ZhCn => Words {
            heading: "申请访问",
            intro: "请链接所有者重新为您开放此链接。所有者会立即收到通知，并可重新开放同一链接，无需重新发送。",
            name: "您的姓名（可选）",
            message: "留言（可选）",
            send: "申请访问",
            waiting: "已于 {at} 提交申请，等待所有者处理。",
            granted: "已获准：您现在可以打开图库。",
            open: "打开图库",
            declined: "所有者拒绝了您的申请。",
            reply: "回复：",
            again: "再次申请",
        },
    }
}

/// The form posting to `/s/<token>/request` (`token` is a link token: URL-safe by its shape).
fn form(w: &Words, token: &str, heading: &str) -> String {
    format!(
        "<form class=\"gf-request\" method=\"post\" action=\"/s/{token}/request\">\
<h2>{heading}</h2><p>{intro}</p>\
<label>{name}<input name=\"name\" maxlength=\"{NAME_MAX_CHARS}\" autocomplete=\"name\"></label>\
<label>{message}<textarea name=\"message\" maxlength=\"{MESSAGE_MAX_CHARS}\" rows=\"4\"></textarea></label>\
<button type=\"submit\">{send}</button></form>",
        heading = escape_html(heading),
        intro = escape_html(w.intro),
        name = escape_html(w.name),
        message = escape_html(w.message),
        send = escape_html(w.send),
    )
}

/// The denial page's fragment for a person refused with `denial`: nothing where no request is
/// offered; else the state of this browser's request (`view`) or the form. Every text escaped.
pub fn fragment(locale: Locale, denial: Denial, token: &str, view: Option<&VisitorView>) -> String {
    if !offered_for(denial.code()) {
        return String::new();
    }
    let w = words(locale);
    let status = |class: &str, body: String| format!("<div class=\"gf-request-state gf-request-{class}\" role=\"status\">{body}</div>");
    match view {
        None => form(&w, token, w.heading),
        Some(v) if v.state == RequestState::Open => status("open", format!("<p>{}</p>", escape_html(&w.waiting.replace("{at}", &v.asked)))),
        Some(v) if v.state == RequestState::Granted => {
            status("granted", format!("<p>{}</p><p><a class=\"gf-button\" href=\"/s/{token}\">{}</a></p>", escape_html(w.granted), escape_html(w.open)))
        }
        Some(v) => {
            let reply = v.reply.as_deref().map_or(String::new(), |r| format!("<p>{} <q class=\"gf-request-reply\">{}</q></p>", escape_html(w.reply), escape_html(r)));
            status("declined", format!("<p>{}</p>{reply}", escape_html(w.declined))) + &form(&w, token, w.again)
        }
    }
}

/// The page's fragment while this network has asked too often for this link lately.
pub fn throttled(locale: Locale) -> String {
    let text = match locale {
        Locale::En => "Too many requests for this link came from your network lately. Please try again in an hour.",
        Locale::ZhCn => "您所在网络近期对此链接提交的申请过多，请一小时后再试。",
    };
    format!("<div class=\"gf-request-state gf-request-throttled\" role=\"alert\"><p>{}</p></div>", escape_html(text))
}

#[cfg(test)]
mod tests {
    use super::*;

    const T: &str = "abcdefghijklmnopqrstuvwxyz";

    #[test]
    fn closed_links_offer_a_request_and_other_denials_do_not() {
        for d in [Denial::LinkExpired, Denial::ViewLimitReached, Denial::LinkDisabled] {
            assert!(fragment(Locale::En, d, T, None).contains(&format!("action=\"/s/{T}/request\"")), "{d:?}");
        }
        for d in [Denial::NotFound, Denial::SessionExpired, Denial::PasswordRequired, Denial::CrossSiteRequest, Denial::TooManyAttempts] {
            assert_eq!(fragment(Locale::En, d, T, None), "", "{d:?}");
        }
        assert!(offered_for("device_limit") && offered_for("not_yet_open"));
    }

    #[test]
    fn the_form_is_bounded_and_speaks_the_visitors_language() {
        let en = fragment(Locale::En, Denial::LinkExpired, T, None);
        assert!(en.contains("maxlength=\"500\"") && en.contains("maxlength=\"100\"") && en.contains("Request access"));
        assert!(fragment(Locale::ZhCn, Denial::LinkExpired, T, None).contains("申请访问"));
    }

    #[test]
    fn the_visitor_sees_their_request_waiting_granted_or_declined_with_the_reply_escaped() {
        let view = |state, reply: Option<&str>| VisitorView { state, asked: "2026-03-02 10:32".into(), reply: reply.map(Into::into) };
        let open = fragment(Locale::En, Denial::LinkExpired, T, Some(&view(RequestState::Open, None)));
        assert!(open.contains("Requested at 2026-03-02 10:32, waiting") && !open.contains("<form"), "{open}");
        let granted = fragment(Locale::En, Denial::LinkExpired, T, Some(&view(RequestState::Granted, None)));
        assert!(granted.contains(&format!("href=\"/s/{T}\"")) && granted.contains("Granted"));
        let declined = fragment(Locale::ZhCn, Denial::LinkExpired, T, Some(&view(RequestState::Declined, Some("<b>no</b> & \"sorry\""))));
        assert!(declined.contains("&lt;b&gt;no&lt;/b&gt; &amp; &quot;sorry&quot;") && !declined.contains("<b>"), "{declined}");
        assert!(declined.contains("再次申请") && declined.contains("<form"), "a declined visitor may ask again");
    }

    #[test]
    fn a_grant_is_exactly_one_bounded_relative_change() {
        let g = |json: &str| serde_json::from_str::<GrantBody>(json).map_err(|e| e.to_string()).and_then(|b| b.grant());
        assert_eq!(g(r#"{"extend_days": 7}"#), Ok(Grant::ExtendDays(7)));
        assert_eq!(g(r#"{"add_views": 10}"#), Ok(Grant::AddViews(10)));
        assert_eq!(g(r#"{"device": true}"#), Ok(Grant::Device));
        for bad in [r#"{}"#, r#"{"extend_days": 7, "add_views": 1}"#, r#"{"extend_days": 0}"#, r#"{"add_views": 10001}"#, r#"{"device": false}"#, r#"{"days": 7}"#] {
            assert!(g(bad).is_err(), "{bad}");
        }
        assert_eq!(Grant::ExtendDays(7).answer(), "+7 days");
    }

    #[test]
    fn an_id_names_its_gallery_and_its_random_key_and_nothing_else_passes() {
        let key = "0123456789abcdef0123456789abcdef";
        assert_eq!(split_id(&format!("launch-a.{key}")), Some(("launch-a", key)));
        for bad in [key.to_string(), format!(".{key}"), format!("g.{}", &key[1..]), format!("g.{}", key.to_uppercase()), "g.x".into()] {
            assert_eq!(split_id(&bad), None, "{bad}");
        }
    }

    #[test]
    fn texts_are_cut_to_their_bounds_and_blank_is_none() {
        assert_eq!(bounded(Some(&"é".repeat(600)), MESSAGE_MAX_CHARS).map(|s| s.chars().count()), Some(500));
        assert_eq!(bounded(Some("   "), 10), None);
        assert_eq!(bounded(None, 10), None);
        assert_eq!(bounded(Some(" hi "), 10).as_deref(), Some("hi"));
    }
}
