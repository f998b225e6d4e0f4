//! The bell's read shape (contract-B §3.9, clients.md §2.10).

use serde::Serialize;

use crate::{notifications::repo::NotificationRow, timefmt::iso_at};

/// `Notification` (contract-B §3.9).
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct NotificationOut {
    pub id: i64,
    pub notification_type: String,
    pub title: String,
    pub message: String,
    pub order: Option<i64>,
    pub order_number: Option<String>,
    pub is_read: bool,
    pub created_at: String,
    /// What the admin SPA's bell reads (clients.md §2.10): `order` when an order is linked, else
    /// `system`.
    #[serde(rename = "type")]
    pub kind: &'static str,
    /// The SPA route the bell navigates to (`/orders/{id}`), or null.
    pub related_url: Option<String>,
}

impl NotificationOut {
    pub fn new(row: NotificationRow, tz: time::UtcOffset) -> Self {
        Self {
            id: row.id,
            notification_type: row.notification_type,
            title: row.title,
            message: row.message,
            order: row.order_id,
            order_number: row.order_number,
            is_read: row.is_read,
            created_at: iso_at(row.created_at, tz),
            kind: if row.order_id.is_some() {
                "order"
            } else {
                "system"
            },
            related_url: row.order_id.map(|id| format!("/orders/{id}")),
        }
    }
}
