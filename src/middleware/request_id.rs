//! Request ids without a random-number syscall per request: a random per-process prefix (64 bits,
//! drawn once) and a counter, e.g. `9f86d081884c7d65-000000000000002a`. Unique per request within
//! an instance, and across instances as long as their prefixes differ (a 2⁻⁶⁴ chance per pair).
//! A client's own `x-request-id` is kept, as before (only a missing one is filled in).

use std::sync::{
    OnceLock,
    atomic::{AtomicU64, Ordering},
};

use axum::http::HeaderValue;

static PREFIX: OnceLock<String> = OnceLock::new();
static COUNTER: AtomicU64 = AtomicU64::new(0);

fn prefix() -> &'static str {
    PREFIX.get_or_init(|| {
        let bytes = uuid::Uuid::new_v4().into_bytes();
        let mut value = [0u8; 8];
        value.copy_from_slice(&bytes[..8]);
        format!("{:016x}", u64::from_be_bytes(value))
    })
}

/// The next id of this process.
pub fn next_id() -> String {
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    format!("{}-{n:016x}", prefix())
}

/// [`next_id`] as a header value.
pub fn header_value() -> HeaderValue {
    HeaderValue::from_str(&next_id()).unwrap_or(HeaderValue::from_static("-"))
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use super::*;

    #[test]
    fn ids_are_unique_and_header_safe() {
        let ids: Vec<String> = (0..10_000).map(|_| next_id()).collect();
        let distinct: HashSet<&String> = ids.iter().collect();
        assert_eq!(distinct.len(), ids.len());
        for id in &ids[..10] {
            assert_eq!(id.len(), 33, "{id}");
            assert_eq!(
                crate::pages::safe_id(id),
                *id,
                "survives the page's sanitiser"
            );
            assert!(HeaderValue::from_str(id).is_ok());
        }
        assert!(ids.iter().all(|id| id.starts_with(prefix())));
    }
}
