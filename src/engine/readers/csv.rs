//! CSV and TSV: one header line, then records (RFC 4180 quoting, CRLF or LF, UTF-8 BOM).

use super::number::parse_number;
use super::time::TimeParser;
use super::{
    bad_number, bad_time, bad_utf8, empty_file, missing_column, open, read_failed, show, too_long, Builder,
    Sink, MAX_RECORD_BYTES, SNIFF_ROWS,
};
use crate::diagnostic::{Code, Diagnostic};
use crate::engine::batch::{Batch, ColType, ColumnData, NULL_ID};
use crate::engine::distinct::key_of_field;
use crate::engine::source::{ParScan, ReadRequest, ScanStats, Sniff};
use std::io::Read;
use std::path::Path;

/// Bytes read from the file at a time.
const BUFFER: usize = 64 << 10;

/// The most fields a record may have (each costs a `usize` of bookkeeping).
const MAX_FIELDS: usize = 1 << 20;

/// One record: its fields' bytes back to back, where each ends, and its first line.
///
/// Reused for every record, so reading allocates only while records keep growing.
struct Record {
    bytes: Vec<u8>,
    ends: Vec<usize>,
    len: usize,
    line: u64,
    /// 1 when `bytes` is the raw line with its delimiters (the fast path), 0 when the
    /// fields are back to back (csv-core's output).
    gap: usize,
}

impl Record {
    fn new() -> Record {
        Record { bytes: vec![0; 4096], ends: vec![0; 64], len: 0, line: 0, gap: 0 }
    }

    fn len(&self) -> usize {
        self.len
    }

    /// Field `i` (`i < len()`).
    fn get(&self, i: usize) -> &[u8] {
        let start = if i == 0 { 0 } else { self.ends[i - 1] + self.gap };
        &self.bytes[start..self.ends[i]]
    }

    fn iter(&self) -> impl Iterator<Item = &[u8]> {
        (0..self.len).map(|i| self.get(i))
    }
}

impl std::ops::Index<usize> for Record {
    type Output = [u8];
    fn index(&self, i: usize) -> &[u8] {
        self.get(i)
    }
}

/// Notes in `ends` where each delimiter of `line` is; returns how many (growing `ends`).
///
/// Eight bytes at a time (SWAR): fields are short, so one vectorised search per field
/// costs more than it saves, and a byte loop is twice the instructions.
#[inline]
fn split_at(line: &[u8], delim: u8, ends: &mut Vec<usize>) -> usize {
    const LO7: u64 = 0x7f7f_7f7f_7f7f_7f7f;
    let splat = u64::from(delim) * 0x0101_0101_0101_0101;
    let mut n = 0;
    let mut words = line.chunks_exact(8);
    let mut at = 0;
    for w in &mut words {
        let mut word = [0u8; 8];
        word.copy_from_slice(w);
        let x = u64::from_le_bytes(word) ^ splat;
        // High bit of each byte set exactly where the byte equals `delim` (no carries
        // between bytes, unlike the shorter has-zero-byte trick).
        let mut m = !(((x & LO7) + LO7) | x | LO7);
        if m != 0 {
            if n + 8 > ends.len() {
                ends.resize((ends.len() * 2).max(n + 8), 0);
            }
            while m != 0 {
                ends[n] = at + (m.trailing_zeros() / 8) as usize;
                n += 1;
                m &= m - 1;
            }
        }
        at += 8;
    }
    for &b in words.remainder() {
        if b == delim {
            if n == ends.len() {
                ends.resize(ends.len() * 2 + 1, 0);
            }
            ends[n] = at;
            n += 1;
        }
        at += 1;
    }
    n
}

/// An open file positioned after its header.
///
/// This drives `csv_core` (the parser inside the `csv` crate) directly rather than
/// `csv::Reader`: the reader's record positions are off for CRLF files and after blank
/// lines, and it grows a record without limit. Here every consumed byte is seen, so each
/// record gets the line its first field starts on, and a record is bounded by
/// [`MAX_RECORD_BYTES`].
struct Source {
    file: std::io::Take<std::fs::File>,
    core: csv_core::Reader,
    buf: Vec<u8>,
    pos: usize,
    end: usize,
    eof: bool,
    /// 1 + the line breaks consumed so far.
    line: u64,
    /// The quotes consumed so far (all in records read by [`Source::next_quoted`]: the
    /// other ways take only lines without quotes).
    quotes: u64,
    header: Vec<String>,
    /// Bytes of the file before the buffer's start.
    read_before: u64,
    delimiter: u8,
}

