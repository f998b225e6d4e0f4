//! Test harness: a fresh database per test (SQLite temp file; a new PostgreSQL database when
//! `TEST_DATABASE_URL` is set, dropped afterwards), the real router, and request helpers.

use std::collections::HashMap;

use axum::{
    Router,
    body::{Body, Bytes},
    http::{HeaderMap, Request, StatusCode},
};
use electioncart::{AppState, Config, build_router, db::Db};
use http_body_util::BodyExt;
use tower::ServiceExt;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// The backends every database test runs on: SQLite always, PostgreSQL when configured.
pub fn backends() -> Vec<Backend> {
    let mut list = vec![Backend::Sqlite];
    if pg_admin_url().is_some() {
        list.push(Backend::Postgres);
    }
    list
}

pub fn pg_admin_url() -> Option<String> {
    std::env::var("TEST_DATABASE_URL")
        .ok()
        .filter(|v| !v.trim().is_empty())
}

/// Replaces the database name in a PostgreSQL URL.
pub fn with_database(url: &str, name: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((b, q)) => (b, Some(q)),
        None => (url, None),
    };
    let scheme_end = base.find("://").map_or(0, |i| i + 3);
    let host_end = base[scheme_end..]
        .find('/')
        .map_or(base.len(), |i| scheme_end + i);
    let mut out = format!("{}/{}", &base[..host_end], name);
    if let Some(q) = query {
        out.push('?');
        out.push_str(q);
    }
    out
}

/// A database that lives as long as the test.
pub struct TestDb {
    pub url: String,
    _dir: Option<tempfile::TempDir>,
    pg: Option<(String, String)>,
}

impl TestDb {
    pub async fn new(backend: Backend) -> Self {
        match backend {
            Backend::Sqlite => {
                let dir = tempfile::tempdir().expect("temp dir");
                let url = format!("sqlite://{}/test.db", dir.path().display());
                TestDb {
                    url,
                    _dir: Some(dir),
                    pg: None,
                }
            }
            Backend::Postgres => {
                let admin = pg_admin_url().expect("TEST_DATABASE_URL");
                let name = format!("ec_test_{}", uuid::Uuid::new_v4().simple());
                let conn = Db::connect_url(&admin, 1, std::time::Duration::from_secs(10))
                    .await
                    .expect("connect to TEST_DATABASE_URL");
                if let Db::Postgres(pool) = &conn {
                    sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
                        .execute(pool)
                        .await
                        .expect("create test database");
                }
                conn.close().await;
                TestDb {
                    url: with_database(&admin, &name),
                    _dir: None,
                    pg: Some((admin, name)),
                }
            }
        }
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        let Some((admin, name)) = self.pg.take() else {
            return;
        };
        // Drop runs inside the test's runtime: use a thread with its own.
        let _ = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("runtime");
            rt.block_on(async move {
                if let Ok(Db::Postgres(pool)) =
                    Db::connect_url(&admin, 1, std::time::Duration::from_secs(10)).await
                {
                    let _ = sqlx::query(sqlx::AssertSqlSafe(format!(
                        "DROP DATABASE IF EXISTS {name} WITH (FORCE)"
                    )))
                    .execute(&pool)
                    .await;
                    pool.close().await;
                }
            });
        })
        .join();
    }
}

/// A configuration for tests: the given database plus any overrides.
pub fn test_config(database_url: &str, vars: &[(&str, &str)]) -> Config {
    let mut map: HashMap<String, String> = HashMap::new();
    map.insert("DATABASE_URL".into(), database_url.into());
    map.insert(
        "DJANGO_SECRET_KEY".into(),
        "test-secret-key-that-is-long-enough-0123456789".into(),
    );
    for (k, v) in vars {
        map.insert((*k).into(), (*v).into());
    }
    Config::from_map(&map).expect("test config")
}

/// The real router on a fresh database.
pub struct TestApp {
    pub router: Router,
    pub state: AppState,
    /// Keeps the test's database alive (and drops a PostgreSQL one) for as long as the app.
    #[allow(dead_code)]
    pub db: TestDb,
}

impl TestApp {
    pub async fn new(backend: Backend) -> Self {
        Self::with_env(backend, &[]).await
    }

    pub async fn with_env(backend: Backend, vars: &[(&str, &str)]) -> Self {
        let db = TestDb::new(backend).await;
        let config = test_config(&db.url, vars);
        let state = AppState::build(config).await.expect("app state");
        TestApp {
            router: build_router(state.clone()),
            state,
            db,
        }
    }

    pub async fn get(&self, path: &str) -> TestResponse {
        self.request(Request::get(path).body(Body::empty()).expect("request"))
            .await
    }

