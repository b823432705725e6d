//! `alertmanager/alertmanagerconfig.yaml`: the same route tree,
//! receivers and inhibit rules as `alertmanager/alertmanager.yml`, as a
//! prometheus-operator `AlertmanagerConfig` (`monitoring.coreos.com/v1alpha1`).
//!
//! Invariants:
//! - the route tree and the inhibit rules are the ones of
//!   [`route_tree`] and [`inhibit_rules`], so both
//!   outputs route alike (camelCase keys, matchers as `{name, value, matchType}`);
//! - no secret is inline: every `*_file` of the routing block becomes a
//!   `SecretKeySelector` into the one Secret [`SECRET_NAME`], whose key is the
//!   file's base name (the full path, made a valid key, when two files share a
//!   base name), so mounting that Secret at the files' folder serves both forms;
//! - the file lives beside `alertmanager.yml`, not in `kubernetes/` (which holds
//!   one `PrometheusRule` per service and nothing else);
//! - no namespace is written unless the `kubernetes` block sets one
//!   (`kubectl apply -n` decides), the block's labels and annotations join
//!   mlslo's own, and the header says
//!   that the operator adds a `namespace` matcher to the route and to every
//!   inhibit rule;
//! - time intervals are the ones of `alertmanager.yml` as `muteTimeIntervals`,
//!   except those with a `location`, which v1alpha1 cannot say: they are left
//!   out with the routes' references to them (the route then always notifies,
//!   rather than muting at the wrong hours), named in the header and warned by
//!   the checker (W0652);
//! - the manifest validates against the CRD schema (`tests/integration/emit_alertmanager.rs`).

use std::collections::BTreeMap;

use crate::compiler::emit::alertmanager::{
    heartbeat_route, inhibit_rules, route_tree, RouteTreeNode, DEFAULT_GROUP_INTERVAL,
    DEFAULT_GROUP_WAIT, DEFAULT_REPEAT_INTERVAL, FALLBACK_RECEIVER,
};
use crate::compiler::emit::kubernetes::metadata_node;
use crate::compiler::emit::yaml::Node;
use crate::compiler::ir::{Integration, Program, Receiver, TimeInterval, WebhookUrl};
use crate::prometheus::alertmanager::timeinterval;

/// Path of the manifest under the output folder.
pub const ALERTMANAGER_CONFIG_FILE: &str = "alertmanager/alertmanagerconfig.yaml";

/// `metadata.name` of the manifest.
pub const MANIFEST_NAME: &str = "mlslo-routing";

/// The Secret every secret reference points into.
pub const SECRET_NAME: &str = "mlslo-alertmanager";

/// The manifest with its header; nothing when there is nothing to route
/// (the same condition as `alertmanager.yml`).
pub fn files(program: &Program, source_names: &[String]) -> Vec<(String, String)> {
    if program.services.is_empty() && program.routing.is_none() {
        return Vec::new();
    }
    let secrets = secret_keys(program);
    let mut header = vec![
        format!(
            "{} {}; DO NOT EDIT.",
            crate::compiler::emit::GENERATED_MARKER,
            source_names.join(", ")
        ),
        "prometheus-operator AlertmanagerConfig; regenerate with `mlslo build`.".to_owned(),
        "The operator adds a namespace=\"<this namespace>\" matcher to the route and to every"
            .to_owned(),
        "inhibit rule: alerts must carry that label, or set the Alertmanager's".to_owned(),
        "alertmanagerConfigMatcherStrategy to None.".to_owned(),
    ];
    for interval in zoned_intervals(program) {
        header.push(format!(
            "Time interval {} is left out: its location {} has no field in v1alpha1.",
            interval.name,
            interval
                .specification
                .location
                .as_deref()
                .unwrap_or_default()
        ));
    }
    if !secrets.is_empty() {
        header.push(format!(
            "Secret {SECRET_NAME} (same namespace) holds, under each key, the file's content:"
        ));
        for (file, key) in &secrets {
            header.push(format!("  {key}: {file}"));
        }
    }
    vec![(
        ALERTMANAGER_CONFIG_FILE.to_owned(),
        crate::compiler::emit::yaml::to_string(&header, &alertmanager_config(program, &secrets)),
    )]
}

