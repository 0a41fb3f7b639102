//! The typed spec of a loaded pack: every value with the span it came from.

use crate::diagnostic::{FileId, SrcSpan};
use crate::syntax::ast;
use std::path::PathBuf;

/// A value and where it is written.
#[derive(Debug, Clone, PartialEq)]
pub struct Item<T> {
    /// The value.
    pub value: T,
    /// Where it is written.
    pub span: SrcSpan,
}

impl<T> Item<T> {
    /// A new item.
    pub fn new(value: T, span: SrcSpan) -> Self {
        Item { value, span }
    }
}

/// Text written in YAML that is parsed further (a formula, a target), with the map from
/// each of its bytes to the byte in the file, so errors point at the character.
#[derive(Debug, Clone, PartialEq)]
pub struct FormulaText {
    /// The text after YAML unquoting.
    pub text: String,
    /// The file.
    pub file: FileId,
    /// `map[i]` is the file offset of text byte `i`; `map[text.len()]` is the end.
    pub map: Vec<u32>,
}

impl FormulaText {
    /// Text that does not come from a file position (command-line values, overrides).
    pub fn detached(text: String, span: SrcSpan) -> Self {
        let map = vec![span.start as u32; text.len() + 1];
        FormulaText { text, file: span.file, map }
    }

    /// The file span of a span in the text.
    pub fn span(&self, s: ast::Span) -> SrcSpan {
        let at = |i: u32| -> usize {
            let i = (i as usize).min(self.map.len().saturating_sub(1));
            self.map.get(i).copied().unwrap_or(0) as usize
        };
        let start = at(s.start);
        let end = if s.end > s.start { at(s.end - 1) + 1 } else { start };
        SrcSpan::new(self.file, start, end.max(start))
    }

    /// The span of the whole text.
    pub fn whole(&self) -> SrcSpan {
        self.span(ast::Span::new(0, self.text.len()))
    }
}

/// Where a dataset's rows come from.
#[derive(Debug, Clone, PartialEq)]
pub enum SourceSpec {
    /// A file path (relative to the pack, or as given on the command line).
    Path(PathBuf),
    /// A database URL with a table or a query.
    Database {
        /// Connection URL (may hold `${VAR}`).
        url: String,
        /// Table name.
        table: Option<String>,
        /// Query.
        query: Option<String>,
    },
}

/// A declared objective.
#[derive(Debug, Clone)]
pub struct Objective {
    /// Its id.
    pub id: Item<String>,
    /// What it means.
    pub text: String,
}

/// A dataset definition.
#[derive(Debug, Clone)]
pub struct Dataset {
    /// Its id.
    pub id: Item<String>,
    /// Its source as written in the pack.
    pub source: Option<Item<SourceSpec>>,
    /// The time column.
    pub time: Option<Item<String>>,
    /// Dimension columns.
    pub dimensions: Vec<Item<String>>,
    /// Declared column types.
    pub columns: Vec<(Item<String>, Item<String>)>,
    /// Its description.
    pub description: Option<String>,
}

/// A KPI definition.
#[derive(Debug, Clone)]
pub struct Kpi {
    /// Its id.
    pub id: Item<String>,
    /// Display name.
    pub name: Option<Item<String>>,
    /// Description.
    pub description: Option<Item<String>>,
    /// Unit as written.
    pub unit: Option<Item<String>>,
    /// Dataset id.
    pub dataset: Option<Item<String>>,
    /// The formula.
    pub formula: Option<FormulaText>,
    /// Group-by dimensions.
    pub by: Vec<Item<String>>,
    /// Grain as written.
    pub grain: Option<Item<String>>,
    /// Tags.
    pub tags: Vec<String>,
    /// Owner.
    pub owner: Option<Item<String>>,
    /// The namespace its names resolve in: `""` for the pack being run, `core` for a KPI
    /// imported as `core`.
    pub namespace: String,
}

/// A goal definition.
#[derive(Debug, Clone)]
pub struct Goal {
    /// Its id.
    pub id: Item<String>,
    /// The KPI id.
    pub kpi: Option<Item<String>>,
    /// Description.
    pub description: Option<Item<String>>,
    /// Scope: dimension → accepted values.
    pub for_: Vec<ForEntry>,
    /// Target text.
    pub target: Option<FormulaText>,
    /// Warn band text.
    pub warn: Option<FormulaText>,
    /// Window as written.
    pub window: Option<Item<String>>,
    /// Judging grain.
    pub each: Option<Item<String>>,
    /// Baseline expression text.
    pub baseline: Option<FormulaText>,
    /// Objective id.
    pub objective: Option<Item<String>>,
    /// Owner.
    pub owner: Option<Item<String>>,
    /// The namespace its names resolve in (see [`Kpi::namespace`]).
    pub namespace: String,
    /// The fields an importer's `overrides:` changed, in declaration order.
    pub overridden: Vec<String>,
}

