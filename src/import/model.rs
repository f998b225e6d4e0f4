//! The import's vocabulary: a row as a list of column values ([`Val`]) of known [`Kind`]s, the
//! mapping of one of our tables from one of the original's ([`Spec`]), what a run did per table
//! ([`TableReport`], [`Summary`]) and why it may refuse ([`ImportError`]).

use std::path::PathBuf;

use serde_json::Value;
use sha2::{Digest, Sha256};
use time::OffsetDateTime;

use crate::uploads::Area;

/// What a column holds, on our side (and how the original's value is read into it).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Int,
    OptInt,
    Text,
    OptText,
    Bool,
    Time,
    OptTime,
    /// JSONB on PostgreSQL, TEXT on SQLite.
    Json,
    /// JSON kept in a TEXT column on both (`payment_history.metadata`).
    JsonText,
    /// The original's `numeric(10,2)` rupees, read as text; integer paise here.
    Paise,
    /// A stored file's name in an upload area (the original's file path, mapped by `media.rs`).
    File(Area),
    OptFile(Area),
}

impl Kind {
    pub fn nullable(self) -> bool {
        matches!(
            self,
            Kind::OptInt | Kind::OptText | Kind::OptTime | Kind::OptFile(_)
        )
    }
}

/// One column value, as compared between the original (mapped) and our row.
#[derive(Debug, Clone, PartialEq)]
pub enum Val {
    Null,
    Int(i64),
    Text(String),
    Bool(bool),
    /// Always UTC.
    Time(OffsetDateTime),
    Json(Value),
}

impl Val {
    pub fn as_int(&self) -> Option<i64> {
        match self {
            Val::Int(i) => Some(*i),
            _ => None,
        }
    }

    pub fn as_text(&self) -> Option<&str> {
        match self {
            Val::Text(s) => Some(s),
            _ => None,
        }
    }
}

/// The fingerprint of a row as the import wrote it (the `import_ledger`): SHA-256 over a
/// length-prefixed encoding of each value, JSON with its object keys sorted, times as UTC
/// nanoseconds — so the same row reads back to the same fingerprint from either database.
pub fn fingerprint(values: &[Val]) -> String {
    let mut hasher = Sha256::new();
    for value in values {
        let (tag, body): (u8, String) = match value {
            Val::Null => (b'n', String::new()),
            Val::Int(i) => (b'i', i.to_string()),
            Val::Text(s) => (b't', s.clone()),
            Val::Bool(b) => (b'b', b.to_string()),
            Val::Time(t) => (b'd', t.unix_timestamp_nanos().to_string()),
            Val::Json(j) => (b'j', canonical_json(j)),
        };
        hasher.update([tag]);
        hasher.update((body.len() as u64).to_be_bytes());
        hasher.update(body.as_bytes());
    }
    hasher
        .finalize()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// JSON text with every object's keys in sorted order (PostgreSQL's jsonb reorders keys, SQLite's
/// text keeps them as written).
fn canonical_json(value: &Value) -> String {
    fn sorted(value: &Value) -> Value {
        match value {
            Value::Object(map) => {
                let mut keys: Vec<&String> = map.keys().collect();
                keys.sort();
                Value::Object(
                    keys.into_iter()
                        .map(|k| (k.clone(), sorted(&map[k])))
                        .collect(),
                )
            }
            Value::Array(items) => Value::Array(items.iter().map(sorted).collect()),
            other => other.clone(),
        }
    }
    sorted(value).to_string()
}

/// What happens to a row whose parent row was not imported (a row the original has that ours
/// cannot hold).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Missing {
    /// The row is not imported either (it cannot exist without its parent).
    Skip,
    /// The reference is left empty (an optional reference, `ON DELETE SET NULL` here).
    Null,
}

/// A reference from one of a table's columns to another imported table.
#[derive(Debug, Clone, Copy)]
pub struct Parent {
    pub column: &'static str,
    pub table: &'static str,
    pub when_missing: Missing,
}

