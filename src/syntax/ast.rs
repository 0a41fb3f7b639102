//! The owned AST of a formula. Spans are byte ranges in the formula text; the caller maps
//! them into the YAML file (see [`crate::spec::FormulaText`]).

/// A byte range in a formula's text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Span {
    /// First byte.
    pub start: u32,
    /// One past the last byte.
    pub end: u32,
}

impl Span {
    /// A span from `start` to `end`.
    pub fn new(start: usize, end: usize) -> Span {
        Span { start: start as u32, end: end as u32 }
    }
}

/// An identifier with its span (`likes`, or `` `Post Reach` `` whose text is `Post Reach`).
#[derive(Debug, Clone, PartialEq)]
pub struct Ident {
    /// The name without backticks.
    pub name: String,
    /// Where it is written (backticks included).
    pub span: Span,
}

/// An expression with its span.
#[derive(Debug, Clone, PartialEq)]
pub struct Expr {
    /// What it is.
    pub kind: ExprKind,
    /// Where it is written.
    pub span: Span,
}

/// Binary operators, loosest first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum BinOp {
    /// `or`
    Or,
    /// `and`
    And,
    /// `==`
    Eq,
    /// `!=`
    Ne,
    /// `<`
    Lt,
    /// `<=`
    Le,
    /// `>`
    Gt,
    /// `>=`
    Ge,
    /// `+`
    Add,
    /// `-`
    Sub,
    /// `*`
    Mul,
    /// `/`
    Div,
}

impl BinOp {
    /// The operator as written.
    pub fn as_str(self) -> &'static str {
        match self {
            BinOp::Or => "or",
            BinOp::And => "and",
            BinOp::Eq => "==",
            BinOp::Ne => "!=",
            BinOp::Lt => "<",
            BinOp::Le => "<=",
            BinOp::Gt => ">",
            BinOp::Ge => ">=",
            BinOp::Add => "+",
            BinOp::Sub => "-",
            BinOp::Mul => "*",
            BinOp::Div => "/",
        }
    }

    /// Whether the operator compares (gives a boolean from two values).
    pub fn is_comparison(self) -> bool {
        matches!(self, BinOp::Eq | BinOp::Ne | BinOp::Lt | BinOp::Le | BinOp::Gt | BinOp::Ge)
    }
}

/// Unary operators.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum UnaryOp {
    /// `-x`
    Neg,
    /// `not x`
    Not,
}

/// The kinds of expression.
#[derive(Debug, Clone, PartialEq)]
pub enum ExprKind {
    /// `42`, `3.14`, `1e6`, `1_000_000` (underscores removed).
    Number(f64),
    /// `4.5%`: holds the number as written (4.5); its value is 0.045.
    Percent(f64),
    /// `"vk"` (escapes resolved).
    Str(String),
    /// `true` / `false`.
    Bool(bool),
    /// `null`.
    Null,
    /// `date("2026-10-01")`: days since 1970-01-01.
    Date(i32),
    /// A name, possibly qualified: `likes`, `posts.likes`, `core.revenue`. At least one part.
    Name(Vec<Ident>),
    /// `-x`, `not x`.
    Unary(UnaryOp, Box<Expr>),
    /// `a + b`, `a and b`, `a >= b` ...
    Binary(BinOp, Box<Expr>, Box<Expr>),
    /// `x in (a, b, ...)`; `negated` for `x not in (...)`.
    In {
        /// The value tested.
        expr: Box<Expr>,
        /// The candidates.
        list: Vec<Expr>,
        /// `not in`.
        negated: bool,
    },
    /// `x between a and b` (inclusive); `negated` for `not between`.
    Between {
        /// The value tested.
        expr: Box<Expr>,
        /// Lower bound.
        low: Box<Expr>,
        /// Upper bound.
        high: Box<Expr>,
        /// `not between`.
        negated: bool,
    },
    /// A call: aggregate, scalar or time function. `count()` has no args;
    /// `sum(likes where channel == "vk")` has a filter; `count(where likes > 0)` has
    /// a filter and no args.
    Call {
        /// The function name as written.
        func: Ident,
        /// Positional arguments.
        args: Vec<Expr>,
        /// The `where` filter of an aggregate.
        filter: Option<Box<Expr>>,
    },
}

impl Expr {
    /// A new expression.
    pub fn new(kind: ExprKind, span: Span) -> Expr {
        Expr { kind, span }
    }

    /// Direct sub-expressions, in source order.
    pub fn children(&self) -> Vec<&Expr> {
        match &self.kind {
            ExprKind::Number(_)
            | ExprKind::Percent(_)
            | ExprKind::Str(_)
            | ExprKind::Bool(_)
            | ExprKind::Null
            | ExprKind::Date(_)
            | ExprKind::Name(_) => vec![],
            ExprKind::Unary(_, e) => vec![e],
            ExprKind::Binary(_, a, b) => vec![a, b],
            ExprKind::In { expr, list, .. } => {
                let mut v = vec![expr.as_ref()];
                v.extend(list.iter());
                v
            }
            ExprKind::Between { expr, low, high, .. } => vec![expr, low, high],
            ExprKind::Call { args, filter, .. } => {
                let mut v: Vec<&Expr> = args.iter().collect();
                if let Some(f) = filter {
                    v.push(f);
                }
                v
            }
        }
    }
}

impl Ident {
    /// A copy with an empty span.
    pub fn without_span(&self) -> Ident {
        Ident { name: self.name.clone(), span: Span::default() }
    }
}

/// A copy of `e` with every span emptied, to compare trees regardless of where they were
/// written (`strip_spans(&parse(print(e))) == strip_spans(e)`).
pub fn strip_spans(e: &Expr) -> Expr {
    let b = |x: &Expr| Box::new(strip_spans(x));
    let kind = match &e.kind {
        ExprKind::Name(parts) => ExprKind::Name(parts.iter().map(Ident::without_span).collect()),
        ExprKind::Unary(op, x) => ExprKind::Unary(*op, b(x)),
        ExprKind::Binary(op, x, y) => ExprKind::Binary(*op, b(x), b(y)),
        ExprKind::In { expr, list, negated } => {
            ExprKind::In { expr: b(expr), list: list.iter().map(strip_spans).collect(), negated: *negated }
        }
        ExprKind::Between { expr, low, high, negated } => {
            ExprKind::Between { expr: b(expr), low: b(low), high: b(high), negated: *negated }
        }
        ExprKind::Call { func, args, filter } => ExprKind::Call {
            func: func.without_span(),
            args: args.iter().map(strip_spans).collect(),
            filter: filter.as_deref().map(|f| Box::new(strip_spans(f))),
        },
        leaf => leaf.clone(),
    };
    Expr::new(kind, Span::default())
}
