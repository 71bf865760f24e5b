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
        .url_schemes(["http", "https", "mailto", "data"].into_iter().collect())
        .attribute_filter(|element, attribute, value| {
            let data = ammonia::Url::parse(value).is_ok_and(|u| u.scheme() == "data");
            (!data || (element, attribute) == ("img", "src") && is_image_data(value))
                .then_some(std::borrow::Cow::Borrowed(value))
        })
        .link_rel(Some("noopener noreferrer nofollow"))
        .clean(&html)
        .to_string();
    SanitizedHtml(clean)
}

/// An image inlined as `data:` (an imported document's): raster types only, never SVG or HTML.
fn is_image_data(value: &str) -> bool {
    ["png", "jpeg", "gif", "webp"]
        .iter()
        .any(|t| value.starts_with(&format!("data:image/{t};base64,")))
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

    #[test]
    fn only_raster_images_may_be_data() {
        let html = render("<div><img src=\"data:image/png;base64,AAAA\"><img src=\"data:image/svg+xml;base64,AAAA\"><a href=\"data:text/html,x\">a</a><a href=\"da&#9;ta:text/html,x\">b</a><a href=\"data:image/png;base64,AAAA\">c</a></div>").to_string();
        assert_eq!(html.matches("data:").count(), 1, "{html}");
        assert!(
            html.contains("<img src=\"data:image/png;base64,AAAA\">"),
            "{html}"
        );
    }
}
