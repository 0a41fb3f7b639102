//! Loading a pack: finding its files, parsing YAML with budgets, merging the sections.

use super::model::{
    CalendarDoc, DatasetDoc, Entries, FileDoc, ForValue, GoalDoc, GoalOverrideDoc, ImportDoc, KpiDoc, Scalar,
    SourceDoc,
};
use super::pack::{
    Binding, Dataset, FormulaText, Goal, GoalOverride, Import, ImportSource, Item, Kpi, Objective, Pack,
    ParamDecl, SourceSpec,
};
use crate::diagnostic::{did_you_mean, Code, Diagnostic, Diagnostics, FileId, Sources, SrcSpan};
use serde_saphyr::{Location, Spanned};
use std::collections::HashMap;
use std::path::{Path, PathBuf};

/// Largest YAML file accepted, in bytes.
pub const MAX_YAML_BYTES: u64 = 4 * 1024 * 1024;
/// Most YAML files in one pack.
pub const MAX_PACK_FILES: usize = 1_000;
/// Most definitions (datasets + KPIs + goals) in one pack.
pub const MAX_DEFINITIONS: usize = 20_000;

/// Loads the files of the pack at `path` (a `.yaml` file, or a folder with `pack.yaml`)
/// without resolving its imports; see [`super::load_pack`].
pub(crate) fn load_pack_files(path: &Path, sources: &Sources) -> Result<Pack, Diagnostics> {
    let meta = std::fs::metadata(path).map_err(|e| {
        vec![Diagnostic::error(
            Code::PackNotFound,
            format!("cannot open pack `{}`: {}", path.display(), io_reason(&e)),
        )
        .with_path(path)
        .with_help("give the path of a pack: a .yaml file or a folder with pack.yaml")]
    })?;
    let (dir, files) = if meta.is_dir() {
        let head = ["pack.yaml", "pack.yml"].iter().map(|n| path.join(n)).find(|p| p.is_file());
        let Some(head) = head else {
            return Err(vec![Diagnostic::error(
                Code::PackNotFound,
                format!("the folder `{}` has no pack.yaml", path.display()),
            )
            .with_path(path)
            .with_help("a pack folder needs a pack.yaml; run `kpi init` to start one")]);
        };
        let mut files = vec![head.clone()];
        let mut rest = Vec::new();
        collect_yaml(path, path, &mut rest, 0).map_err(|d| vec![d])?;
        rest.sort();
        files.extend(rest.into_iter().filter(|p| p != &head));
        (path.to_path_buf(), files)
    } else {
        let dir = path.parent().map(Path::to_path_buf).unwrap_or_default();
        (dir, vec![path.to_path_buf()])
    };
    if files.len() > MAX_PACK_FILES {
        return Err(vec![Diagnostic::error(
            Code::TooManyDefinitions,
            format!("the pack has {} YAML files; the limit is {MAX_PACK_FILES}", files.len()),
        )
        .with_path(path)
        .with_help("split it into several packs")]);
    }
    let mut diags = Vec::new();
    let mut docs = Vec::new();
    for f in &files {
        match read_file(f, sources) {
            Ok((id, doc)) => docs.push((id, doc)),
            Err(d) => diags.push(d),
        }
    }
    let mut pack = Pack { dir, ..Pack::default() };
    let mut seen: HashMap<(&'static str, String), SrcSpan> = HashMap::new();
    for (file, doc) in docs {
        pack.files.push(file);
        merge(&mut pack, file, doc, &mut seen, sources, &mut diags);
    }
    let n = pack.datasets.len() + pack.kpis.len() + pack.goals.len();
    if n > MAX_DEFINITIONS {
        // Point at the first definition over the limit.
        let over = pack
            .datasets
            .iter()
            .map(|d| d.id.span)
            .chain(pack.kpis.iter().map(|k| k.id.span))
            .chain(pack.goals.iter().map(|g| g.id.span))
            .nth(MAX_DEFINITIONS);
        let d = Diagnostic::error(
            Code::TooManyDefinitions,
            format!("the pack defines {n} datasets, KPIs and goals; the limit is {MAX_DEFINITIONS}"),
        )
        .with_help("split it into several packs");
        diags.push(match over {
            Some(span) => d.with_label(span, format!("definition {} of {n}", MAX_DEFINITIONS + 1)),
            None => d.with_path(path),
        });
    }
    if diags.iter().any(|d| d.is_error()) {
        Err(diags)
    } else {
        Ok(pack)
    }
}

fn io_reason(e: &std::io::Error) -> String {
    match e.kind() {
        std::io::ErrorKind::NotFound => "no such file or folder".into(),
        std::io::ErrorKind::PermissionDenied => "permission denied".into(),
        _ => e.to_string(),
    }
}

fn collect_yaml(root: &Path, dir: &Path, out: &mut Vec<PathBuf>, depth: usize) -> Result<(), Diagnostic> {
    if depth > 16 {
        return Ok(());
    }
    let entries = std::fs::read_dir(dir).map_err(|e| {
        Diagnostic::error(Code::PackUnreadable, format!("cannot list `{}`: {}", dir.display(), io_reason(&e)))
            .with_path(dir)
    })?;
    for entry in entries.flatten() {
        let p = entry.path();
        let name = entry.file_name().to_string_lossy().into_owned();
        if name.starts_with('.') {
            continue;
        }
        let Ok(ft) = entry.file_type() else { continue };
        if ft.is_dir() {
            if dir == root && (name == "tests" || name == "data") {
                continue;
            }
            if name == "tests" || name == "data" {
                continue;
            }
            // A folder with its own pack.yaml is another pack (one this pack may import).
            if p.join("pack.yaml").is_file() || p.join("pack.yml").is_file() {
                continue;
            }
            collect_yaml(root, &p, out, depth + 1)?;
        } else if ft.is_file() && (name.ends_with(".yaml") || name.ends_with(".yml")) {
            out.push(p);
        }
    }
    Ok(())
}

fn yaml_options() -> serde_saphyr::Options {
    let mut o = serde_saphyr::Options::default();
    if let Some(b) = o.budget.as_mut() {
        b.max_aliases = 1_000;
        b.max_anchors = 1_000;
        // A real pack records few events under anchors; an alias bomb records many fast.
        b.max_recorded_anchor_events = 10_000;
        b.max_events = 500_000;
        b.max_depth = 64;
        b.max_nodes = 250_000;
    }
    o.with_snippet = false;
    o.strict_booleans = true;
    o
}

/// Reads and parses one YAML file into its document.
pub(crate) fn read_file(path: &Path, sources: &Sources) -> Result<(FileId, FileDoc), Diagnostic> {
    let text = read_text(path)?;
    let id = sources.add(path, text.as_str());
    let doc = parse_yaml::<FileDoc>(&text, id, sources)?;
    Ok((id, doc.unwrap_or_default()))
}

/// Reads a definition file whole, bounded by [`MAX_YAML_BYTES`].
pub(crate) fn read_text(path: &Path) -> Result<String, Diagnostic> {
    let unreadable = |e: std::io::Error| {
        Diagnostic::error(
            Code::PackUnreadable,
            format!("cannot read `{}`: {}", path.display(), io_reason(&e)),
        )
        .with_path(path)
    };
    let meta = std::fs::metadata(path).map_err(unreadable)?;
    if meta.len() > MAX_YAML_BYTES {
        return Err(Diagnostic::error(
            Code::FileTooLarge,
            format!(
                "`{}` is {} bytes; definition files are limited to {} bytes",
                path.display(),
                meta.len(),
                MAX_YAML_BYTES
            ),
        )
        .with_path(path)
        .with_help("split the pack into several files"));
    }
    let bytes = std::fs::read(path).map_err(unreadable)?;
    match String::from_utf8(bytes) {
        Ok(mut s) => {
            if s.starts_with('\u{feff}') {
                s.replace_range(..3, "   ");
            }
            Ok(s)
        }
        Err(e) => {
            let at = e.utf8_error().valid_up_to();
            let b = e.as_bytes();
            let line = b[..at].iter().filter(|&&c| c == b'\n').count() + 1;
            let col = at - b[..at].iter().rposition(|&c| c == b'\n').map_or(0, |i| i + 1) + 1;
            // A definition file, not data: a YAML error (exit 2), not `InvalidUtf8` (exit 3).
            Err(Diagnostic::error(Code::YamlSyntax, format!("`{}` is not valid UTF-8", path.display()))
                .with_path(path)
                .with_line_col(line, col)
                .with_help("save the file as UTF-8"))
        }
    }
}

/// Parses YAML text into `T`, mapping serde-saphyr errors to diagnostics with spans.
pub(crate) fn parse_yaml<T: serde::de::DeserializeOwned>(
    text: &str,
    file: FileId,
    _sources: &Sources,
) -> Result<Option<T>, Diagnostic> {
    if text.trim().is_empty() || text.lines().all(|l| l.trim().is_empty() || l.trim_start().starts_with('#'))
    {
        return Ok(None);
    }
    match serde_saphyr::from_str_with_options::<T>(text, yaml_options()) {
        Ok(v) => Ok(Some(v)),
        Err(e) => Err(yaml_error(&e, text, file)),
    }
}

fn yaml_error(e: &serde_saphyr::Error, text: &str, file: FileId) -> Diagnostic {
    let raw = e.without_snippet().to_string();
    let mut msg = raw.lines().next().unwrap_or("invalid YAML").trim().to_string();
    if let Some(rest) = msg.strip_prefix("error: ") {
        msg = rest.to_string();
    }
    if let Some(i) = msg.find(": ").filter(|_| msg.starts_with("line ")) {
        msg = msg[i + 2..].to_string();
    }
    // The location is shown by the renderer; serde-saphyr also writes it into the text.
    msg = strip_location(&msg);
    if let Some(rest) = msg.strip_prefix("budget breached: ") {
        let kind = rest.split([' ', '{', '(']).next().unwrap_or("");
        let what = match kind {
            "RecordedAnchorEvents" | "RecordedAnchorBytes" | "Aliases" | "AliasReplay" => {
                "its aliases (`*name`) expand to too much: a YAML alias bomb?"
            }
            "Anchors" => "it defines too many anchors (`&name`)",
            "Depth" => "it nests deeper than 64 levels",
            _ => "it has too many values",
        };
        msg = format!("the YAML is over the safety budget of a definition file: {what}");
    }
    let loc = e.location();
    let span = loc.map(|l| loc_span(file, &l, text));
    let (code, help, label) = if let Some(field) =
        msg.strip_prefix("unknown field `").and_then(|r| r.split('`').next())
    {
        let expected: Vec<&str> = msg
            .split("expected one of ")
            .nth(1)
            .or_else(|| msg.split("expected ").nth(1))
            .map(|s| s.split(", ").map(|x| x.trim_matches('`')).collect())
            .unwrap_or_default();
        let help = match did_you_mean(field, expected.iter().copied()) {
            Some(s) => format!("did you mean `{s}`? the keys allowed here are: {}", expected.join(", ")),
            None => format!("the keys allowed here are: {}", expected.join(", ")),
        };
        let m = format!("unknown key `{field}`");
        return Diagnostic::error(Code::UnknownKey, m)
            .with_opt_label(span.map(|s| widen_to_key(s, text)), "not a known key")
            .with_help(help);
    } else if msg.contains("budget")
        || msg.contains("limit")
        || msg.contains("too many")
        || msg.contains("exceeded")
    {
        (
            Code::YamlBudget,
            "write the values out instead of repeating anchors, or split the file; packs need few aliases",
            "over the budget here",
        )
    } else if msg.starts_with("missing field") {
        (Code::MissingField, "add the key", "here")
    } else if msg.starts_with("duplicate mapping key") {
        (
            Code::DuplicateId,
            "each key may appear once in a mapping; remove or rename one",
            "defined again here",
        )
    } else if msg.starts_with("invalid type")
        || msg.starts_with("expected")
        || msg.starts_with("invalid value")
    {
        if let Some(d) = shape_error(&msg, span, text) {
            return d;
        }
        (
            Code::InvalidValue,
            "check the value's shape against the documentation (`kpi schema`)",
            "unexpected value",
        )
    } else if msg.contains("tab") {
        // Point at the tab itself, not at what follows it.
        let at = span.map(|s| s.start.min(text.len())).unwrap_or(0);
        let line_start = text[..at].rfind('\n').map_or(0, |i| i + 1);
        let line_end = text[at..].find('\n').map_or(text.len(), |i| at + i);
        let tab = text[line_start..line_end].find('\t').map(|i| line_start + i);
        let span = match (span, tab) {
            (Some(s), Some(t)) => Some(SrcSpan::new(s.file, t, t + 1)),
            (s, _) => s,
        };
        return Diagnostic::error(
            Code::YamlSyntax,
            "a tab is used for indentation; YAML indents with spaces",
        )
        .with_opt_label(span, "a tab")
        .with_help("replace the tab with spaces");
    } else {
        (Code::YamlSyntax, "fix the YAML syntax here (indent with spaces, quote values that start with `>`, `*`, `&` or `%`)", "here")
    };
    Diagnostic::error(code, msg).with_opt_label(span, label).with_help(help)
}

/// A value of the wrong shape (`by: channel` where a list is expected), said with its key.
fn shape_error(msg: &str, span: Option<SrcSpan>, text: &str) -> Option<Diagnostic> {
    let span = span?;
    let (what, help) = if msg.starts_with("expected sequence start") {
        ("a list", "write a list: `[a, b]`, or one `- item` per line")
    } else if msg.starts_with("expected string scalar") {
        (
            "text, not a list or a mapping",
            "quote the value if it starts with `[`, `{`, `>`, `*`, `&`, `!` or `%`",
        )
    } else if msg.starts_with("expected mapping start") {
        ("a mapping", "write `key: value` lines under it, indented by two more spaces")
    } else {
        return None;
    };
    let at = span.start.min(text.len());
    let line_start = text[..at].rfind('\n').map_or(0, |i| i + 1);
    let before = text[line_start..at].trim_start().trim_start_matches("- ");
    let key = before.split(':').next().filter(|k| before.contains(':') && !k.trim().is_empty())?;
    Some(
        Diagnostic::error(Code::InvalidValue, format!("`{}:` needs {what}", key.trim()))
            .with_label(span, "unexpected value")
            .with_help(help),
    )
}

/// `text` without a trailing ` at line N, column M`.
fn strip_location(text: &str) -> String {
    if let Some(i) = text.rfind(" at line ") {
        let tail = &text[i + " at line ".len()..];
        let is_loc = tail.split_once(", column ").is_some_and(|(l, c)| {
            l.bytes().all(|b| b.is_ascii_digit()) && c.bytes().all(|b| b.is_ascii_digit())
        });
        if is_loc {
            return text[..i].to_string();
        }
    }
    text.to_string()
}

fn widen_to_key(s: SrcSpan, text: &str) -> SrcSpan {
    let rest = &text[s.start.min(text.len())..];
    let len = rest.find([':', '\n']).unwrap_or(rest.len());
    SrcSpan::new(s.file, s.start, s.start + len.max(1))
}

/// The byte span of a serde-saphyr location in `text`.
pub(crate) fn loc_span(file: FileId, l: &Location, text: &str) -> SrcSpan {
    let sp = l.span();
    if let Some(off) = sp.byte_offset() {
        let off = off as usize;
        let len = sp.byte_len().unwrap_or(0) as usize;
        return SrcSpan::new(file, off.min(text.len()), (off + len).min(text.len()));
    }
    // Fall back to line and column (1-based, characters).
    let line = l.line().max(1) as usize;
    let col = l.column().max(1) as usize;
    let mut off = 0;
    for (i, ln) in text.split_inclusive('\n').enumerate() {
        if i + 1 == line {
            let c = ln.char_indices().nth(col - 1).map_or(ln.len(), |(b, _)| b);
            return SrcSpan::new(file, off + c, off + c);
        }
        off += ln.len();
    }
    SrcSpan::new(file, text.len(), text.len())
}

struct Ctx<'a> {
    file: FileId,
    text: &'a str,
}

