//! Checklist templates (contract-A §4.5, D8): list/create with auto-numbering, the detail routes the
//! original swallowed, both reorder formats (D7), routing priority and the role matrix.

use axum::http::StatusCode;
use serde_json::{Value, json};

use crate::{
    fields::{assert_admin_only, call, setup},
    helpers::{Backend, TestApp, backends},
};

fn list_path(kind: &str, id: i64) -> String {
    format!("/api/admin/products/{kind}/{id}/checklist-template/")
}

fn item_path(id: i64) -> String {
    format!("/api/admin/products/checklist-template/{id}/")
}

const REORDER: &str = "/api/admin/products/checklist-template/reorder/";

async fn create(app: &TestApp, token: &str, path: &str, body: Value) -> Value {
    let r = call(app, Some(token), "POST", path, Some(body)).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    r.json()
}

fn id_of(v: &Value) -> i64 {
    v["id"].as_i64().expect("id")
}

async fn names(app: &TestApp, token: &str, path: &str) -> Vec<(String, i64)> {
    let r = call(app, Some(token), "GET", path, None).await;
    assert_eq!(r.status, StatusCode::OK);
    r.json()
        .as_array()
        .expect("a bare array")
        .iter()
        .map(|i| {
            (
                i["name"].as_str().unwrap_or("").to_string(),
                i["order"].as_i64().unwrap_or(-1),
            )
        })
        .collect()
}

#[tokio::test]
async fn create_numbers_items_and_lists_them() {
    for backend in backends() {
        let app = TestApp::new(backend).await;
        let (token, package, campaign) = setup(&app).await;
        let path = list_path("package", package);
        assert_eq!(
            call(&app, Some(&token), "GET", &path, None).await.json(),
            json!([])
        );
        let first = create(
            &app,
            &token,
            &path,
            json!({"name": "Design poster", "description": "Make the poster",
                   "estimated_duration_minutes": 60}),
        )
        .await;
        let created_at = first["created_at"]
            .as_str()
            .expect("created_at")
            .to_string();
        assert!(created_at.ends_with("+05:30"));
        assert_eq!(
            first,
            json!({"id": id_of(&first), "name": "Design poster", "description": "Make the poster",
                   "order": 1, "is_optional": false, "estimated_duration_minutes": 60,
                   "created_at": created_at, "product_type": "package", "product_id": package})
        );
        let second = create(
            &app,
            &token,
            &path,
            json!({"name": "Print", "description": "Print it", "is_optional": true}),
        )
        .await;
        assert_eq!(second["order"], 2, "max + 1");
        assert_eq!(second["estimated_duration_minutes"], Value::Null);
        assert_eq!(second["is_optional"], true);
        let early = create(
            &app,
            &token,
            &path,
            json!({"name": "Brief", "description": "Talk to the candidate", "order": 0}),
        )
        .await;
        assert_eq!(early["order"], 0);
        let third = create(
            &app,
            &token,
            &path,
            json!({"name": "Deliver", "description": "Hand over"}),
        )
        .await;
        assert_eq!(third["order"], 3);
        // Numbering is per product.
        let other = create(
            &app,
            &token,
            &list_path("campaign", campaign),
            json!({"name": "Visit", "description": "Knock"}),
        )
        .await;
        assert_eq!(other["order"], 1);
        assert_eq!(other["product_type"], "campaign");

        assert_eq!(
            names(&app, &token, &path).await,
            [
                ("Brief".to_string(), 0),
                ("Design poster".to_string(), 1),
                ("Print".to_string(), 2),
                ("Deliver".to_string(), 3)
            ]
        );
        let list = call(&app, Some(&token), "GET", &path, None).await.json();
        assert_eq!(list[1], first);
    }
}

