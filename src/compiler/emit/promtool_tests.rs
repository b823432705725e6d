//! promtool unit tests generated for every service: each page alert fires under a
//! burn above its factor and stays quiet below it, the `min_traffic` guard keeps
//! pages quiet on thin traffic, threshold and forecast alerts fire when they
//! should (and the forecast stops once the breach is there), and every
//! objective's absent-metrics alert fires when its metrics are missing.
//!
//! How expectations are computed: input series are built from the objective's
//! own selectors (label values chosen to satisfy, or violate, its matchers), with
//! a baseline of healthy traffic and a burn that starts at `T0` and goes on. A
//! small model gives each window's error ratio as a function of time (the share of
//! the window, clipped to the data, that lies after `T0`, times the burn level),
//! shifted by two sample intervals either way to cover Prometheus' extrapolation;
//! an alert is expected firing only when the model says so with a margin, quiet
//! only when it is quiet with a margin, and a check time where any alert of the
//! objective is borderline is never used. Ratios only grow while a burn goes on,
//! so a condition that holds at `t - for` holds until `t`.
//!
//! Invariants: every expected label and annotation is the unescaped value the
//! rule produces; a scenario whose series would also match another objective of
//! the service is left out (W0506), so one objective's test never depends on
//! another's rules.

use std::cell::RefCell;
use std::collections::{BTreeMap, HashMap};

use regex::Regex;
use regex_syntax::hir::{Class, Hir, HirKind};

use crate::base::diagnostic::Diagnostic;
use crate::compiler::emit::naming;
use crate::compiler::emit::prometheus::{absent_selectors, AlertRule, Rule, RuleGroup, ABSENT_FOR};
use crate::compiler::emit::yaml::direct;
use crate::compiler::ir::{
    AvailabilityEvents, Bound, Budget, BurnWindow, Decimal, Duration, LabelMatcher, MatchOp,
    Objective, ObjectiveKind, Selector, Service, Tier,
};

/// Burn levels of the scenarios, relative to a window's threshold.
const FIRE_MULTIPLIER: (i128, u32) = (125, 2);
const QUIET_MULTIPLIER: (i128, u32) = (8, 1);
/// Relative margin the model keeps from a threshold before it predicts anything.
const RATIO_MARGIN: f64 = 0.03;
/// Events per sample interval in the burn scenarios (raised to clear `min_traffic`).
const BASE_TRAFFIC: i64 = 1000;

/// Compiled regular expressions, shared by every objective of a build.
#[derive(Default)]
pub struct RegexCache {
    compiled: HashMap<String, Option<Regex>>,
    /// [`shortest_match`] of each pattern: services repeat the same few patterns.
    shortest: HashMap<String, Option<String>>,
}

impl RegexCache {
    fn full_match(&mut self, pattern: &str, value: &str) -> Option<bool> {
        if !self.compiled.contains_key(pattern) {
            let regex = Regex::new(&format!("^(?:{pattern})$")).ok();
            self.compiled.insert(pattern.to_owned(), regex);
        }
        let regex = self.compiled.get(pattern)?.as_ref()?;
        Some(regex.is_match(value))
    }

    fn shortest_match(&mut self, pattern: &str) -> Option<String> {
        if let Some(known) = self.shortest.get(pattern) {
            return known.clone();
        }
        let found = shortest_match(pattern);
        self.shortest.insert(pattern.to_owned(), found.clone());
        found
    }
}

struct TestCase {
    name: String,
    series: Vec<(String, String)>,
    checks: Vec<Check>,
}

struct Check {
    eval_time: i64,
    alertname: String,
    expected: Vec<ExpectedAlert>,
}

#[derive(Clone, PartialEq, Eq, PartialOrd, Ord)]
struct ExpectedAlert {
    labels: BTreeMap<String, String>,
    annotations: Vec<(String, String)>,
}

/// The test file of one service (`None` when it has nothing to test) and a
/// W0506 for each objective whose scenarios had to be left out.
pub fn service_tests(
    service: &Service,
    groups: &[RuleGroup],
    cache: &mut RegexCache,
) -> (Option<String>, Vec<Diagnostic>) {
    let interval = sample_interval(service);
    let mut cases = Vec::new();
    let mut diagnostics = Vec::new();
    for (index, objective) in service.objectives.iter().enumerate() {
        let alerts = objective_alerts(service, objective, groups);
        let others: Vec<&Selector> = service
            .objectives
            .iter()
            .enumerate()
            .filter(|(other, _)| *other != index)
            .flat_map(|(_, other)| selectors(&other.kind))
            .collect();
        let generator = Generator {
            service,
            objective,
            alerts: &alerts,
            interval: interval.millis,
            others,
            memo: RefCell::default(),
        };
        match generator.cases(cache) {
            Some(found) => cases.extend(found),
            None => diagnostics.push(
                Diagnostic::warning(
                    "W0506",
                    "no unit test generated for this objective",
                    objective.name_span,
                    "no input series could be built for these selectors",
                )
                .with_help("simpler matchers (`=`, or a regex with a literal alternative) let mlslo test this objective's alerts"),
            ),
        }
    }
    if let Some(absent) = absent_case(service, groups, interval.millis) {
        cases.push(absent);
    }
    if cases.is_empty() {
        return (None, diagnostics);
    }
    let text = tests_text(
        &naming::rule_file_from_tests(&service.name),
        interval,
        &cases,
    );
    (Some(text), diagnostics)
}

/// The test file's document (after its header comments).
fn tests_text(rule_file: &str, interval: Duration, cases: &[TestCase]) -> String {
    let interval_text = interval.to_string();
    let mut out = String::with_capacity(cases.len() * 2048);
    direct::key(&mut out, 0, "rule_files", false);
    direct::seq_value(&mut out, false);
    direct::str_item(&mut out, 0, rule_file);
    direct::key(&mut out, 0, "evaluation_interval", false);
    direct::str_value(&mut out, 0, &interval_text);
    direct::key(&mut out, 0, "tests", false);
    if !direct::seq_value(&mut out, cases.is_empty()) {
        return out;
    }
    for case in cases {
        direct::key(&mut out, 2, "name", true);
        direct::str_value(&mut out, 2, &case.name);
        direct::key(&mut out, 2, "interval", false);
        direct::str_value(&mut out, 2, &interval_text);
        direct::key(&mut out, 2, "input_series", false);
        if direct::seq_value(&mut out, case.series.is_empty()) {
            for (series, values) in &case.series {
                direct::key(&mut out, 4, "series", true);
                direct::str_value(&mut out, 4, series);
                direct::key(&mut out, 4, "values", false);
                direct::str_value(&mut out, 4, values);
            }
        }
        direct::key(&mut out, 2, "alert_rule_test", false);
        if !direct::seq_value(&mut out, case.checks.is_empty()) {
            continue;
        }
        for check in &case.checks {
            direct::key(&mut out, 4, "eval_time", true);
            direct::str_value(
                &mut out,
                4,
                &Duration::from_millis(check.eval_time).to_string(),
            );
            direct::key(&mut out, 4, "alertname", false);
            direct::str_value(&mut out, 4, &check.alertname);
            direct::key(&mut out, 4, "exp_alerts", false);
            if !direct::seq_value(&mut out, check.expected.is_empty()) {
                continue;
            }
            for alert in &check.expected {
                direct::key(&mut out, 6, "exp_labels", true);
                direct::string_map_value(&mut out, 6, alert.labels.iter());
                direct::key(&mut out, 6, "exp_annotations", false);
                direct::string_map_value(
                    &mut out,
                    6,
                    alert.annotations.iter().map(|(key, value)| (key, value)),
                );
            }
        }
    }
    out
}

