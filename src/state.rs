//! The one app state (crates.io's `AppState(Arc<App>)`): everything a handler may need, built once
//! at boot. Imports platform modules only; features import it, never the other way round.

use std::{ops::Deref, sync::Arc, time::Instant};

use axum::extract::FromRef;

use crate::{
    blocking::BlockingPool,
    cache::{Blobs, Cache},
    config::{Config, default_hash_threads},
    crypto::{jwt::JwtKeys, password::Passwords},
    db::{Db, DbError},
    events::Events,
    metrics::Metrics,
    pages::Pages,
    ratelimit::RateLimiter,
    redis_conn::Redis,
    uploads::Uploads,
};

/// Everything a request handler may need, built once at boot.
#[derive(Debug)]
pub struct App {
    pub config: Config,
    pub db: Db,
    pub cache: Cache,
    pub pages: Pages,
    pub jwt: JwtKeys,
    pub passwords: Passwords,
    pub limiter: RateLimiter,
    pub redis: Option<Arc<Redis>>,
    /// Uploaded-file storage and the image worker.
    pub uploads: Uploads,
    /// Live events (the bell's stream), across instances through Redis when configured.
    pub events: Events,
    /// Rendered documents (invoice PDFs): their worker and the cache of what it rendered.
    pub documents: Documents,
    /// The HTTP client for outbound calls (the payment gateway), with its connect timeout.
    pub http: reqwest::Client,
    /// Request metrics, when `/metrics` is configured (`METRICS_TOKEN` or `METRICS_ADDR`).
    pub metrics: Option<Arc<Metrics>>,
    pub started_at: Instant,
}

/// CPU-heavy documents (invoice PDFs) render on `pool`, never on the async runtime; `cache` keeps
/// the results by a key that names the exact version of their source.
#[derive(Debug, Clone)]
pub struct Documents {
    pub pool: BlockingPool,
    pub cache: Blobs,
}

/// The state handed to axum: a cheap clone of one `Arc<App>`.
#[derive(Clone, Debug)]
pub struct AppState(pub Arc<App>);

impl Deref for AppState {
    type Target = App;
    fn deref(&self) -> &App {
        &self.0
    }
}

impl AppState {
    /// Connects the database, applies pending migrations and assembles the state.
    pub async fn build(config: Config) -> Result<Self, DbError> {
        crate::crypto::install_tls_provider();
        let db = Db::connect(&config).await?;
        db.migrate().await?;
        Ok(Self::from_parts(config, db))
    }

    pub fn from_parts(config: Config, db: Db) -> Self {
        crate::crypto::install_tls_provider();
        let pages = Pages::new(config.static_dir.is_some());
        let redis = config.redis_url.as_ref().and_then(|url| {
            match Redis::with_timeout(url.expose(), &config.redis_key_prefix, config.redis_timeout)
            {
                Ok(redis) => Some(Arc::new(redis)),
                Err(error) => {
                    tracing::error!(%error, "REDIS_URL is invalid; continuing without Redis");
                    None
                }
            }
        });
        let cache = Cache::new(&config, db.clone(), redis.clone());
        let jwt = JwtKeys::new(config.secret_key.expose(), config.jwt_lifetime);
        let passwords = Passwords::new(BlockingPool::new("hasher", config.hash_threads, 1024));
        let limiter = RateLimiter::new(config.rate_limit_enabled, redis.clone(), db.clone());
        let uploads = Uploads::new(&config);
        let events = Events::new(redis.clone());
        let documents = Documents {
            // All cores but one (DESIGN §10), as for hashing; a render takes a few milliseconds.
            pool: BlockingPool::new("documents", default_hash_threads(), 256),
            cache: Blobs::new(config.invoice.cache_max_bytes),
        };
        let http = reqwest::Client::builder()
            .connect_timeout(config.razorpay.connect_timeout)
            .timeout(config.razorpay.timeout)
            .pool_idle_timeout(std::time::Duration::from_secs(60))
            .build()
            .unwrap_or_else(|error| {
                tracing::error!(%error, "outbound HTTP client: using the defaults");
                reqwest::Client::new()
            });
        let config_has_metrics = config.metrics_token.is_some() || config.metrics_addr.is_some();
        AppState(Arc::new(App {
            config,
            db,
            cache,
            pages,
            jwt,
            passwords,
            limiter,
            redis,
            uploads,
            events,
            documents,
            http,
            metrics: (config_has_metrics).then(|| Arc::new(Metrics::new())),
            started_at: Instant::now(),
        }))
    }
}

/// Sub-states for platform routes that take only what they need (and so never name [`AppState`]).
impl FromRef<AppState> for Uploads {
    fn from_ref(state: &AppState) -> Self {
        state.uploads.clone()
    }
}
