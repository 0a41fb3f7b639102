//! NDJSON: one JSON object per line; blank lines are skipped.
//!
//! Only the requested keys are looked at: a streaming visitor matches each key against
//! them and copies the value into a reused cell, so no per-row map or `String` is built.

use super::number::parse_number;
use super::time::{TimeFault, TimeParser};
use super::{
    bad_number, bad_time, bad_utf8, empty_file, missing_column, open, read_failed, show, too_long, Builder,
    Sink, MAX_RECORD_BYTES, SKIP_HINT, SNIFF_ROWS,
};
use crate::diagnostic::{Code, Diagnostic};
use crate::engine::batch::{ColType, ColumnData, NULL_ID};
use crate::engine::distinct::{key_of_field, NULL_KEY};
use crate::engine::source::{ReadRequest, ScanStats, Sniff};
use serde::de::{DeserializeSeed, IgnoredAny, MapAccess, SeqAccess, Visitor};
use std::fmt::Write as _;
use std::io::{BufRead, BufReader};
use std::path::Path;

/// Key names remembered for "did you mean" and the list of available keys.
const KEEP_KEYS: usize = 200;

enum LineError {
    Io(std::io::Error),
    TooLong,
}

/// Reads lines into a reused buffer, refusing lines longer than [`MAX_RECORD_BYTES`].
struct Lines {
    inner: BufReader<std::fs::File>,
    number: u64,
}

impl Lines {
    fn open(path: &Path) -> Result<Lines, Diagnostic> {
        Ok(Lines { inner: BufReader::with_capacity(64 << 10, open(path)?), number: 0 })
    }

    /// The next line without its `\n`/`\r\n` (and without a BOM on line 1); `false` at
    /// the end of the file.
    fn next(&mut self, buf: &mut Vec<u8>) -> Result<bool, LineError> {
        buf.clear();
        let mut any = false;
        loop {
            let avail = self.inner.fill_buf().map_err(LineError::Io)?;
            if avail.is_empty() {
                break;
            }
            any = true;
            let (take, done) = match memchr::memchr(b'\n', avail) {
                Some(i) => (i, true),
                None => (avail.len(), false),
            };
            if buf.len() + take > MAX_RECORD_BYTES {
                return Err(LineError::TooLong);
            }
            buf.extend_from_slice(&avail[..take]);
            self.inner.consume(take + usize::from(done));
            if done {
                break;
            }
        }
        if !any {
            return Ok(false);
        }
        self.number += 1;
        if buf.last() == Some(&b'\r') {
            buf.pop();
        }
        if self.number == 1 && buf.starts_with(b"\xEF\xBB\xBF") {
            buf.drain(..3);
        }
        Ok(true)
    }

    fn next_or_fail(&mut self, path: &Path, buf: &mut Vec<u8>) -> Result<bool, Diagnostic> {
        self.next(buf).map_err(|e| match e {
            LineError::Io(e) => read_failed(path, self.number + 1, &e),
            LineError::TooLong => too_long(path, self.number + 1, "line"),
        })
    }
}

/// One requested key's value on the current line.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Kind {
    Missing,
    Null,
    U64(u64),
    I64(i64),
    F64(f64),
    Bool(bool),
    /// In [`Cell::text`].
    Str,
    Object,
    Array,
}

#[derive(Debug)]
struct Cell {
    kind: Kind,
    text: String,
    seen: bool,
}

impl Cell {
    /// The value's text for a text column (`None` for null), written into `scratch`
    /// unless it is a string already.
    fn text<'a>(&'a self, scratch: &'a mut String) -> Option<&'a str> {
        scratch.clear();
        let _ = match self.kind {
            Kind::Missing | Kind::Null => return None,
            Kind::Str => return Some(&self.text),
            Kind::U64(v) => write!(scratch, "{v}"),
            Kind::I64(v) => write!(scratch, "{v}"),
            Kind::F64(v) => write!(scratch, "{v}"),
            Kind::Bool(v) => write!(scratch, "{v}"),
            Kind::Object => write!(scratch, "{{…}}"),
            Kind::Array => write!(scratch, "[…]"),
        };
        Some(scratch)
    }

    /// The value as shown in a message.
    fn show(&self) -> String {
        let mut s = String::new();
        let t = self.text(&mut s).map(|t| show(t.as_bytes()));
        t.unwrap_or_else(|| "null".into())
    }
}

