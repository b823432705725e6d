//! The routing block: grouping and timing, receivers, routes and inhibit rules,
//! checked into the one route tree of the generated Alertmanager configuration.
//!
//! Invariants: receivers are read first, because everything else refers to
//! them by name; every name a route or `default_receiver` gives is a defined
//! receiver (E0207, with "did you mean"); route regexes compile as Alertmanager
//! anchors them (E0312); a receiver no route reaches is warned (W0007); the
//! maintenance windows routes name are `time_intervals.rs`'.

use std::collections::{BTreeMap, BTreeSet};

use crate::base::diagnostic::Span;
use crate::compiler::check::checker::Checker;
use crate::compiler::check::codes;
use crate::compiler::check::schema::{attribute, block, Fields, Schema};
use crate::compiler::check::suggest::did_you_mean;
use crate::compiler::check::values::Unit;
use crate::compiler::ir::{self, naming};
use crate::compiler::syntax::ast::{self, Value};

impl Checker {
    /// Receivers, routes and inhibit rules of the (single) routing block.
    /// `any_feeds`: whether some freshness objective declares `feeds`, which
    /// enables the derived freshness-over-drift inhibition.
    /// `heartbeat`: the receiver the `monitoring` block names, which counts as used.
    pub fn check_routing(
        &mut self,
        block: &ast::Block,
        any_feeds: bool,
        heartbeat: Option<&str>,
    ) -> Option<ir::Routing> {
        let fields = self.collect(&block.items, &ROUTING_SCHEMA, block.kind.span);
        let mut all_good = true;

        let mut group_by = Vec::new();
        if let Some(value) = fields.value("group_by") {
            match self.read_list("group_by", value, Unit::Identifier, |checker, element| {
                if matches!(&element.node, Value::String(text) if text == "...") {
                    return Some("...".to_owned());
                }
                checker.read_label_name("group_by", element)
            }) {
                Some(labels) => group_by = labels,
                None => all_good = false,
            }
        }
        let group_wait = self.optional_duration(&fields, "group_wait", true, &mut all_good);
        let group_interval =
            self.optional_duration(&fields, "group_interval", false, &mut all_good);
        let repeat_interval =
            self.optional_duration(&fields, "repeat_interval", false, &mut all_good);

        // Receivers first: everything else refers to them by name.
        let mut receivers: BTreeMap<String, ir::Receiver> = BTreeMap::new();
        let mut receiver_spans: BTreeMap<String, Span> = BTreeMap::new();
        for receiver_block in fields.blocks("receiver") {
            let Some(name) = &receiver_block.name else {
                all_good = false;
                continue;
            };
            if let Some(first) = receiver_spans.get(&name.node) {
                self.push(
                    codes::DUPLICATE_RECEIVER
                        .at(
                            name.span,
                            format!("receiver `{}` is defined a second time here", name.node),
                        )
                        .with_secondary(*first, "first defined here")
                        .with_help("give each receiver a unique name, or merge the two blocks"),
                );
                all_good = false;
                continue;
            }
            receiver_spans.insert(name.node.clone(), name.span);
            let valid_name = self.check_not_empty("receiver", &name.node, name.span)
                && self.check_control_characters(&name.node, name.span, false);
            match self.check_receiver(receiver_block, name) {
                Some(receiver) if valid_name => {
                    receivers.insert(name.node.clone(), receiver);
                }
                _ => all_good = false,
            }
        }
        let receiver_names: Vec<&str> = receiver_spans.keys().map(String::as_str).collect();
        let mut used_receivers: BTreeSet<String> =
            heartbeat.map(str::to_owned).into_iter().collect();

        let mut default_receiver = None;
        if let Some(value) = fields.require(self, "default_receiver") {
            if let Some(name) = self.read_string("default_receiver", value) {
                if self.check_receiver_exists(&name, value.span, &receiver_names) {
                    used_receivers.insert(name.clone());
                    default_receiver = Some(name);
                } else {
                    all_good = false;
                }
            } else {
                all_good = false;
            }
        } else {
            all_good = false;
        }

        let time_intervals = self.check_time_intervals(&fields);
        all_good &= time_intervals.all_good;
        let mut used_intervals = BTreeSet::new();
        let mut routes = Vec::new();
        for route in &fields.routes {
            let checked = self.check_route(route, &receiver_names);
            let intervals = self.check_route_time_intervals(
                route,
                &time_intervals.names,
                heartbeat,
                &mut used_intervals,
            );
            match (checked, intervals) {
                (Some(mut checked), Some((mute, active))) => {
                    checked.mute_time_intervals = mute;
                    checked.active_time_intervals = active;
                    used_receivers.extend(checked.receivers.iter().cloned());
                    routes.push(checked);
                }
                _ => all_good = false,
            }
        }
        self.warn_unused_time_intervals(&time_intervals.names, &used_intervals);

        let alertmanager_version = match fields.value("alertmanager_version") {
            Some(value) => match self.read_string("alertmanager_version", value) {
                Some(version) if ir::ALERTMANAGER_VERSIONS.contains(&version.as_str()) => {
                    Some(version)
                }
                Some(version) => {
                    self.push(
                        codes::INVALID_CHOICE
                            .at(
                                value.span,
                                format!("`{version}` is not an Alertmanager version mlslo knows"),
                            )
                            .with_note(format!(
                                "the versions are {}",
                                ir::ALERTMANAGER_VERSIONS.join(", ")
                            ))
                            .with_help("write the release as major.minor, such as \"0.26\""),
                    );
                    all_good = false;
                    None
                }
                None => {
                    all_good = false;
                    None
                }
            },
            None => None,
        };
        let alertmanager_url = match fields.value("alertmanager_url") {
            Some(value) => match self.read_nonempty_string("alertmanager_url", value) {
                Some(url) if self.check_webhook_url(&url, value.span) => Some(url),
                _ => {
                    all_good = false;
                    None
                }
            },
            None => None,
        };

        let mut inhibits = Vec::new();
        for inhibit in &fields.inhibits {
            match self.check_inhibit(inhibit) {
                Some(checked) => inhibits.push(checked),
                None => all_good = false,
            }
        }
        let severities = match fields.block("severity") {
            Some(severity_block) => self.check_severities(severity_block).unwrap_or_else(|| {
                all_good = false;
                ir::Severities::default()
            }),
            None => ir::Severities::default(),
        };
        if !self.check_inhibit_cycles(&fields.inhibits, any_feeds, &severities) {
            all_good = false;
        }

        for (name, span) in &receiver_spans {
            if !used_receivers.contains(name) {
                self.push(
                    codes::UNUSED_RECEIVER.at(*span,
                        format!("no route sends alerts to `{name}`"),
                    )
                    .with_help(format!(
                        "add a route such as `route {{ team = \"...\" }} -> \"{name}\"`, or remove the receiver"
                    )),
                );
            }
        }

        if !all_good {
            return None;
        }
        Some(ir::Routing {
            group_by,
            group_by_span: fields.value("group_by").map(|value| value.span),
            group_wait: group_wait.flatten(),
            group_interval: group_interval.flatten(),
            repeat_interval: repeat_interval.flatten(),
            default_receiver: default_receiver?,
            receivers: receivers.into_values().collect(),
            routes,
            inhibits,
            time_intervals: time_intervals.intervals,
            alertmanager_version,
            alertmanager_url,
            severities,
            span: block.span,
        })
    }

