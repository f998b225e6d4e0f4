//! `electioncart doctor` (issue 14 item 6): with the environment the server would run with, checks
//! every dependency and reports one line each with the time it took — the configuration problems
//! `check` finds, the database, its migrations, Redis (ping, set, get, TTL, a pub/sub round trip),
//! the cache tier the server would use and why, the SQL cache table, object storage (put, get,
//! delete of a probe object) and the Razorpay keys (one authenticated read). It exits non-zero when
//! a required check fails: the database, the migrations, storage, a configured Redis, the gateway
//! keys outside fake mode, or a production configuration problem.

use std::{
    future::Future,
    time::{Duration, Instant},
};

use futures_util::StreamExt;

use crate::{
    config::Config,
    db::Db,
    payments::razorpay::{Credentials, Razorpay},
    state::AppState,
    uploads::{Area, StoredName},
};

/// How long one probe may take.
const PROBE: Duration = Duration::from_secs(5);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Ok,
    /// Works, but worth a look (e.g. a development default).
    Warn,
    Fail,
    /// Not configured, so not checked.
    Skip,
}

impl Outcome {
    fn label(self) -> &'static str {
        match self {
            Outcome::Ok => "ok",
            Outcome::Warn => "warn",
            Outcome::Fail => "FAIL",
            Outcome::Skip => "skip",
        }
    }
}

/// One line of the report.
#[derive(Debug, Clone)]
pub struct Line {
    pub name: &'static str,
    pub outcome: Outcome,
    pub detail: String,
    pub took: Duration,
}

impl std::fmt::Display for Line {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{:<4}  {:<18} {} ({:.1} ms)",
            self.outcome.label(),
            self.name,
            self.detail,
            self.took.as_secs_f64() * 1000.0
        )
    }
}

