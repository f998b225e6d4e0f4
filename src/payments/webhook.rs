//! `POST /api/payments/razorpay/webhook/` (D18, reliability §2.4): the signature
//! (`X-Razorpay-Signature`, HMAC-SHA256 of the raw body under `RAZORPAY_WEBHOOK_SECRET`) is checked
//! on the bytes as received, before parsing. `payment.captured` and `order.paid` mark the order paid
//! through the same [`settle`] as the checkout callback; a delivery id seen before
//! (`x-razorpay-event-id`) is a no-op; other events answer 200 and change nothing.

use axum::{
    Json,
    body::Bytes,
    extract::State,
    http::{HeaderMap, StatusCode},
};
use serde_json::{Value, json};

use crate::{
    error::{AppError, AppResult},
    orders::service as orders,
    payments::{
        razorpay::{Razorpay, signature_matches},
        repo,
        service::{Proof, Refused, Settled, Source, settle},
    },
    state::AppState,
};

fn error(status: StatusCode, message: &str) -> AppError {
    AppError::Error(status, message.to_string())
}

fn ok(status: &str) -> Json<Value> {
    Json(json!({ "status": status }))
}

#[utoipa::path(post, path = "/api/payments/razorpay/webhook/", tag = "payments",
    summary = "Razorpay webhook: payment.captured / order.paid mark the order paid",
    params(("X-Razorpay-Signature" = String, Header), ("x-razorpay-event-id" = Option<String>, Header)),
    request_body(content = Value, content_type = "application/json"),
    responses((status = 200, description = "Handled, a repeat, or an event this shop ignores"),
        (status = 400, description = "A missing or wrong signature (always, while RAZORPAY_WEBHOOK_SECRET is unset), or a body that is not JSON")))]
pub async fn razorpay_webhook(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> AppResult<Json<Value>> {
    let gateway = Razorpay::of(&state);
    let Some(signature) = headers
        .get("x-razorpay-signature")
        .and_then(|v| v.to_str().ok())
    else {
        return Err(error(StatusCode::BAD_REQUEST, "Missing signature"));
    };
    // Without the secret no delivery can be verified: each is refused (and logged), as a forged one.
    let Some(secret) = gateway.webhook_secret() else {
        tracing::error!("webhook refused: RAZORPAY_WEBHOOK_SECRET is not set");
        return Err(error(StatusCode::BAD_REQUEST, "Invalid signature"));
    };
    if !signature_matches(secret, &body, signature.trim()) {
        tracing::warn!("webhook signature rejected");
        return Err(error(StatusCode::BAD_REQUEST, "Invalid signature"));
    }
    let Ok(event) = serde_json::from_slice::<Value>(&body) else {
        return Err(error(StatusCode::BAD_REQUEST, "Invalid payload"));
    };
    let event_id = headers
        .get("x-razorpay-event-id")
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
        .filter(|id| !id.is_empty() && id.len() <= 200 && !id.contains('\0'));
    if let Some(id) = event_id
        && repo::event_seen(&state.db, id).await?
    {
        return Ok(ok("duplicate"));
    }
    let name = event["event"].as_str().unwrap_or("");
    let outcome = match name {
        "payment.captured" | "order.paid" => handle_paid(&state, &event).await?,
        _ => "ignored",
    };
    if let Some(id) = event_id {
        repo::note_event(&state.db, id, name).await?;
    }
    Ok(ok(outcome))
}

/// A captured payment: checked against the stored order (its Razorpay order, total in paise, INR),
/// then settled. Mismatches are logged and acknowledged (a retry would not change them).
async fn handle_paid(state: &AppState, event: &Value) -> AppResult<&'static str> {
    let payment = &event["payload"]["payment"]["entity"];
    let (Some(payment_id), Some(razorpay_order_id)) =
        (payment["id"].as_str(), payment["order_id"].as_str())
    else {
        tracing::warn!("webhook: a paid event without a payment entity");
        return Ok("ignored");
    };
    let Some(order) = orders::by_gateway_order(state, razorpay_order_id).await? else {
        tracing::warn!(
            razorpay_order_id,
            "webhook: no order has this Razorpay order"
        );
        return Ok("unknown_order");
    };
    let order_id = order.id;
    let amount = payment["amount"].as_i64();
    let currency = payment["currency"].as_str();
    let status = payment["status"].as_str().unwrap_or("captured");
    if amount != Some(order.total_paise)
        || currency.is_some_and(|c| c != "INR")
        || !matches!(status, "captured" | "authorized")
    {
        tracing::warn!(
            order_id,
            "webhook: the payment does not match the order; ignored"
        );
        return Ok("mismatch");
    }
    let proof = Proof {
        payment_id,
        razorpay_order_id,
        signature: None,
        source: Source::Webhook,
        by: None,
    };
    Ok(match settle(state, order_id, proof).await? {
        Ok(Settled::Paid(_)) => "paid",
        Ok(Settled::AlreadyPaid(_)) => "already_paid",
        Err(refused) => {
            tracing::warn!(order_id, ?refused, "webhook: payment not applied");
            match refused {
                Refused::NoSuchOrder => "unknown_order",
                _ => "refused",
            }
        }
    })
}
