//! Lowering a formula's AST into checked expressions: names resolved, types checked,
//! aggregates split out.

use super::model::{AggCall, AggFn, Const, DatasetDef, KpiExpr, RowExpr, ScalarFn, TimeFn, Ty};
use crate::diagnostic::{did_you_mean, Code, Diagnostic};
use crate::engine::batch::ColType;
use crate::spec::FormulaText;
use crate::syntax::ast::{BinOp, Expr, ExprKind, Ident, UnaryOp};

/// What kind of function a name is.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum FnKind {
    /// An aggregate.
    Agg(AggFn),
    /// A scalar function.
    Scalar(ScalarFn),
    /// A time function.
    Time(TimeFn),
}

/// Every function name the language knows.
pub const FUNCTIONS: &[(&str, FnKind)] = &[
    ("sum", FnKind::Agg(AggFn::Sum)),
    ("avg", FnKind::Agg(AggFn::Avg)),
    ("min", FnKind::Agg(AggFn::Min)),
    ("max", FnKind::Agg(AggFn::Max)),
    ("count", FnKind::Agg(AggFn::Count)),
    ("count_distinct", FnKind::Agg(AggFn::CountDistinct)),
    ("first", FnKind::Agg(AggFn::First)),
    ("last", FnKind::Agg(AggFn::Last)),
    ("median", FnKind::Agg(AggFn::Median)),
    ("percentile", FnKind::Agg(AggFn::Percentile)),
    ("abs", FnKind::Scalar(ScalarFn::Abs)),
    ("round", FnKind::Scalar(ScalarFn::Round)),
    ("floor", FnKind::Scalar(ScalarFn::Floor)),
    ("ceil", FnKind::Scalar(ScalarFn::Ceil)),
    ("sqrt", FnKind::Scalar(ScalarFn::Sqrt)),
    ("ln", FnKind::Scalar(ScalarFn::Ln)),
    ("coalesce", FnKind::Scalar(ScalarFn::Coalesce)),
    ("if", FnKind::Scalar(ScalarFn::If)),
    ("greatest", FnKind::Scalar(ScalarFn::Greatest)),
    ("least", FnKind::Scalar(ScalarFn::Least)),
    ("previous", FnKind::Time(TimeFn::Previous)),
    ("change", FnKind::Time(TimeFn::Change)),
    ("growth", FnKind::Time(TimeFn::Growth)),
    ("rolling_sum", FnKind::Time(TimeFn::RollingSum)),
    ("rolling_avg", FnKind::Time(TimeFn::RollingAvg)),
    ("cumulative", FnKind::Time(TimeFn::Cumulative)),
];

fn lookup_fn(name: &str) -> Option<FnKind> {
    FUNCTIONS.iter().find(|(n, _)| *n == name).map(|(_, k)| *k)
}

/// What a KPI-level name may refer to.
pub trait KpiScope {
    /// The index of KPI `name`, if it exists.
    fn kpi(&self, name: &str) -> Option<usize>;
    /// Every KPI name, for suggestions.
    fn kpi_names(&self) -> Vec<String>;
    /// Whether `baseline` is allowed (in goal targets).
    fn baseline_allowed(&self) -> bool {
        false
    }
    /// The value and type of parameter `name`, if it is one.
    fn param(&self, _name: &str) -> Option<(Const, Ty)> {
        None
    }
    /// The namespaced id that `name` (as written in the formula) refers to.
    fn qualify(&self, name: &str) -> String {
        name.to_string()
    }
}

/// Lowers formulas of one KPI (or one goal target).
pub struct Lowerer<'a> {
    /// The formula text, for spans.
    pub text: &'a FormulaText,
    /// The KPI's dataset (None for targets).
    pub dataset: Option<&'a mut DatasetDef>,
    /// Names outside aggregates.
    pub scope: &'a dyn KpiScope,
    /// The aggregates found.
    pub aggs: Vec<AggCall>,
    /// The KPIs read.
    pub deps: Vec<usize>,
}

type R<T> = Result<T, Box<Diagnostic>>;

impl<'a> Lowerer<'a> {
    fn err(&self, code: Code, e: &Expr, msg: impl Into<String>, label: &str) -> Box<Diagnostic> {
        Box::new(Diagnostic::error(code, msg).with_label(self.text.span(e.span), label))
    }

