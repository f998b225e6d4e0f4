//! The admin and staff panel through the router on SQLite and PostgreSQL (issue 12): a website
//! order paid and resourced → assigned (checklist from the templates) → every required item ticked
//! → completed, with history rows and notifications at each step; a manual order with a partial
//! UPI payment recorded in full later; the role matrix (staff 403 on admin routes, 404 on another's
//! order; customers 403; anonymous 401).

use axum::http::StatusCode;
use electioncart::{
    auth::model::Role,
    payments::razorpay::{FAKE_KEY_SECRET, checkout_signature},
};
use serde_json::{Value, json};

use crate::{
    cart::{add, call, package},
    catalog,
    helpers::{TestApp, TestResponse, authed, backends, create_user, json_request, token_for},
    images::{Part, multipart_request, png},
    orders::{create, exec, scalar, shopper},
};

async fn post(app: &TestApp, token: &str, path: &str, body: Value) -> TestResponse {
    app.request(authed(json_request("POST", path, body), token))
        .await
}

async fn patch(app: &TestApp, token: &str, path: &str, body: Value) -> TestResponse {
    app.request(authed(json_request("PATCH", path, body), token))
        .await
}

/// A paid website order of product `p` whose resources are in (no fields: one empty submission).
async fn ready_order(app: &TestApp, token: &str, p: i64, payment: &str) -> i64 {
    add(app, token, json!({"item_type": "package", "item_id": p})).await;
    let created = create(app, token).await.json();
    let order = created["order"]["id"].as_i64().expect("order");
    let item = created["order"]["items"][0]["id"].as_i64().expect("item");
    let rzp = created["razorpay_order_id"]
        .as_str()
        .expect("rzp")
        .to_string();
    let sig = checkout_signature(FAKE_KEY_SECRET, &rzp, payment);
    let r = post(app, token, &format!("/api/orders/{order}/payment-success/"),
        json!({"razorpay_order_id": rzp, "razorpay_payment_id": payment, "razorpay_signature": sig})).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let item_s = item.to_string();
    let r = app
        .request(authed(
            multipart_request(
                "POST",
                &format!("/api/orders/{order}/submit-resources/"),
                &[Part::Text("order_item_id", &item_s)],
            ),
            token,
        ))
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    order
}

async fn notifications(app: &TestApp, token: &str) -> Vec<Value> {
    let r = call(app, "GET", "/api/admin/notifications/", token).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    r.json()["results"].as_array().expect("results").clone()
}

fn types(list: &[Value]) -> Vec<String> {
    list.iter()
        .map(|n| n["notification_type"].as_str().unwrap_or("").to_string())
        .collect()
}

