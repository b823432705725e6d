//! The whole program: the services of every file, the one routing block and the
//! one monitoring block,
//! with service names unique across files and objective names unique in their
//! service.
//!
//! Invariant: a duplicate is still checked, so that its own errors show too;
//! the program is built only when nothing anywhere is wrong.

use std::collections::BTreeMap;

use crate::base::diagnostic::{Span, Spanned};
use crate::compiler::check::checker::Checker;
use crate::compiler::check::codes;
use crate::compiler::check::labels_and_annotations::LabelBlock;
use crate::compiler::check::objectives::ServiceContext;
use crate::compiler::check::schema::{attribute, block, Schema};
use crate::compiler::check::selectors::ServiceSelector;
use crate::compiler::ir::{self, KindName};
use crate::compiler::syntax::ast;

impl Checker {
    pub fn check_program(&mut self, files: &[ast::File]) -> Option<ir::Program> {
        let mut service_blocks = Vec::new();
        let mut routing_blocks = Vec::new();
        let mut monitoring_blocks = Vec::new();
        let mut kubernetes_blocks = Vec::new();
        let mut grafana_blocks = Vec::new();
        for file in files {
            let fields = self.collect(&file.items, &TOP_SCHEMA, Span::default());
            service_blocks.extend(fields.blocks("service"));
            routing_blocks.extend(fields.blocks("routing"));
            monitoring_blocks.extend(fields.blocks("monitoring"));
            kubernetes_blocks.extend(fields.blocks("kubernetes"));
            grafana_blocks.extend(fields.blocks("grafana"));
        }
        let mut all_good = true;

        let mut services: BTreeMap<String, ir::Service> = BTreeMap::new();
        let mut first_service: BTreeMap<&str, Span> = BTreeMap::new();
        for service_block in service_blocks {
            let Some(name) = &service_block.name else {
                all_good = false;
                continue;
            };
            let duplicate = first_service.get(name.node.as_str()).copied();
            if let Some(first) = duplicate {
                self.push(
                    codes::DUPLICATE_SERVICE.at(name.span,
                        format!("service `{}` is defined a second time here", name.node),
                    )
                    .with_secondary(first, "first defined here")
                    .with_help("service names are unique across all files: rename one, or merge the two blocks"),
                );
                all_good = false;
            } else {
                first_service.insert(&name.node, name.span);
            }
            // A duplicate is still checked, so that its own errors show too.
            match self.check_service(service_block, name) {
                Some(service) if duplicate.is_none() => {
                    services.insert(service.name.clone(), service);
                }
                _ => all_good = false,
            }
        }

        let mut monitoring = ir::Monitoring::default();
        if let Some((first, rest)) = monitoring_blocks.split_first() {
            for extra in rest {
                self.second_monitoring_block(extra.kind.span, first.kind.span);
                all_good = false;
            }
            match self.check_monitoring(first) {
                Some(checked) => monitoring = checked,
                None => all_good = false,
            }
        }

        let mut kubernetes = ir::KubernetesMetadata::default();
        if let Some((first, rest)) = kubernetes_blocks.split_first() {
            for extra in rest {
                self.push(
                    codes::SECOND_KUBERNETES_BLOCK
                        .at(extra.kind.span, "a second `kubernetes` block")
                        .with_secondary(first.kind.span, "the first kubernetes block")
                        .with_help("there is one kubernetes block across all files: merge the two"),
                );
                all_good = false;
            }
            match self.check_kubernetes(first) {
                Some(checked) => kubernetes = checked,
                None => all_good = false,
            }
        }

        let mut grafana = ir::GrafanaSettings::default();
        if let Some((first, rest)) = grafana_blocks.split_first() {
            for extra in rest {
                self.push(
                    codes::SECOND_GRAFANA_BLOCK
                        .at(extra.kind.span, "a second `grafana` block")
                        .with_secondary(first.kind.span, "the first grafana block")
                        .with_help("there is one grafana block across all files: merge the two"),
                );
                all_good = false;
            }
            match self.check_grafana(first) {
                Some(checked) => grafana = checked,
                None => all_good = false,
            }
        }
        for service in services.values_mut() {
            service.sloth_labels = grafana.sloth_labels;
        }
        // With Grafana's URL known, a service's alerts link to its generated dashboard
        // unless the service names another.
        if let Some(url) = &grafana.url {
            for service in services.values_mut() {
                if service.dashboard.is_none() && service.has_dashboard() {
                    service.dashboard = Some(format!(
                        "{url}{}",
                        ir::naming::grafana_dashboard_path(&service.name)
                    ));
                }
            }
        }

        let mut routing = None;
        if let Some((first, rest)) = routing_blocks.split_first() {
            for extra in rest {
                self.push(
                    codes::SECOND_ROUTING_BLOCK
                        .at(extra.kind.span, "a second `routing` block")
                        .with_secondary(first.kind.span, "the first routing block")
                        .with_help("there is one routing block across all files: merge the two"),
                );
                all_good = false;
            }
            let any_feeds = services.values().any(|service| {
                service.objectives.iter().any(|objective| {
                    matches!(&objective.kind, ir::ObjectiveKind::Freshness { feeds, .. } if !feeds.is_empty())
                })
            });
            match self.check_routing(first, any_feeds, monitoring.heartbeat_receiver()) {
                Some(checked) => routing = Some(checked),
                None => all_good = false,
            }
        }

        // A routing block with errors is not there: its receivers are not known.
        if routing.is_some() || routing_blocks.is_empty() {
            all_good &= self.check_heartbeat(&monitoring, routing.as_ref(), !services.is_empty());
        }

        if let Some(routing) = &routing {
            for service in services.values_mut() {
                service.severities = routing.severities.clone();
            }
        }
        all_good.then(|| ir::Program {
            services: services.into_values().collect(),
            routing,
            monitoring,
            kubernetes,
            grafana,
        })
    }

