//! Helpers shared by integration tests.

pub mod sql_parity;
