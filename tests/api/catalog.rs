//! Catalog: public lists and details, admin product CRUD, audit logs, role checks.

use axum::{
    body::Body,
    http::{Request, StatusCode},
};
use electioncart::auth::model::Role;
use serde_json::{Value, json};

use crate::helpers::{
    Backend, TestApp, TestResponse, authed, backends, create_user, json_request, token_for,
};

pub struct Admin {
    pub token: String,
}

pub async fn admin(app: &TestApp) -> Admin {
    let user = create_user(app, "catalog-admin", "catalog-admin-pass", Role::Admin).await;
    Admin {
        token: token_for(app, &user),
    }
}

pub async fn create_package(app: &TestApp, admin: &Admin, body: Value) -> TestResponse {
    app.request(authed(
        json_request("POST", "/api/admin/products/package/", body),
        &admin.token,
    ))
    .await
}

pub async fn create_campaign(app: &TestApp, admin: &Admin, body: Value) -> TestResponse {
    app.request(authed(
        json_request("POST", "/api/admin/products/campaign/", body),
        &admin.token,
    ))
    .await
}

fn package_body(name: &str) -> Value {
    json!({
        "name": name,
        "price": 18500,
        "description": "Posters, banners and a rally kit",
        "features": ["Posters", "Banners"],
        "deliverables": ["Design files"],
        "items": [{"name": "Posters", "quantity": 100}, {"name": "Banners"}],
    })
}

async fn admin_get(app: &TestApp, admin: &Admin, path: &str) -> TestResponse {
    app.request(authed(
        Request::get(path).body(Body::empty()).expect("request"),
        &admin.token,
    ))
    .await
}

#[tokio::test]
async fn create_then_read_publicly() {
    for backend in backends() {
        let app = TestApp::new(backend).await;
        let admin = admin(&app).await;
        let r = create_package(&app, &admin, package_body("Election Hungama")).await;
        assert_eq!(r.status, StatusCode::CREATED, "{backend:?}: {}", r.text());
        let created = r.json();
        assert_eq!(created["price"], "18500.00");
        assert_eq!(created["type"], "package");
        assert_eq!(created["features"], json!(["Posters", "Banners"]));
        assert_eq!(
            created["items"],
            json!([
                {"id": created["items"][0]["id"], "name": "Posters", "quantity": 100},
                {"id": created["items"][1]["id"], "name": "Banners", "quantity": 1}
            ])
        );
        assert_eq!(created["images"], json!([]));
        assert_eq!(created["primary_image"], Value::Null);
        assert!(created["created_by"].is_i64());
        assert_eq!(created["created_by_name"], "", "a creator without names");
        assert!(created.get("unit").is_none());
        assert!(
            created["created_at"]
                .as_str()
                .is_some_and(|t| t.ends_with("+05:30"))
        );
        let id = created["id"].as_i64().expect("id");

        let list = app.get("/api/packages/").await;
        assert_eq!(list.status, StatusCode::OK);
        let body = list.json();
        assert_eq!(body["count"], 1);
        assert_eq!(body["next"], Value::Null);
        assert_eq!(body["previous"], Value::Null);
        assert_eq!(body["results"][0], created);

        let detail = app.get(&format!("/api/packages/{id}/")).await;
        assert_eq!(detail.json(), created);
        assert_eq!(app.get("/api/packages/popular/").await.json(), json!([]));

        let r = create_campaign(
            &app,
            &admin,
            json!({"name": "Coffee with Candidate", "price": "10000.00", "unit": "Per Ward",
                   "description": "Meet the voters", "items": [{"name": "ignored"}]}),
        )
        .await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
        let campaign = r.json();
        assert_eq!(campaign["unit"], "Per Ward");
        assert_eq!(campaign["type"], "campaign");
        assert!(campaign.get("items").is_none());
        assert_eq!(campaign["features"], json!([]));
        let campaigns = app.get("/api/campaigns").await.json();
        assert_eq!(campaigns["results"][0]["name"], "Coffee with Candidate");
    }
}

