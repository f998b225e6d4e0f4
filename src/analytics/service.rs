//! The analytics reports (contract-B §8.5, §11.1), each computed by the database and cached per
//! normalised query as its rendered body (contract-B §11.4's recommendation, D21) under the
//! order-derived prefix, so [`crate::orders::derived`] drops them on every order, payment, status
//! or assignment change. They are kept in the shared tiers only (no per-instance L1): a change
//! made through one instance is seen by the very next read on any other.

use std::future::Future;

use serde_json::{Value, json};
use time::{Duration, OffsetDateTime};

use crate::{
    analytics::{
        model::{Conversion, ProductOut, Rate, Revenue, StaffOut, TrendOut, distribution_json},
        params::{self, Window},
        repo,
    },
    cache::{CacheOptions, CachedJson},
    db::now,
    error::{AppError, AppResult},
    orders::{derived, status},
    state::AppState,
};

/// The revenue trend's window: `months × 30 days` back from now (the original's rule).
const DAYS_PER_MONTH: i64 = 30;
/// Rows the dashboard's trend shows.
const DASHBOARD_MONTHS: i64 = 12;

/// The cache key of one report for one normalised query.
pub fn key(report: &str, query: &str) -> String {
    format!("{}analytics:{report}:{query}", derived::PREFIX)
}

/// The rendered `{"success": true, "data": …}` body of `key`, computed on a miss.
async fn cached<F>(state: &AppState, key: &str, compute: F) -> AppResult<CachedJson>
where
    F: Future<Output = AppResult<Value>>,
{
    let options = CacheOptions::new(state.cache.default_ttl()).without_l1();
    state
        .cache
        .get_or_compute_json_with(key, options, async {
            let data = compute.await?;
            CachedJson::render(&json!({"success": true, "data": data})).map_err(|e| {
                AppError::Internal(anyhow::Error::new(e).context("rendering an analytics body"))
            })
        })
        .await
}

/// The window's ends; an open end is the first or last representable day.
fn bounds(window: &Window) -> (OffsetDateTime, OffsetDateTime) {
    (
        window.lo().unwrap_or(params::EARLIEST),
        window.hi().unwrap_or(params::LATEST),
    )
}

pub async fn revenue(state: &AppState, window: &Window) -> AppResult<Revenue> {
    let (order_count, revenue_paise) = repo::revenue(&state.db, bounds(window)).await?;
    Ok(Revenue {
        order_count,
        revenue_paise,
    })
}

pub async fn conversion(state: &AppState, window: &Window) -> AppResult<Conversion> {
    let (total_orders, paid_orders) = repo::conversion(&state.db, bounds(window)).await?;
    Ok(Conversion {
        total_orders,
        paid_orders,
    })
}

pub async fn distribution(state: &AppState, window: &Window) -> AppResult<Vec<(String, i64)>> {
    Ok(repo::distribution(&state.db, bounds(window)).await?)
}

/// Revenue orders of the last `months × 30` days, by calendar month in the shop's zone, months
/// without revenue left out.
pub async fn trend(state: &AppState, months: i64) -> AppResult<Vec<TrendOut>> {
    let end = now();
    let start = end - Duration::days(months * DAYS_PER_MONTH);
    let minutes = i32::from(state.config.tz_offset.whole_minutes());
    let rows = repo::trend(&state.db, (start, end), minutes).await?;
    Ok(rows.iter().map(TrendOut::new).collect())
}

pub async fn top_products(
    state: &AppState,
    window: &Window,
    limit: i64,
) -> AppResult<Vec<ProductOut>> {
    let rows = repo::top_products(&state.db, bounds(window), limit).await?;
    Ok(rows.iter().map(ProductOut::new).collect())
}

pub async fn staff(state: &AppState, window: &Window) -> AppResult<Vec<StaffOut>> {
    let rows = repo::staff(&state.db, bounds(window)).await?;
    Ok(rows.iter().map(StaffOut::new).collect())
}