    fn err_ident(&self, code: Code, id: &Ident, msg: impl Into<String>, label: &str) -> Box<Diagnostic> {
        Box::new(Diagnostic::error(code, msg).with_label(self.text.span(id.span), label))
    }

    fn expect_ty(&self, e: &Expr, got: Ty, want: Ty, context: &str) -> R<()> {
        if got.fits(want) {
            Ok(())
        } else {
            Err(self.err(
                Code::TypeMismatch,
                e,
                format!("{context} needs {}; this is {}", want.name(), got.name()),
                &format!("this is {}", got.name()),
            )
            .with_help_boxed(match want {
                Ty::Bool => "write a condition here, such as `likes > 0` or `channel == \"vk\"`",
                _ => "write a number here: text and dates can be compared (`==`, `in`) or counted (`count_distinct`)",
            }))
        }
    }

    /// Lowers a KPI-level expression.
    pub fn kpi_expr(&mut self, e: &Expr) -> R<(KpiExpr, Ty)> {
        Ok(match &e.kind {
            ExprKind::Number(_)
            | ExprKind::Percent(_)
            | ExprKind::Str(_)
            | ExprKind::Bool(_)
            | ExprKind::Null
            | ExprKind::Date(_) => {
                let (c, t) = constant(&e.kind);
                (KpiExpr::Const(c), t)
            }
            ExprKind::Name(parts) => self.kpi_name(e, parts)?,
            ExprKind::Unary(..) | ExprKind::Binary(..) | ExprKind::In { .. } | ExprKind::Between { .. } => {
                self.operators(e, Self::kpi_expr)?
            }
            ExprKind::Call { func, args, filter } => match lookup_fn(&func.name) {
                Some(FnKind::Agg(f)) => {
                    if self.dataset.is_none() {
                        return Err(self.err_ident(
                            Code::TypeMismatch,
                            func,
                            format!(
                                "`{}` aggregates rows; a target can only use numbers and `baseline`",
                                func.name
                            ),
                            "not allowed here",
                        ));
                    }
                    let call = self.aggregate(e, f, func, args, filter.as_deref())?;
                    let idx = match self.aggs.iter().position(|a| a == &call) {
                        Some(i) => i,
                        None => {
                            self.aggs.push(call);
                            self.aggs.len() - 1
                        }
                    };
                    (KpiExpr::Agg(idx), Ty::Number)
                }
                Some(FnKind::Scalar(f)) => {
                    self.scalar_call(e, f, func, args, filter.as_deref(), Self::kpi_expr)?
                }
                Some(FnKind::Time(f)) => {
                    self.no_filter(func, filter.as_deref())?;
                    let takes_n = matches!(f, TimeFn::Previous | TimeFn::RollingSum | TimeFn::RollingAvg);
                    let needs_n = matches!(f, TimeFn::RollingSum | TimeFn::RollingAvg);
                    let arity_ok = match args.len() {
                        1 => !needs_n,
                        2 => takes_n,
                        _ => false,
                    };
                    if !arity_ok {
                        let want = if needs_n {
                            "2 arguments (e, n)"
                        } else if takes_n {
                            "1 or 2 arguments (e[, n])"
                        } else {
                            "1 argument"
                        };
                        return Err(self
                            .err(
                                Code::WrongArity,
                                e,
                                format!("`{}` takes {want}; it got {}", func.name, args.len()),
                                "here",
                            )
                            .with_help_boxed(if takes_n {
                                format!("for example `{}(sum(likes), 3)`", func.name)
                            } else {
                                format!("for example `{}(sum(likes))`", func.name)
                            }));
                    }
                    let (x, t) = self.kpi_expr(&args[0])?;
                    self.expect_ty(&args[0], t, Ty::Number, &format!("`{}`", func.name))?;
                    let n = match args.get(1) {
                        Some(a) => match a.kind {
                            ExprKind::Number(v) if (1.0..=1000.0).contains(&v) && v.fract() == 0.0 => {
                                v as u32
                            }
                            _ => {
                                return Err(self
                                    .err(
                                        Code::NotConstant,
                                        a,
                                        format!(
                                            "the count of `{}` must be a whole number from 1 to 1000",
                                            func.name
                                        ),
                                        "not a whole number",
                                    )
                                    .with_help_boxed(format!("for example `{}(sum(likes), 3)`", func.name)))
                            }
                        },
                        None => 1,
                    };
                    (KpiExpr::Time(f, Box::new(x), n), Ty::Number)
                }
                None => return Err(self.unknown_fn(func)),
            },
        })
    }

