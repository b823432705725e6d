//! `alertmanager/alertmanager.yml` from the `routing` block and the objectives:
//! the route tree, receivers with file-only secrets, and inhibition generated
//! from the objectives' structure plus the user's own rules.
//!
//! Invariants:
//! - every matcher is written by [`quote_matcher`], so Alertmanager 0.25's classic
//!   parser and 0.27+'s UTF-8 parser read it alike; a value that cannot be quoted
//!   (impossible for checked label names) drops the rule and is reported in
//!   [`AlertmanagerFile::notes`] rather than written wrong;
//! - only keys the target [`AlertmanagerVersion`] knows are written (0.25 unless
//!   the routing block sets `alertmanager_version`): a webhook `url_file` needs
//!   0.26, so under 0.25 that integration is left out, named in the file header
//!   and reported as W0507 by [`diagnostics`];
//! - the output is a pure function of the program and the options; user routes
//!   keep their written order (Alertmanager tries them in order), and a route to
//!   several receivers becomes sibling routes chained with `continue: true`;
//! - generated inhibit rules come first, in a fixed order: page over ticket of
//!   the same objective, serving pages over quality alerts of the same service,
//!   stale pipelines over the drift alerts they feed, then the user's rules;
//! - a forecast alert (`forecast="true"`) mutes nothing: every source side says
//!   `forecast!="true"`, except a user rule on `alertname`, which names the
//!   alerts it means (the explicit opt-in: `inhibit alertname
//!   "GPUMemoryExhaustionForecast" over ...`). A false forecast page must not
//!   silence the latency, drift and accuracy pages of its service;
//! - `ErrorBudgetLow` mutes nothing either: once a budget is spent it fires for
//!   days, and an availability budget spent last week explains no drift alert
//!   today. User rules not on `alertname` say `alertname!="ErrorBudgetLow"` on
//!   their source side when some objective has that alert.

use crate::base::diagnostic::Diagnostic;
use crate::compiler::emit::codes;
use crate::compiler::emit::yaml::Node;
use crate::compiler::ir::naming;
use crate::compiler::ir::{
    Duration, InhibitRule, Integration, ObjectiveKind, Program, Routing, TimeInterval, WebhookUrl,
};
use crate::prometheus::alertmanager::matchers::quote_matcher;
use crate::prometheus::alertmanager::timeinterval;

/// Path of the configuration under the output folder.
pub const ALERTMANAGER_FILE: &str = "alertmanager/alertmanager.yml";

/// The receiver of the root route when the program has no `routing` block: it
/// has no integrations, so alerts are accepted (and inhibited) but not sent.
pub const FALLBACK_RECEIVER: &str = "mlslo-default";

/// Alertmanager's own defaults, written explicitly so the file says what it does.
pub const DEFAULT_GROUP_WAIT: Duration = Duration::from_millis(30_000);
pub const DEFAULT_GROUP_INTERVAL: Duration = Duration::minutes(5);
pub const DEFAULT_REPEAT_INTERVAL: Duration = Duration::hours(4);

/// Which Alertmanager release the configuration must load in (`0.<minor>`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct AlertmanagerVersion {
    pub minor: u32,
}

impl AlertmanagerVersion {
    /// Debian bookworm's; `amtool check-config` 0.25 is the oracle.
    pub const V0_25: AlertmanagerVersion = AlertmanagerVersion { minor: 25 };
    /// Adds webhook `url_file`.
    pub const V0_26: AlertmanagerVersion = AlertmanagerVersion { minor: 26 };

    /// Reads one of `ir::ALERTMANAGER_VERSIONS` (`"0.26"`); 0.25 otherwise.
    pub fn parse(text: &str) -> AlertmanagerVersion {
        text.strip_prefix("0.")
            .and_then(|minor| minor.parse().ok())
            .map(|minor| AlertmanagerVersion { minor })
            .unwrap_or_default()
    }

    pub fn as_string(self) -> String {
        format!("0.{}", self.minor)
    }
}

impl Default for AlertmanagerVersion {
    fn default() -> AlertmanagerVersion {
        AlertmanagerVersion::V0_25
    }
}

/// Options of the Alertmanager emitters.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct AlertmanagerOptions {
    pub version: AlertmanagerVersion,
}

