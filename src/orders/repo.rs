//! Order SQL. Writes take the caller's [`Tx`]; reads of one order, of a user's orders and of their
//! lines are one statement each.

use time::OffsetDateTime;

use crate::{
    db::{Db, Dialect, IdList, Tx, now},
    db_read,
    orders::model::{NewItem, OrderItemRow, OrderRow},
    sql_for_update, sql_in_ids, tx_run,
};

/// The order columns plus `paid_paise`: payment records and the verified Razorpay payment.
macro_rules! order_select {
    () => {
        "SELECT o.id, o.user_id, o.order_number, o.total_paise, o.status, o.payment_status, \
         o.razorpay_order_id, o.razorpay_payment_id, o.razorpay_signature, o.payment_completed_at, \
         o.assigned_to, o.is_manual_order, o.order_source, o.created_by, o.payment_reference, \
         o.priority, o.admin_notes, o.customer_address, o.customer_city, o.customer_state, \
         o.customer_pincode, o.created_at, o.updated_at, \
         CAST((SELECT COALESCE(SUM(r.amount_paise), 0) FROM payment_records r WHERE r.order_id = o.id) \
         + (SELECT COALESCE(SUM(h.amount_paise), 0) FROM payment_history h \
            WHERE h.order_id = o.id AND h.status IN ('completed', 'success')) AS BIGINT) AS paid_paise \
         FROM orders o "
    };
}

macro_rules! item_columns {
    () => {
        "SELECT id, order_id, product_type, product_id, product_name, quantity, price_paise, \
         resources_uploaded"
    };
}

/// The order `id` if it belongs to `user_id`.
pub async fn get_owned(db: &Db, id: i64, user_id: i64) -> Result<Option<OrderRow>, sqlx::Error> {
    const SQL: &str = concat!(order_select!(), "WHERE o.id = $1 AND o.user_id = $2");
    db_read!(db, |pool| sqlx::query_as::<_, OrderRow>(SQL)
        .bind(id)
        .bind(user_id)
        .fetch_optional(pool)
        .await)
}

/// The order `id`, whoever owns it.
pub async fn get(db: &Db, id: i64) -> Result<Option<OrderRow>, sqlx::Error> {
    const SQL: &str = concat!(order_select!(), "WHERE o.id = $1");
    db_read!(db, |pool| sqlx::query_as::<_, OrderRow>(SQL)
        .bind(id)
        .fetch_optional(pool)
        .await)
}

/// The user's orders, newest first, at most `limit`.
pub async fn list_for_user(
    db: &Db,
    user_id: i64,
    limit: i64,
) -> Result<Vec<OrderRow>, sqlx::Error> {
    const SQL: &str = concat!(
        order_select!(),
        "WHERE o.user_id = $1 ORDER BY o.created_at DESC, o.id DESC LIMIT $2"
    );
    db_read!(db, |pool| sqlx::query_as::<_, OrderRow>(SQL)
        .bind(user_id)
        .bind(limit)
        .fetch_all(pool)
        .await)
}

/// The lines of these orders, in insertion order.
pub async fn items_of(db: &Db, order_ids: &[i64]) -> Result<Vec<OrderItemRow>, sqlx::Error> {
    const SQL: Dialect = sql_in_ids!(
        concat!(item_columns!(), " FROM order_items WHERE order_id"),
        "$1",
        " ORDER BY id"
    );
    if order_ids.is_empty() {
        return Ok(Vec::new());
    }
    let sql = db.sql(SQL);
    db_read!(db, |pool| sqlx::query_as::<_, OrderItemRow>(sql)
        .bind(IdList(order_ids))
        .fetch_all(pool)
        .await)
}

/// The order `id`, locked for the rest of the transaction (PostgreSQL), in its row shape.
pub async fn lock(tx: &mut Tx, id: i64) -> Result<Option<OrderRow>, sqlx::Error> {
    const LOCK: Dialect = sql_for_update!(no_key: "SELECT id FROM orders WHERE id = $1");
    const SQL: &str = concat!(order_select!(), "WHERE o.id = $1");
    let lock = tx.sql(LOCK);
    tx_run!(tx, |conn| {
        let found = sqlx::query_scalar::<_, i64>(lock)
            .bind(id)
            .fetch_optional(&mut *conn)
            .await?;
        match found {
            None => Ok(None),
            Some(_) => {
                sqlx::query_as::<_, OrderRow>(SQL)
                    .bind(id)
                    .fetch_optional(&mut *conn)
                    .await
            }
        }
    })
}

