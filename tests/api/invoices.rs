//! Invoices (issue 11, D5) through the router on SQLite and PostgreSQL: a paid order's PDF from
//! both routes, read back with poppler's `pdftotext`/`pdffonts` (order and invoice numbers, Indian
//! amounts, the GSTIN, CGST + SGST adding up to the total, the embedded subset font with a glyph for
//! every character), the filename header, the first-generation stamp, the cache, and the access rule.

use axum::http::StatusCode;
use electioncart::{
    auth::model::Role,
    payments::razorpay::{FAKE_KEY_SECRET, checkout_signature},
};
use serde_json::{Value, json};
use time::OffsetDateTime;

use crate::{
    cart::{add, call, campaign, package},
    catalog,
    helpers::{
        Backend, TestApp, TestResponse, authed, backends, create_user, fault_binaries_required,
        json_request, token_for,
    },
    orders::{create, exec, shopper},
};

const GSTIN: &str = "09AAACE1234F1Z5";

async fn app(backend: Backend, rate: &str) -> TestApp {
    TestApp::with_env(
        backend,
        &[
            ("RAZORPAY_MODE", "fake"),
            ("INVOICE_SELLER_NAME", "Election Cart"),
            (
                "INVOICE_SELLER_ADDRESS",
                "12 Vidhan Sabha Marg|Lucknow 226001",
            ),
            ("INVOICE_SELLER_GSTIN", GSTIN),
            ("INVOICE_SELLER_STATE", "Uttar Pradesh"),
            ("INVOICE_SELLER_PHONE", "+91 522 400 0000"),
            ("INVOICE_SELLER_EMAIL", "billing@electioncart.test"),
            ("INVOICE_TAX_RATE_PERCENT", rate),
        ],
    )
    .await
}

/// An order of these lines for the customer `token`: its id and number (not yet paid).
async fn order_of_lines(
    app: &TestApp,
    admin: &catalog::Admin,
    token: &str,
    lines: &[(&str, &str, i64)],
) -> (i64, String, String) {
    for (kind, price, quantity) in lines {
        let name = format!(
            "{kind} {price} {}",
            &uuid::Uuid::new_v4().simple().to_string()[..6]
        );
        let id = match *kind {
            "campaign" => campaign(app, admin, &name, price).await,
            _ => package(app, admin, &name, price).await,
        };
        let r = add(
            app,
            token,
            json!({"item_type": kind, "item_id": id, "quantity": quantity}),
        )
        .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    }
    let r = create(app, token).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    let created = r.json();
    (
        created["order"]["id"].as_i64().expect("id"),
        created["order"]["order_number"]
            .as_str()
            .expect("number")
            .to_string(),
        created["razorpay_order_id"]
            .as_str()
            .expect("rzp")
            .to_string(),
    )
}

/// Pays the order through the fake gateway; its invoice number.
async fn pay(app: &TestApp, token: &str, id: i64, rzp: &str) -> String {
    let payment = format!("pay_inv{}", uuid::Uuid::new_v4().simple());
    let signature = checkout_signature(FAKE_KEY_SECRET, rzp, &payment);
    let r = app
        .request(authed(
            json_request(
                "POST",
                &format!("/api/orders/{id}/payment-success/"),
                json!({"razorpay_order_id": rzp, "razorpay_payment_id": payment, "razorpay_signature": signature}),
            ),
            token,
        ))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    r.json()["invoice_number"]
        .as_str()
        .expect("invoice number")
        .to_string()
}

fn customer_path(id: i64) -> String {
    format!("/api/orders/{id}/invoice/download/")
}

fn admin_path(id: i64) -> String {
    format!("/api/admin/orders/{id}/invoice/")
}

