//! The database: SQLite (embedded default) or PostgreSQL (production), chosen by `DATABASE_URL`.
//!
//! Queries are written once with `$N` placeholders and run on either backend through [`db_read!`] and
//! [`db_write!`]. SQLite gets a separate one-connection writer pool (DESIGN §10: one writer, no lock
//! busy-waiting) beside a reader pool; PostgreSQL uses one pool for both.
//!
//! Statements that must commit together run in one [`Tx`] ([`Db::begin`]), which repository functions
//! take as `&mut Tx`, so one service can run statements of several repositories in one transaction.
//! Where the dialects differ, [`dialect`] holds one helper per difference.

pub mod dialect;
mod tx;

pub use dialect::{Dialect, IdList};
pub use tx::{Deleted, Tx, delete_referenced, set_sort_orders};

use std::{
    path::{Path, PathBuf},
    str::FromStr,
    time::Duration,
};

use sqlx::{
    PgPool, SqlitePool,
    postgres::{PgConnectOptions, PgPoolOptions},
    sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous},
};

use crate::config::Config;

/// SQLite pools: many readers, exactly one writer.
#[derive(Clone, Debug)]
pub struct SqliteDb {
    pub read: SqlitePool,
    pub write: SqlitePool,
    /// The database file (None for in-memory databases).
    pub path: Option<PathBuf>,
}

#[derive(Clone, Debug)]
pub enum Db {
    Postgres(PgPool),
    Sqlite(SqliteDb),
}

/// Runs `$body` with `$pool` bound to a pool suitable for reads, on whichever backend is in use.
#[macro_export]
macro_rules! db_read {
    ($db:expr, |$pool:ident| $body:expr) => {
        match $db {
            $crate::db::Db::Postgres($pool) => $body,
            $crate::db::Db::Sqlite(s) => {
                let $pool = &s.read;
                $body
            }
        }
    };
}

/// Runs `$body` with `$pool` bound to the pool that may write (the single SQLite writer).
#[macro_export]
macro_rules! db_write {
    ($db:expr, |$pool:ident| $body:expr) => {
        match $db {
            $crate::db::Db::Postgres($pool) => $body,
            $crate::db::Db::Sqlite(s) => {
                let $pool = &s.write;
                $body
            }
        }
    };
}

/// `%text%` for a case-insensitive LIKE with `\` escaping.
pub fn like_pattern(search: &str) -> String {
    let escaped = search
        .to_lowercase()
        .replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_");
    format!("%{escaped}%")
}

/// Now, truncated to microseconds so both backends store and return the same value.
pub fn now() -> time::OffsetDateTime {
    let t = time::OffsetDateTime::now_utc();
    t.replace_nanosecond(t.nanosecond() / 1000 * 1000)
        .unwrap_or(t)
}

#[derive(Debug, thiserror::Error)]
pub enum DbError {
    #[error("database connection failed: {0}")]
    Connect(#[source] sqlx::Error),
    #[error("SQLite file error at {0}: {1}")]
    Directory(String, #[source] std::io::Error),
    #[error("migrations failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("unsupported DATABASE_URL scheme; use sqlite://… or postgres://…")]
    Scheme,
}

impl Db {
    /// Connects according to the configuration (creating the SQLite file and its directory on demand).
    pub async fn connect(config: &Config) -> Result<Self, DbError> {
        Self::connect_url(
            config.database_url.expose(),
            config.db_max_connections,
            config.db_acquire_timeout,
        )
        .await
    }

    pub async fn connect_url(
        url: &str,
        max_connections: u32,
        acquire_timeout: Duration,
    ) -> Result<Self, DbError> {
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            let options = PgConnectOptions::from_str(url).map_err(DbError::Connect)?;
            // No liveness ping per checkout (`test_before_acquire` costs a round trip on every
            // query); instead connections idle for 5 minutes are closed, none lives longer than
            // 30 (server restarts, fail-overs and proxies' idle cuts don't leave dead ones for
            // long), and a query on a connection that did die fails once and the connection is
            // dropped, not returned.
            let pool = PgPoolOptions::new()
                .max_connections(max_connections)
                .min_connections(0)
                .acquire_timeout(acquire_timeout)
                .test_before_acquire(false)
                .idle_timeout(Duration::from_secs(300))
                .max_lifetime(Duration::from_secs(1800))
                .connect_with(options)
                .await
                .map_err(DbError::Connect)?;
            Ok(Db::Postgres(pool))
        } else if url.starts_with("sqlite:") {
            let options = SqliteConnectOptions::from_str(url)
                .map_err(DbError::Connect)?
                .create_if_missing(true)
                .journal_mode(SqliteJournalMode::Wal)
                .synchronous(SqliteSynchronous::Normal)
                .foreign_keys(true)
                .busy_timeout(Duration::from_secs(5));
            let file = options.get_filename().to_path_buf();
            let in_memory = file.as_os_str().is_empty() || file.as_os_str() == ":memory:";
            if let Some(parent) = file.parent()
                && !parent.as_os_str().is_empty()
                && !parent.exists()
            {
                std::fs::create_dir_all(parent)
                    .map_err(|e| DbError::Directory(display_dir(parent), e))?;
            }
            // The writer first, so that the file exists (and is in WAL mode) before readers open it.
            // Two processes opening a new file together can race on the switch to WAL, which SQLite
            // answers with "database is locked" without waiting: try again briefly.
            let mut attempt = 0;
            let write = loop {
                match SqlitePoolOptions::new()
                    .max_connections(1)
                    .test_before_acquire(false)
                    .acquire_timeout(acquire_timeout)
                    .connect_with(options.clone())
                    .await
                {
                    Ok(pool) => break pool,
                    Err(error) if attempt < 20 && is_locked(&error) => {
                        attempt += 1;
                        tokio::time::sleep(Duration::from_millis(100)).await;
                    }
                    Err(error) => return Err(DbError::Connect(error)),
                }
            };
            let read = SqlitePoolOptions::new()
                .max_connections(max_connections.max(2))
                .test_before_acquire(false)
                .acquire_timeout(acquire_timeout)
                .connect_with(options)
                .await
                .map_err(DbError::Connect)?;
            Ok(Db::Sqlite(SqliteDb {
                read,
                write,
                path: (!in_memory).then_some(file),
            }))
        } else {
            Err(DbError::Scheme)
        }
    }

    pub fn backend(&self) -> &'static str {
        match self {
            Db::Postgres(_) => "postgresql",
            Db::Sqlite(_) => "sqlite",
        }
    }

