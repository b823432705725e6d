//! The series an objective's recording rules write, as a function of its group
//! labels (what `mlslo check --explain-cardinality` shows), and W0720 when an
//! objective would write more than the configured bound.
//!
//! A recording rule that reads series writes one series per group (every
//! aggregation mlslo generates keeps the group labels, and only them); one that
//! reads none (`vector(0.999)`, the only such form mlslo generates) writes one
//! series whatever the groups. How many
//! groups there are is the user's to say (`expected_groups = 40` beside
//! `group_by`); with it the estimate is a number, checked against the bound
//! (`[check] max_series_per_objective` of `.mlslo.toml`). Labels that take
//! unbounded values (`user_id`) are the checker's W0721.
//!
//! Invariants: reads the rules through the emitter `build` uses, so the count is
//! that of the generated files; emits rules only for the objectives asked about
//! (the check of 10k objectives stays cheap); deterministic, in the order of
//! services and objectives.

use serde::{Deserialize, Serialize};

use crate::base::diagnostic::Diagnostic;
use crate::compiler::check::codes;
use crate::compiler::emit::prometheus::{objective_rule_groups, Rule, WhichRules};
use crate::compiler::ir::{naming, Objective, Program, Service};

/// The bound of W0720 when `.mlslo.toml` gives none: the series of a few hundred
/// groups of a budgeted objective, far below what a Prometheus holds, and above
/// any fleet a `group_by` over models is meant for.
pub const DEFAULT_MAX_SERIES_PER_OBJECTIVE: u64 = 10_000;

/// The `[check]` table of `.mlslo.toml`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CardinalityLimits {
    pub max_series_per_objective: u64,
}

impl Default for CardinalityLimits {
    fn default() -> CardinalityLimits {
        CardinalityLimits {
            max_series_per_objective: DEFAULT_MAX_SERIES_PER_OBJECTIVE,
        }
    }
}

impl CardinalityLimits {
    /// The limits of a `.mlslo.toml`'s `[check]` table (other tables belong to
    /// other commands); errors are one line each.
    pub fn from_toml(text: &str) -> Result<CardinalityLimits, String> {
        let shape: FileShape =
            toml::from_str(text).map_err(|e| e.to_string().trim_end().replace('\n', " "))?;
        let mut limits = CardinalityLimits::default();
        let Some(table) = shape.check else {
            return Ok(limits);
        };
        if let Some(max) = table.max_series_per_objective {
            limits.max_series_per_objective = max;
        }
        Ok(limits)
    }
}

/// One recording rule of an objective.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct RecordedSeries {
    pub record: String,
    /// One series per group (else one series in all).
    pub per_group: bool,
}

/// The recorded series of one objective.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ObjectiveCardinality {
    pub service: String,
    pub objective: String,
    pub group_by: Vec<String>,
    pub rules: Vec<RecordedSeries>,
    /// The number of groups: 1 ungrouped, `expected_groups` when written.
    pub groups: Option<u64>,
    /// The series in all, when `groups` is known.
    pub series: Option<u64>,
}

impl ObjectiveCardinality {
    pub fn per_group_rules(&self) -> u64 {
        self.rules.iter().filter(|rule| rule.per_group).count() as u64
    }

    pub fn fixed_rules(&self) -> u64 {
        self.rules.len() as u64 - self.per_group_rules()
    }
}

/// The recorded series of every objective of the program.
pub fn cardinality(program: &Program) -> Vec<ObjectiveCardinality> {
    let mut all = Vec::new();
    for service in &program.services {
        let groups = objective_rule_groups(service, WhichRules::All);
        for objective in &service.objectives {
            all.push(objective_cardinality(service, objective, &groups));
        }
    }
    all
}

/// W0720 for each objective with `expected_groups` whose series exceed the
/// bound.
pub(super) fn check_series_bound(
    program: &Program,
    limits: &CardinalityLimits,
    found: &mut Vec<Diagnostic>,
) {
    for service in &program.services {
        let known = |objective: &&Objective| objective.expected_groups.is_some();
        if !service.objectives.iter().any(|objective| known(&objective)) {
            continue;
        }
        let groups = objective_rule_groups(service, WhichRules::All);
        for objective in service.objectives.iter().filter(known) {
            let counted = objective_cardinality(service, objective, &groups);
            let (Some(series), Some(group_count)) = (counted.series, counted.groups) else {
                continue;
            };
            if series <= limits.max_series_per_objective {
                continue;
            }
            let Some((_, count_span)) = objective.expected_groups else {
                continue;
            };
            found.push(
                codes::OBJECTIVE_SERIES_ABOVE_BOUND
                    .at(
                        objective.name_span,
                        format!(
                            "about {series} recorded series: {} per group × {group_count} groups + {}",
                            counted.per_group_rules(),
                            counted.fixed_rules()
                        ),
                    )
                    .with_secondary(
                        count_span,
                        format!("{group_count} groups of ({})", objective.group_by.join(", ")),
                    )
                    .with_note(format!(
                        "the bound is {} series per objective (`[check] max_series_per_objective` in .mlslo.toml)",
                        limits.max_series_per_objective
                    ))
                    .with_help(
                        "group by fewer or coarser labels, split the objective by a selector, or raise `max_series_per_objective` if the fleet is that large",
                    ),
            );
        }
    }
}

