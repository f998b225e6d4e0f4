//! Product images: multipart upload with magic-byte sniffing (D19), reorder (both formats, D7),
//! set-primary, the detail routes (D8), role checks, `/media/products/…`, the secure image route and
//! the product read shape. Every test has its own MEDIA_ROOT.

use std::{
    io::Cursor,
    path::{Path, PathBuf},
};

use axum::{
    Router,
    body::Body,
    http::{Request, StatusCode},
};
use electioncart::auth::model::Role;
use image::{DynamicImage, ImageFormat, Rgb, RgbImage, Rgba, RgbaImage};
use serde_json::{Value, json};

use crate::{
    catalog::{self, Admin},
    helpers::{
        Backend, TestApp, TestResponse, assert_security_headers, authed, backends, create_user,
        json_request, send, token_for,
    },
};

// ---- fixtures ------------------------------------------------------------------------------------

fn encode(image: DynamicImage, format: ImageFormat) -> Vec<u8> {
    let mut out = Cursor::new(Vec::new());
    image.write_to(&mut out, format).expect("encode");
    out.into_inner()
}

pub(crate) fn png(width: u32, height: u32) -> Vec<u8> {
    let img = RgbaImage::from_fn(width, height, |x, y| {
        Rgba([
            (x % 256) as u8,
            (y % 256) as u8,
            128,
            if x < 5 { 0 } else { 255 },
        ])
    });
    encode(DynamicImage::ImageRgba8(img), ImageFormat::Png)
}

fn jpeg(width: u32, height: u32) -> Vec<u8> {
    let img = RgbImage::from_fn(width, height, |x, y| {
        Rgb([(x % 256) as u8, 64, (y % 256) as u8])
    });
    encode(DynamicImage::ImageRgb8(img), ImageFormat::Jpeg)
}

fn gif(width: u32, height: u32) -> Vec<u8> {
    let img = RgbaImage::from_pixel(width, height, Rgba([10, 200, 30, 255]));
    encode(DynamicImage::ImageRgba8(img), ImageFormat::Gif)
}

/// One multipart part.
pub(crate) enum Part<'a> {
    Text(&'a str, &'a str),
    File {
        field: &'a str,
        filename: &'a str,
        content_type: &'a str,
        data: &'a [u8],
    },
}

pub(crate) const BOUNDARY: &str = "----electioncart-test-7d1f0a";

pub(crate) fn multipart_body(parts: &[Part<'_>]) -> Vec<u8> {
    let mut body = Vec::new();
    for part in parts {
        body.extend_from_slice(format!("--{BOUNDARY}\r\n").as_bytes());
        match part {
            Part::Text(name, value) => {
                body.extend_from_slice(
                    format!("Content-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n")
                        .as_bytes(),
                );
            }
            Part::File {
                field,
                filename,
                content_type,
                data,
            } => {
                body.extend_from_slice(
                    format!(
                        "Content-Disposition: form-data; name=\"{field}\"; filename=\"{filename}\"\r\n\
                         Content-Type: {content_type}\r\n\r\n"
                    )
                    .as_bytes(),
                );
                body.extend_from_slice(data);
                body.extend_from_slice(b"\r\n");
            }
        }
    }
    body.extend_from_slice(format!("--{BOUNDARY}--\r\n").as_bytes());
    body
}

pub(crate) fn multipart_request(method: &str, path: &str, parts: &[Part<'_>]) -> Request<Body> {
    Request::builder()
        .method(method)
        .uri(path)
        .header(
            "content-type",
            format!("multipart/form-data; boundary={BOUNDARY}"),
        )
        .body(Body::from(multipart_body(parts)))
        .expect("request")
}

fn image_part<'a>(filename: &'a str, content_type: &'a str, data: &'a [u8]) -> Part<'a> {
    Part::File {
        field: "image",
        filename,
        content_type,
        data,
    }
}

/// An app with its own MEDIA_ROOT (kept alive by the returned guard).
async fn app_with_media(backend: Backend) -> (TestApp, tempfile::TempDir) {
    let media = tempfile::tempdir().expect("media dir");
    let root = media.path().to_str().expect("utf-8 path").to_string();
    let app = TestApp::with_env(backend, &[("MEDIA_ROOT", root.as_str())]).await;
    (app, media)
}

async fn new_package(app: &TestApp, admin: &Admin, name: &str) -> i64 {
    let r = catalog::create_package(
        app,
        admin,
        json!({"name": name, "price": 18500, "description": "Posters and banners"}),
    )
    .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    r.json()["id"].as_i64().expect("id")
}

async fn upload(app: &TestApp, token: &str, product: &str, parts: &[Part<'_>]) -> TestResponse {
    app.request(authed(
        multipart_request(
            "POST",
            &format!("/api/admin/products/{product}/images/"),
            parts,
        ),
        token,
    ))
    .await
}

async fn upload_png(app: &TestApp, admin: &Admin, package: i64) -> Value {
    let data = png(40, 30);
    let r = upload(
        app,
        &admin.token,
        &format!("package/{package}"),
        &[image_part("photo.png", "image/png", &data)],
    )
    .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    r.json()
}

/// Every regular file under `dir`, recursively.
fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else {
        return out;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            out.extend(files_under(&path));
        } else {
            out.push(path);
        }
    }
    out
}