    /// Lowers the operators (`-`, `not`, binary operators, `in`, `between`), which read the
    /// same at KPI level and at row level; `lower` lowers the operands at that level.
    fn operators<T: Lowered>(&mut self, e: &Expr, lower: fn(&mut Self, &Expr) -> R<(T, Ty)>) -> R<(T, Ty)> {
        Ok(match &e.kind {
            ExprKind::Unary(op, x) => {
                let (x2, t) = lower(self, x)?;
                let want = if *op == UnaryOp::Neg { Ty::Number } else { Ty::Bool };
                self.expect_ty(x, t, want, if *op == UnaryOp::Neg { "`-`" } else { "`not`" })?;
                (T::unary(*op, x2), want)
            }
            ExprKind::Binary(op, a, b) => {
                let (a2, ta) = lower(self, a)?;
                let (b2, tb) = lower(self, b)?;
                let t = self.binary_ty(*op, (a, ta), (b, tb))?;
                (T::binary(*op, a2, b2), t)
            }
            ExprKind::In { expr, list, negated } => {
                let (x, tx) = lower(self, expr)?;
                let mut items = Vec::new();
                for it in list {
                    let (i2, ti) = lower(self, it)?;
                    self.same_ty(it, tx, ti, "`in`")?;
                    items.push(i2);
                }
                (T::in_list(x, items, *negated), Ty::Bool)
            }
            ExprKind::Between { expr, low, high, negated } => {
                let (x, tx) = lower(self, expr)?;
                let (l, tl) = lower(self, low)?;
                let (h, th) = lower(self, high)?;
                self.same_ty(low, tx, tl, "`between`")?;
                self.same_ty(high, tx, th, "`between`")?;
                (T::between(x, l, h, *negated), Ty::Bool)
            }
            _ => return Err(self.err(Code::FormulaSyntax, e, "not an operator", "here")),
        })
    }

    /// Lowers a scalar function call at either level.
    fn scalar_call<T: Lowered>(
        &mut self,
        e: &Expr,
        f: ScalarFn,
        func: &Ident,
        args: &[Expr],
        filter: Option<&Expr>,
        lower: fn(&mut Self, &Expr) -> R<(T, Ty)>,
    ) -> R<(T, Ty)> {
        self.no_filter(func, filter)?;
        let mut lowered = Vec::new();
        let mut tys = Vec::new();
        for a in args {
            let (a2, t) = lower(self, a)?;
            lowered.push(a2);
            tys.push(t);
        }
        let t = self.scalar_ty(e, f, func, args, &tys)?;
        Ok((T::call(f, lowered), t))
    }

    fn unknown_fn(&self, func: &Ident) -> Box<Diagnostic> {
        let names: Vec<&str> = FUNCTIONS.iter().map(|(n, _)| *n).collect();
        let help = match did_you_mean(&func.name, names.iter().copied()) {
            Some(s) => format!("did you mean `{s}`?"),
            None => format!("the functions are: {}", names.join(", ")),
        };
        Box::new(
            Diagnostic::error(Code::UnknownFunction, format!("unknown function `{}`", func.name))
                .with_label(self.text.span(func.span), "no such function")
                .with_help(help),
        )
    }

    fn no_filter(&self, func: &Ident, filter: Option<&Expr>) -> R<()> {
        match filter {
            Some(f) => Err(self
                .err(
                    Code::TypeMismatch,
                    f,
                    format!("only aggregates take a `where` filter; `{}` is not an aggregate", func.name),
                    "filter not allowed here",
                )
                .with_help_boxed(
                    "move the filter into the aggregates, for example `sum(likes where channel == \"vk\")`",
                )),
            None => Ok(()),
        }
    }

