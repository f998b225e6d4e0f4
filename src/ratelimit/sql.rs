//! Sliding windows in the SQL database (`rate_limit_hits`), shared by every instance using it.
//! Each key is serialised by its transaction's lock ([`crate::db::Tx::lock`]: an advisory lock on
//! PostgreSQL; SQLite's one writer holds the write lock from `BEGIN IMMEDIATE`).

use super::{Decision, Op, Rule, decide};
use crate::{db::Db, redis_conn::now_ms};

const DELETE_OLD: &str = "DELETE FROM rate_limit_hits WHERE key = $1 AND hit_ms <= $2";
const COUNT: &str = "SELECT COUNT(*), MIN(hit_ms) FROM rate_limit_hits WHERE key = $1";
const INSERT: &str = "INSERT INTO rate_limit_hits (key, hit_ms) VALUES ($1, $2)";
const RESET: &str = "DELETE FROM rate_limit_hits WHERE key = $1";
/// Rows of keys that are never seen again are swept now and then.
const SWEEP: &str = "DELETE FROM rate_limit_hits WHERE hit_ms <= $1";

/// Prune, count and (for an allowed hit) record, inside the open transaction `$tx`.
/// Evaluates to the count and oldest hit *before* this request.
macro_rules! count_and_insert {
    ($tx:ident, $rule:expr, $key:expr, $op:expr, $now:expr, $window_ms:expr) => {{
        sqlx::query(DELETE_OLD)
            .bind($key)
            .bind($now - $window_ms)
            .execute(&mut *$tx)
            .await?;
        let (count, oldest): (i64, Option<i64>) = sqlx::query_as(COUNT)
            .bind($key)
            .fetch_one(&mut *$tx)
            .await?;
        if $op == Op::Hit && count < i64::from($rule.limit) {
            sqlx::query(INSERT)
                .bind($key)
                .bind($now)
                .execute(&mut *$tx)
                .await?;
        }
        (count, oldest)
    }};
}

pub async fn apply(db: &Db, rule: &Rule, key: &str, op: Op) -> Result<Decision, sqlx::Error> {
    let now = now_ms();
    let window_ms = rule.window.as_millis() as i64;
    if op == Op::Reset {
        crate::db_write!(db, |pool| sqlx::query(RESET)
            .bind(key)
            .execute(pool)
            .await
            .map(|r| r.rows_affected()))?;
        return Ok(decide(rule, op, 0, None, now));
    }
    let mut tx = db.begin().await?;
    tx.lock(key).await?;
    let (count, oldest) = crate::tx_run!(&mut tx, |conn| count_and_insert!(
        conn, rule, key, op, now, window_ms
    ));
    tx.commit().await?;
    if now % 97 == 0 {
        let _ = crate::db_write!(db, |pool| sqlx::query(SWEEP)
            .bind(now - 2 * 3_600_000)
            .execute(pool)
            .await
            .map(|r| r.rows_affected()));
    }
    let count = u32::try_from(count.max(0)).unwrap_or(u32::MAX);
    Ok(decide(rule, op, count, oldest, now))
}
