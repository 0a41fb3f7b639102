//! Formula text → owned AST, with pest and a Pratt parser. The only module that sees pest
//! pairs.
//!
//! Stages of [`parse_formula`]: a length check, a pre-scan ([`super::lexer`]) that bounds nesting
//! and catches lexical mistakes, the pest grammar (`grammar/kpi.pest`), then a fold of pest's
//! flat operator runs into [`Expr`] trees by a `PrattParser`, which also rejects chained
//! comparisons and trees deeper than [`MAX_AST_DEPTH`].

use std::num::NonZeroUsize;
use std::sync::{LazyLock, Once};

use pest::iterators::{Pair, Pairs};
use pest::pratt_parser::{Assoc, Op, PrattParser};
use pest::Parser;

use super::ast::{BinOp, Expr, ExprKind, Ident, Span, UnaryOp};
use super::error::SyntaxError;
use super::lexer::{self, Scan};
use super::{explain, literal, MAX_AST_DEPTH, MAX_FORMULA_LEN};
use crate::diagnostic::Code;

#[derive(pest_derive::Parser)]
#[grammar = "../grammar/kpi.pest"]
pub(crate) struct KpiParser;

/// A goal's target: `>= 4.5%`, `< 1.2`, `between A and B`.
#[derive(Debug, Clone, PartialEq)]
pub enum Target {
    /// `OP VALUE`.
    Compare {
        /// A comparison operator.
        op: BinOp,
        /// The value (an arithmetic expression, which may use `baseline`).
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

/// pest's budget of rule calls per parse, against pathological backtracking.
const PEST_CALL_LIMIT: usize = 5_000_000;

static CALL_LIMIT: Once = Once::new();

/// Operator precedence, loosest first.
static PRATT: LazyLock<PrattParser<Rule>> = LazyLock::new(|| {
    PrattParser::new()
        .op(Op::infix(Rule::op_or, Assoc::Left))
        .op(Op::infix(Rule::op_and, Assoc::Left))
        .op(Op::prefix(Rule::op_not))
        .op(Op::infix(Rule::op_eq, Assoc::Left)
            | Op::infix(Rule::op_ne, Assoc::Left)
            | Op::infix(Rule::op_lt, Assoc::Left)
            | Op::infix(Rule::op_le, Assoc::Left)
            | Op::infix(Rule::op_gt, Assoc::Left)
            | Op::infix(Rule::op_ge, Assoc::Left)
            | Op::postfix(Rule::in_op)
            | Op::postfix(Rule::between_op))
        .op(Op::infix(Rule::op_add, Assoc::Left) | Op::infix(Rule::op_sub, Assoc::Left))
        .op(Op::infix(Rule::op_mul, Assoc::Left) | Op::infix(Rule::op_div, Assoc::Left))
        .op(Op::prefix(Rule::neg))
});

/// Parses a formula.
pub fn parse_formula(text: &str) -> Result<Expr, SyntaxError> {
    let scan = prepare(text)?;
    let pair = run(Rule::formula, text, &scan)?;
    let span = span_of(&pair);
    let mut inner = pair.into_inner();
    let expr = next(&mut inner, span)?;
    Ok(build(expr)?.expr)
}

/// Parses a goal target: `>= 4.5%`, `> 1.2 * baseline`, `between 3% and 5%`. Values are
/// arithmetic expressions; surrounding whitespace is allowed.
pub fn parse_target(text: &str) -> Result<Target, SyntaxError> {
    let scan = prepare(text)?;
    let pair = run(Rule::target, text, &scan)?;
    let span = span_of(&pair);
    let mut inner = pair.into_inner();
    let body = next(&mut inner, span)?;
    let span = span_of(&body);
    let rule = body.as_rule();
    let mut parts = body.into_inner();
    match rule {
        Rule::target_compare => {
            let op = binop(next(&mut parts, span)?.as_rule()).ok_or_else(|| internal(span))?;
            let value = build(next(&mut parts, span)?)?.expr;
            Ok(Target::Compare { op, value })
        }
        Rule::target_between => {
            let _between = next(&mut parts, span)?;
            let low = build(next(&mut parts, span)?)?.expr;
            let _and = next(&mut parts, span)?;
            let high = build(next(&mut parts, span)?)?.expr;
            Ok(Target::Between { low, high })
        }
        _ => Err(internal(span)),
    }
}

/// Checks the limits and pre-scans the text.
fn prepare(text: &str) -> Result<Scan, SyntaxError> {
    if text.len() > MAX_FORMULA_LEN {
        return Err(SyntaxError::new(
            Code::FormulaTooLong,
            Span::new(0, 0),
            format!("the formula is {} bytes long; the limit is {MAX_FORMULA_LEN}", text.len()),
        )
        .with_help("split it into smaller KPIs that refer to each other"));
    }
    lexer::scan(text)
}

/// Runs the pest grammar and returns the top pair.
fn run<'i>(rule: Rule, text: &'i str, scan: &Scan) -> Result<Pair<'i, Rule>, SyntaxError> {
    CALL_LIMIT.call_once(|| pest::set_call_limit(NonZeroUsize::new(PEST_CALL_LIMIT)));
    match KpiParser::parse(rule, text) {
        Ok(mut pairs) => pairs.next().ok_or_else(|| internal(Span::new(0, text.len()))),
        Err(e) => Err(explain::explain(&e, text, scan, rule == Rule::target)),
    }
}

