//! `/api/cart/`: get, add, remove, clear (contract-A §5.3). Any signed-in user, their own cart only;
//! anonymous → 401. Errors use `{"error":…}`; an invalid add body answers DRF's raw field errors.

use std::collections::HashMap;

use axum::{Json, extract::State, http::StatusCode};
use serde_json::Value;
use utoipa_axum::{router::OpenApiRouter, routes};

use crate::{
    auth::AuthUser,
    cart::{
        model::{AddIn, CartItemOut, CartItemRow, CartOut, CartRow, MAX_QUANTITY},
        repo,
    },
    catalog::{
        model::ProductType,
        products::service::{self as products, Priced},
    },
    error::{AppError, AppResult, FieldErrors},
    extract::{BaseUrl, Body, path::parse_id},
    in_tx,
    money::paise_to_f64,
    path_param,
    state::AppState,
    timefmt::iso_at,
    validation::{INVALID_INT, NULL, REQUIRED, object, parse_int},
};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(get_cart))
        .routes(routes!(add_item))
        .routes(routes!(remove_item))
        .routes(routes!(clear_cart))
}

path_param!(
    /// `{item_id}`: a cart line's id, or `{"detail":"Not found."}`.
    pub struct ItemId(i64) = "item_id", parse_id, AppError::not_found;
);

fn error(status: StatusCode, message: &str) -> AppError {
    AppError::Error(status, message.to_string())
}

fn cart_not_found() -> AppError {
    error(StatusCode::NOT_FOUND, "Cart not found")
}

/// The caller's cart as it is now, in its read shape (`None`: no cart yet).
async fn current(state: &AppState, user_id: i64, base: &str) -> AppResult<Option<CartOut>> {
    match repo::find_with_items(&state.db, user_id).await? {
        Some((cart, lines)) => Ok(Some(render(state, &cart, lines, base).await?)),
        None => Ok(None),
    }
}

/// The cart shape from its live lines: current prices, absolute image URLs.
async fn render(
    state: &AppState,
    cart: &CartRow,
    lines: Vec<CartItemRow>,
    base: &str,
) -> AppResult<CartOut> {
    let mut ids: HashMap<ProductType, Vec<i64>> = HashMap::new();
    for line in &lines {
        if let Some(kind) = ProductType::parse(&line.product_type) {
            ids.entry(kind).or_default().push(line.product_id);
        }
    }
    let mut products: HashMap<(ProductType, i64), Priced> = HashMap::new();
    for (kind, ids) in ids {
        for priced in products::priced_by_ids(state, kind, &ids, base).await? {
            products.insert((kind, priced.id), priced);
        }
    }
    let tz = state.config.tz_offset;
    let mut total_paise: i64 = 0;
    let items: Vec<CartItemOut> = lines
        .iter()
        .filter_map(|line: &CartItemRow| {
            let kind = ProductType::parse(&line.product_type)?;
            // A product deleted between the two reads is left out, as a purged line would be.
            let product = products.get(&(kind, line.product_id))?;
            let subtotal = product.price_paise.saturating_mul(i64::from(line.quantity));
            total_paise = total_paise.saturating_add(subtotal);
            Some(CartItemOut {
                id: line.id,
                item_type: kind.as_str().to_string(),
                item_details: product.out.clone(),
                quantity: line.quantity,
                subtotal: paise_to_f64(subtotal),
                added_at: iso_at(line.added_at, tz),
            })
        })
        .collect();
    Ok(CartOut {
        id: cart.id,
        item_count: items.len(),
        items,
        total: paise_to_f64(total_paise),
        created_at: iso_at(cart.created_at, tz),
        updated_at: iso_at(cart.updated_at, tz),
    })
}

/// The answer of a write: the cart as committed (it exists: the write found or made it).
async fn after_write(state: &AppState, user_id: i64, base: &str) -> AppResult<Json<CartOut>> {
    current(state, user_id, base)
        .await?
        .map(Json)
        .ok_or_else(cart_not_found)
}

async fn cart_of(state: &AppState, user_id: i64) -> AppResult<Option<CartRow>> {
    Ok(repo::find(&state.db, user_id).await?)
}

#[utoipa::path(get, path = "/api/cart/", tag = "cart", summary = "The caller's cart (created if missing)",
    responses((status = 200, body = CartOut), (status = 401, description = "Authentication required")))]
async fn get_cart(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
    BaseUrl(base): BaseUrl,
) -> AppResult<Json<CartOut>> {
    if let Some(cart) = current(&state, user.id, &base).await? {
        return Ok(Json(cart));
    }
    let cart = in_tx!(state.db, |tx| repo::ensure(&mut tx, user.id)).await?;
    Ok(Json(render(&state, &cart, Vec::new(), &base).await?))
}

/// A validated add request.
struct Add {
    kind: ProductType,
    /// `None`: an integer beyond any id (no such product).
    item_id: Option<i64>,
    quantity: i32,
}

