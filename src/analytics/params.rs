//! The analytics routes' parameters (contract-B §8.5): dates as Python's `datetime.fromisoformat`
//! reads them after `Z` → `+00:00` (a date, or a date and time with an optional offset; naive values
//! are in the shop's zone), both bounds inclusive, a date-only `end_date` meaning midnight at the
//! **start** of that day (the original's rule, kept for parity: contract-B §8.5, Q28), and the
//! integer parameters `months` and `limit` (a non-integer is a 400 here, not the original's 500,
//! Q17).

use time::{
    Date, Month, OffsetDateTime, PrimitiveDateTime, Time, UtcOffset,
    format_description::BorrowedFormatItem, macros::format_description,
};

/// An open window's ends: the first and the last day both databases represent.
pub const EARLIEST: OffsetDateTime = time::macros::datetime!(0001-01-01 00:00 UTC);
pub const LATEST: OffsetDateTime = time::macros::datetime!(9999-12-31 23:59:59 UTC);

/// One parsed bound: the instant it names (in UTC), and the text the overview echoes (Python's
/// `isoformat()` of the parsed value: naive input stays naive in the echo).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bound {
    /// In UTC (SQLite compares the stored UTC text).
    pub at: OffsetDateTime,
    pub echo: String,
    /// The date as written (`strftime('%Y-%m-%d')` of the parsed value, in its own zone).
    pub date: Date,
}

impl Bound {
    /// An aware value (the defaults): echoed with its offset.
    pub fn aware(at: OffsetDateTime) -> Self {
        Bound {
            at: at.checked_to_offset(UtcOffset::UTC).unwrap_or(at),
            echo: isoformat(at.date(), at.time(), Some(at.offset())),
            date: at.date(),
        }
    }
}

/// A reporting window: either end may be open.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Window {
    pub start: Option<Bound>,
    pub end: Option<Bound>,
}

impl Window {
    /// The instants to bind, in UTC.
    pub fn lo(&self) -> Option<OffsetDateTime> {
        self.start.as_ref().map(|b| b.at)
    }

    pub fn hi(&self) -> Option<OffsetDateTime> {
        self.end.as_ref().map(|b| b.at)
    }

    /// The part of a cache key that names this window (the echoes determine the answer).
    pub fn key(&self) -> String {
        let part = |b: &Option<Bound>| b.as_ref().map_or("-".to_string(), |b| b.echo.clone());
        format!("{}|{}", part(&self.start), part(&self.end))
    }

    /// The overview's default when neither date is given: the first of the current month at 00:00
    /// UTC, to now (UTC), as the original.
    pub fn this_month(now: OffsetDateTime) -> Self {
        let now = now.to_offset(UtcOffset::UTC);
        let first = PrimitiveDateTime::new(
            Date::from_calendar_date(now.year(), now.month(), 1).unwrap_or(now.date()),
            Time::MIDNIGHT,
        )
        .assume_utc();
        Window {
            start: Some(Bound::aware(first)),
            end: Some(Bound::aware(now)),
        }
    }
}

/// A query value as the original reads it: absent and empty are the same.
pub fn given(value: &Option<String>) -> Option<&str> {
    value.as_deref().map(str::trim).filter(|s| !s.is_empty())
}

/// `start_date` / `end_date` → a window; `Err(which)` names the parameter that failed (`start_date`
/// is checked first).
pub fn window(
    start: &Option<String>,
    end: &Option<String>,
    zone: UtcOffset,
) -> Result<Window, &'static str> {
    let start = match given(start) {
        None => None,
        Some(text) => Some(parse(text, zone).ok_or("start_date")?),
    };
    let end = match given(end) {
        None => None,
        Some(text) => Some(parse(text, zone).ok_or("end_date")?),
    };
    Ok(Window { start, end })
}

/// A non-negative integer parameter (Python's `int()` of the text: surrounding blanks, a sign and
/// `_` between digits are allowed); `None` when it is not one.
pub fn integer(text: &str) -> Option<i64> {
    let text = text.trim();
    let (negative, digits) = match text.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, text.strip_prefix('+').unwrap_or(text)),
    };
    if digits.is_empty()
        || digits.starts_with('_')
        || digits.ends_with('_')
        || digits.contains("__")
        || !digits.chars().all(|c| c.is_ascii_digit() || c == '_')
    {
        return None;
    }
    let value: i64 = digits.replace('_', "").parse().ok()?;
    Some(if negative { -value } else { value })
}

