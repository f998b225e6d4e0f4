//! The one validation module, seen from the API: the same rules and messages on every endpoint,
//! and text PostgreSQL cannot store (a NUL character) refused with a 400 in each endpoint's error
//! shape — never a 500 — on every backend.

use axum::{
    body::Body,
    http::{Request, StatusCode},
};
use electioncart::auth::model::Role;
use serde_json::{Value, json};

use crate::{
    catalog::{admin, create_package},
    helpers::{TestApp, authed, backends, create_user, from_peer, json_request, login, random_ip},
};

const NUL: &str = "Null characters are not allowed.";

async fn count_packages(app: &TestApp) -> i64 {
    electioncart::db_read!(&app.state.db, |pool| sqlx::query_scalar::<_, i64>(
        "SELECT COUNT(*) FROM packages"
    )
    .fetch_one(pool)
    .await
    .expect("count"))
}

#[tokio::test]
async fn nul_characters_are_a_400_in_each_endpoints_shape() {
    for backend in backends() {
        let app = TestApp::new(backend).await;
        let admin = admin(&app).await;

        // Login and signup: the `{"error": …}` family.
        let r = login(&app, "catalog-admin\u{0}", "x").await;
        assert_eq!(
            r.status,
            StatusCode::BAD_REQUEST,
            "{backend:?}: {}",
            r.text()
        );
        assert_eq!(r.json(), json!({"error": NUL}), "{backend:?}");
        let r = app
            .request(from_peer(
                json_request(
                    "POST",
                    "/api/auth/signup/",
                    json!({"username": "new-user", "password": "a long pass phrase 7", "phone_number": "9\u{0}"}),
                ),
                &random_ip(),
            ))
            .await;
        assert_eq!(
            r.status,
            StatusCode::BAD_REQUEST,
            "{backend:?}: {}",
            r.text()
        );
        assert_eq!(r.json(), json!({"error": NUL}), "{backend:?}");

        // A form body is checked the same way.
        let form = Request::post("/api/auth/login/")
            .header("content-type", "application/x-www-form-urlencoded")
            .body(Body::from("username=a%00b&password=x"))
            .expect("request");
        let r = app.request(from_peer(form, &random_ip())).await;
        assert_eq!(
            r.status,
            StatusCode::BAD_REQUEST,
            "{backend:?}: {}",
            r.text()
        );
        assert_eq!(r.json(), json!({"error": NUL}), "{backend:?}");

        // Product create: serializer field errors, nothing written.
        let r = create_package(
            &app,
            &admin,
            json!({"name": "Rally\u{0}", "price": 100, "description": "d"}),
        )
        .await;
        assert_eq!(
            r.status,
            StatusCode::BAD_REQUEST,
            "{backend:?}: {}",
            r.text()
        );
        assert_eq!(r.json(), json!({"name": [NUL]}), "{backend:?}");
        // Nested in a JSON field that is stored as given.
        let r = create_package(
            &app,
            &admin,
            json!({"name": "Rally", "price": 100, "description": "d", "features": ["a\u{0}"]}),
        )
        .await;
        assert_eq!(
            r.status,
            StatusCode::BAD_REQUEST,
            "{backend:?}: {}",
            r.text()
        );
        assert_eq!(r.json(), json!({"features": [NUL]}), "{backend:?}");
        assert_eq!(count_packages(&app).await, 0, "{backend:?}");

        // Resource fields: the `{"success": false, …}` family.
        let created = create_package(
            &app,
            &admin,
            json!({"name": "Rally", "price": 100, "description": "d"}),
        )
        .await;
        assert_eq!(created.status, StatusCode::CREATED, "{}", created.text());
        let id = created.json()["id"].as_i64().expect("id");
        let r = app
            .request(authed(
                json_request(
                    "POST",
                    &format!("/api/admin/products/package/{id}/resource-fields/"),
                    json!({"field_name": "Logo\u{0}", "field_type": "image"}),
                ),
                &admin.token,
            ))
            .await;
        assert_eq!(
            r.status,
            StatusCode::BAD_REQUEST,
            "{backend:?}: {}",
            r.text()
        );
        assert_eq!(
            r.json(),
            json!({"success": false, "errors": {"field_name": [NUL]}}),
            "{backend:?}"
        );

        // Query strings: `{"detail": …}`.
        let r = app
            .request(authed(
                Request::get("/api/auth/users/?search=a%00b")
                    .body(Body::empty())
                    .expect("request"),
                &admin.token,
            ))
            .await;
        assert_eq!(
            r.status,
            StatusCode::BAD_REQUEST,
            "{backend:?}: {}",
            r.text()
        );
        assert_eq!(r.json(), json!({"detail": NUL}), "{backend:?}");
        let r = app
            .request(authed(
                Request::get("/api/admin/products/?search=%00")
                    .body(Body::empty())
                    .expect("request"),
                &admin.token,
            ))
            .await;
        assert_eq!(
            r.status,
            StatusCode::BAD_REQUEST,
            "{backend:?}: {}",
            r.text()
        );
    }
}

