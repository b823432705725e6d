//! Prometheus rules from the typed model: SLI recording rules at every window the
//! alerts use, the objective-window ratio, metadata and budget rules,
//! multi-window multi-burn-rate alerts, threshold and forecast alerts, and an
//! absent-metrics alert per objective.
//!
//! Invariants:
//! - every expression is built from [`crate::compiler::ir::Selector::to_promql`] (escaped
//!   PromQL strings) and exact [`Decimal`] text, so `99.9%` is `0.001` and a label
//!   value can never end a string early; an expression SLI's text, which the
//!   checker parsed, goes in as written with only `$window` replaced
//!   ([`crate::compiler::ir::Query::at`]);
//! - recorded series carry only the identity labels `service` and `slo`; alerts
//!   carry `service`, `slo`, `kind`, `team`, `severity` plus the service's and the
//!   objective's labels (the identity labels win; the checker refuses user labels
//!   with those names anyway);
//! - error ratios are traffic-weighted: at an alert window `W` shorter than
//!   [`CHAINED_FROM`] they are `errors over W / events over W` from the raw
//!   counters, and from it on (and over the objective window) a ratio of sums of
//!   the recorded 5-minute rates, never a mean of ratios;
//! - a recording rule that reads another comes after it in the same group, so
//!   it reads this evaluation's value, not the previous one;
//! - the model holds user strings unescaped; escaping for Go templates (alert labels
//!   and annotations) happens only in [`groups_text`], so the promtool test
//!   generator can compare with the unescaped values Prometheus will produce.
//!
//! Forecasts fire only from a full `lookback` of history: `and x offset <lookback>`
//! keeps a series only if it had a sample at or before the start of the fitted
//! window (within Prometheus' 5m lookback delta), so a series minutes old (a
//! rolling deploy) is never extrapolated from its first steep minutes. Counting
//! samples (`count_over_time(x[lookback]) >= n`) would need the scrape interval,
//! which mlslo does not know (20 samples are 5 minutes at 15s, 20 at 1m); a sample
//! `lookback` old proves the window is covered at any interval, and reads one
//! sample per series. The GPU exhaustion forecast extrapolates the pool (the
//! fullest device's share of memory, one recorded series per objective), which a
//! rolling deploy does not restart. Forecast alerts carry `forecast="true"`, and a
//! drift forecast keeps firing for the threshold alert's `for` after the score
//! crosses, so it hands over to the threshold alert without a gap.
//!
//! Accuracy objectives are a time-slice budget: `slo:slice_bad:bool<slice>` is 1
//! while any sample of the slice ending now is on the wrong side of the bound
//! (`min_over_time(m[slice]) < bool min`), worst series first. One dip keeps it
//! at 1 for one slice length, so its mean over a window is the fraction of the
//! window's time covered by bad slices: the fraction of bad slices.

use std::collections::BTreeMap;

use crate::compiler::emit::yaml::direct;
use crate::compiler::ir::naming;
use crate::compiler::ir::{
    AvailabilityEvents, Bound, Budget, BurnWindow, Counter, Decimal, Duration, LabelMatcher,
    MatchOp, Objective, ObjectiveKind, Query, Service, Tier,
};
use crate::prometheus::model::go_quote;
use crate::prometheus::model::humanize::humanize_percentage;
use std::borrow::Cow;
use std::fmt::Write as _;

/// How long an objective's metrics must be missing before the absent alert fires:
/// long enough to ride out a rollout or a scrape hiccup.
pub const ABSENT_FOR: Duration = Duration::minutes(10);

/// How far back the per-group absent alert looks for a group that has vanished:
/// a group seen then and not now fires, and a group retired on purpose resolves
/// by itself once this much time has passed.
pub const VANISHED_GROUP_LOOKBACK: Duration = Duration::hours(1);

/// The aggregation clauses of an objective's `group_by`: every `sum`, `max` and
/// `count` keeps the group labels, and every vector match is on them, so one
/// group's series never meet another's. Ungrouped, the clauses are empty and
/// `on ()`, the text mlslo wrote before groups existed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Grouping {
    labels: String,
}

impl Grouping {
    pub fn of(objective: &Objective) -> Grouping {
        Grouping {
            labels: objective.group_by.join(", "),
        }
    }

    pub fn is_grouped(&self) -> bool {
        !self.labels.is_empty()
    }

    /// `sum(x)` or `sum by (model) (x)`.
    pub fn aggregate(&self, operator: &str, inner: &str) -> String {
        if self.is_grouped() {
            format!("{operator} by ({}) ({inner})", self.labels)
        } else {
            format!("{operator}({inner})")
        }
    }

    /// Whether an expression SLI is already a sum by exactly the group labels.
    fn sums_by(&self, query: &Query) -> bool {
        let mut labels: Vec<&str> = if self.labels.is_empty() {
            Vec::new()
        } else {
            self.labels.split(", ").collect()
        };
        labels.sort_unstable();
        query
            .summed_by
            .as_ref()
            .is_some_and(|summed| summed.iter().map(String::as_str).eq(labels))
    }