    fn kpi_name(&mut self, e: &Expr, parts: &[Ident]) -> R<(KpiExpr, Ty)> {
        let full: String = parts.iter().map(|p| p.name.as_str()).collect::<Vec<_>>().join(".");
        if full == "baseline" && self.scope.baseline_allowed() {
            return Ok((KpiExpr::Baseline, Ty::Number));
        }
        if let Some(i) = self.scope.kpi(&full) {
            if !self.deps.contains(&i) {
                self.deps.push(i);
            }
            return Ok((KpiExpr::Kpi(i), Ty::Number));
        }
        if let Some((c, t)) = self.scope.param(&full) {
            return Ok((KpiExpr::Const(c), t));
        }
        if let Some(ds) = self.dataset.as_deref() {
            let col = parts.last().map(|p| p.name.as_str()).unwrap_or("");
            let qualified_ok =
                parts.len() == 1 || (parts.len() == 2 && self.scope.qualify(&parts[0].name) == ds.id);
            if qualified_ok && (ds.known.iter().any(|(n, _)| n == col) || ds.time == col) {
                return Err(Box::new(
                    Diagnostic::error(
                        Code::BareColumn,
                        format!("`{full}` is a column of `{}`; outside an aggregate, a name is a KPI", ds.id),
                    )
                    .with_label(self.text.span(e.span), "a column used without an aggregate")
                    .with_help(format!(
                        "aggregate it, for example `sum({full})`, `avg({full})` or `last({full})`"
                    )),
                ));
            }
        }
        if self.dataset.is_none() {
            let help = if self.scope.baseline_allowed() {
                "a target may use numbers, percents and `baseline`".to_string()
            } else {
                "a target may use numbers and percents".to_string()
            };
            return Err(Box::new(
                Diagnostic::error(Code::UnknownKpi, format!("unknown name `{full}` in a target"))
                    .with_label(self.text.span(e.span), "not allowed here")
                    .with_help(help),
            ));
        }
        let names = self.scope.kpi_names();
        let help = match did_you_mean(&full, names.iter().map(|s| s.as_str())) {
            Some(s) => format!("did you mean the KPI `{s}`?"),
            None => "outside an aggregate a name must be a KPI of this pack; inside one it is a column"
                .to_string(),
        };
        Err(Box::new(
            Diagnostic::error(Code::UnknownKpi, format!("unknown KPI `{full}`"))
                .with_label(self.text.span(e.span), "no KPI by this name")
                .with_help(help),
        ))
    }

    fn same_ty(&self, e: &Expr, want: Ty, got: Ty, context: &str) -> R<()> {
        if want == Ty::Null || got == Ty::Null || want == got {
            Ok(())
        } else {
            Err(self.err(
                Code::TypeMismatch,
                e,
                format!("{context} compares {} with {}", want.name(), got.name()),
                &format!("this is {}", got.name()),
            )
            .with_help_boxed(
                "compare values of one type: quote text (`\"vk\"`), write dates as `date(\"2026-10-01\")`",
            ))
        }
    }

    fn binary_ty(&self, op: BinOp, (a, ta): (&Expr, Ty), (b, tb): (&Expr, Ty)) -> R<Ty> {
        match op {
            BinOp::Add | BinOp::Sub | BinOp::Mul | BinOp::Div => {
                let ctx = format!("`{}`", op.as_str());
                self.expect_ty(a, ta, Ty::Number, &ctx)?;
                self.expect_ty(b, tb, Ty::Number, &ctx)?;
                Ok(Ty::Number)
            }
            BinOp::And | BinOp::Or => {
                let ctx = format!("`{}`", op.as_str());
                self.expect_ty(a, ta, Ty::Bool, &ctx)?;
                self.expect_ty(b, tb, Ty::Bool, &ctx)?;
                Ok(Ty::Bool)
            }
            _ => {
                self.same_ty(b, ta, tb, &format!("`{}`", op.as_str()))?;
                if ta == Ty::Bool && !matches!(op, BinOp::Eq | BinOp::Ne) {
                    return Err(self
                        .err(
                            Code::TypeMismatch,
                            a,
                            format!("`{}` cannot order booleans", op.as_str()),
                            "a boolean",
                        )
                        .with_help_boxed("compare booleans with `==` or `!=`"));
                }
                Ok(Ty::Bool)
            }
        }
    }

