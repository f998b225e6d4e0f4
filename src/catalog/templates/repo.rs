//! Checklist template SQL (contract-A §4.1 ChecklistTemplateItem, §4.5): the steps an order of the
//! product goes through, copied into each order's checklist when it is assigned.

use time::OffsetDateTime;

use crate::{
    catalog::model::ProductType,
    db::{Db, Tx, now},
    db_read, db_write, tx_run,
};

/// One `checklist_template_items` row (`sort_order` is the contract's `order`).
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct TemplateRow {
    pub id: i64,
    pub product_type: String,
    pub product_id: i64,
    pub name: String,
    pub description: String,
    pub sort_order: i32,
    pub is_optional: bool,
    pub estimated_duration_minutes: Option<i32>,
    pub created_at: OffsetDateTime,
}

/// A validated create request; `sort_order: None` numbers the item after the product's last one.
#[derive(Debug, Clone)]
pub struct NewTemplate {
    pub name: String,
    pub description: String,
    pub sort_order: Option<i32>,
    pub is_optional: bool,
    pub estimated_duration_minutes: Option<i32>,
}

/// A validated update: `None` keeps the stored value (PUT omits optional keys, PATCH any key).
#[derive(Debug, Clone, Default)]
pub struct TemplateChanges {
    pub name: Option<String>,
    pub description: Option<String>,
    pub sort_order: Option<i32>,
    pub is_optional: Option<bool>,
    /// `Some(None)` clears the estimate.
    pub estimated_duration_minutes: Option<Option<i32>>,
}

macro_rules! columns {
    () => {
        "id, product_type, product_id, name, description, sort_order, is_optional, \
         estimated_duration_minutes, created_at"
    };
}

/// A product's items by `order` (then creation), read inside the caller's transaction.
pub async fn list_for_in(
    tx: &mut Tx,
    kind: ProductType,
    product_id: i64,
) -> Result<Vec<TemplateRow>, sqlx::Error> {
    let sql = concat!(
        "SELECT ",
        columns!(),
        " FROM checklist_template_items WHERE product_type = $1 AND product_id = $2 \
         ORDER BY sort_order ASC, id ASC"
    );
    tx_run!(tx, |conn| sqlx::query_as::<_, TemplateRow>(sql)
        .bind(kind.as_str())
        .bind(product_id)
        .fetch_all(&mut *conn)
        .await)
}

/// A product's items by `order` (then creation).
pub async fn list_for(
    db: &Db,
    kind: ProductType,
    product_id: i64,
) -> Result<Vec<TemplateRow>, sqlx::Error> {
    let sql = concat!(
        "SELECT ",
        columns!(),
        " FROM checklist_template_items WHERE product_type = $1 AND product_id = $2 \
         ORDER BY sort_order ASC, id ASC"
    );
    db_read!(db, |pool| sqlx::query_as::<_, TemplateRow>(sql)
        .bind(kind.as_str())
        .bind(product_id)
        .fetch_all(pool)
        .await)
}

pub async fn get(db: &Db, id: i64) -> Result<Option<TemplateRow>, sqlx::Error> {
    let sql = concat!(
        "SELECT ",
        columns!(),
        " FROM checklist_template_items WHERE id = $1"
    );
    db_read!(db, |pool| sqlx::query_as::<_, TemplateRow>(sql)
        .bind(id)
        .fetch_optional(pool)
        .await)
}

