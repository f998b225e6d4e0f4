//! Typed configuration, read once from the environment (and an optional `.env`).
//!
//! Every setting has a safe default for a fresh machine (SQLite file, no Redis, port 8000); production
//! problems are reported by [`Config::production_problems`] (the `check` subcommand, and a refusal to serve).

use std::{collections::HashMap, env, net::IpAddr, path::PathBuf, str::FromStr, time::Duration};

use time::UtcOffset;

mod invoice;
mod net;
mod zone;

pub use invoice::InvoiceConfig;

/// The secret the original shipped as its default; never acceptable in production.
pub const DJANGO_DEFAULT_SECRET: &str = "django-insecure-change-this-in-production";
/// Minimum secret length in production (D12).
pub const MIN_SECRET_LEN: usize = 32;
/// The original's CORS defaults (contract-A §2.1).
pub const DEFAULT_CORS_ORIGINS: &str =
    "http://localhost:5173,http://127.0.0.1:5173,http://localhost:3000,http://localhost:5174";
pub const DEFAULT_DATABASE_URL: &str = "sqlite://data/electioncart.db";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AppEnv {
    Development,
    Production,
}

/// Where the client's IP address comes from (D17, DESIGN §5).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClientIpSource {
    /// `X-Real-IP`, set (and overwritten) by Railway's edge.
    XRealIp,
    /// The rightmost entry of `X-Forwarded-For` (the hop our own proxy appended).
    RightmostXForwardedFor,
    /// The TCP peer address.
    Socket,
}

impl FromStr for ClientIpSource {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().replace('_', "-").as_str() {
            "x-real-ip" | "xrealip" => Ok(Self::XRealIp),
            "rightmost-x-forwarded-for" | "rightmostxforwardedfor" => {
                Ok(Self::RightmostXForwardedFor)
            }
            "socket" | "connectinfo" | "peer" => Ok(Self::Socket),
            other => Err(format!(
                "unknown CLIENT_IP_SOURCE {other:?} (use x-real-ip, rightmost-x-forwarded-for or socket)"
            )),
        }
    }
}

/// Which payment gateway the shop talks to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GatewayMode {
    /// Razorpay's API at `RAZORPAY_API_BASE`.
    Razorpay,
    /// A local development gateway: no network, orders `order_fake…` (refused in production).
    Fake,
}

/// Razorpay settings (contract-B §5, D18).
#[derive(Debug, Clone)]
pub struct RazorpayConfig {
    pub mode: GatewayMode,
    pub api_base: String,
    /// The public key id (sent to the checkout); `""` when unset.
    pub key_id: String,
    pub key_secret: Option<Secret>,
    pub webhook_secret: Option<Secret>,
    pub connect_timeout: Duration,
    /// The whole call, connect included.
    pub timeout: Duration,
}

/// Where uploaded files live (D19).
#[derive(Debug, Clone)]
pub enum StorageBackend {
    /// Under `MEDIA_ROOT` on the local disk.
    Local,
    /// An S3-compatible bucket, shared by every instance.
    S3(S3Config),
}

#[derive(Debug, Clone)]
pub struct S3Config {
    pub endpoint: String,
    pub bucket: String,
    pub region: String,
    pub access_key_id: String,
    pub secret_access_key: Secret,
    pub path_style: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    Json,
    Pretty,
}

/// A secret that never prints itself.
#[derive(Clone)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret([redacted])")
    }
}

