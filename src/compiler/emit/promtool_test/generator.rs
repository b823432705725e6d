//! The test generator of one objective: what every scenario builder reads (the
//! service, the objective, its alert rules, the sample interval) and the checks
//! they share.
//!
//! Invariant: a generator answers every question about label values through its
//! [`LabelSolver`], so that one objective's series never match another
//! objective's selectors.

use std::cell::RefCell;
use std::collections::BTreeMap;

use crate::compiler::emit::prometheus::AlertRule;
use crate::compiler::emit::promtool_test::burn_model::BurnModel;
use crate::compiler::emit::promtool_test::label_solver::LabelSolver;
use crate::compiler::emit::promtool_test::test_file::{Check, ExpectedAlert};
use crate::compiler::ir::{Objective, ObjectiveKind, Service};

/// Builds the test cases of one objective.
pub(super) struct Generator<'a> {
    pub service: &'a Service,
    pub objective: &'a Objective,
    pub alerts: &'a [&'a AlertRule],
    pub interval: i64,
    pub solver: LabelSolver<'a>,
    /// [`Generator::counter_series_names`], once found.
    pub counter_series: RefCell<Option<Option<[String; 2]>>>,
}

impl Generator<'_> {
    /// The burn model at this generator's sample interval.
    pub fn model(&self) -> BurnModel {
        BurnModel {
            interval: self.interval,
            chains_long_windows: !matches!(self.objective.kind, ObjectiveKind::Accuracy { .. }),
        }
    }

    /// No `alertname` alert fires before the burn starts.
    pub fn quiet_before(&self, alertname: &str, t0_steps: i64) -> Check {
        Check {
            eval_time: (t0_steps - 1).max(0) * self.interval,
            alertname: alertname.to_owned(),
            expected: Vec::new(),
        }
    }

    pub fn expect(
        &self,
        alert: &AlertRule,
        series_labels: &BTreeMap<String, String>,
        at: i64,
    ) -> Check {
        // A grouped objective's alerts aggregate by the group labels, which are
        // all that is left of the input series' labels.
        let mut labels: BTreeMap<String, String> = series_labels
            .iter()
            .filter(|(label, _)| {
                !self.objective.is_grouped() || self.objective.group_by.contains(label)
            })
            .map(|(label, value)| (label.clone(), value.clone()))
            .collect();
        labels.extend(alert.labels.clone());
        Check {
            eval_time: at,
            alertname: alert.alert.clone(),
            expected: vec![ExpectedAlert {
                labels,
                annotations: alert.annotations.clone(),
            }],
        }
    }

    /// The labels of two groups of a grouped objective (every group label `a`,
    /// then every group label `b`); `None` when the objective is not grouped or a
    /// selector matches a group label, so `a` and `b` might not be read.
    pub fn two_groups(&self) -> Option<[BTreeMap<String, String>; 2]> {
        if !self.objective.is_grouped() {
            return None;
        }
        let matched = self.objective.kind.selectors().into_iter().any(|selector| {
            selector
                .matchers
                .iter()
                .any(|matcher| self.objective.group_by.contains(&matcher.label))
        });
        if matched {
            return None;
        }
        let group = |value: &str| {
            self.objective
                .group_by
                .iter()
                .map(|label| (label.clone(), value.to_owned()))
                .collect()
        };
        Some([group("a"), group("b")])
    }

    pub fn expect_none(&self, alert: &AlertRule, at: i64) -> Check {
        Check {
            eval_time: at,
            alertname: alert.alert.clone(),
            expected: Vec::new(),
        }
    }
}
