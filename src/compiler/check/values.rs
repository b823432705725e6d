//! Units as types: reading attribute values as durations, percentages, plain
//! numbers (ratios), counts, strings, booleans, counts per window and lists, and
//! the rules of single values (positive durations, bounded numbers, strings
//! without control characters).
//!
//! The language has no implicit conversion between units. A value of the wrong
//! kind is E0301 "mismatched types", whose label names the expected unit with an
//! example (`expected a duration like 5m, found a percentage`) and whose help
//! shows the likely intended spelling when there is one (`0.999` where a
//! percentage is due suggests `99.9%`; a bare `5` where a duration is due
//! suggests `5m`). Percentages become exact fractions (`99.9%` is `0.999`);
//! numbers keep the digits the user wrote (see `ir::decimal`).
//!
//! Invariant: every reader either returns a value or records exactly one
//! diagnostic and returns `None`; callers never report the same value twice.

use crate::base::diagnostic::{Span, Spanned};
use crate::compiler::check::checker::Checker;
use crate::compiler::check::codes;
use crate::compiler::ir::{Decimal, Duration};
use crate::compiler::syntax::ast::{self, Value};
use crate::prometheus::model::duration::{ModelDuration, MAX_DURATION_MILLIS};

/// What a field expects, for messages: `a duration like 5m`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Unit {
    Duration,
    Percent,
    Number,
    WholeNumber,
    String,
    Bool,
    PerWindow,
    Selector,
    Identifier,
}

impl Unit {
    pub fn expectation(self) -> &'static str {
        match self {
            Unit::Duration => "a duration like 5m",
            Unit::Percent => "a percentage like 99.9%",
            Unit::Number => "a number like 0.3",
            Unit::WholeNumber => "a whole number like 10",
            Unit::String => "a string like \"text\"",
            Unit::Bool => "`true` or `false`",
            Unit::PerWindow => "a count per window like 100 per 5m",
            Unit::Selector => "a metric selector like http_requests_total{job=\"api\"}",
            Unit::Identifier => "a label name like service",
        }
    }
}

impl Checker {
    /// E0301 with a conversion hint when the intent is clear.
    pub fn mismatch(&mut self, field: &str, value: &Spanned<Value>, expected: Unit) {
        let found = value.node.describe();
        let mut diagnostic = codes::MISMATCHED_TYPES.at(
            value.span,
            format!("expected {}, found {found}", expected.expectation()),
        );
        if let Some(hint) = conversion_hint(&value.node, expected) {
            diagnostic = diagnostic.with_help(hint);
        } else {
            diagnostic =
                diagnostic.with_help(format!("`{field}` takes {}", expected.expectation()));
        }
        self.push(diagnostic);
    }

    pub fn decimal_of(&mut self, number: &ast::Number, span: Span) -> Option<Decimal> {
        match Decimal::parse(&number.text) {
            Some(decimal) => Some(decimal),
            None => {
                self.report_too_precise(&number.text, span);
                None
            }
        }
    }

    fn report_too_precise(&mut self, text: &str, span: Span) {
        self.push(
            codes::NUMBER_NOT_EXACT
                .at(span, format!("`{text}` has too many digits"))
                .with_help(
                    "write the number with at most 30 digits after the decimal point \
                 (28 for a percentage) and at most 38 significant digits",
                ),
        );
    }

    pub fn read_string(&mut self, field: &str, value: &Spanned<Value>) -> Option<String> {
        match &value.node {
            Value::String(text) => Some(text.clone()),
            _ => {
                self.mismatch(field, value, Unit::String);
                None
            }
        }
    }

    pub fn read_bool(&mut self, field: &str, value: &Spanned<Value>) -> Option<bool> {
        match &value.node {
            Value::Bool(flag) => Some(*flag),
            _ => {
                self.mismatch(field, value, Unit::Bool);
                None
            }
        }
    }

    pub fn read_duration(&mut self, field: &str, value: &Spanned<Value>) -> Option<Duration> {
        match &value.node {
            Value::Duration(duration) => self.within_prometheus_range(duration.millis, value.span),
            _ => {
                self.mismatch(field, value, Unit::Duration);
                None
            }
        }
    }

    /// A percentage as a fraction: `99.9%` is `0.999`.
    pub fn read_percent(&mut self, field: &str, value: &Spanned<Value>) -> Option<Decimal> {
        match &value.node {
            Value::Percent(number) => {
                let percent = self.decimal_of(number, value.span)?;
                match percent.scaled_by_power_of_ten(-2) {
                    Some(fraction) => Some(fraction),
                    None => {
                        self.report_too_precise(&number.text, value.span);
                        None
                    }
                }
            }
            _ => {
                self.mismatch(field, value, Unit::Percent);
                None
            }
        }
    }

