//! A password in a source, from the environment or a URL, never appears in any output.

use std::process::Command;

const SECRET: &str = "s3cr3t-Passw0rd-xyz";

fn run(args: &[&str]) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_kpi"))
        .args(args)
        .env("KPI_TEST_DB_PASSWORD", SECRET)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("kpi runs");
    format!("{}\n{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr))
}

#[test]
fn passwords_never_appear_in_output() {
    let pack = "tests/fixtures/credentials/pack.yaml";
    let url = format!("posts=postgres://analyst:{SECRET}@db.example.internal/marketing?table=posts");
    let outputs = [
        run(&["check", pack]),
        run(&["check", pack, "--format", "json"]),
        run(&["eval", pack, "--as-of", "2026-11-20", "--format", "json"]),
        run(&["eval", pack, "--as-of", "2026-11-20", "--data", &url]),
        run(&["explain", pack, "likes"]),
        run(&["explain", pack, "likes", "--format", "json"]),
        run(&["check", pack, "--data", &url]),
    ];
    for o in &outputs {
        assert!(!o.contains(SECRET), "the password leaked:\n{o}");
    }
    // The redacted form is shown instead, so the user can still tell which database.
    assert!(outputs.iter().any(|o| o.contains("analyst:***@db.example.internal")), "{outputs:?}");
}
