//! `import-django` (issue 14): the original's pg_dump (`tests/fixtures/original-django-postgres.sql`,
//! plus rows for the tables it leaves empty) loaded into a scratch PostgreSQL database, imported into
//! a fresh target on SQLite and on PostgreSQL. Needs `TEST_DATABASE_URL` (the original is always
//! PostgreSQL); without it each test says it skipped.

use std::path::Path;

use axum::{body::Body, http::Request, http::StatusCode};
use electioncart::{
    auth::model::Role,
    import::{self, ImportError, Options, Refusal, Summary, media::stored_name, tables::TABLES},
};
use sqlx::{AssertSqlSafe, Connection, PgConnection, PgPool};

use crate::{
    helpers::{Backend, TestApp, TestDb, authed, backends, create_user, login, pg_admin_url},
    orders::{exec, scalar},
};

/// Rows for the tables the fixture leaves empty: a paid order of alice's (id 2, assigned to
/// staff1) with its lines, resources (legacy form and dynamic fields), checklist, payment, history
/// and a notification; a manual order (id 3) whose Razorpay payment id repeats order 2's; a cart
/// line with quantity 0 (ours cannot hold it); an image, an audit log, fields and a template.
const EXTRA: &str = r#"
INSERT INTO products_resourcefielddefinition (id, object_id, field_name, field_type, is_required,
  "order", help_text, max_file_size_mb, max_length, min_value, max_value, allowed_extensions,
  created_at, content_type_id) VALUES
  (1, 1, 'Candidate photo', 'image', true, 1, 'A clear photo', 5, NULL, NULL, NULL, '[]',
   '2026-11-25 12:40:00+00', 8),
  (2, 2, 'Slogan', 'text', true, 1, '', NULL, 100, NULL, NULL, '[".pdf", "docx"]',
   '2026-11-25 12:40:01+00', 7);
INSERT INTO products_checklisttemplateitem (id, object_id, name, description, "order", is_optional,
  estimated_duration_minutes, created_at, content_type_id) VALUES
  (1, 1, 'Design posters', 'Design the A3 posters', 1, false, 120, '2026-11-25 12:40:02+00', 8);
INSERT INTO products_productimage (id, object_id, image, thumbnail, is_primary, "order", alt_text,
  uploaded_at, content_type_id) VALUES
  (1, 1, '7c8518601afe400f9ace71de0c4dae1f_82d85576.png', NULL, true, 1, 'Hungama poster',
   '2026-11-25 12:40:03+00', 8);
INSERT INTO products_productauditlog (id, object_id, action, "timestamp", changes, content_type_id,
  user_id) VALUES
  (1, 1, 'update', '2026-11-25 12:40:04+00',
   '{"price": {"old": "18000.00", "new": "18500.00"}, "name": {"new": "Election Hungama"}}', 8, 11);
INSERT INTO cart_cartitem (id, object_id, quantity, added_at, cart_id, content_type_id) VALUES
  (5, 3, 0, '2026-11-25 12:41:00+00', 2, 7);
INSERT INTO orders_order (id, order_number, total_amount, status, razorpay_order_id,
  razorpay_payment_id, razorpay_signature, payment_completed_at, created_at, updated_at,
  assigned_to_id, user_id, admin_notes, created_by_id, is_manual_order, order_source,
  payment_reference, priority, payment_status) VALUES
  (2, 'EC-20261125-0A1B2C3D', 33500.50, 'in_progress', 'order_R1', 'pay_R1', 'sig_R1',
   '2026-11-25 13:00:00.123456+00', '2026-11-25 12:50:00+00', '2026-11-25 13:10:00+00', 4, 12,
   'call before printing', NULL, false, 'website', '', 'high', 'paid'),
  (3, 'EC-20261125-0D0D0D0D', 10000.00, 'pending_resources', 'order_R2', 'pay_R1', NULL, NULL,
   '2026-11-25 14:00:00+00', '2026-11-25 14:05:00+00', NULL, 17, '', 11, true, 'phone_call',
   'ref-3', 'normal', 'partial');
INSERT INTO orders_orderitem (id, object_id, quantity, price, resources_uploaded, content_type_id,
  order_id) VALUES
  (3, 1, 1, 18500.50, true, 8, 2),
  (4, 2, 1, 15000.00, true, 7, 2),
  (5, 4, 2, 5000.00, false, 7, 3);
INSERT INTO orders_orderresource (id, candidate_photo, party_logo, campaign_slogan, preferred_date,
  whatsapp_number, additional_notes, uploaded_at, order_item_id) VALUES
  (1, 'user_resources/photos/Candidate Photo.JPG', 'a1b2c3d4e5f60718293a4b5c6d7e8f90_0badf00d.png',
   'Vote for change', '2026-12-01', '+919444444444', '', '2026-11-25 13:02:00+00', 3);
