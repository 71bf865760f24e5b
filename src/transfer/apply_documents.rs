//! Documents of an IT Glue export: each row's body found by its `DOC-{org}-{doc}` folder, its HTML
//! sanitized (ammonia) into a body Roster's Markdown renderer passes through as it is, its images
//! inlined as `data:` URIs when small, its links to other IT Glue documents pointed at Roster's.

use std::borrow::Cow;
use std::collections::{HashMap, HashSet};
use std::io::Read;
use std::sync::{Arc, Mutex};

use ammonia::Url;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;

use diesel::prelude::*;

use super::TransferError;
use super::apply::Batches;
use super::known;
use super::merge::{self, Values};
use super::source::Source;
use crate::db::DbConn;
use crate::db::schema::{import_sources as s, records as r};
use crate::records::values::LONG_MAX;
use crate::records::{Kind, bulk};

/// The largest image kept inside a document (Roster has no attachment storage, and a document's
/// body holds at most `LONG_MAX` characters): larger ones are reported, not imported.
pub const IMAGE_MAX: usize = 48 * 1024;
/// The largest HTML file read for a body.
const HTML_MAX: u64 = 5 << 20;

/// Where each IT Glue document's HTML is in the export, by the document's IT Glue id (read from
/// the `DOC-{org}-{doc}` prefix of its folder, wherever that folder is).
#[derive(Debug, Default)]
pub struct DocIndex {
    html: HashMap<String, String>,
    /// Every file of the export in lower case, to find images.
    names: HashMap<String, String>,
}

/// The document id of a path segment `DOC-{org}-{doc} {name}`.
fn doc_id(segment: &str) -> Option<&str> {
    let rest = segment.strip_prefix("DOC-")?;
    let ids = rest.split([' ', '/']).next()?;
    let (org, doc) = ids.split_once('-')?;
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    (digits(org) && digits(doc)).then_some(doc)
}

impl DocIndex {
    pub fn new(names: &[String]) -> DocIndex {
        let mut out = DocIndex::default();
        for name in names {
            let lower = name.to_lowercase();
            if lower.ends_with(".html") || lower.ends_with(".htm") {
                let found = name.split('/').rev().skip(1).find_map(doc_id);
                if let Some(id) = found {
                    out.html
                        .entry(id.to_owned())
                        .or_insert_with(|| name.clone());
                }
            }
            out.names.insert(lower, name.clone());
        }
        out
    }

    /// The file `src` names, relative to the folder of `html`: as written, else without its
    /// extension (an image saved without one is known by its content).
    fn image(&self, html: &str, src: &str) -> Option<String> {
        let decoded = percent_encoding::percent_decode_str(src).decode_utf8_lossy();
        let mut parts: Vec<&str> = html.split('/').collect();
        parts.pop();
        for part in decoded.split('/') {
            match part {
                "" | "." => {}
                ".." => {
                    parts.pop();
                }
                other => parts.push(other),
            }
        }
        let path = parts.join("/").to_lowercase();
        let bare = path.rsplit_once('.').map(|(b, _)| b.to_owned());
        self.names
            .get(&path)
            .or_else(|| bare.and_then(|b| self.names.get(&b)))
            .cloned()
    }
}

/// A document's body, ready to store, and what the report should say about it.
#[derive(Debug, Default)]
pub struct Body {
    pub markdown: String,
    pub notes: Vec<String>,
    /// Too long to keep: the row fails with this reason.
    pub refused: Option<String>,
}

/// IT Glue ids of documents -> the Roster address each was imported as.
pub type Links = HashMap<String, String>;

/// The IT Glue document id a link points at (`https://x.itglue.com/{org}/docs/{doc}`).
pub fn linked_doc(href: &str) -> Option<String> {
    let url = Url::parse(href).ok()?;
    let host = url.host_str()?.to_lowercase();
    if host != "itglue.com" && !host.ends_with(".itglue.com") {
        return None;
    }
    let segments: Vec<&str> = url.path_segments()?.collect();
    let at = segments.iter().position(|s| *s == "docs")?;
    let id = segments.get(at + 1)?;
    (!id.is_empty() && id.bytes().all(|b| b.is_ascii_digit())).then(|| (*id).to_owned())
}

fn base_cleaner() -> ammonia::Builder<'static> {
    let mut b = ammonia::Builder::default();
    b.url_schemes(["http", "https", "mailto"].into_iter().collect())
        .link_rel(Some("noopener noreferrer nofollow"));
    b
}

/// Pass one: the export's HTML sanitized; the image sources and IT Glue links it holds.
fn first_pass(html: &str) -> (String, Vec<String>, Vec<String>) {
    let seen: Arc<Mutex<(Vec<String>, Vec<String>)>> = Arc::default();
    let collect = seen.clone();
    let clean = base_cleaner()
        .attribute_filter(move |element, attribute, value| {
            if let Ok(mut seen) = collect.lock() {
                match (element, attribute) {
                    ("img", "src") => seen.0.push(value.to_owned()),
                    ("a", "href") if linked_doc(value).is_some() => seen.1.push(value.to_owned()),
                    _ => {}
                }
            }
            Some(Cow::Borrowed(value))
        })
        .clean(html)
        .to_string();
    let (images, links) = seen.lock().map(|s| s.clone()).unwrap_or_default();
    (clean, images, links)
}

