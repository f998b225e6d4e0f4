//! The analytics routes (contract-B §8.5, clients.md §2.9, D2): the six `/api/admin/analytics/*`
//! routes with the original's `{"success", "data"}` bodies and `{"success": false, "message"}`
//! errors (a non-integer `months`/`limit`, a negative `limit` or an export given one date is a 400
//! here, where the original answered 500: Q17), and the admin SPA's `GET /api/admin/analytics/`.
//! Admin only: staff and customers get 403, anonymous callers 401.

use axum::{
    extract::State,
    http::{HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
};
use serde::Deserialize;
use utoipa_axum::{router::OpenApiRouter, routes};

use crate::{
    analytics::{
        export::{self, Export},
        model::{DashboardOut, Envelope, ProductOut, TrendOut},
        params::{self, Window},
        service,
    },
    auth::AdminUser,
    cache::CachedJson,
    db::now,
    error::{AppError, AppResult},
    extract::Query,
    state::AppState,
};

/// Rows the export's top-products table holds.
const EXPORT_PRODUCTS: i64 = 10;
/// Most rows `?limit=` may ask of top-products (there are never more products than this sold).
const MAX_LIMIT: i64 = 1000;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(dashboard))
        .routes(routes!(overview))
        .routes(routes!(revenue_trend))
        .routes(routes!(top_products))
        .routes(routes!(staff_performance))
        .routes(routes!(order_distribution))
        .routes(routes!(export_csv))
}

#[derive(Debug, Default, Deserialize)]
pub struct AnalyticsQuery {
    pub start_date: Option<String>,
    pub end_date: Option<String>,
    pub months: Option<String>,
    pub limit: Option<String>,
}

fn message(text: impl Into<String>) -> AppError {
    AppError::Message(StatusCode::BAD_REQUEST, text.into())
}

/// The window of the routes whose date errors are `Invalid start_date format`.
fn short_window(q: &AnalyticsQuery, state: &AppState) -> AppResult<Window> {
    params::window(&q.start_date, &q.end_date, state.config.tz_offset)
        .map_err(|which| message(format!("Invalid {which} format")))
}

/// The overview's window (its date errors name the accepted formats); neither date → this month.
fn long_window(q: &AnalyticsQuery, state: &AppState) -> AppResult<Window> {
    params::window(&q.start_date, &q.end_date, state.config.tz_offset).map_err(|which| {
        message(format!(
            "Invalid {which} format. Use ISO format (YYYY-MM-DD or YYYY-MM-DDTHH:MM:SS)"
        ))
    })
}

fn body(json: CachedJson) -> Response {
    json.into_response()
}

#[utoipa::path(get, path = "/api/admin/analytics/", tag = "analytics",
    summary = "The admin SPA's analytics page: revenue, orders, average order value, completion rate, 12-month trend, orders by status (all orders unless start_date/end_date)",
    params(("start_date" = Option<String>, Query, description = "ISO date or datetime (naive = the shop's zone), inclusive"),
        ("end_date" = Option<String>, Query, description = "ISO date (midnight at its start) or datetime, inclusive")),
    responses((status = 200, body = DashboardOut), (status = 400, description = "`{\"success\": false, \"message\"}`"),
        (status = 401, description = "Authentication required"), (status = 403, description = "Not an admin")))]
async fn dashboard(
    State(state): State<AppState>,
    _admin: AdminUser,
    Query(q): Query<AnalyticsQuery>,
) -> AppResult<Response> {
    let window = long_window(&q, &state)?;
    Ok(body(service::dashboard_body(&state, &window).await?))
}

#[utoipa::path(get, path = "/api/admin/analytics/overview/", tag = "analytics",
    summary = "Revenue, conversion and orders by status (neither date: this month in UTC, to now)",
    params(("start_date" = Option<String>, Query, description = "ISO date or datetime (naive = the shop's zone), inclusive"),
        ("end_date" = Option<String>, Query, description = "ISO date (midnight at its start) or datetime, inclusive")),
    responses((status = 200, body = Envelope), (status = 400, description = "`{\"success\": false, \"message\": \"Invalid start_date format. …\"}`"),
        (status = 401, description = "Authentication required"), (status = 403, description = "Not an admin")))]
async fn overview(
    State(state): State<AppState>,
    _admin: AdminUser,
    Query(q): Query<AnalyticsQuery>,
) -> AppResult<Response> {
    let window = long_window(&q, &state)?;
    let (window, key) = if window.start.is_none() && window.end.is_none() {
        // The default window ends now: cached per month (every order change drops it anyway).
        let window = Window::this_month(now());
        let month = window
            .start
            .as_ref()
            .map_or(String::new(), |b| b.date.to_string());
        (window, format!("default:{month}"))
    } else {
        let key = window.key();
        (window, key)
    };
    Ok(body(service::overview_body(&state, &window, &key).await?))
}

#[utoipa::path(get, path = "/api/admin/analytics/revenue-trend/", tag = "analytics",
    summary = "Revenue and paid orders per calendar month (IST) over the last months × 30 days, months without revenue left out",
    params(("months" = Option<String>, Query, description = "1 to 24, default 12")),
    responses((status = 200, body = Vec<TrendOut>, description = "`{\"success\": true, \"data\": [...]}`"),
        (status = 400, description = "`{\"success\": false, \"message\": \"Months parameter must be between 1 and 24\"}`"),
        (status = 401, description = "Authentication required"), (status = 403, description = "Not an admin")))]