/// Whether poppler's tools are here; in CI (or with real services configured) they must be.
fn poppler() -> bool {
    let found = std::process::Command::new("pdftotext")
        .arg("-v")
        .output()
        .is_ok();
    if !found {
        assert!(
            !fault_binaries_required(),
            "pdftotext is missing: install poppler-utils (.ci/run does)"
        );
        eprintln!("PDF text checks skipped: pdftotext (poppler-utils) is not installed");
    }
    found
}

/// Runs a poppler tool on the PDF; its standard output.
fn poppler_tool(tool: &str, args: &[&str], pdf: &[u8]) -> String {
    let dir = tempfile::tempdir().expect("temp dir");
    let file = dir.path().join("invoice.pdf");
    std::fs::write(&file, pdf).expect("write pdf");
    let out = std::process::Command::new(tool)
        .args(args)
        .arg(&file)
        .args(if tool == "pdftotext" {
            &["-"][..]
        } else {
            &[][..]
        })
        .output()
        .expect(tool);
    assert!(
        out.status.success(),
        "{tool}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("utf-8")
}

/// `"₹1,85,000.00"` → 18500000 paise (the last amount on the line).
fn last_amount(line: &str) -> i64 {
    let at = line
        .rfind('₹')
        .unwrap_or_else(|| panic!("no amount in {line:?}"));
    let negative = line[..at].ends_with('-');
    let digits: String = line[at..]
        .chars()
        .skip(1)
        .take_while(|c| c.is_ascii_digit() || *c == ',' || *c == '.')
        .filter(|c| c.is_ascii_digit())
        .collect();
    let paise: i64 = digits.parse().expect("amount digits");
    if negative { -paise } else { paise }
}

fn line_with<'a>(text: &'a str, needle: &str) -> Option<&'a str> {
    text.lines().find(|l| l.contains(needle))
}

/// The embedded-font and glyph checks every invoice must pass.
fn assert_fonts_and_glyphs(pdf: &[u8], text: &str) {
    let raw = String::from_utf8_lossy(pdf);
    assert!(
        raw.contains("/FontFile2"),
        "a TrueType font program is embedded"
    );
    let fonts = poppler_tool("pdffonts", &[], pdf);
    let rows: Vec<&str> = fonts
        .lines()
        .skip(2)
        .filter(|l| !l.trim().is_empty())
        .collect();
    assert!(!rows.is_empty(), "{fonts}");
    for row in rows {
        // name type encoding emb sub uni object ID
        let cols: Vec<&str> = row.split_whitespace().collect();
        let n = cols.len();
        assert!(n >= 7, "{row}");
        assert_eq!(
            &cols[n - 5..n - 2],
            ["yes", "yes", "yes"],
            "embedded, subset, ToUnicode: {row}"
        );
        assert!(cols[0].contains("NotoSans"), "{row}");
    }
    let regular =
        ttf_parser::Face::parse(include_bytes!("../../assets/fonts/NotoSans-Regular.ttf"), 0)
            .expect("font");
    let bold = ttf_parser::Face::parse(include_bytes!("../../assets/fonts/NotoSans-Bold.ttf"), 0)
        .expect("font");
    assert!(regular.glyph_index('₹').is_some() && bold.glyph_index('₹').is_some());
    for c in text.chars().filter(|c| !c.is_whitespace()) {
        assert!(
            regular.glyph_index(c).is_some() && bold.glyph_index(c).is_some(),
            "{c:?} (U+{:04X}) has no glyph in the shipped font",
            c as u32
        );
        assert_ne!(c, '\u{FFFD}', "an unmapped glyph in the text");
    }
}

async fn generated_at(app: &TestApp, order: i64) -> Option<OffsetDateTime> {
    const SQL: &str = "SELECT invoice_generated_at FROM payment_history WHERE order_id = $1";
    electioncart::db_read!(&app.state.db, |pool| sqlx::query_scalar::<
        _,
        Option<OffsetDateTime>,
    >(SQL)
    .bind(order)
    .fetch_one(pool)
    .await)
    .expect("history row")
}