impl Source {
    fn open(path: &Path, delimiter: u8) -> Result<(Source, Record), Diagnostic> {
        let core = csv_core::ReaderBuilder::new().delimiter(delimiter).build();
        let mut src = Source {
            file: open(path)?.take(u64::MAX),
            core,
            buf: vec![0; BUFFER],
            pos: 0,
            end: 0,
            eof: false,
            line: 1,
            quotes: 0,
            header: Vec::new(),
            read_before: 0,
            delimiter,
        };
        let mut rec = Record::new();
        if !src.next(path, &mut rec)? {
            return Err(empty_file(path, "at least a header line with the column names"));
        }
        for (i, name) in rec.iter().enumerate() {
            match std::str::from_utf8(name) {
                Ok(s) => src.header.push(s.trim().to_string()),
                Err(_) => {
                    return Err(Diagnostic::error(
                        Code::InvalidUtf8,
                        format!(
                            "line {}: the header's column {} (`{}`) is not valid UTF-8",
                            rec.line,
                            i + 1,
                            show(name)
                        ),
                    )
                    .with_path(path)
                    .with_line_col(rec.line as usize, i + 1)
                    .with_help("save the file as UTF-8 (in a spreadsheet: \"CSV UTF-8\")"))
                }
            }
        }
        Ok((src, rec))
    }

    /// A source over bytes `start..end` of the file, which begin at a record boundary on
    /// line `line`.
    fn range(path: &Path, delimiter: u8, start: u64, end: u64, line: u64) -> Result<Source, Diagnostic> {
        use std::io::Seek;
        let mut file = open(path)?;
        file.seek(std::io::SeekFrom::Start(start)).map_err(|e| read_failed(path, line, &e))?;
        Ok(Source {
            file: file.take(end - start),
            core: csv_core::ReaderBuilder::new().delimiter(delimiter).build(),
            buf: vec![0; BUFFER],
            pos: 0,
            end: 0,
            eof: false,
            line,
            quotes: 0,
            header: Vec::new(),
            read_before: start,
            delimiter,
        })
    }

    /// The file offset of the next unread byte.
    fn offset(&self) -> u64 {
        self.read_before + self.pos as u64
    }

    /// Reads the next record; `false` at the end of the file.
    fn next(&mut self, path: &Path, rec: &mut Record) -> Result<bool, Diagnostic> {
        if self.next_plain(rec) {
            return Ok(true);
        }
        self.next_quoted(path, rec)
    }

    /// The fast path: a whole line in the buffer without quotes is split at the delimiter
    /// directly (no state machine). Between records csv-core is in its start state, so
    /// handing the rest to it afterwards stays consistent. Returns `false` when the next
    /// record needs the full parser (quotes, a line across buffer refills, end of file).
    fn next_plain(&mut self, rec: &mut Record) -> bool {
        loop {
            let rest = &self.buf[self.pos..self.end];
            let Some(nl) = memchr::memchr(b'\n', rest) else { return false };
            let mut line = &rest[..nl];
            if line.last() == Some(&b'\r') {
                line = &line[..line.len() - 1];
            }
            if line.is_empty() {
                // A blank line (or the `\n` of a `\r\n` split over two reads): skipped, as
                // csv-core does.
                self.pos += nl + 1;
                self.line += 1;
                continue;
            }
            // Quotes, and a bare `\r` (which csv-core takes as a line end), need the full parser.
            if memchr::memchr2(b'"', b'\r', line).is_some() {
                return false;
            }
            if rec.bytes.len() < line.len() {
                rec.bytes.resize(line.len().next_power_of_two(), 0);
            }
            // Keep the line whole and note where each field ends.
            rec.bytes[..line.len()].copy_from_slice(line);
            let nends = split_at(line, self.delimiter, &mut rec.ends);
            if nends == rec.ends.len() {
                rec.ends.resize(rec.ends.len() * 2, 0);
            }
            rec.ends[nends] = line.len();
            rec.len = nends + 1;
            rec.gap = 1;
            rec.line = self.line;
            self.line += 1;
            self.pos += nl + 1;
            return true;
        }
    }

