//! The staff panel (contract-B §9, D1, D14): a staff member's orders (only those assigned to them;
//! admins see every order), an order's detail (404 for another's), and ticking checklist items.

use axum::{Json, extract::State, http::StatusCode, response::Response};
use serde_json::{Value, json};
use utoipa_axum::{router::OpenApiRouter, routes};

use crate::{
    auth::StaffUser,
    error::{AppError, AppResult},
    extract::{BaseUrl, SuccessBody, path::parse_id},
    fulfilment::{
        detail::{self, AdminOrderDetail},
        routes::{ListQuery, filter_of, list_response, window},
        service::{self, may_work_on, no_order},
    },
    orders::service as orders,
    path_param,
    state::AppState,
    timefmt::iso_utc_z,
};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(staff_orders))
        .routes(routes!(staff_order))
        .routes(routes!(tick))
}

path_param!(
    /// `{order_id}` of the staff routes.
    pub struct StaffOrderId(i64) = "order_id", parse_id, no_order;
);

path_param!(
    /// `{item_id}`: a checklist item.
    pub struct ItemId(i64) = "item_id", parse_id, crate::error::AppError::not_found;
);

#[utoipa::path(get, path = "/api/staff/orders/", tag = "staff",
    summary = "The caller's assigned orders (admins: every order), newest first, as a bare array",
    params(("status" = Option<String>, Query), ("limit" = Option<String>, Query), ("offset" = Option<String>, Query)),
    responses((status = 200, description = "The orders (the admin list's shape)"), (status = 401, description = "Authentication required"),
        (status = 403, description = "Not staff or an admin")))]
async fn staff_orders(
    State(state): State<AppState>,
    StaffUser(user): StaffUser,
    crate::extract::Query(query): crate::extract::Query<ListQuery>,
) -> AppResult<Response> {
    let mut filter = filter_of(&query, state.config.tz_offset)?;
    if !user.is_admin() {
        filter.assigned_to = Some(Some(user.id));
    }
    let (limit, offset) = window(&query)?;
    list_response(&state, &filter, limit, offset).await
}

#[utoipa::path(get, path = "/api/staff/orders/{order_id}/", tag = "staff",
    summary = "One of the caller's assigned orders (admins: any)", params(("order_id" = i64, Path)),
    responses((status = 200, body = AdminOrderDetail), (status = 401, description = "Authentication required"),
        (status = 403, description = "Not staff or an admin"), (status = 404, description = "No such order, or not assigned to the caller")))]
async fn staff_order(
    State(state): State<AppState>,
    StaffUser(user): StaffUser,
    BaseUrl(base): BaseUrl,
    StaffOrderId(id): StaffOrderId,
) -> AppResult<Json<AdminOrderDetail>> {
    let order = orders::get(&state, id).await?.ok_or_else(no_order)?;
    if !may_work_on(&order, &user) {
        return Err(no_order());
    }
    Ok(Json(detail::render(&state, &order, &base).await?))
}

#[utoipa::path(patch, path = "/api/staff/checklist/{item_id}/", tag = "staff",
    summary = "Tick or untick a checklist item of an assigned order",
    params(("item_id" = i64, Path)),
    request_body(content = Value, content_type = "application/json", description = "`{\"completed\": true}`"),
    responses((status = 200, description = "Updated, with the order's progress"), (status = 400, description = "`completed` missing"),
        (status = 401, description = "Authentication required"), (status = 403, description = "Not the order's staff member"),
        (status = 404, description = "No such item")))]
async fn tick(
    State(state): State<AppState>,
    StaffUser(user): StaffUser,
    ItemId(id): ItemId,
    SuccessBody(body): SuccessBody<Value>,
) -> AppResult<Json<Value>> {
    let completed = match body.get("completed") {
        None | Some(Value::Null) => None,
        Some(v) => crate::validation::boolean_value(v),
    };
    let Some(completed) = completed else {
        let message = if body.get("completed").is_some_and(|v| !v.is_null()) {
            "completed must be true or false"
        } else {
            "completed field is required"
        };
        return Err(AppError::Message(StatusCode::BAD_REQUEST, message.into()));
    };
    let ticked = service::tick(&state, id, completed, &user).await?;
    let by = ticked.item.completed_by.map(
        |_| json!({"id": user.id, "username": user.username, "phone_number": user.phone_number}),
    );
    let item = &ticked.item;
    let p = ticked.progress;
    Ok(Json(json!({
        "success": true, "message": "Checklist item updated successfully",
        "checklist_item": {
            "id": item.id, "description": item.description, "completed": item.completed,
            "completed_at": item.completed_at.map(iso_utc_z), "completed_by": by,
            "order_index": item.order_index, "is_optional": item.is_optional,
        },
        "order_progress": {
            "total_items": p.total_items, "completed_items": p.completed_items,
            "required_items": p.required_items, "completed_required": p.completed_required,
            "progress_percentage": p.progress_percentage, "order_status": ticked.order_status,
        },
    })))
}
