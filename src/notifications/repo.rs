//! Notification SQL.

use crate::{
    db::{Tx, now},
    tx_run,
};

/// One notification per active admin, in the caller's transaction; returns how many were written.
pub async fn notify_admins(
    tx: &mut Tx,
    kind: &str,
    title: &str,
    message: &str,
    order_id: Option<i64>,
) -> Result<u64, sqlx::Error> {
    tx_run!(tx, |conn| sqlx::query(
        "INSERT INTO notifications (user_id, notification_type, title, message, order_id, is_read, \
         created_at) SELECT id, $1, $2, $3, $4, FALSE, $5 FROM users \
         WHERE role = 'admin' AND is_active = TRUE"
    )
    .bind(kind)
    .bind(title)
    .bind(message)
    .bind(order_id)
    .bind(now())
    .execute(&mut *conn)
    .await
    .map(|r| r.rows_affected()))
}
