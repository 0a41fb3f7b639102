//! Helpers shared by integration tests (each test binary uses some of them).

#[allow(dead_code)]
pub mod backends;
#[allow(dead_code)]
pub mod sql_parity;
