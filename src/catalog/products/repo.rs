//! Catalog SQL: packages, campaigns, items, audit logs, and the image rows the read shapes embed.

use serde_json::{Value, json};
use sqlx::types::Json;

use crate::{
    catalog::model::{AuditRow, ImageRow, ItemRow, ProductInput, ProductRow, ProductType},
    db::{Db, Dialect, IdList, Tx, now},
    db_read, sql_in_ids, tx_run,
};

macro_rules! product_select {
    (package) => {
        "SELECT p.id, p.name, p.price_paise, NULL AS unit, p.description, p.features, p.deliverables, \
         p.is_active, p.is_popular, p.popular_order, p.created_by, u.first_name AS creator_first_name, \
         u.last_name AS creator_last_name, p.created_at, p.updated_at \
         FROM packages p LEFT JOIN users u ON u.id = p.created_by "
    };
    (campaign) => {
        "SELECT p.id, p.name, p.price_paise, p.unit, p.description, p.features, p.deliverables, \
         p.is_active, p.is_popular, p.popular_order, p.created_by, u.first_name AS creator_first_name, \
         u.last_name AS creator_last_name, p.created_at, p.updated_at \
         FROM campaigns p LEFT JOIN users u ON u.id = p.created_by "
    };
}

/// One SQL text per product type, chosen at run time.
macro_rules! per_type {
    ($kind:expr, $suffix:expr) => {
        match $kind {
            ProductType::Package => concat!(product_select!(package), $suffix),
            ProductType::Campaign => concat!(product_select!(campaign), $suffix),
        }
    };
}

/// Active products, the public list order (popular_order, then newest).
pub async fn list_active(
    db: &Db,
    kind: ProductType,
    limit: i64,
    offset: i64,
) -> Result<Vec<ProductRow>, sqlx::Error> {
    let sql = per_type!(
        kind,
        "WHERE p.is_active = TRUE ORDER BY p.popular_order ASC, p.created_at DESC, p.id DESC LIMIT $1 OFFSET $2"
    );
    db_read!(db, |pool| sqlx::query_as::<_, ProductRow>(sql)
        .bind(limit)
        .bind(offset)
        .fetch_all(pool)
        .await)
}

pub async fn count_active(db: &Db, kind: ProductType) -> Result<i64, sqlx::Error> {
    let sql = match kind {
        ProductType::Package => "SELECT COUNT(*) FROM packages WHERE is_active = TRUE",
        ProductType::Campaign => "SELECT COUNT(*) FROM campaigns WHERE is_active = TRUE",
    };
    db_read!(db, |pool| sqlx::query_scalar::<_, i64>(sql)
        .fetch_one(pool)
        .await)
}

/// Active popular products, at most three.
pub async fn popular_active(db: &Db, kind: ProductType) -> Result<Vec<ProductRow>, sqlx::Error> {
    let sql = per_type!(
        kind,
        "WHERE p.is_active = TRUE AND p.is_popular = TRUE ORDER BY p.popular_order ASC, p.created_at DESC, p.id DESC LIMIT 3"
    );
    db_read!(db, |pool| sqlx::query_as::<_, ProductRow>(sql)
        .fetch_all(pool)
        .await)
}

/// Every popular product (active or not), in popular order.
pub async fn popular_all(db: &Db, kind: ProductType) -> Result<Vec<ProductRow>, sqlx::Error> {
    let sql = per_type!(
        kind,
        "WHERE p.is_popular = TRUE ORDER BY p.popular_order ASC, p.created_at DESC, p.id DESC"
    );
    db_read!(db, |pool| sqlx::query_as::<_, ProductRow>(sql)
        .fetch_all(pool)
        .await)
}

pub async fn get(db: &Db, kind: ProductType, id: i64) -> Result<Option<ProductRow>, sqlx::Error> {
    let sql = per_type!(kind, "WHERE p.id = $1");
    db_read!(db, |pool| sqlx::query_as::<_, ProductRow>(sql)
        .bind(id)
        .fetch_optional(pool)
        .await)
}

