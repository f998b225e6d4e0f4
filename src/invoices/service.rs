//! Who may download an order's invoice and when (D5), and the invoice itself: gathered from the
//! order, its lines, its payment and the seller settings, rendered on the documents pool, and cached
//! by (order id, `updated_at`, amount paid) so a repeated download costs one order read.

use axum::{body::Bytes, http::StatusCode};
use time::{OffsetDateTime, UtcOffset, macros::format_description};

use crate::{
    auth::model::User,
    cache::Blob,
    config::InvoiceConfig,
    db::now,
    error::{AppError, AppResult},
    invoices::{
        model::{BillTo, CustomerRow, HistoryRow, Invoice, Line, Payment, RecordRow, Seller},
        pdf, repo,
        tax::breakdown,
        words::inr,
    },
    orders::{model::OrderRow, service as orders},
    state::AppState,
};

const NA: &str = "N/A";

/// Which of the two routes asks (they differ only in what an unassigned staff member is told).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Route {
    /// `GET /api/orders/{id}/invoice/download/`: anyone not allowed sees a missing order.
    Customer,
    /// `GET /api/admin/orders/{id}/invoice/` (staff and admins only).
    Admin,
}

fn error(status: StatusCode, message: &str) -> AppError {
    AppError::Error(status, message.to_string())
}

/// Paid (D5): a verified Razorpay payment or an admin's `paid`, or payments recorded in full.
pub fn is_paid(order: &OrderRow) -> bool {
    order.payment_status == "paid"
        || (order.total_paise > 0 && order.paid_paise >= order.total_paise)
}

/// The order `id` if `user` may download its invoice on `route`; then the availability rule.
pub async fn allowed_order(
    state: &AppState,
    id: i64,
    user: &User,
    route: Route,
) -> AppResult<OrderRow> {
    let order = orders::get(state, id)
        .await?
        .ok_or_else(orders::order_not_found)?;
    let assigned = order.assigned_to == Some(user.id);
    let allowed = user.is_admin()
        || (user.is_staff_or_admin() && assigned)
        || (route == Route::Customer && order.user_id == user.id);
    if !allowed {
        return Err(match route {
            Route::Admin if user.is_staff_or_admin() => error(
                StatusCode::FORBIDDEN,
                "You can only download invoices for orders assigned to you",
            ),
            _ => orders::order_not_found(),
        });
    }
    if !is_paid(&order) {
        return Err(error(
            StatusCode::BAD_REQUEST,
            "Invoice is only available for paid orders",
        ));
    }
    Ok(order)
}

/// The cache key: the order's exact version (any change to it, or a new payment, makes a new key).
fn cache_key(order: &OrderRow) -> String {
    format!(
        "invoice:{}:{}:{}",
        order.id,
        order.updated_at.unix_timestamp_nanos(),
        order.paid_paise
    )
}

/// The invoice PDF of a paid order, from the cache or rendered now. The first generation stamps
/// `invoice_generated_at` (once: an already stamped history is left alone).
pub async fn pdf_of(state: &AppState, order: &OrderRow) -> AppResult<Blob> {
    let key = cache_key(order);
    if let Some(hit) = state.documents.cache.get(&key).await {
        return Ok(hit);
    }
    let (invoice, history, day) = gather(state, order).await?;
    let filename = filename(&invoice.invoice_number, day);
    let bytes = state
        .documents
        .pool
        .run(move || pdf::render(&invoice))
        .await?
        .map_err(|why| AppError::Internal(anyhow::anyhow!("invoice rendering failed: {why}")))?;
    if history
        .as_ref()
        .is_some_and(|h| h.invoice_generated_at.is_none())
    {
        repo::mark_generated(&state.db, order.id, now()).await?;
    }
    let blob = Blob {
        name: filename.into(),
        bytes: Bytes::from(bytes),
    };
    state.documents.cache.insert(key, blob.clone()).await;
    Ok(blob)
}

