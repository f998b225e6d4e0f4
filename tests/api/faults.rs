//! Fault tests (reliability.md §3(e), §4.2) on a **private** PostgreSQL started by the test on a
//! random loopback port, never the machine's shared server. The private server is stopped (by its
//! own `pg_ctl`, i.e. its postmaster pid) when the test ends, whatever happens.
//!
//! The PostgreSQL server binaries are required in CI and whenever `TEST_DATABASE_URL`/`TEST_REDIS_URL`
//! is set: without them these tests fail. On a fresh machine with only Rust (none of those set) they
//! report that they skipped; `SKIP_PG_FAULT_TESTS=1` skips them explicitly.

use std::{
    fs::File,
    io::Read as _,
    path::{Path, PathBuf},
    process::{Command, Stdio},
    sync::Arc,
    time::{Duration, Instant},
};

use electioncart::db::Db;
use tokio::sync::Barrier;

use crate::blackbox::{RunningApp, fetch, free_port, http_client};

const SKIP_VAR: &str = "SKIP_PG_FAULT_TESTS";

/// A directory holding `initdb`, `pg_ctl` and `postgres`.
fn pg_bindir() -> Option<PathBuf> {
    let has_server = |dir: &Path| {
        ["initdb", "pg_ctl", "postgres"]
            .iter()
            .all(|tool| dir.join(tool).is_file())
    };
    if let Ok(out) = Command::new("pg_config").arg("--bindir").output()
        && out.status.success()
    {
        let dir = PathBuf::from(String::from_utf8_lossy(&out.stdout).trim());
        if has_server(&dir) {
            return Some(dir);
        }
    }
    // Debian keeps the server outside PATH: /usr/lib/postgresql/<major>/bin. Newest first.
    let mut found: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .filter_map(Result::ok)
        .filter_map(|entry| {
            let major = entry.file_name().to_string_lossy().parse::<u32>().ok()?;
            let bin = entry.path().join("bin");
            has_server(&bin).then_some((major, bin))
        })
        .collect();
    found.sort();
    found.pop().map(|(_, bin)| bin)
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|out| String::from_utf8_lossy(&out.stdout).trim() == "0")
}

/// A private PostgreSQL cluster in a temp dir: trust auth, 127.0.0.1 only, its unix socket in the
/// temp dir. initdb refuses to run as root, so as root every tool runs as the `postgres` OS user.
pub(crate) struct PgServer {
    bindir: PathBuf,
    data: PathBuf,
    pub port: u16,
    as_postgres: bool,
    // Last: removed after `Drop::drop` has stopped the server.
    dir: tempfile::TempDir,
}

impl PgServer {
    /// Starts a private server, or returns `None` (after saying so) when the binaries are missing
    /// and `SKIP_PG_FAULT_TESTS=1`. Missing binaries without that variable fail the test.
    pub fn start_or_skip() -> Option<Self> {
        match pg_bindir() {
            Some(bindir) => Some(Self::start(bindir)),
            None if std::env::var(SKIP_VAR).is_ok_and(|v| v.trim() == "1") => {
                eprintln!("SKIPPED: PostgreSQL server binaries not found and {SKIP_VAR}=1 is set");
                None
            }
            None if !crate::helpers::fault_binaries_required() => {
                eprintln!(
                    "SKIPPED: PostgreSQL server binaries not found (required when CI or TEST_* is set)"
                );
                None
            }
            None => panic!(
                "PostgreSQL server binaries (initdb, pg_ctl, postgres) were not found via \
                 `pg_config --bindir` or /usr/lib/postgresql/*/bin. The fault tests start their own \
                 PostgreSQL: install the server (Debian: `apt-get install postgresql`), or set \
                 {SKIP_VAR}=1 to skip them explicitly."
            ),
        }
    }

    fn start(bindir: PathBuf) -> Self {
        let dir = tempfile::Builder::new()
            .prefix("ec-private-pg-")
            .tempdir()
            .expect("temp dir");
        let as_postgres = is_root();
        if as_postgres {
            let status = Command::new("chown")
                .args(["-R", "postgres:postgres"])
                .arg(dir.path())
                .status()
                .expect("run chown");
            assert!(
                status.success(),
                "chown -R postgres {}",
                dir.path().display()
            );
        }
        let server = Self {
            bindir,
            data: dir.path().join("data"),
            port: free_port(),
            as_postgres,
            dir,
        };
        let data = server.data.display().to_string();
        server.run(
            "initdb",
            &[
                "-D",
                &data,
                "-A",
                "trust",
                "-U",
                "postgres",
                "-E",
                "UTF8",
                "--locale=C",
                "--no-sync",
            ],
        );
        server.start_server();
        server
    }