INSERT INTO orders_dynamicresourcesubmission (id, text_value, number_value, file_value, uploaded_at,
  field_definition_id, order_item_id) VALUES
  (1, NULL, NULL, 'c0ffeec0ffeec0ffeec0ffeec0ffee00_12345678.jpg', '2026-11-25 13:03:00+00', 1, 3),
  (2, 'Jeetega Bharat', NULL, NULL, '2026-11-25 13:03:01+00', 2, 4);
INSERT INTO orders_orderchecklist (id, created_at, order_id) VALUES (1, '2026-11-25 13:05:00+00', 2);
INSERT INTO orders_checklistitem (id, description, completed, completed_at, order_index,
  checklist_id, completed_by_id, is_optional, template_item_id) VALUES
  (1, 'Design posters', true, '2026-11-25 13:08:00+00', 1, 1, 4, false, 1),
  (2, 'Print', false, NULL, 2, 1, NULL, true, NULL);
INSERT INTO orders_paymenthistory (id, payment_method, transaction_id, amount, currency, status,
  payment_date, invoice_generated_at, invoice_number, metadata, created_at, updated_at, order_id)
  VALUES (1, 'Razorpay', 'pay_R1', 33500.50, 'INR', 'completed', '2026-11-25 13:00:00.123456+00',
  NULL, 'INV-20261125-9F8E7D6C', '{"razorpay_order_id": "order_R1", "razorpay_signature": "sig_R1"}',
  '2026-11-25 13:00:01+00', '2026-11-25 13:00:01+00', 2);
INSERT INTO orders_paymentrecord (id, amount, payment_method, payment_reference, payment_proof,
  recorded_at, notes, order_id, recorded_by_id) VALUES
  (1, 5000.00, 'cash', 'RCPT-1', NULL, '2026-11-25 14:03:00+00', 'first instalment', 3, 11);
INSERT INTO orders_orderstatushistory (id, old_status, new_status, changed_at, reason,
  is_manual_change, changed_by_id, order_id) VALUES
  (1, '', 'pending_payment', '2026-11-25 12:50:00+00', '', false, NULL, 2),
  (2, 'pending_payment', 'pending_resources', '2026-11-25 13:00:00+00', 'Payment verified', false,
   NULL, 2),
  (3, 'ready_for_processing', 'in_progress', '2026-11-25 13:09:00+00', 'Printing started', true,
   11, 2);
INSERT INTO admin_panel_notification (id, notification_type, title, message, is_read, created_at,
  order_id, user_id) VALUES
  (1, 'new_order', 'New order', 'Order EC-20261125-0A1B2C3D placed', false,
   '2026-11-25 12:50:01+00', 2, 11);
"#;

const IMAGE: &str = "7c8518601afe400f9ace71de0c4dae1f_82d85576.png";
const PHOTO: &str = "user_resources/photos/Candidate Photo.JPG";

/// The original: a scratch PostgreSQL database holding the fixture and [`EXTRA`], dropped with it.
struct Original {
    db: TestDb,
    pool: PgPool,
}

impl Original {
    /// `None` (after saying so) when no PostgreSQL is configured.
    async fn load() -> Option<Self> {
        if pg_admin_url().is_none() {
            eprintln!("SKIPPED: import tests need TEST_DATABASE_URL (the original is PostgreSQL)");
            return None;
        }
        let db = TestDb::new(Backend::Postgres).await;
        load_dump(&db.url).await;
        let pool = PgPool::connect(&db.url)
            .await
            .expect("connect to the original");
        sqlx::raw_sql(EXTRA)
            .execute(&pool)
            .await
            .expect("extra rows");
        Some(Self { db, pool })
    }

    fn options(&self) -> Options {
        Options::new(self.db.url.clone())
    }

    async fn exec(&self, sql: &str) {
        sqlx::raw_sql(AssertSqlSafe(sql.to_string()))
            .execute(&self.pool)
            .await
            .expect(sql);
    }

    async fn count(&self, table: &str) -> i64 {
        sqlx::query_scalar(AssertSqlSafe(format!("SELECT COUNT(*) FROM {table}")))
            .fetch_one(&self.pool)
            .await
            .expect("count")
    }

    async fn ids(&self, table: &str) -> Vec<i64> {
        sqlx::query_scalar(AssertSqlSafe(format!("SELECT id FROM {table} ORDER BY id")))
            .fetch_all(&self.pool)
            .await
            .expect("ids")
    }
}

