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

mod flows;
mod reference;

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

/// One row of the benchmark: a request to the server, and the reference server's requests doing
/// the minimum work for the same answer (see `reference/mod.rs`).
struct Scenario {
    name: &'static str,
    method: Method,
    path: &'static str,
    headers: &'static [(&'static str, &'static str)],
    body: Option<&'static str>,
    setup: Option<Setup>,
    /// Extra environment for this scenario's server (e.g. `CACHE_ENABLED=false`).
    env: &'static [(&'static str, &'static str)],
    /// Needs `BENCH_REDIS_URL` (skipped without it); the server and the reference get `REDIS_URL`.
    redis: bool,
    /// Connections for this scenario instead of `BENCH_CONNECTIONS` (hashing: a few, so a request
    /// takes far less than a measured window and the count is not cut off at its edges).
    connections: Option<usize>,
    references: Vec<Reference>,
    /// A multi-request iteration per "request" (`flows.rs`); the setup gives each connection a user.
    flow: Option<flows::Flow>,
    /// Demo orders `seed-demo --orders` adds before the setup (the admin-panel rows).
    seed_orders: usize,
}

/// A reference-server request measured beside a scenario. `{id}` in the path is replaced by the
/// id the scenario's setup found; the setup's headers (e.g. the bearer token) are sent too.
struct Reference {
    label: &'static str,
    method: Method,
    path: &'static str,
    body: Option<&'static str>,
}

impl Reference {
    fn get(label: &'static str, path: &'static str) -> Self {
        Self {
            label,
            method: Method::GET,
            path,
            body: None,
        }
    }
}

/// What a [`Setup`] hands back: extra headers (e.g. `authorization: Bearer …`), and optionally a
/// path or body that replaces the scenario's (e.g. a product id that only exists after setup).
#[derive(Debug, Default, Clone)]
struct Prepared {
    headers: Vec<(String, String)>,
    path: Option<String>,
    body: Option<Vec<u8>>,
    /// Substituted for `{id}` in reference paths.
    id: Option<i64>,
    /// `Bearer …` values, one per connection (flows).
    bearers: Vec<String>,
    /// `(path, multipart body)` per connection (upload flows).
    uploads: Vec<(String, Bytes)>,
}

impl Scenario {
    fn new(name: &'static str, path: &'static str) -> Self {
        Self {
            name,
            method: Method::GET,
            path,
            headers: &[],
            body: None,
            setup: None,
            env: &[],
            redis: false,
            connections: None,
            references: Vec::new(),
            flow: None,
            seed_orders: 0,
        }
    }

    /// A [`flows::Flow`] row: each connection signs up its own user first.
    fn flow(name: &'static str, flow: flows::Flow) -> Self {
        Self {
            setup: Some(|ctx| Box::pin(flow_users(ctx))),
            flow: Some(flow),
            ..Self::new(name, "/api/cart/add/")
        }
    }
}

