//! Loading one Prometheus rule file into checked [`RuleGroup`]s with parsed PromQL and
//! parsed templates: [`super::source`] decodes it, [`super::validate`] checks it, and
//! this module compiles what is left.
//!
//! Invariants: a file loads exactly when promtool 2.42 accepts it (with
//! [`RuleFileOptions::default`]); every error names the file, and the line where the
//! YAML parser knows it; errors come in file order, group by group and rule by rule.

use std::collections::BTreeMap;

use super::source::{decode_rule_file, expr_position, RuleFileSource, RuleSource};
use super::validate::{validate_file, GroupFields};
use crate::prometheus::gotemplate::AlertTemplate;
use crate::prometheus::model::duration::parse_model_duration;
use crate::prometheus::model::go_quote;
use crate::prometheus::promql::{parse_query, prometheus_parse_error, Expr, Semantics};
use promql_parser::parser::VectorSelector;

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

/// How a rule file is read: the PromQL dialect of its expressions and the group fields
/// it may use. The default reads as promtool 2.42 does.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RuleFileOptions {
    pub semantics: Semantics,
    pub group_fields: GroupFields,
}

/// Decodes and validates one rule file without compiling its expressions or templates;
/// `file` names it in errors. Every problem found is returned, as Prometheus reports them
/// all.
pub fn read_rule_file(
    file: &str,
    text: &str,
    group_fields: GroupFields,
) -> Result<RuleFileSource, Vec<String>> {
    let source = decode_rule_file(text).map_err(|e| vec![format!("{file}: {e}")])?;
    let errors: Vec<String> = validate_file(&source, group_fields)
        .iter()
        .map(|error| format!("{file}: {}", error.message(&source)))
        .collect();
    if errors.is_empty() {
        Ok(source)
    } else {
        Err(errors)
    }
}

/// Parses and checks one rule file into groups ready to evaluate: the schema as
/// [`read_rule_file`] checks it, then every expression and alert template. `file` names
/// it in errors; every problem found is returned, in file order.
pub fn load_rule_file(
    file: &str,
    text: &str,
    options: RuleFileOptions,
) -> Result<Vec<RuleGroup>, Vec<String>> {
    let source = decode_rule_file(text).map_err(|e| vec![format!("{file}: {e}")])?;
    let mut schema_errors: BTreeMap<(usize, usize), Vec<String>> = BTreeMap::new();
    for error in validate_file(&source, options.group_fields) {
        schema_errors
            .entry(error.place())
            .or_default()
            .push(format!("{file}: {}", error.message(&source)));
    }
    let mut errors = Vec::new();
    let mut groups = Vec::new();
    for (group_index, group) in source.groups.iter().enumerate() {
        errors.extend(schema_errors.remove(&(group_index, 0)).unwrap_or_default());
        let group_labels = group.labels.clone().unwrap_or_default();
        let mut rules = Vec::new();
        for (rule_index, rule) in group.rules.iter().enumerate() {
            let schema = schema_errors
                .remove(&(group_index, rule_index + 1))
                .unwrap_or_default();
            let compiled = compile_rule(rule, &group_labels, options.semantics);
            match compiled {
                Ok(rule) if schema.is_empty() => rules.push(rule),
                Ok(_) => errors.extend(schema),
                Err(problems) => {
                    errors.extend(schema);
                    let context = format!(
                        "group {:?}, rule {}, {:?}",
                        group.name,
                        rule_index + 1,
                        rule.name()
                    );
                    // rulefmt puts the position of the `expr` node before the group.
                    let at_expr = expr_position(text, group_index, rule_index)
                        .map_or(String::new(), |(line, column)| format!("{line}:{column}: "));
                    errors.extend(problems.into_iter().map(|problem| {
                        let at = if problem.at_expr {
                            at_expr.as_str()
                        } else {
                            ""
                        };
                        format!("{file}: {at}{context}: {}", problem.message)
                    }));
                }
            }
        }
        let duration = |text: &Option<String>| {
            text.as_deref()
                .and_then(|text| parse_model_duration(text).ok())
        };
        groups.push(RuleGroup {
            name: group.name.clone(),
            file: file.to_string(),
            interval_ms: duration(&group.interval),
            query_offset_ms: duration(&group.query_offset).unwrap_or(0),
            limit: usize::try_from(group.limit).unwrap_or(0),
            rules,
        });
    }
    if errors.is_empty() {
        Ok(groups)
    } else {
        Err(errors)
    }
}

/// What parsing a rule found wrong, and whether rulefmt names the `expr` node with it.
struct CompileProblem {
    at_expr: bool,
    message: String,
}