#[derive(Debug, Clone)]
pub struct Config {
    pub env: AppEnv,
    pub port: u16,
    /// Explicit bind address; default `[::]` falling back to `0.0.0.0`.
    pub bind_addr: Option<IpAddr>,
    pub database_url: Secret,
    pub db_max_connections: u32,
    pub db_acquire_timeout: Duration,
    /// `TIME_ZONE` name as configured, and the offset it resolves to.
    pub time_zone: String,
    pub tz_offset: UtcOffset,
    pub secret_key: Secret,
    /// True when no secret was configured and a random one was generated for this process.
    pub secret_generated: bool,
    pub allowed_hosts: Vec<String>,
    pub cors_allowed_origins: Vec<String>,
    pub cors_allow_all: bool,
    pub client_ip_source: ClientIpSource,
    pub trust_forwarded_proto: bool,
    pub https_redirect: bool,
    pub redis_url: Option<Secret>,
    /// Namespace for every Redis key (several deployments or test runs can share one Redis).
    pub redis_key_prefix: String,
    pub jwt_lifetime: Duration,
    pub rate_limit_enabled: bool,
    /// Threads for password hashing (default: all cores but one).
    pub hash_threads: usize,
    pub cache_enabled: bool,
    pub cache_ttl: Duration,
    /// Lifetime of the in-process L1 copy in front of Redis (0: no L1).
    pub cache_l1_ttl: Duration,
    /// Bound on the entries of each in-process cache tier (L1, memory fallback).
    pub cache_max_entries: u64,
    /// TTL of the user-by-id entry read by authentication (Redis only).
    pub cache_user_ttl: Duration,
    /// Bound on one Redis operation, connecting included.
    pub redis_timeout: Duration,
    pub sentry_dsn: Option<Secret>,
    pub sentry_environment: String,
    pub sentry_release: Option<String>,
    pub static_dir: Option<PathBuf>,
    pub media_root: PathBuf,
    pub request_timeout: Duration,
    pub header_read_timeout: Duration,
    pub shutdown_grace: Duration,
    pub body_limit_bytes: usize,
    pub memory_warning_mb: f64,
    pub log_format: LogFormat,
    pub razorpay: RazorpayConfig,
    pub storage: StorageBackend,
    pub invoice: InvoiceConfig,
    /// `/metrics` on the main port behind `Authorization: Bearer <METRICS_TOKEN>`; and/or a listener
    /// of its own at `METRICS_ADDR` (private networks only). Neither: no metrics are recorded.
    pub metrics_token: Option<Secret>,
    pub metrics_addr: Option<std::net::SocketAddr>,
}

/// A configuration value that could not be parsed.
#[derive(Debug, thiserror::Error)]
#[error("invalid configuration: {0}")]
pub struct ConfigError(pub String);

impl Config {
    /// Reads `.env` (if present) and the process environment.
    pub fn from_env() -> Result<Self, ConfigError> {
        let _ = dotenvy::dotenv();
        Self::from_map(&env::vars().collect())
    }

