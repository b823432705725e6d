//! In-memory float series: one column of timestamps and one of values per
//! series, label sets interned, selection by PromQL label matchers.
//!
//! Invariants: each series' timestamps are strictly ascending (a later append
//! at an existing timestamp replaces the value, as a re-load does in
//! promqltest); stale markers are stored as Prometheus' StaleNaN bit pattern
//! and counted so readers can skip filtering when a series has none; a series'
//! id is its creation rank, and selection yields series in id order, as the
//! TSDB head's postings list series by reference (the order an instant query
//! and the `query` template function walk, which sums and templates show).

use std::collections::HashMap;

use promql_parser::label::{MatchOp, Matcher, Matchers};

use super::value::{is_stale_nan, Labels, METRIC_NAME};

/// One stored series.
#[derive(Clone, Debug, Default)]
pub struct StoredSeries {
    pub labels: Labels,
    /// `labels` without `__name__`, built once: functions and arithmetic
    /// drop the name at every step.
    pub labels_without_name: Labels,
    pub timestamps: Vec<i64>,
    pub values: Vec<f64>,
    /// How many values are stale markers.
    pub stale_count: usize,
    /// Whether native histogram samples were offered for this series (and
    /// dropped): queries touching it cannot be answered faithfully.
    pub had_native_histograms: bool,
}

/// The series store the engine reads.
#[derive(Clone, Debug, Default)]
pub struct Storage {
    series: Vec<StoredSeries>,
    index_by_labels: HashMap<Labels, usize>,
    /// Series ids per metric name, each list ascending, so selection of a named
    /// selector needs neither a full scan nor a sort.
    ids_by_metric_name: HashMap<String, Vec<usize>>,
    /// Every series id, ascending.
    all_ids: Vec<usize>,
}

impl Storage {
    pub fn new() -> Storage {
        Storage::default()
    }

    /// The series id for `labels`, creating an empty series when new.
    pub fn series_id(&mut self, labels: &Labels) -> usize {
        if let Some(&id) = self.index_by_labels.get(labels) {
            return id;
        }
        let id = self.series.len();
        self.series.push(StoredSeries {
            labels: labels.clone(),
            labels_without_name: labels.without_metric_name(),
            ..StoredSeries::default()
        });
        self.index_by_labels.insert(labels.clone(), id);
        self.all_ids.push(id);
        self.ids_by_metric_name
            .entry(labels.metric_name().to_string())
            .or_default()
            .push(id);
        id
    }

    /// Appends (or replaces) one sample; `value` may be the stale marker.
    pub fn append(&mut self, labels: &Labels, timestamp: i64, value: f64) {
        let id = self.series_id(labels);
        self.append_to(id, timestamp, value);
    }

    /// Appends to a series by id, keeping timestamps sorted.
    pub fn append_to(&mut self, id: usize, timestamp: i64, value: f64) {
        let series = &mut self.series[id];
        let stale = is_stale_nan(value);
        match series.timestamps.last() {
            Some(&last) if last >= timestamp => {
                let position = series.timestamps.partition_point(|&t| t < timestamp);
                if series.timestamps.get(position) == Some(&timestamp) {
                    if is_stale_nan(series.values[position]) {
                        series.stale_count -= 1;
                    }
                    series.values[position] = value;
                } else {
                    series.timestamps.insert(position, timestamp);
                    series.values.insert(position, value);
                }
            }
            _ => {
                series.timestamps.push(timestamp);
                series.values.push(value);
            }
        }
        if stale {
            series.stale_count += 1;
        }
    }

    /// The same series, created in the order `ids` lists them (a permutation of
    /// every id).
    pub fn reordered(mut self, ids: &[usize]) -> Storage {
        let mut reordered = Storage::new();
        for &id in ids {
            let series = std::mem::take(&mut self.series[id]);
            let new_id = reordered.series_id(&series.labels);
            reordered.series[new_id] = series;
        }
        reordered
    }

    /// Marks a series as having had native histogram samples.
    pub fn mark_native_histograms(&mut self, labels: &Labels) {
        let id = self.series_id(labels);
        self.series[id].had_native_histograms = true;
    }

    /// Drops every series.
    pub fn clear(&mut self) {
        self.series.clear();
        self.index_by_labels.clear();
        self.ids_by_metric_name.clear();
        self.all_ids.clear();
    }

    pub fn series(&self, id: usize) -> &StoredSeries {
        &self.series[id]
    }

    pub fn len(&self) -> usize {
        self.series.len()
    }

    pub fn is_empty(&self) -> bool {
        self.series.is_empty()
    }

    /// Ids of the series a selector matches, in creation order: the engine's
    /// `Select(sortSeries=false)` on the head lists series by reference, which
    /// grows as series are created. `metric_name` is the selector's bare
    /// name (`foo` in `foo{a="b"}`), which promql-parser keeps apart from the
    /// matchers.
    pub fn select(&self, metric_name: Option<&str>, matchers: &Matchers) -> Vec<usize> {
        let name_equality = metric_name.or_else(|| {
            matchers
                .matchers
                .iter()
                .find(|m| m.name == METRIC_NAME && matches!(m.op, MatchOp::Equal))
                .map(|m| m.value.as_str())
        });
        let candidates: &[usize] = match name_equality {
            Some(name) => self
                .ids_by_metric_name
                .get(name)
                .map(Vec::as_slice)
                .unwrap_or(&[]),
            None => &self.all_ids,
        };
        candidates
            .iter()
            .copied()
            .filter(|&id| {
                let labels = &self.series[id].labels;
                if let Some(name) = metric_name {
                    if labels.metric_name() != name {
                        return false;
                    }
                }
                if !matchers.matchers.iter().all(|m| matches(m, labels)) {
                    return false;
                }
                matchers.or_matchers.is_empty()
                    || matchers
                        .or_matchers
                        .iter()
                        .any(|group| group.iter().all(|m| matches(m, labels)))
            })
            .collect()
    }
}

