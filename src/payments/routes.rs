//! The customer's payment routes (contract-B §4.4, §4.11–4.12, D18) and the checkout route (in
//! [`checkout`](super::checkout)); the Razorpay webhook is in [`webhook`](super::webhook).

use std::collections::HashMap;

use axum::{Json, extract::State, http::StatusCode};
use serde_json::{Value, json};
use time::{Date, Duration, OffsetDateTime, PrimitiveDateTime, Time, macros::format_description};
use utoipa_axum::{router::OpenApiRouter, routes};

use crate::{
    auth::AuthUser,
    error::{AppError, AppResult, FieldErrors},
    extract::{BaseUrl, Body, Query, path::parse_id},
    orders::service as orders,
    path_param,
    payments::{
        checkout,
        model::{HistoryOut, MyPaymentsOut, VerifyIn},
        razorpay::{Lookup, Razorpay, signature_matches},
        repo,
        service::{Proof, Settled, Source, settle},
        webhook,
    },
    state::AppState,
    validation::{self, Text},
};

/// Most payments `my-payments` lists (newest first).
const MY_PAYMENTS_LIMIT: i64 = 500;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(checkout::create_order))
        .routes(routes!(my_payments))
        .routes(routes!(payment_success))
        .routes(routes!(payment_history))
        .routes(routes!(webhook::razorpay_webhook))
}

path_param!(
    /// `{order_id}`: an integer, or `{"error": "Order not found"}`.
    pub struct OrderId(i64) = "order_id", parse_id, orders::order_not_found;
);

fn error(status: StatusCode, message: &str) -> AppError {
    AppError::Error(status, message.to_string())
}

fn signature_failed() -> AppError {
    error(
        StatusCode::BAD_REQUEST,
        "Payment signature verification failed",
    )
}

/// The three checkout values, required and not blank (checked before the order is looked up).
fn read_verify(body: &Value) -> Result<(String, String, String), FieldErrors> {
    validation::object(body)?;
    let mut errors = FieldErrors::default();
    let rules = Text::required().max(255);
    let order = validation::text(body, "razorpay_order_id", rules, &mut errors);
    let payment = validation::text(body, "razorpay_payment_id", rules, &mut errors);
    let signature = validation::text(body, "razorpay_signature", rules, &mut errors);
    match (order, payment, signature) {
        (Some(o), Some(p), Some(s)) if errors.is_empty() => Ok((o, p, s)),
        _ => Err(errors),
    }
}

#[utoipa::path(post, path = "/api/orders/{order_id}/payment-success/", tag = "payments",
    summary = "Verify the checkout's payment and mark the order paid (idempotent)",
    params(("order_id" = i64, Path)),
    request_body(content = VerifyIn, content_type = "application/json"),
    responses((status = 200, description = "Verified (or already verified by this payment)"),
        (status = 400, description = "Missing fields, a bad signature, or a payment the gateway does not confirm"),
        (status = 401, description = "Authentication required"), (status = 404, description = "Not the caller's order"),
        (status = 409, description = "Cancelled, or paid by another payment"),
        (status = 503, description = "Verification is not configured")))]
async fn payment_success(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
    BaseUrl(base): BaseUrl,
    OrderId(id): OrderId,
    Body(body): Body<Value>,
) -> AppResult<Json<Value>> {
    let (claimed_order, payment_id, signature) = read_verify(&body)?;
    let order = orders::owned(&state, id, user.id).await?;
    let gateway = Razorpay::of(&state);
    let Some(secret) = gateway.key_secret() else {
        tracing::error!("payment verification refused: RAZORPAY_KEY_SECRET is not set");
        return Err(error(
            StatusCode::SERVICE_UNAVAILABLE,
            "Payment verification is not configured",
        ));
    };
    // D18: the order id is the one stored on the order, never the body's.
    let stored = order.razorpay_order_id.as_str();
    let message = format!("{stored}|{payment_id}");
    if stored.is_empty()
        || claimed_order != stored
        || !signature_matches(secret, message.as_bytes(), &signature)
    {
        tracing::warn!(
            order_id = id,
            user_id = user.id,
            "payment signature rejected"
        );
        return Err(signature_failed());
    }
    // A repeat of a verified payment is a no-op; only a new one is confirmed with the gateway.
    if order.razorpay_payment_id.as_deref() != Some(payment_id.as_str()) {
        if order.status == "cancelled" {
            return Err(error(
                StatusCode::CONFLICT,
                "Order cannot be paid in its current status",
            ));
        }
        confirm_with_gateway(&gateway, &order, &payment_id).await?;
    }
    let proof = Proof {
        payment_id: &payment_id,
        razorpay_order_id: stored,
        signature: Some(&signature),
        source: Source::Checkout,
        by: Some(user.id),
    };
    let settled = settle(&state, id, proof)
        .await?
        .map_err(|refused| refused.into_error())?;
    let order = orders::owned(&state, id, user.id).await?;
    let out = orders::render_one(&state, &order, &base).await?;
    let message = match settled {
        Settled::Paid(_) => "Payment verified successfully",
        Settled::AlreadyPaid(_) => "Payment already verified",
    };
    Ok(Json(json!({
        "success": true,
        "message": message,
        "order": out,
        "invoice_number": settled.history().invoice_number,
    })))
}

