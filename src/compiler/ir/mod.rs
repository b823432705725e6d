//! The typed model every backend reads. No syntax and no output format leaks in.
//!
//! Built only by `crate::compiler::check::check`, and only when the sources have no error,
//! so every invariant below holds for any `Program` a backend sees:
//! - services are sorted by name and names are unique; objectives keep their
//!   declaration order inside a service and their names are unique there;
//! - every [`Selector`] parsed as a plain PromQL vector selector, has the service
//!   `selector {}` labels merged in (except inside an expression SLI, a [`Query`],
//!   which is used as written), and has valid label names;
//! - numbers are exact [`Decimal`]s and durations exact [`Duration`]s; objectives
//!   are fractions strictly between 0 and 1; burn windows satisfy
//!   `short < long < objective window`;
//! - every receiver named by a route or `default_receiver` exists, and the
//!   inhibit rules have no cycle;
//! - strings are data as the user wrote them: escaping for PromQL, YAML, JSON or
//!   templates is each emitter's job ([`Selector::to_promql`] does it for PromQL).
//!
//! Every item keeps the span of its declaration so that emit-time and eval-time
//! problems can still point at the source.

pub mod burn_rate;
pub mod decimal;
pub mod duration;
pub mod naming;

use std::collections::BTreeMap;
use std::fmt::Write as _;

use serde::Serialize;

use crate::base::diagnostic::Span;

pub use decimal::Decimal;
pub use duration::Duration;

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Program {
    /// Sorted by name.
    pub services: Vec<Service>,
    pub routing: Option<Routing>,
    /// The `monitoring` block, or its defaults when there is none.
    pub monitoring: Monitoring,
    /// The `kubernetes` block: metadata of the generated manifests.
    pub kubernetes: KubernetesMetadata,
    /// The `grafana` block, or its defaults when there is none.
    pub grafana: GrafanaSettings,
}

/// The Grafana folder of the dashboards when the `grafana` block names none.
pub const DEFAULT_GRAFANA_FOLDER: &str = "SLOs";
/// The label kube-prometheus-stack's Grafana sidecar watches for by default (its
/// chart's `grafana.sidecar.dashboards.label` and `labelValue`).
pub const DEFAULT_SIDECAR_LABEL: &str = "grafana_dashboard";
pub const DEFAULT_SIDECAR_VALUE: &str = "1";

/// `grafana { url = "https://grafana.example.com"  folder = "SLOs" }`: where the
/// generated dashboards are served, and how Grafana's sidecar and file provisioning
/// load them.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct GrafanaSettings {
    /// Grafana's base URL without a final `/`. With it, a service without a
    /// `dashboard` field links its alerts to its generated dashboard there.
    pub url: Option<String>,
    /// The folder of the file provisioning, and the ConfigMaps' `grafana_folder`
    /// annotation.
    pub folder: String,
    /// The label key and value of the ConfigMaps the sidecar loads.
    pub sidecar_label: String,
    pub sidecar_value: String,
    /// Budgeted objectives' series and alerts also carry Sloth's labels.
    pub sloth_labels: bool,
}

impl Default for GrafanaSettings {
    fn default() -> GrafanaSettings {
        GrafanaSettings {
            url: None,
            folder: DEFAULT_GRAFANA_FOLDER.to_owned(),
            sidecar_label: DEFAULT_SIDECAR_LABEL.to_owned(),
            sidecar_value: DEFAULT_SIDECAR_VALUE.to_owned(),
            sloth_labels: false,
        }
    }
}

/// `kubernetes { namespace = "monitoring"  labels { release = "kube-prometheus-stack" } }`:
/// what every generated manifest (`PrometheusRule`, `AlertmanagerConfig`) carries
/// in its `metadata`. Without the block no namespace is written (`kubectl apply
/// -n` decides) and only mlslo's own labels are.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct KubernetesMetadata {
    /// A DNS-1123 label.
    pub namespace: Option<String>,
    /// Valid Kubernetes label keys and values, none of mlslo's own keys.
    pub labels: BTreeMap<String, String>,
    /// Valid annotation keys; any value.
    pub annotations: BTreeMap<String, String>,
}

impl Program {
    /// The routing block's severity vocabulary, or `page`/`ticket`.
    pub fn severities(&self) -> Severities {
        self.routing
            .as_ref()
            .map_or_else(Severities::default, |routing| routing.severities.clone())
    }
}

/// The `severity` label values of the two tiers: `page`/`ticket` unless the
/// routing block's `severity { page = "critical", ticket = "warning" }` says
/// otherwise, so existing Alertmanager trees (kube-prometheus, Sloth) keep working.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Severities {
    pub page: String,
    pub ticket: String,
}

