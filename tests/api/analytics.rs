//! Analytics, export and global search through the router on SQLite and PostgreSQL (issue 13):
//! every figure of every route against a value the test computes from the orders it seeded
//! (months, statuses, staff, products, the IST midnight and month edges); the CSV byte for byte but
//! for its timestamps; no stale figure after a payment, a status change or an assignment, on a
//! second instance too; 400 bodies for bad parameters; 403 for staff and customers, 401 anonymous.

use std::collections::BTreeMap;

use axum::http::StatusCode;
use electioncart::{
    auth::model::{Role, User},
    payments::razorpay::{FAKE_KEY_SECRET, checkout_signature},
};
use serde_json::{Value, json};
use time::{
    Date, Duration, OffsetDateTime, PrimitiveDateTime, Time, UtcOffset, macros::format_description,
};

use crate::{
    cart::{add, call, campaign, package},
    catalog::Admin,
    helpers::{
        TestApp, TestResponse, authed, backends, create_user, json_request, test_config, token_for,
    },
    images::multipart_request,
    orders::{create, exec},
};

const IST: UtcOffset = match UtcOffset::from_hms(5, 30, 0) {
    Ok(o) => o,
    Err(_) => UtcOffset::UTC,
};
const PAID_STATUSES: [&str; 4] = [
    "ready_for_processing",
    "assigned",
    "in_progress",
    "completed",
];

/// One seeded order.
#[derive(Debug, Clone)]
struct Spec {
    status: &'static str,
    created: OffsetDateTime,
    paid_at: Option<OffsetDateTime>,
    updated: OffsetDateTime,
    assignee: Option<i64>,
    /// `(type, product id, quantity, unit price in paise)`.
    lines: Vec<(&'static str, i64, i32, i64)>,
}

impl Spec {
    fn total(&self) -> i64 {
        self.lines
            .iter()
            .map(|(_, _, q, p)| i64::from(*q) * p)
            .sum()
    }

