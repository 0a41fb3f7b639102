//! Resolving `imports:`: finding each imported pack (a path, or a git repository fetched
//! into the cache), checking its version, and merging its definitions under a namespace.
//!
//! Imported ids become `ns.id`; a KPI or goal keeps the namespace it was written in, so a
//! name `x` in its formula means `ns.x` (see [`Pack::resolve_name`]). Imported `source:`
//! values are dropped here, before anything could read them: only the pack being run binds
//! data (SPEC §4, §9).

use super::load::load_pack_files;
use super::pack::{
    Goal, GoalOverride, ImportSource, Item, LockedSource, Pack, Param, ParamDecl, ParamType, ParamValue,
    ResolvedImport,
};
use crate::diagnostic::{did_you_mean, Code, Diagnostic, Diagnostics, Sources, SrcSpan};
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Command;

/// Most imports (direct and transitive) one pack may resolve.
pub const MAX_IMPORTS: usize = 256;

/// Loads the pack at `path` (a `.yaml` file, or a folder with `pack.yaml`) with its imports
/// resolved and merged under their namespaces, its overrides and bindings applied.
pub fn load_pack(path: &Path, sources: &Sources) -> Result<Pack, Diagnostics> {
    let root = load_pack_files(path, sources)?;
    let mut r = Resolver {
        confine: None,
        sources,
        diags: Vec::new(),
        instances: HashMap::new(),
        by_name: HashMap::new(),
    };
    let mut out = root.clone();
    out.params = r.param_values(&root, "", &[], None);
    let key = path.canonicalize().unwrap_or_else(|_| path.to_path_buf());
    let mut chain = vec![(key, head_file(&root, sources))];
    r.walk(&root, "", &mut chain, 0, &mut out);
    r.apply_overrides(&root.overrides, "", &mut out);
    r.apply_bindings(&root, &mut out);
    if r.diags.iter().any(Diagnostic::is_error) {
        Err(r.diags)
    } else {
        Ok(out)
    }
}

/// The folder that fetched git imports are kept in: `$XDG_CACHE_HOME/kpi`, else
/// `~/.cache/kpi`.
pub fn cache_dir() -> PathBuf {
    match std::env::var_os("XDG_CACHE_HOME").map(PathBuf::from) {
        Some(p) if p.is_absolute() => p.join("kpi"),
        _ => match std::env::var_os("HOME") {
            Some(h) => PathBuf::from(h).join(".cache").join("kpi"),
            None => std::env::temp_dir().join("kpi-cache"),
        },
    }
}

struct Resolver<'a> {
    /// While walking a pack fetched with git: its checkout. A fetched pack may import by
    /// path only inside it, so a repository cannot make kpi read local files.
    confine: Option<PathBuf>,
    sources: &'a Sources,
    diags: Diagnostics,
    /// Identity (name@version + params) → the namespace of its first instance.
    instances: HashMap<String, String>,
    /// Pack name → (version, the place that imported it first).
    by_name: HashMap<String, (String, SrcSpan, PathBuf)>,
}

fn join(prefix: &str, ns: &str) -> String {
    if ns.is_empty() {
        prefix.to_string()
    } else if prefix.is_empty() {
        ns.to_string()
    } else {
        format!("{prefix}.{ns}")
    }
}

fn head_file(p: &Pack, sources: &Sources) -> PathBuf {
    p.files.first().and_then(|f| sources.get(*f)).map(|s| s.path).unwrap_or_else(|| p.dir.clone())
}

/// `a/b/../c` as `a/c`, so that messages name imported files by short relative paths.
fn normalize(p: &Path) -> PathBuf {
    use std::path::Component;
    let mut out: Vec<Component> = Vec::new();
    for c in p.components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir if matches!(out.last(), Some(Component::Normal(_))) => {
                out.pop();
            }
            other => out.push(other),
        }
    }
    if out.is_empty() {
        PathBuf::from(".")
    } else {
        out.iter().collect()
    }
}

