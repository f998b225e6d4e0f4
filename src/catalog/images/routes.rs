//! Product images (contract-A §4.6, D7, D8, D19) and the secure image route (§4.8).
//!
//! * `POST /api/admin/products/{type}/{id}/images/` (multipart `image`, `alt_text`, `is_primary`,
//!   `order`): sniffed, capped at 5 MB, decoded with a 300×300 thumbnail, stored under a generated name.
//! * `PATCH /api/admin/products/images/reorder/`: `{"items":[{id,order}]}` or `{"image_ids":[…]}`.
//! * `PATCH /api/admin/products/images/{pk}/set-primary/`.
//! * `GET` (public) / `PUT` / `PATCH` / `DELETE /api/admin/products/images/{pk}/` (PUT is partial, D8).
//! * `GET /api/secure-files/images/{image_id}/[?thumbnail=true][&token=…]`.
//!
//! Writes are for the admin role (D14) and drop the catalog's cached reads (the product shapes embed
//! their images).

use std::collections::HashSet;

use axum::{
    Json,
    body::{Body as HttpBody, Bytes},
    extract::{
        DefaultBodyLimit, FromRequest, Multipart, Request, State,
        multipart::{MultipartError, MultipartRejection},
    },
    http::{HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
};
use serde_json::{Map, Value, json};

use utoipa_axum::{
    router::{OpenApiRouter, UtoipaMethodRouterExt},
    routes,
};

use crate::{
    auth::{AdminUser, MaybeUser, authenticate_token, model::User},
    catalog::{
        images::repo::{self as images_repo, ImageChanges, Inserted, NewImage},
        model::{ImageOut, ImageRow, Kind, ProductType},
        products::public::no_match,
        products::repo,
        reorder_entries,
    },
    error::{AppError, AppResult},
    extract::{BaseUrl, Body, ErrorBody, Id, Pk, Query, path::parse_id},
    in_tx,
    state::AppState,
    uploads::{
        Area, StoredName,
        images::{ImageRejection, MAX_IMAGE_BYTES, accepted_type, decode_and_thumbnail},
        sniff::ImageType,
    },
    validation::{self, FieldErrors, Text, boolean, integer, text},
};

/// At most this many images per product (contract-A §4.6).
pub const MAX_IMAGES: i64 = 10;
/// The upload routes' body limit: a 5 MB file plus the multipart framing and the small text fields.
/// Larger bodies are refused with a JSON 413 before they are read in full.
pub const UPLOAD_BODY_LIMIT: usize = MAX_IMAGE_BYTES + 1024 * 1024;

const ITEMS_REQUIRED: &str =
    "Items array is required with format: [{\"id\": 1, \"order\": 0}, ...]";

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(upload_image).layer(DefaultBodyLimit::max(UPLOAD_BODY_LIMIT)))
        // Literal segments: they win over `{product_type}/{id}/` (contract-A §7.5, D8).
        .routes(routes!(reorder_images))
        .routes(routes!(set_primary))
        .routes(
            routes!(image_detail, update_image, delete_image)
                .layer(DefaultBodyLimit::max(UPLOAD_BODY_LIMIT)),
        )
        .routes(routes!(secure_image))
}

// ---- shared helpers ------------------------------------------------------------------------------

/// `{"detail":"No ProductImage matches the given query."}`.
fn image_not_found() -> AppError {
    AppError::Detail(
        StatusCode::NOT_FOUND,
        "No ProductImage matches the given query.".into(),
    )
}

crate::path_param!(
    /// `{image_id}` of the secure-file route: an integer, or `{"detail":"Image not found"}`.
    struct ImageId(i64) = "image_id", parse_id, secure_image_not_found;
);

fn secure_image_not_found() -> AppError {
    AppError::Detail(StatusCode::NOT_FOUND, "Image not found".into())
}

fn kind_of(row: &ImageRow) -> ProductType {
    ProductType::parse(&row.product_type).unwrap_or(ProductType::Package)
}

fn image_out(state: &AppState, row: &ImageRow, base: &str) -> ImageOut {
    ImageOut::new(row, base, state.config.tz_offset)
}

/// `{"image":["…"]}` plus any other field errors.
fn invalid(mut errors: FieldErrors, image: Option<ImageRejection>) -> AppError {
    if let Some(rejection) = image {
        errors.add("image", rejection.message());
    }
    AppError::Validation(errors)
}

