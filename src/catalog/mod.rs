//! The catalog: packages, campaigns and what hangs off them (items, images, audit logs), public and
//! admin endpoints (contract-A §4).

pub mod demo;
pub mod fields;
pub mod images;
pub mod model;
pub mod popular;
pub mod products;
pub mod templates;

use utoipa_axum::router::OpenApiRouter;

pub use fields::routes::{DEFAULT_DOCUMENT_EXTENSIONS, extension_allowed};

use crate::state::AppState;

/// Routes under `/api`.
pub fn router() -> OpenApiRouter<AppState> {
    products::public::router()
        .merge(products::admin::router())
        .merge(images::routes::router())
        .merge(fields::routes::router())
        .merge(templates::routes::router())
        .merge(popular::routes::router())
}

use serde_json::Value;

use crate::{
    catalog::model::ProductType,
    uploads::{Area, StoredName},
    validation::{id_list, id_value, order_value},
};

/// A reorder body: `{"items":[{"id":1,"order":2},…]}` (entries without `order` are left alone) or
/// the admin SPA's `{"<ids_key>":[…]}` (`image_ids`, `item_ids`; order = position, from 0) (D7).
pub(crate) fn reorder_entries(body: &Value, ids_key: &str) -> Option<Vec<(i64, Option<i32>)>> {
    let entries: Vec<(i64, Option<i32>)> = match (body.get("items"), body.get(ids_key)) {
        (Some(Value::Array(items)), _) if !items.is_empty() => items
            .iter()
            .map(|entry| {
                let id = entry.get("id").and_then(id_value)?;
                match entry.get("order") {
                    None | Some(Value::Null) => Some((id, None)),
                    Some(order) => order_value(order).map(|order| (id, Some(order))),
                }
            })
            .collect::<Option<_>>()?,
        (None | Some(Value::Null), Some(ids)) => id_list(ids)
            .ok()?
            .into_iter()
            .enumerate()
            .map(|(position, id)| (id, i32::try_from(position).ok()))
            .collect(),
        _ => return None,
    };
    (!entries.is_empty()).then_some(entries)
}

/// Drops what the public catalog reads cached for `kind` (lists, details, popular) after a write:
/// targeted to that product type, never a flush (D21); other instances drop theirs too.
pub async fn invalidate(state: &AppState, kind: ProductType) {
    state
        .cache
        .invalidate_prefix(&format!("catalog:{}:", kind.plural()))
        .await;
}

/// Removes stored image files (originals and thumbnails) after their rows are gone, through the
/// configured `Storage`. A missing file is fine; other failures are logged, not raised (the rows
/// are already gone, and a stray file harms nothing). Only server-generated names are touched.
pub async fn remove_files(state: &AppState, names: impl IntoIterator<Item = String>) {
    for name in names {
        let Some(stored) = StoredName::parse(&name) else {
            tracing::warn!(file = %name, "not removing a file with an unexpected name");
            continue;
        };
        if let Err(error) = state.uploads.storage.delete(Area::Products, &stored).await {
            tracing::warn!(%error, file = %stored, "could not remove a product image file");
        }
    }
}
