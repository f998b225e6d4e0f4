//! The bench-only reference server: bare axum + sqlx (+ redis, argon2, jsonwebtoken), the same
//! crate versions as the server, no middleware, doing the minimum work for each scenario. The load
//! benchmark starts it as a second process (this bench binary, re-executed with
//! `BENCH_REFERENCE_ADDR` set) against the same database and Redis as the server under test, and
//! prints each scenario beside its reference. Never shipped; nothing in `src/` uses it.
//!
//! | path | minimum work |
//! |---|---|
//! | `GET /plain` | a static text body (the server's `robots.txt`) |
//! | `GET /page` | the catalog page serialised per request (from a `serde_json::Value`) |
//! | `GET /page-static` | the same page pre-serialised at start |
//! | `GET /me` | HS256 JWT check + one-row select of the user |
//! | `GET /me-redis` | HS256 JWT check + one Redis GET |
//! | `GET /row/{id}` | one-row select of a package |
//! | `POST /login` | JSON body, one-row select, Argon2id verify off the runtime behind a semaphore of `max(1, cores − 1)` permits (DESIGN §10: one core always serves the rest), a new JWT |

use std::{net::SocketAddr, process::ExitCode, str::FromStr, sync::Arc, time::Duration};

use argon2::{
    Argon2,
    password_hash::{PasswordVerifier, phc::PasswordHash},
};
use axum::{
    Json, Router,
    body::Bytes,
    extract::{Path, State},
    http::{HeaderMap, StatusCode, header},
    response::{IntoResponse, Response},
    routing::{get, post},
};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};
use sqlx::{
    PgPool, SqlitePool,
    postgres::PgPoolOptions,
    sqlite::{SqliteConnectOptions, SqlitePoolOptions},
};

/// Set (to `127.0.0.1:<port>`) when this process is the reference server.
pub const ADDR_ENV: &str = "BENCH_REFERENCE_ADDR";
/// A file holding the JSON page for `/page` and `/page-static`.
pub const PAGE_ENV: &str = "BENCH_REFERENCE_PAGE";

const PLAIN: &str = include_str!("../../assets/robots.txt");

enum Pool {
    Postgres(PgPool),
    Sqlite(SqlitePool),
}

struct Shared {
    pool: Pool,
    redis: Option<redis::aio::ConnectionManager>,
    page: serde_json::Value,
    page_bytes: Bytes,
    decoding: DecodingKey,
    encoding: EncodingKey,
    validation: Validation,
    hashing: tokio::sync::Semaphore,
}

type AppState = Arc<Shared>;

#[derive(Deserialize)]
struct Claims {
    user_id: i64,
}

#[derive(Serialize)]
struct NewClaims {
    user_id: i64,
    exp: i64,
}

#[derive(Serialize, sqlx::FromRow)]
struct UserRow {
    id: i64,
    username: String,
    email: String,
    first_name: String,
    last_name: String,
    phone_number: Option<String>,
    role: String,
    is_active: bool,
}

#[derive(Serialize, sqlx::FromRow)]
struct PackageRow {
    id: i64,
    name: String,
    price_paise: i64,
    description: String,
    is_active: bool,
}

#[derive(Deserialize)]
struct LoginIn {
    username: String,
    password: String,
}

const USER_COLUMNS: &str =
    "id, username, email, first_name, last_name, phone_number, role, is_active";

fn env(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.is_empty())
}