#[tokio::test]
async fn pagination_envelope_and_invalid_pages() {
    let app = TestApp::new(Backend::Sqlite).await;
    let admin = admin(&app).await;
    for i in 0..25 {
        let r = create_package(&app, &admin, package_body(&format!("Package {i:02}"))).await;
        assert_eq!(r.status, StatusCode::CREATED);
    }
    let first = app
        .request(
            Request::get("/api/packages/")
                .header("host", "api.example.com")
                .header("x-forwarded-proto", "https")
                .body(Body::empty())
                .expect("request"),
        )
        .await
        .json();
    assert_eq!(first["count"], 25);
    assert_eq!(first["results"].as_array().map(Vec::len), Some(20));
    assert_eq!(
        first["next"],
        "https://api.example.com/api/packages/?page=2"
    );
    assert_eq!(first["previous"], Value::Null);
    // Newest first (all have popular_order 0).
    assert_eq!(first["results"][0]["name"], "Package 24");
    let second = app.get("/api/packages/?page=2").await.json();
    assert_eq!(second["results"].as_array().map(Vec::len), Some(5));
    assert_eq!(second["next"], Value::Null);
    assert!(
        second["previous"]
            .as_str()
            .is_some_and(|p| p.ends_with("/api/packages/"))
    );
    for page in ["3", "0", "abc", "-1"] {
        let r = app.get(&format!("/api/packages/?page={page}")).await;
        assert_eq!(r.status, StatusCode::NOT_FOUND, "{page}");
        assert_eq!(r.json(), json!({"detail": "Invalid page."}));
    }
}

#[tokio::test]
async fn details_hide_inactive_and_say_which_model() {
    let app = TestApp::new(Backend::Sqlite).await;
    let admin = admin(&app).await;
    let id = create_package(&app, &admin, package_body("Hidden"))
        .await
        .json()["id"]
        .as_i64()
        .expect("id");
    let r = app
        .request(authed(
            Request::patch(format!("/api/admin/products/package/{id}/toggle-status/"))
                .body(Body::empty())
                .expect("request"),
            &admin.token,
        ))
        .await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.json()["is_active"], false);
    let r = app.get(&format!("/api/packages/{id}/")).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert_eq!(
        r.json(),
        json!({"detail": "No Package matches the given query."})
    );
    assert_eq!(app.get("/api/packages/").await.json()["count"], 0);
    assert_eq!(
        app.get("/api/campaigns/999/").await.json(),
        json!({"detail": "No Campaign matches the given query."})
    );
    assert_eq!(
        app.get("/api/packages/abc/").await.json(),
        json!({"detail": "Not found."})
    );
    // Admin detail still shows it.
    let r = admin_get(&app, &admin, &format!("/api/admin/products/package/{id}/")).await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.json()["is_active"], false);
    // Write methods on public routes.
    let r = app
        .request(json_request("POST", "/api/packages/", json!({})))
        .await;
    assert_eq!(r.status, StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(r.json(), json!({"detail": "Method \"POST\" not allowed."}));
}