/// A broken multipart body: 413 when over the limit, else DRF's parse error.
fn multipart_error(error: MultipartError) -> AppError {
    if error.status() == StatusCode::PAYLOAD_TOO_LARGE {
        AppError::Detail(
            StatusCode::PAYLOAD_TOO_LARGE,
            "Request body is too large.".into(),
        )
    } else {
        AppError::bad_request(format!(
            "Multipart form parse error - {}",
            error.body_text()
        ))
    }
}

// ---- upload --------------------------------------------------------------------------------------

/// The `image` part of an upload form.
enum FilePart {
    Missing,
    NotAFile,
    TooLarge,
    Data(Bytes),
}

struct UploadForm {
    fields: Value,
    image: FilePart,
}

/// Reads the form. The file is read in chunks and dropped as soon as it passes 5 MB; the client's file
/// name and content type are not kept.
async fn read_upload_form(
    multipart: Result<Multipart, MultipartRejection>,
) -> AppResult<UploadForm> {
    let mut fields = Map::new();
    let mut image = FilePart::Missing;
    // Not a multipart body at all (JSON, a form without files…): there is no file.
    if let Ok(mut multipart) = multipart {
        while let Some(mut field) = multipart.next_field().await.map_err(multipart_error)? {
            let name = field.name().unwrap_or_default().to_string();
            if name != "image" {
                let value = field.text().await.map_err(multipart_error)?;
                // The first value of a repeated key wins.
                fields.entry(name).or_insert(Value::String(value));
                continue;
            }
            if !matches!(image, FilePart::Missing) {
                continue;
            }
            let Some(file_name) = field.file_name().map(str::to_string) else {
                image = FilePart::NotAFile;
                continue;
            };
            let mut data: Vec<u8> = Vec::new();
            let mut too_large = false;
            while let Some(chunk) = field.chunk().await.map_err(multipart_error)? {
                if data.len() + chunk.len() > MAX_IMAGE_BYTES {
                    too_large = true;
                    break;
                }
                data.extend_from_slice(&chunk);
            }
            image = if too_large {
                FilePart::TooLarge
            } else if data.is_empty() && file_name.is_empty() {
                // A file input left empty: browsers send a part with no name and no bytes.
                FilePart::Missing
            } else {
                FilePart::Data(Bytes::from(data))
            };
        }
    }
    Ok(UploadForm {
        fields: Value::Object(fields),
        image,
    })
}

/// The cheap checks, in the contract's order: present, a file, not empty, ≤ 5 MB, an accepted type.
fn precheck(image: FilePart) -> Result<(Bytes, ImageType), ImageRejection> {
    let bytes = match image {
        FilePart::Missing => return Err(ImageRejection::NoFile),
        FilePart::NotAFile => return Err(ImageRejection::NotAFile),
        FilePart::TooLarge => return Err(ImageRejection::TooLarge),
        FilePart::Data(bytes) => bytes,
    };
    let kind = accepted_type(&bytes)?;
    Ok((bytes, kind))
}

fn too_many_images() -> AppError {
    AppError::Error(
        StatusCode::BAD_REQUEST,
        "Maximum of 10 images allowed per product".into(),
    )
}

