//! The local readers against real files: formats, robustness, bad rows, batching.
#![allow(clippy::result_large_err)]

use kpi_rules::diagnostic::{render_human, Code, Diagnostic, Sources};
use kpi_rules::engine::batch::{Batch, ColType, ColumnData, Dictionary, BATCH_ROWS, NULL_ID};
use kpi_rules::engine::readers::time::days_from_civil;
use kpi_rules::engine::readers::LocalFiles;
use kpi_rules::engine::source::{BadRowPolicy, ColumnRequest, FileFormat, ReadRequest, Scan, ScanStats};
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};

/// A file in its own folder under the temp dir, removed when dropped.
struct TempFile(PathBuf);

impl TempFile {
    fn new(name: &str, bytes: &[u8]) -> TempFile {
        static N: AtomicUsize = AtomicUsize::new(0);
        let dir = std::env::temp_dir().join(format!(
            "kpi-readers-{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        ));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join(name);
        std::fs::write(&path, bytes).unwrap();
        TempFile(path)
    }
}

impl Drop for TempFile {
    fn drop(&mut self) {
        if let Some(dir) = self.0.parent() {
            let _ = std::fs::remove_dir_all(dir);
        }
    }
}

/// One read value, owned.
#[derive(Debug, Clone, PartialEq)]
enum V {
    N(f64),
    T(String),
    Null,
}

fn t(s: &str) -> V {
    V::T(s.to_string())
}

#[derive(Debug, PartialEq)]
struct Row {
    day: i32,
    line: u64,
    values: Vec<V>,
}

fn req(path: &std::path::Path, cols: &[(&str, ColType)]) -> ReadRequest {
    ReadRequest {
        dataset: "posts".into(),
        path: path.to_path_buf(),
        format: FileFormat::from_path(path).unwrap(),
        time_column: "date".into(),
        columns: cols.iter().map(|(n, t)| ColumnRequest { name: n.to_string(), ty: *t }).collect(),
        on_bad_row: BadRowPolicy::Fail,
        timezone: None,
    }
}

fn collect(r: &ReadRequest) -> Result<(Vec<Row>, ScanStats), Diagnostic> {
    let mut rows = Vec::new();
    let stats = LocalFiles.scan(r, &mut |b: &Batch, dicts: &[Dictionary]| {
        assert_eq!(dicts.len(), r.columns.len());
        assert!(b.len <= BATCH_ROWS && b.len > 0);
        assert_eq!(b.time.len(), b.len);
        assert_eq!(b.lines.len(), b.len);
        for i in 0..b.len {
            let values = b
                .columns
                .iter()
                .zip(dicts)
                .map(|(c, d)| match c {
                    ColumnData::Number(v) if v[i].is_nan() => V::Null,
                    ColumnData::Number(v) => V::N(v[i]),
                    ColumnData::Text(v) if v[i] == NULL_ID => V::Null,
                    ColumnData::Text(v) => t(d.get(v[i]).unwrap()),
                    ColumnData::Key(v) if v[i] == kpi_rules::engine::distinct::NULL_KEY => V::Null,
                    ColumnData::Key(v) => V::N(v[i] as f64),
                })
                .collect();
            rows.push(Row { day: b.time[i], line: b.lines[i], values });
        }
        Ok(())
    })?;
    assert_eq!(stats.rows, rows.len() as u64);
    Ok((rows, stats))
}

fn day(s: &str) -> i32 {
    let mut it = s.split('-').map(|p| p.parse::<u32>().unwrap());
    let (y, m, d) = (it.next().unwrap(), it.next().unwrap(), it.next().unwrap());
    days_from_civil(y as i32, m, d)
}

fn rendered(d: &Diagnostic) -> String {
    render_human(d, &Sources::new())
}

const NT: [(&str, ColType); 2] = [("likes", ColType::Number), ("channel", ColType::Text)];

#[test]
fn reads_a_plain_csv() {
    let f = TempFile::new(
        "posts.csv",
        b"date,channel,likes,unused\n2026-10-05,instagram,12,x\n2026-10-06,,-3.5,y\n2026-10-07,tiktok,,z\n",
    );
    let (rows, stats) = collect(&req(&f.0, &NT)).unwrap();
    assert_eq!(stats.skipped, 0);
    assert_eq!(
        rows,
        vec![
            Row { day: day("2026-10-05"), line: 2, values: vec![V::N(12.0), t("instagram")] },
            Row { day: day("2026-10-06"), line: 3, values: vec![V::N(-3.5), V::Null] },
            Row { day: day("2026-10-07"), line: 4, values: vec![V::Null, t("tiktok")] },
        ]
    );
}

#[test]
fn reads_tsv() {
    let f = TempFile::new("posts.tsv", b"date\tlikes\tchannel\n2026-10-05\t 1e3 \ta,b\n");
    let (rows, _) = collect(&req(&f.0, &NT)).unwrap();
    assert_eq!(rows[0].values, vec![V::N(1000.0), t("a,b")]);
}

#[test]
fn bom_crlf_and_quotes() {
    let text = "\u{feff}date,likes,channel\r\n2026-10-05,+2,\"a, b\"\r\n2026-10-06,3,\"say \"\"hi\"\"\"\r\n2026-10-07,4,\"two\r\nlines\"\r\n2026-10-08,5,last\r\n";
    let f = TempFile::new("q.csv", text.as_bytes());
    let (rows, _) = collect(&req(&f.0, &NT)).unwrap();
    let got: Vec<(u64, V)> = rows.iter().map(|r| (r.line, r.values[1].clone())).collect();
    assert_eq!(got, vec![(2, t("a, b")), (3, t("say \"hi\"")), (4, t("two\r\nlines")), (6, t("last"))]);
    assert_eq!(rows[0].values[0], V::N(2.0));
}

#[test]
fn blank_lines_keep_line_numbers_right() {
    let f = TempFile::new("b.csv", b"date,likes,channel\n\n2026-10-05,1,a\n\n\n2026-10-06,2,b\n");
    let (rows, _) = collect(&req(&f.0, &NT)).unwrap();
    assert_eq!(rows.iter().map(|r| r.line).collect::<Vec<_>>(), vec![3, 6]);
    let f = TempFile::new("b.csv", b"date,likes,channel\n\n2026-10-05,1x,a\n");
    let e = collect(&req(&f.0, &NT)).unwrap_err();
    assert!(e.message.starts_with("line 3:"), "{}", e.message);
}

#[test]
fn empty_file_is_an_error() {
    let f = TempFile::new("empty.csv", b"");
    let e = collect(&req(&f.0, &NT)).unwrap_err();
    assert_eq!(e.code, Code::SourceUnreadable);
    assert!(e.message.contains("is empty") && e.message.contains("header"), "{}", e.message);
    assert!(LocalFiles.sniff(&f.0, FileFormat::Csv).is_err());
}

#[test]
fn header_only_has_no_rows() {
    let f = TempFile::new("h.csv", b"date,likes,channel\n");
    let (rows, stats) = collect(&req(&f.0, &NT)).unwrap();
    assert!(rows.is_empty());
    assert_eq!((stats.rows, stats.skipped), (0, 0));
    let f = TempFile::new("h.csv", b"date,likes,channel");
    assert!(collect(&req(&f.0, &NT)).unwrap().0.is_empty());
}

#[test]
fn missing_and_unreadable_files() {
    let dir = std::env::temp_dir().join(format!("kpi-readers-missing-{}", std::process::id()));
    let e = collect(&req(&dir.join("nope.csv"), &NT)).unwrap_err();
    assert_eq!(e.code, Code::SourceUnreadable);
    assert!(e.message.contains("nope.csv") && e.message.contains("No such file"), "{}", e.message);
    let e = LocalFiles.sniff(&dir.join("nope.csv"), FileFormat::Csv).unwrap_err();
    assert_eq!(e.code, Code::SourceUnreadable);

    let f = TempFile::new("x.csv", b"");
    let d = f.0.parent().unwrap().join("adir.csv");
    std::fs::create_dir(&d).unwrap();
    let e = collect(&req(&d, &NT)).unwrap_err();
    assert_eq!(e.code, Code::SourceUnreadable);
    assert!(e.message.contains("directory"), "{}", e.message);
}

#[test]
fn ragged_rows_fail_or_are_skipped() {
    let text = b"date,likes,channel\n2026-10-05,1,a\n2026-10-06,2\n2026-10-07,3,c,extra\n2026-10-08,4,d\n";
    let f = TempFile::new("r.csv", text);
    let e = collect(&req(&f.0, &NT)).unwrap_err();
    assert_eq!(e.code, Code::RaggedRow);
    assert_eq!(e.message, "line 3 has 2 fields, the header has 3");
    assert!(rendered(&e).contains("r.csv:3"), "{}", rendered(&e));

    let mut r = req(&f.0, &NT);
    r.on_bad_row = BadRowPolicy::Skip;
    let (rows, stats) = collect(&r).unwrap();
    assert_eq!(rows.iter().map(|r| r.line).collect::<Vec<_>>(), vec![2, 5]);
    assert_eq!(stats.skipped, 2);
    assert_eq!(stats.first_skipped.iter().map(|s| s.line).collect::<Vec<_>>(), vec![3, 4]);
    assert!(stats.first_skipped[1].reason.contains("has 4 fields"));
}

#[test]
fn bad_number_names_file_line_column_and_value() {
    let f = TempFile::new("posts.csv", b"date,channel,likes\n2026-10-05,a,1\n2026-10-06,b,12a\n");
    let e = collect(&req(&f.0, &NT)).unwrap_err();
    assert_eq!(e.code, Code::BadNumber);
    assert_eq!(e.line_col, Some((3, 3)));
    let text = rendered(&e);
    for part in
        ["posts.csv:3:3", "line 3", "`likes`", "`12a`", "--on-bad-row skip", "declare the column as text"]
    {
        assert!(text.contains(part), "{part} not in {text}");
    }
}

#[test]
fn skip_counts_every_bad_row_and_keeps_five() {
    let mut text = String::from("date,likes,channel\n");
    for i in 0..20 {
        text.push_str(&format!("2026-10-05,{},c\n", if i % 2 == 0 { "1" } else { "bad" }));
    }
    let f = TempFile::new("s.csv", text.as_bytes());
    let mut r = req(&f.0, &NT);
    r.on_bad_row = BadRowPolicy::Skip;
    let (rows, stats) = collect(&r).unwrap();
    assert_eq!((rows.len(), stats.rows, stats.skipped), (10, 10, 10));
    assert_eq!(stats.first_skipped.len(), 5);
    assert_eq!(stats.first_skipped[0].line, 3);
    assert!(stats.first_skipped[0].reason.contains("`bad`"));
}

#[test]
fn skipped_rows_leave_no_dictionary_entries() {
    let f = TempFile::new("s.csv", b"date,likes,channel\n2026-10-05,x,ghost\n2026-10-05,1,real\n");
    let mut r = req(&f.0, &NT);
    r.on_bad_row = BadRowPolicy::Skip;
    let mut seen = 0;
    LocalFiles
        .scan(&r, &mut |_, dicts| {
            seen = dicts[1].len();
            assert_eq!(dicts[1].lookup("ghost"), None);
            Ok(())
        })
        .unwrap();
    assert_eq!(seen, 1);
}

#[test]
fn bad_and_empty_dates() {
    let f = TempFile::new("d.csv", b"date,likes,channel\n2026-02-30,1,a\n");
    let e = collect(&req(&f.0, &NT)).unwrap_err();
    assert_eq!(e.code, Code::BadTime);
    assert!(e.message.contains("`2026-02-30`") && e.message.contains("`date`"), "{}", e.message);
    assert_eq!(e.line_col, Some((2, 1)));

    let f = TempFile::new("d.csv", b"date,likes,channel\n,1,a\n");
    let e = collect(&req(&f.0, &NT)).unwrap_err();
    assert_eq!(e.code, Code::BadTime);
    assert!(e.message.contains("empty"), "{}", e.message);
}

#[test]
fn datetimes_are_converted_to_the_zone() {
    let f = TempFile::new(
        "t.csv",
        b"date,likes,channel\n2026-03-29T00:30:00Z,1,a\n2026-10-31T23:30:00-05:00,1,a\n2026-10-05 23:45:00,1,a\n2026-03-28T23:30:00+00:00,1,a\n",
    );
    let (rows, _) = collect(&req(&f.0, &NT)).unwrap();
    let days: Vec<i32> = rows.iter().map(|r| r.day).collect();
    assert_eq!(days, vec![day("2026-03-29"), day("2026-11-01"), day("2026-10-05"), day("2026-03-28")]);

    let mut r = req(&f.0, &NT);
    r.timezone = Some("Europe/Berlin".into());
    let (rows, _) = collect(&r).unwrap();
    let days: Vec<i32> = rows.iter().map(|r| r.day).collect();
    assert_eq!(days, vec![day("2026-03-29"), day("2026-11-01"), day("2026-10-05"), day("2026-03-29")]);

    r.timezone = Some("Mars/Olympus".into());
    let e = collect(&r).unwrap_err();
    assert!(e.message.contains("Mars/Olympus"));
}

#[test]
fn invalid_utf8_in_text_column_and_header() {
    let f = TempFile::new("u.csv", b"date,likes,channel\n2026-10-05,1,caf\xe9\n");
    let e = collect(&req(&f.0, &NT)).unwrap_err();
    assert_eq!(e.code, Code::InvalidUtf8);
    assert_eq!(e.line_col, Some((2, 3)));
    assert!(e.message.contains("`channel`") && e.message.contains("line 2"), "{}", e.message);

    // A number column reads bytes directly; an unread column is never checked.
    let f = TempFile::new("u.csv", b"date,likes,channel,other\n2026-10-05,1,ok,\xff\n");
    assert_eq!(collect(&req(&f.0, &NT)).unwrap().0.len(), 1);

    let f = TempFile::new("u.csv", b"date,lik\xe9s,channel\n2026-10-05,1,a\n");
    let e = collect(&req(&f.0, &NT)).unwrap_err();
    assert_eq!(e.code, Code::InvalidUtf8);
    assert_eq!(e.line_col, Some((1, 2)));
    assert!(e.message.contains("header"));
    assert_eq!(LocalFiles.sniff(&f.0, FileFormat::Csv).unwrap_err().code, Code::InvalidUtf8);

    let f = TempFile::new("u.csv", b"date,likes,channel\n2026-10-05,1,caf\xe9\n2026-10-05,1,ok\n");
    let mut r = req(&f.0, &NT);
    r.on_bad_row = BadRowPolicy::Skip;
    let (rows, stats) = collect(&r).unwrap();
    assert_eq!((rows.len(), stats.skipped), (1, 1));
}

#[test]
fn missing_column_suggests_a_name() {
    let f = TempFile::new("m.csv", b"date,likes,channel\n");
    let e = collect(&req(&f.0, &[("likez", ColType::Number)])).unwrap_err();
    assert_eq!(e.code, Code::MissingColumn);
    assert!(e.message.contains("`likez`") && e.message.contains("did you mean `likes`?"), "{}", e.message);
    let help = e.help.unwrap();
    assert!(help.contains("`date`, `likes`, `channel`"), "{help}");

    let mut r = req(&f.0, &NT);
    r.time_column = "Date".into();
    let e = collect(&r).unwrap_err();
    assert!(
        e.message.contains("time column `Date`") && e.message.contains("did you mean `date`?"),
        "{}",
        e.message
    );
}

#[test]
fn batches_many_rows_with_stable_dictionaries() {
    let n = 10_000usize;
    let mut text = String::from("date,likes,channel\n");
    let channels = ["instagram", "tiktok", "x", "youtube"];
    for i in 0..n {
        text.push_str(&format!("2026-10-{:02},{},{}\n", 1 + i % 28, i, channels[i % 4]));
    }
    let f = TempFile::new("big.csv", text.as_bytes());
    let r = req(&f.0, &NT);
    let mut batches = 0;
    let mut sum = 0.0;
    let mut count = 0usize;
    let mut first_ids: Option<Vec<u32>> = None;
    let stats = LocalFiles
        .scan(&r, &mut |b, dicts| {
            batches += 1;
            let ColumnData::Number(likes) = &b.columns[0] else { panic!("likes is a number column") };
            let ColumnData::Text(ch) = &b.columns[1] else { panic!("channel is a text column") };
            sum += likes.iter().sum::<f64>();
            count += b.len;
            assert!(dicts[0].is_empty());
            assert_eq!(dicts[1].len(), 4);
            let ids: Vec<u32> = channels.iter().map(|c| dicts[1].lookup(c).unwrap()).collect();
            assert_eq!(first_ids.get_or_insert_with(|| ids.clone()), &ids);
            for (i, &id) in ch.iter().enumerate() {
                let row = (b.lines[i] - 2) as usize;
                assert_eq!(dicts[1].get(id), Some(channels[row % 4]));
                assert_eq!(b.time[i], day(&format!("2026-10-{:02}", 1 + row % 28)));
            }
            Ok(())
        })
        .unwrap();
    assert_eq!(batches, n.div_ceil(BATCH_ROWS));
    assert_eq!((count, stats.rows as usize), (n, n));
    assert_eq!(sum, (n * (n - 1) / 2) as f64);
}

#[test]
fn sink_error_stops_the_scan() {
    let f = TempFile::new("s.csv", b"date,likes,channel\n2026-10-05,1,a\n");
    let e = LocalFiles
        .scan(&req(&f.0, &NT), &mut |_, _| Err(Diagnostic::error(Code::OutputUnwritable, "stop")))
        .unwrap_err();
    assert_eq!(e.message, "stop");
}

#[test]
fn sniff_infers_types_from_a_sample() {
    let f = TempFile::new(
        "s.csv",
        b"date,likes,channel,empty,mixed\n2026-10-05,1, a,,1\n2026-10-06, 2.5 ,b,,x\n2026-10-07,,3,,\n",
    );
    let s = LocalFiles.sniff(&f.0, FileFormat::Csv).unwrap();
    assert_eq!(
        s.columns,
        vec![
            ("date".to_string(), Some(ColType::Text)),
            ("likes".to_string(), Some(ColType::Number)),
            ("channel".to_string(), Some(ColType::Text)),
            ("empty".to_string(), None),
            ("mixed".to_string(), Some(ColType::Text)),
        ]
    );
    // Only the first 1,000 rows count.
    let mut text = String::from("date,n\n");
    for _ in 0..1000 {
        text.push_str("2026-10-05,1\n");
    }
    text.push_str("2026-10-05,abc\n");
    let f = TempFile::new("s.csv", text.as_bytes());
    assert_eq!(LocalFiles.sniff(&f.0, FileFormat::Csv).unwrap().columns[1].1, Some(ColType::Number));
}

#[test]
fn unterminated_quote_is_bounded() {
    // 17 MiB inside one quoted field: an error, not an unbounded record.
    let mut text = b"date,likes,channel\n2026-10-05,1,\"".to_vec();
    text.resize(text.len() + (17 << 20), b'a');
    let f = TempFile::new("long.csv", &text);
    let e = collect(&req(&f.0, &NT)).unwrap_err();
    assert_eq!(e.code, Code::FileTooLarge);
    assert!(e.message.contains("line 2"), "{}", e.message);

    let mut text = b"{\"date\": \"".to_vec();
    text.resize(text.len() + (17 << 20), b'a');
    let f = TempFile::new("long.ndjson", &text);
    let e = collect(&req(&f.0, &NT)).unwrap_err();
    assert_eq!(e.code, Code::FileTooLarge);
    assert!(e.message.contains("line 1"), "{}", e.message);
}

// ---- NDJSON ----

#[test]
fn ndjson_basics() {
    let text = concat!(
        "{\"date\": \"2026-10-05\", \"likes\": 12, \"channel\": \"instagram\", \"extra\": {\"a\": [1]}}\n",
        "\n",
        "{\"channel\": 7, \"likes\": \"3.5\", \"date\": \"2026-10-05T23:30:00-05:00\"}\r\n",
        "  {\"date\": \"2026-10-07\", \"likes\": null, \"channel\": true}\n",
        "{\"date\": \"2026-10-08\", \"channel\": \"\"}\n",
        "{\"date\": \"2026-10-09\", \"likes\": \"\", \"channel\": 1.5, \"ch\\u0061nnel\": \"esc\"}",
    );
    let f = TempFile::new("e.ndjson", text.as_bytes());
    let (rows, _) = collect(&req(&f.0, &NT)).unwrap();
    assert_eq!(
        rows,
        vec![
            Row { day: day("2026-10-05"), line: 1, values: vec![V::N(12.0), t("instagram")] },
            Row { day: day("2026-10-06"), line: 3, values: vec![V::N(3.5), t("7")] },
            Row { day: day("2026-10-07"), line: 4, values: vec![V::Null, t("true")] },
            Row { day: day("2026-10-08"), line: 5, values: vec![V::Null, V::Null] },
            Row { day: day("2026-10-09"), line: 6, values: vec![V::Null, t("esc")] },
        ]
    );
    let f = TempFile::new("e.jsonl", b"\xef\xbb\xbf{\"date\": \"2026-10-05\"}\n");
    let (rows, _) = collect(&req(&f.0, &[])).unwrap();
    assert_eq!(rows.len(), 1);
}

#[test]
fn ndjson_errors() {
    let check = |body: &str, code: Code, needle: &str| {
        let text = format!("{{\"date\":\"2026-10-05\",\"likes\":1,\"channel\":\"a\"}}\n{body}\n");
        let f = TempFile::new("e.ndjson", text.as_bytes());
        let e = collect(&req(&f.0, &NT)).unwrap_err();
        assert_eq!(e.code, code, "{body}: {}", e.message);
        assert!(e.message.contains(needle), "{body}: {}", e.message);
        assert!(e.message.contains("line 2"), "{body}: {}", e.message);
        let mut r = req(&f.0, &NT);
        r.on_bad_row = BadRowPolicy::Skip;
        let (rows, stats) = collect(&r).unwrap();
        assert_eq!((rows.len(), stats.skipped), (1, 1));
    };
    check("[1, 2]", Code::BadJsonLine, "not a JSON object");
    check("{\"date\": \"2026-10-05\",", Code::BadJsonLine, "not valid JSON");
    check("{\"date\": \"2026-10-05\"} x", Code::BadJsonLine, "not valid JSON");
    check("{\"date\": \"2026-10-05\", \"likes\": \"12a\"}", Code::BadNumber, "`12a`");
    check("{\"date\": \"2026-10-05\", \"likes\": true}", Code::BadNumber, "`likes`");
    check("{\"date\": \"2026-10-05\", \"channel\": [1]}", Code::BadJsonLine, "an array");
    check("{\"date\": \"someday\"}", Code::BadTime, "`someday`");
    check("{\"date\": null}", Code::BadTime, "empty");
    check("{\"Date\": \"2026-10-05\"}", Code::MissingColumn, "did you mean `Date`?");
    check("{\"date\": 20261005}", Code::BadTime, "`20261005`");

    let f = TempFile::new("e.ndjson", b"{\"date\":\"2026-10-05\",\"channel\":\"caf\xe9\"}\n");
    let e = collect(&req(&f.0, &NT)).unwrap_err();
    assert_eq!(e.code, Code::InvalidUtf8);
    assert_eq!(e.line_col, Some((1, 36)));
}

#[test]
fn ndjson_column_missing_from_every_line() {
    let f = TempFile::new("e.ndjson", b"{\"date\":\"2026-10-05\",\"likes\":1}\n{\"date\":\"2026-10-06\"}\n");
    let e = collect(&req(&f.0, &[("like", ColType::Number)])).unwrap_err();
    assert_eq!(e.code, Code::MissingColumn);
    assert!(e.message.contains("did you mean `likes`?"), "{}", e.message);
    // Present on one line only: fine, null elsewhere.
    let (rows, _) = collect(&req(&f.0, &[("likes", ColType::Number)])).unwrap();
    assert_eq!(rows[1].values, vec![V::Null]);
}

#[test]
fn ndjson_empty_and_sniff() {
    let f = TempFile::new("e.ndjson", b"");
    assert_eq!(collect(&req(&f.0, &NT)).unwrap_err().code, Code::SourceUnreadable);
    assert_eq!(LocalFiles.sniff(&f.0, FileFormat::Ndjson).unwrap_err().code, Code::SourceUnreadable);

    let f = TempFile::new(
        "e.ndjson",
        b"{\"date\":\"2026-10-05\",\"likes\":1,\"n\":\"2\",\"empty\":null}\nnot json\n{\"channel\":\"a\",\"likes\":\"x\",\"date\":\"2026-10-06\"}\n",
    );
    let s = LocalFiles.sniff(&f.0, FileFormat::Ndjson).unwrap();
    assert_eq!(
        s.columns,
        vec![
            ("date".to_string(), Some(ColType::Text)),
            ("likes".to_string(), Some(ColType::Text)),
            ("n".to_string(), Some(ColType::Number)),
            ("empty".to_string(), None),
            ("channel".to_string(), Some(ColType::Text)),
        ]
    );
}

#[test]
fn ndjson_batches() {
    let mut text = String::new();
    for i in 0..10_000 {
        text.push_str(&format!("{{\"date\":\"2026-10-05\",\"likes\":{i},\"channel\":\"c{}\"}}\n", i % 3));
    }
    let f = TempFile::new("e.ndjson", text.as_bytes());
    let (rows, stats) = collect(&req(&f.0, &NT)).unwrap();
    assert_eq!(stats.rows, 10_000);
    let sum: f64 = rows.iter().map(|r| if let V::N(v) = r.values[0] { v } else { 0.0 }).sum();
    assert_eq!(sum, 49_995_000.0);
}

mod never_panics {
    use super::*;
    use proptest::prelude::*;

    fn bytes() -> impl Strategy<Value = Vec<u8>> {
        let byte = prop_oneof![
            Just(b','),
            Just(b'\t'),
            Just(b'"'),
            Just(b'\n'),
            Just(b'\r'),
            Just(b'{'),
            Just(b'}'),
            Just(b':'),
            Just(b'1'),
            Just(b'-'),
            any::<u8>()
        ];
        proptest::collection::vec(byte, 0..400)
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(300))]
        #[test]
        fn arbitrary_bytes(bytes in bytes(), skip in any::<bool>()) {
            for name in ["p.csv", "p.tsv", "p.ndjson"] {
                let f = TempFile::new(name, &bytes);
                let mut r = req(&f.0, &NT);
                if skip {
                    r.on_bad_row = BadRowPolicy::Skip;
                }
                let _ = LocalFiles.scan(&r, &mut |_, _| Ok(()));
                let _ = LocalFiles.sniff(&f.0, r.format);
            }
        }

        #[test]
        fn every_row_is_read_or_skipped(body in bytes()) {
            let mut text = b"date,likes,channel\n".to_vec();
            text.extend_from_slice(&body);
            let f = TempFile::new("p.csv", &text);
            let mut r = req(&f.0, &NT);
            r.on_bad_row = BadRowPolicy::Skip;
            let mut rows = 0u64;
            let stats = LocalFiles.scan(&r, &mut |b, _| { rows += b.len as u64; Ok(()) });
            let stats = stats.map_err(|e| TestCaseError::fail(e.message))?;
            prop_assert_eq!(stats.rows, rows);
            // Every record the csv crate sees is either a row or a skip.
            let mut rdr = csv::ReaderBuilder::new().has_headers(true).flexible(true).from_reader(&text[..]);
            let records = rdr.byte_records().count() as u64;
            prop_assert_eq!(stats.rows + stats.skipped, records);
        }
    }
}

