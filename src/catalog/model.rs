//! Catalog rows and the contract's read shapes (contract-A §4.2).

use serde::{Deserialize, Serialize};
use serde_json::Value;
use sqlx::types::Json;
use time::{OffsetDateTime, UtcOffset};

use crate::{money::format_paise, timefmt::iso_at};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum ProductType {
    Package,
    Campaign,
}

crate::path_param!(
    /// `{product_type}`: `package` or `campaign`, or
    /// `{"error":"Invalid product type. Must be \"package\" or \"campaign\""}`.
    pub struct Kind(ProductType) = "product_type", ProductType::parse, invalid_type;
);

/// `{"error":"Invalid product type. Must be \"package\" or \"campaign\""}`.
pub fn invalid_type() -> crate::error::AppError {
    crate::error::AppError::Error(
        axum::http::StatusCode::BAD_REQUEST,
        "Invalid product type. Must be \"package\" or \"campaign\"".into(),
    )
}

impl ProductType {
    /// Exactly `package` or `campaign` (lowercase), as the original.
    pub fn parse(value: &str) -> Option<Self> {
        match value {
            "package" => Some(Self::Package),
            "campaign" => Some(Self::Campaign),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Package => "package",
            Self::Campaign => "campaign",
        }
    }

    /// The Django model name in 404 messages.
    pub fn model_name(self) -> &'static str {
        match self {
            Self::Package => "Package",
            Self::Campaign => "Campaign",
        }
    }

    pub fn plural(self) -> &'static str {
        match self {
            Self::Package => "packages",
            Self::Campaign => "campaigns",
        }
    }
}

/// A package or campaign row (`unit` is NULL for packages), with its creator's name.
#[derive(Debug, Clone, sqlx::FromRow, Serialize, Deserialize)]
pub struct ProductRow {
    pub id: i64,
    pub name: String,
    pub price_paise: i64,
    pub unit: Option<String>,
    pub description: String,
    pub features: Json<Value>,
    pub deliverables: Json<Value>,
    pub is_active: bool,
    pub is_popular: bool,
    pub popular_order: i32,
    pub created_by: Option<i64>,
    pub creator_first_name: Option<String>,
    pub creator_last_name: Option<String>,
    pub created_at: OffsetDateTime,
    pub updated_at: OffsetDateTime,
}

impl ProductRow {
    /// Django's `get_full_name()`: first and last name, stripped.
    pub fn creator_name(&self) -> Option<String> {
        self.created_by.map(|_| {
            format!(
                "{} {}",
                self.creator_first_name.as_deref().unwrap_or(""),
                self.creator_last_name.as_deref().unwrap_or("")
            )
            .trim()
            .to_string()
        })
    }
}

#[derive(Debug, Clone, sqlx::FromRow, Serialize, Deserialize, PartialEq, Eq)]
pub struct ItemRow {
    pub id: i64,
    pub package_id: i64,
    pub name: String,
    pub quantity: i32,
}

#[derive(Debug, Clone, sqlx::FromRow, Serialize, Deserialize)]
pub struct ImageRow {
    pub id: i64,
    pub product_type: String,
    pub product_id: i64,
    pub file_name: String,
    pub thumbnail_name: Option<String>,
    pub content_type: String,
    pub size_bytes: i64,
    pub is_primary: bool,
    pub sort_order: i32,
    pub alt_text: String,
    pub uploaded_at: OffsetDateTime,
}

/// `{"id":1,"name":"Posters","quantity":100}`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq, utoipa::ToSchema)]
pub struct ItemOut {
    pub id: i64,
    pub name: String,
    pub quantity: i32,
}

/// The ProductImage read shape, with absolute URLs.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, utoipa::ToSchema)]
pub struct ImageOut {
    pub id: i64,
    pub image: String,
    pub image_url: String,
    pub thumbnail: Option<String>,
    pub thumbnail_url: Option<String>,
    pub is_primary: bool,
    pub order: i32,
    pub alt_text: String,
    pub uploaded_at: String,
    pub product_type: String,
    pub product_id: i64,
}

/// Public URL of a stored product image file.
pub fn media_url(base: &str, file_name: &str) -> String {
    format!("{base}/media/products/{file_name}")
}

impl ImageOut {
    pub fn new(row: &ImageRow, base: &str, tz: UtcOffset) -> Self {
        let image = media_url(base, &row.file_name);
        let thumbnail = row.thumbnail_name.as_deref().map(|t| media_url(base, t));
        Self {
            id: row.id,
            image_url: image.clone(),
            image,
            thumbnail_url: thumbnail.clone(),
            thumbnail,
            is_primary: row.is_primary,
            order: row.sort_order,
            alt_text: row.alt_text.clone(),
            uploaded_at: iso_at(row.uploaded_at, tz),
            product_type: row.product_type.clone(),
            product_id: row.product_id,
        }
    }
}

