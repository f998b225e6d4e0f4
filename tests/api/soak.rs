//! The soak (issue 14 item 5, reliability F2): the real binary on PostgreSQL under mixed traffic —
//! the catalog, logins, cart adds and removes, order creation against the fake gateway, my-orders,
//! the admin order list — for `SOAK_SECONDS` (CI: 300). Every answer must be the expected one (zero
//! errors) and the server's RSS at the end within 10 % of its value after the warm-up.
//!
//! `#[ignore]`d: it runs for minutes. `.ci/run` runs it with
//! `cargo test --test api soak -- --ignored` after the README's test command.

use std::{
    sync::{
        Arc,
        atomic::{AtomicU64, Ordering},
    },
    time::{Duration, Instant},
};

use electioncart::{AppState, auth::model::Role};
use serde_json::{Value, json};

use crate::{
    blackbox::{SECRET, ServerProcess, http_client},
    helpers::{Backend, TestDb, pg_admin_url, test_config},
};

const WORKERS: usize = 8;
const WARMUP: Duration = Duration::from_secs(30);

fn rss_kib(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("VmRSS:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        })
        .unwrap_or(0)
}

#[derive(Default)]
struct Tally {
    ok: AtomicU64,
    errors: AtomicU64,
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "minutes long: .ci/run runs it with --ignored"]
async fn mixed_traffic_soak() {
    let seconds: u64 = std::env::var("SOAK_SECONDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(300);
    let backend = if pg_admin_url().is_some() {
        Backend::Postgres
    } else {
        Backend::Sqlite
    };
    let db = TestDb::new(backend).await;
    let url = db.url.clone();
    let env = [
        ("DATABASE_URL", url.as_str()),
        ("RAZORPAY_MODE", "fake"),
        ("RATE_LIMIT_ENABLED", "false"),
    ];
    let server = ServerProcess::spawn(&env).await;
    let base = format!("http://127.0.0.1:{}", server.port);
    let state = AppState::build(test_config(&url, &[("DJANGO_SECRET_KEY", SECRET)]))
        .await
        .expect("state");
    let hash = state
        .passwords
        .hash("soak-pass-2026".into())
        .await
        .expect("hash");
    let mut users = Vec::new();
    for (name, role) in [("soak-admin", Role::Admin)]
        .into_iter()
        .chain((0..WORKERS).map(|_| ("", Role::User)))
    {
        let username = if name.is_empty() {
            format!("soak-{}", users.len())
        } else {
            name.to_string()
        };
        let user = electioncart::auth::repo::create(
            &state.db,
            &electioncart::auth::model::NewUser {
                username,
                password_hash: hash.clone(),
                phone_number: None,
                firebase_uid: None,
                role,
            },
        )
        .await
        .expect("user");
        users.push(user);
    }
    let client = http_client();
    let admin_token = state
        .jwt
        .issue(users[0].id, None, &users[0].role)
        .expect("token");
    let created: Value = client
        .post(format!("{base}/api/admin/products/package/"))
        .bearer_auth(&admin_token)
        .json(
            &json!({"name": "Soak Pack", "price": "250.00", "description": "d",
                      "items": [{"name": "Posters", "quantity": 10}]}),
        )
        .send()
        .await
        .expect("create package")
        .json()
        .await
        .expect("package JSON");
    let package = created["data"]["id"]
        .as_i64()
        .or_else(|| created["id"].as_i64())
        .expect("package id");

    let tally = Arc::new(Tally::default());
    let started = Instant::now();
    let deadline = started + Duration::from_secs(seconds);
    let mut tasks = Vec::new();
    for user in users.iter().skip(1).cloned() {
        let client = client.clone();
        let base = base.clone();
        let tally = Arc::clone(&tally);
        let token = state.jwt.issue(user.id, None, &user.role).expect("token");
        let admin_token = admin_token.clone();
        tasks.push(tokio::spawn(async move {
            let mut round = 0_u64;
            while Instant::now() < deadline {
                round += 1;
                let mut steps: Vec<(reqwest::RequestBuilder, u16)> = vec![
                    (client.get(format!("{base}/api/packages/")), 200),
                    (client.get(format!("{base}/api/packages/{package}/")), 200),
                    (
                        client
                            .post(format!("{base}/api/cart/add/"))
                            .bearer_auth(&token)
                            .json(&json!({"item_type": "package", "item_id": package})),
                        200,
                    ),
                    (
                        client.get(format!("{base}/api/cart/")).bearer_auth(&token),
                        200,
                    ),
                    (
                        client
                            .get(format!("{base}/api/orders/my-orders/"))
                            .bearer_auth(&token),
                        200,
                    ),
                    (
                        client
                            .get(format!("{base}/api/admin/orders/"))
                            .bearer_auth(&admin_token),
                        200,
                    ),
                ];
                if round.is_multiple_of(5) {
                    steps.push((
                        client.post(format!("{base}/api/auth/login/")).json(
                            &json!({"username": user.username, "password": "soak-pass-2026"}),
                        ),
                        200,
                    ));
                }
                // Every third round places the cart as an order; the others empty it.
                if round.is_multiple_of(3) {
                    steps.push((
                        client
                            .post(format!("{base}/api/orders/create/"))
                            .bearer_auth(&token)
                            .json(&json!({})),
                        201,
                    ));
                } else {
                    steps.push((
                        client
                            .delete(format!("{base}/api/cart/clear/"))
                            .bearer_auth(&token),
                        200,
                    ));
                }
                for (request, expected) in steps {
                    match request.send().await {
                        Ok(r) if r.status().as_u16() == expected => {
                            let _ = r.bytes().await;
                            tally.ok.fetch_add(1, Ordering::Relaxed);
                        }
                        Ok(r) => {
                            let status = r.status();
                            let body = r.text().await.unwrap_or_default();
                            eprintln!("soak: {status} (wanted {expected}): {body:.200}");
                            tally.errors.fetch_add(1, Ordering::Relaxed);
                        }
                        Err(error) => {
                            eprintln!("soak: {error}");
                            tally.errors.fetch_add(1, Ordering::Relaxed);
                        }
                    }
                }
            }
        }));
    }

    let pid = server.pid();
    tokio::time::sleep(WARMUP.min(Duration::from_secs(seconds / 3))).await;
    let after_warmup = rss_kib(pid);
    let ok_at_warmup = tally.ok.load(Ordering::Relaxed);
    let mut samples = vec![after_warmup];
    while Instant::now() < deadline {
        tokio::time::sleep(
            Duration::from_secs(10).min(deadline.saturating_duration_since(Instant::now())),
        )
        .await;
        samples.push(rss_kib(pid));
    }
    for task in tasks {
        task.await.expect("worker");
    }
    let end = rss_kib(pid);
    let ok = tally.ok.load(Ordering::Relaxed);
    let errors = tally.errors.load(Ordering::Relaxed);
    eprintln!(
        "soak: {seconds} s, {ok} answers ({:.0}/s after the warm-up), {errors} errors; RSS after the \
         warm-up {after_warmup} KiB, at the end {end} KiB ({:+.1} %); samples {samples:?}",
        (ok - ok_at_warmup) as f64
            / (seconds as f64 - WARMUP.min(Duration::from_secs(seconds / 3)).as_secs_f64()),
        (end as f64 / after_warmup.max(1) as f64 - 1.0) * 100.0
    );
    assert_eq!(errors, 0, "every answer as expected");
    assert!(ok > 0);
    assert!(
        end as f64 <= after_warmup as f64 * 1.10,
        "RSS grew from {after_warmup} KiB to {end} KiB: {samples:?}\n{}",
        server.stderr()
    );
    state.db.close().await;
}