/// `POST /api/admin/products/{type}/{id}/images/` → 201 ProductImage.
#[utoipa::path(post, path = "/api/admin/products/{product_type}/{id}/images/", tag = "admin-catalog", summary = "Upload a product image (multipart, at most 10 per product)", request_body(content = crate::catalog::model::ImageUploadForm, content_type = "multipart/form-data"), params(("product_type" = ProductType, Path, description = "`package` or `campaign`"), ("id" = i64, Path)), responses((status = 201, body = ImageOut), (status = 400, description = "Invalid input"), (status = 401, description = "Authentication required"), (status = 403, description = "Admin role required"), (status = 404, description = "Not found"), (status = 413, description = "Too large")))]
async fn upload_image(
    State(state): State<AppState>,
    AdminUser(admin): AdminUser,
    BaseUrl(base): BaseUrl,
    Kind(kind): Kind,
    Id(product_id): Id,
    multipart: Result<Multipart, MultipartRejection>,
) -> AppResult<Response> {
    if !repo::exists(&state.db, kind, product_id).await? {
        return Err(no_match(kind));
    }
    if images_repo::count_for(&state.db, kind, product_id).await? >= MAX_IMAGES {
        return Err(too_many_images());
    }
    let form = read_upload_form(multipart).await?;

    let mut errors = FieldErrors::default();
    let alt_text = text(
        &form.fields,
        "alt_text",
        Text::optional().max(200),
        &mut errors,
    );
    let is_primary = boolean(&form.fields, "is_primary", &mut errors);
    let order = match form.fields.get("order") {
        // A multipart empty string is 0 (contract-A §4.6).
        Some(Value::String(s)) if s.trim().is_empty() => Some(0),
        _ => integer(&form.fields, "order", false, false, &mut errors).flatten(),
    };
    let (bytes, image_type) = match precheck(form.image) {
        Ok(checked) => checked,
        Err(rejection) => return Err(invalid(errors, Some(rejection))),
    };
    if !errors.is_empty() {
        return Err(invalid(errors, None));
    }
    // Header check, full decode and thumbnail, on the image worker.
    let decoded = {
        let bytes = bytes.clone();
        state
            .uploads
            .image_pool
            .run(move || decode_and_thumbnail(&bytes, image_type))
            .await?
    };
    let checked = decoded.map_err(|rejection| invalid(FieldErrors::default(), Some(rejection)))?;

    let name = StoredName::generate(image_type.extension());
    let thumbnail = name.thumbnail();
    let new = NewImage {
        kind,
        product_id,
        file_name: name.to_string(),
        thumbnail_name: Some(thumbnail.to_string()),
        content_type: image_type.mime().to_string(),
        size_bytes: i64::try_from(bytes.len()).unwrap_or(i64::MAX),
        alt_text: alt_text.unwrap_or_default(),
        is_primary: is_primary.unwrap_or(false),
        order,
    };
    // Store and record in a task of its own: a client that disconnects half-way cannot leave files
    // without a row (or the reverse). Any failure removes what was written.
    let task_state = state.clone();
    let outcome = tokio::spawn(async move {
        let state = task_state;
        let storage = &state.uploads.storage;
        if let Err(error) = storage.put(Area::Products, &name, bytes).await {
            // A partial file is removed (a full disk leaves what it wrote so far).
            let _ = storage.delete(Area::Products, &name).await;
            return Err(crate::uploads::store_failed(error, "a product image"));
        }
        if let Err(error) = storage
            .put(Area::Products, &thumbnail, Bytes::from(checked.thumbnail))
            .await
        {
            let _ = storage.delete(Area::Products, &name).await;
            let _ = storage.delete(Area::Products, &thumbnail).await;
            return Err(crate::uploads::store_failed(error, "a thumbnail"));
        }
        let inserted = in_tx!(state.db, |tx| images_repo::insert(
            &mut tx, &new, MAX_IMAGES
        ))
        .await;
        if !matches!(inserted, Ok(Inserted::Row(_))) {
            let _ = storage.delete(Area::Products, &name).await;
            let _ = storage.delete(Area::Products, &thumbnail).await;
        }
        Ok(inserted?)
    })
    .await
    .map_err(|e| AppError::Internal(anyhow::Error::new(e).context("upload task failed")))??;

    let row = match outcome {
        Inserted::Row(row) => row,
        Inserted::NoProduct => return Err(no_match(kind)),
        Inserted::LimitReached => return Err(too_many_images()),
    };
    crate::catalog::invalidate(&state, kind).await;
    tracing::info!(
        product_type = kind.as_str(),
        product_id,
        image_id = row.id,
        width = checked.width,
        height = checked.height,
        by = admin.id,
        "product image uploaded"
    );
    Ok((StatusCode::CREATED, Json(image_out(&state, &row, &base))).into_response())
}

// ---- reorder, set-primary ------------------------------------------------------------------------

