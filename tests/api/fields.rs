//! Resource-field definitions (contract-A §4.7, contract-B §8.4): CRUD, validation messages, PUT's
//! full-replace semantics, both reorder formats (D7), routing priority and the role matrix.

use axum::{
    body::Body,
    http::{Request, StatusCode},
};
use electioncart::auth::model::Role;
use serde_json::{Value, json};

use crate::{
    catalog::{admin, create_campaign, create_package},
    helpers::{
        Backend, TestApp, TestResponse, authed, backends, create_user, json_request, token_for,
    },
};

/// Sends `method path` with an optional JSON body and an optional bearer token.
pub async fn call(
    app: &TestApp,
    token: Option<&str>,
    method: &str,
    path: &str,
    body: Option<Value>,
) -> TestResponse {
    let request = match body {
        Some(body) => json_request(method, path, body),
        None => Request::builder()
            .method(method)
            .uri(path)
            .body(Body::empty())
            .expect("request"),
    };
    let request = match token {
        Some(token) => authed(request, token),
        None => request,
    };
    app.request(request).await
}

/// A package and a campaign to hang things on; returns (admin token, package id, campaign id).
pub async fn setup(app: &TestApp) -> (String, i64, i64) {
    let admin = admin(app).await;
    let package = create_package(
        app,
        &admin,
        json!({"name": "Rally Kit", "price": 18500, "description": "Posters and banners"}),
    )
    .await;
    assert_eq!(package.status, StatusCode::CREATED, "{}", package.text());
    let campaign = create_campaign(
        app,
        &admin,
        json!({"name": "Door to Door", "price": 500, "unit": "Per Ward", "description": "Visits"}),
    )
    .await;
    assert_eq!(campaign.status, StatusCode::CREATED, "{}", campaign.text());
    (
        admin.token,
        package.json()["id"].as_i64().expect("id"),
        campaign.json()["id"].as_i64().expect("id"),
    )
}

/// Anonymous → 401, user and staff → 403, for each `(method, path, body)`.
pub async fn assert_admin_only(app: &TestApp, routes: &[(&str, String, Option<Value>)]) {
    let staff = create_user(app, "matrix-staff", "matrix-staff-pass", Role::Staff).await;
    let user = create_user(app, "matrix-user", "matrix-user-pass", Role::User).await;
    for (method, path, body) in routes {
        let r = call(app, None, method, path, body.clone()).await;
        assert_eq!(
            r.status,
            StatusCode::UNAUTHORIZED,
            "anonymous {method} {path}"
        );
        assert_eq!(
            r.json(),
            json!({"detail": "Authentication credentials were not provided."})
        );
        for who in [&user, &staff] {
            let r = call(app, Some(&token_for(app, who)), method, path, body.clone()).await;
            assert_eq!(
                r.status,
                StatusCode::FORBIDDEN,
                "{method} {path} as {}",
                who.role
            );
            assert_eq!(
                r.json(),
                json!({"detail": "You do not have permission to perform this action."})
            );
        }
    }
}

fn fields_path(kind: &str, id: i64) -> String {
    format!("/api/admin/products/{kind}/{id}/resource-fields/")
}

fn field_path(id: i64) -> String {
    format!("/api/admin/products/resource-fields/{id}/")
}

async fn create_field(app: &TestApp, token: &str, path: &str, body: Value) -> Value {
    let r = call(app, Some(token), "POST", path, Some(body)).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    r.json()["field"].clone()
}

/// `(field_name, order)` of a product's fields, in list order.
async fn names(app: &TestApp, token: &str, path: &str) -> Vec<(String, Value)> {
    call(app, Some(token), "GET", path, None).await.json()["fields"]
        .as_array()
        .expect("fields")
        .iter()
        .map(|f| {
            (
                f["field_name"].as_str().unwrap_or("").to_string(),
                f["order"].clone(),
            )
        })
        .collect()
}

fn id_of(v: &Value) -> i64 {
    v["id"].as_i64().expect("id")
}

