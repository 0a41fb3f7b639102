//! The local backend's readers: CSV, TSV and NDJSON files streamed into column batches.
//!
//! Each reader resolves the requested columns against the file once, then reads rows into
//! a reused [`Batch`] and hands it to the sink every [`BATCH_ROWS`] rows. Memory is bounded
//! by one batch, the text dictionaries and one record (at most [`MAX_RECORD_BYTES`]).
//! A row that cannot be read either stops the scan ([`BadRowPolicy::Fail`]) or is counted
//! in [`ScanStats::skipped`] ([`BadRowPolicy::Skip`]); no row is dropped silently.

// `Diagnostic` is the error type of the `Scan` interface; it is large, but only built on
// the cold path, once per failed scan or skipped row.
#![allow(clippy::result_large_err)]

mod csv;
mod ndjson;
pub mod number;
pub mod time;

use super::batch::{Batch, ColumnData, Dictionary, BATCH_ROWS};
use super::source::{BadRowPolicy, FileFormat, ParScan, ReadRequest, Scan, ScanStats, SkippedRow, Sniff};
use crate::diagnostic::{did_you_mean, Code, Diagnostic};
use std::path::Path;

/// The longest record (CSV) or line (NDJSON) accepted, in bytes. Longer ones are an
/// error: a file without line breaks must not be read into memory whole.
pub const MAX_RECORD_BYTES: usize = 16 << 20;

/// How many rows [`Scan::sniff`] samples to infer column types.
pub const SNIFF_ROWS: usize = 1000;

/// How many skipped rows [`ScanStats::first_skipped`] keeps.
pub const KEEP_SKIPPED: usize = 5;

/// What a scan hands each batch to.
type Sink<'s> = dyn FnMut(&Batch, &[Dictionary]) -> Result<(), Diagnostic> + 's;

pub use super::source::ParSink;

/// Reads local files.
#[derive(Debug, Default, Clone)]
pub struct LocalFiles;

impl Scan for LocalFiles {
    fn sniff(&self, path: &Path, format: FileFormat) -> Result<Sniff, Diagnostic> {
        match format {
            FileFormat::Csv => csv::sniff(path, b','),
            FileFormat::Tsv => csv::sniff(path, b'\t'),
            FileFormat::Ndjson => ndjson::sniff(path),
        }
    }

    fn scan(
        &self,
        req: &ReadRequest,
        sink: &mut dyn FnMut(&Batch, &[Dictionary]) -> Result<(), Diagnostic>,
    ) -> Result<ScanStats, Diagnostic> {
        match req.format {
            FileFormat::Csv => csv::scan(req, b',', sink),
            FileFormat::Tsv => csv::scan(req, b'\t', sink),
            FileFormat::Ndjson => ndjson::scan(req, sink).map(|(s, _)| s),
        }
    }

    fn scan_parallel(
        &self,
        req: &ReadRequest,
        mut sinks: Vec<&mut ParSink<'_>>,
        exact: bool,
    ) -> Result<ParScan, Diagnostic> {
        match req.format {
            FileFormat::Csv => csv::scan_parallel(req, b',', sinks, exact),
            FileFormat::Tsv => csv::scan_parallel(req, b'\t', sinks, exact),
            FileFormat::Ndjson => {
                let n = sinks.len();
                let Some(sink) = sinks.pop() else {
                    return Ok(ParScan::Done(ScanStats::default(), Vec::new()));
                };
                let (stats, dicts) = ndjson::scan(req, sink)?;
                let mut all = vec![vec![Dictionary::default(); req.columns.len()]; n.max(1) - 1];
                all.push(dicts);
                Ok(ParScan::Done(stats, all))
            }
        }
    }
}

/// Opens a data file, turning every failure into a `SourceUnreadable` naming the OS reason.
fn open(path: &Path) -> Result<std::fs::File, Diagnostic> {
    let unreadable = |reason: String| {
        Diagnostic::error(Code::SourceUnreadable, format!("cannot read `{}`: {reason}", path.display()))
            .with_path(path)
            .with_help(
                "check the dataset's `source:` path (or `--data NAME=PATH`) and the file's permissions",
            )
    };
    let meta = std::fs::metadata(path).map_err(|e| unreadable(e.to_string()))?;
    if meta.is_dir() {
        return Err(unreadable("it is a directory, not a data file".into()));
    }
    std::fs::File::open(path).map_err(|e| unreadable(e.to_string()))
}

/// A read error in the middle of a file.
fn read_failed(path: &Path, line: u64, err: &dyn std::fmt::Display) -> Diagnostic {
    Diagnostic::error(
        Code::SourceUnreadable,
        format!("reading `{}` failed near line {line}: {err}", path.display()),
    )
    .with_path(path)
    .with_line_col(line as usize, 0)
}

/// A record or line beyond [`MAX_RECORD_BYTES`].
fn too_long(path: &Path, line: u64, what: &str) -> Diagnostic {
    Diagnostic::error(
        Code::FileTooLarge,
        format!("the {what} starting at line {line} is longer than {} MiB", MAX_RECORD_BYTES >> 20),
    )
    .with_path(path)
    .with_line_col(line as usize, 0)
    .with_help("check the file's format: an unclosed quote or missing line breaks make one huge record")
}

/// The error for a file without a single line.
fn empty_file(path: &Path, needs: &str) -> Diagnostic {
    Diagnostic::error(
        Code::SourceUnreadable,
        format!("the file `{}` is empty: it needs {needs}", path.display()),
    )
    .with_path(path)
    .with_help("check that the export that writes this file succeeded")
}