#[tokio::test]
async fn the_fulfilment_journey() {
    for backend in backends() {
        let app = TestApp::with_env(backend, &[("RAZORPAY_MODE", "fake")]).await;
        let admin = catalog::admin(&app).await;
        let (customer, token) = shopper(&app, "ful-customer").await;
        let staff = create_user(&app, "ful-staff", "staff-pass-2026!", Role::Staff).await;
        let staff_token = token_for(&app, &staff);
        let other = create_user(&app, "ful-other", "staff-pass-2026!", Role::Staff).await;
        let other_token = token_for(&app, &other);
        let p = package(&app, &admin, "Poster Pack", "1200.00").await;
        for (name, order, optional) in [
            ("Design poster", 0, false),
            ("Print posters", 1, false),
            ("Send thanks", 2, true),
        ] {
            let r = post(
                &app,
                &admin.token,
                &format!("/api/admin/products/package/{p}/checklist-template/"),
                json!({"name": name, "description": "d", "order": order, "is_optional": optional}),
            )
            .await;
            assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
        }
        let order = ready_order(&app, &token, p, "pay_ful1").await;
        let base = format!("/api/admin/orders/{order}/");

        // The role matrix before assignment.
        for path in [
            "/api/admin/orders/",
            "/api/admin/staff/",
            "/api/admin/orders/statistics/",
            base.as_str(),
        ] {
            assert_eq!(
                call(&app, "GET", path, &staff_token).await.status,
                StatusCode::FORBIDDEN,
                "{path}"
            );
            assert_eq!(
                call(&app, "GET", path, &token).await.status,
                StatusCode::FORBIDDEN,
                "{path}"
            );
            assert_eq!(
                app.get(path).await.status,
                StatusCode::UNAUTHORIZED,
                "{path}"
            );
        }
        for path in [
            "/api/staff/orders/".to_string(),
            format!("/api/staff/orders/{order}/"),
        ] {
            assert_eq!(
                call(&app, "GET", &path, &token).await.status,
                StatusCode::FORBIDDEN,
                "{path}"
            );
        }
        assert_eq!(
            call(&app, "GET", "/api/staff/orders/", &staff_token)
                .await
                .json(),
            json!([])
        );
        let r = call(
            &app,
            "GET",
            &format!("/api/staff/orders/{order}/"),
            &staff_token,
        )
        .await;
        assert_eq!(r.status, StatusCode::NOT_FOUND);
        assert_eq!(
            r.json(),
            json!({"detail": "No Order matches the given query."})
        );

        // The list: a bare array with the SPA's fields; filters.
        let r = call(&app, "GET", "/api/admin/orders/", &admin.token).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text());
        assert_eq!(r.header("x-has-more"), Some("false"));
        let row = r.json()[0].clone();
        assert_eq!(row["id"], order);
        assert_eq!(row["user"]["phone"], Value::Null);
        assert_eq!(row["user"]["name"], "ful-customer");
        assert_eq!(row["total_amount"], "1200.00");
        assert_eq!(row["status"], "ready_for_processing");
        assert_eq!(row["payment_status"], "paid");
        assert_eq!(row["assigned_to"], Value::Null);
        assert_eq!(row["total_paid"], 1200.0);
        for (query, n) in [
            ("status=ready_for_processing", 1),
            ("status=pending", 0),
            ("assigned_to=unassigned", 1),
            ("staff=9999", 0),
            ("search=FUL-CUST", 1),
            ("search=nobody", 0),
            ("payment_status=paid", 1),
            ("start_date=2000-01-01&end_date=2999-01-01", 1),
            ("end_date=2000-01-01", 0),
        ] {
            let r = call(
                &app,
                "GET",
                &format!("/api/admin/orders/?{query}"),
                &admin.token,
            )
            .await;
            assert_eq!(
                r.json().as_array().map(Vec::len),
                Some(n),
                "{query}: {}",
                r.text()
            );
        }
        let r = call(
            &app,
            "GET",
            "/api/admin/orders/?start_date=yesterday",
            &admin.token,
        )
        .await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.text());
        let stats = call(&app, "GET", "/api/admin/orders/statistics/", &admin.token)
            .await
            .json();
        assert_eq!(
            stats,
            json!({"pending": 0, "assigned": 0, "in_progress": 0, "completed": 0, "total": 1})
        );

        // The admins were told once the resources were in.
        assert_eq!(
            types(&notifications(&app, &admin.token).await),
            ["new_order"]
        );

        // Assignment: validation, then the move with its checklist and notification.
        let assign = format!("{base}assign/");
        let r = post(&app, &admin.token, &assign, json!({})).await;
        assert_eq!(
            (r.status, r.json()),
            (
                StatusCode::BAD_REQUEST,
                json!({"staff_id": ["This field is required."]})
            )
        );
        let r = post(
            &app,
            &admin.token,
            &assign,
            json!({"staff_id": customer.id}),
        )
        .await;
        assert_eq!(
            r.json(),
            json!({"staff_id": ["User must have staff or admin role"]})
        );
        let r = post(&app, &admin.token, &assign, json!({"staff_id": 999_999})).await;
        assert_eq!(r.json(), json!({"staff_id": ["Staff member not found"]}));
        let r = post(
            &app,
            &admin.token,
            "/api/admin/orders/999999/assign/",
            json!({"staff_id": staff.id}),
        )
        .await;
        assert_eq!(
            (r.status, r.json()),
            (
                StatusCode::NOT_FOUND,
                json!({"detail": "No Order matches the given query."})
            )
        );
        let r = post(&app, &staff_token, &assign, json!({"staff_id": staff.id})).await;
        assert_eq!(r.status, StatusCode::FORBIDDEN);
        let r = post(&app, &admin.token, &assign, json!({"staff_id": staff.id})).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text());
        let body = r.json();
        assert_eq!(body["message"], "Order assigned to ful-staff");
        assert_eq!(body["order"]["status"], "assigned");
        assert_eq!(body["order"]["assigned_to"]["id"], staff.id);
        let checklist = body["order"]["checklist"].clone();
        assert_eq!(checklist["total_items"], 3);
        assert_eq!(checklist["required_items"], 2);
        assert_eq!(checklist["progress_percentage"], 0);
        let items: Vec<i64> = checklist["items"]
            .as_array()
            .expect("items")
            .iter()
            .map(|i| i["id"].as_i64().expect("id"))
            .collect();
        assert_eq!(checklist["items"][0]["description"], "Design poster");
        assert_eq!(checklist["items"][2]["is_optional"], true);
        assert_eq!(
            types(&notifications(&app, &staff_token).await),
            ["order_assigned"]
        );
        let n = &notifications(&app, &staff_token).await[0];
        assert_eq!(
            n["message"],
            format!(
                "Order {} has been assigned to you. Total items: 1",
                body["order"]["order_number"].as_str().unwrap_or("")
            )
        );

        // Re-assigning keeps the checklist.
        post(&app, &admin.token, &assign, json!({"staff_id": staff.id})).await;
        assert_eq!(
            scalar(&app, "SELECT COUNT(*) FROM checklist_items").await,
            3
        );

        // The staff list and the staff member's own view.
        let staff_list = call(&app, "GET", "/api/admin/staff/", &admin.token)
            .await
            .json();
        let me = staff_list
            .as_array()
            .expect("array")
            .iter()
            .find(|s| s["id"] == staff.id)
            .cloned()
            .expect("listed");
        assert_eq!(me["assigned_orders_count"], 1);
        assert!(me.get("role").is_none());
        let mine = call(&app, "GET", "/api/staff/orders/", &staff_token)
            .await
            .json();
        assert_eq!(mine.as_array().map(Vec::len), Some(1));
        assert_eq!(
            call(&app, "GET", "/api/staff/orders/", &other_token)
                .await
                .json(),
            json!([])
        );
        let detail = call(
            &app,
            "GET",
            &format!("/api/staff/orders/{order}/"),
            &staff_token,
        )
        .await;
        assert_eq!(detail.status, StatusCode::OK, "{}", detail.text());
        let detail = detail.json();
        assert_eq!(detail["items"][0]["product_name"], "Poster Pack");
        assert_eq!(detail["items"][0]["name"], "Poster Pack");
        assert_eq!(detail["payment_history"]["status"], "completed");
        assert_eq!(
            (detail["total_paid"].clone(), detail["balance_due"].clone()),
            (json!(1200.0), json!(0.0))
        );
        assert_eq!(
            call(
                &app,
                "GET",
                &format!("/api/staff/orders/{order}/"),
                &other_token
            )
            .await
            .status,
            StatusCode::NOT_FOUND
        );

        // Ticking: another staff member cannot; the assignee moves the order on.
        let tick = |i: usize| format!("/api/staff/checklist/{}/", items[i]);
        let r = patch(&app, &other_token, &tick(0), json!({"completed": true})).await;
        assert_eq!(r.status, StatusCode::NOT_FOUND, "{}", r.text());
        let r = patch(&app, &staff_token, &tick(0), json!({})).await;
        assert_eq!(
            (r.status, r.json()),
            (
                StatusCode::BAD_REQUEST,
                json!({"success": false, "message": "completed field is required"})
            )
        );
        let r = patch(
            &app,
            &staff_token,
            "/api/staff/checklist/999999/",
            json!({"completed": true}),
        )
        .await;
        assert_eq!(r.status, StatusCode::NOT_FOUND);
        let r = patch(&app, &staff_token, &tick(2), json!({"completed": true})).await;
        assert_eq!(
            r.json()["order_progress"]["progress_percentage"],
            0,
            "optional items do not count"
        );
        let r = patch(&app, &staff_token, &tick(0), json!({"completed": true})).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text());
        let b = r.json();
        assert_eq!(b["checklist_item"]["completed"], true);
        assert_eq!(
            b["checklist_item"]["completed_by"],
            json!({"id": staff.id, "username": "ful-staff", "phone_number": null})
        );
        assert!(
            b["checklist_item"]["completed_at"]
                .as_str()
                .is_some_and(|t| t.ends_with('Z'))
        );
        assert_eq!(b["order_progress"]["progress_percentage"], 50);
        assert_eq!(b["order_progress"]["order_status"], "in_progress");
        let r = patch(&app, &staff_token, &tick(1), json!({"completed": true})).await;
        assert_eq!(r.json()["order_progress"]["order_status"], "completed");
        assert_eq!(
            types(&notifications(&app, &admin.token).await),
            [
                "progress_update",
                "order_completed",
                "progress_update",
                "new_order"
            ]
        );
        let texts: Vec<String> = notifications(&app, &admin.token)
            .await
            .iter()
            .map(|n| n["message"].as_str().unwrap_or("").to_string())
            .collect();
        assert!(texts[0].ends_with("is now 100% complete."), "{texts:?}");
        assert!(
            texts[1].contains("has been completed by staff."),
            "{texts:?}"
        );
        assert!(texts[2].ends_with("is now 50% complete."), "{texts:?}");

        // The history: every move, newest first, with labels and who.
        let detail = call(&app, "GET", &base, &admin.token).await.json();
        let moves: Vec<(String, String)> = detail["status_history"]
            .as_array()
            .expect("history")
            .iter()
            .map(|h| {
                (
                    h["new_status"].as_str().unwrap_or("").into(),
                    h["new_status_display"].as_str().unwrap_or("").into(),
                )
            })
            .collect();
        assert_eq!(
            moves.iter().map(|m| m.0.as_str()).collect::<Vec<_>>(),
            [
                "completed",
                "in_progress",
                "assigned",
                "ready_for_processing",
                "pending_resources",
                "pending_payment"
            ]
        );
        assert_eq!(moves[2].1, "Assigned to Staff");
        assert!(
            detail["status_history"]
                .as_array()
                .expect("h")
                .iter()
                .all(|h| h["changed_by"]["name"].is_string())
        );
        let history = call(&app, "GET", &format!("{base}status-history/"), &admin.token)
            .await
            .json();
        assert_eq!(history.as_array().map(Vec::len), Some(6));

        // Overrides.
        let update = format!("{base}update-status/");
        let r = post(&app, &admin.token, &update, json!({"status": "completed"})).await;
        assert_eq!(
            r.json(),
            json!({"success": false, "message": "Order is already in this status"})
        );
        let r = post(&app, &admin.token, &update, json!({"status": "shipped"})).await;
        assert_eq!(
            r.json(),
            json!({"success": false, "errors": {"status": ["\"shipped\" is not a valid choice."]}})
        );
        let r = post(
            &app,
            &admin.token,
            &update,
            json!({"status": "cancelled", "reason": "customer asked"}),
        )
        .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text());
        assert_eq!(r.json()["order"]["assigned_to"], Value::Null);
        assert_eq!(
            r.json()["order"]["status_history"][0]["is_manual_change"],
            true
        );
        assert_eq!(
            r.json()["order"]["status_history"][0]["reason"],
            "customer asked"
        );
        let pay = format!("{base}update-payment-status/");
        let r = post(&app, &admin.token, &pay, json!({})).await;
        assert_eq!(
            r.json(),
            json!({"success": false, "message": "payment_status is required"})
        );
        let r = post(&app, &admin.token, &pay, json!({"payment_status": "gold"})).await;
        assert_eq!(
            r.json()["message"],
            "Invalid payment status. Must be one of: unpaid, partial, paid, refunded, cod"
        );
        let r = post(
            &app,
            &admin.token,
            &pay,
            json!({"payment_status": "refunded"}),
        )
        .await;
        assert_eq!(
            r.json()["message"],
            "Payment status updated from paid to refunded"
        );
    }
}