    /// `severity { page = "critical", ticket = "warning" }`: two distinct label
    /// values, neither the heartbeat's (E0730).
    fn check_severities(&mut self, block: &ast::Block) -> Option<ir::Severities> {
        let fields = self.collect(&block.items, &SEVERITY_SCHEMA, block.kind.span);
        let defaults = ir::Severities::default();
        let read = |checker: &mut Checker, tier: ir::Tier| match fields.value(tier.as_str()) {
            Some(value) => checker
                .read_label_value(tier.as_str(), value)
                .map(|text| (text, Some(value.span))),
            None => Some((defaults.of(tier).to_owned(), None)),
        };
        let page = read(self, ir::Tier::Page);
        let ticket = read(self, ir::Tier::Ticket);
        let ((page, page_span), (ticket, ticket_span)) = (page?, ticket?);
        let mut all_good = true;
        if page == ticket {
            let span = ticket_span.or(page_span).unwrap_or(block.kind.span);
            let mut diagnostic = codes::SEVERITY_VOCABULARY_CLASH.at(
                span,
                format!("pages and tickets would both carry severity=\"{page}\""),
            );
            if let (Some(page_span), Some(_)) = (page_span, ticket_span) {
                diagnostic = diagnostic.with_secondary(page_span, "the page severity");
            }
            self.push(diagnostic.with_help(
                "give the tiers different values, such as `page = \"critical\", ticket = \"warning\"`: routes and the page-mutes-ticket inhibition tell them apart by it",
            ));
            all_good = false;
        }
        for (tier, value, span) in [
            (ir::Tier::Page, &page, page_span),
            (ir::Tier::Ticket, &ticket, ticket_span),
        ] {
            if value == naming::SEVERITY_HEARTBEAT {
                self.push(
                    codes::SEVERITY_VOCABULARY_CLASH
                        .at(
                            span.unwrap_or(block.kind.span),
                            format!("`{value}` is the severity of the Watchdog heartbeat"),
                        )
                        .with_help(format!(
                            "pick another value for the {} tier: the heartbeat route matches severity=\"{value}\" and would take these alerts",
                            tier.as_str()
                        )),
                );
                all_good = false;
            }
        }
        all_good.then_some(ir::Severities { page, ticket })
    }

