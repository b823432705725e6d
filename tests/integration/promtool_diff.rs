//! Differential test against the real promtool 2.42 (`/usr/bin/promtool`):
//! generated series and expressions are evaluated by us, our results are
//! written as the expected samples of a promtool `test rules` file, and
//! promtool, which compares floats exactly in 2.42, must agree. A second
//! generator writes rule and unit-test files that both `mlslo test` and
//! `promtool test rules` run, for what the rule evaluation and the test runner
//! add to the engine (see [`unit_tests_agree_with_promtool`]).
//!
//! Invariants: generation is seeded and deterministic; values are printed in
//! their shortest round-trip form so promtool's exact comparison applies; a
//! result that is NaN cannot be expected in promtool 2.42 (it compares with
//! `reflect.DeepEqual`, and NaN != NaN), so every expression `E` is checked
//! twice: `(E) unless ((E) != (E))` for the non-NaN values and
//! `(E) != bool (E)` for where the NaNs are.
//!
//! Without the `CI` environment variable a missing promtool only prints a
//! notice; with `CI` set it fails the test.

use std::fmt::Write as _;
use std::path::Path;
use std::process::Command;

use mlslo::prometheus::promql::functions::{
    bucket_quantile, elementwise_function, range_function, RangeContext,
};
use mlslo::prometheus::promql::value::Window;
use mlslo::prometheus::promql::Semantics;

use crate::support::{installed, scratch, Scratch, PROMTOOL};

const MINUTE: i64 = 60_000;
const LOOKBACK: i64 = 5 * MINUTE;

/// splitmix64: a small, well-mixed, seedable generator.
struct Rng(u64);

impl Rng {
    fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn below(&mut self, bound: u64) -> u64 {
        self.next_u64() % bound
    }

    fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }

    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len() as u64) as usize]
    }
}

#[derive(Clone, Copy, Debug)]
enum Slot {
    Value(f64),
    Missing,
    Stale,
}

/// One input series: a sample slot every minute from t=0.
struct GeneratedSeries {
    metric: String,
    labels: Vec<(String, String)>,
    slots: Vec<Slot>,
}

impl GeneratedSeries {
    fn selector(&self) -> String {
        let mut text = format!("{}{{", self.metric);
        for (index, (name, value)) in self.labels.iter().enumerate() {
            if index > 0 {
                text.push(',');
            }
            write!(text, "{name}=\"{value}\"").expect("writing to a String cannot fail");
        }
        text.push('}');
        text
    }

    fn labels_without_name(&self) -> String {
        let selector = self.selector();
        selector[self.metric.len()..].to_owned()
    }

    /// The series' float samples, stale markers included as `None`.
    fn samples(&self) -> Vec<(i64, Option<f64>)> {
        self.slots
            .iter()
            .enumerate()
            .filter_map(|(index, slot)| {
                let time = index as i64 * MINUTE;
                match slot {
                    Slot::Value(value) => Some((time, Some(*value))),
                    Slot::Stale => Some((time, None)),
                    Slot::Missing => None,
                }
            })
            .collect()
    }

    /// The promqltest/promtool notation, using `a+bxn` for arithmetic runs.
    /// promtool expands `a+bxn` by repeated addition, so runs are detected
    /// by the same repeated addition to stay bit-exact.
    fn notation(&self) -> String {
        let mut parts = Vec::new();
        let mut index = 0;
        while index < self.slots.len() {
            match self.slots[index] {
                Slot::Missing => {
                    parts.push("_".to_owned());
                    index += 1;
                }
                Slot::Stale => {
                    parts.push("stale".to_owned());
                    index += 1;
                }
                Slot::Value(start) => {
                    let mut run = 1;
                    if let Some(Slot::Value(second)) = self.slots.get(index + 1) {
                        let step = second - start;
                        let mut current = start;
                        while let Some(Slot::Value(next)) = self.slots.get(index + run) {
                            let expected = current + step;
                            if step.is_finite() && expected.to_bits() == next.to_bits() {
                                current = expected;
                                run += 1;
                            } else {
                                break;
                            }
                        }
                        if run >= 3 {
                            let sign = if step < 0.0 { '-' } else { '+' };
                            parts.push(format!(
                                "{}{sign}{}x{}",
                                series_number(start),
                                series_number(step.abs()),
                                run - 1
                            ));
                            index += run;
                            continue;
                        }
                    }
                    parts.push(series_number(start));
                    index += 1;
                }
            }
        }
        parts.join(" ")
    }
}

/// A number in the series notation, which Go parses with ParseFloat.
fn series_number(value: f64) -> String {
    if value.is_nan() {
        "NaN".to_owned()
    } else if value == f64::INFINITY {
        "Inf".to_owned()
    } else if value == f64::NEG_INFINITY {
        "-Inf".to_owned()
    } else {
        format!("{value:?}")
    }
}

/// A YAML float that yaml.v2 reads back to exactly `value`.
fn yaml_number(value: f64) -> String {
    if value == f64::INFINITY {
        ".inf".to_owned()
    } else if value == f64::NEG_INFINITY {
        "-.inf".to_owned()
    } else {
        format!("{value:?}")
    }
}

