//! Elasticsearch Watcher watches for `logs` objectives, one file each ([`naming::watch_file`]).
//!
//! Invariants:
//! - a watch posts its alert to Alertmanager's `/api/v2/alerts` with the same
//!   labels a Prometheus alert of the objective carries (`alertname`, `service`,
//!   `slo`, `kind`, `team`, `severity` plus the service's and objective's labels),
//!   so log alerts route and inhibit exactly like metric alerts;
//! - the alert resolves by itself: the post action runs on every execution whose
//!   condition holds (its own throttle is half the schedule interval, not the
//!   watch's `throttle_period`, which keeps throttling the log action) and sets
//!   `endsAt` to [`RESOLVE_AFTER_SCHEDULES`] schedule intervals after the
//!   execution, computed by a script transform that keeps the search payload;
//! - the Alertmanager address is the routing block's `alertmanager_url`, else
//!   `http://alertmanager:9093`;
//! - the only Mustache tags in the output are the ones written here
//!   (`{{ctx.payload...}}`, `{{ctx.execution_time}}`); every user string placed in
//!   a Mustache template goes through [`escape_mustache`], which writes `{{` with
//!   a delimiter switch so it renders as the two characters. The search request's
//!   body is such a template too: Watcher renders it with Mustache before the
//!   search (`WatcherSearchTemplateRequest::getOrCreateTemplate` turns a `body`
//!   into an inline Mustache script), so the queries and the timestamp field in it
//!   are escaped like the webhook's text, and reach Elasticsearch as written;
//! - JSON text: keys sorted (serde_json's map), 2-space indent, trailing newline;
//!   numbers from exact decimals.

use serde_json::{json, Map, Value};

use crate::compiler::emit::alertmanager::AlertmanagerOptions;
use crate::compiler::emit::prometheus::alert_labels;
use crate::compiler::ir::naming;
use crate::compiler::ir::{Duration, LogsCondition, Objective, ObjectiveKind, Program, Service};

/// Where watches post alerts when nothing else is configured: the in-cluster
/// Alertmanager service name and port.
pub const ALERTMANAGER_HOST: &str = "alertmanager";
pub const ALERTMANAGER_PORT: u16 = 9093;
pub const ALERTMANAGER_ALERTS_PATH: &str = "/api/v2/alerts";

/// How many schedule intervals after an execution its posted alert ends, so
/// that one missed or slow execution does not resolve a firing alert.
pub const RESOLVE_AFTER_SCHEDULES: i64 = 3;

/// Where a watch posts alerts: scheme, host, port and path.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AlertmanagerAddress {
    pub scheme: String,
    pub host: String,
    pub port: u16,
    pub path: String,
}

impl AlertmanagerAddress {
    /// Splits a checked `http(s)://host[:port][/prefix]` URL; the query and
    /// fragment are not used, and `/api/v2/alerts` is appended to the prefix.
    pub fn from_url(url: &str) -> AlertmanagerAddress {
        let (scheme, rest, default_port) = match url.strip_prefix("https://") {
            Some(rest) => ("https", rest, 443),
            None => ("http", url.strip_prefix("http://").unwrap_or(url), 80),
        };
        let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
        let (authority, tail) = rest.split_at(end);
        let path_prefix = tail.split(['?', '#']).next().unwrap_or("");
        let (host, port) = match authority.rsplit_once(':') {
            // An IPv6 literal (`[::1]`) has colons of its own.
            Some((host, port)) if !port.contains(']') => {
                (host, port.parse().unwrap_or(default_port))
            }
            _ => (authority, default_port),
        };
        AlertmanagerAddress {
            scheme: scheme.to_owned(),
            host: host
                .trim_start_matches('[')
                .trim_end_matches(']')
                .to_owned(),
            port,
            path: format!(
                "{}{ALERTMANAGER_ALERTS_PATH}",
                path_prefix.trim_end_matches('/')
            ),
        }
    }

    /// The address the routing block names, or the in-cluster default.
    pub fn for_program(program: &Program) -> AlertmanagerAddress {
        match program
            .routing
            .as_ref()
            .and_then(|routing| routing.alertmanager_url.as_deref())
        {
            Some(url) => AlertmanagerAddress::from_url(url),
            None => AlertmanagerAddress {
                scheme: "http".to_owned(),
                host: ALERTMANAGER_HOST.to_owned(),
                port: ALERTMANAGER_PORT,
                path: ALERTMANAGER_ALERTS_PATH.to_owned(),
            },
        }
    }
}

