//! Completing an order item's hand-over (contract-B §14 rule 5): the item is marked done; when it
//! was the last one, the order moves `pending_resources → ready_for_processing` through the status
//! machine and every admin gets one `new_order` notification — once, on that move (not again on
//! later submissions, Q34). Runs in the caller's transaction, which holds the order's lock, so
//! parallel hand-overs of the last two items cannot both miss (or both make) the move.

use crate::{
    db::Tx,
    error::AppResult,
    notifications::{self, service::Recipients},
    orders::{
        model::{OrderItemRow, OrderRow},
        service as orders,
        status::{self, Applied, Cause, Change, Status},
    },
};

/// What a hand-over left the order at.
#[derive(Debug, Clone)]
pub struct Completion {
    pub order_status: String,
    pub all_uploaded: bool,
    /// The lines still waiting, in order.
    pub pending: Vec<OrderItemRow>,
    /// Who was notified (to wake once the transaction committed).
    pub notified: Recipients,
}

/// Whether resources may be handed over in the order's status.
pub fn accepts_uploads(status: &str) -> bool {
    status == Status::PendingResources.as_str() || status == Status::ReadyForProcessing.as_str()
}

/// Marks `item_id` done and, when it was the last, moves the order on (see the module docs).
/// `order` must have been read under the lock `tx` holds.
pub async fn complete_item(
    tx: &mut Tx,
    order: &OrderRow,
    item_id: i64,
    by: i64,
) -> AppResult<Completion> {
    orders::mark_item_uploaded(tx, order.id, item_id).await?;
    let items = orders::items_in(tx, order.id).await?;
    let all_uploaded = items.iter().all(|i| i.resources_uploaded);
    let mut order_status = order.status.clone();
    let mut notified = Recipients::default();
    if all_uploaded && order.status == Status::PendingResources.as_str() {
        let change = Change {
            order_id: order.id,
            from: Status::PendingResources,
            to: Status::ReadyForProcessing,
            cause: Cause::ResourcesComplete,
            changed_by: Some(by),
            reason: "All resources uploaded",
        };
        if status::apply(tx, change).await? == Applied::Moved {
            // contract-B §11.3's texts.
            let phone = orders::customer_phone(tx, order.id)
                .await?
                .unwrap_or_default();
            notifications::service::to_admins(
                tx,
                &mut notified,
                notifications::NEW_ORDER,
                "New Order Ready for Processing",
                &format!(
                    "Order {} from {phone} is ready for processing. Total: ₹{}",
                    order.order_number,
                    crate::money::format_paise(order.total_paise)
                ),
                Some(order.id),
            )
            .await?;
            order_status = Status::ReadyForProcessing.as_str().to_string();
        }
    }
    Ok(Completion {
        order_status,
        all_uploaded,
        pending: items
            .into_iter()
            .filter(|i| !i.resources_uploaded)
            .collect(),
        notified,
    })
}
