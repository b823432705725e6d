//! Rules that watch the monitoring path the objectives depend on: a dead man's
//! switch, alerts on the evaluation of the generated rule groups, on Alertmanager's
//! notification failures, on the scrape targets behind each objective's series, and
//! on the self-metrics those alerts read being missing (which would blind them).
//!
//! Invariants:
//! - every alert carries `kind="monitoring"`; alerts about one service's rules and
//!   targets carry its identity, team and labels, so they route like its other
//!   alerts; alerts about Prometheus and Alertmanager carry the `monitoring` team;
//! - no alert here is a page that could mute an unrelated ticket: the only page is a
//!   service's rule evaluation failures, which mutes (through the built-in
//!   page-over-ticket rule, on `service, slo`) only the same service's missed
//!   evaluations, its own symptom;
//! - the rule-group matchers name groups, not files: Prometheus labels each group
//!   `<file>;<group>`, and where the files are deployed is not mlslo's to know;
//! - every rule reads only metrics Prometheus and Alertmanager export themselves
//!   (`up`, `prometheus_rule_*`, `alertmanager_notifications_*`) or the objective's
//!   own selectors, and an alert fires when those self-metrics are missing.

use std::collections::BTreeMap;

use crate::compiler::emit::prometheus::{
    absent_selectors, identity_labels, recorded, AlertRule, Rule, RuleGroup, WhichRules, ABSENT_FOR,
};
use crate::compiler::ir::naming;
use crate::compiler::ir::{
    push_promql_string, Duration, Monitoring, Objective, Program, Service, Severities, Tier,
};

/// How long rule evaluation must fail, or iterations be missed, before the alert:
/// as kube-prometheus' `PrometheusRuleFailures`, long enough that one slow query
/// during a compaction does not page.
pub const RULE_FAILURES_FOR: Duration = Duration::minutes(15);
/// The window over which failures are counted.
pub const RULE_FAILURES_WINDOW: Duration = Duration::minutes(5);
/// Notification failures: the share of failed notifications per integration above
/// which Alertmanager is failing, and for how long.
pub const NOTIFICATION_FAILURE_RATIO: &str = "0.01";
pub const NOTIFICATIONS_FAILING_FOR: Duration = Duration::minutes(5);
/// How long the self-metrics must be missing: a Prometheus restart ends well before.
pub const METRICS_ABSENT_FOR: Duration = Duration::minutes(15);

/// The service's monitoring group, `None` when rule failures and targets down are
/// both off or the service has nothing Prometheus evaluates.
pub fn service_monitoring_group(
    service: &Service,
    monitoring: &Monitoring,
    which: WhichRules,
) -> Option<RuleGroup> {
    let mut rules = Vec::new();
    if monitoring.rule_failures {
        rules.extend(rule_failure_alerts(service).map(Rule::Alerting));
    }
    if monitoring.targets_down {
        for objective in &service.objectives {
            rules.extend(target_down_rules(service, objective, which));
        }
    }
    (!rules.is_empty()).then(|| RuleGroup {
        name: naming::group_service_monitoring(&service.name),
        rules,
    })
}

/// The labels of a service's monitoring alert.
fn service_labels(service: &Service, severity: &str) -> BTreeMap<String, String> {
    let mut labels = service.labels.clone();
    labels.insert(naming::LABEL_SERVICE.to_owned(), service.name.clone());
    labels.insert(
        naming::LABEL_KIND.to_owned(),
        naming::KIND_MONITORING.to_owned(),
    );
    labels.insert(naming::LABEL_TEAM.to_owned(), service.team.clone());
    labels.insert(naming::LABEL_SEVERITY.to_owned(), severity.to_owned());
    labels
}

fn rule_group_selector(metric: &str, service: &Service) -> String {
    let mut selector = format!("{metric}{{rule_group=~");
    push_promql_string(
        &mut selector,
        &naming::service_rule_group_regex(&service.name),
    );
    selector.push('}');
    selector
}

fn summary_and_description(
    service: &Service,
    summary: String,
    description: String,
) -> Vec<(String, String)> {
    let mut annotations = vec![
        (naming::ANNOTATION_SUMMARY.to_owned(), summary),
        (naming::ANNOTATION_DESCRIPTION.to_owned(), description),
    ];
    if let Some(runbook) = &service.runbook {
        annotations.push((naming::ANNOTATION_RUNBOOK.to_owned(), runbook.clone()));
    }
    annotations
}