mod same_values_as_the_csv_crate {
    use super::*;
    use kpi_rules::engine::distinct::key_of_field;
    use proptest::prelude::*;

    /// A row as compared: day, a, b, c's distinct key, d.
    type Seen = (i32, Option<String>, f64, u128, Option<String>);

    fn field() -> impl Strategy<Value = String> {
        prop_oneof![
            "[a-z ]{0,19}",
            "[0-9]{1,9}",
            "[0-9]{1,5}\\.[0-9]{1,3}",
            "p[0-9]{0,16}",
            Just(String::new()),
            // Quoted: the record goes through csv-core instead of the quote-free fast path.
            "[a-z]{0,3}".prop_map(|s| format!("\"{s}, \"\"{s}\"\"\"")),
        ]
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(200))]
        /// Fields of every length put delimiters at every offset of the 8-byte words the
        /// fast path splits; numbers, text and distinct keys agree with the csv crate.
        #[test]
        fn fields_agree(
            rows in proptest::collection::vec((field(), "[0-9]{1,7}(\\.[0-9]{1,2})?|", field(), field(), 0u8..5), 0..60),
            number_last in any::<bool>(),
        ) {
            // Lines end in `\n` or `\r\n`, some followed by a blank line; the number column
            // is in the middle or last (where the line break ends it).
            let mut text = String::from(if number_last { "date,a,c,d,b\n" } else { "date,a,b,c,d\n" });
            for (a, b, c, d, end) in &rows {
                let end = ["\n", "\n", "\r\n", "\n\n", "\r\n\r\n"][usize::from(*end)];
                let day = 1 + a.len() % 9;
                if number_last {
                    text.push_str(&format!("2026-01-0{day},{a},{c},{d},{b}{end}"));
                } else {
                    text.push_str(&format!("2026-01-0{day},{a},{b},{c},{d}{end}"));
                }
            }
            let f = TempFile::new("same.csv", text.as_bytes());
            let r = req(&f.0, &[("a", ColType::Text), ("b", ColType::Number), ("c", ColType::Key), ("d", ColType::Text)]);
            let mut got: Vec<Seen> = Vec::new();
            LocalFiles
                .scan(&r, &mut |b: &Batch, dicts: &[Dictionary]| {
                    let text = |c: usize, i: usize| match &b.columns[c] {
                        ColumnData::Text(v) if v[i] != NULL_ID => dicts[c].get(v[i]).map(str::to_string),
                        _ => None,
                    };
                    for i in 0..b.len {
                        let (ColumnData::Number(n), ColumnData::Key(k)) = (&b.columns[1], &b.columns[2]) else {
                            panic!("column types")
                        };
                        got.push((b.time[i], text(0, i), n[i], k[i], text(3, i)));
                    }
                    Ok(())
                })
                .map_err(|e| TestCaseError::fail(e.message))?;
            let mut rdr = csv::ReaderBuilder::new().has_headers(true).from_reader(text.as_bytes());
            let mut want: Vec<Seen> = Vec::new();
            for rec in rdr.records() {
                let rec = rec.map_err(|e| TestCaseError::fail(e.to_string()))?;
                let opt = |s: &str| (!s.is_empty()).then(|| s.to_string());
                let (b, c, d) = if number_last { (&rec[4], &rec[2], &rec[3]) } else { (&rec[2], &rec[3], &rec[4]) };
                let n = if b.is_empty() { f64::NAN } else { b.parse::<f64>().map_err(|e| TestCaseError::fail(e.to_string()))? };
                want.push((day(&rec[0]), opt(&rec[1]), n, key_of_field(c.as_bytes()), opt(d)));
            }
            // NaN (an empty number) compares by its bits.
            let bits = |v: Vec<Seen>| v.into_iter().map(|(t, a, n, k, d)| (t, a, n.to_bits(), k, d)).collect::<Vec<_>>();
            prop_assert_eq!(bits(got), bits(want));
        }
    }
}

