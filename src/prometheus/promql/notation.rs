//! The series notation of promqltest `load` blocks and promtool's
//! `input_series`: `metric{label="v"} 0+10x100 _ stale 1e3 -Inf`.
//!
//! Invariants: expansion follows Prometheus' series grammar
//! (promql/parser/generated_parser.y, `series_item`): `a+bxn` yields n+1
//! values built by repeated addition (so float rounding matches Go), `axn`
//! yields n+1 copies of `a`, `_xn` yields n omitted points. Native histogram
//! points (`{{...}}`) are recognised and reported as [`SequenceValue::Histogram`]
//! so callers can refuse them explicitly. Unlike Prometheus, a sequence longer than
//! [`MAX_SEQUENCE_LENGTH`] points is refused with an error before it is allocated.

use std::fmt;

use super::value::{stale_nan, Labels, METRIC_NAME};
use crate::prometheus::model::names;

/// One point of an expanded sequence.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum SequenceValue {
    /// A float sample; the stale marker is `value::stale_nan()`.
    Value(f64),
    /// `_`: no sample at this step.
    Omitted,
    /// `{{...}}`: a native histogram sample, which this engine does not model.
    Histogram,
}

/// A parsed `metric{labels} values...` line.
#[derive(Clone, Debug, PartialEq)]
pub struct SeriesLine {
    pub labels: Labels,
    pub values: Vec<SequenceValue>,
}

/// Why a notation string could not be read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NotationError {
    pub message: String,
    /// The sequence is refused for its length ([`MAX_SEQUENCE_LENGTH`]), not its syntax.
    pub over_length_limit: bool,
}

impl fmt::Display for NotationError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for NotationError {}

/// Parses a whole series line: a label set in selector syntax, then values.
pub fn parse_series_line(line: &str) -> Result<SeriesLine, NotationError> {
    let (labels, rest) = parse_labels_prefix(line)?;
    let values = parse_sequence(rest)?;
    Ok(SeriesLine { labels, values })
}

/// Parses a label set written as a selector with equality matchers only:
/// `name`, `name{a="b"}`, `{__name__="name", a='b'}` or `{}`. Returns the
/// labels and the unparsed rest of the input.
pub fn parse_labels_prefix(input: &str) -> Result<(Labels, &str), NotationError> {
    let mut cursor = Cursor {
        text: input,
        position: 0,
    };
    cursor.skip_spaces();
    let mut pairs: Vec<(String, String)> = Vec::new();
    let metric_name = cursor.identifier(true);
    if !metric_name.is_empty() {
        pairs.push((METRIC_NAME.to_string(), metric_name.to_string()));
    }
    cursor.skip_spaces();
    if cursor.peek() == Some('{') && !cursor.rest().starts_with("{{") {
        cursor.position += 1;
        loop {
            cursor.skip_spaces();
            match cursor.peek() {
                Some('}') => {
                    cursor.position += 1;
                    break;
                }
                Some(',') => {
                    cursor.position += 1;
                    continue;
                }
                None => return Err(error(format!("unterminated label set in {input:?}"))),
                _ => {}
            }
            let name = if matches!(cursor.peek(), Some('"') | Some('\'') | Some('`')) {
                cursor.quoted()?
            } else {
                let name = cursor.identifier(false);
                if name.is_empty() {
                    return Err(error(format!("expected a label name in {input:?}")));
                }
                name.to_string()
            };
            cursor.skip_spaces();
            if cursor.peek() == Some('=') {
                cursor.position += 1;
                cursor.skip_spaces();
                let value = cursor.quoted()?;
                pairs.push((name, value));
            } else {
                // A lone quoted string is the metric name in UTF-8 selector syntax.
                pairs.push((METRIC_NAME.to_string(), name));
            }
        }
    } else if metric_name.is_empty() {
        return Err(error(format!(
            "expected a metric name or '{{' in {input:?}"
        )));
    }
    Ok((Labels::from_pairs(pairs), &input[cursor.position..]))
}

/// Expands a whitespace-separated value sequence such as `0+10x3 _ stale 7`.
pub fn parse_sequence(text: &str) -> Result<Vec<SequenceValue>, NotationError> {
    let mut values = Vec::new();
    for item in split_items(text) {
        expand_item(item, &mut values)?;
    }
    Ok(values)
}

