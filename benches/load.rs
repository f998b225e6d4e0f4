//! `cargo bench --bench load`: starts the release server binary on loopback with a fresh database,
//! loads it with keep-alive HTTP/1.1 connections and prints one table (DESIGN §9).
//!
//! Environment:
//! - `BENCH_CONNECTIONS` (default 64), `BENCH_SECONDS` (default 10), `BENCH_WARMUP_SECONDS` (default 1);
//! - `BENCH_SCENARIOS=health,static` runs only the named scenarios;
//! - `BENCH_DATABASE_URL=postgres://…` benchmarks PostgreSQL instead of a temp SQLite file, and
//!   `BENCH_REDIS_URL=redis://…` hands the server a Redis;
//! - `BENCH_ENV_<NAME>=<value>` passes `<NAME>=<value>` to the server (e.g. `BENCH_ENV_DB_MAX_CONNECTIONS=20`).
//!
//! Timings are reported, never asserted: the process exits non-zero only when the server fails to start.
//! To add a scenario, append a row to [`scenarios`] (with a `setup` fn when it needs a user, a token or
//! an id created first).

use std::{
    fs,
    future::Future,
    net::{Ipv4Addr, SocketAddr, TcpListener},
    path::{Path, PathBuf},
    pin::Pin,
    process::{Child, Command, ExitCode, Stdio},
    sync::{
        Arc,
        atomic::{AtomicBool, Ordering},
    },
    thread,
    time::Duration,
};

use anyhow::{Context, Result, bail};
use http_body_util::{BodyExt, Full};
use hyper::{
    Method, Request, StatusCode,
    body::Bytes,
    client::conn::http1::{self, SendRequest},
    header::{HOST, HeaderName, HeaderValue},
};
use hyper_util::rt::TokioIo;
use tokio::{
    net::TcpStream,
    time::{Instant, sleep, sleep_until, timeout, timeout_at},
};

/// 64 characters; the server only needs it to be long enough for its own checks.
const BENCH_SECRET: &str = "bench-secret-0123456789abcdef0123456789abcdef0123456789abcdef-xy";
const START_TIMEOUT: Duration = Duration::from_secs(60);
const START_POLL: Duration = Duration::from_millis(2);
const RSS_SAMPLE: Duration = Duration::from_millis(50);

// ---------------------------------------------------------------------------------------------
// Scenarios
// ---------------------------------------------------------------------------------------------

/// Runs once before a scenario's load (e.g. create a user and log in) and returns what every
/// request of the scenario should add or replace.
type Setup = fn(SetupCtx) -> Pin<Box<dyn Future<Output = Result<Prepared>> + Send>>;

/// One row of the benchmark.
struct Scenario {
    name: &'static str,
    method: Method,
    path: &'static str,
    headers: &'static [(&'static str, &'static str)],
    body: Option<&'static str>,
    setup: Option<Setup>,
}

/// What a [`Setup`] hands back: extra headers (e.g. `authorization: Bearer …`), and optionally a
/// path or body that replaces the scenario's (e.g. a product id that only exists after setup).
#[derive(Debug, Default)]
struct Prepared {
    headers: Vec<(String, String)>,
    path: Option<String>,
    body: Option<Vec<u8>>,
}

/// The scenario table. Adding one is a few lines, e.g. an authenticated GET:
///
/// ```text
/// Scenario { name: "me", method: Method::GET, path: "/api/auth/me/", headers: &[], body: None,
///            setup: Some(|ctx| Box::pin(login(ctx))) },
///
/// async fn login(ctx: SetupCtx) -> Result<Prepared> {
///     let (status, body) = ctx.request(Method::POST, "/api/auth/login/",
///         &[("content-type", "application/json")], Some(br#"{"email":"…","password":"…"}"#)).await?;
///     anyhow::ensure!(status.is_success(), "login answered {status}");
///     let token = serde_json::from_slice::<serde_json::Value>(&body)?["access"].as_str()
///         .context("no access token")?.to_string();
///     Ok(Prepared { headers: vec![("authorization".into(), format!("Bearer {token}"))], ..Default::default() })
/// }
/// ```
fn scenarios() -> Vec<Scenario> {
    vec![
        Scenario {
            name: "health",
            method: Method::GET,
            path: "/health/",
            headers: &[],
            body: None,
            setup: None,
        },
        Scenario {
            name: "static",
            method: Method::GET,
            path: "/static/robots.txt",
            headers: &[],
            body: None,
            setup: None,
        },
        Scenario {
            name: "packages",
            method: Method::GET,
            path: "/api/packages/",
            headers: &[],
            body: None,
            setup: None,
        },
        Scenario {
            name: "package-detail",
            method: Method::GET,
            path: "/api/packages/1/",
            headers: &[],
            body: None,
            setup: Some(|ctx| Box::pin(first_package(ctx))),
        },
        Scenario {
            name: "me",
            method: Method::GET,
            path: "/api/auth/me/",
            headers: &[],
            body: None,
            setup: Some(|ctx| Box::pin(bench_user_token(ctx))),
        },
        Scenario {
            name: "login",
            method: Method::POST,
            path: "/api/auth/login/",
            headers: &[("content-type", "application/json")],
            body: Some(BENCH_LOGIN),
            setup: Some(|ctx| Box::pin(bench_user_exists(ctx))),
        },
    ]
}

