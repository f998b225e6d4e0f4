//! The tiers themselves: Redis → SQL table → process memory for the shared copy, the L1 in front,
//! and the circuit breakers that skip a failing tier.

use super::*;

impl Cache {
    pub(super) fn redis_available(&self) -> bool {
        self.inner.redis.as_ref().is_some_and(|r| r.is_available())
    }

    /// Redis → SQL → memory; `None` is a miss (or no tier allowed by `options`).
    pub(super) async fn read_shared(&self, key: &str, options: &CacheOptions) -> Option<Arc<str>> {
        let inner = &*self.inner;
        if let Some(redis) = &inner.redis {
            if redis.is_available() {
                match redis_tier::get(redis, key).await {
                    Ok(value) => {
                        self.note_tier(Tier::Redis);
                        return value.map(Arc::from);
                    }
                    Err(error) => self.redis_failed(&error),
                }
            } else {
                redis.poke();
            }
        }
        if !options.fallback {
            return None;
        }
        // The SQL and memory legs are boxed, started only when reached: held inline, their futures
        // made every cached lookup's (and so every authenticated handler's) larger than the Redis
        // read it normally is, and that whole size is copied wherever the future is moved.
        if self.sql_available() {
            match Box::pin(sql::get(&inner.db, key, now_ms(), SQL_TIMEOUT)).await {
                Ok(value) => {
                    self.sql_ok();
                    self.note_tier(Tier::Database);
                    return value.map(Arc::from);
                }
                Err(error) => self.sql_failed(&error),
            }
        }
        self.note_tier(Tier::Memory);
        Box::pin(inner.memory.get(key)).await
    }

    /// Stores in the first tier that takes it; returns that tier.
    pub(super) async fn write_shared(
        &self,
        key: &str,
        json: &str,
        options: &CacheOptions,
    ) -> Option<Tier> {
        let inner = &*self.inner;
        if options.ttl.is_zero() {
            return None;
        }
        if let Some(redis) = &inner.redis
            && redis.is_available()
        {
            match redis_tier::set(redis, key, json, options.ttl).await {
                Ok(()) => {
                    self.note_tier(Tier::Redis);
                    return Some(Tier::Redis);
                }
                Err(error) => self.redis_failed(&error),
            }
        }
        if !options.fallback {
            return None;
        }
        if self.sql_available() {
            let expires_at = now_ms()
                .saturating_add(i64::try_from(options.ttl.as_millis()).unwrap_or(i64::MAX / 2));
            match sql::set(&inner.db, key, json, expires_at, SQL_TIMEOUT).await {
                Ok(()) => {
                    self.sql_ok();
                    inner.sql_used.store(true, Ordering::Relaxed);
                    self.note_tier(Tier::Database);
                    return Some(Tier::Database);
                }
                Err(error) => self.sql_failed(&error),
            }
        }
        self.note_tier(Tier::Memory);
        inner.memory.insert(key, Arc::from(json), options.ttl).await;
        Some(Tier::Memory)
    }

    /// The L1 may be read and filled: Redis up, the channel subscribed, and no outage since the
    /// L1 was last emptied.
    pub(super) fn l1_usable(&self, options: &CacheOptions) -> bool {
        let inner = &*self.inner;
        if !options.l1 || inner.l1_ttl.is_zero() {
            return false;
        }
        // Without Redis there is no invalidation channel: the L1 lives at most
        // `SHARED_DB_L1_TTL`, so another instance's write shows within that (this instance's own
        // writes drop its L1 at once).
        let Some(redis) = &inner.redis else {
            return true;
        };
        if !inner.l1_live.load(Ordering::Acquire) {
            return false;
        }
        if !redis.is_available() {
            return false;
        }
        let outages = redis.outages();
        if inner.l1_outages_seen.swap(outages, Ordering::AcqRel) != outages {
            self.clear_l1();
        }
        true
    }

    pub(super) async fn fill_l1(
        &self,
        key: &str,
        json: &Arc<str>,
        options: &CacheOptions,
        since: u64,
        generation: u64,
    ) {
        let inner = &*self.inner;
        if !self.l1_usable(options)
            || inner.l1_generation.load(Ordering::Acquire) != generation
            || lock(&inner.recent).touched_since(since, key)
        {
            return;
        }
        let mut ttl = options.ttl.min(inner.l1_ttl);
        if inner.redis.is_none() {
            ttl = ttl.min(SHARED_DB_L1_TTL);
        }
        inner.l1.insert(key, Arc::clone(json), ttl).await;
    }

    pub(super) fn clear_l1(&self) {
        let inner = &*self.inner;
        inner.l1_generation.fetch_add(1, Ordering::AcqRel);
        inner.l1.clear();
    }

    pub(super) fn decode<T: DeserializeOwned>(&self, json: &str) -> Option<T> {
        match serde_json::from_str(json) {
            Ok(v) => Some(v),
            Err(error) => {
                bump(&self.inner.counters.errors);
                tracing::debug!(%error, "cache: stored value does not decode; treated as a miss");
                None
            }
        }
    }

    pub(super) fn note_tier(&self, tier: Tier) {
        let inner = &*self.inner;
        let previous = Tier::from_u8(inner.last_tier.swap(tier as u8, Ordering::AcqRel));
        if previous == tier {
            return;
        }
        if previous == Tier::Memory {
            // Entries kept while the shared tiers were away may have missed invalidations.
            inner.memory.clear();
        }
        // The failing tier itself logged the WARN; this is its consequence.
        tracing::info!(
            from = previous.as_str(),
            to = tier.as_str(),
            "cache tier changed"
        );
    }

    pub(super) fn redis_failed(&self, error: &RedisUnavailable) {
        if !matches!(error, RedisUnavailable::CircuitOpen) {
            bump(&self.inner.counters.errors);
        }
    }

    pub(super) fn sql_available(&self) -> bool {
        now_ms() >= self.inner.sql_retry_at_ms.load(Ordering::Relaxed)
    }

    pub(super) fn sql_ok(&self) {
        if self.inner.sql_down.swap(false, Ordering::AcqRel) {
            tracing::info!("cache table reachable again");
        }
    }

    pub(super) fn sql_failed(&self, error: &sql::SqlTierError) {
        let inner = &*self.inner;
        bump(&inner.counters.errors);
        inner.sql_retry_at_ms.store(
            now_ms() + SQL_RETRY_AFTER.as_millis() as i64,
            Ordering::Relaxed,
        );
        if !inner.sql_down.swap(true, Ordering::AcqRel) {
            tracing::warn!(%error, retry_after = ?SQL_RETRY_AFTER, "cache table unavailable; skipping it");
        }
    }
}