/// Loads a pg_dump text the way psql would: SQL statements, `COPY … FROM stdin` blocks, and psql's
/// own meta-commands (`\restrict`) left out.
async fn load_dump(url: &str) {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/original-django-postgres.sql"
    );
    let text = std::fs::read_to_string(path).expect("fixture");
    let mut conn = PgConnection::connect(url).await.expect("connect");
    let mut sql = String::new();
    let mut lines = text.lines();
    while let Some(line) = lines.next() {
        if line.starts_with("COPY ") && line.ends_with("FROM stdin;") {
            run_sql(&mut conn, &mut sql).await;
            let mut data = String::new();
            for row in lines.by_ref() {
                if row == "\\." {
                    break;
                }
                data.push_str(row);
                data.push('\n');
            }
            let mut copy = conn.copy_in_raw(line).await.expect(line);
            copy.send(data.into_bytes()).await.expect("copy data");
            copy.finish().await.expect("copy");
        } else if !line.starts_with('\\') {
            sql.push_str(line);
            sql.push('\n');
        }
    }
    run_sql(&mut conn, &mut sql).await;
    conn.close().await.expect("close");
}

async fn run_sql(conn: &mut PgConnection, sql: &mut String) {
    if !sql.trim().is_empty() {
        sqlx::raw_sql(AssertSqlSafe(std::mem::take(sql)))
            .execute(&mut *conn)
            .await
            .expect("dump statements");
    }
}

async fn text(app: &TestApp, sql: &str) -> Option<String> {
    let q = AssertSqlSafe(sql.to_string());
    match &app.state.db {
        electioncart::db::Db::Postgres(pool) => sqlx::query_scalar(q).fetch_one(pool).await,
        electioncart::db::Db::Sqlite(db) => sqlx::query_scalar(q).fetch_one(&db.read).await,
    }
    .expect(sql)
}

async fn ids(app: &TestApp, table: &str) -> Vec<i64> {
    let q = AssertSqlSafe(format!("SELECT id FROM {table} ORDER BY id"));
    match &app.state.db {
        electioncart::db::Db::Postgres(pool) => sqlx::query_scalar(q).fetch_all(pool).await,
        electioncart::db::Db::Sqlite(db) => sqlx::query_scalar(q).fetch_all(&db.read).await,
    }
    .expect("ids")
}

async fn count(app: &TestApp, table: &str) -> i64 {
    scalar(app, &format!("SELECT COUNT(*) FROM {table}")).await
}

async fn get(app: &TestApp, path: &str, token: &str) -> crate::helpers::TestResponse {
    app.request(authed(
        Request::get(path).body(Body::empty()).expect("request"),
        token,
    ))
    .await
}

fn totals(summary: &Summary) -> (u64, u64) {
    let inserted = summary.tables.iter().map(|t| t.inserted).sum();
    let unchanged = summary.tables.iter().map(|t| t.unchanged).sum();
    (inserted, unchanged)
}

/// The original's media directory: the product image and one resource photo (the party logo and
/// the dynamic submission's file are missing on purpose).
fn media_dir(image: &[u8]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("media dir");
    std::fs::write(dir.path().join(IMAGE), image).expect("image");
    let photo = dir.path().join(PHOTO);
    std::fs::create_dir_all(photo.parent().expect("parent")).expect("mkdir");
    std::fs::write(photo, b"\xff\xd8\xff\xe0 a photo").expect("photo");
    dir
}

