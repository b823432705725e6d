//! The routing tree of Alertmanager 0.25 (`dispatch/route.go`): effective
//! options per node, matching of a label set, group keys, and the tree
//! printouts of `amtool config routes show` and `routes test --tree`.
//!
//! Invariants:
//! - A node's options start from its parent's (the root's from the defaults
//!   30s / 5m / 4h, no grouping) and are overwritten by what the node sets;
//!   `mute_time_intervals` and `active_time_intervals` are NOT inherited
//!   (0.25 assigns them from the node itself).
//! - A node's matchers are legacy `match`, then `match_re`, then `matchers`,
//!   sorted by (name, value, operator) as Go's `sort.Sort(matchers)`.
//! - [`RoutingTree::match_routes`] is Go's `Route.Match`: depth-first,
//!   left to right, a matching child stops its siblings unless it has
//!   `continue`, and a node none of whose children match is itself a match.

use std::collections::BTreeSet;

use super::config::{legacy_and_new_matchers, Config, GoDuration, Route};
use super::matchers::{all_match, format_matchers, sort_matchers, LabelSet, Matcher};
use crate::prometheus::model::go_quote;

/// What a matching route does with an alert (Go's `RouteOpts`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RouteOptions {
    pub receiver: String,
    pub group_by: BTreeSet<String>,
    pub group_by_all: bool,
    pub group_wait: GoDuration,
    pub group_interval: GoDuration,
    pub repeat_interval: GoDuration,
    pub mute_time_intervals: Vec<String>,
    pub active_time_intervals: Vec<String>,
}

/// One node with its effective options.
#[derive(Clone, Debug)]
pub struct RouteNode {
    pub options: RouteOptions,
    pub matchers: Vec<Matcher>,
    pub continue_matching: bool,
    pub routes: Vec<RouteNode>,
    /// Go's `Route.Key()`: the parent's key, `/`, this node's matchers.
    pub key: String,
    /// Child indexes from the root, identifying the node uniquely.
    pub position: Vec<usize>,
}

#[derive(Clone, Debug)]
pub struct RoutingTree {
    pub root: RouteNode,
}

impl RoutingTree {
    pub fn new(config: &Config) -> RoutingTree {
        let defaults = RouteOptions {
            receiver: String::new(),
            group_by: BTreeSet::new(),
            group_by_all: false,
            group_wait: GoDuration::from_seconds(30),
            group_interval: GoDuration::from_seconds(300),
            repeat_interval: GoDuration::from_seconds(4 * 3600),
            mute_time_intervals: Vec::new(),
            active_time_intervals: Vec::new(),
        };
        RoutingTree {
            root: build_node(&config.route, &defaults, None, Vec::new()),
        }
    }

    /// The matching nodes for a label set, in tree order (Go's `Route.Match`).
    pub fn match_routes(&self, labels: &LabelSet) -> Vec<&RouteNode> {
        match_node(&self.root, labels).unwrap_or_default()
    }

    /// The receivers `amtool config routes test` prints, in order, repeats kept.
    pub fn receivers(&self, labels: &LabelSet) -> Vec<String> {
        self.match_routes(labels)
            .into_iter()
            .map(|node| node.options.receiver.clone())
            .collect()
    }

    /// `amtool config routes show` without the "Routing tree:" heading.
    pub fn show(&self) -> String {
        let mut output = String::from(".\n");
        let children: &dyn Fn(&RouteNode) -> Vec<&RouteNode> = &|node| node.routes.iter().collect();
        print_branch(
            &mut output,
            "",
            true,
            &self.root,
            &|node| slug(node, true, true),
            children,
        );
        output
    }

    /// `amtool config routes test --tree` without the "Matching routes:" heading.
    pub fn show_matching(&self, labels: &LabelSet) -> String {
        let mut output = String::from(".\n");
        let children: &dyn Fn(&RouteNode) -> Vec<&RouteNode> =
            &|node| matching_children(node, labels);
        let label = |node: &RouteNode| {
            let is_final = children(node).is_empty();
            slug(node, false, is_final)
        };
        print_branch(&mut output, "", true, &self.root, &label, children);
        output
    }
}

/// Alertmanager's group key for an alert on a matched route:
/// `<route key>:<group labels>`, e.g. `{}/{severity="page"}:{alertname="X"}`.
pub fn group_key(node: &RouteNode, labels: &LabelSet) -> String {
    format!(
        "{}:{}",
        node.key,
        format_label_set(&group_labels(node, labels))
    )
}

