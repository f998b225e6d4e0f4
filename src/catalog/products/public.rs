//! Public catalog: `/api/packages/`, `/api/campaigns/` (envelope, 20 per page), details, `popular/`,
//! and `/api/products/{type}/{id}/images/`. Anonymous; a bad token is simply ignored (D13).

use std::future::Future;

use axum::{
    Json,
    extract::State,
    http::StatusCode,
    response::{IntoResponse, Response},
};
use serde::Serialize;

use utoipa_axum::{router::OpenApiRouter, routes};

use crate::{
    cache::CachedJson,
    catalog::{
        model::{ImageOut, Kind, ProductOut, ProductType},
        products::{repo, service},
    },
    error::{AppError, AppResult},
    extract::{BaseUrl, Id, Page, PageQuery, ProductId, Query, page::page_number},
    state::AppState,
};

pub const PAGE_SIZE: i64 = 20;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_packages))
        .routes(routes!(popular_packages))
        .routes(routes!(package_detail))
        .routes(routes!(list_campaigns))
        .routes(routes!(popular_campaigns))
        .routes(routes!(campaign_detail))
        .routes(routes!(product_images))
}

/// Cache keys of the public reads, all under `catalog:<plural>:` so a write to one product type
/// drops exactly that type's entries ([`crate::catalog::invalidate`]). The base URL is part of the
/// key because the cached shapes hold absolute URLs.
pub fn cache_key(kind: ProductType, what: &str, base: &str) -> String {
    format!("catalog:{}:{what}:{base}", kind.plural())
}

fn render_json<T: Serialize>(value: &T) -> AppResult<CachedJson> {
    CachedJson::render(value)
        .map_err(|e| AppError::Internal(anyhow::Error::new(e).context("rendering a catalog body")))
}

/// The cached body of `key`, computed (and rendered once) on a miss; a hit is the stored text
/// itself, never parsed.
///
/// The computation (SQL and rendering: a future of several KB) is started, and boxed, only on a
/// miss: held inline, it made the handler's own future that large, and axum moves each handler
/// future into a box per request (issue 8: a visible `memcpy` of every cached read).
async fn cached<T, F>(
    state: &AppState,
    key: &str,
    compute: impl FnOnce() -> F,
) -> AppResult<CachedJson>
where
    T: Serialize,
    F: Future<Output = AppResult<T>>,
{
    state
        .cache
        .get_or_compute_json(key, state.cache.default_ttl(), async move {
            render_json(&Box::pin(compute()).await?)
        })
        .await
}

/// The stored text as the body, shared with the cache (no copy).
fn json_response(body: CachedJson) -> Response {
    body.into_response()
}

async fn list(
    state: &AppState,
    kind: ProductType,
    base: &str,
    raw_page: Option<&str>,
) -> AppResult<Response> {
    let key = cache_key(kind, &format!("list:{}", raw_page.unwrap_or("1")), base);
    let body = cached(state, &key, || list_uncached(state, kind, base, raw_page)).await?;
    Ok(json_response(body))
}

async fn list_uncached(
    state: &AppState,
    kind: ProductType,
    base: &str,
    raw_page: Option<&str>,
) -> AppResult<Page<ProductOut>> {
    let count = repo::count_active(&state.db, kind).await?;
    let page = page_number(raw_page, count, PAGE_SIZE)?;
    let rows = repo::list_active(&state.db, kind, PAGE_SIZE, (page - 1) * PAGE_SIZE).await?;
    let results = service::render(state, kind, &rows, base).await?;
    let path = format!("{base}/api/{}/", kind.plural());
    Ok(Page::new(results, count, page, PAGE_SIZE, &path))
}

#[utoipa::path(get, path = "/api/packages/", tag = "catalog", summary = "Active packages, 20 per page", params(("page" = Option<String>, Query, description = "a page number or `last`")), responses((status = 200, body = Page<ProductOut>), (status = 404, description = "Not found")))]
async fn list_packages(
    State(state): State<AppState>,
    BaseUrl(base): BaseUrl,
    Query(q): Query<PageQuery>,
) -> AppResult<Response> {
    list(&state, ProductType::Package, &base, q.page.as_deref()).await
}

