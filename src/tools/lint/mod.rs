//! `mlslo lint`: checks for hand-written Prometheus rule files and PrometheusRule
//! manifests, reported as [`Diagnostic`]s with `L` codes.
//!
//! Invariants: pure (the CLI reads files and talks to Prometheus); every finding has a
//! code in [`CODES`]; diagnostics come out sorted by span, so in file order; spans point
//! into the [`SourceMap`] the caller built, inside `expr` strings where the mapping is
//! exact (see [`locate`]); suppressions and the config's disabled codes and severity
//! overrides are applied last, by [`apply_policy`].

pub mod codes;
pub mod config;
mod documents;
pub mod live;
pub mod locate;
pub mod output;
mod promql;

use std::collections::{BTreeMap, BTreeSet};

use crate::base::diagnostic::{Diagnostic, SourceMap, Span};
use crate::prometheus::model::duration::{format_model_duration, parse_model_duration};
use crate::prometheus::model::names::is_legacy_metric_name;
use crate::prometheus::promql::{parse_query, Semantics};
use crate::prometheus::ruler::validate::{
    repeated_group_names, validate_group, validate_rule, GroupFields, GroupProblem, RuleProblem,
};
use crate::prometheus::ruler::{GroupSource, RuleSource};
pub use codes::CODES;
pub use config::LintConfig;
use locate::{find_key, find_rule, lines, map_expr, ExprMap, Line};
use serde::Deserialize;

const APPROXIMATE_NOTE: &str =
    "this expression is a folded or escaped YAML string, so the position points at its start";

/// The name prefix of the rule files compiled from .slo inputs (added to the source map
/// by the CLI, so that findings can point into them).
pub const GENERATED_PREFIX: &str = "<generated>/";

/// A rule as lint saw it, kept for checks across files and for `--diff-base`.
#[derive(Clone, Debug)]
pub struct LintedRule {
    pub file_index: usize,
    /// Where the rule comes from: 0 a rule file, 1 a PrometheusRule manifest, 2 the
    /// compiled output of a .slo file. Duplicates are looked for within one source
    /// only, as one Prometheus loads either the manifests (operator) or the files, and
    /// the compiled output of a .slo duplicates its generated files by construction.
    pub source: u8,
    pub group: String,
    pub name: String,
    pub is_alert: bool,
    pub expr: String,
    pub labels: BTreeMap<String, String>,
    pub for_ms: i64,
    pub name_span: Span,
    /// The rule's whole YAML item (its lines), or the name span when not located.
    pub extent: Span,
    /// A fingerprint of the rule's content (name, expr, labels, for, annotations).
    pub content: String,
    /// Selectors the expression reads: metric name, PromQL text and where, for the
    /// live checks.
    pub selectors: Vec<(String, String, Span)>,
}

/// The result of linting some files.
#[derive(Debug, Default)]
pub struct LintReport {
    pub diagnostics: Vec<Diagnostic>,
    pub rules: Vec<LintedRule>,
}

/// Lints every file of `map` (each a rule file or PrometheusRule manifests), then the
/// checks across files. Policy (suppression, config) is not applied yet.
pub fn lint_files(map: &SourceMap, files: &[usize], config: &LintConfig) -> LintReport {
    let mut report = LintReport::default();
    for &index in files {
        lint_one_file(map, index, config, &mut report);
    }
    cross_file_checks(&mut report);
    report
        .diagnostics
        .sort_by_key(|d| (d.primary.span.start, d.code));
    report
}

