//! The legacy fixed resource form (contract-B §4.5, §6.1): `POST /api/orders/{id}/upload-resources/`
//! with a candidate photo, a party logo, a slogan, a preferred date and a WhatsApp number — one per
//! order item — and its two files behind `/api/secure-files/`. The photo and logo go through the same
//! image checks as every upload (§6.3 applied here too, Q8).

use axum::{
    Json,
    extract::{Request, State},
    http::StatusCode,
    response::{IntoResponse, Response},
};
use serde_json::json;
use time::{Date, macros::format_description};

use crate::{
    auth::{AuthUser, MaybeUser},
    error::{AppError, AppResult, FieldErrors},
    extract::{Query, path::parse_id},
    orders::service as orders,
    path_param,
    ratelimit::UPLOADS_PER_USER,
    resources::{
        files::{self, TokenQuery, caller, may_read, serve},
        form::{self, Form, MAX_FILE_BYTES, OrderId, Part},
        model::ResourceOut,
        repo,
        service::{accepts_uploads, complete_item},
    },
    state::AppState,
    uploads::{
        Area, StoredName,
        images::{ImageRejection, MAX_IMAGE_BYTES, verify_image},
    },
    validation::{BLANK, INVALID_INT, REQUIRED},
};

fn error(status: StatusCode, message: impl Into<String>) -> AppError {
    AppError::Error(status, message.into())
}

/// A required text part: trimmed, not blank, at most `max` characters, no NUL.
fn text(
    form: &Form,
    name: &str,
    max: usize,
    required: bool,
    errors: &mut FieldErrors,
) -> Option<String> {
    match form.parts.get(name) {
        None if required => {
            errors.add(name, REQUIRED);
            None
        }
        None => Some(String::new()),
        Some(Part::File(_)) => {
            errors.add(name, "Not a valid string.");
            None
        }
        Some(Part::Text(value)) => {
            let value = value.trim();
            if value.contains('\0') {
                errors.add(name, "Null characters are not allowed.");
                None
            } else if value.is_empty() && required {
                errors.add(name, BLANK);
                None
            } else if value.chars().count() > max {
                errors.add(
                    name,
                    format!("Ensure this field has no more than {max} characters."),
                );
                None
            } else {
                Some(value.to_string())
            }
        }
    }
}

/// A photo or logo: a file, a real JPEG/PNG/GIF of at most 5 MB.
async fn image(
    state: &AppState,
    form: &Form,
    name: &str,
    errors: &mut FieldErrors,
) -> Option<(axum::body::Bytes, &'static str)> {
    let bytes = match form.parts.get(name) {
        None => {
            errors.add(name, ImageRejection::NoFile.message());
            return None;
        }
        Some(Part::Text(_)) => {
            errors.add(name, ImageRejection::NotAFile.message());
            return None;
        }
        Some(Part::File(None)) => {
            errors.add(name, "File size cannot exceed 5MB");
            return None;
        }
        Some(Part::File(Some(bytes))) => bytes.clone(),
    };
    match verify_image(&state.uploads.image_pool, bytes.clone(), MAX_IMAGE_BYTES).await {
        Ok(Ok(kind)) => Some((bytes, kind.extension())),
        Ok(Err(ImageRejection::TooLarge)) => {
            errors.add(name, "File size cannot exceed 5MB");
            None
        }
        Ok(Err(rejection)) => {
            errors.add(name, rejection.message());
            None
        }
        Err(_) => {
            errors.add(name, "The image could not be checked, please try again.");
            None
        }
    }
}

#[utoipa::path(post, path = "/api/orders/{order_id}/upload-resources/", tag = "resources",
    summary = "The legacy fixed resource form for one order item (multipart)",
    params(("order_id" = i64, Path)),
    request_body(content = serde_json::Value, content_type = "multipart/form-data",
        description = "order_item_id, candidate_photo, party_logo, campaign_slogan, preferred_date, whatsapp_number, additional_notes"),
    responses((status = 201, description = "Stored"), (status = 400, description = "Invalid input, a wrong status, or already uploaded"),
        (status = 401, description = "Authentication required"), (status = 404, description = "Not the caller's order or item"),
        (status = 415, description = "Not a form body"), (status = 429, description = "More than 20 uploads in an hour")))]