/// The scenario table (DESIGN §9, issue 8). Adding one is a few lines, e.g. an authenticated GET:
///
/// ```text
/// Scenario { setup: Some(|ctx| Box::pin(bench_user_token(ctx))),
///            references: vec![Reference::get("jwt+select", "/me")],
///            ..Scenario::new("me", "/api/auth/me/") },
/// ```
fn scenarios() -> Vec<Scenario> {
    // Access logging on, in the production format, for the logging-overhead row.
    const JSON_LOGS: &[(&str, &str)] = &[("LOG_FORMAT", "json"), ("RUST_LOG", "info")];
    vec![
        Scenario::new("health", "/health/"),
        Scenario {
            references: vec![Reference::get("plain", "/plain")],
            ..Scenario::new("static", "/static/robots.txt")
        },
        Scenario {
            env: JSON_LOGS,
            references: vec![Reference::get("plain", "/plain")],
            ..Scenario::new("static-log", "/static/robots.txt")
        },
        Scenario {
            references: vec![
                Reference::get("serialise", "/page"),
                Reference::get("pre-serialised", "/page-static"),
            ],
            ..Scenario::new("packages", "/api/packages/")
        },
        Scenario {
            setup: Some(|ctx| Box::pin(first_package(ctx))),
            ..Scenario::new("package-detail", "/api/packages/1/")
        },
        Scenario {
            setup: Some(|ctx| Box::pin(first_package(ctx))),
            env: &[("CACHE_ENABLED", "false")],
            references: vec![Reference::get("one-row select", "/row/{id}")],
            ..Scenario::new("package-detail-uncached", "/api/packages/1/")
        },
        Scenario {
            setup: Some(|ctx| Box::pin(bench_user_token(ctx))),
            references: vec![Reference::get("jwt+select", "/me")],
            ..Scenario::new("me", "/api/auth/me/")
        },
        Scenario {
            setup: Some(|ctx| Box::pin(bench_user_token(ctx))),
            redis: true,
            references: vec![Reference::get("jwt+redis GET", "/me-redis")],
            ..Scenario::new("me-redis", "/api/auth/me/")
        },
        Scenario {
            setup: Some(|ctx| Box::pin(cart_with_a_line(ctx))),
            ..Scenario::new("cart-get", "/api/cart/")
        },
        Scenario {
            method: Method::POST,
            headers: &[("content-type", "application/json")],
            body: Some(BENCH_LOGIN),
            setup: Some(|ctx| Box::pin(bench_user_exists(ctx))),
            connections: Some(4),
            references: vec![Reference {
                label: "argon2 login",
                method: Method::POST,
                path: "/login",
                body: Some(BENCH_LOGIN),
            }],
            ..Scenario::new("login", "/api/auth/login/")
        },
        Scenario::flow("cart-add-get", flows::Flow::CartAddGet),
        Scenario::flow("order-create", flows::Flow::OrderCreate),
        Scenario::flow("payment-verify", flows::Flow::PaymentVerify),
        Scenario {
            setup: Some(|ctx| Box::pin(upload_orders(ctx, 1024 * 1024))),
            connections: Some(16),
            ..Scenario::flow("upload-1mb", flows::Flow::Upload(1024 * 1024))
        },
        Scenario {
            setup: Some(|ctx| Box::pin(upload_orders(ctx, 4_800_000))),
            connections: Some(16),
            ..Scenario::flow("upload-5mb", flows::Flow::Upload(4_800_000))
        },
        // A 10-line paid order's invoice PDF. Cold: the server runs with its PDF cache off
        // (`INVOICE_CACHE_MAX_MB=0`), so every request gathers the invoice and renders it on the
        // documents pool (a few connections: renders queue on its one thread here). Warm: the
        // cached bytes (the first request renders).
        Scenario {
            setup: Some(|ctx| Box::pin(invoice_order(ctx))),
            env: &[
                ("INVOICE_CACHE_MAX_MB", "0"),
                ("INVOICE_TAX_RATE_PERCENT", "18"),
            ],
            connections: Some(4),
            ..Scenario::new("invoice-cold", "/api/orders/1/invoice/download/")
        },
        Scenario {
            setup: Some(|ctx| Box::pin(invoice_order(ctx))),
            env: &[("INVOICE_TAX_RATE_PERCENT", "18")],
            ..Scenario::new("invoice-warm", "/api/orders/1/invoice/download/")
        },
        Scenario {
            setup: Some(|ctx| Box::pin(demo_token(ctx, DEMO_ADMIN_LOGIN))),
            connections: Some(4),
            seed_orders: ADMIN_ORDERS,
            ..Scenario::new("admin-orders-10k", "/api/admin/orders/")
        },
        Scenario {
            setup: Some(|ctx| Box::pin(admin_order(ctx))),
            connections: Some(4),
            seed_orders: ADMIN_ORDERS,
            ..Scenario::new("admin-order-detail", "/api/admin/orders/1/")
        },
        Scenario {
            setup: Some(|ctx| Box::pin(demo_token(ctx, DEMO_STAFF_LOGIN))),
            connections: Some(4),
            seed_orders: ADMIN_ORDERS,
            ..Scenario::new("staff-orders-10k", "/api/staff/orders/")
        },
        // Analytics with 10k orders (issue 13): computed on every request (the cache off), and
        // cached (the first request computes; the rest read the shared tier: Redis with
        // BENCH_REDIS_URL, else the SQL cache table).
        Scenario {
            setup: Some(|ctx| Box::pin(demo_token(ctx, DEMO_ADMIN_LOGIN))),
            connections: Some(4),
            seed_orders: ADMIN_ORDERS,
            env: &[("CACHE_ENABLED", "false")],
            ..Scenario::new("analytics-overview-cold", "/api/admin/analytics/overview/")
        },
        Scenario {
            setup: Some(|ctx| Box::pin(demo_token(ctx, DEMO_ADMIN_LOGIN))),
            connections: Some(4),
            seed_orders: ADMIN_ORDERS,
            ..Scenario::new(
                "analytics-overview-cached",
                "/api/admin/analytics/overview/",
            )
        },
        Scenario {
            setup: Some(|ctx| Box::pin(demo_token(ctx, DEMO_ADMIN_LOGIN))),
            connections: Some(4),
            seed_orders: ADMIN_ORDERS,
            env: &[("CACHE_ENABLED", "false")],
            ..Scenario::new(
                "analytics-trend-cold",
                "/api/admin/analytics/revenue-trend/?months=12",
            )
        },
        Scenario {
            setup: Some(|ctx| Box::pin(demo_token(ctx, DEMO_ADMIN_LOGIN))),
            connections: Some(4),
            seed_orders: ADMIN_ORDERS,
            ..Scenario::new(
                "analytics-trend-cached",
                "/api/admin/analytics/revenue-trend/?months=12",
            )
        },
        Scenario {
            setup: Some(|ctx| Box::pin(demo_token(ctx, DEMO_ADMIN_LOGIN))),
            connections: Some(4),
            seed_orders: ADMIN_ORDERS,
            ..Scenario::new("admin-search-10k", "/api/admin/search/?q=demo")
        },
    ]
}

/// Orders in the database for the admin-panel rows (issue 12: the list at 10k orders).
const ADMIN_ORDERS: usize = 10_000;
const DEMO_ADMIN_LOGIN: &str = r#"{"username":"demo-admin","password":"DemoAdmin#2026"}"#;
const DEMO_STAFF_LOGIN: &str = r#"{"username":"demo-staff","password":"DemoStaff#2026"}"#;

