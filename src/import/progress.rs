//! What the operator sees: on a terminal, one bar per table redrawn in place (the check pass's on
//! a single line that is cleared afterwards); otherwise one plain line per table when it is done, for
//! the pass that writes (logs stay readable). Then the summary table ([`render`]).

use std::io::{IsTerminal, Write};

use super::model::{Summary, TableReport};

const BAR: usize = 24;

/// Progress on stderr (or nothing).
#[derive(Debug)]
pub struct Progress {
    enabled: bool,
    tty: bool,
    /// The check pass before a real run: a terminal shows it on one line, a log not at all.
    transient: bool,
    total: u64,
    done: u64,
    table: &'static str,
}

impl Progress {
    pub fn new(enabled: bool, transient: bool) -> Self {
        Self {
            enabled,
            tty: std::io::stderr().is_terminal(),
            transient,
            total: 0,
            done: 0,
            table: "",
        }
    }

    pub fn say(&self, line: &str) {
        if self.enabled {
            eprintln!("{line}");
        }
    }

    pub fn start(&mut self, table: &'static str, total: u64) {
        self.table = table;
        self.total = total;
        self.done = 0;
        self.draw("");
    }

    pub fn advance(&mut self, rows: u64) {
        self.done += rows;
        self.draw("");
    }

    fn draw(&self, tail: &str) {
        if !(self.enabled && self.tty) {
            return;
        }
        let filled = (self.done.min(self.total) * BAR as u64)
            .checked_div(self.total)
            .map_or(BAR, |f| usize::try_from(f).unwrap_or(BAR));
        let label = if self.transient { "checking " } else { "" };
        let mut err = std::io::stderr().lock();
        let _ = write!(
            err,
            "\r\x1b[K{label}{:<28} [{}{}] {}/{}{tail}",
            self.table,
            "#".repeat(filled),
            " ".repeat(BAR - filled),
            self.done,
            self.total
        );
        let _ = err.flush();
    }

    pub fn finish(&self, report: &TableReport) {
        if !self.enabled || (self.transient && !self.tty) {
            return;
        }
        let counts = format!(
            "{} read, {} inserted, {} updated, {} unchanged, {} kept, {} skipped",
            report.read,
            report.inserted,
            report.updated,
            report.unchanged,
            report.kept,
            report.skipped
        );
        if !self.tty {
            eprintln!("{}: {counts}", report.table);
        } else if !self.transient {
            self.draw(&format!("  {counts}"));
            eprintln!();
        }
    }

    /// Ends the check pass's line.
    pub fn clear(&self) {
        if self.enabled && self.tty && self.transient {
            eprint!("\r\x1b[K");
        }
    }
}

/// The summary: counts per table, notes, files, and what is not carried over.
pub fn render(summary: &Summary) -> String {
    let mut out = String::new();
    let line = |out: &mut String, cells: [&str; 7]| {
        out.push_str(&format!(
            "{:<28} {:>7} {:>9} {:>8} {:>10} {:>6} {:>8}\n",
            cells[0], cells[1], cells[2], cells[3], cells[4], cells[5], cells[6]
        ));
    };
    line(
        &mut out,
        [
            "table",
            "read",
            "inserted",
            "updated",
            "unchanged",
            "kept",
            "skipped",
        ],
    );
    let mut total = TableReport {
        table: "total",
        ..TableReport::default()
    };
    for t in &summary.tables {
        total.read += t.read;
        total.inserted += t.inserted;
        total.updated += t.updated;
        total.unchanged += t.unchanged;
        total.kept += t.kept;
        total.skipped += t.skipped;
    }
    for t in summary.tables.iter().chain(std::iter::once(&total)) {
        line(
            &mut out,
            [
                t.table,
                &t.read.to_string(),
                &t.inserted.to_string(),
                &t.updated.to_string(),
                &t.unchanged.to_string(),
                &t.kept.to_string(),
                &t.skipped.to_string(),
            ],
        );
    }
    out.push_str(&format!(
        "changes: {}{}\n",
        summary.changes(),
        if summary.dry_run {
            " (dry run: nothing was written)"
        } else {
            ""
        }
    ));
    let noted: Vec<&TableReport> = summary
        .tables
        .iter()
        .filter(|t| !t.notes.is_empty())
        .collect();
    if !noted.is_empty() {
        out.push_str("notes (original id: what ours holds instead):\n");
        for t in noted {
            for note in &t.notes {
                out.push_str(&format!("  {} {note}\n", t.original));
            }
            if t.more_notes > 0 {
                out.push_str(&format!("  {} … and {} more\n", t.original, t.more_notes));
            }
        }
    }
    let files: Vec<&TableReport> = summary.tables.iter().filter(|t| t.files.any()).collect();
    if !files.is_empty() {
        out.push_str("files:\n");
        for t in files {
            let f = &t.files;
            out.push_str(&format!(
                "  {}: {} copied, {} already here, {} missing from --media, {} not copied (no --media; names kept)\n",
                t.table, f.copied, f.present, f.missing, f.not_copied
            ));
        }
    }
    if !summary.not_carried.is_empty() {
        out.push_str("not carried over:\n");
        for line in &summary.not_carried {
            out.push_str(&format!("  {line}\n"));
        }
    }
    out
}
