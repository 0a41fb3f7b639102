//! AST → canonical text, with the fewest parentheses that keep the same tree.

use super::ast::{BinOp, Expr, ExprKind, Ident, UnaryOp};
use super::lexer::KEYWORDS;
use super::literal::{format_date, format_number, quote};
use super::parser::Target;

/// Binding strength, loosest first; a child printed inside a parent of equal or greater
/// strength may need parentheses.
mod prec {
    pub const OR: u8 = 1;
    pub const AND: u8 = 2;
    pub const NOT: u8 = 3;
    pub const CMP: u8 = 4;
    pub const ADD: u8 = 5;
    pub const MUL: u8 = 6;
    pub const NEG: u8 = 7;
    pub const ATOM: u8 = 8;
}

fn binop_prec(op: BinOp) -> u8 {
    match op {
        BinOp::Or => prec::OR,
        BinOp::And => prec::AND,
        BinOp::Add | BinOp::Sub => prec::ADD,
        BinOp::Mul | BinOp::Div => prec::MUL,
        _ => prec::CMP,
    }
}

fn prec_of(e: &Expr) -> u8 {
    match &e.kind {
        ExprKind::Binary(op, _, _) => binop_prec(*op),
        ExprKind::Unary(UnaryOp::Neg, _) => prec::NEG,
        ExprKind::Unary(UnaryOp::Not, _) => prec::NOT,
        ExprKind::In { .. } | ExprKind::Between { .. } => prec::CMP,
        _ => prec::ATOM,
    }
}

/// Prints an expression so that parsing it back gives the same AST (spans aside).
pub fn print(e: &Expr) -> String {
    let mut out = String::new();
    write(e, &mut out);
    out
}

/// Prints a target: `>= 4.5%`, `between 3% and 5%`.
pub fn print_target(t: &Target) -> String {
    match t {
        Target::Compare { op, value } => format!("{} {}", op.as_str(), child(value, prec::ADD)),
        Target::Between { low, high } => {
            format!("between {} and {}", child(low, prec::ADD), child(high, prec::ADD))
        }
    }
}

/// Prints `e`, in parentheses when it binds more loosely than `min`.
fn child(e: &Expr, min: u8) -> String {
    let mut out = String::new();
    write_child(e, min, &mut out);
    out
}

fn write_child(e: &Expr, min: u8, out: &mut String) {
    if prec_of(e) < min {
        out.push('(');
        write(e, out);
        out.push(')');
    } else {
        write(e, out);
    }
}

fn write(e: &Expr, out: &mut String) {
    match &e.kind {
        ExprKind::Number(v) => write_number(*v, "", out),
        ExprKind::Percent(v) => write_number(*v, "%", out),
        ExprKind::Str(s) => out.push_str(&quote(s)),
        ExprKind::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        ExprKind::Null => out.push_str("null"),
        ExprKind::Date(d) => {
            out.push_str("date(");
            out.push_str(&quote(&format_date(*d)));
            out.push(')');
        }
        ExprKind::Name(parts) => {
            for (i, part) in parts.iter().enumerate() {
                if i > 0 {
                    out.push('.');
                }
                write_ident(part, out);
            }
        }
        ExprKind::Unary(UnaryOp::Neg, x) => {
            out.push('-');
            write_child(x, prec::NEG, out);
        }
        ExprKind::Unary(UnaryOp::Not, x) => {
            out.push_str("not ");
            write_child(x, prec::NOT, out);
        }
        ExprKind::Binary(op, a, b) => {
            let p = binop_prec(*op);
            // Left-associative: the left child may share the level, the right may not.
            // Comparisons do not chain, so neither side may be a bare comparison.
            let left_min = if p == prec::CMP { p + 1 } else { p };
            write_child(a, left_min, out);
            out.push(' ');
            out.push_str(op.as_str());
            out.push(' ');
            write_child(b, p + 1, out);
        }
        ExprKind::In { expr, list, negated } => {
            write_child(expr, prec::CMP + 1, out);
            out.push_str(if *negated { " not in (" } else { " in (" });
            for (i, item) in list.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                write(item, out);
            }
            out.push(')');
        }
        ExprKind::Between { expr, low, high, negated } => {
            write_child(expr, prec::CMP + 1, out);
            out.push_str(if *negated { " not between " } else { " between " });
            write_child(low, prec::ADD, out);
            out.push_str(" and ");
            write_child(high, prec::ADD, out);
        }
        ExprKind::Call { func, args, filter } => {
            write_ident(func, out);
            out.push('(');
            for (i, arg) in args.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                write(arg, out);
            }
            if let Some(f) = filter {
                if !args.is_empty() {
                    out.push(' ');
                }
                out.push_str("where ");
                write(f, out);
            }
            out.push(')');
        }
    }
}

fn write_number(v: f64, suffix: &str, out: &mut String) {
    if v.is_sign_negative() && v != 0.0 {
        out.push_str("(-");
        out.push_str(&format_number(-v));
        out.push_str(suffix);
        out.push(')');
    } else {
        out.push_str(&format_number(v.abs()));
        out.push_str(suffix);
    }
}

/// Whether `name` can be written without backticks.
pub(crate) fn is_plain(name: &str) -> bool {
    let mut chars = name.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
        && !KEYWORDS.contains(&name)
}

fn write_ident(id: &Ident, out: &mut String) {
    if is_plain(&id.name) {
        out.push_str(&id.name);
    } else {
        out.push('`');
        out.push_str(&id.name);
        out.push('`');
    }
}
