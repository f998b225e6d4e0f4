//! Request ids without a random-number syscall per request: a random per-process prefix (64 bits,
//! drawn once) and a counter, e.g. `9f86d081884c7d65-000000000000002a`. Unique per request within
//! an instance, and across instances as long as their prefixes differ (a 2⁻⁶⁴ chance per pair).
//! A client's own `x-request-id` is kept, as before (only a missing one is filled in).

use std::sync::{
    OnceLock,
    atomic::{AtomicU64, Ordering},
};

use axum::http::HeaderValue;

static PREFIX: OnceLock<[u8; 16]> = OnceLock::new();
static COUNTER: AtomicU64 = AtomicU64::new(0);

const HEX: &[u8; 16] = b"0123456789abcdef";

fn prefix() -> &'static [u8; 16] {
    PREFIX.get_or_init(|| {
        let mut out = [0u8; 16];
        hex_into(&mut out, random_u64());
        out
    })
}

fn random_u64() -> u64 {
    let bytes = uuid::Uuid::new_v4().into_bytes();
    let mut value = [0u8; 8];
    value.copy_from_slice(&bytes[..8]);
    u64::from_be_bytes(value)
}

/// `value` as 16 lower-case hex digits.
fn hex_into(out: &mut [u8; 16], value: u64) {
    for (i, byte) in out.iter_mut().enumerate() {
        *byte = HEX[((value >> (60 - 4 * i)) & 0xf) as usize];
    }
}

/// The next id of this process, as bytes (`<prefix>-<counter>`, 33 ASCII characters); written by
/// hand: `format!` with padding cost about 2,000 instructions a request.
fn next_bytes() -> [u8; 33] {
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let mut id = [0u8; 33];
    id[..16].copy_from_slice(prefix());
    id[16] = b'-';
    let mut counter = [0u8; 16];
    hex_into(&mut counter, n);
    id[17..].copy_from_slice(&counter);
    id
}

/// The next id of this process.
pub fn next_id() -> String {
    String::from_utf8_lossy(&next_bytes()).into_owned()
}

/// [`next_id`] as a header value.
pub fn header_value() -> HeaderValue {
    HeaderValue::from_bytes(&next_bytes()).unwrap_or(HeaderValue::from_static("-"))
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
                crate::logfmt::safe_id(id),
                *id,
                "survives the page's sanitiser"
            );
            assert!(HeaderValue::from_str(id).is_ok());
        }
        let prefix = std::str::from_utf8(prefix()).expect("ascii");
        assert!(ids.iter().all(|id| id.starts_with(prefix)));
        let counters: Vec<u64> = ids
            .iter()
            .map(|id| u64::from_str_radix(&id[17..], 16).expect("hex counter"))
            .collect();
        assert!(counters.windows(2).all(|w| w[0] < w[1]), "a counter");
        assert_eq!(ids[0].as_bytes()[16], b'-');
    }
}
