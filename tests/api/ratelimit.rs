//! Rate limits (D17): per client IP on login and signup, per account on login failures, shared by
//! instances, and still enforced when Redis is missing or dies.

use axum::http::StatusCode;
use electioncart::{AppState, auth::model::Role, build_router, ratelimit::Backend as LimitBackend};
use serde_json::json;

use crate::helpers::{
    Backend, TestApp, TestDb, TestResponse, backends, create_user, from_peer, json_request,
    random_ip, send, test_config,
};

fn login_request(username: &str, password: &str) -> axum::http::Request<axum::body::Body> {
    json_request(
        "POST",
        "/api/auth/login/",
        json!({"username": username, "password": password}),
    )
}

fn assert_limited(r: &TestResponse) {
    assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS, "{}", r.text());
    assert_eq!(
        r.json(),
        json!({"error": "Too many requests. Please try again later.", "detail": "Rate limit exceeded"})
    );
    let retry: u64 = r
        .header("retry-after")
        .expect("Retry-After")
        .parse()
        .expect("seconds");
    assert!((1..=3600).contains(&retry), "{retry}");
    assert!(r.header("ratelimit-limit").is_some());
    assert_eq!(r.header("ratelimit-remaining"), Some("0"));
    assert!(r.header("ratelimit-reset").is_some());
    crate::helpers::assert_security_headers(r);
}

#[tokio::test]
async fn sixth_login_from_one_socket_address_is_429() {
    for backend in backends() {
        let app = TestApp::new(backend).await;
        create_user(&app, "victim", "victim-pass-1", Role::User).await;
        let ip = random_ip();
        for i in 1..=5 {
            let r = app
                .request(from_peer(login_request("victim", "nope-nope-1"), &ip))
                .await;
            assert_eq!(
                r.status,
                StatusCode::UNAUTHORIZED,
                "{backend:?} attempt {i}"
            );
            assert_eq!(
                r.header("ratelimit-remaining"),
                None,
                "failures carry no budget headers"
            );
        }
        let sixth = app
            .request(from_peer(login_request("victim", "victim-pass-1"), &ip))
            .await;
        assert_limited(&sixth);
        assert!(
            sixth
                .header("retry-after")
                .is_some_and(|v| v.parse::<u64>().is_ok_and(|s| s <= 60))
        );
        // Another client is unaffected.
        let other = app
            .request(from_peer(
                login_request("victim", "victim-pass-1"),
                &random_ip(),
            ))
            .await;
        assert_eq!(other.status, StatusCode::OK);
        // Headers naming other addresses do not matter when the source is the socket.
        let mut spoofed = from_peer(login_request("victim", "victim-pass-1"), &ip);
        spoofed
            .headers_mut()
            .insert("x-real-ip", "198.51.100.1".parse().expect("h"));
        spoofed
            .headers_mut()
            .insert("x-forwarded-for", "198.51.100.2".parse().expect("h"));
        assert_limited(&app.request(spoofed).await);
    }
}

#[tokio::test]
async fn x_real_ip_source_ignores_forged_forwarded_for() {
    let app = TestApp::with_env(Backend::Sqlite, &[("CLIENT_IP_SOURCE", "x-real-ip")]).await;
    create_user(&app, "edge", "edge-pass-123", Role::User).await;
    let attacker = "203.0.113.50";
    let victim = "203.0.113.77";
    for i in 0..6 {
        let mut r = from_peer(login_request("edge", "bad-bad-bad-1"), "10.0.0.1");
        r.headers_mut()
            .insert("x-real-ip", attacker.parse().expect("h"));
        // A fresh forged leftmost hop on every attempt, naming the victim.
        r.headers_mut().insert(
            "x-forwarded-for",
            format!("{victim}, 192.0.2.{i}").parse().expect("h"),
        );
        let response = app.request(r).await;
        if i < 5 {
            assert_eq!(response.status, StatusCode::UNAUTHORIZED);
        } else {
            assert_limited(&response);
        }
    }
    // The victim named in the forged header is not locked out.
    let mut r = from_peer(login_request("edge", "edge-pass-123"), "10.0.0.1");
    r.headers_mut()
        .insert("x-real-ip", victim.parse().expect("h"));
    assert_eq!(app.request(r).await.status, StatusCode::OK);
}