impl Default for Severities {
    fn default() -> Severities {
        Severities {
            page: Tier::Page.as_str().to_owned(),
            ticket: Tier::Ticket.as_str().to_owned(),
        }
    }
}

impl Severities {
    /// The `severity` label value of a tier's alerts.
    pub fn of(&self, tier: Tier) -> &str {
        match tier {
            Tier::Page => &self.page,
            Tier::Ticket => &self.ticket,
        }
    }
}

impl Program {
    /// Every label some objective groups by, sorted: generated inhibitions hold
    /// them equal and the default route groups by them, so that one group's
    /// alert never mutes or joins another group's.
    pub fn group_labels(&self) -> Vec<String> {
        let labels: std::collections::BTreeSet<&String> = self
            .services
            .iter()
            .flat_map(|service| &service.objectives)
            .flat_map(|objective| &objective.group_by)
            .collect();
        labels.into_iter().cloned().collect()
    }
}

/// What mlslo generates to watch the monitoring path itself: a dead man's switch
/// and alerts on rule evaluation, notification delivery and scrape targets. Each
/// alert family is on unless switched off.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Monitoring {
    pub heartbeat: Heartbeat,
    /// How often the heartbeat receiver hears from Alertmanager.
    pub heartbeat_interval: Duration,
    /// The `team` label of the alerts about Prometheus and Alertmanager themselves
    /// (alerts about a service's rules and targets carry the service's team).
    pub team: Option<String>,
    /// Rule evaluation failures and missed iterations of the generated groups.
    pub rule_failures: bool,
    /// Notification failures per Alertmanager integration.
    pub notification_failures: bool,
    /// The scrape targets behind each objective's series being down.
    pub targets_down: bool,
    /// The `monitoring` block; `None` when the defaults apply.
    pub span: Option<Span>,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub enum Heartbeat {
    /// Not written: no dead man's switch, and a warning says so.
    Unset,
    /// `heartbeat = none`.
    Off,
    /// An existing receiver of the routing block, and the value's span.
    Receiver { name: String, span: Span },
}

impl Default for Monitoring {
    fn default() -> Monitoring {
        Monitoring {
            heartbeat: Heartbeat::Unset,
            heartbeat_interval: Monitoring::DEFAULT_HEARTBEAT_INTERVAL,
            team: None,
            rule_failures: true,
            notification_failures: true,
            targets_down: true,
            span: None,
        }
    }
}

impl Monitoring {
    /// Heartbeat services (Dead Man's Snitch, healthchecks.io, PagerDuty and
    /// Opsgenie heartbeats) take periods from a minute up.
    pub const DEFAULT_HEARTBEAT_INTERVAL: Duration = Duration::minutes(1);

    /// No heartbeat and no alert family.
    pub fn all_off() -> Monitoring {
        Monitoring {
            heartbeat: Heartbeat::Off,
            rule_failures: false,
            notification_failures: false,
            targets_down: false,
            ..Monitoring::default()
        }
    }

