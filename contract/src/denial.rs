//! Why a visitor is refused, with the HTTP status and the words shown to them.

use crate::Locale;
use serde::{Deserialize, Serialize};

/// Every reason a request can be refused. The `snake_case` name is the stable code in JSON
/// answers, logs and analytics.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Denial {
    NotFound,
    LinkDisabled,
    LinkExpired,
    ViewLimitReached,
    SessionExpired,
    DownloadDisabled,
    /// A gated file was asked for without a valid session for a link of its gallery.
    NoSession,
    /// The "View gallery" confirmation was posted from another site (or with no sign of where
    /// it came from): only the link's own page may make that open.
    CrossSiteRequest,
    /// The link needs a password: the password page (counts nothing).
    PasswordRequired,
    /// A password was posted and it is not the link's.
    WrongPassword,
    /// Too many wrong passwords from this client or for this link lately.
    TooManyAttempts,
    /// `password: required` in git, but the owner has not set one yet: closed until they do.
    PasswordNotSet,
    /// A posted body larger than anything the form could send: refused before it is read whole.
    RequestTooLarge,
    /// `opens_at:` is still ahead: the page says when it opens (no view used, no session).
    NotYetOpen,
    /// `devices: N`: the link already admitted its N devices and this is another one.
    DeviceLimit,
}

impl Denial {
    pub const ALL: [Denial; 15] = [
        Denial::NotFound,
        Denial::LinkDisabled,
        Denial::LinkExpired,
        Denial::ViewLimitReached,
        Denial::SessionExpired,
        Denial::DownloadDisabled,
        Denial::NoSession,
        Denial::CrossSiteRequest,
        Denial::PasswordRequired,
        Denial::WrongPassword,
        Denial::TooManyAttempts,
        Denial::PasswordNotSet,
        Denial::RequestTooLarge,
        Denial::NotYetOpen,
        Denial::DeviceLimit,
    ];

