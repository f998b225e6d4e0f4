//! Operator subcommands, run as the real binary.

use std::process::{Command, Output};

use electioncart::auth::repo;

use crate::helpers::{Backend, TestApp, TestDb, backends, login};

fn run(db_url: &str, args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_electioncart"));
    cmd.args(args)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("DATABASE_URL", db_url)
        .env("RUST_LOG", "warn")
        .env(
            "DJANGO_SECRET_KEY",
            "test-secret-key-that-is-long-enough-0123456789",
        );
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.output().expect("run electioncart")
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

#[tokio::test]
async fn create_admin_is_idempotent() {
    for backend in backends() {
        let db = TestDb::new(backend).await;
        let args = [
            "create-admin",
            "--username",
            "ops",
            "--password",
            "ops-admin-pass-1",
            "--phone",
            "+919100000000",
        ];
        let first = run(&db.url, &args, &[]);
        assert!(first.status.success(), "{first:?}");
        assert!(stdout(&first).contains("created"), "{}", stdout(&first));
        let second = run(&db.url, &args, &[]);
        assert!(second.status.success());
        assert!(
            stdout(&second).contains("already up to date"),
            "{}",
            stdout(&second)
        );

        let app = TestApp::from_url(&db.url).await;
        let r = login(&app, "ops", "ops-admin-pass-1").await;
        assert_eq!(r.status, axum::http::StatusCode::OK);
        assert_eq!(r.json()["user"]["role"], "admin");

        // Promoting an existing user through the environment variables.
        let staff = run(
            &db.url,
            &["create-admin", "--staff"],
            &[("ADMIN_USERNAME", "ops")],
        );
        assert!(staff.status.success(), "{staff:?}");
        let user = repo::find_by_username(&app.state.db, "ops")
            .await
            .expect("query")
            .expect("user");
        assert_eq!(user.role, "staff");
    }
}

#[tokio::test]
async fn create_admin_generates_a_password_once_and_refuses_weak_ones() {
    let db = TestDb::new(Backend::Sqlite).await;
    let out = run(&db.url, &["create-admin", "--username", "gen"], &[]);
    assert!(out.status.success(), "{out:?}");
    let text = stdout(&out);
    let password = text
        .lines()
        .find_map(|l| l.strip_prefix("generated password (shown once): "))
        .expect("generated password printed")
        .to_string();
    let app = TestApp::from_url(&db.url).await;
    assert_eq!(
        login(&app, "gen", &password).await.status,
        axum::http::StatusCode::OK
    );

    let weak = run(
        &db.url,
        &[
            "create-admin",
            "--username",
            "weak",
            "--password",
            "12345678",
        ],
        &[],
    );
    assert!(!weak.status.success());
    assert!(String::from_utf8_lossy(&weak.stderr).contains("password rejected"));
}

#[tokio::test]
async fn seed_demo_loads_documented_accounts_and_refuses_production() {
    let db = TestDb::new(Backend::Sqlite).await;
    let out = run(&db.url, &["seed-demo"], &[]);
    assert!(out.status.success(), "{out:?}");
    assert!(
        run(&db.url, &["seed-demo"], &[]).status.success(),
        "idempotent"
    );
    let app = TestApp::from_url(&db.url).await;
    for (user, pass, role) in [
        ("demo-admin", "DemoAdmin#2026", "admin"),
        ("demo-staff", "DemoStaff#2026", "staff"),
        ("demo-customer", "DemoCustomer#2026", "user"),
    ] {
        let r = login(&app, user, pass).await;
        assert_eq!(r.status, axum::http::StatusCode::OK, "{user}");
        assert_eq!(r.json()["user"]["role"], role);
    }
    let packages = app.get("/api/packages/").await.json();
    assert_eq!(packages["count"], 3, "{packages}");
    assert_eq!(app.get("/api/campaigns/").await.json()["count"], 4);
    let popular = app.get("/api/packages/popular/").await.json();
    assert_eq!(popular.as_array().map(Vec::len), Some(2));
    assert_eq!(popular[0]["name"], "Election Hungama");
    assert!(
        popular[0]["items"]
            .as_array()
            .is_some_and(|i| !i.is_empty())
    );
    assert_eq!(popular[0]["price"], "18500.00");
    let prod = run(&db.url, &["seed-demo"], &[("APP_ENV", "production")]);
    assert!(!prod.status.success());
}

#[test]
fn check_names_the_problem_in_production() {
    let out = Command::new(env!("CARGO_BIN_EXE_electioncart"))
        .arg("check")
        .env_clear()
        .env("APP_ENV", "production")
        .env(
            "DJANGO_SECRET_KEY",
            "django-insecure-change-this-in-production",
        )
        .output()
        .expect("run");
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("DJANGO_SECRET_KEY"));
}

