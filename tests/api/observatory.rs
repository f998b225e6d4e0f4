//! An Observatory-style header score (issue 14 item 5, D22): every kind of response the API gives —
//! JSON, an error, the HTML 404 page, a static file, a CORS answer, a redirect — scored with the
//! MDN HTTP Observatory's rules (baseline 100; CSP, HSTS, X-Frame-Options, X-Content-Type-Options,
//! Referrer-Policy, CORS and redirection modifiers; bonuses only when the rest reaches 90) must
//! reach A+ (≥ 100) and lose nothing on any test.

use axum::{
    body::Body,
    http::{HeaderMap, Request, StatusCode},
};

use crate::helpers::{Backend, TestApp, TestResponse};

/// `(score, tests that lost points)` of one response, as the Observatory scores a site.
fn score(headers: &HeaderMap) -> (i32, Vec<String>) {
    let get = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_ascii_lowercase)
    };
    let mut penalties: Vec<(String, i32)> = Vec::new();
    let mut bonus = 0;

    // Content Security Policy.
    match get("content-security-policy") {
        None => penalties.push(("csp-not-implemented".into(), -25)),
        Some(csp) => {
            let directive = |name: &str| {
                csp.split(';')
                    .map(str::trim)
                    .find(|d| d.split_whitespace().next() == Some(name))
                    .map(|d| d.split_whitespace().skip(1).collect::<Vec<_>>())
            };
            let all: Vec<&str> = csp.split_whitespace().collect();
            if all.contains(&"'unsafe-inline'") {
                penalties.push(("csp-implemented-with-unsafe-inline".into(), -20));
            } else if all.contains(&"'unsafe-eval'") {
                penalties.push(("csp-implemented-with-unsafe-eval".into(), -10));
            } else if all.iter().any(|s| s.starts_with("http:")) {
                penalties.push(("csp-implemented-with-insecure-scheme".into(), -20));
            } else if directive("default-src") == Some(vec!["'none'"]) {
                bonus += 10;
            }
            // Frames: `frame-ancestors` is the modern X-Frame-Options (+5).
            if directive("frame-ancestors").is_some() {
                bonus += 5;
            }
        }
    }
    // X-Frame-Options, when CSP does not cover it.
    if !get("content-security-policy").is_some_and(|c| c.contains("frame-ancestors")) {
        match get("x-frame-options").as_deref() {
            Some("deny" | "sameorigin") => {}
            Some(_) => penalties.push(("x-frame-options-header-invalid".into(), -20)),
            None => penalties.push(("x-frame-options-not-implemented".into(), -20)),
        }
    }
    // HSTS (over HTTPS only; the preload list is not consulted, so no +5 here).
    match get("strict-transport-security") {
        None => penalties.push(("hsts-not-implemented".into(), -20)),
        Some(hsts) => {
            let max_age = hsts
                .split(';')
                .find_map(|p| p.trim().strip_prefix("max-age="))
                .and_then(|v| v.trim().parse::<u64>().ok());
            match max_age {
                None => penalties.push(("hsts-header-invalid".into(), -20)),
                Some(age) if age < 15_768_000 => {
                    penalties.push(("hsts-implemented-max-age-less-than-six-months".into(), -10))
                }
                Some(_) => {}
            }
        }
    }
    // X-Content-Type-Options.
    match get("x-content-type-options").as_deref() {
        Some("nosniff") => {}
        Some(_) => penalties.push(("x-content-type-options-header-invalid".into(), -5)),
        None => penalties.push(("x-content-type-options-not-implemented".into(), -5)),
    }
    // Referrer-Policy: a private policy earns +5; an unsafe one costs 5.
    match get("referrer-policy").as_deref() {
        Some(
            "no-referrer" | "same-origin" | "strict-origin" | "strict-origin-when-cross-origin",
        ) => bonus += 5,
        Some("unsafe-url" | "origin" | "origin-when-cross-origin") => {
            penalties.push(("referrer-policy-unsafe".into(), -5))
        }
        _ => {}
    }
    // CORS: any origin with credentials is "universal access".
    if get("access-control-allow-origin").as_deref() == Some("*")
        && get("access-control-allow-credentials").as_deref() == Some("true")
    {
        penalties.push((
            "cross-origin-resource-sharing-implemented-with-universal-access".into(),
            -50,
        ));
    }
    // Cookies: the API sets none; a cookie without Secure/HttpOnly would lose points.
    if let Some(cookie) = get("set-cookie")
        && !(cookie.contains("secure") && cookie.contains("httponly"))
    {
        penalties.push(("cookies-without-secure-flag".into(), -20));
    }

    let base: i32 = 100 + penalties.iter().map(|(_, p)| p).sum::<i32>();
    let total = if base >= 90 { base + bonus } else { base };
    (total, penalties.into_iter().map(|(t, _)| t).collect())
}