/// Throughput on 1M generated rows × 14 columns; run with
/// `cargo test --release --test readers -- --ignored --nocapture throughput`.
#[test]
#[ignore = "a measurement, not a test"]
fn throughput_1m_rows() {
    use std::fmt::Write as _;
    let n = 1_000_000usize;
    let texts = ["channel", "campaign", "country", "format"];
    let numbers =
        ["likes", "shares", "comments", "reach", "impressions", "clicks", "spend", "revenue", "followers"];
    let mut text = String::from("date");
    for c in texts.iter().chain(&numbers) {
        text.push(',');
        text.push_str(c);
    }
    text.push('\n');
    for i in 0..n {
        let _ = write!(
            text,
            "2026-{:02}-{:02},ch{},camp{},c{},f{}",
            1 + i % 12,
            1 + i % 28,
            i % 5,
            i % 40,
            i % 30,
            i % 3
        );
        for (k, _) in numbers.iter().enumerate() {
            if k % 3 == 2 {
                let _ = write!(text, ",{}.{:02}", (i * 7 + k) % 10_000, i % 100);
            } else {
                let _ = write!(text, ",{}", (i * 13 + k) % 100_000);
            }
        }
        text.push('\n');
    }
    let f = TempFile::new("bench.csv", text.as_bytes());
    let cols: Vec<(&str, ColType)> = texts
        .iter()
        .map(|c| (*c, ColType::Text))
        .chain(numbers.iter().map(|c| (*c, ColType::Number)))
        .collect();
    let r = req(&f.0, &cols);
    for _ in 0..3 {
        let start = std::time::Instant::now();
        let mut sum = 0.0;
        let stats = LocalFiles
            .scan(&r, &mut |b, _| {
                if let ColumnData::Number(v) = &b.columns[4] {
                    sum += v.iter().sum::<f64>();
                }
                Ok(())
            })
            .unwrap();
        let secs = start.elapsed().as_secs_f64();
        assert_eq!(stats.rows, n as u64);
        println!(
            "{} rows x 14 columns, {:.0} MB: {:.3} s, {:.2} M rows/s, {:.0} MB/s (checksum {sum})",
            n,
            text.len() as f64 / 1e6,
            secs,
            n as f64 / secs / 1e6,
            text.len() as f64 / secs / 1e6
        );
    }
}

