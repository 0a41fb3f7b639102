//! Checking a pack before reading any data: names, types, units, the dependency graph,
//! goals. Produces the [`Model`] that planning and evaluation work from.

pub mod explain;
mod formula;
mod goals;
pub mod model;

pub use formula::{FnKind, FUNCTIONS};
pub use model::*;

use crate::calendar::Grain;
use crate::diagnostic::{did_you_mean, Code, Diagnostic, Diagnostics, Sources, SrcSpan};
use crate::engine::batch::ColType;
use crate::engine::source::{FileFormat, Scan};
use crate::spec::{Pack, ParamValue, SourceSpec};
use formula::{KpiScope, Lowerer};
use std::collections::HashMap;
use std::path::PathBuf;

/// How to check.
pub struct CheckOptions<'a> {
    /// `--data NAME=SOURCE` bindings, in order.
    pub data: &'a [(String, String)],
    /// Whether unreadable data is an error (eval) or a warning (check).
    pub require_data: bool,
    /// Reads data headers.
    pub scanner: &'a dyn Scan,
    /// Connection limits for database sources (described only when `require_data`).
    pub db: &'a crate::db::DbOptions,
}

struct Scope<'a> {
    ids: &'a HashMap<String, usize>,
    baseline: bool,
    /// The namespace the formula was written in.
    ns: &'a str,
    pack: &'a Pack,
}

impl KpiScope for Scope<'_> {
    fn kpi(&self, name: &str) -> Option<usize> {
        self.ids.get(&self.qualify(name)).copied()
    }
    fn kpi_names(&self) -> Vec<String> {
        // Names as they would be written in this namespace.
        let mut v: Vec<String> = self
            .ids
            .keys()
            .filter_map(|k| if self.ns.is_empty() { Some(k.as_str()) } else { local_name(k, self.ns) })
            .map(str::to_string)
            .collect();
        v.sort();
        v
    }
    fn baseline_allowed(&self) -> bool {
        self.baseline
    }
    fn param(&self, name: &str) -> Option<(Const, Ty)> {
        param_const(self.pack, self.ns, name)
    }
    fn qualify(&self, name: &str) -> String {
        self.pack.resolve_name(self.ns, name)
    }
}

/// `id` without the `ns.` prefix, if it is in namespace `ns`.
fn local_name<'a>(id: &'a str, ns: &str) -> Option<&'a str> {
    if ns.is_empty() {
        return Some(id);
    }
    id.strip_prefix(ns).and_then(|r| r.strip_prefix('.'))
}

/// The value of parameter `name` written in namespace `ns`, as a constant.
pub(crate) fn param_const(pack: &Pack, ns: &str, name: &str) -> Option<(Const, Ty)> {
    let id = pack.resolve_name(ns, name);
    let p = pack.params.iter().find(|p| p.id == id)?;
    Some(match &p.value {
        ParamValue::Number(v) => (Const::Number(*v), Ty::Number),
        ParamValue::Text(t) => (Const::Text(t.clone()), Ty::Text),
        ParamValue::Date(d) => (Const::Date(*d), Ty::Date),
    })
}

