//! Product-image SQL (contract-A §4.1 ProductImage, §6.9 rules).
//!
//! Every write that touches the per-product rules (at most 10 images, at most one primary, auto
//! `order`) first locks the product's row (`FOR NO KEY UPDATE` on PostgreSQL; SQLite's `BEGIN
//! IMMEDIATE` already serialises writers), so concurrent uploads and primary changes cannot break them
//! (the original's check-then-write races, contract-A §7.16).

use crate::{
    catalog::model::{ImageRow, ProductType},
    db::{Db, Dialect, IdList, Tx, now, set_sort_orders},
    db_read, sql_for_update, sql_in_ids, tx_run,
};

macro_rules! image_columns {
    () => {
        "id, product_type, product_id, file_name, thumbnail_name, content_type, size_bytes, \
         is_primary, sort_order, alt_text, uploaded_at"
    };
}

macro_rules! select_image {
    ($suffix:expr) => {
        concat!(
            "SELECT ",
            image_columns!(),
            " FROM product_images ",
            $suffix
        )
    };
}

/// Locks (PostgreSQL) the products of a type that own any of the images `$1`, in id order.
macro_rules! lock_products_of_images {
    ($table:literal, $type:literal) => {
        Dialect {
            postgres: concat!(
                "SELECT id FROM ",
                $table,
                " WHERE id IN (SELECT product_id FROM product_images WHERE product_type = '",
                $type,
                "' AND id = ANY($1)) ORDER BY id FOR NO KEY UPDATE"
            ),
            sqlite: concat!(
                "SELECT id FROM ",
                $table,
                " WHERE id IN (SELECT product_id FROM product_images WHERE product_type = '",
                $type,
                "' AND id IN (SELECT value FROM json_each($1)))"
            ),
        }
    };
}

/// Locks the product row for the rest of the transaction; `None` when there is no such product.
fn lock_product_sql(tx: &Tx, kind: ProductType) -> &'static str {
    tx.sql(match kind {
        ProductType::Package => sql_for_update!(no_key: "SELECT id FROM packages WHERE id = $1"),
        ProductType::Campaign => sql_for_update!(no_key: "SELECT id FROM campaigns WHERE id = $1"),
    })
}

fn kind_of(row: &ImageRow) -> ProductType {
    ProductType::parse(&row.product_type).unwrap_or(ProductType::Package)
}

pub async fn get(db: &Db, id: i64) -> Result<Option<ImageRow>, sqlx::Error> {
    db_read!(db, |pool| sqlx::query_as::<_, ImageRow>(select_image!(
        "WHERE id = $1"
    ))
    .bind(id)
    .fetch_optional(pool)
    .await)
}

/// [`get`] inside a transaction.
async fn get_in(tx: &mut Tx, id: i64) -> Result<Option<ImageRow>, sqlx::Error> {
    tx_run!(tx, |conn| sqlx::query_as::<_, ImageRow>(select_image!(
        "WHERE id = $1"
    ))
    .bind(id)
    .fetch_optional(&mut *conn)
    .await)
}

/// How many images the product has.
pub async fn count_for(db: &Db, kind: ProductType, product_id: i64) -> Result<i64, sqlx::Error> {
    db_read!(db, |pool| sqlx::query_scalar::<_, i64>(
        "SELECT COUNT(*) FROM product_images WHERE product_type = $1 AND product_id = $2"
    )
    .bind(kind.as_str())
    .bind(product_id)
    .fetch_one(pool)
    .await)
}

/// The images with these ids (any order; missing ids are simply absent).
pub async fn by_ids(db: &Db, ids: &[i64]) -> Result<Vec<ImageRow>, sqlx::Error> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    const BY_IDS: Dialect = sql_in_ids!(select_image!("WHERE id"), "$1");
    db_read!(db, |pool| sqlx::query_as::<_, ImageRow>(db.sql(BY_IDS))
        .bind(IdList(ids))
        .fetch_all(pool)
        .await)
}

/// A new image row. `order: None` → (max order of the product, or 0) + 1.
#[derive(Debug, Clone)]
pub struct NewImage {
    pub kind: ProductType,
    pub product_id: i64,
    pub file_name: String,
    pub thumbnail_name: Option<String>,
    pub content_type: String,
    pub size_bytes: i64,
    pub alt_text: String,
    pub is_primary: bool,
    pub order: Option<i32>,
}

#[derive(Debug)]
pub enum Inserted {
    Row(ImageRow),
    NoProduct,
    LimitReached,
}

