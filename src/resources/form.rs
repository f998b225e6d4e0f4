//! The upload forms' bodies (multipart or urlencoded, as the customer site sends them; contract-B
//! §4.5, §4.9). A file part is read in chunks and dropped past the cap, so no body is held whole in
//! memory beyond it; the client's file name and content type are not kept.

use std::collections::HashMap;

use axum::{
    body::Bytes,
    extract::{FromRequest, Multipart, Request, multipart::MultipartError},
    http::{StatusCode, header},
};

use crate::{
    error::{AppError, AppResult},
    extract::path::parse_id,
    orders::service::order_not_found,
    path_param,
};

/// The largest file any field may take (a document field's own cap is at most 20 MB).
pub const MAX_FILE_BYTES: usize = 20 * 1024 * 1024;
/// The upload routes' body limit: a few files at the cap plus the text fields.
pub const UPLOAD_BODY_LIMIT: usize = 25 * 1024 * 1024;

/// The capacity a file part's buffer is reserved with: just above 32 MiB, glibc's largest mmap
/// threshold, so it is always its own `mmap` — untouched pages are never resident, and the whole
/// buffer goes back to the OS when the upload is done. Smaller buffers come from malloc's arenas
/// once glibc has raised its threshold (after the first large free, e.g. Argon2's 19 MiB), and
/// growing them chunk by chunk copied and fragmented: 141 MB idle and 329 MB peak RSS under 16
/// concurrent 5 MB uploads, against a 150 MB bar (issue 10). It is address space, not memory.
pub const ALWAYS_MAPPED: usize = 32 * 1024 * 1024 + 4096;

path_param!(
    /// `{order_id}`: an integer, or `{"error": "Order not found"}`.
    pub struct OrderId(i64) = "order_id", parse_id, order_not_found;
);

/// One part of the form. The first value of a repeated key wins.
#[derive(Debug, Clone)]
pub enum Part {
    Text(String),
    /// A file's bytes (`None`: it passed the cap and was dropped).
    File(Option<Bytes>),
}

#[derive(Debug, Default)]
pub struct Form {
    pub parts: HashMap<String, Part>,
    /// This body's share of the upload memory budget, held as long as the form.
    _budget: Option<tokio::sync::OwnedSemaphorePermit>,
}

impl Form {
    /// A text part, trimmed; `None` when absent or a file.
    pub fn text(&self, name: &str) -> Option<&str> {
        match self.parts.get(name) {
            Some(Part::Text(value)) => Some(value.trim()),
            _ => None,
        }
    }
}

fn multipart_error(error: MultipartError) -> AppError {
    if error.status() == StatusCode::PAYLOAD_TOO_LARGE {
        AppError::Error(
            StatusCode::PAYLOAD_TOO_LARGE,
            "Request body is too large.".into(),
        )
    } else {
        AppError::Error(
            StatusCode::BAD_REQUEST,
            format!("Multipart form parse error - {}", error.body_text()),
        )
    }
}

/// Reads a multipart or urlencoded body; files over `file_cap` bytes are kept as `File(None)`.
/// Anything else (JSON included) is a 415 `{"error": …}` (the original's 500, Q39).
/// A multipart body first takes its `Content-Length` (else the route's limit) from `budget` in
/// MiB, waiting while other uploads hold it (see `uploads::Uploads::body_budget`).
pub async fn read<S: Send + Sync>(
    request: Request,
    state: &S,
    file_cap: usize,
    budget: &std::sync::Arc<tokio::sync::Semaphore>,
) -> AppResult<Form> {
    let content_type = request
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    let mut form = Form::default();
    match content_type.as_str() {
        "multipart/form-data" => {
            let length = request
                .headers()
                .get(header::CONTENT_LENGTH)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.trim().parse::<usize>().ok())
                .unwrap_or(UPLOAD_BODY_LIMIT)
                .min(UPLOAD_BODY_LIMIT);
            let mib = u32::try_from(length.div_ceil(1024 * 1024).max(1)).unwrap_or(u32::MAX);
            let permits = mib.min(u32::try_from(crate::uploads::UPLOAD_MEMORY_MIB).unwrap_or(1));
            form._budget = std::sync::Arc::clone(budget)
                .acquire_many_owned(permits)
                .await
                .ok();
            let mut multipart = Multipart::from_request(request, state)
                .await
                .map_err(|e| AppError::Error(StatusCode::BAD_REQUEST, e.body_text()))?;
            while let Some(mut field) = multipart.next_field().await.map_err(multipart_error)? {
                let name = field.name().unwrap_or_default().to_string();
                let is_file = field.file_name().is_some();
                if form.parts.contains_key(&name) {
                    continue;
                }
                let part = if is_file {
                    // Reserved once, never grown (see [`ALWAYS_MAPPED`]): only the pages the
                    // chunks are written to become resident, and they leave with the upload.
                    let mut data: Vec<u8> = Vec::with_capacity(ALWAYS_MAPPED.max(file_cap + 1));
                    let mut over = false;
                    while let Some(chunk) = field.chunk().await.map_err(multipart_error)? {
                        if data.len() + chunk.len() > file_cap {
                            over = true;
                            break;
                        }
                        data.extend_from_slice(&chunk);
                    }
                    Part::File((!over).then(|| Bytes::from(data)))
                } else {
                    Part::Text(field.text().await.map_err(multipart_error)?)
                };
                form.parts.insert(name, part);
            }
        }
        "application/x-www-form-urlencoded" | "" => {
            let bytes = Bytes::from_request(request, state).await.map_err(|_| {
                AppError::Error(
                    StatusCode::BAD_REQUEST,
                    "Could not read the request body.".into(),
                )
            })?;
            let pairs: Vec<(String, String)> =
                serde_urlencoded::from_bytes(&bytes).map_err(|_| {
                    AppError::Error(StatusCode::BAD_REQUEST, "Invalid form body.".into())
                })?;
            for (name, value) in pairs {
                form.parts.entry(name).or_insert(Part::Text(value));
            }
        }
        other => {
            return Err(AppError::Error(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                format!("Unsupported media type \"{other}\" in request."),
            ));
        }
    }
    Ok(form)
}
