//! Rendering diagnostics: for people (a snippet with a caret line) and as JSON.

use super::{Diagnostic, Severity, Sources};
use std::fmt::Write;

/// A 1-based line and column (columns count characters).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LineCol {
    /// Line, from 1.
    pub line: usize,
    /// Column in characters, from 1.
    pub col: usize,
}

impl LineCol {
    /// The line and column of byte `offset` in `text`.
    pub fn of(text: &str, offset: usize) -> LineCol {
        let offset = floor_char_boundary(text, offset.min(text.len()));
        let before = &text[..offset];
        let line = before.bytes().filter(|&b| b == b'\n').count() + 1;
        let line_start = before.rfind('\n').map_or(0, |i| i + 1);
        LineCol { line, col: text[line_start..offset].chars().count() + 1 }
    }
}

fn floor_char_boundary(text: &str, mut i: usize) -> usize {
    while i > 0 && !text.is_char_boundary(i) {
        i -= 1;
    }
    i
}

fn severity_word(s: Severity) -> &'static str {
    match s {
        Severity::Error => "error",
        Severity::Warning => "warning",
        Severity::Note => "note",
    }
}

/// `path:line:col` of the primary place of a diagnostic, if it has one.
pub fn primary_location(d: &Diagnostic, sources: &Sources) -> Option<(String, usize, usize)> {
    if let Some(l) = d.labels.first() {
        let f = sources.get(l.span.file)?;
        let lc = LineCol::of(&f.text, l.span.start);
        return Some((f.path.display().to_string(), lc.line, lc.col));
    }
    let p = d.path.as_ref()?;
    let (line, col) = d.line_col.unwrap_or((0, 0));
    Some((p.display().to_string(), line, col))
}

/// Renders a diagnostic for a person: a headline, `--> file:line:col`, the source line(s)
/// with carets under the span, and the help.
pub fn render_human(d: &Diagnostic, sources: &Sources) -> String {
    sources.redact(&render_human_raw(d, sources))
}

fn render_human_raw(d: &Diagnostic, sources: &Sources) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "{}[{}]: {}", severity_word(d.severity), d.code, d.message);
    if d.labels.is_empty() {
        if let Some(p) = &d.path {
            match d.line_col {
                Some((l, 0)) => {
                    let _ = writeln!(out, "  --> {}:{}", p.display(), l);
                }
                Some((l, c)) => {
                    let _ = writeln!(out, "  --> {}:{}:{}", p.display(), l, c);
                }
                None => {
                    let _ = writeln!(out, "  --> {}", p.display());
                }
            }
        }
    }
    for (i, label) in d.labels.iter().enumerate() {
        let Some(file) = sources.get(label.span.file) else { continue };
        let text = &file.text;
        let start = LineCol::of(text, label.span.start);
        let end = LineCol::of(text, label.span.end.max(label.span.start));
        let arrow = if i == 0 { "-->" } else { ":::" };
        let _ = writeln!(out, "  {arrow} {}:{}:{}", file.path.display(), start.line, start.col);
        let line_text = text.lines().nth(start.line - 1).unwrap_or("").trim_end();
        let gutter = start.line.to_string().len().max(2);
        let width = if end.line == start.line {
            end.col.saturating_sub(start.col).max(1)
        } else {
            line_text.chars().count().saturating_sub(start.col - 1).max(1)
        };
        let (shown, caret_col, width) = clip_line(line_text, start.col, width);
        let _ = writeln!(out, "{:>gutter$} |", "");
        let _ = writeln!(out, "{:>gutter$} | {}", start.line, shown);
        let marker = if i == 0 { "^" } else { "-" };
        let _ = writeln!(
            out,
            "{:>gutter$} | {}{} {}",
            "",
            " ".repeat(caret_col - 1),
            marker.repeat(width),
            label.text
        );
    }
    if let Some(h) = &d.help {
        let _ = writeln!(out, "   = help: {h}");
    }
    out
}

/// The widest snippet line shown, in characters; longer lines are cut around the span.
const MAX_SNIPPET: usize = 100;

/// Cuts a long source line to a window around the span at `col` (1-based, characters) of
/// `width` characters, marking the cuts with `…`; returns the text, the span's column in
/// it and the (possibly shortened) width of the carets.
fn clip_line(line: &str, col: usize, width: usize) -> (String, usize, usize) {
    let len = line.chars().count();
    if len <= MAX_SNIPPET {
        return (line.to_string(), col, width);
    }
    let context = 30;
    let from = col.saturating_sub(1).saturating_sub(context).min(len);
    let to = (from + MAX_SNIPPET).min(len);
    let mut shown = String::new();
    if from > 0 {
        shown.push('…');
    }
    shown.extend(line.chars().skip(from).take(to - from));
    if to < len {
        shown.push('…');
    }
    let caret_col = col - from + usize::from(from > 0);
    let width = width.min((to + 1).saturating_sub(col).max(1));
    (shown, caret_col, width)
}

