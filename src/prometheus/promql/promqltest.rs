//! A runner for Prometheus' promqltest files (`load`, `clear`, `eval instant`,
//! `eval range`, `eval_fail`, `eval_ordered`, `expect ...` lines), returning
//! one result per eval case so callers can print and assert pass tables.
//!
//! Invariants: nothing is skipped silently: a case is `Pass`, `Fail(reason)`
//! or `Unsupported(reason)` (native histograms, `anchored`/`smoothed`). Values compare with Prometheus' relative epsilon
//! 1e-6, NaN equal to NaN (test.go). Annotations are checked by message;
//! their source positions (`(1:15)`) are not modelled and are stripped from
//! the expectations. As test.go does, every passing unordered instant case is
//! re-run with `@` pinned (at five other times) and as a range query.

use std::collections::HashMap;

use std::time::{Duration, UNIX_EPOCH};

use promql_parser::parser::ast::AtModifier;
use promql_parser::parser::Expr;

use super::engine::{EvalOptions, Evaluator};
use super::error::EvalError;
use super::notation::{self, SequenceValue};
use super::parse::parse_query;
use super::storage::Storage;
use super::value::{Labels, Sample, Series, Value, METRIC_NAME};
use super::Semantics;
use crate::prometheus::model::duration::parse_model_duration;

/// What happened to one eval case.
#[derive(Clone, Debug, PartialEq)]
pub enum Outcome {
    Pass,
    Fail(String),
    Unsupported(String),
}

/// One eval case's result.
#[derive(Clone, Debug, PartialEq)]
pub struct CaseResult {
    /// 1-based line of the `eval` command.
    pub line: usize,
    pub query: String,
    pub outcome: Outcome,
}

/// Runs every command of a promqltest file under `semantics`.
pub fn run_file(text: &str, semantics: Semantics) -> Vec<CaseResult> {
    let lines: Vec<&str> = text
        .lines()
        .map(|line| {
            let trimmed = line.trim();
            if trimmed.starts_with('#') {
                ""
            } else {
                trimmed
            }
        })
        .collect();
    let options = EvalOptions::with_semantics(semantics);
    let mut storage = Storage::new();
    let mut results = Vec::new();
    let mut index = 0;
    while index < lines.len() {
        let line = lines[index];
        let block_end = (index + 1..lines.len())
            .find(|&i| lines[i].is_empty() || is_command(lines[i]))
            .unwrap_or(lines.len());
        let body = &lines[index + 1..block_end];
        if line.is_empty() {
            index += 1;
            continue;
        }
        let command = line.split_whitespace().next().unwrap_or("");
        match command {
            "load" | "load_with_nhcb" => {
                let step = line
                    .split_whitespace()
                    .nth(1)
                    .and_then(parse_time)
                    .unwrap_or(0);
                load(&mut storage, body, step, command == "load_with_nhcb");
            }
            "clear" => storage.clear(),
            _ if command.starts_with("eval") => {
                let outcome = run_eval(&storage, line, body, &options);
                results.push(CaseResult {
                    line: index + 1,
                    query: line.to_string(),
                    outcome,
                });
            }
            _ => {
                results.push(CaseResult {
                    line: index + 1,
                    query: line.to_string(),
                    outcome: Outcome::Unsupported(format!("unknown command {command}")),
                });
            }
        }
        index = block_end;
    }
    results
}

fn load(storage: &mut Storage, body: &[&str], step: i64, with_nhcb: bool) {
    for line in body {
        let Ok(series) = notation::parse_series_line(line) else {
            continue;
        };
        let id = storage.series_id(&series.labels);
        for (position, value) in series.values.iter().enumerate() {
            match value {
                SequenceValue::Value(value) => {
                    storage.append_to(id, position as i64 * step, *value);
                }
                SequenceValue::Histogram => storage.mark_native_histograms(&series.labels),
                SequenceValue::Omitted => {}
            }
        }
        if with_nhcb {
            // The converted histogram series is named without `_bucket` and
            // has no `le`; register it so queries that read it are reported.
            if let Some(base) = series.labels.metric_name().strip_suffix("_bucket") {
                let labels = series
                    .labels
                    .filtered(|name| name != "le")
                    .with(METRIC_NAME, base);
                storage.mark_native_histograms(&labels);
            }
        }
    }
}

