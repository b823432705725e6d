//! Routing coverage: every generated alert goes through the generated route
//! tree, as Alertmanager 0.25 routes it, to receivers that can notify; and
//! every route of the `routing` block can match some generated alert.
//!
//! Invariants:
//! - the tree is the generated `alertmanager.yml` itself, loaded by the
//!   runtime's `config::load` and matched by its `RoutingTree`, so a receiver
//!   has exactly the integrations the file gives it (a webhook `url_file`
//!   left out for 0.25 is not there);
//! - an alert routed to a receiver without integration is an error (E0603),
//!   once per receiver; a program with services and no routing block gets the
//!   warning W0600 instead, since every alert then reaches `mlslo-default`;
//! - a route matcher is judged only on labels mlslo sets on every alert
//!   (their values are exact: series and external labels cannot override
//!   them) or on a label name that looks like a misspelling of one (W0601).
//!   Labels that may come from a series or from Prometheus' external labels
//!   are never reported;
//! - the heartbeat receiver gets the Watchdog alone (W0642), and the alert on a
//!   failing integration reaches some receiver through another integration
//!   (W0641): it is routed once per integration kind the receivers use.

use std::collections::{BTreeMap, BTreeSet};

use crate::base::diagnostic::Diagnostic;
use crate::base::parallel::in_parallel_chunks;
use crate::compiler::check::codes;
use crate::compiler::check::did_you_mean;
use crate::compiler::emit::alertmanager::{alertmanager_config, AlertmanagerOptions};
use crate::compiler::emit::yaml;
use crate::compiler::ir::naming;
use crate::compiler::ir::{Heartbeat, MatchOp, Program, Route, Routing};
use crate::compiler::verify::alerts::GeneratedAlert;
use crate::prometheus::alertmanager::config;
use crate::prometheus::alertmanager::matchers::{MatchType, Matcher};
use crate::prometheus::alertmanager::route::{format_label_set, group_labels, RoutingTree};

/// How many values of a label a note lists before it says "and N more".
const LISTED_VALUES: usize = 8;

/// Where the generated tree sends each alert: per alert (in the order of the
/// alert list), each matched route's receiver and the labels it groups by.
pub struct Routed {
    pub deliveries: Vec<Vec<Delivery>>,
}

#[derive(Clone, Debug)]
pub struct Delivery {
    pub receiver: String,
    pub group_labels: BTreeMap<String, String>,
}

/// Routes every alert and reports E0603, W0600 and W0601; `None` without a
/// routing block.
pub fn check_routing(
    program: &Program,
    alerts: &[GeneratedAlert],
    found: &mut Vec<Diagnostic>,
) -> Option<Routed> {
    let Some(routing) = &program.routing else {
        if let Some(first) = program.services.first() {
            found.push(
                codes::NO_ROUTING_BLOCK
                    .at(
                        first.name_span,
                        "the alerts of this service (and of every other) reach no one",
                    )
                    .with_note(
                        "without a routing block, alertmanager.yml sends every alert to \
                         `mlslo-default`, a receiver with no integration",
                    )
                    .with_help(
                        "add a `routing { ... }` block to one of the files, with a \
                         `default_receiver` and the receivers it names",
                    ),
            );
        }
        return None;
    };
    let options = AlertmanagerOptions::for_program(program);
    let generated = alertmanager_config(program, &options);
    // The generated file always loads (the emit tests hold amtool to it); a
    // failure here is not the user's to fix, and the build's own checks see it.
    let config = config::load(&yaml::to_string(&[], &generated.root)).ok()?;
    let tree = RoutingTree::new(&config);
    let deliveries: Vec<Vec<Delivery>> = in_parallel_chunks(alerts, 512, |chunk| {
        chunk
            .iter()
            .map(|alert| {
                tree.match_routes(&alert.labels)
                    .into_iter()
                    .map(|node| Delivery {
                        receiver: node.options.receiver.clone(),
                        group_labels: group_labels(node, &alert.labels),
                    })
                    .collect()
            })
            .collect()
    });
    let silent_receivers: BTreeSet<&str> = config
        .receivers
        .iter()
        .filter(|receiver| receiver.integrations.is_empty())
        .map(|receiver| receiver.name.as_str())
        .collect();
    let mut silent: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
    for (index, delivered) in deliveries.iter().enumerate() {
        for delivery in delivered {
            if let Some(receiver) = silent_receivers.get(delivery.receiver.as_str()) {
                silent.entry(receiver).or_default().push(index);
            }
        }
    }
    for (receiver, reached) in &silent {
        let Some(declared) = routing.receivers.iter().find(|r| r.name == *receiver) else {
            continue;
        };
        let first = &alerts[reached[0]];
        let more = match reached.len() - 1 {
            0 => String::new(),
            1 => " and 1 other alert".to_owned(),
            n => format!(" and {n} other alerts"),
        };
        found.push(
            codes::ALERT_REACHES_NO_INTEGRATION
                .at(
                    declared.span,
                    format!(
                        "{}{more} reach `{receiver}`, which has no integration in the generated alertmanager.yml",
                        format_label_set(&first.labels)
                    ),
                )
                .with_secondary(first.objective_span, "this objective's alert is one of them")
                .with_note(generated.notes.join("; "))
                .with_help(
                    "set `alertmanager_version = \"0.26\"` (or newer) in the routing block, \
                     or give the receiver an integration Alertmanager 0.25 can read",
                ),
        );
    }
    check_route_matchers(routing, alerts, found);
    check_heartbeat_receiver(program, alerts, &deliveries, found);
    check_notification_failure_routes(&config, &tree, alerts, found);
    Some(Routed { deliveries })
}