async fn touch_order(app: &TestApp, order: i64) {
    let later = OffsetDateTime::now_utc() + time::Duration::seconds(5);
    electioncart::db_write!(&app.state.db, |pool| sqlx::query(
        "UPDATE orders SET updated_at = $1 WHERE id = $2"
    )
    .bind(later)
    .bind(order)
    .execute(pool)
    .await
    .map(|_| ()))
    .expect("touch");
}

fn assert_pdf(r: &TestResponse, filename: &str) {
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert_eq!(r.header("content-type"), Some("application/pdf"));
    assert_eq!(
        r.header("content-disposition"),
        Some(format!("attachment; filename=\"{filename}\"").as_str())
    );
    assert!(r.body.starts_with(b"%PDF-"), "a PDF");
}

#[tokio::test]
async fn a_paid_orders_tax_invoice_from_both_routes() {
    for backend in backends() {
        let app = app(backend, "18").await;
        let admin = catalog::admin(&app).await;
        let (_, token) = shopper(&app, "invoice-buyer").await;
        let (id, number, rzp) = order_of_lines(
            &app,
            &admin,
            &token,
            &[("package", "166500.00", 1), ("campaign", "18500.00", 1)],
        )
        .await;
        let invoice = pay(&app, &token, id, &rzp).await;
        assert!(invoice.starts_with("INV-"), "{invoice}");
        assert_eq!(generated_at(&app, id).await, None, "not generated yet");
        // `INV-<YYYYMMDD IST>-<hex>`: the payment's IST day is also the filename's.
        let filename = format!("Invoice-{invoice}-{}.pdf", &invoice[4..12]);

        let first = call(&app, "GET", &customer_path(id), &token).await;
        assert_pdf(&first, &filename);
        let stamped = generated_at(&app, id).await;
        assert!(
            stamped.is_some(),
            "invoice_generated_at set on first generation"
        );
        let again = call(&app, "GET", &customer_path(id), &token).await;
        assert_eq!(
            again.body, first.body,
            "a warm repeat returns the same bytes"
        );
        let from_admin = call(&app, "GET", &admin_path(id), &admin.token).await;
        assert_pdf(&from_admin, &filename);
        assert_eq!(from_admin.body, first.body);
        // The admin SPA (another origin) reads the filename: CORS exposes the header (D23).
        let cross = app
            .request(authed(
                axum::http::Request::get(admin_path(id))
                    .header("origin", "http://localhost:5173")
                    .body(axum::body::Body::empty())
                    .expect("request"),
                &admin.token,
            ))
            .await;
        assert_pdf(&cross, &filename);
        let exposed = cross
            .header("access-control-expose-headers")
            .unwrap_or_default()
            .to_ascii_lowercase();
        assert!(exposed.contains("content-disposition"), "{exposed:?}");
        // The assigned staff member, from either route.
        let staff = create_user(&app, "invoice-staff", "staff-pass-2026!", Role::Staff).await;
        exec(
            &app,
            &format!(
                "UPDATE orders SET assigned_to = {} WHERE id = {id}",
                staff.id
            ),
        )
        .await;
        let staff_token = token_for(&app, &staff);
        assert_pdf(
            &call(&app, "GET", &admin_path(id), &staff_token).await,
            &filename,
        );
        assert_pdf(
            &call(&app, "GET", &customer_path(id), &staff_token).await,
            &filename,
        );
        // A change of the order renders anew; the first stamp stays.
        touch_order(&app, id).await;
        let rerendered = call(&app, "GET", &customer_path(id), &token).await;
        assert_pdf(&rerendered, &filename);
        assert_eq!(generated_at(&app, id).await, stamped, "stamped once");

        if !poppler() {
            continue;
        }
        let text = poppler_tool("pdftotext", &["-layout"], &first.body);
        for needle in [
            number.as_str(),
            invoice.as_str(),
            GSTIN,
            "TAX INVOICE",
            "₹1,85,000.00",
            "₹1,66,500.00",
            "₹18,500.00",
            "CGST @ 9%",
            "SGST @ 9%",
            "998361",
            "Package",
            "Campaign",
            "Rupees One Lakh Eighty-Five Thousand Only",
            "12 Vidhan Sabha Marg",
            "Uttar Pradesh",
            "invoice-buyer",
            "Razorpay",
            "IST",
            "Thank you for your business!",
        ] {
            assert!(text.contains(needle), "{needle:?} missing from:\n{text}");
        }
        assert!(!text.contains("None"), "{text}");
        assert!(!text.contains("IGST"), "within the state: {text}");
        let taxable = last_amount(line_with(&text, "Taxable Value").expect("taxable line"));
        let cgst = last_amount(line_with(&text, "CGST @ 9%").expect("cgst"));
        let sgst = last_amount(line_with(&text, "SGST @ 9%").expect("sgst"));
        let round_off = line_with(&text, "Round Off").map_or(0, last_amount);
        let total = last_amount(line_with(&text, "Total:").expect("total"));
        assert_eq!(total, 18_500_000);
        assert_eq!(
            taxable + cgst + sgst + round_off,
            total,
            "to the paisa:\n{text}"
        );
        assert_eq!(cgst, sgst);
        assert_eq!((taxable, cgst), (15_677_966, 1_411_017));
        assert_fonts_and_glyphs(&first.body, &text);
        assert_eq!(
            poppler_tool("pdftotext", &["-layout"], &from_admin.body),
            text
        );
    }
}

