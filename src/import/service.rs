//! The import: every table of [`TABLES`] in dependency order, batch by batch, the original read in
//! one snapshot. Each original row is mapped onto our columns and compared with our row of the same
//! id and with the `import_ledger` (the fingerprint of what an earlier import wrote):
//!
//! | ours                    | ledger            | outcome                                           |
//! |-------------------------|-------------------|---------------------------------------------------|
//! | none                    | none              | inserted, id kept                                 |
//! | none                    | present           | kept (deleted here since it was imported)         |
//! | equal to the mapped row | any               | unchanged                                         |
//! | other content           | = ours            | updated (the original changed since)              |
//! | other content           | = the mapped row  | kept (changed here since it was imported)         |
//! | other content           | neither           | updated, noted (changed on both sides: until the  |
//! |                         |                   | switch the original is the record)                |
//! | other content           | none              | conflict: the import is refused                   |
//!
//! Two passes: a check pass runs every table in one transaction that is rolled back (so conflicts,
//! and rows the database refuses, are found before anything is written; it is also the whole of a
//! dry run), then the write pass commits one transaction per batch, so an interrupted import keeps
//! what it committed and a rerun completes it.

use std::collections::{HashMap, HashSet};

use super::{
    media::{self, MediaDir},
    model::{
        Conflict, ImportError, Missing, Options, Refusal, SourceRow, Spec, Summary, TableReport,
        Val, fingerprint,
    },
    progress::Progress,
    repo,
    source::Source,
    tables::TABLES,
};
use crate::{
    catalog::{self, model::ProductType},
    db::Tx,
    state::AppState,
};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    /// Before writing: everything in one transaction, rolled back; files are not looked at.
    Check,
    /// The same, and the files counted: what a real run would do.
    DryRun,
    /// One committed transaction per batch; files copied.
    Write,
}

/// Where a pass's batches run.
enum Target<'t> {
    /// The check pass: every batch in this one transaction, rolled back at the end.
    Shared(&'t mut Tx),
    /// The write pass: one committed transaction per batch.
    PerBatch,
    /// A dry run into a database without our tables yet: nothing to compare or write.
    Empty,
}

struct Ctx<'a> {
    state: &'a AppState,
    media: Option<&'a MediaDir>,
    options: &'a Options,
}

/// One pass over every table.
struct Pass {
    mode: Mode,
    progress: Progress,
    /// Original ids not imported, per table (their children are skipped, or their references
    /// left empty).
    skipped: HashMap<&'static str, HashSet<i64>>,
    /// Ids imported earlier and deleted here since, per table (their children are not brought
    /// back).
    gone: HashMap<&'static str, HashSet<i64>>,
    conflicts: Vec<Conflict>,
    reports: Vec<TableReport>,
    committed: usize,
    /// Users inserted or updated (their cached entries are dropped).
    users: Vec<i64>,
}

/// Imports the original at `options.from` into `state`'s database; see the module documentation.
pub async fn run(state: &AppState, options: &Options) -> Result<Summary, ImportError> {
    let media = options.media.as_deref().map(MediaDir::open).transpose()?;
    let ctx = Ctx {
        state,
        media: media.as_ref(),
        options,
    };
    // A dry run into a database `migrate` has not set up yet: every row would be inserted.
    let fresh = options.dry_run && !repo::schema_ready(&state.db).await;
    let mut source = Source::open(&options.from).await?;
    source.check_tables(TABLES).await?;

    let mode = if options.dry_run {
        Mode::DryRun
    } else {
        Mode::Check
    };
    let mut check = Pass::new(mode, options.progress);
    if mode == Mode::Check {
        check
            .progress
            .say("checking the target against the original…");
    }
    if fresh {
        for spec in TABLES {
            check.table(&ctx, &mut source, spec, Target::Empty).await?;
        }
    } else {
        let mut tx = state.db.begin().await.map_err(ImportError::Target)?;
        repo::prepare(&mut tx).await.map_err(ImportError::Target)?;
        for spec in TABLES {
            check
                .table(&ctx, &mut source, spec, Target::Shared(&mut tx))
                .await
                .map_err(|e| before_writing(e, true))?;
        }
        tx.rollback().await.map_err(ImportError::Target)?;
    }
    check.progress.clear();
    if !check.conflicts.is_empty() {
        return Err(ImportError::Refused {
            reason: Refusal::Conflicts(check.conflicts),
            nothing_written: true,
        });
    }
    let not_carried = source.not_carried().await?;
    if options.dry_run {
        return Ok(Summary {
            dry_run: true,
            tables: check.reports,
            not_carried,
        });
    }

    let mut write = Pass::new(Mode::Write, options.progress);
    let mut tx = state.db.begin().await.map_err(ImportError::Target)?;
    repo::prepare(&mut tx).await.map_err(ImportError::Target)?;
    tx.commit().await.map_err(ImportError::Target)?;
    let mut outcome = Ok(());
    for spec in TABLES {
        outcome = write.table(&ctx, &mut source, spec, Target::PerBatch).await;
        if outcome.is_err() {
            break;
        }
    }
    if write.reports.iter().any(|r| r.changes() > 0) {
        invalidate_caches(state, &write.users).await;
    }
    outcome.map_err(|e| before_writing(e, write.committed == 0))?;
    Ok(Summary {
        dry_run: false,
        tables: write.reports,
        not_carried,
    })
}