    fn run(&self, tool: &str, args: &[&str]) {
        let out_path = self.dir.path().join(format!("{tool}.out"));
        let out = File::create(&out_path).expect("tool output file");
        let err = out.try_clone().expect("clone file");
        let mut command = if self.as_postgres {
            let mut c = Command::new("runuser");
            c.args(["-u", "postgres", "--"]).arg(self.bindir.join(tool));
            c
        } else {
            Command::new(self.bindir.join(tool))
        };
        let status = command
            .args(args)
            .current_dir(self.dir.path())
            .stdin(Stdio::null())
            .stdout(out)
            .stderr(err)
            .status()
            .unwrap_or_else(|e| panic!("cannot run {tool}: {e}"));
        if !status.success() {
            let mut text = String::new();
            let _ = File::open(&out_path).and_then(|mut f| f.read_to_string(&mut text));
            let mut server_log = String::new();
            let _ = File::open(self.dir.path().join("server.log"))
                .and_then(|mut f| f.read_to_string(&mut server_log));
            panic!("{tool} {args:?} failed ({status}):\n{text}\nserver log:\n{server_log}");
        }
    }

    /// Starts (or restarts) the server on its port and waits until it accepts connections.
    pub fn start_server(&self) {
        let data = self.data.display().to_string();
        let log = self.dir.path().join("server.log").display().to_string();
        let options = format!(
            "-p {} -k {} -c listen_addresses=127.0.0.1 -c fsync=off",
            self.port,
            self.dir.path().display()
        );
        self.run(
            "pg_ctl",
            &[
                "-D", &data, "-l", &log, "-o", &options, "-w", "-t", "60", "start",
            ],
        );
    }

    /// `pg_ctl stop -m immediate`: the postmaster and its backends go away at once, without a
    /// checkpoint (what a crash looks like to clients).
    pub fn stop_immediate(&self) {
        let data = self.data.display().to_string();
        self.run(
            "pg_ctl",
            &["-D", &data, "-m", "immediate", "-w", "-t", "30", "stop"],
        );
    }

    pub fn url(&self, database: &str) -> String {
        format!("postgres://postgres@127.0.0.1:{}/{database}", self.port)
    }

    /// The postmaster and every process it started (backends, checkpointer, …).
    fn processes(&self) -> Vec<String> {
        let mut pid = String::new();
        let _ = File::open(self.data.join("postmaster.pid"))
            .and_then(|mut f| f.read_to_string(&mut pid));
        let postmaster = pid.lines().next().unwrap_or("").trim().to_string();
        assert!(!postmaster.is_empty(), "no postmaster.pid");
        let children = Command::new("pgrep")
            .args(["-P", &postmaster])
            .output()
            .expect("run pgrep");
        let mut all = vec![postmaster];
        all.extend(
            String::from_utf8_lossy(&children.stdout)
                .lines()
                .map(|l| l.trim().to_string())
                .filter(|l| !l.is_empty()),
        );
        all
    }

    fn signal_all(&self, signal: &str) {
        for pid in self.processes() {
            let _ = Command::new("kill").args([signal, &pid]).status();
        }
    }

    /// E6: `kill -STOP` on the postmaster and its backends — a database that accepts nothing and
    /// answers nothing.
    pub fn pause(&self) {
        self.signal_all("-STOP");
    }

    pub fn resume(&self) {
        self.signal_all("-CONT");
    }
}

impl Drop for PgServer {
    fn drop(&mut self) {
        if self.data.join("postmaster.pid").exists() {
            let data = self.data.display().to_string();
            let mut command = if self.as_postgres {
                let mut c = Command::new("runuser");
                c.args(["-u", "postgres", "--"])
                    .arg(self.bindir.join("pg_ctl"));
                c
            } else {
                Command::new(self.bindir.join("pg_ctl"))
            };
            let _ = command
                .args(["-D", &data, "-m", "immediate", "-w", "-t", "30", "stop"])
                .current_dir(self.dir.path())
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status();
        }
    }
}