/// `sha256:` over the pack's definition files: each relative path (sorted), a NUL, the
/// length, a NUL and the bytes.
pub(crate) fn content_hash(p: &Pack, sources: &Sources) -> String {
    let mut files: Vec<(String, std::sync::Arc<str>)> = p
        .files
        .iter()
        .filter_map(|f| sources.get(*f))
        .map(|s| {
            let rel = s.path.strip_prefix(&p.dir).unwrap_or(&s.path);
            (rel.to_string_lossy().replace('\\', "/"), s.text)
        })
        .collect();
    files.sort_by(|a, b| a.0.cmp(&b.0));
    let mut h = Sha256::new();
    for (path, text) in files {
        h.update(path.as_bytes());
        h.update([0]);
        h.update(text.len().to_string().as_bytes());
        h.update([0]);
        h.update(text.as_bytes());
    }
    let digest = h.finalize();
    let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
    format!("sha256:{hex}")
}

impl Resolver<'_> {
    fn walk(
        &mut self,
        pack: &Pack,
        prefix: &str,
        chain: &mut Vec<(PathBuf, PathBuf)>,
        depth: usize,
        out: &mut Pack,
    ) {
        for imp in &pack.imports {
            let abs = join(prefix, &imp.ns.value);
            let Some(src) = &imp.source else { continue };
            if out.resolved.len() >= MAX_IMPORTS {
                self.diags.push(
                    Diagnostic::error(
                        Code::TooManyDefinitions,
                        format!("more than {MAX_IMPORTS} imports; `{abs}` is one too many"),
                    )
                    .with_label(imp.ns.span, "here"),
                );
                return;
            }
            let (dir, locked, at) = match src {
                ImportSource::Path(p) => {
                    (pack.dir.join(&p.value), LockedSource::Path { path: p.value.clone() }, p.span)
                }
                ImportSource::Git { url, rev } => match fetch_git(url, rev.as_ref()) {
                    Ok((dir, commit)) => (
                        dir,
                        LockedSource::Git {
                            url: url.value.clone(),
                            rev: rev.as_ref().map(|r| r.value.clone()).unwrap_or_default(),
                            commit,
                        },
                        url.span,
                    ),
                    Err(d) => {
                        self.diags.push(*d);
                        continue;
                    }
                },
            };
            let dir = normalize(&dir);
            let key = match dir.canonicalize() {
                Ok(k) => k,
                Err(_) => {
                    self.diags.push(
                        Diagnostic::error(
                            Code::PackNotFound,
                            format!("import `{abs}`: no pack at `{}`", dir.display()),
                        )
                        .with_label(at, "no such file or folder")
                        .with_help("a path import is relative to the importing pack's folder"),
                    );
                    continue;
                }
            };
            if let (ImportSource::Path(p), Some(root)) = (src, &self.confine) {
                if !key.starts_with(root) {
                    self.diags.push(
                        Diagnostic::error(
                            Code::ImportUnavailable,
                            format!("import `{abs}`: `{}` leaves the fetched repository of the pack that imports it", p.value),
                        )
                        .with_label(at, "outside the repository")
                        .with_help("a pack fetched with `git:` may import by `path:` only inside its own repository (after `..` and symlinks); import the other pack by `git:` instead"),
                    );
                    continue;
                }
            }
            if let Some(pos) = chain.iter().position(|(k, _)| *k == key) {
                let mut names: Vec<String> =
                    chain[pos..].iter().map(|(_, f)| f.display().to_string()).collect();
                names.push(chain[pos].1.display().to_string());
                self.diags.push(
                    Diagnostic::error(
                        Code::ImportCycle,
                        format!("imports form a cycle: {}", names.join(" -> ")),
                    )
                    .with_label(imp.ns.span, format!("`{abs}` imports a pack that imports this one"))
                    .with_help(
                        "packs may not import each other; move the shared definitions into a third pack",
                    ),
                );
                continue;
            }
            let child = match load_pack_files(&dir, self.sources) {
                Ok(c) => c,
                Err(d) => {
                    self.diags.extend(d);
                    continue;
                }
            };
            let child_file = head_file(&child, self.sources);
            let importer_file = chain.last().map(|(_, f)| f.clone()).unwrap_or_default();
            let Some(version) = self.check_version(imp, &abs, &child, &child_file, &importer_file) else {
                continue;
            };
            let name = child.name.as_ref().map(|n| n.value.clone()).unwrap_or_else(|| {
                key.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default()
            });
            let at_version = imp.version.as_ref().map_or(imp.ns.span, |v| v.span);
            match self.by_name.get(&name) {
                Some((v, first, first_file)) if *v != version => {
                    self.diags.push(
                        Diagnostic::error(
                            Code::ImportVersion,
                            format!(
                                "pack `{name}` is imported at two versions: {v} (by {}) and {version} (by {})",
                                first_file.display(),
                                importer_file.display()
                            ),
                        )
                        .with_label(at_version, format!("resolves to {version}"))
                        .with_label(*first, format!("resolves to {v}"))
                        .with_help("import one version everywhere; align the `version:` requirements"),
                    );
                    continue;
                }
                Some(_) => {}
                None => {
                    self.by_name.insert(name.clone(), (version.clone(), at_version, importer_file.clone()));
                }
            }
            let params = self.param_values(&child, &abs, &imp.params, Some((&child_file, &importer_file)));
            let identity = format!(
                "{name}@{version}|{}",
                params
                    .iter()
                    .map(|p| format!("{}={:?}", &p.id[abs.len()..], p.value))
                    .collect::<Vec<_>>()
                    .join(",")
            );
            let mut entry = ResolvedImport {
                namespace: abs.clone(),
                name,
                version,
                source: locked,
                hash: content_hash(&child, self.sources),
                same_as: None,
                depth,
            };
            if let Some(first) = self.instances.get(&identity) {
                // The same pack at the same version with the same parameters: load it once.
                out.aliases.push((abs.clone(), first.clone()));
                entry.same_as = Some(first.clone());
                out.resolved.push(entry);
                continue;
            }
            self.instances.insert(identity, abs.clone());
            out.resolved.push(entry);
            chain.push((key, child_file));
            let outer = self.confine.clone();
            if matches!(src, ImportSource::Git { .. }) {
                self.confine = chain.last().map(|(k, _)| k.clone());
            }
            self.walk(&child, &abs, chain, depth + 1, out);
            self.confine = outer;
            chain.pop();
            merge_under(&child, &abs, out);
            out.params.extend(params);
            self.apply_overrides(&child.overrides, &abs, out);
        }
    }

    fn check_version(
        &mut self,
        imp: &super::pack::Import,
        abs: &str,
        child: &Pack,
        child_file: &Path,
        importer_file: &Path,
    ) -> Option<String> {
        let got = child.version.as_ref().map(|v| (v.value.trim().to_string(), v.span));
        let parsed = got.as_ref().map(|(v, _)| semver::Version::parse(v));
        let Some(req) = &imp.version else {
            return Some(got.map(|(v, _)| v).unwrap_or_else(|| "0.0.0".into()));
        };
        let want = match semver::VersionReq::parse(req.value.trim()) {
            Ok(w) => w,
            Err(e) => {
                self.diags.push(
                    Diagnostic::error(
                        Code::InvalidValue,
                        format!("import `{abs}`: `{}` is not a version requirement ({e})", req.value),
                    )
                    .with_label(req.span, "not a semver requirement")
                    .with_help("write a requirement such as \"^1.2\", \"~1.4.0\" or \">=1.0, <2\""),
                );
                return None;
            }
        };
        match (got, parsed) {
            (Some((v, span)), Some(Ok(version))) => {
                if want.matches(&version) {
                    Some(v)
                } else {
                    self.diags.push(
                        Diagnostic::error(
                            Code::ImportVersion,
                            format!(
                                "import `{abs}` requires version {} but {} is at {v}",
                                req.value.trim(),
                                child_file.display()
                            ),
                        )
                        .with_label(req.span, format!("required by {}", importer_file.display()))
                        .with_label(span, format!("version {v}"))
                        .with_help("import a revision whose version fits, or change the requirement"),
                    );
                    None
                }
            }
            (Some((v, span)), _) => {
                self.diags.push(
                    Diagnostic::error(
                        Code::ImportVersion,
                        format!(
                            "import `{abs}`: the version `{v}` of {} is not semver",
                            child_file.display()
                        ),
                    )
                    .with_label(span, "not MAJOR.MINOR.PATCH")
                    .with_label(req.span, format!("required by {}", importer_file.display()))
                    .with_help("give the imported pack a version such as `version: 1.2.0`"),
                );
                None
            }
            (None, _) => {
                self.diags.push(
                    Diagnostic::error(
                        Code::ImportVersion,
                        format!(
                            "import `{abs}` requires version {} but {} declares no `version:`",
                            req.value.trim(),
                            child_file.display()
                        ),
                    )
                    .with_label(req.span, format!("required by {}", importer_file.display()))
                    .with_help("add `version: 1.0.0` to the imported pack"),
                );
                None
            }
        }
    }

    /// The values of `pack`'s parameters under namespace `ns`: set by the importer, else
    /// the defaults. `files` = (the imported pack's head file, the importer's) for messages.
    fn param_values(
        &mut self,
        pack: &Pack,
        ns: &str,
        set: &[(Item<String>, Item<String>)],
        files: Option<(&Path, &Path)>,
    ) -> Vec<Param> {
        let mut out = Vec::new();
        for (k, _) in set {
            if !pack.param_decls.iter().any(|d| d.id.value == k.value) {
                let names: Vec<&str> = pack.param_decls.iter().map(|d| d.id.value.as_str()).collect();
                let declared = files.map(|(c, _)| c.display().to_string()).unwrap_or_default();
                let help = match did_you_mean(&k.value, names.iter().copied()) {
                    Some(s) => format!("did you mean `{s}`?"),
                    None if names.is_empty() => format!("{declared} declares no `params:`"),
                    None => format!("the parameters of {declared} are: {}", names.join(", ")),
                };
                self.diags.push(
                    Diagnostic::error(
                        Code::UnknownParam,
                        format!("import `{ns}` sets `{}`, which {declared} does not declare", k.value),
                    )
                    .with_label(k.span, "not a parameter of the imported pack")
                    .with_help(help),
                );
            }
        }
        for d in &pack.param_decls {
            let Some(ty) = param_type(d, &mut self.diags) else { continue };
            let given = set.iter().find(|(k, _)| k.value == d.id.value).map(|(_, v)| v);
            let Some(v) = given.or(d.default.as_ref()) else {
                let who = files.map(|(_, i)| i.display().to_string());
                self.diags.push(
                    Diagnostic::error(
                        Code::MissingField,
                        format!("parameter `{}` has no value", join(ns, &d.id.value)),
                    )
                    .with_label(d.id.span, "declared without `default:`")
                    .with_help(match who {
                        Some(i) => {
                            format!("set it in {i}: `imports: {{{ns}: {{params: {{{}: ...}}}}}}`", d.id.value)
                        }
                        None => "give it a `default:`".to_string(),
                    }),
                );
                continue;
            };
            match parse_param(ty, &v.value) {
                Some(value) => out.push(Param { id: join(ns, &d.id.value), span: v.span, ty, value }),
                None => self.diags.push(
                    Diagnostic::error(
                        Code::TypeMismatch,
                        format!(
                            "parameter `{}` is of type {}; `{}` is not",
                            join(ns, &d.id.value),
                            param_type_name(ty),
                            v.value
                        ),
                    )
                    .with_label(v.span, format!("not {}", param_type_name(ty)))
                    .with_label(d.id.span, "declared here")
                    .with_help(match ty {
                        ParamType::Number => "write a number such as `1000`",
                        ParamType::Percent => "write a percent such as `4.5%`",
                        ParamType::Date => "write a date as YYYY-MM-DD",
                        ParamType::Text => "write text",
                    }),
                ),
            }
        }
        out
    }

    fn apply_overrides(&mut self, overrides: &[GoalOverride], prefix: &str, out: &mut Pack) {
        for o in overrides {
            let id = out.resolve_name(prefix, &o.id.value);
            let imported = |g: &Goal| {
                g.id.value == id
                    && (prefix.is_empty() && !g.namespace.is_empty()
                        || g.namespace.starts_with(&format!("{prefix}.")))
            };
            let Some(g) = out.goals.iter_mut().find(|g| imported(g)) else {
                let candidates: Vec<String> = out
                    .goals
                    .iter()
                    .filter(|g| {
                        !g.namespace.is_empty() && (prefix.is_empty() || g.namespace.starts_with(prefix))
                    })
                    .map(|g| g.id.value[if prefix.is_empty() { 0 } else { prefix.len() + 1 }..].to_string())
                    .collect();
                let ns = o.id.value.split('.').next().unwrap_or("");
                let from = out
                    .resolved
                    .iter()
                    .find(|r| r.namespace == join(prefix, ns))
                    .map(|r| format!(" (imported from {})", describe_source(&r.source)))
                    .unwrap_or_default();
                let help = match did_you_mean(&o.id.value, candidates.iter().map(String::as_str)) {
                    Some(s) => format!("did you mean `{s}`?"),
                    None if candidates.is_empty() => "only goals of imported packs can be overridden".into(),
                    None => format!("the imported goals are: {}", candidates.join(", ")),
                };
                self.diags.push(
                    Diagnostic::error(
                        Code::UnknownOverride,
                        format!("`overrides:` names `{}`, which is not an imported goal{from}", o.id.value),
                    )
                    .with_label(o.id.span, "no imported goal by this name")
                    .with_help(help),
                );
                continue;
            };
            let mark = |field: &str, g: &mut Goal| {
                if !g.overridden.iter().any(|f| f == field) {
                    g.overridden.push(field.to_string());
                }
            };
            if let Some(t) = &o.target {
                g.target = Some(t.clone());
                mark("target", g);
            }
            if let Some(t) = &o.warn {
                g.warn = Some(t.clone());
                mark("warn", g);
            }
            if let Some(t) = &o.window {
                g.window = Some(t.clone());
                mark("window", g);
            }
            if let Some(t) = &o.each {
                g.each = Some(t.clone());
                mark("each", g);
            }
            if let Some(t) = &o.for_ {
                g.for_ = t.clone();
                mark("for", g);
            }
            if let Some(t) = &o.owner {
                g.owner = Some(t.clone());
                mark("owner", g);
            }
        }
    }

    fn apply_bindings(&mut self, root: &Pack, out: &mut Pack) {
        for b in &root.bindings {
            let id = out.resolve_name("", &b.id.value);
            match out.datasets.iter_mut().find(|d| d.id.value == id) {
                Some(d) => d.source = Some(b.source.clone()),
                None => {
                    let ids: Vec<&str> = out
                        .datasets
                        .iter()
                        .filter(|d| d.id.value.contains('.'))
                        .map(|d| d.id.value.as_str())
                        .collect();
                    let help = match did_you_mean(&b.id.value, ids.iter().copied()) {
                        Some(s) => format!("did you mean `{s}`?"),
                        None if ids.is_empty() => "no import defines a dataset".to_string(),
                        None => format!("the imported datasets are: {}", ids.join(", ")),
                    };
                    self.diags.push(
                        Diagnostic::error(
                            Code::UnknownDataset,
                            format!("`{}` binds a dataset that no import defines", b.id.value),
                        )
                        .with_label(b.id.span, "no imported dataset by this name")
                        .with_help(help),
                    );
                }
            }
        }
    }
}

