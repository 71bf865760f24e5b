//! The start page: the Organizations list.

use actix_web::HttpResponse;

use super::flash;

pub async fn page() -> HttpResponse {
    flash::see_other("/organizations")
}
