//! Black-box tests over real loopback sockets (DESIGN §8): graceful shutdown, the header-read timeout,
//! compression and static files through the whole stack, and the real binary (SIGTERM, `check`,
//! `openapi`). Every wait is bounded; a bound only guards against hanging forever.

use std::{
    fs::File,
    io::{self, Read as _},
    net::SocketAddr,
    path::{Path, PathBuf},
    process::{Child, Command, ExitStatus, Stdio},
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use axum::{Router, routing::get};
use electioncart::{AppState, Application, app::serve, middleware};
use tokio::{
    io::{AsyncRead, AsyncReadExt, AsyncWriteExt},
    net::{TcpListener, TcpStream},
    sync::{Notify, oneshot},
    task::JoinHandle,
};

use crate::helpers::{Backend, TestDb, TestResponse, assert_security_headers, test_config};

/// The upper bound for anything that must happen (a closed connection, an exit, a drained request).
const BOUND: Duration = Duration::from_secs(5);

pub(crate) const SECRET: &str = "blackbox-secret-key-that-is-long-enough-0123456789";

// ---------------------------------------------------------------------------------------------
// Shared helpers (also used by `faults.rs`).
// ---------------------------------------------------------------------------------------------

/// A loopback-only HTTP client that never goes through a proxy.
pub(crate) fn http_client() -> reqwest::Client {
    // reqwest is built without a provider of its own; the server's (ring) is the process default.
    electioncart::crypto::install_tls_provider();
    reqwest::Client::builder()
        .no_proxy()
        .timeout(Duration::from_secs(10))
        .build()
        .expect("reqwest client")
}

/// `GET url` with extra headers, as a [`TestResponse`] (so the harness's assertions apply).
pub(crate) async fn fetch(
    client: &reqwest::Client,
    url: &str,
    headers: &[(&str, &str)],
) -> TestResponse {
    let mut request = client.get(url);
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    let response = request
        .send()
        .await
        .unwrap_or_else(|e| panic!("GET {url}: {e}"));
    let status = response.status();
    let headers = response.headers().clone();
    let body = response.bytes().await.expect("response body");
    TestResponse {
        status,
        headers,
        body,
    }
}

/// The real [`Application`] on `127.0.0.1:<random port>`, in this process.
pub(crate) struct RunningApp {
    pub addr: SocketAddr,
    shutdown: Option<oneshot::Sender<()>>,
    handle: Option<JoinHandle<io::Result<()>>>,
}

impl RunningApp {
    pub async fn start(database_url: &str, vars: &[(&str, &str)]) -> Self {
        let mut all = vec![("PORT", "0"), ("BIND_ADDR", "127.0.0.1")];
        all.extend_from_slice(vars);
        let app = Application::build(test_config(database_url, &all))
            .await
            .expect("application builds");
        let addr = app.local_addr().expect("local address");
        assert!(addr.ip().is_loopback(), "bound to {addr}, not loopback");
        let (tx, rx) = oneshot::channel::<()>();
        let handle = tokio::spawn(app.run_until_stopped(
            async move {
                let _ = rx.await;
            },
            std::future::pending(),
        ));
        Self {
            addr,
            shutdown: Some(tx),
            handle: Some(handle),
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    /// Triggers graceful shutdown and waits for `run_until_stopped` to return `Ok`.
    pub async fn stop(mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(handle) = self.handle.take() {
            tokio::time::timeout(Duration::from_secs(30), handle)
                .await
                .expect("the server stops within 30 s")
                .expect("server task")
                .expect("run_until_stopped returns Ok");
        }
    }
}

impl Drop for RunningApp {
    fn drop(&mut self) {
        if let Some(handle) = self.handle.take() {
            handle.abort();
        }
    }
}

/// A port that was free a moment ago (for the spawned binary and the private PostgreSQL).
pub(crate) fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free loopback port")
        .port()
}

/// Reads until the peer closes the connection (EOF or an error such as a reset) and returns how
/// long after `since` that happened. Panics if it stays open for [`BOUND`].
async fn wait_closed(
    stream: &mut (impl AsyncRead + Unpin),
    since: Instant,
    what: &str,
) -> Duration {
    let mut buf = [0_u8; 1024];
    let mut received = Vec::new();
    let outcome = tokio::time::timeout(BOUND, async {
        loop {
            match stream.read(&mut buf).await {
                Ok(0) => return "eof".to_string(),
                Ok(n) => received.extend_from_slice(&buf[..n]),
                Err(e) => return format!("error: {e}"),
            }
        }
    })
    .await;
    let elapsed = since.elapsed();
    match outcome {
        Ok(how) => {
            eprintln!("{what}: closed by the server after {elapsed:?} ({how})");
            elapsed
        }
        Err(_) => panic!(
            "{what}: the server kept the connection open for {BOUND:?} (received {:?})",
            String::from_utf8_lossy(&received)
        ),
    }
}

/// Reads one complete HTTP/1.1 response (Content-Length or chunked) and returns it as text.
async fn read_one_response(stream: &mut TcpStream) -> String {
    let mut data = Vec::new();
    let mut buf = [0_u8; 4096];
    let complete = |data: &[u8]| -> bool {
        let Some(head_end) = data.windows(4).position(|w| w == b"\r\n\r\n") else {
            return false;
        };
        let head = String::from_utf8_lossy(&data[..head_end]).to_ascii_lowercase();
        let body = &data[head_end + 4..];
        if let Some(len) = head
            .lines()
            .find_map(|l| l.strip_prefix("content-length:"))
            .and_then(|v| v.trim().parse::<usize>().ok())
        {
            body.len() >= len
        } else if head.contains("transfer-encoding: chunked") {
            body.ends_with(b"0\r\n\r\n")
        } else {
            true
        }
    };
    tokio::time::timeout(BOUND, async {
        while !complete(&data) {
            let n = stream.read(&mut buf).await.expect("read response");
            assert!(
                n > 0,
                "connection closed mid-response: {:?}",
                String::from_utf8_lossy(&data)
            );
            data.extend_from_slice(&buf[..n]);
        }
    })
    .await
    .expect("a complete response within the bound");
    String::from_utf8_lossy(&data).into_owned()
}

// ---------------------------------------------------------------------------------------------
// 1. Graceful shutdown with a slow request in flight.
// ---------------------------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn graceful_shutdown_drains_a_slow_request_and_refuses_new_connections() {
    let db = TestDb::new(Backend::Sqlite).await;
    let state = AppState::build(test_config(&db.url, &[]))
        .await
        .expect("app state");

    let started = Arc::new(Notify::new());
    let handler_done: Arc<Mutex<Option<Instant>>> = Arc::new(Mutex::new(None));
    let slow = {
        let started = started.clone();
        let handler_done = handler_done.clone();
        move || {
            let started = started.clone();
            let handler_done = handler_done.clone();
            async move {
                started.notify_one();
                tokio::time::sleep(Duration::from_millis(1500)).await;
                *handler_done.lock().expect("lock") = Some(Instant::now());
                "done"
            }
        }
    };
    let router = middleware::apply(Router::new().route("/slow/", get(slow)), &state);

    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("local addr");
    let (tx, rx) = oneshot::channel::<()>();
    // A grace period far longer than the request: `serve` must return because the connection
    // drained, not because the grace period ran out.
    let grace = Duration::from_secs(20);
    let server = tokio::spawn(async move {
        let result = serve(
            listener,
            router,
            Duration::from_secs(5),
            grace,
            async move {
                let _ = rx.await;
            },
            std::future::pending(),
        )
        .await;
        (result, Instant::now())
    });

    let client = http_client();
    let url = format!("http://{addr}/slow/");
    let request = tokio::spawn(async move {
        let response = client.get(url).send().await?;
        let status = response.status();
        let body = response.text().await?;
        Ok::<_, reqwest::Error>((status, body))
    });

    tokio::time::timeout(BOUND, started.notified())
        .await
        .expect("the slow handler starts");
    let shutdown_at = Instant::now();
    tx.send(()).expect("the server is still running");

    // The listener closes at once: new connections are refused while the slow request drains.
    let refuse_deadline = Instant::now() + Duration::from_secs(2);
    loop {
        match TcpStream::connect(addr).await {
            Err(e) if e.kind() == io::ErrorKind::ConnectionRefused => break,
            // A reset means it was queued on the listener just as it closed: try again.
            Err(e) if e.kind() != io::ErrorKind::ConnectionReset => {
                panic!("unexpected connect error after shutdown: {e}")
            }
            _ => {
                assert!(
                    Instant::now() < refuse_deadline,
                    "the listener still accepts connections 2 s after shutdown was triggered"
                );
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        }
    }

    let (status, body) = tokio::time::timeout(BOUND, request)
        .await
        .expect("the in-flight request completes")
        .expect("request task")
        .expect("the in-flight request succeeds (not cut off by the shutdown)");
    assert_eq!(status, 200);
    assert_eq!(body, "done");

    let (result, stopped_at) = tokio::time::timeout(BOUND, server)
        .await
        .expect("serve returns once the connection drained (well before the 20 s grace)")
        .expect("server task");
    result.expect("serve returns Ok");
    let handler_done = handler_done
        .lock()
        .expect("lock")
        .expect("the handler finished");
    assert!(
        stopped_at >= handler_done,
        "serve returned before the in-flight handler finished"
    );
    assert!(
        stopped_at.duration_since(shutdown_at) < grace / 2,
        "serve waited {:?}: it should return as soon as the last connection closed",
        stopped_at.duration_since(shutdown_at)
    );

    let after = TcpStream::connect(addr).await;
    assert!(
        matches!(&after, Err(e) if e.kind() == io::ErrorKind::ConnectionRefused),
        "a new connection after shutdown must be refused, got {after:?}"
    );
}

// ---------------------------------------------------------------------------------------------
// 2. The real binary.
// ---------------------------------------------------------------------------------------------

/// Kills (by pid) a spawned binary that is still running when the test ends.
struct ChildGuard(Child);

impl Drop for ChildGuard {
    fn drop(&mut self) {
        if let Ok(None) = self.0.try_wait() {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }
}

/// The binary with an empty environment, run inside `dir` (so no stray `.env` is read and relative
/// paths land in the temp dir), its output going to files there.
fn binary(dir: &Path, args: &[&str]) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_electioncart"));
    command
        .args(args)
        .env_clear()
        .current_dir(dir)
        .stdin(Stdio::null())
        .stdout(File::create(dir.join("stdout.log")).expect("stdout file"))
        .stderr(File::create(dir.join("stderr.log")).expect("stderr file"));
    command
}

fn log(dir: &Path, name: &str) -> String {
    let mut text = String::new();
    if let Ok(mut f) = File::open(dir.join(name)) {
        let _ = f.read_to_string(&mut text);
    }
    text
}

/// Waits (bounded) for a spawned process to exit.
fn wait_exit(child: &mut Child, bound: Duration) -> Option<ExitStatus> {
    let deadline = Instant::now() + bound;
    loop {
        if let Some(status) = child.try_wait().expect("try_wait") {
            return Some(status);
        }
        if Instant::now() >= deadline {
            return None;
        }
        std::thread::sleep(Duration::from_millis(25));
    }
}

/// Runs a one-shot subcommand to completion (at most 60 s) and returns (status, stdout, stderr).
fn run_binary(args: &[&str], env: &[(&str, &str)]) -> (ExitStatus, String, String) {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut command = binary(dir.path(), args);
    command.envs(env.iter().copied());
    let mut child = ChildGuard(command.spawn().expect("spawn the binary"));
    let status = wait_exit(&mut child.0, Duration::from_secs(60))
        .unwrap_or_else(|| panic!("`electioncart {}` did not exit in 60 s", args.join(" ")));
    (
        status,
        log(dir.path(), "stdout.log"),
        log(dir.path(), "stderr.log"),
    )
}

/// The real binary serving on a free loopback port with a SQLite file in its own temp dir.
pub(crate) struct ServerProcess {
    child: ChildGuard,
    pub(crate) port: u16,
    db_path: PathBuf,
    dir: tempfile::TempDir,
}

impl ServerProcess {
    /// Spawns `electioncart` (the default `serve` command) and waits (bounded) for `/health/` 200.
    pub(crate) async fn spawn(extra_env: &[(&str, &str)]) -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        let db_path = dir.path().join("nested").join("app.db");
        let port = free_port();
        let mut command = binary(dir.path(), &[]);
        command
            .env("DATABASE_URL", format!("sqlite://{}", db_path.display()))
            .env("PORT", port.to_string())
            .env("BIND_ADDR", "127.0.0.1")
            .env("DJANGO_SECRET_KEY", SECRET)
            .env("RUST_LOG", "warn")
            .envs(extra_env.iter().copied());
        let mut server = Self {
            child: ChildGuard(command.spawn().expect("spawn the binary")),
            port,
            db_path,
            dir,
        };

        let client = http_client();
        let health = format!("http://127.0.0.1:{port}/health/");
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if let Some(status) = server.child.0.try_wait().expect("try_wait") {
                panic!(
                    "the binary exited before becoming healthy ({status}); stderr:\n{}",
                    server.stderr()
                );
            }
            if let Ok(response) = client
                .get(&health)
                .timeout(Duration::from_secs(2))
                .send()
                .await
                && response.status() == 200
            {
                let body: serde_json::Value = response.json().await.expect("health JSON");
                assert_eq!(body["status"], "healthy", "{body}");
                assert_eq!(body["database"], "connected", "{body}");
                return server;
            }
            assert!(
                Instant::now() < deadline,
                "GET /health/ never returned 200 within 60 s; stderr:\n{}",
                server.stderr()
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    pub(crate) fn pid(&self) -> u32 {
        self.child.0.id()
    }

    pub(crate) fn stderr(&self) -> String {
        log(self.dir.path(), "stderr.log")
    }

    /// `kill -<signal> <pid>`: only the process this test started.
    fn signal(&self, signal: &str) {
        let pid = self.child.0.id().to_string();
        let status = Command::new("kill")
            .args([format!("-{signal}"), pid.clone()])
            .status()
            .expect("run kill");
        assert!(status.success(), "kill -{signal} {pid} failed");
    }

    async fn connect(&self) -> TcpStream {
        TcpStream::connect(("127.0.0.1", self.port))
            .await
            .expect("connect")
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn binary_serves_creates_sqlite_and_exits_zero_on_sigterm() {
    // Both far above the exit bound below: a prompt exit proves that the idle keep-alive
    // connection was closed at shutdown rather than timed out.
    let mut server = ServerProcess::spawn(&[
        ("SHUTDOWN_GRACE_SECONDS", "25"),
        ("HEADER_READ_TIMEOUT_SECONDS", "20"),
    ])
    .await;
    assert!(
        server.db_path.is_file(),
        "the SQLite file {} (and its directory) must be created on start",
        server.db_path.display()
    );

    // A keep-alive connection that completed one request and now sits idle.
    let mut idle = server.connect().await;
    idle.write_all(b"GET /health/live/ HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        .await
        .expect("write request");
    let response = read_one_response(&mut idle).await;
    assert!(response.starts_with("HTTP/1.1 200"), "{response}");

    server.signal("TERM");
    let signalled = Instant::now();
    let status = wait_exit(&mut server.child.0, BOUND).unwrap_or_else(|| {
        panic!(
            "the binary did not exit within {BOUND:?} of SIGTERM (idle keep-alive connection not \
             closed?); stderr:\n{}",
            server.stderr()
        )
    });
    eprintln!("exited {status} {:?} after SIGTERM", signalled.elapsed());
    assert!(
        status.success(),
        "exit status after SIGTERM: {status}; stderr:\n{}",
        server.stderr()
    );
    let mut buf = [0_u8; 64];
    let after = tokio::time::timeout(Duration::from_secs(1), idle.read(&mut buf)).await;
    assert!(
        matches!(after, Ok(Ok(0)) | Ok(Err(_))),
        "the idle keep-alive connection must be closed: {after:?}"
    );
    let refused = TcpStream::connect(("127.0.0.1", server.port)).await;
    assert!(refused.is_err(), "still accepting after exit");
}

/// The production log format from the real binary: every stdout line is one JSON object; the
/// access line carries the status, the route template and the request span's fields; and lines
/// queued for the writer thread are all flushed when the process exits on SIGTERM.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn binary_json_logs_are_one_object_per_line_and_flushed_at_exit() {
    let mut server = ServerProcess::spawn(&[("LOG_FORMAT", "json"), ("RUST_LOG", "info")]).await;
    let client = http_client();
    let base = format!("http://127.0.0.1:{}", server.port);
    for _ in 0..50 {
        let r = client
            .get(format!("{base}/api/packages/3/?token=secret-value"))
            .send()
            .await
            .expect("request");
        assert_eq!(r.status(), 404);
    }
    server.signal("TERM");
    let status = wait_exit(&mut server.child.0, BOUND).expect("exits after SIGTERM");
    assert!(status.success(), "{status}");

    let stdout = log(server.dir.path(), "stdout.log");
    let lines: Vec<serde_json::Value> = stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
        .collect();
    let access: Vec<&serde_json::Value> = lines
        .iter()
        .filter(|l| l["message"] == "response" && l["span"]["path"] == "/api/packages/3/")
        .collect();
    assert_eq!(
        access.len(),
        50,
        "every access line written before exit:\n{stdout}"
    );
    let line = access[0];
    assert_eq!(line["level"], "INFO");
    assert_eq!(line["status"], 404);
    assert_eq!(line["route"], "/api/packages/{id}/");
    assert_eq!(line["span"]["route"], "/api/packages/{id}/");
    assert_eq!(line["span"]["method"], "GET");
    assert_eq!(line["span"]["name"], "request");
    assert_eq!(line["span"]["query"], "token=[redacted]");
    assert!(
        line["span"]["request_id"]
            .as_str()
            .is_some_and(|id| id.len() == 33)
    );
    assert!(
        !stdout.contains("secret-value"),
        "the token never reaches the log"
    );
}

/// reliability.md E8: "a second SIGTERM or SIGINT forces exit". A connection that has sent half
/// its headers keeps the drain busy (until the 20 s header-read timeout); a second SIGTERM must
/// end the process at once instead of waiting for it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn binary_second_sigterm_forces_exit_during_the_drain() {
    let mut server = ServerProcess::spawn(&[
        ("SHUTDOWN_GRACE_SECONDS", "25"),
        ("HEADER_READ_TIMEOUT_SECONDS", "20"),
    ])
    .await;
    let mut half = server.connect().await;
    half.write_all(b"GET /health/ HTTP/1.1\r\nHost: 127.0.0.1\r\n")
        .await
        .expect("write half a request");
    tokio::time::sleep(Duration::from_millis(200)).await;

    server.signal("TERM");
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(
        server.child.0.try_wait().expect("try_wait").is_none(),
        "the drain should still be waiting for the half-sent request"
    );
    server.signal("TERM");
    let status = wait_exit(&mut server.child.0, BOUND);
    assert!(
        status.is_some(),
        "a second SIGTERM did not end the process within {BOUND:?}; stderr:\n{}",
        server.stderr()
    );
}

#[test]
fn binary_check_in_production_without_a_secret_fails_naming_it() {
    let (status, _, stderr) = run_binary(&["check"], &[("APP_ENV", "production")]);
    assert!(!status.success(), "check must fail: {status}\n{stderr}");
    assert!(stderr.contains("DJANGO_SECRET_KEY"), "stderr: {stderr}");
}

#[test]
fn binary_check_accepts_a_good_production_configuration() {
    let (status, stdout, stderr) = run_binary(
        &["check"],
        &[
            ("APP_ENV", "production"),
            ("DJANGO_SECRET_KEY", SECRET),
            ("ALLOWED_HOSTS", "api.example.com"),
            ("DATABASE_URL", "postgres://app@db.invalid/app"),
            ("CLIENT_IP_SOURCE", "x-real-ip"),
            ("CORS_ALLOWED_ORIGINS", "https://admin.example.com"),
            ("RAZORPAY_KEY_ID", "rzp_live_example"),
            ("RAZORPAY_KEY_SECRET", "razorpay-key-secret"),
            ("RAZORPAY_WEBHOOK_SECRET", "razorpay-webhook-secret"),
        ],
    );
    assert!(
        status.success(),
        "{status}\nstdout: {stdout}\nstderr: {stderr}"
    );
    assert!(stdout.contains("OK"), "stdout: {stdout}");
}

#[test]
fn binary_refuses_to_serve_the_fake_gateway_in_production() {
    let port = free_port().to_string();
    let (status, _, stderr) = run_binary(
        &["serve"],
        &[
            ("APP_ENV", "production"),
            ("DJANGO_SECRET_KEY", SECRET),
            ("PORT", &port),
            ("BIND_ADDR", "127.0.0.1"),
            ("LOG_FORMAT", "pretty"),
            ("RAZORPAY_MODE", "fake"),
        ],
    );
    assert!(!status.success(), "serve must refuse: {status}\n{stderr}");
    assert!(stderr.contains("RAZORPAY_MODE=fake"), "stderr: {stderr}");
}

#[test]
fn binary_refuses_to_serve_in_production_without_a_secret() {
    let port = free_port().to_string();
    let (status, _, stderr) = run_binary(
        &["serve"],
        &[
            ("APP_ENV", "production"),
            ("PORT", &port),
            ("BIND_ADDR", "127.0.0.1"),
            ("LOG_FORMAT", "pretty"),
        ],
    );
    assert!(!status.success(), "serve must refuse: {status}\n{stderr}");
    assert!(stderr.contains("DJANGO_SECRET_KEY"), "stderr: {stderr}");
}

#[test]
fn binary_openapi_prints_the_document() {
    let (status, stdout, stderr) = run_binary(&["openapi"], &[]);
    assert!(status.success(), "{status}\n{stderr}");
    let doc: serde_json::Value = serde_json::from_str(&stdout)
        .unwrap_or_else(|e| panic!("openapi output is not JSON ({e}): {stdout}"));
    assert!(
        doc["openapi"].as_str().is_some_and(|v| v.starts_with('3')),
        "{doc}"
    );
    assert!(doc["paths"]["/health/"].is_object(), "no /health/ path");
}

// ---------------------------------------------------------------------------------------------
// 3. The header-read timeout: trickled headers and idle connections are closed.
// ---------------------------------------------------------------------------------------------

/// Closure must happen because the 1 s timer fired, not because the server refuses everything.
const NOT_BEFORE: Duration = Duration::from_millis(500);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn trickled_headers_are_cut_off_by_the_header_read_timeout() {
    let db = TestDb::new(Backend::Sqlite).await;
    let app = RunningApp::start(&db.url, &[("HEADER_READ_TIMEOUT_SECONDS", "1")]).await;

    let stream = TcpStream::connect(app.addr).await.expect("connect");
    let since = Instant::now();
    let (mut read, mut write) = stream.into_split();
    write
        .write_all(b"GET /health/ HTTP/1.1\r\nHost: x\r\n")
        .await
        .expect("write request line");
    let trickler = tokio::spawn(async move {
        let mut sent = 0_usize;
        let header = b"X-Trickle: ".iter().chain(std::iter::repeat(&b'a'));
        for byte in header.take(100) {
            tokio::time::sleep(Duration::from_millis(300)).await;
            if write.write_all(&[*byte]).await.is_err() {
                break;
            }
            sent += 1;
        }
        sent
    });
    let closed_after = wait_closed(&mut read, since, "trickled headers").await;
    trickler.abort();
    assert!(
        closed_after >= NOT_BEFORE,
        "closed after {closed_after:?}, before the header-read timeout could fire"
    );
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_silent_connection_is_closed_by_the_header_read_timeout() {
    let db = TestDb::new(Backend::Sqlite).await;
    let app = RunningApp::start(&db.url, &[("HEADER_READ_TIMEOUT_SECONDS", "1")]).await;

    let mut stream = TcpStream::connect(app.addr).await.expect("connect");
    let since = Instant::now();
    let closed_after = wait_closed(&mut stream, since, "silent connection").await;
    assert!(closed_after >= NOT_BEFORE, "closed after {closed_after:?}");
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_idle_keep_alive_connection_is_closed_after_its_request() {
    let db = TestDb::new(Backend::Sqlite).await;
    let app = RunningApp::start(&db.url, &[("HEADER_READ_TIMEOUT_SECONDS", "1")]).await;

    let mut stream = TcpStream::connect(app.addr).await.expect("connect");
    stream
        .write_all(b"GET /health/live/ HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        .await
        .expect("write request");
    let response = read_one_response(&mut stream).await;
    assert!(response.starts_with("HTTP/1.1 200"), "{response}");
    assert!(
        !response.to_ascii_lowercase().contains("connection: close"),
        "the server should keep the connection alive after the request: {response}"
    );
    let since = Instant::now();
    let closed_after = wait_closed(&mut stream, since, "idle keep-alive connection").await;
    assert!(closed_after >= NOT_BEFORE, "closed after {closed_after:?}");
    app.stop().await;
}

// ---------------------------------------------------------------------------------------------
// 4. Static files over real HTTP: compression negotiation, ETag revalidation, hashed routes.
// ---------------------------------------------------------------------------------------------

fn error_css() -> Vec<u8> {
    std::fs::read(Path::new(env!("CARGO_MANIFEST_DIR")).join("assets/error.css"))
        .expect("assets/error.css")
}

fn decode(encoding: &str, body: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    match encoding {
        "br" => {
            brotli_decompressor::Decompressor::new(body, 4096)
                .read_to_end(&mut out)
                .expect("valid brotli");
        }
        "gzip" => {
            flate2::read::GzDecoder::new(body)
                .read_to_end(&mut out)
                .expect("valid gzip");
        }
        other => panic!("unexpected content-encoding {other:?}"),
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn static_files_negotiate_compression_and_revalidate_with_etags() {
    let db = TestDb::new(Backend::Sqlite).await;
    let app = RunningApp::start(&db.url, &[]).await;
    let client = http_client();
    let url = app.url("/static/error.css");
    let original = error_css();
    assert!(original.len() >= 128, "too small to be compressed");

    let plain = fetch(&client, &url, &[]).await;
    assert_eq!(plain.status, 200);
    assert!(
        plain
            .header("content-type")
            .is_some_and(|v| v.starts_with("text/css")),
        "{:?}",
        plain.headers
    );
    assert_eq!(plain.header("content-encoding"), None);
    assert_eq!(plain.body.as_ref(), original.as_slice());
    assert_security_headers(&plain);
    let etag = plain
        .header("etag")
        .expect("ETag on a static file")
        .to_string();

    for (accept, expected) in [
        ("br", Some("br")),
        ("gzip", Some("gzip")),
        ("gzip, br", None),
        ("br;q=1.0, gzip;q=0.5", Some("br")),
    ] {
        let response = fetch(&client, &url, &[("accept-encoding", accept)]).await;
        assert_eq!(response.status, 200, "Accept-Encoding: {accept}");
        let encoding = response
            .header("content-encoding")
            .unwrap_or_else(|| panic!("no content-encoding for Accept-Encoding: {accept}"))
            .to_string();
        if let Some(expected) = expected {
            assert_eq!(encoding, expected, "Accept-Encoding: {accept}");
        } else {
            assert!(encoding == "br" || encoding == "gzip", "{encoding}");
        }
        assert!(
            response.body.len() < original.len(),
            "{encoding} body is not smaller"
        );
        assert_eq!(
            decode(&encoding, &response.body),
            original,
            "decoded {encoding}"
        );
        assert!(
            response
                .header("vary")
                .is_some_and(|v| v.to_ascii_lowercase().contains("accept-encoding")),
            "Vary: Accept-Encoding missing: {:?}",
            response.headers
        );
        assert!(response.headers.contains_key("etag"), "no ETag ({accept})");
        assert_security_headers(&response);
    }

    for accept in ["", "br", "gzip"] {
        let mut headers = vec![("if-none-match", etag.as_str())];
        if !accept.is_empty() {
            headers.push(("accept-encoding", accept));
        }
        let not_modified = fetch(&client, &url, &headers).await;
        assert_eq!(
            not_modified.status, 304,
            "If-None-Match with the ETag (Accept-Encoding: {accept:?})"
        );
        assert!(not_modified.body.is_empty(), "a 304 has no body");
        assert_security_headers(&not_modified);
    }
    let stale = fetch(&client, &url, &[("if-none-match", "\"not-the-etag\"")]).await;
    assert_eq!(stale.status, 200, "a different ETag gets the full file");

    app.stop().await;
}

/// memory-serve's `CacheControl::Medium` and `CacheControl::Long`.
const MEDIUM: &str = "max-age=604800, stale-while-revalidate=86400";
const IMMUTABLE: &str = "max-age=31536000, immutable";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_404_page_links_a_hashed_stylesheet_route() {
    let db = TestDb::new(Backend::Sqlite).await;
    let app = RunningApp::start(&db.url, &[]).await;
    let client = http_client();

    let page = fetch(&client, &app.url("/no-such-page/"), &[]).await;
    assert_eq!(page.status, 404);
    let html = page.text();
    let href = html
        .split("href=\"")
        .skip(1)
        .filter_map(|rest| rest.split('"').next())
        .find(|href| href.starts_with("/static/error"))
        .unwrap_or_else(|| panic!("no stylesheet link in the 404 page: {html}"))
        .to_string();
    let hash = href
        .strip_prefix("/static/error.")
        .and_then(|rest| rest.strip_suffix(".css"))
        .unwrap_or_else(|| panic!("not a hashed route: {href}"));
    assert!(
        hash.len() == 16 && hash.chars().all(|c| c.is_ascii_hexdigit()),
        "not a content hash: {href}"
    );

    let hashed = fetch(&client, &app.url(&href), &[]).await;
    assert_eq!(hashed.status, 200, "{href}");
    assert_eq!(hashed.body.as_ref(), error_css().as_slice());
    assert_security_headers(&hashed);
    // build.rs embeds the assets in every build (`load_directory_with_embed(.., true)`), so the
    // hashed route is immutable for a year in debug builds too. (With memory-serve's default,
    // debug builds serve from disk and keep the regular cache-control on hashed routes.)
    let expected = IMMUTABLE;
    assert_eq!(
        hashed.header("cache-control"),
        Some(expected),
        "{href}: {:?}",
        hashed.headers
    );

    let plain = fetch(&client, &app.url("/static/error.css"), &[]).await;
    assert_eq!(plain.header("cache-control"), Some(MEDIUM));

    let compressed = fetch(&client, &app.url(&href), &[("accept-encoding", "br")]).await;
    assert_eq!(compressed.header("content-encoding"), Some("br"));

    app.stop().await;
}

/// Reliability E8 under load: 80 logins in flight (each an Argon2id verification, queued on the
/// hashing pool, so the last finish well after the signal), then SIGTERM. Every one of them
/// completes with 200, a new connection is refused, and the process exits 0.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_under_load_lets_every_in_flight_request_finish() {
    let mut server = ServerProcess::spawn(&[
        ("RATE_LIMIT_ENABLED", "false"),
        ("SHUTDOWN_GRACE_SECONDS", "30"),
    ])
    .await;
    let client = http_client();
    let base = format!("http://127.0.0.1:{}", server.port);
    let r = client
        .post(format!("{base}/api/auth/signup/"))
        .json(
            &serde_json::json!({"username": "drain-user", "password": "drain-pass-2026",
                                  "phone_number": ""}),
        )
        .send()
        .await
        .expect("signup");
    assert!(r.status().is_success(), "{:?}", r.text().await);
    let logins: Vec<_> = (0..80)
        .map(|_| {
            let client = client.clone();
            let url = format!("{base}/api/auth/login/");
            tokio::spawn(async move {
                client
                    .post(url)
                    .json(&serde_json::json!({"username": "drain-user",
                                              "password": "drain-pass-2026"}))
                    .timeout(Duration::from_secs(60))
                    .send()
                    .await
                    .map(|r| r.status().as_u16())
                    .map_err(|e| e.to_string())
            })
        })
        .collect();
    // Let every request reach the server before the signal; most are still queued for hashing.
    tokio::time::sleep(Duration::from_millis(150)).await;
    let done_before = logins.iter().filter(|l| l.is_finished()).count();
    server.signal("TERM");
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert!(
        TcpStream::connect(("127.0.0.1", server.port))
            .await
            .is_err(),
        "a new connection is refused once draining"
    );
    let mut statuses = Vec::new();
    for login in logins {
        statuses.push(login.await.expect("task"));
    }
    assert!(
        statuses.iter().all(|s| *s == Ok(200)),
        "every in-flight login finished normally: {statuses:?}"
    );
    eprintln!(
        "{} of 80 logins were in flight at SIGTERM",
        80 - done_before
    );
    assert!(done_before < 80, "some logins were in flight at the signal");
    let status = wait_exit(&mut server.child.0, Duration::from_secs(30));
    assert_eq!(
        status.and_then(|s| s.code()),
        Some(0),
        "exit after the drain; stderr:\n{}",
        server.stderr()
    );
}
