//! The counters behind [`CacheStats`], and the tier reported.

use super::*;

#[derive(Debug, Default)]
pub(super) struct Counters {
    pub(super) hits: AtomicU64,
    pub(super) misses: AtomicU64,
    pub(super) errors: AtomicU64,
    pub(super) l1_hits: AtomicU64,
    pub(super) coalesced: AtomicU64,
    pub(super) bypassed: AtomicU64,
    pub(super) invalidations: AtomicU64,
}

pub(super) fn bump(counter: &AtomicU64) {
    counter.fetch_add(1, Ordering::Relaxed);
}

impl Cache {
    /// Counters and tier; `entries` may lag by pending evictions (see [`Cache::status`]).
    pub fn stats(&self) -> CacheStats {
        let inner = &*self.inner;
        let c = &inner.counters;
        let get = |a: &AtomicU64| a.load(Ordering::Relaxed);
        CacheStats {
            enabled: inner.enabled,
            tier: if inner.enabled {
                self.current_tier().as_str()
            } else {
                "none"
            },
            redis_configured: inner.redis.is_some(),
            redis_connected: inner.redis.as_ref().is_some_and(|r| r.is_connected()),
            hits: get(&c.hits),
            misses: get(&c.misses),
            errors: get(&c.errors),
            entries: inner.l1.len() + inner.memory.len(),
            ttl_seconds: inner.default_ttl.as_secs(),
            l1_active: inner.enabled
                && !inner.l1_ttl.is_zero()
                && inner.l1_live.load(Ordering::Acquire)
                && inner.redis.as_ref().is_some_and(|r| r.is_available()),
            l1_hits: get(&c.l1_hits),
            coalesced: get(&c.coalesced),
            bypassed: get(&c.bypassed),
            invalidations: get(&c.invalidations),
            pending_invalidations: lock(&inner.pending).len() as u64,
        }
    }

    /// The tier that answered last, unless it has failed since (then the one that would answer).
    pub(super) fn current_tier(&self) -> Tier {
        let inner = &*self.inner;
        match Tier::from_u8(inner.last_tier.load(Ordering::Relaxed)) {
            Tier::Redis if !self.redis_available() => {
                if inner.sql_down.load(Ordering::Relaxed) {
                    Tier::Memory
                } else {
                    Tier::Database
                }
            }
            tier => tier,
        }
    }

    /// [`Cache::stats`] with exact in-process entry counts.
    pub async fn status(&self) -> CacheStats {
        self.inner.l1.settle().await;
        self.inner.memory.settle().await;
        self.stats()
    }
}