impl AlertmanagerOptions {
    /// The options the routing block asks for (`alertmanager_version`).
    pub fn for_program(program: &Program) -> AlertmanagerOptions {
        AlertmanagerOptions {
            version: program
                .routing
                .as_ref()
                .and_then(|routing| routing.alertmanager_version.as_deref())
                .map(AlertmanagerVersion::parse)
                .unwrap_or_default(),
        }
    }
}

/// Codes W05xx found while generating the configuration: W0507, a webhook
/// `url_file` the target release cannot read (the integration is left out).
pub fn diagnostics(program: &Program, options: &AlertmanagerOptions) -> Vec<Diagnostic> {
    let mut found = Vec::new();
    if options.version >= AlertmanagerVersion::V0_26 {
        return found;
    }
    for receiver in program
        .routing
        .iter()
        .flat_map(|routing| &routing.receivers)
    {
        let reads_url_from_file = receiver.integrations.iter().any(|integration| {
            matches!(
                integration,
                Integration::Webhook {
                    url: WebhookUrl::File(_),
                    ..
                }
            )
        });
        if reads_url_from_file {
            found.push(
                codes::URL_FILE_NEEDS_NEWER_ALERTMANAGER.at(receiver.span,
                    format!(
                        "receiver `{}` reads its webhook URL from a file, which Alertmanager {} cannot do; the webhook is left out",
                        receiver.name,
                        options.version.as_string()
                    ),
                )
                .with_help(
                    "set `alertmanager_version = \"0.26\"` (or newer) in the routing block, \
                     or write `url = \"https://...\"` without credentials",
                ),
            );
        }
    }
    found
}

/// The generated configuration and what had to be left out of it.
#[derive(Clone, Debug, PartialEq)]
pub struct AlertmanagerFile {
    pub root: Node,
    /// One line per omission, written into the header.
    pub notes: Vec<String>,
}

/// One inhibit rule as plain data (also the input of the CRD emitter).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GeneratedInhibit {
    /// Why the rule exists, for the CRD and the tests.
    pub reason: String,
    /// `(label, operator, value)`.
    pub source: Vec<(String, String, String)>,
    pub target: Vec<(String, String, String)>,
    pub equal: Vec<String>,
}

/// One route of the flat list under the root, after receivers are split.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FlatRoute {
    pub matchers: Vec<(String, String, String)>,
    pub receiver: String,
    pub continue_matching: bool,
    pub mute_time_intervals: Vec<String>,
    pub active_time_intervals: Vec<String>,
}

fn triple(label: &str, operator: &str, value: &str) -> (String, String, String) {
    (label.to_owned(), operator.to_owned(), value.to_owned())
}

/// The source matcher that keeps forecast alerts from muting anything.
fn not_a_forecast() -> (String, String, String) {
    triple(naming::LABEL_FORECAST, "!=", naming::FORECAST_LABEL_VALUE)
}

/// The source matcher that keeps the low-budget alert from muting anything: it
/// fires for days once a budget is spent, a policy signal rather than a sign
/// that the service is failing now, so it explains no other alert.
fn not_a_budget_low_alert() -> (String, String, String) {
    triple("alertname", "!=", naming::ALERT_BUDGET_LOW)
}

