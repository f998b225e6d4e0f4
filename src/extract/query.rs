//! Query strings, with the contract's errors instead of axum's plain-text rejection: a value that
//! does not fit → 400 `{"detail": …}`, and a NUL character (PostgreSQL cannot compare with one)
//! → 400 `{"detail":"Null characters are not allowed."}`. Values arrive as strings (the handler
//! parses them); a repeated key keeps its last value.

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
        // A repeated key counts once, with its last value, as Django's `QueryDict.get` reads it.
        let mut last: Vec<(String, String)> = Vec::with_capacity(pairs.len());
        for (key, value) in pairs {
            match last.iter_mut().find(|(k, _)| *k == key) {
                Some(entry) => entry.1 = value,
                None => last.push((key, value)),
            }
        }
        let map: serde_json::Map<String, serde_json::Value> = last
            .into_iter()
            .map(|(k, v)| (k, serde_json::Value::String(v)))
            .collect();
        serde_json::from_value(serde_json::Value::Object(map))
            .map(Query)
            .map_err(|e| AppError::bad_request(format!("invalid query string - {e}")))
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use axum::http::{Request, StatusCode};

    use super::*;

    async fn query<T: DeserializeOwned>(uri: &str) -> Result<T, AppError> {
        let (mut parts, ()) = Request::get(uri).body(()).expect("request").into_parts();
        Query::<T>::from_request_parts(&mut parts, &())
            .await
            .map(|Query(q)| q)
    }

    #[tokio::test]
    async fn last_value_wins_and_nul_is_refused() {
        let q: HashMap<String, String> = query("/x?page=1&search=a+b&page=3").await.expect("query");
        assert_eq!(q.get("page").map(String::as_str), Some("3"));
        assert_eq!(q.get("search").map(String::as_str), Some("a b"));
        let refused = query::<HashMap<String, String>>("/x?search=a%00b").await;
        assert!(
            matches!(refused, Err(AppError::Detail(StatusCode::BAD_REQUEST, ref m)) if m == NUL_CHARACTERS)
        );
    }
}