/// Inserts an image under the product's rules: at most `max_images`; the first image is primary; a
/// new primary demotes the others.
pub async fn insert(tx: &mut Tx, new: &NewImage, max_images: i64) -> Result<Inserted, sqlx::Error> {
    let lock = lock_product_sql(tx, new.kind);
    let at = now();
    let outcome = tx_run!(tx, |conn| {
        let product: Option<i64> = sqlx::query_scalar(lock)
            .bind(new.product_id)
            .fetch_optional(&mut *conn)
            .await?;
        if product.is_none() {
            return Ok(Inserted::NoProduct);
        }
        let (count, max_order): (i64, Option<i32>) = sqlx::query_as(
            "SELECT COUNT(*), MAX(sort_order) FROM product_images \
             WHERE product_type = $1 AND product_id = $2",
        )
        .bind(new.kind.as_str())
        .bind(new.product_id)
        .fetch_one(&mut *conn)
        .await?;
        if count >= max_images {
            return Ok(Inserted::LimitReached);
        }
        let order = new
            .order
            .unwrap_or_else(|| max_order.unwrap_or(0).saturating_add(1));
        let primary = new.is_primary || count == 0;
        if primary {
            sqlx::query(
                "UPDATE product_images SET is_primary = FALSE \
                 WHERE product_type = $1 AND product_id = $2 AND is_primary = TRUE",
            )
            .bind(new.kind.as_str())
            .bind(new.product_id)
            .execute(&mut *conn)
            .await?;
        }
        let row: ImageRow = sqlx::query_as(concat!(
            "INSERT INTO product_images (product_type, product_id, file_name, thumbnail_name, \
             content_type, size_bytes, is_primary, sort_order, alt_text, uploaded_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING ",
            image_columns!()
        ))
        .bind(new.kind.as_str())
        .bind(new.product_id)
        .bind(&new.file_name)
        .bind(new.thumbnail_name.as_deref())
        .bind(&new.content_type)
        .bind(new.size_bytes)
        .bind(primary)
        .bind(order)
        .bind(&new.alt_text)
        .bind(at)
        .fetch_one(&mut *conn)
        .await?;
        Inserted::Row(row)
    });
    Ok(outcome)
}

/// What a PATCH may change (`None`: keep).
#[derive(Debug, Clone, Default)]
pub struct ImageChanges {
    pub alt_text: Option<String>,
    pub order: Option<i32>,
    pub is_primary: Option<bool>,
}

/// Applies the changes; `is_primary: true` demotes the product's other images. `None`: no such image.
pub async fn update(
    tx: &mut Tx,
    id: i64,
    changes: &ImageChanges,
) -> Result<Option<ImageRow>, sqlx::Error> {
    let Some(current) = get_in(tx, id).await? else {
        return Ok(None);
    };
    let kind = kind_of(&current);
    let lock = lock_product_sql(tx, kind);
    let row = tx_run!(tx, |conn| {
        let _: Option<i64> = sqlx::query_scalar(lock)
            .bind(current.product_id)
            .fetch_optional(&mut *conn)
            .await?;
        if changes.is_primary == Some(true) {
            sqlx::query(
                "UPDATE product_images SET is_primary = FALSE \
                 WHERE product_type = $1 AND product_id = $2 AND id <> $3 AND is_primary = TRUE",
            )
            .bind(kind.as_str())
            .bind(current.product_id)
            .bind(id)
            .execute(&mut *conn)
            .await?;
        }
        let row: Option<ImageRow> = sqlx::query_as(concat!(
            "UPDATE product_images SET alt_text = COALESCE($2, alt_text), \
             sort_order = COALESCE($3, sort_order), is_primary = COALESCE($4, is_primary) \
             WHERE id = $1 RETURNING ",
            image_columns!()
        ))
        .bind(id)
        .bind(changes.alt_text.as_deref())
        .bind(changes.order)
        .bind(changes.is_primary)
        .fetch_optional(&mut *conn)
        .await?;
        row
    });
    Ok(row)
}

/// Deletes the image; when it was the primary, the remaining image with the lowest `order` (then the
/// newest) becomes primary. Returns the deleted row (its files are the caller's to remove).
pub async fn delete(tx: &mut Tx, id: i64) -> Result<Option<ImageRow>, sqlx::Error> {
    let Some(current) = get_in(tx, id).await? else {
        return Ok(None);
    };
    let kind = kind_of(&current);
    let lock = lock_product_sql(tx, kind);
    let deleted = tx_run!(tx, |conn| {
        let _: Option<i64> = sqlx::query_scalar(lock)
            .bind(current.product_id)
            .fetch_optional(&mut *conn)
            .await?;
        let row: Option<ImageRow> = sqlx::query_as(concat!(
            "DELETE FROM product_images WHERE id = $1 RETURNING ",
            image_columns!()
        ))
        .bind(id)
        .fetch_optional(&mut *conn)
        .await?;
        if let Some(row) = &row
            && row.is_primary
        {
            sqlx::query(
                "UPDATE product_images SET is_primary = TRUE WHERE id = (\
                 SELECT id FROM product_images WHERE product_type = $1 AND product_id = $2 \
                 ORDER BY sort_order ASC, uploaded_at DESC, id DESC LIMIT 1)",
            )
            .bind(kind.as_str())
            .bind(row.product_id)
            .execute(&mut *conn)
            .await?;
        }
        row
    });
    Ok(deleted)
}

/// Sets `order` of each `(id, order)` in one transaction. The caller has checked that the ids exist.
///
/// Locks the images' products first, packages then campaigns, each by id, as the one-image writes
/// above lock theirs: every image change also rewrites its product's copy of the images (migration
/// 0010), so two reorders taking product rows image by image could deadlock.
pub async fn reorder(tx: &mut Tx, entries: &[(i64, i32)]) -> Result<u64, sqlx::Error> {
    const LOCK: [Dialect; 2] = [
        lock_products_of_images!("packages", "package"),
        lock_products_of_images!("campaigns", "campaign"),
    ];
    let ids: Vec<i64> = entries.iter().map(|(id, _)| *id).collect();
    for lock in LOCK {
        let sql = tx.sql(lock);
        tx_run!(tx, |conn| sqlx::query_scalar::<_, i64>(sql)
            .bind(IdList(&ids))
            .fetch_all(&mut *conn)
            .await)?;
    }
    set_sort_orders(
        tx,
        "UPDATE product_images SET sort_order = $2 WHERE id = $1",
        entries,
    )
    .await
}
