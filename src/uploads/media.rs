//! `GET /media/products/{name}`: product images and thumbnails, public (the sites show them in `<img>`,
//! and the `image`/`thumbnail` URLs of the ProductImage shape point here).
//!
//! Only generated names are served (anything else is the HTML 404). The content type comes from the
//! name's extension, which the server derived from the sniffed type; `nosniff` keeps browsers from
//! second-guessing it. Names are unique and files never change, so responses are cacheable for a year
//! (with an ETag for revalidation), and `Cross-Origin-Resource-Policy: cross-origin` lets the admin and
//! customer sites, which live on other origins, embed them.

use axum::{
    body::Body,
    extract::{FromRef, Path, State},
    http::{HeaderMap, HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
};
use utoipa_axum::{router::OpenApiRouter, routes};

use crate::uploads::{Area, StoredName, Uploads, sniff::ImageType};

pub const CACHE_FOREVER: &str = "public, max-age=31536000, immutable";

/// The media route, to merge into the application's router (outside `/api`).
pub fn router<S>() -> OpenApiRouter<S>
where
    S: Clone + Send + Sync + 'static,
    Uploads: FromRef<S>,
{
    OpenApiRouter::new().routes(routes!(serve_product_file))
}

#[utoipa::path(get, path = "/media/products/{name}", tag = "files",
    summary = "A stored product image or thumbnail (public, cacheable)",
    params(("name" = String, Path, description = "a generated file name")),
    responses((status = 200, description = "The file", content_type = "image/*"),
        (status = 304, description = "Not modified"), (status = 404, description = "No such file")))]
async fn serve_product_file(
    State(uploads): State<Uploads>,
    Path(name): Path<String>,
    headers: HeaderMap,
) -> Response {
    let Some(name) = StoredName::parse(&name) else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let Some(kind) = ImageType::from_extension(name.extension()) else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let etag = format!("\"{name}\"");
    let not_modified = headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|t| t.trim() == etag || t.trim() == "*"));
    let object = match uploads.storage.get(Area::Products, &name).await {
        Ok(Some(object)) => object,
        Ok(None) => return StatusCode::NOT_FOUND.into_response(),
        Err(error) => {
            tracing::error!(%error, file = %name, "could not read a product image");
            return crate::error::AppError::Internal(anyhow::anyhow!("media read failed"))
                .into_response();
        }
    };
    let mut response = if not_modified {
        drop(object);
        StatusCode::NOT_MODIFIED.into_response()
    } else {
        let mut response = Response::new(Body::from_stream(object.body));
        let h = response.headers_mut();
        h.insert(header::CONTENT_TYPE, HeaderValue::from_static(kind.mime()));
        h.insert(header::CONTENT_LENGTH, HeaderValue::from(object.len));
        response
    };
    let h = response.headers_mut();
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static(CACHE_FOREVER),
    );
    if let Ok(value) = HeaderValue::from_str(&etag) {
        h.insert(header::ETAG, value);
    }
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(
        "cross-origin-resource-policy",
        HeaderValue::from_static("cross-origin"),
    );
    response
}
