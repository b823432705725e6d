//! The alerts the generated files can send to Alertmanager, one per alerting
//! rule and watch, with the labels and annotations they carry.
//!
//! Invariants: labels and annotations are the emitters' own (never rebuilt
//! here), unescaped, with `alertname` added as Prometheus and the watches add
//! it; in the order of services, then objectives, then rules.

use std::collections::BTreeMap;

use crate::base::diagnostic::Span;
use crate::base::parallel::in_parallel_balanced;
use crate::compiler::emit::monitoring::monitoring_groups;
use crate::compiler::emit::prometheus::{alert_labels, AlertRule, Rule, WhichRules};
use crate::compiler::emit::service_rule_groups;
use crate::compiler::ir::naming;
use crate::compiler::ir::{LogsCondition, Monitoring, ObjectiveKind, Program, Service};

/// One generated alert.
#[derive(Clone, Debug)]
pub struct GeneratedAlert {
    /// The name of the objective it comes from.
    pub objective_span: Span,
    /// The labels the rule or watch sets, `alertname` included. An alert of a
    /// threshold rule also carries the labels of its series, which are not
    /// known here; Prometheus' external labels may join any alert. Neither can
    /// override these.
    pub labels: BTreeMap<String, String>,
    pub annotations: BTreeMap<String, String>,
}

/// Every alert of every objective, in declaration order, then the alerts about
/// Prometheus and Alertmanager themselves; services are generated on all cores.
pub fn generated_alerts(program: &Program) -> Vec<GeneratedAlert> {
    let mut alerts = in_parallel_balanced(&program.services, 16, |services| {
        services
            .iter()
            .flat_map(|service| service_alerts(service, &program.monitoring))
            .collect()
    });
    let span = program
        .monitoring
        .span
        .or(program
            .routing
            .as_ref()
            .map(|routing| routing.keyword_span()))
        .or(program.services.first().map(|service| service.name_span));
    if let Some(span) = span {
        for group in monitoring_groups(program) {
            alerts.extend(group.rules.into_iter().filter_map(|rule| match rule {
                Rule::Alerting(rule) => Some(alert_of(rule, span)),
                Rule::Recording { .. } => None,
            }));
        }
    }
    alerts
}

fn alert_of(rule: AlertRule, span: Span) -> GeneratedAlert {
    let mut labels = rule.labels;
    labels.insert("alertname".to_owned(), rule.alert);
    GeneratedAlert {
        objective_span: span,
        labels,
        annotations: rule.annotations.into_iter().collect(),
    }
}

fn service_alerts(service: &Service, monitoring: &Monitoring) -> Vec<GeneratedAlert> {
    let mut alerts = Vec::new();
    let mut service_level = Vec::new();
    let mut rules_by_objective: BTreeMap<&str, Vec<Rule>> = BTreeMap::new();
    for group in service_rule_groups(service, monitoring, WhichRules::AlertingOnly) {
        for rule in group.rules {
            if let Rule::Alerting(alert) = &rule {
                if !alert.labels.contains_key(naming::LABEL_SLO) {
                    // The service's own monitoring alerts (its rule evaluation),
                    // after its objectives' alerts.
                    service_level.push(alert_of(alert.clone(), service.name_span));
                    continue;
                }
                if let Some(slo) = alert.labels.get(naming::LABEL_SLO) {
                    if let Some(objective) = service
                        .objectives
                        .iter()
                        .find(|objective| &objective.name == slo)
                    {
                        rules_by_objective
                            .entry(objective.name.as_str())
                            .or_default()
                            .push(rule);
                    }
                }
            }
        }
    }
    for objective in &service.objectives {
        if let ObjectiveKind::Logs {
            condition,
            severity,
            ..
        } = &objective.kind
        {
            let alert_name = match condition {
                LogsCondition::MaxCount { .. } => naming::ALERT_LOG_COUNT_HIGH,
                LogsCondition::MaxRatio { .. } => naming::ALERT_LOG_RATIO_HIGH,
            };
            let mut labels = alert_labels(service, objective, service.severities.of(*severity));
            labels.insert("alertname".to_owned(), alert_name.to_owned());
            alerts.push(GeneratedAlert {
                objective_span: objective.name_span,
                labels,
                annotations: BTreeMap::new(),
            });
            continue;
        }
        for rule in rules_by_objective
            .remove(objective.name.as_str())
            .unwrap_or_default()
        {
            let Rule::Alerting(rule) = rule else {
                continue;
            };
            alerts.push(alert_of(rule, objective.name_span));
        }
    }
    alerts.extend(service_level);
    alerts
}
