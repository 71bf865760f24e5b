//! The start page after sign-in.

use actix_web::HttpResponse;
use askama::Template;

use super::ctx::{CurrentUser, PageCtx};
use super::error::WebError;
use super::render;

#[derive(Template)]
#[template(path = "home.html")]
struct HomePage {
    ctx: PageCtx,
    role: String,
    email: String,
}

pub async fn page(ctx: PageCtx, CurrentUser(user): CurrentUser) -> Result<HttpResponse, WebError> {
    render::page(&HomePage {
        ctx,
        role: user.role.label().to_owned(),
        email: user.email,
    })
}
