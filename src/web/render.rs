//! Pages out: a template rendered with a status.

use actix_web::HttpResponse;
use actix_web::http::StatusCode;
use askama::Template;

use super::error::WebError;

/// Room for a page up front: the list's page is about 25 KB, and growing a buffer from the
/// template's own size hint copied it several times a request.
const PAGE_CAPACITY: usize = 32 * 1024;

pub fn render<T: Template>(status: StatusCode, page: &T) -> Result<HttpResponse, WebError> {
    let mut html = String::with_capacity(T::SIZE_HINT.max(PAGE_CAPACITY));
    page.render_into(&mut html)?;
    Ok(HttpResponse::build(status)
        .content_type("text/html; charset=utf-8")
        .body(html))
}

/// 200 with the page.
pub fn page<T: Template>(page: &T) -> Result<HttpResponse, WebError> {
    render(StatusCode::OK, page)
}

/// 422 with the form, its values and the messages beside its fields.
pub fn invalid<T: Template>(page: &T) -> Result<HttpResponse, WebError> {
    render(StatusCode::UNPROCESSABLE_ENTITY, page)
}

/// A form page: 422 when it carries messages beside its fields, else 200.
pub fn form<T: Template>(page: &T, has_errors: bool) -> Result<HttpResponse, WebError> {
    if has_errors {
        invalid(page)
    } else {
        self::page(page)
    }
}
