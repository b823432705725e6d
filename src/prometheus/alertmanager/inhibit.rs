//! Alertmanager 0.25's inhibitor (`inhibit/inhibit.go`): which alerts an
//! inhibit rule mutes, given the alerts that are currently active.
//!
//! Invariants, each from the Go code:
//! - A rule's source (target) matchers are its legacy `source_match`, then
//!   `source_match_re`, then `source_matchers`, all ANDed.
//! - Rules are tried in file order; the first rule whose target matchers
//!   match and that finds a source decides (`Inhibitor.Mutes`).
//! - A source is any active (not resolved) alert matching the source
//!   matchers whose value of every `equal` label equals the target's, a
//!   missing label counting as the empty string (`hasEqual`).
//! - When the target itself matches the rule's source side, sources that
//!   also match the target side are disregarded, so an alert matching both
//!   sides never inhibits itself, nor any other two-sided alert of the rule.
//! - Go's source cache is a map, so which of several sources Go reports is
//!   arbitrary; here every qualifying source of the deciding rule is kept,
//!   in input order, and the first one is the reported one.

use std::collections::{BTreeMap, BTreeSet};

use super::config::{legacy_and_new_matchers, Config};
use super::matchers::{all_match, LabelSet, Matcher};

#[derive(Clone, Debug)]
pub struct InhibitionRule {
    pub source_matchers: Vec<Matcher>,
    pub target_matchers: Vec<Matcher>,
    pub equal: BTreeSet<String>,
}

/// Why an alert is muted: the deciding rule and its qualifying sources.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Inhibition {
    /// Index of the rule in `inhibit_rules`.
    pub rule_index: usize,
    /// Indexes (into the candidate list given) of every qualifying source.
    pub source_indexes: Vec<usize>,
}

/// An alert as the inhibitor sees it.
#[derive(Clone, Copy, Debug)]
pub struct ActiveAlert<'labels> {
    pub labels: &'labels LabelSet,
    /// False for alerts whose `endsAt` has passed; those never inhibit.
    pub active: bool,
}

#[derive(Clone, Debug)]
pub struct Inhibitor {
    pub rules: Vec<InhibitionRule>,
}

impl Inhibitor {
    pub fn new(config: &Config) -> Inhibitor {
        let rules = config
            .inhibit_rules
            .iter()
            .map(|rule| InhibitionRule {
                source_matchers: legacy_and_new_matchers(
                    &rule.source_match,
                    &rule.source_match_re,
                    &rule.source_matchers,
                ),
                target_matchers: legacy_and_new_matchers(
                    &rule.target_match,
                    &rule.target_match_re,
                    &rule.target_matchers,
                ),
                equal: rule.equal.iter().cloned().collect(),
            })
            .collect();
        Inhibitor { rules }
    }

    /// Go's `Inhibitor.Mutes(target)` against the given alerts (the source
    /// cache). `None` when the target is not muted.
    pub fn mutes(&self, target: &LabelSet, alerts: &[ActiveAlert<'_>]) -> Option<Inhibition> {
        for (rule_index, rule) in self.rules.iter().enumerate() {
            if !all_match(&rule.target_matchers, target) {
                continue;
            }
            let exclude_two_sided = all_match(&rule.source_matchers, target);
            let source_indexes: Vec<usize> = alerts
                .iter()
                .enumerate()
                .filter(|(_, alert)| {
                    alert.active
                        && all_match(&rule.source_matchers, alert.labels)
                        && rule.equal.iter().all(|name| {
                            label_value(alert.labels, name) == label_value(target, name)
                        })
                        && !(exclude_two_sided && all_match(&rule.target_matchers, alert.labels))
                })
                .map(|(index, _)| index)
                .collect();
            if !source_indexes.is_empty() {
                return Some(Inhibition {
                    rule_index,
                    source_indexes,
                });
            }
        }
        None
    }
}

/// The qualifying sources of every rule among one fixed set of alerts,
/// grouped by their values of the rule's `equal` labels: the same answers as
/// [`Inhibitor::mutes`] (tested below), in O(rules) lookups per target rather
/// than a scan of every alert, for batches of thousands of alerts.
#[derive(Clone, Debug)]
pub struct SourceIndex<'inhibitor, 'labels> {
    rules: &'inhibitor [InhibitionRule],
    alerts: Vec<ActiveAlert<'labels>>,
    /// Per rule: `equal` values (in the rule's sorted label order) to the
    /// input indexes of the active alerts matching its source side, ascending.
    sources: Vec<BTreeMap<Vec<&'labels str>, Vec<usize>>>,
}

impl Inhibitor {
    /// Indexes the sources among `alerts` once, for many [`SourceIndex::mutes`] calls.
    pub fn index<'inhibitor, 'labels>(
        &'inhibitor self,
        alerts: &[ActiveAlert<'labels>],
    ) -> SourceIndex<'inhibitor, 'labels> {
        let sources = self
            .rules
            .iter()
            .map(|rule| {
                let mut by_values: BTreeMap<Vec<&'labels str>, Vec<usize>> = BTreeMap::new();
                for (index, alert) in alerts.iter().enumerate() {
                    if alert.active && all_match(&rule.source_matchers, alert.labels) {
                        let labels: &'labels LabelSet = alert.labels;
                        let values = rule
                            .equal
                            .iter()
                            .map(|name| label_value(labels, name))
                            .collect();
                        by_values.entry(values).or_default().push(index);
                    }
                }
                by_values
            })
            .collect();
        SourceIndex {
            rules: &self.rules,
            alerts: alerts.to_vec(),
            sources,
        }
    }
}

impl SourceIndex<'_, '_> {
    /// [`Inhibitor::mutes`] against the indexed alerts.
    pub fn mutes(&self, target: &LabelSet) -> Option<Inhibition> {
        for (rule_index, rule) in self.rules.iter().enumerate() {
            if !all_match(&rule.target_matchers, target) {
                continue;
            }
            let values: Vec<&str> = rule
                .equal
                .iter()
                .map(|name| label_value(target, name))
                .collect();
            let Some(candidates) = self.sources[rule_index].get(&values) else {
                continue;
            };
            let exclude_two_sided = all_match(&rule.source_matchers, target);
            let source_indexes: Vec<usize> = candidates
                .iter()
                .copied()
                .filter(|&index| {
                    !(exclude_two_sided
                        && all_match(&rule.target_matchers, self.alerts[index].labels))
                })
                .collect();
            if !source_indexes.is_empty() {
                return Some(Inhibition {
                    rule_index,
                    source_indexes,
                });
            }
        }
        None
    }
}

fn label_value<'labels>(labels: &'labels LabelSet, name: &str) -> &'labels str {
    labels.get(name).map(String::as_str).unwrap_or("")
}

