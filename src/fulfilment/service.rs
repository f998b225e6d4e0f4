//! The admin's and staff's order flows (contract-B §8.1, §9, §14 rules 8–10), each one transaction
//! under the order's lock, every status move through the one status machine (with its history
//! row, D6), notifications written in the same transaction and announced after it.

use axum::http::StatusCode;

use crate::{
    auth::model::User,
    db::Tx,
    error::{AppError, AppResult, FieldErrors},
    fulfilment::checklist::{self, Progress},
    notifications::{
        self,
        service::{self as notify, Recipients},
    },
    orders::{
        model::OrderRow,
        service as orders,
        status::{self, Applied, Cause, Change, Status},
    },
    payments::records::{self, NewRecord, Recorded},
    state::AppState,
};

/// The admin routes' 404 (DRF's generic body).
pub fn no_order() -> AppError {
    AppError::Detail(
        StatusCode::NOT_FOUND,
        "No Order matches the given query.".into(),
    )
}

fn message(status: StatusCode, text: impl Into<String>) -> AppError {
    AppError::Message(status, text.into())
}

/// The order `id`, locked in `tx`; missing → the generic 404.
pub async fn locked(tx: &mut Tx, id: i64) -> AppResult<OrderRow> {
    orders::lock(tx, id).await?.ok_or_else(no_order)
}

/// Moves `order` to `to` (if it is not there already) for `cause`; a move the machine refuses
/// is a 400 naming both statuses.
async fn move_to(
    tx: &mut Tx,
    order: &OrderRow,
    to: Status,
    cause: Cause,
    by: i64,
    reason: &str,
) -> AppResult<bool> {
    let Some(from) = Status::parse(&order.status) else {
        return Err(message(
            StatusCode::BAD_REQUEST,
            format!("Order has an unknown status: {}", order.status),
        ));
    };
    if from == to {
        return Ok(false);
    }
    let change = Change {
        order_id: order.id,
        from,
        to,
        cause,
        changed_by: Some(by),
        reason,
    };
    match status::apply(tx, change).await? {
        Applied::Moved => Ok(true),
        Applied::NotAllowed => Err(message(
            StatusCode::BAD_REQUEST,
            format!(
                "Cannot change an order from {} to {}",
                from.as_str(),
                to.as_str()
            ),
        )),
        Applied::Stale => Err(message(
            StatusCode::CONFLICT,
            "The order changed meanwhile; reload it and try again",
        )),
    }
}

/// The staff member an order may be assigned to: an active staff or admin account.
pub async fn assignee(tx: &mut Tx, staff_id: i64) -> AppResult<Result<User, FieldErrors>> {
    let Some(user) = crate::auth::service::find_in(tx, staff_id).await? else {
        return Ok(Err(FieldErrors::one("staff_id", "Staff member not found")));
    };
    if !user.is_active {
        return Ok(Err(FieldErrors::one("staff_id", "Staff member not found")));
    }
    if !user.is_staff_or_admin() {
        return Ok(Err(FieldErrors::one(
            "staff_id",
            "User must have staff or admin role",
        )));
    }
    Ok(Ok(user))
}

/// Sets the assignee, moves the order to `assigned`, builds its checklist once and notifies the
/// assignee — inside `tx`, which holds the order's lock.
pub async fn assign_in(
    tx: &mut Tx,
    order: &OrderRow,
    staff: &User,
    by: i64,
    build_checklist: bool,
    notified: &mut Recipients,
) -> AppResult<()> {
    orders::set_assignee(tx, order.id, Some(staff.id)).await?;
    let name = if staff.first_name.trim().is_empty() {
        staff.username.clone()
    } else {
        staff.first_name.trim().to_string()
    };
    move_to(
        tx,
        order,
        Status::Assigned,
        Cause::Assignment,
        by,
        &format!("Assigned to {name}"),
    )
    .await?;
    if build_checklist {
        let phone = orders::customer_phone(tx, order.id)
            .await?
            .unwrap_or_default();
        checklist::generate(tx, order, &phone).await?;
    }
    let lines = orders::items_in(tx, order.id).await?.len();
    notify::to_user(
        tx,
        notified,
        staff.id,
        notifications::ORDER_ASSIGNED,
        "New Order Assigned",
        &format!(
            "Order {} has been assigned to you. Total items: {lines}",
            order.order_number
        ),
        Some(order.id),
    )
    .await?;
    Ok(())
}

/// `assign/`: returns the assignee's username.
pub async fn assign(
    state: &AppState,
    order_id: i64,
    staff_id: Option<i64>,
    by: i64,
) -> AppResult<String> {
    let mut tx = state.db.begin().await?;
    let order = locked(&mut tx, order_id).await?;
    let Some(staff_id) = staff_id else {
        return Err(AppError::Validation(FieldErrors::one(
            "staff_id",
            "This field is required.",
        )));
    };
    let staff = assignee(&mut tx, staff_id)
        .await?
        .map_err(AppError::Validation)?;
    let mut notified = Recipients::default();
    assign_in(&mut tx, &order, &staff, by, true, &mut notified).await?;
    crate::orders::derived::commit(state, tx).await?;
    notify::announce(state, notified).await;
    Ok(staff.username)
}