impl Ctx<'_> {
    fn span(&self, l: &Location) -> SrcSpan {
        loc_span(self.file, l, self.text)
    }
    fn item<T>(&self, s: Spanned<T>) -> Item<T> {
        let span = self.span(&s.referenced);
        Item::new(s.value, span)
    }
    fn text_item(&self, s: Spanned<Scalar>) -> Item<String> {
        let span = self.span(&s.referenced);
        Item::new(s.value.to_text(), span)
    }
    fn formula(&self, s: Spanned<String>) -> FormulaText {
        let span = self.span(&s.referenced);
        map_formula(s.value, self.file, &self.text[span.start..span.end], span.start)
    }
    fn scalar_formula(&self, s: Spanned<Scalar>) -> FormulaText {
        let span = self.span(&s.referenced);
        map_formula(s.value.to_text(), self.file, &self.text[span.start..span.end], span.start)
    }
}

/// Maps each byte of a YAML scalar's value to its byte in the raw scalar text, so that
/// positions in a quoted, escaped or folded formula point at the right character.
fn map_formula(text: String, file: FileId, raw: &str, base: usize) -> FormulaText {
    let rb = raw.as_bytes();
    let mut map = Vec::with_capacity(text.len() + 1);
    let mut j = 0usize;
    if matches!(rb.first(), Some(b'"') | Some(b'\'')) {
        j = 1;
    }
    for (i, ch) in text.char_indices() {
        let c = ch as u32;
        // Find the char within a short look-ahead; escapes and folding shift by a few bytes.
        let mut found = None;
        let mut k = j;
        let limit = (j + 12).min(rb.len());
        while k < limit {
            let rc = rb[k];
            if (c < 128 && rc == c as u8) || (ch == ' ' && rc == b'\n') || (c >= 128 && rc >= 128) {
                found = Some(k);
                break;
            }
            k += 1;
        }
        let at = found.unwrap_or(j.min(rb.len().saturating_sub(1)));
        for _ in 0..ch.len_utf8() {
            map.push((base + at) as u32);
        }
        j = if found.is_some() { at + if c >= 128 { ch.len_utf8() } else { 1 } } else { j + 1 };
        // Skip the indentation after a folded line break.
        if ch == ' ' && found.is_some_and(|f| rb[f] == b'\n') {
            while j < rb.len() && rb[j] == b' ' {
                j += 1;
            }
        }
        if ch == '\n' {
            // Skip the block's indentation but keep the line's own relative indent.
            let own = text[i + 1..].bytes().take_while(|&b| b == b' ').count();
            let ind = rb[j.min(rb.len())..].iter().take_while(|&&b| b == b' ').count();
            j += ind.saturating_sub(own);
        }
    }
    map.push((base + j.min(rb.len())) as u32);
    FormulaText { text, file, map }
}

