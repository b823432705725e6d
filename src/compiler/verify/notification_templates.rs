//! Notification templates: every templated field of every receiver is parsed
//! and executed as Alertmanager 0.25 does for each notification, against
//! notifications built from the generated alerts the routes send to that
//! receiver.
//!
//! Invariants:
//! - a template that does not parse is E0600, one that fails on a sampled
//!   notification E0601, an e-mail `to` or `from` whose text holds a control
//!   character (a line break above all) E0602; each on the string literal;
//! - the sample is deterministic and small: the first alert of each distinct
//!   (alertname, kind, severity) the receiver gets, at most [`SAMPLE_SIZE`],
//!   each alone and then all of a group (same group labels) together, firing,
//!   and resolved too when the integration sends resolved notifications
//!   (`send_resolved`, by default only PagerDuty and webhooks do); a
//!   receiver no alert reaches is tried with the first alerts of the program;
//! - the labels of a series behind a threshold alert are not in the sample:
//!   a template that reads one sees it missing, as Alertmanager does for an
//!   alert without it (`missingkey=zero`).

use std::collections::BTreeMap;

use crate::base::diagnostic::Diagnostic;
use crate::compiler::check::codes;
use crate::compiler::ir::{Integration, Program, Receiver, TemplateField};
use crate::compiler::verify::alerts::GeneratedAlert;
use crate::compiler::verify::routing_coverage::Routed;
use crate::prometheus::alertmanager::notification::{
    Notification, NotificationAlert, NotificationTemplate,
};
use crate::prometheus::alertmanager::route::format_label_set;

/// Alerts sampled per receiver.
pub const SAMPLE_SIZE: usize = 12;

/// When the sampled alerts started: 2026-01-01T00:00:00Z.
const STARTS_AT: i64 = 1_767_225_600;

/// Alertmanager's external URL when the routing block does not name one.
const DEFAULT_EXTERNAL_URL: &str = "http://localhost:9093";

/// Parses and executes every template of every receiver (E0600 to E0602).
pub fn check_templates(
    program: &Program,
    alerts: &[GeneratedAlert],
    routed: Option<&Routed>,
    found: &mut Vec<Diagnostic>,
) {
    let Some(routing) = &program.routing else {
        return;
    };
    let external_url = routing
        .alertmanager_url
        .clone()
        .unwrap_or_else(|| DEFAULT_EXTERNAL_URL.to_owned());
    for receiver in &routing.receivers {
        if receiver.templates.is_empty() {
            continue;
        }
        let notifications = sample_notifications(receiver, alerts, routed, &external_url);
        for field in &receiver.templates {
            check_field(receiver, field, &notifications, found);
        }
    }
}

/// A notification and the alert it is named after in a diagnostic.
struct Sampled<'a> {
    notification: Notification,
    alert: &'a GeneratedAlert,
    resolved: bool,
}