/// The path of the first listed package (ids differ between databases).
async fn first_package(ctx: SetupCtx) -> Result<Prepared> {
    let (status, body) = ctx
        .request(Method::GET, "/api/packages/", &[], None)
        .await?;
    anyhow::ensure!(status.is_success(), "the package list answered {status}");
    let id = serde_json::from_slice::<serde_json::Value>(&body)?["results"][0]["id"]
        .as_i64()
        .context("no package to read (seed-demo loads some)")?;
    Ok(Prepared {
        path: Some(format!("/api/packages/{id}/")),
        ..Default::default()
    })
}

const BENCH_LOGIN: &str = r#"{"username":"bench-user","password":"bench-pass-2026!"}"#;

/// Signs the bench user up (once; "already exists" is fine).
async fn ensure_bench_user(ctx: SetupCtx) -> Result<()> {
    let (status, body) = ctx
        .request(
            Method::POST,
            "/api/auth/signup/",
            &[("content-type", "application/json")],
            Some(br#"{"username":"bench-user","password":"bench-pass-2026!","phone_number":""}"#),
        )
        .await?;
    anyhow::ensure!(
        status.is_success() || status == StatusCode::BAD_REQUEST,
        "signup answered {status}: {}",
        String::from_utf8_lossy(&body)
    );
    Ok(())
}

async fn bench_user_exists(ctx: SetupCtx) -> Result<Prepared> {
    ensure_bench_user(ctx).await?;
    Ok(Prepared::default())
}

/// Logs the bench user in and hands back `authorization: Bearer …`.
async fn bench_user_token(ctx: SetupCtx) -> Result<Prepared> {
    ensure_bench_user(ctx).await?;
    let (status, body) = ctx
        .request(
            Method::POST,
            "/api/auth/login/",
            &[("content-type", "application/json")],
            Some(BENCH_LOGIN.as_bytes()),
        )
        .await?;
    anyhow::ensure!(status.is_success(), "login answered {status}");
    let token = serde_json::from_slice::<serde_json::Value>(&body)?["token"]
        .as_str()
        .context("no token in the login answer")?
        .to_string();
    Ok(Prepared {
        headers: vec![("authorization".into(), format!("Bearer {token}"))],
        ..Default::default()
    })
}

/// Handed to a [`Setup`]: the server's address and a one-shot request helper.
#[derive(Debug, Clone, Copy)]
struct SetupCtx {
    addr: SocketAddr,
}

impl SetupCtx {
    /// One request on a fresh connection; returns the status and the whole body.
    async fn request(
        &self,
        method: Method,
        path: &str,
        headers: &[(&str, &str)],
        body: Option<&[u8]>,
    ) -> Result<(StatusCode, Bytes)> {
        let mut sender = connect(self.addr).await?;
        let mut builder = Request::builder()
            .method(method)
            .uri(path)
            .header(HOST, host_value(self.addr)?);
        for (name, value) in headers {
            builder = builder.header(*name, *value);
        }
        let body = Full::new(Bytes::copy_from_slice(body.unwrap_or_default()));
        let request = builder.body(body).context("building the request")?;
        let response = sender.send_request(request).await?;
        let status = response.status();
        let bytes = response.into_body().collect().await?.to_bytes();
        Ok((status, bytes))
    }
}

/// A scenario after setup: everything needed to build each request.
struct Target {
    method: Method,
    path: String,
    headers: Vec<(HeaderName, HeaderValue)>,
    body: Bytes,
}

impl Target {
    fn new(scenario: &Scenario, prepared: Prepared, addr: SocketAddr) -> Result<Self> {
        let mut headers = vec![(HOST, host_value(addr)?)];
        let pairs = scenario
            .headers
            .iter()
            .map(|(n, v)| ((*n).to_string(), (*v).to_string()))
            .chain(prepared.headers);
        for (name, value) in pairs {
            let name = HeaderName::try_from(name.as_str())
                .with_context(|| format!("header name {name:?}"))?;
            let value = HeaderValue::try_from(value.as_str())
                .with_context(|| format!("header value for {name}"))?;
            headers.retain(|(n, _)| *n != name);
            headers.push((name, value));
        }
        let body = match (prepared.body, scenario.body) {
            (Some(body), _) => Bytes::from(body),
            (None, Some(body)) => Bytes::from_static(body.as_bytes()),
            (None, None) => Bytes::new(),
        };
        Ok(Self {
            method: scenario.method.clone(),
            path: prepared.path.unwrap_or_else(|| scenario.path.to_string()),
            headers,
            body,
        })
    }

    fn request(&self) -> Result<Request<Full<Bytes>>> {
        let mut builder = Request::builder()
            .method(self.method.clone())
            .uri(self.path.as_str());
        for (name, value) in &self.headers {
            builder = builder.header(name, value);
        }
        builder
            .body(Full::new(self.body.clone()))
            .context("building the request")
    }
}

fn host_value(addr: SocketAddr) -> Result<HeaderValue> {
    HeaderValue::try_from(addr.to_string()).context("Host header")
}

async fn connect(addr: SocketAddr) -> Result<SendRequest<Full<Bytes>>> {
    let stream = TcpStream::connect(addr).await?;
    stream.set_nodelay(true)?;
    let (sender, connection) = http1::handshake(TokioIo::new(stream)).await?;
    tokio::spawn(async move {
        // Ends when the sender is dropped or the server closes the connection.
        let _ = connection.await;
    });
    Ok(sender)
}

// ---------------------------------------------------------------------------------------------
// Settings
// ---------------------------------------------------------------------------------------------

struct Settings {
    connections: usize,
    seconds: f64,
    warmup: f64,
    filter: Option<Vec<String>>,
    database_url: Option<String>,
    redis_url: Option<String>,
}

fn env_nonempty(name: &str) -> Option<String> {
    std::env::var(name)
        .ok()
        .map(|v| v.trim().to_string())
        .filter(|v| !v.is_empty())
}

fn env_number<T: std::str::FromStr>(name: &str, default: T) -> T {
    match env_nonempty(name) {
        None => default,
        Some(v) => v.parse().unwrap_or_else(|_| {
            eprintln!("load: ignoring {name}={v:?} (not a number)");
            default
        }),
    }
}

impl Settings {
    fn from_env() -> Self {
        Self {
            connections: env_number("BENCH_CONNECTIONS", 64usize).max(1),
            seconds: env_number("BENCH_SECONDS", 10.0f64).max(0.1),
            warmup: env_number("BENCH_WARMUP_SECONDS", 1.0f64).max(0.0),
            filter: env_nonempty("BENCH_SCENARIOS").map(|v| {
                v.split(',')
                    .map(|s| s.trim().to_string())
                    .filter(|s| !s.is_empty())
                    .collect()
            }),
            database_url: env_nonempty("BENCH_DATABASE_URL"),
            redis_url: env_nonempty("BENCH_REDIS_URL"),
        }
    }

    fn backend(&self) -> &'static str {
        if self.database_url.is_some() {
            "postgres"
        } else {
            "sqlite"
        }
    }
}

