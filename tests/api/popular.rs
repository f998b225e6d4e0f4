//! Popular flags (contract-A §4.7, contract-B §8.6): at most 3 per type (inactive ones count),
//! renumbering 1..n, reorder, the public `popular/` lists, concurrency and the role matrix.

use axum::http::StatusCode;
use serde_json::{Value, json};

use crate::{
    catalog::{Admin, admin, create_campaign, create_package},
    fields::{assert_admin_only, call},
    helpers::{Backend, TestApp, backends},
};

fn toggle_path(plural: &str, id: i64) -> String {
    format!("/api/admin/products/{plural}/{id}/toggle-popular/")
}

fn reorder_path(plural: &str) -> String {
    format!("/api/admin/products/{plural}/reorder-popular/")
}

async fn packages(app: &TestApp, admin: &Admin, n: usize) -> Vec<i64> {
    let mut ids = Vec::new();
    for i in 0..n {
        let r = create_package(
            app,
            admin,
            json!({"name": format!("Package {i}"), "price": 1000 + i, "description": "d"}),
        )
        .await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
        ids.push(r.json()["id"].as_i64().expect("id"));
    }
    ids
}

async fn toggle(app: &TestApp, token: &str, plural: &str, id: i64) -> (StatusCode, Value) {
    let r = call(app, Some(token), "PATCH", &toggle_path(plural, id), None).await;
    let body = r.json();
    (r.status, body)
}

/// `(id, popular_order)` of the public popular list.
async fn public_popular(app: &TestApp, plural: &str) -> Vec<(i64, i64)> {
    let r = app.get(&format!("/api/{plural}/popular/")).await;
    assert_eq!(r.status, StatusCode::OK);
    r.json()
        .as_array()
        .expect("a bare array")
        .iter()
        .map(|p| {
            (
                p["id"].as_i64().unwrap_or(0),
                p["popular_order"].as_i64().unwrap_or(-1),
            )
        })
        .collect()
}

/// `(is_popular, popular_order)` as the admin detail shows it.
async fn state_of(app: &TestApp, token: &str, id: i64) -> (bool, i64) {
    let r = call(
        app,
        Some(token),
        "GET",
        &format!("/api/admin/products/package/{id}/"),
        None,
    )
    .await;
    let body = r.json();
    (
        body["is_popular"].as_bool().unwrap_or(false),
        body["popular_order"].as_i64().unwrap_or(-1),
    )
}

#[tokio::test]
async fn toggles_limit_and_renumber() {
    for backend in backends() {
        let app = TestApp::new(backend).await;
        let admin = admin(&app).await;
        let token = admin.token.clone();
        let ids = packages(&app, &admin, 5).await;

        let (status, body) = toggle(&app, &token, "packages", ids[0]).await;
        assert_eq!(status, StatusCode::OK, "{backend:?}: {body}");
        assert_eq!(body["is_popular"], true);
        assert_eq!(body["popular_order"], 1);
        // The full read shape, the same as the admin detail.
        let detail = call(
            &app,
            Some(&token),
            "GET",
            &format!("/api/admin/products/package/{}/", ids[0]),
            None,
        )
        .await
        .json();
        assert_eq!(body, detail);
        assert_eq!(body["type"], "package");
        assert!(body["items"].is_array() && body["images"].is_array());

        assert_eq!(
            toggle(&app, &token, "packages", ids[1]).await.1["popular_order"],
            2
        );
        assert_eq!(
            toggle(&app, &token, "packages", ids[2]).await.1["popular_order"],
            3
        );
        assert_eq!(
            public_popular(&app, "packages").await,
            [(ids[0], 1), (ids[1], 2), (ids[2], 3)]
        );

        // A fourth is refused and changes nothing.
        let (status, body) = toggle(&app, &token, "packages", ids[3]).await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert_eq!(
            body,
            json!({"error": "Maximum 3 packages can be marked as popular. Please unmark one first."})
        );
        assert_eq!(state_of(&app, &token, ids[3]).await, (false, 0));

        // Inactive popular products still count, but the public list shows active ones only.
        let r = call(
            &app,
            Some(&token),
            "PATCH",
            &format!("/api/admin/products/package/{}/toggle-status/", ids[1]),
            None,
        )
        .await;
        assert_eq!(r.json()["is_active"], false);
        assert_eq!(
            public_popular(&app, "packages").await,
            [(ids[0], 1), (ids[2], 3)]
        );
        let (status, _) = toggle(&app, &token, "packages", ids[3]).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "inactive ones count");

        // Unmarking resets to 0 and renumbers the rest 1..n.
        let (status, body) = toggle(&app, &token, "packages", ids[0]).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(body["is_popular"], false);
        assert_eq!(body["popular_order"], 0);
        assert_eq!(state_of(&app, &token, ids[1]).await, (true, 1));
        assert_eq!(state_of(&app, &token, ids[2]).await, (true, 2));
        assert_eq!(public_popular(&app, "packages").await, [(ids[2], 2)]);

        // Now a new one fits, at the end.
        let (status, body) = toggle(&app, &token, "packages", ids[3]).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(body["popular_order"], 3);
        assert_eq!(
            public_popular(&app, "packages").await,
            [(ids[2], 2), (ids[3], 3)]
        );
        // The public list order: non-popular products first (order 0), then popular ones.
        let list = app.get("/api/packages/").await.json();
        assert_eq!(list["count"], 4);
    }
}

