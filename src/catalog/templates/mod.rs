//! Checklist templates: the per-product steps fulfilment staff follow.

pub mod repo;
pub mod routes;

use crate::{catalog::model::ProductType, db::Tx};

/// A product's template steps by `order`, read inside the caller's transaction (fulfilment copies
/// them into an order's checklist when it is assigned).
pub async fn steps_in(
    tx: &mut Tx,
    kind: ProductType,
    product_id: i64,
) -> Result<Vec<repo::TemplateRow>, sqlx::Error> {
    repo::list_for_in(tx, kind, product_id).await
}