/// Checks a loaded pack. On success returns the model and any warnings; on failure every
/// diagnostic found (errors and warnings).
pub fn check_pack(
    pack: &Pack,
    sources: &Sources,
    opts: &CheckOptions,
) -> Result<(Model, Diagnostics), Diagnostics> {
    let mut diags: Diagnostics = Vec::new();
    let name = pack.name.as_ref().map(|n| n.value.clone()).unwrap_or_else(|| {
        sources
            .get(pack.files.first().copied().unwrap_or(crate::diagnostic::FileId(0)))
            .and_then(|f| f.path.file_stem().map(|s| s.to_string_lossy().into_owned()))
            .unwrap_or_else(|| "pack".into())
    });
    let version = pack.version.as_ref().map(|v| v.value.clone()).unwrap_or_else(|| "0.0.0".into());

    // Bindings from the command line.
    let mut cli_binds: HashMap<&str, &str> = HashMap::new();
    let mut resolved_data = Vec::new();
    for (n, s) in opts.data {
        resolved_data.push((pack.resolve_name("", n), s.as_str()));
    }
    for (n, s) in &resolved_data {
        if !pack.datasets.iter().any(|d| d.id.value == *n) {
            let ids: Vec<&str> = pack.datasets.iter().map(|d| d.id.value.as_str()).collect();
            let help = match did_you_mean(n, ids.iter().copied()) {
                Some(s) => format!("did you mean `{s}`?"),
                None => format!("the datasets are: {}", ids.join(", ")),
            };
            diags.push(
                Diagnostic::error(Code::InvalidArgument, format!("--data names no dataset `{n}`"))
                    .with_help(help),
            );
        }
        cli_binds.insert(n.as_str(), s);
    }

    // Datasets.
    let mut datasets = Vec::new();
    for d in &pack.datasets {
        let time = match &d.time {
            Some(t) => t.value.clone(),
            None => {
                diags.push(
                    Diagnostic::error(
                        Code::MissingField,
                        format!("dataset `{}` has no `time:` column", d.id.value),
                    )
                    .with_label(d.id.span, "needs `time:`")
                    .with_help("name the column that dates each row, e.g. `time: date`"),
                );
                String::new()
            }
        };
        let mut def = DatasetDef {
            id: d.id.value.clone(),
            span: d.id.span,
            source: None,
            time,
            dimensions: d.dimensions.iter().map(|x| x.value.clone()).collect(),
            columns: Vec::new(),
            known: Vec::new(),
            header_read: false,
        };
        for (c, t) in &d.columns {
            let ty = match t.value.trim() {
                "number" | "int" | "integer" | "float" | "decimal" => Ty::Number,
                "text" | "string" => Ty::Text,
                "date" | "datetime" | "timestamp" => Ty::Date,
                "bool" | "boolean" => Ty::Bool,
                other => {
                    diags.push(
                        Diagnostic::error(Code::InvalidValue, format!("unknown column type `{other}`"))
                            .with_label(t.span, "not a type")
                            .with_help("the column types are: number, text"),
                    );
                    Ty::Number
                }
            };
            def.known.push((c.value.clone(), ty));
        }
        for dim in &def.dimensions {
            if !def.known.iter().any(|(n, _)| n == dim) {
                def.known.push((dim.clone(), Ty::Text));
            }
        }
        // Bind the source.
        let bound = match cli_binds.get(d.id.value.as_str()) {
            Some(s) => Some(bind_cli(s)),
            None => d.source.as_ref().map(|s| bind_spec(&s.value, &pack.dir, Some(s.span))),
        };
        if let Some(b) = &bound {
            for secret in crate::db::secrets_of(&b.spec) {
                sources.add_secret(&secret);
            }
        }
        match &bound {
            None => {
                let imported = d.id.value.contains('.');
                let msg = if imported {
                    format!("imported dataset `{}` is not bound", d.id.value)
                } else {
                    format!("dataset `{}` has no source", d.id.value)
                };
                let help = if imported {
                    format!(
                        "an imported pack's `source:` is never read; bind it in the pack being run with `datasets: {{{}: {{source: data/FILE.csv}}}}` or pass `--data {}=FILE`",
                        d.id.value, d.id.value
                    )
                } else {
                    format!("add `source: data/{}.csv` or pass `--data {}=FILE`", d.id.value, d.id.value)
                };
                let diag = Diagnostic::error(Code::SourceUnreadable, msg)
                    .with_label(d.id.span, if imported { "defined here, not bound" } else { "no `source:`" })
                    .with_help(help);
                if opts.require_data {
                    diags.push(diag);
                } else {
                    diags.push(Diagnostic { severity: crate::diagnostic::Severity::Warning, ..diag });
                }
            }
            Some(b) => {
                // Columns a database types as booleans or dates (a file's are numbers or text).
                let mut typed: Vec<(String, Ty)> = Vec::new();
                let sniffed = match &b.path {
                    Some(path) => Some(match FileFormat::from_path(path) {
                        Some(fmt) => opts.scanner.sniff(path, fmt),
                        None => Err(Diagnostic::error(
                            Code::SourceUnreadable,
                            format!("cannot tell the format of `{}` from its extension", path.display()),
                        )
                        .with_path(path)
                        .with_help("use .csv, .tsv, .ndjson or .jsonl")),
                    }),
                    // A database is asked for its columns only when the data is needed.
                    None if opts.require_data => {
                        Some(crate::db::describe(b, &d.id.value, &def.time, opts.db).map(|(sn, t)| {
                            typed = t;
                            sn
                        }))
                    }
                    None => None,
                };
                if let Some(sniffed) = sniffed {
                    match sniffed {
                        Ok(sn) => {
                            def.header_read = true;
                            let header: Vec<String> = sn.columns.iter().map(|(c, _)| c.clone()).collect();
                            for (c, t) in sn.columns {
                                if def.known.iter().any(|(n, _)| *n == c) || c == def.time {
                                    continue;
                                }
                                let ty = match (t, typed.iter().find(|(n, _)| *n == c)) {
                                    (_, Some((_, ty))) => *ty,
                                    (Some(ColType::Text), _) => Ty::Text,
                                    _ => Ty::Number,
                                };
                                def.known.push((c, ty));
                            }
                            check_header_columns(d, &def, &header, &mut diags);
                        }
                        Err(mut e) => {
                            if let Some(sp) = b.span {
                                e = e.with_label(sp, "bound here");
                            }
                            if !opts.require_data {
                                e.severity = crate::diagnostic::Severity::Warning;
                                e.message = format!("{} (columns not checked against the data)", e.message);
                            }
                            diags.push(e);
                        }
                    }
                }
            }
        }
        def.source = bound;
        datasets.push(def);
    }

    // KPIs.
    let ids: HashMap<String, usize> =
        pack.kpis.iter().enumerate().map(|(i, k)| (k.id.value.clone(), i)).collect();
    let mut kpis: Vec<Option<KpiDef>> = Vec::new();
    for k in &pack.kpis {
        let scope = Scope { ids: &ids, baseline: false, ns: &k.namespace, pack };
        match check_kpi(k, pack, &mut datasets, &scope) {
            Ok((def, mut warns)) => {
                diags.append(&mut warns);
                kpis.push(Some(def));
            }
            Err(d) => {
                diags.push(*d);
                kpis.push(None);
            }
        }
    }
    if kpis.iter().all(Option::is_some) {
        let defs: Vec<KpiDef> = kpis.into_iter().flatten().collect();
        let order = match dependency_order(&defs, sources) {
            Ok(o) => o,
            Err(mut e) => {
                diags.append(&mut e);
                Vec::new()
            }
        };
        let mut defs = defs;
        for i in order.iter().copied() {
            let kind = kpi_kind(&defs[i].expr, &defs[i].aggs, &defs);
            defs[i].kind = kind;
        }
        let goals = goals::check_goals(pack, &defs, &mut diags);
        if diags.iter().any(|d| d.is_error()) {
            return Err(diags);
        }
        let model = Model {
            name,
            version,
            datasets,
            kpis: defs,
            order,
            goals,
            objectives: pack.objectives.iter().map(|o| (o.id.value.clone(), o.text.clone())).collect(),
            goal_items: pack.goals.iter().map(|g| g.id.clone()).collect(),
            calendar: pack.calendar.clone(),
        };
        Ok((model, diags))
    } else {
        Err(diags)
    }
}