    pub fn code(self) -> &'static str {
        match self {
            Denial::NotFound => "not_found",
            Denial::LinkDisabled => "link_disabled",
            Denial::LinkExpired => "link_expired",
            Denial::ViewLimitReached => "view_limit_reached",
            Denial::SessionExpired => "session_expired",
            Denial::DownloadDisabled => "download_disabled",
            Denial::NoSession => "no_session",
            Denial::CrossSiteRequest => "cross_site_request",
            Denial::PasswordRequired => "password_required",
            Denial::WrongPassword => "wrong_password",
            Denial::TooManyAttempts => "too_many_attempts",
            Denial::PasswordNotSet => "password_not_set",
            Denial::RequestTooLarge => "request_too_large",
            Denial::NotYetOpen => "not_yet_open",
            Denial::DeviceLimit => "device_limit",
        }
    }

    /// 410 Gone where the link is over for good unless its owner acts (expired, used up);
    /// 403 where access exists but is not granted to this request.
    pub fn status(self) -> u16 {
        match self {
            Denial::NotFound => 404,
            Denial::LinkExpired | Denial::ViewLimitReached => 410,
            Denial::LinkDisabled
            | Denial::SessionExpired
            | Denial::DownloadDisabled
            | Denial::NoSession
            | Denial::CrossSiteRequest
            | Denial::PasswordNotSet
            | Denial::NotYetOpen => 403,
            | Denial::DeviceLimit => 403,
            Denial::PasswordRequired | Denial::WrongPassword => 401,
            Denial::TooManyAttempts => 429,
            Denial::RequestTooLarge => 413,
        }
    }

    /// Short heading for the denial page.
    pub fn title(self, locale: Locale) -> &'static str {
        match (self, locale) {
            (Denial::NotFound, Locale::En) => "Link not found",
            (Denial::NotFound, Locale::ZhCn) => "链接不存在",
            (Denial::LinkDisabled, Locale::En) => "This link has been disabled",
            (Denial::LinkDisabled, Locale::ZhCn) => "链接已禁用",
            (Denial::LinkExpired, Locale::En) => "This link has expired",
            (Denial::LinkExpired, Locale::ZhCn) => "链接已过期",
            (Denial::ViewLimitReached, Locale::En) => "This link has reached its view limit",
            (Denial::ViewLimitReached, Locale::ZhCn) => "链接查看次数已用完",
            (Denial::SessionExpired, Locale::En) => "Your viewing time is over",
            (Denial::SessionExpired, Locale::ZhCn) => "查看时间已结束",
            (Denial::DownloadDisabled, Locale::En) => "Downloads are not enabled for this link",
            (Denial::DownloadDisabled, Locale::ZhCn) => "此链接未开启下载",
            (Denial::NoSession, Locale::En) => "Please open the gallery link first",
            (Denial::NoSession, Locale::ZhCn) => "请先打开图库链接",
            (Denial::CrossSiteRequest, Locale::En) => "This request did not come from the gallery page",
            (Denial::CrossSiteRequest, Locale::ZhCn) => "此请求并非来自图库页面",
            (Denial::PasswordRequired, Locale::En) => "This gallery is protected by a password",
            (Denial::PasswordRequired, Locale::ZhCn) => "此图库需要密码",
            (Denial::WrongPassword, Locale::En) => "That password is not correct",
            (Denial::WrongPassword, Locale::ZhCn) => "密码不正确",
            (Denial::TooManyAttempts, Locale::En) => "Too many attempts",
            (Denial::TooManyAttempts, Locale::ZhCn) => "尝试次数过多",
            (Denial::PasswordNotSet, Locale::En) => "This link is not available yet",
            (Denial::PasswordNotSet, Locale::ZhCn) => "此链接暂不可用",
            (Denial::RequestTooLarge, Locale::En) => "The request is too large",
            (Denial::RequestTooLarge, Locale::ZhCn) => "请求内容过大",
            (Denial::NotYetOpen, Locale::En) => "This gallery is not open yet",
            (Denial::NotYetOpen, Locale::ZhCn) => "图库尚未开放",
            (Denial::DeviceLimit, Locale::En) => "This link is tied to the devices of the person it was sent to",
            (Denial::DeviceLimit, Locale::ZhCn) => "此链接仅限收件人本人的设备打开",
        }
    }

    /// One sentence telling the visitor what happened and what to do next.
    pub fn message(self, locale: Locale) -> &'static str {
        match (self, locale) {
            (Denial::NotFound, Locale::En) => "Check that the address is complete, or ask the person who shared it for a new link.",
            (Denial::NotFound, Locale::ZhCn) => "请检查链接地址是否完整，或联系分享者获取新链接。",
            (Denial::LinkDisabled, Locale::En) => "The owner has turned this link off. Contact the person who shared it if you still need access.",
            (Denial::LinkDisabled, Locale::ZhCn) => "分享者已关闭此链接。如仍需访问，请联系分享者。",
            (Denial::LinkExpired, Locale::En) => "This link was valid for a limited time. Ask the person who shared it to extend it.",
            (Denial::LinkExpired, Locale::ZhCn) => "此链接有效期已过。请联系分享者延长有效期。",
            (Denial::ViewLimitReached, Locale::En) => "This link has been opened as many times as allowed. Ask the person who shared it to raise the limit.",
            (Denial::ViewLimitReached, Locale::ZhCn) => "此链接的查看次数已达上限。请联系分享者增加查看次数。",
            (Denial::SessionExpired, Locale::En) => "The viewing time for this link has run out. Ask the person who shared it if you need more time.",
            (Denial::SessionExpired, Locale::ZhCn) => "本次查看时间已用完。如需更多时间，请联系分享者。",
            (Denial::DownloadDisabled, Locale::En) => "Original files can only be downloaded from links that allow it. Display images are still available in the gallery.",
            (Denial::DownloadDisabled, Locale::ZhCn) => "此链接不允许下载原图，您仍可在图库中查看展示图片。",
            (Denial::NoSession, Locale::En) => "Images are only shown inside the gallery. Open the link you were given.",
            (Denial::NoSession, Locale::ZhCn) => "图片只能在图库中查看，请打开您收到的链接。",
            (Denial::CrossSiteRequest, Locale::En) => "The gallery can only be opened from its own link. Open the link you were given and press “View gallery” there.",
            (Denial::CrossSiteRequest, Locale::ZhCn) => "图库只能通过其自身链接打开。请打开您收到的链接，并在该页面点击“查看图库”。",
            (Denial::PasswordRequired, Locale::En) => "Enter the password you were given with this link to open the gallery.",
            (Denial::PasswordRequired, Locale::ZhCn) => "请输入与此链接一同提供给您的密码以打开图库。",
            (Denial::WrongPassword, Locale::En) => "Check the password and try again, or ask the person who shared the link.",
            (Denial::WrongPassword, Locale::ZhCn) => "请核对密码后重试，或联系分享者。",
            (Denial::TooManyAttempts, Locale::En) => "Too many wrong passwords were tried. Wait a few minutes before trying again.",
            (Denial::TooManyAttempts, Locale::ZhCn) => "密码错误次数过多，请等待几分钟后再试。",
            (Denial::PasswordNotSet, Locale::En) => "The owner has not finished setting up this link. Try again later, or contact the person who shared it.",
            (Denial::PasswordNotSet, Locale::ZhCn) => "分享者尚未完成此链接的设置。请稍后再试，或联系分享者。",
            (Denial::RequestTooLarge, Locale::En) => "The form sent more than it can hold. Open the link again and enter the password you were given.",
            (Denial::RequestTooLarge, Locale::ZhCn) => "提交的内容超出了表单的容量。请重新打开链接，并输入您收到的密码。",
            (Denial::NotYetOpen, Locale::En) => "Come back at the time below: this same link opens then, nothing needs to be sent again.",
            (Denial::NotYetOpen, Locale::ZhCn) => "请在下方时间之后再来：届时此链接即可打开，无需重新发送。",
            (Denial::DeviceLimit, Locale::En) => "It has already been opened on as many devices as allowed. Clearing cookies or using a private window counts as a new device and takes a slot. If this is your link, ask the person who sent it to allow one more device.",
            (Denial::DeviceLimit, Locale::ZhCn) => "此链接已在允许数量的设备上打开。清除 Cookie 或使用无痕（隐私）窗口会被视为新设备并占用名额。如果这是发给您的链接，请联系发送者允许再增加一台设备。",
        }
    }
}

