//! What `mlslo routes` prints: the routing of a batch of alerts for people
//! (text) and for machines (JSON), the check of `--verify-receivers`, plus the
//! small parsers of its arguments (`--alert 'k=v,k=v'`, `--at TIME`).
//!
//! Invariants: pure functions of their arguments (the CLI reads the files and
//! the clock); output in input order and byte-for-byte deterministic; the text
//! form names every alert by its input index (`#0`) so an inhibitor can be
//! found in the same listing.

use std::fmt::Write as _;

use serde::Serialize;

use crate::prometheus::alertmanager::config::Config;
use crate::prometheus::alertmanager::inhibit::Inhibitor;
use crate::prometheus::alertmanager::matchers::{format_matchers, LabelSet};
use crate::prometheus::alertmanager::route::format_label_set;
use crate::prometheus::alertmanager::{
    parse_rfc3339_milliseconds, route_alerts, AlertRouting, PostableAlert,
};
use crate::prometheus::model::names::is_legacy_label_name;

/// The JSON document of `mlslo routes --format json`.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct RoutesReport {
    /// The evaluation time, RFC 3339 in UTC.
    pub evaluated_at: String,
    /// One entry per inhibit rule of the configuration, as text, so that an
    /// `inhibited_by.rule` index can be read without the configuration.
    pub inhibit_rules: Vec<String>,
    pub alerts: Vec<AlertRouting>,
    pub summary: RoutesSummary,
}

/// Counts over the whole batch.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct RoutesSummary {
    pub alerts: usize,
    /// Valid alerts that are not inhibited: Alertmanager notifies for them.
    pub notified: usize,
    pub inhibited: usize,
    pub resolved: usize,
    /// Alerts Alertmanager would reject with HTTP 400.
    pub invalid: usize,
}

/// Routes the alerts and gathers everything both output forms need.
pub fn routes_report(
    config: &Config,
    alerts: &[PostableAlert],
    now_unix_milliseconds: i64,
) -> RoutesReport {
    let routed = route_alerts(config, alerts, now_unix_milliseconds);
    let mut summary = RoutesSummary {
        alerts: routed.len(),
        ..RoutesSummary::default()
    };
    for routing in &routed {
        match routing.status.as_str() {
            "invalid" => summary.invalid += 1,
            "resolved" => summary.resolved += 1,
            _ if routing.inhibited_by.is_some() => summary.inhibited += 1,
            _ => summary.notified += 1,
        }
    }
    RoutesReport {
        evaluated_at: format_rfc3339_milliseconds(now_unix_milliseconds),
        inhibit_rules: describe_inhibit_rules(config),
        alerts: routed,
        summary,
    }
}

/// Each inhibit rule as `{source} mutes {target} on [equal]`, legacy
/// `source_match`/`source_match_re` folded into the matcher lists as
/// Alertmanager does.
pub fn describe_inhibit_rules(config: &Config) -> Vec<String> {
    Inhibitor::new(config)
        .rules
        .iter()
        .map(|rule| {
            let equal: Vec<&str> = rule.equal.iter().map(String::as_str).collect();
            format!(
                "{} mutes {} on [{}]",
                format_matchers(&rule.source_matchers),
                format_matchers(&rule.target_matchers),
                equal.join(", ")
            )
        })
        .collect()
}

/// `--verify-receivers`, amtool's `config routes test --verify.receivers`:
/// every alert of the batch must route to exactly `expected`, the receivers
/// joined by commas in routing-tree order with repeats kept, compared as text
/// as amtool 0.25 compares them (inhibition does not matter, as for amtool).
/// One message per alert that routes elsewhere.
pub fn verify_receivers(report: &RoutesReport, expected: &str) -> Vec<String> {
    report
        .alerts
        .iter()
        .filter_map(|routing| {
            let resolved = routing.receivers.join(",");
            (resolved != expected).then(|| {
                format!(
                    "#{} {} routes to `{resolved}`, expected `{expected}`",
                    routing.index,
                    describe_labels(&routing.labels)
                )
            })
        })
        .collect()
}