/// The distinct requested keys and their cells for the current line.
struct Row {
    names: Vec<String>,
    cells: Vec<Cell>,
    /// Other keys seen (a few, early in the file), for messages.
    other_keys: Vec<String>,
    collect_other: bool,
}

impl Row {
    fn slot(&mut self, name: &str) -> usize {
        if let Some(i) = self.names.iter().position(|n| n == name) {
            return i;
        }
        self.names.push(name.to_string());
        self.cells.push(Cell { kind: Kind::Missing, text: String::new(), seen: false });
        self.names.len() - 1
    }

    fn available(&self) -> impl Iterator<Item = &str> + Clone {
        self.names
            .iter()
            .zip(&self.cells)
            .filter(|(_, c)| c.seen)
            .map(|(n, _)| n.as_str())
            .chain(self.other_keys.iter().map(String::as_str))
    }
}

struct RowSeed<'a>(&'a mut Row);

impl<'de> DeserializeSeed<'de> for RowSeed<'_> {
    type Value = ();
    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for RowSeed<'_> {
    type Value = ();
    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a JSON object")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        while let Some(key) = map.next_key_seed(KeySeed(&mut *self.0))? {
            match key {
                Some(i) => {
                    let cell = &mut self.0.cells[i];
                    cell.seen = true;
                    map.next_value_seed(CellSeed(cell))?;
                }
                None => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        Ok(())
    }
}

struct KeySeed<'a>(&'a mut Row);

impl<'de> DeserializeSeed<'de> for KeySeed<'_> {
    type Value = Option<usize>;
    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<Option<usize>, D::Error> {
        d.deserialize_str(self)
    }
}

impl<'de> Visitor<'de> for KeySeed<'_> {
    type Value = Option<usize>;
    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a key")
    }
    fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Option<usize>, E> {
        let row = self.0;
        let found = row.names.iter().position(|n| n == v);
        if found.is_none()
            && row.collect_other
            && row.other_keys.len() < KEEP_KEYS
            && !row.other_keys.iter().any(|k| k == v)
        {
            row.other_keys.push(v.to_string());
        }
        Ok(found)
    }
}

struct CellSeed<'a>(&'a mut Cell);

impl<'de> DeserializeSeed<'de> for CellSeed<'_> {
    type Value = ();
    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for CellSeed<'_> {
    type Value = ();
    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a JSON value")
    }
    fn visit_unit<E>(self) -> Result<(), E> {
        self.0.kind = Kind::Null;
        Ok(())
    }
    fn visit_bool<E>(self, v: bool) -> Result<(), E> {
        self.0.kind = Kind::Bool(v);
        Ok(())
    }
    fn visit_u64<E>(self, v: u64) -> Result<(), E> {
        self.0.kind = Kind::U64(v);
        Ok(())
    }
    fn visit_i64<E>(self, v: i64) -> Result<(), E> {
        self.0.kind = Kind::I64(v);
        Ok(())
    }
    fn visit_f64<E>(self, v: f64) -> Result<(), E> {
        self.0.kind = Kind::F64(v);
        Ok(())
    }
    fn visit_str<E>(self, v: &str) -> Result<(), E> {
        self.0.text.clear();
        self.0.text.push_str(v);
        self.0.kind = Kind::Str;
        Ok(())
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
        self.0.kind = Kind::Object;
        Ok(())
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        self.0.kind = Kind::Array;
        Ok(())
    }
}

/// Parses one line into `row`'s cells; the error is the message of a `BadJsonLine`.
fn parse_line(text: &str, row: &mut Row) -> Result<(), (String, usize)> {
    let start = text.len() - text.trim_start().len();
    if !text[start..].starts_with('{') {
        let shown: String = text[start..].chars().take(20).collect();
        return Err((
            format!("is not a JSON object (it starts with `{}`)", show(shown.as_bytes())),
            start + 1,
        ));
    }
    for c in &mut row.cells {
        c.kind = Kind::Missing;
    }
    let mut de = serde_json::Deserializer::from_str(text);
    RowSeed(row).deserialize(&mut de).and_then(|()| de.end()).map_err(|e| {
        let full = e.to_string();
        let msg = full.rsplit_once(" at line ").map_or(full.as_str(), |(m, _)| m);
        (format!("is not valid JSON: {msg} (at character {})", e.column()), e.column())
    })
}

