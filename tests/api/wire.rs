//! The header set and CORS answers as a client sees them on a real socket, for a matrix of requests
//! (API and page paths, success and every error family, preflights, allowed and refused origins,
//! HTTPS, compression, redirects, production host checks). Compared with a stored snapshot: a change
//! to the middleware stack must not change a single header a client reads. Values that differ per
//! run (date, request id, body length of the health report, static-file validators) are redacted,
//! but their presence is kept.

use std::fmt::Write as _;

use reqwest::Method;

use crate::{
    blackbox::RunningApp,
    helpers::{Backend, TestDb},
};

/// One request of the matrix: method, path, request headers.
type Case = (
    Method,
    &'static str,
    &'static [(&'static str, &'static str)],
);

const ALLOWED: &str = "http://localhost:5173";
const EVIL: &str = "https://evil.example";

fn dev_cases() -> Vec<Case> {
    vec![
        (Method::GET, "/health/", &[]),
        (Method::GET, "/health/", &[("origin", ALLOWED)]),
        (Method::GET, "/health/", &[("origin", EVIL)]),
        (
            Method::OPTIONS,
            "/api/auth/login/",
            &[
                ("origin", ALLOWED),
                ("access-control-request-method", "POST"),
                (
                    "access-control-request-headers",
                    "authorization,content-type",
                ),
            ],
        ),
        (
            Method::OPTIONS,
            "/api/auth/login/",
            &[("origin", EVIL), ("access-control-request-method", "POST")],
        ),
        (Method::GET, "/", &[]),
        (Method::GET, "/", &[("x-forwarded-proto", "https")]),
        (Method::GET, "/api/packages/", &[("origin", ALLOWED)]),
        (
            Method::GET,
            "/api/packages/",
            &[("accept-encoding", "gzip"), ("origin", ALLOWED)],
        ),
        (Method::GET, "/api/packages/999/", &[]),
        (Method::GET, "/api/auth/me/", &[("origin", ALLOWED)]),
        (Method::GET, "/api/nope/", &[]),
        (Method::GET, "/nope", &[]),
        (Method::DELETE, "/health/", &[("origin", ALLOWED)]),
        (
            Method::POST,
            "/api/auth/login/",
            &[("content-type", "application/json"), ("origin", ALLOWED)],
        ),
        (Method::GET, "/static/robots.txt", &[]),
        (Method::GET, "/static/error.css", &[("origin", ALLOWED)]),
    ]
}

fn production_cases() -> Vec<Case> {
    vec![
        (
            Method::GET,
            "/api/packages/?page=2",
            &[("host", "api.example.com"), ("x-forwarded-proto", "http")],
        ),
        (
            Method::POST,
            "/api/auth/login/",
            &[("host", "api.example.com"), ("x-forwarded-proto", "http")],
        ),
        (
            Method::GET,
            "/api/packages/",
            &[("host", "api.example.com"), ("x-forwarded-proto", "https")],
        ),
        (
            Method::GET,
            "/api/packages/",
            &[("host", "evil.example"), ("x-forwarded-proto", "https")],
        ),
        (Method::GET, "/health/", &[("host", "evil.example")]),
    ]
}

/// Header values that change from run to run.
fn redacted(name: &str, value: &str, path: &str) -> String {
    match name {
        "date" | "x-request-id" | "etag" | "last-modified" => "<redacted>".into(),
        "content-length" if path.starts_with("/health") => "<redacted>".into(),
        _ => value.to_string(),
    }
}

async fn transcript(app: &RunningApp, cases: &[Case]) -> String {
    // Redirects are part of what is compared, so they are not followed.
    electioncart::crypto::install_tls_provider();
    let client = reqwest::Client::builder()
        .no_proxy()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(std::time::Duration::from_secs(10))
        .build()
        .expect("reqwest client");
    let mut out = String::new();
    for (method, path, headers) in cases {
        let mut request = client.request(method.clone(), app.url(path));
        for (name, value) in *headers {
            request = request.header(*name, *value);
        }
        if *method == Method::POST {
            request = request.body("{not json");
        }
        let response = request.send().await.expect("request");
        let shown: Vec<String> = headers.iter().map(|(n, v)| format!("{n}: {v}")).collect();
        let _ = writeln!(out, "{method} {path} [{}]", shown.join("; "));
        let _ = writeln!(out, "  {}", response.status().as_u16());
        let mut lines: Vec<(String, String)> = response
            .headers()
            .iter()
            .map(|(name, value)| {
                let value = value.to_str().unwrap_or("<binary>");
                (
                    name.as_str().to_string(),
                    redacted(name.as_str(), value, path),
                )
            })
            .collect();
        // Sorted by name; several values of one name keep their order.
        lines.sort_by(|a, b| a.0.cmp(&b.0));
        for (name, value) in lines {
            let _ = writeln!(out, "  {name}: {value}");
        }
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn headers_and_cors_on_the_wire_are_unchanged() {
    let db = TestDb::new(Backend::Sqlite).await;
    let app = RunningApp::start(
        &db.url,
        &[(
            "CORS_ALLOWED_ORIGINS",
            "http://localhost:5173,http://localhost:3000",
        )],
    )
    .await;
    let dev = transcript(&app, &dev_cases()).await;
    app.stop().await;
    insta::assert_snapshot!("wire_headers_development", dev);

    let db = TestDb::new(Backend::Sqlite).await;
    let app = RunningApp::start(
        &db.url,
        &[
            ("APP_ENV", "production"),
            ("ALLOWED_HOSTS", "api.example.com"),
            ("HTTPS_REDIRECT", "true"),
            ("CORS_ALLOWED_ORIGINS", "https://admin.example.com"),
        ],
    )
    .await;
    let production = transcript(&app, &production_cases()).await;
    app.stop().await;
    insta::assert_snapshot!("wire_headers_production", production);
}