fn generate_series(rng: &mut Rng, slots: usize) -> Vec<GeneratedSeries> {
    let mut all = Vec::new();
    for instance in 0..4 {
        // Counters: integer increments, occasional resets, gaps and stale runs.
        let mut counter_slots = Vec::with_capacity(slots);
        let mut value = rng.below(50) as f64;
        let increment = [0.0, 1.0, 3.0, 7.5, 12.0, 250.0][instance + rng.below(2) as usize];
        let mut index = 0;
        while index < slots {
            if rng.chance(4) {
                counter_slots.push(Slot::Missing);
            } else if rng.chance(2) {
                counter_slots.push(Slot::Stale);
            } else {
                if rng.chance(5) {
                    value = rng.below(4) as f64;
                } else if rng.chance(30) {
                    value += rng.below(20) as f64;
                } else {
                    value += increment;
                }
                counter_slots.push(Slot::Value(value));
            }
            index += 1;
        }
        all.push(GeneratedSeries {
            metric: "c".to_owned(),
            labels: vec![
                ("job".to_owned(), ["api", "db"][instance % 2].to_owned()),
                ("k".to_owned(), format!("c{instance}")),
            ],
            slots: counter_slots,
        });
        // Gauges: fractional values of both signs, specials, gaps, stale.
        let mut gauge_slots = Vec::with_capacity(slots);
        let mut gauge = (rng.below(200) as f64 - 100.0) / 8.0;
        for _ in 0..slots {
            let slot = if rng.chance(5) {
                Slot::Missing
            } else if rng.chance(2) {
                Slot::Stale
            } else if instance == 3 && rng.chance(3) {
                Slot::Value(*rng.pick(&[f64::NAN, f64::INFINITY, f64::NEG_INFINITY]))
            } else {
                if rng.chance(60) {
                    gauge += (rng.below(41) as f64 - 20.0) / 4.0;
                }
                Slot::Value(gauge)
            };
            gauge_slots.push(slot);
        }
        all.push(GeneratedSeries {
            metric: "g".to_owned(),
            labels: vec![
                ("job".to_owned(), ["api", "db"][instance % 2].to_owned()),
                ("k".to_owned(), format!("g{instance}")),
            ],
            slots: gauge_slots,
        });
    }
    // Unix times for the date functions.
    let mut date_slots = Vec::with_capacity(slots);
    let mut unix_time = 946_684_800.0 + rng.below(1_000_000_000) as f64;
    for _ in 0..slots {
        unix_time += rng.below(40_000_000) as f64 + 0.5;
        date_slots.push(Slot::Value(unix_time));
    }
    all.push(GeneratedSeries {
        metric: "d".to_owned(),
        labels: vec![("k".to_owned(), "d0".to_owned())],
        slots: date_slots,
    });
    // One classic histogram: cumulative bucket counters growing together.
    let bounds = ["0.05", "0.1", "0.5", "1", "+Inf"];
    let mut cumulative_steps = Vec::new();
    for _ in 0..slots {
        let mut step = Vec::new();
        let mut total = 0.0;
        for _ in &bounds {
            total += rng.below(6) as f64;
            step.push(total);
        }
        cumulative_steps.push(step);
    }
    for (bucket, bound) in bounds.iter().enumerate() {
        let mut count = 0.0;
        let bucket_slots = cumulative_steps
            .iter()
            .map(|step| {
                count += step[bucket];
                Slot::Value(count)
            })
            .collect();
        all.push(GeneratedSeries {
            metric: "h_bucket".to_owned(),
            labels: vec![("le".to_owned(), (*bound).to_owned())],
            slots: bucket_slots,
        });
    }
    all
}

/// One promtool `promql_expr_test`: an expression, a time, our samples.
struct PromtoolCase {
    expr: String,
    eval_time_seconds: i64,
    samples: Vec<(String, f64)>,
}

/// The float window `[t-range, t]` (V2) of `series`, stale markers dropped.
fn range_window(series: &GeneratedSeries, end: i64, range: i64) -> (Vec<i64>, Vec<f64>) {
    let mut timestamps = Vec::new();
    let mut values = Vec::new();
    for (time, value) in series.samples() {
        if time >= end - range && time <= end {
            if let Some(value) = value {
                timestamps.push(time);
                values.push(value);
            }
        }
    }
    (timestamps, values)
}

/// The instant-vector value of `series` at `time` under V2's lookback
/// `[t-5m, t]`: the newest sample, absent when it is a stale marker.
fn instant_value(series: &GeneratedSeries, time: i64) -> Option<f64> {
    series
        .samples()
        .into_iter()
        .rev()
        .find(|(sample_time, _)| *sample_time <= time && *sample_time >= time - LOOKBACK)
        .and_then(|(_, value)| value)
}

/// Splits `E` into its NaN-free and NaN-position checks (see the module doc).
fn push_checks(
    cases: &mut Vec<PromtoolCase>,
    expr: &str,
    eval_time: i64,
    results: &[(String, String, f64)],
) {
    let eval_time_seconds = eval_time / 1000;
    cases.push(PromtoolCase {
        expr: format!("({expr}) unless (({expr}) != ({expr}))"),
        eval_time_seconds,
        samples: results
            .iter()
            .filter(|(_, _, value)| !value.is_nan())
            .map(|(with_name, _, value)| (with_name.clone(), *value))
            .collect(),
    });
    cases.push(PromtoolCase {
        expr: format!("({expr}) != bool ({expr})"),
        eval_time_seconds,
        samples: results
            .iter()
            .map(|(_, without_name, value)| (without_name.clone(), f64::from(value.is_nan())))
            .collect(),
    });
}

const RANGE_FUNCTIONS_V2: &[&str] = &[
    "rate",
    "increase",
    "delta",
    "irate",
    "idelta",
    "deriv",
    "resets",
    "changes",
    "avg_over_time",
    "min_over_time",
    "max_over_time",
    "sum_over_time",
    "count_over_time",
    "stddev_over_time",
    "stdvar_over_time",
    "last_over_time",
    "present_over_time",
];

const ELEMENTWISE_FUNCTIONS: &[&str] = &[
    "abs", "ceil", "floor", "exp", "ln", "log2", "log10", "sqrt", "sgn", "sin", "cos", "tan",
    "asin", "acos", "atan", "sinh", "cosh", "tanh", "asinh", "acosh", "atanh", "deg", "rad",
];

/// Functions computed with Rust's `f64` methods (the platform libm), which
/// differ from Go's `math` package in the last bit for some inputs (a known
/// deviation, see `src/prometheus/promql/functions.rs`). promtool checks these within
/// 2 ulps instead of exactly.
const GO_MATH_WITHIN_ULPS: &[&str] = &[
    "exp", "ln", "log2", "log10", "sin", "cos", "tan", "asin", "acos", "atan", "sinh", "cosh",
    "tanh", "asinh", "acosh", "atanh",
];

/// One series' check for a [`GO_MATH_WITHIN_ULPS`] function: promtool itself
/// computes `|F(x) - ours|` and compares it with 2 ulps of our value.
fn push_ulp_check(
    cases: &mut Vec<PromtoolCase>,
    name: &str,
    series: &GeneratedSeries,
    eval_time: i64,
    ours: f64,
) {
    if ours.is_nan() {
        return;
    }
    let call = format!("{name}({})", series.selector());
    let eval_time_seconds = eval_time / 1000;
    let labels = series.labels_without_name();
    if ours.is_infinite() || ours == 0.0 {
        cases.push(PromtoolCase {
            expr: call,
            eval_time_seconds,
            samples: vec![(labels, ours)],
        });
        return;
    }
    let two_ulps = ours.abs() * f64::EPSILON * 2.0;
    cases.push(PromtoolCase {
        expr: format!("abs({call} - {}) <= bool {two_ulps:?}", series_number(ours)),
        eval_time_seconds,
        samples: vec![(labels, 1.0)],
    });
}

const DATE_FUNCTIONS: &[&str] = &[
    "year",
    "month",
    "day_of_month",
    "day_of_week",
    "day_of_year",
    "days_in_month",
    "hour",
    "minute",
];

