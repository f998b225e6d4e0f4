//! Orders through the router on SQLite and PostgreSQL, against a loopback Razorpay: the customer's
//! purchase journey, creation errors, gateway failures (the cart stays intact), parallel creations
//! from one cart, `Idempotency-Key`, the per-user limit, and taking over an interrupted creation.

use std::time::{Duration, Instant};

use axum::http::StatusCode;
use electioncart::auth::model::{Role, User};
use serde_json::{Value, json};

use crate::{
    cart::{add, call, package},
    catalog,
    gateway_mock::{self, KEY_ID, MockGateway, Mode},
    helpers::{
        Backend, TestApp, TestResponse, authed, backends, create_user, json_request, token_for,
    },
};

/// One value from SQL on either backend.
pub(crate) async fn scalar(app: &TestApp, sql: &str) -> i64 {
    let text = || sqlx::AssertSqlSafe(sql.to_string());
    match &app.state.db {
        electioncart::db::Db::Postgres(pool) => sqlx::query_scalar::<_, i64>(text())
            .fetch_one(pool)
            .await
            .expect(sql),
        electioncart::db::Db::Sqlite(db) => sqlx::query_scalar::<_, i64>(text())
            .fetch_one(&db.write)
            .await
            .expect(sql),
    }
}

/// Runs a statement on either backend (a test moving an order on by hand).
pub(crate) async fn exec(app: &TestApp, sql: &str) {
    let text = || sqlx::AssertSqlSafe(sql.to_string());
    match &app.state.db {
        electioncart::db::Db::Postgres(pool) => sqlx::query(text())
            .execute(pool)
            .await
            .map(|_| ())
            .expect(sql),
        electioncart::db::Db::Sqlite(db) => sqlx::query(text())
            .execute(&db.write)
            .await
            .map(|_| ())
            .expect(sql),
    }
}

/// An app wired to `gateway`, plus `extra` settings.
pub(crate) async fn shop(
    backend: Backend,
    gateway: &MockGateway,
    extra: &[(&str, &str)],
) -> TestApp {
    let env = gateway.env();
    let mut vars: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    vars.extend_from_slice(extra);
    TestApp::with_env(backend, &vars).await
}

pub(crate) async fn shopper(app: &TestApp, name: &str) -> (User, String) {
    let user = create_user(app, name, "customer-pass-2026", Role::User).await;
    let token = token_for(app, &user);
    (user, token)
}

pub(crate) async fn create(app: &TestApp, token: &str) -> TestResponse {
    app.request(authed(
        json_request("POST", "/api/orders/create/", json!({})),
        token,
    ))
    .await
}

