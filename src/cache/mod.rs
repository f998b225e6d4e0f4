//! The cache facade (DESIGN §4, D21): `get_or_compute`, `get`, `set`, `invalidate`,
//! `invalidate_prefix`, `stats`. Values are stored as JSON strings.
//!
//! **Tiers**, tried in order on every operation (so the choice made at boot is re-checked at run time):
//! Redis (`REDIS_URL`; shared by every instance) → the SQL table `cache_entries` (the database in use;
//! shared by the instances on it) → process memory (moka, bounded). A tier that errors or times out is
//! skipped by a circuit breaker (Redis: [`crate::redis_conn`]; SQL: [`SQL_RETRY_AFTER`]) and retried
//! later; callers then see a miss, never an error. `CACHE_ENABLED=false` computes every time.
//!
//! **L1**: with Redis, each instance keeps a short-lived copy (`CACHE_L1_TTL_SECONDS`) in process
//! memory. `invalidate`/`invalidate_prefix`/`set` publish on the Redis channel
//! `{REDIS_KEY_PREFIX}cache:invalidate`; every instance's subscriber drops the matching L1 entries, so
//! another instance sees the change within the pub/sub delay (milliseconds). While the subscriber is
//! not connected (or Redis is down) the L1 is emptied and not used. Without Redis there is no L1: the
//! SQL table is shared, so a write on one instance is visible on the next read of any other.
//!
//! **Single flight**: concurrent misses of one key on one instance run the computation once; the
//! others wait for it (a per-key `tokio::sync::OnceCell`; if the computation fails, the next waiter
//! tries its own). A computation that overlapped an invalidation of its key is returned but not stored
//! (it may have read the data from before the write).
//!
//! **Counting**: every `get`/`get_or_compute` call on an enabled cache counts exactly one of `hits`
//! (answered by a tier, the L1, or a concurrent caller's computation — the last also counted in
//! `coalesced`), `misses` (the computation ran, or `get` found nothing) or `bypassed` (a
//! [`CacheOptions::redis_only`] value while Redis is unavailable: computed without any tier).

mod memory;
mod pubsub;
mod redis_tier;
mod sql;

use std::{
    collections::{HashMap, VecDeque},
    future::Future,
    sync::{
        Arc, Mutex, MutexGuard, PoisonError, Weak,
        atomic::{AtomicBool, AtomicI64, AtomicU8, AtomicU64, Ordering},
    },
    time::Duration,
};

use serde::{Serialize, de::DeserializeOwned};
use tokio::sync::{OnceCell, watch};

use self::memory::MemoryTier;
use crate::{
    config::Config,
    db::Db,
    redis_conn::{Redis, RedisUnavailable, now_ms},
};

/// Bound on one statement against the cache table.
const SQL_TIMEOUT: Duration = Duration::from_millis(500);
/// How long the cache table is skipped after it failed.
pub const SQL_RETRY_AFTER: Duration = Duration::from_secs(2);
/// Invalidations that could not reach a shared tier are retried (at most this many are remembered).
const MAX_PENDING: usize = 1024;
/// Recent invalidations remembered to refuse storing values computed across them.
const RECENT_LOG: usize = 256;
const MAINTENANCE_EVERY: Duration = Duration::from_secs(1);
/// Expired rows of the cache table are deleted this often (by instances that wrote to it).
const SWEEP_EVERY_TICKS: u64 = 60;

/// Lifetime of an instance's in-process copy when there is no Redis to announce invalidations:
/// the bound on how stale another instance's read can be after a write (the measured reason for
/// having it: the SQLite cache-table read costs ~70 µs of CPU per catalog request, the L1 ~20 µs).
const SHARED_DB_L1_TTL: Duration = Duration::from_secs(1);

/// How one value is cached.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CacheOptions {
    pub ttl: Duration,
    /// Keep a copy in this process's L1 in front of Redis (default true).
    pub l1: bool,
    /// Use the SQL table, then process memory, when Redis is not configured or unavailable (default
    /// true). Off: only Redis caches the value; otherwise it is computed every time (`bypassed`).
    pub fallback: bool,
}