/// The select of a type's products by a list of ids.
fn many_sql(kind: ProductType) -> Dialect {
    const PACKAGES: Dialect =
        sql_in_ids!(concat!(product_select!(package), "WHERE p.id"), "$1", "");
    const CAMPAIGNS: Dialect =
        sql_in_ids!(concat!(product_select!(campaign), "WHERE p.id"), "$1", "");
    match kind {
        ProductType::Package => PACKAGES,
        ProductType::Campaign => CAMPAIGNS,
    }
}

/// Products of a type by id (active or not), in no particular order; missing ids are absent.
pub async fn get_many(
    db: &Db,
    kind: ProductType,
    ids: &[i64],
) -> Result<Vec<ProductRow>, sqlx::Error> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    db_read!(db, |pool| sqlx::query_as::<_, ProductRow>(
        db.sql(many_sql(kind))
    )
    .bind(IdList(ids))
    .fetch_all(pool)
    .await)
}

/// [`get_many`] inside a transaction (a flow that must not take a second connection while it
/// holds one: the pool could run dry with every connection waiting on the same lock).
pub async fn get_many_in(
    tx: &mut Tx,
    kind: ProductType,
    ids: &[i64],
) -> Result<Vec<ProductRow>, sqlx::Error> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let sql = tx.sql(many_sql(kind));
    crate::tx_run!(tx, |conn| sqlx::query_as::<_, ProductRow>(sql)
        .bind(IdList(ids))
        .fetch_all(&mut *conn)
        .await)
}

pub async fn exists(db: &Db, kind: ProductType, id: i64) -> Result<bool, sqlx::Error> {
    let sql = match kind {
        ProductType::Package => "SELECT COUNT(*) FROM packages WHERE id = $1",
        ProductType::Campaign => "SELECT COUNT(*) FROM campaigns WHERE id = $1",
    };
    let n = db_read!(db, |pool| sqlx::query_scalar::<_, i64>(sql)
        .bind(id)
        .fetch_one(pool)
        .await)?;
    Ok(n > 0)
}

/// All products of a type (active or not), newest first, optionally filtered by a name substring.
pub async fn list_all(
    db: &Db,
    kind: ProductType,
    search: Option<&str>,
) -> Result<Vec<ProductRow>, sqlx::Error> {
    let sql = per_type!(
        kind,
        "WHERE ($1 IS NULL OR LOWER(p.name) LIKE $1 ESCAPE '\\') ORDER BY p.created_at DESC, p.id DESC"
    );
    let pattern = search.map(like_pattern);
    db_read!(db, |pool| sqlx::query_as::<_, ProductRow>(sql)
        .bind(pattern.as_deref())
        .fetch_all(pool)
        .await)
}

pub use crate::db::like_pattern;

/// Items of the given packages, in insertion order.
pub async fn items_for(db: &Db, package_ids: &[i64]) -> Result<Vec<ItemRow>, sqlx::Error> {
    if package_ids.is_empty() {
        return Ok(Vec::new());
    }
    const ITEMS: Dialect = sql_in_ids!(
        "SELECT id, package_id, name, quantity FROM package_items WHERE package_id",
        "$1",
        " ORDER BY id"
    );
    db_read!(db, |pool| sqlx::query_as::<_, ItemRow>(db.sql(ITEMS))
        .bind(IdList(package_ids))
        .fetch_all(pool)
        .await)
}

