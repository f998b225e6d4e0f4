//! Campaign resources through the router on SQLite and PostgreSQL (issue 10, first part): the
//! dynamic form of a paid order, an all-or-nothing submission (text, number, PNG, PDF) that moves
//! the order to `ready_for_processing` and notifies every admin once, hostile files refused with
//! nothing stored, and the secure-file route's access rule.

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
    orders::{create, scalar, shopper},
};

const PDF: &[u8] =
    b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n";

async fn field(app: &TestApp, admin: &catalog::Admin, product: i64, body: Value) -> i64 {
    let r = app
        .request(authed(
            json_request(
                "POST",
                &format!("/api/admin/products/package/{product}/resource-fields/"),
                body,
            ),
            &admin.token,
        ))
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    r.json()["field"]["id"].as_i64().expect("field id")
}

async fn submit(app: &TestApp, token: &str, order: i64, parts: &[Part<'_>]) -> TestResponse {
    let path = format!("/api/orders/{order}/submit-resources/");
    app.request(authed(multipart_request("POST", &path, parts), token))
        .await
}

fn file<'a>(field: &'a str, filename: &'a str, data: &'a [u8]) -> Part<'a> {
    Part::File {
        field,
        filename,
        content_type: "application/octet-stream",
        data,
    }
}

/// Files in the local store's `resources` area (`None` on S3, which is checked through the routes).
fn stored_files(app: &TestApp) -> Option<usize> {
    match app.state.config.storage {
        electioncart::config::StorageBackend::Local => Some(
            std::fs::read_dir(app.state.config.media_root.join("resources"))
                .map_or(0, |d| d.count()),
        ),
        electioncart::config::StorageBackend::S3(_) => None,
    }
}

/// The storage settings each upload test runs with: local disk, and S3 when `TEST_S3_ENDPOINT`
/// points at an S3-compatible server (CI starts one; elsewhere the S3 runs say they are skipped).
pub(crate) async fn storages(media_root: &str) -> Vec<Vec<(String, String)>> {
    let mut out = vec![vec![("MEDIA_ROOT".to_string(), media_root.to_string())]];
    match std::env::var("TEST_S3_ENDPOINT")
        .ok()
        .filter(|v| !v.is_empty())
    {
        Some(endpoint) => {
            let bucket = format!(
                "ec-test-{}",
                &uuid::Uuid::new_v4().simple().to_string()[..12]
            );
            let settings = electioncart::uploads::S3Settings {
                endpoint: endpoint.clone(),
                bucket: bucket.clone(),
                region: "us-east-1".into(),
                access_key_id: "testing".into(),
                secret_access_key: "testing".into(),
                path_style: true,
            };
            electioncart::uploads::S3Storage::new(settings)
                .create_bucket()
                .await
                .expect("create the test bucket");
            out.push(vec![
                ("STORAGE_BACKEND".into(), "s3".into()),
                ("S3_ENDPOINT".into(), endpoint),
                ("S3_BUCKET".into(), bucket),
                ("S3_ACCESS_KEY_ID".into(), "testing".into()),
                ("S3_SECRET_ACCESS_KEY".into(), "testing".into()),
            ]);
        }
        None => eprintln!("S3 runs skipped: TEST_S3_ENDPOINT is not set"),
    }
    out
}

/// On local disk: exactly `n` files in the resources area.
fn assert_stored(app: &TestApp, n: usize, why: &str) {
    if let Some(found) = stored_files(app) {
        assert_eq!(found, n, "{why}");
    }
}

async fn app_with(
    backend: crate::helpers::Backend,
    storage: &[(String, String)],
    extra: &[(&str, &str)],
) -> TestApp {
    let mut vars: Vec<(&str, &str)> = storage
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    vars.push(("RAZORPAY_MODE", "fake"));
    vars.extend_from_slice(extra);
    TestApp::with_env(backend, &vars).await
}

