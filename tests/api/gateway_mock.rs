//! A loopback Razorpay stand-in for the payment tests (`RAZORPAY_API_BASE` points at it): it
//! checks basic auth, creates orders, answers payment lookups from what the test registered, and
//! can fail (HTTP 500) or hang on demand.

use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
    time::Duration,
};

use axum::{
    Json, Router,
    extract::{Path, State},
    http::{HeaderMap, StatusCode},
    response::{IntoResponse, Response},
    routing::{get, post},
};
use base64::Engine;
use serde_json::{Value, json};

pub const KEY_ID: &str = "rzp_test_mockkey";
pub const KEY_SECRET: &str = "mock-key-secret-0123456789";
pub const WEBHOOK_SECRET: &str = "mock-webhook-secret-9876543210";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Normal,
    Fail500,
    /// Sleeps this long before answering.
    Hang(Duration),
}

#[derive(Debug)]
struct Inner {
    mode: Mode,
    /// (id, amount, receipt) of every order created.
    orders: Vec<(String, i64, String)>,
    payments: HashMap<String, Value>,
    create_calls: usize,
}

#[derive(Clone, Debug)]
pub struct MockGateway {
    pub base: String,
    inner: Arc<Mutex<Inner>>,
}

impl MockGateway {
    pub async fn start() -> Self {
        let inner = Arc::new(Mutex::new(Inner {
            mode: Mode::Normal,
            orders: Vec::new(),
            payments: HashMap::new(),
            create_calls: 0,
        }));
        let app = Router::new()
            .route("/v1/orders", post(create_order))
            .route("/v1/payments", get(list_payments))
            .route("/v1/payments/{id}", get(fetch_payment))
            .with_state(inner.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind mock gateway");
        let base = format!("http://{}", listener.local_addr().expect("addr"));
        tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        MockGateway { base, inner }
    }

    /// The app's environment for this gateway (timeouts short enough for the failure tests).
    pub fn env(&self) -> Vec<(&'static str, String)> {
        vec![
            ("RAZORPAY_API_BASE", self.base.clone()),
            ("RAZORPAY_KEY_ID", KEY_ID.into()),
            ("RAZORPAY_KEY_SECRET", KEY_SECRET.into()),
            ("RAZORPAY_WEBHOOK_SECRET", WEBHOOK_SECRET.into()),
            ("RAZORPAY_TIMEOUT_MS", "1500".into()),
            ("RAZORPAY_CONNECT_TIMEOUT_MS", "500".into()),
        ]
    }

    pub fn set_mode(&self, mode: Mode) {
        self.inner.lock().expect("mock").mode = mode;
    }

    pub fn create_calls(&self) -> usize {
        self.inner.lock().expect("mock").create_calls
    }

    /// The last order created: (id, amount in paise, receipt).
    pub fn last_order(&self) -> Option<(String, i64, String)> {
        self.inner.lock().expect("mock").orders.last().cloned()
    }

    /// Registers a payment the lookup will answer with.
    pub fn add_payment(&self, id: &str, order_id: &str, amount: i64, currency: &str, status: &str) {
        self.inner.lock().expect("mock").payments.insert(
            id.to_string(),
            json!({"id": id, "entity": "payment", "order_id": order_id, "amount": amount,
                   "currency": currency, "status": status, "method": "upi"}),
        );
    }
}

fn authorised(headers: &HeaderMap) -> bool {
    let expected = format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(format!("{KEY_ID}:{KEY_SECRET}"))
    );
    headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v == expected)
}

async fn pause(inner: &Arc<Mutex<Inner>>) -> Mode {
    let mode = inner.lock().expect("mock").mode;
    if let Mode::Hang(duration) = mode {
        tokio::time::sleep(duration).await;
    }
    mode
}

async fn create_order(
    State(inner): State<Arc<Mutex<Inner>>>,
    headers: HeaderMap,
    Json(body): Json<Value>,
) -> Response {
    inner.lock().expect("mock").create_calls += 1;
    if pause(&inner).await == Mode::Fail500 {
        return (StatusCode::INTERNAL_SERVER_ERROR, "boom").into_response();
    }
    if !authorised(&headers) {
        return (
            StatusCode::UNAUTHORIZED,
            Json(json!({"error": {"code": "BAD_REQUEST_ERROR", "description": "Authentication failed"}})),
        )
            .into_response();
    }
    let amount = body["amount"].as_i64().unwrap_or(-1);
    let receipt = body["receipt"].as_str().unwrap_or("").to_string();
    assert_eq!(body["currency"], "INR");
    assert_eq!(body["payment_capture"], 1);
    let mut inner = inner.lock().expect("mock");
    let id = format!("order_mock{:08}", inner.orders.len() + 1);
    inner.orders.push((id.clone(), amount, receipt.clone()));
    Json(
        json!({"id": id, "entity": "order", "amount": amount, "currency": "INR",
                "receipt": receipt, "status": "created"}),
    )
    .into_response()
}

async fn fetch_payment(
    State(inner): State<Arc<Mutex<Inner>>>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Response {
    if pause(&inner).await == Mode::Fail500 {
        return (StatusCode::INTERNAL_SERVER_ERROR, "boom").into_response();
    }
    if !authorised(&headers) {
        return StatusCode::UNAUTHORIZED.into_response();
    }
    match inner.lock().expect("mock").payments.get(&id) {
        Some(payment) => Json(payment.clone()).into_response(),
        None => (
            StatusCode::BAD_REQUEST,
            Json(json!({"error": {"code": "BAD_REQUEST_ERROR", "description": "The id provided does not exist"}})),
        )
            .into_response(),
    }
}

/// `GET /v1/payments` (the list; `doctor`'s credential check): an empty page, or 401.
async fn list_payments(State(inner): State<Arc<Mutex<Inner>>>, headers: HeaderMap) -> Response {
    pause(&inner).await;
    if !authorised(&headers) {
        return (
            StatusCode::UNAUTHORIZED,
            Json(json!({"error": {"code": "BAD_REQUEST_ERROR", "description": "Authentication failed"}})),
        )
            .into_response();
    }
    Json(json!({"entity": "collection", "count": 0, "items": []})).into_response()
}