/// What the case expects.
#[derive(Default)]
struct Expectation {
    fail: bool,
    fail_message: Option<String>,
    fail_regex: Option<String>,
    ordered: bool,
    string: Option<String>,
    scalar: Option<f64>,
    series: Vec<(Labels, Vec<SequenceValue>)>,
    unsupported: Option<String>,
    annotations: AnnotationExpectation,
    /// `expect range vector`: the first expected point's time and the step.
    range_vector: Option<(i64, i64)>,
}

/// The `expect warn|info|no_warn|no_info` lines of one case.
#[derive(Default)]
struct AnnotationExpectation {
    /// `(kind, message, regex)` for each `expect warn`/`expect info` line;
    /// a line without a matcher only asks for at least one annotation.
    lines: Vec<(&'static str, Option<String>, Option<String>)>,
    no_warn: bool,
    no_info: bool,
}

fn run_eval(storage: &Storage, line: &str, body: &[&str], options: &EvalOptions) -> Outcome {
    let mut words = line.splitn(2, char::is_whitespace);
    let command = words.next().unwrap_or("");
    let rest = words.next().unwrap_or("").trim_start();
    let mut expectation = Expectation::default();
    match command {
        "eval" => {}
        "eval_fail" => expectation.fail = true,
        "eval_ordered" => expectation.ordered = true,
        "eval_warn" => expectation.annotations.lines.push(("warn", None, None)),
        "eval_info" => expectation.annotations.lines.push(("info", None, None)),
        other => return Outcome::Fail(format!("unknown eval command {other}")),
    }
    for expected_line in body {
        if let Err(message) = read_expected_line(expected_line, &mut expectation) {
            return Outcome::Fail(message);
        }
    }
    if let Some(reason) = expectation.unsupported.take() {
        return Outcome::Unsupported(reason);
    }
    if let Some(instant) = rest.strip_prefix("instant") {
        let instant = instant.trim_start();
        let Some(after_at) = instant.strip_prefix("at") else {
            return Outcome::Fail(format!("missing `at` in {line:?}"));
        };
        let after_at = after_at.trim_start();
        let (time_text, query) = split_word(after_at);
        let Some(time) = parse_time(time_text) else {
            return Outcome::Fail(format!("invalid time {time_text:?}"));
        };
        run_instant(storage, query, time, &expectation, options)
    } else if let Some(range) = rest.strip_prefix("range") {
        let range = range.trim_start();
        let parsed = (|| {
            let range = range.strip_prefix("from")?.trim_start();
            let (start, range) = split_word(range);
            let range = range.strip_prefix("to")?.trim_start();
            let (end, range) = split_word(range);
            let range = range.strip_prefix("step")?.trim_start();
            let (step, query) = split_word(range);
            Some((
                parse_time(start)?,
                parse_time(end)?,
                parse_time(step)?,
                query,
            ))
        })();
        let Some((start, end, step, query)) = parsed else {
            return Outcome::Fail(format!("invalid range eval {line:?}"));
        };
        run_range(storage, query, start, end, step, &expectation, options)
    } else {
        Outcome::Fail(format!("invalid eval command {line:?}"))
    }
}

fn read_expected_line(line: &str, expectation: &mut Expectation) -> Result<(), String> {
    if let Some(expect) = line.strip_prefix("expect ") {
        let expect = expect.trim();
        let (kind, rest) = split_word(expect);
        match kind {
            "fail" => {
                expectation.fail = true;
                read_message(
                    rest,
                    &mut expectation.fail_message,
                    &mut expectation.fail_regex,
                );
            }
            "ordered" => expectation.ordered = true,
            "warn" | "info" => {
                let (mut message, mut regex) = (None, None);
                read_message(rest, &mut message, &mut regex);
                let kind = if kind == "warn" { "warn" } else { "info" };
                expectation.annotations.lines.push((kind, message, regex));
            }
            "no_warn" => expectation.annotations.no_warn = true,
            "no_info" => expectation.annotations.no_info = true,
            "string" => {
                let text = rest.trim();
                let unquoted = if text.len() >= 2 {
                    &text[1..text.len() - 1]
                } else {
                    text
                };
                expectation.string = Some(unquoted.to_string());
            }
            "range" => {
                // `expect range vector from <start> to <end> step <step>`.
                let words: Vec<&str> = rest.split_whitespace().collect();
                match words.as_slice() {
                    ["vector", "from", start, "to", _end, "step", step] => {
                        let (Some(start), Some(step)) = (parse_time(start), parse_time(step))
                        else {
                            return Err(format!("invalid range vector expectation {rest:?}"));
                        };
                        expectation.range_vector = Some((start, step));
                    }
                    _ => return Err(format!("invalid range vector expectation {rest:?}")),
                }
            }
            other => return Err(format!("unknown expectation {other:?}")),
        }
        return Ok(());
    }
    if let Some(message) = line.strip_prefix("expected_fail_message") {
        expectation.fail = true;
        expectation.fail_message = Some(message.trim().to_string());
        return Ok(());
    }
    if let Some(regex) = line.strip_prefix("expected_fail_regexp") {
        expectation.fail = true;
        expectation.fail_regex = Some(regex.trim().to_string());
        return Ok(());
    }
    if line.contains("{{") {
        expectation.unsupported = Some("native histograms".to_string());
        return Ok(());
    }
    if let Ok(value) = notation::parse_number(line) {
        expectation.scalar = Some(value);
        return Ok(());
    }
    let series = notation::parse_series_line(line).map_err(|e| e.message)?;
    expectation.series.push((series.labels, series.values));
    Ok(())
}

fn read_message(rest: &str, message: &mut Option<String>, regex: &mut Option<String>) {
    let rest = rest.trim();
    let strip_quotes = |text: &str| -> String {
        let text = text.trim();
        if text.len() >= 2
            && ((text.starts_with('"') && text.ends_with('"'))
                || (text.starts_with('`') && text.ends_with('`')))
        {
            text[1..text.len() - 1].to_string()
        } else {
            text.to_string()
        }
    };
    if let Some(text) = rest.strip_prefix("msg:") {
        *message = Some(strip_quotes(text));
    } else if let Some(text) = rest.strip_prefix("regex:") {
        *regex = Some(strip_quotes(text));
    }
}

fn check_failure(error: &EvalError, expectation: &Expectation) -> Outcome {
    let text = error.to_string();
    if let Some(message) = &expectation.fail_message {
        if *message != text {
            return Outcome::Fail(format!("expected error {message:?}, got {text:?}"));
        }
    }
    if let Some(pattern) = &expectation.fail_regex {
        match regex::Regex::new(pattern) {
            Ok(regex) if regex.is_match(&text) => {}
            Ok(_) => return Outcome::Fail(format!("error {text:?} does not match /{pattern}/")),
            Err(_) => return Outcome::Fail(format!("invalid expectation regex {pattern:?}")),
        }
    }
    Outcome::Pass
}

fn run_instant(
    storage: &Storage,
    query: &str,
    time: i64,
    expectation: &Expectation,
    options: &EvalOptions,
) -> Outcome {
    let expr = match parse_query(query, options.semantics) {
        Ok(expr) => expr,
        Err(_) if is_extended_range_selector(query) => {
            return Outcome::Unsupported(
                "anchored/smoothed range selectors (promql-parser 0.11 cannot parse them)"
                    .to_string(),
            )
        }
        Err(error) if expectation.fail => return check_failure(&error, expectation),
        Err(error) => return Outcome::Fail(format!("parse error: {error}")),
    };
    let mut evaluator = Evaluator::new(storage, options, time, time);
    let result = evaluator.eval(&expr, time);
    if evaluator.touched_native_histograms {
        return Outcome::Unsupported("native histograms".to_string());
    }
    let value = match result {
        Err(EvalError::Unsupported(what)) => return Outcome::Unsupported(what),
        Err(error) if expectation.fail => return check_failure(&error, expectation),
        Err(error) => return Outcome::Fail(format!("unexpected error: {error}")),
        Ok(_) if expectation.fail => return Outcome::Fail("expected an error".to_string()),
        Ok(value) => value,
    };
    if let Some(reason) = check_annotations(&expectation.annotations, &evaluator) {
        return Outcome::Fail(reason);
    }
    let outcome = compare_instant(value, expectation, expectation.ordered);
    // The harness extras apply to vectors and scalars whose value does not
    // depend on the query bounds, as in promqltest.
    if outcome != Outcome::Pass
        || expectation.ordered
        || expectation.range_vector.is_some()
        || expectation.string.is_some()
        || mentions_query_bounds(query)
    {
        return outcome;
    }
    if let Some(reason) = rerun_with_at_modifier(storage, &expr, time, expectation, options) {
        return Outcome::Fail(reason);
    }
    if let Some(reason) = rerun_as_range_query(storage, &expr, time, expectation, options) {
        return Outcome::Fail(reason);
    }
    Outcome::Pass
}

/// Compares an instant query's value with the expected lines.
fn compare_instant(value: Value, expectation: &Expectation, ordered: bool) -> Outcome {
    match value {
        Value::Scalar(value) => match expectation.scalar {
            Some(expected) if almost_equal(expected, value) => Outcome::Pass,
            Some(expected) => Outcome::Fail(format!("expected scalar {expected}, got {value}")),
            None => Outcome::Fail(format!("got scalar {value}, expected a vector")),
        },
        Value::String(text) => match &expectation.string {
            Some(expected) if *expected == text => Outcome::Pass,
            other => Outcome::Fail(format!("got string {text:?}, expected {other:?}")),
        },
        Value::Matrix(matrix) => match expectation.range_vector {
            Some((start, step)) => compare_matrix(&matrix, expectation, start, step),
            None => Outcome::Fail("got a range vector from an instant query".to_string()),
        },
        Value::Vector(vector) => {
            if expectation.scalar.is_some() {
                return Outcome::Fail("expected a scalar, got a vector".to_string());
            }
            let mut expected: HashMap<&Labels, (usize, f64)> = HashMap::new();
            for (position, (labels, values)) in expectation.series.iter().enumerate() {
                let Some(SequenceValue::Value(value)) = values.first() else {
                    return Outcome::Fail(format!("no expected value for {labels}"));
                };
                expected.insert(labels, (position, *value));
            }
            for (position, sample) in vector.iter().enumerate() {
                let Some(&(expected_position, expected_value)) = expected.get(&sample.labels)
                else {
                    return Outcome::Fail(format!(
                        "unexpected metric {} in result, with value {}",
                        sample.labels, sample.value
                    ));
                };
                if ordered && expected_position != position {
                    return Outcome::Fail(format!(
                        "expected metric {} at position {}, got it at {}",
                        sample.labels,
                        expected_position + 1,
                        position + 1
                    ));
                }
                if !almost_equal(expected_value, sample.value) {
                    return Outcome::Fail(format!(
                        "expected {expected_value} for {}, got {}",
                        sample.labels, sample.value
                    ));
                }
            }
            if vector.len() != expected.len() {
                let missing: Vec<String> = expected
                    .keys()
                    .filter(|labels| !vector.iter().any(|s| &s.labels == **labels))
                    .map(|labels| labels.to_string())
                    .collect();
                return Outcome::Fail(format!(
                    "expected metrics not found: {}",
                    missing.join(", ")
                ));
            }
            Outcome::Pass
        }
    }
}

fn run_range(
    storage: &Storage,
    query: &str,
    start: i64,
    end: i64,
    step: i64,
    expectation: &Expectation,
    options: &EvalOptions,
) -> Outcome {
    let expr = match parse_query(query, options.semantics) {
        Ok(expr) => expr,
        Err(_) if is_extended_range_selector(query) => {
            return Outcome::Unsupported(
                "anchored/smoothed range selectors (promql-parser 0.11 cannot parse them)"
                    .to_string(),
            )
        }
        Err(error) if expectation.fail => return check_failure(&error, expectation),
        Err(error) => return Outcome::Fail(format!("parse error: {error}")),
    };
    let mut evaluator = Evaluator::new(storage, options, start, end);
    let result = if step <= 0 {
        Err(EvalError::InvalidArgument(
            "zero or negative query resolution step widths are not accepted. Try a positive integer"
                .to_string(),
        ))
    } else {
        evaluator.eval_range(&expr, start, end, step)
    };
    if evaluator.touched_native_histograms {
        return Outcome::Unsupported("native histograms".to_string());
    }
    let matrix = match result {
        Err(EvalError::Unsupported(what)) => return Outcome::Unsupported(what),
        Err(error) if expectation.fail => return check_failure(&error, expectation),
        Err(error) => return Outcome::Fail(format!("unexpected error: {error}")),
        Ok(_) if expectation.fail => return Outcome::Fail("expected an error".to_string()),
        Ok(matrix) => matrix,
    };
    if let Some(reason) = check_annotations(&expectation.annotations, &evaluator) {
        return Outcome::Fail(reason);
    }
    compare_matrix(&matrix, expectation, start, step)
}

/// Compares series of points with expected lines whose n-th value sits at
/// `start + n * step` (`_` marks no point).
fn compare_matrix(matrix: &[Series], expectation: &Expectation, start: i64, step: i64) -> Outcome {
    let mut expected: HashMap<&Labels, Vec<(i64, f64)>> = HashMap::new();
    for (labels, values) in &expectation.series {
        let points = values
            .iter()
            .enumerate()
            .filter_map(|(position, value)| match value {
                SequenceValue::Value(value) => Some((start + position as i64 * step, *value)),
                _ => None,
            })
            .collect();
        expected.insert(labels, points);
    }
    for series in matrix {
        let Some(points) = expected.get(&series.labels) else {
            return Outcome::Fail(format!("unexpected series {} in result", series.labels));
        };
        let actual: Vec<(i64, f64)> = series
            .timestamps
            .iter()
            .copied()
            .zip(series.values.iter().copied())
            .collect();
        let same = points.len() == actual.len()
            && points
                .iter()
                .zip(&actual)
                .all(|(e, a)| e.0 == a.0 && almost_equal(e.1, a.1));
        if !same {
            return Outcome::Fail(format!(
                "series {}: expected {:?}, got {:?}",
                series.labels, points, actual
            ));
        }
    }
    let missing: Vec<String> = expected
        .iter()
        .filter(|(labels, points)| {
            !points.is_empty() && !matrix.iter().any(|s| &&s.labels == *labels)
        })
        .map(|(labels, _)| labels.to_string())
        .collect();
    if !missing.is_empty() {
        return Outcome::Fail(format!("expected series not found: {}", missing.join(", ")));
    }
    Outcome::Pass
}

/// Prometheus' test comparison: relative epsilon 1e-6, NaN equals NaN.
pub fn almost_equal(a: f64, b: f64) -> bool {
    const EPSILON: f64 = 0.000001;
    const MIN_NORMAL: f64 = f64::MIN_POSITIVE;
    if a.is_nan() && b.is_nan() {
        return true;
    }
    if a == b {
        return true;
    }
    let difference = (a - b).abs();
    if a == 0.0 || b == 0.0 || difference < MIN_NORMAL {
        return difference < EPSILON * MIN_NORMAL;
    }
    difference / (a.abs() + b.abs()) < EPSILON
}

fn split_word(text: &str) -> (&str, &str) {
    let text = text.trim_start();
    match text.find(char::is_whitespace) {
        Some(position) => (&text[..position], text[position..].trim_start()),
        None => (text, ""),
    }
}

/// A promqltest time or duration (`0`, `50m`, `1h30m`, `-5m`, `10s`) in ms.
fn parse_time(text: &str) -> Option<i64> {
    let (negative, text) = match text.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, text),
    };
    let milliseconds = if let Ok(number) = text.parse::<f64>() {
        (number * 1000.0).round() as i64
    } else {
        parse_model_duration(text).ok()?
    };
    Some(if negative {
        -milliseconds
    } else {
        milliseconds
    })
}

