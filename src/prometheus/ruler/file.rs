//! Loading one Prometheus rule file: YAML (`groups:` of recording and alerting rules)
//! into checked [`RuleGroup`]s with parsed PromQL and parsed templates.
//!
//! Invariants: strict like Prometheus (`yaml.UnmarshalStrict` plus `rulefmt`'s
//! validation): unknown fields, repeated group names, a rule that is both or neither
//! `record` and `alert`, recording rules with `for`/`annotations`, bad metric or label
//! names and unparsable expressions are errors naming the file, and the line where the
//! YAML parser knows it.

use std::collections::{BTreeMap, BTreeSet};

use serde::Deserialize;

use crate::prometheus::gotemplate::AlertTemplate;
use crate::prometheus::model::duration::parse_model_duration;
use crate::prometheus::model::names::{is_legacy_label_name, is_legacy_metric_name};
use crate::prometheus::promql::{parse_query, Expr, Semantics};

/// One checked rule group.
#[derive(Clone, Debug)]
pub struct RuleGroup {
    pub name: String,
    /// The file the group came from, as the caller named it.
    pub file: String,
    pub interval_ms: Option<i64>,
    pub query_offset_ms: i64,
    /// 0 means no limit.
    pub limit: usize,
    pub rules: Vec<Rule>,
}

/// One checked rule; group labels are already merged into `labels` (rule labels win).
#[derive(Clone, Debug)]
pub struct Rule {
    pub kind: RuleKind,
    pub expr_text: String,
    pub expr: Expr,
    pub labels: BTreeMap<String, String>,
}

#[derive(Clone, Debug)]
pub enum RuleKind {
    Recording {
        name: String,
    },
    Alerting {
        name: String,
        for_ms: i64,
        keep_firing_for_ms: i64,
        annotations: BTreeMap<String, String>,
        /// Parsed label templates, by label name (same keys as `Rule::labels`).
        label_templates: BTreeMap<String, AlertTemplate>,
        annotation_templates: BTreeMap<String, AlertTemplate>,
    },
}