#[tokio::test]
async fn crud_with_exact_shapes() {
    for backend in backends() {
        let app = TestApp::new(backend).await;
        let (token, package, campaign) = setup(&app).await;
        let path = fields_path("package", package);

        let r = call(&app, Some(&token), "GET", &path, None).await;
        assert_eq!(r.status, StatusCode::OK);
        assert_eq!(r.json(), json!({"success": true, "fields": []}));

        let r = call(
            &app,
            Some(&token),
            "POST",
            &path,
            Some(
                json!({"field_name": "Candidate Photo", "field_type": "image",
                        "help_text": "Upload photo", "max_file_size_mb": 5}),
            ),
        )
        .await;
        assert_eq!(r.status, StatusCode::CREATED, "{backend:?}: {}", r.text());
        let body = r.json();
        assert_eq!(body["success"], true);
        assert_eq!(body["message"], "Resource field created successfully");
        let photo = body["field"].clone();
        let created_at = photo["created_at"]
            .as_str()
            .expect("created_at")
            .to_string();
        assert!(created_at.ends_with("+05:30"), "{created_at}");
        assert_eq!(
            photo,
            json!({"id": id_of(&photo), "product_type": "package", "product_id": package,
                   "field_name": "Candidate Photo", "field_type": "image", "is_required": true,
                   "order": 0, "help_text": "Upload photo", "max_file_size_mb": 5,
                   "max_length": null, "min_value": null, "max_value": null,
                   "allowed_extensions": [], "created_at": created_at})
        );
        let keys: Vec<&str> = photo
            .as_object()
            .expect("object")
            .keys()
            .map(String::as_str)
            .collect();
        assert_eq!(keys.len(), 14);

        let doc = create_field(
            &app,
            &token,
            &path,
            json!({"field_name": "Manifesto", "field_type": "document", "is_required": false,
                   "order": -1, "allowed_extensions": ["pdf", ".DOCX"], "max_file_size_mb": 20}),
        )
        .await;
        assert_eq!(
            doc["allowed_extensions"],
            json!(["pdf", ".DOCX"]),
            "stored as sent"
        );
        assert_eq!(doc["is_required"], false);
        let slogan = create_field(
            &app,
            &token,
            &path,
            json!({"field_name": "Slogan", "field_type": "text", "max_length": 500, "order": 3}),
        )
        .await;
        create_field(
            &app,
            &token,
            &path,
            json!({"field_name": "Votes", "field_type": "number", "min_value": 5, "max_value": 5,
                   "order": 4}),
        )
        .await;
        // Another product may reuse a name.
        create_field(
            &app,
            &token,
            &fields_path("campaign", campaign),
            json!({"field_name": "Slogan", "field_type": "phone"}),
        )
        .await;

        let list = call(&app, Some(&token), "GET", &path, None).await.json();
        let names: Vec<&str> = list["fields"]
            .as_array()
            .expect("fields")
            .iter()
            .filter_map(|f| f["field_name"].as_str())
            .collect();
        assert_eq!(names, ["Manifesto", "Candidate Photo", "Slogan", "Votes"]);
        assert_eq!(list["fields"][1], photo);

        let r = call(&app, Some(&token), "GET", &field_path(id_of(&slogan)), None).await;
        assert_eq!(r.status, StatusCode::OK);
        assert_eq!(
            r.json(),
            json!({"success": true, "message": "GET request successful - URL is working!",
                   "field": slogan})
        );

        let r = call(
            &app,
            Some(&token),
            "DELETE",
            &field_path(id_of(&slogan)),
            None,
        )
        .await;
        assert_eq!(r.status, StatusCode::OK);
        assert_eq!(
            r.json(),
            json!({"success": true, "message": "Resource field deleted successfully"})
        );
        let r = call(&app, Some(&token), "GET", &field_path(id_of(&slogan)), None).await;
        assert_eq!(r.status, StatusCode::NOT_FOUND);
        let list = call(&app, Some(&token), "GET", &path, None).await.json();
        assert_eq!(list["fields"].as_array().map(Vec::len), Some(3));
    }
}

