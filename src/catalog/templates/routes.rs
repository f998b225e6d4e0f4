//! Checklist templates (contract-A §4.5): list/create per product, reorder, and the detail routes the
//! original's routing swallowed (D8). Admin role only (D14; the original checked `is_staff`). Errors
//! keep the viewset's shapes: `{"detail":…}` for 404s, raw serializer errors for validation, and
//! `{"error":…}` for the reorder action.

use axum::{
    Json,
    extract::State,
    http::StatusCode,
    response::{IntoResponse, Response},
};
use serde::Serialize;
use serde_json::{Value, json};

use utoipa_axum::{router::OpenApiRouter, routes};

use crate::{
    auth::AdminUser,
    catalog::{
        model::{Kind, ProductType},
        products::public::no_match,
        products::repo,
        reorder_entries,
        templates::repo::{self as templates_repo, NewTemplate, TemplateChanges, TemplateRow},
    },
    error::{AppError, AppResult},
    extract::{Body, ErrorBody, Id, Pk},
    in_tx,
    state::AppState,
    timefmt::iso_at,
    validation::{self, FieldErrors, Text, boolean, integer, text},
};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_templates, create_template))
        // Literal segments: they win over `{product_type}/{id}/` (contract-A §7.5).
        .routes(routes!(reorder_templates))
        .routes(routes!(
            template_detail,
            replace_template,
            patch_template,
            delete_template
        ))
}

/// ChecklistTemplateItem (contract-A §4.2).
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct TemplateOut {
    pub id: i64,
    pub name: String,
    pub description: String,
    pub order: i32,
    pub is_optional: bool,
    pub estimated_duration_minutes: Option<i32>,
    pub created_at: String,
    pub product_type: String,
    pub product_id: i64,
}

impl TemplateOut {
    fn new(row: &TemplateRow, state: &AppState) -> Self {
        Self {
            id: row.id,
            name: row.name.clone(),
            description: row.description.clone(),
            order: row.sort_order,
            is_optional: row.is_optional,
            estimated_duration_minutes: row.estimated_duration_minutes,
            created_at: iso_at(row.created_at, state.config.tz_offset),
            product_type: row.product_type.clone(),
            product_id: row.product_id,
        }
    }
}

fn out(rows: &[TemplateRow], state: &AppState) -> Vec<TemplateOut> {
    rows.iter().map(|r| TemplateOut::new(r, state)).collect()
}

/// `{"detail":"No ChecklistTemplateItem matches the given query."}`.
fn template_not_found() -> AppError {
    AppError::Detail(
        StatusCode::NOT_FOUND,
        "No ChecklistTemplateItem matches the given query.".into(),
    )
}

/// The serializer's rules. `required`: name and description must be present (create and PUT); a PATCH
/// validates only what it sends.
fn validate(body: &Value, required: bool) -> AppResult<TemplateChanges> {
    validation::object(body)?;
    let mut errors = FieldErrors::default();
    let rules = Text {
        required,
        ..Text::required()
    };
    let changes = TemplateChanges {
        name: text(body, "name", rules.max(200), &mut errors),
        description: text(body, "description", rules, &mut errors),
        sort_order: integer(body, "order", false, false, &mut errors).flatten(),
        is_optional: boolean(body, "is_optional", &mut errors),
        estimated_duration_minutes: integer(
            body,
            "estimated_duration_minutes",
            false,
            true,
            &mut errors,
        ),
    };
    errors.check()?;
    Ok(changes)
}

