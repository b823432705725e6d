//! Recorded series for a backtest, read from text: OpenMetrics / Prometheus text
//! exposition with timestamps (what `promtool tsdb create-blocks-from openmetrics`
//! takes), promtool's series notation with a `start`/`interval` header, and
//! Prometheus API matrix JSON (`query_range`).
//!
//! Invariants: pure; every error names the file and the 1-based line; timestamps are
//! milliseconds since the Unix epoch; samples of one series are kept sorted by time
//! and a repeated timestamp is an error (Prometheus rejects it as out of order).
//!
//! Why not the `prometheus-parse` crate: OpenMetrics timestamps are float seconds
//! (`1.7e9`, `1700000000.250`), its parser reads integer milliseconds, and it stops
//! neither at nor requires `# EOF`; the line grammar needed is small and shares the
//! label parser of `eval::notation`.

use std::collections::BTreeMap;
use std::path::Path;

use crate::prometheus::model::duration::parse_model_duration;
use crate::prometheus::promql::notation::{
    parse_labels_prefix, parse_number, parse_sequence, SequenceValue,
};
use crate::prometheus::promql::{Labels, Storage};

/// Series read from one or more data files: labels to (timestamp ms, value), sorted.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Dataset {
    pub series: BTreeMap<Labels, Vec<(i64, f64)>>,
}

/// The most samples a backtest holds, over all series and files (a month of 15-second
/// samples of 70 series is 12 million); with the evaluation storage's own copy this keeps
/// a run under about 1 GiB.
pub const MAX_SAMPLES: usize = 20_000_000;

impl Dataset {
    /// The first and last sample timestamps of any series.
    pub fn extent_ms(&self) -> Option<(i64, i64)> {
        let first = self
            .series
            .values()
            .filter_map(|s| s.first())
            .map(|p| p.0)
            .min()?;
        let last = self
            .series
            .values()
            .filter_map(|s| s.last())
            .map(|p| p.0)
            .max()?;
        Some((first, last))
    }

    /// Loads every sample into a fresh evaluation storage.
    pub fn to_storage(&self) -> Storage {
        let mut storage = Storage::new();
        for (labels, samples) in &self.series {
            let id = storage.series_id(labels);
            for &(ts, value) in samples {
                storage.append_to(id, ts, value);
            }
        }
        storage
    }

    /// Reads one data file and adds its samples. The name tells the format, as it
    /// does for `mlslo backtest --data`: `.series` is promtool's series notation,
    /// `.json` a query API matrix, anything else OpenMetrics text; errors name the
    /// file (and the line, where there is one).
    pub fn add_file(&mut self, name: &str, text: &str) -> Result<(), String> {
        let parsed = match Path::new(name).extension().and_then(|e| e.to_str()) {
            Some("series") => parse_series_notation(name, text)?,
            Some("json") => parse_matrix_json(name, text)?,
            _ => parse_openmetrics(name, text)?,
        };
        self.merge(parsed, name)
    }

    /// Adds the samples of `other`, refusing a timestamp given twice for one series,
    /// and a total above [`MAX_SAMPLES`] before the samples are copied in.
    pub fn merge(&mut self, other: Dataset, file: &str) -> Result<(), String> {
        let mut total: usize = self.series.values().map(Vec::len).sum();
        for (labels, samples) in other.series {
            total = total.saturating_add(samples.len());
            if total > MAX_SAMPLES {
                return Err(format!(
                    "{file}: series {} brings the data past {MAX_SAMPLES} samples, the most a \
                     backtest loads; give fewer series or a shorter time range",
                    format_labels(&labels)
                ));
            }
            let entry = self.series.entry(labels.clone()).or_default();
            entry.extend(samples);
            entry.sort_by_key(|p| p.0);
            if entry.windows(2).any(|w| w[0].0 == w[1].0) {
                return Err(format!(
                    "{file}: series {} has two samples at one timestamp",
                    format_labels(&labels)
                ));
            }
        }
        Ok(())
    }
}

/// `name{a="b"}` for messages and reports.
pub fn format_labels(labels: &Labels) -> String {
    let name = labels.metric_name();
    let rest: Vec<String> = labels
        .pairs()
        .iter()
        .filter(|(k, _)| k != "__name__")
        .map(|(k, v)| format!("{k}={v:?}"))
        .collect();
    format!("{name}{{{}}}", rest.join(", "))
}

