//! `/api/auth/…`: login, signup, me, and the admin's user management (contract-A §3.4, contract-B §10).

use std::collections::HashMap;

use axum::{
    Json,
    extract::{FromRequest, Request, State},
    http::StatusCode,
    response::{IntoResponse, Response},
};
use serde::Serialize;
use serde_json::{Value, json};

use utoipa_axum::{router::OpenApiRouter, routes};

use crate::{
    auth::{
        extract::{AdminUser, AuthUser},
        model::{NewUser, Role, User, UserOut},
        policy,
        repo::{self, CreateError, Taken},
    },
    crypto::password::Verdict,
    error::{AppError, AppResult},
    extract::{Body, ClientIp, ErrorBody, Query, path::parse_id},
    ratelimit::{LOGIN_FAILURES_PER_ACCOUNT, LOGIN_PER_IP, SIGNUP_PER_IP},
    state::AppState,
    validation::{self, FieldErrors, REQUIRED, Text, normalize_username},
};

crate::path_param!(
    /// `{id}` of a user: an integer, or this family's `{"success":false,"message":"User not found"}`.
    struct UserId(i64) = "id", parse_id, user_not_found;
);

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(login))
        .routes(routes!(signup))
        .routes(routes!(me))
        .routes(routes!(list_users))
        .routes(routes!(create_user))
        .routes(routes!(set_role))
        .routes(routes!(delete_user))
}

const MAX_USERNAME: usize = 150;
const MAX_PHONE: usize = 15;
const MAX_FIREBASE_UID: usize = 128;
const CREDENTIALS_REQUIRED: &str = "Username and password are required";
const INVALID_CREDENTIALS: &str = "Invalid username or password";

#[derive(Serialize, utoipa::ToSchema)]
struct TokenOut {
    token: String,
    user: UserOut,
    role: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    message: Option<&'static str>,
}

fn error(status: StatusCode, message: impl Into<String>) -> AppError {
    AppError::Error(status, message.into())
}

/// A string field as DRF's `request.data.get` would give it (numbers are taken as text); text
/// PostgreSQL cannot store is this family's 400.
fn text(body: &Value, name: &str) -> AppResult<Option<String>> {
    validation::raw_text(body, name).map_err(|m| error(StatusCode::BAD_REQUEST, m))
}

fn user_out(state: &AppState, user: &User) -> UserOut {
    UserOut::new(user, state.config.tz_offset, 0)
}

fn issue_token(state: &AppState, user: &User) -> AppResult<String> {
    state
        .jwt
        .issue(user.id, user.phone_number.as_deref(), &user.role)
        .map_err(|e| AppError::Internal(anyhow::Error::new(e).context("signing a token")))
}

/// `POST /api/auth/login/`. Every POST counts against the client IP's budget (5/min); failures also
/// count against the account (10 per 15 min), whichever IP they come from.
#[utoipa::path(post, path = "/api/auth/login/", tag = "auth", summary = "Log in (5/min per client IP)", request_body = crate::auth::model::LoginIn, responses((status = 200, body = TokenOut), (status = 400, description = "Invalid input"), (status = 401, description = "Invalid username or password"), (status = 429, description = "Rate limited")))]
async fn login(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    request: Request,
) -> AppResult<Response> {
    let ip_budget = state.limiter.enforce(&LOGIN_PER_IP, &ip).await?;
    let ErrorBody(body) = ErrorBody::<Value>::from_request(request, &state).await?;
    let (Some(username), Some(password)) = (text(&body, "username")?, text(&body, "password")?)
    else {
        return Err(error(StatusCode::BAD_REQUEST, CREDENTIALS_REQUIRED));
    };
    if username.is_empty() || password.is_empty() {
        return Err(error(StatusCode::BAD_REQUEST, CREDENTIALS_REQUIRED));
    }
    // Stored usernames are NFKC-normalised; so is what a user types to sign in.
    let username = normalize_username(&username);
    let account = state
        .limiter
        .peek(&LOGIN_FAILURES_PER_ACCOUNT, &username)
        .await;
    if !account.allowed {
        tracing::warn!(
            rule = LOGIN_FAILURES_PER_ACCOUNT.name,
            "account login limit reached"
        );
        state.limiter.refused(&LOGIN_FAILURES_PER_ACCOUNT);
        return Err(AppError::RateLimited(account));
    }

    let user = repo::find_by_username(&state.db, &username)
        .await?
        .filter(|u| u.is_active);
    let verdict = match &user {
        Some(user) => {
            state
                .passwords
                .verify(password, user.password.clone())
                .await?
        }
        None => {
            state.passwords.verify_dummy(password).await?;
            Verdict::Wrong
        }
    };
    let (user, rehash) = match (user, verdict) {
        (Some(user), Verdict::Correct { rehash }) => (user, rehash),
        _ => {
            state
                .limiter
                .hit(&LOGIN_FAILURES_PER_ACCOUNT, &username)
                .await;
            return Err(error(StatusCode::UNAUTHORIZED, INVALID_CREDENTIALS));
        }
    };
    state
        .limiter
        .reset(&LOGIN_FAILURES_PER_ACCOUNT, &username)
        .await;
    if let Some(hash) = rehash {
        repo::upgrade_password_hash(&state.db, user.id, &hash).await?;
        tracing::info!(
            user_id = user.id,
            "legacy password hash upgraded to Argon2id"
        );
    }
    repo::touch_last_login(&state.db, user.id).await?;
    let token = issue_token(&state, &user)?;
    let out = TokenOut {
        token,
        role: user.role.clone(),
        user: user_out(&state, &user),
        message: None,
    };
    Ok(ip_budget.with_headers(Json(out).into_response()))
}