#[tokio::test]
async fn create_validation_and_lookups() {
    let app = TestApp::new(Backend::Sqlite).await;
    let (token, package, _) = setup(&app).await;
    let path = list_path("package", package);
    let cases = [
        (
            json!({}),
            json!({"name": ["This field is required."], "description": ["This field is required."]}),
        ),
        (
            json!({"name": "", "description": "  "}),
            json!({"name": ["This field may not be blank."],
                   "description": ["This field may not be blank."]}),
        ),
        (
            json!({"name": "n".repeat(201), "description": "d", "order": null}),
            json!({"name": ["Ensure this field has no more than 200 characters."],
                   "order": ["This field may not be null."]}),
        ),
        (
            json!({"name": "n", "description": "d", "order": "first",
                   "estimated_duration_minutes": "soon", "is_optional": "perhaps"}),
            json!({"order": ["A valid integer is required."],
                   "estimated_duration_minutes": ["A valid integer is required."],
                   "is_optional": ["Must be a valid boolean."]}),
        ),
        (
            json!([]),
            json!({"non_field_errors": ["Invalid data. Expected a dictionary, but got list."]}),
        ),
    ];
    for (body, errors) in cases {
        let r = call(&app, Some(&token), "POST", &path, Some(body.clone())).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{body}");
        assert_eq!(r.json(), errors, "{body}");
    }
    assert_eq!(names(&app, &token, &path).await, []);
    let body = json!({"name": "n", "description": "d"});
    for method in ["GET", "POST"] {
        let r = call(
            &app,
            Some(&token),
            method,
            &list_path("package", 9999),
            Some(body.clone()),
        )
        .await;
        assert_eq!(r.status, StatusCode::NOT_FOUND, "{method}");
        assert_eq!(
            r.json(),
            json!({"detail": "No Package matches the given query."})
        );
        let r = call(
            &app,
            Some(&token),
            method,
            &list_path("campaign", 9999),
            Some(body.clone()),
        )
        .await;
        assert_eq!(
            r.json(),
            json!({"detail": "No Campaign matches the given query."})
        );
        let r = call(
            &app,
            Some(&token),
            method,
            &list_path("Package", package),
            Some(body.clone()),
        )
        .await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{method}");
        assert_eq!(
            r.json(),
            json!({"error": "Invalid product type. Must be \"package\" or \"campaign\""})
        );
    }
}

#[tokio::test]
async fn detail_routes_work() {
    for backend in backends() {
        let app = TestApp::new(backend).await;
        let (token, package, _) = setup(&app).await;
        let path = list_path("package", package);
        let item = create(
            &app,
            &token,
            &path,
            json!({"name": "Design", "description": "Make it", "order": 5, "is_optional": true,
                   "estimated_duration_minutes": 30}),
        )
        .await;
        let at = item_path(id_of(&item));
        // A literal `checklist-template` segment beats `{product_type}` (D8).
        let r = call(&app, Some(&token), "GET", &at, None).await;
        assert_eq!(r.status, StatusCode::OK, "{backend:?}: {}", r.text());
        assert_eq!(r.json(), item);

        // PUT: name and description required; omitted optional keys keep their values.
        let r = call(
            &app,
            Some(&token),
            "PUT",
            &at,
            Some(json!({"name": "Design v2", "description": "Make it better"})),
        )
        .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text());
        let put = r.json();
        assert_eq!(put["name"], "Design v2");
        assert_eq!(put["description"], "Make it better");
        assert_eq!(put["order"], 5);
        assert_eq!(put["is_optional"], true);
        assert_eq!(put["estimated_duration_minutes"], 30);
        assert_eq!(put["created_at"], item["created_at"]);
        let r = call(
            &app,
            Some(&token),
            "PUT",
            &at,
            Some(json!({"name": "Only a name"})),
        )
        .await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST);
        assert_eq!(
            r.json(),
            json!({"description": ["This field is required."]})
        );

        // PATCH: partial; null clears the estimate.
        let r = call(
            &app,
            Some(&token),
            "PATCH",
            &at,
            Some(json!({"estimated_duration_minutes": null, "is_optional": false})),
        )
        .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text());
        let patched = r.json();
        assert_eq!(patched["name"], "Design v2");
        assert_eq!(patched["estimated_duration_minutes"], Value::Null);
        assert_eq!(patched["is_optional"], false);
        let r = call(&app, Some(&token), "PATCH", &at, Some(json!({"name": " "}))).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST);
        assert_eq!(r.json(), json!({"name": ["This field may not be blank."]}));
        let r = call(&app, Some(&token), "PATCH", &at, Some(json!({"order": 2}))).await;
        assert_eq!(r.json()["order"], 2);
        assert_eq!(
            call(&app, Some(&token), "GET", &at, None).await.json(),
            r.json()
        );

        // DELETE → 204 with an empty body; then it is gone.
        let r = call(&app, Some(&token), "DELETE", &at, None).await;
        assert_eq!(r.status, StatusCode::NO_CONTENT);
        assert!(r.body.is_empty());
        for (method, body) in [
            ("GET", None),
            ("PUT", Some(json!({"name": "n", "description": "d"}))),
            ("PATCH", Some(json!({"name": "n"}))),
            ("DELETE", None),
        ] {
            let r = call(&app, Some(&token), method, &at, body).await;
            assert_eq!(r.status, StatusCode::NOT_FOUND, "{method}");
            assert_eq!(
                r.json(),
                json!({"detail": "No ChecklistTemplateItem matches the given query."}),
                "{method}"
            );
        }
        assert_eq!(names(&app, &token, &path).await, []);
    }
}

