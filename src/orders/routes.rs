//! The customer's order views (contract-B §4.2–4.3): their own orders only; a foreign or missing
//! order answers `404 {"error": "Order not found"}`, anonymous callers 401.

use axum::{Json, extract::State};
use utoipa_axum::{router::OpenApiRouter, routes};

use crate::{
    auth::AuthUser,
    error::AppResult,
    extract::{BaseUrl, path::parse_id},
    orders::{model::OrderOut, service},
    path_param,
    state::AppState,
};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(my_orders))
        .routes(routes!(order_detail))
}

path_param!(
    /// `{order_id}`: an integer, or `{"error": "Order not found"}`.
    pub struct OrderId(i64) = "order_id", parse_id, service::order_not_found;
);

#[utoipa::path(get, path = "/api/orders/my-orders/", tag = "orders",
    summary = "The caller's orders, newest first (a bare array, at most 500)",
    responses((status = 200, body = Vec<OrderOut>), (status = 401, description = "Authentication required")))]
async fn my_orders(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
    BaseUrl(base): BaseUrl,
) -> AppResult<Json<Vec<OrderOut>>> {
    Ok(Json(service::mine(&state, user.id, &base).await?))
}

#[utoipa::path(get, path = "/api/orders/{order_id}/", tag = "orders", summary = "One of the caller's orders",
    params(("order_id" = i64, Path)),
    responses((status = 200, body = OrderOut), (status = 401, description = "Authentication required"),
        (status = 404, description = "Not the caller's order")))]
async fn order_detail(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
    BaseUrl(base): BaseUrl,
    OrderId(id): OrderId,
) -> AppResult<Json<OrderOut>> {
    let order = service::owned(&state, id, user.id).await?;
    Ok(Json(service::render_one(&state, &order, &base).await?))
}