/// Logs an account in (a JSON login body) and hands back `authorization: Bearer …`.
async fn demo_token(ctx: SetupCtx, login: &'static str) -> Result<Prepared> {
    let (status, body) = ctx
        .request(
            Method::POST,
            "/api/auth/login/",
            &[("content-type", "application/json")],
            Some(login.as_bytes()),
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

/// The admin's token and the path of the newest order's detail.
async fn admin_order(ctx: SetupCtx) -> Result<Prepared> {
    let mut prepared = demo_token(ctx, DEMO_ADMIN_LOGIN).await?;
    let (name, value) = prepared.headers[0].clone();
    let (status, body) = ctx
        .request(
            Method::GET,
            "/api/admin/orders/?limit=1",
            &[(name.as_str(), value.as_str())],
            None,
        )
        .await?;
    anyhow::ensure!(
        status.is_success(),
        "the admin order list answered {status}"
    );
    let id = serde_json::from_slice::<serde_json::Value>(&body)?[0]["id"]
        .as_i64()
        .context("no order to read")?;
    prepared.path = Some(format!("/api/admin/orders/{id}/"));
    prepared.id = Some(id);
    Ok(prepared)
}

/// The bench user's token and a paid order of 10 new packages (paid through the fake gateway):
/// the invoice scenarios' path.
async fn invoice_order(ctx: SetupCtx) -> Result<Prepared> {
    let json = |v: serde_json::Value| v.to_string().into_bytes();
    let mut prepared = bench_user_token(ctx).await?;
    let bearer = prepared.headers[0].1.clone();
    let admin = demo_token(ctx, DEMO_ADMIN_LOGIN).await?.headers[0]
        .1
        .clone();
    let headers = [
        ("authorization", bearer.as_str()),
        ("content-type", "application/json"),
    ];
    for i in 0..10 {
        let name = format!("Bench Invoice {i} {}", uuid::Uuid::new_v4().simple());
        let (status, body) = ctx
            .request(
                Method::POST,
                "/api/admin/products/package/",
                &[
                    ("authorization", admin.as_str()),
                    ("content-type", "application/json"),
                ],
                Some(&json(
                    serde_json::json!({"name": name, "price": format!("{}.50", 18_500 + i), "description": "d"}),
                )),
            )
            .await?;
        anyhow::ensure!(status.is_success(), "package create answered {status}");
        let package = serde_json::from_slice::<serde_json::Value>(&body)?["id"]
            .as_i64()
            .context("a package id")?;
        let add = json(
            serde_json::json!({"item_type": "package", "item_id": package, "quantity": 1 + i % 3}),
        );
        let (status, _) = ctx
            .request(Method::POST, "/api/cart/add/", &headers, Some(&add))
            .await?;
        anyhow::ensure!(status.is_success(), "cart add answered {status}");
    }
    let (status, body) = ctx
        .request(Method::POST, "/api/orders/create/", &headers, None)
        .await?;
    anyhow::ensure!(
        status == StatusCode::CREATED,
        "order create answered {status}"
    );
    let created: serde_json::Value = serde_json::from_slice(&body)?;
    let order = created["order"]["id"].as_i64().context("an order id")?;
    let rzp = created["razorpay_order_id"]
        .as_str()
        .context("a razorpay id")?;
    let payment = format!("pay_inv{}", uuid::Uuid::new_v4().simple());
    let signature = electioncart::payments::razorpay::checkout_signature(
        electioncart::payments::razorpay::FAKE_KEY_SECRET,
        rzp,
        &payment,
    );
    let verify = json(
        serde_json::json!({"razorpay_order_id": rzp, "razorpay_payment_id": payment, "razorpay_signature": signature}),
    );
    let (status, _) = ctx
        .request(
            Method::POST,
            &format!("/api/orders/{order}/payment-success/"),
            &headers,
            Some(&verify),
        )
        .await?;
    anyhow::ensure!(status.is_success(), "payment answered {status}");
    let path = format!("/api/orders/{order}/invoice/download/");
    let (status, _) = ctx.request(Method::GET, &path, &headers, None).await?;
    anyhow::ensure!(status.is_success(), "invoice download answered {status}");
    prepared.path = Some(path);
    prepared.id = Some(order);
    Ok(prepared)
}

/// Per connection a user with a paid order of a package that has one image field, and the
/// multipart body of a submission of a noise PNG of about `size` bytes (the upload flows).
async fn upload_orders(ctx: SetupCtx, size: usize) -> Result<Prepared> {
    let json = |v: serde_json::Value| v.to_string().into_bytes();
    let admin = demo_token(ctx, DEMO_ADMIN_LOGIN).await?.headers[0]
        .1
        .clone();
    let admin_headers = [
        ("authorization", admin.as_str()),
        ("content-type", "application/json"),
    ];
    let name = format!("Bench Upload {}", uuid::Uuid::new_v4().simple());
    let (status, body) = ctx
        .request(
            Method::POST,
            "/api/admin/products/package/",
            &admin_headers,
            Some(&json(
                serde_json::json!({"name": name, "price": "100.00", "description": "d"}),
            )),
        )
        .await?;
    anyhow::ensure!(status.is_success(), "package create answered {status}");
    let package = serde_json::from_slice::<serde_json::Value>(&body)?["id"]
        .as_i64()
        .context("a package id")?;
    let (status, body) = ctx
        .request(
            Method::POST,
            &format!("/api/admin/products/package/{package}/resource-fields/"),
            &admin_headers,
            Some(&json(
                serde_json::json!({"field_name": "Photo", "field_type": "image"}),
            )),
        )
        .await?;
    anyhow::ensure!(status.is_success(), "field create answered {status}");
    let field = serde_json::from_slice::<serde_json::Value>(&body)?["field"]["id"]
        .as_i64()
        .context("a field id")?;
    let png = flows::noise_png(size);
    let mut prepared = flow_users(ctx).await?;
    let mut uploads = Vec::new();
    for bearer in &prepared.bearers {
        let headers = [
            ("authorization", bearer.as_str()),
            ("content-type", "application/json"),
        ];
        let add = json(serde_json::json!({"item_type": "package", "item_id": package}));
        let (status, _) = ctx
            .request(Method::POST, "/api/cart/add/", &headers, Some(&add))
            .await?;
        anyhow::ensure!(status.is_success(), "cart add answered {status}");
        let (status, body) = ctx
            .request(Method::POST, "/api/orders/create/", &headers, None)
            .await?;
        anyhow::ensure!(
            status == StatusCode::CREATED,
            "order create answered {status}"
        );
        let created: serde_json::Value = serde_json::from_slice(&body)?;
        let order = created["order"]["id"].as_i64().context("an order id")?;
        let item = created["order"]["items"][0]["id"]
            .as_i64()
            .context("an item id")?;
        let rzp = created["razorpay_order_id"]
            .as_str()
            .context("a razorpay id")?;
        let payment = format!("pay_up{}", uuid::Uuid::new_v4().simple());
        let signature = electioncart::payments::razorpay::checkout_signature(
            electioncart::payments::razorpay::FAKE_KEY_SECRET,
            rzp,
            &payment,
        );
        let verify = json(
            serde_json::json!({"razorpay_order_id": rzp, "razorpay_payment_id": payment, "razorpay_signature": signature}),
        );
        let (status, _) = ctx
            .request(
                Method::POST,
                &format!("/api/orders/{order}/payment-success/"),
                &headers,
                Some(&verify),
            )
            .await?;
        anyhow::ensure!(status.is_success(), "payment answered {status}");
        uploads.push((
            format!("/api/orders/{order}/submit-resources/"),
            flows::upload_body(item, field, &png),
        ));
    }
    prepared.uploads = uploads;
    Ok(prepared)
}

/// One user per connection, and the add-to-cart body of the first package (the flows).
async fn flow_users(ctx: SetupCtx) -> Result<Prepared> {
    let package = first_package(ctx).await?;
    let id = package.id.context("a package id")?;
    let bearers = flows::users(
        move |body| {
            Box::pin(async move {
                ctx.request(
                    Method::POST,
                    "/api/auth/signup/",
                    &[("content-type", "application/json")],
                    Some(body.as_bytes()),
                )
                .await
            })
        },
        ctx.users,
    )
    .await?;
    Ok(Prepared {
        body: Some(
            format!(r#"{{"item_type":"package","item_id":{id},"quantity":1}}"#).into_bytes(),
        ),
        id: Some(id),
        bearers,
        ..Default::default()
    })
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
        id: Some(id),
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
    demo_token(ctx, BENCH_LOGIN).await
}

/// The bench user's token, with one package line in their cart (the `cart-get` scenario).
async fn cart_with_a_line(ctx: SetupCtx) -> Result<Prepared> {
    let prepared = bench_user_token(ctx).await?;
    let package = first_package(ctx).await?;
    let (name, value) = &prepared.headers[0];
    let body = format!(
        r#"{{"item_type":"package","item_id":{},"quantity":2}}"#,
        package.id.context("a package id")?
    );
    let (status, answer) = ctx
        .request(
            Method::POST,
            "/api/cart/add/",
            &[
                (name.as_str(), value.as_str()),
                ("content-type", "application/json"),
            ],
            Some(body.as_bytes()),
        )
        .await?;
    anyhow::ensure!(
        status.is_success(),
        "cart add answered {status}: {}",
        String::from_utf8_lossy(&answer)
    );
    Ok(prepared)
}

/// Handed to a [`Setup`]: the server's address and a one-shot request helper.
#[derive(Debug, Clone, Copy)]
struct SetupCtx {
    addr: SocketAddr,
    /// The scenario's connection count (flows make one user per connection).
    users: usize,
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
    /// `app` or the reference's label.
    label: String,
    addr: SocketAddr,
    method: Method,
    path: String,
    headers: Vec<(HeaderName, HeaderValue)>,
    body: Bytes,
    flow: Option<flows::Flow>,
    bearers: Vec<HeaderValue>,
    uploads: Vec<(String, Bytes)>,
}

impl Target {
    fn new(scenario: &Scenario, prepared: &Prepared, addr: SocketAddr) -> Result<Self> {
        let body = match (&prepared.body, scenario.body) {
            (Some(body), _) => Bytes::from(body.clone()),
            (None, Some(body)) => Bytes::from_static(body.as_bytes()),
            (None, None) => Bytes::new(),
        };
        Ok(Self {
            label: "app".into(),
            addr,
            method: scenario.method.clone(),
            path: prepared
                .path
                .clone()
                .unwrap_or_else(|| scenario.path.to_string()),
            headers: request_headers(scenario.headers, prepared, addr)?,
            body,
            flow: scenario.flow,
            bearers: prepared
                .bearers
                .iter()
                .map(|b| HeaderValue::try_from(b.as_str()).context("a bearer header"))
                .collect::<Result<_>>()?,
            uploads: prepared.uploads.clone(),
        })
    }

    fn reference(
        reference: &Reference,
        scenario: &Scenario,
        prepared: &Prepared,
        addr: SocketAddr,
    ) -> Result<Self> {
        let id = prepared.id.map(|id| id.to_string()).unwrap_or_default();
        Ok(Self {
            label: format!("ref: {}", reference.label),
            addr,
            method: reference.method.clone(),
            path: reference.path.replace("{id}", &id),
            headers: request_headers(scenario.headers, prepared, addr)?,
            body: reference
                .body
                .map_or_else(Bytes::new, |b| Bytes::from_static(b.as_bytes())),
            flow: None,
            bearers: Vec::new(),
            uploads: Vec::new(),
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

/// `Host`, the scenario's static headers and the setup's (later ones replace earlier ones).
fn request_headers(
    fixed: &[(&str, &str)],
    prepared: &Prepared,
    addr: SocketAddr,
) -> Result<Vec<(HeaderName, HeaderValue)>> {
    let mut headers = vec![(HOST, host_value(addr)?)];
    let pairs = fixed
        .iter()
        .map(|(n, v)| ((*n).to_string(), (*v).to_string()))
        .chain(prepared.headers.iter().cloned());
    for (name, value) in pairs {
        let name =
            HeaderName::try_from(name.as_str()).with_context(|| format!("header name {name:?}"))?;
        let value = HeaderValue::try_from(value.as_str())
            .with_context(|| format!("header value for {name}"))?;
        headers.retain(|(n, _)| *n != name);
        headers.push((name, value));
    }
    Ok(headers)
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
    rounds: usize,
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
            rounds: env_number("BENCH_ROUNDS", 3usize).max(1),
            seconds: env_number("BENCH_SECONDS", 3.0f64).max(0.1),
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

/// The server's environment for a scenario: the defaults, `BENCH_DATABASE_URL` (else a SQLite
/// file in `dir`), `REDIS_URL` for the scenarios that need it, the scenario's own variables, then
/// `BENCH_ENV_*`.
fn app_env(
    settings: &Settings,
    scenario: &Scenario,
    dir: &Path,
    port: u16,
) -> Vec<(String, String)> {
    let database_url = match &settings.database_url {
        Some(url) => url.clone(),
        None => format!("sqlite://{}/bench.db", dir.display()),
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
    if scenario.redis
        && let Some(redis) = &settings.redis_url
    {
        env.push(("REDIS_URL".into(), redis.clone()));
    }
    let overrides = scenario
        .env
        .iter()
        .map(|(k, v)| ((*k).to_string(), (*v).to_string()))
        .chain(std::env::vars().filter_map(|(key, value)| {
            key.strip_prefix("BENCH_ENV_")
                .filter(|n| !n.is_empty())
                .map(|n| (n.to_string(), value.clone()))
        }));
    for (name, value) in overrides {
        env.retain(|(k, _)| *k != name);
        env.push((name, value));
    }
    env
}

/// The reference server's environment: the app server's database, Redis, secret and pool size.
fn reference_env(app: &Server, port: u16, page: Option<&Path>) -> Vec<(String, String)> {
    let mut env: Vec<(String, String)> = app
        .env
        .iter()
        .filter(|(k, _)| {
            matches!(
                k.as_str(),
                "DATABASE_URL" | "REDIS_URL" | "DJANGO_SECRET_KEY" | "DB_MAX_CONNECTIONS"
            )
        })
        .cloned()
        .collect();
    env.push((reference::ADDR_ENV.into(), format!("127.0.0.1:{port}")));
    if let Some(page) = page {
        env.push((reference::PAGE_ENV.into(), page.display().to_string()));
    }
    env
}

/// Spawns `binary` with the environment `make_env` builds (given the temp dir and a free port)
/// and waits for the first `200` from `GET health`; returns it, the time from spawn to that
/// answer, and the environment as printable text.
async fn start_server(
    binary: &Path,
    health: &str,
    make_env: impl FnOnce(&Path, u16) -> Vec<(String, String)>,
) -> Result<(Server, Duration, Vec<String>)> {
    let dir = tempfile::Builder::new()
        .prefix("electioncart-bench-")
        .tempdir()
        .context("creating a temp dir")?;
    let port = free_port()?;
    let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
    let env = make_env(dir.path(), port);
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
    let ctx = SetupCtx { addr, users: 0 };
    loop {
        let last = match timeout(
            Duration::from_millis(500),
            ctx.request(Method::GET, health, &[], None),
        )
        .await
        {
            Ok(Ok((StatusCode::OK, _))) => return Ok((server, spawned_at.elapsed(), shown)),
            Ok(Ok((status, body))) => format!("{status}: {}", String::from_utf8_lossy(&body)),
            Ok(Err(error)) => format!("{error:#}"),
            Err(_) => format!("GET {health} timed out"),
        };
        if let Some(status) = server.exited() {
            bail!(
                "the server exited ({status}) before answering; last: {last}\n--- server log ---\n{}",
                server.log_tail()
            );
        }
        if spawned_at.elapsed() > START_TIMEOUT {
            bail!(
                "no 200 from GET {health} within {START_TIMEOUT:?}; last: {last}\n--- server log ---\n{}",
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
    index: usize,
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
        if let Some(flow) = target.flow {
            let (Some(bearer), Some((_, host))) = (
                target.bearers.get(index % target.bearers.len().max(1)),
                target.headers.iter().find(|(n, _)| *n == HOST),
            ) else {
                stats.error(true, || "a flow without users".into());
                break;
            };
            let input = flows::FlowInput {
                host,
                bearer,
                add_body: &target.body,
                upload: target.uploads.get(index % target.uploads.len().max(1)),
            };
            let started = Instant::now();
            let counted = started >= warm_end;
            match timeout_at(deadline, flows::run(flow, current, &input)).await {
                Err(_) => break,
                Ok(Ok(Ok(()))) => {
                    if counted {
                        stats.ok += 1;
                        let micros = started.elapsed().as_micros();
                        stats
                            .latencies_us
                            .push(u32::try_from(micros).unwrap_or(u32::MAX));
                    }
                }
                Ok(Ok(Err(why))) => stats.error(counted, || why),
                Ok(Err(error)) => {
                    stats.error(counted, || format!("io: {error}"));
                    sender = None;
                }
            }
            continue;
        }
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

/// One measured window against one server.
#[derive(Default)]
struct Sample {
    ok: u64,
    errors: u64,
    latencies_us: Vec<u32>,
    seconds: f64,
    cpu_ticks: Option<u64>,
    rss_peak: u64,
    first_error: Option<String>,
}

impl Sample {
    fn add(&mut self, other: Sample) {
        self.ok += other.ok;
        self.errors += other.errors;
        self.latencies_us.extend(other.latencies_us);
        self.seconds += other.seconds;
        self.cpu_ticks = match (self.cpu_ticks, other.cpu_ticks) {
            (Some(a), Some(b)) => Some(a + b),
            (None, b) if self.ok + self.errors == other.ok + other.errors => b,
            _ => None,
        };
        self.rss_peak = self.rss_peak.max(other.rss_peak);
        if self.first_error.is_none() {
            self.first_error = other.first_error;
        }
    }
}

struct Row {
    name: String,
    server: String,
    connections: usize,
    requests_per_s: f64,
    p50_ms: f64,
    p99_ms: f64,
    max_ms: f64,
    errors: u64,
    rss_idle: u64,
    rss_peak: u64,
    server_cpu_us: Option<f64>,
    /// The scenario's app row ÷ this reference row (requests/s), on reference rows.
    ratio: Option<f64>,
    note: Option<String>,
}

impl Row {
    fn from_sample(
        name: &str,
        server: &str,
        sample: Sample,
        rss_idle: u64,
        settings: &Settings,
        tick_us: f64,
    ) -> Self {
        let mut latencies = sample.latencies_us;
        latencies.sort_unstable();
        let requests = sample.ok + sample.errors;
        Row {
            name: name.to_string(),
            server: server.to_string(),
            connections: settings.connections,
            requests_per_s: if sample.seconds > 0.0 {
                sample.ok as f64 / sample.seconds
            } else {
                0.0
            },
            p50_ms: percentile_ms(&latencies, 0.50),
            p99_ms: percentile_ms(&latencies, 0.99),
            max_ms: latencies
                .last()
                .map_or(f64::NAN, |&m| f64::from(m) / 1000.0),
            errors: sample.errors,
            rss_idle,
            rss_peak: sample.rss_peak.max(rss_idle),
            server_cpu_us: sample
                .cpu_ticks
                .filter(|_| requests > 0)
                .map(|t| t as f64 * tick_us / requests as f64),
            ratio: None,
            note: sample.first_error,
        }
    }

    fn failed(name: &str, server: &str, note: String, settings: &Settings) -> Self {
        Row {
            name: name.to_string(),
            server: server.to_string(),
            connections: settings.connections,
            requests_per_s: 0.0,
            p50_ms: f64::NAN,
            p99_ms: f64::NAN,
            max_ms: f64::NAN,
            errors: 0,
            rss_idle: 0,
            rss_peak: 0,
            server_cpu_us: None,
            ratio: None,
            note: Some(note),
        }
    }
}

/// Nearest-rank percentile of a sorted slice, in milliseconds.
fn percentile_ms(sorted: &[u32], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let rank = ((p * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len());
    f64::from(sorted[rank - 1]) / 1000.0
}

/// One measured window (after a warm-up) of `settings.connections` connections against `target`,
/// whose server process is `pid`.
async fn run_load(
    target: &Arc<Target>,
    pid: u32,
    connections: usize,
    settings: &Settings,
) -> Sample {
    let pid = pid.to_string();
    let sampler = RssSampler::start(pid.clone());
    let warm_end = Instant::now() + Duration::from_secs_f64(settings.warmup);
    let measured = Duration::from_secs_f64(settings.seconds);
    let deadline = warm_end + measured;
    let workers: Vec<_> = (0..connections)
        .map(|index| {
            tokio::spawn(connection_loop(
                target.addr,
                Arc::clone(target),
                index,
                warm_end,
                deadline,
            ))
        })
        .collect();

    sleep_until(warm_end).await;
    let cpu0 = cpu_ticks(&pid);
    sleep_until(deadline).await;
    let cpu1 = cpu_ticks(&pid);

    let mut sample = Sample {
        seconds: measured.as_secs_f64(),
        cpu_ticks: match (cpu0, cpu1) {
            (Some(a), Some(b)) => Some(b.saturating_sub(a)),
            _ => None,
        },
        ..Sample::default()
    };
    for worker in workers {
        match worker.await {
            Ok(stats) => {
                sample.ok += stats.ok;
                sample.errors += stats.errors;
                sample.latencies_us.extend(stats.latencies_us);
                if sample.first_error.is_none() {
                    sample.first_error = stats.first_error;
                }
            }
            Err(error) => {
                sample.errors += 1;
                sample
                    .first_error
                    .get_or_insert_with(|| format!("worker: {error}"));
            }
        }
    }
    sample.rss_peak = sampler.finish();
    sample
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
        "| {:<23} | {:<20} | {:>5} | {:>9} | {:>6} | {:>6} | {:>7} | {:>6} | {:>8} | {:>8} | {:>11} | {:>7} |",
        "scenario",
        "server",
        "conns",
        "req/s",
        "p50 ms",
        "p99 ms",
        "max ms",
        "errors",
        "RSS idle",
        "RSS peak",
        "CPU µs/req",
        "ratio"
    );
    let widths = [23, 20, 5, 9, 6, 6, 7, 6, 8, 8, 11, 7];
    let rule: Vec<String> = widths.iter().map(|w| "-".repeat(w + 2)).collect();
    println!("|{}|", rule.join("|"));
    for r in rows {
        println!(
            "| {:<23} | {:<20} | {:>5} | {:>9.0} | {:>6} | {:>6} | {:>7} | {:>6} | {:>8.1} | {:>8.1} | {:>11} | {:>7} |",
            r.name,
            r.server,
            r.connections,
            r.requests_per_s,
            fmt_ms(r.p50_ms),
            fmt_ms(r.p99_ms),
            fmt_ms(r.max_ms),
            r.errors,
            mb(r.rss_idle),
            mb(r.rss_peak),
            fmt_opt(r.server_cpu_us),
            r.ratio.map_or_else(|| "-".into(), |v| format!("{v:.2}×")),
        );
    }
    println!(
        "(RSS in MB; ratio = the app's req/s ÷ this reference's, same run, rounds alternating)"
    );
    for r in rows {
        if let Some(note) = &r.note {
            println!("  {} / {}: {note}", r.name, r.server);
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
    // `BENCH_SERVER_BINARY` measures another build (e.g. the previous commit's) with this harness.
    let binary = env_nonempty("BENCH_SERVER_BINARY").map_or_else(
        || PathBuf::from(env!("CARGO_BIN_EXE_electioncart")),
        PathBuf::from,
    );
    let binary = binary.as_path();
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
    println!(
        "CPU: utime+stime from /proc/<pid>/stat over the measured windows, {ticks} ticks/s ({tick_source}); \
         µs/req = CPU time / (ok + error) responses"
    );
    println!(
        "rounds: {} per server and scenario, {} s each after {} s of warm-up, servers alternating",
        settings.rounds, settings.seconds, settings.warmup
    );

    let mut rows = Vec::new();
    let mut notes = Vec::new();
    for scenario in selected {
        if scenario.redis && settings.redis_url.is_none() {
            notes.push(format!("{}: skipped (set BENCH_REDIS_URL)", scenario.name));
            continue;
        }
        match run_scenario(binary, scenario, &settings, tick_us, &mut notes).await {
            Ok(mut scenario_rows) => rows.append(&mut scenario_rows),
            Err(error) => rows.push(Row::failed(
                scenario.name,
                "app",
                format!("{error:#}"),
                &settings,
            )),
        }
    }
    println!();
    print_table(&rows);
    for note in notes {
        println!("{note}");
    }
    Ok(())
}

/// One scenario: its own server (fresh state, the scenario's environment) and reference server,
/// `settings.rounds` rounds alternating between them.
async fn run_scenario(
    binary: &Path,
    scenario: &Scenario,
    settings: &Settings,
    tick_us: f64,
    notes: &mut Vec<String>,
) -> Result<Vec<Row>> {
    let (mut app, first_200, app_env_shown) = start_server(binary, "/health/", |dir, port| {
        app_env(settings, scenario, dir, port)
    })
    .await
    .context("the server failed to start")?;
    let app_idle = rss_bytes(&app.pid().to_string()).unwrap_or(0);
    seed_demo(binary, &app, scenario.seed_orders).context("seeding the demo catalog")?;
    notes.push(format!(
        "{}: server {} | start to first 200: {:.1} ms | RSS after start: {:.1} MB",
        scenario.name,
        app_env_shown.join(" "),
        first_200.as_secs_f64() * 1000.0,
        mb(app_idle)
    ));

    let ctx = SetupCtx {
        addr: app.addr,
        users: scenario.connections.unwrap_or(settings.connections),
    };
    let prepared = match scenario.setup {
        None => Prepared::default(),
        Some(setup) => setup(ctx).await.context("setup")?,
    };
    let mut targets = vec![Arc::new(Target::new(scenario, &prepared, app.addr)?)];

    let mut reference = None;
    if !scenario.references.is_empty() {
        // The page the reference serialises is the server's own first catalog page.
        let page = if scenario
            .references
            .iter()
            .any(|r| r.path.starts_with("/page"))
        {
            let (status, body) = ctx
                .request(Method::GET, "/api/packages/", &[], None)
                .await?;
            anyhow::ensure!(status.is_success(), "the package list answered {status}");
            let path = app.dir.path().join("page.json");
            fs::write(&path, &body)?;
            Some(path)
        } else {
            None
        };
        let bench = std::env::current_exe().context("the bench binary's path")?;
        let (server, _, _) = start_server(&bench, "/plain", |_, port| {
            reference_env(&app, port, page.as_deref())
        })
        .await
        .context("the reference server failed to start")?;
        for r in &scenario.references {
            targets.push(Arc::new(Target::reference(
                r,
                scenario,
                &prepared,
                server.addr,
            )?));
        }
        reference = Some(server);
    }
    let (app_addr, app_pid) = (app.addr, app.pid());
    let reference_pid = reference.as_ref().map_or(0, Server::pid);
    let pid_of = |target: &Target| {
        if target.addr == app_addr {
            app_pid
        } else {
            reference_pid
        }
    };
    let idle: Vec<u64> = targets
        .iter()
        .map(|t| rss_bytes(&pid_of(t).to_string()).unwrap_or(0))
        .collect();

    let mut samples: Vec<Sample> = targets.iter().map(|_| Sample::default()).collect();
    for round in 0..settings.rounds {
        // Alternate who goes first, so drift on a shared machine hits both sides alike.
        let order: Vec<usize> = if round % 2 == 0 {
            (0..targets.len()).collect()
        } else {
            (0..targets.len()).rev().collect()
        };
        for i in order {
            let connections = scenario.connections.unwrap_or(settings.connections);
            let sample = run_load(&targets[i], pid_of(&targets[i]), connections, settings).await;
            samples[i].add(sample);
        }
        if let Some(status) = app.exited() {
            anyhow::bail!("the server exited ({status}):\n{}", app.log_tail());
        }
    }

    let mut rows: Vec<Row> = samples
        .into_iter()
        .zip(&targets)
        .zip(idle)
        .map(|((sample, target), idle)| {
            Row::from_sample(
                scenario.name,
                &target.label,
                sample,
                idle,
                settings,
                tick_us,
            )
        })
        .collect();
    for row in &mut rows {
        row.connections = scenario.connections.unwrap_or(settings.connections);
    }
    let app_rps = rows[0].requests_per_s;
    for row in rows.iter_mut().skip(1) {
        if row.requests_per_s > 0.0 {
            row.ratio = Some(app_rps / row.requests_per_s);
        }
    }
    if let Some(line) = cache_stats(&app).await {
        notes.push(format!("{}: {line}", scenario.name));
    }
    Ok(rows)
}

/// The server's cache counters after the run (from `/health/`), with the hit rate.
async fn cache_stats(server: &Server) -> Option<String> {
    let ctx = SetupCtx {
        addr: server.addr,
        users: 0,
    };
    let (_, body) = ctx.request(Method::GET, "/health/", &[], None).await.ok()?;
    let health = serde_json::from_slice::<serde_json::Value>(&body).ok()?;
    let cache = &health["cache"];
    let hits = cache["hits"].as_u64().unwrap_or(0);
    let misses = cache["misses"].as_u64().unwrap_or(0);
    let rate = if hits + misses > 0 {
        100.0 * hits as f64 / (hits + misses) as f64
    } else {
        0.0
    };
    Some(format!(
        "cache: tier={} enabled={} hits={hits} misses={misses} hit rate={rate:.2}%",
        cache["tier"], cache["enabled"]
    ))
}

/// Loads the demo catalog (3 packages, 4 campaigns) into the server's database with the same binary.
fn seed_demo(binary: &Path, server: &Server, orders: usize) -> Result<()> {
    let mut command = Command::new(binary);
    command
        .arg("seed-demo")
        .arg(format!("--orders={orders}"))
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
    if std::env::var_os(reference::ADDR_ENV).is_some() {
        return reference::main();
    }
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