fn merge(
    pack: &mut Pack,
    file: FileId,
    doc: FileDoc,
    seen: &mut HashMap<(&'static str, String), SrcSpan>,
    sources: &Sources,
    diags: &mut Diagnostics,
) {
    let Some(src) = sources.get(file) else { return };
    let cx = Ctx { file, text: &src.text };
    for (key, value) in [("pack", doc.pack), ("version", doc.version)] {
        if let Some(v) = value {
            let item = cx.text_item(v);
            if let Some(first) = seen.get(&("header", key.to_string())) {
                diags.push(
                    Diagnostic::error(Code::DuplicateId, format!("`{key}:` is given twice in this pack"))
                        .with_label(item.span, "given again here")
                        .with_label(*first, "first given here")
                        .with_help(format!("keep `{key}:` in pack.yaml only")),
                );
                continue;
            }
            seen.insert(("header", key.to_string()), item.span);
            if key == "pack" {
                pack.name = Some(item);
            } else {
                pack.version = Some(item);
            }
        }
    }
    if let Some(d) = doc.description {
        if pack.description.is_none() {
            pack.description = Some(cx.item(d));
        }
    }
    let mut define = |kind: &'static str, id: &Item<String>, diags: &mut Diagnostics| -> bool {
        let dotted_ok = matches!(kind, "binding" | "override");
        if !(valid_id(&id.value) || dotted_ok && id.value.split('.').all(valid_id)) {
            diags.push(
                Diagnostic::error(Code::InvalidId, format!("`{}` is not a valid {kind} id", id.value))
                    .with_label(id.span, "ids are letters, digits and `_`, not starting with a digit")
                    .with_help(format!("rename it, for example `{}`", suggest_id(&id.value))),
            );
            return false;
        }
        match seen.get(&(kind, id.value.clone())) {
            Some(first) => {
                diags.push(
                    Diagnostic::error(Code::DuplicateId, format!("{kind} `{}` is defined twice", id.value))
                        .with_label(id.span, "defined again here")
                        .with_label(*first, "first defined here")
                        .with_help(format!(
                            "rename one of them, or remove the copy (first at {})",
                            sources.location(*first)
                        )),
                );
                false
            }
            None => {
                seen.insert((kind, id.value.clone()), id.span);
                true
            }
        }
    };
    for (k, v) in doc.objectives.unwrap_or_default().0 {
        let id = cx.item(k);
        if define("objective", &id, diags) {
            pack.objectives.push(Objective { id, text: v.value });
        }
    }
    for (k, d) in doc.datasets.unwrap_or_default().0 {
        let id = cx.item(k);
        if id.value.contains('.') {
            // A namespaced id binds an imported dataset; it defines nothing.
            if let Some(b) = binding(&cx, id, d, diags) {
                if define("binding", &b.id, diags) {
                    pack.bindings.push(b);
                }
            }
            continue;
        }
        if define("dataset", &id, diags) {
            pack.datasets.push(dataset(&cx, id, d));
        }
    }
    for (k, d) in doc.kpis.unwrap_or_default().0 {
        let id = cx.item(k);
        if define("KPI", &id, diags) {
            pack.kpis.push(kpi(&cx, id, d));
        }
    }
    for (k, d) in doc.goals.unwrap_or_default().0 {
        let id = cx.item(k);
        if define("goal", &id, diags) {
            pack.goals.push(goal(&cx, id, d));
        }
    }
    for (k, d) in doc.imports.unwrap_or_default().0 {
        let id = cx.item(k);
        if define("import", &id, diags) {
            pack.imports.push(import(&cx, id, d, diags));
        }
    }
    for (k, d) in doc.params.unwrap_or_default().0 {
        let id = cx.item(k);
        if define("param", &id, diags) {
            pack.param_decls.push(ParamDecl {
                id,
                ty: d.type_.map(|t| cx.item(t)),
                default: d.default.map(|v| cx.text_item(v)),
                description: d.description.map(|s| s.value),
            });
        }
    }
    for (k, d) in doc.overrides.and_then(|o| o.goals).unwrap_or_default().0 {
        let id = cx.item(k);
        if define("override", &id, diags) {
            pack.overrides.push(goal_override(&cx, id, d));
        }
    }
    if let Some(c) = doc.calendar {
        let first_key = [
            c.week_start.as_ref().map(|s| &s.referenced),
            c.fiscal_year_start.as_ref().map(|s| &s.referenced),
            c.timezone.as_ref().map(|s| &s.referenced),
        ]
        .into_iter()
        .flatten()
        .next()
        .map(|l| cx.span(l));
        if let Some(span) = first_key {
            if let Some(first) = seen.get(&("header", "calendar".to_string())) {
                diags.push(
                    Diagnostic::error(Code::DuplicateId, "`calendar:` is given twice in this pack")
                        .with_label(span, "given again here")
                        .with_label(*first, "first given here")
                        .with_help("keep `calendar:` in pack.yaml only"),
                );
                return;
            }
            seen.insert(("header", "calendar".to_string()), span);
        }
        calendar(&cx, &mut pack.calendar, c, diags);
    }
}

