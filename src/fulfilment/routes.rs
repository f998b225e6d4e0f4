//! The admin panel's order routes (contract-B §8.1–8.2, clients.md §2.5, D1, D13): dashboard counts,
//! the order list (a bare array, newest first, bounded), the detail, assignment, status and
//! payment-status overrides, payment records, customer search, the manual-order product list and
//! the staff list. Admin only (staff get 403, never 401), except the customer search and the
//! product list, which staff use for manual orders.

use std::collections::HashMap;

use axum::{
    Json,
    extract::{DefaultBodyLimit, Request, State},
    http::{HeaderMap, HeaderValue, StatusCode},
    response::{IntoResponse, Response},
};
use serde_json::{Value, json};
use time::{Date, Duration, OffsetDateTime, PrimitiveDateTime, Time};
use utoipa_axum::{
    router::{OpenApiRouter, UtoipaMethodRouterExt},
    routes,
};

use crate::{
    auth::{AdminUser, MaybeUser, StaffUser},
    catalog::{model::ProductType, products::service as products},
    db::like_pattern,
    error::{AppError, AppResult, FieldErrors},
    extract::{BaseUrl, Query, SuccessBody, path::parse_id},
    fulfilment::{
        detail::{self, AdminOrderDetail, HISTORY_ROWS},
        model::{AdminOrderListOut, HistoryOut, RecordOut, StaffOut, UserBasic},
        payment_form, repo,
        service::{self, PAYMENT_STATUSES, no_order},
    },
    money::paise_to_f64,
    orders::{service as orders, status::Status},
    path_param,
    payments::records,
    resources::{
        files::{self, TokenQuery},
        form::UPLOAD_BODY_LIMIT,
    },
    state::AppState,
    uploads::StoredName,
    validation::{self, Text},
};

/// Most orders one list response holds (`?limit=` up to this; the default is [`DEFAULT_LIMIT`],
/// the newest: enough for the SPA's pages, which filter on the client, and p99 ≤ 50 ms at 10k
/// orders).
pub const MAX_LIMIT: i64 = 1000;
pub const DEFAULT_LIMIT: i64 = 200;
/// Most customers a search returns.
const CUSTOMER_LIMIT: i64 = 10;
/// Most products of each type the manual-order form lists.
const PRODUCT_LIMIT: i64 = 500;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(statistics))
        .routes(routes!(list))
        .routes(routes!(order_detail))
        .routes(routes!(assign))
        .routes(routes!(update_status))
        .routes(routes!(update_payment_status))
        .routes(routes!(record_payment).layer(DefaultBodyLimit::max(UPLOAD_BODY_LIMIT)))
        .routes(routes!(payment_records))
        .routes(routes!(status_history))
        .routes(routes!(customer_search))
        .routes(routes!(products_for_order))
        .routes(routes!(staff_list))
        .routes(routes!(payment_proof))
}

path_param!(
    /// `{order_id}` of the admin routes: an integer, or DRF's generic 404.
    pub struct AdminOrderId(i64) = "order_id", parse_id, no_order;
);

#[derive(Debug, Default, serde::Deserialize)]
pub struct ListQuery {
    pub status: Option<String>,
    pub payment_status: Option<String>,
    pub assigned_to: Option<String>,
    pub staff: Option<String>,
    pub order_source: Option<String>,
    pub source: Option<String>,
    pub search: Option<String>,
    pub start_date: Option<String>,
    pub end_date: Option<String>,
    pub date_from: Option<String>,
    pub date_to: Option<String>,
    pub limit: Option<String>,
    pub offset: Option<String>,
}

fn nonempty(v: &Option<String>) -> Option<&str> {
    v.as_deref().map(str::trim).filter(|s| !s.is_empty())
}

/// `2026-11-25` (a day in the shop's zone) or an ISO datetime (naive = the shop's zone).
fn parse_bound(text: &str, tz: time::UtcOffset, end: bool) -> Option<OffsetDateTime> {
    use time::format_description::well_known::Iso8601;
    if let Ok(date) = Date::parse(text, &Iso8601::DATE) {
        let day = PrimitiveDateTime::new(date, Time::MIDNIGHT).assume_offset(tz);
        return if end {
            day.checked_add(Duration::days(1))
        } else {
            Some(day)
        };
    }
    if let Ok(at) = OffsetDateTime::parse(text, &Iso8601::DEFAULT) {
        return Some(at);
    }
    PrimitiveDateTime::parse(text, &Iso8601::DEFAULT)
        .ok()
        .map(|t| t.assume_offset(tz))
}

