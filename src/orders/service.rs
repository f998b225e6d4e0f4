//! Order flows other features build on: placing an order from the cart (D20: one transaction,
//! under the cart's lock), attaching or abandoning its gateway order, and the customer read shape.

use std::{collections::HashMap, time::Duration};

use axum::http::StatusCode;
use time::OffsetDateTime;

use crate::{
    cart::service as cart,
    catalog::{
        model::{ProductOut, ProductType},
        products::service as products,
    },
    db::{Tx, now},
    error::{AppError, AppResult},
    money::{MAX_PAISE, format_paise, paise_to_f64},
    orders::{
        derived,
        model::{
            NewItem, OrderItemOut, OrderItemRow, OrderOut, OrderRow, PendingItemOut,
            upload_progress,
        },
        repo,
        status::{self, Status},
    },
    state::AppState,
    timefmt::iso_at,
};

pub use crate::orders::repo::{
    HistoryEntry, NewManual, backdate, customer_phone, insert_items, insert_manual, items_in, lock,
    mark_all_uploaded, mark_item_uploaded, set_assignee, set_paid, set_payment_status,
    stamp_paid_at,
};

/// Razorpay refuses orders below ₹1 (reliability A6): refused before the gateway is called.
pub const MIN_ORDER_PAISE: i64 = 100;
/// Most orders a customer's `my-orders` lists (newest first).
pub const MY_ORDERS_LIMIT: i64 = 500;

fn error(status: StatusCode, message: &str) -> AppError {
    AppError::Error(status, message.to_string())
}

pub fn order_not_found() -> AppError {
    error(StatusCode::NOT_FOUND, "Order not found")
}

/// The caller's order `id`, or `{"error": "Order not found"}` (a foreign order looks missing).
pub async fn owned(state: &AppState, id: i64, user_id: i64) -> AppResult<OrderRow> {
    repo::get_owned(&state.db, id, user_id)
        .await?
        .ok_or_else(order_not_found)
}

/// The order whose Razorpay order is `razorpay_order_id` (the webhook's lookup).
pub async fn by_gateway_order(
    state: &AppState,
    razorpay_order_id: &str,
) -> AppResult<Option<OrderRow>> {
    Ok(repo::by_gateway_order(&state.db, razorpay_order_id).await?)
}

/// `EC-<YYYYMMDD in the shop's zone>-<8 uppercase hex>` (contract-B §2.1).
pub fn order_number(at: OffsetDateTime, tz: time::UtcOffset) -> String {
    dated_number("EC", at, tz)
}

/// `<prefix>-<YYYYMMDD>-<8 uppercase hex from a v4 UUID>`.
pub fn dated_number(prefix: &str, at: OffsetDateTime, tz: time::UtcOffset) -> String {
    let day = at.to_offset(tz).date();
    let suffix = uuid::Uuid::new_v4().simple().to_string()[..8].to_ascii_uppercase();
    format!(
        "{prefix}-{:04}{:02}{:02}-{suffix}",
        day.year(),
        u8::from(day.month()),
        day.day()
    )
}

/// An order placed and committed, waiting for its gateway order.
#[derive(Debug, Clone)]
pub struct Placed {
    pub order: OrderRow,
    pub items: Vec<OrderItemRow>,
}

/// What [`place_from_cart`] did.
#[derive(Debug)]
pub enum Begun {
    Placed(Box<Placed>),
    /// The `Idempotency-Key` was used before: its first answer.
    Replay(String),
}

