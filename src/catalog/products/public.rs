//! Public catalog: `/api/packages/`, `/api/campaigns/` (envelope, 20 per page), details, `popular/`,
//! and `/api/products/{type}/{id}/images/`. Anonymous; a bad token is simply ignored (D13).

use std::future::Future;

use axum::{
    Json, Router,
    extract::{Path, Query, State},
    http::{HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
    routing::get,
};
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;

use crate::{
    catalog::{
        model::{ImageOut, ProductOut, ProductType},
        products::{repo, service},
    },
    error::{AppError, AppResult},
    extract::BaseUrl,
    state::AppState,
};

pub const PAGE_SIZE: i64 = 20;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/packages/", get(list_packages))
        .route("/packages/popular/", get(popular_packages))
        .route("/packages/{id}/", get(package_detail))
        .route("/campaigns/", get(list_campaigns))
        .route("/campaigns/popular/", get(popular_campaigns))
        .route("/campaigns/{id}/", get(campaign_detail))
        .route(
            "/products/{product_type}/{product_id}/images/",
            get(product_images),
        )
}

/// DRF's page-number envelope.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Page<T> {
    pub count: i64,
    pub next: Option<String>,
    pub previous: Option<String>,
    pub results: Vec<T>,
}

#[derive(Debug, Deserialize)]
pub struct PageQuery {
    page: Option<String>,
}

fn invalid_page() -> AppError {
    AppError::Detail(StatusCode::NOT_FOUND, "Invalid page.".into())
}

/// `?page=` → a 1-based page number within `count`, or DRF's 404 `{"detail":"Invalid page."}`.
fn page_number(raw: Option<&str>, count: i64) -> AppResult<i64> {
    let last = ((count + PAGE_SIZE - 1) / PAGE_SIZE).max(1);
    let page = match raw.map(str::trim) {
        None | Some("") => 1,
        Some("last") => last,
        Some(text) => text.parse::<i64>().map_err(|_| invalid_page())?,
    };
    if page < 1 || page > last {
        return Err(invalid_page());
    }
    Ok(page)
}

/// Cache keys of the public reads, all under `catalog:<plural>:` so a write to one product type
/// drops exactly that type's entries ([`crate::catalog::invalidate`]). The base URL is part of the
/// key because the cached shapes hold absolute URLs.
pub fn cache_key(kind: ProductType, what: &str, base: &str) -> String {
    format!("catalog:{}:{what}:{base}", kind.plural())
}

/// A rendered JSON body as cached: served as stored, never decoded and re-encoded.
type Rendered = Box<RawValue>;

fn render_json<T: Serialize>(value: &T) -> AppResult<Rendered> {
    serde_json::value::to_raw_value(value)
        .map_err(|e| AppError::Internal(anyhow::Error::new(e).context("rendering a catalog body")))
}

/// The cached body of `key`, computed (and rendered once) on a miss.
async fn cached<T, F>(state: &AppState, key: &str, compute: F) -> AppResult<Rendered>
where
    T: Serialize,
    F: Future<Output = AppResult<T>>,
{
    state
        .cache
        .get_or_compute(key, state.cache.default_ttl(), async {
            render_json(&compute.await?)
        })
        .await
}

fn json_response(body: &RawValue) -> Response {
    (
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        )],
        body.get().to_owned(),
    )
        .into_response()
}

async fn list(
    state: &AppState,
    kind: ProductType,
    base: &str,
    raw_page: Option<&str>,
) -> AppResult<Response> {
    let key = cache_key(kind, &format!("list:{}", raw_page.unwrap_or("1")), base);
    let body = cached(state, &key, list_uncached(state, kind, base, raw_page)).await?;
    Ok(json_response(&body))
}

async fn list_uncached(
    state: &AppState,
    kind: ProductType,
    base: &str,
    raw_page: Option<&str>,
) -> AppResult<Page<ProductOut>> {
    let count = repo::count_active(&state.db, kind).await?;
    let page = page_number(raw_page, count)?;
    let rows = repo::list_active(&state.db, kind, PAGE_SIZE, (page - 1) * PAGE_SIZE).await?;
    let results = service::render(state, kind, &rows, base).await?;
    let path = format!("{base}/api/{}/", kind.plural());
    let last = ((count + PAGE_SIZE - 1) / PAGE_SIZE).max(1);
    Ok(Page {
        count,
        next: (page < last).then(|| format!("{path}?page={}", page + 1)),
        previous: match page {
            1 => None,
            2 => Some(path.clone()),
            p => Some(format!("{path}?page={}", p - 1)),
        },
        results,
    })
}