    /// The next record as a line in the buffer (which may hold quotes or a bare `\r`), without
    /// consuming it: its bytes are `buf[start..end]`; [`Source::consume`] takes it.
    /// Skips blank lines as [`Source::next_plain`] does. `None` when the next record needs
    /// [`Source::next`].
    #[inline]
    fn peek_plain(&mut self) -> Option<(usize, usize, usize)> {
        loop {
            let rest = &self.buf[self.pos..self.end];
            let nl = memchr::memchr(b'\n', rest)?;
            let mut len = nl;
            if len > 0 && rest[len - 1] == b'\r' {
                len -= 1;
            }
            if len == 0 {
                self.pos += nl + 1;
                self.line += 1;
                continue;
            }
            // Quotes and bare `\r`s are left to the caller (see `fused_row`).
            return Some((self.pos, self.pos + len, self.pos + nl + 1));
        }
    }

    /// Consumes the line [`Source::peek_plain`] returned, which ends before `next`.
    #[inline]
    fn consume(&mut self, next: usize) {
        self.pos = next;
        self.line += 1;
    }

    fn next_quoted(&mut self, path: &Path, rec: &mut Record) -> Result<bool, Diagnostic> {
        use csv_core::ReadRecordResult as R;
        rec.gap = 0;
        let (mut nbytes, mut nends) = (0, 0);
        let mut started = false;
        rec.line = self.line;
        loop {
            if self.pos == self.end && !self.eof {
                self.read_before += self.end as u64;
                self.pos = 0;
                self.end = loop {
                    match self.file.read(&mut self.buf) {
                        Ok(n) => break n,
                        Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                        Err(e) => return Err(read_failed(path, self.line, &e)),
                    }
                };
                self.eof = self.end == 0;
            }
            let input = &self.buf[self.pos..self.end];
            let (res, nin, nout, nend) =
                self.core.read_record(input, &mut rec.bytes[nbytes..], &mut rec.ends[nends..]);
            let consumed = &input[..nin];
            // Blank lines and the `\n` of a previous `\r\n` come before the record's first
            // byte: they move its starting line.
            if !started {
                for &b in consumed {
                    match b {
                        b'\n' => rec.line += 1,
                        b'\r' => {}
                        _ => {
                            started = true;
                            break;
                        }
                    }
                }
            }
            self.line += memchr::memchr_iter(b'\n', consumed).count() as u64;
            self.quotes += memchr::memchr_iter(b'"', consumed).count() as u64;
            self.pos += nin;
            nbytes += nout;
            nends += nend;
            match res {
                R::InputEmpty => {}
                R::OutputFull => {
                    if rec.bytes.len() >= MAX_RECORD_BYTES {
                        return Err(too_long(path, rec.line, "record"));
                    }
                    rec.bytes.resize(rec.bytes.len() * 2, 0);
                }
                R::OutputEndsFull => {
                    if rec.ends.len() >= MAX_FIELDS {
                        return Err(too_long(path, rec.line, "record")
                            .with_help(format!("a record may have at most {MAX_FIELDS} fields")));
                    }
                    rec.ends.resize(rec.ends.len() * 2, 0);
                }
                R::Record => {
                    rec.len = nends;
                    return Ok(true);
                }
                R::End => return Ok(false),
            }
        }
    }
}

