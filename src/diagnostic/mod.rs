//! Diagnostics: one error type for every stage, rendered separately (human or JSON).
//!
//! A [`Diagnostic`] is created where the problem is found, with a stable [`Code`], a
//! message, labelled byte spans into a source file registered in [`Sources`], and a help
//! line saying what to do. Rendering ([`render`]) is separate from creation.

mod codes;
mod render;

pub use codes::Code;
pub use render::{render_github, render_human, render_json, LineCol};

use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};

/// How bad a diagnostic is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Worth knowing, changes nothing.
    Note,
    /// Suspicious; `--strict` turns it into a failure.
    Warning,
    /// The definitions, the command line or the data cannot be used.
    Error,
}

/// Identifies one source text in [`Sources`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct FileId(pub u32);

/// A byte range in one source file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct SrcSpan {
    /// The file.
    pub file: FileId,
    /// First byte.
    pub start: usize,
    /// One past the last byte.
    pub end: usize,
}

impl SrcSpan {
    /// A span from `start` to `end` in `file`.
    pub fn new(file: FileId, start: usize, end: usize) -> Self {
        SrcSpan { file, start, end: end.max(start) }
    }
}

/// A labelled place in a source.
#[derive(Debug, Clone)]
pub struct Label {
    /// Where.
    pub span: SrcSpan,
    /// What about it (may be empty).
    pub text: String,
}

/// One problem found in the definitions, the command line or the data.
#[derive(Debug, Clone)]
pub struct Diagnostic {
    /// Stable code from the table in [`Code`].
    pub code: Code,
    /// Error, warning or note.
    pub severity: Severity,
    /// What is wrong, in one sentence.
    pub message: String,
    /// The places involved; the first is the primary one.
    pub labels: Vec<Label>,
    /// What to do about it.
    pub help: Option<String>,
    /// A file named without a span (a data file, a missing file).
    pub path: Option<PathBuf>,
    /// A line and column known without a registered source (data errors).
    pub line_col: Option<(usize, usize)>,
}

impl Diagnostic {
    /// A new error with `code` and `message`.
    pub fn error(code: Code, message: impl Into<String>) -> Self {
        Diagnostic {
            code,
            severity: Severity::Error,
            message: message.into(),
            labels: Vec::new(),
            help: None,
            path: None,
            line_col: None,
        }
    }

    /// A new warning with `code` and `message`.
    pub fn warning(code: Code, message: impl Into<String>) -> Self {
        Diagnostic { severity: Severity::Warning, ..Diagnostic::error(code, message) }
    }

    /// A new note with `code` and `message`.
    pub fn note(code: Code, message: impl Into<String>) -> Self {
        Diagnostic { severity: Severity::Note, ..Diagnostic::error(code, message) }
    }

    /// Adds the primary (or another) labelled span.
    pub fn with_label(mut self, span: SrcSpan, text: impl Into<String>) -> Self {
        self.labels.push(Label { span, text: text.into() });
        self
    }

    /// Adds a span, if known.
    pub fn with_opt_label(self, span: Option<SrcSpan>, text: impl Into<String>) -> Self {
        match span {
            Some(s) => self.with_label(s, text),
            None => self,
        }
    }

    /// Sets the help line.
    pub fn with_help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }

    /// Names a file that has no registered source (data files).
    pub fn with_path(mut self, path: impl Into<PathBuf>) -> Self {
        self.path = Some(path.into());
        self
    }

    /// Sets a line and column (1-based) in the file named by [`Diagnostic::with_path`].
    pub fn with_line_col(mut self, line: usize, col: usize) -> Self {
        self.line_col = Some((line, col));
        self
    }

    /// Whether this diagnostic stops the run.
    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }
}

/// A list of diagnostics collected by a stage.
pub type Diagnostics = Vec<Diagnostic>;

/// The source texts that spans point into (YAML files, the command line).
#[derive(Debug, Clone, Default)]
pub struct Sources {
    inner: Arc<RwLock<Vec<SourceFile>>>,
    /// Passwords of bound database URLs: masked in everything rendered (snippets included).
    secrets: Arc<RwLock<Vec<String>>>,
}

/// One registered source.
#[derive(Debug, Clone)]
pub struct SourceFile {
    /// Path as shown to the user.
    pub path: PathBuf,
    /// The whole text.
    pub text: Arc<str>,
}

impl Sources {
    /// An empty registry.
    pub fn new() -> Self {
        Self::default()
    }

    /// Registers a text and returns its id.
    pub fn add(&self, path: impl AsRef<Path>, text: impl Into<Arc<str>>) -> FileId {
        let mut files = self.inner.write().unwrap_or_else(|e| e.into_inner());
        files.push(SourceFile { path: path.as_ref().to_path_buf(), text: text.into() });
        FileId((files.len() - 1) as u32)
    }

    /// Registers a password to mask as `:***@` wherever `:PASSWORD@` would be printed.
    pub fn add_secret(&self, password: &str) {
        if password.is_empty() {
            return;
        }
        let mut s = self.secrets.write().unwrap_or_else(|e| e.into_inner());
        if !s.iter().any(|x| x == password) {
            s.push(password.to_string());
        }
    }

    /// `text` with every registered password masked.
    pub fn redact(&self, text: &str) -> String {
        let secrets = self.secrets.read().unwrap_or_else(|e| e.into_inner());
        let mut out = text.to_string();
        for p in secrets.iter() {
            out = out.replace(&format!(":{p}@"), ":***@").replace(&format!("password={p}"), "password=***");
        }
        out
    }

    /// The source behind `id`.
    pub fn get(&self, id: FileId) -> Option<SourceFile> {
        let files = self.inner.read().unwrap_or_else(|e| e.into_inner());
        files.get(id.0 as usize).cloned()
    }

    /// `path:line:col` of a span's start, for messages that name another place.
    pub fn location(&self, span: SrcSpan) -> String {
        match self.get(span.file) {
            Some(f) => {
                let lc = LineCol::of(&f.text, span.start);
                format!("{}:{}:{}", f.path.display(), lc.line, lc.col)
            }
            None => "<unknown>".to_string(),
        }
    }
}

/// Returns the candidate closest to `name` by edit distance, if it is close enough to be
/// a plausible typo.
pub fn did_you_mean<'a>(name: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    let mut best: Option<(usize, &str)> = None;
    for c in candidates {
        let d = edit_distance(name, c);
        let limit = (name.chars().count().max(c.chars().count()) / 3).max(1);
        if d <= limit && best.is_none_or(|(bd, _)| d < bd) {
            best = Some((d, c));
        }
    }
    best.map(|(_, c)| c)
}

fn edit_distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    let mut cur = vec![0; b.len() + 1];
    for i in 1..=a.len() {
        cur[0] = i;
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            cur[j] = (prev[j] + 1).min(cur[j - 1] + 1).min(prev[j - 1] + cost);
        }
        std::mem::swap(&mut prev, &mut cur);
    }
    prev[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggests_close_names_only() {
        assert_eq!(did_you_mean("likez", ["likes", "reach"]), Some("likes"));
        assert_eq!(did_you_mean("zzz", ["likes", "reach"]), None);
    }
}