/// Function-level cases: the test selects the windows itself (V2 rules), so
/// these check `src/prometheus/promql/functions.rs` independently of the engine.
fn function_cases(
    rng: &mut Rng,
    all_series: &[GeneratedSeries],
    slots: usize,
) -> Vec<PromtoolCase> {
    let mut cases = Vec::new();
    let last_time = (slots as i64 - 1) * MINUTE;
    let mut eval_times: Vec<i64> = (0..6)
        .map(|_| 5 * MINUTE + rng.below((last_time - 5 * MINUTE) as u64 / 1000) as i64 * 1000)
        .collect();
    eval_times.push(last_time);
    eval_times.push(last_time + 3 * MINUTE);
    let ranges = [
        MINUTE,
        2 * MINUTE,
        150_000,
        5 * MINUTE,
        10 * MINUTE,
        30 * MINUTE,
    ];
    let range_text = |range: i64| format!("{}s", range / 1000);
    let counters_and_gauges: Vec<&GeneratedSeries> = all_series
        .iter()
        .filter(|series| series.metric == "c" || series.metric == "g")
        .collect();

    for &eval_time in &eval_times {
        let semantics = Semantics::V2;
        for metric in ["c", "g"] {
            let members: Vec<&&GeneratedSeries> = counters_and_gauges
                .iter()
                .filter(|series| series.metric == metric)
                .collect();
            // Range functions, each with a random range.
            let mut range_calls: Vec<(String, &str, Vec<f64>)> = RANGE_FUNCTIONS_V2
                .iter()
                .map(|name| ((*name).to_owned(), *name, Vec::new()))
                .collect();
            let phi = *rng.pick(&[0.0, 0.25, 0.5, 0.9, 1.0, -0.5, 1.5]);
            range_calls.push((
                format!("quantile_over_time({phi:?}, "),
                "quantile_over_time",
                vec![phi],
            ));
            let seconds = *rng.pick(&[600.0, 3600.0, -120.0, 0.0]);
            range_calls.push(("predict_linear".to_owned(), "predict_linear", vec![seconds]));
            let (smoothing, trend) = (*rng.pick(&[0.1, 0.5, 0.9]), *rng.pick(&[0.2, 0.5, 0.8]));
            range_calls.push((
                "holt_winters".to_owned(),
                "holt_winters",
                vec![smoothing, trend],
            ));
            for (prefix, name, scalar_args) in range_calls {
                let range = *rng.pick(&ranges);
                let selector = format!("{metric}[{}]", range_text(range));
                let expr = if name == "quantile_over_time" {
                    format!("{prefix}{selector})")
                } else if scalar_args.is_empty() {
                    format!("{name}({selector})")
                } else {
                    let args: Vec<String> = scalar_args.iter().map(|a| format!("{a:?}")).collect();
                    format!("{name}({selector}, {})", args.join(", "))
                };
                let context = RangeContext {
                    eval_time,
                    range,
                    range_start: eval_time - range,
                    range_end: eval_time,
                    semantics,
                };
                let mut results = Vec::new();
                for series in &members {
                    let (timestamps, values) = range_window(series, eval_time, range);
                    if values.is_empty() {
                        continue;
                    }
                    let window = Window {
                        timestamps: &timestamps,
                        values: &values,
                    };
                    if let Some(value) = range_function(name, window, &context, &scalar_args) {
                        // Prometheus drops the metric name, except for last_over_time.
                        let with_name = if name == "last_over_time" {
                            series.selector()
                        } else {
                            series.labels_without_name()
                        };
                        results.push((with_name, series.labels_without_name(), value));
                    }
                }
                push_checks(&mut cases, &expr, eval_time, &results);
            }
            // Element-wise functions on the instant vector.
            let mut elementwise_calls: Vec<(String, &str, Vec<f64>)> = ELEMENTWISE_FUNCTIONS
                .iter()
                .map(|name| (format!("{name}({metric})"), *name, Vec::new()))
                .collect();
            let to_nearest = *rng.pick(&[1.0, 0.25, 0.1, 3.0, 10.0]);
            elementwise_calls.push((
                format!("round({metric}, {to_nearest:?})"),
                "round",
                vec![to_nearest],
            ));
            elementwise_calls.push((format!("round({metric})"), "round", Vec::new()));
            let (low, high) = (*rng.pick(&[-5.0, 0.0, 2.5]), *rng.pick(&[-10.0, 3.0, 40.0]));
            elementwise_calls.push((
                format!("clamp({metric}, {low:?}, {high:?})"),
                "clamp",
                vec![low, high],
            ));
            elementwise_calls.push((
                format!("clamp_min({metric}, {low:?})"),
                "clamp_min",
                vec![low],
            ));
            elementwise_calls.push((
                format!("clamp_max({metric}, {high:?})"),
                "clamp_max",
                vec![high],
            ));
            for (expr, name, scalar_args) in elementwise_calls {
                let mut results = Vec::new();
                for series in &members {
                    if let Some(value) = instant_value(series, eval_time) {
                        if let Some(result) = elementwise_function(name, value, &scalar_args) {
                            results.push((
                                series.labels_without_name(),
                                series.labels_without_name(),
                                result,
                            ));
                            if GO_MATH_WITHIN_ULPS.contains(&name) {
                                push_ulp_check(&mut cases, name, series, eval_time, result);
                            }
                        }
                    }
                }
                if GO_MATH_WITHIN_ULPS.contains(&name) {
                    // Only where the NaNs are is compared exactly.
                    cases.push(PromtoolCase {
                        expr: format!("({expr}) != bool ({expr})"),
                        eval_time_seconds: eval_time / 1000,
                        samples: results
                            .iter()
                            .map(|(_, labels, value)| (labels.clone(), f64::from(value.is_nan())))
                            .collect(),
                    });
                } else {
                    push_checks(&mut cases, &expr, eval_time, &results);
                }
            }
        }
        // Date functions over Unix times, and over the gauges' odd values.
        for name in DATE_FUNCTIONS {
            for metric in ["d", "g"] {
                let mut results = Vec::new();
                for series in all_series.iter().filter(|series| series.metric == metric) {
                    if let Some(value) = instant_value(series, eval_time) {
                        let result = elementwise_function(name, value, &[])
                            .expect("every date function is element-wise");
                        results.push((
                            series.labels_without_name(),
                            series.labels_without_name(),
                            result,
                        ));
                    }
                }
                push_checks(
                    &mut cases,
                    &format!("{name}({metric})"),
                    eval_time,
                    &results,
                );
            }
        }
        // histogram_quantile over rate(h_bucket[5m]) and over the raw counts.
        for phi in [0.0, 0.3, 0.5, 0.99, 1.0, -1.0, 2.0] {
            for range in [None, Some(5 * MINUTE)] {
                let mut buckets = Vec::new();
                for series in all_series
                    .iter()
                    .filter(|series| series.metric == "h_bucket")
                {
                    let bound: f64 = match series.labels[0].1.as_str() {
                        "+Inf" => f64::INFINITY,
                        other => other.parse().expect("generated bounds are numbers"),
                    };
                    let count = match range {
                        None => instant_value(series, eval_time),
                        Some(range) => {
                            let (timestamps, values) = range_window(series, eval_time, range);
                            let context = RangeContext {
                                eval_time,
                                range,
                                range_start: eval_time - range,
                                range_end: eval_time,
                                semantics: Semantics::V2,
                            };
                            let window = Window {
                                timestamps: &timestamps,
                                values: &values,
                            };
                            if values.is_empty() {
                                None
                            } else {
                                range_function("rate", window, &context, &[])
                            }
                        }
                    };
                    if let Some(count) = count {
                        buckets.push((bound, count));
                    }
                }
                let argument = match range {
                    None => "h_bucket".to_owned(),
                    Some(range) => format!("rate(h_bucket[{}])", range_text(range)),
                };
                let expr = format!("histogram_quantile({phi:?}, {argument})");
                let results = if buckets.is_empty() {
                    Vec::new()
                } else {
                    let value = bucket_quantile(phi, &mut buckets);
                    vec![("{}".to_owned(), "{}".to_owned(), value)]
                };
                push_checks(&mut cases, &expr, eval_time, &results);
            }
        }
    }
    cases
}

