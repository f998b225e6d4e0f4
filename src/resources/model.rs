//! Resource rows and read shapes (contract-B §2.3–2.4, §3.3, §4.6–4.8).

use serde::Serialize;
use serde_json::Value;
use time::OffsetDateTime;

use crate::timefmt::iso_at;

/// A legacy fixed-form resource (one per order item).
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ResourceRow {
    pub id: i64,
    pub order_item_id: i64,
    pub candidate_photo: String,
    pub party_logo: String,
    pub campaign_slogan: String,
    pub preferred_date: String,
    pub whatsapp_number: String,
    pub additional_notes: String,
    pub uploaded_at: OffsetDateTime,
}

/// A dynamic-field submission.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct SubmissionRow {
    pub id: i64,
    pub order_item_id: i64,
    pub field_id: i64,
    pub text_value: Option<String>,
    pub number_value: Option<i64>,
    pub file_value: Option<String>,
    pub uploaded_at: OffsetDateTime,
}

/// The secure-file URL of a submission's file (root-relative: the admin SPA prefixes its API base
/// and appends `?token=`).
pub fn submission_url(id: i64) -> String {
    format!("/api/secure-files/resources/{id}/")
}

/// The secure-file URL of a legacy form's photo or logo. Per item: the contract's
/// `/api/secure-files/orders/{order_id}/{kind}/` serves only the order's first item's.
pub fn legacy_url(item_id: i64, kind: &str) -> String {
    format!("/api/secure-files/order-items/{item_id}/{kind}/")
}

impl SubmissionRow {
    /// The `value` a read shape shows: the text, the number, or the file's URL.
    pub fn value(&self) -> Value {
        if self.file_value.is_some() {
            Value::String(submission_url(self.id))
        } else if let Some(n) = self.number_value {
            Value::from(n)
        } else {
            self.text_value.clone().map_or(Value::Null, Value::String)
        }
    }
}

/// `OrderResourceSerializer` (file fields as their secure-file URLs).
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ResourceOut {
    pub id: i64,
    pub order_item: i64,
    pub candidate_photo: String,
    pub party_logo: String,
    pub campaign_slogan: String,
    pub preferred_date: String,
    pub whatsapp_number: String,
    pub additional_notes: String,
    pub uploaded_at: String,
}

impl ResourceOut {
    pub fn new(row: &ResourceRow, tz: time::UtcOffset) -> Self {
        Self {
            id: row.id,
            order_item: row.order_item_id,
            candidate_photo: legacy_url(row.order_item_id, "candidate_photo"),
            party_logo: legacy_url(row.order_item_id, "party_logo"),
            campaign_slogan: row.campaign_slogan.clone(),
            preferred_date: row.preferred_date.clone(),
            whatsapp_number: row.whatsapp_number.clone(),
            additional_notes: row.additional_notes.clone(),
            uploaded_at: iso_at(row.uploaded_at, tz),
        }
    }
}