/// Whether a line starts a new command (`clear` has no body, so the next
/// command may follow without a blank line).
fn is_command(line: &str) -> bool {
    let first = line.split_whitespace().next().unwrap_or("");
    matches!(first, "load" | "load_with_nhcb" | "clear") || first.starts_with("eval")
}

/// Whether a query uses 3.x's experimental `anchored`/`smoothed` modifiers.
fn is_extended_range_selector(query: &str) -> bool {
    query
        .split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .any(|word| word == "anchored" || word == "smoothed")
}

/// Checks annotations as promqltest does: each `expect warn|info` line must
/// match an annotation of its kind, and when such lines exist every
/// annotation of that kind must match one. Positions (`(1:15)`) are not
/// modelled: they are stripped from expected messages and regexes.
fn check_annotations(expected: &AnnotationExpectation, evaluator: &Evaluator) -> Option<String> {
    if expected.no_warn && !evaluator.warnings.is_empty() {
        return Some(format!("unexpected warnings: {:?}", evaluator.warnings));
    }
    if expected.no_info && !evaluator.infos.is_empty() {
        return Some(format!("unexpected infos: {:?}", evaluator.infos));
    }
    for kind in ["warn", "info"] {
        let actual = if kind == "warn" {
            &evaluator.warnings
        } else {
            &evaluator.infos
        };
        let lines: Vec<&(&str, Option<String>, Option<String>)> = expected
            .lines
            .iter()
            .filter(|line| line.0 == kind)
            .collect();
        if lines.is_empty() {
            continue;
        }
        let matches = |line: &(&str, Option<String>, Option<String>), annotation: &str| -> bool {
            match (&line.1, &line.2) {
                (Some(message), _) => strip_position(message) == annotation,
                (None, Some(pattern)) => regex::Regex::new(&strip_position_regex(pattern))
                    .map(|regex| regex.is_match(annotation))
                    .unwrap_or(false),
                (None, None) => true,
            }
        };
        for line in &lines {
            if !actual.iter().any(|annotation| matches(line, annotation)) {
                return Some(format!(
                    "expected {kind} annotation {:?} not found in {actual:?}",
                    line.1.as_ref().or(line.2.as_ref())
                ));
            }
        }
        for annotation in actual {
            if !lines.iter().any(|line| matches(line, annotation)) {
                return Some(format!("unexpected {kind} annotation {annotation:?}"));
            }
        }
    }
    None
}