/// Copies `child`'s own definitions into `out` under namespace `abs`. Imported sources are
/// dropped: the pack being run binds them.
fn merge_under(child: &Pack, abs: &str, out: &mut Pack) {
    let q = |id: &Item<String>| Item::new(join(abs, &id.value), id.span);
    for o in &child.objectives {
        let mut o = o.clone();
        o.id = q(&o.id);
        out.objectives.push(o);
    }
    for d in &child.datasets {
        let mut d = d.clone();
        d.id = q(&d.id);
        d.source = None;
        out.datasets.push(d);
    }
    for k in &child.kpis {
        let mut k = k.clone();
        k.id = q(&k.id);
        k.namespace = join(abs, &k.namespace);
        out.kpis.push(k);
    }
    for g in &child.goals {
        let mut g = g.clone();
        g.id = q(&g.id);
        g.namespace = join(abs, &g.namespace);
        out.goals.push(g);
    }
}

fn param_type(d: &ParamDecl, diags: &mut Diagnostics) -> Option<ParamType> {
    let Some(t) = &d.ty else {
        diags.push(
            Diagnostic::error(Code::MissingField, format!("parameter `{}` has no `type:`", d.id.value))
                .with_label(d.id.span, "needs `type:`")
                .with_help("the parameter types are: number, percent, text, date"),
        );
        return None;
    };
    let ty = match t.value.trim() {
        "number" => ParamType::Number,
        "percent" => ParamType::Percent,
        "text" => ParamType::Text,
        "date" => ParamType::Date,
        other => {
            diags.push(
                Diagnostic::error(Code::InvalidValue, format!("unknown parameter type `{other}`"))
                    .with_label(t.span, "not a type")
                    .with_help("the parameter types are: number, percent, text, date"),
            );
            return None;
        }
    };
    Some(ty)
}