/// Renders a diagnostic as a JSON object: code, name, severity, file, line, column,
/// message, help, and the other places.
pub fn render_json(d: &Diagnostic, sources: &Sources) -> serde_json::Value {
    let loc = primary_location(d, sources);
    let related: Vec<serde_json::Value> = d
        .labels
        .iter()
        .skip(1)
        .filter_map(|l| {
            let f = sources.get(l.span.file)?;
            let lc = LineCol::of(&f.text, l.span.start);
            Some(serde_json::json!({
                "file": f.path.display().to_string(), "line": lc.line, "column": lc.col,
                "message": l.text,
            }))
        })
        .collect();
    serde_json::json!({
        "code": d.code.as_str(),
        "name": d.code.name(),
        "severity": d.severity,
        "file": loc.as_ref().map(|l| l.0.clone()),
        "line": loc.as_ref().map(|l| l.1),
        "column": loc.as_ref().map(|l| l.2),
        "message": sources.redact(&d.message),
        "label": d.labels.first().map(|l| l.text.clone()),
        "help": d.help.as_deref().map(|h| sources.redact(h)),
        "related": related,
    })
}

/// Renders a diagnostic as a GitHub Actions workflow command
/// (`::error file=F,line=L,col=C,title=K0101::message`), so it annotates the file in a pull
/// request. The help goes on a second line of the message.
pub fn render_github(d: &Diagnostic, sources: &Sources) -> String {
    sources.redact(&render_github_raw(d, sources))
}

fn render_github_raw(d: &Diagnostic, sources: &Sources) -> String {
    let command = match d.severity {
        Severity::Error => "error",
        Severity::Warning => "warning",
        Severity::Note => "notice",
    };
    let mut props = Vec::new();
    if let Some((file, line, col)) = primary_location(d, sources) {
        props.push(format!("file={}", github_property(&file)));
        if line > 0 {
            props.push(format!("line={line}"));
        }
        if col > 0 {
            props.push(format!("col={col}"));
        }
    }
    props.push(format!("title={}", github_property(d.code.as_str())));
    let mut message = d.message.clone();
    if let Some(h) = &d.help {
        message.push_str("\nhelp: ");
        message.push_str(h);
    }
    format!("::{command} {}::{}", props.join(","), github_data(&message))
}

/// Escapes a workflow command's message.
fn github_data(s: &str) -> String {
    s.replace('%', "%25").replace('\r', "%0D").replace('\n', "%0A")
}

/// Escapes a workflow command's property value.
fn github_property(s: &str) -> String {
    github_data(s).replace(':', "%3A").replace(',', "%2C")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diagnostic::{Code, SrcSpan};

    #[test]
    fn renders_caret_under_span() {
        let s = Sources::new();
        let f = s.add("a.yaml", "kpis:\n  x:\n    formula: sum(likez)\n");
        let start = "kpis:\n  x:\n    formula: sum(".len();
        let d = Diagnostic::error(Code::UnknownColumn, "unknown column `likez`")
            .with_label(SrcSpan::new(f, start, start + 5), "not a column")
            .with_help("did you mean `likes`?");
        let r = render_human(&d, &s);
        assert!(r.contains("--> a.yaml:3:18"), "{r}");
        assert!(r.contains("                 ^^^^^ not a column"), "{r}");
    }

    #[test]
    fn github_escapes_message_and_properties() {
        let s = Sources::new();
        let f = s.add("a,b:c.yaml", "kpis:\n  x: 1\n");
        let d = Diagnostic::warning(Code::UnknownKey, "50% off\r\nnow")
            .with_label(SrcSpan::new(f, 8, 9), "")
            .with_help("a, b: c");
        assert_eq!(
            render_github(&d, &s),
            "::warning file=a%2Cb%3Ac.yaml,line=2,col=3,title=K0402::50%25 off%0D%0Anow%0Ahelp: a, b: c"
        );
    }

    #[test]
    fn cuts_long_lines_around_the_span() {
        let s = Sources::new();
        let line = format!("formula: {}x{}", "(".repeat(500), ")".repeat(500));
        let f = s.add("a.yaml", line.as_str());
        let at = line.find('x').unwrap_or(0);
        let d = Diagnostic::error(Code::NestingTooDeep, "too deep")
            .with_label(SrcSpan::new(f, at, at + 1), "here");
        let r = render_human(&d, &s);
        assert!(r.lines().all(|l| l.chars().count() < 130), "{r}");
        let snippet = r.lines().find(|l| l.contains('x')).unwrap_or("");
        let caret = r.lines().find(|l| l.contains("^ here")).unwrap_or("");
        assert_eq!(snippet.chars().position(|c| c == 'x'), caret.chars().position(|c| c == '^'), "{r}");
    }
}