/// `datetime.fromisoformat(text.replace('Z', '+00:00'))`, made aware in `zone` when naive.
pub fn parse(text: &str, zone: UtcOffset) -> Option<Bound> {
    let text = text.trim();
    let (date_text, rest) = if text.len() > 10 {
        let (d, r) = text.split_at_checked(10)?;
        (d, Some(r))
    } else {
        (text, None)
    };
    let date = parse_date(date_text)?;
    let Some(rest) = rest else {
        let at = PrimitiveDateTime::new(date, Time::MIDNIGHT).assume_offset(zone);
        return Some(Bound {
            at: at.checked_to_offset(UtcOffset::UTC)?,
            echo: isoformat(date, Time::MIDNIGHT, None),
            date,
        });
    };
    // `T` or a space between date and time (a `+` in an unencoded query arrives as a space too,
    // so ` 05:30` after a time is read as `+05:30`).
    let rest = rest.strip_prefix(['T', 't', ' '])?;
    let (time_text, offset_text) = split_offset(rest);
    let time = parse_time(time_text)?;
    let offset = match offset_text {
        None => None,
        Some(o) => Some(parse_offset(o)?),
    };
    let at = PrimitiveDateTime::new(date, time).assume_offset(offset.unwrap_or(zone));
    Some(Bound {
        // An instant outside the representable years in UTC (9999-12-31T23:00-05:00) is invalid.
        at: at.checked_to_offset(UtcOffset::UTC)?,
        echo: isoformat(date, time, offset),
        date,
    })
}

fn digits(text: &str) -> Option<u32> {
    (!text.is_empty() && text.chars().all(|c| c.is_ascii_digit()))
        .then(|| text.parse().ok())
        .flatten()
}

fn parse_date(text: &str) -> Option<Date> {
    let b = text.as_bytes();
    if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
        return None;
    }
    let year = i32::try_from(digits(&text[0..4])?).ok()?;
    let month = Month::try_from(u8::try_from(digits(&text[5..7])?).ok()?).ok()?;
    let day = u8::try_from(digits(&text[8..10])?).ok()?;
    if year < 1 {
        return None;
    }
    Date::from_calendar_date(year, month, day).ok()
}

/// Splits `10:00:00+05:30` into the time and the offset (`Z`, `±HH:MM[:SS]`, `±HHMM`, or a blank
/// standing for a `+` lost in the query string).
fn split_offset(text: &str) -> (&str, Option<&str>) {
    match text.find(['+', '-', 'Z', 'z', ' ']) {
        Some(at) => (&text[..at], Some(&text[at..])),
        None => (text, None),
    }
}

fn parse_time(text: &str) -> Option<Time> {
    let (clock, fraction) = match text.split_once(['.', ',']) {
        Some((c, f)) => (c, Some(f)),
        None => (text, None),
    };
    let parts: Vec<&str> = clock.split(':').collect();
    let two = |s: &str| (s.len() == 2).then(|| digits(s)).flatten();
    let (hour, minute, second) = match parts.as_slice() {
        [h] => (two(h)?, 0, 0),
        [h, m] => (two(h)?, two(m)?, 0),
        [h, m, s] => (two(h)?, two(m)?, two(s)?),
        _ => return None,
    };
    if fraction.is_some() && parts.len() != 3 {
        return None;
    }
    let micro = match fraction {
        None => 0,
        Some(f) if f.is_empty() || !f.chars().all(|c| c.is_ascii_digit()) => return None,
        Some(f) => {
            let six: String = f.chars().chain(std::iter::repeat('0')).take(6).collect();
            digits(&six)?
        }
    };
    Time::from_hms_micro(
        u8::try_from(hour).ok()?,
        u8::try_from(minute).ok()?,
        u8::try_from(second).ok()?,
        micro,
    )
    .ok()
}

fn parse_offset(text: &str) -> Option<UtcOffset> {
    if text.eq_ignore_ascii_case("z") {
        return Some(UtcOffset::UTC);
    }
    let (sign, body) = match text.as_bytes().first()? {
        b'+' | b' ' => (1, &text[1..]),
        b'-' => (-1, &text[1..]),
        _ => return None,
    };
    let (h, m, s) = match body.len() {
        4 if body.chars().all(|c| c.is_ascii_digit()) => (&body[0..2], &body[2..4], "00"),
        5 if body.as_bytes()[2] == b':' => (&body[0..2], &body[3..5], "00"),
        8 if body.as_bytes()[2] == b':' && body.as_bytes()[5] == b':' => {
            (&body[0..2], &body[3..5], &body[6..8])
        }
        _ => return None,
    };
    let (h, m, s) = (digits(h)?, digits(m)?, digits(s)?);
    if h > 23 || m > 59 || s > 59 {
        return None;
    }
    let as_i8 = |v: u32| i8::try_from(v).ok();
    UtcOffset::from_hms(sign * as_i8(h)?, sign * as_i8(m)?, sign * as_i8(s)?).ok()
}

