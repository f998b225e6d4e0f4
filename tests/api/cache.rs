//! The cache (DESIGN §4, D21): the facade's contract on every tier (memory, SQL on both databases,
//! Redis), single flight, cross-instance invalidation (SQL table shared; Redis pub/sub drops other
//! instances' L1), user-by-id for authentication, faults of a private Redis (absent, killed, paused,
//! restarted), and the stats in `/health/` and `GET /api/admin/cache/status/`.
//!
//! Redis tests run when `TEST_REDIS_URL` is set (a unique `REDIS_KEY_PREFIX` each); fault tests start
//! their own `redis-server` on a random port.

use std::{
    convert::Infallible,
    sync::{
        Arc,
        atomic::{AtomicUsize, Ordering},
    },
    time::{Duration, Instant},
};

use axum::{
    Router,
    body::Body,
    http::{Request, StatusCode},
};
use electioncart::{
    AppState,
    auth::model::Role,
    build_router,
    cache::{Cache, CacheStats},
    db::Db,
};
use serde_json::{Value, json};

use crate::helpers::{
    Backend, OwnRedis, TestApp, TestDb, authed, backends, create_user, free_port, json_request,
    send, test_config, test_redis_url, token_for,
};

const TTL: Duration = Duration::from_secs(60);
/// Generous bound against hangs (the Redis op timeout is 250 ms).
const BOUNDED: Duration = Duration::from_secs(2);

fn namespace() -> String {
    format!("t{}:", uuid::Uuid::new_v4().simple())
}

fn redis_prefix() -> String {
    format!("ec-test-{}:", uuid::Uuid::new_v4().simple())
}

/// Fails the test instead of hanging it.
async fn within<F: std::future::Future>(limit: Duration, what: &str, f: F) -> F::Output {
    tokio::time::timeout(limit, f)
        .await
        .unwrap_or_else(|_| panic!("{what} did not finish within {limit:?}"))
}

async fn state_on(url: &str, vars: &[(&str, &str)]) -> AppState {
    AppState::build(test_config(url, vars))
        .await
        .expect("app state")
}

