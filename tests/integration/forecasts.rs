//! Forecasts and hysteresis of the generated alerts, end to end through
//! `mlslo backtest` on a `.slo` file and its routing block: a rolling deploy's
//! new GPU series are not forecast and mute nobody, a forecast page never mutes
//! the other pages of its service, a noisy drift score stays firing through
//! one-sample dips, and the drift forecast hands over to the threshold alert at
//! the evaluation where that fires. The generated promtool tests run the same
//! cases through promtool and `mlslo test` (`emit_prometheus`, `unittest_*`).

use crate::support::{mlslo, scratch, stderr, write};

const ROUTING: &str = r##"
routing {
  default_receiver = "chat"
  receiver "chat"  { slack { api_url_file = "/etc/am/slack", channel = "#genai" } }
  receiver "pager" { pagerduty { routing_key_file = "/etc/am/pd" } }
  route { team = "genai", severity = "page" } -> "pager"
}
"##;

/// A service whose GPU pool's memory is forecast, beside a latency objective that
/// pages while the GPUs change.
const ASSISTANT: &str = r#"
service "assistant" {
  team = "genai"
  latency "ttft" {
    histogram = ttft_seconds
    threshold = 500ms
    buckets   = [100ms, 500ms, 1s]
    objective = 99%
    window    = 28d
  }
  gpu "a100-pool" {
    utilization     = DCGM_FI_DEV_GPU_UTIL
    memory_used     = DCGM_FI_DEV_FB_USED
    memory_free     = DCGM_FI_DEV_FB_FREE
    max_utilization = 90%
    exhaustion { lookback = 6h, horizon = 4h }
  }
}
"#;

/// Eight hours at 1m: requests are fast until minute 400, then half of them are
/// slow (a latency page from about minute 420); `gpu` holds the memory series.
fn assistant_series(gpu: &str) -> String {
    format!(
        "interval: 1m\n\
ttft_seconds_bucket{{le=\"0.5\"}} 0+100x400 40000+50x80\n\
ttft_seconds_bucket{{le=\"+Inf\"}} 0+100x400 40000+100x80\n\
DCGM_FI_DEV_GPU_UTIL{{gpu=\"0\"}} 50x480\n\
{gpu}"
    )
}

fn backtest(name: &str, slo: &str, series: &str) -> serde_json::Value {
    let folder = scratch(name);
    let rules = write(&folder, "service.slo", format!("{slo}{ROUTING}"));
    let data = write(&folder, "history.series", series);
    let output = mlslo(&["backtest", &rules, "--data", &data, "--format", "json"]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    serde_json::from_slice(&output.stdout).expect("JSON report")
}

/// Every alert of the report with this name.
fn alerts<'a>(report: &'a serde_json::Value, alertname: &str) -> Vec<&'a serde_json::Value> {
    report["alerts"]
        .as_array()
        .expect("alerts")
        .iter()
        .filter(|alert| alert["alertname"] == alertname)
        .collect()
}

/// `(start, end)` in minutes of each firing span of the alerts with this name.
fn firing_minutes(report: &serde_json::Value, alertname: &str) -> Vec<(i64, i64)> {
    alerts(report, alertname)
        .iter()
        .flat_map(|alert| alert["firing"].as_array().expect("firing spans"))
        .map(|span| {
            let minute = |key: &str| span[key].as_i64().expect("milliseconds") / 60_000;
            (minute("start_ms"), minute("end_ms"))
        })
        .collect()
}

/// The latency page of the assistant: notified to the pager, never inhibited.
fn assert_latency_page_notified(report: &serde_json::Value) {
    let pages: Vec<&serde_json::Value> = alerts(report, "ErrorBudgetBurn")
        .into_iter()
        .filter(|alert| alert["labels"]["severity"] == "page")
        .collect();
    assert!(!pages.is_empty(), "the latency page must fire: {report}");
    for page in pages {
        for notification in page["pages"].as_array().expect("pages") {
            assert!(
                notification.get("inhibited_by").is_none(),
                "the latency page is muted: {notification}"
            );
            assert_eq!(notification["receivers"][0], "pager", "{notification}");
        }
    }
}

