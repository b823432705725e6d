//! The `kubernetes` block: the namespace, labels and annotations every
//! generated manifest (`PrometheusRule`, `AlertmanagerConfig`) carries.
//!
//! Invariants: at most one block across all files (E0656, raised by the
//! program); the namespace is a DNS-1123 label (E0657); every label key and
//! value is one the API server accepts, and no key is one mlslo sets itself
//! (E0658); every annotation key is a valid qualified name (E0659). Without
//! the block nothing is added: no namespace is written.

use crate::base::diagnostic::Span;
use crate::compiler::check::checker::Checker;
use crate::compiler::check::codes;
use crate::compiler::check::labels_and_annotations::LabelBlock;
use crate::compiler::check::schema::{attribute, block, Schema};
use crate::compiler::ir::{self, naming};
use crate::compiler::syntax::ast::{self, Item};

/// The labels mlslo writes on its manifests; the block may not change them.
const OWN_LABEL_KEYS: [&str; 4] = [
    "app.kubernetes.io/managed-by",
    "app.kubernetes.io/component",
    naming::KUBERNETES_LABEL_SERVICE,
    naming::KUBERNETES_LABEL_TEAM,
];

impl Checker {
    pub(crate) fn check_kubernetes(
        &mut self,
        block: &ast::Block,
    ) -> Option<ir::KubernetesMetadata> {
        let fields = self.collect(&block.items, &KUBERNETES_SCHEMA, block.kind.span);
        let mut all_good = true;
        let mut metadata = ir::KubernetesMetadata::default();
        if let Some(value) = fields.value("namespace") {
            match self.read_string("namespace", value) {
                Some(namespace) => match dns_label_problem(&namespace) {
                    None => metadata.namespace = Some(namespace),
                    Some(problem) => {
                        self.push(
                            codes::INVALID_KUBERNETES_NAMESPACE
                                .at(value.span, format!("not a Kubernetes namespace: {problem}"))
                                .with_help(
                                    "a namespace is at most 63 lowercase letters, digits and `-`, starting and ending with a letter or digit, such as \"monitoring\"",
                                ),
                        );
                        all_good = false;
                    }
                },
                None => all_good = false,
            }
        }
        if let Some(labels_block) = fields.block("labels") {
            match self.read_label_block(labels_block, LabelBlock::Selector) {
                Some(labels) => {
                    for (key, value) in &labels {
                        let (key_span, value_span) = spans_of(labels_block, key);
                        let problem = if OWN_LABEL_KEYS.contains(&key.as_str()) {
                            Some((key_span, "mlslo sets this label itself".to_owned()))
                        } else if let Some(problem) = qualified_name_problem(key) {
                            Some((key_span, format!("not a Kubernetes label key: {problem}")))
                        } else {
                            label_value_problem(value).map(|problem| {
                                (
                                    value_span,
                                    format!("not a Kubernetes label value: {problem}"),
                                )
                            })
                        };
                        if let Some((span, label)) = problem {
                            self.push(
                                codes::INVALID_KUBERNETES_LABEL.at(span, label).with_help(
                                    "a label value is empty or at most 63 letters, digits, `-`, `_` and `.`, starting and ending with a letter or digit; a key is such a name",
                                ),
                            );
                            all_good = false;
                        }
                    }
                    metadata.labels = labels;
                }
                None => all_good = false,
            }
        }
        if let Some(annotations_block) = fields.block("annotations") {
            match self.read_label_block(annotations_block, LabelBlock::Selector) {
                Some(annotations) => {
                    for key in annotations.keys() {
                        if let Some(problem) = qualified_name_problem(key) {
                            let (key_span, _) = spans_of(annotations_block, key);
                            self.push(
                                codes::INVALID_KUBERNETES_ANNOTATION
                                    .at(key_span, format!("not a Kubernetes annotation key: {problem}"))
                                    .with_help(
                                        "an annotation key is at most 63 letters, digits, `-`, `_` and `.`, starting and ending with a letter or digit",
                                    ),
                            );
                            all_good = false;
                        }
                    }
                    metadata.annotations = annotations;
                }
                None => all_good = false,
            }
        }
        all_good.then_some(metadata)
    }
}