    fn revenue_counts(&self) -> bool {
        PAID_STATUSES.contains(&self.status) && self.paid_at.is_some()
    }
}

type Win = (Option<OffsetDateTime>, Option<OffsetDateTime>);

fn inside(t: OffsetDateTime, (lo, hi): Win) -> bool {
    lo.is_none_or(|lo| t >= lo) && hi.is_none_or(|hi| t <= hi)
}

/// The seeded world: users, products and orders, and the figures computed from them.
struct World {
    app: TestApp,
    admin: User,
    admin_token: String,
    staff: Vec<User>,
    staff_tokens: Vec<String>,
    customer_token: String,
    names: BTreeMap<(&'static str, i64), String>,
    specs: Vec<Spec>,
    now: OffsetDateTime,
    /// 00:00 IST on the first of this IST month.
    ist_month: OffsetDateTime,
    /// 00:00 UTC on the first of this UTC month.
    utc_month: OffsetDateTime,
}

fn first_of_month(t: OffsetDateTime, zone: UtcOffset) -> OffsetDateTime {
    let local = t.to_offset(zone);
    let day = Date::from_calendar_date(local.year(), local.month(), 1).expect("first");
    PrimitiveDateTime::new(day, Time::MIDNIGHT).assume_offset(zone)
}

async fn insert(app: &TestApp, customer: i64, n: usize, spec: &Spec) {
    let number = format!("ORD-AN-{n:04}");
    let id: i64 = electioncart::db_write!(&app.state.db, |pool| sqlx::query_scalar(
        "INSERT INTO orders (user_id, order_number, total_paise, status, payment_status, \
         payment_completed_at, assigned_to, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id"
    )
    .bind(customer)
    .bind(&number)
    .bind(spec.total())
    .bind(spec.status)
    .bind(if spec.paid_at.is_some() {
        "paid"
    } else {
        "unpaid"
    })
    .bind(spec.paid_at)
    .bind(spec.assignee)
    .bind(spec.created)
    .bind(spec.updated)
    .fetch_one(pool)
    .await)
    .expect("insert order");
    for (kind, product, quantity, price) in &spec.lines {
        electioncart::db_write!(&app.state.db, |pool| sqlx::query(
            "INSERT INTO order_items (order_id, product_type, product_id, product_name, quantity, \
             price_paise) VALUES ($1, $2, $3, 'snapshot', $4, $5)"
        )
        .bind(id)
        .bind(*kind)
        .bind(*product)
        .bind(*quantity)
        .bind(*price)
        .execute(pool)
        .await
        .map(|_| ()))
        .expect("insert line");
    }
}

async fn world(app: TestApp) -> World {
    let admin = create_user(&app, "an-admin", "admin-pass-2026!", Role::Admin).await;
    let admin_token = token_for(&app, &admin);
    let mut staff = Vec::new();
    let mut staff_tokens = Vec::new();
    for name in ["an-staff-1", "an-staff-2", "an-staff-idle"] {
        let user = create_user(&app, name, "staff-pass-2026!", Role::Staff).await;
        staff_tokens.push(token_for(&app, &user));
        staff.push(user);
    }
    exec(
        &app,
        &format!(
            "UPDATE users SET phone_number = '+919000000002' WHERE id = {}",
            staff[0].id
        ),
    )
    .await;
    let customer = create_user(&app, "an-customer", "customer-pass-2026", Role::User).await;
    let customer_token = token_for(&app, &customer);
    let a = Admin {
        token: admin_token.clone(),
    };
    let p1 = package(&app, &a, "Poster Pack", "1000.00").await;
    let p2 = package(&app, &a, "Banner, \"Big\" Pack", "250.50").await;
    let c1 = campaign(&app, &a, "Auto Rickshaw Campaign", "999.50").await;
    let mut names = BTreeMap::new();
    names.insert(("package", p1), "Poster Pack".to_string());
    names.insert(("package", p2), "Banner, \"Big\" Pack".to_string());
    names.insert(("campaign", c1), "Auto Rickshaw Campaign".to_string());

    let now = OffsetDateTime::now_utc()
        .replace_nanosecond(0)
        .expect("now");
    let ist_month = first_of_month(now, IST);
    let utc_month = first_of_month(now, UtcOffset::UTC);
    let (s1, s2) = (Some(staff[0].id), Some(staff[1].id));
    let h = Duration::hours(1);
    let d = Duration::days(1);
    let s = Duration::seconds(1);
    let spec =
        |status, created: OffsetDateTime, paid: Option<OffsetDateTime>, assignee, lines| Spec {
            status,
            created,
            paid_at: paid,
            updated: paid.unwrap_or(created) + h,
            assignee,
            lines,
        };
    let specs = vec![
        spec(
            "completed",
            ist_month - 3 * d,
            Some(ist_month - 3 * d + h),
            s1,
            vec![("package", p1, 2, 100_000)],
        ),
        // The last second of the previous IST month, and the first of this one.
        spec(
            "assigned",
            ist_month - 2 * h,
            Some(ist_month - s),
            s1,
            vec![("campaign", c1, 1, 99_950)],
        ),
        spec(
            "in_progress",
            ist_month - h,
            Some(ist_month),
            s2,
            vec![("package", p1, 1, 100_000), ("campaign", c1, 3, 99_950)],
        ),
        spec(
            "ready_for_processing",
            now - 3 * h,
            Some(now - 2 * h),
            None,
            vec![("package", p2, 1, 25_050)],
        ),
        // Paid but not yet resourced: no revenue, but a paid order for the conversion.
        spec(
            "pending_resources",
            now - 4 * h,
            Some(now - 3 * h),
            None,
            vec![("package", p1, 1, 100_000)],
        ),
        spec(
            "pending_payment",
            now - h,
            None,
            None,
            vec![("package", p1, 1, 100_000)],
        ),
        spec(
            "cancelled",
            ist_month + h,
            Some(ist_month + 2 * h),
            s2,
            vec![("campaign", c1, 1, 99_950)],
        ),
        spec(
            "on_hold",
            now - 5 * d,
            None,
            s1,
            vec![("package", p2, 2, 25_050)],
        ),
        // A product deleted since: "Unknown Product".
        spec(
            "completed",
            now - 100 * d,
            Some(now - 100 * d + h),
            s1,
            vec![("package", 999_999, 4, 10_000)],
        ),
        spec(
            "completed",
            now - 45 * d,
            Some(now - 45 * d),
            s2,
            vec![("package", p2, 5, 25_050), ("campaign", c1, 1, 99_950)],
        ),
        // Completed without a payment (a manual order closed by hand): never revenue.
        spec(
            "completed",
            now - 2 * d,
            None,
            s2,
            vec![("package", p1, 1, 100_000)],
        ),
        // The UTC month's edges (the overview's default window).
        spec(
            "completed",
            utc_month - s,
            Some(utc_month - s),
            s1,
            vec![("campaign", c1, 2, 99_950)],
        ),
        spec(
            "completed",
            utc_month,
            Some(utc_month),
            s1,
            vec![("package", p1, 3, 100_000)],
        ),
        // Older than a year: outside every trend.
        spec(
            "completed",
            now - 400 * d,
            Some(now - 400 * d),
            s2,
            vec![("package", p1, 1, 100_000)],
        ),
    ];
    for (n, spec) in specs.iter().enumerate() {
        insert(&app, customer.id, n, spec).await;
    }
    World {
        app,
        admin,
        admin_token,
        staff,
        staff_tokens,
        customer_token,
        names,
        specs,
        now,
        ist_month,
        utc_month,
    }
}

// ---- the figures, computed from the specs ---------------------------------------------------------

fn revenue(w: &World, win: Win) -> Value {
    let paid: Vec<&Spec> = w
        .specs
        .iter()
        .filter(|s| s.revenue_counts() && s.paid_at.is_some_and(|t| inside(t, win)))
        .collect();
    let sum: i64 = paid.iter().map(|s| s.total()).sum();
    let count = paid.len() as i64;
    let avg = if count == 0 {
        0.0
    } else {
        sum as f64 / 100.0 / count as f64
    };
    json!({"total_revenue": sum as f64 / 100.0, "order_count": count, "average_order_value": avg})
}

/// `round(part / whole × 100, 2)`, or the integer 0.
fn rate(part: usize, whole: usize) -> Value {
    if whole == 0 {
        json!(0)
    } else {
        let x = part as f64 * 100.0 / whole as f64;
        json!((x * 100.0).round() / 100.0)
    }
}

fn conversion(w: &World, win: Win) -> Value {
    let created: Vec<&Spec> = w.specs.iter().filter(|s| inside(s.created, win)).collect();
    let paid = created.iter().filter(|s| s.paid_at.is_some()).count();
    json!({"total_orders": created.len(), "paid_orders": paid,
           "conversion_rate": rate(paid, created.len())})
}

fn label(status: &str) -> &'static str {
    match status {
        "pending_payment" => "Pending Payment",
        "pending_resources" => "Pending Resources",
        "ready_for_processing" => "Ready for Processing",
        "assigned" => "Assigned to Staff",
        "in_progress" => "In Progress",
        "completed" => "Completed",
        "cancelled" => "Cancelled",
        "on_hold" => "On Hold",
        _ => "?",
    }
}

fn distribution(w: &World, win: Win) -> Value {
    let mut counts: BTreeMap<&str, i64> = BTreeMap::new();
    for s in w.specs.iter().filter(|s| inside(s.created, win)) {
        *counts.entry(s.status).or_default() += 1;
    }
    let mut map = serde_json::Map::new();
    for (status, count) in counts {
        map.insert(
            status.into(),
            json!({"label": label(status), "count": count}),
        );
    }
    Value::Object(map)
}

fn top_products(w: &World, win: Win, limit: usize) -> Vec<Value> {
    let mut sold: BTreeMap<(&str, i64), (i64, i64)> = BTreeMap::new();
    for s in w
        .specs
        .iter()
        .filter(|s| s.revenue_counts() && s.paid_at.is_some_and(|t| inside(t, win)))
    {
        for (kind, id, q, price) in &s.lines {
            let e = sold.entry((*kind, *id)).or_default();
            e.0 += i64::from(*q);
            e.1 += i64::from(*q) * price;
        }
    }
    let mut rows: Vec<_> = sold.into_iter().collect();
    rows.sort_by(|a, b| {
        b.1.0
            .cmp(&a.1.0)
            .then(b.1.1.cmp(&a.1.1))
            .then(a.0.cmp(&b.0))
    });
    rows.into_iter()
        .take(limit)
        .map(|((kind, id), (qty, paise))| {
            let (kind, name) = match w.names.get(&(kind, id)) {
                Some(n) => (kind, n.as_str()),
                None => ("unknown", "Unknown Product"),
            };
            json!({"product_id": id, "product_type": kind, "product_name": name,
                   "quantity_sold": qty, "revenue": paise as f64 / 100.0})
        })
        .collect()
}

fn staff_rows(w: &World, win: Win) -> Vec<Value> {
    let mut people: Vec<&User> = w.staff.iter().chain(std::iter::once(&w.admin)).collect();
    people.sort_by_key(|u| u.id);
    let mut rows: Vec<(i64, Value)> = people
        .iter()
        .map(|u| {
            let mine: Vec<&Spec> = w
                .specs
                .iter()
                .filter(|s| s.assignee == Some(u.id) && inside(s.updated, win))
                .collect();
            let done = mine.iter().filter(|s| s.status == "completed").count();
            let phone = if u.id == w.staff[0].id {
                "+919000000002"
            } else {
                ""
            };
            (
                mine.len() as i64,
                json!({"staff_id": u.id, "staff_name": u.username, "phone_number": phone,
                       "role": u.role.as_str(), "assigned_orders": mine.len(),
                       "completed_orders": done, "completion_rate": rate(done, mine.len())}),
            )
        })
        .collect();
    rows.sort_by_key(|r| std::cmp::Reverse(r.0));
    rows.into_iter().map(|(_, v)| v).collect()
}

fn trend(w: &World, months: i64) -> Vec<Value> {
    let win = (Some(w.now - Duration::days(30 * months)), Some(w.now));
    let mut by_month: BTreeMap<String, (i64, i64)> = BTreeMap::new();
    for s in w.specs.iter().filter(|s| s.revenue_counts()) {
        let Some(t) = s.paid_at.filter(|t| inside(*t, win)) else {
            continue;
        };
        let local = t.to_offset(IST);
        let e = by_month
            .entry(format!("{}-{:02}", local.year(), u8::from(local.month())))
            .or_default();
        e.0 += 1;
        e.1 += s.total();
    }
    by_month
        .into_iter()
        .map(|(month, (count, paise))| {
            let (y, m) = month.split_once('-').expect("month");
            let name = time::Month::try_from(m.parse::<u8>().expect("m")).expect("month");
            json!({"month": month, "month_label": format!("{name} {y}"),
                   "revenue": paise as f64 / 100.0, "order_count": count})
        })
        .collect()
}

/// Equal JSON, floats within a relative 1e-12 (and a float where a float is expected).
fn assert_json(actual: &Value, expected: &Value, at: &str) {
    match (actual, expected) {
        (Value::Number(a), Value::Number(e)) if e.is_f64() => {
            assert!(a.is_f64(), "{at}: {a} should be a float like {e}");
            let (a, e) = (a.as_f64().unwrap_or(f64::NAN), e.as_f64().unwrap_or(0.0));
            assert!(
                (a - e).abs() <= 1e-12 * e.abs().max(1.0),
                "{at}: {a} != {e}"
            );
        }
        (Value::Array(a), Value::Array(e)) => {
            assert_eq!(a.len(), e.len(), "{at}: {actual} vs {expected}");
            for (i, (x, y)) in a.iter().zip(e).enumerate() {
                assert_json(x, y, &format!("{at}[{i}]"));
            }
        }
        (Value::Object(a), Value::Object(e)) => {
            let ak: Vec<&String> = a.keys().collect();
            let ek: Vec<&String> = e.keys().collect();
            assert_eq!(ak, ek, "{at}: keys of {actual}");
            for (k, y) in e {
                assert_json(&a[k], y, &format!("{at}.{k}"));
            }
        }
        _ => assert_eq!(actual, expected, "{at}"),
    }
}

async fn data(w: &World, path: &str) -> Value {
    let r = call(&w.app, "GET", path, &w.admin_token).await;
    assert_eq!(r.status, StatusCode::OK, "{path}: {}", r.text());
    let body = r.json();
    assert_eq!(body["success"], true, "{path}");
    body["data"].clone()
}

fn naive(t: OffsetDateTime) -> String {
    t.to_offset(IST)
        .format(format_description!(
            "[year]-[month]-[day]T[hour]:[minute]:[second]"
        ))
        .expect("format")
}

fn day(t: OffsetDateTime, zone: UtcOffset) -> String {
    t.to_offset(zone).date().to_string()
}

fn midnight(t: OffsetDateTime) -> OffsetDateTime {
    PrimitiveDateTime::new(t.to_offset(IST).date(), Time::MIDNIGHT).assume_offset(IST)
}

fn zulu(t: OffsetDateTime) -> String {
    t.to_offset(UtcOffset::UTC)
        .format(format_description!(
            "[year]-[month]-[day]T[hour]:[minute]:[second]Z"
        ))
        .expect("format")
}

#[tokio::test]
async fn every_figure_equals_the_seeded_orders() {
    for backend in backends() {
        let w = world(TestApp::new(backend).await).await;
        let tomorrow = w.now + Duration::days(1);
        // (query, window, the overview's date_range echo)
        let windows: Vec<(String, Win, Value)> = vec![
            (
                format!(
                    "start_date={}&end_date={}",
                    day(w.ist_month, IST),
                    day(tomorrow, IST)
                ),
                (Some(w.ist_month), Some(midnight(tomorrow))),
                json!({"start_date": format!("{}T00:00:00", day(w.ist_month, IST)),
                       "end_date": format!("{}T00:00:00", day(tomorrow, IST))}),
            ),
            (
                // A naive datetime is IST; the IST month's last second is inside.
                format!(
                    "start_date={}&end_date={}",
                    naive(w.ist_month - Duration::seconds(1)),
                    zulu(tomorrow)
                ),
                (Some(w.ist_month - Duration::seconds(1)), Some(tomorrow)),
                json!({"start_date": naive(w.ist_month - Duration::seconds(1)),
                       "end_date": format!("{}+00:00", &zulu(tomorrow)[..19])}),
            ),
            (
                // A date-only end_date is midnight at the start of that day (the original's rule).
                format!("end_date={}", day(w.ist_month, IST)),
                (None, Some(w.ist_month)),
                json!({"start_date": null, "end_date": format!("{}T00:00:00", day(w.ist_month, IST))}),
            ),
            (
                format!("start_date={}", zulu(w.utc_month).replace('Z', "%2B00:00")),
                (Some(w.utc_month), None),
                json!({"start_date": format!("{}+00:00", &zulu(w.utc_month)[..19]), "end_date": null}),
            ),
        ];
        for (query, win, echo) in &windows {
            let d = data(&w, &format!("/api/admin/analytics/overview/?{query}")).await;
            assert_json(
                &d["revenue"],
                &revenue(&w, *win),
                &format!("overview {query}"),
            );
            assert_json(
                &d["conversion"],
                &conversion(&w, *win),
                &format!("conversion {query}"),
            );
            assert_json(&d["order_distribution"], &distribution(&w, *win), query);
            assert_eq!(d["date_range"], *echo, "{query}");
            let d = data(
                &w,
                &format!("/api/admin/analytics/order-distribution/?{query}"),
            )
            .await;
            assert_json(&d, &distribution(&w, *win), query);
            let d = data(
                &w,
                &format!("/api/admin/analytics/top-products/?{query}&limit=10"),
            )
            .await;
            assert_json(&d, &json!(top_products(&w, *win, 10)), query);
            let d = data(
                &w,
                &format!("/api/admin/analytics/staff-performance/?{query}"),
            )
            .await;
            assert_json(&d, &json!(staff_rows(&w, *win)), query);
        }

        // Without dates: the overview is this UTC month to now; the others are all time.
        let default = (Some(w.utc_month), Some(OffsetDateTime::now_utc()));
        let d = data(&w, "/api/admin/analytics/overview/").await;
        assert_json(&d["revenue"], &revenue(&w, default), "default overview");
        assert_json(
            &d["conversion"],
            &conversion(&w, default),
            "default conversion",
        );
        assert_eq!(
            d["date_range"]["start_date"],
            format!("{}+00:00", &zulu(w.utc_month)[..19])
        );
        assert!(
            d["date_range"]["end_date"]
                .as_str()
                .is_some_and(|e| e.ends_with("+00:00"))
        );
        let all = (None, None);
        assert_json(
            &data(&w, "/api/admin/analytics/top-products/").await,
            &json!(top_products(&w, all, 5)),
            "top 5",
        );
        assert_json(
            &data(&w, "/api/admin/analytics/top-products/?limit=1").await,
            &json!(top_products(&w, all, 1)),
            "top 1",
        );
        assert_eq!(
            data(&w, "/api/admin/analytics/top-products/?limit=0").await,
            json!([])
        );
        assert_json(
            &data(&w, "/api/admin/analytics/staff-performance/").await,
            &json!(staff_rows(&w, all)),
            "staff",
        );
        assert_json(
            &data(&w, "/api/admin/analytics/order-distribution/").await,
            &distribution(&w, all),
            "distribution",
        );
        for months in [1, 3, 12, 24] {
            assert_json(
                &data(
                    &w,
                    &format!("/api/admin/analytics/revenue-trend/?months={months}"),
                )
                .await,
                &json!(trend(&w, months)),
                &format!("trend {months}"),
            );
        }
        assert_json(
            &data(&w, "/api/admin/analytics/revenue-trend/").await,
            &json!(trend(&w, 12)),
            "trend default",
        );

        // The admin SPA's page: all orders, the same formulas.
        let r = call(&w.app, "GET", "/api/admin/analytics/", &w.admin_token).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text());
        let page = r.json();
        let rev = revenue(&w, all);
        let conv = conversion(&w, all);
        assert_json(
            &page["total_revenue"],
            &rev["total_revenue"],
            "page revenue",
        );
        assert_json(
            &page["avg_order_value"],
            &rev["average_order_value"],
            "page average",
        );
        assert_eq!(page["total_orders"], conv["total_orders"]);
        assert_eq!(page["paid_orders"], conv["paid_orders"]);
        let completed = w.specs.iter().filter(|s| s.status == "completed").count();
        let expected_rate = rate(completed, w.specs.len()).as_f64().unwrap_or(0.0);
        assert_json(
            &page["completion_rate"],
            &json!(expected_rate),
            "page completion",
        );
        let trend12 = trend(&w, 12);
        let page_trend = page["revenue_trend"].as_array().expect("trend");
        assert_eq!(page_trend.len(), trend12.len());
        for (p, t) in page_trend.iter().zip(&trend12) {
            assert_eq!(p["date"], t["month"]);
            assert_json(&p["revenue"], &t["revenue"], "page trend");
        }
        let dist = distribution(&w, all);
        let page_dist = page["order_distribution"].as_array().expect("distribution");
        assert_eq!(page_dist.len(), dist.as_object().map_or(0, |m| m.len()));
        for entry in page_dist {
            let status = entry["status"].as_str().expect("status");
            assert_eq!(entry["count"], dist[status]["count"], "{status}");
        }
        w.app.state.db.close().await;
    }
}