/// `calendar:`: week start, fiscal year start (a month name or number), IANA time zone.
fn calendar(cx: &Ctx, cal: &mut crate::calendar::Calendar, c: CalendarDoc, diags: &mut Diagnostics) {
    if let Some(w) = c.week_start {
        let item = cx.text_item(w);
        match crate::calendar::parse_weekday(&item.value) {
            Some(d) => cal.week_start = d,
            None => diags.push(
                Diagnostic::error(Code::InvalidValue, format!("`{}` is not a weekday", item.value))
                    .with_label(item.span, "the first day of a week")
                    .with_help("write a weekday name: `monday` (the default, ISO weeks) ... `sunday`"),
            ),
        }
    }
    if let Some(m) = c.fiscal_year_start {
        let item = cx.text_item(m);
        match crate::calendar::parse_month(&item.value) {
            Some(m) => cal.fiscal_offset = m,
            None => diags.push(
                Diagnostic::error(Code::InvalidValue, format!("`{}` is not a month", item.value))
                    .with_label(item.span, "the first month of a fiscal year")
                    .with_help("write a month name (`april`) or number (`4`)"),
            ),
        }
    }
    if let Some(tz) = c.timezone {
        let item = cx.item(tz);
        match crate::engine::readers::time::TimeParser::new(Some(&item.value)) {
            Ok(_) => cal.timezone = Some(item.value),
            Err(e) => diags.push(e.with_label(item.span, "an IANA time zone name")),
        }
    }
}