    pub async fn request(&self, request: Request<Body>) -> TestResponse {
        send(&self.router, request).await
    }
}

pub async fn send(router: &Router, request: Request<Body>) -> TestResponse {
    let response = router.clone().oneshot(request).await.expect("infallible");
    let status = response.status();
    let headers = response.headers().clone();
    let body = response
        .into_body()
        .collect()
        .await
        .expect("body")
        .to_bytes();
    TestResponse {
        status,
        headers,
        body,
    }
}

#[derive(Debug)]
pub struct TestResponse {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Bytes,
}

impl TestResponse {
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).unwrap_or_else(|e| {
            panic!(
                "body is not JSON ({e}): {}",
                String::from_utf8_lossy(&self.body)
            )
        })
    }

    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

/// The D22 set every response kind must carry.
pub const SECURITY_HEADERS: &[&str] = &[
    "x-content-type-options",
    "x-frame-options",
    "referrer-policy",
    "cross-origin-opener-policy",
    "cross-origin-resource-policy",
    "permissions-policy",
    "content-security-policy",
];

#[track_caller]
pub fn assert_security_headers(response: &TestResponse) {
    for name in SECURITY_HEADERS {
        assert!(
            response.headers.contains_key(*name),
            "{name} missing on a {} response: {:?}",
            response.status,
            response.headers
        );
    }
    assert_eq!(response.header("x-content-type-options"), Some("nosniff"));
    assert_eq!(response.header("x-frame-options"), Some("DENY"));
    assert!(!response.headers.contains_key("server"), "no Server header");
    assert!(!response.headers.contains_key("x-powered-by"));
}

// ---- identity helpers -----------------------------------------------------------------------------

/// Creates an active account directly (Argon2id hash), bypassing the HTTP layer.
pub async fn create_user(
    app: &TestApp,
    username: &str,
    password: &str,
    role: electioncart::auth::model::Role,
) -> electioncart::auth::model::User {
    let hash = app
        .state
        .passwords
        .hash(password.to_string())
        .await
        .expect("hash");
    electioncart::auth::repo::create(
        &app.state.db,
        &electioncart::auth::model::NewUser {
            username: username.to_string(),
            password_hash: hash,
            phone_number: None,
            firebase_uid: None,
            role,
        },
    )
    .await
    .expect("create user")
}

/// A token for the user, minted by the app's own keys.
pub fn token_for(app: &TestApp, user: &electioncart::auth::model::User) -> String {
    app.state
        .jwt
        .issue(user.id, user.phone_number.as_deref(), &user.role)
        .expect("token")
}

/// A request builder from a distinct client address (the socket peer), so tests don't share the
/// per-IP login budget unless they mean to.
pub fn from_peer(mut request: Request<Body>, ip: &str) -> Request<Body> {
    let addr: std::net::SocketAddr = format!("{ip}:40000").parse().expect("socket address");
    request
        .extensions_mut()
        .insert(axum::extract::ConnectInfo(addr));
    request
}

pub fn json_request(method: &str, path: &str, body: serde_json::Value) -> Request<Body> {
    Request::builder()
        .method(method)
        .uri(path)
        .header("content-type", "application/json")
        .body(Body::from(body.to_string()))
        .expect("request")
}

pub fn authed(mut request: Request<Body>, token: &str) -> Request<Body> {
    request.headers_mut().insert(
        "authorization",
        format!("Bearer {token}").parse().expect("header"),
    );
    request
}

/// A fresh random client address.
pub fn random_ip() -> String {
    let b = uuid::Uuid::new_v4().into_bytes();
    format!("10.{}.{}.{}", b[0], b[1], b[2].max(1))
}

/// Logs in over HTTP from a fresh client address.
pub async fn login(app: &TestApp, username: &str, password: &str) -> TestResponse {
    app.request(from_peer(
        json_request(
            "POST",
            "/api/auth/login/",
            serde_json::json!({"username": username, "password": password}),
        ),
        &random_ip(),
    ))
    .await
}

impl TestApp {
    /// An app on an existing database (e.g. one a subcommand just wrote), without owning it.
    pub async fn from_url(url: &str) -> Self {
        let config = test_config(url, &[]);
        let state = AppState::build(config).await.expect("app state");
        TestApp {
            router: build_router(state.clone()),
            state,
            db: TestDb::borrowed(url),
        }
    }
}

impl TestDb {
    /// A handle that does not drop the database when it goes away.
    pub fn borrowed(url: &str) -> Self {
        TestDb {
            url: url.to_string(),
            _dir: None,
            pg: None,
        }
    }
}

// ---- private servers for fault tests --------------------------------------------------------------

/// A private Redis on a random port (never the machine's shared one), killed with the guard. It can
/// be killed, paused (`SIGSTOP`), resumed and restarted on the same port.
pub struct OwnRedis {
    child: Option<std::process::Child>,
    pub port: u16,
}