#[tokio::test]
async fn without_a_tax_rate_there_are_no_tax_lines() {
    for backend in backends() {
        let app = app(backend, "0").await;
        let admin = catalog::admin(&app).await;
        let (_, token) = shopper(&app, "invoice-notax").await;
        let lines: Vec<(&str, &str, i64)> = (0..10)
            .map(|i| {
                (
                    if i % 2 == 0 { "package" } else { "campaign" },
                    "18500.50",
                    1 + i % 3,
                )
            })
            .collect();
        let (id, number, rzp) = order_of_lines(&app, &admin, &token, &lines).await;
        let invoice = pay(&app, &token, id, &rzp).await;
        let r = call(&app, "GET", &customer_path(id), &token).await;
        assert_pdf(&r, &format!("Invoice-{invoice}-{}.pdf", &invoice[4..12]));
        if !poppler() {
            continue;
        }
        let text = poppler_tool("pdftotext", &["-layout"], &r.body);
        for absent in [
            "CGST",
            "SGST",
            "IGST",
            "Taxable Value",
            "Round Off",
            "TAX INVOICE",
        ] {
            assert!(!text.contains(absent), "{absent:?} at rate 0:\n{text}");
        }
        // 19 units at ₹18,500.50.
        assert!(text.contains("₹3,51,509.50"), "{text}");
        assert!(text.contains("₹37,001.00"), "{text}");
        assert!(text.contains("INVOICE") && text.contains(&number) && text.contains(GSTIN));
        assert!(
            text.contains(
                "Rupees Three Lakh Fifty-One Thousand Five Hundred Nine and Fifty Paise Only"
            ),
            "{text}"
        );
        assert_fonts_and_glyphs(&r.body, &text);
    }
}

#[tokio::test]
async fn an_order_marked_paid_without_a_gateway_payment() {
    for backend in backends() {
        let app = app(backend, "18").await;
        let admin = catalog::admin(&app).await;
        let (_, token) = shopper(&app, "invoice-manual").await;
        let (id, number, _) =
            order_of_lines(&app, &admin, &token, &[("package", "1000.00", 1)]).await;
        exec(
            &app,
            &format!("UPDATE orders SET payment_status = 'paid' WHERE id = {id}"),
        )
        .await;
        let r = call(&app, "GET", &admin_path(id), &admin.token).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text());
        let name = r.header("content-disposition").expect("disposition");
        assert!(
            name.starts_with(&format!("attachment; filename=\"Invoice-INV-{number}-")),
            "{name}"
        );
        if poppler() {
            let text = poppler_tool("pdftotext", &["-layout"], &r.body);
            assert!(text.contains(&format!("INV-{number}")), "{text}");
            assert!(text.contains("Transaction ID: N/A"), "{text}");
            assert!(text.contains("Address: N/A"), "{text}");
            assert!(!text.contains("None"), "{text}");
        }
    }
}