/// Inhibit rules derived from the objectives, then the user's, in emit order.
pub fn inhibit_rules(program: &Program) -> Vec<GeneratedInhibit> {
    let mut rules = Vec::new();
    if program.services.is_empty() {
        return rules;
    }
    let severities = program.severities();
    // The group labels are equal too, so a page of one model mutes nothing of
    // another. An alert without a group label has it empty, as Alertmanager
    // compares labels: ungrouped objectives inhibit each other as before.
    let group_labels = program.group_labels();
    let equal_on = |labels: &[&str]| -> Vec<String> {
        labels
            .iter()
            .map(|label| (*label).to_owned())
            .chain(group_labels.iter().cloned())
            .collect()
    };
    rules.push(GeneratedInhibit {
        reason: "a page mutes the ticket of the same objective".into(),
        source: vec![
            triple(naming::LABEL_SEVERITY, "=", &severities.page),
            not_a_forecast(),
        ],
        target: vec![triple(naming::LABEL_SEVERITY, "=", &severities.ticket)],
        equal: equal_on(&[naming::LABEL_SERVICE, naming::LABEL_SLO]),
    });
    let serving_kinds: Vec<&str> = ["availability", "gpu"].to_vec();
    let has_serving = program.services.iter().any(|service| {
        service.objectives.iter().any(|objective| {
            matches!(
                objective.kind,
                ObjectiveKind::Availability { .. } | ObjectiveKind::Gpu { .. }
            )
        })
    });
    if has_serving {
        rules.push(GeneratedInhibit {
            reason: "an availability or GPU page of a service (not a forecast) mutes its accuracy, drift and latency alerts".into(),
            source: vec![
                triple(naming::LABEL_KIND, "=~", &serving_kinds.join("|")),
                triple(naming::LABEL_SEVERITY, "=", &severities.page),
                not_a_forecast(),
            ],
            target: vec![triple(naming::LABEL_KIND, "=~", "accuracy|drift|latency")],
            equal: equal_on(&[naming::LABEL_SERVICE]),
        });
    }
    for service in &program.services {
        for objective in &service.objectives {
            if let ObjectiveKind::Freshness { feeds, .. } = &objective.kind {
                for feed in feeds {
                    rules.push(GeneratedInhibit {
                        reason: format!(
                            "the stale pipeline {}/{} mutes the drift alerts of {}",
                            service.name, objective.name, feed.name
                        ),
                        source: vec![
                            triple("alertname", "=", naming::ALERT_FRESHNESS_STALE),
                            triple(naming::LABEL_SERVICE, "=", &service.name),
                            triple(naming::LABEL_SLO, "=", &objective.name),
                        ],
                        target: vec![
                            triple(naming::LABEL_KIND, "=", "drift"),
                            triple(naming::LABEL_SERVICE, "=", &service.name),
                            triple(naming::LABEL_SLO, "=", &feed.name),
                        ],
                        equal: equal_on(&[naming::LABEL_SERVICE]),
                    });
                }
            }
        }
    }
    let has_budget_low_alert = program.services.iter().any(|service| {
        service.objectives.iter().any(|objective| {
            objective
                .kind
                .budget()
                .is_some_and(|budget| budget.budget_alerts.remaining_below.is_some())
        })
    });
    if let Some(routing) = &program.routing {
        for rule in &routing.inhibits {
            for mut user_rule in user_inhibit(rule) {
                // A user rule equal to a generated one would only be written twice.
                let duplicate = rules.iter().any(|existing| {
                    existing.source == user_rule.source
                        && existing.target == user_rule.target
                        && existing.equal == user_rule.equal
                });
                // A source on `alertname` names its alerts; one on a severity
                // other than the tickets' never matches the low-budget alert.
                let may_match_budget_low = rule.label != "alertname"
                    && (rule.label != naming::LABEL_SEVERITY || rule.source == severities.ticket);
                if has_budget_low_alert && may_match_budget_low {
                    user_rule.source.push(not_a_budget_low_alert());
                }
                if !duplicate {
                    rules.push(user_rule);
                }
            }
        }
    }
    rules
}

/// `inhibit l "s" over ["a", "b"] on [..]` is one rule per target: exact
/// equality matchers need no regex escaping of user text. Forecasts are kept out
/// of the source unless the rule names alerts by `alertname`.
fn user_inhibit(rule: &InhibitRule) -> Vec<GeneratedInhibit> {
    let mut source = vec![triple(&rule.label, "=", &rule.source)];
    if rule.label != "alertname" && rule.label != naming::LABEL_FORECAST {
        source.push(not_a_forecast());
    }
    rule.targets
        .iter()
        .map(|target| GeneratedInhibit {
            reason: format!(
                "user rule: {}={:?} over {:?} on [{}]",
                rule.label,
                rule.source,
                target,
                rule.equal.join(", ")
            ),
            source: source.clone(),
            target: vec![triple(&rule.label, "=", target)],
            equal: rule.equal.clone(),
        })
        .collect()
}

/// The user's routes with each multi-receiver route split into siblings.
pub fn flat_routes(routing: &Routing) -> Vec<FlatRoute> {
    let mut routes = Vec::new();
    for route in &routing.routes {
        let matchers: Vec<(String, String, String)> = route
            .matchers
            .iter()
            .map(|matcher| triple(&matcher.label, matcher.op.as_str(), &matcher.value))
            .collect();
        let last = route.receivers.len().saturating_sub(1);
        for (index, receiver) in route.receivers.iter().enumerate() {
            routes.push(FlatRoute {
                matchers: matchers.clone(),
                receiver: receiver.clone(),
                // Every receiver but the last must let matching go on to the next.
                continue_matching: index < last || route.continue_matching,
                mute_time_intervals: route.mute_time_intervals.clone(),
                active_time_intervals: route.active_time_intervals.clone(),
            });
        }
    }
    routes
}