/// `PATCH /api/admin/products/images/reorder/` → `{"message":…,"items":[ProductImage… by order]}`.
/// Every id must exist (a repeated id counts as missing), else nothing changes.
#[utoipa::path(patch, path = "/api/admin/products/images/reorder/", tag = "admin-catalog", summary = "Reorder images", request_body = crate::catalog::model::ReorderIn, responses((status = 200, body = serde_json::Value), (status = 400, description = "Invalid input"), (status = 401, description = "Authentication required"), (status = 403, description = "Admin role required"), (status = 404, description = "Not found")))]
async fn reorder_images(
    State(state): State<AppState>,
    AdminUser(admin): AdminUser,
    BaseUrl(base): BaseUrl,
    ErrorBody(body): ErrorBody<Value>,
) -> AppResult<Json<Value>> {
    let entries = reorder_entries(&body, "image_ids")
        .ok_or_else(|| AppError::Error(StatusCode::BAD_REQUEST, ITEMS_REQUIRED.into()))?;
    let not_found =
        || AppError::Error(StatusCode::NOT_FOUND, "One or more images not found".into());
    let ids: Vec<i64> = entries.iter().map(|(id, _)| *id).collect();
    let distinct: HashSet<i64> = ids.iter().copied().collect();
    if distinct.len() != ids.len() {
        return Err(not_found());
    }
    let found = images_repo::by_ids(&state.db, &ids).await?;
    if found.len() != ids.len() {
        return Err(not_found());
    }
    let changes: Vec<(i64, i32)> = entries
        .iter()
        .filter_map(|(id, order)| order.map(|o| (*id, o)))
        .collect();
    in_tx!(state.db, |tx| images_repo::reorder(&mut tx, &changes)).await?;
    let mut rows = images_repo::by_ids(&state.db, &ids).await?;
    rows.sort_by(|a, b| {
        a.sort_order
            .cmp(&b.sort_order)
            .then(b.uploaded_at.cmp(&a.uploaded_at))
            .then(b.id.cmp(&a.id))
    });
    let kinds: HashSet<ProductType> = rows.iter().map(kind_of).collect();
    for kind in kinds {
        crate::catalog::invalidate(&state, kind).await;
    }
    tracing::info!(
        count = entries.len(),
        by = admin.id,
        "product images reordered"
    );
    let items: Vec<ImageOut> = rows.iter().map(|r| image_out(&state, r, &base)).collect();
    Ok(Json(json!({
        "message": format!("Successfully reordered {} images", entries.len()),
        "items": items,
    })))
}

/// `PATCH /api/admin/products/images/{pk}/set-primary/` → `{"message":…,"image":ProductImage}`.
#[utoipa::path(patch, path = "/api/admin/products/images/{pk}/set-primary/", tag = "admin-catalog", summary = "Make an image its product's primary", params(("pk" = i64, Path)), responses((status = 200, body = serde_json::Value), (status = 401, description = "Authentication required"), (status = 403, description = "Admin role required"), (status = 404, description = "Not found")))]
async fn set_primary(
    State(state): State<AppState>,
    AdminUser(admin): AdminUser,
    BaseUrl(base): BaseUrl,
    Pk(pk): Pk,
) -> AppResult<Json<Value>> {
    let changes = ImageChanges {
        is_primary: Some(true),
        ..ImageChanges::default()
    };
    let row = in_tx!(state.db, |tx| images_repo::update(&mut tx, pk, &changes))
        .await?
        .ok_or_else(image_not_found)?;
    crate::catalog::invalidate(&state, kind_of(&row)).await;
    tracing::info!(image_id = pk, by = admin.id, "product image set as primary");
    Ok(Json(json!({
        "message": "Image set as primary successfully",
        "image": image_out(&state, &row, &base),
    })))
}

// ---- detail --------------------------------------------------------------------------------------

/// `GET /api/admin/products/images/{pk}/` (public, as the viewset's `retrieve`).
#[utoipa::path(get, path = "/api/admin/products/images/{pk}/", tag = "admin-catalog", summary = "An image", params(("pk" = i64, Path)), responses((status = 200, body = ImageOut), (status = 404, description = "Not found")))]
async fn image_detail(
    State(state): State<AppState>,
    BaseUrl(base): BaseUrl,
    Pk(pk): Pk,
) -> AppResult<Json<ImageOut>> {
    let row = images_repo::get(&state.db, pk)
        .await?
        .ok_or_else(image_not_found)?;
    Ok(Json(image_out(&state, &row, &base)))
}

