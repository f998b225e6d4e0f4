//! Analytics SQL (contract-B §11.1): every figure is an aggregate computed by the database, one
//! statement per figure, never a load of all orders. Two dialect differences, one helper each:
//! - a time window (`[within col lo hi]`, both bounds always bound: an open end is the first or
//!   last representable day, so the statement has no `IS NULL` guards and PostgreSQL's generic plan
//!   can range-scan an index): PostgreSQL compares `timestamptz`; SQLite stores RFC 3339 text whose
//!   fraction has no fixed width, so it compares `julianday()` of both sides;
//! - the calendar month in the shop's zone (`[month col minutes]`, `[month_text …]`): the UTC time
//!   plus the zone's offset truncated with `date_trunc` and formatted once per month on PostgreSQL,
//!   `strftime` with a minutes modifier on SQLite.

use time::OffsetDateTime;

use crate::{
    analytics::model::{ProductRow, StaffRow, TrendRow},
    db::{Db, Dialect},
    db_read,
};

/// Builds a [`Dialect`] from literal parts and `[within …]` / `[month …]` helpers.
macro_rules! analytics_sql {
    (@pg [within $col:literal $lo:literal $hi:literal]) => {
        concat!($col, " >= ", $lo, " AND ", $col, " <= ", $hi)
    };
    (@lite [within $col:literal $lo:literal $hi:literal]) => {
        concat!("julianday(", $col, ") >= julianday(", $lo, ") AND julianday(", $col,
            ") <= julianday(", $hi, ")")
    };
    // The first instant of the month (as a local timestamp), grouped before it is formatted.
    (@pg [month $col:literal $minutes:literal]) => {
        concat!("date_trunc('month', (", $col, " AT TIME ZONE 'UTC') + ", $minutes,
            " * INTERVAL '1 minute')")
    };
    (@lite [month $col:literal $minutes:literal]) => {
        concat!("strftime('%Y-%m', ", $col, ", ", $minutes, " || ' minutes')")
    };
    (@pg [month_text $expr:literal]) => { concat!("to_char(", $expr, ", 'YYYY-MM')") };
    (@lite [month_text $expr:literal]) => { $expr };
    // Orders whose revenue counts (contract-B §11.1 `PAID`): paid, and in fulfilment or done.
    (@$dialect:ident [paid]) => {
        "o.status IN ('ready_for_processing', 'assigned', 'in_progress', 'completed') \
         AND o.payment_completed_at IS NOT NULL"
    };
    (@$dialect:ident $text:literal) => { $text };
    ($($part:tt)*) => {
        Dialect {
            postgres: concat!($(analytics_sql!(@pg $part)),*),
            sqlite: concat!($(analytics_sql!(@lite $part)),*),
        }
    };
}

const REVENUE: Dialect = analytics_sql!(
    "SELECT COUNT(*), CAST(COALESCE(SUM(o.total_paise), 0) AS BIGINT) FROM orders o WHERE "
    [paid] " AND " [within "o.payment_completed_at" "$1" "$2"]
);

const CONVERSION: Dialect = analytics_sql!(
    "SELECT COUNT(*), COUNT(o.payment_completed_at) FROM orders o WHERE "
    [within "o.created_at" "$1" "$2"]
);

const COMPLETED: Dialect = analytics_sql!(
    "SELECT COUNT(*) FROM orders o WHERE o.status = 'completed' AND "
    [within "o.created_at" "$1" "$2"]
);

const DISTRIBUTION: Dialect = analytics_sql!(
    "SELECT o.status, COUNT(*) FROM orders o WHERE " [within "o.created_at" "$1" "$2"]
    " GROUP BY o.status ORDER BY o.status"
);

const TREND: Dialect = analytics_sql!(
    "SELECT " [month_text "t.m"] " AS month, t.order_count, t.revenue_paise FROM (SELECT "
    [month "o.payment_completed_at" "$3"] " AS m, COUNT(*) AS order_count, \
     CAST(SUM(o.total_paise) AS BIGINT) AS revenue_paise FROM orders o WHERE " [paid] " AND "
    [within "o.payment_completed_at" "$1" "$2"] " GROUP BY 1) t ORDER BY t.m"
);

/// Per product sold: the quantity and revenue of its lines on revenue orders, with the product's
/// current name (NULL once deleted), most sold first.
const TOP_PRODUCTS: Dialect = analytics_sql!(
    "SELECT t.product_type, t.product_id, t.quantity_sold, t.revenue_paise, \
     CASE WHEN t.product_type = 'package' \
          THEN (SELECT p.name FROM packages p WHERE p.id = t.product_id) \
          ELSE (SELECT c.name FROM campaigns c WHERE c.id = t.product_id) END AS product_name \
     FROM (SELECT i.product_type, i.product_id, CAST(SUM(i.quantity) AS BIGINT) AS quantity_sold, \
           CAST(SUM(i.price_paise * i.quantity) AS BIGINT) AS revenue_paise \
           FROM order_items i JOIN orders o ON o.id = i.order_id WHERE " [paid] " AND "
    [within "o.payment_completed_at" "$1" "$2"]
    " GROUP BY i.product_type, i.product_id) t \
     ORDER BY t.quantity_sold DESC, t.revenue_paise DESC, t.product_type, t.product_id LIMIT $3"
);