/// Parses one number as Prometheus' series notation and PromQL accept it:
/// decimal, exponent, hexadecimal, `Inf`, `+Inf`, `-Inf`, `NaN`.
pub fn parse_number(text: &str) -> Result<f64, NotationError> {
    let (negative, unsigned) = match text.as_bytes().first() {
        Some(b'-') => (true, &text[1..]),
        Some(b'+') => (false, &text[1..]),
        _ => (false, text),
    };
    let magnitude = if unsigned.eq_ignore_ascii_case("inf") {
        f64::INFINITY
    } else if unsigned.eq_ignore_ascii_case("nan") {
        f64::NAN
    } else if let Some(hex) = unsigned
        .strip_prefix("0x")
        .or_else(|| unsigned.strip_prefix("0X"))
    {
        u64::from_str_radix(hex, 16)
            .map(|n| n as f64)
            .map_err(|_| error(format!("invalid number {text:?}")))?
    } else if unsigned.starts_with(|c: char| c.is_ascii_digit() || c == '.') {
        unsigned
            .parse::<f64>()
            .map_err(|_| error(format!("invalid number {text:?}")))?
    } else {
        return Err(error(format!("invalid number {text:?}")));
    };
    Ok(if negative { -magnitude } else { magnitude })
}

/// The most points one series may expand to (`0+1x5000000` is the longest): a series
/// is held in memory whole, and promtool or promqltest input that long is a mistake
/// (five million points are 9.5 years at one a minute).
pub const MAX_SEQUENCE_LENGTH: usize = 5_000_000;

fn expand_item(item: &str, out: &mut Vec<SequenceValue>) -> Result<(), NotationError> {
    if item.starts_with("{{") {
        // A histogram, possibly `{{..}}x3` or `{{..}}+{{..}}x3`: count the points.
        let repeat = item
            .rfind("}}x")
            .and_then(|position| item[position + 3..].parse::<usize>().ok());
        let count = match repeat {
            Some(times) => times.saturating_add(1),
            None => 1,
        };
        make_room(out, count, item)?;
        out.extend(std::iter::repeat_n(SequenceValue::Histogram, count));
        return Ok(());
    }
    if item == "_" {
        out.push(SequenceValue::Omitted);
        return Ok(());
    }
    if let Some(times) = item.strip_prefix("_x") {
        let times = parse_times(times, item)?;
        make_room(out, times, item)?;
        out.extend(std::iter::repeat_n(SequenceValue::Omitted, times));
        return Ok(());
    }
    if item == "stale" {
        out.push(SequenceValue::Value(stale_nan()));
        return Ok(());
    }
    let (head, times) = match item.rfind('x') {
        Some(position)
            if position > 0
                && !item[position + 1..].is_empty()
                && item[position + 1..].bytes().all(|b| b.is_ascii_digit()) =>
        {
            (
                &item[..position],
                Some(parse_times(&item[position + 1..], item)?),
            )
        }
        _ => (item, None),
    };
    let (start, increment) = split_increment(head);
    let mut current = if start == "stale" {
        stale_nan()
    } else {
        parse_number(start)?
    };
    let increment = match increment {
        Some(text) => Some(parse_number(text)?),
        None => None,
    };
    match (increment, times) {
        (None, None) => out.push(SequenceValue::Value(current)),
        (None, Some(times)) => {
            make_room(out, times.saturating_add(1), item)?;
            out.extend(std::iter::repeat_n(
                SequenceValue::Value(current),
                times + 1,
            ));
        }
        (Some(increment), Some(times)) => {
            make_room(out, times.saturating_add(1), item)?;
            out.push(SequenceValue::Value(current));
            for _ in 0..times {
                current += increment;
                out.push(SequenceValue::Value(current));
            }
        }
        (Some(_), None) => {
            return Err(error(format!(
                "invalid value {item:?}: an increment needs a repeat count (a+bxn)"
            )))
        }
    }
    Ok(())
}

/// Refuses to grow a sequence past [`MAX_SEQUENCE_LENGTH`], before allocating.
fn make_room(out: &mut Vec<SequenceValue>, count: usize, item: &str) -> Result<(), NotationError> {
    if out.len().saturating_add(count) > MAX_SEQUENCE_LENGTH {
        return Err(NotationError {
            over_length_limit: true,
            ..error(format!(
                "{item:?} makes the series longer than {MAX_SEQUENCE_LENGTH} points, the most mlslo expands"
            ))
        });
    }
    out.reserve(count);
    Ok(())
}

/// Splits `a+b` / `a-b` into the start and the signed increment. A sign at
/// the very start, or right after an exponent marker, belongs to a number.
fn split_increment(head: &str) -> (&str, Option<&str>) {
    let bytes = head.as_bytes();
    for index in 1..bytes.len() {
        if (bytes[index] == b'+' || bytes[index] == b'-')
            && !matches!(bytes[index - 1], b'e' | b'E')
        {
            let increment = &head[index..];
            let increment = increment.strip_prefix('+').unwrap_or(increment);
            return (&head[..index], Some(increment));
        }
        // `1e+3` is one number, but `Inf+1` has no exponent: only digits
        // before an `e` make it an exponent marker, which the check above
        // approximates well enough because `e` ends no other literal.
    }
    (head, None)
}