/// A PUT/PATCH body: JSON, a form, or multipart (text fields; a file part only marks `image` as sent).
/// Returns the fields and whether an `image` key was present.
async fn read_update_body(request: Request) -> AppResult<(Value, bool)> {
    let multipart = request
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ct| {
            ct.trim_start()
                .to_ascii_lowercase()
                .starts_with("multipart/form-data")
        });
    if !multipart {
        let Body(body) = Body::<Value>::from_request(request, &()).await?;
        let has_image = body.get("image").is_some();
        return Ok((body, has_image));
    }
    let mut multipart = Multipart::from_request(request, &())
        .await
        .map_err(|rejection| {
            AppError::bad_request(format!(
                "Multipart form parse error - {}",
                rejection.body_text()
            ))
        })?;
    let mut fields = Map::new();
    let mut has_image = false;
    while let Some(field) = multipart.next_field().await.map_err(multipart_error)? {
        let name = field.name().unwrap_or_default().to_string();
        if name == "image" {
            has_image = true;
            continue;
        }
        let value = field.text().await.map_err(multipart_error)?;
        fields.entry(name).or_insert(Value::String(value));
    }
    Ok((Value::Object(fields), has_image))
}

/// `PUT`/`PATCH /api/admin/products/images/{pk}/`: `alt_text`, `order`, `is_primary`. PUT is treated
/// as PATCH (the admin SPA sends `{alt_text}` alone; contract-A §7.6); an `image` key is refused.
#[utoipa::path(method(put, patch), path = "/api/admin/products/images/{pk}/", tag = "admin-catalog", summary = "Edit an image's alt text, order or primary flag (PUT is partial)", request_body = crate::catalog::model::ImageUpdateIn, params(("pk" = i64, Path)), responses((status = 200, body = ImageOut), (status = 400, description = "Invalid input"), (status = 401, description = "Authentication required"), (status = 403, description = "Admin role required"), (status = 404, description = "Not found")))]
async fn update_image(
    State(state): State<AppState>,
    AdminUser(admin): AdminUser,
    BaseUrl(base): BaseUrl,
    Pk(pk): Pk,
    request: Request,
) -> AppResult<Json<ImageOut>> {
    let (body, has_image) = read_update_body(request).await?;
    if images_repo::get(&state.db, pk).await?.is_none() {
        return Err(image_not_found());
    }
    if has_image {
        return Err(AppError::Error(
            StatusCode::BAD_REQUEST,
            "Cannot update image file. Delete and upload a new one instead.".into(),
        ));
    }
    validation::object(&body)?;
    let mut errors = FieldErrors::default();
    let changes = ImageChanges {
        alt_text: text(&body, "alt_text", Text::optional().max(200), &mut errors),
        order: integer(&body, "order", false, false, &mut errors).flatten(),
        is_primary: boolean(&body, "is_primary", &mut errors),
    };
    if !errors.is_empty() {
        return Err(invalid(errors, None));
    }
    let row = in_tx!(state.db, |tx| images_repo::update(&mut tx, pk, &changes))
        .await?
        .ok_or_else(image_not_found)?;
    crate::catalog::invalidate(&state, kind_of(&row)).await;
    tracing::info!(image_id = pk, by = admin.id, "product image updated");
    Ok(Json(image_out(&state, &row, &base)))
}

/// `DELETE /api/admin/products/images/{pk}/` → 204; the file and thumbnail go too, and a deleted
/// primary hands over to the image with the lowest `order`.
#[utoipa::path(delete, path = "/api/admin/products/images/{pk}/", tag = "admin-catalog", summary = "Delete an image and its files", params(("pk" = i64, Path)), responses((status = 204), (status = 401, description = "Authentication required"), (status = 403, description = "Admin role required"), (status = 404, description = "Not found")))]
async fn delete_image(
    State(state): State<AppState>,
    AdminUser(admin): AdminUser,
    Pk(pk): Pk,
) -> AppResult<StatusCode> {
    let row = in_tx!(state.db, |tx| images_repo::delete(&mut tx, pk))
        .await?
        .ok_or_else(image_not_found)?;
    crate::catalog::remove_files(
        &state,
        std::iter::once(row.file_name.clone()).chain(row.thumbnail_name.clone()),
    )
    .await;
    crate::catalog::invalidate(&state, kind_of(&row)).await;
    tracing::info!(image_id = pk, by = admin.id, "product image deleted");
    Ok(StatusCode::NO_CONTENT)
}

// ---- secure file ---------------------------------------------------------------------------------

/// The caller from `Authorization: Bearer …`, else from `?token=` (D19: this route family only). A
/// token that fails either way leaves the caller anonymous, as the original.
async fn secure_file_user(
    state: &AppState,
    header_user: Option<User>,
    token: Option<&str>,
) -> AppResult<Option<User>> {
    if header_user.is_some() {
        return Ok(header_user);
    }
    match token.map(str::trim).filter(|t| !t.is_empty()) {
        Some(token) => authenticate_token(state, token).await,
        None => Ok(None),
    }
}

