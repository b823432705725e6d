//! Alertmanager 0.25's dispatcher and notification pipeline replayed over known
//! alert timelines (`dispatch/dispatch.go`, `notify/notify.go`): which notifications
//! each receiver gets, and when.
//!
//! Every matching route puts an alert into the aggregation group of its group key.
//! A new group flushes after `group_wait`, then every `group_interval`. At each flush
//! the inhibition rules are evaluated against the alerts firing at that moment (the
//! `MuteStage`, so an alert muted when it started is notified once its source
//! resolves), a flush whose alerts are all muted stops there, and the `DedupStage`
//! sends when the firing alerts are not a subset of the last notification's, when
//! everything resolved after a notification of firing alerts, when an alert
//! resolved and the receiver sends resolved notifications, or when
//! `repeat_interval` has passed. After a flush the resolved alerts leave the group,
//! and a group left empty is gone (the next alert opens a new one, with a new
//! `group_wait`).
//!
//! Invariants: pure and deterministic (alerts and groups in input and key order);
//! an alert reaches Alertmanager at the first evaluation it fires at, and its end is
//! the first evaluation it no longer fires at, as Prometheus sends it. What is not
//! replayed, and said where the results are shown: silences, time intervals, the
//! delay of a group's removal (Alertmanager's maintenance runs every 30s), and
//! failed deliveries.

use std::collections::{BTreeMap, BTreeSet};

use super::config::Config;
use super::inhibit::{ActiveAlert, Inhibitor};
use super::matchers::LabelSet;
use super::route::{group_key, group_labels, RoutingTree};

/// One alert as Prometheus sent it: its labels and its firing spans
/// `[start_ms, end_ms)`, ascending; `end_ms` is `None` when it still fires at the end.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AlertTimeline {
    pub labels: LabelSet,
    pub firing: Vec<(i64, Option<i64>)>,
}

impl AlertTimeline {
    fn firing_at(&self, at_ms: i64) -> bool {
        self.firing
            .iter()
            .any(|&(start, end)| start <= at_ms && end.is_none_or(|end| at_ms < end))
    }
}

/// One notification a receiver gets.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Notification {
    pub at_ms: i64,
    pub receiver: String,
    /// The labels the route groups by, as the group's notification carries them.
    pub group_labels: LabelSet,
    /// Indexes (into the timelines given) of the firing alerts it carries.
    pub firing: Vec<usize>,
    /// Indexes of the resolved alerts it carries; a notification of resolved alerts
    /// alone reaches only the integrations that send resolved notifications.
    pub resolved: Vec<usize>,
}

/// The aggregation group of one route and group key.
struct Group {
    receiver: String,
    key: String,
    group_labels: LabelSet,
    group_interval_ms: i64,
    repeat_interval_ms: i64,
    send_resolved: bool,
    next_flush_ms: i64,
    alerts: BTreeSet<usize>,
}

/// What the notification log remembers of the last notification of a group to a
/// receiver.
struct LogEntry {
    at_ms: i64,
    firing: BTreeSet<usize>,
    resolved: BTreeSet<usize>,
}

