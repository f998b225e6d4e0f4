//! In-process tiers on moka: the L1 in front of Redis and the last-resort memory tier. Both are bounded
//! (entry count) and expire every entry after its own TTL.

use std::{
    sync::Arc,
    time::{Duration, Instant},
};

/// A JSON value and how long it may live here.
#[derive(Clone, Debug)]
pub(super) struct Entry {
    pub json: Arc<str>,
    ttl: Duration,
}

struct PerEntryTtl;

impl moka::Expiry<String, Entry> for PerEntryTtl {
    fn expire_after_create(&self, _key: &String, value: &Entry, _at: Instant) -> Option<Duration> {
        Some(value.ttl)
    }

    fn expire_after_update(
        &self,
        _key: &String,
        value: &Entry,
        _at: Instant,
        _remaining: Option<Duration>,
    ) -> Option<Duration> {
        Some(value.ttl)
    }
}

#[derive(Clone)]
pub(super) struct MemoryTier {
    entries: moka::future::Cache<String, Entry>,
}

impl std::fmt::Debug for MemoryTier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MemoryTier")
            .field("entries", &self.entries.entry_count())
            .finish()
    }
}

impl MemoryTier {
    pub fn new(max_entries: u64) -> Self {
        Self {
            entries: moka::future::Cache::builder()
                .max_capacity(max_entries.max(1))
                .expire_after(PerEntryTtl)
                .build(),
        }
    }

    pub async fn get(&self, key: &str) -> Option<Arc<str>> {
        self.entries.get(key).await.map(|e| e.json)
    }

    pub async fn insert(&self, key: &str, json: Arc<str>, ttl: Duration) {
        if ttl.is_zero() {
            return;
        }
        self.entries
            .insert(key.to_string(), Entry { json, ttl })
            .await;
    }

    pub async fn remove(&self, key: &str) {
        self.entries.invalidate(key).await;
    }

    /// Removes every entry whose key starts with `prefix` (the others stay).
    pub async fn remove_prefix(&self, prefix: &str) {
        let doomed: Vec<Arc<String>> = self
            .entries
            .iter()
            .filter(|(k, _)| k.starts_with(prefix))
            .map(|(k, _)| k)
            .collect();
        for key in doomed {
            self.entries.invalidate(key.as_str()).await;
        }
    }

    /// Forgets everything held here (this process's copy only; never a shared tier).
    pub fn clear(&self) {
        self.entries.invalidate_all();
    }

    pub fn len(&self) -> u64 {
        self.entries.entry_count()
    }

    /// Applies pending evictions so that [`Self::len`] is exact.
    pub async fn settle(&self) {
        self.entries.run_pending_tasks().await;
    }
}
