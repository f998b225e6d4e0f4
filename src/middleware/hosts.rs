//! `ALLOWED_HOSTS`, enforced in production (as Django's `DisallowedHost`). Health checks are exempt:
//! the platform's probe calls the container by its internal name.

use axum::{
    extract::Request,
    http::{StatusCode, header},
    response::{IntoResponse, Response},
};

use crate::{config::Config, error::AppError};

/// The 400 for a `Host` outside `ALLOWED_HOSTS` (production only; `/health…` exempt), else `None`.
pub fn check(config: &Config, request: &Request) -> Option<Response> {
    if !config.is_production() || request.uri().path().starts_with("/health") {
        return None;
    }
    let host = request
        .headers()
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .or_else(|| request.uri().host());
    match host {
        Some(h) if host_allowed(h, &config.allowed_hosts) => None,
        _ => Some(
            AppError::Detail(StatusCode::BAD_REQUEST, "Bad Request (400)".into()).into_response(),
        ),
    }
}

/// Django semantics: exact names, `.example.com` for a domain and its subdomains, `*` for any.
pub fn host_allowed(host_header: &str, allowed: &[String]) -> bool {
    if !is_valid_host(host_header) {
        return false;
    }
    let host = strip_port(host_header).to_ascii_lowercase();
    allowed.iter().any(|pattern| {
        let pattern = pattern.to_ascii_lowercase();
        pattern == "*"
            || pattern == host
            || pattern
                .strip_prefix('.')
                .is_some_and(|domain| host == domain || host.ends_with(&format!(".{domain}")))
    })
}

fn strip_port(host: &str) -> &str {
    if host.starts_with('[') {
        return host.find(']').map_or(host, |end| &host[..=end]);
    }
    host.rsplit_once(':').map_or(host, |(h, port)| {
        if port.chars().all(|c| c.is_ascii_digit()) {
            h
        } else {
            host
        }
    })
}

/// A syntactically plausible `Host` value (no spaces, slashes or other URL parts).
pub fn is_valid_host(host: &str) -> bool {
    !host.is_empty()
        && host.len() <= 255
        && host
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | ':' | '[' | ']' | '_'))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn list(items: &[&str]) -> Vec<String> {
        items.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn django_host_patterns() {
        let allowed = list(&["api.example.com", ".railway.app", "[::1]"]);
        assert!(host_allowed("api.example.com", &allowed));
        assert!(host_allowed("API.example.com:443", &allowed));
        assert!(host_allowed("x.up.railway.app", &allowed));
        assert!(host_allowed("[::1]:8000", &allowed));
        assert!(!host_allowed("evil.com", &allowed));
        assert!(!host_allowed("api.example.com.evil.com", &allowed));
        assert!(!host_allowed("evil.com/x", &allowed));
        assert!(host_allowed("anything", &list(&["*"])));
    }
}
