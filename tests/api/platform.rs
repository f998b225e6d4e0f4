//! Routing, error shapes, headers, CORS, redirects and static files through the real router.

use std::time::Duration;

use axum::{
    Router,
    body::Body,
    http::{Request, StatusCode},
    routing::get,
};
use electioncart::AppState;

use crate::helpers::{Backend, TestApp, TestDb, assert_security_headers, send, test_config};

async fn sqlite_app(vars: &[(&str, &str)]) -> TestApp {
    TestApp::with_env(Backend::Sqlite, vars).await
}

/// The production middleware stack around test-only routes (a panic, a slow handler).
async fn stacked(vars: &[(&str, &str)]) -> (Router, TestDb) {
    let db = TestDb::new(Backend::Sqlite).await;
    let state = AppState::build(test_config(&db.url, vars))
        .await
        .expect("state");
    let routes = Router::new()
        .route(
            "/api/boom/",
            get(|| async {
                if true {
                    panic!("secret internal detail /etc/passwd");
                }
                "unreachable"
            }),
        )
        .route(
            "/boom/",
            get(|| async {
                if true {
                    panic!("secret internal detail");
                }
                "unreachable"
            }),
        )
        .route(
            "/api/slow/",
            get(|| async {
                tokio::time::sleep(Duration::from_secs(3)).await;
                "late"
            }),
        );
    (electioncart::middleware::apply(routes, &state), db)
}

#[tokio::test]
async fn root_answers_json() {
    let app = sqlite_app(&[]).await;
    let r = app.get("/").await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.json()["service"], "election-cart-api");
    assert_security_headers(&r);
}

#[tokio::test]
async fn unknown_api_route_is_json_404() {
    let app = sqlite_app(&[]).await;
    for path in ["/api/nothing/here/", "/api/nothing", "/api/"] {
        let r = app.get(path).await;
        assert_eq!(r.status, StatusCode::NOT_FOUND, "{path}");
        assert_eq!(r.header("content-type"), Some("application/json"));
        assert_eq!(r.json(), serde_json::json!({"detail": "Not found."}));
        assert_security_headers(&r);
    }
}

#[tokio::test]
async fn unknown_page_is_the_html_404() {
    let app = sqlite_app(&[]).await;
    for path in ["/nope", "/admin/", "/static/missing.css"] {
        let r = app.get(path).await;
        assert_eq!(r.status, StatusCode::NOT_FOUND, "{path}");
        assert!(
            r.header("content-type")
                .is_some_and(|ct| ct.starts_with("text/html")),
            "{path}: {:?}",
            r.headers
        );
        assert!(r.text().contains("404 - Page Not Found"), "{path}");
        assert!(r.text().contains("Go to Homepage"));
        assert_security_headers(&r);
    }
}

#[tokio::test]
async fn method_not_allowed_is_json_with_allow() {
    let app = sqlite_app(&[]).await;
    for path in ["/health/", "/health"] {
        let r = app
            .request(Request::post(path).body(Body::empty()).expect("request"))
            .await;
        assert_eq!(
            r.status,
            StatusCode::METHOD_NOT_ALLOWED,
            "{path}: never a redirect"
        );
        assert_eq!(
            r.json(),
            serde_json::json!({"detail": "Method \"POST\" not allowed."})
        );
        assert!(r.header("allow").is_some_and(|a| a.contains("GET")));
        assert_security_headers(&r);
    }
    let r = app
        .request(
            Request::delete("/api/openapi.json")
                .body(Body::empty())
                .expect("request"),
        )
        .await;
    assert_eq!(r.json()["detail"], "Method \"DELETE\" not allowed.");
}

#[tokio::test]
async fn trailing_slash_forms_are_the_same_resource() {
    let app = sqlite_app(&[]).await;
    for (a, b) in [
        ("/health/live", "/health/live/"),
        ("/health/ready", "/health/ready/"),
    ] {
        let (ra, rb) = (app.get(a).await, app.get(b).await);
        assert_eq!(ra.status, StatusCode::OK);
        assert_eq!(ra.status, rb.status);
        assert_eq!(ra.json(), rb.json());
        assert!(ra.header("location").is_none(), "no redirect");
    }
    // Query strings survive the normalisation.
    let r = app.get("/health/live?x=1").await;
    assert_eq!(r.status, StatusCode::OK);
}