    /// Builds the configuration from an explicit variable map (tests use this).
    pub fn from_map(vars: &HashMap<String, String>) -> Result<Self, ConfigError> {
        let get = |k: &str| {
            vars.get(k)
                .map(|v| v.trim().to_string())
                .filter(|v| !v.is_empty())
        };
        let env = match get("APP_ENV").as_deref().map(str::to_ascii_lowercase) {
            None => AppEnv::Development,
            Some(v) if v == "production" || v == "prod" => AppEnv::Production,
            Some(v) if v == "development" || v == "dev" || v == "test" => AppEnv::Development,
            Some(v) => {
                return Err(ConfigError(format!(
                    "APP_ENV must be development or production, got {v:?}"
                )));
            }
        };
        let parse = |k: &str, default: u64| -> Result<u64, ConfigError> {
            match get(k) {
                None => Ok(default),
                Some(v) => v.parse::<u64>().map_err(|_| {
                    ConfigError(format!("{k} must be a non-negative integer, got {v:?}"))
                }),
            }
        };
        let flag = |k: &str, default: bool| -> Result<bool, ConfigError> {
            match get(k).map(|v| v.to_ascii_lowercase()) {
                None => Ok(default),
                Some(v) if ["1", "true", "yes", "on"].contains(&v.as_str()) => Ok(true),
                Some(v) if ["0", "false", "no", "off"].contains(&v.as_str()) => Ok(false),
                Some(v) => Err(ConfigError(format!("{k} must be true or false, got {v:?}"))),
            }
        };
        let list = |v: String| -> Vec<String> {
            v.split(',')
                .map(|s| s.trim().to_string())
                .filter(|s| !s.is_empty())
                .collect()
        };

        let port = u16::try_from(parse("PORT", 8000)?)
            .map_err(|_| ConfigError("PORT must be between 0 and 65535".into()))?;
        let bind_addr =
            match get("BIND_ADDR") {
                None => None,
                Some(v) => Some(v.parse::<IpAddr>().map_err(|_| {
                    ConfigError(format!("BIND_ADDR must be an IP address, got {v:?}"))
                })?),
            };
        let time_zone = get("TIME_ZONE").unwrap_or_else(|| "Asia/Kolkata".to_string());
        let tz_offset = zone::parse_time_zone(&time_zone)?;

        let (secret_key, secret_generated) = match get("DJANGO_SECRET_KEY")
            .or_else(|| get("SECRET_KEY"))
            .or_else(|| get("JWT_SECRET"))
        {
            Some(s) => (Secret::new(s), false),
            None if env == AppEnv::Production => (Secret::new(DJANGO_DEFAULT_SECRET), false),
            None => (Secret::new(random_secret()), true),
        };

        let cors_allow_all = flag("CORS_ALLOW_ALL_ORIGINS", false)?;
        let cors_allowed_origins =
            list(get("CORS_ALLOWED_ORIGINS").unwrap_or_else(|| DEFAULT_CORS_ORIGINS.to_string()));
        if cors_allow_all || cors_allowed_origins.iter().any(|o| o == "*") {
            return Err(ConfigError(
                "CORS: a wildcard origin cannot be combined with credentials; list the origins in \
                 CORS_ALLOWED_ORIGINS instead of CORS_ALLOW_ALL_ORIGINS or \"*\""
                    .into(),
            ));
        }
        for origin in &cors_allowed_origins {
            if !(origin.starts_with("http://") || origin.starts_with("https://"))
                || origin.ends_with('/')
                || axum::http::HeaderValue::from_str(origin).is_err()
            {
                return Err(ConfigError(format!(
                    "CORS_ALLOWED_ORIGINS entry {origin:?} must look like https://host[:port] (no path, no trailing slash)"
                )));
            }
        }

        let client_ip_source = match get("CLIENT_IP_SOURCE") {
            None => ClientIpSource::Socket,
            Some(v) => v.parse().map_err(ConfigError)?,
        };
        let log_format = match get("LOG_FORMAT").map(|v| v.to_ascii_lowercase()) {
            None if env == AppEnv::Production => LogFormat::Json,
            None => LogFormat::Pretty,
            Some(v) if v == "json" => LogFormat::Json,
            Some(v) if v == "pretty" || v == "text" => LogFormat::Pretty,
            Some(v) => {
                return Err(ConfigError(format!(
                    "LOG_FORMAT must be json or pretty, got {v:?}"
                )));
            }
        };

        let razorpay = RazorpayConfig {
            mode: match get("RAZORPAY_MODE").map(|v| v.to_ascii_lowercase()) {
                // A fresh development machine has no Razorpay keys: the local gateway lets the
                // whole purchase run; production always defaults to Razorpay.
                None if env == AppEnv::Development && get("RAZORPAY_KEY_SECRET").is_none() => {
                    GatewayMode::Fake
                }
                None => GatewayMode::Razorpay,
                Some(v) if v == "razorpay" || v == "live" || v == "test" => GatewayMode::Razorpay,
                Some(v) if v == "fake" => GatewayMode::Fake,
                Some(v) => {
                    return Err(ConfigError(format!(
                        "RAZORPAY_MODE must be razorpay or fake, got {v:?}"
                    )));
                }
            },
            api_base: get("RAZORPAY_API_BASE")
                .unwrap_or_else(|| "https://api.razorpay.com".into())
                .trim_end_matches('/')
                .to_string(),
            key_id: get("RAZORPAY_KEY_ID").unwrap_or_default(),
            key_secret: get("RAZORPAY_KEY_SECRET").map(Secret::new),
            webhook_secret: get("RAZORPAY_WEBHOOK_SECRET").map(Secret::new),
            connect_timeout: Duration::from_millis(
                parse("RAZORPAY_CONNECT_TIMEOUT_MS", 3000)?.clamp(10, 60_000),
            ),
            timeout: Duration::from_millis(parse("RAZORPAY_TIMEOUT_MS", 10_000)?.clamp(10, 60_000)),
        };

        let storage = match get("STORAGE_BACKEND")
            .map(|v| v.to_ascii_lowercase())
            .as_deref()
        {
            None | Some("local") | Some("disk") => StorageBackend::Local,
            Some("s3") => {
                let need = |k: &str| {
                    get(k).ok_or_else(|| ConfigError(format!("STORAGE_BACKEND=s3 needs {k}")))
                };
                let region = get("S3_REGION").unwrap_or_else(|| "us-east-1".into());
                let endpoint = get("S3_ENDPOINT");
                StorageBackend::S3(S3Config {
                    path_style: flag("S3_PATH_STYLE", endpoint.is_some())?,
                    endpoint: endpoint
                        .unwrap_or_else(|| format!("https://s3.{region}.amazonaws.com")),
                    bucket: need("S3_BUCKET")?,
                    region,
                    access_key_id: need("S3_ACCESS_KEY_ID")?,
                    secret_access_key: Secret::new(need("S3_SECRET_ACCESS_KEY")?),
                })
            }
            Some(other) => {
                return Err(ConfigError(format!(
                    "STORAGE_BACKEND must be local or s3, got {other:?}"
                )));
            }
        };

        Ok(Self {
            env,
            port,
            bind_addr,
            database_url: Secret::new(
                get("DATABASE_URL").unwrap_or_else(|| DEFAULT_DATABASE_URL.to_string()),
            ),
            db_max_connections: u32::try_from(parse("DB_MAX_CONNECTIONS", 10)?.max(1))
                .unwrap_or(10),
            db_acquire_timeout: Duration::from_secs(parse("DB_ACQUIRE_TIMEOUT_SECONDS", 5)?.max(1)),
            time_zone,
            tz_offset,
            secret_key,
            secret_generated,
            allowed_hosts: list(
                get("ALLOWED_HOSTS").unwrap_or_else(|| "localhost,127.0.0.1,[::1]".to_string()),
            ),
            cors_allowed_origins,
            cors_allow_all,
            client_ip_source,
            trust_forwarded_proto: flag("TRUST_FORWARDED_PROTO", true)?,
            https_redirect: flag("HTTPS_REDIRECT", false)?,
            redis_url: get("REDIS_URL").map(Secret::new),
            redis_key_prefix: get("REDIS_KEY_PREFIX").unwrap_or_else(|| "electioncart:".into()),
            jwt_lifetime: Duration::from_secs(parse("JWT_LIFETIME_SECONDS", 604_800)?.max(60)),
            rate_limit_enabled: flag("RATE_LIMIT_ENABLED", true)?,
            hash_threads: usize::try_from(parse("HASH_THREADS", default_hash_threads() as u64)?)
                .unwrap_or(1)
                .max(1),
            cache_enabled: flag("CACHE_ENABLED", true)?,
            cache_ttl: Duration::from_secs(parse("CACHE_TTL_SECONDS", 300)?),
            cache_l1_ttl: Duration::from_secs(parse("CACHE_L1_TTL_SECONDS", 10)?),
            cache_max_entries: parse("CACHE_MAX_ENTRIES", 10_000)?.max(1),
            cache_user_ttl: Duration::from_secs(parse("CACHE_USER_TTL_SECONDS", 60)?),
            redis_timeout: Duration::from_millis(parse("REDIS_TIMEOUT_MS", 250)?.clamp(10, 60_000)),
            sentry_dsn: get("SENTRY_DSN").map(Secret::new),
            metrics_token: get("METRICS_TOKEN").map(Secret::new),
            metrics_addr: net::socket_addr("METRICS_ADDR", get("METRICS_ADDR"))?,
            sentry_environment: get("SENTRY_ENVIRONMENT").unwrap_or_else(|| match env {
                AppEnv::Production => "production".into(),
                AppEnv::Development => "development".into(),
            }),
            sentry_release: get("SENTRY_RELEASE"),
            static_dir: get("STATIC_DIR").map(PathBuf::from),
            media_root: PathBuf::from(get("MEDIA_ROOT").unwrap_or_else(|| "data/media".into())),
            request_timeout: Duration::from_secs(parse("REQUEST_TIMEOUT_SECONDS", 30)?.max(1)),
            header_read_timeout: Duration::from_secs(
                parse("HEADER_READ_TIMEOUT_SECONDS", 10)?.max(1),
            ),
            // Railway states its drain budget; without either setting, 10 s.
            shutdown_grace: Duration::from_secs(match get("SHUTDOWN_GRACE_SECONDS") {
                Some(_) => parse("SHUTDOWN_GRACE_SECONDS", 10)?,
                None => parse("RAILWAY_DEPLOYMENT_DRAINING_SECONDS", 10)?,
            }),
            body_limit_bytes: usize::try_from(parse("BODY_LIMIT_BYTES", 26_214_400)?)
                .unwrap_or(26_214_400),
            memory_warning_mb: parse("MEMORY_WARNING_MB", 400)? as f64,
            log_format,
            razorpay,
            storage,
            invoice: invoice::from_vars(&get, &parse)?,
        })
    }

