//! Identity: signup, login, me, tokens, roles and user management.

use axum::{
    body::Body,
    http::{Request, StatusCode},
};
use electioncart::{
    auth::{model::Role, repo},
    crypto::password::django_pbkdf2_hash,
};
use serde_json::{Value, json};

use crate::helpers::{
    Backend, TestApp, authed, backends, create_user, from_peer, json_request, login, random_ip,
    token_for,
};

fn user_keys(user: &Value) -> Vec<String> {
    let mut keys: Vec<String> = user.as_object().expect("object").keys().cloned().collect();
    keys.sort();
    keys
}

fn assert_user_shape(user: &Value) {
    assert_eq!(
        user_keys(user),
        [
            "created_at",
            "id",
            "order_count",
            "phone_number",
            "role",
            "username"
        ]
    );
    let created = user["created_at"].as_str().expect("created_at");
    assert!(created.ends_with("+05:30"), "IST timestamps: {created}");
    assert_eq!(created.len(), 32, "{created}");
    assert!(user["id"].is_i64());
    assert_eq!(user["order_count"], 0);
}

async fn signup(app: &TestApp, body: Value) -> crate::helpers::TestResponse {
    app.request(from_peer(
        json_request("POST", "/api/auth/signup/", body),
        &random_ip(),
    ))
    .await
}

async fn get_as(app: &TestApp, path: &str, token: &str) -> crate::helpers::TestResponse {
    app.request(authed(
        Request::get(path).body(Body::empty()).expect("request"),
        token,
    ))
    .await
}

#[tokio::test]
async fn signup_login_me_round_trip() {
    for backend in backends() {
        let app = TestApp::new(backend).await;
        let r = signup(
            &app,
            json!({"username": "asha", "password": "campaign-trail-42", "phone_number": ""}),
        )
        .await;
        assert_eq!(r.status, StatusCode::CREATED, "{backend:?}: {}", r.text());
        let body = r.json();
        assert_eq!(body["message"], "Account created successfully");
        assert_eq!(body["role"], "user");
        assert_user_shape(&body["user"]);
        assert_eq!(body["user"]["username"], "asha");
        assert_eq!(body["user"]["phone_number"], "");
        assert!(
            body["token"]
                .as_str()
                .is_some_and(|t| t.split('.').count() == 3)
        );

        let r = login(&app, "asha", "campaign-trail-42").await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text());
        let body = r.json();
        assert!(body.get("message").is_none());
        assert_eq!(body["role"], "user");
        assert_user_shape(&body["user"]);
        assert!(r.header("ratelimit-limit").is_some());
        let token = body["token"].as_str().expect("token").to_string();

        let me = get_as(&app, "/api/auth/me/", &token).await;
        assert_eq!(me.status, StatusCode::OK);
        assert_eq!(me.json(), body["user"]);
        assert_eq!(me.header("cache-control"), Some("no-store"));
        // The same without the trailing slash.
        assert_eq!(
            get_as(&app, "/api/auth/me", &token).await.status,
            StatusCode::OK
        );
    }
}

#[tokio::test]
async fn signup_rules() {
    for backend in backends() {
        let app = TestApp::new(backend).await;
        // Two signups without a phone number both succeed (D15: "" is stored as NULL).
        for name in ["first", "second"] {
            let r = signup(
                &app,
                json!({"username": name, "password": "a-long-passphrase", "phone_number": ""}),
            )
            .await;
            assert_eq!(
                r.status,
                StatusCode::CREATED,
                "{backend:?} {name}: {}",
                r.text()
            );
        }
        let dup = signup(
            &app,
            json!({"username": "first", "password": "another-passphrase"}),
        )
        .await;
        assert_eq!(dup.status, StatusCode::BAD_REQUEST);
        assert_eq!(dup.json(), json!({"error": "Username already exists"}));

        let with_phone = signup(
            &app,
            json!({"username": "third", "password": "a-long-passphrase", "phone_number": "+919000000001"}),
        )
        .await;
        assert_eq!(with_phone.status, StatusCode::CREATED);
        assert_eq!(with_phone.json()["user"]["phone_number"], "+919000000001");
        let dup_phone = signup(
            &app,
            json!({"username": "fourth", "password": "a-long-passphrase", "phone_number": "+919000000001"}),
        )
        .await;
        assert_eq!(
            dup_phone.json(),
            json!({"error": "Phone number already exists"})
        );

        for (body, fragment) in [
            (
                json!({"username": "x"}),
                "Username and password are required",
            ),
            (
                json!({"password": "a-long-passphrase"}),
                "Username and password are required",
            ),
            (
                json!({"username": "", "password": "a-long-passphrase"}),
                "required",
            ),
            (
                json!({"username": "weak", "password": "short"}),
                "too short",
            ),
            (
                json!({"username": "weak", "password": "1234567890"}),
                "numeric",
            ),
            (
                json!({"username": "weak", "password": "password123"}),
                "common",
            ),
            (
                json!({"username": "samename1", "password": "samename1"}),
                "similar",
            ),
            (
                json!({"username": "weak", "password": "x".repeat(129)}),
                "too long",
            ),
            (
                json!({"username": "u".repeat(151), "password": "a-long-passphrase"}),
                "150",
            ),
            (
                json!({"username": "p", "password": "a-long-passphrase", "phone_number": "1".repeat(16)}),
                "15",
            ),
        ] {
            let r = signup(&app, body.clone()).await;
            assert_eq!(r.status, StatusCode::BAD_REQUEST, "{body}");
            let error = r.json()["error"].as_str().expect("error key").to_string();
            assert!(error.contains(fragment), "{body}: {error}");
        }
    }
}