#[tokio::test]
async fn the_resource_hand_over_journey() {
    for backend in backends() {
        let media = tempfile::tempdir().expect("media dir");
        for storage in storages(&media.path().to_string_lossy()).await {
            let app = app_with(backend, &storage, &[]).await;
            let admin = catalog::admin(&app).await;
            let (_, token) = shopper(&app, "resource-user").await;
            let (_, other) = shopper(&app, "resource-other").await;
            let staff = create_user(&app, "resource-staff", "staff-pass-2026!", Role::Staff).await;
            let staff_token = token_for(&app, &staff);
            let p = package(&app, &admin, "Poster Pack", "1200.00").await;
            let name = field(
                &app,
                &admin,
                p,
                json!({"field_name": "Candidate Name", "field_type": "text", "max_length": 20}),
            )
            .await;
            let ward = field(
            &app,
            &admin,
            p,
            json!({"field_name": "Ward", "field_type": "number", "min_value": 1, "max_value": 99}),
        )
        .await;
            let photo = field(
                &app,
                &admin,
                p,
                json!({"field_name": "Photo", "field_type": "image"}),
            )
            .await;
            let manifesto = field(
                &app,
                &admin,
                p,
                json!({"field_name": "Manifesto", "field_type": "document"}),
            )
            .await;
            let notes = field(
                &app,
                &admin,
                p,
                json!({"field_name": "Notes", "field_type": "text", "is_required": false}),
            )
            .await;
            add(&app, &token, json!({"item_type": "package", "item_id": p})).await;
            let created = create(&app, &token).await.json();
            let order = created["order"]["id"].as_i64().expect("order");
            let item = created["order"]["items"][0]["id"].as_i64().expect("item");
            let item_s = item.to_string();

            // Before payment: refused.
            let r = submit(&app, &token, order, &[Part::Text("order_item_id", &item_s)]).await;
            assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.text());
            assert_eq!(
                r.json(),
                json!({"error": "Cannot upload resources for order with status: pending_payment"})
            );
            let rzp = created["razorpay_order_id"]
                .as_str()
                .expect("rzp")
                .to_string();
            let sig = checkout_signature(FAKE_KEY_SECRET, &rzp, "pay_res1");
            let r = app.request(authed(json_request("POST", &format!("/api/orders/{order}/payment-success/"),
            json!({"razorpay_order_id": rzp, "razorpay_payment_id": "pay_res1", "razorpay_signature": sig})), &token)).await;
            assert_eq!(r.status, StatusCode::OK, "{}", r.text());

            // The form, nothing submitted yet.
            let form = call(
                &app,
                "GET",
                &format!("/api/orders/{order}/resource-fields/"),
                &token,
            )
            .await;
            assert_eq!(form.status, StatusCode::OK, "{}", form.text());
            let form = form.json();
            assert_eq!(form["status"], "pending_resources");
            let fields = form["items"][0]["fields"].as_array().expect("fields");
            assert_eq!(fields.len(), 5);
            assert_eq!(fields[0]["field_name"], "Candidate Name");
            assert_eq!(
                (fields[0]["submitted"].clone(), fields[0]["value"].clone()),
                (json!(false), Value::Null)
            );
            assert_eq!(
                call(
                    &app,
                    "GET",
                    &format!("/api/orders/{order}/resource-fields/"),
                    &other
                )
                .await
                .json(),
                json!({"error": "Order not found"})
            );

            // JSON is not a form; the item must be given and belong to the order.
            let r = app
                .request(authed(
                    json_request(
                        "POST",
                        &format!("/api/orders/{order}/submit-resources/"),
                        json!({"order_item_id": item}),
                    ),
                    &token,
                ))
                .await;
            assert_eq!(r.status, StatusCode::UNSUPPORTED_MEDIA_TYPE, "{}", r.text());
            assert_eq!(
                submit(&app, &token, order, &[]).await.json(),
                json!({"error": "order_item_id is required"})
            );
            let r = submit(
                &app,
                &token,
                order,
                &[Part::Text("order_item_id", "999999")],
            )
            .await;
            assert_eq!(
                r.json(),
                json!({"error": "Order item not found or does not belong to this order"})
            );

            // All-or-nothing: every error reported, nothing stored.
            let html = b"<!DOCTYPE html><script>alert(1)</script>";
            let php = b"<?php system($_GET['c']); ?>";
            let keys = [name, ward, photo, manifesto].map(|id| format!("field_{id}"));
            let r = submit(
                &app,
                &token,
                order,
                &[
                    Part::Text("order_item_id", &item_s),
                    Part::Text(&keys[0], "A name far longer than twenty characters"),
                    Part::Text(&keys[1], "3.5"),
                    file(&keys[2], "photo.png", html),
                    file(&keys[3], "manifesto.docx", php),
                ],
            )
            .await;
            assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.text());
            let errors = r.json();
            assert_eq!(errors["success"], false);
            assert_eq!(
                errors["errors"][&keys[0]],
                "Candidate Name exceeds maximum length of 20"
            );
            assert_eq!(errors["errors"][&keys[1]], "Ward must be a valid number");
            assert!(
                errors["errors"][&keys[2]].is_string() && errors["errors"][&keys[3]].is_string(),
                "{errors}"
            );
            assert_eq!(
                scalar(&app, "SELECT COUNT(*) FROM resource_submissions").await,
                0
            );
            assert_stored(&app, 0, "nothing stored");

            // A real PNG and PDF under any names: accepted under generated names.
            let image = png(40, 30);
            let r = submit(
                &app,
                &token,
                order,
                &[
                    Part::Text("order_item_id", &item_s),
                    Part::Text(&keys[0], "Asha Rao"),
                    Part::Text(&keys[1], "42"),
                    file(&keys[2], "../x.exe", &image),
                    file(&keys[3], "manifesto.bin", PDF),
                ],
            )
            .await;
            assert_eq!(r.status, StatusCode::CREATED, "{backend:?}: {}", r.text());
            let done = r.json();
            assert_eq!(done["submissions_count"], 4);
            assert_eq!(done["order_status"], "ready_for_processing");
            assert_eq!(done["all_resources_uploaded"], true);
            assert_eq!(done["pending_items"], json!([]));
            assert_stored(&app, 2, "");
            assert_eq!(
                scalar(
                    &app,
                    "SELECT COUNT(*) FROM notifications WHERE notification_type = 'new_order'"
                )
                .await,
                1,
                "one per admin"
            );
            let moved = scalar(&app, &format!("SELECT COUNT(*) FROM order_status_history WHERE order_id = {order} AND new_status = 'ready_for_processing'")).await;
            assert_eq!(moved, 1);
            let _ = notes;

            // The values, with the file behind the secure-file route.
            let form = call(
                &app,
                "GET",
                &format!("/api/orders/{order}/resource-fields/"),
                &token,
            )
            .await
            .json();
            let fields = form["items"][0]["fields"]
                .as_array()
                .expect("fields")
                .clone();
            assert_eq!(fields[0]["value"], "Asha Rao");
            assert_eq!(fields[1]["value"], 42);
            let url = fields[2]["value"].as_str().expect("file url").to_string();
            assert!(url.starts_with("/api/secure-files/resources/"), "{url}");
            let r = app.get(&format!("{url}?token={token}")).await;
            assert_eq!(r.status, StatusCode::OK);
            assert_eq!(r.body.as_ref(), image.as_slice());
            assert_eq!(r.header("content-type"), Some("image/png"));
            assert_eq!(r.header("x-content-type-options"), Some("nosniff"));
            assert_eq!(app.get(&url).await.status, StatusCode::UNAUTHORIZED);
            assert_eq!(
                app.get(&format!("{url}?token={other}")).await.status,
                StatusCode::NOT_FOUND
            );
            assert_eq!(
                app.get(&format!("{url}?token={staff_token}")).await.status,
                StatusCode::NOT_FOUND,
                "staff not assigned"
            );
            assert_eq!(
                app.get(&format!("{url}?token={}", admin.token))
                    .await
                    .status,
                StatusCode::OK
            );
            let doc = fields[3]["value"].as_str().expect("doc url").to_string();
            let r = app.get(&format!("{doc}?token={token}")).await;
            assert_eq!(r.header("content-type"), Some("application/pdf"));
            assert!(
                r.header("content-disposition")
                    .is_some_and(|d| d.starts_with("attachment"))
            );

            // The admin's order detail shows the submission, its file behind the same route.
            let detail = call(
                &app,
                "GET",
                &format!("/api/admin/orders/{order}/"),
                &admin.token,
            )
            .await;
            assert_eq!(detail.status, StatusCode::OK, "{}", detail.text());
            let detail = detail.json();
            let group = &detail["resources"][0];
            assert_eq!(group["order_item_id"], item);
            assert_eq!(group["item_name"], "Poster Pack");
            let dynamic = group["dynamic"].as_array().expect("dynamic");
            let photo_entry = dynamic
                .iter()
                .find(|d| d["field_name"] == "Photo")
                .expect("photo");
            assert_eq!(photo_entry["field_type"], "image");
            assert_eq!(photo_entry["value"], url.as_str());
            assert!(
                photo_entry["file_name"]
                    .as_str()
                    .is_some_and(|n| n.ends_with(".png"))
            );
            let text_entry = dynamic
                .iter()
                .find(|d| d["field_name"] == "Candidate Name")
                .expect("text");
            assert_eq!(text_entry["value"], "Asha Rao");
            assert_eq!(
                detail["items"][0]["resources"]["dynamic"]
                    .as_array()
                    .map(Vec::len),
                Some(dynamic.len())
            );
            let r = app
                .get(&format!(
                    "{}?token={}",
                    photo_entry["value"].as_str().unwrap_or(""),
                    admin.token
                ))
                .await;
            assert_eq!(r.status, StatusCode::OK);
            assert_eq!(r.body.as_ref(), image.as_slice());

            // The read views.
            let status = call(
                &app,
                "GET",
                &format!("/api/orders/{order}/resource-status/"),
                &token,
            )
            .await
            .json();
            assert_eq!(
                (
                    status["progress_percentage"].clone(),
                    status["all_resources_uploaded"].clone()
                ),
                (json!(100), json!(true))
            );
            let view = call(
                &app,
                "GET",
                &format!("/api/orders/{order}/resources/"),
                &token,
            )
            .await
            .json();
            assert_eq!(view["items"][0]["resources_uploaded"], true);

            // A later submission replaces the values (and the file), and notifies nobody again (Q34).
            let r = submit(
                &app,
                &token,
                order,
                &[
                    Part::Text("order_item_id", &item_s),
                    Part::Text(&keys[0], "Asha R."),
                    Part::Text(&keys[1], "7"),
                    file(&keys[2], "p.png", &image),
                    file(&keys[3], "m.pdf", PDF),
                ],
            )
            .await;
            assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
            assert_eq!(
                scalar(&app, "SELECT COUNT(*) FROM resource_submissions").await,
                4
            );
            assert_stored(&app, 2, "replaced files are removed");
            assert_eq!(scalar(&app, "SELECT COUNT(*) FROM notifications").await, 1);
        }
    }
}

