//! `GET /api/secure-files/resources/{submission_id}/` (contract-A §4.8, D19, issue 10): a submitted
//! file for the order's owner, any admin, or the staff member the order is assigned to; the token
//! may come as `Authorization: Bearer` or `?token=` (the admin SPA's `<img>` and links; redacted from
//! every log line). No caller → 401; anyone else, or no such file → 404.

use axum::{
    body::Body as HttpBody,
    extract::State,
    http::{HeaderValue, StatusCode, header},
    response::Response,
};

use crate::{
    auth::{MaybeUser, model::User},
    error::{AppError, AppResult},
    extract::{Query, path::parse_id},
    orders::model::OrderRow,
    orders::service as orders,
    path_param,
    resources::repo,
    state::AppState,
    uploads::{Area, StoredName},
};

path_param!(
    /// `{submission_id}`: an integer, or `{"detail": "Resource not found"}`.
    pub struct SubmissionId(i64) = "submission_id", parse_id, not_found;
);

fn not_found() -> AppError {
    AppError::Detail(StatusCode::NOT_FOUND, "Resource not found".into())
}

pub use crate::auth::extract::{TokenQuery, header_or_query as caller};

/// Removes stored files (a failed or replaced upload's); failures are logged, never raised.
pub async fn remove(state: &AppState, names: &[StoredName]) {
    for name in names {
        if let Err(error) = state.uploads.storage.delete(Area::Resources, name).await {
            tracing::warn!(%error, file = %name, "could not remove a resource file");
        }
    }
}

fn content_type(extension: &str) -> &'static str {
    match extension {
        "jpg" | "jpeg" => "image/jpeg",
        "png" => "image/png",
        "gif" => "image/gif",
        "pdf" => "application/pdf",
        "docx" => "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        "doc" => "application/msword",
        _ => "application/octet-stream",
    }
}

/// The order's owner, any admin, or the staff member it is assigned to.
pub fn may_read(order: &OrderRow, user: &User) -> bool {
    order.user_id == user.id
        || user.role == "admin"
        || (user.role == "staff" && order.assigned_to == Some(user.id))
}

/// Streams a stored resource file with safe headers (`inline` or `attachment`).
pub async fn serve(state: &AppState, name: &StoredName, attachment: bool) -> AppResult<Response> {
    let Some(object) = state
        .uploads
        .storage
        .get(Area::Resources, name)
        .await
        .map_err(|e| {
            AppError::Internal(anyhow::Error::new(e).context("reading a resource file"))
        })?
    else {
        tracing::warn!(file = %name, "resource file is missing");
        return Err(not_found());
    };
    let disposition = if attachment { "attachment" } else { "inline" };
    let mut response = Response::new(HttpBody::from_stream(object.body));
    let h = response.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(content_type(name.extension())),
    );
    h.insert(header::CONTENT_LENGTH, HeaderValue::from(object.len));
    if let Ok(value) = HeaderValue::from_str(&format!("{disposition}; filename=\"{name}\"")) {
        h.insert(header::CONTENT_DISPOSITION, value);
    }
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("private, no-store"),
    );
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(
        "cross-origin-resource-policy",
        HeaderValue::from_static("cross-origin"),
    );
    Ok(response)
}

#[utoipa::path(get, path = "/api/secure-files/resources/{submission_id}/", tag = "files",
    summary = "A submitted resource file (owner, admins, the assigned staff member; header or ?token=)",
    params(("submission_id" = i64, Path), ("token" = Option<String>, Query)),
    responses((status = 200, description = "The file"), (status = 401, description = "Authentication required"),
        (status = 404, description = "Not found, or not the caller's")))]
pub async fn submission_file(
    State(state): State<AppState>,
    MaybeUser(header_user): MaybeUser,
    submission: Result<SubmissionId, AppError>,
    Query(query): Query<TokenQuery>,
) -> AppResult<Response> {
    let user = caller(&state, header_user, query.token.as_deref()).await?;
    let SubmissionId(id) = submission?;
    let Some((order_id, field_type)) = repo::submission_context(&state.db, id).await? else {
        return Err(not_found());
    };
    let Some(order) = orders::get(&state, order_id).await? else {
        return Err(not_found());
    };
    if !may_read(&order, &user) {
        return Err(not_found());
    }
    let Some(row) = repo::submission(&state.db, id).await? else {
        return Err(not_found());
    };
    let Some(name) = row.file_value.as_deref().and_then(StoredName::parse) else {
        return Err(AppError::Detail(
            StatusCode::NOT_FOUND,
            "No file associated with this submission".into(),
        ));
    };
    serve(&state, &name, field_type == "document").await
}