/// One of our tables and where it comes from: its columns in order (`id` first), each filled from
/// the original's table (`source.rs` holds the SELECT), and the references to check.
#[derive(Debug)]
pub struct Spec {
    pub table: &'static str,
    pub original: &'static str,
    pub columns: &'static [(&'static str, Kind)],
    pub parents: &'static [Parent],
}

impl Spec {
    pub fn kinds(&self) -> impl Iterator<Item = Kind> + '_ {
        self.columns.iter().map(|(_, kind)| *kind)
    }

    pub fn index_of(&self, column: &str) -> Option<usize> {
        self.columns.iter().position(|(name, _)| *name == column)
    }
}

/// A row read from the original, mapped to our columns.
#[derive(Debug, Clone)]
pub struct SourceRow {
    pub id: i64,
    pub values: Vec<Val>,
    /// Why ours cannot hold it (it is reported and not imported).
    pub skip: Option<String>,
    /// What the mapping changed (reported).
    pub note: Option<String>,
    /// The files the row names.
    pub files: Vec<FileRef>,
}

/// A file a row names: the original's path and the name it has here.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileRef {
    /// The column holding it.
    pub column: usize,
    pub area: Area,
    /// The original's value (a name relative to its media root).
    pub original: String,
    /// Our stored name.
    pub name: String,
}

/// Files referenced by a table's rows.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct FileCounts {
    /// Copied from `--media` into our storage.
    pub copied: u64,
    /// Already in our storage.
    pub present: u64,
    /// Not found in the `--media` directory (names kept, reported).
    pub missing: u64,
    /// Not copied because no `--media` was given (names kept).
    pub not_copied: u64,
}

impl FileCounts {
    pub fn any(&self) -> bool {
        self.copied + self.present + self.missing + self.not_copied > 0
    }
}

/// At most this many notes per table are kept for the summary.
pub const NOTES_PER_TABLE: usize = 10;

/// What one table's import did (or, on a dry run, would do).
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct TableReport {
    pub table: &'static str,
    pub original: &'static str,
    /// Rows read from the original.
    pub read: u64,
    pub inserted: u64,
    /// Rows imported before, changed in the original since (and untouched here): brought up to date.
    pub updated: u64,
    pub unchanged: u64,
    /// Rows imported before and changed or deleted here since: left as they are.
    pub kept: u64,
    /// Rows ours cannot hold (see `notes`).
    pub skipped: u64,
    /// Skipped rows and mapped values, `"<id>: <what>"`, at most [`NOTES_PER_TABLE`].
    pub notes: Vec<String>,
    /// Notes past the first [`NOTES_PER_TABLE`].
    pub more_notes: u64,
    pub files: FileCounts,
}

impl TableReport {
    pub fn changes(&self) -> u64 {
        self.inserted + self.updated
    }

    pub fn note(&mut self, id: i64, text: &str) {
        if self.notes.len() < NOTES_PER_TABLE {
            self.notes.push(format!("{id}: {text}"));
        } else {
            self.more_notes += 1;
        }
    }
}

/// A whole run.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct Summary {
    pub dry_run: bool,
    pub tables: Vec<TableReport>,
    /// What the original holds that is not carried over, one line each.
    pub not_carried: Vec<String>,
}

impl Summary {
    pub fn changes(&self) -> u64 {
        self.tables.iter().map(TableReport::changes).sum()
    }

    pub fn table(&self, name: &str) -> Option<&TableReport> {
        self.tables.iter().find(|t| t.table == name)
    }
}

/// How to run an import.
#[derive(Debug, Clone)]
pub struct Options {
    /// The original's PostgreSQL URL.
    pub from: String,
    /// The original's media directory (`MEDIA_ROOT` / `SECURE_MEDIA_ROOT`), to copy files from.
    pub media: Option<PathBuf>,
    /// Read and report; write nothing.
    pub dry_run: bool,
    /// Rows per transaction.
    pub batch_size: usize,
    /// Progress lines on stderr.
    pub progress: bool,
    /// For tests: stop (as if interrupted) after this many committed batches.
    pub stop_after_batches: Option<usize>,
}