/// Writes the promtool files into a fresh directory and returns it.
fn write_promtool_files(
    name: &str,
    all_series: &[GeneratedSeries],
    cases: &[PromtoolCase],
) -> Scratch {
    let directory = scratch(&format!("promtool-diff-{name}"));
    std::fs::write(directory.join("empty_rules.yml"), "groups: []\n")
        .expect("temporary files are writable");
    let mut text = String::from("rule_files: [empty_rules.yml]\nevaluation_interval: 1m\ntests:\n  - interval: 1m\n    input_series:\n");
    for series in all_series {
        writeln!(
            text,
            "      - series: '{}'\n        values: '{}'",
            series.selector(),
            series.notation()
        )
        .expect("writing to a String cannot fail");
    }
    text.push_str("    promql_expr_test:\n");
    for case in cases {
        writeln!(
            text,
            "      - expr: '{}'\n        eval_time: {}s\n        exp_samples:",
            case.expr.replace('\'', "''"),
            case.eval_time_seconds
        )
        .expect("writing to a String cannot fail");
        if case.samples.is_empty() {
            text.truncate(text.len() - 1);
            text.push_str(" []\n");
        }
        for (labels, value) in &case.samples {
            writeln!(
                text,
                "          - labels: '{}'\n            value: {}",
                labels.replace('\'', "''"),
                yaml_number(*value)
            )
            .expect("writing to a String cannot fail");
        }
    }
    std::fs::write(directory.join("tests.yml"), text).expect("temporary files are writable");
    directory
}

/// Runs promtool on the written files: `None` when promtool is absent and
/// that is allowed, else its verdict.
fn run_promtool(directory: &Path) -> Option<Result<(), String>> {
    // MLSLO_PROMTOOL points elsewhere (and lets the missing-promtool path be
    // exercised); the default is the Debian package's binary.
    let promtool = std::env::var("MLSLO_PROMTOOL").unwrap_or_else(|_| PROMTOOL.to_owned());
    let promtool = installed(&promtool)?;
    let output = Command::new(promtool)
        .arg("test")
        .arg("rules")
        .arg("tests.yml")
        .current_dir(directory)
        .output()
        .expect("promtool can be started");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    if output.status.success() {
        Some(Ok(()))
    } else {
        Some(Err(format!("{stdout}\n{stderr}")))
    }
}

fn sample_count(cases: &[PromtoolCase]) -> usize {
    cases.iter().map(|case| case.samples.len()).sum()
}

#[test]
fn function_library_agrees_with_promtool() {
    let slots = 90;
    let mut rng = Rng(0x5EED_F00D);
    let all_series = generate_series(&mut rng, slots);
    let cases = function_cases(&mut rng, &all_series, slots);
    let directory = write_promtool_files("functions", &all_series, &cases);
    let verdict = run_promtool(&directory);
    eprintln!(
        "promtool differential (functions): {} promql_expr_test checks, {} sample comparisons",
        cases.len(),
        sample_count(&cases),
    );
    if let Some(Err(failures)) = verdict {
        panic!(
            "promtool disagrees with our function library (files in {}):\n{failures}",
            directory.display()
        );
    }
}

/// Picks a random instant-vector selector over the generated metrics.
fn vector_leaf(rng: &mut Rng) -> String {
    let base = *rng.pick(&[
        "c",
        "g",
        "c{job=\"api\"}",
        "g{k=~\"g[01]\"}",
        "c{k!=\"c3\"}",
        "g{job!~\"db\"}",
    ]);
    match rng.below(10) {
        0 => format!("{base} offset 3m"),
        1 => format!("{base} @ 1800"),
        _ => base.to_owned(),
    }
}

/// Picks a random range-vector argument: a selector or a subquery.
fn range_leaf(rng: &mut Rng) -> String {
    let range = *rng.pick(&["1m", "2m", "5m", "10m", "30m"]);
    let base = *rng.pick(&["c", "g", "c{job=\"db\"}", "g{k=~\"g[123]\"}"]);
    match rng.below(12) {
        0 => format!("{base}[{range}] offset 2m"),
        1 => {
            let inner = *rng.pick(&["rate(c[5m])", "g", "deriv(g[10m])"]);
            let (window, step) = *rng.pick(&[("10m", "1m"), ("30m", "5m"), ("15m", "2m")]);
            format!("{inner}[{window}:{step}]")
        }
        _ => format!("{base}[{range}]"),
    }
}

const ENGINE_RANGE_FUNCTIONS: &[&str] = &[
    "rate",
    "increase",
    "delta",
    "irate",
    "idelta",
    "deriv",
    "resets",
    "changes",
    "avg_over_time",
    "min_over_time",
    "max_over_time",
    "sum_over_time",
    "count_over_time",
    "stddev_over_time",
    "stdvar_over_time",
    "last_over_time",
    "present_over_time",
    "absent_over_time",
];