fn lint_one_file(map: &SourceMap, file_index: usize, config: &LintConfig, report: &mut LintReport) {
    let file = &map.files()[file_index];
    let base = file.base as usize;
    let text = file.text.as_str();
    let at = |offset: usize| Span::new(base + offset, base + offset);
    let all = lines(text);
    let parsed_documents = match documents::parse_documents(text, &all, base) {
        Ok(parsed) => parsed,
        Err(syntax_error) => {
            report.diagnostics.push(*syntax_error);
            return;
        }
    };
    let mut search_from = 0;
    // Everything found before rule checks run, in the order a sequential pass
    // reports it: diagnostics go to `pending` and travel with the next rule.
    let mut pending = Vec::new();
    let mut work = Vec::new();
    for parsed in &parsed_documents {
        let (manifest, raw) = match parsed {
            Ok((manifest, raw)) => (*manifest, raw),
            Err(diagnostic) => {
                pending.push((**diagnostic).clone());
                continue;
            }
        };
        let repeated: BTreeMap<usize, usize> =
            repeated_group_names(&raw.groups).into_iter().collect();
        let mut group_spans = Vec::with_capacity(raw.groups.len());
        for (group_index, group) in raw.groups.iter().enumerate() {
            let group_location = find_rule(text, &all, search_from, "name", &group.name);
            let group_span = group_location
                .as_ref()
                .map(|loc| Span::new(base + loc.name.0, base + loc.name.1))
                .unwrap_or_else(|| at(0));
            group_spans.push(group_span);
            if let Some(loc) = &group_location {
                search_from = loc.name_line + 1;
            }
            if let Some(&first) = repeated.get(&group_index) {
                pending.push(
                    codes::DUPLICATE_GROUP_NAME
                        .at(
                            group_span,
                            format!("group `{}` is defined twice", group.name),
                        )
                        .with_secondary(group_spans[first], "first defined here"),
                );
            }
            let interval_ms = group
                .interval
                .as_deref()
                .and_then(|text| parse_model_duration(text).ok())
                .map_or(60_000, |ms| ms.max(1));
            // Read with 2.42's group fields: the newer ones come back as problems, which
            // lint reports as L0106 (a policy may lower it) and reads on.
            for problem in validate_group(group, GroupFields::Prometheus2_42) {
                let invalid = |message: String| codes::INVALID_RULE.at(group_span, message);
                pending.push(match problem {
                    GroupProblem::EmptyName => invalid("group name must not be empty".into()),
                    GroupProblem::RepeatedName { .. } => continue,
                    GroupProblem::InvalidDuration { field, message } => {
                        invalid(format!("{field}: {message}"))
                    }
                    GroupProblem::InvalidLabelName(name) => {
                        invalid(format!("invalid label name `{name}`"))
                    }
                    GroupProblem::NewerField(field) => {
                        let span = group_location
                            .as_ref()
                            .and_then(|loc| {
                                find_key(&all, loc, field).map(|(_, key, _)| {
                                    Span::new(base + key, base + key + field.len())
                                })
                            })
                            .unwrap_or(group_span);
                        codes::GROUP_FIELD_NEEDS_NEWER_PROMETHEUS
                            .at(span, format!("promtool 2.42 does not know group `{field}`"))
                            .with_help(if field == "labels" {
                                "Set the labels on each rule instead."
                            } else {
                                "Remove `query_offset`, or run Prometheus 2.53 or later."
                            })
                    }
                });
            }
            for rule in &group.rules {
                let (key, name) = if !rule.record.is_empty() {
                    ("record", rule.record.as_str())
                } else if !rule.alert.is_empty() {
                    ("alert", rule.alert.as_str())
                } else {
                    ("expr", "")
                };
                let location = if key == "expr" {
                    None
                } else {
                    find_rule(text, &all, search_from, key, name)
                };
                let name_span = match &location {
                    Some(loc) => {
                        search_from = loc.name_line + 1;
                        Span::new(base + loc.name.0, base + loc.name.1)
                    }
                    None => group_span,
                };
                work.push(RuleWork {
                    diagnostics_before: std::mem::take(&mut pending),
                    location,
                    name_span,
                    source: if file.name.starts_with(GENERATED_PREFIX) {
                        2
                    } else {
                        u8::from(manifest)
                    },
                    group,
                    interval_ms,
                    rule,
                });
            }
        }
    }
    let check_rules = |items: &[RuleWork<'_>]| -> Vec<LintReport> {
        items
            .iter()
            .map(|item| {
                let mut own = LintReport::default();
                let context = RuleContext {
                    text,
                    all: &all,
                    base,
                    location: item.location.as_ref(),
                    name_span: item.name_span,
                    source: item.source,
                };
                lint_rule(
                    &context,
                    file_index,
                    item.group,
                    item.interval_ms,
                    item.rule,
                    config,
                    &mut own,
                );
                own
            })
            .collect()
    };
    // Below this many rules a thread costs more than it saves.
    let results = crate::base::parallel::in_parallel_chunks(&work, 256, check_rules);
    for (item, result) in work.into_iter().zip(results) {
        report.diagnostics.extend(item.diagnostics_before);
        report.diagnostics.extend(result.diagnostics);
        report.rules.extend(result.rules);
    }
    report.diagnostics.extend(pending);
}

