//! Where PostgreSQL and SQLite differ, one helper per difference (anchors §2.3):
//! - a list of ids bound as one parameter: `= ANY($n)` with an array on PostgreSQL,
//!   `IN (SELECT value FROM json_each($n))` with a JSON array on SQLite — [`sql_in_ids!`] writes both
//!   statements from one text and [`IdList`] binds the list on either;
//! - row locks: `FOR UPDATE` / `FOR NO KEY UPDATE` on PostgreSQL, nothing on SQLite (its writer holds
//!   the database's one write lock from `BEGIN IMMEDIATE`) — [`sql_for_update!`];
//! - advisory locks: [`Tx::lock`](super::Tx::lock).

use sqlx::{
    Database, Encode, Postgres, Sqlite, Type, encode::IsNull, error::BoxDynError,
    postgres::PgTypeInfo, sqlite::SqliteTypeInfo,
};

use super::Db;

/// One statement in both dialects (built by [`sql_in_ids!`] or [`sql_for_update!`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Dialect {
    pub postgres: &'static str,
    pub sqlite: &'static str,
}

impl Db {
    /// The statement of `sql` for the backend in use.
    pub fn sql(&self, sql: Dialect) -> &'static str {
        match self {
            Db::Postgres(_) => sql.postgres,
            Db::Sqlite(_) => sql.sqlite,
        }
    }
}

/// `sql_in_ids!("SELECT … WHERE id", "$1", " ORDER BY id")`: `… WHERE id = ANY($1) ORDER BY id` on
/// PostgreSQL, `… WHERE id IN (SELECT value FROM json_each($1)) ORDER BY id` on SQLite. Bind the ids
/// with [`IdList`].
#[macro_export]
macro_rules! sql_in_ids {
    ($head:expr, $param:literal) => {
        $crate::sql_in_ids!($head, $param, "")
    };
    ($head:expr, $param:literal, $tail:expr) => {
        $crate::db::Dialect {
            postgres: concat!($head, " = ANY(", $param, ")", $tail),
            sqlite: concat!(
                $head,
                " IN (SELECT value FROM json_each(",
                $param,
                "))",
                $tail
            ),
        }
    };
}

/// `sql_for_update!("SELECT … WHERE id = $1")` locks the selected rows for the rest of the
/// transaction on PostgreSQL (`FOR UPDATE`; `sql_for_update!(no_key: …)` for `FOR NO KEY UPDATE`,
/// which still lets other transactions insert rows referencing them). On SQLite the statement is
/// unchanged: the transaction already holds the write lock.
#[macro_export]
macro_rules! sql_for_update {
    (no_key: $sql:expr) => {
        $crate::db::Dialect {
            postgres: concat!($sql, " FOR NO KEY UPDATE"),
            sqlite: $sql,
        }
    };
    ($sql:expr) => {
        $crate::db::Dialect {
            postgres: concat!($sql, " FOR UPDATE"),
            sqlite: $sql,
        }
    };
}

/// A list of ids bound as one parameter: a `bigint[]` on PostgreSQL, a JSON array text on SQLite
/// (see [`sql_in_ids!`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdList<'a>(pub &'a [i64]);

impl Type<Postgres> for IdList<'_> {
    fn type_info() -> PgTypeInfo {
        <Vec<i64> as Type<Postgres>>::type_info()
    }
}

impl<'q> Encode<'q, Postgres> for IdList<'_> {
    fn encode_by_ref(
        &self,
        buf: &mut <Postgres as Database>::ArgumentBuffer,
    ) -> Result<IsNull, BoxDynError> {
        <&[i64] as Encode<'q, Postgres>>::encode_by_ref(&self.0, buf)
    }
}

impl Type<Sqlite> for IdList<'_> {
    fn type_info() -> SqliteTypeInfo {
        <String as Type<Sqlite>>::type_info()
    }
}

impl<'q> Encode<'q, Sqlite> for IdList<'_> {
    fn encode_by_ref(
        &self,
        buf: &mut <Sqlite as Database>::ArgumentBuffer,
    ) -> Result<IsNull, BoxDynError> {
        let mut json = String::with_capacity(self.0.len() * 4 + 2);
        json.push('[');
        for (i, id) in self.0.iter().enumerate() {
            if i > 0 {
                json.push(',');
            }
            json.push_str(&id.to_string());
        }
        json.push(']');
        <String as Encode<'q, Sqlite>>::encode(json, buf)
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn both_dialects_from_one_text() {
        let sql = sql_in_ids!("SELECT id FROM t WHERE id", "$2", " ORDER BY id");
        assert_eq!(
            sql.postgres,
            "SELECT id FROM t WHERE id = ANY($2) ORDER BY id"
        );
        assert_eq!(
            sql.sqlite,
            "SELECT id FROM t WHERE id IN (SELECT value FROM json_each($2)) ORDER BY id"
        );
        let lock = sql_for_update!(no_key: "SELECT id FROM t WHERE id = $1");
        assert_eq!(
            lock.postgres,
            "SELECT id FROM t WHERE id = $1 FOR NO KEY UPDATE"
        );
        assert_eq!(lock.sqlite, "SELECT id FROM t WHERE id = $1");
    }
}
