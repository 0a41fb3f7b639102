//! `kpi.lock`: the resolved imports of a pack, so CI can insist they have not moved.
//!
//! The file is JSON (`"lock": "kpi-lock/1"`), beside `pack.yaml` (or beside a single-file
//! pack). Each entry: the full namespace, the imported pack's name and version, where it
//! came from (`{"path": ...}` or `{"git": url, "rev": ..., "commit": ...}`), the sha256 of
//! its definition files (sorted relative paths + bytes), and `same_as` when the same pack
//! is reached twice and loaded once. Entries are in resolution order (depth first).

use super::pack::{LockedSource, Pack};
use crate::diagnostic::{Code, Diagnostic};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// The lockfile's name.
pub const LOCK_FILE: &str = "kpi.lock";

/// The whole lockfile.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LockFile {
    /// Always `kpi-lock/1`.
    pub lock: String,
    /// The resolved imports.
    pub imports: Vec<LockEntry>,
}

/// One resolved import.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LockEntry {
    /// Full namespace (`team.core`).
    pub namespace: String,
    /// The pack's name.
    pub name: String,
    /// The pack's version.
    pub version: String,
    /// Where it came from.
    pub source: Source,
    /// `sha256:<hex>` of the definition files.
    pub hash: String,
    /// The namespace of the instance it shares.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub same_as: Option<String>,
}

/// A source as written in the lockfile.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Source {
    /// A git repository.
    Git {
        /// URL.
        git: String,
        /// Revision as written.
        rev: String,
        /// Commit it resolved to.
        commit: String,
    },
    /// A path as written.
    Path {
        /// The path.
        path: String,
    },
}

/// Where the lockfile of a loaded pack lives.
pub fn lock_path(pack: &Pack) -> PathBuf {
    pack.dir.join(LOCK_FILE)
}

/// The lockfile describing a loaded pack's imports.
pub fn lock_of(pack: &Pack) -> LockFile {
    LockFile {
        lock: "kpi-lock/1".into(),
        imports: pack
            .resolved
            .iter()
            .map(|r| LockEntry {
                namespace: r.namespace.clone(),
                name: r.name.clone(),
                version: r.version.clone(),
                source: match &r.source {
                    LockedSource::Path { path } => Source::Path { path: path.clone() },
                    LockedSource::Git { url, rev, commit } => {
                        Source::Git { git: url.clone(), rev: rev.clone(), commit: commit.clone() }
                    }
                },
                hash: r.hash.clone(),
                same_as: r.same_as.clone(),
            })
            .collect(),
    }
}

/// The lockfile as text.
pub fn render(lock: &LockFile) -> String {
    format!("{}\n", serde_json::to_string_pretty(lock).unwrap_or_default())
}

/// Checks that the pack's imports match its `kpi.lock` exactly.
pub fn verify(pack: &Pack) -> Result<(), Diagnostic> {
    let path = lock_path(pack);
    let mismatch = |msg: String| {
        Diagnostic::error(Code::LockMismatch, msg)
            .with_path(&path)
            .with_help("run `kpi lock` to record the imports as they are now, and commit kpi.lock")
    };
    let text = match std::fs::read_to_string(&path) {
        Ok(t) => t,
        Err(_) => return Err(mismatch(format!("--locked: there is no `{}`", path.display()))),
    };
    let locked: LockFile = serde_json::from_str(&text)
        .map_err(|e| mismatch(format!("--locked: `{}` is not a kpi lockfile: {e}", path.display())))?;
    let now = lock_of(pack);
    let mut diffs = Vec::new();
    for e in &now.imports {
        match locked.imports.iter().find(|l| l.namespace == e.namespace) {
            None => diffs.push(format!("`{}` is not in the lockfile", e.namespace)),
            Some(l) => {
                if l.version != e.version {
                    diffs.push(format!("`{}` is at {} but locked at {}", e.namespace, e.version, l.version));
                }
                if l.source != e.source {
                    diffs.push(format!(
                        "`{}` comes from {} but was locked from {}",
                        e.namespace,
                        show(&e.source),
                        show(&l.source)
                    ));
                }
                if l.hash != e.hash && l.version == e.version {
                    diffs
                        .push(format!("the definitions of `{}` changed since they were locked", e.namespace));
                }
                if l.same_as != e.same_as {
                    diffs.push(format!("`{}` is shared differently than when locked", e.namespace));
                }
            }
        }
    }
    for l in &locked.imports {
        if !now.imports.iter().any(|e| e.namespace == l.namespace) {
            diffs.push(format!("`{}` is locked but no longer imported", l.namespace));
        }
    }
    if diffs.is_empty() {
        Ok(())
    } else {
        Err(mismatch(format!(
            "--locked: the imports do not match `{}`: {}",
            path.display(),
            diffs.join("; ")
        )))
    }
}

fn show(s: &Source) -> String {
    match s {
        Source::Path { path } => format!("`{path}`"),
        Source::Git { git, rev, commit } => {
            format!("`{git}` at `{rev}` ({})", &commit[..commit.len().min(12)])
        }
    }
}

/// Writes the lockfile whole or not at all.
pub fn write(pack: &Pack) -> Result<PathBuf, Diagnostic> {
    let path = lock_path(pack);
    let text = render(&lock_of(pack));
    write_atomic(&path, &text)?;
    Ok(path)
}

fn write_atomic(path: &Path, text: &str) -> Result<(), Diagnostic> {
    use std::io::Write;
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let tmp = dir.join(format!(".{LOCK_FILE}.tmp-{}", std::process::id()));
    let result = (|| -> std::io::Result<()> {
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(text.as_bytes())?;
        f.sync_all()?;
        std::fs::rename(&tmp, path)
    })();
    result.map_err(|e| {
        let _ = std::fs::remove_file(&tmp);
        Diagnostic::error(Code::OutputUnwritable, format!("cannot write `{}`: {e}", path.display()))
            .with_path(path)
            .with_help("check that the pack's folder is writable")
    })
}
