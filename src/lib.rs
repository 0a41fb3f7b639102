#![doc = include_str!("../ARCHITECTURE.md")]
#![forbid(unsafe_code)]

pub mod calendar;
pub mod check;
pub mod cli;
pub mod diagnostic;
pub mod engine;
pub mod eval;
pub mod pipeline;
pub mod plan;
pub mod report;
pub mod spec;
pub mod syntax;