/// The manifest tree; `secrets` maps each secret file to its Secret key.
pub fn alertmanager_config(program: &Program, secrets: &BTreeMap<String, String>) -> Node {
    let routing = program.routing.as_ref();
    let default_receiver = routing
        .map(|routing| routing.default_receiver.clone())
        .unwrap_or_else(|| FALLBACK_RECEIVER.to_owned());
    let group_by = crate::compiler::emit::alertmanager::root_group_by(program);
    let timer = |value: Option<crate::compiler::ir::Duration>,
                 default: crate::compiler::ir::Duration| {
        Node::str(value.unwrap_or(default).to_string())
    };
    let mut route = vec![
        ("receiver".to_owned(), Node::str(&default_receiver)),
        (
            "groupBy".to_owned(),
            Node::Seq(group_by.into_iter().map(Node::Str).collect()),
        ),
        (
            "groupWait".to_owned(),
            timer(routing.and_then(|r| r.group_wait), DEFAULT_GROUP_WAIT),
        ),
        (
            "groupInterval".to_owned(),
            timer(
                routing.and_then(|r| r.group_interval),
                DEFAULT_GROUP_INTERVAL,
            ),
        ),
        (
            "repeatInterval".to_owned(),
            timer(
                routing.and_then(|r| r.repeat_interval),
                DEFAULT_REPEAT_INTERVAL,
            ),
        ),
    ];
    if let Some(routing) = routing {
        let mut children: Vec<Node> = heartbeat_route(program)
            .map(|heartbeat| {
                Node::owned_map(vec![
                    ("receiver".to_owned(), Node::str(&heartbeat.receiver)),
                    ("matchers".to_owned(), matchers_node(&heartbeat.matchers)),
                    (
                        "groupBy".to_owned(),
                        Node::Seq(vec![Node::str("alertname")]),
                    ),
                    ("groupWait".to_owned(), Node::str("0s")),
                    (
                        "groupInterval".to_owned(),
                        Node::str(heartbeat.group_interval.to_string()),
                    ),
                    (
                        "repeatInterval".to_owned(),
                        Node::str(heartbeat.repeat_interval.to_string()),
                    ),
                ])
            })
            .into_iter()
            .collect();
        let zoned: Vec<&str> = zoned_intervals(program)
            .map(|interval| interval.name.as_str())
            .collect();
        children.extend(
            route_tree(routing)
                .iter()
                .map(|node| route_node(node, &zoned)),
        );
        if !children.is_empty() {
            route.push(("routes".to_owned(), Node::Seq(children)));
        }
    }
    let inhibit: Vec<Node> = inhibit_rules(program)
        .iter()
        .map(|rule| {
            Node::map([
                ("sourceMatch", matchers_node(&rule.source)),
                ("targetMatch", matchers_node(&rule.target)),
                (
                    "equal",
                    Node::Seq(rule.equal.iter().map(Node::str).collect()),
                ),
            ])
        })
        .collect();
    let receivers: Vec<Node> = match routing {
        Some(routing) => routing
            .receivers
            .iter()
            .map(|receiver| receiver_node(receiver, secrets))
            .collect(),
        None => vec![Node::map([("name", Node::str(FALLBACK_RECEIVER))])],
    };
    let mut spec = vec![("route".to_owned(), Node::owned_map(route))];
    spec.push(("receivers".to_owned(), Node::Seq(receivers)));
    if !inhibit.is_empty() {
        spec.push(("inhibitRules".to_owned(), Node::Seq(inhibit)));
    }
    let intervals: Vec<Node> = routing
        .iter()
        .flat_map(|routing| &routing.time_intervals)
        .filter(|interval| !has_zone(interval))
        .map(time_interval_node)
        .collect();
    if !intervals.is_empty() {
        spec.push(("muteTimeIntervals".to_owned(), Node::Seq(intervals)));
    }
    Node::map([
        ("apiVersion", Node::str("monitoring.coreos.com/v1alpha1")),
        ("kind", Node::str("AlertmanagerConfig")),
        (
            "metadata",
            metadata_node(
                MANIFEST_NAME,
                vec![
                    (
                        "app.kubernetes.io/managed-by".to_owned(),
                        Node::str("mlslo"),
                    ),
                    (
                        "app.kubernetes.io/component".to_owned(),
                        Node::str("slo-routing"),
                    ),
                ],
                &program.kubernetes,
            ),
        ),
        ("spec", Node::owned_map(spec)),
    ])
}

/// Every secret file of the routing block and its key in [`SECRET_NAME`].
pub fn secret_keys(program: &Program) -> BTreeMap<String, String> {
    let mut files: Vec<&str> = Vec::new();
    for receiver in program
        .routing
        .iter()
        .flat_map(|routing| &routing.receivers)
    {
        for integration in &receiver.integrations {
            match integration {
                Integration::PagerDuty {
                    routing_key_file, ..
                } => files.push(routing_key_file),
                Integration::Slack { api_url_file, .. } => files.push(api_url_file),
                Integration::Webhook {
                    url: WebhookUrl::File(file),
                    ..
                } => files.push(file),
                Integration::Email {
                    auth_password_file: Some(file),
                    ..
                } => files.push(file),
                _ => {}
            }
        }
    }
    files.sort_unstable();
    files.dedup();
    let base_name = |file: &str| secret_key(file.rsplit('/').next().unwrap_or(file));
    let mut keys = BTreeMap::new();
    for file in &files {
        let shared = files
            .iter()
            .filter(|other| base_name(other) == base_name(file))
            .count()
            > 1;
        let key = if shared {
            secret_key(file.trim_start_matches('/'))
        } else {
            base_name(file)
        };
        keys.insert((*file).to_owned(), key);
    }
    keys
}

