#![doc = include_str!("../ARCHITECTURE.md")]
#![forbid(unsafe_code)]
// A `Diagnostic` is large, but it is only built on the cold path (an error stops the stage).
#![allow(clippy::result_large_err)]

pub mod calendar;
pub mod check;
pub mod cli;
pub mod db;
pub mod diagnostic;
pub mod engine;
pub mod eval;
pub mod pipeline;
pub mod plan;
pub mod report;
pub mod spec;
pub mod sql;
pub mod syntax;
pub mod testing;
