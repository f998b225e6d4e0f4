//! The customer's resource routes (contract-B §4.6–4.9): the dynamic form of each order item
//! (`resource-fields/`), its submission (`submit-resources/`), and the two read views. Their own
//! orders only (`404 {"error": "Order not found"}`), uploads only while the order is
//! `pending_resources` or `ready_for_processing`.

use std::collections::HashMap;

use axum::{
    Json,
    extract::{DefaultBodyLimit, Request, State},
    http::StatusCode,
    response::{IntoResponse, Response},
};
use serde_json::{Map, Value, json};
use utoipa_axum::{
    router::{OpenApiRouter, UtoipaMethodRouterExt},
    routes,
};

use crate::{
    auth::AuthUser,
    catalog::{fields, fields::repo::FieldRow, model::ProductType},
    error::{AppError, AppResult},
    extract::path::parse_id,
    orders::{
        model::{OrderItemRow, OrderRow},
        service as orders,
    },
    ratelimit::UPLOADS_PER_USER,
    resources::{
        files,
        form::{self, Form, MAX_FILE_BYTES, OrderId, Part, UPLOAD_BODY_LIMIT},
        legacy,
        model::{ResourceOut, SubmissionRow},
        repo,
        service::{accepts_uploads, complete_item},
    },
    state::AppState,
    timefmt::iso_utc_z,
    uploads::{
        Area, StoredName,
        documents::{DocumentType, check_document},
        images::{MAX_IMAGE_BYTES, verify_image},
    },
};

const MB: usize = 1024 * 1024;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(resource_fields))
        .routes(routes!(resources_view))
        .routes(routes!(resource_status))
        .routes(routes!(submit_resources).layer(DefaultBodyLimit::max(UPLOAD_BODY_LIMIT)))
        .routes(routes!(legacy::upload_resources).layer(DefaultBodyLimit::max(UPLOAD_BODY_LIMIT)))
        .routes(routes!(files::submission_file))
        .routes(routes!(legacy::item_file))
        .routes(routes!(legacy::order_file))
}

fn error(status: StatusCode, message: impl Into<String>) -> AppError {
    AppError::Error(status, message.into())
}

fn item_not_found() -> AppError {
    error(
        StatusCode::NOT_FOUND,
        "Order item not found or does not belong to this order",
    )
}

fn status_refused(status: &str) -> AppError {
    error(
        StatusCode::BAD_REQUEST,
        format!("Cannot upload resources for order with status: {status}"),
    )
}

/// The caller's order, its lines, their product names and their ids (what every read view starts
/// from).
async fn order_view(
    state: &AppState,
    id: i64,
    user_id: i64,
) -> AppResult<(OrderRow, Vec<OrderItemRow>, HashMap<i64, String>, Vec<i64>)> {
    let order = orders::owned(state, id, user_id).await?;
    let items = orders::items(state, order.id).await?;
    let names = orders::item_names(state, &items).await?;
    let ids = items.iter().map(|i| i.id).collect();
    Ok((order, items, names, ids))
}

/// Each line's field definitions (one read per product).
async fn definitions_of(
    state: &AppState,
    items: &[OrderItemRow],
) -> AppResult<HashMap<(String, i64), Vec<FieldRow>>> {
    let mut out = HashMap::new();
    for item in items {
        let key = (item.product_type.clone(), item.product_id);
        if out.contains_key(&key) {
            continue;
        }
        let rows = match ProductType::parse(&item.product_type) {
            Some(kind) => fields::definitions(state, kind, item.product_id).await?,
            None => Vec::new(),
        };
        out.insert(key, rows);
    }
    Ok(out)
}

#[utoipa::path(get, path = "/api/orders/{order_id}/resource-fields/", tag = "resources",
    summary = "Each item's dynamic resource form, with the values submitted so far",
    params(("order_id" = i64, Path)),
    responses((status = 200, description = "The items and their fields"), (status = 401, description = "Authentication required"),
        (status = 404, description = "Not the caller's order")))]
