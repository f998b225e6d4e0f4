//! The one-statement product detail: the product row with its items and images aggregated into
//! JSON arrays by the database (`json_agg` on PostgreSQL, `json_group_array` on SQLite), so a detail
//! is one round trip and one row however many images it has. SQL only; shaped by `service`.

use crate::{
    catalog::model::{ImageRow, ItemRow, ProductRow, ProductType},
    db::{Db, Dialect, IdList},
    db_read,
};

/// The product columns of [`get_detail`] (as `repo`'s product select), then its items and images
/// aggregated into two JSON arrays by the database: one row, one round trip.
macro_rules! detail_select {
    (package, $items:expr, $images:expr) => {
        detail_select!(package, $items, $images, "WHERE p.id = $1")
    };
    (campaign, $images:expr) => {
        detail_select!(campaign, $images, "WHERE p.id = $1")
    };
    (package, $items:expr, $images:expr, $where:expr) => {
        concat!(
            "SELECT p.id, p.name, p.price_paise, NULL AS unit, p.description, p.features, \
             p.deliverables, p.is_active, p.is_popular, p.popular_order, p.created_by, \
             u.first_name AS creator_first_name, u.last_name AS creator_last_name, p.created_at, \
             p.updated_at, ",
            $items,
            " AS items_json, ",
            $images,
            " AS images_json FROM packages p LEFT JOIN users u ON u.id = p.created_by ",
            $where
        )
    };
    (campaign, $images:expr, $where:expr) => {
        concat!(
            "SELECT p.id, p.name, p.price_paise, p.unit, p.description, p.features, \
             p.deliverables, p.is_active, p.is_popular, p.popular_order, p.created_by, \
             u.first_name AS creator_first_name, u.last_name AS creator_last_name, p.created_at, \
             p.updated_at, '[]' AS items_json, ",
            $images,
            " AS images_json FROM campaigns p LEFT JOIN users u ON u.id = p.created_by ",
            $where
        )
    };
}

/// A package's items as a JSON array, by id (PostgreSQL, SQLite).
macro_rules! items_json {
    (postgres) => {
        "COALESCE((SELECT json_agg(json_build_object('id', i.id, 'name', i.name, 'quantity', \
         i.quantity) ORDER BY i.id)::text FROM package_items i WHERE i.package_id = p.id), '[]')"
    };
    (sqlite) => {
        "(SELECT json_group_array(json_object('id', i.id, 'name', i.name, 'quantity', i.quantity) \
         ORDER BY i.id) FROM package_items i WHERE i.package_id = p.id)"
    };
}

/// A product's images as a JSON array, primary first, then by order, then newest (as `repo::images_for`).
macro_rules! images_json {
    (postgres, $type:literal) => {
        concat!(
            "COALESCE((SELECT json_agg(json_build_object('id', g.id, 'file_name', g.file_name, \
             'thumbnail_name', g.thumbnail_name, 'content_type', g.content_type, 'size_bytes', \
             g.size_bytes, 'is_primary', g.is_primary, 'sort_order', g.sort_order, 'alt_text', \
             g.alt_text, 'uploaded_at', g.uploaded_at) ORDER BY g.is_primary DESC, g.sort_order ASC, \
             g.uploaded_at DESC, g.id DESC)::text FROM product_images g WHERE g.product_type = '",
            $type,
            "' AND g.product_id = p.id), '[]')"
        )
    };
    (sqlite, $type:literal) => {
        concat!(
            "(SELECT json_group_array(json_object('id', g.id, 'file_name', g.file_name, \
             'thumbnail_name', g.thumbnail_name, 'content_type', g.content_type, 'size_bytes', \
             g.size_bytes, 'is_primary', json(CASE WHEN g.is_primary THEN 'true' ELSE 'false' END), \
             'sort_order', g.sort_order, 'alt_text', g.alt_text, 'uploaded_at', g.uploaded_at) \
             ORDER BY g.is_primary DESC, g.sort_order ASC, g.uploaded_at DESC, g.id DESC) \
             FROM product_images g WHERE g.product_type = '",
            $type,
            "' AND g.product_id = p.id)"
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
    const PACKAGE: Dialect = Dialect {
        postgres: detail_select!(
            package,
            items_json!(postgres),
            images_json!(postgres, "package")
        ),
        sqlite: detail_select!(
            package,
            items_json!(sqlite),
            images_json!(sqlite, "package")
        ),
    };
    const CAMPAIGN: Dialect = Dialect {
        postgres: detail_select!(campaign, images_json!(postgres, "campaign")),
        sqlite: detail_select!(campaign, images_json!(sqlite, "campaign")),
    };
    let sql = db.sql(match kind {
        ProductType::Package => PACKAGE,
        ProductType::Campaign => CAMPAIGN,
    });
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
    const PACKAGES: Dialect = Dialect {
        postgres: detail_select!(
            package,
            items_json!(postgres),
            images_json!(postgres, "package"),
            "WHERE p.id = ANY($1)"
        ),
        sqlite: detail_select!(
            package,
            items_json!(sqlite),
            images_json!(sqlite, "package"),
            "WHERE p.id IN (SELECT value FROM json_each($1))"
        ),
    };
    const CAMPAIGNS: Dialect = Dialect {
        postgres: detail_select!(
            campaign,
            images_json!(postgres, "campaign"),
            "WHERE p.id = ANY($1)"
        ),
        sqlite: detail_select!(
            campaign,
            images_json!(sqlite, "campaign"),
            "WHERE p.id IN (SELECT value FROM json_each($1))"
        ),
    };
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