async fn revenue_trend(
    State(state): State<AppState>,
    _admin: AdminUser,
    Query(q): Query<AnalyticsQuery>,
) -> AppResult<Response> {
    let months = match &q.months {
        None => 12,
        Some(text) => params::integer(text)
            .filter(|m| (1..=24).contains(m))
            .ok_or_else(|| message("Months parameter must be between 1 and 24"))?,
    };
    Ok(body(service::trend_body(&state, months).await?))
}

#[utoipa::path(get, path = "/api/admin/analytics/top-products/", tag = "analytics",
    summary = "The most sold products of paid orders (by quantity), with their revenue",
    params(("limit" = Option<String>, Query, description = "A non-negative integer, default 5"),
        ("start_date" = Option<String>, Query), ("end_date" = Option<String>, Query)),
    responses((status = 200, body = Vec<ProductOut>, description = "`{\"success\": true, \"data\": [...]}`"),
        (status = 400, description = "`{\"success\": false, \"message\"}`"),
        (status = 401, description = "Authentication required"), (status = 403, description = "Not an admin")))]
async fn top_products(
    State(state): State<AppState>,
    _admin: AdminUser,
    Query(q): Query<AnalyticsQuery>,
) -> AppResult<Response> {
    let limit = match &q.limit {
        None => 5,
        Some(text) => params::integer(text)
            .filter(|n| *n >= 0)
            .ok_or_else(|| message("Limit parameter must be a non-negative integer"))?
            .min(MAX_LIMIT),
    };
    let window = short_window(&q, &state)?;
    Ok(body(
        service::top_products_body(&state, &window, limit).await?,
    ))
}

#[utoipa::path(get, path = "/api/admin/analytics/staff-performance/", tag = "analytics",
    summary = "Per staff member and admin: orders assigned (updated in the window), completed, completion rate",
    params(("start_date" = Option<String>, Query), ("end_date" = Option<String>, Query)),
    responses((status = 200, body = Envelope), (status = 400, description = "`{\"success\": false, \"message\"}`"),
        (status = 401, description = "Authentication required"), (status = 403, description = "Not an admin")))]
async fn staff_performance(
    State(state): State<AppState>,
    _admin: AdminUser,
    Query(q): Query<AnalyticsQuery>,
) -> AppResult<Response> {
    let window = short_window(&q, &state)?;
    Ok(body(service::staff_body(&state, &window).await?))
}

#[utoipa::path(get, path = "/api/admin/analytics/order-distribution/", tag = "analytics",
    summary = "Orders created in the window by status (`{status: {label, count}}`, statuses in alphabetical order)",
    params(("start_date" = Option<String>, Query), ("end_date" = Option<String>, Query)),
    responses((status = 200, body = Envelope), (status = 400, description = "`{\"success\": false, \"message\"}`"),
        (status = 401, description = "Authentication required"), (status = 403, description = "Not an admin")))]
async fn order_distribution(
    State(state): State<AppState>,
    _admin: AdminUser,
    Query(q): Query<AnalyticsQuery>,
) -> AppResult<Response> {
    let window = short_window(&q, &state)?;
    Ok(body(service::distribution_body(&state, &window).await?))
}

#[utoipa::path(get, path = "/api/admin/analytics/export/", tag = "analytics",
    summary = "The analytics as CSV (UTF-8, CRLF): revenue, conversion, top 10 products, staff, orders by status (neither date: this month)",
    params(("start_date" = Option<String>, Query), ("end_date" = Option<String>, Query, description = "Both or neither")),
    responses((status = 200, description = "The CSV", content_type = "text/csv"),
        (status = 400, description = "`{\"success\": false, \"message\"}`"),
        (status = 401, description = "Authentication required"), (status = 403, description = "Not an admin")))]
async fn export_csv(
    State(state): State<AppState>,
    _admin: AdminUser,
    Query(q): Query<AnalyticsQuery>,
) -> AppResult<Response> {
    let window = short_window(&q, &state)?;
    let generated = now();
    let window = match (&window.start, &window.end) {
        (None, None) => Window::this_month(generated),
        (Some(_), Some(_)) => window,
        _ => {
            return Err(message(
                "Give both start_date and end_date, or neither (this month)",
            ));
        }
    };
    let (revenue, conversion, products, staff, distribution) = tokio::try_join!(
        service::revenue(&state, &window),
        service::conversion(&state, &window),
        service::top_products(&state, &window, EXPORT_PRODUCTS),
        service::staff(&state, &window),
        service::distribution(&state, &window)
    )?;
    let day = |b: &Option<params::Bound>| b.as_ref().map_or(String::new(), |b| b.date.to_string());
    let zone = state.config.tz_offset;
    let csv = export::render(&Export {
        generated,
        zone,
        start: day(&window.start),
        end: day(&window.end),
        revenue,
        conversion,
        products: &products,
        staff: &staff,
        distribution: &distribution,
    });
    let disposition = format!(
        "attachment; filename=\"{}\"",
        export::filename(generated, zone)
    );
    let mut response = csv.into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/csv; charset=utf-8"),
    );
    if let Ok(value) = HeaderValue::from_str(&disposition) {
        headers.insert(header::CONTENT_DISPOSITION, value);
    }
    Ok(response)
}