/// One minute, or a fifth of the shortest window any rule of the service uses.
fn sample_interval(service: &Service) -> Duration {
    let mut shortest = Duration::minutes(5);
    for objective in &service.objectives {
        if let Some(budget) = objective.kind.budget() {
            for (_, burn) in budget.burn_windows() {
                shortest = shortest.min(burn.short);
            }
            if let Some(min_traffic) = &budget.min_traffic {
                shortest = shortest.min(min_traffic.window);
            }
        }
        if let ObjectiveKind::Accuracy { slice, .. } = &objective.kind {
            shortest = shortest.min(*slice);
        }
    }
    let millis = (shortest.millis / 5 / 1000 * 1000).max(1000);
    Duration::from_millis(millis)
}

fn selectors(kind: &ObjectiveKind) -> Vec<&Selector> {
    match kind {
        ObjectiveKind::Latency { histogram, .. } => vec![histogram],
        ObjectiveKind::Availability { events, total, .. } => match events {
            AvailabilityEvents::Errors(inner) | AvailabilityEvents::Good(inner) => {
                vec![inner, total]
            }
        },
        ObjectiveKind::Accuracy { metric, .. } => vec![metric],
        ObjectiveKind::Drift { score, .. } => vec![score],
        ObjectiveKind::Gpu {
            utilization,
            memory,
            ..
        } => {
            let mut all = vec![utilization];
            if let Some(memory) = memory {
                all.push(&memory.used);
                all.push(&memory.free);
            }
            all
        }
        ObjectiveKind::Freshness { last_success, .. } => vec![last_success],
        ObjectiveKind::Logs { .. } => Vec::new(),
    }
}

fn objective_alerts<'a>(
    service: &Service,
    objective: &Objective,
    groups: &'a [RuleGroup],
) -> Vec<&'a AlertRule> {
    let name = naming::group_objective(&service.name, &objective.name);
    groups
        .iter()
        .filter(|group| group.name == name)
        .flat_map(|group| group.rules.iter())
        .filter_map(|rule| match rule {
            Rule::Alerting(alert) => Some(alert),
            Rule::Recording { .. } => None,
        })
        .collect()
}

/// The absent-metrics test of a service: no series at all, every objective's
/// absent alert fires once `for` has passed.
fn absent_case(service: &Service, groups: &[RuleGroup], interval: i64) -> Option<TestCase> {
    let mut expected = Vec::new();
    for objective in &service.objectives {
        for alert in objective_alerts(service, objective, groups) {
            if alert.alert != naming::ALERT_METRIC_ABSENT {
                continue;
            }
            let mut seen: Vec<BTreeMap<String, String>> = Vec::new();
            for selector in selectors(&objective.kind) {
                if !absent_selectors(&objective.kind).contains(&selector.to_promql()) {
                    continue;
                }
                // absent() keeps the selector's equality matchers as labels; `or`
                // drops a later result with the same labels.
                let labels = selector.equality_labels();
                if seen.contains(&labels) {
                    continue;
                }
                seen.push(labels.clone());
                let mut all = labels;
                all.extend(alert.labels.clone());
                expected.push(ExpectedAlert {
                    labels: all,
                    annotations: alert.annotations.clone(),
                });
            }
        }
    }
    if expected.is_empty() {
        return None;
    }
    expected.sort();
    expected.dedup();
    Some(TestCase {
        name: format!("{}: absent metrics alert after {ABSENT_FOR}", service.name),
        series: Vec::new(),
        checks: vec![Check {
            eval_time: ABSENT_FOR.millis + interval,
            alertname: naming::ALERT_METRIC_ABSENT.to_owned(),
            expected,
        }],
    })
}

struct Generator<'a> {
    service: &'a Service,
    objective: &'a Objective,
    alerts: &'a [&'a AlertRule],
    interval: i64,
    others: Vec<&'a Selector>,
    /// The label solutions and isolation verdicts already found for this objective:
    /// every test case of it asks the same questions with other sample values.
    memo: RefCell<GeneratorMemo>,
}

/// Keyed by the addresses of the selectors asked about (they live as long as the
/// generator) or by a series' text.
#[derive(Default)]
struct GeneratorMemo {
    solutions: HashMap<SolveQuestion, Option<BTreeMap<String, String>>>,
    isolated: HashMap<String, bool>,
    /// [`Generator::counter_series_names`], once found.
    counter_series: Option<Option<[String; 2]>>,
}

/// Whether the solution must violate the second selector, and the selectors.
type SolveQuestion = (bool, Vec<usize>);

fn selector_address(selector: &Selector) -> usize {
    selector as *const Selector as usize
}

/// A step burn: the bad fraction is `level` from `t0` on (seconds), 0 before.
#[derive(Clone, Copy)]
struct Burn {
    t0: f64,
    level: f64,
}

#[derive(Clone, Copy, PartialEq, Debug)]
enum State {
    Firing,
    Quiet,
    Unknown,
}

/// One `ErrorBudgetBurn` rule with the burn windows it covers.
struct BurnRule<'a> {
    rule: &'a AlertRule,
    tier: Tier,
    windows: Vec<BurnWindow>,
    for_: Duration,
}

/// Events-per-window guard of page rules: (count, window seconds, events per second).
#[derive(Clone, Copy)]
struct Guard {
    count: f64,
    window: f64,
    rate: f64,
}

