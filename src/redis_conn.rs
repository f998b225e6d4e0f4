//! The shared Redis connection (rate limits, the cache tier and its invalidation channel): a lazily
//! connecting `ConnectionManager` with connect/response timeouts behind a circuit breaker, so a Redis
//! that is absent, killed or paused costs callers at most one timeout and then is skipped.
//!
//! The breaker has three states. `unknown` (boot) and `up` let operations through; the first failure
//! moves it to `down`, logged once. While down, callers are refused at once and a single background
//! probe (`PING`, with a longer timeout than requests get) runs every [`RETRY_AFTER`]; when it answers,
//! the breaker is `up` again. No request ever waits on the probe.

use std::{
    future::Future,
    sync::{
        Arc,
        atomic::{AtomicBool, AtomicI64, AtomicU8, AtomicU64, Ordering},
    },
    time::Duration,
};

use redis::aio::{ConnectionManager, ConnectionManagerConfig};

/// The default bound on one Redis operation, connecting included (reliability E3: ≤ 250 ms).
pub const DEFAULT_TIMEOUT: Duration = Duration::from_millis(250);
/// While Redis is down, how often the background probe tries it again.
pub const RETRY_AFTER: Duration = Duration::from_secs(1);
/// A probe runs off the request path, so it may wait longer (a TLS handshake to a remote Redis).
const PROBE_TIMEOUT: Duration = Duration::from_secs(2);

const UNKNOWN: u8 = 0;
const UP: u8 = 1;
const DOWN: u8 = 2;

pub struct Redis {
    client: redis::Client,
    manager: ConnectionManager,
    prefix: String,
    timeout: Duration,
    breaker: Arc<Breaker>,
}

#[derive(Debug, Default)]
struct Breaker {
    state: AtomicU8,
    /// Unix ms after which the next background probe may start (while down).
    retry_at_ms: AtomicI64,
    probing: AtomicBool,
    /// Incremented every time Redis goes down: state kept beside Redis (the cache's L1) compares it.
    outages: AtomicU64,
}

impl Breaker {
    fn mark_up(&self) {
        let previous = self.state.swap(UP, Ordering::AcqRel);
        if previous == DOWN {
            tracing::info!("redis reachable again");
        } else if previous == UNKNOWN {
            tracing::info!("redis connected");
        }
    }

    fn mark_down(&self, error: &RedisUnavailable) {
        self.retry_at_ms
            .store(now_ms() + RETRY_AFTER.as_millis() as i64, Ordering::Relaxed);
        if self.state.swap(DOWN, Ordering::AcqRel) != DOWN {
            self.outages.fetch_add(1, Ordering::AcqRel);
            tracing::warn!(%error, retry_every = ?RETRY_AFTER, "redis unavailable; falling back");
        }
    }
}

impl std::fmt::Debug for Redis {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Redis")
            .field("prefix", &self.prefix)
            .field("timeout", &self.timeout)
            .field("breaker", &self.breaker)
            .finish_non_exhaustive()
    }
}

#[derive(Debug, thiserror::Error)]
pub enum RedisUnavailable {
    #[error("redis circuit open")]
    CircuitOpen,
    #[error("redis timed out")]
    Timeout,
    #[error("redis error: {0}")]
    Command(#[from] redis::RedisError),
}

impl Redis {
    /// Builds the client without connecting (a Redis that is down at boot is not an error).
    pub fn new(url: &str, prefix: &str) -> Result<Self, redis::RedisError> {
        Self::with_timeout(url, prefix, DEFAULT_TIMEOUT)
    }

    /// As [`Redis::new`], with `timeout` bounding every operation (connecting included).
    pub fn with_timeout(
        url: &str,
        prefix: &str,
        timeout: Duration,
    ) -> Result<Self, redis::RedisError> {
        let client = redis::Client::open(url)?;
        let config = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(timeout))
            .set_response_timeout(Some(timeout))
            .set_number_of_retries(1)
            .set_min_delay(Duration::from_millis(50))
            .set_max_delay(Duration::from_millis(500));
        let manager = ConnectionManager::new_lazy_with_config(client.clone(), config)?;
        Ok(Self {
            client,
            manager,
            prefix: prefix.to_string(),
            timeout,
            breaker: Arc::new(Breaker::default()),
        })
    }

    /// The key namespace of this deployment (lets several apps or test runs share one Redis).
    pub fn key(&self, key: &str) -> String {
        format!("{}{key}", self.prefix)
    }

    /// The client, for connections of its own (the cache's pub/sub subscriber).
    pub fn client(&self) -> &redis::Client {
        &self.client
    }

    /// The bound on one operation.
    pub fn timeout(&self) -> Duration {
        self.timeout
    }

    /// The last operation (or probe) succeeded.
    pub fn is_connected(&self) -> bool {
        self.breaker.state.load(Ordering::Acquire) == UP
    }

    /// Operations are let through (not known to be down).
    pub fn is_available(&self) -> bool {
        self.breaker.state.load(Ordering::Acquire) != DOWN
    }

    /// While down, starts the background probe when one is due. For callers that skip Redis without
    /// calling [`Redis::run`].
    pub fn poke(&self) {
        if !self.is_available() {
            self.maybe_probe();
        }
    }

    /// How many times Redis has gone down since boot.
    pub fn outages(&self) -> u64 {
        self.breaker.outages.load(Ordering::Acquire)
    }

    /// Runs one operation on the connection, bounded in time; a failure opens the circuit.
    pub async fn run<T, F, Fut>(&self, op: F) -> Result<T, RedisUnavailable>
    where
        F: FnOnce(ConnectionManager) -> Fut,
        Fut: Future<Output = redis::RedisResult<T>>,
    {
        if !self.is_available() {
            self.maybe_probe();
            return Err(RedisUnavailable::CircuitOpen);
        }
        let result = match tokio::time::timeout(self.timeout, op(self.manager.clone())).await {
            Err(_) => Err(RedisUnavailable::Timeout),
            Ok(Err(e)) => Err(RedisUnavailable::Command(e)),
            Ok(Ok(v)) => Ok(v),
        };
        match &result {
            Ok(_) => self.breaker.mark_up(),
            Err(error) => self.breaker.mark_down(error),
        }
        result
    }

    /// While down: starts one background probe when it is due (never more than one at a time).
    fn maybe_probe(&self) {
        let breaker = &self.breaker;
        if now_ms() < breaker.retry_at_ms.load(Ordering::Relaxed)
            || breaker.probing.swap(true, Ordering::AcqRel)
        {
            return;
        }
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            breaker.probing.store(false, Ordering::Release);
            return;
        };
        let breaker = Arc::clone(breaker);
        let mut manager = self.manager.clone();
        runtime.spawn(async move {
            let ping = tokio::time::timeout(
                PROBE_TIMEOUT,
                redis::cmd("PING").query_async::<redis::Value>(&mut manager),
            )
            .await;
            match ping {
                Ok(Ok(_)) => breaker.mark_up(),
                Ok(Err(error)) => {
                    tracing::debug!(%error, "redis probe failed");
                    breaker.mark_down(&RedisUnavailable::Command(error));
                }
                Err(_) => {
                    tracing::debug!("redis probe timed out");
                    breaker.mark_down(&RedisUnavailable::Timeout);
                }
            }
            breaker.probing.store(false, Ordering::Release);
        });
    }
}

pub fn now_ms() -> i64 {
    (time::OffsetDateTime::now_utc().unix_timestamp_nanos() / 1_000_000) as i64
}
