//! Typed path parameters. Each answers the endpoint's own error when the segment does not parse:
//! an id that is not an integer (`abc`, or too large) is the endpoint's 404, as Django's `<int:pk>`
//! route would not have matched; a product type that is neither `package` nor `campaign` is the
//! endpoint's 400 (`catalog::model::Kind`). Declare one with [`path_param!`](crate::path_param):
//!
//! ```ignore
//! path_param!(pub struct UserId(i64) = "id", parse_id, user_not_found);
//! ```

use axum::{
    extract::{FromRequestParts, RawPathParams},
    http::request::Parts,
};

use crate::error::AppError;

/// An id as Django's `<int:pk>` matches it: digits only (`"3"`, `"0"`); `abc`, `-1`, `+3` and
/// overflow are `None`.
pub fn parse_id(raw: &str) -> Option<i64> {
    if raw.is_empty() || !raw.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    raw.parse::<i64>().ok()
}

/// The value of the path parameter `name` of the matched route.
pub async fn raw_param<S: Send + Sync>(
    parts: &mut Parts,
    state: &S,
    name: &str,
) -> Result<Option<String>, AppError> {
    let params = RawPathParams::from_request_parts(parts, state)
        .await
        .map_err(|_| AppError::not_found())?;
    Ok(params
        .iter()
        .find(|(key, _)| *key == name)
        .map(|(_, value)| value.to_string()))
}

/// Declares a path-parameter extractor: `path_param!(pub struct Name(Type) = "param", parse, reject);`
/// where `parse: fn(&str) -> Option<Type>` and `reject: fn() -> AppError`.
#[macro_export]
macro_rules! path_param {
    ($(#[$meta:meta])* $vis:vis struct $name:ident($ty:ty) = $param:literal, $parse:expr, $reject:expr;) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        $vis struct $name(pub $ty);

        impl<S: Send + Sync> ::axum::extract::FromRequestParts<S> for $name {
            type Rejection = $crate::error::AppError;

            async fn from_request_parts(
                parts: &mut ::axum::http::request::Parts,
                state: &S,
            ) -> Result<Self, Self::Rejection> {
                let raw = $crate::extract::path::raw_param(parts, state, $param).await?;
                let parse: fn(&str) -> Option<$ty> = $parse;
                let reject: fn() -> $crate::error::AppError = $reject;
                raw.as_deref().and_then(parse).map($name).ok_or_else(reject)
            }
        }
    };
}

path_param!(
    /// `{id}`: an integer, or `{"detail":"Not found."}`.
    pub struct Id(i64) = "id", parse_id, AppError::not_found;
);

path_param!(
    /// `{pk}`: an integer, or `{"detail":"Not found."}`.
    pub struct Pk(i64) = "pk", parse_id, AppError::not_found;
);

path_param!(
    /// `{product_id}`: an integer, or `{"detail":"Not found."}`.
    pub struct ProductId(i64) = "product_id", parse_id, AppError::not_found;
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_positive_integers() {
        assert_eq!(parse_id("3"), Some(3));
        assert_eq!(parse_id("0"), Some(0));
        for bad in ["abc", "+3", "-1", "99999999999999999999", "3.0", ""] {
            assert_eq!(parse_id(bad), None, "{bad}");
        }
    }
}
