//! The D22 header set on every response, and the optional HTTP→HTTPS redirect (never for `/health/`).

use axum::{
    extract::{Request, State},
    http::{HeaderMap, HeaderName, HeaderValue, Method, StatusCode, header},
    middleware::Next,
    response::{IntoResponse, Response},
};

use crate::state::AppState;

const HSTS: &str = "max-age=31536000; includeSubDomains; preload";
/// No scripts, no frames, no forms; styles and images only from this origin (the error pages).
pub const CSP: &str = "default-src 'none'; style-src 'self'; img-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'";
const PERMISSIONS_POLICY: &str =
    "camera=(), microphone=(), geolocation=(), payment=(), usb=(), interest-cohort=()";

/// True when the request reached the platform over HTTPS (`X-Forwarded-Proto: https` from the
/// proxy, unless `TRUST_FORWARDED_PROTO=false`).
pub fn is_https(headers: &HeaderMap, trust_forwarded_proto: bool) -> bool {
    trust_forwarded_proto
        && headers
            .get("x-forwarded-proto")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(',').next())
            .is_some_and(|v| v.trim().eq_ignore_ascii_case("https"))
}

pub async fn apply(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let https = is_https(request.headers(), state.config.trust_forwarded_proto);
    let api = is_api_path(request.uri().path());
    let cors_allowed = request
        .headers()
        .get(header::ORIGIN)
        .and_then(|o| o.to_str().ok())
        .is_some_and(|o| state.config.cors_allowed_origins.iter().any(|a| a == o));
    let mut response = next.run(request).await;
    let headers = response.headers_mut();
    if !cors_allowed {
        // As the original: a missing or disallowed origin gets no access-control-* headers at all.
        let names: Vec<HeaderName> = headers
            .keys()
            .filter(|n| n.as_str().starts_with("access-control-"))
            .cloned()
            .collect();
        for name in names {
            headers.remove(&name);
        }
    }
    let defaults: [(HeaderName, &'static str); 7] = [
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        (header::X_FRAME_OPTIONS, "DENY"),
        (header::REFERRER_POLICY, "same-origin"),
        (
            HeaderName::from_static("cross-origin-opener-policy"),
            "same-origin",
        ),
        (
            HeaderName::from_static("cross-origin-resource-policy"),
            "same-origin",
        ),
        (
            HeaderName::from_static("permissions-policy"),
            PERMISSIONS_POLICY,
        ),
        (header::CONTENT_SECURITY_POLICY, CSP),
    ];
    for (name, value) in defaults {
        if !headers.contains_key(&name) {
            headers.insert(name, HeaderValue::from_static(value));
        }
    }
    if https {
        headers.insert(
            header::STRICT_TRANSPORT_SECURITY,
            HeaderValue::from_static(HSTS),
        );
    }
    if api && !headers.contains_key(header::CACHE_CONTROL) {
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    headers.remove(header::SERVER);
    headers.remove("x-powered-by");
    response
}

/// JSON API paths (error bodies are JSON here, HTML pages elsewhere).
pub fn is_api_path(path: &str) -> bool {
    path.starts_with("/api/") || path == "/api" || path.starts_with("/health")
}

pub async fn https_redirect(
    State(state): State<AppState>,
    request: Request,
    next: Next,
) -> Response {
    let config = &state.config;
    if !config.https_redirect
        || request.uri().path().starts_with("/health")
        || is_https(request.headers(), config.trust_forwarded_proto)
    {
        return next.run(request).await;
    }
    let host = request
        .headers()
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .filter(|h| crate::middleware::hosts::is_valid_host(h));
    let Some(host) = host else {
        return next.run(request).await;
    };
    let path_and_query = request.uri().path_and_query().map_or("/", |p| p.as_str());
    let location = format!("https://{host}{path_and_query}");
    let Ok(location) = HeaderValue::from_str(&location) else {
        return next.run(request).await;
    };
    // 301 for reads; 308 keeps the method and body of writes.
    let status = if matches!(*request.method(), Method::GET | Method::HEAD) {
        StatusCode::MOVED_PERMANENTLY
    } else {
        StatusCode::PERMANENT_REDIRECT
    };
    (status, [(header::LOCATION, location)]).into_response()
}