/// `update-status/`: any status to any other, with a reason and a manual history row; cancelling
/// unassigns; `assigned` with an assignee builds the checklist if there is none.
pub async fn set_status(
    state: &AppState,
    order_id: i64,
    to: Status,
    reason: &str,
    by: i64,
) -> AppResult<()> {
    let mut tx = state.db.begin().await?;
    let order = locked(&mut tx, order_id).await?;
    if order.status == to.as_str() {
        return Err(message(
            StatusCode::BAD_REQUEST,
            "Order is already in this status",
        ));
    }
    move_to(&mut tx, &order, to, Cause::Admin, by, reason).await?;
    match to {
        Status::Cancelled => orders::set_assignee(&mut tx, order.id, None).await?,
        Status::Assigned if order.assigned_to.is_some() => {
            let phone = orders::customer_phone(&mut tx, order.id)
                .await?
                .unwrap_or_default();
            checklist::generate(&mut tx, &order, &phone).await?;
        }
        _ => {}
    }
    crate::orders::derived::commit(state, tx).await?;
    Ok(())
}

/// `payment_status` values an admin may set.
pub const PAYMENT_STATUSES: [&str; 5] = ["unpaid", "partial", "paid", "refunded", "cod"];

/// `update-payment-status/`: returns the old value.
pub async fn set_payment_status(state: &AppState, order_id: i64, to: &str) -> AppResult<String> {
    let mut tx = state.db.begin().await?;
    let order = locked(&mut tx, order_id).await?;
    orders::set_payment_status(&mut tx, order.id, to).await?;
    crate::orders::derived::commit(state, tx).await?;
    Ok(order.payment_status)
}

/// `record-payment/`.
pub async fn record_payment(
    state: &AppState,
    record: &NewRecord<'_>,
) -> AppResult<(OrderRow, Recorded)> {
    let mut tx = state.db.begin().await?;
    let order = locked(&mut tx, record.order_id).await?;
    let recorded = records::record(&mut tx, &order, record).await?;
    crate::orders::derived::commit(state, tx).await?;
    Ok((order, recorded))
}

/// What ticking a checklist item did.
#[derive(Debug, Clone)]
pub struct Ticked {
    pub item: checklist::ItemRow,
    pub progress: Progress,
    pub order_status: String,
}

/// Who may tick an order's checklist: admins, and the staff member it is assigned to.
pub fn may_work_on(order: &OrderRow, user: &User) -> bool {
    user.is_admin() || order.assigned_to == Some(user.id)
}

/// `PATCH /api/staff/checklist/{id}/` (contract-B §9): sets the item, recomputes progress; the
/// first required item moves `assigned → in_progress`, 100% moves the order to `completed` and
/// notifies the admins; 25/50/75/100% notify the admins of the progress.
pub async fn tick(
    state: &AppState,
    item_id: i64,
    completed: bool,
    user: &User,
) -> AppResult<Ticked> {
    let Some(found) = checklist::repo::item_with_order(&state.db, item_id).await? else {
        return Err(AppError::Detail(StatusCode::NOT_FOUND, "Not found.".into()));
    };
    let mut tx = state.db.begin().await?;
    let order = locked(&mut tx, found.order_id).await?;
    // Another staff member's order is indistinguishable from a missing one (D13), so the
    // contract's 403 for this case is a 404 here.
    if !may_work_on(&order, user) {
        return Err(AppError::Detail(StatusCode::NOT_FOUND, "Not found.".into()));
    }
    checklist::repo::set_completed(&mut tx, item_id, completed, user.id).await?;
    let items = checklist::repo::items_in(&mut tx, found.item.checklist_id).await?;
    let progress = checklist::progress(&items);
    let mut notified = Recipients::default();
    let mut order_status = order.status.clone();
    let pct = progress.progress_percentage;
    if pct == 100 && order.status != Status::Completed.as_str() {
        move_to(
            &mut tx,
            &order,
            Status::Completed,
            Cause::ChecklistCompleted,
            user.id,
            "Checklist completed",
        )
        .await?;
        order_status = Status::Completed.as_str().into();
        let by = match order.assigned_to {
            Some(id) => crate::auth::service::find_in(&mut tx, id)
                .await?
                .and_then(|u| u.phone_number)
                .unwrap_or_else(|| "staff".into()),
            None => "staff".into(),
        };
        notify::to_admins(
            &mut tx,
            &mut notified,
            notifications::ORDER_COMPLETED,
            "Order Completed",
            &format!("Order {} has been completed by {by}.", order.order_number),
            Some(order.id),
        )
        .await?;
    } else if pct > 0 && order.status == Status::Assigned.as_str() {
        move_to(
            &mut tx,
            &order,
            Status::InProgress,
            Cause::ChecklistStarted,
            user.id,
            "Checklist started",
        )
        .await?;
        order_status = Status::InProgress.as_str().into();
    }
    if [25, 50, 75, 100].contains(&pct) {
        notify::to_admins(
            &mut tx,
            &mut notified,
            notifications::PROGRESS_UPDATE,
            "Order Progress Update",
            &format!("Order {} is now {pct}% complete.", order.order_number),
            Some(order.id),
        )
        .await?;
    }
    crate::orders::derived::commit(state, tx).await?;
    notify::announce(state, notified).await;
    let item = items
        .into_iter()
        .find(|i| i.id == item_id)
        .unwrap_or(found.item);
    Ok(Ticked {
        item,
        progress,
        order_status,
    })
}