/// `POST /api/auth/signup/`: 3/hour per client IP; role is always `user`.
#[utoipa::path(post, path = "/api/auth/signup/", tag = "auth", summary = "Create a customer account (3/hour per client IP)", request_body = crate::auth::model::SignupIn, responses((status = 201, body = TokenOut), (status = 400, description = "Invalid input"), (status = 429, description = "Rate limited")))]
async fn signup(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    request: Request,
) -> AppResult<Response> {
    let ip_budget = state.limiter.enforce(&SIGNUP_PER_IP, &ip).await?;
    let ErrorBody(body) = ErrorBody::<Value>::from_request(request, &state).await?;
    let (Some(username), Some(password)) = (text(&body, "username")?, text(&body, "password")?)
    else {
        return Err(error(StatusCode::BAD_REQUEST, CREDENTIALS_REQUIRED));
    };
    // As Django's `normalize_username`: `ａｄｍｉｎ` is `admin`, so it cannot pose as another account.
    let username = normalize_username(&username);
    if username.trim().is_empty() || password.is_empty() {
        return Err(error(StatusCode::BAD_REQUEST, CREDENTIALS_REQUIRED));
    }
    if username.chars().count() > MAX_USERNAME {
        return Err(error(
            StatusCode::BAD_REQUEST,
            "Username must be at most 150 characters",
        ));
    }
    if username.chars().any(char::is_control) {
        return Err(error(
            StatusCode::BAD_REQUEST,
            "Username contains invalid characters",
        ));
    }
    // D15: "" (what the customer site always sends) is stored as NULL, so it never clashes.
    let phone = text(&body, "phone_number")?
        .map(|p| p.trim().to_string())
        .filter(|p| !p.is_empty());
    if phone
        .as_ref()
        .is_some_and(|p| p.chars().count() > MAX_PHONE)
    {
        return Err(error(
            StatusCode::BAD_REQUEST,
            "Phone number must be at most 15 characters",
        ));
    }
    policy::check_policy(&password, &username).map_err(|m| error(StatusCode::BAD_REQUEST, m))?;
    if repo::is_taken(&state.db, Taken::Username, &username).await? {
        return Err(error(StatusCode::BAD_REQUEST, "Username already exists"));
    }
    if let Some(p) = &phone
        && repo::is_taken(&state.db, Taken::Phone, p).await?
    {
        return Err(error(
            StatusCode::BAD_REQUEST,
            "Phone number already exists",
        ));
    }

    let password_hash = state.passwords.hash(password).await?;
    let new = NewUser {
        username,
        password_hash,
        phone_number: phone,
        firebase_uid: None,
        role: Role::User,
    };
    let user = match repo::create(&state.db, &new).await {
        Ok(user) => user,
        Err(CreateError::Taken(Taken::Phone)) => {
            return Err(error(
                StatusCode::BAD_REQUEST,
                "Phone number already exists",
            ));
        }
        Err(CreateError::Taken(_)) => {
            return Err(error(StatusCode::BAD_REQUEST, "Username already exists"));
        }
        Err(CreateError::Db(e)) => return Err(e.into()),
    };
    let token = issue_token(&state, &user)?;
    let out = TokenOut {
        token,
        role: user.role.clone(),
        user: user_out(&state, &user),
        message: Some("Account created successfully"),
    };
    Ok(ip_budget.with_headers((StatusCode::CREATED, Json(out)).into_response()))
}

/// `GET /api/auth/me/`.
#[utoipa::path(get, path = "/api/auth/me/", tag = "auth", summary = "The signed-in user", responses((status = 200, body = UserOut), (status = 401, description = "Authentication required")))]
async fn me(State(state): State<AppState>, AuthUser(user): AuthUser) -> Json<UserOut> {
    Json(user_out(&state, &user))
}

