//! `/health/`, `/health/live`, `/health/ready` (contract-A §2.12 + an additive `cache` object).

use axum::{
    body::Body,
    http::{Request, StatusCode},
};

use crate::helpers::{TestApp, assert_security_headers, backends};

fn assert_utc_timestamp(value: &serde_json::Value) {
    let ts = value.as_str().expect("timestamp is a string");
    // 2026-11-25T12:33:57.441585+00:00
    assert_eq!(ts.len(), 32, "{ts}");
    assert!(ts.ends_with("+00:00"), "{ts}");
    assert_eq!(&ts[10..11], "T", "{ts}");
    assert_eq!(&ts[19..20], ".", "{ts}");
    assert!(ts[20..26].chars().all(|c| c.is_ascii_digit()), "{ts}");
}

#[tokio::test]
async fn healthy_shape_on_every_backend() {
    for backend in backends() {
        // The test process (many apps, hashing pools) can itself pass the default 400 MB.
        let app = TestApp::with_env(backend, &[("MEMORY_WARNING_MB", "1000000")]).await;
        for path in ["/health/", "/health"] {
            let r = app.get(path).await;
            assert_eq!(r.status, StatusCode::OK, "{backend:?} {path}");
            assert_eq!(r.header("content-type"), Some("application/json"));
            assert_security_headers(&r);
            let body = r.json();
            let mut keys: Vec<&str> = body
                .as_object()
                .expect("object")
                .keys()
                .map(String::as_str)
                .collect();
            keys.sort_unstable();
            assert_eq!(
                keys,
                [
                    "cache",
                    "database",
                    "memory_mb",
                    "memory_warning",
                    "service",
                    "status",
                    "timestamp"
                ]
            );
            let raw = r.text();
            assert!(
                raw.starts_with("{\"status\":\"healthy\",\"service\""),
                "field order as the original: {raw}"
            );
            assert_eq!(body["status"], "healthy");
            assert_eq!(body["service"], "election-cart-api");
            assert_eq!(body["database"], "connected");
            let mb = body["memory_mb"].as_f64().expect("memory_mb is a number");
            assert!(mb > 0.0 && mb < 4096.0, "{mb}");
            assert_eq!((mb * 100.0).round() / 100.0, mb, "two decimals");
            assert_eq!(body["memory_warning"], false);
            assert_utc_timestamp(&body["timestamp"]);
            let cache = &body["cache"];
            for key in [
                "enabled",
                "tier",
                "redis_connected",
                "hits",
                "misses",
                "errors",
                "entries",
                "ttl_seconds",
            ] {
                assert!(cache.get(key).is_some(), "cache.{key} missing: {cache}");
            }
        }
    }
}

#[tokio::test]
async fn memory_warning_follows_the_threshold() {
    let app = crate::helpers::TestApp::with_env(
        crate::helpers::Backend::Sqlite,
        &[("MEMORY_WARNING_MB", "1")],
    )
    .await;
    let body = app.get("/health/").await.json();
    assert_eq!(body["memory_warning"], true);
}

#[tokio::test]
async fn head_is_answered_without_a_body() {
    let app = TestApp::new(crate::helpers::Backend::Sqlite).await;
    let r = app
        .request(
            Request::head("/health/")
                .body(Body::empty())
                .expect("request"),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(r.body.is_empty());
}

#[tokio::test]
async fn unhealthy_shape_when_the_database_is_gone() {
    for backend in backends() {
        let app = TestApp::new(backend).await;
        app.state.db.close().await;
        let started = std::time::Instant::now();
        let r = app.get("/health/").await;
        assert!(started.elapsed() < std::time::Duration::from_secs(2));
        assert_eq!(r.status, StatusCode::SERVICE_UNAVAILABLE, "{backend:?}");
        assert_security_headers(&r);
        let body = r.json();
        assert_eq!(body["status"], "unhealthy");
        assert_eq!(body["service"], "election-cart-api");
        assert_eq!(body["database"], "disconnected");
        assert!(body["error"].is_string());
        assert!(body.get("memory_mb").is_none(), "no memory fields: {body}");
        assert_utc_timestamp(&body["timestamp"]);
        let error = body["error"].as_str().expect("error").to_lowercase();
        for leak in ["sqlite", "postgres", "pool", "127.0.0.1", ".db", "closed"] {
            assert!(!error.contains(leak), "error text leaks {leak:?}: {error}");
        }

        let ready = app.get("/health/ready").await;
        assert_eq!(ready.status, StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(ready.json()["database"], "disconnected");
        // Liveness never depends on the database.
        let live = app.get("/health/live/").await;
        assert_eq!(live.status, StatusCode::OK);
        assert_eq!(live.json()["status"], "alive");
    }
}

#[tokio::test]
async fn live_and_ready() {
    for backend in backends() {
        let app = TestApp::new(backend).await;
        for path in ["/health/live", "/health/live/"] {
            let r = app.get(path).await;
            assert_eq!(r.status, StatusCode::OK, "{path}");
            assert_eq!(r.json()["status"], "alive");
        }
        for path in ["/health/ready", "/health/ready/"] {
            let r = app.get(path).await;
            assert_eq!(r.status, StatusCode::OK, "{path}");
            assert_eq!(r.json()["status"], "ready");
        }
    }
}
