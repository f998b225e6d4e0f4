//! The cart (contract-A §5) through the router, on SQLite and PostgreSQL: the shape, adding again,
//! the field errors, inactive and deleted products, other users' lines, the quantity bound, and
//! concurrent adds.

use axum::{
    body::Body,
    http::{Request, StatusCode},
};
use electioncart::auth::model::Role;
use serde_json::{Value, json};

use crate::{
    catalog::{self, Admin},
    helpers::{TestApp, TestResponse, authed, backends, create_user, json_request, token_for},
};

pub(crate) async fn call(app: &TestApp, method: &str, path: &str, token: &str) -> TestResponse {
    app.request(authed(
        Request::builder()
            .method(method)
            .uri(path)
            .body(Body::empty())
            .expect("request"),
        token,
    ))
    .await
}

pub(crate) async fn add(app: &TestApp, token: &str, body: Value) -> TestResponse {
    app.request(authed(json_request("POST", "/api/cart/add/", body), token))
        .await
}

pub(crate) async fn package(app: &TestApp, admin: &Admin, name: &str, price: &str) -> i64 {
    let r = catalog::create_package(
        app,
        admin,
        json!({"name": name, "price": price, "description": "d",
               "items": [{"name": "Posters", "quantity": 100}]}),
    )
    .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    r.json()["id"].as_i64().expect("id")
}

pub(crate) async fn campaign(app: &TestApp, admin: &Admin, name: &str, price: &str) -> i64 {
    let r = catalog::create_campaign(
        app,
        admin,
        json!({"name": name, "price": price, "unit": "per day", "description": "d"}),
    )
    .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    r.json()["id"].as_i64().expect("id")
}

pub(crate) async fn customer(app: &TestApp, name: &str) -> String {
    let user = create_user(app, name, "customer-pass-2026", Role::User).await;
    token_for(app, &user)
}

fn assert_ist(value: &Value) {
    let text = value
        .as_str()
        .unwrap_or_else(|| panic!("not a string: {value}"));
    assert!(text.ends_with("+05:30") && text.contains('.'), "{text}");
}

