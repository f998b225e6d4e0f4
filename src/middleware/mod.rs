//! The one middleware stack, assembled in one place (outermost first).
//!
//! Sentry (when configured) → [`platform::Platform`] (request id, request span, HTTPS redirect,
//! allowed hosts, CORS, error-body shaping, the D22 header set, the access log) → catch-panic →
//! timeout → compression ([`compression`]: its response boxed at once) → body limit → the router.
//!
//! The platform service sits *outside* catch-panic and the timeout so that panics, time-outs,
//! preflights and redirects get the same header set and body shapes as handler responses (D22, D10).
//! The stack is one service wrapped around the router once (not a `Router::layer` per layer, which
//! boxes and clones per request).
//!
//! What needs the matched route template (`/api/packages/{id}/`) sits on the routed router itself
//! ([`routed`]), inside the trailing-slash normaliser: it records the template on the request span
//! (so every log line of the request carries `route`), hands it to the access log, and names the
//! Sentry transaction after it.

pub mod compression;
pub mod error_pages;
pub mod hosts;
pub mod platform;
pub mod request_id;
pub mod route;
pub mod security_headers;

use std::borrow::Cow;

use axum::{
    Router,
    body::Body,
    http::{HeaderName, Request, Response, StatusCode},
};
use tower::ServiceBuilder;
use tower_http::{
    catch_panic::CatchPanicLayer, limit::RequestBodyLimitLayer, timeout::TimeoutLayer,
};

use crate::{error::InternalErrorMarker, state::AppState};

pub const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// Wraps the router in the full stack.
pub fn apply(router: Router, state: &AppState) -> Router {
    apply_service(router, state)
}

/// Wraps any service answering requests (the app: the trailing-slash normaliser around the routed
/// router) in the full stack, as one `Router` whose only route is its fallback: one routing hop
/// and one boxed clone per request (a `Router` in between cost about 2,000 instructions a request).
pub fn apply_service<S>(router: S, state: &AppState) -> Router
where
    S: tower::Service<
            Request<tower_http::body::Limited<Body>>,
            Response = Response<Body>,
            Error = std::convert::Infallible,
        > + Clone
        + Send
        + Sync
        + 'static,
    S::Future: Send + 'static,
{
    let config = &state.config;
    let sentry = config.sentry_dsn.is_some();
    let stack = ServiceBuilder::new()
        .option_layer(
            sentry.then(sentry::integrations::tower::NewSentryLayer::<Request<Body>>::new_from_top),
        )
        .layer(platform::PlatformLayer::new(state))
        .layer(CatchPanicLayer::custom(on_panic))
        .layer(TimeoutLayer::with_status_code(
            StatusCode::REQUEST_TIMEOUT,
            config.request_timeout,
        ))
        .layer(compression::CompressLayer)
        .layer(RequestBodyLimitLayer::new(config.body_limit_bytes))
        .service(router);
    Router::new().fallback_service(stack)
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

/// `?token=…` (secure-file links) never reaches a log line (D19).
pub fn redact_query(query: &str) -> Cow<'_, str> {
    if !query
        .as_bytes()
        .windows(6)
        .any(|w| w.eq_ignore_ascii_case(b"token="))
    {
        return Cow::Borrowed(query);
    }
    let redacted = query
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
        .join("&");
    Cow::Owned(redacted)
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
