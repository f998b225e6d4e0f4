//! Request extractors that answer in the contract's error shapes instead of axum's plain-text rejections.

use std::net::SocketAddr;

use axum::{
    body::Bytes,
    extract::{ConnectInfo, FromRequest, FromRequestParts, Request},
    http::{StatusCode, header, request::Parts},
};
use serde::de::DeserializeOwned;

use crate::{
    error::AppError, middleware::security_headers::is_https, ratelimit::resolve_client_ip,
    state::AppState,
};

/// The client's IP address, from the source the deployment configures (`CLIENT_IP_SOURCE`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientIp(pub String);

impl FromRequestParts<AppState> for ClientIp {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let peer = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|c| c.0.ip());
        Ok(ClientIp(resolve_client_ip(
            state.config.client_ip_source,
            &parts.headers,
            peer,
        )))
    }
}

/// `scheme://host` of this request, for the absolute URLs the contract returns (pagination links,
/// image URLs). HTTPS when the proxy says so; the forwarded host when forwarded headers are trusted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BaseUrl(pub String);

impl FromRequestParts<AppState> for BaseUrl {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let trust = state.config.trust_forwarded_proto;
        let scheme = if is_https(&parts.headers, trust) {
            "https"
        } else {
            "http"
        };
        let header_host = |name: &str| {
            parts
                .headers
                .get(name)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.split(',').next())
                .map(str::trim)
                .filter(|h| crate::middleware::hosts::is_valid_host(h))
        };
        let host = trust
            .then(|| header_host("x-forwarded-host"))
            .flatten()
            .or_else(|| header_host("host"))
            .or_else(|| parts.uri.host())
            .unwrap_or("localhost");
        Ok(BaseUrl(format!("{scheme}://{host}")))
    }
}

/// A JSON or `application/x-www-form-urlencoded` body (the DRF default parsers), deserialised into `T`.
/// Malformed JSON → 400 `{"detail":"JSON parse error - …"}`; another content type → 415.
#[derive(Debug, Clone)]
pub struct Body<T>(pub T);

impl<S, T> FromRequest<S> for Body<T>
where
    S: Send + Sync,
    T: DeserializeOwned,
{
    type Rejection = AppError;

    async fn from_request(request: Request, state: &S) -> Result<Self, Self::Rejection> {
        let content_type = request
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .map(|v| {
                v.split(';')
                    .next()
                    .unwrap_or("")
                    .trim()
                    .to_ascii_lowercase()
            });
        let body = Bytes::from_request(request, state)
            .await
            .map_err(|rejection| {
                if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
                    AppError::Detail(
                        StatusCode::PAYLOAD_TOO_LARGE,
                        "Request body is too large.".into(),
                    )
                } else {
                    AppError::bad_request("Could not read the request body.")
                }
            })?;
        match content_type.as_deref() {
            Some("application/x-www-form-urlencoded") => serde_urlencoded_like(&body).map(Body),
            Some(ct) if ct == "application/json" || ct.ends_with("+json") => {
                parse_json(&body).map(Body)
            }
            // A body without a content type is read as JSON, as clients commonly omit it.
            None => parse_json(&body).map(Body),
            Some(other) => Err(AppError::Detail(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                format!("Unsupported media type \"{other}\" in request."),
            )),
        }
    }
}

fn parse_json<T: DeserializeOwned>(body: &[u8]) -> Result<T, AppError> {
    let body = if body.iter().all(u8::is_ascii_whitespace) {
        b"{}".as_slice()
    } else {
        body
    };
    serde_json::from_slice(body).map_err(|e| {
        let kind = if e.is_data() {
            "invalid data"
        } else {
            "JSON parse error"
        };
        AppError::bad_request(format!("{kind} - {e}"))
    })
}

/// Form bodies become a JSON object of strings, then `T`.
fn serde_urlencoded_like<T: DeserializeOwned>(body: &[u8]) -> Result<T, AppError> {
    let pairs: Vec<(String, String)> = serde_urlencoded::from_bytes(body)
        .map_err(|e| AppError::bad_request(format!("invalid form data - {e}")))?;
    let map: serde_json::Map<String, serde_json::Value> = pairs
        .into_iter()
        .map(|(k, v)| (k, serde_json::Value::String(v)))
        .collect();
    serde_json::from_value(serde_json::Value::Object(map))
        .map_err(|e| AppError::bad_request(format!("invalid data - {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn form_decoding() {
        let v: serde_json::Value =
            serde_urlencoded_like(b"username=a%20b&password=p%2Bq+r").expect("form");
        assert_eq!(
            v,
            serde_json::json!({"username": "a b", "password": "p+q r"})
        );
    }

    #[test]
    fn json_errors_are_400_detail() {
        let err = parse_json::<serde_json::Value>(b"{nope").expect_err("malformed");
        assert!(
            matches!(err, AppError::Detail(StatusCode::BAD_REQUEST, ref d) if d.starts_with("JSON parse error"))
        );
    }
}