#[tokio::test]
async fn the_customer_cart_journey() {
    for backend in backends() {
        let app = TestApp::new(backend).await;
        let admin = catalog::admin(&app).await;
        let token = customer(&app, "cart-user").await;
        let p = package(&app, &admin, "Cart Package", "18500.00").await;
        let c = campaign(&app, &admin, "Cart Campaign", "10000.50").await;

        // Anonymous → 401.
        let r = app.get("/api/cart/").await;
        assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{backend:?}");

        // Remove/clear before any cart → 404 "Cart not found" (they don't create one).
        let r = call(&app, "DELETE", "/api/cart/clear/", &token).await;
        assert_eq!(r.status, StatusCode::NOT_FOUND);
        assert_eq!(r.json(), json!({"error": "Cart not found"}));
        let r = call(&app, "DELETE", "/api/cart/remove/1/", &token).await;
        assert_eq!(r.json(), json!({"error": "Cart not found"}));

        // GET creates an empty cart.
        let r = call(&app, "GET", "/api/cart/", &token).await;
        assert_eq!(r.status, StatusCode::OK, "{backend:?}: {}", r.text());
        let empty = r.json();
        assert_eq!(empty["items"], json!([]));
        assert_eq!(empty["total"], json!(0.0));
        assert_eq!(empty["item_count"], 0);
        assert_ist(&empty["created_at"]);
        assert_ist(&empty["updated_at"]);
        let cart_id = empty["id"].as_i64().expect("cart id");

        // Add: 200 with the whole cart; adding again increments the line (1 + 2 → 3).
        let r = add(&app, &token, json!({"item_type": "package", "item_id": p})).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text());
        let r = add(
            &app,
            &token,
            json!({"item_type": "package", "item_id": p, "quantity": 2}),
        )
        .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text());
        let r = add(
            &app,
            &token,
            json!({"item_type": "campaign", "item_id": c.to_string(), "quantity": "3"}),
        )
        .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text());
        let cart = r.json();
        assert_eq!(cart["id"], cart_id);
        assert_eq!(cart["item_count"], 2, "lines, not units");
        let items = cart["items"].as_array().expect("items");
        assert_eq!(items[0]["item_type"], "package");
        assert_eq!(items[0]["quantity"], 3);
        assert_eq!(items[0]["subtotal"], json!(55500.0));
        assert_eq!(items[0]["item_details"]["id"], p);
        assert_eq!(items[0]["item_details"]["price"], "18500.00");
        assert_eq!(items[0]["item_details"]["items"][0]["name"], "Posters");
        assert_ist(&items[0]["added_at"]);
        assert_eq!(items[1]["item_type"], "campaign");
        assert_eq!(items[1]["subtotal"], json!(30001.5));
        assert_eq!(items[1]["item_details"]["unit"], "per day");
        assert_eq!(cart["total"], json!(85501.5));
        let stored: i64 = match &app.state.db {
            electioncart::db::Db::Postgres(pool) => {
                sqlx::query_scalar("SELECT COUNT(*) FROM cart_items")
                    .fetch_one(pool)
                    .await
                    .expect("count")
            }
            electioncart::db::Db::Sqlite(db) => {
                sqlx::query_scalar("SELECT COUNT(*) FROM cart_items")
                    .fetch_one(&db.read)
                    .await
                    .expect("count")
            }
        };
        assert_eq!(stored, 2, "one row per product");

        // GET shows the same cart.
        assert_eq!(call(&app, "GET", "/api/cart/", &token).await.json(), cart);

        // Another user's line is not found in mine, and theirs stays.
        let other = customer(&app, "cart-other").await;
        let r = add(&app, &other, json!({"item_type": "package", "item_id": p})).await;
        let their_line = r.json()["items"][0]["id"].as_i64().expect("line");
        let r = call(
            &app,
            "DELETE",
            &format!("/api/cart/remove/{their_line}/"),
            &token,
        )
        .await;
        assert_eq!(r.status, StatusCode::NOT_FOUND);
        assert_eq!(r.json(), json!({"error": "Cart item not found"}));
        assert_eq!(
            call(&app, "GET", "/api/cart/", &other).await.json()["item_count"],
            1
        );

        // Remove by line id; clear empties; POST on clear → 405.
        let line = items[1]["id"].as_i64().expect("line id");
        let r = call(&app, "DELETE", &format!("/api/cart/remove/{line}/"), &token).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text());
        assert_eq!(r.json()["item_count"], 1);
        assert_eq!(r.json()["total"], json!(55500.0));
        let r = call(&app, "POST", "/api/cart/clear/", &token).await;
        assert_eq!(r.status, StatusCode::METHOD_NOT_ALLOWED);
        let r = call(&app, "DELETE", "/api/cart/clear/", &token).await;
        assert_eq!(r.status, StatusCode::OK);
        assert_eq!(r.json()["items"], json!([]));
        assert_eq!(r.json()["total"], json!(0.0));
        assert_eq!(r.json()["id"], cart_id);
    }
}