/// Hides the password in `scheme://user:password@host/…`.
fn redact_url(url: &str) -> String {
    let Some(scheme_end) = url.find("://").map(|i| i + 3) else {
        return url.to_string();
    };
    let rest = &url[scheme_end..];
    match (rest.find('@'), rest.find(':')) {
        (Some(at), Some(colon)) if colon < at => format!(
            "{}{}:***{}",
            &url[..scheme_end],
            &rest[..colon],
            &rest[at..]
        ),
        _ => url.to_string(),
    }
}

fn shell_quote(s: &str) -> String {
    if !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./:=,@%+".contains(c))
    {
        s.to_string()
    } else {
        format!("'{}'", s.replace('\'', r"'\''"))
    }
}

// ---------------------------------------------------------------------------------------------
// The server process
// ---------------------------------------------------------------------------------------------

/// The spawned server. Dropping it (also while unwinding from a panic) stops the process:
/// SIGTERM, then a bounded wait, then SIGKILL.
struct Server {
    child: Child,
    addr: SocketAddr,
    log_path: PathBuf,
    /// The server's environment, reused to run `seed-demo` against the same database.
    env: Vec<(String, String)>,
    // Dropped after `Drop::drop` has stopped the child.
    dir: tempfile::TempDir,
}

impl Server {
    fn pid(&self) -> u32 {
        self.child.id()
    }