#[tokio::test]
async fn import_keeps_every_row_with_its_id_on_both_databases() {
    let Some(original) = Original::load().await else {
        return;
    };
    let image = crate::images::png(8, 8);
    let media = media_dir(&image);
    for backend in backends() {
        let media_root = tempfile::tempdir().expect("media root");
        let root = media_root.path().display().to_string();
        let app = TestApp::with_env(backend, &[("MEDIA_ROOT", &root)]).await;
        let options = Options {
            media: Some(media.path().to_path_buf()),
            ..original.options()
        };
        let summary = import::run(&app.state, &options).await.expect("import");

        // Every table: every original row read, and every one ours can hold here with its id.
        for spec in TABLES {
            let report = summary.table(spec.table).expect("report");
            let theirs = original.ids(spec.original).await;
            assert_eq!(report.read, theirs.len() as u64, "{}", spec.table);
            let skipped: Vec<i64> = if spec.table == "cart_items" {
                vec![5]
            } else {
                vec![]
            };
            assert_eq!(report.skipped, skipped.len() as u64, "{}", spec.table);
            let expected: Vec<i64> = theirs
                .into_iter()
                .filter(|id| !skipped.contains(id))
                .collect();
            assert_eq!(
                ids(&app, spec.table).await,
                expected,
                "{backend:?} {}",
                spec.table
            );
            assert_eq!(report.inserted, expected.len() as u64, "{}", spec.table);
        }
        assert!(summary.table("users").expect("users").read >= 15);

        // Spot checks: the Django hash as is, the roles (D14), the empty phone (D15).
        let hash = "pbkdf2_sha256$600000$G3QBU9flPWBZgLLhkOsVAf$Jm6rYVVV+tmhZ7Ecxjmjt8fKKUHgaFo+uMlXkDGLzmo=";
        assert_eq!(
            text(&app, "SELECT password FROM users WHERE id = 4")
                .await
                .as_deref(),
            Some(hash)
        );
        assert_eq!(
            text(&app, "SELECT role FROM users WHERE id = 11")
                .await
                .as_deref(),
            Some("admin")
        );
        assert_eq!(
            text(&app, "SELECT phone_number FROM users WHERE id = 14").await,
            None
        );
        assert_eq!(
            text(&app, "SELECT password FROM users WHERE id = 9")
                .await
                .as_deref(),
            Some("")
        );
        // Money in paise, exactly; product types from the content types.
        assert_eq!(
            scalar(&app, "SELECT total_paise FROM orders WHERE id = 2").await,
            3_350_050
        );
        assert_eq!(
            scalar(&app, "SELECT total_paise FROM orders WHERE id = 1").await,
            8_200_000
        );
        assert_eq!(
            scalar(&app, "SELECT price_paise FROM order_items WHERE id = 3").await,
            1_850_050
        );
        assert_eq!(
            scalar(&app, "SELECT price_paise FROM packages WHERE id = 3").await,
            100
        );
        assert_eq!(
            text(&app, "SELECT product_type FROM order_items WHERE id = 1")
                .await
                .as_deref(),
            Some("package")
        );
        assert_eq!(
            text(&app, "SELECT product_type FROM order_items WHERE id = 2")
                .await
                .as_deref(),
            Some("campaign")
        );
        assert_eq!(
            text(&app, "SELECT product_name FROM order_items WHERE id = 4")
                .await
                .as_deref(),
            Some("Door-to-Door Campaign")
        );
        assert_eq!(
            text(&app, "SELECT product_type FROM cart_items WHERE id = 4")
                .await
                .as_deref(),
            Some("campaign")
        );
        assert_eq!(
            text(
                &app,
                "SELECT invoice_number FROM payment_history WHERE order_id = 2"
            )
            .await
            .as_deref(),
            Some("INV-20261125-9F8E7D6C")
        );
        assert_eq!(
            text(&app, "SELECT old_status || '>' || new_status || '>' || reason FROM order_status_history WHERE id = 3")
                .await
                .as_deref(),
            Some("ready_for_processing>in_progress>Printing started")
        );
        assert_eq!(
            scalar(
                &app,
                "SELECT changed_by FROM order_status_history WHERE id = 3"
            )
            .await,
            11
        );
        assert_eq!(
            text(
                &app,
                "SELECT preferred_date FROM order_resources WHERE id = 1"
            )
            .await
            .as_deref(),
            Some("2026-12-01")
        );
        // The repeated Razorpay payment id stays on the first order (D18), and it is reported.
        assert_eq!(
            text(&app, "SELECT razorpay_payment_id FROM orders WHERE id = 3").await,
            None
        );
        let orders = summary.table("orders").expect("orders");
        assert!(
            orders
                .notes
                .iter()
                .any(|n| n.starts_with("3: razorpay_payment_id pay_R1")),
            "{:?}",
            orders.notes
        );
        let cart = summary.table("cart_items").expect("cart items");
        assert!(
            cart.notes.iter().any(|n| n.contains("quantity 0")),
            "{:?}",
            cart.notes
        );
        assert!(import::render(&summary).contains("cart_cartitem 5: not imported: quantity 0"));

        // Files: the image copied and served, its size and type derived; the photo copied under its
        // mapped name; the missing ones counted.
        assert_eq!(
            scalar(&app, "SELECT size_bytes FROM product_images WHERE id = 1").await,
            image.len() as i64
        );
        assert_eq!(
            text(&app, "SELECT content_type FROM product_images WHERE id = 1")
                .await
                .as_deref(),
            Some("image/png")
        );
        let served = app.get(&format!("/media/products/{IMAGE}")).await;
        assert_eq!(served.status, StatusCode::OK);
        assert_eq!(served.body.as_ref(), image.as_slice());
        let photo = stored_name(PHOTO);
        assert_eq!(
            text(
                &app,
                "SELECT candidate_photo FROM order_resources WHERE id = 1"
            )
            .await,
            Some(photo.clone())
        );
        assert!(Path::new(&root).join("resources").join(&photo).is_file());
        let files = |t: &str| summary.table(t).expect("table").files.clone();
        assert_eq!(
            (
                files("product_images").copied,
                files("product_images").missing
            ),
            (1, 0)
        );
        assert_eq!(
            (
                files("order_resources").copied,
                files("order_resources").missing
            ),
            (1, 1)
        );
        assert_eq!(files("resource_submissions").missing, 1);
        let notes = &summary.table("order_resources").expect("resources").notes;
        assert!(
            notes
                .iter()
                .any(|n| n.contains("0badf00d.png is not in --media")),
            "{notes:?}"
        );

        // The sequences are past the imported ids: the next user is 18.
        let next = create_user(&app, "after-import", "After-import-pass-1", Role::User).await;
        assert_eq!(next.id, 18, "{backend:?}");
        let next_order = match backend {
            Backend::Postgres => {
                scalar(
                    &app,
                    "SELECT nextval(pg_get_serial_sequence('orders', 'id'))",
                )
                .await
            }
            Backend::Sqlite => {
                scalar(
                    &app,
                    "SELECT seq + 1 FROM sqlite_sequence WHERE name = 'orders'",
                )
                .await
            }
        };
        assert_eq!(next_order, 4, "{backend:?}");

        // A token for an imported user works as the original's did (same secret, same id, D12).
        let alice = app
            .state
            .jwt
            .issue(12, Some("+919444444444"), "user")
            .expect("token");
        let me = get(&app, "/api/auth/me/", &alice).await;
        assert_eq!(me.status, StatusCode::OK, "{}", me.text());
        assert_eq!(me.json()["username"], "alice");

        // The admin's order detail shows the original's lines, payments and history.
        let admin = app.state.jwt.issue(11, None, "admin").expect("token");
        let detail = get(&app, "/api/admin/orders/2/", &admin).await;
        assert_eq!(detail.status, StatusCode::OK, "{}", detail.text());
        let d = detail.json();
        assert_eq!(d["order_number"], "EC-20261125-0A1B2C3D");
        assert_eq!(d["total_amount"], "33500.50");
        assert_eq!(d["assigned_to"]["username"], "staff1");
        let items: Vec<(i64, String, String)> = d["items"]
            .as_array()
            .expect("items")
            .iter()
            .map(|i| {
                (
                    i["id"].as_i64().expect("id"),
                    i["price"].as_str().expect("price").into(),
                    i["product_name"].as_str().expect("name").into(),
                )
            })
            .collect();
        assert_eq!(
            items,
            vec![
                (3, "18500.50".into(), "Election Hungama".into()),
                (4, "15000.00".into(), "Door-to-Door Campaign".into())
            ]
        );
        assert_eq!(
            d["payment_history"]["invoice_number"],
            "INV-20261125-9F8E7D6C"
        );
        assert_eq!(d["payment_history"]["transaction_id"], "pay_R1");
        assert_eq!(d["payment_history"]["amount"], "33500.50");
        let history: Vec<(i64, &str)> = d["status_history"]
            .as_array()
            .expect("history")
            .iter()
            .map(|h| {
                (
                    h["id"].as_i64().expect("id"),
                    h["new_status"].as_str().expect("status"),
                )
            })
            .collect();
        assert_eq!(
            history,
            vec![
                (3, "in_progress"),
                (2, "pending_resources"),
                (1, "pending_payment")
            ]
        );
        assert_eq!(d["status_history"][0]["changed_by"]["username"], "aseeb");
        assert_eq!(
            d["checklist"]["items"].as_array().map(Vec::len),
            Some(2),
            "{}",
            d["checklist"]
        );
        let manual = get(&app, "/api/admin/orders/3/", &admin).await.json();
        assert_eq!(manual["payment_records"][0]["amount"], "5000.00");
        assert_eq!(
            manual["payment_records"][0]["recorded_by"]["username"],
            "aseeb"
        );
        assert_eq!(manual["created_by"]["username"], "aseeb");
        assert_eq!(manual["total_paid"], 5000.0);
    }
}