impl Rule {
    /// The record or alert name.
    pub fn name(&self) -> &str {
        match &self.kind {
            RuleKind::Recording { name } | RuleKind::Alerting { name, .. } => name,
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFile {
    #[serde(default)]
    groups: Vec<RawGroup>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawGroup {
    #[serde(default)]
    name: String,
    #[serde(default, deserialize_with = "scalar_string")]
    interval: Option<String>,
    #[serde(default, deserialize_with = "scalar_string")]
    query_offset: Option<String>,
    #[serde(default)]
    limit: usize,
    #[serde(default, deserialize_with = "string_map")]
    labels: BTreeMap<String, String>,
    #[serde(default)]
    rules: Vec<RawRule>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRule {
    #[serde(default, deserialize_with = "scalar_string")]
    record: Option<String>,
    #[serde(default, deserialize_with = "scalar_string")]
    alert: Option<String>,
    #[serde(default, deserialize_with = "scalar_string")]
    expr: Option<String>,
    #[serde(default, rename = "for", deserialize_with = "scalar_string")]
    for_: Option<String>,
    #[serde(default, deserialize_with = "scalar_string")]
    keep_firing_for: Option<String>,
    #[serde(default, deserialize_with = "string_map")]
    labels: BTreeMap<String, String>,
    #[serde(default, deserialize_with = "string_map")]
    annotations: BTreeMap<String, String>,
}

/// The text of a YAML scalar, as Go's yaml decodes any scalar into a string field.
pub(crate) fn scalar_text(value: &yaml_serde::Value) -> Option<String> {
    match value {
        yaml_serde::Value::String(s) => Some(s.clone()),
        yaml_serde::Value::Number(n) => Some(n.to_string()),
        yaml_serde::Value::Bool(b) => Some(b.to_string()),
        yaml_serde::Value::Null => Some(String::new()),
        _ => None,
    }
}

pub(crate) fn scalar_string<'de, D: serde::Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<String>, D::Error> {
    let value = yaml_serde::Value::deserialize(deserializer)?;
    if value.is_null() {
        return Ok(None);
    }
    scalar_text(&value)
        .map(Some)
        .ok_or_else(|| serde::de::Error::custom("expected a scalar value"))
}

pub(crate) fn string_map<'de, D: serde::Deserializer<'de>>(
    deserializer: D,
) -> Result<BTreeMap<String, String>, D::Error> {
    let value = yaml_serde::Value::deserialize(deserializer)?;
    let mut out = BTreeMap::new();
    match value {
        yaml_serde::Value::Null => {}
        yaml_serde::Value::Mapping(mapping) => {
            for (key, value) in mapping {
                let key = scalar_text(&key)
                    .ok_or_else(|| serde::de::Error::custom("expected a scalar key"))?;
                let value = scalar_text(&value)
                    .ok_or_else(|| serde::de::Error::custom("expected a scalar value"))?;
                out.insert(key, value);
            }
        }
        _ => return Err(serde::de::Error::custom("expected a mapping of strings")),
    }
    Ok(out)
}

/// Parses and checks one rule file. `file` names it in errors. Every problem found is
/// returned, as Prometheus reports them all.
pub fn load_rule_file(
    file: &str,
    text: &str,
    semantics: Semantics,
) -> Result<Vec<RuleGroup>, Vec<String>> {
    let raw: RawFile = yaml_serde::from_str(text).map_err(|e| vec![format!("{file}: {e}")])?;
    let mut errors = Vec::new();
    let mut groups = Vec::new();
    let mut seen_names = BTreeSet::new();
    for raw_group in raw.groups {
        if raw_group.name.is_empty() {
            errors.push(format!("{file}: Groupname must not be empty"));
        }
        if !seen_names.insert(raw_group.name.clone()) {
            errors.push(format!(
                "{file}: groupname: \"{}\" is repeated in the same file",
                raw_group.name
            ));
        }
        let group_name = raw_group.name.clone();
        let duration = |text: &Option<String>, what: &str, errors: &mut Vec<String>| match text {
            None => None,
            Some(text) => match parse_model_duration(text) {
                Ok(ms) => Some(ms),
                Err(e) => {
                    errors.push(format!("{file}: group {group_name:?}: {what}: {e}"));
                    None
                }
            },
        };
        let interval_ms = duration(&raw_group.interval, "interval", &mut errors);
        let query_offset_ms =
            duration(&raw_group.query_offset, "query_offset", &mut errors).unwrap_or(0);
        for name in raw_group.labels.keys() {
            if !is_legacy_label_name(name) {
                errors.push(format!(
                    "{file}: group {group_name:?}: invalid label name: {name}"
                ));
            }
        }
        let mut rules = Vec::new();
        for (index, raw_rule) in raw_group.rules.into_iter().enumerate() {
            let rule_name = raw_rule
                .record
                .clone()
                .or_else(|| raw_rule.alert.clone())
                .unwrap_or_default();
            let context = format!(
                "{file}: group {group_name:?}, rule {}, {rule_name:?}",
                index + 1
            );
            match check_rule(raw_rule, &raw_group.labels, semantics) {
                Ok(rule) => rules.push(rule),
                Err(problems) => {
                    errors.extend(problems.into_iter().map(|p| format!("{context}: {p}")))
                }
            }
        }
        groups.push(RuleGroup {
            name: raw_group.name,
            file: file.to_string(),
            interval_ms,
            query_offset_ms,
            limit: raw_group.limit,
            rules,
        });
    }
    if errors.is_empty() {
        Ok(groups)
    } else {
        Err(errors)
    }
}

fn check_rule(
    raw: RawRule,
    group_labels: &BTreeMap<String, String>,
    semantics: Semantics,
) -> Result<Rule, Vec<String>> {
    let mut problems = Vec::new();
    let record = raw.record.filter(|s| !s.is_empty());
    let alert = raw.alert.filter(|s| !s.is_empty());
    match (&record, &alert) {
        (Some(_), Some(_)) => {
            problems.push("only one of 'record' and 'alert' must be set".to_string())
        }
        (None, None) => problems.push("one of 'record' or 'alert' must be set".to_string()),
        _ => {}
    }
    let expr_text = raw.expr.unwrap_or_default();
    let expr = if expr_text.is_empty() {
        problems.push("field 'expr' must be set in rule".to_string());
        None
    } else {
        match parse_query(&expr_text, semantics) {
            Ok(expr) => Some(expr),
            Err(e) => {
                problems.push(format!("could not parse expression: {e}"));
                None
            }
        }
    };
    let mut labels = group_labels.clone();
    for (name, value) in &raw.labels {
        if !is_legacy_label_name(name) {
            problems.push(format!("invalid label name: {name}"));
        }
        labels.insert(name.clone(), value.clone());
    }
    let duration = |text: &Option<String>, what: &str, problems: &mut Vec<String>| match text {
        None => 0,
        Some(text) => parse_model_duration(text).unwrap_or_else(|e| {
            problems.push(format!("{what}: {e}"));
            0
        }),
    };
    let for_ms = duration(&raw.for_, "for", &mut problems);
    let keep_firing_for_ms = duration(&raw.keep_firing_for, "keep_firing_for", &mut problems);
    let kind = if let Some(name) = record {
        if raw.for_.is_some() {
            problems.push("invalid field 'for' in recording rule".to_string());
        }
        if raw.keep_firing_for.is_some() {
            problems.push("invalid field 'keep_firing_for' in recording rule".to_string());
        }
        if !raw.annotations.is_empty() {
            problems.push("invalid field 'annotations' in recording rule".to_string());
        }
        if !is_legacy_metric_name(&name) {
            problems.push(format!("invalid recording rule name: {name}"));
        }
        RuleKind::Recording { name }
    } else {
        let name = alert.unwrap_or_default();
        let mut label_templates = BTreeMap::new();
        let mut annotation_templates = BTreeMap::new();
        for (what, source, target) in [
            ("label", &labels, &mut label_templates),
            ("annotation", &raw.annotations, &mut annotation_templates),
        ] {
            for (key, text) in source {
                let template = AlertTemplate::new(&name, text);
                let report = crate::prometheus::gotemplate::validate_alert_template(&name, text);
                if let Some(error) = report.error {
                    problems.push(format!("{what} {key:?}: template: {}", error.message));
                }
                target.insert(key.clone(), template);
            }
        }
        for name in raw.annotations.keys() {
            if !is_legacy_label_name(name) {
                problems.push(format!("invalid annotation name: {name}"));
            }
        }
        RuleKind::Alerting {
            name,
            for_ms,
            keep_firing_for_ms,
            annotations: raw.annotations,
            label_templates,
            annotation_templates,
        }
    };
    match expr {
        Some(expr) if problems.is_empty() => Ok(Rule {
            kind,
            expr_text,
            expr,
            labels,
        }),
        _ => Err(problems),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loads_groups_in_file_order_with_group_labels() {
        let text = r#"
groups:
  - name: b
    labels: {team: ml}
    rules:
      - record: job:x:sum
        expr: sum by (job) (x)
      - alert: High
        expr: job:x:sum > 1
        for: 5m
        labels: {severity: page, team: sre}
        annotations: {summary: "{{ $value }}"}
  - name: a
    interval: 30s
    rules: []
"#;
        let groups = load_rule_file("r.yml", text, Semantics::V2).expect("valid file");
        assert_eq!(groups.len(), 2);
        assert_eq!(groups[0].name, "b");
        assert_eq!(groups[1].interval_ms, Some(30_000));
        assert_eq!(
            groups[0].rules[0].labels.get("team").map(String::as_str),
            Some("ml")
        );
        assert_eq!(
            groups[0].rules[1].labels.get("team").map(String::as_str),
            Some("sre")
        );
        assert!(matches!(
            groups[0].rules[1].kind,
            RuleKind::Alerting {
                for_ms: 300_000,
                ..
            }
        ));
    }

    #[test]
    fn strictness_errors_name_the_problem() {
        let cases = [
            ("groups:\n  - name: g\n    rulez: []\n", "unknown field `rulez`"),
            ("groups:\n  - name: g\n    rules:\n      - record: x\n        alert: y\n        expr: up\n", "only one of"),
            ("groups:\n  - name: g\n    rules:\n      - record: x\n", "field 'expr' must be set"),
            ("groups:\n  - name: g\n    rules:\n      - alert: A\n        expr: sum(\n", "could not parse expression"),
            ("groups:\n  - name: g\n  - name: g\n", "is repeated"),
            ("groups:\n  - name: g\n    rules:\n      - record: x\n        expr: up\n        for: 5m\n", "invalid field 'for'"),
            ("groups:\n  - name: g\n    rules:\n      - alert: A\n        expr: up\n        annotations: {s: '{{ '}\n", "annotation \"s\""),
        ];
        for (text, expected) in cases {
            let errors = load_rule_file("r.yml", text, Semantics::V2).expect_err(text);
            assert!(
                errors.iter().any(|e| e.contains(expected)),
                "{text}: {errors:?}"
            );
        }
    }

    #[test]
    fn unknown_field_errors_carry_a_line() {
        let errors = load_rule_file(
            "r.yml",
            "groups:\n  - name: g\n    bogus: 1\n",
            Semantics::V2,
        )
        .expect_err("unknown field");
        assert!(errors[0].contains("line 3"), "{errors:?}");
    }
}