/// `msg (1:15)` without its position suffix.
fn strip_position(message: &str) -> &str {
    let trimmed = message.trim_end();
    if let Some(open) = trimmed.rfind(" (") {
        let inner = &trimmed[open + 2..];
        if let Some(inner) = inner.strip_suffix(')') {
            if inner.contains(':') && inner.chars().all(|c| c.is_ascii_digit() || c == ':') {
                return &trimmed[..open];
            }
        }
    }
    trimmed
}

/// A regex without its trailing position part (`\(1:21\)`, `\([0-9]+:[0-9]+\)`).
fn strip_position_regex(pattern: &str) -> String {
    let trimmed = pattern.trim_end();
    if trimmed.ends_with("\\)") {
        if let Some(open) = trimmed.rfind("\\(") {
            return trimmed[..open].trim_end().to_string();
        }
    }
    trimmed.to_string()
}

/// Functions whose result depends on the evaluation time even when their
/// arguments are pinned with `@` (Prometheus' `AtModifierUnsafeFunctions`).
const AT_MODIFIER_UNSAFE_FUNCTIONS: &[&str] = &[
    "days_in_month",
    "day_of_month",
    "day_of_week",
    "day_of_year",
    "hour",
    "minute",
    "month",
    "year",
    "predict_linear",
    "time",
    "timestamp",
];