/// Places the caller's cart as an order in one transaction: the cart's lock serialises concurrent
/// attempts, so one cart gives one order (the others find it empty). Lines are snapshotted at
/// current prices in paise; the cart is emptied; the first history row is written. An order whose
/// creation was interrupted before it reached the gateway (older than `stale`) is taken over by the
/// next attempt on an empty cart.
pub async fn place_from_cart(
    state: &AppState,
    user_id: i64,
    key: Option<&str>,
    stale: Duration,
) -> AppResult<Begun> {
    let mut tx = state.db.begin().await?;
    let locked = cart::lock_lines(&mut tx, user_id).await?;
    if let Some(key) = key
        && let Some((answer, first_seen)) = repo::idempotency(&mut tx, user_id, key).await?
    {
        match answer {
            Some(body) => return Ok(Begun::Replay(body)),
            None if now() - first_seen < stale => {
                return Err(error(
                    StatusCode::CONFLICT,
                    "A request with this Idempotency-Key is still in progress",
                ));
            }
            None => repo::forget_idempotency(&mut tx, user_id, key).await?,
        }
    }
    let Some((cart_id, lines)) = locked else {
        return Err(error(StatusCode::NOT_FOUND, "Cart not found"));
    };
    let order_id = if lines.is_empty() {
        match take_over_interrupted(&mut tx, user_id, stale).await? {
            Some(id) => id,
            None => return Err(error(StatusCode::BAD_REQUEST, "Cart is empty")),
        }
    } else {
        let items = snapshot(&mut tx, &lines).await?;
        let total = items.iter().try_fold(0i64, |sum, item| {
            item.price_paise
                .checked_mul(i64::from(item.quantity))
                .and_then(|line| sum.checked_add(line))
        });
        let total = match total {
            Some(total) if total > MAX_PAISE => None,
            other => other,
        };
        let Some(total) = total else {
            return Err(error(
                StatusCode::BAD_REQUEST,
                "Order total exceeds the maximum of ₹99,999,999.99",
            ));
        };
        if total < MIN_ORDER_PAISE {
            return Err(error(
                StatusCode::BAD_REQUEST,
                "Order total must be at least ₹1.00",
            ));
        }
        let order_id = insert_numbered(&mut tx, state, user_id, total).await?;
        repo::insert_items(&mut tx, order_id, &items).await?;
        status::record_initial(&mut tx, order_id, Status::PendingPayment, Some(user_id), "")
            .await?;
        cart::empty(&mut tx, cart_id).await?;
        order_id
    };
    if let Some(key) = key {
        repo::insert_idempotency(&mut tx, user_id, key, order_id).await?;
    }
    let order = repo::lock(&mut tx, order_id)
        .await?
        .ok_or_else(|| AppError::Internal(anyhow::anyhow!("placed order vanished")))?;
    let items = repo::items_in(&mut tx, order_id).await?;
    derived::commit(state, tx).await?;
    Ok(Begun::Placed(Box::new(Placed { order, items })))
}

/// The user's order interrupted between its transaction and the gateway, claimed for this attempt.
async fn take_over_interrupted(
    tx: &mut Tx,
    user_id: i64,
    stale: Duration,
) -> Result<Option<i64>, sqlx::Error> {
    let Some((id, seen)) = repo::unsent_before(tx, user_id, now() - stale).await? else {
        return Ok(None);
    };
    Ok(repo::claim(tx, id, seen).await?.then_some(id))
}

/// The cart's lines with each product's current name and price (a product deleted since is left
/// out, as the cart leaves it out).
async fn snapshot(
    tx: &mut Tx,
    lines: &[crate::cart::model::CartItemRow],
) -> AppResult<Vec<NewItem>> {
    let mut ids: HashMap<ProductType, Vec<i64>> = HashMap::new();
    for line in lines {
        if let Some(kind) = ProductType::parse(&line.product_type) {
            ids.entry(kind).or_default().push(line.product_id);
        }
    }
    let mut tags = HashMap::new();
    for (kind, ids) in ids {
        for tag in products::price_tags(tx, kind, &ids).await? {
            tags.insert((kind, tag.id), tag);
        }
    }
    Ok(lines
        .iter()
        .filter_map(|line| {
            let kind = ProductType::parse(&line.product_type)?;
            let tag = tags.get(&(kind, line.product_id))?;
            Some(NewItem {
                product_type: kind.as_str().to_string(),
                product_id: line.product_id,
                product_name: tag.name.clone(),
                quantity: line.quantity,
                price_paise: tag.price_paise,
            })
        })
        .collect())
}