async fn resource_fields(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
    OrderId(id): OrderId,
) -> AppResult<Json<Value>> {
    let (order, items, names, item_ids) = order_view(&state, id, user.id).await?;
    let definitions = definitions_of(&state, &items).await?;
    let submissions = repo::submissions_of(&state.db, &item_ids).await?;
    let by_key: HashMap<(i64, i64), &SubmissionRow> = submissions
        .iter()
        .map(|s| ((s.order_item_id, s.field_id), s))
        .collect();
    let items: Vec<Value> = items
        .iter()
        .map(|item| {
            let fields: Vec<Value> = definitions
                .get(&(item.product_type.clone(), item.product_id))
                .map(Vec::as_slice)
                .unwrap_or_default()
                .iter()
                .map(|d| {
                    let submitted = by_key.get(&(item.id, d.id));
                    json!({
                        "id": d.id, "field_name": d.field_name, "field_type": d.field_type,
                        "is_required": d.is_required, "order": d.sort_order, "help_text": d.help_text,
                        "max_file_size_mb": d.max_file_size_mb, "max_length": d.max_length,
                        "min_value": d.min_value, "max_value": d.max_value,
                        "allowed_extensions": d.allowed_extensions.0,
                        "submitted": submitted.is_some(),
                        "submission_id": submitted.map(|s| s.id),
                        "value": submitted.map_or(Value::Null, |s| s.value()),
                    })
                })
                .collect();
            json!({
                "order_item_id": item.id, "item_type": item.product_type,
                "item_name": names.get(&item.id), "quantity": item.quantity,
                "resources_uploaded": item.resources_uploaded, "fields": fields,
            })
        })
        .collect();
    Ok(Json(json!({
        "order_id": order.id, "order_number": order.order_number, "status": order.status,
        "items": items,
    })))
}

#[utoipa::path(get, path = "/api/orders/{order_id}/resources/", tag = "resources",
    summary = "Each item with its legacy resource form (dynamic submissions are in resource-fields)",
    params(("order_id" = i64, Path)),
    responses((status = 200, description = "The items"), (status = 401, description = "Authentication required"),
        (status = 404, description = "Not the caller's order")))]
async fn resources_view(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
    OrderId(id): OrderId,
) -> AppResult<Json<Value>> {
    let (order, items, names, ids) = order_view(&state, id, user.id).await?;
    let legacy = repo::resources_of(&state.db, &ids).await?;
    let tz = state.config.tz_offset;
    let items: Vec<Value> = items
        .iter()
        .map(|item| {
            let resource = legacy
                .iter()
                .find(|r| r.order_item_id == item.id)
                .map(|r| ResourceOut::new(r, tz));
            json!({
                "id": item.id, "item_type": item.product_type, "item_name": names.get(&item.id),
                "quantity": item.quantity, "resources_uploaded": item.resources_uploaded,
                "resources": resource,
            })
        })
        .collect();
    Ok(Json(json!({
        "order_id": order.id, "order_number": order.order_number, "status": order.status,
        "items": items,
    })))
}

#[utoipa::path(get, path = "/api/orders/{order_id}/resource-status/", tag = "resources",
    summary = "Which items still need their resources", params(("order_id" = i64, Path)),
    responses((status = 200, description = "Progress"), (status = 401, description = "Authentication required"),
        (status = 404, description = "Not the caller's order")))]
async fn resource_status(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
    OrderId(id): OrderId,
) -> AppResult<Json<Value>> {
    let (order, items, names, ids) = order_view(&state, id, user.id).await?;
    let legacy = repo::resources_of(&state.db, &ids).await?;
    let done = items.iter().filter(|i| i.resources_uploaded).count();
    let progress = if items.is_empty() {
        100
    } else {
        100 * done / items.len()
    };
    let pending: Vec<Value> = items
        .iter()
        .filter(|i| !i.resources_uploaded)
        .map(|i| {
            json!({"id": i.id, "item_type": i.product_type, "item_name": names.get(&i.id),
                        "quantity": i.quantity, "price": crate::money::paise_to_f64(i.price_paise)})
        })
        .collect();
    let uploaded: Vec<Value> = items
        .iter()
        .filter(|i| i.resources_uploaded)
        .map(|i| {
            let at = legacy
                .iter()
                .find(|r| r.order_item_id == i.id)
                .map(|r| iso_utc_z(r.uploaded_at));
            json!({"id": i.id, "item_type": i.product_type, "item_name": names.get(&i.id),
                   "quantity": i.quantity, "uploaded_at": at})
        })
        .collect();
    Ok(Json(json!({
        "order_id": order.id, "order_number": order.order_number, "status": order.status,
        "total_items": items.len(), "progress_percentage": progress,
        "all_resources_uploaded": done == items.len(),
        "pending_items": pending, "uploaded_items": uploaded,
    })))
}

/// One field's value after validation: what to store.
enum FieldValue {
    Text(String),
    Number(i64),
    File {
        bytes: axum::body::Bytes,
        extension: &'static str,
    },
}