/// A random instant-vector expression of bounded depth.
fn vector_expr(rng: &mut Rng, depth: u32) -> String {
    let choice = if depth == 0 {
        rng.below(3)
    } else {
        rng.below(12)
    };
    match choice {
        0 => vector_leaf(rng),
        1 => {
            let name = *rng.pick(ENGINE_RANGE_FUNCTIONS);
            format!("{name}({})", range_leaf(rng))
        }
        2 => match rng.below(4) {
            0 => format!(
                "quantile_over_time({:?}, {})",
                rng.pick(&[0.1, 0.5, 0.95]),
                range_leaf(rng)
            ),
            1 => format!(
                "predict_linear({}, {})",
                range_leaf(rng),
                rng.pick(&[60, 600, 3600])
            ),
            2 => format!("holt_winters({}, 0.5, 0.3)", range_leaf(rng)),
            _ => format!("timestamp({})", vector_leaf(rng)),
        },
        3 | 4 => {
            let op = *rng.pick(&[
                "sum", "avg", "min", "max", "count", "group", "stddev", "stdvar",
            ]);
            let grouping = *rng.pick(&["", " by (job)", " without (k)", " by (k)", " by ()"]);
            format!("{op}{grouping} ({})", vector_expr(rng, depth - 1))
        }
        5 => {
            // topk/bottomk only at the top level, where ties can be detected
            // (see `engine_cases`); nested here is the order-free quantile.
            let grouping = *rng.pick(&["", " by (job)"]);
            format!(
                "quantile{grouping} ({:?}, {})",
                rng.pick(&[0.0, 0.25, 0.9, 1.0]),
                vector_expr(rng, depth - 1)
            )
        }
        6 => {
            let op = *rng.pick(&[
                "+", "-", "*", "/", "%", "^", ">", "<", "==", "!=", ">=", "<=",
            ]);
            let bool_modifier = if "><=!".contains(&op[..1]) && rng.chance(50) {
                " bool"
            } else {
                ""
            };
            let scalar = *rng.pick(&["2", "0.5", "-3", "0", "10"]);
            if rng.chance(50) {
                format!(
                    "({}) {op}{bool_modifier} {scalar}",
                    vector_expr(rng, depth - 1)
                )
            } else {
                format!(
                    "{scalar} {op}{bool_modifier} ({})",
                    vector_expr(rng, depth - 1)
                )
            }
        }
        7 => {
            let op = *rng.pick(&["+", "-", "*", "/", ">", "<", "and", "or", "unless"]);
            let matching = *rng.pick(&["", " on (job, k)", " ignoring (k)", " on (job)"]);
            let left = vector_expr(rng, depth - 1);
            let right = vector_expr(rng, depth - 1);
            let sum_right = rng.chance(50);
            if matching == " on (job)" && !["and", "or", "unless"].contains(&op) {
                // one-to-one on job needs a unique right side: aggregate it.
                let grouped = if sum_right {
                    format!("sum by (job) ({right})")
                } else {
                    format!("max by (job) ({right})")
                };
                format!("({left}) {op} on (job) group_left ({grouped})")
            } else {
                format!("({left}) {op}{matching} ({right})")
            }
        }
        8 => {
            let name = *rng.pick(&["abs", "ceil", "floor", "sqrt", "sgn", "round", "deg", "rad"]);
            format!("{name}({})", vector_expr(rng, depth - 1))
        }
        9 => match rng.below(4) {
            0 => format!("clamp({}, -5, 20)", vector_expr(rng, depth - 1)),
            1 => format!("clamp_min({}, 3)", vector_expr(rng, depth - 1)),
            2 => format!("clamp_max({}, 10)", vector_expr(rng, depth - 1)),
            _ => format!("round({}, 0.5)", vector_expr(rng, depth - 1)),
        },
        10 => match rng.below(5) {
            0 => format!(
                "label_replace({}, \"dst\", \"x-$1\", \"k\", \"(.)[0-9]\")",
                vector_expr(rng, depth - 1)
            ),
            1 => format!(
                "label_join({}, \"both\", \"-\", \"job\", \"k\")",
                vector_expr(rng, depth - 1)
            ),
            2 => format!(
                "histogram_quantile({:?}, sum by (le) (rate(h_bucket[{}])))",
                rng.pick(&[0.1, 0.5, 0.9, 0.99]),
                rng.pick(&["2m", "5m", "10m"])
            ),
            3 => format!("absent({})", vector_leaf(rng)),
            _ => "absent(nonexistent{job=\"x\"})".to_owned(),
        },
        _ => match rng.below(3) {
            0 => "vector(time())".to_owned(),
            1 => format!("vector(scalar({}))", vector_expr(rng, depth - 1)),
            _ => format!("{} + time() / 60", vector_leaf(rng)),
        },
    }
}

/// Prometheus' label-set notation, `name{a="b"}`, for promtool's parser.
fn labels_text(labels: &mlslo::prometheus::promql::Labels) -> String {
    let mut name = "";
    let mut pairs = Vec::new();
    for (label, value) in labels.pairs() {
        if label == "__name__" {
            name = value;
        } else {
            let escaped = value.replace('\\', "\\\\").replace('"', "\\\"");
            pairs.push(format!("{label}=\"{escaped}\""));
        }
    }
    format!("{name}{{{}}}", pairs.join(", "))
}

fn load_storage(all_series: &[GeneratedSeries]) -> mlslo::prometheus::promql::Storage {
    let mut storage = mlslo::prometheus::promql::Storage::new();
    for series in all_series {
        let mut pairs = vec![("__name__".to_owned(), series.metric.clone())];
        pairs.extend(series.labels.iter().cloned());
        let labels = mlslo::prometheus::promql::Labels::from_pairs(pairs);
        for (time, value) in series.samples() {
            let value = value.unwrap_or_else(mlslo::prometheus::promql::value::stale_nan);
            storage.append(&labels, time, value);
        }
    }
    storage
}

/// Our engine's samples for `expr` at `time`, or `None` when we reject it
/// (promtool tests cannot expect an error) or the result holds a NaN.
fn engine_samples(
    storage: &mlslo::prometheus::promql::Storage,
    expr: &str,
    time: i64,
) -> Option<Vec<(String, f64)>> {
    let options = mlslo::prometheus::promql::EvalOptions::with_semantics(Semantics::V2);
    match mlslo::prometheus::promql::instant_query(storage, expr, time, &options).ok()? {
        mlslo::prometheus::promql::Value::Scalar(value) => {
            (!value.is_nan()).then(|| vec![("{}".to_owned(), value)])
        }
        mlslo::prometheus::promql::Value::Vector(vector) => {
            if vector.iter().any(|sample| sample.value.is_nan()) {
                return None;
            }
            Some(
                vector
                    .iter()
                    .map(|sample| (labels_text(&sample.labels), sample.value))
                    .collect(),
            )
        }
        _ => None,
    }
}

/// Whether promtool 2.42's own result depends on the order of the input
/// series: its loader appends series in Go map order, so the series order,
/// and with it the rounding of `sum`/`avg`/`stddev`/`stdvar`, varies from run
/// to run. `^` is Go's math.Pow, which differs from Rust's `powf` in the last
/// bit for some inputs. Such expressions are compared within a tolerance.
fn needs_tolerance(expr: &str) -> bool {
    ["sum ", "avg ", "stddev ", "stdvar ", " ^ "]
        .iter()
        .any(|needle| expr.contains(needle))
}