#[tokio::test]
async fn rightmost_forwarded_for_source() {
    let app = TestApp::with_env(
        Backend::Sqlite,
        &[("CLIENT_IP_SOURCE", "rightmost-x-forwarded-for")],
    )
    .await;
    create_user(&app, "hop", "hop-pass-1234", Role::User).await;
    let attacker = "198.51.100.9";
    let victim = "198.51.100.10";
    for i in 0..6 {
        let mut r = from_peer(login_request("hop", "bad-bad-bad-1"), "10.0.0.1");
        // Our proxy appends the real address last; the attacker controls what comes before it.
        r.headers_mut().insert(
            "x-forwarded-for",
            format!("{victim}, 192.0.2.{i}, {attacker}")
                .parse()
                .expect("h"),
        );
        let response = app.request(r).await;
        if i < 5 {
            assert_eq!(response.status, StatusCode::UNAUTHORIZED);
        } else {
            assert_limited(&response);
        }
    }
    let mut r = from_peer(login_request("hop", "hop-pass-1234"), "10.0.0.1");
    r.headers_mut()
        .insert("x-forwarded-for", victim.parse().expect("h"));
    assert_eq!(app.request(r).await.status, StatusCode::OK);
}

#[tokio::test]
async fn fourth_signup_in_an_hour_is_429() {
    let app = TestApp::new(Backend::Sqlite).await;
    let ip = random_ip();
    for i in 0..3 {
        let r = app
            .request(from_peer(
                json_request(
                    "POST",
                    "/api/auth/signup/",
                    json!({"username": format!("new{i}"), "password": "signup-pass-99", "phone_number": ""}),
                ),
                &ip,
            ))
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
        assert_eq!(r.header("ratelimit-limit"), Some("3"));
    }
    let r = app
        .request(from_peer(
            json_request(
                "POST",
                "/api/auth/signup/",
                json!({"username": "new4", "password": "signup-pass-99"}),
            ),
            &ip,
        ))
        .await;
    assert_limited(&r);
    assert!(
        r.header("retry-after")
            .is_some_and(|v| v.parse::<u64>().is_ok_and(|s| s > 60))
    );
}

#[tokio::test]
async fn account_failures_lock_the_account_across_addresses() {
    let app = TestApp::new(Backend::Sqlite).await;
    create_user(&app, "target", "target-pass-1", Role::User).await;
    for _ in 0..10 {
        let r = app
            .request(from_peer(
                login_request("target", "guess-guess-1"),
                &random_ip(),
            ))
            .await;
        assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    }
    // Even the right password from a new address is refused while the account is cooling off.
    let r = app
        .request(from_peer(
            login_request("target", "target-pass-1"),
            &random_ip(),
        ))
        .await;
    assert_limited(&r);
    // Unknown usernames are treated the same way (no enumeration).
    for _ in 0..10 {
        app.request(from_peer(
            login_request("ghost", "guess-guess-1"),
            &random_ip(),
        ))
        .await;
    }
    assert_limited(
        &app.request(from_peer(
            login_request("ghost", "guess-guess-1"),
            &random_ip(),
        ))
        .await,
    );
    // Another account is unaffected.
    create_user(&app, "bystander", "bystander-pass", Role::User).await;
    assert_eq!(
        app.request(from_peer(
            login_request("bystander", "bystander-pass"),
            &random_ip()
        ))
        .await
        .status,
        StatusCode::OK
    );
}

#[tokio::test]
async fn success_resets_the_account_failure_count() {
    let app = TestApp::new(Backend::Sqlite).await;
    create_user(&app, "forgetful", "forgetful-pass", Role::User).await;
    for _ in 0..9 {
        app.request(from_peer(
            login_request("forgetful", "wrong-wrong-1"),
            &random_ip(),
        ))
        .await;
    }
    assert_eq!(
        app.request(from_peer(
            login_request("forgetful", "forgetful-pass"),
            &random_ip()
        ))
        .await
        .status,
        StatusCode::OK
    );
    for _ in 0..9 {
        let r = app
            .request(from_peer(
                login_request("forgetful", "wrong-wrong-1"),
                &random_ip(),
            ))
            .await;
        assert_eq!(
            r.status,
            StatusCode::UNAUTHORIZED,
            "the count started again"
        );
    }
}

/// Two app instances on one database share the budget (the SQL backend).
#[tokio::test]
async fn two_instances_share_the_database_budget() {
    for backend in backends() {
        let db = TestDb::new(backend).await;
        let a = AppState::build(test_config(&db.url, &[])).await.expect("a");
        let b = AppState::build(test_config(&db.url, &[])).await.expect("b");
        let (ra, rb) = (build_router(a.clone()), build_router(b.clone()));
        let ip = random_ip();
        for i in 0..6 {
            let router = if i % 2 == 0 { &ra } else { &rb };
            let r = send(
                router,
                from_peer(login_request("nobody", "whatever-123"), &ip),
            )
            .await;
            if i < 5 {
                assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{backend:?} {i}");
            } else {
                assert_limited(&r);
            }
        }
        assert_eq!(a.limiter.backend(), LimitBackend::Database);
        a.db.close().await;
        b.db.close().await;
    }
}