fn is_hex32(s: &str) -> bool {
    s.len() == 32
        && s.bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

/// The stored name at the end of a media URL.
fn stored_name(url: &str) -> String {
    url.rsplit('/').next().expect("name").to_string()
}

async fn public_images(app: &TestApp, product: &str) -> Value {
    let r = app.get(&format!("/api/products/{product}/images/")).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    r.json()
}

async fn admin_json(
    app: &TestApp,
    admin: &Admin,
    method: &str,
    path: &str,
    body: Value,
) -> TestResponse {
    app.request(authed(json_request(method, path, body), &admin.token))
        .await
}

/// The media route with the application's full middleware stack.
// Once `src/router.rs` merges `uploads::media_router()`, `app.router` serves it too (see
// `media_is_served_by_the_app_router`).
fn media_router(app: &TestApp) -> Router {
    electioncart::middleware::apply(
        electioncart::uploads::media_router()
            .with_state(app.state.clone())
            .into(),
        &app.state,
    )
}

async fn get_media(app: &TestApp, path: &str) -> TestResponse {
    send(
        &media_router(app),
        Request::get(path).body(Body::empty()).expect("request"),
    )
    .await
}

// ---- upload --------------------------------------------------------------------------------------

#[tokio::test]
async fn upload_stores_sniffed_files_under_generated_names() {
    for backend in backends() {
        let (app, media) = app_with_media(backend).await;
        let admin = catalog::admin(&app).await;
        let package = new_package(&app, &admin, "Election Hungama").await;
        let path = format!("package/{package}");

        let first_bytes = png(900, 450);
        let r = upload(
            &app,
            &admin.token,
            &path,
            &[
                Part::Text("alt_text", "  Green banner "),
                image_part("banner.png", "image/png", &first_bytes),
            ],
        )
        .await;
        assert_eq!(r.status, StatusCode::CREATED, "{backend:?}: {}", r.text());
        let first = r.json();
        let name = stored_name(first["image"].as_str().expect("image url"));
        let (stem, ext) = name.split_once('.').expect("extension");
        assert!(is_hex32(stem) && ext == "png", "{name}");
        assert_eq!(
            first["image"],
            format!("http://localhost/media/products/{name}")
        );
        assert_eq!(first["image_url"], first["image"]);
        assert_eq!(
            first["thumbnail"],
            format!("http://localhost/media/products/thumb_{stem}.jpg")
        );
        assert_eq!(first["thumbnail_url"], first["thumbnail"]);
        assert_eq!(first["is_primary"], true, "the first image is primary");
        assert_eq!(first["order"], 1);
        assert_eq!(first["alt_text"], "Green banner");
        assert_eq!(first["product_type"], "package");
        assert_eq!(first["product_id"], package);
        assert!(
            first["uploaded_at"]
                .as_str()
                .is_some_and(|t| t.ends_with("+05:30"))
        );

        // On disk: the exact bytes, and a real 300×150 JPEG thumbnail.
        let dir = media.path().join("products");
        assert_eq!(std::fs::read(dir.join(&name)).expect("file"), first_bytes);
        let thumb = std::fs::read(dir.join(format!("thumb_{stem}.jpg"))).expect("thumbnail");
        assert_eq!(&thumb[..3], b"\xff\xd8\xff");
        let decoded = image::load_from_memory(&thumb).expect("thumbnail decodes");
        assert_eq!((decoded.width(), decoded.height()), (300, 150));
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(dir.join(&name))
                .expect("file")
                .permissions()
                .mode();
            assert_eq!(mode & 0o007, 0, "not world-readable: {mode:o}");
        }

        // A JPEG with is_primary and a multipart empty `order` (→ 0) takes over as primary.
        let jpeg_bytes = jpeg(64, 64);
        let r = upload(
            &app,
            &admin.token,
            &path,
            &[
                image_part("b.jpg", "image/jpeg", &jpeg_bytes),
                Part::Text("is_primary", "true"),
                Part::Text("order", ""),
            ],
        )
        .await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
        let second = r.json();
        assert!(
            second["image"]
                .as_str()
                .is_some_and(|u| u.ends_with(".jpg"))
        );
        assert_eq!(second["is_primary"], true);
        assert_eq!(second["order"], 0);

        // A GIF without `order`: max + 1.
        let gif_bytes = gif(20, 20);
        let r = upload(
            &app,
            &admin.token,
            &path,
            &[image_part("c.gif", "image/gif", &gif_bytes)],
        )
        .await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
        let third = r.json();
        assert!(third["image"].as_str().is_some_and(|u| u.ends_with(".gif")));
        assert_eq!(third["is_primary"], false);
        assert_eq!(third["order"], 2);

        // The public list: by order; only the JPEG is primary now.
        let list = public_images(&app, &path).await;
        let ids: Vec<&Value> = list
            .as_array()
            .expect("array")
            .iter()
            .map(|i| &i["id"])
            .collect();
        assert_eq!(ids, vec![&second["id"], &first["id"], &third["id"]]);
        assert_eq!(list[1]["is_primary"], false, "demoted");

        // Three images and three thumbnails, nothing else.
        assert_eq!(files_under(media.path()).len(), 6, "{backend:?}");

        // The product read shape embeds them: primary first, then by order, with absolute URLs.
        let detail = app.get(&format!("/api/packages/{package}/")).await.json();
        assert_eq!(detail["primary_image"]["id"], second["id"]);
        assert_eq!(
            detail["primary_image"]["image"], second["image"],
            "absolute URL"
        );
        let embedded: Vec<&Value> = detail["images"]
            .as_array()
            .expect("images")
            .iter()
            .map(|i| &i["id"])
            .collect();
        assert_eq!(embedded, vec![&second["id"], &first["id"], &third["id"]]);
        let listed = app.get("/api/packages/").await.json();
        assert_eq!(listed["results"][0]["images"], detail["images"]);
    }
}

#[tokio::test]
async fn campaign_images_and_unknown_products() {
    let (app, _media) = app_with_media(Backend::Sqlite).await;
    let admin = catalog::admin(&app).await;
    let r = catalog::create_campaign(
        &app,
        &admin,
        json!({"name": "Coffee", "price": 100, "unit": "Per Ward", "description": "Meet"}),
    )
    .await;
    let campaign = r.json()["id"].as_i64().expect("id");
    let data = png(10, 10);
    let r = upload(
        &app,
        &admin.token,
        &format!("campaign/{campaign}"),
        &[image_part("a.png", "image/png", &data)],
    )
    .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    assert_eq!(r.json()["product_type"], "campaign");
    let detail = app.get(&format!("/api/campaigns/{campaign}/")).await.json();
    assert_eq!(detail["images"].as_array().map(Vec::len), Some(1));

    let r = upload(
        &app,
        &admin.token,
        "package/999",
        &[image_part("a.png", "image/png", &data)],
    )
    .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert_eq!(
        r.json(),
        json!({"detail": "No Package matches the given query."})
    );
    let r = upload(
        &app,
        &admin.token,
        "widget/1",
        &[image_part("a.png", "image/png", &data)],
    )
    .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        r.json(),
        json!({"error": "Invalid product type. Must be \"package\" or \"campaign\""})
    );
}