#[tokio::test]
async fn validation_errors_are_field_objects() {
    let app = TestApp::new(Backend::Sqlite).await;
    let admin = admin(&app).await;
    assert_eq!(
        create_package(&app, &admin, package_body("Taken"))
            .await
            .status,
        StatusCode::CREATED
    );
    let r = create_package(
        &app,
        &admin,
        json!({"name": "Taken", "price": 0, "items": [{"name": ""}, {"name": "ok"}]}),
    )
    .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        r.json(),
        json!({
            "name": ["A package with this name already exists."],
            "price": ["Price must be greater than zero."],
            "description": ["This field is required."],
            "items": [{"name": ["This field may not be blank."]}, {}],
        })
    );
    let r = create_package(
        &app,
        &admin,
        json!({"name": "x", "price": "12.345", "description": "d"}),
    )
    .await;
    assert_eq!(
        r.json(),
        json!({"price": ["Ensure that there are no more than 2 decimal places."]})
    );
    let r = create_package(
        &app,
        &admin,
        json!({"name": "x", "price": "abc", "description": "d"}),
    )
    .await;
    assert_eq!(r.json(), json!({"price": ["A valid number is required."]}));
    let r = create_campaign(
        &app,
        &admin,
        json!({"name": "c", "price": 5, "description": "d"}),
    )
    .await;
    assert_eq!(r.json(), json!({"unit": ["This field is required."]}));
    let r = app
        .request(authed(
            json_request("POST", "/api/admin/products/gadget/", package_body("g")),
            &admin.token,
        ))
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        r.json(),
        json!({"error": "Invalid product type. Must be \"package\" or \"campaign\""})
    );
    let r = create_package(&app, &admin, json!([1, 2])).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn update_replaces_items_and_audits_changes() {
    for backend in backends() {
        let app = TestApp::new(backend).await;
        let admin = admin(&app).await;
        let created = create_package(&app, &admin, package_body("Original"))
            .await
            .json();
        let id = created["id"].as_i64().expect("id");
        let put = |body: Value| {
            authed(
                json_request(
                    "PUT",
                    &format!("/api/admin/products/package/{id}/update/"),
                    body,
                ),
                &admin.token,
            )
        };
        // Omitted optional fields keep their values.
        let r = app
            .request(put(
                json!({"name": "Renamed", "price": "19999.50", "description": "New"}),
            ))
            .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text());
        let body = r.json();
        assert_eq!(body["name"], "Renamed");
        assert_eq!(body["price"], "19999.50");
        assert_eq!(body["items"], created["items"]);
        assert_eq!(body["features"], created["features"]);
        // Items given → replaced with new ids.
        let r = app
            .request(put(
                json!({"name": "Renamed", "price": "19999.50", "description": "New",
                                "items": [{"name": "Flags", "quantity": 3}], "is_active": false}),
            ))
            .await;
        let body = r.json();
        assert_eq!(body["items"].as_array().map(Vec::len), Some(1));
        assert_eq!(body["items"][0]["name"], "Flags");
        assert_eq!(body["is_active"], false);
        // PATCH is not the update verb.
        let r = app
            .request(authed(
                json_request(
                    "PATCH",
                    &format!("/api/admin/products/package/{id}/update/"),
                    json!({}),
                ),
                &admin.token,
            ))
            .await;
        assert_eq!(r.status, StatusCode::METHOD_NOT_ALLOWED);

        let logs = admin_get(
            &app,
            &admin,
            &format!("/api/admin/products/package/{id}/audit-logs/"),
        )
        .await
        .json();
        let logs = logs.as_array().expect("array");
        assert_eq!(logs.len(), 3);
        assert_eq!(logs[0]["action"], "update");
        assert_eq!(
            logs[0]["changes"],
            json!({"is_active": {"old": true, "new": false}})
        );
        assert_eq!(
            logs[1]["changes"],
            json!({"name": {"old": "Original", "new": "Renamed"}, "price": {"old": "18500.00", "new": "19999.50"}})
        );
        assert_eq!(logs[2]["action"], "create");
        assert_eq!(logs[2]["action_display"], "Created");
        assert_eq!(
            logs[2]["changes"],
            json!({"name": "Original", "price": "18500.00"})
        );
        assert_eq!(logs[2]["product_type"], "package");
        assert_eq!(logs[2]["object_id"], id);
        assert!(logs[2]["user"].is_i64());
    }
}

#[tokio::test]
async fn delete_is_204_and_the_product_is_gone() {
    let app = TestApp::new(Backend::Sqlite).await;
    let admin = admin(&app).await;
    let id = create_package(&app, &admin, package_body("Doomed"))
        .await
        .json()["id"]
        .as_i64()
        .expect("id");
    let r = app
        .request(authed(
            Request::delete(format!("/api/admin/products/package/{id}/delete/"))
                .body(Body::empty())
                .expect("request"),
            &admin.token,
        ))
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT);
    assert!(r.body.is_empty());
    assert_eq!(
        app.get(&format!("/api/packages/{id}/")).await.status,
        StatusCode::NOT_FOUND
    );
    let r = admin_get(
        &app,
        &admin,
        &format!("/api/admin/products/package/{id}/audit-logs/"),
    )
    .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    let r = admin_get(&app, &admin, &format!("/api/admin/products/package/{id}/")).await;
    assert_eq!(
        r.json(),
        json!({"detail": "No Package matches the given query."})
    );
}

#[tokio::test]
async fn admin_list_merges_and_filters() {
    let app = TestApp::new(Backend::Sqlite).await;
    let admin = admin(&app).await;
    create_package(&app, &admin, package_body("Rally Kit")).await;
    create_campaign(
        &app,
        &admin,
        json!({"name": "Rally Podcast", "price": 1, "unit": "Per Show", "description": "d"}),
    )
    .await;
    let all = admin_get(&app, &admin, "/api/admin/products/").await.json();
    let all = all.as_array().expect("bare array");
    assert_eq!(all.len(), 2);
    assert_eq!(all[0]["type"], "campaign", "newest first");
    assert_eq!(all[0]["price"], "1.00");
    assert_eq!(all[0]["created_by_name"], "");
    for key in [
        "id",
        "name",
        "price",
        "description",
        "is_active",
        "is_popular",
        "popular_order",
        "created_at",
        "updated_at",
        "created_by_name",
        "type",
    ] {
        assert!(all[0].get(key).is_some(), "{key}");
    }
    let only = admin_get(&app, &admin, "/api/admin/products/?type=package")
        .await
        .json();
    assert_eq!(only.as_array().map(Vec::len), Some(1));
    assert_eq!(
        admin_get(&app, &admin, "/api/admin/products/?type=x")
            .await
            .json(),
        json!([])
    );
    let search = admin_get(&app, &admin, "/api/admin/products/?search=podCAST")
        .await
        .json();
    assert_eq!(search[0]["name"], "Rally Podcast");
}