#[tokio::test]
async fn the_same_rules_on_every_serializer() {
    for backend in backends() {
        let app = TestApp::new(backend).await;
        let admin = admin(&app).await;

        // A number where an object is expected names its real type.
        let r = create_package(&app, &admin, json!(42)).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST);
        assert_eq!(
            r.json(),
            json!({"non_field_errors": ["Invalid data. Expected a dictionary, but got int."]})
        );
        let r = app
            .request(authed(
                json_request("POST", "/api/auth/users/create/", json!(["x"])),
                &admin.token,
            ))
            .await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST);
        assert_eq!(
            r.json(),
            json!({"non_field_errors": ["Invalid data. Expected a dictionary, but got list."]})
        );

        // A char field refuses a boolean, on products as on users.
        let r = create_package(
            &app,
            &admin,
            json!({"name": true, "price": 100, "description": "d"}),
        )
        .await;
        assert_eq!(
            r.json(),
            json!({"name": ["Not a valid string."]}),
            "{backend:?}"
        );
        let r = app
            .request(authed(
                json_request(
                    "POST",
                    "/api/auth/users/create/",
                    json!({"username": false, "phone_number": "9000000001"}),
                ),
                &admin.token,
            ))
            .await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST);
        assert_eq!(r.json(), json!({"username": ["Not a valid string."]}));

        // Booleans: DRF's spellings everywhere ("t" and "n" included), null refused.
        let r = create_package(
            &app,
            &admin,
            json!({"name": "Off", "price": 100, "description": "d", "is_active": "n"}),
        )
        .await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
        assert_eq!(r.json()["is_active"], json!(false));
        let r = create_package(
            &app,
            &admin,
            json!({"name": "Bad", "price": 100, "description": "d", "is_active": "maybe"}),
        )
        .await;
        assert_eq!(r.json(), json!({"is_active": ["Must be a valid boolean."]}));

        // Errors come in the serializer's field order.
        let r = create_package(&app, &admin, json!({})).await;
        let keys: Vec<String> = r
            .json()
            .as_object()
            .expect("object")
            .keys()
            .cloned()
            .collect();
        assert_eq!(keys, ["name", "price", "description"]);
    }
}

#[tokio::test]
async fn usernames_are_nfkc_normalised() {
    for backend in backends() {
        let app = TestApp::new(backend).await;
        create_user(&app, "admin", "the admin pass phrase", Role::Admin).await;

        // A fullwidth look-alike is the same name, so it is taken.
        let r = app
            .request(from_peer(
                json_request(
                    "POST",
                    "/api/auth/signup/",
                    json!({"username": "ａｄｍｉｎ", "password": "a long pass phrase 7"}),
                ),
                &random_ip(),
            ))
            .await;
        assert_eq!(
            r.status,
            StatusCode::BAD_REQUEST,
            "{backend:?}: {}",
            r.text()
        );
        assert_eq!(r.json(), json!({"error": "Username already exists"}));

        // Signing up with fullwidth letters stores the normalised name; signing in either way works.
        let r = app
            .request(from_peer(
                json_request(
                    "POST",
                    "/api/auth/signup/",
                    json!({"username": "ｖｏｔｅｒ", "password": "a long pass phrase 7"}),
                ),
                &random_ip(),
            ))
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{backend:?}: {}", r.text());
        assert_eq!(r.json()["user"]["username"], json!("voter"));
        for name in ["voter", "ｖｏｔｅｒ"] {
            let r = login(&app, name, "a long pass phrase 7").await;
            assert_eq!(r.status, StatusCode::OK, "{backend:?} {name}: {}", r.text());
        }

        // The admin panel's create normalises too.
        let (_, token) = {
            let user = electioncart::auth::repo::find_by_username(&app.state.db, "admin")
                .await
                .expect("find")
                .expect("admin");
            let token = crate::helpers::token_for(&app, &user);
            (user, token)
        };
        let r = app
            .request(authed(
                json_request(
                    "POST",
                    "/api/auth/users/create/",
                    json!({"username": "ａｄｍｉｎ", "phone_number": "9000000002"}),
                ),
                &token,
            ))
            .await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST);
        assert_eq!(r.json(), json!({"username": ["Username already exists"]}));
        let body: Value = r.json();
        assert!(body.get("phone_number").is_none());
    }
}

/// The shared path extractors: an id that is not an integer (or overflows) is the endpoint's own
/// 404, a product type that is neither `package` nor `campaign` the endpoint's 400.
#[tokio::test]
async fn path_parameters_answer_in_the_endpoints_shape() {
    let app = TestApp::new(crate::helpers::Backend::Sqlite).await;
    let admin = admin(&app).await;
    let get = |path: &str| {
        authed(
            Request::get(path).body(Body::empty()).expect("request"),
            &admin.token,
        )
    };
    for id in ["abc", "99999999999999999999", "-1", "1.5"] {
        let r = app.request(get(&format!("/api/packages/{id}/"))).await;
        assert_eq!(r.status, StatusCode::NOT_FOUND, "{id}");
        assert_eq!(r.json(), json!({"detail": "Not found."}), "{id}");
        let r = app
            .request(authed(
                Request::delete(format!("/api/auth/users/{id}/"))
                    .body(Body::empty())
                    .expect("request"),
                &admin.token,
            ))
            .await;
        assert_eq!(r.status, StatusCode::NOT_FOUND, "{id}");
        assert_eq!(
            r.json(),
            json!({"success": false, "message": "User not found"}),
            "{id}"
        );
        let r = app
            .request(get(&format!("/api/admin/products/resource-fields/{id}/")))
            .await;
        assert_eq!(r.status, StatusCode::NOT_FOUND, "{id}");
        let r = app
            .request(get(&format!("/api/secure-files/images/{id}/")))
            .await;
        assert_eq!(r.json(), json!({"detail": "Image not found"}), "{id}");
    }
    // Anonymous callers of a secure file are refused before the id is looked at.
    let r = app.get("/api/secure-files/images/abc/").await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);

    let r = app.request(get("/api/admin/products/bundle/1/")).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        r.json(),
        json!({"error": "Invalid product type. Must be \"package\" or \"campaign\""})
    );
    let r = app
        .request(get("/api/admin/products/bundle/1/resource-fields/"))
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        r.json(),
        json!({"success": false, "message": "Invalid product type. Must be package or campaign"})
    );
}
