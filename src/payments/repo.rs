//! Payment SQL: the one payment-history row per order, webhook deliveries already handled.

use time::OffsetDateTime;

use crate::{
    db::{Db, Tx, now},
    db_read, db_write,
    payments::model::HistoryRow,
    tx_run,
};

macro_rules! history_select {
    () => {
        "SELECT h.id, h.order_id, o.order_number, h.payment_method, h.transaction_id, h.amount_paise, \
         h.currency, h.status, h.payment_date, h.invoice_generated_at, h.invoice_number, h.metadata, \
         h.created_at FROM payment_history h JOIN orders o ON o.id = h.order_id "
    };
}

pub async fn history_of_order(db: &Db, order_id: i64) -> Result<Option<HistoryRow>, sqlx::Error> {
    const SQL: &str = concat!(history_select!(), "WHERE h.order_id = $1");
    db_read!(db, |pool| sqlx::query_as::<_, HistoryRow>(SQL)
        .bind(order_id)
        .fetch_optional(pool)
        .await)
}

pub async fn history_in(tx: &mut Tx, order_id: i64) -> Result<Option<HistoryRow>, sqlx::Error> {
    const SQL: &str = concat!(history_select!(), "WHERE h.order_id = $1");
    tx_run!(tx, |conn| sqlx::query_as::<_, HistoryRow>(SQL)
        .bind(order_id)
        .fetch_optional(&mut *conn)
        .await)
}

/// The user's Razorpay payments, newest first, paid in `[from, until)` and with `status` when given.
pub async fn history_of_user(
    db: &Db,
    user_id: i64,
    from: Option<OffsetDateTime>,
    until: Option<OffsetDateTime>,
    status: Option<&str>,
    limit: i64,
) -> Result<Vec<HistoryRow>, sqlx::Error> {
    const SQL: &str = concat!(
        history_select!(),
        "WHERE o.user_id = $1 AND ($2 IS NULL OR h.payment_date >= $2) \
         AND ($3 IS NULL OR h.payment_date < $3) AND ($4 IS NULL OR h.status = $4) \
         ORDER BY h.payment_date DESC, h.id DESC LIMIT $5"
    );
    db_read!(db, |pool| sqlx::query_as::<_, HistoryRow>(SQL)
        .bind(user_id)
        .bind(from)
        .bind(until)
        .bind(status)
        .bind(limit)
        .fetch_all(pool)
        .await)
}

/// The order a payment id already paid, if any.
pub async fn order_of_transaction(
    tx: &mut Tx,
    payment_id: &str,
) -> Result<Option<i64>, sqlx::Error> {
    tx_run!(tx, |conn| sqlx::query_scalar::<_, i64>(
        "SELECT order_id FROM payment_history WHERE transaction_id = $1 \
         UNION ALL SELECT id FROM orders WHERE razorpay_payment_id = $1 LIMIT 1"
    )
    .bind(payment_id)
    .fetch_optional(&mut *conn)
    .await)
}

/// A completed Razorpay payment for the order; `false` when a unique key (the order, the payment
/// id or the invoice number) is already taken.
#[allow(clippy::too_many_arguments)]
pub async fn insert_history(
    tx: &mut Tx,
    order_id: i64,
    payment_id: &str,
    amount_paise: i64,
    invoice_number: &str,
    at: OffsetDateTime,
    metadata: &str,
) -> Result<bool, sqlx::Error> {
    tx_run!(tx, |conn| sqlx::query_scalar::<_, i64>(
        "INSERT INTO payment_history (order_id, payment_method, transaction_id, amount_paise, \
         currency, status, payment_date, invoice_number, metadata, created_at, updated_at) \
         VALUES ($1, 'Razorpay', $2, $3, 'INR', 'completed', $4, $5, $6, $4, $4) \
         ON CONFLICT DO NOTHING RETURNING id"
    )
    .bind(order_id)
    .bind(payment_id)
    .bind(amount_paise)
    .bind(at)
    .bind(invoice_number)
    .bind(metadata)
    .fetch_optional(&mut *conn)
    .await
    .map(|id| id.is_some()))
}