fn binding(cx: &Ctx, id: Item<String>, d: DatasetDoc, diags: &mut Diagnostics) -> Option<Binding> {
    let extra = d.time.is_some() || d.dimensions.is_some() || d.columns.is_some() || d.description.is_some();
    if extra {
        diags.push(
            Diagnostic::error(
                Code::InvalidValue,
                format!("`{}` binds an imported dataset and may only give `source:`", id.value),
            )
            .with_label(id.span, "a namespaced id binds the imported dataset of that name")
            .with_help("the imported pack defines its columns; keep only `source:` here"),
        );
        return None;
    }
    let Some(s) = d.source else {
        diags.push(
            Diagnostic::error(Code::MissingField, format!("the binding of `{}` has no `source:`", id.value))
                .with_label(id.span, "needs `source:`")
                .with_help(format!("write `{}: {{source: data/file.csv}}`", id.value)),
        );
        return None;
    };
    let span = cx.span(&s.referenced);
    let spec = match s.value {
        SourceDoc::Path(p) => SourceSpec::Path(PathBuf::from(p)),
        SourceDoc::Db { url, table, query } => SourceSpec::Database { url, table, query },
    };
    Some(Binding { id, source: Item::new(spec, span) })
}

fn import(cx: &Ctx, ns: Item<String>, d: ImportDoc, diags: &mut Diagnostics) -> Import {
    let source = match (d.path, d.git) {
        (Some(p), None) => Some(ImportSource::Path(cx.item(p))),
        (None, Some(g)) => Some(ImportSource::Git { url: cx.item(g), rev: d.rev.map(|r| cx.text_item(r)) }),
        (p, g) => {
            let both = p.is_some() && g.is_some();
            diags.push(
                Diagnostic::error(
                    Code::InvalidValue,
                    if both {
                        format!("import `{}` gives both `path:` and `git:`", ns.value)
                    } else {
                        format!("import `{}` gives neither `path:` nor `git:`", ns.value)
                    },
                )
                .with_label(ns.span, "this import")
                .with_help("give `path: ../company-core`, or `git: <url>` with `rev: <tag or commit>`"),
            );
            None
        }
    };
    Import {
        ns,
        source,
        version: d.version.map(|v| cx.text_item(v)),
        params: d
            .params
            .unwrap_or_default()
            .0
            .into_iter()
            .map(|(k, v)| (cx.item(k), cx.text_item(v)))
            .collect(),
    }
}