#[tokio::test]
async fn admin_routes_refuse_non_admins() {
    let app = TestApp::new(Backend::Sqlite).await;
    let admin_user = admin(&app).await;
    let id = create_package(&app, &admin_user, package_body("Guarded"))
        .await
        .json()["id"]
        .as_i64()
        .expect("id");
    let staff = create_user(&app, "cat-staff", "cat-staff-pass", Role::Staff).await;
    let user = create_user(&app, "cat-user", "cat-user-pass", Role::User).await;
    let routes: Vec<(&str, String)> = vec![
        ("GET", "/api/admin/products/".into()),
        ("POST", "/api/admin/products/package/".into()),
        ("GET", format!("/api/admin/products/package/{id}/")),
        ("PUT", format!("/api/admin/products/package/{id}/update/")),
        (
            "DELETE",
            format!("/api/admin/products/package/{id}/delete/"),
        ),
        (
            "PATCH",
            format!("/api/admin/products/package/{id}/toggle-status/"),
        ),
        (
            "GET",
            format!("/api/admin/products/package/{id}/audit-logs/"),
        ),
    ];
    for (method, path) in &routes {
        let anon = app
            .request(json_request(method, path, package_body("x")))
            .await;
        assert_eq!(anon.status, StatusCode::UNAUTHORIZED, "{method} {path}");
        for who in [&staff, &user] {
            let r = app
                .request(authed(
                    json_request(method, path, package_body("x")),
                    &token_for(&app, who),
                ))
                .await;
            assert_eq!(
                r.status,
                StatusCode::FORBIDDEN,
                "{method} {path} as {}",
                who.role
            );
        }
    }
    // Nothing changed.
    assert_eq!(
        app.get(&format!("/api/packages/{id}/")).await.json()["name"],
        "Guarded"
    );
}

#[tokio::test]
async fn public_routes_ignore_bad_tokens() {
    let app = TestApp::new(Backend::Sqlite).await;
    let r = app
        .request(authed(
            Request::get("/api/packages/")
                .body(Body::empty())
                .expect("request"),
            "not-a-token",
        ))
        .await;
    assert_eq!(r.status, StatusCode::OK, "the catalog never 401s (D13)");
}

#[tokio::test]
async fn product_image_list_checks_type_and_product() {
    let app = TestApp::new(Backend::Sqlite).await;
    let admin = admin(&app).await;
    let id = create_package(&app, &admin, package_body("Pictured"))
        .await
        .json()["id"]
        .as_i64()
        .expect("id");
    let r = app
        .get(&format!("/api/products/package/{id}/images/"))
        .await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.json(), json!([]));
    let r = app.get("/api/products/Package/1/images/").await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        r.json(),
        json!({"error": "Invalid product type. Must be \"package\" or \"campaign\""})
    );
    let r = app.get("/api/products/campaign/999/images/").await;
    assert_eq!(
        r.json(),
        json!({"detail": "No Campaign matches the given query."})
    );
}

