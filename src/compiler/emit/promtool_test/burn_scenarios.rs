//! Scenarios of the objectives with an error budget (latency, availability,
//! accuracy): each page window fires under a burn above its factor and stays
//! quiet below it, and the traffic guard keeps pages and tickets quiet on thin
//! traffic.
//!
//! Invariants: every page window has a full window of healthy data before the
//! burn starts; a scenario is kept only when the burn model predicts every burn
//! rule of the objective at its check time.

use crate::compiler::emit::prometheus::burn_value_text;
use crate::compiler::emit::promtool_test::burn_model::{
    seconds, Burn, BurnRule, BurnRules, Search, State,
};
use crate::compiler::emit::promtool_test::generator::Generator;
use crate::compiler::emit::promtool_test::recorded_model::{
    Combine, RecordedModel, STABLE_RENDERING,
};
use crate::compiler::emit::promtool_test::scenario_cache::{CounterScenario, ScenarioCache};
use crate::compiler::emit::promtool_test::test_file::{
    counter_values, series_text, Check, TestCase,
};
use crate::compiler::ir::{
    naming, AvailabilityEvents, Bound, Budget, Decimal, Duration, ObjectiveKind, Tier,
};
use std::collections::BTreeMap;
use std::rc::Rc;

/// Burn levels of the scenarios, relative to a window's threshold.
const FIRE_MULTIPLIER: (i128, u32) = (125, 2);
const QUIET_MULTIPLIER: (i128, u32) = (8, 1);

/// How many steps past the first acceptable one a check may move to find values
/// that are clear of a rounding boundary.
const VALUE_SEARCH_STEPS: i64 = 30;

/// Events per sample interval in the burn scenarios (raised to clear the guards).
const BASE_TRAFFIC: i64 = 1000;

