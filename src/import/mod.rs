//! `electioncart import-django`: the cut-over from the original Django database (issue 14).
//!
//! Every table of the original that ours can hold is copied with its ids (users with their Django
//! password hashes, the catalog, carts, orders and everything hanging off them, notifications), in
//! dependency order, into the configured database (SQLite or PostgreSQL). Money becomes integer
//! paise exactly, Django's content types become `package` / `campaign`, `is_staff` / `is_superuser`
//! become the role `admin` (D14), an empty phone becomes NULL (D15).
//!
//! Reruns are safe: rows already imported and unchanged are left alone (a second run changes
//! nothing), rows new in the original are added, rows the original changed since are brought up to
//! date unless they changed here too. A row of ours with an original's id and other content that no
//! import wrote is a conflict: the import refuses, naming table and id, before writing anything
//! (`service.rs` has the rules; `repo.rs` the ledger that tells imported rows from others).
//!
//! - `tables.rs`: our tables, their columns and references, in dependency order;
//! - `source.rs`: the original, read in one snapshot (the only SQL against it);
//! - `repo.rs`: our side (the only SQL against the target);
//! - `media.rs`: file names and copying from `--media`;
//! - `service.rs`: the passes and the per-row decisions; `progress.rs`: what the operator sees.

pub mod media;
pub mod model;
pub mod progress;
pub mod repo;
pub mod service;
pub mod source;
pub mod tables;

pub use model::{ImportError, Options, Refusal, Summary, TableReport};
pub use progress::render;
pub use service::run;