const NOT_AN_IMAGE: &str =
    "Upload a valid image. The file you uploaded was either not an image or a corrupted image.";

#[tokio::test]
async fn rejected_files_leave_nothing_behind() {
    let (app, media) = app_with_media(Backend::Sqlite).await;
    let admin = catalog::admin(&app).await;
    let package = new_package(&app, &admin, "Rejections").await;
    let path = format!("package/{package}");

    let pdf = b"%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\ntrailer\n%%EOF\n".to_vec();
    let html = b"<!DOCTYPE html><html><script>alert(document.cookie)</script></html>".to_vec();
    let svg = b"<?xml version=\"1.0\"?><svg xmlns=\"http://www.w3.org/2000/svg\" onload=\"alert(1)\"></svg>".to_vec();
    let mut elf = b"\x7fELF\x02\x01\x01\0\0\0\0\0\0\0\0\0\x02\0\x3e\0".to_vec();
    elf.resize(512, 0);
    let mut exe = b"MZ\x90\0\x03\0\0\0\x04\0\0\0\xff\xff\0\0\xb8\0\0\0".to_vec();
    exe.resize(512, 0);
    // A valid PNG padded past the cap: the size is the reason.
    let mut oversized = png(8, 8);
    oversized.resize(5 * 1024 * 1024 + 1, 0);
    // PNG magic with garbage after it: sniffed as PNG, but not decodable.
    let mut corrupt = png(32, 32);
    corrupt.truncate(60);
    let webp =
        b"RIFF\x1a\0\0\0WEBPVP8 \x0e\0\0\0\x30\x01\0\x9d\x01\x2a\x01\0\x01\0\0\0\0\0".to_vec();

    let cases: Vec<(&str, &str, &str, &[u8], &str)> = vec![
        (
            "pdf named .png",
            "invoice.png",
            "image/png",
            &pdf,
            NOT_AN_IMAGE,
        ),
        (
            "html named .jpg",
            "x.jpg",
            "image/jpeg",
            &html,
            NOT_AN_IMAGE,
        ),
        ("svg named .jpg", "x.jpg", "image/jpeg", &svg, NOT_AN_IMAGE),
        (
            "elf named .png",
            "tool.png",
            "image/png",
            &elf,
            NOT_AN_IMAGE,
        ),
        (
            "exe named .png",
            "setup.png",
            "image/png",
            &exe,
            NOT_AN_IMAGE,
        ),
        ("corrupt png", "x.png", "image/png", &corrupt, NOT_AN_IMAGE),
        (
            "empty",
            "x.png",
            "image/png",
            b"",
            "The submitted file is empty.",
        ),
        (
            "5 MiB + 1",
            "big.png",
            "image/png",
            &oversized,
            "Image file size cannot exceed 5MB.",
        ),
        (
            "webp",
            "x.png",
            "image/png",
            &webp,
            "Invalid file type. Detected: image/webp. Allowed: image/jpeg, image/png, image/gif",
        ),
    ];
    for (label, filename, content_type, data, message) in cases {
        let r = upload(
            &app,
            &admin.token,
            &path,
            &[
                Part::Text("alt_text", "x"),
                image_part(filename, content_type, data),
            ],
        )
        .await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{label}: {}", r.text());
        assert_eq!(r.json(), json!({"image": [message]}), "{label}");
        assert!(
            std::fs::read_dir(media.path())
                .expect("media dir")
                .next()
                .is_none(),
            "{label}: nothing may be written under MEDIA_ROOT"
        );
    }

    // No file part, a plain text `image`, or not multipart at all.
    let r = upload(&app, &admin.token, &path, &[Part::Text("alt_text", "x")]).await;
    assert_eq!(r.json(), json!({"image": ["No file was submitted."]}));
    let r = upload(&app, &admin.token, &path, &[Part::Text("image", "abc")]).await;
    assert_eq!(
        r.json(),
        json!({"image": ["The submitted data was not a file. Check the encoding type on the form."]})
    );
    let r = admin_json(
        &app,
        &admin,
        "POST",
        &format!("/api/admin/products/{path}/images/"),
        json!({"alt_text": "x"}),
    )
    .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert_eq!(r.json(), json!({"image": ["No file was submitted."]}));

    // Other fields are validated too.
    let data = png(4, 4);
    let long = "a".repeat(201);
    let r = upload(
        &app,
        &admin.token,
        &path,
        &[
            image_part("a.png", "image/png", &data),
            Part::Text("order", "first"),
            Part::Text("alt_text", &long),
        ],
    )
    .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        r.json(),
        json!({"order": ["A valid integer is required."],
               "alt_text": ["Ensure this field has no more than 200 characters."]})
    );

    // Larger than the route's body limit: a JSON 413 before the body is read in full.
    let huge = vec![0u8; 7 * 1024 * 1024];
    let r = upload(
        &app,
        &admin.token,
        &path,
        &[image_part("huge.png", "image/png", &huge)],
    )
    .await;
    assert_eq!(r.status, StatusCode::PAYLOAD_TOO_LARGE, "{}", r.text());
    assert_eq!(r.json(), json!({"detail": "Request body is too large."}));

    assert!(files_under(media.path()).is_empty());
    assert!(
        std::fs::read_dir(media.path())
            .expect("media dir")
            .next()
            .is_none()
    );
    assert_eq!(public_images(&app, &path).await, json!([]), "no rows");
}

