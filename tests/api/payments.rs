//! Payment verification and the webhook (D18, reliability (d)) through the router on SQLite and
//! PostgreSQL, against a loopback Razorpay: forged and replayed signatures, a payment used twice,
//! amounts the gateway does not confirm, idempotent repeats, concurrent verifications, and the
//! webhook's signature, deduplication and race with the callback.

use std::time::Duration;

use axum::{
    body::Body,
    http::{Request, StatusCode},
};
use electioncart::payments::razorpay::{checkout_signature, hmac_hex};
use serde_json::{Value, json};

use crate::{
    cart::call,
    catalog,
    gateway_mock::{KEY_SECRET, MockGateway, Mode, WEBHOOK_SECRET},
    helpers::{Backend, TestApp, TestResponse, authed, backends, json_request},
    orders::{exec, order_of, scalar, shop, shopper},
};

/// Posts a checkout result signed with the test key secret.
pub(crate) async fn verify(
    app: &TestApp,
    token: &str,
    id: i64,
    order: &str,
    payment: &str,
) -> TestResponse {
    let signature = checkout_signature(KEY_SECRET, order, payment);
    verify_with(app, token, id, json!({"razorpay_order_id": order, "razorpay_payment_id": payment, "razorpay_signature": signature})).await
}

async fn verify_with(app: &TestApp, token: &str, id: i64, body: Value) -> TestResponse {
    app.request(authed(
        json_request("POST", &format!("/api/orders/{id}/payment-success/"), body),
        token,
    ))
    .await
}

fn ids(created: &Value) -> (i64, String, i64) {
    (
        created["order"]["id"].as_i64().expect("id"),
        created["razorpay_order_id"]
            .as_str()
            .expect("rzp id")
            .to_string(),
        created["amount"].as_i64().expect("amount"),
    )
}

async fn order_state(app: &TestApp, id: i64) -> (i64, i64) {
    let paid = scalar(
        app,
        &format!("SELECT COUNT(*) FROM orders WHERE id = {id} AND payment_status = 'paid'"),
    )
    .await;
    let history = scalar(
        app,
        &format!("SELECT COUNT(*) FROM payment_history WHERE order_id = {id}"),
    )
    .await;
    (paid, history)
}