#[tokio::test]
async fn bodies_json_form_and_garbage() {
    let app = TestApp::new(Backend::Sqlite).await;
    create_user(&app, "formuser", "form-pass-9876", Role::User).await;
    let form = app
        .request(from_peer(
            Request::post("/api/auth/login/")
                .header("content-type", "application/x-www-form-urlencoded")
                .body(Body::from("username=formuser&password=form-pass-9876"))
                .expect("request"),
            &random_ip(),
        ))
        .await;
    assert_eq!(form.status, StatusCode::OK, "{}", form.text());

    let malformed = app
        .request(from_peer(
            Request::post("/api/auth/login/")
                .header("content-type", "application/json")
                .body(Body::from("{\"username\": "))
                .expect("request"),
            &random_ip(),
        ))
        .await;
    assert_eq!(malformed.status, StatusCode::BAD_REQUEST);
    assert!(
        malformed.json()["detail"]
            .as_str()
            .is_some_and(|d| d.starts_with("JSON parse error"))
    );

    let text = app
        .request(from_peer(
            Request::post("/api/auth/login/")
                .header("content-type", "text/plain")
                .body(Body::from("hello"))
                .expect("request"),
            &random_ip(),
        ))
        .await;
    assert_eq!(text.status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    assert_eq!(
        text.json(),
        json!({"detail": "Unsupported media type \"text/plain\" in request."})
    );

    let wrong_types = app
        .request(from_peer(
            json_request(
                "POST",
                "/api/auth/login/",
                json!({"username": ["a"], "password": {}}),
            ),
            &random_ip(),
        ))
        .await;
    assert_eq!(wrong_types.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        wrong_types.json(),
        json!({"error": "Username and password are required"})
    );

    let get = app.get("/api/auth/login/").await;
    assert_eq!(get.status, StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(get.json(), json!({"detail": "Method \"GET\" not allowed."}));
}

#[tokio::test]
async fn login_failures_look_alike() {
    for backend in backends() {
        let app = TestApp::new(backend).await;
        create_user(&app, "ravi", "right-password-1", Role::User).await;
        let wrong = login(&app, "ravi", "wrong-password-1").await;
        let unknown = login(&app, "nobody", "wrong-password-1").await;
        let case = login(&app, "RAVI", "right-password-1").await;
        for r in [&wrong, &unknown, &case] {
            assert_eq!(r.status, StatusCode::UNAUTHORIZED);
            assert_eq!(r.json(), json!({"error": "Invalid username or password"}));
            assert!(r.header("www-authenticate").is_none());
        }
        let missing = login(&app, "", "x").await;
        assert_eq!(missing.status, StatusCode::BAD_REQUEST);
        assert_eq!(
            missing.json(),
            json!({"error": "Username and password are required"})
        );
    }
}

/// Signs a token the way the original (PyJWT) did, independently of the server's code.
fn pyjwt_token(header: &str, payload: &Value, key: &str, alg: &str) -> String {
    use base64::Engine;
    use hmac::{Hmac, KeyInit, Mac};
    let b64 = |d: &[u8]| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(d);
    let input = format!(
        "{}.{}",
        b64(header.as_bytes()),
        b64(payload.to_string().as_bytes())
    );
    let signature = match alg {
        "HS256" => {
            let mut m = Hmac::<sha2::Sha256>::new_from_slice(key.as_bytes()).expect("key");
            m.update(input.as_bytes());
            m.finalize().into_bytes().to_vec()
        }
        "HS384" => {
            let mut m = Hmac::<sha2::Sha384>::new_from_slice(key.as_bytes()).expect("key");
            m.update(input.as_bytes());
            m.finalize().into_bytes().to_vec()
        }
        "HS512" => {
            let mut m = Hmac::<sha2::Sha512>::new_from_slice(key.as_bytes()).expect("key");
            m.update(input.as_bytes());
            m.finalize().into_bytes().to_vec()
        }
        _ => Vec::new(),
    };
    format!("{input}.{}", b64(&signature))
}

const TEST_SECRET: &str = "test-secret-key-that-is-long-enough-0123456789";

#[tokio::test]
async fn tokens_from_the_original_are_accepted_and_forgeries_are_not() {
    let app = TestApp::new(Backend::Sqlite).await;
    let user = create_user(&app, "legacy", "legacy-pass-77", Role::Admin).await;
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    let header = r#"{"alg":"HS256","typ":"JWT"}"#;
    let claims = json!({"user_id": user.id, "phone_number": "+919111111111", "role": "admin",
                        "exp": now + 604_800, "iat": now});
    let original = pyjwt_token(header, &claims, TEST_SECRET, "HS256");
    let r = get_as(&app, "/api/auth/me/", &original).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert_eq!(r.json()["username"], "legacy");

    let b64 = |d: &[u8]| {
        use base64::Engine;
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(d)
    };
    let mut tampered_parts: Vec<String> = original.split('.').map(str::to_string).collect();
    tampered_parts[1] = b64(
        json!({"user_id": user.id + 1, "role": "admin", "exp": now + 600})
            .to_string()
            .as_bytes(),
    );
    let cases = [
        (
            "alg none",
            format!(
                "{}.{}.",
                b64(br#"{"alg":"none","typ":"JWT"}"#),
                b64(claims.to_string().as_bytes())
            ),
            "Invalid token",
        ),
        (
            "HS384",
            pyjwt_token(
                r#"{"alg":"HS384","typ":"JWT"}"#,
                &claims,
                TEST_SECRET,
                "HS384",
            ),
            "Invalid token",
        ),
        (
            "HS512",
            pyjwt_token(
                r#"{"alg":"HS512","typ":"JWT"}"#,
                &claims,
                TEST_SECRET,
                "HS512",
            ),
            "Invalid token",
        ),
        (
            "wrong key",
            pyjwt_token(
                header,
                &claims,
                "some-other-secret-of-enough-length-0000",
                "HS256",
            ),
            "Invalid token",
        ),
        ("tampered", tampered_parts.join("."), "Invalid token"),
        (
            "expired",
            pyjwt_token(
                header,
                &json!({"user_id": user.id, "exp": now - 10, "iat": now - 100}),
                TEST_SECRET,
                "HS256",
            ),
            "Token has expired",
        ),
        (
            "missing exp",
            pyjwt_token(
                header,
                &json!({"user_id": user.id, "iat": now}),
                TEST_SECRET,
                "HS256",
            ),
            "Invalid token",
        ),
        (
            "unknown user",
            pyjwt_token(
                header,
                &json!({"user_id": 999_999, "exp": now + 600}),
                TEST_SECRET,
                "HS256",
            ),
            "User not found",
        ),
        ("garbage", "abc.def.ghi".to_string(), "Invalid token"),
    ];
    for (name, token, detail) in cases {
        let r = get_as(&app, "/api/auth/me/", &token).await;
        assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{name}");
        assert_eq!(r.json(), json!({ "detail": detail }), "{name}");
        assert_eq!(r.header("www-authenticate"), Some("Bearer"), "{name}");
        assert!(
            token.is_empty() || !r.text().contains(&token),
            "{name}: token echoed"
        );
    }

    // Transport variants.
    let none = app.get("/api/auth/me/").await;
    assert_eq!(none.status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        none.json(),
        json!({"detail": "Authentication credentials were not provided."})
    );
    for value in [
        format!("Token {original}"),
        format!("bearer {original}"),
        "Basic dXNlcjpwYXNz".to_string(),
    ] {
        let r = app
            .request(
                Request::get("/api/auth/me/")
                    .header("authorization", value.as_str())
                    .body(Body::empty())
                    .expect("request"),
            )
            .await;
        assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{value}");
    }
    let twice = app
        .request(
            Request::get("/api/auth/me/")
                .header("authorization", format!("Bearer {original}"))
                .header("authorization", format!("Bearer {original}"))
                .body(Body::empty())
                .expect("request"),
        )
        .await;
    assert_eq!(twice.status, StatusCode::UNAUTHORIZED);
    let empty = app
        .request(
            Request::get("/api/auth/me/")
                .header("authorization", "Bearer ")
                .body(Body::empty())
                .expect("request"),
        )
        .await;
    assert_eq!(empty.status, StatusCode::UNAUTHORIZED);

    // A bad token on a public route is anonymous, not 401 (D13).
    create_user(&app, "publicuser", "public-pass-321", Role::User).await;
    let r = app
        .request(authed(
            from_peer(
                json_request(
                    "POST",
                    "/api/auth/login/",
                    json!({"username": "publicuser", "password": "public-pass-321"}),
                ),
                &random_ip(),
            ),
            "garbage.token.here",
        ))
        .await;
    assert_eq!(r.status, StatusCode::OK);
}

#[tokio::test]
async fn issued_tokens_carry_the_original_claims() {
    let app = TestApp::new(Backend::Sqlite).await;
    create_user(&app, "claims", "claims-pass-99", Role::Staff).await;
    let token = login(&app, "claims", "claims-pass-99").await.json()["token"]
        .as_str()
        .expect("token")
        .to_string();
    use base64::Engine;
    let parts: Vec<&str> = token.split('.').collect();
    let decode = |p: &str| -> Value {
        serde_json::from_slice(
            &base64::engine::general_purpose::URL_SAFE_NO_PAD
                .decode(p)
                .expect("base64"),
        )
        .expect("json")
    };
    assert_eq!(decode(parts[0]), json!({"alg": "HS256", "typ": "JWT"}));
    let claims = decode(parts[1]);
    assert_eq!(claims["role"], "staff");
    assert!(claims["user_id"].is_i64());
    assert!(claims.get("phone_number").is_some());
    let (exp, iat) = (
        claims["exp"].as_i64().expect("exp"),
        claims["iat"].as_i64().expect("iat"),
    );
    assert_eq!(exp - iat, 7 * 24 * 3600, "7 days, as the original");
}

#[tokio::test]
async fn role_changes_deletion_and_password_changes_apply_to_old_tokens() {
    for backend in backends() {
        let app = TestApp::new(backend).await;
        let admin = create_user(&app, "boss", "boss-pass-123", Role::Admin).await;
        let other_admin = create_user(&app, "deputy", "deputy-pass-123", Role::Admin).await;
        let admin_token = token_for(&app, &admin);
        let deputy_token = token_for(&app, &other_admin);
        assert_eq!(
            get_as(&app, "/api/auth/users/", &deputy_token).await.status,
            StatusCode::OK
        );

        // Demoted: the very next request with the old token is refused admin routes.
        let r = app
            .request(authed(
                json_request(
                    "PATCH",
                    &format!("/api/auth/users/{}/role/", other_admin.id),
                    json!({"role": "staff"}),
                ),
                &admin_token,
            ))
            .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text());
        let body = r.json();
        assert_eq!(body["success"], true);
        assert_eq!(body["message"], "User role updated to staff");
        assert_eq!(body["user"]["role"], "staff");
        let refused = get_as(&app, "/api/auth/users/", &deputy_token).await;
        assert_eq!(refused.status, StatusCode::FORBIDDEN, "{backend:?}");
        assert_eq!(
            get_as(&app, "/api/auth/me/", &deputy_token).await.json()["role"],
            "staff"
        );

        // Deleted (deactivated): the token gets 401 and the account cannot log in.
        let r = app
            .request(authed(
                Request::delete(format!("/api/auth/users/{}/", other_admin.id))
                    .body(Body::empty())
                    .expect("request"),
                &admin_token,
            ))
            .await;
        assert_eq!(r.status, StatusCode::OK);
        assert_eq!(
            r.json(),
            json!({"success": true, "message": "User deputy deleted successfully"})
        );
        let gone = get_as(&app, "/api/auth/me/", &deputy_token).await;
        assert_eq!(gone.status, StatusCode::UNAUTHORIZED);
        assert_eq!(gone.json(), json!({"detail": "User not found"}));
        assert_eq!(
            login(&app, "deputy", "deputy-pass-123").await.status,
            StatusCode::UNAUTHORIZED
        );
        let stored = repo::find_by_id(&app.state.db, other_admin.id)
            .await
            .expect("query")
            .expect("row kept (D16)");
        assert!(!stored.is_active);

        // A password change voids tokens issued before it.
        let user = create_user(&app, "changer", "first-pass-123", Role::User).await;
        let old = token_for(&app, &user);
        tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
        let hash = app
            .state
            .passwords
            .hash("second-pass-456".into())
            .await
            .expect("hash");
        repo::change_password(&app.state.db, user.id, &hash)
            .await
            .expect("change");
        let r = get_as(&app, "/api/auth/me/", &old).await;
        assert_eq!(r.status, StatusCode::UNAUTHORIZED);
        let fresh = login(&app, "changer", "second-pass-456").await;
        assert_eq!(fresh.status, StatusCode::OK);
        let fresh_token = fresh.json()["token"].as_str().expect("token").to_string();
        assert_eq!(
            get_as(&app, "/api/auth/me/", &fresh_token).await.status,
            StatusCode::OK
        );
    }
}

#[tokio::test]
async fn django_hashes_log_in_and_are_upgraded() {
    for backend in backends() {
        let app = TestApp::new(backend).await;
        // Computed with Python's hashlib.pbkdf2_hmac('sha256', b'Legacy-Pass-2025', b'Ab3dEf6hIj9k', 1000).
        let django = "pbkdf2_sha256$1000$Ab3dEf6hIj9k$pq83yyAuZUJBAsakFyjYWZF+KZujhBlr+Wp8GBXUZQc=";
        assert_eq!(
            django_pbkdf2_hash("Legacy-Pass-2025", "Ab3dEf6hIj9k", 1000),
            django
        );
        let user = repo::create(
            &app.state.db,
            &electioncart::auth::model::NewUser {
                username: "imported".into(),
                password_hash: django.into(),
                phone_number: Some("+919111111111".into()),
                firebase_uid: None,
                role: Role::Admin,
            },
        )
        .await
        .expect("insert");
        assert_eq!(
            login(&app, "imported", "wrong-one-123").await.status,
            StatusCode::UNAUTHORIZED
        );
        let r = login(&app, "imported", "Legacy-Pass-2025").await;
        assert_eq!(r.status, StatusCode::OK, "{backend:?}: {}", r.text());
        let stored = repo::find_by_id(&app.state.db, user.id)
            .await
            .expect("query")
            .expect("user");
        assert!(
            stored.password.starts_with("$argon2id$"),
            "{}",
            stored.password
        );
        // The upgrade is not a password change: the token from that login stays valid.
        let token = r.json()["token"].as_str().expect("token").to_string();
        assert_eq!(
            get_as(&app, "/api/auth/me/", &token).await.status,
            StatusCode::OK
        );
        assert_eq!(
            login(&app, "imported", "Legacy-Pass-2025").await.status,
            StatusCode::OK
        );
    }
}

#[tokio::test]
async fn user_management_role_matrix() {
    let app = TestApp::new(Backend::Sqlite).await;
    let admin = create_user(&app, "m-admin", "matrix-pass-1", Role::Admin).await;
    let staff = create_user(&app, "m-staff", "matrix-pass-2", Role::Staff).await;
    let user = create_user(&app, "m-user", "matrix-pass-3", Role::User).await;
    let target = create_user(&app, "m-target", "matrix-pass-4", Role::User).await;
    let tokens = [
        ("anonymous", None),
        ("user", Some(token_for(&app, &user))),
        ("staff", Some(token_for(&app, &staff))),
        ("admin", Some(token_for(&app, &admin))),
    ];
    let mut counter = 0;
    for (who, token) in &tokens {
        counter += 1;
        let requests = [
            (
                "list",
                Request::get("/api/auth/users/")
                    .body(Body::empty())
                    .expect("r"),
                StatusCode::OK,
            ),
            (
                "create",
                json_request(
                    "POST",
                    "/api/auth/users/create/",
                    json!({"username": format!("new{counter}"), "phone_number": format!("+9190000000{counter:02}"), "role": "staff", "password": ""}),
                ),
                StatusCode::CREATED,
            ),
            (
                "role",
                json_request(
                    "PATCH",
                    &format!("/api/auth/users/{}/role/", target.id),
                    json!({"role": "staff"}),
                ),
                StatusCode::OK,
            ),
            (
                "delete",
                Request::delete(format!("/api/auth/users/{}/", target.id))
                    .body(Body::empty())
                    .expect("r"),
                StatusCode::OK,
            ),
        ];
        for (route, request, admin_status) in requests {
            let request = match token {
                Some(t) => authed(request, t),
                None => request,
            };
            let r = app.request(request).await;
            let expected = match *who {
                "anonymous" => StatusCode::UNAUTHORIZED,
                "admin" => admin_status,
                _ => StatusCode::FORBIDDEN,
            };
            assert_eq!(r.status, expected, "{who} {route}: {}", r.text());
            if expected == StatusCode::FORBIDDEN {
                assert_eq!(
                    r.json(),
                    json!({"detail": "You do not have permission to perform this action."})
                );
            }
        }
    }
}

#[tokio::test]
async fn listing_filters_and_order() {
    for backend in backends() {
        let app = TestApp::new(backend).await;
        let admin = create_user(&app, "lister", "lister-pass-1", Role::Admin).await;
        let token = token_for(&app, &admin);
        for (name, phone, role) in [
            ("Kiran_Staff", "+919800000001", "staff"),
            ("meena", "+919800000002", "user"),
            ("50%off", "+919811111111", "user"),
        ] {
            let r = app
                .request(authed(
                    json_request(
                        "POST",
                        "/api/auth/users/create/",
                        json!({"username": name, "phone_number": phone, "role": role, "password": "created-pass-77"}),
                    ),
                    &token,
                ))
                .await;
            assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
            let body = r.json();
            assert_eq!(body["success"], true);
            assert_eq!(body["message"], "User created successfully");
            assert_user_shape(&body["user"]);
        }
        let names = |r: crate::helpers::TestResponse| -> Vec<String> {
            r.json()
                .as_array()
                .expect("bare array")
                .iter()
                .map(|u| u["username"].as_str().expect("username").to_string())
                .collect()
        };
        let all = names(get_as(&app, "/api/auth/users/", &token).await);
        assert_eq!(
            all,
            ["50%off", "meena", "Kiran_Staff", "lister"],
            "newest first"
        );
        assert_eq!(
            names(get_as(&app, "/api/auth/users/?role=staff", &token).await),
            ["Kiran_Staff"]
        );
        assert!(names(get_as(&app, "/api/auth/users/?role=boss", &token).await).is_empty());
        assert_eq!(
            names(get_as(&app, "/api/auth/users/?search=kiran", &token).await),
            ["Kiran_Staff"]
        );
        assert_eq!(
            names(get_as(&app, "/api/auth/users/?search=98000", &token).await),
            ["meena", "Kiran_Staff"]
        );
        assert_eq!(
            names(get_as(&app, "/api/auth/users/?search=%25", &token).await),
            ["50%off"],
            "% is literal"
        );
        assert_eq!(
            names(get_as(&app, "/api/auth/users/?search=_", &token).await),
            ["Kiran_Staff"],
            "_ is literal"
        );
        assert_eq!(
            names(get_as(&app, "/api/auth/users/?role=user&search=MEE", &token).await),
            ["meena"]
        );
        // The staff user created with a password can log in with it.
        assert_eq!(
            login(&app, "Kiran_Staff", "created-pass-77").await.status,
            StatusCode::OK
        );
    }
}

#[tokio::test]
async fn create_user_validation() {
    let app = TestApp::new(Backend::Sqlite).await;
    let admin = create_user(&app, "creator", "creator-pass-1", Role::Admin).await;
    let token = token_for(&app, &admin);
    let create = |body: Value| {
        authed(
            json_request("POST", "/api/auth/users/create/", body),
            &token,
        )
    };

    let r = app.request(create(json!({}))).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        r.json(),
        json!({"username": ["This field is required."], "phone_number": ["This field is required."]})
    );
    let r = app
        .request(create(
            json!({"username": "creator", "phone_number": "+919999999999", "role": "boss"}),
        ))
        .await;
    assert_eq!(
        r.json(),
        json!({"username": ["Username already exists"], "role": ["\"boss\" is not a valid choice."]})
    );
    let ok = app
        .request(create(json!({"username": "fresh", "phone_number": "+919999999999", "role": "staff", "password": ""})))
        .await;
    assert_eq!(ok.status, StatusCode::CREATED);
    assert_eq!(ok.json()["user"]["role"], "staff");
    let dup_phone = app
        .request(create(
            json!({"username": "fresh2", "phone_number": "+919999999999"}),
        ))
        .await;
    assert_eq!(
        dup_phone.json(),
        json!({"phone_number": ["Phone number already exists"]})
    );
    let long = app
        .request(create(
            json!({"username": "x".repeat(151), "phone_number": "1".repeat(16)}),
        ))
        .await;
    assert_eq!(long.status, StatusCode::BAD_REQUEST);
    assert!(long.json()["username"].is_array() && long.json()["phone_number"].is_array());
    let weak = app
        .request(create(json!({"username": "weakling", "phone_number": "+918888888888", "password": "12345678"})))
        .await;
    assert_eq!(weak.status, StatusCode::BAD_REQUEST);
    assert!(weak.json()["password"].is_array());
    let firebase = app
        .request(create(
            json!({"username": "fb1", "phone_number": "+917777777771", "firebase_uid": "uid-1"}),
        ))
        .await;
    assert_eq!(firebase.status, StatusCode::CREATED);
    let firebase_dup = app
        .request(create(
            json!({"username": "fb2", "phone_number": "+917777777772", "firebase_uid": "uid-1"}),
        ))
        .await;
    assert_eq!(firebase_dup.status, StatusCode::BAD_REQUEST, "never a 500");
    // Default role is user; nobody knows the random password.
    let r = app
        .request(create(
            json!({"username": "norole", "phone_number": "+916666666666"}),
        ))
        .await;
    assert_eq!(r.json()["user"]["role"], "user");
}

#[tokio::test]
async fn role_and_delete_errors() {
    let app = TestApp::new(Backend::Sqlite).await;
    let admin = create_user(&app, "solo", "solo-admin-pass", Role::Admin).await;
    let user = create_user(&app, "plain", "plain-user-pass", Role::User).await;
    let token = token_for(&app, &admin);
    let patch = |path: String, body: Value| authed(json_request("PATCH", &path, body), &token);

    let r = app
        .request(patch(
            "/api/auth/users/999999/role/".into(),
            json!({"role": "staff"}),
        ))
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert_eq!(
        r.json(),
        json!({"success": false, "message": "User not found"})
    );
    let r = app
        .request(patch(
            "/api/auth/users/abc/role/".into(),
            json!({"role": "staff"}),
        ))
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    let r = app
        .request(patch(
            format!("/api/auth/users/{}/role/", user.id),
            json!({"role": "x"}),
        ))
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert_eq!(r.json(), json!({"role": ["\"x\" is not a valid choice."]}));
    let r = app
        .request(patch(
            format!("/api/auth/users/{}/role/", user.id),
            json!({}),
        ))
        .await;
    assert_eq!(r.json(), json!({"role": ["This field is required."]}));
    // The last admin cannot demote themselves.
    let r = app
        .request(patch(
            format!("/api/auth/users/{}/role/", admin.id),
            json!({"role": "user"}),
        ))
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert_eq!(r.json()["success"], false);

    let delete = |id: String| {
        authed(
            Request::delete(format!("/api/auth/users/{id}/"))
                .body(Body::empty())
                .expect("request"),
            &token,
        )
    };
    let r = app.request(delete(admin.id.to_string())).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        r.json(),
        json!({"success": false, "message": "You cannot delete your own account"})
    );
    let r = app.request(delete("424242".into())).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert_eq!(
        r.json(),
        json!({"success": false, "message": "User not found"})
    );
    let r = app.request(delete(user.id.to_string())).await;
    assert_eq!(r.status, StatusCode::OK);
    let again = app.request(delete(user.id.to_string())).await;
    assert_eq!(again.status, StatusCode::NOT_FOUND, "already deleted");
    let listed = get_as(&app, "/api/auth/users/", &token).await.json();
    assert!(
        listed
            .as_array()
            .expect("array")
            .iter()
            .all(|u| u["username"] != "plain")
    );
    let get = app
        .request(authed(
            Request::get(format!("/api/auth/users/{}/", user.id))
                .body(Body::empty())
                .expect("r"),
            &token,
        ))
        .await;
    assert_eq!(get.status, StatusCode::METHOD_NOT_ALLOWED);
}