fn csv_money(paise: i64) -> String {
    format!("₹{}.{:02}", paise / 100, paise % 100)
}

#[tokio::test]
async fn the_export_is_the_contracts_csv() {
    for backend in backends() {
        let w = world(TestApp::new(backend).await).await;
        let tomorrow = w.now + Duration::days(1);
        let start = day(w.ist_month - Duration::days(60), IST);
        let end = day(tomorrow, IST);
        let win = (
            Some(midnight(w.ist_month - Duration::days(60))),
            Some(midnight(tomorrow)),
        );
        let r = call(
            &w.app,
            "GET",
            &format!("/api/admin/analytics/export/?start_date={start}&end_date={end}"),
            &w.admin_token,
        )
        .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text());
        assert!(
            r.header("content-type")
                .is_some_and(|c| c.starts_with("text/csv"))
        );
        let disposition = r
            .header("content-disposition")
            .expect("disposition")
            .to_string();
        assert!(
            disposition.starts_with("attachment; filename=\"analytics_export_")
                && disposition.ends_with(".csv\"")
                && disposition.len()
                    == "attachment; filename=\"analytics_export_20261125_173005.csv\"".len(),
            "{disposition}"
        );
        let text = r.text();
        assert!(!text.starts_with('\u{feff}'), "no BOM");
        let lines: Vec<&str> = text.split("\r\n").collect();
        assert!(lines[1].starts_with("Generated:,"), "{}", lines[1]);
        assert_eq!(lines[1].len(), "Generated:,2026-11-25 17:30:05".len());
        let body: String = lines
            .iter()
            .enumerate()
            .filter(|(i, _)| *i != 1)
            .map(|(_, l)| format!("{l}\r\n"))
            .collect();

        let rev = revenue(&w, win);
        let paid: Vec<&Spec> = w
            .specs
            .iter()
            .filter(|s| s.revenue_counts() && s.paid_at.is_some_and(|t| inside(t, win)))
            .collect();
        let sum: i64 = paid.iter().map(|s| s.total()).sum();
        let conv = conversion(&w, win);
        let conv_rate = match &conv["conversion_rate"] {
            v if v.is_f64() => {
                let x = v.as_f64().unwrap_or(0.0);
                if x.fract() == 0.0 {
                    format!("{x:.1}")
                } else {
                    format!("{x}")
                }
            }
            v => v.to_string(),
        };
        let mut expected = format!(
            "Election Cart Analytics Export\r\nDate Range:,{start} to {end}\r\n\r\n\
             REVENUE METRICS\r\nMetric,Value\r\nTotal Revenue,{}\r\nOrder Count,{}\r\n\
             Average Order Value,₹{:.2}\r\n\r\nCONVERSION METRICS\r\nMetric,Value\r\n\
             Total Orders,{}\r\nPaid Orders,{}\r\nConversion Rate,{conv_rate}%\r\n\r\n\
             TOP PRODUCTS\r\nProduct Name,Type,Quantity Sold,Revenue\r\n",
            csv_money(sum),
            rev["order_count"],
            rev["average_order_value"].as_f64().unwrap_or(0.0),
            conv["total_orders"],
            conv["paid_orders"],
        );
        for p in top_products(&w, win, 10) {
            let name = p["product_name"].as_str().unwrap_or("");
            let name = if name.contains([',', '"']) {
                format!("\"{}\"", name.replace('"', "\"\""))
            } else {
                name.to_string()
            };
            let paise = (p["revenue"].as_f64().unwrap_or(0.0) * 100.0).round() as i64;
            expected.push_str(&format!(
                "{name},{},{},{}\r\n",
                p["product_type"].as_str().unwrap_or(""),
                p["quantity_sold"],
                csv_money(paise)
            ));
        }
        expected.push_str(
            "\r\nSTAFF PERFORMANCE\r\nStaff Name,Phone Number,Role,Assigned Orders,\
             Completed Orders,Completion Rate\r\n",
        );
        for s in staff_rows(&w, win) {
            let rate = match &s["completion_rate"] {
                v if v.is_f64() => {
                    let x = v.as_f64().unwrap_or(0.0);
                    if x.fract() == 0.0 {
                        format!("{x:.1}")
                    } else {
                        format!("{x}")
                    }
                }
                v => v.to_string(),
            };
            expected.push_str(&format!(
                "{},{},{},{},{},{rate}%\r\n",
                s["staff_name"].as_str().unwrap_or(""),
                s["phone_number"].as_str().unwrap_or(""),
                s["role"].as_str().unwrap_or(""),
                s["assigned_orders"],
                s["completed_orders"],
            ));
        }
        expected.push_str("\r\nORDER STATUS DISTRIBUTION\r\nStatus,Count\r\n");
        if let Value::Object(map) = distribution(&w, win) {
            for (_, v) in map {
                expected.push_str(&format!(
                    "{},{}\r\n",
                    v["label"].as_str().unwrap_or(""),
                    v["count"]
                ));
            }
        }
        expected.push_str("\r\n");
        assert_eq!(body, expected);

        // Neither date: this month (UTC), as the overview.
        let r = call(
            &w.app,
            "GET",
            "/api/admin/analytics/export/",
            &w.admin_token,
        )
        .await;
        assert_eq!(r.status, StatusCode::OK);
        let text = r.text();
        let range = text.split("\r\n").nth(2).unwrap_or("").to_string();
        assert_eq!(
            range,
            format!(
                "Date Range:,{} to {}",
                day(w.utc_month, UtcOffset::UTC),
                day(OffsetDateTime::now_utc(), UtcOffset::UTC)
            )
        );
        w.app.state.db.close().await;
    }
}