/// The `metadata` marker a GitOps sync uses to tell mlslo's watches apart.
pub const OWNED_MARKER: &str = "mlslo_owned";

/// Every watch of the program, by path.
pub fn files(program: &Program, _options: &AlertmanagerOptions) -> Vec<(String, String)> {
    let mut files = Vec::new();
    let address = AlertmanagerAddress::for_program(program);
    for service in &program.services {
        for objective in &service.objectives {
            if let Some(watch) = watch(service, objective, &address) {
                files.push((
                    naming::watch_file(&service.name, &objective.name),
                    to_json_text(&watch),
                ));
            }
        }
    }
    files
}

/// Pretty JSON (2 spaces, sorted keys) with a trailing newline.
pub fn to_json_text(value: &Value) -> String {
    // Serializing a `Value` cannot fail: every key is a string.
    let mut text = serde_json::to_string_pretty(value).unwrap_or_default();
    text.push('\n');
    text
}

/// Makes `text` render as itself inside a Mustache template: each `{{` is
/// written by switching delimiters to `<% %>`, emitting the braces as text,
/// and switching back (Mustache's set-delimiter tag; no other escape exists).
pub fn escape_mustache(text: &str) -> String {
    text.replace("{{", "{{=<% %>=}}{{<%={{ }}=%>")
}

/// An Elasticsearch time value or date-math amount: the single-unit spelling
/// when there is one (`5m`, `1h`, `2d`), whole seconds otherwise (`5400s`).
pub fn es_time(duration: Duration) -> String {
    let text = duration.to_string();
    let single_unit = text.len() >= 2
        && text[..text.len() - 1]
            .bytes()
            .all(|byte| byte.is_ascii_digit())
        && matches!(text.as_bytes()[text.len() - 1], b's' | b'm' | b'h' | b'd');
    if single_unit {
        text
    } else {
        // Date math has no millisecond unit; round up so the window is never shorter.
        let seconds = (duration.millis + 999) / 1000;
        format!("{}s", seconds.max(1))
    }
}

fn decimal_number(text: &str) -> Value {
    // Decimal text is canonical (digits, `.`, `-`), always a valid JSON number.
    serde_json::from_str::<Value>(text).unwrap_or(Value::String(text.to_owned()))
}