impl Options {
    pub fn new(from: impl Into<String>) -> Self {
        Self {
            from: from.into(),
            media: None,
            dry_run: false,
            batch_size: DEFAULT_BATCH,
            progress: false,
            stop_after_batches: None,
        }
    }
}

pub const DEFAULT_BATCH: usize = 500;

/// A row of ours with the id of an original's row but other content, not written by an import.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Conflict {
    pub table: &'static str,
    pub id: i64,
    /// The columns that differ.
    pub columns: Vec<&'static str>,
}

impl std::fmt::Display for Conflict {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} id {}: the target already holds a row with this id and a different {}, not written by an import",
            self.table,
            self.id,
            self.columns.join(", ")
        )
    }
}

/// Why an import refuses to go on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// Rows of ours with an original's id and other content (see [`Conflict`]).
    Conflicts(Vec<Conflict>),
    /// A row the database refused: it clashes with another row already here (a username, an
    /// invoice number, … taken by a row with another id), or breaks one of our constraints.
    Clash {
        table: &'static str,
        id: i64,
        detail: String,
    },
}

const SHOWN_CONFLICTS: usize = 20;

impl std::fmt::Display for Refusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Refusal::Clash { table, id, detail } => write!(
                f,
                "{table} id {id} clashes with a row already in the target ({detail})"
            ),
            Refusal::Conflicts(conflicts) => {
                write!(f, "{} row(s) conflict", conflicts.len())?;
                for conflict in conflicts.iter().take(SHOWN_CONFLICTS) {
                    write!(f, "\n  - {conflict}")?;
                }
                if conflicts.len() > SHOWN_CONFLICTS {
                    write!(f, "\n  … and {} more", conflicts.len() - SHOWN_CONFLICTS)?;
                }
                Ok(())
            }
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    #[error("--from must be a postgres:// URL of the original database")]
    SourceUrl,
    #[error("reading the original database: {0}")]
    Source(#[source] sqlx::Error),
    #[error("the original has no table {0} (is it the Django database, fully migrated?)")]
    MissingTable(&'static str),
    #[error("writing the target database: {0}")]
    Target(#[source] sqlx::Error),
    #[error(
        "import refused{}: {reason}\nImport into a database that holds only `migrate`'s tables or earlier imports, or remove the rows named above.",
        if *.nothing_written { " (nothing was written)" } else { "" }
    )]
    Refused {
        reason: Refusal,
        /// True when the refusal came before any write (the check pass).
        nothing_written: bool,
    },
    #[error("media file {path}: {error}")]
    Media {
        path: String,
        #[source]
        error: std::io::Error,
    },
    #[error("stopped after {0} committed batches (test hook)")]
    Interrupted(usize),
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn fingerprints_ignore_json_key_order_and_time_offsets() {
        let t = time::macros::datetime!(2026-11-25 12:36:43.912128 UTC);
        let a = [
            Val::Int(1),
            Val::Json(json!({"a": 1, "b": [1, {"y": 2, "x": 1}]})),
            Val::Time(t),
        ];
        let b = [
            Val::Int(1),
            Val::Json(json!({"b": [1, {"x": 1, "y": 2}], "a": 1})),
            Val::Time(t.to_offset(time::macros::offset!(+5:30))),
        ];
        assert_eq!(fingerprint(&a), fingerprint(&b));
        // Length-prefixed: moving text between columns changes the fingerprint.
        let c = [Val::Text("ab".into()), Val::Text("c".into())];
        let d = [Val::Text("a".into()), Val::Text("bc".into())];
        assert_ne!(fingerprint(&c), fingerprint(&d));
        assert_ne!(
            fingerprint(&[Val::Null]),
            fingerprint(&[Val::Text(String::new())])
        );
    }
}
