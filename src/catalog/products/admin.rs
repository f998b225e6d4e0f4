//! Admin product endpoints (contract-A §4.4): list, create, detail, update, delete, toggle-status and
//! audit logs. Admin role only (D14); validation errors come back as the serializer's field object.

use std::collections::HashMap;

use axum::{
    Json,
    extract::State,
    http::StatusCode,
    response::{IntoResponse, Response},
};
use serde_json::{Map, Value, json};

use utoipa_axum::{router::OpenApiRouter, routes};

use crate::{
    auth::AdminUser,
    catalog::{
        model::{AuditOut, Kind, ProductInput, ProductListOut, ProductOut, ProductType},
        products::public::no_match,
        products::{repo, service},
    },
    error::{AppError, AppResult},
    extract::{BaseUrl, Body, Id, Query},
    in_tx,
    money::{MAX_PAISE, format_paise, parse_rupees},
    state::AppState,
    validation::{self, FieldErrors, REQUIRED, Text, boolean, integer, text},
};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_products))
        .routes(routes!(create_product))
        .routes(routes!(product_detail))
        .routes(routes!(update_product))
        .routes(routes!(delete_product))
        .routes(routes!(toggle_status))
        .routes(routes!(audit_logs))
}

/// `GET /api/admin/products/?search=&type=`: every product, newest first, a bare array.
#[utoipa::path(get, path = "/api/admin/products/", tag = "admin-catalog", summary = "Every product, newest first", params(("search" = Option<String>, Query), ("type" = Option<String>, Query)), responses((status = 200, body = Vec<ProductListOut>), (status = 400, description = "Invalid input"), (status = 401, description = "Authentication required"), (status = 403, description = "Admin role required")))]
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