/// `GET …/{type}/{id}/checklist-template/` → a bare array by order.
#[utoipa::path(get, path = "/api/admin/products/{product_type}/{id}/checklist-template/", tag = "admin-catalog", summary = "A product's checklist template", params(("product_type" = ProductType, Path, description = "`package` or `campaign`"), ("id" = i64, Path)), responses((status = 200, body = Vec<TemplateOut>), (status = 400, description = "Invalid input"), (status = 401, description = "Authentication required"), (status = 403, description = "Admin role required"), (status = 404, description = "Not found")))]
async fn list_templates(
    State(state): State<AppState>,
    _admin: AdminUser,
    Kind(kind): Kind,
    Id(id): Id,
) -> AppResult<Json<Vec<TemplateOut>>> {
    if !repo::exists(&state.db, kind, id).await? {
        return Err(no_match(kind));
    }
    let rows = templates_repo::list_for(&state.db, kind, id).await?;
    Ok(Json(out(&rows, &state)))
}

/// `POST …/{type}/{id}/checklist-template/` → 201. Without `order` the item goes last (max + 1).
#[utoipa::path(post, path = "/api/admin/products/{product_type}/{id}/checklist-template/", tag = "admin-catalog", summary = "Add a checklist item", request_body = crate::catalog::model::TemplateIn, params(("product_type" = ProductType, Path, description = "`package` or `campaign`"), ("id" = i64, Path)), responses((status = 201, body = TemplateOut), (status = 400, description = "Invalid input"), (status = 401, description = "Authentication required"), (status = 403, description = "Admin role required"), (status = 404, description = "Not found")))]
async fn create_template(
    State(state): State<AppState>,
    AdminUser(admin): AdminUser,
    Kind(kind): Kind,
    Id(id): Id,
    Body(body): Body<Value>,
) -> AppResult<Response> {
    if !repo::exists(&state.db, kind, id).await? {
        return Err(no_match(kind));
    }
    let changes = validate(&body, true)?;
    let (Some(name), Some(description)) = (changes.name, changes.description) else {
        return Err(FieldErrors::one("non_field_errors", "Invalid data.").into());
    };
    let input = NewTemplate {
        name,
        description,
        sort_order: changes.sort_order,
        is_optional: changes.is_optional.unwrap_or(false),
        estimated_duration_minutes: changes.estimated_duration_minutes.flatten(),
    };
    let row = templates_repo::create(&state.db, kind, id, &input).await?;
    tracing::info!(
        product_type = kind.as_str(),
        product_id = id,
        item_id = row.id,
        by = admin.id,
        "checklist template item created"
    );
    Ok((StatusCode::CREATED, Json(TemplateOut::new(&row, &state))).into_response())
}

#[utoipa::path(get, path = "/api/admin/products/checklist-template/{pk}/", tag = "admin-catalog", summary = "A checklist item", params(("pk" = i64, Path)), responses((status = 200, body = TemplateOut), (status = 401, description = "Authentication required"), (status = 403, description = "Admin role required"), (status = 404, description = "Not found")))]
async fn template_detail(
    State(state): State<AppState>,
    _admin: AdminUser,
    Pk(pk): Pk,
) -> AppResult<Json<TemplateOut>> {
    let row = templates_repo::get(&state.db, pk)
        .await?
        .ok_or_else(template_not_found)?;
    Ok(Json(TemplateOut::new(&row, &state)))
}

/// PUT (name and description required; omitted optional keys keep their values) and PATCH (partial).
async fn update(state: &AppState, pk: i64, body: &Value, full: bool) -> AppResult<TemplateOut> {
    if templates_repo::get(&state.db, pk).await?.is_none() {
        return Err(template_not_found());
    }
    let changes = validate(body, full)?;
    let row = templates_repo::update(&state.db, pk, &changes)
        .await?
        .ok_or_else(template_not_found)?;
    Ok(TemplateOut::new(&row, state))
}

#[utoipa::path(put, path = "/api/admin/products/checklist-template/{pk}/", tag = "admin-catalog", summary = "Replace a checklist item", request_body = crate::catalog::model::TemplateIn, params(("pk" = i64, Path)), responses((status = 200, body = TemplateOut), (status = 400, description = "Invalid input"), (status = 401, description = "Authentication required"), (status = 403, description = "Admin role required"), (status = 404, description = "Not found")))]
async fn replace_template(
    State(state): State<AppState>,
    AdminUser(admin): AdminUser,
    Pk(pk): Pk,
    Body(body): Body<Value>,
) -> AppResult<Json<TemplateOut>> {
    let item = update(&state, pk, &body, true).await?;
    tracing::info!(
        item_id = item.id,
        by = admin.id,
        "checklist template item replaced"
    );
    Ok(Json(item))
}

