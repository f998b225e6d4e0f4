//! Admin product endpoints (contract-A §4.4): list, create, detail, update, delete, toggle-status and
//! audit logs. Admin role only (D14); validation errors come back as the serializer's field object.

use std::collections::HashMap;

use axum::{
    Json, Router,
    extract::{Path, Query, State},
    http::StatusCode,
    response::{IntoResponse, Response},
    routing::{delete, get, patch, post, put},
};
use serde_json::{Map, Value, json};

use crate::{
    auth::AdminUser,
    catalog::{
        model::{AuditOut, ProductInput, ProductListOut, ProductOut, ProductType},
        products::public::{invalid_type, no_match, product_path},
        products::{repo, service},
    },
    error::{AppError, AppResult},
    extract::{BaseUrl, Body},
    money::{MAX_PAISE, format_paise, parse_rupees},
    state::AppState,
};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/admin/products/", get(list_products))
        .route("/admin/products/{product_type}/", post(create_product))
        .route("/admin/products/{product_type}/{id}/", get(product_detail))
        .route(
            "/admin/products/{product_type}/{id}/update/",
            put(update_product),
        )
        .route(
            "/admin/products/{product_type}/{id}/delete/",
            delete(delete_product),
        )
        .route(
            "/admin/products/{product_type}/{id}/toggle-status/",
            patch(toggle_status),
        )
        .route(
            "/admin/products/{product_type}/{id}/audit-logs/",
            get(audit_logs),
        )
}

/// `GET /api/admin/products/?search=&type=`: every product, newest first, a bare array.
async fn list_products(
    State(state): State<AppState>,
    _admin: AdminUser,
    Query(query): Query<HashMap<String, String>>,
) -> AppResult<Json<Vec<ProductListOut>>> {
    let search = query
        .get("search")
        .map(|s| s.trim())
        .filter(|s| !s.is_empty());
    let kinds: Vec<ProductType> = match query
        .get("type")
        .map(|t| t.trim())
        .filter(|t| !t.is_empty())
    {
        None => vec![ProductType::Package, ProductType::Campaign],
        Some(t) => ProductType::parse(t).into_iter().collect(),
    };
    let tz = state.config.tz_offset;
    let mut merged = Vec::new();
    for kind in kinds {
        for row in repo::list_all(&state.db, kind, search).await? {
            merged.push((row.created_at, row.id, ProductListOut::new(kind, &row, tz)));
        }
    }
    merged.sort_by(|a, b| b.0.cmp(&a.0).then(b.1.cmp(&a.1)));
    Ok(Json(merged.into_iter().map(|(_, _, out)| out).collect()))
}

/// Field errors, DRF style: `{field: [messages]}` (items: a list of per-item objects).
#[derive(Default)]
struct Errors(Map<String, Value>);

impl Errors {
    fn add(&mut self, field: &str, message: impl Into<String>) {
        if let Some(list) = self
            .0
            .entry(field.to_string())
            .or_insert_with(|| Value::Array(Vec::new()))
            .as_array_mut()
        {
            list.push(Value::String(message.into()));
        }
    }

    fn into_result(self) -> AppResult<()> {
        if self.0.is_empty() {
            Ok(())
        } else {
            Err(AppError::Body(
                StatusCode::BAD_REQUEST,
                Value::Object(self.0),
            ))
        }
    }
}

const REQUIRED: &str = "This field is required.";
const BLANK: &str = "This field may not be blank.";

/// A required char field: present, a string, not blank, at most `max` characters.
fn char_field(body: &Value, name: &str, max: usize, errors: &mut Errors) -> Option<String> {
    match body.get(name) {
        None => {
            errors.add(name, REQUIRED);
            None
        }
        Some(Value::Null) => {
            errors.add(name, "This field may not be null.");
            None
        }
        Some(value) => {
            let text = match value {
                Value::String(s) => s.trim().to_string(),
                Value::Number(n) => n.to_string(),
                Value::Bool(b) => b.to_string(),
                _ => {
                    errors.add(name, "Not a valid string.");
                    return None;
                }
            };
            if text.is_empty() {
                errors.add(name, BLANK);
                None
            } else if text.chars().count() > max {
                errors.add(
                    name,
                    format!("Ensure this field has no more than {max} characters."),
                );
                None
            } else {
                Some(text)
            }
        }
    }
}

