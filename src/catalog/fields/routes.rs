//! Resource-field definitions (contract-A §4.7, contract-B §8.4): the upload form each product asks its
//! customers to fill in. Admin role only (D14). Errors use the `{"success":false,…}` family.
//!
//! Also home of the DRF-style field parsing shared with the checklist templates (`templates.rs`).

use axum::{
    Json, Router,
    extract::{Path, State},
    http::StatusCode,
    response::{IntoResponse, Response},
    routing::{get, patch},
};
use serde::Serialize;
use serde_json::{Map, Value, json};

use crate::{
    auth::AdminUser,
    catalog::{
        fields::repo::{self as fields_repo, DuplicateName, FieldInput, FieldRow},
        model::ProductType,
        products::public::no_match,
        products::repo,
    },
    error::{AppError, AppResult},
    extract::Body,
    state::AppState,
    timefmt::iso_at,
};

pub fn router() -> Router<AppState> {
    Router::new()
        .route(
            "/admin/products/{product_type}/{id}/resource-fields/",
            get(list_fields).post(create_field),
        )
        // A literal segment: it wins over `{product_type}/{id}/` (and over `{field_id}` below).
        .route(
            "/admin/products/resource-fields/reorder/",
            patch(reorder_fields),
        )
        .route(
            "/admin/products/resource-fields/{field_id}/",
            get(field_detail).put(update_field).delete(delete_field),
        )
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

// ---- DRF-style field parsing (shared with templates.rs) -------------------------------------------

pub(crate) const REQUIRED: &str = "This field is required.";
pub(crate) const NULL: &str = "This field may not be null.";
pub(crate) const BLANK: &str = "This field may not be blank.";
const INVALID_INT: &str = "A valid integer is required.";
const INVALID_BOOL: &str = "Must be a valid boolean.";
const INVALID_STRING: &str = "Not a valid string.";

/// Field errors, DRF style: `{field: [messages]}`.
#[derive(Default)]
pub(crate) struct Errors(Map<String, Value>);

impl Errors {
    pub(crate) fn add(&mut self, field: &str, message: impl Into<String>) {
        if let Some(list) = self
            .0
            .entry(field.to_string())
            .or_insert_with(|| Value::Array(Vec::new()))
            .as_array_mut()
        {
            list.push(Value::String(message.into()));
        }
    }

    fn set(&mut self, field: &str, value: Value) {
        self.0.insert(field.to_string(), value);
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub(crate) fn into_value(self) -> Value {
        Value::Object(self.0)
    }
}

/// Python's name for a JSON value's type, as DRF's messages show it.
fn type_name(value: &Value) -> &'static str {
    match value {
        Value::Null => "NoneType",
        Value::Bool(_) => "bool",
        Value::Number(n) if n.is_f64() => "float",
        Value::Number(_) => "int",
        Value::String(_) => "str",
        Value::Array(_) => "list",
        Value::Object(_) => "dict",
    }
}

/// DRF's answer to a body that is not an object.
pub(crate) fn not_a_dict(body: &Value) -> Option<Value> {
    (!body.is_object()).then(|| {
        json!({"non_field_errors": [format!(
            "Invalid data. Expected a dictionary, but got {}.",
            type_name(body)
        )]})
    })
}

/// A CharField: strings (trimmed) and numbers; `max` characters at most. `Some` when present and valid.
pub(crate) fn text(
    body: &Value,
    name: &str,
    required: bool,
    max: Option<usize>,
    allow_blank: bool,
    errors: &mut Errors,
) -> Option<String> {
    let value = match body.get(name) {
        None => {
            if required {
                errors.add(name, REQUIRED);
            }
            return None;
        }
        Some(Value::Null) => {
            errors.add(name, NULL);
            return None;
        }
        Some(Value::String(s)) => s.trim().to_string(),
        Some(Value::Number(n)) => n.to_string(),
        Some(_) => {
            errors.add(name, INVALID_STRING);
            return None;
        }
    };
    if value.is_empty() && !allow_blank {
        errors.add(name, BLANK);
        return None;
    }
    if let Some(max) = max
        && value.chars().count() > max
    {
        errors.add(
            name,
            format!("Ensure this field has no more than {max} characters."),
        );
        return None;
    }
    Some(value)
}

/// An integer as DRF's IntegerField reads it (`5`, `"5"`, `5.0`), within the database's int range.
fn parse_int(value: &Value) -> Result<i128, ()> {
    match value {
        Value::Number(n) => {
            if let Some(i) = n.as_i64() {
                Ok(i128::from(i))
            } else if let Some(u) = n.as_u64() {
                Ok(i128::from(u))
            } else {
                match n.as_f64() {
                    Some(f) if f.is_finite() && f.fract() == 0.0 && f.abs() < 1e30 => Ok(f as i128),
                    _ => Err(()),
                }
            }
        }
        Value::String(s) if s.len() <= 1000 => {
            let t = s.trim();
            // DRF strips a decimal tail of zeros: "7.00" is 7.
            let t = match t.split_once('.') {
                Some((whole, frac)) if frac.chars().all(|c| c == '0') => whole,
                _ => t,
            };
            t.parse::<i128>().map_err(|_| ())
        }
        _ => Err(()),
    }
}

/// An IntegerField. `None`: absent or invalid; `Some(None)`: null (only when `nullable`; an empty
/// string counts as null there, as a form would send it).
pub(crate) fn integer(
    body: &Value,
    name: &str,
    required: bool,
    nullable: bool,
    errors: &mut Errors,
) -> Option<Option<i32>> {
    let value = match body.get(name) {
        None => {
            if required {
                errors.add(name, REQUIRED);
            }
            return None;
        }
        Some(Value::Null) if nullable => return Some(None),
        Some(Value::String(s)) if nullable && s.trim().is_empty() => return Some(None),
        Some(Value::Null) => {
            errors.add(name, NULL);
            return None;
        }
        Some(v) => v,
    };
    match parse_int(value) {
        Err(()) => {
            errors.add(name, INVALID_INT);
            None
        }
        Ok(n) if n > i128::from(i32::MAX) => {
            errors.add(
                name,
                format!("Ensure this value is less than or equal to {}.", i32::MAX),
            );
            None
        }
        Ok(n) if n < i128::from(i32::MIN) => {
            errors.add(
                name,
                format!(
                    "Ensure this value is greater than or equal to {}.",
                    i32::MIN
                ),
            );
            None
        }
        Ok(n) => i32::try_from(n).ok().map(Some),
    }
}

/// A BooleanField (`true`, `1`, `"yes"`, `"off"`, …). `None`: absent or invalid.
pub(crate) fn boolean(body: &Value, name: &str, errors: &mut Errors) -> Option<bool> {
    let parsed = match body.get(name)? {
        Value::Null => {
            errors.add(name, NULL);
            return None;
        }
        Value::Bool(b) => Some(*b),
        Value::Number(n) => {
            let f = n.as_f64();
            if f == Some(1.0) {
                Some(true)
            } else if f == Some(0.0) {
                Some(false)
            } else {
                None
            }
        }
        Value::String(s) => match s.trim().to_ascii_lowercase().as_str() {
            "true" | "t" | "yes" | "y" | "on" | "1" => Some(true),
            "false" | "f" | "no" | "n" | "off" | "0" => Some(false),
            _ => None,
        },
        _ => None,
    };
    if parsed.is_none() {
        errors.add(name, INVALID_BOOL);
    }
    parsed
}

/// A list of integers (`[3, "4"]`), or an error message for the whole list.
pub(crate) fn id_list(value: &Value) -> Result<Vec<i64>, String> {
    let Value::Array(list) = value else {
        return Err(format!(
            "Expected a list of items but got type \"{}\".",
            type_name(value)
        ));
    };
    list.iter()
        .map(|v| id_value(v).ok_or_else(|| INVALID_INT.to_string()))
        .collect()
}

/// `{"items":[{"id":1,"order":2},…]}` (entries without `order` are left alone) or the admin SPA's
/// `{"<ids_key>":[…]}` (`image_ids`, `item_ids`) (order = position, from 0) (D7).
pub(crate) fn reorder_entries(body: &Value, ids_key: &str) -> Option<Vec<(i64, Option<i32>)>> {
    let entries: Vec<(i64, Option<i32>)> = match (body.get("items"), body.get(ids_key)) {
        (Some(Value::Array(items)), _) if !items.is_empty() => items
            .iter()
            .map(|entry| {
                let id = entry.get("id").and_then(id_value)?;
                match entry.get("order") {
                    None | Some(Value::Null) => Some((id, None)),
                    Some(order) => order_value(order).map(|order| (id, Some(order))),
                }
            })
            .collect::<Option<_>>()?,
        (None | Some(Value::Null), Some(ids)) => id_list(ids)
            .ok()?
            .into_iter()
            .enumerate()
            .map(|(position, id)| (id, i32::try_from(position).ok()))
            .collect(),
        _ => return None,
    };
    (!entries.is_empty()).then_some(entries)
}

/// An integer id (`3` or `"3"`).
pub(crate) fn id_value(value: &Value) -> Option<i64> {
    parse_int(value).ok().and_then(|n| i64::try_from(n).ok())
}

/// An integer that fits the `order` column.
pub(crate) fn order_value(value: &Value) -> Option<i32> {
    parse_int(value).ok().and_then(|n| i32::try_from(n).ok())
}

// ---- the read shape ------------------------------------------------------------------------------

/// ResourceFieldDefinition as the admin serializer emits it (contract-A §4.2).
#[derive(Debug, Clone, Serialize)]
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
fn validate(body: &Value, current: Option<&FieldRow>) -> Result<FieldInput, Value> {
    if let Some(errors) = not_a_dict(body) {
        return Err(errors);
    }
    let mut errors = Errors::default();
    let field_name = text(body, "field_name", true, Some(100), false, &mut errors);
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
    let help_text = text(body, "help_text", false, Some(200), true, &mut errors);
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
        Some(Value::Array(list)) => {
            let mut item_errors = Map::new();
            let mut extensions = Vec::with_capacity(list.len());
            for (index, item) in list.iter().enumerate() {
                match item {
                    Value::String(s) => extensions.push(s.clone()),
                    _ => {
                        item_errors.insert(index.to_string(), json!([INVALID_STRING]));
                    }
                }
            }
            if item_errors.is_empty() {
                Some(extensions)
            } else {
                errors.set("allowed_extensions", Value::Object(item_errors));
                None
            }
        }
        Some(other) => {
            errors.add(
                "allowed_extensions",
                format!(
                    "Expected a list of items but got type \"{}\".",
                    type_name(other)
                ),
            );
            None
        }
    };
    if !errors.is_empty() {
        return Err(errors.into_value());
    }
    let (Some(field_name), Some(field_type)) = (field_name, field_type) else {
        return Err(json!({"non_field_errors": ["Invalid data."]}));
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
    let mut errors = Errors::default();
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
        Err(errors.into_value())
    }
}