/// A loaded pack: the definitions of all its files, merged, ids unique.
#[derive(Debug, Clone, Default)]
pub struct Pack {
    /// The folder that relative sources are resolved against.
    pub dir: PathBuf,
    /// The files read, in order.
    pub files: Vec<FileId>,
    /// `pack:` name.
    pub name: Option<Item<String>>,
    /// `version:`.
    pub version: Option<Item<String>>,
    /// `description:`.
    pub description: Option<Item<String>>,
    /// Objectives.
    pub objectives: Vec<Objective>,
    /// Datasets.
    pub datasets: Vec<Dataset>,
    /// KPIs.
    pub kpis: Vec<Kpi>,
    /// Goals.
    pub goals: Vec<Goal>,
    /// `imports:` as written in this pack's files.
    pub imports: Vec<Import>,
    /// `overrides:` as written in this pack's files.
    pub overrides: Vec<GoalOverride>,
    /// `params:` declared by this pack.
    pub param_decls: Vec<ParamDecl>,
    /// Bindings of imported datasets (`core.posts: {source: ...}`).
    pub bindings: Vec<Binding>,
    /// Parameter values after resolution, by namespaced id.
    pub params: Vec<Param>,
    /// Namespaces that name an already loaded instance of the same pack: `(alias, target)`.
    pub aliases: Vec<(String, String)>,
    /// Every import after resolution, depth first.
    pub resolved: Vec<ResolvedImport>,
    /// `calendar:` of this pack (an imported pack's calendar is not used).
    pub calendar: crate::calendar::Calendar,
}

impl Pack {
    /// The namespaced id that `name`, written in namespace `ns`, refers to (aliases of a
    /// pack reached twice followed).
    pub fn resolve_name(&self, ns: &str, name: &str) -> String {
        let mut full = if ns.is_empty() { name.to_string() } else { format!("{ns}.{name}") };
        // Aliases point at earlier instances, so a bounded number of rewrites suffices.
        for _ in 0..=self.aliases.len() {
            let hit = self.aliases.iter().find(|(a, _)| {
                full.len() > a.len() && full.starts_with(a.as_str()) && full.as_bytes()[a.len()] == b'.'
            });
            match hit {
                Some((a, t)) => full = format!("{t}{}", &full[a.len()..]),
                None => break,
            }
        }
        full
    }
}

/// Where an import comes from.
#[derive(Debug, Clone)]
pub enum ImportSource {
    /// A folder or file relative to the importing pack.
    Path(Item<String>),
    /// A git repository at a revision.
    Git {
        /// The URL.
        url: Item<String>,
        /// Tag, branch or commit; absent = the default branch.
        rev: Option<Item<String>>,
    },
}

/// One entry of `imports:`.
#[derive(Debug, Clone)]
pub struct Import {
    /// The namespace.
    pub ns: Item<String>,
    /// Where from; `None` when neither `path:` nor `git:` is given (or both are).
    pub source: Option<ImportSource>,
    /// The semver requirement.
    pub version: Option<Item<String>>,
    /// Parameter values: name → value as written.
    pub params: Vec<(Item<String>, Item<String>)>,
}

/// One dimension of a goal's `for:` and its accepted values.
pub type ForEntry = (Item<String>, Item<Vec<String>>);

/// One entry of `overrides: goals:`.
#[derive(Debug, Clone)]
pub struct GoalOverride {
    /// The imported goal's namespaced id.
    pub id: Item<String>,
    /// New target.
    pub target: Option<FormulaText>,
    /// New warn band.
    pub warn: Option<FormulaText>,
    /// New window.
    pub window: Option<Item<String>>,
    /// New judging grain.
    pub each: Option<Item<String>>,
    /// New scope.
    pub for_: Option<Vec<ForEntry>>,
    /// New owner.
    pub owner: Option<Item<String>>,
}

/// A declared parameter.
#[derive(Debug, Clone)]
pub struct ParamDecl {
    /// Its id.
    pub id: Item<String>,
    /// Its type as written.
    pub ty: Option<Item<String>>,
    /// Its default as written.
    pub default: Option<Item<String>>,
    /// What it controls.
    pub description: Option<String>,
}

/// The type of a parameter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ParamType {
    /// A number.
    Number,
    /// A percent (a number; `4.5%` = 0.045).
    Percent,
    /// Text.
    Text,
    /// A date.
    Date,
}

/// A parameter's value.
#[derive(Debug, Clone, PartialEq)]
pub enum ParamValue {
    /// A number (percents as fractions).
    Number(f64),
    /// Text.
    Text(String),
    /// A date as a day number.
    Date(i32),
}

/// A resolved parameter.
#[derive(Debug, Clone)]
pub struct Param {
    /// Namespaced id (`core.er_target`).
    pub id: String,
    /// Where its value is written (the importer's value, or the default).
    pub span: SrcSpan,
    /// Its type.
    pub ty: ParamType,
    /// Its value.
    pub value: ParamValue,
}

/// A binding of an imported dataset by the pack being run.
#[derive(Debug, Clone)]
pub struct Binding {
    /// The dataset's namespaced id.
    pub id: Item<String>,
    /// Its source.
    pub source: Item<SourceSpec>,
}

/// Where a resolved import was found, as recorded in `kpi.lock`.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LockedSource {
    /// A path, as written in the importing pack.
    Path {
        /// The path.
        path: String,
    },
    /// A git repository.
    Git {
        /// The URL.
        url: String,
        /// The revision as written.
        rev: String,
        /// The commit it resolved to.
        commit: String,
    },
}

/// One import after resolution.
#[derive(Debug, Clone)]
pub struct ResolvedImport {
    /// Full namespace (`team.core`).
    pub namespace: String,
    /// The imported pack's `pack:` name.
    pub name: String,
    /// Its `version:`.
    pub version: String,
    /// Where it came from.
    pub source: LockedSource,
    /// `sha256:` of its definition files.
    pub hash: String,
    /// The namespace of the instance it shares when the same pack is reached twice.
    pub same_as: Option<String>,
    /// Nesting depth: 0 for the pack's own imports.
    pub depth: usize,
}