/// A failing rule of the service's groups (a query error, a timeout, a duplicate
/// series) pages: its burn-rate alerts cannot fire while it fails. Missed
/// iterations (a group slower than its interval) make alerts late: a ticket.
fn rule_failure_alerts(service: &Service) -> impl Iterator<Item = AlertRule> {
    let has_rules = service
        .objectives
        .iter()
        .any(|objective| !absent_selectors(&objective.kind).is_empty());
    let failures = rule_group_selector("prometheus_rule_evaluation_failures_total", service);
    let missed = rule_group_selector("prometheus_rule_group_iterations_missed_total", service);
    let window = RULE_FAILURES_WINDOW;
    let alerts = [
        AlertRule {
            alert: naming::ALERT_RULE_EVALUATION_FAILURES.to_owned(),
            expr: format!("increase({failures}[{window}]) > 0"),
            for_: RULE_FAILURES_FOR,
            keep_firing_for: Duration::ZERO,
            labels: service_labels(service, service.severities.of(Tier::Page)),
            templates: Vec::new(),
            annotations: summary_and_description(
                service,
                format!("Prometheus fails to evaluate the SLO rules of {}", service.name),
                format!(
                    "Rules of the groups {} fail to evaluate (see the rule_group label and Prometheus' log): while they fail, the objectives of {} record nothing and their alerts cannot fire.",
                    naming::service_rule_group_regex(&service.name),
                    service.name
                ),
            ),
        },
        AlertRule {
            alert: naming::ALERT_RULE_EVALUATIONS_MISSED.to_owned(),
            expr: format!("increase({missed}[{window}]) > 0"),
            for_: RULE_FAILURES_FOR,
            keep_firing_for: Duration::ZERO,
            labels: service_labels(service, service.severities.of(Tier::Ticket)),
            templates: Vec::new(),
            annotations: summary_and_description(
                service,
                format!("Prometheus misses evaluations of the SLO rules of {}", service.name),
                format!(
                    "A rule group of {} takes longer than its interval, so Prometheus skips evaluations: the objectives' alerts fire late.",
                    service.name
                ),
            ),
        },
    ];
    alerts.into_iter().filter(move |_| has_rules)
}

/// The objective's scrape targets, remembered while they stay in service discovery
/// (`up` exists), and an alert when one of them is down: the objective then counts
/// only part of its events, and nothing else says so until every target is gone.
fn target_down_rules(service: &Service, objective: &Objective, which: WhichRules) -> Vec<Rule> {
    let selectors = absent_selectors(&objective.kind);
    if selectors.is_empty() {
        return Vec::new();
    }
    let remembered = recorded(naming::SLO_SCRAPE_TARGETS, service, objective);
    let mut rules = Vec::new();
    if which == WhichRules::All {
        let mut sources = selectors.join("\n  or ");
        sources.push_str(&format!("\n  or ({remembered} and on (job, instance) up)"));
        rules.push(Rule::Recording {
            record: naming::SLO_SCRAPE_TARGETS.to_owned(),
            expr: format!("group by (job, instance) (\n  {sources}\n)"),
            labels: identity_labels(service, objective),
        });
    }
    let mut labels = service_labels(service, service.severities.of(Tier::Ticket));
    labels.extend(objective.labels.clone());
    labels.insert(naming::LABEL_SLO.to_owned(), objective.name.clone());
    let alert = AlertRule {
        alert: naming::ALERT_SCRAPE_TARGET_DOWN.to_owned(),
        expr: format!("up == 0\nand on (job, instance)\n{remembered}"),
        for_: ABSENT_FOR,
        keep_firing_for: Duration::ZERO,
        labels,
        templates: Vec::new(),
        annotations: summary_and_description(
            service,
            format!(
                "A scrape target behind {}/{} is down",
                service.name, objective.name
            ),
            format!(
                "The target named by the job and instance labels exposed {} and has been down for {ABSENT_FOR}: the objective counts only the other targets' events.",
                selectors.join(" or ")
            ),
        ),
    };
    rules.push(Rule::Alerting(alert));
    rules
}

