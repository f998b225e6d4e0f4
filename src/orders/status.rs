//! The one order status machine (contract-B §12, D6): every status change — payment, resources,
//! assignment, checklist, an admin's override — goes through [`apply`], which moves the order only
//! from the status it was read in (a guarded `UPDATE`) and writes the status-history row.

use crate::{
    db::{Tx, now},
    tx_run,
};

/// `Order.status` (contract-B §2.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Status {
    PendingPayment,
    PendingResources,
    ReadyForProcessing,
    Assigned,
    InProgress,
    Completed,
    Cancelled,
    OnHold,
}

impl Status {
    pub const ALL: [Status; 8] = [
        Status::PendingPayment,
        Status::PendingResources,
        Status::ReadyForProcessing,
        Status::Assigned,
        Status::InProgress,
        Status::Completed,
        Status::Cancelled,
        Status::OnHold,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Status::PendingPayment => "pending_payment",
            Status::PendingResources => "pending_resources",
            Status::ReadyForProcessing => "ready_for_processing",
            Status::Assigned => "assigned",
            Status::InProgress => "in_progress",
            Status::Completed => "completed",
            Status::Cancelled => "cancelled",
            Status::OnHold => "on_hold",
        }
    }

    /// The choice label the admin SPA shows.
    pub fn label(self) -> &'static str {
        match self {
            Status::PendingPayment => "Pending Payment",
            Status::PendingResources => "Pending Resources",
            Status::ReadyForProcessing => "Ready for Processing",
            Status::Assigned => "Assigned to Staff",
            Status::InProgress => "In Progress",
            Status::Completed => "Completed",
            Status::Cancelled => "Cancelled",
            Status::OnHold => "On Hold",
        }
    }

    pub fn parse(value: &str) -> Option<Status> {
        Status::ALL.into_iter().find(|s| s.as_str() == value)
    }
}

/// The label of a stored status (history rows have no choices): the choice label, else the raw
/// value (`""` stays `""`).
pub fn display(raw: &str) -> &str {
    match Status::parse(raw) {
        Some(status) => status.label(),
        None => raw,
    }
}

/// Why an order's status changes; each cause may make only its own moves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cause {
    /// A verified payment (checkout callback or webhook).
    Payment,
    /// The last item's campaign resources arrived.
    ResourcesComplete,
    /// An admin assigned the order to a staff member.
    Assignment,
    /// The first required checklist item was done.
    ChecklistStarted,
    /// Every required checklist item is done.
    ChecklistCompleted,
    /// An admin's override (any status to any other, with a reason).
    Admin,
}

impl Cause {
    fn manual(self) -> bool {
        self == Cause::Admin
    }
}

/// Whether `cause` may move an order from `from` to `to`.
pub fn allowed(cause: Cause, from: Status, to: Status) -> bool {
    use Status::*;
    match cause {
        Cause::Payment => {
            from == PendingPayment && matches!(to, PendingResources | ReadyForProcessing)
        }
        Cause::ResourcesComplete => from == PendingResources && to == ReadyForProcessing,
        // contract-B §8.1/§9: assignment, and a checklist reaching 100%, apply from any status.
        Cause::Assignment => from != Assigned && to == Assigned,
        Cause::ChecklistStarted => from == Assigned && to == InProgress,
        Cause::ChecklistCompleted => from != Completed && to == Completed,
        Cause::Admin => from != to,
    }
}

/// One requested move.
#[derive(Debug, Clone, Copy)]
pub struct Change<'a> {
    pub order_id: i64,
    pub from: Status,
    pub to: Status,
    pub cause: Cause,
    pub changed_by: Option<i64>,
    pub reason: &'a str,
}

/// What [`apply`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Applied {
    Moved,
    /// The machine does not let this cause make this move.
    NotAllowed,
    /// The order was no longer in `from` (another transaction moved it first).
    Stale,
}

/// Moves the order (only if it is still in `change.from`) and writes the history row, inside `tx`.
pub async fn apply(tx: &mut Tx, change: Change<'_>) -> Result<Applied, sqlx::Error> {
    if !allowed(change.cause, change.from, change.to) {
        return Ok(Applied::NotAllowed);
    }
    let at = now();
    let moved = tx_run!(tx, |conn| sqlx::query(
        "UPDATE orders SET status = $1, updated_at = $2 WHERE id = $3 AND status = $4"
    )
    .bind(change.to.as_str())
    .bind(at)
    .bind(change.order_id)
    .bind(change.from.as_str())
    .execute(&mut *conn)
    .await
    .map(|r| r.rows_affected()))?;
    if moved == 0 {
        return Ok(Applied::Stale);
    }
    record(
        tx,
        change.order_id,
        change.from.as_str(),
        change.to,
        change.changed_by,
        change.reason,
        change.cause.manual(),
    )
    .await?;
    Ok(Applied::Moved)
}

/// The history row of a new order (`""` → its first status).
pub async fn record_initial(
    tx: &mut Tx,
    order_id: i64,
    status: Status,
    changed_by: Option<i64>,
    reason: &str,
) -> Result<(), sqlx::Error> {
    record(tx, order_id, "", status, changed_by, reason, false).await
}

async fn record(
    tx: &mut Tx,
    order_id: i64,
    old: &str,
    new: Status,
    changed_by: Option<i64>,
    reason: &str,
    manual: bool,
) -> Result<(), sqlx::Error> {
    tx_run!(tx, |conn| sqlx::query(
        "INSERT INTO order_status_history \
         (order_id, old_status, new_status, changed_by, changed_at, reason, is_manual_change) \
         VALUES ($1, $2, $3, $4, $5, $6, $7)"
    )
    .bind(order_id)
    .bind(old)
    .bind(new.as_str())
    .bind(changed_by)
    .bind(now())
    .bind(reason)
    .bind(manual)
    .execute(&mut *conn)
    .await
    .map(|_| ()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn payment_moves_only_an_unpaid_order_forward() {
        use Status::*;
        assert!(allowed(Cause::Payment, PendingPayment, PendingResources));
        assert!(allowed(Cause::Payment, PendingPayment, ReadyForProcessing));
        for from in [PendingResources, Completed, Cancelled, OnHold, Assigned] {
            assert!(!allowed(Cause::Payment, from, PendingResources), "{from:?}");
        }
        assert!(!allowed(Cause::Admin, Completed, Completed));
        assert!(allowed(Cause::Admin, Completed, PendingPayment));
    }

    #[test]
    fn labels_and_raw_values() {
        assert_eq!(display("ready_for_processing"), "Ready for Processing");
        assert_eq!(display("assigned"), "Assigned to Staff");
        assert_eq!(display(""), "");
        assert_eq!(display("legacy"), "legacy");
        for s in Status::ALL {
            assert_eq!(Status::parse(s.as_str()), Some(s));
        }
    }
}