/// The list filters from the SPA's query (`?staff=` is its name for `assigned_to`).
pub fn filter_of(q: &ListQuery, tz: time::UtcOffset) -> AppResult<repo::ListFilter> {
    let mut f = repo::ListFilter {
        status: nonempty(&q.status).unwrap_or("").to_string(),
        payment_status: nonempty(&q.payment_status).unwrap_or("").to_string(),
        order_source: nonempty(&q.order_source)
            .or(nonempty(&q.source))
            .unwrap_or("")
            .to_string(),
        search: nonempty(&q.search).map(like_pattern),
        ..Default::default()
    };
    if let Some(a) = nonempty(&q.assigned_to).or(nonempty(&q.staff)) {
        if a.eq_ignore_ascii_case("unassigned") {
            f.assigned_to = Some(None);
        } else if let Some(id) = parse_id(a) {
            f.assigned_to = Some(Some(id));
        }
    }
    let bound = |v: Option<&str>, end: bool| -> AppResult<Option<OffsetDateTime>> {
        match v {
            None => Ok(None),
            // In UTC: SQLite compares the stored UTC text with the bound's text.
            // An instant outside the representable years in UTC is as invalid as a bad date.
            Some(text) => parse_bound(text, tz, end)
                .and_then(|t| t.checked_to_offset(time::UtcOffset::UTC))
                .map(Some)
                .ok_or_else(|| {
                    AppError::bad_request(format!(
                        "Invalid date: {text}. Use YYYY-MM-DD or an ISO datetime."
                    ))
                }),
        }
    };
    f.from = bound(nonempty(&q.start_date).or(nonempty(&q.date_from)), false)?;
    f.until = bound(nonempty(&q.end_date).or(nonempty(&q.date_to)), true)?;
    Ok(f)
}

/// `(limit, offset)` from the query: limit 1..=1000 (default 200), offset ≥ 0.
pub fn window(q: &ListQuery) -> AppResult<(i64, i64)> {
    let num = |v: &Option<String>, name: &str| -> AppResult<Option<i64>> {
        match nonempty(v) {
            None => Ok(None),
            Some(t) => t
                .parse::<i64>()
                .ok()
                .filter(|n| *n >= 0)
                .map(Some)
                .ok_or_else(|| {
                    AppError::bad_request(format!("{name} must be a non-negative integer"))
                }),
        }
    };
    let limit = num(&q.limit, "limit")?
        .unwrap_or(DEFAULT_LIMIT)
        .clamp(1, MAX_LIMIT);
    Ok((limit, num(&q.offset, "offset")?.unwrap_or(0)))
}

/// The list as a bare array (D1); `X-Has-More: true` when orders beyond the window match (one
/// statement: the page is read with one row more than it shows, no count).
pub async fn list_response(
    state: &AppState,
    filter: &repo::ListFilter,
    limit: i64,
    offset: i64,
) -> AppResult<Response> {
    let mut rows = repo::list(&state.db, filter, limit + 1, offset).await?;
    let more = rows.len() as i64 > limit;
    rows.truncate(usize::try_from(limit).unwrap_or(0));
    let tz = state.config.tz_offset;
    let out: Vec<AdminOrderListOut> = rows.iter().map(|r| AdminOrderListOut::new(r, tz)).collect();
    let mut headers = HeaderMap::new();
    headers.insert(
        "x-has-more",
        HeaderValue::from_static(if more { "true" } else { "false" }),
    );
    Ok((headers, Json(out)).into_response())
}

#[utoipa::path(get, path = "/api/admin/orders/statistics/", tag = "admin-orders",
    summary = "Dashboard counts: pending (payment + resources), assigned, in progress, completed, total",
    responses((status = 200, description = "The counts"), (status = 401, description = "Authentication required"),
        (status = 403, description = "Not an admin")))]
