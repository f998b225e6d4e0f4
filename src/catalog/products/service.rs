//! Building the read shapes from rows, batched (one query for items, one for images: never N+1).

use std::collections::HashMap;

use crate::{
    catalog::{
        model::{ImageOut, ItemOut, ProductOut, ProductRow, ProductType},
        products::{detail, repo},
    },
    state::AppState,
};

/// The full read shape of each row, in the rows' order.
pub async fn render(
    state: &AppState,
    kind: ProductType,
    rows: &[ProductRow],
    base: &str,
) -> Result<Vec<ProductOut>, sqlx::Error> {
    let ids: Vec<i64> = rows.iter().map(|r| r.id).collect();
    let tz = state.config.tz_offset;
    let mut items: HashMap<i64, Vec<ItemOut>> = HashMap::new();
    if kind == ProductType::Package {
        for item in repo::items_for(&state.db, &ids).await? {
            items.entry(item.package_id).or_default().push(ItemOut {
                id: item.id,
                name: item.name,
                quantity: item.quantity,
            });
        }
    }
    let mut images: HashMap<i64, Vec<ImageOut>> = HashMap::new();
    for image in repo::images_for(&state.db, kind, &ids).await? {
        images
            .entry(image.product_id)
            .or_default()
            .push(ImageOut::new(&image, base, tz));
    }
    Ok(rows
        .iter()
        .map(|row| {
            ProductOut::new(
                kind,
                row,
                items.remove(&row.id).unwrap_or_default(),
                images.remove(&row.id).unwrap_or_default(),
                tz,
            )
        })
        .collect())
}

/// A product's read shape with its price in paise, for features that total it (the cart).
#[derive(Debug, Clone)]
pub struct Priced {
    pub id: i64,
    pub price_paise: i64,
    pub out: ProductOut,
}

/// The products of a type with these ids (active or not) in their read shape; missing ids are
/// absent from the result.
pub async fn priced_by_ids(
    state: &AppState,
    kind: ProductType,
    ids: &[i64],
    base: &str,
) -> Result<Vec<Priced>, sqlx::Error> {
    let tz = state.config.tz_offset;
    Ok(detail::get_details(&state.db, kind, ids)
        .await?
        .into_iter()
        .map(|detail| Priced {
            id: detail.row.id,
            price_paise: detail.row.price_paise,
            out: detail_out(kind, detail, base, tz),
        })
        .collect())
}

/// The read shape of a [`detail::Detail`].
fn detail_out(
    kind: ProductType,
    detail: detail::Detail,
    base: &str,
    tz: time::UtcOffset,
) -> ProductOut {
    let items = detail
        .items
        .into_iter()
        .map(|item| ItemOut {
            id: item.id,
            name: item.name,
            quantity: item.quantity,
        })
        .collect();
    let images = detail
        .images
        .iter()
        .map(|image| ImageOut::new(image, base, tz))
        .collect();
    ProductOut::new(kind, &detail.row, items, images, tz)
}

/// A product's name and current price, for features that snapshot them (order creation).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PriceTag {
    pub id: i64,
    pub name: String,
    pub price_paise: i64,
}

/// Names and current prices of the products of a type with these ids (active or not), read inside
/// the caller's transaction; missing ids are absent.
pub async fn price_tags(
    tx: &mut crate::db::Tx,
    kind: ProductType,
    ids: &[i64],
) -> Result<Vec<PriceTag>, sqlx::Error> {
    Ok(repo::get_many_in(tx, kind, ids)
        .await?
        .into_iter()
        .map(|row| PriceTag {
            id: row.id,
            name: row.name,
            price_paise: row.price_paise,
        })
        .collect())
}

/// The current names of the products of a type with these ids (active or not).
pub async fn names(
    state: &AppState,
    kind: ProductType,
    ids: &[i64],
) -> Result<std::collections::HashMap<i64, String>, sqlx::Error> {
    Ok(repo::get_many(&state.db, kind, ids)
        .await?
        .into_iter()
        .map(|row| (row.id, row.name))
        .collect())
}

/// Whether product `id` of the type exists and is active.
pub async fn is_active(state: &AppState, kind: ProductType, id: i64) -> Result<bool, sqlx::Error> {
    Ok(repo::get(&state.db, kind, id)
        .await?
        .is_some_and(|row| row.is_active))
}

/// The active product `id` in its read shape, from one statement ([`repo::get_detail`]); `None`
/// when it is missing or inactive.
pub async fn active_detail(
    state: &AppState,
    kind: ProductType,
    id: i64,
    base: &str,
) -> Result<Option<ProductOut>, sqlx::Error> {
    let Some(detail) = detail::get_detail(&state.db, kind, id).await? else {
        return Ok(None);
    };
    if !detail.row.is_active {
        return Ok(None);
    }
    Ok(Some(detail_out(kind, detail, base, state.config.tz_offset)))
}

pub async fn render_one(
    state: &AppState,
    kind: ProductType,
    row: &ProductRow,
    base: &str,
) -> Result<ProductOut, sqlx::Error> {
    let mut out = render(state, kind, std::slice::from_ref(row), base).await?;
    out.pop().ok_or(sqlx::Error::RowNotFound)
}

/// What the manual-order form lists of a product (contract-B §8.1 `products/for-order/`).
#[derive(Debug, Clone)]
pub struct Summary {
    pub id: i64,
    pub name: String,
    pub description: String,
    pub price_paise: i64,
    pub is_active: bool,
}

/// Every active product of a type, in the public list order (at most `limit`).
pub async fn active_summaries(
    state: &AppState,
    kind: ProductType,
    limit: i64,
) -> Result<Vec<Summary>, sqlx::Error> {
    Ok(repo::list_active(&state.db, kind, limit, 0)
        .await?
        .into_iter()
        .map(|row| Summary {
            id: row.id,
            name: row.name,
            description: row.description,
            price_paise: row.price_paise,
            is_active: row.is_active,
        })
        .collect())
}

/// Names, current prices and whether they are active, of the products of a type with these ids,
/// read inside the caller's transaction (manual orders take active products only).
pub async fn price_tags_active(
    tx: &mut crate::db::Tx,
    kind: ProductType,
    ids: &[i64],
) -> Result<Vec<PriceTag>, sqlx::Error> {
    Ok(repo::get_many_in(tx, kind, ids)
        .await?
        .into_iter()
        .filter(|row| row.is_active)
        .map(|row| PriceTag {
            id: row.id,
            name: row.name,
            price_paise: row.price_paise,
        })
        .collect())
}