#[utoipa::path(patch, path = "/api/admin/products/checklist-template/{pk}/", tag = "admin-catalog", summary = "Edit a checklist item (partial)", request_body = crate::catalog::model::TemplateIn, params(("pk" = i64, Path)), responses((status = 200, body = TemplateOut), (status = 400, description = "Invalid input"), (status = 401, description = "Authentication required"), (status = 403, description = "Admin role required"), (status = 404, description = "Not found")))]
async fn patch_template(
    State(state): State<AppState>,
    AdminUser(admin): AdminUser,
    Pk(pk): Pk,
    Body(body): Body<Value>,
) -> AppResult<Json<TemplateOut>> {
    let item = update(&state, pk, &body, false).await?;
    tracing::info!(
        item_id = item.id,
        by = admin.id,
        "checklist template item updated"
    );
    Ok(Json(item))
}

/// DELETE → 204. An item that order checklists use is kept (409; the original crashed with a 500).
#[utoipa::path(delete, path = "/api/admin/products/checklist-template/{pk}/", tag = "admin-catalog", summary = "Delete a checklist item", params(("pk" = i64, Path)), responses((status = 204), (status = 401, description = "Authentication required"), (status = 403, description = "Admin role required"), (status = 404, description = "Not found"), (status = 409, description = "In use")))]
async fn delete_template(
    State(state): State<AppState>,
    AdminUser(admin): AdminUser,
    Pk(pk): Pk,
) -> AppResult<StatusCode> {
    match templates_repo::delete(&state.db, pk).await? {
        templates_repo::Deleted::Yes => {
            tracing::info!(
                item_id = pk,
                by = admin.id,
                "checklist template item deleted"
            );
            Ok(StatusCode::NO_CONTENT)
        }
        templates_repo::Deleted::NotFound => Err(template_not_found()),
        templates_repo::Deleted::InUse => Err(AppError::Detail(
            StatusCode::CONFLICT,
            "This checklist item is used by order checklists and cannot be deleted.".into(),
        )),
    }
}

const ITEMS_REQUIRED: &str =
    "Items array is required with format: [{\"id\": 1, \"order\": 0}, ...]";

/// `PATCH /admin/products/checklist-template/reorder/` → `{"message":…,"items":[… by order]}`.
#[utoipa::path(patch, path = "/api/admin/products/checklist-template/reorder/", tag = "admin-catalog", summary = "Reorder checklist items", request_body = crate::catalog::model::ReorderIn, responses((status = 200, body = serde_json::Value), (status = 400, description = "Invalid input"), (status = 401, description = "Authentication required"), (status = 403, description = "Admin role required"), (status = 404, description = "Not found")))]
async fn reorder_templates(
    State(state): State<AppState>,
    AdminUser(admin): AdminUser,
    ErrorBody(body): ErrorBody<Value>,
) -> AppResult<Json<Value>> {
    let entries = reorder_entries(&body, "item_ids")
        .ok_or_else(|| AppError::Error(StatusCode::BAD_REQUEST, ITEMS_REQUIRED.into()))?;
    let rows = in_tx!(state.db, |tx| templates_repo::reorder(&mut tx, &entries))
        .await?
        .ok_or_else(|| {
            AppError::Error(
                StatusCode::NOT_FOUND,
                "One or more checklist items not found".into(),
            )
        })?;
    tracing::info!(
        count = entries.len(),
        by = admin.id,
        "checklist template items reordered"
    );
    Ok(Json(json!({
        "message": format!("Successfully reordered {} items", entries.len()),
        "items": out(&rows, &state),
    })))
}
