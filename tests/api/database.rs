//! Migrations and connection behaviour on every backend.

use electioncart::db::Db;
use std::time::Duration;

use crate::helpers::{Backend, TestDb, backends};

fn migration_files() -> i64 {
    std::fs::read_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/migrations/sqlite"))
        .expect("dir")
        .count() as i64
}

async fn applied(db: &Db) -> i64 {
    electioncart::db_read!(db, |pool| {
        sqlx::query_scalar::<_, i64>("SELECT COUNT(*) FROM _sqlx_migrations WHERE success")
            .fetch_one(pool)
            .await
            .expect("count migrations")
    })
}

#[tokio::test]
async fn migrations_apply_once_and_a_second_run_applies_nothing() {
    for backend in backends() {
        let test_db = TestDb::new(backend).await;
        let db = Db::connect_url(&test_db.url, 4, Duration::from_secs(5))
            .await
            .expect("connect");
        db.migrate().await.expect("first migrate");
        assert_eq!(applied(&db).await, migration_files(), "{backend:?}");
        db.migrate().await.expect("second migrate");
        assert_eq!(applied(&db).await, migration_files(), "{backend:?}");
        // The platform tables exist and are usable with portable SQL.
        electioncart::db_write!(&db, |pool| {
            sqlx::query("INSERT INTO cache_entries (key, value, expires_at) VALUES ($1, $2, $3)")
                .bind("k")
                .bind("v")
                .bind(1_i64)
                .execute(pool)
                .await
                .expect("insert")
                .rows_affected()
        });
        let value: String = electioncart::db_read!(&db, |pool| {
            sqlx::query_scalar("SELECT value FROM cache_entries WHERE key = $1")
                .bind("k")
                .fetch_one(pool)
                .await
                .expect("select")
        });
        assert_eq!(value, "v");
        db.close().await;
    }
}

#[tokio::test]
async fn concurrent_migrations_apply_each_migration_once() {
    for backend in backends() {
        let test_db = TestDb::new(backend).await;
        let (a, b) = tokio::join!(
            Db::connect_url(&test_db.url, 2, Duration::from_secs(10)),
            Db::connect_url(&test_db.url, 2, Duration::from_secs(10)),
        );
        let (a, b) = (a.expect("connect a"), b.expect("connect b"));
        let (ra, rb) = tokio::join!(a.migrate(), b.migrate());
        ra.expect("migrate a");
        rb.expect("migrate b");
        assert_eq!(applied(&a).await, migration_files(), "{backend:?}");
        a.close().await;
        b.close().await;
    }
}

#[tokio::test]
async fn sqlite_file_and_directory_are_created_in_wal_mode() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("nested/deeper/app.db");
    let url = format!("sqlite://{}", path.display());
    let db = Db::connect_url(&url, 2, Duration::from_secs(5))
        .await
        .expect("connect creates the file");
    assert!(path.exists(), "database file created on demand");
    assert_eq!(db.backend(), "sqlite");
    let mode: String = electioncart::db_read!(&db, |pool| {
        sqlx::query_scalar("PRAGMA journal_mode")
            .fetch_one(pool)
            .await
            .expect("pragma")
    });
    assert_eq!(mode, "wal");
    db.close().await;
}

#[tokio::test]
async fn unsupported_urls_are_refused_clearly() {
    let err = Db::connect_url("mysql://x@localhost/db", 1, Duration::from_secs(1))
        .await
        .expect_err("mysql is not supported");
    assert!(err.to_string().contains("sqlite://"), "{err}");
}

#[tokio::test]
async fn postgres_is_exercised_when_configured() {
    // Guards against a CI that silently runs SQLite only: when TEST_DATABASE_URL is set, the harness
    // must include PostgreSQL.
    if crate::helpers::pg_admin_url().is_some() {
        assert!(backends().contains(&Backend::Postgres));
        let db = TestDb::new(Backend::Postgres).await;
        let conn = Db::connect_url(&db.url, 1, Duration::from_secs(5))
            .await
            .expect("connect to the per-test database");
        assert_eq!(conn.backend(), "postgresql");
        conn.close().await;
    } else {
        assert_eq!(backends(), vec![Backend::Sqlite]);
    }
}