impl CacheOptions {
    pub const fn new(ttl: Duration) -> Self {
        Self {
            ttl,
            l1: true,
            fallback: true,
        }
    }

    /// Cached in Redis only, without an L1: every instance sees an invalidation on its very next
    /// read (no pub/sub delay). For values as cheap to read from their source as from the SQL table.
    pub const fn redis_only(self) -> Self {
        Self {
            ttl: self.ttl,
            l1: false,
            fallback: false,
        }
    }
}

/// What `/health/` and the admin cache-status endpoint show.
#[derive(Debug, Clone, Serialize, PartialEq, utoipa::ToSchema)]
pub struct CacheStats {
    pub enabled: bool,
    /// The tier that answered the last operation: `redis`, `database` or `memory` (`none` when
    /// the cache is disabled).
    pub tier: &'static str,
    pub redis_configured: bool,
    pub redis_connected: bool,
    pub hits: u64,
    pub misses: u64,
    /// Failed tier operations (each one skipped to the next tier) and undecodable entries.
    pub errors: u64,
    /// Entries held in this process (L1 + memory tier).
    pub entries: u64,
    pub ttl_seconds: u64,
    /// The L1 in front of Redis is in use (Redis up and the invalidation channel subscribed).
    pub l1_active: bool,
    /// Hits answered by the L1 (included in `hits`).
    pub l1_hits: u64,
    /// Hits answered by a concurrent caller's computation (included in `hits`).
    pub coalesced: u64,
    /// Calls computed without any tier (Redis-only values while Redis is unavailable).
    pub bypassed: u64,
    pub invalidations: u64,
    /// Invalidations waiting for a shared tier to come back.
    pub pending_invalidations: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
#[repr(u8)]
enum Tier {
    Redis = 0,
    Database = 1,
    Memory = 2,
}

impl Tier {
    fn from_u8(v: u8) -> Self {
        match v {
            0 => Tier::Redis,
            1 => Tier::Database,
            _ => Tier::Memory,
        }
    }

    fn as_str(self) -> &'static str {
        match self {
            Tier::Redis => "redis",
            Tier::Database => "database",
            Tier::Memory => "memory",
        }
    }
}

/// What an invalidation covers.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Scope {
    Key(String),
    Prefix(String),
}

impl Scope {
    fn covers(&self, key: &str) -> bool {
        match self {
            Scope::Key(k) => k == key,
            Scope::Prefix(p) => key.starts_with(p.as_str()),
        }
    }

    /// `{instance}\t{k|p}\t{key or prefix}` on the channel.
    fn message(&self, instance: &str) -> String {
        match self {
            Scope::Key(k) => format!("{instance}\tk\t{k}"),
            Scope::Prefix(p) => format!("{instance}\tp\t{p}"),
        }
    }

