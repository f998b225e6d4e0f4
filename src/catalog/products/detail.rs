//! The one-statement product detail: the product row with the JSON copies of its items and images
//! that the database keeps beside it (migration 0010's triggers, in the same transaction as every
//! change to the items or images), so a detail is one round trip and one row read however many
//! images it has. SQL only; shaped by `service`.

use crate::{
    catalog::model::{ImageRow, ItemRow, ProductRow, ProductType},
    db::{Db, Dialect, IdList},
    db_read, sql_in_ids,
};

/// The product columns of [`get_detail`] (as `repo`'s product select), then the copies of its items
/// and images as JSON arrays that the triggers of migration 0010 keep on the product row: one row
/// from one table (and the creator's name), one round trip.
macro_rules! detail_select {
    (package, $where:expr) => {
        concat!(
            "SELECT p.id, p.name, p.price_paise, NULL AS unit, p.description, p.features, \
             p.deliverables, p.is_active, p.is_popular, p.popular_order, p.created_by, \
             u.first_name AS creator_first_name, u.last_name AS creator_last_name, p.created_at, \
             p.updated_at, p.items_json, p.images_json \
             FROM packages p LEFT JOIN users u ON u.id = p.created_by ",
            $where
        )
    };
    (campaign, $where:expr) => {
        concat!(
            "SELECT p.id, p.name, p.price_paise, p.unit, p.description, p.features, \
             p.deliverables, p.is_active, p.is_popular, p.popular_order, p.created_by, \
             u.first_name AS creator_first_name, u.last_name AS creator_last_name, p.created_at, \
             p.updated_at, '[]' AS items_json, p.images_json \
             FROM campaigns p LEFT JOIN users u ON u.id = p.created_by ",
            $where
        )
    };
}

/// One row of [`get_detail`]: the product and its parts as JSON text.
#[derive(sqlx::FromRow)]
struct DetailRow {
    #[sqlx(flatten)]
    product: ProductRow,
    items_json: String,
    images_json: String,
}

#[derive(serde::Deserialize)]
struct ItemJson {
    id: i64,
    name: String,
    quantity: i32,
}

#[derive(serde::Deserialize)]
struct ImageJson {
    id: i64,
    file_name: String,
    thumbnail_name: Option<String>,
    content_type: String,
    size_bytes: i64,
    is_primary: bool,
    sort_order: i32,
    alt_text: String,
    #[serde(with = "time::serde::rfc3339")]
    uploaded_at: time::OffsetDateTime,
}

/// A product with its items and images, as [`get`], [`items_for`] and `repo::images_for` give them.
pub struct Detail {
    pub row: ProductRow,
    pub items: Vec<ItemRow>,
    pub images: Vec<ImageRow>,
}

/// A product with its items (packages) and images in one statement and one row: the uncached
/// public detail.
pub async fn get_detail(
    db: &Db,
    kind: ProductType,
    id: i64,
) -> Result<Option<Detail>, sqlx::Error> {
    let sql = match kind {
        ProductType::Package => detail_select!(package, "WHERE p.id = $1"),
        ProductType::Campaign => detail_select!(campaign, "WHERE p.id = $1"),
    };
    let found = db_read!(db, |pool| sqlx::query_as::<_, DetailRow>(sql)
        .bind(id)
        .fetch_optional(pool)
        .await)?;
    found.map(|row| into_detail(kind, row)).transpose()
}

/// [`get_detail`] for several products of a type (active or not) in one statement; missing ids
/// are absent, the order is the database's.
pub async fn get_details(
    db: &Db,
    kind: ProductType,
    ids: &[i64],
) -> Result<Vec<Detail>, sqlx::Error> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    const PACKAGES: Dialect = sql_in_ids!(detail_select!(package, "WHERE p.id"), "$1");
    const CAMPAIGNS: Dialect = sql_in_ids!(detail_select!(campaign, "WHERE p.id"), "$1");
    let sql = db.sql(match kind {
        ProductType::Package => PACKAGES,
        ProductType::Campaign => CAMPAIGNS,
    });
    let rows = db_read!(db, |pool| sqlx::query_as::<_, DetailRow>(sql)
        .bind(IdList(ids))
        .fetch_all(pool)
        .await)?;
    rows.into_iter().map(|row| into_detail(kind, row)).collect()
}

fn into_detail(kind: ProductType, found: DetailRow) -> Result<Detail, sqlx::Error> {
    let decode = |e: serde_json::Error| sqlx::Error::Decode(Box::new(e));
    let product_id = found.product.id;
    let items: Vec<ItemJson> = serde_json::from_str(&found.items_json).map_err(decode)?;
    let images: Vec<ImageJson> = serde_json::from_str(&found.images_json).map_err(decode)?;
    Ok(Detail {
        row: found.product,
        items: items
            .into_iter()
            .map(|i| ItemRow {
                id: i.id,
                package_id: product_id,
                name: i.name,
                quantity: i.quantity,
            })
            .collect(),
        images: images
            .into_iter()
            .map(|g| ImageRow {
                id: g.id,
                product_type: kind.as_str().to_string(),
                product_id,
                file_name: g.file_name,
                thumbnail_name: g.thumbnail_name,
                content_type: g.content_type,
                size_bytes: g.size_bytes,
                is_primary: g.is_primary,
                sort_order: g.sort_order,
                alt_text: g.alt_text,
                uploaded_at: g.uploaded_at,
            })
            .collect(),
    })
}
