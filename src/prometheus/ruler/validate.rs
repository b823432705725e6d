//! What makes a decoded rule file invalid, as `rulefmt`'s validation in promtool 2.42
//! decides it: problems as data, each at its group or rule, in promtool's words.
//!
//! Invariants: every check of the rule-file schema lives here, so every reader refuses
//! the same files; PromQL and template parsing are not schema checks and are left to the
//! callers that parse them anyway (the loader, lint); durations are checked here although
//! yaml.v3 checks them while decoding, so that all of them are reported, not the first.
//! The group fields newer than 2.42 are the one named leniency: [`GroupFields`].

use std::collections::BTreeMap;
use std::fmt;

use super::source::{GroupSource, RuleFileSource, RuleSource};
use crate::prometheus::model::duration::parse_model_duration;
use crate::prometheus::model::names::{is_legacy_label_name, is_legacy_metric_name};

/// Which group fields a reader accepts besides 2.42's `name`, `interval`, `limit` and
/// `rules`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum GroupFields {
    /// As Prometheus and promtool 2.42: `query_offset` and `labels` are unknown fields.
    #[default]
    Prometheus2_42,
    /// Also `query_offset` (Prometheus 2.53) and `labels` (3.0), as newer servers read them.
    Prometheus3,
}

/// A group-level problem.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum GroupProblem {
    /// `- name: ""`, or no name at all.
    EmptyName,
    /// A second group called `name`; `first` is the index of the first one.
    RepeatedName { name: String, first: usize },
    /// `interval: 1.5h` (`field` is `interval` or `query_offset`).
    InvalidDuration {
        field: &'static str,
        message: String,
    },
    /// `labels: {a-b: x}`.
    InvalidLabelName(String),
    /// `query_offset:` or `labels:` read under [`GroupFields::Prometheus2_42`].
    NewerField(&'static str),
}

/// A rule-level problem.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RuleProblem {
    /// `record: a` and `alert: b` in one rule.
    BothRecordAndAlert,
    /// Neither `record` nor `alert` (or both empty).
    NeitherRecordNorAlert,
    /// No `expr`, or an empty one.
    MissingExpr,
    /// `for`, `keep_firing_for` (not zero) or `annotations` (not empty) on a recording rule.
    FieldInRecordingRule(&'static str),
    /// `record: a-b`: not a metric name.
    InvalidRecordName(String),
    /// `for: 5` (`field` is `for` or `keep_firing_for`).
    InvalidDuration {
        field: &'static str,
        message: String,
    },
    /// `labels: {a-b: x}`, or `__name__`.
    InvalidLabelName(String),
    /// `annotations: {a-b: x}`.
    InvalidAnnotationName(String),
}

/// One problem and where: group and rule indexes count from 0 in file order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SchemaError {
    Group {
        group: usize,
        problem: GroupProblem,
    },
    Rule {
        group: usize,
        rule: usize,
        problem: RuleProblem,
    },
}

impl SchemaError {
    /// The message as the ruler reports it: the problem with its group (and rule number
    /// and name) as promtool names them.
    pub fn message(&self, source: &RuleFileSource) -> String {
        let group_name = |group: usize| source.groups.get(group).map_or("", |g| g.name.as_str());
        match self {
            SchemaError::Group {
                problem: problem @ (GroupProblem::EmptyName | GroupProblem::RepeatedName { .. }),
                ..
            } => problem.to_string(),
            SchemaError::Group { group, problem } => {
                format!("group {:?}: {problem}", group_name(*group))
            }
            SchemaError::Rule {
                group,
                rule,
                problem,
            } => {
                let rule_name = source
                    .groups
                    .get(*group)
                    .and_then(|g| g.rules.get(*rule))
                    .map_or("", RuleSource::name);
                format!(
                    "group {:?}, rule {}, {rule_name:?}: {problem}",
                    group_name(*group),
                    rule + 1
                )
            }
        }
    }

    /// Group index, then rule position (0 for the group itself): file order.
    pub fn place(&self) -> (usize, usize) {
        match self {
            SchemaError::Group { group, .. } => (*group, 0),
            SchemaError::Rule { group, rule, .. } => (*group, rule + 1),
        }
    }
}

impl fmt::Display for GroupProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            GroupProblem::EmptyName => f.write_str("Groupname must not be empty"),
            GroupProblem::RepeatedName { name, .. } => {
                write!(f, "groupname: \"{name}\" is repeated in the same file")
            }
            GroupProblem::InvalidDuration { field, message } => write!(f, "{field}: {message}"),
            GroupProblem::InvalidLabelName(name) => write!(f, "invalid label name: {name}"),
            GroupProblem::NewerField(field) => write!(
                f,
                "field {field} not found in type rulefmt.RuleGroup (a group field of Prometheus {})",
                if *field == "labels" { "3.0" } else { "2.53" }
            ),
        }
    }
}

