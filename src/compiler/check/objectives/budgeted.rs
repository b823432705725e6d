//! The objective kinds with an error budget: latency (good requests under a
//! threshold, from a histogram), availability (errors or good events over a
//! total, from counters) and accuracy (good time slices of a quality gauge).
//!
//! Rules: a latency threshold is one of the declared `buckets` (E0610), or,
//! with no `buckets`, vouched for by `assume_bucket = true` (E0611), because the
//! good events are read from the `le` series equal to the threshold and nothing
//! else can prove that series exists; `assume_bucket = true` beside `buckets`
//! that lack the threshold is a warning (W0003);
//! `errors` and `good`, `min` and `max` exclude each other (E0408); an accuracy
//! `slice` is shorter than its `window` (E0405). Defaults: accuracy
//! `slice = 5m`; the budget's defaults are `budget.rs`'s.

use crate::base::diagnostic::Span;
use crate::compiler::check::checker::Checker;
use crate::compiler::check::codes;
use crate::compiler::check::schema::{attribute, block, conflict, ordered, Fields, Schema};
use crate::compiler::check::selectors::{MetricRole, ServiceSelector};
use crate::compiler::check::values::Unit;
use crate::compiler::ir::{self, Duration};

const DEFAULT_ACCURACY_SLICE: Duration = Duration::minutes(5);

impl Checker {
    pub fn check_latency(
        &mut self,
        fields: &Fields<'_>,
        service_selector: &ServiceSelector<'_>,
    ) -> Option<ir::ObjectiveKind> {
        let mut all_good = true;
        let histogram = self.selector_field(
            fields,
            "histogram",
            MetricRole::Histogram,
            service_selector,
            true,
            &mut all_good,
        );
        let threshold = self.duration_field(fields, "threshold", None, true, &mut all_good);
        let mut buckets = Vec::new();
        let mut buckets_good = true;
        let buckets_value = fields.value("buckets");
        if let Some(value) = buckets_value {
            match self.read_list("buckets", value, Unit::Duration, |checker, element| {
                let duration = checker.read_duration("buckets", element)?;
                checker
                    .check_positive("buckets", duration, element.span)
                    .then_some(duration)
            }) {
                Some(list) => buckets = list,
                None => buckets_good = false,
            }
            buckets.sort();
            buckets.dedup();
        }
        let assume_bucket = match fields.value("assume_bucket") {
            Some(value) => self.read_bool("assume_bucket", value).or_else(|| {
                all_good = false;
                None
            }),
            None => Some(false),
        };
        all_good &= buckets_good;
        if let (Some((threshold, Some(threshold_span))), Some(assume_bucket), true) =
            (threshold, assume_bucket, buckets_good)
        {
            if !self.check_threshold_is_a_bucket(
                threshold,
                threshold_span,
                &buckets,
                buckets_value.map(|value| value.span),
                assume_bucket,
            ) {
                all_good = false;
            }
        }
        let budget = self.check_budget(fields);
        Some(ir::ObjectiveKind::Latency {
            histogram: histogram?,
            threshold: threshold?.0,
            buckets,
            budget: budget?,
        })
        .filter(|_| all_good)
    }

    pub fn check_availability(
        &mut self,
        fields: &Fields<'_>,
        service_selector: &ServiceSelector<'_>,
    ) -> Option<ir::ObjectiveKind> {
        let mut all_good = true;
        let total = self.counter_field(fields, "total", service_selector, &mut all_good);
        if total.is_none() && fields.get("total").is_none() && fields.get("total_query").is_none() {
            all_good = false;
            self.push(
                codes::MISSING_FIELD
                    .at(fields.owner_span, "an availability objective needs `total` or `total_query`")
                    .with_help("add `total = http_requests_total` (or `total_query = \"\"\"...\"\"\"`) inside this block"),
            );
        }
        let errors = fields.get("errors").or(fields.get("errors_query"));
        let good = fields.get("good").or(fields.get("good_query"));
        let events = match (errors, good) {
            (Some(errors), Some(good)) => {
                let (first, second) = ordered(errors, good);
                self.push(conflict(
                    &first.key,
                    &second.key,
                    "the error ratio is either errors / total or 1 - good / total",
                ));
                None
            }
            (None, None) => {
                self.push(
                    codes::MISSING_FIELD.at(fields.owner_span,
                        "an availability objective needs `errors` or `good`",
                    )
                    .with_help("add `errors = http_requests_total{code=~\"5..\"}` (or `good = ...`, or `errors_query = \"\"\"...\"\"\"`) inside this block"),
                );
                None
            }
            (Some(_), None) => self
                .counter_field(fields, "errors", service_selector, &mut all_good)
                .map(ir::AvailabilityEvents::Errors),
            (None, Some(_)) => self
                .counter_field(fields, "good", service_selector, &mut all_good)
                .map(ir::AvailabilityEvents::Good),
        };
        let budget = self.check_budget(fields);
        Some(ir::ObjectiveKind::Availability {
            events: events?,
            total: total?,
            budget: budget?,
        })
        .filter(|_| all_good)
    }

