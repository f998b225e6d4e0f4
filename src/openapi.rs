//! The OpenAPI document's frame: title, description and tags. Its paths and schemas are generated
//! from the handlers' `#[utoipa::path]` attributes, collected by each feature's `OpenApiRouter`
//! (`router::api_routes`), so what is documented is exactly what is routed. Served at
//! `/api/openapi.json` and printed by the `openapi` subcommand.

use utoipa::OpenApi;

#[derive(OpenApi)]
#[openapi(
    info(title = "electioncart API", description = "Election-campaign marketplace backend"),
    modifiers(&BearerAuth),
    tags(
        (name = "health", description = "Liveness and readiness"),
        (name = "auth", description = "Log in, sign up, the signed-in user"),
        (name = "users", description = "User management (admin)"),
        (name = "catalog", description = "Public packages and campaigns"),
        (name = "admin-catalog", description = "Catalog management (admin)"),
        (name = "files", description = "Product images"),
        (name = "admin", description = "Operations (admin)"),
    )
)]
pub struct ApiDoc;

/// `Authorization: Bearer <JWT>`, the one scheme every protected route accepts.
struct BearerAuth;

impl utoipa::Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("JWT")
                    .build(),
            ),
        );
    }
}
