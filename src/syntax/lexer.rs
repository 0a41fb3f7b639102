//! A pre-scan of the formula text, run before pest.
//!
//! It does three jobs that the grammar cannot do well: it bounds nesting before pest's
//! recursive descent could overflow the stack, it catches lexical mistakes with a targeted
//! message (`=`, `&&`, `||`, `!`, unknown characters, unterminated strings), and it keeps the
//! tokens so that a pest failure can be explained in words ("expected an operand after `+`").
//! It does not have to agree with the grammar on everything: pest stays the judge of syntax.

use super::ast::Span;
use super::error::SyntaxError;
use super::MAX_DEPTH;
use crate::diagnostic::Code;

/// What a token is, as far as error messages care.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Tok {
    /// A number or percentage.
    Number,
    /// A quoted string.
    Str,
    /// A plain identifier that is not a keyword.
    Ident,
    /// A name in backticks.
    Quoted,
    /// A reserved word.
    Keyword,
    /// `+ - * / == != < <= > >=`.
    Op,
    /// `(`
    LParen,
    /// `)`
    RParen,
    /// `,`
    Comma,
    /// `.`
    Dot,
    /// `%` not glued to a number.
    Percent,
}

/// One token of the pre-scan.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Token {
    pub kind: Tok,
    pub start: usize,
    pub end: usize,
}

impl Token {
    pub fn text<'a>(&self, src: &'a str) -> &'a str {
        src.get(self.start..self.end).unwrap_or("")
    }

    pub fn span(&self) -> Span {
        Span::new(self.start, self.end)
    }

    /// Whether this token ends an operand (so that a following `-` is infix).
    fn ends_operand(&self, src: &str) -> bool {
        match self.kind {
            Tok::Number | Tok::Str | Tok::Ident | Tok::Quoted | Tok::RParen => true,
            Tok::Keyword => matches!(self.text(src), "true" | "false" | "null"),
            _ => false,
        }
    }
}

/// The reserved words.
pub(crate) const KEYWORDS: &[&str] = &["and", "or", "not", "in", "between", "where", "true", "false", "null"];

/// The result of a successful pre-scan.
pub(crate) struct Scan {
    pub tokens: Vec<Token>,
    /// Byte offsets of `(` that are never closed, outermost first.
    pub unclosed: Vec<usize>,
}

fn err(code: Code, start: usize, end: usize, message: String, help: Option<&str>) -> SyntaxError {
    SyntaxError { code, span: Span::new(start, end), message, help: help.map(str::to_owned) }
}

