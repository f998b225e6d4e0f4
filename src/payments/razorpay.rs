//! The Razorpay gateway client (contract-B §5, D18, reliability §2.4): orders are created with HTTP
//! basic auth (key id, key secret) at `RAZORPAY_API_BASE`, amounts in paise, `receipt` = the order
//! number, auto-capture. Calls have a connect and a total timeout; only idempotent calls (payment
//! fetches) are retried. `RAZORPAY_MODE=fake` answers locally (orders `order_fake…`) for
//! development; `check` and `serve` refuse it in production.

use std::time::Duration;

use hmac::{Hmac, KeyInit, Mac};
use serde::Deserialize;
use serde_json::json;
use sha2::Sha256;
use subtle::ConstantTimeEq;

use crate::{
    config::{GatewayMode, RazorpayConfig},
    state::AppState,
};

/// The key secret the fake gateway signs with when `RAZORPAY_KEY_SECRET` is unset.
pub const FAKE_KEY_SECRET: &str = "electioncart-fake-secret";
/// The webhook secret of the fake gateway when `RAZORPAY_WEBHOOK_SECRET` is unset.
pub const FAKE_WEBHOOK_SECRET: &str = "electioncart-fake-webhook-secret";
/// The key id the fake gateway hands to the checkout when `RAZORPAY_KEY_ID` is unset.
pub const FAKE_KEY_ID: &str = "rzp_test_fake";

/// Why a gateway call gave no usable answer.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum GatewayError {
    /// No answer in time, or no connection: 503.
    #[error("payment gateway unavailable: {0}")]
    Unavailable(String),
    /// An error status or an answer that does not fit the request: 502.
    #[error("payment gateway error: {0}")]
    Failed(String),
}

/// A Razorpay order as created.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GatewayOrder {
    pub id: String,
    pub amount: i64,
}

/// A payment as the gateway knows it (`GET /v1/payments/{id}`).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct GatewayPayment {
    pub id: String,
    #[serde(default)]
    pub order_id: Option<String>,
    pub amount: i64,
    pub currency: String,
    pub status: String,
}

/// The outcome of looking a payment up.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Lookup {
    Found(GatewayPayment),
    /// The gateway does not know this payment id.
    Unknown,
    /// The gateway did not answer in time (or answered 5xx): the signature stands as the proof,
    /// for the webhook to confirm.
    Unreachable(String),
    /// The fake gateway keeps no payments.
    NotChecked,
}

/// The gateway, borrowed from the app state for one request.
#[derive(Debug, Clone, Copy)]
pub struct Razorpay<'a> {
    http: &'a reqwest::Client,
    config: &'a RazorpayConfig,
}

impl<'a> Razorpay<'a> {
    pub fn of(state: &'a AppState) -> Self {
        Self::new(&state.http, &state.config.razorpay)
    }

    pub fn new(http: &'a reqwest::Client, config: &'a RazorpayConfig) -> Self {
        Self { http, config }
    }

    pub fn is_fake(&self) -> bool {
        self.config.mode == GatewayMode::Fake
    }

    /// The public key id the checkout opens with.
    pub fn key_id(&self) -> &str {
        match (self.is_fake(), self.config.key_id.as_str()) {
            (true, "") => FAKE_KEY_ID,
            (_, id) => id,
        }
    }

    /// The secret checkout signatures are made with; `None` (verification refused, Q3) when
    /// unset outside the fake gateway.
    pub fn key_secret(&self) -> Option<&str> {
        match &self.config.key_secret {
            Some(secret) => Some(secret.expose()),
            None if self.is_fake() => Some(FAKE_KEY_SECRET),
            None => None,
        }
    }

    pub fn webhook_secret(&self) -> Option<&str> {
        match &self.config.webhook_secret {
            Some(secret) => Some(secret.expose()),
            None if self.is_fake() => Some(FAKE_WEBHOOK_SECRET),
            None => None,
        }
    }

