//! The one error type. Each endpoint keeps the error-body shape the original used (`detail`, `error`, or
//! `success/message`, contract-A §1); internal errors never show their text to the caller (D10).

use std::time::Duration;

use axum::{
    Json,
    http::{HeaderMap, HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
};
use serde_json::{Value, json};

/// Marks a response as an unexpected server error, so the error-page middleware renders the generic
/// body with the request id (JSON under `/api/`, HTML elsewhere).
#[derive(Clone, Copy, Debug)]
pub struct InternalErrorMarker;

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// `{"detail": …}`: the DRF shape.
    #[error("{1}")]
    Detail(StatusCode, String),
    /// `{"error": …}`: products, cart, login and signup.
    #[error("{1}")]
    Error(StatusCode, String),
    /// `{"success": false, "message": …}`: user management and resource fields.
    #[error("{1}")]
    Message(StatusCode, String),
    /// 400 with serializer field errors, DRF's `{"field": ["message"]}` (see `validation`).
    #[error("invalid input")]
    Validation(FieldErrors),
    /// A body given as-is (an endpoint family's own wrapper around field errors).
    #[error("request rejected")]
    Body(StatusCode, Value),
    /// 401 with `WWW-Authenticate: Bearer`.
    #[error("{0}")]
    Unauthorized(String),
    /// 429 with the D17 body, `Retry-After` and `RateLimit-*` headers.
    #[error("rate limit exceeded")]
    RateLimited(Decision),
    /// A dependency is unavailable (pool timed out, …): 503 with a generic body.
    #[error("service unavailable: {0}")]
    Unavailable(String),
    /// Anything unexpected: logged and reported, never shown.
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

pub type AppResult<T> = Result<T, AppError>;

/// Field errors as DRF's serializers report them: field name → list of messages (or, for a list
/// field, an object of per-item errors), in the order the fields were checked.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct FieldErrors(serde_json::Map<String, Value>);

impl FieldErrors {
    /// Errors holding one message for `field`.
    pub fn one(field: &str, message: impl Into<String>) -> Self {
        let mut errors = Self::default();
        errors.add(field, message);
        errors
    }

    /// Adds a message to `field`'s list.
    pub fn add(&mut self, field: &str, message: impl Into<String>) {
        let entry = self
            .0
            .entry(field.to_string())
            .or_insert_with(|| Value::Array(Vec::new()));
        match entry {
            Value::Array(list) => list.push(Value::String(message.into())),
            other => *other = Value::Array(vec![Value::String(message.into())]),
        }
    }

    /// Sets `field`'s errors to a structured value (per-item errors of a list field).
    pub fn set(&mut self, field: &str, value: Value) {
        self.0.insert(field.to_string(), value);
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn contains(&self, field: &str) -> bool {
        self.0.contains_key(field)
    }

    /// The first message, for the endpoint families that report one string.
    pub fn first_message(&self) -> String {
        fn first(value: &Value) -> Option<&str> {
            match value {
                Value::String(s) => Some(s),
                Value::Array(list) => list.iter().find_map(first),
                Value::Object(map) => map.values().find_map(first),
                _ => None,
            }
        }
        self.0
            .values()
            .find_map(first)
            .unwrap_or("Invalid data.")
            .to_string()
    }

    /// `Ok` when nothing was reported.
    pub fn check(self) -> Result<(), AppError> {
        if self.is_empty() {
            Ok(())
        } else {
            Err(AppError::Validation(self))
        }
    }

    pub fn into_value(self) -> Value {
        Value::Object(self.0)
    }
}

impl serde::Serialize for FieldErrors {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.0.serialize(serializer)
    }
}

impl From<FieldErrors> for AppError {
    fn from(errors: FieldErrors) -> Self {
        AppError::Validation(errors)
    }
}

/// The outcome of a check, with what the `RateLimit-*` headers report.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Decision {
    pub allowed: bool,
    pub limit: u32,
    pub remaining: u32,
    /// Until the oldest counted request leaves the window (0 when nothing is counted).
    pub reset_after: Duration,
}

impl Decision {
    pub fn reset_secs(&self) -> u64 {
        let ms = self.reset_after.as_millis() as u64;
        ms.div_ceil(1000)
    }

    /// Adds `RateLimit-Limit/Remaining/Reset` (and `Retry-After` when refused) to a response.
    pub fn apply_headers(&self, headers: &mut HeaderMap) {
        let reset = self.reset_secs();
        headers.insert("ratelimit-limit", HeaderValue::from(self.limit));
        headers.insert("ratelimit-remaining", HeaderValue::from(self.remaining));
        headers.insert("ratelimit-reset", HeaderValue::from(reset));
        if !self.allowed {
            headers.insert("retry-after", HeaderValue::from(reset.max(1)));
        }
    }