/// The alert's labels that the route groups by (Go's `getGroupLabels`).
pub fn group_labels(node: &RouteNode, labels: &LabelSet) -> LabelSet {
    labels
        .iter()
        .filter(|(name, _)| node.options.group_by_all || node.options.group_by.contains(*name))
        .map(|(name, value)| (name.clone(), value.clone()))
        .collect()
}

/// prometheus/common v0.38 `LabelSet.String()`: the `name="value"` strings
/// (Go `%q` quoting) sorted as strings, joined by `, `.
pub fn format_label_set(labels: &LabelSet) -> String {
    let mut parts: Vec<String> = labels
        .iter()
        .map(|(name, value)| format!("{name}={}", go_quote::quote(value)))
        .collect();
    parts.sort();
    format!("{{{}}}", parts.join(", "))
}

/// The children `routes test --tree` descends into (amtool's `getMatchingTree`).
fn matching_children<'tree>(node: &'tree RouteNode, labels: &LabelSet) -> Vec<&'tree RouteNode> {
    let mut matching = Vec::new();
    for child in &node.routes {
        if all_match(&child.matchers, labels) {
            matching.push(child);
            if !child.continue_matching {
                break;
            }
        }
    }
    matching
}

fn build_node(
    route: &Route,
    parent: &RouteOptions,
    parent_key: Option<&str>,
    position: Vec<usize>,
) -> RouteNode {
    let mut options = parent.clone();
    if let Some(receiver) = route
        .receiver
        .as_deref()
        .filter(|receiver| !receiver.is_empty())
    {
        options.receiver = receiver.to_string();
    }
    if let Some(group_by) = &route.group_by {
        options.group_by = group_by.iter().cloned().collect();
        options.group_by_all = false;
    } else if route.group_by_all {
        options.group_by_all = true;
    }
    if let Some(duration) = route.group_wait {
        options.group_wait = duration;
    }
    if let Some(duration) = route.group_interval {
        options.group_interval = duration;
    }
    if let Some(duration) = route.repeat_interval {
        options.repeat_interval = duration;
    }
    options.mute_time_intervals = route.mute_time_intervals.clone();
    options.active_time_intervals = route.active_time_intervals.clone();
    let mut matchers =
        legacy_and_new_matchers(&route.match_equal, &route.match_regex, &route.matchers);
    sort_matchers(&mut matchers);
    let own = format_matchers(&matchers);
    let key = match parent_key {
        Some(parent_key) => format!("{parent_key}/{own}"),
        None => own,
    };
    let routes = route
        .routes
        .iter()
        .enumerate()
        .map(|(index, child)| {
            let mut child_position = position.clone();
            child_position.push(index);
            build_node(child, &options, Some(&key), child_position)
        })
        .collect();
    RouteNode {
        options,
        matchers,
        continue_matching: route.continue_matching,
        routes,
        key,
        position,
    }
}

fn match_node<'tree>(node: &'tree RouteNode, labels: &LabelSet) -> Option<Vec<&'tree RouteNode>> {
    if !all_match(&node.matchers, labels) {
        return None;
    }
    let mut all = Vec::new();
    for child in &node.routes {
        let matches = match_node(child, labels);
        let matched = matches.is_some();
        all.extend(matches.unwrap_or_default());
        if matched && !child.continue_matching {
            break;
        }
    }
    if all.is_empty() {
        all.push(node);
    }
    Some(all)
}

/// amtool's `getRouteTreeSlug`.
fn slug(node: &RouteNode, show_continue: bool, show_receiver: bool) -> String {
    let mut text = if node.matchers.is_empty() {
        "default-route".to_string()
    } else {
        format_matchers(&node.matchers)
    };
    if node.continue_matching && show_continue {
        text.push_str("  continue: true");
    }
    if show_receiver {
        text.push_str("  receiver: ");
        text.push_str(&node.options.receiver);
    }
    text
}

/// xlab/treeprint v1.1.0's layout for one branch and its children; its
/// continuation indent really is `│`, two no-break spaces and a space.
fn print_branch(
    output: &mut String,
    indent: &str,
    is_last: bool,
    node: &RouteNode,
    label: &dyn Fn(&RouteNode) -> String,
    children: &dyn Fn(&RouteNode) -> Vec<&RouteNode>,
) {
    output.push_str(indent);
    output.push_str(if is_last { "└── " } else { "├── " });
    output.push_str(&label(node));
    output.push('\n');
    let child_indent = format!(
        "{indent}{}",
        if is_last { "    " } else { "│\u{a0}\u{a0} " }
    );
    let kids = children(node);
    let count = kids.len();
    for (index, child) in kids.into_iter().enumerate() {
        print_branch(
            output,
            &child_indent,
            index + 1 == count,
            child,
            label,
            children,
        );
    }
}
