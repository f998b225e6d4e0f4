//! The shared Redis connection (rate limits now, the cache tier later): a lazily connecting
//! `ConnectionManager` with connect/response timeouts behind a circuit breaker, so a Redis that is
//! absent, killed or paused costs callers at most one timeout and then is skipped until it is retried.

use std::{
    future::Future,
    sync::atomic::{AtomicBool, AtomicI64, Ordering},
    time::Duration,
};

use redis::aio::{ConnectionManager, ConnectionManagerConfig};

/// How long Redis is skipped after a failure before the next request tries it again.
const OPEN_CIRCUIT_FOR: Duration = Duration::from_secs(2);
const RESPONSE_TIMEOUT: Duration = Duration::from_millis(300);
const CONNECT_TIMEOUT: Duration = Duration::from_millis(500);

pub struct Redis {
    manager: ConnectionManager,
    prefix: String,
    open_until_ms: AtomicI64,
    connected: AtomicBool,
}

impl std::fmt::Debug for Redis {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Redis")
            .field("prefix", &self.prefix)
            .field("connected", &self.connected.load(Ordering::Relaxed))
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
        let client = redis::Client::open(url)?;
        let config = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(CONNECT_TIMEOUT))
            .set_response_timeout(Some(RESPONSE_TIMEOUT))
            .set_number_of_retries(1)
            .set_max_delay(Duration::from_millis(500));
        let manager = ConnectionManager::new_lazy_with_config(client, config)?;
        Ok(Self {
            manager,
            prefix: prefix.to_string(),
            open_until_ms: AtomicI64::new(0),
            connected: AtomicBool::new(false),
        })
    }

    /// The key namespace of this deployment (lets several apps or test runs share one Redis).
    pub fn key(&self, key: &str) -> String {
        format!("{}{key}", self.prefix)
    }

    pub fn is_connected(&self) -> bool {
        self.connected.load(Ordering::Relaxed) && !self.circuit_open()
    }

    fn circuit_open(&self) -> bool {
        now_ms() < self.open_until_ms.load(Ordering::Relaxed)
    }

    /// Runs one operation on the connection, bounded in time; failures open the circuit.
    pub async fn run<T, F, Fut>(&self, op: F) -> Result<T, RedisUnavailable>
    where
        F: FnOnce(ConnectionManager) -> Fut,
        Fut: Future<Output = redis::RedisResult<T>>,
    {
        if self.circuit_open() {
            return Err(RedisUnavailable::CircuitOpen);
        }
        let result = match tokio::time::timeout(
            CONNECT_TIMEOUT + RESPONSE_TIMEOUT,
            op(self.manager.clone()),
        )
        .await
        {
            Err(_) => Err(RedisUnavailable::Timeout),
            Ok(Err(e)) => Err(RedisUnavailable::Command(e)),
            Ok(Ok(v)) => Ok(v),
        };
        match &result {
            Ok(_) => {
                if !self.connected.swap(true, Ordering::Relaxed) {
                    tracing::info!("redis connected");
                }
            }
            Err(error) => {
                if self.connected.swap(false, Ordering::Relaxed) {
                    tracing::warn!(%error, "redis unavailable; falling back");
                }
                self.open_until_ms.store(
                    now_ms() + OPEN_CIRCUIT_FOR.as_millis() as i64,
                    Ordering::Relaxed,
                );
            }
        }
        result
    }
}

pub fn now_ms() -> i64 {
    (time::OffsetDateTime::now_utc().unix_timestamp_nanos() / 1_000_000) as i64
}