#[tokio::test]
async fn import_reruns_change_nothing_then_copy_only_what_is_new() {
    for backend in backends() {
        let Some(original) = Original::load().await else {
            return;
        };
        let app = TestApp::new(backend).await;
        let first = import::run(&app.state, &original.options())
            .await
            .expect("first");
        let (inserted, _) = totals(&first);
        assert!(inserted > 60, "{inserted}");

        let second = import::run(&app.state, &original.options())
            .await
            .expect("second");
        assert_eq!(second.changes(), 0, "{}", import::render(&second));
        assert_eq!(totals(&second), (0, inserted));
        assert!(import::render(&second).contains("changes: 0"));

        // One row added to the original: the only one the third run copies.
        original
            .exec(
                "INSERT INTO authentication_customuser (id, password, last_login, is_superuser, username, \
                 first_name, last_name, email, is_staff, is_active, date_joined, phone_number, firebase_uid, \
                 role, created_at, updated_at) VALUES (18, '', NULL, false, 'erin', '', '', '', false, true, \
                 now(), '+919888888888', NULL, 'user', now(), now())",
            )
            .await;
        let third = import::run(&app.state, &original.options())
            .await
            .expect("third");
        assert_eq!(third.changes(), 1, "{}", import::render(&third));
        assert_eq!(third.table("users").expect("users").inserted, 1);
        assert_eq!(
            text(&app, "SELECT username FROM users WHERE id = 18")
                .await
                .as_deref(),
            Some("erin")
        );

        // A login here upgrades staff1's Django hash (the row changed here since it was imported:
        // kept); the original cancels order 1 meanwhile (imported, untouched here: brought up to date).
        let r = login(&app, "staff1", "password123").await;
        assert_eq!(
            r.status,
            StatusCode::OK,
            "the fixture's documented password: {}",
            r.text()
        );
        original
            .exec("UPDATE orders_order SET status = 'cancelled' WHERE id = 1")
            .await;
        let fourth = import::run(&app.state, &original.options())
            .await
            .expect("fourth");
        assert_eq!(fourth.changes(), 1, "{}", import::render(&fourth));
        assert_eq!(fourth.table("users").expect("users").kept, 1);
        assert_eq!(fourth.table("orders").expect("orders").updated, 1);
        assert_eq!(
            text(&app, "SELECT status FROM orders WHERE id = 1")
                .await
                .as_deref(),
            Some("cancelled")
        );
        let upgraded = text(&app, "SELECT password FROM users WHERE id = 4")
            .await
            .expect("hash");
        assert!(upgraded.starts_with("$argon2id$"), "{upgraded}");
        // A cart line the customer removed here stays removed.
        exec(&app, "DELETE FROM cart_items WHERE id = 3").await;
        let fifth = import::run(&app.state, &original.options())
            .await
            .expect("fifth");
        assert_eq!(fifth.changes(), 0);
        assert_eq!(fifth.table("cart_items").expect("cart items").kept, 1);
        assert_eq!(count(&app, "cart_items").await, 1);
        // An order deleted here stays deleted, and what the original adds to it is not brought in.
        exec(&app, "DELETE FROM orders WHERE id = 2").await;
        original
            .exec(
                "INSERT INTO orders_orderstatushistory (id, old_status, new_status, changed_at, reason, \
                 is_manual_change, changed_by_id, order_id) VALUES (4, 'in_progress', 'completed', now(), '', \
                 false, NULL, 2)",
            )
            .await;
        let sixth = import::run(&app.state, &original.options())
            .await
            .expect("sixth");
        assert_eq!(sixth.changes(), 0, "{}", import::render(&sixth));
        assert_eq!(sixth.table("orders").expect("orders").kept, 1);
        let history = sixth.table("order_status_history").expect("history");
        assert_eq!(history.skipped, 4, "{:?}", history.notes);
        assert!(
            history
                .notes
                .iter()
                .any(|n| n.starts_with("4: not imported: its order_id 2 was deleted here")),
            "{:?}",
            history.notes
        );
        assert_eq!(count(&app, "orders").await, 2);
        // staff1 changed in the original too (its hash here was upgraded at the login): until the
        // switch the original is the record, so its version is taken, and that is noted.
        original
            .exec("UPDATE authentication_customuser SET email = 'rajesh@new.example' WHERE id = 4")
            .await;
        let seventh = import::run(&app.state, &original.options())
            .await
            .expect("seventh");
        assert_eq!(seventh.changes(), 1, "{}", import::render(&seventh));
        let users = seventh.table("users").expect("users");
        assert_eq!(users.updated, 1);
        assert!(
            users
                .notes
                .iter()
                .any(|n| n.starts_with("4: changed here and in the original")
                    && n.contains("password")
                    && n.contains("email")),
            "{:?}",
            users.notes
        );
        assert!(
            text(&app, "SELECT password FROM users WHERE id = 4")
                .await
                .expect("hash")
                .starts_with("pbkdf2_sha256$")
        );
        assert_eq!(
            login(&app, "staff1", "password123").await.status,
            StatusCode::OK
        );
    }
}