const DATE_TIME: &[BorrowedFormatItem<'static>] =
    format_description!("[year]-[month]-[day]T[hour]:[minute]:[second]");

/// Python's `datetime.isoformat()`: `2025-01-01T10:00:00`, microseconds only when non-zero, the
/// offset as `+05:30` (with seconds only when non-zero) for an aware value.
pub fn isoformat(date: Date, time: Time, offset: Option<UtcOffset>) -> String {
    let mut out = PrimitiveDateTime::new(date, time)
        .format(DATE_TIME)
        .unwrap_or_default();
    if time.microsecond() != 0 {
        out.push_str(&format!(".{:06}", time.microsecond()));
    }
    if let Some(offset) = offset {
        let (h, m, s) = offset.as_hms();
        let sign = if offset.is_negative() { '-' } else { '+' };
        out.push_str(&format!(
            "{sign}{:02}:{:02}",
            h.unsigned_abs(),
            m.unsigned_abs()
        ));
        if s != 0 {
            out.push_str(&format!(":{:02}", s.unsigned_abs()));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use time::macros::{datetime, offset};

    use super::*;

    const IST: UtcOffset = offset!(+05:30);

    #[test]
    fn dates_and_datetimes_as_python_reads_them() {
        let b = parse("2025-01-01", IST).expect("date");
        assert_eq!(b.at, datetime!(2025-01-01 00:00 +05:30));
        assert_eq!(b.echo, "2025-01-01T00:00:00");
        let b = parse("2025-01-01T10:00:00+05:30", IST).expect("aware");
        assert_eq!(b.at, datetime!(2025-01-01 10:00 +05:30));
        assert_eq!(b.echo, "2025-01-01T10:00:00+05:30");
        let b = parse("2025-01-01T10:00:00Z", IST).expect("zulu");
        assert_eq!(b.at, datetime!(2025-01-01 10:00 UTC));
        assert_eq!(b.echo, "2025-01-01T10:00:00+00:00");
        let b = parse("2025-01-01 10:00:00.5", IST).expect("naive with fraction");
        assert_eq!(b.at, datetime!(2025-01-01 10:00:00.5 +05:30));
        assert_eq!(b.echo, "2025-01-01T10:00:00.500000");
        let b = parse("2025-01-01T10:00", IST).expect("minutes");
        assert_eq!(b.echo, "2025-01-01T10:00:00");
        let b = parse("2025-01-01T10:00:00 05:30", IST).expect("a + lost in the query");
        assert_eq!(b.at, datetime!(2025-01-01 10:00 +05:30));
        let b = parse("2025-06-30T23:59:59-0400", IST).expect("basic offset");
        assert_eq!(b.at, datetime!(2025-06-30 23:59:59 -04:00));
        for bad in [
            "2025-13-01",
            "2025-02-30",
            "yesterday",
            "2025-01-01T25:00:00",
            "2025-01-01T10:00:00+25:00",
            "2025-01-01T",
            "2025/01/01",
            "0000-01-01",
            "2025-01-01T10:00:00.",
            "2025-01-01T10.5",
            "٢٠٢٥-01-01",
            "9999-12-31T23:00:00-05:00",
        ] {
            assert_eq!(parse(bad, IST), None, "{bad}");
        }
    }

    #[test]
    fn the_default_window_is_this_month_in_utc() {
        let w = Window::this_month(datetime!(2026-11-25 12:36:55.719007 UTC));
        assert_eq!(
            w.start.as_ref().map(|b| b.echo.as_str()),
            Some("2026-11-01T00:00:00+00:00")
        );
        assert_eq!(
            w.end.as_ref().map(|b| b.echo.as_str()),
            Some("2026-11-25T12:36:55.719007+00:00")
        );
    }

    #[test]
    fn integers_as_python_int_reads_them() {
        assert_eq!(integer("12"), Some(12));
        assert_eq!(integer(" 7 "), Some(7));
        assert_eq!(integer("-3"), Some(-3));
        assert_eq!(integer("1_0"), Some(10));
        for bad in ["", "1.5", "abc", "_1", "1__0", "99999999999999999999", "١٢"] {
            assert_eq!(integer(bad), None, "{bad}");
        }
    }
}