/// Marks a refusal as coming before (or after) the first write.
fn before_writing(error: ImportError, nothing_written: bool) -> ImportError {
    match error {
        ImportError::Refused { reason, .. } => ImportError::Refused {
            reason,
            nothing_written,
        },
        other => other,
    }
}

/// Drops what the application cached from the tables the import wrote (targeted, D21).
async fn invalidate_caches(state: &AppState, users: &[i64]) {
    catalog::invalidate(state, ProductType::Package).await;
    catalog::invalidate(state, ProductType::Campaign).await;
    crate::orders::derived::changed(state).await;
    for id in users {
        crate::auth::cache::invalidate_user(&state.cache, *id).await;
    }
}

fn target(e: sqlx::Error) -> ImportError {
    ImportError::Target(e)
}

/// A row the database refused to take: a clash with a row of another id, or a constraint.
fn refused(spec: &Spec, id: i64, e: sqlx::Error) -> ImportError {
    use sqlx::error::ErrorKind;
    match &e {
        sqlx::Error::Database(d)
            if matches!(
                d.kind(),
                ErrorKind::UniqueViolation
                    | ErrorKind::ForeignKeyViolation
                    | ErrorKind::CheckViolation
                    | ErrorKind::NotNullViolation
            ) =>
        {
            ImportError::Refused {
                reason: Refusal::Clash {
                    table: spec.table,
                    id,
                    detail: d.message().to_string(),
                },
                nothing_written: false,
            }
        }
        _ => ImportError::Target(e),
    }
}

enum Decision {
    Insert,
    /// `overwritten`: the columns changed here too since the import (the original's are taken).
    Update {
        overwritten: Vec<&'static str>,
    },
    /// `record`: the ledger lacks the fingerprint (an identical row written by someone else).
    Unchanged {
        record: bool,
    },
    Kept,
    Conflict {
        columns: Vec<&'static str>,
    },
}

fn decide(
    spec: &Spec,
    ours: Option<&Vec<Val>>,
    recorded: Option<&String>,
    mapped: &[Val],
    hash: &str,
) -> Decision {
    let Some(ours) = ours else {
        return if recorded.is_some() {
            Decision::Kept
        } else {
            Decision::Insert
        };
    };
    if ours.as_slice() == mapped {
        return Decision::Unchanged {
            record: recorded.is_none_or(|r| r != hash),
        };
    }
    let differing = || {
        spec.columns
            .iter()
            .zip(ours.iter().zip(mapped))
            .filter(|(_, (a, b))| a != b)
            .map(|((name, _), _)| *name)
            .collect()
    };
    match recorded {
        None => Decision::Conflict {
            columns: differing(),
        },
        Some(r) if r == hash => Decision::Kept,
        // Until the switch the original is the record: what changed there wins, also over a
        // change made here meanwhile (a rehearsal's login), which is reported.
        Some(r) if *r == fingerprint(ours) => Decision::Update {
            overwritten: Vec::new(),
        },
        Some(_) => Decision::Update {
            overwritten: differing(),
        },
    }
}

