//! Order checklists (contract-B §2.5–2.6, §11.2): built once when an order is assigned — from the
//! products' checklist templates, or the generic fallback when none has any — and their progress
//! (optional items are left out).

pub mod repo;

use std::collections::HashMap;

use serde::Serialize;

use crate::{
    catalog::{model::ProductType, products::service as products, templates},
    db::Tx,
    fulfilment::model::UserBasic,
    orders::model::{OrderItemRow, OrderRow},
    timefmt::iso_utc_z,
};

pub use repo::ItemRow;

/// `get_checklist_progress` (contract-B §11.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Progress {
    pub total_items: i64,
    pub completed_items: i64,
    pub required_items: i64,
    pub completed_required: i64,
    pub progress_percentage: i64,
}

pub fn progress(items: &[ItemRow]) -> Progress {
    let total = items.len() as i64;
    let completed = items.iter().filter(|i| i.completed).count() as i64;
    let required: Vec<&ItemRow> = items.iter().filter(|i| !i.is_optional).collect();
    if !required.is_empty() {
        let done = required.iter().filter(|i| i.completed).count() as i64;
        let n = required.len() as i64;
        Progress {
            total_items: total,
            completed_items: completed,
            required_items: n,
            completed_required: done,
            progress_percentage: done * 100 / n,
        }
    } else if total > 0 {
        Progress {
            total_items: total,
            completed_items: completed,
            required_items: 0,
            completed_required: completed,
            progress_percentage: completed * 100 / total,
        }
    } else {
        Progress {
            total_items: 0,
            completed_items: 0,
            required_items: 0,
            completed_required: 0,
            progress_percentage: 0,
        }
    }
}

/// A checklist item in the order detail.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ItemOut {
    pub id: i64,
    pub description: String,
    pub completed: bool,
    /// UTC with `Z`.
    pub completed_at: Option<String>,
    pub completed_by: Option<UserBasic>,
    pub order_index: i32,
    pub is_optional: bool,
    pub template_item_id: Option<i64>,
}

/// The order detail's `checklist` object.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ChecklistOut {
    pub id: i64,
    #[serde(flatten)]
    pub progress: Progress,
    pub items: Vec<ItemOut>,
}

impl ChecklistOut {
    pub fn new(id: i64, items: &[ItemRow], users: &HashMap<i64, UserBasic>) -> Self {
        Self {
            id,
            progress: progress(items),
            items: items
                .iter()
                .map(|i| ItemOut {
                    id: i.id,
                    description: i.description.clone(),
                    completed: i.completed,
                    completed_at: i.completed_at.map(iso_utc_z),
                    completed_by: i.completed_by.and_then(|u| users.get(&u).cloned()),
                    order_index: i.order_index,
                    is_optional: i.is_optional,
                    template_item_id: i.template_item,
                })
                .collect(),
        }
    }
}

const PACKAGE_STEPS: [&str; 6] = [
    "Prepare all components for {}",
    "Customize materials with candidate information for {}",
    "Schedule delivery/installation for {}",
    "Coordinate with technical team for setup of {}",
    "Complete delivery and setup of {}",
    "Provide training/documentation for {}",
];
const CAMPAIGN_STEPS: [&str; 6] = [
    "Schedule campaign execution for {}",
    "Coordinate with field team for {}",
    "Prepare campaign materials for {}",
    "Execute campaign activities for {}",
    "Document campaign execution and results for {}",
    "Provide campaign report to customer for {}",
];

/// The generic checklist (contract-B §11.2 step 3) for an order without templates.
pub fn fallback(
    order: &OrderRow,
    phone: &str,
    items: &[OrderItemRow],
    names: &HashMap<i64, String>,
) -> Vec<repo::NewItem> {
    let mut steps: Vec<String> = vec![
        format!(
            "Review order {} details and requirements",
            order.order_number
        ),
        format!("Contact customer at {phone} to confirm order"),
    ];
    for item in items {
        let name = names.get(&item.id).map_or("Item", String::as_str);
        steps.push(format!(
            "Review uploaded resources for {name} (Qty: {})",
            item.quantity
        ));
        let per = if item.product_type == "campaign" {
            CAMPAIGN_STEPS
        } else {
            PACKAGE_STEPS
        };
        steps.extend(per.iter().map(|s| s.replace("{}", name)));
    }
    steps.extend([
        "Conduct final quality check on all deliverables".to_string(),
        "Contact customer for final approval and feedback".to_string(),
        "Mark order as completed and archive documentation".to_string(),
    ]);
    steps
        .into_iter()
        .enumerate()
        .map(|(i, description)| repo::NewItem {
            template_item: None,
            description,
            order_index: i32::try_from(i).unwrap_or(i32::MAX),
            is_optional: false,
        })
        .collect()
}

/// Builds the order's checklist unless it already has items (then it is kept): the templates of
/// every line's product (one set per line, sorted by their `order`), else the fallback. Inside the
/// caller's transaction, which holds the order's lock. Returns whether items were created.
pub async fn generate(tx: &mut Tx, order: &OrderRow, phone: &str) -> Result<bool, sqlx::Error> {
    let checklist = repo::ensure_checklist(tx, order.id).await?;
    if !repo::items_in(tx, checklist).await?.is_empty() {
        return Ok(false);
    }
    let lines = crate::orders::service::items_in(tx, order.id).await?;
    let mut steps: Vec<repo::NewItem> = Vec::new();
    for line in &lines {
        let Some(kind) = ProductType::parse(&line.product_type) else {
            continue;
        };
        for t in templates::steps_in(tx, kind, line.product_id).await? {
            steps.push(repo::NewItem {
                template_item: Some(t.id),
                description: t.name,
                order_index: t.sort_order,
                is_optional: t.is_optional,
            });
        }
    }
    steps.sort_by_key(|s| s.order_index);
    if steps.is_empty() {
        let mut names = HashMap::new();
        for line in &lines {
            if let Some(kind) = ProductType::parse(&line.product_type) {
                let tags = products::price_tags(tx, kind, &[line.product_id]).await?;
                if let Some(tag) = tags.into_iter().next() {
                    names.insert(line.id, tag.name);
                }
            }
        }
        steps = fallback(order, phone, &lines, &names);
    }
    repo::insert_items(tx, checklist, &steps).await?;
    Ok(true)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn item(completed: bool, optional: bool) -> ItemRow {
        ItemRow {
            id: 1,
            checklist_id: 1,
            template_item: None,
            description: String::new(),
            completed,
            completed_at: None,
            completed_by: None,
            order_index: 0,
            is_optional: optional,
        }
    }

    #[test]
    fn progress_ignores_optional_items_and_truncates() {
        let items = [
            item(true, false),
            item(false, false),
            item(false, false),
            item(true, true),
        ];
        let p = progress(&items);
        assert_eq!(
            (
                p.total_items,
                p.completed_items,
                p.required_items,
                p.completed_required
            ),
            (4, 2, 3, 1)
        );
        assert_eq!(p.progress_percentage, 33);
        let only_optional = [item(true, true), item(false, true)];
        let p = progress(&only_optional);
        assert_eq!(
            (
                p.required_items,
                p.completed_required,
                p.progress_percentage
            ),
            (0, 1, 50)
        );
        assert_eq!(progress(&[]).progress_percentage, 0);
    }
}
