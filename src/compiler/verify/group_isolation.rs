//! Grouped objectives (`group_by`) kept apart by the routing the user wrote. The
//! inhibitions and the default `group_by` mlslo generates always include the group
//! labels; a user's `inhibit` rule or routing `group_by` may not:
//! - W0701: an inhibit rule whose targets include alerts of an objective grouped by
//!   a label, whose sources include alerts of an objective grouped by the same label,
//!   and whose `on [...]` leaves the label out: one group's source mutes every
//!   group's target. A source without that label (an ungrouped objective's) is not
//!   judged: a service-wide alert muting every group may be the point.
//! - W0702: the routing block's `group_by` leaves out a label some objective groups
//!   by, so different groups' alerts share notifications.
//!
//! Invariants: reads the generated alerts' labels (never rebuilt here); one warning
//! per rule and label, in the order of the rules, then of the labels.

use std::collections::{BTreeMap, BTreeSet};

use crate::base::diagnostic::Diagnostic;
use crate::compiler::check::codes;
use crate::compiler::ir::{naming, Program};
use crate::compiler::verify::alerts::GeneratedAlert;

/// W0701 and W0702 for `program`, whose generated alerts are `alerts`.
pub fn check_group_isolation(
    program: &Program,
    alerts: &[GeneratedAlert],
    found: &mut Vec<Diagnostic>,
) {
    let Some(routing) = &program.routing else {
        return;
    };
    let group_labels = program.group_labels();
    if group_labels.is_empty() {
        return;
    }
    // Each alert's group labels, from its objective's `group_by`.
    let grouped_by: BTreeMap<(&str, &str), &[String]> = program
        .services
        .iter()
        .flat_map(|service| {
            service.objectives.iter().map(move |objective| {
                (
                    (service.name.as_str(), objective.name.as_str()),
                    objective.group_by.as_slice(),
                )
            })
        })
        .collect();
    let groups_of = |alert: &GeneratedAlert| -> &[String] {
        let label = |name: &str| alert.labels.get(name).map_or("", String::as_str);
        grouped_by
            .get(&(label(naming::LABEL_SERVICE), label(naming::LABEL_SLO)))
            .copied()
            .unwrap_or_default()
    };
    for inhibit in &routing.inhibits {
        let value_of = |alert: &GeneratedAlert| alert.labels.get(&inhibit.label).cloned();
        let source_groups: BTreeSet<&String> = alerts
            .iter()
            .filter(|alert| value_of(alert).as_deref() == Some(inhibit.source.as_str()))
            .flat_map(groups_of)
            .collect();
        let target_groups: BTreeSet<&String> = alerts
            .iter()
            .filter(|alert| value_of(alert).is_some_and(|value| inhibit.targets.contains(&value)))
            .flat_map(groups_of)
            .collect();
        for label in target_groups.intersection(&source_groups) {
            if inhibit.equal.contains(label) {
                continue;
            }
            let mut equal = inhibit.equal.clone();
            equal.push((*label).clone());
            found.push(
                codes::INHIBITION_CROSSES_GROUPS
                    .at(
                        inhibit.span,
                        format!("`{label}` is not in `on [...]`: one {label}'s alert mutes every {label}'s"),
                    )
                    .with_note(format!(
                        "this rule's sources and its targets both include alerts of objectives grouped by `{label}`"
                    ))
                    .with_help(format!(
                        "hold the group label equal: `on [{}]`",
                        equal.join(", ")
                    )),
            );
        }
    }
    if routing.group_by.iter().any(|label| label == "...") {
        return;
    }
    let Some(span) = routing.group_by_span else {
        return;
    };
    let missing: Vec<&String> = group_labels
        .iter()
        .filter(|label| !routing.group_by.contains(label))
        .collect();
    if missing.is_empty() {
        return;
    }
    let mut complete = routing.group_by.clone();
    complete.extend(missing.iter().map(|label| (*label).clone()));
    let names: Vec<String> = missing.iter().map(|label| format!("`{label}`")).collect();
    found.push(
        codes::ROUTING_GROUPS_ACROSS_GROUPS
            .at(
                span,
                format!(
                    "{} {} missing: alerts of different groups share one notification",
                    names.join(", "),
                    if missing.len() == 1 { "is" } else { "are" }
                ),
            )
            .with_help(format!("group by `[{}]`", complete.join(", "))),
    );
}
