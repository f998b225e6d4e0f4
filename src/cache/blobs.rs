//! Rendered files kept in this process (invoice PDFs, issue 11): bytes by key, bounded by their total
//! size (least recently used go first). Not a tier of the JSON cache: a key names one exact version of
//! its source (e.g. an order id and its `updated_at`), so entries never need invalidating, and a copy
//! per instance costs one render each.

use std::sync::Arc;

use axum::body::Bytes;

/// A rendered file and the name it is served under.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Blob {
    pub name: Arc<str>,
    pub bytes: Bytes,
}

#[derive(Clone)]
pub struct Blobs {
    /// `None`: caching is off (`max_bytes` 0), every lookup misses.
    entries: Option<moka::future::Cache<String, Blob>>,
}

impl std::fmt::Debug for Blobs {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Blobs")
            .field("entries", &self.entries.as_ref().map(|e| e.entry_count()))
            .finish()
    }
}

impl Blobs {
    /// At most `max_bytes` of values (0 turns the cache off).
    pub fn new(max_bytes: u64) -> Self {
        let entries = (max_bytes > 0).then(|| {
            moka::future::Cache::builder()
                .max_capacity(max_bytes)
                .weigher(|key: &String, value: &Blob| {
                    let size = key.len() + value.name.len() + value.bytes.len();
                    u32::try_from(size).unwrap_or(u32::MAX)
                })
                .build()
        });
        Self { entries }
    }

    pub fn is_enabled(&self) -> bool {
        self.entries.is_some()
    }

    pub async fn get(&self, key: &str) -> Option<Blob> {
        self.entries.as_ref()?.get(key).await
    }

    pub async fn insert(&self, key: String, value: Blob) {
        if let Some(entries) = &self.entries {
            entries.insert(key, value).await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn keeps_bytes_and_can_be_off() {
        let blob = Blob {
            name: "a.pdf".into(),
            bytes: Bytes::from_static(b"pdf"),
        };
        let blobs = Blobs::new(1024);
        blobs.insert("a".into(), blob.clone()).await;
        assert_eq!(blobs.get("a").await, Some(blob.clone()));
        assert!(blobs.get("b").await.is_none());
        let off = Blobs::new(0);
        off.insert("a".into(), blob).await;
        assert!(off.get("a").await.is_none());
        assert!(!off.is_enabled());
    }
}
