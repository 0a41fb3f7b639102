#![doc = "kpi-rules: a declarative KPI rules engine."]
#![forbid(unsafe_code)]

pub mod diagnostic;
pub mod engine;
pub mod spec;
pub mod syntax;
