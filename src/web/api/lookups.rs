//! The look-up lists clients read when they start (pytglue reads thirteen; Celerium.ITGlue checks
//! a key with `GET /regions`): regions, countries, manufacturers, models, operating systems,
//! configuration types and statuses, contact types, password categories, platforms. Roster keeps
//! none of these, so each is an empty list in the same document shape as organizations.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};

use super::document::{self, Paging};
use super::error::{ApiError, document as respond};
use super::query::Params;
use crate::web::state::AppState;

pub async fn empty(state: web::Data<AppState>, req: HttpRequest) -> Result<HttpResponse, ApiError> {
    let params = Params::parse(req.query_string())?;
    let (page, size) = params.page()?;
    let path = req.path().trim_end_matches('/');
    let paging = Paging {
        url: format!("{}{path}", state.settings.base_url),
        params: &params,
        page,
        size,
        total: 0,
    };
    Ok(respond(StatusCode::OK, &document::list::<()>(&[], &paging)))
}