/// A cart with `quantity` of a new package at `price`, placed as an order: the 201 body.
pub(crate) async fn order_of(
    app: &TestApp,
    admin: &catalog::Admin,
    token: &str,
    price: &str,
    quantity: i64,
) -> Value {
    let p = package(
        app,
        admin,
        &format!("Package {price} {}", uuid::Uuid::new_v4()),
        price,
    )
    .await;
    let r = add(
        app,
        token,
        json!({"item_type": "package", "item_id": p, "quantity": quantity}),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let r = create(app, token).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    r.json()
}

fn assert_error(r: &TestResponse, status: StatusCode, message: &str) {
    assert_eq!(r.status, status, "{}", r.text());
    assert_eq!(r.json(), json!({ "error": message }));
}

#[tokio::test]
async fn the_customer_purchase_journey() {
    for backend in backends() {
        let gateway = MockGateway::start().await;
        let app = shop(backend, &gateway, &[]).await;
        let admin = catalog::admin(&app).await;
        let (user, token) = shopper(&app, "journey-user").await;
        let p = package(&app, &admin, "Election Hungama", "18500.00").await;
        let c = crate::cart::campaign(&app, &admin, "Street Play", "999.50").await;
        add(&app, &token, json!({"item_type": "package", "item_id": p})).await;
        add(
            &app,
            &token,
            json!({"item_type": "campaign", "item_id": c, "quantity": 2}),
        )
        .await;

        let r = create(&app, &token).await;
        assert_eq!(r.status, StatusCode::CREATED, "{backend:?}: {}", r.text());
        let body = r.json();
        let order = &body["order"];
        let number = order["order_number"].as_str().expect("number");
        assert!(
            number.len() == 20
                && number.starts_with("EC-")
                && number[12..]
                    .chars()
                    .all(|c| c.is_ascii_hexdigit() && !c.is_ascii_lowercase()),
            "{number}"
        );
        assert_eq!(order["total_amount"], "20499.00");
        assert_eq!(body["amount"], 2_049_900);
        assert_eq!(body["razorpay_key_id"], KEY_ID);
        let (gateway_id, amount, receipt) = gateway.last_order().expect("gateway order");
        assert_eq!(body["razorpay_order_id"], gateway_id.as_str());
        assert_eq!(order["razorpay_order_id"], gateway_id.as_str());
        assert_eq!(
            (amount, receipt.as_str()),
            (2_049_900, number),
            "paise and receipt = order number"
        );
        assert_eq!(order["status"], "pending_payment");
        assert_eq!(order["payment_status"], "unpaid");
        assert_eq!(order["razorpay_payment_id"], Value::Null);
        assert_eq!(order["payment_completed_at"], Value::Null);
        assert_eq!(order["total_items"], 2);
        assert_eq!(order["resource_upload_progress"], 0);
        assert_eq!(order["total_paid"], json!(0.0));
        assert_eq!(order["payment_balance"], json!(20499.0));
        let items = order["items"].as_array().expect("items");
        assert_eq!(items[0]["item_type"], "package");
        assert_eq!(items[0]["price"], "18500.00");
        assert_eq!(items[0]["subtotal"], json!(18500.0));
        assert_eq!(items[0]["item_details"]["name"], "Election Hungama");
        assert_eq!(items[1]["quantity"], 2);
        assert_eq!(items[1]["subtotal"], json!(1999.0));
        assert_eq!(
            order["pending_resource_items"][1],
            json!({"id": items[1]["id"], "item_type": "campaign", "item_name": "Street Play", "quantity": 2})
        );
        assert!(
            order["created_at"]
                .as_str()
                .expect("created")
                .ends_with("+05:30")
        );
        let keys: Vec<&String> = order.as_object().expect("object").keys().collect();
        assert_eq!(
            keys,
            [
                "id",
                "order_number",
                "total_amount",
                "status",
                "payment_status",
                "razorpay_order_id",
                "razorpay_payment_id",
                "payment_completed_at",
                "items",
                "total_items",
                "resource_upload_progress",
                "pending_resource_items",
                "total_paid",
                "payment_balance",
                "created_at",
                "updated_at"
            ]
        );
        let id = order["id"].as_i64().expect("id");

        // The cart is empty; the order is the customer's.
        let cart = call(&app, "GET", "/api/cart/", &token).await.json();
        assert_eq!(cart["item_count"], 0, "{cart}");
        let mine = call(&app, "GET", "/api/orders/my-orders/", &token)
            .await
            .json();
        assert_eq!(mine.as_array().map(Vec::len), Some(1));
        assert_eq!(mine[0]["id"], id);
        let detail = call(&app, "GET", &format!("/api/orders/{id}/"), &token).await;
        assert_eq!(detail.status, StatusCode::OK);
        assert_eq!(detail.json()["order_number"], number);
        let r = call(
            &app,
            "GET",
            &format!("/api/orders/{id}/payment-history/"),
            &token,
        )
        .await;
        assert_error(
            &r,
            StatusCode::NOT_FOUND,
            "Payment history not found for this order",
        );

        // Verify the checkout's payment.
        gateway.add_payment("pay_journey1", &gateway_id, 2_049_900, "INR", "captured");
        let r = crate::payments::verify(&app, &token, id, &gateway_id, "pay_journey1").await;
        assert_eq!(r.status, StatusCode::OK, "{backend:?}: {}", r.text());
        let paid = r.json();
        assert_eq!(paid["success"], true);
        assert_eq!(paid["message"], "Payment verified successfully");
        let invoice = paid["invoice_number"]
            .as_str()
            .expect("invoice")
            .to_string();
        assert!(
            invoice.starts_with("INV-") && invoice.len() == 21,
            "{invoice}"
        );
        assert_eq!(paid["order"]["status"], "pending_resources");
        assert_eq!(paid["order"]["payment_status"], "paid");
        assert_eq!(paid["order"]["razorpay_payment_id"], "pay_journey1");
        assert_eq!(
            paid["order"]["total_paid"],
            json!(20499.0),
            "D18: Razorpay payments count"
        );
        assert_eq!(paid["order"]["payment_balance"], json!(0.0));

        let history = call(
            &app,
            "GET",
            &format!("/api/orders/{id}/payment-history/"),
            &token,
        )
        .await;
        assert_eq!(history.status, StatusCode::OK);
        let history = history.json();
        assert_eq!(history["invoice_number"], invoice.as_str());
        assert_eq!(history["transaction_id"], "pay_journey1");
        assert_eq!(history["amount"], "20499.00");
        assert_eq!(history["status"], "completed");
        assert_eq!(history["status_display"], "Completed");
        assert_eq!(history["order_number"], number);
        assert_eq!(
            history["metadata"]["razorpay_order_id"],
            gateway_id.as_str()
        );
        let payments = call(&app, "GET", "/api/orders/my-payments/", &token)
            .await
            .json();
        assert_eq!(payments["count"], 1);
        assert_eq!(payments["payments"][0]["invoice_number"], invoice.as_str());
        let mine = call(&app, "GET", "/api/orders/my-orders/", &token)
            .await
            .json();
        assert_eq!(mine[0]["payment_status"], "paid");

        // Every status change has its history row (D6).
        let rows = scalar(
            &app,
            &format!("SELECT COUNT(*) FROM order_status_history WHERE order_id = {id}"),
        )
        .await;
        assert_eq!(rows, 2, "created + paid");
        let moved = scalar(&app, &format!("SELECT COUNT(*) FROM order_status_history WHERE order_id = {id} AND old_status = 'pending_payment' AND new_status = 'pending_resources'")).await;
        assert_eq!(moved, 1);

        // The admin's user list counts the order.
        let users = call(&app, "GET", "/api/auth/users/", &admin.token)
            .await
            .json();
        let listed = users
            .as_array()
            .expect("users")
            .iter()
            .find(|u| u["id"] == user.id)
            .cloned()
            .expect("listed");
        assert_eq!(listed["order_count"], 1, "{backend:?}");
    }
}

#[tokio::test]
async fn creation_errors_and_other_users_orders() {
    for backend in backends() {
        let gateway = MockGateway::start().await;
        let app = shop(backend, &gateway, &[]).await;
        let admin = catalog::admin(&app).await;
        let (_, token) = shopper(&app, "errors-user").await;
        let (_, other) = shopper(&app, "other-user").await;

        let r = app
            .request(json_request("POST", "/api/orders/create/", json!({})))
            .await;
        assert_eq!(r.status, StatusCode::UNAUTHORIZED);
        assert_error(
            &create(&app, &token).await,
            StatusCode::NOT_FOUND,
            "Cart not found",
        );
        call(&app, "GET", "/api/cart/", &token).await;
        assert_error(
            &create(&app, &token).await,
            StatusCode::BAD_REQUEST,
            "Cart is empty",
        );

        // Below Razorpay's ₹1 minimum: refused before the gateway, the cart kept.
        let cheap = package(&app, &admin, "Tiny", "0.50").await;
        add(
            &app,
            &token,
            json!({"item_type": "package", "item_id": cheap}),
        )
        .await;
        assert_error(
            &create(&app, &token).await,
            StatusCode::BAD_REQUEST,
            "Order total must be at least ₹1.00",
        );
        assert_eq!(gateway.create_calls(), 0);
        assert_eq!(
            call(&app, "GET", "/api/cart/", &token).await.json()["item_count"],
            1
        );
        call(&app, "DELETE", "/api/cart/clear/", &token).await;

        // Mass assignment: a body's price, status or user is ignored.
        let body = order_of(&app, &admin, &token, "100.00", 1).await;
        let id = body["order"]["id"].as_i64().expect("id");
        assert_eq!(body["order"]["total_amount"], "100.00");

        for path in [
            format!("/api/orders/{id}/"),
            format!("/api/orders/{id}/payment-history/"),
        ] {
            let r = call(&app, "GET", &path, &other).await;
            assert_error(&r, StatusCode::NOT_FOUND, "Order not found");
            let r = app.get(&path).await;
            assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{path}");
        }
        let r = crate::payments::verify(&app, &other, id, "order_x", "pay_x").await;
        assert_error(&r, StatusCode::NOT_FOUND, "Order not found");
        for bad in ["abc", "0", "-1", "99999999999999999999", "1.5"] {
            let r = call(&app, "GET", &format!("/api/orders/{bad}/"), &token).await;
            assert_error(&r, StatusCode::NOT_FOUND, "Order not found");
        }
        assert_eq!(
            call(&app, "GET", "/api/orders/my-orders/", &other)
                .await
                .json(),
            json!([])
        );
    }
}

#[tokio::test]
async fn gateway_failures_keep_the_cart_and_leave_no_order() {
    for backend in backends() {
        let gateway = MockGateway::start().await;
        let app = shop(backend, &gateway, &[]).await;
        let admin = catalog::admin(&app).await;
        let (_, token) = shopper(&app, "failure-user").await;
        let p = package(&app, &admin, "Failing", "500.00").await;
        add(
            &app,
            &token,
            json!({"item_type": "package", "item_id": p, "quantity": 2}),
        )
        .await;

        for (mode, status) in [
            (Mode::Fail500, StatusCode::BAD_GATEWAY),
            (
                Mode::Hang(Duration::from_secs(5)),
                StatusCode::SERVICE_UNAVAILABLE,
            ),
        ] {
            gateway.set_mode(mode);
            let started = Instant::now();
            let r = create(&app, &token).await;
            assert_eq!(r.status, status, "{backend:?} {mode:?}: {}", r.text());
            assert!(
                started.elapsed() < Duration::from_secs(4),
                "within the 1.5 s timeout"
            );
            let message = r.json()["error"].as_str().expect("error").to_string();
            assert!(message.starts_with("Order creation failed: "), "{message}");
            assert!(
                !message.contains("500") && !message.contains("http"),
                "{message}"
            );
            assert_eq!(
                scalar(&app, "SELECT COUNT(*) FROM orders").await,
                0,
                "no half-written order"
            );
            assert_eq!(scalar(&app, "SELECT COUNT(*) FROM order_items").await, 0);
            let cart = call(&app, "GET", "/api/cart/", &token).await.json();
            assert_eq!(
                cart["item_count"], 1,
                "{mode:?}: the cart is intact: {cart}"
            );
            assert_eq!(cart["items"][0]["quantity"], 2);
        }

        // A gateway nobody listens on.
        let down = shop(
            backend,
            &gateway,
            &[("RAZORPAY_API_BASE", "http://127.0.0.1:9")],
        )
        .await;
        let (_, t2) = shopper(&down, "down-user").await;
        let a2 = catalog::admin(&down).await;
        let p2 = package(&down, &a2, "Down", "10.00").await;
        add(&down, &t2, json!({"item_type": "package", "item_id": p2})).await;
        let r = create(&down, &t2).await;
        assert_eq!(r.status, StatusCode::SERVICE_UNAVAILABLE, "{}", r.text());
        assert_eq!(
            call(&down, "GET", "/api/cart/", &t2).await.json()["item_count"],
            1
        );

        // The retry path: creating again once the gateway is back.
        gateway.set_mode(Mode::Normal);
        let r = create(&app, &token).await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
        assert_eq!(r.json()["order"]["total_amount"], "1000.00");
        assert_eq!(scalar(&app, "SELECT COUNT(*) FROM orders").await, 1);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn ten_parallel_creations_from_one_cart_make_one_order() {
    for backend in backends() {
        let gateway = MockGateway::start().await;
        let app = shop(backend, &gateway, &[("RATE_LIMIT_ENABLED", "false")]).await;
        let admin = catalog::admin(&app).await;
        let (_, token) = shopper(&app, "race-user").await;
        let p = package(&app, &admin, "Race", "250.00").await;
        for round in 0..5 {
            add(
                &app,
                &token,
                json!({"item_type": "package", "item_id": p, "quantity": 4}),
            )
            .await;
            let calls_before = gateway.create_calls();
            let mut tasks = Vec::new();
            for _ in 0..10 {
                let router = app.router.clone();
                let token = token.clone();
                tasks.push(tokio::spawn(async move {
                    crate::helpers::send(
                        &router,
                        authed(
                            json_request("POST", "/api/orders/create/", json!({})),
                            &token,
                        ),
                    )
                    .await
                }));
            }
            let mut created = 0;
            for task in tasks {
                let r = task.await.expect("task");
                match r.status {
                    StatusCode::CREATED => created += 1,
                    StatusCode::BAD_REQUEST => {
                        assert_eq!(r.json(), json!({"error": "Cart is empty"}))
                    }
                    other => panic!("{backend:?} round {round}: {other}: {}", r.text()),
                }
            }
            assert_eq!(created, 1, "{backend:?} round {round}");
            assert_eq!(
                gateway.create_calls() - calls_before,
                1,
                "one gateway order"
            );
            assert_eq!(scalar(&app, "SELECT COUNT(*) FROM orders").await, round + 1);
            assert_eq!(
                call(&app, "GET", "/api/cart/", &token).await.json()["item_count"],
                0
            );
        }
        let items = scalar(
            &app,
            "SELECT COUNT(*) FROM order_items WHERE quantity = 4 AND price_paise = 25000",
        )
        .await;
        assert_eq!(items, 5, "each order holds the cart's snapshot");
    }
}

#[tokio::test]
async fn an_idempotency_key_replays_the_first_answer() {
    for backend in backends() {
        let gateway = MockGateway::start().await;
        let app = shop(backend, &gateway, &[]).await;
        let admin = catalog::admin(&app).await;
        let (_, token) = shopper(&app, "idem-user").await;
        let p = package(&app, &admin, "Idem", "300.00").await;
        add(&app, &token, json!({"item_type": "package", "item_id": p})).await;
        let keyed = |key: &str| {
            let mut request = authed(
                json_request("POST", "/api/orders/create/", json!({})),
                &token,
            );
            request
                .headers_mut()
                .insert("idempotency-key", key.parse().expect("key"));
            request
        };
        let first = app.request(keyed("checkout-1")).await;
        assert_eq!(first.status, StatusCode::CREATED, "{}", first.text());
        // The cart is filled again: the same key still answers the first order, and makes none.
        add(&app, &token, json!({"item_type": "package", "item_id": p})).await;
        let again = app.request(keyed("checkout-1")).await;
        assert_eq!(again.status, StatusCode::CREATED);
        assert_eq!(again.json(), first.json());
        assert_eq!(scalar(&app, "SELECT COUNT(*) FROM orders").await, 1);
        assert_eq!(gateway.create_calls(), 1);
        // A new key is a new order.
        let other = app.request(keyed("checkout-2")).await;
        assert_eq!(other.status, StatusCode::CREATED);
        assert_ne!(other.json()["order"]["id"], first.json()["order"]["id"]);
        let bad = app.request(keyed(&"k".repeat(300))).await;
        assert_eq!(bad.status, StatusCode::BAD_REQUEST);
        assert!(bad.json()["error"].is_string());
    }
}

#[tokio::test]
async fn the_eleventh_creation_in_an_hour_is_refused() {
    let gateway = MockGateway::start().await;
    let app = shop(Backend::Sqlite, &gateway, &[]).await;
    let (_, token) = shopper(&app, "limit-user").await;
    call(&app, "GET", "/api/cart/", &token).await;
    for _ in 0..10 {
        assert_eq!(create(&app, &token).await.status, StatusCode::BAD_REQUEST);
    }
    let r = create(&app, &token).await;
    assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(
        r.json()["error"],
        "Too many requests. Please try again later."
    );
    assert!(r.header("retry-after").is_some());
}

#[tokio::test]
async fn an_interrupted_creation_is_taken_over_by_the_next_attempt() {
    for backend in backends() {
        let gateway = MockGateway::start().await;
        let app = shop(backend, &gateway, &[]).await;
        let admin = catalog::admin(&app).await;
        let (user, token) = shopper(&app, "crash-user").await;
        let p = package(&app, &admin, "Crash", "700.00").await;
        add(&app, &token, json!({"item_type": "package", "item_id": p})).await;
        // The transaction commits, then the process "dies" before the gateway call.
        let begun = electioncart::orders::service::place_from_cart(
            &app.state,
            user.id,
            None,
            Duration::from_secs(60),
        )
        .await
        .expect("placed");
        let electioncart::orders::service::Begun::Placed(placed) = begun else {
            panic!("not placed")
        };
        // Too recent to take over: the attempt might still be running.
        assert_error(
            &create(&app, &token).await,
            StatusCode::BAD_REQUEST,
            "Cart is empty",
        );
        let sql = "UPDATE orders SET updated_at = $1";
        let old = time::OffsetDateTime::now_utc() - time::Duration::hours(1);
        match &app.state.db {
            electioncart::db::Db::Postgres(pool) => {
                sqlx::query(sql).bind(old).execute(pool).await.expect("age");
            }
            electioncart::db::Db::Sqlite(db) => {
                sqlx::query(sql)
                    .bind(old)
                    .execute(&db.write)
                    .await
                    .expect("age");
            }
        }
        let r = create(&app, &token).await;
        assert_eq!(r.status, StatusCode::CREATED, "{backend:?}: {}", r.text());
        assert_eq!(r.json()["order"]["id"], placed.order.id);
        assert_eq!(r.json()["amount"], 70_000);
        assert_eq!(
            scalar(
                &app,
                "SELECT COUNT(*) FROM orders WHERE razorpay_order_id <> ''"
            )
            .await,
            1
        );
        let _ = gateway_mock::KEY_SECRET;
    }
}