/// Reads OpenMetrics or Prometheus text exposition. Every sample needs a timestamp
/// in seconds (OpenMetrics' unit, float allowed). `# TYPE`/`# HELP`/`# UNIT` and
/// other comments are skipped; nothing may follow `# EOF`.
pub fn parse_openmetrics(file: &str, text: &str) -> Result<Dataset, String> {
    let mut dataset = Dataset::default();
    let mut after_eof = false;
    for (index, line) in text.lines().enumerate() {
        let number = index + 1;
        let at = |message: String| format!("{file}:{number}: {message}");
        let trimmed = line.trim();
        if after_eof {
            if trimmed.is_empty() {
                continue;
            }
            return Err(at("data after \"# EOF\"".into()));
        }
        if trimmed == "# EOF" {
            after_eof = true;
            continue;
        }
        if trimmed.is_empty() || trimmed.starts_with('#') {
            continue;
        }
        let (labels, rest) =
            parse_labels_prefix(trimmed).map_err(|e| at(format!("bad series: {e}")))?;
        if labels.metric_name().is_empty() {
            return Err(at("a sample needs a metric name".into()));
        }
        // An exemplar (` # {...} v`) carries nothing a rule can read.
        let rest = rest.split(" # ").next().unwrap_or("");
        let fields: Vec<&str> = rest.split_whitespace().collect();
        let (value_text, ts_text) = match fields.as_slice() {
            [value, ts] => (*value, *ts),
            [_] => {
                return Err(at(
                    "a sample needs a timestamp (seconds) after its value".into()
                ))
            }
            [] => return Err(at("a sample needs a value and a timestamp".into())),
            _ => {
                return Err(at(format!(
                    "unexpected {:?} after the timestamp",
                    fields[2]
                )))
            }
        };
        let value =
            parse_number(value_text).map_err(|e| at(format!("bad value {value_text:?}: {e}")))?;
        let seconds: f64 = ts_text
            .parse()
            .ok()
            .filter(|s: &f64| s.is_finite())
            .ok_or_else(|| {
                at(format!(
                    "bad timestamp {ts_text:?} (seconds since the epoch)"
                ))
            })?;
        let ms = (seconds * 1000.0).round() as i64;
        let samples = dataset.series.entry(labels.clone()).or_default();
        if let Some(&(last, _)) = samples.last() {
            if ms <= last {
                return Err(at(format!(
                    "timestamp {ts_text} of {} is not after the previous sample",
                    format_labels(&labels)
                )));
            }
        }
        samples.push((ms, value));
    }
    Ok(dataset)
}

/// Reads promtool's series notation with a header fixing time:
///
/// ```text
/// # comment
/// start: 1700000000        (unix seconds or RFC 3339; default 0)
/// interval: 1m             (time between values; default 1m)
/// http_requests_total{code="500"} 0+5x1440
/// ```
///
/// `start:`/`interval:` may appear again to change the time base of the lines after
/// them. Values follow `input_series` (`_` omitted, `stale` a stale marker).
pub fn parse_series_notation(file: &str, text: &str) -> Result<Dataset, String> {
    let mut dataset = Dataset::default();
    let mut start_ms = 0i64;
    let mut interval_ms = 60_000i64;
    for (index, line) in text.lines().enumerate() {
        let number = index + 1;
        let at = |message: String| format!("{file}:{number}: {message}");
        let trimmed = line.trim();
        if trimmed.is_empty() || trimmed.starts_with('#') {
            continue;
        }
        if let Some(value) = trimmed.strip_prefix("start:") {
            start_ms = parse_time_ms(value.trim()).map_err(at)?;
            continue;
        }
        if let Some(value) = trimmed.strip_prefix("interval:") {
            interval_ms = parse_model_duration(value.trim())
                .ok()
                .filter(|ms| *ms > 0)
                .ok_or_else(|| at(format!("bad interval {:?}", value.trim())))?;
            continue;
        }
        let (labels, rest) =
            parse_labels_prefix(trimmed).map_err(|e| at(format!("bad series: {e}")))?;
        let values = parse_sequence(rest).map_err(|e| at(format!("bad values: {e}")))?;
        let mut samples = Vec::new();
        for (step, value) in values.iter().enumerate() {
            match value {
                SequenceValue::Value(v) => {
                    samples.push((start_ms.saturating_add(step as i64 * interval_ms), *v))
                }
                SequenceValue::Omitted => {}
                SequenceValue::Histogram => {
                    return Err(at("native histogram samples are not supported".into()))
                }
            }
        }
        let mut single = Dataset::default();
        single.series.insert(labels, samples);
        dataset.merge(single, &format!("{file}:{number}"))?;
    }
    Ok(dataset)
}