#[tokio::test]
async fn static_segments_win_over_the_product_routes() {
    let app = TestApp::new(Backend::Sqlite).await;
    let (token, _, _) = setup(&app).await;
    // The original answered 400 invalid-type (GET) and 405 (PUT/DELETE) here.
    let r = call(
        &app,
        Some(&token),
        "GET",
        "/api/admin/products/checklist-template/5/",
        None,
    )
    .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert_eq!(
        r.json(),
        json!({"detail": "No ChecklistTemplateItem matches the given query."})
    );
    let r = call(
        &app,
        Some(&token),
        "DELETE",
        "/api/admin/products/checklist-template/5",
        None,
    )
    .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND, "without the slash too");
    let r = call(
        &app,
        Some(&token),
        "GET",
        "/api/admin/products/checklist-template/abc/",
        None,
    )
    .await;
    assert_eq!(r.json(), json!({"detail": "Not found."}));
    let r = call(&app, Some(&token), "POST", &item_path(5), Some(json!({}))).await;
    assert_eq!(r.status, StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(r.json(), json!({"detail": "Method \"POST\" not allowed."}));
    let r = call(&app, Some(&token), "GET", REORDER, None).await;
    assert_eq!(r.status, StatusCode::METHOD_NOT_ALLOWED);
    // The product routes still answer as before.
    let r = call(
        &app,
        Some(&token),
        "GET",
        "/api/admin/products/gadget/5/",
        None,
    )
    .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn reorder_accepts_both_formats() {
    for backend in backends() {
        let app = TestApp::new(backend).await;
        let (token, package, campaign) = setup(&app).await;
        let path = list_path("package", package);
        let mut ids = Vec::new();
        for name in ["A", "B", "C"] {
            ids.push(id_of(
                &create(
                    &app,
                    &token,
                    &path,
                    json!({"name": name, "description": "d"}),
                )
                .await,
            ));
        }
        let elsewhere = id_of(
            &create(
                &app,
                &token,
                &list_path("campaign", campaign),
                json!({"name": "Z", "description": "d"}),
            )
            .await,
        );
        // The contract's format; entries without `order` are left alone; any product's ids.
        let r = call(
            &app,
            Some(&token),
            "PATCH",
            REORDER,
            Some(json!({"items": [
                {"id": ids[0], "order": 3}, {"id": ids[2], "order": 1}, {"id": ids[1]},
                {"id": elsewhere, "order": 7}
            ]})),
        )
        .await;
        assert_eq!(r.status, StatusCode::OK, "{backend:?}: {}", r.text());
        let body = r.json();
        assert_eq!(body["message"], "Successfully reordered 4 items");
        let listed: Vec<(String, i64)> = body["items"]
            .as_array()
            .expect("items")
            .iter()
            .map(|i| {
                (
                    i["name"].as_str().unwrap_or("").to_string(),
                    i["order"].as_i64().unwrap_or(-1),
                )
            })
            .collect();
        assert_eq!(
            listed,
            [
                ("C".to_string(), 1),
                ("B".to_string(), 2),
                ("A".to_string(), 3),
                ("Z".to_string(), 7)
            ]
        );
        assert_eq!(body["items"][0]["product_id"], package);
        assert!(body["items"][0]["created_at"].is_string());

        // The admin SPA's format: order = position, from 0.
        let r = call(
            &app,
            Some(&token),
            "PATCH",
            REORDER,
            Some(json!({"item_ids": [ids[1], ids[0], ids[2]]})),
        )
        .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text());
        assert_eq!(r.json()["message"], "Successfully reordered 3 items");
        assert_eq!(
            names(&app, &token, &path).await,
            [
                ("B".to_string(), 0),
                ("A".to_string(), 1),
                ("C".to_string(), 2)
            ]
        );

        // Errors change nothing.
        let required = json!({"error": "Items array is required with format: [{\"id\": 1, \"order\": 0}, ...]"});
        for body in [
            json!({}),
            json!({"items": []}),
            json!({"item_ids": []}),
            json!({"items": "1,2"}),
            json!({"items": [{"order": 1}]}),
            json!({"item_ids": ["x"]}),
        ] {
            let r = call(&app, Some(&token), "PATCH", REORDER, Some(body.clone())).await;
            assert_eq!(r.status, StatusCode::BAD_REQUEST, "{body}");
            assert_eq!(r.json(), required, "{body}");
        }
        let missing = json!({"error": "One or more checklist items not found"});
        for body in [
            json!({"items": [{"id": ids[0], "order": 9}, {"id": 99999, "order": 1}]}),
            json!({"items": [{"id": ids[0], "order": 9}, {"id": ids[0], "order": 8}]}),
            json!({"item_ids": [ids[2], 99999]}),
        ] {
            let r = call(&app, Some(&token), "PATCH", REORDER, Some(body.clone())).await;
            assert_eq!(r.status, StatusCode::NOT_FOUND, "{body}");
            assert_eq!(r.json(), missing, "{body}");
        }
        assert_eq!(
            names(&app, &token, &path).await,
            [
                ("B".to_string(), 0),
                ("A".to_string(), 1),
                ("C".to_string(), 2)
            ],
            "a failed reorder changes nothing"
        );
    }
}

