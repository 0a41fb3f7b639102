//! Turns pest's failures into messages a marketer understands. Raw rule names never leak:
//! every rule pest may expect is grouped into plain words ("a value", "an operator", "`)`").

use pest::error::{Error, ErrorVariant, InputLocation};

use super::ast::Span;
use super::error::SyntaxError;
use super::lexer::{Scan, Tok, Token, KEYWORDS};
use super::parser::Rule;
use crate::diagnostic::Code;

/// What the parser would have accepted at the failure point, in groups.
#[derive(Default)]
struct Expected {
    value: bool,
    operator: bool,
    comparison: bool,
    between: bool,
    rparen: bool,
    lparen: bool,
    comma: bool,
    where_: bool,
    between_and: bool,
    in_or_between: bool,
    end: bool,
}

impl Expected {
    fn from(rules: &[Rule]) -> Expected {
        let mut e = Expected::default();
        for r in rules {
            match r {
                Rule::formula
                | Rule::expr
                | Rule::bound
                | Rule::paren
                | Rule::call
                | Rule::call_name
                | Rule::call_args
                | Rule::name
                | Rule::plain_ident
                | Rule::quoted_ident
                | Rule::number
                | Rule::percent
                | Rule::string
                | Rule::kw_true
                | Rule::kw_false
                | Rule::kw_null
                | Rule::neg
                | Rule::op_not => e.value = true,
                Rule::op_or | Rule::op_and | Rule::op_add | Rule::op_sub | Rule::op_mul | Rule::op_div => {
                    e.operator = true
                }
                Rule::op_eq | Rule::op_ne | Rule::op_lt | Rule::op_le | Rule::op_gt | Rule::op_ge => {
                    e.comparison = true
                }
                Rule::in_op | Rule::between_op => e.operator = true,
                Rule::kw_in => e.in_or_between = true,
                Rule::kw_between | Rule::target_between => e.between = true,
                Rule::target_compare => e.comparison = true,
                Rule::target => {
                    e.comparison = true;
                    e.between = true;
                }
                Rule::kw_not => e.operator = true,
                Rule::rparen => e.rparen = true,
                Rule::lparen | Rule::in_list => e.lparen = true,
                Rule::comma => e.comma = true,
                Rule::where_clause | Rule::kw_where => e.where_ = true,
                Rule::between_and => e.between_and = true,
                Rule::EOI => e.end = true,
                _ => {}
            }
        }
        e
    }

    /// "a value", "an operator, `)` or the end of the formula", ...
    fn words(&self, target: bool) -> String {
        let mut w: Vec<&str> = Vec::new();
        if self.value {
            w.push("a value (a number, a name, a string or `(`)");
        } else if self.lparen && !self.operator {
            w.push("`(`");
        }
        if target && self.comparison && !self.operator {
            w.push("a comparison such as `>=`");
        } else if self.operator || self.comparison {
            w.push("an operator");
        }
        if self.in_or_between {
            w.push("`in` or `between`");
        } else if self.between && target {
            w.push("`between`");
        }
        if self.between_and {
            w.push("the `and` of `between`");
        }
        if self.comma {
            w.push("`,`");
        }
        if self.where_ {
            w.push("`where`");
        }
        if self.rparen {
            w.push("`)`");
        }
        if self.end {
            w.push(if target { "the end of the target" } else { "the end of the formula" });
        }
        match w.len() {
            0 => "something else".to_owned(),
            1 => w[0].to_owned(),
            n => format!("{} or {}", w[..n - 1].join(", "), w[n - 1]),
        }
    }
}

fn describe(t: &Token, src: &str) -> String {
    let text = t.text(src);
    let shown: String = text.chars().take(30).collect();
    let shown = if shown.len() < text.len() { format!("{shown}…") } else { shown };
    match t.kind {
        Tok::Keyword => format!("the keyword `{shown}`"),
        Tok::Str => format!("the string {shown}"),
        _ => format!("`{shown}`"),
    }
}

fn fail(span: Span, message: impl Into<String>) -> SyntaxError {
    SyntaxError::new(Code::FormulaSyntax, span, message)
}