fn check_field(
    receiver: &Receiver,
    field: &TemplateField,
    notifications: &[Sampled<'_>],
    found: &mut Vec<Diagnostic>,
) {
    let template = match NotificationTemplate::parse(&field.text) {
        Ok(template) => template,
        Err(message) => {
            found.push(
                codes::NOTIFICATION_TEMPLATE_DOES_NOT_PARSE
                    .at(
                        field.span,
                        format!(
                            "Alertmanager cannot parse this `{}` template, so every notification to `{}` fails",
                            field.field, receiver.name
                        ),
                    )
                    .with_note(format!("Go's text/template says: {message}"))
                    .with_help(
                        "close every `{{ ... }}` action and call only Alertmanager's functions \
                         (toUpper, toLower, title, join, match, safeHtml, reReplaceAll, stringSlice)",
                    ),
            );
            return;
        }
    };
    let is_email_address = matches!(
        receiver.integrations.get(field.integration),
        Some(Integration::Email { .. })
    );
    if notifications.is_empty() && is_email_address {
        check_address(receiver, field, &field.text, None, found);
    }
    let sends_resolved = receiver.send_resolved.unwrap_or(matches!(
        receiver.integrations.get(field.integration),
        Some(Integration::PagerDuty { .. } | Integration::Webhook { .. })
    ));
    for sampled in notifications {
        if sampled.resolved && !sends_resolved {
            continue;
        }
        match template.execute(&sampled.notification) {
            Ok(text) => {
                if is_email_address && check_address(receiver, field, &text, Some(sampled), found) {
                    return;
                }
            }
            Err(message) => {
                let state = if sampled.resolved {
                    "resolved"
                } else {
                    "firing"
                };
                found.push(
                    codes::NOTIFICATION_TEMPLATE_FAILS
                        .at(
                            field.span,
                            format!(
                                "this template fails when `{}` is notified of {} ({state}{})",
                                receiver.name,
                                format_label_set(&sampled.alert.labels),
                                group_text(&sampled.notification)
                            ),
                        )
                        .with_secondary(
                            sampled.alert.objective_span,
                            "the objective whose alert it is",
                        )
                        .with_note(format!("Go's text/template says: {message}"))
                        .with_help(
                            "guard the access with `with` or `range`, or read `.CommonLabels`, \
                             which every notification has",
                        ),
                );
                return;
            }
        }
    }
}

/// E0602 when an expanded address holds a control character; whether it did.
fn check_address(
    receiver: &Receiver,
    field: &TemplateField,
    text: &str,
    sampled: Option<&Sampled<'_>>,
    found: &mut Vec<Diagnostic>,
) -> bool {
    let Some(bad) = text.chars().find(|character| character.is_control()) else {
        return false;
    };
    let when = match sampled {
        Some(sampled) if text != field.text => format!(
            " once expanded for {}",
            format_label_set(&sampled.alert.labels)
        ),
        _ => String::new(),
    };
    found.push(
        codes::EMAIL_HEADER_INJECTION
            .at(
                field.span,
                format!(
                    "the e-mail `{}` of `{}` holds {bad:?}{when}",
                    field.field, receiver.name
                ),
            )
            .with_note(
                "Alertmanager 0.25 cannot parse the address list and drops every notification \
                 of this receiver",
            )
            .with_help(
                "separate addresses with commas, on one line: `\"a@example.com, b@example.com\"`",
            ),
    );
    true
}

fn group_text(notification: &Notification) -> String {
    match notification.alerts.len() {
        1 => String::new(),
        n => format!(", in a notification of {n} alerts"),
    }
}

/// The notifications a receiver's templates are tried on.
fn sample_notifications<'a>(
    receiver: &Receiver,
    alerts: &'a [GeneratedAlert],
    routed: Option<&Routed>,
    external_url: &str,
) -> Vec<Sampled<'a>> {
    // (alert, group labels) of each alert the receiver gets, in alert order.
    let mut reaching: Vec<(usize, BTreeMap<String, String>)> = Vec::new();
    if let Some(routed) = routed {
        for (index, deliveries) in routed.deliveries.iter().enumerate() {
            if let Some(delivery) = deliveries.iter().find(|d| d.receiver == receiver.name) {
                reaching.push((index, delivery.group_labels.clone()));
            }
        }
    }
    if reaching.is_empty() {
        reaching = (0..alerts.len())
            .map(|index| (index, BTreeMap::new()))
            .collect();
    }
    let mut seen = Vec::new();
    let mut sample = Vec::new();
    for (index, group_labels) in reaching {
        let alert = &alerts[index];
        let key = ["alertname", "kind", "severity"].map(|name| alert.labels.get(name).cloned());
        if seen.contains(&key) {
            continue;
        }
        seen.push(key);
        sample.push((alert, group_labels));
        if sample.len() == SAMPLE_SIZE {
            break;
        }
    }
    let notification =
        |members: Vec<&GeneratedAlert>, group_labels: &BTreeMap<String, String>, resolved: bool| {
            Notification {
                receiver: receiver.name.clone(),
                group_labels: group_labels.clone(),
                alerts: members
                    .into_iter()
                    .map(|alert| NotificationAlert {
                        labels: alert.labels.clone(),
                        annotations: alert.annotations.clone(),
                        starts_at: STARTS_AT,
                        ends_at: resolved.then_some(STARTS_AT + 3600),
                        generator_url: String::new(),
                    })
                    .collect(),
                external_url: external_url.to_owned(),
            }
        };
    let mut notifications = Vec::new();
    for (alert, group_labels) in &sample {
        for resolved in [false, true] {
            notifications.push(Sampled {
                notification: notification(vec![alert], group_labels, resolved),
                alert,
                resolved,
            });
        }
    }
    let mut groups: BTreeMap<&BTreeMap<String, String>, Vec<&GeneratedAlert>> = BTreeMap::new();
    for (alert, group_labels) in &sample {
        groups.entry(group_labels).or_default().push(alert);
    }
    for (group_labels, members) in groups {
        if members.len() > 1 {
            let first = members[0];
            notifications.push(Sampled {
                notification: notification(members, group_labels, false),
                alert: first,
                resolved: false,
            });
        }
    }
    notifications
}
