//! Inhibit rules: each one checked on its own, and all of them together with
//! mlslo's derived inhibitions for cycles.
//!
//! Invariant: an alert that mutes an alert that mutes it back (through any
//! chain) is a cycle, E0215: while they fire together they silence each other
//! and nobody is notified. Cycles are found as strongly connected components of
//! the `label=value` graph; each is reported once, from its smallest node, with
//! every user rule on it labelled (the derived inhibitions alone are acyclic).

use std::collections::{BTreeMap, BTreeSet};

use petgraph::graph::{DiGraph, NodeIndex};

use crate::base::diagnostic::Span;
use crate::compiler::check::checker::Checker;
use crate::compiler::check::codes;
use crate::compiler::ir;
use crate::compiler::syntax::ast;

impl Checker {
    pub fn check_inhibit(&mut self, inhibit: &ast::Inhibit) -> Option<ir::InhibitRule> {
        let mut all_good = self.check_label_name(&inhibit.label.node, inhibit.label.span);
        for value in std::iter::once(&inhibit.source).chain(&inhibit.targets) {
            all_good &= self.check_control_characters(&value.node, value.span, false);
        }
        let mut seen: BTreeMap<&str, Span> = BTreeMap::new();
        for label in &inhibit.equal {
            all_good &= self.check_label_name(&label.node, label.span);
            if let Some(first) = seen.insert(&label.node, label.span) {
                self.push(
                    codes::DUPLICATE_FIELD
                        .at(
                            label.span,
                            format!("`{}` is listed a second time here", label.node),
                        )
                        .with_secondary(first, "first listed here")
                        .with_help("list each label once"),
                );
                all_good = false;
            }
        }
        all_good.then(|| ir::InhibitRule {
            label: inhibit.label.node.clone(),
            source: inhibit.source.node.clone(),
            targets: inhibit
                .targets
                .iter()
                .map(|target| target.node.clone())
                .collect(),
            equal: inhibit
                .equal
                .iter()
                .map(|label| label.node.clone())
                .collect(),
            span: inhibit.span,
        })
    }

    /// E0215 for each cycle among `label=value` nodes (an alert that mutes an alert
    /// that mutes it back silences both). Returns false when there is a cycle.
    pub fn check_inhibit_cycles(
        &mut self,
        inhibits: &[&ast::Inhibit],
        any_feeds: bool,
        severities: &ir::Severities,
    ) -> bool {
        // Edge weights: the user's rule (source and target text), or `None` for
        // one of mlslo's derived inhibitions.
        let mut graph: InhibitGraph = DiGraph::new();
        let mut nodes: BTreeMap<(String, String), NodeIndex> = BTreeMap::new();
        let mut node = |graph: &mut InhibitGraph, label: &str, value: &str| {
            let key = (label.to_owned(), value.to_owned());
            *nodes
                .entry(key.clone())
                .or_insert_with(|| graph.add_node(key))
        };
        for inhibit in inhibits {
            let source = node(&mut graph, &inhibit.label.node, &inhibit.source.node);
            for target in &inhibit.targets {
                let target_node = node(&mut graph, &inhibit.label.node, &target.node);
                graph.add_edge(
                    source,
                    target_node,
                    Some(target.span.to(inhibit.source.span)),
                );
            }
        }
        for builtin in ir::BUILTIN_INHIBITIONS {
            if builtin.needs_feeds && !any_feeds {
                continue;
            }
            let (source, targets) = builtin.values(severities);
            let source = node(&mut graph, builtin.label, &source);
            for target in &targets {
                let target_node = node(&mut graph, builtin.label, target);
                graph.add_edge(source, target_node, None);
            }
        }
        let mut acyclic = true;
        for component in petgraph::algo::tarjan_scc(&graph) {
            let is_cycle =
                component.len() > 1 || graph.find_edge(component[0], component[0]).is_some();
            if !is_cycle {
                continue;
            }
            let members: BTreeSet<NodeIndex> = component.iter().copied().collect();
            let cycle = find_cycle(&graph, &members);
            let names: Vec<String> = cycle
                .iter()
                .filter_map(|edge| graph.edge_endpoints(*edge))
                .map(|(from, _)| {
                    let (label, value) = &graph[from];
                    format!("{label}=\"{value}\"")
                })
                .collect();
            let mut user_spans: Vec<Span> = cycle.iter().filter_map(|edge| graph[*edge]).collect();
            user_spans.sort();
            let builtin_edges: Vec<String> = cycle
                .iter()
                .filter(|edge| graph[**edge].is_none())
                .filter_map(|edge| graph.edge_endpoints(*edge))
                .map(|(from, to)| {
                    let (label, source) = &graph[from];
                    let (_, target) = &graph[to];
                    format!("{label}=\"{source}\" mutes {label}=\"{target}\"")
                })
                .collect();
            // The derived inhibitions alone are acyclic; a cycle always has a user rule.
            let Some(primary) = user_spans.first().copied() else {
                continue;
            };
            acyclic = false;
            let mut diagnostic =
                codes::INHIBITION_CYCLE.at(primary, "this inhibition is part of a cycle");
            for span in user_spans.iter().skip(1) {
                diagnostic = diagnostic.with_secondary(*span, "and this one");
            }
            let mut path = names.join(" mutes ");
            if let Some(first) = names.first() {
                path = format!("{path} mutes {first}");
            }
            diagnostic = diagnostic.with_note(format!(
                "{path}: while these alerts fire together, they silence each other"
            ));
            if !builtin_edges.is_empty() {
                diagnostic = diagnostic.with_note(format!(
                    "mlslo derives this inhibition from the objectives itself: {}",
                    builtin_edges.join(", ")
                ));
            }
            self.push(diagnostic.with_help("remove one direction of the inhibition"));
        }
        acyclic
    }
}

type InhibitGraph = DiGraph<(String, String), Option<Span>>;

fn members_first(members: &BTreeSet<NodeIndex>) -> NodeIndex {
    members.iter().next().copied().unwrap_or_default()
}

/// The edges of one cycle inside a strongly connected component, in order,
/// starting from its smallest node (so the report is deterministic).
fn find_cycle(
    graph: &InhibitGraph,
    members: &BTreeSet<NodeIndex>,
) -> Vec<petgraph::graph::EdgeIndex> {
    use petgraph::visit::EdgeRef;
    let start = members_first(members);
    // Breadth-first search inside the component for the shortest way back to start.
    let mut previous: BTreeMap<NodeIndex, (NodeIndex, petgraph::graph::EdgeIndex)> =
        BTreeMap::new();
    let mut queue = std::collections::VecDeque::from([start]);
    let mut visited: BTreeSet<NodeIndex> = BTreeSet::from([start]);
    while let Some(current) = queue.pop_front() {
        let mut edges: Vec<_> = graph.edges(current).collect();
        edges.sort_by_key(|edge| (edge.target(), edge.id()));
        for edge in edges {
            let next = edge.target();
            if !members.contains(&next) {
                continue;
            }
            if next == start {
                let mut cycle = vec![edge.id()];
                let mut node = current;
                while node != start {
                    let Some((before, via)) = previous.get(&node) else {
                        break;
                    };
                    cycle.push(*via);
                    node = *before;
                }
                cycle.reverse();
                return cycle;
            }
            if visited.insert(next) {
                previous.insert(next, (current, edge.id()));
                queue.push_back(next);
            }
        }
    }
    Vec::new()
}
