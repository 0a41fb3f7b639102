//! Writing outputs whole or not at all: a temporary file in the same folder, then rename.

use crate::diagnostic::{Code, Diagnostic};
use std::io::Write;
use std::path::{Path, PathBuf};

/// Writes `text` to `path` atomically; refuses to overwrite any of `inputs`.
pub fn write_atomic(path: &Path, text: &str, inputs: &[PathBuf]) -> Result<(), Diagnostic> {
    let fail = |msg: String| Diagnostic::error(Code::OutputUnwritable, msg).with_path(path);
    if let Ok(canon) = path.canonicalize() {
        if inputs.iter().filter_map(|i| i.canonicalize().ok()).any(|i| i == canon) {
            return Err(fail(format!(
                "refusing to write the report over an input file `{}`",
                path.display()
            ))
            .with_help("choose another --output path"));
        }
    }
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_else(|| "report".into());
    let tmp = dir.join(format!(".{name}.kpi-tmp-{}", std::process::id()));
    let result = (|| -> std::io::Result<()> {
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(text.as_bytes())?;
        f.sync_all()?;
        std::fs::rename(&tmp, path)
    })();
    if let Err(e) = result {
        let _ = std::fs::remove_file(&tmp);
        return Err(fail(format!("cannot write `{}`: {e}", path.display()))
            .with_help("check that the folder exists and is writable"));
    }
    Ok(())
}

/// Writes several files, all whole or none: each goes to a temporary file first, and only
/// when every one is written are they renamed into place.
pub fn write_all_atomic(files: &[(PathBuf, String)], inputs: &[PathBuf]) -> Result<(), Diagnostic> {
    let canon_inputs: Vec<PathBuf> = inputs.iter().filter_map(|i| i.canonicalize().ok()).collect();
    let mut temps: Vec<(PathBuf, PathBuf)> = Vec::new();
    let cleanup = |temps: &[(PathBuf, PathBuf)]| {
        for (t, _) in temps {
            let _ = std::fs::remove_file(t);
        }
    };
    for (i, (path, text)) in files.iter().enumerate() {
        let fail = |msg: String| Diagnostic::error(Code::OutputUnwritable, msg).with_path(path);
        if path.canonicalize().ok().is_some_and(|c| canon_inputs.contains(&c)) {
            cleanup(&temps);
            return Err(fail(format!("refusing to write a report over an input file `{}`", path.display()))
                .with_help("choose another path"));
        }
        if files[..i].iter().any(|(p, _)| p == path) {
            cleanup(&temps);
            return Err(fail(format!("`{}` is given for two reports", path.display()))
                .with_help("give each report its own path"));
        }
        let dir = match path.parent() {
            Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
            _ => PathBuf::from("."),
        };
        let name =
            path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_else(|| "report".into());
        let tmp = dir.join(format!(".{name}.kpi-tmp-{}-{i}", std::process::id()));
        let written = (|| -> std::io::Result<()> {
            let mut f = std::fs::File::create(&tmp)?;
            f.write_all(text.as_bytes())?;
            f.sync_all()
        })();
        if let Err(e) = written {
            let _ = std::fs::remove_file(&tmp);
            cleanup(&temps);
            return Err(fail(format!("cannot write `{}`: {e}", path.display()))
                .with_help("check that the folder exists and is writable; no report was written"));
        }
        temps.push((tmp, path.clone()));
    }
    for (tmp, path) in &temps {
        if let Err(e) = std::fs::rename(tmp, path) {
            cleanup(&temps);
            return Err(Diagnostic::error(
                Code::OutputUnwritable,
                format!("cannot write `{}`: {e}", path.display()),
            )
            .with_path(path));
        }
    }
    Ok(())
}
