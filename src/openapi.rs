//! The OpenAPI document: `/api/openapi.json` and the `openapi` subcommand.
//!
//! Health routes carry full schemas (`#[utoipa::path]`); every other route is listed from [`ROUTES`]
//! with its method, path parameters, tag and summary, so tools such as schemathesis can exercise the
//! whole API. A test checks that each listed route is really served.

use axum::Json;
use utoipa::{
    OpenApi,
    openapi::{
        Content, Required,
        path::{HttpMethod, OperationBuilder, ParameterBuilder, ParameterIn},
        request_body::RequestBodyBuilder,
        response::ResponseBuilder,
        schema::{ObjectBuilder, Type},
    },
};

#[derive(OpenApi)]
#[openapi(
    info(title = "electioncart API", description = "Election-campaign marketplace backend"),
    paths(crate::health::health, crate::health::live, crate::health::ready),
    tags((name = "health", description = "Liveness and readiness"))
)]
pub struct ApiDoc;

/// `(method, path, tag, summary)` of every route outside `/health`.
pub const ROUTES: &[(&str, &str, &str, &str)] = &[
    (
        "post",
        "/api/auth/login/",
        "auth",
        "Log in (5/min per client IP)",
    ),
    (
        "post",
        "/api/auth/signup/",
        "auth",
        "Create a customer account (3/hour per client IP)",
    ),
    ("get", "/api/auth/me/", "auth", "The signed-in user"),
    (
        "get",
        "/api/auth/users/",
        "auth",
        "Users (admin; ?role=&search=)",
    ),
    (
        "post",
        "/api/auth/users/create/",
        "auth",
        "Create a user (admin)",
    ),
    (
        "patch",
        "/api/auth/users/{id}/role/",
        "auth",
        "Change a user's role (admin)",
    ),
    (
        "delete",
        "/api/auth/users/{id}/",
        "auth",
        "Deactivate a user (admin)",
    ),
    (
        "get",
        "/api/packages/",
        "catalog",
        "Active packages, 20 per page (?page=)",
    ),
    (
        "get",
        "/api/packages/popular/",
        "catalog",
        "Popular packages (at most 3)",
    ),
    (
        "get",
        "/api/packages/{id}/",
        "catalog",
        "One active package",
    ),
    (
        "get",
        "/api/campaigns/",
        "catalog",
        "Active campaigns, 20 per page (?page=)",
    ),
    (
        "get",
        "/api/campaigns/popular/",
        "catalog",
        "Popular campaigns (at most 3)",
    ),
    (
        "get",
        "/api/campaigns/{id}/",
        "catalog",
        "One active campaign",
    ),
    (
        "get",
        "/api/products/{product_type}/{product_id}/images/",
        "catalog",
        "A product's images",
    ),
    (
        "get",
        "/api/admin/products/",
        "admin-catalog",
        "All products (?search=&type=)",
    ),
    (
        "post",
        "/api/admin/products/{product_type}/",
        "admin-catalog",
        "Create a package or campaign",
    ),
    (
        "get",
        "/api/admin/products/{product_type}/{id}/",
        "admin-catalog",
        "One product",
    ),
    (
        "put",
        "/api/admin/products/{product_type}/{id}/update/",
        "admin-catalog",
        "Update a product",
    ),
    (
        "delete",
        "/api/admin/products/{product_type}/{id}/delete/",
        "admin-catalog",
        "Delete a product",
    ),
    (
        "patch",
        "/api/admin/products/{product_type}/{id}/toggle-status/",
        "admin-catalog",
        "Activate or deactivate",
    ),
    (
        "get",
        "/api/admin/products/{product_type}/{id}/audit-logs/",
        "admin-catalog",
        "A product's audit log",
    ),
    (
        "post",
        "/api/admin/products/{product_type}/{id}/images/",
        "admin-catalog",
        "Upload an image (multipart `image`)",
    ),
    (
        "patch",
        "/api/admin/products/images/reorder/",
        "admin-catalog",
        "Reorder images",
    ),
    (
        "patch",
        "/api/admin/products/images/{id}/set-primary/",
        "admin-catalog",
        "Make an image primary",
    ),
    (
        "get",
        "/api/admin/products/images/{id}/",
        "admin-catalog",
        "One image",
    ),
    (
        "put",
        "/api/admin/products/images/{id}/",
        "admin-catalog",
        "Update an image's alt text, order or primary flag",
    ),
    (
        "patch",
        "/api/admin/products/images/{id}/",
        "admin-catalog",
        "Update an image partially",
    ),
    (
        "delete",
        "/api/admin/products/images/{id}/",
        "admin-catalog",
        "Delete an image",
    ),
    (
        "get",
        "/api/admin/products/{product_type}/{id}/resource-fields/",
        "admin-catalog",
        "A product's resource fields",
    ),
    (
        "post",
        "/api/admin/products/{product_type}/{id}/resource-fields/",
        "admin-catalog",
        "Add a resource field",
    ),
    (
        "patch",
        "/api/admin/products/resource-fields/reorder/",
        "admin-catalog",
        "Reorder resource fields",
    ),
    (
        "get",
        "/api/admin/products/resource-fields/{id}/",
        "admin-catalog",
        "One resource field",
    ),
    (
        "put",
        "/api/admin/products/resource-fields/{id}/",
        "admin-catalog",
        "Replace a resource field",
    ),
    (
        "delete",
        "/api/admin/products/resource-fields/{id}/",
        "admin-catalog",
        "Delete a resource field",
    ),
    (
        "get",
        "/api/admin/products/{product_type}/{id}/checklist-template/",
        "admin-catalog",
        "A product's checklist template",
    ),
    (
        "post",
        "/api/admin/products/{product_type}/{id}/checklist-template/",
        "admin-catalog",
        "Add a checklist item",
    ),
    (
        "patch",
        "/api/admin/products/checklist-template/reorder/",
        "admin-catalog",
        "Reorder checklist items",
    ),
    (
        "get",
        "/api/admin/products/checklist-template/{id}/",
        "admin-catalog",
        "One checklist item",
    ),
    (
        "put",
        "/api/admin/products/checklist-template/{id}/",
        "admin-catalog",
        "Replace a checklist item",
    ),
    (
        "patch",
        "/api/admin/products/checklist-template/{id}/",
        "admin-catalog",
        "Update a checklist item partially",
    ),
    (
        "delete",
        "/api/admin/products/checklist-template/{id}/",
        "admin-catalog",
        "Delete a checklist item",
    ),
    (
        "patch",
        "/api/admin/products/packages/{id}/toggle-popular/",
        "admin-catalog",
        "Toggle a package's popular flag",
    ),
    (
        "patch",
        "/api/admin/products/campaigns/{id}/toggle-popular/",
        "admin-catalog",
        "Toggle a campaign's popular flag",
    ),
    (
        "patch",
        "/api/admin/products/packages/reorder-popular/",
        "admin-catalog",
        "Reorder popular packages",
    ),
    (
        "patch",
        "/api/admin/products/campaigns/reorder-popular/",
        "admin-catalog",
        "Reorder popular campaigns",
    ),
    (
        "get",
        "/api/admin/cache/status/",
        "admin",
        "Cache statistics (admin)",
    ),
    (
        "get",
        "/api/secure-files/images/{id}/",
        "files",
        "A product image for a signed-in user (header or ?token=)",
    ),
];

