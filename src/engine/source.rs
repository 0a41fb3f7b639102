//! Reading a dataset: the request, the header sniff, and the streaming scan.

use super::batch::{Batch, ColType, Dictionary};
use crate::diagnostic::Diagnostic;
use std::path::PathBuf;

/// The file formats the local backend reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileFormat {
    /// Comma-separated, with a header.
    Csv,
    /// Tab-separated, with a header.
    Tsv,
    /// One JSON object per line.
    Ndjson,
}

impl FileFormat {
    /// The format for a path, by its extension.
    pub fn from_path(p: &std::path::Path) -> Option<FileFormat> {
        match p.extension()?.to_str()?.to_ascii_lowercase().as_str() {
            "csv" => Some(FileFormat::Csv),
            "tsv" | "tab" => Some(FileFormat::Tsv),
            "ndjson" | "jsonl" => Some(FileFormat::Ndjson),
            _ => None,
        }
    }
}

/// What to do with a row that cannot be read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum BadRowPolicy {
    /// Stop with a data error (exit 3).
    #[default]
    Fail,
    /// Skip the row and count it.
    Skip,
}

/// One column to read.
#[derive(Debug, Clone, PartialEq)]
pub struct ColumnRequest {
    /// The column's name in the header.
    pub name: String,
    /// How to store it.
    pub ty: ColType,
}

/// What to read from one file.
#[derive(Debug, Clone)]
pub struct ReadRequest {
    /// The dataset's id (for messages).
    pub dataset: String,
    /// The file.
    pub path: PathBuf,
    /// Its format.
    pub format: FileFormat,
    /// The time column's name.
    pub time_column: String,
    /// Columns to read, in the order the batch holds them.
    pub columns: Vec<ColumnRequest>,
    /// What to do with bad rows.
    pub on_bad_row: BadRowPolicy,
    /// IANA zone that datetimes are converted to before taking their date; None = UTC.
    pub timezone: Option<String>,
}

/// A row skipped under [`BadRowPolicy::Skip`].
#[derive(Debug, Clone)]
pub struct SkippedRow {
    /// 1-based line.
    pub line: u64,
    /// Why.
    pub reason: String,
}

/// What a scan saw.
#[derive(Debug, Clone, Default)]
pub struct ScanStats {
    /// Rows read (not counting skipped ones).
    pub rows: u64,
    /// Rows skipped.
    pub skipped: u64,
    /// The first few skipped rows.
    pub first_skipped: Vec<SkippedRow>,
}

/// The columns of a file and the types their first rows suggest.
#[derive(Debug, Clone, Default)]
pub struct Sniff {
    /// Header names in file order, with the inferred type (`None` if every sampled value
    /// was empty).
    pub columns: Vec<(String, Option<ColType>)>,
}

/// A batch sink that a reader thread may own.
pub type ParSink<'s> = dyn FnMut(&Batch, &[Dictionary]) -> Result<(), Diagnostic> + Send + 's;

/// Something that streams the rows of a dataset as batches.
// `Diagnostic` is large but only built on the cold path; the sink's type is spelled out so
// implementors see it whole.
#[allow(clippy::result_large_err, clippy::type_complexity)]
pub trait Scan {
    /// Reads the header and a sample of rows to learn the columns and their types.
    fn sniff(&self, path: &std::path::Path, format: FileFormat) -> Result<Sniff, Diagnostic>;
    /// Reads every row, calling `sink` with each batch and the dictionaries of the text
    /// columns so far (indexed like `req.columns`; empty for number columns).
    fn scan(
        &self,
        req: &ReadRequest,
        sink: &mut dyn FnMut(&Batch, &[Dictionary]) -> Result<(), Diagnostic>,
    ) -> Result<ScanStats, Diagnostic>;
    /// Reads every row with one thread per sink, each over a contiguous part of the
    /// data in file order (sink 0 first); returns the merged stats and each sink's final
    /// dictionaries. On failure the error of the earliest bad row is returned.
    ///
    /// Unless `exact`, a reader may guess where the parts start and find out only at the
    /// end that a guess was wrong ([`ParScan::Misaligned`]); the caller then scans again
    /// with fresh sinks and `exact`, which never guesses.
    fn scan_parallel(
        &self,
        req: &ReadRequest,
        sinks: Vec<&mut ParSink<'_>>,
        exact: bool,
    ) -> Result<ParScan, Diagnostic>;
}

/// How a parallel scan ended.
#[derive(Debug)]
pub enum ParScan {
    /// Every row was read: the merged stats and each sink's final dictionaries.
    Done(ScanStats, Vec<Vec<Dictionary>>),
    /// A part was guessed to start at a record and did not (it began inside a quoted
    /// field that holds line breaks): the sinks saw rows that are not the file's.
    Misaligned,
}