/// Fills the columns ours alone has and that follow from the row: a product image's content type
/// (from its name) and size (from the file in `--media`, else 0).
fn derive(spec: &Spec, row: &mut SourceRow, media: Option<&MediaDir>) {
    if spec.table != "product_images" {
        return;
    }
    let (Some(name_at), Some(type_at), Some(size_at)) = (
        spec.index_of("file_name"),
        spec.index_of("content_type"),
        spec.index_of("size_bytes"),
    ) else {
        return;
    };
    let content_type = media::content_type(row.values[name_at].as_text().unwrap_or(""));
    let size = row
        .files
        .iter()
        .find(|f| f.column == name_at)
        .and_then(|f| media.and_then(|m| m.size(&f.original)))
        .unwrap_or(0);
    row.values[type_at] = Val::Text(content_type.to_string());
    row.values[size_at] = Val::Int(i64::try_from(size).unwrap_or(i64::MAX));
}

impl Pass {
    fn new(mode: Mode, progress: bool) -> Self {
        Self {
            mode,
            progress: Progress::new(progress, mode == Mode::Check),
            skipped: HashMap::new(),
            gone: HashMap::new(),
            conflicts: Vec::new(),
            reports: Vec::new(),
            committed: 0,
            users: Vec::new(),
        }
    }

    /// One table, batch by batch, in `target`.
    async fn table(
        &mut self,
        ctx: &Ctx<'_>,
        source: &mut Source,
        spec: &'static Spec,
        mut target: Target<'_>,
    ) -> Result<(), ImportError> {
        let total = source.count(spec).await?;
        self.progress.start(spec.table, total);
        let mut report = TableReport {
            table: spec.table,
            original: spec.original,
            ..TableReport::default()
        };
        let mut after = i64::MIN;
        let result = loop {
            let rows = match source
                .batch(spec, after, ctx.options.batch_size.max(1))
                .await
            {
                Ok(rows) => rows,
                Err(e) => break Err(e),
            };
            let Some(last) = rows.last() else {
                break Ok(());
            };
            after = last.id;
            let count = rows.len() as u64;
            let done = match &mut target {
                Target::Shared(tx) => self.batch(ctx, Some(tx), spec, rows, &mut report).await,
                Target::PerBatch => self.own_batch(ctx, spec, rows, &mut report).await,
                Target::Empty => self.batch(ctx, None, spec, rows, &mut report).await,
            };
            if let Err(e) = done {
                break Err(e);
            }
            self.progress.advance(count);
            if self.mode == Mode::Write && ctx.options.stop_after_batches == Some(self.committed) {
                break Err(ImportError::Interrupted(self.committed));
            }
        };
        self.progress.finish(&report);
        self.reports.push(report);
        result
    }

    /// A batch in its own transaction, committed.
    async fn own_batch(
        &mut self,
        ctx: &Ctx<'_>,
        spec: &'static Spec,
        rows: Vec<SourceRow>,
        report: &mut TableReport,
    ) -> Result<(), ImportError> {
        let mut tx = ctx.state.db.begin().await.map_err(target)?;
        tx.lock(repo::LOCK).await.map_err(target)?;
        self.batch(ctx, Some(&mut tx), spec, rows, report).await?;
        tx.commit().await.map_err(target)?;
        self.committed += 1;
        Ok(())
    }