#[test]
fn a_rolling_deploy_neither_forecasts_exhaustion_nor_mutes_the_service() {
    // Pod `a` held 60 GB of 80 GB for 400 minutes; at minute 400 the deploy
    // replaces it with pod `b`, which loads the model in four minutes. A line
    // through b's first minutes reaches far beyond 80 GB within 4h.
    let gpu = "DCGM_FI_DEV_FB_USED{gpu=\"0\",pod=\"a\"} 60000x400\n\
DCGM_FI_DEV_FB_FREE{gpu=\"0\",pod=\"a\"} 20000x400\n\
DCGM_FI_DEV_FB_USED{gpu=\"0\",pod=\"b\"} _x400 0+15000x4 60000x75\n\
DCGM_FI_DEV_FB_FREE{gpu=\"0\",pod=\"b\"} _x400 80000-15000x4 20000x75\n";
    let report = backtest("rolling-deploy", ASSISTANT, &assistant_series(gpu));
    assert_eq!(
        firing_minutes(&report, "GPUMemoryExhaustionForecast"),
        Vec::<(i64, i64)>::new(),
        "a series minutes old is not forecast"
    );
    assert_latency_page_notified(&report);
}

#[test]
fn a_true_forecast_page_does_not_mute_the_other_pages_of_its_service() {
    // One device leaking 80 MB a minute from 40 GB for eight hours: after six
    // hours of history the 4h forecast crosses 80 GB (a true page), while the
    // latency page fires from about minute 420.
    let gpu = "DCGM_FI_DEV_FB_USED{gpu=\"0\"} 40000+80x480\n\
DCGM_FI_DEV_FB_FREE{gpu=\"0\"} 40000-80x480\n";
    let report = backtest("leak", ASSISTANT, &assistant_series(gpu));
    let forecast = firing_minutes(&report, "GPUMemoryExhaustionForecast");
    assert!(
        forecast
            .iter()
            .any(|(start, end)| *start <= 420 && *end >= 470),
        "the leak is forecast once six hours of history exist: {forecast:?}"
    );
    assert!(
        forecast.iter().all(|(start, _)| *start >= 360),
        "not before six hours of history: {forecast:?}"
    );
    assert_latency_page_notified(&report);
}

#[test]
fn a_noisy_drift_score_stays_firing_through_one_sample_dips() {
    let slo = r#"
service "ranker" {
  team = "genai"
  drift "query-length" {
    score = query_length_psi
    max   = 0.3
    for   = 10m
  }
}
"#;
    // Above the limit from the start, with a one-sample dip every five minutes
    // from minute 21 to 41.
    let series = "interval: 1m\nquery_length_psi 0.4x20 0.2 0.4x3 0.2 0.4x3 0.2 0.4x3 0.2 0.4x3 0.2 0.4x30\n";
    let report = backtest("noisy-drift", slo, series);
    let firing = firing_minutes(&report, "DriftScoreHigh");
    assert_eq!(firing.len(), 1, "one firing, no churn: {firing:?}");
    assert_eq!(firing[0].0, 10, "{firing:?}");
    assert!(firing[0].1 >= 70, "firing through the dips: {firing:?}");
}

#[test]
fn the_drift_forecast_hands_over_to_the_threshold_alert_without_a_gap() {
    let slo = r#"
service "ranker" {
  team = "genai"
  drift "query-length" {
    score    = query_length_psi
    max      = 0.3
    for      = 10m
    forecast { lookback = 1h, horizon = 2h }
  }
}
"#;
    // A steady rise that crosses 0.3 at minute 300.
    let series = "interval: 1m\nquery_length_psi 0.0005+0.001x400\n";
    let report = backtest("drift-handover", slo, series);
    let forecast = firing_minutes(&report, "DriftScoreForecast");
    let high = firing_minutes(&report, "DriftScoreHigh");
    assert_eq!(forecast.len(), 1, "{forecast:?}");
    assert_eq!(high.len(), 1, "{high:?}");
    assert!(
        forecast[0].0 < 300,
        "warned before the breach: {forecast:?}"
    );
    assert_eq!(
        forecast[0].1, high[0].0,
        "the forecast resolves at the evaluation where the threshold alert fires: forecast {forecast:?}, threshold {high:?}"
    );
    assert_eq!(high[0].0, 310, "{high:?}");
}