/// Reads a Prometheus HTTP API answer holding a matrix (`/api/v1/query_range`, or
/// `/api/v1/query` of a range selector): `{"status":"success","data":{"resultType":
/// "matrix","result":[{"metric":{...},"values":[[<seconds>,"<value>"],...]}]}}`.
pub fn parse_matrix_json(file: &str, text: &str) -> Result<Dataset, String> {
    let at_line = |error: &serde_json::Error| format!("{file}:{}:{}", error.line(), error.column());
    let root: serde_json::Value =
        serde_json::from_str(text).map_err(|e| format!("{}: invalid JSON: {e}", at_line(&e)))?;
    if let Some(status) = root.get("status").and_then(|s| s.as_str()) {
        if status != "success" {
            let error = root.get("error").and_then(|e| e.as_str()).unwrap_or("");
            return Err(format!("{file}: the API answered {status:?}: {error}"));
        }
    }
    let data = root.get("data").unwrap_or(&root);
    match data.get("resultType").and_then(|t| t.as_str()) {
        Some("matrix") => {}
        other => {
            return Err(format!(
                "{file}: expected resultType \"matrix\", found {}",
                other.map_or("none".to_string(), |t| format!("{t:?}"))
            ))
        }
    }
    let result = data
        .get("result")
        .and_then(|r| r.as_array())
        .ok_or_else(|| format!("{file}: data.result is not a list"))?;
    let mut dataset = Dataset::default();
    for (index, series) in result.iter().enumerate() {
        let at = |message: &str| format!("{file}: data.result[{index}]: {message}");
        let metric = series
            .get("metric")
            .and_then(|m| m.as_object())
            .ok_or_else(|| at("no \"metric\" object"))?;
        let mut pairs = Vec::new();
        for (name, value) in metric {
            let value = value
                .as_str()
                .ok_or_else(|| at(&format!("label {name} is not a string")))?;
            pairs.push((name.clone(), value.to_string()));
        }
        let labels = Labels::from_pairs(pairs);
        let values = series
            .get("values")
            .and_then(|v| v.as_array())
            .ok_or_else(|| at("no \"values\" list (histograms are not supported)"))?;
        let mut samples = Vec::with_capacity(values.len());
        for point in values {
            let pair = point.as_array().filter(|p| p.len() == 2);
            let seconds = pair.and_then(|p| p[0].as_f64());
            let value = pair
                .and_then(|p| p[1].as_str())
                .and_then(|v| parse_number(v).ok());
            match (seconds, value) {
                (Some(seconds), Some(value)) => {
                    samples.push(((seconds * 1000.0).round() as i64, value))
                }
                _ => return Err(at(&format!("bad point {point}"))),
            }
        }
        let mut single = Dataset::default();
        single.series.insert(labels, samples);
        dataset.merge(single, file)?;
    }
    Ok(dataset)
}

