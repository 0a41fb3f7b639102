//! `kpi test`: run the hand-computed cases under a pack's `tests/` folder.

use super::{print_diagnostics, EXIT_GOALS, EXIT_INVALID, EXIT_OK};
use crate::diagnostic::{Code, Diagnostic, Sources};
use crate::testing::{coverage::coverage, load_suite, output, run::run_case};
use clap::ValueEnum;
use std::io::Write;
use std::path::PathBuf;

/// Output formats of `kpi test`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum TestFormat {
    /// One line per case, the failing expectations, `N passed, M failed`.
    Text,
    /// A JUnit XML document on stdout (the summary goes to stderr).
    Junit,
}

/// Arguments of `kpi test`.
#[derive(Debug, clap::Args)]
pub struct TestArgs {
    /// The pack: a .yaml file or a folder with pack.yaml; cases are read from its tests/ folder.
    #[arg(default_value = ".")]
    pub pack: PathBuf,
    /// Run only the cases whose id contains this text.
    pub filter: Option<String>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = TestFormat::Text)]
    pub format: TestFormat,
    /// List the KPIs and goals no expectation touches, and the share covered.
    #[arg(long)]
    pub coverage: bool,
    /// Exit 1 when less than PERCENT of the KPIs and goals have an expectation (implies --coverage).
    #[arg(long, value_name = "PERCENT")]
    pub min_coverage: Option<String>,
}

fn parse_percent(s: &str) -> Option<f64> {
    let v: f64 = s.trim().trim_end_matches('%').trim().parse().ok()?;
    (0.0..=100.0).contains(&v).then_some(v)
}

/// Runs `kpi test`.
pub fn run(a: TestArgs) -> i32 {
    let sources = Sources::new();
    let min = match a.min_coverage.as_deref().map(|s| (s, parse_percent(s))) {
        None => None,
        Some((_, Some(v))) => Some(v),
        Some((s, None)) => {
            let d =
                Diagnostic::error(Code::InvalidArgument, format!("--min-coverage `{s}` is not a percentage"))
                    .with_help("give a number from 0 to 100, e.g. --min-coverage 90");
            print_diagnostics(&[d], &sources);
            return EXIT_INVALID;
        }
    };
    let suite = match load_suite(&a.pack, &sources) {
        Ok(s) => s,
        Err(d) => {
            print_diagnostics(&d, &sources);
            return EXIT_INVALID;
        }
    };
    let selected: Vec<_> =
        suite.cases.iter().filter(|c| a.filter.as_deref().is_none_or(|f| c.id.contains(f))).collect();
    let text = a.format == TestFormat::Text;
    let mut stdout = std::io::stdout().lock();
    if text {
        let n = selected.len();
        let _ = writeln!(stdout, "running {n} case{}", if n == 1 { "" } else { "s" });
    }
    let mut outcomes = Vec::new();
    for c in &selected {
        let o = run_case(&suite.pack, c, &sources);
        if text {
            let _ = write!(stdout, "{}", output::text_case(&o));
            let _ = stdout.flush();
        }
        outcomes.push(o);
    }
    let mut code = if outcomes.iter().all(|o| o.passed()) { EXIT_OK } else { EXIT_GOALS };
    let mut tail = String::new();
    if a.coverage || min.is_some() {
        let cov = coverage(&suite.pack.model, selected.iter().copied());
        tail.push_str(&output::coverage_text(&cov));
        if let Some(m) = min {
            if cov.percent() < m {
                tail.push_str(&format!("coverage {:.1}% is below --min-coverage {m}%\n", cov.percent()));
                code = EXIT_GOALS;
            }
        }
    }
    tail.push_str(&output::summary_line(&outcomes));
    if text {
        let _ = write!(stdout, "{tail}");
    } else {
        let _ = write!(stdout, "{}", output::junit(&suite.pack.model.name, &outcomes));
        eprint!("{tail}");
    }
    code
}