/// Every notification `config` sends for `alerts` up to `end_ms` inclusive, in time
/// order (groups in key order at one instant).
pub fn replay(config: &Config, alerts: &[AlertTimeline], end_ms: i64) -> Vec<Notification> {
    let tree = RoutingTree::new(config);
    let inhibitor = Inhibitor::new(config);
    let send_resolved: BTreeMap<&str, bool> = config
        .receivers
        .iter()
        .map(|receiver| {
            let sends = receiver.integrations.iter().any(|integration| {
                integration
                    .settings
                    .get("send_resolved")
                    .and_then(|value| value.as_bool())
                    .unwrap_or_else(|| sends_resolved_by_default(&integration.kind))
            });
            (receiver.name.as_str(), sends)
        })
        .collect();
    // (time, alert): every start of a firing span, when Prometheus posts the alert.
    let mut arrivals: Vec<(i64, usize)> = alerts
        .iter()
        .enumerate()
        .flat_map(|(index, alert)| alert.firing.iter().map(move |&(start, _)| (start, index)))
        .filter(|&(start, _)| start <= end_ms)
        .collect();
    arrivals.sort();
    let routes: Vec<Vec<(String, &super::route::RouteNode)>> = alerts
        .iter()
        .map(|alert| {
            tree.match_routes(&alert.labels)
                .into_iter()
                .map(|node| (group_key(node, &alert.labels), node))
                .collect()
        })
        .collect();
    let mut groups: BTreeMap<String, Group> = BTreeMap::new();
    let mut log: BTreeMap<(String, String), LogEntry> = BTreeMap::new();
    let mut notifications = Vec::new();
    let mut next_arrival = 0;
    loop {
        let arrival_ms = arrivals.get(next_arrival).map(|&(at, _)| at);
        let flush_ms = groups.values().map(|group| group.next_flush_ms).min();
        let now = match (arrival_ms, flush_ms) {
            (Some(a), Some(f)) => a.min(f),
            (Some(a), None) => a,
            (None, Some(f)) => f,
            (None, None) => break,
        };
        if now > end_ms {
            break;
        }
        // Alerts posted at the instant of a flush are in it.
        while let Some(&(at, index)) = arrivals.get(next_arrival) {
            if at != now {
                break;
            }
            next_arrival += 1;
            for (key, node) in &routes[index] {
                let group = groups.entry(key.clone()).or_insert_with(|| Group {
                    receiver: node.options.receiver.clone(),
                    key: key.clone(),
                    group_labels: group_labels(node, &alerts[index].labels),
                    group_interval_ms: duration_ms(node.options.group_interval.milliseconds),
                    repeat_interval_ms: duration_ms(node.options.repeat_interval.milliseconds),
                    send_resolved: send_resolved
                        .get(node.options.receiver.as_str())
                        .copied()
                        .unwrap_or(false),
                    next_flush_ms: now + duration_ms(node.options.group_wait.milliseconds),
                    alerts: BTreeSet::new(),
                });
                group.alerts.insert(index);
            }
        }
        let due: Vec<String> = groups
            .iter()
            .filter(|(_, group)| group.next_flush_ms == now)
            .map(|(key, _)| key.clone())
            .collect();
        if due.is_empty() {
            continue;
        }
        let candidates: Vec<ActiveAlert<'_>> = alerts
            .iter()
            .map(|alert| ActiveAlert {
                labels: &alert.labels,
                active: alert.firing_at(now),
            })
            .collect();
        let sources = inhibitor.index(&candidates);
        for key in due {
            let Some(group) = groups.get_mut(&key) else {
                continue;
            };
            group.next_flush_ms = now + group.group_interval_ms.max(1);
            let unmuted: Vec<usize> = group
                .alerts
                .iter()
                .copied()
                .filter(|&index| sources.mutes(&alerts[index].labels).is_none())
                .collect();
            if !unmuted.is_empty() {
                let firing: BTreeSet<usize> = unmuted
                    .iter()
                    .copied()
                    .filter(|&index| alerts[index].firing_at(now))
                    .collect();
                let resolved: BTreeSet<usize> = unmuted
                    .iter()
                    .copied()
                    .filter(|index| !firing.contains(index))
                    .collect();
                let log_key = (group.receiver.clone(), group.key.clone());
                if needs_update(log.get(&log_key), &firing, &resolved, group, now) {
                    notifications.push(Notification {
                        at_ms: now,
                        receiver: group.receiver.clone(),
                        group_labels: group.group_labels.clone(),
                        firing: firing.iter().copied().collect(),
                        resolved: resolved.iter().copied().collect(),
                    });
                    log.insert(
                        log_key,
                        LogEntry {
                            at_ms: now,
                            firing,
                            resolved,
                        },
                    );
                }
            }
            group.alerts.retain(|&index| alerts[index].firing_at(now));
            if group.alerts.is_empty() {
                groups.remove(&key);
            }
        }
    }
    notifications
}

/// `DedupStage.needsUpdate` of 0.25.
fn needs_update(
    entry: Option<&LogEntry>,
    firing: &BTreeSet<usize>,
    resolved: &BTreeSet<usize>,
    group: &Group,
    now: i64,
) -> bool {
    let Some(entry) = entry else {
        return !firing.is_empty();
    };
    if !firing.is_subset(&entry.firing) {
        return true;
    }
    // Sent whatever `send_resolved` says, so that the log forgets the firing alerts.
    if firing.is_empty() {
        return !entry.firing.is_empty();
    }
    if group.send_resolved && !resolved.is_subset(&entry.resolved) {
        return true;
    }
    entry.at_ms < now - group.repeat_interval_ms
}

/// Whether an integration of this kind sends resolved notifications when its
/// configuration does not say (the defaults of 0.25's `config/notifiers.go`).
fn sends_resolved_by_default(kind: &str) -> bool {
    !matches!(kind, "email_configs" | "slack_configs" | "wechat_configs")
}

fn duration_ms(milliseconds: u64) -> i64 {
    i64::try_from(milliseconds).unwrap_or(i64::MAX)
}