/// Inserts the order under a fresh number (another draw on the rare collision).
async fn insert_numbered(
    tx: &mut Tx,
    state: &AppState,
    user_id: i64,
    total: i64,
) -> AppResult<i64> {
    for _ in 0..5 {
        let number = order_number(now(), state.config.tz_offset);
        if let Some(id) = repo::insert_website(tx, user_id, &number, total).await? {
            return Ok(id);
        }
    }
    Err(AppError::Internal(anyhow::anyhow!(
        "five order-number collisions in a row"
    )))
}

/// Stores the gateway's order id (and the answer an `Idempotency-Key` replays) at `at`.
pub async fn attach_gateway_order(
    state: &AppState,
    order_id: i64,
    razorpay_order_id: &str,
    at: OffsetDateTime,
    answer: &str,
) -> AppResult<()> {
    let mut tx = state.db.begin().await?;
    repo::set_gateway_order(&mut tx, order_id, razorpay_order_id, at).await?;
    repo::answer_idempotency(&mut tx, order_id, answer).await?;
    derived::commit(state, tx).await?;
    Ok(())
}

/// Undoes a placed order whose gateway order could not be made: its lines go back into the cart
/// and the order (never payable: no Razorpay id) is deleted, with its history and idempotency key.
pub async fn abandon(state: &AppState, placed: &Placed) -> AppResult<()> {
    let mut tx = state.db.begin().await?;
    let lines: Vec<(ProductType, i64, i32)> = placed
        .items
        .iter()
        .filter_map(|i| {
            Some((
                ProductType::parse(&i.product_type)?,
                i.product_id,
                i.quantity,
            ))
        })
        .collect();
    if repo::delete_unsent(&mut tx, placed.order.id).await? {
        cart::restore(&mut tx, placed.order.user_id, &lines).await?;
    }
    derived::commit(state, tx).await?;
    Ok(())
}

/// The customer read shape of these orders (their lines and products read in one go).
pub async fn render(state: &AppState, rows: &[OrderRow], base: &str) -> AppResult<Vec<OrderOut>> {
    let ids: Vec<i64> = rows.iter().map(|r| r.id).collect();
    let items = repo::items_of(&state.db, &ids).await?;
    let products = products_of(state, &items, base).await?;
    let mut by_order: HashMap<i64, Vec<OrderItemRow>> = HashMap::new();
    for item in items {
        by_order.entry(item.order_id).or_default().push(item);
    }
    Ok(rows
        .iter()
        .map(|row| {
            let items = by_order.remove(&row.id).unwrap_or_default();
            order_out(row, &items, &products, state.config.tz_offset)
        })
        .collect())
}

/// The lines of an order, in insertion order.
pub async fn items(state: &AppState, order_id: i64) -> AppResult<Vec<OrderItemRow>> {
    Ok(repo::items_of(&state.db, &[order_id]).await?)
}

/// The order `id` whoever owns it (the secure-file routes decide access themselves).
pub async fn get(state: &AppState, id: i64) -> AppResult<Option<OrderRow>> {
    Ok(repo::get(&state.db, id).await?)
}

pub async fn render_one(state: &AppState, row: &OrderRow, base: &str) -> AppResult<OrderOut> {
    let items = repo::items_of(&state.db, &[row.id]).await?;
    let products = products_of(state, &items, base).await?;
    Ok(order_out(row, &items, &products, state.config.tz_offset))
}

/// The customer's orders, newest first (at most [`MY_ORDERS_LIMIT`]).
pub async fn mine(state: &AppState, user_id: i64, base: &str) -> AppResult<Vec<OrderOut>> {
    let rows = repo::list_for_user(&state.db, user_id, MY_ORDERS_LIMIT).await?;
    render(state, &rows, base).await
}