pub async fn upload_resources(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
    OrderId(id): OrderId,
    request: Request,
) -> AppResult<Response> {
    let order = orders::owned(&state, id, user.id).await?;
    if !accepts_uploads(&order.status) {
        return Err(error(
            StatusCode::BAD_REQUEST,
            format!(
                "Cannot upload resources for order with status: {}",
                order.status
            ),
        ));
    }
    state
        .limiter
        .enforce(&UPLOADS_PER_USER, &user.id.to_string())
        .await?;
    let form = form::read(request, &state, MAX_FILE_BYTES, &state.uploads.body_budget).await?;
    let mut errors = FieldErrors::default();
    let item_id = match form.parts.get("order_item_id") {
        None => {
            errors.add("order_item_id", REQUIRED);
            None
        }
        Some(Part::Text(t)) => match t.trim().parse::<i64>() {
            Ok(n) => Some(n),
            Err(_) => {
                errors.add("order_item_id", INVALID_INT);
                None
            }
        },
        Some(Part::File(_)) => {
            errors.add("order_item_id", INVALID_INT);
            None
        }
    };
    let photo = image(&state, &form, "candidate_photo", &mut errors).await;
    let logo = image(&state, &form, "party_logo", &mut errors).await;
    let slogan = text(&form, "campaign_slogan", 1000, true, &mut errors);
    let date =
        text(&form, "preferred_date", 10, true, &mut errors).and_then(|d| {
            match Date::parse(&d, format_description!("[year]-[month]-[day]")) {
                Ok(_) => Some(d),
                Err(_) => {
                    errors.add(
                        "preferred_date",
                        "Date has wrong format. Use one of these formats instead: YYYY-MM-DD.",
                    );
                    None
                }
            }
        });
    let whatsapp = text(&form, "whatsapp_number", 15, true, &mut errors).and_then(|w| {
        if w.chars().filter(char::is_ascii_digit).count() < 10 {
            errors.add(
                "whatsapp_number",
                "WhatsApp number must be at least 10 digits",
            );
            None
        } else {
            Some(w)
        }
    });
    let notes = text(&form, "additional_notes", 2000, false, &mut errors);
    let (
        Some(item_id),
        Some(photo),
        Some(logo),
        Some(slogan),
        Some(date),
        Some(whatsapp),
        Some(notes),
    ) = (item_id, photo, logo, slogan, date, whatsapp, notes)
    else {
        return Err(AppError::Validation(errors));
    };
    let items = orders::items(&state, order.id).await?;
    if !items.iter().any(|i| i.id == item_id) {
        return Err(error(
            StatusCode::NOT_FOUND,
            "Order item not found or does not belong to this order",
        ));
    }
    let already = || {
        error(
            StatusCode::BAD_REQUEST,
            "Resources already uploaded for this order item",
        )
    };
    if !repo::resources_of(&state.db, &[item_id]).await?.is_empty() {
        return Err(already());
    }
    let photo_name = StoredName::generate(photo.1);
    let logo_name = StoredName::generate(logo.1);
    let stored = [photo_name.clone(), logo_name.clone()];
    for (name, bytes) in [(&photo_name, photo.0), (&logo_name, logo.0)] {
        if let Err(e) = state
            .uploads
            .storage
            .put(Area::Resources, name, bytes)
            .await
        {
            files::remove(&state, &stored).await;
            return Err(crate::uploads::store_failed(e, "a resource file"));
        }
    }
    let outcome: AppResult<_> = async {
        let mut tx = state.db.begin().await?;
        let Some(locked) = orders::lock(&mut tx, order.id).await? else {
            return Err(orders::order_not_found());
        };
        if !accepts_uploads(&locked.status) {
            return Err(error(
                StatusCode::BAD_REQUEST,
                format!(
                    "Cannot upload resources for order with status: {}",
                    locked.status
                ),
            ));
        }
        let Some(row) = repo::insert_resource(
            &mut tx,
            item_id,
            photo_name.as_str(),
            logo_name.as_str(),
            &slogan,
            &date,
            &whatsapp,
            &notes,
        )
        .await?
        else {
            return Err(already());
        };
        let completion = complete_item(&mut tx, &locked, item_id, user.id).await?;
        crate::orders::derived::commit(&state, tx).await?;
        Ok((row, completion))
    }
    .await;
    let (row, completion) = match outcome {
        Ok(done) => done,
        Err(e) => {
            files::remove(&state, &stored).await;
            return Err(e);
        }
    };
    crate::notifications::service::announce(&state, completion.notified.clone()).await;
    let names = orders::item_names(&state, &completion.pending).await?;
    Ok((
        StatusCode::CREATED,
        Json(json!({
            "success": true, "message": "Resources uploaded successfully",
            "resource": ResourceOut::new(&row, state.config.tz_offset),
            "order_status": completion.order_status,
            "all_resources_uploaded": completion.all_uploaded,
            "pending_items": orders::pending_out(&completion.pending, &names),
        })),
    )
        .into_response())
}