/// Reads the header and the first [`SNIFF_ROWS`] records to infer each column's type.
pub(super) fn sniff(path: &Path, delimiter: u8) -> Result<Sniff, Diagnostic> {
    let (mut src, mut rec) = Source::open(path, delimiter)?;
    let mut types: Vec<Option<ColType>> = vec![None; src.header.len()];
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

/// The header's layout: where the time column and each requested column are.
struct Layout {
    header: Vec<String>,
    time_field: usize,
    fields: Vec<usize>,
}

fn layout(req: &ReadRequest, header: Vec<String>) -> Result<Layout, Diagnostic> {
    let find = |name: &str, is_time: bool| {
        header
            .iter()
            .position(|h| h == name)
            .ok_or_else(|| missing_column(req, name, is_time, header.iter().map(String::as_str)))
    };
    let time_field = find(&req.time_column, true)?;
    let fields = req.columns.iter().map(|c| find(&c.name, false)).collect::<Result<Vec<usize>, _>>()?;
    Ok(Layout { header, time_field, fields })
}

/// Streams every record of a CSV/TSV file into batches.
pub(super) fn scan(req: &ReadRequest, delimiter: u8, sink: &mut Sink<'_>) -> Result<ScanStats, Diagnostic> {
    let path = req.path.as_path();
    let (mut src, mut rec) = Source::open(path, delimiter)?;
    let lay = layout(req, std::mem::take(&mut src.header))?;
    let out = Builder::new(req, sink);
    records(req, delimiter, &lay, &mut src, &mut rec, out).map(|(s, _)| s)
}

/// Below this many bytes of data a file is read by one thread.
const PARALLEL_MIN_BYTES: u64 = 8 << 20;

/// Streams a CSV/TSV file with one thread per sink, each over a contiguous range of
/// records; returns the merged stats and each thread's dictionaries.
///
/// The file is cut into equal raw ranges, and each range after the first starts just past
/// its first line break. Unless `exact`, that is a guess: a line break inside a quoted field
/// is no record boundary. Every part counts the quotes it reads, so at the end a start is
/// known good when an even number of quotes comes before it (outside any quoted field, as
/// quotes inside a field come in pairs); otherwise the scan returns
/// [`ParScan::Misaligned`]. A part's line numbers are known only once the parts before it
/// have counted theirs, so a part with a message to give (a bad row) is read again for
/// it. `exact` first counts the quotes and line breaks of each raw range in a parallel
/// pass, and moves each start to the first line break with an even number of quotes
/// before it: one more read of most of the file, for files whose quoted fields hold line
/// breaks.
pub(super) fn scan_parallel(
    req: &ReadRequest,
    delimiter: u8,
    sinks: Vec<&mut super::ParSink<'_>>,
    exact: bool,
) -> Result<ParScan, Diagnostic> {
    let path = req.path.as_path();
    let (mut src, mut rec) = Source::open(path, delimiter)?;
    let lay = layout(req, std::mem::take(&mut src.header))?;
    let data_start = src.offset();
    let header_line = src.line;
    let len = std::fs::metadata(path).map(|m| m.len()).unwrap_or(0);
    let threads = sinks.len();
    if threads <= 1 || len.saturating_sub(data_start) < PARALLEL_MIN_BYTES {
        let mut sinks = sinks;
        let Some(sink) = sinks.pop() else { return Ok(ParScan::Done(ScanStats::default(), Vec::new())) };
        let out = Builder::new(req, sink);
        let (stats, dicts) = records(req, delimiter, &lay, &mut src, &mut rec, out)?;
        // Only the last sink saw rows; the others hold nothing.
        let mut all = vec![vec![super::Dictionary::default(); req.columns.len()]; threads.max(1) - 1];
        all.push(dicts);
        return Ok(ParScan::Done(stats, all));
    }
    drop(src);
    let span = (len - data_start) / threads as u64;
    let raw: Vec<(u64, u64)> = (0..threads)
        .map(|i| {
            let s = data_start + span * i as u64;
            let e = if i + 1 == threads { len } else { data_start + span * (i as u64 + 1) };
            (s, e)
        })
        .collect();
    // Each part's start and, when known, its first line.
    let mut starts: Vec<(u64, Option<u64>)> = vec![(data_start, Some(header_line))];
    if exact {
        // Quotes and line breaks per raw range (but the last, which no range follows).
        let counts: Vec<Result<(u64, u64), Diagnostic>> = std::thread::scope(|sc| {
            let handles: Vec<_> =
                raw[..threads - 1].iter().map(|&(s, e)| sc.spawn(move || count_range(path, s, e))).collect();
            handles
                .into_iter()
                .map(|h| h.join().unwrap_or_else(|_| Err(read_failed(path, 0, &"a reader thread failed"))))
                .collect()
        });
        let counts = counts.into_iter().collect::<Result<Vec<_>, _>>()?;
        let (mut quotes, mut lines) = (0u64, header_line);
        for i in 1..threads {
            quotes += counts[i - 1].0;
            lines += counts[i - 1].1;
            let (start, extra) = align(path, raw[i].0, len, quotes % 2 == 1)?;
            starts.push((start, Some(lines + extra)));
        }
    } else {
        for &(s, _) in &raw[1..] {
            starts.push((align(path, s, len, false)?.0, None));
        }
    }
    starts.push((len, None));
    // One part: its rows into `sink`, with its first line `line` (1 when not yet known);
    // returns the result, and the quotes and line breaks it read.
    let part = |i: usize, end: u64, line: u64, sink: &mut super::ParSink<'_>| {
        let s = starts[i].0;
        let e = end.max(s);
        let mut src = Source::range(path, delimiter, s, e, line)?;
        let mut rec = Record::new();
        let got = records(req, delimiter, &lay, &mut src, &mut rec, Builder::new(req, sink));
        Ok::<_, Diagnostic>((got, src.quotes, src.line - line))
    };
    let results: Vec<_> = std::thread::scope(|sc| {
        let handles: Vec<_> = sinks
            .into_iter()
            .enumerate()
            .map(|(i, sink)| {
                let part = &part;
                let end = starts[i + 1].0;
                let line = starts[i].1.unwrap_or(1);
                sc.spawn(move || part(i, end, line, sink))
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().unwrap_or_else(|_| Err(read_failed(path, 0, &"a reader thread failed"))))
            .collect()
    });
    // In file order: a start is good when the quotes before it are even; the first failure
    // wins, as in a single-threaded read.
    let mut stats = ScanStats::default();
    let mut dicts = Vec::new();
    let (mut quotes, mut line) = (0u64, header_line);
    let mut discard = |_: &Batch, _: &[super::Dictionary]| Ok(());
    for (i, r) in results.into_iter().enumerate() {
        // (An exact split is taken as it is, even where a quote inside an unquoted field,
        // which csv-core reads as text, makes the count odd.)
        if !exact && quotes % 2 == 1 {
            return Ok(ParScan::Misaligned);
        }
        let (got, q, lines) = r?;
        let known = starts[i].1.is_some();
        let (s, d) = match got {
            Ok(sd) => sd,
            // Read again with its line numbers and on past its guessed end (a part that
            // ends inside a quoted field fails where the file does not).
            Err(_) if !exact => match part(i, len, line, &mut discard)?.0 {
                Err(e) => return Err(e),
                Ok(_) => return Ok(ParScan::Misaligned),
            },
            Err(e) => return Err(e),
        };
        // Skipped rows are told with their lines: read the part again for them (once
        // the quotes after it show that it ended at a record).
        let s = if s.skipped > 0 && !known {
            if (quotes + q) % 2 == 1 {
                return Ok(ParScan::Misaligned);
            }
            part(i, starts[i + 1].0, line, &mut discard)?.0?.0
        } else {
            s
        };
        quotes += q;
        line += lines;
        stats.rows += s.rows;
        stats.skipped += s.skipped;
        for k in s.first_skipped {
            if stats.first_skipped.len() < super::KEEP_SKIPPED {
                stats.first_skipped.push(k);
            }
        }
        dicts.push(d);
    }
    Ok(ParScan::Done(stats, dicts))
}

/// Counts quotes and line breaks in bytes `s..e`.
fn count_range(path: &Path, s: u64, e: u64) -> Result<(u64, u64), Diagnostic> {
    use std::io::Seek;
    let mut f = open(path)?;
    f.seek(std::io::SeekFrom::Start(s)).map_err(|err| read_failed(path, 0, &err))?;
    let mut f = f.take(e - s);
    let mut buf = vec![0u8; 1 << 20];
    let (mut q, mut nl) = (0u64, 0u64);
    loop {
        let n = match f.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(err) if err.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(err) => return Err(read_failed(path, 0, &err)),
        };
        q += memchr::memchr_iter(b'"', &buf[..n]).count() as u64;
        nl += memchr::memchr_iter(b'\n', &buf[..n]).count() as u64;
    }
    Ok((q, nl))
}