/// promqltest's step-invariance check (`atModifierTestCases`): pin every
/// selector and subquery outside an `@` subquery to the eval time, then
/// evaluate at other times; the result must not change.
fn rerun_with_at_modifier(
    storage: &Storage,
    expr: &Expr,
    time: i64,
    expectation: &Expectation,
    options: &EvalOptions,
) -> Option<String> {
    let mut pinned = expr.clone();
    let mut unsafe_function = false;
    pin_selectors(&mut pinned, &at_modifier(time), &mut unsafe_function);
    if unsafe_function {
        return None;
    }
    let other_times: Vec<i64> = if time == 0 {
        vec![-1000, 0, 1000]
    } else {
        vec![-10 * time, 0, time / 5, time, 10 * time]
    };
    for other_time in other_times {
        let mut evaluator = Evaluator::new(storage, options, other_time, other_time);
        let outcome = match evaluator.eval(&pinned, other_time) {
            Ok(value) => compare_instant(value, expectation, false),
            Err(error) => Outcome::Fail(format!("unexpected error: {error}")),
        };
        if let Outcome::Fail(reason) = outcome {
            return Some(format!(
                "with @ {time}ms evaluated at {other_time}ms: {reason}"
            ));
        }
    }
    None
}

fn at_modifier(time: i64) -> AtModifier {
    let offset = Duration::from_millis(time.unsigned_abs());
    let system_time = if time >= 0 {
        UNIX_EPOCH + offset
    } else {
        UNIX_EPOCH - offset
    };
    AtModifier::At(system_time)
}

