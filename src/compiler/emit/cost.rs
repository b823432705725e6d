//! The rule-evaluation cost of a service's generated rules: an estimate of the
//! samples Prometheus reads in one evaluation round of the service's rule file,
//! with the long windows chained from the recorded 5m rates (what mlslo
//! generates) and as they would be read from the raw counters.
//!
//! The estimate reads every generated expression with the PromQL parser: a range
//! `[W]` over a series reads `W / interval` samples, an instant selector one, a
//! subquery `[R:S]` its inner cost `R / S` times. Series mlslo records
//! (`level:metric:operations` names, with a colon) arrive once per evaluation
//! interval, one series per group of a grouped objective; raw series once per
//! scrape interval, `series_per_selector` series per selector and group. So the
//! figures are per group: a grouped objective with 40 models reads 40 times as
//! much, raw and chained alike.
//!
//! Invariants: pure (the CLI hands over the `[build]` table's text and the
//! flags); the same input gives the same figures; an expression that does not
//! parse counts zero samples (every generated one parses, which `promtool
//! check rules` proves on `generated/`).

use serde::Deserialize;

use crate::compiler::emit::prometheus::{chained_window_exprs, sli_windows, Rule, WhichRules};
use crate::compiler::emit::service_rule_groups;
use crate::compiler::ir::{Duration, ObjectiveKind, Program, Service};
use crate::prometheus::model::duration::parse_model_duration;
use crate::prometheus::promql::{parse_promql, Expr};

/// What the estimate assumes about the Prometheus that runs the rules.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CostAssumptions {
    /// How often raw series get a sample (Prometheus' default: 1m).
    pub scrape_interval: Duration,
    /// How often the rules run, so how often recorded series get a sample
    /// (Prometheus' default: 1m).
    pub evaluation_interval: Duration,
    /// Series one raw selector matches in one group (instances, pods, status codes).
    pub series_per_selector: u64,
}

impl Default for CostAssumptions {
    fn default() -> CostAssumptions {
        CostAssumptions {
            scrape_interval: Duration::minutes(1),
            evaluation_interval: Duration::minutes(1),
            series_per_selector: 1,
        }
    }
}

/// One service's estimate.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ServiceCost {
    pub service: String,
    /// Rules of the service's rule file (recording and alerting).
    pub rules: usize,
    /// Samples read per evaluation round, long windows chained (as generated).
    pub samples: u64,
    /// The same with every chained alert window read from the raw counters.
    pub samples_with_raw_long_windows: u64,
}

impl CostAssumptions {
    /// The assumptions of a `.mlslo.toml`: its `[build]` table's
    /// `scrape_interval`, `evaluation_interval` and `series_per_selector`, the
    /// scrape interval falling back to `[lint]`'s (the project says it once);
    /// other tables and keys belong to other commands. Errors are one line each.
    pub fn from_toml(text: &str) -> Result<CostAssumptions, String> {
        let shape: FileShape =
            toml::from_str(text).map_err(|e| e.to_string().trim_end().replace('\n', " "))?;
        let mut assumptions = CostAssumptions::default();
        let lint_scrape = shape.lint.and_then(|lint| lint.scrape_interval);
        let build = shape.build.unwrap_or_default();
        if let Some(text) = build.scrape_interval.or(lint_scrape) {
            assumptions.scrape_interval = interval("scrape_interval", &text)?;
        }
        if let Some(text) = build.evaluation_interval {
            assumptions.evaluation_interval = interval("evaluation_interval", &text)?;
        }
        if let Some(count) = build.series_per_selector {
            if count == 0 {
                return Err("[build] series_per_selector: must be at least 1".to_owned());
            }
            assumptions.series_per_selector = count;
        }
        Ok(assumptions)
    }
}