#[tokio::test]
async fn put_is_a_full_replace() {
    for backend in backends() {
        let app = TestApp::new(backend).await;
        let (token, package, _) = setup(&app).await;
        let path = fields_path("package", package);
        let doc = create_field(
            &app,
            &token,
            &path,
            json!({"field_name": "Manifesto", "field_type": "document", "is_required": false,
                   "order": 7, "help_text": "PDF please", "allowed_extensions": [".pdf"],
                   "max_file_size_mb": 15}),
        )
        .await;
        let r = call(
            &app,
            Some(&token),
            "PUT",
            &field_path(id_of(&doc)),
            Some(
                json!({"field_name": "Manifesto v2", "field_type": "document",
                        "product_id": 999, "product_type": "campaign"}),
            ),
        )
        .await;
        assert_eq!(r.status, StatusCode::OK, "{backend:?}: {}", r.text());
        let body = r.json();
        assert_eq!(body["success"], true);
        assert_eq!(body["message"], "Resource field updated successfully");
        let field = &body["field"];
        assert_eq!(field["field_name"], "Manifesto v2");
        assert_eq!(
            field["is_required"], true,
            "omitted is_required resets to true"
        );
        assert_eq!(field["order"], 0, "omitted order resets to 0");
        assert_eq!(
            field["help_text"], "PDF please",
            "other omitted keys are kept"
        );
        assert_eq!(field["allowed_extensions"], json!([".pdf"]));
        assert_eq!(field["max_file_size_mb"], 15);
        assert_eq!(field["product_id"], package, "the product cannot change");
        assert_eq!(field["product_type"], "package");
        assert_eq!(field["created_at"], doc["created_at"]);

        // Keeping its own name is not a duplicate; explicit nulls clear.
        let r = call(
            &app,
            Some(&token),
            "PUT",
            &field_path(id_of(&doc)),
            Some(
                json!({"field_name": "Manifesto v2", "field_type": "text", "help_text": "",
                        "max_file_size_mb": null, "max_length": 40, "is_required": "false",
                        "order": "2", "allowed_extensions": []}),
            ),
        )
        .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text());
        let field = r.json()["field"].clone();
        assert_eq!(field["field_type"], "text");
        assert_eq!(field["max_file_size_mb"], Value::Null);
        assert_eq!(field["max_length"], 40);
        assert_eq!(field["is_required"], false);
        assert_eq!(field["order"], 2);
        assert_eq!(field["help_text"], "");
        assert_eq!(field["allowed_extensions"], json!([]));
    }
}