/// Whether an expression is reproducible by promtool within a tolerance: an
/// order-dependent aggregation (see [`needs_tolerance`]) must not be combined
/// with a discontinuous operation, which can turn a last-bit difference into
/// a different result (`round(stdvar(x), 0.5)` flips between two values
/// from one promtool run to the next).
fn is_reproducible(expr: &str) -> bool {
    const DISCONTINUOUS: &[&str] = &[
        "round",
        "ceil",
        "floor",
        "sgn",
        "clamp",
        " > ",
        " < ",
        "==",
        "!=",
        ">=",
        "<=",
        " % ",
        "quantile",
        "topk",
        "bottomk",
        "changes",
        "resets",
        " and",
        " or",
        " unless",
        "histogram_quantile",
        "scalar",
        "bool",
    ];
    !needs_tolerance(expr) || !DISCONTINUOUS.iter().any(|needle| expr.contains(needle))
}

/// Splits `name{a="b", c="d"}` (our [`labels_text`]) into its label pairs
/// without the metric name.
fn label_pairs(labels: &mlslo::prometheus::promql::Labels) -> Vec<(String, String)> {
    labels
        .pairs()
        .iter()
        .filter(|(name, _)| name != "__name__")
        .cloned()
        .collect()
}

/// A PromQL vector holding one sample with exactly `pairs` as labels.
fn label_filter(pairs: &[(String, String)]) -> String {
    let mut filter = "vector(0)".to_owned();
    for (name, value) in pairs {
        let escaped = value.replace('\\', "\\\\").replace('"', "\\\"");
        filter = format!("label_replace({filter}, \"{name}\", \"{escaped}\", \"\", \"\")");
    }
    filter
}

/// Our engine's vector for `expr` at `time`, or `None` when we reject it.
fn engine_vector(
    storage: &mlslo::prometheus::promql::Storage,
    expr: &str,
    time: i64,
) -> Option<mlslo::prometheus::promql::Vector> {
    let options = mlslo::prometheus::promql::EvalOptions::with_semantics(Semantics::V2);
    match mlslo::prometheus::promql::instant_query(storage, expr, time, &options).ok()? {
        mlslo::prometheus::promql::Value::Vector(vector) => Some(vector),
        _ => None,
    }
}

/// Per-sample tolerance checks of `expr` (see [`needs_tolerance`]): promtool
/// computes `|E restricted to the sample's labels - ours|` and compares it
/// with 1e-9 relative. Infinite values are compared exactly.
fn push_tolerance_checks(
    cases: &mut Vec<PromtoolCase>,
    storage: &mlslo::prometheus::promql::Storage,
    expr: &str,
    eval_time: i64,
) -> bool {
    let Some(vector) = engine_vector(storage, expr, eval_time) else {
        return false;
    };
    let eval_time_seconds = eval_time / 1000;
    // Matching on every label name of the result keeps a sample with fewer
    // labels from also selecting the samples with more.
    let all_names: std::collections::BTreeSet<String> = vector
        .iter()
        .flat_map(|sample| label_pairs(&sample.labels))
        .map(|(name, _)| name)
        .collect();
    let names: Vec<&str> = all_names.iter().map(String::as_str).collect();
    for sample in vector.iter().filter(|sample| !sample.value.is_nan()) {
        let pairs: Vec<(String, String)> = all_names
            .iter()
            .map(|name| (name.clone(), sample.labels.get(name).to_owned()))
            .collect();
        let restricted = format!(
            "(({expr}) and on ({}) {})",
            names.join(", "),
            label_filter(&pairs)
        );
        if sample.value.is_infinite() {
            cases.push(PromtoolCase {
                expr: restricted,
                eval_time_seconds,
                samples: vec![(labels_text(&sample.labels), sample.value)],
            });
        } else {
            let tolerance = 1e-9 * sample.value.abs().max(1.0);
            let without_name = labels_text(&sample.labels.without_metric_name());
            cases.push(PromtoolCase {
                expr: format!(
                    "abs({restricted} - {}) <= bool {tolerance:?}",
                    series_number(sample.value)
                ),
                eval_time_seconds,
                samples: vec![(without_name, 1.0)],
            });
        }
    }
    true
}

/// Whether `inner` evaluates at `eval_time` to distinct, non-NaN values:
/// otherwise promtool's choice among ties in `topk`/`bottomk` depends on its
/// random series order.
fn values_are_distinct(
    storage: &mlslo::prometheus::promql::Storage,
    inner: &str,
    eval_time: i64,
) -> bool {
    let Some(values) = engine_vector(storage, inner, eval_time) else {
        return false;
    };
    let mut sorted: Vec<f64> = values.iter().map(|sample| sample.value).collect();
    if sorted.iter().any(|value| value.is_nan()) {
        return false;
    }
    sorted.sort_by(f64::total_cmp);
    !sorted.windows(2).any(|pair| pair[0] == pair[1])
}

/// Engine-level cases: generated expressions evaluated by our engine in V2
/// mode. Each expression is checked at three times through the NaN-splitting
/// wrappers of the module doc, or through per-sample tolerance checks when
/// promtool's own result is not reproducible bit for bit.
fn engine_cases(
    rng: &mut Rng,
    all_series: &[GeneratedSeries],
    slots: usize,
    expressions: usize,
) -> (Vec<PromtoolCase>, usize, usize) {
    let storage = load_storage(all_series);
    let last_time = (slots as i64 - 1) * MINUTE;
    let mut cases = Vec::new();
    let mut rejected = 0;
    let mut tolerant = 0;
    for index in 0..expressions {
        let eval_times = [
            10 * MINUTE + rng.below(600) as i64 * 1000,
            30 * MINUTE + rng.below(1800) as i64 * 1000,
            last_time,
        ];
        // Every tenth expression is a top-level topk/bottomk.
        let mut tie_check = None;
        let expr = if index % 10 == 9 {
            let inner = vector_expr(rng, 1);
            let grouping = *rng.pick(&["", " by (job)", " without (k)"]);
            let (op, k) = *rng.pick(&[("topk", 1), ("topk", 2), ("bottomk", 1), ("bottomk", 3)]);
            let expr = format!("{op}{grouping} ({k}, {inner})");
            tie_check = Some(inner);
            expr
        } else {
            let mut expr = vector_expr(rng, 3);
            while !is_reproducible(&expr) {
                expr = vector_expr(rng, 3);
            }
            expr
        };
        for eval_time in eval_times {
            if let Some(inner) = &tie_check {
                if !values_are_distinct(&storage, inner, eval_time) {
                    rejected += 1;
                    continue;
                }
            }
            let nan_positions = format!("({expr}) != bool ({expr})");
            let nan_case = engine_samples(&storage, &nan_positions, eval_time);
            let accepted = if needs_tolerance(&expr) {
                tolerant += 1;
                push_tolerance_checks(&mut cases, &storage, &expr, eval_time)
            } else {
                let exact = format!("({expr}) unless (({expr}) != ({expr}))");
                match engine_samples(&storage, &exact, eval_time) {
                    Some(samples) => {
                        cases.push(PromtoolCase {
                            expr: exact,
                            eval_time_seconds: eval_time / 1000,
                            samples,
                        });
                        true
                    }
                    None => false,
                }
            };
            if let Some(samples) = nan_case {
                cases.push(PromtoolCase {
                    expr: nan_positions,
                    eval_time_seconds: eval_time / 1000,
                    samples,
                });
            }
            if !accepted {
                rejected += 1;
            }
        }
    }
    (cases, rejected, tolerant)
}

