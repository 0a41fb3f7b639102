//! The table of stable diagnostic codes. A code never changes meaning once released.
//!
//! Ranges: `K01xx` names, `K02xx` types and units, `K03xx` formula syntax, `K04xx` YAML and
//! pack layout, `K05xx` goals, `K06xx` data (exit 3), `K07xx` command line, `K09xx` limits.

macro_rules! codes {
    ($( $(#[doc = $doc:literal])* $name:ident = $code:literal, )*) => {
        /// A stable diagnostic code.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum Code {
            $( $(#[doc = $doc])* $name, )*
        }
        impl Code {
            /// The code as printed, e.g. `K0101`.
            pub fn as_str(self) -> &'static str {
                match self { $( Code::$name => $code, )* }
            }
            /// The problem's name, e.g. `UnknownColumn`.
            pub fn name(self) -> &'static str {
                match self { $( Code::$name => stringify!($name), )* }
            }
            /// Every code, in table order.
            pub const ALL: &'static [Code] = &[ $( Code::$name, )* ];
            /// Looks a code up by its printed form.
            pub fn parse(s: &str) -> Option<Code> {
                Code::ALL.iter().copied().find(|c| c.as_str().eq_ignore_ascii_case(s) || c.name() == s)
            }
        }
    };
}

codes! {
    /// A name inside an aggregate is not a column of the KPI's dataset.
    /// Example: `sum(likez)` when the dataset has `likes`.
    UnknownColumn = "K0101",
    /// A call names no known function. Example: `summ(likes)`.
    UnknownFunction = "K0102",
    /// A name outside an aggregate is not a KPI, or a goal's `kpi:` names no KPI.
    /// Example: `engagment_rate * 2`.
    UnknownKpi = "K0103",
    /// A column used outside an aggregate, where names are KPIs. Example: `likes / 2`
    /// (write `sum(likes) / 2`).
    BareColumn = "K0104",
    /// A KPI names a dataset the pack does not declare. Example: `dataset: post`.
    UnknownDataset = "K0105",
    /// A KPI gives no `dataset:` while the pack declares several.
    AmbiguousDataset = "K0106",
    /// A `by:` or `for:` names a column that is not a dimension of the dataset.
    UnknownDimension = "K0107",
    /// KPIs that refer to each other in a circle. Example: `a: b + 1`, `b: a * 2`.
    KpiCycle = "K0108",
    /// A KPI refers to a KPI of another grain, or whose `by` is not a subset of its own,
    /// or of another dataset's time axis that cannot be aligned.
    IncompatibleKpiRef = "K0109",
    /// A goal's `objective:` is not declared in `objectives:`.
    UnknownObjective = "K0110",
    /// An operand has the wrong type. Example: `sum(channel)` where `channel` is text.
    TypeMismatch = "K0201",
    /// A function got the wrong number of arguments. Example: `round()`.
    WrongArity = "K0202",
    /// An aggregate inside an aggregate. Example: `sum(sum(likes))`.
    NestedAggregate = "K0203",
    /// A percent KPI compared with a bare number above 1. Example: `target: ">= 4.5"` on a
    /// percent KPI (write `4.5%`).
    PercentLooksWrong = "K0204",
    /// A target whose unit disagrees with the KPI's unit.
    UnitMismatch = "K0205",
    /// A `where` filter or an argument that must be a constant is not.
    /// Example: `percentile(reach, likes)`.
    NotConstant = "K0206",
    /// A formula that is not valid in the expression language. Example: `sum(likes) +`.
    FormulaSyntax = "K0301",
    /// A literal that cannot be read. Example: `date("2026-13-01")`.
    InvalidLiteral = "K0302",
    /// A YAML document that cannot be parsed. Example: a tab used for indentation.
    YamlSyntax = "K0401",
    /// A key that no section accepts. Example: `formla:` in a KPI.
    UnknownKey = "K0402",
    /// A value of the wrong shape or type. Example: `by: channel` where a list is expected.
    InvalidValue = "K0403",
    /// A required key is absent. Example: a KPI without `formula:`.
    MissingField = "K0404",
    /// The same id is defined twice (in one file or across the files of a pack).
    DuplicateId = "K0405",
    /// An id that is not a plain name. Ids are letters, digits and `_`, not starting with a digit.
    InvalidId = "K0406",
    /// The pack path does not exist or holds no definitions.
    PackNotFound = "K0407",
    /// A pack file could not be read.
    PackUnreadable = "K0408",
    /// `overrides:` names a goal that no import defines, e.g. `core.ig_engagment_q4`.
    /// Only imported goals can be overridden; edit the pack's own goals directly.
    UnknownOverride = "K0409",
    /// An imported pack's `version:` does not satisfy the importer's requirement
    /// (`version: "^1.2"` against `1.0.0`), is not semver, or the same pack is reached at
    /// two different versions.
    ImportVersion = "K0410",
    /// Packs import each other in a circle: `a/pack.yaml -> b/pack.yaml -> a/pack.yaml`.
    ImportCycle = "K0411",
    /// An importer sets a parameter that the imported pack does not declare under
    /// `params:`. Example: `params: {er_targte: 5%}`.
    UnknownParam = "K0412",
    /// A git import could not be fetched (bad URL, unknown `rev:`, no `git`).
    ImportUnavailable = "K0413",
    /// `--locked` and the imports no longer match `kpi.lock` (or there is none): a version,
    /// source, commit or content hash changed. Run `kpi lock` to accept the change.
    LockMismatch = "K0414",
    /// A goal's `target:` or `warn:` cannot be read. Example: `target: "=> 5%"`.
    InvalidTarget = "K0501",
    /// A goal's `window:` or `each:` cannot be read, or `each` is finer than the KPI grain.
    InvalidWindow = "K0502",
    /// A goal is not SMART: a letter is not `ok` (a warning; `--strict` makes it fail).
    NotSmart = "K0503",
    /// A data source cannot be opened or read. Example: a missing CSV file.
    SourceUnreadable = "K0601",
    /// A value in a numeric column is not a number. Example: `12a` in `likes`.
    BadNumber = "K0602",
    /// A row with more or fewer fields than the header.
    RaggedRow = "K0603",
    /// A time value that is not an ISO date or an RFC 3339 datetime.
    BadTime = "K0604",
    /// Data that is not valid UTF-8.
    InvalidUtf8 = "K0605",
    /// A column the pack needs is missing from the data.
    MissingColumn = "K0606",
    /// A division by zero gave null (a note).
    DivisionByZero = "K0607",
    /// A line of NDJSON that is not a JSON object.
    BadJsonLine = "K0608",
    /// Rows were skipped under `--on-bad-row skip` (a warning that counts them).
    RowsSkipped = "K0609",
    /// A database could not be queried: connection refused, bad credentials, a missing table
    /// or column, a timeout. Example: `--data posts=postgres://kpi@db:5432/x?table=nope`.
    DatabaseError = "K0610",
    /// An invalid command-line argument. Example: `--as-of 2026-02-30`.
    InvalidArgument = "K0701",
    /// A report could not be written.
    OutputUnwritable = "K0702",
    /// A file is larger than the limit for its kind.
    FileTooLarge = "K0901",
    /// A formula is longer than the limit.
    FormulaTooLong = "K0902",
    /// A formula nests deeper than the limit. Example: 10,000 parentheses.
    NestingTooDeep = "K0903",
    /// More definitions than the limit.
    TooManyDefinitions = "K0904",
    /// A YAML document exceeds its budget (aliases, events, nesting).
    YamlBudget = "K0905",
}

impl Code {
    /// Whether this code concerns the data (exit 3) rather than the definitions (exit 2).
    pub fn is_data(self) -> bool {
        self.as_str().starts_with("K06")
    }
}

impl std::fmt::Display for Code {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}