#[tokio::test]
async fn import_refuses_rows_it_did_not_write_and_writes_nothing() {
    let Some(original) = Original::load().await else {
        return;
    };
    for backend in backends() {
        // Someone else's user 1.
        let app = TestApp::new(backend).await;
        let intruder = create_user(&app, "intruder", "Intruder-pass-1", Role::User).await;
        assert_eq!(intruder.id, 1);
        let error = import::run(&app.state, &original.options())
            .await
            .expect_err("refused");
        let message = error.to_string();
        match error {
            ImportError::Refused {
                reason: Refusal::Conflicts(conflicts),
                nothing_written: true,
            } => {
                assert_eq!(conflicts.len(), 1, "{conflicts:?}");
                assert_eq!((conflicts[0].table, conflicts[0].id), ("users", 1));
                assert!(conflicts[0].columns.contains(&"username"), "{conflicts:?}");
            }
            other => panic!("{other:?}"),
        }
        assert!(
            message.contains("users id 1") && message.contains("nothing was written"),
            "{message}"
        );
        for table in ["packages", "orders", "carts"] {
            assert_eq!(count(&app, table).await, 0, "{backend:?} {table}");
        }
        assert_eq!(count(&app, "users").await, 1);

        // Another id, but alice's username: the database refuses it, before anything is written.
        let app = TestApp::new(backend).await;
        create_user(&app, "alice", "Alice-pass-123", Role::User).await;
        exec(&app, "UPDATE users SET id = 100 WHERE username = 'alice'").await;
        let error = import::run(&app.state, &original.options())
            .await
            .expect_err("refused");
        match &error {
            ImportError::Refused {
                reason: Refusal::Clash { table, id, .. },
                nothing_written: true,
            } => assert_eq!((*table, *id), ("users", 12)),
            other => panic!("{other:?}"),
        }
        assert!(error.to_string().contains("users id 12"), "{error}");
        assert_eq!(count(&app, "packages").await, 0);
    }
}