    fn exited(&mut self) -> Option<String> {
        match self.child.try_wait() {
            Ok(Some(status)) => Some(status.to_string()),
            Ok(None) => None,
            Err(error) => Some(format!("unknown ({error})")),
        }
    }

    fn log_tail(&self) -> String {
        let text = fs::read_to_string(&self.log_path).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        lines[lines.len().saturating_sub(30)..].join("\n")
    }

    fn stop(&mut self) {
        if self.exited().is_some() {
            return;
        }
        // No libc (and `unsafe_code` is forbidden): the `kill` utility sends the SIGTERM.
        let termed = Command::new("kill")
            .args(["-TERM", &self.pid().to_string()])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        if termed {
            let deadline = std::time::Instant::now() + Duration::from_secs(10);
            while std::time::Instant::now() < deadline {
                if self.exited().is_some() {
                    return;
                }
                thread::sleep(Duration::from_millis(20));
            }
            eprintln!("load: server ignored SIGTERM for 10 s; killing it");
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.stop();
    }
}

fn free_port() -> Result<u16> {
    let listener =
        TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).context("finding a free loopback port")?;
    Ok(listener.local_addr()?.port())
}

/// Spawns the server and waits for the first `200` from `GET /health/`; returns it and the time
/// from spawn to that answer.
async fn start_server(
    binary: &Path,
    settings: &Settings,
) -> Result<(Server, Duration, Vec<String>)> {
    let dir = tempfile::Builder::new()
        .prefix("electioncart-bench-")
        .tempdir()
        .context("creating a temp dir")?;
    let port = free_port()?;
    let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
    let database_url = match &settings.database_url {
        Some(url) => url.clone(),
        None => format!("sqlite://{}/bench.db", dir.path().display()),
    };
    let mut env: Vec<(String, String)> = vec![
        ("DATABASE_URL".into(), database_url),
        ("PORT".into(), port.to_string()),
        ("BIND_ADDR".into(), "127.0.0.1".into()),
        ("RUST_LOG".into(), "warn".into()),
        ("DJANGO_SECRET_KEY".into(), BENCH_SECRET.into()),
        ("SHUTDOWN_GRACE_SECONDS".into(), "2".into()),
        ("NO_COLOR".into(), "1".into()),
        // The login scenario measures hashing throughput, not the 5/min limit.
        ("RATE_LIMIT_ENABLED".into(), "false".into()),
    ];
    if let Some(redis) = &settings.redis_url {
        env.push(("REDIS_URL".into(), redis.clone()));
    }
    for (key, value) in std::env::vars() {
        if let Some(name) = key.strip_prefix("BENCH_ENV_").filter(|n| !n.is_empty()) {
            env.retain(|(k, _)| k != name);
            env.push((name.to_string(), value));
        }
    }
    let shown: Vec<String> = env
        .iter()
        .map(|(k, v)| match k.as_str() {
            "DATABASE_URL" | "REDIS_URL" => format!("{k}={}", shell_quote(&redact_url(v))),
            "DJANGO_SECRET_KEY" => format!("{k}=<{} chars>", v.len()),
            _ => format!("{k}={}", shell_quote(v)),
        })
        .collect();

    let log_path = dir.path().join("server.log");
    let log = fs::File::create(&log_path).context("creating the server log")?;
    let mut command = Command::new(binary);
    // A clean environment (no .env, no inherited DATABASE_URL/SENTRY_DSN/APP_ENV), run from the
    // temp dir so `data/media` and friends land there.
    command
        .env_clear()
        .current_dir(dir.path())
        .stdin(Stdio::null())
        .stdout(log.try_clone().context("server log")?)
        .stderr(log);
    for key in ["PATH", "HOME", "TMPDIR"] {
        if let Ok(value) = std::env::var(key) {
            command.env(key, value);
        }
    }
    command.envs(env.iter().map(|(k, v)| (k.as_str(), v.as_str())));

    let spawned_at = Instant::now();
    let child = command
        .spawn()
        .with_context(|| format!("spawning {}", binary.display()))?;
    let mut server = Server {
        child,
        addr,
        log_path,
        env,
        dir,
    };
    let ctx = SetupCtx { addr };
    loop {
        let last = match timeout(
            Duration::from_millis(500),
            ctx.request(Method::GET, "/health/", &[], None),
        )
        .await
        {
            Ok(Ok((StatusCode::OK, _))) => return Ok((server, spawned_at.elapsed(), shown)),
            Ok(Ok((status, body))) => format!("{status}: {}", String::from_utf8_lossy(&body)),
            Ok(Err(error)) => format!("{error:#}"),
            Err(_) => "GET /health/ timed out".to_string(),
        };
        if let Some(status) = server.exited() {
            bail!(
                "the server exited ({status}) before answering; last: {last}\n--- server log ---\n{}",
                server.log_tail()
            );
        }
        if spawned_at.elapsed() > START_TIMEOUT {
            bail!(
                "no 200 from GET /health/ within {START_TIMEOUT:?}; last: {last}\n--- server log ---\n{}",
                server.log_tail()
            );
        }
        sleep(START_POLL).await;
    }
}