/// Scans `src`, failing on lexical mistakes and on nesting deeper than [`MAX_DEPTH`].
pub(crate) fn scan(src: &str) -> Result<Scan, SyntaxError> {
    let bytes = src.as_bytes();
    let mut tokens: Vec<Token> = Vec::new();
    // Nesting as the parser will recurse: each open `(` adds a level, and so does each prefix
    // operator in a run (`- - x`, `not not x`) until an operand ends the run.
    let mut opens: Vec<(usize, usize)> = Vec::new(); // (offset of `(`, depth outside it)
    let mut base = 0usize;
    let mut run = 0usize;
    let mut i = 0usize;
    while i < bytes.len() {
        let c = bytes[i];
        let start = i;
        let kind = match c {
            b' ' | b'\t' | b'\r' | b'\n' => {
                i += 1;
                continue;
            }
            b'0'..=b'9' => {
                i = scan_number(bytes, i);
                if bytes.get(i) == Some(&b'%') {
                    i += 1;
                }
                Tok::Number
            }
            b'.' if bytes.get(i + 1).is_some_and(u8::is_ascii_digit)
                && !tokens.last().is_some_and(|t| t.ends_operand(src) && t.end == i) =>
            {
                i = scan_number(bytes, i);
                if bytes.get(i) == Some(&b'%') {
                    i += 1;
                }
                Tok::Number
            }
            b'a'..=b'z' | b'A'..=b'Z' | b'_' => {
                while i < bytes.len() && (bytes[i].is_ascii_alphanumeric() || bytes[i] == b'_') {
                    i += 1;
                }
                if KEYWORDS.contains(&&src[start..i]) {
                    Tok::Keyword
                } else {
                    Tok::Ident
                }
            }
            b'"' | b'\'' => {
                i += 1;
                loop {
                    match bytes.get(i) {
                        None => {
                            return Err(err(
                                Code::FormulaSyntax,
                                start,
                                src.len(),
                                "unterminated string".into(),
                                Some(if c == b'"' {
                                    "close the string with `\"`"
                                } else {
                                    "close the string with `'`"
                                }),
                            ))
                        }
                        Some(b'\\') => i += 2,
                        Some(&b) if b == c => {
                            i += 1;
                            break;
                        }
                        Some(_) => i += 1,
                    }
                }
                Tok::Str
            }
            b'`' => {
                i += 1;
                while i < bytes.len() && !matches!(bytes[i], b'`' | b'\n' | b'\r') {
                    i += 1;
                }
                if bytes.get(i) != Some(&b'`') {
                    return Err(err(
                        Code::FormulaSyntax,
                        start,
                        i,
                        "unterminated name in backticks".into(),
                        Some("close the name with a backtick: `` `Post Reach` ``"),
                    ));
                }
                i += 1;
                Tok::Quoted
            }
            b'(' => {
                i += 1;
                opens.push((start, base));
                base += run + 1;
                run = 0;
                check_depth(base, start, i)?;
                tokens.push(Token { kind: Tok::LParen, start, end: i });
                continue;
            }
            b')' => {
                i += 1;
                match opens.pop() {
                    Some((_, outer)) => base = outer,
                    None => {
                        return Err(err(
                            Code::FormulaSyntax,
                            start,
                            i,
                            "unmatched `)`".into(),
                            Some("remove it, or add the `(` it should close"),
                        ))
                    }
                }
                run = 0;
                tokens.push(Token { kind: Tok::RParen, start, end: i });
                continue;
            }
            b',' => {
                i += 1;
                Tok::Comma
            }
            b'.' => {
                i += 1;
                Tok::Dot
            }
            b'%' => {
                i += 1;
                Tok::Percent
            }
            b'+' | b'*' | b'/' | b'-' => {
                i += 1;
                Tok::Op
            }
            b'=' => {
                let (msg, help, len) = match bytes.get(i + 1) {
                    Some(b'=') => {
                        i += 2;
                        tokens.push(Token { kind: Tok::Op, start, end: i });
                        run = 0;
                        continue;
                    }
                    Some(b'>') => ("`=>` is not an operator; did you mean `>=`?", "write `>=`", 2),
                    Some(b'<') => ("`=<` is not an operator; did you mean `<=`?", "write `<=`", 2),
                    _ => (
                        "`=` is not an operator; did you mean `==`?",
                        "compare with `==`, as in `channel == \"vk\"`",
                        1,
                    ),
                };
                return Err(err(Code::FormulaSyntax, start, start + len, msg.into(), Some(help)));
            }
            b'<' | b'>' | b'!' => {
                let next = bytes.get(i + 1).copied();
                if c == b'<' && next == Some(b'>') {
                    return Err(err(
                        Code::FormulaSyntax,
                        start,
                        start + 2,
                        "`<>` is not an operator; did you mean `!=`?".into(),
                        Some("write `!=` for \"not equal\""),
                    ));
                }
                if next == Some(b'=') {
                    i += 2;
                } else if c == b'!' {
                    return Err(err(
                        Code::FormulaSyntax,
                        start,
                        start + 1,
                        "`!` is not an operator; use `not`".into(),
                        Some("write `not x`, or `!=` for \"not equal\""),
                    ));
                } else {
                    i += 1;
                }
                Tok::Op
            }
            b'&' | b'|' => {
                let len = if bytes.get(i + 1) == Some(&c) { 2 } else { 1 };
                let (op, word) = if c == b'&' { (&src[i..i + len], "and") } else { (&src[i..i + len], "or") };
                return Err(err(
                    Code::FormulaSyntax,
                    start,
                    start + len,
                    format!("`{op}` is not an operator; use `{word}`"),
                    Some(if c == b'&' { "write `a and b`" } else { "write `a or b`" }),
                ));
            }
            _ => {
                let ch = src[i..].chars().next().unwrap_or('\u{fffd}');
                let end = i + ch.len_utf8();
                let help = if ch.is_alphabetic() {
                    Some("a name with characters other than a-z, 0-9 and `_` goes in backticks: `` `Post Reach` ``")
                } else if ch == '^' {
                    Some("there is no power operator; multiply instead")
                } else {
                    None
                };
                let shown = if ch.is_control() { format!("{:?}", ch) } else { format!("`{ch}`") };
                return Err(err(Code::FormulaSyntax, start, end, format!("unknown character {shown}"), help));
            }
        };
        let token = Token { kind, start, end: i };
        let prefix = match kind {
            Tok::Op => &src[start..i] == "-" && !tokens.last().is_some_and(|t| t.ends_operand(src)),
            Tok::Keyword => &src[start..i] == "not" && !tokens.last().is_some_and(|t| t.ends_operand(src)),
            _ => false,
        };
        if prefix {
            run += 1;
            check_depth(base + run, start, i)?;
        } else {
            run = 0;
        }
        tokens.push(token);
    }
    Ok(Scan { tokens, unclosed: opens.into_iter().map(|(at, _)| at).collect() })
}

fn check_depth(depth: usize, start: usize, end: usize) -> Result<(), SyntaxError> {
    if depth > MAX_DEPTH {
        return Err(err(
            Code::NestingTooDeep,
            start,
            end,
            format!("the formula nests deeper than {MAX_DEPTH} levels"),
            Some("split it into smaller KPIs that refer to each other"),
        ));
    }
    Ok(())
}

/// Skips a number starting at `i` (digits, `_`, `.`, an exponent).
fn scan_number(bytes: &[u8], mut i: usize) -> usize {
    while i < bytes.len() && (bytes[i].is_ascii_digit() || bytes[i] == b'_' || bytes[i] == b'.') {
        i += 1;
    }
    if i < bytes.len() && (bytes[i] == b'e' || bytes[i] == b'E') {
        let mut j = i + 1;
        if j < bytes.len() && (bytes[j] == b'+' || bytes[j] == b'-') {
            j += 1;
        }
        if j < bytes.len() && bytes[j].is_ascii_digit() {
            i = j;
            while i < bytes.len() && (bytes[i].is_ascii_digit() || bytes[i] == b'_') {
                i += 1;
            }
        }
    }
    i
}