/// A sub-tree under construction.
struct Node {
    expr: Expr,
    /// Height of the tree (a leaf is 1).
    depth: usize,
    /// A comparison, `in` or `between` not in parentheses: another comparison may not follow.
    bare_cmp: bool,
}

impl Node {
    fn leaf(kind: ExprKind, span: Span) -> Node {
        Node { expr: Expr::new(kind, span), depth: 1, bare_cmp: false }
    }

    /// A node over children of the given depths, refusing trees deeper than [`MAX_AST_DEPTH`].
    fn over(kind: ExprKind, span: Span, child_depth: usize, bare_cmp: bool) -> Result<Node, SyntaxError> {
        let depth = child_depth + 1;
        if depth > MAX_AST_DEPTH {
            return Err(SyntaxError::new(
                Code::NestingTooDeep,
                span,
                format!("the formula is too deeply nested (more than {MAX_AST_DEPTH} levels)"),
            )
            .with_help("split it into smaller KPIs that refer to each other"));
        }
        Ok(Node { expr: Expr::new(kind, span), depth, bare_cmp })
    }
}

fn span_of(pair: &Pair<'_, Rule>) -> Span {
    let s = pair.as_span();
    Span::new(s.start(), s.end())
}

fn join(a: Span, b: Span) -> Span {
    Span { start: a.start.min(b.start), end: a.end.max(b.end) }
}

/// An error for pair shapes the grammar rules out; reaching it is a bug, not bad input.
fn internal(span: Span) -> SyntaxError {
    SyntaxError::new(Code::FormulaSyntax, span, "internal error: unexpected formula structure")
        .with_help("please report this formula to the kpi-rules maintainers")
}

fn next<'i>(pairs: &mut Pairs<'i, Rule>, span: Span) -> Result<Pair<'i, Rule>, SyntaxError> {
    pairs.next().ok_or_else(|| internal(span))
}

fn binop(rule: Rule) -> Option<BinOp> {
    Some(match rule {
        Rule::op_or => BinOp::Or,
        Rule::op_and => BinOp::And,
        Rule::op_eq => BinOp::Eq,
        Rule::op_ne => BinOp::Ne,
        Rule::op_lt => BinOp::Lt,
        Rule::op_le => BinOp::Le,
        Rule::op_gt => BinOp::Gt,
        Rule::op_ge => BinOp::Ge,
        Rule::op_add => BinOp::Add,
        Rule::op_sub => BinOp::Sub,
        Rule::op_mul => BinOp::Mul,
        Rule::op_div => BinOp::Div,
        _ => return None,
    })
}