#[tokio::test]
async fn reorder_popular() {
    for backend in backends() {
        let app = TestApp::new(backend).await;
        let admin = admin(&app).await;
        let token = admin.token.clone();
        let ids = packages(&app, &admin, 4).await;
        for id in &ids[..3] {
            assert_eq!(
                toggle(&app, &token, "packages", *id).await.0,
                StatusCode::OK
            );
        }
        // Deactivated popular products are still listed by the admin answer.
        call(
            &app,
            Some(&token),
            "PATCH",
            &format!("/api/admin/products/package/{}/toggle-status/", ids[0]),
            None,
        )
        .await;
        let r = call(
            &app,
            Some(&token),
            "PATCH",
            &reorder_path("packages"),
            Some(json!({"order": [ids[2], ids[3], ids[0], ids[1]]})),
        )
        .await;
        assert_eq!(r.status, StatusCode::OK, "{backend:?}: {}", r.text());
        let body = r.json();
        let got: Vec<(i64, i64, bool)> = body
            .as_array()
            .expect("a bare array")
            .iter()
            .map(|p| {
                (
                    p["id"].as_i64().unwrap_or(0),
                    p["popular_order"].as_i64().unwrap_or(-1),
                    p["is_active"].as_bool().unwrap_or(true),
                )
            })
            .collect();
        // Positions are those of the list as sent; the non-popular id is ignored.
        assert_eq!(
            got,
            [(ids[2], 1, true), (ids[0], 3, false), (ids[1], 4, true)]
        );
        assert_eq!(body[0]["type"], "package");
        assert_eq!(state_of(&app, &token, ids[3]).await, (false, 0));
        assert_eq!(
            public_popular(&app, "packages").await,
            [(ids[2], 1), (ids[1], 4)]
        );
        // The next toggle renumbers 1..n again.
        toggle(&app, &token, "packages", ids[2]).await;
        assert_eq!(state_of(&app, &token, ids[0]).await, (true, 1));
        assert_eq!(state_of(&app, &token, ids[1]).await, (true, 2));

        for body in [
            json!({}),
            json!({"order": []}),
            json!({"order": null}),
            json!({"order": 5}),
        ] {
            let r = call(
                &app,
                Some(&token),
                "PATCH",
                &reorder_path("packages"),
                Some(body.clone()),
            )
            .await;
            assert_eq!(r.status, StatusCode::BAD_REQUEST, "{body}");
            assert_eq!(
                r.json(),
                json!({"error": "Order array is required"}),
                "{body}"
            );
        }
        let r = call(
            &app,
            Some(&token),
            "PATCH",
            &reorder_path("packages"),
            Some(json!({"order": [ids[0], "abc"]})),
        )
        .await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST);
        assert!(r.json()["error"].is_string());
    }
}