async fn list_packages(
    State(state): State<AppState>,
    BaseUrl(base): BaseUrl,
    Query(q): Query<PageQuery>,
) -> AppResult<Response> {
    list(&state, ProductType::Package, &base, q.page.as_deref()).await
}

async fn list_campaigns(
    State(state): State<AppState>,
    BaseUrl(base): BaseUrl,
    Query(q): Query<PageQuery>,
) -> AppResult<Response> {
    list(&state, ProductType::Campaign, &base, q.page.as_deref()).await
}

async fn popular(state: &AppState, kind: ProductType, base: &str) -> AppResult<Response> {
    let compute = async {
        let rows = repo::popular_active(&state.db, kind).await?;
        Ok::<_, AppError>(service::render(state, kind, &rows, base).await?)
    };
    let body = cached(state, &cache_key(kind, "popular", base), compute).await?;
    Ok(json_response(&body))
}

async fn popular_packages(
    State(state): State<AppState>,
    BaseUrl(base): BaseUrl,
) -> AppResult<Response> {
    popular(&state, ProductType::Package, &base).await
}

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

async fn detail(
    state: &AppState,
    kind: ProductType,
    raw_id: &str,
    base: &str,
) -> AppResult<Response> {
    let id: i64 = raw_id.parse().map_err(|_| AppError::not_found())?;
    // Missing or inactive is cached too (as `null`), so probing ids costs no queries.
    let compute = async {
        let Some(row) = repo::get(&state.db, kind, id)
            .await?
            .filter(|r| r.is_active)
        else {
            return Ok::<_, AppError>(None);
        };
        Ok(Some(service::render_one(state, kind, &row, base).await?))
    };
    let body = cached(
        state,
        &cache_key(kind, &format!("detail:{id}"), base),
        compute,
    )
    .await?;
    if body.get() == "null" {
        return Err(no_match(kind));
    }
    Ok(json_response(&body))
}

async fn package_detail(
    State(state): State<AppState>,
    BaseUrl(base): BaseUrl,
    Path(id): Path<String>,
) -> AppResult<Response> {
    detail(&state, ProductType::Package, &id, &base).await
}

async fn campaign_detail(
    State(state): State<AppState>,
    BaseUrl(base): BaseUrl,
    Path(id): Path<String>,
) -> AppResult<Response> {
    detail(&state, ProductType::Campaign, &id, &base).await
}

/// `{"error":"Invalid product type. Must be \"package\" or \"campaign\""}`.
pub fn invalid_type() -> AppError {
    AppError::Error(
        StatusCode::BAD_REQUEST,
        "Invalid product type. Must be \"package\" or \"campaign\"".into(),
    )
}

/// Parses `{type}/{id}` path segments with the contract's errors.
pub fn product_path(raw_type: &str, raw_id: &str) -> AppResult<(ProductType, i64)> {
    let kind = ProductType::parse(raw_type).ok_or_else(invalid_type)?;
    let id = raw_id.parse::<i64>().map_err(|_| AppError::not_found())?;
    Ok((kind, id))
}

async fn product_images(
    State(state): State<AppState>,
    BaseUrl(base): BaseUrl,
    Path((raw_type, raw_id)): Path<(String, String)>,
) -> AppResult<Json<Vec<ImageOut>>> {
    let (kind, id) = product_path(&raw_type, &raw_id)?;
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn page_numbers_like_drf() {
        assert_eq!(page_number(None, 0).ok(), Some(1));
        assert_eq!(page_number(Some("2"), 21).ok(), Some(2));
        assert_eq!(page_number(Some("last"), 41).ok(), Some(3));
        for bad in ["0", "-1", "3", "abc", "1.5"] {
            assert!(page_number(Some(bad), 40).is_err(), "{bad}");
        }
    }
}