/// W0642 when an alert other than the Watchdog reaches the heartbeat receiver.
fn check_heartbeat_receiver(
    program: &Program,
    alerts: &[GeneratedAlert],
    deliveries: &[Vec<Delivery>],
    found: &mut Vec<Diagnostic>,
) {
    let Heartbeat::Receiver { name, span } = &program.monitoring.heartbeat else {
        return;
    };
    let mut reached = alerts.iter().zip(deliveries).filter(|(alert, delivered)| {
        alert.labels.get("alertname").map(String::as_str) != Some(naming::ALERT_WATCHDOG)
            && delivered.iter().any(|delivery| &delivery.receiver == name)
    });
    let Some((first, _)) = reached.next() else {
        return;
    };
    let more = match reached.count() {
        0 => String::new(),
        1 => " and 1 other alert".to_owned(),
        n => format!(" and {n} other alerts"),
    };
    found.push(
        codes::HEARTBEAT_RECEIVER_SHARED
            .at(
                *span,
                format!(
                    "{}{more} also reach the heartbeat receiver `{name}`",
                    format_label_set(&first.labels)
                ),
            )
            .with_secondary(first.objective_span, "this alert is one of them")
            .with_help(
                "route alerts to receivers people read, and keep this receiver for the heartbeat",
            ),
    );
}

/// W0641 when the alert about a failing integration is routed only to receivers
/// whose every integration is of that same kind.
fn check_notification_failure_routes(
    config: &config::Config,
    tree: &RoutingTree,
    alerts: &[GeneratedAlert],
    found: &mut Vec<Diagnostic>,
) {
    let Some(failing) = alerts.iter().find(|alert| {
        alert.labels.get("alertname").map(String::as_str)
            == Some(naming::ALERT_NOTIFICATIONS_FAILING)
    }) else {
        return;
    };
    let integrations_of = |receiver: &str| -> BTreeSet<&str> {
        config
            .receivers
            .iter()
            .filter(|declared| declared.name == receiver)
            .flat_map(|declared| &declared.integrations)
            .map(|integration| integration.kind.trim_end_matches("_configs"))
            .collect()
    };
    let used: BTreeSet<&str> = config
        .receivers
        .iter()
        .flat_map(|receiver| &receiver.integrations)
        .map(|integration| integration.kind.trim_end_matches("_configs"))
        .collect();
    for integration in used {
        let mut labels = failing.labels.clone();
        labels.insert("integration".to_owned(), integration.to_owned());
        let receivers: BTreeSet<String> = tree
            .match_routes(&labels)
            .into_iter()
            .map(|node| node.options.receiver.clone())
            .collect();
        let other_way = receivers.iter().any(|receiver| {
            integrations_of(receiver)
                .iter()
                .any(|kind| *kind != integration)
        });
        if other_way {
            continue;
        }
        let listed: Vec<&str> = receivers.iter().map(String::as_str).collect();
        found.push(
            codes::NOTIFICATION_FAILURES_UNREPORTABLE
                .at(
                    failing.objective_span,
                    format!(
                        "when {integration} notifications fail, the alert saying so goes only to {}, which notifies through {integration} alone",
                        listed.join(", ")
                    ),
                )
                .with_help(format!(
                    "route `kind = \"monitoring\"` alerts to a receiver that also has an integration other than {integration}"
                )),
        );
    }
}

