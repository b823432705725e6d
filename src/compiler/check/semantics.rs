//! SLO semantics: building each service and objective of the typed model, with
//! the value ranges and window rules that make an objective meaningful.
//!
//! Rules enforced here (each has a code and a test):
//! - an objective is strictly between 0% and 100% (E0401): 100% leaves no error
//!   budget, so every burn-rate alert would divide by zero;
//! - each burn window has `short < long` (E0402) and `long < window` (E0403);
//! - durations that measure something are positive (E0404): windows, thresholds,
//!   slices, forecast lookbacks and horizons, `max_age`, schedules;
//! - an accuracy `slice` is shorter than its `window` (E0405);
//! - bounded values are in range (E0406): `max_utilization` in (0%, 100%],
//!   `max_ratio` in (0%, 100%), burn factors and counts not negative;
//! - fields that exclude each other (E0408) or need each other (E0409);
//! - a burn-rate alert whose threshold is above a 100% error ratio can never
//!   fire (W0005), as with a 90% objective and a 14.4× factor;
//! - a latency threshold should be one of the declared buckets (W0003).
//!
//! Defaults: `window = 30d`; burn windows from `ir::burn_rate` (the SRE
//! workbook), keeping only those whose long window is shorter than the
//! objective window; `for = 5m` for drift and gpu, `0s` for freshness; accuracy
//! `slice = 5m`; logs `timestamp_field = "@timestamp"`, `schedule = 1m`,
//! `throttle = 30m`, `severity = "ticket"`.

use std::collections::BTreeMap;

use crate::base::diagnostic::{Span, Spanned};
use crate::compiler::check::codes;
use crate::compiler::check::promql::MetricRole;
use crate::compiler::check::resolve::{
    attribute, block, conflict, Fields, LabelBlock, Schema, TOP_SCHEMA,
};
use crate::compiler::check::types::Checker;
use crate::compiler::ir::burn_rate::{burn_factor, default_budget_consumed, DEFAULT_BURN_WINDOWS};
use crate::compiler::ir::{self, Decimal, Duration, KindName, Tier};
use crate::compiler::syntax::ast::{self, Value};

const DEFAULT_OBJECTIVE_WINDOW: Duration = Duration::days(30);
const DEFAULT_THRESHOLD_FOR: Duration = Duration::minutes(5);
const DEFAULT_ACCURACY_SLICE: Duration = Duration::minutes(5);
const DEFAULT_LOGS_SCHEDULE: Duration = Duration::minutes(1);
const DEFAULT_LOGS_THROTTLE: Duration = Duration::minutes(30);
const DEFAULT_TIMESTAMP_FIELD: &str = "@timestamp";

/// What every objective of a service can see of it.
struct ServiceContext<'a> {
    selector: &'a BTreeMap<String, String>,
    /// Where each service selector label is written, for W0006.
    selector_spans: BTreeMap<String, Span>,
    /// Objective names declared in the service, with their kind and name span.
    declared: &'a BTreeMap<String, (KindName, Span)>,
}

impl Checker {
    pub fn check_program(&mut self, files: &[ast::File]) -> Option<ir::Program> {
        let mut service_blocks = Vec::new();
        let mut routing_blocks = Vec::new();
        for file in files {
            let fields = self.collect(&file.items, &TOP_SCHEMA, Span::default());
            service_blocks.extend(fields.blocks("service"));
            routing_blocks.extend(fields.blocks("routing"));
        }
        let mut all_good = true;

        let mut services: BTreeMap<String, ir::Service> = BTreeMap::new();
        let mut first_service: BTreeMap<&str, Span> = BTreeMap::new();
        for service_block in service_blocks {
            let Some(name) = &service_block.name else {
                all_good = false;
                continue;
            };
            let duplicate = first_service.get(name.node.as_str()).copied();
            if let Some(first) = duplicate {
                self.push(
                    codes::DUPLICATE_SERVICE.at(name.span,
                        format!("service `{}` is defined a second time here", name.node),
                    )
                    .with_secondary(first, "first defined here")
                    .with_help("service names are unique across all files: rename one, or merge the two blocks"),
                );
                all_good = false;
            } else {
                first_service.insert(&name.node, name.span);
            }
            // A duplicate is still checked, so that its own errors show too.
            match self.check_service(service_block, name) {
                Some(service) if duplicate.is_none() => {
                    services.insert(service.name.clone(), service);
                }
                _ => all_good = false,
            }
        }

        let mut routing = None;
        if let Some((first, rest)) = routing_blocks.split_first() {
            for extra in rest {
                self.push(
                    codes::SECOND_ROUTING_BLOCK
                        .at(extra.kind.span, "a second `routing` block")
                        .with_secondary(first.kind.span, "the first routing block")
                        .with_help("there is one routing block across all files: merge the two"),
                );
                all_good = false;
            }
            let any_feeds = services.values().any(|service| {
                service.objectives.iter().any(|objective| {
                    matches!(&objective.kind, ir::ObjectiveKind::Freshness { feeds, .. } if !feeds.is_empty())
                })
            });
            match self.check_routing(first, any_feeds) {
                Some(checked) => routing = Some(checked),
                None => all_good = false,
            }
        }

        all_good.then(|| ir::Program {
            services: services.into_values().collect(),
            routing,
        })
    }

