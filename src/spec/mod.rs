//! YAML files → the typed spec of a pack, with spans.

pub mod model;
