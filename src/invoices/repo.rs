//! Invoice SQL (the only place with SQL for this feature): the order's payment history and latest
//! payment record, the customer's contact fields, and the first-generation stamp.

use time::OffsetDateTime;

use crate::{
    db::Db,
    db_read, db_write,
    invoices::model::{CustomerRow, HistoryRow, RecordRow},
};

pub async fn history(db: &Db, order_id: i64) -> Result<Option<HistoryRow>, sqlx::Error> {
    db_read!(db, |pool| sqlx::query_as::<_, HistoryRow>(
        "SELECT invoice_number, payment_method, transaction_id, amount_paise, currency, status, \
         payment_date, invoice_generated_at FROM payment_history WHERE order_id = $1"
    )
    .bind(order_id)
    .fetch_optional(pool)
    .await)
}

/// The newest manual payment record of the order.
pub async fn latest_record(db: &Db, order_id: i64) -> Result<Option<RecordRow>, sqlx::Error> {
    db_read!(db, |pool| sqlx::query_as::<_, RecordRow>(
        "SELECT amount_paise, payment_method, payment_reference, recorded_at FROM payment_records \
         WHERE order_id = $1 ORDER BY recorded_at DESC, id DESC LIMIT 1"
    )
    .bind(order_id)
    .fetch_optional(pool)
    .await)
}

pub async fn customer(db: &Db, user_id: i64) -> Result<Option<CustomerRow>, sqlx::Error> {
    db_read!(db, |pool| sqlx::query_as::<_, CustomerRow>(
        "SELECT username, first_name, last_name, email, phone_number FROM users WHERE id = $1"
    )
    .bind(user_id)
    .fetch_optional(pool)
    .await)
}

/// Stamps `invoice_generated_at` on the order's payment history, once (D5): `false` when it was
/// already set (or there is no history).
pub async fn mark_generated(
    db: &Db,
    order_id: i64,
    at: OffsetDateTime,
) -> Result<bool, sqlx::Error> {
    db_write!(db, |pool| sqlx::query(
        "UPDATE payment_history SET invoice_generated_at = $1 \
         WHERE order_id = $2 AND invoice_generated_at IS NULL"
    )
    .bind(at)
    .bind(order_id)
    .execute(pool)
    .await
    .map(|r| r.rows_affected() > 0))
}
