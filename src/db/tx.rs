//! One transaction over either backend: a PostgreSQL transaction, or SQLite's `BEGIN IMMEDIATE` on the
//! single writer connection (DESIGN §10: the write lock is taken up front, so a transaction never fails
//! half-way on an upgrade to a write lock). Dropping a `Tx` without [`Tx::commit`] rolls it back — also
//! when the request that held it is cancelled — since sqlx issues the `ROLLBACK` when the connection
//! returns to its pool.

use sqlx::{Postgres, Sqlite, Transaction};

use super::Db;

/// An open transaction. Repository functions that take part in a multi-statement flow take
/// `&mut Tx`; run statements on it with [`tx_run!`](crate::tx_run).
#[derive(Debug)]
pub enum Tx {
    Postgres(Transaction<'static, Postgres>),
    Sqlite(Transaction<'static, Sqlite>),
}

/// Runs `$body` with `$conn` bound to the transaction's connection, on whichever backend is in use
/// (`&mut *$conn` is the executor for each statement). The body's `?` must produce `sqlx::Error`.
#[macro_export]
macro_rules! tx_run {
    ($tx:expr, |$conn:ident| $body:expr) => {
        match $tx {
            $crate::db::Tx::Postgres(t) => {
                let $conn = &mut **t;
                $body
            }
            $crate::db::Tx::Sqlite(t) => {
                let $conn = &mut **t;
                $body
            }
        }
    };
}

impl Db {
    /// Opens a transaction (on SQLite: on the one writer, with the write lock taken at once).
    pub async fn begin(&self) -> Result<Tx, sqlx::Error> {
        Ok(match self {
            Db::Postgres(pool) => Tx::Postgres(pool.begin().await?),
            Db::Sqlite(s) => Tx::Sqlite(s.write.begin_with("BEGIN IMMEDIATE").await?),
        })
    }
}

impl Tx {
    pub async fn commit(self) -> Result<(), sqlx::Error> {
        match self {
            Tx::Postgres(t) => t.commit().await,
            Tx::Sqlite(t) => t.commit().await,
        }
    }

    pub async fn rollback(self) -> Result<(), sqlx::Error> {
        match self {
            Tx::Postgres(t) => t.rollback().await,
            Tx::Sqlite(t) => t.rollback().await,
        }
    }

    /// The statement of `sql` for this transaction's dialect.
    pub fn sql(&self, sql: Dialect) -> &'static str {
        match self {
            Tx::Postgres(_) => sql.postgres,
            Tx::Sqlite(_) => sql.sqlite,
        }
    }

    /// Serialises the transactions that lock `key` until this one ends. PostgreSQL: a
    /// transaction-scoped advisory lock on the key's hash; SQLite: nothing more to do, `BEGIN
    /// IMMEDIATE` already holds the database's one write lock.
    pub async fn lock(&mut self, key: &str) -> Result<(), sqlx::Error> {
        match self {
            Tx::Postgres(t) => {
                sqlx::query("SELECT pg_advisory_xact_lock(hashtext($1))")
                    .bind(key)
                    .execute(&mut **t)
                    .await?;
            }
            Tx::Sqlite(_) => {}
        }
        Ok(())
    }
}

use super::Dialect;

/// The outcome of deleting a row that other tables may reference.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Deleted {
    Yes,
    NotFound,
    /// Rows elsewhere (customer submissions, order checklists) still reference it.
    InUse,
}

/// Runs a `DELETE … WHERE id = $1`; a foreign-key refusal is [`Deleted::InUse`], not an error.
pub async fn delete_referenced(
    db: &Db,
    sql: &'static str,
    id: i64,
) -> Result<Deleted, sqlx::Error> {
    let result = crate::db_write!(db, |pool| sqlx::query(sql)
        .bind(id)
        .execute(pool)
        .await
        .map(|done| done.rows_affected()));
    match result {
        Ok(affected) if affected > 0 => Ok(Deleted::Yes),
        Ok(_) => Ok(Deleted::NotFound),
        Err(sqlx::Error::Database(e)) if e.is_foreign_key_violation() => Ok(Deleted::InUse),
        Err(e) => Err(e),
    }
}

/// Applies `(id, order)` pairs with `sql` (`UPDATE … SET sort_order = $2 WHERE id = $1`) inside `tx`;
/// returns how many rows changed.
pub async fn set_sort_orders(
    tx: &mut Tx,
    sql: &'static str,
    entries: &[(i64, i32)],
) -> Result<u64, sqlx::Error> {
    let changed = crate::tx_run!(tx, |conn| {
        let mut changed = 0;
        for (id, order) in entries {
            changed += sqlx::query(sql)
                .bind(id)
                .bind(order)
                .execute(&mut *conn)
                .await?
                .rows_affected();
        }
        changed
    });
    Ok(changed)
}

/// `in_tx!(db, |tx| repo::f(&mut tx, …))`: a future that runs one repository call taking `&mut Tx`
/// in a new transaction, committed when the call succeeds (rolled back on error). Its output is the
/// call's `Result<T, sqlx::Error>`. For flows over several repositories, open the [`Tx`] yourself.
#[macro_export]
macro_rules! in_tx {
    ($db:expr, |$tx:ident| $call:expr) => {
        async {
            let mut $tx = $db.begin().await?;
            let done = $call.await?;
            $tx.commit().await?;
            Ok::<_, sqlx::Error>(done)
        }
    };
}