    /// `POST /v1/orders`. Never retried (not idempotent): a failure is the caller's to report.
    pub async fn create_order(
        &self,
        amount_paise: i64,
        receipt: &str,
    ) -> Result<GatewayOrder, GatewayError> {
        if self.is_fake() {
            let id = uuid::Uuid::new_v4().simple().to_string();
            return Ok(GatewayOrder {
                id: format!("order_fake{}", &id[..14]),
                amount: amount_paise,
            });
        }
        let secret = self
            .key_secret()
            .ok_or_else(|| GatewayError::Failed("RAZORPAY_KEY_SECRET is not set".into()))?;
        let body = json!({
            "amount": amount_paise,
            "currency": "INR",
            "receipt": receipt,
            "payment_capture": 1,
        });
        let request = self
            .http
            .post(format!("{}/v1/orders", self.config.api_base))
            .basic_auth(&self.config.key_id, Some(secret))
            .timeout(self.config.timeout)
            .json(&body);
        #[derive(Deserialize)]
        struct Created {
            id: String,
            amount: i64,
            #[serde(default)]
            currency: Option<String>,
        }
        let created: Created = send_json(request).await?;
        if created.id.is_empty()
            || created.amount != amount_paise
            || created.currency.as_deref().is_some_and(|c| c != "INR")
        {
            return Err(GatewayError::Failed(
                "the created order does not match the request".into(),
            ));
        }
        Ok(GatewayOrder {
            id: created.id,
            amount: created.amount,
        })
    }

    /// `GET /v1/payments/{id}`, retried once on a timeout or 5xx, within the configured timeout.
    pub async fn fetch_payment(&self, payment_id: &str) -> Lookup {
        if self.is_fake() {
            return Lookup::NotChecked;
        }
        let Some(secret) = self.key_secret() else {
            return Lookup::Unreachable("RAZORPAY_KEY_SECRET is not set".into());
        };
        if payment_id.is_empty()
            || !payment_id
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'_')
        {
            return Lookup::Unknown;
        }
        let url = format!("{}/v1/payments/{payment_id}", self.config.api_base);
        let attempt = || async {
            let response = self
                .authed_get(&url, secret)
                .send()
                .await
                .map_err(|e| GatewayError::Unavailable(describe(&e)))?;
            let status = response.status();
            if status == reqwest::StatusCode::NOT_FOUND
                || status == reqwest::StatusCode::BAD_REQUEST
            {
                return Ok(None);
            }
            if status.is_server_error() {
                return Err(GatewayError::Unavailable(format!("HTTP {status}")));
            }
            if !status.is_success() {
                return Err(GatewayError::Failed(format!("HTTP {status}")));
            }
            response
                .json::<GatewayPayment>()
                .await
                .map(Some)
                .map_err(|_| GatewayError::Failed("an unreadable payment".into()))
        };
        let budget = self.config.timeout;
        let result = tokio::time::timeout(budget, async {
            match attempt().await {
                Err(GatewayError::Unavailable(_)) => {
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    attempt().await
                }
                other => other,
            }
        })
        .await
        .unwrap_or_else(|_| Err(GatewayError::Unavailable("timed out".into())));
        match result {
            Ok(Some(payment)) => Lookup::Found(payment),
            Ok(None) => Lookup::Unknown,
            Err(GatewayError::Unavailable(reason)) | Err(GatewayError::Failed(reason)) => {
                Lookup::Unreachable(reason)
            }
        }
    }
}

/// What one authenticated read of the gateway says about the configured keys.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Credentials {
    /// The gateway answered the read: the key id and secret work.
    Accepted,
    /// The fake gateway: nothing to check.
    Fake,
    /// No `RAZORPAY_KEY_SECRET`.
    Missing,
    /// The gateway refused the keys (HTTP 401).
    Refused,
    /// No usable answer (timeout, no connection, another status).
    Unreachable(String),
}