/// Pass two: the sanitized HTML with `replace`d image sources and links (these alone may be
/// `data:` URIs: everything else already passed pass one's schemes).
/// Always run, even with nothing to replace, so that a body is the same whichever links resolved.
fn second_pass(html: &str, replace: HashMap<String, String>) -> String {
    base_cleaner()
        .attribute_filter(move |element, attribute, value| {
            match (element, attribute) {
                ("img", "src") | ("a", "href") => {
                    if let Some(new) = replace.get(value) {
                        return Some(Cow::Owned(new.clone()));
                    }
                }
                _ => {}
            }
            Some(Cow::Borrowed(value))
        })
        .clean(html)
        .to_string()
}

/// The image at `path` as a `data:` URI, or why it is not kept.
fn inline(source: &mut Source, path: &str) -> Result<String, String> {
    let mut bytes = Vec::new();
    source
        .open_file(path)
        .map_err(|e| e.to_string())?
        .take(IMAGE_MAX as u64 + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| e.to_string())?;
    if bytes.len() > IMAGE_MAX {
        return Err(format!(
            "it is larger than the {} KB a document keeps inline (Roster has no attachment \
             storage); it was not imported",
            IMAGE_MAX / 1024
        ));
    }
    let mime = match image::guess_format(&bytes) {
        Ok(image::ImageFormat::Png) => "image/png",
        Ok(image::ImageFormat::Jpeg) => "image/jpeg",
        Ok(image::ImageFormat::Gif) => "image/gif",
        Ok(image::ImageFormat::WebP) => "image/webp",
        _ => {
            return Err("it is not a PNG, JPEG, GIF or WebP image; it was not imported".into());
        }
    };
    Ok(format!("data:{mime};base64,{}", STANDARD.encode(&bytes)))
}

/// Sanitized HTML as a Markdown body: one HTML block (a `<div>` line with no blank line in it), so
/// the renderer passes it through unchanged and sanitizes it again on the way to the page.
fn as_markdown(html: &str) -> String {
    let html = html.replace('\r', "").replace('\n', "&#10;");
    if html.trim().is_empty() {
        String::new()
    } else {
        format!("<div>{html}</div>")
    }
}

/// A body as the HTML file of an export: Roster's rendering, without the `<div>` that
/// `as_markdown` put around an imported body (the next import puts it back: a round trip keeps
/// the body as it was).
pub fn as_html(body: &str) -> String {
    let html = crate::records::markdown::render(body).to_string();
    let imported = body.starts_with("<div>") && body.ends_with("</div>") && !body.contains('\n');
    match html
        .strip_prefix("<div>")
        .and_then(|h| h.strip_suffix("</div>"))
    {
        Some(inner) if imported => inner.to_owned(),
        _ => html,
    }
}

/// Reads, sanitizes and completes the body of document `id`; `links` resolves IT Glue ids of
/// linked documents to Roster addresses.
pub fn load(
    source: &mut Source,
    index: &DocIndex,
    id: &str,
    links: &mut dyn FnMut(&[String]) -> Links,
) -> Result<Body, TransferError> {
    let mut body = Body::default();
    let Some(path) = index.html.get(id) else {
        body.notes.push(format!(
            "document {id} has no body in the export (no documents/DOC-…-{id} folder): it was \
             imported empty"
        ));
        return Ok(body);
    };
    let mut bytes = Vec::new();
    source
        .open_file(path)?
        .take(HTML_MAX)
        .read_to_end(&mut bytes)
        .map_err(|e| TransferError::Archive(format!("{path} cannot be read: {e}")))?;
    let text = match String::from_utf8(bytes) {
        Ok(text) => text,
        Err(e) => encoding_rs::WINDOWS_1252
            .decode(e.as_bytes())
            .0
            .into_owned(),
    };
    let (clean, images, hrefs) = first_pass(&text);
    let mut replace = HashMap::new();
    let mut done = HashSet::new();
    for src in images {
        if !done.insert(src.clone()) || Url::parse(&src).is_ok() {
            continue;
        }
        match index.image(path, &src) {
            None => body.notes.push(format!(
                "the image \"{src}\" of {path} is not in the export: it is missing from the \
                 document"
            )),
            Some(file) => match inline(source, &file) {
                Ok(uri) => {
                    replace.insert(src, uri);
                }
                Err(why) => body.notes.push(format!("the image {file}: {why}")),
            },
        }
    }
    let ids: Vec<String> = hrefs.iter().filter_map(|h| linked_doc(h)).collect();
    if !ids.is_empty() {
        let targets = links(&ids);
        for href in hrefs {
            if let Some(target) = linked_doc(&href).and_then(|doc| targets.get(&doc)) {
                replace.insert(href, target.clone());
            }
        }
    }
    let mut markdown = as_markdown(&second_pass(&clean, replace.clone()));
    if markdown.chars().count() > LONG_MAX {
        // Images first: without them the text may fit.
        let without: HashMap<String, String> = replace
            .into_iter()
            .filter(|(_, v)| !v.starts_with("data:"))
            .collect();
        markdown = as_markdown(&second_pass(&clean, without));
        body.notes
            .retain(|n| !n.starts_with("the image") || !n.contains("not in the export"));
        body.notes.push(format!(
            "the images of {path} were not imported: with them the document passes the \
             {LONG_MAX} characters Roster keeps"
        ));
    }
    if markdown.chars().count() > LONG_MAX {
        body.refused = Some(format!(
            "the document has more than the {LONG_MAX} characters Roster keeps"
        ));
    }
    if markdown.is_empty() {
        body.notes.push(format!(
            "{path} is empty: the document was imported without a body"
        ));
    }
    body.markdown = markdown;
    Ok(body)
}

