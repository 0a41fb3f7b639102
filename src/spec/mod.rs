//! YAML files → the typed spec of a pack, with spans.

mod imports;
mod load;
pub mod lock;
pub mod model;
mod pack;
pub mod schema;

pub use imports::{cache_dir, describe_source, load_pack, refresh_git_imports};
pub(crate) use load::{loc_span, parse_yaml, read_text};
pub use load::{valid_id, MAX_DEFINITIONS, MAX_YAML_BYTES};
pub use pack::{
    Binding, Dataset, FormulaText, Goal, GoalOverride, Import, ImportSource, Item, Kpi, LockedSource,
    Objective, Pack, Param, ParamDecl, ParamType, ParamValue, ResolvedImport, SourceSpec,
};