#[tokio::test]
async fn forged_replayed_and_unconfirmed_payments_are_refused() {
    for backend in backends() {
        let gateway = MockGateway::start().await;
        let app = shop(backend, &gateway, &[]).await;
        let admin = catalog::admin(&app).await;
        let (_, token) = shopper(&app, "attacker").await;
        let (expensive, rzp_expensive, total_expensive) =
            ids(&order_of(&app, &admin, &token, "10000.00", 1).await);
        let (cheap, rzp_cheap, total_cheap) =
            ids(&order_of(&app, &admin, &token, "100.00", 1).await);
        gateway.add_payment("pay_cheap", &rzp_cheap, total_cheap, "INR", "captured");

        // Missing or blank fields: DRF's field errors, before the order is looked up.
        let r = verify_with(&app, &token, 999_999, json!({"razorpay_order_id": " "})).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST);
        assert_eq!(
            r.json(),
            json!({
                "razorpay_order_id": ["This field may not be blank."],
                "razorpay_payment_id": ["This field is required."],
                "razorpay_signature": ["This field is required."]
            })
        );

        // D3: the cheap order's valid triple replayed on the expensive order.
        let r = verify(&app, &token, expensive, &rzp_cheap, "pay_cheap").await;
        assert_eq!(
            r.json(),
            json!({"error": "Payment signature verification failed"})
        );
        assert_eq!(r.status, StatusCode::BAD_REQUEST);
        // A signature over the expensive order's id but the body naming another order id.
        let sig = checkout_signature(KEY_SECRET, &rzp_expensive, "pay_cheap");
        let r = verify_with(&app, &token, expensive, json!({"razorpay_order_id": rzp_cheap, "razorpay_payment_id": "pay_cheap", "razorpay_signature": sig})).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST);
        // D1/D2: forged signatures.
        let good = checkout_signature(KEY_SECRET, &rzp_expensive, "pay_x");
        for forged in [
            "0".repeat(64),
            good.to_uppercase(),
            good[..63].to_string(),
            format!("{good}0"),
            "zz".repeat(32),
            "a".repeat(10_000),
            hmac_hex(
                b"another-secret",
                format!("{rzp_expensive}|pay_x").as_bytes(),
            ),
        ] {
            let r = verify_with(&app, &token, expensive, json!({"razorpay_order_id": rzp_expensive, "razorpay_payment_id": "pay_x", "razorpay_signature": forged})).await;
            assert!(
                r.status == StatusCode::BAD_REQUEST,
                "{backend:?}: {}",
                r.text()
            );
        }
        assert_eq!(
            order_state(&app, expensive).await,
            (0, 0),
            "the expensive order stays unpaid"
        );

        // D6: a valid signature for a payment the gateway does not confirm.
        for (payment, amount, currency, status) in [
            ("pay_small", 100, "INR", "captured"),
            ("pay_usd", total_expensive, "USD", "captured"),
            ("pay_failed", total_expensive, "INR", "failed"),
        ] {
            gateway.add_payment(payment, &rzp_expensive, amount, currency, status);
            let r = verify(&app, &token, expensive, &rzp_expensive, payment).await;
            assert_eq!(r.status, StatusCode::BAD_REQUEST, "{payment}: {}", r.text());
            assert_eq!(
                r.json(),
                json!({"error": "Payment could not be confirmed with the payment gateway"})
            );
        }
        gateway.add_payment(
            "pay_elsewhere",
            &rzp_cheap,
            total_expensive,
            "INR",
            "captured",
        );
        assert_eq!(
            verify(&app, &token, expensive, &rzp_expensive, "pay_elsewhere")
                .await
                .status,
            StatusCode::BAD_REQUEST
        );
        assert_eq!(
            verify(&app, &token, expensive, &rzp_expensive, "pay_unknown")
                .await
                .status,
            StatusCode::BAD_REQUEST
        );
        assert_eq!(order_state(&app, expensive).await, (0, 0));

        // The cheap order pays; D8: the same payment then signed for the expensive order (the
        // gateway allowing it) is refused by the one-payment-one-order rule.
        assert_eq!(
            verify(&app, &token, cheap, &rzp_cheap, "pay_cheap")
                .await
                .status,
            StatusCode::OK
        );
        gateway.add_payment(
            "pay_cheap",
            &rzp_expensive,
            total_expensive,
            "INR",
            "captured",
        );
        let r = verify(&app, &token, expensive, &rzp_expensive, "pay_cheap").await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.text());
        assert_eq!(
            r.json(),
            json!({"error": "This payment has already been used for another order"})
        );
        assert_eq!(order_state(&app, expensive).await, (0, 0));

        // A gateway that fails the lookup leaves the signature as the proof (the webhook confirms).
        gateway.set_mode(Mode::Fail500);
        let r = verify(&app, &token, expensive, &rzp_expensive, "pay_while_down").await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text());
        gateway.set_mode(Mode::Normal);
        assert_eq!(order_state(&app, expensive).await, (1, 1));
        // Paid by one payment, another one is a conflict.
        gateway.add_payment(
            "pay_second",
            &rzp_expensive,
            total_expensive,
            "INR",
            "captured",
        );
        assert_eq!(
            verify(&app, &token, expensive, &rzp_expensive, "pay_second")
                .await
                .status,
            StatusCode::CONFLICT
        );
    }
}