/// The order whose Razorpay order is `razorpay_order_id`, if any.
pub async fn by_gateway_order(
    db: &Db,
    razorpay_order_id: &str,
) -> Result<Option<OrderRow>, sqlx::Error> {
    const SQL: &str = concat!(
        order_select!(),
        "WHERE o.razorpay_order_id = $1 AND o.razorpay_order_id <> '' ORDER BY o.id LIMIT 1"
    );
    db_read!(db, |pool| sqlx::query_as::<_, OrderRow>(SQL)
        .bind(razorpay_order_id)
        .fetch_optional(pool)
        .await)
}

/// A new website order awaiting payment; `None` when the order number is taken (draw another).
pub async fn insert_website(
    tx: &mut Tx,
    user_id: i64,
    order_number: &str,
    total_paise: i64,
) -> Result<Option<i64>, sqlx::Error> {
    let at = now();
    tx_run!(tx, |conn| sqlx::query_scalar::<_, i64>(
        "INSERT INTO orders (user_id, order_number, total_paise, status, payment_status, \
         order_source, created_at, updated_at) \
         VALUES ($1, $2, $3, 'pending_payment', 'unpaid', 'website', $4, $4) \
         ON CONFLICT (order_number) DO NOTHING RETURNING id"
    )
    .bind(user_id)
    .bind(order_number)
    .bind(total_paise)
    .bind(at)
    .fetch_optional(&mut *conn)
    .await)
}

pub async fn insert_items(
    tx: &mut Tx,
    order_id: i64,
    items: &[NewItem],
) -> Result<(), sqlx::Error> {
    for item in items {
        tx_run!(tx, |conn| sqlx::query(
            "INSERT INTO order_items (order_id, product_type, product_id, product_name, quantity, \
             price_paise) VALUES ($1, $2, $3, $4, $5, $6)"
        )
        .bind(order_id)
        .bind(&item.product_type)
        .bind(item.product_id)
        .bind(&item.product_name)
        .bind(item.quantity)
        .bind(item.price_paise)
        .execute(&mut *conn)
        .await
        .map(|_| ()))?;
    }
    Ok(())
}

/// The lines of one order inside a transaction.
pub async fn items_in(tx: &mut Tx, order_id: i64) -> Result<Vec<OrderItemRow>, sqlx::Error> {
    const SQL: &str = concat!(
        item_columns!(),
        " FROM order_items WHERE order_id = $1 ORDER BY id"
    );
    tx_run!(tx, |conn| sqlx::query_as::<_, OrderItemRow>(SQL)
        .bind(order_id)
        .fetch_all(&mut *conn)
        .await)
}

/// Stores the gateway's order id on an order that has none yet; `false` if it already had one.
pub async fn set_gateway_order(
    tx: &mut Tx,
    id: i64,
    razorpay_order_id: &str,
    at: OffsetDateTime,
) -> Result<bool, sqlx::Error> {
    tx_run!(tx, |conn| sqlx::query(
        "UPDATE orders SET razorpay_order_id = $1, updated_at = $2 \
         WHERE id = $3 AND razorpay_order_id = ''"
    )
    .bind(razorpay_order_id)
    .bind(at)
    .bind(id)
    .execute(&mut *conn)
    .await
    .map(|r| r.rows_affected() > 0))
}

/// Deletes a website order that never reached the gateway (no Razorpay id, unpaid); `false` if it
/// is no longer such an order.
pub async fn delete_unsent(tx: &mut Tx, id: i64) -> Result<bool, sqlx::Error> {
    tx_run!(tx, |conn| sqlx::query(
        "DELETE FROM orders WHERE id = $1 AND razorpay_order_id = '' \
         AND status = 'pending_payment' AND payment_status = 'unpaid' AND is_manual_order = FALSE"
    )
    .bind(id)
    .execute(&mut *conn)
    .await
    .map(|r| r.rows_affected() > 0))
}

/// The user's newest website order that never got a Razorpay order and was last touched before
/// `before` (a creation interrupted between its transaction and the gateway call).
pub async fn unsent_before(
    tx: &mut Tx,
    user_id: i64,
    before: OffsetDateTime,
) -> Result<Option<(i64, OffsetDateTime)>, sqlx::Error> {
    tx_run!(tx, |conn| sqlx::query_as::<_, (i64, OffsetDateTime)>(
        "SELECT id, updated_at FROM orders WHERE user_id = $1 AND razorpay_order_id = '' \
         AND status = 'pending_payment' AND payment_status = 'unpaid' AND is_manual_order = FALSE \
         AND updated_at < $2 ORDER BY id DESC LIMIT 1"
    )
    .bind(user_id)
    .bind(before)
    .fetch_optional(&mut *conn)
    .await)
}

/// Takes over an interrupted order: bumps `updated_at` if it is still `seen`; `false` if another
/// request took it first.
pub async fn claim(tx: &mut Tx, id: i64, seen: OffsetDateTime) -> Result<bool, sqlx::Error> {
    tx_run!(tx, |conn| {
        sqlx::query(
        "UPDATE orders SET updated_at = $1 WHERE id = $2 AND updated_at = $3 AND razorpay_order_id = ''"
    )
    .bind(now())
    .bind(id)
    .bind(seen)
    .execute(&mut *conn)
    .await
    .map(|r| r.rows_affected() > 0)
    })
}