/// Prometheus' label-set fingerprint (FNV-1a 64 over sorted names and
/// values, each followed by the byte 255), as Alertmanager shows it.
pub fn fingerprint(labels: &LabelSet) -> String {
    const OFFSET: u64 = 14_695_981_039_346_656_037;
    const PRIME: u64 = 1_099_511_628_211;
    let mut hash = OFFSET;
    let mut add = |bytes: &[u8]| {
        for byte in bytes {
            hash ^= u64::from(*byte);
            hash = hash.wrapping_mul(PRIME);
        }
    };
    // BTreeMap iterates names in byte order, as Go's sort.Strings.
    for (name, value) in labels {
        add(name.as_bytes());
        add(&[255]);
        add(value.as_bytes());
        add(&[255]);
    }
    format!("{hash:016x}")
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The index gives exactly the answers of the plain scan, on random
    /// alerts under rules with two-sided matchers and missing equal labels.
    #[test]
    fn the_source_index_agrees_with_the_plain_scan() {
        let config = crate::prometheus::alertmanager::config::load(
            r#"
route: {receiver: r}
receivers: [{name: r}]
inhibit_rules:
  - source_matchers: ['severity="page"']
    target_matchers: ['severity="ticket"']
    equal: [service, slo]
  - source_matchers: ['kind=~"availability|gpu"']
    target_matchers: ['kind=~"drift|gpu"']
    equal: [service]
  - source_matchers: ['severity=~"page|ticket"']
    target_matchers: ['severity=~"ticket|info"']
    equal: []
"#,
        )
        .expect("valid configuration");
        let inhibitor = Inhibitor::new(&config);
        let mut state: u64 = 7;
        let mut next = |bound: u64| {
            state = state
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            (state >> 33) % bound
        };
        let choices: [(&str, &[&str]); 4] = [
            ("severity", &["page", "ticket", "info"]),
            ("kind", &["availability", "gpu", "drift"]),
            ("service", &["a", "b"]),
            ("slo", &["x", "y"]),
        ];
        for _ in 0..200 {
            let n_alerts = next(12) as usize;
            let label_sets: Vec<LabelSet> = (0..n_alerts)
                .map(|_| {
                    choices
                        .iter()
                        .filter_map(|(name, values)| {
                            let pick = next(values.len() as u64 + 1) as usize;
                            values
                                .get(pick)
                                .map(|value| (name.to_string(), value.to_string()))
                        })
                        .collect()
                })
                .collect();
            let alerts: Vec<ActiveAlert<'_>> = label_sets
                .iter()
                .map(|labels| ActiveAlert {
                    labels,
                    active: next(4) != 0,
                })
                .collect();
            let index = inhibitor.index(&alerts);
            for labels in &label_sets {
                assert_eq!(
                    index.mutes(labels),
                    inhibitor.mutes(labels, &alerts),
                    "{labels:?}"
                );
            }
        }
    }
}
