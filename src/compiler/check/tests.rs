//! Checker tests: one-line helpers over inline `.slo` snippets.
//!
//! `codes(src)` lists the codes of every diagnostic, sorted by span;
//! `program(src)` asserts a clean check and returns the IR; `first(src, code)`
//! returns the first diagnostic with that code for message-level assertions.

use crate::base::diagnostic::{Diagnostic, Severity, SourceMap};
use crate::compiler::check::{check, CODES};
use crate::compiler::ir::{self, Decimal, Duration};
use crate::compiler::syntax;

fn run_files(sources: &[&str]) -> crate::compiler::check::CheckResult {
    let mut map = SourceMap::new();
    let mut files = Vec::new();
    for (index, source) in sources.iter().enumerate() {
        let file_index = map.add(format!("f{index}.slo"), *source);
        let base = map.files()[file_index].base;
        files.push(syntax::parse(source, base).expect("test source parses"));
    }
    check(&files)
}

fn codes(source: &str) -> Vec<&'static str> {
    run_files(&[source])
        .diagnostics
        .iter()
        .map(|diagnostic| diagnostic.code)
        .collect()
}

fn program(source: &str) -> ir::Program {
    let result = run_files(&[source]);
    let errors: Vec<&Diagnostic> = result.diagnostics.iter().collect();
    assert!(errors.is_empty(), "unexpected diagnostics: {errors:#?}");
    result.program.expect("no diagnostics means a program")
}

fn first(source: &str, code: &str) -> Diagnostic {
    run_files(&[source])
        .diagnostics
        .into_iter()
        .find(|diagnostic| diagnostic.code == code)
        .unwrap_or_else(|| panic!("no {code} in {:#?}", codes(source)))
}

/// A service with one objective body of the given kind.
fn objective(kind: &str, body: &str) -> String {
    format!("service \"svc\" {{\n team = \"t\"\n {kind} \"o\" {{\n{body}\n }}\n}}\n")
}

fn decimal(text: &str) -> Decimal {
    Decimal::parse(text).expect("test decimal")
}

const EXAMPLE: &str = r##"
monitoring { heartbeat = none }