/// One rule to check, with what its file reported before it.
struct RuleWork<'a> {
    diagnostics_before: Vec<Diagnostic>,
    location: Option<locate::RuleLocation>,
    name_span: Span,
    source: u8,
    group: &'a GroupSource,
    interval_ms: i64,
    rule: &'a RuleSource,
}

struct RuleContext<'a> {
    text: &'a str,
    all: &'a [Line<'a>],
    base: usize,
    location: Option<&'a locate::RuleLocation>,
    name_span: Span,
    source: u8,
}

impl RuleContext<'_> {
    /// The span of key `key`'s value, or the rule name when it cannot be found.
    fn key_span(&self, key: &str) -> Span {
        self.location
            .and_then(|loc| find_key(self.all, loc, key))
            .map(|(_, _, value)| {
                let end = self.text[value..]
                    .find('\n')
                    .map_or(self.text.len(), |n| value + n);
                Span::new(self.base + value, self.base + end)
            })
            .unwrap_or(self.name_span)
    }

    fn expr_map(&self, expr: &str) -> ExprMap {
        match self
            .location
            .and_then(|loc| find_key(self.all, loc, "expr").map(|found| (loc, found)))
        {
            Some((loc, (line, _, value))) => {
                map_expr(self.text, self.all, line, loc.key_column, value, expr)
            }
            None => ExprMap::at(self.name_span.start as usize - self.base),
        }
    }
}

