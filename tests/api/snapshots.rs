//! Response-body snapshots (insta): one or more endpoints per feature area, the house style for new
//! endpoints. Every test runs on each backend in `backends()` against one shared snapshot per endpoint,
//! so ids, timestamps, tokens and counters are redacted. The redactions check what they hide (an id is
//! a positive integer, a catalog timestamp is IST with microseconds, a token is a JWT), so a redacted
//! field still fails when its format breaks.
//!
//! Bodies are snapshotted in wire order (see [`Wire`]), not re-sorted, so a field-order change shows.
//! Update after an intended change: `INSTA_UPDATE=always cargo test --test api snapshots`, then review
//! `git diff tests/api/snapshots/`. A mismatch fails the test; a missing snapshot fails too (locally a
//! `.snap.new` is written next to it for review, never committed; with `CI` set nothing is written).

use axum::{
    body::Body,
    http::{Request, StatusCode},
};
use electioncart::auth::model::{Role, User};
use insta::internals::{Content, ContentPath, Redaction};
use serde::{
    Deserialize, Deserializer, Serialize, Serializer,
    de::{MapAccess, SeqAccess, Visitor},
    ser::{SerializeMap, SerializeSeq},
};
use serde_json::json;

use crate::helpers::{
    Backend, TestApp, TestResponse, authed, backends, create_user, from_peer, json_request,
    random_ip, token_for,
};

// ---- wire-order JSON -------------------------------------------------------------------------------

/// A JSON body as sent: object keys keep their wire order (`serde_json::Value` would sort them).
#[derive(Debug)]
enum Wire {
    Null,
    Bool(bool),
    Number(serde_json::Number),
    String(String),
    Array(Vec<Wire>),
    Object(Vec<(String, Wire)>),
}

impl Serialize for Wire {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Wire::Null => s.serialize_unit(),
            Wire::Bool(b) => s.serialize_bool(*b),
            Wire::Number(n) => n.serialize(s),
            Wire::String(v) => s.serialize_str(v),
            Wire::Array(items) => {
                let mut seq = s.serialize_seq(Some(items.len()))?;
                for item in items {
                    seq.serialize_element(item)?;
                }
                seq.end()
            }
            Wire::Object(fields) => {
                let mut map = s.serialize_map(Some(fields.len()))?;
                for (k, v) in fields {
                    map.serialize_entry(k, v)?;
                }
                map.end()
            }
        }
    }
}

impl<'de> Deserialize<'de> for Wire {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Wire;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("JSON")
            }
            fn visit_unit<E>(self) -> Result<Wire, E> {
                Ok(Wire::Null)
            }
            fn visit_bool<E>(self, v: bool) -> Result<Wire, E> {
                Ok(Wire::Bool(v))
            }
            fn visit_i64<E>(self, v: i64) -> Result<Wire, E> {
                Ok(Wire::Number(v.into()))
            }
            fn visit_u64<E>(self, v: u64) -> Result<Wire, E> {
                Ok(Wire::Number(v.into()))
            }
            fn visit_f64<E: serde::de::Error>(self, v: f64) -> Result<Wire, E> {
                serde_json::Number::from_f64(v)
                    .map(Wire::Number)
                    .ok_or_else(|| E::custom("non-finite number"))
            }
            fn visit_str<E>(self, v: &str) -> Result<Wire, E> {
                Ok(Wire::String(v.to_string()))
            }
            fn visit_string<E>(self, v: String) -> Result<Wire, E> {
                Ok(Wire::String(v))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Wire, A::Error> {
                let mut items = Vec::new();
                while let Some(item) = seq.next_element()? {
                    items.push(item);
                }
                Ok(Wire::Array(items))
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Wire, A::Error> {
                let mut fields = Vec::new();
                while let Some(entry) = map.next_entry()? {
                    fields.push(entry);
                }
                Ok(Wire::Object(fields))
            }
        }
        d.deserialize_any(V)
    }
}

/// The response body in wire order, after checking the status and that it is JSON.
#[track_caller]
fn body(backend: Backend, r: &TestResponse, status: StatusCode) -> Wire {
    assert_eq!(r.status, status, "{backend:?}: {}", r.text());
    assert_eq!(
        r.header("content-type"),
        Some("application/json"),
        "{backend:?}"
    );
    serde_json::from_slice(&r.body)
        .unwrap_or_else(|e| panic!("{backend:?}: body is not JSON ({e}): {}", r.text()))
}

// ---- checking redactions ---------------------------------------------------------------------------

/// A database id: a positive integer.
fn id() -> Redaction {
    insta::dynamic_redaction(|value: Content, path: ContentPath<'_>| {
        assert!(
            value.as_i64().is_some_and(|v| v > 0),
            "{path}: not an id: {value:?}"
        );
        "[id]"
    })
}

