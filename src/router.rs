//! `build_router(state)`: every route, the fallbacks and the middleware stack. Pure: no listener.

use axum::{
    Json, Router,
    extract::{Request, State},
    http::Uri,
    response::{IntoResponse, Response},
    routing::get,
};
use tower::ServiceBuilder;

use crate::{
    auth, catalog, error::AppError, health, middleware, middleware::security_headers::is_api_path,
    openapi, state::AppState, static_files,
};

pub fn build_router(state: AppState) -> Router {
    let routes = Router::new()
        .route("/", get(root))
        .route("/health/", get(health::health))
        .route("/health/live/", get(health::live))
        .route("/health/ready/", get(health::ready))
        .route("/api/openapi.json", get(openapi::serve))
        .nest("/api/auth", auth::router())
        .nest("/api", catalog::router())
        .route("/api/admin/cache/status/", get(health::cache_status))
        .merge(crate::uploads::media_router())
        .nest_service("/static", static_files::router(&state.config))
        .fallback(not_found)
        .with_state(state.clone());

    // D9: `/x` and `/x/` are the same resource. The path is normalised before routing (an outer
    // router whose only job is to hand every request to the inner one), never with a redirect.
    let normalised = ServiceBuilder::new()
        .map_request(append_slash)
        .service(routes);
    let app = Router::new().fallback_service(normalised);
    middleware::apply(app, &state)
}

/// Appends `/` to paths whose last segment has no file extension (`/api/auth/login` → `/api/auth/login/`;
/// `/static/error.css` and `/api/openapi.json` stay as they are).
fn append_slash(mut request: Request) -> Request {
    let uri = request.uri();
    let path = uri.path();
    let last = path.rsplit('/').next().unwrap_or("");
    if path.ends_with('/') || last.contains('.') || path.starts_with("/static/") {
        return request;
    }
    let rebuilt = match uri.query() {
        Some(q) => format!("{path}/?{q}"),
        None => format!("{path}/"),
    };
    if let Ok(new_uri) = rebuilt.parse::<Uri>() {
        *request.uri_mut() = new_uri;
    }
    request
}

async fn root() -> Json<serde_json::Value> {
    Json(serde_json::json!({
        "service": health::SERVICE_NAME,
        "status": "ok",
        "health": "/health/",
        "docs": "/api/openapi.json",
    }))
}

/// Unknown `/api/…` → JSON `{"detail":"Not found."}`; anything else → the HTML 404 page (D10).
async fn not_found(State(state): State<AppState>, uri: Uri) -> Response {
    if is_api_path(uri.path()) {
        AppError::not_found().into_response()
    } else {
        state.pages.not_found()
    }
}