#[tokio::test]
async fn a_manual_order_paid_in_two_parts() {
    for backend in backends() {
        let media = tempfile::tempdir().expect("media");
        let media_root = media.path().to_string_lossy().to_string();
        let app = TestApp::with_env(
            backend,
            &[("RAZORPAY_MODE", "fake"), ("MEDIA_ROOT", &media_root)],
        )
        .await;
        let admin = catalog::admin(&app).await;
        let staff = create_user(&app, "man-staff", "staff-pass-2026!", Role::Staff).await;
        let staff_token = token_for(&app, &staff);
        let (_, customer_token) = shopper(&app, "man-customer").await;
        let p = package(&app, &admin, "Banner Pack", "1500.00").await;
        let inactive = package(&app, &admin, "Old Pack", "10.00").await;
        exec(
            &app,
            &format!("UPDATE packages SET is_active = FALSE WHERE id = {inactive}"),
        )
        .await;

        // Validation: every error at once, in the success family.
        let r = post(
            &app,
            &staff_token,
            "/api/admin/orders/manual/",
            json!({"customer": {"name": "X"}, "items": []}),
        )
        .await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.text());
        assert_eq!(
            r.json(),
            json!({"success": false, "errors": {
            "customer": {"phone": ["This field is required."]},
            "items": ["Ensure this field has at least 1 elements."],
            "order_source": ["This field is required."]}})
        );
        let r = post(&app, &staff_token, "/api/admin/orders/manual/", json!({"customer": {"name": "X", "phone": "+91"},
            "items": [{"product_type": "gadget", "product_id": 1, "quantity": 0}], "order_source": "website"})).await;
        let errors = r.json()["errors"].clone();
        assert_eq!(
            errors["items"]["0"]["product_type"],
            json!(["\"gadget\" is not a valid choice."])
        );
        assert_eq!(
            errors["items"]["0"]["quantity"],
            json!(["Ensure this value is greater than or equal to 1."])
        );
        assert_eq!(
            errors["order_source"],
            json!(["\"website\" is not a valid choice."])
        );
        let r = post(&app, &staff_token, "/api/admin/orders/manual/", json!({"customer": {"name": "X", "phone": "+919800000001"},
            "items": [{"product_type": "package", "product_id": inactive, "quantity": 1}], "order_source": "walk_in"})).await;
        assert_eq!(
            (r.status, r.json()),
            (
                StatusCode::NOT_FOUND,
                json!({"success": false, "message": "Product not found or inactive"})
            )
        );
        assert_eq!(
            scalar(
                &app,
                "SELECT COUNT(*) FROM users WHERE phone_number = '+919800000001'"
            )
            .await,
            0,
            "rolled back"
        );
        assert_eq!(
            call(&app, "POST", "/api/admin/orders/manual/", &customer_token)
                .await
                .status,
            StatusCode::FORBIDDEN
        );

        // The order: 2 × ₹1,500 with ₹500 by UPI now, assigned to the staff member.
        let r = post(&app, &staff_token, "/api/admin/orders/manual/", json!({
            "customer": {"name": "Walk In", "phone": "+919811111111", "email": "w@example.com", "address": "12 MG Road",
                         "city": "Kochi", "state": "Kerala", "pincode": "682001"},
            "items": [{"product_type": "package", "product_id": p, "quantity": 2, "price": "1.00", "product_name": "ignored"}],
            "order_source": "whatsapp", "payment_status": "partial", "payment_method": "upi",
            "payment_reference": "UPI1", "payment_amount": "500.00", "assigned_to": staff.id, "priority": "high",
            "notes": "asap"})).await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
        let order = r.json()["order"].clone();
        let id = order["id"].as_i64().expect("id");
        assert_eq!(order["total_amount"], "3000.00");
        assert_eq!(order["status"], "assigned");
        assert_eq!(order["is_manual_order"], true);
        assert_eq!(order["order_source"], "whatsapp");
        assert_eq!(order["priority"], "high");
        assert_eq!(order["admin_notes"], "asap");
        assert_eq!(order["user"]["name"], "Walk In");
        assert_eq!(order["user"]["role"], "user");
        assert_eq!(order["user"]["phone"], "+919811111111");
        assert_eq!(
            (order["total_paid"].clone(), order["balance_due"].clone()),
            (json!(500.0), json!(2500.0))
        );
        assert_eq!(order["payment_records"][0]["amount"], "500.00");
        assert_eq!(order["payment_records"][0]["payment_method"], "upi");
        assert_eq!(
            order["payment_records"][0]["notes"],
            "Initial payment for manual order"
        );
        assert_eq!(order["items"][0]["price"], "1500.00");
        assert_eq!(order["items"][0]["resources_uploaded"], true);
        assert_eq!(
            order["checklist"]["total_items"].as_i64().map(|n| n > 0),
            Some(true),
            "fallback checklist"
        );
        let reasons: Vec<&str> = order["status_history"]
            .as_array()
            .expect("h")
            .iter()
            .map(|h| h["reason"].as_str().unwrap_or(""))
            .collect();
        assert_eq!(
            reasons,
            ["Assigned to man-staff", "Manual order created via whatsapp"]
        );
        assert_eq!(
            scalar(
                &app,
                &format!("SELECT COUNT(*) FROM orders WHERE id = {id} AND customer_city = 'Kochi'")
            )
            .await,
            1
        );
        assert_eq!(scalar(&app, "SELECT COUNT(*) FROM users WHERE username = '+919811111111' AND role = 'user' AND password LIKE '!%'").await, 1);

        // The same phone again: the customer is reused and renamed; an admin's account never is.
        let again = json!({"customer": {"name": "Renamed", "phone": "+919811111111"},
            "items": [{"product_type": "package", "product_id": p, "quantity": 1}], "order_source": "phone_call"});
        let r = post(&app, &staff_token, "/api/admin/orders/manual/", again).await;
        assert_eq!(r.json()["order"]["user"]["name"], "Renamed");
        assert_eq!(r.json()["order"]["payment_status"], "pending");
        assert_eq!(
            scalar(
                &app,
                "SELECT COUNT(*) FROM users WHERE phone_number = '+919811111111'"
            )
            .await,
            1
        );
        exec(&app, "UPDATE users SET phone_number = '+919822222222', first_name = 'Boss' WHERE username = 'catalog-admin'").await;
        let r = post(&app, &staff_token, "/api/admin/orders/manual/", json!({"customer": {"name": "Imposter", "phone": "+919822222222"},
            "items": [{"product_type": "package", "product_id": p, "quantity": 1}], "order_source": "phone_call"})).await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
        assert_eq!(scalar(&app, "SELECT COUNT(*) FROM users WHERE username = 'catalog-admin' AND first_name = 'Boss' AND role = 'admin'").await, 1);

        // Customer search finds the manual customer (role `user`), never staff or admins.
        let found = call(
            &app,
            "GET",
            "/api/admin/customers/search/?q=renam",
            &staff_token,
        )
        .await
        .json();
        assert_eq!(found["customers"][0]["phone"], "+919811111111");
        assert_eq!(
            call(
                &app,
                "GET",
                "/api/admin/customers/search/?q=boss",
                &staff_token
            )
            .await
            .json(),
            json!({"customers": []})
        );
        assert_eq!(
            call(&app, "GET", "/api/admin/customers/search/?q=", &staff_token)
                .await
                .json(),
            json!({"customers": []})
        );
        let products = call(&app, "GET", "/api/admin/products/for-order/", &staff_token)
            .await
            .json();
        let names: Vec<&str> = products["packages"]
            .as_array()
            .expect("packages")
            .iter()
            .map(|p| p["name"].as_str().unwrap_or(""))
            .collect();
        assert!(
            names.contains(&"Banner Pack") && !names.contains(&"Old Pack"),
            "{names:?}"
        );
        assert_eq!(products["packages"][0]["type"], "package");
        assert!(products["campaigns"].is_array());

        // The rest by cash, with a PNG proof: paid.
        let path = format!("/api/admin/orders/{id}/record-payment/");
        let r = post(
            &app,
            &admin.token,
            &path,
            json!({"amount": "0.00", "payment_method": "gold"}),
        )
        .await;
        assert_eq!(
            r.json(),
            json!({"success": false, "errors": {
            "amount": ["Ensure this value is greater than or equal to 0.01."],
            "payment_method": ["\"gold\" is not a valid choice."]}})
        );
        assert_eq!(
            post(&app, &staff_token, &path, json!({"amount": "1"}))
                .await
                .status,
            StatusCode::FORBIDDEN
        );
        let html = b"<!DOCTYPE html><script>alert(1)</script>";
        let r = app
            .request(authed(
                multipart_request(
                    "POST",
                    &path,
                    &[
                        Part::Text("amount", "2500.00"),
                        Part::Text("payment_method", "cash"),
                        Part::File {
                            field: "payment_proof",
                            filename: "proof.png",
                            content_type: "image/png",
                            data: html,
                        },
                    ],
                ),
                &admin.token,
            ))
            .await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.text());
        assert_eq!(
            scalar(
                &app,
                &format!("SELECT COUNT(*) FROM payment_records WHERE order_id = {id}")
            )
            .await,
            1,
            "nothing recorded"
        );
        let image = png(40, 30);
        let r = app
            .request(authed(
                multipart_request(
                    "POST",
                    &path,
                    &[
                        Part::Text("amount", "2500.00"),
                        Part::Text("payment_method", "cash"),
                        Part::Text("notes", "balance"),
                        Part::File {
                            field: "payment_proof",
                            filename: "x.exe",
                            content_type: "application/x-msdownload",
                            data: &image,
                        },
                    ],
                ),
                &admin.token,
            ))
            .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text());
        let b = r.json();
        assert_eq!(
            (
                b["total_paid"].clone(),
                b["balance"].clone(),
                b["fully_paid"].clone()
            ),
            (json!(3000.0), json!(0.0), json!(true))
        );
        assert_eq!(b["payment"]["amount"], "2500.00");
        let proof = b["payment"]["payment_proof"]
            .as_str()
            .expect("proof url")
            .to_string();
        let detail = call(
            &app,
            "GET",
            &format!("/api/admin/orders/{id}/"),
            &admin.token,
        )
        .await
        .json();
        assert_eq!(detail["payment_status"], "paid");
        assert_eq!(detail["balance_due"], 0.0);
        let records = call(
            &app,
            "GET",
            &format!("/api/admin/orders/{id}/payment-records/"),
            &admin.token,
        )
        .await
        .json();
        assert_eq!(records.as_array().map(Vec::len), Some(2));
        let r = app.get(&format!("{proof}?token={}", admin.token)).await;
        assert_eq!(r.status, StatusCode::OK);
        assert_eq!(r.header("content-type"), Some("image/png"));
        assert_eq!(r.header("x-content-type-options"), Some("nosniff"));
        assert_eq!(app.get(&proof).await.status, StatusCode::UNAUTHORIZED);
        assert_eq!(
            app.get(&format!("{proof}?token={customer_token}"))
                .await
                .status,
            StatusCode::NOT_FOUND
        );
    }
}

