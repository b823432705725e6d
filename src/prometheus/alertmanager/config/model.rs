//! The types of a parsed Alertmanager 0.25 configuration, as written in the file (no
//! inheritance or defaults of the routing tree applied; see `route::RoutingTree`).
//!
//! Invariants: field order and list order follow the file; integration settings stay
//! opaque YAML values.

use std::collections::BTreeMap;

use yaml_serde::Value;

use super::duration::GoDuration;
use crate::prometheus::alertmanager::matchers::{MatchType, Matcher};
use crate::prometheus::alertmanager::timeinterval::TimeIntervalSpec;

/// A parsed configuration. Field order and list order follow the file.
#[derive(Clone, Debug)]
pub struct Config {
    pub global: GlobalConfig,
    pub route: Route,
    pub inhibit_rules: Vec<InhibitRule>,
    pub receivers: Vec<Receiver>,
    pub templates: Vec<String>,
    /// Deprecated in 0.25 in favour of `time_intervals`, same shape.
    pub mute_time_intervals: Vec<TimeInterval>,
    pub time_intervals: Vec<TimeInterval>,
}

/// The `global` block. Only `resolve_timeout` matters to routing; the other
/// keys are kept as written (after the 0.25 defaults).
#[derive(Clone, Debug)]
pub struct GlobalConfig {
    pub resolve_timeout: GoDuration,
    pub settings: BTreeMap<String, Value>,
}

/// One node of the routing tree, as written (no inheritance applied; see
/// `route::RoutingTree` for the effective values).
#[derive(Clone, Debug, Default)]
pub struct Route {
    pub receiver: Option<String>,
    /// `None` when `group_by` is absent, so that the parent's applies.
    pub group_by: Option<Vec<String>>,
    /// `group_by: ['...']`.
    pub group_by_all: bool,
    /// Legacy `match`, as (label, value) in file order.
    pub match_equal: Vec<(String, String)>,
    /// Legacy `match_re`, as (label, regex) in file order.
    pub match_regex: Vec<(String, String)>,
    pub matchers: Vec<Matcher>,
    pub mute_time_intervals: Vec<String>,
    pub active_time_intervals: Vec<String>,
    pub continue_matching: bool,
    pub routes: Vec<Route>,
    pub group_wait: Option<GoDuration>,
    pub group_interval: Option<GoDuration>,
    pub repeat_interval: Option<GoDuration>,
}

/// One inhibit rule with its legacy and new-style matchers kept apart.
#[derive(Clone, Debug, Default)]
pub struct InhibitRule {
    pub source_match: Vec<(String, String)>,
    pub source_match_re: Vec<(String, String)>,
    pub source_matchers: Vec<Matcher>,
    pub target_match: Vec<(String, String)>,
    pub target_match_re: Vec<(String, String)>,
    pub target_matchers: Vec<Matcher>,
    pub equal: Vec<String>,
}

#[derive(Clone, Debug)]
pub struct Receiver {
    pub name: String,
    pub integrations: Vec<Integration>,
}

/// One entry of a `*_configs` list of a receiver.
#[derive(Clone, Debug)]
pub struct Integration {
    /// The list it came from, such as `webhook_configs`.
    pub kind: String,
    /// Its settings, opaque.
    pub settings: BTreeMap<String, Value>,
    /// Secret-bearing fields and where each secret comes from.
    pub secrets: Vec<SecretField>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SecretField {
    /// The inline field name, such as `routing_key` or `api_url`.
    pub field: String,
    pub source: SecretSource,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SecretSource {
    /// Written into the configuration itself.
    Inline,
    /// Read from this file (`<field>_file`).
    File(String),
}

/// A named time interval.
#[derive(Clone, Debug)]
pub struct TimeInterval {
    pub name: String,
    pub time_intervals: Vec<TimeIntervalSpec>,
}

/// The matchers of a route or rule side, legacy ones first, as Go builds them.
pub fn legacy_and_new_matchers(
    match_equal: &[(String, String)],
    match_regex: &[(String, String)],
    matchers: &[Matcher],
) -> Vec<Matcher> {
    let mut all = Vec::new();
    for (name, value) in match_equal {
        // Equality matchers cannot fail to build.
        if let Ok(matcher) = Matcher::new(MatchType::Equal, name, value) {
            all.push(matcher);
        }
    }
    for (name, pattern) in match_regex {
        // Go builds these from the compiled regexp's String(), which is the
        // anchored pattern; that text is what route keys and `routes show` print.
        let anchored = format!("^(?:{pattern})$");
        // The decoder compiled each pattern already.
        if let Ok(matcher) = Matcher::new(MatchType::Regexp, name, &anchored) {
            all.push(matcher);
        }
    }
    all.extend(matchers.iter().cloned());
    all
}
