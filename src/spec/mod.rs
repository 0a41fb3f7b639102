//! YAML files → the typed spec of a pack, with spans.

mod load;
pub mod model;
mod pack;
pub mod schema;

pub use load::{load_pack, valid_id, MAX_DEFINITIONS, MAX_YAML_BYTES};
pub(crate) use load::{loc_span, parse_yaml, read_text};
pub use pack::{Dataset, FormulaText, Goal, Item, Kpi, Objective, Pack, SourceSpec};