    /// `on ()` or `on (model)`.
    pub fn on(&self) -> String {
        format!("on ({})", self.labels)
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct RuleGroup {
    pub name: String,
    pub rules: Vec<Rule>,
}

#[derive(Clone, Debug, PartialEq)]
pub enum Rule {
    Recording {
        record: String,
        expr: String,
        labels: BTreeMap<String, String>,
    },
    Alerting(AlertRule),
}

#[derive(Clone, Debug, PartialEq)]
pub struct AlertRule {
    pub alert: String,
    pub expr: String,
    pub for_: Duration,
    /// How long the alert keeps firing once its condition stops; zero: not written.
    pub keep_firing_for: Duration,
    /// Unescaped; escaped for Go templates when written.
    pub labels: BTreeMap<String, String>,
    /// Go templates of mlslo's own, such as a summary with the alert's value in
    /// words (`{{ $value | humanizeDuration }}`): written as they are, before
    /// [`AlertRule::annotations`], so any user text in them is escaped already
    /// ([`escape_go_template`]). Expectations render them
    /// (`crate::prometheus::gotemplate::expand_alert`).
    pub templates: Vec<(String, String)>,
    /// Unescaped, in writing order (summary, description, runbook, dashboard).
    pub annotations: Vec<(String, String)>,
}

impl AlertRule {
    /// The annotations as the rule file has them: the templates of keys the
    /// static annotations lack first (a budget alert's summary), then every static
    /// annotation escaped, or replaced in place by the template of its key (a burn
    /// alert's description with its value).
    pub fn written_annotations(&self) -> Vec<(&String, Cow<'_, str>)> {
        let template_of = |key: &str| {
            self.templates
                .iter()
                .find(|(template_key, _)| template_key == key)
                .map(|(_, template)| Cow::Borrowed(template.as_str()))
        };
        self.templates
            .iter()
            .filter(|(key, _)| {
                !self
                    .annotations
                    .iter()
                    .any(|(static_key, _)| static_key == key)
            })
            .map(|(key, template)| (key, Cow::Borrowed(template.as_str())))
            .chain(self.annotations.iter().map(|(key, value)| {
                (
                    key,
                    template_of(key).unwrap_or_else(|| escape_go_template(value)),
                )
            }))
            .collect()
    }
}

/// Which rules to generate: a rule file needs every rule, while the verification
/// of the alerting system reads only the alerts, and recording rules are most of
/// the text of a budgeted objective.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WhichRules {
    All,
    AlertingOnly,
}

/// Every rule group of the objectives of one service, in declaration order (the
/// service's file also holds its monitoring group: [`crate::compiler::emit::service_rule_groups`]).
/// With [`WhichRules::AlertingOnly`] the groups keep their names and alerts, and
/// a group left with no rule is still there.
pub fn objective_rule_groups(service: &Service, which: WhichRules) -> Vec<RuleGroup> {
    let mut groups = Vec::new();
    for objective in &service.objectives {
        emit_objective(service, objective, which, &mut groups);
    }
    groups
}

/// The identity labels of recorded series.
pub fn identity_labels(service: &Service, objective: &Objective) -> BTreeMap<String, String> {
    let mut labels = naming::identity_labels(&service.name, &objective.name);
    // Constant per objective, like the identity labels, so every vector match
    // between one objective's series still pairs them. Sloth's `sloth_window` is
    // left out: mlslo's burn alerts join two windows' series with `and` on all
    // labels, which a label naming the window would break.
    if service.sloth_labels && objective.kind.budget().is_some() {
        labels.extend(naming::sloth_labels(&service.name, &objective.name));
    }
    labels
}

/// The labels of every alert of an objective at a severity.
pub fn alert_labels(
    service: &Service,
    objective: &Objective,
    severity: &str,
) -> BTreeMap<String, String> {
    let mut labels = service.labels.clone();
    labels.extend(objective.labels.clone());
    labels.extend(identity_labels(service, objective));
    labels.insert(
        naming::LABEL_KIND.to_owned(),
        objective.kind.name().as_str().to_owned(),
    );
    labels.insert(naming::LABEL_TEAM.to_owned(), service.team.clone());
    labels.insert(naming::LABEL_SEVERITY.to_owned(), severity.to_owned());
    labels
}

/// `metric{service="s",slo="o"}`: a recorded series of one objective (the
/// matchers of [`identity_labels`], in its order).
pub fn recorded(record: &str, service: &Service, objective: &Objective) -> String {
    let mut text =
        String::with_capacity(record.len() + service.name.len() + objective.name.len() + 20);
    text.push_str(record);
    text.push('{');
    text.push_str(naming::LABEL_SERVICE);
    text.push('=');
    crate::compiler::ir::push_promql_string(&mut text, &service.name);
    text.push(',');
    text.push_str(naming::LABEL_SLO);
    text.push('=');
    crate::compiler::ir::push_promql_string(&mut text, &objective.name);
    text.push('}');
    text
}

/// The windows at which the SLI is recorded: 5m (for the current burn rate) and
/// every long and short window of every burn window, sorted.
pub fn sli_windows(budget: &Budget) -> Vec<Duration> {
    let mut windows = vec![naming::CHAINED_RATE_WINDOW];
    for (_, burn) in budget.burn_windows() {
        windows.push(burn.long);
        windows.push(burn.short);
    }
    windows.sort();
    windows.dedup();
    windows
}

/// `le` matcher for a latency threshold. Integer seconds match both `1` (Go
/// clients, Prometheus 2) and `1.0` (Python and Java clients, Prometheus 3's
/// normalisation), as Pyrra's migration mode does.
pub fn le_matcher(threshold: Duration) -> LabelMatcher {
    let seconds = threshold.as_seconds();
    if seconds.is_integer() {
        LabelMatcher {
            label: "le".into(),
            op: MatchOp::Regex,
            value: format!("{seconds}(\\.0)?"),
        }
    } else {
        LabelMatcher {
            label: "le".into(),
            op: MatchOp::Equal,
            value: seconds.to_string(),
        }
    }
}

fn le_infinity() -> LabelMatcher {
    LabelMatcher {
        label: "le".into(),
        op: MatchOp::Equal,
        value: "+Inf".into(),
    }
}

/// How all events of a counter objective are counted, for the traffic guard;
/// `None` for accuracy, whose budget counts time slices, not events.
enum TotalEvents {
    /// A counter selector: `increase(x[W])`.
    Counter(String),
    /// An expression SLI, a per-second rate: its value at `W` times `W` in
    /// seconds, which is what `increase` is of the `rate` inside.
    Rate(Query),
}

impl TotalEvents {
    fn of(kind: &ObjectiveKind) -> Option<Self> {
        match kind {
            ObjectiveKind::Availability { total, .. } => Some(match total {
                Counter::Selector(total) => Self::Counter(total.to_promql()),
                Counter::Query(query) => Self::Rate(query.clone()),
            }),
            ObjectiveKind::Latency { histogram, .. } => {
                Some(Self::Counter(histogram.to_promql_with(&[le_infinity()])))
            }
            _ => None,
        }
    }

    /// The events over `window`, per group.
    fn over(&self, window: Duration, grouping: &Grouping) -> String {
        match self {
            Self::Counter(total) => {
                grouping.aggregate("sum", &format!("increase({total}[{window}])"))
            }
            Self::Rate(query) => format!(
                "{} * {}",
                if grouping.sums_by(query) {
                    format!("({})", query.at(window))
                } else {
                    grouping.aggregate("sum", &query.at(window))
                },
                Decimal::from_integer(window.millis)
                    .scaled_by_power_of_ten(-3)
                    .unwrap_or(Decimal::ZERO)
            ),
        }
    }
}

/// One counter of a counter objective, ready to be rated at any window.
enum CounterRate {
    /// A selector, rendered once: `rate(x[W])`.
    Selector(String),
    /// An expression SLI, already a rate: the expression at `W`.
    Query(Query),
}

impl CounterRate {
    fn of(counter: &Counter) -> Self {
        match counter {
            Counter::Selector(selector) => Self::Selector(selector.to_promql()),
            Counter::Query(query) => Self::Query(query.clone()),
        }
    }