/// The first record start at or after `at` (just past a line break outside quotes), and
/// the line breaks skipped to reach it.
fn align(path: &Path, at: u64, len: u64, mut in_quote: bool) -> Result<(u64, u64), Diagnostic> {
    use std::io::Seek;
    let mut f = open(path)?;
    f.seek(std::io::SeekFrom::Start(at)).map_err(|err| read_failed(path, 0, &err))?;
    let mut buf = vec![0u8; 64 << 10];
    let (mut pos, mut lines) = (at, 0u64);
    while pos < len {
        let n = match f.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(err) if err.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(err) => return Err(read_failed(path, 0, &err)),
        };
        for &b in &buf[..n] {
            pos += 1;
            match b {
                b'"' => in_quote = !in_quote,
                b'\n' => {
                    lines += 1;
                    if !in_quote {
                        return Ok((pos, lines));
                    }
                }
                _ => {}
            }
        }
    }
    Ok((len, lines))
}

/// What the fused reader does with one field (or a run of number fields) of a record.
#[derive(Clone, Copy)]
enum Role {
    Skip,
    Time,
    /// `n` number fields in a row, read into the batch columns `numbers[at..at + n]`.
    Numbers(usize, usize),
    Key(usize),
    /// The index of the column among the text columns (its range in `texts`).
    Text(usize),
}