/// A valid Secret key (`[-._a-zA-Z0-9]+`): other characters become `-`.
fn secret_key(text: &str) -> String {
    let key: String = text
        .chars()
        .map(|character| {
            if character.is_ascii_alphanumeric() || matches!(character, '-' | '.' | '_') {
                character
            } else {
                '-'
            }
        })
        .collect();
    if key.is_empty() || key == "." || key == ".." {
        format!("secret{key}")
    } else {
        key
    }
}

/// Whether the interval names a zone other than UTC, which v1alpha1's
/// `TimeInterval` has no field for.
fn has_zone(interval: &TimeInterval) -> bool {
    !matches!(
        interval.specification.location.as_deref(),
        None | Some("" | "UTC")
    )
}

fn zoned_intervals(program: &Program) -> impl Iterator<Item = &TimeInterval> {
    program
        .routing
        .iter()
        .flat_map(|routing| &routing.time_intervals)
        .filter(|interval| has_zone(interval))
}

/// `muteTimeIntervals[]`: the CRD's camelCase keys, days of the month as
/// `{start, end}` numbers, the other ranges in Alertmanager's canonical text.
fn time_interval_node(interval: &TimeInterval) -> Node {
    let specification = &interval.specification;
    let mut fields = Vec::new();
    let ranges = |ranges: &[(i64, i64)], format: fn((i64, i64)) -> String| {
        Node::Seq(
            ranges
                .iter()
                .map(|range| Node::Str(format(*range)))
                .collect(),
        )
    };
    if let Some(times) = &specification.times {
        let times = times
            .iter()
            .map(|(start, end)| {
                Node::map([
                    ("startTime", Node::Str(timeinterval::format_minutes(*start))),
                    ("endTime", Node::Str(timeinterval::format_minutes(*end))),
                ])
            })
            .collect();
        fields.push(("times", Node::Seq(times)));
    }
    if let Some(weekdays) = &specification.weekdays {
        fields.push((
            "weekdays",
            ranges(weekdays, timeinterval::format_weekday_range),
        ));
    }
    if let Some(days) = &specification.days_of_month {
        let days = days
            .iter()
            .map(|(start, end)| {
                Node::map([
                    ("start", Node::Number(start.to_string())),
                    ("end", Node::Number(end.to_string())),
                ])
            })
            .collect();
        fields.push(("daysOfMonth", Node::Seq(days)));
    }
    if let Some(months) = &specification.months {
        fields.push(("months", ranges(months, timeinterval::format_month_range)));
    }
    if let Some(years) = &specification.years {
        fields.push(("years", ranges(years, timeinterval::format_number_range)));
    }
    Node::map([
        ("name", Node::str(&interval.name)),
        ("timeIntervals", Node::Seq(vec![Node::map(fields)])),
    ])
}

fn route_node(node: &RouteTreeNode, zoned: &[&str]) -> Node {
    let mut pairs = Vec::new();
    if let Some(receiver) = &node.receiver {
        pairs.push(("receiver".to_owned(), Node::str(receiver)));
    }
    if !node.matchers.is_empty() {
        pairs.push(("matchers".to_owned(), matchers_node(&node.matchers)));
    }
    if node.continue_matching {
        pairs.push(("continue".to_owned(), Node::Number("true".to_owned())));
    }
    for (key, names) in [
        ("muteTimeIntervals", &node.mute_time_intervals),
        ("activeTimeIntervals", &node.active_time_intervals),
    ] {
        let names: Vec<Node> = names
            .iter()
            .filter(|name| !zoned.contains(&name.as_str()))
            .map(Node::str)
            .collect();
        if !names.is_empty() {
            pairs.push((key.to_owned(), Node::Seq(names)));
        }
    }
    if !node.routes.is_empty() {
        pairs.push((
            "routes".to_owned(),
            Node::Seq(
                node.routes
                    .iter()
                    .map(|child| route_node(child, zoned))
                    .collect(),
            ),
        ));
    }
    Node::owned_map(pairs)
}

fn matchers_node(matchers: &[(String, String, String)]) -> Node {
    Node::Seq(
        matchers
            .iter()
            .map(|(name, operator, value)| {
                Node::map([
                    ("name", Node::str(name)),
                    ("value", Node::str(value)),
                    // `=` must be quoted (a bare `=` is YAML 1.1's value tag);
                    // `Node::str` quotes it.
                    ("matchType", Node::str(operator)),
                ])
            })
            .collect(),
    )
}