/// The route of the dead man's switch, first under the root so that no user route
/// sees the Watchdog: it goes to the heartbeat receiver alone, at once, and again
/// every `heartbeat_interval`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HeartbeatRoute {
    pub receiver: String,
    pub matchers: Vec<(String, String, String)>,
    pub group_interval: Duration,
    /// Below `group_interval`: Alertmanager resends at a group flush only when the
    /// last notification is older than `repeat_interval`, and the flush that comes
    /// one interval later finds it a few milliseconds younger than that, so equal
    /// intervals would send every second flush only.
    pub repeat_interval: Duration,
}

pub fn heartbeat_route(program: &Program) -> Option<HeartbeatRoute> {
    let receiver = program.monitoring.heartbeat_receiver()?;
    if program.services.is_empty() || program.routing.is_none() {
        return None;
    }
    let interval = program.monitoring.heartbeat_interval;
    Some(HeartbeatRoute {
        receiver: receiver.to_owned(),
        matchers: vec![
            triple("alertname", "=", naming::ALERT_WATCHDOG),
            triple(naming::LABEL_KIND, "=", naming::KIND_MONITORING),
        ],
        group_interval: interval,
        repeat_interval: Duration::from_millis((interval.millis / 2).max(1)),
    })
}

/// The labels the route tree branches on, outermost first: team, then severity.
pub const ROUTE_TREE_LEVELS: &[&str] = &[naming::LABEL_TEAM, naming::LABEL_SEVERITY];

/// One node of the generated route tree under the root.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RouteTreeNode {
    pub matchers: Vec<(String, String, String)>,
    /// `None`: inherited from the parent (the default receiver).
    pub receiver: Option<String>,
    pub continue_matching: bool,
    /// Only on nodes with a receiver: a branching node mutes nothing itself.
    pub mute_time_intervals: Vec<String>,
    pub active_time_intervals: Vec<String>,
    pub routes: Vec<RouteTreeNode>,
}

/// The user's routes as a tree that branches on `team`, then `severity`
/// ([`ROUTE_TREE_LEVELS`]), with exactly the receivers of the flat list.
///
/// Why it is exact: an alert with `team="X"` can only match routes that say
/// `team="X"` or say nothing about `team` by equality. The node `{team="X"}`
/// holds exactly that sequence, in written order (the `team` matcher
/// removed), so inside it the first-match and `continue` rules see the same
/// routes as in the flat list; the node itself has no receiver and no
/// `continue`, so an alert no child takes gets the default receiver, as in
/// the flat list, and no later sibling could have matched it. Alerts with no
/// such team fall past every team node to the remaining routes, in order.
/// The same holds one level down for `severity`. Routes after a catch-all
/// without `continue` are unreachable and dropped; a node whose only child is
/// a catch-all takes that child's receiver directly.
pub fn route_tree(routing: &Routing) -> Vec<RouteTreeNode> {
    nest_routes(flat_routes(routing), ROUTE_TREE_LEVELS)
}

