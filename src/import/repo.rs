//! Our side of the import: the rows already there (by id range), inserts and updates that keep the
//! original's ids, the sequences moved past them, and the `import_ledger`: per imported row, the
//! fingerprint of what the import wrote. The ledger is how a rerun tells a row it wrote (and may
//! bring up to date) from a row someone else wrote (a conflict). Migration 0009 creates it; so does
//! [`prepare`], for a dry run into a database not migrated yet.

use std::collections::HashMap;

use sqlx::{AssertSqlSafe, Row, types::Json};
use time::OffsetDateTime;

use super::model::{Kind, Spec, Val};
use crate::{
    db::{Db, Dialect, Tx},
    db_read, tx_run,
};

const LEDGER: Dialect = Dialect {
    postgres: "CREATE TABLE IF NOT EXISTS import_ledger (\
        table_name TEXT NOT NULL, row_id BIGINT NOT NULL, row_hash TEXT NOT NULL, \
        imported_at TIMESTAMPTZ NOT NULL, PRIMARY KEY (table_name, row_id))",
    sqlite: "CREATE TABLE IF NOT EXISTS import_ledger (\
        table_name TEXT NOT NULL, row_id INTEGER NOT NULL, row_hash TEXT NOT NULL, \
        imported_at TEXT NOT NULL, PRIMARY KEY (table_name, row_id))",
};

/// The advisory lock every import transaction takes (PostgreSQL): two imports run at once never
/// work on a batch together.
pub const LOCK: &str = "import-django";

/// Creates the ledger when this database has none yet (under [`LOCK`]).
pub async fn prepare(tx: &mut Tx) -> Result<(), sqlx::Error> {
    tx.lock(LOCK).await?;
    let sql = tx.sql(LEDGER);
    tx_run!(tx, |conn| sqlx::query(sql)
        .execute(&mut *conn)
        .await
        .map(|_| ()))?;
    Ok(())
}

/// Whether the target has our tables (a dry run does not migrate).
pub async fn schema_ready(db: &Db) -> bool {
    db_read!(db, |pool| sqlx::query("SELECT 1 FROM users LIMIT 1")
        .fetch_optional(pool)
        .await
        .map(|_| ()))
    .is_ok()
}

/// The fingerprints the ledger holds for `table`'s ids in `lo..=hi`.
pub async fn ledger(
    tx: &mut Tx,
    table: &str,
    lo: i64,
    hi: i64,
) -> Result<HashMap<i64, String>, sqlx::Error> {
    let rows: Vec<(i64, String)> = tx_run!(tx, |conn| sqlx::query_as(
        "SELECT row_id, row_hash FROM import_ledger \
         WHERE table_name = $1 AND row_id >= $2 AND row_id <= $3"
    )
    .bind(table)
    .bind(lo)
    .bind(hi)
    .fetch_all(&mut *conn)
    .await)?;
    Ok(rows.into_iter().collect())
}

/// Rows per ledger statement (4 parameters each: well under either database's limit).
const LEDGER_CHUNK: usize = 500;

/// Records what the import wrote for these rows (`(id, fingerprint)`).
pub async fn record(
    tx: &mut Tx,
    table: &str,
    rows: &[(i64, String)],
    at: OffsetDateTime,
) -> Result<(), sqlx::Error> {
    for chunk in rows.chunks(LEDGER_CHUNK) {
        let values: Vec<String> = (0..chunk.len())
            .map(|i| {
                format!(
                    "(${}, ${}, ${}, ${})",
                    4 * i + 1,
                    4 * i + 2,
                    4 * i + 3,
                    4 * i + 4
                )
            })
            .collect();
        let sql = format!(
            "INSERT INTO import_ledger (table_name, row_id, row_hash, imported_at) VALUES {} \
             ON CONFLICT (table_name, row_id) \
             DO UPDATE SET row_hash = excluded.row_hash, imported_at = excluded.imported_at",
            values.join(", ")
        );
        tx_run!(tx, |conn| {
            let mut query = sqlx::query(AssertSqlSafe(sql));
            for (id, hash) in chunk {
                query = query.bind(table).bind(*id).bind(hash.as_str()).bind(at);
            }
            query.execute(&mut *conn).await.map(|_| ())
        })?;
    }
    Ok(())
}

/// A column as read back: integers widened, JSON as text (the same on both databases).
fn read_expr(name: &str, kind: Kind) -> String {
    match kind {
        Kind::Int | Kind::OptInt | Kind::Paise => format!("CAST({name} AS BIGINT)"),
        Kind::Json | Kind::JsonText => format!("CAST({name} AS TEXT)"),
        _ => name.to_string(),
    }
}

fn column_list(spec: &Spec) -> String {
    spec.columns
        .iter()
        .map(|(name, _)| *name)
        .collect::<Vec<_>>()
        .join(", ")
}

/// Decodes a row read with [`read_expr`] columns into values of the spec's kinds.
macro_rules! decode_row {
    ($row:expr, $spec:expr) => {{
        let row = $row;
        let mut values = Vec::with_capacity($spec.columns.len());
        for (i, kind) in $spec.kinds().enumerate() {
            let value = match kind {
                Kind::Int | Kind::OptInt | Kind::Paise => row
                    .try_get::<Option<i64>, _>(i)?
                    .map_or(Val::Null, Val::Int),
                Kind::Bool => Val::Bool(row.try_get::<bool, _>(i)?),
                Kind::Time | Kind::OptTime => row
                    .try_get::<Option<OffsetDateTime>, _>(i)?
                    .map_or(Val::Null, |t| Val::Time(t.to_offset(time::UtcOffset::UTC))),
                Kind::Json | Kind::JsonText => match row.try_get::<Option<String>, _>(i)? {
                    // Text that is not JSON compares unequal to any JSON value.
                    Some(text) => serde_json::from_str(&text).map_or(Val::Text(text), Val::Json),
                    None => Val::Null,
                },
                Kind::Text | Kind::OptText | Kind::File(_) | Kind::OptFile(_) => row
                    .try_get::<Option<String>, _>(i)?
                    .map_or(Val::Null, Val::Text),
            };
            values.push(value);
        }
        values
    }};
}