    /// A plain number (a ratio or a threshold in the metric's own unit).
    pub fn read_number(&mut self, field: &str, value: &Spanned<Value>) -> Option<Decimal> {
        match &value.node {
            Value::Number(number) => self.decimal_of(number, value.span),
            _ => {
                self.mismatch(field, value, Unit::Number);
                None
            }
        }
    }

    /// A non-negative whole number (a count).
    pub fn read_count(&mut self, field: &str, value: &Spanned<Value>) -> Option<u64> {
        match &value.node {
            Value::Number(number) => {
                let decimal = self.decimal_of(number, value.span)?;
                self.whole_count(decimal, value.span)
            }
            _ => {
                self.mismatch(field, value, Unit::WholeNumber);
                None
            }
        }
    }

    pub fn whole_count(&mut self, decimal: Decimal, span: Span) -> Option<u64> {
        match decimal.to_i64().and_then(|whole| u64::try_from(whole).ok()) {
            Some(count) => Some(count),
            None => {
                self.push(
                    codes::NOT_A_WHOLE_NUMBER
                        .at(
                            span,
                            format!("`{decimal}` is not a whole number of at least 0"),
                        )
                        .with_help("counts are whole numbers such as 0, 10 or 100"),
                );
                None
            }
        }
    }

    /// `100 per 5m` as (count, window).
    pub fn read_per_window(
        &mut self,
        field: &str,
        value: &Spanned<Value>,
    ) -> Option<(Decimal, Duration, Span)> {
        match &value.node {
            Value::PerWindow { count, window } => {
                let count = self.decimal_of(count, value.span)?;
                let window_duration =
                    self.within_prometheus_range(window.node.millis, window.span)?;
                Some((count, window_duration, window.span))
            }
            _ => {
                self.mismatch(field, value, Unit::PerWindow);
                None
            }
        }
    }

    /// The verbatim text of a metric selector.
    pub fn read_selector_text<'a>(
        &mut self,
        field: &str,
        value: &'a Spanned<Value>,
    ) -> Option<&'a str> {
        match &value.node {
            Value::Selector(text) => Some(text),
            _ => {
                self.mismatch(field, value, Unit::Selector);
                None
            }
        }
    }

    /// A list whose elements are each read by `read`; one diagnostic per bad element.
    pub fn read_list<T>(
        &mut self,
        field: &str,
        value: &Spanned<Value>,
        element: Unit,
        mut read: impl FnMut(&mut Checker, &Spanned<Value>) -> Option<T>,
    ) -> Option<Vec<T>> {
        match &value.node {
            Value::List(elements) => {
                let mut all_good = true;
                let mut read_values = Vec::with_capacity(elements.len());
                for item in elements {
                    match read(self, item) {
                        Some(read_value) => read_values.push(read_value),
                        None => all_good = false,
                    }
                }
                all_good.then_some(read_values)
            }
            _ => {
                let found = value.node.describe();
                self.push(
                    codes::MISMATCHED_TYPES
                        .at(
                            value.span,
                            format!("expected a list of {}, found {found}", plural(element)),
                        )
                        .with_help(format!(
                            "`{field}` takes a list in square brackets: `{field} = [...]`"
                        )),
                );
                None
            }
        }
    }

    /// A label name given bare (`service`) or quoted (`"service"`), as in
    /// `group_by` lists; validated against Prometheus' label-name rule.
    pub fn read_label_name(&mut self, field: &str, value: &Spanned<Value>) -> Option<String> {
        let name = match &value.node {
            Value::Selector(text) | Value::String(text) => text.clone(),
            _ => {
                self.mismatch(field, value, Unit::Identifier);
                return None;
            }
        };
        self.check_label_name(&name, value.span).then_some(name)
    }

    /// A string that is not empty and holds no control character but tabs and
    /// line breaks.
    pub fn read_nonempty_string(&mut self, name: &str, value: &Spanned<Value>) -> Option<String> {
        let text = self.read_string(name, value)?;
        (self.check_not_empty(name, &text, value.span)
            && self.check_control_characters(&text, value.span, true))
        .then_some(text)
    }

    /// E0304 for control characters; tabs always pass, newlines where allowed
    /// (free text such as descriptions).
    pub fn check_control_characters(
        &mut self,
        text: &str,
        span: Span,
        allow_newlines: bool,
    ) -> bool {
        let bad = text.chars().find(|character| {
            character.is_control()
                && *character != '\t'
                && !(allow_newlines && (*character == '\n' || *character == '\r'))
        });
        match bad {
            None => true,
            Some(character) => {
                self.push(
                    codes::CONTROL_CHARACTER.at(span,
                        format!("this string contains U+{:04X}", u32::from(character)),
                    )
                    .with_help(if allow_newlines {
                        "remove the control character; only tabs and line breaks are allowed here"
                    } else {
                        "remove the control character; label values may contain tabs but no \
                         line breaks or other control characters"
                    }),
                );
                false
            }
        }
    }

    /// W0004 for `{{` in text that becomes a label value or an annotation.
    pub fn warn_template_delimiters(&mut self, text: &str, span: Span) {
        if text.contains("{{") {
            self.push(
                codes::TEMPLATE_DELIMITERS.at(span,
                    "`{{` here would start a Prometheus or Alertmanager template",
                )
                .with_help(
                    "mlslo keeps this text literal (emitters escape it), so the braces reach the \
                     alert as written; remove them if you meant a template: templates are not \
                     supported here",
                ),
            );
        }
    }

    /// E0309 for `""` where a value is needed.
    pub fn check_not_empty(&mut self, field: &str, text: &str, span: Span) -> bool {
        if text.trim().is_empty() {
            self.push(
                codes::EMPTY_STRING
                    .at(span, format!("`{field}` cannot be empty"))
                    .with_help(format!(
                        "give `{field}` a value, or remove the field if it is optional"
                    )),
            );
            false
        } else {
            true
        }
    }

    /// E0632 unless Prometheus can hold the duration (an int64 of nanoseconds).
    fn within_prometheus_range(&mut self, millis: i64, span: Span) -> Option<Duration> {
        if millis <= MAX_DURATION_MILLIS {
            return Some(Duration::from_millis(millis));
        }
        self.push(
            codes::DURATION_OUT_OF_RANGE
                .at(
                    span,
                    format!("{} is longer than Prometheus can hold", ModelDuration(millis)),
                )
                .with_note(format!(
                    "Prometheus, promtool and Alertmanager count durations in int64 nanoseconds: at most {} (about 292 years)",
                    ModelDuration(MAX_DURATION_MILLIS)
                ))
                .with_help("use a duration of at most 292y"),
        );
        None
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

    pub fn out_of_range(&mut self, span: Span, label: String, help: &str) {
        self.push(
            codes::VALUE_OUT_OF_RANGE
                .at(span, label)
                .with_help(help.to_owned()),
        );
    }
}