/// Images of the given products: per product, primary first, then by order, then newest.
pub async fn images_for(
    db: &Db,
    kind: ProductType,
    product_ids: &[i64],
) -> Result<Vec<ImageRow>, sqlx::Error> {
    if product_ids.is_empty() {
        return Ok(Vec::new());
    }
    const IMAGES: Dialect = sql_in_ids!(
        "SELECT id, product_type, product_id, file_name, thumbnail_name, content_type, \
         size_bytes, is_primary, sort_order, alt_text, uploaded_at FROM product_images \
         WHERE product_type = $1 AND product_id",
        "$2",
        " ORDER BY product_id, is_primary DESC, sort_order ASC, uploaded_at DESC, id DESC"
    );
    db_read!(db, |pool| sqlx::query_as::<_, ImageRow>(db.sql(IMAGES))
        .bind(kind.as_str())
        .bind(IdList(product_ids))
        .fetch_all(pool)
        .await)
}

/// Exact, case-sensitive name match among products of the type (excluding `except`).
pub async fn name_taken(
    db: &Db,
    kind: ProductType,
    name: &str,
    except: Option<i64>,
) -> Result<bool, sqlx::Error> {
    let sql = match kind {
        ProductType::Package => {
            "SELECT COUNT(*) FROM packages WHERE name = $1 AND ($2 IS NULL OR id <> $2)"
        }
        ProductType::Campaign => {
            "SELECT COUNT(*) FROM campaigns WHERE name = $1 AND ($2 IS NULL OR id <> $2)"
        }
    };
    let n = db_read!(db, |pool| sqlx::query_scalar::<_, i64>(sql)
        .bind(name)
        .bind(except)
        .fetch_one(pool)
        .await)?;
    Ok(n > 0)
}

const INSERT_AUDIT: &str = "INSERT INTO product_audit_logs (product_type, product_id, action, user_id, changes, created_at) \
     VALUES ($1, $2, $3, $4, $5, $6)";
const INSERT_ITEM: &str =
    "INSERT INTO package_items (package_id, name, quantity) VALUES ($1, $2, $3)";

/// Creates a product with its items and a `create` audit entry, in one transaction. Returns the id.
pub async fn create(
    tx: &mut Tx,
    kind: ProductType,
    input: &ProductInput,
    user_id: i64,
) -> Result<i64, sqlx::Error> {
    let at = now();
    let features = input.features.clone().unwrap_or_else(|| json!([]));
    let deliverables = input.deliverables.clone().unwrap_or_else(|| json!([]));
    let changes =
        json!({"name": input.name, "price": crate::money::format_paise(input.price_paise)});
    let id = tx_run!(tx, |conn| {
        let id: i64 = match kind {
            ProductType::Package => {
                sqlx::query_scalar(
                    "INSERT INTO packages (name, price_paise, description, features, deliverables, is_active, \
                     is_popular, popular_order, created_by, created_at, updated_at) \
                     VALUES ($1, $2, $3, $4, $5, $6, FALSE, 0, $7, $8, $8) RETURNING id",
                )
                .bind(&input.name)
                .bind(input.price_paise)
                .bind(&input.description)
                .bind(Json(&features))
                .bind(Json(&deliverables))
                .bind(input.is_active.unwrap_or(true))
                .bind(user_id)
                .bind(at)
                .fetch_one(&mut *conn)
                .await?
            }
            ProductType::Campaign => {
                sqlx::query_scalar(
                    "INSERT INTO campaigns (name, price_paise, unit, description, features, deliverables, \
                     is_active, is_popular, popular_order, created_by, created_at, updated_at) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, FALSE, 0, $8, $9, $9) RETURNING id",
                )
                .bind(&input.name)
                .bind(input.price_paise)
                .bind(input.unit.as_deref().unwrap_or(""))
                .bind(&input.description)
                .bind(Json(&features))
                .bind(Json(&deliverables))
                .bind(input.is_active.unwrap_or(true))
                .bind(user_id)
                .bind(at)
                .fetch_one(&mut *conn)
                .await?
            }
        };
        if kind == ProductType::Package {
            for (name, quantity) in input.items.iter().flatten() {
                sqlx::query(INSERT_ITEM)
                    .bind(id)
                    .bind(name)
                    .bind(quantity)
                    .execute(&mut *conn)
                    .await?;
            }
        }
        sqlx::query(INSERT_AUDIT)
            .bind(kind.as_str())
            .bind(id)
            .bind("create")
            .bind(user_id)
            .bind(Json(&changes))
            .bind(at)
            .execute(&mut *conn)
            .await?;
        id
    });
    Ok(id)
}

