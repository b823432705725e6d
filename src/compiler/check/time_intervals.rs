//! Maintenance windows: the `time_interval` blocks of the routing block and the
//! `mute_during` / `active_during` clauses of its routes, which become
//! Alertmanager's `time_intervals` and the routes' `mute_time_intervals` /
//! `active_time_intervals`.
//!
//! Invariants: every field is read by Alertmanager's own parser
//! (`prometheus::alertmanager::timeinterval`), so what passes here is what
//! 0.25 loads, and its refusals carry Go's words in a note (E0650, E0651);
//! interval names are unique (E0652) and every name a route gives is defined
//! (E0653); the root route, which catches the dead man's switch, takes no
//! interval (E0654), nor does a route to the heartbeat receiver (E0655); an
//! interval no route names is warned (W0650), and so are one that covers all
//! time (W0651) and a zone the AlertmanagerConfig manifest cannot carry (W0652).

use std::collections::{BTreeMap, BTreeSet};

use crate::base::diagnostic::{Span, Spanned};
use crate::compiler::check::checker::Checker;
use crate::compiler::check::codes;
use crate::compiler::check::schema::{attribute, Fields, Schema};
use crate::compiler::check::suggest::did_you_mean;
use crate::compiler::ir;
use crate::compiler::syntax::ast::{self, Value};
use crate::prometheus::alertmanager::timeinterval::{self, TimeIntervalSpec};

/// The time intervals of a routing block, read before its routes.
pub(crate) struct TimeIntervals {
    /// In written order, the valid ones only.
    pub intervals: Vec<ir::TimeInterval>,
    /// Every defined name (valid or not) with the span of its name, so a
    /// route naming a broken interval is not also told it does not exist.
    pub names: BTreeMap<String, Span>,
    pub all_good: bool,
}

impl Checker {
    /// The `time_interval` blocks and the root-route refusal (E0654) of the
    /// routing block's `mute_during` / `active_during` fields.
    pub(crate) fn check_time_intervals(&mut self, fields: &Fields<'_>) -> TimeIntervals {
        let mut checked = TimeIntervals {
            intervals: Vec::new(),
            names: BTreeMap::new(),
            all_good: true,
        };
        for field in ["mute_during", "active_during"] {
            if let Some(attribute) = fields.get(field) {
                self.push(
                    codes::TIME_INTERVAL_ON_ROOT_ROUTE
                        .at(
                            attribute.key.span,
                            "the routing block is Alertmanager's root route, which takes no time interval",
                        )
                        .with_help(format!(
                            "name the interval on the routes it should mute, as in `route {{ team = \"...\" }} -> \"...\" {field} \"...\"`"
                        )),
                );
                checked.all_good = false;
            }
        }
        for block in fields.blocks("time_interval") {
            let Some(name) = &block.name else {
                checked.all_good = false;
                continue;
            };
            if let Some(first) = checked.names.get(&name.node) {
                self.push(
                    codes::DUPLICATE_TIME_INTERVAL
                        .at(
                            name.span,
                            format!(
                                "time interval `{}` is defined a second time here",
                                name.node
                            ),
                        )
                        .with_secondary(*first, "first defined here")
                        .with_help("give each interval a unique name; a route may name several"),
                );
                checked.all_good = false;
                continue;
            }
            checked.names.insert(name.node.clone(), name.span);
            let valid_name = self.check_not_empty("time_interval", &name.node, name.span)
                && self.check_control_characters(&name.node, name.span, false);
            match self.check_time_interval(block, name) {
                Some(interval) if valid_name => checked.intervals.push(interval),
                _ => checked.all_good = false,
            }
        }
        checked
    }

