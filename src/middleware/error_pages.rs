//! Gives every error response its contract shape (D10): bodies produced by the framework or by
//! middleware (405, 408, 413, 415, panics, time-outs) become `{"detail": …}` JSON under `/api/` and
//! `/health/`; unexpected server errors get a generic body with the request id (JSON or the HTML 500
//! page), never internals. Responses a handler already shaped (JSON or HTML) pass through untouched.

use axum::{
    Json,
    body::Body,
    http::{HeaderMap, HeaderValue, Method, StatusCode, header},
    response::{IntoResponse, Response},
};
use serde_json::json;

use crate::{error::InternalErrorMarker, logfmt::safe_id, pages::Pages};

/// What [`shape`] needs to know about the request.
pub struct RequestFacts<'a> {
    pub api: bool,
    pub method: &'a Method,
    pub request_id: &'a HeaderValue,
    pub content_type: Option<&'a HeaderValue>,
}

/// The response with its contract shape: untouched unless it is an error without a JSON/HTML body
/// of its own, or an internal error.
pub fn shape(pages: &Pages, response: Response, request: RequestFacts<'_>) -> Response {
    let RequestFacts {
        api,
        method,
        request_id,
        content_type: request_type,
    } = request;
    let status = response.status();
    if !(status.is_client_error() || status.is_server_error()) {
        return response;
    }
    let marked = response.extensions().get::<InternalErrorMarker>().is_some();
    let shaped = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ct| ct.starts_with("application/json") || ct.starts_with("text/html"));
    if shaped && !marked {
        return response;
    }

    let request_id = request_id.to_str().map(safe_id).unwrap_or_default();
    let replacement = if status.is_server_error() {
        if api {
            let detail = if status == StatusCode::SERVICE_UNAVAILABLE {
                "Service temporarily unavailable. Please try again shortly."
            } else {
                "A server error occurred. Please try again later."
            };
            (
                status,
                Json(json!({ "detail": detail, "request_id": request_id })),
            )
                .into_response()
        } else {
            pages.server_error(status, &request_id)
        }
    } else if status == StatusCode::NOT_FOUND && !api {
        pages.not_found()
    } else {
        let detail = match status {
            StatusCode::NOT_FOUND => "Not found.".to_string(),
            StatusCode::METHOD_NOT_ALLOWED => format!("Method \"{method}\" not allowed."),
            StatusCode::REQUEST_TIMEOUT => "Request timed out.".to_string(),
            StatusCode::PAYLOAD_TOO_LARGE => "Request body is too large.".to_string(),
            StatusCode::UNSUPPORTED_MEDIA_TYPE => format!(
                "Unsupported media type \"{}\" in request.",
                request_type.and_then(|v| v.to_str().ok()).unwrap_or("")
            ),
            other => other
                .canonical_reason()
                .unwrap_or("Request failed.")
                .to_string(),
        };
        (status, Json(json!({ "detail": detail }))).into_response()
    };
    carry_headers(response.headers(), replacement)
}

/// Keeps the original response's headers (Allow, Retry-After, WWW-Authenticate, CORS…) except those
/// that described the old body.
fn carry_headers(original: &HeaderMap, mut replacement: Response<Body>) -> Response<Body> {
    let headers = replacement.headers_mut();
    let own: Vec<_> = headers.keys().cloned().collect();
    for (name, value) in original {
        if name == header::CONTENT_TYPE
            || name == header::CONTENT_LENGTH
            || name == header::CONTENT_ENCODING
            || own.contains(name)
        {
            continue;
        }
        headers.append(name.clone(), value.clone());
    }
    replacement
}