// ---------------------------------------------------------------------------------------------
// /proc readings
// ---------------------------------------------------------------------------------------------

/// Resident set size in bytes (`VmRSS` of `/proc/<pid>/status`).
fn rss_bytes(pid: &str) -> Option<u64> {
    let status = fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb * 1024)
}

/// utime + stime in clock ticks (fields 14 and 15 of `/proc/<pid>/stat`).
fn cpu_ticks(pid: &str) -> Option<u64> {
    let stat = fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name may contain spaces; the fields after it start at field 3 (state).
    let after = &stat[stat.rfind(')')? + 1..];
    let fields: Vec<&str> = after.split_whitespace().collect();
    let utime: u64 = fields.get(11)?.parse().ok()?;
    let stime: u64 = fields.get(12)?.parse().ok()?;
    Some(utime + stime)
}

/// `getconf CLK_TCK`, or 100 (the Linux default) when that cannot be run.
fn clock_ticks_per_second() -> (u64, &'static str) {
    Command::new("getconf")
        .arg("CLK_TCK")
        .output()
        .ok()
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .and_then(|s| s.trim().parse::<u64>().ok())
        .filter(|&t| t > 0)
        .map_or((100, "assumed 100 Hz"), |t| (t, "from getconf CLK_TCK"))
}

/// Samples the server's RSS every [`RSS_SAMPLE`] on a plain thread until stopped; returns the peak.
struct RssSampler {
    stop: Arc<AtomicBool>,
    handle: thread::JoinHandle<u64>,
}

impl RssSampler {
    fn start(pid: String) -> Self {
        let stop = Arc::new(AtomicBool::new(false));
        let flag = Arc::clone(&stop);
        let handle = thread::spawn(move || {
            let mut peak = 0;
            loop {
                peak = peak.max(rss_bytes(&pid).unwrap_or(0));
                if flag.load(Ordering::Relaxed) {
                    return peak;
                }
                thread::sleep(RSS_SAMPLE);
            }
        });
        Self { stop, handle }
    }

    fn finish(self) -> u64 {
        self.stop.store(true, Ordering::Relaxed);
        self.handle.join().unwrap_or(0)
    }
}

// ---------------------------------------------------------------------------------------------
// Load
// ---------------------------------------------------------------------------------------------

#[derive(Default)]
struct ConnStats {
    latencies_us: Vec<u32>,
    ok: u64,
    errors: u64,
    first_error: Option<String>,
}

impl ConnStats {
    fn error(&mut self, counted: bool, message: impl FnOnce() -> String) {
        if counted {
            self.errors += 1;
            if self.first_error.is_none() {
                self.first_error = Some(message());
            }
        }
    }
}