/// A serializer timestamp: `2026-11-25T18:03:49.897169+05:30` (TIME_ZONE Asia/Kolkata, microseconds).
fn ist() -> Redaction {
    timestamp("+05:30")
}

/// The health check's timestamp: UTC, `+00:00`.
fn utc() -> Redaction {
    timestamp("+00:00")
}

fn timestamp(offset: &'static str) -> Redaction {
    insta::dynamic_redaction(move |value: Content, path: ContentPath<'_>| {
        let ts = value.as_str().unwrap_or_default();
        let shaped = ts.len() == 32
            && ts.ends_with(offset)
            && &ts[10..11] == "T"
            && &ts[19..20] == "."
            && ts[20..26].chars().all(|c| c.is_ascii_digit());
        assert!(shaped, "{path}: not a {offset} timestamp: {value:?}");
        "[timestamp]"
    })
}

/// A token: three base64url segments.
fn jwt() -> Redaction {
    insta::dynamic_redaction(|value: Content, path: ContentPath<'_>| {
        let token = value.as_str().unwrap_or_default();
        let parts: Vec<&str> = token.split('.').collect();
        assert!(
            parts.len() == 3
                && parts.iter().all(|p| {
                    !p.is_empty()
                        && p.bytes()
                            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
                }),
            "{path}: not a JWT: {value:?}"
        );
        "[token]"
    })
}

/// A counter that depends on what ran before: a non-negative integer.
fn counter() -> Redaction {
    insta::dynamic_redaction(|value: Content, path: ContentPath<'_>| {
        assert!(value.as_u64().is_some(), "{path}: not a count: {value:?}");
        "[count]"
    })
}

/// Asserts a body against the shared snapshot `tests/api/snapshots/<name>.snap`, whichever backend.
macro_rules! snapshot {
    ($backend:expr, $name:expr, $value:expr $(, { $($k:expr => $v:expr),* $(,)? })?) => {{
        eprintln!("snapshot {} on {:?}", $name, $backend);
        insta::with_settings!({ prepend_module_to_snapshot => false, omit_expression => true }, {
            insta::assert_json_snapshot!($name, $value $(, { $($k => $v),* })?);
        });
    }};
}

// ---- fixtures --------------------------------------------------------------------------------------

const CUSTOMER: (&str, &str) = ("snap-customer", "Snap-Customer#2026");

async fn admin(app: &TestApp) -> (User, String) {
    let user = create_user(app, "snap-admin", "Snap-Admin#2026", Role::Admin).await;
    let token = token_for(app, &user);
    (user, token)
}

/// An app with an admin and the demo catalog (3 packages, 4 campaigns) created by that admin.
async fn demo_app(backend: Backend) -> (TestApp, String) {
    let app = TestApp::new(backend).await;
    let (user, token) = admin(&app).await;
    let created = electioncart::catalog::demo::seed(&app.state, user.id)
        .await
        .expect("seed demo catalog");
    assert_eq!(created, 7, "{backend:?}");
    (app, token)
}

fn get(path: &str, token: &str) -> Request<Body> {
    authed(
        Request::get(path).body(Body::empty()).expect("request"),
        token,
    )
}

async fn login(app: &TestApp, body: serde_json::Value) -> TestResponse {
    app.request(from_peer(
        json_request("POST", "/api/auth/login/", body),
        &random_ip(),
    ))
    .await
}

// ---- health ----------------------------------------------------------------------------------------

#[tokio::test]
async fn health() {
    for backend in backends() {
        let app = TestApp::with_env(backend, &[("MEMORY_WARNING_MB", "1000000")]).await;
        let r = app.get("/health/").await;
        snapshot!(backend, "health", body(backend, &r, StatusCode::OK), {
            ".timestamp" => utc(),
            ".memory_mb" => "[memory_mb]",
            ".memory_warning" => "[memory_warning]",
            ".cache.hits" => counter(),
            ".cache.misses" => counter(),
            ".cache.errors" => counter(),
            ".cache.entries" => counter(),
            ".cache.l1_hits" => counter(),
            ".cache.coalesced" => counter(),
            ".cache.bypassed" => counter(),
            ".cache.invalidations" => counter(),
            ".cache.pending_invalidations" => counter(),
        });
    }
}

// ---- auth ------------------------------------------------------------------------------------------