fn assert_message(r: &TestResponse, message: &str) {
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.text());
    assert_eq!(r.json(), json!({"success": false, "message": message}));
}

const ROUTES: [&str; 7] = [
    "/api/admin/analytics/",
    "/api/admin/analytics/overview/",
    "/api/admin/analytics/revenue-trend/",
    "/api/admin/analytics/top-products/",
    "/api/admin/analytics/staff-performance/",
    "/api/admin/analytics/order-distribution/",
    "/api/admin/analytics/export/",
];

#[tokio::test]
async fn bad_parameters_and_the_role_matrix() {
    for backend in backends() {
        let app = TestApp::new(backend).await;
        let admin = create_user(&app, "an-admin", "admin-pass-2026!", Role::Admin).await;
        let token = token_for(&app, &admin);
        let staff = create_user(&app, "an-staff", "staff-pass-2026!", Role::Staff).await;
        let customer = create_user(&app, "an-customer", "customer-pass-2026", Role::User).await;
        for path in ROUTES {
            for who in [&staff, &customer] {
                let r = call(&app, "GET", path, &token_for(&app, who)).await;
                assert_eq!(r.status, StatusCode::FORBIDDEN, "{path}");
                assert_eq!(
                    r.json(),
                    json!({"detail": "You do not have permission to perform this action."})
                );
            }
            assert_eq!(
                app.get(path).await.status,
                StatusCode::UNAUTHORIZED,
                "{path}"
            );
            // Bad dates: the overview names the formats, the others say which one.
            for (query, which) in [
                ("start_date=yesterday", "start_date"),
                ("start_date=2026-02-30", "start_date"),
                ("end_date=2026-13-01", "end_date"),
                ("start_date=2026-01-01T25:00:00&end_date=bad", "start_date"),
                (
                    "start_date=2026-01-01&end_date=2026-01-01T10:00:00%2B99:00",
                    "end_date",
                ),
                // Outside the years either database holds once in UTC (no panic, no 500).
                ("start_date=9999-12-31T23:00:00-05:00", "start_date"),
            ] {
                if path.ends_with("revenue-trend/") {
                    continue;
                }
                let r = call(&app, "GET", &format!("{path}?{query}"), &token).await;
                let message = if path.ends_with("overview/") || path.ends_with("analytics/") {
                    format!(
                        "Invalid {which} format. Use ISO format (YYYY-MM-DD or YYYY-MM-DDTHH:MM:SS)"
                    )
                } else {
                    format!("Invalid {which} format")
                };
                assert_message(&r, &message);
            }
        }
        for months in ["0", "25", "-1", "abc", "1.5", "", "99999999999999999999"] {
            let r = call(
                &app,
                "GET",
                &format!("/api/admin/analytics/revenue-trend/?months={months}"),
                &token,
            )
            .await;
            assert_message(&r, "Months parameter must be between 1 and 24");
        }
        for limit in ["-1", "abc", "2.0", ""] {
            let r = call(
                &app,
                "GET",
                &format!("/api/admin/analytics/top-products/?limit={limit}"),
                &token,
            )
            .await;
            assert_message(&r, "Limit parameter must be a non-negative integer");
        }
        for query in ["start_date=2026-01-01", "end_date=2026-01-01"] {
            let r = call(
                &app,
                "GET",
                &format!("/api/admin/analytics/export/?{query}"),
                &token,
            )
            .await;
            assert_message(
                &r,
                "Give both start_date and end_date, or neither (this month)",
            );
        }
        // An empty database: zeros, with the integer 0 for an undefined rate.
        let d = call(&app, "GET", "/api/admin/analytics/overview/", &token)
            .await
            .json();
        assert_json(
            &d["data"]["revenue"],
            &json!({"total_revenue": 0.0, "order_count": 0, "average_order_value": 0.0}),
            "empty",
        );
        assert_eq!(
            d["data"]["conversion"],
            json!({"total_orders": 0, "paid_orders": 0, "conversion_rate": 0})
        );
        assert_eq!(d["data"]["order_distribution"], json!({}));
        app.state.db.close().await;
    }
}

