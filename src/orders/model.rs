//! Order rows and the customer's read shape (contract-B §2.1–2.2, §3.1–3.2).

use serde::Serialize;
use time::OffsetDateTime;

use crate::catalog::model::ProductOut;

/// An order row with what the read shapes derive from its payments.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct OrderRow {
    pub id: i64,
    pub user_id: i64,
    pub order_number: String,
    pub total_paise: i64,
    pub status: String,
    pub payment_status: String,
    pub razorpay_order_id: String,
    pub razorpay_payment_id: Option<String>,
    pub razorpay_signature: Option<String>,
    pub payment_completed_at: Option<OffsetDateTime>,
    pub assigned_to: Option<i64>,
    pub is_manual_order: bool,
    pub order_source: String,
    pub created_by: Option<i64>,
    pub payment_reference: String,
    pub priority: String,
    pub admin_notes: String,
    /// A manual order's customer address (empty for website orders).
    pub customer_address: String,
    pub customer_city: String,
    pub customer_state: String,
    pub customer_pincode: String,
    pub created_at: OffsetDateTime,
    pub updated_at: OffsetDateTime,
    /// Σ payment records + the verified Razorpay payment (D18: `total_paid` counts both).
    pub paid_paise: i64,
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct OrderItemRow {
    pub id: i64,
    pub order_id: i64,
    pub product_type: String,
    pub product_id: i64,
    pub product_name: String,
    pub quantity: i32,
    pub price_paise: i64,
    pub resources_uploaded: bool,
}

impl OrderItemRow {
    pub fn subtotal_paise(&self) -> i64 {
        self.price_paise.saturating_mul(i64::from(self.quantity))
    }
}

/// A line to snapshot into a new order.
#[derive(Debug, Clone)]
pub struct NewItem {
    pub product_type: String,
    pub product_id: i64,
    pub product_name: String,
    pub quantity: i32,
    pub price_paise: i64,
}

/// `OrderSerializer` (customer views), keys in the original's order.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct OrderOut {
    pub id: i64,
    pub order_number: String,
    /// Rupees with 2 decimals, e.g. `"20499.00"`.
    pub total_amount: String,
    pub status: String,
    pub payment_status: String,
    pub razorpay_order_id: String,
    pub razorpay_payment_id: Option<String>,
    pub payment_completed_at: Option<String>,
    pub items: Vec<OrderItemOut>,
    /// Lines, not units.
    pub total_items: usize,
    pub resource_upload_progress: i64,
    pub pending_resource_items: Vec<PendingItemOut>,
    pub total_paid: f64,
    pub payment_balance: f64,
    pub created_at: String,
    pub updated_at: String,
}

/// A customer's order line: `item_details` is the product's full read shape, `null` once it is gone.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct OrderItemOut {
    pub id: i64,
    pub item_type: String,
    pub item_details: Option<ProductOut>,
    pub quantity: i32,
    /// The unit price when the order was made, `"18500.00"`.
    pub price: String,
    pub subtotal: f64,
    pub resources_uploaded: bool,
}

/// `{"id","item_type","item_name","quantity"}` of a line still waiting for its resources.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct PendingItemOut {
    pub id: i64,
    pub item_type: String,
    pub item_name: String,
    pub quantity: i32,
}

/// `int(100 × uploaded / lines)`, truncated; 100 when there are no lines.
pub fn upload_progress(items: &[OrderItemRow]) -> i64 {
    if items.is_empty() {
        return 100;
    }
    let done = items.iter().filter(|i| i.resources_uploaded).count() as i64;
    100 * done / items.len() as i64
}