#[test]
fn engine_agrees_with_promtool() {
    let slots = 90;
    let expressions = 300;
    // MLSLO_DIFF_SEED explores other seeds; the default keeps CI deterministic.
    let seed = std::env::var("MLSLO_DIFF_SEED")
        .ok()
        .and_then(|text| text.parse().ok())
        .unwrap_or(0xD1FF_2042);
    let mut rng = Rng(seed);
    let all_series = generate_series(&mut rng, slots);
    let (cases, rejected, tolerant) = engine_cases(&mut rng, &all_series, slots, expressions);
    let directory = write_promtool_files("engine", &all_series, &cases);
    let verdict = run_promtool(&directory);
    eprintln!(
        "promtool differential (engine): {expressions} expressions at 3 times, {} promql_expr_test checks, {} sample comparisons, {rejected} (expression, time) pairs our engine rejected or skipped for ties, {tolerant} compared within 1e-9",
        cases.len(),
        sample_count(&cases),
    );
    if let Some(Err(failures)) = verdict {
        panic!(
            "promtool disagrees with our engine (files in {}):\n{failures}",
            directory.display()
        );
    }
}

/// Rule expressions for the generated unit tests, by the class of promtool behaviour
/// they reach. Each reads the input metric `x` (label `i`), nothing, or both.
const RULE_EXPRESSIONS: &[&str] = &[
    // Plain evaluation, the baseline.
    "x",
    "x > 1",
    "sum(x)",
    "rate(x[2m])",
    "max_over_time(x[3m])",
    // Empty operands: nothing to match, so no matching error.
    "nothing / on() x",
    "x * on() group_left nothing",
    "nothing > bool on() x",
    "nothing and x",
    "x unless nothing",
    "nothing or x",
    // count_values, its label named in `without` or not.
    "count_values without (i) (\"i\", x)",
    "count_values by (i) (\"v\", x)",
    "count_values(\"v\", x)",
    // absent with several matchers: a rule reads them in printed (sorted) order.
    "absent(nope{i=\"a\", i!~\"\"})",
    "absent(nope{j=\"b\", i=\"a\"})",
    "absent(x{i=\"zz\", j=~\"b.*\"})",
    // Go's math.Pow with whole exponents and ±0.5, which it computes without its
    // Exp and Log (those are assembly on amd64 and round apart from Rust's).
    "x ^ 3",
    "0.1 ^ round(x * 10)",
    "x ^ -2",
    "(x * 10) ^ 0.5",
    // Reading after the evaluation time: only what the step has loaded.
    "x offset -1m",
    "x @ 120",
    "x @ 600",
    "sum_over_time(x[2m] offset -1m)",
];

/// Expressions whose result depends on the order queries walk series in: generated
/// only when promtool creates every input series at a different step, where that
/// order is the same in every promtool run.
const ORDER_SENSITIVE_EXPRESSIONS: &[&str] = &["stddev(x)", "avg(x)", "stdvar(x) * 3"];

/// A generated rule and unit-test file pair for `mlslo test` and `promtool test rules`.
struct UnitTestCase {
    rules: String,
    test: String,
}

/// One test group: input series of `x`, created at distinct steps (`ordered`) or
/// not, and a few checks at sparse times, some between evaluation steps.
fn generate_test_group(rng: &mut Rng, evaluation_interval_ms: i64, text: &mut String) {
    let interval = *rng.pick(&["", "30s", "1m", "90s"]);
    let interval_ms = match interval {
        "30s" => 30_000,
        "1m" => MINUTE,
        "90s" => 90_000,
        _ => 0,
    };
    let count = 1 + rng.below(4) as usize;
    // Labels `i` out of order against the input order; `j` on some.
    let mut names: Vec<&str> = vec!["a", "b", "c", "d"];
    for index in (1..names.len()).rev() {
        names.swap(index, rng.below(index as u64 + 1) as usize);
    }
    let mut creation_steps = Vec::new();
    text.push_str("  - ");
    if !interval.is_empty() {
        writeln!(text, "interval: {interval}\n    input_series:").expect("String");
    } else {
        text.push_str("input_series:\n");
    }
    for name in names.iter().take(count) {
        let leading = rng.below(4) as usize;
        let first_ms = leading as i64 * interval_ms;
        creation_steps.push(
            first_ms / evaluation_interval_ms + i64::from(first_ms % evaluation_interval_ms != 0),
        );
        let mut values: Vec<String> = vec!["_".to_owned(); leading];
        let start = rng.below(30) as f64 / 10.0;
        match rng.below(3) {
            0 => values.push(format!("{start}+0.1x{}", 4 + rng.below(10))),
            1 => values.push(format!("{start}-0.3x{}", 4 + rng.below(6))),
            _ => {
                // The first value is a number: the series is created where its
                // leading gap ends.
                values.push(format!("{start}"));
                for _ in 0..(1 + rng.below(8)) {
                    values.push(match rng.below(8) {
                        0 => "_".to_owned(),
                        1 => "stale".to_owned(),
                        _ => format!("{}", rng.below(40) as f64 / 10.0),
                    });
                }
            }
        }
        let j = if rng.chance(40) { ", j=\"b1\"" } else { "" };
        writeln!(
            text,
            "      - series: 'x{{i=\"{name}\"{j}}}'\n        values: '{}'",
            values.join(" ")
        )
        .expect("String");
    }
    let mut sorted_steps = creation_steps.clone();
    sorted_steps.sort_unstable();
    sorted_steps.dedup();
    let ordered = sorted_steps.len() == creation_steps.len();
    // Few, sparse check times on a 15 s grid, up to 10m.
    let alert_count = 1 + rng.below(2);
    let alert_times: Vec<u64> = (0..alert_count).map(|_| rng.below(41) * 15).collect();
    let promql_count = 1 + rng.below(3);
    let promql_times: Vec<u64> = (0..promql_count).map(|_| rng.below(41) * 15).collect();
    text.push_str("    alert_rule_test:\n");
    for (index, seconds) in alert_times.iter().enumerate() {
        writeln!(
            text,
            "      - eval_time: {seconds}s\n        alertname: {}",
            ["Templated", "Ordered"][index % if ordered { 2 } else { 1 }]
        )
        .expect("String");
    }
    text.push_str("    promql_expr_test:\n");
    for seconds in promql_times {
        let mut expr = match rng.below(4) {
            0 => "ALERTS".to_owned(),
            1 => (*rng.pick(RULE_EXPRESSIONS)).to_owned(),
            2 if ordered => (*rng.pick(ORDER_SENSITIVE_EXPRESSIONS)).to_owned(),
            _ => format!("r{}", rng.below(RULE_EXPRESSIONS.len() as u64)),
        };
        // Sums of decimals round by the order of their terms.
        let recorded = expr.starts_with('r') && !expr.starts_with("rate");
        if !ordered && (recorded || expr.contains("sum")) {
            expr = format!("count({expr})");
        }
        writeln!(
            text,
            "      - expr: '{}'\n        eval_time: {seconds}s",
            expr.replace('\'', "''")
        )
        .expect("String");
    }
}

