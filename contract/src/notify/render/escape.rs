//! Text from owners and visitors (gallery titles, audience, link and recipient labels pasted
//! from partners' CSVs, places, devices) made inert in each platform's markup, so a label can
//! never become a link, an image fetched by every reader's client, or a mention. Each platform
//! is escaped by its own published rule.

/// Feishu / Lark `lark_md`. Feishu's card documentation ("富文本（Markdown）", section
/// "特殊字符转义说明"):
///
/// > 如果要展示的字符命中了 markdown 语法使用的特殊字符（例如 `*、~、>、<` 这些特殊符号），需要对特殊
/// > 字符进行 HTML 转义，才可正常展示。… 转义后的格式为 `&#实体编号;`。
///
/// with its table: `>` `&#62;`, `<` `&#60;`, `~` `&sim;`, `-` `&#45;`, `!` `&#33;`,
/// `*` `&#42;`, `/` `&#47;`, `\` `&#92;`, `[` `&#91;`, `]` `&#93;`, `(` `&#40;`, `)` `&#41;`,
/// `#` `&#35;`, `:` `&#58;`, `+` `&#43;`, `"` `&#34;`, `'` `&#39;`, `` ` `` `&#96;`,
/// `$` `&#36;`, `_` `&#95;`. Every character of that table is written as its entity (so
/// `<at id=all></at>` is no mention and `[a](b)` no link), and `&` too, so an entity typed
/// into a label shows as typed instead of turning into the character it names.
pub fn feishu(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '~' => out.push_str("&sim;"),
            '>' | '<' | '-' | '!' | '*' | '/' | '\\' | '[' | ']' | '(' | ')' | '#' | ':' | '+' | '"' | '\'' | '`' | '$' | '_' | '&' => {
                out.push_str(&format!("&#{};", u32::from(c)));
            }
            c => out.push(c),
        }
    }
    out
}

/// DingTalk custom-robot markdown and WeCom group-robot markdown. Neither documents any escape:
///
/// - DingTalk ("自定义机器人发送群消息", markdown 类型): "目前只支持 Markdown 语法的子集" — 标题
///   `# 一级标题`, 引用 `> …`, 文字加粗 `**bold**`, 斜体 `*italic*`, 链接 `[this is a
///   link](https://www.dingtalk.com/)`, 图片 `![](http://name.com/pic.jpg)`, 无序列表 `- item1`,
///   有序列表 `1. item1`; no backslash escape and no entity are documented.
/// - WeCom ("群机器人配置说明", markdown 类型): "目前支持的 markdown 语法是如下的子集" — 标题
///   `# 标题一`, 加粗 `**bold**`, 链接 `[这是一个链接](http://work.weixin.qq.com/api/doc)`,
///   行内代码段 `` `code` ``, 引用 `> 引用文字`, 字体颜色 `<font color="info">绿色</font>`, and
///   "机器人的 text/markdown 类型消息支持在 content 中使用 `<@userid>` 扩展语法来 @ 群成员".
///
/// With no escape to rely on, every character that opens one of those constructs is written as
/// its full-width form (U+FF01–U+FF5E): it reads the same to a person, and neither renderer
/// parses it. A list marker (`-`, `+`) counts only at the start, where a label could begin a
/// nested list; elsewhere it stays as typed ("Dealer - North").
pub fn inert_markdown(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for (i, c) in text.chars().enumerate() {
        let wide = match c {
            '[' | ']' | '(' | ')' | '<' | '>' | '!' | '*' | '_' | '~' | '`' | '#' | '|' | '\\' | '&' => true,
            '-' | '+' => i == 0,
            _ => false,
        };
        // The full-width forms sit at a fixed distance from ASCII 0x21–0x7E.
        out.push(if wide { char::from_u32(u32::from(c) + 0xFEE0).unwrap_or(c) } else { c });
    }
    out
}

/// Slack mrkdwn (https://api.slack.com/reference/surfaces/formatting, "Escaping text"): the
/// three control characters are converted to HTML entities, `&` to `&amp;`, `<` to `&lt;`, `>`
/// to `&gt;`; links and mentions only exist inside `<…>`.
pub fn slack(text: &str) -> String {
    text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn feishu_writes_every_character_of_its_table_as_an_entity() {
        assert_eq!(feishu("[a](b) <at id=all></at>"), "&#91;a&#93;&#40;b&#41; &#60;at id=all&#62;&#60;&#47;at&#62;");
        assert_eq!(feishu("~&#91;"), "&sim;&#38;&#35;91;", "a typed entity shows as typed");
        assert_eq!(feishu("渠道伙伴 007"), "渠道伙伴 007");
    }

    #[test]
    fn dingtalk_and_wecom_text_is_made_full_width_where_it_could_open_markup() {
        assert_eq!(inert_markdown("![x](https://t)"), "！［x］（https://t）");
        assert_eq!(inert_markdown("<@all> <font>"), "＜@all＞ ＜font＞", "no WeCom mention, no colour tag");
        assert_eq!(inert_markdown("- a - b"), "－ a - b", "a list marker only at the start");
        assert_eq!(inert_markdown("Dealer 007, Shanghai"), "Dealer 007, Shanghai");
    }
}