    fn scalar_ty(&self, e: &Expr, f: ScalarFn, func: &Ident, args: &[Expr], tys: &[Ty]) -> R<Ty> {
        let name = &func.name;
        let arity = |ok: bool, want: &str| -> R<()> {
            if ok {
                Ok(())
            } else {
                Err(self
                    .err(Code::WrongArity, e, format!("`{name}` takes {want}; it got {}", args.len()), "here")
                    .with_help_boxed(format!("give `{name}` {want}")))
            }
        };
        match f {
            ScalarFn::Abs | ScalarFn::Floor | ScalarFn::Ceil | ScalarFn::Sqrt | ScalarFn::Ln => {
                arity(args.len() == 1, "1 argument")?;
                self.expect_ty(&args[0], tys[0], Ty::Number, &format!("`{name}`"))?;
                Ok(Ty::Number)
            }
            ScalarFn::Round => {
                arity(matches!(args.len(), 1 | 2), "1 or 2 arguments (x[, digits])")?;
                self.expect_ty(&args[0], tys[0], Ty::Number, "`round`")?;
                if let Some(d) = args.get(1) {
                    if !matches!(d.kind, ExprKind::Number(v) if v.fract() == 0.0 && (0.0..=15.0).contains(&v))
                    {
                        return Err(self
                            .err(
                                Code::NotConstant,
                                d,
                                "the digits of `round` must be a whole number from 0 to 15",
                                "not a whole number",
                            )
                            .with_help_boxed("for example `round(sum(spend), 2)`"));
                    }
                }
                Ok(Ty::Number)
            }
            ScalarFn::Coalesce | ScalarFn::Greatest | ScalarFn::Least => {
                arity(!args.is_empty(), "at least 1 argument")?;
                let mut t = Ty::Null;
                for (a, &ta) in args.iter().zip(tys) {
                    self.same_ty(a, t, ta, &format!("`{name}`"))?;
                    if ta != Ty::Null {
                        t = ta;
                    }
                }
                if f != ScalarFn::Coalesce {
                    for (a, &ta) in args.iter().zip(tys) {
                        self.expect_ty(a, ta, Ty::Number, &format!("`{name}`"))?;
                    }
                }
                Ok(if t == Ty::Null { Ty::Number } else { t })
            }
            ScalarFn::If => {
                arity(args.len() == 3, "3 arguments (condition, then, else)")?;
                self.expect_ty(&args[0], tys[0], Ty::Bool, "the condition of `if`")?;
                self.same_ty(&args[2], tys[1], tys[2], "`if`")?;
                Ok(if tys[1] == Ty::Null { tys[2] } else { tys[1] })
            }
        }
    }

    fn aggregate(
        &mut self,
        e: &Expr,
        f: AggFn,
        func: &Ident,
        args: &[Expr],
        filter: Option<&Expr>,
    ) -> R<AggCall> {
        let name = f.name();
        let (want_args, param) = match f {
            AggFn::Count => (args.len() <= 1, 0.0),
            AggFn::Percentile => (args.len() == 2, 0.0),
            _ => (args.len() == 1, 0.0),
        };
        if !want_args {
            let want = match f {
                AggFn::Count => "0 or 1 argument: `count()`, `count(e)`, `count(where ...)`",
                AggFn::Percentile => "2 arguments: `percentile(e, 0.9)`",
                _ => "1 argument",
            };
            return Err(self
                .err(Code::WrongArity, e, format!("`{name}` takes {want}; it got {}", args.len()), "here")
                .with_help_boxed(match f {
                    AggFn::Count => "count rows with `count()`, values with `count(likes)`".to_string(),
                    AggFn::Percentile => "for example `percentile(reach, 0.9)`".to_string(),
                    _ => format!("for example `{name}(likes)`"),
                }));
        }
        let param = match f {
            AggFn::Percentile => match args[1].kind {
                ExprKind::Number(p) if (0.0..=1.0).contains(&p) => p,
                ExprKind::Percent(p) if (0.0..=100.0).contains(&p) => p / 100.0,
                _ => {
                    return Err(self
                        .err(
                            Code::NotConstant,
                            &args[1],
                            "the fraction of `percentile` must be a number from 0 to 1 (or a percent)",
                            "not a constant fraction",
                        )
                        .with_help_boxed("for example `percentile(reach, 0.9)` or `percentile(reach, 90%)`"))
                }
            },
            AggFn::Median => 0.5,
            _ => param,
        };
        let arg = match args.first() {
            Some(a) => {
                let (r, t) = self.row_expr(a)?;
                let needs_number = !matches!(f, AggFn::Count | AggFn::CountDistinct);
                if needs_number && !t.fits(Ty::Number) {
                    let what = describe(a);
                    return Err(Box::new(
                        Diagnostic::error(
                            Code::TypeMismatch,
                            format!("{name} needs a number; {what} is {}", t.name()),
                        )
                        .with_label(self.text.span(a.span), format!("this is {}", t.name()))
                        .with_help(if t == Ty::Text {
                            format!(
                                "count its values with `count_distinct({a})`, or filter on it with `where`; \
                                 if `{a}` holds numbers, declare `columns: {{{a}: number}}` in the dataset \
                                 and `kpi eval` names the values that are not",
                                a = crate::syntax::print(a)
                            )
                        } else {
                            "give a numeric column or expression".to_string()
                        }),
                    ));
                }
                Some(r)
            }
            None => None,
        };
        let filter = match filter {
            Some(fe) => {
                let (r, t) = self.row_expr(fe)?;
                if !t.fits(Ty::Bool) {
                    return Err(self
                        .err(
                            Code::TypeMismatch,
                            fe,
                            format!("a `where` filter must be a condition; this is {}", t.name()),
                            "not a condition",
                        )
                        .with_help_boxed("for example `sum(likes where channel == \"vk\")`"));
                }
                Some(r)
            }
            None => None,
        };
        let _ = func;
        Ok(AggCall { func: f, arg, filter, param })
    }