async fn statistics(State(state): State<AppState>, _admin: AdminUser) -> AppResult<Json<Value>> {
    let counts: HashMap<String, i64> = repo::status_counts(&state.db).await?.into_iter().collect();
    let n = |s: &str| counts.get(s).copied().unwrap_or(0);
    Ok(Json(json!({
        "pending": n("pending_payment") + n("pending_resources"),
        "assigned": n("assigned"),
        "in_progress": n("in_progress"),
        "completed": n("completed"),
        "total": counts.values().sum::<i64>(),
    })))
}

#[utoipa::path(get, path = "/api/admin/orders/", tag = "admin-orders",
    summary = "Orders, newest first, as a bare array (at most 200 unless ?limit=, up to 1000, with ?offset=; X-Has-More: true when more match)",
    params(("status" = Option<String>, Query, description = "A status, or `pending` for pending_payment + pending_resources"),
        ("payment_status" = Option<String>, Query), ("assigned_to" = Option<String>, Query, description = "A staff id or `unassigned` (alias `staff`)"),
        ("order_source" = Option<String>, Query), ("search" = Option<String>, Query, description = "Order number, customer phone, username or name"),
        ("start_date" = Option<String>, Query), ("end_date" = Option<String>, Query, description = "Inclusive, in the shop's zone"),
        ("limit" = Option<String>, Query), ("offset" = Option<String>, Query)),
    responses((status = 200, body = Vec<AdminOrderListOut>), (status = 400, description = "A bad date or window"),
        (status = 401, description = "Authentication required"), (status = 403, description = "Not an admin")))]
async fn list(
    State(state): State<AppState>,
    _admin: AdminUser,
    Query(query): Query<ListQuery>,
) -> AppResult<Response> {
    let filter = filter_of(&query, state.config.tz_offset)?;
    let (limit, offset) = window(&query)?;
    list_response(&state, &filter, limit, offset).await
}

async fn detail_of(state: &AppState, id: i64, base: &str) -> AppResult<AdminOrderDetail> {
    let order = orders::get(state, id).await?.ok_or_else(no_order)?;
    detail::render(state, &order, base).await
}

/// A mutation's answer: `{"success": true, "message", "order": AdminOrderDetail}`.
async fn changed(state: &AppState, id: i64, base: &str, message: String) -> AppResult<Json<Value>> {
    let order = detail_of(state, id, base).await?;
    Ok(Json(
        json!({"success": true, "message": message, "order": order}),
    ))
}

#[utoipa::path(get, path = "/api/admin/orders/{order_id}/", tag = "admin-orders",
    summary = "One order with its items, resources, checklist, payments and history",
    params(("order_id" = i64, Path)),
    responses((status = 200, body = AdminOrderDetail), (status = 401, description = "Authentication required"),
        (status = 403, description = "Not an admin"), (status = 404, description = "No such order")))]
async fn order_detail(
    State(state): State<AppState>,
    _admin: AdminUser,
    BaseUrl(base): BaseUrl,
    AdminOrderId(id): AdminOrderId,
) -> AppResult<Json<AdminOrderDetail>> {
    Ok(Json(detail_of(&state, id, &base).await?))
}

#[utoipa::path(post, path = "/api/admin/orders/{order_id}/assign/", tag = "admin-orders",
    summary = "Assign the order to a staff member (builds its checklist once, notifies them)",
    params(("order_id" = i64, Path)),
    request_body(content = Value, content_type = "application/json", description = "`{\"staff_id\": 13}`"),
    responses((status = 200, description = "Assigned"), (status = 400, description = "`{\"staff_id\": [...]}`"),
        (status = 401, description = "Authentication required"), (status = 403, description = "Not an admin"),
        (status = 404, description = "No such order")))]
