//! The cache facade (DESIGN §4, D21). This foundation reports its configuration and counters; the tiers
//! (Redis → SQL table → memory) arrive with the catalog.

use std::sync::atomic::{AtomicU64, Ordering};

use serde::Serialize;

use crate::config::Config;

#[derive(Debug)]
pub struct Cache {
    enabled: bool,
    ttl_seconds: u64,
    redis_configured: bool,
    hits: AtomicU64,
    misses: AtomicU64,
    errors: AtomicU64,
}

/// What `/health/` and the admin cache-status endpoint show.
#[derive(Debug, Clone, Serialize, PartialEq, utoipa::ToSchema)]
pub struct CacheStats {
    pub enabled: bool,
    /// The tier answering reads now: `redis`, `database` or `memory`.
    pub tier: &'static str,
    pub redis_configured: bool,
    pub redis_connected: bool,
    pub hits: u64,
    pub misses: u64,
    pub errors: u64,
    pub entries: u64,
    pub ttl_seconds: u64,
}

impl Cache {
    pub fn new(config: &Config) -> Self {
        Self {
            enabled: config.cache_enabled,
            ttl_seconds: config.cache_ttl.as_secs(),
            redis_configured: config.redis_url.is_some(),
            hits: AtomicU64::new(0),
            misses: AtomicU64::new(0),
            errors: AtomicU64::new(0),
        }
    }

    pub fn stats(&self) -> CacheStats {
        CacheStats {
            enabled: self.enabled,
            tier: "memory",
            redis_configured: self.redis_configured,
            redis_connected: false,
            hits: self.hits.load(Ordering::Relaxed),
            misses: self.misses.load(Ordering::Relaxed),
            errors: self.errors.load(Ordering::Relaxed),
            entries: 0,
            ttl_seconds: self.ttl_seconds,
        }
    }
}
