//! The bell's routes (contract-B §8.3, D3): any signed-in user, their own notifications only —
//! the list (DRF's page envelope, newest first, `?unread_only=true`), mark one read and mark all
//! read, by POST or PATCH (the admin SPA sends PATCH).

use axum::{Json, extract::State, http::StatusCode};
use serde_json::{Value, json};
use utoipa_axum::{router::OpenApiRouter, routes};

use crate::{
    auth::AuthUser,
    error::{AppError, AppResult},
    extract::{BaseUrl, Page, Query, page::page_number, path::parse_id},
    notifications::{model::NotificationOut, repo},
    path_param,
    state::AppState,
};

const PAGE_SIZE: i64 = 20;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list))
        .routes(routes!(crate::notifications::stream::stream))
        .routes(routes!(mark_all_read_post, mark_all_read_patch))
        .routes(routes!(mark_read_post, mark_read_patch))
}

fn not_found() -> AppError {
    AppError::Message(StatusCode::NOT_FOUND, "Notification not found".into())
}

path_param!(
    /// `{notification_id}`: an integer, or `{"success": false, "message": "Notification not found"}`.
    pub struct NotificationId(i64) = "notification_id", parse_id, not_found;
);

#[derive(Debug, Default, serde::Deserialize)]
struct ListQuery {
    page: Option<String>,
    unread_only: Option<String>,
}

#[utoipa::path(get, path = "/api/admin/notifications/", tag = "notifications",
    summary = "The caller's notifications, newest first, 20 per page",
    params(("page" = Option<String>, Query), ("unread_only" = Option<String>, Query, description = "`true` for unread only")),
    responses((status = 200, body = Page<NotificationOut>), (status = 401, description = "Authentication required"),
        (status = 404, description = "Invalid page")))]
async fn list(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
    BaseUrl(base): BaseUrl,
    Query(query): Query<ListQuery>,
) -> AppResult<Json<Page<NotificationOut>>> {
    let unread_only = query
        .unread_only
        .as_deref()
        .is_some_and(|v| v.trim().eq_ignore_ascii_case("true"));
    let count = repo::count(&state.db, user.id, unread_only).await?;
    let page = page_number(query.page.as_deref(), count, PAGE_SIZE)?;
    let rows = repo::page(
        &state.db,
        user.id,
        unread_only,
        PAGE_SIZE,
        (page - 1) * PAGE_SIZE,
    )
    .await?;
    let tz = state.config.tz_offset;
    let results = rows
        .into_iter()
        .map(|r| NotificationOut::new(r, tz))
        .collect();
    let path = format!("{base}/api/admin/notifications/");
    Ok(Json(Page::new(results, count, page, PAGE_SIZE, &path)))
}

async fn mark_one(state: &AppState, user_id: i64, id: i64) -> AppResult<Json<Value>> {
    if !repo::mark_read(&state.db, user_id, id).await? {
        return Err(not_found());
    }
    Ok(Json(
        json!({"success": true, "message": "Notification marked as read"}),
    ))
}

async fn mark_all(state: &AppState, user_id: i64) -> AppResult<Json<Value>> {
    let changed = repo::mark_all_read(&state.db, user_id).await?;
    Ok(Json(
        json!({"success": true, "message": format!("{changed} notifications marked as read")}),
    ))
}

#[utoipa::path(post, path = "/api/admin/notifications/{notification_id}/mark-read/", tag = "notifications",
    summary = "Mark one of the caller's notifications read", params(("notification_id" = i64, Path)),
    request_body(content = Value, content_type = "application/json", description = "Ignored"),
    responses((status = 200, description = "Marked"), (status = 401, description = "Authentication required"),
        (status = 404, description = "Not the caller's notification")))]
async fn mark_read_post(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
    NotificationId(id): NotificationId,
) -> AppResult<Json<Value>> {
    mark_one(&state, user.id, id).await
}

#[utoipa::path(patch, path = "/api/admin/notifications/{notification_id}/mark-read/", tag = "notifications",
    summary = "Mark one of the caller's notifications read (PATCH, as the admin SPA sends it)",
    params(("notification_id" = i64, Path)),
    request_body(content = Value, content_type = "application/json", description = "Ignored"),
    responses((status = 200, description = "Marked"), (status = 401, description = "Authentication required"),
        (status = 404, description = "Not the caller's notification")))]
async fn mark_read_patch(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
    NotificationId(id): NotificationId,
) -> AppResult<Json<Value>> {
    mark_one(&state, user.id, id).await
}

#[utoipa::path(post, path = "/api/admin/notifications/mark-all-read/", tag = "notifications",
    summary = "Mark all the caller's notifications read",
    request_body(content = Value, content_type = "application/json", description = "Ignored"),
    responses((status = 200, description = "How many changed"), (status = 401, description = "Authentication required")))]
async fn mark_all_read_post(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
) -> AppResult<Json<Value>> {
    mark_all(&state, user.id).await
}

#[utoipa::path(patch, path = "/api/admin/notifications/mark-all-read/", tag = "notifications",
    summary = "Mark all the caller's notifications read (PATCH, as the admin SPA sends it)",
    request_body(content = Value, content_type = "application/json", description = "Ignored"),
    responses((status = 200, description = "How many changed"), (status = 401, description = "Authentication required")))]
async fn mark_all_read_patch(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
) -> AppResult<Json<Value>> {
    mark_all(&state, user.id).await
}
