//! The analytics CSV (contract-B §8.5 export): UTF-8 without a BOM, CRLF line ends, cells quoted
//! only when needed (Python's `csv.writer`), money as `₹` and two decimals, rates as Python prints
//! them, the generation time and filename in the shop's zone.

use time::{OffsetDateTime, UtcOffset, macros::format_description};

use crate::{
    analytics::model::{Conversion, ProductOut, Revenue, StaffOut},
    orders::status,
};

/// Everything the file shows.
pub struct Export<'a> {
    pub generated: OffsetDateTime,
    pub zone: UtcOffset,
    /// `YYYY-MM-DD` of each bound.
    pub start: String,
    pub end: String,
    pub revenue: Revenue,
    pub conversion: Conversion,
    pub products: &'a [ProductOut],
    pub staff: &'a [StaffOut],
    pub distribution: &'a [(String, i64)],
}

/// One CSV cell as Python's `csv.writer` (QUOTE_MINIMAL) writes it.
fn cell(text: &str) -> String {
    if text.contains([',', '"', '\r', '\n']) {
        format!("\"{}\"", text.replace('"', "\"\""))
    } else {
        text.to_string()
    }
}

fn row(out: &mut String, cells: &[&str]) {
    let line: Vec<String> = cells.iter().map(|c| cell(c)).collect();
    out.push_str(&line.join(","));
    out.push_str("\r\n");
}

fn rupees(value: f64) -> String {
    format!("₹{value:.2}")
}

/// `analytics_export_<YYYYMMDD_HHMMSS>.csv`, the time in the shop's zone.
pub fn filename(generated: OffsetDateTime, zone: UtcOffset) -> String {
    let stamp = generated
        .to_offset(zone)
        .format(format_description!(
            "[year][month][day]_[hour][minute][second]"
        ))
        .unwrap_or_default();
    format!("analytics_export_{stamp}.csv")
}

pub fn render(e: &Export<'_>) -> String {
    let mut out = String::with_capacity(2048);
    let generated = e
        .generated
        .to_offset(e.zone)
        .format(format_description!(
            "[year]-[month]-[day] [hour]:[minute]:[second]"
        ))
        .unwrap_or_default();
    row(&mut out, &["Election Cart Analytics Export"]);
    row(&mut out, &["Generated:", &generated]);
    row(
        &mut out,
        &["Date Range:", &format!("{} to {}", e.start, e.end)],
    );
    row(&mut out, &[]);
    row(&mut out, &["REVENUE METRICS"]);
    row(&mut out, &["Metric", "Value"]);
    row(&mut out, &["Total Revenue", &rupees(e.revenue.total())]);
    row(
        &mut out,
        &["Order Count", &e.revenue.order_count.to_string()],
    );
    row(
        &mut out,
        &["Average Order Value", &rupees(e.revenue.average())],
    );
    row(&mut out, &[]);
    row(&mut out, &["CONVERSION METRICS"]);
    row(&mut out, &["Metric", "Value"]);
    row(
        &mut out,
        &["Total Orders", &e.conversion.total_orders.to_string()],
    );
    row(
        &mut out,
        &["Paid Orders", &e.conversion.paid_orders.to_string()],
    );
    row(
        &mut out,
        &[
            "Conversion Rate",
            &format!("{}%", e.conversion.rate().python()),
        ],
    );
    row(&mut out, &[]);
    row(&mut out, &["TOP PRODUCTS"]);
    row(
        &mut out,
        &["Product Name", "Type", "Quantity Sold", "Revenue"],
    );
    for p in e.products {
        row(
            &mut out,
            &[
                &p.product_name,
                &p.product_type,
                &p.quantity_sold.to_string(),
                &rupees(p.revenue),
            ],
        );
    }
    row(&mut out, &[]);
    row(&mut out, &["STAFF PERFORMANCE"]);
    row(
        &mut out,
        &[
            "Staff Name",
            "Phone Number",
            "Role",
            "Assigned Orders",
            "Completed Orders",
            "Completion Rate",
        ],
    );
    for s in e.staff {
        row(
            &mut out,
            &[
                &s.staff_name,
                &s.phone_number,
                &s.role,
                &s.assigned_orders.to_string(),
                &s.completed_orders.to_string(),
                &format!("{}%", s.completion_rate.python()),
            ],
        );
    }
    row(&mut out, &[]);
    row(&mut out, &["ORDER STATUS DISTRIBUTION"]);
    row(&mut out, &["Status", "Count"]);
    for (s, count) in e.distribution {
        row(&mut out, &[status::display(s), &count.to_string()]);
    }
    out
}

#[cfg(test)]
mod tests {
    use time::macros::{datetime, offset};

    use super::*;
    use crate::analytics::model::Rate;

    #[test]
    fn the_layout_byte_for_byte() {
        let products = [ProductOut {
            product_id: 3,
            product_type: "campaign".into(),
            product_name: "Auto \"Rickshaw\", Campaign".into(),
            quantity_sold: 2,
            revenue: 1999.0,
        }];
        let staff = [StaffOut {
            staff_id: 13,
            staff_name: "staff1".into(),
            phone_number: "+919000000002".into(),
            role: "staff".into(),
            assigned_orders: 3,
            completed_orders: 2,
            completion_rate: Rate::of(2, 3),
        }];
        let distribution = [("completed".to_string(), 1), ("on_hold".to_string(), 2)];
        let e = Export {
            generated: datetime!(2026-11-25 12:00:05 UTC),
            zone: offset!(+05:30),
            start: "2026-11-01".into(),
            end: "2026-11-25".into(),
            revenue: Revenue {
                order_count: 3,
                revenue_paise: 2_050_000,
            },
            conversion: Conversion {
                total_orders: 3,
                paid_orders: 2,
            },
            products: &products,
            staff: &staff,
            distribution: &distribution,
        };
        let expected = "Election Cart Analytics Export\r\n\
            Generated:,2026-11-25 17:30:05\r\n\
            Date Range:,2026-11-01 to 2026-11-25\r\n\
            \r\n\
            REVENUE METRICS\r\n\
            Metric,Value\r\n\
            Total Revenue,₹20500.00\r\n\
            Order Count,3\r\n\
            Average Order Value,₹6833.33\r\n\
            \r\n\
            CONVERSION METRICS\r\n\
            Metric,Value\r\n\
            Total Orders,3\r\n\
            Paid Orders,2\r\n\
            Conversion Rate,66.67%\r\n\
            \r\n\
            TOP PRODUCTS\r\n\
            Product Name,Type,Quantity Sold,Revenue\r\n\
            \"Auto \"\"Rickshaw\"\", Campaign\",campaign,2,₹1999.00\r\n\
            \r\n\
            STAFF PERFORMANCE\r\n\
            Staff Name,Phone Number,Role,Assigned Orders,Completed Orders,Completion Rate\r\n\
            staff1,+919000000002,staff,3,2,66.67%\r\n\
            \r\n\
            ORDER STATUS DISTRIBUTION\r\n\
            Status,Count\r\n\
            Completed,1\r\n\
            On Hold,2\r\n";
        assert_eq!(render(&e), expected);
        assert_eq!(
            filename(e.generated, e.zone),
            "analytics_export_20261125_173005.csv"
        );
    }
}