/// Marks the order paid by a Razorpay payment (status moves separately, through the machine).
pub async fn set_paid(
    tx: &mut Tx,
    id: i64,
    payment_id: &str,
    signature: Option<&str>,
    at: OffsetDateTime,
) -> Result<(), sqlx::Error> {
    tx_run!(tx, |conn| sqlx::query(
        "UPDATE orders SET razorpay_payment_id = $1, \
         razorpay_signature = COALESCE($2, razorpay_signature), \
         payment_completed_at = COALESCE(payment_completed_at, $3), payment_status = 'paid', \
         updated_at = $3 WHERE id = $4"
    )
    .bind(payment_id)
    .bind(signature)
    .bind(at)
    .bind(id)
    .execute(&mut *conn)
    .await
    .map(|_| ()))
}

/// An `Idempotency-Key` already used by the user: its order and stored answer (`None` while the
/// first request is still running), and when it was first seen.
pub async fn idempotency(
    tx: &mut Tx,
    user_id: i64,
    key: &str,
) -> Result<Option<(Option<String>, OffsetDateTime)>, sqlx::Error> {
    tx_run!(tx, |conn| sqlx::query_as::<
        _,
        (Option<String>, OffsetDateTime),
    >(
        "SELECT response, created_at FROM order_idempotency WHERE user_id = $1 AND idem_key = $2"
    )
    .bind(user_id)
    .bind(key)
    .fetch_optional(&mut *conn)
    .await)
}

pub async fn forget_idempotency(tx: &mut Tx, user_id: i64, key: &str) -> Result<(), sqlx::Error> {
    tx_run!(tx, |conn| sqlx::query(
        "DELETE FROM order_idempotency WHERE user_id = $1 AND idem_key = $2"
    )
    .bind(user_id)
    .bind(key)
    .execute(&mut *conn)
    .await
    .map(|_| ()))
}

pub async fn insert_idempotency(
    tx: &mut Tx,
    user_id: i64,
    key: &str,
    order_id: i64,
) -> Result<(), sqlx::Error> {
    tx_run!(tx, |conn| {
        sqlx::query(
        "INSERT INTO order_idempotency (user_id, idem_key, order_id, created_at) VALUES ($1, $2, $3, $4)"
    )
    .bind(user_id)
    .bind(key)
    .bind(order_id)
    .bind(now())
    .execute(&mut *conn)
    .await
    .map(|_| ())
    })
}

/// Stores the first answer for every key that created `order_id`.
pub async fn answer_idempotency(
    tx: &mut Tx,
    order_id: i64,
    response: &str,
) -> Result<(), sqlx::Error> {
    tx_run!(tx, |conn| sqlx::query(
        "UPDATE order_idempotency SET response = $1 WHERE order_id = $2 AND response IS NULL"
    )
    .bind(response)
    .bind(order_id)
    .execute(&mut *conn)
    .await
    .map(|_| ()))
}

/// Marks a line of the order as having its resources; `false` when the order has no such line.
pub async fn mark_item_uploaded(
    tx: &mut Tx,
    order_id: i64,
    item_id: i64,
) -> Result<bool, sqlx::Error> {
    tx_run!(tx, |conn| sqlx::query(
        "UPDATE order_items SET resources_uploaded = TRUE WHERE id = $1 AND order_id = $2"
    )
    .bind(item_id)
    .bind(order_id)
    .execute(&mut *conn)
    .await
    .map(|r| r.rows_affected() > 0))
}

/// The phone number of the order's customer (for notification texts).
pub async fn customer_phone(tx: &mut Tx, order_id: i64) -> Result<Option<String>, sqlx::Error> {
    tx_run!(tx, |conn| sqlx::query_scalar::<_, Option<String>>(
        "SELECT u.phone_number FROM users u JOIN orders o ON o.user_id = u.id WHERE o.id = $1"
    )
    .bind(order_id)
    .fetch_optional(&mut *conn)
    .await
    .map(Option::flatten))
}

/// Sets (or clears) the order's assignee.
pub async fn set_assignee(tx: &mut Tx, id: i64, staff: Option<i64>) -> Result<(), sqlx::Error> {
    tx_run!(tx, |conn| sqlx::query(
        "UPDATE orders SET assigned_to = $1, updated_at = $2 WHERE id = $3"
    )
    .bind(staff)
    .bind(now())
    .bind(id)
    .execute(&mut *conn)
    .await
    .map(|_| ()))
}

