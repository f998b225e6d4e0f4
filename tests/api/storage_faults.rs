//! Storage faults (reliability E7, issue 14 item 5): a full media disk (a 1 MiB tmpfs) and object
//! storage that is down. An upload then answers 503 JSON with the generic body; no row points at a
//! file, no partial file stays behind; once there is room again, uploads work.

use std::{path::Path, process::Command};

use axum::http::StatusCode;
use electioncart::auth::model::Role;
use serde_json::Value;

use crate::{
    catalog::Admin,
    helpers::{Backend, TestApp, TestResponse, authed, create_user, token_for},
    images::{Part, multipart_request},
    orders::scalar,
};

/// A PNG of noise (incompressible) of about `bytes` bytes.
fn noise_png(bytes: usize) -> Vec<u8> {
    let side = ((bytes / 4) as f64).sqrt() as u32;
    let mut state: u32 = 0x9E37_79B9;
    let image = image::RgbaImage::from_fn(side, side, |_, _| {
        state ^= state << 13;
        state ^= state >> 17;
        state ^= state << 5;
        image::Rgba(state.to_le_bytes())
    });
    let mut out = std::io::Cursor::new(Vec::new());
    image::DynamicImage::ImageRgba8(image)
        .write_to(&mut out, image::ImageFormat::Png)
        .expect("encode a PNG");
    out.into_inner()
}

/// A 1 MiB tmpfs mounted on `dir` (unmounted when dropped).
struct Tmpfs(std::path::PathBuf);

impl Tmpfs {
    fn mount(dir: &Path) -> Option<Self> {
        let ok = Command::new("mount")
            .args(["-t", "tmpfs", "-o", "size=1m", "tmpfs"])
            .arg(dir)
            .status()
            .is_ok_and(|s| s.success());
        ok.then(|| Tmpfs(dir.to_path_buf()))
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg(&self.0).status();
    }
}

fn files_under(dir: &Path) -> usize {
    walk(dir)
}

fn walk(dir: &Path) -> usize {
    std::fs::read_dir(dir).map_or(0, |entries| {
        entries
            .flatten()
            .map(|e| {
                let path = e.path();
                if path.is_dir() { walk(&path) } else { 1 }
            })
            .sum()
    })
}

async fn upload(app: &TestApp, token: &str, product: i64, png: &[u8]) -> TestResponse {
    app.request(authed(
        multipart_request(
            "POST",
            &format!("/api/admin/products/package/{product}/images/"),
            &[Part::File {
                field: "image",
                filename: "photo.png",
                content_type: "image/png",
                data: png,
            }],
        ),
        token,
    ))
    .await
}

fn assert_unavailable(r: &TestResponse) {
    assert_eq!(r.status, StatusCode::SERVICE_UNAVAILABLE, "{}", r.text());
    let body: Value = r.json();
    assert!(
        body["detail"].is_string() && body["request_id"].is_string(),
        "{body}"
    );
    let raw = r.text();
    for leak in ["No space", "os error", "tmp", "media", "127.0.0.1"] {
        assert!(!raw.contains(leak), "{raw}");
    }
}

#[tokio::test]
async fn a_full_media_disk_is_a_503_and_leaves_nothing() {
    let media = tempfile::tempdir().expect("media dir");
    let Some(_tmpfs) = Tmpfs::mount(media.path()) else {
        assert!(
            !crate::helpers::fault_binaries_required(),
            "the disk-full test needs `mount -t tmpfs` (root) here"
        );
        eprintln!("SKIPPED: cannot mount a tmpfs (not root?)");
        return;
    };
    let root = media.path().display().to_string();
    let app = TestApp::with_env(Backend::Sqlite, &[("MEDIA_ROOT", root.as_str())]).await;
    let admin = create_user(&app, "disk-admin", "admin-pass-2026!", Role::Admin).await;
    let token = token_for(&app, &admin);
    let product = crate::cart::package(
        &app,
        &Admin {
            token: token.clone(),
        },
        "Disk Pack",
        "10.00",
    )
    .await;

    let big = noise_png(1_600_000);
    assert!(big.len() > 1_100_000 && big.len() < 5_000_000);
    let r = upload(&app, &token, product, &big).await;
    assert_unavailable(&r);
    assert_eq!(files_under(media.path()), 0, "no partial file stays behind");
    assert_eq!(scalar(&app, "SELECT COUNT(*) FROM product_images").await, 0);

    // Room enough for a small one: it works, the disk is not poisoned.
    let small = crate::images::png(64, 64);
    let r = upload(&app, &token, product, &small).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    assert_eq!(scalar(&app, "SELECT COUNT(*) FROM product_images").await, 1);
    app.state.db.close().await;
}

#[tokio::test]
async fn object_storage_down_is_a_503_and_leaves_no_row() {
    let app = TestApp::with_env(
        Backend::Sqlite,
        &[
            ("STORAGE_BACKEND", "s3"),
            ("S3_ENDPOINT", "http://127.0.0.1:1"),
            ("S3_BUCKET", "nowhere"),
            ("S3_ACCESS_KEY_ID", "testing"),
            ("S3_SECRET_ACCESS_KEY", "testing"),
        ],
    )
    .await;
    let admin = create_user(&app, "s3-admin", "admin-pass-2026!", Role::Admin).await;
    let token = token_for(&app, &admin);
    let product = crate::cart::package(
        &app,
        &Admin {
            token: token.clone(),
        },
        "S3 Pack",
        "10.00",
    )
    .await;
    let r = upload(&app, &token, product, &crate::images::png(64, 64)).await;
    assert_unavailable(&r);
    assert_eq!(scalar(&app, "SELECT COUNT(*) FROM product_images").await, 0);
    app.state.db.close().await;
}
