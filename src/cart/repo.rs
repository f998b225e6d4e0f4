//! Cart SQL. Writes take the caller's [`Tx`]: a line's quantity is read under a row lock and
//! upserted on the `(cart, product)` key, so concurrent adds of one product add up.

use crate::{
    cart::model::{CartItemRow, CartRow},
    catalog::model::ProductType,
    db::{Db, Dialect, Tx, now},
    db_read, sql_for_update, tx_run,
};

pub async fn find(db: &Db, user_id: i64) -> Result<Option<CartRow>, sqlx::Error> {
    db_read!(db, |pool| sqlx::query_as::<_, CartRow>(
        "SELECT id, user_id, created_at, updated_at FROM carts WHERE user_id = $1"
    )
    .bind(user_id)
    .fetch_optional(pool)
    .await)
}

/// `i`'s product still exists (lines of deleted products are left out of reads, purged by writes).
macro_rules! product_exists {
    () => {
        "((i.product_type = 'package' AND EXISTS (SELECT 1 FROM packages p WHERE p.id = i.product_id)) \
         OR (i.product_type = 'campaign' AND EXISTS (SELECT 1 FROM campaigns c WHERE c.id = i.product_id)))"
    };
}

/// One row of [`find_with_items`]: the cart, and one live line or none.
#[derive(sqlx::FromRow)]
struct CartLine {
    id: i64,
    user_id: i64,
    created_at: time::OffsetDateTime,
    updated_at: time::OffsetDateTime,
    item_id: Option<i64>,
    product_type: Option<String>,
    product_id: Option<i64>,
    quantity: Option<i32>,
    added_at: Option<time::OffsetDateTime>,
}

/// The user's cart with its live lines (oldest first) in one statement, if the cart exists.
pub async fn find_with_items(
    db: &Db,
    user_id: i64,
) -> Result<Option<(CartRow, Vec<CartItemRow>)>, sqlx::Error> {
    const SQL: &str = concat!(
        "SELECT c.id, c.user_id, c.created_at, c.updated_at, i.id AS item_id, i.product_type, \
         i.product_id, i.quantity, i.added_at \
         FROM carts c LEFT JOIN cart_items i ON i.cart_id = c.id AND ",
        product_exists!(),
        " WHERE c.user_id = $1 ORDER BY i.added_at, i.id"
    );
    let rows = db_read!(db, |pool| sqlx::query_as::<_, CartLine>(SQL)
        .bind(user_id)
        .fetch_all(pool)
        .await)?;
    let Some(first) = rows.first() else {
        return Ok(None);
    };
    let cart = CartRow {
        id: first.id,
        user_id: first.user_id,
        created_at: first.created_at,
        updated_at: first.updated_at,
    };
    let items = rows
        .into_iter()
        .filter_map(|row| {
            Some(CartItemRow {
                id: row.item_id?,
                cart_id: row.id,
                product_type: row.product_type?,
                product_id: row.product_id?,
                quantity: row.quantity?,
                added_at: row.added_at?,
            })
        })
        .collect();
    Ok(Some((cart, items)))
}

/// The user's cart, created if missing.
pub async fn ensure(tx: &mut Tx, user_id: i64) -> Result<CartRow, sqlx::Error> {
    let at = now();
    tx_run!(tx, |conn| {
        sqlx::query(
            "INSERT INTO carts (user_id, created_at, updated_at) VALUES ($1, $2, $2) \
             ON CONFLICT (user_id) DO NOTHING",
        )
        .bind(user_id)
        .bind(at)
        .execute(&mut *conn)
        .await?;
        sqlx::query_as::<_, CartRow>(
            "SELECT id, user_id, created_at, updated_at FROM carts WHERE user_id = $1",
        )
        .bind(user_id)
        .fetch_one(&mut *conn)
        .await
    })
}

/// The cart of `user_id` locked for the rest of the transaction (PostgreSQL), if it exists.
pub async fn find_locked(tx: &mut Tx, user_id: i64) -> Result<Option<CartRow>, sqlx::Error> {
    const SQL: Dialect =
        sql_for_update!("SELECT id, user_id, created_at, updated_at FROM carts WHERE user_id = $1");
    let sql = tx.sql(SQL);
    tx_run!(tx, |conn| sqlx::query_as::<_, CartRow>(sql)
        .bind(user_id)
        .fetch_optional(&mut *conn)
        .await)
}

