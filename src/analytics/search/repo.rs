//! Global-search SQL: case-insensitive substring matches (`LIKE` with an escaped pattern), each
//! group bounded. Orders match on their number or on their customer; the customers are found
//! first (a small table) so the orders are walked newest first by the `created_at` index and the
//! walk stops at the bound.

use crate::{db::Db, db_read};

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct OrderHit {
    pub id: i64,
    pub order_number: String,
    pub status: String,
    pub total_paise: i64,
    pub username: String,
    pub first_name: String,
    pub last_name: String,
    pub phone_number: Option<String>,
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct UserHit {
    pub id: i64,
    pub username: String,
    pub first_name: String,
    pub last_name: String,
    pub phone_number: Option<String>,
    pub email: String,
    pub role: String,
    pub is_active: bool,
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ProductHit {
    pub kind: String,
    pub id: i64,
    pub name: String,
    pub price_paise: i64,
    pub is_active: bool,
}

/// A user matches on username, phone, first and last name, or email.
macro_rules! user_match {
    ($t:literal) => {
        concat!(
            "(LOWER(",
            $t,
            ".username) LIKE $1 ESCAPE '\\' OR LOWER(COALESCE(",
            $t,
            ".phone_number, '')) LIKE $1 ESCAPE '\\' OR LOWER(",
            $t,
            ".first_name || ' ' || ",
            $t,
            ".last_name) LIKE $1 ESCAPE '\\' OR LOWER(",
            $t,
            ".email) LIKE $1 ESCAPE '\\')"
        )
    };
}

const ORDERS: &str = concat!(
    "SELECT o.id, o.order_number, o.status, o.total_paise, u.username, u.first_name, u.last_name, \
     u.phone_number FROM orders o JOIN users u ON u.id = o.user_id \
     WHERE ($3 = 0 OR o.assigned_to = $3) AND (LOWER(o.order_number) LIKE $1 ESCAPE '\\' \
     OR o.user_id IN (SELECT c.id FROM users c WHERE ",
    user_match!("c"),
    ")) ORDER BY o.created_at DESC, o.id DESC LIMIT $2"
);

const CUSTOMERS: &str = concat!(
    "SELECT u.id, u.username, u.first_name, u.last_name, u.phone_number, u.email, u.role, \
     u.is_active FROM users u WHERE u.role = 'user' AND ",
    user_match!("u"),
    " ORDER BY u.id DESC LIMIT $2"
);

const STAFF: &str = concat!(
    "SELECT u.id, u.username, u.first_name, u.last_name, u.phone_number, u.email, u.role, \
     u.is_active FROM users u WHERE u.role IN ('staff', 'admin') AND ",
    user_match!("u"),
    " ORDER BY u.username LIMIT $2"
);

const PRODUCTS: &str = "SELECT kind, id, name, price_paise, is_active FROM (\
     SELECT 'package' AS kind, p.id, p.name, p.price_paise, p.is_active FROM packages p \
     WHERE LOWER(p.name) LIKE $1 ESCAPE '\\' \
     UNION ALL SELECT 'campaign' AS kind, c.id, c.name, c.price_paise, c.is_active FROM campaigns c \
     WHERE LOWER(c.name) LIKE $1 ESCAPE '\\') t ORDER BY is_active DESC, name, id LIMIT $2";

/// Orders matching `pattern`, newest first; only those assigned to `assignee` unless it is 0.
pub async fn orders(
    db: &Db,
    pattern: &str,
    limit: i64,
    assignee: i64,
) -> Result<Vec<OrderHit>, sqlx::Error> {
    db_read!(db, |pool| sqlx::query_as::<_, OrderHit>(ORDERS)
        .bind(pattern)
        .bind(limit)
        .bind(assignee)
        .fetch_all(pool)
        .await)
}

/// Customers (`staff == false`) or staff and admins matching `pattern`.
pub async fn users(
    db: &Db,
    pattern: &str,
    limit: i64,
    staff: bool,
) -> Result<Vec<UserHit>, sqlx::Error> {
    let sql = if staff { STAFF } else { CUSTOMERS };
    db_read!(db, |pool| sqlx::query_as::<_, UserHit>(sql)
        .bind(pattern)
        .bind(limit)
        .fetch_all(pool)
        .await)
}

/// Packages and campaigns whose name matches `pattern`, active ones first.
pub async fn products(db: &Db, pattern: &str, limit: i64) -> Result<Vec<ProductHit>, sqlx::Error> {
    db_read!(db, |pool| sqlx::query_as::<_, ProductHit>(PRODUCTS)
        .bind(pattern)
        .bind(limit)
        .fetch_all(pool)
        .await)
}