fn nest_routes(routes: Vec<FlatRoute>, levels: &[&str]) -> Vec<RouteTreeNode> {
    let routes = drop_unreachable(routes);
    let Some((label, deeper)) = levels.split_first() else {
        return routes
            .into_iter()
            .map(|route| RouteTreeNode {
                matchers: route.matchers,
                receiver: Some(route.receiver),
                continue_matching: route.continue_matching,
                mute_time_intervals: route.mute_time_intervals,
                active_time_intervals: route.active_time_intervals,
                routes: Vec::new(),
            })
            .collect();
    };
    let key_of = |route: &FlatRoute| -> Option<String> {
        route
            .matchers
            .iter()
            .find(|(name, operator, _)| name == label && operator == "=")
            .map(|(_, _, value)| value.clone())
    };
    let mut values: Vec<String> = Vec::new();
    for route in &routes {
        if let Some(value) = key_of(route) {
            if !values.contains(&value) {
                values.push(value);
            }
        }
    }
    let mut nodes = Vec::new();
    for value in values {
        let restricted: Vec<FlatRoute> = routes
            .iter()
            .filter(|route| key_of(route).is_none_or(|key| key == value))
            .map(|route| {
                let mut route = route.clone();
                if let Some(position) = route.matchers.iter().position(|(name, operator, text)| {
                    name == label && operator == "=" && *text == value
                }) {
                    route.matchers.remove(position);
                }
                route
            })
            .collect();
        let mut children = nest_routes(restricted, deeper);
        let key_matcher = vec![triple(label, "=", &value)];
        let single_catch_all =
            children.len() == 1 && children[0].matchers.is_empty() && children[0].routes.is_empty();
        if single_catch_all {
            let only = children.remove(0);
            nodes.push(RouteTreeNode {
                matchers: key_matcher,
                receiver: only.receiver,
                continue_matching: only.continue_matching,
                mute_time_intervals: only.mute_time_intervals,
                active_time_intervals: only.active_time_intervals,
                routes: Vec::new(),
            });
        } else {
            nodes.push(RouteTreeNode {
                matchers: key_matcher,
                receiver: None,
                continue_matching: false,
                mute_time_intervals: Vec::new(),
                active_time_intervals: Vec::new(),
                routes: children,
            });
        }
    }
    let unkeyed: Vec<FlatRoute> = routes
        .into_iter()
        .filter(|route| key_of(route).is_none())
        .collect();
    nodes.extend(nest_routes(unkeyed, deeper));
    nodes
}

/// Routes after the first catch-all without `continue` never see an alert.
fn drop_unreachable(mut routes: Vec<FlatRoute>) -> Vec<FlatRoute> {
    if let Some(position) = routes
        .iter()
        .position(|route| route.matchers.is_empty() && !route.continue_matching)
    {
        routes.truncate(position + 1);
    }
    routes
}

fn route_node(node: &RouteTreeNode) -> Result<Node, String> {
    let mut pairs = Vec::new();
    if let Some(receiver) = &node.receiver {
        pairs.push(("receiver".to_owned(), Node::str(receiver)));
    }
    if !node.matchers.is_empty() {
        pairs.push(("matchers".to_owned(), matcher_list(&node.matchers)?));
    }
    if node.continue_matching {
        pairs.push(("continue".to_owned(), boolean(true)));
    }
    for (key, names) in [
        ("mute_time_intervals", &node.mute_time_intervals),
        ("active_time_intervals", &node.active_time_intervals),
    ] {
        if !names.is_empty() {
            pairs.push((
                key.to_owned(),
                Node::Seq(names.iter().map(Node::str).collect()),
            ));
        }
    }
    if !node.routes.is_empty() {
        let children = node
            .routes
            .iter()
            .map(route_node)
            .collect::<Result<Vec<_>, _>>()?;
        pairs.push(("routes".to_owned(), Node::Seq(children)));
    }
    Ok(Node::owned_map(pairs))
}

fn matcher_list(matchers: &[(String, String, String)]) -> Result<Node, String> {
    let mut items = Vec::new();
    for (label, operator, value) in matchers {
        items.push(Node::Str(quote_matcher(label, operator, value)?));
    }
    Ok(Node::Seq(items))
}

/// The root route's `group_by`: the routing block's, or one notification per
/// alert name and objective, and per group of a grouped objective.
pub fn root_group_by(program: &Program) -> Vec<String> {
    match &program.routing {
        Some(routing) if !routing.group_by.is_empty() => routing.group_by.clone(),
        _ => [
            "alertname".to_owned(),
            naming::LABEL_SERVICE.to_owned(),
            naming::LABEL_SLO.to_owned(),
        ]
        .into_iter()
        .chain(program.group_labels())
        .collect(),
    }
}