#[tokio::test]
async fn exactly_five_mib_is_accepted() {
    let (app, _media) = app_with_media(Backend::Sqlite).await;
    let admin = catalog::admin(&app).await;
    let package = new_package(&app, &admin, "Boundary").await;
    let mut data = png(8, 8);
    data.resize(5 * 1024 * 1024, 0);
    let r = upload(
        &app,
        &admin.token,
        &format!("package/{package}"),
        &[image_part("a.png", "image/png", &data)],
    )
    .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
}

#[tokio::test]
async fn client_file_names_and_types_are_ignored() {
    let (app, media) = app_with_media(Backend::Sqlite).await;
    let admin = catalog::admin(&app).await;
    let package = new_package(&app, &admin, "Names").await;
    let data = png(16, 16);
    let r = upload(
        &app,
        &admin.token,
        &format!("package/{package}"),
        &[image_part("../x.exe", "application/x-msdownload", &data)],
    )
    .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    let name = stored_name(r.json()["image"].as_str().expect("url"));
    let (stem, ext) = name.split_once('.').expect("ext");
    assert!(is_hex32(stem), "{name}");
    assert_eq!(ext, "png", "the extension comes from the sniffed type");
    let files = files_under(media.path());
    assert_eq!(files.len(), 2);
    for file in &files {
        assert_eq!(file.parent(), Some(media.path().join("products").as_path()));
        let file_name = file.file_name().and_then(|n| n.to_str()).expect("name");
        assert!(!file_name.contains("x.exe"));
    }
    assert!(!media.path().join("x.exe").exists());
    assert!(
        !media
            .path()
            .parent()
            .expect("parent")
            .join("x.exe")
            .exists()
    );
    // Served as what it is.
    let r = get_media(&app, &format!("/media/products/{name}")).await;
    assert_eq!(r.header("content-type"), Some("image/png"));
}

#[tokio::test]
async fn at_most_ten_images_per_product() {
    let (app, media) = app_with_media(Backend::Sqlite).await;
    let admin = catalog::admin(&app).await;
    let package = new_package(&app, &admin, "Gallery").await;
    for _ in 0..10 {
        upload_png(&app, &admin, package).await;
    }
    let data = png(4, 4);
    let r = upload(
        &app,
        &admin.token,
        &format!("package/{package}"),
        &[image_part("11.png", "image/png", &data)],
    )
    .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        r.json(),
        json!({"error": "Maximum of 10 images allowed per product"})
    );
    assert_eq!(files_under(media.path()).len(), 20);
    let list = public_images(&app, &format!("package/{package}")).await;
    assert_eq!(list.as_array().map(Vec::len), Some(10));
    let primaries = list
        .as_array()
        .expect("array")
        .iter()
        .filter(|i| i["is_primary"] == true)
        .count();
    assert_eq!(primaries, 1);
}

#[tokio::test]
async fn concurrent_uploads_keep_the_rules() {
    for backend in backends() {
        let (app, media) = app_with_media(backend).await;
        let admin = catalog::admin(&app).await;
        let package = new_package(&app, &admin, "Race").await;
        let data = png(8, 8);
        let path = format!("/api/admin/products/package/{package}/images/");
        let requests = (0..12).map(|_| {
            app.request(authed(
                multipart_request("POST", &path, &[image_part("a.png", "image/png", &data)]),
                &admin.token,
            ))
        });
        let results = futures_util::future::join_all(requests).await;
        let created = results
            .iter()
            .filter(|r| r.status == StatusCode::CREATED)
            .count();
        assert_eq!(created, 10, "{backend:?}");
        let list = public_images(&app, &format!("package/{package}")).await;
        let list = list.as_array().expect("array");
        assert_eq!(list.len(), 10);
        assert_eq!(list.iter().filter(|i| i["is_primary"] == true).count(), 1);
        assert_eq!(files_under(media.path()).len(), 20, "losers leave no files");
    }
}

// ---- reorder, set-primary, detail ----------------------------------------------------------------

#[tokio::test]
async fn reorder_accepts_both_formats() {
    for backend in backends() {
        let (app, _media) = app_with_media(backend).await;
        let admin = catalog::admin(&app).await;
        let package = new_package(&app, &admin, "Reorder").await;
        let a = upload_png(&app, &admin, package).await["id"].clone();
        let b = upload_png(&app, &admin, package).await["id"].clone();
        let c = upload_png(&app, &admin, package).await["id"].clone();
        let url = "/api/admin/products/images/reorder/";

        // The contract's format.
        let r = admin_json(
            &app,
            &admin,
            "PATCH",
            url,
            json!({"items": [{"id": a, "order": 3}, {"id": b, "order": 1}, {"id": c, "order": 2}]}),
        )
        .await;
        assert_eq!(r.status, StatusCode::OK, "{backend:?}: {}", r.text());
        let body = r.json();
        assert_eq!(body["message"], "Successfully reordered 3 images");
        let order: Vec<&Value> = body["items"]
            .as_array()
            .expect("items")
            .iter()
            .map(|i| &i["id"])
            .collect();
        assert_eq!(order, vec![&b, &c, &a]);

        // The admin SPA's format: order = position.
        let r = admin_json(&app, &admin, "PATCH", url, json!({"image_ids": [c, a, b]})).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text());
        let list = public_images(&app, &format!("package/{package}")).await;
        let seen: Vec<(&Value, &Value)> = list
            .as_array()
            .expect("array")
            .iter()
            .map(|i| (&i["id"], &i["order"]))
            .collect();
        assert_eq!(
            seen,
            vec![(&c, &json!(0)), (&a, &json!(1)), (&b, &json!(2))]
        );

        // Errors.
        let format_error = json!({"error": "Items array is required with format: [{\"id\": 1, \"order\": 0}, ...]"});
        for bad in [json!({}), json!({"items": []}), json!({"image_ids": []})] {
            let r = admin_json(&app, &admin, "PATCH", url, bad).await;
            assert_eq!(r.status, StatusCode::BAD_REQUEST);
            assert_eq!(r.json(), format_error);
        }
        for missing in [
            json!({"image_ids": [a, 987_654]}),
            json!({"image_ids": [a, a]}),
        ] {
            let r = admin_json(&app, &admin, "PATCH", url, missing).await;
            assert_eq!(r.status, StatusCode::NOT_FOUND);
            assert_eq!(r.json(), json!({"error": "One or more images not found"}));
        }
        // A failed reorder changed nothing.
        assert_eq!(
            public_images(&app, &format!("package/{package}")).await,
            list
        );
    }
}

