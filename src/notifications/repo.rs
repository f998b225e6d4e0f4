//! Notification SQL.

use crate::{
    db::{Db, Tx, now},
    db_read, db_write, tx_run,
};

/// One notification per active admin, in the caller's transaction; returns the recipients.
pub async fn notify_admins(
    tx: &mut Tx,
    kind: &str,
    title: &str,
    message: &str,
    order_id: Option<i64>,
) -> Result<Vec<i64>, sqlx::Error> {
    tx_run!(tx, |conn| sqlx::query_scalar::<_, i64>(
        "INSERT INTO notifications (user_id, notification_type, title, message, order_id, is_read, \
         created_at) SELECT id, $1, $2, $3, $4, FALSE, $5 FROM users \
         WHERE role = 'admin' AND is_active = TRUE RETURNING user_id"
    )
    .bind(kind)
    .bind(title)
    .bind(message)
    .bind(order_id)
    .bind(now())
    .fetch_all(&mut *conn)
    .await)
}

/// A notification row with its order's number.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct NotificationRow {
    pub id: i64,
    pub notification_type: String,
    pub title: String,
    pub message: String,
    pub order_id: Option<i64>,
    pub order_number: Option<String>,
    pub is_read: bool,
    pub created_at: time::OffsetDateTime,
}

/// How many of the user's notifications there are (only unread ones when `unread_only`).
pub async fn count(db: &Db, user_id: i64, unread_only: bool) -> Result<i64, sqlx::Error> {
    db_read!(db, |pool| sqlx::query_scalar::<_, i64>(
        "SELECT COUNT(*) FROM notifications WHERE user_id = $1 AND ($2 = FALSE OR is_read = FALSE)"
    )
    .bind(user_id)
    .bind(unread_only)
    .fetch_one(pool)
    .await)
}

/// One page of the user's notifications, newest first.
pub async fn page(
    db: &Db,
    user_id: i64,
    unread_only: bool,
    limit: i64,
    offset: i64,
) -> Result<Vec<NotificationRow>, sqlx::Error> {
    db_read!(db, |pool| {
        sqlx::query_as::<_, NotificationRow>(
        "SELECT n.id, n.notification_type, n.title, n.message, n.order_id, o.order_number, n.is_read, \
         n.created_at FROM notifications n LEFT JOIN orders o ON o.id = n.order_id \
         WHERE n.user_id = $1 AND ($2 = FALSE OR n.is_read = FALSE) \
         ORDER BY n.created_at DESC, n.id DESC LIMIT $3 OFFSET $4"
    )
    .bind(user_id)
    .bind(unread_only)
    .bind(limit)
    .bind(offset)
    .fetch_all(pool)
    .await
    })
}

/// Marks the user's notification read; `false` when the user has no such notification.
pub async fn mark_read(db: &Db, user_id: i64, id: i64) -> Result<bool, sqlx::Error> {
    db_write!(db, |pool| sqlx::query(
        "UPDATE notifications SET is_read = TRUE WHERE id = $1 AND user_id = $2"
    )
    .bind(id)
    .bind(user_id)
    .execute(pool)
    .await
    .map(|r| r.rows_affected() > 0))
}

/// Marks every unread notification of the user read; how many changed.
pub async fn mark_all_read(db: &Db, user_id: i64) -> Result<u64, sqlx::Error> {
    db_write!(db, |pool| sqlx::query(
        "UPDATE notifications SET is_read = TRUE WHERE user_id = $1 AND is_read = FALSE"
    )
    .bind(user_id)
    .execute(pool)
    .await
    .map(|r| r.rows_affected()))
}

/// One notification for `user_id`, in the caller's transaction.
pub async fn notify_user(
    tx: &mut Tx,
    user_id: i64,
    kind: &str,
    title: &str,
    message: &str,
    order_id: Option<i64>,
) -> Result<(), sqlx::Error> {
    tx_run!(tx, |conn| sqlx::query(
        "INSERT INTO notifications (user_id, notification_type, title, message, order_id, is_read, \
         created_at) VALUES ($1, $2, $3, $4, $5, FALSE, $6)"
    )
    .bind(user_id)
    .bind(kind)
    .bind(title)
    .bind(message)
    .bind(order_id)
    .bind(now())
    .execute(&mut *conn)
    .await
    .map(|_| ()))
}

/// The user's newest notification id (0 when none).
pub async fn last_id(db: &Db, user_id: i64) -> Result<i64, sqlx::Error> {
    db_read!(db, |pool| sqlx::query_scalar::<_, i64>(
        "SELECT COALESCE(MAX(id), 0) FROM notifications WHERE user_id = $1"
    )
    .bind(user_id)
    .fetch_one(pool)
    .await)
}

/// The user's notifications after `after_id`, oldest first (at most `limit`).
pub async fn after(
    db: &Db,
    user_id: i64,
    after_id: i64,
    limit: i64,
) -> Result<Vec<NotificationRow>, sqlx::Error> {
    db_read!(db, |pool| {
        sqlx::query_as::<_, NotificationRow>(
        "SELECT n.id, n.notification_type, n.title, n.message, n.order_id, o.order_number, n.is_read, \
         n.created_at FROM notifications n LEFT JOIN orders o ON o.id = n.order_id \
         WHERE n.user_id = $1 AND n.id > $2 ORDER BY n.id ASC LIMIT $3"
    )
    .bind(user_id)
    .bind(after_id)
    .bind(limit)
    .fetch_all(pool)
    .await
    })
}
