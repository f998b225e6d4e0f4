//! The admin's and staff's view of an order's resources (contract-B §3.8): per item, the legacy
//! form (`static`) and the dynamic submissions, with every file as its secure-file URL (the admin
//! SPA appends `?token=`). Files are never linked by their storage path: there is no public media
//! listing of resources (D19).

use std::collections::HashMap;

use serde_json::{Value, json};

use crate::{
    error::AppResult,
    orders::model::OrderItemRow,
    resources::{
        model::{ResourceRow, legacy_url, submission_url},
        repo::{self, NamedSubmission},
    },
    state::AppState,
    timefmt::iso_utc_z,
};

/// Each item's `resources` object and the top-level `resources` list.
#[derive(Debug, Clone, Default)]
pub struct AdminResources {
    /// `{"static": …|null, "dynamic": [...]}` per order item id.
    pub per_item: HashMap<i64, Value>,
    /// One entry per item that has any resource, in item order.
    pub groups: Vec<Value>,
}

fn static_out(row: &ResourceRow) -> Value {
    let file =
        |name: &str, kind: &str| (!name.is_empty()).then(|| legacy_url(row.order_item_id, kind));
    json!({
        "id": row.id,
        "candidate_photo": file(&row.candidate_photo, "candidate_photo"),
        "party_logo": file(&row.party_logo, "party_logo"),
        "campaign_slogan": row.campaign_slogan,
        "preferred_date": row.preferred_date,
        "whatsapp_number": row.whatsapp_number,
        "additional_notes": row.additional_notes,
        "uploaded_at": iso_utc_z(row.uploaded_at),
    })
}

fn dynamic_out(s: &NamedSubmission) -> Value {
    let mut out = json!({
        "id": s.row.id, "field_id": s.row.field_id, "field_name": s.field_name,
        "field_type": s.field_type, "uploaded_at": iso_utc_z(s.row.uploaded_at),
    });
    if s.field_type == "image" || s.field_type == "document" {
        out["value"] = s
            .row
            .file_value
            .as_ref()
            .map_or(Value::Null, |_| Value::String(submission_url(s.row.id)));
        out["file_name"] = s.row.file_value.clone().map_or(Value::Null, Value::String);
    } else {
        out["value"] = s.row.value();
    }
    out
}

/// The resources of these order lines (two statements), named by `names` (line id → name).
pub async fn of_items(
    state: &AppState,
    items: &[OrderItemRow],
    names: &HashMap<i64, String>,
) -> AppResult<AdminResources> {
    let ids: Vec<i64> = items.iter().map(|i| i.id).collect();
    let legacy = repo::resources_of(&state.db, &ids).await?;
    let submissions = repo::named_submissions_of(&state.db, &ids).await?;
    let mut out = AdminResources::default();
    for item in items {
        let static_part = legacy
            .iter()
            .find(|r| r.order_item_id == item.id)
            .map_or(Value::Null, static_out);
        let dynamic: Vec<Value> = submissions
            .iter()
            .filter(|s| s.row.order_item_id == item.id)
            .map(dynamic_out)
            .collect();
        if !static_part.is_null() || !dynamic.is_empty() {
            out.groups.push(json!({
                "order_item_id": item.id, "item_type": item.product_type,
                "item_name": names.get(&item.id).cloned().unwrap_or_else(|| "Unknown".into()),
                "static": static_part, "dynamic": dynamic,
            }));
        }
        out.per_item
            .insert(item.id, json!({"static": static_part, "dynamic": dynamic}));
    }
    Ok(out)
}