#[test]
fn key_columns_encode_ids_hash_other_text_and_keep_nulls() {
    use kpi_rules::engine::batch::{ColType, ColumnData};
    use kpi_rules::engine::distinct::{key_of_bytes, NULL_KEY};
    use kpi_rules::engine::readers::LocalFiles;
    use kpi_rules::engine::source::{BadRowPolicy, ColumnRequest, FileFormat, ReadRequest, Scan};
    let dir = std::env::temp_dir().join(format!("kpi-hash-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    for (name, text) in [
        ("h.csv", "date,id\n2026-01-01,p1\n2026-01-02,\n2026-01-03,p1\n2026-01-04,p01\n2026-01-05,x-y\n"),
        (
            "h.ndjson",
            "{\"date\":\"2026-01-01\",\"id\":\"p1\"}\n{\"date\":\"2026-01-02\",\"id\":null}\n{\"date\":\"2026-01-03\",\"id\":\"p1\"}\n{\"date\":\"2026-01-04\",\"id\":\"p01\"}\n{\"date\":\"2026-01-05\",\"id\":\"x-y\"}\n",
        ),
    ] {
        let path = dir.join(name);
        std::fs::write(&path, text).unwrap();
        let req = ReadRequest {
            dataset: "d".into(),
            path: path.clone(),
            format: FileFormat::from_path(&path).unwrap(),
            time_column: "date".into(),
            columns: vec![ColumnRequest { name: "id".into(), ty: ColType::Key }],
            on_bad_row: BadRowPolicy::Fail,
            timezone: None,
        };
        let mut seen = Vec::new();
        LocalFiles
            .scan(&req, &mut |b, _| {
                if let ColumnData::Key(h) = &b.columns[0] {
                    seen.extend_from_slice(h);
                }
                Ok(())
            })
            .unwrap();
        let (p1, p01, xy) = (key_of_bytes(b"p1"), key_of_bytes(b"p01"), key_of_bytes(b"x-y"));
        assert_eq!(seen, vec![p1, NULL_KEY, p1, p01, xy], "{name}");
        assert_ne!(p1, p01);
    }
    let _ = std::fs::remove_dir_all(&dir);
}