    /// Its per-second rate over `window`, summed per group. An expression is
    /// summed too, so that whatever labels it keeps beside the group's, the
    /// error and total sides match group by group.
    fn rate(&self, window: Duration, grouping: &Grouping) -> String {
        match self {
            Self::Selector(selector) => {
                grouping.aggregate("sum", &format!("rate({selector}[{window}])"))
            }
            Self::Query(query) if grouping.sums_by(query) => query.at(window),
            Self::Query(query) => grouping.aggregate("sum", &query.at(window)),
        }
    }
}

/// The selectors a counter objective's rates are built from, rendered once per
/// objective rather than once per window.
enum CounterSelectors {
    /// `errors / total`.
    Errors {
        errors: CounterRate,
        total: CounterRate,
    },
    /// `(total - good) / total`: availability from good events. A good counter
    /// that does not exist yet means nothing succeeded, so it counts as zero.
    Good {
        good: CounterRate,
        total: CounterRate,
    },
    /// `(total - bucket) / total`: latency, whose good events are the `le` bucket
    /// at the threshold. A missing bucket is a misconfiguration, not slow
    /// requests, so the ratio then has no data (and `SLOLatencyBucketMissing`
    /// fires) rather than reading every request as an error.
    Bucket { bucket: String, total: String },
}

impl CounterSelectors {
    fn of(kind: &ObjectiveKind) -> Option<Self> {
        match kind {
            ObjectiveKind::Availability { events, total, .. } => Some(match events {
                AvailabilityEvents::Errors(errors) => Self::Errors {
                    errors: CounterRate::of(errors),
                    total: CounterRate::of(total),
                },
                AvailabilityEvents::Good(good) => Self::Good {
                    good: CounterRate::of(good),
                    total: CounterRate::of(total),
                },
            }),
            ObjectiveKind::Latency {
                histogram,
                threshold,
                ..
            } => Some(Self::Bucket {
                bucket: histogram.to_promql_with(&[le_matcher(*threshold)]),
                total: histogram.to_promql_with(&[le_infinity()]),
            }),
            _ => None,
        }
    }

