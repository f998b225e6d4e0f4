//! Money is integer paise everywhere inside; rupee strings like `"18500.00"` only at the edges (D11).

use serde_json::Value;

/// Largest amount a Django `DecimalField(max_digits=10, decimal_places=2)` holds: 99,999,999.99.
pub const MAX_PAISE: i64 = 9_999_999_999;

/// `1850000` → `"18500.00"`.
pub fn format_paise(paise: i64) -> String {
    let sign = if paise < 0 { "-" } else { "" };
    let abs = paise.unsigned_abs();
    format!("{sign}{}.{:02}", abs / 100, abs % 100)
}

/// `1850000` → `18500.0` (computed values the contract renders as JSON numbers).
pub fn paise_to_f64(paise: i64) -> f64 {
    paise as f64 / 100.0
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MoneyError {
    Invalid,
    TooManyDecimals,
    TooManyDigits,
}

impl MoneyError {
    /// DRF's DecimalField messages.
    pub fn message(self) -> &'static str {
        match self {
            MoneyError::Invalid => "A valid number is required.",
            MoneyError::TooManyDecimals => "Ensure that there are no more than 2 decimal places.",
            MoneyError::TooManyDigits => "Ensure that there are no more than 10 digits in total.",
        }
    }
}

/// Parses a JSON number or numeric string (`18500`, `18500.5`, `"18500.00"`) into paise, exactly
/// (no floating-point rounding: the decimal text is read digit by digit).
pub fn parse_rupees(value: &Value) -> Result<i64, MoneyError> {
    let text = match value {
        Value::Number(n) => n.to_string(),
        Value::String(s) => s.trim().to_string(),
        _ => return Err(MoneyError::Invalid),
    };
    parse_decimal(&text)
}

fn parse_decimal(text: &str) -> Result<i64, MoneyError> {
    let (negative, digits) = match text.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, text.strip_prefix('+').unwrap_or(text)),
    };
    // serde_json renders large or small floats with an exponent; accept only plain decimals.
    let (int_part, frac_part) = match digits.split_once('.') {
        Some((i, f)) => (i, f),
        None => (digits, ""),
    };
    if int_part.is_empty() && frac_part.is_empty() {
        return Err(MoneyError::Invalid);
    }
    if !int_part.chars().all(|c| c.is_ascii_digit())
        || !frac_part.chars().all(|c| c.is_ascii_digit())
    {
        return Err(MoneyError::Invalid);
    }
    let frac_trimmed = frac_part.trim_end_matches('0');
    if frac_trimmed.len() > 2 {
        return Err(MoneyError::TooManyDecimals);
    }
    let int_trimmed = int_part.trim_start_matches('0');
    if int_trimmed.len() > 8 {
        return Err(MoneyError::TooManyDigits);
    }
    let rupees: i64 = if int_trimmed.is_empty() {
        0
    } else {
        int_trimmed.parse().map_err(|_| MoneyError::Invalid)?
    };
    let mut cents = format!("{frac_trimmed:0<2}");
    cents.truncate(2);
    let cents: i64 = cents.parse().map_err(|_| MoneyError::Invalid)?;
    let paise = rupees * 100 + cents;
    Ok(if negative { -paise } else { paise })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn formats_like_django() {
        assert_eq!(format_paise(1_850_000), "18500.00");
        assert_eq!(format_paise(100), "1.00");
        assert_eq!(format_paise(5), "0.05");
        assert_eq!(format_paise(123_450), "1234.50");
        assert_eq!(format_paise(0), "0.00");
        assert_eq!(paise_to_f64(1_850_000), 18500.0);
    }

    #[test]
    fn parses_numbers_and_strings_exactly() {
        assert_eq!(parse_rupees(&json!(18500)), Ok(1_850_000));
        assert_eq!(parse_rupees(&json!(18500.5)), Ok(1_850_050));
        assert_eq!(parse_rupees(&json!("18500.00")), Ok(1_850_000));
        assert_eq!(parse_rupees(&json!("0.1")), Ok(10));
        assert_eq!(parse_rupees(&json!(0.29)), Ok(29));
        assert_eq!(parse_rupees(&json!("99999999.99")), Ok(MAX_PAISE));
        assert_eq!(parse_rupees(&json!("-5")), Ok(-500));
        assert_eq!(
            parse_rupees(&json!("1.234")),
            Err(MoneyError::TooManyDecimals)
        );
        assert_eq!(
            parse_rupees(&json!("123456789")),
            Err(MoneyError::TooManyDigits)
        );
        for bad in [
            json!("abc"),
            json!(""),
            json!(null),
            json!(true),
            json!("1e5"),
            json!("1.2.3"),
        ] {
            assert_eq!(parse_rupees(&bad), Err(MoneyError::Invalid), "{bad}");
        }
    }
}