#[tokio::test]
async fn import_interrupted_then_rerun_ends_like_an_uninterrupted_one() {
    let Some(original) = Original::load().await else {
        return;
    };
    for backend in backends() {
        let options = Options {
            batch_size: 2,
            ..original.options()
        };
        let whole_app = TestApp::new(backend).await;
        let whole = import::run(&whole_app.state, &options)
            .await
            .expect("whole");

        let app = TestApp::new(backend).await;
        let interrupted = Options {
            stop_after_batches: Some(7),
            ..options.clone()
        };
        let error = import::run(&app.state, &interrupted)
            .await
            .expect_err("stopped");
        assert!(matches!(error, ImportError::Interrupted(7)), "{error:?}");
        let mut partial = 0;
        for spec in TABLES {
            partial += count(&app, spec.table).await;
        }
        assert_eq!(partial, 14, "seven batches of two rows");

        let rest = import::run(&app.state, &options).await.expect("rerun");
        for spec in TABLES {
            assert_eq!(
                ids(&app, spec.table).await,
                ids(&whole_app, spec.table).await,
                "{}",
                spec.table
            );
            let (r, w) = (
                rest.table(spec.table).expect("r"),
                whole.table(spec.table).expect("w"),
            );
            assert_eq!(r.inserted + r.unchanged, w.inserted, "{}", spec.table);
            assert_eq!((r.read, r.skipped), (w.read, w.skipped), "{}", spec.table);
        }
        let (inserted, unchanged) = totals(&rest);
        assert_eq!((inserted + unchanged, unchanged), (totals(&whole).0, 14));
        assert_eq!(
            scalar(&app, "SELECT COUNT(*) FROM import_ledger").await,
            scalar(&whole_app, "SELECT COUNT(*) FROM import_ledger").await
        );
    }
}

#[tokio::test]
async fn import_dry_run_reports_and_writes_nothing() {
    let Some(original) = Original::load().await else {
        return;
    };
    for backend in backends() {
        let app = TestApp::new(backend).await;
        let options = Options {
            dry_run: true,
            ..original.options()
        };
        let summary = import::run(&app.state, &options).await.expect("dry run");
        assert!(summary.dry_run);
        assert_eq!(summary.table("users").expect("users").inserted, 15);
        assert!(import::render(&summary).contains("dry run: nothing was written"));
        for spec in TABLES {
            assert_eq!(count(&app, spec.table).await, 0, "{}", spec.table);
        }
        // The ledger (migration 0009) holds nothing either.
        assert_eq!(scalar(&app, "SELECT COUNT(*) FROM import_ledger").await, 0);
        // The original's count is what a real run then inserts.
        assert_eq!(
            summary.table("orders").expect("orders").inserted as i64,
            original.count("orders_order").await
        );
    }
}