async fn assign(
    State(state): State<AppState>,
    AdminUser(admin): AdminUser,
    BaseUrl(base): BaseUrl,
    AdminOrderId(id): AdminOrderId,
    crate::extract::Body(body): crate::extract::Body<Value>,
) -> AppResult<Json<Value>> {
    let body = validation::object(&body)
        .map_err(AppError::Validation)?
        .clone();
    let body = Value::Object(body);
    let staff_id = match body.get("staff_id") {
        None | Some(Value::Null) => None,
        Some(v) => Some(validation::id_value(v).ok_or_else(|| {
            AppError::Validation(FieldErrors::one("staff_id", validation::INVALID_INT))
        })?),
    };
    if orders::get(&state, id).await?.is_none() {
        return Err(no_order());
    }
    let username = service::assign(&state, id, staff_id, admin.id).await?;
    changed(&state, id, &base, format!("Order assigned to {username}")).await
}

#[utoipa::path(post, path = "/api/admin/orders/{order_id}/update-status/", tag = "admin-orders",
    summary = "Force any status (with a reason and a history row); cancelling unassigns",
    params(("order_id" = i64, Path)),
    request_body(content = Value, content_type = "application/json", description = "`{\"status\": \"on_hold\", \"reason\": \"…\"}`"),
    responses((status = 200, description = "Updated"), (status = 400, description = "Invalid or same status"),
        (status = 401, description = "Authentication required"), (status = 403, description = "Not an admin"),
        (status = 404, description = "No such order")))]
async fn update_status(
    State(state): State<AppState>,
    AdminUser(admin): AdminUser,
    BaseUrl(base): BaseUrl,
    AdminOrderId(id): AdminOrderId,
    SuccessBody(body): SuccessBody<Value>,
) -> AppResult<Json<Value>> {
    if orders::get(&state, id).await?.is_none() {
        return Err(no_order());
    }
    let mut errors = FieldErrors::default();
    let choices: Vec<&str> = Status::ALL.iter().map(|s| s.as_str()).collect();
    let status = validation::choice(&body, "status", &choices, true, &mut errors);
    let reason =
        validation::text(&body, "reason", Text::optional(), &mut errors).unwrap_or_default();
    let status = match (status.as_deref().and_then(Status::parse), errors.is_empty()) {
        (Some(s), true) => s,
        _ => return Err(crate::extract::body::success_errors(errors)),
    };
    service::set_status(&state, id, status, &reason, admin.id).await?;
    let message = format!("Order status updated to {}", status.as_str());
    changed(&state, id, &base, message).await
}

#[utoipa::path(post, path = "/api/admin/orders/{order_id}/update-payment-status/", tag = "admin-orders",
    summary = "Set the payment status (unpaid, partial, paid, refunded, cod)",
    params(("order_id" = i64, Path)),
    request_body(content = Value, content_type = "application/json", description = "`{\"payment_status\": \"paid\"}`"),
    responses((status = 200, description = "Updated"), (status = 400, description = "Missing or invalid"),
        (status = 401, description = "Authentication required"), (status = 403, description = "Not an admin"),
        (status = 404, description = "No such order")))]
async fn update_payment_status(
    State(state): State<AppState>,
    _admin: AdminUser,
    BaseUrl(base): BaseUrl,
    AdminOrderId(id): AdminOrderId,
    SuccessBody(body): SuccessBody<Value>,
) -> AppResult<Json<Value>> {
    let bad = |m: &str| AppError::Message(StatusCode::BAD_REQUEST, m.to_string());
    let value = match body.get("payment_status") {
        None | Some(Value::Null) => return Err(bad("payment_status is required")),
        Some(Value::String(s)) if s.is_empty() => return Err(bad("payment_status is required")),
        Some(Value::String(s)) => s.clone(),
        Some(_) => String::new(),
    };
    if !PAYMENT_STATUSES.contains(&value.as_str()) {
        return Err(bad(
            "Invalid payment status. Must be one of: unpaid, partial, paid, refunded, cod",
        ));
    }
    let old = service::set_payment_status(&state, id, &value).await?;
    let message = format!("Payment status updated from {old} to {value}");
    changed(&state, id, &base, message).await
}

