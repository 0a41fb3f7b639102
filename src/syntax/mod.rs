//! Formula text → AST. pest stays inside this module: only `parser` sees pest pairs.

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