/// The Package / Campaign read shape. Field order as the original; `unit` only for campaigns, `items`
/// only for packages, `created_by_name` omitted when there is no creator.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, utoipa::ToSchema)]
pub struct ProductOut {
    pub id: i64,
    pub name: String,
    pub price: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub unit: Option<String>,
    pub description: String,
    pub features: Value,
    pub deliverables: Value,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub items: Option<Vec<ItemOut>>,
    pub is_active: bool,
    pub is_popular: bool,
    pub popular_order: i32,
    pub created_at: String,
    pub updated_at: String,
    pub created_by: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub created_by_name: Option<String>,
    pub images: Vec<ImageOut>,
    pub primary_image: Option<ImageOut>,
    #[serde(rename = "type")]
    pub product_type: ProductType,
}

impl ProductOut {
    /// `images` must be this product's images in display order (primary first, then by order).
    pub fn new(
        kind: ProductType,
        row: &ProductRow,
        items: Vec<ItemOut>,
        images: Vec<ImageOut>,
        tz: UtcOffset,
    ) -> Self {
        let primary_image = images.iter().find(|i| i.is_primary).cloned();
        Self {
            id: row.id,
            name: row.name.clone(),
            price: format_paise(row.price_paise),
            unit: match kind {
                ProductType::Campaign => Some(row.unit.clone().unwrap_or_default()),
                ProductType::Package => None,
            },
            description: row.description.clone(),
            features: row.features.0.clone(),
            deliverables: row.deliverables.0.clone(),
            items: match kind {
                ProductType::Package => Some(items),
                ProductType::Campaign => None,
            },
            is_active: row.is_active,
            is_popular: row.is_popular,
            popular_order: row.popular_order,
            created_at: iso_at(row.created_at, tz),
            updated_at: iso_at(row.updated_at, tz),
            created_by: row.created_by,
            created_by_name: row.creator_name(),
            images,
            primary_image,
            product_type: kind,
        }
    }
}

/// The admin's unified list shape (ProductList).
#[derive(Debug, Clone, Serialize, PartialEq, utoipa::ToSchema)]
pub struct ProductListOut {
    pub id: i64,
    pub name: String,
    pub price: String,
    pub description: String,
    pub is_active: bool,
    pub is_popular: bool,
    pub popular_order: i32,
    pub created_at: String,
    pub updated_at: String,
    pub created_by_name: String,
    #[serde(rename = "type")]
    pub product_type: ProductType,
}