#[derive(Debug, Default, serde::Deserialize)]
struct SecureFileQuery {
    token: Option<String>,
    thumbnail: Option<String>,
}

/// `GET /api/secure-files/images/{image_id}/[?thumbnail=true][&token=…]`: any authenticated user.
/// Anonymous → 403 `{"detail":"Authentication required"}` (JSON like every other `/api/` error,
/// contract-A §7.22; the SPA's `<img>` never reads the body).
#[utoipa::path(get, path = "/api/secure-files/images/{image_id}/", tag = "files", summary = "A product image for a signed-in user (header or ?token=)", params(("image_id" = i64, Path), ("token" = Option<String>, Query), ("thumbnail" = Option<String>, Query)), responses((status = 200, description = "The image file", content_type = "image/*"), (status = 403, description = "Authentication required"), (status = 404, description = "Not found")))]
async fn secure_image(
    State(state): State<AppState>,
    MaybeUser(header_user): MaybeUser,
    // Checked after the caller: an anonymous request is 403 whatever the id.
    image_id: Result<ImageId, AppError>,
    Query(params): Query<SecureFileQuery>,
) -> AppResult<Response> {
    let user = secure_file_user(&state, header_user, params.token.as_deref()).await?;
    if user.is_none() {
        return Err(AppError::Detail(
            StatusCode::FORBIDDEN,
            "Authentication required".into(),
        ));
    }
    let ImageId(id) = image_id?;
    let row = images_repo::get(&state.db, id)
        .await?
        .ok_or_else(secure_image_not_found)?;
    let want_thumbnail = params.thumbnail.as_deref().is_some_and(|v| {
        let v = v.trim();
        v.eq_ignore_ascii_case("true") || v == "1"
    });
    let (file, content_type) = match (&row.thumbnail_name, want_thumbnail) {
        (Some(thumb), true) => (thumb.clone(), "image/jpeg".to_string()),
        _ => (row.file_name.clone(), row.content_type.clone()),
    };
    let missing = || {
        tracing::warn!(image_id = id, file = %file, "product image file is missing");
        AppError::Detail(StatusCode::NOT_FOUND, "Image file not found".into())
    };
    let Some(name) = StoredName::parse(&file) else {
        return Err(missing());
    };
    let object = state
        .uploads
        .storage
        .get(Area::Products, &name)
        .await
        .map_err(|e| AppError::Internal(anyhow::Error::new(e).context("reading a product image")))?
        .ok_or_else(missing)?;
    let content_type = HeaderValue::from_str(&content_type)
        .unwrap_or_else(|_| HeaderValue::from_static("application/octet-stream"));
    let disposition = HeaderValue::from_str(&format!("inline; filename=\"{name}\""))
        .unwrap_or_else(|_| HeaderValue::from_static("inline"));
    let mut response = Response::new(HttpBody::from_stream(object.body));
    let h = response.headers_mut();
    h.insert(header::CONTENT_TYPE, content_type);
    h.insert(header::CONTENT_LENGTH, HeaderValue::from(object.len));
    h.insert(header::CONTENT_DISPOSITION, disposition);
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    // The admin SPA (another origin) embeds secure files in `<img>`; the token in the URL, not an
    // ambient cookie, is what grants access, so cross-origin embedding exposes nothing more.
    h.insert(
        "cross-origin-resource-policy",
        HeaderValue::from_static("cross-origin"),
    );
    Ok(response)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reorder_accepts_both_formats() {
        assert_eq!(
            reorder_entries(
                &json!({"items": [{"id": 3, "order": 2}, {"id": "4"}]}),
                "image_ids"
            ),
            Some(vec![(3, Some(2)), (4, None)])
        );
        assert_eq!(
            reorder_entries(&json!({"image_ids": [9, 7]}), "image_ids"),
            Some(vec![(9, Some(0)), (7, Some(1))])
        );
        for bad in [
            json!({}),
            json!({"items": []}),
            json!({"image_ids": []}),
            json!({"items": [{"order": 1}]}),
            json!({"items": "x"}),
            json!({"image_ids": ["a"]}),
        ] {
            assert_eq!(reorder_entries(&bad, "image_ids"), None, "{bad}");
        }
    }
}