fn secret_reference(file: &str, secrets: &BTreeMap<String, String>) -> Node {
    let key = secrets
        .get(file)
        .cloned()
        .unwrap_or_else(|| secret_key(file.trim_start_matches('/')));
    Node::map([("name", Node::str(SECRET_NAME)), ("key", Node::str(key))])
}

fn receiver_node(receiver: &Receiver, secrets: &BTreeMap<String, String>) -> Node {
    let mut lists: BTreeMap<&str, Vec<Node>> = BTreeMap::new();
    let send_resolved = |pairs: &mut Vec<(String, Node)>| {
        if let Some(value) = receiver.send_resolved {
            pairs.push(("sendResolved".to_owned(), Node::Number(value.to_string())));
        }
    };
    for integration in &receiver.integrations {
        let mut pairs: Vec<(String, Node)> = Vec::new();
        let list = match integration {
            Integration::PagerDuty {
                routing_key_file,
                severity,
            } => {
                pairs.push((
                    "routingKey".into(),
                    secret_reference(routing_key_file, secrets),
                ));
                if let Some(severity) = severity {
                    pairs.push(("severity".into(), Node::str(severity)));
                }
                "pagerdutyConfigs"
            }
            Integration::Slack {
                api_url_file,
                channel,
                title,
                text,
            } => {
                pairs.push(("apiURL".into(), secret_reference(api_url_file, secrets)));
                pairs.push(("channel".into(), Node::str(channel)));
                if let Some(title) = title {
                    pairs.push(("title".into(), Node::str(title)));
                }
                if let Some(text) = text {
                    pairs.push(("text".into(), Node::str(text)));
                }
                "slackConfigs"
            }
            Integration::Webhook { url, max_alerts } => {
                match url {
                    WebhookUrl::Inline(url) => pairs.push(("url".into(), Node::str(url))),
                    // The operator reads the Secret and writes the URL into the
                    // generated configuration, so this works with any Alertmanager.
                    WebhookUrl::File(file) => {
                        pairs.push(("urlSecret".into(), secret_reference(file, secrets)));
                    }
                }
                if let Some(max_alerts) = max_alerts {
                    pairs.push(("maxAlerts".into(), Node::Number(max_alerts.to_string())));
                }
                "webhookConfigs"
            }
            Integration::Email {
                to,
                from,
                smarthost,
                auth_username,
                auth_password_file,
                require_tls,
            } => {
                pairs.push(("to".into(), Node::str(to)));
                pairs.push(("from".into(), Node::str(from)));
                pairs.push(("smarthost".into(), Node::str(smarthost)));
                if let Some(username) = auth_username {
                    pairs.push(("authUsername".into(), Node::str(username)));
                }
                if let Some(file) = auth_password_file {
                    pairs.push(("authPassword".into(), secret_reference(file, secrets)));
                }
                if let Some(require_tls) = require_tls {
                    pairs.push(("requireTLS".into(), Node::Number(require_tls.to_string())));
                }
                "emailConfigs"
            }
        };
        send_resolved(&mut pairs);
        lists.entry(list).or_default().push(Node::owned_map(pairs));
    }
    let mut pairs = vec![("name".to_owned(), Node::str(&receiver.name))];
    for (key, configs) in lists {
        pairs.push((key.to_owned(), Node::Seq(configs)));
    }
    Node::owned_map(pairs)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secret_keys_are_valid_and_unique() {
        assert_eq!(secret_key("pd key@1"), "pd-key-1");
        assert_eq!(secret_key(""), "secret");
        assert_eq!(secret_key(".."), "secret..");
        let mut map = crate::base::diagnostic::SourceMap::new();
        map.add(
            "routing.slo",
            r##"routing {
  default_receiver = "a"
  receiver "a" { pagerduty { routing_key_file = "/etc/am/one/key" } }
  receiver "b" { pagerduty { routing_key_file = "/etc/am/two/key" } }
  receiver "c" { slack { api_url_file = "/etc/am/slack", channel = "#c" } }
  route { team = "b" } -> "b"
  route { team = "c" } -> "c"
}
"##,
        );
        let (program, diagnostics) = crate::compiler::check_sources(&map);
        let program = program.unwrap_or_else(|| panic!("{diagnostics:?}"));
        let keys = secret_keys(&program);
        assert_eq!(keys["/etc/am/one/key"], "etc-am-one-key");
        assert_eq!(keys["/etc/am/two/key"], "etc-am-two-key");
        assert_eq!(keys["/etc/am/slack"], "slack");
    }
}