    pub fn check_accuracy(
        &mut self,
        fields: &Fields<'_>,
        service_selector: &ServiceSelector<'_>,
    ) -> Option<ir::ObjectiveKind> {
        let mut all_good = true;
        let metric = self.selector_field(
            fields,
            "metric",
            MetricRole::Gauge,
            service_selector,
            true,
            &mut all_good,
        );
        let bound = match (fields.get("min"), fields.get("max")) {
            (Some(min), Some(max)) => {
                let (first, second) = ordered(min, max);
                self.push(conflict(
                    &first.key,
                    &second.key,
                    "a slice is good above `min` or below `max`, not both",
                ));
                None
            }
            (None, None) => {
                self.push(
                    codes::MISSING_FIELD.at(fields.owner_span,
                        "an accuracy objective needs `min` or `max`",
                    )
                    .with_help("add `min = 0.92` (good while the metric is at least 0.92) inside this block"),
                );
                None
            }
            (Some(min), None) => self.read_number("min", &min.value).map(ir::Bound::Min),
            (None, Some(max)) => self.read_number("max", &max.value).map(ir::Bound::Max),
        };
        let slice = self.duration_field(
            fields,
            "slice",
            Some(DEFAULT_ACCURACY_SLICE),
            true,
            &mut all_good,
        );
        let budget = self.check_budget(fields);
        if let (Some((slice, slice_span)), Some(budget)) = (slice, &budget) {
            if slice >= budget.window {
                let mut diagnostic = codes::SLICE_NOT_SHORTER.at(slice_span.unwrap_or(fields.owner_span),
                    format!(
                        "a {} slice does not fit in the {} window",
                        slice.to_plain_string(),
                        budget.window.to_plain_string()
                    ),
                )
                .with_help("the budget counts slices inside the window: make the slice much shorter, such as 5m");
                if let Some(window) = fields.value("window") {
                    diagnostic = diagnostic.with_secondary(window.span, "the objective window");
                }
                self.push(diagnostic);
                all_good = false;
            }
        }
        Some(ir::ObjectiveKind::Accuracy {
            metric: metric?,
            bound: bound?,
            slice: slice?.0,
            budget: budget?,
        })
        .filter(|_| all_good)
    }
}

/// Bucket boundaries of the Prometheus client libraries' default histogram
/// (`prometheus.DefBuckets`), in milliseconds.
const PROMETHEUS_DEFAULT_BUCKETS_MS: [i64; 11] =
    [5, 10, 25, 50, 100, 250, 500, 1_000, 2_500, 5_000, 10_000];

/// Bucket boundaries OpenTelemetry's semantic conventions advise for request
/// durations in seconds (`http.server.request.duration`), in milliseconds.
const OPENTELEMETRY_DEFAULT_BUCKETS_MS: [i64; 14] = [
    5, 10, 25, 50, 75, 100, 250, 500, 750, 1_000, 2_500, 5_000, 7_500, 10_000,
];

