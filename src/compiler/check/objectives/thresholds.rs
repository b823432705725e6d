//! The objective kinds that compare a gauge with a limit for a while: drift (a
//! drift score under `max`, with an optional forecast), gpu (utilization under a
//! ceiling, with an optional memory-exhaustion forecast) and freshness (the age
//! of a batch job's last success under `max_age`, and the drift objectives it
//! feeds).
//!
//! Rules: `max_utilization` is above 0% and at most 100% (E0406); memory is
//! tracked as used and free together, and an exhaustion forecast needs both
//! (E0409); `feeds` names drift objectives of the same service (E0208).
//! Defaults: `for = 5m` for drift and gpu, `0s` for freshness.
//!
//! Hysteresis: drift scores and GPU utilization are noisy gauges, so their
//! threshold alerts keep firing for `keep_firing_for` after the value dips back,
//! `for` unless written (`none` opts out). The default is symmetric: an alert
//! that needed `for` of evidence to fire needs `for` without evidence to
//! resolve, so a dip shorter than `for` neither resolves it nor restarts the
//! `for` of a fresh firing (which would silence it for another `for`).
//!
//! A forecast fits a line over `lookback` and fires only for a series that has
//! `lookback` of history (see `emit::prometheus`), so a lookback longer than the
//! history Prometheus keeps gives a forecast that never fires (W0620).

use std::collections::BTreeMap;

use crate::base::diagnostic::Span;
use crate::compiler::check::checker::Checker;
use crate::compiler::check::codes;
use crate::compiler::check::schema::{attribute, block, Fields, Schema};
use crate::compiler::check::selectors::{MetricRole, ServiceSelector};
use crate::compiler::check::suggest::did_you_mean;
use crate::compiler::check::values::Unit;
use crate::compiler::ir::{self, Decimal, Duration, KindName};
use crate::compiler::syntax::ast;

const DEFAULT_THRESHOLD_FOR: Duration = Duration::minutes(5);

/// Prometheus' default `--storage.tsdb.retention.time`: a forecast needs a sample
/// `lookback` old, so a longer lookback never has the history it asks for.
pub const DEFAULT_RETENTION: Duration = Duration::days(15);

impl Checker {
    pub fn check_drift(
        &mut self,
        fields: &Fields<'_>,
        service_selector: &ServiceSelector<'_>,
    ) -> Option<ir::ObjectiveKind> {
        let mut all_good = true;
        let score = self.selector_field(
            fields,
            "score",
            MetricRole::Gauge,
            service_selector,
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
        let for_ = for_.map(|(for_, _)| for_);
        let keep_firing_for = for_.and_then(|for_| self.keep_firing_for_field(fields, for_));
        let forecast = match fields.block("forecast") {
            Some(forecast_block) => Some(self.check_forecast(forecast_block)?),
            None => None,
        };
        Some(ir::ObjectiveKind::Drift {
            score: score?,
            max: max?,
            for_: for_?,
            keep_firing_for: keep_firing_for?,
            forecast,
        })
        .filter(|_| all_good)
    }

    pub(crate) fn check_forecast(&mut self, block: &ast::Block) -> Option<ir::Forecast> {
        let fields = self.collect(&block.items, &FORECAST_SCHEMA, block.kind.span);
        let mut all_good = true;
        let lookback = self.duration_field(&fields, "lookback", None, true, &mut all_good);
        let horizon = self.duration_field(&fields, "horizon", None, true, &mut all_good);
        if !all_good {
            return None;
        }
        let (lookback, lookback_span) = lookback?;
        if lookback > DEFAULT_RETENTION {
            self.push(
                codes::FORECAST_LOOKBACK_BEYOND_RETENTION
                    .at(
                        lookback_span.unwrap_or(block.span),
                        format!(
                            "a forecast over {lookback} needs a sample {lookback} old, more than Prometheus keeps by default ({DEFAULT_RETENTION})"
                        ),
                    )
                    .with_note("the forecast fires only for series with a full lookback of history, so it would never fire")
                    .with_help(format!(
                        "use a lookback of at most {DEFAULT_RETENTION}, or raise `--storage.tsdb.retention.time` and keep this warning in mind"
                    )),
            );
        }
        Some(ir::Forecast {
            lookback,
            horizon: horizon?.0,
            span: block.span,
        })
    }

    /// `keep_firing_for = 10m`, `keep_firing_for = none` (zero), or `for` when absent.
    fn keep_firing_for_field(&mut self, fields: &Fields<'_>, for_: Duration) -> Option<Duration> {
        match fields.value("keep_firing_for") {
            None => Some(for_),
            Some(value) if matches!(&value.node, ast::Value::Selector(word) if word == "none") => {
                Some(Duration::ZERO)
            }
            Some(value) => self.read_duration("keep_firing_for", value),
        }
    }

    pub fn check_gpu(
        &mut self,
        fields: &Fields<'_>,
        service_selector: &ServiceSelector<'_>,
    ) -> Option<ir::ObjectiveKind> {
        let mut all_good = true;
        let utilization = self.selector_field(
            fields,
            "utilization",
            MetricRole::Gauge,
            service_selector,
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
            service_selector,
            false,
            &mut all_good,
        );
        let free = self.selector_field(
            fields,
            "memory_free",
            MetricRole::Gauge,
            service_selector,
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
        let for_ = for_.map(|(for_, _)| for_);
        let keep_firing_for = for_.and_then(|for_| self.keep_firing_for_field(fields, for_));
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
            for_: for_?,
            keep_firing_for: keep_firing_for?,
            exhaustion,
        })
        .filter(|_| all_good)
    }

