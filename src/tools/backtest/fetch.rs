//! `mlslo backtest --prometheus-url`: the raw history of exactly the series the
//! rules read, pulled from a Prometheus-compatible query API (Prometheus, Thanos,
//! Mimir) in time chunks with a bounded number of requests in flight.
//!
//! How: for each selector, the instant query `SELECTOR[CHUNK]` at the chunk's end
//! returns the stored samples of the chunk, not resampled values as `query_range`
//! would. Chunks tile the range; Prometheus 2 includes both window
//! ends (3 only the right one), so a sample on a border can come twice and is kept
//! once.
//!
//! Invariants: the server is reached only through [`PrometheusApi`], which the CLI
//! implements; the plan ([`plan_fetch`]) is pure and deterministic; at most the given
//! number of requests are in flight; responses are merged in plan order whatever
//! order they arrive in; series the rules write themselves (recorded names, `ALERTS`,
//! `ALERTS_FOR_STATE`) are never fetched, as the backtest computes them; an error
//! names the selector and the time range it was fetching; a selector that matched no
//! series, or series sparser than the 5m lookback, is named in a warning.

use std::collections::{BTreeMap, BTreeSet};
use std::future::Future;
use std::pin::Pin;
use std::task::Poll;

use promql_parser::label::METRIC_NAME;
use promql_parser::parser::{Expr, VectorSelector};

use super::data::{parse_matrix_json, Dataset};
use crate::prometheus::http_api::PrometheusApi;
use crate::prometheus::promql::Labels;
use crate::prometheus::ruler::group::{fixed_metric_name, written_metric_names};
use crate::prometheus::ruler::RuleGroup;

/// Prometheus' default lookback of an instant selector.
const LOOKBACK_DELTA_MS: i64 = 5 * 60 * 1000;

/// What to fetch, and how: each selector over one time range, in chunks, with a
/// bounded number of requests in flight.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FetchPlan {
    /// Selector texts without `offset`/`@`, sorted and distinct.
    pub selectors: Vec<String>,
    /// Metric names the rules write ([`written_metric_names`]); fetched series with
    /// these names are dropped.
    pub written: BTreeSet<String>,
    /// Chunk windows `(from_ms, to_ms]`, ascending, tiling the range exactly.
    pub chunks: Vec<(i64, i64)>,
    /// Requests in flight at once (0 counts as 1).
    pub concurrency: usize,
}

impl FetchPlan {
    /// One request per selector and chunk, selector-major.
    pub fn requests(&self) -> Vec<(usize, (i64, i64))> {
        (0..self.selectors.len())
            .flat_map(|selector| self.chunks.iter().map(move |chunk| (selector, *chunk)))
            .collect()
    }
}

/// The plan for evaluating `groups` from `start_ms` to `end_ms`: every selector the
/// rules read, over the range widened by the longest history (range, offset,
/// subquery, lookback) any expression needs, cut into chunks of `chunk_ms`, with
/// `concurrency` requests in flight.
pub fn plan_fetch(
    groups: &[RuleGroup],
    start_ms: i64,
    end_ms: i64,
    chunk_ms: i64,
    concurrency: usize,
) -> FetchPlan {
    let written = written_metric_names(groups);
    let mut selectors = BTreeSet::new();
    let mut reach = Reach::default();
    for group in groups {
        for rule in &group.rules {
            collect_selectors(&rule.expr, Reach::default(), &mut |selector, needs| {
                let name = fixed_metric_name(selector);
                if name.is_some_and(|name| written.contains(&name)) {
                    return;
                }
                let mut bare = selector.clone();
                bare.offset = None;
                bare.at = None;
                selectors.insert(bare.to_string());
                reach.before_ms = reach.before_ms.max(needs.before_ms);
                reach.after_ms = reach.after_ms.max(needs.after_ms);
            });
        }
    }
    let from_ms = start_ms - reach.before_ms;
    let to_ms = end_ms + reach.after_ms;
    let chunk_ms = chunk_ms.max(1);
    let mut chunks = Vec::new();
    // The first window starts a millisecond early so that a sample exactly at
    // `from_ms` is inside a left-open window too.
    let mut chunk_from = from_ms - 1;
    while chunk_from < to_ms {
        let chunk_to = (chunk_from + chunk_ms).min(to_ms);
        chunks.push((chunk_from, chunk_to));
        chunk_from = chunk_to;
    }
    FetchPlan {
        selectors: selectors.into_iter().collect(),
        written,
        chunks,
        concurrency,
    }
}