fn parse_times(text: &str, item: &str) -> Result<usize, NotationError> {
    text.parse::<usize>()
        .map_err(|_| error(format!("invalid repeat count in {item:?}")))
}

/// Splits on whitespace, keeping `{{ ... }}` histogram literals whole.
fn split_items(text: &str) -> Vec<&str> {
    let mut items = Vec::new();
    let bytes = text.as_bytes();
    let mut index = 0;
    while index < bytes.len() {
        if bytes[index].is_ascii_whitespace() {
            index += 1;
            continue;
        }
        let start = index;
        let mut depth = 0usize;
        while index < bytes.len() {
            match bytes[index] {
                b'{' => depth += 1,
                b'}' => depth = depth.saturating_sub(1),
                byte if byte.is_ascii_whitespace() && depth == 0 => break,
                _ => {}
            }
            index += 1;
        }
        items.push(&text[start..index]);
    }
    items
}

struct Cursor<'a> {
    text: &'a str,
    position: usize,
}

impl<'a> Cursor<'a> {
    fn rest(&self) -> &'a str {
        &self.text[self.position..]
    }

    fn peek(&self) -> Option<char> {
        self.rest().chars().next()
    }

    fn skip_spaces(&mut self) {
        let rest = self.rest();
        self.position += rest.len() - rest.trim_start().len();
    }

    /// A metric name (colons allowed) or a label name.
    fn identifier(&mut self, allow_colon: bool) -> &'a str {
        let rest = self.rest();
        let length = rest
            .char_indices()
            .find(|&(index, c)| {
                let byte = u8::try_from(c).unwrap_or(0);
                !(if allow_colon {
                    names::is_metric_name_byte(byte, index == 0)
                } else {
                    names::is_label_name_byte(byte, index == 0)
                })
            })
            .map(|(index, _)| index)
            .unwrap_or(rest.len());
        self.position += length;
        &rest[..length]
    }

    /// A Go-style quoted string: `"..."` with escapes, `'...'`, or `` `...` ``.
    fn quoted(&mut self) -> Result<String, NotationError> {
        let rest = self.rest();
        let quote = rest
            .chars()
            .next()
            .ok_or_else(|| error("expected a quoted string".to_string()))?;
        if !matches!(quote, '"' | '\'' | '`') {
            return Err(error(format!("expected a quoted string at {rest:?}")));
        }
        let mut value = String::new();
        let mut chars = rest[1..].char_indices();
        while let Some((index, c)) = chars.next() {
            if c == quote {
                self.position += 1 + index + 1;
                return Ok(value);
            }
            if c == '\\' && quote != '`' {
                let (_, escaped) = chars
                    .next()
                    .ok_or_else(|| error("unterminated escape".to_string()))?;
                match escaped {
                    'n' => value.push('\n'),
                    't' => value.push('\t'),
                    'r' => value.push('\r'),
                    '\\' => value.push('\\'),
                    '"' => value.push('"'),
                    '\'' => value.push('\''),
                    other => {
                        value.push('\\');
                        value.push(other);
                    }
                }
            } else {
                value.push(c);
            }
        }
        Err(error(format!("unterminated string in {rest:?}")))
    }
}

fn error(message: String) -> NotationError {
    NotationError {
        message,
        over_length_limit: false,
    }
}