/// Inserts an item. Without an explicit order it gets (the product's highest order, or 0) + 1, computed
/// in the same statement.
pub async fn create(
    db: &Db,
    kind: ProductType,
    product_id: i64,
    input: &NewTemplate,
) -> Result<TemplateRow, sqlx::Error> {
    let sql = concat!(
        "INSERT INTO checklist_template_items (product_type, product_id, name, description, sort_order, \
         is_optional, estimated_duration_minutes, created_at) \
         SELECT $1, $2, $3, $4, COALESCE($5, (SELECT COALESCE(MAX(sort_order), 0) + 1 \
         FROM checklist_template_items WHERE product_type = $1 AND product_id = $2)), $6, $7, $8 \
         RETURNING ",
        columns!()
    );
    db_write!(db, |pool| sqlx::query_as::<_, TemplateRow>(sql)
        .bind(kind.as_str())
        .bind(product_id)
        .bind(&input.name)
        .bind(&input.description)
        .bind(input.sort_order)
        .bind(input.is_optional)
        .bind(input.estimated_duration_minutes)
        .bind(now())
        .fetch_one(pool)
        .await)
}

/// Applies `changes` in one statement. `None`: no such item.
pub async fn update(
    db: &Db,
    id: i64,
    changes: &TemplateChanges,
) -> Result<Option<TemplateRow>, sqlx::Error> {
    let sql = concat!(
        "UPDATE checklist_template_items SET name = COALESCE($2, name), \
         description = COALESCE($3, description), sort_order = COALESCE($4, sort_order), \
         is_optional = COALESCE($5, is_optional), \
         estimated_duration_minutes = CASE WHEN $6 THEN $7 ELSE estimated_duration_minutes END \
         WHERE id = $1 RETURNING ",
        columns!()
    );
    db_write!(db, |pool| sqlx::query_as::<_, TemplateRow>(sql)
        .bind(id)
        .bind(changes.name.as_deref())
        .bind(changes.description.as_deref())
        .bind(changes.sort_order)
        .bind(changes.is_optional)
        .bind(changes.estimated_duration_minutes.is_some())
        .bind(changes.estimated_duration_minutes.flatten())
        .fetch_optional(pool)
        .await)
}

pub use crate::db::Deleted;

/// Deletes a template item unless an order checklist references it (the foreign key refuses).
pub async fn delete(db: &Db, id: i64) -> Result<Deleted, sqlx::Error> {
    crate::db::delete_referenced(db, "DELETE FROM checklist_template_items WHERE id = $1", id).await
}

/// Reorders items in one transaction. Every id must exist and appear once, else nothing changes and
/// the answer is `None`. Entries with `order: None` are left as they are. Returns the listed items.
pub async fn reorder(
    tx: &mut Tx,
    entries: &[(i64, Option<i32>)],
) -> Result<Option<Vec<TemplateRow>>, sqlx::Error> {
    let mut unique: Vec<i64> = entries.iter().map(|(id, _)| *id).collect();
    unique.sort_unstable();
    unique.dedup();
    if unique.len() != entries.len() {
        return Ok(None);
    }
    let select = concat!(
        "SELECT ",
        columns!(),
        " FROM checklist_template_items WHERE id = $1"
    );
    let update = concat!(
        "UPDATE checklist_template_items SET sort_order = $2 WHERE id = $1 RETURNING ",
        columns!()
    );
    let rows = tx_run!(tx, |conn| {
        let mut found = Vec::with_capacity(entries.len());
        for id in &unique {
            let row: Option<TemplateRow> = sqlx::query_as(select)
                .bind(id)
                .fetch_optional(&mut *conn)
                .await?;
            match row {
                Some(row) => found.push(row),
                None => break,
            }
        }
        if found.len() == entries.len() {
            let mut rows = Vec::with_capacity(entries.len());
            for (id, order) in entries {
                let row: Option<TemplateRow> = match order {
                    Some(order) => {
                        sqlx::query_as(update)
                            .bind(id)
                            .bind(order)
                            .fetch_optional(&mut *conn)
                            .await?
                    }
                    None => found.iter().find(|r| r.id == *id).cloned(),
                };
                rows.extend(row);
            }
            Some(rows)
        } else {
            None
        }
    });
    Ok(rows.map(|mut rows| {
        rows.sort_by_key(|r| (r.sort_order, r.id));
        rows
    }))
}