/// A rule file recording every expression of [`RULE_EXPRESSIONS`] (order-sensitive
/// ones through the `Ordered` alert only), with two alerts whose label and annotation
/// templates expand, or expand to nothing; and a test file of a few test groups.
fn generate_unit_test_case(rng: &mut Rng) -> UnitTestCase {
    let mut rules = String::from("groups:\n  - name: g\n    rules:\n");
    for (index, expr) in RULE_EXPRESSIONS.iter().enumerate() {
        writeln!(rules, "      - record: r{index}\n        expr: '{expr}'").expect("String");
    }
    let for_duration = *rng.pick(&["0s", "1m", "2m"]);
    writeln!(
        rules,
        "      - alert: Templated
        expr: '{}'
        for: {for_duration}
        labels:
          job: '{{{{ $labels.j }}}}'
          severity: '{{{{ if gt $value 2.0 }}}}high{{{{ end }}}}'
        annotations:
          summary: 'i={{{{ $labels.i }}}} value={{{{ $value }}}}'
      - alert: Ordered
        expr: '{}'
        annotations:
          walk: '{{{{ range query \"x\" }}}}{{{{ .Labels.i }}}}={{{{ .Value }}}} {{{{ end }}}}'
          stddev: '{{{{ with query \"stddev(x)\" }}}}{{{{ . | first | value }}}}{{{{ end }}}}'",
        rng.pick(&["x > 1", "x", "count_values by (i) (\"v\", x)", "r0 > 0.5"]),
        rng.pick(&["vector(1)", "count(x) > 1"]),
    )
    .expect("String");
    let evaluation_interval = *rng.pick(&["30s", "1m", "2m"]);
    let evaluation_interval_ms = match evaluation_interval {
        "30s" => 30_000,
        "1m" => MINUTE,
        _ => 2 * MINUTE,
    };
    let mut test =
        format!("rule_files: [rules.yml]\nevaluation_interval: {evaluation_interval}\ntests:\n");
    for _ in 0..3 {
        generate_test_group(rng, evaluation_interval_ms, &mut test);
    }
    UnitTestCase { rules, test }
}

/// How many generated rule and test file pairs run by default; `MLSLO_DIFF_CASES`
/// raises it (each pair is one promtool run and one mlslo run of three test groups).
const DEFAULT_UNIT_TEST_CASES: usize = 16;

/// `mlslo test` against `promtool test rules` on generated rule and test files: the
/// classes of behaviour promtool 2.42 has that a PromQL engine alone does not show
/// (see [`RULE_EXPRESSIONS`]), test groups with and without `interval`, input series
/// created out of label order, templated alert labels and annotations, and few checks
/// at sparse times, some between evaluation steps. The checks expect nothing, so each
/// tool prints what it got; the exit status and the text must be the same, apart from
/// the warning mlslo adds for a test group without `interval`.
#[test]
fn unit_tests_agree_with_promtool() {
    if installed(PROMTOOL).is_none() {
        return;
    }
    let cases = std::env::var("MLSLO_DIFF_CASES")
        .ok()
        .and_then(|text| text.parse().ok())
        .unwrap_or(DEFAULT_UNIT_TEST_CASES);
    let seed = std::env::var("MLSLO_DIFF_SEED")
        .ok()
        .and_then(|text| text.parse().ok())
        .unwrap_or(0x7E57_2042);
    let mut rng = Rng(seed);
    let directory = scratch("promtool-diff-unit-tests");
    let mut differences = Vec::new();
    let mut failed_checks = 0;
    for index in 0..cases {
        let case = generate_unit_test_case(&mut rng);
        let rules = format!("rules{index:03}.yml");
        let test = format!("test{index:03}.yml");
        std::fs::write(directory.join(&rules), &case.rules).expect("temporary files are writable");
        std::fs::write(
            directory.join(&test),
            case.test.replace("[rules.yml]", &format!("[{rules}]")),
        )
        .expect("temporary files are writable");
        let run = |program: &str, args: &[&str]| {
            let output = Command::new(program)
                .args(args)
                .current_dir(directory.path())
                .output()
                .expect("the program can be started");
            (
                output.status.code(),
                String::from_utf8_lossy(&output.stdout).into_owned(),
                String::from_utf8_lossy(&output.stderr).into_owned(),
            )
        };
        let theirs = run(PROMTOOL, &["test", "rules", &test]);
        let (code, stdout, stderr) = run(crate::support::MLSLO, &["test", &test]);
        let stderr: String = stderr
            .split_inclusive('\n')
            .filter(|line| !(line.starts_with("  WARNING: ") && line.contains("has no interval")))
            .collect();
        failed_checks +=
            theirs.2.matches("    expr: ").count() + theirs.2.matches("    alertname: ").count();
        if theirs != (code, stdout.clone(), stderr.clone()) {
            differences.push(format!(
                "{test} and {rules} in {}:\n--- promtool (exit {:?})\n{}{}--- mlslo (exit {code:?})\n{stdout}{stderr}",
                directory.display(),
                theirs.0,
                theirs.1,
                theirs.2
            ));
        }
    }
    eprintln!(
        "promtool differential (unit tests): {cases} rule and test files of 3 test groups, {failed_checks} checks printing what they got, {} differences",
        differences.len()
    );
    assert!(differences.is_empty(), "{}", differences.join("\n\n"));
}