#[tokio::test]
async fn admin_role_only() {
    let app = TestApp::new(Backend::Sqlite).await;
    let (token, package, _) = setup(&app).await;
    let item = create(
        &app,
        &token,
        &list_path("package", package),
        json!({"name": "Design", "description": "d"}),
    )
    .await;
    let id = id_of(&item);
    let body = json!({"name": "Changed", "description": "changed"});
    let routes: Vec<(&str, String, Option<Value>)> = vec![
        ("GET", list_path("package", package), None),
        ("POST", list_path("package", package), Some(body.clone())),
        ("PATCH", REORDER.into(), Some(json!({"item_ids": [id]}))),
        ("GET", item_path(id), None),
        ("PUT", item_path(id), Some(body.clone())),
        ("PATCH", item_path(id), Some(body.clone())),
        ("DELETE", item_path(id), None),
    ];
    assert_admin_only(&app, &routes).await;
    assert_eq!(
        call(&app, Some(&token), "GET", &item_path(id), None)
            .await
            .json(),
        item,
        "nothing changed"
    );
    for (method, path, body) in routes {
        let r = call(&app, Some(&token), method, &path, body).await;
        assert!(
            r.status.is_success(),
            "{method} {path}: {} {}",
            r.status,
            r.text()
        );
    }
}
