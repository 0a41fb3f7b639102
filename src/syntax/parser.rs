//! TEMPORARY interface stub: replaced by the pest parser (grammar/kpi.pest).
use super::ast::{BinOp, Expr, Span};
use crate::diagnostic::Code;

/// Longest formula accepted, in bytes.
pub const MAX_FORMULA_LEN: usize = 10_000;
/// Deepest nesting accepted.
pub const MAX_DEPTH: usize = 200;

/// A formula that cannot be parsed.
#[derive(Debug, Clone, PartialEq)]
pub struct SyntaxError {
    /// FormulaSyntax, InvalidLiteral, FormulaTooLong or NestingTooDeep.
    pub code: Code,
    /// Where, in the formula text.
    pub span: Span,
    /// What is wrong.
    pub message: String,
    /// What to do.
    pub help: Option<String>,
}

/// A goal's target: `>= 4.5%`, `< 1.2`, `between A and B`.
#[derive(Debug, Clone, PartialEq)]
pub enum Target {
    /// `OP VALUE`.
    Compare {
        /// A comparison operator.
        op: BinOp,
        /// The value (an expression, which may use `baseline`).
        value: Expr,
    },
    /// `between LOW and HIGH`, inclusive.
    Between {
        /// Lower bound.
        low: Expr,
        /// Upper bound.
        high: Expr,
    },
}

/// Parses a formula.
pub fn parse_formula(text: &str) -> Result<Expr, SyntaxError> {
    Err(SyntaxError {
        code: Code::FormulaSyntax,
        span: Span::new(0, text.len()),
        message: "parser not built".into(),
        help: None,
    })
}

/// Parses a goal target.
pub fn parse_target(text: &str) -> Result<Target, SyntaxError> {
    Err(SyntaxError {
        code: Code::FormulaSyntax,
        span: Span::new(0, text.len()),
        message: "parser not built".into(),
        help: None,
    })
}
