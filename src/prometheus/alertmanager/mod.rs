//! A model of Alertmanager 0.25's configuration, routing and inhibition, used
//! by `mlslo routes`, the backtest, and the tests of the generated
//! `alertmanager.yml`.
//!
//! ```text
//! alertmanager.yml ──yaml::parse──▶ yaml::Node ──config::load──▶ config::Config
//!   Config ──▶ route::RoutingTree   receivers, group keys, timers, tree printouts
//!   Config ──▶ inhibit::Inhibitor   which active alert mutes which
//! alerts JSON (API v2) ──parse_alerts──▶ [PostableAlert] ──route_alerts──▶ [AlertRouting]
//!   [AlertRouting] ──`tools::routes`──▶ `mlslo routes` text and JSON
//! ```
//!
//! Invariants: pure (no IO; the caller supplies the text and the evaluation
//! time); deterministic (output in input order, candidates in input order).
//! Each submodule cites the Alertmanager source it mirrors, and
//! `tests/integration/alertmanager.rs` checks it against amtool 0.25.
//!
//! Not modelled: time intervals in zones other than UTC (validated, but their
//! effect is reported as unknown: the time zone database is IO); templates
//! (not loaded); `http_config` and the integrations' nested settings (opaque);
//! silences; the timing of notifications (`group_wait` and friends are
//! reported, not simulated); merging of repeated alerts with the same labels.
//!
//! ```
//! use mlslo::prometheus::alertmanager::{config, parse_alerts, route_alerts};
//!
//! let config = config::load(r#"
//! route:
//!   receiver: tickets
//!   group_by: [alertname, slo]
//!   routes:
//!     - matchers: ['severity="page"']
//!       receiver: pager
//! inhibit_rules:
//!   - source_matchers: ['severity="page"']
//!     target_matchers: ['severity="ticket"']
//!     equal: [slo]
//! receivers: [{name: pager}, {name: tickets}]
//! "#).expect("valid configuration");
//! let alerts = parse_alerts(r#"[
//!   {"labels": {"alertname": "Burn", "slo": "a", "severity": "page"}},
//!   {"labels": {"alertname": "Burn", "slo": "a", "severity": "ticket"}}
//! ]"#).expect("valid alerts");
//! let routed = route_alerts(&config, &alerts, 0);
//! assert_eq!(routed[0].receivers, ["pager"]);
//! assert_eq!(routed[0].routes[0].group_key, r#"{}/{severity="page"}:{alertname="Burn", slo="a"}"#);
//! assert_eq!(routed[1].inhibited_by.as_ref().map(|inhibition| inhibition.alert), Some(0));
//! ```

pub mod config;
pub mod dispatch;
pub mod inhibit;
pub mod matchers;
pub mod notification;
pub mod route;
pub mod timeinterval;
pub mod yaml;

use serde::{Deserialize, Serialize};

use self::config::Config;
use self::inhibit::{fingerprint, ActiveAlert, Inhibitor};
use self::matchers::LabelSet;
use self::route::{group_key, RoutingTree};
use crate::prometheus::model::names::is_legacy_label_name;

/// One alert as `POST /api/v2/alerts` takes it (`PostableAlert`).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PostableAlert {
    pub labels: LabelSet,
    #[serde(default, skip_serializing_if = "LabelSet::is_empty")]
    pub annotations: LabelSet,
    #[serde(rename = "startsAt", default, skip_serializing_if = "Option::is_none")]
    pub starts_at: Option<String>,
    #[serde(rename = "endsAt", default, skip_serializing_if = "Option::is_none")]
    pub ends_at: Option<String>,
    #[serde(
        rename = "generatorURL",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub generator_url: Option<String>,
}

/// Where one alert goes and what mutes it.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct AlertRouting {
    /// Position in the input list.
    pub index: usize,
    /// The labels after Alertmanager drops empty values.
    pub labels: LabelSet,
    /// Alertmanager's fingerprint of the labels (16 hex digits).
    pub fingerprint: String,
    /// `firing`, `resolved` (its `endsAt` is not after the evaluation time),
    /// or `invalid` (Alertmanager would reject it; see `error`).
    pub status: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// Receivers in routing-tree order (as `amtool config routes test`).
    pub receivers: Vec<String>,
    pub routes: Vec<RoutedTo>,
    /// The deciding inhibition, if the alert is muted.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub inhibited_by: Option<InhibitedBy>,
}

