//! Write scenarios that need several requests per iteration: each connection has its own user
//! (so carts never contend), and one iteration is counted as one "request" of the table — its
//! latency is the whole sequence's, its CPU per request the whole sequence's.
//!
//! - `cart-add-get`: add one unit of a package, then read the cart;
//! - `order-create`: add one unit, then `POST /api/orders/create/` (the fake gateway: no network);
//! - `payment-verify`: add, create, then `payment-success` with a signature made under the fake
//!   gateway's secret (the order becomes paid: a payment-history row with its invoice number);
//! - `upload-1mb` / `upload-5mb`: one `submit-resources` of a noise PNG (decoded in full by the
//!   server) on the connection's paid order, 16 connections; the row's RSS peak is the memory bound.

use anyhow::{Context, Result};
use http_body_util::{BodyExt, Full};
use hyper::{
    Method, Request, StatusCode,
    body::Bytes,
    client::conn::http1::SendRequest,
    header::{AUTHORIZATION, CONTENT_TYPE, HOST, HeaderValue},
};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flow {
    CartAddGet,
    OrderCreate,
    PaymentVerify,
    /// One `submit-resources` with an image of about this many bytes, on the connection's paid order.
    Upload(usize),
}

/// Multipart framing for the upload flows.
pub const BOUNDARY: &str = "electioncart-bench-boundary";

/// What one connection's iterations need.
pub struct FlowInput<'a> {
    pub host: &'a HeaderValue,
    pub bearer: &'a HeaderValue,
    pub add_body: &'a Bytes,
    /// The upload flows' `(path, multipart body)` for this connection.
    pub upload: Option<&'a (String, Bytes)>,
}

/// `Ok(Err(why))`: an answer other than the expected one; `Err`: the connection failed.
pub type FlowResult = Result<std::result::Result<(), String>, hyper::Error>;

async fn step(
    sender: &mut SendRequest<Full<Bytes>>,
    input: &FlowInput<'_>,
    method: Method,
    path: &str,
    body: Bytes,
) -> Result<(StatusCode, Bytes), hyper::Error> {
    let mut builder = Request::builder()
        .method(method)
        .uri(path)
        .header(HOST, input.host)
        .header(AUTHORIZATION, input.bearer);
    if !body.is_empty() {
        builder = builder.header(CONTENT_TYPE, "application/json");
    }
    let request = builder
        .body(Full::new(body))
        .expect("a request from valid parts");
    sender.ready().await?;
    let response = sender.send_request(request).await?;
    let status = response.status();
    let bytes = response.into_body().collect().await?.to_bytes();
    Ok((status, bytes))
}

fn unexpected(path: &str, status: StatusCode, body: &Bytes) -> std::result::Result<(), String> {
    let text = String::from_utf8_lossy(&body[..body.len().min(200)]).into_owned();
    Err(format!("{path}: {status} {text}"))
}

