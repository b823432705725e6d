//! One objective: its name, labels and description, and its kind, read by the
//! file of the kind's family (`budgeted`: latency, availability, accuracy;
//! `thresholds`: drift, gpu, freshness; `logs`).
//!
//! Invariant: an objective is built only when its name, its common fields and
//! every field of its kind are valid; otherwise each problem has a diagnostic.

mod budgeted;
mod grouping;
mod logs;
mod queries;
mod thresholds;

use std::collections::BTreeMap;

use crate::base::diagnostic::{Span, Spanned};
use crate::compiler::check::checker::Checker;
use crate::compiler::check::labels_and_annotations::LabelBlock;
use crate::compiler::check::schema::Schema;
use crate::compiler::check::selectors::ServiceSelector;
use crate::compiler::ir::{self, KindName};
use crate::compiler::syntax::ast;

/// What every objective of a service can see of it.
pub(crate) struct ServiceContext<'a> {
    pub selector: ServiceSelector<'a>,
    /// Objective names declared in the service, with their kind and name span.
    pub declared: &'a BTreeMap<String, (KindName, Span)>,
    /// The service's `labels {}`, which a group label may not be.
    pub labels: &'a BTreeMap<String, String>,
}

impl Checker {
    pub fn check_objective(
        &mut self,
        kind: KindName,
        block: &ast::Block,
        name: &Spanned<String>,
        context: &ServiceContext<'_>,
    ) -> Option<ir::Objective> {
        let mut all_good = self.check_object_name(name, "objective");
        let schema = schema_of(kind);
        let fields = self.collect(&block.items, schema, name.span);
        let labels = self.read_labels(&fields, "labels", LabelBlock::Alert, &mut all_good);
        let description = self.read_description(&fields, &mut all_good);

        let objective_kind = match kind {
            KindName::Latency => self.check_latency(&fields, &context.selector),
            KindName::Availability => self.check_availability(&fields, &context.selector),
            KindName::Accuracy => self.check_accuracy(&fields, &context.selector),
            KindName::Drift => self.check_drift(&fields, &context.selector),
            KindName::Gpu => self.check_gpu(&fields, &context.selector),
            KindName::Freshness => {
                self.check_freshness(&fields, &context.selector, context.declared)
            }
            KindName::Logs => self.check_logs(&fields),
        };
        let group_by = match fields.value("group_by") {
            Some(value) => self.check_group_by(
                kind,
                value,
                &grouping::StaticLabels {
                    service: context.labels,
                    objective: &labels,
                },
            ),
            None => Some(Vec::new()),
        };
        let expected_groups = self.read_expected_groups(&fields, fields.value("group_by"));
        let objective_kind = objective_kind?;
        let group_by = group_by?;
        let expected_groups = expected_groups?;
        self.warn_pinned_group_labels(&group_by, &objective_kind);
        self.check_query_group_labels(&group_by, &objective_kind);
        self.warn_unbounded_group_labels(&group_by);
        all_good.then(|| ir::Objective {
            name: name.node.clone(),
            kind: objective_kind,
            labels,
            description,
            group_by: group_by.into_iter().map(|label| label.node).collect(),
            expected_groups,
            span: block.span,
            name_span: name.span,
        })
    }
}

fn schema_of(kind: KindName) -> &'static Schema {
    match kind {
        KindName::Latency => &budgeted::LATENCY_SCHEMA,
        KindName::Availability => &budgeted::AVAILABILITY_SCHEMA,
        KindName::Accuracy => &budgeted::ACCURACY_SCHEMA,
        KindName::Drift => &thresholds::DRIFT_SCHEMA,
        KindName::Gpu => &thresholds::GPU_SCHEMA,
        KindName::Freshness => &thresholds::FRESHNESS_SCHEMA,
        KindName::Logs => &logs::LOGS_SCHEMA,
    }
}