/// The fused reader's plan: roles of fields `0..fields` (the last one read), and the
/// batch columns of the number runs; `None` unless each field has at most one use.
struct Fused {
    roles: Vec<Role>,
    numbers: Vec<usize>,
    fields: usize,
    /// By byte: 0 within an unquoted field, [`DELIM`] for the delimiter, [`SPECIAL`] for a
    /// quote or `\r` (the line then needs the full parser).
    class: [u8; 256],
}

const DELIM: u8 = 1;
const SPECIAL: u8 = 2;

fn fused_plan(req: &ReadRequest, lay: &Layout, delimiter: u8) -> Option<Fused> {
    // A delimiter that can be part of a plain number would be misread.
    if delimiter.is_ascii_digit() || matches!(delimiter, b'.' | b'"' | b'\r' | b'\n') || delimiter >= 0x80 {
        return None;
    }
    let mut class = [0u8; 256];
    class[usize::from(b'"')] = SPECIAL;
    class[usize::from(b'\r')] = SPECIAL;
    class[usize::from(delimiter)] = DELIM;
    let last = lay.fields.iter().copied().chain([lay.time_field]).max()?;
    #[derive(Clone, Copy)]
    enum One {
        Skip,
        Time,
        Number(usize),
        Key(usize),
        Text(usize),
    }
    let mut per_field = vec![One::Skip; last + 1];
    per_field[lay.time_field] = One::Time;
    let mut texts = 0;
    for (i, (c, &f)) in req.columns.iter().zip(&lay.fields).enumerate() {
        if !matches!(per_field[f], One::Skip) {
            return None;
        }
        per_field[f] = match c.ty {
            ColType::Number => One::Number(i),
            ColType::Key => One::Key(i),
            ColType::Text => {
                texts += 1;
                One::Text(texts - 1)
            }
        };
    }
    let mut roles = Vec::new();
    let mut numbers = Vec::new();
    for one in per_field {
        match one {
            One::Number(c) => {
                if let Some(Role::Numbers(_, n)) = roles.last_mut() {
                    *n += 1;
                } else {
                    roles.push(Role::Numbers(numbers.len(), 1));
                }
                numbers.push(c);
            }
            One::Skip => roles.push(Role::Skip),
            One::Time => roles.push(Role::Time),
            One::Key(c) => roles.push(Role::Key(c)),
            One::Text(t) => roles.push(Role::Text(t)),
        }
    }
    Some(Fused { roles, numbers, fields: last + 1, class })
}

/// Where the field starting at `line[start]` ends (a delimiter or the line's end), and
/// whether its bytes are all ASCII with no quote or `\r` (`None` if not).
#[inline(always)]
fn field_end(line: &[u8], start: usize, class: &[u8; 256]) -> Option<usize> {
    let mut i = start;
    let mut high = 0u8;
    while let Some(&c) = line.get(i) {
        if class[usize::from(c)] != 0 {
            if class[usize::from(c)] == SPECIAL {
                return None;
            }
            break;
        }
        high |= c;
        i += 1;
    }
    (high < 0x80).then_some(i)
}

