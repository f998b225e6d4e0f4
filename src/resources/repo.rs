//! Resource SQL: legacy form rows and dynamic submissions (upserted per item and field).

use crate::{
    db::{Db, Dialect, IdList, Tx, now},
    db_read,
    resources::model::{ResourceRow, SubmissionRow},
    sql_in_ids, tx_run,
};

macro_rules! submission_columns {
    () => {
        "SELECT id, order_item_id, field_id, text_value, number_value, file_value, uploaded_at \
         FROM resource_submissions"
    };
}

macro_rules! resource_columns {
    () => {
        "SELECT id, order_item_id, candidate_photo, party_logo, campaign_slogan, preferred_date, \
         whatsapp_number, additional_notes, uploaded_at FROM order_resources"
    };
}

/// The submissions of these order items.
pub async fn submissions_of(db: &Db, item_ids: &[i64]) -> Result<Vec<SubmissionRow>, sqlx::Error> {
    const SQL: Dialect = sql_in_ids!(
        concat!(submission_columns!(), " WHERE order_item_id"),
        "$1",
        " ORDER BY id"
    );
    if item_ids.is_empty() {
        return Ok(Vec::new());
    }
    let sql = db.sql(SQL);
    db_read!(db, |pool| sqlx::query_as::<_, SubmissionRow>(sql)
        .bind(IdList(item_ids))
        .fetch_all(pool)
        .await)
}

pub async fn submission(db: &Db, id: i64) -> Result<Option<SubmissionRow>, sqlx::Error> {
    const SQL: &str = concat!(submission_columns!(), " WHERE id = $1");
    db_read!(db, |pool| sqlx::query_as::<_, SubmissionRow>(SQL)
        .bind(id)
        .fetch_optional(pool)
        .await)
}

/// The file a submission holds now, inside the transaction (to remove it once replaced).
pub async fn file_of(
    tx: &mut Tx,
    item_id: i64,
    field_id: i64,
) -> Result<Option<String>, sqlx::Error> {
    tx_run!(tx, |conn| sqlx::query_scalar::<_, Option<String>>(
        "SELECT file_value FROM resource_submissions WHERE order_item_id = $1 AND field_id = $2"
    )
    .bind(item_id)
    .bind(field_id)
    .fetch_optional(&mut *conn)
    .await
    .map(Option::flatten))
}

/// Sets the (item, field) submission to exactly these values (a later submission replaces the
/// earlier one; its first `uploaded_at` stays).
pub async fn upsert(
    tx: &mut Tx,
    item_id: i64,
    field_id: i64,
    text: Option<&str>,
    number: Option<i64>,
    file: Option<&str>,
) -> Result<(), sqlx::Error> {
    tx_run!(tx, |conn| sqlx::query(
        "INSERT INTO resource_submissions (order_item_id, field_id, text_value, number_value, \
         file_value, uploaded_at) VALUES ($1, $2, $3, $4, $5, $6) \
         ON CONFLICT (order_item_id, field_id) DO UPDATE SET text_value = excluded.text_value, \
         number_value = excluded.number_value, file_value = excluded.file_value"
    )
    .bind(item_id)
    .bind(field_id)
    .bind(text)
    .bind(number)
    .bind(file)
    .bind(now())
    .execute(&mut *conn)
    .await
    .map(|_| ()))
}

/// The legacy form rows of these order items.
pub async fn resources_of(db: &Db, item_ids: &[i64]) -> Result<Vec<ResourceRow>, sqlx::Error> {
    const SQL: Dialect = sql_in_ids!(
        concat!(resource_columns!(), " WHERE order_item_id"),
        "$1",
        " ORDER BY id"
    );
    if item_ids.is_empty() {
        return Ok(Vec::new());
    }
    let sql = db.sql(SQL);
    db_read!(db, |pool| sqlx::query_as::<_, ResourceRow>(sql)
        .bind(IdList(item_ids))
        .fetch_all(pool)
        .await)
}

/// A legacy form for the item; `None` when the item has one already.
#[allow(clippy::too_many_arguments)]
pub async fn insert_resource(
    tx: &mut Tx,
    item_id: i64,
    candidate_photo: &str,
    party_logo: &str,
    slogan: &str,
    preferred_date: &str,
    whatsapp: &str,
    notes: &str,
) -> Result<Option<ResourceRow>, sqlx::Error> {
    const SQL: &str = "INSERT INTO order_resources (order_item_id, candidate_photo, party_logo, campaign_slogan, \
         preferred_date, whatsapp_number, additional_notes, uploaded_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (order_item_id) DO NOTHING \
         RETURNING id, order_item_id, candidate_photo, party_logo, campaign_slogan, preferred_date, \
         whatsapp_number, additional_notes, uploaded_at";
    tx_run!(tx, |conn| sqlx::query_as::<_, ResourceRow>(SQL)
        .bind(item_id)
        .bind(candidate_photo)
        .bind(party_logo)
        .bind(slogan)
        .bind(preferred_date)
        .bind(whatsapp)
        .bind(notes)
        .bind(now())
        .fetch_optional(&mut *conn)
        .await)
}

/// The order a submission belongs to and its field's type.
pub async fn submission_context(
    db: &Db,
    submission_id: i64,
) -> Result<Option<(i64, String)>, sqlx::Error> {
    db_read!(db, |pool| sqlx::query_as::<_, (i64, String)>(
        "SELECT i.order_id, d.field_type FROM resource_submissions s \
         JOIN order_items i ON i.id = s.order_item_id \
         JOIN resource_field_definitions d ON d.id = s.field_id WHERE s.id = $1"
    )
    .bind(submission_id)
    .fetch_optional(pool)
    .await)
}

/// The order an item belongs to.
pub async fn order_of_item(db: &Db, item_id: i64) -> Result<Option<i64>, sqlx::Error> {
    db_read!(db, |pool| sqlx::query_scalar::<_, i64>(
        "SELECT order_id FROM order_items WHERE id = $1"
    )
    .bind(item_id)
    .fetch_optional(pool)
    .await)
}

/// A submission with its field's name and type (the admin's view of an order).
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct NamedSubmission {
    #[sqlx(flatten)]
    pub row: SubmissionRow,
    pub field_name: String,
    pub field_type: String,
}

/// The submissions of these order items with their fields' names and types, in field order.
pub async fn named_submissions_of(
    db: &Db,
    item_ids: &[i64],
) -> Result<Vec<NamedSubmission>, sqlx::Error> {
    const SQL: Dialect = sql_in_ids!(
        "SELECT s.id, s.order_item_id, s.field_id, s.text_value, s.number_value, s.file_value, \
         s.uploaded_at, d.field_name, d.field_type FROM resource_submissions s \
         JOIN resource_field_definitions d ON d.id = s.field_id WHERE s.order_item_id",
        "$1",
        " ORDER BY s.order_item_id, d.sort_order, s.id"
    );
    if item_ids.is_empty() {
        return Ok(Vec::new());
    }
    let sql = db.sql(SQL);
    db_read!(db, |pool| sqlx::query_as::<_, NamedSubmission>(sql)
        .bind(IdList(item_ids))
        .fetch_all(pool)
        .await)
}
