//! Formula text → AST. pest stays inside this module: only [`parser`] sees pest pairs.

pub mod ast;
mod parser;
mod printer;

pub use parser::{parse_formula, parse_target, SyntaxError, Target, MAX_DEPTH, MAX_FORMULA_LEN};
pub use printer::{print, print_target};