/// Where the field starting at `line[start]` ends; `None` at a quote or `\r`.
#[inline(always)]
fn skip_field(line: &[u8], start: usize, class: &[u8; 256]) -> Option<usize> {
    let mut i = start;
    while let Some(&c) = line.get(i) {
        match class[usize::from(c)] {
            0 => i += 1,
            DELIM => break,
            _ => return None,
        }
    }
    Some(i)
}

/// Reads one plain line straight into the batch, field by field, in one pass (no copy,
/// no list of field ends): numbers are parsed as they are scanned. Returns the row's day,
/// with its text fields' ranges in `texts`; `None` for anything unusual (the columns may
/// then hold part of the row, and the line goes the general way, which gives the same
/// values and the same messages).
#[inline(always)]
#[allow(clippy::too_many_arguments)]
fn fused_row(
    line: &[u8],
    plan: &Fused,
    width: usize,
    delim: u8,
    cols: &mut [ColumnData],
    texts: &mut [(usize, usize)],
    last_date: &mut Option<([u8; 10], i32)>,
    times: &TimeParser,
) -> Option<i32> {
    // Each field starts at `pos` and ends at a delimiter or at the line's end `n`; the next
    // starts one past. A field that starts past `n` is empty, so all fields were there
    // and the last ended at `n` exactly when `pos` ends up at `n + 1`.
    let mut pos = 0;
    let mut day = 0;
    let n = line.len();
    for role in &plan.roles {
        let end = match *role {
            Role::Numbers(at, k) => {
                let mut end = pos;
                for &c in plan.numbers.get(at..at + k)? {
                    let (v, e) = super::number::plain_at(line, pos, delim)?;
                    match cols.get_mut(c) {
                        Some(ColumnData::Number(col)) => col.push(v),
                        _ => return None,
                    }
                    end = e;
                    pos = e + 1;
                }
                end
            }
            // `last_date` holds only dates read here, which have no quote or `\r`.
            Role::Time => {
                let cached = match (line.get(pos..pos + 10), *last_date) {
                    (Some(b), Some((seen, d)))
                        if b == seen && line.get(pos + 10).is_none_or(|&c| c == delim) =>
                    {
                        Some(d)
                    }
                    _ => None,
                };
                match cached {
                    Some(d) => {
                        day = d;
                        pos + 10
                    }
                    None => {
                        let end = field_end(line, pos, &plan.class)?;
                        let tf = line.get(pos..end)?;
                        day = times.parse(tf).ok()?;
                        if let Ok(b) = <[u8; 10]>::try_from(tf) {
                            *last_date = Some((b, day));
                        }
                        end
                    }
                }
            }
            Role::Key(c) => {
                let end = field_end(line, pos, &plan.class)?;
                match cols.get_mut(c) {
                    Some(ColumnData::Key(col)) => col.push(key_of_field(line.get(pos..end)?)),
                    _ => return None,
                }
                end
            }
            Role::Text(t) => {
                let end = field_end(line, pos, &plan.class)?;
                *texts.get_mut(t)? = (pos, end);
                end
            }
            // Skipped fields may hold any UTF-8 (not checked by the general way either).
            Role::Skip => skip_field(line, pos, &plan.class)?,
        };
        pos = end + 1;
    }
    if plan.fields == width {
        if pos != n + 1 {
            return None;
        }
    } else if pos > n
        || memchr::memchr2(b'"', b'\r', &line[pos..]).is_some()
        || memchr::memchr_iter(delim, &line[pos..]).count() + 1 != width - plan.fields
    {
        // The fields after the last one read: exactly as many as the header has left, and
        // no quote or `\r` among them.
        return None;
    }
    Some(day)
}