#[tokio::test]
async fn panics_become_generic_500s_without_internals() {
    let (router, _db) = stacked(&[]).await;
    let r = send(
        &router,
        Request::get("/api/boom/")
            .header("x-request-id", "req-123")
            .body(Body::empty())
            .expect("request"),
    )
    .await;
    assert_eq!(r.status, StatusCode::INTERNAL_SERVER_ERROR);
    assert_security_headers(&r);
    let body = r.json();
    assert_eq!(body["request_id"], "req-123");
    assert!(body["detail"].is_string());
    assert!(!r.text().contains("secret"), "{}", r.text());
    assert!(!r.text().contains("/etc/passwd"));

    let r = send(
        &router,
        Request::get("/boom/")
            .header("x-request-id", "<script>x</script>")
            .body(Body::empty())
            .expect("request"),
    )
    .await;
    assert_eq!(r.status, StatusCode::INTERNAL_SERVER_ERROR);
    assert!(
        r.header("content-type")
            .is_some_and(|ct| ct.starts_with("text/html"))
    );
    assert!(r.text().contains("500 - Server Error"));
    assert!(!r.text().contains("<script>"), "request id is sanitised");
    assert!(!r.text().contains("secret"));
    assert_security_headers(&r);
}

#[tokio::test]
async fn slow_handlers_time_out_with_a_json_body() {
    let (router, _db) = stacked(&[("REQUEST_TIMEOUT_SECONDS", "1")]).await;
    let r = send(
        &router,
        Request::get("/api/slow/")
            .body(Body::empty())
            .expect("request"),
    )
    .await;
    assert_eq!(r.status, StatusCode::REQUEST_TIMEOUT);
    assert_eq!(
        r.json(),
        serde_json::json!({"detail": "Request timed out."})
    );
    assert_security_headers(&r);
}

