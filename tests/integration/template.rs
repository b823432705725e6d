//! Go text/template as Prometheus runs it: the expectation tables in
//! `tests/data/template/` (Prometheus' own template tests and Go's documented
//! behaviour), alert expansion, validation, and no-panic properties.

use std::collections::BTreeMap;

use mlslo::prometheus::gotemplate::{
    expand, expand_alert, try_expand_alert, validate_alert_template, AlertData, Env, QueryFn,
    Sample, Value,
};
use proptest::prelude::*;
use serde_json::Value as Json;

struct FixedQuery(Vec<Sample>);

impl QueryFn for FixedQuery {
    fn query(&self, _expr: &str) -> Result<Vec<Sample>, String> {
        Ok(self.0.clone())
    }
}

fn json_float(v: &Json) -> f64 {
    match v {
        Json::String(s) => match s.as_str() {
            "+Inf" => f64::INFINITY,
            "-Inf" => f64::NEG_INFINITY,
            _ => f64::NAN,
        },
        // u64 values above i64::MAX (MaxUint64) come through as_f64 with rounding, as
        // Go's float64(uint64) does.
        other => other.as_f64().expect("numeric test input"),
    }
}

fn input_value(case: &Json) -> Value {
    if let Some(items) = case.get("floats").and_then(Json::as_array) {
        return Value::List(items.iter().map(|v| Value::Float(json_float(v))).collect());
    }
    if let Some(items) = case.get("ints").and_then(Json::as_array) {
        return Value::List(
            items
                .iter()
                .map(|v| Value::Int(v.as_i64().expect("int64 test input")))
                .collect(),
        );
    }
    if let Some(items) = case.get("strings").and_then(Json::as_array) {
        return Value::List(
            items
                .iter()
                .map(|v| Value::String(v.as_str().expect("string test input").to_string()))
                .collect(),
        );
    }
    Value::NoValue
}

fn query_result(case: &Json) -> Vec<Sample> {
    let Some(items) = case.get("query").and_then(Json::as_array) else {
        return Vec::new();
    };
    items
        .iter()
        .map(|s| Sample {
            labels: s["labels"]
                .as_object()
                .expect("labels object")
                .iter()
                .map(|(k, v)| (k.clone(), v.as_str().expect("label value").to_string()))
                .collect(),
            value: json_float(&s["value"]),
        })
        .collect()
}