/// A scrape or evaluation interval from its text: a Prometheus duration above zero.
pub fn interval(key: &str, text: &str) -> Result<Duration, String> {
    match parse_model_duration(text) {
        Ok(millis) if millis > 0 => Ok(Duration::from_millis(millis)),
        Ok(_) => Err(format!("{key}: must be longer than 0s")),
        Err(message) => Err(format!("{key}: {message}")),
    }
}

/// The estimate of every service of the program, in the program's (name) order.
pub fn service_costs(program: &Program, assumptions: &CostAssumptions) -> Vec<ServiceCost> {
    program
        .services
        .iter()
        .map(|service| service_cost(program, service, assumptions))
        .collect()
}

/// Samples one evaluation of `expr` reads.
pub fn expr_samples(expr: &str, assumptions: &CostAssumptions) -> u64 {
    parse_promql(expr).map_or(0, |parsed| samples(&parsed, assumptions, 1))
}

/// Whether `expr` reads any series (else it is a constant like `vector(1)`).
pub fn reads_series(expr: &str) -> bool {
    expr_samples(expr, &CostAssumptions::default()) > 0
}

fn service_cost(
    program: &Program,
    service: &Service,
    assumptions: &CostAssumptions,
) -> ServiceCost {
    let groups = service_rule_groups(service, &program.monitoring, WhichRules::All);
    let mut rules = 0;
    let mut samples = 0u64;
    for rule in groups.iter().flat_map(|group| &group.rules) {
        rules += 1;
        let expr = match rule {
            Rule::Recording { expr, .. } => expr,
            Rule::Alerting(alert) => &alert.expr,
        };
        samples = samples.saturating_add(expr_samples(expr, assumptions));
    }
    let mut raw = samples;
    for objective in &service.objectives {
        let (ObjectiveKind::Latency { budget, .. } | ObjectiveKind::Availability { budget, .. }) =
            &objective.kind
        else {
            continue;
        };
        for window in sli_windows(budget) {
            if let Some((raw_expr, chained_expr)) = chained_window_exprs(service, objective, window)
            {
                raw = raw
                    .saturating_sub(expr_samples(&chained_expr, assumptions))
                    .saturating_add(expr_samples(&raw_expr, assumptions));
            }
        }
    }
    ServiceCost {
        service: service.name.clone(),
        rules,
        samples,
        samples_with_raw_long_windows: raw,
    }
}

/// Samples read by `expr`, each of its reads repeated `times` (a subquery's steps).
fn samples(expr: &Expr, assumptions: &CostAssumptions, times: u64) -> u64 {
    let series = |name: &Option<String>| -> (u64, i64) {
        if name.as_deref().is_some_and(|name| name.contains(':')) {
            (1, assumptions.evaluation_interval.millis)
        } else {
            (
                assumptions.series_per_selector,
                assumptions.scrape_interval.millis,
            )
        }
    };
    match expr {
        Expr::VectorSelector(selector) => series(&selector.name).0.saturating_mul(times),
        Expr::MatrixSelector(matrix) => {
            let (count, interval) = series(&matrix.vs.name);
            let per_series = (matrix.range.as_millis() as i64 / interval.max(1)).max(1) as u64;
            count.saturating_mul(per_series).saturating_mul(times)
        }
        Expr::Subquery(subquery) => {
            let step = subquery
                .step
                .map_or(assumptions.evaluation_interval.millis, |step| {
                    step.as_millis() as i64
                });
            let steps = (subquery.range.as_millis() as i64 / step.max(1)).max(1) as u64;
            samples(&subquery.expr, assumptions, times.saturating_mul(steps))
        }
        Expr::Aggregate(aggregate) => {
            let param = aggregate
                .param
                .as_ref()
                .map_or(0, |param| samples(param, assumptions, times));
            samples(&aggregate.expr, assumptions, times).saturating_add(param)
        }
        Expr::Unary(unary) => samples(&unary.expr, assumptions, times),
        Expr::Binary(binary) => samples(&binary.lhs, assumptions, times).saturating_add(samples(
            &binary.rhs,
            assumptions,
            times,
        )),
        Expr::Paren(paren) => samples(&paren.expr, assumptions, times),
        Expr::Call(call) => call.args.args.iter().fold(0u64, |total, arg| {
            total.saturating_add(samples(arg, assumptions, times))
        }),
        Expr::NumberLiteral(_) | Expr::StringLiteral(_) | Expr::Extension(_) => 0,
    }
}