/// The `href="…"` values of a stored body that point at IT Glue documents: (as written, IT Glue id).
fn stored_links(body: &str) -> Vec<(String, String)> {
    body.split("href=\"")
        .skip(1)
        .filter_map(|rest| rest.split('"').next())
        .filter_map(|written| {
            let href = written.replace("&amp;", "&");
            linked_doc(&href).map(|id| (written.to_owned(), id))
        })
        .collect()
}

/// Links of stored bodies to documents imported after them (later in the same export), now
/// pointed at Roster's: the same body a later import computes, so it changes nothing.
pub fn relink(
    conn: &mut DbConn,
    batches: &Batches<'_>,
) -> Result<super::run::Tally, crate::jobs::JobError> {
    let kind = super::itglue::source_kind(Kind::Document);
    let rows: Vec<(String, String, i64, i64, String)> = s::table
        .inner_join(r::table.on(r::id.eq(s::target_id)))
        .filter(s::kind.eq(kind))
        .filter(r::field_values.like("%itglue.com%"))
        .select((
            s::source_id,
            s::fingerprint,
            r::id,
            r::organization_id,
            r::field_values,
        ))
        .load(conn)?;
    let mut remember = Vec::new();
    for (source, fingerprint, id, org, values) in rows {
        let mut values: Values = serde_json::from_str(&values).unwrap_or_default();
        let Some(body) = values.get("body").cloned() else {
            continue;
        };
        let links = stored_links(&body);
        let ids: Vec<String> = links.iter().map(|(_, id)| id.clone()).collect();
        let targets = known::documents(conn, &ids)?;
        let mut new = body.clone();
        for (written, doc) in &links {
            if let Some(target) = targets.get(doc) {
                new = new.replace(
                    &format!("href=\"{written}\""),
                    &format!("href=\"{target}\""),
                );
            }
        }
        if new == body {
            continue;
        }
        values.insert("body".to_owned(), new.clone());
        bulk::rewrite(
            conn,
            batches.key,
            (org, id),
            Kind::Document,
            &values,
            bulk::NewSecrets::default(),
        )
        .map_err(|e| crate::jobs::JobError::Permanent(e.to_string()))?;
        // The body was the import's: the next import compares with the rewritten one.
        if let Some(updated) =
            merge::refingerprint(batches.key, &fingerprint, "body", (&body, &new))
        {
            remember.push((source, id, updated));
        }
    }
    known::remember(conn, kind, &remember)?;
    Ok(super::run::Tally::default())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_links_and_bodies() {
        assert_eq!(doc_id("DOC-12-345 Server setup"), Some("345"));
        assert_eq!(doc_id("DOC-12 Server"), None);
        assert_eq!(
            linked_doc("https://acme.itglue.com/12/docs/345#top").as_deref(),
            Some("345")
        );
        assert_eq!(linked_doc("https://example.com/12/docs/345"), None);
        let (clean, images, links) = first_pass(
            "<p onclick=x>a\n\nb</p><script>alert(1)</script><img src=\"pic\" onerror=alert(1)>\
             <a href=\"javascript:alert(1)\">j</a><a href=\"https://a.itglue.com/1/docs/2\">d</a>",
        );
        assert!(!clean.contains("script") && !clean.contains("onerror"));
        assert!(!clean.contains("javascript") && !clean.contains("onclick"));
        assert_eq!(images, vec!["pic".to_owned()]);
        assert_eq!(links.len(), 1);
        let markdown = as_markdown(&clean);
        assert!(!markdown.contains('\n'), "one HTML block");
        let shown = crate::records::markdown::render(&markdown).to_string();
        assert!(shown.contains("a\n\nb"), "{shown}");
        let index = DocIndex::new(&[
            "documents/x/DOC-1-2 A/A.html".into(),
            "documents/x/DOC-1-2 A/pic".into(),
        ]);
        assert_eq!(
            index
                .image("documents/x/DOC-1-2 A/A.html", "pic.png")
                .as_deref(),
            Some("documents/x/DOC-1-2 A/pic")
        );
    }
}
