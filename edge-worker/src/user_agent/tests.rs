use super::*;

/// Real User-Agents and the labels the log has always given them: `(ua, device, os, browser)`.
const BROWSERS: &[(&str, &str, &str, &str)] = &[
    // Desktop browsers.
    (
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36",
        "desktop",
        "Windows 10",
        "Chrome",
    ),
    (
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36 Edg/131.0.0.0",
        "desktop",
        "Windows 10",
        "Edge",
    ),
    (
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:133.0) Gecko/20100101 Firefox/133.0",
        "desktop",
        "Windows 10",
        "Firefox",
    ),
    (
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0.0.0 Safari/537.36 OPR/115.0.0.0",
        "desktop",
        "Windows 10",
        "Opera",
    ),
    (
        "Mozilla/5.0 (Windows NT 6.1; WOW64; Trident/7.0; rv:11.0) like Gecko",
        "desktop",
        "Windows 7",
        "Internet Explorer",
    ),
    (
        "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Safari/605.1.15",
        "desktop",
        "Mac OSX",
        "Safari",
    ),
    (
        "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36",
        "desktop",
        "Mac OSX",
        "Chrome",
    ),
    (
        "Mozilla/5.0 (Macintosh; Intel Mac OS X 10.15; rv:133.0) Gecko/20100101 Firefox/133.0",
        "desktop",
        "Mac OSX",
        "Firefox",
    ),
    (
        "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36 Edg/131.0.0.0",
        "desktop",
        "Mac OSX",
        "Edge",
    ),
    (
        "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36",
        "desktop",
        "Linux",
        "Chrome",
    ),
    (
        "Mozilla/5.0 (X11; Ubuntu; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0",
        "desktop",
        "Linux",
        "Firefox",
    ),
    (
        "Mozilla/5.0 (X11; CrOS x86_64 14541.0.0) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36",
        "desktop",
        "ChromeOS",
        "Chrome",
    ),
    (
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 YaBrowser/24.12.0.0 Safari/537.36",
        "desktop",
        "Windows 10",
        "Yandex Browser",
    ),
    (
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36 Vivaldi/7.0.3495.18",
        "desktop",
        "Windows 10",
        "Vivaldi",
    ),
    // Phones and tablets.
    (
        "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Mobile/15E148 Safari/604.1",
        "mobile",
        "iPhone",
        "Safari",
    ),
    (
        "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) CriOS/131.0.6778.73 Mobile/15E148 Safari/604.1",
        "mobile",
        "iPhone",
        "Chrome",
    ),
    (
        "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) FxiOS/133.0 Mobile/15E148 Safari/605.1.15",
        "mobile",
        "iPhone",
        "Firefox",
    ),
    (
        "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) EdgiOS/131.0.2903.68 Version/18.0 Mobile/15E148 Safari/604.1",
        "mobile",
        "iPhone",
        "Edge",
    ),
    (
        "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) GSA/343.0.695551749 Mobile/15E148 Safari/604.1",
        "mobile",
        "iPhone",
        "Google Search App",
    ),
    (
        "Mozilla/5.0 (iPad; CPU OS 17_7 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.7 Mobile/15E148 Safari/604.1",
        "mobile",
        "iPad",
        "Safari",
    ),
    (
        "Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Mobile Safari/537.36",
        "mobile",
        "Android",
        "Chrome",
    ),
    (
        "Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Mobile Safari/537.36 EdgA/131.0.0.0",
        "mobile",
        "Android",
        "Edge",
    ),
    (
        "Mozilla/5.0 (Linux; Android 14; SM-S928B) AppleWebKit/537.36 (KHTML, like Gecko) SamsungBrowser/26.0 Chrome/122.0.0.0 Mobile Safari/537.36",
        "mobile",
        "Android",
        "SamsungBrowser",
    ),
    (
        "Mozilla/5.0 (Android 14; Mobile; rv:133.0) Gecko/133.0 Firefox/133.0",
        "mobile",
        "Android",
        "Firefox",
    ),
    (
        "Mozilla/5.0 (Linux; Android 14; Pixel 8 Build/AP2A.240805.005; wv) AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 Chrome/131.0.6778.81 Mobile Safari/537.36",
        "mobile",
        "Android",
        "Webview",
    ),
    // In-app browsers: WeChat, WeCom, Feishu (Lark) and DingTalk.
    (
        "Mozilla/5.0 (Linux; Android 13; SM-S9080 Build/TP1A.220624.014; wv) AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 Chrome/116.0.0.0 Mobile Safari/537.36 XWEB/1160065 MMWEBSDK/20231202 MMWEBID/2247 MicroMessenger/8.0.47.2560(0x28002F30) WeChat/arm64 Weixin NetType/WIFI Language/zh_CN ABI/arm64",
        "mobile",
        "Android",
        "Webview",
    ),
    (
        "Mozilla/5.0 (iPhone; CPU iPhone OS 17_2 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148 MicroMessenger/8.0.44(0x18002c2d) NetType/WIFI Language/zh_CN",
        "mobile",
        "iPhone",
        "Webview",
    ),
    (
        "Mozilla/5.0 (Windows NT 10.0; WOW64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/81.0.4044.138 Safari/537.36 NetType/WIFI MicroMessenger/7.0.20.1781(0x6700143B) WindowsWechat(0x63090a13) XWEB/9129 Flue",
        "desktop",
        "Windows 10",
        "Chrome",
    ),
    (
        "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) MicroMessenger/6.8.0(0x16080000) MacWechat/3.8.7(0x13080712) XWEB/1191 Flue",
        "desktop",
        "Mac OSX",
        "unknown",
    ),
    (
        "Mozilla/5.0 (Linux; Android 12; M2102K1C Build/SKQ1.211006.001; wv) AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 Chrome/86.0.4240.99 XWEB/4343 MMWEBSDK/20220805 Mobile Safari/537.36 wxwork/4.0.16 MicroMessenger/7.0.1 NetType/WIFI Language/zh ColorScheme/Light",
        "mobile",
        "Android",
        "Webview",
    ),
    (
        "Mozilla/5.0 (iPhone; CPU iPhone OS 16_6 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148 wxwork/4.1.10 MicroMessenger/7.0.1 Language/zh ColorScheme/Light",
        "mobile",
        "iPhone",
        "Webview",
    ),
    (
        "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148 Lark/7.20.6 LarkLocale/zh_CN ChannelName/Feishu",
        "mobile",
        "iPhone",
        "Webview",
    ),
    (
        "Mozilla/5.0 (Linux; Android 13; PHB110 Build/TP1A.220905.001; wv) AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 Chrome/114.0.5735.196 Mobile Safari/537.36 Lark/7.21.5 LarkLocale/zh_CN ChannelName/Feishu",
        "mobile",
        "Android",
        "Webview",
    ),
    (
        "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/114.0.5735.289 Safari/537.36 Lark/7.20.9 LarkLocale/zh_CN ChannelName/Feishu SDK-Version/7.20.12",
        "desktop",
        "Mac OSX",
        "Chrome",
    ),
    (
        "Mozilla/5.0 (Linux; U; Android 13; zh-CN; V2227A Build/TP1A.220624.014) AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 Chrome/69.0.3497.100 UWS/3.22.2.59 Mobile Safari/537.36 AliApp(DingTalk/7.5.0) com.alibaba.android.rimet/33412014 Channel/10003 language/zh-CN abi/64 UT4Aplus/0.2.25 colorScheme/light",
        "mobile",
        "Android",
        "Chrome",
    ),
    (
        "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148 AliApp(DingTalk/7.5.10) com.laiwang.DingTalk/33466073 Channel/201200 language/zh-Hans-CN UT4Aplus/0.0.6 WK",
        "mobile",
        "iPhone",
        "Webview",
    ),
    (
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/91.0.4472.124 Safari/537.36 dingtalk-win/1.0.0 nw(0.14.7) DingTalk(7.5.0-Release.12345) Mojo/1.0.0 Native AppType(release) Channel/201200",
        "desktop",
        "Windows 10",
        "Chrome",
    ),
];

