//! The parallel scan gives the same aggregate table as one thread, including when chunk
//! boundaries fall inside quoted fields that hold commas, quotes and line breaks.

use kpi_rules::check::{check_pack, CheckOptions};
use kpi_rules::diagnostic::Sources;
use kpi_rules::engine::aggregate::scan_dataset_with;
use kpi_rules::engine::readers::LocalFiles;
use kpi_rules::engine::source::BadRowPolicy;
use kpi_rules::eval::needs;
use kpi_rules::plan::{model_to_plan, AggRow};
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

fn table(threads: usize, dir: &std::path::Path) -> Vec<Vec<Vec<AggRow>>> {
    let sources = Sources::new();
    let pack = kpi_rules::spec::load_pack(&dir.join("pack.yaml"), &sources).expect("pack loads");
    let scanner = LocalFiles;
    let opts = CheckOptions {
        data: &[],
        require_data: true,
        scanner: &scanner,
        db: &kpi_rules::db::DbOptions::DEFAULT,
    };
    let (model, _) = check_pack(&pack, &sources, &opts).expect("pack checks");
    let plan = model_to_plan(&model, &needs(&model), i32::MAX, BadRowPolicy::Fail, None);
    plan.datasets
        .iter()
        .map(|dp| {
            let (mut queries, stats) = scan_dataset_with(dp, &scanner, i32::MAX, threads).expect("scan");
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
