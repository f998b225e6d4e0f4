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
///
/// Written digit by digit: every timestamp of every response goes through here, and `time`'s
/// formatter (walking the description, writing through `io::Write`) cost about ten times as much
/// (issue 8). Years outside 0000–9999 take `time`'s formatter, as before.
pub fn iso_at(t: OffsetDateTime, offset: UtcOffset) -> String {
    let Some(local) = t.checked_to_offset(offset) else {
        return t.unix_timestamp().to_string();
    };
    let Ok(year) = u16::try_from(local.year()) else {
        return described(local, t);
    };
    if year > 9999 {
        return described(local, t);
    }
    let mut out = [0u8; 33];
    let mut at = 0;
    let mut put = |value: u32, width: usize, then: u8| {
        let mut v = value;
        for slot in out[at..at + width].iter_mut().rev() {
            *slot = b'0' + (v % 10) as u8;
            v /= 10;
        }
        at += width;
        out[at] = then;
        at += 1;
    };
    put(u32::from(year), 4, b'-');
    put(u32::from(u8::from(local.month())), 2, b'-');
    put(u32::from(local.day()), 2, b'T');
    put(u32::from(local.hour()), 2, b':');
    put(u32::from(local.minute()), 2, b':');
    put(u32::from(local.second()), 2, b'.');
    let sign = if offset.is_negative() { b'-' } else { b'+' };
    put(local.microsecond(), 6, sign);
    put(u32::from(offset.whole_hours().unsigned_abs()), 2, b':');
    put(u32::from(offset.minutes_past_hour().unsigned_abs()), 2, 0);
    // 32 bytes, every one an ASCII digit or separator (the 33rd is the unused terminator).
    String::from_utf8_lossy(&out[..at - 1]).into_owned()
}

fn described(local: OffsetDateTime, t: OffsetDateTime) -> String {
    local
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

    #[test]
    fn the_hand_written_digits_match_times_formatter() {
        let offsets = [(0, 0), (5, 30), (-3, -30), (0, -30), (14, 0), (-12, 0)]
            .map(|(h, m)| UtcOffset::from_hms(h, m, 0).expect("offset"));
        // Instants across years 0000-9999 (a fixed pseudo-random walk), plus the edges.
        let (min, max) = (
            datetime!(0000-01-01 00:00:00 UTC).unix_timestamp_nanos(),
            datetime!(9999-12-31 23:59:59.999999999 UTC).unix_timestamp_nanos(),
        );
        let mut seed: u64 = 0x9e37_79b9_7f4a_7c15;
        let mut instants = vec![
            datetime!(2026-11-25 12:33:57.441585 UTC),
            datetime!(1970-01-01 00:00:00 UTC),
            datetime!(2026-12-31 23:59:59.999999999 UTC),
        ];
        for _ in 0..2_000 {
            seed = seed.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
            let nanos = min + i128::from(seed >> 1) % (max - min);
            instants.push(OffsetDateTime::from_unix_timestamp_nanos(nanos).expect("in range"));
        }
        for t in instants {
            for offset in offsets {
                let Some(local) = t.checked_to_offset(offset) else {
                    continue;
                };
                let expected = local.format(ISO_MICROS).expect("formats");
                assert_eq!(iso_at(t, offset), expected, "{t} at {offset}");
            }
        }
        // Outside four-digit years: `time`'s own output, or the unix time where `time` has no date.
        let first = datetime!(0000-01-01 00:00:00 UTC);
        let west = UtcOffset::from_hms(-3, -30, 0).expect("offset");
        assert_eq!(iso_at(first, west), "-0001-12-31T20:30:00.000000-03:30");
        let last = datetime!(9999-12-31 23:00:00 UTC);
        let east = UtcOffset::from_hms(5, 30, 0).expect("offset");
        assert_eq!(iso_at(last, east), last.unix_timestamp().to_string());
    }
}