#[tokio::test]
async fn set_primary_and_the_detail_routes() {
    for backend in backends() {
        let (app, media) = app_with_media(backend).await;
        let admin = catalog::admin(&app).await;
        let package = new_package(&app, &admin, "Detail").await;
        let first = upload_png(&app, &admin, package).await;
        let second = upload_png(&app, &admin, package).await;
        let third = upload_png(&app, &admin, package).await;
        let (a, b, c) = (&first["id"], &second["id"], &third["id"]);

        // set-primary → {message, image}; the old primary is demoted.
        let r = app
            .request(authed(
                Request::patch(format!("/api/admin/products/images/{c}/set-primary/"))
                    .body(Body::empty())
                    .expect("request"),
                &admin.token,
            ))
            .await;
        assert_eq!(r.status, StatusCode::OK, "{backend:?}: {}", r.text());
        let body = r.json();
        assert_eq!(body["message"], "Image set as primary successfully");
        assert_eq!(body["image"]["id"], *c);
        assert_eq!(body["image"]["is_primary"], true);
        let detail = app.get(&format!("/api/packages/{package}/")).await.json();
        assert_eq!(detail["primary_image"]["id"], *c);
        assert_eq!(detail["images"][0]["id"], *c, "primary first");

        // GET is public (D8).
        let r = app.get(&format!("/api/admin/products/images/{a}/")).await;
        assert_eq!(r.status, StatusCode::OK);
        assert_eq!(r.json()["id"], *a);
        assert_eq!(r.json()["is_primary"], false);

        // PUT with the admin SPA's `{alt_text}` works (treated as PATCH).
        let url = format!("/api/admin/products/images/{a}/");
        let r = admin_json(&app, &admin, "PUT", &url, json!({"alt_text": "Front"})).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text());
        assert_eq!(r.json()["alt_text"], "Front");
        assert_eq!(r.json()["order"], first["order"], "untouched");
        let r = admin_json(
            &app,
            &admin,
            "PATCH",
            &url,
            json!({"order": 7, "is_primary": true}),
        )
        .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text());
        assert_eq!(r.json()["order"], 7);
        assert_eq!(r.json()["alt_text"], "Front");
        assert_eq!(r.json()["is_primary"], true);
        let r = app.get(&format!("/api/admin/products/images/{c}/")).await;
        assert_eq!(r.json()["is_primary"], false, "only one primary");

        // Sending an image is refused (JSON or multipart).
        let refused =
            json!({"error": "Cannot update image file. Delete and upload a new one instead."});
        for method in ["PUT", "PATCH"] {
            let r = admin_json(&app, &admin, method, &url, json!({"image": "x.png"})).await;
            assert_eq!(r.status, StatusCode::BAD_REQUEST);
            assert_eq!(r.json(), refused);
        }
        let data = png(4, 4);
        let r = app
            .request(authed(
                multipart_request("PATCH", &url, &[image_part("n.png", "image/png", &data)]),
                &admin.token,
            ))
            .await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST);
        assert_eq!(r.json(), refused);
        // Validation.
        let r = admin_json(
            &app,
            &admin,
            "PATCH",
            &url,
            json!({"order": "x", "is_primary": null}),
        )
        .await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST);
        assert_eq!(
            r.json(),
            json!({"order": ["A valid integer is required."], "is_primary": ["This field may not be null."]})
        );

        // DELETE the primary: 204, its files are gone, the lowest `order` takes over.
        let r = admin_json(
            &app,
            &admin,
            "PATCH",
            &format!("/api/admin/products/images/{b}/"),
            json!({"order": 0}),
        )
        .await;
        assert_eq!(r.status, StatusCode::OK);
        let name = stored_name(first["image"].as_str().expect("url"));
        let thumb = stored_name(first["thumbnail"].as_str().expect("url"));
        let dir = media.path().join("products");
        assert!(dir.join(&name).exists() && dir.join(&thumb).exists());
        let r = app
            .request(authed(
                Request::delete(&url).body(Body::empty()).expect("request"),
                &admin.token,
            ))
            .await;
        assert_eq!(r.status, StatusCode::NO_CONTENT);
        assert!(r.body.is_empty());
        assert!(!dir.join(&name).exists(), "file removed");
        assert!(!dir.join(&thumb).exists(), "thumbnail removed");
        assert_eq!(files_under(media.path()).len(), 4);
        let r = app.get(&format!("/api/admin/products/images/{b}/")).await;
        assert_eq!(r.json()["is_primary"], true, "lowest order promoted");

        // Unknown and malformed ids.
        let gone = json!({"detail": "No ProductImage matches the given query."});
        assert_eq!(app.get(&url).await.json(), gone);
        assert_eq!(app.get(&url).await.status, StatusCode::NOT_FOUND);
        for method in ["PUT", "PATCH", "DELETE"] {
            let r = admin_json(&app, &admin, method, &url, json!({"alt_text": "x"})).await;
            assert_eq!(r.status, StatusCode::NOT_FOUND, "{method}");
            assert_eq!(r.json(), gone);
        }
        let r = app
            .request(authed(
                Request::patch(format!("/api/admin/products/images/{a}/set-primary/"))
                    .body(Body::empty())
                    .expect("request"),
                &admin.token,
            ))
            .await;
        assert_eq!(r.json(), gone);
        let r = app.get("/api/admin/products/images/abc/").await;
        assert_eq!(r.status, StatusCode::NOT_FOUND);
        assert_eq!(r.json(), json!({"detail": "Not found."}));
    }
}

