//! The admin panel's read shapes (contract-B §3.5–3.8): `UserBasic`, the staff list entry, the
//! order-list row, payment records and status-history rows.

use serde::Serialize;
use time::{OffsetDateTime, UtcOffset};

use crate::{
    money::{format_paise, paise_to_f64},
    orders::{service::HistoryEntry, status},
    payments::records::RecordRow,
    timefmt::iso_at,
};

/// A user as the admin views embed them.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct UserRow {
    pub id: i64,
    pub username: String,
    pub phone_number: Option<String>,
    pub role: String,
    pub email: String,
    pub first_name: String,
    pub last_name: String,
}

/// `UserBasic` (contract-B §3.5): `phone` repeats `phone_number`; `name` is "first last", either
/// one, else the username.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct UserBasic {
    pub id: i64,
    pub username: String,
    pub phone_number: Option<String>,
    pub phone: Option<String>,
    pub name: Option<String>,
    pub role: String,
    pub email: String,
    pub first_name: String,
    pub last_name: String,
}

/// Django's display name: "first last", whichever is set, else the username (`None` if empty).
pub fn display_name(first: &str, last: &str, username: &str) -> Option<String> {
    let (first, last) = (first.trim(), last.trim());
    match (first.is_empty(), last.is_empty()) {
        (false, false) => Some(format!("{first} {last}")),
        (false, true) => Some(first.to_string()),
        (true, false) => Some(last.to_string()),
        (true, true) => (!username.is_empty()).then(|| username.to_string()),
    }
}

impl From<&UserRow> for UserBasic {
    fn from(u: &UserRow) -> Self {
        Self {
            id: u.id,
            username: u.username.clone(),
            phone_number: u.phone_number.clone(),
            phone: u.phone_number.clone(),
            name: display_name(&u.first_name, &u.last_name, &u.username),
            role: u.role.clone(),
            email: u.email.clone(),
            first_name: u.first_name.clone(),
            last_name: u.last_name.clone(),
        }
    }
}

/// A staff or admin account with its open assignments.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct StaffRow {
    #[sqlx(flatten)]
    pub user: UserRow,
    pub assigned_orders_count: i64,
    pub created_at: OffsetDateTime,
}

/// `StaffSerializer` (contract-B §3.6; no `role` key).
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct StaffOut {
    pub id: i64,
    pub username: String,
    pub phone_number: Option<String>,
    pub phone: Option<String>,
    pub name: Option<String>,
    pub email: String,
    pub first_name: String,
    pub last_name: String,
    /// Orders assigned to them that are `assigned` or `in_progress`.
    pub assigned_orders_count: i64,
    pub created_at: String,
}

impl StaffOut {
    pub fn new(row: &StaffRow, tz: UtcOffset) -> Self {
        let u = &row.user;
        Self {
            id: u.id,
            username: u.username.clone(),
            phone_number: u.phone_number.clone(),
            phone: u.phone_number.clone(),
            name: display_name(&u.first_name, &u.last_name, &u.username),
            email: u.email.clone(),
            first_name: u.first_name.clone(),
            last_name: u.last_name.clone(),
            assigned_orders_count: row.assigned_orders_count,
            created_at: iso_at(row.created_at, tz),
        }
    }
}

/// One row of the admin and staff order lists, with its customer and assignee (one statement).
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ListRow {
    pub id: i64,
    pub order_number: String,
    pub total_paise: i64,
    pub status: String,
    pub payment_status: String,
    pub payment_completed_at: Option<OffsetDateTime>,
    pub order_source: String,
    pub priority: String,
    pub is_manual_order: bool,
    pub created_at: OffsetDateTime,
    pub updated_at: OffsetDateTime,
    pub total_items: i64,
    pub paid_paise: i64,
    pub u_id: i64,
    pub u_username: String,
    pub u_phone_number: Option<String>,
    pub u_role: String,
    pub u_email: String,
    pub u_first_name: String,
    pub u_last_name: String,
    pub a_id: Option<i64>,
    pub a_username: Option<String>,
    pub a_phone_number: Option<String>,
    pub a_role: Option<String>,
    pub a_email: Option<String>,
    pub a_first_name: Option<String>,
    pub a_last_name: Option<String>,
}

/// `AdminOrderList` (contract-B §3.7), plus `order_source`, `priority` and `is_manual_order`
/// (the SPA's list filters read them).
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct AdminOrderListOut {
    pub id: i64,
    pub order_number: String,
    pub user: UserBasic,
    pub total_amount: String,
    pub status: String,
    pub payment_status: String,
    pub assigned_to: Option<UserBasic>,
    pub total_items: i64,
    pub payment_completed_at: Option<String>,
    pub total_paid: f64,
    pub payment_balance: f64,
    pub order_source: String,
    pub priority: String,
    pub is_manual_order: bool,
    pub created_at: String,
    pub updated_at: String,
}