#[utoipa::path(post, path = "/api/admin/orders/{order_id}/record-payment/", tag = "admin-orders",
    summary = "Record a cash/UPI/… payment (JSON or multipart with an optional proof: image or PDF)",
    params(("order_id" = i64, Path)),
    request_body(content = Value, content_type = "multipart/form-data", description = "`amount`, `payment_method`, `payment_reference`, `payment_proof`, `notes`"),
    responses((status = 200, description = "Recorded"), (status = 400, description = "`{\"success\": false, \"errors\": {...}}`"),
        (status = 401, description = "Authentication required"), (status = 403, description = "Not an admin"),
        (status = 404, description = "No such order")))]
async fn record_payment(
    State(state): State<AppState>,
    AdminUser(admin): AdminUser,
    AdminOrderId(id): AdminOrderId,
    request: Request,
) -> AppResult<Json<Value>> {
    if orders::get(&state, id).await?.is_none() {
        return Err(no_order());
    }
    let input = payment_form::read(&state, request).await?;
    let proof = match &input.proof {
        Some(file) => Some(payment_form::store_proof(&state, file).await?),
        None => None,
    };
    let proof_name = proof.as_ref().map(|n| n.as_str().to_string());
    let record = records::NewRecord {
        order_id: id,
        amount_paise: input.amount_paise,
        payment_method: input.method,
        payment_reference: &input.reference,
        payment_proof: proof_name.as_deref(),
        recorded_by: admin.id,
        notes: &input.notes,
    };
    let outcome = service::record_payment(&state, &record).await;
    let (order, recorded) = match outcome {
        Ok(done) => done,
        Err(e) => {
            if let Some(name) = proof {
                files::remove(&state, &[name]).await;
            }
            return Err(e);
        }
    };
    let users = detail::users(&state, [admin.id].into()).await?;
    let payment = RecordOut::new(
        &recorded.record,
        users.get(&admin.id).cloned(),
        state.config.tz_offset,
    );
    Ok(Json(json!({
        "success": true, "message": "Payment recorded successfully", "payment": payment,
        "total_paid": paise_to_f64(recorded.paid_paise),
        "balance": paise_to_f64(order.total_paise - recorded.paid_paise),
        "fully_paid": recorded.paid_paise >= order.total_paise,
    })))
}

#[utoipa::path(get, path = "/api/admin/orders/{order_id}/payment-records/", tag = "admin-orders",
    summary = "The order's payment records, newest first (a bare array)", params(("order_id" = i64, Path)),
    responses((status = 200, body = Vec<RecordOut>), (status = 401, description = "Authentication required"),
        (status = 403, description = "Not an admin"), (status = 404, description = "No such order")))]
async fn payment_records(
    State(state): State<AppState>,
    _admin: AdminUser,
    AdminOrderId(id): AdminOrderId,
) -> AppResult<Json<Vec<RecordOut>>> {
    let order = orders::get(&state, id).await?.ok_or_else(no_order)?;
    let rows = records::of_order(&state, order.id).await?;
    Ok(Json(detail::records_out(&state, &rows).await?))
}

#[utoipa::path(get, path = "/api/admin/orders/{order_id}/status-history/", tag = "admin-orders",
    summary = "The order's status changes, newest first (a bare array, at most 100)", params(("order_id" = i64, Path)),
    responses((status = 200, body = Vec<HistoryOut>), (status = 401, description = "Authentication required"),
        (status = 403, description = "Not an admin"), (status = 404, description = "No such order")))]
async fn status_history(
    State(state): State<AppState>,
    _admin: AdminUser,
    AdminOrderId(id): AdminOrderId,
) -> AppResult<Json<Vec<HistoryOut>>> {
    let order = orders::get(&state, id).await?.ok_or_else(no_order)?;
    let rows = orders::history(&state, order.id, HISTORY_ROWS * 10).await?;
    Ok(Json(detail::history_out(&state, &rows).await?))
}

#[derive(Debug, Default, serde::Deserialize)]
struct SearchQuery {
    q: Option<String>,
}

#[utoipa::path(get, path = "/api/admin/customers/search/", tag = "admin-orders",
    summary = "Customers whose phone or name contains q (at most 10), for manual orders",
    params(("q" = Option<String>, Query)),
    responses((status = 200, description = "`{\"customers\": [UserBasic]}`"), (status = 401, description = "Authentication required"),
        (status = 403, description = "Not staff or an admin")))]