    /// An optional duration field; `Some(None)` when absent, `None` on error.
    fn optional_duration(
        &mut self,
        fields: &Fields<'_>,
        name: &str,
        zero_allowed: bool,
        all_good: &mut bool,
    ) -> Option<Option<ir::Duration>> {
        let Some(value) = fields.value(name) else {
            return Some(None);
        };
        let duration = self.read_duration(name, value);
        match duration {
            Some(duration) if zero_allowed || self.check_positive(name, duration, value.span) => {
                Some(Some(duration))
            }
            _ => {
                *all_good = false;
                None
            }
        }
    }

    pub(crate) fn check_receiver_exists(
        &mut self,
        name: &str,
        span: Span,
        receivers: &[&str],
    ) -> bool {
        if receivers.contains(&name) {
            return true;
        }
        let mut diagnostic =
            codes::UNKNOWN_RECEIVER.at(span, format!("no receiver is named `{name}`"));
        diagnostic = match did_you_mean(name, receivers.iter().copied()) {
            Some(suggestion) => diagnostic.with_help(format!("did you mean `{suggestion}`?")),
            None if receivers.is_empty() => diagnostic.with_help(format!(
                "define it in the routing block: `receiver \"{name}\" {{ ... }}`"
            )),
            None => diagnostic.with_note(format!("the receivers are: {}", receivers.join(", "))),
        };
        self.push(diagnostic);
        false
    }

    fn check_route(&mut self, route: &ast::Route, receivers: &[&str]) -> Option<ir::Route> {
        let mut all_good = true;
        let mut matchers = Vec::new();
        for matcher in &route.matchers {
            let label_ok = self.check_label_name(&matcher.label.node, matcher.label.span);
            let value_ok =
                self.check_control_characters(&matcher.value.node, matcher.value.span, false);
            let op = convert_op(matcher.op);
            let regex_ok = match op {
                ir::MatchOp::Regex | ir::MatchOp::NotRegex => {
                    self.check_regex(&matcher.value.node, matcher.value.span)
                }
                _ => true,
            };
            if label_ok && value_ok && regex_ok {
                matchers.push(ir::RouteMatcher {
                    label: matcher.label.node.clone(),
                    op,
                    value: matcher.value.node.clone(),
                    span: matcher.label.span.to(matcher.value.span),
                });
            } else {
                all_good = false;
            }
        }
        let mut route_receivers = Vec::new();
        for receiver in &route.receivers {
            if self.check_receiver_exists(&receiver.node, receiver.span, receivers) {
                route_receivers.push(receiver.node.clone());
            } else {
                all_good = false;
            }
        }
        all_good.then(|| ir::Route {
            matchers,
            receivers: route_receivers,
            continue_matching: route.continue_span.is_some(),
            mute_time_intervals: Vec::new(),
            active_time_intervals: Vec::new(),
            span: route.span,
        })
    }

    /// E0312 unless `regex` compiles; Alertmanager anchors it as PromQL does, and
    /// promql-parser compiles it with the same anchoring.
    fn check_regex(&mut self, regex: &str, span: Span) -> bool {
        let probe = format!("x{{l=~{}}}", ir::quote_promql_string(regex));
        match crate::prometheus::promql::parse_promql(&probe) {
            Ok(_) => true,
            Err(message) => {
                self.push(
                    codes::INVALID_REGEX.at(span,
                        "this regular expression does not compile",
                    )
                    .with_note(format!("the regex engine says: {message}"))
                    .with_help(
                        "escape special characters with a backslash, or use `=` for an exact match",
                    ),
                );
                false
            }
        }
    }
}

fn convert_op(op: ast::MatchOp) -> ir::MatchOp {
    match op {
        ast::MatchOp::Equal => ir::MatchOp::Equal,
        ast::MatchOp::NotEqual => ir::MatchOp::NotEqual,
        ast::MatchOp::Regex => ir::MatchOp::Regex,
        ast::MatchOp::NotRegex => ir::MatchOp::NotRegex,
    }
}

static ROUTING_SCHEMA: Schema = Schema {
    what: "the routing block",
    fields: &[
        attribute("group_by", "group_by = [alertname, service, slo]"),
        attribute("group_wait", "group_wait = 30s"),
        attribute("group_interval", "group_interval = 5m"),
        attribute("repeat_interval", "repeat_interval = 4h"),
        attribute("default_receiver", "default_receiver = \"team-chat\""),
        attribute("alertmanager_version", "alertmanager_version = \"0.26\""),
        attribute(
            "alertmanager_url",
            "alertmanager_url = \"http://alertmanager.monitoring:9093\"",
        ),
        block("receiver", true, true),
        block("severity", false, false),
        block("time_interval", true, true),
        // Only to refuse them with E0654: the routing block is the root route.
        attribute("mute_during", "mute_during = [\"retraining\"]"),
        attribute("active_during", "active_during = [\"office-hours\"]"),
    ],
    allows_routes: true,
    secrets: &[],
};

static SEVERITY_SCHEMA: Schema = Schema {
    what: "the severity vocabulary",
    fields: &[
        attribute("page", "page = \"critical\""),
        attribute("ticket", "ticket = \"warning\""),
    ],
    allows_routes: false,
    secrets: &[],
};
