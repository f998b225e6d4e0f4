//! `/health/` (contract-A §2.12 shapes plus an additive `cache` object), `/health/live`, `/health/ready`,
//! and the admin's `GET /api/admin/cache/status/` (the same cache figures, exact entry counts, D21).

use std::time::Duration;

use axum::{
    Json,
    extract::State,
    http::{HeaderMap, HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
};
use serde::Serialize;
use subtle::ConstantTimeEq;
use time::OffsetDateTime;

use crate::{
    auth::AdminUser,
    cache::CacheStats,
    metrics::{Metrics, Snapshot},
    state::AppState,
    timefmt::iso_utc,
};

/// A health check must answer well inside Railway's probe timeout even when the database hangs.
const DB_PING_TIMEOUT: Duration = Duration::from_millis(1500);
pub const SERVICE_NAME: &str = "election-cart-api";

#[derive(Serialize, utoipa::ToSchema)]
pub struct Healthy {
    status: &'static str,
    service: &'static str,
    database: &'static str,
    memory_mb: f64,
    memory_warning: bool,
    timestamp: String,
    cache: CacheStats,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct Unhealthy {
    status: &'static str,
    service: &'static str,
    database: &'static str,
    error: &'static str,
    timestamp: String,
    cache: CacheStats,
}

/// Health check: database reachable and memory use.
#[utoipa::path(get, path = "/health/", tag = "health",
    responses((status = 200, body = Healthy), (status = 503, body = Unhealthy)))]
pub async fn health(State(state): State<AppState>) -> axum::response::Response {
    let ping = state.db.ping(DB_PING_TIMEOUT).await;
    let timestamp = iso_utc(OffsetDateTime::now_utc());
    let cache = state.cache.stats();
    match ping {
        Ok(()) => {
            let memory_mb = (rss_bytes() as f64 / 1_048_576.0 * 100.0).round() / 100.0;
            let memory_warning = memory_mb > state.config.memory_warning_mb;
            if memory_warning {
                tracing::warn!(memory_mb, "memory use above the warning threshold");
            }
            Json(Healthy {
                status: "healthy",
                service: SERVICE_NAME,
                database: "connected",
                memory_mb,
                memory_warning,
                timestamp,
                cache,
            })
            .into_response()
        }
        Err(error) => {
            // The reason goes to the log only: the body must not reveal hosts or database names (D10).
            tracing::error!(%error, "health check: database unavailable");
            let error = match error {
                crate::db::PingError::Timeout => "database did not respond in time",
                crate::db::PingError::Failed(_) => "database unavailable",
            };
            (
                StatusCode::SERVICE_UNAVAILABLE,
                Json(Unhealthy {
                    status: "unhealthy",
                    service: SERVICE_NAME,
                    database: "disconnected",
                    error,
                    timestamp,
                    cache,
                }),
            )
                .into_response()
        }
    }
}

/// Liveness: the process answers. Never touches the database.
#[utoipa::path(get, path = "/health/live/", tag = "health", responses((status = 200)))]
pub async fn live() -> Json<serde_json::Value> {
    Json(serde_json::json!({ "status": "alive", "service": SERVICE_NAME }))
}

/// Readiness: the database answers.
#[utoipa::path(get, path = "/health/ready/", tag = "health", responses((status = 200), (status = 503)))]
pub async fn ready(State(state): State<AppState>) -> axum::response::Response {
    match state.db.ping(DB_PING_TIMEOUT).await {
        Ok(()) => {
            Json(serde_json::json!({ "status": "ready", "database": "connected" })).into_response()
        }
        Err(error) => {
            tracing::warn!(%error, "readiness: database unavailable");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                Json(serde_json::json!({ "status": "not ready", "database": "disconnected" })),
            )
                .into_response()
        }
    }
}

/// Resident set size of this process in bytes (0 where /proc is unavailable).
pub fn rss_bytes() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|kb| kb.parse::<u64>().ok())
        })
        .map_or(0, |kb| kb * 1024)
}

/// Cache status: tier in use, Redis state, hits, misses, errors, entries, TTL.
#[utoipa::path(get, path = "/api/admin/cache/status/", tag = "admin",
    responses((status = 200, body = CacheStats), (status = 401), (status = 403)))]
pub async fn cache_status(State(state): State<AppState>, _admin: AdminUser) -> Json<CacheStats> {
    Json(state.cache.status().await)
}

/// Prometheus metrics on the main port: only with `METRICS_TOKEN` set, and only for
/// `Authorization: Bearer <METRICS_TOKEN>` (401 otherwise); without it the path does not exist
/// here (404) — the `METRICS_ADDR` listener serves it to the private network instead.
#[utoipa::path(get, path = "/metrics/", tag = "health",
    summary = "Prometheus metrics (with METRICS_TOKEN as a bearer token; else 404)",
    responses((status = 200, description = "Prometheus text format 0.0.4", content_type = "text/plain"),
        (status = 401, description = "No or another bearer token"),
        (status = 404, description = "METRICS_TOKEN is not set")))]
pub async fn metrics(State(state): State<AppState>, headers: HeaderMap) -> Response {
    let (Some(metrics), Some(token)) = (&state.metrics, &state.config.metrics_token) else {
        return state.pages.not_found();
    };
    let presented = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .unwrap_or("");
    if !bool::from(presented.as_bytes().ct_eq(token.expose().as_bytes())) {
        return (
            StatusCode::UNAUTHORIZED,
            [(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"))],
            "metrics: bearer token required\n",
        )
            .into_response();
    }
    metrics_body(&state, metrics)
}

/// The scrape: the request metrics and what the other parts count now.
pub fn metrics_body(state: &AppState, metrics: &Metrics) -> Response {
    let cache = state.cache.stats();
    let snapshot = Snapshot {
        cache_tier: cache.tier.to_string(),
        cache_l1_hits: cache.l1_hits,
        cache_hits: cache.hits,
        cache_misses: cache.misses,
        cache_errors: cache.errors,
        cache_entries: cache.entries,
        rate_limited: state.limiter.refusals(),
        db_pools: state.db.pool_stats(),
        blocking_queued: vec![
            ("hasher", state.passwords.pool().queued()),
            ("documents", state.documents.pool.queued()),
            ("images", state.uploads.image_pool.queued()),
        ],
        sse_clients: state.events.streams(),
    };
    (
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/plain; version=0.0.4; charset=utf-8"),
        )],
        metrics.render(&snapshot),
    )
        .into_response()
}

/// The `METRICS_ADDR` listener's one page: `/metrics` without a token (the listener is meant for
/// a private network), 404 for anything else.
pub async fn private_metrics(State(state): State<AppState>, uri: axum::http::Uri) -> Response {
    match (&state.metrics, uri.path().trim_end_matches('/')) {
        (Some(metrics), "/metrics") => metrics_body(&state, metrics),
        _ => (StatusCode::NOT_FOUND, "not found\n").into_response(),
    }
}