/// DRF's serializer: `item_type` a choice, `item_id` an integer, `quantity` an integer ≥ 1
/// (default 1), here also ≤ [`MAX_QUANTITY`].
fn read_add(body: &Value) -> Result<Add, FieldErrors> {
    let fields = object(body)?;
    let mut errors = FieldErrors::default();
    let kind = match fields.get("item_type") {
        None => {
            errors.add("item_type", REQUIRED);
            None
        }
        Some(Value::Null) => {
            errors.add("item_type", NULL);
            None
        }
        Some(value) => {
            let text = match value {
                Value::String(s) => s.clone(),
                other => other.to_string(),
            };
            let kind = ProductType::parse(&text);
            if kind.is_none() {
                errors.add("item_type", format!("\"{text}\" is not a valid choice."));
            }
            kind
        }
    };
    let item_id = match fields.get("item_id") {
        None => {
            errors.add("item_id", REQUIRED);
            None
        }
        Some(Value::Null) => {
            errors.add("item_id", NULL);
            None
        }
        Some(value) => match parse_int(value) {
            None => {
                errors.add("item_id", INVALID_INT);
                None
            }
            Some(n) => Some(i64::try_from(n).ok()),
        },
    };
    let quantity = match fields.get("quantity") {
        None => Some(1),
        Some(Value::Null) => {
            errors.add("quantity", NULL);
            None
        }
        Some(value) => match parse_int(value) {
            None => {
                errors.add("quantity", INVALID_INT);
                None
            }
            Some(n) if n < 1 => {
                errors.add(
                    "quantity",
                    "Ensure this value is greater than or equal to 1.",
                );
                None
            }
            Some(n) if n > i128::from(MAX_QUANTITY) => {
                errors.add(
                    "quantity",
                    format!("Ensure this value is less than or equal to {MAX_QUANTITY}."),
                );
                None
            }
            Some(n) => i32::try_from(n).ok(),
        },
    };
    match (kind, item_id, quantity) {
        (Some(kind), Some(item_id), Some(quantity)) if errors.is_empty() => Ok(Add {
            kind,
            item_id,
            quantity,
        }),
        _ => Err(errors),
    }
}

/// What an add did inside its transaction.
enum Added {
    Done,
    /// The line would pass [`MAX_QUANTITY`]; it holds this many already.
    TooMany(i32),
}

#[utoipa::path(post, path = "/api/cart/add/", tag = "cart", summary = "Add a product (again: more of it)",
    request_body(content = AddIn, content_type = "application/json"),
    responses((status = 200, body = CartOut), (status = 400, description = "Invalid input"),
        (status = 401, description = "Authentication required"), (status = 404, description = "No such active product")))]
async fn add_item(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
    BaseUrl(base): BaseUrl,
    Body(body): Body<Value>,
) -> AppResult<Json<CartOut>> {
    let add = read_add(&body).map_err(AppError::Validation)?;
    let not_found = || {
        AppError::Error(
            StatusCode::NOT_FOUND,
            format!("{} not found", add.kind.model_name()),
        )
    };
    let Some(product_id) = add.item_id else {
        return Err(not_found());
    };
    if !products::is_active(&state, add.kind, product_id).await? {
        return Err(not_found());
    }
    let mut tx = state.db.begin().await?;
    let cart = repo::ensure(&mut tx, user.id).await?;
    // Serialises this cart's writes (PostgreSQL row lock; SQLite has one writer).
    let cart = repo::find_locked(&mut tx, user.id).await?.unwrap_or(cart);
    repo::purge_orphans(&mut tx, cart.id).await?;
    let held = repo::line_quantity(&mut tx, cart.id, add.kind, product_id)
        .await?
        .unwrap_or(0);
    let outcome = if i64::from(held) + i64::from(add.quantity) > MAX_QUANTITY {
        Added::TooMany(held)
    } else {
        repo::add(&mut tx, cart.id, add.kind, product_id, add.quantity).await?;
        Added::Done
    };
    tx.commit().await?;
    match outcome {
        Added::Done => after_write(&state, user.id, &base).await,
        Added::TooMany(held) => Err(AppError::Validation(FieldErrors::one(
            "quantity",
            format!("A cart line holds at most {MAX_QUANTITY} units; this one already has {held}."),
        ))),
    }
}

#[utoipa::path(delete, path = "/api/cart/remove/{item_id}/", tag = "cart", summary = "Remove a line (by cart-item id)",
    params(("item_id" = i64, Path, description = "the cart line's id, not the product's")),
    responses((status = 200, body = CartOut), (status = 401, description = "Authentication required"),
        (status = 404, description = "No cart, or no such line in the caller's cart")))]
async fn remove_item(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
    BaseUrl(base): BaseUrl,
    ItemId(item_id): ItemId,
) -> AppResult<Json<CartOut>> {
    let Some(cart) = cart_of(&state, user.id).await? else {
        return Err(cart_not_found());
    };
    let removed = in_tx!(state.db, |tx| async {
        repo::purge_orphans(&mut tx, cart.id).await?;
        repo::remove(&mut tx, cart.id, item_id).await
    })
    .await?;
    if !removed {
        return Err(error(StatusCode::NOT_FOUND, "Cart item not found"));
    }
    after_write(&state, user.id, &base).await
}

#[utoipa::path(delete, path = "/api/cart/clear/", tag = "cart", summary = "Remove every line",
    responses((status = 200, body = CartOut), (status = 401, description = "Authentication required"),
        (status = 404, description = "No cart yet")))]
async fn clear_cart(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
    BaseUrl(base): BaseUrl,
) -> AppResult<Json<CartOut>> {
    let Some(cart) = cart_of(&state, user.id).await? else {
        return Err(cart_not_found());
    };
    in_tx!(state.db, |tx| repo::clear(&mut tx, cart.id)).await?;
    after_write(&state, user.id, &base).await
}
