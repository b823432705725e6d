//! The `monitoring` block: the dead man's switch and the switches of the alerts
//! on the monitoring path itself (rule evaluation, notification delivery, scrape
//! targets).
//!
//! Invariants: without a block every alert family is on and no heartbeat is
//! named; `heartbeat` names a receiver of the routing block (E0207, checked once
//! the routing block is read) or is `none`; a program that routes alerts but
//! names no heartbeat gets W0640, since nothing would notice the whole pipeline
//! going quiet.

use crate::base::diagnostic::Span;
use crate::compiler::check::checker::Checker;
use crate::compiler::check::codes;
use crate::compiler::check::schema::{attribute, Schema};
use crate::compiler::ir;
use crate::compiler::syntax::ast::{self, Value};

impl Checker {
    /// The block as read; its heartbeat receiver is looked up by [`Self::check_heartbeat`]
    /// once the routing block is read.
    pub(crate) fn check_monitoring(&mut self, block: &ast::Block) -> Option<ir::Monitoring> {
        let fields = self.collect(&block.items, &MONITORING_SCHEMA, block.kind.span);
        let mut all_good = true;
        let mut monitoring = ir::Monitoring {
            span: Some(block.kind.span),
            ..ir::Monitoring::default()
        };
        match fields.value("heartbeat") {
            None => {}
            Some(value) if matches!(&value.node, Value::Selector(word) if word == "none") => {
                monitoring.heartbeat = ir::Heartbeat::Off;
            }
            Some(value) => match self.read_nonempty_string("heartbeat", value) {
                Some(name) => {
                    monitoring.heartbeat = ir::Heartbeat::Receiver {
                        name,
                        span: value.span,
                    }
                }
                None => all_good = false,
            },
        }
        if let Some(value) = fields.value("heartbeat_interval") {
            match self.read_duration("heartbeat_interval", value) {
                Some(interval)
                    if self.check_positive("heartbeat_interval", interval, value.span) =>
                {
                    monitoring.heartbeat_interval = interval;
                }
                _ => all_good = false,
            }
        }
        if let Some(value) = fields.value("team") {
            match self.read_label_value("team", value) {
                Some(team) => monitoring.team = Some(team),
                None => all_good = false,
            }
        }
        for (field, switch) in [
            ("rule_failures", &mut monitoring.rule_failures),
            (
                "notification_failures",
                &mut monitoring.notification_failures,
            ),
            ("targets_down", &mut monitoring.targets_down),
        ] {
            if let Some(value) = fields.value(field) {
                match self.read_bool(field, value) {
                    Some(on) => *switch = on,
                    None => all_good = false,
                }
            }
        }
        all_good.then_some(monitoring)
    }

    /// The heartbeat receiver must exist (E0207); a routing block without a
    /// heartbeat choice gets W0640.
    pub(crate) fn check_heartbeat(
        &mut self,
        monitoring: &ir::Monitoring,
        routing: Option<&ir::Routing>,
        has_services: bool,
    ) -> bool {
        match (&monitoring.heartbeat, routing) {
            (ir::Heartbeat::Receiver { name, span }, routing) => {
                let receivers: Vec<&str> = routing
                    .map(|routing| {
                        routing
                            .receivers
                            .iter()
                            .map(|receiver| receiver.name.as_str())
                            .collect()
                    })
                    .unwrap_or_default();
                self.check_receiver_exists(name, *span, &receivers)
            }
            (ir::Heartbeat::Unset, Some(routing)) if has_services => {
                let span = monitoring.span.unwrap_or(routing.keyword_span());
                self.push(
                    codes::NO_HEARTBEAT
                        .at(
                            span,
                            "no receiver gets the heartbeat, so a silent Prometheus or Alertmanager goes unnoticed",
                        )
                        .with_help(
                            "name a receiver that calls a heartbeat service: `monitoring { heartbeat = \"heartbeat\" }`, or write `heartbeat = none`",
                        ),
                );
                true
            }
            _ => true,
        }
    }

    /// The span a second `monitoring` block is reported at.
    pub(crate) fn second_monitoring_block(&mut self, extra: Span, first: Span) {
        self.push(
            codes::SECOND_MONITORING_BLOCK
                .at(extra, "a second `monitoring` block")
                .with_secondary(first, "the first monitoring block")
                .with_help("there is one monitoring block across all files: merge the two"),
        );
    }
}

static MONITORING_SCHEMA: Schema = Schema {
    what: "the monitoring block",
    fields: &[
        attribute("heartbeat", "heartbeat = \"heartbeat\""),
        attribute("heartbeat_interval", "heartbeat_interval = 1m"),
        attribute("team", "team = \"ml-platform\""),
        attribute("rule_failures", "rule_failures = true"),
        attribute("notification_failures", "notification_failures = true"),
        attribute("targets_down", "targets_down = true"),
    ],
    allows_routes: false,
    secrets: &[],
};