    /// Lowers a row-level expression (inside an aggregate).
    pub fn row_expr(&mut self, e: &Expr) -> R<(RowExpr, Ty)> {
        Ok(match &e.kind {
            ExprKind::Number(_)
            | ExprKind::Percent(_)
            | ExprKind::Str(_)
            | ExprKind::Bool(_)
            | ExprKind::Null
            | ExprKind::Date(_) => {
                let (c, t) = constant(&e.kind);
                (RowExpr::Const(c), t)
            }
            ExprKind::Name(parts) => self.column(e, parts)?,
            ExprKind::Unary(..) | ExprKind::Binary(..) | ExprKind::In { .. } | ExprKind::Between { .. } => {
                self.operators(e, Self::row_expr)?
            }
            ExprKind::Call { func, args, filter } => match lookup_fn(&func.name) {
                Some(FnKind::Scalar(f)) => {
                    self.scalar_call(e, f, func, args, filter.as_deref(), Self::row_expr)?
                }
                Some(FnKind::Agg(_)) => {
                    return Err(self
                        .err_ident(
                            Code::NestedAggregate,
                            func,
                            format!(
                            "`{}` inside another aggregate: an aggregate works on rows, not on aggregates",
                            func.name
                        ),
                            "nested aggregate",
                        )
                        .with_help_boxed(
                            "write the aggregates side by side, for example `sum(a) / count()`",
                        ))
                }
                Some(FnKind::Time(_)) => {
                    return Err(self
                        .err_ident(
                            Code::NestedAggregate,
                            func,
                            format!("`{}` works on a KPI's series of periods, not on rows", func.name),
                            "not allowed inside an aggregate",
                        )
                        .with_help_boxed(format!(
                            "use it outside the aggregate, for example `{}(sum(x))`",
                            func.name
                        )))
                }
                None => return Err(self.unknown_fn(func)),
            },
        })
    }

