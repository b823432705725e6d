//! prometheus-operator `PrometheusRule` manifests (`monitoring.coreos.com/v1`):
//! the same rule groups as the plain rule file, wrapped with metadata.
//!
//! The `spec` is the plain rule file's `groups:` text indented by two spaces rather than
//! a second serialisation of the same tree: YAML indentation is relative (block scalars
//! included), so the result is the same document, and writing it costs a copy.
//!
//! Invariants: `metadata.name` is a DNS-1123 subdomain and every metadata label
//! value a valid Kubernetes label value ([`naming::kubernetes_name`]); no
//! namespace is written unless the `kubernetes` block sets one (otherwise
//! `kubectl apply -n` decides), and the block's labels and annotations follow
//! mlslo's own labels (the checker keeps them apart); the manifest validates
//! against the CRD's `openAPIV3Schema` (tested in `tests/integration/emit_prometheus.rs`).

use crate::compiler::emit::yaml::{self, Node};
use crate::compiler::ir::naming;
use crate::compiler::ir::{KubernetesMetadata, Service};

/// The manifest text: `header` comment lines, metadata, then `groups_text` (the plain
/// rule file's body, starting with `groups:`) as the `spec`.
pub fn prometheus_rule(
    header: &[String],
    service: &Service,
    metadata: &KubernetesMetadata,
    groups_text: &str,
) -> String {
    manifest(
        header,
        &naming::kubernetes_name(&service.name),
        Some(service),
        metadata,
        groups_text,
    )
}

/// The manifest of the rules about Prometheus and Alertmanager themselves.
pub fn monitoring_prometheus_rule(
    header: &[String],
    metadata: &KubernetesMetadata,
    groups_text: &str,
) -> String {
    manifest(
        header,
        naming::MONITORING_KUBERNETES_NAME,
        None,
        metadata,
        groups_text,
    )
}

/// `metadata`: the name, the `kubernetes` block's namespace, mlslo's labels
/// (`own_labels`) then the block's, and the block's annotations.
pub fn metadata_node(
    name: &str,
    own_labels: Vec<(String, Node)>,
    metadata: &KubernetesMetadata,
) -> Node {
    let mut fields = vec![("name".to_owned(), Node::str(name))];
    if let Some(namespace) = &metadata.namespace {
        fields.push(("namespace".to_owned(), Node::str(namespace)));
    }
    let mut labels = own_labels;
    labels.extend(
        metadata
            .labels
            .iter()
            .map(|(key, value)| (key.clone(), Node::str(value))),
    );
    fields.push(("labels".to_owned(), Node::owned_map(labels)));
    if !metadata.annotations.is_empty() {
        fields.push((
            "annotations".to_owned(),
            Node::string_map(&metadata.annotations),
        ));
    }
    Node::owned_map(fields)
}

fn manifest(
    header: &[String],
    name: &str,
    service: Option<&Service>,
    metadata: &KubernetesMetadata,
    groups_text: &str,
) -> String {
    let mut labels = vec![
        (
            "app.kubernetes.io/managed-by".to_owned(),
            Node::str("mlslo"),
        ),
        ("app.kubernetes.io/component".to_owned(), Node::str("slo")),
    ];
    if let Some(service) = service {
        if let Some(value) = naming::kubernetes_label_value(&service.name) {
            labels.push((
                naming::KUBERNETES_LABEL_SERVICE.to_owned(),
                Node::str(value),
            ));
        }
        if let Some(value) = naming::kubernetes_label_value(&service.team) {
            labels.push((naming::KUBERNETES_LABEL_TEAM.to_owned(), Node::str(value)));
        }
    }
    let metadata = Node::map([
        ("apiVersion", Node::str("monitoring.coreos.com/v1")),
        ("kind", Node::str("PrometheusRule")),
        ("metadata", metadata_node(name, labels, metadata)),
    ]);
    let mut text = yaml::to_string(header, &metadata);
    text.reserve(groups_text.len() + groups_text.len() / 8);
    text.push_str("spec:\n");
    for line in groups_text.split_inclusive('\n') {
        // Empty lines (inside block scalars) stay empty: indenting them would add
        // trailing spaces, which a literal block keeps.
        if line != "\n" {
            text.push_str("  ");
        }
        text.push_str(line);
    }
    text
}