/// How far before and after the evaluation time a selector reads.
#[derive(Clone, Copy, Debug, Default)]
struct Reach {
    before_ms: i64,
    after_ms: i64,
}

impl Reach {
    fn shifted(self, offset_ms: i64, window_ms: i64) -> Reach {
        Reach {
            before_ms: self.before_ms + offset_ms.max(0) + window_ms,
            after_ms: self.after_ms + (-offset_ms).max(0),
        }
    }
}

fn offset_ms(offset: &Option<promql_parser::parser::Offset>) -> i64 {
    match offset {
        Some(promql_parser::parser::Offset::Pos(d)) => d.as_millis() as i64,
        Some(promql_parser::parser::Offset::Neg(d)) => -(d.as_millis() as i64),
        None => 0,
    }
}

/// Calls `found` with every selector of `expr` and the reach it needs, given the
/// reach `outer` of the subqueries around it.
fn collect_selectors(expr: &Expr, outer: Reach, found: &mut dyn FnMut(&VectorSelector, Reach)) {
    match expr {
        Expr::VectorSelector(selector) => found(
            selector,
            outer.shifted(offset_ms(&selector.offset), LOOKBACK_DELTA_MS),
        ),
        Expr::MatrixSelector(matrix) => found(
            &matrix.vs,
            outer.shifted(
                offset_ms(&matrix.vs.offset),
                matrix.range.as_millis() as i64,
            ),
        ),
        Expr::Subquery(subquery) => collect_selectors(
            &subquery.expr,
            outer.shifted(
                offset_ms(&subquery.offset),
                subquery.range.as_millis() as i64,
            ),
            found,
        ),
        Expr::Aggregate(aggregate) => {
            if let Some(param) = &aggregate.param {
                collect_selectors(param, outer, found);
            }
            collect_selectors(&aggregate.expr, outer, found);
        }
        Expr::Unary(unary) => collect_selectors(&unary.expr, outer, found),
        Expr::Binary(binary) => {
            collect_selectors(&binary.lhs, outer, found);
            collect_selectors(&binary.rhs, outer, found);
        }
        Expr::Paren(paren) => collect_selectors(&paren.expr, outer, found),
        Expr::Call(call) => {
            for arg in &call.args.args {
                collect_selectors(arg, outer, found);
            }
        }
        Expr::NumberLiteral(_) | Expr::StringLiteral(_) | Expr::Extension(_) => {}
    }
}