/// The subcommand as operators run it: progress lines, the summary, the exit status.
#[tokio::test]
async fn import_django_subcommand_reports_and_refuses() {
    let Some(original) = Original::load().await else {
        return;
    };
    let run = |db: &str, args: &[&str]| {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_electioncart"))
            .args(args)
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("DATABASE_URL", db)
            .env("RUST_LOG", "warn")
            .env(
                "DJANGO_SECRET_KEY",
                "test-secret-key-that-is-long-enough-0123456789",
            )
            .output()
            .expect("run electioncart");
        let text = |b: &[u8]| String::from_utf8_lossy(b).into_owned();
        (out.status.success(), text(&out.stdout), text(&out.stderr))
    };
    let from = original.db.url.as_str();
    let target = TestDb::new(Backend::Sqlite).await;

    // A dry run into a database not migrated yet (the runbook's rehearsal): every row would be
    // inserted, and the database is left without tables.
    let (ok, out, err) = run(&target.url, &["import-django", "--from", from, "--dry-run"]);
    assert!(ok, "{err}");
    assert!(
        out.contains("dry run: nothing was written") && out.contains("changes: 72"),
        "{out}"
    );
    let file = sqlx::SqlitePool::connect(&target.url)
        .await
        .expect("sqlite");
    let tables: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM sqlite_master WHERE type = 'table'")
        .fetch_one(&file)
        .await
        .expect("tables");
    assert_eq!(tables, 0);
    file.close().await;

    let (ok, out, err) = run(
        &target.url,
        &["import-django", "--from", from, "--batch-size", "3"],
    );
    assert!(ok, "{err}");
    assert!(err.contains("users: 15 read, 15 inserted"), "{err}");
    assert!(
        out.lines()
            .any(|l| l.starts_with("users ") && l.contains(" 15 ")),
        "{out}"
    );
    assert!(
        out.contains("not carried over:") && out.contains("django_session: 2 row(s)"),
        "{out}"
    );
    let (ok, out, _) = run(&target.url, &["import-django", "--from", from]);
    assert!(ok && out.contains("changes: 0"), "{out}");

    let other = TestDb::new(Backend::Sqlite).await;
    assert!(
        run(
            &other.url,
            &[
                "create-admin",
                "--username",
                "ops",
                "--password",
                "Ops-admin-pass-1"
            ]
        )
        .0
    );
    let (ok, out, err) = run(&other.url, &["import-django", "--from", from]);
    assert!(!ok, "{out}");
    assert!(
        err.contains("users id 1") && err.contains("nothing was written"),
        "{err}"
    );
    let (ok, _, err) = run(&other.url, &["import-django", "--from", "mysql://x"]);
    assert!(!ok && err.contains("postgres://"), "{err}");
}

/// The real thing: the subcommand killed (SIGKILL) part-way through its write pass, then run again,
/// ends with the same rows as an import that was never interrupted.
#[tokio::test]
async fn import_django_killed_midway_then_rerun_completes() {
    use std::io::BufRead;
    let Some(original) = Original::load().await else {
        return;
    };
    for backend in backends() {
        let whole = TestApp::new(backend).await;
        import::run(&whole.state, &original.options())
            .await
            .expect("whole");

        let target = TestDb::new(backend).await;
        let command = || {
            let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_electioncart"));
            cmd.args([
                "import-django",
                "--from",
                &original.db.url,
                "--batch-size",
                "1",
            ])
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("DATABASE_URL", &target.url)
            .env("RUST_LOG", "warn")
            .env(
                "DJANGO_SECRET_KEY",
                "test-secret-key-that-is-long-enough-0123456789",
            );
            cmd
        };
        let mut child = command()
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .expect("spawn");
        // The write pass prints a line per table it finished: kill it once users are in.
        let stderr = child.stderr.take().expect("stderr");
        let mut lines = std::io::BufReader::new(stderr).lines();
        let reached = lines.any(|l| l.is_ok_and(|l| l.starts_with("users: ")));
        child.kill().expect("kill");
        child.wait().expect("wait");
        assert!(reached, "the import never reached its write pass");
        let killed = TestApp::from_url(&target.url).await;
        let (mut partial, mut total) = (0, 0);
        for spec in TABLES {
            partial += count(&killed, spec.table).await;
            total += count(&whole, spec.table).await;
        }
        // Typically only the users are in; a machine slow to deliver the kill may get further.
        eprintln!("killed with {partial} of {total} rows in");
        assert!(partial >= 15, "{partial} of {total}");

        let rerun = command().output().expect("rerun");
        assert!(
            rerun.status.success(),
            "{}",
            String::from_utf8_lossy(&rerun.stderr)
        );
        let app = TestApp::from_url(&target.url).await;
        for spec in TABLES {
            assert_eq!(
                ids(&app, spec.table).await,
                ids(&whole, spec.table).await,
                "{backend:?} {}",
                spec.table
            );
        }
        let again = command().output().expect("third run");
        assert!(String::from_utf8_lossy(&again.stdout).contains("changes: 0"));
    }
}
