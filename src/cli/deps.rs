//! `kpi deps`: print the import tree.

use super::{print_diagnostics, EXIT_INVALID, EXIT_OK};
use crate::diagnostic::Sources;
use crate::pipeline::yaml_to_spec;
use crate::spec::{describe_source, Pack};
use std::path::PathBuf;

/// Arguments of `kpi deps`.
#[derive(Debug, clap::Args)]
pub struct DepsArgs {
    /// The pack: a .yaml file or a folder with pack.yaml.
    #[arg(default_value = ".")]
    pub pack: PathBuf,
}

/// The import tree as text: one line per import, indented by depth.
pub fn render_tree(pack: &Pack) -> String {
    let name = pack.name.as_ref().map(|n| n.value.as_str()).unwrap_or("pack");
    let version = pack.version.as_ref().map(|v| v.value.as_str()).unwrap_or("0.0.0");
    let mut out = format!("{name} {version}\n");
    for r in &pack.resolved {
        let indent = "  ".repeat(r.depth + 1);
        let shared = match &r.same_as {
            Some(s) => format!(" (same as `{s}`)"),
            None => String::new(),
        };
        out.push_str(&format!(
            "{indent}{}: {} {} from {}{shared}\n",
            r.namespace,
            r.name,
            r.version,
            describe_source(&r.source)
        ));
    }
    out
}

/// Runs `kpi deps`.
pub fn run(a: DepsArgs) -> i32 {
    let sources = Sources::new();
    match yaml_to_spec(&a.pack, &sources) {
        Ok(p) => {
            print!("{}", render_tree(&p));
            EXIT_OK
        }
        Err(d) => {
            print_diagnostics(&d, &sources);
            EXIT_INVALID
        }
    }
}