/// `GET /api/auth/users/?role=&search=`: a bare array, newest first.
#[utoipa::path(get, path = "/api/auth/users/", tag = "users", summary = "Users, newest first (admin)", params(("role" = Option<String>, Query), ("search" = Option<String>, Query)), responses((status = 200, body = Vec<UserOut>), (status = 400, description = "Invalid input"), (status = 401, description = "Authentication required"), (status = 403, description = "Admin role required")))]
async fn list_users(
    State(state): State<AppState>,
    _admin: AdminUser,
    Query(query): Query<HashMap<String, String>>,
) -> AppResult<Json<Vec<UserOut>>> {
    let role = query
        .get("role")
        .map(String::as_str)
        .filter(|r| !r.is_empty());
    let search = query
        .get("search")
        .map(|s| s.trim())
        .filter(|s| !s.is_empty());
    let users = repo::list(&state.db, role, search).await?;
    let tz = state.config.tz_offset;
    Ok(Json(
        users
            .iter()
            .map(|u| UserOut::new(&u.user, tz, u.order_count))
            .collect(),
    ))
}

fn message(status: StatusCode, text: impl Into<String>) -> AppError {
    AppError::Message(status, text.into())
}

fn user_not_found() -> AppError {
    message(StatusCode::NOT_FOUND, "User not found")
}