impl AdminOrderListOut {
    pub fn new(r: &ListRow, tz: UtcOffset) -> Self {
        let user = UserRow {
            id: r.u_id,
            username: r.u_username.clone(),
            phone_number: r.u_phone_number.clone(),
            role: r.u_role.clone(),
            email: r.u_email.clone(),
            first_name: r.u_first_name.clone(),
            last_name: r.u_last_name.clone(),
        };
        let assigned = r.a_id.map(|id| UserRow {
            id,
            username: r.a_username.clone().unwrap_or_default(),
            phone_number: r.a_phone_number.clone(),
            role: r.a_role.clone().unwrap_or_default(),
            email: r.a_email.clone().unwrap_or_default(),
            first_name: r.a_first_name.clone().unwrap_or_default(),
            last_name: r.a_last_name.clone().unwrap_or_default(),
        });
        Self {
            id: r.id,
            order_number: r.order_number.clone(),
            user: UserBasic::from(&user),
            total_amount: format_paise(r.total_paise),
            status: r.status.clone(),
            payment_status: r.payment_status.clone(),
            assigned_to: assigned.as_ref().map(UserBasic::from),
            total_items: r.total_items,
            payment_completed_at: r.payment_completed_at.map(|t| iso_at(t, tz)),
            total_paid: paise_to_f64(r.paid_paise),
            payment_balance: paise_to_f64(r.total_paise - r.paid_paise),
            order_source: r.order_source.clone(),
            priority: r.priority.clone(),
            is_manual_order: r.is_manual_order,
            created_at: iso_at(r.created_at, tz),
            updated_at: iso_at(r.updated_at, tz),
        }
    }
}

/// A payment record (contract-B §3.8 `payment_records[]`).
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct RecordOut {
    pub id: i64,
    pub order: i64,
    pub amount: String,
    pub payment_method: String,
    pub payment_method_display: String,
    pub payment_reference: String,
    /// The proof's secure-file URL (root-relative), or null.
    pub payment_proof: Option<String>,
    pub recorded_by: Option<UserBasic>,
    pub recorded_at: String,
    pub notes: String,
}

/// The label of a payment method.
pub fn method_display(method: &str) -> &str {
    match method {
        "cash" => "Cash",
        "upi" => "UPI",
        "bank_transfer" => "Bank Transfer",
        "card" => "Card",
        "cheque" => "Cheque",
        "razorpay" => "Razorpay",
        "other" => "Other",
        other => other,
    }
}

/// The secure-file URL of a payment record's proof.
pub fn proof_url(order_id: i64, record_id: i64) -> String {
    format!("/api/secure-files/orders/{order_id}/payment-proofs/{record_id}/")
}

impl RecordOut {
    pub fn new(r: &RecordRow, by: Option<UserBasic>, tz: UtcOffset) -> Self {
        Self {
            id: r.id,
            order: r.order_id,
            amount: format_paise(r.amount_paise),
            payment_method: r.payment_method.clone(),
            payment_method_display: method_display(&r.payment_method).to_string(),
            payment_reference: r.payment_reference.clone(),
            payment_proof: r
                .payment_proof
                .as_ref()
                .map(|_| proof_url(r.order_id, r.id)),
            recorded_by: by,
            recorded_at: iso_at(r.recorded_at, tz),
            notes: r.notes.clone(),
        }
    }
}

/// A status-history row (contract-B §3.8 `status_history[]`, with the two display keys, Q21).
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct HistoryOut {
    pub id: i64,
    pub order: i64,
    pub old_status: String,
    pub old_status_display: String,
    pub new_status: String,
    pub new_status_display: String,
    /// Never null (the admin SPA reads `changed_by.name` unguarded): the system when no one.
    pub changed_by: UserBasic,
    pub changed_at: String,
    pub reason: String,
    pub is_manual_change: bool,
}

/// Who made a change nobody made by hand (a payment webhook, a removed account).
pub fn system_user() -> UserBasic {
    UserBasic {
        id: 0,
        username: "system".into(),
        phone_number: None,
        phone: None,
        name: Some("System".into()),
        role: "system".into(),
        email: String::new(),
        first_name: String::new(),
        last_name: String::new(),
    }
}

impl HistoryOut {
    pub fn new(h: &HistoryEntry, by: Option<UserBasic>, tz: UtcOffset) -> Self {
        Self {
            id: h.id,
            order: h.order_id,
            old_status: h.old_status.clone(),
            old_status_display: status::display(&h.old_status).to_string(),
            new_status: h.new_status.clone(),
            new_status_display: status::display(&h.new_status).to_string(),
            changed_by: by.unwrap_or_else(system_user),
            changed_at: iso_at(h.changed_at, tz),
            reason: h.reason.clone(),
            is_manual_change: h.is_manual_change,
        }
    }
}