fn param_type_name(t: ParamType) -> &'static str {
    match t {
        ParamType::Number => "a number",
        ParamType::Percent => "a percent",
        ParamType::Text => "text",
        ParamType::Date => "a date",
    }
}

fn parse_param(ty: ParamType, text: &str) -> Option<ParamValue> {
    use crate::syntax::ast::{ExprKind, UnaryOp};
    match ty {
        ParamType::Text => Some(ParamValue::Text(text.to_string())),
        ParamType::Date => crate::calendar::parse_date(text.trim()).map(ParamValue::Date),
        ParamType::Number | ParamType::Percent => {
            let e = crate::syntax::parse_formula(text).ok()?;
            let (neg, kind) = match &e.kind {
                ExprKind::Unary(UnaryOp::Neg, x) => (true, x.kind.clone()),
                k => (false, k.clone()),
            };
            let v = match kind {
                ExprKind::Number(v) => v,
                ExprKind::Percent(v) => v / 100.0,
                _ => return None,
            };
            Some(ParamValue::Number(if neg { -v } else { v }))
        }
    }
}

/// A source for people: the path, or `url@rev (commit)`.
pub fn describe_source(s: &LockedSource) -> String {
    match s {
        LockedSource::Path { path } => path.clone(),
        LockedSource::Git { url, rev, commit } => {
            let short = &commit[..commit.len().min(12)];
            if rev.is_empty() {
                format!("{url} ({short})")
            } else {
                format!("{url}@{rev} ({short})")
            }
        }
    }
}