/// Whether the fault tests' server binaries (`redis-server`, PostgreSQL's `initdb`/`pg_ctl`) must
/// be present: in CI (`CI` set) and whenever real services are configured (`TEST_DATABASE_URL`,
/// `TEST_REDIS_URL`). On a fresh machine with only Rust, those tests report that they skipped.
pub fn fault_binaries_required() -> bool {
    let set =
        |k: &str| std::env::var(k).is_ok_and(|v| !v.trim().is_empty() && v != "false" && v != "0");
    set("CI") || set("TEST_DATABASE_URL") || set("TEST_REDIS_URL")
}

pub fn redis_server_binary() -> Option<&'static str> {
    ["/usr/bin/redis-server", "/usr/local/bin/redis-server"]
        .into_iter()
        .find(|p| std::path::Path::new(p).exists())
}

/// `true` when a Redis fault test can run; `false` (after saying so) when it must be skipped.
/// Panics when the binary is missing but required (see [`fault_binaries_required`]).
pub fn redis_fault_test_can_run() -> bool {
    if redis_server_binary().is_some() {
        return true;
    }
    assert!(
        !fault_binaries_required(),
        "redis-server is not installed: the Redis fault tests need it (CI installs it)"
    );
    eprintln!("SKIPPED: redis-server is not installed (required when CI or TEST_* is set)");
    false
}

impl OwnRedis {
    /// Starts `redis-server` on a free port.
    pub fn start_any() -> Self {
        Self::start(free_port())
    }

    pub fn start(port: u16) -> Self {
        let binary = redis_server_binary().expect(
            "redis-server is not installed: the Redis fault tests need it (CI installs it)",
        );
        let child = std::process::Command::new(binary)
            .args([
                "--port",
                &port.to_string(),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
            ])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("start redis-server");
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                std::time::Instant::now() < deadline,
                "redis-server did not start"
            );
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
        OwnRedis {
            child: Some(child),
            port,
        }
    }

    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }

    fn signal(&self, signal: &str) {
        if let Some(child) = &self.child {
            let status = std::process::Command::new("kill")
                .args([signal, &child.id().to_string()])
                .status()
                .expect("kill");
            assert!(status.success(), "kill {signal} failed");
        }
    }

    /// `SIGSTOP`: the server keeps its sockets but answers nothing.
    pub fn pause(&self) {
        self.signal("-STOP");
    }

    pub fn resume(&self) {
        self.signal("-CONT");
    }

    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Starts a fresh (empty) server on the same port.
    pub fn restart(&mut self) {
        self.kill();
        *self = Self::start(self.port);
    }
}

impl Drop for OwnRedis {
    fn drop(&mut self) {
        // SIGKILL also ends a stopped process.
        self.kill();
    }
}

/// A TCP port nothing listens on (at the time of asking).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .expect("bind")
        .local_addr()
        .expect("addr")
        .port()
}

/// `TEST_REDIS_URL`, when set.
pub fn test_redis_url() -> Option<String> {
    std::env::var("TEST_REDIS_URL")
        .ok()
        .filter(|v| !v.trim().is_empty())
}

// ---- log capture ----------------------------------------------------------------------------------

/// What a test thread logged, at TRACE, without colours (see [`capture_logs`]).
#[derive(Clone, Default)]
pub struct LogBuffer(std::sync::Arc<std::sync::Mutex<Vec<u8>>>);

impl LogBuffer {
    pub fn text(&self) -> String {
        String::from_utf8(self.0.lock().expect("logs").clone()).expect("utf-8")
    }
}

impl std::io::Write for LogBuffer {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().expect("log buffer").extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Keeps the capture installed on this thread while alive.
pub struct LogCapture {
    pub logs: LogBuffer,
    _idle: tracing::Dispatch,
    _guard: tracing::subscriber::DefaultGuard,
}

/// Sends this thread's log lines to a buffer (a `#[tokio::test]` runtime is single-threaded, so
/// every request of the test runs under it). A second, idle dispatcher keeps tracing from caching
/// "disabled" for callsites that other tests' threads (which have no subscriber) register first:
/// with a single registered dispatcher, tracing decides a new callsite's interest from the
/// registering thread's default alone.
pub fn capture_logs() -> LogCapture {
    let logs = LogBuffer::default();
    let writer = logs.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_ansi(false)
        .with_writer(move || writer.clone())
        .finish();
    let idle = tracing::Dispatch::new(tracing_subscriber::registry());
    let guard = tracing::subscriber::set_default(subscriber);
    LogCapture {
        logs,
        _idle: idle,
        _guard: guard,
    }
}
