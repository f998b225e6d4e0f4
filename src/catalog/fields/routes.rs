//! Resource-field definitions (contract-A §4.7, contract-B §8.4): the upload form each product asks its
//! customers to fill in. Admin role only (D14). Errors use the `{"success":false,…}` family.

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
        fields::repo::{self as fields_repo, DuplicateName, FieldInput, FieldRow},
        model::ProductType,
        products::public::no_match,
        products::repo,
    },
    error::{AppError, AppResult},
    extract::{Id, SuccessBody, body::success_errors, path::parse_id},
    in_tx,
    state::AppState,
    timefmt::iso_at,
    validation::{
        self, FieldErrors, INVALID_INT, NULL, REQUIRED, Text, boolean, id_list, id_value, integer,
        not_a_list, order_value, string_list, text,
    },
};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_fields, create_field))
        // A literal segment: it wins over `{product_type}/{id}/` (and over `{field_id}` below).
        .routes(routes!(reorder_fields))
        .routes(routes!(field_detail, update_field, delete_field))
}

// ---- extensions (D7, contract-B Q30) --------------------------------------------------------------

/// The document extensions accepted when a field configures none (contract-A §4.9).
pub const DEFAULT_DOCUMENT_EXTENSIONS: &[&str] = &["pdf", "docx", "doc"];

/// `.PDF`, `pdf` and ` .pdf ` are the same extension.
fn normalise_extension(ext: &str) -> String {
    ext.trim().trim_start_matches('.').trim().to_lowercase()
}

/// Whether `ext` (with or without its leading dot, any case) is one of `allowed` (stored as the admin
/// sent them: `pdf` or `.pdf`). An empty `allowed` list allows nothing: callers apply
/// [`DEFAULT_DOCUMENT_EXTENSIONS`] when a document field configures none.
pub fn extension_allowed(allowed: &[String], ext: &str) -> bool {
    let wanted = normalise_extension(ext);
    !wanted.is_empty() && allowed.iter().any(|a| normalise_extension(a) == wanted)
}

// ---- the read shape ------------------------------------------------------------------------------

/// ResourceFieldDefinition as the admin serializer emits it (contract-A §4.2).
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct FieldOut {
    pub id: i64,
    pub product_type: String,
    pub product_id: i64,
    pub field_name: String,
    pub field_type: String,
    pub is_required: bool,
    pub order: i32,
    pub help_text: String,
    pub max_file_size_mb: Option<i32>,
    pub max_length: Option<i32>,
    pub min_value: Option<i32>,
    pub max_value: Option<i32>,
    pub allowed_extensions: Value,
    pub created_at: String,
}

impl FieldOut {
    fn new(row: &FieldRow, state: &AppState) -> Self {
        Self {
            id: row.id,
            product_type: row.product_type.clone(),
            product_id: row.product_id,
            field_name: row.field_name.clone(),
            field_type: row.field_type.clone(),
            is_required: row.is_required,
            order: row.sort_order,
            help_text: row.help_text.clone(),
            max_file_size_mb: row.max_file_size_mb,
            max_length: row.max_length,
            min_value: row.min_value,
            max_value: row.max_value,
            allowed_extensions: row.allowed_extensions.0.clone(),
            created_at: iso_at(row.created_at, state.config.tz_offset),
        }
    }
}

// ---- validation ----------------------------------------------------------------------------------

const FIELD_TYPES: &[&str] = &["image", "text", "number", "document", "phone", "date"];

