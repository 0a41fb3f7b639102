//! `kpi init [DIR]`: writes a new pack to start from. Never overwrites: if any file it would
//! write exists, it writes nothing.

use super::{print_diagnostics, InitArgs, EXIT_INVALID, EXIT_OK};
use crate::diagnostic::{Code, Diagnostic, Sources};
use std::path::Path;

/// The files of a new pack: path in the folder, contents.
const FILES: &[(&str, &str)] = &[
    ("pack.yaml", include_str!("templates/pack.yaml")),
    ("data/sample.csv", include_str!("templates/sample.csv")),
    ("tests/basic.yaml", include_str!("templates/basic.yaml")),
];

/// Runs `kpi init`.
pub fn run(a: InitArgs) -> i32 {
    let sources = Sources::new();
    let fail = |d: Diagnostic| {
        print_diagnostics(&[d], &sources);
        EXIT_INVALID
    };
    let existing: Vec<String> = FILES
        .iter()
        .map(|(p, _)| a.dir.join(p))
        .filter(|p| p.exists())
        .map(|p| format!("`{}`", p.display()))
        .collect();
    if !existing.is_empty() {
        return fail(
            Diagnostic::error(
                Code::OutputUnwritable,
                format!("refusing to overwrite {}; nothing was written", existing.join(", ")),
            )
            .with_path(&a.dir)
            .with_help("choose an empty folder: kpi init my-kpis"),
        );
    }
    let mut written: Vec<std::path::PathBuf> = Vec::new();
    for (rel, text) in FILES {
        let path = a.dir.join(rel);
        let result =
            path.parent().map_or(Ok(()), std::fs::create_dir_all).and_then(|()| write_new(&path, text));
        if let Err(e) = result {
            // Whole or not at all: take back what this run wrote.
            for w in &written {
                let _ = std::fs::remove_file(w);
            }
            return fail(
                Diagnostic::error(Code::OutputUnwritable, format!("cannot write `{}`: {e}", path.display()))
                    .with_path(&path)
                    .with_help("check that the folder is writable"),
            );
        }
        written.push(path);
    }
    print!("{}", next_steps(&a.dir));
    EXIT_OK
}

/// Creates `path`, failing if it appeared since the check.
fn write_new(path: &Path, text: &str) -> std::io::Result<()> {
    use std::io::Write;
    let mut f = std::fs::OpenOptions::new().write(true).create_new(true).open(path)?;
    f.write_all(text.as_bytes())
}

fn next_steps(dir: &Path) -> String {
    let d = dir.display();
    format!(
        "\
Created a pack in {d}:
  {d}/pack.yaml          a dataset, two KPIs and a SMART goal
  {d}/data/sample.csv    sample rows (replace them with your export)
  {d}/tests/basic.yaml   a test case for `kpi test`

Next:
  kpi check {d}
  kpi eval {d} --as-of 2026-10-01
  kpi explain {d} engagement_rate

Editor help (completion, hover docs, typos flagged) in VS Code with the YAML extension
(redhat.vscode-yaml):
  kpi schema > {d}/kpi.schema.json
then either put this line at the top of each pack file:
  # yaml-language-server: $schema=./kpi.schema.json
or add to your VS Code settings:
  \"yaml.schemas\": {{ \"./kpi.schema.json\": [\"pack.yaml\"] }}   (add the pack's other files)
"
    )
}