/// The link-preview fetchers `crate::bots` knows, as the log labels them (a preview presenting
/// a full browser User-Agent is labelled as that browser; `bots` still treats it as a bot).
const PREVIEWS: &[(&str, &str, &str, &str)] = &[
    (
        "facebookexternalhit/1.1 (+http://www.facebook.com/externalhit_uatext.php)",
        "bot",
        "unknown",
        "facebook",
    ),
    ("Facebot", "bot", "unknown", "misc crawler"),
    ("WhatsApp/2.23.20.0 A", "other", "unknown", "unknown"),
    (
        "Slackbot-LinkExpanding 1.0 (+https://api.slack.com/robots)",
        "bot",
        "unknown",
        "misc crawler",
    ),
    (
        "Slack-ImgProxy (+https://api.slack.com/robots)",
        "other",
        "unknown",
        "unknown",
    ),
    (
        "TelegramBot (like TwitterBot)",
        "bot",
        "unknown",
        "misc crawler",
    ),
    ("Twitterbot/1.0", "bot", "unknown", "twitter"),
    (
        "Mozilla/5.0 (compatible; Discordbot/2.0; +https://discordapp.com)",
        "bot",
        "unknown",
        "misc crawler",
    ),
    (
        "LinkedInBot/1.0 (compatible; Mozilla/5.0; Apache-HttpClient +http://www.linkedin.com)",
        "bot",
        "unknown",
        "misc crawler",
    ),
    (
        "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_11_1) AppleWebKit/601.2.4 (KHTML, like Gecko) Version/9.0.1 Safari/601.2.4 facebookexternalhit/1.1 Facebot Twitterbot/1.0",
        "bot",
        "unknown",
        "facebook",
    ),
    (
        "Mozilla/5.0 (Windows NT 6.1; WOW64) SkypeUriPreview Preview/0.5",
        "desktop",
        "Windows 7",
        "unknown",
    ),
    (
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/51.0.2704.103 Safari/537.36 MicrosoftPreview/2.0",
        "desktop",
        "Windows 10",
        "Chrome",
    ),
    (
        "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_5) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/13.1.1 Safari/605.1.15 (Applebot/0.1; +http://www.apple.com/go/applebot)",
        "desktop",
        "Mac OSX",
        "Safari",
    ),
    (
        "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
        "bot",
        "unknown",
        "Googlebot",
    ),
    (
        "Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)",
        "bot",
        "unknown",
        "bingbot",
    ),
    (
        "Mozilla/5.0 (compatible; Baiduspider/2.0; +http://www.baidu.com/search/spider.html)",
        "bot",
        "unknown",
        "Baiduspider",
    ),
    (
        "Mozilla/5.0 (compatible; Bytespider; spider-feedback@bytedance.com)",
        "bot",
        "unknown",
        "misc crawler",
    ),
    ("MicroMessenger Client", "other", "unknown", "unknown"),
    (
        "Mozilla/5.0 (compatible; WeChatBot/1.0)",
        "bot",
        "unknown",
        "misc crawler",
    ),
];

