//! CSV and TSV: one header line, then records (RFC 4180 quoting, CRLF or LF, UTF-8 BOM).

use super::number::parse_number;
use super::time::TimeParser;
use super::{
    bad_number, bad_time, bad_utf8, empty_file, missing_column, open, read_failed, show, too_long, Builder,
    MAX_RECORD_BYTES, SNIFF_ROWS,
};
use crate::diagnostic::{Code, Diagnostic};
use crate::engine::batch::{Batch, ColType, ColumnData, Dictionary, NULL_ID};
use crate::engine::source::{ReadRequest, ScanStats, Sniff};
use csv::ByteRecord;
use std::cell::Cell;
use std::io::Read;
use std::path::Path;
use std::rc::Rc;

/// The csv reader's own buffer; also the slack the record bound allows for read-ahead.
const BUFFER: usize = 64 << 10;

/// Fails the read once more than [`MAX_RECORD_BYTES`] (plus the read-ahead) were read
/// since the start of the current record, so one unterminated record cannot fill memory.
struct Bounded<R> {
    inner: R,
    read: u64,
    record_start: Rc<Cell<u64>>,
    tripped: Rc<Cell<bool>>,
}

impl<R: Read> Read for Bounded<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.read += n as u64;
        if self.read - self.record_start.get() > (MAX_RECORD_BYTES + 2 * BUFFER) as u64 {
            self.tripped.set(true);
            return Err(std::io::Error::other("record too long"));
        }
        Ok(n)
    }
}

/// An open file positioned after its header.
struct Source {
    rdr: csv::Reader<Bounded<std::fs::File>>,
    record_start: Rc<Cell<u64>>,
    tripped: Rc<Cell<bool>>,
    header: Vec<String>,
}

impl Source {
    fn open(path: &Path, delimiter: u8) -> Result<Source, Diagnostic> {
        let record_start = Rc::new(Cell::new(0));
        let tripped = Rc::new(Cell::new(false));
        let file = Bounded {
            inner: open(path)?,
            read: 0,
            record_start: record_start.clone(),
            tripped: tripped.clone(),
        };
        let rdr = csv::ReaderBuilder::new()
            .delimiter(delimiter)
            .has_headers(false)
            .flexible(true)
            .buffer_capacity(BUFFER)
            .from_reader(file);
        let mut src = Source { rdr, record_start, tripped, header: Vec::new() };
        let mut rec = ByteRecord::new();
        if !src.next(path, &mut rec)? {
            return Err(empty_file(path, "at least a header line with the column names"));
        }
        let line = rec.position().map_or(1, |p| p.line());
        for (i, name) in rec.iter().enumerate() {
            match std::str::from_utf8(name) {
                Ok(s) => src.header.push(s.trim().to_string()),
                Err(_) => {
                    return Err(Diagnostic::error(
                        Code::InvalidUtf8,
                        format!(
                            "line {line}: the header's column {} (`{}`) is not valid UTF-8",
                            i + 1,
                            show(name)
                        ),
                    )
                    .with_path(path)
                    .with_line_col(line as usize, i + 1)
                    .with_help("save the file as UTF-8 (in a spreadsheet: \"CSV UTF-8\")"))
                }
            }
        }
        Ok(src)
    }

    /// Reads the next record; `false` at the end of the file.
    fn next(&mut self, path: &Path, rec: &mut ByteRecord) -> Result<bool, Diagnostic> {
        match self.rdr.read_byte_record(rec) {
            Ok(more) => {
                self.record_start.set(self.rdr.position().byte());
                Ok(more)
            }
            Err(e) => {
                let line = self.rdr.position().line();
                if self.tripped.get() {
                    Err(too_long(path, line, "record"))
                } else {
                    Err(read_failed(path, line, &e))
                }
            }
        }
    }
}

