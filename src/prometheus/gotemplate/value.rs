//! The dynamic values a template computes with, standing in for Go's `reflect.Value`.
//!
//! Invariants: every variant maps to one Go type (see `type_name`), so error messages
//! name the type Go would name; maps are `BTreeMap`, so iteration is in sorted key
//! order exactly as Go's `range` and `fmt` print maps.

use std::collections::BTreeMap;
use std::sync::Arc;

use crate::prometheus::model::go_number;

/// One element of a query result: Prometheus' `template.sample`.
#[derive(Clone, Debug, PartialEq)]
pub struct Sample {
    pub labels: BTreeMap<String, String>,
    pub value: f64,
}

/// A Go struct value with exported fields in declaration order.
#[derive(Clone, Debug, PartialEq)]
pub struct StructValue {
    /// Go's name for the type, used in error messages (`can't evaluate field X in type T`).
    pub type_name: String,
    pub fields: Vec<(String, Value)>,
}

/// A UTC instant with nanosecond precision: Go's `*time.Time` as `toTime` returns it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Time {
    pub seconds: i64,
    /// Always in `0..1_000_000_000`.
    pub nanos: u32,
}

#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    /// Go's invalid `reflect.Value` (a missing field of nil data): prints `<no value>`.
    NoValue,
    /// A nil `interface{}`, as the `nil` literal passes it to a function.
    Nil,
    Bool(bool),
    /// Go `int`.
    Int(i64),
    /// Go `float64`.
    Float(f64),
    String(String),
    /// `html/template.HTML`, what `safeHtml` returns.
    Html(String),
    /// `map[string]string`: a missing key reads as "" under `missingkey=zero`. Shared,
    /// because templates pass `$labels` around constantly and clones must be cheap.
    StringMap(Arc<BTreeMap<String, String>>),
    /// `map[string]interface {}`: a missing key reads as `<no value>`.
    Map(Arc<BTreeMap<String, Value>>),
    /// `[]interface {}`.
    List(Vec<Value>),
    /// `template.queryResult`, what `query` returns: pointers, so identity is kept
    /// (Go's `eq` compares two samples by address).
    Samples(Vec<Arc<Sample>>),
    /// `*template.sample`, what `first` returns.
    Sample(Arc<Sample>),
    Struct(Arc<StructValue>),
    /// `*time.Time`.
    Time(Time),
    /// Go `complex128` (real, imaginary), from literals like `1i` or `1+2i`.
    Complex(f64, f64),
}

impl Value {
    /// Go's `%T` of the value.
    pub fn type_name(&self) -> String {
        match self {
            Value::NoValue | Value::Nil => "<nil>".to_string(),
            Value::Bool(_) => "bool".to_string(),
            Value::Int(_) => "int".to_string(),
            Value::Float(_) => "float64".to_string(),
            Value::String(_) => "string".to_string(),
            Value::Html(_) => "template.HTML".to_string(),
            Value::StringMap(_) => "map[string]string".to_string(),
            Value::Map(_) => "map[string]interface {}".to_string(),
            Value::List(_) => "[]interface {}".to_string(),
            Value::Samples(_) => "template.queryResult".to_string(),
            Value::Sample(_) => "*template.sample".to_string(),
            Value::Struct(s) => s.type_name.clone(),
            Value::Time(_) => "*time.Time".to_string(),
            Value::Complex(..) => "complex128".to_string(),
        }
    }

    /// Go's `isTrue`: the empty value of a type is false. Never fails for our types.
    pub fn is_true(&self) -> bool {
        match self {
            Value::NoValue | Value::Nil => false,
            Value::Bool(b) => *b,
            Value::Int(i) => *i != 0,
            Value::Float(f) => *f != 0.0,
            Value::String(s) | Value::Html(s) => !s.is_empty(),
            Value::StringMap(m) => !m.is_empty(),
            Value::Map(m) => !m.is_empty(),
            Value::List(l) => !l.is_empty(),
            Value::Samples(s) => !s.is_empty(),
            Value::Sample(_) | Value::Struct(_) | Value::Time(_) => true,
            Value::Complex(re, im) => *re != 0.0 || *im != 0.0,
        }
    }