fn check_header_columns(
    d: &crate::spec::Dataset,
    def: &DatasetDef,
    header: &[String],
    diags: &mut Diagnostics,
) {
    let mut missing = |name: &str, span: SrcSpan, what: &str| {
        let help = match did_you_mean(name, header.iter().map(|s| s.as_str())) {
            Some(s) => format!("did you mean `{s}`? the data's columns are: {}", header.join(", ")),
            None => format!("the data's columns are: {}", header.join(", ")),
        };
        diags.push(
            Diagnostic::error(
                Code::MissingColumn,
                format!("the {what} `{name}` of dataset `{}` is not a column of its data", def.id),
            )
            .with_label(span, "not in the data's header")
            .with_help(help),
        );
    };
    if let Some(t) = &d.time {
        if !header.contains(&t.value) {
            missing(&t.value, t.span, "time column");
        }
    }
    for dim in &d.dimensions {
        if !header.contains(&dim.value) {
            missing(&dim.value, dim.span, "dimension");
        }
    }
    for (c, _) in &d.columns {
        if !header.contains(&c.value) {
            missing(&c.value, c.span, "declared column");
        }
    }
}

/// Expands `${VAR}` from the environment.
pub fn expand_env(s: &str) -> String {
    let mut out = String::new();
    let mut rest = s;
    while let Some(i) = rest.find("${") {
        out.push_str(&rest[..i]);
        match rest[i + 2..].find('}') {
            Some(j) => {
                let var = &rest[i + 2..i + 2 + j];
                out.push_str(&std::env::var(var).unwrap_or_default());
                rest = &rest[i + 3 + j..];
            }
            None => {
                out.push_str(&rest[i..]);
                rest = "";
            }
        }
    }
    out.push_str(rest);
    out
}