fn pin_selectors(expr: &mut Expr, at: &AtModifier, unsafe_function: &mut bool) {
    match expr {
        Expr::VectorSelector(selector) => {
            if selector.at.is_none() {
                selector.at = Some(at.clone());
            }
        }
        Expr::MatrixSelector(selector) => {
            if selector.vs.at.is_none() {
                selector.vs.at = Some(at.clone());
            }
        }
        Expr::Subquery(subquery) => {
            if subquery.at.is_none() {
                subquery.at = Some(at.clone());
            }
        }
        Expr::Call(call) => {
            if AT_MODIFIER_UNSAFE_FUNCTIONS.contains(&call.func.name) {
                *unsafe_function = true;
            }
            for arg in &mut call.args.args {
                pin_selectors(arg, at, unsafe_function);
            }
        }
        Expr::Aggregate(aggregate) => {
            pin_selectors(&mut aggregate.expr, at, unsafe_function);
            if let Some(param) = &mut aggregate.param {
                pin_selectors(param, at, unsafe_function);
            }
        }
        Expr::Unary(unary) => pin_selectors(&mut unary.expr, at, unsafe_function),
        Expr::Binary(binary) => {
            pin_selectors(&mut binary.lhs, at, unsafe_function);
            pin_selectors(&mut binary.rhs, at, unsafe_function);
        }
        Expr::Paren(paren) => pin_selectors(&mut paren.expr, at, unsafe_function),
        Expr::NumberLiteral(_) | Expr::StringLiteral(_) | Expr::Extension(_) => {}
    }
}

