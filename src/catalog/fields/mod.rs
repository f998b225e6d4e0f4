//! Resource fields: the per-product definitions of what a customer hands over after paying.

pub mod repo;
pub mod routes;

use crate::{catalog::model::ProductType, state::AppState};

/// A product's field definitions in form order: what the resources feature asks the customer for.
pub async fn definitions(
    state: &AppState,
    kind: ProductType,
    product_id: i64,
) -> Result<Vec<repo::FieldRow>, sqlx::Error> {
    repo::list_for(&state.db, kind, product_id).await
}