/// Why a line was rejected.
enum Fault {
    Utf8(usize),
    Json(String, usize),
    TimeMissing,
    Time(Option<String>),
    Number(usize),
    Nested(usize),
}

/// Streams every object line of an NDJSON file into batches.
pub(super) fn scan(
    req: &ReadRequest,
    sink: &mut Sink<'_>,
) -> Result<(ScanStats, Vec<super::Dictionary>), Diagnostic> {
    let times = TimeParser::new(req.timezone.as_deref())?;
    let path = req.path.as_path();
    let mut lines = Lines::open(path)?;
    let mut row = Row { names: Vec::new(), cells: Vec::new(), other_keys: Vec::new(), collect_other: true };
    let time_cell = row.slot(&req.time_column);
    let cols: Vec<usize> = req.columns.iter().map(|c| row.slot(&c.name)).collect();

    let mut out = Builder::new(req, sink);
    let mut buf = Vec::new();
    let mut numbers = vec![0.0f64; req.columns.len()];
    let mut scratch = String::new();
    let mut objects = 0u64;
    let mut any_line = false;
    while lines.next_or_fail(path, &mut buf)? {
        any_line = true;
        if buf.trim_ascii().is_empty() {
            continue;
        }
        let line = lines.number;
        objects += 1;
        row.collect_other = objects <= SNIFF_ROWS as u64;
        let checked = (|| {
            let text = std::str::from_utf8(&buf).map_err(|e| Fault::Utf8(e.valid_up_to()))?;
            parse_line(text, &mut row).map_err(|(m, c)| Fault::Json(m, c))?;
            let t = &row.cells[time_cell];
            let day = match t.kind {
                Kind::Missing => return Err(Fault::TimeMissing),
                Kind::Str => times.parse(t.text.as_bytes()),
                Kind::Null => Err(TimeFault::Empty),
                _ => Err(TimeFault::Invalid),
            }
            .map_err(|f| Fault::Time((f == TimeFault::Invalid).then(|| t.show())))?;
            for (i, (c, &cell)) in req.columns.iter().zip(&cols).enumerate() {
                let cell = &row.cells[cell];
                match (c.ty, cell.kind) {
                    (_, Kind::Object | Kind::Array) => return Err(Fault::Nested(i)),
                    (ColType::Text | ColType::Key, _) => {}
                    (ColType::Number, Kind::Missing | Kind::Null) => numbers[i] = f64::NAN,
                    (ColType::Number, Kind::U64(v)) => numbers[i] = v as f64,
                    (ColType::Number, Kind::I64(v)) => numbers[i] = v as f64,
                    (ColType::Number, Kind::F64(v)) => numbers[i] = v,
                    (ColType::Number, Kind::Str) => {
                        numbers[i] = parse_number(cell.text.as_bytes()).ok_or(Fault::Number(i))?
                    }
                    (ColType::Number, Kind::Bool(_)) => return Err(Fault::Number(i)),
                }
            }
            Ok(day)
        })();
        let day = match checked {
            Ok(day) => day,
            Err(fault) => {
                let name = |i: usize| req.columns[i].name.as_str();
                let diag = match fault {
                    Fault::Utf8(at) => {
                        let end = (at + 20).min(buf.len());
                        let mut d = bad_utf8(req, line, 0, "", &buf[at..end]);
                        d.message = format!("line {line} is not valid UTF-8 (at byte {})", at + 1);
                        d.with_line_col(line as usize, at + 1)
                    }
                    Fault::Json(msg, col) => Diagnostic::error(Code::BadJsonLine, format!("line {line} {msg}"))
                        .with_path(path)
                        .with_line_col(line as usize, col)
                        .with_help(format!("write one JSON object per line, like {{\"date\": \"2026-10-05\", \"likes\": 12}}, {SKIP_HINT}")),
                    Fault::TimeMissing => {
                        let others = row.available().filter(|k| *k != req.time_column.as_str());
                        let mut d = missing_column(req, &req.time_column, true, others);
                        d.message = format!("line {line}: {}", d.message.replace(" is not in ", " is not a key of the object in "));
                        d.with_line_col(line as usize, 0)
                    }
                    Fault::Time(v) => bad_time(req, line, 0, v.as_deref().map(str::as_bytes)),
                    Fault::Number(i) => {
                        bad_number(req, line, 0, name(i), row.cells[cols[i]].show().as_bytes())
                    }
                    Fault::Nested(i) => Diagnostic::error(
                        Code::BadJsonLine,
                        format!(
                            "line {line}: the value of `{}` is {}; a column needs a string, a number, a boolean or null",
                            name(i),
                            if row.cells[cols[i]].kind == Kind::Object { "an object" } else { "an array" }
                        ),
                    )
                    .with_path(path)
                    .with_line_col(line as usize, 0)
                    .with_help(format!("flatten the value into its own key, {SKIP_HINT}")),
                };
                out.reject(line, diag)?;
                continue;
            }
        };
        for (i, (col, &cell)) in out.batch.columns.iter_mut().zip(&cols).enumerate() {
            match col {
                ColumnData::Number(v) => v.push(numbers[i]),
                ColumnData::Text(v) => v.push(match row.cells[cell].text(&mut scratch) {
                    Some(t) if !t.is_empty() => out.dicts[i].intern(t.as_bytes()),
                    _ => NULL_ID,
                }),
                ColumnData::Key(v) => v.push(match row.cells[cell].text(&mut scratch) {
                    Some(t) => key_of_field(t.as_bytes()),
                    None => NULL_KEY,
                }),
            }
        }
        out.end_row(day, line)?;
    }
    if !any_line {
        return Err(empty_file(path, "at least one line with a JSON object"));
    }
    // Keys may be left out of a line (null), so a column is missing only if no line had it.
    if objects > 0 {
        for (i, &cell) in cols.iter().enumerate() {
            if !row.cells[cell].seen {
                return Err(missing_column(req, &req.columns[i].name, false, row.available()));
            }
        }
    }
    out.finish()
}

