//! Who is calling (D13): anonymous, authenticated, staff or admin. A bad token on a public route is
//! anonymous; a missing or bad token on a protected route is 401 (with `WWW-Authenticate: Bearer`); an
//! authenticated caller without the role is 403. The user and role are read on every request (D12) —
//! from the database, or from Redis when configured, where every change invalidates them — so
//! demotions, deletions and password changes take effect at once.

use axum::{
    extract::FromRequestParts,
    http::{header, request::Parts},
};

use crate::{
    auth::{cache, model::User, repo},
    crypto::jwt::TokenError,
    error::AppError,
    state::AppState,
};

const NO_CREDENTIALS: &str = "Authentication credentials were not provided.";

/// Why a presented token did not authenticate.
enum Failure {
    Invalid,
    Expired,
    UserNotFound,
}

impl Failure {
    fn into_error(self) -> AppError {
        AppError::Unauthorized(
            match self {
                Failure::Invalid => "Invalid token",
                Failure::Expired => "Token has expired",
                Failure::UserNotFound => "User not found",
            }
            .into(),
        )
    }
}

/// `Ok(None)`: no bearer credentials at all. `Err(Ok(f))`: credentials that failed.
/// `Err(Err(e))`: the user lookup itself failed (fail closed: 503, never anonymous).
async fn authenticate(
    parts: &Parts,
    state: &AppState,
) -> Result<Option<User>, Result<Failure, AppError>> {
    let mut values = parts.headers.get_all(header::AUTHORIZATION).iter();
    let Some(value) = values.next() else {
        return Ok(None);
    };
    if values.next().is_some() {
        return Err(Ok(Failure::Invalid));
    }
    let Ok(value) = value.to_str() else {
        return Err(Ok(Failure::Invalid));
    };
    // The prefix is case-sensitive, exactly "Bearer " (contract-A §1); other schemes are no credentials.
    let Some(token) = value.strip_prefix("Bearer ") else {
        return Ok(None);
    };
    verify(state, token.trim()).await.map(Some)
}

/// The active user a token names, for routes that take a token elsewhere than the header
/// (`?token=` on secure files, D19). `Ok(None)`: the token does not authenticate (invalid,
/// expired, user gone or deactivated, issued before a password change); `Err`: the user lookup
/// failed (503).
pub async fn authenticate_token(state: &AppState, token: &str) -> Result<Option<User>, AppError> {
    match verify(state, token.trim()).await {
        Ok(user) => Ok(Some(user)),
        Err(Ok(_)) => Ok(None),
        Err(Err(error)) => Err(error),
    }
}

async fn verify(state: &AppState, token: &str) -> Result<User, Result<Failure, AppError>> {
    let claims = state.jwt.verify(token).map_err(|e| {
        Ok(match e {
            TokenError::Expired => Failure::Expired,
            TokenError::Invalid => Failure::Invalid,
        })
    })?;
    // Through the cache (Redis only; invalidated on every user change): see `auth::cache`.
    let user = cache::user_by_id(state, claims.user_id, || {
        repo::find_for_auth(&state.db, claims.user_id)
    })
    .await
    .map_err(|e| Err(AppError::from(e)))?;
    let Some(user) = user.filter(|u| u.is_active) else {
        return Err(Ok(Failure::UserNotFound));
    };
    // Tokens issued before the last password change are void.
    if let Some(changed) = user.password_changed_at
        && claims.iat.is_none_or(|iat| iat < changed)
    {
        return Err(Ok(Failure::Invalid));
    }
    Ok(user)
}

/// Any authenticated, active user.
#[derive(Debug, Clone)]
pub struct AuthUser(pub User);

impl FromRequestParts<AppState> for AuthUser {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, AppError> {
        match authenticate(parts, state).await {
            Ok(Some(user)) => Ok(AuthUser(user)),
            Ok(None) => Err(AppError::Unauthorized(NO_CREDENTIALS.into())),
            Err(Ok(failure)) => Err(failure.into_error()),
            Err(Err(error)) => Err(error),
        }
    }
}

/// The caller if a valid token was presented; anonymous otherwise (public routes never 401).
#[derive(Debug, Clone)]
pub struct MaybeUser(pub Option<User>);

impl FromRequestParts<AppState> for MaybeUser {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, AppError> {
        match authenticate(parts, state).await {
            Ok(user) => Ok(MaybeUser(user)),
            Err(Ok(_)) => Ok(MaybeUser(None)),
            Err(Err(error)) => Err(error),
        }
    }
}

/// `role` staff or admin.
#[derive(Debug, Clone)]
pub struct StaffUser(pub User);

impl FromRequestParts<AppState> for StaffUser {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, AppError> {
        let AuthUser(user) = AuthUser::from_request_parts(parts, state).await?;
        if user.is_staff_or_admin() {
            Ok(StaffUser(user))
        } else {
            Err(AppError::forbidden())
        }
    }
}

/// `role` admin.
#[derive(Debug, Clone)]
pub struct AdminUser(pub User);

impl FromRequestParts<AppState> for AdminUser {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, AppError> {
        let AuthUser(user) = AuthUser::from_request_parts(parts, state).await?;
        if user.is_admin() {
            Ok(AdminUser(user))
        } else {
            Err(AppError::forbidden())
        }
    }
}

/// `?token=` of the routes a browser loads without headers (`<img>`, links, `EventSource`).
#[derive(Debug, Default, serde::Deserialize)]
pub struct TokenQuery {
    pub token: Option<String>,
}

/// The caller from the `Authorization` header or, failing that, `?token=`; neither → 401.
pub async fn header_or_query(
    state: &AppState,
    header_user: Option<User>,
    token: Option<&str>,
) -> Result<User, AppError> {
    let user = match header_user {
        Some(user) => Some(user),
        None => match token.map(str::trim).filter(|t| !t.is_empty()) {
            Some(token) => authenticate_token(state, token).await?,
            None => None,
        },
    };
    user.ok_or_else(|| AppError::Unauthorized(NO_CREDENTIALS.into()))
}
