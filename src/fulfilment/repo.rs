//! Fulfilment SQL: the admin and staff order lists (one statement, customer and assignee joined),
//! the dashboard counts, the staff list, the customer search and user lookups by id.

use time::OffsetDateTime;

use crate::{
    db::{Db, Dialect, IdList},
    db_read,
    fulfilment::model::{ListRow, StaffRow, UserRow},
    sql_in_ids,
};

/// The list's filters; empty strings and `None` mean "any".
#[derive(Debug, Clone, Default)]
pub struct ListFilter {
    /// An exact status, or `pending` for `pending_payment` + `pending_resources`.
    pub status: String,
    pub payment_status: String,
    pub order_source: String,
    /// `Some(None)`: unassigned only; `Some(Some(id))`: assigned to `id`.
    pub assigned_to: Option<Option<i64>>,
    /// A `LIKE` pattern, lower-cased and escaped (see `catalog::products::repo::like_pattern`).
    pub search: Option<String>,
    pub from: Option<OffsetDateTime>,
    pub until: Option<OffsetDateTime>,
}

macro_rules! user_cols {
    ($t:literal, $p:literal) => {
        concat!(
            $t,
            ".id AS ",
            $p,
            "id, ",
            $t,
            ".username AS ",
            $p,
            "username, ",
            $t,
            ".phone_number AS ",
            $p,
            "phone_number, ",
            $t,
            ".role AS ",
            $p,
            "role, ",
            $t,
            ".email AS ",
            $p,
            "email, ",
            $t,
            ".first_name AS ",
            $p,
            "first_name, ",
            $t,
            ".last_name AS ",
            $p,
            "last_name"
        )
    };
}

/// The filters, on `orders o JOIN users u` (the page is chosen before anything per row is read).
macro_rules! list_filter {
    () => {
        "WHERE ($1 = '' OR o.status = $1 \
                OR ($1 = 'pending' AND o.status IN ('pending_payment', 'pending_resources'))) \
           AND ($2 = '' OR o.payment_status = $2) \
           AND ($3 = '' OR o.order_source = $3) \
           AND ($4 = 0 OR ($4 = 1 AND o.assigned_to IS NULL) OR ($4 = 2 AND o.assigned_to = $5)) \
           AND ($6 = '' OR LOWER(o.order_number) LIKE $6 ESCAPE '\\' \
                OR LOWER(COALESCE(u.phone_number, '')) LIKE $6 ESCAPE '\\' \
                OR LOWER(u.username) LIKE $6 ESCAPE '\\' \
                OR LOWER(u.first_name) LIKE $6 ESCAPE '\\') \
           AND ($7 IS NULL OR o.created_at >= $7) AND ($8 IS NULL OR o.created_at < $8) "
    };
}

/// The page's orders first (by the `created_at` index), then per row of the page only: its line
/// count and what was paid, with the customer and the assignee joined.
const LIST: &str = concat!(
    "SELECT o.id, o.order_number, o.total_paise, o.status, o.payment_status, \
     o.payment_completed_at, o.order_source, o.priority, o.is_manual_order, o.created_at, \
     o.updated_at, \
     (SELECT COUNT(*) FROM order_items i WHERE i.order_id = o.id) AS total_items, \
     CAST((SELECT COALESCE(SUM(r.amount_paise), 0) FROM payment_records r WHERE r.order_id = o.id) \
     + (SELECT COALESCE(SUM(h.amount_paise), 0) FROM payment_history h \
        WHERE h.order_id = o.id AND h.status IN ('completed', 'success')) AS BIGINT) AS paid_paise, ",
    user_cols!("u", "u_"),
    ", ",
    user_cols!("a", "a_"),
    " FROM (SELECT o.* FROM orders o JOIN users u ON u.id = o.user_id ",
    list_filter!(),
    "ORDER BY o.created_at DESC, o.id DESC LIMIT $9 OFFSET $10) o \
     JOIN users u ON u.id = o.user_id LEFT JOIN users a ON a.id = o.assigned_to \
     ORDER BY o.created_at DESC, o.id DESC"
);

fn assigned_mode(f: &ListFilter) -> (i64, i64) {
    match f.assigned_to {
        None => (0, 0),
        Some(None) => (1, 0),
        Some(Some(id)) => (2, id),
    }
}

/// One page of orders matching `filter`, newest first.
pub async fn list(
    db: &Db,
    filter: &ListFilter,
    limit: i64,
    offset: i64,
) -> Result<Vec<ListRow>, sqlx::Error> {
    let (mode, staff) = assigned_mode(filter);
    db_read!(db, |pool| sqlx::query_as::<_, ListRow>(LIST)
        .bind(&filter.status)
        .bind(&filter.payment_status)
        .bind(&filter.order_source)
        .bind(mode)
        .bind(staff)
        .bind(filter.search.as_deref().unwrap_or(""))
        .bind(filter.from)
        .bind(filter.until)
        .bind(limit)
        .bind(offset)
        .fetch_all(pool)
        .await)
}

/// Order counts per status (one statement).
pub async fn status_counts(db: &Db) -> Result<Vec<(String, i64)>, sqlx::Error> {
    db_read!(db, |pool| sqlx::query_as::<_, (String, i64)>(
        "SELECT status, COUNT(*) FROM orders GROUP BY status"
    )
    .fetch_all(pool)
    .await)
}

/// Active staff and admin accounts by username, with their open assignments.
pub async fn staff(db: &Db) -> Result<Vec<StaffRow>, sqlx::Error> {
    db_read!(db, |pool| sqlx::query_as::<_, StaffRow>(
        "SELECT u.id, u.username, u.phone_number, u.role, u.email, u.first_name, u.last_name, \
         u.created_at, (SELECT COUNT(*) FROM orders o WHERE o.assigned_to = u.id \
         AND o.status IN ('assigned', 'in_progress')) AS assigned_orders_count \
         FROM users u WHERE u.role IN ('staff', 'admin') AND u.is_active = TRUE \
         ORDER BY u.username ASC"
    )
    .fetch_all(pool)
    .await)
}

/// Customers (role `user`, active) whose phone, first or last name contains the pattern.
pub async fn search_customers(
    db: &Db,
    pattern: &str,
    limit: i64,
) -> Result<Vec<UserRow>, sqlx::Error> {
    db_read!(db, |pool| sqlx::query_as::<_, UserRow>(
        "SELECT id, username, phone_number, role, email, first_name, last_name FROM users \
         WHERE role = 'user' AND is_active = TRUE AND (LOWER(COALESCE(phone_number, '')) LIKE $1 \
         ESCAPE '\\' OR LOWER(first_name) LIKE $1 ESCAPE '\\' OR LOWER(last_name) LIKE $1 \
         ESCAPE '\\') ORDER BY id LIMIT $2"
    )
    .bind(pattern)
    .bind(limit)
    .fetch_all(pool)
    .await)
}

/// The users with these ids.
pub async fn users(db: &Db, ids: &[i64]) -> Result<Vec<UserRow>, sqlx::Error> {
    const SQL: Dialect = sql_in_ids!(
        "SELECT id, username, phone_number, role, email, first_name, last_name FROM users WHERE id",
        "$1"
    );
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let sql = db.sql(SQL);
    db_read!(db, |pool| sqlx::query_as::<_, UserRow>(sql)
        .bind(IdList(ids))
        .fetch_all(pool)
        .await)
}
