//! The logs objective kind: hits of an Elasticsearch query, as a count per
//! window (`max_count = 100 per 5m`) or as a ratio of another query's hits
//! (`max_ratio` with `total_query` and `window`), watched on a schedule.
//!
//! Rules: the two conditions exclude each other (E0408) and the ratio's fields
//! need each other (E0409); `max_ratio` is strictly between 0% and 100% (E0406);
//! `severity` is "page" or "ticket" (E0311). Defaults: `timestamp_field =
//! "@timestamp"`, `schedule = 1m`, `throttle = 30m`, `severity = "ticket"`.

use crate::compiler::check::checker::Checker;
use crate::compiler::check::codes;
use crate::compiler::check::schema::{attribute, block, conflict, ordered, Fields, Schema};
use crate::compiler::check::suggest::did_you_mean;
use crate::compiler::ir::{self, Decimal, Duration, Tier};

const DEFAULT_LOGS_SCHEDULE: Duration = Duration::minutes(1);

const DEFAULT_LOGS_THROTTLE: Duration = Duration::minutes(30);

const DEFAULT_TIMESTAMP_FIELD: &str = "@timestamp";

impl Checker {
    pub fn check_logs(&mut self, fields: &Fields<'_>) -> Option<ir::ObjectiveKind> {
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
                            diagnostic = match did_you_mean(other, ["page", "ticket"]) {
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
}

pub(super) static LOGS_SCHEMA: Schema = Schema {
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
        attribute("group_by", "group_by = [model, model_version]"),
        attribute("description", "description = \"...\""),
        block("labels", false, false),
    ],
    allows_routes: false,
    secrets: &[],
};
