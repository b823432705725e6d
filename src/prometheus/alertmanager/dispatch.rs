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

/// The most group flushes one replay evaluates: flushes that cannot change anything
/// are skipped, so only a tiny `group_interval` or `repeat_interval` over a long
/// range comes near it.
pub const MAX_FLUSHES: u64 = 10_000_000;

/// Every notification `config` sends for `alerts` up to `end_ms` inclusive, in time
/// order (groups in key order at one instant); an error when that takes more than
/// [`MAX_FLUSHES`] flushes.
pub fn replay(
    config: &Config,
    alerts: &[AlertTimeline],
    end_ms: i64,
) -> Result<Vec<Notification>, String> {
    replay_with_limit(config, alerts, end_ms, MAX_FLUSHES)
}

fn replay_with_limit(
    config: &Config,
    alerts: &[AlertTimeline],
    end_ms: i64,
    max_flushes: u64,
) -> Result<Vec<Notification>, String> {
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
    // Every instant at which an alert starts or stops firing: between two of them,
    // the flushes of a group see the same alerts and the same inhibitions.
    let mut changes: Vec<i64> = alerts
        .iter()
        .flat_map(|alert| alert.firing.iter())
        .flat_map(|&(start, end)| std::iter::once(start).chain(end))
        .collect();
    changes.sort_unstable();
    changes.dedup();
    let mut flushes: u64 = 0;
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
            flushes += 1;
            if flushes > max_flushes {
                return Err(format!(
                    "replaying the notifications would flush alert groups more than \
                     {max_flushes} times (a group_interval of {}ms); give a shorter range",
                    group.group_interval_ms
                ));
            }
            let interval_ms = group.group_interval_ms.max(1);
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
                continue;
            }
            // Until the next change or the repeat, a flush would do what this one did
            // with its alerts and log entry as they are now: nothing.
            let next_change = changes
                .get(changes.partition_point(|&at| at <= now))
                .copied()
                .unwrap_or(i64::MAX);
            let repeat_due = log
                .get(&(group.receiver.clone(), group.key.clone()))
                .filter(|entry| !entry.firing.is_empty())
                .map_or(i64::MAX, |entry| {
                    entry
                        .at_ms
                        .saturating_add(group.repeat_interval_ms)
                        .saturating_add(1)
                });
            let wake_ms = next_change.min(repeat_due).min(end_ms.saturating_add(1));
            let steps = ((wake_ms.saturating_sub(now)).max(1) + interval_ms - 1) / interval_ms;
            group.next_flush_ms = now.saturating_add(steps.max(1).saturating_mul(interval_ms));
        }
    }
    Ok(notifications)
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

#[cfg(test)]
mod tests {
    use super::*;

    const MINUTE: i64 = 60_000;
    const HOUR: i64 = 60 * MINUTE;

    fn config(route: &str) -> Config {
        let text = format!(
            "route:\n  receiver: r\n  group_by: [alertname]\n{route}receivers:\n  - name: r\n    \
             webhook_configs:\n      - url: http://127.0.0.1:9/\n"
        );
        crate::prometheus::alertmanager::config::load(&text).expect("valid configuration")
    }

    fn firing(name: &str, spans: &[(i64, Option<i64>)]) -> AlertTimeline {
        AlertTimeline {
            labels: [("alertname".to_string(), name.to_string())].into(),
            firing: spans.to_vec(),
        }
    }

    #[test]
    fn a_repeat_waits_for_the_first_flush_after_repeat_interval() {
        // The defaults: group_wait 30s, group_interval 5m, repeat_interval 4h. At
        // 4h00m30s the last notification is exactly 4h old, not older: the repeat
        // goes at the next flush, 4h05m30s, and so on every 4h05m over the day.
        let sent = replay(&config(""), &[firing("A", &[(0, None)])], 24 * HOUR).expect("short");
        let times: Vec<i64> = sent.iter().map(|n| n.at_ms).collect();
        let expected: Vec<i64> = (0..6)
            .map(|k| 30_000 + k * (4 * HOUR + 5 * MINUTE))
            .collect();
        assert_eq!(times, expected);
    }

    #[test]
    fn an_alert_back_within_one_flush_is_not_notified_again() {
        // A stops at 2m and fires again at 3m: the flush at 5m30s sees it firing, as
        // the last notification did, and stays quiet; a new group after all alerts
        // resolved notifies again.
        let alert = firing(
            "A",
            &[
                (0, Some(2 * MINUTE)),
                (3 * MINUTE, Some(7 * MINUTE)),
                (20 * MINUTE, None),
            ],
        );
        let sent = replay(&config(""), &[alert], HOUR).expect("short");
        let summary: Vec<(i64, usize, usize)> = sent
            .iter()
            .map(|n| (n.at_ms, n.firing.len(), n.resolved.len()))
            .collect();
        assert_eq!(
            summary,
            [
                (30_000, 1, 0),
                (10 * MINUTE + 30_000, 0, 1),
                (20 * MINUTE + 30_000, 1, 0)
            ]
        );
    }

    #[test]
    fn a_replay_that_would_flush_too_often_is_refused() {
        let tiny = config("  group_wait: 1ms\n  group_interval: 1ms\n  repeat_interval: 1ms\n");
        let error = replay_with_limit(&tiny, &[firing("A", &[(0, None)])], HOUR, 1000)
            .expect_err("a repeat every two milliseconds");
        assert_eq!(
            error,
            "replaying the notifications would flush alert groups more than 1000 times \
             (a group_interval of 1ms); give a shorter range"
        );
    }
}
