//! `build_router(state)`: every route, the fallbacks and the middleware stack. Pure: no listener.
//!
//! [`api_routes`] lists every feature's router. Each is an `OpenApiRouter` whose handlers carry
//! `#[utoipa::path]`, so the OpenAPI document is generated from what is routed (D: no hand table).

use std::{
    convert::Infallible,
    future::Ready,
    sync::{Arc, OnceLock},
    task::{Context, Poll},
};

use axum::{
    Json, Router,
    extract::State,
    http::{HeaderValue, Request, Uri, header},
    response::{IntoResponse, Response},
    routing::future::RouteFuture,
};
use futures_util::future::Either;
use tower::Service;
use utoipa::OpenApi;
use utoipa_axum::{router::OpenApiRouter, routes};

use crate::{
    analytics, auth, cart, catalog, error::AppError, fulfilment, health, invoices,
    metrics::RouteName, middleware, middleware::security_headers::is_api_path, notifications,
    openapi, orders, payments, resources, state::AppState, static_files,
};

/// Every documented route: the platform's, then each feature's `router()`.
pub fn api_routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::with_openapi(openapi::ApiDoc::openapi())
        .routes(routes!(root))
        .routes(routes!(health::health))
        .routes(routes!(health::live))
        .routes(routes!(health::ready))
        .routes(routes!(health::metrics))
        .routes(routes!(openapi_json))
        .merge(auth::router())
        .merge(catalog::router())
        .merge(cart::router())
        .merge(orders::router())
        .merge(payments::router())
        .merge(resources::router())
        .merge(invoices::router())
        .merge(notifications::router())
        .merge(fulfilment::router())
        .merge(analytics::router())
        .routes(routes!(health::cache_status))
        .merge(crate::uploads::media_router())
}

/// The OpenAPI document of [`api_routes`].
pub fn openapi_document() -> utoipa::openapi::OpenApi {
    api_routes().into_openapi()
}

pub fn build_router(state: AppState) -> Router {
    let routes: Router<AppState> = api_routes().into();
    // The embedded assets are answered before routing ([`App`]); files from `STATIC_DIR` (and the
    // embedded router, should its answers not load) are mounted as a router.
    let assets = match &state.config.static_dir {
        Some(_) => None,
        None => static_files::Embedded::load().map(Arc::new),
    };
    let routes = match (&state.config.static_dir, &assets) {
        (Some(dir), _) => routes.nest_service(static_files::PREFIX, static_files::dir_router(dir)),
        (None, None) => {
            tracing::warn!("embedded assets not preloaded; serving them through their router");
            routes.nest_service(static_files::PREFIX, static_files::embedded_router())
        }
        (None, Some(_)) => routes,
    };
    let routes = routes.fallback(not_found);
    let router = middleware::routed(routes, &state).with_state(state.clone());
    middleware::apply_service(App { router, assets }, &state)
}

/// The app below the middleware stack: an embedded asset is answered from its table; anything
/// else has its path normalised (D9: `/x` and `/x/` are the same resource, never a redirect) and
/// goes to the router.
#[derive(Clone)]
struct App {
    router: Router,
    assets: Option<Arc<static_files::Embedded>>,
}

/// The route name of the embedded assets (access log, metrics).
const STATIC_ROUTE: &str = "/static/{*path}";

impl<B> Service<Request<B>> for App
where
    B: axum::body::HttpBody<Data = axum::body::Bytes> + Send + 'static,
    B::Error: Into<axum::BoxError>,
{
    type Response = Response;
    type Error = Infallible;
    type Future = Either<Ready<Result<Response, Infallible>>, RouteFuture<Infallible>>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: Request<B>) -> Self::Future {
        if let Some(mut response) = self.assets.as_ref().and_then(|a| a.answer(&request)) {
            response
                .extensions_mut()
                .insert(RouteName::Fixed(STATIC_ROUTE));
            return Either::Left(std::future::ready(Ok(response)));
        }
        let request = append_slash(request.map(axum::body::Body::new));
        Either::Right(self.router.call(request))
    }
}

/// Appends `/` to paths whose last segment has no file extension (`/api/auth/login` → `/api/auth/login/`;
/// `/static/error.css` and `/api/openapi.json` stay as they are).
fn append_slash<B>(mut request: axum::http::Request<B>) -> axum::http::Request<B> {
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

/// `/api/openapi.json`: rendered once, on first request.
#[utoipa::path(get, path = "/api/openapi.json", tag = "health", summary = "This document",
    responses((status = 200, description = "OpenAPI 3.1", content_type = "application/json")))]
async fn openapi_json() -> Response {
    static DOCUMENT: OnceLock<String> = OnceLock::new();
    let body = DOCUMENT.get_or_init(|| {
        openapi_document()
            .to_json()
            .unwrap_or_else(|_| "{}".to_string())
    });
    (
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        )],
        body.as_str(),
    )
        .into_response()
}

#[utoipa::path(get, path = "/", tag = "health", summary = "Service name and links",
    responses((status = 200, description = "Service name, status and links")))]
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