/// The reference server's `main`: serves until killed.
pub fn main() -> ExitCode {
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(error) => {
            eprintln!("reference: no runtime: {error}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(serve()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("reference: {error:#}");
            ExitCode::FAILURE
        }
    }
}

async fn serve() -> anyhow::Result<()> {
    use anyhow::Context as _;
    let addr: SocketAddr = env(ADDR_ENV).context(ADDR_ENV)?.parse()?;
    let url = env("DATABASE_URL").context("DATABASE_URL")?;
    let max: u32 = env("DB_MAX_CONNECTIONS")
        .and_then(|v| v.parse().ok())
        .unwrap_or(10);
    let pool = if url.starts_with("postgres") {
        Pool::Postgres(
            PgPoolOptions::new()
                .max_connections(max)
                .test_before_acquire(false)
                .connect(&url)
                .await?,
        )
    } else {
        let options = SqliteConnectOptions::from_str(&url)?.busy_timeout(Duration::from_secs(5));
        Pool::Sqlite(
            SqlitePoolOptions::new()
                .max_connections(max)
                .test_before_acquire(false)
                .connect_with(options)
                .await?,
        )
    };
    let redis = match env("REDIS_URL") {
        Some(url) => Some(redis::aio::ConnectionManager::new(redis::Client::open(url)?).await?),
        None => None,
    };
    let page: serde_json::Value = match env(PAGE_ENV) {
        Some(path) => serde_json::from_slice(&std::fs::read(path)?)?,
        None => serde_json::Value::Null,
    };
    let secret = env("DJANGO_SECRET_KEY").context("DJANGO_SECRET_KEY")?;
    let _ = jsonwebtoken::crypto::rust_crypto::DEFAULT_PROVIDER.install_default();
    let mut validation = Validation::new(Algorithm::HS256);
    validation.leeway = 0;
    let shared = Arc::new(Shared {
        pool,
        redis,
        page_bytes: Bytes::from(serde_json::to_vec(&page)?),
        page,
        decoding: DecodingKey::from_secret(secret.as_bytes()),
        encoding: EncodingKey::from_secret(secret.as_bytes()),
        validation,
        hashing: tokio::sync::Semaphore::new(
            std::thread::available_parallelism()
                .map_or(1, |n| n.get().saturating_sub(1))
                .max(1),
        ),
    });
    fill_redis(&shared).await?;
    let app = Router::new()
        .route("/plain", get(plain))
        .route("/page", get(page_serialised))
        .route("/page-static", get(page_static))
        .route("/me", get(me))
        .route("/me-redis", get(me_redis))
        .route("/row/{id}", get(row))
        .route("/login", post(login))
        .with_state(shared);
    let listener = tokio::net::TcpListener::bind(addr).await?;
    axum::serve(listener, app).await?;
    Ok(())
}

/// Every user's JSON under `bench:reference:user:<id>`, for `/me-redis`.
async fn fill_redis(shared: &Shared) -> anyhow::Result<()> {
    let Some(redis) = &shared.redis else {
        return Ok(());
    };
    let sql = format!("SELECT {USER_COLUMNS} FROM users");
    let users: Vec<UserRow> = match &shared.pool {
        Pool::Postgres(p) => {
            sqlx::query_as(sqlx::AssertSqlSafe(sql))
                .fetch_all(p)
                .await?
        }
        Pool::Sqlite(p) => {
            sqlx::query_as(sqlx::AssertSqlSafe(sql))
                .fetch_all(p)
                .await?
        }
    };
    let mut redis = redis.clone();
    for user in users {
        let json = serde_json::to_string(&user)?;
        let _: () = redis::AsyncCommands::set_ex(
            &mut redis,
            format!("bench:reference:user:{}", user.id),
            json,
            3600,
        )
        .await?;
    }
    Ok(())
}

fn fail(status: StatusCode) -> Response {
    status.into_response()
}

async fn plain() -> Response {
    ([(header::CONTENT_TYPE, "text/plain; charset=utf-8")], PLAIN).into_response()
}

async fn page_serialised(State(s): State<AppState>) -> Response {
    Json(&s.page).into_response()
}

async fn page_static(State(s): State<AppState>) -> Response {
    (
        [(header::CONTENT_TYPE, "application/json")],
        s.page_bytes.clone(),
    )
        .into_response()
}

fn user_id(s: &Shared, headers: &HeaderMap) -> Option<i64> {
    let token = headers
        .get(header::AUTHORIZATION)?
        .to_str()
        .ok()?
        .strip_prefix("Bearer ")?;
    jsonwebtoken::decode::<Claims>(token, &s.decoding, &s.validation)
        .ok()
        .map(|t| t.claims.user_id)
}

async fn me(State(s): State<AppState>, headers: HeaderMap) -> Response {
    let Some(id) = user_id(&s, &headers) else {
        return fail(StatusCode::UNAUTHORIZED);
    };
    let row: Result<Option<UserRow>, sqlx::Error> = match &s.pool {
        Pool::Postgres(p) => {
            sqlx::query_as(sqlx::AssertSqlSafe(format!(
                "SELECT {USER_COLUMNS} FROM users WHERE id = $1"
            )))
            .bind(id)
            .fetch_optional(p)
            .await
        }
        Pool::Sqlite(p) => {
            sqlx::query_as(sqlx::AssertSqlSafe(format!(
                "SELECT {USER_COLUMNS} FROM users WHERE id = ?"
            )))
            .bind(id)
            .fetch_optional(p)
            .await
        }
    };
    match row {
        Ok(Some(user)) => Json(user).into_response(),
        Ok(None) => fail(StatusCode::UNAUTHORIZED),
        Err(_) => fail(StatusCode::INTERNAL_SERVER_ERROR),
    }
}

async fn me_redis(State(s): State<AppState>, headers: HeaderMap) -> Response {
    let Some(id) = user_id(&s, &headers) else {
        return fail(StatusCode::UNAUTHORIZED);
    };
    let Some(redis) = &s.redis else {
        return fail(StatusCode::SERVICE_UNAVAILABLE);
    };
    let mut redis = redis.clone();
    let found: Result<Option<String>, _> =
        redis::AsyncCommands::get(&mut redis, format!("bench:reference:user:{id}")).await;
    match found {
        Ok(Some(json)) => ([(header::CONTENT_TYPE, "application/json")], json).into_response(),
        Ok(None) => fail(StatusCode::UNAUTHORIZED),
        Err(_) => fail(StatusCode::SERVICE_UNAVAILABLE),
    }
}

async fn row(State(s): State<AppState>, Path(id): Path<i64>) -> Response {
    const COLUMNS: &str = "id, name, price_paise, description, is_active";
    let row: Result<Option<PackageRow>, sqlx::Error> = match &s.pool {
        Pool::Postgres(p) => {
            sqlx::query_as(sqlx::AssertSqlSafe(format!(
                "SELECT {COLUMNS} FROM packages WHERE id = $1"
            )))
            .bind(id)
            .fetch_optional(p)
            .await
        }
        Pool::Sqlite(p) => {
            sqlx::query_as(sqlx::AssertSqlSafe(format!(
                "SELECT {COLUMNS} FROM packages WHERE id = ?"
            )))
            .bind(id)
            .fetch_optional(p)
            .await
        }
    };
    match row {
        Ok(Some(package)) => Json(package).into_response(),
        Ok(None) => fail(StatusCode::NOT_FOUND),
        Err(_) => fail(StatusCode::INTERNAL_SERVER_ERROR),
    }
}

async fn login(State(s): State<AppState>, Json(body): Json<LoginIn>) -> Response {
    let found: Result<Option<(i64, String)>, sqlx::Error> = match &s.pool {
        Pool::Postgres(p) => {
            sqlx::query_as("SELECT id, password FROM users WHERE username = $1")
                .bind(&body.username)
                .fetch_optional(p)
                .await
        }
        Pool::Sqlite(p) => {
            sqlx::query_as("SELECT id, password FROM users WHERE username = ?")
                .bind(&body.username)
                .fetch_optional(p)
                .await
        }
    };
    let Ok(Some((id, stored))) = found else {
        return fail(StatusCode::UNAUTHORIZED);
    };
    let password = body.password;
    let Ok(_permit) = s.hashing.acquire().await else {
        return fail(StatusCode::SERVICE_UNAVAILABLE);
    };
    let verified = tokio::task::spawn_blocking(move || {
        PasswordHash::new(&stored).is_ok_and(|hash| {
            Argon2::default()
                .verify_password(password.as_bytes(), &hash)
                .is_ok()
        })
    })
    .await
    .unwrap_or(false);
    if !verified {
        return fail(StatusCode::UNAUTHORIZED);
    }
    let claims = NewClaims {
        user_id: id,
        exp: time::OffsetDateTime::now_utc().unix_timestamp() + 3600,
    };
    match jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &s.encoding) {
        Ok(token) => Json(serde_json::json!({ "token": token })).into_response(),
        Err(_) => fail(StatusCode::INTERNAL_SERVER_ERROR),
    }
}