impl Checker {
    /// A latency threshold is read from the `le` series equal to it, so it must be
    /// a boundary the histogram really has: one of the declared `buckets`, or one
    /// the user vouches for with `assume_bucket = true`. False on an error.
    fn check_threshold_is_a_bucket(
        &mut self,
        threshold: Duration,
        threshold_span: Span,
        buckets: &[Duration],
        buckets_span: Option<Span>,
        assume_bucket: bool,
    ) -> bool {
        if buckets.contains(&threshold) {
            return true;
        }
        let missing_series = format!(
            "the histogram would need a `le=\"{}\"` series; without it the objective reads no data",
            threshold.as_seconds()
        );
        match buckets_span {
            Some(buckets_span) if !buckets.is_empty() => {
                let nearest = nearest_boundaries(threshold, buckets);
                let code = if assume_bucket {
                    codes::THRESHOLD_NOT_A_BUCKET
                } else {
                    codes::THRESHOLD_NOT_A_DECLARED_BUCKET
                };
                self.push(
                    code.at(
                        threshold_span,
                        format!(
                            "{} is not one of the declared buckets",
                            threshold.to_plain_string()
                        ),
                    )
                    .with_secondary(buckets_span, "the declared buckets")
                    .with_note(missing_series)
                    .with_help(format!(
                        "the nearest declared boundaries are {nearest}: use one as the threshold, \
                         or add {} to the histogram's instrumentation and to `buckets`",
                        threshold.to_plain_string()
                    )),
                );
                assume_bucket
            }
            _ if assume_bucket => true,
            _ => {
                let mut help =
                    String::from("declare the histogram's boundaries with `buckets = [...]`");
                for (name, list) in [
                    (
                        "Prometheus client default",
                        &PROMETHEUS_DEFAULT_BUCKETS_MS[..],
                    ),
                    (
                        "OpenTelemetry default",
                        &OPENTELEMETRY_DEFAULT_BUCKETS_MS[..],
                    ),
                ] {
                    let list: Vec<Duration> = list
                        .iter()
                        .map(|&millis| Duration::from_millis(millis))
                        .collect();
                    if list.contains(&threshold) {
                        help.push_str(&format!(
                            "; {} is a {name} boundary",
                            threshold.to_plain_string()
                        ));
                    } else {
                        help.push_str(&format!(
                            "; the nearest {name} boundaries are {}",
                            nearest_boundaries(threshold, &list)
                        ));
                    }
                }
                help.push_str(
                    "; or write `assume_bucket = true` if the histogram has this boundary",
                );
                self.push(
                    codes::THRESHOLD_NOT_KNOWN_TO_BE_A_BUCKET
                        .at(
                            threshold_span,
                            format!(
                                "nothing says the histogram has a {} bucket",
                                threshold.to_plain_string()
                            ),
                        )
                        .with_note(missing_series)
                        .with_help(help),
                );
                false
            }
        }
    }
}

/// The greatest boundary below `threshold` and the least above it, as text:
/// `100ms and 250ms`, or the one that exists.
fn nearest_boundaries(threshold: Duration, sorted_boundaries: &[Duration]) -> String {
    let below = sorted_boundaries
        .iter()
        .rev()
        .find(|&&bucket| bucket < threshold);
    let above = sorted_boundaries.iter().find(|&&bucket| bucket > threshold);
    match (below, above) {
        (Some(below), Some(above)) => format!(
            "{} and {}",
            below.to_plain_string(),
            above.to_plain_string()
        ),
        (Some(only), None) | (None, Some(only)) => only.to_plain_string(),
        (None, None) => "none".to_owned(),
    }
}

macro_rules! budget_fields {
    ($($extra:expr),* $(,)?) => {
        &[
            $($extra,)*
            attribute("objective", "objective = 99.9%"),
            attribute("window", "window = 30d"),
            attribute("description", "description = \"...\""),
            attribute("min_traffic", "min_traffic = 10 per 5m"),
            attribute("alerts", "alerts = false"),
            attribute("burn_alert", "burn_alert = \"FraudScoreBudgetBurn\""),
            attribute("group_by", "group_by = [model, model_version]"),
            attribute("expected_groups", "expected_groups = 40"),
            block("labels", false, false),
            block("page", false, false),
            block("ticket", false, false),
            block("budget", false, false),
        ]
    };
}

pub(super) static LATENCY_SCHEMA: Schema = Schema {
    what: "a latency objective",
    fields: budget_fields![
        attribute("histogram", "histogram = http_request_duration_seconds"),
        attribute("threshold", "threshold = 250ms"),
        attribute("buckets", "buckets = [100ms, 250ms, 500ms, 1s]"),
        attribute("assume_bucket", "assume_bucket = true"),
    ],
    allows_routes: false,
    secrets: &[],
};

pub(super) static AVAILABILITY_SCHEMA: Schema = Schema {
    what: "an availability objective",
    fields: budget_fields![
        attribute("errors", "errors = http_requests_total{code=~\"5..\"}"),
        attribute("good", "good = http_requests_total{code!~\"5..\"}"),
        attribute("total", "total = http_requests_total"),
        attribute(
            "errors_query",
            "errors_query = \"\"\"sum(rate(http_requests_total{code=~\"5..\"}[$window]))\"\"\""
        ),
        attribute(
            "good_query",
            "good_query = \"\"\"sum(rate(http_requests_total{code!~\"5..\"}[$window]))\"\"\""
        ),
        attribute(
            "total_query",
            "total_query = \"\"\"sum(rate(http_requests_total[$window]))\"\"\""
        ),
    ],
    allows_routes: false,
    secrets: &[],
};

pub(super) static ACCURACY_SCHEMA: Schema = Schema {
    what: "an accuracy objective",
    fields: budget_fields![
        attribute("metric", "metric = model_precision"),
        attribute("min", "min = 0.92"),
        attribute("max", "max = 0.1"),
        attribute("slice", "slice = 5m"),
    ],
    allows_routes: false,
    secrets: &[],
};
