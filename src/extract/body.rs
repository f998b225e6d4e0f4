//! Request bodies: JSON or `application/x-www-form-urlencoded` (the DRF default parsers).
//!
//! Malformed JSON → 400 `{"detail":"JSON parse error - …"}`; another content type → 415; a body too
//! large → 413. A string holding a NUL character anywhere in the body (PostgreSQL cannot store one)
//! is refused before the handler runs, with DRF's message in the endpoint family's shape: [`Body`]
//! for serializer endpoints (`{"field":["Null characters are not allowed."]}`), [`ErrorBody`] for the
//! `{"error":…}` family (login, signup, cart), [`SuccessBody`] for the `{"success":false,…}` family.

use axum::{
    body::Bytes,
    extract::{FromRequest, Request},
    http::{StatusCode, header},
};
use serde::de::DeserializeOwned;
use serde_json::{Map, Value, json};

use crate::{
    error::{AppError, FieldErrors},
    validation::{find_nul, nul_errors},
};

/// A body for a serializer endpoint; field errors render as DRF's `{"field":["message"]}`.
#[derive(Debug, Clone)]
pub struct Body<T>(pub T);

/// A body for the `{"error": "…"}` family: a NUL character answers `{"error":"Null characters are
/// not allowed."}`.
#[derive(Debug, Clone)]
pub struct ErrorBody<T>(pub T);

/// A body for the `{"success": false, …}` family: a NUL character answers
/// `{"success":false,"errors":{"field":["Null characters are not allowed."]}}`.
#[derive(Debug, Clone)]
pub struct SuccessBody<T>(pub T);

impl AppError {
    /// Field errors as the `{"error": …}` family reports them: the first message.
    pub fn in_error_family(self) -> AppError {
        match self {
            AppError::Validation(errors) => {
                AppError::Error(StatusCode::BAD_REQUEST, errors.first_message())
            }
            other => other,
        }
    }

    /// Field errors as the `{"success": false, …}` family reports them.
    pub fn in_success_family(self) -> AppError {
        match self {
            AppError::Validation(errors) => success_errors(errors),
            other => other,
        }
    }
}

/// `{"success": false, "errors": {…}}`.
pub fn success_errors(errors: FieldErrors) -> AppError {
    AppError::Body(
        StatusCode::BAD_REQUEST,
        json!({"success": false, "errors": errors}),
    )
}

/// `FromRequest` for a body type: [`read`], then the family's reshaping of field errors.
macro_rules! body_extractor {
    ($name:ident, $reshape:expr) => {
        impl<S, T> FromRequest<S> for $name<T>
        where
            S: Send + Sync,
            T: DeserializeOwned,
        {
            type Rejection = AppError;

            async fn from_request(request: Request, state: &S) -> Result<Self, Self::Rejection> {
                let reshape: fn(AppError) -> AppError = $reshape;
                read(request, state).await.map($name).map_err(reshape)
            }
        }
    };
}

body_extractor!(Body, |error| error);
body_extractor!(ErrorBody, AppError::in_error_family);
body_extractor!(SuccessBody, AppError::in_success_family);

async fn read<S, T>(request: Request, state: &S) -> Result<T, AppError>
where
    S: Send + Sync,
    T: DeserializeOwned,
{
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
    let value = match content_type.as_deref() {
        Some("application/x-www-form-urlencoded") => form_value(&body)?,
        Some(ct) if ct == "application/json" || ct.ends_with("+json") => json_value(&body)?,
        // A body without a content type is read as JSON, as clients commonly omit it.
        None => json_value(&body)?,
        Some(other) => {
            return Err(AppError::Detail(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                format!("Unsupported media type \"{other}\" in request."),
            ));
        }
    };
    if let Some(field) = find_nul(&value) {
        return Err(AppError::Validation(nul_errors(&field)));
    }
    serde_json::from_value(value).map_err(|e| AppError::bad_request(format!("invalid data - {e}")))
}

fn json_value(body: &[u8]) -> Result<Value, AppError> {
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

/// Form bodies become a JSON object of strings.
fn form_value(body: &[u8]) -> Result<Value, AppError> {
    let pairs: Vec<(String, String)> = serde_urlencoded::from_bytes(body)
        .map_err(|e| AppError::bad_request(format!("invalid form data - {e}")))?;
    let map: Map<String, Value> = pairs
        .into_iter()
        .map(|(k, v)| (k, Value::String(v)))
        .collect();
    Ok(Value::Object(map))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn form_decoding() {
        let v = form_value(b"username=a%20b&password=p%2Bq+r").expect("form");
        assert_eq!(v, json!({"username": "a b", "password": "p+q r"}));
    }

    #[test]
    fn json_errors_are_400_detail() {
        let err = json_value(b"{nope").expect_err("malformed");
        assert!(
            matches!(err, AppError::Detail(StatusCode::BAD_REQUEST, ref d) if d.starts_with("JSON parse error"))
        );
    }

    #[test]
    fn nul_answers_in_each_family() {
        let errors = || AppError::Validation(nul_errors("name"));
        assert!(
            matches!(errors().in_error_family(), AppError::Error(StatusCode::BAD_REQUEST, ref m) if m == "Null characters are not allowed.")
        );
        assert!(
            matches!(errors().in_success_family(), AppError::Body(StatusCode::BAD_REQUEST, ref b) if b == &json!({"success": false, "errors": {"name": ["Null characters are not allowed."]}}))
        );
    }
}