/// A time given as unix seconds (`1700000000`, `1700000000.5`) or RFC 3339.
pub fn parse_time_ms(text: &str) -> Result<i64, String> {
    if let Ok(seconds) = text.parse::<f64>() {
        if seconds.is_finite() {
            return Ok((seconds * 1000.0).round() as i64);
        }
    }
    crate::prometheus::alertmanager::parse_rfc3339_milliseconds(text)
        .ok_or_else(|| format!("bad time {text:?} (unix seconds or RFC 3339)"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn openmetrics_with_float_seconds_and_eof() {
        let text =
            "# TYPE up gauge\nup{job=\"a\"} 1 1700000000\nup{job=\"a\"} 0 1700000060.5\n# EOF\n";
        let data = parse_openmetrics("d.om", text).unwrap();
        let labels = Labels::from_pairs([("__name__", "up"), ("job", "a")]);
        assert_eq!(
            data.series[&labels],
            vec![(1_700_000_000_000, 1.0), (1_700_000_060_500, 0.0)]
        );
        assert_eq!(
            data.extent_ms(),
            Some((1_700_000_000_000, 1_700_000_060_500))
        );
    }

    #[test]
    fn openmetrics_errors_name_the_line() {
        let cases = [
            ("up 1\n", "d.om:1: a sample needs a timestamp"),
            ("up 1 5\nup{ 1 6\n", "d.om:2: bad series"),
            ("up x 5\n", "d.om:1: bad value"),
            (
                "up 1 5\nup 1 4\n",
                "d.om:2: timestamp 4 of up{} is not after",
            ),
            ("up 1 5\n# EOF\nup 1 6\n", "d.om:3: data after \"# EOF\""),
            ("up 1 later\n", "d.om:1: bad timestamp"),
        ];
        for (text, expected) in cases {
            let error = parse_openmetrics("d.om", text).unwrap_err();
            assert!(error.starts_with(expected), "{text:?}: {error}");
        }
    }

    #[test]
    fn matrix_json() {
        let text = r#"{"status":"success","data":{"resultType":"matrix","result":[
            {"metric":{"__name__":"up","job":"a"},"values":[[100,"1"],[160.5,"0"]]}]}}"#;
        let data = parse_matrix_json("q.json", text).unwrap();
        let labels = Labels::from_pairs([("__name__", "up"), ("job", "a")]);
        assert_eq!(data.series[&labels], vec![(100_000, 1.0), (160_500, 0.0)]);
        let cases = [
            ("{\n  \"status\": ", "q.json:2:"),
            (
                r#"{"status":"error","error":"bad query"}"#,
                "q.json: the API answered \"error\": bad query",
            ),
            (
                r#"{"data":{"resultType":"vector","result":[]}}"#,
                "q.json: expected resultType \"matrix\"",
            ),
            (
                r#"{"data":{"resultType":"matrix","result":[{"metric":{},"values":[[1]]}]}}"#,
                "q.json: data.result[0]: bad point",
            ),
        ];
        for (text, expected) in cases {
            let error = parse_matrix_json("q.json", text).unwrap_err();
            assert!(error.starts_with(expected), "{text:?}: {error}");
        }
    }

    #[test]
    fn samples_past_the_limit_are_refused_naming_the_series() {
        let mut dataset = Dataset::default();
        let per_series = crate::prometheus::promql::notation::MAX_SEQUENCE_LENGTH - 1;
        let series_per_file = MAX_SAMPLES / (per_series + 1);
        let text: String = (0..series_per_file)
            .map(|index| format!("up{{i=\"{index}\"}} 1x{per_series}\n"))
            .collect();
        assert_eq!(dataset.add_file("a.series", &text), Ok(()));
        assert_eq!(
            dataset.add_file("b.series", "up{i=\"last\"} 1x1\n"),
            Err(format!(
                "b.series: series up{{i=\"last\"}} brings the data past {MAX_SAMPLES} samples, \
                 the most a backtest loads; give fewer series or a shorter time range"
            ))
        );
    }

    #[test]
    fn series_notation_with_header() {
        let text = "start: 1970-01-01T00:01:40Z\ninterval: 30s\nup 1+1x2 _ 7\n";
        let data = parse_series_notation("d.series", text).unwrap();
        let labels = Labels::from_pairs([("__name__", "up")]);
        assert_eq!(
            data.series[&labels],
            vec![
                (100_000, 1.0),
                (130_000, 2.0),
                (160_000, 3.0),
                (220_000, 7.0)
            ]
        );
    }

    #[test]
    fn series_notation_errors_name_the_line() {
        let cases = [
            ("interval: 0s\n", "d.s:1: bad interval"),
            ("start: yesterday\n", "d.s:1: bad time"),
            ("up 1\n\nup 1+x\n", "d.s:3: bad values"),
            ("up 1\nup 2\n", "d.s:2: series up{} has two samples"),
        ];
        for (text, expected) in cases {
            let error = parse_series_notation("d.s", text).unwrap_err();
            assert!(error.starts_with(expected), "{text:?}: {error}");
        }
    }

    #[test]
    fn a_file_name_tells_the_format_and_merging_refuses_a_repeated_sample() {
        let up = Labels::from_pairs([("__name__", "up")]);
        let mut data = Dataset::default();
        data.add_file("dir.json/a.series", "up 1 2\n").unwrap();
        data.add_file(
            "b.json",
            r#"{"data":{"resultType":"matrix","result":[{"metric":{"__name__":"up"},"values":[[180,"3"]]}]}}"#,
        )
        .unwrap();
        data.add_file("c.series.om", "up 4 240\n").unwrap();
        data.add_file(".series", "up 5 300\n").unwrap();
        assert_eq!(
            data.series[&up],
            vec![
                (0, 1.0),
                (60_000, 2.0),
                (180_000, 3.0),
                (240_000, 4.0),
                (300_000, 5.0)
            ]
        );
        assert_eq!(
            data.add_file("d.prom", "up 9 60\n"),
            Err("d.prom: series up{} has two samples at one timestamp".to_string())
        );
        assert!(data
            .add_file("e.txt", "up 1\n")
            .is_err_and(|e| e.starts_with("e.txt:1: a sample needs a timestamp")));
    }
}
