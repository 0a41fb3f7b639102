//! `kpi lock`: resolve the imports and write `kpi.lock`.

use super::{print_diagnostics, EXIT_INVALID, EXIT_OK};
use crate::diagnostic::Sources;
use crate::pipeline::yaml_to_spec;
use std::path::PathBuf;

/// Arguments of `kpi lock`.
#[derive(Debug, clap::Args)]
pub struct LockArgs {
    /// The pack: a .yaml file or a folder with pack.yaml.
    #[arg(default_value = ".")]
    pub pack: PathBuf,
    /// Fetch git imports at a branch or tag again (they are otherwise read from the cache as
    /// first fetched), then lock the commits they are at now.
    #[arg(long)]
    pub update: bool,
}

/// Runs `kpi lock`.
pub fn run(a: LockArgs) -> i32 {
    let sources = Sources::new();
    if a.update {
        crate::spec::refresh_git_imports();
    }
    let pack = match yaml_to_spec(&a.pack, &sources) {
        Ok(p) => p,
        Err(d) => {
            print_diagnostics(&d, &sources);
            return EXIT_INVALID;
        }
    };
    match crate::spec::lock::write(&pack) {
        Ok(path) => {
            eprintln!("locked {} import(s) in {}", pack.resolved.len(), path.display());
            EXIT_OK
        }
        Err(d) => {
            print_diagnostics(&[d], &sources);
            EXIT_INVALID
        }
    }
}