#[tokio::test]
async fn validation_messages() {
    let app = TestApp::new(Backend::Sqlite).await;
    let (token, package, _) = setup(&app).await;
    let path = fields_path("package", package);
    let post = |body: Value| {
        let path = path.clone();
        let token = token.clone();
        let app = &app;
        async move { call(app, Some(&token), "POST", &path, Some(body)).await }
    };
    let cases: Vec<(Value, Value)> = vec![
        (
            json!({}),
            json!({"field_name": ["This field is required."], "field_type": ["This field is required."]}),
        ),
        (
            json!({"field_name": "  ", "field_type": "video"}),
            json!({"field_name": ["This field may not be blank."],
                   "field_type": ["\"video\" is not a valid choice."]}),
        ),
        (
            json!({"field_name": "x".repeat(101), "field_type": "text", "help_text": "h".repeat(201)}),
            json!({"field_name": ["Ensure this field has no more than 100 characters."],
                   "help_text": ["Ensure this field has no more than 200 characters."]}),
        ),
        (
            json!({"field_name": "Photo", "field_type": "image", "max_file_size_mb": 11}),
            json!({"max_file_size_mb": ["Maximum file size for images cannot exceed 10MB"]}),
        ),
        (
            json!({"field_name": "Doc", "field_type": "document", "max_file_size_mb": 21}),
            json!({"max_file_size_mb": ["Maximum file size for documents cannot exceed 20MB"]}),
        ),
        (
            json!({"field_name": "Slogan", "field_type": "text", "max_length": 501}),
            json!({"max_length": ["Maximum length for text fields cannot exceed 500 characters"]}),
        ),
        (
            json!({"field_name": "Votes", "field_type": "number", "min_value": 10, "max_value": 9}),
            json!({"min_value": ["Minimum value cannot be greater than maximum value"]}),
        ),
        (
            json!({"field_name": "N", "field_type": "number", "min_value": "ten", "order": null,
                   "is_required": "maybe", "max_value": 1.5}),
            json!({"min_value": ["A valid integer is required."],
                   "max_value": ["A valid integer is required."],
                   "order": ["This field may not be null."],
                   "is_required": ["Must be a valid boolean."]}),
        ),
        (
            json!({"field_name": "D", "field_type": "document", "allowed_extensions": "pdf"}),
            json!({"allowed_extensions": ["Expected a list of items but got type \"str\"."]}),
        ),
        (
            json!({"field_name": "D", "field_type": "document", "allowed_extensions": ["pdf", 3]}),
            json!({"allowed_extensions": {"1": ["Not a valid string."]}}),
        ),
        (
            json!({"field_name": "D", "field_type": "text", "max_length": 2_147_483_648_i64}),
            json!({"max_length": ["Ensure this value is less than or equal to 2147483647."]}),
        ),
        (
            json!(["field_name"]),
            json!({"non_field_errors": ["Invalid data. Expected a dictionary, but got list."]}),
        ),
    ];
    for (body, errors) in cases {
        let r = post(body.clone()).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{body}");
        assert_eq!(
            r.json(),
            json!({"success": false, "errors": errors}),
            "{body}"
        );
    }
    // The caps are inclusive; other types ignore them.
    for body in [
        json!({"field_name": "A", "field_type": "image", "max_file_size_mb": 10}),
        json!({"field_name": "B", "field_type": "text", "max_length": 500}),
        json!({"field_name": "C", "field_type": "phone", "max_file_size_mb": 99}),
        json!({"field_name": "E", "field_type": "number", "min_value": 3}),
    ] {
        assert_eq!(
            post(body.clone()).await.status,
            StatusCode::CREATED,
            "{body}"
        );
    }

    // Duplicate names, on create and on update (exact match; other fields of the product only).
    let r = post(json!({"field_name": "A", "field_type": "text"})).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        r.json(),
        json!({"success": false, "message": "Field with name \"A\" already exists for this product"})
    );
    assert_eq!(
        post(json!({"field_name": "a", "field_type": "text"}))
            .await
            .status,
        StatusCode::CREATED,
        "case-sensitive, as the original"
    );
    let b = call(&app, Some(&token), "GET", &path, None).await.json()["fields"]
        .as_array()
        .expect("fields")
        .iter()
        .find(|f| f["field_name"] == "B")
        .cloned()
        .expect("B");
    let r = call(
        &app,
        Some(&token),
        "PUT",
        &field_path(id_of(&b)),
        Some(json!({"field_name": "A", "field_type": "text"})),
    )
    .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        r.json(),
        json!({"success": false, "message": "Field with name \"A\" already exists for this product"})
    );
    // PUT validation errors carry a message too; the caps apply to the resulting definition.
    let r = call(
        &app,
        Some(&token),
        "PUT",
        &field_path(id_of(&b)),
        Some(json!({"field_type": "text", "max_length": 900})),
    )
    .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        r.json(),
        json!({"success": false, "errors": {"field_name": ["This field is required."]},
               "message": "Validation failed"})
    );
    let r = call(
        &app,
        Some(&token),
        "PUT",
        &field_path(id_of(&b)),
        Some(json!({"field_name": "B", "field_type": "text", "max_length": 900})),
    )
    .await;
    assert_eq!(
        r.json(),
        json!({"success": false,
               "errors": {"max_length": ["Maximum length for text fields cannot exceed 500 characters"]},
               "message": "Validation failed"})
    );
    // Malformed JSON is the framework's 400.
    let r = app
        .request(authed(
            Request::post(&path)
                .header("content-type", "application/json")
                .body(Body::from("{nope"))
                .expect("request"),
            &token,
        ))
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert!(
        r.json()["detail"]
            .as_str()
            .is_some_and(|d| d.starts_with("JSON parse error"))
    );
}