    fn check_service(&mut self, block: &ast::Block, name: &Spanned<String>) -> Option<ir::Service> {
        let mut all_good = self.check_object_name(name, "service");
        let fields = self.collect(&block.items, &SERVICE_SCHEMA, name.span);

        let team = fields
            .require(self, "team")
            .and_then(|value| self.read_label_value("team", value));
        all_good &= team.is_some();
        let runbook = self.read_url_field(&fields, "runbook", &mut all_good);
        let dashboard = self.read_url_field(&fields, "dashboard", &mut all_good);
        let description = self.read_description(&fields, &mut all_good);
        let labels = self.read_labels(&fields, "labels", LabelBlock::Alert, &mut all_good);
        let selector = self.read_labels(&fields, "selector", LabelBlock::Selector, &mut all_good);

        let mut declared: BTreeMap<String, (KindName, Span)> = BTreeMap::new();
        let mut objective_blocks = Vec::new();
        for kind in KindName::ALL {
            for objective_block in fields.blocks(kind.as_str()) {
                objective_blocks.push((kind, objective_block));
            }
        }
        objective_blocks.sort_by_key(|(_, objective_block)| objective_block.span.start);
        let mut unique_blocks = Vec::new();
        for (kind, objective_block) in objective_blocks {
            let Some(objective_name) = &objective_block.name else {
                all_good = false;
                continue;
            };
            if let Some((_, first)) = declared.get(&objective_name.node) {
                self.push(
                    codes::DUPLICATE_OBJECTIVE
                        .at(
                            objective_name.span,
                            format!(
                                "objective `{}` is defined a second time in service `{}`",
                                objective_name.node, name.node
                            ),
                        )
                        .with_secondary(*first, "first defined here")
                        .with_help("objective names are unique inside a service: rename one"),
                );
                all_good = false;
                continue;
            }
            declared.insert(objective_name.node.clone(), (kind, objective_name.span));
            unique_blocks.push((kind, objective_block, objective_name));
        }

        let mut selector_spans = BTreeMap::new();
        if let Some(selector_block) = fields.block("selector") {
            for item in &selector_block.items {
                if let ast::Item::Attribute(attribute) = item {
                    selector_spans
                        .entry(attribute.key.node.clone())
                        .or_insert(attribute.span);
                }
            }
        }
        let context = ServiceContext {
            selector: &selector,
            selector_spans,
            declared: &declared,
        };
        let mut objectives = Vec::new();
        for (kind, objective_block, objective_name) in unique_blocks {
            match self.check_objective(kind, objective_block, objective_name, &context) {
                Some(objective) => objectives.push(objective),
                None => all_good = false,
            }
        }

        if !all_good {
            return None;
        }
        Some(ir::Service {
            name: name.node.clone(),
            team: team?,
            runbook,
            dashboard,
            description,
            labels,
            selector,
            objectives,
            span: block.span,
            name_span: name.span,
        })
    }

    fn read_labels(
        &mut self,
        fields: &Fields<'_>,
        name: &str,
        purpose: LabelBlock,
        all_good: &mut bool,
    ) -> BTreeMap<String, String> {
        match fields.block(name) {
            Some(label_block) => self
                .read_label_block(label_block, purpose)
                .unwrap_or_else(|| {
                    *all_good = false;
                    BTreeMap::new()
                }),
            None => BTreeMap::new(),
        }
    }

    /// A string that becomes an alert label value: non-empty, no control
    /// characters, `{{` warned.
    fn read_label_value(&mut self, name: &str, value: &Spanned<Value>) -> Option<String> {
        let text = self.read_string(name, value)?;
        if !self.check_not_empty(name, &text, value.span)
            || !self.check_control_characters(&text, value.span, false)
        {
            return None;
        }
        self.warn_template_delimiters(&text, value.span);
        Some(text)
    }

    fn read_description(&mut self, fields: &Fields<'_>, all_good: &mut bool) -> Option<String> {
        let value = fields.value("description")?;
        let text = self.read_string("description", value);
        let Some(text) = text else {
            *all_good = false;
            return None;
        };
        if !self.check_control_characters(&text, value.span, true) {
            *all_good = false;
            return None;
        }
        self.warn_template_delimiters(&text, value.span);
        Some(text)
    }

    fn read_url_field(
        &mut self,
        fields: &Fields<'_>,
        name: &str,
        all_good: &mut bool,
    ) -> Option<String> {
        let value = fields.value(name)?;
        let Some(text) = self.read_string(name, value) else {
            *all_good = false;
            return None;
        };
        if !self.check_control_characters(&text, value.span, false) {
            *all_good = false;
            return None;
        }
        if !(text.starts_with("https://") || text.starts_with("http://")) {
            self.push(
                codes::INVALID_URL
                    .at(value.span, "expected an http:// or https:// URL")
                    .with_help(format!(
                        "`{name}` becomes a link in every alert: write the full URL, such as \
                     \"https://runbooks.example.com/my-service\""
                    )),
            );
            *all_good = false;
            return None;
        }
        self.warn_template_delimiters(&text, value.span);
        Some(text)
    }

    /// E0404 unless `duration` is positive.
    pub fn check_positive(&mut self, name: &str, duration: Duration, span: Span) -> bool {
        if duration.millis > 0 {
            return true;
        }
        self.push(
            codes::DURATION_NOT_POSITIVE
                .at(span, format!("`{name}` cannot be zero"))
                .with_help(format!(
                    "give `{name}` a duration greater than zero, such as 5m"
                )),
        );
        false
    }

