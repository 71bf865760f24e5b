//! The root span of every request (tracing-actix-web's, with our fields): the client address is the
//! one Roster trusts (the peer, or behind a trusted proxy the address it forwarded), never a value a
//! client wrote in `Forwarded`, so the log cannot be told another origin.

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::{Error, HttpMessage, web};
use tracing::Span;
use tracing::field::Empty;
use tracing_actix_web::{DefaultRootSpanBuilder, RequestId, RootSpanBuilder};

use super::client_address::client_address;
use super::error::WebError;
use super::state::AppState;

pub struct RequestSpan;

impl RootSpanBuilder for RequestSpan {
    fn on_request_start(request: &ServiceRequest) -> Span {
        let client = request
            .app_data::<web::Data<AppState>>()
            .and_then(|state| client_address(&state.settings, request.request()))
            .map(|ip| ip.to_string())
            .unwrap_or_default();
        let request_id = request
            .extensions()
            .get::<RequestId>()
            .map(ToString::to_string)
            .unwrap_or_default();
        tracing::info_span!(
            "HTTP request",
            http.method = %request.method(),
            http.route = %request.match_pattern().unwrap_or_else(|| "default".into()),
            http.target = %request.uri().path(),
            http.client_ip = %client,
            http.status_code = Empty,
            otel.status_code = Empty,
            request_id = %request_id,
            exception.message = Empty,
            exception.details = Empty,
        )
    }

    fn on_request_end<B: MessageBody>(span: Span, outcome: &Result<ServiceResponse<B>, Error>) {
        // While the database is away every request fails the same way: the pool logs the outage
        // once (when it starts and ends) instead of an error per request here.
        if let Ok(res) = outcome
            && let Some(WebError::Unavailable(_)) = res
                .response()
                .error()
                .and_then(|e| e.as_error::<WebError>())
        {
            span.record("http.status_code", res.status().as_u16());
            span.record("otel.status_code", "ERROR");
            return;
        }
        DefaultRootSpanBuilder::on_request_end(span, outcome);
    }
}