    pub fn is_production(&self) -> bool {
        self.env == AppEnv::Production
    }

    pub fn is_sqlite(&self) -> bool {
        !self.is_postgres()
    }

    pub fn is_postgres(&self) -> bool {
        let url = self.database_url.expose();
        url.starts_with("postgres://") || url.starts_with("postgresql://")
    }

    /// Settings production may want but can run without (`check` and `serve` print them).
    pub fn production_warnings(&self) -> Vec<String> {
        self.invoice.production_warnings()
    }

    /// Problems that make this configuration unsafe for production. Empty means fine.
    pub fn production_problems(&self) -> Vec<String> {
        let mut problems = Vec::new();
        let secret = self.secret_key.expose();
        if self.secret_generated
            || secret == DJANGO_DEFAULT_SECRET
            || secret.starts_with("django-insecure")
        {
            problems.push(
                "DJANGO_SECRET_KEY is unset or the insecure default; set a random secret of at least 32 bytes"
                    .to_string(),
            );
        } else if secret.len() < MIN_SECRET_LEN {
            problems.push(format!(
                "DJANGO_SECRET_KEY is {} bytes; it must be at least {MIN_SECRET_LEN}",
                secret.len()
            ));
        }
        if self.allowed_hosts.is_empty() {
            problems.push("ALLOWED_HOSTS is empty; list the public host names".into());
        } else if self
            .allowed_hosts
            .iter()
            .all(|h| matches!(h.as_str(), "localhost" | "127.0.0.1" | "[::1]"))
        {
            problems.push(
                "ALLOWED_HOSTS lists only local hosts; add the public host name (e.g. api.example.com)"
                    .into(),
            );
        } else if self.allowed_hosts.iter().any(|h| h == "*") {
            problems.push("ALLOWED_HOSTS contains \"*\"; list the public host names".into());
        }
        if self.cors_allowed_origins.is_empty() {
            problems.push(
                "CORS_ALLOWED_ORIGINS is empty; the admin and customer sites need their origins"
                    .into(),
            );
        }
        if self.is_sqlite() {
            problems
                .push("DATABASE_URL is SQLite; production uses PostgreSQL (postgres://…)".into());
        }
        if !self.rate_limit_enabled {
            problems.push("RATE_LIMIT_ENABLED=false turns off the login and signup limits".into());
        }
        if self.client_ip_source == ClientIpSource::Socket {
            problems.push(
                "CLIENT_IP_SOURCE=socket keys every client on the proxy's address behind Railway; use x-real-ip"
                    .into(),
            );
        }
        match self.razorpay.mode {
            GatewayMode::Fake => problems.push(
                "RAZORPAY_MODE=fake is a local development gateway; production takes real payments"
                    .into(),
            ),
            GatewayMode::Razorpay => {
                if self.razorpay.key_id.is_empty() || self.razorpay.key_secret.is_none() {
                    problems.push(
                        "RAZORPAY_KEY_ID / RAZORPAY_KEY_SECRET unset: orders cannot be paid".into(),
                    );
                }
                if self.razorpay.webhook_secret.is_none() {
                    problems.push(
                        "RAZORPAY_WEBHOOK_SECRET unset: the payment webhook refuses every delivery"
                            .into(),
                    );
                }
            }
        }
        problems
    }
}

