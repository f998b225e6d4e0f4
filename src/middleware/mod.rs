//! The one middleware stack, assembled in one place (outermost first).
//!
//! Sentry → request id → access log → security headers → error pages → catch-panic → HTTPS redirect →
//! allowed hosts → timeout → CORS → compression → body limit.
//!
//! Security headers and error pages sit *outside* catch-panic, timeout and CORS so that panics, time-outs,
//! preflights and redirects get the same header set and body shapes as handler responses (D22, D10).
//!
//! What needs the matched route template (`/api/packages/{id}/`) sits on the routed router itself
//! ([`routed`]), inside the trailing-slash normaliser: it records the template on the request span
//! (so every log line of the request carries `route`), hands it to the access log, and names the
//! Sentry transaction after it.

pub mod error_pages;
pub mod hosts;
pub mod request_id;
pub mod route;
pub mod security_headers;

use std::time::Duration;

use axum::{
    Router,
    body::Body,
    extract::MatchedPath,
    http::{HeaderName, HeaderValue, Method, Request, Response, StatusCode, header},
    middleware::from_fn_with_state,
};
use tower::ServiceBuilder;
use tower_http::{
    catch_panic::CatchPanicLayer,
    compression::CompressionLayer,
    cors::{AllowOrigin, CorsLayer},
    limit::RequestBodyLimitLayer,
    request_id::{PropagateRequestIdLayer, SetRequestIdLayer},
    timeout::TimeoutLayer,
    trace::TraceLayer,
};
use tracing::Span;

use crate::{config::Config, error::InternalErrorMarker, state::AppState};

pub const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// Wraps the router in the full stack.
pub fn apply(router: Router, state: &AppState) -> Router {
    let config = &state.config;
    let sentry = config.sentry_dsn.is_some();
    let stack = ServiceBuilder::new()
        .option_layer(
            sentry.then(sentry::integrations::tower::NewSentryLayer::<Request<Body>>::new_from_top),
        )
        .layer(SetRequestIdLayer::new(
            REQUEST_ID,
            request_id::InstanceRequestId,
        ))
        .layer(
            TraceLayer::new_for_http()
                .make_span_with(make_span)
                .on_request(())
                .on_response(())
                .on_failure(()),
        )
        .layer(axum::middleware::from_fn(access_log))
        .layer(PropagateRequestIdLayer::new(REQUEST_ID))
        .layer(from_fn_with_state(state.clone(), security_headers::apply))
        .layer(from_fn_with_state(state.clone(), error_pages::render))
        .layer(CatchPanicLayer::custom(on_panic))
        .layer(from_fn_with_state(
            state.clone(),
            security_headers::https_redirect,
        ))
        .layer(from_fn_with_state(state.clone(), hosts::check))
        .layer(TimeoutLayer::with_status_code(
            StatusCode::REQUEST_TIMEOUT,
            config.request_timeout,
        ))
        .layer(cors(config))
        .layer(CompressionLayer::new())
        .layer(RequestBodyLimitLayer::new(config.body_limit_bytes));
    router.layer(stack)
}

/// The layers of the routed router (before the normaliser and the stack of [`apply`]): they see
/// axum's `MatchedPath`. Sentry's HTTP layer (request data, one transaction per route template) and
/// [`route::RecordRoute`].
pub fn routed(router: Router<AppState>, state: &AppState) -> Router<AppState> {
    // One `layer` call: axum boxes every route again per call, and clones the boxed stack on each
    // request, so the layers go in together (and Sentry's only when it is configured).
    if state.config.sentry_dsn.is_some() {
        router.layer(
            ServiceBuilder::new()
                .layer(route::RecordRouteLayer)
                .layer(sentry::integrations::tower::SentryHttpLayer::new().enable_transaction()),
        )
    } else {
        router.layer(route::RecordRouteLayer)
    }
}

/// CORS as contract-A §2.5, with explicit origins only (D23) and `Content-Disposition` exposed.
pub fn cors(config: &Config) -> CorsLayer {
    let origins: Vec<HeaderValue> = config
        .cors_allowed_origins
        .iter()
        .filter_map(|o| HeaderValue::from_str(o).ok())
        .collect();
    CorsLayer::new()
        .allow_origin(AllowOrigin::list(origins))
        .allow_credentials(true)
        .allow_methods([
            Method::DELETE,
            Method::GET,
            Method::OPTIONS,
            Method::PATCH,
            Method::POST,
            Method::PUT,
        ])
        .allow_headers([
            header::ACCEPT,
            header::ACCEPT_ENCODING,
            header::AUTHORIZATION,
            header::CONTENT_TYPE,
            HeaderName::from_static("dnt"),
            header::ORIGIN,
            header::USER_AGENT,
            HeaderName::from_static("x-csrftoken"),
            HeaderName::from_static("x-requested-with"),
        ])
        .expose_headers([header::CONTENT_DISPOSITION])
        .max_age(Duration::from_secs(86_400))
}

fn make_span(request: &Request<Body>) -> Span {
    let request_id = request
        .headers()
        .get(&REQUEST_ID)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("-");
    tracing::info_span!(
        "request",
        method = %request.method(),
        path = %request.uri().path(),
        query = %redact_query(request.uri().query().unwrap_or("")),
        request_id = %crate::pages::safe_id(request_id),
        route = tracing::field::Empty,
    )
}

/// One access-log line per request, inside the request span (method, path, redacted query, request
/// id). Health probes are logged at DEBUG only, so uptime checks don't flood the log (E12).
async fn access_log(request: Request<Body>, next: axum::middleware::Next) -> Response<Body> {
    let quiet = request.uri().path().starts_with("/health");
    let started = std::time::Instant::now();
    let response = next.run(request).await;
    let status = response.status().as_u16();
    let latency_ms = started.elapsed().as_secs_f64() * 1000.0;
    let route = response
        .extensions()
        .get::<MatchedPath>()
        .map_or("-", MatchedPath::as_str);
    if status >= 500 {
        tracing::warn!(status, latency_ms, route = %route, "response");
    } else if quiet {
        tracing::debug!(status, latency_ms, route = %route, "response");
    } else {
        tracing::info!(status, latency_ms, route = %route, "response");
    }
    response
}

/// `?token=…` (secure-file links) never reaches a log line (D19).
pub fn redact_query(query: &str) -> String {
    query
        .split('&')
        .map(|pair| match pair.split_once('=') {
            Some((k, _))
                if k.eq_ignore_ascii_case("token") || k.eq_ignore_ascii_case("access_token") =>
            {
                format!("{k}=[redacted]")
            }
            _ => pair.to_string(),
        })
        .collect::<Vec<_>>()
        .join("&")
}

fn on_panic(panic: Box<dyn std::any::Any + Send + 'static>) -> Response<Body> {
    let message = panic
        .downcast_ref::<String>()
        .map(String::as_str)
        .or_else(|| panic.downcast_ref::<&str>().copied())
        .unwrap_or("(non-string panic)");
    tracing::error!(panic = message, "handler panicked");
    let mut response = Response::new(Body::empty());
    *response.status_mut() = StatusCode::INTERNAL_SERVER_ERROR;
    response.extensions_mut().insert(InternalErrorMarker);
    response
}

#[cfg(test)]
mod tests {
    use super::redact_query;

    #[test]
    fn token_is_redacted_from_queries() {
        assert_eq!(
            redact_query("thumbnail=true&token=eyJhbGciOi.x.y"),
            "thumbnail=true&token=[redacted]"
        );
        assert_eq!(redact_query(""), "");
        assert_eq!(redact_query("page=2"), "page=2");
    }
}