/// Reads the records of `src` into `out`'s batches.
fn records(
    req: &ReadRequest,
    delimiter: u8,
    lay: &Layout,
    src: &mut Source,
    rec: &mut Record,
    mut out: Builder<'_>,
) -> Result<(ScanStats, Vec<super::Dictionary>), Diagnostic> {
    let times = TimeParser::new(req.timezone.as_deref())?;
    let path = req.path.as_path();
    let (time_field, fields) = (lay.time_field, &lay.fields);
    let width = lay.header.len();

    let text_cols: Vec<(usize, usize)> = (req.columns.iter().zip(fields).enumerate())
        .filter(|(_, (c, _))| c.ty == ColType::Text)
        .map(|(i, (_, &f))| (i, f))
        .collect();
    // The last ISO date read and its day: rows often come sorted by date.
    let mut last_date: Option<([u8; 10], i32)> = None;
    let fused = fused_plan(req, lay, delimiter);
    // The fused reader's own last date: only dates it read, so never one with a quote or `\r`.
    let mut fused_date: Option<([u8; 10], i32)> = None;
    let mut ranges = vec![(0usize, 0usize); text_cols.len()];
    loop {
        if let Some(plan) = fused.as_ref() {
            if let Some((start, end, next)) = src.peek_plain() {
                let line = &src.buf[start..end];
                let got = fused_row(
                    line,
                    plan,
                    width,
                    delimiter,
                    &mut out.batch.columns,
                    &mut ranges,
                    &mut fused_date,
                    &times,
                );
                match got {
                    Some(day) => {
                        for (&(i, _), &(s, e)) in text_cols.iter().zip(&ranges) {
                            if let (Some(ColumnData::Text(v)), Some(dict)) =
                                (out.batch.columns.get_mut(i), out.dicts.get_mut(i))
                            {
                                v.push(if s == e { NULL_ID } else { dict.intern(&line[s..e]) });
                            }
                        }
                        let line = src.line;
                        src.consume(next);
                        out.end_row(day, line)?;
                        continue;
                    }
                    None => {
                        let kept = out.batch.len;
                        out.batch.columns.iter_mut().for_each(|c| c.truncate(kept));
                    }
                }
            }
        }
        if !src.next(path, rec)? {
            break;
        }
        let line = rec.line;
        // First check the whole record, so a bad row leaves no trace in the batch or the
        // dictionaries; then store it.
        let checked = (|| {
            if rec.len() != width {
                return Err(Fault::Ragged(rec.len()));
            }
            let tf = &rec[time_field];
            let day = match (<[u8; 10]>::try_from(tf), last_date) {
                (Ok(b), Some((seen, day))) if b == seen => day,
                (b, _) => {
                    let day = times.parse(tf).map_err(|_| Fault::Time(time_field))?;
                    if let Ok(b) = b {
                        last_date = Some((b, day));
                    }
                    day
                }
            };
            // Numbers and keys go straight into the batch (taken back if the row is bad);
            // text is interned only once the whole row is good.
            for (col, &f) in out.batch.columns.iter_mut().zip(fields) {
                let b = &rec[f];
                match col {
                    ColumnData::Number(v) => v.push(parse_number(b).ok_or(Fault::Number(f))?),
                    ColumnData::Key(v) => {
                        if !b.is_ascii() {
                            std::str::from_utf8(b).map_err(|_| Fault::Utf8(f))?;
                        }
                        v.push(key_of_field(b));
                    }
                    ColumnData::Text(_) => {
                        if !b.is_ascii() {
                            std::str::from_utf8(b).map_err(|_| Fault::Utf8(f))?;
                        }
                    }
                }
            }
            Ok(day)
        })();
        let day = match checked {
            Ok(day) => day,
            Err(fault) => {
                let kept = out.batch.len;
                out.batch.columns.iter_mut().for_each(|c| c.truncate(kept));
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
                    Fault::Number(f) => bad_number(req, line, f + 1, &lay.header[f], &rec[f]),
                    Fault::Utf8(f) => bad_utf8(req, line, f + 1, &lay.header[f], &rec[f]),
                };
                out.reject(line, diag)?;
                continue;
            }
        };
        for &(i, f) in &text_cols {
            if let (Some(ColumnData::Text(v)), Some(dict)) =
                (out.batch.columns.get_mut(i), out.dicts.get_mut(i))
            {
                let bytes = &rec[f];
                v.push(if bytes.is_empty() { NULL_ID } else { dict.intern(bytes) });
            }
        }
        out.end_row(day, line)?;
    }
    out.finish()
}