fn lint_rule(
    context: &RuleContext<'_>,
    file_index: usize,
    group: &GroupSource,
    interval_ms: i64,
    rule: &RuleSource,
    config: &LintConfig,
    report: &mut LintReport,
) {
    let name_span = context.name_span;
    let is_alert = rule.is_alert();
    let name = rule.name().to_string();
    for problem in validate_rule(rule) {
        let (message, span) = match problem {
            RuleProblem::BothRecordAndAlert => (
                "only one of `record` and `alert` must be set".to_string(),
                name_span,
            ),
            RuleProblem::NeitherRecordNorAlert => (
                "one of `record` or `alert` must be set".to_string(),
                name_span,
            ),
            RuleProblem::MissingExpr => ("field `expr` must be set in rule".to_string(), name_span),
            RuleProblem::FieldInRecordingRule(field) => (
                format!("invalid field `{field}` in recording rule"),
                context.key_span(field),
            ),
            RuleProblem::InvalidRecordName(record) => {
                (format!("invalid recording rule name `{record}`"), name_span)
            }
            RuleProblem::InvalidDuration { field, message } => {
                (format!("{field}: {message}"), context.key_span(field))
            }
            RuleProblem::InvalidLabelName(label) => (
                format!("invalid label name `{label}`"),
                context.key_span("labels"),
            ),
            RuleProblem::InvalidAnnotationName(annotation) => (
                format!("invalid annotation name `{annotation}`"),
                context.key_span("annotations"),
            ),
        };
        report
            .diagnostics
            .push(codes::INVALID_RULE.at(span, message));
    }
    let for_ms = rule
        .for_
        .as_deref()
        .and_then(|text| parse_model_duration(text).ok())
        .unwrap_or(0);
    let expr_text = rule.expr.clone();

    let mut labels = group.labels.clone().unwrap_or_default();
    labels.extend(rule.labels.iter().map(|(k, v)| (k.clone(), v.clone())));

    if is_alert && for_ms > 0 && for_ms < interval_ms {
        report.diagnostics.push(
            codes::FOR_SHORTER_THAN_GROUP_INTERVAL
                .at(
                    context.key_span("for"),
                    format!(
                        "`for` is {} but the group is evaluated every {}",
                        format_model_duration(for_ms),
                        format_model_duration(interval_ms)
                    ),
                )
                .with_help("Make `for` at least the group interval, or remove it."),
        );
    }
    if is_alert && !labels.contains_key("severity") {
        report.diagnostics.push(
            codes::ALERT_WITHOUT_SEVERITY
                .at(name_span, "this alert has no `severity` label")
                .with_help("Add `severity: warning` or `severity: critical` under `labels:`."),
        );
    }
    if !rule.record.is_empty() {
        let record = &rule.record;
        if is_legacy_metric_name(record)
            && record.split(':').filter(|part| !part.is_empty()).count() < 3
        {
            report
                .diagnostics
                .push(codes::RECORDING_RULE_NAME_NOT_CONVENTIONAL.at(
                    name_span,
                    "expected a name such as `job:http_requests:rate5m`",
                ));
        }
    }
    // Templates: labels and annotations of alerts.
    if is_alert {
        for (key, templates) in [("labels", &rule.labels), ("annotations", &rule.annotations)] {
            for (name_of_template, template_text) in templates {
                // Text without an action is always a valid template.
                if !template_text.contains("{{") {
                    continue;
                }
                if let Err(error) = crate::prometheus::gotemplate::parse_alert_template(
                    &crate::prometheus::gotemplate::alert_template_name(&name),
                    template_text,
                ) {
                    let span =
                        template_span(context, key, name_of_template, template_text, error.offset);
                    let code = if error.detail.starts_with("function ")
                        && error.detail.ends_with("not defined")
                    {
                        codes::UNKNOWN_TEMPLATE_FUNCTION
                    } else {
                        codes::INVALID_TEMPLATE
                    };
                    report.diagnostics.push(code.at(span, error.detail.clone()));
                }
            }
        }
    }

    let map = context.expr_map(&expr_text);
    let expr_span = |start: usize, end: usize| {
        let from = map.file_offset(start);
        let to = if map.exact {
            map.file_offset(end.max(start))
        } else {
            from + 1
        };
        Span::new(context.base + from, context.base + to.max(from))
    };
    let mut selectors = Vec::new();
    // An expression of only spaces is set, so it is PromQL's to refuse (as promtool does).
    if !expr_text.is_empty() {
        match parse_query(&expr_text, Semantics::V2) {
            Err(error) => {
                let message = error.to_string();
                let position = promql::error_position(&message)
                    .unwrap_or(0)
                    .min(expr_text.len());
                let mut diagnostic = codes::INVALID_PROMQL
                    .at(expr_span(position, position + 1), first_line(&message));
                if !map.exact {
                    diagnostic = diagnostic.with_note(APPROXIMATE_NOTE);
                }
                report.diagnostics.push(diagnostic);
            }
            Ok(expr) => {
                let findings = promql::check_expr(&expr, &expr_text, config, is_alert);
                for found in findings {
                    let (start, end) = found.range;
                    let mut diagnostic = found.help.into_iter().fold(
                        found.code.at(expr_span(start, end), found.label),
                        |d, help| d.with_help(help),
                    );
                    if !map.exact {
                        diagnostic = diagnostic.with_note(APPROXIMATE_NOTE);
                    }
                    report.diagnostics.push(diagnostic);
                }
                for (metric, selector, (start, end)) in promql::selectors(&expr, &expr_text) {
                    selectors.push((metric, selector, expr_span(start, end)));
                }
            }
        }
    }
    let content = format!(
        "{name}\u{0}{expr_text}\u{0}{labels:?}\u{0}{for_ms}\u{0}{:?}",
        rule.annotations
    );
    report.rules.push(LintedRule {
        file_index,
        source: context.source,
        group: group.name.clone(),
        name,
        is_alert,
        expr: expr_text,
        labels,
        for_ms,
        name_span,
        extent: context
            .location
            .map(|loc| {
                let start = context.all.get(loc.first_line).map_or(0, |line| line.start);
                let end = context
                    .all
                    .get(loc.end_line)
                    .map_or(context.text.len(), |line| line.start);
                Span::new(context.base + start, context.base + end)
            })
            .unwrap_or(name_span),
        content,
        selectors,
    });
}

fn template_span(
    context: &RuleContext<'_>,
    key: &str,
    name: &str,
    template: &str,
    offset: usize,
) -> Span {
    // The template's value sits on the line `name: value` inside the `labels:`/`annotations:` block.
    if let Some(loc) = context.location {
        if let Some((line, _, _)) = find_key(context.all, loc, key) {
            for candidate in context.all.iter().take(loc.end_line).skip(line + 1) {
                if let Some((_, value_start)) = locate::key_on_line(candidate.text, name) {
                    let value = &candidate.text[value_start..];
                    let shift = usize::from(value.starts_with('"') || value.starts_with('\''));
                    let exact = value.get(shift..shift + template.len()) == Some(template);
                    let inner = if exact { offset.min(template.len()) } else { 0 };
                    let start = candidate.start + value_start + shift + inner;
                    return Span::new(context.base + start, context.base + start + 1);
                }
            }
        }
    }
    context.name_span
}