#[tokio::test]
async fn auth_login() {
    for backend in backends() {
        let app = TestApp::new(backend).await;
        create_user(&app, CUSTOMER.0, CUSTOMER.1, Role::User).await;

        let r = login(
            &app,
            json!({"username": CUSTOMER.0, "password": CUSTOMER.1}),
        )
        .await;
        snapshot!(backend, "auth_login_ok", body(backend, &r, StatusCode::OK), {
            ".token" => jwt(),
            ".user.id" => id(),
            ".user.created_at" => ist(),
        });

        let r = login(&app, json!({"username": CUSTOMER.0})).await;
        snapshot!(
            backend,
            "auth_login_400_missing_fields",
            body(backend, &r, StatusCode::BAD_REQUEST)
        );

        let r = login(
            &app,
            json!({"username": CUSTOMER.0, "password": "not-the-password"}),
        )
        .await;
        snapshot!(
            backend,
            "auth_login_401_bad_credentials",
            body(backend, &r, StatusCode::UNAUTHORIZED)
        );
    }
}

#[tokio::test]
async fn auth_me() {
    for backend in backends() {
        let app = TestApp::new(backend).await;
        let user = create_user(&app, CUSTOMER.0, CUSTOMER.1, Role::User).await;
        let r = app
            .request(get("/api/auth/me/", &token_for(&app, &user)))
            .await;
        snapshot!(backend, "auth_me", body(backend, &r, StatusCode::OK), {
            ".id" => id(),
            ".created_at" => ist(),
        });
    }
}

// ---- public catalog --------------------------------------------------------------------------------

#[tokio::test]
async fn packages_list() {
    for backend in backends() {
        let (app, _) = demo_app(backend).await;
        let r = app.get("/api/packages/").await;
        snapshot!(backend, "packages_list", body(backend, &r, StatusCode::OK), {
            ".results[].id" => id(),
            ".results[].items[].id" => id(),
            ".results[].created_by" => id(),
            ".results[].created_at" => ist(),
            ".results[].updated_at" => ist(),
        });
    }
}

#[tokio::test]
async fn package_detail() {
    for backend in backends() {
        let (app, _) = demo_app(backend).await;
        let list = app.get("/api/packages/").await.json();
        let id_of = |name: &str| {
            list["results"]
                .as_array()
                .and_then(|all| all.iter().find(|p| p["name"] == name))
                .and_then(|p| p["id"].as_i64())
                .unwrap_or_else(|| panic!("{backend:?}: {name} not listed: {list}"))
        };
        let pk = id_of("Election Hungama");
        let r = app.get(&format!("/api/packages/{pk}/")).await;
        snapshot!(backend, "package_detail", body(backend, &r, StatusCode::OK), {
            ".id" => id(),
            ".items[].id" => id(),
            ".created_by" => id(),
            ".created_at" => ist(),
            ".updated_at" => ist(),
        });
    }
}

// ---- admin -----------------------------------------------------------------------------------------

#[tokio::test]
async fn admin_products_list() {
    for backend in backends() {
        let (app, token) = demo_app(backend).await;
        let r = app.request(get("/api/admin/products/", &token)).await;
        snapshot!(backend, "admin_products_list", body(backend, &r, StatusCode::OK), {
            "[].id" => id(),
            "[].created_at" => ist(),
            "[].updated_at" => ist(),
        });
    }
}

#[tokio::test]
async fn admin_package_create_validation_error() {
    for backend in backends() {
        let app = TestApp::new(backend).await;
        let (_, token) = admin(&app).await;
        let r = app
            .request(authed(
                json_request("POST", "/api/admin/products/package/", json!({})),
                &token,
            ))
            .await;
        snapshot!(
            backend,
            "admin_products_package_400_empty",
            body(backend, &r, StatusCode::BAD_REQUEST)
        );
    }
}

#[tokio::test]
async fn admin_cache_status() {
    for backend in backends() {
        let (app, token) = demo_app(backend).await;
        // Something in the cache, so the counters are live values rather than a fresh start.
        assert_eq!(app.get("/api/packages/").await.status, StatusCode::OK);
        let r = app.request(get("/api/admin/cache/status/", &token)).await;
        snapshot!(backend, "admin_cache_status", body(backend, &r, StatusCode::OK), {
            ".hits" => counter(),
            ".misses" => counter(),
            ".errors" => counter(),
            ".entries" => counter(),
            ".l1_hits" => counter(),
            ".coalesced" => counter(),
            ".bypassed" => counter(),
            ".invalidations" => counter(),
            ".pending_invalidations" => counter(),
        });
    }
}

// ---- errors ----------------------------------------------------------------------------------------

#[tokio::test]
async fn api_not_found() {
    for backend in backends() {
        let app = TestApp::new(backend).await;
        let r = app.get("/api/x/").await;
        snapshot!(
            backend,
            "api_not_found",
            body(backend, &r, StatusCode::NOT_FOUND)
        );
    }
}
