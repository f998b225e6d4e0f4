//! Analytics rows (what the statements return) and the figures the routes render (contract-B §8.5,
//! §11.1): money as float rupees, rates as Python's `round(x, 2)` (or the integer 0 when there is
//! nothing to divide by), labels from the status machine.

use serde::Serialize;
use serde_json::{Map, Value, json};

use crate::{money::paise_to_f64, orders::status};

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct TrendRow {
    pub month: String,
    pub order_count: i64,
    pub revenue_paise: i64,
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ProductRow {
    pub product_type: String,
    pub product_id: i64,
    pub quantity_sold: i64,
    pub revenue_paise: i64,
    pub product_name: Option<String>,
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct StaffRow {
    pub id: i64,
    pub username: String,
    pub phone_number: Option<String>,
    pub role: String,
    pub assigned_orders: i64,
    pub completed_orders: i64,
}

/// A rate as the original computes it: `round(part / whole × 100, 2)` as a float, or the integer 0
/// when `whole` is 0.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Rate {
    Zero,
    Percent(f64),
}

impl Rate {
    pub fn of(part: i64, whole: i64) -> Self {
        if whole == 0 {
            return Rate::Zero;
        }
        Rate::Percent(round2(part as f64 / whole as f64 * 100.0))
    }

    pub fn to_json(self) -> Value {
        match self {
            Rate::Zero => json!(0),
            Rate::Percent(p) => json!(p),
        }
    }

    /// As Python prints it in the CSV: `66.67`, `100.0`, `0.0`, or `0`.
    pub fn python(self) -> String {
        match self {
            Rate::Zero => "0".into(),
            Rate::Percent(p) => python_float(p),
        }
    }
}

/// Python's `round(x, 2)`: the decimal nearest to the exact binary value, ties to even — what
/// Rust's `{:.2}` formatting does too.
pub fn round2(x: f64) -> f64 {
    format!("{x:.2}").parse().unwrap_or(x)
}

/// Python's `repr` of a float in the range rates and rupees take (`100.0`, `66.67`).
pub fn python_float(x: f64) -> String {
    if x.is_finite() && x.fract() == 0.0 && x.abs() < 1e16 {
        format!("{x:.1}")
    } else {
        format!("{x}")
    }
}

/// The revenue block (contract-B §8.5 overview).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Revenue {
    pub order_count: i64,
    pub revenue_paise: i64,
}

impl Revenue {
    pub fn total(&self) -> f64 {
        paise_to_f64(self.revenue_paise)
    }

    /// `avg(total_amount)` as a float: the exact mean, rounded once.
    pub fn average(&self) -> f64 {
        if self.order_count == 0 {
            0.0
        } else {
            self.revenue_paise as f64 / (self.order_count as f64 * 100.0)
        }
    }

    pub fn to_json(self) -> Value {
        json!({
            "total_revenue": self.total(),
            "order_count": self.order_count,
            "average_order_value": self.average(),
        })
    }
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Conversion {
    pub total_orders: i64,
    pub paid_orders: i64,
}

impl Conversion {
    pub fn rate(&self) -> Rate {
        Rate::of(self.paid_orders, self.total_orders)
    }