    pub fn string(s: impl Into<String>) -> Value {
        Value::String(s.into())
    }
}

impl Time {
    /// Normalises seconds and a possibly negative nanosecond count, as `time.Unix` does.
    pub fn from_unix(seconds: i64, nanos: i64) -> Time {
        let total_seconds = seconds.saturating_add(nanos.div_euclid(1_000_000_000));
        let nanos = nanos.rem_euclid(1_000_000_000) as u32;
        Time {
            seconds: total_seconds,
            nanos,
        }
    }

    /// Prometheus' `floatToTime`: seconds as a float, truncated to milliseconds.
    pub fn from_float_seconds(v: f64) -> Result<Time, String> {
        if v.is_nan() || v.is_infinite() {
            return Err("value is NaN or Inf".to_string());
        }
        let nanos = v * 1e9;
        // Go compares against float64(math.MaxInt64), which rounds up to 2^63.
        const TWO_POW_63: f64 = 9_223_372_036_854_775_808.0;
        if !(-TWO_POW_63..=TWO_POW_63).contains(&nanos) {
            return Err(format!(
                "{} cannot be represented as a nanoseconds timestamp since it overflows int64",
                go_number::format_float(v, 'g', None)
            ));
        }
        // Go's int64(timestamp) saturates differently per platform at exactly 2^63; the
        // check above excludes everything beyond, and `as` saturates, never panics.
        let nanos = nanos as i64;
        let millis = nanos / 1_000_000;
        Ok(Time::from_unix(millis / 1000, (millis % 1000) * 1_000_000))
    }

    /// Civil date and time of day in UTC.
    fn civil(&self) -> (i64, u32, u32, u32, u32, u32) {
        let days = self.seconds.div_euclid(86_400);
        let secs_of_day = self.seconds.rem_euclid(86_400);
        let (year, month, day) = crate::base::calendar::civil_from_days(days);
        let (month, day) = (month as u32, day as u32);
        (
            year,
            month,
            day,
            (secs_of_day / 3600) as u32,
            (secs_of_day / 60 % 60) as u32,
            (secs_of_day % 60) as u32,
        )
    }

    fn weekday(&self) -> usize {
        // 1970-01-01 was a Thursday (index 4, Sunday = 0).
        (self.seconds.div_euclid(86_400) + 4).rem_euclid(7) as usize
    }

    /// Go's `time.Time.String()` for a UTC time.
    pub fn go_string(&self) -> String {
        self.format("2006-01-02 15:04:05.999999999 -0700 MST")
    }