/// The create rules (contract-A §4.7), also used by PUT as a full replace: omitted `is_required`
/// becomes true and omitted `order` 0; other omitted optional keys keep `current`'s values.
/// The type-specific caps are checked on the resulting definition.
fn validate(body: &Value, current: Option<&FieldRow>) -> Result<FieldInput, FieldErrors> {
    validation::object(body)?;
    let mut errors = FieldErrors::default();
    let field_name = text(body, "field_name", Text::required().max(100), &mut errors);
    let field_type = match body.get("field_type") {
        None => {
            errors.add("field_type", REQUIRED);
            None
        }
        Some(Value::Null) => {
            errors.add("field_type", NULL);
            None
        }
        Some(value) => {
            let shown = match value {
                Value::String(s) => s.clone(),
                Value::Bool(true) => "True".into(),
                Value::Bool(false) => "False".into(),
                other => other.to_string(),
            };
            if FIELD_TYPES.contains(&shown.as_str()) {
                Some(shown)
            } else {
                errors.add("field_type", format!("\"{shown}\" is not a valid choice."));
                None
            }
        }
    };
    let is_required = boolean(body, "is_required", &mut errors);
    let order = integer(body, "order", false, false, &mut errors);
    let help_text = text(body, "help_text", Text::optional().max(200), &mut errors);
    let max_file_size_mb = integer(body, "max_file_size_mb", false, true, &mut errors);
    let max_length = integer(body, "max_length", false, true, &mut errors);
    let min_value = integer(body, "min_value", false, true, &mut errors);
    let max_value = integer(body, "max_value", false, true, &mut errors);
    let allowed_extensions = match body.get("allowed_extensions") {
        None => None,
        Some(Value::Null) => {
            errors.add("allowed_extensions", NULL);
            None
        }
        Some(value) => match string_list(value) {
            Ok(extensions) => Some(extensions),
            Err(item_errors) if item_errors.is_object() => {
                errors.set("allowed_extensions", item_errors);
                None
            }
            Err(_) => {
                errors.add("allowed_extensions", not_a_list(value));
                None
            }
        },
    };
    if !errors.is_empty() {
        return Err(errors);
    }
    let (Some(field_name), Some(field_type)) = (field_name, field_type) else {
        return Err(FieldErrors::one("non_field_errors", "Invalid data."));
    };
    let input = FieldInput {
        field_name,
        field_type,
        is_required: is_required.unwrap_or(true),
        sort_order: order.flatten().unwrap_or(0),
        help_text: help_text
            .or_else(|| current.map(|c| c.help_text.clone()))
            .unwrap_or_default(),
        max_file_size_mb: max_file_size_mb
            .unwrap_or_else(|| current.and_then(|c| c.max_file_size_mb)),
        max_length: max_length.unwrap_or_else(|| current.and_then(|c| c.max_length)),
        min_value: min_value.unwrap_or_else(|| current.and_then(|c| c.min_value)),
        max_value: max_value.unwrap_or_else(|| current.and_then(|c| c.max_value)),
        allowed_extensions: allowed_extensions
            .or_else(|| current.map(FieldRow::extensions))
            .unwrap_or_default(),
    };
    let mut errors = FieldErrors::default();
    match input.field_type.as_str() {
        "image" if input.max_file_size_mb.is_some_and(|mb| mb > 10) => errors.add(
            "max_file_size_mb",
            "Maximum file size for images cannot exceed 10MB",
        ),
        "document" if input.max_file_size_mb.is_some_and(|mb| mb > 20) => errors.add(
            "max_file_size_mb",
            "Maximum file size for documents cannot exceed 20MB",
        ),
        "text" if input.max_length.is_some_and(|n| n > 500) => errors.add(
            "max_length",
            "Maximum length for text fields cannot exceed 500 characters",
        ),
        "number" => {
            if let (Some(min), Some(max)) = (input.min_value, input.max_value)
                && min > max
            {
                errors.add(
                    "min_value",
                    "Minimum value cannot be greater than maximum value",
                );
            }
        }
        _ => {}
    }
    if errors.is_empty() {
        Ok(input)
    } else {
        Err(errors)
    }
}

// ---- handlers ------------------------------------------------------------------------------------

crate::path_param!(
    /// `{product_type}` with this family's error: a `success:false` message.
    struct FieldsKind(ProductType) = "product_type", ProductType::parse, invalid_type;
);

crate::path_param!(
    /// `{field_id}`: an integer, or `{"detail":"Not found."}`.
    struct FieldId(i64) = "field_id", parse_id, AppError::not_found;
);

fn invalid_type() -> AppError {
    AppError::Message(
        StatusCode::BAD_REQUEST,
        "Invalid product type. Must be package or campaign".into(),
    )
}

fn field_not_found() -> AppError {
    AppError::Message(StatusCode::NOT_FOUND, "Resource field not found".into())
}

fn duplicate(name: &str) -> AppError {
    AppError::Message(
        StatusCode::BAD_REQUEST,
        format!("Field with name \"{name}\" already exists for this product"),
    )
}

/// `GET …/{type}/{id}/resource-fields/` → `{"success":true,"fields":[…]}` by order.
#[utoipa::path(get, path = "/api/admin/products/{product_type}/{id}/resource-fields/", tag = "admin-catalog", summary = "A product's resource fields", params(("product_type" = ProductType, Path, description = "`package` or `campaign`"), ("id" = i64, Path)), responses((status = 200, body = serde_json::Value), (status = 400, description = "Invalid input"), (status = 401, description = "Authentication required"), (status = 403, description = "Admin role required"), (status = 404, description = "Not found")))]
async fn list_fields(
    State(state): State<AppState>,
    _admin: AdminUser,
    Id(id): Id,
    FieldsKind(kind): FieldsKind,
) -> AppResult<Json<Value>> {
    if !repo::exists(&state.db, kind, id).await? {
        return Err(no_match(kind));
    }
    let rows = fields_repo::list_for(&state.db, kind, id).await?;
    let fields: Vec<FieldOut> = rows.iter().map(|r| FieldOut::new(r, &state)).collect();
    Ok(Json(json!({"success": true, "fields": fields})))
}

