//! The admin order list's filters, alone and combined, on SQLite and PostgreSQL (issue 12): each
//! filter is in the statement only when set, and the date bounds are days in IST (an order at
//! 00:00:00 IST belongs to that day, one a second earlier to the day before).

use axum::http::StatusCode;
use electioncart::auth::model::Role;
use serde_json::Value;
use time::{OffsetDateTime, macros::datetime};

use crate::{
    cart::call,
    helpers::{TestApp, backends, create_user, token_for},
};

async fn order(
    app: &TestApp,
    customer: i64,
    number: &str,
    (status, payment, source): (&str, &str, &str),
    assignee: Option<i64>,
    created: OffsetDateTime,
) -> i64 {
    electioncart::db_write!(&app.state.db, |pool| sqlx::query_scalar(
        "INSERT INTO orders (user_id, order_number, total_paise, status, payment_status, \
         order_source, assigned_to, created_at, updated_at) \
         VALUES ($1, $2, 100000, $3, $4, $5, $6, $7, $7) RETURNING id"
    )
    .bind(customer)
    .bind(number)
    .bind(status)
    .bind(payment)
    .bind(source)
    .bind(assignee)
    // Stored in UTC, as the server writes every timestamp.
    .bind(created.to_offset(time::UtcOffset::UTC))
    .fetch_one(pool)
    .await)
    .expect("insert order")
}

#[tokio::test]
async fn the_admin_list_filters_combine_at_ist_day_edges() {
    for backend in backends() {
        let app = TestApp::new(backend).await;
        let admin = create_user(&app, "list-admin", "admin-pass-2026!", Role::Admin).await;
        let token = token_for(&app, &admin);
        let s1 = create_user(&app, "list-staff-1", "staff-pass-2026!", Role::Staff).await;
        let s2 = create_user(&app, "list-staff-2", "staff-pass-2026!", Role::Staff).await;
        let anna = create_user(&app, "list-anna", "customer-pass-2026", Role::User).await;
        let bob = create_user(&app, "list-bob", "customer-pass-2026", Role::User).await;
        let o1 = order(
            &app,
            anna.id,
            "ORD-L-0001",
            ("completed", "paid", "website"),
            Some(s1.id),
            datetime!(2026-03-15 00:00:00 +05:30),
        )
        .await;
        let o2 = order(
            &app,
            anna.id,
            "ORD-L-0002",
            ("pending_payment", "unpaid", "phone_call"),
            None,
            datetime!(2026-03-14 23:59:59 +05:30),
        )
        .await;
        let o3 = order(
            &app,
            bob.id,
            "ORD-L-0003",
            ("pending_resources", "paid", "website"),
            None,
            datetime!(2026-03-15 12:00:00 +05:30),
        )
        .await;
        let o4 = order(
            &app,
            anna.id,
            "ORD-L-0004",
            ("on_hold", "partial", "whatsapp"),
            Some(s2.id),
            datetime!(2026-03-16 00:00:00 +05:30),
        )
        .await;
        let staff1 = format!("staff={}", s1.id);
        let cases: Vec<(&str, Vec<i64>)> = vec![
            ("", vec![o4, o3, o1, o2]),
            ("start_date=2026-03-15", vec![o4, o3, o1]),
            ("end_date=2026-03-15", vec![o3, o1, o2]),
            ("start_date=2026-03-15&end_date=2026-03-15", vec![o3, o1]),
            (
                "start_date=2026-03-15T00:00:00%2B05:30&end_date=2026-03-15T12:00:00Z",
                vec![o3, o1],
            ),
            ("status=pending", vec![o3, o2]),
            ("status=pending&search=LIST-BOB", vec![o3]),
            ("payment_status=paid&assigned_to=unassigned", vec![o3]),
            ("order_source=whatsapp", vec![o4]),
            ("source=phone_call", vec![o2]),
            (&staff1, vec![o1]),
            ("search=ord-l-0002", vec![o2]),
            ("search=%25", vec![]),
            (
                "status=completed&payment_status=paid&order_source=website&start_date=2026-03-15&search=anna",
                vec![o1],
            ),
        ];
        for (query, expected) in cases {
            let r = call(&app, "GET", &format!("/api/admin/orders/?{query}"), &token).await;
            assert_eq!(r.status, StatusCode::OK, "{query}: {}", r.text());
            let ids: Vec<i64> = r
                .json()
                .as_array()
                .expect("array")
                .iter()
                .map(|o| o["id"].as_i64().unwrap_or(0))
                .collect();
            assert_eq!(ids, expected, "{query}");
        }
        // The last representable day: its next midnight does not exist (a 400, not a panic); an
        // offset pushing it past year 9999 in UTC is never a 5xx either.
        let r = call(
            &app,
            "GET",
            "/api/admin/orders/?end_date=9999-12-31",
            &token,
        )
        .await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.text());
        let query = "start_date=9999-12-31T23:00:00-05:00";
        let r = call(&app, "GET", &format!("/api/admin/orders/?{query}"), &token).await;
        assert!(r.status.as_u16() < 500, "{query}: {}", r.status);
        let page = |query: &'static str| {
            let token = token.clone();
            let app = &app;
            async move {
                let r = call(app, "GET", &format!("/api/admin/orders/?{query}"), &token).await;
                let ids: Vec<i64> = r
                    .json()
                    .as_array()
                    .expect("array")
                    .iter()
                    .map(|o: &Value| o["id"].as_i64().unwrap_or(0))
                    .collect();
                (ids, r.header("x-has-more").map(str::to_string))
            }
        };
        assert_eq!(page("limit=2").await, (vec![o4, o3], Some("true".into())));
        assert_eq!(
            page("limit=2&offset=2").await,
            (vec![o1, o2], Some("false".into()))
        );
        // The staff list is the same statement with the caller as assignee.
        let r = call(&app, "GET", "/api/staff/orders/", &token_for(&app, &s2)).await;
        let ids: Vec<i64> = r
            .json()
            .as_array()
            .expect("array")
            .iter()
            .map(|o| o["id"].as_i64().unwrap_or(0))
            .collect();
        assert_eq!(ids, vec![o4]);
        app.state.db.close().await;
    }
}
