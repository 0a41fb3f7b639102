//! Checking goals: KPI, scope, target and warn bands, window, grain, objective.

use super::formula::{KpiScope, Lowerer};
use super::model::{Band, Const, GoalDef, KpiDef, KpiExpr, Ty, Unit};
use crate::calendar::Grain;
use crate::diagnostic::{did_you_mean, Code, Diagnostic, Diagnostics};
use crate::spec::{FormulaText, Pack};
use crate::syntax::{ast, Target};

/// Names in a target: `baseline` and the parameters of the goal's namespace.
pub struct TargetScope<'a> {
    /// The pack, for parameters.
    pub pack: &'a Pack,
    /// The goal's namespace.
    pub ns: &'a str,
}

impl KpiScope for TargetScope<'_> {
    fn kpi(&self, _name: &str) -> Option<usize> {
        None
    }
    fn kpi_names(&self) -> Vec<String> {
        Vec::new()
    }
    fn baseline_allowed(&self) -> bool {
        true
    }
    fn param(&self, name: &str) -> Option<(Const, Ty)> {
        super::param_const(self.pack, self.ns, name)
    }
    fn qualify(&self, name: &str) -> String {
        self.pack.resolve_name(self.ns, name)
    }
}

/// Lowers a target or warn text into a band; warns when a percent KPI is compared with a
/// bare number above 1.
pub fn lower_band(
    text: &FormulaText,
    kpi: &KpiDef,
    scope: &TargetScope,
    diags: &mut Diagnostics,
) -> Result<Band, Box<Diagnostic>> {
    let t = crate::syntax::parse_target(&text.text).map_err(|e| {
        let mut d = Diagnostic::error(
            Code::InvalidTarget,
            format!("cannot read the target `{}`: {}", text.text.trim(), e.message),
        )
        .with_label(text.span(e.span), "here");
        d.help =
            Some(e.help.unwrap_or_else(|| {
                "write `OP VALUE` (`>= 4.5%`, `< 1.2`, `== 0`) or `between A and B`".into()
            }));
        Box::new(d)
    })?;
    let mut low = Lowerer { text, dataset: None, scope, aggs: Vec::new(), deps: Vec::new() };
    let mut value = |e: &ast::Expr, diags: &mut Diagnostics| -> Result<KpiExpr, Box<Diagnostic>> {
        let (x, ty) = low.kpi_expr(e)?;
        if !ty.fits(Ty::Number) {
            return Err(Box::new(
                Diagnostic::error(
                    Code::TypeMismatch,
                    format!("a target compares with a number; this is {}", ty.name()),
                )
                .with_label(text.span(e.span), "not a number")
                .with_help("write a number or a percent, such as `>= 4.5%` or `< 1.2 * baseline`"),
            ));
        }
        if kpi.unit == Unit::Percent {
            if let ast::ExprKind::Number(v) = e.kind {
                if v.abs() > 1.0 {
                    diags.push(
                        Diagnostic::warning(
                            Code::PercentLooksWrong,
                            format!(
                                "KPI `{}` is a percent, and `{}` means {}%",
                                kpi.id,
                                crate::syntax::print(e),
                                v * 100.0
                            ),
                        )
                        .with_label(text.span(e.span), "a bare number above 1")
                        .with_help(format!("write `{v}%` if you mean {v} percent")),
                    );
                }
            }
        }
        Ok(x)
    };
    Ok(match t {
        Target::Compare { op, value: v } => Band::Compare(op, value(&v, diags)?),
        Target::Between { low: l, high: h } => Band::Between(value(&l, diags)?, value(&h, diags)?),
    })
}

/// Checks every goal of the pack against the checked KPIs.
pub fn check_goals(pack: &Pack, kpis: &[KpiDef], diags: &mut Diagnostics) -> Vec<GoalDef> {
    let mut out = Vec::new();
    for g in &pack.goals {
        match check_goal(g, pack, kpis, diags) {
            Ok(def) => out.push(def),
            Err(d) => diags.push(*d),
        }
    }
    out
}

