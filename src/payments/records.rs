//! Manual payment records (contract-B §2.8, §8.1 `record-payment`, the manual order's initial
//! payment): cash, UPI, bank transfers… recorded by an admin. The order's payment status is
//! recomputed from what has been paid (records plus a verified Razorpay payment, D18); once paid,
//! an order still awaiting payment moves on through the status machine.

use crate::{
    db::Tx,
    error::AppResult,
    orders::{
        model::OrderRow,
        service as orders,
        status::{self, Cause, Change, Status},
    },
    payments::repo,
    state::AppState,
};

pub use crate::payments::repo::{NewRecord, RecordRow};

/// `payment_method` choices of a record (`razorpay` too: an admin may log a gateway payment).
pub const METHODS: [&str; 7] = [
    "cash",
    "upi",
    "bank_transfer",
    "card",
    "cheque",
    "razorpay",
    "other",
];

/// The order's payment records, newest first.
pub async fn of_order(state: &AppState, order_id: i64) -> AppResult<Vec<RecordRow>> {
    Ok(repo::records_of(&state.db, order_id).await?)
}

/// `unpaid` / `partial` / `paid` from what was paid against the total (contract-B §2.1).
pub fn status_for(paid_paise: i64, total_paise: i64) -> &'static str {
    if paid_paise <= 0 {
        "unpaid"
    } else if paid_paise >= total_paise {
        "paid"
    } else {
        "partial"
    }
}

/// What recording a payment did.
#[derive(Debug, Clone)]
pub struct Recorded {
    pub record: RecordRow,
    pub paid_paise: i64,
    pub payment_status: &'static str,
}

/// Inserts the record and recomputes the order's payment status, inside the caller's transaction
/// with `order` locked. A payment that completes an order still `pending_payment` moves it on
/// (website orders to `pending_resources`, manual ones to `ready_for_processing`).
pub async fn record(tx: &mut Tx, order: &OrderRow, new: &NewRecord<'_>) -> AppResult<Recorded> {
    let record = repo::insert_record(tx, new).await?;
    let paid_paise = repo::paid_in(tx, order.id).await?;
    let payment_status = status_for(paid_paise, order.total_paise);
    orders::set_payment_status(tx, order.id, payment_status).await?;
    if payment_status == "paid" && order.status == Status::PendingPayment.as_str() {
        let to = if order.is_manual_order {
            Status::ReadyForProcessing
        } else {
            Status::PendingResources
        };
        status::apply(
            tx,
            Change {
                order_id: order.id,
                from: Status::PendingPayment,
                to,
                cause: Cause::Payment,
                changed_by: Some(new.recorded_by),
                reason: "Payment recorded in full",
            },
        )
        .await?;
    }
    Ok(Recorded {
        record,
        paid_paise,
        payment_status,
    })
}

/// Records a manual order's initial payment without recomputing its status (the request's
/// `payment_status` stands, contract-B §8.1 step 6).
pub async fn record_initial(tx: &mut Tx, new: &NewRecord<'_>) -> AppResult<RecordRow> {
    Ok(repo::insert_record(tx, new).await?)
}