/// Validates a create or (full) update body.
async fn validate(
    state: &AppState,
    kind: ProductType,
    body: &Value,
    except: Option<i64>,
) -> AppResult<ProductInput> {
    validation::object(body)?;
    let mut errors = FieldErrors::default();
    let name = text(body, "name", Text::required().max(200), &mut errors);
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
    let description = text(body, "description", Text::required(), &mut errors);
    let unit = match kind {
        ProductType::Campaign => text(body, "unit", Text::required().max(50), &mut errors),
        ProductType::Package => None,
    };
    let is_active = boolean(body, "is_active", &mut errors);
    let items = match (kind, body.get("items")) {
        (ProductType::Package, Some(Value::Array(list))) => {
            let mut parsed = Vec::new();
            let mut item_errors = Vec::new();
            let mut any_error = false;
            for item in list {
                let mut e = FieldErrors::default();
                let name = match validation::object(item) {
                    Ok(_) => text(item, "name", Text::required().max(200), &mut e),
                    Err(not_an_object) => {
                        e = not_an_object;
                        None
                    }
                };
                let quantity = if item.is_object() {
                    integer(item, "quantity", false, true, &mut e)
                        .map(|q| q.unwrap_or(1))
                        .or_else(|| (!e.contains("quantity")).then_some(1))
                } else {
                    None
                };
                any_error |= !e.is_empty();
                item_errors.push(e.into_value());
                if let (Some(n), Some(q)) = (name, quantity) {
                    parsed.push((n, q));
                }
            }
            if any_error {
                errors.set("items", Value::Array(item_errors));
            }
            Some(parsed)
        }
        (ProductType::Package, Some(Value::Null)) | (_, None) => None,
        (ProductType::Package, Some(other)) => {
            errors.set(
                "items",
                json!({"non_field_errors": [validation::not_a_list(other)]}),
            );
            None
        }
        (ProductType::Campaign, Some(_)) => None,
    };
    errors.check()?;
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
#[utoipa::path(post, path = "/api/admin/products/{product_type}/", tag = "admin-catalog", summary = "Create a package or campaign", request_body = crate::catalog::model::ProductIn, params(("product_type" = ProductType, Path, description = "`package` or `campaign`")), responses((status = 201, body = ProductOut), (status = 400, description = "Invalid input"), (status = 401, description = "Authentication required"), (status = 403, description = "Admin role required")))]
async fn create_product(
    State(state): State<AppState>,
    AdminUser(admin): AdminUser,
    BaseUrl(base): BaseUrl,
    Kind(kind): Kind,
    Body(body): Body<Value>,
) -> AppResult<Response> {
    let input = validate(&state, kind, &body, None).await?;
    let id = in_tx!(state.db, |tx| repo::create(&mut tx, kind, &input, admin.id)).await?;
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

#[utoipa::path(get, path = "/api/admin/products/{product_type}/{id}/", tag = "admin-catalog", summary = "A product, active or not", params(("product_type" = ProductType, Path, description = "`package` or `campaign`"), ("id" = i64, Path)), responses((status = 200, body = ProductOut), (status = 400, description = "Invalid input"), (status = 401, description = "Authentication required"), (status = 403, description = "Admin role required"), (status = 404, description = "Not found")))]
async fn product_detail(
    State(state): State<AppState>,
    _admin: AdminUser,
    BaseUrl(base): BaseUrl,
    Kind(kind): Kind,
    Id(id): Id,
) -> AppResult<Json<ProductOut>> {
    Ok(Json(full_product(&state, kind, id, &base).await?))
}

/// `PUT …/update/`: a full update; `changes` lists whichever of name, price and is_active changed.
#[utoipa::path(put, path = "/api/admin/products/{product_type}/{id}/update/", tag = "admin-catalog", summary = "Update a product (full)", request_body = crate::catalog::model::ProductIn, params(("product_type" = ProductType, Path, description = "`package` or `campaign`"), ("id" = i64, Path)), responses((status = 200, body = ProductOut), (status = 400, description = "Invalid input"), (status = 401, description = "Authentication required"), (status = 403, description = "Admin role required"), (status = 404, description = "Not found")))]
async fn update_product(
    State(state): State<AppState>,
    AdminUser(admin): AdminUser,
    BaseUrl(base): BaseUrl,
    Kind(kind): Kind,
    Id(id): Id,
    Body(body): Body<Value>,
) -> AppResult<Json<ProductOut>> {
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
    if !in_tx!(state.db, |tx| repo::update(
        &mut tx,
        kind,
        id,
        &input,
        admin.id,
        &Value::Object(changes),
    ))
    .await?
    {
        return Err(no_match(kind));
    }
    crate::catalog::invalidate(&state, kind).await;
    Ok(Json(full_product(&state, kind, id, &base).await?))
}

/// `DELETE …/delete/` → 204. Its images' files are removed after the rows.
#[utoipa::path(delete, path = "/api/admin/products/{product_type}/{id}/delete/", tag = "admin-catalog", summary = "Delete a product", params(("product_type" = ProductType, Path, description = "`package` or `campaign`"), ("id" = i64, Path)), responses((status = 204), (status = 400, description = "Invalid input"), (status = 401, description = "Authentication required"), (status = 403, description = "Admin role required"), (status = 404, description = "Not found")))]
async fn delete_product(
    State(state): State<AppState>,
    AdminUser(admin): AdminUser,
    Kind(kind): Kind,
    Id(id): Id,
) -> AppResult<StatusCode> {
    let current = repo::get(&state.db, kind, id)
        .await?
        .ok_or_else(|| no_match(kind))?;
    // Orders arrive with their own feature; until then nothing can reference a product.
    let files = in_tx!(state.db, |tx| repo::delete(
        &mut tx,
        kind,
        id,
        &current.name,
        admin.id
    ))
    .await?;
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

#[utoipa::path(patch, path = "/api/admin/products/{product_type}/{id}/toggle-status/", tag = "admin-catalog", summary = "Flip is_active", params(("product_type" = ProductType, Path, description = "`package` or `campaign`"), ("id" = i64, Path)), responses((status = 200, body = ProductOut), (status = 400, description = "Invalid input"), (status = 401, description = "Authentication required"), (status = 403, description = "Admin role required"), (status = 404, description = "Not found")))]
async fn toggle_status(
    State(state): State<AppState>,
    AdminUser(admin): AdminUser,
    BaseUrl(base): BaseUrl,
    Kind(kind): Kind,
    Id(id): Id,
) -> AppResult<Json<ProductOut>> {
    in_tx!(state.db, |tx| repo::toggle_active(
        &mut tx, kind, id, admin.id
    ))
    .await?
    .ok_or_else(|| no_match(kind))?;
    crate::catalog::invalidate(&state, kind).await;
    Ok(Json(full_product(&state, kind, id, &base).await?))
}

#[utoipa::path(get, path = "/api/admin/products/{product_type}/{id}/audit-logs/", tag = "admin-catalog", summary = "A product's audit log", params(("product_type" = ProductType, Path, description = "`package` or `campaign`"), ("id" = i64, Path)), responses((status = 200, body = Vec<AuditOut>), (status = 400, description = "Invalid input"), (status = 401, description = "Authentication required"), (status = 403, description = "Admin role required"), (status = 404, description = "Not found")))]
async fn audit_logs(
    State(state): State<AppState>,
    _admin: AdminUser,
    Kind(kind): Kind,
    Id(id): Id,
) -> AppResult<Json<Vec<AuditOut>>> {
    if !repo::exists(&state.db, kind, id).await? {
        return Err(no_match(kind));
    }
    let tz = state.config.tz_offset;
    let rows = repo::audit_logs(&state.db, kind, id).await?;
    Ok(Json(rows.iter().map(|r| AuditOut::new(r, tz)).collect()))
}