#[tokio::test]
async fn writes_are_for_admins_only() {
    let (app, media) = app_with_media(Backend::Sqlite).await;
    let admin = catalog::admin(&app).await;
    let package = new_package(&app, &admin, "Roles").await;
    let image = upload_png(&app, &admin, package).await;
    let id = &image["id"];
    let user = create_user(&app, "img-user", "img-user-pass-1", Role::User).await;
    let staff = create_user(&app, "img-staff", "img-staff-pass-1", Role::Staff).await;
    let data = png(4, 4);
    let upload_path = format!("/api/admin/products/package/{package}/images/");
    let requests = || {
        vec![
            multipart_request(
                "POST",
                &upload_path,
                &[image_part("a.png", "image/png", &data)],
            ),
            json_request(
                "PATCH",
                "/api/admin/products/images/reorder/",
                json!({"image_ids": [id]}),
            ),
            Request::patch(format!("/api/admin/products/images/{id}/set-primary/"))
                .body(Body::empty())
                .expect("request"),
            json_request(
                "PUT",
                &format!("/api/admin/products/images/{id}/"),
                json!({"alt_text": "x"}),
            ),
            json_request(
                "PATCH",
                &format!("/api/admin/products/images/{id}/"),
                json!({"alt_text": "x"}),
            ),
            Request::delete(format!("/api/admin/products/images/{id}/"))
                .body(Body::empty())
                .expect("request"),
        ]
    };
    for request in requests() {
        let label = format!("{} {}", request.method(), request.uri());
        let r = app.request(request).await;
        assert_eq!(r.status, StatusCode::UNAUTHORIZED, "anonymous {label}");
    }
    for who in [&user, &staff] {
        let token = token_for(&app, who);
        for request in requests() {
            let label = format!("{} {}", request.method(), request.uri());
            let r = app.request(authed(request, &token)).await;
            assert_eq!(r.status, StatusCode::FORBIDDEN, "{:?} {label}", who.role());
            assert_eq!(
                r.json(),
                json!({"detail": "You do not have permission to perform this action."})
            );
        }
    }
    assert_eq!(files_under(media.path()).len(), 2, "nothing new written");
    let r = app.get(&format!("/api/admin/products/images/{id}/")).await;
    assert_eq!(r.json(), image, "unchanged");
}

// ---- serving -------------------------------------------------------------------------------------

#[tokio::test]
async fn media_route_serves_generated_names_cross_origin() {
    let (app, _media) = app_with_media(Backend::Sqlite).await;
    let admin = catalog::admin(&app).await;
    let package = new_package(&app, &admin, "Media").await;
    let data = png(500, 100);
    let r = upload(
        &app,
        &admin.token,
        &format!("package/{package}"),
        &[image_part("a.png", "image/png", &data)],
    )
    .await;
    let image = r.json();
    let name = stored_name(image["image"].as_str().expect("url"));
    let thumb = stored_name(image["thumbnail"].as_str().expect("url"));

    let r = get_media(&app, &format!("/media/products/{name}")).await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.body.as_ref(), data.as_slice());
    assert_eq!(r.header("content-type"), Some("image/png"));
    assert_eq!(
        r.header("cross-origin-resource-policy"),
        Some("cross-origin")
    );
    assert_eq!(r.header("x-content-type-options"), Some("nosniff"));
    assert_eq!(
        r.header("cache-control"),
        Some("public, max-age=31536000, immutable")
    );
    assert_eq!(
        r.header("content-length"),
        Some(data.len().to_string().as_str())
    );
    assert_security_headers(&r);
    let etag = r.header("etag").expect("etag").to_string();

    let r = send(
        &media_router(&app),
        Request::get(format!("/media/products/{name}"))
            .header("if-none-match", &etag)
            .body(Body::empty())
            .expect("request"),
    )
    .await;
    assert_eq!(r.status, StatusCode::NOT_MODIFIED);
    assert!(r.body.is_empty());

    let r = get_media(&app, &format!("/media/products/{thumb}")).await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.header("content-type"), Some("image/jpeg"));
    let decoded = image::load_from_memory(&r.body).expect("thumbnail");
    assert_eq!((decoded.width(), decoded.height()), (300, 60));

    for bad in [
        "/media/products/x.png".to_string(),
        "/media/products/..%2F..%2Fetc%2Fpasswd".to_string(),
        format!("/media/products/{}", name.to_uppercase()),
        format!("/media/products/{}.exe", name),
        "/media/products/0123456789abcdef0123456789abcdef.png".to_string(),
        "/media/products/0123456789abcdef0123456789abcdef.pdf".to_string(),
    ] {
        let r = get_media(&app, &bad).await;
        assert_eq!(r.status, StatusCode::NOT_FOUND, "{bad}");
    }
}

#[tokio::test]
async fn media_is_served_by_the_app_router() {
    let (app, _media) = app_with_media(Backend::Sqlite).await;
    let admin = catalog::admin(&app).await;
    let package = new_package(&app, &admin, "Wired").await;
    let image = upload_png(&app, &admin, package).await;
    let path = image["image"]
        .as_str()
        .and_then(|u| u.strip_prefix("http://localhost"))
        .expect("url")
        .to_string();
    let r = app.get(&path).await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(
        r.header("cross-origin-resource-policy"),
        Some("cross-origin")
    );
}