/// promqltest's range-mode check: the instant query, evaluated as a range
/// query from t-1m to t+1m at a 1m step, must give the same result at t.
fn rerun_as_range_query(
    storage: &Storage,
    expr: &Expr,
    time: i64,
    expectation: &Expectation,
    options: &EvalOptions,
) -> Option<String> {
    const MINUTE: i64 = 60_000;
    let mut evaluator = Evaluator::new(storage, options, time - MINUTE, time + MINUTE);
    let matrix = match evaluator.eval_range(expr, time - MINUTE, time + MINUTE, MINUTE) {
        Ok(matrix) => matrix,
        Err(error) => return Some(format!("as a range query: unexpected error: {error}")),
    };
    let at_time: Vec<Sample> = matrix
        .iter()
        .filter_map(|series| {
            let position = series.timestamps.iter().position(|&t| t == time)?;
            Some(Sample {
                labels: series.labels.clone(),
                value: series.values[position],
            })
        })
        .collect();
    let value = if expectation.scalar.is_some() {
        match at_time.as_slice() {
            [only] if only.labels.is_empty() => Value::Scalar(only.value),
            _ => Value::Vector(at_time),
        }
    } else {
        Value::Vector(at_time)
    };
    match compare_instant(value, expectation, false) {
        Outcome::Fail(reason) => Some(format!("as a range query: {reason}")),
        _ => None,
    }
}

/// Whether the query reads the query bounds (`start()`, `end()`, `range()`,
/// `step()`), which differ between instant and range mode.
fn mentions_query_bounds(query: &str) -> bool {
    ["start()", "end()", "range()", "step()"]
        .iter()
        .any(|call| query.contains(call))
}