/// Every staff and admin account with the orders assigned to it whose `updated_at` is in the
/// window, most assigned first (ties by id).
const STAFF: Dialect = analytics_sql!(
    "SELECT u.id, u.username, u.phone_number, u.role, COUNT(o.id) AS assigned_orders, \
     CAST(COALESCE(SUM(CASE WHEN o.status = 'completed' THEN 1 ELSE 0 END), 0) AS BIGINT) \
     AS completed_orders FROM users u LEFT JOIN orders o ON o.assigned_to = u.id AND "
    [within "o.updated_at" "$1" "$2"]
    " WHERE u.role IN ('staff', 'admin') GROUP BY u.id, u.username, u.phone_number, u.role \
     ORDER BY assigned_orders DESC, u.id ASC"
);

/// The window's first and last instant, both inclusive.
type Bounds = (OffsetDateTime, OffsetDateTime);

/// `(order_count, revenue_paise)` of revenue orders paid in the window.
pub async fn revenue(db: &Db, (lo, hi): Bounds) -> Result<(i64, i64), sqlx::Error> {
    let sql = db.sql(REVENUE);
    db_read!(db, |pool| sqlx::query_as::<_, (i64, i64)>(sql)
        .bind(lo)
        .bind(hi)
        .fetch_one(pool)
        .await)
}

/// `(total_orders, paid_orders)` of the orders created in the window.
pub async fn conversion(db: &Db, (lo, hi): Bounds) -> Result<(i64, i64), sqlx::Error> {
    let sql = db.sql(CONVERSION);
    db_read!(db, |pool| sqlx::query_as::<_, (i64, i64)>(sql)
        .bind(lo)
        .bind(hi)
        .fetch_one(pool)
        .await)
}

/// Completed orders among those created in the window.
pub async fn completed(db: &Db, (lo, hi): Bounds) -> Result<i64, sqlx::Error> {
    let sql = db.sql(COMPLETED);
    db_read!(db, |pool| sqlx::query_scalar::<_, i64>(sql)
        .bind(lo)
        .bind(hi)
        .fetch_one(pool)
        .await)
}

/// `(status, count)` of the orders created in the window, by status.
pub async fn distribution(db: &Db, (lo, hi): Bounds) -> Result<Vec<(String, i64)>, sqlx::Error> {
    let sql = db.sql(DISTRIBUTION);
    db_read!(db, |pool| sqlx::query_as::<_, (String, i64)>(sql)
        .bind(lo)
        .bind(hi)
        .fetch_all(pool)
        .await)
}

/// Revenue orders paid in the window, by calendar month in the zone `offset_minutes` east of UTC.
pub async fn trend(
    db: &Db,
    (lo, hi): Bounds,
    offset_minutes: i32,
) -> Result<Vec<TrendRow>, sqlx::Error> {
    let sql = db.sql(TREND);
    db_read!(db, |pool| sqlx::query_as::<_, TrendRow>(sql)
        .bind(lo)
        .bind(hi)
        .bind(offset_minutes)
        .fetch_all(pool)
        .await)
}

/// The `limit` most sold products on revenue orders paid in the window.
pub async fn top_products(
    db: &Db,
    (lo, hi): Bounds,
    limit: i64,
) -> Result<Vec<ProductRow>, sqlx::Error> {
    let sql = db.sql(TOP_PRODUCTS);
    db_read!(db, |pool| sqlx::query_as::<_, ProductRow>(sql)
        .bind(lo)
        .bind(hi)
        .bind(limit)
        .fetch_all(pool)
        .await)
}

/// Staff and admins with their assigned and completed orders updated in the window.
pub async fn staff(db: &Db, (lo, hi): Bounds) -> Result<Vec<StaffRow>, sqlx::Error> {
    let sql = db.sql(STAFF);
    db_read!(db, |pool| sqlx::query_as::<_, StaffRow>(sql)
        .bind(lo)
        .bind(hi)
        .fetch_all(pool)
        .await)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_text_two_dialects() {
        assert!(
            REVENUE
                .postgres
                .contains("o.payment_completed_at >= $1 AND o.payment_completed_at <= $2")
        );
        assert!(REVENUE.sqlite.contains(
            "julianday(o.payment_completed_at) >= julianday($1) AND \
             julianday(o.payment_completed_at) <= julianday($2)"
        ));
        assert!(TREND.postgres.starts_with(
            "SELECT to_char(t.m, 'YYYY-MM') AS month, t.order_count, t.revenue_paise FROM (SELECT \
             date_trunc('month', (o.payment_completed_at AT TIME ZONE 'UTC') + $3 * INTERVAL '1 minute') AS m"
        ));
        assert!(TREND.sqlite.starts_with(
            "SELECT t.m AS month, t.order_count, t.revenue_paise FROM (SELECT \
             strftime('%Y-%m', o.payment_completed_at, $3 || ' minutes') AS m"
        ));
    }
}