impl ProductListOut {
    pub fn new(kind: ProductType, row: &ProductRow, tz: UtcOffset) -> Self {
        Self {
            id: row.id,
            name: row.name.clone(),
            price: format_paise(row.price_paise),
            description: row.description.clone(),
            is_active: row.is_active,
            is_popular: row.is_popular,
            popular_order: row.popular_order,
            created_at: iso_at(row.created_at, tz),
            updated_at: iso_at(row.updated_at, tz),
            created_by_name: row.creator_name().unwrap_or_else(|| "N/A".into()),
            product_type: kind,
        }
    }
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct AuditRow {
    pub id: i64,
    pub product_type: String,
    pub product_id: i64,
    pub action: String,
    pub user_id: Option<i64>,
    pub user_first_name: Option<String>,
    pub user_last_name: Option<String>,
    pub changes: Json<Value>,
    pub created_at: OffsetDateTime,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct AuditOut {
    pub id: i64,
    pub action: String,
    pub action_display: &'static str,
    pub user: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user_name: Option<String>,
    pub timestamp: String,
    pub changes: Value,
    pub product_type: String,
    pub object_id: i64,
}

impl AuditOut {
    pub fn new(row: &AuditRow, tz: UtcOffset) -> Self {
        Self {
            id: row.id,
            action_display: match row.action.as_str() {
                "create" => "Created",
                "update" => "Updated",
                "delete" => "Deleted",
                "activate" => "Activated",
                "deactivate" => "Deactivated",
                _ => "",
            },
            action: row.action.clone(),
            user: row.user_id,
            user_name: row.user_id.map(|_| {
                format!(
                    "{} {}",
                    row.user_first_name.as_deref().unwrap_or(""),
                    row.user_last_name.as_deref().unwrap_or("")
                )
                .trim()
                .to_string()
            }),
            timestamp: iso_at(row.created_at, tz),
            changes: row.changes.0.clone(),
            product_type: row.product_type.clone(),
            object_id: row.product_id,
        }
    }
}

/// A validated create/update request.
#[derive(Debug, Clone)]
pub struct ProductInput {
    pub name: String,
    pub price_paise: i64,
    pub description: String,
    pub unit: Option<String>,
    pub features: Option<Value>,
    pub deliverables: Option<Value>,
    pub items: Option<Vec<(String, i32)>>,
    pub is_active: Option<bool>,
}

// ---- request bodies, as the OpenAPI document describes them -------------------------------------
// The handlers read bodies through `validation` (DRF's rules and messages); these types only
// describe what a client sends.

/// A package item.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[allow(dead_code)]
pub struct ItemIn {
    #[schema(min_length = 1, max_length = 200)]
    pub name: String,
    #[schema(minimum = 0)]
    pub quantity: Option<i32>,
}

/// A package or campaign (create, or a full update). `unit` is for campaigns, `items` for packages.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[allow(dead_code)]
pub struct ProductIn {
    #[schema(min_length = 1, max_length = 200)]
    pub name: String,
    /// Rupees with at most two decimals, e.g. `"18500.00"` or `18500`.
    #[schema(example = "18500.00", pattern = r"^[1-9][0-9]{0,7}(\.[0-9]{1,2})?$")]
    pub price: String,
    #[schema(min_length = 1)]
    pub description: String,
    #[schema(max_length = 50)]
    pub unit: Option<String>,
    pub features: Option<Vec<String>>,
    pub deliverables: Option<Vec<String>>,
    pub items: Option<Vec<ItemIn>>,
    pub is_active: Option<bool>,
}

/// One `{id, order}` pair of a reorder body.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[allow(dead_code)]
pub struct OrderEntry {
    pub id: i64,
    pub order: Option<i32>,
}

/// `{"items":[{id, order}]}`, or the admin SPA's list of ids in the new order.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[allow(dead_code)]
pub struct ReorderIn {
    #[schema(min_items = 1)]
    pub items: Option<Vec<OrderEntry>>,
    pub image_ids: Option<Vec<i64>>,
    pub item_ids: Option<Vec<i64>>,
}

/// `{"order":[id, …]}`: the popular products in their new order.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[allow(dead_code)]
pub struct PopularOrderIn {
    pub order: Vec<i64>,
}

/// An image's editable fields.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[allow(dead_code)]
pub struct ImageUpdateIn {
    #[schema(max_length = 200)]
    pub alt_text: Option<String>,
    pub order: Option<i32>,
    pub is_primary: Option<bool>,
}

/// The multipart upload form.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[allow(dead_code)]
pub struct ImageUploadForm {
    /// JPEG, PNG, GIF or WebP, at most 5 MB.
    #[schema(value_type = String, format = Binary)]
    pub image: Vec<u8>,
    #[schema(max_length = 200)]
    pub alt_text: Option<String>,
    pub is_primary: Option<bool>,
    pub order: Option<i32>,
}

/// A resource-field definition (create, or a full replace).
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[allow(dead_code)]
pub struct FieldIn {
    #[schema(min_length = 1, max_length = 100)]
    pub field_name: String,
    pub field_type: FieldType,
    pub is_required: Option<bool>,
    pub order: Option<i32>,
    #[schema(max_length = 200)]
    pub help_text: Option<String>,
    pub max_file_size_mb: Option<i32>,
    pub max_length: Option<i32>,
    pub min_value: Option<i32>,
    pub max_value: Option<i32>,
    pub allowed_extensions: Option<Vec<String>>,
}

/// The kinds of resource field.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
#[allow(dead_code)]
pub enum FieldType {
    Image,
    Text,
    Number,
    Document,
    Phone,
    Date,
}

/// `{"field_orders":[{id, order}]}` or `{"field_ids":[…]}`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[allow(dead_code)]
pub struct FieldReorderIn {
    pub field_orders: Option<Vec<OrderEntry>>,
    pub field_ids: Option<Vec<i64>>,
}

/// A checklist template item (PATCH sends any subset).
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[allow(dead_code)]
pub struct TemplateIn {
    #[schema(min_length = 1, max_length = 200)]
    pub name: String,
    #[schema(min_length = 1)]
    pub description: String,
    pub order: Option<i32>,
    pub is_optional: Option<bool>,
    pub estimated_duration_minutes: Option<i32>,
}