/// `Invoice-<invoice number>-<YYYYMMDD>.pdf` (contract-B §7.3, the date in the shop's zone, D11).
pub fn filename(invoice_number: &str, day: time::Date) -> String {
    let safe: String = invoice_number
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect();
    format!(
        "Invoice-{safe}-{:04}{:02}{:02}.pdf",
        day.year(),
        u8::from(day.month()),
        day.day()
    )
}

/// The invoice's date: the payment's (history, else the latest record), else when the order was
/// marked paid, else its last change.
fn invoice_moment(
    order: &OrderRow,
    history: Option<&HistoryRow>,
    record: Option<&RecordRow>,
) -> OffsetDateTime {
    history
        .map(|h| h.payment_date)
        .or(record.map(|r| r.recorded_at))
        .or(order.payment_completed_at)
        .unwrap_or(order.updated_at)
}

/// `"November 25, 2026"` in the shop's zone.
fn long_date(t: OffsetDateTime, tz: UtcOffset) -> String {
    t.to_offset(tz)
        .format(format_description!(
            "[month repr:long] [day padding:none], [year]"
        ))
        .unwrap_or_else(|_| NA.to_string())
}

/// `"November 25, 2026 at 06:06 PM IST"`.
fn long_date_time(t: OffsetDateTime, tz: UtcOffset) -> String {
    let (h, m, _) = tz.as_hms();
    let zone = match (h, m) {
        (5, 30) => "IST".to_string(),
        (0, 0) => "UTC".to_string(),
        _ => format!(
            "UTC{}{:02}:{:02}",
            if tz.is_negative() { '-' } else { '+' },
            h.abs(),
            m.abs()
        ),
    };
    let clock = t
        .to_offset(tz)
        .format(format_description!("[hour repr:12]:[minute] [period]"))
        .unwrap_or_default();
    format!("{} at {clock} {zone}", long_date(t, tz))
}

fn or_na(value: &str) -> String {
    let value = value.trim();
    if value.is_empty() {
        NA.to_string()
    } else {
        value.to_string()
    }
}

/// `"completed"` → `"Completed"`, `"bank_transfer"` → `"Bank Transfer"`, `"upi"` → `"UPI"`.
fn label(value: &str) -> String {
    match value {
        "" => NA.to_string(),
        "upi" => "UPI".to_string(),
        other => other
            .split('_')
            .map(|w| {
                let mut c = w.chars();
                c.next()
                    .map(|f| f.to_uppercase().collect::<String>() + c.as_str())
                    .unwrap_or_default()
            })
            .collect::<Vec<_>>()
            .join(" "),
    }
}

fn seller(config: &InvoiceConfig, logo: Option<Vec<u8>>) -> Seller {
    let state = match (
        config.seller_state.as_str(),
        config.seller_state_code.as_str(),
    ) {
        ("", "") => String::new(),
        (name, "") => name.to_string(),
        ("", code) => format!("State code {code}"),
        (name, code) => format!("{name} ({code})"),
    };
    Seller {
        name: config.seller_name.clone(),
        address: config.seller_address.clone(),
        gstin: config.seller_gstin.clone().unwrap_or_else(|| NA.into()),
        state,
        phone: config.seller_phone.clone(),
        email: config.seller_email.clone(),
        logo,
    }
}

/// The order's postal address (a manual order's, as taken on the phone), `N/A` when none.
fn address_of(order: &OrderRow) -> String {
    let parts: Vec<&str> = [
        order.customer_address.as_str(),
        order.customer_city.as_str(),
        order.customer_state.as_str(),
        order.customer_pincode.as_str(),
    ]
    .into_iter()
    .map(str::trim)
    .filter(|p| !p.is_empty())
    .collect();
    if parts.is_empty() {
        NA.into()
    } else {
        parts.join(", ")
    }
}

