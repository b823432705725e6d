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
use crate::compiler::ir::Budget;
use crate::compiler::ir::{Objective, Service};

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
        }
    }

    /// No burn-rate alert of `budget` fires before the burn starts.
    pub fn quiet_before(&self, budget: &Budget, t0_steps: i64) -> Check {
        Check {
            eval_time: (t0_steps - 1).max(0) * self.interval,
            alertname: budget.burn_alert.clone(),
            expected: Vec::new(),
        }
    }

    pub fn expect(
        &self,
        alert: &AlertRule,
        series_labels: &BTreeMap<String, String>,
        at: i64,
    ) -> Check {
        let mut labels = series_labels.clone();
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

    pub fn expect_none(&self, alert: &AlertRule, at: i64) -> Check {
        Check {
            eval_time: at,
            alertname: alert.alert.clone(),
            expected: Vec::new(),
        }
    }
}