#[tokio::test]
async fn who_may_download_and_when() {
    for backend in backends() {
        let app = app(backend, "18").await;
        let admin = catalog::admin(&app).await;
        let (_, token) = shopper(&app, "invoice-owner").await;
        let (_, other) = shopper(&app, "invoice-other").await;
        let staff = create_user(&app, "invoice-staff2", "staff-pass-2026!", Role::Staff).await;
        let staff_token = token_for(&app, &staff);
        let (id, _, rzp) = order_of_lines(&app, &admin, &token, &[("package", "500.00", 1)]).await;

        let not_found = json!({"error": "Order not found"});
        let unpaid = json!({"error": "Invoice is only available for paid orders"});
        let check = |r: TestResponse, status: StatusCode, body: &Value| {
            assert_eq!(r.status, status, "{}", r.text());
            assert_eq!(&r.json(), body);
        };
        // Unpaid: 400 for those who may see the order.
        check(
            call(&app, "GET", &customer_path(id), &token).await,
            StatusCode::BAD_REQUEST,
            &unpaid,
        );
        check(
            call(&app, "GET", &admin_path(id), &admin.token).await,
            StatusCode::BAD_REQUEST,
            &unpaid,
        );
        pay(&app, &token, id, &rzp).await;

        // Another customer, and an unassigned staff member on the customer route: a missing order.
        check(
            call(&app, "GET", &customer_path(id), &other).await,
            StatusCode::NOT_FOUND,
            &not_found,
        );
        check(
            call(&app, "GET", &customer_path(id), &staff_token).await,
            StatusCode::NOT_FOUND,
            &not_found,
        );
        // The owner on the admin route is not staff (the DRF permission body).
        let r = call(&app, "GET", &admin_path(id), &token).await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.text());
        assert_eq!(
            r.json(),
            json!({"detail": "You do not have permission to perform this action."})
        );
        // Unassigned staff on the admin route: the contract's 403.
        check(
            call(&app, "GET", &admin_path(id), &staff_token).await,
            StatusCode::FORBIDDEN,
            &json!({"error": "You can only download invoices for orders assigned to you"}),
        );
        // Missing and malformed ids.
        for path in [
            customer_path(999_999),
            "/api/orders/abc/invoice/download/".into(),
        ] {
            check(
                call(&app, "GET", &path, &token).await,
                StatusCode::NOT_FOUND,
                &not_found,
            );
        }
        check(
            call(&app, "GET", &admin_path(999_999), &admin.token).await,
            StatusCode::NOT_FOUND,
            &not_found,
        );
        // Anonymous: 401 with the DRF body.
        for path in [customer_path(id), admin_path(id)] {
            let r = app.get(&path).await;
            assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{path}");
            assert_eq!(
                r.json(),
                json!({"detail": "Authentication credentials were not provided."})
            );
            assert_eq!(r.header("www-authenticate"), Some("Bearer"));
        }
        // Admins: any order; the owner: their own.
        assert_eq!(
            call(&app, "GET", &admin_path(id), &admin.token)
                .await
                .status,
            StatusCode::OK
        );
        assert_eq!(
            call(&app, "GET", &customer_path(id), &admin.token)
                .await
                .status,
            StatusCode::OK
        );
        assert_eq!(
            call(&app, "GET", &customer_path(id), &token).await.status,
            StatusCode::OK
        );
    }
}

