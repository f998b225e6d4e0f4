//! Rate limiting as a subsystem (DESIGN §5, D17): one set of rules, three backends tried in order —
//! Redis (shared by every instance, atomic script) → the SQL database (shared, a per-key locked
//! transaction) → in-process memory — each an exact sliding window. A failing backend hands the call to
//! the next one, so limits keep holding (and never turn into 5xx) when Redis dies.

mod client_ip;
mod memory;
mod sql;

use std::{
    sync::{
        Arc,
        atomic::{AtomicU8, Ordering},
    },
    time::Duration,
};

pub use client_ip::resolve as resolve_client_ip;

pub use crate::error::Decision;
use crate::{db::Db, error::AppError, redis_conn::Redis};

/// A limit: at most `limit` counted requests per `window`, per key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rule {
    pub name: &'static str,
    pub limit: u32,
    pub window: Duration,
}

/// D17: login 5/min per client IP.
pub const LOGIN_PER_IP: Rule = Rule {
    name: "login-ip",
    limit: 5,
    window: Duration::from_secs(60),
};
/// D17: signup 3/hour per client IP.
pub const SIGNUP_PER_IP: Rule = Rule {
    name: "signup-ip",
    limit: 3,
    window: Duration::from_secs(3600),
};
/// D17: 10 failed logins per 15 minutes per account (known or not), whatever the IP.
pub const LOGIN_FAILURES_PER_ACCOUNT: Rule = Rule {
    name: "login-fail",
    limit: 10,
    window: Duration::from_secs(900),
};
/// D17: order creation 10/hour per user.
pub const ORDER_CREATE_PER_USER: Rule = Rule {
    name: "order-create",
    limit: 10,
    window: Duration::from_secs(3600),
};
/// D17: uploads 20/hour per user.
pub const UPLOADS_PER_USER: Rule = Rule {
    name: "upload",
    limit: 20,
    window: Duration::from_secs(3600),
};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    /// Count this request if it is within the limit.
    Hit,
    /// Look without counting.
    Peek,
    /// Forget the key (e.g. failures after a successful login).
    Reset,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum Backend {
    Redis = 0,
    Database = 1,
    Memory = 2,
}

impl Backend {
    pub fn as_str(self) -> &'static str {
        match self {
            Backend::Redis => "redis",
            Backend::Database => "database",
            Backend::Memory => "memory",
        }
    }
}

#[derive(Debug)]
pub struct RateLimiter {
    enabled: bool,
    redis: Option<Arc<Redis>>,
    db: Db,
    memory: memory::MemoryLimiter,
    last_backend: AtomicU8,
    /// Requests refused, per rule (read by `/metrics`).
    refusals: std::sync::Mutex<Vec<(&'static str, u64)>>,
}

const REDIS_SCRIPT: &str = r"
local key = KEYS[1]
local limit = tonumber(ARGV[1])
local window = tonumber(ARGV[2])
local op = ARGV[3]
if op == 'reset' then
  redis.call('DEL', key)
  return {1, limit, 0}
end
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('ZREMRANGEBYSCORE', key, '-inf', now - window)
local count = redis.call('ZCARD', key)
local allowed = 0
if count < limit then
  allowed = 1
  if op == 'hit' then
    redis.call('ZADD', key, now, ARGV[4])
    redis.call('PEXPIRE', key, window)
    count = count + 1
  end
end
local reset = 0
local oldest = redis.call('ZRANGE', key, 0, 0, 'WITHSCORES')
if oldest[2] then reset = tonumber(oldest[2]) + window - now end
return {allowed, limit - count, reset}
";

impl RateLimiter {
    pub fn new(enabled: bool, redis: Option<Arc<Redis>>, db: Db) -> Self {
        let initial = if redis.is_some() {
            Backend::Redis
        } else {
            Backend::Database
        };
        Self {
            enabled,
            redis,
            db,
            memory: memory::MemoryLimiter::default(),
            last_backend: AtomicU8::new(initial as u8),
            refusals: std::sync::Mutex::new(Vec::new()),
        }
    }

    /// The backend that answered the last check.
    pub fn backend(&self) -> Backend {
        match self.last_backend.load(Ordering::Relaxed) {
            0 => Backend::Redis,
            1 => Backend::Database,
            _ => Backend::Memory,
        }
    }

    /// Counts one request against `rule` for `key`; refused requests are not counted.
    pub async fn hit(&self, rule: &Rule, key: &str) -> Decision {
        self.apply(rule, key, Op::Hit).await
    }

    pub async fn peek(&self, rule: &Rule, key: &str) -> Decision {
        self.apply(rule, key, Op::Peek).await
    }

    pub async fn reset(&self, rule: &Rule, key: &str) {
        self.apply(rule, key, Op::Reset).await;
    }