#[tokio::test]
async fn oversized_bodies_get_413_json() {
    let app = sqlite_app(&[("BODY_LIMIT_BYTES", "16")]).await;
    let r = app
        .request(
            Request::post("/api/anything/")
                .header("content-type", "application/json")
                .header("content-length", "64")
                .body(Body::from(vec![b' '; 64]))
                .expect("request"),
        )
        .await;
    assert_eq!(r.status, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(r.json()["detail"], "Request body is too large.");
    assert_security_headers(&r);
}

#[tokio::test]
async fn hsts_only_on_https_requests() {
    let app = sqlite_app(&[]).await;
    let plain = app.get("/health/").await;
    assert!(plain.header("strict-transport-security").is_none());
    let https = app
        .request(
            Request::get("/health/")
                .header("x-forwarded-proto", "https")
                .body(Body::empty())
                .expect("request"),
        )
        .await;
    assert_eq!(
        https.header("strict-transport-security"),
        Some("max-age=31536000; includeSubDomains; preload")
    );
    // Also on an error kind.
    let https_404 = app
        .request(
            Request::get("/nope")
                .header("x-forwarded-proto", "https")
                .body(Body::empty())
                .expect("request"),
        )
        .await;
    assert!(https_404.header("strict-transport-security").is_some());

    let untrusting = sqlite_app(&[("TRUST_FORWARDED_PROTO", "false")]).await;
    let r = untrusting
        .request(
            Request::get("/health/")
                .header("x-forwarded-proto", "https")
                .body(Body::empty())
                .expect("request"),
        )
        .await;
    assert!(r.header("strict-transport-security").is_none());
}

#[tokio::test]
async fn cors_allows_listed_origins_only() {
    let app = sqlite_app(&[]).await;
    let allowed = app
        .request(
            Request::get("/health/")
                .header("origin", "http://localhost:5173")
                .body(Body::empty())
                .expect("request"),
        )
        .await;
    assert_eq!(
        allowed.header("access-control-allow-origin"),
        Some("http://localhost:5173")
    );
    assert_eq!(
        allowed.header("access-control-allow-credentials"),
        Some("true")
    );
    assert!(
        allowed
            .header("access-control-expose-headers")
            .is_some_and(|h| h.to_ascii_lowercase().contains("content-disposition"))
    );

    let denied = app
        .request(
            Request::get("/health/")
                .header("origin", "https://evil.example")
                .body(Body::empty())
                .expect("request"),
        )
        .await;
    assert_eq!(
        denied.status,
        StatusCode::OK,
        "the request itself is processed"
    );
    assert!(denied.header("access-control-allow-origin").is_none());

    let null_origin = app
        .request(
            Request::get("/health/")
                .header("origin", "null")
                .body(Body::empty())
                .expect("request"),
        )
        .await;
    assert!(null_origin.header("access-control-allow-origin").is_none());
}

#[tokio::test]
async fn preflight_is_200_empty_with_the_header_set() {
    let app = sqlite_app(&[]).await;
    let r = app
        .request(
            Request::options("/api/auth/login/")
                .header("origin", "http://localhost:3000")
                .header("access-control-request-method", "POST")
                .header(
                    "access-control-request-headers",
                    "authorization,content-type",
                )
                .body(Body::empty())
                .expect("request"),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(r.body.is_empty());
    assert_eq!(
        r.header("access-control-allow-origin"),
        Some("http://localhost:3000")
    );
    let methods = r.header("access-control-allow-methods").expect("methods");
    for m in ["DELETE", "GET", "OPTIONS", "PATCH", "POST", "PUT"] {
        assert!(methods.contains(m), "{methods}");
    }
    let headers = r.header("access-control-allow-headers").expect("headers");
    assert!(headers.contains("authorization") && headers.contains("content-type"));
    assert_eq!(r.header("access-control-max-age"), Some("86400"));
    assert_security_headers(&r);
}

#[tokio::test]
async fn https_redirect_when_enabled_but_never_for_health() {
    let app = sqlite_app(&[("HTTPS_REDIRECT", "true")]).await;
    let r = app
        .request(
            Request::get("/api/packages/?page=2")
                .header("host", "api.example.com")
                .header("x-forwarded-proto", "http")
                .body(Body::empty())
                .expect("request"),
        )
        .await;
    assert_eq!(r.status, StatusCode::MOVED_PERMANENTLY);
    assert_eq!(
        r.header("location"),
        Some("https://api.example.com/api/packages/?page=2")
    );
    assert_security_headers(&r);

    let post = app
        .request(
            Request::post("/api/auth/login/")
                .header("host", "api.example.com")
                .body(Body::empty())
                .expect("request"),
        )
        .await;
    assert_eq!(
        post.status,
        StatusCode::PERMANENT_REDIRECT,
        "keeps the method"
    );

    let health = app
        .request(
            Request::get("/health/")
                .header("host", "api.example.com")
                .body(Body::empty())
                .expect("request"),
        )
        .await;
    assert_eq!(health.status, StatusCode::OK);

    let https = app
        .request(
            Request::get("/")
                .header("host", "api.example.com")
                .header("x-forwarded-proto", "https")
                .body(Body::empty())
                .expect("request"),
        )
        .await;
    assert_eq!(https.status, StatusCode::OK);
}

#[tokio::test]
async fn production_rejects_unknown_hosts_but_not_health_checks() {
    let app = sqlite_app(&[
        ("APP_ENV", "production"),
        ("ALLOWED_HOSTS", "api.example.com,.up.railway.app"),
    ])
    .await;
    let get = |host: &'static str, path: &'static str| {
        Request::get(path)
            .header("host", host)
            .body(Body::empty())
            .expect("request")
    };
    assert_eq!(
        app.request(get("api.example.com", "/")).await.status,
        StatusCode::OK
    );
    assert_eq!(
        app.request(get("x.up.railway.app:443", "/")).await.status,
        StatusCode::OK
    );
    let evil = app.request(get("evil.example", "/api/x/")).await;
    assert_eq!(evil.status, StatusCode::BAD_REQUEST);
    assert_security_headers(&evil);
    assert_eq!(
        app.request(get("healthcheck.railway.app", "/health/"))
            .await
            .status,
        StatusCode::OK
    );
}

#[tokio::test]
async fn openapi_document_lists_the_routes() {
    let app = sqlite_app(&[]).await;
    let r = app.get("/api/openapi.json").await;
    assert_eq!(r.status, StatusCode::OK);
    let doc = r.json();
    assert!(doc["openapi"].as_str().is_some_and(|v| v.starts_with('3')));
    assert!(doc["paths"].get("/health/").is_some(), "{}", doc["paths"]);
}

#[tokio::test]
async fn static_files_have_etag_and_headers() {
    let app = sqlite_app(&[]).await;
    let r = app.get("/static/error.css").await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(
        r.header("content-type")
            .is_some_and(|ct| ct.starts_with("text/css"))
    );
    assert!(r.text().contains(".card"));
    let etag = r.header("etag").expect("etag").to_string();
    assert_security_headers(&r);

    let cached = app
        .request(
            Request::get("/static/error.css")
                .header("if-none-match", &etag)
                .body(Body::empty())
                .expect("request"),
        )
        .await;
    assert_eq!(cached.status, StatusCode::NOT_MODIFIED);
    assert!(cached.body.is_empty());
    assert_security_headers(&cached);

    // The 404 page links the content-hashed stylesheet, which is cached for a year.
    let page = app.get("/missing-page").await.text();
    let start = page.find("/static/error.").expect("stylesheet link");
    let end = start + page[start..].find('"').expect("end of href");
    let hashed = &page[start..end];
    assert_ne!(hashed, "/static/error.css", "hashed name");
    let r = app.get(hashed).await;
    assert_eq!(r.status, StatusCode::OK, "{hashed}");
    assert_eq!(
        r.header("cache-control"),
        Some("max-age=31536000, immutable")
    );
}

#[tokio::test]
async fn static_dir_override_serves_from_disk() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(dir.path().join("hello.txt"), "from disk").expect("write");
    let app = sqlite_app(&[("STATIC_DIR", dir.path().to_str().expect("utf-8 path"))]).await;
    let r = app.get("/static/hello.txt").await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.text(), "from disk");
    assert_security_headers(&r);
    let missing = app.get("/static/absent.txt").await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn every_response_has_a_request_id() {
    let app = sqlite_app(&[]).await;
    for path in ["/", "/health/", "/api/x/", "/nope", "/static/error.css"] {
        let r = app.get(path).await;
        assert!(
            r.header("x-request-id").is_some_and(|v| !v.is_empty()),
            "{path}"
        );
    }
}

/// Two ways: every operation of the generated OpenAPI document is served (not the router's 404 or a
/// 405), and every route in the source is registered through an `OpenApiRouter` (`routes!`), so
/// none can be served without being documented.
#[tokio::test]
async fn openapi_document_and_routes_match() {
    let app = sqlite_app(&[]).await;
    let admin = crate::helpers::create_user(
        &app,
        "openapi-admin",
        "openapi-admin-pass",
        electioncart::auth::model::Role::Admin,
    )
    .await;
    let token = crate::helpers::token_for(&app, &admin);
    let doc = app.get("/api/openapi.json").await.json();
    let paths = doc["paths"].as_object().expect("paths");
    let mut operations = 0;
    for (path, item) in paths {
        for verb in ["get", "post", "put", "patch", "delete"] {
            let Some(operation) = item.get(verb) else {
                continue;
            };
            operations += 1;
            assert!(
                operation.get("responses").is_some_and(|r| r.is_object()),
                "{verb} {path} documents its responses"
            );
            if matches!(verb, "post" | "put" | "patch")
                && !path.ends_with("/set-primary/")
                && !path.ends_with("/toggle-status/")
                && !path.ends_with("/toggle-popular/")
            {
                assert!(
                    operation["requestBody"]["content"].is_object(),
                    "{verb} {path} documents its request body"
                );
            }
            let concrete = path
                .replace("{product_type}", "package")
                .replace("{name}", "absent.jpg")
                .split('/')
                .map(|segment| {
                    if segment.starts_with('{') {
                        "1"
                    } else {
                        segment
                    }
                })
                .collect::<Vec<_>>()
                .join("/");
            let request = crate::helpers::authed(
                crate::helpers::json_request(
                    &verb.to_uppercase(),
                    &concrete,
                    serde_json::json!({}),
                ),
                &token,
            );
            let r = app
                .request(crate::helpers::from_peer(
                    request,
                    &crate::helpers::random_ip(),
                ))
                .await;
            assert_ne!(r.status, StatusCode::METHOD_NOT_ALLOWED, "{verb} {path}");
            assert!(
                !(r.status == StatusCode::NOT_FOUND && r.text() == r#"{"detail":"Not found."}"#),
                "{verb} {path} is not routed"
            );
            assert!(r.status.as_u16() < 500, "{verb} {path}: {}", r.status);
        }
    }
    assert!(operations >= 40, "{operations} operations documented");
    for (verb, path) in [
        ("post", "/api/auth/login/"),
        ("get", "/api/packages/{id}/"),
        ("get", "/api/admin/cache/status/"),
        ("patch", "/api/admin/products/images/{pk}/"),
        ("get", "/media/products/{name}"),
    ] {
        assert!(paths[path].get(verb).is_some(), "{verb} {path} documented");
    }
    // The JSON bodies carry schemas: the product create names its fields.
    let product = &doc["components"]["schemas"]["ProductIn"]["properties"];
    for field in ["name", "price", "description", "items"] {
        assert!(product.get(field).is_some(), "ProductIn.{field}");
    }

    // No route is registered outside an `OpenApiRouter`: axum's `.route(` appears nowhere in src/.
    let src = concat!(env!("CARGO_MANIFEST_DIR"), "/src");
    let mut stack = vec![std::path::PathBuf::from(src)];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).expect("src dir") {
            let path = entry.expect("entry").path();
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") {
                let text = std::fs::read_to_string(&path).expect("source");
                for (n, line) in text.lines().enumerate() {
                    let code = line.split("//").next().unwrap_or("");
                    assert!(
                        !code.contains(".route(") && !code.contains(".route_service("),
                        "{}:{}: a route outside OpenApiRouter::routes(routes!(…)): {line}",
                        path.display(),
                        n + 1
                    );
                }
            }
        }
    }
}

/// The access-log line names the matched route template (and so does the request span), also when
/// the client left out the trailing slash; an unmatched path logs `route=-`.
#[tokio::test]
async fn access_log_lines_carry_the_route_template() {
    let capture = crate::helpers::capture_logs();

    let app = sqlite_app(&[]).await;
    assert_eq!(
        app.get("/api/packages/3/").await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        app.get("/api/campaigns/7").await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(app.get("/api/nowhere/").await.status, StatusCode::NOT_FOUND);

    let text = capture.logs.text();
    let line = |path: &str| {
        text.lines()
            .find(|l| l.contains(&format!("path={path} ")) && l.contains(" response "))
            .unwrap_or_else(|| panic!("no access-log line for {path}: {text}"))
            .to_string()
    };
    let packages = line("/api/packages/3/");
    assert!(packages.contains("route=/api/packages/{id}/"), "{packages}");
    assert!(packages.contains("status=404"), "{packages}");
    let campaigns = line("/api/campaigns/7");
    assert!(
        campaigns.contains("route=/api/campaigns/{id}/"),
        "{campaigns}"
    );
    let nowhere = line("/api/nowhere/");
    assert!(nowhere.contains("route=-"), "{nowhere}");
}