async fn customer_search(
    State(state): State<AppState>,
    _staff: StaffUser,
    Query(query): Query<SearchQuery>,
) -> AppResult<Json<Value>> {
    let q = query.q.as_deref().map(str::trim).unwrap_or("");
    if q.is_empty() {
        return Ok(Json(json!({"customers": []})));
    }
    let q: String = q.chars().take(100).collect();
    let rows = repo::search_customers(&state.db, &like_pattern(&q), CUSTOMER_LIMIT).await?;
    let customers: Vec<UserBasic> = rows.iter().map(UserBasic::from).collect();
    Ok(Json(json!({"customers": customers})))
}

#[utoipa::path(get, path = "/api/admin/products/for-order/", tag = "admin-orders",
    summary = "Active packages and campaigns for the manual-order form",
    responses((status = 200, description = "`{\"campaigns\": [...], \"packages\": [...]}`"), (status = 401, description = "Authentication required"),
        (status = 403, description = "Not staff or an admin")))]
async fn products_for_order(
    State(state): State<AppState>,
    _staff: StaffUser,
) -> AppResult<Json<Value>> {
    let mut out = serde_json::Map::new();
    for (kind, key) in [
        (ProductType::Campaign, "campaigns"),
        (ProductType::Package, "packages"),
    ] {
        let list: Vec<Value> = products::active_summaries(&state, kind, PRODUCT_LIMIT)
            .await?
            .into_iter()
            .map(|p| {
                json!({"id": p.id, "name": p.name, "description": p.description,
                       "price": paise_to_f64(p.price_paise), "type": kind.as_str(), "is_active": p.is_active})
            })
            .collect();
        out.insert(key.into(), Value::Array(list));
    }
    Ok(Json(Value::Object(out)))
}

#[utoipa::path(get, path = "/api/admin/staff/", tag = "admin-orders",
    summary = "Staff and admin accounts by username, with their open assignments (a bare array)",
    responses((status = 200, body = Vec<StaffOut>), (status = 401, description = "Authentication required"),
        (status = 403, description = "Not an admin")))]
async fn staff_list(
    State(state): State<AppState>,
    _admin: AdminUser,
) -> AppResult<Json<Vec<StaffOut>>> {
    let tz = state.config.tz_offset;
    Ok(Json(
        repo::staff(&state.db)
            .await?
            .iter()
            .map(|r| StaffOut::new(r, tz))
            .collect(),
    ))
}

path_param!(
    /// `{record_id}` of a payment proof.
    pub struct RecordId(i64) = "record_id", parse_id, proof_not_found;
);

fn proof_not_found() -> AppError {
    AppError::Detail(StatusCode::NOT_FOUND, "Resource not found".into())
}

#[utoipa::path(get, path = "/api/secure-files/orders/{order_id}/payment-proofs/{record_id}/", tag = "files",
    summary = "A payment record's proof (admins and the assigned staff member; header or ?token=)",
    params(("order_id" = i64, Path), ("record_id" = i64, Path), ("token" = Option<String>, Query)),
    responses((status = 200, description = "The file"), (status = 401, description = "Authentication required"),
        (status = 404, description = "Not found, or not the caller's")))]
async fn payment_proof(
    State(state): State<AppState>,
    MaybeUser(header_user): MaybeUser,
    order: Result<AdminOrderId, AppError>,
    record: Result<RecordId, AppError>,
    Query(query): Query<TokenQuery>,
) -> AppResult<Response> {
    let user = files::caller(&state, header_user, query.token.as_deref()).await?;
    let (Ok(AdminOrderId(order_id)), Ok(RecordId(record_id))) = (order, record) else {
        return Err(proof_not_found());
    };
    let Some(order) = orders::get(&state, order_id).await? else {
        return Err(proof_not_found());
    };
    if !files::may_read(&order, &user) {
        return Err(proof_not_found());
    }
    let rows = records::of_order(&state, order.id).await?;
    let Some(name) = rows
        .iter()
        .find(|r| r.id == record_id)
        .and_then(|r| r.payment_proof.as_deref())
        .and_then(StoredName::parse)
    else {
        return Err(proof_not_found());
    };
    files::serve(&state, &name, name.extension() == "pdf").await
}