fn bill_to(customer: Option<&CustomerRow>, order: &OrderRow) -> BillTo {
    let Some(c) = customer else {
        return BillTo {
            name: NA.into(),
            email: NA.into(),
            phone: NA.into(),
            address: address_of(order),
        };
    };
    let full = format!("{} {}", c.first_name.trim(), c.last_name.trim());
    let name = if full.trim().is_empty() {
        or_na(&c.username)
    } else {
        full.trim().to_string()
    };
    BillTo {
        name,
        email: or_na(&c.email),
        phone: or_na(c.phone_number.as_deref().unwrap_or("")),
        // Accounts have no postal address (contract-A); a manual order keeps the one taken.
        address: address_of(order),
    }
}

fn payment(
    order: &OrderRow,
    history: Option<&HistoryRow>,
    record: Option<&RecordRow>,
    tz: UtcOffset,
) -> Payment {
    match (history, record) {
        (Some(h), _) => Payment {
            method: or_na(&h.payment_method),
            transaction_id: or_na(&h.transaction_id),
            status: label(&h.status),
            date: long_date_time(h.payment_date, tz),
            amount: format!("{} {}", inr(h.amount_paise), or_na(&h.currency)),
        },
        (None, Some(r)) => Payment {
            method: label(&r.payment_method),
            transaction_id: or_na(&r.payment_reference),
            status: label(&order.payment_status),
            date: long_date_time(r.recorded_at, tz),
            amount: format!("{} INR", inr(order.paid_paise)),
        },
        (None, None) => Payment {
            method: NA.into(),
            transaction_id: NA.into(),
            status: label(&order.payment_status),
            date: NA.into(),
            amount: NA.into(),
        },
    }
}

/// Everything the invoice prints, the payment history (for the stamp) and the invoice's day (for
/// the filename).
async fn gather(
    state: &AppState,
    order: &OrderRow,
) -> AppResult<(Invoice, Option<HistoryRow>, time::Date)> {
    let config = &state.config.invoice;
    let tz = state.config.tz_offset;
    let history = repo::history(&state.db, order.id).await?;
    let record = match history {
        Some(_) => None,
        None => repo::latest_record(&state.db, order.id).await?,
    };
    let customer = repo::customer(&state.db, order.user_id).await?;
    let items = orders::items(state, order.id).await?;
    let logo = match &config.logo_path {
        Some(path) => match tokio::fs::read(path).await {
            Ok(bytes) => Some(bytes),
            Err(error) => {
                tracing::warn!(%error, path = %path.display(), "INVOICE_LOGO_PATH is unreadable; no logo");
                None
            }
        },
        None => None,
    };
    let seller = seller(config, logo);
    // The place of supply is the order's state when one was taken (a manual order), else the
    // seller's: CGST + SGST within the seller's state (or unknown), IGST for another state.
    let customer_state = order.customer_state.trim();
    let intra_state = customer_state.is_empty()
        || seller.state.is_empty()
        || customer_state.eq_ignore_ascii_case(seller.state.trim());
    let place_of_supply = if !customer_state.is_empty() {
        customer_state.to_string()
    } else if seller.state.is_empty() {
        NA.to_string()
    } else {
        seller.state.clone()
    };
    let lines = items
        .iter()
        .map(|item| Line {
            name: or_na(&item.product_name),
            kind: label(&item.product_type),
            sac: or_na(&config.sac_code),
            quantity: item.quantity,
            unit_paise: item.price_paise,
            amount_paise: item.subtotal_paise(),
        })
        .collect();
    let invoice_number = history
        .as_ref()
        .map(|h| h.invoice_number.clone())
        .unwrap_or_else(|| format!("INV-{}", order.order_number));
    let moment = invoice_moment(order, history.as_ref(), record.as_ref());
    let invoice = Invoice {
        invoice_number,
        order_number: order.order_number.clone(),
        invoice_date: long_date(moment, tz),
        order_date: long_date(order.created_at, tz),
        place_of_supply,
        bill_to: bill_to(customer.as_ref(), order),
        lines,
        tax: breakdown(order.total_paise, config.tax_rate_bp, intra_state),
        total_paise: order.total_paise,
        payment: payment(order, history.as_ref(), record.as_ref(), tz),
        seller,
    };
    Ok((invoice, history, moment.to_offset(tz).date()))
}