fn cross_file_checks(report: &mut LintReport) {
    let mut series: BTreeMap<(String, Vec<(String, String)>), Span> = BTreeMap::new();
    let mut found = Vec::new();
    for rule in &report.rules {
        let key = (
            format!(
                "{} {}{}",
                rule.source,
                if rule.is_alert { "ALERT " } else { "" },
                rule.name
            ),
            rule.labels
                .iter()
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect(),
        );
        match series.get(&key) {
            Some(first) => found.push(
                codes::DUPLICATE_SERIES
                    .at(
                        rule.name_span,
                        format!(
                            "`{}` with these labels is also defined elsewhere",
                            rule.name
                        ),
                    )
                    .with_secondary(*first, "first defined here"),
            ),
            None => {
                series.insert(key, rule.name_span);
            }
        }
    }
    found.extend(same_name_different_for(&report.rules));
    report.diagnostics.extend(found);
}

/// L0202: alerts of one name whose `for` differs although no label tells them
/// apart. Alerts that differ in the value of a label both carry (`severity`, an
/// objective's `slo`, a window pair's `long`) are different alerts by design, each
/// with its own delay, as in tiered and per-objective rules; a copy edited in one
/// place keeps the labels of the original.
fn same_name_different_for(rules: &[LintedRule]) -> Vec<Diagnostic> {
    let mut by_name: BTreeMap<(u8, &str), Vec<&LintedRule>> = BTreeMap::new();
    for rule in rules.iter().filter(|rule| rule.is_alert) {
        by_name
            .entry((rule.source, rule.name.as_str()))
            .or_default()
            .push(rule);
    }
    let mut found = Vec::new();
    for alerts in by_name.values() {
        if alerts.iter().all(|alert| alert.for_ms == alerts[0].for_ms) {
            continue;
        }
        // Alerts that differ on a label every alert of the name carries are told
        // apart already; only alerts that agree on all of those are compared pairwise,
        // which keeps thousands of per-objective alerts of one name linear.
        let common_keys: Vec<&String> = alerts[0]
            .labels
            .keys()
            .filter(|key| alerts.iter().all(|alert| alert.labels.contains_key(*key)))
            .collect();
        let mut partitions: BTreeMap<Vec<&str>, Vec<&LintedRule>> = BTreeMap::new();
        for alert in alerts {
            let values = common_keys
                .iter()
                .map(|key| alert.labels[*key].as_str())
                .collect();
            partitions.entry(values).or_default().push(alert);
        }
        for partition in partitions.values() {
            for (position, alert) in partition.iter().enumerate() {
                let earlier = partition[..position].iter().find(|earlier| {
                    earlier.for_ms != alert.for_ms && !told_apart(&earlier.labels, &alert.labels)
                });
                if let Some(earlier) = earlier {
                    found.push(
                        codes::SAME_NAME_DIFFERENT_FOR
                            .at(
                                alert.name_span,
                                format!(
                                    "this `{}` waits {}",
                                    alert.name,
                                    format_model_duration(alert.for_ms)
                                ),
                            )
                            .with_secondary(
                                earlier.name_span,
                                format!(
                                    "this one waits {} and no label tells them apart",
                                    format_model_duration(earlier.for_ms)
                                ),
                            ),
                    );
                }
            }
        }
    }
    found
}

/// Whether some label carried by both alerts has different values.
fn told_apart(left: &BTreeMap<String, String>, right: &BTreeMap<String, String>) -> bool {
    left.iter()
        .any(|(key, value)| right.get(key).is_some_and(|other| other != value))
}

fn yaml_error(text: &str, base: usize, error: &yaml_serde::Error) -> Diagnostic {
    let offset = error
        .location()
        .map_or(0, |location| location.index().min(text.len()));
    codes::INVALID_YAML.at(
        Span::new(base + offset, base + offset),
        first_line(&error.to_string()),
    )
}

