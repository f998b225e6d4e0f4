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

/// The list's columns: the page's orders (chosen first, in the subquery `o`), then per row of the
/// page only its line count and what was paid, with the customer and the assignee joined.
const LIST_HEAD: &str = concat!(
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
    " FROM (SELECT o.* FROM orders o"
);
const LIST_TAIL: &str = " ORDER BY o.created_at DESC, o.id DESC LIMIT $1 OFFSET $2) o \
     JOIN users u ON u.id = o.user_id LEFT JOIN users a ON a.id = o.assigned_to \
     ORDER BY o.created_at DESC, o.id DESC";

/// A value bound to the list statement.
enum Arg<'a> {
    Text(&'a str),
    Int(i64),
    Time(OffsetDateTime),
}

/// The list statement with only the filters that are set (each `$n` in bind order after the
/// window's `$1`/`$2`), and its arguments. One static text with `($n = '' OR …)` guards for every
/// filter was planned once for all of them: PostgreSQL's generic plan could not drop the unused
/// guards, scanned and sorted all 10k orders (29 ms) where the plan of the filters present walks
/// the `created_at` index for one page (2 ms). Each combination of filters is its own prepared
/// statement.
fn list_sql(f: &ListFilter) -> (String, Vec<Arg<'_>>) {
    let mut conds: Vec<String> = Vec::new();
    let mut args: Vec<Arg<'_>> = Vec::new();
    // The placeholder of the next argument ($1 and $2 are the window).
    let param = |args: &[Arg<'_>]| format!("${}", args.len() + 3);
    if f.status == "pending" {
        conds.push("o.status IN ('pending_payment', 'pending_resources')".into());
    } else if !f.status.is_empty() {
        conds.push(format!("o.status = {}", param(&args)));
        args.push(Arg::Text(&f.status));
    }
    if !f.payment_status.is_empty() {
        conds.push(format!("o.payment_status = {}", param(&args)));
        args.push(Arg::Text(&f.payment_status));
    }
    if !f.order_source.is_empty() {
        conds.push(format!("o.order_source = {}", param(&args)));
        args.push(Arg::Text(&f.order_source));
    }
    match f.assigned_to {
        None => {}
        Some(None) => conds.push("o.assigned_to IS NULL".into()),
        Some(Some(id)) => {
            conds.push(format!("o.assigned_to = {}", param(&args)));
            args.push(Arg::Int(id));
        }
    }
    if let Some(pattern) = f.search.as_deref() {
        let p = param(&args);
        conds.push(format!(
            "(LOWER(o.order_number) LIKE {p} ESCAPE '\\' OR o.user_id IN (SELECT c.id FROM users c \
             WHERE LOWER(COALESCE(c.phone_number, '')) LIKE {p} ESCAPE '\\' \
             OR LOWER(c.username) LIKE {p} ESCAPE '\\' OR LOWER(c.first_name) LIKE {p} ESCAPE '\\'))"
        ));
        args.push(Arg::Text(pattern));
    }
    if let Some(from) = f.from {
        conds.push(format!("o.created_at >= {}", param(&args)));
        args.push(Arg::Time(from));
    }
    if let Some(until) = f.until {
        conds.push(format!("o.created_at < {}", param(&args)));
        args.push(Arg::Time(until));
    }
    let mut sql = String::with_capacity(LIST_HEAD.len() + LIST_TAIL.len() + 256);
    sql.push_str(LIST_HEAD);
    if !conds.is_empty() {
        sql.push_str(" WHERE ");
        sql.push_str(&conds.join(" AND "));
    }
    sql.push_str(LIST_TAIL);
    (sql, args)
}

/// One page of orders matching `filter`, newest first.
pub async fn list(
    db: &Db,
    filter: &ListFilter,
    limit: i64,
    offset: i64,
) -> Result<Vec<ListRow>, sqlx::Error> {
    let (sql, args) = list_sql(filter);
    db_read!(db, |pool| {
        let mut query = sqlx::query_as::<_, ListRow>(sqlx::AssertSqlSafe(sql))
            .bind(limit)
            .bind(offset);
        for arg in args {
            query = match arg {
                Arg::Text(t) => query.bind(t),
                Arg::Int(i) => query.bind(i),
                Arg::Time(t) => query.bind(t),
            };
        }
        query.fetch_all(pool).await
    })
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