/// Folds an `expr` or `bound` pair (a flat run of operands and operators) into a tree.
fn build(pair: Pair<'_, Rule>) -> Result<Node, SyntaxError> {
    PRATT
        .map_primary(primary)
        .map_prefix(|op, rhs| {
            let rhs = rhs?;
            let uop = if op.as_rule() == Rule::neg { UnaryOp::Neg } else { UnaryOp::Not };
            let span = join(span_of(&op), rhs.expr.span);
            Node::over(ExprKind::Unary(uop, Box::new(rhs.expr)), span, rhs.depth, false)
        })
        .map_infix(|lhs, op, rhs| {
            let lhs = lhs?;
            let rhs = rhs?;
            let op_span = span_of(&op);
            let bop = binop(op.as_rule()).ok_or_else(|| internal(op_span))?;
            if bop.is_comparison() && lhs.bare_cmp {
                return Err(chained(op_span, &lhs.expr, op.as_str(), &rhs.expr));
            }
            let span = join(lhs.expr.span, rhs.expr.span);
            let depth = lhs.depth.max(rhs.depth);
            let kind = ExprKind::Binary(bop, Box::new(lhs.expr), Box::new(rhs.expr));
            // Too deep: point at the operator that went over, not at the whole chain.
            Node::over(kind, span, depth, bop.is_comparison()).map_err(|e| SyntaxError { span: op_span, ..e })
        })
        .map_postfix(|lhs, op| {
            let lhs = lhs?;
            let op_span = span_of(&op);
            if lhs.bare_cmp {
                let word = if op.as_rule() == Rule::in_op { "in" } else { "between" };
                return Err(chained_word(op_span, word));
            }
            let span = join(lhs.expr.span, op_span);
            let rule = op.as_rule();
            let mut parts = op.into_inner().peekable();
            let negated = parts.next_if(|p| p.as_rule() == Rule::kw_not).is_some();
            let _keyword = parts.next();
            let mut depth = lhs.depth;
            let kind = if rule == Rule::in_op {
                let list_pair = parts.next().ok_or_else(|| internal(op_span))?;
                let mut list = Vec::new();
                for item in list_pair.into_inner().filter(|p| p.as_rule() == Rule::expr) {
                    let item = build(item)?;
                    depth = depth.max(item.depth);
                    list.push(item.expr);
                }
                ExprKind::In { expr: Box::new(lhs.expr), list, negated }
            } else {
                let low = build(parts.next().ok_or_else(|| internal(op_span))?)?;
                let _and = parts.next();
                let high = build(parts.next().ok_or_else(|| internal(op_span))?)?;
                depth = depth.max(low.depth).max(high.depth);
                ExprKind::Between {
                    expr: Box::new(lhs.expr),
                    low: Box::new(low.expr),
                    high: Box::new(high.expr),
                    negated,
                }
            };
            Node::over(kind, span, depth, true).map_err(|e| SyntaxError { span: op_span, ..e })
        })
        .parse(pair.into_inner())
}

/// "comparisons cannot be chained", with the rewrite spelled out when the parts are short.
fn chained(op_span: Span, lhs: &Expr, op: &str, rhs: &Expr) -> SyntaxError {
    let generic = SyntaxError::new(
        Code::FormulaSyntax,
        op_span,
        "comparisons cannot be chained: write `a < b and b < c`",
    );
    let ExprKind::Binary(first, a, b) = &lhs.kind else {
        return generic;
    };
    let short = |e: &Expr| {
        let s = super::printer::print(e);
        (s.len() <= 40).then_some(s)
    };
    match (short(a), short(b), short(rhs)) {
        (Some(a), Some(b), Some(c)) => {
            generic.with_help(format!("write `{a} {} {b} and {b} {op} {c}`", first.as_str()))
        }
        _ => generic,
    }
}