/// `GET /api/admin/analytics/overview/`.
pub async fn overview_body(
    state: &AppState,
    window: &Window,
    key_part: &str,
) -> AppResult<CachedJson> {
    cached(state, &key("overview", key_part), async {
        let (revenue, conversion, distribution) = tokio::try_join!(
            revenue(state, window),
            conversion(state, window),
            distribution(state, window)
        )?;
        let range = if window.start.is_none() && window.end.is_none() {
            Value::Null
        } else {
            json!({
                "start_date": window.start.as_ref().map(|b| b.echo.clone()),
                "end_date": window.end.as_ref().map(|b| b.echo.clone()),
            })
        };
        Ok(json!({
            "revenue": revenue.to_json(),
            "conversion": conversion.to_json(),
            "order_distribution": distribution_json(&distribution),
            "date_range": range,
        }))
    })
    .await
}

/// `GET /api/admin/analytics/revenue-trend/`.
pub async fn trend_body(state: &AppState, months: i64) -> AppResult<CachedJson> {
    cached(state, &key("revenue-trend", &months.to_string()), async {
        Ok(json!(trend(state, months).await?))
    })
    .await
}

/// `GET /api/admin/analytics/top-products/`.
pub async fn top_products_body(
    state: &AppState,
    window: &Window,
    limit: i64,
) -> AppResult<CachedJson> {
    let query = format!("{}|{limit}", window.key());
    cached(state, &key("top-products", &query), async {
        Ok(json!(top_products(state, window, limit).await?))
    })
    .await
}

/// `GET /api/admin/analytics/staff-performance/`.
pub async fn staff_body(state: &AppState, window: &Window) -> AppResult<CachedJson> {
    cached(state, &key("staff-performance", &window.key()), async {
        let rows = staff(state, window).await?;
        Ok(Value::Array(rows.iter().map(StaffOut::to_json).collect()))
    })
    .await
}

/// `GET /api/admin/analytics/order-distribution/`.
pub async fn distribution_body(state: &AppState, window: &Window) -> AppResult<CachedJson> {
    cached(state, &key("order-distribution", &window.key()), async {
        Ok(distribution_json(&distribution(state, window).await?))
    })
    .await
}

/// `GET /api/admin/analytics/`: the admin SPA's page (clients.md §2.9), over all orders unless a
/// window is given: revenue and average of revenue orders, all orders, the share completed, the
/// last 12 months' trend and the orders by status — the same formulas as the six routes. The body
/// is the bare object the page reads (no envelope).
pub async fn dashboard_body(state: &AppState, window: &Window) -> AppResult<CachedJson> {
    let options = CacheOptions::new(state.cache.default_ttl()).without_l1();
    state
        .cache
        .get_or_compute_json_with(&key("dashboard", &window.key()), options, async {
            let (revenue, conversion, completed, distribution, trend) = tokio::try_join!(
                revenue(state, window),
                conversion(state, window),
                async { Ok(repo::completed(&state.db, bounds(window)).await?) },
                distribution(state, window),
                trend(state, DASHBOARD_MONTHS)
            )?;
            let as_number = |rate: Rate| match rate {
                Rate::Zero => 0.0,
                Rate::Percent(p) => p,
            };
            let body = json!({
                "total_revenue": revenue.total(),
                "total_orders": conversion.total_orders,
                "paid_orders": conversion.paid_orders,
                "revenue_orders": revenue.order_count,
                "avg_order_value": revenue.average(),
                "completion_rate": as_number(Rate::of(completed, conversion.total_orders)),
                "conversion_rate": as_number(conversion.rate()),
                "revenue_trend": trend.iter().map(|t| json!({
                    "date": t.month,
                    "month_label": t.month_label,
                    "revenue": t.revenue,
                    "order_count": t.order_count,
                })).collect::<Vec<_>>(),
                "order_distribution": distribution.iter().map(|(s, count)| json!({
                    "status": s,
                    "label": status::display(s),
                    "count": count,
                })).collect::<Vec<_>>(),
            });
            CachedJson::render(&body).map_err(|e| {
                AppError::Internal(anyhow::Error::new(e).context("rendering the analytics page"))
            })
        })
        .await
}
