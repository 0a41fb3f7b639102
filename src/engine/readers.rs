//! TEMPORARY interface stub: replaced by the CSV/TSV/NDJSON readers.
use super::batch::{Batch, Dictionary};
use super::source::{FileFormat, ReadRequest, Scan, ScanStats, Sniff};
use crate::diagnostic::{Code, Diagnostic};

/// Reads local files.
#[derive(Debug, Default, Clone)]
pub struct LocalFiles;

impl Scan for LocalFiles {
    fn sniff(&self, path: &std::path::Path, _format: FileFormat) -> Result<Sniff, Diagnostic> {
        Err(Diagnostic::error(Code::SourceUnreadable, "reader not built").with_path(path))
    }
    fn scan(
        &self,
        req: &ReadRequest,
        _sink: &mut dyn FnMut(&Batch, &[Dictionary]) -> Result<(), Diagnostic>,
    ) -> Result<ScanStats, Diagnostic> {
        Err(Diagnostic::error(Code::SourceUnreadable, "reader not built").with_path(&req.path))
    }
}