/// The 503 body must have the contract's keys, no memory figures, and nothing about where the
/// database lives.
#[track_caller]
fn assert_unhealthy_body(body: &serde_json::Value, raw: &str, port: u16) {
    let object = body
        .as_object()
        .unwrap_or_else(|| panic!("not an object: {raw}"));
    assert_eq!(body["status"], "unhealthy", "{raw}");
    assert_eq!(body["service"], "election-cart-api", "{raw}");
    assert_eq!(body["database"], "disconnected", "{raw}");
    assert!(body["timestamp"].is_string(), "timestamp: {raw}");
    let error = body["error"]
        .as_str()
        .unwrap_or_else(|| panic!("error must be a string: {raw}"));
    assert!(!error.is_empty(), "{raw}");
    for key in ["memory_mb", "memory_warning"] {
        assert!(
            !object.contains_key(key),
            "{key} in an unhealthy body: {raw}"
        );
    }
    for key in object.keys() {
        assert!(
            [
                "status",
                "service",
                "database",
                "error",
                "timestamp",
                "cache"
            ]
            .contains(&key.as_str()),
            "unexpected key {key:?}: {raw}"
        );
    }
    let lower = error.to_ascii_lowercase();
    for leak in ["postgres", "127.0.0.1", "localhost", &port.to_string()] {
        assert!(!lower.contains(leak), "error text leaks {leak:?}: {error}");
    }
    let raw_lower = raw.to_ascii_lowercase();
    for leak in ["postgres", "127.0.0.1", "sqlx"] {
        assert!(!raw_lower.contains(leak), "body leaks {leak:?}: {raw}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn health_detects_a_killed_postgres_and_recovers_without_a_restart() {
    let Some(pg) = PgServer::start_or_skip() else {
        return;
    };
    let app = RunningApp::start(&pg.url("postgres"), &[]).await;
    let client = http_client();
    let health = app.url("/health/");

    let healthy = fetch(&client, &health, &[]).await;
    assert_eq!(healthy.status, 200, "{}", healthy.text());
    assert_eq!(healthy.json()["database"], "connected");

    // E5: the database dies. Every health check answers 503 quickly and says nothing revealing.
    pg.stop_immediate();
    for attempt in 1..=5 {
        let started = Instant::now();
        let response = fetch(&client, &health, &[]).await;
        let took = started.elapsed();
        let raw = response.text();
        assert_eq!(response.status, 503, "attempt {attempt}: {raw}");
        assert!(
            took < Duration::from_secs(2),
            "attempt {attempt}: /health/ took {took:?} with the database down"
        );
        assert!(
            response
                .header("content-type")
                .is_some_and(|v| v.starts_with("application/json")),
            "{:?}",
            response.headers
        );
        assert_unhealthy_body(&response.json(), &raw, pg.port);
    }

    // The database comes back on the same port: healthy again within 10 s, same process.
    pg.start_server();
    let restarted = Instant::now();
    loop {
        let last = match client
            .get(&health)
            .timeout(Duration::from_secs(3))
            .send()
            .await
        {
            Ok(response) if response.status() == 200 => break,
            Ok(response) => response.status().to_string(),
            Err(e) => e.to_string(),
        };
        assert!(
            restarted.elapsed() < Duration::from_secs(10),
            "/health/ not 200 within 10 s of PostgreSQL restarting (last: {last})"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    eprintln!("healthy again {:?} after the restart", restarted.elapsed());
    for attempt in 1..=5 {
        let response = fetch(&client, &health, &[]).await;
        assert_eq!(
            response.status,
            200,
            "attempt {attempt} after recovery: {}",
            response.text()
        );
    }

    app.stop().await;
}

fn postgres_migration_count() -> i64 {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("migrations/postgres");
    let count = std::fs::read_dir(&dir)
        .expect("migrations/postgres")
        .filter_map(Result::ok)
        .filter(|e| e.file_name().to_string_lossy().ends_with(".sql"))
        .count();
    assert!(count > 0, "no migrations in {}", dir.display());
    i64::try_from(count).expect("count")
}

fn pg_pool(db: &Db) -> &sqlx::PgPool {
    match db {
        Db::Postgres(pool) => pool,
        Db::Sqlite(_) => panic!("expected a PostgreSQL pool"),
    }
}

/// (rows, distinct versions, successful rows, latest installed_on) of `_sqlx_migrations`.
async fn migration_rows(db: &Db) -> (i64, i64, i64, Option<String>) {
    sqlx::query_as(
        "SELECT COUNT(*), COUNT(DISTINCT version), COUNT(*) FILTER (WHERE success), \
         MAX(installed_on)::text FROM _sqlx_migrations",
    )
    .fetch_one(pg_pool(db))
    .await
    .expect("read _sqlx_migrations")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_migrations_apply_each_migration_exactly_once() {
    let Some(pg) = PgServer::start_or_skip() else {
        return;
    };
    let expected = postgres_migration_count();
    let admin = Db::connect_url(&pg.url("postgres"), 1, Duration::from_secs(10))
        .await
        .expect("connect to the private server");

    // A few fresh databases, to give a race a few chances to show.
    for round in 0..3 {
        let name = format!("ec_migrate_race_{round}");
        sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
            .execute(pg_pool(&admin))
            .await
            .expect("create database");
        let url = pg.url(&name);
        let (a, b) = tokio::join!(
            Db::connect_url(&url, 2, Duration::from_secs(10)),
            Db::connect_url(&url, 2, Duration::from_secs(10)),
        );
        let (a, b) = (a.expect("connect a"), b.expect("connect b"));

        let barrier = Arc::new(Barrier::new(2));
        let instances = [a.clone(), b.clone()].map(|db| {
            let barrier = barrier.clone();
            tokio::spawn(async move {
                barrier.wait().await;
                db.migrate().await
            })
        });
        for (i, task) in instances.into_iter().enumerate() {
            tokio::time::timeout(Duration::from_secs(60), task)
                .await
                .expect("migrate finishes")
                .expect("migrate task")
                .unwrap_or_else(|e| panic!("round {round}: concurrent migrate {i} failed: {e}"));
        }

        let (rows, versions, successes, installed) = migration_rows(&a).await;
        assert_eq!(rows, expected, "round {round}: one row per migration file");
        assert_eq!(versions, expected, "round {round}: each version once");
        assert_eq!(successes, expected, "round {round}: all successful");

        b.migrate().await.expect("a later migrate is a no-op");
        assert_eq!(
            migration_rows(&a).await,
            (rows, versions, successes, installed),
            "round {round}: a second migrate must apply nothing"
        );
        a.close().await;
        b.close().await;
    }
    admin.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hung_postgres_fails_requests_within_bounds_and_recovers() {
    let Some(pg) = PgServer::start_or_skip() else {
        return;
    };
    let app = RunningApp::start(
        &pg.url("postgres"),
        &[
            ("CACHE_ENABLED", "false"),
            ("REQUEST_TIMEOUT_SECONDS", "2"),
            ("DB_ACQUIRE_TIMEOUT_SECONDS", "1"),
        ],
    )
    .await;
    let client = http_client();
    let packages = app.url("/api/packages/");
    assert_eq!(fetch(&client, &packages, &[]).await.status, 200);

    // E6: hung, not dead. Health says so within its timeout; every other request fails within the
    // request (or pool) timeout with a JSON 408/503, never a 500, never a hang.
    pg.pause();
    let started = Instant::now();
    let health = fetch(&client, &app.url("/health/"), &[]).await;
    assert_eq!(health.status, 503, "{}", health.text());
    assert!(
        started.elapsed() < Duration::from_millis(2500),
        "{:?}",
        started.elapsed()
    );
    let mut failures = Vec::new();
    for path in [
        "/api/packages/",
        "/api/campaigns/",
        "/api/packages/popular/",
    ] {
        let started = Instant::now();
        let r = fetch(&client, &app.url(path), &[]).await;
        let took = started.elapsed();
        assert!(
            [408, 503].contains(&r.status.as_u16()),
            "{path}: {} {}",
            r.status,
            r.text()
        );
        assert!(
            r.header("content-type")
                .is_some_and(|v| v.starts_with("application/json")),
            "{path}: {:?}",
            r.headers
        );
        assert!(took < Duration::from_secs(4), "{path} took {took:?}");
        assert!(!r.text().contains("sqlx") && !r.text().contains("postgres"));
        failures.push((path, r.status.as_u16(), took));
    }
    eprintln!("with PostgreSQL hung: {failures:?}");

    // -CONT: answers again within 10 s, same process.
    pg.resume();
    let resumed = Instant::now();
    loop {
        if fetch(&client, &packages, &[]).await.status == 200 {
            break;
        }
        assert!(
            resumed.elapsed() < Duration::from_secs(10),
            "not 200 within 10 s of PostgreSQL resuming"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    eprintln!("answering again {:?} after -CONT", resumed.elapsed());
    app.stop().await;
}