impl std::fmt::Display for Denial {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.code())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_and_statuses_match_the_published_table() {
        let table = [
            ("not_found", 404),
            ("link_disabled", 403),
            ("link_expired", 410),
            ("view_limit_reached", 410),
            ("session_expired", 403),
            ("download_disabled", 403),
            ("no_session", 403),
            ("cross_site_request", 403),
            ("password_required", 401),
            ("wrong_password", 401),
            ("too_many_attempts", 429),
            ("password_not_set", 403),
            ("request_too_large", 413),
            ("not_yet_open", 403),
            ("device_limit", 403),
        ];
        assert_eq!(table.len(), Denial::ALL.len(), "one row per denial");
        for denial in Denial::ALL {
            let code = denial.code();
            let &(_, status) = table.iter().find(|(c, _)| *c == code).expect(code);
            assert_eq!(denial.status(), status, "{code}");
            assert_eq!(serde_json::to_string(&denial).unwrap(), format!("\"{code}\""));
        }
    }

    #[test]
    fn every_denial_speaks_every_language() {
        for d in Denial::ALL {
            for l in Locale::ALL {
                assert!(!d.title(l).is_empty() && !d.message(l).is_empty());
            }
            assert_ne!(d.message(Locale::En), d.message(Locale::ZhCn));
        }
    }
}
