//! Checklist SQL: one checklist per order, its items in `order_index` order.

use time::OffsetDateTime;

use crate::{
    db::{Db, Tx, now},
    db_read, tx_run,
};

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ItemRow {
    pub id: i64,
    pub checklist_id: i64,
    pub template_item: Option<i64>,
    pub description: String,
    pub completed: bool,
    pub completed_at: Option<OffsetDateTime>,
    pub completed_by: Option<i64>,
    pub order_index: i32,
    pub is_optional: bool,
}

macro_rules! item_select {
    () => {
        "SELECT id, checklist_id, template_item, description, completed, completed_at, \
         completed_by, order_index, is_optional FROM checklist_items "
    };
}

/// The order's checklist id, if it has one.
pub async fn checklist_of(db: &Db, order_id: i64) -> Result<Option<i64>, sqlx::Error> {
    db_read!(db, |pool| sqlx::query_scalar::<_, i64>(
        "SELECT id FROM order_checklists WHERE order_id = $1"
    )
    .bind(order_id)
    .fetch_optional(pool)
    .await)
}

pub async fn checklist_in(tx: &mut Tx, order_id: i64) -> Result<Option<i64>, sqlx::Error> {
    tx_run!(tx, |conn| sqlx::query_scalar::<_, i64>(
        "SELECT id FROM order_checklists WHERE order_id = $1"
    )
    .bind(order_id)
    .fetch_optional(&mut *conn)
    .await)
}

/// Creates the order's (empty) checklist, or returns the one it has.
pub async fn ensure_checklist(tx: &mut Tx, order_id: i64) -> Result<i64, sqlx::Error> {
    tx_run!(tx, |conn| sqlx::query(
        "INSERT INTO order_checklists (order_id, created_at) VALUES ($1, $2) \
         ON CONFLICT (order_id) DO NOTHING"
    )
    .bind(order_id)
    .bind(now())
    .execute(&mut *conn)
    .await
    .map(|_| ()))?;
    tx_run!(tx, |conn| sqlx::query_scalar::<_, i64>(
        "SELECT id FROM order_checklists WHERE order_id = $1"
    )
    .bind(order_id)
    .fetch_one(&mut *conn)
    .await)
}

pub async fn items(db: &Db, checklist_id: i64) -> Result<Vec<ItemRow>, sqlx::Error> {
    const SQL: &str = concat!(
        item_select!(),
        "WHERE checklist_id = $1 ORDER BY order_index, id"
    );
    db_read!(db, |pool| sqlx::query_as::<_, ItemRow>(SQL)
        .bind(checklist_id)
        .fetch_all(pool)
        .await)
}

pub async fn items_in(tx: &mut Tx, checklist_id: i64) -> Result<Vec<ItemRow>, sqlx::Error> {
    const SQL: &str = concat!(
        item_select!(),
        "WHERE checklist_id = $1 ORDER BY order_index, id"
    );
    tx_run!(tx, |conn| sqlx::query_as::<_, ItemRow>(SQL)
        .bind(checklist_id)
        .fetch_all(&mut *conn)
        .await)
}

/// A step to add to a checklist.
#[derive(Debug, Clone)]
pub struct NewItem {
    pub template_item: Option<i64>,
    pub description: String,
    pub order_index: i32,
    pub is_optional: bool,
}

pub async fn insert_items(
    tx: &mut Tx,
    checklist_id: i64,
    items: &[NewItem],
) -> Result<(), sqlx::Error> {
    for item in items {
        tx_run!(tx, |conn| sqlx::query(
            "INSERT INTO checklist_items (checklist_id, template_item, description, completed, \
             order_index, is_optional) VALUES ($1, $2, $3, FALSE, $4, $5)"
        )
        .bind(checklist_id)
        .bind(item.template_item)
        .bind(&item.description)
        .bind(item.order_index)
        .bind(item.is_optional)
        .execute(&mut *conn)
        .await
        .map(|_| ()))?;
    }
    Ok(())
}

/// A checklist item with the order it belongs to.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ItemWithOrder {
    #[sqlx(flatten)]
    pub item: ItemRow,
    pub order_id: i64,
}

pub async fn item_with_order(db: &Db, id: i64) -> Result<Option<ItemWithOrder>, sqlx::Error> {
    db_read!(db, |pool| sqlx::query_as::<_, ItemWithOrder>(
        "SELECT i.id, i.checklist_id, i.template_item, i.description, i.completed, \
         i.completed_at, i.completed_by, i.order_index, i.is_optional, c.order_id \
         FROM checklist_items i JOIN order_checklists c ON c.id = i.checklist_id WHERE i.id = $1"
    )
    .bind(id)
    .fetch_optional(pool)
    .await)
}

/// Ticks or unticks an item: ticking stamps when and by whom, unticking clears both.
pub async fn set_completed(
    tx: &mut Tx,
    id: i64,
    completed: bool,
    by: i64,
) -> Result<(), sqlx::Error> {
    let (at, who) = if completed {
        (Some(now()), Some(by))
    } else {
        (None, None)
    };
    tx_run!(tx, |conn| sqlx::query(
        "UPDATE checklist_items SET completed = $1, completed_at = $2, completed_by = $3 \
         WHERE id = $4"
    )
    .bind(completed)
    .bind(at)
    .bind(who)
    .bind(id)
    .execute(&mut *conn)
    .await
    .map(|_| ()))
}