    /// Go's `time.Time.Format` for a UTC time and the common layout elements.
    pub fn format(&self, layout: &str) -> String {
        const MONTHS: [&str; 12] = [
            "January",
            "February",
            "March",
            "April",
            "May",
            "June",
            "July",
            "August",
            "September",
            "October",
            "November",
            "December",
        ];
        const DAYS: [&str; 7] = [
            "Sunday",
            "Monday",
            "Tuesday",
            "Wednesday",
            "Thursday",
            "Friday",
            "Saturday",
        ];
        let (year, month, day, hour, minute, second) = self.civil();
        let month_name = MONTHS[(month as usize).saturating_sub(1) % 12];
        let day_name = DAYS[self.weekday()];
        let hour12 = if hour % 12 == 0 { 12 } else { hour % 12 };
        let mut out = String::new();
        let mut rest = layout;
        // Longest elements first, as Go's nextStdChunk disambiguates them.
        let elements: &[&str] = &[
            "January",
            "Monday",
            "2006",
            "-07:00:00",
            "-0700",
            "-07:00",
            "-07",
            "Z07:00",
            "Z0700",
            "Jan",
            "Mon",
            "MST",
            "002",
            "01",
            "02",
            "_2",
            "03",
            "04",
            "05",
            "06",
            "15",
            "PM",
            "pm",
            "1",
            "2",
            "3",
            "4",
            "5",
        ];
        while !rest.is_empty() {
            if let Some(frac) = fraction_element(rest) {
                let (len, digits, trim) = frac;
                let text = format!("{:09}", self.nanos);
                let mut digits_text = text[..digits.min(9)].to_string();
                if trim {
                    while digits_text.ends_with('0') {
                        digits_text.pop();
                    }
                    if !digits_text.is_empty() {
                        out.push('.');
                        out.push_str(&digits_text);
                    }
                } else {
                    out.push('.');
                    out.push_str(&digits_text);
                }
                rest = &rest[len..];
                continue;
            }
            let Some(element) = elements.iter().find(|e| rest.starts_with(**e)) else {
                let ch = rest.chars().next().unwrap_or(' ');
                out.push(ch);
                rest = &rest[ch.len_utf8()..];
                continue;
            };
            let text = match *element {
                "January" => month_name.to_string(),
                "Monday" => day_name.to_string(),
                "2006" => format!("{year:04}"),
                "-07:00:00" => "+00:00:00".to_string(),
                "-0700" => "+0000".to_string(),
                "-07:00" => "+00:00".to_string(),
                "-07" => "+00".to_string(),
                "Z07:00" | "Z0700" => "Z".to_string(),
                "Jan" => month_name[..3].to_string(),
                "Mon" => day_name[..3].to_string(),
                "MST" => "UTC".to_string(),
                "002" => {
                    let (y, _, _, _, _, _) = self.civil();
                    let jan1 = crate::base::calendar::days_from_civil(y, 1, 1);
                    format!("{:03}", self.seconds.div_euclid(86_400) - jan1 + 1)
                }
                "01" => format!("{month:02}"),
                "02" => format!("{day:02}"),
                "_2" => format!("{day:>2}"),
                "03" => format!("{hour12:02}"),
                "04" => format!("{minute:02}"),
                "05" => format!("{second:02}"),
                "06" => format!("{:02}", year.rem_euclid(100)),
                "15" => format!("{hour:02}"),
                "PM" => (if hour >= 12 { "PM" } else { "AM" }).to_string(),
                "pm" => (if hour >= 12 { "pm" } else { "am" }).to_string(),
                "1" => month.to_string(),
                "2" => day.to_string(),
                "3" => hour12.to_string(),
                "4" => minute.to_string(),
                "5" => second.to_string(),
                other => other.to_string(),
            };
            out.push_str(&text);
            rest = &rest[element.len()..];
        }
        out
    }
}

/// `.000`/`,000` (fixed digits) or `.999` (trailing zeros trimmed) after a seconds field.
fn fraction_element(rest: &str) -> Option<(usize, usize, bool)> {
    let bytes = rest.as_bytes();
    if bytes.len() < 2 || (bytes[0] != b'.' && bytes[0] != b',') {
        return None;
    }
    let digit = bytes[1];
    if digit != b'0' && digit != b'9' {
        return None;
    }
    let count = bytes[1..].iter().take_while(|b| **b == digit).count();
    // Go only treats it as a fraction when no further digit follows.
    if bytes.get(1 + count).is_some_and(u8::is_ascii_digit) {
        return None;
    }
    Some((1 + count, count, digit == b'9'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn go_time_string() {
        let t = Time::from_float_seconds(1435065584.128).expect("finite");
        assert_eq!(t.go_string(), "2015-06-23 13:19:44.128 +0000 UTC");
        assert_eq!(t.format("2006"), "2015");
        assert_eq!(
            Time::from_float_seconds(-1.0).expect("finite").go_string(),
            "1969-12-31 23:59:59 +0000 UTC"
        );
        assert_eq!(
            Time::from_float_seconds(9223372036.0)
                .expect("fits")
                .go_string(),
            "2262-04-11 23:47:16 +0000 UTC"
        );
        assert_eq!(
            Time::from_float_seconds(1657155181.0)
                .expect("finite")
                .format("Mon Jan _2 15:04:05 2006"),
            "Thu Jul  7 00:53:01 2022"
        );
    }
}