/// One matched route of an alert.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct RoutedTo {
    pub receiver: String,
    pub group_key: String,
    /// Sorted label names, or `["..."]` for grouping by all labels.
    pub group_by: Vec<String>,
    pub group_wait: String,
    pub group_interval: String,
    pub repeat_interval: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub mute_time_intervals: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub active_time_intervals: Vec<String>,
    /// Whether the route's notifications are muted at the evaluation time by
    /// its mute or active time intervals; `None` when an interval involved
    /// uses a time zone other than UTC (not evaluated here).
    pub muted_by_time_intervals: Option<bool>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct InhibitedBy {
    /// Index of the deciding rule in `inhibit_rules`.
    pub rule: usize,
    /// The reported source: the first qualifying one in input order.
    pub alert: usize,
    pub fingerprint: String,
    /// Every qualifying source of that rule (input indexes).
    pub candidates: Vec<usize>,
}

/// Parses the alerts JSON (`[{"labels": {...}, ...}]`).
pub fn parse_alerts(json: &str) -> Result<Vec<PostableAlert>, String> {
    serde_json::from_str(json).map_err(|error| format!("invalid alerts JSON: {error}"))
}

/// Routes and inhibits a batch of alerts as if they were all posted to an
/// Alertmanager running `config` at `now_unix_milliseconds`.
pub fn route_alerts(
    config: &Config,
    alerts: &[PostableAlert],
    now_unix_milliseconds: i64,
) -> Vec<AlertRouting> {
    let tree = RoutingTree::new(config);
    let inhibitor = Inhibitor::new(config);
    let prepared: Vec<(LabelSet, Result<bool, String>)> = alerts
        .iter()
        .map(|alert| {
            // The API drops labels with empty values before validating.
            let labels: LabelSet = alert
                .labels
                .iter()
                .filter(|(_, value)| !value.is_empty())
                .map(|(name, value)| (name.clone(), value.clone()))
                .collect();
            let active = validate_alert(alert, &labels, now_unix_milliseconds);
            (labels, active)
        })
        .collect();
    let candidates: Vec<ActiveAlert<'_>> = prepared
        .iter()
        .map(|(labels, active)| ActiveAlert {
            labels,
            active: matches!(active, Ok(true)),
        })
        .collect();
    let sources = inhibitor.index(&candidates);
    prepared
        .iter()
        .enumerate()
        .map(|(index, (labels, active))| {
            let status = match active {
                Ok(true) => "firing",
                Ok(false) => "resolved",
                Err(_) => "invalid",
            };
            let mut routing = AlertRouting {
                index,
                labels: labels.clone(),
                fingerprint: fingerprint(labels),
                status: status.to_string(),
                error: active.as_ref().err().cloned(),
                receivers: Vec::new(),
                routes: Vec::new(),
                inhibited_by: None,
            };
            if active.is_err() {
                return routing;
            }
            for node in tree.match_routes(labels) {
                routing.receivers.push(node.options.receiver.clone());
                let group_by = if node.options.group_by_all {
                    vec!["...".to_string()]
                } else {
                    node.options.group_by.iter().cloned().collect()
                };
                routing.routes.push(RoutedTo {
                    receiver: node.options.receiver.clone(),
                    group_key: group_key(node, labels),
                    group_by,
                    group_wait: node.options.group_wait.to_string(),
                    group_interval: node.options.group_interval.to_string(),
                    repeat_interval: node.options.repeat_interval.to_string(),
                    mute_time_intervals: node.options.mute_time_intervals.clone(),
                    active_time_intervals: node.options.active_time_intervals.clone(),
                    muted_by_time_intervals: muted_by_time_intervals(
                        config,
                        &node.options.mute_time_intervals,
                        &node.options.active_time_intervals,
                        now_unix_milliseconds,
                    ),
                });
            }
            routing.inhibited_by = sources.mutes(labels).and_then(|inhibition| {
                let first = *inhibition.source_indexes.first()?;
                Some(InhibitedBy {
                    rule: inhibition.rule_index,
                    alert: first,
                    fingerprint: fingerprint(&prepared[first].0),
                    candidates: inhibition.source_indexes,
                })
            });
            routing
        })
        .collect()
}

