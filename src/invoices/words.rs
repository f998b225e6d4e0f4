//! Amounts as an Indian invoice prints them: `₹1,85,000.00` (lakh/crore digit grouping) and
//! "Rupees One Lakh Eighty-Five Thousand Only" (Indian numbering in words).

/// `18500000` → `"₹1,85,000.00"`; negative amounts get a leading minus (`-₹0.01`).
pub fn inr(paise: i64) -> String {
    let sign = if paise < 0 { "-" } else { "" };
    let abs = paise.unsigned_abs();
    format!("{sign}₹{}.{:02}", group_indian(abs / 100), abs % 100)
}

/// `185000` → `"1,85,000"`: the last three digits, then groups of two.
pub fn group_indian(n: u64) -> String {
    let digits = n.to_string();
    if digits.len() <= 3 {
        return digits;
    }
    let (head, tail) = digits.split_at(digits.len() - 3);
    let mut out = String::with_capacity(digits.len() + digits.len() / 2);
    let first = head.len() % 2;
    if first == 1 {
        out.push_str(&head[..1]);
    }
    for (i, pair) in head.as_bytes()[first..].chunks(2).enumerate() {
        if i > 0 || first == 1 {
            out.push(',');
        }
        out.extend(pair.iter().map(|&b| char::from(b)));
    }
    out.push(',');
    out.push_str(tail);
    out
}

const ONES: [&str; 20] = [
    "Zero",
    "One",
    "Two",
    "Three",
    "Four",
    "Five",
    "Six",
    "Seven",
    "Eight",
    "Nine",
    "Ten",
    "Eleven",
    "Twelve",
    "Thirteen",
    "Fourteen",
    "Fifteen",
    "Sixteen",
    "Seventeen",
    "Eighteen",
    "Nineteen",
];
const TENS: [&str; 10] = [
    "", "", "Twenty", "Thirty", "Forty", "Fifty", "Sixty", "Seventy", "Eighty", "Ninety",
];

/// 0..=99: `"Eighty-Five"`.
fn below_hundred(n: u64) -> String {
    match n {
        0..=19 => ONES[n as usize].to_string(),
        _ if n.is_multiple_of(10) => TENS[(n / 10) as usize].to_string(),
        _ => format!("{}-{}", TENS[(n / 10) as usize], ONES[(n % 10) as usize]),
    }
}

/// A whole number in Indian numbering: `185000` → `"One Lakh Eighty-Five Thousand"`.
pub fn number_in_words(n: u64) -> String {
    if n == 0 {
        return "Zero".to_string();
    }
    let mut parts = Vec::new();
    let crore = n / 10_000_000;
    if crore > 0 {
        // Beyond 99 crore the crore count itself is read in Indian numbering.
        parts.push(format!("{} Crore", number_in_words(crore)));
    }
    let rest = n % 10_000_000;
    for (unit, name) in [(100_000, "Lakh"), (1_000, "Thousand"), (100, "Hundred")] {
        let count = rest / unit % if unit == 100 { 10 } else { 100 };
        if count > 0 {
            parts.push(format!("{} {name}", below_hundred(count)));
        }
    }
    if !rest.is_multiple_of(100) {
        parts.push(below_hundred(rest % 100));
    }
    parts.join(" ")
}

/// `"Rupees One Lakh Eighty-Five Thousand Only"`, `"Rupees Ten and Fifty Paise Only"`.
pub fn amount_in_words(paise: i64) -> String {
    let abs = paise.unsigned_abs();
    let (rupees, paise_part) = (abs / 100, abs % 100);
    let minus = if paise < 0 { "Minus " } else { "" };
    if paise_part == 0 {
        format!("{minus}Rupees {} Only", number_in_words(rupees))
    } else if rupees == 0 {
        format!("{minus}{} Paise Only", below_hundred(paise_part))
    } else {
        format!(
            "{minus}Rupees {} and {} Paise Only",
            number_in_words(rupees),
            below_hundred(paise_part)
        )
    }
}

#[cfg(test)]
mod tests {
    // Literals grouped as Indians read them (lakh, crore).
    #![allow(clippy::inconsistent_digit_grouping)]

    use super::*;

    #[test]
    fn indian_grouping() {
        assert_eq!(inr(18_500_000), "₹1,85,000.00");
        assert_eq!(inr(1_850_000), "₹18,500.00");
        assert_eq!(inr(100), "₹1.00");
        assert_eq!(inr(5), "₹0.05");
        assert_eq!(inr(-1), "-₹0.01");
        assert_eq!(inr(99_999_999_99), "₹9,99,99,999.99");
        assert_eq!(inr(12_345_678_900), "₹12,34,56,789.00");
        assert_eq!(group_indian(999), "999");
        assert_eq!(group_indian(1_000), "1,000");
        assert_eq!(group_indian(10_000), "10,000");
        assert_eq!(group_indian(100_000), "1,00,000");
        assert_eq!(group_indian(1_000_000), "10,00,000");
        assert_eq!(group_indian(10_000_000), "1,00,00,000");
    }

    #[test]
    fn words_in_indian_numbering() {
        assert_eq!(
            amount_in_words(18_500_000),
            "Rupees One Lakh Eighty-Five Thousand Only"
        );
        assert_eq!(
            amount_in_words(1_850_050),
            "Rupees Eighteen Thousand Five Hundred and Fifty Paise Only"
        );
        assert_eq!(amount_in_words(100), "Rupees One Only");
        assert_eq!(amount_in_words(1), "One Paise Only");
        assert_eq!(
            amount_in_words(99_999_999_99),
            "Rupees Nine Crore Ninety-Nine Lakh Ninety-Nine Thousand Nine Hundred Ninety-Nine and Ninety-Nine Paise Only"
        );
        assert_eq!(
            number_in_words(2_10_07_011),
            "Two Crore Ten Lakh Seven Thousand Eleven"
        );
        assert_eq!(number_in_words(120), "One Hundred Twenty");
        assert_eq!(number_in_words(0), "Zero");
        assert_eq!(number_in_words(1_000_00_00_000), "One Thousand Crore");
    }
}