fn bool_field(body: &Value, name: &str, errors: &mut Errors) -> Option<bool> {
    match body.get(name)? {
        Value::Bool(b) => Some(*b),
        Value::Number(n) if n.as_i64() == Some(1) => Some(true),
        Value::Number(n) if n.as_i64() == Some(0) => Some(false),
        Value::String(s) => match s.to_ascii_lowercase().as_str() {
            "true" | "1" | "yes" | "on" => Some(true),
            "false" | "0" | "no" | "off" => Some(false),
            _ => {
                errors.add(name, "Must be a valid boolean.");
                None
            }
        },
        _ => {
            errors.add(name, "Must be a valid boolean.");
            None
        }
    }
}

/// Validates a create or (full) update body.
async fn validate(
    state: &AppState,
    kind: ProductType,
    body: &Value,
    except: Option<i64>,
) -> AppResult<ProductInput> {
    if !body.is_object() {
        return Err(AppError::Body(
            StatusCode::BAD_REQUEST,
            json!({"non_field_errors": ["Invalid data. Expected a dictionary, but got list."]}),
        ));
    }
    let mut errors = Errors::default();
    let name = char_field(body, "name", 200, &mut errors);
    if let Some(n) = &name
        && repo::name_taken(&state.db, kind, n, except).await?
    {
        errors.add(
            "name",
            format!("A {} with this name already exists.", kind.as_str()),
        );
    }
    let price = match body.get("price") {
        None => {
            errors.add("price", REQUIRED);
            None
        }
        Some(value) => match parse_rupees(value) {
            Ok(paise) if paise <= 0 => {
                errors.add("price", "Price must be greater than zero.");
                None
            }
            Ok(paise) if paise > MAX_PAISE => {
                errors.add(
                    "price",
                    "Ensure that there are no more than 10 digits in total.",
                );
                None
            }
            Ok(paise) => Some(paise),
            Err(e) => {
                errors.add("price", e.message());
                None
            }
        },
    };
    let description = char_field(body, "description", usize::MAX, &mut errors);
    let unit = match kind {
        ProductType::Campaign => char_field(body, "unit", 50, &mut errors),
        ProductType::Package => None,
    };
    let is_active = bool_field(body, "is_active", &mut errors);
    let items = match (kind, body.get("items")) {
        (ProductType::Package, Some(Value::Array(list))) => {
            let mut parsed = Vec::new();
            let mut item_errors = Vec::new();
            let mut any_error = false;
            for item in list {
                let mut e = Errors::default();
                let name = char_field(item, "name", 200, &mut e);
                let quantity = match item.get("quantity") {
                    None | Some(Value::Null) => Some(1),
                    Some(Value::Number(n)) => n.as_i64().and_then(|q| i32::try_from(q).ok()),
                    Some(Value::String(s)) => s.trim().parse::<i32>().ok(),
                    Some(_) => None,
                };
                if quantity.is_none() {
                    e.add("quantity", "A valid integer is required.");
                }
                any_error |= !e.0.is_empty();
                item_errors.push(Value::Object(e.0));
                if let (Some(n), Some(q)) = (name, quantity) {
                    parsed.push((n, q));
                }
            }
            if any_error {
                errors.0.insert("items".into(), Value::Array(item_errors));
            }
            Some(parsed)
        }
        (ProductType::Package, Some(Value::Null)) | (_, None) => None,
        (ProductType::Package, Some(other)) => {
            let kind_name = match other {
                Value::String(_) => "str",
                Value::Number(_) => "int",
                Value::Bool(_) => "bool",
                _ => "dict",
            };
            errors.0.insert(
                "items".into(),
                json!({"non_field_errors": [format!("Expected a list of items but got type \"{kind_name}\".")]}),
            );
            None
        }
        (ProductType::Campaign, Some(_)) => None,
    };
    errors.into_result()?;
    let (Some(name), Some(price_paise), Some(description)) = (name, price, description) else {
        return Err(AppError::bad_request("Invalid data."));
    };
    Ok(ProductInput {
        name,
        price_paise,
        description,
        unit,
        features: body.get("features").filter(|v| !v.is_null()).cloned(),
        deliverables: body.get("deliverables").filter(|v| !v.is_null()).cloned(),
        items,
        is_active,
    })
}

async fn full_product(
    state: &AppState,
    kind: ProductType,
    id: i64,
    base: &str,
) -> AppResult<ProductOut> {
    let row = repo::get(&state.db, kind, id)
        .await?
        .ok_or_else(|| no_match(kind))?;
    Ok(service::render_one(state, kind, &row, base).await?)
}