/// Reads up to [`SNIFF_ROWS`] object lines; the keys in order of first appearance, typed
/// by their values. Lines that are not JSON objects are left to the scan to report.
pub(super) fn sniff(path: &Path) -> Result<Sniff, Diagnostic> {
    let mut lines = Lines::open(path)?;
    let mut buf = Vec::new();
    let mut sniff = Sniff::default();
    let mut objects = 0;
    let mut any_line = false;
    while objects < SNIFF_ROWS && lines.next_or_fail(path, &mut buf)? {
        any_line = true;
        let Ok(text) = std::str::from_utf8(&buf) else { continue };
        if text.trim().is_empty() {
            continue;
        }
        if let Ok(serde_json::Value::Object(map)) = serde_json::from_str::<serde_json::Value>(text) {
            objects += 1;
            // serde_json's map is sorted; take the key order from the text instead.
            for (key, value) in keys_in_order(text, &map) {
                let ty = match value {
                    serde_json::Value::Null => None,
                    serde_json::Value::Number(_) => Some(ColType::Number),
                    serde_json::Value::String(s) if s.trim().is_empty() => None,
                    serde_json::Value::String(s) => Some(if parse_number(s.as_bytes()).is_some() {
                        ColType::Number
                    } else {
                        ColType::Text
                    }),
                    _ => Some(ColType::Text),
                };
                match sniff.columns.iter_mut().find(|(n, _)| n == key) {
                    Some((_, t)) => {
                        if *t != Some(ColType::Text) && ty.is_some() {
                            *t = ty;
                        }
                    }
                    None => sniff.columns.push((key.to_string(), ty)),
                }
            }
        }
    }
    if !any_line {
        return Err(empty_file(path, "at least one line with a JSON object"));
    }
    Ok(sniff)
}

/// The entries of `map` in the order their keys appear in `text`.
fn keys_in_order<'m>(
    text: &str,
    map: &'m serde_json::Map<String, serde_json::Value>,
) -> Vec<(&'m str, &'m serde_json::Value)> {
    let mut row = Row { names: Vec::new(), cells: Vec::new(), other_keys: Vec::new(), collect_other: true };
    let mut de = serde_json::Deserializer::from_str(text);
    let _ = RowSeed(&mut row).deserialize(&mut de);
    let mut out: Vec<(&str, &serde_json::Value)> = row
        .other_keys
        .iter()
        .filter_map(|k| map.get_key_value(k.as_str()))
        .map(|(k, v)| (k.as_str(), v))
        .collect();
    // Keys beyond the remembered few keep the map's order.
    for (k, v) in map {
        if !out.iter().any(|(o, _)| o == k) {
            out.push((k.as_str(), v));
        }
    }
    out
}
