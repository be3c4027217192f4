//! Gallery descriptions: Markdown from the repo, rendered for pages that strangers open.
//!
//! Descriptions come from anyone with write access to the repo and end up on pages shared
//! with outsiders, so the output is restricted: raw HTML is shown as text (no scripts, no
//! styles), links keep only web and mail schemes, and images are reduced to their alt text,
//! as an external image would tell its host about every visitor of a private gallery.

use pulldown_cmark::{Event, Options, Parser, Tag, TagEnd, html};

#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Rendered {
    pub html: String,
    /// Raw HTML fragments that were escaped into visible text.
    pub raw_html: usize,
    /// Link targets removed for their scheme (e.g. `javascript:`).
    pub unsafe_links: Vec<String>,
    /// Images reduced to their alt text.
    pub images: usize,
}

fn is_safe_url(url: &str) -> bool {
    // Browsers ignore whitespace and control characters inside a scheme ("java\tscript:").
    let cleaned: String = url.chars().filter(|c| !c.is_whitespace() && !c.is_control()).collect::<String>().to_ascii_lowercase();
    let scheme_end = cleaned.find(|c: char| !(c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.')));
    match scheme_end {
        Some(i) if cleaned[i..].starts_with(':') && i > 0 => matches!(&cleaned[..i], "http" | "https" | "mailto"),
        _ => true,
    }
}

pub fn render(markdown: &str) -> Rendered {
    let mut out = Rendered::default();
    // One entry per open link: whether it was kept, so its end tag matches.
    let mut links: Vec<bool> = Vec::new();
    let mut events = Vec::new();
    let options = Options::ENABLE_TABLES | Options::ENABLE_STRIKETHROUGH;
    for event in Parser::new_ext(markdown, options) {
        match event {
            Event::Html(h) | Event::InlineHtml(h) => {
                out.raw_html += 1;
                events.push(Event::Text(h));
            }
            Event::Start(Tag::Link { link_type, dest_url, title, id }) => {
                let safe = is_safe_url(&dest_url);
                links.push(safe);
                if safe {
                    events.push(Event::Start(Tag::Link { link_type, dest_url, title, id }));
                } else {
                    out.unsafe_links.push(dest_url.to_string());
                }
            }
            Event::End(TagEnd::Link) => {
                if links.pop().unwrap_or(false) {
                    events.push(Event::End(TagEnd::Link));
                }
            }
            Event::Start(Tag::Image { .. }) => out.images += 1,
            Event::End(TagEnd::Image) => {}
            other => events.push(other),
        }
    }
    html::push_html(&mut out.html, events.into_iter());
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markdown_becomes_html() {
        let r = render("Final assets. **Do not forward.**\n\n- one\n- two\n");
        assert_eq!(r.html, "<p>Final assets. <strong>Do not forward.</strong></p>\n<ul>\n<li>one</li>\n<li>two</li>\n</ul>\n");
    }

    #[test]
    fn raw_html_is_shown_as_text_not_run() {
        let r = render("Hi <script>alert(1)</script>\n\n<iframe src=x></iframe>\n");
        assert!(!r.html.contains("<script"), "{}", r.html);
        assert!(!r.html.contains("<iframe"), "{}", r.html);
        assert!(r.html.contains("&lt;script&gt;"), "{}", r.html);
        assert_eq!(r.raw_html, 3);
    }

    #[test]
    fn script_links_lose_their_target_but_keep_their_text() {
        let r = render("[click](javascript:alert(1)) [ok](https://example.com) [x](JaVaScRiPt:alert(1)) [d](data:text/html,x) [rel](#top)");
        assert!(!r.html.to_lowercase().contains("javascript"), "{}", r.html);
        assert!(!r.html.contains("data:"), "{}", r.html);
        assert!(r.html.contains("click"));
        assert!(r.html.contains(r#"<a href="https://example.com">ok</a>"#), "{}", r.html);
        assert!(r.html.contains(r##"<a href="#top">rel</a>"##), "{}", r.html);
        assert_eq!(r.unsafe_links.len(), 3);
    }

    #[test]
    fn schemes_hidden_by_whitespace_are_still_recognised() {
        assert!(!is_safe_url("java\tscript:alert(1)"));
        assert!(!is_safe_url(" vbscript:x"));
        assert!(is_safe_url("mailto:brand@example.com"));
        assert!(is_safe_url("/relative/page?a=b:c"));
        assert!(is_safe_url("HTTPS://example.com"));
    }

    #[test]
    fn images_become_their_alt_text() {
        let r = render("![the tracking pixel](https://tracker.example/p.gif)");
        assert!(!r.html.contains("<img"), "{}", r.html);
        assert!(r.html.contains("the tracking pixel"));
        assert_eq!(r.images, 1);
    }
}