    pub fn with_headers(&self, mut response: Response) -> Response {
        self.apply_headers(response.headers_mut());
        response
    }
}

impl AppError {
    pub fn not_found() -> Self {
        Self::Detail(StatusCode::NOT_FOUND, "Not found.".into())
    }
    pub fn forbidden() -> Self {
        Self::Detail(
            StatusCode::FORBIDDEN,
            "You do not have permission to perform this action.".into(),
        )
    }
    pub fn bad_request(detail: impl Into<String>) -> Self {
        Self::Detail(StatusCode::BAD_REQUEST, detail.into())
    }
    pub fn method_not_allowed(method: &str) -> Self {
        Self::Detail(
            StatusCode::METHOD_NOT_ALLOWED,
            format!("Method \"{method}\" not allowed."),
        )
    }
}

impl From<sqlx::Error> for AppError {
    fn from(e: sqlx::Error) -> Self {
        match e {
            sqlx::Error::PoolTimedOut => Self::Unavailable("database pool timed out".into()),
            other => Self::Internal(anyhow::Error::new(other).context("database error")),
        }
    }
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        match self {
            AppError::Detail(status, detail) => {
                (status, Json(json!({ "detail": detail }))).into_response()
            }
            AppError::Error(status, error) => {
                (status, Json(json!({ "error": error }))).into_response()
            }
            AppError::Message(status, message) => (
                status,
                Json(json!({ "success": false, "message": message })),
            )
                .into_response(),
            AppError::Validation(errors) => (StatusCode::BAD_REQUEST, Json(errors)).into_response(),
            AppError::Body(status, body) => (status, Json(body)).into_response(),
            AppError::Unauthorized(detail) => {
                let mut response =
                    (StatusCode::UNAUTHORIZED, Json(json!({ "detail": detail }))).into_response();
                response
                    .headers_mut()
                    .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
                response
            }
            AppError::RateLimited(decision) => decision.with_headers(
                (
                    StatusCode::TOO_MANY_REQUESTS,
                    Json(json!({
                        "error": "Too many requests. Please try again later.",
                        "detail": "Rate limit exceeded",
                    })),
                )
                    .into_response(),
            ),
            AppError::Unavailable(reason) => {
                tracing::warn!(reason = %reason, "service unavailable");
                let mut response = StatusCode::SERVICE_UNAVAILABLE.into_response();
                response.extensions_mut().insert(InternalErrorMarker);
                response
            }
            AppError::Internal(error) => {
                // An ERROR event: the Sentry tracing layer turns it into one Sentry event.
                tracing::error!(error = ?error, "internal error");
                let mut response = StatusCode::INTERNAL_SERVER_ERROR.into_response();
                response.extensions_mut().insert(InternalErrorMarker);
                response
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use http_body_util::BodyExt;

    async fn body(r: Response) -> Value {
        let bytes = r.into_body().collect().await.expect("body").to_bytes();
        serde_json::from_slice(&bytes).expect("json")
    }

    #[tokio::test]
    async fn shapes_per_endpoint_family() {
        let r = AppError::forbidden().into_response();
        assert_eq!(r.status(), StatusCode::FORBIDDEN);
        assert_eq!(
            body(r).await,
            json!({"detail": "You do not have permission to perform this action."})
        );
        let r =
            AppError::Error(StatusCode::BAD_REQUEST, "Invalid credentials".into()).into_response();
        assert_eq!(body(r).await, json!({"error": "Invalid credentials"}));
        let r = AppError::Message(StatusCode::NOT_FOUND, "User not found".into()).into_response();
        assert_eq!(
            body(r).await,
            json!({"success": false, "message": "User not found"})
        );
    }

    #[tokio::test]
    async fn unauthorized_carries_www_authenticate() {
        let r = AppError::Unauthorized("Invalid token".into()).into_response();
        assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
        assert_eq!(r.headers()[header::WWW_AUTHENTICATE], "Bearer");
    }

    #[tokio::test]
    async fn internal_errors_hide_their_text() {
        let r = AppError::Internal(anyhow::anyhow!("relation \"users\" does not exist"))
            .into_response();
        assert_eq!(r.status(), StatusCode::INTERNAL_SERVER_ERROR);
        assert!(r.extensions().get::<InternalErrorMarker>().is_some());
        let bytes = r.into_body().collect().await.expect("body").to_bytes();
        assert!(
            bytes.is_empty(),
            "the generic body is added by the error-page middleware"
        );
    }
}