/// Our rows of `spec`'s table with ids in `lo..=hi`, by id.
pub async fn existing(
    tx: &mut Tx,
    spec: &Spec,
    lo: i64,
    hi: i64,
) -> Result<HashMap<i64, Vec<Val>>, sqlx::Error> {
    let columns: Vec<String> = spec
        .columns
        .iter()
        .map(|(name, kind)| read_expr(name, *kind))
        .collect();
    let sql = format!(
        "SELECT {} FROM {} WHERE id >= $1 AND id <= $2",
        columns.join(", "),
        spec.table
    );
    let mut out = HashMap::new();
    tx_run!(tx, |conn| {
        let rows = sqlx::query(AssertSqlSafe(sql))
            .bind(lo)
            .bind(hi)
            .fetch_all(&mut *conn)
            .await?;
        for row in &rows {
            let values = decode_row!(row, spec);
            if let Some(id) = values.first().and_then(Val::as_int) {
                out.insert(id, values);
            }
        }
    });
    Ok(out)
}

/// Binds a row's values in column order (typed NULLs, JSON as JSON or as text by kind).
macro_rules! bind_row {
    ($query:expr, $spec:expr, $values:expr) => {{
        let mut query = $query;
        for (kind, value) in $spec.kinds().zip($values.iter()) {
            query = match (value, kind) {
                (Val::Null, Kind::OptTime | Kind::Time) => query.bind(None::<OffsetDateTime>),
                (Val::Null, Kind::OptInt | Kind::Int | Kind::Paise) => query.bind(None::<i64>),
                (Val::Null, Kind::Bool) => query.bind(None::<bool>),
                (Val::Null, _) => query.bind(None::<String>),
                (Val::Int(i), _) => query.bind(*i),
                (Val::Text(s), _) => query.bind(s.clone()),
                (Val::Bool(b), _) => query.bind(*b),
                (Val::Time(t), _) => query.bind(*t),
                (Val::Json(j), Kind::JsonText) => query.bind(j.to_string()),
                (Val::Json(j), _) => query.bind(Json(j.clone())),
            };
        }
        query
    }};
}

/// Inserts a row with its id.
pub async fn insert(tx: &mut Tx, spec: &Spec, values: &[Val]) -> Result<(), sqlx::Error> {
    let placeholders: Vec<String> = (1..=spec.columns.len()).map(|i| format!("${i}")).collect();
    let sql = format!(
        "INSERT INTO {} ({}) VALUES ({})",
        spec.table,
        column_list(spec),
        placeholders.join(", ")
    );
    execute_row(tx, spec, sql, values).await
}

/// Rewrites the imported columns of the row with this id (columns ours alone has are left alone).
pub async fn update(tx: &mut Tx, spec: &Spec, values: &[Val]) -> Result<(), sqlx::Error> {
    let sets: Vec<String> = spec
        .columns
        .iter()
        .enumerate()
        .skip(1)
        .map(|(i, (name, _))| format!("{name} = ${}", i + 1))
        .collect();
    let sql = format!(
        "UPDATE {} SET {} WHERE id = $1",
        spec.table,
        sets.join(", ")
    );
    execute_row(tx, spec, sql, values).await
}

/// Runs `sql` with the row's values bound as `$1…$n` in the spec's column order.
async fn execute_row(
    tx: &mut Tx,
    spec: &Spec,
    sql: String,
    values: &[Val],
) -> Result<(), sqlx::Error> {
    tx_run!(tx, |conn| bind_row!(
        sqlx::query(AssertSqlSafe(sql)),
        spec,
        values
    )
    .execute(&mut *conn)
    .await
    .map(|_| ()))?;
    Ok(())
}

/// Moves the table's id generator past its largest id, never backwards: the identity sequence on
/// PostgreSQL, `sqlite_sequence` (AUTOINCREMENT) on SQLite.
pub async fn move_sequence(tx: &mut Tx, table: &str) -> Result<(), sqlx::Error> {
    match tx {
        Tx::Postgres(t) => {
            let sql = format!(
                "SELECT setval(pg_get_serial_sequence('{table}', 'id'), m) \
                 FROM (SELECT MAX(id) AS m FROM {table}) x WHERE m IS NOT NULL AND m > COALESCE(\
                 pg_sequence_last_value(pg_get_serial_sequence('{table}', 'id')::regclass), 0)"
            );
            sqlx::query(AssertSqlSafe(sql)).execute(&mut **t).await?;
        }
        Tx::Sqlite(t) => {
            let update = format!(
                "UPDATE sqlite_sequence SET seq = (SELECT MAX(id) FROM {table}) \
                 WHERE name = '{table}' AND seq < (SELECT MAX(id) FROM {table})"
            );
            sqlx::query(AssertSqlSafe(update)).execute(&mut **t).await?;
            let insert = format!(
                "INSERT INTO sqlite_sequence (name, seq) SELECT '{table}', MAX(id) FROM {table} \
                 WHERE NOT EXISTS (SELECT 1 FROM sqlite_sequence WHERE name = '{table}') \
                 HAVING MAX(id) IS NOT NULL"
            );
            sqlx::query(AssertSqlSafe(insert)).execute(&mut **t).await?;
        }
    }
    Ok(())
}
