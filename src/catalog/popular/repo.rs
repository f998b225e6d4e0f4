//! Popular flags SQL (contract-A §4.7, contract-B §8.6): at most [`MAX_POPULAR`] popular products per
//! type (inactive ones count), `popular_order` kept 1..n. Every change runs in one transaction that first
//! serialises popular changes of the type (SQLite: `BEGIN IMMEDIATE`, one writer; PostgreSQL: a
//! transaction-scoped advisory lock), so two concurrent toggles can never make a fourth popular product.

use crate::{
    catalog::model::ProductType,
    db::{Tx, now},
    tx_run,
};

pub const MAX_POPULAR: i64 = 3;

/// What a toggle did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Toggled {
    NotFound,
    /// Already [`MAX_POPULAR`] popular products of the type: nothing changed.
    LimitReached,
    /// The product's new `is_popular`.
    Now(bool),
}

/// The SQL texts of one product table.
struct Sql {
    lock_key: &'static str,
    is_popular: &'static str,
    count: &'static str,
    max_order: &'static str,
    set: &'static str,
    popular_ids: &'static str,
    set_order: &'static str,
}

macro_rules! sql_for {
    ($table:literal, $key:expr) => {
        Sql {
            lock_key: $key,
            is_popular: concat!("SELECT is_popular FROM ", $table, " WHERE id = $1"),
            count: concat!("SELECT COUNT(*) FROM ", $table, " WHERE is_popular = TRUE"),
            max_order: concat!(
                "SELECT COALESCE(MAX(popular_order), 0) FROM ",
                $table,
                " WHERE is_popular = TRUE"
            ),
            set: concat!(
                "UPDATE ",
                $table,
                " SET is_popular = $2, popular_order = $3, updated_at = $4 WHERE id = $1"
            ),
            popular_ids: concat!(
                "SELECT id FROM ",
                $table,
                " WHERE is_popular = TRUE ORDER BY popular_order ASC, created_at DESC, id DESC"
            ),
            set_order: concat!(
                "UPDATE ",
                $table,
                " SET popular_order = $2 WHERE id = $1 AND is_popular = TRUE"
            ),
        }
    };
}

/// Lock keys (see [`Tx::lock`]): one per product type.
const PACKAGE_LOCK: &str = "catalog:popular:package";
const CAMPAIGN_LOCK: &str = "catalog:popular:campaign";

fn sql(kind: ProductType) -> Sql {
    match kind {
        ProductType::Package => sql_for!("packages", PACKAGE_LOCK),
        ProductType::Campaign => sql_for!("campaigns", CAMPAIGN_LOCK),
    }
}

/// Renumbers the popular products of the open transaction's type 1..n in their current order.
macro_rules! renumber {
    ($tx:ident, $sql:expr) => {{
        let ids: Vec<i64> = sqlx::query_scalar($sql.popular_ids)
            .fetch_all(&mut *$tx)
            .await?;
        for (position, id) in (1_i32..).zip(ids) {
            sqlx::query($sql.set_order)
                .bind(id)
                .bind(position)
                .execute(&mut *$tx)
                .await?;
        }
    }};
}

/// Flips `is_popular`: marking takes `popular_order` = max + 1 (refused at the limit), unmarking resets
/// it to 0; then the popular products of the type are renumbered 1..n in their current order.
pub async fn toggle(tx: &mut Tx, kind: ProductType, id: i64) -> Result<Toggled, sqlx::Error> {
    let sql = sql(kind);
    let at = now();
    tx.lock(sql.lock_key).await?;
    let outcome = tx_run!(tx, |conn| {
        let current: Option<bool> = sqlx::query_scalar(sql.is_popular)
            .bind(id)
            .fetch_optional(&mut *conn)
            .await?;
        match current {
            None => Toggled::NotFound,
            Some(true) => {
                sqlx::query(sql.set)
                    .bind(id)
                    .bind(false)
                    .bind(0_i32)
                    .bind(at)
                    .execute(&mut *conn)
                    .await?;
                renumber!(conn, sql);
                Toggled::Now(false)
            }
            Some(false) => {
                let popular: i64 = sqlx::query_scalar(sql.count).fetch_one(&mut *conn).await?;
                if popular >= MAX_POPULAR {
                    Toggled::LimitReached
                } else {
                    let max: i32 = sqlx::query_scalar(sql.max_order)
                        .fetch_one(&mut *conn)
                        .await?;
                    sqlx::query(sql.set)
                        .bind(id)
                        .bind(true)
                        .bind(max.saturating_add(1))
                        .bind(at)
                        .execute(&mut *conn)
                        .await?;
                    renumber!(conn, sql);
                    Toggled::Now(true)
                }
            }
        }
    });
    Ok(outcome)
}

/// For position i (from 1) of `ids`, a listed product that is popular gets `popular_order` = i (a later
/// position wins for a repeated id); other ids are ignored. Positions are those of the list as sent.
pub async fn reorder(tx: &mut Tx, kind: ProductType, ids: &[i64]) -> Result<(), sqlx::Error> {
    let sql = sql(kind);
    tx.lock(sql.lock_key).await?;
    tx_run!(tx, |conn| {
        let popular: Vec<i64> = sqlx::query_scalar(sql.popular_ids)
            .fetch_all(&mut *conn)
            .await?;
        // Only popular products can change (at most MAX_POPULAR updates, however long the list).
        for id in popular {
            let position = ids
                .iter()
                .rposition(|listed| *listed == id)
                .and_then(|p| i32::try_from(p + 1).ok());
            if let Some(position) = position {
                sqlx::query(sql.set_order)
                    .bind(id)
                    .bind(position)
                    .execute(&mut *conn)
                    .await?;
            }
        }
    });
    Ok(())
}
