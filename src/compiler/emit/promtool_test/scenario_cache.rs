//! What the scenarios of many objectives compute alike, kept for one thread's
//! share of a build: the selectors' compiled regular expressions and their
//! shortest matches, and the recorded series of counter scenarios. A fleet's
//! objectives repeat a few shapes (the same objective, windows and traffic), and
//! a scenario's recorded series depend on that shape alone, not on the
//! objective's names or labels.

use std::collections::HashMap;
use std::rc::Rc;

use regex::Regex;

use super::recorded_model::{Combine, RecordedModel};
use crate::compiler::ir::{Decimal, Duration};

#[derive(Default)]
pub struct ScenarioCache {
    compiled: HashMap<String, Option<Regex>>,
    /// The shortest match of each pattern: services repeat the same few patterns.
    shortest: HashMap<String, Option<String>>,
    recorded: HashMap<CounterScenario, Option<Rc<RecordedModel>>>,
}

/// Everything the recorded series of a counter scenario are a function of.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub(super) struct CounterScenario {
    pub combine: Combine,
    /// Healthy steps before the burn, and the scenario's last time (milliseconds).
    pub t0_steps: i64,
    pub limit: i64,
    pub traffic: Decimal,
    pub level: Decimal,
    pub interval: i64,
    pub error_budget: Decimal,
    pub window: Duration,
}

impl ScenarioCache {
    pub(super) fn full_match(&mut self, pattern: &str, value: &str) -> Option<bool> {
        if !self.compiled.contains_key(pattern) {
            let regex = Regex::new(&format!("^(?:{pattern})$")).ok();
            self.compiled.insert(pattern.to_owned(), regex);
        }
        let regex = self.compiled.get(pattern)?.as_ref()?;
        Some(regex.is_match(value))
    }

    /// The shortest match of `pattern`, found by `find` the first time.
    pub(super) fn shortest_match(
        &mut self,
        pattern: &str,
        find: impl FnOnce(&str) -> Option<String>,
    ) -> Option<String> {
        if let Some(known) = self.shortest.get(pattern) {
            return known.clone();
        }
        let found = find(pattern);
        self.shortest.insert(pattern.to_owned(), found.clone());
        found
    }

    /// The recorded series of `scenario` when they were built before (`None`
    /// inside when they could not be).
    pub(super) fn known_recorded(
        &self,
        scenario: &CounterScenario,
    ) -> Option<Option<Rc<RecordedModel>>> {
        self.recorded.get(scenario).cloned()
    }

    pub(super) fn remember_recorded(
        &mut self,
        scenario: CounterScenario,
        model: Option<Rc<RecordedModel>>,
    ) -> Option<Rc<RecordedModel>> {
        self.recorded.insert(scenario, model.clone());
        model
    }
}