/// Alertmanager 0.25's `TimeMuteStage` then `TimeActiveStage` for one route:
/// muted inside any mute interval, or outside all active intervals (if any).
fn muted_by_time_intervals(
    config: &Config,
    mute: &[String],
    active: &[String],
    now: i64,
) -> Option<bool> {
    let contains = |names: &[String]| -> Option<bool> {
        let mut unknown = false;
        for name in names {
            let specifications = config
                .mute_time_intervals
                .iter()
                .chain(&config.time_intervals)
                .filter(|interval| interval.name == *name)
                .flat_map(|interval| interval.time_intervals.iter());
            for specification in specifications {
                match specification.contains(now) {
                    Some(true) => return Some(true),
                    Some(false) => {}
                    None => unknown = true,
                }
            }
        }
        if unknown {
            None
        } else {
            Some(false)
        }
    };
    match contains(mute) {
        Some(true) => return Some(true),
        None => return None,
        Some(false) => {}
    }
    if active.is_empty() {
        return Some(false);
    }
    contains(active).map(|inside| !inside)
}

/// Alertmanager's checks of a posted alert (`model.Alert.Validate`, after the
/// API fills in missing times). `Ok(true)` when the alert is firing at `now`.
fn validate_alert(alert: &PostableAlert, labels: &LabelSet, now: i64) -> Result<bool, String> {
    let parse = |field: &str, text: &Option<String>| -> Result<Option<i64>, String> {
        match text.as_deref() {
            None | Some("") | Some("0001-01-01T00:00:00Z") => Ok(None),
            Some(text) => parse_rfc3339_milliseconds(text)
                .map(Some)
                .ok_or_else(|| format!("{field} is not an RFC 3339 date-time: {text:?}")),
        }
    };
    let starts_at = parse("startsAt", &alert.starts_at)?;
    let ends_at = parse("endsAt", &alert.ends_at)?;
    let starts_at = starts_at.or(ends_at).unwrap_or(now);
    if let Some(ends_at) = ends_at {
        if ends_at < starts_at {
            return Err("start time must be before end time".to_string());
        }
    }
    if let Some(name) = labels.keys().find(|name| !is_legacy_label_name(name)) {
        return Err(format!("invalid label set: invalid name {name:?}"));
    }
    if labels.is_empty() {
        return Err("at least one label pair required".to_string());
    }
    if let Some(name) = alert
        .annotations
        .keys()
        .find(|name| !is_legacy_label_name(name))
    {
        return Err(format!("invalid annotations: invalid name {name:?}"));
    }
    // Without `endsAt` the API sets now + resolve_timeout: firing.
    Ok(ends_at.is_none_or(|ends_at| ends_at > now))
}

/// Parses an RFC 3339 date-time (`2024-05-01T12:00:00Z`,
/// `2024-05-01T12:00:00.5+02:00`) into Unix milliseconds.
pub fn parse_rfc3339_milliseconds(text: &str) -> Option<i64> {
    let bytes = text.as_bytes();
    if bytes.len() < 20
        || bytes[4] != b'-'
        || bytes[7] != b'-'
        || !matches!(bytes[10], b'T' | b't' | b' ')
    {
        return None;
    }
    let number = |range: std::ops::Range<usize>| -> Option<i64> {
        let part = text.get(range)?;
        if !part.bytes().all(|byte| byte.is_ascii_digit()) {
            return None;
        }
        part.parse().ok()
    };
    let (year, month, day) = (number(0..4)?, number(5..7)?, number(8..10)?);
    if bytes[13] != b':' || bytes[16] != b':' {
        return None;
    }
    let (hour, minute, second) = (number(11..13)?, number(14..16)?, number(17..19)?);
    if !(1..=12).contains(&month)
        || !(1..=31).contains(&day)
        || hour > 23
        || minute > 59
        || second > 60
    {
        return None;
    }
    let mut position = 19;
    let mut milliseconds = 0;
    if bytes.get(position) == Some(&b'.') {
        let fraction_start = position + 1;
        position = fraction_start;
        while position < bytes.len() && bytes[position].is_ascii_digit() {
            position += 1;
        }
        if position == fraction_start {
            return None;
        }
        let digits = &text[fraction_start..position];
        let padded: String = digits.chars().chain("000".chars()).take(3).collect();
        milliseconds = padded.parse::<i64>().ok()?;
    }
    let offset_minutes = match &text[position..] {
        "Z" | "z" => 0,
        zone if zone.len() == 6
            && (zone.starts_with('+') || zone.starts_with('-'))
            && zone.as_bytes()[3] == b':' =>
        {
            let hours = number(position + 1..position + 3)?;
            let minutes = number(position + 4..position + 6)?;
            let sign = if zone.starts_with('-') { -1 } else { 1 };
            sign * (hours * 60 + minutes)
        }
        _ => return None,
    };
    let days = crate::base::calendar::days_from_civil(year, month, day);
    let seconds = days * 86_400 + hour * 3600 + minute * 60 + second - offset_minutes * 60;
    Some(seconds * 1000 + milliseconds)
}
