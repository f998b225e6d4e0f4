//! GST on a tax-inclusive total (issue 11): the paid total never changes; the taxable value and the
//! tax are derived from it. CGST + SGST (half the rate each) when the place of supply is the
//! seller's state or unknown, IGST otherwise. Each tax is computed on the taxable value and rounded
//! to the paisa, as a GST invoice does; whatever paisa is left between their sum and the total is
//! printed as an explicit round-off line, so the lines always add up to the total exactly.

/// One printed tax line: `"CGST @ 9%"`, and its amount in paise.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TaxLine {
    pub label: String,
    pub paise: i64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Breakdown {
    /// The value before tax (equal to the total when there is no tax).
    pub taxable_paise: i64,
    /// CGST and SGST, or IGST; empty at rate 0.
    pub lines: Vec<TaxLine>,
    /// `total − taxable − Σ lines` (a paisa or so either way; 0 at rate 0).
    pub round_off_paise: i64,
    pub total_paise: i64,
}

/// `rate_bp` in hundredths of a percent: `1800` → `"18"`, `1250` → `"12.5"`.
pub fn percent_text(rate_bp: u32) -> String {
    thousandths_text(rate_bp * 10)
}

/// Thousandths of a percent without trailing zeros: `9000` → `"9"`, `6250` → `"6.25"`.
fn thousandths_text(n: u32) -> String {
    let (whole, frac) = (n / 1000, n % 1000);
    if frac == 0 {
        return whole.to_string();
    }
    let frac = format!("{frac:03}");
    format!("{whole}.{}", frac.trim_end_matches('0'))
}

/// `a × b / c` rounded half up (non-negative operands).
fn mul_div_round(a: i64, b: i64, c: i64) -> i64 {
    let (a, b, c) = (i128::from(a), i128::from(b), i128::from(c));
    i64::try_from((2 * a * b + c) / (2 * c)).unwrap_or(i64::MAX)
}

/// Splits `total_paise` at `rate_bp`; `intra_state` picks CGST + SGST over IGST.
pub fn breakdown(total_paise: i64, rate_bp: u32, intra_state: bool) -> Breakdown {
    if rate_bp == 0 || total_paise <= 0 {
        return Breakdown {
            taxable_paise: total_paise,
            lines: Vec::new(),
            round_off_paise: 0,
            total_paise,
        };
    }
    let rate = i64::from(rate_bp);
    let taxable = mul_div_round(total_paise, 10_000, 10_000 + rate);
    let lines = if intra_state {
        let half = mul_div_round(taxable, rate, 20_000);
        // Half the rate, in thousandths of a percent (an odd rate in hundredths halves exactly).
        let each = thousandths_text(rate_bp * 5);
        vec![
            TaxLine {
                label: format!("CGST @ {each}%"),
                paise: half,
            },
            TaxLine {
                label: format!("SGST @ {each}%"),
                paise: half,
            },
        ]
    } else {
        vec![TaxLine {
            label: format!("IGST @ {}%", percent_text(rate_bp)),
            paise: mul_div_round(taxable, rate, 10_000),
        }]
    };
    let taxes: i64 = lines.iter().map(|l| l.paise).sum();
    Breakdown {
        taxable_paise: taxable,
        round_off_paise: total_paise - taxable - taxes,
        lines,
        total_paise,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sums(b: &Breakdown) -> i64 {
        b.taxable_paise + b.lines.iter().map(|l| l.paise).sum::<i64>() + b.round_off_paise
    }

    #[test]
    fn eighteen_percent_within_the_state() {
        let b = breakdown(18_500_000, 1800, true);
        // 1,85,000 / 1.18 = 1,56,779.66; 9% of it = 14,110.17 each.
        assert_eq!(b.taxable_paise, 15_677_966);
        assert_eq!(
            b.lines,
            vec![
                TaxLine {
                    label: "CGST @ 9%".into(),
                    paise: 1_411_017
                },
                TaxLine {
                    label: "SGST @ 9%".into(),
                    paise: 1_411_017
                },
            ]
        );
        assert_eq!(b.round_off_paise, 0);
        assert_eq!(sums(&b), 18_500_000);
    }

    #[test]
    fn igst_between_states_and_nothing_at_zero() {
        let b = breakdown(1_850_000, 1800, false);
        assert_eq!(b.lines.len(), 1);
        assert_eq!(b.lines[0].label, "IGST @ 18%");
        assert_eq!(sums(&b), 1_850_000);
        let none = breakdown(1_850_000, 0, true);
        assert!(none.lines.is_empty());
        assert_eq!(none.taxable_paise, 1_850_000);
        assert_eq!(none.round_off_paise, 0);
    }

    #[test]
    fn every_total_adds_up_with_a_small_round_off() {
        for rate in [500, 1200, 1250, 1800, 2800, 1] {
            for total in (100..20_000).step_by(7).chain([9_999_999_999]) {
                for intra in [true, false] {
                    let b = breakdown(total, rate, intra);
                    assert_eq!(sums(&b), total, "{total} at {rate} ({intra})");
                    assert!(b.round_off_paise.abs() <= 1, "{total} at {rate}: {b:?}");
                }
            }
        }
        assert_eq!(breakdown(10_000, 1250, true).lines[0].label, "CGST @ 6.25%");
        assert_eq!(breakdown(10_000, 1, true).lines[0].label, "CGST @ 0.005%");
        assert_eq!(percent_text(1250), "12.5");
        assert_eq!(percent_text(5), "0.05");
    }
}
