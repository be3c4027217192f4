//! Link-preview bots: the fetchers chat apps and social sites send to draw a card for a
//! pasted link. They must never use up a view (peers ship that bug: a link with one view is
//! gone before the recipient taps it), so they get the preview page and its card instead
//! (`visitor::preview`), even when they copy a browser's navigation headers.
//!
//! Fetchers without a published User-Agent (Feishu/Lark's and DingTalk's link cards) need no
//! entry: a server-side fetch sends no browser fetch metadata, so it gets the same card. Their
//! in-app browsers, where people read the links, are people (`Lark/…`, `DingTalk/…`): no
//! marker here may match them.

/// Case-insensitive fragments of link-preview and crawler User-Agents.
const BOT_MARKERS: &[&str] = &[
    "facebookexternalhit",
    "facebot",
    "meta-externalagent",
    "meta-externalfetcher",
    "twitterbot",
    "slackbot",
    "slack-imgproxy",
    "telegrambot",
    "whatsapp",
    "discordbot",
    "linkedinbot",
    "skypeuripreview",
    "microsoftpreview",
    "teamsbot",
    "applebot",
    "imessagelinkpreviews",
    "googlebot",
    "google-inspectiontool",
    "bingbot",
    "bingpreview",
    "baiduspider",
    "yandexbot",
    "duckduckbot",
    "sogou web spider",
    "bytespider",
    "pinterestbot",
    "redditbot",
    "embedly",
    "snap url preview",
    "viber",
    "line-poker",
    "kakaotalk-scrap",
    "wechatbot",
    "qq-url-manager",
];

/// Whether a request comes from a link-preview bot or crawler rather than a person.
///
/// WeChat needs care: its in-app browser, which people read shared links in, carries
/// `MicroMessenger` in a full browser User-Agent (`Mozilla/5.0 … MicroMessenger/8.0 …`), so
/// that marker alone means a person. WeChat's server-side card fetcher does not present a
/// browser: a `MicroMessenger` User-Agent without the `Mozilla/` prefix is treated as the
/// crawler, as is anything calling itself a WeChat bot.
pub fn is_preview_bot(user_agent: Option<&str>) -> bool {
    let Some(ua) = user_agent else { return false };
    let lower = ua.to_ascii_lowercase();
    if BOT_MARKERS.iter().any(|m| lower.contains(m)) {
        return true;
    }
    lower.contains("micromessenger") && !lower.starts_with("mozilla/")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chat_and_social_preview_fetchers_are_bots() {
        let bots = [
            "facebookexternalhit/1.1 (+http://www.facebook.com/externalhit_uatext.php)",
            "Facebot",
            "WhatsApp/2.23.20.0 A",
            "Slackbot-LinkExpanding 1.0 (+https://api.slack.com/robots)",
            "Slack-ImgProxy (+https://api.slack.com/robots)",
            "TelegramBot (like TwitterBot)",
            "Twitterbot/1.0",
            "Mozilla/5.0 (compatible; Discordbot/2.0; +https://discordapp.com)",
            "LinkedInBot/1.0 (compatible; Mozilla/5.0; Apache-HttpClient +http://www.linkedin.com)",
            "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_11_1) AppleWebKit/601.2.4 (KHTML, like Gecko) Version/9.0.1 Safari/601.2.4 facebookexternalhit/1.1 Facebot Twitterbot/1.0",
            "Mozilla/5.0 (Windows NT 6.1; WOW64) SkypeUriPreview Preview/0.5",
            "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/51.0.2704.103 Safari/537.36 MicrosoftPreview/2.0",
            "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_5) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/13.1.1 Safari/605.1.15 (Applebot/0.1; +http://www.apple.com/go/applebot)",
            "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
            "MicroMessenger Client",
            "Mozilla/5.0 (compatible; WeChatBot/1.0)",
        ];
        for ua in bots {
            assert!(is_preview_bot(Some(ua)), "{ua}");
        }
    }

    #[test]
    fn people_in_browsers_and_in_wechat_are_not_bots() {
        let people = [
            "Mozilla/5.0 (Linux; Android 13; SM-S9080 Build/TP1A.220624.014; wv) AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 Chrome/116.0.0.0 Mobile Safari/537.36 XWEB/1160065 MMWEBSDK/20231202 MMWEBID/2247 MicroMessenger/8.0.47.2560(0x28002F30) WeChat/arm64 Weixin NetType/WIFI Language/zh_CN ABI/arm64",
            "Mozilla/5.0 (iPhone; CPU iPhone OS 17_2 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148 MicroMessenger/8.0.44(0x18002c2d) NetType/WIFI Language/zh_CN",
            "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36",
            "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1",
        ];
        for ua in people {
            assert!(!is_preview_bot(Some(ua)), "{ua}");
        }
        // People reading a link inside Feishu/Lark or DingTalk: their in-app browsers.
        let chat_browsers = [
            "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_1_1) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/121.0.6167.86 Safari/537.36 Lark/7.27.8 LarkLocale/zh_CN ttnet SDK-Version/7.27.8",
            "Mozilla/5.0 (iPhone) Lark/7.30.5 LarkLocale/zh_CN",
            "Mozilla/5.0 (iPhone; CPU iPhone OS 17_2 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148 AliApp(DingTalk/7.5.5) com.laiwang.DingTalk/32430542 Channel/201200 language/zh-Hans-CN",
        ];
        for ua in chat_browsers {
            assert!(!is_preview_bot(Some(ua)), "{ua}");
        }
        assert!(!is_preview_bot(None), "no User-Agent is not proof of a bot");
    }
}
