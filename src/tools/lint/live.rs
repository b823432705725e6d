//! Live checks of `mlslo lint --prometheus-url`: do the series the rules read exist,
//! and what scrape interval does the server use.
//!
//! Invariants: read-only HTTP GETs through the shared client; one query per distinct
//! selector, in sorted order, so output is deterministic; selectors of series recorded
//! by the linted rules themselves are not queried (they may not exist yet).

use std::collections::{BTreeMap, BTreeSet};

use crate::base::diagnostic::{Diagnostic, Span};
use crate::cli::http::{HttpClient, Request};

fn api(base: &str, path: &str) -> String {
    format!("{}/api/v1/{path}", base.trim_end_matches('/'))
}

/// The global `scrape_interval` of the server's configuration in milliseconds
/// (Prometheus' default 1m when the configuration does not set it).
pub async fn scrape_interval_ms(client: &HttpClient, base: &str) -> Result<i64, String> {
    let response = client
        .send_ok(&Request::get(api(base, "status/config")))
        .await
        .map_err(|e| e.to_string())?;
    let body: serde_json::Value = serde_json::from_slice(&response.body)
        .map_err(|e| format!("status/config: not JSON: {e}"))?;
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
        None => Ok(60_000),
    }
}

/// L0601 for every selector (with where it is) that matches no series now.
pub async fn missing_series(
    client: &HttpClient,
    base: &str,
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
        let request = Request::get(api(base, "query")).query("query", format!("count({selector})"));
        let response = client.send_ok(&request).await.map_err(|e| e.to_string())?;
        let body: serde_json::Value =
            serde_json::from_slice(&response.body).map_err(|e| format!("query: not JSON: {e}"))?;
        let empty = body["data"]["result"]
            .as_array()
            .is_none_or(|r| r.is_empty());
        if empty {
            for span in spans {
                found.push(
                    Diagnostic::warning(
                        "L0601",
                        "series not found in Prometheus",
                        span,
                        format!("`{selector}` matches no series"),
                    )
                    .with_note(format!(
                        "checked with `count({selector})` at {}",
                        base.trim_end_matches('/')
                    )),
                );
            }
        }
    }
    Ok(found)
}