fn git(args: &[&str], dir: Option<&Path>) -> Result<String, String> {
    let mut c = Command::new("git");
    if let Some(d) = dir {
        c.arg("-C").arg(d);
    }
    // Only plain transports: `ext::` would run a command named in the pack.
    c.args(["-c", "protocol.ext.allow=never"])
        .args(args)
        .env("GIT_TERMINAL_PROMPT", "0")
        .stdin(std::process::Stdio::null());
    match c.output() {
        Ok(o) if o.status.success() => Ok(String::from_utf8_lossy(&o.stdout).trim().to_string()),
        Ok(o) => {
            Err(String::from_utf8_lossy(&o.stderr).trim().lines().last().unwrap_or("git failed").to_string())
        }
        Err(e) => Err(format!("cannot run git: {e}")),
    }
}

/// Whether git imports at a branch or tag are fetched again instead of read from the cache
/// (`kpi lock --update`); a revision that is a full commit hash never moves.
static REFRESH: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// Makes this process fetch git imports at branches and tags again (`kpi lock --update`).
pub fn refresh_git_imports() {
    REFRESH.store(true, std::sync::atomic::Ordering::Relaxed);
}

fn is_commit_hash(rev: &str) -> bool {
    rev.len() == 40 && rev.bytes().all(|b| b.is_ascii_hexdigit())
}