fn method(name: &str) -> HttpMethod {
    match name {
        "post" => HttpMethod::Post,
        "put" => HttpMethod::Put,
        "patch" => HttpMethod::Patch,
        "delete" => HttpMethod::Delete,
        _ => HttpMethod::Get,
    }
}

/// The names of `{…}` segments in a path.
pub fn path_params(path: &str) -> Vec<&str> {
    path.split('/')
        .filter_map(|seg| seg.strip_prefix('{').and_then(|s| s.strip_suffix('}')))
        .collect()
}

pub fn document() -> utoipa::openapi::OpenApi {
    let mut doc = ApiDoc::openapi();
    for (verb, path, tag, summary) in ROUTES {
        let mut operation = OperationBuilder::new()
            .tag(*tag)
            .summary(Some(*summary))
            .response("200", ResponseBuilder::new().description("Success"))
            .response("400", ResponseBuilder::new().description("Invalid input"))
            .response(
                "401",
                ResponseBuilder::new().description("Authentication required"),
            )
            .response("403", ResponseBuilder::new().description("Not allowed"))
            .response("404", ResponseBuilder::new().description("Not found"));
        if matches!(*verb, "post" | "put" | "patch") && !path.ends_with("/images/") {
            // A JSON object (the field rules are in the contract; the server validates them).
            operation = operation.request_body(Some(
                RequestBodyBuilder::new()
                    .content(
                        "application/json",
                        Content::new(Some(ObjectBuilder::new().schema_type(Type::Object))),
                    )
                    .build(),
            ));
        }
        for name in path_params(path) {
            operation = operation.parameter(
                ParameterBuilder::new()
                    .name(name)
                    .parameter_in(ParameterIn::Path)
                    .required(Required::True)
                    .schema(Some(ObjectBuilder::new().schema_type(Type::String))),
            );
        }
        doc.paths
            .add_path_operation(path, vec![method(verb)], operation.build());
    }
    doc
}

pub async fn serve() -> Json<utoipa::openapi::OpenApi> {
    Json(document())
}