/// Runs `probe`, bounded by [`PROBE`], timing it.
async fn timed<F>(name: &'static str, probe: F) -> Line
where
    F: Future<Output = (Outcome, String)>,
{
    let started = Instant::now();
    let (outcome, detail) = match tokio::time::timeout(PROBE, probe).await {
        Ok(result) => result,
        Err(_) => (
            Outcome::Fail,
            format!("no answer within {} s", PROBE.as_secs()),
        ),
    };
    Line {
        name,
        outcome,
        detail,
        took: started.elapsed(),
    }
}

/// Every check, in order; later checks that need the database are skipped when it is unreachable.
pub async fn run(config: &Config) -> Vec<Line> {
    crate::crypto::install_tls_provider();
    let mut lines = vec![configuration(config)];
    let started = Instant::now();
    let db = match tokio::time::timeout(PROBE, Db::connect(config)).await {
        Ok(Ok(db)) => db,
        Ok(Err(error)) => {
            lines.push(failed("database", format!("{error}"), started));
            return lines;
        }
        Err(_) => {
            lines.push(failed("database", "no answer within 5 s".into(), started));
            return lines;
        }
    };
    lines.push(timed("database", database(&db)).await);
    lines.push(timed("migrations", migrations(&db)).await);
    let state = AppState::from_parts(config.clone(), db);
    let redis = match config.redis_url.as_ref() {
        None => Line {
            name: "redis",
            outcome: Outcome::Skip,
            detail: "REDIS_URL is not set".into(),
            took: Duration::ZERO,
        },
        Some(url) => timed("redis", redis(url.expose(), &config.redis_key_prefix)).await,
    };
    let redis_ok = redis.outcome == Outcome::Ok;
    lines.push(redis);
    lines.push(cache_tier(config, redis_ok));
    lines.push(timed("cache table", cache_table(&state)).await);
    lines.push(timed("storage", storage(&state)).await);
    lines.push(timed("razorpay", razorpay(&state)).await);
    state.db.close().await;
    lines
}

fn failed(name: &'static str, detail: String, started: Instant) -> Line {
    Line {
        name,
        outcome: Outcome::Fail,
        detail,
        took: started.elapsed(),
    }
}

/// Whether every required check passed.
pub fn healthy(lines: &[Line]) -> bool {
    lines.iter().all(|l| l.outcome != Outcome::Fail)
}

fn configuration(config: &Config) -> Line {
    let started = Instant::now();
    let problems = config.production_problems();
    let warnings = config.production_warnings();
    let (outcome, detail) = if !config.is_production() {
        (
            Outcome::Ok,
            "development (APP_ENV is not production; `check` validates a production setup)".into(),
        )
    } else if !problems.is_empty() {
        (Outcome::Fail, problems.join("; "))
    } else if !warnings.is_empty() {
        (Outcome::Warn, warnings.join("; "))
    } else {
        (Outcome::Ok, "production, no problems".into())
    };
    Line {
        name: "configuration",
        outcome,
        detail,
        took: started.elapsed(),
    }
}

async fn database(db: &Db) -> (Outcome, String) {
    let kind = match db {
        Db::Postgres(_) => "PostgreSQL",
        Db::Sqlite(_) => "SQLite",
    };
    match db.ping(PROBE).await {
        Ok(()) => (Outcome::Ok, format!("{kind} reachable (SELECT 1)")),
        Err(error) => (Outcome::Fail, format!("{kind}: {error}")),
    }
}

async fn migrations(db: &Db) -> (Outcome, String) {
    match db.pending_migrations().await {
        Ok(pending) if pending.is_empty() => (Outcome::Ok, "all applied".into()),
        Ok(pending) => {
            let names: Vec<String> = pending.iter().map(|(v, d)| format!("{v} {d}")).collect();
            (
                Outcome::Fail,
                format!(
                    "{} pending ({}); `electioncart migrate` applies them",
                    pending.len(),
                    names.join(", ")
                ),
            )
        }
        Err(error) => (
            Outcome::Fail,
            format!("cannot read the migrations: {error}"),
        ),
    }
}

/// PING, SET with a TTL, GET, TTL, DEL and a PUBLISH heard by a SUBSCRIBE, on a probe key and
/// channel under the deployment's prefix.
async fn redis(url: &str, prefix: &str) -> (Outcome, String) {
    let tls = if url.starts_with("rediss://") {
        "TLS"
    } else {
        "no TLS"
    };
    let result: Result<String, String> = async {
        let client = redis::Client::open(url).map_err(|e| format!("REDIS_URL: {e}"))?;
        let mut conn = client
            .get_multiplexed_async_connection()
            .await
            .map_err(|e| format!("connect: {e}"))?;
        let pong: String = redis::cmd("PING")
            .query_async(&mut conn)
            .await
            .map_err(|e| format!("PING: {e}"))?;
        let key = format!("{prefix}doctor:{}", uuid::Uuid::new_v4().simple());
        let () = redis::cmd("SET")
            .arg(&key)
            .arg("ok")
            .arg("EX")
            .arg(60)
            .query_async(&mut conn)
            .await
            .map_err(|e| format!("SET: {e}"))?;
        let value: Option<String> = redis::cmd("GET")
            .arg(&key)
            .query_async(&mut conn)
            .await
            .map_err(|e| format!("GET: {e}"))?;
        let ttl: i64 = redis::cmd("TTL")
            .arg(&key)
            .query_async(&mut conn)
            .await
            .map_err(|e| format!("TTL: {e}"))?;
        let _: i64 = redis::cmd("DEL")
            .arg(&key)
            .query_async(&mut conn)
            .await
            .map_err(|e| format!("DEL: {e}"))?;
        if value.as_deref() != Some("ok") || !(1..=60).contains(&ttl) {
            return Err(format!("SET/GET/TTL gave {value:?} with TTL {ttl}"));
        }
        let channel = format!("{prefix}doctor:{}", uuid::Uuid::new_v4().simple());
        let mut pubsub = client
            .get_async_pubsub()
            .await
            .map_err(|e| format!("pub/sub connect: {e}"))?;
        pubsub
            .subscribe(&channel)
            .await
            .map_err(|e| format!("SUBSCRIBE: {e}"))?;
        let _: i64 = redis::cmd("PUBLISH")
            .arg(&channel)
            .arg("ping")
            .query_async(&mut conn)
            .await
            .map_err(|e| format!("PUBLISH: {e}"))?;
        let heard = tokio::time::timeout(Duration::from_secs(2), pubsub.on_message().next())
            .await
            .ok()
            .flatten()
            .and_then(|m| m.get_payload::<String>().ok());
        if heard.as_deref() != Some("ping") {
            return Err("pub/sub: the published message was not heard within 2 s".into());
        }
        Ok(format!(
            "{pong}; SET/GET/TTL/DEL and a pub/sub round trip work ({tls})"
        ))
    }
    .await;
    match result {
        Ok(detail) => (Outcome::Ok, detail),
        Err(detail) => (Outcome::Fail, format!("{detail} ({tls})")),
    }
}

fn cache_tier(config: &Config, redis_ok: bool) -> Line {
    let (outcome, detail) = if !config.cache_enabled {
        (Outcome::Warn, "none: CACHE_ENABLED=false".to_string())
    } else if config.redis_url.is_none() {
        (
            Outcome::Ok,
            "the SQL cache table (no REDIS_URL), process memory if it fails".into(),
        )
    } else if redis_ok {
        (
            Outcome::Ok,
            "Redis (REDIS_URL reachable), with a per-instance L1 invalidated by pub/sub".into(),
        )
    } else {
        (
            Outcome::Warn,
            "the SQL cache table while Redis is unreachable (retried every second)".into(),
        )
    };
    Line {
        name: "cache tier",
        outcome,
        detail,
        took: Duration::ZERO,
    }
}

async fn cache_table(state: &AppState) -> (Outcome, String) {
    match state.cache.probe_table().await {
        Ok(()) => (Outcome::Ok, "cache_entries: set, get, delete".into()),
        Err(error) => (Outcome::Fail, format!("cache_entries: {error}")),
    }
}

async fn storage(state: &AppState) -> (Outcome, String) {
    let where_ = match &state.config.storage {
        crate::config::StorageBackend::Local => {
            format!("local disk under {}", state.config.media_root.display())
        }
        crate::config::StorageBackend::S3(s3) => format!("S3 bucket {}", s3.bucket),
    };
    let name = StoredName::generate("txt");
    let store = &state.uploads.storage;
    let body = axum::body::Bytes::from_static(b"electioncart doctor probe");
    let result: Result<(), String> = async {
        store
            .put(Area::Resources, &name, body.clone())
            .await
            .map_err(|e| format!("put: {e}"))?;
        let object = store
            .get(Area::Resources, &name)
            .await
            .map_err(|e| format!("get: {e}"))?
            .ok_or("get: the probe object is missing")?;
        let mut read = Vec::new();
        let mut stream = object.body;
        while let Some(chunk) = stream.next().await {
            read.extend_from_slice(&chunk.map_err(|e| format!("get: {e}"))?);
        }
        store
            .delete(Area::Resources, &name)
            .await
            .map_err(|e| format!("delete: {e}"))?;
        if read != body {
            return Err("get: the probe object came back different".into());
        }
        Ok(())
    }
    .await;
    match result {
        Ok(()) => (Outcome::Ok, format!("{where_}: put, get, delete")),
        Err(detail) => (Outcome::Fail, format!("{where_}: {detail}")),
    }
}

async fn razorpay(state: &AppState) -> (Outcome, String) {
    let production = state.config.is_production();
    match Razorpay::of(state).check_credentials().await {
        Credentials::Accepted => (
            Outcome::Ok,
            "the key id and secret were accepted (GET /v1/payments)".into(),
        ),
        Credentials::Fake if production => (
            Outcome::Fail,
            "RAZORPAY_MODE=fake in production: no real payments".into(),
        ),
        Credentials::Fake => (Outcome::Warn, "fake gateway (development)".into()),
        Credentials::Missing if production => (
            Outcome::Fail,
            "RAZORPAY_KEY_SECRET is not set: checkout answers 503".into(),
        ),
        Credentials::Missing => (
            Outcome::Warn,
            "RAZORPAY_KEY_SECRET is not set: checkout answers 503".into(),
        ),
        Credentials::Refused => (
            Outcome::Fail,
            "the gateway refused the key id and secret (HTTP 401)".into(),
        ),
        Credentials::Unreachable(reason) => (
            Outcome::Fail,
            format!("the gateway did not answer: {reason}"),
        ),
    }
}
