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
    pub for_: Vec<(Item<String>, Item<Vec<String>>)>,
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
}
