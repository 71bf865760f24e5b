//! Liveness (no database) and readiness (database reachable) for load balancers.

use actix_web::{HttpResponse, web};
use diesel::connection::SimpleConnection;

use super::state::AppState;
use crate::db::DbError;

pub async fn healthz() -> HttpResponse {
    HttpResponse::Ok().content_type("text/plain").body("ok")
}

pub async fn readyz(state: web::Data<AppState>) -> HttpResponse {
    let ping = state
        .db(|conn| conn.batch_execute("SELECT 1").map_err(DbError::from))
        .await;
    match ping {
        Ok(()) => HttpResponse::Ok().content_type("text/plain").body("ready"),
        Err(e) => {
            tracing::warn!(error = %e, "database not reachable");
            HttpResponse::ServiceUnavailable()
                .content_type("text/plain")
                .body("database unreachable")
        }
    }
}