    /// A route's `mute_during` and `active_during`: each name defined
    /// (E0653), and none on a route to the heartbeat receiver (E0655).
    pub(crate) fn check_route_time_intervals(
        &mut self,
        route: &ast::Route,
        intervals: &BTreeMap<String, Span>,
        heartbeat: Option<&str>,
        used: &mut BTreeSet<String>,
    ) -> Option<(Vec<String>, Vec<String>)> {
        let mut all_good = true;
        let known: Vec<&str> = intervals.keys().map(String::as_str).collect();
        let mut read = |checker: &mut Checker, names: &[Spanned<String>]| -> Vec<String> {
            let mut read_names = Vec::new();
            for name in names {
                used.insert(name.node.clone());
                if intervals.contains_key(&name.node) {
                    read_names.push(name.node.clone());
                    continue;
                }
                let mut diagnostic = codes::UNKNOWN_TIME_INTERVAL.at(
                    name.span,
                    format!("no time interval is named `{}`", name.node),
                );
                diagnostic = match did_you_mean(&name.node, known.iter().copied()) {
                    Some(suggestion) => diagnostic.with_help(format!("did you mean `{suggestion}`?")),
                    None => diagnostic.with_help(format!(
                        "define it in the routing block: `time_interval \"{}\" {{ weekdays = [\"sunday\"] times = [\"02:00-04:00\"] }}`",
                        name.node
                    )),
                };
                checker.push(diagnostic);
                all_good = false;
            }
            read_names
        };
        let mute = read(self, &route.mute_during);
        let active = read(self, &route.active_during);
        if let Some(heartbeat) = heartbeat {
            let first_interval = route.mute_during.first().or(route.active_during.first());
            let to_heartbeat = route
                .receivers
                .iter()
                .find(|receiver| receiver.node == heartbeat);
            if let (Some(interval), Some(receiver)) = (first_interval, to_heartbeat) {
                self.push(
                    codes::TIME_INTERVAL_ON_HEARTBEAT
                        .at(
                            interval.span,
                            "a time interval on a route to the heartbeat receiver",
                        )
                        .with_secondary(receiver.span, "the heartbeat receiver of the monitoring block")
                        .with_help(
                            "remove the interval: the heartbeat is never muted, or the heartbeat service pages at every window",
                        ),
                );
                all_good = false;
            }
        }
        all_good.then_some((mute, active))
    }

    /// W0650 for each interval no route names.
    pub(crate) fn warn_unused_time_intervals(
        &mut self,
        intervals: &BTreeMap<String, Span>,
        used: &BTreeSet<String>,
    ) {
        for (name, span) in intervals {
            if !used.contains(name) {
                self.push(
                    codes::UNUSED_TIME_INTERVAL
                        .at(*span, format!("no route is muted during `{name}`"))
                        .with_help(format!(
                            "attach it to a route: `route {{ team = \"...\" }} -> \"...\" mute_during \"{name}\"`, or remove it"
                        )),
                );
            }
        }
    }

    fn check_time_interval(
        &mut self,
        block: &ast::Block,
        name: &Spanned<String>,
    ) -> Option<ir::TimeInterval> {
        let fields = self.collect(&block.items, &TIME_INTERVAL_SCHEMA, name.span);
        let mut all_good = true;
        let mut specification = TimeIntervalSpec::default();
        if let Some(value) = fields.value("times") {
            specification.times = self.read_ranges("times", value, &mut all_good, |text| {
                let (start, end) = text.split_once('-').ok_or_else(|| {
                    format!("{text} is not a time range: write it as HH:MM-HH:MM")
                })?;
                timeinterval::parse_time_range(start, end)
            });
        }
        if let Some(value) = fields.value("weekdays") {
            specification.weekdays = self.read_ranges(
                "weekdays",
                value,
                &mut all_good,
                timeinterval::parse_weekday_range,
            );
        }
        if let Some(value) = fields.value("days_of_month") {
            specification.days_of_month = self.read_ranges(
                "days_of_month",
                value,
                &mut all_good,
                timeinterval::parse_day_of_month_range,
            );
        }
        if let Some(value) = fields.value("months") {
            specification.months = self.read_ranges("months", value, &mut all_good, |text| {
                let (begin, end) = timeinterval::parse_month_range(text)?;
                for month in [begin, end] {
                    if !(1..=12).contains(&month) {
                        return Err(format!(
                            "{month} is not a month from 1 to 12, so the range never matches"
                        ));
                    }
                }
                Ok((begin, end))
            });
        }
        if let Some(value) = fields.value("years") {
            specification.years = self.read_ranges(
                "years",
                value,
                &mut all_good,
                timeinterval::parse_year_range,
            );
        }
        if let Some(value) = fields.value("location") {
            match self.read_string("location", value) {
                Some(location) => match timeinterval::check_location(&location) {
                    Ok(()) => {
                        if !matches!(location.as_str(), "" | "UTC") {
                            self.push(
                                codes::TIME_ZONE_NOT_IN_ALERTMANAGER_CONFIG
                                    .at(value.span, "the AlertmanagerConfig manifest has no field for this zone, so it leaves this interval out")
                                    .with_help("write the window in UTC without `location` if you deploy the AlertmanagerConfig"),
                            );
                        }
                        specification.location = Some(location);
                    }
                    Err(message) => {
                        self.push(
                            codes::UNKNOWN_TIME_ZONE
                                .at(value.span, "Alertmanager cannot load this time zone")
                                .with_note(format!("Alertmanager says: {message}"))
                                .with_help(
                                    "name a zone of the IANA database, such as \"Europe/Berlin\", or leave `location` out for UTC",
                                ),
                        );
                        all_good = false;
                    }
                },
                None => all_good = false,
            }
        }
        let bounded = specification.times.is_some()
            || specification.weekdays.is_some()
            || specification.days_of_month.is_some()
            || specification.months.is_some()
            || specification.years.is_some();
        if all_good && !bounded {
            self.push(
                codes::TIME_INTERVAL_ALWAYS
                    .at(name.span, "this interval sets no time, so it covers every instant")
                    .with_help("say when the window is, as in `weekdays = [\"sunday\"]` and `times = [\"02:00-04:00\"]`"),
            );
        }
        all_good.then(|| ir::TimeInterval {
            name: name.node.clone(),
            specification,
            span: name.span,
        })
    }