    pub fn heartbeat_receiver(&self) -> Option<&str> {
        match &self.heartbeat {
            Heartbeat::Receiver { name, .. } => Some(name),
            Heartbeat::Unset | Heartbeat::Off => None,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Service {
    pub name: String,
    pub team: String,
    pub runbook: Option<String>,
    pub dashboard: Option<String>,
    pub description: Option<String>,
    /// Added to every alert of the service (`labels { env = "prod" }`).
    pub labels: BTreeMap<String, String>,
    /// Already merged into every selector below; kept for metadata rules.
    pub selector: BTreeMap<String, String>,
    /// In declaration order.
    pub objectives: Vec<Objective>,
    /// The program's [`Program::severities`], here so that what emits one
    /// service's alerts needs nothing else; the same in every service.
    pub severities: Severities,
    /// The `grafana` block's `sloth_labels`, here for the same reason: its
    /// budgeted objectives' series and alerts also carry Sloth's labels.
    pub sloth_labels: bool,
    /// The whole `service "x" { ... }` block.
    pub span: Span,
    pub name_span: Span,
}

impl Service {
    /// Whether the service gets a Grafana dashboard: it has an objective Prometheus
    /// evaluates (log objectives are Elasticsearch watches, with no series to draw).
    pub fn has_dashboard(&self) -> bool {
        self.objectives
            .iter()
            .any(|objective| !matches!(objective.kind, ObjectiveKind::Logs { .. }))
    }
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Objective {
    pub name: String,
    pub kind: ObjectiveKind,
    /// Extra alert labels of this objective (`labels {}` inside the objective).
    pub labels: BTreeMap<String, String>,
    pub description: Option<String>,
    /// `group_by = [model, model_version]`: one SLI, budget and set of alerts per
    /// value of these labels, in written order; empty for one aggregate series.
    /// Valid label names, none of them a label mlslo writes itself nor one of
    /// the service's or objective's `labels {}`.
    pub group_by: Vec<String>,
    /// `expected_groups = 40`: how many groups the user expects, with the span of
    /// the value (only with `group_by`); what the series estimate multiplies by.
    pub expected_groups: Option<(u64, Span)>,
    /// The whole objective block.
    pub span: Span,
    pub name_span: Span,
}

impl Objective {
    pub fn is_grouped(&self) -> bool {
        !self.group_by.is_empty()
    }
}

/// Which of the seven kinds, as the keyword written in the source; also the
/// value of the `kind` alert label.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum KindName {
    Latency,
    Availability,
    Accuracy,
    Drift,
    Gpu,
    Freshness,
    Logs,
}

impl KindName {
    pub const ALL: [KindName; 7] = [
        KindName::Latency,
        KindName::Availability,
        KindName::Accuracy,
        KindName::Drift,
        KindName::Gpu,
        KindName::Freshness,
        KindName::Logs,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            KindName::Latency => "latency",
            KindName::Availability => "availability",
            KindName::Accuracy => "accuracy",
            KindName::Drift => "drift",
            KindName::Gpu => "gpu",
            KindName::Freshness => "freshness",
            KindName::Logs => "logs",
        }
    }

    pub fn from_keyword(keyword: &str) -> Option<KindName> {
        KindName::ALL
            .into_iter()
            .find(|kind| kind.as_str() == keyword)
    }

    /// Latency, availability and accuracy have an error budget and burn alerts.
    pub fn has_budget(self) -> bool {
        matches!(
            self,
            KindName::Latency | KindName::Availability | KindName::Accuracy
        )
    }
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub enum ObjectiveKind {
    /// Good events are requests faster than `threshold`:
    /// `histogram{le="<threshold seconds>"}` over `histogram{le="+Inf"}`.
    Latency {
        /// The `_bucket` series (the suffix is appended when the user left it out).
        histogram: Selector,
        threshold: Duration,
        /// Declared bucket boundaries, sorted and deduplicated; empty when not declared.
        buckets: Vec<Duration>,
        budget: Budget,
    },
    /// Error ratio from counters: `errors / total`, or `1 - good / total`.
    Availability {
        events: AvailabilityEvents,
        total: Counter,
        budget: Budget,
    },
    /// A time-slice budget over a quality gauge: a `slice` is good when the gauge
    /// is on the right side of `bound` throughout it.
    Accuracy {
        metric: Selector,
        bound: Bound,
        slice: Duration,
        budget: Budget,
    },
    /// Alert when `score > max` for `for_`, and keep it firing for
    /// `keep_firing_for` after the score dips back (zero: resolve at once); with
    /// `forecast`, a `predict_linear` early warning.
    Drift {
        score: Selector,
        max: Decimal,
        for_: Duration,
        keep_firing_for: Duration,
        forecast: Option<Forecast>,
    },
    /// Utilization in percent (0 to 100, as DCGM reports it) above
    /// `max_utilization` (also in percent) for `for_`, kept firing for
    /// `keep_firing_for` after it drops back; a memory exhaustion forecast of the
    /// pool (the fullest device's share of memory).
    Gpu {
        utilization: Selector,
        max_utilization: Decimal,
        memory: Option<GpuMemory>,
        for_: Duration,
        keep_firing_for: Duration,
        exhaustion: Option<Forecast>,
    },
    /// `time() - last_success > max_age` for `for_`.
    Freshness {
        last_success: Selector,
        max_age: Duration,
        for_: Duration,
        /// Drift objectives of the same service fed by this job (for inhibition).
        feeds: Vec<ObjectiveReference>,
    },
    /// An Elasticsearch Watcher over a Lucene query.
    Logs {
        index: String,
        query: String,
        condition: LogsCondition,
        timestamp_field: String,
        schedule: Duration,
        throttle: Duration,
        severity: Tier,
    },
}

impl ObjectiveKind {
    pub fn name(&self) -> KindName {
        match self {
            ObjectiveKind::Latency { .. } => KindName::Latency,
            ObjectiveKind::Availability { .. } => KindName::Availability,
            ObjectiveKind::Accuracy { .. } => KindName::Accuracy,
            ObjectiveKind::Drift { .. } => KindName::Drift,
            ObjectiveKind::Gpu { .. } => KindName::Gpu,
            ObjectiveKind::Freshness { .. } => KindName::Freshness,
            ObjectiveKind::Logs { .. } => KindName::Logs,
        }
    }

    /// Every metric selector the objective reads, in field order.
    pub fn selectors(&self) -> Vec<&Selector> {
        match self {
            ObjectiveKind::Latency { histogram, .. } => vec![histogram],
            ObjectiveKind::Availability { events, total, .. } => {
                let mut selectors = events.counter().selectors();
                selectors.extend(total.selectors());
                selectors
            }
            ObjectiveKind::Accuracy { metric, .. } => vec![metric],
            ObjectiveKind::Drift { score, .. } => vec![score],
            ObjectiveKind::Gpu {
                utilization,
                memory,
                ..
            } => {
                let mut selectors = vec![utilization];
                if let Some(memory) = memory {
                    selectors.extend([&memory.used, &memory.free]);
                }
                selectors
            }
            ObjectiveKind::Freshness { last_success, .. } => vec![last_success],
            ObjectiveKind::Logs { .. } => Vec::new(),
        }
    }

    pub fn budget(&self) -> Option<&Budget> {
        match self {
            ObjectiveKind::Latency { budget, .. }
            | ObjectiveKind::Availability { budget, .. }
            | ObjectiveKind::Accuracy { budget, .. } => Some(budget),
            _ => None,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub enum AvailabilityEvents {
    Errors(Counter),
    Good(Counter),
}

impl AvailabilityEvents {
    pub fn counter(&self) -> &Counter {
        match self {
            AvailabilityEvents::Errors(counter) | AvailabilityEvents::Good(counter) => counter,
        }
    }
}

/// Where a counter objective reads a count of events: a counter selector, whose
/// per-second rate mlslo takes, or an expression SLI, already a per-second rate.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub enum Counter {
    /// `errors = http_requests_total{code=~"5.."}`.
    Selector(Selector),
    /// `errors_query = """sum(rate(http_requests_total{code=~"5.."}[$window]))"""`.
    Query(Query),
}

impl Counter {
    /// The vector selectors it reads, in written order.
    pub fn selectors(&self) -> Vec<&Selector> {
        match self {
            Counter::Selector(selector) => vec![selector],
            Counter::Query(query) => query.selectors.iter().collect(),
        }
    }

    /// The selector whose rate, summed per group, this counter is: the selector
    /// itself, or the one selector of a query of the form
    /// `sum(rate(selector[$window]))` (any sums around the one `rate`). `None`
    /// for any other query, whose value only PromQL can tell.
    pub fn rate_of(&self) -> Option<&Selector> {
        match self {
            Counter::Selector(selector) => Some(selector),
            Counter::Query(query) => query.rate_of.as_ref(),
        }
    }
}

/// What an expression SLI writes where the window goes: the same expression is
/// recorded at every window the alerts use (5m, 30m, 1h, ..., 30d).
pub const WINDOW_PLACEHOLDER: &str = "$window";

/// An expression SLI: a PromQL expression with [`WINDOW_PLACEHOLDER`] in the
/// range of each range selector, which parses (at 5m) as an instant vector
/// keeping every `group_by` label. The service's `selector {}` is not merged
/// in: the expression is used as written.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Query {
    /// As written, with the placeholder; every placeholder is a range.
    pub text: String,
    /// Every vector selector of the expression, in written order, as written.
    pub selectors: Vec<Selector>,
    /// See [`Counter::rate_of`].
    pub rate_of: Option<Selector>,
    /// The labels of the outermost aggregation when it is a `sum by (...)`
    /// (empty for a plain `sum`), sorted: an expression already summed by the
    /// group labels needs no other sum around it.
    pub summed_by: Option<Vec<String>>,
    /// The string literal in the source.
    pub span: Span,
}

impl Query {
    /// The expression at `window`.
    pub fn at(&self, window: Duration) -> String {
        self.text.replace(WINDOW_PLACEHOLDER, &window.to_string())
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub enum Bound {
    /// Good while `metric >= value`.
    Min(Decimal),
    /// Good while `metric <= value`.
    Max(Decimal),
}

#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct Forecast {
    /// How much history `predict_linear` fits over.
    pub lookback: Duration,
    /// How far ahead it predicts.
    pub horizon: Duration,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct GpuMemory {
    pub used: Selector,
    pub free: Selector,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ObjectiveReference {
    pub name: String,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub enum LogsCondition {
    /// More than `count` hits of `query` in `window` (`max_count = 100 per 5m`).
    MaxCount { count: u64, window: Duration },
    /// Hits of `query` over hits of `total_query` in `window` above `ratio`
    /// (a fraction: `max_ratio = 2%` is `0.02`).
    MaxRatio {
        total_query: String,
        ratio: Decimal,
        window: Duration,
    },
}

/// The two alert tiers, and the `severity` label value of their alerts.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Tier {
    Page,
    Ticket,
}

impl Tier {
    pub fn as_str(self) -> &'static str {
        match self {
            Tier::Page => "page",
            Tier::Ticket => "ticket",
        }
    }

    /// The tier a language keyword (`page`, `ticket`) names.
    pub fn from_name(name: &str) -> Option<Tier> {
        [Tier::Page, Tier::Ticket]
            .into_iter()
            .find(|tier| tier.as_str() == name)
    }
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Budget {
    /// The objective as a fraction: `99.9%` is `0.999`.
    pub objective: Decimal,
    /// `1 - objective`, exact: `0.001`.
    pub error_budget: Decimal,
    pub window: Duration,
    /// How burn-rate alerts (pages and tickets) stay quiet on thin traffic.
    pub traffic_guard: TrafficGuard,
    /// False with `alerts = false`: recording rules only, no burn alerts.
    /// `alerts = [page]` keeps it true and leaves `ticket` empty.
    pub alerts_enabled: bool,
    /// The `alertname` of the burn-rate alerts of both tiers: `burn_alert`, or
    /// `ErrorBudgetBurn`.
    pub burn_alert: String,
    /// Page-tier burn windows (the workbook defaults unless overridden).
    pub page: Vec<BurnWindow>,
    /// Ticket-tier burn windows.
    pub ticket: Vec<BurnWindow>,
    /// The alerts on the budget itself (`budget { ... }`); none by default.
    pub budget_alerts: BudgetAlerts,
}

/// The alerts on what is left of an objective's error budget over its window,
/// beside the burn-rate alerts on how fast it goes: both are tickets, and both
/// are off unless the objective's `budget { ... }` block asks for them.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct BudgetAlerts {
    /// `remaining_below = 25%`: fires while less than this share of the
    /// budget is left (a fraction: `0.25`).
    pub remaining_below: Option<Decimal>,
    /// `exhaustion { lookback = 1d, horizon = 3d }`: fires while a linear fit of
    /// the remaining budget over `lookback` reaches zero within `horizon`.
    pub exhaustion: Option<Forecast>,
}

impl Budget {
    /// Page then ticket windows, each with its tier.
    pub fn burn_windows(&self) -> impl Iterator<Item = (Tier, &BurnWindow)> {
        self.page
            .iter()
            .map(|window| (Tier::Page, window))
            .chain(self.ticket.iter().map(|window| (Tier::Ticket, window)))
    }
}

/// The minimum traffic below which a burn-rate alert stays quiet.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub enum TrafficGuard {
    /// No `min_traffic`: each burn window requires, in its short window, enough
    /// events that one failure alone cannot exceed its threshold
    /// ([`BurnWindow::derived_min_traffic`]).
    Derived,
    /// `min_traffic = 10 per 5m`: one guard for every burn window.
    Fixed(MinTraffic),
    /// `min_traffic = none`.
    Off,
}

impl Budget {
    /// The guard of one burn window, `None` with `min_traffic = none`.
    pub fn min_traffic_of(&self, burn: &BurnWindow) -> Option<MinTraffic> {
        match burn.traffic_guard.unwrap_or(self.traffic_guard) {
            TrafficGuard::Derived => burn.derived_min_traffic(self.error_budget),
            TrafficGuard::Fixed(min_traffic) => Some(min_traffic),
            TrafficGuard::Off => None,
        }
    }
}

impl BurnWindow {
    /// The fewest events in the short window at which one failure is not above
    /// the threshold: `ceil(1 / (factor × error_budget))`, 70 per 5m for the
    /// 14.4× page of a 99.9% objective. Below it a single failure pages; at it,
    /// it takes at least two. `None` only on an arithmetic overflow.
    pub fn derived_min_traffic(&self, error_budget: Decimal) -> Option<MinTraffic> {
        let threshold = self.factor.checked_mul(error_budget)?;
        if threshold <= Decimal::ZERO {
            return None;
        }
        let (events, exact) = Decimal::ONE.div_rounded(threshold)?;
        let count = match events.to_i64() {
            Some(whole) if exact => whole,
            _ => events.to_f64().floor() as i64 + 1,
        };
        Some(MinTraffic {
            count: Decimal::from_integer(count.max(1)),
            window: self.short,
        })
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct MinTraffic {
    pub count: Decimal,
    pub window: Duration,
}

#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct BurnWindow {
    pub long: Duration,
    pub short: Duration,
    /// Alert when both windows burn faster than `factor × error_budget`.
    pub factor: Decimal,
    /// False when `factor` was computed and rounded (a non-terminating quotient).
    pub factor_exact: bool,
    /// The budget fraction the factor was computed from, when it was computed
    /// (`0.02` for the 1h page window); `None` when the user wrote `factor`.
    pub budget_consumed: Option<Decimal>,
    pub for_: Duration,
    /// The tier's own `min_traffic`, which replaces the objective's.
    pub traffic_guard: Option<TrafficGuard>,
    /// The `burn { ... }` block, or `None` for a workbook default.
    pub span: Option<Span>,
}

/// A plain PromQL vector selector with the service selector merged in.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Selector {
    pub metric: String,
    /// The user's matchers in written order, then the service's `selector {}`
    /// labels (by label name) that the user did not match on already.
    pub matchers: Vec<LabelMatcher>,
    /// The selector as written in the source.
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct LabelMatcher {
    pub label: String,
    pub op: MatchOp,
    /// Unescaped: the value Prometheus compares with (a regex source for `=~`).
    pub value: String,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub enum MatchOp {
    Equal,
    NotEqual,
    Regex,
    NotRegex,
}

impl MatchOp {
    pub fn as_str(self) -> &'static str {
        match self {
            MatchOp::Equal => "=",
            MatchOp::NotEqual => "!=",
            MatchOp::Regex => "=~",
            MatchOp::NotRegex => "!~",
        }
    }
}

impl Selector {
    /// `metric{label="value",...}` with every value escaped as a PromQL
    /// double-quoted string; just `metric` without matchers.
    pub fn to_promql(&self) -> String {
        self.to_promql_with(&[])
    }

    /// The selector with extra matchers appended (an emitter adds `le="0.25"`).
    pub fn to_promql_with(&self, extra: &[LabelMatcher]) -> String {
        let mut text = self.metric.clone();
        if self.matchers.is_empty() && extra.is_empty() {
            return text;
        }
        text.push('{');
        for (index, matcher) in self.matchers.iter().chain(extra).enumerate() {
            if index > 0 {
                text.push(',');
            }
            text.push_str(&matcher.label);
            text.push_str(matcher.op.as_str());
            push_promql_string(&mut text, &matcher.value);
        }
        text.push('}');
        text
    }

    /// The equality matchers, as a map: what a recording rule can keep as labels.
    pub fn equality_labels(&self) -> BTreeMap<String, String> {
        self.matchers
            .iter()
            .filter(|matcher| matcher.op == MatchOp::Equal)
            .map(|matcher| (matcher.label.clone(), matcher.value.clone()))
            .collect()
    }
}

/// A PromQL double-quoted string literal (Go escaping rules, which PromQL uses):
/// `\` and `"` are escaped, control characters written as escapes, so the text
/// can never end the string or the selector early.
pub fn quote_promql_string(value: &str) -> String {
    let mut quoted = String::with_capacity(value.len() + 2);
    push_promql_string(&mut quoted, value);
    quoted
}

/// [`quote_promql_string`] written onto the end of `out`.
pub fn push_promql_string(out: &mut String, value: &str) {
    out.push('"');
    // Most values (names, paths, status patterns) need no escape at all.
    if !value
        .bytes()
        .any(|byte| byte == b'\\' || byte == b'"' || !(b' '..0x7f).contains(&byte))
    {
        out.push_str(value);
        out.push('"');
        return;
    }
    for character in value.chars() {
        match character {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            control if control.is_control() => {
                let _ = write!(out, "\\u{:04x}", u32::from(control));
            }
            other => out.push(other),
        }
    }
    out.push('"');
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Routing {
    /// Label names; `["..."]` means "every label" as in Alertmanager.
    pub group_by: Vec<String>,
    /// Where `group_by` is written, when it is.
    pub group_by_span: Option<Span>,
    pub group_wait: Option<Duration>,
    pub group_interval: Option<Duration>,
    pub repeat_interval: Option<Duration>,
    /// Always names an existing receiver.
    pub default_receiver: String,
    /// Sorted by name.
    pub receivers: Vec<Receiver>,
    /// In written order: Alertmanager tries routes in order.
    pub routes: Vec<Route>,
    /// In written order.
    pub inhibits: Vec<InhibitRule>,
    /// `time_interval` blocks in written order, names unique; each is named by
    /// some route (an unused one is warned and still emitted).
    pub time_intervals: Vec<TimeInterval>,
    /// `alertmanager_version`: the release the generated configuration must
    /// load in, one of [`ALERTMANAGER_VERSIONS`]; `None` means 0.25.
    pub alertmanager_version: Option<String>,
    /// `alertmanager_url`: where watches post their alerts, an http(s) URL
    /// without credentials (`/api/v2/alerts` is appended to its path).
    pub alertmanager_url: Option<String>,
    /// `severity { page = "...", ticket = "..." }`.
    pub severities: Severities,
    pub span: Span,
}

impl Routing {
    /// The `routing` keyword that starts the block, where a diagnostic about the
    /// block as a whole points.
    pub fn keyword_span(&self) -> Span {
        Span {
            start: self.span.start,
            end: self.span.start + "routing".len() as u32,
        }
    }
}

/// The Alertmanager releases `alertmanager_version` accepts: 0.25 (Debian
/// bookworm, the default) up to the newest one whose configuration keys were read.
pub const ALERTMANAGER_VERSIONS: &[&str] = &[
    "0.25", "0.26", "0.27", "0.28", "0.29", "0.30", "0.31", "0.32", "0.33", "0.34",
];

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Receiver {
    pub name: String,
    /// In written order; at least one.
    pub integrations: Vec<Integration>,
    pub send_resolved: Option<bool>,
    /// Every field of the integrations that Alertmanager expands as a Go
    /// template for each notification, in written order.
    pub templates: Vec<TemplateField>,
    pub span: Span,
}

/// One templated field of a receiver's integration, such as a Slack `title`.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct TemplateField {
    /// Position of the integration in [`Receiver::integrations`].
    pub integration: usize,
    /// The field's name, as in the source and in `alertmanager.yml`.
    pub field: &'static str,
    pub text: String,
    /// The string literal.
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub enum Integration {
    PagerDuty {
        routing_key_file: String,
        severity: Option<String>,
    },
    Slack {
        api_url_file: String,
        channel: String,
        title: Option<String>,
        text: Option<String>,
    },
    Webhook {
        url: WebhookUrl,
        max_alerts: Option<u64>,
    },
    Email {
        to: String,
        from: String,
        smarthost: String,
        auth_username: Option<String>,
        auth_password_file: Option<String>,
        require_tls: Option<bool>,
    },
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub enum WebhookUrl {
    /// `url_file`: the URL is read from this file by Alertmanager.
    File(String),
    /// `url`: an http(s) URL without credentials in it.
    Inline(String),
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Route {
    pub matchers: Vec<RouteMatcher>,
    /// At least one; each exists.
    pub receivers: Vec<String>,
    pub continue_matching: bool,
    /// `mute_during`: names of [`Routing::time_intervals`] inside which the
    /// route's notifications are muted (Alertmanager's `mute_time_intervals`).
    pub mute_time_intervals: Vec<String>,
    /// `active_during`: outside all of these the route is muted
    /// (`active_time_intervals`); empty means always active.
    pub active_time_intervals: Vec<String>,
    pub span: Span,
}

/// `time_interval "model-retraining" { weekdays = ["sunday"] times = ["02:00-04:00"] }`:
/// one Alertmanager time interval with a single specification, checked with
/// Alertmanager's own parsers, so every field holds what 0.25 loads.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct TimeInterval {
    pub name: String,
    pub specification: crate::prometheus::alertmanager::timeinterval::TimeIntervalSpec,
    /// The name after the keyword.
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct RouteMatcher {
    pub label: String,
    pub op: MatchOp,
    /// Unescaped; a regex source (anchored by Alertmanager) for `=~` and `!~`.
    pub value: String,
    /// The whole matcher, `severity = "page"`.
    pub span: Span,
}

/// `inhibit severity "page" over "ticket" on [service, slo]`: alerts with
/// `label=source` mute alerts with `label=target` when the `equal` labels match.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct InhibitRule {
    pub label: String,
    pub source: String,
    pub targets: Vec<String>,
    pub equal: Vec<String>,
    pub span: Span,
}

/// An inhibition mlslo derives from the objectives' structure rather than from
/// a user's `inhibit` rule (issue 4): the Alertmanager emitter generates these,
/// and the checker includes them when it looks for inhibition cycles, so a user
/// rule such as `inhibit severity "ticket" over "page"` is reported as a cycle.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BuiltinInhibition {
    pub label: &'static str,
    pub source: &'static str,
    pub targets: &'static [&'static str],
    pub equal: &'static [&'static str],
    /// Only when some freshness objective declares `feeds`.
    pub needs_feeds: bool,
}

impl BuiltinInhibition {
    /// The source and target values in a program's vocabulary: the severity
    /// rule is written with tier names and labels alerts with their severities.
    pub fn values(&self, severities: &Severities) -> (String, Vec<String>) {
        let value = |tier_or_value: &str| {
            if self.label != naming::LABEL_SEVERITY {
                return tier_or_value.to_owned();
            }
            match Tier::from_name(tier_or_value) {
                Some(tier) => severities.of(tier).to_owned(),
                None => tier_or_value.to_owned(),
            }
        };
        (
            value(self.source),
            self.targets.iter().map(|target| value(target)).collect(),
        )
    }
}

/// The derived inhibitions, in the order the emitter writes them.
pub const BUILTIN_INHIBITIONS: &[BuiltinInhibition] = &[
    // A page mutes the ticket of the same objective.
    BuiltinInhibition {
        label: "severity",
        source: "page",
        targets: &["ticket"],
        equal: &["service", "slo"],
        needs_feeds: false,
    },
    // When serving is down or out of capacity, quality alerts are noise.
    BuiltinInhibition {
        label: "kind",
        source: "availability",
        targets: &["accuracy", "drift", "latency"],
        equal: &["service"],
        needs_feeds: false,
    },
    BuiltinInhibition {
        label: "kind",
        source: "gpu",
        targets: &["accuracy", "drift", "latency"],
        equal: &["service"],
        needs_feeds: false,
    },
    // A stale batch pipeline mutes the drift alerts of the features it feeds.
    BuiltinInhibition {
        label: "kind",
        source: "freshness",
        targets: &["drift"],
        equal: &["service"],
        needs_feeds: true,
    },
];

#[cfg(test)]
mod tests {
    use super::*;

    /// promql-parser reads every quoted value back unchanged, on the no-escape fast
    /// path and on the escaping one.
    #[test]
    fn quoted_values_read_back_through_promql_parser() {
        for value in [
            "",
            "plain/path-1.2",
            "5..",
            "q\"uote",
            "back\\slash",
            "new\nline",
            "tab\t",
            "\u{1}",
            "\u{7f}",
            "\u{85}",
            "caf\u{e9}",
            "{{ $labels.x }}",
            "\r",
        ] {
            let quoted = quote_promql_string(value);
            let parsed = crate::prometheus::promql::parse_promql(&format!("x{{l={quoted}}}"))
                .unwrap_or_else(|error| panic!("{value:?} as {quoted}: {error}"));
            let promql_parser::parser::Expr::VectorSelector(selector) = parsed else {
                panic!("{quoted}");
            };
            assert_eq!(selector.matchers.matchers[0].value, value, "{quoted}");
        }
    }

    #[test]
    fn selectors_render_with_escaped_values() {
        let selector = Selector {
            metric: "http_requests_total".into(),
            matchers: vec![
                LabelMatcher {
                    label: "path".into(),
                    op: MatchOp::Equal,
                    value: "/a\"b\\c\nd".into(),
                },
                LabelMatcher {
                    label: "status".into(),
                    op: MatchOp::Regex,
                    value: "5..".into(),
                },
            ],
            span: Span::default(),
        };
        assert_eq!(
            selector.to_promql(),
            r#"http_requests_total{path="/a\"b\\c\nd",status=~"5.."}"#
        );
        let parsed = crate::prometheus::promql::parse_promql(&selector.to_promql());
        assert!(parsed.is_ok(), "{parsed:?}");
    }

    #[test]
    fn a_selector_without_matchers_is_the_bare_name() {
        let selector = Selector {
            metric: "up".into(),
            matchers: Vec::new(),
            span: Span::default(),
        };
        assert_eq!(selector.to_promql(), "up");
    }

    mod round_trip {
        use super::*;
        use proptest::prelude::*;

        proptest! {
            /// Whatever the value, the rendered selector parses back (with
            /// promql-parser) to the same metric and the same unescaped values.
            #[test]
            fn rendered_selectors_parse_back_to_the_same_matchers(
                values in proptest::collection::vec(any::<String>(), 1..4),
            ) {
                let matchers: Vec<LabelMatcher> = values
                    .iter()
                    .enumerate()
                    .map(|(index, value)| LabelMatcher {
                        label: format!("label_{index}"),
                        op: if index % 2 == 0 { MatchOp::Equal } else { MatchOp::NotEqual },
                        value: value.clone(),
                    })
                    .collect();
                let selector = Selector {
                    metric: "metric_total".into(),
                    matchers: matchers.clone(),
                    span: Span::default(),
                };
                let text = selector.to_promql();
                let parsed = crate::prometheus::promql::parse_promql(&text);
                prop_assert!(parsed.is_ok(), "{text}: {parsed:?}");
                let Ok(promql_parser::parser::Expr::VectorSelector(vector)) = parsed else {
                    return Err(TestCaseError::fail(format!("{text} is not a vector selector")));
                };
                let read_back: Vec<(String, String)> = vector
                    .matchers
                    .matchers
                    .iter()
                    .filter(|matcher| matcher.name != "__name__")
                    .map(|matcher| (matcher.name.clone(), matcher.value.clone()))
                    .collect();
                let expected: Vec<(String, String)> = matchers
                    .iter()
                    .map(|matcher| (matcher.label.clone(), matcher.value.clone()))
                    .collect();
                prop_assert_eq!(read_back, expected);
            }
        }
    }
}