/// Each line's product name now, by line id (`"Unknown"` once the product is gone).
pub async fn item_names(
    state: &AppState,
    items: &[OrderItemRow],
) -> AppResult<HashMap<i64, String>> {
    let mut ids: HashMap<ProductType, Vec<i64>> = HashMap::new();
    for item in items {
        if let Some(kind) = ProductType::parse(&item.product_type) {
            ids.entry(kind).or_default().push(item.product_id);
        }
    }
    let mut names: HashMap<(ProductType, i64), String> = HashMap::new();
    for (kind, ids) in ids {
        for (id, name) in products::names(state, kind, &ids).await? {
            names.insert((kind, id), name);
        }
    }
    Ok(items
        .iter()
        .map(|item| {
            let name = ProductType::parse(&item.product_type)
                .and_then(|kind| names.get(&(kind, item.product_id)).cloned())
                .unwrap_or_else(|| "Unknown".to_string());
            (item.id, name)
        })
        .collect())
}

/// The pending-item mini-shape of these lines (contract-B §3.2).
pub fn pending_out(items: &[OrderItemRow], names: &HashMap<i64, String>) -> Vec<PendingItemOut> {
    items
        .iter()
        .filter(|i| !i.resources_uploaded)
        .map(|item| PendingItemOut {
            id: item.id,
            item_type: item.product_type.clone(),
            item_name: names
                .get(&item.id)
                .cloned()
                .unwrap_or_else(|| "Unknown".into()),
            quantity: item.quantity,
        })
        .collect()
}

type Products = HashMap<(ProductType, i64), ProductOut>;

async fn products_of(state: &AppState, items: &[OrderItemRow], base: &str) -> AppResult<Products> {
    let mut ids: HashMap<ProductType, Vec<i64>> = HashMap::new();
    for item in items {
        if let Some(kind) = ProductType::parse(&item.product_type) {
            let list = ids.entry(kind).or_default();
            if !list.contains(&item.product_id) {
                list.push(item.product_id);
            }
        }
    }
    let mut products = HashMap::new();
    for (kind, ids) in ids {
        for priced in products::priced_by_ids(state, kind, &ids, base).await? {
            products.insert((kind, priced.id), priced.out);
        }
    }
    Ok(products)
}

fn order_out(
    row: &OrderRow,
    items: &[OrderItemRow],
    products: &Products,
    tz: time::UtcOffset,
) -> OrderOut {
    let product = |item: &OrderItemRow| {
        ProductType::parse(&item.product_type)
            .and_then(|kind| products.get(&(kind, item.product_id)))
    };
    let pending = items
        .iter()
        .filter(|i| !i.resources_uploaded)
        .map(|item| PendingItemOut {
            id: item.id,
            item_type: item.product_type.clone(),
            item_name: product(item).map_or_else(|| "Unknown".to_string(), |p| p.name.clone()),
            quantity: item.quantity,
        })
        .collect();
    OrderOut {
        id: row.id,
        order_number: row.order_number.clone(),
        total_amount: format_paise(row.total_paise),
        status: row.status.clone(),
        payment_status: row.payment_status.clone(),
        razorpay_order_id: row.razorpay_order_id.clone(),
        razorpay_payment_id: row.razorpay_payment_id.clone(),
        payment_completed_at: row.payment_completed_at.map(|t| iso_at(t, tz)),
        items: items
            .iter()
            .map(|item| OrderItemOut {
                id: item.id,
                item_type: item.product_type.clone(),
                item_details: product(item).cloned(),
                quantity: item.quantity,
                price: format_paise(item.price_paise),
                subtotal: paise_to_f64(item.subtotal_paise()),
                resources_uploaded: item.resources_uploaded,
            })
            .collect(),
        total_items: items.len(),
        resource_upload_progress: upload_progress(items),
        pending_resource_items: pending,
        total_paid: paise_to_f64(row.paid_paise),
        payment_balance: paise_to_f64(row.total_paise - row.paid_paise),
        created_at: iso_at(row.created_at, tz),
        updated_at: iso_at(row.updated_at, tz),
    }
}

/// The order's latest `limit` status-history rows, newest first.
pub async fn history(state: &AppState, order_id: i64, limit: i64) -> AppResult<Vec<HistoryEntry>> {
    Ok(repo::history_of(&state.db, order_id, limit).await?)
}