    fn check_service(&mut self, block: &ast::Block, name: &Spanned<String>) -> Option<ir::Service> {
        let mut all_good = self.check_object_name(name, "service");
        let fields = self.collect(&block.items, &SERVICE_SCHEMA, name.span);

        let team = fields
            .require(self, "team")
            .and_then(|value| self.read_label_value("team", value));
        all_good &= team.is_some();
        let runbook = self.read_url_field(&fields, "runbook", &mut all_good);
        let dashboard = self.read_url_field(&fields, "dashboard", &mut all_good);
        let description = self.read_description(&fields, &mut all_good);
        let labels = self.read_labels(&fields, "labels", LabelBlock::Alert, &mut all_good);
        let selector = self.read_labels(&fields, "selector", LabelBlock::Selector, &mut all_good);

        let mut declared: BTreeMap<String, (KindName, Span)> = BTreeMap::new();
        let mut objective_blocks = Vec::new();
        for kind in KindName::ALL {
            for objective_block in fields.blocks(kind.as_str()) {
                objective_blocks.push((kind, objective_block));
            }
        }
        objective_blocks.sort_by_key(|(_, objective_block)| objective_block.span.start);
        let mut unique_blocks = Vec::new();
        for (kind, objective_block) in objective_blocks {
            let Some(objective_name) = &objective_block.name else {
                all_good = false;
                continue;
            };
            if let Some((_, first)) = declared.get(&objective_name.node) {
                self.push(
                    codes::DUPLICATE_OBJECTIVE
                        .at(
                            objective_name.span,
                            format!(
                                "objective `{}` is defined a second time in service `{}`",
                                objective_name.node, name.node
                            ),
                        )
                        .with_secondary(*first, "first defined here")
                        .with_help("objective names are unique inside a service: rename one"),
                );
                all_good = false;
                continue;
            }
            declared.insert(objective_name.node.clone(), (kind, objective_name.span));
            unique_blocks.push((kind, objective_block, objective_name));
        }

        let mut selector_spans = BTreeMap::new();
        if let Some(selector_block) = fields.block("selector") {
            for item in &selector_block.items {
                if let ast::Item::Attribute(attribute) = item {
                    selector_spans
                        .entry(attribute.key.node.clone())
                        .or_insert(attribute.span);
                }
            }
        }
        let context = ServiceContext {
            selector: ServiceSelector {
                labels: &selector,
                spans: selector_spans,
            },
            declared: &declared,
            labels: &labels,
        };
        let mut objectives = Vec::new();
        for (kind, objective_block, objective_name) in unique_blocks {
            match self.check_objective(kind, objective_block, objective_name, &context) {
                Some(objective) => objectives.push(objective),
                None => all_good = false,
            }
        }

        if !all_good {
            return None;
        }
        Some(ir::Service {
            name: name.node.clone(),
            team: team?,
            runbook,
            dashboard,
            description,
            labels,
            selector,
            objectives,
            severities: ir::Severities::default(),
            sloth_labels: false,
            span: block.span,
            name_span: name.span,
        })
    }
}

static TOP_SCHEMA: Schema = Schema {
    what: "a file",
    fields: &[
        block("service", true, true),
        block("routing", false, true),
        block("monitoring", false, true),
        block("kubernetes", false, true),
        block("grafana", false, true),
    ],
    allows_routes: false,
    secrets: &[],
};

static SERVICE_SCHEMA: Schema = Schema {
    what: "a service",
    fields: &[
        attribute("team", "team = \"risk-ml\""),
        attribute("runbook", "runbook = \"https://runbooks.example.com/...\""),
        attribute(
            "dashboard",
            "dashboard = \"https://grafana.example.com/d/...\"",
        ),
        attribute("description", "description = \"...\""),
        block("labels", false, false),
        block("selector", false, false),
        block("latency", true, true),
        block("availability", true, true),
        block("accuracy", true, true),
        block("drift", true, true),
        block("gpu", true, true),
        block("freshness", true, true),
        block("logs", true, true),
    ],
    allows_routes: false,
    secrets: &[],
};