/// §6.2 for one definition; `Ok(None)`: an optional field left empty.
async fn validate(
    state: &AppState,
    d: &FieldRow,
    part: Option<&Part>,
) -> Result<Option<FieldValue>, String> {
    let name = &d.field_name;
    let empty = match part {
        None => true,
        Some(Part::Text(t)) => t.trim().is_empty(),
        Some(Part::File(Some(bytes))) => bytes.is_empty(),
        Some(Part::File(None)) => false,
    };
    if empty {
        return if d.is_required {
            Err(format!("{name} is required"))
        } else {
            Ok(None)
        };
    }
    let Some(part) = part else { return Ok(None) };
    match d.field_type.as_str() {
        "text" | "phone" | "date" => {
            let Part::Text(text) = part else {
                return Err(format!("{name} must be text"));
            };
            let text = text.trim();
            if text.contains('\0') {
                return Err(format!("{name} contains null characters"));
            }
            if let Some(max) = d.max_length
                && text.chars().count() > usize::try_from(max).unwrap_or(0)
            {
                return Err(format!("{name} exceeds maximum length of {max}"));
            }
            Ok(Some(FieldValue::Text(text.to_string())))
        }
        "number" => {
            let Part::Text(text) = part else {
                return Err(format!("{name} must be a valid number"));
            };
            let text = text.trim();
            let digits = text.strip_prefix(['+', '-']).unwrap_or(text);
            let number = (!digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()))
                .then(|| text.parse::<i64>().ok())
                .flatten()
                .ok_or_else(|| format!("{name} must be a valid number"))?;
            if let Some(min) = d.min_value
                && number < i64::from(min)
            {
                return Err(format!("{name} must be at least {min}"));
            }
            if let Some(max) = d.max_value
                && number > i64::from(max)
            {
                return Err(format!("{name} must be at most {max}"));
            }
            Ok(Some(FieldValue::Number(number)))
        }
        kind @ ("image" | "document") => {
            let Part::File(bytes) = part else {
                return Err(format!("{name} must be a file"));
            };
            let default_mb = if kind == "image" { 5 } else { 20 };
            let cap_mb = d
                .max_file_size_mb
                .and_then(|m| usize::try_from(m).ok())
                .filter(|m| *m > 0)
                .unwrap_or(default_mb);
            let cap = if kind == "image" {
                (cap_mb * MB).min(MAX_IMAGE_BYTES)
            } else {
                (cap_mb * MB).min(MAX_FILE_BYTES)
            };
            let Some(bytes) = bytes.clone().filter(|b| b.len() <= cap) else {
                return Err(format!("{name} exceeds maximum size of {}MB", cap / MB));
            };
            if kind == "image" {
                let verdict = verify_image(&state.uploads.image_pool, bytes.clone(), cap)
                    .await
                    .map_err(|_| {
                        format!("{name}: the image could not be checked, please try again")
                    })?;
                let kind = verdict.map_err(|r| r.message())?;
                Ok(Some(FieldValue::File {
                    bytes,
                    extension: kind.extension(),
                }))
            } else {
                let allowed: Vec<DocumentType> = d
                    .extensions()
                    .iter()
                    .filter_map(|e| DocumentType::from_extension(e))
                    .collect();
                let kind = check_document(&bytes, &allowed, cap as u64).map_err(|r| r.message())?;
                Ok(Some(FieldValue::File {
                    bytes,
                    extension: kind.extension(),
                }))
            }
        }
        other => Err(format!("File upload not supported for field type: {other}")),
    }
}

#[utoipa::path(post, path = "/api/orders/{order_id}/submit-resources/", tag = "resources",
    summary = "Submit an item's dynamic resource fields (multipart: order_item_id + field_<id>)",
    params(("order_id" = i64, Path)),
    request_body(content = Value, content_type = "multipart/form-data", description = "`order_item_id` and `field_<definition id>` values or files"),
    responses((status = 201, description = "Stored"), (status = 400, description = "Invalid fields: nothing stored"),
        (status = 401, description = "Authentication required"), (status = 404, description = "Not the caller's order or item"),
        (status = 415, description = "Not a form body"), (status = 429, description = "More than 20 uploads in an hour")))]
