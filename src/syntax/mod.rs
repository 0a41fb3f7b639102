//! Formula text → AST. pest stays inside this module: only `parser` sees pest pairs.
//!
//! - Reserved words (case-sensitive, never names unless in backticks): `and or not in between
//!   where true false null`. `date` is not reserved: `date("2026-10-01")` is a date literal, a
//!   bare `date` is a name (a time column is often called `date`), and `date(...)` with anything
//!   but one string literal is a syntax error.
//! - Any other plain identifier followed by `(` is a [`ast::ExprKind::Call`]; which functions
//!   exist is the checker's business. Number literals are never negative: `-5` is `Neg(5)`.
//! - Limits, checked in this order: [`MAX_FORMULA_LEN`] bytes, then nesting of parentheses and
//!   prefix operators up to [`MAX_DEPTH`] (before pest runs), then [`MAX_AST_DEPTH`] for the
//!   built tree, so that recursive later stages are safe.

pub mod ast;
mod error;
mod explain;
mod lexer;
mod literal;
mod parser;
mod printer;

pub use error::SyntaxError;
pub use parser::{parse_formula, parse_target, Target};
pub use printer::{print, print_target};

/// Longest formula accepted, in bytes.
pub const MAX_FORMULA_LEN: usize = 10_000;
/// Deepest nesting of parentheses and prefix operators accepted (checked before parsing).
pub const MAX_DEPTH: usize = 200;
/// Deepest AST accepted (a chain `a + a + ...` is a left-deep tree): later recursive stages
/// can rely on it.
pub const MAX_AST_DEPTH: usize = 2_000;