/// Builds the configuration tree.
pub fn alertmanager_config(program: &Program, options: &AlertmanagerOptions) -> AlertmanagerFile {
    let mut notes = Vec::new();
    let mut root_route = Vec::new();
    let routing = program.routing.as_ref();
    let default_receiver = routing
        .map(|routing| routing.default_receiver.clone())
        .unwrap_or_else(|| FALLBACK_RECEIVER.to_owned());
    root_route.push(("receiver".to_owned(), Node::str(&default_receiver)));
    let group_by = root_group_by(program);
    root_route.push((
        "group_by".to_owned(),
        Node::Seq(group_by.into_iter().map(Node::Str).collect()),
    ));
    let timer = |value: Option<Duration>, default: Duration| {
        Node::str(value.unwrap_or(default).to_string())
    };
    root_route.push((
        "group_wait".to_owned(),
        timer(routing.and_then(|r| r.group_wait), DEFAULT_GROUP_WAIT),
    ));
    root_route.push((
        "group_interval".to_owned(),
        timer(
            routing.and_then(|r| r.group_interval),
            DEFAULT_GROUP_INTERVAL,
        ),
    ));
    root_route.push((
        "repeat_interval".to_owned(),
        timer(
            routing.and_then(|r| r.repeat_interval),
            DEFAULT_REPEAT_INTERVAL,
        ),
    ));
    if let Some(routing) = routing {
        let mut children = Vec::new();
        if let Some(heartbeat) = heartbeat_route(program) {
            match matcher_list(&heartbeat.matchers) {
                Ok(matchers) => children.push(Node::owned_map(vec![
                    ("receiver".to_owned(), Node::str(&heartbeat.receiver)),
                    ("matchers".to_owned(), matchers),
                    (
                        "group_by".to_owned(),
                        Node::Seq(vec![Node::str("alertname")]),
                    ),
                    ("group_wait".to_owned(), Node::str("0s")),
                    (
                        "group_interval".to_owned(),
                        Node::str(heartbeat.group_interval.to_string()),
                    ),
                    (
                        "repeat_interval".to_owned(),
                        Node::str(heartbeat.repeat_interval.to_string()),
                    ),
                ])),
                Err(error) => notes.push(format!("heartbeat route left out: {error}")),
            }
        }
        for node in route_tree(routing) {
            match route_node(&node) {
                Ok(node) => children.push(node),
                Err(error) => notes.push(format!("route left out: {error}")),
            }
        }
        if !children.is_empty() {
            root_route.push(("routes".to_owned(), Node::Seq(children)));
        }
    }
    let mut inhibit_nodes = Vec::new();
    for rule in inhibit_rules(program) {
        match (matcher_list(&rule.source), matcher_list(&rule.target)) {
            (Ok(source), Ok(target)) => inhibit_nodes.push(Node::map([
                ("source_matchers", source),
                ("target_matchers", target),
                (
                    "equal",
                    Node::Seq(rule.equal.iter().map(Node::str).collect()),
                ),
            ])),
            (Err(error), _) | (_, Err(error)) => {
                notes.push(format!("inhibit rule ({}) left out: {error}", rule.reason));
            }
        }
    }
    let mut receiver_nodes = Vec::new();
    match routing {
        Some(routing) => {
            for receiver in &routing.receivers {
                receiver_nodes.push(receiver_node(receiver, options, &mut notes));
            }
        }
        None => receiver_nodes.push(Node::map([("name", Node::str(FALLBACK_RECEIVER))])),
    }
    let mut top = vec![("route".to_owned(), Node::owned_map(root_route))];
    if !inhibit_nodes.is_empty() {
        top.push(("inhibit_rules".to_owned(), Node::Seq(inhibit_nodes)));
    }
    top.push(("receivers".to_owned(), Node::Seq(receiver_nodes)));
    if let Some(routing) = routing.filter(|routing| !routing.time_intervals.is_empty()) {
        let intervals = routing
            .time_intervals
            .iter()
            .map(time_interval_node)
            .collect();
        top.push(("time_intervals".to_owned(), Node::Seq(intervals)));
    }
    AlertmanagerFile {
        root: Node::owned_map(top),
        notes,
    }
}

/// A named interval in 0.25's `time_intervals` syntax, each range in its
/// canonical text (weekday and month names, `start:end`).
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
                    (
                        "start_time",
                        Node::Str(timeinterval::format_minutes(*start)),
                    ),
                    ("end_time", Node::Str(timeinterval::format_minutes(*end))),
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
        fields.push((
            "days_of_month",
            ranges(days, timeinterval::format_number_range),
        ));
    }
    if let Some(months) = &specification.months {
        fields.push(("months", ranges(months, timeinterval::format_month_range)));
    }
    if let Some(years) = &specification.years {
        fields.push(("years", ranges(years, timeinterval::format_number_range)));
    }
    if let Some(location) = &specification.location {
        fields.push(("location", Node::str(location)));
    }
    Node::map([
        ("name", Node::str(&interval.name)),
        ("time_intervals", Node::Seq(vec![Node::map(fields)])),
    ])
}