async fn submit_resources(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
    OrderId(id): OrderId,
    request: Request,
) -> AppResult<Response> {
    let order = orders::owned(&state, id, user.id).await?;
    if !accepts_uploads(&order.status) {
        return Err(status_refused(&order.status));
    }
    state
        .limiter
        .enforce(&UPLOADS_PER_USER, &user.id.to_string())
        .await?;
    let form: Form =
        form::read(request, &state, MAX_FILE_BYTES, &state.uploads.body_budget).await?;
    let Some(item_text) = form.text("order_item_id").filter(|t| !t.is_empty()) else {
        return Err(error(StatusCode::BAD_REQUEST, "order_item_id is required"));
    };
    let item_id = parse_id(item_text).ok_or_else(item_not_found)?;
    let items = orders::items(&state, order.id).await?;
    let Some(item) = items.iter().find(|i| i.id == item_id) else {
        return Err(item_not_found());
    };
    let definitions = match ProductType::parse(&item.product_type) {
        Some(kind) => fields::definitions(&state, kind, item.product_id).await?,
        None => Vec::new(),
    };
    let mut errors = Map::new();
    let mut values: Vec<(i64, FieldValue)> = Vec::new();
    for d in &definitions {
        match validate(&state, d, form.parts.get(&format!("field_{}", d.id))).await {
            Ok(Some(value)) => values.push((d.id, value)),
            Ok(None) => {}
            Err(message) => {
                errors.insert(format!("field_{}", d.id), Value::String(message));
            }
        }
    }
    if !errors.is_empty() {
        return Err(AppError::Body(
            StatusCode::BAD_REQUEST,
            json!({"success": false, "errors": errors}),
        ));
    }
    // Files go to storage first, under generated names; a failure later removes them again.
    let mut stored: Vec<StoredName> = Vec::new();
    let mut rows: Vec<Row> = Vec::new();
    for (field_id, value) in values {
        match value {
            FieldValue::Text(t) => rows.push((field_id, Some(t), None, None)),
            FieldValue::Number(n) => rows.push((field_id, None, Some(n), None)),
            FieldValue::File { bytes, extension } => {
                let name = StoredName::generate(extension);
                if let Err(e) = state
                    .uploads
                    .storage
                    .put(Area::Resources, &name, bytes)
                    .await
                {
                    files::remove(&state, &stored).await;
                    return Err(crate::uploads::store_failed(e, "a resource file"));
                }
                rows.push((field_id, None, None, Some(name.as_str().to_string())));
                stored.push(name);
            }
        }
    }
    let outcome = store(&state, &order, item_id, user.id, &rows).await;
    let (completion, replaced) = match outcome {
        Ok(done) => done,
        Err(e) => {
            files::remove(&state, &stored).await;
            return Err(e);
        }
    };
    let replaced: Vec<StoredName> = replaced
        .iter()
        .filter_map(|n| StoredName::parse(n))
        .collect();
    files::remove(&state, &replaced).await;
    crate::notifications::service::announce(&state, completion.notified.clone()).await;
    let names = orders::item_names(&state, &completion.pending).await?;
    let pending = orders::pending_out(&completion.pending, &names);
    Ok((
        StatusCode::CREATED,
        Json(json!({
            "success": true, "message": "Resources submitted successfully",
            "submissions_count": rows.len(), "order_status": completion.order_status,
            "all_resources_uploaded": completion.all_uploaded, "pending_items": pending,
        })),
    )
        .into_response())
}

/// `(field id, text, number, stored file name)` of one submission to store.
type Row = (i64, Option<String>, Option<i64>, Option<String>);

/// The submission's transaction: under the order's lock (its status checked again), every value
/// upserted, the item completed. Returns the completion and the files the upserts replaced.
async fn store(
    state: &AppState,
    order: &OrderRow,
    item_id: i64,
    by: i64,
    rows: &[Row],
) -> AppResult<(crate::resources::service::Completion, Vec<String>)> {
    let mut tx = state.db.begin().await?;
    let Some(locked) = orders::lock(&mut tx, order.id).await? else {
        return Err(orders::order_not_found());
    };
    if !accepts_uploads(&locked.status) {
        return Err(status_refused(&locked.status));
    }
    let mut replaced = Vec::new();
    for (field_id, text, number, file) in rows {
        if file.is_some()
            && let Some(old) = repo::file_of(&mut tx, item_id, *field_id).await?
        {
            replaced.push(old);
        }
        repo::upsert(
            &mut tx,
            item_id,
            *field_id,
            text.as_deref(),
            *number,
            file.as_deref(),
        )
        .await?;
    }
    let completion = complete_item(&mut tx, &locked, item_id, by).await?;
    crate::orders::derived::commit(state, tx).await?;
    Ok((completion, replaced))
}