impl fmt::Display for RuleProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RuleProblem::BothRecordAndAlert => {
                f.write_str("only one of 'record' and 'alert' must be set")
            }
            RuleProblem::NeitherRecordNorAlert => {
                f.write_str("one of 'record' or 'alert' must be set")
            }
            RuleProblem::MissingExpr => f.write_str("field 'expr' must be set in rule"),
            RuleProblem::FieldInRecordingRule(field) => {
                write!(f, "invalid field '{field}' in recording rule")
            }
            RuleProblem::InvalidRecordName(name) => {
                write!(f, "invalid recording rule name: {name}")
            }
            RuleProblem::InvalidDuration { field, message } => write!(f, "{field}: {message}"),
            RuleProblem::InvalidLabelName(name) => write!(f, "invalid label name: {name}"),
            RuleProblem::InvalidAnnotationName(name) => {
                write!(f, "invalid annotation name: {name}")
            }
        }
    }
}

/// Every problem of a decoded file, in file order.
pub fn validate_file(source: &RuleFileSource, group_fields: GroupFields) -> Vec<SchemaError> {
    let mut errors = Vec::new();
    for (group, first) in repeated_group_names(&source.groups) {
        errors.push(SchemaError::Group {
            group,
            problem: GroupProblem::RepeatedName {
                name: source.groups[group].name.clone(),
                first,
            },
        });
    }
    for (group_index, group) in source.groups.iter().enumerate() {
        errors.extend(
            validate_group(group, group_fields)
                .into_iter()
                .map(|problem| SchemaError::Group {
                    group: group_index,
                    problem,
                }),
        );
        for (rule_index, rule) in group.rules.iter().enumerate() {
            errors.extend(
                validate_rule(rule)
                    .into_iter()
                    .map(|problem| SchemaError::Rule {
                        group: group_index,
                        rule: rule_index,
                        problem,
                    }),
            );
        }
    }
    errors.sort_by_key(SchemaError::place);
    errors
}

/// Each group whose name an earlier group of the file has, with that first group's
/// index: `(group, first)`.
pub fn repeated_group_names(groups: &[GroupSource]) -> Vec<(usize, usize)> {
    let mut first_by_name: BTreeMap<&str, usize> = BTreeMap::new();
    let mut repeated = Vec::new();
    for (index, group) in groups.iter().enumerate() {
        match first_by_name.get(group.name.as_str()) {
            Some(&first) => repeated.push((index, first)),
            None => {
                first_by_name.insert(&group.name, index);
            }
        }
    }
    repeated
}

/// The problems of one group's own fields (not its rules, not a repeated name).
pub fn validate_group(group: &GroupSource, group_fields: GroupFields) -> Vec<GroupProblem> {
    let mut problems = Vec::new();
    if group.name.is_empty() {
        problems.push(GroupProblem::EmptyName);
    }
    if group_fields == GroupFields::Prometheus2_42 {
        if group.query_offset.is_some() {
            problems.push(GroupProblem::NewerField("query_offset"));
        }
        if group.labels.is_some() {
            problems.push(GroupProblem::NewerField("labels"));
        }
    }
    for (field, text) in [
        ("interval", &group.interval),
        ("query_offset", &group.query_offset),
    ] {
        if let Some(Err(message)) = text.as_deref().map(parse_model_duration) {
            problems.push(GroupProblem::InvalidDuration { field, message });
        }
    }
    for name in group.labels.iter().flat_map(BTreeMap::keys) {
        if !is_rule_label_name(name) {
            problems.push(GroupProblem::InvalidLabelName(name.clone()));
        }
    }
    problems
}

/// The problems of one rule, in the order promtool reports them.
pub fn validate_rule(rule: &RuleSource) -> Vec<RuleProblem> {
    let mut problems = Vec::new();
    let mut durations = [
        ("for", &rule.for_, 0),
        ("keep_firing_for", &rule.keep_firing_for, 0),
    ];
    for (field, text, millis) in &mut durations {
        match text.as_deref().map(parse_model_duration) {
            Some(Ok(parsed)) => *millis = parsed,
            Some(Err(message)) => problems.push(RuleProblem::InvalidDuration { field, message }),
            None => {}
        }
    }
    match (rule.record.is_empty(), rule.alert.is_empty()) {
        (false, false) => problems.push(RuleProblem::BothRecordAndAlert),
        (true, true) => problems.push(RuleProblem::NeitherRecordNorAlert),
        _ => {}
    }
    if rule.expr.is_empty() {
        problems.push(RuleProblem::MissingExpr);
    }
    if !rule.record.is_empty() {
        if !rule.annotations.is_empty() {
            problems.push(RuleProblem::FieldInRecordingRule("annotations"));
        }
        for (field, _, millis) in durations {
            if millis != 0 {
                problems.push(RuleProblem::FieldInRecordingRule(field));
            }
        }
        if !is_legacy_metric_name(&rule.record) {
            problems.push(RuleProblem::InvalidRecordName(rule.record.clone()));
        }
    }
    for name in rule.labels.keys() {
        if !is_rule_label_name(name) {
            problems.push(RuleProblem::InvalidLabelName(name.clone()));
        }
    }
    for name in rule.annotations.keys() {
        if !is_legacy_label_name(name) {
            problems.push(RuleProblem::InvalidAnnotationName(name.clone()));
        }
    }
    problems
}