#[utoipa::path(get, path = "/api/campaigns/", tag = "catalog", summary = "Active campaigns, 20 per page", params(("page" = Option<String>, Query, description = "a page number or `last`")), responses((status = 200, body = Page<ProductOut>), (status = 404, description = "Not found")))]
async fn list_campaigns(
    State(state): State<AppState>,
    BaseUrl(base): BaseUrl,
    Query(q): Query<PageQuery>,
) -> AppResult<Response> {
    list(&state, ProductType::Campaign, &base, q.page.as_deref()).await
}

async fn popular(state: &AppState, kind: ProductType, base: &str) -> AppResult<Response> {
    let compute = || async move {
        let rows = repo::popular_active(&state.db, kind).await?;
        Ok::<_, AppError>(service::render(state, kind, &rows, base).await?)
    };
    let body = cached(state, &cache_key(kind, "popular", base), compute).await?;
    Ok(json_response(body))
}

#[utoipa::path(get, path = "/api/packages/popular/", tag = "catalog", summary = "Popular packages (at most 3)", responses((status = 200, body = Vec<ProductOut>)))]
async fn popular_packages(
    State(state): State<AppState>,
    BaseUrl(base): BaseUrl,
) -> AppResult<Response> {
    popular(&state, ProductType::Package, &base).await
}

#[utoipa::path(get, path = "/api/campaigns/popular/", tag = "catalog", summary = "Popular campaigns (at most 3)", responses((status = 200, body = Vec<ProductOut>)))]
async fn popular_campaigns(
    State(state): State<AppState>,
    BaseUrl(base): BaseUrl,
) -> AppResult<Response> {
    popular(&state, ProductType::Campaign, &base).await
}

/// `{"detail":"No Package matches the given query."}`.
pub fn no_match(kind: ProductType) -> AppError {
    AppError::Detail(
        StatusCode::NOT_FOUND,
        format!("No {} matches the given query.", kind.model_name()),
    )
}

async fn detail(state: &AppState, kind: ProductType, id: i64, base: &str) -> AppResult<Response> {
    // Missing or inactive is cached too (as `null`), so probing ids costs no queries.
    let compute =
        || async move { Ok::<_, AppError>(service::active_detail(state, kind, id, base).await?) };
    let body = cached(
        state,
        &cache_key(kind, &format!("detail:{id}"), base),
        compute,
    )
    .await?;
    if body.as_str() == "null" {
        return Err(no_match(kind));
    }
    Ok(json_response(body))
}

#[utoipa::path(get, path = "/api/packages/{id}/", tag = "catalog", summary = "An active package", params(("id" = i64, Path)), responses((status = 200, body = ProductOut), (status = 404, description = "Not found")))]
async fn package_detail(
    State(state): State<AppState>,
    BaseUrl(base): BaseUrl,
    Id(id): Id,
) -> AppResult<Response> {
    detail(&state, ProductType::Package, id, &base).await
}

#[utoipa::path(get, path = "/api/campaigns/{id}/", tag = "catalog", summary = "An active campaign", params(("id" = i64, Path)), responses((status = 200, body = ProductOut), (status = 404, description = "Not found")))]
async fn campaign_detail(
    State(state): State<AppState>,
    BaseUrl(base): BaseUrl,
    Id(id): Id,
) -> AppResult<Response> {
    detail(&state, ProductType::Campaign, id, &base).await
}

#[utoipa::path(get, path = "/api/products/{product_type}/{product_id}/images/", tag = "catalog", summary = "A product's images", params(("product_type" = ProductType, Path, description = "`package` or `campaign`"), ("product_id" = i64, Path)), responses((status = 200, body = Vec<ImageOut>), (status = 400, description = "Invalid input"), (status = 404, description = "Not found")))]
async fn product_images(
    State(state): State<AppState>,
    BaseUrl(base): BaseUrl,
    Kind(kind): Kind,
    ProductId(id): ProductId,
) -> AppResult<Json<Vec<ImageOut>>> {
    if !repo::exists(&state.db, kind, id).await? {
        return Err(no_match(kind));
    }
    let mut rows = repo::images_for(&state.db, kind, &[id]).await?;
    // The public list: by order, then newest (the primary flag does not lead here).
    rows.sort_by(|a, b| {
        a.sort_order
            .cmp(&b.sort_order)
            .then(b.uploaded_at.cmp(&a.uploaded_at))
            .then(b.id.cmp(&a.id))
    });
    let tz = state.config.tz_offset;
    Ok(Json(
        rows.iter().map(|r| ImageOut::new(r, &base, tz)).collect(),
    ))
}