/// Runs `plan` against `api` with at most its `concurrency` requests in flight;
/// `progress(done, total)` after each answer. The first failure ends the fetch and
/// drops the requests still in flight.
pub async fn fetch(
    api: &impl PrometheusApi,
    plan: &FetchPlan,
    progress: &mut dyn FnMut(usize, usize),
) -> Result<Fetched, String> {
    let requests = plan.requests();
    let total = requests.len();
    let mut answers: BTreeMap<usize, String> = BTreeMap::new();
    let mut in_flight = Vec::new();
    let mut next = 0;
    while answers.len() < total {
        while next < total && in_flight.len() < plan.concurrency.max(1) {
            let (selector_index, (from_ms, to_ms)) = requests[next];
            let query = format!("{}[{}ms]", plan.selectors[selector_index], to_ms - from_ms);
            in_flight.push((next, Box::pin(api.instant_query(query, Some(to_ms)))));
            next += 1;
        }
        let (index, outcome) = first_finished(&mut in_flight).await;
        let (selector_index, chunk) = requests[index];
        let response = outcome.map_err(|error| {
            let hint = match &error.status {
                Some((422, body)) if body.contains("too many samples") => {
                    "\nhint: give a smaller --chunk"
                }
                _ => "",
            };
            format!(
                "fetching `{}` for ({}, {}]: {error}{hint}",
                plan.selectors[selector_index],
                super::format_time(chunk.0),
                super::format_time(chunk.1)
            )
        })?;
        answers.insert(index, response);
        progress(answers.len(), total);
    }
    let mut samples: BTreeMap<Labels, BTreeMap<i64, f64>> = BTreeMap::new();
    let mut series_of_selector: Vec<BTreeSet<Labels>> = vec![BTreeSet::new(); plan.selectors.len()];
    for (index, body) in &answers {
        let (selector_index, chunk) = requests[*index];
        let name = format!(
            "`{}` at {}",
            plan.selectors[selector_index],
            super::format_time(chunk.1)
        );
        let dataset = parse_matrix_json(&name, body)?;
        for (labels, points) in dataset.series {
            if plan.written.contains(labels.get(METRIC_NAME)) {
                continue;
            }
            series_of_selector[selector_index].insert(labels.clone());
            let series = samples.entry(labels).or_default();
            for (ts, value) in points {
                series.insert(ts, value);
            }
        }
    }
    let coverage: Vec<(usize, usize)> = series_of_selector
        .iter()
        .map(|series| {
            let count = series
                .iter()
                .map(|labels| samples.get(labels).map_or(0, BTreeMap::len))
                .sum();
            (series.len(), count)
        })
        .collect();
    Ok(Fetched {
        dataset: Dataset {
            series: samples
                .into_iter()
                .map(|(labels, points)| (labels, points.into_iter().collect()))
                .collect(),
        },
        warnings: match (plan.chunks.first(), plan.chunks.last()) {
            (Some(first), Some(last)) => {
                coverage_warnings(&plan.selectors, (first.0 + 1, last.1), &coverage)
            }
            _ => Vec::new(),
        },
    })
}

/// The warnings of [`fetch`] for history read from files: each selector of `plan`
/// that matches no series of `dataset`, or whose series hold fewer samples than one
/// per 5m from `start_ms` to `end_ms`. The evaluation range is what is judged, not
/// the plan's widened one: files often start where the range does, and a long
/// window reaching before them is no gap.
pub fn dataset_warnings(
    plan: &FetchPlan,
    dataset: &Dataset,
    start_ms: i64,
    end_ms: i64,
) -> Vec<String> {
    let storage = dataset.to_storage();
    let coverage: Vec<(usize, usize)> = plan
        .selectors
        .iter()
        .map(|text| {
            let Ok(Expr::VectorSelector(selector)) =
                crate::prometheus::promql::parse::parse_promql(text)
            else {
                return (0, 0);
            };
            let ids: Vec<usize> = storage
                .select(selector.name.as_deref(), &selector.matchers)
                .into_iter()
                .filter(|&id| {
                    !plan
                        .written
                        .contains(storage.series(id).labels.metric_name())
                })
                .collect();
            let samples = ids
                .iter()
                .map(|&id| {
                    let timestamps = &storage.series(id).timestamps;
                    timestamps.partition_point(|&ts| ts <= end_ms)
                        - timestamps.partition_point(|&ts| ts < start_ms)
                })
                .sum();
            (ids.len(), samples)
        })
        .collect();
    coverage_warnings(&plan.selectors, (start_ms, end_ms), &coverage)
}

/// What a fetch brought back: the history, and a warning per selector whose
/// history is empty or too sparse to replay the rules faithfully.
#[derive(Clone, Debug, PartialEq)]
pub struct Fetched {
    pub dataset: Dataset,
    pub warnings: Vec<String>,
}