async fn post(app: &TestApp, token: &str, path: &str, body: Value) -> TestResponse {
    app.request(authed(json_request("POST", path, body), token))
        .await
}

/// A second instance on the same database (and Redis, when configured).
async fn second_instance(app: &TestApp, vars: &[(&str, &str)]) -> TestApp {
    let state = electioncart::AppState::build(test_config(&app.db.url, vars))
        .await
        .expect("second instance");
    TestApp {
        router: electioncart::build_router(state.clone()),
        state,
        db: crate::helpers::TestDb::borrowed(&app.db.url),
    }
}

#[tokio::test]
async fn no_stale_figure_after_an_order_change_on_either_instance() {
    let redis = crate::helpers::test_redis_url();
    for backend in backends() {
        // Each backend's own namespace in the shared Redis.
        let prefix = format!("ec-test-{}:", uuid::Uuid::new_v4().simple());
        let mut vars: Vec<(&str, &str)> = vec![("RAZORPAY_MODE", "fake")];
        if let Some(url) = redis.as_deref() {
            vars.push(("REDIS_URL", url));
            vars.push(("REDIS_KEY_PREFIX", &prefix));
        }
        let app = TestApp::with_env(backend, &vars).await;
        let other = second_instance(&app, &vars).await;
        let admin = create_user(&app, "an-admin", "admin-pass-2026!", Role::Admin).await;
        let token = token_for(&app, &admin);
        let staff = create_user(&app, "an-staff", "staff-pass-2026!", Role::Staff).await;
        let customer = create_user(&app, "an-customer", "customer-pass-2026", Role::User).await;
        let shopper = token_for(&app, &customer);
        let p = package(
            &app,
            &Admin {
                token: token.clone(),
            },
            "Cache Pack",
            "1500.00",
        )
        .await;

        let overview = "/api/admin/analytics/overview/";
        let read = |instance: &TestApp, path: &'static str| {
            let token = token.clone();
            let router = instance.router.clone();
            async move {
                let r = crate::helpers::send(
                    &router,
                    authed(
                        axum::http::Request::get(path)
                            .body(axum::body::Body::empty())
                            .expect("request"),
                        &token,
                    ),
                )
                .await;
                assert_eq!(r.status, StatusCode::OK, "{}", r.text());
                r.json()["data"].clone()
            }
        };
        // Both instances read (and cache) the empty figures; a repeat is a hit.
        for instance in [&app, &other] {
            assert_eq!(
                read(instance, overview).await["conversion"]["total_orders"],
                0
            );
        }
        let misses = other.state.cache.stats().misses;
        assert_eq!(
            read(&other, overview).await["conversion"]["total_orders"],
            0
        );
        assert_eq!(
            other.state.cache.stats().misses,
            misses,
            "the repeat is served from the cache"
        );

        // An order placed on the first instance: the second's next read counts it.
        add(
            &app,
            &shopper,
            json!({"item_type": "package", "item_id": p}),
        )
        .await;
        let created = create(&app, &shopper).await.json();
        let order = created["order"]["id"].as_i64().expect("order");
        let item = created["order"]["items"][0]["id"].as_i64().expect("item");
        let d = read(&other, overview).await;
        assert_eq!(d["conversion"]["total_orders"], 1);
        assert_eq!(d["conversion"]["paid_orders"], 0);
        assert_eq!(d["order_distribution"]["pending_payment"]["count"], 1);

        // Paid: a paid order for the conversion, not yet revenue (resources pending).
        let rzp = created["razorpay_order_id"]
            .as_str()
            .expect("rzp")
            .to_string();
        let sig = checkout_signature(FAKE_KEY_SECRET, &rzp, "pay_an1");
        let r = post(&app, &shopper, &format!("/api/orders/{order}/payment-success/"),
            json!({"razorpay_order_id": rzp, "razorpay_payment_id": "pay_an1", "razorpay_signature": sig})).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text());
        let d = read(&other, overview).await;
        assert_eq!(d["conversion"]["paid_orders"], 1);
        assert_eq!(d["revenue"]["order_count"], 0);

        // Resources in: ready for processing, so revenue.
        let item_s = item.to_string();
        let r = app
            .request(authed(
                multipart_request(
                    "POST",
                    &format!("/api/orders/{order}/submit-resources/"),
                    &[crate::images::Part::Text("order_item_id", &item_s)],
                ),
                &shopper,
            ))
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
        let d = read(&other, overview).await;
        assert_eq!(d["revenue"]["order_count"], 1);
        assert_json(&d["revenue"]["total_revenue"], &json!(1500.0), "revenue");
        let trend = read(&other, "/api/admin/analytics/revenue-trend/").await;
        assert_eq!(trend[0]["order_count"], 1);

        // Assigned: the staff member's row counts it.
        let staff_path = "/api/admin/analytics/staff-performance/";
        let row = |d: &Value| {
            d.as_array()
                .and_then(|rows| rows.iter().find(|r| r["staff_id"] == staff.id))
                .cloned()
                .unwrap_or(Value::Null)
        };
        assert_eq!(row(&read(&other, staff_path).await)["assigned_orders"], 0);
        let r = post(
            &app,
            &token,
            &format!("/api/admin/orders/{order}/assign/"),
            json!({"staff_id": staff.id}),
        )
        .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text());
        assert_eq!(row(&read(&other, staff_path).await)["assigned_orders"], 1);

        // An admin's status change: completed.
        let r = post(
            &app,
            &token,
            &format!("/api/admin/orders/{order}/update-status/"),
            json!({"status": "completed", "reason": "done"}),
        )
        .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text());
        let s = row(&read(&other, staff_path).await);
        assert_eq!(s["completed_orders"], 1);
        assert_json(&s["completion_rate"], &json!(100.0), "rate");
        let d = read(&other, overview).await;
        assert_eq!(
            d["order_distribution"],
            json!({"completed": {"label": "Completed", "count": 1}})
        );
        let r = call(&app, "GET", "/api/admin/analytics/", &token).await;
        assert_json(&r.json()["completion_rate"], &json!(100.0), "page");
        other.state.db.close().await;
        app.state.db.close().await;
    }
}

