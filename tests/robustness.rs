//! No input makes the library panic: arbitrary bytes as a pack file, arbitrary text as a
//! formula, arbitrary bytes as a dataset. Each case runs the stages in-process (load, check,
//! evaluate) over files in a temp folder; an error is fine, a panic is a bug.

use kpi_rules::check::{check_pack, CheckOptions};
use kpi_rules::diagnostic::{render_human, render_json, Diagnostic, Sources};
use kpi_rules::engine::readers::LocalFiles;
use kpi_rules::engine::source::BadRowPolicy;
use kpi_rules::pipeline::{evaluate_pack, RunError, RunOptions};
use kpi_rules::spec::load_pack;
use proptest::prelude::*;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

/// A fresh folder under the temp dir, removed when dropped.
struct TempDir(PathBuf);

impl TempDir {
    fn new(tag: &str) -> TempDir {
        static N: AtomicUsize = AtomicUsize::new(0);
        let dir = std::env::temp_dir().join(format!(
            "kpi-robust-{tag}-{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        ));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("temp dir");
        TempDir(dir)
    }

    fn write(&self, name: &str, bytes: impl AsRef<[u8]>) -> PathBuf {
        let p = self.0.join(name);
        std::fs::write(&p, bytes).expect("write");
        p
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Renders every diagnostic both ways: rendering must not panic either (spans at odd
/// places, multi-byte characters, long lines).
fn render_all(diags: &[Diagnostic], sources: &Sources) {
    for d in diags {
        let _ = render_human(d, sources);
        let _ = render_json(d, sources);
    }
}

/// Loads and checks the pack at `path` (reading data headers if any).
fn load_and_check(path: &Path) {
    let sources = Sources::new();
    match load_pack(path, &sources) {
        Ok(pack) => {
            let scanner = LocalFiles;
            let opts = CheckOptions {
                data: &[],
                require_data: false,
                scanner: &scanner,
                db: &kpi_rules::db::DbOptions::DEFAULT,
            };
            match check_pack(&pack, &sources, &opts) {
                Ok((_, warnings)) => render_all(&warnings, &sources),
                Err(diags) => render_all(&diags, &sources),
            }
        }
        Err(diags) => render_all(&diags, &sources),
    }
}

/// Evaluates the pack at `path` as of 2026-11-26.
fn evaluate(path: &Path, on_bad_row: BadRowPolicy) {
    let sources = Sources::new();
    let as_of = kpi_rules::calendar::parse_date("2026-11-26").expect("date");
    let opts = RunOptions {
        data: Vec::new(),
        as_of,
        range: None,
        period: None,
        on_bad_row,
        locked: false,
        db: Default::default(),
    };
    match evaluate_pack(path, &sources, &opts) {
        Ok((_, warnings)) => render_all(&warnings, &sources),
        Err(RunError::Diagnostics(diags)) => render_all(&diags, &sources),
    }
}

const HEAD: &str = "pack: robust\nversion: 1.0.0\nobjectives:\n  awareness: Grow\ndatasets:\n  posts:\n    source: data.csv\n    time: date\n    dimensions: [channel]\n";
const DATA: &str = "date,channel,likes,reach\n2026-10-01,vk,10,100\n2026-10-02,instagram,5,0\n";

/// Bytes that look like a pack file: fragments of real YAML mixed with noise.
fn yamlish() -> impl Strategy<Value = Vec<u8>> {
    let piece = prop_oneof![
        Just(b"kpis:\n".to_vec()),
        Just(b"goals:\n".to_vec()),
        Just(b"datasets:\n".to_vec()),
        Just(b"  a:\n".to_vec()),
        Just(b"    formula: sum(likes)\n".to_vec()),
        Just(b"    kpi: a\n".to_vec()),
        Just(b"    target: \">= 5%\"\n".to_vec()),
        Just(b"    window: 2026-Q4\n".to_vec()),
        Just(b"    by: [channel]\n".to_vec()),
        Just(b"    for: {channel: vk}\n".to_vec()),
        Just(b"&x ".to_vec()),
        Just(b"*x".to_vec()),
        Just(b"<<: *x\n".to_vec()),
        Just(b"\t".to_vec()),
        Just(b"\xef\xbb\xbf".to_vec()),
        Just(b"\r\n".to_vec()),
        Just("é🙂".as_bytes().to_vec()),
        prop::collection::vec(any::<u8>(), 0..8),
        "[ -~]{0,12}".prop_map(String::into_bytes),
    ];
    prop::collection::vec(piece, 0..24).prop_map(|v| v.concat())
}

/// Text that looks like a formula: tokens of the language mixed with noise.
fn formulaish() -> impl Strategy<Value = String> {
    let token = prop_oneof![
        Just("sum(".to_string()),
        Just("count(".to_string()),
        Just("percentile(".to_string()),
        Just("previous(".to_string()),
        Just("round(".to_string()),
        Just("if(".to_string()),
        Just("date(\"2026-10-01\")".to_string()),
        Just("likes".to_string()),
        Just("reach".to_string()),
        Just("channel".to_string()),
        Just("date".to_string()),
        Just("posts.likes".to_string()),
        Just("a".to_string()),
        Just("b".to_string()),
        Just("`Post Reach`".to_string()),
        Just("\"vk\"".to_string()),
        Just("4.5%".to_string()),
        Just("1e400".to_string()),
        Just("0".to_string()),
        Just(" where ".to_string()),
        Just(" in (".to_string()),
        Just(" between ".to_string()),
        Just(" and ".to_string()),
        Just(" or ".to_string()),
        Just("not ".to_string()),
        Just(")".to_string()),
        Just(",".to_string()),
        Just(" + ".to_string()),
        Just(" / ".to_string()),
        Just(" == ".to_string()),
        Just("-".to_string()),
        "[ -~]{0,4}",
        ".{0,3}",
    ];
    prop::collection::vec(token, 0..30).prop_map(|v| v.concat())
}

/// Bytes that look like a CSV file for the pack: the right header (mostly), rows of good
/// and bad values.
fn csvish() -> impl Strategy<Value = Vec<u8>> {
    let field = prop_oneof![
        Just(b"2026-10-01".to_vec()),
        Just(b"2026-10-05T13:45:00Z".to_vec()),
        Just(b"2026-13-01".to_vec()),
        Just(b"vk".to_vec()),
        Just(b"\"a, \"\"b\"\"\"".to_vec()),
        Just(b"\"unclosed".to_vec()),
        Just(b"12".to_vec()),
        Just(b"-3.5e2".to_vec()),
        Just(b"1_000".to_vec()),
        Just(b"NaN".to_vec()),
        Just(b"".to_vec()),
        Just(b"\xff\xfe".to_vec()),
        prop::collection::vec(any::<u8>(), 0..6),
    ];
    let row = prop::collection::vec(field, 0..6).prop_map(|f| f.join(&b","[..]));
    let ending = prop_oneof![Just(b"\n".to_vec()), Just(b"\r\n".to_vec()), Just(b"\r".to_vec())];
    let header = prop_oneof![
        4 => Just(b"date,channel,likes,reach".to_vec()),
        1 => Just(b"\xef\xbb\xbfdate,channel,likes,reach".to_vec()),
        1 => Just(b"day,channel,likes".to_vec()),
        1 => prop::collection::vec(any::<u8>(), 0..20),
    ];
    (header, prop::collection::vec((row, ending), 0..12)).prop_map(|(h, rows)| {
        let mut out = h;
        out.push(b'\n');
        for (r, e) in rows {
            out.extend(r);
            out.extend(e);
        }
        out
    })
}

/// A pack whose KPIs use every kind of function, so that the data reaches every kernel.
fn eval_pack() -> String {
    format!(
        "{HEAD}kpis:\n  likes_total:\n    unit: count\n    formula: sum(likes)\n    by: [channel]\n\
         \x20 rate:\n    unit: percent\n    formula: sum(likes) / sum(reach)\n\
         \x20 spread:\n    formula: max(likes) - min(likes) + median(reach) + percentile(reach, 0.9)\n\
         \x20 kinds:\n    formula: count_distinct(channel) + count(where likes > 0) + avg(likes)\n\
         \x20 stock:\n    formula: last(likes) + first(reach)\n\
         \x20 trend:\n    formula: growth(sum(likes)) + rolling_avg(sum(likes), 2) + cumulative(sum(reach))\n\
         goals:\n  g:\n    kpi: likes_total\n    description: Likes\n    for: {{channel: vk}}\n    target: \">= 5\"\n\
         \x20   window: 2026-Q4\n    each: month\n    objective: awareness\n    owner: me\n"
    )
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 128, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn any_bytes_as_a_pack_file_never_panic(bytes in prop_oneof![yamlish(), prop::collection::vec(any::<u8>(), 0..200)]) {
        let dir = TempDir::new("yaml");
        dir.write("data.csv", DATA);
        let pack = dir.write("pack.yaml", &bytes);
        load_and_check(&pack);
        // The same bytes after a valid head: the sections merge with something real.
        let mut with_head = HEAD.as_bytes().to_vec();
        with_head.extend(&bytes);
        let pack = dir.write("pack.yaml", &with_head);
        load_and_check(&pack);
        load_and_check(&dir.0);
    }

    #[test]
    fn any_text_as_a_formula_never_panics(formula in prop_oneof![formulaish(), any::<String>()]) {
        let dir = TempDir::new("formula");
        dir.write("data.csv", DATA);
        // A block scalar keeps the text as it is (indented), whatever its characters.
        let mut body = String::new();
        for line in formula.split('\n') {
            body.push_str("      ");
            body.push_str(line);
            body.push('\n');
        }
        let yaml = format!(
            "{HEAD}kpis:\n  a:\n    formula: sum(likes)\n  b:\n    unit: percent\n    by: [channel]\n    formula: |-\n{body}\
             goals:\n  g:\n    kpi: b\n    target: \">= 4.5\"\n    window: 2026-Q4\n"
        );
        let pack = dir.write("pack.yaml", yaml.as_bytes());
        load_and_check(&pack);
        evaluate(&pack, BadRowPolicy::Fail);
        // The same text as a target and as a quoted one-line formula.
        let quoted = formula.replace('\\', "\\\\").replace('"', "\\\"").replace('\n', "\\n");
        let yaml = format!(
            "{HEAD}kpis:\n  a:\n    formula: \"{quoted}\"\ngoals:\n  g:\n    kpi: a\n    target: \"{quoted}\"\n    baseline: \"{quoted}\"\n"
        );
        let pack = dir.write("pack.yaml", yaml.as_bytes());
        load_and_check(&pack);
    }

    #[test]
    fn any_bytes_as_a_dataset_never_panic(
        data in prop_oneof![3 => csvish(), 1 => prop::collection::vec(any::<u8>(), 0..300)],
        skip in any::<bool>(),
    ) {
        let dir = TempDir::new("csv");
        dir.write("data.csv", &data);
        let pack = dir.write("pack.yaml", eval_pack());
        let policy = if skip { BadRowPolicy::Skip } else { BadRowPolicy::Fail };
        evaluate(&pack, policy);
        // The same bytes as NDJSON.
        dir.write("data.ndjson", &data);
        let pack = dir.write("pack.yaml", eval_pack().replace("data.csv", "data.ndjson"));
        evaluate(&pack, policy);
    }
}

/// NDJSON lines built from JSON-ish fragments.
fn ndjsonish() -> impl Strategy<Value = Vec<u8>> {
    let value = prop_oneof![
        Just("\"2026-10-01\"".to_string()),
        Just("\"vk\"".to_string()),
        Just("12".to_string()),
        Just("-1e308".to_string()),
        Just("null".to_string()),
        Just("true".to_string()),
        Just("{\"a\": [1]}".to_string()),
        Just("[]".to_string()),
        Just("\"12a\"".to_string()),
        "[ -~]{0,5}",
    ];
    let key = prop_oneof![Just("date"), Just("channel"), Just("likes"), Just("reach"), Just("x")];
    let line = prop::collection::vec((key, value), 0..5).prop_map(|kv| {
        let body: Vec<String> = kv.into_iter().map(|(k, v)| format!("\"{k}\": {v}")).collect();
        format!("{{{}}}", body.join(", "))
    });
    prop::collection::vec(prop_oneof![4 => line, 1 => "[ -~]{0,10}"], 0..10)
        .prop_map(|lines| lines.join("\n").into_bytes())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn any_ndjson_never_panics(data in ndjsonish(), skip in any::<bool>()) {
        let dir = TempDir::new("ndjson");
        dir.write("data.ndjson", &data);
        let pack = dir.write("pack.yaml", eval_pack().replace("data.csv", "data.ndjson"));
        let policy = if skip { BadRowPolicy::Skip } else { BadRowPolicy::Fail };
        evaluate(&pack, policy);
    }
}
