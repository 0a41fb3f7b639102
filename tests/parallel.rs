//! The parallel scan gives the same aggregate table as one thread, including when chunk
//! boundaries fall inside quoted fields that hold commas, quotes and line breaks.
#![allow(clippy::result_large_err)]

use kpi_rules::check::{check_pack, CheckOptions};
use kpi_rules::diagnostic::Sources;
use kpi_rules::engine::aggregate::scan_dataset_with;
use kpi_rules::engine::batch::{Batch, ColType, ColumnData, Dictionary};
use kpi_rules::engine::readers::LocalFiles;
use kpi_rules::engine::source::{
    BadRowPolicy, ColumnRequest, FileFormat, ParScan, ParSink, ReadRequest, Scan,
};
use kpi_rules::eval::needs;
use kpi_rules::plan::{model_to_plan, AggRow, Plan};
use std::fmt::Write;

/// Writes the data; returns how many distinct non-empty `ref` values it holds.
fn write_data(dir: &std::path::Path) -> usize {
    // ~12 MB: over the size where the reader splits the file between threads.
    let mut s = String::from("date,channel,note,post_id,likes,reach,ref\n");
    let mut refs = std::collections::HashSet::new();
    let channels = ["vk", "telegram", "x", "instagram"];
    let mut seed: u64 = 42;
    let mut next = || {
        seed = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        (seed >> 33) as u32
    };
    for i in 0..150_000u32 {
        let day = 1 + next() % 28;
        let month = 1 + next() % 12;
        let ch = channels[(next() % 4) as usize];
        // Every 7th note is quoted with a comma, a doubled quote and a line break inside.
        let note = if i % 7 == 0 {
            format!("\"line one, with \"\"quotes\"\"\nline two {i} and some padding to make chunks large\"")
        } else {
            format!("plain note {} padding padding padding", i % 97)
        };
        let likes = if i % 50 == 0 { String::new() } else { (next() % 500).to_string() };
        let reach = next() % 5000;
        // Ids of every shape count_distinct meets: leading zeros (`r01` is not `r1`), pure
        // numbers, numbers past 2^50, text that is no id, and nulls.
        let r = next();
        let reference = match r % 7 {
            0 => format!("r{}", r % 3000),
            1 => format!("r{:05}", r % 3000),
            2 => (r % 70_000).to_string(),
            3 => format!("{}", (1u64 << 50) + u64::from(r % 1000)),
            4 => format!("x-{}-y", r % 500),
            5 => String::new(),
            _ => format!("id{:08}", i % 100_000),
        };
        if !reference.is_empty() {
            refs.insert(reference.clone());
        }
        let _ = writeln!(
            s,
            "2026-{month:02}-{day:02},{ch},{note},p{:07},{likes},{reach},{reference}",
            i % 120_000
        );
    }
    std::fs::write(dir.join("posts.csv"), s).expect("write data");
    refs.len()
}

const PACK: &str = r#"
pack: par
version: 0.1.0
datasets:
  posts:
    source: posts.csv
    time: date
    dimensions: [channel]
kpis:
  likes: {formula: sum(likes), by: [channel], grain: month}
  avg_reach: {formula: avg(reach), by: [channel], grain: week}
  min_max: {formula: max(likes) - min(likes), by: [channel], grain: quarter}
  posts: {formula: count(), grain: month}
  liked: {formula: count(likes), by: [channel], grain: month}
  distinct_posts: {formula: count_distinct(post_id), by: [channel], grain: month}
  distinct_notes: {formula: count_distinct(note where note != "x"), grain: year}
  first_last: {formula: last(reach) - first(reach), by: [channel], grain: month}
  median_reach: {formula: median(reach), by: [channel], grain: month}
  quoted: {formula: count(where note != "plain"), grain: month}
  distinct_refs: {formula: count_distinct(ref), grain: year}
  distinct_refs_by: {formula: count_distinct(ref), by: [channel], grain: quarter}
"#;

/// The plan of `dir/pack.yaml`.
fn plan_of(dir: &std::path::Path) -> Plan {
    let sources = Sources::new();
    let pack = kpi_rules::spec::load_pack(&dir.join("pack.yaml"), &sources).expect("pack loads");
    let opts = CheckOptions {
        data: &[],
        require_data: true,
        scanner: &LocalFiles,
        db: &kpi_rules::db::DbOptions::DEFAULT,
    };
    let (model, _) = check_pack(&pack, &sources, &opts).expect("pack checks");
    model_to_plan(&model, &needs(&model), i32::MAX, BadRowPolicy::Fail, None)
}

fn table(threads: usize, dir: &std::path::Path) -> Vec<Vec<Vec<AggRow>>> {
    plan_of(dir)
        .datasets
        .iter()
        .map(|dp| {
            let (mut queries, stats) = scan_dataset_with(dp, &LocalFiles, i32::MAX, threads).expect("scan");
            assert_eq!(stats.rows, 150_000);
            for rows in &mut queries {
                rows.sort_by(|a, b| (&a.key, a.period).cmp(&(&b.key, b.period)));
            }
            queries
        })
        .collect()
}