    /// Applies pending migrations. On PostgreSQL the migrator holds an advisory lock, so instances
    /// starting together apply each migration once.
    pub async fn migrate(&self) -> Result<(), DbError> {
        match self {
            Db::Postgres(pool) => sqlx::migrate!("./migrations/postgres").run(pool).await?,
            Db::Sqlite(s) => {
                // SQLite's migrator takes no lock: serialise processes sharing the file with an
                // exclusive OS lock on a sibling file, held while migrating.
                let _lock = match &s.path {
                    Some(path) => Some(lock_file(path).await?),
                    None => None,
                };
                sqlx::migrate!("./migrations/sqlite").run(&s.write).await?;
            }
        }
        Ok(())
    }

    /// The embedded migrations this database has not applied (successfully), by version and
    /// description; all of them on a database never migrated.
    pub async fn pending_migrations(&self) -> Result<Vec<(i64, String)>, sqlx::Error> {
        let migrator = match self {
            Db::Postgres(_) => sqlx::migrate!("./migrations/postgres"),
            Db::Sqlite(_) => sqlx::migrate!("./migrations/sqlite"),
        };
        let exists: bool = db_read!(self, |pool| {
            let sql = match self {
                Db::Postgres(_) => "SELECT to_regclass('_sqlx_migrations') IS NOT NULL",
                Db::Sqlite(_) => {
                    "SELECT COUNT(*) > 0 FROM sqlite_master WHERE type = 'table' \
                     AND name = '_sqlx_migrations'"
                }
            };
            sqlx::query_scalar(sql).fetch_one(pool).await
        })?;
        let applied: Vec<i64> = if exists {
            db_read!(self, |pool| sqlx::query_scalar(
                "SELECT version FROM _sqlx_migrations WHERE success = TRUE"
            )
            .fetch_all(pool)
            .await)?
        } else {
            Vec::new()
        };
        Ok(migrator
            .iter()
            .filter(|m| !applied.contains(&m.version))
            .map(|m| (m.version, m.description.to_string()))
            .collect())
    }

    /// Per pool: `(name, connections open, of them idle)` — `main` on PostgreSQL, `read` and
    /// `write` on SQLite.
    pub fn pool_stats(&self) -> Vec<(&'static str, u32, u32)> {
        let idle = |n: usize| u32::try_from(n).unwrap_or(u32::MAX);
        match self {
            Db::Postgres(p) => vec![("main", p.size(), idle(p.num_idle()))],
            Db::Sqlite(s) => vec![
                ("read", s.read.size(), idle(s.read.num_idle())),
                ("write", s.write.size(), idle(s.write.num_idle())),
            ],
        }
    }

    /// `SELECT 1`, bounded by `within` so a hung database answers quickly.
    pub async fn ping(&self, within: Duration) -> Result<(), PingError> {
        let query = db_read!(self, |pool| {
            tokio::time::timeout(within, sqlx::query("SELECT 1").execute(pool))
                .await
                .map(|r| r.map(|_| ()))
        });
        match query {
            Err(_) => Err(PingError::Timeout),
            Ok(Err(e)) => Err(PingError::Failed(e)),
            Ok(Ok(_)) => Ok(()),
        }
    }

    pub async fn close(&self) {
        match self {
            Db::Postgres(p) => p.close().await,
            Db::Sqlite(s) => {
                s.read.close().await;
                s.write.close().await;
            }
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum PingError {
    #[error("database did not answer in time")]
    Timeout,
    #[error("database query failed: {0}")]
    Failed(#[source] sqlx::Error),
}

async fn lock_file(db_path: &Path) -> Result<std::fs::File, DbError> {
    let mut name = db_path.as_os_str().to_owned();
    name.push(".migrate-lock");
    let lock_path = PathBuf::from(name);
    let shown = display_dir(&lock_path);
    tokio::task::spawn_blocking(move || {
        let file = std::fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&lock_path)?;
        file.lock()?;
        Ok::<_, std::io::Error>(file)
    })
    .await
    .map_err(|e| DbError::Directory(shown.clone(), std::io::Error::other(e)))?
    .map_err(|e| DbError::Directory(shown, e))
}

fn is_locked(error: &sqlx::Error) -> bool {
    let text = error.to_string();
    text.contains("database is locked") || text.contains("busy")
}

fn display_dir(p: &Path) -> String {
    p.display().to_string()
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    fn names(dir: &str) -> BTreeSet<String> {
        std::fs::read_dir(format!("{}/migrations/{dir}", env!("CARGO_MANIFEST_DIR")))
            .expect("migrations dir")
            .filter_map(|e| e.ok())
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .collect()
    }

    #[test]
    fn migration_lists_are_paired() {
        let sqlite = names("sqlite");
        let postgres = names("postgres");
        assert!(!sqlite.is_empty(), "no migrations");
        assert_eq!(
            sqlite, postgres,
            "migrations/sqlite and migrations/postgres must hold the same file names"
        );
    }
}
