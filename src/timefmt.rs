//! The contract's timestamp encodings (D11): ISO-8601 with microseconds and a `+HH:MM` offset.

use time::{
    OffsetDateTime, UtcOffset, format_description::BorrowedFormatItem, macros::format_description,
};

const ISO_MICROS: &[BorrowedFormatItem<'static>] = format_description!(
    "[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:6][offset_hour sign:mandatory]:[offset_minute]"
);

/// `2026-11-25T12:33:57.441585+00:00` (the health check's encoding).
pub fn iso_utc(t: OffsetDateTime) -> String {
    iso_at(t, UtcOffset::UTC)
}

/// A hand-built datetime (contract-B §1.4): UTC with `Z` and microseconds.
pub fn iso_utc_z(t: OffsetDateTime) -> String {
    let text = iso_utc(t);
    text.strip_suffix("+00:00")
        .map_or(text.clone(), |s| format!("{s}Z"))
}

/// The same instant in the configured zone: `2026-11-25T18:03:49.897169+05:30`.
pub fn iso_at(t: OffsetDateTime, offset: UtcOffset) -> String {
    t.to_offset(offset)
        .format(ISO_MICROS)
        .unwrap_or_else(|_| t.unix_timestamp().to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn formats_like_django() {
        let t = datetime!(2026-11-25 12:33:57.441585 UTC);
        assert_eq!(iso_utc(t), "2026-11-25T12:33:57.441585+00:00");
        let ist = UtcOffset::from_hms(5, 30, 0).expect("offset");
        assert_eq!(iso_at(t, ist), "2026-11-25T18:03:57.441585+05:30");
        let whole = datetime!(2026-01-02 03:04:05 UTC);
        assert_eq!(iso_utc(whole), "2026-01-02T03:04:05.000000+00:00");
    }
}
