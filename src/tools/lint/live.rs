//! Live checks of `mlslo lint --prometheus-url`: do the series the rules read exist,
//! and what scrape interval does the server use.
//!
//! Invariants: the server is reached only through [`PrometheusApi`] (read-only
//! queries, which the CLI implements); one query per distinct selector, in sorted
//! order, so output is deterministic; selectors of series recorded by the linted rules
//! themselves are not queried (they may not exist yet).

use std::collections::{BTreeMap, BTreeSet};

use super::codes;
use crate::base::diagnostic::{Diagnostic, Span};
use crate::prometheus::http_api::PrometheusApi;

/// Prometheus' `global.scrape_interval` when the configuration does not set it.
const DEFAULT_SCRAPE_INTERVAL_MS: i64 = 60_000;

/// The global `scrape_interval` of the server's configuration in milliseconds.
pub async fn scrape_interval_ms(api: &impl PrometheusApi) -> Result<i64, String> {
    let body = api.status_config().await.map_err(|e| e.to_string())?;
    let body: serde_json::Value =
        serde_json::from_str(&body).map_err(|e| format!("status/config: not JSON: {e}"))?;
    let yaml = body["data"]["yaml"]
        .as_str()
        .ok_or("status/config: no data.yaml")?;
    let config: yaml_serde::Value =
        yaml_serde::from_str(yaml).map_err(|e| format!("status/config: {e}"))?;
    match config
        .get("global")
        .and_then(|g| g.get("scrape_interval"))
        .and_then(|v| v.as_str())
    {
        Some(text) => crate::prometheus::model::duration::parse_model_duration(text),
        None => Ok(DEFAULT_SCRAPE_INTERVAL_MS),
    }
}

/// L0601 for every selector (with where it is) that matches no series now. `server`
/// names the server in the diagnostics' notes (without credentials).
pub async fn missing_series(
    api: &impl PrometheusApi,
    server: &str,
    selectors: &[(String, String, Span)],
    recorded: &BTreeSet<String>,
) -> Result<Vec<Diagnostic>, String> {
    let mut by_text: BTreeMap<&str, Vec<Span>> = BTreeMap::new();
    for (metric, text, span) in selectors {
        if !recorded.contains(metric) {
            by_text.entry(text.as_str()).or_default().push(*span);
        }
    }
    let mut found = Vec::new();
    for (selector, spans) in by_text {
        let body = api
            .instant_query(format!("count({selector})"), None)
            .await
            .map_err(|e| e.to_string())?;
        let body: serde_json::Value =
            serde_json::from_str(&body).map_err(|e| format!("query: not JSON: {e}"))?;
        let empty = body["data"]["result"]
            .as_array()
            .is_none_or(|r| r.is_empty());
        if empty {
            for span in spans {
                found.push(
                    codes::SERIES_NOT_FOUND
                        .at(span, format!("`{selector}` matches no series"))
                        .with_note(format!(
                            "checked with `count({selector})` at {}",
                            server.trim_end_matches('/')
                        )),
                );
            }
        }
    }
    Ok(found)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::prometheus::http_api::fake::{block_on, status_error, FakeApi};

    const EMPTY: &str = r#"{"status":"success","data":{"resultType":"vector","result":[]}}"#;
    const ONE: &str = r#"{"status":"success","data":{"resultType":"vector","result":[{"metric":{},"value":[1,"3"]}]}}"#;

    fn selector(metric: &str, text: &str, start: u32) -> (String, String, Span) {
        let span = Span {
            start,
            end: start + text.len() as u32,
        };
        (metric.to_string(), text.to_string(), span)
    }

    #[test]
    fn selectors_without_series_are_reported_once_queried_and_in_order() {
        let api = FakeApi::new(|query, _| {
            let answer = if query.contains("up") { ONE } else { EMPTY };
            (Ok(answer.to_string()), 0)
        });
        let selectors = [
            selector("gone_total", "gone_total", 40),
            selector("up", "up", 0),
            selector("gone_total", "gone_total", 10),
            selector("job:x:sum", "job:x:sum", 60),
        ];
        let recorded = BTreeSet::from(["job:x:sum".to_string()]);
        let found = block_on(missing_series(
            &api,
            "http://prometheus:9090/",
            &selectors,
            &recorded,
        ))
        .expect("answers");
        assert_eq!(
            *api.asked.borrow(),
            [
                ("count(gone_total)".to_string(), None),
                ("count(up)".to_string(), None)
            ]
        );
        let spans: Vec<u32> = found.iter().map(|d| d.primary.span.start).collect();
        assert_eq!(spans, [40, 10]);
        assert!(found.iter().all(|d| d.code == "L0601"));
        assert_eq!(
            found[0].notes,
            ["checked with `count(gone_total)` at http://prometheus:9090"]
        );
    }

    #[test]
    fn a_failed_query_is_the_error() {
        let api = FakeApi::new(|_, _| (Err(status_error(503, "busy")), 0));
        let error = block_on(missing_series(
            &api,
            "http://fake",
            &[selector("up", "up", 0)],
            &BTreeSet::new(),
        ))
        .expect_err("503");
        assert_eq!(error, "POST http://fake/api/v1/query: HTTP 503: busy");
    }

    #[test]
    fn the_scrape_interval_comes_from_the_loaded_configuration() {
        let mut api = FakeApi::new(|_, _| (Ok(EMPTY.to_string()), 0));
        api.config = Ok(
            r#"{"status":"success","data":{"yaml":"global:\n  scrape_interval: 15s\n"}}"#
                .to_string(),
        );
        assert_eq!(block_on(scrape_interval_ms(&api)), Ok(15_000));
        api.config =
            Ok(r#"{"status":"success","data":{"yaml":"scrape_configs: []\n"}}"#.to_string());
        assert_eq!(
            block_on(scrape_interval_ms(&api)),
            Ok(DEFAULT_SCRAPE_INTERVAL_MS)
        );
        api.config = Ok("<html>".to_string());
        let error = block_on(scrape_interval_ms(&api)).expect_err("not JSON");
        assert!(error.starts_with("status/config: not JSON"), "{error}");
    }
}