#[tokio::test]
async fn add_reports_field_errors_and_unknown_or_inactive_products() {
    for backend in backends() {
        let app = TestApp::new(backend).await;
        let admin = catalog::admin(&app).await;
        let token = customer(&app, "cart-errors").await;
        let p = package(&app, &admin, "Errors Package", "100.00").await;

        let r = add(&app, &token, json!({})).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST);
        assert_eq!(
            r.json(),
            json!({"item_type": ["This field is required."], "item_id": ["This field is required."]})
        );
        let r = add(
            &app,
            &token,
            json!({"item_type": "thing", "item_id": "x", "quantity": 0}),
        )
        .await;
        assert_eq!(
            r.json(),
            json!({"item_type": ["\"thing\" is not a valid choice."],
                   "item_id": ["A valid integer is required."],
                   "quantity": ["Ensure this value is greater than or equal to 1."]})
        );
        let r = add(
            &app,
            &token,
            json!({"item_type": "package", "item_id": p, "quantity": 2_147_483_648_i64}),
        )
        .await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "no overflow into a 500");
        assert_eq!(
            r.json(),
            json!({"quantity": ["Ensure this value is less than or equal to 1000."]})
        );
        let r = add(&app, &token, json!([1, 2])).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST);

        // Unknown ids, huge ids, the wrong type → the contract's 404.
        for (kind, id, message) in [
            ("package", json!(999_999), "Package not found"),
            ("campaign", json!(p), "Campaign not found"),
            (
                "package",
                json!("99999999999999999999999"),
                "Package not found",
            ),
        ] {
            let r = add(&app, &token, json!({"item_type": kind, "item_id": id})).await;
            assert_eq!(r.status, StatusCode::NOT_FOUND, "{backend:?} {kind} {id}");
            assert_eq!(r.json(), json!({"error": message}));
        }

        // The line may hold at most 1000 units, however they are added.
        let r = add(
            &app,
            &token,
            json!({"item_type": "package", "item_id": p, "quantity": 999}),
        )
        .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text());
        let r = add(
            &app,
            &token,
            json!({"item_type": "package", "item_id": p, "quantity": 2}),
        )
        .await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST);
        assert!(
            r.json()["quantity"][0]
                .as_str()
                .is_some_and(|m| m.contains("999"))
        );
        let r = add(&app, &token, json!({"item_type": "package", "item_id": p})).await;
        assert_eq!(r.json()["items"][0]["quantity"], 1000);

        // Deactivated after adding: stays in the cart and counts (as the contract); adding more is
        // refused with 404.
        let r = app
            .request(authed(
                Request::patch(format!("/api/admin/products/package/{p}/toggle-status/"))
                    .body(Body::empty())
                    .expect("request"),
                &admin.token,
            ))
            .await;
        assert_eq!(r.status, StatusCode::OK);
        let r = add(&app, &token, json!({"item_type": "package", "item_id": p})).await;
        assert_eq!(r.status, StatusCode::NOT_FOUND);
        assert_eq!(r.json(), json!({"error": "Package not found"}));
        let cart = call(&app, "GET", "/api/cart/", &token).await.json();
        assert_eq!(cart["item_count"], 1);
        assert_eq!(cart["total"], json!(100_000.0));
        assert_eq!(cart["items"][0]["item_details"]["is_active"], false);

        // Deleted: the line disappears from the cart.
        let q = package(&app, &admin, "Doomed", "5.00").await;
        add(&app, &token, json!({"item_type": "package", "item_id": q})).await;
        assert_eq!(
            call(&app, "GET", "/api/cart/", &token).await.json()["item_count"],
            2
        );
        let r = app
            .request(authed(
                Request::delete(format!("/api/admin/products/package/{q}/delete/"))
                    .body(Body::empty())
                    .expect("request"),
                &admin.token,
            ))
            .await;
        assert!(r.status.is_success(), "{}", r.text());
        let cart = call(&app, "GET", "/api/cart/", &token).await.json();
        assert_eq!(cart["item_count"], 1, "{cart}");
        assert_eq!(cart["total"], json!(100_000.0));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_adds_add_up_on_one_line() {
    for backend in backends() {
        let app = TestApp::new(backend).await;
        let admin = catalog::admin(&app).await;
        let token = customer(&app, "cart-race").await;
        let p = package(&app, &admin, "Race Package", "1.00").await;
        let mut tasks = Vec::new();
        for _ in 0..10 {
            let router = app.router.clone();
            let token = token.clone();
            tasks.push(tokio::spawn(async move {
                crate::helpers::send(
                    &router,
                    authed(
                        json_request(
                            "POST",
                            "/api/cart/add/",
                            json!({"item_type": "package", "item_id": p, "quantity": 3}),
                        ),
                        &token,
                    ),
                )
                .await
                .status
            }));
        }
        for task in tasks {
            assert_eq!(task.await.expect("task"), StatusCode::OK, "{backend:?}");
        }
        let cart = call(&app, "GET", "/api/cart/", &token).await.json();
        assert_eq!(cart["item_count"], 1, "{backend:?}: {cart}");
        assert_eq!(cart["items"][0]["quantity"], 30, "{backend:?}");
    }
}