/// `POST …/{type}/{id}/resource-fields/` → 201 `{"success":true,"message":…,"field":{…}}`.
#[utoipa::path(post, path = "/api/admin/products/{product_type}/{id}/resource-fields/", tag = "admin-catalog", summary = "Add a resource field", request_body = crate::catalog::model::FieldIn, params(("product_type" = ProductType, Path, description = "`package` or `campaign`"), ("id" = i64, Path)), responses((status = 201, body = serde_json::Value), (status = 400, description = "Invalid input"), (status = 401, description = "Authentication required"), (status = 403, description = "Admin role required"), (status = 404, description = "Not found")))]
async fn create_field(
    State(state): State<AppState>,
    AdminUser(admin): AdminUser,
    Id(id): Id,
    FieldsKind(kind): FieldsKind,
    SuccessBody(body): SuccessBody<Value>,
) -> AppResult<Response> {
    if !repo::exists(&state.db, kind, id).await? {
        return Err(no_match(kind));
    }
    let input = validate(&body, None).map_err(success_errors)?;
    if fields_repo::name_taken(&state.db, kind, id, &input.field_name, None).await? {
        return Err(duplicate(&input.field_name));
    }
    let row = fields_repo::create(&state.db, kind, id, &input)
        .await?
        .map_err(|DuplicateName| duplicate(&input.field_name))?;
    tracing::info!(
        product_type = kind.as_str(),
        product_id = id,
        field_id = row.id,
        by = admin.id,
        "resource field created"
    );
    Ok((
        StatusCode::CREATED,
        Json(json!({
            "success": true,
            "message": "Resource field created successfully",
            "field": FieldOut::new(&row, &state),
        })),
    )
        .into_response())
}

/// `GET /admin/products/resource-fields/{id}/`: the original's debug route, kept for compatibility.
#[utoipa::path(get, path = "/api/admin/products/resource-fields/{field_id}/", tag = "admin-catalog", summary = "A resource field", params(("field_id" = i64, Path)), responses((status = 200, body = serde_json::Value), (status = 401, description = "Authentication required"), (status = 403, description = "Admin role required"), (status = 404, description = "Not found")))]
async fn field_detail(
    State(state): State<AppState>,
    _admin: AdminUser,
    FieldId(id): FieldId,
) -> AppResult<Json<Value>> {
    let row = fields_repo::get(&state.db, id)
        .await?
        .ok_or_else(field_not_found)?;
    Ok(Json(json!({
        "success": true,
        "message": "GET request successful - URL is working!",
        "field": FieldOut::new(&row, &state),
    })))
}

/// `PUT /admin/products/resource-fields/{id}/`: a full replace with the create rules.
#[utoipa::path(put, path = "/api/admin/products/resource-fields/{field_id}/", tag = "admin-catalog", summary = "Replace a resource field", request_body = crate::catalog::model::FieldIn, params(("field_id" = i64, Path)), responses((status = 200, body = serde_json::Value), (status = 400, description = "Invalid input"), (status = 401, description = "Authentication required"), (status = 403, description = "Admin role required"), (status = 404, description = "Not found")))]
async fn update_field(
    State(state): State<AppState>,
    AdminUser(admin): AdminUser,
    FieldId(id): FieldId,
    SuccessBody(body): SuccessBody<Value>,
) -> AppResult<Json<Value>> {
    let current = fields_repo::get(&state.db, id)
        .await?
        .ok_or_else(field_not_found)?;
    let input = validate(&body, Some(&current)).map_err(|errors| {
        AppError::Body(
            StatusCode::BAD_REQUEST,
            json!({"success": false, "errors": errors, "message": "Validation failed"}),
        )
    })?;
    let kind = ProductType::parse(&current.product_type).unwrap_or(ProductType::Package);
    if fields_repo::name_taken(
        &state.db,
        kind,
        current.product_id,
        &input.field_name,
        Some(id),
    )
    .await?
    {
        return Err(duplicate(&input.field_name));
    }
    let row = fields_repo::update(&state.db, id, &input)
        .await?
        .map_err(|DuplicateName| duplicate(&input.field_name))?
        .ok_or_else(field_not_found)?;
    tracing::info!(field_id = id, by = admin.id, "resource field updated");
    Ok(Json(json!({
        "success": true,
        "message": "Resource field updated successfully",
        "field": FieldOut::new(&row, &state),
    })))
}

