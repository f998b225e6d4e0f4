//! The `INVOICE_*` settings (issue 11): the seller block printed on every invoice, the GST rate,
//! the SAC code and the bound on the rendered PDFs kept in memory.

use std::path::PathBuf;

use super::ConfigError;

/// The seller and tax settings printed on invoices (D5, issue 11).
#[derive(Debug, Clone)]
pub struct InvoiceConfig {
    pub seller_name: String,
    /// Address lines (`INVOICE_SELLER_ADDRESS`, lines separated by `|` or a newline).
    pub seller_address: Vec<String>,
    /// The seller's GSTIN (15 characters); `None` when unset (`check` warns in production).
    pub seller_gstin: Option<String>,
    pub seller_state: String,
    /// The two-digit GST state code; defaults to the GSTIN's first two digits.
    pub seller_state_code: String,
    pub seller_phone: String,
    pub seller_email: String,
    /// A PNG or JPEG drawn in the header.
    pub logo_path: Option<PathBuf>,
    /// GST rate in hundredths of a percent (1800 = 18%); 0 prints no tax lines.
    pub tax_rate_bp: u32,
    /// The SAC/HSN code printed on every line.
    pub sac_code: String,
    /// Bound on the rendered PDFs kept in memory (0: every download renders).
    pub cache_max_bytes: u64,
}

impl InvoiceConfig {
    /// What `check` warns about in production: a tax invoice needs the seller's GSTIN (a seller
    /// below GST's registration threshold has none, so it is not an error).
    pub fn production_warnings(&self) -> Vec<String> {
        let mut problems = Vec::new();
        if self.seller_gstin.is_none() {
            problems.push(
                "INVOICE_SELLER_GSTIN unset: tax invoices are printed without the seller's GSTIN"
                    .into(),
            );
        }
        problems
    }
}

/// `INVOICE_*`: the seller block, the tax rate, the SAC code and the PDF cache bound.
pub(super) fn from_vars(
    get: &dyn Fn(&str) -> Option<String>,
    parse: &dyn Fn(&str, u64) -> Result<u64, ConfigError>,
) -> Result<InvoiceConfig, ConfigError> {
    let seller_gstin = get("INVOICE_SELLER_GSTIN").map(|g| g.to_ascii_uppercase());
    if let Some(gstin) = &seller_gstin
        && (gstin.len() != 15 || !gstin.bytes().all(|b| b.is_ascii_alphanumeric()))
    {
        return Err(ConfigError(format!(
            "INVOICE_SELLER_GSTIN must be 15 letters and digits, got {gstin:?}"
        )));
    }
    let tax_rate_bp = match get("INVOICE_TAX_RATE_PERCENT") {
        None => 0,
        Some(v) => {
            let rate = v.trim_end_matches('%').trim();
            match parse_percent(rate) {
                Some(bp) if bp <= 10_000 => bp,
                _ => {
                    return Err(ConfigError(format!(
                        "INVOICE_TAX_RATE_PERCENT must be a percentage between 0 and 100 (at most 2 decimals), got {v:?}"
                    )));
                }
            }
        }
    };
    let seller_state_code = get("INVOICE_SELLER_STATE_CODE")
        .or_else(|| {
            seller_gstin
                .as_ref()
                .map(|g| g[..2].to_string())
                .filter(|c| c.bytes().all(|b| b.is_ascii_digit()))
        })
        .unwrap_or_default();
    Ok(InvoiceConfig {
        seller_name: get("INVOICE_SELLER_NAME").unwrap_or_else(|| "Election Cart".into()),
        seller_address: get("INVOICE_SELLER_ADDRESS")
            .map(|a| {
                a.replace("\\n", "\n")
                    .split(['|', '\n'])
                    .map(|l| l.trim().to_string())
                    .filter(|l| !l.is_empty())
                    .collect()
            })
            .unwrap_or_default(),
        seller_gstin,
        seller_state: get("INVOICE_SELLER_STATE").unwrap_or_default(),
        seller_state_code,
        seller_phone: get("INVOICE_SELLER_PHONE").unwrap_or_default(),
        seller_email: get("INVOICE_SELLER_EMAIL")
            .unwrap_or_else(|| "support@electioncart.com".into()),
        logo_path: get("INVOICE_LOGO_PATH").map(PathBuf::from),
        tax_rate_bp,
        sac_code: get("INVOICE_SAC_CODE").unwrap_or_else(|| "998361".into()),
        cache_max_bytes: parse("INVOICE_CACHE_MAX_MB", 64)?.saturating_mul(1024 * 1024),
    })
}

/// `"18"` → 1800, `"12.5"` → 1250 (hundredths of a percent); `None` for anything else.
fn parse_percent(text: &str) -> Option<u32> {
    let (whole, frac) = text.split_once('.').unwrap_or((text, ""));
    if whole.is_empty() && frac.is_empty()
        || whole.len() > 3
        || frac.len() > 2
        || !whole
            .bytes()
            .chain(frac.bytes())
            .all(|b| b.is_ascii_digit())
    {
        return None;
    }
    let whole: u32 = if whole.is_empty() {
        0
    } else {
        whole.parse().ok()?
    };
    let frac: u32 = format!("{frac:0<2}").parse().ok()?;
    Some(whole * 100 + frac)
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use crate::config::Config;

    fn map(pairs: &[(&str, &str)]) -> HashMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn invoice_settings_parse() {
        let c = Config::from_map(&HashMap::new()).expect("defaults");
        assert_eq!(c.invoice.tax_rate_bp, 0);
        assert_eq!(c.invoice.sac_code, "998361");
        assert!(c.invoice.seller_gstin.is_none());
        assert_eq!(c.invoice.cache_max_bytes, 64 * 1024 * 1024);
        let c = Config::from_map(&map(&[
            ("INVOICE_SELLER_GSTIN", "09aaacl1234m1z5"),
            (
                "INVOICE_SELLER_ADDRESS",
                "12 MG Marg| Lucknow 226001\\nIndia",
            ),
            ("INVOICE_TAX_RATE_PERCENT", "18"),
            ("INVOICE_CACHE_MAX_MB", "0"),
        ]))
        .expect("parse");
        assert_eq!(c.invoice.seller_gstin.as_deref(), Some("09AAACL1234M1Z5"));
        assert_eq!(c.invoice.seller_state_code, "09", "from the GSTIN");
        assert_eq!(
            c.invoice.seller_address,
            ["12 MG Marg", "Lucknow 226001", "India"]
        );
        assert_eq!(c.invoice.tax_rate_bp, 1800);
        assert_eq!(c.invoice.cache_max_bytes, 0);
        for (rate, bp) in [("12.5", 1250), ("0", 0), ("5%", 500), ("0.25", 25)] {
            let c = Config::from_map(&map(&[("INVOICE_TAX_RATE_PERCENT", rate)])).expect(rate);
            assert_eq!(c.invoice.tax_rate_bp, bp, "{rate}");
        }
        for bad in ["-5", "101", "18.123", "abc", "."] {
            assert!(
                Config::from_map(&map(&[("INVOICE_TAX_RATE_PERCENT", bad)])).is_err(),
                "{bad}"
            );
        }
        assert!(Config::from_map(&map(&[("INVOICE_SELLER_GSTIN", "123")])).is_err());
        let c = Config::from_map(&map(&[("APP_ENV", "production")])).expect("parse");
        assert!(
            c.production_warnings()
                .iter()
                .any(|p| p.contains("INVOICE_SELLER_GSTIN"))
        );
    }
}
