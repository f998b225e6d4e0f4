//! The Redis tier: `{REDIS_KEY_PREFIX}cache:{key}` strings with a `PX` expiry, shared by every
//! instance, and the invalidation channel `{REDIS_KEY_PREFIX}cache:invalidate`.
//!
//! Prefix invalidation uses `SCAN MATCH <escaped prefix>* COUNT 500` + `UNLINK` per batch: exact for
//! any prefix (no registry of prefixes or version keys to keep consistent), non-blocking for Redis
//! (`SCAN` is incremental), and invalidations are rare (writes), so the O(keys) walk is affordable.

use std::time::Duration;

use crate::redis_conn::{Redis, RedisUnavailable};

/// The namespace under the deployment prefix.
const NAMESPACE: &str = "cache:";
const SCAN_BATCH: usize = 500;
/// A bound on one prefix walk (a runaway keyspace must not stall the caller).
const MAX_SCAN_ROUNDS: usize = 10_000;

pub fn full_key(redis: &Redis, key: &str) -> String {
    redis.key(&format!("{NAMESPACE}{key}"))
}

pub fn channel(redis: &Redis) -> String {
    redis.key(&format!("{NAMESPACE}invalidate"))
}

pub async fn get(redis: &Redis, key: &str) -> Result<Option<String>, RedisUnavailable> {
    let key = full_key(redis, key);
    redis
        .run(|mut conn| async move {
            redis::cmd("GET")
                .arg(key)
                .query_async::<Option<String>>(&mut conn)
                .await
        })
        .await
}

pub async fn set(
    redis: &Redis,
    key: &str,
    json: &str,
    ttl: Duration,
) -> Result<(), RedisUnavailable> {
    let key = full_key(redis, key);
    let ms = u64::try_from(ttl.as_millis()).unwrap_or(u64::MAX).max(1);
    let json = json.to_string();
    redis
        .run(|mut conn| async move {
            redis::cmd("SET")
                .arg(key)
                .arg(json)
                .arg("PX")
                .arg(ms)
                .query_async::<()>(&mut conn)
                .await
        })
        .await
}

/// Deletes one key and tells the other instances (one round trip).
pub async fn delete_and_publish(
    redis: &Redis,
    key: &str,
    message: &str,
) -> Result<(), RedisUnavailable> {
    let key = full_key(redis, key);
    let channel = channel(redis);
    let message = message.to_string();
    redis
        .run(|mut conn| async move {
            redis::pipe()
                .cmd("UNLINK")
                .arg(key)
                .ignore()
                .cmd("PUBLISH")
                .arg(channel)
                .arg(message)
                .ignore()
                .query_async::<()>(&mut conn)
                .await
        })
        .await
}

pub async fn publish(redis: &Redis, message: &str) -> Result<(), RedisUnavailable> {
    let channel = channel(redis);
    let message = message.to_string();
    redis
        .run(|mut conn| async move {
            redis::cmd("PUBLISH")
                .arg(channel)
                .arg(message)
                .query_async::<()>(&mut conn)
                .await
        })
        .await
}

/// Deletes every key under `prefix` (batch by batch), then tells the other instances.
pub async fn delete_prefix(
    redis: &Redis,
    prefix: &str,
    message: &str,
) -> Result<u64, RedisUnavailable> {
    let pattern = format!("{}*", glob_escape(&full_key(redis, prefix)));
    let mut cursor: u64 = 0;
    let mut deleted = 0u64;
    for _ in 0..MAX_SCAN_ROUNDS {
        let pattern = pattern.clone();
        let (next, keys): (u64, Vec<Vec<u8>>) = redis
            .run(|mut conn| async move {
                redis::cmd("SCAN")
                    .arg(cursor)
                    .arg("MATCH")
                    .arg(pattern)
                    .arg("COUNT")
                    .arg(SCAN_BATCH)
                    .query_async(&mut conn)
                    .await
            })
            .await?;
        if !keys.is_empty() {
            deleted += keys.len() as u64;
            redis
                .run(|mut conn| async move {
                    redis::cmd("UNLINK")
                        .arg(keys)
                        .query_async::<()>(&mut conn)
                        .await
                })
                .await?;
        }
        cursor = next;
        if cursor == 0 {
            break;
        }
    }
    publish(redis, message).await?;
    Ok(deleted)
}

/// Escapes Redis glob metacharacters so that a prefix matches literally.
pub fn glob_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 4);
    for c in s.chars() {
        if matches!(c, '*' | '?' | '[' | ']' | '\\' | '^') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::glob_escape;

    #[test]
    fn glob_metacharacters_are_escaped() {
        assert_eq!(glob_escape("a:b"), "a:b");
        assert_eq!(glob_escape("p*[x]?\\"), "p\\*\\[x\\]\\?\\\\");
    }
}