async fn wait_for(what: &str, limit: Duration, mut check: impl FnMut() -> bool) {
    let deadline = Instant::now() + limit;
    while !check() {
        assert!(Instant::now() < deadline, "{what} within {limit:?}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// get/set/get_or_compute/TTL/invalidate/invalidate_prefix and exact hit/miss counts.
async fn conformance(cache: &Cache, tier: &str) {
    let ns = namespace();
    let k = |s: &str| format!("{ns}{s}");
    let before = cache.stats();
    let (mut hits, mut misses) = (0u64, 0u64);

    assert_eq!(cache.get::<String>(&k("cold")).await, None, "{tier}");
    misses += 1;

    cache.set(&k("a"), &json!({"n": 1}), TTL).await;
    assert_eq!(cache.get::<Value>(&k("a")).await, Some(json!({"n": 1})));
    hits += 1;

    let runs = AtomicUsize::new(0);
    for _ in 0..3 {
        let v: u32 = cache
            .get_or_compute(&k("computed"), TTL, async {
                runs.fetch_add(1, Ordering::SeqCst);
                Ok::<_, Infallible>(7)
            })
            .await
            .expect("infallible");
        assert_eq!(v, 7);
    }
    assert_eq!(runs.load(Ordering::SeqCst), 1, "{tier}: computed once");
    misses += 1;
    hits += 2;

    // Rendered JSON comes back as the stored text, byte for byte (key order, spacing), without
    // a second computation; and a typed read of the same key parses it.
    let text = r#"{"b": 2,"a":[1, 2]}"#;
    for _ in 0..2 {
        let stored = cache
            .get_or_compute_json(&k("rendered"), TTL, async {
                runs.fetch_add(1, Ordering::SeqCst);
                Ok::<_, Infallible>(electioncart::cache::CachedJson(text.into()))
            })
            .await
            .expect("infallible");
        assert_eq!(stored.as_str(), text, "{tier}");
    }
    assert_eq!(runs.load(Ordering::SeqCst), 2, "{tier}: rendered once");
    assert_eq!(
        cache.get::<Value>(&k("rendered")).await,
        Some(json!({"a": [1, 2], "b": 2}))
    );
    misses += 1;
    hits += 2;

    // An error is the caller's, and nothing is stored.
    let failed: Result<u32, &str> = cache
        .get_or_compute(&k("fails"), TTL, async { Err("boom") })
        .await;
    assert_eq!(failed, Err("boom"));
    let ok: Result<u32, &str> = cache
        .get_or_compute(&k("fails"), TTL, async { Ok(5) })
        .await;
    assert_eq!(ok, Ok(5));
    misses += 2;

    cache.set(&k("a"), &json!({"n": 2}), TTL).await;
    assert_eq!(cache.get::<Value>(&k("a")).await, Some(json!({"n": 2})));
    hits += 1;

    cache
        .set(&k("short"), "brief", Duration::from_millis(300))
        .await;
    assert_eq!(
        cache.get::<String>(&k("short")).await.as_deref(),
        Some("brief")
    );
    hits += 1;
    tokio::time::sleep(Duration::from_millis(1200)).await;
    assert_eq!(
        cache.get::<String>(&k("short")).await,
        None,
        "{tier}: expired"
    );
    misses += 1;

    cache.invalidate(&k("a")).await;
    assert_eq!(cache.get::<Value>(&k("a")).await, None, "{tier}");
    misses += 1;

    // Prefixes: siblings survive, including ones that SQL LIKE wildcards (`%`, `_`), SQLite's
    // case-insensitive LIKE, or Redis glob metacharacters (`*`, `[ab]`) would wrongly match.
    let cases: &[(&str, &[&str], &[&str])] = &[
        ("p:a:", &["p:a:1", "p:a:2"], &["p:ab", "p:b:1", "P:a:3"]),
        ("w%_:", &["w%_:1"], &["wxy:1"]),
        ("g*:", &["g*:1"], &["gzz:1"]),
        ("h[ab]:", &["h[ab]:1"], &["ha:1"]),
    ];
    for (prefix, gone, kept) in cases {
        for key in gone.iter().chain(kept.iter()) {
            cache.set(&k(key), key, TTL).await;
        }
        cache.invalidate_prefix(&k(prefix)).await;
        for key in *gone {
            assert_eq!(
                cache.get::<String>(&k(key)).await,
                None,
                "{tier}: {key} under {prefix}"
            );
            misses += 1;
        }
        for key in *kept {
            assert_eq!(
                cache.get::<String>(&k(key)).await.as_deref(),
                Some(*key),
                "{tier}: {key} is not under {prefix}"
            );
            hits += 1;
        }
    }

    let after = cache.stats();
    assert_eq!(after.tier, tier, "{after:?}");
    assert_eq!(after.hits - before.hits, hits, "{tier}: hits {after:?}");
    assert_eq!(
        after.misses - before.misses,
        misses,
        "{tier}: misses {after:?}"
    );
    assert_eq!(after.invalidations - before.invalidations, 5);
    assert!(after.enabled);
    assert_eq!(after.ttl_seconds, 300);
}

/// 50 concurrent misses of one cold key: one computation, 49 hits.
async fn single_flight(cache: &Cache) {
    let key = format!("{}cold", namespace());
    let runs = Arc::new(AtomicUsize::new(0));
    let before = cache.stats();
    let tasks: Vec<_> = (0..50)
        .map(|_| {
            let (cache, runs, key) = (cache.clone(), runs.clone(), key.clone());
            tokio::spawn(async move {
                cache
                    .get_or_compute(&key, TTL, async {
                        runs.fetch_add(1, Ordering::SeqCst);
                        tokio::time::sleep(Duration::from_millis(200)).await;
                        Ok::<_, Infallible>(vec![4u8, 2])
                    })
                    .await
            })
        })
        .collect();
    for task in tasks {
        let value = within(Duration::from_secs(10), "a flight", task)
            .await
            .expect("task")
            .expect("infallible");
        assert_eq!(value, vec![4, 2]);
    }
    assert_eq!(runs.load(Ordering::SeqCst), 1, "the computation ran once");
    let after = cache.stats();
    assert_eq!(after.misses - before.misses, 1, "{after:?}");
    assert_eq!(after.hits - before.hits, 49, "{after:?}");
    assert!(after.coalesced > before.coalesced, "{after:?}");
}

/// A cache whose database is closed: the SQL tier fails, the memory tier answers.
async fn memory_only_cache() -> (Cache, TestDb) {
    let db = TestDb::new(Backend::Sqlite).await;
    let config = test_config(&db.url, &[]);
    let pool = Db::connect_url(&db.url, 2, Duration::from_secs(5))
        .await
        .expect("db");
    pool.close().await;
    (Cache::new(&config, pool, None), db)
}

#[tokio::test]
async fn memory_tier_conformance() {
    let (cache, _db) = memory_only_cache().await;
    within(
        Duration::from_secs(30),
        "conformance",
        conformance(&cache, "memory"),
    )
    .await;
    let stats = cache.status().await;
    assert!(
        stats.errors >= 1,
        "the failing SQL tier is counted: {stats:?}"
    );
    assert!(stats.entries >= 1, "{stats:?}");
    assert!(!stats.redis_configured && !stats.redis_connected && !stats.l1_active);
}

#[tokio::test]
async fn sql_tier_conformance() {
    for backend in backends() {
        let app = TestApp::new(backend).await;
        within(
            Duration::from_secs(30),
            "conformance",
            conformance(&app.state.cache, "database"),
        )
        .await;
        let stats = app.state.cache.stats();
        assert_eq!(stats.errors, 0, "{backend:?} {stats:?}");
        assert_eq!(stats.entries, 0, "no in-process copies without Redis");
        assert!(!stats.l1_active);
    }
}

#[tokio::test]
async fn redis_tier_conformance() {
    let Some(url) = test_redis_url() else {
        return;
    };
    let db = TestDb::new(Backend::Sqlite).await;
    let prefix = redis_prefix();
    let state = state_on(
        &db.url,
        &[
            ("REDIS_URL", url.as_str()),
            ("REDIS_KEY_PREFIX", prefix.as_str()),
        ],
    )
    .await;
    wait_for("the L1 switched on", Duration::from_secs(5), || {
        state.cache.stats().l1_active
    })
    .await;
    within(
        Duration::from_secs(30),
        "conformance",
        conformance(&state.cache, "redis"),
    )
    .await;
    let stats = state.cache.stats();
    assert!(stats.redis_configured && stats.redis_connected, "{stats:?}");
    assert_eq!(stats.errors, 0, "{stats:?}");
    assert!(stats.l1_hits > 0, "the L1 answered some reads: {stats:?}");
    // Nothing went to the SQL table.
    let Db::Sqlite(s) = &state.db else {
        panic!("sqlite")
    };
    let rows: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM cache_entries")
        .fetch_one(&s.read)
        .await
        .expect("count");
    assert_eq!(rows, 0);
    single_flight(&state.cache).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn single_flight_on_memory_and_sql() {
    let (cache, _db) = memory_only_cache().await;
    single_flight(&cache).await;
    for backend in backends() {
        let app = TestApp::new(backend).await;
        single_flight(&app.state.cache).await;
    }
}

#[tokio::test]
async fn a_failed_computation_is_not_shared_or_stored() {
    let app = TestApp::new(Backend::Sqlite).await;
    let cache = &app.state.cache;
    let key = format!("{}k", namespace());
    let runs = AtomicUsize::new(0);
    let calls = (0..5).map(|_| {
        cache.get_or_compute(&key, TTL, async {
            runs.fetch_add(1, Ordering::SeqCst);
            tokio::time::sleep(Duration::from_millis(50)).await;
            Err::<u32, _>("down")
        })
    });
    let results = futures_util::future::join_all(calls).await;
    assert!(results.iter().all(|r| *r == Err("down")));
    // Each waiter tried its own computation after the one before failed.
    assert_eq!(runs.load(Ordering::SeqCst), 5);
    assert_eq!(cache.get::<u32>(&key).await, None);
}

#[tokio::test]
async fn a_value_computed_across_an_invalidation_is_not_stored() {
    let app = TestApp::new(Backend::Sqlite).await;
    let cache = app.state.cache.clone();
    let key = format!("{}racy", namespace());
    let (release, wait) = tokio::sync::oneshot::channel::<()>();
    let reader = {
        let (cache, key) = (cache.clone(), key.clone());
        tokio::spawn(async move {
            cache
                .get_or_compute(&key, TTL, async {
                    let _ = wait.await;
                    Ok::<_, Infallible>("read before the write".to_string())
                })
                .await
        })
    };
    tokio::time::sleep(Duration::from_millis(100)).await;
    // The write happens (and invalidates) while the reader is still computing.
    cache.invalidate(&key).await;
    release.send(()).expect("reader waiting");
    let value = within(BOUNDED, "reader", reader)
        .await
        .expect("task")
        .expect("infallible");
    assert_eq!(value, "read before the write", "the caller gets its value");
    assert_eq!(
        cache.get::<String>(&key).await,
        None,
        "but it is not stored"
    );
}

#[tokio::test]
async fn disabled_cache_always_computes() {
    let app = TestApp::with_env(Backend::Sqlite, &[("CACHE_ENABLED", "false")]).await;
    let cache = &app.state.cache;
    let runs = AtomicUsize::new(0);
    for _ in 0..3 {
        let v: u8 = cache
            .get_or_compute("k", TTL, async {
                runs.fetch_add(1, Ordering::SeqCst);
                Ok::<_, Infallible>(1)
            })
            .await
            .expect("infallible");
        assert_eq!(v, 1);
    }
    assert_eq!(runs.load(Ordering::SeqCst), 3);
    cache.set("k2", &1u8, TTL).await;
    assert_eq!(cache.get::<u8>("k2").await, None);
    let stats = cache.stats();
    assert!(!stats.enabled);
    assert_eq!(stats.tier, "none");
    assert_eq!((stats.hits, stats.misses), (0, 0));
}

/// Without Redis the SQL table is shared and there is no L1: a write on one instance is seen by the
/// other on its very next read.
#[tokio::test]
async fn two_instances_share_the_sql_tier() {
    // Without Redis each instance keeps a copy for at most 1 s: another instance's write shows
    // within that bound (its own writes at once).
    async fn within_a_second(cache: &electioncart::cache::Cache, key: &str, want: Option<&str>) {
        let deadline = std::time::Instant::now() + Duration::from_millis(1500);
        loop {
            let got = cache.get::<String>(key).await;
            if got.as_deref() == want {
                return;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "still {got:?}, wanted {want:?} after 1.5 s"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
    for backend in backends() {
        let db = TestDb::new(backend).await;
        let a = state_on(&db.url, &[]).await;
        let b = state_on(&db.url, &[]).await;
        let key = format!("{}shared", namespace());
        a.cache.set(&key, "one", TTL).await;
        assert_eq!(b.cache.get::<String>(&key).await.as_deref(), Some("one"));
        assert_eq!(a.cache.get::<String>(&key).await.as_deref(), Some("one"));
        a.cache.set(&key, "two", TTL).await;
        assert_eq!(
            a.cache.get::<String>(&key).await.as_deref(),
            Some("two"),
            "own write at once"
        );
        within_a_second(&b.cache, &key, Some("two")).await;
        a.cache.invalidate(&key).await;
        assert_eq!(a.cache.get::<String>(&key).await, None, "{backend:?}");
        within_a_second(&b.cache, &key, None).await;
        a.db.close().await;
        b.db.close().await;
    }
}

/// Two instances sharing Redis: an invalidation (or a set, or a prefix) on A reaches B's L1 through
/// pub/sub within 1 s (the L1 itself keeps values for 10 s).
#[tokio::test]
async fn pubsub_drops_the_other_instances_l1() {
    let Some(url) = test_redis_url() else {
        return;
    };
    let prefix = redis_prefix();
    let vars = [
        ("REDIS_URL", url.as_str()),
        ("REDIS_KEY_PREFIX", prefix.as_str()),
    ];
    let db_a = TestDb::new(Backend::Sqlite).await;
    let db_b = TestDb::new(Backend::Sqlite).await;
    let a = state_on(&db_a.url, &vars).await;
    let b = state_on(&db_b.url, &vars).await;
    for s in [&a, &b] {
        wait_for("the L1 switched on", Duration::from_secs(5), || {
            s.cache.stats().l1_active
        })
        .await;
    }
    let ns = namespace();
    let key = format!("{ns}item");
    let runs = AtomicUsize::new(0);
    let read_b = |value: &'static str| {
        b.cache.get_or_compute(&key, TTL, async {
            runs.fetch_add(1, Ordering::SeqCst);
            Ok::<_, Infallible>(value.to_string())
        })
    };
    assert_eq!(read_b("v1").await.expect("ok"), "v1");
    let l1_hits = b.cache.stats().l1_hits;
    assert_eq!(read_b("v1").await.expect("ok"), "v1");
    assert_eq!(
        b.cache.stats().l1_hits,
        l1_hits + 1,
        "B answers from its L1"
    );
    assert_eq!(
        a.cache.get::<String>(&key).await.as_deref(),
        Some("v1"),
        "A reads B's value from Redis"
    );

    a.cache.invalidate(&key).await;
    let started = Instant::now();
    while runs.load(Ordering::SeqCst) < 2 {
        assert!(
            started.elapsed() < Duration::from_secs(1),
            "B still serves its L1 copy a second after A's invalidation"
        );
        assert!(["v1", "v2"].contains(&read_b("v2").await.expect("ok").as_str()));
        tokio::time::sleep(Duration::from_millis(10)).await;
    }

    // A set on A replaces B's copy too.
    a.cache.set(&key, "v3", TTL).await;
    let started = Instant::now();
    while b.cache.get::<String>(&key).await.as_deref() != Some("v3") {
        assert!(
            started.elapsed() < Duration::from_secs(1),
            "B never saw A's set"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }

    // A prefix on A: B's entries under it go, its sibling stays in B's L1.
    for s in ["list:1", "list:2", "lists"] {
        b.cache.set(&format!("{ns}{s}"), s, TTL).await;
        assert!(b.cache.get::<String>(&format!("{ns}{s}")).await.is_some());
    }
    a.cache.invalidate_prefix(&format!("{ns}list:")).await;
    let started = Instant::now();
    loop {
        let one = b.cache.get::<String>(&format!("{ns}list:1")).await;
        let two = b.cache.get::<String>(&format!("{ns}list:2")).await;
        if one.is_none() && two.is_none() {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(1),
            "B kept {one:?} {two:?}"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let l1_hits = b.cache.stats().l1_hits;
    assert_eq!(
        b.cache
            .get::<String>(&format!("{ns}lists"))
            .await
            .as_deref(),
        Some("lists")
    );
    assert_eq!(
        b.cache.stats().l1_hits,
        l1_hits + 1,
        "the sibling stayed in B's L1"
    );
}

fn app_on(state: AppState, url: &str) -> TestApp {
    TestApp {
        router: build_router(state.clone()),
        state,
        db: TestDb::borrowed(url),
    }
}

async fn get_as(app: &TestApp, path: &str, token: &str) -> crate::helpers::TestResponse {
    app.request(authed(
        Request::get(path).body(Body::empty()).expect("request"),
        token,
    ))
    .await
}

/// The per-request user lookup is cached in Redis; role changes, deletions and password changes on
/// one instance apply to the other's very next request.
#[tokio::test]
async fn user_changes_apply_at_once_on_another_instance() {
    let Some(url) = test_redis_url() else {
        return;
    };
    let prefix = redis_prefix();
    let vars = [
        ("REDIS_URL", url.as_str()),
        ("REDIS_KEY_PREFIX", prefix.as_str()),
    ];
    let db = TestDb::new(Backend::Sqlite).await;
    let a = app_on(state_on(&db.url, &vars).await, &db.url);
    let b = app_on(state_on(&db.url, &vars).await, &db.url);
    let boss = create_user(&a, "boss", "boss-pass-123", Role::Admin).await;
    let deputy = create_user(&a, "deputy", "deputy-pass-123", Role::Admin).await;
    let boss_token = token_for(&a, &boss);
    let deputy_token = token_for(&a, &deputy);

    assert_eq!(
        get_as(&b, "/api/auth/users/", &deputy_token).await.status,
        StatusCode::OK
    );
    let hits = b.state.cache.stats().hits;
    assert_eq!(
        get_as(&b, "/api/auth/users/", &deputy_token).await.status,
        StatusCode::OK
    );
    assert_eq!(
        b.state.cache.stats().hits,
        hits + 1,
        "the user came from the cache"
    );

    // The cached entry carries no password hash.
    let mut conn = redis::Client::open(url.as_str())
        .expect("client")
        .get_multiplexed_async_connection()
        .await
        .expect("connect");
    let raw: Option<String> = redis::cmd("GET")
        .arg(format!(
            "{prefix}cache:{}",
            electioncart::auth::cache::user_key(deputy.id)
        ))
        .query_async(&mut conn)
        .await
        .expect("get");
    let raw = raw.expect("the user is cached in Redis");
    assert!(raw.contains("deputy") && !raw.contains("argon2"), "{raw}");

    let r = a
        .request(authed(
            json_request(
                "PATCH",
                &format!("/api/auth/users/{}/role/", deputy.id),
                json!({"role": "staff"}),
            ),
            &boss_token,
        ))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert_eq!(
        get_as(&b, "/api/auth/users/", &deputy_token).await.status,
        StatusCode::FORBIDDEN,
        "demoted on A: refused on B at once"
    );
    assert_eq!(
        get_as(&b, "/api/auth/me/", &deputy_token).await.json()["role"],
        "staff"
    );

    let r = a
        .request(authed(
            Request::delete(format!("/api/auth/users/{}/", deputy.id))
                .body(Body::empty())
                .expect("request"),
            &boss_token,
        ))
        .await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(
        get_as(&b, "/api/auth/me/", &deputy_token).await.status,
        StatusCode::UNAUTHORIZED
    );

    // An unknown id is not cached: the account that gets it later signs in at once.
    let mut future = deputy.clone();
    future.id = deputy.id + 1;
    let early = token_for(&a, &future);
    assert_eq!(
        get_as(&b, "/api/auth/me/", &early).await.status,
        StatusCode::UNAUTHORIZED
    );
    let newcomer = create_user(&a, "newcomer", "newcomer-pass-1", Role::User).await;
    assert_eq!(newcomer.id, future.id, "ids are handed out in order");
    assert_eq!(
        get_as(&b, "/api/auth/me/", &early).await.status,
        StatusCode::OK
    );

    // A password change (the create-admin path) voids older tokens on B at once.
    let user = create_user(&a, "changer", "first-pass-123", Role::User).await;
    let old = token_for(&a, &user);
    assert_eq!(
        get_as(&b, "/api/auth/me/", &old).await.status,
        StatusCode::OK
    );
    tokio::time::sleep(Duration::from_millis(1100)).await;
    electioncart::auth::service::ensure_user(
        &a.state,
        "changer",
        Some("Second-Pass-456!x"),
        Role::User,
        None,
    )
    .await
    .expect("password changed");
    assert_eq!(
        get_as(&b, "/api/auth/me/", &old).await.status,
        StatusCode::UNAUTHORIZED
    );
}

fn cache_router(state: &AppState) -> Router {
    Router::new()
        .route(
            "/api/admin/cache/status/",
            axum::routing::get(electioncart::health::cache_status),
        )
        .with_state(state.clone())
}

#[tokio::test]
async fn status_endpoint_is_for_admins_and_counts_match() {
    for backend in backends() {
        let app = TestApp::new(backend).await;
        let router = cache_router(&app.state);
        let admin = create_user(&app, "root", "root-pass-123", Role::Admin).await;
        let user = create_user(&app, "plain", "plain-pass-123", Role::User).await;
        let status = |token: Option<String>| {
            let mut request = Request::get("/api/admin/cache/status/")
                .body(Body::empty())
                .expect("request");
            if let Some(token) = token {
                request = authed(request, &token);
            }
            send(&router, request)
        };
        let anonymous = status(None).await;
        assert_eq!(anonymous.status, StatusCode::UNAUTHORIZED);
        let forbidden = status(Some(token_for(&app, &user))).await;
        assert_eq!(forbidden.status, StatusCode::FORBIDDEN);

        let cache = &app.state.cache;
        let ns = namespace();
        cache.set(&format!("{ns}a"), &1u32, TTL).await;
        for _ in 0..3 {
            assert_eq!(cache.get::<u32>(&format!("{ns}a")).await, Some(1));
        }
        for i in 0..2 {
            assert_eq!(cache.get::<u32>(&format!("{ns}none{i}")).await, None);
        }
        let r = status(Some(token_for(&app, &admin))).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text());
        let body = r.json();
        assert_eq!(body["tier"], "database", "{body}");
        assert_eq!(body["enabled"], true);
        assert_eq!(body["hits"], 3, "{body}");
        assert_eq!(body["misses"], 2, "{body}");
        assert_eq!(body["errors"], 0, "{body}");
        assert_eq!(body["ttl_seconds"], 300);
        assert_eq!(body["redis_configured"], false);
        assert_eq!(body["redis_connected"], false);
        let parsed: Value = serde_json::to_value(cache.stats()).expect("json");
        for key in parsed.as_object().expect("object").keys() {
            assert!(body.get(key).is_some(), "{key} missing from {body}");
        }

        // `/health/` carries the same object.
        let health = app.get("/health/").await.json();
        assert_eq!(health["cache"]["tier"], "database");
        assert_eq!(health["cache"]["hits"], 3);
        assert_eq!(health["cache"]["misses"], 2);
    }
}

// ---- faults of a private Redis ----------------------------------------------------------------------

/// Reads a key through `get_or_compute`, bounded, returning (value, whether it was computed).
async fn read(cache: &Cache, key: &str, value: &str) -> (String, bool) {
    let computed = AtomicUsize::new(0);
    let started = Instant::now();
    let got = cache
        .get_or_compute(key, TTL, async {
            computed.fetch_add(1, Ordering::SeqCst);
            Ok::<_, Infallible>(value.to_string())
        })
        .await
        .expect("infallible");
    assert!(
        started.elapsed() < BOUNDED,
        "a cache read took {:?}",
        started.elapsed()
    );
    (got, computed.load(Ordering::SeqCst) == 1)
}

async fn wait_tier(cache: &Cache, tier: &str, limit: Duration, probe_key: &str) -> CacheStats {
    let deadline = Instant::now() + limit;
    loop {
        read(cache, probe_key, "probe").await;
        let stats = cache.stats();
        if stats.tier == tier {
            return stats;
        }
        assert!(
            Instant::now() < deadline,
            "tier {tier} within {limit:?}: {stats:?}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

#[tokio::test]
async fn redis_absent_at_boot_then_started() {
    if !crate::helpers::redis_fault_test_can_run() {
        return;
    }
    within(Duration::from_secs(60), "the test", async {
        let port = free_port();
        let url = format!("redis://127.0.0.1:{port}");
        let app = TestApp::with_env(Backend::Sqlite, &[("REDIS_URL", url.as_str())]).await;
        let cache = &app.state.cache;
        let ns = namespace();
        let (v, computed) = read(cache, &format!("{ns}a"), "one").await;
        assert_eq!((v.as_str(), computed), ("one", true));
        let (v, computed) = read(cache, &format!("{ns}a"), "other").await;
        assert_eq!(
            (v.as_str(), computed),
            ("one", false),
            "cached in the SQL table"
        );
        let stats = cache.stats();
        assert_eq!(stats.tier, "database", "{stats:?}");
        assert!(stats.redis_configured && !stats.redis_connected);
        assert!(!stats.l1_active);
        let health = app.get("/health/").await;
        assert_eq!(health.status, StatusCode::OK);
        assert_eq!(health.json()["cache"]["tier"], "database");

        // Redis appears: used within seconds, without a restart.
        let _redis = OwnRedis::start(port);
        let stats = wait_tier(
            cache,
            "redis",
            Duration::from_secs(15),
            &format!("{ns}probe"),
        )
        .await;
        assert!(stats.redis_connected, "{stats:?}");
        wait_for("the L1 switched on", Duration::from_secs(5), || {
            cache.stats().l1_active
        })
        .await;
    })
    .await;
}

#[tokio::test]
async fn redis_killed_mid_run_then_restarted() {
    if !crate::helpers::redis_fault_test_can_run() {
        return;
    }
    within(Duration::from_secs(60), "the test", async {
        let mut redis = OwnRedis::start_any();
        let url = redis.url();
        let app = TestApp::with_env(Backend::Sqlite, &[("REDIS_URL", url.as_str())]).await;
        let cache = &app.state.cache;
        let ns = namespace();
        let key = format!("{ns}a");
        assert!(read(cache, &key, "one").await.1);
        assert!(!read(cache, &key, "one").await.1);
        assert_eq!(cache.stats().tier, "redis");

        redis.kill();
        for i in 0..6 {
            let (v, _) = read(cache, &format!("{ns}during{}", i % 2), "fallback").await;
            assert_eq!(v, "fallback");
        }
        let stats = cache.stats();
        assert_eq!(stats.tier, "database", "{stats:?}");
        assert!(!stats.redis_connected, "{stats:?}");
        assert!(stats.errors >= 1, "{stats:?}");
        let (_, computed) = read(cache, &format!("{ns}during0"), "again").await;
        assert!(!computed, "the SQL table serves while Redis is away");
        assert_eq!(
            app.get("/health/").await.json()["cache"]["tier"],
            "database"
        );

        redis.restart();
        let stats = wait_tier(
            cache,
            "redis",
            Duration::from_secs(15),
            &format!("{ns}probe"),
        )
        .await;
        assert!(stats.redis_connected, "{stats:?}");
        // The restarted Redis is empty: values are computed and cached there again.
        let fresh = format!("{ns}fresh");
        assert!(read(cache, &fresh, "x").await.1);
        assert!(!read(cache, &fresh, "x").await.1);
        assert_eq!(cache.stats().tier, "redis");
    })
    .await;
}

#[tokio::test]
async fn redis_paused_then_resumed() {
    if !crate::helpers::redis_fault_test_can_run() {
        return;
    }
    within(Duration::from_secs(60), "the test", async {
        let redis = OwnRedis::start_any();
        let url = redis.url();
        let app = TestApp::with_env(Backend::Sqlite, &[("REDIS_URL", url.as_str())]).await;
        let cache = &app.state.cache;
        let ns = namespace();
        let key = format!("{ns}a");
        assert!(read(cache, &key, "before").await.1);
        assert_eq!(cache.stats().tier, "redis");

        redis.pause();
        let paused = scopeguard(&redis);
        for i in 0..5 {
            let started = Instant::now();
            read(cache, &format!("{ns}p{i}"), "while paused").await;
            assert!(started.elapsed() < BOUNDED);
        }
        // Written while Redis cannot hear it: remembered and replayed when it answers again.
        let started = Instant::now();
        cache.invalidate(&key).await;
        assert!(
            started.elapsed() < BOUNDED,
            "invalidate took {:?}",
            started.elapsed()
        );
        let stats = cache.stats();
        assert_ne!(stats.tier, "redis", "{stats:?}");
        assert!(!stats.redis_connected);
        assert!(stats.pending_invalidations >= 1, "{stats:?}");
        drop(paused);

        wait_tier(
            cache,
            "redis",
            Duration::from_secs(15),
            &format!("{ns}probe"),
        )
        .await;
        wait_for(
            "the deferred invalidation replayed",
            Duration::from_secs(5),
            || cache.stats().pending_invalidations == 0,
        )
        .await;
        let (v, computed) = read(cache, &key, "after").await;
        assert!(
            computed,
            "the key invalidated during the pause is gone from Redis"
        );
        assert_eq!(v, "after");
    })
    .await;
}

/// Resumes a paused server when dropped (also when an assertion fails).
struct Resume<'a>(&'a OwnRedis);

impl Drop for Resume<'_> {
    fn drop(&mut self) {
        self.0.resume();
    }
}

fn scopeguard(redis: &OwnRedis) -> Resume<'_> {
    Resume(redis)
}