/// yaml_serde's `from_value` loses positions; the unknown key is found by name instead.
fn unknown_field_span(message: &str, all: &[Line<'_>], base: usize) -> Option<Span> {
    let rest = message.split("unknown field `").nth(1)?;
    let field = rest.split('`').next()?;
    for line in all {
        if let Some((column, _)) = locate::key_on_line(line.text, field) {
            let start = base + line.start + column;
            return Some(Span::new(start, start + field.len()));
        }
    }
    None
}

fn first_line(message: &str) -> String {
    message.lines().next().unwrap_or("").to_string()
}

/// Pull-request mode: keeps the findings of rules that are new or changed compared
/// with `old` (the same files at the base revision, linted into `old_report`; a file
/// missing there is new). A rule is the same when its file name, group, name and
/// content (expr, labels, `for`, annotations) are. Findings outside every rule (YAML
/// errors, group problems) are kept when the file's text changed.
pub fn keep_changed(
    map: &SourceMap,
    report: &LintReport,
    old_map: &SourceMap,
    old_report: &LintReport,
    diagnostics: Vec<Diagnostic>,
) -> Vec<Diagnostic> {
    let old_rules: BTreeSet<(&str, &str, &str)> = old_report
        .rules
        .iter()
        .map(|rule| {
            (
                old_map.files()[rule.file_index].name.as_str(),
                rule.group.as_str(),
                rule.content.as_str(),
            )
        })
        .collect();
    let old_texts: BTreeMap<&str, &str> = old_map
        .files()
        .iter()
        .map(|file| (file.name.as_str(), file.text.as_str()))
        .collect();
    let changed_rule = |rule: &LintedRule| {
        let name = map.files()[rule.file_index].name.as_str();
        !old_rules.contains(&(name, rule.group.as_str(), rule.content.as_str()))
    };
    diagnostics
        .into_iter()
        .filter(|diagnostic| {
            let span = diagnostic.primary.span;
            let inside: Vec<&LintedRule> = report
                .rules
                .iter()
                .filter(|rule| {
                    rule.extent.start <= span.start
                        && span.start < rule.extent.end.max(rule.extent.start + 1)
                })
                .collect();
            if !inside.is_empty() {
                return inside.into_iter().any(changed_rule);
            }
            match map.file_of(span) {
                Some(index) => {
                    let file = &map.files()[index];
                    old_texts.get(file.name.as_str()) != Some(&file.text.as_str())
                }
                None => true,
            }
        })
        .collect()
}

/// Whether a YAML file found by walking a folder is meant for lint: a rule file
/// (`groups:` at the top) or PrometheusRule manifests. Alertmanager configurations,
/// unit-test files and other YAML in the same folders are skipped.
pub fn looks_like_rule_file(text: &str) -> bool {
    let mut any = false;
    for document in yaml_serde::Deserializer::from_str(text) {
        let Ok(value) = yaml_serde::Value::deserialize(document) else {
            // Broken YAML is reported rather than skipped.
            return true;
        };
        if value.get("groups").is_some()
            || value.get("kind").and_then(|k| k.as_str()) == Some("PrometheusRule")
        {
            return true;
        }
        any |= !value.is_null();
    }
    !any
}

/// Applies suppression comments, the config's disabled codes and severity overrides.
/// Unknown codes named by comments are reported as L0701.
pub fn apply_policy(
    map: &SourceMap,
    config: &LintConfig,
    diagnostics: Vec<Diagnostic>,
) -> Vec<Diagnostic> {
    let known: BTreeSet<&str> = CODES.iter().map(|info| info.code).collect();
    let mut extra = Vec::new();
    let mut suppressions: Vec<config::Suppressions> = Vec::new();
    for file in map.files() {
        let found = config::Suppressions::parse(&file.text);
        for (offset, code) in &found.mentioned {
            if !known.contains(code.to_ascii_uppercase().as_str())
                && !code.eq_ignore_ascii_case("all")
            {
                let start = file.base as usize + offset;
                extra.push(codes::SUPPRESSION_OF_UNKNOWN_CODE.at(
                    Span::new(start, start + code.len()),
                    format!("`{code}` is not a lint code"),
                ));
            }
        }
        suppressions.push(found);
    }
    let mut kept: Vec<Diagnostic> = diagnostics
        .into_iter()
        .chain(extra)
        .filter(|diagnostic| !config.disabled.contains(diagnostic.code))
        .filter(|diagnostic| {
            let Some(index) = map.file_of(diagnostic.primary.span) else {
                return true;
            };
            let file = &map.files()[index];
            let local = (diagnostic.primary.span.start - file.base) as usize;
            !suppressions[index].suppresses(local, diagnostic.code)
        })
        .map(|mut diagnostic| {
            if let Some(severity) = config.severity.get(diagnostic.code) {
                diagnostic.severity = *severity;
            }
            diagnostic
        })
        .collect();
    kept.sort_by_key(|d| (d.primary.span.start, d.code));
    kept
}