/// `DELETE /admin/products/resource-fields/{id}/` → 200 with a body (not 204), as the original.
/// A definition that customer submissions reference is kept (409, instead of the original's 500 with
/// the ProtectedError text); the database's foreign key decides, once submissions exist.
#[utoipa::path(delete, path = "/api/admin/products/resource-fields/{field_id}/", tag = "admin-catalog", summary = "Delete a resource field", params(("field_id" = i64, Path)), responses((status = 200, body = serde_json::Value), (status = 401, description = "Authentication required"), (status = 403, description = "Admin role required"), (status = 404, description = "Not found"), (status = 409, description = "In use")))]
async fn delete_field(
    State(state): State<AppState>,
    AdminUser(admin): AdminUser,
    FieldId(id): FieldId,
) -> AppResult<Json<Value>> {
    match fields_repo::delete(&state.db, id).await? {
        fields_repo::Deleted::Yes => {
            tracing::info!(field_id = id, by = admin.id, "resource field deleted");
            Ok(Json(json!({
                "success": true,
                "message": "Resource field deleted successfully",
            })))
        }
        fields_repo::Deleted::NotFound => Err(field_not_found()),
        fields_repo::Deleted::InUse => Err(AppError::Message(
            StatusCode::CONFLICT,
            "Error deleting field: customers have already submitted resources for it".into(),
        )),
    }
}

/// The reorder body: `{"field_orders":[{"id":1,"order":0},…]}` or the admin SPA's
/// `{"field_ids":[…]}` (position = order, from 0) (D7).
fn reorder_pairs(body: &Value) -> Result<Vec<(i64, i32)>, FieldErrors> {
    let mut errors = FieldErrors::default();
    match (body.get("field_orders"), body.get("field_ids")) {
        (Some(Value::Array(list)), _) => {
            let mut pairs = Vec::with_capacity(list.len());
            for entry in list {
                match (entry.get("id"), entry.get("order")) {
                    (Some(id), Some(order)) if !id.is_null() && !order.is_null() => {
                        match (id_value(id), order_value(order)) {
                            (Some(id), Some(order)) => pairs.push((id, order)),
                            _ => {
                                errors.add("field_orders", INVALID_INT);
                                break;
                            }
                        }
                    }
                    _ => {
                        errors.add("field_orders", "Each item must have id and order fields");
                        break;
                    }
                }
            }
            if errors.is_empty() {
                return Ok(pairs);
            }
        }
        (Some(Value::Null), _) => errors.add("field_orders", NULL),
        (Some(other), _) => errors.add("field_orders", not_a_list(other)),
        (None, Some(ids)) => match id_list(ids) {
            Ok(ids) => {
                return Ok(ids
                    .into_iter()
                    .enumerate()
                    .map(|(position, id)| (id, i32::try_from(position).unwrap_or(i32::MAX)))
                    .collect());
            }
            Err(message) => errors.add("field_ids", message),
        },
        (None, None) => errors.add("field_orders", REQUIRED),
    }
    Err(errors)
}

/// `PATCH /admin/products/resource-fields/reorder/`. Unknown ids are skipped, as the original.
#[utoipa::path(patch, path = "/api/admin/products/resource-fields/reorder/", tag = "admin-catalog", summary = "Reorder resource fields", request_body = crate::catalog::model::FieldReorderIn, responses((status = 200, body = serde_json::Value), (status = 400, description = "Invalid input"), (status = 401, description = "Authentication required"), (status = 403, description = "Admin role required")))]
async fn reorder_fields(
    State(state): State<AppState>,
    AdminUser(admin): AdminUser,
    SuccessBody(body): SuccessBody<Value>,
) -> AppResult<Json<Value>> {
    let pairs = reorder_pairs(&body).map_err(success_errors)?;
    let changed = in_tx!(state.db, |tx| fields_repo::reorder(&mut tx, &pairs)).await?;
    tracing::info!(changed, by = admin.id, "resource fields reordered");
    Ok(Json(json!({
        "success": true,
        "message": "Resource fields reordered successfully",
    })))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn extensions_match_with_or_without_the_dot() {
        let allowed = vec!["pdf".to_string(), ".DOCX".to_string()];
        for ext in ["pdf", ".pdf", "PDF", ".Pdf", "docx", ".docx", " .DocX "] {
            assert!(extension_allowed(&allowed, ext), "{ext}");
        }
        for ext in ["doc", ".exe", "", ".", "pdf.exe"] {
            assert!(!extension_allowed(&allowed, ext), "{ext}");
        }
        assert!(!extension_allowed(&[], "pdf"));
    }

    #[test]
    fn type_caps() {
        let image = validate(
            &json!({"field_name": "Photo", "field_type": "image", "max_file_size_mb": 11}),
            None,
        );
        assert_eq!(
            image.err().map(FieldErrors::into_value),
            Some(json!({"max_file_size_mb": ["Maximum file size for images cannot exceed 10MB"]}))
        );
        let ok = validate(
            &json!({"field_name": " Photo ", "field_type": "document", "max_file_size_mb": 20}),
            None,
        )
        .ok();
        assert_eq!(ok.as_ref().map(|i| i.field_name.as_str()), Some("Photo"));
        assert_eq!(ok.as_ref().map(|i| i.is_required), Some(true));
    }
}