fn chained_word(op_span: Span, word: &str) -> SyntaxError {
    SyntaxError::new(Code::FormulaSyntax, op_span, "comparisons cannot be chained: write `a < b and b < c`")
        .with_help(format!(
            "put the comparison before `{word}` in parentheses, or join the two tests with `and`"
        ))
}

/// Builds one operand.
fn primary(pair: Pair<'_, Rule>) -> Result<Node, SyntaxError> {
    let span = span_of(&pair);
    let at = pair.as_span().start();
    match pair.as_rule() {
        Rule::number => Ok(Node::leaf(ExprKind::Number(literal::number(pair.as_str(), at)?), span)),
        Rule::percent => {
            let text = pair.as_str();
            let digits = text.strip_suffix('%').unwrap_or(text);
            Ok(Node::leaf(ExprKind::Percent(literal::number(digits, at)?), span))
        }
        Rule::string => Ok(Node::leaf(ExprKind::Str(literal::string(pair.as_str(), at)?), span)),
        Rule::kw_true => Ok(Node::leaf(ExprKind::Bool(true), span)),
        Rule::kw_false => Ok(Node::leaf(ExprKind::Bool(false), span)),
        Rule::kw_null => Ok(Node::leaf(ExprKind::Null, span)),
        Rule::name => {
            let parts = pair.into_inner().map(ident).collect();
            Ok(Node::leaf(ExprKind::Name(parts), span))
        }
        Rule::paren => {
            let expr = pair.into_inner().find(|p| p.as_rule() == Rule::expr).ok_or_else(|| internal(span))?;
            let mut node = build(expr)?;
            node.expr.span = span;
            node.bare_cmp = false;
            Ok(node)
        }
        Rule::call => call(pair, span),
        _ => Err(internal(span)),
    }
}

fn ident(pair: Pair<'_, Rule>) -> Ident {
    let span = span_of(&pair);
    let text = pair.as_str();
    let name = if pair.as_rule() == Rule::quoted_ident {
        text.strip_prefix('`').and_then(|t| t.strip_suffix('`')).unwrap_or(text)
    } else {
        text
    };
    Ident { name: name.to_owned(), span }
}

/// Builds a call; `date("YYYY-MM-DD")` becomes a date literal.
fn call(pair: Pair<'_, Rule>, span: Span) -> Result<Node, SyntaxError> {
    let mut func = None;
    let mut args = Vec::new();
    let mut filter = None;
    let mut depth = 0;
    for part in pair.into_inner() {
        match part.as_rule() {
            Rule::call_name => func = Some(ident(part)),
            Rule::call_args => {
                for arg in part.into_inner().filter(|p| p.as_rule() == Rule::expr) {
                    let arg = build(arg)?;
                    depth = depth.max(arg.depth);
                    args.push(arg.expr);
                }
            }
            Rule::where_clause => {
                let cond =
                    part.into_inner().find(|p| p.as_rule() == Rule::expr).ok_or_else(|| internal(span))?;
                let cond = build(cond)?;
                depth = depth.max(cond.depth);
                filter = Some(Box::new(cond.expr));
            }
            _ => {}
        }
    }
    let func = func.ok_or_else(|| internal(span))?;
    if func.name == "date" {
        return match (args.as_slice(), &filter) {
            ([Expr { kind: ExprKind::Str(s), span: s_span }], None) => match literal::date(s) {
                Some(days) => Ok(Node::leaf(ExprKind::Date(days), span)),
                None => {
                    Err(SyntaxError::new(Code::InvalidLiteral, *s_span, format!("`{s}` is not a valid date"))
                        .with_help(
                            "write a calendar date as `date(\"YYYY-MM-DD\")`, e.g. `date(\"2026-10-01\")`",
                        ))
                }
            },
            _ => Err(SyntaxError::new(Code::FormulaSyntax, span, "`date(...)` takes one date in quotes")
                .with_help("write `date(\"2026-10-01\")`")),
        };
    }
    Node::over(ExprKind::Call { func, args, filter }, span, depth, false)
}