#[tokio::test]
async fn a_repeat_is_a_no_op_and_never_moves_the_order_back() {
    for backend in backends() {
        let gateway = MockGateway::start().await;
        let app = shop(backend, &gateway, &[]).await;
        let admin = catalog::admin(&app).await;
        let (_, token) = shopper(&app, "repeat-user").await;
        let (id, rzp, total) = ids(&order_of(&app, &admin, &token, "1500.00", 2).await);
        gateway.add_payment("pay_repeat", &rzp, total, "INR", "captured");
        let first = verify(&app, &token, id, &rzp, "pay_repeat").await;
        assert_eq!(first.status, StatusCode::OK);
        let invoice = first.json()["invoice_number"].clone();
        // Fulfilment moves on; the same triple again changes nothing.
        let sql = format!("UPDATE orders SET status = 'completed' WHERE id = {id}");
        exec(&app, &sql).await;
        let again = verify(&app, &token, id, &rzp, "pay_repeat").await;
        assert_eq!(again.status, StatusCode::OK, "{}", again.text());
        assert_eq!(again.json()["invoice_number"], invoice);
        assert_eq!(again.json()["order"]["status"], "completed", "{backend:?}");
        assert_eq!(
            scalar(&app, "SELECT COUNT(*) FROM payment_history").await,
            1
        );

        // A cancelled order is not payable (D10).
        let (id2, rzp2, total2) = ids(&order_of(&app, &admin, &token, "200.00", 1).await);
        let sql = format!("UPDATE orders SET status = 'cancelled' WHERE id = {id2}");
        exec(&app, &sql).await;
        gateway.add_payment("pay_cancelled", &rzp2, total2, "INR", "captured");
        let r = verify(&app, &token, id2, &rzp2, "pay_cancelled").await;
        assert_eq!(r.status, StatusCode::CONFLICT);
        assert_eq!(
            r.json(),
            json!({"error": "Order cannot be paid in its current status"})
        );
        assert_eq!(order_state(&app, id2).await, (0, 0));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn twenty_concurrent_verifications_make_one_payment() {
    for backend in backends() {
        let gateway = MockGateway::start().await;
        let app = shop(backend, &gateway, &[("RATE_LIMIT_ENABLED", "false")]).await;
        let admin = catalog::admin(&app).await;
        let (_, token) = shopper(&app, "race-payer").await;
        for round in 0..20 {
            let (id, rzp, total) = ids(&order_of(&app, &admin, &token, "999.50", 1).await);
            let payment = format!("pay_race{round}");
            gateway.add_payment(&payment, &rzp, total, "INR", "captured");
            let signature = checkout_signature(KEY_SECRET, &rzp, &payment);
            let body = json!({"razorpay_order_id": rzp, "razorpay_payment_id": payment, "razorpay_signature": signature});
            let mut tasks = Vec::new();
            for _ in 0..20 {
                let router = app.router.clone();
                let token = token.clone();
                let body = body.clone();
                tasks.push(tokio::spawn(async move {
                    let path = format!("/api/orders/{id}/payment-success/");
                    crate::helpers::send(&router, authed(json_request("POST", &path, body), &token))
                        .await
                }));
            }
            let mut invoices = std::collections::HashSet::new();
            for task in tasks {
                let r = task.await.expect("task");
                assert!(
                    r.status == StatusCode::OK || r.status == StatusCode::CONFLICT,
                    "{backend:?} round {round}: {} {}",
                    r.status,
                    r.text()
                );
                if r.status == StatusCode::OK {
                    invoices.insert(
                        r.json()["invoice_number"]
                            .as_str()
                            .expect("invoice")
                            .to_string(),
                    );
                }
            }
            assert_eq!(invoices.len(), 1, "one invoice number");
            assert_eq!(
                order_state(&app, id).await,
                (1, 1),
                "{backend:?} round {round}"
            );
            let moved = scalar(&app, &format!("SELECT COUNT(*) FROM order_status_history WHERE order_id = {id} AND new_status = 'pending_resources'")).await;
            assert_eq!(moved, 1);
        }
    }
}

fn webhook(body: &str, signature: Option<&str>, event_id: &str) -> Request<Body> {
    let mut builder = Request::builder()
        .method("POST")
        .uri("/api/payments/razorpay/webhook/")
        .header("content-type", "application/json")
        .header("x-razorpay-event-id", event_id);
    if let Some(signature) = signature {
        builder = builder.header("x-razorpay-signature", signature);
    }
    builder.body(Body::from(body.to_string())).expect("request")
}

fn captured(event: &str, payment: &str, order: &str, amount: i64) -> String {
    json!({"entity": "event", "event": event, "payload": {"payment": {"entity": {
        "id": payment, "order_id": order, "amount": amount, "currency": "INR",
        "status": if event == "payment.failed" { "failed" } else { "captured" }}}}})
    .to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_webhook_marks_orders_paid_once() {
    for backend in backends() {
        let gateway = MockGateway::start().await;
        let app = shop(backend, &gateway, &[]).await;
        let admin = catalog::admin(&app).await;
        let (_, token) = shopper(&app, "webhook-user").await;
        let (id, rzp, total) = ids(&order_of(&app, &admin, &token, "2500.00", 1).await);
        let body = captured("payment.captured", "pay_hook", &rzp, total);
        let signature = hmac_hex(WEBHOOK_SECRET.as_bytes(), body.as_bytes());

        // Refusals: no signature, a re-serialised body, the key secret instead of the webhook's.
        let r = app.request(webhook(&body, None, "evt_0")).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST);
        let reserialised =
            serde_json::to_string_pretty(&serde_json::from_str::<Value>(&body).expect("json"))
                .expect("pretty");
        assert_eq!(
            app.request(webhook(&reserialised, Some(&signature), "evt_0"))
                .await
                .status,
            StatusCode::BAD_REQUEST
        );
        let wrong = hmac_hex(KEY_SECRET.as_bytes(), body.as_bytes());
        assert_eq!(
            app.request(webhook(&body, Some(&wrong), "evt_0"))
                .await
                .status,
            StatusCode::BAD_REQUEST
        );
        assert_eq!(order_state(&app, id).await, (0, 0));

        // Delivered three times: one effect.
        for _ in 0..3 {
            let r = app.request(webhook(&body, Some(&signature), "evt_1")).await;
            assert_eq!(r.status, StatusCode::OK, "{backend:?}: {}", r.text());
        }
        assert_eq!(order_state(&app, id).await, (1, 1));
        let status_rows = scalar(
            &app,
            &format!("SELECT COUNT(*) FROM order_status_history WHERE order_id = {id}"),
        )
        .await;
        assert_eq!(status_rows, 2);
        // A later payment.failed, and events this shop ignores, change nothing.
        let failed = captured("payment.failed", "pay_hook", &rzp, total);
        let sig = hmac_hex(WEBHOOK_SECRET.as_bytes(), failed.as_bytes());
        assert_eq!(
            app.request(webhook(&failed, Some(&sig), "evt_2"))
                .await
                .status,
            StatusCode::OK
        );
        let other = json!({"event": "refund.created", "payload": {}}).to_string();
        let sig = hmac_hex(WEBHOOK_SECRET.as_bytes(), other.as_bytes());
        assert_eq!(
            app.request(webhook(&other, Some(&sig), "evt_3"))
                .await
                .status,
            StatusCode::OK
        );
        let order = call(&app, "GET", &format!("/api/orders/{id}/"), &token)
            .await
            .json();
        assert_eq!(
            (order["status"].as_str(), order["payment_status"].as_str()),
            (Some("pending_resources"), Some("paid"))
        );
        // The browser's callback afterwards: a no-op success.
        let r = verify(&app, &token, id, &rzp, "pay_hook").await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text());
        assert_eq!(
            scalar(&app, "SELECT COUNT(*) FROM payment_history").await,
            1
        );

        // Callback and webhook racing on a new order: one payment row.
        let (id2, rzp2, total2) = ids(&order_of(&app, &admin, &token, "3000.00", 1).await);
        gateway.add_payment("pay_race", &rzp2, total2, "INR", "captured");
        let hook = captured("order.paid", "pay_race", &rzp2, total2);
        let hook_sig = hmac_hex(WEBHOOK_SECRET.as_bytes(), hook.as_bytes());
        let router = app.router.clone();
        let a = tokio::spawn(async move {
            crate::helpers::send(&router, webhook(&hook, Some(&hook_sig), "evt_race")).await
        });
        let b = verify(&app, &token, id2, &rzp2, "pay_race").await;
        let a = a.await.expect("webhook");
        assert_eq!(
            (a.status, b.status),
            (StatusCode::OK, StatusCode::OK),
            "{} / {}",
            a.text(),
            b.text()
        );
        assert_eq!(order_state(&app, id2).await, (1, 1));
    }
}

#[tokio::test]
async fn without_a_key_secret_nothing_is_created_or_verified() {
    let gateway = MockGateway::start().await;
    let app = TestApp::with_env(
        Backend::Sqlite,
        &[
            ("RAZORPAY_API_BASE", gateway.base.as_str()),
            ("RAZORPAY_MODE", "razorpay"),
        ],
    )
    .await;
    let (_, token) = shopper(&app, "unconfigured").await;
    let r = crate::orders::create(&app, &token).await;
    assert_eq!(r.status, StatusCode::SERVICE_UNAVAILABLE);
    assert!(
        r.json()["error"]
            .as_str()
            .expect("error")
            .starts_with("Order creation failed: ")
    );
    let body = json!({"event": "payment.captured"}).to_string();
    let signature = hmac_hex(b"", body.as_bytes());
    let r = app.request(webhook(&body, Some(&signature), "evt")).await;
    assert_eq!(
        r.status,
        StatusCode::BAD_REQUEST,
        "an unset secret verifies nothing"
    );
    assert_eq!(gateway.create_calls(), 0);
}

#[tokio::test]
async fn the_fake_gateway_serves_local_development() {
    for backend in backends() {
        let app = TestApp::with_env(backend, &[("RAZORPAY_MODE", "fake")]).await;
        let admin = catalog::admin(&app).await;
        let (_, token) = shopper(&app, "fake-user").await;
        let created = order_of(&app, &admin, &token, "18500.00", 1).await;
        let (id, rzp, _) = ids(&created);
        assert!(rzp.starts_with("order_fake"), "{rzp}");
        assert_eq!(created["razorpay_key_id"], "rzp_test_fake");
        let secret = electioncart::payments::razorpay::FAKE_KEY_SECRET;
        let signature = checkout_signature(secret, &rzp, "pay_fake1");
        let r = verify_with(&app, &token, id, json!({"razorpay_order_id": rzp, "razorpay_payment_id": "pay_fake1", "razorpay_signature": signature})).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text());
        // my-payments: date filters (IST days, inclusive) and their 400s.
        let today = time::OffsetDateTime::now_utc()
            .to_offset(time::macros::offset!(+5:30))
            .date();
        let path = format!("/api/orders/my-payments/?start_date={today}&end_date={today}");
        assert_eq!(call(&app, "GET", &path, &token).await.json()["count"], 1);
        let tomorrow = today.next_day().expect("tomorrow");
        let path = format!("/api/orders/my-payments/?start_date={tomorrow}");
        assert_eq!(call(&app, "GET", &path, &token).await.json()["count"], 0);
        let r = call(
            &app,
            "GET",
            "/api/orders/my-payments/?start_date=2026-13-01",
            &token,
        )
        .await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST);
        assert_eq!(
            r.json(),
            json!({"error": "Invalid start_date format. Use YYYY-MM-DD"})
        );
        let r = call(
            &app,
            "GET",
            "/api/orders/my-payments/?end_date=yesterday",
            &token,
        )
        .await;
        assert_eq!(
            r.json(),
            json!({"error": "Invalid end_date format. Use YYYY-MM-DD"})
        );
        let r = call(
            &app,
            "GET",
            "/api/orders/my-payments/?status=completed",
            &token,
        )
        .await;
        assert_eq!(r.json()["count"], 1);
        let _ = Duration::ZERO;
    }
}