fn for_items(cx: &Ctx, e: Entries<Spanned<ForValue>>) -> Vec<(Item<String>, Item<Vec<String>>)> {
    e.0.into_iter()
        .map(|(k, v)| {
            let span = cx.span(&v.referenced);
            let vals = match v.value {
                ForValue::One(s) => vec![s.to_text()],
                ForValue::Many(l) => l.iter().map(Scalar::to_text).collect(),
            };
            (cx.item(k), Item::new(vals, span))
        })
        .collect()
}

fn goal_override(cx: &Ctx, id: Item<String>, d: GoalOverrideDoc) -> GoalOverride {
    GoalOverride {
        id,
        target: d.target.map(|x| cx.scalar_formula(x)),
        warn: d.warn.map(|x| cx.scalar_formula(x)),
        window: d.window.map(|x| cx.text_item(x)),
        each: d.each.map(|x| cx.item(x)),
        for_: d.for_.map(|e| for_items(cx, e)),
        owner: d.owner.map(|x| cx.item(x)),
    }
}

/// Whether `s` is a plain id: letters, digits, `_`, not starting with a digit.
pub fn valid_id(s: &str) -> bool {
    let mut cs = s.chars();
    matches!(cs.next(), Some(c) if c.is_ascii_alphabetic() || c == '_')
        && cs.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

fn suggest_id(s: &str) -> String {
    let mut out: String =
        s.chars().map(|c| if c.is_ascii_alphanumeric() { c.to_ascii_lowercase() } else { '_' }).collect();
    if out.is_empty() || out.starts_with(|c: char| c.is_ascii_digit()) {
        out.insert(0, '_');
    }
    out
}

fn list(cx: &Ctx, v: Option<Spanned<Vec<Spanned<String>>>>) -> Vec<Item<String>> {
    v.map(|l| l.value.into_iter().map(|x| cx.item(x)).collect()).unwrap_or_default()
}

fn dataset(cx: &Ctx, id: Item<String>, d: DatasetDoc) -> Dataset {
    Dataset {
        id,
        source: d.source.map(|s| {
            let span = cx.span(&s.referenced);
            let spec = match s.value {
                SourceDoc::Path(p) => SourceSpec::Path(PathBuf::from(p)),
                SourceDoc::Db { url, table, query } => SourceSpec::Database { url, table, query },
            };
            Item::new(spec, span)
        }),
        time: d.time.map(|t| cx.item(t)),
        dimensions: list(cx, d.dimensions),
        columns: d.columns.unwrap_or_default().0.into_iter().map(|(k, v)| (cx.item(k), cx.item(v))).collect(),
        description: d.description.map(|s| s.value),
    }
}

fn kpi(cx: &Ctx, id: Item<String>, d: KpiDoc) -> Kpi {
    Kpi {
        id,
        name: d.name.map(|x| cx.item(x)),
        description: d.description.map(|x| cx.item(x)),
        unit: d.unit.map(|x| cx.item(x)),
        dataset: d.dataset.map(|x| cx.item(x)),
        formula: d.formula.map(|x| cx.formula(x)),
        by: list(cx, d.by),
        grain: d.grain.map(|x| cx.item(x)),
        tags: d.tags.unwrap_or_default().into_iter().map(|t| t.value).collect(),
        owner: d.owner.map(|x| cx.item(x)),
        namespace: String::new(),
    }
}

fn goal(cx: &Ctx, id: Item<String>, d: GoalDoc) -> Goal {
    let for_ = for_items(cx, d.for_.unwrap_or_default());
    Goal {
        id,
        kpi: d.kpi.map(|x| cx.item(x)),
        description: d.description.map(|x| cx.item(x)),
        for_,
        target: d.target.map(|x| cx.scalar_formula(x)),
        warn: d.warn.map(|x| cx.scalar_formula(x)),
        window: d.window.map(|x| cx.text_item(x)),
        each: d.each.map(|x| cx.item(x)),
        baseline: d.baseline.map(|x| cx.scalar_formula(x)),
        objective: d.objective.map(|x| cx.item(x)),
        owner: d.owner.map(|x| cx.item(x)),
        namespace: String::new(),
        overridden: Vec::new(),
    }
}

#[allow(dead_code)]
fn entries_len<V>(e: &Option<Entries<V>>) -> usize {
    e.as_ref().map_or(0, |e| e.0.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mapped(yaml: &str) -> (String, FormulaText) {
        let s = Sources::new();
        let id = s.add("t.yaml", yaml);
        let doc: FileDoc = parse_yaml(yaml, id, &s).unwrap().unwrap();
        let cx = Ctx { file: id, text: yaml };
        let (_, k) = doc.kpis.unwrap().0.into_iter().next().unwrap();
        (yaml.to_string(), cx.formula(k.formula.unwrap()))
    }

    #[test]
    fn formula_positions_survive_quoting_and_folding() {
        for yaml in [
            "kpis:\n  a:\n    formula: sum(x) / sum(likez)\n",
            "kpis:\n  a:\n    formula: \"sum(x) / sum(likez)\"\n",
            "kpis:\n  a:\n    formula: 'sum(x) / sum(likez)'\n",
            "kpis:\n  a:\n    formula: |\n      sum(x)\n        / sum(likez)\n",
            "kpis:\n  a:\n    formula: >\n      sum(x)\n      / sum(likez)\n",
            "kpis:\n  a:\n    formula: sum(x)\n      / sum(likez)\n",
        ] {
            let (y, f) = mapped(yaml);
            let i = f.text.find("likez").unwrap();
            let sp = f.span(crate::syntax::ast::Span::new(i, i + 5));
            assert_eq!(&y[sp.start..sp.end], "likez", "{yaml:?} -> {:?}", f.text);
        }
    }
}
