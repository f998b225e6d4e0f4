//! The two invoice downloads (contract-B §4.10, §7, D5): the customer's and the admin panel's, with
//! one availability rule; they differ only in what an unassigned staff member is told.

use axum::{
    body::Body,
    extract::State,
    http::{HeaderValue, header},
    response::Response,
};
use utoipa_axum::{router::OpenApiRouter, routes};

use crate::{
    auth::{AuthUser, StaffUser},
    cache::Blob,
    error::AppResult,
    extract::path::parse_id,
    invoices::service::{self, Route},
    orders::service::order_not_found,
    path_param,
    state::AppState,
};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(customer_invoice))
        .routes(routes!(admin_invoice))
}

path_param!(
    /// `{order_id}`: an integer, or `{"error": "Order not found"}`.
    pub struct OrderId(i64) = "order_id", parse_id, order_not_found;
);

/// `application/pdf` as an attachment named `Invoice-<number>-<YYYYMMDD>.pdf` (the admin SPA reads
/// the name from `Content-Disposition`, exposed by CORS, D23).
fn pdf_response(blob: Blob) -> Response {
    let length = blob.bytes.len();
    let mut response = Response::new(Body::from(blob.bytes));
    let h = response.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/pdf"),
    );
    h.insert(header::CONTENT_LENGTH, HeaderValue::from(length));
    if let Ok(value) = HeaderValue::from_str(&format!("attachment; filename=\"{}\"", blob.name)) {
        h.insert(header::CONTENT_DISPOSITION, value);
    }
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("private, no-store"),
    );
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    response
}

#[utoipa::path(get, path = "/api/orders/{order_id}/invoice/download/", tag = "invoices",
    summary = "The order's invoice as PDF (the owner, admins, the assigned staff member; paid orders only)",
    params(("order_id" = i64, Path)),
    responses((status = 200, description = "The PDF", content_type = "application/pdf"),
        (status = 400, description = "The order is not paid"),
        (status = 401, description = "Authentication required"),
        (status = 404, description = "No such order, or not the caller's")))]
async fn customer_invoice(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
    OrderId(id): OrderId,
) -> AppResult<Response> {
    let order = service::allowed_order(&state, id, &user, Route::Customer).await?;
    Ok(pdf_response(service::pdf_of(&state, &order).await?))
}

#[utoipa::path(get, path = "/api/admin/orders/{order_id}/invoice/", tag = "invoices",
    summary = "An order's invoice as PDF (admins: any order; staff: orders assigned to them; paid orders only)",
    params(("order_id" = i64, Path)),
    responses((status = 200, description = "The PDF", content_type = "application/pdf"),
        (status = 400, description = "The order is not paid"),
        (status = 401, description = "Authentication required"),
        (status = 403, description = "Not staff, or a staff member on an order not assigned to them"),
        (status = 404, description = "No such order")))]
async fn admin_invoice(
    State(state): State<AppState>,
    StaffUser(user): StaffUser,
    OrderId(id): OrderId,
) -> AppResult<Response> {
    let order = service::allowed_order(&state, id, &user, Route::Admin).await?;
    Ok(pdf_response(service::pdf_of(&state, &order).await?))
}