#[tokio::test]
async fn types_products_and_missing_fields() {
    let app = TestApp::new(Backend::Sqlite).await;
    let (token, package, _) = setup(&app).await;
    let body = json!({"field_name": "Photo", "field_type": "image"});
    for method in ["GET", "POST"] {
        let r = call(
            &app,
            Some(&token),
            method,
            &fields_path("gadget", package),
            Some(body.clone()),
        )
        .await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{method}");
        assert_eq!(
            r.json(),
            json!({"success": false, "message": "Invalid product type. Must be package or campaign"})
        );
        let r = call(
            &app,
            Some(&token),
            method,
            &fields_path("package", 9999),
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
            "/api/admin/products/campaign/9999/resource-fields/",
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
            "/api/admin/products/package/abc/resource-fields/",
            Some(body.clone()),
        )
        .await;
        assert_eq!(r.status, StatusCode::NOT_FOUND);
        assert_eq!(r.json(), json!({"detail": "Not found."}));
    }
    for (method, body) in [("GET", None), ("PUT", Some(body.clone())), ("DELETE", None)] {
        // A literal `resource-fields` segment beats `{product_type}`: never the invalid-type answer.
        let r = call(&app, Some(&token), method, &field_path(4242), body).await;
        assert_eq!(r.status, StatusCode::NOT_FOUND, "{method}");
        assert_eq!(
            r.json(),
            json!({"success": false, "message": "Resource field not found"}),
            "{method}"
        );
    }
    let r = call(
        &app,
        Some(&token),
        "GET",
        "/api/admin/products/resource-fields/abc/",
        None,
    )
    .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert_eq!(r.json(), json!({"detail": "Not found."}));
    // Without the trailing slash too (D9).
    let r = call(
        &app,
        Some(&token),
        "GET",
        &format!("/api/admin/products/package/{package}/resource-fields"),
        None,
    )
    .await;
    assert_eq!(r.status, StatusCode::OK);
    // Methods the route does not serve.
    let r = call(&app, Some(&token), "PATCH", &field_path(1), Some(json!({}))).await;
    assert_eq!(r.status, StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(r.json(), json!({"detail": "Method \"PATCH\" not allowed."}));
}

#[tokio::test]
async fn reorder_accepts_both_formats() {
    for backend in backends() {
        let app = TestApp::new(backend).await;
        let (token, package, campaign) = setup(&app).await;
        let path = fields_path("package", package);
        let mut ids = Vec::new();
        for name in ["One", "Two", "Three"] {
            ids.push(id_of(
                &create_field(
                    &app,
                    &token,
                    &path,
                    json!({"field_name": name, "field_type": "text"}),
                )
                .await,
            ));
        }
        let other = id_of(
            &create_field(
                &app,
                &token,
                &fields_path("campaign", campaign),
                json!({"field_name": "Elsewhere", "field_type": "text"}),
            )
            .await,
        );
        let reorder = "/api/admin/products/resource-fields/reorder/";
        // The contract's format; unknown ids are skipped; ids of any product are accepted.
        let r = call(
            &app,
            Some(&token),
            "PATCH",
            reorder,
            Some(json!({"field_orders": [
                {"id": ids[0], "order": 2}, {"id": ids[1], "order": 0},
                {"id": ids[2], "order": 1}, {"id": 99999, "order": 5}, {"id": other, "order": 9}
            ]})),
        )
        .await;
        assert_eq!(r.status, StatusCode::OK, "{backend:?}: {}", r.text());
        assert_eq!(
            r.json(),
            json!({"success": true, "message": "Resource fields reordered successfully"})
        );
        assert_eq!(
            names(&app, &token, &path).await,
            [
                ("Two".to_string(), json!(0)),
                ("Three".to_string(), json!(1)),
                ("One".to_string(), json!(2))
            ]
        );
        let r = call(&app, Some(&token), "GET", &field_path(other), None).await;
        assert_eq!(r.json()["field"]["order"], 9);

        // The admin SPA's format: position = order, from 0.
        let r = call(
            &app,
            Some(&token),
            "PATCH",
            reorder,
            Some(json!({"field_ids": [ids[2], ids[0], ids[1]]})),
        )
        .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text());
        assert_eq!(
            names(&app, &token, &path).await,
            [
                ("Three".to_string(), json!(0)),
                ("One".to_string(), json!(1)),
                ("Two".to_string(), json!(2))
            ]
        );
    }
}

#[tokio::test]
async fn reorder_errors() {
    let app = TestApp::new(Backend::Sqlite).await;
    let (token, _, _) = setup(&app).await;
    let reorder = "/api/admin/products/resource-fields/reorder/";
    let cases = [
        (
            json!({}),
            json!({"field_orders": ["This field is required."]}),
        ),
        (
            json!({"field_orders": [{"id": 1}]}),
            json!({"field_orders": ["Each item must have id and order fields"]}),
        ),
        (
            json!({"field_orders": [{"order": 1}]}),
            json!({"field_orders": ["Each item must have id and order fields"]}),
        ),
        (
            json!({"field_orders": [5]}),
            json!({"field_orders": ["Each item must have id and order fields"]}),
        ),
        (
            json!({"field_orders": [{"id": "x", "order": 1}]}),
            json!({"field_orders": ["A valid integer is required."]}),
        ),
        (
            json!({"field_orders": "1,2"}),
            json!({"field_orders": ["Expected a list of items but got type \"str\"."]}),
        ),
        (
            json!({"field_ids": [1, "two"]}),
            json!({"field_ids": ["A valid integer is required."]}),
        ),
    ];
    for (body, errors) in cases {
        let r = call(&app, Some(&token), "PATCH", reorder, Some(body.clone())).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{body}");
        assert_eq!(
            r.json(),
            json!({"success": false, "errors": errors}),
            "{body}"
        );
    }
    let r = call(
        &app,
        Some(&token),
        "PATCH",
        reorder,
        Some(json!({"field_orders": []})),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK);
}