/// Explains a pest failure on `src`, using the pre-scan's tokens.
pub(crate) fn explain(err: &Error<Rule>, src: &str, scan: &Scan, target: bool) -> SyntaxError {
    let pos = match err.location {
        InputLocation::Pos(p) => p,
        InputLocation::Span((s, _)) => s,
    };
    let positives = match &err.variant {
        ErrorVariant::ParsingError { positives, .. } => positives.as_slice(),
        ErrorVariant::CustomError { .. } => {
            return fail(Span::new(0, src.len()), "the formula is too complex to parse")
                .with_help("split it into smaller KPIs that refer to each other");
        }
    };
    let expected = Expected::from(positives);
    let found = scan.tokens.iter().find(|t| t.end > pos);
    let prev = scan.tokens.iter().rev().find(|t| t.end <= pos && found.is_none_or(|f| t.start < f.start));
    let words = expected.words(target);

    let Some(found) = found else {
        // The text ends too early.
        let end = Span::new(src.len(), src.len());
        if expected.value {
            if let Some(p) =
                prev.filter(|p| matches!(p.kind, Tok::Op | Tok::Keyword | Tok::Comma | Tok::LParen))
            {
                let what = if p.kind == Tok::Keyword && p.text(src) == "where" {
                    "a condition"
                } else {
                    "an operand"
                };
                return fail(p.span(), format!("expected {what} after `{}`", p.text(src)))
                    .with_help("complete the formula, or remove the dangling operator");
            }
        }
        if let Some(&open) = scan.unclosed.last() {
            return fail(Span::new(open, open + 1), "unclosed `(`").with_help("add a `)` to close it");
        }
        if target && src.trim().is_empty() {
            return fail(end, "the target is empty")
                .with_help("write a target such as `>= 4.5%` or `between 3% and 5%`");
        }
        if src.trim().is_empty() {
            return fail(end, "the formula is empty").with_help("write an expression such as `sum(likes)`");
        }
        return fail(end, format!("the formula ends too early: expected {words}"));
    };

    let span = found.span();
    let text = found.text(src);
    let after = prev.map(|p| format!(" after `{}`", p.text(src))).unwrap_or_default();

    if target && prev.is_none() && (expected.comparison || expected.between) {
        return fail(
            span,
            format!("a target starts with a comparison or `between`, found {}", describe(found, src)),
        )
        .with_help("write a target such as `>= 4.5%`, `< 1.2` or `between 3% and 5%`");
    }
    if found.kind == Tok::Percent {
        return fail(span, "`%` must directly follow a number, as in `4.5%`")
            .with_help("there is no remainder operator; remove the space before `%`");
    }
    if found.kind == Tok::Keyword && text == "where" && !expected.where_ {
        return fail(span, "`where` is only allowed as the last part of an aggregate's parentheses")
            .with_help("filter inside the aggregate: `sum(likes where channel == \"vk\")`");
    }
    if expected.value && !expected.operator && !expected.comparison {
        // An operand was needed here.
        if found.kind == Tok::Keyword && !matches!(text, "true" | "false" | "null" | "not") {
            return fail(span, format!("expected a value{after}, found the keyword `{text}`"))
                .with_help(format!("to use `{text}` as a name, write it in backticks: `` `{text}` ``"));
        }
        if let Some(p) =
            prev.filter(|p| p.kind == Tok::Op || (p.kind == Tok::Keyword && KEYWORDS.contains(&p.text(src))))
        {
            let what = if p.text(src) == "where" { "a condition" } else { "an operand" };
            return fail(
                span,
                format!("expected {what} after `{}`, found {}", p.text(src), describe(found, src)),
            );
        }
        if prev.is_none() {
            return fail(span, format!("a formula cannot start with {}", describe(found, src)))
                .with_help("start with a value: a number, a name, a string or `(`");
        }
        return fail(span, format!("expected {words}{after}, found {}", describe(found, src)));
    }
    if expected.in_or_between {
        return fail(span, format!("expected `in` or `between` after `not`, found {}", describe(found, src)))
            .with_help(
                "write `x not in (...)` or `x not between a and b`; to negate a test, write `not (a == b)`",
            );
    }
    if expected.lparen && !expected.value && prev.is_some_and(|p| p.text(src) == "in") {
        return fail(span, format!("`in` needs a list in parentheses, found {}", describe(found, src)))
            .with_help("write `channel in (\"vk\", \"instagram\")`");
    }
    if found.kind == Tok::RParen && !expected.rparen {
        return fail(span, format!("expected {words}{after}, found `)`"));
    }
    if matches!(found.kind, Tok::Number | Tok::Str | Tok::Ident | Tok::Quoted | Tok::LParen)
        || (found.kind == Tok::Keyword && matches!(text, "true" | "false" | "null"))
    {
        let lower = text.to_ascii_lowercase();
        let mut e = fail(span, format!("expected an operator before {}", describe(found, src)));
        if found.kind == Tok::Ident && KEYWORDS.contains(&lower.as_str()) {
            e = e.with_help(format!("keywords are lowercase: write `{lower}`"));
        } else if expected.between_and {
            e = e.with_help("write `x between low and high`");
        } else if expected.rparen || expected.comma {
            e = e.with_help("separate arguments with `,`, or close the parentheses with `)`");
        } else {
            e = e.with_help("join values with an operator such as `+`, `*`, `==` or `and`");
        }
        return e;
    }
    if found.kind == Tok::Dot {
        return fail(span, "a `.` must join two names, as in `posts.likes`");
    }
    let mut e = fail(span, format!("expected {words}{after}, found {}", describe(found, src)));
    if expected.between_and {
        e = e.with_help("write `x between low and high`");
    }
    e
}