fn random_secret() -> String {
    format!(
        "dev-{}{}",
        uuid::Uuid::new_v4().simple(),
        uuid::Uuid::new_v4().simple()
    )
}

/// The default hashing-pool size: all cores but one (at least one), so one core always serves the
/// rest of the API during a login flood (DESIGN §10).
pub fn default_hash_threads() -> usize {
    std::thread::available_parallelism()
        .map(|n| n.get().saturating_sub(1))
        .unwrap_or(1)
        .max(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn map(pairs: &[(&str, &str)]) -> HashMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn defaults_suit_a_fresh_machine() {
        let c = Config::from_map(&HashMap::new()).expect("defaults parse");
        assert_eq!(c.port, 8000);
        assert!(c.is_sqlite());
        assert_eq!(c.database_url.expose(), DEFAULT_DATABASE_URL);
        assert_eq!(c.tz_offset, UtcOffset::from_hms(5, 30, 0).expect("offset"));
        assert!(c.secret_generated);
        assert_eq!(c.cors_allowed_origins.len(), 4);
        assert_eq!(c.client_ip_source, ClientIpSource::Socket);
        assert!(c.redis_url.is_none());
        assert!(c.cache_enabled);
        assert_eq!(c.cache_ttl, Duration::from_secs(300));
        assert_eq!(c.cache_l1_ttl, Duration::from_secs(10));
        assert_eq!(c.cache_max_entries, 10_000);
        assert_eq!(c.cache_user_ttl, Duration::from_secs(60));
        assert_eq!(c.redis_timeout, Duration::from_millis(250));
    }

    #[test]
    fn cache_settings_parse() {
        let c = Config::from_map(&map(&[
            ("CACHE_ENABLED", "false"),
            ("CACHE_TTL_SECONDS", "30"),
            ("CACHE_L1_TTL_SECONDS", "0"),
            ("CACHE_MAX_ENTRIES", "500"),
            ("CACHE_USER_TTL_SECONDS", "45"),
            ("REDIS_TIMEOUT_MS", "1000"),
        ]))
        .expect("parse");
        assert!(!c.cache_enabled);
        assert_eq!(c.cache_ttl, Duration::from_secs(30));
        assert_eq!(c.cache_l1_ttl, Duration::ZERO);
        assert_eq!(c.cache_max_entries, 500);
        assert_eq!(c.cache_user_ttl, Duration::from_secs(45));
        assert_eq!(c.redis_timeout, Duration::from_secs(1));
        // Out-of-range timeouts are clamped; garbage is a clear error.
        let c = Config::from_map(&map(&[("REDIS_TIMEOUT_MS", "0")])).expect("parse");
        assert_eq!(c.redis_timeout, Duration::from_millis(10));
        for var in [
            "CACHE_L1_TTL_SECONDS",
            "CACHE_MAX_ENTRIES",
            "CACHE_USER_TTL_SECONDS",
            "REDIS_TIMEOUT_MS",
        ] {
            let err = Config::from_map(&map(&[(var, "soon")])).unwrap_err();
            assert!(err.0.contains(var), "{err}");
        }
    }

    #[test]
    fn wildcard_cors_is_refused() {
        let err = Config::from_map(&map(&[("CORS_ALLOW_ALL_ORIGINS", "True")])).unwrap_err();
        assert!(err.0.contains("wildcard"), "{err}");
        let err = Config::from_map(&map(&[("CORS_ALLOWED_ORIGINS", "*")])).unwrap_err();
        assert!(err.0.contains("wildcard"), "{err}");
    }

    #[test]
    fn production_with_default_secret_names_the_problem() {
        let c = Config::from_map(&map(&[("APP_ENV", "production")])).expect("parse");
        let problems = c.production_problems();
        assert!(
            problems.iter().any(|p| p.contains("DJANGO_SECRET_KEY")),
            "{problems:?}"
        );
        assert!(
            problems.iter().any(|p| p.contains("ALLOWED_HOSTS")),
            "{problems:?}"
        );
        let c = Config::from_map(&map(&[
            ("APP_ENV", "production"),
            ("DJANGO_SECRET_KEY", "short"),
        ]))
        .expect("parse");
        assert!(
            c.production_problems()
                .iter()
                .any(|p| p.contains("at least 32"))
        );
    }

    #[test]
    fn a_good_production_config_has_no_problems() {
        let c = Config::from_map(&map(&[
            ("APP_ENV", "production"),
            ("DJANGO_SECRET_KEY", "0123456789abcdef0123456789abcdef-long"),
            ("ALLOWED_HOSTS", "api.lapoelectioncart.com"),
            ("DATABASE_URL", "postgres://u@db/x"),
            ("CLIENT_IP_SOURCE", "x-real-ip"),
            ("CORS_ALLOWED_ORIGINS", "https://admin.lapoelectioncart.com"),
            ("RAZORPAY_KEY_ID", "rzp_live_x"),
            ("RAZORPAY_KEY_SECRET", "s"),
            ("RAZORPAY_WEBHOOK_SECRET", "w"),
        ]))
        .expect("parse");
        assert_eq!(c.production_problems(), Vec::<String>::new());
        assert_eq!(c.log_format, LogFormat::Json);
    }

    #[test]
    fn payments_need_keys_and_never_the_fake_gateway_in_production() {
        let base = [("APP_ENV", "production")];
        let c = Config::from_map(&map(&base)).expect("parse");
        let problems = c.production_problems().join("\n");
        assert!(problems.contains("RAZORPAY_KEY_SECRET"), "{problems}");
        assert!(problems.contains("RAZORPAY_WEBHOOK_SECRET"), "{problems}");
        let c = Config::from_map(&map(&[
            ("APP_ENV", "production"),
            ("RAZORPAY_MODE", "fake"),
        ]))
        .expect("parse");
        assert!(
            c.production_problems()
                .iter()
                .any(|p| p.contains("RAZORPAY_MODE=fake"))
        );
        assert!(Config::from_map(&map(&[("RAZORPAY_MODE", "sandbox")])).is_err());
        let c = Config::from_map(&HashMap::new()).expect("defaults");
        assert_eq!(c.razorpay.api_base, "https://api.razorpay.com");
        assert_eq!(
            c.razorpay.mode,
            GatewayMode::Fake,
            "development without keys"
        );
        let c = Config::from_map(&map(&[("RAZORPAY_KEY_SECRET", "s")])).expect("parse");
        assert_eq!(c.razorpay.mode, GatewayMode::Razorpay);
        assert_eq!(c.razorpay.timeout, Duration::from_secs(10));
    }

    #[test]
    fn bad_values_are_clear_errors() {
        assert!(
            Config::from_map(&map(&[("PORT", "eighty")]))
                .unwrap_err()
                .0
                .contains("PORT")
        );
        assert!(
            Config::from_map(&map(&[("TIME_ZONE", "Mars/Base")]))
                .unwrap_err()
                .0
                .contains("TIME_ZONE")
        );
        assert!(
            Config::from_map(&map(&[("CLIENT_IP_SOURCE", "leftmost")]))
                .unwrap_err()
                .0
                .contains("CLIENT_IP_SOURCE")
        );
        let c = Config::from_map(&map(&[("TIME_ZONE", "-03:30")])).expect("offset zone");
        assert_eq!(
            c.tz_offset,
            UtcOffset::from_hms(-3, -30, 0).expect("offset")
        );
    }
}