/// One keep-alive connection sending requests back to back until `deadline`. Requests that start
/// before `warm_end` are not counted; a request cut off by the deadline is dropped uncounted.
async fn connection_loop(
    addr: SocketAddr,
    target: Arc<Target>,
    warm_end: Instant,
    deadline: Instant,
) -> ConnStats {
    let mut stats = ConnStats::default();
    let mut sender: Option<SendRequest<Full<Bytes>>> = None;
    loop {
        let now = Instant::now();
        if now >= deadline {
            break;
        }
        let counted = now >= warm_end;
        let current = match &mut sender {
            Some(s) => s,
            None => match timeout_at(deadline, connect(addr)).await {
                Err(_) => break,
                Ok(Ok(s)) => sender.insert(s),
                Ok(Err(error)) => {
                    stats.error(counted, || format!("connect: {error:#}"));
                    // Do not spin on a refused connection.
                    let _ = timeout_at(deadline, sleep(Duration::from_millis(10))).await;
                    continue;
                }
            },
        };
        let request = match target.request() {
            Ok(r) => r,
            Err(error) => {
                stats.error(true, || format!("{error:#}"));
                break;
            }
        };
        let started = Instant::now();
        let counted = started >= warm_end;
        let exchange = async {
            current.ready().await?;
            let response = current.send_request(request).await?;
            let status = response.status();
            response.into_body().collect().await?;
            Ok::<_, hyper::Error>(status)
        };
        match timeout_at(deadline, exchange).await {
            Err(_) => break,
            Ok(Ok(status)) if status.is_success() || status.is_redirection() => {
                if counted {
                    stats.ok += 1;
                    let micros = started.elapsed().as_micros();
                    stats
                        .latencies_us
                        .push(u32::try_from(micros).unwrap_or(u32::MAX));
                }
            }
            Ok(Ok(status)) => stats.error(counted, || format!("status {status}")),
            Ok(Err(error)) => {
                stats.error(counted, || format!("io: {error}"));
                sender = None;
            }
        }
    }
    stats
}

struct Row {
    name: String,
    connections: usize,
    requests_per_s: f64,
    p50_ms: f64,
    p99_ms: f64,
    max_ms: f64,
    errors: u64,
    rss_idle: u64,
    rss_peak: u64,
    server_cpu_us: Option<f64>,
    bench_cpu_us: Option<f64>,
    note: Option<String>,
}