/// A warning for each of `selectors` that matched no series, or whose series hold
/// on average fewer samples than one per [`LOOKBACK_DELTA_MS`] from `from_ms` to
/// `to_ms` (an instant read then finds nothing between samples); `coverage` is
/// (series, samples) per selector, in the same order.
fn coverage_warnings(
    selectors: &[String],
    (from_ms, to_ms): (i64, i64),
    coverage: &[(usize, usize)],
) -> Vec<String> {
    let span = format!(
        "from {} to {}",
        super::format_time(from_ms),
        super::format_time(to_ms)
    );
    let mut warnings = Vec::new();
    for (selector, &(series, samples)) in selectors.iter().zip(coverage) {
        if series == 0 {
            warnings.push(format!(
                "`{selector}` matched no series {span}: the rules that read it see no data"
            ));
            continue;
        }
        let wanted = (to_ms - from_ms) / LOOKBACK_DELTA_MS;
        let average = samples / series;
        if (average as i64) < wanted {
            warnings.push(format!(
                "`{selector}`: {series} series with {average} samples each on average {span}, \
                 fewer than one per 5m (Prometheus' lookback): the rules see gaps"
            ));
        }
    }
    warnings
}

/// Waits for the first of the requests in flight to finish and takes it out: its
/// index in the plan's requests and its outcome. Every request is polled each time
/// any of them wakes, which is cheap for the few a fetch keeps in flight.
async fn first_finished<F: Future + Unpin>(in_flight: &mut Vec<(usize, F)>) -> (usize, F::Output) {
    std::future::poll_fn(|context| {
        for position in 0..in_flight.len() {
            if let Poll::Ready(outcome) = Pin::new(&mut in_flight[position].1).poll(context) {
                let (index, _) = in_flight.swap_remove(position);
                return Poll::Ready((index, outcome));
            }
        }
        Poll::Pending
    })
    .await
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::prometheus::http_api::fake::{block_on, status_error, Answer, FakeApi};
    use crate::prometheus::ruler::group::ALERTS_METRIC;
    use crate::prometheus::ruler::load_rule_file;

    fn groups(text: &str) -> Vec<RuleGroup> {
        load_rule_file("rules.yml", text, super::super::RULE_FILE_OPTIONS).expect("valid rules")
    }

    const RULES: &str = r#"
groups:
  - name: g
    rules:
      - record: job:errors:rate5m
        expr: sum by (job) (rate(errors_total{code=~"5.."}[5m] offset 1m))
      - alert: High
        expr: job:errors:rate5m / on (job) sum by (job) (rate(requests_total[10m])) > 0.1
      - alert: Forecast
        expr: predict_linear(disk_free[1h:5m] offset 30m, 3600) < 0 and on () ALERTS{alertname="High"}
      - alert: Up
        expr: up{job="api"} == 0 or absent(up{job="api"} offset -2m)
"#;

    #[test]
    fn plans_every_read_selector_but_written_ones_over_the_widest_history() {
        let plan = plan_fetch(&groups(RULES), 10_000_000, 20_000_000, 3_600_000, 4);
        assert_eq!(
            plan.selectors,
            vec![
                "disk_free",
                r#"errors_total{code=~"5.."}"#,
                "requests_total",
                r#"up{job="api"}"#
            ]
        );
        assert!(plan.written.contains("job:errors:rate5m") && plan.written.contains(ALERTS_METRIC));
        // disk_free: subquery of 1h offset 30m, then the 5m lookback inside it.
        let before = 3_600_000 + 1_800_000 + LOOKBACK_DELTA_MS;
        // up offset -2m reads two minutes past the end.
        let after = 120_000;
        assert_eq!(
            plan.chunks.first().map(|c| c.0),
            Some(10_000_000 - before - 1)
        );
        assert_eq!(plan.chunks.last().map(|c| c.1), Some(20_000_000 + after));
    }

    /// Two selectors over two one-minute chunks; the first chunk starts a millisecond
    /// early, as [`plan_fetch`] makes it.
    fn two_by_two() -> FetchPlan {
        FetchPlan {
            selectors: vec!["a".to_string(), "b".to_string()],
            written: BTreeSet::from(["rec".to_string()]),
            chunks: vec![(-1, 60_000), (60_000, 120_000)],
            concurrency: 4,
        }
    }

    fn matrix(series: &[(&str, &[(i64, f64)])]) -> String {
        let result: Vec<String> = series
            .iter()
            .map(|(name, points)| {
                let values: Vec<String> = points
                    .iter()
                    .map(|(seconds, value)| format!("[{seconds},\"{value}\"]"))
                    .collect();
                format!(
                    r#"{{"metric":{{"__name__":"{name}"}},"values":[{}]}}"#,
                    values.join(",")
                )
            })
            .collect();
        format!(
            r#"{{"status":"success","data":{{"resultType":"matrix","result":[{}]}}}}"#,
            result.join(",")
        )
    }

    /// Answers of [`two_by_two`]: the first chunk comes last, and both chunks hold
    /// the sample at 60s with different values, so arrival order would show.
    fn answer(query: &str, at_ms: Option<i64>) -> Answer {
        let body = match (query, at_ms) {
            ("a[60001ms]", Some(60_000)) => matrix(&[("a", &[(0, 1.0), (60, 2.0)])]),
            ("a[60000ms]", Some(120_000)) => {
                matrix(&[("a", &[(60, 20.0), (120, 3.0)]), ("rec", &[(120, 9.0)])])
            }
            ("b[60001ms]", Some(60_000)) => matrix(&[("b", &[(30, 5.0)])]),
            ("b[60000ms]", Some(120_000)) => matrix(&[("b", &[(90, 6.0)])]),
            other => panic!("unplanned request {other:?}"),
        };
        let polls = if at_ms == Some(60_000) { 5 } else { 0 };
        (Ok(body), polls)
    }

    #[test]
    fn answers_are_merged_in_plan_order_whatever_order_they_arrive_in() {
        let api = FakeApi::new(answer);
        let mut progress = Vec::new();
        let fetched = block_on(fetch(&api, &two_by_two(), &mut |done, total| {
            progress.push((done, total))
        }))
        .expect("every answer parses");
        // Two minutes are shorter than the lookback: no selector can be sparse.
        assert_eq!(fetched.warnings, Vec::<String>::new());
        let series: Vec<(String, Vec<(i64, f64)>)> = fetched
            .dataset
            .series
            .into_iter()
            .map(|(labels, points)| (labels.metric_name().to_string(), points))
            .collect();
        assert_eq!(
            series,
            [
                (
                    "a".to_string(),
                    vec![(0, 1.0), (60_000, 20.0), (120_000, 3.0)]
                ),
                ("b".to_string(), vec![(30_000, 5.0), (90_000, 6.0)]),
            ]
        );
        assert_eq!(progress, [(1, 4), (2, 4), (3, 4), (4, 4)]);
    }

    #[test]
    fn data_from_files_is_judged_over_the_evaluation_range() {
        let rules = groups(
            "groups:\n  - name: g\n    rules:\n      \
             - record: job:up:sum\n        expr: sum(up{job=\"a\"}) + sum(queue_depth) + sum(absent_metric)\n      \
             - alert: Down\n        expr: job:up:sum < 1\n",
        );
        let plan = plan_fetch(&rules, 0, 3_600_000, 3_600_000, 1);
        let mut dataset = Dataset::default();
        dataset
            .add_file(
                "d.series",
                // up: a sample a minute; queue_depth: one every 10 minutes; the
                // recorded series in the file is the rules' own, not read.
                "up{job=\"a\"} 1x60\nup{job=\"b\"} _x60\n\
                 job:up:sum 1x60\n",
            )
            .expect("valid series");
        dataset
            .add_file("q.series", "interval: 10m\nqueue_depth 1x6\n")
            .expect("valid series");
        assert_eq!(
            dataset_warnings(&plan, &dataset, 0, 3_600_000),
            [
                "`absent_metric` matched no series from 1970-01-01T00:00:00Z to \
                 1970-01-01T01:00:00Z: the rules that read it see no data",
                "`queue_depth`: 1 series with 7 samples each on average from \
                 1970-01-01T00:00:00Z to 1970-01-01T01:00:00Z, fewer than one per 5m \
                 (Prometheus' lookback): the rules see gaps",
            ]
        );
        // Over its first ten minutes, queue_depth's two samples are enough.
        assert_eq!(
            dataset_warnings(&plan, &dataset, 0, 600_000),
            [
                "`absent_metric` matched no series from 1970-01-01T00:00:00Z to \
              1970-01-01T00:10:00Z: the rules that read it see no data"
            ]
        );
    }

    #[test]
    fn an_empty_or_sparse_selector_is_named_in_a_warning() {
        let plan = FetchPlan {
            selectors: vec!["full".into(), "sparse".into(), "absent".into()],
            written: BTreeSet::new(),
            // One hour: twelve lookbacks.
            chunks: vec![(-1, 1_800_000), (1_800_000, 3_600_000)],
            concurrency: 1,
        };
        // Two series of 13 samples; two series of 11 and 12; nothing.
        let warnings =
            coverage_warnings(&plan.selectors, (0, 3_600_000), &[(2, 26), (2, 23), (0, 0)]);
        assert_eq!(
            warnings,
            [
                "`sparse`: 2 series with 11 samples each on average from 1970-01-01T00:00:00Z \
                 to 1970-01-01T01:00:00Z, fewer than one per 5m (Prometheus' lookback): the \
                 rules see gaps",
                "`absent` matched no series from 1970-01-01T00:00:00Z to \
                 1970-01-01T01:00:00Z: the rules that read it see no data",
            ]
        );
    }

    #[test]
    fn no_more_requests_are_in_flight_than_allowed() {
        for (concurrency, most) in [(0, 1), (1, 1), (3, 3), (10, 4)] {
            let api = FakeApi::new(answer);
            let plan = FetchPlan {
                concurrency,
                ..two_by_two()
            };
            block_on(fetch(&api, &plan, &mut |_, _| {})).expect("answers");
            assert_eq!(api.most_in_flight.get(), most, "concurrency {concurrency}");
            assert_eq!(api.asked.borrow().len(), 4);
        }
    }

    #[test]
    fn a_failure_names_the_selector_and_chunk_and_hints_at_smaller_chunks() {
        let fail_with = |status: u16, body: &'static str| {
            FakeApi::new(move |query, at_ms| {
                if query.starts_with('b') && at_ms == Some(120_000) {
                    (Err(status_error(status, body)), 0)
                } else {
                    answer(query, at_ms)
                }
            })
        };
        let too_many = r#"{"status":"error","error":"query processing would load too many samples into memory"}"#;
        let error = block_on(fetch(
            &fail_with(422, too_many),
            &FetchPlan {
                concurrency: 2,
                ..two_by_two()
            },
            &mut |_, _| {},
        ))
        .expect_err("422");
        assert_eq!(
            error,
            format!(
                "fetching `b` for (1970-01-01T00:01:00Z, 1970-01-01T00:02:00Z]: \
                 POST http://fake/api/v1/query: HTTP 422: {too_many}\n\
                 hint: give a smaller --chunk"
            )
        );
        let error = block_on(fetch(
            &fail_with(503, "busy"),
            &FetchPlan {
                concurrency: 2,
                ..two_by_two()
            },
            &mut |_, _| {},
        ))
        .expect_err("503");
        assert!(error.ends_with("HTTP 503: busy"), "{error}");
    }

    #[test]
    fn chunks_tile_the_range_without_gaps_or_overlaps() {
        // The 1 ms chunk gets a short range: 36M chunks of it took 19 s in a debug build.
        for (end_ms, chunk_ms) in [
            (10_007, 1),
            (36_000_000, 999),
            (36_000_000, 3_600_000),
            (36_000_000, 7_200_000),
            (36_000_000, 100_000_000),
        ] {
            let plan = plan_fetch(&groups(RULES), 0, end_ms, chunk_ms, 4);
            let chunks = &plan.chunks;
            assert!(chunks.windows(2).all(|w| w[0].1 == w[1].0), "{chunk_ms}");
            assert!(chunks.iter().all(|c| c.1 - c.0 <= chunk_ms && c.1 > c.0));
            assert_eq!(plan.requests().len(), plan.selectors.len() * chunks.len());
        }
    }
}
