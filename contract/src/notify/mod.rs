//! Owner notifications: the channels a site, gallery or link declares (`notify:` in YAML), the
//! events they ask for, one message ([`Notice`]) and how each platform wants it (format and
//! signature). Pure: the worker passes in the clock, the secrets and the locale; the generator
//! validates the declarations. Delivery (aggregation, alarms, retries) is the worker's.

use crate::named::named_enum;
use serde::{Deserialize, Serialize};

named_enum! {
    /// Where a channel sends.
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
    pub enum Platform {
        /// Feishu / Lark custom bot: interactive card, optional timestamp signature.
        Feishu = "feishu",
        /// DingTalk custom robot: markdown, optional signature in the URL.
        Dingtalk = "dingtalk",
        /// WeCom (企业微信) group robot: markdown, no signature (the key is in the URL).
        Wecom = "wecom",
        /// Slack incoming webhook: Block Kit, no signature (the URL is the secret).
        Slack = "slack",
        /// Any HTTPS endpoint: Gatefold's documented JSON, HMAC-SHA256 signed.
        Webhook = "webhook",
    }
}

impl Platform {
    /// Whether the platform signs its requests with a secret of its own (`sign_secret:`):
    /// WeCom and Slack carry their key in the URL and have no signature.
    pub fn signs(self) -> bool {
        matches!(self, Platform::Feishu | Platform::Dingtalk | Platform::Webhook)
    }
}

named_enum! {
    /// What a channel can be told about (`on:`, and the webhook's `type`).
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
    pub enum NotifyKind {
        /// A link's first counted open.
        FirstOpen = "first_open",
        /// Every counted open (opt-in: noisy).
        Open = "open",
        /// An original, a web size or the ZIP downloaded.
        Download = "download",
        /// 80 % of a link's views used.
        LimitNear = "limit_near",
        /// A link's last allowed view used.
        LimitReached = "limit_reached",
        /// A link expires within 48 hours.
        ExpiresSoon = "expires_soon",
        /// A person tried a disabled, expired or used-up link.
        DeniedAfterClose = "denied_after_close",
        /// An owner acted through the admin API (disable, enable, extend, raise, revoke, password,
        /// export).
        OwnerAction = "owner_action",
        /// The daily digest of a gallery.
        Digest = "digest",
        /// Wrong passwords at a link from more networks than a recipient has: a distributed guess
        /// at its password (wrong tries and networks of the last hour in `detail`).
        PasswordAttack = "password_attack",
        /// A scheduled `opens_at:` arrived: the links it held closed open now (once per moment).
        GoLive = "go_live",
        /// A person refused by a closed link asked its owner for access (who, which link, why
        /// it was refused, their device and place, their message).
        AccessRequested = "access_requested",
        /// A recipient link opened from more devices than its limit, or (without one) from 3 or
        /// more devices or 2 or more cities within 24 hours: once per link and day.
        ForwardingSuspected = "forwarding_suspected",
        /// `gatefold notify test`: sent to every channel, never declared in `on:`.
        Test = "test",
    }
}

impl NotifyKind {
    /// What `on:` may list (everything but [`NotifyKind::Test`]).
    pub const DECLARABLE: [NotifyKind; 13] = [
        NotifyKind::FirstOpen,
        NotifyKind::Open,
        NotifyKind::Download,
        NotifyKind::LimitNear,
        NotifyKind::LimitReached,
        NotifyKind::ExpiresSoon,
        NotifyKind::DeniedAfterClose,
        NotifyKind::OwnerAction,
        NotifyKind::Digest,
        NotifyKind::PasswordAttack,
        NotifyKind::GoLive,
        NotifyKind::AccessRequested,
        NotifyKind::ForwardingSuspected,
    ];
}

/// One declared channel, after inheritance (site → gallery → link: the nearer list replaces
/// the wider one; `notify: []` turns notifications off there).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Channel {
    pub to: Platform,
    /// Name of the worker secret (`.dev.vars` locally) holding the URL: never the URL itself.
    pub url_secret: String,
    /// Name of the secret holding the platform's signing secret (the HMAC key for `webhook`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sign_secret: Option<String>,
    pub on: Vec<NotifyKind>,
}

impl Channel {
    /// Whether this channel asks for `kind`.
    pub fn wants(&self, kind: NotifyKind) -> bool {
        self.on.contains(&kind)
    }
}

/// When the daily digest goes out when `site.yaml` does not say: 09:00 in the site timezone.
pub const DEFAULT_DIGEST_HOUR: u8 = 9;

/// One message to send: one event (or all events of one kind on one link within one batching
/// window, with their count), a gallery's digest, or a test.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Notice {
    /// Idempotency key: every retry of this notice carries it, so receivers can drop repeats.
    pub id: String,
    pub kind: NotifyKind,
    pub gallery: String,
    pub gallery_title: String,
    /// The link it is about (none for a digest, a test or an action on a whole gallery).
    pub link: Option<NoticeLink>,
    /// How many events this notice stands for (1 unless batched).
    pub count: u32,
    /// First and last event it stands for (Unix seconds).
    pub first_at: i64,
    pub last_at: i64,
    /// Where the (last) visitor was, e.g. "Shanghai, CN"; their device, e.g. "mobile · iOS · Safari".
    pub place: Option<String>,
    pub device: Option<String>,
    /// A line of its own: an owner action ("extend: 2026-12-01 → 2026-12-08 by 203.0.113.0"),
    /// views used ("16 of 20 views"), the denial ("link_expired").
    pub detail: Option<String>,
    /// What a person wrote (an access request's name and message): their words, escaped by
    /// each platform's format like every other text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    pub digest: Option<Digest>,
    /// The admin page, so the message links to where the owner acts.
    pub admin_url: String,
}

/// The link a notice is about.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NoticeLink {
    /// `<gallery>/<link>` or `<gallery>/<audience>/<recipient>`, or `<gallery>/@<audience>`
    /// for an action on a whole audience.
    pub id: String,
    pub label: String,
    pub audience_label: Option<String>,
}

/// A gallery's daily digest: the day before the digest hour, link by link.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Digest {
    /// The local day it covers, `YYYY-MM-DD` (site timezone).
    pub day: String,
    pub links: Vec<DigestLink>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DigestLink {
    pub id: String,
    pub label: String,
    pub audience_label: Option<String>,
    /// Opens and downloads during the day covered.
    pub opens: u64,
    pub downloads: u64,
    /// Ever (as far as the access log reaches).
    pub opened: bool,
    pub downloaded: bool,
    /// Whether the link offers any download (so "never downloaded" means something).
    pub download_on: bool,
    pub views_left: Option<u64>,
    pub expires_at: Option<i64>,
    /// Flagged "possibly forwarded" during the day covered: the evidence in a line.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub forwarded: Option<String>,
}

/// An HTTP request to make: the channel's URL (with the platform's signature parameters where
/// it wants them there), headers and JSON body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outgoing {
    pub url: String,
    pub headers: Vec<(String, String)>,
    pub body: String,
}
mod render;

pub use render::{feishu_sign, dingtalk_sign, webhook_sign, outgoing, delivered};