fn objective_cardinality(
    service: &Service,
    objective: &Objective,
    groups: &[crate::compiler::emit::prometheus::RuleGroup],
) -> ObjectiveCardinality {
    let own = [
        naming::group_objective(&service.name, &objective.name),
        naming::group_budget(&service.name, &objective.name),
    ];
    let rules: Vec<RecordedSeries> = groups
        .iter()
        .filter(|group| own.contains(&group.name))
        .flat_map(|group| &group.rules)
        .filter_map(|rule| match rule {
            Rule::Recording { record, expr, .. } => Some(RecordedSeries {
                record: record.clone(),
                per_group: !is_constant(expr),
            }),
            Rule::Alerting(_) => None,
        })
        .collect();
    let group_count = match objective.expected_groups {
        Some((count, _)) => Some(count),
        None if objective.is_grouped() => None,
        None => Some(1),
    };
    let mut counted = ObjectiveCardinality {
        service: service.name.clone(),
        objective: objective.name.clone(),
        group_by: objective.group_by.clone(),
        rules,
        groups: group_count,
        series: None,
    };
    counted.series = group_count.map(|groups| {
        counted
            .per_group_rules()
            .saturating_mul(groups)
            .saturating_add(counted.fixed_rules())
    });
    counted
}

/// Whether a generated expression is `vector(<number>)`, the one form of a rule
/// that reads no series (a text test: parsing every rule's PromQL doubled the
/// time of `check` on large inputs).
fn is_constant(expr: &str) -> bool {
    expr.strip_prefix("vector(")
        .and_then(|rest| rest.strip_suffix(')'))
        .is_some_and(|number| number.parse::<f64>().is_ok())
}

#[derive(Debug, Default, Deserialize)]
struct FileShape {
    #[serde(default)]
    check: Option<CheckTable>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct CheckTable {
    max_series_per_objective: Option<u64>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::base::diagnostic::SourceMap;

    fn checked(source: &str) -> Program {
        let mut map = SourceMap::new();
        map.add("test.slo", source);
        let (program, diagnostics) = crate::compiler::check_sources(&map);
        program.unwrap_or_else(|| panic!("test source has errors: {diagnostics:?}"))
    }

    fn grouped(expected: &str) -> String {
        format!(
            r#"service "s" {{ team = "t" availability "a" {{ errors = x_total{{code="5"}} total = x_total objective = 99.9% window = 30d group_by = [model, region] {expected} }} drift "d" {{ score = s max = 1 for = 5m }} }}"#
        )
    }

    #[test]
    fn series_are_per_group_for_rules_that_read_series() {
        let program = checked(&grouped("expected_groups = 120"));
        let all = cardinality(&program);
        let availability = &all[0];
        let per_group = availability.per_group_rules();
        // The metadata rules (`vector(...)`) are one series each.
        assert_eq!(availability.fixed_rules(), 4);
        assert!(availability
            .rules
            .iter()
            .any(|rule| rule.record == "slo:sli_error:ratio_rate1d" && rule.per_group));
        assert_eq!(availability.groups, Some(120));
        assert_eq!(availability.series, Some(per_group * 120 + 4));
        // A drift objective records nothing, and is one group.
        assert_eq!(all[1].rules, Vec::new());
        assert_eq!(all[1].series, Some(0));
        // No count: no number.
        let program = checked(&grouped(""));
        assert_eq!(cardinality(&program)[0].series, None);
    }

    #[test]
    fn only_constant_vectors_read_no_series() {
        assert!(is_constant("vector(0.999)"));
        assert!(is_constant("vector(30)"));
        assert!(!is_constant("vector(1) * x"));
        assert!(!is_constant("1 - slo:x{service=\"s\"}"));
        // The emitter's constant rules, and only those, read no series.
        let program = checked(&grouped(""));
        let service = &program.services[0];
        for group in objective_rule_groups(service, WhichRules::All) {
            for rule in &group.rules {
                if let Rule::Recording { expr, .. } = rule {
                    assert_eq!(
                        is_constant(expr),
                        !crate::compiler::emit::cost::reads_series(expr),
                        "{expr}"
                    );
                }
            }
        }
    }

    #[test]
    fn the_bound_comes_from_the_check_table() {
        let program = checked(&grouped("expected_groups = 120"));
        let mut found = Vec::new();
        check_series_bound(&program, &CardinalityLimits::default(), &mut found);
        assert!(found.is_empty());
        let limits = CardinalityLimits::from_toml(
            "[check]\nmax_series_per_objective = 1000\n[lint]\nx = 1\n",
        )
        .unwrap();
        check_series_bound(&program, &limits, &mut found);
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].code, "W0720");
        assert!(CardinalityLimits::from_toml("[check]\nmax_series = 1\n").is_err());
    }
}