/// `openapi` prints the document the server serves, and a reader that stops early
/// (`electioncart openapi | head`) is no crash.
#[tokio::test]
async fn openapi_prints_the_served_document_and_survives_a_closed_pipe() {
    let app = TestApp::new(Backend::Sqlite).await;
    let served = app.get("/api/openapi.json").await.json();
    let out = run("sqlite::memory:", &["openapi"], &[]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let printed: serde_json::Value = serde_json::from_str(&stdout(&out)).expect("JSON document");
    assert_eq!(printed, served);

    let mut child = Command::new(env!("CARGO_BIN_EXE_electioncart"))
        .arg("openapi")
        .env("RUST_LOG", "warn")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("spawn");
    drop(child.stdout.take());
    let out = child.wait_with_output().expect("wait");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "exit {:?}: {stderr}", out.status);
    assert!(!stderr.contains("panicked"), "{stderr}");
}

/// `doctor`'s line for `name` (`"<status>  <name> …"`).
fn doctor_line<'a>(out: &'a str, name: &str) -> &'a str {
    out.lines()
        .find(|l| l.get(6..).is_some_and(|rest| rest.starts_with(name)))
        .unwrap_or_else(|| panic!("no {name} line in:\n{out}"))
}

// Multi-threaded: the mock gateway answers the doctor process while this test waits on it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn doctor_checks_every_dependency() {
    let media = tempfile::tempdir().expect("media dir");
    let media_root = media.path().display().to_string();
    let gateway = crate::gateway_mock::MockGateway::start().await;
    for backend in backends() {
        let db = TestDb::new(backend).await;
        let base = [("MEDIA_ROOT", media_root.as_str())];
        // A database never migrated: the migrations line fails, and so does the run.
        let out = run(&db.url, &["doctor"], &base);
        let text = stdout(&out);
        assert!(!out.status.success(), "{text}");
        assert!(doctor_line(&text, "database").starts_with("ok "), "{text}");
        assert!(
            doctor_line(&text, "migrations").starts_with("FAIL"),
            "{text}"
        );
        assert!(
            doctor_line(&text, "migrations").contains("8 analytics"),
            "{text}"
        );
        assert!(run(&db.url, &["migrate"], &[]).status.success());

        // Migrated, local disk, no Redis, the fake gateway: every required check passes.
        let out = run(&db.url, &["doctor"], &base);
        let text = stdout(&out);
        assert!(out.status.success(), "{text}");
        for name in [
            "configuration",
            "database",
            "migrations",
            "cache tier",
            "cache table",
            "storage",
        ] {
            assert!(
                doctor_line(&text, name).starts_with("ok "),
                "{name}: {text}"
            );
        }
        assert!(doctor_line(&text, "redis").starts_with("skip"), "{text}");
        assert!(
            doctor_line(&text, "razorpay").contains("fake gateway"),
            "{text}"
        );
        assert!(
            text.lines().take(8).all(|l| l.ends_with(" ms)")),
            "every line is timed: {text}"
        );
        assert_eq!(
            std::fs::read_dir(media.path().join("resources"))
                .map(|d| d.count())
                .unwrap_or(0),
            0,
            "the storage probe leaves nothing behind"
        );

        // A Redis that is not there: its line fails, the cache tier says why it falls back.
        let dead = [
            ("MEDIA_ROOT", media_root.as_str()),
            ("REDIS_URL", "redis://127.0.0.1:1"),
        ];
        let out = run(&db.url, &["doctor"], &dead);
        let text = stdout(&out);
        assert!(!out.status.success(), "{text}");
        assert!(doctor_line(&text, "redis").starts_with("FAIL"), "{text}");
        assert!(
            doctor_line(&text, "cache tier").contains("while Redis is unreachable"),
            "{text}"
        );
        if let Some(url) = crate::helpers::test_redis_url() {
            // A healthy setup — Redis up, the gateway's keys accepted: every line ok, exit 0.
            let gateway_env = gateway.env();
            let mut live: Vec<(&str, &str)> =
                gateway_env.iter().map(|(k, v)| (*k, v.as_str())).collect();
            live.extend([
                ("MEDIA_ROOT", media_root.as_str()),
                ("REDIS_URL", url.as_str()),
                ("REDIS_KEY_PREFIX", "ec-test-doctor:"),
            ]);
            let out = run(&db.url, &["doctor"], &live);
            let text = stdout(&out);
            assert!(out.status.success(), "{text}");
            let lines: Vec<&str> = text.lines().filter(|l| l.ends_with(" ms)")).collect();
            assert_eq!(lines.len(), 8, "{text}");
            assert!(lines.iter().all(|l| l.starts_with("ok ")), "{text}");
            assert!(
                doctor_line(&text, "redis").contains("pub/sub round trip"),
                "{text}"
            );
            assert!(doctor_line(&text, "cache tier").contains("Redis"), "{text}");
        }

        // The gateway's keys: accepted, refused, unreachable.
        let env = gateway.env();
        let mut vars: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
        vars.push(("MEDIA_ROOT", media_root.as_str()));
        let out = run(&db.url, &["doctor"], &vars);
        let text = stdout(&out);
        assert!(out.status.success(), "{text}");
        assert!(
            doctor_line(&text, "razorpay").contains("accepted"),
            "{text}"
        );
        let mut wrong = vars.clone();
        wrong.push(("RAZORPAY_KEY_SECRET", "not-the-secret"));
        let out = run(&db.url, &["doctor"], &wrong);
        assert!(!out.status.success());
        assert!(
            doctor_line(&stdout(&out), "razorpay").contains("refused"),
            "{}",
            stdout(&out)
        );
        let mut away = vars.clone();
        away.push(("RAZORPAY_API_BASE", "http://127.0.0.1:1"));
        let out = run(&db.url, &["doctor"], &away);
        assert!(!out.status.success());
        assert!(
            doctor_line(&stdout(&out), "razorpay").starts_with("FAIL"),
            "{}",
            stdout(&out)
        );
    }
}

#[tokio::test]
async fn doctor_checks_s3_storage() {
    let Some(storage) = crate::resources::storages("/nonexistent")
        .await
        .into_iter()
        .nth(1)
    else {
        return; // `storages` says the S3 runs are skipped (TEST_S3_ENDPOINT unset).
    };
    let db = TestDb::new(Backend::Sqlite).await;
    assert!(run(&db.url, &["migrate"], &[]).status.success());
    let vars: Vec<(&str, &str)> = storage
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    let out = run(&db.url, &["doctor"], &vars);
    let text = stdout(&out);
    assert!(out.status.success(), "{text}");
    assert!(
        doctor_line(&text, "storage").contains("S3 bucket ec-test-"),
        "{text}"
    );
    let mut wrong = vars.clone();
    wrong.push(("S3_SECRET_ACCESS_KEY", "wrong"));
    let out = run(&db.url, &["doctor"], &wrong);
    assert!(!out.status.success());
    assert!(
        doctor_line(&stdout(&out), "storage").starts_with("FAIL"),
        "{}",
        stdout(&out)
    );
}