    /// `sum(rate(x[W]))` of bad events and of all events, per group.
    fn rates(&self, window: Duration, grouping: &Grouping) -> (String, String) {
        let rate =
            |selector: &str| grouping.aggregate("sum", &format!("rate({selector}[{window}])"));
        // A counter that does not exist yet counts as zero. `vector(0)` has no
        // labels, so grouped it would match no group; zero times the group's
        // total is a zero for exactly the groups that have traffic.
        let zero = |total_rate: &str| {
            if grouping.is_grouped() {
                format!("0 * {total_rate}")
            } else {
                "vector(0)".to_owned()
            }
        };
        match self {
            Self::Errors { errors, total } => {
                let total_rate = total.rate(window, grouping);
                (
                    format!(
                        "({} or {})",
                        errors.rate(window, grouping),
                        zero(&total_rate)
                    ),
                    total_rate,
                )
            }
            Self::Good { good, total } => {
                let total_rate = total.rate(window, grouping);
                (
                    format!(
                        "({total_rate} - ({} or {}))",
                        good.rate(window, grouping),
                        zero(&total_rate)
                    ),
                    total_rate,
                )
            }
            Self::Bucket { bucket, total } => {
                let total_rate = rate(total);
                (format!("({total_rate} - {})", rate(bucket)), total_rate)
            }
        }
    }
}

/// The error ratio of an objective over `window`.
fn error_ratio_expr(
    service: &Service,
    objective: &Objective,
    counters: Option<&CounterSelectors>,
    window: Duration,
) -> String {
    match (&objective.kind, counters) {
        (ObjectiveKind::Accuracy { slice, .. }, _) => format!(
            "avg_over_time({}[{window}])",
            recorded(&naming::slice_bad(*slice), service, objective)
        ),
        (_, Some(counters)) => {
            let (errors, total) = counters.rates(window, &Grouping::of(objective));
            format!("{errors}\n/\n{total}")
        }
        (_, None) => String::new(),
    }
}

/// Alert windows at least this long are computed from the recorded 5m rates
/// ([`chained_error_ratio`]) rather than from the raw counters.
///
/// A chained ratio over `W` is the raw ratio over `W` with its two edges
/// smeared over 5 minutes (each recorded rate covers the 5 minutes before it),
/// so it differs from `rate(x[W])` by at most about `5m / W` of the window: 0.35%
/// at 1d, 8% at 1h. The short and page windows (up to 6h) decide when a page
/// fires and stay exact; the ticket windows of 1d and 3d are most of the
/// samples a budgeted objective reads (5,760 of 6,335 minutes of range over the
/// workbook's windows), and are cheap once chained. See docs/language.md,
/// "Long windows".
pub const CHAINED_FROM: Duration = Duration::days(1);

/// The error ratio of an objective over an alert window: chained from the
/// recorded 5m rates from [`CHAINED_FROM`] on for the kinds that count events,
/// from the raw counters below it (accuracy always reads its recorded slices).
fn window_error_ratio(
    service: &Service,
    objective: &Objective,
    counters: Option<&CounterSelectors>,
    window: Duration,
) -> String {
    match counters {
        Some(_) if window >= CHAINED_FROM => chained_error_ratio(service, objective, window),
        _ => error_ratio_expr(service, objective, counters, window),
    }
}

/// `sum_over_time(errors 5m[W]) / sum_over_time(total 5m[W])`: traffic-weighted
/// (a ratio of sums, never a mean of ratios), and per group, since the recorded
/// series carry the group labels and the division matches on all labels.
fn chained_error_ratio(service: &Service, objective: &Objective, window: Duration) -> String {
    format!(
        "sum_over_time({}[{window}])\n/\nsum_over_time({}[{window}])",
        recorded(
            &naming::sli_errors_rate(naming::CHAINED_RATE_WINDOW),
            service,
            objective
        ),
        recorded(
            &naming::sli_total_rate(naming::CHAINED_RATE_WINDOW),
            service,
            objective
        )
    )
}

/// For an alert window whose ratio is chained: the ratio from the raw counters
/// and the chained one, in that order (what the window cost before chaining, and
/// what it costs now). `None` for a window read from the raw counters.
pub fn chained_window_exprs(
    service: &Service,
    objective: &Objective,
    window: Duration,
) -> Option<(String, String)> {
    let counters = CounterSelectors::of(&objective.kind)?;
    (window >= CHAINED_FROM).then(|| {
        (
            error_ratio_expr(service, objective, Some(&counters), window),
            chained_error_ratio(service, objective, window),
        )
    })
}

pub(crate) fn percent(fraction: Decimal) -> String {
    fraction
        .scaled_by_power_of_ten(2)
        .map_or_else(|| fraction.to_string(), |value| format!("{value}%"))
}

fn emit_objective(
    service: &Service,
    objective: &Objective,
    which: WhichRules,
    groups: &mut Vec<RuleGroup>,
) {
    let identity = identity_labels(service, objective);
    let grouping = Grouping::of(objective);
    let mut alerts = Vec::new();
    let mut sli_rules = Vec::new();
    let mut budget_group = None;
    match &objective.kind {
        ObjectiveKind::Latency { budget, .. }
        | ObjectiveKind::Availability { budget, .. }
        | ObjectiveKind::Accuracy { budget, .. } => {
            let (sli, budget_rules) = match which {
                WhichRules::All => budget_recording_rules(service, objective, budget, &identity),
                WhichRules::AlertingOnly => (Vec::new(), Vec::new()),
            };
            sli_rules = sli;
            budget_group = Some(RuleGroup {
                name: naming::group_budget(&service.name, &objective.name),
                rules: budget_rules,
            });
            if budget.alerts_enabled {
                for tier in [Tier::Page, Tier::Ticket] {
                    burn_alerts(service, objective, budget, tier, &mut alerts);
                }
            }
        }
        ObjectiveKind::Drift {
            score,
            max,
            for_,
            keep_firing_for,
            forecast,
        } => {
            let score = score.to_promql();
            // Grouped, the worst series of each group stands for it, so extra
            // labels (`instance`, `pod`) do not multiply the alerts.
            let grouped_score = if grouping.is_grouped() {
                grouping.aggregate("max", &score)
            } else {
                score.clone()
            };
            let mut high = threshold_alert(
                service,
                objective,
                naming::ALERT_DRIFT_HIGH,
                format!("{grouped_score} > {max}"),
                *for_,
                Tier::Ticket,
                format!(
                    "Drift score of {}/{} is above {max}",
                    service.name, objective.name
                ),
                format!("{score} has been above {max} for {for_}."),
            );
            high.keep_firing_for = *keep_firing_for;
            alerts.push(high);
            if let Some(forecast) = forecast {
                let horizon = forecast.horizon.as_seconds();
                let lookback = forecast.lookback;
                let expr = if grouping.is_grouped() {
                    format!(
                        "{} > {max}\nand {on}\n{}\nunless {on}\n{grouped_score} > {max}",
                        grouping.aggregate(
                            "max",
                            &format!("predict_linear({score}[{lookback}], {horizon})")
                        ),
                        grouping.aggregate("group", &format!("{score} offset {lookback}")),
                        on = grouping.on(),
                    )
                } else {
                    format!(
                        "predict_linear({score}[{lookback}], {horizon}) > {max}\nand\n{score} offset {lookback}\nunless\n{score} > {max}"
                    )
                };
                let mut alert = threshold_alert(
                    service,
                    objective,
                    naming::ALERT_DRIFT_FORECAST,
                    expr,
                    *for_,
                    Tier::Ticket,
                    format!(
                        "Drift score of {}/{} is forecast to exceed {max} within {}",
                        service.name, objective.name, forecast.horizon
                    ),
                    format!(
                        "A linear fit of {score} over the last {lookback} crosses {max} within {}; it is still below {max} now, or has been above it for less than {for_}.",
                        forecast.horizon
                    ),
                );
                // Once the score crosses, the threshold alert is pending for `for`:
                // the forecast keeps firing exactly that long, so it resolves at the
                // evaluation where the threshold alert fires (the same hysteresis
                // as the default `keep_firing_for`, whatever that field says).
                alert.keep_firing_for = *for_;
                mark_forecast(&mut alert);
                alerts.push(alert);
            }
        }
        ObjectiveKind::Gpu {
            utilization,
            max_utilization,
            memory,
            for_,
            keep_firing_for,
            exhaustion,
        } => {
            let utilization = utilization.to_promql();
            let grouped_utilization = if grouping.is_grouped() {
                grouping.aggregate("max", &utilization)
            } else {
                utilization.clone()
            };
            let mut high = threshold_alert(
                service,
                objective,
                naming::ALERT_GPU_UTILIZATION_HIGH,
                format!("{grouped_utilization} > {max_utilization}"),
                *for_,
                Tier::Ticket,
                format!(
                    "GPU utilization of {}/{} is above {max_utilization}%",
                    service.name, objective.name
                ),
                format!("{utilization} has been above {max_utilization}% for {for_}."),
            );
            high.keep_firing_for = *keep_firing_for;
            alerts.push(high);
            if let (Some(memory), Some(forecast)) = (memory, exhaustion) {
                let used = memory.used.to_promql();
                let free = memory.free.to_promql();
                // The pool, not the device: a rolling deploy starts new device
                // series whose first minutes climb steeply, while the fullest
                // device's share of memory goes on as one series.
                if which == WhichRules::All {
                    sli_rules.push(Rule::Recording {
                        record: naming::GPU_MEMORY_USED_RATIO_MAX.to_owned(),
                        expr: grouping.aggregate("max", &format!("{used} / ({used} + {free})")),
                        labels: identity.clone(),
                    });
                }
                let pool = recorded(naming::GPU_MEMORY_USED_RATIO_MAX, service, objective);
                let lookback = forecast.lookback;
                let mut alert = threshold_alert(
                    service,
                    objective,
                    naming::ALERT_GPU_MEMORY_EXHAUSTION,
                    format!(
                        "predict_linear({pool}[{lookback}], {}) > 1\nand\n{pool} offset {lookback}",
                        forecast.horizon.as_seconds()
                    ),
                    *for_,
                    Tier::Page,
                    format!(
                        "GPU memory of {}/{} is forecast to run out within {}",
                        service.name, objective.name, forecast.horizon
                    ),
                    format!(
                        "A linear fit of the fullest device's share of memory ({used} over {used} + {free}) over the last {lookback} reaches 100% within {}.",
                        forecast.horizon
                    ),
                );
                alert.keep_firing_for = *keep_firing_for;
                mark_forecast(&mut alert);
                alerts.push(alert);
            }
        }
        ObjectiveKind::Freshness {
            last_success,
            max_age,
            for_,
            ..
        } => {
            let last_success = last_success.to_promql();
            // Grouped, a group is fresh while its newest success is.
            let newest = if grouping.is_grouped() {
                grouping.aggregate("max", &last_success)
            } else {
                last_success.clone()
            };
            alerts.push(threshold_alert(
                service,
                objective,
                naming::ALERT_FRESHNESS_STALE,
                format!("time() - {newest} > {}", max_age.as_seconds()),
                *for_,
                Tier::Ticket,
                format!(
                    "Data of {}/{} is older than {max_age}",
                    service.name, objective.name
                ),
                format!("The last success recorded by {last_success} is more than {max_age} old."),
            ));
        }
        ObjectiveKind::Logs { .. } => return,
    }
    if let ObjectiveKind::Latency {
        histogram,
        threshold,
        ..
    } = &objective.kind
    {
        alerts.push(bucket_missing_alert(
            service, objective, histogram, *threshold, &grouping,
        ));
    }
    let absent_selectors = absent_selectors(&objective.kind);
    if !absent_selectors.is_empty() {
        let mut branches: Vec<String> = absent_selectors
            .iter()
            .map(|selector| format!("absent({selector})"))
            .collect();
        // `absent` sees only the whole selector gone; a group that vanishes while
        // others stay is one that had series an hour ago and has none now.
        if grouping.is_grouped() {
            branches.extend(absent_selectors.iter().map(|selector| {
                format!(
                    "(\n  {}\n  unless {}\n  {}\n)",
                    grouping.aggregate(
                        "group",
                        &format!("{selector} offset {VANISHED_GROUP_LOOKBACK}")
                    ),
                    grouping.on(),
                    grouping.aggregate("group", selector),
                )
            }));
        }
        let expr = branches.join("\nor\n");
        alerts.push(threshold_alert(
            service,
            objective,
            naming::ALERT_METRIC_ABSENT,
            expr,
            ABSENT_FOR,
            Tier::Ticket,
            format!("Metrics of {}/{} are missing", service.name, objective.name),
            if grouping.is_grouped() {
                format!(
                    "No series matches {} for {ABSENT_FOR}, or a group of it ({}) seen {VANISHED_GROUP_LOOKBACK} ago has none: the objective's other alerts cannot fire for it.",
                    absent_selectors.join(" or "),
                    objective.group_by.join(", ")
                )
            } else {
                format!(
                    "No series matches {} for {ABSENT_FOR}: the objective's other alerts cannot fire.",
                    absent_selectors.join(" or ")
                )
            },
        ));
    }
    sli_rules.extend(alerts.into_iter().map(Rule::Alerting));
    groups.push(RuleGroup {
        name: naming::group_objective(&service.name, &objective.name),
        rules: sli_rules,
    });
    groups.extend(budget_group);
}

/// The recording rules of a budgeted objective: its SLI windows (the objective
/// group's) and its budget group's.
fn budget_recording_rules(
    service: &Service,
    objective: &Objective,
    budget: &Budget,
    identity: &BTreeMap<String, String>,
) -> (Vec<Rule>, Vec<Rule>) {
    let mut sli = Vec::new();
    let mut budget_rules = Vec::new();
    let record = |record: String, expr: String| Rule::Recording {
        record,
        expr,
        labels: identity.clone(),
    };
    if let ObjectiveKind::Accuracy {
        metric,
        bound,
        slice,
        ..
    } = &objective.kind
    {
        let grouping = Grouping::of(objective);
        let expr = match bound {
            Bound::Min(min) => grouping.aggregate(
                "max",
                &format!(
                    "min_over_time({}[{slice}]) < bool {min}",
                    metric.to_promql()
                ),
            ),
            Bound::Max(max) => grouping.aggregate(
                "max",
                &format!(
                    "max_over_time({}[{slice}]) > bool {max}",
                    metric.to_promql()
                ),
            ),
        };
        sli.push(record(naming::slice_bad(*slice), expr));
    }
    let counters = CounterSelectors::of(&objective.kind);
    // The recorded 5m rates come first: the chained windows after them in this
    // group read them at the same evaluation, not the one before.
    if let Some(counters) = &counters {
        let (errors, total) = counters.rates(naming::CHAINED_RATE_WINDOW, &Grouping::of(objective));
        sli.push(record(
            naming::sli_errors_rate(naming::CHAINED_RATE_WINDOW),
            errors,
        ));
        sli.push(record(
            naming::sli_total_rate(naming::CHAINED_RATE_WINDOW),
            total,
        ));
    }
    for window in sli_windows(budget) {
        sli.push(record(
            naming::sli_error_ratio(window),
            window_error_ratio(service, objective, counters.as_ref(), window),
        ));
    }
    // The objective window: a ratio of sums of recorded 5m rates whatever its
    // length, or the mean of the slice indicator for accuracy.
    let period = budget.window;
    let period_expr = match &counters {
        Some(_) => chained_error_ratio(service, objective, period),
        None => error_ratio_expr(service, objective, None, period),
    };
    budget_rules.push(record(naming::sli_error_ratio(period), period_expr));
    budget_rules.push(record(
        naming::SLO_OBJECTIVE.to_owned(),
        format!("vector({})", budget.objective),
    ));
    budget_rules.push(record(
        naming::SLO_ERROR_BUDGET.to_owned(),
        format!("vector({})", budget.error_budget),
    ));
    let days = Decimal::from_integer(period.millis)
        .div_rounded(Decimal::from_integer(
            crate::prometheus::model::duration::DAY,
        ))
        .map_or(Decimal::ZERO, |(days, _)| days);
    budget_rules.push(record(
        naming::SLO_TIME_PERIOD_DAYS.to_owned(),
        format!("vector({days})"),
    ));
    budget_rules.push(record(
        naming::SLO_CURRENT_BURN_RATE.to_owned(),
        format!(
            "{}\n/ {}",
            recorded(
                &naming::sli_error_ratio(naming::CHAINED_RATE_WINDOW),
                service,
                objective
            ),
            budget.error_budget
        ),
    ));
    budget_rules.push(record(
        naming::SLO_PERIOD_BURN_RATE.to_owned(),
        format!(
            "{}\n/ {}",
            recorded(&naming::sli_error_ratio(period), service, objective),
            budget.error_budget
        ),
    ));
    budget_rules.push(record(
        naming::SLO_PERIOD_BUDGET_REMAINING.to_owned(),
        format!(
            "1 - {}",
            recorded(naming::SLO_PERIOD_BURN_RATE, service, objective)
        ),
    ));
    let mut info = service.labels.clone();
    info.extend(objective.labels.clone());
    info.extend(identity.clone());
    info.insert(
        naming::LABEL_KIND.into(),
        objective.kind.name().as_str().into(),
    );
    info.insert(naming::LABEL_TEAM.into(), service.team.clone());
    info.insert(
        naming::INFO_LABEL_OBJECTIVE.into(),
        budget.objective.to_string(),
    );
    info.insert(naming::INFO_LABEL_WINDOW.into(), budget.window.to_string());
    budget_rules.push(Rule::Recording {
        record: naming::SLO_INFO.to_owned(),
        expr: "vector(1)".to_owned(),
        labels: info,
    });
    if service.sloth_labels {
        let mut sloth_info = identity.clone();
        sloth_info.insert(
            naming::LABEL_SLOTH_OBJECTIVE.into(),
            budget
                .objective
                .scaled_by_power_of_ten(2)
                .map_or_else(|| budget.objective.to_string(), |value| value.to_string()),
        );
        budget_rules.push(Rule::Recording {
            record: naming::SLOTH_SLO_INFO.to_owned(),
            expr: "vector(1)".to_owned(),
            labels: sloth_info,
        });
    }
    (sli, budget_rules)
}

/// Fires while a latency histogram counts requests but has no `le` series at the
/// threshold: the SLI then has no data and the burn-rate alerts cannot fire.
fn bucket_missing_alert(
    service: &Service,
    objective: &Objective,
    histogram: &crate::compiler::ir::Selector,
    threshold: Duration,
    grouping: &Grouping,
) -> AlertRule {
    let bucket = histogram.to_promql_with(&[le_matcher(threshold)]);
    let total = histogram.to_promql_with(&[le_infinity()]);
    threshold_alert(
        service,
        objective,
        naming::ALERT_LATENCY_BUCKET_MISSING,
        format!(
            "{} > 0\nunless {}\n{}",
            grouping.aggregate(
                "sum",
                &format!("rate({total}[{}])", naming::CHAINED_RATE_WINDOW)
            ),
            grouping.on(),
            grouping.aggregate("count", &bucket),
        ),
        ABSENT_FOR,
        Tier::Ticket,
        format!(
            "Latency histogram of {}/{} has no bucket at {threshold}",
            service.name, objective.name
        ),
        format!(
            "{total} counts requests but no series matches {bucket}: the {threshold} threshold is not a bucket boundary of this histogram, so the objective reads no data and its burn-rate alerts cannot fire."
        ),
    )
}

/// The selectors whose absence blinds an objective (the error selector of an
/// availability objective may rightly be absent while nothing fails).
pub fn absent_selectors(kind: &ObjectiveKind) -> Vec<String> {
    match kind {
        ObjectiveKind::Latency { histogram, .. } => vec![histogram.to_promql()],
        ObjectiveKind::Availability { total, .. } => {
            let mut selectors: Vec<String> = total
                .selectors()
                .into_iter()
                .map(|selector| selector.to_promql())
                .collect();
            selectors.dedup();
            selectors
        }
        ObjectiveKind::Accuracy { metric, .. } => vec![metric.to_promql()],
        ObjectiveKind::Drift { score, .. } => vec![score.to_promql()],
        ObjectiveKind::Gpu {
            utilization,
            memory,
            ..
        } => {
            let mut selectors = vec![utilization.to_promql()];
            if let Some(memory) = memory {
                selectors.push(memory.used.to_promql());
                selectors.push(memory.free.to_promql());
            }
            selectors
        }
        ObjectiveKind::Freshness { last_success, .. } => vec![last_success.to_promql()],
        ObjectiveKind::Logs { .. } => Vec::new(),
    }
}

/// Labels a forecast alert as one (see [`naming::LABEL_FORECAST`]).
pub(crate) fn mark_forecast(alert: &mut AlertRule) {
    alert.labels.insert(
        naming::LABEL_FORECAST.to_owned(),
        naming::FORECAST_LABEL_VALUE.to_owned(),
    );
}

#[allow(clippy::too_many_arguments)]
fn threshold_alert(
    service: &Service,
    objective: &Objective,
    alert: &str,
    expr: String,
    for_: Duration,
    tier: Tier,
    summary: String,
    description: String,
) -> AlertRule {
    AlertRule {
        alert: alert.to_owned(),
        expr,
        for_,
        keep_firing_for: Duration::ZERO,
        labels: alert_labels(service, objective, service.severities.of(tier)),
        templates: Vec::new(),
        annotations: annotations(service, objective, summary, description),
    }
}

pub(crate) fn annotations(
    service: &Service,
    objective: &Objective,
    summary: String,
    generated: String,
) -> Vec<(String, String)> {
    let description = match &objective.description {
        Some(text) => format!("{text}\n{generated}"),
        None => generated,
    };
    let mut annotations = vec![
        (naming::ANNOTATION_SUMMARY.to_owned(), summary),
        (naming::ANNOTATION_DESCRIPTION.to_owned(), description),
    ];
    if let Some(runbook) = &service.runbook {
        annotations.push((naming::ANNOTATION_RUNBOOK.to_owned(), runbook.clone()));
    }
    if let Some(dashboard) = &service.dashboard {
        annotations.push((naming::ANNOTATION_DASHBOARD.to_owned(), dashboard.clone()));
    }
    annotations
}

/// `(14.4 * 0.001)`: the factor and the budget exactly as in the model.
pub fn burn_threshold(burn: &BurnWindow, budget: &Budget) -> String {
    format!("({} * {})", burn.factor, budget.error_budget)
}

/// The rules of one tier, one per window pair.
fn burn_alerts(
    service: &Service,
    objective: &Objective,
    budget: &Budget,
    tier: Tier,
    alerts: &mut Vec<AlertRule>,
) {
    let windows: Vec<&BurnWindow> = match tier {
        Tier::Page => budget.page.iter().collect(),
        Tier::Ticket => budget.ticket.iter().collect(),
    };
    let total = TotalEvents::of(&objective.kind);
    let grouping = Grouping::of(objective);
    // One rule per window pair, labelled with its windows: the alert says which
    // pair burns (a fast 1h/5m burn or a sustained 6h/30m one), each pair keeps
    // its own `for` and traffic guard, and Alertmanager's default grouping (which
    // leaves the window labels out) still sends the pairs of one tier together.
    for burn in windows {
        let threshold = burn_threshold(burn, budget);
        let guard = match (&total, budget.min_traffic_of(burn)) {
            (Some(total), Some(min_traffic)) => format!(
                "\nand {}\n{} >= {}",
                grouping.on(),
                total.over(min_traffic.window, &grouping),
                min_traffic.count
            ),
            _ => String::new(),
        };
        let expr = format!(
            "{} > {threshold}\nand\n{} > {threshold}{guard}",
            recorded(&naming::sli_error_ratio(burn.short), service, objective),
            recorded(&naming::sli_error_ratio(burn.long), service, objective),
        );
        let mut labels = alert_labels(service, objective, service.severities.of(tier));
        if service.sloth_labels {
            // Sloth's dashboards find its page and ticket alerts by this label,
            // whatever the routing's own severity words are.
            labels.insert(
                naming::LABEL_SLOTH_SEVERITY.to_owned(),
                tier.as_str().to_owned(),
            );
        }
        labels.insert(naming::LABEL_LONG_WINDOW.to_owned(), burn.long.to_string());
        labels.insert(
            naming::LABEL_SHORT_WINDOW.to_owned(),
            burn.short.to_string(),
        );
        let guard_text = match (&total, budget.min_traffic_of(burn)) {
            (Some(_), Some(min_traffic)) => format!(
                " with at least {} events in {}",
                min_traffic.count, min_traffic.window
            ),
            _ => String::new(),
        };
        let speed = match tier {
            Tier::Page => "fast",
            Tier::Ticket => "steadily",
        };
        let summary = format!(
            "Error budget of {}/{} is burning {speed} (over {} and {})",
            service.name, objective.name, burn.long, burn.short
        );
        let mut description = format!(
            "The {} objective of {} over {} has an error ratio above {}× the {} budget over {} and {}{guard_text}.",
            objective.kind.name().as_str(),
            percent(budget.objective),
            budget.window,
            burn.factor,
            percent(budget.error_budget),
            burn.long,
            burn.short
        );
        if grouping.is_grouped() {
            let _ = write!(
                description,
                " Each {} has its own budget; this alert's labels name the one burning.",
                objective.group_by.join(", ")
            );
        }
        let annotations = annotations(service, objective, summary, description);
        // The description says how bad it is now; the static text stays in
        // `annotations` for what reads annotations without a Prometheus to
        // expand them (routing and notification checks).
        let templates = annotations
            .iter()
            .filter(|(key, _)| key == naming::ANNOTATION_DESCRIPTION)
            .map(|(key, text)| {
                (
                    key.clone(),
                    format!(
                        "{}\n{}",
                        escape_go_template(text),
                        burn_value_template(service, objective, budget.window, burn.short)
                    ),
                )
            })
            .collect();
        alerts.push(AlertRule {
            alert: budget.burn_alert.clone(),
            expr,
            for_: burn.for_,
            keep_firing_for: Duration::ZERO,
            labels,
            templates,
            annotations,
        });
    }
}

/// The last line of a burn alert's description, as a Go template: the alert's
/// value (the error ratio over the short window, the left side of its `and`)
/// and the budget left over the objective's window, which the `query` template
/// function reads from the recorded remaining budget of the same objective and,
/// grouped, of the alert's own group. [`burn_value_text`] is its expansion.
pub fn burn_value_template(
    service: &Service,
    objective: &Objective,
    window: Duration,
    short: Duration,
) -> String {
    let remaining = recorded(naming::SLO_PERIOD_BUDGET_REMAINING, service, objective);
    let query = if objective.group_by.is_empty() {
        format!("query {}", go_quote::quote(&remaining))
    } else {
        // `service="x",slo="y"}` gains `,model=%q` per group label; `%q` is Go's
        // quoting, which PromQL's string literals read back exactly.
        let fixed = remaining
            .strip_suffix('}')
            .unwrap_or(&remaining)
            .replace('%', "%%");
        let mut format = fixed;
        let mut arguments = String::new();
        for label in &objective.group_by {
            let _ = write!(format, ",{label}=%q");
            let _ = write!(arguments, " $labels.{label}");
        }
        format.push('}');
        format!("printf {}{arguments} | query", go_quote::quote(&format))
    };
    format!(
        "Error ratio over {short}: {{{{ $value | humanizePercentage }}}}; budget left over {window}: \
         {{{{ with {query} }}}}{{{{ . | first | value | humanizePercentage }}}}{{{{ else }}}}unknown{{{{ end }}}}."
    )
}

/// What [`burn_value_template`] expands to for an alert of `value` with
/// `remaining` of the budget left (`None`: no recorded remaining budget).
pub fn burn_value_text(
    window: Duration,
    short: Duration,
    value: f64,
    remaining: Option<f64>,
) -> String {
    format!(
        "Error ratio over {short}: {}; budget left over {window}: {}.",
        humanize_percentage(value),
        remaining.map_or_else(|| "unknown".to_owned(), humanize_percentage)
    )
}

/// Escapes text for Prometheus' Go-template expansion of alert labels and
/// annotations: every `{{` becomes `{{ "{{" }}`, which expands back to `{{`.
pub fn escape_go_template(text: &str) -> Cow<'_, str> {
    if text.contains("{{") {
        Cow::Owned(text.replace("{{", "{{ \"{{\" }}"))
    } else {
        Cow::Borrowed(text)
    }
}