fn receiver_node(
    receiver: &crate::compiler::ir::Receiver,
    options: &AlertmanagerOptions,
    notes: &mut Vec<String>,
) -> Node {
    let mut pagerduty = Vec::new();
    let mut slack = Vec::new();
    let mut webhook = Vec::new();
    let mut email = Vec::new();
    let send_resolved = |pairs: &mut Vec<(String, Node)>| {
        if let Some(value) = receiver.send_resolved {
            pairs.push(("send_resolved".to_owned(), boolean(value)));
        }
    };
    for integration in &receiver.integrations {
        let mut pairs: Vec<(String, Node)> = Vec::new();
        match integration {
            Integration::PagerDuty {
                routing_key_file,
                severity,
            } => {
                pairs.push(("routing_key_file".into(), Node::str(routing_key_file)));
                if let Some(severity) = severity {
                    pairs.push(("severity".into(), Node::str(severity)));
                }
                send_resolved(&mut pairs);
                pagerduty.push(Node::owned_map(pairs));
            }
            Integration::Slack {
                api_url_file,
                channel,
                title,
                text,
            } => {
                pairs.push(("api_url_file".into(), Node::str(api_url_file)));
                pairs.push(("channel".into(), Node::str(channel)));
                if let Some(title) = title {
                    pairs.push(("title".into(), Node::str(title)));
                }
                if let Some(text) = text {
                    pairs.push(("text".into(), Node::str(text)));
                }
                send_resolved(&mut pairs);
                slack.push(Node::owned_map(pairs));
            }
            Integration::Webhook { url, max_alerts } => {
                match url {
                    WebhookUrl::Inline(url) => pairs.push(("url".into(), Node::str(url))),
                    WebhookUrl::File(file) => {
                        if options.version < AlertmanagerVersion::V0_26 {
                            notes.push(format!(
                                "receiver {}: webhook url_file {file} needs Alertmanager 0.26+; left out for {} (W0507)",
                                receiver.name,
                                options.version.as_string()
                            ));
                            continue;
                        }
                        pairs.push(("url_file".into(), Node::str(file)));
                    }
                }
                if let Some(max_alerts) = max_alerts {
                    pairs.push(("max_alerts".into(), Node::Number(max_alerts.to_string())));
                }
                send_resolved(&mut pairs);
                webhook.push(Node::owned_map(pairs));
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
                    pairs.push(("auth_username".into(), Node::str(username)));
                }
                if let Some(file) = auth_password_file {
                    pairs.push(("auth_password_file".into(), Node::str(file)));
                }
                if let Some(require_tls) = require_tls {
                    pairs.push(("require_tls".into(), boolean(*require_tls)));
                }
                send_resolved(&mut pairs);
                email.push(Node::owned_map(pairs));
            }
        }
    }
    let mut pairs = vec![("name".to_owned(), Node::str(&receiver.name))];
    for (key, configs) in [
        ("email_configs", email),
        ("pagerduty_configs", pagerduty),
        ("slack_configs", slack),
        ("webhook_configs", webhook),
    ] {
        if !configs.is_empty() {
            pairs.push((key.to_owned(), Node::Seq(configs)));
        }
    }
    Node::owned_map(pairs)
}

/// A YAML boolean: `Node::Number` is written verbatim, and `true`/`false` are
/// the only spellings written, which YAML 1.1 and 1.2 both read as booleans.
fn boolean(value: bool) -> Node {
    Node::Number(value.to_string())
}

/// `alertmanager/alertmanager.yml` with its header; nothing without services
/// and routing (there is nothing to route).
pub fn files(
    program: &Program,
    source_names: &[String],
    options: &AlertmanagerOptions,
) -> Vec<(String, String)> {
    if program.services.is_empty() && program.routing.is_none() {
        return Vec::new();
    }
    let file = alertmanager_config(program, options);
    let mut header = vec![
        format!(
            "{} {}; DO NOT EDIT.",
            crate::compiler::emit::GENERATED_MARKER,
            source_names.join(", ")
        ),
        format!(
            "Alertmanager {} configuration; regenerate with `mlslo build`.",
            options.version.as_string()
        ),
    ];
    header.extend(file.notes.iter().map(|note| format!("Note: {note}")));
    vec![(
        ALERTMANAGER_FILE.to_owned(),
        crate::compiler::emit::yaml::to_string(&header, &file.root),
    )]
}