#[tokio::test]
async fn secure_image_route_authenticates_by_header_or_query_token() {
    for backend in backends() {
        let (app, media) = app_with_media(backend).await;
        let admin = catalog::admin(&app).await;
        let package = new_package(&app, &admin, "Secure").await;
        let data = png(640, 640);
        let r = upload(
            &app,
            &admin.token,
            &format!("package/{package}"),
            &[image_part("a.png", "image/png", &data)],
        )
        .await;
        let image = r.json();
        let id = image["id"].as_i64().expect("id");
        let name = stored_name(image["image"].as_str().expect("url"));
        let customer = create_user(&app, "secure-user", "secure-user-pass-1", Role::User).await;
        let token = token_for(&app, &customer);
        let url = format!("/api/secure-files/images/{id}/");

        // Header.
        let r = app
            .request(authed(
                Request::get(&url).body(Body::empty()).expect("request"),
                &token,
            ))
            .await;
        assert_eq!(r.status, StatusCode::OK, "{backend:?}: {}", r.text());
        assert_eq!(r.body.as_ref(), data.as_slice());
        assert_eq!(r.header("content-type"), Some("image/png"));
        assert_eq!(
            r.header("content-disposition"),
            Some(format!("inline; filename=\"{name}\"").as_str())
        );
        assert_eq!(r.header("cache-control"), Some("no-store"));
        assert_eq!(r.header("x-content-type-options"), Some("nosniff"));
        assert_security_headers(&r);

        // Query token (the admin SPA's `<img src>`), with the thumbnail.
        let r = app.get(&format!("{url}?token={token}")).await;
        assert_eq!(r.status, StatusCode::OK);
        assert_eq!(r.body.as_ref(), data.as_slice());
        let r = app
            .get(&format!("{url}?thumbnail=true&token={}", admin.token))
            .await;
        assert_eq!(r.status, StatusCode::OK);
        assert_eq!(r.header("content-type"), Some("image/jpeg"));
        assert!(
            r.header("content-disposition")
                .is_some_and(|d| d.contains("thumb_"))
        );
        let thumb = image::load_from_memory(&r.body).expect("thumbnail");
        assert_eq!((thumb.width(), thumb.height()), (300, 300));

        // Without a (valid) token: 403.
        let forbidden = json!({"detail": "Authentication required"});
        for anonymous in [
            url.clone(),
            format!("{url}?token="),
            format!("{url}?token=not-a-jwt"),
            format!("{url}?access_token={token}"),
        ] {
            let r = app.get(&anonymous).await;
            assert_eq!(r.status, StatusCode::FORBIDDEN, "{anonymous}");
            assert_eq!(r.json(), forbidden);
        }
        let r = app
            .request(authed(
                Request::get(&url).body(Body::empty()).expect("request"),
                "garbage",
            ))
            .await;
        assert_eq!(r.status, StatusCode::FORBIDDEN);
        // A bad header token does not hide a good query token.
        let r = app
            .request(authed(
                Request::get(format!("{url}?token={token}"))
                    .body(Body::empty())
                    .expect("request"),
                "garbage",
            ))
            .await;
        assert_eq!(r.status, StatusCode::OK);

        // Unknown image; a row whose file is gone (no server path in the answer).
        let r = app
            .get(&format!("/api/secure-files/images/987654/?token={token}"))
            .await;
        assert_eq!(r.status, StatusCode::NOT_FOUND);
        assert_eq!(r.json(), json!({"detail": "Image not found"}));
        std::fs::remove_file(media.path().join("products").join(&name)).expect("remove");
        let r = app.get(&format!("{url}?token={token}")).await;
        assert_eq!(r.status, StatusCode::NOT_FOUND);
        let text = r.text();
        assert!(
            !text.contains('/') && !text.contains(media.path().to_str().expect("path")),
            "{text}"
        );
        assert_eq!(r.json(), json!({"detail": "Image file not found"}));
    }
}

#[tokio::test]
async fn query_tokens_never_reach_the_logs() {
    let capture = crate::helpers::capture_logs();

    let (app, media) = app_with_media(Backend::Sqlite).await;
    let admin = catalog::admin(&app).await;
    let package = new_package(&app, &admin, "Logs").await;
    let image = upload_png(&app, &admin, package).await;
    let id = &image["id"];
    let url = format!("/api/secure-files/images/{id}/");
    assert_eq!(
        app.get(&format!("{url}?thumbnail=true&token={}", admin.token))
            .await
            .status,
        StatusCode::OK
    );
    // The failure paths log too: a missing file, an unknown image, a bad token.
    std::fs::remove_file(
        media
            .path()
            .join("products")
            .join(stored_name(image["image"].as_str().expect("url"))),
    )
    .expect("remove");
    for path in [
        format!("{url}?token={}", admin.token),
        format!("/api/secure-files/images/424242/?token={}", admin.token),
        format!("{url}?token={}x", admin.token),
    ] {
        let r = app.get(&path).await;
        assert!(r.status.is_client_error(), "{path}: {}", r.status);
    }

    let text = capture.logs.text();
    assert!(
        text.contains("token=[redacted]"),
        "the access log was captured: {text}"
    );
    assert!(
        !text.contains(&admin.token),
        "a query token reached the logs: {text}"
    );
}

/// The public detail comes from one statement (the product row with the JSON copies of its items
/// and images); the list renders from three batched selects. Both must give the same shape: items
/// in order, images primary first then by order then newest, on both databases, for both product
/// types.
#[tokio::test]
async fn one_statement_detail_equals_the_list_entry() {
    for backend in backends() {
        let (app, _media) = app_with_media(backend).await;
        let admin = catalog::admin(&app).await;
        let r = catalog::create_package(
            &app,
            &admin,
            json!({"name": "Union", "price": "18500.50", "description": "d",
                   "features": ["a", "b"], "deliverables": ["x"],
                   "items": [{"name": "Posters", "quantity": 100}, {"name": "Banners", "quantity": 3}]}),
        )
        .await;
        assert_eq!(r.status, StatusCode::CREATED, "{backend:?}: {}", r.text());
        let package = r.json()["id"].as_i64().expect("id");
        let mut ids = Vec::new();
        for _ in 0..3 {
            ids.push(upload_png(&app, &admin, package).await["id"].clone());
        }
        let r = app
            .request(authed(
                Request::patch(format!(
                    "/api/admin/products/images/{}/set-primary/",
                    ids[1]
                ))
                .body(Body::empty())
                .expect("request"),
                &admin.token,
            ))
            .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text());

        let listed = app.get("/api/packages/").await.json()["results"][0].clone();
        let detail = app.get(&format!("/api/packages/{package}/")).await.json();
        assert_eq!(detail, listed, "{backend:?}");
        assert_eq!(detail["items"].as_array().map(Vec::len), Some(2));
        assert_eq!(detail["items"][0]["name"], "Posters");
        assert_eq!(detail["images"].as_array().map(Vec::len), Some(3));
        assert_eq!(detail["images"][0]["id"], ids[1], "primary first");

        let r = catalog::create_campaign(
            &app,
            &admin,
            json!({"name": "Union C", "price": "99.00", "unit": "per day", "description": "d"}),
        )
        .await;
        assert_eq!(r.status, StatusCode::CREATED, "{backend:?}: {}", r.text());
        let campaign = r.json()["id"].as_i64().expect("id");
        let data = png(20, 20);
        let r = upload(
            &app,
            &admin.token,
            &format!("campaign/{campaign}"),
            &[image_part("c.png", "image/png", &data)],
        )
        .await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
        let listed = app.get("/api/campaigns/").await.json()["results"][0].clone();
        let detail = app.get(&format!("/api/campaigns/{campaign}/")).await.json();
        assert_eq!(detail, listed, "{backend:?}");
        assert_eq!(detail["images"].as_array().map(Vec::len), Some(1));
        assert_eq!(detail["unit"], "per day");
    }
}