/// Whether one matcher accepts a label set; a missing label is `""`, as in
/// Prometheus. promql-parser compiles regexes anchored (`^(?:re)$`).
pub fn matches(matcher: &Matcher, labels: &Labels) -> bool {
    let value = labels.get(&matcher.name);
    match &matcher.op {
        MatchOp::Equal => matcher.value == value,
        MatchOp::NotEqual => matcher.value != value,
        MatchOp::Re(regex) => regex.is_match(value),
        MatchOp::NotRe(regex) => !regex.is_match(value),
    }
}

/// Whether a selector names the metric in its matchers rather than before the
/// braces.
pub fn has_metric_name_matcher(matchers: &Matchers) -> bool {
    matchers
        .matchers
        .iter()
        .chain(matchers.or_matchers.iter().flatten())
        .any(|m| m.name == METRIC_NAME)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::prometheus::promql::value::stale_nan;

    fn selector_matchers(selector: &str) -> (Option<String>, Matchers) {
        match crate::prometheus::promql::parse_promql(selector).expect("test selector parses") {
            promql_parser::parser::Expr::VectorSelector(vs) => (vs.name, vs.matchers),
            other => panic!("not a selector: {other:?}"),
        }
    }

    fn store() -> Storage {
        let mut storage = Storage::new();
        for (name, job) in [("up", "api"), ("up", "db"), ("down", "apiary")] {
            storage.append(
                &Labels::from_pairs([(METRIC_NAME, name), ("job", job)]),
                0,
                1.0,
            );
        }
        storage
    }

    fn selected_jobs(storage: &Storage, selector: &str) -> Vec<String> {
        let (name, matchers) = selector_matchers(selector);
        storage
            .select(name.as_deref(), &matchers)
            .into_iter()
            .map(|id| storage.series(id).labels.get("job").to_string())
            .collect()
    }

    #[test]
    fn all_four_matcher_kinds() {
        let storage = store();
        assert_eq!(selected_jobs(&storage, r#"up{job="api"}"#), vec!["api"]);
        assert_eq!(selected_jobs(&storage, r#"up{job!="api"}"#), vec!["db"]);
        assert_eq!(selected_jobs(&storage, r#"{job=~"api"}"#), vec!["api"]);
        assert_eq!(selected_jobs(&storage, r#"up{job!~"api.*"}"#), vec!["db"]);
    }

    #[test]
    fn regexes_are_fully_anchored() {
        let storage = store();
        assert_eq!(
            selected_jobs(&storage, r#"{job=~"pi"}"#),
            Vec::<String>::new()
        );
        assert_eq!(
            selected_jobs(&storage, r#"{job=~"a.*"}"#),
            vec!["api", "apiary"]
        );
    }

    /// Series come out in the order they were created, whatever their labels.
    #[test]
    fn selection_follows_creation_order() {
        let mut storage = Storage::new();
        for job in ["c", "a", "b"] {
            storage.append(
                &Labels::from_pairs([(METRIC_NAME, "up"), ("job", job)]),
                0,
                1.0,
            );
        }
        storage.append(
            &Labels::from_pairs([(METRIC_NAME, "up"), ("job", "a")]),
            1,
            2.0,
        );
        assert_eq!(selected_jobs(&storage, "up"), vec!["c", "a", "b"]);
        assert_eq!(selected_jobs(&storage, r#"{job=~"[bc]"}"#), vec!["c", "b"]);
    }

    /// A storage rebuilt in another order selects in that order.
    #[test]
    fn reordering_moves_series_and_their_samples() {
        let mut storage = Storage::new();
        for (job, value) in [("a", 1.0), ("b", 2.0), ("c", 3.0)] {
            storage.append(
                &Labels::from_pairs([(METRIC_NAME, "up"), ("job", job)]),
                0,
                value,
            );
        }
        let storage = storage.reordered(&[2, 0, 1]);
        assert_eq!(selected_jobs(&storage, "up"), vec!["c", "a", "b"]);
        assert_eq!(storage.series(0).values, vec![3.0]);
        let b = Labels::from_pairs([(METRIC_NAME, "up"), ("job", "b")]);
        assert_eq!(storage.clone().series_id(&b), 2);
    }

    #[test]
    fn stale_markers_are_kept_and_counted_and_replaced() {
        let mut storage = Storage::new();
        let labels = Labels::from_pairs([(METRIC_NAME, "x")]);
        storage.append(&labels, 0, 1.0);
        storage.append(&labels, 60_000, stale_nan());
        assert_eq!(storage.series(0).stale_count, 1);
        assert!(is_stale_nan(storage.series(0).values[1]));
        storage.append(&labels, 60_000, 2.0);
        assert_eq!(storage.series(0).stale_count, 0);
        storage.append(&labels, 30_000, 3.0);
        assert_eq!(storage.series(0).timestamps, vec![0, 30_000, 60_000]);
    }
}