/// A full update: required fields replaced, omitted optional ones kept; `items` (when given) replace
/// every item. Writes an `update` audit entry with `changes`.
pub async fn update(
    tx: &mut Tx,
    kind: ProductType,
    id: i64,
    input: &ProductInput,
    user_id: i64,
    changes: &Value,
) -> Result<bool, sqlx::Error> {
    let at = now();
    let updated = tx_run!(tx, |conn| {
        let affected = match kind {
            ProductType::Package => sqlx::query(
                "UPDATE packages SET name = $2, price_paise = $3, description = $4, \
                 features = COALESCE($5, features), deliverables = COALESCE($6, deliverables), \
                 is_active = COALESCE($7, is_active), updated_at = $8 WHERE id = $1",
            )
            .bind(id)
            .bind(&input.name)
            .bind(input.price_paise)
            .bind(&input.description)
            .bind(input.features.as_ref().map(Json))
            .bind(input.deliverables.as_ref().map(Json))
            .bind(input.is_active)
            .bind(at)
            .execute(&mut *conn)
            .await?
            .rows_affected(),
            ProductType::Campaign => sqlx::query(
                "UPDATE campaigns SET name = $2, price_paise = $3, description = $4, unit = $5, \
                 features = COALESCE($6, features), deliverables = COALESCE($7, deliverables), \
                 is_active = COALESCE($8, is_active), updated_at = $9 WHERE id = $1",
            )
            .bind(id)
            .bind(&input.name)
            .bind(input.price_paise)
            .bind(&input.description)
            .bind(input.unit.as_deref().unwrap_or(""))
            .bind(input.features.as_ref().map(Json))
            .bind(input.deliverables.as_ref().map(Json))
            .bind(input.is_active)
            .bind(at)
            .execute(&mut *conn)
            .await?
            .rows_affected(),
        };
        if affected == 1 {
            if let (ProductType::Package, Some(items)) = (kind, &input.items) {
                sqlx::query("DELETE FROM package_items WHERE package_id = $1")
                    .bind(id)
                    .execute(&mut *conn)
                    .await?;
                for (name, quantity) in items {
                    sqlx::query(INSERT_ITEM)
                        .bind(id)
                        .bind(name)
                        .bind(quantity)
                        .execute(&mut *conn)
                        .await?;
                }
            }
            sqlx::query(INSERT_AUDIT)
                .bind(kind.as_str())
                .bind(id)
                .bind("update")
                .bind(user_id)
                .bind(Json(changes))
                .bind(at)
                .execute(&mut *conn)
                .await?;
        }
        affected == 1
    });
    Ok(updated)
}

/// Flips `is_active` with an `activate`/`deactivate` audit entry. Returns the new state.
pub async fn toggle_active(
    tx: &mut Tx,
    kind: ProductType,
    id: i64,
    user_id: i64,
) -> Result<Option<bool>, sqlx::Error> {
    let at = now();
    let sql = match kind {
        ProductType::Package => {
            "UPDATE packages SET is_active = NOT is_active, updated_at = $2 WHERE id = $1 RETURNING is_active"
        }
        ProductType::Campaign => {
            "UPDATE campaigns SET is_active = NOT is_active, updated_at = $2 WHERE id = $1 RETURNING is_active"
        }
    };
    let state = tx_run!(tx, |conn| {
        let now_active: Option<bool> = sqlx::query_scalar(sql)
            .bind(id)
            .bind(at)
            .fetch_optional(&mut *conn)
            .await?;
        if let Some(active) = now_active {
            sqlx::query(INSERT_AUDIT)
                .bind(kind.as_str())
                .bind(id)
                .bind(if active { "activate" } else { "deactivate" })
                .bind(user_id)
                .bind(Json(json!({"is_active": {"old": !active, "new": active}})))
                .bind(at)
                .execute(&mut *conn)
                .await?;
        }
        now_active
    });
    Ok(state)
}

