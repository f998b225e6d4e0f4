//! Uploaded files (D19): a storage interface with a local-disk implementation ([`storage`]), magic-byte
//! sniffing ([`sniff`]), image validation and thumbnails ([`images`]), document validation (PDF,
//! DOCX, DOC by their structure, [`documents`]), and the public `/media/products/…` route ([`media`]).
//!
//! Files are stored under names the server generates (`<uuid v4 hex>.<ext of the sniffed type>`,
//! thumbnails `thumb_<hex>.jpg`); the client's file name and content type are never used.

pub mod documents;
pub mod images;
pub mod media;
pub mod s3;
pub mod sniff;
pub mod storage;

use std::sync::Arc;

pub use media::router as media_router;
pub use storage::{Area, LocalDisk, Storage, StoredName, StoredObject};

use crate::{
    blocking::BlockingPool,
    config::{Config, S3Config, StorageBackend},
    error::AppError,
};
pub use s3::{S3Settings, S3Storage};

/// A file that could not be stored (a full or read-only disk, object storage down or refusing):
/// the storage is unavailable, not the request wrong — 503 with the generic body (reliability E7),
/// the reason logged.
pub fn store_failed(error: std::io::Error, what: &str) -> AppError {
    tracing::warn!(%error, what, "storage refused a file");
    AppError::Unavailable(format!("storing {what}: {error}"))
}

/// The S3 client settings of a configuration.
pub fn s3_settings(s3: &S3Config) -> S3Settings {
    S3Settings {
        endpoint: s3.endpoint.clone(),
        bucket: s3.bucket.clone(),
        region: s3.region.clone(),
        access_key_id: s3.access_key_id.clone(),
        secret_access_key: s3.secret_access_key.expose().to_string(),
        path_style: s3.path_style,
    }
}

/// What the upload features share: where files go, and the worker that decodes images.
#[derive(Debug, Clone)]
pub struct Uploads {
    pub storage: Arc<dyn Storage>,
    /// Image decoding and thumbnailing run here, off the async runtime. One thread: a decode of an
    /// image at the pixel cap holds a few hundred MiB, so uploads are decoded one at a time (the others
    /// wait asynchronously), which bounds both CPU (one core stays free, DESIGN §10) and memory.
    pub image_pool: BlockingPool,
    /// The memory upload bodies may hold at once, in MiB permits ([`UPLOAD_MEMORY_MIB`]): a form
    /// with files takes its `Content-Length` worth before it reads a byte and keeps it until the
    /// request is done, so the bodies held together stay within it; the rest wait, unread.
    pub body_budget: Arc<tokio::sync::Semaphore>,
}

/// [`Uploads::body_budget`]'s size: two forms at the 25 MB body limit, or nine 5 MB images.
pub const UPLOAD_MEMORY_MIB: usize = 48;

impl Uploads {
    pub fn new(config: &Config) -> Self {
        match &config.storage {
            StorageBackend::Local => {
                Self::with_storage(Arc::new(LocalDisk::new(config.media_root.clone())))
            }
            StorageBackend::S3(s3) => Self::with_storage(Arc::new(S3Storage::new(s3_settings(s3)))),
        }
    }

    pub fn with_storage(storage: Arc<dyn Storage>) -> Self {
        Self {
            storage,
            image_pool: BlockingPool::new("images", 1, 16),
            body_budget: Arc::new(tokio::sync::Semaphore::new(UPLOAD_MEMORY_MIB)),
        }
    }
}
