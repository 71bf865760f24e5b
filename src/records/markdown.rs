//! Documents: Markdown rendered to HTML, then sanitized (raw HTML, scripts, event handlers and
//! `javascript:` links removed) before it reaches a page.

use std::fmt;

/// HTML that went through the sanitizer; the only HTML from users that templates print unescaped.
pub struct SanitizedHtml(String);

impl fmt::Display for SanitizedHtml {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl askama::filters::HtmlSafe for SanitizedHtml {}

pub fn render(markdown: &str) -> SanitizedHtml {
    let parser = pulldown_cmark::Parser::new_ext(markdown, pulldown_cmark::Options::ENABLE_TABLES);
    let mut html = String::new();
    pulldown_cmark::html::push_html(&mut html, parser);
    let clean = ammonia::Builder::default()
        .url_schemes(["http", "https", "mailto"].into_iter().collect())
        .link_rel(Some("noopener noreferrer nofollow"))
        .clean(&html)
        .to_string();
    SanitizedHtml(clean)
}

#[cfg(test)]
mod tests {
    use super::render;

    #[test]
    fn scripts_handlers_and_javascript_links_go() {
        let html = render("# Hi\n\n<script>alert(1)</script>\n\n<img src=x onerror=alert(1)>\n\n[x](javascript:alert(1)) [ok](https://example.com)").to_string();
        assert!(html.contains("<h1>Hi</h1>"));
        assert!(
            !html.contains("<script") && !html.contains("onerror") && !html.contains("javascript:")
        );
        assert!(html.contains("href=\"https://example.com\""));
    }
}