/// A URL with its password replaced by `***`: the credentials end at the first `@` (as the
/// PostgreSQL driver reads them, so a `/` in a password is covered), and a `password=` in the
/// query string is masked too.
pub fn redact_url(url: &str) -> String {
    let Some(scheme_end) = url.find("://") else { return url.to_string() };
    let rest = &url[scheme_end + 3..];
    let mut out = match rest.find('@') {
        Some(at) if rest[..at].contains(':') => {
            let user = rest[..at].split(':').next().unwrap_or("");
            format!("{}://{}:***@{}", &url[..scheme_end], user, &rest[at + 1..])
        }
        _ => url.to_string(),
    };
    if let Some(q) = out.find('?') {
        let (head, query) = out.split_at(q + 1);
        let masked: Vec<String> = query
            .split('&')
            .map(|kv| if kv.starts_with("password=") { "password=***".to_string() } else { kv.to_string() })
            .collect();
        out = format!("{head}{}", masked.join("&"));
    }
    out
}

fn bind_cli(s: &str) -> BoundSource {
    if s.contains("://") {
        return BoundSource {
            spec: SourceSpec::Database { url: s.to_string(), table: None, query: None },
            path: None,
            span: None,
            display: redact_url(s),
        };
    }
    let p = PathBuf::from(expand_env(s));
    BoundSource {
        spec: SourceSpec::Path(p.clone()),
        display: p.display().to_string(),
        path: Some(p),
        span: None,
    }
}

fn bind_spec(spec: &SourceSpec, dir: &std::path::Path, span: Option<SrcSpan>) -> BoundSource {
    match spec {
        SourceSpec::Path(p) => {
            let expanded = PathBuf::from(expand_env(&p.to_string_lossy()));
            let path = if expanded.is_absolute() { expanded } else { dir.join(expanded) };
            BoundSource { spec: spec.clone(), display: path.display().to_string(), path: Some(path), span }
        }
        SourceSpec::Database { url, .. } => {
            BoundSource { spec: spec.clone(), path: None, span, display: redact_url(&expand_env(url)) }
        }
    }
}

