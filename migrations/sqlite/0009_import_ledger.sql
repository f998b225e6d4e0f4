-- import-django (issue 14): per row the import wrote, the fingerprint of what it wrote, so a rerun
-- tells its own rows (brought up to date) from rows written here since (kept, or a conflict).
-- IF NOT EXISTS: the subcommand also creates it in a dry run into a database not yet migrated.
CREATE TABLE IF NOT EXISTS import_ledger (
    table_name  TEXT NOT NULL,
    row_id      INTEGER NOT NULL,
    row_hash    TEXT NOT NULL,
    imported_at TEXT NOT NULL,
    PRIMARY KEY (table_name, row_id)
);
