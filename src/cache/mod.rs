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

mod background;
mod blobs;
mod flight;
mod invalidation;
mod memory;
mod pubsub;
mod redis_tier;
mod sql;
mod stats;
mod tiers;

pub use blobs::{Blob, Blobs};

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

use self::{
    flight::{FlightCell, Lead},
    invalidation::{Recent, Scope, Shared},
    memory::MemoryTier,
    stats::{Counters, bump},
};
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

/// A rendered JSON text, cached and served as stored ([`Cache::get_or_compute_json`]).
#[derive(Debug, Clone)]
pub struct CachedJson(pub Arc<str>);

impl CachedJson {
    /// Renders `value` once.
    pub fn render<T: Serialize + ?Sized>(value: &T) -> Result<Self, serde_json::Error> {
        serde_json::to_string(value).map(|s| Self(s.into()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Served as `application/json` with the stored text itself as the body (an `Arc` shared with the
/// cache: no parse, no copy).
impl axum::response::IntoResponse for CachedJson {
    fn into_response(self) -> axum::response::Response {
        (
            [(
                axum::http::header::CONTENT_TYPE,
                axum::http::HeaderValue::from_static("application/json"),
            )],
            axum::body::Bytes::from_owner(SharedText(self.0)),
        )
            .into_response()
    }
}

/// `Arc<str>` as the bytes of a response body.
struct SharedText(Arc<str>);

impl AsRef<[u8]> for SharedText {
    fn as_ref(&self) -> &[u8] {
        self.0.as_bytes()
    }
}

/// How a value goes into the tiers (as JSON text) and comes back out.
trait Stored: Sized {
    fn from_stored(cache: &Cache, json: &Arc<str>) -> Option<Self>;
    fn to_stored(&self) -> Result<Arc<str>, serde_json::Error>;
}

/// A typed value: serialised on the way in, parsed on the way out.
struct Typed<T>(T);

impl<T: Serialize + DeserializeOwned> Stored for Typed<T> {
    fn from_stored(cache: &Cache, json: &Arc<str>) -> Option<Self> {
        cache.decode::<T>(json).map(Typed)
    }

    fn to_stored(&self) -> Result<Arc<str>, serde_json::Error> {
        serde_json::to_string(&self.0).map(Into::into)
    }
}

/// Rendered JSON: the stored text itself (an `Arc` clone each way).
impl Stored for CachedJson {
    fn from_stored(_: &Cache, json: &Arc<str>) -> Option<Self> {
        Some(Self(Arc::clone(json)))
    }

    fn to_stored(&self) -> Result<Arc<str>, serde_json::Error> {
        Ok(Arc::clone(&self.0))
    }
}

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

    /// Cached in the shared tiers only (Redis, else the SQL table, else memory), never in an L1:
    /// every instance sees an invalidation on its very next read, without waiting for pub/sub.
    pub const fn without_l1(self) -> Self {
        Self {
            ttl: self.ttl,
            l1: false,
            fallback: self.fallback,
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

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

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
        self.get_or_compute_stored(key, options, async { compute.await.map(Typed) })
            .await
            .map(|typed| typed.0)
    }

    /// A cached JSON text as stored (a rendered response body), computed on a miss: hits are
    /// served without parsing or copying the text.
    pub async fn get_or_compute_json<E, Fut>(
        &self,
        key: &str,
        ttl: Duration,
        compute: Fut,
    ) -> Result<CachedJson, E>
    where
        Fut: Future<Output = Result<CachedJson, E>>,
    {
        self.get_or_compute_json_with(key, CacheOptions::new(ttl), compute)
            .await
    }

    /// [`Cache::get_or_compute_json`] with explicit [`CacheOptions`].
    pub async fn get_or_compute_json_with<E, Fut>(
        &self,
        key: &str,
        options: CacheOptions,
        compute: Fut,
    ) -> Result<CachedJson, E>
    where
        Fut: Future<Output = Result<CachedJson, E>>,
    {
        self.get_or_compute_stored(key, options, compute).await
    }

    async fn get_or_compute_stored<T, E, Fut>(
        &self,
        key: &str,
        options: CacheOptions,
        compute: Fut,
    ) -> Result<T, E>
    where
        T: Stored,
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
            if let Some(value) = T::from_stored(self, &json) {
                bump(&inner.counters.hits);
                bump(&inner.counters.l1_hits);
                return Ok(value);
            }
            Box::pin(inner.l1.remove(key)).await;
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
                if let Some(value) = T::from_stored(self, json) {
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
        T: Stored,
        Fut: Future<Output = Result<T, E>>,
    {
        let inner = &*self.inner;
        let since = lock(&inner.recent).seq;
        let generation = inner.l1_generation.load(Ordering::Acquire);
        if let Some(json) = self.read_shared(key, options).await
            && let Some(value) = T::from_stored(self, &json)
        {
            *mine = Some(value);
            // Boxed when it runs (the L1's insert is a large future; see `read_shared`), and not
            // at all where the L1 is off (a Redis-only entry: every authenticated request).
            if self.l1_usable(options) {
                Box::pin(self.fill_l1(key, &json, options, since, generation)).await;
            }
            return Ok(json);
        }
        let value = compute.await.map_err(Lead::Failed)?;
        *computed = true;
        let json: Arc<str> = match value.to_stored() {
            Ok(s) => s,
            Err(error) => {
                bump(&inner.counters.errors);
                tracing::error!(%error, key, "cache: value cannot be serialized; not cached");
                *mine = Some(value);
                return Err(Lead::Unstorable);
            }
        };
        *mine = Some(value);
        if !lock(&inner.recent).touched_since(since, key) {
            // A miss: boxed as above.
            Box::pin(async {
                self.write_shared(key, &json, options).await;
                self.fill_l1(key, &json, options, since, generation).await;
            })
            .await;
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

    /// `doctor`: writes, reads back and deletes a probe entry in the SQL cache table.
    pub async fn probe_table(&self) -> Result<(), String> {
        let db = &self.inner.db;
        let key = format!("doctor:{}", uuid::Uuid::new_v4().simple());
        let within = Duration::from_secs(5);
        let now = crate::redis_conn::now_ms();
        sql::set(db, &key, "\"ok\"", now + 60_000, within)
            .await
            .map_err(|e| format!("set: {e}"))?;
        let value = sql::get(db, &key, now, within)
            .await
            .map_err(|e| format!("get: {e}"))?;
        sql::delete(db, &key, within)
            .await
            .map_err(|e| format!("delete: {e}"))?;
        match value.as_deref() {
            Some("\"ok\"") => Ok(()),
            other => Err(format!("read back {other:?}")),
        }
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
}