/// A label a rule may set: a valid name other than `__name__`, which the rule's own
/// name sets.
fn is_rule_label_name(name: &str) -> bool {
    is_legacy_label_name(name) && name != "__name__"
}

#[cfg(test)]
mod tests {
    use super::super::source::decode_rule_file;
    use super::*;

    fn problems(text: &str, group_fields: GroupFields) -> Vec<String> {
        let source = decode_rule_file(text).expect("decodes");
        validate_file(&source, group_fields)
            .iter()
            .map(|error| error.message(&source))
            .collect()
    }

    fn rule(body: &str) -> Vec<String> {
        problems(
            &format!("groups:\n- name: g\n  rules:\n  - {body}\n"),
            GroupFields::Prometheus2_42,
        )
    }

    #[test]
    fn rule_problems_in_promtools_words() {
        for (body, expected) in [
            (
                "{record: a, alert: b, expr: up}",
                "group \"g\", rule 1, \"a\": only one of 'record' and 'alert' must be set",
            ),
            (
                "{expr: up}",
                "group \"g\", rule 1, \"\": one of 'record' or 'alert' must be set",
            ),
            (
                "{alert: a}",
                "group \"g\", rule 1, \"a\": field 'expr' must be set in rule",
            ),
            (
                "{record: a, expr: up, for: 5m}",
                "invalid field 'for' in recording rule",
            ),
            (
                "{record: a, expr: up, keep_firing_for: 1m}",
                "invalid field 'keep_firing_for' in recording rule",
            ),
            (
                "{record: a, expr: up, annotations: {s: x}}",
                "invalid field 'annotations' in recording rule",
            ),
            (
                "{record: a-b, expr: up}",
                "invalid recording rule name: a-b",
            ),
            ("{record: ~, expr: up}", "invalid recording rule name: ~"),
            (
                "{alert: a, expr: up, for: 5}",
                "for: not a valid duration string: \"5\"",
            ),
            (
                "{alert: a, expr: up, labels: {__name__: x}}",
                "invalid label name: __name__",
            ),
            (
                "{alert: a, expr: up, labels: {1: x}}",
                "invalid label name: 1",
            ),
            (
                "{alert: a, expr: up, annotations: {a-b: x}}",
                "invalid annotation name: a-b",
            ),
        ] {
            let found = rule(body);
            assert!(
                found.iter().any(|p| p.ends_with(expected)),
                "{body}: {found:?}"
            );
        }
    }

    #[test]
    fn what_promtool_accepts_is_no_problem() {
        for body in [
            "{record: a, expr: up, for: 0s, keep_firing_for: 0, annotations: {}}",
            "{record: \"\", alert: a, expr: up}",
            "{record: \"null\", expr: up}",
            "{alert: ~, expr: \" \"}",
            "{alert: a, expr: up, for: ~, labels: {a: ~}}",
        ] {
            assert_eq!(rule(body), Vec::<String>::new(), "{body}");
        }
    }

    #[test]
    fn group_problems_and_repeated_names() {
        let found = problems(
            "groups:\n- rules: []\n- name: g\n  interval: 1.5h\n- name: g\n",
            GroupFields::Prometheus2_42,
        );
        assert_eq!(
            found,
            [
                "Groupname must not be empty",
                "group \"g\": interval: not a valid duration string: \"1.5h\"",
                "groupname: \"g\" is repeated in the same file",
            ]
        );
    }

    #[test]
    fn newer_group_fields_are_the_named_leniency() {
        let text = "groups:\n- name: g\n  query_offset: 1m\n  labels: {team: ml, a-b: x}\n";
        let strict = problems(text, GroupFields::Prometheus2_42);
        assert!(
            strict[0].contains("field query_offset not found"),
            "{strict:?}"
        );
        assert!(strict[1].contains("field labels not found"), "{strict:?}");
        assert_eq!(
            problems(text, GroupFields::Prometheus3),
            ["group \"g\": invalid label name: a-b"]
        );
    }
}