#[test]
fn parallel_and_single_threaded_scans_agree() {
    let dir = std::env::temp_dir().join(format!("kpi-parallel-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let refs = write_data(&dir);
    std::fs::write(dir.join("pack.yaml"), PACK).expect("write pack");
    let one = table(1, &dir);
    // The year's count of distinct refs is exact: the one row whose values include it.
    let years: Vec<&AggRow> = one
        .iter()
        .flatten()
        .flatten()
        .filter(|r| r.key.is_empty() && r.values.contains(&(refs as f64)))
        .collect();
    assert!(!years.is_empty(), "no group counts {refs} distinct refs");
    for threads in [2, 3, 5] {
        let many = table(threads, &dir);
        assert_eq!(one.len(), many.len());
        for (a, b) in one.iter().zip(&many) {
            for (qa, qb) in a.iter().zip(b) {
                assert_eq!(qa.len(), qb.len(), "{threads} threads: same groups");
                for (ra, rb) in qa.iter().zip(qb) {
                    assert_eq!((&ra.key, ra.period, ra.rows), (&rb.key, rb.period, rb.rows));
                    for (x, y) in ra.values.iter().zip(&rb.values) {
                        let same = (x.is_nan() && y.is_nan()) || (x - y).abs() <= 1e-9 * x.abs().max(1.0);
                        assert!(same, "{threads} threads: {x} vs {y} in {:?} {}", ra.key, ra.period);
                    }
                }
            }
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
}

/// A read of `path`'s date and likes columns.
fn likes_request(path: &std::path::Path, policy: BadRowPolicy) -> ReadRequest {
    ReadRequest {
        dataset: "posts".into(),
        path: path.to_path_buf(),
        format: FileFormat::Csv,
        time_column: "date".into(),
        columns: vec![ColumnRequest { name: "likes".into(), ty: ColType::Number }],
        on_bad_row: policy,
        timezone: None,
    }
}

/// Reads `path` with `threads` sinks; the rows each sink saw as `(day, likes)`, in order.
fn read_parts(
    path: &std::path::Path,
    threads: usize,
    policy: BadRowPolicy,
    exact: bool,
) -> Result<(ParScan, Vec<(i32, f64)>), kpi_rules::diagnostic::Diagnostic> {
    let req = likes_request(path, policy);
    let mut parts: Vec<Vec<(i32, f64)>> = vec![Vec::new(); threads];
    let got = {
        let mut sinks: Vec<Box<ParSink<'_>>> = parts
            .iter_mut()
            .map(|rows| {
                Box::new(move |b: &Batch, _: &[Dictionary]| {
                    if let ColumnData::Number(v) = &b.columns[0] {
                        rows.extend(b.time.iter().copied().zip(v.iter().copied()));
                    }
                    Ok(())
                }) as Box<ParSink<'_>>
            })
            .collect();
        LocalFiles.scan_parallel(&req, sinks.iter_mut().map(|s| s.as_mut()).collect(), exact)?
    };
    Ok((got, parts.concat()))
}

/// A file of about 10 MB: plain rows, with `middle` written where the first half ends.
fn split_file(dir: &std::path::Path, name: &str, middle: &str, bad: &[usize]) -> std::path::PathBuf {
    let mut s = String::from("date,channel,note,likes\n");
    let (mut i, mut placed) = (0, false);
    while s.len() < 10_000_000 {
        if s.len() >= 4_000_000 && !placed {
            s.push_str(middle);
            placed = true;
        }
        let likes = if bad.contains(&i) { "many".to_string() } else { (i % 1000).to_string() };
        let _ = writeln!(s, "2026-{:02}-{:02},vk,plain note number {i},{likes}", 1 + i % 12, 1 + i % 28);
        i += 1;
    }
    let path = dir.join(name);
    std::fs::write(&path, s).expect("write data");
    path
}

/// A file with `middle` over its middle: one thread reads it whole; the guess of a second
/// part's start is caught (`Misaligned`); the exact split with 2 and 3 threads reads the
/// one-thread rows, and the engine (`threads` reader threads) retries by itself and gets
/// the one-thread table.
fn assert_guess_dropped(dir: &std::path::Path, name: &str, middle: &str, threads: usize) {
    let path = split_file(dir, name, middle, &[]);
    let (one, rows) = read_parts(&path, 1, BadRowPolicy::Fail, false).expect("one thread");
    assert!(matches!(one, ParScan::Done(..)));
    let (guess, _) = read_parts(&path, 2, BadRowPolicy::Fail, false).expect("two threads");
    assert!(matches!(guess, ParScan::Misaligned), "{name}: {guess:?}");
    for n in [2, 3] {
        let (exact, got) = read_parts(&path, n, BadRowPolicy::Fail, true).expect("exact");
        assert!(matches!(exact, ParScan::Done(..)));
        assert_eq!(got, rows, "{name}: {n} threads, exact");
    }
    std::fs::write(dir.join("pack.yaml"), PACK_LIKES.replace("SOURCE", name)).expect("write pack");
    assert_eq!(likes_table(dir, threads), likes_table(dir, 1), "{name}");
}

#[test]
fn a_part_guessed_to_start_inside_a_quoted_field_is_read_again_exactly() {
    let dir = std::env::temp_dir().join(format!("kpi-parallel-guess-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    // A 2 MB quoted note over the middle of the file, whose lines look like records.
    let mut note = String::from("2026-05-05,x,\"");
    for i in 0..40_000 {
        let _ = write!(note, "\n2026-02-02,vk,fake {i},999");
    }
    note.push_str("\",1\n");
    assert_guess_dropped(&dir, "quoted.csv", &note, 2);
    // A quote inside an unquoted field is text to csv-core but makes the count odd: the
    // guess is dropped, and the exact split reads the same rows.
    assert_guess_dropped(&dir, "stray.csv", "2026-05-05,x,a\"b,1\n", 3);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn guessed_parts_give_the_lines_of_one_thread_in_errors_and_skipped_rows() {
    let dir = std::env::temp_dir().join(format!("kpi-parallel-lines-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    // Quotes in the first half (even, on one line each) and bad rows in every part.
    let quoted = "2026-03-03,x,\"a \"\"quoted\"\", note\",4\n";
    let bad = [10, 20, 110_000, 150_000, 150_001, 230_000];
    let path = split_file(&dir, "bad.csv", quoted, &bad);
    let (_, one) = read_parts(&path, 1, BadRowPolicy::Skip, false).expect("one thread");
    let single = read_parts(&path, 1, BadRowPolicy::Fail, false).expect_err("a bad row must fail");
    for threads in [2, 3, 5] {
        let (got, rows) = read_parts(&path, threads, BadRowPolicy::Skip, false).expect("skip");
        let ParScan::Done(stats, _) = got else {
            panic!("{threads} threads: no quoted line breaks, no retry")
        };
        assert_eq!(rows, one, "{threads} threads");
        assert_eq!(stats.skipped, bad.len() as u64);
        let (_, want) = read_skipped(&path);
        let lines: Vec<(u64, String)> =
            stats.first_skipped.iter().map(|k| (k.line, k.reason.clone())).collect();
        assert_eq!(lines, want, "{threads} threads");
        let e = read_parts(&path, threads, BadRowPolicy::Fail, false).expect_err("a bad row must fail");
        assert_eq!(format!("{e:?}"), format!("{single:?}"), "{threads} threads");
    }
    // The first bad row in a later part: that part's error, with its line in the file.
    let path = split_file(&dir, "late.csv", quoted, &[150_000, 230_000]);
    let single = read_parts(&path, 1, BadRowPolicy::Fail, false).expect_err("a bad row must fail");
    // Row 150,000 after the header and the quoted line.
    assert!(single.message.contains("line 150003"), "{}", single.message);
    for threads in [2, 3, 5] {
        let e = read_parts(&path, threads, BadRowPolicy::Fail, false).expect_err("a bad row must fail");
        assert_eq!(format!("{e:?}"), format!("{single:?}"), "{threads} threads");
    }
    let _ = std::fs::remove_dir_all(&dir);
}

/// The skipped rows (line, reason) of a one-thread scan.
fn read_skipped(path: &std::path::Path) -> (u64, Vec<(u64, String)>) {
    let req = likes_request(path, BadRowPolicy::Skip);
    let stats = LocalFiles.scan(&req, &mut |_: &Batch, _: &[Dictionary]| Ok(())).expect("scan");
    (stats.skipped, stats.first_skipped.into_iter().map(|k| (k.line, k.reason)).collect())
}

const PACK_LIKES: &str = r#"
pack: par
version: 0.1.0
datasets:
  posts:
    source: SOURCE
    time: date
    dimensions: [channel]
kpis:
  likes: {formula: sum(likes), by: [channel], grain: month}
  posts: {formula: count(), grain: month}
"#;

/// A group's row: key, period, rows and the values' bits.
type Group = (Vec<Option<String>>, i32, u64, Vec<u64>);

/// The aggregate table of `PACK_LIKES` with `threads` reader threads, sorted.
fn likes_table(dir: &std::path::Path, threads: usize) -> Vec<Vec<Group>> {
    let plan = plan_of(dir);
    let (queries, _) = scan_dataset_with(&plan.datasets[0], &LocalFiles, i32::MAX, threads).expect("scan");
    queries
        .into_iter()
        .map(|rows| {
            let mut rows: Vec<_> = rows
                .into_iter()
                .map(|r| (r.key, r.period, r.rows, r.values.iter().map(|v| v.to_bits()).collect()))
                .collect();
            rows.sort();
            rows
        })
        .collect()
}