/// The rules about Prometheus and Alertmanager themselves; empty when the program
/// has no service or everything is switched off.
pub fn monitoring_groups(program: &Program) -> Vec<RuleGroup> {
    let monitoring = &program.monitoring;
    let severities = program.severities();
    if program.services.is_empty() {
        return Vec::new();
    }
    let mut rules = Vec::new();
    if let Some(receiver) = monitoring.heartbeat_receiver() {
        rules.push(Rule::Alerting(AlertRule {
            alert: naming::ALERT_WATCHDOG.to_owned(),
            expr: "vector(1)".to_owned(),
            for_: Duration::ZERO,
            keep_firing_for: Duration::ZERO,
            labels: global_labels(monitoring, naming::SEVERITY_HEARTBEAT),
            templates: Vec::new(),
            annotations: vec![
                (
                    naming::ANNOTATION_SUMMARY.to_owned(),
                    "The alerting pipeline is alive".to_owned(),
                ),
                (
                    naming::ANNOTATION_DESCRIPTION.to_owned(),
                    format!(
                        "Always firing. Alertmanager sends it to the receiver {receiver} every {}; the heartbeat service alerts when it stops arriving, because then Prometheus, its rules or Alertmanager have stopped.",
                        monitoring.heartbeat_interval
                    ),
                ),
            ],
        }));
    }
    if monitoring.rule_failures {
        let mut selector = "prometheus_rule_evaluation_failures_total{rule_group=~".to_owned();
        push_promql_string(
            &mut selector,
            &format!(".*;{}", naming::regex_escape(naming::GROUP_MONITORING)),
        );
        selector.push('}');
        rules.push(Rule::Alerting(metrics_absent(
            monitoring,
            &severities,
            "prometheus_rule_evaluation_failures_total",
            selector,
            "Prometheus does not scrape its own metrics",
            "so the alerts on failing and missed rule evaluations cannot fire. Add a scrape job for Prometheus itself, or set `rule_failures = false` in the monitoring block.",
        )));
    }
    if monitoring.notification_failures {
        let ratio = NOTIFICATION_FAILURE_RATIO;
        rules.push(Rule::Alerting(AlertRule {
            alert: naming::ALERT_NOTIFICATIONS_FAILING.to_owned(),
            expr: format!(
                "sum without (reason) (rate(alertmanager_notifications_failed_total[5m]))\n/\nsum without (reason) (rate(alertmanager_notifications_total[5m]))\n> {ratio}"
            ),
            for_: NOTIFICATIONS_FAILING_FOR,
            keep_firing_for: Duration::ZERO,
            labels: global_labels(monitoring, severities.of(Tier::Ticket)),
            templates: Vec::new(),
            annotations: vec![
                (
                    naming::ANNOTATION_SUMMARY.to_owned(),
                    "Alertmanager fails to send notifications".to_owned(),
                ),
                (
                    naming::ANNOTATION_DESCRIPTION.to_owned(),
                    format!(
                        "More than {}% of the notifications of the integration in the integration label have failed for {NOTIFICATIONS_FAILING_FOR}: the alerts routed through it reach nobody (see Alertmanager's log for the reason).",
                        ratio.parse::<f64>().map(|share| share * 100.0).unwrap_or_default()
                    ),
                ),
            ],
        }));
        rules.push(Rule::Alerting(metrics_absent(
            monitoring,
            &severities,
            "alertmanager_notifications_total",
            "alertmanager_notifications_total".to_owned(),
            "Prometheus does not scrape Alertmanager",
            "so the alert on failing notifications cannot fire. Add a scrape job for Alertmanager, or set `notification_failures = false` in the monitoring block.",
        )));
    }
    if rules.is_empty() {
        return Vec::new();
    }
    vec![RuleGroup {
        name: naming::GROUP_MONITORING.to_owned(),
        rules,
    }]
}

fn global_labels(monitoring: &Monitoring, severity: &str) -> BTreeMap<String, String> {
    let mut labels = BTreeMap::from([
        (
            naming::LABEL_KIND.to_owned(),
            naming::KIND_MONITORING.to_owned(),
        ),
        (naming::LABEL_SEVERITY.to_owned(), severity.to_owned()),
    ]);
    if let Some(team) = &monitoring.team {
        labels.insert(naming::LABEL_TEAM.to_owned(), team.clone());
    }
    labels
}

fn metrics_absent(
    monitoring: &Monitoring,
    severities: &Severities,
    metric: &str,
    selector: String,
    summary: &str,
    consequence: &str,
) -> AlertRule {
    let mut labels = global_labels(monitoring, severities.of(Tier::Ticket));
    labels.insert(naming::LABEL_METRIC.to_owned(), metric.to_owned());
    AlertRule {
        alert: naming::ALERT_MONITORING_METRICS_ABSENT.to_owned(),
        expr: format!("absent({selector})"),
        for_: METRICS_ABSENT_FOR,
        keep_firing_for: Duration::ZERO,
        labels,
        templates: Vec::new(),
        annotations: vec![
            (naming::ANNOTATION_SUMMARY.to_owned(), summary.to_owned()),
            (
                naming::ANNOTATION_DESCRIPTION.to_owned(),
                format!("No series matches {selector} for {METRICS_ABSENT_FOR}, {consequence}"),
            ),
        ],
    }
}