/// The key's and the value's span of the attribute `key = value` in a block.
fn spans_of(block: &ast::Block, key: &str) -> (Span, Span) {
    block
        .items
        .iter()
        .find_map(|item| match item {
            Item::Attribute(attribute) if attribute.key.node == key => {
                Some((attribute.key.span, attribute.value.span))
            }
            _ => None,
        })
        .unwrap_or((block.kind.span, block.kind.span))
}

/// Kubernetes' `IsDNS1123Label`, the rule of a namespace name.
fn dns_label_problem(name: &str) -> Option<String> {
    if name.is_empty() {
        return Some("it is empty".to_owned());
    }
    if name.len() > 63 {
        return Some(format!("{} characters, more than 63", name.len()));
    }
    if let Some(bad) = name
        .chars()
        .find(|character| !matches!(character, 'a'..='z' | '0'..='9' | '-'))
    {
        return Some(format!("`{bad}` is not a lowercase letter, digit or `-`"));
    }
    if name.starts_with('-') || name.ends_with('-') {
        return Some("it starts or ends with `-`".to_owned());
    }
    None
}

/// Kubernetes' `IsQualifiedName` for label and annotation keys: an optional
/// DNS-1123 subdomain prefix and `/`, then a name of at most 63 characters.
pub(crate) fn qualified_name_problem(key: &str) -> Option<String> {
    let (prefix, name) = match key.split_once('/') {
        Some((prefix, name)) => (Some(prefix), name),
        None => (None, key),
    };
    if let Some(prefix) = prefix {
        let valid_prefix = !prefix.is_empty()
            && prefix.len() <= 253
            && prefix
                .split('.')
                .all(|part| dns_label_problem(part).is_none());
        if !valid_prefix {
            return Some(format!("the prefix `{prefix}` is not a DNS subdomain"));
        }
    }
    if name.is_empty() {
        return Some("the name is empty".to_owned());
    }
    label_value_problem(name)
}

/// Kubernetes' `IsValidLabelValue`: empty, or at most 63 characters of
/// `[A-Za-z0-9_.-]` with an alphanumeric at both ends.
pub(crate) fn label_value_problem(value: &str) -> Option<String> {
    if value.is_empty() {
        return None;
    }
    if value.len() > naming::MAX_KUBERNETES_LABEL_VALUE {
        return Some(format!("{} characters, more than 63", value.len()));
    }
    if let Some(bad) = value
        .chars()
        .find(|character| !(character.is_ascii_alphanumeric() || "-_.".contains(*character)))
    {
        return Some(format!("`{bad}` is not a letter, digit, `-`, `_` or `.`"));
    }
    if !value.starts_with(|character: char| character.is_ascii_alphanumeric())
        || !value.ends_with(|character: char| character.is_ascii_alphanumeric())
    {
        return Some("it starts or ends with something other than a letter or digit".to_owned());
    }
    None
}

static KUBERNETES_SCHEMA: Schema = Schema {
    what: "the kubernetes block",
    fields: &[
        attribute("namespace", "namespace = \"monitoring\""),
        block("labels", false, false),
        block("annotations", false, false),
    ],
    allows_routes: false,
    secrets: &[],
};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_follow_the_api_server() {
        assert_eq!(dns_label_problem("monitoring"), None);
        assert!(dns_label_problem("Monitoring").is_some());
        assert!(dns_label_problem("-a").is_some());
        assert!(dns_label_problem(&"a".repeat(64)).is_some());
        assert_eq!(qualified_name_problem("release"), None);
        assert_eq!(qualified_name_problem("app.kubernetes.io/part-of"), None);
        assert!(qualified_name_problem("Example.com/x").is_some());
        assert!(qualified_name_problem("a/").is_some());
        assert!(qualified_name_problem("_release").is_some());
        assert_eq!(label_value_problem(""), None);
        assert_eq!(label_value_problem("kube-prometheus-stack"), None);
        assert!(label_value_problem("kube prometheus").is_some());
        assert!(label_value_problem("x-").is_some());
    }
}