fn check_kpi(
    k: &crate::spec::Kpi,
    pack: &Pack,
    datasets: &mut [DatasetDef],
    scope: &Scope,
) -> Result<(KpiDef, Diagnostics), Box<Diagnostic>> {
    let warns = Vec::new();
    // The datasets a KPI may read without naming one: those of its own namespace.
    let own: Vec<usize> = datasets
        .iter()
        .enumerate()
        .filter(|(_, x)| local_name(&x.id, &k.namespace).is_some_and(|l| !l.contains('.')))
        .map(|(i, _)| i)
        .collect();
    let ds_index = match &k.dataset {
        Some(d) => match datasets.iter().position(|x| x.id == pack.resolve_name(&k.namespace, &d.value)) {
            Some(i) => i,
            None => {
                let ids: Vec<&str> = datasets.iter().map(|x| x.id.as_str()).collect();
                let help = match did_you_mean(&d.value, ids.iter().copied()) {
                    Some(s) => format!("did you mean `{s}`?"),
                    None if ids.is_empty() => "declare it under `datasets:`".to_string(),
                    None => format!("the datasets are: {}", ids.join(", ")),
                };
                return Err(Box::new(
                    Diagnostic::error(Code::UnknownDataset, format!("unknown dataset `{}`", d.value))
                        .with_label(d.span, "no such dataset")
                        .with_help(help),
                ));
            }
        },
        None if own.len() == 1 => own[0],
        None if own.is_empty() => {
            return Err(Box::new(
                Diagnostic::error(
                    Code::UnknownDataset,
                    format!("KPI `{}` has no dataset to read", k.id.value),
                )
                .with_label(k.id.span, "no dataset")
                .with_help("declare a dataset under `datasets:`"),
            ))
        }
        None => {
            let ids: Vec<&str> = own.iter().map(|&i| datasets[i].id.as_str()).collect();
            return Err(Box::new(
                Diagnostic::error(
                    Code::AmbiguousDataset,
                    format!(
                        "KPI `{}` does not say which dataset it reads, and the pack has {}",
                        k.id.value,
                        ids.len()
                    ),
                )
                .with_label(k.id.span, "needs `dataset:`")
                .with_help(format!("add `dataset:` with one of: {}", ids.join(", "))),
            ));
        }
    };
    let grain = match &k.grain {
        Some(g) => Grain::parse(&g.value).ok_or_else(|| {
            Box::new(
                Diagnostic::error(Code::InvalidValue, format!("unknown grain `{}`", g.value))
                    .with_label(g.span, "not a grain")
                    .with_help(match did_you_mean(&g.value, Grain::ALL.iter().map(|g| g.as_str())) {
                        Some(s) => {
                            format!("did you mean `{s}`? the grains are day, week, month, quarter, year")
                        }
                        None => "the grains are day, week, month, quarter, year".to_string(),
                    }),
            )
        })?,
        None => Grain::Month,
    };
    {
        let ds = &datasets[ds_index];
        for b in &k.by {
            if !ds.dimensions.contains(&b.value) {
                let help = if ds.dimensions.is_empty() {
                    format!(
                        "dataset `{}` declares no dimensions; add `dimensions: [{}]` to it",
                        ds.id, b.value
                    )
                } else {
                    match did_you_mean(&b.value, ds.dimensions.iter().map(|s| s.as_str())) {
                        Some(s) => format!(
                            "did you mean `{s}`? the dimensions of `{}` are: {}",
                            ds.id,
                            ds.dimensions.join(", ")
                        ),
                        None => format!(
                            "the dimensions of `{}` are: {}; declare it under `dimensions:`",
                            ds.id,
                            ds.dimensions.join(", ")
                        ),
                    }
                };
                return Err(Box::new(
                    Diagnostic::error(
                        Code::UnknownDimension,
                        format!("`{}` is not a dimension of dataset `{}`", b.value, ds.id),
                    )
                    .with_label(b.span, "not a dimension")
                    .with_help(help),
                ));
            }
        }
    }
    let Some(formula) = &k.formula else {
        return Err(Box::new(
            Diagnostic::error(Code::MissingField, format!("KPI `{}` has no `formula:`", k.id.value))
                .with_label(k.id.span, "needs `formula:`")
                .with_help("add a formula, for example `formula: sum(likes) / sum(reach)`"),
        ));
    };
    let ast = crate::syntax::parse_formula(&formula.text).map_err(|e| {
        let mut d = Diagnostic::error(e.code, e.message).with_label(formula.span(e.span), "here");
        d.help = e.help;
        Box::new(d)
    })?;
    let mut low = Lowerer {
        text: formula,
        dataset: Some(&mut datasets[ds_index]),
        scope,
        aggs: Vec::new(),
        deps: Vec::new(),
    };
    let (expr, ty) = low.kpi_expr(&ast)?;
    if !ty.fits(Ty::Number) {
        return Err(Box::new(
            Diagnostic::error(Code::TypeMismatch, format!("KPI `{}` must give a number; its formula gives {}", k.id.value, ty.name()))
                .with_label(formula.whole(), format!("this is {}", ty.name()))
                .with_help("a condition can be counted: `count(where ...)`, or turned into a number with `if(cond, 1, 0)`"),
        ));
    }
    let (aggs, deps) = (low.aggs, low.deps);
    let _ = pack;
    Ok((
        KpiDef {
            id: k.id.value.clone(),
            span: k.id.span,
            name: k.name.as_ref().map(|n| n.value.clone()).unwrap_or_else(|| k.id.value.clone()),
            description: k.description.as_ref().map(|d| d.value.clone()),
            unit: k.unit.as_ref().map(|u| Unit::parse(&u.value)).unwrap_or(Unit::None),
            dataset: ds_index,
            by: k.by.iter().map(|b| b.value.clone()).collect(),
            grain,
            formula: formula.clone(),
            expr,
            aggs,
            deps,
            kind: KpiKind::Ratio,
            tags: k.tags.clone(),
        },
        warns,
    ))
}