/// A rule's expression and alert templates parsed, for a rule whose schema problems are
/// reported elsewhere: what fails here is only what parsing found.
fn compile_rule(
    raw: &RuleSource,
    group_labels: &BTreeMap<String, String>,
    semantics: Semantics,
) -> Result<Rule, Vec<CompileProblem>> {
    let mut problems = Vec::new();
    let expr = if raw.expr.is_empty() {
        None
    } else {
        match parse_query(&raw.expr, semantics) {
            Ok(mut expr) => {
                sort_matchers_as_printed(&mut expr);
                Some(expr)
            }
            Err(e) => {
                problems.push(CompileProblem {
                    at_expr: true,
                    message: format!(
                        "could not parse expression: {}",
                        prometheus_parse_error(&raw.expr, &e.to_string())
                    ),
                });
                None
            }
        }
    };
    let mut labels = group_labels.clone();
    labels.extend(raw.labels.iter().map(|(k, v)| (k.clone(), v.clone())));
    let duration = |text: &Option<String>| {
        text.as_deref()
            .and_then(|text| parse_model_duration(text).ok())
            .unwrap_or(0)
    };
    let kind = if raw.is_alert() {
        let name = raw.alert.clone();
        let mut label_templates = BTreeMap::new();
        let mut annotation_templates = BTreeMap::new();
        for (what, source, target) in [
            ("label", &labels, &mut label_templates),
            ("annotation", &raw.annotations, &mut annotation_templates),
        ] {
            for (key, text) in source {
                let report = crate::prometheus::gotemplate::validate_alert_template(&name, text);
                if let Some(error) = report.error {
                    problems.push(CompileProblem {
                        at_expr: false,
                        message: format!("{what} {key:?}: template: {}", error.message),
                    });
                }
                target.insert(key.clone(), AlertTemplate::new(&name, text));
            }
        }
        RuleKind::Alerting {
            name,
            for_ms: duration(&raw.for_),
            keep_firing_for_ms: duration(&raw.keep_firing_for),
            annotations: raw.annotations.clone(),
            label_templates,
            annotation_templates,
        }
    } else {
        RuleKind::Recording {
            name: raw.record.clone(),
        }
    };
    match expr {
        Some(expr) if problems.is_empty() => Ok(Rule {
            kind,
            expr_text: raw.expr.clone(),
            expr,
            labels,
        }),
        _ => Err(problems),
    }
}

/// Prometheus evaluates a rule through its printed text (`expr.String()`), which lists
/// a selector's matchers sorted by their text; `absent()` tells, as the order of two
/// matchers on one label decides whether the label is kept.
fn sort_matchers_as_printed(expr: &mut Expr) {
    let sort = |selector: &mut VectorSelector| {
        selector.matchers.matchers.sort_by_cached_key(|matcher| {
            format!(
                "{}{}{}",
                matcher.name,
                matcher.op,
                go_quote::quote(&matcher.value)
            )
        });
    };
    match expr {
        Expr::VectorSelector(selector) => sort(selector),
        Expr::MatrixSelector(matrix) => sort(&mut matrix.vs),
        Expr::Call(call) => {
            for arg in &mut call.args.args {
                sort_matchers_as_printed(arg);
            }
        }
        Expr::Aggregate(aggregate) => {
            sort_matchers_as_printed(&mut aggregate.expr);
            if let Some(param) = aggregate.param.as_mut() {
                sort_matchers_as_printed(param);
            }
        }
        Expr::Unary(unary) => sort_matchers_as_printed(&mut unary.expr),
        Expr::Binary(binary) => {
            sort_matchers_as_printed(&mut binary.lhs);
            sort_matchers_as_printed(&mut binary.rhs);
        }
        Expr::Paren(paren) => sort_matchers_as_printed(&mut paren.expr),
        Expr::Subquery(subquery) => sort_matchers_as_printed(&mut subquery.expr),
        _ => {}
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
        let options = RuleFileOptions {
            group_fields: GroupFields::Prometheus3,
            ..RuleFileOptions::default()
        };
        let groups = load_rule_file("r.yml", text, options).expect("valid file");
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
            let errors = load_rule_file("r.yml", text, RuleFileOptions::default()).expect_err(text);
            assert!(
                errors.iter().any(|e| e.contains(expected)),
                "{text}: {errors:?}"
            );
        }
    }

    #[test]
    fn group_labels_need_the_newer_group_fields() {
        let text = "groups:\n- name: g\n  labels: {a: b}\n  rules: []\n";
        let errors = load_rule_file("r.yml", text, RuleFileOptions::default())
            .expect_err("2.42 has no group labels");
        assert_eq!(
            errors,
            ["r.yml: group \"g\": field labels not found in type rulefmt.RuleGroup (a group field of Prometheus 3.0)"]
        );
    }

    #[test]
    fn errors_come_rule_by_rule_in_file_order() {
        let text = "groups:\n- name: g\n  rules:\n  - {alert: a, expr: \"sum(\", for: x}\n  - {record: b-c, expr: up}\n";
        let errors = load_rule_file("r.yml", text, RuleFileOptions::default()).expect_err("bad");
        assert_eq!(errors.len(), 3, "{errors:?}");
        assert!(errors[0].contains("rule 1, \"a\": for: not a valid duration"));
        assert!(errors[1].contains("rule 1, \"a\": could not parse expression"));
        assert!(errors[2].contains("rule 2, \"b-c\": invalid recording rule name"));
    }

    #[test]
    fn unknown_field_errors_carry_a_line() {
        let errors = load_rule_file(
            "r.yml",
            "groups:\n  - name: g\n    bogus: 1\n",
            RuleFileOptions::default(),
        )
        .expect_err("unknown field");
        assert!(errors[0].contains("line 3"), "{errors:?}");
    }
}
