//! Query strings, with the contract's errors instead of axum's plain-text rejection: a value that
//! does not fit → 400 `{"detail": …}`, and a NUL character (PostgreSQL cannot compare with one)
//! → 400 `{"detail":"Null characters are not allowed."}`.

use axum::{extract::FromRequestParts, http::request::Parts};
use serde::de::DeserializeOwned;

use crate::{error::AppError, validation::NUL_CHARACTERS};

/// `?key=value&…` deserialised into `T` (a struct of optional strings, or a map).
#[derive(Debug, Clone, Default)]
pub struct Query<T>(pub T);

impl<S, T> FromRequestParts<S> for Query<T>
where
    S: Send + Sync,
    T: DeserializeOwned,
{
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        let query = parts.uri.query().unwrap_or_default();
        let pairs: Vec<(String, String)> = serde_urlencoded::from_str(query)
            .map_err(|e| AppError::bad_request(format!("invalid query string - {e}")))?;
        if pairs
            .iter()
            .any(|(k, v)| k.contains('\0') || v.contains('\0'))
        {
            return Err(AppError::bad_request(NUL_CHARACTERS));
        }
        serde_urlencoded::from_str(query)
            .map(Query)
            .map_err(|e| AppError::bad_request(format!("invalid query string - {e}")))
    }
}