/// W0601 for matchers no generated alert can satisfy.
fn check_route_matchers(routing: &Routing, alerts: &[GeneratedAlert], found: &mut Vec<Diagnostic>) {
    if alerts.is_empty() {
        return;
    }
    // The labels every objective's alert sets (the alerts on Prometheus and
    // Alertmanager themselves have no service), each with every value any alert
    // gives it.
    let is_objective_alert = |alert: &&GeneratedAlert| {
        alert.labels.get(naming::LABEL_KIND).map(String::as_str) != Some(naming::KIND_MONITORING)
    };
    let objective_alerts: Vec<&GeneratedAlert> =
        match alerts.iter().filter(is_objective_alert).count() {
            0 => alerts.iter().collect(),
            _ => alerts.iter().filter(is_objective_alert).collect(),
        };
    // Values are gathered only for the labels routes match on: an alert list
    // is as long as the objectives times their tiers, and most labels (slo,
    // service) have a value per objective or service.
    let routed_labels: BTreeSet<&str> = routing
        .routes
        .iter()
        .flat_map(|route| route.matchers.iter().map(|matcher| matcher.label.as_str()))
        .collect();
    let mut universal: BTreeMap<&str, BTreeSet<&str>> = objective_alerts[0]
        .labels
        .keys()
        .map(String::as_str)
        .filter(|name| routed_labels.contains(name))
        .map(|name| (name, BTreeSet::new()))
        .collect();
    universal.retain(|name, _| {
        objective_alerts
            .iter()
            .all(|alert| alert.labels.contains_key(*name))
    });
    let mut all_names: BTreeSet<&str> = BTreeSet::new();
    for alert in alerts {
        for (name, value) in &alert.labels {
            all_names.insert(name);
            if let Some(values) = universal.get_mut(name.as_str()) {
                values.insert(value);
            }
        }
    }
    for route in &routing.routes {
        let mut judged = Vec::new();
        let mut reported = false;
        for matcher in &route.matchers {
            let Some(compiled) = compile(matcher.op, &matcher.label, &matcher.value) else {
                continue;
            };
            match universal.get(matcher.label.as_str()) {
                Some(values) => {
                    if values.iter().any(|value| compiled.matches_value(value)) {
                        judged.push(compiled);
                        continue;
                    }
                    let mut diagnostic = codes::ROUTE_MATCHES_NO_ALERT
                        .at(
                            matcher.span,
                            format!(
                                "no generated alert has {} {} {:?}",
                                matcher.label,
                                matcher.op.as_str(),
                                matcher.value
                            ),
                        )
                        .with_note(format!(
                            "mlslo's alerts have {} = {}",
                            matcher.label,
                            list_values(values)
                        ));
                    let suggestion = match matcher.op {
                        MatchOp::Equal => did_you_mean(&matcher.value, values.iter().copied()),
                        _ => None,
                    };
                    diagnostic = match suggestion {
                        Some(value) => diagnostic.with_help(format!("did you mean `{value}`?")),
                        None => diagnostic.with_help(format!(
                            "match one of the values of `{}` in the note",
                            matcher.label
                        )),
                    };
                    found.push(diagnostic);
                    reported = true;
                }
                None if !all_names.contains(matcher.label.as_str())
                    && !compiled.matches_value("") =>
                {
                    let Some(name) = did_you_mean(&matcher.label, all_names.iter().copied()) else {
                        continue;
                    };
                    found.push(
                        codes::ROUTE_MATCHES_NO_ALERT
                            .at(
                                matcher.span,
                                format!("no generated alert has a label `{}`", matcher.label),
                            )
                            .with_note(format!(
                                "mlslo's alerts carry {}",
                                all_names.iter().copied().collect::<Vec<_>>().join(", ")
                            ))
                            .with_help(format!("did you mean `{name}`?")),
                    );
                    reported = true;
                }
                None => {}
            }
        }
        if !reported && judged.len() > 1 {
            check_matchers_together(route, &judged, alerts, found);
        }
    }
}

/// W0601 for a route whose matchers each match some alert, but no alert all.
fn check_matchers_together(
    route: &Route,
    judged: &[Matcher],
    alerts: &[GeneratedAlert],
    found: &mut Vec<Diagnostic>,
) {
    let matches = |alert: &GeneratedAlert| {
        judged.iter().all(|matcher| {
            alert
                .labels
                .get(&matcher.name)
                .is_some_and(|value| matcher.matches_value(value))
        })
    };
    if alerts.iter().any(matches) {
        return;
    }
    let first = &judged[0];
    let rest: Vec<&str> = judged[1..].iter().map(|m| m.name.as_str()).collect();
    let mut combinations: BTreeSet<String> = BTreeSet::new();
    for alert in alerts {
        if alert
            .labels
            .get(&first.name)
            .is_some_and(|value| first.matches_value(value))
        {
            let values: Vec<String> = rest
                .iter()
                .map(|name| {
                    format!(
                        "{name}={:?}",
                        alert.labels.get(*name).map_or("", String::as_str)
                    )
                })
                .collect();
            combinations.insert(values.join(", "));
        }
    }
    let listed: BTreeSet<&str> = combinations.iter().map(String::as_str).collect();
    found.push(
        codes::ROUTE_MATCHES_NO_ALERT
            .at(
                route.span,
                "no generated alert matches all of these matchers",
            )
            .with_note(format!(
                "the alerts with {}{}{:?} have {}",
                first.name,
                first.match_type.as_str(),
                first.value,
                list_values(&listed)
            ))
            .with_help("remove or correct the matcher that excludes them"),
    );
}

fn compile(op: MatchOp, label: &str, value: &str) -> Option<Matcher> {
    let match_type = match op {
        MatchOp::Equal => MatchType::Equal,
        MatchOp::NotEqual => MatchType::NotEqual,
        MatchOp::Regex => MatchType::Regexp,
        MatchOp::NotRegex => MatchType::NotRegexp,
    };
    // The checker compiled every route regex already (E0312).
    Matcher::new(match_type, label, value).ok()
}

fn list_values(values: &BTreeSet<&str>) -> String {
    let mut listed: Vec<String> = values
        .iter()
        .take(LISTED_VALUES)
        .map(|value| format!("{value:?}"))
        .collect();
    if values.len() > LISTED_VALUES {
        listed.push(format!("and {} more", values.len() - LISTED_VALUES));
    }
    listed.join(", ")
}
