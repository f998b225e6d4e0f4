//! `POST /api/orders/create/` (contract-B §4.1, D17, D20): the cart becomes an order in one
//! transaction, then the Razorpay order is created outside it. If the gateway fails, the order is
//! undone — its lines go back into the cart, the order row is deleted — and the caller gets a 502/503
//! `{"error": …}`; creating again is the retry. An `Idempotency-Key` header replays the first
//! answer. The post-transaction part runs in its own task, so a client that hangs up mid-way cannot
//! leave an order half-attached (and an order interrupted by a crash is taken over by the next
//! attempt, see `orders::service::place_from_cart`).

use std::time::Duration;

use axum::{
    extract::State,
    http::{HeaderMap, HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
};
use serde::Serialize;

use crate::{
    auth::AuthUser,
    db::now,
    error::{AppError, AppResult},
    extract::BaseUrl,
    orders::{
        model::OrderOut,
        service::{self as orders, Begun, Placed},
    },
    payments::razorpay::{GatewayError, Razorpay},
    ratelimit::ORDER_CREATE_PER_USER,
    state::AppState,
    timefmt::iso_at,
};

/// `201`: the order, and what the checkout opens with.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct CreatedOut {
    pub order: OrderOut,
    pub razorpay_order_id: String,
    pub razorpay_key_id: String,
    /// Paise.
    pub amount: i64,
}

fn failed(status: StatusCode, tail: &str) -> AppError {
    AppError::Error(status, format!("Order creation failed: {tail}"))
}

/// The `Idempotency-Key` header: 1–255 visible ASCII characters, or a 400.
fn idempotency_key(headers: &HeaderMap) -> AppResult<Option<String>> {
    let Some(value) = headers.get("idempotency-key") else {
        return Ok(None);
    };
    let key = value.to_str().unwrap_or("").trim();
    if key.is_empty() || key.len() > 255 || !key.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(AppError::Error(
            StatusCode::BAD_REQUEST,
            "Idempotency-Key must be 1 to 255 visible ASCII characters".into(),
        ));
    }
    Ok(Some(key.to_string()))
}

/// How long an order may sit between its transaction and its gateway order before another attempt
/// takes it over: past anything the gateway call may take.
fn stale_after(state: &AppState) -> Duration {
    state.config.razorpay.timeout * 2 + Duration::from_secs(30)
}

#[utoipa::path(post, path = "/api/orders/create/", tag = "orders",
    summary = "Place the cart as an order and create its Razorpay order",
    params(("Idempotency-Key" = Option<String>, Header, description = "a repeat returns the first answer")),
    request_body(content = serde_json::Value, content_type = "application/json",
        description = "Ignored: the order is made from the cart"),
    responses((status = 201, body = CreatedOut), (status = 400, description = "Cart is empty, or the total is out of range"),
        (status = 401, description = "Authentication required"), (status = 404, description = "Cart not found"),
        (status = 409, description = "The same Idempotency-Key is still being processed"),
        (status = 429, description = "More than 10 orders in an hour"),
        (status = 502, description = "The gateway refused; the cart is unchanged"),
        (status = 503, description = "The gateway is unavailable; the cart is unchanged")))]
pub async fn create_order(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
    BaseUrl(base): BaseUrl,
    headers: HeaderMap,
) -> AppResult<Response> {
    let key = idempotency_key(&headers)?;
    state
        .limiter
        .enforce(&ORDER_CREATE_PER_USER, &user.id.to_string())
        .await?;
    if Razorpay::of(&state).key_secret().is_none() {
        tracing::error!("order creation refused: RAZORPAY_KEY_SECRET is not set");
        return Err(failed(
            StatusCode::SERVICE_UNAVAILABLE,
            "online payment is not configured",
        ));
    }
    let placed = match orders::place_from_cart(&state, user.id, key.as_deref(), stale_after(&state))
        .await?
    {
        Begun::Replay(body) => return Ok(created(body)),
        Begun::Placed(placed) => placed,
    };
    // The rest runs to completion even if the client goes away.
    let task = tokio::spawn(async move { attach(state, *placed, base).await });
    match task.await {
        Ok(result) => result.map(created),
        Err(join) => Err(AppError::Internal(anyhow::anyhow!(
            "order creation task failed: {join}"
        ))),
    }
}

fn created(body: String) -> Response {
    let mut response = (StatusCode::CREATED, body).into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    response
}

/// Creates the gateway order for a placed order and stores it; on failure undoes the order.
async fn attach(state: AppState, placed: Placed, base: String) -> AppResult<String> {
    let gateway = Razorpay::of(&state);
    let order = &placed.order;
    match gateway
        .create_order(order.total_paise, &order.order_number)
        .await
    {
        Ok(gateway_order) => {
            let at = now();
            let mut out = orders::render_one(&state, order, &base).await?;
            out.razorpay_order_id = gateway_order.id.clone();
            out.updated_at = iso_at(at, state.config.tz_offset);
            let body = serde_json::to_string(&CreatedOut {
                order: out,
                razorpay_order_id: gateway_order.id.clone(),
                razorpay_key_id: gateway.key_id().to_string(),
                amount: order.total_paise,
            })
            .map_err(|e| AppError::Internal(e.into()))?;
            orders::attach_gateway_order(&state, order.id, &gateway_order.id, at, &body).await?;
            tracing::info!(
                order_id = order.id,
                amount = order.total_paise,
                "order created"
            );
            Ok(body)
        }
        Err(error) => {
            tracing::warn!(order_id = order.id, error = %error, "gateway order failed; order undone");
            orders::abandon(&state, &placed).await?;
            Err(match error {
                GatewayError::Unavailable(_) => failed(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "the payment gateway is not answering; your cart is unchanged, please try again",
                ),
                GatewayError::Failed(_) => failed(
                    StatusCode::BAD_GATEWAY,
                    "the payment gateway refused the order; your cart is unchanged, please try again",
                ),
            })
        }
    }
}
