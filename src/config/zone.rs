//! `TIME_ZONE` (D11): a named zone without daylight saving, or a literal offset, as a fixed offset.

use time::UtcOffset;

use super::ConfigError;

/// Resolves a `TIME_ZONE` to a fixed offset. Named zones without daylight saving are supported, plus
/// literal offsets like `+05:30`.
pub(super) fn parse_time_zone(name: &str) -> Result<UtcOffset, ConfigError> {
    let fixed = |h: i8, m: i8| UtcOffset::from_hms(h, m, 0).map_err(|e| ConfigError(e.to_string()));
    match name {
        "Asia/Kolkata" | "Asia/Calcutta" | "IST" => fixed(5, 30),
        "UTC" | "Etc/UTC" | "GMT" | "Z" => Ok(UtcOffset::UTC),
        "Asia/Dubai" => fixed(4, 0),
        "Asia/Kathmandu" => fixed(5, 45),
        "Asia/Dhaka" => fixed(6, 0),
        "Asia/Singapore" => fixed(8, 0),
        other => {
            let bytes = other.as_bytes();
            let ok = bytes.len() == 6 && (bytes[0] == b'+' || bytes[0] == b'-') && bytes[3] == b':';
            if ok && let (Ok(h), Ok(m)) = (other[1..3].parse::<i8>(), other[4..6].parse::<i8>()) {
                let sign = if bytes[0] == b'-' { -1 } else { 1 };
                return fixed(sign * h, sign * m);
            }
            Err(ConfigError(format!(
                "TIME_ZONE {other:?} is not supported; use Asia/Kolkata, UTC or an offset like +05:30"
            )))
        }
    }
}
