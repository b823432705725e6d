//! prometheus-operator `PrometheusRule` manifests (`monitoring.coreos.com/v1`):
//! the same rule groups as the plain rule file, wrapped with metadata.
//!
//! Invariants: `metadata.name` is a DNS-1123 subdomain and every metadata label
//! value a valid Kubernetes label value ([`naming::kubernetes_name`]); no
//! namespace is written, so `kubectl apply -n` decides; the manifest validates
//! against the CRD's `openAPIV3Schema` (tested in `tests/emit_prometheus.rs`).

use crate::emit::naming;
use crate::emit::prometheus::{rule_groups_node, RuleGroup};
use crate::emit::yaml::Node;
use crate::ir::Service;

pub fn prometheus_rule(service: &Service, groups: &[RuleGroup]) -> Node {
    let mut labels = vec![
        (
            "app.kubernetes.io/managed-by".to_owned(),
            Node::str("mlslo"),
        ),
        ("app.kubernetes.io/component".to_owned(), Node::str("slo")),
    ];
    if let Some(value) = naming::kubernetes_label_value(&service.name) {
        labels.push(("mlslo.dev/service".to_owned(), Node::str(value)));
    }
    if let Some(value) = naming::kubernetes_label_value(&service.team) {
        labels.push(("mlslo.dev/team".to_owned(), Node::str(value)));
    }
    Node::map([
        ("apiVersion", Node::str("monitoring.coreos.com/v1")),
        ("kind", Node::str("PrometheusRule")),
        (
            "metadata",
            Node::map([
                ("name", Node::str(naming::kubernetes_name(&service.name))),
                ("labels", Node::Map(labels)),
            ]),
        ),
        ("spec", Node::map([("groups", rule_groups_node(groups))])),
    ])
}
