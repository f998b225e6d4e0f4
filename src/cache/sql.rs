//! The SQL tier: `cache_entries(key, value, expires_at unix-ms)` in the database in use, shared by every
//! instance on it. One SQL text per statement runs on SQLite and PostgreSQL alike.

use std::time::Duration;

use crate::{db::Db, db_read, db_write};

const GET: &str = "SELECT value FROM cache_entries WHERE key = $1 AND expires_at > $2";
const UPSERT: &str = "INSERT INTO cache_entries (key, value, expires_at) VALUES ($1, $2, $3) \
     ON CONFLICT (key) DO UPDATE SET value = excluded.value, expires_at = excluded.expires_at";
const DELETE: &str = "DELETE FROM cache_entries WHERE key = $1";
/// Exact and case-sensitive on both backends (SQLite's `LIKE` ignores ASCII case, and `%`/`_` would
/// need escaping): the first `length(prefix)` characters equal the prefix.
const DELETE_PREFIX: &str = "DELETE FROM cache_entries WHERE substr(key, 1, length($1)) = $1";
const SWEEP: &str = "DELETE FROM cache_entries WHERE expires_at <= $1";

#[derive(Debug, thiserror::Error)]
pub enum SqlTierError {
    #[error("cache table timed out")]
    Timeout,
    #[error("cache table: {0}")]
    Query(#[from] sqlx::Error),
}

async fn bounded<T>(
    within: Duration,
    op: impl Future<Output = Result<T, sqlx::Error>>,
) -> Result<T, SqlTierError> {
    match tokio::time::timeout(within, op).await {
        Err(_) => Err(SqlTierError::Timeout),
        Ok(result) => Ok(result?),
    }
}

pub async fn get(
    db: &Db,
    key: &str,
    now_ms: i64,
    within: Duration,
) -> Result<Option<String>, SqlTierError> {
    bounded(within, async {
        db_read!(db, |pool| sqlx::query_scalar::<_, String>(GET)
            .bind(key)
            .bind(now_ms)
            .fetch_optional(pool)
            .await)
    })
    .await
}

pub async fn set(
    db: &Db,
    key: &str,
    json: &str,
    expires_at_ms: i64,
    within: Duration,
) -> Result<(), SqlTierError> {
    bounded(within, async {
        db_write!(db, |pool| sqlx::query(UPSERT)
            .bind(key)
            .bind(json)
            .bind(expires_at_ms)
            .execute(pool)
            .await
            .map(|r| r.rows_affected()))
    })
    .await
    .map(|_| ())
}

pub async fn delete(db: &Db, key: &str, within: Duration) -> Result<(), SqlTierError> {
    bounded(within, async {
        db_write!(db, |pool| sqlx::query(DELETE)
            .bind(key)
            .execute(pool)
            .await
            .map(|r| r.rows_affected()))
    })
    .await
    .map(|_| ())
}

pub async fn delete_prefix(db: &Db, prefix: &str, within: Duration) -> Result<u64, SqlTierError> {
    bounded(within, async {
        db_write!(db, |pool| sqlx::query(DELETE_PREFIX)
            .bind(prefix)
            .execute(pool)
            .await
            .map(|r| r.rows_affected()))
    })
    .await
}

/// Deletes expired rows (reads already ignore them; this bounds the table).
pub async fn sweep(db: &Db, now_ms: i64, within: Duration) -> Result<u64, SqlTierError> {
    bounded(within, async {
        db_write!(db, |pool| sqlx::query(SWEEP)
            .bind(now_ms)
            .execute(pool)
            .await
            .map(|r| r.rows_affected()))
    })
    .await
}