/// Pays a fresh order of `packages` (fake gateway) and returns (order id, item ids).
async fn paid_order(
    app: &TestApp,
    token: &str,
    packages: &[i64],
    payment: &str,
) -> (i64, Vec<i64>) {
    for p in packages {
        add(app, token, json!({"item_type": "package", "item_id": p})).await;
    }
    let created = create(app, token).await.json();
    let order = created["order"]["id"].as_i64().expect("order");
    let items = created["order"]["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|i| i["id"].as_i64().expect("id"))
        .collect();
    let rzp = created["razorpay_order_id"]
        .as_str()
        .expect("rzp")
        .to_string();
    let sig = checkout_signature(FAKE_KEY_SECRET, &rzp, payment);
    let r = app.request(authed(json_request("POST", &format!("/api/orders/{order}/payment-success/"),
        json!({"razorpay_order_id": rzp, "razorpay_payment_id": payment, "razorpay_signature": sig})), token)).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    (order, items)
}

#[tokio::test]
async fn the_legacy_form_one_per_item() {
    for backend in backends() {
        let media = tempfile::tempdir().expect("media dir");
        for storage in storages(&media.path().to_string_lossy()).await {
            let app = app_with(backend, &storage, &[]).await;
            let admin = catalog::admin(&app).await;
            let (_, token) = shopper(&app, "legacy-user").await;
            let (_, other) = shopper(&app, "legacy-other").await;
            let a = package(&app, &admin, "Legacy A", "500.00").await;
            let b = package(&app, &admin, "Legacy B", "600.00").await;
            let (order, items) = paid_order(&app, &token, &[a, b], "pay_legacy1").await;
            let path = format!("/api/orders/{order}/upload-resources/");
            let image = png(20, 20);
            let html = b"<html><script>alert(1)</script></html>";

            // Field errors in DRF's shape; nothing stored.
            let first = items[0].to_string();
            let r = app
                .request(authed(
                    multipart_request(
                        "POST",
                        &path,
                        &[
                            Part::Text("order_item_id", &first),
                            file("party_logo", "logo.png", html),
                            Part::Text("campaign_slogan", "Vote"),
                            Part::Text("preferred_date", "2026-02-30"),
                            Part::Text("whatsapp_number", "12345"),
                        ],
                    ),
                    &token,
                ))
                .await;
            assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.text());
            let errors = r.json();
            assert_eq!(errors["candidate_photo"], json!(["No file was submitted."]));
            assert_eq!(
                errors["party_logo"][0],
                "Upload a valid image. The file you uploaded was either not an image or a corrupted image."
            );
            assert_eq!(
                errors["whatsapp_number"],
                json!(["WhatsApp number must be at least 10 digits"])
            );
            assert!(errors["preferred_date"].is_array(), "{errors}");
            assert_stored(&app, 0, "");

            let upload = |item: String| {
                let image = image.clone();
                let path = path.clone();
                let token = token.clone();
                let app = &app;
                async move {
                    app.request(authed(
                        multipart_request(
                            "POST",
                            &path,
                            &[
                                Part::Text("order_item_id", &item),
                                file("candidate_photo", "me.exe", &image),
                                file("party_logo", "logo", &image),
                                Part::Text("campaign_slogan", "Vote for change"),
                                Part::Text("preferred_date", "2026-12-20"),
                                Part::Text("whatsapp_number", "+91 98765 43210"),
                            ],
                        ),
                        &token,
                    ))
                    .await
                }
            };
            let r = upload(first.clone()).await;
            assert_eq!(r.status, StatusCode::CREATED, "{backend:?}: {}", r.text());
            let body = r.json();
            assert_eq!(body["order_status"], "pending_resources");
            assert_eq!(body["all_resources_uploaded"], false);
            assert_eq!(body["pending_items"][0]["id"], items[1]);
            assert_eq!(body["pending_items"][0]["item_name"], "Legacy B");
            let photo_url = body["resource"]["candidate_photo"]
                .as_str()
                .expect("url")
                .to_string();
            assert_eq!(body["resource"]["preferred_date"], "2026-12-20");
            let again = upload(first.clone()).await;
            assert_eq!(
                again.json(),
                json!({"error": "Resources already uploaded for this order item"})
            );
            assert_eq!(again.status, StatusCode::BAD_REQUEST);
            let r = upload(items[1].to_string()).await;
            assert_eq!(
                r.json()["order_status"],
                "ready_for_processing",
                "{}",
                r.text()
            );
            assert_eq!(scalar(&app, "SELECT COUNT(*) FROM notifications").await, 1);
            assert_stored(&app, 4, "");

            // The files, per item and (the contract's route) the first item's.
            let r = app.get(&format!("{photo_url}?token={token}")).await;
            assert_eq!(
                (r.status, r.body.as_ref() == image.as_slice()),
                (StatusCode::OK, true)
            );
            let r = app
                .get(&format!(
                    "/api/secure-files/orders/{order}/party_logo/?token={token}"
                ))
                .await;
            assert_eq!(r.status, StatusCode::OK);
            assert_eq!(
                app.get(&format!(
                    "/api/secure-files/orders/{order}/party_logo/?token={other}"
                ))
                .await
                .status,
                StatusCode::NOT_FOUND
            );
            assert_eq!(
                app.get(&format!("/api/secure-files/orders/{order}/party_logo/"))
                    .await
                    .status,
                StatusCode::UNAUTHORIZED
            );
            assert_eq!(
                app.get(&format!(
                    "/api/secure-files/orders/{order}/nope/?token={token}"
                ))
                .await
                .status,
                StatusCode::NOT_FOUND
            );
            // The read view shows both forms.
            let view = call(
                &app,
                "GET",
                &format!("/api/orders/{order}/resources/"),
                &token,
            )
            .await
            .json();
            assert_eq!(
                view["items"][1]["resources"]["campaign_slogan"],
                "Vote for change"
            );
            let status = call(
                &app,
                "GET",
                &format!("/api/orders/{order}/resource-status/"),
                &token,
            )
            .await
            .json();
            assert!(
                status["uploaded_items"][0]["uploaded_at"]
                    .as_str()
                    .expect("at")
                    .ends_with('Z')
            );
        }
    }
}