fn alert_data() -> AlertData {
    let labels: BTreeMap<String, String> = [
        ("alertname", "HighLoad"),
        ("instance", "host:9100"),
        ("job", "node"),
        ("severity", "page"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    AlertData {
        labels,
        external_labels: [("cluster".to_string(), "eu-1".to_string())]
            .into_iter()
            .collect(),
        external_url: "http://localhost:9090".to_string(),
        value: 0.5,
    }
}

/// Runs every case of a table and returns the failures as readable lines.
fn run_table(file: &str, external_url: &str) -> (usize, Vec<String>) {
    let path = format!("{}/tests/data/template/{file}", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&path).expect("test table exists");
    let table: Json = serde_json::from_str(&text).expect("test table is JSON");
    let cases = table["cases"].as_array().expect("cases array");
    let mut failures = Vec::new();
    for case in cases {
        let template = case["text"].as_str().expect("text");
        let query = FixedQuery(query_result(case));
        let env = Env {
            query: Some(&query),
            external_url: Some(external_url.to_string()),
        };
        let got = if case.get("alert").is_some() {
            try_expand_alert("HighLoad", template, &alert_data(), &env)
        } else {
            expand("test", template, &input_value(case), &env)
        };
        let ok = match (
            &got,
            case.get("output"),
            case.get("error"),
            case.get("error_prefix"),
        ) {
            (Ok(out), Some(want), _, _) => Some(out.as_str()) == want.as_str(),
            (Err(e), _, Some(want), _) => Some(e.as_str()) == want.as_str(),
            (Err(e), _, _, Some(prefix)) => e.starts_with(prefix.as_str().unwrap_or("\u{0}")),
            _ => false,
        };
        if !ok {
            failures.push(format!(
                "{template:?}\n    want: {}\n    got:  {got:?}",
                case.get("output")
                    .or(case.get("error"))
                    .or(case.get("error_prefix"))
                    .map(Json::to_string)
                    .unwrap_or_default()
            ));
        }
    }
    (cases.len(), failures)
}

#[test]
fn prometheus_template_expansion_table() {
    let (count, failures) = run_table(
        "prometheus_expansion.json",
        "http://testhost:9090/path/prefix",
    );
    assert!(count >= 70, "table shrank to {count} cases");
    assert!(
        failures.is_empty(),
        "{} of {count} failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn go_text_template_table() {
    let (count, failures) = run_table("go_text_template.json", "http://localhost:9090");
    assert!(count >= 90, "table shrank to {count} cases");
    assert!(
        failures.is_empty(),
        "{} of {count} failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

/// The series of the promtool oracle files: `up{instance="host:9100", job="node"}` =
/// 1234567.5 (the alert's own sample) and three `m` series.
struct PromtoolQuery;

impl QueryFn for PromtoolQuery {
    fn query(&self, expr: &str) -> Result<Vec<Sample>, String> {
        let sample = |pairs: &[(&str, &str)], value: f64| Sample {
            labels: pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            value,
        };
        match expr {
            "nothing" => Ok(Vec::new()),
            // promtool's order for a selector over several series varies from run to
            // run (its test storage); the recorded oracle run returned b, a, c.
            "m" => Ok(vec![
                sample(&[("__name__", "m"), ("k", "b")], 2.0),
                sample(&[("__name__", "m"), ("k", "a")], 1.0),
                sample(&[("__name__", "m"), ("k", "c"), ("x", "1")], 3.0),
            ]),
            _ => Ok(vec![sample(
                &[
                    ("__name__", "up"),
                    ("instance", "host:9100"),
                    ("job", "node"),
                ],
                1234567.5,
            )]),
        }
    }
}

fn promtool_alert_data() -> AlertData {
    AlertData {
        labels: [
            ("__name__", "up"),
            ("instance", "host:9100"),
            ("job", "node"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect(),
        external_labels: BTreeMap::new(),
        external_url: String::new(),
        value: 1234567.5,
    }
}

/// Random templates run through promtool 2.42 (see `promtool/generate_random.py`).
fn check_random_oracle(file: &str, minimum: usize) {
    let path = format!("{}/tests/data/template/{file}", env!("CARGO_MANIFEST_DIR"));
    let table: Json = serde_json::from_str(&std::fs::read_to_string(path).expect("oracle exists"))
        .expect("oracle is JSON");
    let env = Env {
        query: Some(&PromtoolQuery),
        external_url: None,
    };
    let cases = table["cases"].as_array().expect("cases");
    let mut failures = Vec::new();
    for case in cases {
        let text = case["text"].as_str().expect("text");
        if let Some(want) = case.get("parse_error").and_then(Json::as_str) {
            let got = validate_alert_template("A", text).error.map(|e| e.message);
            if got.as_deref() != Some(want) {
                failures.push(format!("{text}\n    want: {want}\n    got:  {got:?}"));
            }
            continue;
        }
        let want = case["output"].as_str().expect("output");
        let got = expand_alert("A", text, &promtool_alert_data(), &env);
        if got != want {
            failures.push(format!("{text}\n    want: {want}\n    got:  {got}"));
        }
    }
    assert!(cases.len() >= minimum, "oracle shrank");
    assert!(
        failures.is_empty(),
        "{} of {} differ from promtool:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );
}

#[test]
fn promtool_random_oracle() {
    check_random_oracle("promtool_random.json", 390);
}

#[test]
fn promtool_random_structural_oracle() {
    check_random_oracle("promtool_random2.json", 590);
    check_random_oracle("promtool_random3.json", 580);
}

/// The recorded output of promtool 2.42 itself (see `promtool/generate.py`).
#[test]
fn promtool_oracle() {
    let path = format!(
        "{}/tests/data/template/promtool_oracle.json",
        env!("CARGO_MANIFEST_DIR")
    );
    let table: Json = serde_json::from_str(&std::fs::read_to_string(path).expect("oracle exists"))
        .expect("oracle is JSON");
    let env = Env {
        query: Some(&PromtoolQuery),
        external_url: None,
    };
    let data = promtool_alert_data();
    let mut failures = Vec::new();
    let expansions = table["expansions"].as_array().expect("expansions");
    for case in expansions {
        let text = case["text"].as_str().expect("text");
        let want = case["output"].as_str().expect("output");
        let got = expand_alert("A", text, &data, &env);
        if got != want {
            failures.push(format!("{text}\n    want: {want}\n    got:  {got}"));
        }
    }
    let parse_errors = table["parse_errors"].as_array().expect("parse_errors");
    for case in parse_errors {
        let text = case["text"].as_str().expect("text");
        let want = case["error"].as_str().expect("error");
        let got = validate_alert_template("A", text).error.map(|e| e.message);
        if got.as_deref() != Some(want) {
            failures.push(format!("{text}\n    want: {want}\n    got:  {got:?}"));
        }
    }
    assert!(
        expansions.len() >= 100 && parse_errors.len() >= 15,
        "oracle shrank"
    );
    assert!(
        failures.is_empty(),
        "{} of {} differ from promtool:\n{}",
        failures.len(),
        expansions.len() + parse_errors.len(),
        failures.join("\n")
    );
}

/// promtool 2.42's printing and humanizing of 64 sample values (see
/// `promtool/generate_values.py`).
#[test]
fn promtool_value_oracle() {
    let path = format!(
        "{}/tests/data/template/promtool_values.json",
        env!("CARGO_MANIFEST_DIR")
    );
    let table: Json = serde_json::from_str(&std::fs::read_to_string(path).expect("oracle exists"))
        .expect("oracle is JSON");
    let env = Env {
        query: None,
        external_url: None,
    };
    let cases = table["cases"].as_array().expect("cases");
    let mut failures = Vec::new();
    for case in cases {
        let raw = case["value"].as_str().expect("value");
        let value = match raw {
            "Inf" => f64::INFINITY,
            "-Inf" => f64::NEG_INFINITY,
            "NaN" => f64::NAN,
            other => other.parse().expect("float"),
        };
        let text = case["text"].as_str().expect("text");
        let want = case["output"].as_str().expect("output");
        let data = AlertData {
            value,
            ..AlertData::default()
        };
        let got = expand_alert("A", text, &data, &env);
        if got != want {
            failures.push(format!("{raw} {text}\n    want: {want}\n    got:  {got}"));
        }
    }
    assert!(cases.len() >= 640, "oracle shrank");
    assert!(
        failures.is_empty(),
        "{} of {} differ from promtool:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );
}

#[test]
fn go_parse_error_table() {
    let path = format!(
        "{}/tests/data/template/go_parse_errors.json",
        env!("CARGO_MANIFEST_DIR")
    );
    let table: Json = serde_json::from_str(&std::fs::read_to_string(path).expect("table exists"))
        .expect("table is JSON");
    let cases = table["cases"].as_array().expect("cases array");
    let mut failures = Vec::new();
    for case in cases {
        let name = case["name"].as_str().expect("name");
        let text = case["text"].as_str().expect("text");
        let want = case["contains"].as_str().expect("contains");
        match mlslo::prometheus::gotemplate::parse_template(name, text) {
            Ok(_) => failures.push(format!("{name}: parsed, want error containing {want:?}")),
            Err(e) if !e.message.contains(want) => {
                failures.push(format!("{name}: {:?} lacks {want:?}", e.message))
            }
            Err(_) => {}
        }
    }
    assert!(cases.len() >= 32, "table shrank");
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn promtool_check_rules_message_for_unclosed_action() {
    // PROMTOOLING.md 1.2: `annotation "summary": template: __alert_BadTemplate:1: unclosed action`.
    let report = validate_alert_template("BadTemplate", "{{ $value ");
    let error = report.error.expect("unclosed action is a parse error");
    assert_eq!(
        error.message,
        "template: __alert_BadTemplate:1: unclosed action"
    );
    assert_eq!(error.detail, "unclosed action");
}

#[test]
fn validation_lists_every_function_and_the_unknown_ones() {
    let report = validate_alert_template(
        "X",
        "{{ $value | humanize }} {{ range query \"up\" }}{{ . | value | humanise }}{{ end }} {{ foo (bar 1) }}",
    );
    let functions: Vec<&str> = report.functions.iter().map(String::as_str).collect();
    assert_eq!(
        functions,
        ["bar", "foo", "humanise", "humanize", "query", "value"]
    );
    let unknown: Vec<&str> = report
        .unknown_functions
        .iter()
        .map(String::as_str)
        .collect();
    assert_eq!(unknown, ["bar", "foo", "humanise"]);
    let error = report.error.expect("unknown functions do not parse");
    assert_eq!(error.detail, "function \"humanise\" not defined");
    assert_eq!((error.line, error.column), (1, 62));
}

#[test]
fn validation_positions_are_in_the_user_text() {
    let report = validate_alert_template("X", "first line\n  second {{ if }}");
    let error = report.error.expect("if without pipeline");
    assert_eq!(error.message, "template: __alert_X:2: missing value for if");
    assert_eq!((error.line, error.column), (2, 16));
}

#[test]
fn expansion_errors_become_the_prometheus_placeholder() {
    let env = Env {
        query: None,
        external_url: None,
    };
    let out = expand_alert("A", "{{ query \"up\" | first }}", &alert_data(), &env);
    assert_eq!(
        out,
        "<error expanding template: error executing template __alert_A: template: __alert_A:1:115: executing \"__alert_A\" at <query \"up\">: error calling query: runtime error: invalid memory address or nil pointer dereference>"
    );
}

#[test]
fn query_results_flow_through_pipelines() {
    let query = FixedQuery(vec![
        Sample {
            labels: [("instance".to_string(), "b".to_string())]
                .into_iter()
                .collect(),
            value: 2.0,
        },
        Sample {
            labels: [("instance".to_string(), "a".to_string())]
                .into_iter()
                .collect(),
            value: 1234567.0,
        },
    ]);
    let env = Env {
        query: Some(&query),
        external_url: None,
    };
    let text = "{{ range $i, $s := query \"x\" | sortByLabel \"instance\" }}{{ $i }}:{{ $s.Labels.instance }}={{ $s.Value | humanize }} {{ end }}{{ len (query \"x\") }} {{ with query \"x\" }}{{ (index . 1).Value }}{{ end }} {{ query \"x\" | first }}";
    assert_eq!(
        expand_alert("A", text, &alert_data(), &env),
        "0:a=1.235M 1:b=2 2 1.234567e+06 {map[instance:b] 2}"
    );
}

#[test]
fn closures_serve_as_query_functions() {
    let engine = |expr: &str| -> Result<Vec<Sample>, String> {
        if expr == "up" {
            Ok(vec![Sample {
                labels: BTreeMap::new(),
                value: 0.25,
            }])
        } else {
            Err(format!("1:1: parse error: unknown metric {expr}"))
        }
    };
    let env = Env {
        query: Some(&engine),
        external_url: None,
    };
    assert_eq!(
        expand_alert(
            "A",
            "{{ query \"up\" | first | value | humanizePercentage }}",
            &alert_data(),
            &env
        ),
        "25%"
    );
    assert_eq!(
        expand_alert("A", "{{ query \"x\" }}", &alert_data(), &env),
        "<error expanding template: error executing template __alert_A: template: __alert_A:1:115: executing \"__alert_A\" at <query \"x\">: error calling query: 1:1: parse error: unknown metric x>"
    );
}

#[test]
fn deep_nesting_is_an_error_not_a_crash() {
    let deep = format!("{{{{ {}1{} }}}}", "(".repeat(5000), ")".repeat(5000));
    let env = Env {
        query: None,
        external_url: None,
    };
    let err = expand("t", &deep, &Value::NoValue, &env).expect_err("too deep");
    assert_eq!(
        err,
        "error parsing template t: template: t:1: max expression depth exceeded"
    );
    let recursive = "{{ define \"r\" }}{{ template \"r\" . }}{{ end }}{{ template \"r\" }}";
    let err = expand("t", recursive, &Value::NoValue, &env).expect_err("unbounded recursion");
    assert!(err.contains("exceeded maximum template depth"), "{err}");
    let exponential = "{{ define \"r\" }}{{ template \"r\" . }}{{ template \"r\" . }}{{ end }}{{ template \"r\" }}";
    let err = expand("t", exponential, &Value::NoValue, &env).expect_err("exponential work");
    assert!(err.contains("exceeded"), "{err}");
}

#[test]
fn deepest_accepted_nesting_fits_a_small_thread_stack() {
    // 199 nested parentheses inside templates recursing until the execution limit: the
    // deepest native recursion any template can reach.
    let parens = 63;
    let text = format!(
        "{{{{ define \"r\" }}}}{{{{ print {}1{} }}}}{{{{ template \"r\" . }}}}{{{{ end }}}}{{{{ template \"r\" }}}}",
        "(print ".repeat(parens),
        ")".repeat(parens)
    );
    let handle = std::thread::Builder::new()
        .stack_size(1 << 20)
        .spawn(move || {
            let env = Env {
                query: None,
                external_url: None,
            };
            expand("t", &text, &Value::NoValue, &env)
        })
        .expect("spawn");
    let result = handle.join().expect("no stack overflow");
    let err = result.expect_err("recursion hits the depth limit");
    assert!(err.contains("exceeded maximum template depth"), "{err}");
    let ifs = 63;
    let text = format!(
        "{{{{ define \"r\" }}}}{}{{{{ template \"r\" . }}}}{}{{{{ end }}}}{{{{ template \"r\" }}}}",
        "{{ if 1 }}".repeat(ifs),
        "{{ end }}".repeat(ifs)
    );
    let handle = std::thread::Builder::new()
        .stack_size(1 << 20)
        .spawn(move || {
            let env = Env {
                query: None,
                external_url: None,
            };
            expand("t", &text, &Value::NoValue, &env)
        })
        .expect("spawn");
    let err = handle
        .join()
        .expect("no stack overflow")
        .expect_err("depth limit");
    assert!(err.contains("exceeded maximum template depth"), "{err}");
    let nested = format!(
        "{{{{ print {}1{} }}}}",
        "(print ".repeat(parens),
        ")".repeat(parens)
    );
    let env = Env {
        query: None,
        external_url: None,
    };
    assert_eq!(
        expand("t", &nested, &Value::NoValue, &env),
        Ok("1".to_string())
    );
}

fn template_fragment() -> impl Strategy<Value = String> {
    prop::sample::select(vec![
        "{{",
        "}}",
        "{{-",
        "-}}",
        " ",
        "\n",
        "$labels",
        "$value",
        ".Labels",
        ".Value",
        ".x",
        "$",
        "$x := ",
        "$x = ",
        "$x",
        ",",
        "|",
        "(",
        ")",
        "\"s\"",
        "`r`",
        "'c'",
        "1",
        "1.5",
        "-2",
        "0x1f",
        "1e3",
        "nil",
        "true",
        "if ",
        "else ",
        "end",
        "range ",
        "with ",
        "break",
        "continue",
        "define \"a\"",
        "template \"a\"",
        "block \"b\" .",
        "printf \"%d %s %.2f\" ",
        "humanize ",
        "humanizeDuration ",
        "index ",
        "slice ",
        "len ",
        "eq ",
        "lt ",
        "and ",
        "or ",
        "not ",
        "args ",
        "query \"up\"",
        "first ",
        "value ",
        "label \"a\" ",
        "toUpper ",
        "reReplaceAll \"(\" ",
        "print ",
        "html ",
        "js ",
        "urlquery ",
        "/*",
        "*/",
        "text",
        "\u{a0}",
        "é",
    ])
    .prop_map(str::to_string)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_strings_never_panic(text in any::<String>()) {
        let query = FixedQuery(Vec::new());
        let env = Env { query: Some(&query), external_url: None };
        let _ = expand_alert("P", &text, &alert_data(), &env);
        let _ = validate_alert_template("P", &text);
    }

    #[test]
    fn arbitrary_templates_never_panic(parts in prop::collection::vec(template_fragment(), 0..40)) {
        let text = parts.concat();
        let query = FixedQuery(vec![Sample { labels: BTreeMap::new(), value: 1.0 }]);
        let env = Env { query: Some(&query), external_url: Some("http://x/y".to_string()) };
        let _ = expand_alert("P", &text, &alert_data(), &env);
        let _ = expand("P", &text, &Value::List(vec![Value::Int(1), Value::Float(2.5)]), &env);
        let _ = validate_alert_template("P", &text);
    }
}
