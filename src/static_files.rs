//! `/static/`: assets embedded in the binary (brotli/gzip variants, ETag, content-hashed routes with a
//! year-long `Cache-Control`), or a directory on disk when `STATIC_DIR` is set (development).

use axum::Router;
use memory_serve::{CacheControl, MemoryServe};
use tower_http::services::ServeDir;

use crate::config::Config;

fn embedded() -> MemoryServe {
    memory_serve::load!()
        .index_file(None)
        .enable_gzip(true)
        .enable_brotli(true)
        .enable_hashed_routes(true)
        .cache_control(CacheControl::Medium)
}

/// The router mounted at `/static`.
pub fn router(config: &Config) -> Router {
    match &config.static_dir {
        Some(dir) => Router::new().fallback_service(
            ServeDir::new(dir)
                .precompressed_br()
                .precompressed_gzip()
                .append_index_html_on_directories(false),
        ),
        None => embedded().into_router(),
    }
}

/// The public URL of an asset (its content-hashed route when embedded), e.g.
/// `/static/error.3f9a1c2b7d84e6a0.css` for `/error.css`.
pub fn asset_url(route: &str, static_override: bool) -> String {
    if static_override {
        return format!("/static{route}");
    }
    let manifest = embedded().manifest();
    format!("/static{}", manifest.get(route).unwrap_or(route))
}
