//! Resource-field definitions SQL (contract-A §4.1 ResourceFieldDefinition, §4.7): the per-product upload
//! form a customer fills in after payment. The uploads feature reads the same rows.

use serde_json::{Value, json};
use sqlx::types::Json;
use time::OffsetDateTime;

use crate::{
    catalog::model::ProductType,
    db::{Db, Tx, now},
    db_read, db_write,
};

/// One `resource_field_definitions` row (`sort_order` is the contract's `order`).
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct FieldRow {
    pub id: i64,
    pub product_type: String,
    pub product_id: i64,
    pub field_name: String,
    pub field_type: String,
    pub is_required: bool,
    pub sort_order: i32,
    pub help_text: String,
    pub max_file_size_mb: Option<i32>,
    pub max_length: Option<i32>,
    pub min_value: Option<i32>,
    pub max_value: Option<i32>,
    /// Stored as sent (a list of strings, with or without leading dots).
    pub allowed_extensions: Json<Value>,
    pub created_at: OffsetDateTime,
}

impl FieldRow {
    /// The configured extensions as strings (non-string entries are ignored).
    pub fn extensions(&self) -> Vec<String> {
        self.allowed_extensions
            .0
            .as_array()
            .map(|list| {
                list.iter()
                    .filter_map(|v| v.as_str().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default()
    }
}

/// The writable columns of a definition (create, or a full update).
#[derive(Debug, Clone, PartialEq)]
pub struct FieldInput {
    pub field_name: String,
    pub field_type: String,
    pub is_required: bool,
    pub sort_order: i32,
    pub help_text: String,
    pub max_file_size_mb: Option<i32>,
    pub max_length: Option<i32>,
    pub min_value: Option<i32>,
    pub max_value: Option<i32>,
    pub allowed_extensions: Vec<String>,
}

/// A write refused by the (product, field name) uniqueness rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DuplicateName;

macro_rules! columns {
    () => {
        "id, product_type, product_id, field_name, field_type, is_required, sort_order, help_text, \
         max_file_size_mb, max_length, min_value, max_value, allowed_extensions, created_at"
    };
}

macro_rules! select_fields {
    ($suffix:expr) => {
        concat!(
            "SELECT ",
            columns!(),
            " FROM resource_field_definitions ",
            $suffix
        )
    };
}

fn is_unique_violation(error: &sqlx::Error) -> bool {
    matches!(error, sqlx::Error::Database(e) if e.is_unique_violation())
}

/// A product's definitions by `order` (then creation).
pub async fn list_for(
    db: &Db,
    kind: ProductType,
    product_id: i64,
) -> Result<Vec<FieldRow>, sqlx::Error> {
    let sql = select_fields!(
        "WHERE product_type = $1 AND product_id = $2 ORDER BY sort_order ASC, id ASC"
    );
    db_read!(db, |pool| sqlx::query_as::<_, FieldRow>(sql)
        .bind(kind.as_str())
        .bind(product_id)
        .fetch_all(pool)
        .await)
}

pub async fn get(db: &Db, id: i64) -> Result<Option<FieldRow>, sqlx::Error> {
    let sql = select_fields!("WHERE id = $1");
    db_read!(db, |pool| sqlx::query_as::<_, FieldRow>(sql)
        .bind(id)
        .fetch_optional(pool)
        .await)
}

/// Whether another definition of the product already uses `name` (exact, case-sensitive).
pub async fn name_taken(
    db: &Db,
    kind: ProductType,
    product_id: i64,
    name: &str,
    except: Option<i64>,
) -> Result<bool, sqlx::Error> {
    let n: i64 = db_read!(db, |pool| sqlx::query_scalar(
        "SELECT COUNT(*) FROM resource_field_definitions \
         WHERE product_type = $1 AND product_id = $2 AND field_name = $3 AND id <> $4"
    )
    .bind(kind.as_str())
    .bind(product_id)
    .bind(name)
    .bind(except.unwrap_or(0))
    .fetch_one(pool)
    .await)?;
    Ok(n > 0)
}

/// Inserts a definition; a name clash (even a concurrent one) is `Ok(Err(DuplicateName))`.
pub async fn create(
    db: &Db,
    kind: ProductType,
    product_id: i64,
    input: &FieldInput,
) -> Result<Result<FieldRow, DuplicateName>, sqlx::Error> {
    let sql = concat!(
        "INSERT INTO resource_field_definitions (product_type, product_id, field_name, field_type, \
         is_required, sort_order, help_text, max_file_size_mb, max_length, min_value, max_value, \
         allowed_extensions, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13) \
         RETURNING ",
        columns!()
    );
    let extensions = json!(input.allowed_extensions);
    let result = db_write!(db, |pool| sqlx::query_as::<_, FieldRow>(sql)
        .bind(kind.as_str())
        .bind(product_id)
        .bind(&input.field_name)
        .bind(&input.field_type)
        .bind(input.is_required)
        .bind(input.sort_order)
        .bind(&input.help_text)
        .bind(input.max_file_size_mb)
        .bind(input.max_length)
        .bind(input.min_value)
        .bind(input.max_value)
        .bind(Json(&extensions))
        .bind(now())
        .fetch_one(pool)
        .await);
    match result {
        Ok(row) => Ok(Ok(row)),
        Err(e) if is_unique_violation(&e) => Ok(Err(DuplicateName)),
        Err(e) => Err(e),
    }
}

/// Writes every column of `input` (the product cannot change). `Ok(None)`: no such definition.
pub async fn update(
    db: &Db,
    id: i64,
    input: &FieldInput,
) -> Result<Result<Option<FieldRow>, DuplicateName>, sqlx::Error> {
    let sql = concat!(
        "UPDATE resource_field_definitions SET field_name = $2, field_type = $3, is_required = $4, \
         sort_order = $5, help_text = $6, max_file_size_mb = $7, max_length = $8, min_value = $9, \
         max_value = $10, allowed_extensions = $11 WHERE id = $1 RETURNING ",
        columns!()
    );
    let extensions = json!(input.allowed_extensions);
    let result = db_write!(db, |pool| sqlx::query_as::<_, FieldRow>(sql)
        .bind(id)
        .bind(&input.field_name)
        .bind(&input.field_type)
        .bind(input.is_required)
        .bind(input.sort_order)
        .bind(&input.help_text)
        .bind(input.max_file_size_mb)
        .bind(input.max_length)
        .bind(input.min_value)
        .bind(input.max_value)
        .bind(Json(&extensions))
        .fetch_optional(pool)
        .await);
    match result {
        Ok(row) => Ok(Ok(row)),
        Err(e) if is_unique_violation(&e) => Ok(Err(DuplicateName)),
        Err(e) => Err(e),
    }
}

pub use crate::db::Deleted;

/// Deletes a definition unless something references it (the foreign key refuses).
pub async fn delete(db: &Db, id: i64) -> Result<Deleted, sqlx::Error> {
    crate::db::delete_referenced(
        db,
        "DELETE FROM resource_field_definitions WHERE id = $1",
        id,
    )
    .await
}

/// Sets `order` for each `(id, order)` pair in one transaction; unknown ids are skipped (as the
/// original). Returns how many rows changed.
pub async fn reorder(tx: &mut Tx, orders: &[(i64, i32)]) -> Result<u64, sqlx::Error> {
    crate::db::set_sort_orders(
        tx,
        "UPDATE resource_field_definitions SET sort_order = $2 WHERE id = $1",
        orders,
    )
    .await
}