/// `GET /v1/payments/{id}`: the payment must belong to the stored order, for its total in INR,
/// captured or authorized. A gateway that does not answer leaves the signature as the proof.
async fn confirm_with_gateway(
    gateway: &Razorpay<'_>,
    order: &crate::orders::model::OrderRow,
    payment_id: &str,
) -> AppResult<()> {
    let refused = |why: &str| {
        tracing::warn!(
            order_id = order.id,
            reason = why,
            "payment not confirmed by the gateway"
        );
        error(
            StatusCode::BAD_REQUEST,
            "Payment could not be confirmed with the payment gateway",
        )
    };
    match gateway.fetch_payment(payment_id).await {
        Lookup::Found(payment) => {
            if payment.order_id.as_deref() != Some(order.razorpay_order_id.as_str()) {
                return Err(refused("the payment belongs to another Razorpay order"));
            }
            if payment.amount != order.total_paise || payment.currency != "INR" {
                return Err(refused("amount or currency differs from the order"));
            }
            if !matches!(payment.status.as_str(), "captured" | "authorized") {
                return Err(refused("the payment is not captured"));
            }
            Ok(())
        }
        Lookup::Unknown => Err(refused("the gateway does not know this payment")),
        Lookup::Unreachable(reason) => {
            tracing::warn!(order_id = order.id, %reason,
                "gateway unreachable: accepting the signature, awaiting the webhook's confirmation");
            Ok(())
        }
        Lookup::NotChecked => Ok(()),
    }
}

#[utoipa::path(get, path = "/api/orders/{order_id}/payment-history/", tag = "payments",
    summary = "The order's Razorpay payment", params(("order_id" = i64, Path)),
    responses((status = 200, body = HistoryOut), (status = 401, description = "Authentication required"),
        (status = 404, description = "Not the caller's order, or not paid yet")))]
async fn payment_history(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
    OrderId(id): OrderId,
) -> AppResult<Json<HistoryOut>> {
    let order = orders::owned(&state, id, user.id).await?;
    let history = repo::history_of_order(&state.db, order.id)
        .await?
        .ok_or_else(|| {
            error(
                StatusCode::NOT_FOUND,
                "Payment history not found for this order",
            )
        })?;
    Ok(Json(HistoryOut::new(&history, state.config.tz_offset)))
}

/// `YYYY-MM-DD` → local midnight of that day in the shop's zone, as UTC.
fn local_midnight(text: &str, tz: time::UtcOffset) -> Option<OffsetDateTime> {
    let date = Date::parse(text.trim(), format_description!("[year]-[month]-[day]")).ok()?;
    PrimitiveDateTime::new(date, Time::MIDNIGHT)
        .assume_offset(tz)
        .checked_to_offset(time::UtcOffset::UTC)
}

#[utoipa::path(get, path = "/api/orders/my-payments/", tag = "payments",
    summary = "The caller's Razorpay payments, newest first (at most 500)",
    params(("start_date" = Option<String>, Query, description = "YYYY-MM-DD, inclusive"),
        ("end_date" = Option<String>, Query, description = "YYYY-MM-DD, inclusive"),
        ("status" = Option<String>, Query)),
    responses((status = 200, body = MyPaymentsOut), (status = 400, description = "A bad date"),
        (status = 401, description = "Authentication required")))]
async fn my_payments(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
    Query(query): Query<HashMap<String, String>>,
) -> AppResult<Json<MyPaymentsOut>> {
    let tz = state.config.tz_offset;
    let date = |name: &str| -> AppResult<Option<OffsetDateTime>> {
        match query.get(name).map(|v| v.trim()).filter(|v| !v.is_empty()) {
            None => Ok(None),
            Some(text) => local_midnight(text, tz).map(Some).ok_or_else(|| {
                error(
                    StatusCode::BAD_REQUEST,
                    &format!("Invalid {name} format. Use YYYY-MM-DD"),
                )
            }),
        }
    };
    let from = date("start_date")?;
    // Inclusive: before the next day's midnight (no bound past the last representable day).
    let until = date("end_date")?.and_then(|t| t.checked_add(Duration::days(1)));
    let status = query
        .get("status")
        .map(String::as_str)
        .filter(|s| !s.is_empty());
    let rows =
        repo::history_of_user(&state.db, user.id, from, until, status, MY_PAYMENTS_LIMIT).await?;
    let payments: Vec<HistoryOut> = rows.iter().map(|r| HistoryOut::new(r, tz)).collect();
    Ok(Json(MyPaymentsOut {
        count: payments.len(),
        payments,
    }))
}