    /// The rows of one batch, in `tx` (none: a dry run into an empty database).
    async fn batch(
        &mut self,
        ctx: &Ctx<'_>,
        mut tx: Option<&mut Tx>,
        spec: &'static Spec,
        rows: Vec<SourceRow>,
        report: &mut TableReport,
    ) -> Result<(), ImportError> {
        let (Some(lo), Some(hi)) = (rows.first().map(|r| r.id), rows.last().map(|r| r.id)) else {
            return Ok(());
        };
        let (ours, ledger) = match tx.as_deref_mut() {
            Some(tx) => (
                repo::existing(tx, spec, lo, hi).await.map_err(target)?,
                repo::ledger(tx, spec.table, lo, hi).await.map_err(target)?,
            ),
            None => Default::default(),
        };
        let mut fingerprints = Vec::new();
        let conflicts_before = self.conflicts.len();
        let mut wrote = false;
        for mut row in rows {
            report.read += 1;
            if let Some(note) = row.note.take() {
                report.note(row.id, &note);
            }
            if let Some(reason) = row
                .skip
                .take()
                .or_else(|| self.orphan(spec, &mut row, report))
            {
                report.skipped += 1;
                report.note(row.id, &format!("not imported: {reason}"));
                self.skipped.entry(spec.table).or_default().insert(row.id);
                continue;
            }
            derive(spec, &mut row, ctx.media);
            let hash = fingerprint(&row.values);
            match decide(
                spec,
                ours.get(&row.id),
                ledger.get(&row.id),
                &row.values,
                &hash,
            ) {
                Decision::Insert => {
                    if let Some(tx) = tx.as_deref_mut() {
                        repo::insert(tx, spec, &row.values)
                            .await
                            .map_err(|e| refused(spec, row.id, e))?;
                    }
                    fingerprints.push((row.id, hash));
                    report.inserted += 1;
                    wrote = true;
                    self.note_user(spec, row.id);
                }
                Decision::Update { overwritten } => {
                    if !overwritten.is_empty() {
                        report.note(
                            row.id,
                            &format!(
                                "changed here and in the original since the last import: the original's {} taken",
                                overwritten.join(", ")
                            ),
                        );
                    }
                    if let Some(tx) = tx.as_deref_mut() {
                        repo::update(tx, spec, &row.values)
                            .await
                            .map_err(|e| refused(spec, row.id, e))?;
                    }
                    fingerprints.push((row.id, hash));
                    report.updated += 1;
                    wrote = true;
                    self.note_user(spec, row.id);
                }
                Decision::Unchanged { record } => {
                    if record {
                        fingerprints.push((row.id, hash));
                    }
                    report.unchanged += 1;
                }
                Decision::Kept => {
                    if !ours.contains_key(&row.id) {
                        self.gone.entry(spec.table).or_default().insert(row.id);
                    }
                    report.kept += 1;
                    continue;
                }
                Decision::Conflict { columns } => {
                    self.conflicts.push(Conflict {
                        table: spec.table,
                        id: row.id,
                        columns,
                    });
                    continue;
                }
            }
            if self.mode != Mode::Check {
                for file in &row.files {
                    let outcome = media::ensure(
                        ctx.state.uploads.storage.as_ref(),
                        ctx.media,
                        file,
                        self.mode == Mode::Write,
                    )
                    .await?;
                    report.files.add(outcome);
                    if outcome == media::Outcome::Missing {
                        report.note(row.id, &format!("file {} is not in --media", file.original));
                    }
                }
            }
        }
        let Some(tx) = tx else {
            return Ok(());
        };
        repo::record(tx, spec.table, &fingerprints, crate::db::now())
            .await
            .map_err(target)?;
        if self.mode == Mode::Write {
            if self.conflicts.len() > conflicts_before {
                return Err(ImportError::Refused {
                    reason: Refusal::Conflicts(self.conflicts.split_off(conflicts_before)),
                    nothing_written: false,
                });
            }
            if wrote {
                repo::move_sequence(tx, spec.table).await.map_err(target)?;
            }
        }
        Ok(())
    }

    fn note_user(&mut self, spec: &Spec, id: i64) {
        if spec.table == "users" && self.mode == Mode::Write {
            self.users.push(id);
        }
    }

    /// A row whose parent is not here (not imported, or deleted here since): skipped (why), or
    /// its reference left empty.
    fn orphan(&self, spec: &Spec, row: &mut SourceRow, report: &mut TableReport) -> Option<String> {
        for parent in spec.parents {
            let Some(at) = spec.index_of(parent.column) else {
                continue;
            };
            let Some(id) = row.values[at].as_int() else {
                continue;
            };
            let among = |sets: &HashMap<&'static str, HashSet<i64>>| {
                sets.get(parent.table).is_some_and(|ids| ids.contains(&id))
            };
            let why = if among(&self.skipped) {
                "was not imported"
            } else if among(&self.gone) {
                "was deleted here since it was imported"
            } else {
                continue;
            };
            match parent.when_missing {
                Missing::Skip => return Some(format!("its {} {id} {why}", parent.column)),
                Missing::Null => {
                    row.values[at] = Val::Null;
                    report.note(row.id, &format!("{} {id} {why}: left empty", parent.column));
                }
            }
        }
        None
    }
}