#[derive(Debug, Default, Deserialize)]
struct FileShape {
    #[serde(default)]
    build: Option<BuildTable>,
    #[serde(default)]
    lint: Option<LintScrape>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct BuildTable {
    scrape_interval: Option<String>,
    evaluation_interval: Option<String>,
    series_per_selector: Option<u64>,
}

/// The one key of `[lint]` the estimate reads; the others are lint's.
#[derive(Debug, Default, Deserialize)]
struct LintScrape {
    scrape_interval: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(scrape: i64, evaluation: i64, series: u64) -> CostAssumptions {
        CostAssumptions {
            scrape_interval: Duration::from_millis(scrape * 1000),
            evaluation_interval: Duration::from_millis(evaluation * 1000),
            series_per_selector: series,
        }
    }

    #[test]
    fn ranges_read_their_length_over_the_interval_of_their_series() {
        let assumptions = at(15, 60, 3);
        // Raw: 1h at 15s, 3 series.
        assert_eq!(expr_samples("rate(x_total[1h])", &assumptions), 240 * 3);
        // Recorded: 1d at 1m, one series.
        assert_eq!(
            expr_samples("sum_over_time(slo:sli_errors:rate5m[1d])", &assumptions),
            1440
        );
        assert_eq!(expr_samples("up == 0", &assumptions), 3);
        assert_eq!(expr_samples("vector(1)", &assumptions), 0);
        // 1h of 1m steps, each reading 5m of raw samples.
        assert_eq!(
            expr_samples("max_over_time(rate(x_total[5m])[1h:1m])", &assumptions),
            60 * 20 * 3
        );
        assert_eq!(expr_samples("a / on () b", &assumptions), 6);
    }

    #[test]
    fn chained_long_windows_read_fewer_samples_than_raw_counters() {
        let source = r#"service "s" { team = "t" availability "a" { errors = x_total{code="5"} total = x_total objective = 99.9% window = 30d } }"#;
        let (program, _) = crate::compiler::emit::tests::checked(source);
        let assumptions = at(15, 60, 4);
        let [cost] = &service_costs(&program, &assumptions)[..] else {
            panic!("one service");
        };
        // The 1d and 3d windows: two raw selectors at 15s and 4 series each,
        // against two recorded series at 1m.
        let raw_long = 2 * 4 * (5760 + 17280);
        let chained_long = 2 * (1440 + 4320);
        assert_eq!(
            cost.samples_with_raw_long_windows - cost.samples,
            raw_long - chained_long
        );
    }

    #[test]
    fn the_build_table_sets_the_assumptions_and_lint_lends_its_scrape_interval() {
        let lint_only = CostAssumptions::from_toml("[lint]\nscrape_interval = \"15s\"\n").unwrap();
        assert_eq!(lint_only.scrape_interval, Duration::from_millis(15_000));
        let both = CostAssumptions::from_toml(
            "[lint]\nscrape_interval = \"15s\"\n[build]\nscrape_interval = \"30s\"\nevaluation_interval = \"2m\"\nseries_per_selector = 8\n",
        )
        .unwrap();
        assert_eq!(both, at(30, 120, 8));
        assert!(CostAssumptions::from_toml("[build]\nscrape = \"1m\"\n").is_err());
        assert!(CostAssumptions::from_toml("[build]\nscrape_interval = \"0s\"\n").is_err());
        assert!(CostAssumptions::from_toml("[build]\nseries_per_selector = 0\n").is_err());
    }
}