/// A small PNG whose header claims 20000 × 20000 pixels (a decompression bomb: refused from the
/// header, never decoded).
fn png_bomb() -> Vec<u8> {
    let mut bytes = png(8, 8);
    bytes[16..20].copy_from_slice(&20_000u32.to_be_bytes());
    bytes[20..24].copy_from_slice(&20_000u32.to_be_bytes());
    let mut crc = flate2::Crc::new();
    crc.update(&bytes[12..29]);
    bytes[29..33].copy_from_slice(&crc.sum().to_be_bytes());
    bytes
}

#[tokio::test]
async fn hostile_files_are_refused_and_nothing_is_stored() {
    for backend in backends() {
        let media = tempfile::tempdir().expect("media dir");
        for storage in storages(&media.path().to_string_lossy()).await {
            let app = app_with(backend, &storage, &[("RATE_LIMIT_ENABLED", "false")]).await;
            let admin = catalog::admin(&app).await;
            let (_, token) = shopper(&app, "hostile-user").await;
            let p = package(&app, &admin, "Hostile", "900.00").await;
            let photo = field(
                &app,
                &admin,
                p,
                json!({"field_name": "Photo", "field_type": "image"}),
            )
            .await;
            let doc = field(
                &app,
                &admin,
                p,
                json!({"field_name": "Doc", "field_type": "document", "max_file_size_mb": 1}),
            )
            .await;
            let (order, items) = paid_order(&app, &token, &[p], "pay_hostile").await;
            let item = items[0].to_string();
            let (photo_key, doc_key) = (format!("field_{photo}"), format!("field_{doc}"));
            let pdf_over_cap = [PDF, &vec![b' '; 1024 * 1024]].concat();
            let mut zip = Vec::new();
            {
                let mut writer = zip::ZipWriter::new(std::io::Cursor::new(&mut zip));
                writer
                    .start_file("evil.sh", zip::write::SimpleFileOptions::default())
                    .expect("zip");
                std::io::Write::write_all(&mut writer, b"#!/bin/sh\nrm -rf /").expect("zip");
                writer.finish().expect("zip");
            }
            let elf = b"\x7fELF\x02\x01\x01\0\0\0\0\0\0\0\0\0".to_vec();
            let cases: Vec<(&str, &str, &str, Vec<u8>)> = vec![
                ("PDF named .png", &photo_key, "x.png", PDF.to_vec()),
                (
                    "HTML named .jpg",
                    &photo_key,
                    "x.jpg",
                    b"<html><body>hi</body></html>".to_vec(),
                ),
                (
                    "SVG named .jpg",
                    &photo_key,
                    "x.jpg",
                    b"<svg xmlns=\"http://www.w3.org/2000/svg\"/>".to_vec(),
                ),
                ("decompression bomb", &photo_key, "bomb.png", png_bomb()),
                (
                    "image cap + 1",
                    &photo_key,
                    "big.png",
                    vec![0x89; 5 * 1024 * 1024 + 1],
                ),
                ("ELF named .pdf", &doc_key, "x.pdf", elf),
                (
                    "PHP named .docx",
                    &doc_key,
                    "x.docx",
                    b"<?php echo 1; ?>".to_vec(),
                ),
                ("a ZIP that is not a DOCX", &doc_key, "x.docx", zip),
                ("document cap + 1", &doc_key, "big.pdf", pdf_over_cap),
            ];
            for (name, key, filename, data) in &cases {
                let other_key = if *key == photo_key {
                    &doc_key
                } else {
                    &photo_key
                };
                let image = png(4, 4);
                let other: Part<'_> = if other_key == &photo_key {
                    file(other_key, "ok.png", &image)
                } else {
                    file(other_key, "ok.pdf", PDF)
                };
                let r = submit(
                    &app,
                    &token,
                    order,
                    &[
                        Part::Text("order_item_id", &item),
                        file(key, filename, data),
                        other,
                    ],
                )
                .await;
                assert_eq!(
                    r.status,
                    StatusCode::BAD_REQUEST,
                    "{backend:?} {name}: {}",
                    r.text()
                );
                let body = r.json();
                assert!(body["errors"][key].is_string(), "{name}: {body}");
                assert!(
                    body["errors"].get(other_key).is_none(),
                    "{name}: the good file is fine: {body}"
                );
            }
            assert_eq!(
                scalar(&app, "SELECT COUNT(*) FROM resource_submissions").await,
                0
            );
            assert_stored(&app, 0, "nothing stored");
            let bomb = png_bomb();
            let r = submit(
                &app,
                &token,
                order,
                &[
                    Part::Text("order_item_id", &item),
                    file(&photo_key, "b.png", &bomb),
                    file(&doc_key, "d.pdf", PDF),
                ],
            )
            .await;
            assert_eq!(
                r.json()["errors"][&photo_key],
                "Image dimensions too large. Maximum pixels: 89,478,485"
            );
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn parallel_hand_overs_move_the_order_once() {
    for backend in backends() {
        let media = tempfile::tempdir().expect("media dir");
        for storage in storages(&media.path().to_string_lossy()).await {
            let app = app_with(backend, &storage, &[("RATE_LIMIT_ENABLED", "false")]).await;
            let admin = catalog::admin(&app).await;
            create_user(&app, "second-admin", "second-admin-pass", Role::Admin).await;
            let (_, token) = shopper(&app, "parallel-user").await;
            let packages = [
                package(&app, &admin, "Par A", "100.00").await,
                package(&app, &admin, "Par B", "100.00").await,
                package(&app, &admin, "Par C", "100.00").await,
            ];
            let (order, items) = paid_order(&app, &token, &packages, "pay_parallel").await;
            let mut tasks = Vec::new();
            for item in items.iter().chain(items.iter()) {
                let router = app.router.clone();
                let token = token.clone();
                let item = item.to_string();
                tasks.push(tokio::spawn(async move {
                    let path = format!("/api/orders/{order}/submit-resources/");
                    let request = json_request("POST", &path, json!({}));
                    let (parts, _) = request.into_parts();
                    let mut request = axum::http::Request::from_parts(
                        parts,
                        axum::body::Body::from(format!("order_item_id={item}")),
                    );
                    request.headers_mut().insert(
                        "content-type",
                        "application/x-www-form-urlencoded".parse().expect("ct"),
                    );
                    crate::helpers::send(&router, authed(request, &token))
                        .await
                        .status
                }));
            }
            for task in tasks {
                assert_eq!(
                    task.await.expect("task"),
                    StatusCode::CREATED,
                    "{backend:?}"
                );
            }
            let moved = scalar(&app, &format!("SELECT COUNT(*) FROM order_status_history WHERE order_id = {order} AND new_status = 'ready_for_processing'")).await;
            assert_eq!(moved, 1, "{backend:?}");
            assert_eq!(
                scalar(&app, "SELECT COUNT(*) FROM notifications").await,
                2,
                "one per admin, once"
            );
        }
    }
}

#[tokio::test]
async fn the_s3_store_puts_gets_and_deletes() {
    use electioncart::uploads::{Area, S3Settings, S3Storage, Storage, StoredName};
    use futures_util::TryStreamExt;
    let Some(endpoint) = std::env::var("TEST_S3_ENDPOINT")
        .ok()
        .filter(|v| !v.is_empty())
    else {
        eprintln!("skipped: TEST_S3_ENDPOINT is not set (CI starts an S3-compatible server)");
        return;
    };
    let store = S3Storage::new(S3Settings {
        endpoint,
        bucket: format!(
            "ec-store-{}",
            &uuid::Uuid::new_v4().simple().to_string()[..12]
        ),
        region: "us-east-1".into(),
        access_key_id: "testing".into(),
        secret_access_key: "testing".into(),
        path_style: true,
    });
    store.create_bucket().await.expect("bucket");
    let name = StoredName::generate("pdf");
    assert!(
        store
            .get(Area::Resources, &name)
            .await
            .expect("get")
            .is_none()
    );
    store
        .put(Area::Resources, &name, axum::body::Bytes::from_static(PDF))
        .await
        .expect("put");
    let object = store
        .get(Area::Resources, &name)
        .await
        .expect("get")
        .expect("stored");
    assert_eq!(object.len, PDF.len() as u64);
    let bytes: Vec<axum::body::Bytes> = object.body.try_collect().await.expect("body");
    assert_eq!(bytes.concat(), PDF);
    store.delete(Area::Resources, &name).await.expect("delete");
    assert!(
        store
            .get(Area::Resources, &name)
            .await
            .expect("get")
            .is_none()
    );
    store
        .delete(Area::Resources, &name)
        .await
        .expect("a missing file is not an error");
}

#[tokio::test]
async fn the_bell_lists_and_marks_only_ones_own_notifications() {
    for backend in backends() {
        let media = tempfile::tempdir().expect("media dir");
        let storage = vec![(
            "MEDIA_ROOT".to_string(),
            media.path().to_string_lossy().to_string(),
        )];
        let app = app_with(backend, &storage, &[]).await;
        let admin = catalog::admin(&app).await;
        let other_admin = create_user(&app, "bell-admin-2", "bell-admin-pass", Role::Admin).await;
        let other_token = token_for(&app, &other_admin);
        let (_, token) = shopper(&app, "bell-user").await;
        let p = package(&app, &admin, "Bell Pack", "750.00").await;
        let (order, items) = paid_order(&app, &token, &[p], "pay_bell").await;
        let item = items[0].to_string();
        let r = submit(&app, &token, order, &[Part::Text("order_item_id", &item)]).await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());

        assert_eq!(
            app.get("/api/admin/notifications/").await.status,
            StatusCode::UNAUTHORIZED
        );
        let list = call(&app, "GET", "/api/admin/notifications/", &admin.token).await;
        assert_eq!(list.status, StatusCode::OK, "{}", list.text());
        let list = list.json();
        assert_eq!(list["count"], 1);
        let n = &list["results"][0];
        assert_eq!(n["notification_type"], "new_order");
        assert_eq!(n["title"], "New Order Ready for Processing");
        assert!(
            n["message"]
                .as_str()
                .expect("message")
                .ends_with("is ready for processing. Total: ₹750.00"),
            "{n}"
        );
        assert_eq!(n["order"], order);
        assert_eq!(n["is_read"], false);
        assert!(n["created_at"].as_str().expect("at").ends_with("+05:30"));
        let id = n["id"].as_i64().expect("id");
        // The customer has none; another admin cannot touch this one.
        assert_eq!(
            call(&app, "GET", "/api/admin/notifications/", &token)
                .await
                .json()["count"],
            0
        );
        let r = call(
            &app,
            "PATCH",
            &format!("/api/admin/notifications/{id}/mark-read/"),
            &other_token,
        )
        .await;
        assert_eq!(
            (r.status, r.json()),
            (
                StatusCode::NOT_FOUND,
                json!({"success": false, "message": "Notification not found"})
            )
        );
        // PATCH (the SPA) and POST both work.
        let r = call(
            &app,
            "PATCH",
            &format!("/api/admin/notifications/{id}/mark-read/"),
            &admin.token,
        )
        .await;
        assert_eq!(
            r.json(),
            json!({"success": true, "message": "Notification marked as read"})
        );
        let unread = call(
            &app,
            "GET",
            "/api/admin/notifications/?unread_only=TRUE",
            &admin.token,
        )
        .await
        .json();
        assert_eq!(unread["count"], 0);
        let r = call(
            &app,
            "POST",
            "/api/admin/notifications/mark-all-read/",
            &other_token,
        )
        .await;
        assert_eq!(
            r.json(),
            json!({"success": true, "message": "1 notifications marked as read"})
        );
        let r = call(
            &app,
            "PATCH",
            "/api/admin/notifications/mark-all-read/",
            &other_token,
        )
        .await;
        assert_eq!(
            r.json(),
            json!({"success": true, "message": "0 notifications marked as read"})
        );
        assert_eq!(
            call(
                &app,
                "GET",
                "/api/admin/notifications/?page=9",
                &admin.token
            )
            .await
            .status,
            StatusCode::NOT_FOUND
        );
    }
}