    pub fn check_freshness(
        &mut self,
        fields: &Fields<'_>,
        service_selector: &ServiceSelector<'_>,
        declared: &BTreeMap<String, (KindName, Span)>,
    ) -> Option<ir::ObjectiveKind> {
        let mut all_good = true;
        let last_success = self.selector_field(
            fields,
            "last_success",
            MetricRole::Gauge,
            service_selector,
            true,
            &mut all_good,
        );
        let max_age = self.duration_field(fields, "max_age", None, true, &mut all_good);
        let for_ = self.duration_field(fields, "for", Some(Duration::ZERO), false, &mut all_good);
        let mut feeds = Vec::new();
        if let Some(value) = fields.value("feeds") {
            let read = self.read_list("feeds", value, Unit::String, |checker, element| {
                let name = checker.read_string("feeds", element)?;
                match declared.get(&name) {
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
                        let drift_names = declared
                            .iter()
                            .filter(|(_, (kind, _))| *kind == KindName::Drift)
                            .map(|(declared_name, _)| declared_name.as_str());
                        let suggestion = did_you_mean(&name, drift_names);
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
}

macro_rules! threshold_fields {
    ($($extra:expr),* $(,)?) => {
        &[
            $($extra,)*
            attribute("for", "for = 5m"),
            attribute("group_by", "group_by = [model, model_version]"),
            attribute("expected_groups", "expected_groups = 40"),
            attribute("description", "description = \"...\""),
            block("labels", false, false),
        ]
    };
}

pub(super) static DRIFT_SCHEMA: Schema = Schema {
    what: "a drift objective",
    fields: threshold_fields![
        attribute("score", "score = feature_drift_score{feature=\"amount\"}"),
        attribute("max", "max = 0.3"),
        attribute("keep_firing_for", "keep_firing_for = 10m"),
        block("forecast", false, false),
    ],
    allows_routes: false,
    secrets: &[],
};

pub(super) static GPU_SCHEMA: Schema = Schema {
    what: "a gpu objective",
    fields: threshold_fields![
        attribute("utilization", "utilization = DCGM_FI_DEV_GPU_UTIL"),
        attribute("max_utilization", "max_utilization = 90%"),
        attribute("memory_used", "memory_used = DCGM_FI_DEV_FB_USED"),
        attribute("memory_free", "memory_free = DCGM_FI_DEV_FB_FREE"),
        attribute("keep_firing_for", "keep_firing_for = 10m"),
        block("exhaustion", false, false),
    ],
    allows_routes: false,
    secrets: &[],
};

pub(super) static FRESHNESS_SCHEMA: Schema = Schema {
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

static FORECAST_SCHEMA: Schema = Schema {
    what: "a forecast block",
    fields: &[
        attribute("lookback", "lookback = 6h"),
        attribute("horizon", "horizon = 12h"),
    ],
    allows_routes: false,
    secrets: &[],
};