/// One iteration of `flow` on the connection.
pub async fn run(
    flow: Flow,
    sender: &mut SendRequest<Full<Bytes>>,
    input: &FlowInput<'_>,
) -> FlowResult {
    if let Flow::Upload(_) = flow {
        let Some((path, body)) = input.upload else {
            return Ok(Err("an upload flow without its order".into()));
        };
        let request = Request::builder()
            .method(Method::POST)
            .uri(path.as_str())
            .header(HOST, input.host)
            .header(AUTHORIZATION, input.bearer)
            .header(
                CONTENT_TYPE,
                format!("multipart/form-data; boundary={BOUNDARY}"),
            )
            .body(Full::new(body.clone()))
            .expect("a request from valid parts");
        sender.ready().await?;
        let response = sender.send_request(request).await?;
        let status = response.status();
        let bytes = response.into_body().collect().await?.to_bytes();
        return Ok(if status == StatusCode::CREATED {
            Ok(())
        } else {
            unexpected("submit-resources", status, &bytes)
        });
    }
    let (status, body) = step(
        sender,
        input,
        Method::POST,
        "/api/cart/add/",
        input.add_body.clone(),
    )
    .await?;
    if status != StatusCode::OK {
        return Ok(unexpected("cart add", status, &body));
    }
    if flow == Flow::CartAddGet {
        let (status, body) = step(sender, input, Method::GET, "/api/cart/", Bytes::new()).await?;
        return Ok(if status == StatusCode::OK {
            Ok(())
        } else {
            unexpected("cart get", status, &body)
        });
    }
    let (status, body) = step(
        sender,
        input,
        Method::POST,
        "/api/orders/create/",
        Bytes::new(),
    )
    .await?;
    if status != StatusCode::CREATED {
        return Ok(unexpected("order create", status, &body));
    }
    if flow == Flow::OrderCreate {
        return Ok(Ok(()));
    }
    let created: serde_json::Value = match serde_json::from_slice(&body) {
        Ok(v) => v,
        Err(e) => return Ok(Err(format!("order create: not JSON: {e}"))),
    };
    let (Some(id), Some(order)) = (
        created["order"]["id"].as_i64(),
        created["razorpay_order_id"].as_str(),
    ) else {
        return Ok(Err("order create: no order id".into()));
    };
    let payment = format!("pay_bench{}", uuid::Uuid::new_v4().simple());
    let signature = electioncart::payments::razorpay::checkout_signature(
        electioncart::payments::razorpay::FAKE_KEY_SECRET,
        order,
        &payment,
    );
    let verify = serde_json::json!({
        "razorpay_order_id": order, "razorpay_payment_id": payment, "razorpay_signature": signature,
    });
    let path = format!("/api/orders/{id}/payment-success/");
    let (status, body) = step(
        sender,
        input,
        Method::POST,
        &path,
        Bytes::from(verify.to_string()),
    )
    .await?;
    Ok(if status == StatusCode::OK {
        Ok(())
    } else {
        unexpected("payment verify", status, &body)
    })
}

/// Bearer values for `count` fresh users (signed up here; rate limits are off in the bench).
pub async fn users(
    signup: impl Fn(
        String,
    ) -> std::pin::Pin<
        Box<dyn std::future::Future<Output = Result<(StatusCode, Bytes)>> + Send>,
    >,
    count: usize,
) -> Result<Vec<String>> {
    let mut tokens = Vec::with_capacity(count);
    for i in 0..count {
        let body = format!(
            r#"{{"username":"bench-flow-{i}-{}","password":"bench-pass-2026!","phone_number":""}}"#,
            &uuid::Uuid::new_v4().simple().to_string()[..8]
        );
        let (status, answer) = signup(body).await?;
        anyhow::ensure!(
            status.is_success(),
            "signup answered {status}: {}",
            String::from_utf8_lossy(&answer)
        );
        let token = serde_json::from_slice::<serde_json::Value>(&answer)?["token"]
            .as_str()
            .context("no token in the signup answer")?
            .to_string();
        tokens.push(format!("Bearer {token}"));
    }
    Ok(tokens)
}

/// A PNG of noise (incompressible) of about `bytes` bytes.
pub fn noise_png(bytes: usize) -> Vec<u8> {
    let side = ((bytes / 4) as f64).sqrt() as u32;
    let mut state: u32 = 0x9E37_79B9;
    let image = image::RgbaImage::from_fn(side, side, |_, _| {
        state ^= state << 13;
        state ^= state >> 17;
        state ^= state << 5;
        image::Rgba(state.to_le_bytes())
    });
    let mut out = std::io::Cursor::new(Vec::new());
    image::DynamicImage::ImageRgba8(image)
        .write_to(&mut out, image::ImageFormat::Png)
        .expect("encode a PNG");
    out.into_inner()
}

/// The multipart body of one submission: the item and the image field.
pub fn upload_body(item_id: i64, field_id: i64, png: &[u8]) -> Bytes {
    let mut body = Vec::with_capacity(png.len() + 512);
    body.extend_from_slice(
        format!(
            "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"order_item_id\"\r\n\r\n{item_id}\r\n\
             --{BOUNDARY}\r\nContent-Disposition: form-data; name=\"field_{field_id}\"; filename=\"photo.png\"\r\n\
             Content-Type: image/png\r\n\r\n"
        )
        .as_bytes(),
    );
    body.extend_from_slice(png);
    body.extend_from_slice(format!("\r\n--{BOUNDARY}--\r\n").as_bytes());
    Bytes::from(body)
}
