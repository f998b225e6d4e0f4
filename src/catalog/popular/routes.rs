//! Popular flags (contract-A §4.7, contract-B §8.6): toggle and reorder the homepage's "popular"
//! packages and campaigns. Admin role only (D14). Errors use `{"error":…}`.

use axum::{Json, extract::State, http::StatusCode};
use serde_json::Value;

use utoipa_axum::{router::OpenApiRouter, routes};

use crate::{
    auth::AdminUser,
    catalog::{
        model::{ProductOut, ProductType},
        popular::repo::{self as popular_repo, MAX_POPULAR, Toggled},
        products::{repo, service},
    },
    error::{AppError, AppResult},
    extract::{BaseUrl, ErrorBody, Pk},
    in_tx,
    state::AppState,
    validation::id_list,
};

/// Literal `packages`/`campaigns` segments win over the `{product_type}/{id}/` admin routes.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(toggle_package))
        .routes(routes!(toggle_campaign))
        .routes(routes!(reorder_packages))
        .routes(routes!(reorder_campaigns))
}

fn not_found(kind: ProductType) -> AppError {
    AppError::Error(
        StatusCode::NOT_FOUND,
        format!("{} not found", kind.model_name()),
    )
}

/// Flips the flag, then answers with the product's full read shape.
async fn toggle(
    state: &AppState,
    kind: ProductType,
    id: i64,
    base: &str,
    admin_id: i64,
) -> AppResult<ProductOut> {
    match in_tx!(state.db, |tx| popular_repo::toggle(&mut tx, kind, id)).await? {
        Toggled::NotFound => return Err(not_found(kind)),
        Toggled::LimitReached => {
            return Err(AppError::Error(
                StatusCode::BAD_REQUEST,
                format!(
                    "Maximum {MAX_POPULAR} {} can be marked as popular. Please unmark one first.",
                    kind.plural()
                ),
            ));
        }
        Toggled::Now(popular) => {
            crate::catalog::invalidate(state, kind).await;
            tracing::info!(
                product_type = kind.as_str(),
                id,
                popular,
                by = admin_id,
                "popular flag toggled"
            );
        }
    }
    let row = repo::get(&state.db, kind, id)
        .await?
        .ok_or_else(|| not_found(kind))?;
    Ok(service::render_one(state, kind, &row, base).await?)
}

#[utoipa::path(patch, path = "/api/admin/products/packages/{pk}/toggle-popular/", tag = "admin-catalog", summary = "Toggle a package's popular flag", params(("pk" = i64, Path)), responses((status = 200, body = ProductOut), (status = 400, description = "Invalid input"), (status = 401, description = "Authentication required"), (status = 403, description = "Admin role required"), (status = 404, description = "Not found")))]
async fn toggle_package(
    State(state): State<AppState>,
    AdminUser(admin): AdminUser,
    BaseUrl(base): BaseUrl,
    Pk(pk): Pk,
) -> AppResult<Json<ProductOut>> {
    Ok(Json(
        toggle(&state, ProductType::Package, pk, &base, admin.id).await?,
    ))
}

#[utoipa::path(patch, path = "/api/admin/products/campaigns/{pk}/toggle-popular/", tag = "admin-catalog", summary = "Toggle a campaign's popular flag", params(("pk" = i64, Path)), responses((status = 200, body = ProductOut), (status = 400, description = "Invalid input"), (status = 401, description = "Authentication required"), (status = 403, description = "Admin role required"), (status = 404, description = "Not found")))]
async fn toggle_campaign(
    State(state): State<AppState>,
    AdminUser(admin): AdminUser,
    BaseUrl(base): BaseUrl,
    Pk(pk): Pk,
) -> AppResult<Json<ProductOut>> {
    Ok(Json(
        toggle(&state, ProductType::Campaign, pk, &base, admin.id).await?,
    ))
}

/// `{"order":[id, …]}` → every popular product of the type (active or not), in the new order.
async fn reorder(
    state: &AppState,
    kind: ProductType,
    body: &Value,
    base: &str,
    admin_id: i64,
) -> AppResult<Vec<ProductOut>> {
    let ids = match body.get("order") {
        Some(order @ Value::Array(list)) if !list.is_empty() => id_list(order).map_err(|_| {
            AppError::Error(
                StatusCode::BAD_REQUEST,
                "Order must be a list of product ids".into(),
            )
        })?,
        _ => {
            return Err(AppError::Error(
                StatusCode::BAD_REQUEST,
                "Order array is required".into(),
            ));
        }
    };
    in_tx!(state.db, |tx| popular_repo::reorder(&mut tx, kind, &ids)).await?;
    crate::catalog::invalidate(state, kind).await;
    tracing::info!(
        product_type = kind.as_str(),
        by = admin_id,
        "popular order changed"
    );
    let rows = repo::popular_all(&state.db, kind).await?;
    Ok(service::render(state, kind, &rows, base).await?)
}

#[utoipa::path(patch, path = "/api/admin/products/packages/reorder-popular/", tag = "admin-catalog", summary = "Reorder popular packages", request_body = crate::catalog::model::PopularOrderIn, responses((status = 200, body = Vec<ProductOut>), (status = 400, description = "Invalid input"), (status = 401, description = "Authentication required"), (status = 403, description = "Admin role required")))]
async fn reorder_packages(
    State(state): State<AppState>,
    AdminUser(admin): AdminUser,
    BaseUrl(base): BaseUrl,
    ErrorBody(body): ErrorBody<Value>,
) -> AppResult<Json<Vec<ProductOut>>> {
    Ok(Json(
        reorder(&state, ProductType::Package, &body, &base, admin.id).await?,
    ))
}

#[utoipa::path(patch, path = "/api/admin/products/campaigns/reorder-popular/", tag = "admin-catalog", summary = "Reorder popular campaigns", request_body = crate::catalog::model::PopularOrderIn, responses((status = 200, body = Vec<ProductOut>), (status = 400, description = "Invalid input"), (status = 401, description = "Authentication required"), (status = 403, description = "Admin role required")))]
async fn reorder_campaigns(
    State(state): State<AppState>,
    AdminUser(admin): AdminUser,
    BaseUrl(base): BaseUrl,
    ErrorBody(body): ErrorBody<Value>,
) -> AppResult<Json<Vec<ProductOut>>> {
    Ok(Json(
        reorder(&state, ProductType::Campaign, &body, &base, admin.id).await?,
    ))
}