/// The report for people: one paragraph per alert, then a summary line.
pub fn render_routes_text(report: &RoutesReport) -> String {
    let mut text = String::new();
    for routing in &report.alerts {
        let _ = writeln!(
            text,
            "#{} {}",
            routing.index,
            describe_labels(&routing.labels)
        );
        if let Some(error) = &routing.error {
            let _ = writeln!(text, "   invalid: {error} (Alertmanager rejects it)");
            continue;
        }
        match &routing.inhibited_by {
            Some(inhibition) => {
                let source = report
                    .alerts
                    .get(inhibition.alert)
                    .and_then(|source| source.labels.get("alertname"))
                    .map(String::as_str)
                    .unwrap_or("");
                let rule = report
                    .inhibit_rules
                    .get(inhibition.rule)
                    .map(String::as_str)
                    .unwrap_or("");
                let _ = writeln!(
                    text,
                    "   {}: inhibited by #{} {source}, rule {}: {rule}",
                    routing.status, inhibition.alert, inhibition.rule
                );
                if inhibition.candidates.len() > 1 {
                    let others: Vec<String> = inhibition
                        .candidates
                        .iter()
                        .skip(1)
                        .map(|index| format!("#{index}"))
                        .collect();
                    let _ = writeln!(text, "   (also muted by {})", others.join(", "));
                }
            }
            None => {
                let _ = writeln!(
                    text,
                    "   {}: notifies {}",
                    routing.status,
                    routing.receivers.join(", ")
                );
            }
        }
        for route in &routing.routes {
            let (path, group) = route
                .group_key
                .rsplit_once(':')
                .unwrap_or((route.group_key.as_str(), ""));
            let _ = write!(text, "   route {path} -> {}, group {group}", route.receiver);
            match route.muted_by_time_intervals {
                Some(true) => text.push_str(", muted now by its time intervals"),
                Some(false) => {}
                None => text.push_str(", time intervals in another zone not evaluated"),
            }
            text.push('\n');
        }
    }
    let summary = report.summary;
    let noun = if summary.alerts == 1 {
        "alert"
    } else {
        "alerts"
    };
    let _ = writeln!(
        text,
        "{} {noun}: {} notified, {} inhibited, {} resolved, {} invalid",
        summary.alerts, summary.notified, summary.inhibited, summary.resolved, summary.invalid
    );
    text
}

/// The report as pretty JSON with a final newline.
pub fn render_routes_json(report: &RoutesReport) -> String {
    // A tree of strings, numbers and maps with string keys always serializes.
    let mut text = serde_json::to_string_pretty(report).unwrap_or_default();
    text.push('\n');
    text
}

/// `alertname{other="labels"}` as Prometheus prints a series.
pub fn describe_labels(labels: &LabelSet) -> String {
    let mut rest = labels.clone();
    let name = rest.remove("alertname").unwrap_or_default();
    format!("{name}{}", format_label_set(&rest))
}

/// Parses `--alert 'alertname=X,severity=page'` into an alert with those
/// labels. Values may be double-quoted (`summary="a, b"`) with `\"` and `\\`
/// escapes; names must be valid label names.
pub fn parse_label_pairs(text: &str) -> Result<PostableAlert, String> {
    let mut labels = LabelSet::new();
    let mut characters = text.chars().peekable();
    loop {
        while characters
            .peek()
            .is_some_and(|character| character.is_whitespace())
        {
            characters.next();
        }
        if characters.peek().is_none() {
            break;
        }
        let mut name = String::new();
        while let Some(&character) = characters.peek() {
            if character == '=' || character == ',' {
                break;
            }
            name.push(character);
            characters.next();
        }
        let name = name.trim().to_string();
        if characters.next() != Some('=') {
            return Err(format!("expected `name=value` in {text:?}, found {name:?}"));
        }
        if !is_legacy_label_name(&name) {
            return Err(format!("invalid label name {name:?} in {text:?}"));
        }
        let mut value = String::new();
        if characters.peek() == Some(&'"') {
            characters.next();
            loop {
                match characters.next() {
                    Some('"') => break,
                    Some('\\') => match characters.next() {
                        Some(escaped) => value.push(escaped),
                        None => return Err(format!("unterminated quoted value in {text:?}")),
                    },
                    Some(character) => value.push(character),
                    None => return Err(format!("unterminated quoted value in {text:?}")),
                }
            }
            while characters
                .peek()
                .is_some_and(|character| character.is_whitespace())
            {
                characters.next();
            }
            if characters.peek().is_some_and(|&character| character != ',') {
                return Err(format!("expected `,` after the quoted value of {name:?}"));
            }
        } else {
            while let Some(&character) = characters.peek() {
                if character == ',' {
                    break;
                }
                value.push(character);
                characters.next();
            }
            value = value.trim().to_string();
        }
        if labels.insert(name.clone(), value).is_some() {
            return Err(format!("label {name:?} given twice in {text:?}"));
        }
        if characters.next().is_none() {
            break;
        }
    }
    if labels.is_empty() {
        return Err("`--alert` needs at least one `name=value` pair".to_string());
    }
    Ok(PostableAlert {
        labels,
        ..PostableAlert::default()
    })
}