fn dependency_order(kpis: &[KpiDef], sources: &Sources) -> Result<Vec<usize>, Diagnostics> {
    let mut diags = Vec::new();
    // Compatibility of every reference.
    for k in kpis {
        for &d in &k.deps {
            let dep = &kpis[d];
            let problem = if dep.grain != k.grain {
                Some(format!(
                    "`{}` is computed per {} and `{}` per {}; a KPI can only read KPIs of its own grain",
                    k.id,
                    k.grain.as_str(),
                    dep.id,
                    dep.grain.as_str()
                ))
            } else if !dep.by.iter().all(|b| k.by.contains(b)) {
                Some(format!(
                    "`{}` is grouped by [{}], which is not part of `{}`'s grouping [{}]; its value could not be matched to each group",
                    dep.id,
                    dep.by.join(", "),
                    k.id,
                    k.by.join(", ")
                ))
            } else {
                None
            };
            if let Some(msg) = problem {
                let at = find_name(&k.formula, &dep.id);
                diags.push(
                    Diagnostic::error(Code::IncompatibleKpiRef, msg)
                        .with_label(at.unwrap_or(k.formula.whole()), "referenced here")
                        .with_label(dep.span, "defined here")
                        .with_help("give both KPIs the same `grain:`, and group the referenced KPI by a subset of the other's `by:`"),
                );
            }
        }
    }
    // Topological order, with the whole cycle named.
    let n = kpis.len();
    let mut state = vec![0u8; n];
    let mut order = Vec::with_capacity(n);
    for start in 0..n {
        if state[start] != 0 {
            continue;
        }
        // Iterative DFS: (node, next dep index).
        let mut stack: Vec<(usize, usize)> = vec![(start, 0)];
        state[start] = 1;
        while let Some(&mut (node, ref mut i)) = stack.last_mut() {
            if *i < kpis[node].deps.len() {
                let d = kpis[node].deps[*i];
                *i += 1;
                match state[d] {
                    0 => {
                        state[d] = 1;
                        stack.push((d, 0));
                    }
                    1 => {
                        let pos = stack.iter().position(|(x, _)| *x == d).unwrap_or(0);
                        let mut names: Vec<&str> =
                            stack[pos..].iter().map(|(x, _)| kpis[*x].id.as_str()).collect();
                        names.push(&kpis[d].id);
                        let mut diag = Diagnostic::error(
                            Code::KpiCycle,
                            format!("KPIs refer to each other in a cycle: {}", names.join(" -> ")),
                        )
                        .with_help(
                            "break the cycle: one of these KPIs must be computed from aggregates only",
                        );
                        for (x, _) in &stack[pos..] {
                            let next = kpis[*x]
                                .deps
                                .iter()
                                .copied()
                                .find(|dd| stack[pos..].iter().any(|(y, _)| y == dd));
                            let at = next.and_then(|nx| find_name(&kpis[*x].formula, &kpis[nx].id));
                            diag = diag.with_label(
                                at.unwrap_or(kpis[*x].span),
                                match next {
                                    Some(nx) => format!("`{}` reads `{}`", kpis[*x].id, kpis[nx].id),
                                    None => format!("`{}`", kpis[*x].id),
                                },
                            );
                        }
                        let _ = sources;
                        diags.push(diag);
                        return Err(diags);
                    }
                    _ => {}
                }
            } else {
                state[node] = 2;
                order.push(node);
                stack.pop();
            }
        }
    }
    if diags.is_empty() {
        Ok(order)
    } else {
        Err(diags)
    }
}

