//! Parser edge cases, one line each through [`check`]: the expected text is the
//! canonical print of the AST, or `CODE message @line:col: label` for an error.

use super::{parse, print};

/// A compact summary of parsing `source`: the canonical print on success (so
/// value kinds show: `99.5%`, `1h30m`, `"text"`), or the error's code, message,
/// position and primary label.
fn summary(source: &str) -> String {
    match parse(source, 0) {
        Ok(file) => print(&file).trim_end().to_string(),
        Err(diagnostic) => {
            let start = diagnostic.primary.span.start as usize;
            let prefix = source.get(..start).unwrap_or(source);
            let line = prefix.matches('\n').count() + 1;
            let column = prefix
                .rsplit('\n')
                .next()
                .map_or(0, |text| text.chars().count())
                + 1;
            let mut text = format!(
                "{} {} @{line}:{column}: {}",
                diagnostic.code, diagnostic.message, diagnostic.primary.message
            );
            for help in &diagnostic.help {
                text.push_str(&format!(" | help: {help}"));
            }
            text
        }
    }
}

#[track_caller]
fn check(source: &str, expect: &str) {
    let actual = summary(source);
    assert_eq!(actual, expect, "\nsource: {source:?}\nactual: {actual}\n");
}

#[test]
fn language_example_parses() {
    let file = parse(LANGUAGE_EXAMPLE, 0).expect("the agreed example is valid syntax");
    assert_eq!(file.items.len(), 2);
    let again = parse(&print(&file), 0).expect("printed text parses");
    assert_eq!(print(&again), print(&file));
}

#[test]
fn smoke() {
    check("objective = 99.5%", "objective = 99.5%");
}

/// The example of `language.md` (every kind).
const LANGUAGE_EXAMPLE: &str = r##"service "fraud-detector" {
  team      = "risk-ml"
  runbook   = "https://runbooks.example.com/fraud-detector"
  dashboard = "https://grafana.example.com/d/fraud"
  labels   { env = "prod" }                    // added to every alert of the service
  selector { model = "fraud_detection" }       // added to every metric selector below

  latency "inference-p99" {
    histogram = model_inference_latency_seconds   // `_bucket` is appended when absent
    threshold = 250ms                             // an `le` bucket boundary
    objective = 99.5%
    window    = 28d
  }
  availability "predict-api" {
    errors    = http_requests_total{path="/predict", status=~"5.."}
    total     = http_requests_total{path="/predict"}
    objective = 99.9%
    window    = 30d
    min_traffic = 10 per 5m                        // page alerts stay quiet below this
  }
  accuracy "online-precision" {
    metric    = model_precision
    min       = 0.92
    objective = 95%                               // of 5m slices at or above min
    slice     = 5m
    window    = 7d
  }
  drift "transaction-amount" {
    score    = feature_drift_score{feature="transaction_amount"}
    max      = 0.3
    for      = 30m
    forecast { lookback = 6h, horizon = 12h }
  }
  gpu "inference-pool" {
    utilization     = DCGM_FI_DEV_GPU_UTIL
    memory_used     = DCGM_FI_DEV_FB_USED
    memory_free     = DCGM_FI_DEV_FB_FREE
    max_utilization = 90%
    for             = 15m
    exhaustion { lookback = 6h, horizon = 4h }
  }
  freshness "nightly-features" {
    last_success = batch_job_last_success_timestamp_seconds{job="feature-build"}
    max_age      = 26h
    feeds        = ["transaction-amount"]         // drift objectives fed by this job (inhibition)
  }
  logs "prediction-errors" {
    index     = "ml-predictions-*"
    query     = 'model_name:"fraud_detection" AND error_type:*'
    max_count = 100 per 5m
  }
}

routing {
  group_by        = [alertname, service, slo]
  group_wait      = 30s
  group_interval  = 5m
  repeat_interval = 4h
  default_receiver = "risk-chat"
  receiver "risk-pager" { pagerduty { routing_key_file = "/etc/alertmanager/pd-key" } }
  receiver "risk-chat"  { slack { api_url_file = "/etc/alertmanager/slack-url", channel = "#risk-ml" } }
  receiver "ml-hooks"   { webhook { url_file = "/etc/alertmanager/hook-url" } }
  receiver "ml-mail"    { email { to = "ml-oncall@example.com", from = "am@example.com", smarthost = "smtp.example.com:587", auth_username = "am", auth_password_file = "/etc/alertmanager/smtp-pass" } }
  route { team = "risk-ml", severity = "page" }   -> "risk-pager" continue
  route { team = "risk-ml", severity = "ticket" } -> ["risk-chat", "ml-mail"]
  inhibit severity "page" over "ticket" on [service, slo]
  inhibit kind "availability" over ["accuracy", "drift"] on [service]
}
"##;