path_param!(
    /// `{item_id}`: an integer, or `{"detail": "Resource not found"}`.
    pub struct ItemId(i64) = "item_id", parse_id, not_found;
);

fn not_found() -> AppError {
    AppError::Detail(StatusCode::NOT_FOUND, "Resource not found".into())
}

/// `candidate_photo` or `party_logo` of a legacy form row.
fn pick(row: &crate::resources::model::ResourceRow, kind: &str) -> AppResult<StoredName> {
    let name = match kind {
        "candidate_photo" => &row.candidate_photo,
        "party_logo" => &row.party_logo,
        _ => {
            return Err(AppError::Detail(
                StatusCode::NOT_FOUND,
                "Invalid resource type".into(),
            ));
        }
    };
    StoredName::parse(name).ok_or_else(not_found)
}

#[utoipa::path(get, path = "/api/secure-files/order-items/{item_id}/{resource_type}/", tag = "files",
    summary = "A legacy form's photo or logo of one order item (owner, admins, the assigned staff member)",
    params(("item_id" = i64, Path), ("resource_type" = String, Path, description = "candidate_photo or party_logo"),
        ("token" = Option<String>, Query)),
    responses((status = 200, description = "The image"), (status = 401, description = "Authentication required"),
        (status = 404, description = "Not found, or not the caller's")))]
pub async fn item_file(
    State(state): State<AppState>,
    MaybeUser(header_user): MaybeUser,
    item: Result<ItemId, AppError>,
    axum::extract::Path(params): axum::extract::Path<(String, String)>,
    Query(query): Query<TokenQuery>,
) -> AppResult<Response> {
    let user = caller(&state, header_user, query.token.as_deref()).await?;
    let ItemId(item_id) = item?;
    let kind = params.1;
    let Some(row) = repo::resources_of(&state.db, &[item_id])
        .await?
        .into_iter()
        .next()
    else {
        return Err(not_found());
    };
    let Some(order_id) = repo::order_of_item(&state.db, item_id).await? else {
        return Err(not_found());
    };
    let Some(order) = orders::get(&state, order_id).await? else {
        return Err(not_found());
    };
    if !may_read(&order, &user) {
        return Err(not_found());
    }
    serve(&state, &pick(&row, &kind)?, false).await
}

#[utoipa::path(get, path = "/api/secure-files/orders/{order_id}/{resource_type}/", tag = "files",
    summary = "The legacy form's photo or logo of the order's first item (owner, admins, the assigned staff member)",
    params(("order_id" = i64, Path), ("resource_type" = String, Path, description = "candidate_photo or party_logo"),
        ("token" = Option<String>, Query)),
    responses((status = 200, description = "The image"), (status = 401, description = "Authentication required"),
        (status = 404, description = "Not found, or not the caller's")))]
pub async fn order_file(
    State(state): State<AppState>,
    MaybeUser(header_user): MaybeUser,
    axum::extract::Path(params): axum::extract::Path<(String, String)>,
    Query(query): Query<TokenQuery>,
) -> AppResult<Response> {
    let user = caller(&state, header_user, query.token.as_deref()).await?;
    let (order_id, kind) = params;
    let order_missing = || AppError::Detail(StatusCode::NOT_FOUND, "Order not found".into());
    let order_id = parse_id(&order_id).ok_or_else(order_missing)?;
    let Some(order) = orders::get(&state, order_id).await? else {
        return Err(order_missing());
    };
    if !may_read(&order, &user) {
        return Err(order_missing());
    }
    let items = orders::items(&state, order.id).await?;
    let first = items.first().map(|i| i.id);
    let row = match first {
        Some(id) => repo::resources_of(&state.db, &[id])
            .await?
            .into_iter()
            .next(),
        None => None,
    };
    let Some(row) = row else {
        return Err(AppError::Detail(
            StatusCode::NOT_FOUND,
            "Order resources not found".into(),
        ));
    };
    serve(&state, &pick(&row, &kind)?, false).await
}
