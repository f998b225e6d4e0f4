//! What an invoice shows, gathered once and handed to the renderer ([`super::pdf`]), plus the rows
//! [`super::repo`] reads.

use time::OffsetDateTime;

use crate::invoices::tax::Breakdown;

/// The payment-history row of an order (one per order; contract-B §2.7).
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct HistoryRow {
    pub invoice_number: String,
    pub payment_method: String,
    pub transaction_id: String,
    pub amount_paise: i64,
    pub currency: String,
    pub status: String,
    pub payment_date: OffsetDateTime,
    pub invoice_generated_at: Option<OffsetDateTime>,
}

/// The latest manual payment record of an order (contract-B §2.8).
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct RecordRow {
    pub amount_paise: i64,
    pub payment_method: String,
    pub payment_reference: String,
    pub recorded_at: OffsetDateTime,
}

/// The customer's contact fields.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct CustomerRow {
    pub username: String,
    pub first_name: String,
    pub last_name: String,
    pub email: String,
    pub phone_number: Option<String>,
}

/// The seller block (from `INVOICE_*`).
#[derive(Debug, Clone, Default)]
pub struct Seller {
    pub name: String,
    pub address: Vec<String>,
    /// `"N/A"` when unset.
    pub gstin: String,
    /// `"Uttar Pradesh (09)"`, or `""`.
    pub state: String,
    pub phone: String,
    pub email: String,
    /// The logo file's bytes (PNG or JPEG), read when the invoice is gathered.
    pub logo: Option<Vec<u8>>,
}

#[derive(Debug, Clone, Default)]
pub struct BillTo {
    pub name: String,
    pub email: String,
    pub phone: String,
    pub address: String,
}

#[derive(Debug, Clone)]
pub struct Line {
    pub name: String,
    /// `Package` or `Campaign`.
    pub kind: String,
    pub sac: String,
    pub quantity: i32,
    pub unit_paise: i64,
    pub amount_paise: i64,
}

/// The payment block: every field already printable (`N/A` where unknown).
#[derive(Debug, Clone)]
pub struct Payment {
    pub method: String,
    pub transaction_id: String,
    pub status: String,
    /// `"November 25, 2026 at 06:06 PM IST"`.
    pub date: String,
    /// `"₹18,500.00 INR"`.
    pub amount: String,
}

/// Everything printed on one invoice.
#[derive(Debug, Clone)]
pub struct Invoice {
    pub seller: Seller,
    pub invoice_number: String,
    pub order_number: String,
    /// `"November 25, 2026"` (IST).
    pub invoice_date: String,
    pub order_date: String,
    /// `"Uttar Pradesh (09)"`, or `"N/A"`.
    pub place_of_supply: String,
    pub bill_to: BillTo,
    pub lines: Vec<Line>,
    pub tax: Breakdown,
    pub total_paise: i64,
    pub payment: Payment,
}
