//! The `grafana` block: Grafana's base URL (services' `dashboard` field defaults to
//! their generated dashboard there), the dashboards' folder, and the label the
//! Grafana sidecar of kube-prometheus-stack watches for; and whether budgeted
//! objectives' series carry Sloth's labels too, for Sloth's dashboards.
//!
//! Invariants: at most one block across all files (E0740, raised by the
//! program); the URL is an http(s) URL (E0310) kept without its final `/`; the
//! folder is a non-empty line; the sidecar label is a Kubernetes label key and
//! value, as the ConfigMap carries it (E0658). Without the block, the defaults
//! of [`ir::GrafanaSettings`] hold and no `dashboard` field is defaulted.

use crate::compiler::check::checker::Checker;
use crate::compiler::check::codes;
use crate::compiler::check::kubernetes::{label_value_problem, qualified_name_problem};
use crate::compiler::check::schema::{attribute, Schema};
use crate::compiler::ir;
use crate::compiler::syntax::ast;

impl Checker {
    pub(crate) fn check_grafana(&mut self, block: &ast::Block) -> Option<ir::GrafanaSettings> {
        let fields = self.collect(&block.items, &GRAFANA_SCHEMA, block.kind.span);
        let mut all_good = true;
        let mut settings = ir::GrafanaSettings {
            url: self
                .read_url_field(&fields, "url", &mut all_good)
                .map(|url| url.trim_end_matches('/').to_owned()),
            ..ir::GrafanaSettings::default()
        };
        if let Some(value) = fields.value("folder") {
            match self.read_nonempty_string("folder", value) {
                Some(folder) => settings.folder = folder,
                None => all_good = false,
            }
        }
        for (field, slot) in [
            ("sidecar_label", &mut settings.sidecar_label),
            ("sidecar_value", &mut settings.sidecar_value),
        ] {
            let Some(value) = fields.value(field) else {
                continue;
            };
            let Some(text) = self.read_string(field, value) else {
                all_good = false;
                continue;
            };
            let problem = if field == "sidecar_label" {
                qualified_name_problem(&text)
                    .map(|problem| format!("not a Kubernetes label key: {problem}"))
            } else {
                label_value_problem(&text)
                    .map(|problem| format!("not a Kubernetes label value: {problem}"))
            };
            match problem {
                Some(problem) => {
                    self.push(codes::INVALID_KUBERNETES_LABEL.at(value.span, problem).with_help(
                        "the dashboards' ConfigMaps carry this label: a value is empty or at most 63 letters, digits, `-`, `_` and `.`, starting and ending with a letter or digit; a key is such a name, with an optional `example.com/` prefix",
                    ));
                    all_good = false;
                }
                None => *slot = text,
            }
        }
        if let Some(value) = fields.value("sloth_labels") {
            match self.read_bool("sloth_labels", value) {
                Some(flag) => settings.sloth_labels = flag,
                None => all_good = false,
            }
        }
        all_good.then_some(settings)
    }
}

static GRAFANA_SCHEMA: Schema = Schema {
    what: "the grafana block",
    fields: &[
        attribute("url", "url = \"https://grafana.example.com\""),
        attribute("folder", "folder = \"SLOs\""),
        attribute("sidecar_label", "sidecar_label = \"grafana_dashboard\""),
        attribute("sidecar_value", "sidecar_value = \"1\""),
        attribute("sloth_labels", "sloth_labels = true"),
    ],
    allows_routes: false,
    secrets: &[],
};