/// Sets the payment status; `paid` stamps `payment_completed_at` once (it is never cleared).
pub async fn set_payment_status(tx: &mut Tx, id: i64, status: &str) -> Result<(), sqlx::Error> {
    let at = now();
    tx_run!(tx, |conn| sqlx::query(
        "UPDATE orders SET payment_status = $1, payment_completed_at = CASE WHEN $1 = 'paid' \
         THEN COALESCE(payment_completed_at, $2) ELSE payment_completed_at END, updated_at = $2 \
         WHERE id = $3"
    )
    .bind(status)
    .bind(at)
    .bind(id)
    .execute(&mut *conn)
    .await
    .map(|_| ()))
}

/// A manual order (D4): taken by phone, WhatsApp or in person, every line already resourced.
#[derive(Debug, Clone)]
pub struct NewManual<'a> {
    pub user_id: i64,
    pub order_number: &'a str,
    pub total_paise: i64,
    pub status: &'a str,
    pub payment_status: &'a str,
    pub order_source: &'a str,
    pub created_by: i64,
    pub priority: &'a str,
    pub admin_notes: &'a str,
    /// Address, city, state and pincode.
    pub address: [&'a str; 4],
}

/// Inserts a manual order; `None` when the order number is taken (draw another).
pub async fn insert_manual(tx: &mut Tx, order: &NewManual<'_>) -> Result<Option<i64>, sqlx::Error> {
    let at = now();
    tx_run!(tx, |conn| sqlx::query_scalar::<_, i64>(
        "INSERT INTO orders (user_id, order_number, total_paise, status, payment_status, \
         is_manual_order, order_source, created_by, priority, admin_notes, customer_address, \
         customer_city, customer_state, customer_pincode, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, TRUE, $6, $7, $8, $9, $11, $12, $13, $14, $10, $10) \
         ON CONFLICT (order_number) DO NOTHING RETURNING id"
    )
    .bind(order.user_id)
    .bind(order.order_number)
    .bind(order.total_paise)
    .bind(order.status)
    .bind(order.payment_status)
    .bind(order.order_source)
    .bind(order.created_by)
    .bind(order.priority)
    .bind(order.admin_notes)
    .bind(at)
    .bind(order.address[0])
    .bind(order.address[1])
    .bind(order.address[2])
    .bind(order.address[3])
    .fetch_optional(&mut *conn)
    .await)
}

/// Marks every line of the order as resourced (manual orders need no uploads).
pub async fn mark_all_uploaded(tx: &mut Tx, order_id: i64) -> Result<(), sqlx::Error> {
    tx_run!(tx, |conn| sqlx::query(
        "UPDATE order_items SET resources_uploaded = TRUE WHERE order_id = $1"
    )
    .bind(order_id)
    .execute(&mut *conn)
    .await
    .map(|_| ()))
}

/// Stamps `payment_completed_at` if it is empty (a manual order paid in full at creation).
pub async fn stamp_paid_at(tx: &mut Tx, id: i64) -> Result<(), sqlx::Error> {
    tx_run!(tx, |conn| sqlx::query(
        "UPDATE orders SET payment_completed_at = COALESCE(payment_completed_at, $1) WHERE id = $2"
    )
    .bind(now())
    .bind(id)
    .execute(&mut *conn)
    .await
    .map(|_| ()))
}

/// Moves a demo order back in time: created (and last updated) at `created`, paid at `paid`.
pub async fn backdate(
    tx: &mut Tx,
    id: i64,
    created: OffsetDateTime,
    paid: Option<OffsetDateTime>,
) -> Result<(), sqlx::Error> {
    tx_run!(tx, |conn| {
        sqlx::query(
        "UPDATE orders SET created_at = $2, updated_at = $2, payment_completed_at = $3 WHERE id = $1"
    )
    .bind(id)
    .bind(created)
    .bind(paid)
    .execute(&mut *conn)
    .await
    .map(|_| ())
    })
}

/// A status-history row.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct HistoryEntry {
    pub id: i64,
    pub order_id: i64,
    pub old_status: String,
    pub new_status: String,
    pub changed_by: Option<i64>,
    pub changed_at: OffsetDateTime,
    pub reason: String,
    pub is_manual_change: bool,
}

/// The order's latest `limit` status-history rows, newest first.
pub async fn history_of(
    db: &Db,
    order_id: i64,
    limit: i64,
) -> Result<Vec<HistoryEntry>, sqlx::Error> {
    db_read!(db, |pool| sqlx::query_as::<_, HistoryEntry>(
        "SELECT id, order_id, old_status, new_status, changed_by, changed_at, reason, \
         is_manual_change FROM order_status_history WHERE order_id = $1 \
         ORDER BY changed_at DESC, id DESC LIMIT $2"
    )
    .bind(order_id)
    .bind(limit)
    .fetch_all(pool)
    .await)
}
