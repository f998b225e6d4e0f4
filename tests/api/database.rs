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

fn product(name: &str) -> electioncart::catalog::model::ProductInput {
    electioncart::catalog::model::ProductInput {
        name: name.into(),
        price_paise: 1_850_000,
        description: "in one transaction".into(),
        unit: None,
        features: None,
        deliverables: None,
        items: Some(vec![("Posters".into(), 100)]),
        is_active: Some(true),
    }
}

/// A fresh, migrated database on `backend` (kept alive by the returned `TestDb`).
async fn migrated(backend: Backend) -> (TestDb, Db) {
    let test_db = TestDb::new(backend).await;
    let db = Db::connect_url(&test_db.url, 4, Duration::from_secs(5))
        .await
        .expect("connect");
    db.migrate().await.expect("migrate");
    (test_db, db)
}

fn new_user(username: &str) -> electioncart::auth::model::NewUser {
    electioncart::auth::model::NewUser {
        username: username.into(),
        password_hash: "not-a-real-hash".into(),
        phone_number: None,
        firebase_uid: None,
        role: electioncart::auth::model::Role::User,
    }
}

async fn count(db: &Db, sql: &'static str, name: &str) -> i64 {
    electioncart::db_read!(db, |pool| sqlx::query_scalar::<_, i64>(sql)
        .bind(name)
        .fetch_one(pool)
        .await
        .expect("count"))
}

/// A statement of the catalog repository and one of the auth repository share one `Tx`: when the
/// second fails (a taken username) both are rolled back; when both succeed both are committed.
#[tokio::test]
async fn statements_of_two_repositories_commit_or_roll_back_together() {
    use electioncart::{auth, catalog::model::ProductType, catalog::products};
    const PRODUCTS: &str = "SELECT COUNT(*) FROM packages WHERE name = $1";
    const ITEMS: &str = "SELECT COUNT(*) FROM package_items i JOIN packages p ON p.id = i.package_id \
                         WHERE p.name = $1";
    const USERS: &str = "SELECT COUNT(*) FROM users WHERE username = $1";
    for backend in backends() {
        let (_test_db, db) = migrated(backend).await;
        auth::repo::create(&db, &new_user("taken"))
            .await
            .expect("first user");
        let admin = auth::repo::find_by_username(&db, "taken")
            .await
            .expect("find")
            .expect("exists");

        // Second statement fails: the product written by the first is gone too.
        let mut tx = db.begin().await.expect("begin");
        products::repo::create(
            &mut tx,
            ProductType::Package,
            &product("Rolled back"),
            admin.id,
        )
        .await
        .expect("product inside the transaction");
        let second = auth::repo::insert(&mut tx, &new_user("taken")).await;
        assert!(
            matches!(second, Err(auth::repo::CreateError::Taken(_))),
            "{backend:?}: {second:?}"
        );
        tx.rollback().await.expect("rollback");
        assert_eq!(count(&db, PRODUCTS, "Rolled back").await, 0, "{backend:?}");
        assert_eq!(count(&db, ITEMS, "Rolled back").await, 0, "{backend:?}");

        // A transaction dropped without commit (a cancelled request) rolls back as well.
        {
            let mut tx = db.begin().await.expect("begin");
            products::repo::create(&mut tx, ProductType::Package, &product("Dropped"), admin.id)
                .await
                .expect("product");
        }
        assert_eq!(count(&db, PRODUCTS, "Dropped").await, 0, "{backend:?}");

        // Both succeed: both are committed.
        let mut tx = db.begin().await.expect("begin");
        products::repo::create(
            &mut tx,
            ProductType::Package,
            &product("Committed"),
            admin.id,
        )
        .await
        .expect("product");
        auth::repo::insert(&mut tx, &new_user("fresh"))
            .await
            .expect("second user");
        tx.commit().await.expect("commit");
        assert_eq!(count(&db, PRODUCTS, "Committed").await, 1, "{backend:?}");
        assert_eq!(count(&db, ITEMS, "Committed").await, 1, "{backend:?}");
        assert_eq!(count(&db, USERS, "fresh").await, 1, "{backend:?}");
        db.close().await;
    }
}

/// Authentication reads every field of the user except the password hash, which stays in the
/// database (an empty string in its place); an unknown id is `None`.
#[tokio::test]
async fn the_authentication_read_leaves_the_password_hash_in_the_database() {
    use electioncart::auth;
    for backend in backends() {
        let (_test_db, db) = migrated(backend).await;
        let created = auth::repo::create(&db, &new_user("voter"))
            .await
            .expect("user");
        let full = auth::repo::find_by_id(&db, created.id)
            .await
            .expect("find")
            .expect("exists");
        assert!(!full.password.is_empty(), "{backend:?}");
        let authed = auth::repo::find_for_auth(&db, created.id)
            .await
            .expect("find for auth")
            .expect("exists");
        assert_eq!(authed.password, "", "{backend:?}");
        assert_eq!(
            (
                authed.id,
                &authed.username,
                &authed.email,
                &authed.role,
                authed.is_active,
                &authed.phone_number,
                &authed.firebase_uid,
            ),
            (
                full.id,
                &full.username,
                &full.email,
                &full.role,
                full.is_active,
                &full.phone_number,
                &full.firebase_uid,
            ),
            "{backend:?}"
        );
        assert_eq!(
            (
                &authed.first_name,
                &authed.last_name,
                authed.last_login,
                authed.password_changed_at,
                authed.created_at,
                authed.updated_at,
            ),
            (
                &full.first_name,
                &full.last_name,
                full.last_login,
                full.password_changed_at,
                full.created_at,
                full.updated_at,
            ),
            "{backend:?}"
        );
        assert!(
            auth::repo::find_for_auth(&db, created.id + 1000)
                .await
                .expect("find unknown")
                .is_none(),
            "{backend:?}"
        );
    }
}