// ---- handlers ------------------------------------------------------------------------------------

/// `{type}/{id}` with this family's errors: a bad type is a `success:false` message; a non-integer id
/// is not a route at all.
fn product_of(raw_type: &str, raw_id: &str) -> AppResult<(ProductType, i64)> {
    let id = raw_id.parse::<i64>().map_err(|_| AppError::not_found())?;
    let kind = ProductType::parse(raw_type).ok_or_else(|| {
        AppError::Message(
            StatusCode::BAD_REQUEST,
            "Invalid product type. Must be package or campaign".into(),
        )
    })?;
    Ok((kind, id))
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

fn field_id(raw: &str) -> AppResult<i64> {
    raw.parse::<i64>().map_err(|_| AppError::not_found())
}

/// `GET …/{type}/{id}/resource-fields/` → `{"success":true,"fields":[…]}` by order.
async fn list_fields(
    State(state): State<AppState>,
    _admin: AdminUser,
    Path((raw_type, raw_id)): Path<(String, String)>,
) -> AppResult<Json<Value>> {
    let (kind, id) = product_of(&raw_type, &raw_id)?;
    if !repo::exists(&state.db, kind, id).await? {
        return Err(no_match(kind));
    }
    let rows = fields_repo::list_for(&state.db, kind, id).await?;
    let fields: Vec<FieldOut> = rows.iter().map(|r| FieldOut::new(r, &state)).collect();
    Ok(Json(json!({"success": true, "fields": fields})))
}

/// `POST …/{type}/{id}/resource-fields/` → 201 `{"success":true,"message":…,"field":{…}}`.
async fn create_field(
    State(state): State<AppState>,
    AdminUser(admin): AdminUser,
    Path((raw_type, raw_id)): Path<(String, String)>,
    Body(body): Body<Value>,
) -> AppResult<Response> {
    let (kind, id) = product_of(&raw_type, &raw_id)?;
    if !repo::exists(&state.db, kind, id).await? {
        return Err(no_match(kind));
    }
    let input = validate(&body, None).map_err(|errors| {
        AppError::Body(
            StatusCode::BAD_REQUEST,
            json!({"success": false, "errors": errors}),
        )
    })?;
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
async fn field_detail(
    State(state): State<AppState>,
    _admin: AdminUser,
    Path(raw_id): Path<String>,
) -> AppResult<Json<Value>> {
    let id = field_id(&raw_id)?;
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
async fn update_field(
    State(state): State<AppState>,
    AdminUser(admin): AdminUser,
    Path(raw_id): Path<String>,
    Body(body): Body<Value>,
) -> AppResult<Json<Value>> {
    let id = field_id(&raw_id)?;
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
async fn delete_field(
    State(state): State<AppState>,
    AdminUser(admin): AdminUser,
    Path(raw_id): Path<String>,
) -> AppResult<Json<Value>> {
    let id = field_id(&raw_id)?;
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
fn reorder_pairs(body: &Value) -> Result<Vec<(i64, i32)>, Value> {
    let mut errors = Errors::default();
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
        (Some(other), _) => errors.add(
            "field_orders",
            format!(
                "Expected a list of items but got type \"{}\".",
                type_name(other)
            ),
        ),
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
    Err(errors.into_value())
}

/// `PATCH /admin/products/resource-fields/reorder/`. Unknown ids are skipped, as the original.
async fn reorder_fields(
    State(state): State<AppState>,
    AdminUser(admin): AdminUser,
    Body(body): Body<Value>,
) -> AppResult<Json<Value>> {
    let pairs = reorder_pairs(&body).map_err(|errors| {
        AppError::Body(
            StatusCode::BAD_REQUEST,
            json!({"success": false, "errors": errors}),
        )
    })?;
    let changed = fields_repo::reorder(&state.db, &pairs).await?;
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
    fn integers_like_drf() {
        for (value, want) in [
            (json!(5), Some(5)),
            (json!("7"), Some(7)),
            (json!(" 8 "), Some(8)),
            (json!("9.00"), Some(9)),
            (json!(3.0), Some(3)),
            (json!(3.5), None),
            (json!("x"), None),
            (json!(true), None),
        ] {
            assert_eq!(parse_int(&value).ok().map(|n| n as i64), want, "{value}");
        }
    }

    #[test]
    fn type_caps() {
        let image = validate(
            &json!({"field_name": "Photo", "field_type": "image", "max_file_size_mb": 11}),
            None,
        );
        assert_eq!(
            image.err(),
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
