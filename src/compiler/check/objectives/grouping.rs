//! `group_by`: the labels that split one objective into one SLI, budget and set
//! of alerts per group (per model, model version, region).
//!
//! Rules: only objectives with Prometheus series group (`logs` refuses it,
//! E0700); each label is a valid label name (E0211), listed once (E0701), not a
//! label mlslo writes itself (E0702, [`naming::GENERATED_LABELS`]) and not set by
//! the service's or objective's `labels {}` (E0703), since either would give
//! every group the same value. A label the objective's own selectors fix by
//! equality yields one group: a warning (W0700), as it may be deliberate. A
//! label with a value per request or user is W0721. `expected_groups` counts the
//! groups for the series estimate of `compiler::verify` (W0720), and needs
//! `group_by` (E0720).

use std::collections::BTreeMap;

use crate::base::diagnostic::{Span, Spanned};
use crate::compiler::check::checker::Checker;
use crate::compiler::check::codes;
use crate::compiler::check::schema::Fields;
use crate::compiler::check::values::Unit;
use crate::compiler::ir::{self, naming, KindName};
use crate::compiler::syntax::ast::Value;

/// Labels that take a value per request, user or trace: grouping by one is
/// W0721, and `mlslo lint` reports them in rules (its default
/// `high_cardinality_labels`).
pub const HIGH_CARDINALITY_LABELS: &[&str] = &["user_id", "request_id", "trace_id", "session_id"];

/// Where an objective's static alert labels come from, for E0703.
pub(crate) struct StaticLabels<'a> {
    pub service: &'a BTreeMap<String, String>,
    pub objective: &'a BTreeMap<String, String>,
}

impl Checker {
    /// The labels of `group_by`, in written order; `None` after an error.
    pub(crate) fn check_group_by(
        &mut self,
        kind: KindName,
        value: &Spanned<Value>,
        static_labels: &StaticLabels<'_>,
    ) -> Option<Vec<Spanned<String>>> {
        if kind == KindName::Logs {
            self.push(
                codes::GROUP_BY_WITHOUT_SERIES
                    .at(
                        value.span,
                        "a logs objective is an Elasticsearch watch, with no labels to group by",
                    )
                    .with_help(
                        "remove `group_by` and declare one logs objective per group, each with its own query",
                    ),
            );
            return None;
        }
        let labels = self.read_list("group_by", value, Unit::Identifier, |checker, element| {
            let name = checker.read_label_name("group_by", element)?;
            Some(Spanned {
                span: element.span,
                node: name,
            })
        })?;
        let mut all_good = true;
        let mut first_spans: BTreeMap<&str, Span> = BTreeMap::new();
        for label in &labels {
            let name = label.node.as_str();
            if let Some(first) = first_spans.get(name) {
                self.push(
                    codes::DUPLICATE_GROUP_LABEL
                        .at(label.span, format!("`{name}` is listed a second time here"))
                        .with_secondary(*first, "first listed here")
                        .with_help(format!("remove one of the two `{name}`")),
                );
                all_good = false;
                continue;
            }
            first_spans.insert(name, label.span);
            if naming::GENERATED_LABELS.contains(&name) {
                self.push(
                    codes::GROUP_BY_GENERATED_LABEL
                        .at(
                            label.span,
                            format!("mlslo writes `{name}` itself on the objective's series and alerts"),
                        )
                        .with_note(format!(
                            "group_by cannot name {}",
                            naming::GENERATED_LABELS[1..].join(", ")
                        ))
                        .with_help(
                            "group by the metric's own labels (`model`, `model_version`, `region`), renaming a clashing one at scrape time",
                        ),
                );
                all_good = false;
                continue;
            }
            let static_origin = if static_labels.objective.contains_key(name) {
                Some("the objective's")
            } else if static_labels.service.contains_key(name) {
                Some("the service's")
            } else {
                None
            };
            if let Some(origin) = static_origin {
                self.push(
                    codes::GROUP_LABEL_ALSO_STATIC
                        .at(
                            label.span,
                            format!("{origin} `labels {{}}` sets `{name}` to one value on every alert"),
                        )
                        .with_note("a static alert label is written over the group's value, so the groups' alerts could not be told apart")
                        .with_help(format!(
                            "rename the static label, or remove `{name}` from `group_by`"
                        )),
                );
                all_good = false;
            }
        }
        all_good.then_some(labels)
    }

    /// `expected_groups`: a count of at least 1, only beside `group_by`; `None`
    /// after an error, `Some(None)` when it is not written.
    pub(crate) fn read_expected_groups(
        &mut self,
        fields: &Fields<'_>,
        group_by: Option<&Spanned<Value>>,
    ) -> Option<Option<(u64, Span)>> {
        let Some(value) = fields.value("expected_groups") else {
            return Some(None);
        };
        let count = self.read_count("expected_groups", value)?;
        if group_by.is_none() {
            self.push(
                codes::EXPECTED_GROUPS_WITHOUT_GROUP_BY
                    .at(value.span, "an objective without `group_by` has one group")
                    .with_help(
                        "add the `group_by` this count is about, or remove `expected_groups`",
                    ),
            );
            return None;
        }
        if count == 0 {
            self.push(
                codes::VALUE_OUT_OF_RANGE
                    .at(value.span, "a grouped objective has at least one group")
                    .with_help("write the number of groups you expect, at least 1"),
            );
            return None;
        }
        Some(Some((count, value.span)))
    }

    /// W0721 for each group label that takes a value per request, user or trace.
    pub(crate) fn warn_unbounded_group_labels(&mut self, labels: &[Spanned<String>]) {
        for label in labels {
            if HIGH_CARDINALITY_LABELS.contains(&label.node.as_str()) {
                self.push(
                    codes::GROUP_LABEL_UNBOUNDED
                        .at(
                            label.span,
                            format!("one group per value of `{}`: series and alerts without bound", label.node),
                        )
                        .with_help(format!(
                            "remove `{}` from `group_by` and group by a bounded label (model, region, a customer tier)",
                            label.node
                        )),
                );
            }
        }
    }

    /// W0700 for each group label that a selector of the objective fixes by
    /// equality (the service's `selector {}` is already merged in).
    pub(crate) fn warn_pinned_group_labels(
        &mut self,
        labels: &[Spanned<String>],
        kind: &ir::ObjectiveKind,
    ) {
        for label in labels {
            let pinned = kind.selectors().into_iter().find_map(|selector| {
                selector
                    .matchers
                    .iter()
                    .find(|matcher| matcher.op == ir::MatchOp::Equal && matcher.label == label.node)
                    .map(|matcher| (selector.span, matcher.value.clone()))
            });
            if let Some((selector_span, value)) = pinned {
                self.push(
                    codes::GROUP_LABEL_PINNED
                        .at(
                            label.span,
                            format!("the selector reads only `{}=\"{value}\"`: that label makes one group", label.node),
                        )
                        .with_secondary(selector_span, format!("this selector matches `{}` by equality", label.node))
                        .with_help(format!(
                            "remove `{}` from `group_by`, or widen the selector's matcher on it to watch several groups",
                            label.node
                        )),
                );
            }
        }
    }
}