/// Reads the header and the first [`SNIFF_ROWS`] records to infer each column's type.
pub(super) fn sniff(path: &Path, delimiter: u8) -> Result<Sniff, Diagnostic> {
    let mut src = Source::open(path, delimiter)?;
    let mut types: Vec<Option<ColType>> = vec![None; src.header.len()];
    let mut rec = ByteRecord::new();
    let mut rows = 0;
    while rows < SNIFF_ROWS && src.next(path, &mut rec)? {
        rows += 1;
        for (ty, field) in types.iter_mut().zip(rec.iter()) {
            if *ty == Some(ColType::Text) || field.trim_ascii().is_empty() {
                continue;
            }
            *ty = Some(if parse_number(field).is_some() { ColType::Number } else { ColType::Text });
        }
    }
    Ok(Sniff { columns: src.header.into_iter().zip(types).collect() })
}

/// Why a record was rejected; turned into a message only when needed.
enum Fault {
    Ragged(usize),
    Time(usize),
    Number(usize),
    Utf8(usize),
}

/// Streams every record of a CSV/TSV file into batches.
pub(super) fn scan(
    req: &ReadRequest,
    delimiter: u8,
    sink: &mut dyn FnMut(&Batch, &[Dictionary]) -> Result<(), Diagnostic>,
) -> Result<ScanStats, Diagnostic> {
    let times = TimeParser::new(req.timezone.as_deref())?;
    let path = req.path.as_path();
    let mut src = Source::open(path, delimiter)?;
    let find = |name: &str, is_time: bool| {
        src.header
            .iter()
            .position(|h| h == name)
            .ok_or_else(|| missing_column(req, name, is_time, src.header.iter().map(String::as_str)))
    };
    let time_field = find(&req.time_column, true)?;
    let fields = req.columns.iter().map(|c| find(&c.name, false)).collect::<Result<Vec<usize>, _>>()?;
    let width = src.header.len();

    let mut out = Builder::new(req, sink);
    let mut rec = ByteRecord::new();
    let mut numbers = vec![0.0f64; req.columns.len()];
    while src.next(path, &mut rec)? {
        let line = rec.position().map_or(0, |p| p.line());
        // First check the whole record, so a bad row leaves no trace in the batch or the
        // dictionaries; then store it.
        let checked = (|| {
            if rec.len() != width {
                return Err(Fault::Ragged(rec.len()));
            }
            let day = times.parse(&rec[time_field]).map_err(|_| Fault::Time(time_field))?;
            for (i, (c, &f)) in req.columns.iter().zip(&fields).enumerate() {
                match c.ty {
                    ColType::Number => numbers[i] = parse_number(&rec[f]).ok_or(Fault::Number(f))?,
                    ColType::Text => {
                        std::str::from_utf8(&rec[f]).map_err(|_| Fault::Utf8(f))?;
                    }
                }
            }
            Ok(day)
        })();
        let day = match checked {
            Ok(day) => day,
            Err(fault) => {
                let diag = match fault {
                    Fault::Ragged(n) => Diagnostic::error(
                        Code::RaggedRow,
                        format!("line {line} has {n} fields, the header has {width}"),
                    )
                    .with_path(path)
                    .with_line_col(line as usize, 0)
                    .with_help(format!(
                        "quote fields that contain `{}`, add or remove fields to match the header, {}",
                        (delimiter as char).escape_default(),
                        super::SKIP_HINT
                    )),
                    Fault::Time(f) => bad_time(req, line, f + 1, Some(&rec[f])),
                    Fault::Number(f) => bad_number(req, line, f + 1, &src.header[f], &rec[f]),
                    Fault::Utf8(f) => bad_utf8(req, line, f + 1, &src.header[f], &rec[f]),
                };
                out.reject(line, diag)?;
                continue;
            }
        };
        for (i, (col, &f)) in out.batch.columns.iter_mut().zip(&fields).enumerate() {
            match col {
                ColumnData::Number(v) => v.push(numbers[i]),
                ColumnData::Text(v) => {
                    let bytes = &rec[f];
                    v.push(if bytes.is_empty() { NULL_ID } else { out.dicts[i].intern(bytes) });
                }
            }
        }
        out.end_row(day, line)?;
    }
    out.finish()
}