impl Generator<'_> {
    /// The scenarios of a latency or availability objective.
    pub fn budget_cases(
        &self,
        budget: &Budget,
        cache: &mut ScenarioCache,
    ) -> Option<Vec<TestCase>> {
        let mut cases = Vec::new();
        if !budget.alerts_enabled || budget.page.is_empty() {
            return Some(cases);
        }
        let interval_seconds = seconds(self.interval);
        // Events per interval at which every guard holds exactly.
        let guard_levels: Vec<f64> = budget
            .burn_windows()
            .filter_map(|(_, burn)| budget.min_traffic_of(burn))
            .map(|min_traffic| {
                min_traffic.count.to_f64() * self.interval as f64 / min_traffic.window.millis as f64
            })
            .collect();
        // Enough traffic to clear every guard four times over.
        let mut traffic = Decimal::from_integer(BASE_TRAFFIC);
        let needed = guard_levels
            .iter()
            .fold(0.0, |most: f64, level| most.max(4.0 * level));
        if needed > BASE_TRAFFIC as f64 {
            traffic = Decimal::from_integer(needed.ceil() as i64);
        }
        let guard = |traffic: Decimal| traffic.to_f64() / interval_seconds;
        let longest_page = budget.page.iter().map(|burn| burn.long.millis).max()?;
        for window in &budget.page {
            let threshold = window.factor.checked_mul(budget.error_budget)?;
            if threshold >= Decimal::ONE {
                continue;
            }
            // Every page window has a full window of healthy data before the burn.
            let t0_steps = longest_page / self.interval + 2;
            let t0 = t0_steps * self.interval;
            let label = format!(
                "page {}/{} at {}×",
                window.long, window.short, window.factor
            );
            // Fires above the factor.
            let mut level = threshold.checked_mul(decimal(FIRE_MULTIPLIER))?;
            if level >= Decimal::ONE {
                level = threshold
                    .checked_add(Decimal::ONE)?
                    .div_rounded(Decimal::from_integer(2))?
                    .0;
            }
            let burn = Burn {
                t0: seconds(t0),
                level: level.to_f64(),
            };
            let limit = t0 + 3 * window.long.millis + window.for_.millis + 10 * self.interval;
            let own_rule = |states: &[(&BurnRule<'_>, State)]| {
                states
                    .iter()
                    .any(|(rule, state)| *state == State::Firing && rule.windows.contains(window))
            };
            let covers_window = |rule: &BurnRule<'_>| rule.windows.contains(window);
            let search = Search {
                burn,
                rate: guard(traffic),
                range: (t0, limit),
                must_fire: Some(&covers_window),
            };
            let mut recorded =
                |last: i64| self.recorded_model(budget, (t0_steps, last), traffic, level, cache);
            if let Some(check) = self.find_check(budget, search, own_rule, &mut recorded) {
                let steps = check.eval_time / self.interval + 1;
                let series =
                    self.counter_series(t0_steps, steps, traffic, level, &BTreeMap::new(), cache)?;
                if std::ptr::eq(window, &budget.page[0]) {
                    cases.extend(self.one_group_burns_case(
                        &label,
                        (t0_steps, steps),
                        traffic,
                        level,
                        &check,
                        cache,
                    ));
                }
                cases.push(TestCase {
                    name: format!(
                        "{}/{}: {label} fires at {} error ratio",
                        self.service.name, self.objective.name, level
                    ),
                    series,
                    checks: vec![self.quiet_before(&budget.burn_alert, t0_steps), check],
                });
            }
            // Quiet below the factor (when no other page window fires first).
            let level = threshold.checked_mul(decimal(QUIET_MULTIPLIER))?;
            let burn = Burn {
                t0: seconds(t0),
                level: level.to_f64(),
            };
            let start = t0 + window.long.millis + window.for_.millis + 3 * self.interval;
            let pages_quiet = |states: &[(&BurnRule<'_>, State)]| {
                states
                    .iter()
                    .all(|(rule, state)| rule.tier != Tier::Page || *state == State::Quiet)
            };
            let search = Search {
                burn,
                rate: guard(traffic),
                range: (start, start + 10 * self.interval),
                must_fire: None,
            };
            let mut recorded =
                |last: i64| self.recorded_model(budget, (t0_steps, last), traffic, level, cache);
            if let Some(check) = self.find_check(budget, search, pages_quiet, &mut recorded) {
                let steps = check.eval_time / self.interval + 1;
                let series =
                    self.counter_series(t0_steps, steps, traffic, level, &BTreeMap::new(), cache)?;
                cases.push(TestCase {
                    name: format!(
                        "{}/{}: {label} stays quiet at {} error ratio",
                        self.service.name, self.objective.name, level
                    ),
                    series,
                    checks: vec![check],
                });
            }
        }
        // Thin traffic, a quarter of the lowest guard: every request failing, and
        // still no page and no ticket.
        let lowest = guard_levels.iter().copied().fold(f64::INFINITY, f64::min);
        if lowest.is_finite() {
            let thin = Decimal::parse(&format!("{:.6}", lowest / 4.0))?;
            if !thin.is_zero() {
                let t0_steps = longest_page / self.interval + 2;
                let t0 = t0_steps * self.interval;
                let burn = Burn {
                    t0: seconds(t0),
                    level: 1.0,
                };
                let longest_for = budget.page.iter().map(|burn| burn.for_.millis).max()?;
                let start = t0 + longest_page + longest_for + 3 * self.interval;
                let all_quiet = |states: &[(&BurnRule<'_>, State)]| {
                    states.iter().all(|(_, state)| *state == State::Quiet)
                };
                let search = Search {
                    burn,
                    rate: guard(thin),
                    range: (start, start + 10 * self.interval),
                    must_fire: None,
                };
                if let Some(check) = self.find_check(budget, search, all_quiet, &mut |_| None) {
                    let steps = check.eval_time / self.interval + 1;
                    let series = self.counter_series(
                        t0_steps,
                        steps,
                        thin,
                        Decimal::ONE,
                        &BTreeMap::new(),
                        cache,
                    )?;
                    cases.push(TestCase {
                        name: format!(
                            "{}/{}: no page and no ticket below the traffic guard even at 100% errors",
                            self.service.name, self.objective.name
                        ),
                        series,
                        checks: vec![check],
                    });
                }
            }
        }
        Some(cases)
    }

    /// The scenarios of an accuracy objective: every slice bad from `T0` on pages.
    pub fn accuracy_cases(
        &self,
        budget: &Budget,
        cache: &mut ScenarioCache,
    ) -> Option<Vec<TestCase>> {
        let ObjectiveKind::Accuracy {
            metric,
            bound,
            slice,
            ..
        } = &self.objective.kind
        else {
            return Some(Vec::new());
        };
        if !budget.alerts_enabled || budget.page.is_empty() {
            return Some(Vec::new());
        }
        let labels = self.solver.solve(&[metric], cache)?;
        let longest_page = budget.page.iter().map(|burn| burn.long.millis).max()?;
        let t0_steps = longest_page / self.interval + 2;
        let t0 = t0_steps * self.interval;
        let burn = Burn {
            t0: seconds(t0),
            level: 1.0,
        };
        let limit = t0 + 3 * longest_page + 10 * self.interval;
        let page_fires = |states: &[(&BurnRule<'_>, State)]| {
            states
                .iter()
                .any(|(rule, state)| rule.tier == Tier::Page && *state == State::Firing)
        };
        let is_page = |rule: &BurnRule<'_>| rule.tier == Tier::Page;
        let (good, bad) = match bound {
            Bound::Min(min) => (
                min.checked_add(Decimal::ONE)?,
                min.checked_sub(Decimal::ONE)?,
            ),
            Bound::Max(max) => (
                max.checked_sub(Decimal::ONE)?,
                max.checked_add(Decimal::ONE)?,
            ),
        };
        let values = |steps: i64| format!("{good}x{} {bad}x{}", t0_steps - 1, steps - t0_steps);
        let mut recorded = |last: i64| {
            RecordedModel::slices(
                &values(last / self.interval + 1),
                *bound,
                *slice,
                self.interval,
                budget.error_budget.to_f64(),
                budget.window,
            )
            .map(Rc::new)
        };
        let search = Search {
            burn,
            rate: 0.0,
            range: (t0, limit),
            must_fire: Some(&is_page),
        };
        let Some(check) = self.find_check(budget, search, page_fires, &mut recorded) else {
            return Some(Vec::new());
        };
        let values = values(check.eval_time / self.interval + 1);
        Some(vec![TestCase {
            name: format!(
                "{}/{}: every slice bad from {} on pages",
                self.service.name,
                self.objective.name,
                Duration::from_millis(t0)
            ),
            series: vec![(series_text(&metric.metric, &labels), values)],
            checks: vec![self.quiet_before(&budget.burn_alert, t0_steps), check],
        }])
    }

    /// [`BurnModel::find_check`](crate::compiler::emit::promtool_test::burn_model::BurnModel::find_check)
    /// over this objective's burn rules.
    ///
    /// The alerts that say their value need the scenario's recorded series,
    /// which `recorded` builds up to a time: the search runs first without them,
    /// then from the step it found, with them built only that far (and a few
    /// steps more, in case a value sits on a rounding boundary there).
    fn find_check(
        &self,
        budget: &Budget,
        search: Search<'_>,
        accept: impl Fn(&[(&BurnRule<'_>, State)]) -> bool,
        recorded: &mut dyn FnMut(i64) -> Option<Rc<RecordedModel>>,
    ) -> Option<Check> {
        let counts_events = !matches!(self.objective.kind, ObjectiveKind::Accuracy { .. });
        let rules = BurnRules::of(self.alerts, budget, counts_events);
        let model = self.model();
        let unvalued = |rule: &BurnRule<'_>, _: i64| Some(rule.rule.annotations.clone());
        let found = model.find_check(&rules, search, &accept, &unvalued)?;
        if rules
            .rules
            .iter()
            .all(|rule| rule.rule.templates.is_empty())
        {
            return Some(found);
        }
        let last = search
            .range
            .1
            .min(found.eval_time + VALUE_SEARCH_STEPS * self.interval);
        let values = recorded(last);
        let annotate = |rule: &BurnRule<'_>, t: i64| {
            self.burn_annotations(budget, rule, t / self.interval, values.as_deref())
        };
        let search = Search {
            range: (found.eval_time, last),
            must_fire: None,
            ..search
        };
        model.find_check(&rules, search, accept, &annotate)
    }

    /// The annotations of a firing burn rule at `step`: its description ends with
    /// its value and the budget left, as the recorded series say; `None` when
    /// they are not modelled, or a value a few bits away would read differently.
    fn burn_annotations(
        &self,
        budget: &Budget,
        rule: &BurnRule<'_>,
        step: i64,
        recorded: Option<&RecordedModel>,
    ) -> Option<Vec<(String, String)>> {
        let alert = rule.rule;
        if alert.templates.is_empty() {
            return Some(alert.annotations.clone());
        }
        let recorded = recorded?;
        let short = rule.windows.first()?.short;
        let value = recorded.error_ratio(short, step)?;
        // The alert's `query` runs before this step's budget group: it reads the
        // remaining budget of the step before.
        let remaining = recorded.remaining(step - 1);
        if !percentage_renders_stably(value) || !remaining.is_none_or(percentage_renders_stably) {
            return None;
        }
        let written = burn_value_text(budget.window, short, value, remaining);
        Some(
            alert
                .annotations
                .iter()
                .map(|(key, text)| {
                    if key == naming::ANNOTATION_DESCRIPTION {
                        (key.clone(), format!("{text}\n{written}"))
                    } else {
                        (key.clone(), text.clone())
                    }
                })
                .collect(),
        )
    }

    /// The recorded series of the burning group of a counter scenario that
    /// ends at `limit` (milliseconds): healthy for `t0_steps`, then errors at
    /// `level` of `traffic`.
    pub(super) fn recorded_model(
        &self,
        budget: &Budget,
        (t0_steps, limit): (i64, i64),
        traffic: Decimal,
        level: Decimal,
        cache: &mut ScenarioCache,
    ) -> Option<Rc<RecordedModel>> {
        let scenario = CounterScenario {
            combine: self.combine()?,
            t0_steps,
            limit,
            traffic,
            level,
            interval: self.interval,
            error_budget: budget.error_budget,
            window: budget.window,
        };
        if let Some(known) = cache.known_recorded(&scenario) {
            return known;
        }
        let steps = limit / self.interval + 1;
        let series =
            self.counter_series(t0_steps, steps, traffic, level, &BTreeMap::new(), cache)?;
        let model = match series.as_slice() {
            [(_, first), (_, second)] => RecordedModel::counters(
                scenario.combine,
                [first, second],
                self.interval,
                budget.error_budget.to_f64(),
                budget.window,
            ),
            _ => None,
        };
        cache.remember_recorded(scenario, model.map(Rc::new))
    }

    /// How the rules combine the rates of the two series of
    /// [`Self::counter_series`] into bad and total events.
    pub(super) fn combine(&self) -> Option<Combine> {
        match &self.objective.kind {
            ObjectiveKind::Latency { .. } => Some(Combine::Buckets),
            ObjectiveKind::Availability { events, total, .. } => {
                let same_metric = events.counter().rate_of()?.metric == total.rate_of()?.metric;
                Some(match (events, same_metric) {
                    (AvailabilityEvents::Errors(_), false) => Combine::ErrorsOfTotal,
                    (AvailabilityEvents::Errors(_), true) => Combine::ErrorsBesideOthers,
                    (AvailabilityEvents::Good(_), false) => Combine::GoodOfTotal,
                    (AvailabilityEvents::Good(_), true) => Combine::GoodBesideOthers,
                })
            }
            _ => None,
        }
    }

    /// A grouped objective's first page scenario with two groups: the same
    /// burn in group `a` while group `b` stays healthy beside it, and the page
    /// fires for `a` alone (promtool compares the whole list of firing alerts, so
    /// a page of `b` fails the test). Left out when a selector matches a group
    /// label, whose values the scenario would then have to solve for.
    fn one_group_burns_case(
        &self,
        label: &str,
        (t0_steps, steps): (i64, i64),
        traffic: Decimal,
        level: Decimal,
        check: &Check,
        cache: &mut ScenarioCache,
    ) -> Option<TestCase> {
        let [burning, healthy] = self.two_groups()?;
        let mut series = self.counter_series(t0_steps, steps, traffic, level, &burning, cache)?;
        series.extend(self.counter_series(
            t0_steps,
            steps,
            traffic,
            Decimal::ZERO,
            &healthy,
            cache,
        )?);
        let mut fires = check.clone();
        for expected in &mut fires.expected {
            expected.labels.extend(burning.clone());
        }
        let burning_text = burning
            .iter()
            .map(|(label, value)| format!("{label}={value:?}"))
            .collect::<Vec<_>>()
            .join(",");
        Some(TestCase {
            name: format!(
                "{}/{}: only {{{burning_text}}} burns: {label} fires for it alone",
                self.service.name, self.objective.name
            ),
            series,
            checks: vec![self.quiet_before(&check.alertname, t0_steps), fires],
        })
    }

    /// Input series of a counter objective: `t0_steps` healthy steps of
    /// `traffic` events, then a burn at `level`, `steps` samples in all, with the
    /// `group` labels added.
    pub(super) fn counter_series(
        &self,
        t0_steps: i64,
        steps: i64,
        traffic: Decimal,
        level: Decimal,
        group: &BTreeMap<String, String>,
        cache: &mut ScenarioCache,
    ) -> Option<Vec<(String, String)>> {
        let before = t0_steps;
        let after = (steps - t0_steps).max(1);
        let bad = traffic.checked_mul(level)?;
        let good = traffic.checked_sub(bad)?;
        let counter =
            |first: Decimal, second: Decimal| counter_values(&[(before, first), (after, second)]);
        let [first_series, second_series] = if group.is_empty() {
            self.counter_series_names(cache)?
        } else {
            self.find_counter_series_names(group, cache)?
        };
        let (first, second) = match &self.objective.kind {
            ObjectiveKind::Latency { .. } => (counter(traffic, good), counter(traffic, traffic)),
            ObjectiveKind::Availability { events, total, .. } => {
                let inner_is_errors = matches!(events, AvailabilityEvents::Errors(_));
                let inner = events.counter().rate_of()?;
                let total = total.rate_of()?;
                let (inner_before, inner_after, other_before, other_after) = if inner_is_errors {
                    (Decimal::ZERO, bad, traffic, good)
                } else {
                    (traffic, good, Decimal::ZERO, bad)
                };
                if inner.metric == total.metric {
                    (
                        counter(inner_before, inner_after),
                        counter(other_before, other_after),
                    )
                } else {
                    (
                        counter(inner_before, inner_after),
                        counter(traffic, traffic),
                    )
                }
            }
            _ => return None,
        };
        Some(vec![(first_series, first), (second_series, second)])
    }

    /// The two input series of a counter objective, the same in every scenario: for
    /// latency the threshold bucket and `+Inf`; for availability the inner (errors or
    /// good) series, then the total (or, on one metric, the series that is total but
    /// not inner). `None` when no such series exist or one would also match another
    /// objective of the service.
    fn counter_series_names(&self, cache: &mut ScenarioCache) -> Option<[String; 2]> {
        if let Some(known) = &*self.counter_series.borrow() {
            return known.clone();
        }
        let names = self.find_counter_series_names(&BTreeMap::new(), cache);
        *self.counter_series.borrow_mut() = Some(names.clone());
        names
    }

    fn find_counter_series_names(
        &self,
        group: &BTreeMap<String, String>,
        cache: &mut ScenarioCache,
    ) -> Option<[String; 2]> {
        let [(first_metric, mut first), (second_metric, mut second)] = match &self.objective.kind {
            ObjectiveKind::Latency {
                histogram,
                threshold,
                ..
            } => {
                let labels = self.solver.solve(&[histogram], cache)?;
                let mut fast = labels.clone();
                fast.insert("le".into(), threshold.as_seconds().to_string());
                let mut all = labels;
                all.insert("le".into(), "+Inf".into());
                [(&histogram.metric, fast), (&histogram.metric, all)]
            }
            ObjectiveKind::Availability { events, total, .. } => {
                // An expression SLI other than a sum of one counter's rate has
                // a value only PromQL can tell: no series are modelled for it.
                let inner = events.counter().rate_of()?;
                let total = total.rate_of()?;
                if inner.metric == total.metric {
                    let inner_labels = self.solver.solve(&[inner, total], cache)?;
                    let other_labels = self.solver.solve_violating(total, inner, cache)?;
                    [(&inner.metric, inner_labels), (&total.metric, other_labels)]
                } else {
                    let inner_labels = self.solver.solve(&[inner], cache)?;
                    let total_labels = self.solver.solve(&[total], cache)?;
                    // The total series must not be counted as inner events too.
                    if self
                        .solver
                        .matches_selector(inner, &total.metric, &total_labels, cache)
                    {
                        return None;
                    }
                    [(&inner.metric, inner_labels), (&total.metric, total_labels)]
                }
            }
            _ => return None,
        };
        first.extend(group.clone());
        second.extend(group.clone());
        let isolated = self.solver.matches_no_other(first_metric, &first, cache)
            && self.solver.matches_no_other(second_metric, &second, cache);
        isolated.then(|| {
            [
                series_text(first_metric, &first),
                series_text(second_metric, &second),
            ]
        })
    }
}

/// Whether `humanizePercentage` writes every ratio within [`STABLE_RENDERING`]
/// of `ratio` alike: its percentage, at the 4 significant digits of `%.4g`,
/// is clear of a rounding boundary by more than that (a quick test that
/// spares formatting the neighbours, conservative by a factor of 10).
fn percentage_renders_stably(ratio: f64) -> bool {
    let percent = (ratio * 100.0).abs();
    if percent == 0.0 || !percent.is_finite() {
        return percent == 0.0;
    }
    let scale = 10f64.powf(percent.log10().floor() - 3.0);
    let digits = percent / scale;
    let from_boundary = (digits - digits.floor() - 0.5).abs();
    from_boundary > 10.0 * STABLE_RENDERING * digits
}

fn decimal((mantissa, scale): (i128, u32)) -> Decimal {
    Decimal::new(mantissa, scale).unwrap_or(Decimal::ONE)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::prometheus::model::humanize::humanize_percentage;

    /// The quick test against formatting the neighbours, on ratios at, near and
    /// far from the boundaries of 4 significant digits.
    #[test]
    fn a_stable_percentage_formats_like_its_neighbours() {
        let mut stable = 0;
        for ratio in [
            0.018,
            0.0123455,
            0.012345,
            0.0123445,
            0.99995,
            0.999949,
            1.0,
            0.1,
            2.5e-7,
            0.00012345,
            -1.1835,
            -1.18345,
            13.254999999,
            0.9408,
            0.3125,
            0.002016,
        ] {
            if percentage_renders_stably(ratio) {
                stable += 1;
                let text = humanize_percentage(ratio);
                for factor in [1.0 - STABLE_RENDERING, 1.0 + STABLE_RENDERING] {
                    assert_eq!(humanize_percentage(ratio * factor), text, "{ratio}");
                }
            }
        }
        assert!(stable >= 10, "{stable}");
        assert!(!percentage_renders_stably(0.012345));
    }
}