/// Reads the stream until an event named `name` arrives (its data), or fails after `limit`.
async fn next_event(body: &mut axum::body::Body, name: &str, limit: std::time::Duration) -> Value {
    next_event_within(body, name, limit)
        .await
        .unwrap_or_else(|| panic!("no `{name}` event within {limit:?}"))
}

/// [`next_event`], or `None` after `limit`.
async fn next_event_within(
    body: &mut axum::body::Body,
    name: &str,
    limit: std::time::Duration,
) -> Option<Value> {
    use http_body_util::BodyExt;
    let deadline = tokio::time::Instant::now() + limit;
    let mut text = String::new();
    loop {
        if let Some(start) = text.find(&format!("event: {name}\n")) {
            let rest = &text[start..];
            if let Some(end) = rest.find("\n\n") {
                let data: String = rest[..end]
                    .lines()
                    .filter_map(|l| l.strip_prefix("data: "))
                    .collect();
                return serde_json::from_str(&data).ok();
            }
        }
        let frame = tokio::time::timeout_at(deadline, body.frame())
            .await
            .ok()??
            .ok()?;
        if let Some(data) = frame.data_ref() {
            text.push_str(&String::from_utf8_lossy(data));
        }
    }
}

async fn open_stream(router: &axum::Router, token: &str) -> axum::body::Body {
    use tower::ServiceExt;
    let request =
        axum::http::Request::get(format!("/api/admin/notifications/stream/?token={token}"))
            .header("accept", "text/event-stream")
            .body(axum::body::Body::empty())
            .expect("request");
    let response = router.clone().oneshot(request).await.expect("infallible");
    assert_eq!(response.status(), StatusCode::OK);
    assert!(
        response
            .headers()
            .get("content-type")
            .is_some_and(|v| v.as_bytes().starts_with(b"text/event-stream"))
    );
    response.into_body()
}