/// Two instances sharing Redis share the budget; requires TEST_REDIS_URL.
#[tokio::test]
async fn two_instances_share_the_redis_budget() {
    let Ok(redis_url) = std::env::var("TEST_REDIS_URL") else {
        return;
    };
    let db_a = TestDb::new(Backend::Sqlite).await;
    let db_b = TestDb::new(Backend::Sqlite).await;
    let prefix = format!("ec-test-{}:", uuid::Uuid::new_v4().simple());
    let vars = [
        ("REDIS_URL", redis_url.as_str()),
        ("REDIS_KEY_PREFIX", prefix.as_str()),
    ];
    let a = AppState::build(test_config(&db_a.url, &vars))
        .await
        .expect("a");
    let b = AppState::build(test_config(&db_b.url, &vars))
        .await
        .expect("b");
    let (ra, rb) = (build_router(a.clone()), build_router(b.clone()));
    let ip = random_ip();
    for i in 0..6 {
        let router = if i % 2 == 0 { &ra } else { &rb };
        let r = send(
            router,
            from_peer(login_request("nobody", "whatever-123"), &ip),
        )
        .await;
        if i < 5 {
            assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{i}");
        } else {
            assert_limited(&r);
        }
    }
    assert_eq!(
        a.limiter.backend(),
        LimitBackend::Redis,
        "separate databases: only Redis can share"
    );
}

#[tokio::test]
async fn redis_unreachable_at_boot_falls_back_to_the_database() {
    // Nothing listens on port 1.
    let app = TestApp::with_env(Backend::Sqlite, &[("REDIS_URL", "redis://127.0.0.1:1")]).await;
    let ip = random_ip();
    let started = std::time::Instant::now();
    for i in 0..6 {
        let r = app
            .request(from_peer(login_request("nobody", "whatever-123"), &ip))
            .await;
        if i < 5 {
            assert_eq!(r.status, StatusCode::UNAUTHORIZED);
        } else {
            assert_limited(&r);
        }
    }
    assert_eq!(app.state.limiter.backend(), LimitBackend::Database);
    assert!(
        started.elapsed() < std::time::Duration::from_secs(15),
        "bounded by the timeouts"
    );
}

/// A private Redis on a random port (never the machine's shared one), killed with the guard.
struct OwnRedis {
    child: std::process::Child,
    port: u16,
}

impl OwnRedis {
    fn start(port: u16) -> Self {
        let binary = which_redis();
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
        OwnRedis { child, port }
    }

    fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for OwnRedis {
    fn drop(&mut self) {
        self.kill();
    }
}

fn which_redis() -> String {
    crate::helpers::redis_server_binary()
        .expect("redis-server is not installed: the Redis fault test needs it (CI installs it)")
        .to_string()
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .expect("bind")
        .local_addr()
        .expect("addr")
        .port()
}

#[tokio::test]
async fn redis_killed_mid_run_keeps_limiting_and_comes_back() {
    if !crate::helpers::redis_fault_test_can_run() {
        return;
    }
    let port = free_port();
    let mut redis = OwnRedis::start(port);
    let url = format!("redis://127.0.0.1:{}", redis.port);
    let app = TestApp::with_env(Backend::Sqlite, &[("REDIS_URL", url.as_str())]).await;
    let ip = random_ip();
    for _ in 0..3 {
        let r = app
            .request(from_peer(login_request("nobody", "whatever-123"), &ip))
            .await;
        assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    }
    assert_eq!(app.state.limiter.backend(), LimitBackend::Redis);

    redis.kill();
    let mut limited = false;
    for _ in 0..8 {
        let started = std::time::Instant::now();
        let r = app
            .request(from_peer(login_request("nobody", "whatever-123"), &ip))
            .await;
        assert!(
            r.status.as_u16() < 500,
            "no 5xx while Redis is down: {}",
            r.status
        );
        assert!(
            started.elapsed() < std::time::Duration::from_secs(3),
            "bounded by the timeouts"
        );
        if r.status == StatusCode::TOO_MANY_REQUESTS {
            limited = true;
            break;
        }
    }
    assert!(limited, "still limited with Redis gone");
    assert_eq!(app.state.limiter.backend(), LimitBackend::Database);

    // Restarted: Redis is used again within seconds.
    let _redis = OwnRedis::start(port);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        app.request(from_peer(
            login_request("nobody", "whatever-123"),
            &random_ip(),
        ))
        .await;
        if app.state.limiter.backend() == LimitBackend::Redis {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "Redis not used again after restart"
        );
        tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    }
}
