//! What is derived from orders and cached — the analytics reports (contract-B §11.4, §14 rule 14,
//! D21) — and the one place that drops it: every transaction that writes orders, their lines,
//! payments, statuses or assignments commits through [`commit`], which drops every key under
//! [`PREFIX`] on every tier and instance once the change is visible (never before: a report
//! computed between an early drop and the commit would be stored stale).

use crate::{db::Tx, error::AppResult, state::AppState};

/// Cache keys of everything computed from orders start with this.
pub const PREFIX: &str = "orders:derived:";

/// Commits `tx`, then drops the order-derived cache entries.
pub async fn commit(state: &AppState, tx: Tx) -> AppResult<()> {
    tx.commit().await?;
    changed(state).await;
    Ok(())
}

/// Drops the order-derived cache entries (targeted: this prefix only, never a flush).
pub async fn changed(state: &AppState) {
    state.cache.invalidate_prefix(PREFIX).await;
}