#[tokio::test]
async fn the_bell_streams_new_notifications() {
    let redis = crate::helpers::test_redis_url();
    let prefix = format!("ec-test-{}:", uuid::Uuid::new_v4().simple());
    for backend in backends() {
        let mut vars: Vec<(&str, &str)> = vec![("RAZORPAY_MODE", "fake")];
        if let Some(url) = redis.as_deref() {
            vars.push(("REDIS_URL", url));
            vars.push(("REDIS_KEY_PREFIX", &prefix));
        }
        let app = TestApp::with_env(backend, &vars).await;
        let admin = catalog::admin(&app).await;
        let (_, token) = shopper(&app, "sse-customer").await;
        let staff = create_user(&app, "sse-staff", "staff-pass-2026!", Role::Staff).await;
        let staff_token = token_for(&app, &staff);
        let p = package(&app, &admin, "Stream Pack", "100.00").await;
        let order = ready_order(&app, &token, p, "pay_sse1").await;

        assert_eq!(
            app.get("/api/admin/notifications/stream/").await.status,
            StatusCode::UNAUTHORIZED
        );
        let mut body = open_stream(&app.router, &staff_token).await;
        assert_eq!(
            next_event(&mut body, "ready", std::time::Duration::from_secs(1)).await,
            json!({"unread_count": 0})
        );
        assert_eq!(app.state.events.streams(), 1);
        let r = post(
            &app,
            &admin.token,
            &format!("/api/admin/orders/{order}/assign/"),
            json!({"staff_id": staff.id}),
        )
        .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text());
        let event = next_event(&mut body, "notification", std::time::Duration::from_secs(1)).await;
        assert_eq!(event["notification_type"], "order_assigned");
        assert_eq!(event["order"], order);
        assert_eq!(event["related_url"], format!("/orders/{order}"));
        drop(body);
        assert_eq!(app.state.events.streams(), 0, "a closed stream is freed");

        // A second instance on the same database (and Redis): its stream hears the first's events.
        if redis.is_some() {
            let second =
                electioncart::AppState::build(crate::helpers::test_config(&app.db.url, &vars))
                    .await
                    .expect("second instance");
            let router = electioncart::build_router(second.clone());
            let mut body = open_stream(&router, &staff_token).await;
            next_event(&mut body, "ready", std::time::Duration::from_secs(1)).await;
            // The second instance's subscriber connects in the background: re-assign (which
            // notifies the staff member again) until its stream hears one, each within 1 s.
            let mut heard = None;
            for _ in 0..5 {
                let r = post(
                    &app,
                    &admin.token,
                    &format!("/api/admin/orders/{order}/assign/"),
                    json!({"staff_id": staff.id}),
                )
                .await;
                assert_eq!(r.status, StatusCode::OK, "{}", r.text());
                let wait =
                    next_event_within(&mut body, "notification", std::time::Duration::from_secs(1))
                        .await;
                if wait.is_some() {
                    heard = wait;
                    break;
                }
            }
            let event = heard.expect("the second instance's stream heard the first's notification");
            assert_eq!(event["notification_type"], "order_assigned");
            drop(body);
            second.db.close().await;
        } else {
            eprintln!("cross-instance stream check skipped: TEST_REDIS_URL is not set");
        }

        // 1,000 connects and disconnects leave nothing behind.
        for _ in 0..1000 {
            let body = open_stream(&app.router, &staff_token).await;
            drop(body);
        }
        assert_eq!(app.state.events.streams(), 0);
    }
}