async fn over_https(
    app: &TestApp,
    method: &str,
    path: &str,
    extra: &[(&str, &str)],
) -> TestResponse {
    let mut request = Request::builder()
        .method(method)
        .uri(path)
        .header("x-forwarded-proto", "https")
        .header("host", "localhost");
    for (k, v) in extra {
        request = request.header(*k, *v);
    }
    app.request(request.body(Body::empty()).expect("request"))
        .await
}

/// `(method, path, extra request headers)`.
type Case<'a> = (&'a str, &'a str, Vec<(&'a str, &'a str)>);

#[tokio::test]
async fn every_kind_of_response_scores_a_plus() {
    let app = TestApp::new(Backend::Sqlite).await;
    let origin = ("origin", "http://localhost:5173");
    let cases: Vec<Case> = vec![
        ("GET", "/api/packages/", vec![]),
        ("GET", "/health/", vec![]),
        ("GET", "/api/auth/me/", vec![]),
        ("GET", "/api/no-such-route/", vec![]),
        ("GET", "/no-such-page", vec![]),
        ("GET", "/static/robots.txt", vec![]),
        ("GET", "/api/packages/", vec![origin]),
        (
            "OPTIONS",
            "/api/orders/create/",
            vec![origin, ("access-control-request-method", "POST")],
        ),
        (
            "GET",
            "/api/packages/",
            vec![("origin", "https://evil.example")],
        ),
        (
            "POST",
            "/api/auth/login/",
            vec![("content-type", "application/json")],
        ),
    ];
    for (method, path, extra) in &cases {
        let r = over_https(&app, method, path, extra).await;
        let (total, lost) = score(&r.headers);
        assert!(
            total >= 100 && lost.is_empty(),
            "{method} {path} {extra:?} ({}): score {total}, lost on {lost:?}; headers {:?}",
            r.status,
            r.headers
        );
        assert!(!r.headers.contains_key("server") && !r.headers.contains_key("x-powered-by"));
    }
    // The score of a plain response: 100 + 10 (CSP default-src 'none') + 5 (frame-ancestors) + 5
    // (a private referrer policy).
    let r = over_https(&app, "GET", "/api/packages/", &[]).await;
    assert_eq!(score(&r.headers), (120, Vec::new()));
    // CORS never answers an unknown origin.
    let r = over_https(
        &app,
        "GET",
        "/api/packages/",
        &[("origin", "https://evil.example")],
    )
    .await;
    assert!(!r.headers.contains_key("access-control-allow-origin"));
}

#[tokio::test]
async fn plain_http_is_redirected_to_https_when_configured() {
    // The Observatory's redirection test: the first answer over HTTP moves to HTTPS on the same host.
    let app = TestApp::with_env(Backend::Sqlite, &[("HTTPS_REDIRECT", "true")]).await;
    let r = app
        .request(
            Request::get("/api/packages/?page=1")
                .header("host", "localhost")
                .body(Body::empty())
                .expect("request"),
        )
        .await;
    assert_eq!(r.status, StatusCode::MOVED_PERMANENTLY);
    assert_eq!(
        r.header("location"),
        Some("https://localhost/api/packages/?page=1")
    );
    // The scorer catches a weak set: no CSP, no HSTS, a wildcard with credentials.
    let mut weak = HeaderMap::new();
    weak.insert("access-control-allow-origin", "*".parse().expect("value"));
    weak.insert(
        "access-control-allow-credentials",
        "true".parse().expect("value"),
    );
    let (total, lost) = score(&weak);
    assert!(total < 50, "{total} {lost:?}");
}