/// Deletes a product and what hangs off it (items, images, resource fields, checklist templates),
/// after writing the `delete` audit entry. Returns the stored image files to remove.
pub async fn delete(
    tx: &mut Tx,
    kind: ProductType,
    id: i64,
    name: &str,
    user_id: i64,
) -> Result<Vec<String>, sqlx::Error> {
    let at = now();
    let delete_product = match kind {
        ProductType::Package => "DELETE FROM packages WHERE id = $1",
        ProductType::Campaign => "DELETE FROM campaigns WHERE id = $1",
    };
    let files = tx_run!(tx, |conn| {
        sqlx::query(INSERT_AUDIT)
            .bind(kind.as_str())
            .bind(id)
            .bind("delete")
            .bind(user_id)
            .bind(Json(json!({"name": name, "deleted_at": "Now()"})))
            .bind(at)
            .execute(&mut *conn)
            .await?;
        let files: Vec<(String, Option<String>)> = sqlx::query_as(
            "SELECT file_name, thumbnail_name FROM product_images WHERE product_type = $1 AND product_id = $2",
        )
        .bind(kind.as_str())
        .bind(id)
        .fetch_all(&mut *conn)
        .await?;
        for sql in [
            "DELETE FROM product_images WHERE product_type = $1 AND product_id = $2",
            "DELETE FROM resource_field_definitions WHERE product_type = $1 AND product_id = $2",
            "DELETE FROM checklist_template_items WHERE product_type = $1 AND product_id = $2",
        ] {
            sqlx::query(sql)
                .bind(kind.as_str())
                .bind(id)
                .execute(&mut *conn)
                .await?;
        }
        sqlx::query(delete_product)
            .bind(id)
            .execute(&mut *conn)
            .await?;
        files
    });
    Ok(files
        .into_iter()
        .flat_map(|(f, t)| std::iter::once(f).chain(t))
        .collect())
}

pub async fn audit_logs(db: &Db, kind: ProductType, id: i64) -> Result<Vec<AuditRow>, sqlx::Error> {
    db_read!(db, |pool| {
        sqlx::query_as::<_, AuditRow>(
        "SELECT a.id, a.product_type, a.product_id, a.action, a.user_id, u.first_name AS user_first_name, \
         u.last_name AS user_last_name, a.changes, a.created_at FROM product_audit_logs a \
         LEFT JOIN users u ON u.id = a.user_id \
         WHERE a.product_type = $1 AND a.product_id = $2 ORDER BY a.created_at DESC, a.id DESC",
    )
    .bind(kind.as_str())
    .bind(id)
    .fetch_all(pool)
    .await
    })
}

/// Marks a product popular at the end of the popular order (used by seeding; the admin's toggle
/// enforces the limit of three).
pub async fn mark_popular(db: &Db, kind: ProductType, id: i64) -> Result<(), sqlx::Error> {
    let sql = match kind {
        ProductType::Package => {
            "UPDATE packages SET is_popular = TRUE, popular_order = \
             (SELECT COALESCE(MAX(popular_order), 0) + 1 FROM packages WHERE is_popular = TRUE) WHERE id = $1"
        }
        ProductType::Campaign => {
            "UPDATE campaigns SET is_popular = TRUE, popular_order = \
             (SELECT COALESCE(MAX(popular_order), 0) + 1 FROM campaigns WHERE is_popular = TRUE) WHERE id = $1"
        }
    };
    crate::db_write!(db, |pool| sqlx::query(sql)
        .bind(id)
        .execute(pool)
        .await
        .map(|_| ()))
}

pub use crate::db::Deleted;