/// Prometheus' lexer error for a series line (`metric{labels} values`) whose label set
/// holds a character its lexer refuses inside braces, as promtool prints it:
/// `1:COLUMN: parse error: unexpected character inside braces: 'C'` (promtool's series
/// errors always say line 1). `None` when the braces hold only what the lexer accepts
/// there, or when the label set has no end: those errors are worded by the caller.
pub fn prometheus_brace_error(line: &str) -> Option<String> {
    let mut quote: Option<char> = None;
    let mut escaped = false;
    let mut inside = false;
    // A digit may continue a label name but not start a token.
    let mut in_name = false;
    for (offset, character) in line.char_indices() {
        if let Some(open) = quote {
            match character {
                _ if escaped => escaped = false,
                '\\' if open != '`' => escaped = true,
                c if c == open => quote = None,
                _ => {}
            }
            continue;
        }
        if !inside {
            inside = character == '{';
            continue;
        }
        let continues_name = in_name;
        in_name = character.is_ascii_alphanumeric() || character == '_';
        match character {
            '}' => return None,
            '"' | '\'' | '`' => quote = Some(character),
            c if c.is_ascii_alphabetic() || c == '_' => {}
            c if c.is_ascii_digit() && continues_name => {}
            c if c.is_whitespace() => {}
            '=' | '!' | '~' | ',' => {}
            c => {
                return Some(format!(
                    "1:{}: parse error: unexpected character inside braces: {}",
                    offset + 1,
                    crate::prometheus::model::go_quote::quote_rune(c)
                ))
            }
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::prometheus::promql::value::is_stale_nan;

    fn floats(text: &str) -> Vec<Option<f64>> {
        parse_sequence(text)
            .expect("test input is valid notation")
            .into_iter()
            .map(|value| match value {
                SequenceValue::Value(v) => Some(v),
                _ => None,
            })
            .collect()
    }

    #[test]
    fn absurd_repeat_counts_are_refused_before_allocating() {
        assert_eq!(
            parse_sequence(&format!("0+1x{}", MAX_SEQUENCE_LENGTH - 1)).map(|values| values.len()),
            Ok(MAX_SEQUENCE_LENGTH)
        );
        for text in [
            "1.3x52560002",
            "0+1x5000000",
            "_x99999999999",
            "1 2x18446744073709551615",
            "{{schema:0 sum:1}}x18446744073709551615",
        ] {
            let message = parse_sequence(text).map(|_| ()).unwrap_err().to_string();
            assert!(message.contains("5000000 points"), "{text}: {message}");
        }
    }

    #[test]
    fn increasing_sequence_has_n_plus_one_points() {
        assert_eq!(
            floats("0+10x3"),
            vec![Some(0.0), Some(10.0), Some(20.0), Some(30.0)]
        );
    }

    #[test]
    fn decreasing_sequence_and_negative_start() {
        assert_eq!(floats("1-2x2"), vec![Some(1.0), Some(-1.0), Some(-3.0)]);
        assert_eq!(floats("-1+1x1"), vec![Some(-1.0), Some(0.0)]);
    }

    #[test]
    fn repeat_without_increment_repeats_n_plus_one_times() {
        assert_eq!(floats("5x3"), vec![Some(5.0); 4]);
    }

    #[test]
    fn blanks_repeat_n_times() {
        assert_eq!(
            parse_sequence("_x3 _").expect("valid"),
            vec![SequenceValue::Omitted; 4]
        );
    }

    #[test]
    fn stale_infinities_nan_and_exponents() {
        let values = floats("stale Inf -Inf NaN 1e3 1e-3+1e-3x1 0x2");
        assert!(is_stale_nan(values[0].expect("stale is a value")));
        assert_eq!(values[1], Some(f64::INFINITY));
        assert_eq!(values[2], Some(f64::NEG_INFINITY));
        assert!(values[3].expect("NaN is a value").is_nan());
        assert_eq!(values[4], Some(1000.0));
        assert_eq!(values[5], Some(0.001));
        assert_eq!(values[6], Some(0.002));
        // In series notation `0x2` is zero repeated, never hexadecimal.
        assert_eq!(values[7..], [Some(0.0); 3]);
    }

    #[test]
    fn repeated_addition_matches_go_rounding() {
        let values = floats("0+0.1x3");
        assert_eq!(values[3], Some(0.1 + 0.1 + 0.1));
    }

    #[test]
    fn histograms_are_recognised_with_repeats() {
        let values = parse_sequence("1 {{schema:0 sum:1 count:1}}x2 2").expect("valid");
        assert_eq!(values.len(), 5);
        assert_eq!(values[1], SequenceValue::Histogram);
        assert_eq!(values[4], SequenceValue::Value(2.0));
    }

    #[test]
    fn series_line_with_labels() {
        let line =
            parse_series_line(r#"http_requests{job="api", path="/x\"y"} 1 2"#).expect("valid");
        assert_eq!(line.labels.metric_name(), "http_requests");
        assert_eq!(line.labels.get("job"), "api");
        assert_eq!(line.labels.get("path"), "/x\"y");
        assert_eq!(line.values.len(), 2);
    }

    #[test]
    fn braces_only_and_utf8_names() {
        let (labels, rest) = parse_labels_prefix(r#"{__name__="a", b="c"} 1"#).expect("valid");
        assert_eq!(labels.metric_name(), "a");
        assert_eq!(rest.trim(), "1");
        let (labels, _) = parse_labels_prefix(r#"{"my.metric", b="c"}"#).expect("valid");
        assert_eq!(labels.metric_name(), "my.metric");
        let (labels, _) = parse_labels_prefix("{} 1").expect("valid");
        assert!(labels.is_empty());
    }

    #[test]
    fn garbage_is_an_error_not_a_panic() {
        assert!(parse_sequence("abc").is_err());
        assert!(parse_sequence("1+2").is_err());
        assert!(parse_series_line("{a=}").is_err());
    }
}