/// A column (or the time column) the request names but the file does not have.
fn missing_column<'a>(
    req: &ReadRequest,
    name: &str,
    is_time: bool,
    available: impl Iterator<Item = &'a str> + Clone,
) -> Diagnostic {
    let what = if is_time { "time column" } else { "column" };
    let mut msg = format!("{what} `{name}` of dataset `{}` is not in `{}`", req.dataset, req.path.display());
    if let Some(s) = did_you_mean(name, available.clone()) {
        msg.push_str(&format!("; did you mean `{s}`?"));
    }
    let total = available.clone().count();
    let mut list: Vec<String> = available.take(40).map(|c| format!("`{c}`")).collect();
    if total > list.len() {
        list.push(format!("and {} more", total - list.len()));
    }
    let help = if list.is_empty() {
        "the file has no columns".to_string()
    } else {
        format!("the file has the columns {}", list.join(", "))
    };
    Diagnostic::error(Code::MissingColumn, msg).with_path(&req.path).with_help(help)
}

/// A value as shown in a message: lossy UTF-8, shortened, without control characters.
fn show(bytes: &[u8]) -> String {
    const MAX: usize = 60;
    let text = String::from_utf8_lossy(bytes);
    let mut out: String =
        text.chars().take(MAX).map(|c| if c.is_control() { '\u{fffd}' } else { c }).collect();
    if text.chars().count() > MAX {
        out.push('…');
    }
    out
}

const SKIP_HINT: &str = "or run with --on-bad-row skip";

/// A bad number in a number column.
fn bad_number(req: &ReadRequest, line: u64, col: usize, name: &str, value: &[u8]) -> Diagnostic {
    Diagnostic::error(
        Code::BadNumber,
        format!("line {line}: value `{}` in column `{name}` is not a number", show(value)),
    )
    .with_path(&req.path)
    .with_line_col(line as usize, col)
    .with_help(format!("fix the value, declare the column as text in `columns:`, {SKIP_HINT}"))
}

/// A bad or empty value in the time column.
fn bad_time(req: &ReadRequest, line: u64, col: usize, value: Option<&[u8]>) -> Diagnostic {
    let name = &req.time_column;
    let msg = match value {
        Some(v) if !v.trim_ascii().is_empty() => {
            format!("line {line}: value `{}` in time column `{name}` is not a date or a datetime", show(v))
        }
        _ => format!("line {line}: the time column `{name}` is empty"),
    };
    Diagnostic::error(Code::BadTime, msg).with_path(&req.path).with_line_col(line as usize, col).with_help(
        format!(
            "write an ISO date (`2026-10-05`) or an RFC 3339 datetime (`2026-10-05T13:45:00Z`), {SKIP_HINT}"
        ),
    )
}

/// Invalid UTF-8 in a text column.
fn bad_utf8(req: &ReadRequest, line: u64, col: usize, name: &str, value: &[u8]) -> Diagnostic {
    Diagnostic::error(
        Code::InvalidUtf8,
        format!("line {line}: value `{}` in column `{name}` is not valid UTF-8", show(value)),
    )
    .with_path(&req.path)
    .with_line_col(line as usize, col)
    .with_help(format!("save the file as UTF-8 (in a spreadsheet: \"CSV UTF-8\"), {SKIP_HINT}"))
}

/// Collects rows into the reused batch, flushes full batches to the sink and applies the
/// bad-row policy.
struct Builder<'s> {
    batch: Batch,
    dicts: Vec<Dictionary>,
    stats: ScanStats,
    policy: BadRowPolicy,
    sink: &'s mut Sink<'s>,
}

impl<'s> Builder<'s> {
    fn new(req: &ReadRequest, sink: &'s mut Sink<'s>) -> Self {
        Builder {
            batch: Batch {
                len: 0,
                time: Vec::with_capacity(BATCH_ROWS),
                lines: Vec::with_capacity(BATCH_ROWS),
                columns: req.columns.iter().map(|c| ColumnData::new(c.ty)).collect(),
            },
            dicts: vec![Dictionary::default(); req.columns.len()],
            stats: ScanStats::default(),
            policy: req.on_bad_row,
            sink,
        }
    }

    /// Completes a row whose column values were pushed already. Inlined into the readers'
    /// row loops (it runs once per row); the flush of a full batch is a call.
    #[inline(always)]
    fn end_row(&mut self, day: i32, line: u64) -> Result<(), Diagnostic> {
        self.batch.time.push(day);
        self.batch.lines.push(line);
        self.batch.len += 1;
        self.stats.rows += 1;
        if self.batch.len == BATCH_ROWS {
            self.flush()?;
        }
        Ok(())
    }

    /// A row that cannot be read: stop, or count it and go on.
    fn reject(&mut self, line: u64, diag: Diagnostic) -> Result<(), Diagnostic> {
        match self.policy {
            BadRowPolicy::Fail => Err(diag),
            BadRowPolicy::Skip => {
                self.stats.skipped += 1;
                if self.stats.first_skipped.len() < KEEP_SKIPPED {
                    self.stats.first_skipped.push(SkippedRow { line, reason: diag.message });
                }
                Ok(())
            }
        }
    }

    #[inline(never)]
    fn flush(&mut self) -> Result<(), Diagnostic> {
        if self.batch.len > 0 {
            (self.sink)(&self.batch, &self.dicts)?;
        }
        self.batch.len = 0;
        self.batch.time.clear();
        self.batch.lines.clear();
        self.batch.columns.iter_mut().for_each(ColumnData::clear);
        Ok(())
    }

    fn finish(mut self) -> Result<(ScanStats, Vec<Dictionary>), Diagnostic> {
        self.flush()?;
        Ok((self.stats, self.dicts))
    }
}