fn invalid_choice(value: &Value) -> String {
    let shown = match value {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    format!("\"{shown}\" is not a valid choice.")
}

/// `POST /api/auth/users/create/`: field errors come back as `{field: [messages]}` (no wrapper).
#[utoipa::path(post, path = "/api/auth/users/create/", tag = "users", summary = "Create a user (admin)", request_body = crate::auth::model::UserCreateIn, responses((status = 201, body = serde_json::Value), (status = 400, description = "Invalid input"), (status = 401, description = "Authentication required"), (status = 403, description = "Admin role required")))]
async fn create_user(
    State(state): State<AppState>,
    _admin: AdminUser,
    Body(body): Body<Value>,
) -> AppResult<Response> {
    validation::object(&body)?;
    let mut errors = FieldErrors::default();
    let username = validation::text(
        &body,
        "username",
        Text::required().max(MAX_USERNAME),
        &mut errors,
    )
    .map(|u| normalize_username(&u));
    if let Some(u) = &username {
        if u.chars().count() > MAX_USERNAME {
            errors.add(
                "username",
                format!("Ensure this field has no more than {MAX_USERNAME} characters."),
            );
        } else if repo::is_taken(&state.db, Taken::Username, u).await? {
            errors.add("username", "Username already exists");
        }
    }
    let phone = validation::text(
        &body,
        "phone_number",
        Text::required().max(MAX_PHONE),
        &mut errors,
    );
    if let Some(p) = &phone
        && repo::is_taken(&state.db, Taken::Phone, p).await?
    {
        errors.add("phone_number", "Phone number already exists");
    }
    let role = match body.get("role") {
        None | Some(Value::Null) => Some(Role::User),
        Some(Value::String(r)) if r.is_empty() => Some(Role::User),
        Some(value) => {
            let parsed = value.as_str().and_then(Role::parse);
            if parsed.is_none() {
                errors.add("role", invalid_choice(value));
            }
            parsed
        }
    };
    let firebase_uid = match body.get("firebase_uid") {
        None | Some(Value::Null) => None,
        Some(_) => validation::text(
            &body,
            "firebase_uid",
            Text::optional().max(MAX_FIREBASE_UID),
            &mut errors,
        ),
    }
    .filter(|f| !f.is_empty());
    if let Some(uid) = &firebase_uid
        && repo::is_taken(&state.db, Taken::FirebaseUid, uid).await?
    {
        errors.add("firebase_uid", "Firebase UID already exists");
    }
    // "" (the admin form's "leave blank") means a random password nobody knows. Not trimmed.
    let password = match body.get("password") {
        None | Some(Value::Null) => None,
        Some(value) => match value {
            Value::String(p) if p.contains('\0') => {
                errors.add("password", validation::NUL_CHARACTERS);
                None
            }
            Value::String(p) => Some(p.clone()),
            Value::Number(n) => Some(n.to_string()),
            _ => {
                errors.add("password", validation::INVALID_STRING);
                None
            }
        },
    }
    .filter(|p| !p.is_empty());
    if let (Some(p), Some(u)) = (&password, &username)
        && let Err(problem) = policy::check_policy(p, u)
    {
        errors.add("password", problem.to_string());
    }
    errors.check()?;
    let (Some(username), Some(phone), Some(role)) = (username, phone, role) else {
        return Err(AppError::bad_request("Invalid data."));
    };

    let password = password.unwrap_or_else(random_password);
    let password_hash = state.passwords.hash(password).await?;
    let new = NewUser {
        username,
        password_hash,
        phone_number: Some(phone),
        firebase_uid,
        role,
    };
    let user = match repo::create(&state.db, &new).await {
        Ok(user) => user,
        Err(CreateError::Taken(taken)) => {
            let (field, text) = match taken {
                Taken::Username => ("username", "Username already exists"),
                Taken::Phone => ("phone_number", "Phone number already exists"),
                Taken::FirebaseUid => ("firebase_uid", "Firebase UID already exists"),
            };
            return Err(FieldErrors::one(field, text).into());
        }
        Err(CreateError::Db(e)) => return Err(e.into()),
    };
    tracing::info!(user_id = user.id, role = %user.role, "user created by an admin");
    Ok((
        StatusCode::CREATED,
        Json(json!({
            "success": true,
            "message": "User created successfully",
            "user": user_out(&state, &user),
        })),
    )
        .into_response())
}

fn random_password() -> String {
    format!(
        "{}{}",
        uuid::Uuid::new_v4().simple(),
        uuid::Uuid::new_v4().simple()
    )
}

/// `PATCH /api/auth/users/{id}/role/`.
#[utoipa::path(patch, path = "/api/auth/users/{id}/role/", tag = "users", summary = "Change a user's role (admin)", request_body = crate::auth::model::RoleIn, params(("id" = i64, Path)), responses((status = 200, body = serde_json::Value), (status = 400, description = "Invalid input"), (status = 401, description = "Authentication required"), (status = 403, description = "Admin role required"), (status = 404, description = "Not found")))]
async fn set_role(
    State(state): State<AppState>,
    AdminUser(admin): AdminUser,
    UserId(id): UserId,
    Body(body): Body<Value>,
) -> AppResult<Json<Value>> {
    let role = match body.get("role") {
        None | Some(Value::Null) => return Err(FieldErrors::one("role", REQUIRED).into()),
        Some(value) => value
            .as_str()
            .and_then(Role::parse)
            .ok_or_else(|| FieldErrors::one("role", invalid_choice(value)))?,
    };
    let target = repo::find_by_id(&state.db, id)
        .await?
        .filter(|u| u.is_active)
        .ok_or_else(user_not_found)?;
    if target.is_admin() && role != Role::Admin && repo::count_active_admins(&state.db).await? <= 1
    {
        return Err(message(
            StatusCode::BAD_REQUEST,
            "You cannot remove the last admin",
        ));
    }
    let updated = repo::set_role(&state.db, id, role)
        .await?
        .ok_or_else(user_not_found)?;
    crate::auth::cache::invalidate_user(&state.cache, id).await;
    tracing::info!(
        user_id = id,
        by = admin.id,
        role = role.as_str(),
        "user role changed"
    );
    Ok(Json(json!({
        "success": true,
        "message": format!("User role updated to {}", role.as_str()),
        "user": user_out(&state, &updated),
    })))
}

/// `DELETE /api/auth/users/{id}/`: deactivates the account (D16); orders and payments stay.
#[utoipa::path(delete, path = "/api/auth/users/{id}/", tag = "users", summary = "Deactivate a user (admin)", params(("id" = i64, Path)), responses((status = 200, body = serde_json::Value), (status = 400, description = "Invalid input"), (status = 401, description = "Authentication required"), (status = 403, description = "Admin role required"), (status = 404, description = "Not found")))]
async fn delete_user(
    State(state): State<AppState>,
    AdminUser(admin): AdminUser,
    UserId(id): UserId,
) -> AppResult<Json<Value>> {
    if id == admin.id {
        return Err(message(
            StatusCode::BAD_REQUEST,
            "You cannot delete your own account",
        ));
    }
    let target = repo::find_by_id(&state.db, id)
        .await?
        .filter(|u| u.is_active)
        .ok_or_else(user_not_found)?;
    if target.is_admin() && repo::count_active_admins(&state.db).await? <= 1 {
        return Err(message(
            StatusCode::BAD_REQUEST,
            "You cannot remove the last admin",
        ));
    }
    if !repo::deactivate(&state.db, id).await? {
        return Err(user_not_found());
    }
    crate::auth::cache::invalidate_user(&state.cache, id).await;
    tracing::info!(user_id = id, by = admin.id, "user deactivated");
    Ok(Json(json!({
        "success": true,
        "message": format!("User {} deleted successfully", target.username),
    })))
}