    fn column(&mut self, e: &Expr, parts: &[Ident]) -> R<(RowExpr, Ty)> {
        let Some(ds) = self.dataset.as_deref_mut() else {
            return Err(self
                .err(Code::UnknownColumn, e, "no dataset to read columns from", "here")
                .with_help_boxed("a target compares with numbers; columns are read in the KPI's formula"));
        };
        let col = match parts {
            [c] => c,
            [d, c] if self.scope.qualify(&d.name) == ds.id => c,
            [d, _] => {
                let msg = format!("`{}` is not this KPI's dataset (`{}`)", d.name, ds.id);
                let span = self.text.span(d.span);
                return Err(Box::new(
                    Diagnostic::error(Code::UnknownDataset, msg)
                        .with_label(span, "another dataset")
                        .with_help("an aggregate reads the columns of its KPI's dataset; reference a KPI of the other dataset instead"),
                ));
            }
            _ => {
                let full: Vec<&str> = parts.iter().map(|p| p.name.as_str()).collect();
                return Err(self
                    .err(Code::UnknownColumn, e, format!("`{}` is not a column name", full.join(".")), "here")
                    .with_help_boxed(
                        "name a column as `likes` or `posts.likes`; put other names in backticks",
                    ));
            }
        };
        if col.name == ds.time {
            return Ok((RowExpr::Time, Ty::Date));
        }
        let known = ds.known.iter().find(|(n, _)| *n == col.name).map(|(_, t)| *t);
        if known.is_none() && parts.len() == 1 {
            if let Some((c, t)) = self.scope.param(&col.name) {
                return Ok((RowExpr::Const(c), t));
            }
        }
        let ty = match known {
            Some(t) => t,
            None if !ds.header_read => Ty::Number,
            None => {
                let names: Vec<&str> = ds.known.iter().map(|(n, _)| n.as_str()).collect();
                let help = match did_you_mean(&col.name, names.iter().copied()) {
                    Some(s) => {
                        format!("did you mean `{s}`? the columns of `{}` are: {}", ds.id, names.join(", "))
                    }
                    None => format!("the columns of `{}` are: {}", ds.id, names.join(", ")),
                };
                let span = self.text.span(col.span);
                return Err(Box::new(
                    Diagnostic::error(
                        Code::UnknownColumn,
                        format!("unknown column `{}` in dataset `{}`", col.name, ds.id),
                    )
                    .with_label(span, format!("not a column of `{}`", ds.id))
                    .with_help(help),
                ));
            }
        };
        let ct = if ty == Ty::Text { ColType::Text } else { ColType::Number };
        let idx = ds.column_index(&col.name, ct);
        Ok((RowExpr::Column(idx, ty), ty))
    }
}

trait BoxHelp {
    fn with_help_boxed(self, h: impl Into<String>) -> Self;
}

impl BoxHelp for Box<Diagnostic> {
    fn with_help_boxed(mut self, h: impl Into<String>) -> Self {
        self.help = Some(h.into());
        self
    }
}

fn describe(e: &Expr) -> String {
    match &e.kind {
        ExprKind::Name(p) => p.iter().map(|i| i.name.as_str()).collect::<Vec<_>>().join("."),
        _ => "the expression".to_string(),
    }
}

fn constant(k: &ExprKind) -> (Const, Ty) {
    match k {
        ExprKind::Number(v) => (Const::Number(*v), Ty::Number),
        ExprKind::Percent(v) => (Const::Number(*v / 100.0), Ty::Number),
        ExprKind::Str(s) => (Const::Text(s.clone()), Ty::Text),
        ExprKind::Bool(b) => (Const::Bool(*b), Ty::Bool),
        ExprKind::Date(d) => (Const::Date(*d), Ty::Date),
        _ => (Const::Null, Ty::Null),
    }
}

/// The expression trees lowered from the AST (KPI level and row level) share their operators.
trait Lowered: Sized {
    fn unary(op: UnaryOp, x: Self) -> Self;
    fn binary(op: BinOp, a: Self, b: Self) -> Self;
    fn in_list(x: Self, items: Vec<Self>, negated: bool) -> Self;
    fn between(x: Self, low: Self, high: Self, negated: bool) -> Self;
    fn call(f: ScalarFn, args: Vec<Self>) -> Self;
}

macro_rules! lowered {
    ($t:ident) => {
        impl Lowered for $t {
            fn unary(op: UnaryOp, x: Self) -> Self {
                $t::Unary(op, Box::new(x))
            }
            fn binary(op: BinOp, a: Self, b: Self) -> Self {
                $t::Binary(op, Box::new(a), Box::new(b))
            }
            fn in_list(x: Self, items: Vec<Self>, negated: bool) -> Self {
                $t::In(Box::new(x), items, negated)
            }
            fn between(x: Self, low: Self, high: Self, negated: bool) -> Self {
                $t::Between(Box::new(x), Box::new(low), Box::new(high), negated)
            }
            fn call(f: ScalarFn, args: Vec<Self>) -> Self {
                $t::Call(f, args)
            }
        }
    };
}

lowered!(KpiExpr);
lowered!(RowExpr);