    /// `hit`, turned into the D17 429 when over the limit. Put a per-user limit on any route with
    /// `state.limiter.enforce(&ORDER_CREATE_PER_USER, &user.id.to_string()).await?`.
    pub async fn enforce(&self, rule: &Rule, key: &str) -> Result<Decision, AppError> {
        let decision = self.hit(rule, key).await;
        if decision.allowed {
            Ok(decision)
        } else {
            tracing::warn!(rule = rule.name, "rate limit exceeded");
            self.refused(rule);
            Err(AppError::RateLimited(decision))
        }
    }

    /// Counts one request refused under `rule` (a 429).
    pub fn refused(&self, rule: &Rule) {
        let mut refusals = match self.refusals.lock() {
            Ok(guard) => guard,
            Err(poisoned) => poisoned.into_inner(),
        };
        match refusals.iter_mut().find(|(name, _)| *name == rule.name) {
            Some((_, n)) => *n += 1,
            None => refusals.push((rule.name, 1)),
        }
    }

    /// Requests refused so far, per rule.
    pub fn refusals(&self) -> Vec<(&'static str, u64)> {
        match self.refusals.lock() {
            Ok(guard) => guard.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        }
    }

    async fn apply(&self, rule: &Rule, key: &str, op: Op) -> Decision {
        if !self.enabled {
            return Decision {
                allowed: true,
                limit: rule.limit,
                remaining: rule.limit,
                reset_after: Duration::ZERO,
            };
        }
        let full_key = format!("rl:{}:{key}", rule.name);
        if let Some(redis) = &self.redis {
            match self.redis_apply(redis, rule, &full_key, op).await {
                Ok(decision) => {
                    self.last_backend
                        .store(Backend::Redis as u8, Ordering::Relaxed);
                    return decision;
                }
                Err(error) => {
                    tracing::debug!(%error, "rate limit: redis unavailable, using the database")
                }
            }
        }
        match sql::apply(&self.db, rule, &full_key, op).await {
            Ok(decision) => {
                self.last_backend
                    .store(Backend::Database as u8, Ordering::Relaxed);
                decision
            }
            Err(error) => {
                tracing::warn!(%error, "rate limit: database unavailable, using process memory");
                self.last_backend
                    .store(Backend::Memory as u8, Ordering::Relaxed);
                self.memory
                    .apply(rule, &full_key, op, crate::redis_conn::now_ms())
            }
        }
    }

    async fn redis_apply(
        &self,
        redis: &Redis,
        rule: &Rule,
        key: &str,
        op: Op,
    ) -> Result<Decision, crate::redis_conn::RedisUnavailable> {
        let key = redis.key(key);
        let op_name = match op {
            Op::Hit => "hit",
            Op::Peek => "peek",
            Op::Reset => "reset",
        };
        let window_ms = rule.window.as_millis() as u64;
        let member = uuid::Uuid::new_v4().simple().to_string();
        let (allowed, remaining, reset): (i64, i64, i64) = redis
            .run(|mut conn| async move {
                redis::Script::new(REDIS_SCRIPT)
                    .key(key)
                    .arg(rule.limit)
                    .arg(window_ms)
                    .arg(op_name)
                    .arg(member)
                    .invoke_async(&mut conn)
                    .await
            })
            .await?;
        Ok(Decision {
            allowed: allowed == 1,
            limit: rule.limit,
            remaining: u32::try_from(remaining.max(0)).unwrap_or(0),
            reset_after: Duration::from_millis(u64::try_from(reset.max(0)).unwrap_or(0)),
        })
    }
}

/// Builds a decision from the counted hits inside the window (shared by the SQL and memory backends).
fn decide(rule: &Rule, op: Op, count_before: u32, oldest_ms: Option<i64>, now_ms: i64) -> Decision {
    let window_ms = rule.window.as_millis() as i64;
    let allowed = count_before < rule.limit;
    let counted = if allowed && op == Op::Hit {
        count_before + 1
    } else {
        count_before
    };
    let oldest = match (oldest_ms, op == Op::Hit && allowed) {
        (Some(t), _) => Some(t),
        (None, true) => Some(now_ms),
        (None, false) => None,
    };
    let reset_ms = oldest.map_or(0, |t| (t + window_ms - now_ms).max(0));
    Decision {
        allowed,
        limit: rule.limit,
        remaining: rule.limit.saturating_sub(counted),
        reset_after: Duration::from_millis(u64::try_from(reset_ms).unwrap_or(0)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decisions_count_and_reset() {
        let d = decide(&LOGIN_PER_IP, Op::Hit, 0, None, 1_000);
        assert!(d.allowed);
        assert_eq!(d.remaining, 4);
        assert_eq!(d.reset_after, Duration::from_secs(60));
        let d = decide(&LOGIN_PER_IP, Op::Hit, 5, Some(1_000), 31_000);
        assert!(!d.allowed);
        assert_eq!(d.remaining, 0);
        assert_eq!(d.reset_after, Duration::from_secs(30));
        let mut headers = axum::http::HeaderMap::new();
        d.apply_headers(&mut headers);
        assert_eq!(headers["retry-after"], "30");
        assert_eq!(headers["ratelimit-limit"], "5");
        assert_eq!(headers["ratelimit-remaining"], "0");
    }
}