/// Whether webhook event `event_id` was handled before.
pub async fn event_seen(db: &Db, event_id: &str) -> Result<bool, sqlx::Error> {
    db_read!(db, |pool| sqlx::query_scalar::<_, i64>(
        "SELECT COUNT(*) FROM webhook_events WHERE event_id = $1"
    )
    .bind(event_id)
    .fetch_one(pool)
    .await
    .map(|n| n > 0))
}

/// Notes webhook event `event_id` as handled.
pub async fn note_event(db: &Db, event_id: &str, event: &str) -> Result<(), sqlx::Error> {
    db_write!(db, |pool| sqlx::query(
        "INSERT INTO webhook_events (event_id, event, received_at) VALUES ($1, $2, $3) \
         ON CONFLICT (event_id) DO NOTHING"
    )
    .bind(event_id)
    .bind(event)
    .bind(now())
    .execute(pool)
    .await
    .map(|_| ()))
}

/// A manual or partial payment (contract-B §2.8).
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct RecordRow {
    pub id: i64,
    pub order_id: i64,
    pub amount_paise: i64,
    pub payment_method: String,
    pub payment_reference: String,
    pub payment_proof: Option<String>,
    pub recorded_by: Option<i64>,
    pub recorded_at: OffsetDateTime,
    pub notes: String,
}

macro_rules! record_select {
    () => {
        "SELECT id, order_id, amount_paise, payment_method, payment_reference, payment_proof, \
         recorded_by, recorded_at, notes FROM payment_records "
    };
}

/// The order's payment records, newest first.
pub async fn records_of(db: &Db, order_id: i64) -> Result<Vec<RecordRow>, sqlx::Error> {
    const SQL: &str = concat!(
        record_select!(),
        "WHERE order_id = $1 ORDER BY recorded_at DESC, id DESC"
    );
    db_read!(db, |pool| sqlx::query_as::<_, RecordRow>(SQL)
        .bind(order_id)
        .fetch_all(pool)
        .await)
}

/// A new payment record.
#[derive(Debug, Clone)]
pub struct NewRecord<'a> {
    pub order_id: i64,
    pub amount_paise: i64,
    pub payment_method: &'a str,
    pub payment_reference: &'a str,
    pub payment_proof: Option<&'a str>,
    pub recorded_by: i64,
    pub notes: &'a str,
}

pub async fn insert_record(tx: &mut Tx, record: &NewRecord<'_>) -> Result<RecordRow, sqlx::Error> {
    const SQL: &str = "INSERT INTO payment_records (order_id, amount_paise, payment_method, \
         payment_reference, payment_proof, recorded_by, recorded_at, notes) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id, order_id, amount_paise, \
         payment_method, payment_reference, payment_proof, recorded_by, recorded_at, notes";
    tx_run!(tx, |conn| sqlx::query_as::<_, RecordRow>(SQL)
        .bind(record.order_id)
        .bind(record.amount_paise)
        .bind(record.payment_method)
        .bind(record.payment_reference)
        .bind(record.payment_proof)
        .bind(record.recorded_by)
        .bind(now())
        .bind(record.notes)
        .fetch_one(&mut *conn)
        .await)
}

/// What the order has been paid: Σ records + the verified Razorpay payment (D18).
pub async fn paid_in(tx: &mut Tx, order_id: i64) -> Result<i64, sqlx::Error> {
    tx_run!(tx, |conn| sqlx::query_scalar::<_, i64>(
        "SELECT CAST((SELECT COALESCE(SUM(amount_paise), 0) FROM payment_records \
         WHERE order_id = $1) + (SELECT COALESCE(SUM(amount_paise), 0) FROM payment_history \
         WHERE order_id = $1 AND status IN ('completed', 'success')) AS BIGINT)"
    )
    .bind(order_id)
    .fetch_one(&mut *conn)
    .await)
}