/// A write is visible on the next public read: on the same instance at once, and on another
/// instance sharing the database (and Redis, when configured) within a second.
#[tokio::test]
async fn writes_are_never_served_stale() {
    let redis = std::env::var("TEST_REDIS_URL").ok();
    let mut setups: Vec<Vec<(String, String)>> = vec![vec![]];
    if let Some(url) = &redis {
        let prefix = format!("ec-cat-{}:", uuid::Uuid::new_v4().simple());
        setups.push(vec![
            ("REDIS_URL".into(), url.clone()),
            ("REDIS_KEY_PREFIX".into(), prefix),
        ]);
    }
    for backend in backends() {
        for vars in &setups {
            let vars: Vec<(&str, &str)> =
                vars.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
            let db = crate::helpers::TestDb::new(backend).await;
            let a = electioncart::AppState::build(crate::helpers::test_config(&db.url, &vars))
                .await
                .expect("a");
            let b = electioncart::AppState::build(crate::helpers::test_config(&db.url, &vars))
                .await
                .expect("b");
            let (ra, rb) = (
                electioncart::build_router(a.clone()),
                electioncart::build_router(b.clone()),
            );
            let admin_user = electioncart::auth::repo::create(
                &a.db,
                &electioncart::auth::model::NewUser {
                    username: "cache-admin".into(),
                    password_hash: "!".into(),
                    phone_number: None,
                    firebase_uid: None,
                    role: Role::Admin,
                },
            )
            .await
            .expect("admin");
            let token = a
                .jwt
                .issue(
                    admin_user.id,
                    admin_user.phone_number.as_deref(),
                    &admin_user.role,
                )
                .expect("token");
            let get = |path: &str| Request::get(path).body(Body::empty()).expect("request");
            let created = crate::helpers::send(
                &ra,
                authed(
                    json_request(
                        "POST",
                        "/api/admin/products/package/",
                        package_body("Before"),
                    ),
                    &token,
                ),
            )
            .await;
            assert_eq!(created.status, StatusCode::CREATED, "{}", created.text());
            let id = created.json()["id"].as_i64().expect("id");
            // Warm both instances' caches.
            for router in [&ra, &rb] {
                for _ in 0..2 {
                    let list = crate::helpers::send(router, get("/api/packages/"))
                        .await
                        .json();
                    assert_eq!(list["results"][0]["name"], "Before");
                    let detail = crate::helpers::send(router, get(&format!("/api/packages/{id}/")))
                        .await
                        .json();
                    assert_eq!(detail["name"], "Before");
                }
            }
            assert!(
                a.cache.stats().hits > 0,
                "the second read was a cache hit: {:?}",
                a.cache.stats()
            );
            // Update through instance B.
            let r = crate::helpers::send(
                &rb,
                authed(
                    json_request(
                        "PUT",
                        &format!("/api/admin/products/package/{id}/update/"),
                        json!({"name": "After", "price": 1, "description": "d"}),
                    ),
                    &token,
                ),
            )
            .await;
            assert_eq!(r.status, StatusCode::OK);
            // B at once.
            let list = crate::helpers::send(&rb, get("/api/packages/"))
                .await
                .json();
            assert_eq!(list["results"][0]["name"], "After", "{backend:?} {vars:?}");
            // A within a second.
            let deadline = std::time::Instant::now() + std::time::Duration::from_secs(1);
            loop {
                let list = crate::helpers::send(&ra, get("/api/packages/"))
                    .await
                    .json();
                let detail = crate::helpers::send(&ra, get(&format!("/api/packages/{id}/")))
                    .await
                    .json();
                if list["results"][0]["name"] == "After" && detail["name"] == "After" {
                    break;
                }
                assert!(
                    std::time::Instant::now() < deadline,
                    "instance A still serves the old name after 1 s ({backend:?} {vars:?})"
                );
                tokio::time::sleep(std::time::Duration::from_millis(50)).await;
            }
            a.db.close().await;
            b.db.close().await;
        }
    }
}

/// Cached reads follow every kind of write: status toggles, popular flags, deletes.
#[tokio::test]
async fn cached_reads_follow_toggles_popular_and_deletes() {
    let app = TestApp::new(Backend::Sqlite).await;
    let admin = admin(&app).await;
    let id = create_package(&app, &admin, package_body("Cached"))
        .await
        .json()["id"]
        .as_i64()
        .expect("id");
    let detail = format!("/api/packages/{id}/");
    assert_eq!(app.get(&detail).await.status, StatusCode::OK);
    assert_eq!(app.get(&detail).await.status, StatusCode::OK, "now cached");
    assert_eq!(app.get("/api/packages/popular/").await.json(), json!([]));
    let patch = |path: String| {
        authed(
            Request::patch(path).body(Body::empty()).expect("request"),
            &admin.token,
        )
    };
    let r = app
        .request(patch(format!(
            "/api/admin/products/packages/{id}/toggle-popular/"
        )))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert_eq!(app.get("/api/packages/popular/").await.json()[0]["id"], id);
    assert_eq!(app.get(&detail).await.json()["is_popular"], true);
    app.request(patch(format!(
        "/api/admin/products/package/{id}/toggle-status/"
    )))
    .await;
    assert_eq!(app.get(&detail).await.status, StatusCode::NOT_FOUND);
    assert_eq!(app.get("/api/packages/").await.json()["count"], 0);
    app.request(patch(format!(
        "/api/admin/products/package/{id}/toggle-status/"
    )))
    .await;
    assert_eq!(app.get(&detail).await.status, StatusCode::OK);
    let r = app
        .request(authed(
            Request::delete(format!("/api/admin/products/package/{id}/delete/"))
                .body(Body::empty())
                .expect("request"),
            &admin.token,
        ))
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT);
    assert_eq!(app.get(&detail).await.status, StatusCode::NOT_FOUND);
    assert_eq!(app.get("/api/packages/popular/").await.json(), json!([]));
    assert!(app.state.cache.stats().hits > 0);
}