/// Nearest-rank percentile of a sorted slice, in milliseconds.
fn percentile_ms(sorted: &[u32], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let rank = ((p * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len());
    f64::from(sorted[rank - 1]) / 1000.0
}

async fn run_scenario(
    scenario: &Scenario,
    server: &Server,
    settings: &Settings,
    tick_us: f64,
) -> Row {
    let pid = server.pid().to_string();
    let rss_idle = rss_bytes(&pid).unwrap_or(0);
    let mut row = Row {
        name: scenario.name.to_string(),
        connections: settings.connections,
        requests_per_s: 0.0,
        p50_ms: f64::NAN,
        p99_ms: f64::NAN,
        max_ms: f64::NAN,
        errors: 0,
        rss_idle,
        rss_peak: rss_idle,
        server_cpu_us: None,
        bench_cpu_us: None,
        note: None,
    };

    let prepared = match scenario.setup {
        None => Ok(Prepared::default()),
        Some(setup) => setup(SetupCtx { addr: server.addr }).await,
    };
    let target = match prepared.and_then(|p| Target::new(scenario, p, server.addr)) {
        Ok(t) => Arc::new(t),
        Err(error) => {
            row.note = Some(format!("setup failed: {error:#}"));
            return row;
        }
    };

    let sampler = RssSampler::start(pid.clone());
    let warm_end = Instant::now() + Duration::from_secs_f64(settings.warmup);
    let measured = Duration::from_secs_f64(settings.seconds);
    let deadline = warm_end + measured;
    let workers: Vec<_> = (0..settings.connections)
        .map(|_| {
            tokio::spawn(connection_loop(
                server.addr,
                Arc::clone(&target),
                warm_end,
                deadline,
            ))
        })
        .collect();

    sleep_until(warm_end).await;
    let server_cpu0 = cpu_ticks(&pid);
    let bench_cpu0 = cpu_ticks("self");
    sleep_until(deadline).await;
    let server_cpu1 = cpu_ticks(&pid);
    let bench_cpu1 = cpu_ticks("self");

    let mut latencies = Vec::new();
    let mut ok = 0;
    for worker in workers {
        match worker.await {
            Ok(stats) => {
                ok += stats.ok;
                row.errors += stats.errors;
                latencies.extend(stats.latencies_us);
                if row.note.is_none() {
                    row.note = stats.first_error;
                }
            }
            Err(error) => {
                row.errors += 1;
                row.note.get_or_insert_with(|| format!("worker: {error}"));
            }
        }
    }
    row.rss_peak = sampler.finish().max(rss_idle);

    latencies.sort_unstable();
    row.requests_per_s = ok as f64 / measured.as_secs_f64();
    row.p50_ms = percentile_ms(&latencies, 0.50);
    row.p99_ms = percentile_ms(&latencies, 0.99);
    row.max_ms = latencies
        .last()
        .map_or(f64::NAN, |&m| f64::from(m) / 1000.0);
    let requests = ok + row.errors;
    let per_request = |before: Option<u64>, after: Option<u64>| match (before, after) {
        (Some(b), Some(a)) if requests > 0 => {
            Some(a.saturating_sub(b) as f64 * tick_us / requests as f64)
        }
        _ => None,
    };
    row.server_cpu_us = per_request(server_cpu0, server_cpu1);
    row.bench_cpu_us = per_request(bench_cpu0, bench_cpu1);
    row
}

// ---------------------------------------------------------------------------------------------
// Report
// ---------------------------------------------------------------------------------------------

fn mb(bytes: u64) -> f64 {
    bytes as f64 / 1_048_576.0
}

fn fmt_ms(v: f64) -> String {
    if v.is_nan() {
        "-".into()
    } else {
        format!("{v:.2}")
    }
}

fn fmt_opt(v: Option<f64>) -> String {
    v.map_or_else(|| "-".into(), |v| format!("{v:.1}"))
}

fn print_table(rows: &[Row]) {
    println!(
        "| {:<10} | {:>5} | {:>9} | {:>6} | {:>6} | {:>7} | {:>6} | {:>11} | {:>11} | {:>17} | {:>16} |",
        "scenario",
        "conns",
        "req/s",
        "p50 ms",
        "p99 ms",
        "max ms",
        "errors",
        "RSS idle MB",
        "RSS peak MB",
        "server CPU µs/req",
        "bench CPU µs/req"
    );
    println!(
        "|{}|{}|{}|{}|{}|{}|{}|{}|{}|{}|{}|",
        "-".repeat(12),
        "-".repeat(7),
        "-".repeat(11),
        "-".repeat(8),
        "-".repeat(8),
        "-".repeat(9),
        "-".repeat(8),
        "-".repeat(13),
        "-".repeat(13),
        "-".repeat(19),
        "-".repeat(18)
    );
    for r in rows {
        println!(
            "| {:<10} | {:>5} | {:>9.0} | {:>6} | {:>6} | {:>7} | {:>6} | {:>11.1} | {:>11.1} | {:>17} | {:>16} |",
            r.name,
            r.connections,
            r.requests_per_s,
            fmt_ms(r.p50_ms),
            fmt_ms(r.p99_ms),
            fmt_ms(r.max_ms),
            r.errors,
            mb(r.rss_idle),
            mb(r.rss_peak),
            fmt_opt(r.server_cpu_us),
            fmt_opt(r.bench_cpu_us),
        );
    }
    for r in rows {
        if let Some(note) = &r.note {
            println!("  {}: {note}", r.name);
        }
    }
}

fn file_size_line(label: &str, path: &Path) -> Option<String> {
    let meta = fs::metadata(path).ok()?;
    Some(format!(
        "{label}: {:.2} MB ({} bytes) {}",
        mb(meta.len()),
        meta.len(),
        path.display()
    ))
}

fn print_binaries(binary: &Path) {
    match file_size_line("server binary (bench profile)", binary) {
        Some(line) => println!("{line}"),
        None => println!("server binary: {} (missing?)", binary.display()),
    }
    let bench_canonical = fs::canonicalize(binary).ok();
    let mut candidates = Vec::new();
    if let Some(dir) = env_nonempty("CARGO_TARGET_DIR") {
        candidates.push(PathBuf::from(dir).join("release/electioncart"));
    }
    candidates.push(Path::new(env!("CARGO_MANIFEST_DIR")).join("target/release/electioncart"));
    let mut seen = Vec::new();
    for path in candidates {
        let Ok(canonical) = fs::canonicalize(&path) else {
            continue;
        };
        if seen.contains(&canonical) {
            continue;
        }
        let same = if Some(&canonical) == bench_canonical.as_ref() {
            " (the same file)"
        } else {
            ""
        };
        if let Some(line) = file_size_line("shipped binary (target/release)", &path) {
            println!("{line}{same}");
        }
        seen.push(canonical);
    }
}

fn print_command(settings: &Settings) {
    let mut vars = Vec::new();
    let mut keys: Vec<(String, String)> = std::env::vars()
        .filter(|(k, _)| k.starts_with("BENCH_"))
        .collect();
    keys.sort();
    for (key, value) in keys {
        let value = if key.ends_with("_URL") {
            redact_url(&value)
        } else {
            value
        };
        vars.push(format!("{key}={}", shell_quote(&value)));
    }
    let mut line = vars.join(" ");
    if !line.is_empty() {
        line.push(' ');
    }
    line.push_str("cargo bench --bench load");
    println!("command: {line}");
    let argv: Vec<String> = std::env::args().map(|a| shell_quote(&a)).collect();
    println!("bench process: {}", argv.join(" "));
    println!(
        "settings: connections={} seconds={} warmup={}s scenarios={} backend={}",
        settings.connections,
        settings.seconds,
        settings.warmup,
        settings
            .filter
            .as_ref()
            .map_or_else(|| "all".to_string(), |f| f.join(",")),
        settings.backend()
    );
}

// ---------------------------------------------------------------------------------------------
// Main
// ---------------------------------------------------------------------------------------------

async fn run(settings: Settings) -> Result<()> {
    let binary = Path::new(env!("CARGO_BIN_EXE_electioncart"));
    print_command(&settings);
    print_binaries(binary);

    let all = scenarios();
    let selected: Vec<&Scenario> = match &settings.filter {
        None => all.iter().collect(),
        Some(names) => {
            for name in names {
                if !all.iter().any(|s| s.name == name) {
                    eprintln!("load: unknown scenario {name:?} (ignored)");
                }
            }
            all.iter()
                .filter(|s| names.iter().any(|n| n == s.name))
                .collect()
        }
    };

    let (ticks, tick_source) = clock_ticks_per_second();
    let tick_us = 1_000_000.0 / ticks as f64;

    let (mut server, first_200, server_env) = start_server(binary, &settings)
        .await
        .context("the server failed to start")?;
    println!(
        "server: {} {}",
        server_env.join(" "),
        shell_quote(&binary.display().to_string())
    );
    let pid = server.pid().to_string();
    let idle = rss_bytes(&pid).unwrap_or(0);
    seed_demo(binary, &server).context("seeding the demo catalog")?;
    println!(
        "backend: {} | start to first 200: {:.1} ms | RSS idle after start: {:.1} MB | listening on {}",
        settings.backend(),
        first_200.as_secs_f64() * 1000.0,
        mb(idle),
        server.addr
    );
    println!(
        "CPU: utime+stime from /proc/<pid>/stat over the measured window, {ticks} ticks/s ({tick_source}); \
         µs/req = CPU time / (ok + error) responses"
    );
    println!();

    let mut rows = Vec::new();
    for scenario in selected {
        let row = run_scenario(scenario, &server, &settings, tick_us).await;
        rows.push(row);
        if let Some(status) = server.exited() {
            println!(
                "load: the server exited ({status}) during {}:\n{}",
                scenario.name,
                server.log_tail()
            );
            break;
        }
    }
    print_table(&rows);
    print_cache_stats(&server).await;
    server.stop();
    Ok(())
}

/// The server's cache counters after the run (from `/health/`), with the hit rate.
async fn print_cache_stats(server: &Server) {
    let ctx = SetupCtx { addr: server.addr };
    let Ok((_, body)) = ctx.request(Method::GET, "/health/", &[], None).await else {
        return;
    };
    let Ok(health) = serde_json::from_slice::<serde_json::Value>(&body) else {
        return;
    };
    let cache = &health["cache"];
    let hits = cache["hits"].as_u64().unwrap_or(0);
    let misses = cache["misses"].as_u64().unwrap_or(0);
    let rate = if hits + misses > 0 {
        100.0 * hits as f64 / (hits + misses) as f64
    } else {
        0.0
    };
    println!(
        "cache: tier={} enabled={} hits={hits} misses={misses} hit rate={rate:.2}% (includes the health probes' own lookups, if any)",
        cache["tier"], cache["enabled"]
    );
}

/// Loads the demo catalog (3 packages, 4 campaigns) into the server's database with the same binary.
fn seed_demo(binary: &Path, server: &Server) -> Result<()> {
    let mut command = Command::new(binary);
    command
        .arg("seed-demo")
        .env_clear()
        .current_dir(server.dir.path())
        .stdin(Stdio::null())
        .stdout(Stdio::null());
    for key in ["PATH", "HOME", "TMPDIR"] {
        if let Ok(value) = std::env::var(key) {
            command.env(key, value);
        }
    }
    command.envs(server.env.iter().map(|(k, v)| (k.as_str(), v.as_str())));
    let output = command.output().context("running seed-demo")?;
    anyhow::ensure!(
        output.status.success(),
        "seed-demo failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    Ok(())
}

fn main() -> ExitCode {
    let settings = Settings::from_env();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(error) => {
            eprintln!("load: cannot start the tokio runtime: {error}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(settings)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("load: {error:#}");
            ExitCode::FAILURE
        }
    }
}