fn plural(unit: Unit) -> &'static str {
    match unit {
        Unit::Duration => "durations like 5m",
        Unit::Percent => "percentages like 99.9%",
        Unit::Number | Unit::WholeNumber => "numbers",
        Unit::String => "strings like \"text\"",
        Unit::Bool => "booleans",
        Unit::PerWindow => "counts per window",
        Unit::Selector => "metric selectors",
        Unit::Identifier => "label names like service",
    }
}

/// The likely intended spelling of a value of the wrong unit.
fn conversion_hint(value: &Value, expected: Unit) -> Option<String> {
    match (value, expected) {
        (Value::Number(number), Unit::Percent) => {
            let decimal = Decimal::parse(&number.text)?;
            let percent = decimal.scaled_by_power_of_ten(2)?;
            Some(format!(
                "percentages are written with `%`: write `{percent}%` for the ratio {decimal}"
            ))
        }
        (Value::Percent(number), Unit::Number) => {
            let decimal = Decimal::parse(&number.text)?.scaled_by_power_of_ten(-2)?;
            Some(format!(
                "this field is a plain number (a ratio, not a percentage): write `{decimal}`"
            ))
        }
        (Value::Number(number), Unit::Duration) => Some(format!(
            "durations need a unit (ms, s, m, h, d, w, y): for example `{}m` or `{}s`",
            number.text, number.text
        )),
        (Value::String(text), Unit::Selector) => Some(format!(
            "metric selectors are written without quotes: `{text}`"
        )),
        (Value::Selector(text), Unit::String) => Some(format!("strings are quoted: `\"{text}\"`")),
        (Value::String(text), Unit::Duration | Unit::Percent | Unit::Number) => Some(format!(
            "remove the quotes: `{text}` is text here, not {}",
            expected.expectation()
        )),
        (Value::String(text), Unit::Bool) if text == "true" || text == "false" => {
            Some(format!("remove the quotes: `{text}`"))
        }
        (Value::Number(number), Unit::PerWindow) => Some(format!(
            "say over which window: for example `{} per 5m`",
            number.text
        )),
        _ => None,
    }
}