impl Generator<'_> {
    fn seconds(&self, millis: i64) -> f64 {
        millis as f64 / 1000.0
    }

    fn cases(&self, cache: &mut RegexCache) -> Option<Vec<TestCase>> {
        match &self.objective.kind {
            ObjectiveKind::Latency { budget, .. } | ObjectiveKind::Availability { budget, .. } => {
                self.budget_cases(budget, cache)
            }
            ObjectiveKind::Accuracy { budget, .. } => self.accuracy_cases(budget, cache),
            ObjectiveKind::Drift { .. } | ObjectiveKind::Gpu { .. } => self.threshold_cases(cache),
            ObjectiveKind::Freshness { .. } => self.freshness_cases(cache),
            ObjectiveKind::Logs { .. } => Some(Vec::new()),
        }
    }

    fn burn_rules(&self, budget: &Budget) -> Vec<BurnRule<'_>> {
        let burn_alerts: Vec<&AlertRule> = self
            .alerts
            .iter()
            .copied()
            .filter(|alert| alert.alert == naming::ALERT_BUDGET_BURN)
            .collect();
        let mut rules = Vec::new();
        let mut next = burn_alerts.into_iter();
        for tier in [Tier::Page, Tier::Ticket] {
            let windows = match tier {
                Tier::Page => &budget.page,
                Tier::Ticket => &budget.ticket,
            };
            let mut by_for: BTreeMap<Duration, Vec<BurnWindow>> = BTreeMap::new();
            for burn in windows {
                by_for.entry(burn.for_).or_default().push(*burn);
            }
            for (for_, windows) in by_for {
                if let Some(rule) = next.next() {
                    rules.push(BurnRule {
                        rule,
                        tier,
                        windows,
                        for_,
                    });
                }
            }
        }
        rules
    }

    /// The ratio over `window` seconds at `t` for a step burn starting at `t0`.
    fn ratio(t0: f64, level: f64, window: f64, t: f64) -> f64 {
        let start = (t - window).max(0.0);
        let length = t - start;
        if length <= 0.0 {
            return 0.0;
        }
        level * (t - t0.max(start)).max(0.0) / length
    }

    fn window_state(&self, burn: Burn, window: &BurnWindow, threshold: f64, t: f64) -> State {
        let delta = 2.0 * self.seconds(self.interval);
        let short = self.seconds(window.short.millis);
        let long = self.seconds(window.long.millis);
        let high = |length| Self::ratio(burn.t0 - delta, burn.level, length, t);
        let low = |length| Self::ratio(burn.t0 + delta, burn.level, length, t);
        if high(short) < threshold * (1.0 - RATIO_MARGIN)
            || high(long) < threshold * (1.0 - RATIO_MARGIN)
        {
            State::Quiet
        } else if t >= 3.0 * self.seconds(self.interval)
            && low(short) > threshold * (1.0 + RATIO_MARGIN)
            && low(long) > threshold * (1.0 + RATIO_MARGIN)
        {
            State::Firing
        } else {
            State::Unknown
        }
    }

    /// A time (seconds) before which [`Self::window_state`] is never `Firing` for
    /// this burn: a window's ratio is at most `level * (x - t0') / min(x, long)`,
    /// so it clears the margin only once `x - t0'` is a share of the window, and
    /// never when the margin is above `level`.
    fn window_firing_bound(&self, burn: Burn, window: &BurnWindow, threshold: f64) -> f64 {
        let interval = self.seconds(self.interval);
        if threshold * (1.0 + RATIO_MARGIN) >= burn.level {
            return f64::INFINITY;
        }
        let burn_start = burn.t0 + 2.0 * interval;
        let longest = self.seconds(window.short.millis.max(window.long.millis));
        let needed =
            threshold * (1.0 + RATIO_MARGIN) * longest.min(burn_start.max(0.0)) / burn.level;
        (burn_start + needed).max(3.0 * interval)
    }

    /// A step (milliseconds) before which `rule` is never `Firing` for this burn.
    fn rule_firing_bound(&self, rule: &BurnRule<'_>, thresholds: &[f64], burn: Burn) -> i64 {
        let earliest = rule
            .windows
            .iter()
            .zip(thresholds)
            .map(|(window, threshold)| self.window_firing_bound(burn, window, *threshold))
            .fold(f64::INFINITY, f64::min);
        if !earliest.is_finite() {
            return i64::MAX;
        }
        (earliest * 1000.0) as i64 + rule.for_.millis + self.interval
    }

    fn guard_state(&self, guard: Option<Guard>, t: f64) -> State {
        let Some(guard) = guard else {
            return State::Firing;
        };
        let full = guard.rate * guard.window;
        if full * 2.0 < guard.count {
            State::Quiet
        } else if t >= guard.window + 2.0 * self.seconds(self.interval) && full * 0.5 > guard.count
        {
            State::Firing
        } else {
            State::Unknown
        }
    }

    fn rule_state(
        &self,
        rule: &BurnRule<'_>,
        thresholds: &[f64],
        burn: Burn,
        guard: Option<Guard>,
        t: i64,
    ) -> State {
        let guard = if rule.tier == Tier::Page { guard } else { None };
        let interval = self.interval;
        let firing_from = self.seconds(t - rule.for_.millis - interval);
        let quiet_at = self.seconds(t - (rule.for_.millis - interval).max(0));
        if firing_from < 0.0 {
            return State::Unknown;
        }
        let states = |at: f64| {
            rule.windows
                .iter()
                .zip(thresholds)
                .map(move |(window, threshold)| self.window_state(burn, window, *threshold, at))
        };
        let guard_now = self.guard_state(guard, quiet_at);
        if guard_now == State::Quiet || states(quiet_at).all(|state| state == State::Quiet) {
            return State::Quiet;
        }
        if self.guard_state(guard, firing_from) == State::Firing
            && states(firing_from).any(|state| state == State::Firing)
        {
            return State::Firing;
        }
        State::Unknown
    }

    /// The first time from `start` (stepping by the interval, up to `limit`) where
    /// every burn rule is predictable and `accept` holds; with the firing alerts.
    /// When `accept` needs one of the rules `must_fire` picks to be firing, the
    /// steps before any of them can fire are skipped (most of a slow window's wait).
    fn find_check(
        &self,
        budget: &Budget,
        burn: Burn,
        guard: Option<Guard>,
        (start, limit): (i64, i64),
        must_fire: Option<&dyn Fn(&BurnRule<'_>) -> bool>,
        accept: impl Fn(&[(&BurnRule<'_>, State)]) -> bool,
    ) -> Option<Check> {
        let rules = self.burn_rules(budget);
        // Each window's error-ratio threshold, converted once rather than at every step.
        let budget_fraction = budget.error_budget.to_f64();
        let thresholds: Vec<Vec<f64>> = rules
            .iter()
            .map(|rule| {
                rule.windows
                    .iter()
                    .map(|window| window.factor.to_f64() * budget_fraction)
                    .collect()
            })
            .collect();
        let mut start = start;
        if let Some(must_fire) = must_fire {
            let earliest = rules
                .iter()
                .zip(&thresholds)
                .filter(|(rule, _)| must_fire(rule))
                .map(|(rule, thresholds)| self.rule_firing_bound(rule, thresholds, burn))
                .min()
                .unwrap_or(i64::MAX);
            // One interval early, so float rounding in the bound cannot skip a step.
            start = start.max(earliest.saturating_sub(self.interval));
        }
        let mut t = start.div_euclid(self.interval) * self.interval;
        // One buffer for every step: this loop runs hundreds of times per scenario.
        let mut states: Vec<(&BurnRule<'_>, State)> = Vec::with_capacity(rules.len());
        while t <= limit {
            states.clear();
            for (rule, thresholds) in rules.iter().zip(&thresholds) {
                let state = self.rule_state(rule, thresholds, burn, guard, t);
                if state == State::Unknown {
                    break;
                }
                states.push((rule, state));
            }
            if states.len() == rules.len() && accept(&states) {
                let mut expected: Vec<ExpectedAlert> = states
                    .iter()
                    .filter(|(_, state)| *state == State::Firing)
                    .map(|(rule, _)| ExpectedAlert {
                        labels: rule.rule.labels.clone(),
                        annotations: rule.rule.annotations.clone(),
                    })
                    .collect();
                expected.sort();
                expected.dedup();
                return Some(Check {
                    eval_time: t,
                    alertname: naming::ALERT_BUDGET_BURN.to_owned(),
                    expected,
                });
            }
            t += self.interval;
        }
        None
    }

    fn quiet_before(&self, t0_steps: i64) -> Check {
        Check {
            eval_time: (t0_steps - 1).max(0) * self.interval,
            alertname: naming::ALERT_BUDGET_BURN.to_owned(),
            expected: Vec::new(),
        }
    }

    fn budget_cases(&self, budget: &Budget, cache: &mut RegexCache) -> Option<Vec<TestCase>> {
        let mut cases = Vec::new();
        if !budget.alerts_enabled || budget.page.is_empty() {
            return Some(cases);
        }
        let interval_seconds = self.seconds(self.interval);
        // Enough traffic to clear min_traffic four times over.
        let mut traffic = Decimal::from_integer(BASE_TRAFFIC);
        if let Some(min_traffic) = &budget.min_traffic {
            let needed = min_traffic.count.to_f64() * 4.0 * self.interval as f64
                / min_traffic.window.millis as f64;
            if needed > BASE_TRAFFIC as f64 {
                traffic = Decimal::from_integer(needed.ceil() as i64);
            }
        }
        let guard = |traffic: Decimal| {
            budget.min_traffic.map(|min_traffic| Guard {
                count: min_traffic.count.to_f64(),
                window: min_traffic.window.millis as f64 / 1000.0,
                rate: traffic.to_f64() / interval_seconds,
            })
        };
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
                t0: self.seconds(t0),
                level: level.to_f64(),
            };
            let limit = t0 + 3 * window.long.millis + window.for_.millis + 10 * self.interval;
            let own_rule = |states: &[(&BurnRule<'_>, State)]| {
                states
                    .iter()
                    .any(|(rule, state)| *state == State::Firing && rule.windows.contains(window))
            };
            let covers_window = |rule: &BurnRule<'_>| rule.windows.contains(window);
            if let Some(check) = self.find_check(
                budget,
                burn,
                guard(traffic),
                (t0, limit),
                Some(&covers_window),
                own_rule,
            ) {
                let steps = check.eval_time / self.interval + 1;
                let series = self.counter_series(t0_steps, steps, traffic, level, cache)?;
                cases.push(TestCase {
                    name: format!(
                        "{}/{}: {label} fires at {} error ratio",
                        self.service.name, self.objective.name, level
                    ),
                    series,
                    checks: vec![self.quiet_before(t0_steps), check],
                });
            }
            // Quiet below the factor (when no other page window fires first).
            let level = threshold.checked_mul(decimal(QUIET_MULTIPLIER))?;
            let burn = Burn {
                t0: self.seconds(t0),
                level: level.to_f64(),
            };
            let start = t0 + window.long.millis + window.for_.millis + 3 * self.interval;
            let pages_quiet = |states: &[(&BurnRule<'_>, State)]| {
                states
                    .iter()
                    .all(|(rule, state)| rule.tier != Tier::Page || *state == State::Quiet)
            };
            if let Some(check) = self.find_check(
                budget,
                burn,
                guard(traffic),
                (start, start + 10 * self.interval),
                None,
                pages_quiet,
            ) {
                let steps = check.eval_time / self.interval + 1;
                let series = self.counter_series(t0_steps, steps, traffic, level, cache)?;
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
        // Thin traffic: every request failing, still no page.
        if let Some(min_traffic) = &budget.min_traffic {
            let thin = min_traffic
                .count
                .checked_mul(Decimal::from_integer(self.interval))?
                .div_rounded(Decimal::from_integer(min_traffic.window.millis * 4))?
                .0;
            if !thin.is_zero() {
                let t0_steps = longest_page / self.interval + 2;
                let t0 = t0_steps * self.interval;
                let burn = Burn {
                    t0: self.seconds(t0),
                    level: 1.0,
                };
                let longest_for = budget.page.iter().map(|burn| burn.for_.millis).max()?;
                let start = t0 + longest_page + longest_for + 3 * self.interval;
                let pages_quiet = |states: &[(&BurnRule<'_>, State)]| {
                    states
                        .iter()
                        .all(|(rule, state)| rule.tier != Tier::Page || *state == State::Quiet)
                };
                if let Some(check) = self.find_check(
                    budget,
                    burn,
                    guard(thin),
                    (start, start + 10 * self.interval),
                    None,
                    pages_quiet,
                ) {
                    let steps = check.eval_time / self.interval + 1;
                    let series = self.counter_series(t0_steps, steps, thin, Decimal::ONE, cache)?;
                    cases.push(TestCase {
                        name: format!(
                            "{}/{}: no page below min_traffic even at 100% errors",
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

    fn accuracy_cases(&self, budget: &Budget, cache: &mut RegexCache) -> Option<Vec<TestCase>> {
        let ObjectiveKind::Accuracy { metric, bound, .. } = &self.objective.kind else {
            return Some(Vec::new());
        };
        if !budget.alerts_enabled || budget.page.is_empty() {
            return Some(Vec::new());
        }
        let labels = self.solve(&[metric], cache)?;
        let longest_page = budget.page.iter().map(|burn| burn.long.millis).max()?;
        let t0_steps = longest_page / self.interval + 2;
        let t0 = t0_steps * self.interval;
        let burn = Burn {
            t0: self.seconds(t0),
            level: 1.0,
        };
        let limit = t0 + 3 * longest_page + 10 * self.interval;
        let page_fires = |states: &[(&BurnRule<'_>, State)]| {
            states
                .iter()
                .any(|(rule, state)| rule.tier == Tier::Page && *state == State::Firing)
        };
        let is_page = |rule: &BurnRule<'_>| rule.tier == Tier::Page;
        let Some(check) =
            self.find_check(budget, burn, None, (t0, limit), Some(&is_page), page_fires)
        else {
            return Some(Vec::new());
        };
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
        let steps = check.eval_time / self.interval + 1;
        let values = format!("{good}x{} {bad}x{}", t0_steps - 1, steps - t0_steps);
        Some(vec![TestCase {
            name: format!(
                "{}/{}: every slice bad from {} on pages",
                self.service.name,
                self.objective.name,
                Duration::from_millis(t0)
            ),
            series: vec![(series_text(&metric.metric, &labels), values)],
            checks: vec![self.quiet_before(t0_steps), check],
        }])
    }

    /// Input series of a counter objective: `t0_steps` healthy steps of
    /// `traffic` events, then a burn at `level`, `steps` samples in all.
    fn counter_series(
        &self,
        t0_steps: i64,
        steps: i64,
        traffic: Decimal,
        level: Decimal,
        cache: &mut RegexCache,
    ) -> Option<Vec<(String, String)>> {
        let before = t0_steps;
        let after = (steps - t0_steps).max(1);
        let bad = traffic.checked_mul(level)?;
        let good = traffic.checked_sub(bad)?;
        let counter =
            |first: Decimal, second: Decimal| counter_values(&[(before, first), (after, second)]);
        let [first_series, second_series] = self.counter_series_names(cache)?;
        let (first, second) = match &self.objective.kind {
            ObjectiveKind::Latency { .. } => (counter(traffic, good), counter(traffic, traffic)),
            ObjectiveKind::Availability { events, total, .. } => {
                let (inner, inner_is_errors) = match events {
                    AvailabilityEvents::Errors(errors) => (errors, true),
                    AvailabilityEvents::Good(good) => (good, false),
                };
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
    fn counter_series_names(&self, cache: &mut RegexCache) -> Option<[String; 2]> {
        if let Some(known) = &self.memo.borrow().counter_series {
            return known.clone();
        }
        let names = self.find_counter_series_names(cache);
        self.memo.borrow_mut().counter_series = Some(names.clone());
        names
    }

    fn find_counter_series_names(&self, cache: &mut RegexCache) -> Option<[String; 2]> {
        let [(first_metric, first), (second_metric, second)] = match &self.objective.kind {
            ObjectiveKind::Latency {
                histogram,
                threshold,
                ..
            } => {
                let labels = self.solve(&[histogram], cache)?;
                let mut fast = labels.clone();
                fast.insert("le".into(), threshold.as_seconds().to_string());
                let mut all = labels;
                all.insert("le".into(), "+Inf".into());
                [(&histogram.metric, fast), (&histogram.metric, all)]
            }
            ObjectiveKind::Availability { events, total, .. } => {
                let inner = match events {
                    AvailabilityEvents::Errors(inner) | AvailabilityEvents::Good(inner) => inner,
                };
                if inner.metric == total.metric {
                    let inner_labels = self.solve(&[inner, total], cache)?;
                    let other_labels = self.solve_violating(total, inner, cache)?;
                    [(&inner.metric, inner_labels), (&total.metric, other_labels)]
                } else {
                    let inner_labels = self.solve(&[inner], cache)?;
                    let total_labels = self.solve(&[total], cache)?;
                    // The total series must not be counted as inner events too.
                    if self.matches_selector(inner, &total.metric, &total_labels, cache) {
                        return None;
                    }
                    [(&inner.metric, inner_labels), (&total.metric, total_labels)]
                }
            }
            _ => return None,
        };
        let isolated = self.matches_no_other(first_metric, &first, cache)
            && self.matches_no_other(second_metric, &second, cache);
        isolated.then(|| {
            [
                series_text(first_metric, &first),
                series_text(second_metric, &second),
            ]
        })
    }

    fn threshold_cases(&self, cache: &mut RegexCache) -> Option<Vec<TestCase>> {
        let mut cases = Vec::new();
        let find = |name: &str| {
            self.alerts
                .iter()
                .find(|alert| alert.alert == name)
                .copied()
        };
        match &self.objective.kind {
            ObjectiveKind::Drift {
                score,
                max,
                for_,
                forecast,
            } => {
                let labels = self.solve(&[score], cache)?;
                let series = series_text(&score.metric, &labels);
                let high = find(naming::ALERT_DRIFT_HIGH)?;
                let above = max.checked_add(Decimal::ONE)?;
                let eval = for_.millis + 2 * self.interval;
                let steps = eval / self.interval;
                let mut checks = vec![self.expect(high, &labels, eval)];
                let forecast_alert = find(naming::ALERT_DRIFT_FORECAST);
                if let Some(alert) = forecast_alert {
                    checks.push(self.expect_none(alert, eval));
                }
                let case = TestCase {
                    name: format!(
                        "{}/{}: drift above {max} fires after {for_}, the forecast stays quiet",
                        self.service.name, self.objective.name
                    ),
                    series: vec![(series.clone(), format!("{above}x{steps}"))],
                    checks,
                };
                if !self.isolated(&case.series, cache) {
                    return None;
                }
                cases.push(case);
                if let (Some(forecast), Some(alert)) = (forecast, forecast_alert) {
                    if let Some((values, check_time)) = self.ramp(
                        max.checked_sub(Decimal::ONE)?,
                        *max,
                        forecast.horizon,
                        *for_,
                    ) {
                        cases.push(TestCase {
                            name: format!(
                                "{}/{}: a rising drift score is forecast before it crosses {max}",
                                self.service.name, self.objective.name
                            ),
                            series: vec![(series, values)],
                            checks: vec![
                                self.expect(alert, &labels, check_time),
                                self.expect_none(high, check_time),
                            ],
                        });
                    }
                }
            }
            ObjectiveKind::Gpu {
                utilization,
                max_utilization,
                memory,
                for_,
                exhaustion,
            } => {
                let high = find(naming::ALERT_GPU_UTILIZATION_HIGH)?;
                let labels = self.solve(&[utilization], cache)?;
                let util_series = series_text(&utilization.metric, &labels);
                let eval = for_.millis + 2 * self.interval;
                let steps = eval / self.interval;
                if *max_utilization < Decimal::HUNDRED {
                    let above = max_utilization
                        .checked_add(Decimal::HUNDRED)?
                        .div_rounded(Decimal::from_integer(2))?
                        .0;
                    let series = vec![(util_series.clone(), format!("{above}x{steps}"))];
                    if !self.isolated(&series, cache) {
                        return None;
                    }
                    cases.push(TestCase {
                        name: format!(
                            "{}/{}: utilization above {max_utilization}% fires after {for_}",
                            self.service.name, self.objective.name
                        ),
                        series,
                        checks: vec![self.expect(high, &labels, eval)],
                    });
                }
                if let (Some(memory), Some(forecast), Some(alert)) = (
                    memory,
                    exhaustion,
                    find(naming::ALERT_GPU_MEMORY_EXHAUSTION),
                ) {
                    let memory_labels = self.solve(&[&memory.used, &memory.free], cache)?;
                    let capacity = Decimal::from_integer(81920);
                    let start = Decimal::from_integer(40960);
                    if let Some((used_values, check_time)) =
                        self.ramp(start, capacity, forecast.horizon, *for_)
                    {
                        let steps = check_time / self.interval;
                        // free = capacity - used: the same ramp going down.
                        let slope =
                            ramp_slope(start, capacity, forecast.horizon, *for_, self.interval)?;
                        let free_values =
                            format!("{}-{}x{steps}", capacity.checked_sub(start)?, slope);
                        let series = vec![
                            (
                                series_text(&memory.used.metric, &memory_labels),
                                used_values,
                            ),
                            (
                                series_text(&memory.free.metric, &memory_labels),
                                free_values,
                            ),
                        ];
                        if self.isolated(&series, cache) {
                            cases.push(TestCase {
                                name: format!(
                                    "{}/{}: GPU memory running out within {} is forecast",
                                    self.service.name, self.objective.name, forecast.horizon
                                ),
                                series,
                                checks: vec![self.expect(alert, &memory_labels, check_time)],
                            });
                        }
                    }
                }
            }
            _ => {}
        }
        Some(cases)
    }

    fn freshness_cases(&self, cache: &mut RegexCache) -> Option<Vec<TestCase>> {
        let ObjectiveKind::Freshness {
            last_success,
            max_age,
            for_,
            ..
        } = &self.objective.kind
        else {
            return Some(Vec::new());
        };
        let alert = self
            .alerts
            .iter()
            .find(|alert| alert.alert == naming::ALERT_FRESHNESS_STALE)
            .copied()?;
        let labels = self.solve(&[last_success], cache)?;
        let series = series_text(&last_success.metric, &labels);
        let eval = max_age.millis + for_.millis + 2 * self.interval;
        let steps = eval / self.interval;
        let stale = vec![(series.clone(), format!("0x{steps}"))];
        if !self.isolated(&stale, cache) {
            return None;
        }
        let step_seconds = Duration::from_millis(self.interval).as_seconds();
        Some(vec![
            TestCase {
                name: format!(
                    "{}/{}: no success for {max_age} fires",
                    self.service.name, self.objective.name
                ),
                series: stale,
                checks: vec![self.expect(alert, &labels, eval)],
            },
            TestCase {
                name: format!(
                    "{}/{}: a job succeeding every sample stays quiet",
                    self.service.name, self.objective.name
                ),
                series: vec![(series, format!("0+{step_seconds}x{steps}"))],
                checks: vec![self.expect_none(alert, eval)],
            },
        ])
    }

    /// A linear ramp from `start` that crosses `limit` later than the check time
    /// but whose `horizon` forecast is above `limit` for `for_` before it; the
    /// values and the check time, or `None` when the horizon leaves no room.
    fn ramp(
        &self,
        start: Decimal,
        limit: Decimal,
        horizon: Duration,
        for_: Duration,
    ) -> Option<(String, i64)> {
        let room = horizon.millis - for_.millis - self.interval;
        if room < 3 * self.interval {
            return None;
        }
        let check =
            (for_.millis + 4 * self.interval + room / 2).div_euclid(self.interval) * self.interval;
        let slope = ramp_slope(start, limit, horizon, for_, self.interval)?;
        Some((format!("{start}+{slope}x{}", check / self.interval), check))
    }

    fn expect(
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

    fn expect_none(&self, alert: &AlertRule, at: i64) -> Check {
        Check {
            eval_time: at,
            alertname: alert.alert.clone(),
            expected: Vec::new(),
        }
    }

    /// True when no series matches a selector of another objective.
    fn isolated(&self, series: &[(String, String)], cache: &mut RegexCache) -> bool {
        series.iter().all(|(text, _)| {
            if let Some(known) = self.memo.borrow().isolated.get(text) {
                return *known;
            }
            // Series texts are rebuilt from (metric, labels) to check them.
            let verdict = parse_series_text(text)
                .is_some_and(|(metric, labels)| self.matches_no_other(&metric, &labels, cache));
            self.memo
                .borrow_mut()
                .isolated
                .insert(text.clone(), verdict);
            verdict
        })
    }

    /// True when the series matches no selector of another objective.
    fn matches_no_other(
        &self,
        metric: &str,
        labels: &BTreeMap<String, String>,
        cache: &mut RegexCache,
    ) -> bool {
        !self
            .others
            .iter()
            .any(|selector| self.matches_selector(selector, metric, labels, cache))
    }

    fn matches_selector(
        &self,
        selector: &Selector,
        metric: &str,
        labels: &BTreeMap<String, String>,
        cache: &mut RegexCache,
    ) -> bool {
        selector.metric == metric
            && selector.matchers.iter().all(|matcher| {
                let value = labels.get(&matcher.label).map_or("", String::as_str);
                matcher_holds(matcher, value, cache) == Some(true)
            })
    }

    /// Label values satisfying every matcher of `selectors` (same series).
    fn solve(
        &self,
        selectors: &[&Selector],
        cache: &mut RegexCache,
    ) -> Option<BTreeMap<String, String>> {
        let key = (
            false,
            selectors.iter().map(|s| selector_address(s)).collect(),
        );
        if let Some(known) = self.memo.borrow().solutions.get(&key) {
            return known.clone();
        }
        let matchers: Vec<&LabelMatcher> = selectors
            .iter()
            .flat_map(|selector| selector.matchers.iter())
            .collect();
        let solution = solve_matchers(&matchers, None, cache);
        self.memo
            .borrow_mut()
            .solutions
            .insert(key, solution.clone());
        solution
    }

    /// Label values satisfying `total` but not `inner`.
    fn solve_violating(
        &self,
        total: &Selector,
        inner: &Selector,
        cache: &mut RegexCache,
    ) -> Option<BTreeMap<String, String>> {
        let key = (true, vec![selector_address(total), selector_address(inner)]);
        if let Some(known) = self.memo.borrow().solutions.get(&key) {
            return known.clone();
        }
        let matchers: Vec<&LabelMatcher> = total.matchers.iter().collect();
        let solution = inner
            .matchers
            .iter()
            .find_map(|violated| solve_matchers(&matchers, Some(violated), cache));
        self.memo
            .borrow_mut()
            .solutions
            .insert(key, solution.clone());
        solution
    }
}

fn decimal((mantissa, scale): (i128, u32)) -> Decimal {
    Decimal::new(mantissa, scale).unwrap_or(Decimal::ONE)
}

/// Per-sample increase of a ramp from `start` reaching `limit` at
/// `horizon + 3 × interval` (see [`Generator::ramp`]).
fn ramp_slope(
    start: Decimal,
    limit: Decimal,
    horizon: Duration,
    for_: Duration,
    interval: i64,
) -> Option<Decimal> {
    let _ = for_;
    let crossing_steps = horizon.millis / interval + 3;
    Some(
        limit
            .checked_sub(start)?
            .div_rounded(Decimal::from_integer(crossing_steps))?
            .0,
    )
}

/// Values in promtool's expanding notation: each segment adds `increase` per
/// sample for `samples` samples, starting from 0.
fn counter_values(segments: &[(i64, Decimal)]) -> String {
    let mut parts = Vec::new();
    let mut value = Decimal::ZERO;
    for (index, (samples, increase)) in segments.iter().enumerate() {
        if index == 0 {
            parts.push(format!("0+{increase}x{samples}"));
            value = increase
                .checked_mul(Decimal::from_integer(*samples))
                .unwrap_or(Decimal::ZERO);
        } else if *samples > 0 {
            let first = value.checked_add(*increase).unwrap_or(value);
            parts.push(format!("{first}+{increase}x{}", samples - 1));
            value = first
                .checked_add(
                    increase
                        .checked_mul(Decimal::from_integer(samples - 1))
                        .unwrap_or(Decimal::ZERO),
                )
                .unwrap_or(first);
        }
    }
    parts.join(" ")
}

fn series_text(metric: &str, labels: &BTreeMap<String, String>) -> String {
    Selector {
        metric: metric.to_owned(),
        matchers: labels
            .iter()
            .map(|(label, value)| LabelMatcher {
                label: label.clone(),
                op: MatchOp::Equal,
                value: value.clone(),
            })
            .collect(),
        span: crate::base::diagnostic::Span::default(),
    }
    .to_promql()
}

/// The inverse of [`series_text`] (values never contain unescaped quotes).
fn parse_series_text(text: &str) -> Option<(String, BTreeMap<String, String>)> {
    let parsed = crate::prometheus::promql::parse_promql(text).ok()?;
    let promql_parser::parser::Expr::VectorSelector(selector) = parsed else {
        return None;
    };
    let labels = selector
        .matchers
        .matchers
        .iter()
        .filter(|matcher| matcher.name != "__name__")
        .map(|matcher| (matcher.name.clone(), matcher.value.clone()))
        .collect();
    Some((selector.name.unwrap_or_default(), labels))
}

fn matcher_holds(matcher: &LabelMatcher, value: &str, cache: &mut RegexCache) -> Option<bool> {
    Some(match matcher.op {
        MatchOp::Equal => value == matcher.value,
        MatchOp::NotEqual => value != matcher.value,
        MatchOp::Regex => cache.full_match(&matcher.value, value)?,
        MatchOp::NotRegex => !cache.full_match(&matcher.value, value)?,
    })
}

/// Values for every label named by `matchers` satisfying all of them (and, for
/// `violated`'s label, not satisfying `violated`). An empty value means "label
/// absent", as in Prometheus.
fn solve_matchers(
    matchers: &[&LabelMatcher],
    violated: Option<&LabelMatcher>,
    cache: &mut RegexCache,
) -> Option<BTreeMap<String, String>> {
    let mut by_label: BTreeMap<&str, Vec<&LabelMatcher>> = BTreeMap::new();
    for matcher in matchers {
        by_label.entry(&matcher.label).or_default().push(matcher);
    }
    if let Some(violated) = violated {
        by_label.entry(&violated.label).or_default();
    }
    let mut labels = BTreeMap::new();
    for (label, constraints) in by_label {
        let mut candidates: Vec<String> = Vec::new();
        for matcher in constraints
            .iter()
            .chain(violated.iter().filter(|m| m.label == label))
        {
            match matcher.op {
                MatchOp::Equal => candidates.push(matcher.value.clone()),
                MatchOp::Regex => {
                    if let Some(value) = cache.shortest_match(&matcher.value) {
                        candidates.push(value);
                    }
                }
                _ => {}
            }
        }
        for default in ["", "mlslo", "200", "0", "x", "a", "1"] {
            candidates.push(default.to_owned());
        }
        let chosen = candidates.into_iter().find(|value| {
            constraints
                .iter()
                .all(|matcher| matcher_holds(matcher, value, cache) == Some(true))
                && violated
                    .filter(|violated| violated.label == label)
                    .is_none_or(|violated| matcher_holds(violated, value, cache) == Some(false))
        })?;
        if !chosen.is_empty() {
            labels.insert(label.to_owned(), chosen);
        }
    }
    Some(labels)
}

/// A short string matching `pattern` (first alternative, fewest repetitions,
/// an alphanumeric from each class when there is one).
fn shortest_match(pattern: &str) -> Option<String> {
    let hir = regex_syntax::Parser::new().parse(pattern).ok()?;
    let mut out = String::new();
    generate(&hir, &mut out, 0)?;
    Some(out)
}

fn generate(hir: &Hir, out: &mut String, depth: usize) -> Option<()> {
    if depth > 64 || out.len() > 256 {
        return None;
    }
    match hir.kind() {
        HirKind::Empty | HirKind::Look(_) => {}
        HirKind::Literal(literal) => out.push_str(std::str::from_utf8(&literal.0).ok()?),
        HirKind::Class(Class::Unicode(class)) => {
            let ranges = class.ranges();
            let character = ranges
                .iter()
                .find_map(|range| {
                    (range.start()..=range.end())
                        .take(256)
                        .find(char::is_ascii_alphanumeric)
                })
                .or_else(|| ranges.first().map(|range| range.start()))?;
            out.push(character);
        }
        HirKind::Class(Class::Bytes(class)) => {
            let byte = class.ranges().first()?.start();
            out.push(char::from(byte));
        }
        HirKind::Repetition(repetition) => {
            for _ in 0..repetition.min.min(64) {
                generate(&repetition.sub, out, depth + 1)?;
            }
        }
        HirKind::Capture(capture) => generate(&capture.sub, out, depth + 1)?,
        HirKind::Concat(parts) => {
            for part in parts {
                generate(part, out, depth + 1)?;
            }
        }
        HirKind::Alternation(alternatives) => generate(alternatives.first()?, out, depth + 1)?,
    }
    Some(())
}

#[cfg(test)]
mod unit_tests {
    use super::*;
    use crate::compiler::emit::yaml::{self, Node};

    /// The test file as a tree, written by the tree writer: the oracle for the
    /// direct writer's layout and quoting.
    fn tests_node(rule_file: &str, interval: Duration, cases: &[TestCase]) -> Node {
        let interval_text = interval.to_string();
        let tests = cases
            .iter()
            .map(|case| {
                let series = case
                    .series
                    .iter()
                    .map(|(series, values)| {
                        Node::map([("series", Node::str(series)), ("values", Node::str(values))])
                    })
                    .collect();
                let checks = case
                    .checks
                    .iter()
                    .map(|check| {
                        let alerts = check
                            .expected
                            .iter()
                            .map(|alert| {
                                Node::map([
                                    ("exp_labels", Node::string_map(&alert.labels)),
                                    (
                                        "exp_annotations",
                                        Node::owned_map(
                                            alert
                                                .annotations
                                                .iter()
                                                .map(|(key, value)| (key.clone(), Node::str(value)))
                                                .collect(),
                                        ),
                                    ),
                                ])
                            })
                            .collect();
                        Node::map([
                            (
                                "eval_time",
                                Node::str(Duration::from_millis(check.eval_time).to_string()),
                            ),
                            ("alertname", Node::str(&check.alertname)),
                            ("exp_alerts", Node::Seq(alerts)),
                        ])
                    })
                    .collect();
                Node::map([
                    ("name", Node::str(&case.name)),
                    ("interval", Node::str(&interval_text)),
                    ("input_series", Node::Seq(series)),
                    ("alert_rule_test", Node::Seq(checks)),
                ])
            })
            .collect();
        Node::map([
            ("rule_files", Node::Seq(vec![Node::str(rule_file)])),
            ("evaluation_interval", Node::str(interval_text)),
            ("tests", Node::Seq(tests)),
        ])
    }

    #[test]
    fn direct_writer_equals_the_tree_writer() {
        let awkward = [
            "",
            "on",
            "a: b",
            "{{ $labels.x }}",
            "x\ny",
            "q\"b\\s",
            "é",
            "- d",
            "1",
        ];
        let mut cases = Vec::new();
        for text in awkward {
            cases.push(TestCase {
                name: text.into(),
                series: vec![(format!("m{{l=\"{text}\"}}"), "0+1x3".into())],
                checks: vec![
                    Check {
                        eval_time: 61_000,
                        alertname: text.into(),
                        expected: Vec::new(),
                    },
                    Check {
                        eval_time: 0,
                        alertname: "A".into(),
                        expected: vec![
                            ExpectedAlert {
                                labels: BTreeMap::from([(text.to_owned(), text.to_owned())]),
                                annotations: vec![(text.to_owned(), text.to_owned())],
                            },
                            ExpectedAlert {
                                labels: BTreeMap::new(),
                                annotations: Vec::new(),
                            },
                        ],
                    },
                ],
            });
        }
        cases.push(TestCase {
            name: "no series, no checks".into(),
            series: Vec::new(),
            checks: Vec::new(),
        });
        for file in ["../prometheus/a.rules.yml", "../prometheus/on: {{.yml"] {
            for interval in [Duration::minutes(1), Duration::from_millis(30_000)] {
                for cases in [&cases[..], &cases[..1], &[]] {
                    assert_eq!(
                        tests_text(file, interval, cases),
                        yaml::to_string(&[], &tests_node(file, interval, cases))
                    );
                }
            }
        }
    }

    #[test]
    fn regex_values_are_generated_and_checked() {
        assert_eq!(shortest_match("5..").as_deref(), Some("500"));
        assert_eq!(shortest_match("(5..|429)").as_deref(), Some("500"));
        assert_eq!(shortest_match("a+b*").as_deref(), Some("a"));
        let mut cache = RegexCache::default();
        let status = LabelMatcher {
            label: "code".into(),
            op: MatchOp::Regex,
            value: "(5..|429)".into(),
        };
        let solved = solve_matchers(&[], Some(&status), &mut cache).unwrap();
        assert!(!solved.contains_key("code"), "absent label violates 5..");
    }

    /// The steps `find_check` skips: no window may fire before its bound, for burns
    /// from below the threshold to a total outage, long and short windows, and
    /// windows longer than the healthy lead-in.
    #[test]
    fn no_window_fires_before_its_firing_bound() {
        let source = r#"
service "s" {
  team = "t"
  availability "a" {
    errors = x_total{code="5"}
    total = x_total
    objective = 99.9%
    window = 90d
    page {
      burn { long = 1h, short = 5m, factor = 14.4, for = 2m }
      burn { long = 6h, short = 30m, factor = 6 }
      burn { long = 2d, short = 4h, factor = 2 }
    }
    ticket { burn { long = 3d, short = 6h, factor = 1 } }
  }
}
"#;
        let (program, _) = crate::compiler::emit::tests::checked(source);
        let service = &program.services[0];
        let objective = &service.objectives[0];
        let groups = crate::compiler::emit::prometheus::service_rule_groups(service);
        let alerts = objective_alerts(service, objective, &groups);
        let ObjectiveKind::Availability { budget, .. } = &objective.kind else {
            panic!("availability expected");
        };
        let generator = Generator {
            service,
            objective,
            alerts: &alerts,
            interval: 60_000,
            others: Vec::new(),
            memo: RefCell::default(),
        };
        let budget_fraction = budget.error_budget.to_f64();
        let mut checked = 0;
        for rule in generator.burn_rules(budget) {
            for window in &rule.windows {
                let threshold = window.factor.to_f64() * budget_fraction;
                for level in [0.5, 0.97, 1.04, 1.25, 2.0, 10.0, 1000.0] {
                    for t0_minutes in [0.0, 30.0, 362.0, 2882.0] {
                        let burn = Burn {
                            t0: t0_minutes * 60.0,
                            level: (threshold * level).min(1.0),
                        };
                        let bound = generator.window_firing_bound(burn, window, threshold);
                        let last = if bound.is_finite() {
                            bound
                        } else {
                            10.0 * 86_400.0
                        };
                        // Every 10 s up to the bound: never firing there.
                        let mut x = 0.0;
                        while x < last {
                            let state = generator.window_state(burn, window, threshold, x);
                            assert_ne!(
                                state,
                                State::Firing,
                                "{window:?} {level} {t0_minutes} at {x} (bound {bound})"
                            );
                            x += 10.0;
                            checked += 1;
                        }
                        // A burn well above the threshold fires within a window of the bound.
                        if level >= 1.25 && burn.level < 1.0 {
                            let soon = bound + generator.seconds(window.long.millis) + 600.0;
                            assert_eq!(
                                generator.window_state(burn, window, threshold, soon),
                                State::Firing
                            );
                        }
                    }
                }
            }
        }
        assert!(checked > 100_000, "{checked}");
    }

    #[test]
    fn counter_values_continue_across_segments() {
        let one = Decimal::ONE;
        let two = Decimal::from_integer(2);
        assert_eq!(counter_values(&[(3, one), (2, two)]), "0+1x3 5+2x1");
    }
}