/// `POST /api/admin/products/package/` and `/campaign/`.
async fn create_product(
    State(state): State<AppState>,
    AdminUser(admin): AdminUser,
    BaseUrl(base): BaseUrl,
    Path(raw_type): Path<String>,
    Body(body): Body<Value>,
) -> AppResult<Response> {
    let kind = ProductType::parse(&raw_type).ok_or_else(invalid_type)?;
    let input = validate(&state, kind, &body, None).await?;
    let id = repo::create(&state.db, kind, &input, admin.id).await?;
    crate::catalog::invalidate(&state, kind).await;
    tracing::info!(
        product_type = kind.as_str(),
        id,
        by = admin.id,
        "product created"
    );
    let out = full_product(&state, kind, id, &base).await?;
    Ok((StatusCode::CREATED, Json(out)).into_response())
}

async fn product_detail(
    State(state): State<AppState>,
    _admin: AdminUser,
    BaseUrl(base): BaseUrl,
    Path((raw_type, raw_id)): Path<(String, String)>,
) -> AppResult<Json<ProductOut>> {
    let (kind, id) = product_path(&raw_type, &raw_id)?;
    Ok(Json(full_product(&state, kind, id, &base).await?))
}

/// `PUT …/update/`: a full update; `changes` lists whichever of name, price and is_active changed.
async fn update_product(
    State(state): State<AppState>,
    AdminUser(admin): AdminUser,
    BaseUrl(base): BaseUrl,
    Path((raw_type, raw_id)): Path<(String, String)>,
    Body(body): Body<Value>,
) -> AppResult<Json<ProductOut>> {
    let (kind, id) = product_path(&raw_type, &raw_id)?;
    let current = repo::get(&state.db, kind, id)
        .await?
        .ok_or_else(|| no_match(kind))?;
    let input = validate(&state, kind, &body, Some(id)).await?;
    let mut changes = Map::new();
    if current.name != input.name {
        changes.insert(
            "name".into(),
            json!({"old": current.name, "new": input.name}),
        );
    }
    if current.price_paise != input.price_paise {
        changes.insert(
            "price".into(),
            json!({"old": format_paise(current.price_paise), "new": format_paise(input.price_paise)}),
        );
    }
    if let Some(active) = input.is_active
        && active != current.is_active
    {
        changes.insert(
            "is_active".into(),
            json!({"old": current.is_active, "new": active}),
        );
    }
    if !repo::update(
        &state.db,
        kind,
        id,
        &input,
        admin.id,
        &Value::Object(changes),
    )
    .await?
    {
        return Err(no_match(kind));
    }
    crate::catalog::invalidate(&state, kind).await;
    Ok(Json(full_product(&state, kind, id, &base).await?))
}

/// `DELETE …/delete/` → 204. Its images' files are removed after the rows.
async fn delete_product(
    State(state): State<AppState>,
    AdminUser(admin): AdminUser,
    Path((raw_type, raw_id)): Path<(String, String)>,
) -> AppResult<StatusCode> {
    let (kind, id) = product_path(&raw_type, &raw_id)?;
    let current = repo::get(&state.db, kind, id)
        .await?
        .ok_or_else(|| no_match(kind))?;
    // Orders arrive with their own feature; until then nothing can reference a product.
    let files = repo::delete(&state.db, kind, id, &current.name, admin.id).await?;
    crate::catalog::remove_files(&state, files).await;
    crate::catalog::invalidate(&state, kind).await;
    tracing::info!(
        product_type = kind.as_str(),
        id,
        by = admin.id,
        "product deleted"
    );
    Ok(StatusCode::NO_CONTENT)
}

async fn toggle_status(
    State(state): State<AppState>,
    AdminUser(admin): AdminUser,
    BaseUrl(base): BaseUrl,
    Path((raw_type, raw_id)): Path<(String, String)>,
) -> AppResult<Json<ProductOut>> {
    let (kind, id) = product_path(&raw_type, &raw_id)?;
    repo::toggle_active(&state.db, kind, id, admin.id)
        .await?
        .ok_or_else(|| no_match(kind))?;
    crate::catalog::invalidate(&state, kind).await;
    Ok(Json(full_product(&state, kind, id, &base).await?))
}

async fn audit_logs(
    State(state): State<AppState>,
    _admin: AdminUser,
    Path((raw_type, raw_id)): Path<(String, String)>,
) -> AppResult<Json<Vec<AuditOut>>> {
    let (kind, id) = product_path(&raw_type, &raw_id)?;
    if !repo::exists(&state.db, kind, id).await? {
        return Err(no_match(kind));
    }
    let tz = state.config.tz_offset;
    let rows = repo::audit_logs(&state.db, kind, id).await?;
    Ok(Json(rows.iter().map(|r| AuditOut::new(r, tz)).collect()))
}