/// Where KPI `id` is written in formula `f`: the full namespaced id, or, for a formula
/// inside a namespace, a shorter suffix of it (`reach` for `core.reach`).
fn find_name(f: &crate::spec::FormulaText, id: &str) -> Option<SrcSpan> {
    let mut name = id;
    loop {
        if let Some(s) = find_exact_name(f, name) {
            return Some(s);
        }
        name = name.split_once('.')?.1;
    }
}

fn find_exact_name(f: &crate::spec::FormulaText, name: &str) -> Option<SrcSpan> {
    let bytes = f.text.as_bytes();
    let mut from = 0;
    while let Some(i) = f.text[from..].find(name) {
        let s = from + i;
        let e = s + name.len();
        let before_ok =
            s == 0 || !(bytes[s - 1].is_ascii_alphanumeric() || bytes[s - 1] == b'_' || bytes[s - 1] == b'.');
        let after_ok =
            e >= bytes.len() || !(bytes[e].is_ascii_alphanumeric() || bytes[e] == b'_' || bytes[e] == b'(');
        if before_ok && after_ok {
            return Some(f.span(crate::syntax::ast::Span::new(s, e)));
        }
        from = e;
    }
    None
}

fn kpi_kind(e: &KpiExpr, aggs: &[AggCall], kpis: &[KpiDef]) -> KpiKind {
    match e {
        KpiExpr::Agg(i) => match aggs[*i].func {
            AggFn::Sum | AggFn::Count | AggFn::CountDistinct => KpiKind::Additive,
            AggFn::First | AggFn::Last => KpiKind::Stock,
            _ => KpiKind::Ratio,
        },
        KpiExpr::Kpi(i) => kpis[*i].kind,
        KpiExpr::Binary(crate::syntax::ast::BinOp::Add | crate::syntax::ast::BinOp::Sub, a, b) => {
            let (ka, kb) = (kpi_kind(a, aggs, kpis), kpi_kind(b, aggs, kpis));
            if ka == kb && ka != KpiKind::Ratio {
                ka
            } else {
                KpiKind::Ratio
            }
        }
        KpiExpr::Binary(crate::syntax::ast::BinOp::Mul, a, b) => match (a.as_ref(), b.as_ref()) {
            (KpiExpr::Const(_), x) | (x, KpiExpr::Const(_)) => kpi_kind(x, aggs, kpis),
            _ => KpiKind::Ratio,
        },
        KpiExpr::Time(TimeFn::Cumulative | TimeFn::RollingSum, x, _) => kpi_kind(x, aggs, kpis),
        _ => KpiKind::Ratio,
    }
}
