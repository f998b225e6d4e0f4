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