service "fraud-detector" {
  team      = "risk-ml"
  runbook   = "https://runbooks.example.com/fraud-detector"
  dashboard = "https://grafana.example.com/d/fraud"
  labels   { env = "prod" }
  selector { model = "fraud_detection" }

  latency "inference-p99" {
    histogram = model_inference_latency_seconds
    threshold = 250ms
    buckets   = [100ms, 250ms, 500ms, 1s]
    objective = 99.5%
    window    = 28d
    ticket { burn { long = 1d, short = 2h } burn { long = 3d, short = 6h, factor = 1 } }
  }
  availability "predict-api" {
    errors    = http_requests_total{path="/predict", status=~"5.."}
    total     = http_requests_total{path="/predict"}
    objective = 99.9%
    window    = 30d
    min_traffic = 10 per 5m
  }
  accuracy "online-precision" {
    metric    = model_precision
    min       = 0.92
    objective = 95%
    slice     = 5m
    window    = 7d
    ticket { burn { long = 1d, short = 2h, factor = 1 } }
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
    feeds        = ["transaction-amount"]
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
  route { team = "risk-ml", severity = "ticket" } -> ["risk-chat", "ml-mail", "ml-hooks"]
  inhibit severity "page" over "ticket" on [service, slo]
  inhibit kind "availability" over ["accuracy", "drift"] on [service]
}
"##;

#[test]
fn the_language_reference_example_checks_clean() {
    let program = program(EXAMPLE);
    assert_eq!(program.services.len(), 1);
    let service = &program.services[0];
    assert_eq!(service.objectives.len(), 7);
    assert_eq!(service.labels["env"], "prod");
    let routing = program.routing.expect("routing block");
    assert_eq!(routing.default_receiver, "risk-chat");
    assert_eq!(
        routing
            .receivers
            .iter()
            .map(|r| r.name.as_str())
            .collect::<Vec<_>>(),
        ["ml-hooks", "ml-mail", "risk-chat", "risk-pager"]
    );
    assert!(routing.routes[0].continue_matching);
    assert_eq!(routing.group_by, ["alertname", "service", "slo"]);
}

#[test]
fn selectors_get_the_service_selector_and_the_bucket_suffix() {
    let program = program(EXAMPLE);
    let objectives = &program.services[0].objectives;
    let ir::ObjectiveKind::Latency {
        histogram,
        threshold,
        budget,
        ..
    } = &objectives[0].kind
    else {
        panic!("first objective is latency");
    };
    assert_eq!(
        histogram.to_promql(),
        r#"model_inference_latency_seconds_bucket{model="fraud_detection"}"#
    );
    assert_eq!(threshold.as_seconds().to_string(), "0.25");
    assert_eq!(budget.objective.to_string(), "0.995");
    assert_eq!(budget.error_budget.to_string(), "0.005");
    assert_eq!(budget.window, Duration::days(28));
    let ir::ObjectiveKind::Availability {
        events: ir::AvailabilityEvents::Errors(ir::Counter::Selector(errors)),
        total: ir::Counter::Selector(total),
        budget,
    } = &objectives[1].kind
    else {
        panic!("second objective is availability with errors");
    };
    assert_eq!(
        errors.to_promql(),
        r#"http_requests_total{path="/predict",status=~"5..",model="fraud_detection"}"#
    );
    assert_eq!(
        total.to_promql(),
        r#"http_requests_total{path="/predict",model="fraud_detection"}"#
    );
    assert_eq!(budget.error_budget.to_string(), "0.001");
    let ir::TrafficGuard::Fixed(min_traffic) = budget.traffic_guard else {
        panic!("min_traffic = 10 per 5m is a fixed guard");
    };
    assert_eq!(
        (min_traffic.count.to_string(), min_traffic.window),
        ("10".into(), Duration::minutes(5))
    );
}

/// Without `min_traffic`, each burn window needs enough events in its short
/// window that one failure is not above its threshold: `ceil(1 / (factor ×
/// budget))`, 70 in 5m for the 14.4× page of 99.9%.
#[test]
fn every_burn_window_gets_a_derived_traffic_guard_unless_told_otherwise() {
    let guards = |extra: &str| {
        let program = program(&objective(
            "availability",
            &format!("errors = e_total\n total = t_total\n objective = 99.9%\n{extra}"),
        ));
        let ir::ObjectiveKind::Availability { budget, .. } =
            &program.services[0].objectives[0].kind
        else {
            panic!("availability expected");
        };
        budget
            .burn_windows()
            .map(|(_, burn)| {
                budget
                    .min_traffic_of(burn)
                    .map(|m| format!("{} per {}", m.count, m.window))
            })
            .collect::<Vec<_>>()
    };
    let some = |texts: &[&str]| {
        texts
            .iter()
            .map(|text| Some((*text).to_owned()))
            .collect::<Vec<_>>()
    };
    assert_eq!(
        guards(""),
        some(&["70 per 5m", "167 per 30m", "334 per 2h", "1000 per 6h"])
    );
    assert_eq!(
        guards("min_traffic = 10 per 5m"),
        some(&["10 per 5m", "10 per 5m", "10 per 5m", "10 per 5m"])
    );
    assert_eq!(guards("min_traffic = none"), vec![None; 4]);
}

#[test]
fn default_burn_windows_scale_with_the_objective_window() {
    // Factors below 1 are warned (W0610), not refused.
    let program = run_files(&[r#"service "s" { team = "t"
  latency "l" { histogram = h, threshold = 1s, assume_bucket = true, objective = 99%, window = 28d }
  availability "a" { errors = e_total, total = t_total, objective = 99.9% }
  accuracy "c" { metric = m, min = 0.9, objective = 95%, window = 7d } }"#])
    .program
    .expect("warnings only");
    let objectives = &program.services[0].objectives;
    let factors = |index: usize| -> Vec<String> {
        let budget = objectives[index].kind.budget().expect("budgeted");
        budget
            .burn_windows()
            .map(|(tier, w)| format!("{}:{}/{}:{}", tier.as_str(), w.long, w.short, w.factor))
            .collect()
    };
    assert_eq!(
        factors(1),
        [
            "page:1h/5m:14.4",
            "page:6h/30m:6",
            "ticket:1d/2h:3",
            "ticket:3d/6h:1"
        ]
    );
    assert_eq!(
        factors(0),
        [
            "page:1h/5m:13.44",
            "page:6h/30m:5.6",
            "ticket:1d/2h:2.8",
            "ticket:3d/6h:0.933333333333"
        ]
    );
    // 7d keeps every default window (3d < 7d).
    assert_eq!(
        factors(2),
        [
            "page:1h/5m:3.36",
            "page:6h/30m:1.4",
            "ticket:1d/2h:0.7",
            "ticket:3d/6h:0.233333333333"
        ]
    );
}

/// `keep_firing_for` defaults to `for` (symmetric hysteresis), `none` is zero,
/// and a written duration is kept.
#[test]
fn keep_firing_for_defaults_to_for_and_none_opts_out() {
    let keep_of = |fields: &str| {
        let source = format!(
            r#"service "s" {{ team = "t" drift "d" {{ score = s max = 1 for = 20m {fields} }} gpu "g" {{ utilization = u max_utilization = 90% {fields} }} }}"#
        );
        let program = program(&source);
        let objectives = &program.services[0].objectives;
        let ir::ObjectiveKind::Drift {
            keep_firing_for: drift,
            ..
        } = &objectives[0].kind
        else {
            panic!("drift")
        };
        let ir::ObjectiveKind::Gpu {
            keep_firing_for: gpu,
            ..
        } = &objectives[1].kind
        else {
            panic!("gpu")
        };
        (*drift, *gpu)
    };
    assert_eq!(keep_of(""), (Duration::minutes(20), Duration::minutes(5)));
    assert_eq!(
        keep_of("keep_firing_for = none"),
        (Duration::ZERO, Duration::ZERO)
    );
    assert_eq!(
        keep_of("keep_firing_for = 2m"),
        (Duration::minutes(2), Duration::minutes(2))
    );
}

#[test]
fn threshold_kinds_get_their_defaults_and_values() {
    let program = program(EXAMPLE);
    let objectives = &program.services[0].objectives;
    let ir::ObjectiveKind::Drift {
        max,
        for_,
        forecast,
        ..
    } = &objectives[3].kind
    else {
        panic!("drift")
    };
    assert_eq!(
        (max.to_string(), *for_),
        ("0.3".into(), Duration::minutes(30))
    );
    assert_eq!(
        forecast.map(|f| (f.lookback, f.horizon)),
        Some((Duration::hours(6), Duration::hours(12)))
    );
    let ir::ObjectiveKind::Gpu {
        max_utilization,
        memory,
        exhaustion,
        ..
    } = &objectives[4].kind
    else {
        panic!("gpu")
    };
    assert_eq!(max_utilization.to_string(), "90");
    assert!(memory.is_some() && exhaustion.is_some());
    let ir::ObjectiveKind::Freshness {
        max_age,
        for_,
        feeds,
        ..
    } = &objectives[5].kind
    else {
        panic!("freshness")
    };
    assert_eq!((*max_age, *for_), (Duration::hours(26), Duration::ZERO));
    assert_eq!(feeds[0].name, "transaction-amount");
    let ir::ObjectiveKind::Logs {
        condition,
        timestamp_field,
        schedule,
        throttle,
        severity,
        ..
    } = &objectives[6].kind
    else {
        panic!("logs")
    };
    assert_eq!(
        *condition,
        ir::LogsCondition::MaxCount {
            count: 100,
            window: Duration::minutes(5)
        }
    );
    assert_eq!(timestamp_field, "@timestamp");
    assert_eq!(
        (*schedule, *throttle, *severity),
        (
            Duration::minutes(1),
            Duration::minutes(30),
            ir::Tier::Ticket
        )
    );
}

#[test]
fn services_are_sorted_by_name_whatever_the_file_order() {
    let a = "service \"b-svc\" { team = \"t\" }";
    let b = "service \"a-svc\" { team = \"t\" }";
    let result = run_files(&[a, b]);
    let names: Vec<String> = result
        .program
        .expect("clean")
        .services
        .into_iter()
        .map(|s| s.name)
        .collect();
    assert_eq!(names, ["a-svc", "b-svc"]);
}

#[test]
fn duplicate_service_across_files_points_at_both() {
    let result = run_files(&[
        "service \"x\" { team = \"t\" }",
        "service \"x\" { team = \"u\" }",
    ]);
    assert!(result.program.is_none());
    let diagnostic = &result.diagnostics[0];
    assert_eq!(diagnostic.code, "E0204");
    assert!(diagnostic.primary.span.start > diagnostic.secondary[0].span.start);
}

// ---- E02xx names ----

#[test]
fn unknown_block_kind_suggests_the_closest() {
    let diagnostic = first("service \"s\" { team = \"t\"\n latncy \"x\" { } }", "E0201");
    assert_eq!(diagnostic.help, ["did you mean `latency`?"]);
    assert_eq!(codes("servce \"s\" { }"), ["E0201"]);
}

#[test]
fn unknown_field_suggests_the_closest() {
    let diagnostic = first(
        &objective(
            "latency",
            "histogram = h\n threshold = 1s\n assume_bucket = true\n objectve = 99%",
        ),
        "E0202",
    );
    assert_eq!(diagnostic.help, ["did you mean `objective`?"]);
    // Also reports the objective as missing; both at once.
    assert_eq!(
        codes(&objective(
            "latency",
            "histogram = h\n threshold = 1s\n assume_bucket = true\n objectve = 99%"
        )),
        ["E0210", "E0202"]
    );
}

#[test]
fn duplicate_fields_and_blocks_are_rejected() {
    assert_eq!(
        codes(&objective(
            "latency",
            "histogram = h\n threshold = 1s\n assume_bucket = true\n objective = 99%\n objective = 98%"
        )),
        ["E0203"]
    );
    assert_eq!(
        codes("service \"s\" { team = \"t\"\n labels { a = \"1\" }\n labels { b = \"2\" } }"),
        ["E0203"]
    );
    assert_eq!(
        codes("service \"s\" { team = \"t\"\n labels { a = \"1\", a = \"2\" } }"),
        ["E0203"]
    );
}

#[test]
fn duplicate_objectives_and_receivers_are_rejected() {
    assert_eq!(
        codes("service \"s\" { team = \"t\"\n drift \"d\" { score = s, max = 1 }\n gpu \"d\" { utilization = u, max_utilization = 90% } }"),
        ["E0205"]
    );
    let routing = "routing { default_receiver = \"a\"\n receiver \"a\" { webhook { url_file = \"/f\" } }\n receiver \"a\" { webhook { url_file = \"/g\" } } }";
    assert_eq!(codes(routing), ["E0206"]);
}

#[test]
fn routes_must_name_existing_receivers() {
    let source = "routing { default_receiver = \"risk-pager\"\n receiver \"risk-pager\" { webhook { url_file = \"/f\" } }\n route { team = \"x\" } -> \"risk-pagr\" }";
    let diagnostic = first(source, "E0207");
    assert_eq!(diagnostic.help, ["did you mean `risk-pager`?"]);
    assert_eq!(
        codes("routing { default_receiver = \"nobody\" }"),
        ["E0207"]
    );
}

#[test]
fn feeds_must_name_drift_objectives_of_the_service() {
    let base = "service \"s\" { team = \"t\"\n drift \"amount\" { score = s, max = 1 }\n latency \"lat\" { histogram = h, threshold = 1s, assume_bucket = true, objective = 99% }\n freshness \"f\" { last_success = ts, max_age = 1h, feeds = [FEEDS] } }";
    assert_eq!(
        codes(&base.replace("FEEDS", "\"amount\"")),
        Vec::<&str>::new()
    );
    let diagnostic = first(&base.replace("FEEDS", "\"amout\""), "E0208");
    assert_eq!(diagnostic.help, ["did you mean `amount`?"]);
    assert_eq!(codes(&base.replace("FEEDS", "\"lat\"")), ["E0208"]);
}

#[test]
fn only_one_routing_block_across_files() {
    let routing =
        "routing { default_receiver = \"a\"\n receiver \"a\" { webhook { url_file = \"/f\" } } }";
    let result = run_files(&[routing, routing]);
    assert_eq!(
        result
            .diagnostics
            .iter()
            .map(|d| d.code)
            .collect::<Vec<_>>(),
        ["E0209"]
    );
}

#[test]
fn missing_required_fields_point_at_the_block_name() {
    let source = "service \"s\" { }";
    let diagnostic = first(source, "E0210");
    assert_eq!(diagnostic.primary.span.range(), 8..11);
    assert_eq!(
        diagnostic.help,
        ["add `team = \"risk-ml\"` inside this block"]
    );
    assert_eq!(
        codes(&objective(
            "availability",
            "total = t_total\n objective = 99%"
        )),
        ["E0210"]
    );
    assert_eq!(
        codes(&objective("accuracy", "metric = m\n objective = 99%")),
        ["E0210"]
    );
    assert_eq!(
        codes(&objective("logs", "index = \"i\"\n query = \"q\"")),
        ["E0210"]
    );
}

#[test]
fn label_names_follow_the_prometheus_rule() {
    assert_eq!(
        codes("service \"s\" { team = \"t\"\n labels { __env = \"x\" } }"),
        ["E0211"]
    );
    assert_eq!(codes("routing { default_receiver = \"a\", group_by = [\"bad-label\"]\n receiver \"a\" { webhook { url_file = \"/f\" } } }"), ["E0211"]);
    assert_eq!(codes("routing { default_receiver = \"a\"\n receiver \"a\" { webhook { url_file = \"/f\" } }\n inhibit severity \"page\" over \"ticket\" on [__x] }"), ["E0211"]);
    assert_eq!(
        codes(&objective("drift", "score = s{__x=\"1\"}\n max = 1")),
        ["E0211"]
    );
}

#[test]
fn object_names_are_lowercase_slugs() {
    let diagnostic = first("service \"Fraud Detector\" { team = \"t\" }", "E0212");
    assert_eq!(diagnostic.help, ["write \"fraud-detector\""]);
}

#[test]
fn block_names_are_required_or_forbidden_by_kind() {
    assert_eq!(codes("service { team = \"t\" }"), ["E0213"]);
    assert_eq!(
        codes(&objective(
            "drift",
            "score = s\n max = 1\n forecast \"f\" { lookback = 1h, horizon = 1h }"
        )),
        ["E0214"]
    );
}

#[test]
fn inhibition_cycles_are_found_through_chains() {
    let header =
        "routing { default_receiver = \"a\"\n receiver \"a\" { webhook { url_file = \"/f\" } }\n";
    assert_eq!(codes(&format!("{header} inhibit severity \"page\" over \"ticket\" on [slo]\n inhibit severity \"ticket\" over \"page\" on [slo] }}")), ["E0215"]);
    let chain = format!("{header} inhibit kind \"a\" over \"b\" on [slo]\n inhibit kind \"b\" over \"c\" on [slo]\n inhibit kind \"c\" over \"a\" on [slo] }}");
    let diagnostic = first(&chain, "E0215");
    assert_eq!(diagnostic.secondary.len(), 2);
    assert_eq!(codes(&format!("{header} inhibit kind \"a\" over \"b\" on [slo]\n inhibit kind \"b\" over \"c\" on [slo] }}")), Vec::<&str>::new());
    // Different labels never form a cycle.
    assert_eq!(codes(&format!("{header} inhibit kind \"a\" over \"b\" on [slo]\n inhibit severity \"b\" over \"a\" on [slo] }}")), Vec::<&str>::new());
    assert_eq!(
        codes(&format!(
            "{header} inhibit kind \"a\" over \"a\" on [slo] }}"
        )),
        ["E0215"]
    );
}

#[test]
fn fields_and_blocks_are_not_interchangeable() {
    assert_eq!(
        codes("service \"s\" { team = \"t\"\n labels = \"x\" }"),
        ["E0216"]
    );
    assert_eq!(codes("service \"s\" { team { } }"), ["E0210", "E0216"]);
}

#[test]
fn routes_outside_routing_are_rejected() {
    assert_eq!(codes("route { a = \"b\" } -> \"x\""), ["E0217"]);
}

#[test]
fn reserved_alert_labels_are_rejected() {
    assert_eq!(
        codes("service \"s\" { team = \"t\"\n labels { severity = \"critical\" } }"),
        ["E0218"]
    );
    // Metric selectors may match on any label.
    assert_eq!(
        codes("service \"s\" { team = \"t\"\n selector { service = \"x\" } }"),
        Vec::<&str>::new()
    );
}

// ---- E03xx types and units ----

#[test]
fn a_percentage_where_a_duration_is_due_names_the_expected_unit() {
    let diagnostic = first(
        &objective(
            "latency",
            "histogram = h\n threshold = 1s\n assume_bucket = true\n objective = 99%\n window = 30%",
        ),
        "E0301",
    );
    assert_eq!(
        diagnostic.primary.message,
        "expected a duration like 5m, found a percentage"
    );
}

#[test]
fn unit_mismatches_suggest_the_intended_spelling() {
    let diagnostic = first(
        &objective(
            "latency",
            "histogram = h\n threshold = 1s\n assume_bucket = true\n objective = 0.999",
        ),
        "E0301",
    );
    assert_eq!(
        diagnostic.help,
        ["percentages are written with `%`: write `99.9%` for the ratio 0.999"]
    );
    let diagnostic = first(&objective("drift", "score = s\n max = 30%"), "E0301");
    assert_eq!(
        diagnostic.help,
        ["this field is a plain number (a ratio, not a percentage): write `0.3`"]
    );
    let diagnostic = first(&objective("drift", "score = \"s\"\n max = 1"), "E0301");
    assert_eq!(
        diagnostic.help,
        ["metric selectors are written without quotes: `s`"]
    );
    let diagnostic = first("service \"s\" { team = risk }", "E0301");
    assert_eq!(diagnostic.help, ["strings are quoted: `\"risk\"`"]);
    assert_eq!(
        codes(&objective("drift", "score = s\n max = 1\n for = 5")),
        ["E0301"]
    );
    assert_eq!(
        codes(&objective(
            "latency",
            "histogram = h\n threshold = 1s\n assume_bucket = true\n objective = 99%\n buckets = 1s"
        )),
        ["E0301"]
    );
    assert_eq!(
        codes(&objective(
            "latency",
            "histogram = h\n threshold = 1s\n assume_bucket = true\n objective = 99%\n buckets = [1s, 5%]"
        )),
        ["E0301"]
    );
    assert_eq!(
        codes(&objective(
            "gpu",
            "utilization = u\n max_utilization = 10GiB"
        )),
        ["E0301"]
    );
}

#[test]
fn selectors_are_parsed_as_promql() {
    let diagnostic = first(
        &objective("drift", "score = s{a=~\"(\"}\n max = 1"),
        "E0302",
    );
    assert!(
        diagnostic.notes[0].starts_with("promql-parser: "),
        "{:?}",
        diagnostic.notes
    );
    assert_eq!(
        codes(&objective(
            "drift",
            "score = s{a=\"1\" or b=\"2\"}\n max = 1"
        )),
        ["E0303"]
    );
}

#[test]
fn control_characters_are_rejected_in_label_values() {
    assert_eq!(
        codes("service \"s\" { team = \"t\"\n labels { a = \"x\\ny\" } }"),
        ["E0304"]
    );
    assert_eq!(
        codes("service \"s\" { team = \"t\"\n labels { a = \"x\\ty\" } }"),
        Vec::<&str>::new()
    );
    // Descriptions may span lines.
    assert_eq!(
        codes("service \"s\" { team = \"t\"\n description = \"a\\nb\" }"),
        Vec::<&str>::new()
    );
}

#[test]
fn counts_are_whole_numbers() {
    assert_eq!(
        codes(&objective(
            "logs",
            "index = \"i\"\n query = \"q\"\n max_count = 1.5 per 5m"
        )),
        ["E0305"]
    );
    assert_eq!(codes("routing { default_receiver = \"a\"\n receiver \"a\" { webhook { url_file = \"/f\", max_alerts = -1 } } }"), ["E0305"]);
}

#[test]
fn numbers_beyond_exact_precision_are_rejected() {
    assert_eq!(
        codes(&objective("drift", "score = s\n max = 1e-40")),
        ["E0306"]
    );
}

#[test]
fn secrets_must_be_read_from_files() {
    let diagnostic = first("routing { default_receiver = \"a\"\n receiver \"a\" { pagerduty { routing_key = \"abc\" } } }", "E0307");
    assert!(
        diagnostic.help[0].contains("`routing_key_file = "),
        "{:?}",
        diagnostic.help
    );
    assert_eq!(codes("routing { default_receiver = \"a\"\n receiver \"a\" { slack { api_url = \"https://x\", channel = \"#c\" } } }"), ["E0307"]);
    assert_eq!(codes("routing { default_receiver = \"a\"\n receiver \"a\" { email { to = \"a@b\", from = \"c@d\", smarthost = \"h:25\", auth_password = \"p\" } } }"), ["E0307"]);
}

#[test]
fn webhook_urls_hold_no_credentials() {
    assert_eq!(codes("routing { default_receiver = \"a\"\n receiver \"a\" { webhook { url = \"https://user:pw@example.com/x\" } } }"), ["E0308"]);
    assert_eq!(codes("routing { default_receiver = \"a\"\n receiver \"a\" { webhook { url = \"https://example.com/x@y\" } } }"), Vec::<&str>::new());
}

#[test]
fn empty_strings_urls_and_choices_are_checked() {
    assert_eq!(codes("service \"s\" { team = \"\" }"), ["E0309"]);
    assert_eq!(
        codes("service \"s\" { team = \"t\", runbook = \"runbooks/x\" }"),
        ["E0310"]
    );
    assert_eq!(codes("routing { default_receiver = \"a\"\n receiver \"a\" { email { to = \"a@b\", from = \"c@d\", smarthost = \"smtp.example.com\" } } }"), ["E0310"]);
    let diagnostic = first(
        &objective(
            "logs",
            "index = \"i\"\n query = \"q\"\n max_count = 1 per 5m\n severity = \"pag\"",
        ),
        "E0311",
    );
    assert_eq!(diagnostic.help, ["did you mean \"page\"?"]);
}

#[test]
fn route_regexes_must_compile() {
    assert_eq!(codes("routing { default_receiver = \"a\"\n receiver \"a\" { webhook { url_file = \"/f\" } }\n route { team =~ \"(\" } -> \"a\" }"), ["E0312"]);
    assert_eq!(codes("routing { default_receiver = \"a\"\n receiver \"a\" { webhook { url_file = \"/f\" } }\n route { team =~ \"risk-.*\" } -> \"a\" }"), Vec::<&str>::new());
}

// ---- E04xx semantics ----

#[test]
fn objectives_are_strictly_between_zero_and_one_hundred_percent() {
    for bad in ["100%", "0%", "120%", "-5%"] {
        assert_eq!(
            codes(&objective(
                "latency",
                &format!(
                    "histogram = h\n threshold = 1s\n assume_bucket = true\n objective = {bad}"
                )
            )),
            ["E0401"],
            "{bad}"
        );
    }
}

/// A tier block sets `for` and `min_traffic` for its windows; without `burn`
/// blocks it keeps the workbook's windows; `alerts` lists the tiers kept.
#[test]
fn tiers_are_switched_off_and_tuned_as_a_whole() {
    let budget = |extra: &str| {
        program(&objective(
            "availability",
            &format!("errors = e_total\n total = t_total\n objective = 99.9%\n min_traffic = 10 per 5m\n{extra}"),
        ))
        .services[0]
            .objectives[0]
            .kind
            .budget()
            .cloned()
            .expect("budget")
    };
    let tuned = budget("page { for = 2m\n min_traffic = 50 per 10m }");
    assert_eq!(
        tuned
            .page
            .iter()
            .map(|burn| (burn.long, burn.for_))
            .collect::<Vec<_>>(),
        [
            (Duration::hours(1), Duration::minutes(2)),
            (Duration::hours(6), Duration::minutes(2))
        ]
    );
    let guards: Vec<String> = tuned
        .burn_windows()
        .filter_map(|(_, burn)| tuned.min_traffic_of(burn))
        .map(|guard| format!("{} per {}", guard.count, guard.window))
        .collect();
    assert_eq!(
        guards,
        ["50 per 10m", "50 per 10m", "10 per 5m", "10 per 5m"]
    );
    let own_for = budget("page { for = 2m\n burn { long = 1h, short = 5m, for = 5m } }");
    assert_eq!(
        own_for.page[0].for_,
        Duration::minutes(5),
        "a window's own `for` wins"
    );
    let pages_only = budget("alerts = [page]");
    assert_eq!((pages_only.page.len(), pages_only.ticket.len()), (2, 0));
    assert!(pages_only.alerts_enabled);
    let tickets_only = budget("alerts = [ticket]");
    assert_eq!((tickets_only.page.len(), tickets_only.ticket.len()), (0, 2));
    let none = budget("alerts = false");
    assert!(!none.alerts_enabled);
    assert_eq!(
        codes(&objective(
            "availability",
            "errors = e_total\n total = t_total\n objective = 99.9%\n alerts = [pages]"
        )),
        ["E0301"]
    );
}

#[test]
fn burn_alert_names_are_alert_names_of_their_own() {
    let with = |name: &str| {
        objective(
            "availability",
            &format!(
                "errors = e_total\n total = t_total\n objective = 99.9%\n burn_alert = \"{name}\""
            ),
        )
    };
    let budget = program(&with("CheckoutApiBudgetBurn")).services[0].objectives[0]
        .kind
        .budget()
        .cloned()
        .expect("budget");
    assert_eq!(budget.burn_alert, "CheckoutApiBudgetBurn");
    assert_eq!(codes(&with("checkout-api burn")), ["E0212"]);
    assert_eq!(codes(&with("DriftScoreHigh")), ["E0731"]);
    assert_eq!(codes(&with("CheckoutBurnForecast")), ["E0731"]);
    assert_eq!(codes(&with("ErrorBudgetBurn")), Vec::<&str>::new());
}

#[test]
fn budget_alerts_are_off_unless_a_budget_block_asks_for_them() {
    let with = |fields: &str| {
        objective(
            "availability",
            &format!("errors = e_total\n total = t_total\n objective = 99.9%\n{fields}"),
        )
    };
    let budget_of = |source: &str| {
        program(source).services[0].objectives[0]
            .kind
            .budget()
            .cloned()
            .expect("budget")
    };
    assert_eq!(
        budget_of(&with("")).budget_alerts,
        ir::BudgetAlerts::default()
    );
    let asked = budget_of(&with(
        " budget {\n remaining_below = 25%\n exhaustion { lookback = 1d, horizon = 3d }\n }",
    ));
    assert_eq!(asked.budget_alerts.remaining_below, Decimal::parse("0.25"));
    let exhaustion = asked.budget_alerts.exhaustion.expect("exhaustion");
    assert_eq!(
        (exhaustion.lookback, exhaustion.horizon),
        (Duration::days(1), Duration::days(3))
    );
    assert_eq!(codes(&with(" budget { remaining_below = 0% }")), ["E0732"]);
    assert_eq!(codes(&with(" budget { remaining_below = 25 }")), ["E0301"]);
    assert_eq!(
        codes(&with(
            " window = 7d\n alerts = [page]\n budget { exhaustion { lookback = 7d, horizon = 1d } }"
        )),
        ["E0733"]
    );
    assert_eq!(
        codes(&with(
            " budget { exhaustion { lookback = 1d, horizon = 31d } }"
        )),
        ["W0731"]
    );
    assert_eq!(
        codes(&with(" budget { exhaustion { lookback = 1d } }")),
        ["E0210"]
    );
    assert_eq!(codes(&with(" budget { }")), ["W0732"]);
    assert_eq!(codes(&with(" burn_alert = \"ErrorBudgetLow\"")), ["E0731"]);
}

#[test]
fn burn_windows_are_ordered() {
    let burn = |b: &str| {
        objective("availability", &format!("errors = e_total\n total = t_total\n objective = 99.9%\n page {{ burn {{ {b} }} }}"))
    };
    assert_eq!(codes(&burn("long = 1h, short = 1h")), ["E0402"]);
    assert_eq!(
        codes(&burn("long = 30d, short = 1h, factor = 1")),
        ["E0403"]
    );
    assert_eq!(codes(&burn("long = 2h, short = 5m")), ["E0210"]);
    assert_eq!(codes(&burn("long = 2h, short = 5m, factor = 0")), ["E0406"]);
    let checked = program(&burn("long = 2h, short = 10m, factor = 7.2, for = 2m"));
    let budget = checked.services[0].objectives[0]
        .kind
        .budget()
        .cloned()
        .expect("budget");
    assert_eq!(budget.page.len(), 1);
    assert_eq!(
        (budget.page[0].factor, budget.page[0].for_),
        (decimal("7.2"), Duration::minutes(2))
    );
    assert_eq!(budget.ticket.len(), 2, "the ticket tier keeps its defaults");
    let checked = program(&burn("long = 6h, short = 30m"));
    let budget = checked.services[0].objectives[0]
        .kind
        .budget()
        .cloned()
        .expect("budget");
    assert_eq!(budget.page[0].factor, decimal("6"));
}

#[test]
fn durations_that_measure_something_are_positive() {
    assert_eq!(
        codes(&objective(
            "latency",
            "histogram = h\n threshold = 0s\n objective = 99%"
        )),
        ["E0404"]
    );
    assert_eq!(
        codes(&objective(
            "drift",
            "score = s\n max = 1\n forecast { lookback = 0s, horizon = 1h }"
        )),
        ["E0404"]
    );
    assert_eq!(
        codes(&objective(
            "freshness",
            "last_success = ts\n max_age = 1h\n for = 0s"
        )),
        Vec::<&str>::new()
    );
}

#[test]
fn accuracy_slices_fit_in_the_window() {
    assert_eq!(
        codes(&objective(
            "accuracy",
            "metric = m\n min = 0.9\n objective = 95%\n window = 7d\n slice = 7d\n alerts = false"
        )),
        ["E0405"]
    );
}

#[test]
fn bounded_values_are_in_range() {
    assert_eq!(
        codes(&objective(
            "gpu",
            "utilization = u\n max_utilization = 120%"
        )),
        ["E0406"]
    );
    assert_eq!(
        codes(&objective(
            "logs",
            "index = \"i\"\n query = \"q\"\n total_query = \"*\"\n max_ratio = 100%\n window = 5m"
        )),
        ["E0406"]
    );
    assert_eq!(
        codes(&objective(
            "availability",
            "errors = e_total\n total = t_total\n objective = 99%\n min_traffic = -1 per 5m"
        )),
        ["E0406"]
    );
}

#[test]
fn latency_needs_a_histogram() {
    let diagnostic = first(
        &objective(
            "latency",
            "histogram = request_duration_seconds_count\n threshold = 1s\n assume_bucket = true\n objective = 99%",
        ),
        "E0407",
    );
    assert_eq!(
        diagnostic.help,
        ["name the histogram itself: `request_duration_seconds` (mlslo appends `_bucket`)"]
    );
}

#[test]
fn exclusive_and_dependent_fields() {
    assert_eq!(
        codes(&objective(
            "availability",
            "errors = e_total\n good = g_total\n total = t_total\n objective = 99%"
        )),
        ["E0408"]
    );
    assert_eq!(
        codes(&objective(
            "accuracy",
            "metric = m\n min = 0.9\n max = 0.95\n objective = 95%"
        )),
        ["E0408"]
    );
    assert_eq!(
        codes(&objective(
            "logs",
            "index = \"i\"\n query = \"q\"\n max_count = 1 per 5m\n max_ratio = 5%"
        )),
        ["E0408"]
    );
    assert_eq!(
        codes(&objective(
            "gpu",
            "utilization = u\n max_utilization = 90%\n memory_used = m"
        )),
        ["E0409"]
    );
    assert_eq!(
        codes(&objective(
            "gpu",
            "utilization = u\n max_utilization = 90%\n exhaustion { lookback = 1h, horizon = 1h }"
        )),
        ["E0409"]
    );
    assert_eq!(
        codes(&objective(
            "logs",
            "index = \"i\"\n query = \"q\"\n max_ratio = 5%\n window = 5m"
        )),
        ["E0409"]
    );
    let program = program(&objective("logs", "index = \"i\"\n query = \"q\"\n total_query = \"*\"\n max_ratio = 5%\n window = 15m\n severity = \"page\""));
    let ir::ObjectiveKind::Logs {
        condition,
        severity,
        ..
    } = &program.services[0].objectives[0].kind
    else {
        panic!("logs")
    };
    assert_eq!(
        *condition,
        ir::LogsCondition::MaxRatio {
            total_query: "*".into(),
            ratio: decimal("0.05"),
            window: Duration::minutes(15)
        }
    );
    assert_eq!(*severity, ir::Tier::Page);
}

// ---- warnings ----

#[test]
fn warnings_do_not_block_the_program() {
    let result = run_files(&[&objective(
        "availability",
        "errors = errors\n total = t_total\n objective = 99%",
    )]);
    assert_eq!(
        result
            .diagnostics
            .iter()
            .map(|d| (d.code, d.severity))
            .collect::<Vec<_>>(),
        [("W0001", Severity::Warning)]
    );
    assert!(result.program.is_some());
}

#[test]
fn every_prometheus_counter_suffix_counts_as_a_counter() {
    for total in ["t_total", "latency_seconds_sum", "t_count", "t_bucket"] {
        let body = format!("errors = e_total\n total = {total}\n objective = 99%");
        assert_eq!(codes(&objective("availability", &body)), [] as [&str; 0]);
    }
}

#[test]
fn counters_used_as_gauges_are_warned() {
    assert_eq!(
        codes(&objective("drift", "score = drift_total\n max = 1")),
        ["W0002"]
    );
}

#[test]
fn a_latency_threshold_must_be_a_known_bucket_boundary() {
    let latency = |extra: &str| {
        codes(&objective(
            "latency",
            &format!("histogram = h\n threshold = 300ms\n objective = 99%\n{extra}"),
        ))
    };
    assert_eq!(latency("buckets = [100ms, 250ms, 500ms]"), ["E0610"]);
    assert_eq!(latency(""), ["E0611"]);
    assert_eq!(latency("assume_bucket = true"), Vec::<&str>::new());
    assert_eq!(
        latency("buckets = [100ms, 250ms, 500ms]\n assume_bucket = true"),
        ["W0003"]
    );
    assert_eq!(latency("buckets = [100ms, 300ms]"), Vec::<&str>::new());
    assert_eq!(latency("assume_bucket = 1"), ["E0301"]);
    let diagnostic = first(&objective("latency", "histogram = h\n threshold = 300ms\n objective = 99%\n buckets = [1s, 100ms, 250ms, 500ms]"), "E0610");
    assert_eq!(
        diagnostic.help[0],
        "the nearest declared boundaries are 250ms and 500ms: use one as the threshold, \
         or add 300ms to the histogram's instrumentation and to `buckets`"
    );
    let diagnostic = first(
        &objective(
            "latency",
            "histogram = h\n threshold = 80ms\n objective = 99%",
        ),
        "E0611",
    );
    assert!(
        diagnostic.help[0].contains("the nearest Prometheus client default boundaries are 50ms and 100ms; the nearest OpenTelemetry default boundaries are 75ms and 100ms"),
        "{:?}",
        diagnostic.help
    );
}

/// A burn factor below 1 fires while the objective is met: the workbook's
/// tickets over 7 days (0.7× and 0.233×) and its 3-day ticket over 28 days.
#[test]
fn burn_factors_below_one_are_warned_with_the_factor() {
    let factor_warnings = |extra: &str| {
        run_files(&[&objective(
            "availability",
            &format!("errors = e_total\n total = t_total\n objective = 99.9%\n{extra}"),
        )])
        .diagnostics
        .into_iter()
        .filter(|diagnostic| diagnostic.code == "W0610")
        .map(|diagnostic| diagnostic.primary.message)
        .collect::<Vec<_>>()
    };
    assert_eq!(
        factor_warnings("window = 7d"),
        [
            "the ticket alert over 1d/2h fires at 0.7× the sustainable error rate",
            "the ticket alert over 3d/6h fires at 0.233333333333× the sustainable error rate",
        ]
    );
    assert_eq!(factor_warnings("window = 28d").len(), 1);
    assert_eq!(factor_warnings("window = 30d"), Vec::<String>::new());
    assert_eq!(
        factor_warnings("window = 7d\n ticket { burn { long = 1d, short = 2h, factor = 1 } }"),
        Vec::<String>::new()
    );
    assert_eq!(
        factor_warnings("window = 7d\n alerts = false"),
        Vec::<String>::new()
    );
    assert_eq!(
        codes(&objective(
            "availability",
            "errors = e_total\n total = t_total\n objective = 99%\n window = 7d\n min_traffic = 1 per 6h\n ticket { burn { long = 1d, short = 2h, factor = 1 } }"
        )),
        ["W0611"]
    );
}

#[test]
fn template_delimiters_are_warned() {
    assert_eq!(
        codes("service \"s\" { team = \"t\"\n labels { a = \"{{ $value }}\" } }"),
        ["W0004"]
    );
    assert_eq!(
        codes("service \"s\" { team = \"t\", description = \"{{x}}\" }"),
        ["W0004"]
    );
}

#[test]
fn alerts_that_can_never_fire_are_warned() {
    // 90% objective: the 14.4x page needs a 144% error ratio; 6x needs 60% (fine).
    let diagnostics = run_files(&[&objective(
        "availability",
        "errors = e_total\n total = t_total\n objective = 90%",
    )])
    .diagnostics;
    assert_eq!(
        diagnostics.iter().map(|d| d.code).collect::<Vec<_>>(),
        ["W0005"]
    );
    assert!(
        diagnostics[0].primary.message.contains("above 1.44"),
        "{}",
        diagnostics[0].primary.message
    );
    assert_eq!(
        codes(&objective(
            "availability",
            "errors = e_total\n total = t_total\n objective = 90%\n alerts = false"
        )),
        Vec::<&str>::new()
    );
}

#[test]
fn overriding_the_service_selector_is_warned() {
    assert_eq!(codes("service \"s\" { team = \"t\"\n selector { model = \"a\" }\n drift \"d\" { score = s{model=\"b\"}, max = 1 } }"), ["W0006"]);
}

#[test]
fn unused_receivers_are_warned() {
    assert_eq!(codes("routing { default_receiver = \"a\"\n receiver \"a\" { webhook { url_file = \"/f\" } }\n receiver \"b\" { webhook { url_file = \"/f\" } } }"), ["W0007"]);
}

// ---- whole-run properties ----

#[test]
fn all_errors_of_all_files_are_reported_at_once_sorted_by_span() {
    let result = run_files(&[
        "service \"a\" { team = \"t\", runbok = \"x\" }",
        "service \"b\" { }\nrouting { default_receiver = \"x\" }",
    ]);
    let found: Vec<&str> = result.diagnostics.iter().map(|d| d.code).collect();
    assert_eq!(found, ["E0202", "E0210", "E0207"]);
    let starts: Vec<u32> = result
        .diagnostics
        .iter()
        .map(|d| d.primary.span.start)
        .collect();
    let mut sorted = starts.clone();
    sorted.sort();
    assert_eq!(starts, sorted);
}

#[test]
fn empty_input_is_a_clean_empty_program() {
    let result = run_files(&[""]);
    assert!(result.diagnostics.is_empty());
    assert_eq!(result.program.map(|p| p.services.len()), Some(0));
}

/// Codes are raised by name (`codes::UNKNOWN_FIELD.at(...)`), so every code the
/// checker emits is registered; a code written as a string would bypass that.
#[test]
fn every_code_is_raised_by_name_and_registered_with_an_explanation() {
    let sources = [
        include_str!("mod.rs"),
        include_str!("budget.rs"),
        include_str!("checker.rs"),
        include_str!("generated_alerts.rs"),
        include_str!("inhibition.rs"),
        include_str!("labels_and_annotations.rs"),
        include_str!("names.rs"),
        include_str!("objectives/mod.rs"),
        include_str!("objectives/budgeted.rs"),
        include_str!("objectives/grouping.rs"),
        include_str!("objectives/logs.rs"),
        include_str!("objectives/thresholds.rs"),
        include_str!("program.rs"),
        include_str!("receivers.rs"),
        include_str!("routing.rs"),
        include_str!("schema.rs"),
        include_str!("selector_parser.rs"),
        include_str!("selectors.rs"),
        include_str!("values.rs"),
    ];
    for source in sources {
        // Unit tests below `#[cfg(test)]` name codes to compare with.
        let source = source
            .split("#[cfg(test)]\nmod tests {")
            .next()
            .unwrap_or(source);
        let literal = source
            .match_indices("\"E0")
            .chain(source.match_indices("\"W0"))
            .map(|(index, _)| &source[index..index + 6])
            .find(|text| text[2..].bytes().all(|byte| byte.is_ascii_digit()));
        assert_eq!(literal, None, "a code raised by a string literal");
    }
    for info in CODES {
        assert!(
            info.code.len() == 5 && (info.code.starts_with("E0") || info.code.starts_with('W')),
            "{}",
            info.code
        );
        assert!(
            !info.title.is_empty() && !info.title.ends_with('.'),
            "{}",
            info.code
        );
        assert!(
            info.title.starts_with(|c: char| c.is_ascii_lowercase()),
            "{}",
            info.code
        );
        assert!(
            info.explanation.len() > 200,
            "{} needs a longer explanation",
            info.code
        );
    }
    let mut sorted: Vec<&str> = CODES.iter().map(|info| info.code).collect();
    sorted.sort();
    sorted.dedup();
    assert_eq!(sorted.len(), CODES.len(), "codes are unique");
}

macro_rules! invalid_examples {
    ($($code:literal),* $(,)?) => {
        &[$(($code, include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/invalid/", $code, ".slo")))),*]
    };
}

/// Each registered code has `tests/data/invalid/<CODE>.slo`, which triggers that
/// code and no other error (include_str! fails the build when a file is missing).
#[test]
fn each_code_has_a_minimal_invalid_example_that_triggers_exactly_it() {
    let examples: &[(&str, &str)] = invalid_examples![
        "E0201", "E0202", "E0203", "E0204", "E0205", "E0206", "E0207", "E0208", "E0209", "E0210",
        "E0211", "E0212", "E0213", "E0214", "E0215", "E0216", "E0217", "E0218", "E0301", "E0302",
        "E0303", "E0304", "E0305", "E0306", "E0307", "E0308", "E0309", "E0310", "E0311", "E0312",
        "E0401", "E0402", "E0403", "E0404", "E0405", "E0406", "E0407", "E0408", "E0409", "E0600",
        "E0601", "E0602", "E0603", "E0610", "E0611", "E0630", "E0631", "E0632", "E0640", "E0650",
        "E0651", "E0652", "E0653", "E0654", "E0655", "E0656", "E0657", "E0658", "E0659", "E0700",
        "E0701", "E0702", "E0703", "E0710", "E0711", "E0712", "E0713", "E0714", "E0720", "E0730",
        "E0731", "E0732", "E0733", "E0740", "W0001", "W0002", "W0003", "W0004", "W0005", "W0006",
        "W0007", "W0008", "W0501", "W0502", "W0503", "W0504", "W0505", "W0600", "W0601", "W0610",
        "W0611", "W0620", "W0630", "W0640", "W0641", "W0642", "W0650", "W0651", "W0652", "W0700",
        "W0701", "W0702", "W0720", "W0721", "W0730", "W0731", "W0732",
    ];
    let listed: Vec<&str> = examples.iter().map(|(code, _)| *code).collect();
    let registered: Vec<&str> = CODES.iter().map(|info| info.code).collect();
    assert_eq!(listed, registered);
    for (code, source) in examples {
        // The whole front end: E06xx and W06xx verify the generated system.
        let mut map = SourceMap::new();
        map.add(format!("{code}.slo"), *source);
        let (_, diagnostics) = crate::compiler::check_sources(&map);
        // A warning example without a routing block also gets W0600; one with a
        // routing block but no monitoring block gets W0640, and W0641 when its
        // default receiver has a single integration.
        let incidental = ["W0600", "W0640", "W0641"];
        let found: Vec<&str> = diagnostics
            .iter()
            .map(|d| d.code)
            .filter(|found_code| !incidental.contains(found_code) || found_code == code)
            .collect();
        assert!(
            !found.is_empty() && found.iter().all(|found_code| found_code == code),
            "{code}.slo gives {found:?}"
        );
    }
}

// ---- never panic: random documents built from the language's own pieces ----

mod random_documents {
    use super::*;
    use proptest::prelude::*;

    const KEYS: &[&str] = &[
        "team",
        "runbook",
        "description",
        "histogram",
        "threshold",
        "buckets",
        "objective",
        "window",
        "errors",
        "good",
        "total",
        "metric",
        "min",
        "max",
        "slice",
        "score",
        "for",
        "utilization",
        "max_utilization",
        "memory_used",
        "memory_free",
        "last_success",
        "max_age",
        "feeds",
        "index",
        "query",
        "max_count",
        "total_query",
        "max_ratio",
        "severity",
        "min_traffic",
        "alerts",
        "long",
        "short",
        "factor",
        "lookback",
        "horizon",
        "group_by",
        "expected_groups",
        "default_receiver",
        "routing_key",
        "routing_key_file",
        "url",
        "url_file",
        "smarthost",
        "to",
        "from",
        "channel",
        "api_url_file",
        "objectve",
        "labels",
        "env",
    ];
    const VALUES: &[&str] = &[
        "99.9%",
        "0%",
        "100%",
        "90%",
        "5m",
        "0s",
        "30d",
        "1h",
        "3d",
        "0.3",
        "-1",
        "1e-40",
        "\"x\"",
        "\"\"",
        "\"d\"",
        "true",
        "false",
        "metric_total",
        "m{a=\"1\"}",
        "m{a=~\"(\"}",
        "h_count",
        "[1s, 2s]",
        "[\"d\", \"x\"]",
        "[a, b]",
        "10 per 5m",
        "1.5 per 0s",
        "10GiB",
        "\"https://u:p@h/x\"",
        "\"h:25\"",
        "\"{{x}}\"",
        "\"a\\nb\"",
    ];
    const KINDS: &[&str] = &[
        "service \"s\"",
        "service \"d\"",
        "service",
        "routing",
        "latency \"l\"",
        "availability \"a\"",
        "accuracy \"c\"",
        "drift \"d\"",
        "gpu \"g\"",
        "freshness \"f\"",
        "logs \"x\"",
        "labels",
        "selector",
        "forecast",
        "exhaustion",
        "page",
        "ticket",
        "burn",
        "receiver \"x\"",
        "receiver \"d\"",
        "pagerduty",
        "slack",
        "webhook",
        "email",
        "latncy \"l\"",
    ];
    const ROUTING_ITEMS: &[&str] = &[
        "route { team = \"t\" } -> \"x\"",
        "route { team =~ \"(\" } -> [\"x\", \"y\"] continue",
        "inhibit severity \"page\" over \"ticket\" on [slo]",
        "inhibit severity \"ticket\" over \"page\" on [slo, __x]",
    ];

    fn item() -> impl Strategy<Value = String> {
        let leaf = prop_oneof![
            (0..KEYS.len(), 0..VALUES.len())
                .prop_map(|(k, v)| format!("{} = {}", KEYS[k], VALUES[v])),
            (0..ROUTING_ITEMS.len()).prop_map(|i| ROUTING_ITEMS[i].to_owned()),
        ];
        leaf.prop_recursive(4, 64, 8, |inner| {
            (0..KINDS.len(), proptest::collection::vec(inner, 0..8))
                .prop_map(|(kind, items)| format!("{} {{\n{}\n}}", KINDS[kind], items.join("\n")))
        })
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]
        #[test]
        fn check_never_panics_and_keeps_its_invariants(items in proptest::collection::vec(item(), 0..6)) {
            let source = items.join("\n");
            let Ok(file) = syntax::parse(&source, 0) else {
                return Ok(());
            };
            let result = check(&[file]);
            let has_errors = result.diagnostics.iter().any(Diagnostic::is_error);
            prop_assert_eq!(result.program.is_some(), !has_errors);
            let starts: Vec<u32> = result.diagnostics.iter().map(|d| d.primary.span.start).collect();
            let mut sorted = starts.clone();
            sorted.sort();
            prop_assert_eq!(starts, sorted);
            for diagnostic in &result.diagnostics {
                prop_assert!(CODES.iter().any(|info| info.code == diagnostic.code));
                prop_assert!(diagnostic.primary.span.end as usize <= source.len());
            }
        }
    }
}

#[test]
fn user_inhibitions_that_reverse_a_derived_one_are_cycles() {
    let header =
        "routing { default_receiver = \"a\"\n receiver \"a\" { webhook { url_file = \"/f\" } }\n";
    let diagnostic = first(
        &format!("{header} inhibit severity \"ticket\" over \"page\" on [slo] }}"),
        "E0215",
    );
    assert_eq!(
        diagnostic.notes[1],
        "mlslo derives this inhibition from the objectives itself: severity=\"page\" mutes severity=\"ticket\""
    );
    assert_eq!(
        codes(&format!(
            "{header} inhibit kind \"drift\" over \"gpu\" on [service] }}"
        )),
        ["E0215"]
    );
    // The freshness-over-drift inhibition exists only where `feeds` is declared.
    assert_eq!(
        codes(&format!(
            "{header} inhibit kind \"drift\" over \"freshness\" on [service] }}"
        )),
        Vec::<&str>::new()
    );
}

#[test]
fn objectives_outside_a_service_say_where_they_belong() {
    let diagnostic = first("latency \"p99\" { }", "E0201");
    assert!(
        diagnostic.help[0].starts_with("objectives belong inside a service"),
        "{:?}",
        diagnostic.help
    );
}

#[test]
fn an_objective_window_too_short_for_any_default_burn_window_is_warned() {
    let body = |extra: &str| {
        objective(
            "availability",
            &format!("errors = e_total\n total = t_total\n objective = 99%\n window = 1h\n{extra}"),
        )
    };
    assert_eq!(codes(&body("")), ["W0008"]);
    assert_eq!(codes(&body("alerts = false")), Vec::<&str>::new());
    // A 1h window at 99% is a 36 s budget, gone before this page can fire.
    assert_eq!(
        codes(&body(
            "page { burn { long = 10m, short = 1m, factor = 6 } }"
        )),
        ["W0501"]
    );
}

#[test]
fn names_that_generate_one_output_are_refused_across_files() {
    let logs = |service: &str, objective: &str| {
        format!(
            "service \"{service}\" {{\n team = \"t\"\n logs \"{objective}\" {{ index = \"i\", query = 'q', max_count = 1 per 5m }}\n}}\n"
        )
    };
    let result = run_files(&[&logs("a-b", "c"), &logs("a", "b-c")]);
    let clash: Vec<&Diagnostic> = result
        .diagnostics
        .iter()
        .filter(|diagnostic| diagnostic.code == "E0630")
        .collect();
    assert_eq!(clash.len(), 1, "one clash, reported once: {clash:#?}");
    assert!(clash[0].primary.message.contains("watcher/a-b-c.json"));
    assert_eq!(clash[0].secondary.len(), 1);
    assert!(result.program.is_none());
    let drift = |service: &str| {
        format!("service \"{service}\" {{\n team = \"t\"\n drift \"d\" {{ score = s, max = 0.3 }}\n}}\n")
    };
    let clash = first(&(drift("my_svc") + &drift("my-svc")), "E0630");
    assert!(clash.primary.message.contains("`my-svc-slo`"), "{clash:#?}");
    assert!(codes(&(drift("a") + &drift("a.b") + &drift("a-b"))).is_empty());
}

#[test]
fn durations_beyond_prometheus_range_are_refused_everywhere() {
    let drift = objective("drift", "score = s\n max = 0.3\n for = 293y");
    assert_eq!(codes(&drift), vec!["E0632"]);
    assert!(codes(&objective("drift", "score = s\n max = 0.3\n for = 292y")).is_empty());
    let logs = objective(
        "logs",
        "index = \"i\"\n query = 'q'\n max_count = 1 per 293y",
    );
    assert_eq!(codes(&logs), vec!["E0632"]);
}

const GROUPED_AVAILABILITY: &str =
    "errors = requests_total{code=~\"5..\"}\n total = requests_total\n objective = 99.9%";

#[test]
fn group_by_is_read_in_written_order_on_every_kind_with_series() {
    for (kind, body) in [
        ("availability", GROUPED_AVAILABILITY),
        (
            "latency",
            "histogram = d_seconds\n threshold = 1s\n assume_bucket = true\n objective = 99%",
        ),
        ("accuracy", "metric = m\n min = 0.9\n objective = 99%"),
        ("drift", "score = s\n max = 1"),
        ("gpu", "utilization = u\n max_utilization = 90%"),
        ("freshness", "last_success = t\n max_age = 1h"),
    ] {
        let source = objective(kind, &format!("{body}\n group_by = [model_version, model]"));
        let result = run_files(&[&source]);
        let program = result
            .program
            .unwrap_or_else(|| panic!("{kind}: {:#?}", result.diagnostics));
        assert_eq!(
            program.services[0].objectives[0].group_by,
            ["model_version", "model"],
            "{kind}"
        );
    }
    let ungrouped = program(&format!(
        "monitoring {{ heartbeat = none }}\n{}",
        objective("drift", "score = s\n max = 1")
    ));
    assert!(!ungrouped.services[0].objectives[0].is_grouped());
}

#[test]
fn group_by_refuses_logs_duplicates_generated_and_static_labels() {
    assert_eq!(
        codes(&objective(
            "logs",
            "index = \"i\"\n query = \"q\"\n max_count = 1 per 5m\n group_by = [model]"
        )),
        ["E0700"]
    );
    let grouped = |group_by: &str| {
        objective(
            "availability",
            &format!("{GROUPED_AVAILABILITY}\n group_by = {group_by}"),
        )
    };
    assert_eq!(codes(&grouped("[model, model]")), ["E0701"]);
    for generated in [
        "service",
        "slo",
        "severity",
        "team",
        "kind",
        "le",
        "alertname",
    ] {
        assert_eq!(
            codes(&grouped(&format!("[model, {generated}]"))),
            ["E0702"],
            "{generated}"
        );
    }
    assert_eq!(codes(&grouped("[\"bad-label\"]")), ["E0211"]);
    assert_eq!(codes(&grouped("model")), ["E0301"]);
    let static_service = "service \"svc\" {\n team = \"t\"\n labels { region = \"eu\" }\n drift \"o\" { score = s\n max = 1\n group_by = [region] }\n}";
    assert_eq!(codes(static_service), ["E0703"]);
    let static_objective = "service \"svc\" {\n team = \"t\"\n drift \"o\" { score = s\n max = 1\n group_by = [region]\n labels { region = \"eu\" } }\n}";
    assert_eq!(codes(static_objective), ["E0703"]);
}

#[test]
fn a_group_label_the_selector_fixes_is_warned() {
    let pinned = objective(
        "availability",
        "errors = requests_total{model=\"ranker\", code=~\"5..\"}\n total = requests_total{model=\"ranker\"}\n objective = 99.9%\n group_by = [model]",
    );
    let diagnostic = first(&pinned, "W0700");
    assert_eq!(diagnostic.severity, Severity::Warning);
    let regex = objective(
        "availability",
        "errors = requests_total{model=~\"a|b\", code=~\"5..\"}\n total = requests_total{model=~\"a|b\"}\n objective = 99.9%\n group_by = [model]",
    );
    assert!(!codes(&regex).contains(&"W0700"));
}

/// Two objectives of one service, the availability one grouped by `availability_groups`
/// and the drift one by `model`, with a routing block holding `routing_items`.
fn grouped_with_routing(availability_groups: &str, routing_items: &str) -> String {
    format!(
        "monitoring {{ heartbeat = none }}\n\
         service \"svc\" {{\n team = \"t\"\n\
         availability \"predict\" {{ errors = r_total{{code=\"500\"}}\n total = r_total\n objective = 99%\n{availability_groups} }}\n\
         drift \"embeddings\" {{ score = s\n max = 1\n group_by = [model] }}\n}}\n\
         routing {{\n default_receiver = \"chat\"\n\
         receiver \"chat\" {{ webhook {{ url = \"https://chat.example.com\" }}\n\
         email {{ to = \"a@example.com\", from = \"b@example.com\", smarthost = \"smtp.example.com:587\" }} }}\n\
         {routing_items}\n}}\n"
    )
}

/// The diagnostics of the whole front end: W0701 and W0702 come from `verify`.
fn front_end(source: &str) -> Vec<Diagnostic> {
    let mut map = SourceMap::new();
    map.add("f.slo", source);
    crate::compiler::check_sources(&map).1
}

fn front_end_codes(source: &str) -> Vec<&'static str> {
    front_end(source).iter().map(|d| d.code).collect()
}

fn front_end_first(source: &str, code: &str) -> Diagnostic {
    front_end(source)
        .into_iter()
        .find(|diagnostic| diagnostic.code == code)
        .unwrap_or_else(|| panic!("no {code} in {:?}", front_end_codes(source)))
}

#[test]
fn an_inhibit_rule_between_groups_of_the_same_label_must_hold_it_equal() {
    let crossing = "inhibit kind \"availability\" over \"drift\" on [service]";
    let grouped = "group_by = [model]";
    let diagnostic = front_end_first(&grouped_with_routing(grouped, crossing), "W0701");
    assert_eq!(diagnostic.severity, Severity::Warning);
    assert!(diagnostic
        .help
        .iter()
        .any(|help| help.contains("on [service, model]")));
    let held = "inhibit kind \"availability\" over \"drift\" on [service, model]";
    assert_eq!(
        front_end_codes(&grouped_with_routing(grouped, held)),
        Vec::<&str>::new()
    );
    // A service-wide source muting every model may be the point: not judged.
    assert_eq!(
        front_end_codes(&grouped_with_routing("", crossing)),
        Vec::<&str>::new()
    );
    // Sources grouped by another label than the targets: nothing in common to hold.
    assert_eq!(
        front_end_codes(&grouped_with_routing("group_by = [region]", crossing)),
        Vec::<&str>::new()
    );
}

#[test]
fn a_routing_group_by_without_a_group_label_is_warned_unless_it_takes_every_label() {
    let without = "group_by = [alertname, service, slo]";
    let diagnostic = front_end_first(&grouped_with_routing("", without), "W0702");
    assert!(diagnostic
        .help
        .iter()
        .any(|help| help.contains("[alertname, service, slo, model]")));
    for fine in [
        "group_by = [alertname, service, slo, model]",
        "group_by = [\"...\"]",
        "",
    ] {
        assert_eq!(
            front_end_codes(&grouped_with_routing("", fine)),
            Vec::<&str>::new(),
            "{fine}"
        );
    }
}

/// An availability objective of expression SLIs, in triple-quoted strings.
fn query_objective(errors: &str, total: &str, extra: &str) -> String {
    format!(
        "service \"svc\" {{\n team = \"t\"\n selector {{ env = \"prod\" }}\n availability \"o\" {{\n errors_query = \"\"\"{errors}\"\"\"\n total_query = \"\"\"{total}\"\"\"\n objective = 99%\n{extra}\n }}\n}}\n"
    )
}

#[test]
fn expression_slis_keep_their_text_and_selectors_without_the_service_selector() {
    let source = query_objective(
        "sum by (model) (\n   rate(req_total{code=~\"5..\"}[$window])\n )",
        "sum by (model) (rate(req_total[$window]))",
        " group_by = [model]",
    );
    let program = program(&source);
    let ir::ObjectiveKind::Availability {
        events: ir::AvailabilityEvents::Errors(ir::Counter::Query(errors)),
        total: ir::Counter::Query(total),
        ..
    } = &program.services[0].objectives[0].kind
    else {
        panic!("an availability objective of two queries");
    };
    // One line, the indentation gone; the service's `env` is not merged in.
    assert_eq!(
        errors.text,
        "sum by (model) (rate(req_total{code=~\"5..\"}[$window]))"
    );
    assert_eq!(
        errors.at(Duration::hours(6)),
        "sum by (model) (rate(req_total{code=~\"5..\"}[6h]))"
    );
    let selectors: Vec<String> = errors.selectors.iter().map(|s| s.to_promql()).collect();
    assert_eq!(selectors, [r#"req_total{code=~"5.."}"#]);
    assert_eq!(
        errors
            .rate_of
            .as_ref()
            .map(ir::Selector::to_promql)
            .as_deref(),
        Some(r#"req_total{code=~"5.."}"#)
    );
    assert_eq!(total.summed_by.as_deref(), Some(&["model".to_owned()][..]));
}

#[test]
fn expression_slis_are_checked_as_promql_at_the_position_of_the_error() {
    let errors_ok = "sum(rate(req_total{code=~\"5..\"}[$window]))";
    let total_ok = "sum(rate(req_total[$window]))";
    let broken = query_objective("sum(rate(req_total[$window])) +", total_ok, "");
    let diagnostic = first(&broken, "E0710");
    // At the end of the expression, inside the string, not the whole field.
    let at = broken
        .find(" +\"\"\"")
        .expect("the source has the operator")
        + 2;
    assert_eq!(
        diagnostic.primary.span.start as usize, at,
        "{diagnostic:#?}"
    );
    for (errors, code) in [
        ("req_total[$window]", "E0711"),
        ("scalar(sum(rate(req_total[$window])))", "E0711"),
        ("sum(rate(req_total[5m]))", "E0712"),
        ("sum(rate(req_total[{{.window}}]))", "E0712"),
        ("sum(rate(req_total[5m] offset $window))", "E0713"),
        ("sum(rate(req_total{path=\"$window\"}[$window]))", "E0713"),
    ] {
        assert_eq!(
            codes(&query_objective(errors, total_ok, "")),
            [code],
            "{errors}"
        );
    }
    // A subquery's range may be the window too.
    assert!(codes(&query_objective(
        "sum(rate(req_total{code=~\"5..\"}[$window:1m]))",
        total_ok,
        ""
    ))
    .is_empty());
    assert_eq!(
        codes(&query_objective(
            errors_ok,
            "sum by (model) (rate(req_total[$window]))",
            " group_by = [model]"
        )),
        ["E0714"]
    );
    assert!(codes(&query_objective(
        "sum by (model, region) (rate(req_total{code=~\"5..\"}[$window]))",
        "sum without (pod) (rate(req_total[$window]))",
        " group_by = [model, region]"
    ))
    .is_empty());
}

#[test]
fn a_counter_is_a_selector_or_a_query_not_both() {
    let source = objective(
        "availability",
        "errors = req_total{code=~\"5..\"}\n errors_query = \"\"\"sum(rate(req_total{code=~\"5..\"}[$window]))\"\"\"\n total = req_total\n objective = 99%",
    );
    assert_eq!(codes(&source), ["E0408"]);
    let missing_total = objective(
        "availability",
        "errors_query = \"\"\"sum(rate(req_total{code=~\"5..\"}[$window]))\"\"\"\n objective = 99%",
    );
    assert_eq!(codes(&missing_total), ["E0210"]);
}

#[test]
fn the_grafana_url_gives_each_drawn_service_its_generated_dashboard() {
    let program = program(
        r#"
grafana { url = "https://grafana.example.com/", folder = "ML SLOs" }
service "drawn" {
  team = "t"
  drift "d" {
    score = s
    max   = 0.2
    for   = 5m
  }
}
service "named" {
  team      = "t"
  dashboard = "https://grafana.example.com/d/own/view"
  drift "d" {
    score = s
    max   = 0.2
    for   = 5m
  }
}
"#,
    );
    let dashboards: Vec<Option<&str>> = program
        .services
        .iter()
        .map(|service| service.dashboard.as_deref())
        .collect();
    assert_eq!(
        dashboards,
        [
            Some("https://grafana.example.com/d/mlslo-drawn/drawn-slos"),
            Some("https://grafana.example.com/d/own/view"),
        ]
    );
    assert_eq!(program.grafana.folder, "ML SLOs");
    assert_eq!(program.grafana.sidecar_label, ir::DEFAULT_SIDECAR_LABEL);
    let without_block = program_without_grafana();
    assert_eq!(without_block.services[0].dashboard, None);
}

fn program_without_grafana() -> ir::Program {
    program(&objective("drift", "score = s\nmax = 0.2\nfor = 5m"))
}

#[test]
fn the_grafana_sidecar_label_must_be_a_kubernetes_label() {
    assert_eq!(
        codes(r#"grafana { sidecar_label = "grafana dashboard" }"#),
        ["E0658"]
    );
    assert_eq!(codes(r#"grafana { sidecar_value = "-yes" }"#), ["E0658"]);
    assert_eq!(
        codes(r#"grafana { url = "grafana.example.com" }"#),
        ["E0310"]
    );
    assert_eq!(codes(r#"grafana { folder = "" }"#).len(), 1);
    assert_eq!(codes(r#"grafana { sloth_labels = "yes" }"#).len(), 1);
    let program =
        program(r#"grafana { sidecar_label = "example.com/dashboard", sidecar_value = "yes" }"#);
    assert_eq!(program.grafana.sidecar_label, "example.com/dashboard");
    assert_eq!(program.grafana.sidecar_value, "yes");
}
