//! `AdminOrderDetail` (contract-B §3.8): the admin's and staff's view of one order — its lines with
//! names and resources, the checklist with progress, payment records, the latest status history,
//! the Razorpay payment (`payment_history`, D5) and what is paid and due. About eight statements,
//! none per line.

use std::collections::{HashMap, HashSet};

use serde::Serialize;
use serde_json::Value;

use crate::{
    error::AppResult,
    fulfilment::{
        checklist::{self, ChecklistOut},
        model::{HistoryOut, RecordOut, UserBasic},
        repo,
    },
    money::{format_paise, paise_to_f64},
    orders::{
        model::OrderRow,
        service::{self as orders, HistoryEntry},
    },
    payments::{
        model::HistoryOut as PaymentHistoryOut,
        records::{self, RecordRow},
        service as payments,
    },
    resources::admin as resources,
    state::AppState,
    timefmt::iso_at,
};

/// Status-history rows the detail shows.
pub const HISTORY_ROWS: i64 = 10;

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct AdminOrderDetail {
    pub id: i64,
    pub order_number: String,
    pub user: Option<UserBasic>,
    pub total_amount: String,
    pub status: String,
    pub status_display: String,
    pub payment_status: String,
    pub razorpay_order_id: String,
    pub razorpay_payment_id: Option<String>,
    pub payment_completed_at: Option<String>,
    pub assigned_to: Option<UserBasic>,
    /// The customer's line shape plus `product_name`, `name` and `resources`.
    #[schema(value_type = Vec<Object>)]
    pub items: Vec<Value>,
    pub total_items: usize,
    pub resource_upload_progress: i64,
    #[schema(value_type = Vec<Object>)]
    pub resources: Vec<Value>,
    pub checklist: Option<ChecklistOut>,
    pub created_at: String,
    pub updated_at: String,
    pub is_manual_order: bool,
    pub order_source: String,
    pub created_by: Option<UserBasic>,
    pub payment_reference: String,
    pub priority: String,
    pub admin_notes: String,
    pub payment_records: Vec<RecordOut>,
    pub status_history: Vec<HistoryOut>,
    /// The Razorpay payment (its `status` is `completed` once paid), or null.
    pub payment_history: Option<PaymentHistoryOut>,
    pub total_paid: f64,
    pub balance_due: f64,
}

/// Users by id, as `UserBasic`.
pub async fn users(state: &AppState, ids: HashSet<i64>) -> AppResult<HashMap<i64, UserBasic>> {
    let ids: Vec<i64> = ids.into_iter().collect();
    Ok(repo::users(&state.db, &ids)
        .await?
        .iter()
        .map(|u| (u.id, UserBasic::from(u)))
        .collect())
}

/// Payment records in their read shape (one user lookup for all).
pub async fn records_out(state: &AppState, rows: &[RecordRow]) -> AppResult<Vec<RecordOut>> {
    let users = users(state, rows.iter().filter_map(|r| r.recorded_by).collect()).await?;
    let tz = state.config.tz_offset;
    Ok(rows
        .iter()
        .map(|r| RecordOut::new(r, r.recorded_by.and_then(|u| users.get(&u).cloned()), tz))
        .collect())
}

/// Status-history rows in their read shape (one user lookup for all).
pub async fn history_out(state: &AppState, rows: &[HistoryEntry]) -> AppResult<Vec<HistoryOut>> {
    let users = users(state, rows.iter().filter_map(|h| h.changed_by).collect()).await?;
    let tz = state.config.tz_offset;
    Ok(rows
        .iter()
        .map(|h| HistoryOut::new(h, h.changed_by.and_then(|u| users.get(&u).cloned()), tz))
        .collect())
}

/// The detail of `order` (already read, access already checked).
pub async fn render(state: &AppState, order: &OrderRow, base: &str) -> AppResult<AdminOrderDetail> {
    let tz = state.config.tz_offset;
    let customer_view = orders::render_one(state, order, base).await?;
    let lines = orders::items(state, order.id).await?;
    let names = orders::item_names(state, &lines).await?;
    let admin = resources::of_items(state, &lines, &names).await?;
    let checklist_id = checklist::repo::checklist_of(&state.db, order.id).await?;
    let checklist_items = match checklist_id {
        Some(id) => checklist::repo::items(&state.db, id).await?,
        None => Vec::new(),
    };
    let records = records::of_order(state, order.id).await?;
    let history = orders::history(state, order.id, HISTORY_ROWS).await?;
    let payment = payments::history_of(state, order.id).await?;

    let mut ids: HashSet<i64> = HashSet::from([order.user_id]);
    ids.extend(order.assigned_to);
    ids.extend(order.created_by);
    ids.extend(checklist_items.iter().filter_map(|i| i.completed_by));
    ids.extend(records.iter().filter_map(|r| r.recorded_by));
    ids.extend(history.iter().filter_map(|h| h.changed_by));
    let users = users(state, ids).await?;
    let user = |id: Option<i64>| id.and_then(|id| users.get(&id).cloned());

    let items: Vec<Value> = customer_view
        .items
        .iter()
        .map(|item| {
            let mut value = serde_json::to_value(item).unwrap_or(Value::Null);
            let name = names
                .get(&item.id)
                .cloned()
                .unwrap_or_else(|| "Unknown".into());
            if let Value::Object(map) = &mut value {
                map.insert("product_name".into(), Value::String(name.clone()));
                map.insert("name".into(), Value::String(name));
                map.insert(
                    "resources".into(),
                    admin.per_item.get(&item.id).cloned().unwrap_or(Value::Null),
                );
            }
            value
        })
        .collect();
    Ok(AdminOrderDetail {
        id: order.id,
        order_number: order.order_number.clone(),
        user: user(Some(order.user_id)),
        total_amount: format_paise(order.total_paise),
        status: order.status.clone(),
        status_display: crate::orders::status::display(&order.status).to_string(),
        payment_status: order.payment_status.clone(),
        razorpay_order_id: order.razorpay_order_id.clone(),
        razorpay_payment_id: order.razorpay_payment_id.clone(),
        payment_completed_at: order.payment_completed_at.map(|t| iso_at(t, tz)),
        assigned_to: user(order.assigned_to),
        total_items: lines.len(),
        resource_upload_progress: customer_view.resource_upload_progress,
        items,
        resources: admin.groups,
        checklist: checklist_id.map(|id| ChecklistOut::new(id, &checklist_items, &users)),
        created_at: iso_at(order.created_at, tz),
        updated_at: iso_at(order.updated_at, tz),
        is_manual_order: order.is_manual_order,
        order_source: order.order_source.clone(),
        created_by: user(order.created_by),
        payment_reference: order.payment_reference.clone(),
        priority: order.priority.clone(),
        admin_notes: order.admin_notes.clone(),
        payment_records: records
            .iter()
            .map(|r| RecordOut::new(r, user(r.recorded_by), tz))
            .collect(),
        status_history: history
            .iter()
            .map(|h| HistoryOut::new(h, user(h.changed_by), tz))
            .collect(),
        payment_history: payment.as_ref().map(|p| PaymentHistoryOut::new(p, tz)),
        total_paid: paise_to_f64(order.paid_paise),
        balance_due: paise_to_f64(order.total_paise - order.paid_paise),
    })
}