/// The cart's live lines, oldest first, inside a transaction (lines whose product no longer
/// exists are left out; writes purge them).
pub async fn items_in(tx: &mut Tx, cart_id: i64) -> Result<Vec<CartItemRow>, sqlx::Error> {
    tx_run!(tx, |conn| sqlx::query_as::<_, CartItemRow>(LIVE_ITEMS)
        .bind(cart_id)
        .fetch_all(&mut *conn)
        .await)
}

const LIVE_ITEMS: &str = concat!(
    "SELECT i.id, i.cart_id, i.product_type, i.product_id, i.quantity, i.added_at \
     FROM cart_items i WHERE i.cart_id = $1 AND ",
    product_exists!(),
    " ORDER BY i.added_at, i.id"
);

/// Deletes the lines whose product no longer exists.
pub async fn purge_orphans(tx: &mut Tx, cart_id: i64) -> Result<u64, sqlx::Error> {
    const SQL: &str = concat!(
        "DELETE FROM cart_items WHERE id IN (SELECT i.id FROM cart_items i WHERE i.cart_id = $1 AND NOT ",
        product_exists!(),
        ")"
    );
    tx_run!(tx, |conn| sqlx::query(SQL)
        .bind(cart_id)
        .execute(&mut *conn)
        .await
        .map(|r| r.rows_affected()))
}

/// The quantity of the product's line in the cart, locked (PostgreSQL), if there is one.
pub async fn line_quantity(
    tx: &mut Tx,
    cart_id: i64,
    kind: ProductType,
    product_id: i64,
) -> Result<Option<i32>, sqlx::Error> {
    const SQL: Dialect = sql_for_update!(
        "SELECT quantity FROM cart_items WHERE cart_id = $1 AND product_type = $2 AND product_id = $3"
    );
    let sql = tx.sql(SQL);
    tx_run!(tx, |conn| sqlx::query_scalar::<_, i32>(sql)
        .bind(cart_id)
        .bind(kind.as_str())
        .bind(product_id)
        .fetch_optional(&mut *conn)
        .await)
}

/// Adds `quantity` units of the product: a new line, or more on the existing one.
pub async fn add(
    tx: &mut Tx,
    cart_id: i64,
    kind: ProductType,
    product_id: i64,
    quantity: i32,
) -> Result<(), sqlx::Error> {
    tx_run!(tx, |conn| sqlx::query(
        "INSERT INTO cart_items (cart_id, product_type, product_id, quantity, added_at) \
         VALUES ($1, $2, $3, $4, $5) \
         ON CONFLICT (cart_id, product_type, product_id) \
         DO UPDATE SET quantity = cart_items.quantity + excluded.quantity",
    )
    .bind(cart_id)
    .bind(kind.as_str())
    .bind(product_id)
    .bind(quantity)
    .bind(now())
    .execute(&mut *conn)
    .await
    .map(|_| ()))?;
    touch(tx, cart_id).await
}

/// Removes one line of the cart; `false` when the cart has no such line.
pub async fn remove(tx: &mut Tx, cart_id: i64, item_id: i64) -> Result<bool, sqlx::Error> {
    let removed = tx_run!(tx, |conn| sqlx::query(
        "DELETE FROM cart_items WHERE id = $1 AND cart_id = $2"
    )
    .bind(item_id)
    .bind(cart_id)
    .execute(&mut *conn)
    .await
    .map(|r| r.rows_affected()))?;
    if removed > 0 {
        touch(tx, cart_id).await?;
    }
    Ok(removed > 0)
}

/// Removes every line of the cart.
pub async fn clear(tx: &mut Tx, cart_id: i64) -> Result<u64, sqlx::Error> {
    let removed = tx_run!(tx, |conn| sqlx::query(
        "DELETE FROM cart_items WHERE cart_id = $1"
    )
    .bind(cart_id)
    .execute(&mut *conn)
    .await
    .map(|r| r.rows_affected()))?;
    touch(tx, cart_id).await?;
    Ok(removed)
}

/// The cart's `updated_at` follows its lines (the original never changed it).
async fn touch(tx: &mut Tx, cart_id: i64) -> Result<(), sqlx::Error> {
    tx_run!(tx, |conn| sqlx::query(
        "UPDATE carts SET updated_at = $1 WHERE id = $2"
    )
    .bind(now())
    .bind(cart_id)
    .execute(&mut *conn)
    .await
    .map(|_| ()))
}
