//! Payment rows and read shapes (contract-B §2.7, §3.4).

use serde::Serialize;
use serde_json::Value;
use time::OffsetDateTime;

use crate::{money::format_paise, timefmt::iso_at};

/// A `payment_history` row with its order's number.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct HistoryRow {
    pub id: i64,
    pub order_id: i64,
    pub order_number: String,
    pub payment_method: String,
    pub transaction_id: String,
    pub amount_paise: i64,
    pub currency: String,
    pub status: String,
    pub payment_date: OffsetDateTime,
    pub invoice_generated_at: Option<OffsetDateTime>,
    pub invoice_number: String,
    pub metadata: String,
    pub created_at: OffsetDateTime,
}

/// `PaymentHistorySerializer`, keys in the original's order.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct HistoryOut {
    pub id: i64,
    pub order_id: i64,
    pub order_number: String,
    pub payment_method: String,
    pub transaction_id: String,
    /// `"20499.00"`.
    pub amount: String,
    pub currency: String,
    pub status: String,
    pub status_display: String,
    pub payment_date: String,
    pub invoice_generated_at: Option<String>,
    pub invoice_number: String,
    pub metadata: Value,
    pub created_at: String,
}

/// The label of a payment-history status; a value outside the choices (seed data's `success`)
/// shows as itself.
pub fn status_display(status: &str) -> &str {
    match status {
        "pending" => "Pending",
        "completed" => "Completed",
        "failed" => "Failed",
        "refunded" => "Refunded",
        other => other,
    }
}

impl HistoryOut {
    pub fn new(row: &HistoryRow, tz: time::UtcOffset) -> Self {
        Self {
            id: row.id,
            order_id: row.order_id,
            order_number: row.order_number.clone(),
            payment_method: row.payment_method.clone(),
            transaction_id: row.transaction_id.clone(),
            amount: format_paise(row.amount_paise),
            currency: row.currency.clone(),
            status: row.status.clone(),
            status_display: status_display(&row.status).to_string(),
            payment_date: iso_at(row.payment_date, tz),
            invoice_generated_at: row.invoice_generated_at.map(|t| iso_at(t, tz)),
            invoice_number: row.invoice_number.clone(),
            metadata: serde_json::from_str(&row.metadata)
                .unwrap_or_else(|_| Value::Object(Default::default())),
            created_at: iso_at(row.created_at, tz),
        }
    }
}

/// The body of `payment-success` (JSON or form), for the OpenAPI document.
#[derive(Debug, Clone, serde::Deserialize, utoipa::ToSchema)]
pub struct VerifyIn {
    pub razorpay_order_id: String,
    pub razorpay_payment_id: String,
    pub razorpay_signature: String,
}

/// `my-payments`: `{"count", "payments": [...]}`.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct MyPaymentsOut {
    pub count: usize,
    pub payments: Vec<HistoryOut>,
}