/// Parses `--at`: an RFC 3339 date-time or Unix seconds (`1700000000`,
/// `1700000000.5`), into Unix milliseconds.
pub fn parse_evaluation_time(text: &str) -> Result<i64, String> {
    if let Some(milliseconds) = parse_rfc3339_milliseconds(text) {
        return Ok(milliseconds);
    }
    let is_number = !text.is_empty()
        && text
            .bytes()
            .all(|byte| byte.is_ascii_digit() || byte == b'.' || byte == b'-');
    if is_number {
        if let Ok(seconds) = text.parse::<f64>() {
            // Beyond ±10^14 seconds no calendar date is meaningful.
            if seconds.is_finite() && seconds.abs() < 1e14 {
                return Ok((seconds * 1000.0).round() as i64);
            }
        }
    }
    Err(format!(
        "invalid time {text:?}: expected RFC 3339 (2024-05-01T12:00:00Z) or Unix seconds"
    ))
}

/// Unix milliseconds as RFC 3339 in UTC, with milliseconds only when nonzero.
pub fn format_rfc3339_milliseconds(unix_milliseconds: i64) -> String {
    let seconds = unix_milliseconds.div_euclid(1000);
    let milliseconds = unix_milliseconds.rem_euclid(1000);
    let (year, month, day) = crate::base::calendar::civil_from_days(seconds.div_euclid(86_400));
    let second_of_day = seconds.rem_euclid(86_400);
    let mut text = format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}",
        second_of_day / 3600,
        second_of_day / 60 % 60,
        second_of_day % 60
    );
    if milliseconds != 0 {
        let _ = write!(text, ".{milliseconds:03}");
    }
    text.push('Z');
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn label_pairs_parse_with_quotes_and_spaces() {
        let alert = parse_label_pairs(r#"alertname=Burn, severity=page,summary="a, \"b\"""#)
            .expect("valid pairs");
        assert_eq!(alert.labels["alertname"], "Burn");
        assert_eq!(alert.labels["severity"], "page");
        assert_eq!(alert.labels["summary"], r#"a, "b""#);
        assert_eq!(
            parse_label_pairs("a=1,")
                .expect("trailing comma")
                .labels
                .len(),
            1
        );
    }

    #[test]
    fn bad_label_pairs_are_errors() {
        assert!(parse_label_pairs("").is_err());
        assert!(parse_label_pairs("novalue").is_err());
        assert!(parse_label_pairs("1bad=x").is_err());
        assert!(parse_label_pairs("a=1,a=2").is_err());
        assert!(parse_label_pairs(r#"a="open"#).is_err());
        assert!(parse_label_pairs(r#"a="x"y"#).is_err());
    }

    #[test]
    fn evaluation_times_parse_both_forms() {
        assert_eq!(parse_evaluation_time("1970-01-01T00:00:01Z"), Ok(1000));
        assert_eq!(parse_evaluation_time("1700000000"), Ok(1_700_000_000_000));
        assert_eq!(parse_evaluation_time("1.5"), Ok(1500));
        assert!(parse_evaluation_time("yesterday").is_err());
        assert!(parse_evaluation_time("1e400").is_err());
        assert!(parse_evaluation_time("").is_err());
    }

    #[test]
    fn times_format_back_to_rfc3339() {
        for text in [
            "2026-11-22T10:06:32Z",
            "1969-12-31T23:59:59.250Z",
            "2024-02-29T00:00:00Z",
        ] {
            let milliseconds = parse_rfc3339_milliseconds(text).expect("valid");
            assert_eq!(format_rfc3339_milliseconds(milliseconds), text);
        }
    }
}