    pub fn to_json(self) -> Value {
        json!({
            "total_orders": self.total_orders,
            "paid_orders": self.paid_orders,
            "conversion_rate": self.rate().to_json(),
        })
    }
}

/// `{status: {label, count}}`, statuses in alphabetical order (the statement's order).
pub fn distribution_json(rows: &[(String, i64)]) -> Value {
    let mut map = Map::new();
    for (s, count) in rows {
        map.insert(
            s.clone(),
            json!({"label": status::display(s), "count": count}),
        );
    }
    Value::Object(map)
}

/// One month of the revenue trend.
#[derive(Debug, Clone, Serialize, PartialEq, utoipa::ToSchema)]
pub struct TrendOut {
    /// `2026-11`
    pub month: String,
    /// `November 2026`
    pub month_label: String,
    pub revenue: f64,
    pub order_count: i64,
}

impl TrendOut {
    pub fn new(row: &TrendRow) -> Self {
        TrendOut {
            month: row.month.clone(),
            month_label: month_label(&row.month),
            revenue: paise_to_f64(row.revenue_paise),
            order_count: row.order_count,
        }
    }
}

/// `2026-11` → `November 2026`.
pub fn month_label(month: &str) -> String {
    const NAMES: [&str; 12] = [
        "January",
        "February",
        "March",
        "April",
        "May",
        "June",
        "July",
        "August",
        "September",
        "October",
        "November",
        "December",
    ];
    match month.split_once('-') {
        Some((year, m)) => match m.parse::<usize>() {
            Ok(n @ 1..=12) => format!("{} {year}", NAMES[n - 1]),
            _ => month.to_string(),
        },
        None => month.to_string(),
    }
}

/// One product of the top-products list (a deleted product is `unknown` / `Unknown Product`).
#[derive(Debug, Clone, Serialize, PartialEq, utoipa::ToSchema)]
pub struct ProductOut {
    pub product_id: i64,
    pub product_type: String,
    pub product_name: String,
    pub quantity_sold: i64,
    pub revenue: f64,
}

impl ProductOut {
    pub fn new(row: &ProductRow) -> Self {
        let (product_type, product_name) = match &row.product_name {
            Some(name) => (row.product_type.clone(), name.clone()),
            None => ("unknown".to_string(), "Unknown Product".to_string()),
        };
        ProductOut {
            product_id: row.product_id,
            product_type,
            product_name,
            quantity_sold: row.quantity_sold,
            revenue: paise_to_f64(row.revenue_paise),
        }
    }
}

/// One staff member's performance.
#[derive(Debug, Clone, PartialEq)]
pub struct StaffOut {
    pub staff_id: i64,
    pub staff_name: String,
    pub phone_number: String,
    pub role: String,
    pub assigned_orders: i64,
    pub completed_orders: i64,
    pub completion_rate: Rate,
}

impl StaffOut {
    pub fn new(row: &StaffRow) -> Self {
        StaffOut {
            staff_id: row.id,
            staff_name: row.username.clone(),
            phone_number: row.phone_number.clone().unwrap_or_default(),
            role: row.role.clone(),
            assigned_orders: row.assigned_orders,
            completed_orders: row.completed_orders,
            completion_rate: Rate::of(row.completed_orders, row.assigned_orders),
        }
    }

    pub fn to_json(&self) -> Value {
        json!({
            "staff_id": self.staff_id,
            "staff_name": self.staff_name,
            "phone_number": self.phone_number,
            "role": self.role,
            "assigned_orders": self.assigned_orders,
            "completed_orders": self.completed_orders,
            "completion_rate": self.completion_rate.to_json(),
        })
    }
}

// Documentation-only shapes for the OpenAPI document.

/// `{"success": true, "data": …}`.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Envelope {
    pub success: bool,
    #[schema(value_type = Object)]
    pub data: Value,
}

/// The admin SPA's analytics page (`GET /api/admin/analytics/`).
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct DashboardOut {
    pub total_revenue: f64,
    pub total_orders: i64,
    pub paid_orders: i64,
    pub avg_order_value: f64,
    pub completion_rate: f64,
    pub conversion_rate: f64,
    pub revenue_trend: Vec<DashboardTrend>,
    pub order_distribution: Vec<DashboardStatus>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct DashboardTrend {
    /// The month, `2026-11`.
    pub date: String,
    pub month_label: String,
    pub revenue: f64,
    pub order_count: i64,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct DashboardStatus {
    pub status: String,
    pub label: String,
    pub count: i64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rates_and_floats_as_python_gives_them() {
        assert_eq!(Rate::of(2, 3), Rate::Percent(66.67));
        assert_eq!(Rate::of(1, 3).python(), "33.33");
        assert_eq!(Rate::of(3, 3).python(), "100.0");
        assert_eq!(Rate::of(0, 3).python(), "0.0");
        assert_eq!(Rate::of(0, 0).python(), "0");
        assert_eq!(Rate::of(0, 0).to_json(), json!(0));
        assert_eq!(Rate::of(3, 3).to_json().to_string(), "100.0");
        assert_eq!(Rate::of(1, 8).to_json().to_string(), "12.5");
        // round(x, 2) works on the exact binary value: 2/3·100 = 66.666…
        assert_eq!(round2(0.125), 0.12);
        assert_eq!(round2(0.375), 0.38);
        assert_eq!(month_label("2026-11"), "November 2026");
        assert_eq!(month_label("2027-01"), "January 2027");
    }

    #[test]
    fn averages_are_the_exact_mean_rounded_once() {
        let r = Revenue {
            order_count: 3,
            revenue_paise: 2_050_000,
        };
        assert_eq!(r.total(), 20500.0);
        assert_eq!(r.average(), 20500.0 / 3.0);
        let none = Revenue {
            order_count: 0,
            revenue_paise: 0,
        };
        assert_eq!(
            none.to_json(),
            json!({"total_revenue": 0.0, "order_count": 0, "average_order_value": 0.0})
        );
    }
}