#[tokio::test]
async fn global_search_finds_orders_users_products_and_staff() {
    for backend in backends() {
        let w = world(TestApp::new(backend).await).await;
        let r = call(
            &w.app,
            "GET",
            "/api/admin/search/?q=ORD-AN-000",
            &w.admin_token,
        )
        .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text());
        let body = r.json();
        let orders = body["orders"].as_array().expect("orders");
        assert_eq!(orders.len(), 5, "bounded to 5 per group");
        for o in orders {
            assert_eq!(o["type"], "order");
            assert!(
                o["title"]
                    .as_str()
                    .is_some_and(|t| t.starts_with("ORD-AN-000"))
            );
            assert_eq!(o["url"], format!("/orders/{}", o["id"]));
            assert!(
                o["subtitle"]
                    .as_str()
                    .is_some_and(|s| s.contains("an-customer"))
            );
        }
        assert_eq!(body["users"], json!([]));
        // By customer: their orders, and the customer.
        let body = call(
            &w.app,
            "GET",
            "/api/admin/search/?q=AN-CUSTOM",
            &w.admin_token,
        )
        .await
        .json();
        assert_eq!(body["orders"].as_array().map(Vec::len), Some(5));
        assert_eq!(body["users"][0]["type"], "user");
        assert_eq!(body["users"][0]["title"], "an-customer");
        assert_eq!(body["users"][0]["url"], "/users");
        // Products and staff.
        let body = call(
            &w.app,
            "GET",
            "/api/admin/search/?q=rickshaw",
            &w.admin_token,
        )
        .await
        .json();
        let product = &body["products"][0];
        assert_eq!(product["type"], "product");
        assert_eq!(product["title"], "Auto Rickshaw Campaign");
        assert_eq!(
            product["url"],
            format!("/products/campaign/{}", product["id"])
        );
        assert!(
            product["subtitle"]
                .as_str()
                .is_some_and(|s| s.contains("₹999.50"))
        );
        let body = call(
            &w.app,
            "GET",
            "/api/admin/search/?q=an-staff",
            &w.admin_token,
        )
        .await
        .json();
        let staff: Vec<&str> = body["staff"]
            .as_array()
            .expect("staff")
            .iter()
            .map(|s| s["title"].as_str().unwrap_or(""))
            .collect();
        assert_eq!(staff, ["an-staff-1", "an-staff-2", "an-staff-idle"]);
        assert_eq!(body["staff"][0]["url"], "/staff");
        // LIKE's wildcards are text: `%` finds nothing.
        let body = call(&w.app, "GET", "/api/admin/search/?q=%25%25", &w.admin_token)
            .await
            .json();
        assert_eq!(
            body,
            json!({"orders": [], "users": [], "products": [], "staff": []})
        );
        // Staff: only the orders assigned to them.
        let body = call(
            &w.app,
            "GET",
            "/api/admin/search/?q=ORD-AN",
            &w.staff_tokens[1],
        )
        .await
        .json();
        let mine: Vec<i64> = body["orders"]
            .as_array()
            .expect("orders")
            .iter()
            .map(|o| o["id"].as_i64().unwrap_or(0))
            .collect();
        assert!(!mine.is_empty());
        for id in &mine {
            let assignee: Option<i64> =
                electioncart::db_read!(&w.app.state.db, |pool| sqlx::query_scalar(
                    "SELECT assigned_to FROM orders WHERE id = $1"
                )
                .bind(*id)
                .fetch_one(pool)
                .await)
                .expect("row");
            assert_eq!(assignee, Some(w.staff[1].id));
        }
        assert_eq!(body["users"], json!([]));
        assert_eq!(body["products"], json!([]));
        // Too short, a customer, anonymous.
        for q in ["", "a", "%20a%20"] {
            let r = call(
                &w.app,
                "GET",
                &format!("/api/admin/search/?q={q}"),
                &w.admin_token,
            )
            .await;
            assert_message(&r, "Search query must be at least 2 characters");
        }
        assert_eq!(
            call(&w.app, "GET", "/api/admin/search/?q=ORD", &w.customer_token)
                .await
                .status,
            StatusCode::FORBIDDEN
        );
        assert_eq!(
            w.app.get("/api/admin/search/?q=ORD").await.status,
            StatusCode::UNAUTHORIZED
        );
        w.app.state.db.close().await;
    }
}
