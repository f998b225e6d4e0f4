//! Marking an order paid — the one function the checkout callback and the webhook share (D18):
//! under the order's lock, idempotent for the same payment, never backwards, one payment id for
//! one order, one payment-history row with its invoice number, the status moved through the
//! machine (with its history row).

use axum::http::StatusCode;
use serde_json::json;

use crate::{
    db::now,
    error::{AppError, AppResult},
    orders::{
        service::{self as orders, dated_number},
        status::{self, Applied, Cause, Change, Status},
    },
    payments::{model::HistoryRow, repo},
    state::AppState,
};

/// Where the proof of a payment came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    /// The checkout callback (`payment-success`), signed with the key secret.
    Checkout,
    /// A `payment.captured` / `order.paid` webhook, signed with the webhook secret.
    Webhook,
}

/// A verified payment for an order.
#[derive(Debug, Clone, Copy)]
pub struct Proof<'a> {
    pub payment_id: &'a str,
    pub razorpay_order_id: &'a str,
    /// The checkout's signature (stored on the order); `None` from the webhook.
    pub signature: Option<&'a str>,
    pub source: Source,
    pub by: Option<i64>,
}

/// What [`settle`] did.
#[derive(Debug, Clone)]
pub enum Settled {
    /// The order is now paid.
    Paid(HistoryRow),
    /// It already was, by this payment: nothing changed.
    AlreadyPaid(HistoryRow),
}

impl Settled {
    pub fn history(&self) -> &HistoryRow {
        match self {
            Settled::Paid(h) | Settled::AlreadyPaid(h) => h,
        }
    }
}

/// Why a payment was not applied.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refused {
    /// Paid already, by another payment.
    PaidByAnother,
    /// Cancelled (or otherwise past the point of payment).
    NotPayable,
    /// This payment id already paid another order.
    PaymentUsed,
    NoSuchOrder,
}

impl Refused {
    /// The `{"error": …}` answer of the checkout callback.
    pub fn into_error(self) -> AppError {
        let (status, message) = match self {
            Refused::PaidByAnother => (StatusCode::CONFLICT, "Order is already paid"),
            Refused::NotPayable => (
                StatusCode::CONFLICT,
                "Order cannot be paid in its current status",
            ),
            Refused::PaymentUsed => (
                StatusCode::BAD_REQUEST,
                "This payment has already been used for another order",
            ),
            Refused::NoSuchOrder => (StatusCode::NOT_FOUND, "Order not found"),
        };
        AppError::Error(status, message.to_string())
    }
}

/// Marks order `order_id` paid by `proof` (see the module docs).
pub async fn settle(
    state: &AppState,
    order_id: i64,
    proof: Proof<'_>,
) -> AppResult<Result<Settled, Refused>> {
    let mut tx = state.db.begin().await?;
    let Some(order) = orders::lock(&mut tx, order_id).await? else {
        return Ok(Err(Refused::NoSuchOrder));
    };
    if let Some(history) = repo::history_in(&mut tx, order_id).await? {
        return Ok(if history.transaction_id == proof.payment_id {
            Ok(Settled::AlreadyPaid(history))
        } else {
            Err(Refused::PaidByAnother)
        });
    }
    if order.razorpay_payment_id.is_some() || order.payment_status == "paid" {
        return Ok(Err(Refused::PaidByAnother));
    }
    if order.status != Status::PendingPayment.as_str() {
        return Ok(Err(Refused::NotPayable));
    }
    if repo::order_of_transaction(&mut tx, proof.payment_id)
        .await?
        .is_some()
    {
        return Ok(Err(Refused::PaymentUsed));
    }
    let at = now();
    let metadata = match proof.signature {
        Some(signature) => json!({
            "razorpay_order_id": proof.razorpay_order_id,
            "razorpay_signature": signature,
        }),
        None => json!({ "razorpay_order_id": proof.razorpay_order_id, "source": "webhook" }),
    }
    .to_string();
    let mut inserted = false;
    for _ in 0..5 {
        let invoice = dated_number("INV", at, state.config.tz_offset);
        if repo::insert_history(
            &mut tx,
            order_id,
            proof.payment_id,
            order.total_paise,
            &invoice,
            at,
            &metadata,
        )
        .await?
        {
            inserted = true;
            break;
        }
        // A taken payment id (a concurrent payment of another order) ends it; a taken invoice
        // number is drawn again.
        if repo::order_of_transaction(&mut tx, proof.payment_id)
            .await?
            .is_some()
        {
            return Ok(Err(Refused::PaymentUsed));
        }
    }
    if !inserted {
        return Err(AppError::Internal(anyhow::anyhow!(
            "five invoice-number collisions in a row"
        )));
    }
    orders::set_paid(&mut tx, order_id, proof.payment_id, proof.signature, at).await?;
    let to = if order.is_manual_order {
        Status::ReadyForProcessing
    } else {
        Status::PendingResources
    };
    let reason = match proof.source {
        Source::Checkout => "Payment verified",
        Source::Webhook => "Payment confirmed by the Razorpay webhook",
    };
    let change = Change {
        order_id,
        from: Status::PendingPayment,
        to,
        cause: Cause::Payment,
        changed_by: proof.by,
        reason,
    };
    if status::apply(&mut tx, change).await? != Applied::Moved {
        return Err(AppError::Internal(anyhow::anyhow!(
            "a locked order moved under its lock"
        )));
    }
    let history = repo::history_in(&mut tx, order_id)
        .await?
        .ok_or_else(|| AppError::Internal(anyhow::anyhow!("payment history vanished")))?;
    crate::orders::derived::commit(state, tx).await?;
    tracing::info!(
        order_id,
        source = ?proof.source,
        invoice = %history.invoice_number,
        "order paid"
    );
    Ok(Ok(Settled::Paid(history)))
}

/// The order's Razorpay payment (and invoice number), if it has one.
pub async fn history_of(state: &AppState, order_id: i64) -> AppResult<Option<HistoryRow>> {
    Ok(repo::history_of_order(&state.db, order_id).await?)
}