    /// A string or a list of strings (whole numbers allowed, as `days_of_month
    /// = [1, -1]`), each parsed by `parse`; E0650 with its message otherwise.
    fn read_ranges<T>(
        &mut self,
        field: &str,
        value: &Spanned<Value>,
        all_good: &mut bool,
        parse: impl Fn(&str) -> Result<T, String>,
    ) -> Option<Vec<T>> {
        let elements = match &value.node {
            Value::List(elements) => elements.iter().collect(),
            _ => vec![value],
        };
        let mut ranges = Vec::new();
        let mut field_good = true;
        for element in elements {
            let text = match &element.node {
                Value::String(text) => text.clone(),
                Value::Number(number) if number.value.fract() == 0.0 => number.text.clone(),
                _ => match self.read_string(field, element) {
                    Some(text) => text,
                    None => {
                        field_good = false;
                        continue;
                    }
                },
            };
            match parse(&text) {
                Ok(range) => ranges.push(range),
                Err(message) => {
                    self.push(
                        codes::INVALID_TIME_INTERVAL
                            .at(
                                element.span,
                                format!("Alertmanager refuses this `{field}` entry"),
                            )
                            .with_note(format!("Alertmanager says: {message}"))
                            .with_help(format!(
                                "an entry of `{field}` is written as {}",
                                example(field)
                            )),
                    );
                    field_good = false;
                }
            }
        }
        if !field_good {
            *all_good = false;
        }
        field_good.then_some(ranges)
    }
}

fn example(field: &str) -> &'static str {
    match field {
        "times" => "\"02:00-04:00\" (HH:MM-HH:MM, from 00:00 to 24:00, the start first)",
        "weekdays" => "\"sunday\" or \"monday:friday\"",
        "days_of_month" => "\"1\", \"1:7\" or \"-1\" (the last day; no 0)",
        "months" => "\"march\", \"january:march\" or \"1:3\"",
        _ => "\"2026\" or \"2026:2027\"",
    }
}

static TIME_INTERVAL_SCHEMA: Schema = Schema {
    what: "a time interval",
    fields: &[
        attribute("times", "times = [\"02:00-04:00\"]"),
        attribute("weekdays", "weekdays = [\"monday:friday\"]"),
        attribute("days_of_month", "days_of_month = [\"1:7\", \"-1\"]"),
        attribute("months", "months = [\"january:march\"]"),
        attribute("years", "years = [\"2026\"]"),
        attribute("location", "location = \"Europe/Berlin\""),
    ],
    allows_routes: false,
    secrets: &[],
};