/// The watch of a `logs` objective; `None` for other kinds.
pub fn watch(
    service: &Service,
    objective: &Objective,
    address: &AlertmanagerAddress,
) -> Option<Value> {
    let ObjectiveKind::Logs {
        index,
        query,
        condition,
        timestamp_field,
        schedule,
        throttle,
        severity,
    } = &objective.kind
    else {
        return None;
    };
    let (window, alert_name) = match condition {
        LogsCondition::MaxCount { window, .. } => (*window, naming::ALERT_LOG_COUNT_HIGH),
        LogsCondition::MaxRatio { window, .. } => (*window, naming::ALERT_LOG_RATIO_HIGH),
    };
    let range = json!({
        "range": { escape_mustache(timestamp_field): { "gte": format!("now-{}", es_time(window)), "lte": "now" } }
    });
    let query_string = |text: &str| json!({ "query_string": { "query": escape_mustache(text) } });
    let (body, watch_condition, measured, summary) = match condition {
        LogsCondition::MaxCount { count, .. } => (
            json!({
                "size": 0,
                "track_total_hits": true,
                "query": { "bool": { "filter": [query_string(query), range] } }
            }),
            json!({ "compare": { "ctx.payload.hits.total": { "gt": count } } }),
            "{{ctx.payload.hits.total}} matching log events".to_owned(),
            format!(
                "More than {count} log events of {}/{} in {}",
                service.name,
                objective.name,
                es_time(window)
            ),
        ),
        LogsCondition::MaxRatio {
            total_query, ratio, ..
        } => (
            json!({
                "size": 0,
                "query": { "bool": { "filter": [range] } },
                "aggs": { "ratio": { "filters": { "filters": {
                    "matching": query_string(query),
                    "total": query_string(total_query)
                } } } }
            }),
            json!({ "script": {
                "lang": "painless",
                "source": "def buckets = ctx.payload.aggregations.ratio.buckets; return buckets.total.doc_count > 0 && buckets.matching.doc_count / (double) buckets.total.doc_count > params.max_ratio",
                "params": { "max_ratio": decimal_number(&ratio.to_string()) }
            } }),
            "{{ctx.payload.aggregations.ratio.buckets.matching.doc_count}} of {{ctx.payload.aggregations.ratio.buckets.total.doc_count}} log events matching".to_owned(),
            format!(
                "More than {} of log events of {}/{} match in {}",
                ratio,
                service.name,
                objective.name,
                es_time(window)
            ),
        ),
    };
    let mut labels = alert_labels(service, objective, service.severities.of(*severity));
    labels.insert("alertname".to_owned(), alert_name.to_owned());
    let mut annotations = Map::new();
    annotations.insert(
        naming::ANNOTATION_SUMMARY.to_owned(),
        Value::String(escape_mustache(&summary)),
    );
    let description = match &objective.description {
        Some(description) => format!("{}: ", escape_mustache(description)),
        None => String::new(),
    };
    annotations.insert(
        naming::ANNOTATION_DESCRIPTION.to_owned(),
        Value::String(format!(
            "{description}{measured} in the last {} (index {}).",
            es_time(window),
            escape_mustache(index)
        )),
    );
    if let Some(runbook) = &service.runbook {
        annotations.insert(
            naming::ANNOTATION_RUNBOOK.to_owned(),
            Value::String(escape_mustache(runbook)),
        );
    }
    if let Some(dashboard) = &service.dashboard {
        annotations.insert(
            naming::ANNOTATION_DASHBOARD.to_owned(),
            Value::String(escape_mustache(dashboard)),
        );
    }
    let escaped_labels: Map<String, Value> = labels
        .iter()
        .map(|(key, value)| (key.clone(), Value::String(escape_mustache(value))))
        .collect();
    // The posted body is a JSON document written here, with Mustache tags
    // only where numbers go; user text is JSON-escaped by serde_json, then
    // Mustache-escaped above.
    let alerts_body = json!([{
        "labels": escaped_labels,
        "annotations": annotations,
        "startsAt": "{{ctx.execution_time}}",
        "endsAt": "{{ctx.payload.ends_at}}"
    }]);
    let resolve_after_seconds = (schedule.millis * RESOLVE_AFTER_SCHEDULES + 999) / 1000;
    let post_throttle = Duration::from_millis((schedule.millis / 2).max(1000));
    let alerts_body = serde_json::to_string(&alerts_body).unwrap_or_default();
    let mut metadata = Map::new();
    metadata.insert(OWNED_MARKER.to_owned(), Value::Bool(true));
    metadata.insert("service".to_owned(), Value::String(service.name.clone()));
    metadata.insert("slo".to_owned(), Value::String(objective.name.clone()));
    metadata.insert("team".to_owned(), Value::String(service.team.clone()));
    metadata.insert("kind".to_owned(), Value::String("logs".to_owned()));
    metadata.insert(
        "severity".to_owned(),
        Value::String(severity.as_str().to_owned()),
    );
    Some(json!({
        "metadata": metadata,
        "trigger": { "schedule": { "interval": es_time(*schedule) } },
        "input": { "search": { "request": {
            "indices": [index],
            "rest_total_hits_as_int": true,
            "body": body
        } } },
        "condition": watch_condition,
        "throttle_period": es_time(*throttle),
        "actions": {
            "log": { "logging": {
                "level": "warn",
                "text": format!("[{}] {}: {measured}", escape_mustache(alert_name), escape_mustache(&summary))
            } },
            "notify_alertmanager": {
                "throttle_period": es_time(post_throttle),
                "transform": { "script": {
                    "lang": "painless",
                    "source": "Map payload = new HashMap(ctx.payload); payload.put('ends_at', ctx.execution_time.plusSeconds(params.resolve_after_seconds).toString()); return payload;",
                    "params": { "resolve_after_seconds": resolve_after_seconds }
                } },
                "webhook": {
                    "scheme": address.scheme,
                    "host": address.host,
                    "port": address.port,
                    "method": "post",
                    "path": address.path,
                    "headers": { "Content-Type": "application/json" },
                    "body": alerts_body
                }
            }
        }
    }))
}
