//! `GET /api/admin/cache/status/` (admin): the cache's tier, counters and settings (D21).

use axum::{Json, Router, extract::State, routing::get};

use super::CacheStats;
use crate::{app::AppState, auth::AdminUser};

/// Nested under `/api` by the application router.
pub fn router() -> Router<AppState> {
    Router::new().route("/admin/cache/status/", get(cache_status))
}

/// Cache status: tier in use, Redis state, hits, misses, errors, entries, TTL.
#[utoipa::path(get, path = "/api/admin/cache/status/", tag = "admin",
    responses((status = 200, body = CacheStats), (status = 401), (status = 403)))]
pub async fn cache_status(State(state): State<AppState>, _admin: AdminUser) -> Json<CacheStats> {
    Json(state.cache.status().await)
}