/// Fetches `url` at `rev` into the cache (once per URL and revision, unless refreshing);
/// returns the folder and the commit.
fn fetch_git(url: &Item<String>, rev: Option<&Item<String>>) -> Result<(PathBuf, String), Box<Diagnostic>> {
    let rev_text = rev.map(|r| r.value.trim().to_string()).unwrap_or_default();
    let refresh = REFRESH.load(std::sync::atomic::Ordering::Relaxed) && !is_commit_hash(&rev_text);
    let fail = |msg: String, help: &str| {
        Box::new(
            Diagnostic::error(Code::ImportUnavailable, msg)
                .with_label(url.span, "this repository")
                .with_opt_label(rev.map(|r| r.span), "this revision")
                .with_help(help.to_string()),
        )
    };
    if url.value.starts_with('-') || rev_text.starts_with('-') {
        return Err(fail(format!("`{}` is not a repository URL", url.value), "give a URL or a path"));
    }
    let mut h = Sha256::new();
    h.update(url.value.as_bytes());
    h.update([b'\n']);
    h.update(rev_text.as_bytes());
    let key: String = h.finalize().iter().take(10).map(|b| format!("{b:02x}")).collect();
    let base = cache_dir().join("git");
    let dest = base.join(&key);
    let marker = ".kpi-fetched";
    if let Ok(commit) = std::fs::read_to_string(dest.join(marker)) {
        if !refresh {
            return Ok((dest, commit.trim().to_string()));
        }
    }
    std::fs::create_dir_all(&base).map_err(|e| {
        fail(
            format!("cannot create the cache folder `{}`: {e}", base.display()),
            "set XDG_CACHE_HOME to a writable folder",
        )
    })?;
    let tmp = base.join(format!(".{key}.tmp-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&tmp);
    let tmp_s = tmp.to_string_lossy().into_owned();
    let result = (|| -> Result<String, String> {
        git(&["clone", "--quiet", "--no-checkout", "--", &url.value, &tmp_s], None)?;
        let target = if rev_text.is_empty() { "HEAD".to_string() } else { rev_text.clone() };
        git(&["checkout", "--quiet", "--detach", &target, "--"], Some(&tmp))?;
        let commit = git(&["rev-parse", "HEAD"], Some(&tmp))?;
        std::fs::write(tmp.join(marker), &commit).map_err(|e| e.to_string())?;
        Ok(commit)
    })();
    match result {
        Ok(commit) => {
            if refresh && dest.exists() {
                // Replace the cached copy: move it aside first, so a reader never sees half.
                let old = base.join(format!(".{key}.old-{}", std::process::id()));
                if std::fs::rename(&dest, &old).is_ok() {
                    let _ = std::fs::remove_dir_all(&old);
                }
            }
            if std::fs::rename(&tmp, &dest).is_err() {
                // Another run fetched it meanwhile; use theirs.
                let _ = std::fs::remove_dir_all(&tmp);
                if !dest.join(marker).is_file() {
                    return Err(fail(
                        format!("cannot store `{}` in the cache `{}`", url.value, dest.display()),
                        "check that the cache folder is writable",
                    ));
                }
            }
            Ok((dest, commit))
        }
        Err(e) => {
            let _ = std::fs::remove_dir_all(&tmp);
            Err(fail(
                format!(
                    "cannot fetch `{}`{}: {e}",
                    url.value,
                    if rev_text.is_empty() { String::new() } else { format!(" at `{rev_text}`") }
                ),
                "check the URL and that `rev:` names a tag, branch or commit of it",
            ))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_are_normalised_lexically() {
        assert_eq!(normalize(Path::new("teams/a/../core")), PathBuf::from("teams/core"));
        assert_eq!(normalize(Path::new("./a/./b")), PathBuf::from("a/b"));
        assert_eq!(normalize(Path::new("../core")), PathBuf::from("../core"));
        assert_eq!(normalize(Path::new("a/..")), PathBuf::from("."));
    }

    #[test]
    fn names_resolve_in_their_namespace_through_aliases() {
        let p = Pack { aliases: vec![("mid.core".into(), "core".into())], ..Pack::default() };
        assert_eq!(p.resolve_name("", "reach"), "reach");
        assert_eq!(p.resolve_name("core", "reach"), "core.reach");
        assert_eq!(p.resolve_name("mid", "core.reach"), "core.reach");
        assert_eq!(p.resolve_name("", "mid.core.reach"), "core.reach");
        assert_eq!(p.resolve_name("", "mid.corex"), "mid.corex");
    }

    #[test]
    fn parameters_parse_by_type() {
        assert_eq!(parse_param(ParamType::Percent, "4.5%"), Some(ParamValue::Number(0.045)));
        assert_eq!(parse_param(ParamType::Number, "-3"), Some(ParamValue::Number(-3.0)));
        assert_eq!(parse_param(ParamType::Number, "abc"), None);
        assert_eq!(parse_param(ParamType::Text, "vk"), Some(ParamValue::Text("vk".into())));
        assert!(parse_param(ParamType::Date, "2026-10-01").is_some());
        assert_eq!(parse_param(ParamType::Date, "2026-13-01"), None);
    }
}