/// The `groups:` document of a rule file, also the `spec` of a `PrometheusRule`.
pub fn groups_text(groups: &[RuleGroup]) -> String {
    let mut out =
        String::with_capacity(groups.iter().map(|group| group.rules.len()).sum::<usize>() * 512);
    direct::key(&mut out, 0, "groups", false);
    if direct::seq_value(&mut out, groups.is_empty()) {
        for group in groups {
            direct::key(&mut out, 2, "name", true);
            direct::str_value(&mut out, 2, &group.name);
            direct::key(&mut out, 2, "rules", false);
            if direct::seq_value(&mut out, group.rules.is_empty()) {
                for rule in &group.rules {
                    write_rule(&mut out, 4, rule);
                }
            }
        }
    }
    out
}

/// One rule as a sequence item whose keys sit at `indent`.
fn write_rule(out: &mut String, indent: usize, rule: &Rule) {
    match rule {
        Rule::Recording {
            record,
            expr,
            labels,
        } => {
            direct::key(out, indent, "record", true);
            direct::str_value(out, indent, record);
            direct::key(out, indent, "expr", false);
            direct::text_value(out, indent, expr);
            direct::key(out, indent, "labels", false);
            direct::string_map_value(out, indent, labels.iter());
        }
        Rule::Alerting(alert) => {
            direct::key(out, indent, "alert", true);
            direct::str_value(out, indent, &alert.alert);
            direct::key(out, indent, "expr", false);
            direct::text_value(out, indent, &alert.expr);
            if !alert.for_.is_zero() {
                direct::key(out, indent, "for", false);
                direct::str_value(out, indent, &alert.for_.to_string());
            }
            if !alert.keep_firing_for.is_zero() {
                direct::key(out, indent, "keep_firing_for", false);
                direct::str_value(out, indent, &alert.keep_firing_for.to_string());
            }
            direct::key(out, indent, "labels", false);
            direct::string_map_value(
                out,
                indent,
                alert
                    .labels
                    .iter()
                    .map(|(key, value)| (key, escape_go_template(value))),
            );
            direct::key(out, indent, "annotations", false);
            if alert.templates.is_empty() {
                direct::string_map_value(
                    out,
                    indent,
                    alert
                        .annotations
                        .iter()
                        .map(|(key, value)| (key, escape_go_template(value))),
                );
            } else {
                direct::string_map_value(out, indent, alert.written_annotations().into_iter());
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::compiler::emit::yaml::{self, Node};

    /// The rule groups as a tree, written by the tree writer: the oracle for the
    /// direct writer's layout and quoting.
    fn groups_node(groups: &[RuleGroup]) -> Node {
        let rule_node = |rule: &Rule| match rule {
            Rule::Recording {
                record,
                expr,
                labels,
            } => Node::map([
                ("record", Node::str(record)),
                ("expr", Node::Text(expr.clone())),
                ("labels", Node::string_map(labels)),
            ]),
            Rule::Alerting(alert) => {
                let mut pairs = vec![
                    ("alert", Node::str(&alert.alert)),
                    ("expr", Node::Text(alert.expr.clone())),
                ];
                if !alert.for_.is_zero() {
                    pairs.push(("for", Node::str(alert.for_.to_string())));
                }
                if !alert.keep_firing_for.is_zero() {
                    pairs.push((
                        "keep_firing_for",
                        Node::str(alert.keep_firing_for.to_string()),
                    ));
                }
                let escaped = |pairs: Vec<(&String, &String)>| {
                    Node::owned_map(
                        pairs
                            .into_iter()
                            .map(|(key, value)| (key.clone(), Node::str(escape_go_template(value))))
                            .collect(),
                    )
                };
                pairs.push(("labels", escaped(alert.labels.iter().collect())));
                let annotations: Vec<(String, Node)> = alert
                    .written_annotations()
                    .into_iter()
                    .map(|(key, value)| (key.clone(), Node::str(value)))
                    .collect();
                pairs.push(("annotations", Node::owned_map(annotations)));
                Node::map(pairs)
            }
        };
        Node::map([(
            "groups",
            Node::Seq(
                groups
                    .iter()
                    .map(|group| {
                        Node::map([
                            ("name", Node::str(&group.name)),
                            (
                                "rules",
                                Node::Seq(group.rules.iter().map(rule_node).collect()),
                            ),
                        ])
                    })
                    .collect(),
            ),
        )])
    }

    fn alert(expr: &str, for_: Duration, labels: &[(&str, &str)], notes: &[(&str, &str)]) -> Rule {
        Rule::Alerting(AlertRule {
            alert: "A: {{x}}".into(),
            expr: expr.into(),
            for_,
            keep_firing_for: for_,
            labels: labels
                .iter()
                .map(|(key, value)| ((*key).to_owned(), (*value).to_owned()))
                .collect(),
            templates: Vec::new(),
            annotations: notes
                .iter()
                .map(|(key, value)| ((*key).to_owned(), (*value).to_owned()))
                .collect(),
        })
    }

    /// A burn alert's value line, expanded by the runtime's Go templates with a
    /// `query` that answers only the remaining budget of the alert's own objective
    /// and group, is the text the test generator expects.
    #[test]
    fn the_burn_value_template_expands_to_the_expected_text() {
        use crate::prometheus::gotemplate::{expand_alert, AlertData, Env, Sample};
        let source = r#"
service "svc" {
  team = "t"
  availability "plain" {
    errors = x_total{code="5"}
    total = x_total
    objective = 99.9%
  }
  availability "per-model" {
    errors = y_total{code="5"}
    total = y_total
    objective = 99%
    window = 1w
    group_by = [model, region]
  }
}
"#;
        let (program, _) = crate::compiler::emit::tests::checked(source);
        let service = &program.services[0];
        for objective in &service.objectives {
            let budget = objective.kind.budget().unwrap();
            let short = Duration::minutes(30);
            let template = burn_value_template(service, objective, budget.window, short);
            let mut labels = BTreeMap::new();
            for (label, value) in [("model", "ranker \"v2\""), ("region", "eu%s")] {
                labels.insert(label.to_owned(), value.to_owned());
            }
            for (value, remaining) in [(0.018, Some(0.4903)), (1.0, Some(-1.184)), (0.25, None)] {
                let query = |expr: &str| -> Result<Vec<Sample>, String> {
                    let parsed = crate::prometheus::promql::parse_promql(expr)
                        .map_err(|error| format!("{expr}: {error:?}"))?;
                    let mut wanted = vec![
                        ("service".to_owned(), "svc".to_owned()),
                        ("slo".to_owned(), objective.name.clone()),
                    ];
                    for label in &objective.group_by {
                        wanted.push((label.clone(), labels[label].clone()));
                    }
                    let crate::prometheus::promql::Expr::VectorSelector(selector) = parsed else {
                        return Err(format!("not a selector: {expr}"));
                    };
                    let mut matched: Vec<(String, String)> = selector
                        .matchers
                        .matchers
                        .iter()
                        .map(|matcher| (matcher.name.clone(), matcher.value.clone()))
                        .collect();
                    matched.sort();
                    wanted.sort();
                    assert_eq!(matched, wanted, "{expr}");
                    Ok(remaining
                        .map(|value| Sample {
                            labels: BTreeMap::new(),
                            value,
                        })
                        .into_iter()
                        .collect())
                };
                let data = AlertData {
                    labels: labels.clone(),
                    value,
                    ..AlertData::default()
                };
                let env = Env {
                    query: Some(&query),
                    external_url: None,
                };
                assert_eq!(
                    expand_alert("ErrorBudgetBurn", &template, &data, &env),
                    burn_value_text(budget.window, short, value, remaining),
                    "{template}"
                );
            }
        }
    }

    /// `recorded` writes the identity matchers by hand; they must stay the selector
    /// `identity_labels` gives.
    #[test]
    fn recorded_series_match_the_identity_labels() {
        let source = r#"service "fraud-detector" { team = "t" drift "v2.score_drift" { score = s max = 1 for = 5m } }"#;
        let (program, _) = crate::compiler::emit::tests::checked(source);
        let service = &program.services[0];
        let objective = &service.objectives[0];
        let selector = crate::compiler::ir::Selector {
            metric: "slo:x".to_owned(),
            matchers: identity_labels(service, objective)
                .into_iter()
                .map(|(label, value)| LabelMatcher {
                    label,
                    op: MatchOp::Equal,
                    value,
                })
                .collect(),
            span: objective.name_span,
        };
        assert_eq!(recorded("slo:x", service, objective), selector.to_promql());
    }

    #[test]
    fn direct_writer_equals_the_tree_writer() {
        let awkward = [
            "",
            "on",
            "0.001",
            "a: b",
            "{{ $value }}",
            "x\ny",
            "line\n  indented\n",
            " lead",
            "tab\tin",
            "quote\"back\\slash",
            "é ünïcode",
            "\u{2028}",
            "- dash",
            "#",
            "1h",
        ];
        let mut cases = vec![
            Vec::new(),
            vec![RuleGroup {
                name: "empty".into(),
                rules: Vec::new(),
            }],
        ];
        for text in awkward {
            cases.push(vec![RuleGroup {
                name: text.into(),
                rules: vec![
                    Rule::Recording {
                        record: text.into(),
                        expr: text.into(),
                        labels: BTreeMap::from([(text.to_owned(), text.to_owned())]),
                    },
                    Rule::Recording {
                        record: "r".into(),
                        expr: format!("sum(rate(x[5m]))\n/\n{text}"),
                        labels: BTreeMap::new(),
                    },
                    alert(text, Duration::minutes(5), &[(text, text), ("k", "v")], &[]),
                    alert(
                        "up == 0",
                        Duration::ZERO,
                        &[],
                        &[("summary", text), (text, "{{")],
                    ),
                ],
            }]);
        }
        for groups in cases {
            assert_eq!(
                groups_text(&groups),
                yaml::to_string(&[], &groups_node(&groups))
            );
        }
    }
}
