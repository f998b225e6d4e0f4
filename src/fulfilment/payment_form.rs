//! The `record-payment/` body (contract-B §8.1): JSON, or the multipart form the admin SPA sends
//! with an optional `payment_proof`. The proof goes through the upload pipeline — an image
//! (JPEG/PNG/GIF, fully decoded) or a PDF, sniffed by its bytes — and is stored privately under a
//! generated name (served only by the secure-file route).

use axum::{
    body::Bytes,
    extract::{FromRequest, Request},
    http::header,
};
use serde_json::{Map, Value};

use crate::{
    error::{AppError, AppResult, FieldErrors},
    extract::{SuccessBody, body::success_errors},
    payments::records::METHODS,
    resources::form::{self, Part},
    state::AppState,
    uploads::{
        Area, StoredName,
        documents::{DocumentType, check_document},
        images::{MAX_IMAGE_BYTES, verify_image},
        sniff::{Sniffed, sniff_image},
    },
    validation::{self, Text},
};

/// A proof may be an image (5 MB) or a PDF of up to 10 MB.
pub const MAX_PROOF_BYTES: usize = 10 * 1024 * 1024;
/// The smallest payment, ₹0.01.
const MIN_PAISE: i64 = 1;

/// A validated payment to record.
#[derive(Debug, Clone)]
pub struct PaymentInput {
    pub amount_paise: i64,
    pub method: &'static str,
    pub reference: String,
    pub notes: String,
    pub proof: Option<Bytes>,
}

/// Reads and validates the body; field errors answer `{"success": false, "errors": {...}}`.
pub async fn read(state: &AppState, request: Request) -> AppResult<PaymentInput> {
    let is_multipart = request
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| {
            v.trim_start()
                .to_ascii_lowercase()
                .starts_with("multipart/")
        });
    let (body, file) = if is_multipart {
        let parsed =
            form::read(request, state, MAX_PROOF_BYTES, &state.uploads.body_budget).await?;
        let mut map = Map::new();
        let mut file = None;
        for (name, part) in parsed.parts {
            match part {
                Part::Text(text) => {
                    map.insert(name, Value::String(text));
                }
                Part::File(bytes) if name == "payment_proof" => file = Some(bytes),
                Part::File(_) => {}
            }
        }
        (Value::Object(map), file)
    } else {
        let SuccessBody(body) = SuccessBody::<Value>::from_request(request, state).await?;
        (body, None)
    };
    let mut errors = FieldErrors::default();
    if let Err(e) = validation::object(&body) {
        return Err(success_errors(e));
    }
    let amount = validation::money(&body, "amount", true, Some(MIN_PAISE), &mut errors);
    let method = validation::choice(&body, "payment_method", &METHODS, true, &mut errors);
    let reference = validation::text(
        &body,
        "payment_reference",
        Text::optional().max(100),
        &mut errors,
    )
    .unwrap_or_default();
    let notes = validation::text(&body, "notes", Text::optional().max(5000), &mut errors)
        .unwrap_or_default();
    let proof = match file {
        None => None,
        Some(None) => {
            errors.add("payment_proof", "The payment proof cannot exceed 10MB.");
            None
        }
        Some(Some(bytes)) if bytes.is_empty() => None,
        Some(Some(bytes)) => Some(bytes),
    };
    match (amount, method) {
        (Some(amount_paise), Some(method)) if errors.is_empty() => Ok(PaymentInput {
            amount_paise,
            method: METHODS
                .iter()
                .copied()
                .find(|m| *m == method)
                .unwrap_or("other"),
            reference,
            notes,
            proof,
        }),
        _ => Err(success_errors(errors)),
    }
}

fn proof_error(message: impl Into<String>) -> AppError {
    success_errors(FieldErrors::one("payment_proof", message))
}

/// Checks the proof (an image or a PDF, by its bytes) and stores it; returns its stored name.
pub async fn store_proof(state: &AppState, bytes: &Bytes) -> AppResult<StoredName> {
    let extension = match sniff_image(bytes) {
        Sniffed::Image(_) => {
            let verdict = verify_image(&state.uploads.image_pool, bytes.clone(), MAX_IMAGE_BYTES)
                .await
                .map_err(|_| proof_error("The proof could not be checked, please try again"))?;
            verdict.map_err(|r| proof_error(r.message()))?.extension()
        }
        _ => check_document(bytes, &[DocumentType::Pdf], MAX_PROOF_BYTES as u64)
            .map_err(|_| proof_error("Upload an image (JPEG, PNG or GIF) or a PDF."))?
            .extension(),
    };
    let name = StoredName::generate(extension);
    state
        .uploads
        .storage
        .put(Area::Resources, &name, bytes.clone())
        .await
        .map_err(|e| crate::uploads::store_failed(e, "a payment proof"))?;
    Ok(name)
}
