//! Expression SLIs end to end: a grouped `errors_query`/`total_query` objective
//! builds rules promtool 2.42 accepts, recorded at every window with `$window`
//! replaced and the service selector left out; its generated tests burn one model
//! and expect the page of that model alone (run by `mlslo test` and by promtool);
//! an expression mlslo cannot model still builds, with W0506 and no burn scenario;
//! a backtest's fetch plan reads the expression's selectors.

use std::process::Command;

use mlslo::prometheus::ruler::file::load_rule_file;
use mlslo::tools::backtest::fetch::plan_fetch;
use mlslo::tools::backtest::RULE_FILE_OPTIONS;

use crate::support::{installed, mlslo, outcome, read, scratch, write, Scratch, PROMTOOL};

const TWO_MODELS: &str = r#"
monitoring { heartbeat = none }

routing {
  default_receiver = "ml-chat"
  receiver "ml-chat"  { webhook { url = "https://chat.example.com/hook" } }
  receiver "ml-pager" { webhook { url = "https://pager.example.com/hook" } }
  route { severity = "page" } -> "ml-pager"
}

service "assistant" {
  team = "ml"
  selector { env = "prod" }

  availability "chat" {
    errors_query = """
      sum by (model) (
        rate(llm_requests_total{env="prod", outcome=~"error|timeout"}[$window])
      )
    """
    total_query  = """sum by (model) (rate(llm_requests_total{env="prod"}[$window]))"""
    objective    = 99.9%
    group_by     = [model]
    // Short windows keep the generated tests to a few hundred evaluations.
    page   { burn { long = 1h, short = 5m, factor = 14.4 } }
    ticket { burn { long = 2h, short = 10m, factor = 6 } }
  }
}
"#;

/// Errors from two metrics: a value only PromQL can tell.
const TWO_METRICS: &str = r#"
monitoring { heartbeat = none }

routing {
  default_receiver = "ml-chat"
  receiver "ml-chat" { webhook { url = "https://chat.example.com/hook" } }
}

service "assistant" {
  team = "ml"

  availability "chat" {
    errors_query = """
      (sum(rate(gateway_requests_total{code="504"}[$window])) or vector(0))
      + (sum(rate(llm_aborted_total[$window])) or vector(0))
    """
    total_query  = """sum(rate(gateway_requests_total[$window]))"""
    objective    = 99%
  }
}
"#;

/// The build's output folder (inside the scratch folder, which lives as long as
/// it is held) and its diagnostics.
fn build(name: &str, source: &str) -> (Scratch, std::path::PathBuf, String) {
    let work = scratch(name);
    let source = write(&work, "assistant.slo", source);
    let out = work.join("out");
    let (code, _, stderr) = outcome(&mlslo(&[
        "build",
        &source,
        "-o",
        out.to_str().expect("scratch paths are UTF-8"),
    ]));
    assert_eq!(code, 0, "{stderr}");
    (work, out, stderr)
}

fn promtool(args: &[&str]) {
    if let Some(promtool) = installed(PROMTOOL) {
        let output = Command::new(promtool)
            .args(args)
            .output()
            .expect("promtool runs");
        assert!(
            output.status.success(),
            "promtool {args:?}:\n{}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
    }
}

#[test]
fn a_grouped_expression_sli_pages_for_the_burning_model_alone() {
    let (_work, out, stderr) = build("expression-sli", TWO_MODELS);
    assert!(!stderr.contains("W0506"), "{stderr}");
    let rules_path = out.join("prometheus/assistant.rules.yml");
    let rules = read(&rules_path);
    // Every window, with the placeholder replaced; summed by the group once.
    for window in ["5m", "10m", "1h", "2h"] {
        assert!(
            rules.contains(&format!(
                "sum by (model) (rate(llm_requests_total{{env=\"prod\", outcome=~\"error|timeout\"}}[{window}]))"
            )),
            "{window}:\n{rules}"
        );
    }
    assert!(!rules.contains("$window"), "{rules}");
    assert!(!rules.contains("sum by (model) (sum by (model)"), "{rules}");
    // The service selector is not added to the expression a second time.
    assert!(!rules.contains("env=\"prod\",env"), "{rules}");
    promtool(&["check", "rules", rules_path.to_str().expect("UTF-8")]);

    let tests_path = out.join("tests/assistant.test.yml");
    let tests = read(&tests_path);
    let one_group = tests
        .split("\n- name: ")
        .find(|case| case.contains("only {model=\\\"a\\\"} burns"))
        .unwrap_or_else(|| panic!("no one-group burn scenario in\n{tests}"));
    // The input series come from the expression's selectors.
    assert!(
        one_group.contains("llm_requests_total{env=\\\"prod\\\",model=\\\"b\\\"}"),
        "{one_group}"
    );
    assert!(one_group.contains("model: a"), "{one_group}");
    assert!(!one_group.contains("model: b"), "{one_group}");
    let tests_arg = tests_path.to_str().expect("scratch paths are UTF-8");
    let (code, stdout, stderr) = outcome(&mlslo(&["test", tests_arg]));
    assert_eq!(code, 0, "mlslo test:\n{stdout}{stderr}");
    promtool(&["test", "rules", tests_arg]);

    // A backtest fetches the series the expression reads, not the recorded ones.
    let groups = load_rule_file("assistant.rules.yml", &rules, RULE_FILE_OPTIONS)
        .expect("the generated rules load");
    let plan = plan_fetch(&groups, 0, 3_600_000, 3_600_000, 1);
    assert!(
        plan.selectors
            .iter()
            .any(|selector| selector.contains("llm_requests_total")),
        "{:?}",
        plan.selectors
    );
    assert!(
        plan.selectors
            .iter()
            .all(|selector| !selector.starts_with("slo:")),
        "{:?}",
        plan.selectors
    );
}

#[test]
fn an_expression_mlslo_cannot_model_builds_with_w0506_and_valid_rules() {
    let (_work, out, stderr) = build("expression-sli-unmodelled", TWO_METRICS);
    assert!(stderr.contains("warning[W0506]: "), "{stderr}");
    assert!(stderr.contains("expression"), "{stderr}");
    let rules_path = out.join("prometheus/assistant.rules.yml");
    let rules = read(&rules_path);
    assert!(rules.contains("rate(llm_aborted_total[1h])"), "{rules}");
    // The absent alert watches the total expression's selector.
    assert!(rules.contains("absent(gateway_requests_total)"), "{rules}");
    promtool(&["check", "rules", rules_path.to_str().expect("UTF-8")]);
    let tests_path = out.join("tests/assistant.test.yml");
    let tests_arg = tests_path.to_str().expect("scratch paths are UTF-8");
    let (code, stdout, stderr) = outcome(&mlslo(&["test", tests_arg]));
    assert_eq!(code, 0, "mlslo test:\n{stdout}{stderr}");
    promtool(&["test", "rules", tests_arg]);
}