/// Tools and nothing at all.
const OTHERS: &[(&str, &str, &str, &str)] = &[
    ("", "other", "unknown", "unknown"),
    ("-", "other", "unknown", "unknown"),
    ("curl/8.5.0", "other", "unknown", "HTTP Library"),
    ("Wget/1.21.4", "other", "unknown", "HTTP Library"),
    ("Python-urllib/3.11", "other", "unknown", "HTTP Library"),
    ("python-requests/2.32.3", "other", "unknown", "unknown"),
    ("Go-http-client/2.0", "other", "unknown", "unknown"),
    ("node", "other", "unknown", "unknown"),
    ("Mozilla/5.0", "other", "unknown", "unknown"),
];

fn check(corpus: &[(&str, &'static str, &'static str, &'static str)]) {
    for &(ua, device, os, browser) in corpus {
        assert_eq!(
            classify(ua),
            Client {
                device,
                os,
                browser
            },
            "{ua}"
        );
    }
}

#[test]
fn current_desktop_and_mobile_browsers_get_their_family_and_os() {
    check(BROWSERS);
}

#[test]
fn link_previews_keep_the_labels_the_log_gave_them() {
    check(PREVIEWS);
}

#[test]
fn tools_and_empty_agents_are_other_or_an_http_library() {
    check(OTHERS);
}

#[test]
fn every_label_is_short_enough_for_its_log_column() {
    let max = |name: &str| {
        crate::access::COLUMNS
            .iter()
            .find(|c| c.name == name)
            .map(|c| c.max_chars)
            .unwrap()
    };
    for &(ua, ..) in BROWSERS.iter().chain(PREVIEWS).chain(OTHERS) {
        let c = classify(ua);
        assert!(
            c.device.len() <= max("device")
                && c.os.len() <= max("os")
                && c.browser.len() <= max("browser"),
            "{ua}"
        );
    }
}

#[test]
fn a_long_or_hostile_agent_is_classified_without_panicking() {
    let odd = [
        "Windows ",
        "Windows Phone ",
        "YaBrowser/",
        "YaBrowser/1.2.3.",
        "Edg/",
        "like Mac OS X iPhone;",
        "城市 Windows 城;",
        "Mozilla/5.0 (Windows \\",
    ];
    for ua in odd {
        let c = classify(ua);
        assert!(!c.browser.is_empty() && !c.os.is_empty(), "{ua}");
    }
    assert_eq!(classify(&"a".repeat(10_000)).device, "other");
}
