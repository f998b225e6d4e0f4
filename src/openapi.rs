//! The OpenAPI document: `/api/openapi.json` and the `openapi` subcommand.

use axum::Json;
use utoipa::OpenApi;

#[derive(OpenApi)]
#[openapi(
    info(title = "electioncart API", description = "Election-campaign marketplace backend"),
    paths(crate::health::health, crate::health::live, crate::health::ready),
    tags((name = "health", description = "Liveness and readiness"))
)]
pub struct ApiDoc;

pub fn document() -> utoipa::openapi::OpenApi {
    ApiDoc::openapi()
}

pub async fn serve() -> Json<utoipa::openapi::OpenApi> {
    Json(document())
}
