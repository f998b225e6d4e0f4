//! Cart rows and the read shape every cart endpoint answers with (contract-A §5.2).

use serde::Serialize;
use time::OffsetDateTime;

use crate::catalog::model::ProductOut;

/// Most units one cart line may hold (the original had no bound and overflowed into a 500).
pub const MAX_QUANTITY: i64 = 1000;

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct CartRow {
    pub id: i64,
    pub user_id: i64,
    pub created_at: OffsetDateTime,
    pub updated_at: OffsetDateTime,
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct CartItemRow {
    pub id: i64,
    pub cart_id: i64,
    pub product_type: String,
    pub product_id: i64,
    pub quantity: i32,
    pub added_at: OffsetDateTime,
}

/// `{"id","items":[…],"total","item_count","created_at","updated_at"}`; `total` and each
/// `subtotal` are numbers (live price × quantity), `item_count` counts lines, not units.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct CartOut {
    pub id: i64,
    pub items: Vec<CartItemOut>,
    pub total: f64,
    pub item_count: usize,
    pub created_at: String,
    pub updated_at: String,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct CartItemOut {
    pub id: i64,
    /// `package` or `campaign`.
    pub item_type: String,
    /// The product's full read shape (with items, images and `primary_image`).
    pub item_details: ProductOut,
    pub quantity: i32,
    pub subtotal: f64,
    pub added_at: String,
}

/// The body of `POST /api/cart/add/` (JSON or form), for the OpenAPI document.
#[derive(Debug, Clone, serde::Deserialize, utoipa::ToSchema)]
pub struct AddIn {
    #[schema(pattern = "^(package|campaign)$")]
    pub item_type: String,
    pub item_id: i64,
    #[schema(minimum = 1, maximum = 1000)]
    pub quantity: Option<i64>,
}
