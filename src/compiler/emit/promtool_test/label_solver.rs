//! Label values for input series: values that satisfy (or violate) a selector's
//! matchers, regular expressions included, and whether a series would also be
//! matched by another objective of the service.
//!
//! A regex matcher is satisfied by generating a short string from the regex
//! itself (first alternative, fewest repetitions, an alphanumeric from each
//! class) and checking it with the anchored regex, as Prometheus anchors it; a
//! few plain candidates are tried after the matchers' own values. An empty value
//! means "label absent", as in Prometheus.
//!
//! Invariant: a solution is only ever returned after every matcher has been
//! checked against it; when none is found the answer is `None`, never a guess.

use std::cell::RefCell;
use std::collections::{BTreeMap, HashMap};

use regex_syntax::hir::{Class, Hir, HirKind};

use super::scenario_cache::ScenarioCache;
use crate::compiler::ir::{LabelMatcher, MatchOp, Selector};

/// The label questions of one objective's scenarios, with the other objectives'
/// selectors its series must not match.
pub(super) struct LabelSolver<'a> {
    pub others: Vec<&'a Selector>,
    /// The label solutions and isolation verdicts already found for this objective:
    /// every test case of it asks the same questions with other sample values.
    memo: RefCell<SolverMemo>,
}

/// Keyed by the addresses of the selectors asked about (they live as long as the
/// solver) or by a series' text.
#[derive(Default)]
struct SolverMemo {
    solutions: HashMap<SolveQuestion, Option<BTreeMap<String, String>>>,
    isolated: HashMap<String, bool>,
}

impl<'a> LabelSolver<'a> {
    pub fn new(others: Vec<&'a Selector>) -> LabelSolver<'a> {
        LabelSolver {
            others,
            memo: RefCell::default(),
        }
    }

    /// Label values satisfying every matcher of `selectors` (same series).
    pub fn solve(
        &self,
        selectors: &[&Selector],
        cache: &mut ScenarioCache,
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
    pub fn solve_violating(
        &self,
        total: &Selector,
        inner: &Selector,
        cache: &mut ScenarioCache,
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

    /// True when no series matches a selector of another objective.
    pub fn isolated(&self, series: &[(String, String)], cache: &mut ScenarioCache) -> bool {
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
    pub fn matches_no_other(
        &self,
        metric: &str,
        labels: &BTreeMap<String, String>,
        cache: &mut ScenarioCache,
    ) -> bool {
        !self
            .others
            .iter()
            .any(|selector| self.matches_selector(selector, metric, labels, cache))
    }

    pub fn matches_selector(
        &self,
        selector: &Selector,
        metric: &str,
        labels: &BTreeMap<String, String>,
        cache: &mut ScenarioCache,
    ) -> bool {
        selector.metric == metric
            && selector.matchers.iter().all(|matcher| {
                let value = labels.get(&matcher.label).map_or("", String::as_str);
                matcher_holds(matcher, value, cache) == Some(true)
            })
    }
}

/// Whether the solution must violate the second selector, and the selectors.
type SolveQuestion = (bool, Vec<usize>);

fn selector_address(selector: &Selector) -> usize {
    selector as *const Selector as usize
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

fn matcher_holds(matcher: &LabelMatcher, value: &str, cache: &mut ScenarioCache) -> Option<bool> {
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
    cache: &mut ScenarioCache,
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
                    if let Some(value) = cache.shortest_match(&matcher.value, shortest_match) {
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
mod tests {
    use super::*;

    #[test]
    fn regex_values_are_generated_and_checked() {
        assert_eq!(shortest_match("5..").as_deref(), Some("500"));
        assert_eq!(shortest_match("(5..|429)").as_deref(), Some("500"));
        assert_eq!(shortest_match("a+b*").as_deref(), Some("a"));
        let mut cache = ScenarioCache::default();
        let status = LabelMatcher {
            label: "code".into(),
            op: MatchOp::Regex,
            value: "(5..|429)".into(),
        };
        let solved = solve_matchers(&[], Some(&status), &mut cache).unwrap();
        assert!(!solved.contains_key("code"), "absent label violates 5..");
    }
}