fn check_goal(
    g: &crate::spec::Goal,
    pack: &Pack,
    kpis: &[KpiDef],
    diags: &mut Diagnostics,
) -> Result<GoalDef, Box<Diagnostic>> {
    let Some(kpi_item) = &g.kpi else {
        return Err(Box::new(
            Diagnostic::error(Code::MissingField, format!("goal `{}` names no `kpi:`", g.id.value))
                .with_label(g.id.span, "needs `kpi:`")
                .with_help("add `kpi:` with the id of the KPI the goal judges"),
        ));
    };
    let kpi_id = pack.resolve_name(&g.namespace, &kpi_item.value);
    let scope = TargetScope { pack, ns: &g.namespace };
    let Some(ki) = kpis.iter().position(|k| k.id == kpi_id) else {
        let help = match did_you_mean(&kpi_item.value, kpis.iter().map(|k| k.id.as_str())) {
            Some(s) => format!("did you mean `{s}`?"),
            None => "name a KPI defined under `kpis:`".to_string(),
        };
        return Err(Box::new(
            Diagnostic::error(
                Code::UnknownKpi,
                format!("goal `{}` judges an unknown KPI `{}`", g.id.value, kpi_item.value),
            )
            .with_label(kpi_item.span, "no KPI by this name")
            .with_help(help),
        ));
    };
    let kpi = &kpis[ki];
    let mut for_ = Vec::new();
    for (dim, vals) in &g.for_ {
        if !kpi.by.contains(&dim.value) {
            let help = if kpi.by.is_empty() {
                format!("KPI `{}` has no `by:`; its single group covers every {}", kpi.id, dim.value)
            } else {
                format!("KPI `{}` is grouped by: {}", kpi.id, kpi.by.join(", "))
            };
            return Err(Box::new(
                Diagnostic::error(
                    Code::UnknownDimension,
                    format!(
                        "goal `{}` scopes `{}`, which KPI `{}` does not group by",
                        g.id.value, dim.value, kpi.id
                    ),
                )
                .with_label(dim.span, "not in the KPI's `by:`")
                .with_help(help),
            ));
        }
        for_.push((dim.value.clone(), vals.value.clone()));
    }
    let Some(target_text) = &g.target else {
        return Err(Box::new(
            Diagnostic::error(Code::MissingField, format!("goal `{}` has no `target:`", g.id.value))
                .with_label(g.id.span, "needs `target:`")
                .with_help(
                    "add a target such as `target: \">= 4.5%\"` (quoted: a leading `>` starts a YAML block)",
                ),
        ));
    };
    let target = lower_band(target_text, kpi, &scope, diags)?;
    let warn = match &g.warn {
        Some(w) => Some((w.text.trim().to_string(), lower_band(w, kpi, &scope, diags)?)),
        None => None,
    };
    let window = match &g.window {
        Some(w) => Some(pack.calendar.parse_range(&w.value).ok_or_else(|| {
            Box::new(
                Diagnostic::error(Code::InvalidWindow, format!("cannot read the window `{}`", w.value))
                    .with_label(w.span, "not a window")
                    .with_help("write `2026-10-01..2026-12-31`, `2026-Q4`, `2026-10`, `2026-W41`, `2026` (with a fiscal calendar also `2027-FQ1`, `FY2027`)"),
            )
        })?),
        None => None,
    };
    let each = match &g.each {
        Some(e) => {
            let grain = Grain::parse(&e.value).ok_or_else(|| {
                Box::new(
                    Diagnostic::error(Code::InvalidWindow, format!("unknown grain `{}` in `each:`", e.value))
                        .with_label(e.span, "not a grain")
                        .with_help("the grains are day, week, month, quarter, year"),
                )
            })?;
            if !kpi.grain.nests_in(grain) {
                return Err(Box::new(
                    Diagnostic::error(
                        Code::InvalidWindow,
                        format!(
                            "`each: {}` cannot judge KPI `{}`, which is computed per {}",
                            grain.as_str(),
                            kpi.id,
                            kpi.grain.as_str()
                        ),
                    )
                    .with_label(e.span, "incompatible grain")
                    .with_help(format!(
                        "use `each: {}` or a coarser grain that {}s fit in",
                        kpi.grain.as_str(),
                        kpi.grain.as_str()
                    )),
                ));
            }
            Some(grain)
        }
        None => None,
    };
    let baseline = match &g.baseline {
        Some(b) => {
            let ast = crate::syntax::parse_formula(&b.text).map_err(|e| {
                Box::new(
                    Diagnostic::error(
                        Code::InvalidTarget,
                        format!("cannot read the baseline `{}`: {}", b.text, e.message),
                    )
                    .with_label(b.span(e.span), "here")
                    .with_help("a baseline is a number such as `3.9%` or `10000`"),
                )
            })?;
            let c = match ast.kind {
                ast::ExprKind::Number(v) => v,
                ast::ExprKind::Percent(v) => v / 100.0,
                ast::ExprKind::Unary(ast::UnaryOp::Neg, ref x) => match x.kind {
                    ast::ExprKind::Number(v) => -v,
                    ast::ExprKind::Percent(v) => -v / 100.0,
                    _ => f64::NAN,
                },
                _ => f64::NAN,
            };
            if c.is_nan() {
                return Err(Box::new(
                    Diagnostic::error(Code::InvalidTarget, format!("the baseline `{}` is not a number", b.text))
                        .with_label(b.whole(), "not a number")
                        .with_help("write a number such as `3.9%` or `10000`, or leave `baseline:` out to use the window before"),
                ));
            }
            Some(KpiExpr::Const(Const::Number(c)))
        }
        None => None,
    };
    let objective = g.objective.as_ref().map(|o| pack.resolve_name(&g.namespace, &o.value));
    let objective_known = match &g.objective {
        Some(o) => {
            let resolved = pack.resolve_name(&g.namespace, &o.value);
            let known = pack.objectives.iter().any(|x| x.id.value == resolved);
            if !known {
                let ids: Vec<&str> = pack.objectives.iter().map(|x| x.id.value.as_str()).collect();
                let help = match did_you_mean(&o.value, ids.iter().copied()) {
                    Some(s) => format!("did you mean `{s}`?"),
                    None => "declare it under `objectives:`".to_string(),
                };
                diags.push(
                    Diagnostic::warning(
                        Code::UnknownObjective,
                        format!("goal `{}` serves an undeclared objective `{}`", g.id.value, o.value),
                    )
                    .with_label(o.span, "not declared under `objectives:`")
                    .with_help(help),
                );
            }
            known
        }
        None => false,
    };
    Ok(GoalDef {
        id: g.id.value.clone(),
        span: g.id.span,
        kpi: ki,
        description: g.description.as_ref().map(|d| d.value.clone()),
        for_,
        target: (target_text.text.trim().to_string(), target),
        warn,
        window,
        each,
        baseline,
        objective,
        owner: g.owner.as_ref().map(|o| o.value.clone()),
        objective_known,
        overridden: g.overridden.clone(),
    })
}