    fn duration_field(
        &mut self,
        fields: &Fields<'_>,
        name: &str,
        default: Option<Duration>,
        must_be_positive: bool,
        all_good: &mut bool,
    ) -> Option<(Duration, Option<Span>)> {
        let value = match (fields.value(name), default) {
            (Some(value), _) => value,
            (None, Some(default)) => return Some((default, None)),
            (None, None) => {
                fields.require(self, name);
                *all_good = false;
                return None;
            }
        };
        let duration = self.read_duration(name, value);
        match duration {
            Some(duration)
                if !must_be_positive || self.check_positive(name, duration, value.span) =>
            {
                Some((duration, Some(value.span)))
            }
            _ => {
                *all_good = false;
                None
            }
        }
    }

    fn selector_field(
        &mut self,
        fields: &Fields<'_>,
        name: &str,
        role: MetricRole,
        context: &ServiceContext<'_>,
        required: bool,
        all_good: &mut bool,
    ) -> Option<ir::Selector> {
        let value = if required {
            fields.require(self, name)
        } else {
            fields.value(name)
        };
        let Some(value) = value else {
            *all_good &= !required;
            return None;
        };
        let selector = self.read_selector_text(name, value).and_then(|text| {
            self.read_selector(
                name,
                text,
                value.span,
                role,
                context.selector,
                &context.selector_spans,
            )
        });
        if selector.is_none() {
            *all_good = false;
        }
        selector
    }

    fn out_of_range(&mut self, span: Span, label: String, help: &str) {
        self.push(
            codes::VALUE_OUT_OF_RANGE
                .at(span, label)
                .with_help(help.to_owned()),
        );
    }

    fn check_objective(
        &mut self,
        kind: KindName,
        block: &ast::Block,
        name: &Spanned<String>,
        context: &ServiceContext<'_>,
    ) -> Option<ir::Objective> {
        let mut all_good = self.check_object_name(name, "objective");
        let schema = schema_of(kind);
        let fields = self.collect(&block.items, schema, name.span);
        let labels = self.read_labels(&fields, "labels", LabelBlock::Alert, &mut all_good);
        let description = self.read_description(&fields, &mut all_good);

        let objective_kind = match kind {
            KindName::Latency => self.check_latency(&fields, context),
            KindName::Availability => self.check_availability(&fields, context),
            KindName::Accuracy => self.check_accuracy(&fields, context),
            KindName::Drift => self.check_drift(&fields, context),
            KindName::Gpu => self.check_gpu(&fields, context),
            KindName::Freshness => self.check_freshness(&fields, context),
            KindName::Logs => self.check_logs(&fields),
        };
        let objective_kind = objective_kind?;
        all_good.then(|| ir::Objective {
            name: name.node.clone(),
            kind: objective_kind,
            labels,
            description,
            span: block.span,
            name_span: name.span,
        })
    }

