//! The error of the syntax stage.

use super::ast::Span;
use crate::diagnostic::Code;

/// A formula or target that cannot be parsed.
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

impl SyntaxError {
    /// A new error without help.
    pub(crate) fn new(code: Code, span: Span, message: impl Into<String>) -> SyntaxError {
        SyntaxError { code, span, message: message.into(), help: None }
    }

    /// Adds a help line.
    pub(crate) fn with_help(mut self, help: impl Into<String>) -> SyntaxError {
        self.help = Some(help.into());
        self
    }
}

impl std::fmt::Display for SyntaxError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.code, self.message)
    }
}

impl std::error::Error for SyntaxError {}
