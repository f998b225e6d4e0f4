//! Checklist templates (contract-A §4.5): list/create per product, reorder, and the detail routes the
//! original's routing swallowed (D8). Admin role only (D14; the original checked `is_staff`). Errors
//! keep the viewset's shapes: `{"detail":…}` for 404s, raw serializer errors for validation, and
//! `{"error":…}` for the reorder action.

use axum::{
    Json, Router,
    extract::{Path, State},
    http::StatusCode,
    response::{IntoResponse, Response},
    routing::{get, patch},
};
use serde::Serialize;
use serde_json::{Value, json};

use crate::{
    auth::AdminUser,
    catalog::{
        fields::routes::{Errors, boolean, integer, not_a_dict, reorder_entries, text},
        products::public::{no_match, product_path},
        products::repo,
        templates::repo::{self as templates_repo, NewTemplate, TemplateChanges, TemplateRow},
    },
    error::{AppError, AppResult},
    extract::Body,
    state::AppState,
    timefmt::iso_at,
};

pub fn router() -> Router<AppState> {
    Router::new()
        .route(
            "/admin/products/{product_type}/{id}/checklist-template/",
            get(list_templates).post(create_template),
        )
        // Literal segments: they win over `{product_type}/{id}/` (contract-A §7.5).
        .route(
            "/admin/products/checklist-template/reorder/",
            patch(reorder_templates),
        )
        .route(
            "/admin/products/checklist-template/{pk}/",
            get(template_detail)
                .put(replace_template)
                .patch(patch_template)
                .delete(delete_template),
        )
}

/// ChecklistTemplateItem (contract-A §4.2).
#[derive(Debug, Clone, Serialize)]
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

fn invalid(errors: Value) -> AppError {
    AppError::Body(StatusCode::BAD_REQUEST, errors)
}

/// The serializer's rules. `required`: name and description must be present (create and PUT); a PATCH
/// validates only what it sends.
fn validate(body: &Value, required: bool) -> Result<TemplateChanges, Value> {
    if let Some(errors) = not_a_dict(body) {
        return Err(errors);
    }
    let mut errors = Errors::default();
    let changes = TemplateChanges {
        name: text(body, "name", required, Some(200), false, &mut errors),
        description: text(body, "description", required, None, false, &mut errors),
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
    if errors.is_empty() {
        Ok(changes)
    } else {
        Err(errors.into_value())
    }
}

/// `GET …/{type}/{id}/checklist-template/` → a bare array by order.
async fn list_templates(
    State(state): State<AppState>,
    _admin: AdminUser,
    Path((raw_type, raw_id)): Path<(String, String)>,
) -> AppResult<Json<Vec<TemplateOut>>> {
    let (kind, id) = product_path(&raw_type, &raw_id)?;
    if !repo::exists(&state.db, kind, id).await? {
        return Err(no_match(kind));
    }
    let rows = templates_repo::list_for(&state.db, kind, id).await?;
    Ok(Json(out(&rows, &state)))
}

/// `POST …/{type}/{id}/checklist-template/` → 201. Without `order` the item goes last (max + 1).
async fn create_template(
    State(state): State<AppState>,
    AdminUser(admin): AdminUser,
    Path((raw_type, raw_id)): Path<(String, String)>,
    Body(body): Body<Value>,
) -> AppResult<Response> {
    let (kind, id) = product_path(&raw_type, &raw_id)?;
    if !repo::exists(&state.db, kind, id).await? {
        return Err(no_match(kind));
    }
    let changes = validate(&body, true).map_err(invalid)?;
    let (Some(name), Some(description)) = (changes.name, changes.description) else {
        return Err(invalid(json!({"non_field_errors": ["Invalid data."]})));
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

fn pk_of(raw: &str) -> AppResult<i64> {
    raw.parse::<i64>().map_err(|_| AppError::not_found())
}

async fn template_detail(
    State(state): State<AppState>,
    _admin: AdminUser,
    Path(raw_pk): Path<String>,
) -> AppResult<Json<TemplateOut>> {
    let pk = pk_of(&raw_pk)?;
    let row = templates_repo::get(&state.db, pk)
        .await?
        .ok_or_else(template_not_found)?;
    Ok(Json(TemplateOut::new(&row, &state)))
}

/// PUT (name and description required; omitted optional keys keep their values) and PATCH (partial).
async fn update(
    state: &AppState,
    raw_pk: &str,
    body: &Value,
    full: bool,
) -> AppResult<TemplateOut> {
    let pk = pk_of(raw_pk)?;
    if templates_repo::get(&state.db, pk).await?.is_none() {
        return Err(template_not_found());
    }
    let changes = validate(body, full).map_err(invalid)?;
    let row = templates_repo::update(&state.db, pk, &changes)
        .await?
        .ok_or_else(template_not_found)?;
    Ok(TemplateOut::new(&row, state))
}

async fn replace_template(
    State(state): State<AppState>,
    AdminUser(admin): AdminUser,
    Path(raw_pk): Path<String>,
    Body(body): Body<Value>,
) -> AppResult<Json<TemplateOut>> {
    let item = update(&state, &raw_pk, &body, true).await?;
    tracing::info!(
        item_id = item.id,
        by = admin.id,
        "checklist template item replaced"
    );
    Ok(Json(item))
}

async fn patch_template(
    State(state): State<AppState>,
    AdminUser(admin): AdminUser,
    Path(raw_pk): Path<String>,
    Body(body): Body<Value>,
) -> AppResult<Json<TemplateOut>> {
    let item = update(&state, &raw_pk, &body, false).await?;
    tracing::info!(
        item_id = item.id,
        by = admin.id,
        "checklist template item updated"
    );
    Ok(Json(item))
}

/// DELETE → 204. An item that order checklists use is kept (409; the original crashed with a 500).
async fn delete_template(
    State(state): State<AppState>,
    AdminUser(admin): AdminUser,
    Path(raw_pk): Path<String>,
) -> AppResult<StatusCode> {
    let pk = pk_of(&raw_pk)?;
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
async fn reorder_templates(
    State(state): State<AppState>,
    AdminUser(admin): AdminUser,
    Body(body): Body<Value>,
) -> AppResult<Json<Value>> {
    let entries = reorder_entries(&body, "item_ids")
        .ok_or_else(|| AppError::Error(StatusCode::BAD_REQUEST, ITEMS_REQUIRED.into()))?;
    let rows = templates_repo::reorder(&state.db, &entries)
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