#[tokio::test]
async fn the_invoice_subcommand_renders_one_offline() {
    for backend in backends() {
        let app = app(backend, "18").await;
        let admin = catalog::admin(&app).await;
        let (_, token) = shopper(&app, "invoice-cli").await;
        let (id, number, rzp) =
            order_of_lines(&app, &admin, &token, &[("package", "18500.00", 2)]).await;
        let run = |order: i64, out: &std::path::Path| {
            std::process::Command::new(env!("CARGO_BIN_EXE_electioncart"))
                .args(["invoice", &order.to_string(), "--out"])
                .arg(out)
                .env_clear()
                .env("PATH", std::env::var("PATH").unwrap_or_default())
                .env("DATABASE_URL", &app.db.url)
                .env("RUST_LOG", "warn")
                .env(
                    "DJANGO_SECRET_KEY",
                    "test-secret-key-that-is-long-enough-0123456789",
                )
                .env("INVOICE_SELLER_GSTIN", GSTIN)
                .env("INVOICE_TAX_RATE_PERCENT", "18")
                .output()
                .expect("run electioncart")
        };
        let dir = tempfile::tempdir().expect("temp dir");
        let out = dir.path().join("invoice.pdf");
        let unpaid = run(id, &out);
        assert!(!unpaid.status.success(), "{unpaid:?}");
        assert!(
            String::from_utf8_lossy(&unpaid.stderr).contains("not paid"),
            "{unpaid:?}"
        );
        assert!(!out.exists());
        let missing = run(999_999, &out);
        assert!(!missing.status.success());
        assert!(String::from_utf8_lossy(&missing.stderr).contains("not found"));

        let invoice = pay(&app, &token, id, &rzp).await;
        let done = run(id, &out);
        assert!(done.status.success(), "{done:?}");
        let stdout = String::from_utf8_lossy(&done.stdout);
        assert!(
            stdout.contains(&format!("Invoice-{invoice}-{}.pdf", &invoice[4..12])),
            "{stdout}"
        );
        let pdf = std::fs::read(&out).expect("the PDF");
        assert!(pdf.starts_with(b"%PDF-"));
        assert!(
            generated_at(&app, id).await.is_some(),
            "stamped by the CLI too"
        );
        if poppler() {
            let text = poppler_tool("pdftotext", &["-layout"], &pdf);
            assert!(
                text.contains(&number) && text.contains("₹37,000.00"),
                "{text}"
            );
            assert!(text.contains("CGST @ 9%") && text.contains(GSTIN), "{text}");
        }
    }
}

#[test]
fn check_warns_without_a_gstin_in_production() {
    let check = |gstin: Option<&str>| {
        let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_electioncart"));
        cmd.arg("check")
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("APP_ENV", "production")
            .env(
                "DJANGO_SECRET_KEY",
                "a-production-secret-that-is-long-enough-0123456789",
            )
            .env("ALLOWED_HOSTS", "api.example.com")
            .env("DATABASE_URL", "postgres://app@db.invalid/app")
            .env("CLIENT_IP_SOURCE", "x-real-ip")
            .env("CORS_ALLOWED_ORIGINS", "https://admin.example.com")
            .env("RAZORPAY_KEY_ID", "rzp_live_example")
            .env("RAZORPAY_KEY_SECRET", "razorpay-key-secret")
            .env("RAZORPAY_WEBHOOK_SECRET", "razorpay-webhook-secret");
        if let Some(gstin) = gstin {
            cmd.env("INVOICE_SELLER_GSTIN", gstin);
        }
        cmd.output().expect("run electioncart check")
    };
    let without = check(None);
    let stderr = String::from_utf8_lossy(&without.stderr);
    assert!(
        without.status.success(),
        "a warning, not a problem: {stderr}"
    );
    assert!(stderr.contains("warning: INVOICE_SELLER_GSTIN"), "{stderr}");
    let with = check(Some(GSTIN));
    assert!(with.status.success());
    assert!(!String::from_utf8_lossy(&with.stderr).contains("GSTIN"));
}