    fn parse(message: &str) -> Option<(&str, Scope)> {
        let mut parts = message.splitn(3, '\t');
        let instance = parts.next()?;
        let kind = parts.next()?;
        let value = parts.next()?.to_string();
        match kind {
            "k" => Some((instance, Scope::Key(value))),
            "p" if !value.is_empty() => Some((instance, Scope::Prefix(value))),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Shared {
    Redis,
    Database,
}

#[derive(Debug, Default)]
struct Recent {
    seq: u64,
    log: VecDeque<(u64, Scope)>,
}

impl Recent {
    fn note(&mut self, scope: Scope) {
        self.seq += 1;
        self.log.push_back((self.seq, scope));
        if self.log.len() > RECENT_LOG {
            self.log.pop_front();
        }
    }

    /// Was `key` invalidated after `since` (conservatively yes when the log no longer reaches back)?
    fn touched_since(&self, since: u64, key: &str) -> bool {
        if self.seq == since {
            return false;
        }
        match self.log.front() {
            Some((first, _)) if *first <= since + 1 => self
                .log
                .iter()
                .filter(|(seq, _)| *seq > since)
                .any(|(_, scope)| scope.covers(key)),
            _ => true,
        }
    }
}

#[derive(Debug, Default)]
struct Counters {
    hits: AtomicU64,
    misses: AtomicU64,
    errors: AtomicU64,
    l1_hits: AtomicU64,
    coalesced: AtomicU64,
    bypassed: AtomicU64,
    invalidations: AtomicU64,
}

fn bump(counter: &AtomicU64) {
    counter.fetch_add(1, Ordering::Relaxed);
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

type FlightCell = Arc<OnceCell<Arc<str>>>;

struct Inner {
    enabled: bool,
    default_ttl: Duration,
    l1_ttl: Duration,
    db: Db,
    redis: Option<Arc<Redis>>,
    l1: MemoryTier,
    memory: MemoryTier,
    /// Tells this instance's own messages apart on the channel.
    instance: String,
    counters: Counters,
    last_tier: AtomicU8,
    sql_retry_at_ms: AtomicI64,
    sql_down: AtomicBool,
    sql_used: AtomicBool,
    /// The invalidation channel is subscribed (the L1 may be used).
    l1_live: AtomicBool,
    /// Incremented whenever the whole L1 is emptied; a value read before is not put into it after.
    l1_generation: AtomicU64,
    /// Redis outages already answered by emptying the L1.
    l1_outages_seen: AtomicU64,
    recent: Mutex<Recent>,
    flights: Mutex<HashMap<String, FlightCell>>,
    pending: Mutex<VecDeque<(Shared, Scope)>>,
    pending_overflowed: AtomicBool,
    background_started: AtomicBool,
    /// Dropped with the cache: background tasks see the channel close and end.
    stop: watch::Sender<()>,
}

/// The cache. Cheap to clone (one `Arc`).
#[derive(Clone)]
pub struct Cache {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for Cache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Cache")
            .field("stats", &self.stats())
            .finish_non_exhaustive()
    }
}

impl Cache {
    /// Builds the tiers (nothing connects here). Background tasks (the invalidation subscriber and
    /// the retry/sweep loop) start now when a Tokio runtime is running, else on first use.
    pub fn new(config: &Config, db: Db, redis: Option<Arc<Redis>>) -> Self {
        let initial = if redis.is_some() {
            Tier::Redis
        } else {
            Tier::Database
        };
        let max_entries = config.cache_max_entries;
        let (stop, _) = watch::channel(());
        let cache = Cache {
            inner: Arc::new(Inner {
                enabled: config.cache_enabled,
                default_ttl: config.cache_ttl,
                l1_ttl: config.cache_l1_ttl,
                db,
                redis,
                l1: MemoryTier::new(max_entries),
                memory: MemoryTier::new(max_entries),
                instance: uuid::Uuid::new_v4().simple().to_string(),
                counters: Counters::default(),
                last_tier: AtomicU8::new(initial as u8),
                sql_retry_at_ms: AtomicI64::new(0),
                sql_down: AtomicBool::new(false),
                sql_used: AtomicBool::new(false),
                l1_live: AtomicBool::new(false),
                l1_generation: AtomicU64::new(0),
                l1_outages_seen: AtomicU64::new(0),
                recent: Mutex::new(Recent::default()),
                flights: Mutex::new(HashMap::new()),
                pending: Mutex::new(VecDeque::new()),
                pending_overflowed: AtomicBool::new(false),
                background_started: AtomicBool::new(false),
                stop,
            }),
        };
        cache.start_background();
        cache
    }

    pub fn is_enabled(&self) -> bool {
        self.inner.enabled
    }

    /// `CACHE_TTL_SECONDS`.
    pub fn default_ttl(&self) -> Duration {
        self.inner.default_ttl
    }

    /// The cached value of `key`, or `compute`'s result (stored for `ttl` when it succeeds). `compute`
    /// is only polled on a miss; its error is returned as is and nothing is stored.
    pub async fn get_or_compute<T, E, Fut>(
        &self,
        key: &str,
        ttl: Duration,
        compute: Fut,
    ) -> Result<T, E>
    where
        T: Serialize + DeserializeOwned,
        Fut: Future<Output = Result<T, E>>,
    {
        self.get_or_compute_with(key, CacheOptions::new(ttl), compute)
            .await
    }

    /// [`Cache::get_or_compute`] with explicit [`CacheOptions`].
    pub async fn get_or_compute_with<T, E, Fut>(
        &self,
        key: &str,
        options: CacheOptions,
        compute: Fut,
    ) -> Result<T, E>
    where
        T: Serialize + DeserializeOwned,
        Fut: Future<Output = Result<T, E>>,
    {
        let inner = &*self.inner;
        if !inner.enabled {
            return compute.await;
        }
        self.start_background();
        if self.l1_usable(&options)
            && let Some(json) = inner.l1.get(key).await
        {
            if let Some(value) = self.decode::<T>(&json) {
                bump(&inner.counters.hits);
                bump(&inner.counters.l1_hits);
                return Ok(value);
            }
            inner.l1.remove(key).await;
        }
        if !options.fallback && !self.redis_available() {
            bump(&inner.counters.bypassed);
            return compute.await;
        }

        let flight = self.join_flight(key);
        let mut mine: Option<T> = None;
        let mut computed = false;
        tokio::pin!(compute);
        let result = flight
            .cell
            .get_or_try_init(|| {
                self.lead(key, &options, compute.as_mut(), &mut mine, &mut computed)
            })
            .await;
        match result {
            Ok(json) => {
                if let Some(value) = mine {
                    bump(if computed {
                        &inner.counters.misses
                    } else {
                        &inner.counters.hits
                    });
                    return Ok(value);
                }
                if let Some(value) = self.decode::<T>(json) {
                    bump(&inner.counters.hits);
                    bump(&inner.counters.coalesced);
                    return Ok(value);
                }
                // Another caller stored a different type under this key: compute our own.
            }
            Err(Lead::Failed(error)) => {
                bump(&inner.counters.misses);
                return Err(error);
            }
            Err(Lead::Unstorable) => {
                if let Some(value) = mine {
                    bump(&inner.counters.misses);
                    return Ok(value);
                }
            }
        }
        drop(flight);
        bump(&inner.counters.misses);
        compute.as_mut().await
    }

    /// The leader of a flight: the shared tiers, else the computation (stored unless its key was
    /// invalidated meanwhile). Returns the JSON handed to the callers waiting on the flight.
    async fn lead<T, E, Fut>(
        &self,
        key: &str,
        options: &CacheOptions,
        compute: std::pin::Pin<&mut Fut>,
        mine: &mut Option<T>,
        computed: &mut bool,
    ) -> Result<Arc<str>, Lead<E>>
    where
        T: Serialize + DeserializeOwned,
        Fut: Future<Output = Result<T, E>>,
    {
        let inner = &*self.inner;
        let since = lock(&inner.recent).seq;
        let generation = inner.l1_generation.load(Ordering::Acquire);
        if let Some(json) = self.read_shared(key, options).await
            && let Some(value) = self.decode::<T>(&json)
        {
            *mine = Some(value);
            self.fill_l1(key, &json, options, since, generation).await;
            return Ok(json);
        }
        let value = compute.await.map_err(Lead::Failed)?;
        *computed = true;
        let json: Arc<str> = match serde_json::to_string(&value) {
            Ok(s) => s.into(),
            Err(error) => {
                bump(&inner.counters.errors);
                tracing::error!(%error, key, "cache: value cannot be serialized; not cached");
                *mine = Some(value);
                return Err(Lead::Unstorable);
            }
        };
        *mine = Some(value);
        if !lock(&inner.recent).touched_since(since, key) {
            self.write_shared(key, &json, options).await;
            self.fill_l1(key, &json, options, since, generation).await;
        }
        Ok(json)
    }

    /// The cached value of `key`, if any (a hit or a miss in the stats).
    pub async fn get<T: DeserializeOwned>(&self, key: &str) -> Option<T> {
        let inner = &*self.inner;
        if !inner.enabled {
            return None;
        }
        self.start_background();
        let options = CacheOptions::new(inner.default_ttl);
        if self.l1_usable(&options)
            && let Some(json) = inner.l1.get(key).await
            && let Some(value) = self.decode::<T>(&json)
        {
            bump(&inner.counters.hits);
            bump(&inner.counters.l1_hits);
            return Some(value);
        }
        let since = lock(&inner.recent).seq;
        let generation = inner.l1_generation.load(Ordering::Acquire);
        let found = self
            .read_shared(key, &options)
            .await
            .and_then(|json| self.decode::<T>(&json).map(|v| (json, v)));
        match found {
            Some((json, value)) => {
                bump(&inner.counters.hits);
                self.fill_l1(key, &json, &options, since, generation).await;
                Some(value)
            }
            None => {
                bump(&inner.counters.misses);
                None
            }
        }
    }

    /// Stores `value` under `key` for `ttl` (a zero TTL stores nothing) and drops other instances'
    /// L1 copies of the key.
    pub async fn set<T: Serialize + ?Sized>(&self, key: &str, value: &T, ttl: Duration) {
        let inner = &*self.inner;
        if !inner.enabled {
            return;
        }
        self.start_background();
        let json: Arc<str> = match serde_json::to_string(value) {
            Ok(s) => s.into(),
            Err(error) => {
                bump(&inner.counters.errors);
                tracing::error!(%error, key, "cache: value cannot be serialized; not cached");
                return;
            }
        };
        // A computation racing with this write must not overwrite it with older data.
        lock(&inner.recent).note(Scope::Key(key.to_string()));
        inner.l1.remove(key).await;
        inner.memory.remove(key).await;
        let options = CacheOptions::new(ttl);
        let since = lock(&inner.recent).seq;
        let generation = inner.l1_generation.load(Ordering::Acquire);
        let tier = self.write_shared(key, &json, &options).await;
        if tier == Some(Tier::Redis)
            && let Some(redis) = &inner.redis
        {
            let message = Scope::Key(key.to_string()).message(&inner.instance);
            if let Err(error) = redis_tier::publish(redis, &message).await {
                self.redis_failed(&error);
            }
        }
        self.fill_l1(key, &json, &options, since, generation).await;
    }

    /// Removes `key` from every tier and from every instance's L1.
    pub async fn invalidate(&self, key: &str) {
        self.invalidate_scope(Scope::Key(key.to_string())).await;
    }

    /// Removes every key starting with `prefix` (and nothing else) from every tier and every
    /// instance's L1. An empty prefix is refused (that would be a flush).
    pub async fn invalidate_prefix(&self, prefix: &str) {
        if prefix.is_empty() {
            tracing::error!("cache: invalidate_prefix(\"\") refused (it would flush everything)");
            return;
        }
        self.invalidate_scope(Scope::Prefix(prefix.to_string()))
            .await;
    }

    async fn invalidate_scope(&self, scope: Scope) {
        let inner = &*self.inner;
        if !inner.enabled {
            return;
        }
        self.start_background();
        bump(&inner.counters.invalidations);
        lock(&inner.recent).note(scope.clone());
        self.drop_local(&scope).await;
        if inner.redis.is_some() && !self.invalidate_redis(&scope).await {
            self.defer(Shared::Redis, scope.clone());
        }
        if !self.invalidate_sql(&scope).await {
            self.defer(Shared::Database, scope);
        }
    }

    async fn drop_local(&self, scope: &Scope) {
        let inner = &*self.inner;
        match scope {
            Scope::Key(k) => {
                inner.l1.remove(k).await;
                inner.memory.remove(k).await;
            }
            Scope::Prefix(p) => {
                inner.l1.remove_prefix(p).await;
                inner.memory.remove_prefix(p).await;
            }
        }
    }

    async fn invalidate_redis(&self, scope: &Scope) -> bool {
        let inner = &*self.inner;
        let Some(redis) = &inner.redis else {
            return true;
        };
        if !redis.is_available() {
            return false;
        }
        let message = scope.message(&inner.instance);
        let result = match scope {
            Scope::Key(k) => redis_tier::delete_and_publish(redis, k, &message).await,
            Scope::Prefix(p) => redis_tier::delete_prefix(redis, p, &message)
                .await
                .map(|_| ()),
        };
        match result {
            Ok(()) => true,
            Err(error) => {
                self.redis_failed(&error);
                false
            }
        }
    }

    async fn invalidate_sql(&self, scope: &Scope) -> bool {
        let inner = &*self.inner;
        if !self.sql_available() {
            return false;
        }
        let result = match scope {
            Scope::Key(k) => sql::delete(&inner.db, k, SQL_TIMEOUT).await,
            Scope::Prefix(p) => sql::delete_prefix(&inner.db, p, SQL_TIMEOUT)
                .await
                .map(|_| ()),
        };
        match result {
            Ok(()) => {
                self.sql_ok();
                true
            }
            Err(error) => {
                self.sql_failed(&error);
                false
            }
        }
    }

    fn defer(&self, tier: Shared, scope: Scope) {
        let inner = &*self.inner;
        let mut pending = lock(&inner.pending);
        if pending.iter().any(|(t, s)| *t == tier && *s == scope) {
            return;
        }
        if pending.len() >= MAX_PENDING {
            pending.pop_front();
            if !inner.pending_overflowed.swap(true, Ordering::Relaxed) {
                tracing::warn!(
                    "cache: too many invalidations waiting for a tier to come back; the oldest are \
                     dropped (their entries expire with their TTL)"
                );
            }
        }
        pending.push_back((tier, scope));
    }

    /// Retries deferred invalidations on the tiers that answer again.
    async fn replay_pending(&self) {
        let inner = &*self.inner;
        let batch: Vec<(Shared, Scope)> = lock(&inner.pending).drain(..).collect();
        if batch.is_empty() {
            return;
        }
        let mut redis_ok = inner.redis.as_ref().is_some_and(|r| r.is_available());
        let mut sql_ok = self.sql_available();
        for (tier, scope) in batch {
            let done = match tier {
                Shared::Redis if redis_ok => {
                    redis_ok = self.invalidate_redis(&scope).await;
                    redis_ok
                }
                Shared::Database if sql_ok => {
                    sql_ok = self.invalidate_sql(&scope).await;
                    sql_ok
                }
                _ => false,
            };
            if !done {
                self.defer(tier, scope);
            }
        }
        if lock(&inner.pending).is_empty() {
            inner.pending_overflowed.store(false, Ordering::Relaxed);
        }
    }

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
    fn current_tier(&self) -> Tier {
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

    // ---- tiers ---------------------------------------------------------------------------------

    fn redis_available(&self) -> bool {
        self.inner.redis.as_ref().is_some_and(|r| r.is_available())
    }

    /// Redis → SQL → memory; `None` is a miss (or no tier allowed by `options`).
    async fn read_shared(&self, key: &str, options: &CacheOptions) -> Option<Arc<str>> {
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
        if self.sql_available() {
            match sql::get(&inner.db, key, now_ms(), SQL_TIMEOUT).await {
                Ok(value) => {
                    self.sql_ok();
                    self.note_tier(Tier::Database);
                    return value.map(Arc::from);
                }
                Err(error) => self.sql_failed(&error),
            }
        }
        self.note_tier(Tier::Memory);
        inner.memory.get(key).await
    }

    /// Stores in the first tier that takes it; returns that tier.
    async fn write_shared(&self, key: &str, json: &str, options: &CacheOptions) -> Option<Tier> {
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
    fn l1_usable(&self, options: &CacheOptions) -> bool {
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

    async fn fill_l1(
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

    fn clear_l1(&self) {
        let inner = &*self.inner;
        inner.l1_generation.fetch_add(1, Ordering::AcqRel);
        inner.l1.clear();
    }

    fn decode<T: DeserializeOwned>(&self, json: &str) -> Option<T> {
        match serde_json::from_str(json) {
            Ok(v) => Some(v),
            Err(error) => {
                bump(&self.inner.counters.errors);
                tracing::debug!(%error, "cache: stored value does not decode; treated as a miss");
                None
            }
        }
    }

    fn note_tier(&self, tier: Tier) {
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

    fn redis_failed(&self, error: &RedisUnavailable) {
        if !matches!(error, RedisUnavailable::CircuitOpen) {
            bump(&self.inner.counters.errors);
        }
    }

    fn sql_available(&self) -> bool {
        now_ms() >= self.inner.sql_retry_at_ms.load(Ordering::Relaxed)
    }

    fn sql_ok(&self) {
        if self.inner.sql_down.swap(false, Ordering::AcqRel) {
            tracing::info!("cache table reachable again");
        }
    }

    fn sql_failed(&self, error: &sql::SqlTierError) {
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

    // ---- single flight -------------------------------------------------------------------------

    fn join_flight(&self, key: &str) -> Flight<'_> {
        let mut flights = lock(&self.inner.flights);
        let cell = flights
            .entry(key.to_string())
            .or_insert_with(|| Arc::new(OnceCell::new()))
            .clone();
        Flight {
            flights: &self.inner.flights,
            key: key.to_string(),
            cell,
        }
    }

    // ---- background ----------------------------------------------------------------------------

    fn start_background(&self) {
        let inner = &*self.inner;
        if inner.background_started.load(Ordering::Acquire) || !inner.enabled {
            return;
        }
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            return;
        };
        if inner.background_started.swap(true, Ordering::AcqRel) {
            return;
        }
        let weak = Arc::downgrade(&self.inner);
        runtime.spawn(maintenance(weak.clone(), inner.stop.subscribe()));
        if let Some(redis) = &inner.redis {
            runtime.spawn(pubsub::run(
                weak,
                redis.client().clone(),
                redis_tier::channel(redis),
                redis.timeout(),
                inner.stop.subscribe(),
            ));
        }
    }
}

/// Why a flight's leader has no JSON for the others.
enum Lead<E> {
    Failed(E),
    Unstorable,
}

/// A caller's membership in a key's flight. The flight leaves the map once it has a value (later
/// callers start a new one, which finds the stored value) or when its last member leaves; a member
/// that gives up (its request was cancelled) does not end the flight for the others.
struct Flight<'a> {
    flights: &'a Mutex<HashMap<String, FlightCell>>,
    key: String,
    cell: FlightCell,
}

impl Drop for Flight<'_> {
    fn drop(&mut self) {
        let mut flights = lock(self.flights);
        // Counted under the lock that joining takes: 2 = the map's and ours.
        if flights.get(&self.key).is_some_and(|c| {
            Arc::ptr_eq(c, &self.cell)
                && (self.cell.initialized() || Arc::strong_count(&self.cell) == 2)
        }) {
            flights.remove(&self.key);
        }
    }
}

impl Inner {
    /// The invalidation channel is (re)subscribed: messages may have been missed, so the L1 starts
    /// empty.
    fn subscribed(&self) {
        self.l1_generation.fetch_add(1, Ordering::AcqRel);
        self.l1.clear();
        if let Some(redis) = &self.redis {
            self.l1_outages_seen
                .store(redis.outages(), Ordering::Release);
        }
        self.l1_live.store(true, Ordering::Release);
        tracing::info!("cache invalidation channel subscribed; L1 on");
    }

    fn unsubscribed(&self, why: &'static str) {
        self.l1_live.store(false, Ordering::Release);
        self.l1_generation.fetch_add(1, Ordering::AcqRel);
        self.l1.clear();
        // Usually Redis itself went away, and its breaker logs that WARN; the subscriber warns if
        // it cannot come back while Redis answers.
        tracing::info!(
            why,
            "cache invalidation channel lost; L1 off until it reconnects"
        );
    }

    async fn on_message(&self, payload: &str) {
        let Some((instance, scope)) = Scope::parse(payload) else {
            tracing::debug!("cache invalidation channel: unknown message");
            return;
        };
        if instance == self.instance {
            return;
        }
        lock(&self.recent).note(scope.clone());
        match &scope {
            Scope::Key(k) => {
                self.l1.remove(k).await;
                self.memory.remove(k).await;
            }
            Scope::Prefix(p) => {
                self.l1.remove_prefix(p).await;
                self.memory.remove_prefix(p).await;
            }
        }
    }
}

/// Once a second: retry deferred invalidations; now and then sweep expired rows from the table.
async fn maintenance(weak: Weak<Inner>, mut stop: watch::Receiver<()>) {
    // Connect early (and learn whether Redis is there) instead of on the first request.
    if let Some(inner) = weak.upgrade()
        && let Some(redis) = inner.redis.clone()
    {
        drop(inner);
        let _ = redis
            .run(|mut conn| async move {
                redis::cmd("PING")
                    .query_async::<redis::Value>(&mut conn)
                    .await
            })
            .await;
    }
    let mut tick = tokio::time::interval(MAINTENANCE_EVERY);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut ticks: u64 = 0;
    loop {
        tokio::select! {
            _ = stop.changed() => return,
            _ = tick.tick() => {}
        }
        ticks += 1;
        let Some(inner) = weak.upgrade() else {
            return;
        };
        let cache = Cache { inner };
        if let Some(redis) = &cache.inner.redis
            && !redis.is_available()
        {
            redis.poke();
        }
        cache.replay_pending().await;
        if ticks.is_multiple_of(SWEEP_EVERY_TICKS)
            && cache.inner.sql_used.load(Ordering::Relaxed)
            && cache.sql_available()
        {
            match sql::sweep(&cache.inner.db, now_ms(), SQL_TIMEOUT).await {
                Ok(n) if n > 0 => tracing::debug!(rows = n, "cache table: expired rows deleted"),
                Ok(_) => {}
                Err(error) => cache.sql_failed(&error),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scopes_round_trip_and_match() {
        let key = Scope::Key("catalog:list:1".into());
        let message = key.message("me");
        assert_eq!(Scope::parse(&message), Some(("me", key.clone())));
        assert!(key.covers("catalog:list:1"));
        assert!(!key.covers("catalog:list:10"));
        let prefix = Scope::Prefix("catalog:list:".into());
        assert!(prefix.covers("catalog:list:10"));
        assert!(!prefix.covers("catalog:lists"));
        assert_eq!(
            Scope::parse(&prefix.message("x")),
            Some(("x", prefix.clone()))
        );
        assert_eq!(
            Scope::parse("x\tp\t"),
            None,
            "an empty prefix is never accepted"
        );
        assert_eq!(Scope::parse("garbage"), None);
    }

    #[test]
    fn recent_log_answers_touched_since() {
        let mut recent = Recent::default();
        let start = recent.seq;
        assert!(!recent.touched_since(start, "a"));
        recent.note(Scope::Key("b".into()));
        assert!(!recent.touched_since(start, "a"));
        assert!(recent.touched_since(start, "b"));
        recent.note(Scope::Prefix("a".into()));
        assert!(recent.touched_since(start, "abc"));
        let later = recent.seq;
        assert!(!recent.touched_since(later, "abc"));
        for i in 0..(RECENT_LOG + 5) {
            recent.note(Scope::Key(format!("other{i}")));
        }
        // The log no longer reaches back to `later`: conservatively touched.
        assert!(recent.touched_since(later, "zzz"));
    }
}
