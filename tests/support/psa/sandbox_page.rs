//! The control page of a double (`GET /`): what to enter in Roster's PSA settings, the companies,
//! and forms that add, change and remove them, so that a person without a PSA account can do by
//! hand what the tests do. Everything printed is escaped; forms post to `/sandbox/...` and are
//! refused when another site's page sends them.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse};

/// A form field of the "add a company" form.
pub(crate) enum Field {
    Text {
        name: &'static str,
        label: &'static str,
        max_len: usize,
    },
    Select {
        name: &'static str,
        label: &'static str,
        options: Vec<String>,
    },
    Checkbox {
        name: &'static str,
        label: &'static str,
    },
}

/// A button that posts to `path`.
pub(crate) struct Action {
    pub label: &'static str,
    pub path: String,
}

pub(crate) struct Row {
    pub cells: Vec<String>,
    pub actions: Vec<Action>,
}

pub(crate) struct Page {
    pub title: &'static str,
    /// What to enter in Roster's PSA settings: (label, value).
    pub settings: Vec<(&'static str, String)>,
    pub columns: &'static [&'static str],
    pub rows: Vec<Row>,
    pub add_fields: Vec<Field>,
    /// A message for the person (a refused form), shown above the list.
    pub message: Option<String>,
}

pub(crate) fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
    out
}

/// Whether a form post comes from the control page itself (no `Origin`, or the same host):
/// another site's page must not change the sandbox behind the person's back.
pub(crate) fn same_origin(req: &HttpRequest) -> bool {
    let Some(origin) = req.headers().get("origin").and_then(|v| v.to_str().ok()) else {
        return true;
    };
    let host = req.connection_info().host().to_owned();
    origin == format!("http://{host}")
}

pub(crate) fn forbidden() -> HttpResponse {
    HttpResponse::Forbidden()
        .content_type("text/plain; charset=utf-8")
        .body("This form may only be sent from the sandbox's own page.")
}

/// Post/redirect/get: back to the list.
pub(crate) fn back_to_list() -> HttpResponse {
    HttpResponse::SeeOther()
        .insert_header(("location", "/"))
        .finish()
}

pub(crate) fn render(page: &Page) -> HttpResponse {
    let status = if page.message.is_some() {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    };
    let mut html = String::new();
    html.push_str("<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">");
    html.push_str(&format!("<title>{}</title>", escape(page.title)));
    html.push_str(STYLE);
    html.push_str("</head><body>");
    html.push_str(&format!("<h1>{}</h1>", escape(page.title)));
    html.push_str(
        "<p>A local stand-in for the PSA, to try Roster's PSA sync without an account. \
         Enter these settings in Roster (Settings, PSA), then add, change or delete companies \
         here and press <b>Sync now</b> in Roster.</p><table class=\"settings\">",
    );
    for (label, value) in &page.settings {
        html.push_str(&format!(
            "<tr><th>{}</th><td><code>{}</code></td></tr>",
            escape(label),
            escape(value)
        ));
    }
    html.push_str("</table>");
    if let Some(message) = &page.message {
        html.push_str(&format!("<p class=\"message\">{}</p>", escape(message)));
    }
    html.push_str(&format!("<h2>Companies ({})</h2>", page.rows.len()));
    push_companies(&mut html, page);
    html.push_str("<h2>Add a company</h2><form method=\"post\" action=\"/sandbox/companies\">");
    for field in &page.add_fields {
        push_field(&mut html, field);
    }
    html.push_str("<button type=\"submit\">Add</button></form></body></html>");
    HttpResponse::build(status)
        .content_type("text/html; charset=utf-8")
        .body(html)
}

fn push_companies(html: &mut String, page: &Page) {
    if page.rows.is_empty() {
        html.push_str("<p>No company yet.</p>");
        return;
    }
    html.push_str("<table class=\"companies\"><tr>");
    for column in page.columns {
        html.push_str(&format!("<th>{}</th>", escape(column)));
    }
    html.push_str("<th></th></tr>");
    for row in &page.rows {
        html.push_str("<tr>");
        for cell in &row.cells {
            html.push_str(&format!("<td>{}</td>", escape(cell)));
        }
        html.push_str("<td class=\"actions\">");
        for action in &row.actions {
            html.push_str(&format!(
                "<form method=\"post\" action=\"{}\"><button type=\"submit\">{}</button></form>",
                escape(&action.path),
                escape(action.label)
            ));
        }
        html.push_str("</td></tr>");
    }
    html.push_str("</table>");
}

fn push_field(html: &mut String, field: &Field) {
    match field {
        Field::Text {
            name,
            label,
            max_len,
        } => html.push_str(&format!(
            "<label>{} <input name=\"{}\" maxlength=\"{max_len}\" required></label>",
            escape(label),
            escape(name)
        )),
        Field::Select {
            name,
            label,
            options,
        } => {
            html.push_str(&format!(
                "<label>{} <select name=\"{}\">",
                escape(label),
                escape(name)
            ));
            for option in options {
                let option = escape(option);
                html.push_str(&format!("<option value=\"{option}\">{option}</option>"));
            }
            html.push_str("</select></label>");
        }
        Field::Checkbox { name, label } => html.push_str(&format!(
            "<label><input type=\"checkbox\" name=\"{}\" value=\"on\" checked> {}</label>",
            escape(name),
            escape(label)
        )),
    }
}

const STYLE: &str = "<style>body{font-family:sans-serif;max-width:70rem;margin:1rem auto;\
padding:0 1rem}table{border-collapse:collapse}th,td{border:1px solid #ccc;padding:.3rem .5rem;\
text-align:left}table.settings th{background:#f4f4f4}.actions form{display:inline;margin-right:.3rem}\
label{display:inline-block;margin:0 1rem .5rem 0}.message{background:#fee;border:1px solid #c00;\
padding:.5rem}</style>";