/// The detail reads the copies of a product's items and images that the database keeps on the
/// product row (migration 0010); the list renders from the item and image tables themselves. After
/// every kind of write (items replaced or emptied, an image edited, reordered, deleted) both agree.
#[tokio::test]
async fn detail_follows_every_item_and_image_write() {
    for backend in backends() {
        let (app, _media) = app_with_media(backend).await;
        let admin = catalog::admin(&app).await;
        let r = catalog::create_package(
            &app,
            &admin,
            json!({"name": "Copies", "price": "10.00", "description": "d",
                   "items": [{"name": "Posters", "quantity": 100}, {"name": "Banners", "quantity": 3}]}),
        )
        .await;
        assert_eq!(r.status, StatusCode::CREATED, "{backend:?}: {}", r.text());
        let package = r.json()["id"].as_i64().expect("id");
        let ids: Vec<Value> = [
            upload_png(&app, &admin, package).await,
            upload_png(&app, &admin, package).await,
            upload_png(&app, &admin, package).await,
        ]
        .iter()
        .map(|image| image["id"].clone())
        .collect();
        let detail = || async {
            let listed = app.get("/api/packages/").await.json()["results"][0].clone();
            let detail = app.get(&format!("/api/packages/{package}/")).await.json();
            assert_eq!(detail, listed, "{backend:?}");
            detail
        };
        let update = format!("/api/admin/products/package/{package}/update/");

        let d = detail().await;
        assert_eq!(d["items"][1]["name"], "Banners");
        assert_eq!(d["images"][0]["id"], ids[0], "the first upload is primary");

        let body = json!({"name": "Copies", "price": "10.00", "description": "d",
                          "items": [{"name": "Flags", "quantity": 7}]});
        let r = admin_json(&app, &admin, "PUT", &update, body).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text());
        let d = detail().await;
        assert_eq!(d["items"].as_array().map(Vec::len), Some(1));
        assert_eq!(d["items"][0]["name"], "Flags");
        assert_eq!(d["items"][0]["quantity"], 7);

        let path = format!("/api/admin/products/images/{}/", ids[2]);
        let r = admin_json(&app, &admin, "PATCH", &path, json!({"alt_text": "Rally"})).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text());
        assert_eq!(detail().await["images"][2]["alt_text"], "Rally");

        let url = "/api/admin/products/images/reorder/";
        let order = json!({"image_ids": [ids[2], ids[1], ids[0]]});
        let r = admin_json(&app, &admin, "PATCH", url, order).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text());
        let d = detail().await;
        let seen: Vec<&Value> = d["images"]
            .as_array()
            .expect("images")
            .iter()
            .map(|i| &i["id"])
            .collect();
        assert_eq!(
            seen,
            vec![&ids[0], &ids[2], &ids[1]],
            "primary, then by order"
        );

        let path = format!("/api/admin/products/images/{}/", ids[0]);
        let r = app
            .request(authed(
                Request::delete(path).body(Body::empty()).expect("request"),
                &admin.token,
            ))
            .await;
        assert!(r.status.is_success(), "{}", r.text());
        let d = detail().await;
        assert_eq!(d["images"].as_array().map(Vec::len), Some(2));
        assert_eq!(
            d["images"][0]["id"], ids[2],
            "the lowest order became primary"
        );
        assert_eq!(d["images"][0]["is_primary"], true);

        let body = json!({"name": "Copies", "price": "10.00", "description": "d", "items": []});
        let r = admin_json(&app, &admin, "PUT", &update, body).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text());
        assert_eq!(detail().await["items"], json!([]));
    }
}

/// Every image change also rewrites its product's row (the copy of its images), so two reorders
/// of the same product's images in opposite orders must not deadlock: both succeed, every time.
#[tokio::test]
async fn concurrent_reorders_of_one_product_both_succeed() {
    for backend in backends() {
        let (app, _media) = app_with_media(backend).await;
        let admin = catalog::admin(&app).await;
        let package = new_package(&app, &admin, "Contended").await;
        let mut ids = Vec::new();
        for _ in 0..4 {
            ids.push(upload_png(&app, &admin, package).await["id"].clone());
        }
        let reversed: Vec<Value> = ids.iter().rev().cloned().collect();
        let url = "/api/admin/products/images/reorder/";
        for _ in 0..10 {
            let (a, b) = tokio::join!(
                admin_json(&app, &admin, "PATCH", url, json!({"image_ids": ids})),
                admin_json(&app, &admin, "PATCH", url, json!({"image_ids": reversed})),
            );
            assert_eq!(a.status, StatusCode::OK, "{backend:?}: {}", a.text());
            assert_eq!(b.status, StatusCode::OK, "{backend:?}: {}", b.text());
        }
        let listed = app.get("/api/packages/").await.json()["results"][0].clone();
        let detail = app.get(&format!("/api/packages/{package}/")).await.json();
        assert_eq!(detail, listed, "{backend:?}");
    }
}