impl Razorpay<'_> {
    /// A `GET` with the key id and secret, bounded by the configured timeout.
    fn authed_get(&self, url: &str, secret: &str) -> reqwest::RequestBuilder {
        self.http
            .get(url)
            .basic_auth(&self.config.key_id, Some(secret))
            .timeout(self.config.timeout)
    }

    /// `GET /v1/payments?count=1` with the keys (the cheapest authenticated read), for `doctor`.
    pub async fn check_credentials(&self) -> Credentials {
        if self.is_fake() {
            return Credentials::Fake;
        }
        let Some(secret) = self.key_secret() else {
            return Credentials::Missing;
        };
        let url = format!("{}/v1/payments?count=1", self.config.api_base);
        let response = self.authed_get(&url, secret).send().await;
        match response {
            Err(e) => Credentials::Unreachable(describe(&e)),
            Ok(r) if r.status().is_success() => Credentials::Accepted,
            Ok(r) if r.status() == reqwest::StatusCode::UNAUTHORIZED => Credentials::Refused,
            Ok(r) => Credentials::Unreachable(format!("HTTP {}", r.status())),
        }
    }
}

async fn send_json<T: serde::de::DeserializeOwned>(
    request: reqwest::RequestBuilder,
) -> Result<T, GatewayError> {
    let response = request
        .send()
        .await
        .map_err(|e| GatewayError::Unavailable(describe(&e)))?;
    let status = response.status();
    if !status.is_success() {
        return Err(GatewayError::Failed(format!("HTTP {status}")));
    }
    response
        .json::<T>()
        .await
        .map_err(|e| match e.is_timeout() {
            true => GatewayError::Unavailable("timed out reading the answer".into()),
            false => GatewayError::Failed("an unreadable answer".into()),
        })
}

/// A transport error in a few words (never the URL with credentials).
fn describe(error: &reqwest::Error) -> String {
    if error.is_timeout() {
        "timed out".into()
    } else if error.is_connect() {
        "could not connect".into()
    } else {
        "transport error".into()
    }
}

/// Lowercase hex HMAC-SHA256 of `message` under `key`.
pub fn hmac_hex(key: &[u8], message: &[u8]) -> String {
    let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(key) else {
        return String::new();
    };
    mac.update(message);
    let digest = mac.finalize().into_bytes();
    let mut out = String::with_capacity(digest.len() * 2);
    for byte in digest {
        out.push(char::from(b"0123456789abcdef"[usize::from(byte >> 4)]));
        out.push(char::from(b"0123456789abcdef"[usize::from(byte & 0xf)]));
    }
    out
}

/// Whether `signature` is the lowercase-hex HMAC of `message` under `key`, compared in constant
/// time (case-sensitive, as Razorpay's SDKs compare).
pub fn signature_matches(key: &str, message: &[u8], signature: &str) -> bool {
    if key.is_empty() {
        return false;
    }
    let expected = hmac_hex(key.as_bytes(), message);
    expected.len() == signature.len() && bool::from(expected.as_bytes().ct_eq(signature.as_bytes()))
}

/// The checkout's signature: HMAC(key secret, `"<order id>|<payment id>"`).
pub fn checkout_signature(key_secret: &str, order_id: &str, payment_id: &str) -> String {
    hmac_hex(
        key_secret.as_bytes(),
        format!("{order_id}|{payment_id}").as_bytes(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn checkout_signatures_are_hmac_sha256_hex() {
        // RFC 4231 test case 2.
        assert_eq!(
            hmac_hex(b"Jefe", b"what do ya want for nothing?"),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
        let sig = checkout_signature("secret", "order_1", "pay_1");
        assert!(signature_matches("secret", b"order_1|pay_1", &sig));
        assert!(!signature_matches(
            "secret",
            b"order_1|pay_1",
            &sig.to_uppercase()
        ));
        assert!(!signature_matches("secret", b"order_2|pay_1", &sig));
        assert!(!signature_matches("other", b"order_1|pay_1", &sig));
        assert!(!signature_matches(
            "",
            b"order_1|pay_1",
            &hmac_hex(b"", b"order_1|pay_1")
        ));
        assert!(!signature_matches("secret", b"order_1|pay_1", &sig[..63]));
    }
}
