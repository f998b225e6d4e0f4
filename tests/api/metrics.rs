//! `/metrics` (issue 14 item 3): per-route counters that match the requests made, latency
//! histograms, rate-limit refusals and scrape-time gauges; reachable only with the bearer token on
//! the main port, or on the `METRICS_ADDR` listener.

use axum::{
    body::Body,
    http::{Request, StatusCode},
};
use electioncart::auth::model::Role;

use crate::{
    blackbox::{RunningApp, fetch, free_port, http_client},
    catalog,
    helpers::{
        Backend, TestApp, TestDb, authed, backends, create_user, from_peer, json_request, token_for,
    },
};

const TOKEN: &str = "metrics-token-0123456789abcdef0123456789";

/// The value of the sample line that starts with `series` (exactly, up to the value).
fn sample(text: &str, series: &str) -> Option<f64> {
    text.lines()
        .find_map(|l| l.strip_prefix(series)?.strip_prefix(' ')?.parse().ok())
}

async fn scrape(app: &TestApp) -> String {
    let r = app
        .request(authed(
            Request::get("/metrics")
                .body(Body::empty())
                .expect("request"),
            TOKEN,
        ))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert!(
        r.header("content-type")
            .is_some_and(|c| c.starts_with("text/plain; version=0.0.4"))
    );
    r.text()
}

#[tokio::test]
async fn per_route_counters_match_the_requests_made() {
    for backend in backends() {
        let app = TestApp::with_env(backend, &[("METRICS_TOKEN", TOKEN)]).await;
        let admin = catalog::admin(&app).await;
        let p = crate::cart::package(&app, &admin, "Metric Pack", "100.00").await;
        for _ in 0..3 {
            assert_eq!(app.get("/api/packages/").await.status, StatusCode::OK);
        }
        for path in [format!("/api/packages/{p}/"), format!("/api/packages/{p}")] {
            assert_eq!(app.get(&path).await.status, StatusCode::OK);
        }
        assert_eq!(
            app.get("/api/packages/999999/").await.status,
            StatusCode::NOT_FOUND
        );
        for path in ["/no/such/page", "/wp-login.php", "/.env"] {
            assert_eq!(app.get(path).await.status, StatusCode::NOT_FOUND);
        }
        // Six logins from one address: the sixth is refused (5 per minute per IP).
        let user = create_user(&app, "metrics-user", "metrics-pass-2026", Role::User).await;
        for _ in 0..6 {
            app.request(from_peer(
                json_request(
                    "POST",
                    "/api/auth/login/",
                    serde_json::json!({"username": user.username, "password": "wrong-password"}),
                ),
                "10.9.9.9",
            ))
            .await;
        }

        let text = scrape(&app).await;
        let count = |route: &str, status: u16| {
            sample(
                &text,
                &format!(
                    "electioncart_http_requests_total{{method=\"GET\",route=\"{route}\",status=\"{status}\"}}"
                ),
            )
        };
        assert_eq!(count("/api/packages/", 200), Some(3.0), "{text}");
        assert_eq!(count("/api/packages/{id}/", 200), Some(2.0), "{text}");
        assert_eq!(count("/api/packages/{id}/", 404), Some(1.0), "{text}");
        assert_eq!(
            count("unmatched", 404),
            Some(3.0),
            "no raw path becomes a series: {text}"
        );
        assert!(!text.contains("wp-login"), "{text}");
        assert_eq!(
            sample(
                &text,
                "electioncart_http_requests_total{method=\"POST\",route=\"/api/auth/login/\",status=\"429\"}"
            ),
            Some(1.0),
            "{text}"
        );
        assert_eq!(
            sample(
                &text,
                "electioncart_rate_limit_rejections_total{rule=\"login-ip\"}"
            ),
            Some(1.0),
            "{text}"
        );
        assert_eq!(
            sample(
                &text,
                "electioncart_http_request_duration_seconds_count{method=\"GET\",route=\"/api/packages/\"}"
            ),
            Some(3.0),
            "{text}"
        );
        assert_eq!(
            sample(
                &text,
                "electioncart_http_request_duration_seconds_bucket{method=\"GET\",route=\"/api/packages/\",le=\"+Inf\"}"
            ),
            Some(3.0),
            "{text}"
        );
        assert!(text.contains("# TYPE electioncart_http_request_duration_seconds histogram"));
        assert!(text.contains("electioncart_cache_tier{tier=\""), "{text}");
        assert!(text.contains("electioncart_cache_misses_total "), "{text}");
        assert!(
            text.contains("electioncart_db_pool_connections{pool=\""),
            "{text}"
        );
        assert!(
            text.contains("electioncart_blocking_pool_queued{pool=\"hasher\"} 0"),
            "{text}"
        );
        assert_eq!(
            sample(&text, "electioncart_sse_clients"),
            Some(0.0),
            "{text}"
        );

        // The token: none or another → 401; the scrape itself is counted too.
        let r = app.get("/metrics").await;
        assert_eq!(r.status, StatusCode::UNAUTHORIZED);
        assert_eq!(r.header("www-authenticate"), Some("Bearer"));
        let r = app
            .request(authed(
                Request::get("/metrics/")
                    .body(Body::empty())
                    .expect("request"),
                "not-the-token",
            ))
            .await;
        assert_eq!(r.status, StatusCode::UNAUTHORIZED);
        let admin_token = token_for(
            &app,
            &create_user(&app, "metrics-admin", "admin-pass-2026!", Role::Admin).await,
        );
        let r = app
            .request(authed(
                Request::get("/metrics")
                    .body(Body::empty())
                    .expect("request"),
                &admin_token,
            ))
            .await;
        assert_eq!(
            r.status,
            StatusCode::UNAUTHORIZED,
            "an admin's JWT is not the metrics token"
        );
        let text = scrape(&app).await;
        assert_eq!(
            sample(
                &text,
                "electioncart_http_requests_total{method=\"GET\",route=\"/metrics/\",status=\"401\"}"
            ),
            Some(3.0),
            "{text}"
        );
        app.state.db.close().await;
    }
}

#[tokio::test]
async fn without_configuration_there_is_no_metrics_page() {
    let app = TestApp::new(Backend::Sqlite).await;
    assert!(app.state.metrics.is_none(), "nothing is recorded");
    let r = app
        .request(authed(
            Request::get("/metrics")
                .body(Body::empty())
                .expect("request"),
            TOKEN,
        ))
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn the_metrics_listener_serves_the_private_network() {
    let db = TestDb::new(Backend::Sqlite).await;
    let port = free_port();
    let addr = format!("127.0.0.1:{port}");
    let server = RunningApp::start(&db.url, &[("METRICS_ADDR", addr.as_str())]).await;
    let client = http_client();
    for _ in 0..2 {
        let r = fetch(&client, &server.url("/health/"), &[]).await;
        assert_eq!(r.status, StatusCode::OK);
    }
    // Not on the public port (no token configured), only on the listener.
    let r = fetch(&client, &server.url("/metrics"), &[]).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    let r = fetch(&client, &format!("http://{addr}/metrics"), &[]).await;
    assert_eq!(r.status, StatusCode::OK);
    let text = r.text();
    assert_eq!(
        sample(
            &text,
            "electioncart_http_requests_total{method=\"GET\",route=\"/health/\",status=\"200\"}"
        ),
        Some(2.0),
        "{text}"
    );
    let r = fetch(&client, &format!("http://{addr}/other"), &[]).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    server.stop().await;
    assert!(
        tokio::net::TcpStream::connect(&addr).await.is_err(),
        "the metrics listener closes with the server"
    );
}