    fn check_latency(
        &mut self,
        fields: &Fields<'_>,
        context: &ServiceContext<'_>,
    ) -> Option<ir::ObjectiveKind> {
        let mut all_good = true;
        let histogram = self.selector_field(
            fields,
            "histogram",
            MetricRole::Histogram,
            context,
            true,
            &mut all_good,
        );
        let threshold = self.duration_field(fields, "threshold", None, true, &mut all_good);
        let mut buckets = Vec::new();
        if let Some(value) = fields.value("buckets") {
            match self.read_list(
                "buckets",
                value,
                crate::compiler::check::types::Unit::Duration,
                |checker, element| {
                    let duration = checker.read_duration("buckets", element)?;
                    checker
                        .check_positive("buckets", duration, element.span)
                        .then_some(duration)
                },
            ) {
                Some(list) => buckets = list,
                None => all_good = false,
            }
            buckets.sort();
            buckets.dedup();
            if let Some((threshold, Some(threshold_span))) = threshold {
                if !buckets.is_empty() && !buckets.contains(&threshold) {
                    let listed: Vec<String> = buckets
                        .iter()
                        .map(|bucket| bucket.to_plain_string())
                        .collect();
                    self.push(
                        codes::THRESHOLD_NOT_A_BUCKET
                            .at(
                                threshold_span,
                                format!(
                                    "{} is not one of the declared buckets",
                                    threshold.to_plain_string()
                                ),
                            )
                            .with_secondary(value.span, "the declared buckets")
                            .with_note(format!(
                                "the histogram has no `le=\"{}\"` series, so the good-event count \
                             cannot be read at this threshold",
                                threshold.as_seconds()
                            ))
                            .with_help(format!(
                            "use one of {} as the threshold, or add the boundary to the histogram",
                            listed.join(", ")
                        )),
                    );
                }
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

    fn check_availability(
        &mut self,
        fields: &Fields<'_>,
        context: &ServiceContext<'_>,
    ) -> Option<ir::ObjectiveKind> {
        let mut all_good = true;
        let total = self.selector_field(
            fields,
            "total",
            MetricRole::Counter,
            context,
            true,
            &mut all_good,
        );
        let events = match (fields.get("errors"), fields.get("good")) {
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
                    .with_help("add `errors = http_requests_total{code=~\"5..\"}` (or `good = ...`) inside this block"),
                );
                None
            }
            (Some(_), None) => self
                .selector_field(
                    fields,
                    "errors",
                    MetricRole::Counter,
                    context,
                    true,
                    &mut all_good,
                )
                .map(ir::AvailabilityEvents::Errors),
            (None, Some(_)) => self
                .selector_field(
                    fields,
                    "good",
                    MetricRole::Counter,
                    context,
                    true,
                    &mut all_good,
                )
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

    fn check_accuracy(
        &mut self,
        fields: &Fields<'_>,
        context: &ServiceContext<'_>,
    ) -> Option<ir::ObjectiveKind> {
        let mut all_good = true;
        let metric = self.selector_field(
            fields,
            "metric",
            MetricRole::Gauge,
            context,
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

    fn check_drift(
        &mut self,
        fields: &Fields<'_>,
        context: &ServiceContext<'_>,
    ) -> Option<ir::ObjectiveKind> {
        let mut all_good = true;
        let score = self.selector_field(
            fields,
            "score",
            MetricRole::Gauge,
            context,
            true,
            &mut all_good,
        );
        let max = fields
            .require(self, "max")
            .and_then(|value| self.read_number("max", value));
        let for_ = self.duration_field(
            fields,
            "for",
            Some(DEFAULT_THRESHOLD_FOR),
            false,
            &mut all_good,
        );
        let forecast = match fields.block("forecast") {
            Some(forecast_block) => Some(self.check_forecast(forecast_block)?),
            None => None,
        };
        Some(ir::ObjectiveKind::Drift {
            score: score?,
            max: max?,
            for_: for_?.0,
            forecast,
        })
        .filter(|_| all_good)
    }

    fn check_forecast(&mut self, block: &ast::Block) -> Option<ir::Forecast> {
        let fields = self.collect(&block.items, &FORECAST_SCHEMA, block.kind.span);
        let mut all_good = true;
        let lookback = self.duration_field(&fields, "lookback", None, true, &mut all_good);
        let horizon = self.duration_field(&fields, "horizon", None, true, &mut all_good);
        if !all_good {
            return None;
        }
        Some(ir::Forecast {
            lookback: lookback?.0,
            horizon: horizon?.0,
            span: block.span,
        })
    }

    fn check_gpu(
        &mut self,
        fields: &Fields<'_>,
        context: &ServiceContext<'_>,
    ) -> Option<ir::ObjectiveKind> {
        let mut all_good = true;
        let utilization = self.selector_field(
            fields,
            "utilization",
            MetricRole::Gauge,
            context,
            true,
            &mut all_good,
        );
        let max_utilization = fields.require(self, "max_utilization").and_then(|value| {
            let fraction = self.read_percent("max_utilization", value)?;
            if fraction <= Decimal::ZERO || fraction > Decimal::ONE {
                self.out_of_range(
                    value.span,
                    "`max_utilization` must be above 0% and at most 100%".to_owned(),
                    "GPU utilization is a percentage of the device: use a ceiling such as 90%",
                );
                return None;
            }
            fraction.scaled_by_power_of_ten(2)
        });
        let used = self.selector_field(
            fields,
            "memory_used",
            MetricRole::Gauge,
            context,
            false,
            &mut all_good,
        );
        let free = self.selector_field(
            fields,
            "memory_free",
            MetricRole::Gauge,
            context,
            false,
            &mut all_good,
        );
        let memory = match (fields.get("memory_used"), fields.get("memory_free")) {
            (Some(_), Some(_)) => match (used, free) {
                (Some(used), Some(free)) => Some(ir::GpuMemory { used, free }),
                _ => None,
            },
            (Some(present), None) => {
                self.needs(
                    &present.key,
                    "memory_free",
                    "memory is tracked as used and free together",
                );
                all_good = false;
                None
            }
            (None, Some(present)) => {
                self.needs(
                    &present.key,
                    "memory_used",
                    "memory is tracked as used and free together",
                );
                all_good = false;
                None
            }
            (None, None) => None,
        };
        let for_ = self.duration_field(
            fields,
            "for",
            Some(DEFAULT_THRESHOLD_FOR),
            false,
            &mut all_good,
        );
        let exhaustion = match fields.block("exhaustion") {
            Some(exhaustion_block) => {
                let forecast = self.check_forecast(exhaustion_block);
                if fields.get("memory_used").is_none() && fields.get("memory_free").is_none() {
                    self.needs(
                        &exhaustion_block.kind,
                        "memory_used` and `memory_free",
                        "the exhaustion forecast extrapolates free memory",
                    );
                    all_good = false;
                }
                if forecast.is_none() {
                    all_good = false;
                }
                forecast
            }
            None => None,
        };
        Some(ir::ObjectiveKind::Gpu {
            utilization: utilization?,
            max_utilization: max_utilization?,
            memory,
            for_: for_?.0,
            exhaustion,
        })
        .filter(|_| all_good)
    }

    /// E0409: `present` needs `missing`.
    fn needs(&mut self, present: &Spanned<String>, missing: &str, reason: &str) {
        self.push(
            codes::FIELD_NEEDS_FIELD
                .at(
                    present.span,
                    format!("`{}` needs `{missing}`", present.node),
                )
                .with_note(reason.to_owned())
                .with_help(format!("add `{missing}`, or remove `{}`", present.node)),
        );
    }

    fn check_freshness(
        &mut self,
        fields: &Fields<'_>,
        context: &ServiceContext<'_>,
    ) -> Option<ir::ObjectiveKind> {
        let mut all_good = true;
        let last_success = self.selector_field(
            fields,
            "last_success",
            MetricRole::Gauge,
            context,
            true,
            &mut all_good,
        );
        let max_age = self.duration_field(fields, "max_age", None, true, &mut all_good);
        let for_ = self.duration_field(fields, "for", Some(Duration::ZERO), false, &mut all_good);
        let mut feeds = Vec::new();
        if let Some(value) = fields.value("feeds") {
            let read = self.read_list("feeds", value, crate::compiler::check::types::Unit::String, |checker, element| {
                let name = checker.read_string("feeds", element)?;
                match context.declared.get(&name) {
                    Some((KindName::Drift, _)) => Some(ir::ObjectiveReference { name, span: element.span }),
                    Some((other, declared_at)) => {
                        checker.push(
                            codes::FEEDS_NOT_A_DRIFT_OBJECTIVE.at(element.span,
                                format!("`{name}` is a {} objective", other.as_str()),
                            )
                            .with_secondary(*declared_at, "declared here")
                            .with_note("`feeds` lists the drift objectives whose alerts are muted while this job is stale")
                            .with_help("name only drift objectives of this service"),
                        );
                        None
                    }
                    None => {
                        let drift_names = context
                            .declared
                            .iter()
                            .filter(|(_, (kind, _))| *kind == KindName::Drift)
                            .map(|(declared_name, _)| declared_name.as_str());
                        let suggestion = crate::compiler::check::suggest::did_you_mean(&name, drift_names);
                        let mut diagnostic = codes::FEEDS_NOT_A_DRIFT_OBJECTIVE.at(element.span,
                            format!("this service has no drift objective `{name}`"),
                        );
                        diagnostic = match suggestion {
                            Some(suggestion) => diagnostic.with_help(format!("did you mean `{suggestion}`?")),
                            None => diagnostic.with_help("`feeds` names drift objectives declared in the same service"),
                        };
                        checker.push(diagnostic);
                        None
                    }
                }
            });
            match read {
                Some(list) => feeds = list,
                None => all_good = false,
            }
        }
        Some(ir::ObjectiveKind::Freshness {
            last_success: last_success?,
            max_age: max_age?.0,
            for_: for_?.0,
            feeds,
        })
        .filter(|_| all_good)
    }

    fn check_logs(&mut self, fields: &Fields<'_>) -> Option<ir::ObjectiveKind> {
        let mut all_good = true;
        let mut required_text = |checker: &mut Checker, name: &str| {
            let text = fields
                .require(checker, name)
                .and_then(|value| checker.read_nonempty_string(name, value));
            if text.is_none() {
                all_good = false;
            }
            text
        };
        let index = required_text(self, "index");
        let query = required_text(self, "query");

        let condition = match (
            fields.get("max_count"),
            fields.get("max_ratio"),
            fields.get("total_query"),
            fields.get("window"),
        ) {
            (Some(count), None, None, None) => self
                .read_per_window("max_count", &count.value)
                .and_then(|(count_value, window, window_span)| {
                    let count_value = self.whole_count(count_value, count.value.span)?;
                    self.check_positive("max_count", window, window_span)
                        .then_some(ir::LogsCondition::MaxCount {
                            count: count_value,
                            window,
                        })
                }),
            (Some(count), ratio, total, window) => {
                let other = ratio.or(total).or(window).unwrap_or(count);
                let (first, second) = ordered(count, other);
                self.push(conflict(
                    &first.key,
                    &second.key,
                    "`max_count = N per WINDOW` carries its own window; a ratio condition uses `total_query`, `max_ratio` and `window`",
                ));
                None
            }
            (None, Some(ratio), total, window) => {
                let fraction = self.read_percent("max_ratio", &ratio.value).and_then(|fraction| {
                    if fraction <= Decimal::ZERO || fraction >= Decimal::ONE {
                        self.out_of_range(
                            ratio.value.span,
                            "`max_ratio` must be strictly between 0% and 100%".to_owned(),
                            "the alert fires when the ratio is above this value: use a value such as 2%",
                        );
                        return None;
                    }
                    Some(fraction)
                });
                let total_query = match total {
                    Some(total) => self.read_nonempty_string("total_query", &total.value),
                    None => {
                        self.needs(
                            &ratio.key,
                            "total_query",
                            "the ratio is hits of `query` over hits of `total_query`",
                        );
                        None
                    }
                };
                let window = match window {
                    Some(window) => {
                        self.read_duration("window", &window.value)
                            .filter(|duration| {
                                self.check_positive("window", *duration, window.value.span)
                            })
                    }
                    None => {
                        self.needs(
                            &ratio.key,
                            "window",
                            "the ratio is counted over a time window",
                        );
                        None
                    }
                };
                match (fraction, total_query, window) {
                    (Some(ratio), Some(total_query), Some(window)) => {
                        Some(ir::LogsCondition::MaxRatio {
                            total_query,
                            ratio,
                            window,
                        })
                    }
                    _ => None,
                }
            }
            (None, None, Some(present), _) => {
                self.needs(
                    &present.key,
                    "max_ratio",
                    "`total_query` is the denominator of a `max_ratio` condition",
                );
                None
            }
            (None, None, None, _) => {
                self.push(
                    codes::MISSING_FIELD
                        .at(
                            fields.owner_span,
                            "a logs objective needs `max_count` or `max_ratio`",
                        )
                        .with_help("add `max_count = 100 per 5m` inside this block"),
                );
                None
            }
        };
        if condition.is_none() {
            all_good = false;
        }

        let timestamp_field = match fields.value("timestamp_field") {
            Some(value) => self.read_nonempty_string("timestamp_field", value),
            None => Some(DEFAULT_TIMESTAMP_FIELD.to_owned()),
        };
        let schedule = self.duration_field(
            fields,
            "schedule",
            Some(DEFAULT_LOGS_SCHEDULE),
            true,
            &mut all_good,
        );
        let throttle = self.duration_field(
            fields,
            "throttle",
            Some(DEFAULT_LOGS_THROTTLE),
            false,
            &mut all_good,
        );
        let severity = match fields.value("severity") {
            Some(value) => {
                self.read_string("severity", value)
                    .and_then(|text| match text.as_str() {
                        "page" => Some(Tier::Page),
                        "ticket" => Some(Tier::Ticket),
                        other => {
                            let mut diagnostic = codes::INVALID_CHOICE
                                .at(value.span, format!("`{other}` is not a severity"))
                                .with_note("the severities are \"page\" and \"ticket\"");
                            diagnostic = match crate::compiler::check::suggest::did_you_mean(
                                other,
                                ["page", "ticket"],
                            ) {
                                Some(suggestion) => {
                                    diagnostic.with_help(format!("did you mean \"{suggestion}\"?"))
                                }
                                None => diagnostic.with_help(
                                    "write `severity = \"page\"` to wake someone up, or \
                                     `severity = \"ticket\"`",
                                ),
                            };
                            self.push(diagnostic);
                            None
                        }
                    })
            }
            None => Some(Tier::Ticket),
        };
        Some(ir::ObjectiveKind::Logs {
            index: index?,
            query: query?,
            condition: condition?,
            timestamp_field: timestamp_field?,
            schedule: schedule?.0,
            throttle: throttle?.0,
            severity: severity?,
        })
        .filter(|_| all_good)
    }

    /// The objective, window, traffic guard and burn windows of a budgeted kind.
    fn check_budget(&mut self, fields: &Fields<'_>) -> Option<ir::Budget> {
        let mut all_good = true;
        let objective_value = fields.require(self, "objective");
        let objective = objective_value.and_then(|value| {
            let fraction = self.read_percent("objective", value)?;
            if fraction <= Decimal::ZERO || fraction >= Decimal::ONE {
                let help = if fraction >= Decimal::ONE {
                    "an objective of 100% leaves no error budget: every failure would page; use 99.9% or similar"
                } else {
                    "the objective is the share of good events, such as 99.9%"
                };
                self.push(
                    codes::OBJECTIVE_OUT_OF_RANGE.at(value.span,
                        "the objective must be strictly between 0% and 100%",
                    )
                    .with_help(help),
                );
                return None;
            }
            Some(fraction)
        });
        let window = self.duration_field(
            fields,
            "window",
            Some(DEFAULT_OBJECTIVE_WINDOW),
            true,
            &mut all_good,
        );
        let min_traffic = match fields.value("min_traffic") {
            Some(value) => match self.read_per_window("min_traffic", value) {
                Some((count, traffic_window, traffic_window_span)) => {
                    if count.is_negative() {
                        self.out_of_range(
                            value.span,
                            "`min_traffic` cannot be negative".to_owned(),
                            "use a count such as 10 per 5m",
                        );
                        all_good = false;
                        None
                    } else if !self.check_positive(
                        "min_traffic",
                        traffic_window,
                        traffic_window_span,
                    ) {
                        all_good = false;
                        None
                    } else {
                        Some(ir::MinTraffic {
                            count,
                            window: traffic_window,
                        })
                    }
                }
                None => {
                    all_good = false;
                    None
                }
            },
            None => None,
        };
        let alerts_enabled = match fields.value("alerts") {
            Some(value) => self.read_bool("alerts", value).unwrap_or_else(|| {
                all_good = false;
                true
            }),
            None => true,
        };
        let (Some(objective), Some((window, window_span))) = (objective, window) else {
            return None;
        };
        let error_budget = Decimal::ONE.checked_sub(objective)?;
        let mut page = Vec::new();
        let mut ticket = Vec::new();
        for (tier, windows) in [(Tier::Page, &mut page), (Tier::Ticket, &mut ticket)] {
            match fields.block(tier.as_str()) {
                Some(tier_block) => match self.check_tier(tier_block, window, window_span) {
                    Some(checked) => *windows = checked,
                    None => all_good = false,
                },
                None => {
                    for row in DEFAULT_BURN_WINDOWS
                        .iter()
                        .filter(|row| row.tier == tier && row.long < window)
                    {
                        let consumed = row.budget_consumed();
                        let Some(factor) = burn_factor(consumed, window, row.long) else {
                            continue;
                        };
                        windows.push(ir::BurnWindow {
                            long: row.long,
                            short: row.short,
                            factor: factor.factor,
                            factor_exact: factor.exact,
                            budget_consumed: Some(consumed),
                            for_: Duration::ZERO,
                            span: None,
                        });
                    }
                }
            }
        }
        if alerts_enabled && all_good && page.is_empty() && ticket.is_empty() {
            self.push(
                codes::NO_BURN_WINDOW_FITS.at(window_span.unwrap_or(fields.owner_span),
                    format!(
                        "every default burn window is at least as long as the {} window",
                        window.to_plain_string()
                    ),
                )
                .with_note("the shortest default window is 1h (page); this objective gets no burn-rate alert")
                .with_help(
                    "lengthen the window, give a tier its own `burn { long = ..., short = ..., factor = ... }`, \
                     or write `alerts = false` to say that no alert is wanted",
                ),
            );
        }
        if alerts_enabled {
            for (tier, burn) in page
                .iter()
                .map(|w| (Tier::Page, w))
                .chain(ticket.iter().map(|w| (Tier::Ticket, w)))
            {
                let Some(threshold) = burn.factor.checked_mul(error_budget) else {
                    continue;
                };
                if threshold >= Decimal::ONE {
                    let span = burn
                        .span
                        .or(objective_value.map(|value| value.span))
                        .unwrap_or(fields.owner_span);
                    self.push(
                        codes::BURN_ALERT_NEVER_FIRES.at(span,
                            format!(
                                "the {} alert over {}/{} needs an error ratio above {threshold} ({}× a {error_budget} budget)",
                                tier.as_str(),
                                burn.long.to_plain_string(),
                                burn.short.to_plain_string(),
                                burn.factor
                            ),
                        )
                        .with_note("an error ratio cannot exceed 1 (every event failing)")
                        .with_help("raise the objective, lengthen the objective window, or give this tier a smaller `factor`"),
                    );
                }
            }
        }
        all_good.then_some(ir::Budget {
            objective,
            error_budget,
            window,
            min_traffic,
            alerts_enabled,
            page,
            ticket,
        })
    }

    fn check_tier(
        &mut self,
        block: &ast::Block,
        window: Duration,
        window_span: Option<Span>,
    ) -> Option<Vec<ir::BurnWindow>> {
        let fields = self.collect(&block.items, &TIER_SCHEMA, block.kind.span);
        let mut all_good = true;
        let mut windows = Vec::new();
        let mut any = false;
        for burn_block in fields.blocks("burn") {
            any = true;
            match self.check_burn(burn_block, window, window_span) {
                Some(burn) => windows.push(burn),
                None => all_good = false,
            }
        }
        if !any {
            self.push(
                codes::MISSING_FIELD.at(block.kind.span,
                    format!("`{}` needs at least one `burn` block", block.kind.node),
                )
                .with_help("add `burn { long = 1h, short = 5m }`, or remove the block to keep the defaults (use `alerts = false` to disable burn alerts)"),
            );
            all_good = false;
        }
        all_good.then_some(windows)
    }

    fn check_burn(
        &mut self,
        block: &ast::Block,
        window: Duration,
        window_span: Option<Span>,
    ) -> Option<ir::BurnWindow> {
        let fields = self.collect(&block.items, &BURN_SCHEMA, block.kind.span);
        let mut all_good = true;
        let long = self.duration_field(&fields, "long", None, true, &mut all_good);
        let short = self.duration_field(&fields, "short", None, true, &mut all_good);
        let for_ = self.duration_field(&fields, "for", Some(Duration::ZERO), false, &mut all_good);
        if let (Some((long, long_span)), Some((short, short_span))) = (long, short) {
            if short >= long {
                self.push(
                    codes::SHORT_WINDOW_NOT_SHORTER.at(short_span.unwrap_or(block.kind.span),
                        format!(
                            "the short window {} is not shorter than the long window {}",
                            short.to_plain_string(),
                            long.to_plain_string()
                        ),
                    )
                    .with_secondary(long_span.unwrap_or(block.kind.span), "the long window")
                    .with_help("the short window confirms the burn is still going on: make it about 1/12 of the long window, such as 1h/5m"),
                );
                all_good = false;
            }
            if long >= window {
                let mut diagnostic = codes::BURN_WINDOW_NOT_SHORTER.at(
                    long_span.unwrap_or(block.kind.span),
                    format!(
                        "the long window {} is not shorter than the objective window {}",
                        long.to_plain_string(),
                        window.to_plain_string()
                    ),
                );
                diagnostic = match window_span {
                    Some(span) => diagnostic.with_secondary(span, "the objective window"),
                    None => diagnostic.with_note(format!(
                        "the objective window is the default {}",
                        window.to_plain_string()
                    )),
                };
                self.push(diagnostic.with_help("alert windows must be shorter than the objective window; the defaults are 1h/5m and 6h/30m for pages"));
                all_good = false;
            }
        }
        let (factor, factor_exact, consumed) = match fields.value("factor") {
            Some(value) => match self.read_number("factor", value) {
                Some(factor) if factor > Decimal::ZERO => (Some(factor), true, None),
                Some(_) => {
                    self.out_of_range(value.span, "`factor` must be above 0".to_owned(), "a burn-rate factor is how many times faster than sustainable the budget burns, such as 14.4");
                    (None, true, None)
                }
                None => (None, true, None),
            },
            None => match long.map(|(long, _)| (long, default_budget_consumed(long))) {
                Some((long, Some(consumed))) => match burn_factor(consumed, window, long) {
                    Some(computed) => (Some(computed.factor), computed.exact, Some(consumed)),
                    None => (None, true, None),
                },
                Some((long, None)) => {
                    self.push(
                        codes::MISSING_FIELD.at(block.kind.span,
                            format!("a burn window over {} needs `factor`", long.to_plain_string()),
                        )
                        .with_note("the factor is computed only for the workbook's long windows 1h, 6h, 1d and 3d")
                        .with_help("add `factor = ...`: the budget fraction to spend in the long window × window / long window"),
                    );
                    (None, true, None)
                }
                None => (None, true, None),
            },
        };
        if !all_good {
            return None;
        }
        Some(ir::BurnWindow {
            long: long?.0,
            short: short?.0,
            factor: factor?,
            factor_exact,
            budget_consumed: consumed,
            for_: for_?.0,
            span: Some(block.span),
        })
    }
}

/// The two attributes in source order.
fn ordered<'a>(
    left: &'a ast::Attribute,
    right: &'a ast::Attribute,
) -> (&'a ast::Attribute, &'a ast::Attribute) {
    if left.span.start <= right.span.start {
        (left, right)
    } else {
        (right, left)
    }
}

pub(crate) fn schema_of(kind: KindName) -> &'static Schema {
    match kind {
        KindName::Latency => &LATENCY_SCHEMA,
        KindName::Availability => &AVAILABILITY_SCHEMA,
        KindName::Accuracy => &ACCURACY_SCHEMA,
        KindName::Drift => &DRIFT_SCHEMA,
        KindName::Gpu => &GPU_SCHEMA,
        KindName::Freshness => &FRESHNESS_SCHEMA,
        KindName::Logs => &LOGS_SCHEMA,
    }
}

pub(crate) static SERVICE_SCHEMA: Schema = Schema {
    what: "a service",
    fields: &[
        attribute("team", "team = \"risk-ml\""),
        attribute("runbook", "runbook = \"https://runbooks.example.com/...\""),
        attribute(
            "dashboard",
            "dashboard = \"https://grafana.example.com/d/...\"",
        ),
        attribute("description", "description = \"...\""),
        block("labels", false, false),
        block("selector", false, false),
        block("latency", true, true),
        block("availability", true, true),
        block("accuracy", true, true),
        block("drift", true, true),
        block("gpu", true, true),
        block("freshness", true, true),
        block("logs", true, true),
    ],
    allows_routes: false,
    secrets: &[],
};

macro_rules! budget_fields {
    ($($extra:expr),* $(,)?) => {
        &[
            $($extra,)*
            attribute("objective", "objective = 99.9%"),
            attribute("window", "window = 30d"),
            attribute("description", "description = \"...\""),
            attribute("min_traffic", "min_traffic = 10 per 5m"),
            attribute("alerts", "alerts = false"),
            block("labels", false, false),
            block("page", false, false),
            block("ticket", false, false),
        ]
    };
}

macro_rules! threshold_fields {
    ($($extra:expr),* $(,)?) => {
        &[
            $($extra,)*
            attribute("for", "for = 5m"),
            attribute("description", "description = \"...\""),
            block("labels", false, false),
        ]
    };
}

static LATENCY_SCHEMA: Schema = Schema {
    what: "a latency objective",
    fields: budget_fields![
        attribute("histogram", "histogram = http_request_duration_seconds"),
        attribute("threshold", "threshold = 250ms"),
        attribute("buckets", "buckets = [100ms, 250ms, 500ms, 1s]"),
    ],
    allows_routes: false,
    secrets: &[],
};

static AVAILABILITY_SCHEMA: Schema = Schema {
    what: "an availability objective",
    fields: budget_fields![
        attribute("errors", "errors = http_requests_total{code=~\"5..\"}"),
        attribute("good", "good = http_requests_total{code!~\"5..\"}"),
        attribute("total", "total = http_requests_total"),
    ],
    allows_routes: false,
    secrets: &[],
};

static ACCURACY_SCHEMA: Schema = Schema {
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

static DRIFT_SCHEMA: Schema = Schema {
    what: "a drift objective",
    fields: threshold_fields![
        attribute("score", "score = feature_drift_score{feature=\"amount\"}"),
        attribute("max", "max = 0.3"),
        block("forecast", false, false),
    ],
    allows_routes: false,
    secrets: &[],
};

static GPU_SCHEMA: Schema = Schema {
    what: "a gpu objective",
    fields: threshold_fields![
        attribute("utilization", "utilization = DCGM_FI_DEV_GPU_UTIL"),
        attribute("max_utilization", "max_utilization = 90%"),
        attribute("memory_used", "memory_used = DCGM_FI_DEV_FB_USED"),
        attribute("memory_free", "memory_free = DCGM_FI_DEV_FB_FREE"),
        block("exhaustion", false, false),
    ],
    allows_routes: false,
    secrets: &[],
};

static FRESHNESS_SCHEMA: Schema = Schema {
    what: "a freshness objective",
    fields: threshold_fields![
        attribute(
            "last_success",
            "last_success = batch_job_last_success_timestamp_seconds"
        ),
        attribute("max_age", "max_age = 26h"),
        attribute("feeds", "feeds = [\"drift-objective\"]"),
    ],
    allows_routes: false,
    secrets: &[],
};

static LOGS_SCHEMA: Schema = Schema {
    what: "a logs objective",
    fields: &[
        attribute("index", "index = \"app-logs-*\""),
        attribute("query", "query = 'level:error'"),
        attribute("max_count", "max_count = 100 per 5m"),
        attribute("total_query", "total_query = '*'"),
        attribute("max_ratio", "max_ratio = 2%"),
        attribute("window", "window = 5m"),
        attribute("timestamp_field", "timestamp_field = \"@timestamp\""),
        attribute("schedule", "schedule = 1m"),
        attribute("throttle", "throttle = 30m"),
        attribute("severity", "severity = \"ticket\""),
        attribute("description", "description = \"...\""),
        block("labels", false, false),
    ],
    allows_routes: false,
    secrets: &[],
};

static FORECAST_SCHEMA: Schema = Schema {
    what: "a forecast block",
    fields: &[
        attribute("lookback", "lookback = 6h"),
        attribute("horizon", "horizon = 12h"),
    ],
    allows_routes: false,
    secrets: &[],
};

static TIER_SCHEMA: Schema = Schema {
    what: "an alert tier",
    fields: &[block("burn", false, true)],
    allows_routes: false,
    secrets: &[],
};

static BURN_SCHEMA: Schema = Schema {
    what: "a burn window",
    fields: &[
        attribute("long", "long = 1h"),
        attribute("short", "short = 5m"),
        attribute("factor", "factor = 14.4"),
        attribute("for", "for = 2m"),
    ],
    allows_routes: false,
    secrets: &[],
};