#[tokio::test]
async fn admin_role_only() {
    let app = TestApp::new(Backend::Sqlite).await;
    let (token, package, _) = setup(&app).await;
    let field = create_field(
        &app,
        &token,
        &fields_path("package", package),
        json!({"field_name": "Photo", "field_type": "image"}),
    )
    .await;
    let fid = id_of(&field);
    let body = json!({"field_name": "Logo", "field_type": "image"});
    let routes: Vec<(&str, String, Option<Value>)> = vec![
        ("GET", fields_path("package", package), None),
        ("POST", fields_path("package", package), Some(body.clone())),
        ("GET", field_path(fid), None),
        (
            "PUT",
            field_path(fid),
            Some(json!({"field_name": "Portrait", "field_type": "image"})),
        ),
        ("DELETE", field_path(fid), None),
        (
            "PATCH",
            "/api/admin/products/resource-fields/reorder/".into(),
            Some(json!({"field_ids": [fid]})),
        ),
    ];
    assert_admin_only(&app, &routes).await;
    // Nothing changed; then the admin gets 2xx on every route.
    let r = call(&app, Some(&token), "GET", &field_path(fid), None).await;
    assert_eq!(r.json()["field"], field);
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

#[tokio::test]
async fn referenced_fields_are_kept() {
    for backend in backends() {
        let app = TestApp::new(backend).await;
        let (token, package, _) = setup(&app).await;
        let field = create_field(
            &app,
            &token,
            &fields_path("package", package),
            json!({"field_name": "Photo", "field_type": "image"}),
        )
        .await;
        // Stands in for the customer submissions that will reference definitions.
        let ddl = "CREATE TABLE test_field_refs (field_id BIGINT NOT NULL \
                   REFERENCES resource_field_definitions (id))";
        match &app.state.db {
            electioncart::db::Db::Postgres(pool) => {
                sqlx::query(ddl).execute(pool).await.expect("ddl");
                sqlx::query("INSERT INTO test_field_refs (field_id) VALUES ($1)")
                    .bind(id_of(&field))
                    .execute(pool)
                    .await
                    .expect("insert");
            }
            electioncart::db::Db::Sqlite(s) => {
                sqlx::query(ddl).execute(&s.write).await.expect("ddl");
                sqlx::query("INSERT INTO test_field_refs (field_id) VALUES ($1)")
                    .bind(id_of(&field))
                    .execute(&s.write)
                    .await
                    .expect("insert");
            }
        }
        let r = call(
            &app,
            Some(&token),
            "DELETE",
            &field_path(id_of(&field)),
            None,
        )
        .await;
        assert_eq!(r.status, StatusCode::CONFLICT, "{backend:?}: {}", r.text());
        let body = r.json();
        assert_eq!(body["success"], false);
        let message = body["message"].as_str().expect("message");
        assert!(message.starts_with("Error deleting field: "), "{message}");
        assert!(
            !message.contains("test_field_refs"),
            "no internals: {message}"
        );
        let r = call(&app, Some(&token), "GET", &field_path(id_of(&field)), None).await;
        assert_eq!(r.status, StatusCode::OK);
    }
}

#[test]
fn extensions_match_with_or_without_the_dot() {
    use electioncart::catalog::{DEFAULT_DOCUMENT_EXTENSIONS, extension_allowed};
    let stored = vec!["pdf".to_string(), ".Docx".to_string()];
    assert!(extension_allowed(&stored, ".pdf"));
    assert!(extension_allowed(&stored, "PDF"));
    assert!(extension_allowed(&stored, "docx"));
    assert!(!extension_allowed(&stored, ".doc"));
    let defaults: Vec<String> = DEFAULT_DOCUMENT_EXTENSIONS
        .iter()
        .map(|e| (*e).to_string())
        .collect();
    assert!(extension_allowed(&defaults, ".doc"));
}