#[tokio::test]
async fn campaigns_and_missing_products() {
    let app = TestApp::new(Backend::Sqlite).await;
    let admin = admin(&app).await;
    let token = admin.token.clone();
    let mut ids = Vec::new();
    for i in 0..4 {
        let r = create_campaign(
            &app,
            &admin,
            json!({"name": format!("Campaign {i}"), "price": 10, "unit": "Per Ward",
                   "description": "d"}),
        )
        .await;
        ids.push(r.json()["id"].as_i64().expect("id"));
    }
    for (n, id) in ids[..3].iter().enumerate() {
        let (status, body) = toggle(&app, &token, "campaigns", *id).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(body["popular_order"], n + 1);
        assert_eq!(body["type"], "campaign");
        assert_eq!(body["unit"], "Per Ward");
    }
    let (status, body) = toggle(&app, &token, "campaigns", ids[3]).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(
        body,
        json!({"error": "Maximum 3 campaigns can be marked as popular. Please unmark one first."})
    );
    // Campaigns and packages have separate limits.
    let package = packages(&app, &admin, 1).await[0];
    assert_eq!(
        toggle(&app, &token, "packages", package).await.0,
        StatusCode::OK
    );
    assert_eq!(
        public_popular(&app, "campaigns").await,
        [(ids[0], 1), (ids[1], 2), (ids[2], 3)]
    );
    let r = call(
        &app,
        Some(&token),
        "PATCH",
        &reorder_path("campaigns"),
        Some(json!({"order": [ids[1], ids[0]]})),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.json()[0]["id"], ids[1]);

    let (status, body) = toggle(&app, &token, "packages", 9999).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(body, json!({"error": "Package not found"}));
    let (status, body) = toggle(&app, &token, "campaigns", 9999).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(body, json!({"error": "Campaign not found"}));
    // A campaign id is not a package.
    let (status, _) = toggle(&app, &token, "packages", ids[3]).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let r = call(
        &app,
        Some(&token),
        "PATCH",
        "/api/admin/products/packages/abc/toggle-popular/",
        None,
    )
    .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    // Other methods.
    let r = call(
        &app,
        Some(&token),
        "POST",
        &toggle_path("packages", package),
        None,
    )
    .await;
    assert_eq!(r.status, StatusCode::METHOD_NOT_ALLOWED);
    // The singular product routes are untouched by the literal segments.
    let r = call(
        &app,
        Some(&token),
        "GET",
        &format!("/api/admin/products/package/{package}/"),
        None,
    )
    .await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.json()["is_popular"], true);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_toggles_never_exceed_three() {
    for backend in backends() {
        let app = TestApp::new(backend).await;
        let admin = admin(&app).await;
        let ids = packages(&app, &admin, 8).await;
        let mut tasks = Vec::new();
        for id in ids.clone() {
            let router = app.router.clone();
            let token = admin.token.clone();
            tasks.push(tokio::spawn(async move {
                let request = crate::helpers::authed(
                    axum::http::Request::patch(toggle_path("packages", id))
                        .body(axum::body::Body::empty())
                        .expect("request"),
                    &token,
                );
                crate::helpers::send(&router, request).await.status
            }));
        }
        let mut ok = 0;
        for task in tasks {
            let status = task.await.expect("task");
            assert!(
                status == StatusCode::OK || status == StatusCode::BAD_REQUEST,
                "{backend:?}: {status}"
            );
            ok += usize::from(status == StatusCode::OK);
        }
        assert_eq!(ok, 3, "{backend:?}");
        let mut orders = Vec::new();
        for id in ids {
            let (popular, order) = state_of(&app, &admin.token, id).await;
            if popular {
                orders.push(order);
            }
        }
        orders.sort_unstable();
        assert_eq!(orders, [1, 2, 3], "{backend:?}");
    }
}

#[tokio::test]
async fn admin_role_only() {
    let app = TestApp::new(Backend::Sqlite).await;
    let admin = admin(&app).await;
    let package = packages(&app, &admin, 1).await[0];
    let campaign = create_campaign(
        &app,
        &admin,
        json!({"name": "C", "price": 10, "unit": "Per Ward", "description": "d"}),
    )
    .await
    .json()["id"]
        .as_i64()
        .expect("id");
    let routes: Vec<(&str, String, Option<Value>)> = vec![
        ("PATCH", toggle_path("packages", package), None),
        ("PATCH", toggle_path("campaigns", campaign), None),
        (
            "PATCH",
            reorder_path("packages"),
            Some(json!({"order": [package]})),
        ),
        (
            "PATCH",
            reorder_path("campaigns"),
            Some(json!({"order": [campaign]})),
        ),
    ];
    assert_admin_only(&app, &routes).await;
    assert_eq!(state_of(&app, &admin.token, package).await, (false, 0));
    for (method, path, body) in routes {
        let r = call(&app, Some(&admin.token), method, &path, body).await;
        assert_eq!(r.status, StatusCode::OK, "{method} {path}: {}", r.text());
    }
    assert_eq!(state_of(&app, &admin.token, package).await, (true, 1));
}
