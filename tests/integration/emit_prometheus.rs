//! The generated Prometheus files checked by real tools: `promtool check rules`
//! on every rule file, `promtool test rules` on every generated test file, the
//! `PrometheusRule` manifests against the CRD schema, risky YAML scalars read back
//! by a YAML parser, and Sloth's getting-started SLO firing at the same steps as
//! Sloth's own rules. Without promtool the promtool tests print a notice and
//! return, unless `CI` is set, where they fail.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::support::{installed, mlslo, outcome, scratch, PROMTOOL};

/// Runs `mlslo build INPUT -o FOLDER/generated` and returns the output folder.
fn build(input: &str, folder: &Path) -> PathBuf {
    let out = folder.join("generated");
    let (status, _, stderr) = outcome(&mlslo(&[
        "build",
        input,
        "-o",
        out.to_str().expect("utf-8 path"),
    ]));
    assert_eq!(status, 0, "{stderr}");
    out
}

fn files_in(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .filter_map(|entry| entry.ok().map(|entry| entry.path()))
                .collect()
        })
        .unwrap_or_default();
    files.sort();
    files
}

/// A build removes its staging folder (beside the output) whether it succeeded or not.
fn assert_no_staging_left(dir: &Path) {
    let leftovers: Vec<_> = files_in(dir)
        .into_iter()
        .filter(|path| path.to_string_lossy().contains("staging"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}

/// Every file under `dir` with its bytes, in path order.
fn tree_contents(dir: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    let mut found = Vec::new();
    for path in files_in(dir) {
        if path.is_dir() {
            found.extend(tree_contents(&path));
        } else {
            let content = std::fs::read(&path).expect("read");
            found.push((path, content));
        }
    }
    found
}

fn run_promtool(promtool: &Path, dir: &Path, args: &[&str]) {
    let output = Command::new(promtool)
        .current_dir(dir)
        .args(args)
        .output()
        .expect("run promtool");
    assert!(
        output.status.success(),
        "promtool {args:?} failed:\n{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}

#[test]
fn generated_rules_and_tests_pass_promtool() {
    let Some(promtool) = installed(PROMTOOL) else {
        return;
    };
    for (input, name) in [("tests/data/emit", "kinds"), ("tests/data/sloth", "sloth")] {
        let folder = scratch(name);
        let out = build(input, &folder);
        let rules = files_in(&out.join("prometheus"));
        assert!(!rules.is_empty());
        for file in &rules {
            run_promtool(
                promtool,
                &out,
                &["check", "rules", file.to_str().expect("utf-8")],
            );
        }
        let tests = files_in(&out.join("tests"));
        assert_eq!(tests.len(), rules.len(), "one test file per rule file");
        for file in &tests {
            run_promtool(
                promtool,
                &out.join("tests"),
                &[
                    "test",
                    "rules",
                    file.file_name()
                        .and_then(|name| name.to_str())
                        .expect("utf-8"),
                ],
            );
        }
    }
}

/// Tier control: a burn alert named per objective, a page tier delayed as a whole
/// with its own traffic guard, and an objective that keeps pages only. The rules
/// say so, and the generated tests (which fire and quiet each page window under
/// those names) pass in `mlslo test` and in promtool.
#[test]
fn named_and_tuned_tiers_give_rules_and_tests_that_pass() {
    let folder = scratch("tier-control");
    std::fs::write(
        folder.join("tiers.slo"),
        r#"service "checkout" {
  team = "payments"
  availability "api" {
    errors     = http_requests_total{code=~"5.."}
    total      = http_requests_total
    objective  = 99.9%
    burn_alert = "CheckoutApiBudgetBurn"
    alerts     = [page]
    page { for = 2m, min_traffic = 100 per 5m }
  }
}
"#,
    )
    .expect("write the source");
    let out = build(folder.join("tiers.slo").to_str().expect("utf-8"), &folder);
    let rules = std::fs::read_to_string(out.join("prometheus/checkout.rules.yml")).expect("rules");
    let burn_rules: Vec<&str> = rules
        .split("- alert: ")
        .skip(1)
        .filter(|rule| rule.starts_with("CheckoutApiBudgetBurn\n"))
        .collect();
    assert_eq!(
        burn_rules.len(),
        2,
        "pages only, one rule per window pair: {rules}"
    );
    for (rule, pair) in burn_rules
        .iter()
        .zip(["long_window: 1h", "long_window: 6h"])
    {
        assert!(rule.contains("for: 2m"), "{rule}");
        assert!(rule.contains(">= 100"), "{rule}");
        assert!(rule.contains(pair), "{rule}");
        assert!(!rule.contains("severity: ticket"), "{rule}");
    }
    let tests = out.join("tests");
    let text = std::fs::read_to_string(tests.join("checkout.test.yml")).expect("tests");
    assert!(text.contains("alertname: CheckoutApiBudgetBurn"), "{text}");
    let (status, stdout, stderr) = outcome(&mlslo(&[
        "test",
        tests.join("checkout.test.yml").to_str().expect("utf-8"),
    ]));
    assert_eq!(status, 0, "{stdout}{stderr}");
    if let Some(promtool) = installed(PROMTOOL) {
        run_promtool(
            promtool,
            &out,
            &["check", "rules", "prometheus/checkout.rules.yml"],
        );
        run_promtool(promtool, &tests, &["test", "rules", "checkout.test.yml"]);
    }
}

/// Drift limits too large for a step of 1 to change their double: the generated
/// scenarios (above, a dip below, a forecast ramp) still pass in promtool and in
/// `mlslo test`, and the forecast scenario is still written.
#[test]
fn huge_drift_limits_give_generated_tests_that_pass() {
    let folder = scratch("huge-drift-limits");
    std::fs::write(
        folder.join("huge.slo"),
        r#"service "features" {
  team = "ml"
  drift "huge" {
    score = drift_psi{feature="a"}
    max   = 123456789012345678901
    for   = 10m
    forecast { lookback = 3h, horizon = 2h }
  }
  drift "huge-negative" {
    score = drift_psi{feature="b"}
    max   = -98765432109876543210.5
  }
}
"#,
    )
    .expect("write the source");
    let out = build(folder.join("huge.slo").to_str().expect("utf-8"), &folder);
    let tests = out.join("tests");
    let test_file = tests.join("features.test.yml");
    let text = std::fs::read_to_string(&test_file).expect("the generated test");
    assert!(text.contains("is forecast before it crosses"), "{text}");
    let (status, stdout, stderr) = outcome(&mlslo(&["test", test_file.to_str().expect("utf-8")]));
    assert_eq!(status, 0, "{stdout}{stderr}");
    if let Some(promtool) = installed(PROMTOOL) {
        run_promtool(promtool, &tests, &["test", "rules", "features.test.yml"]);
    }
}

#[test]
fn prometheus_rules_validate_against_the_crd_schema() {
    let folder = scratch("schema");
    let out = build("tests/data/emit", &folder);
    let schema: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string("tests/data/schemas/prometheusrule-v1.schema.json")
            .expect("CRD schema"),
    )
    .expect("schema is JSON");
    let validator = jsonschema::validator_for(&schema).expect("valid schema");
    let manifests = files_in(&out.join("kubernetes"));
    assert!(!manifests.is_empty());
    for file in manifests {
        let text = std::fs::read_to_string(&file).expect("manifest");
        let value: serde_json::Value = yaml_serde::from_str(&text).expect("manifest is YAML");
        let errors: Vec<String> = validator
            .iter_errors(&value)
            .map(|error| error.to_string())
            .collect();
        assert!(errors.is_empty(), "{}: {errors:?}", file.display());
        assert_eq!(value["kind"], "PrometheusRule");
        // The spec holds exactly the groups of the plain rule file.
        let rules_file = out.join("prometheus").join(
            file.file_name()
                .and_then(|n| n.to_str())
                .expect("utf-8")
                .replace(".prometheusrule.yaml", ".rules.yml"),
        );
        let plain: serde_json::Value =
            yaml_serde::from_str(&std::fs::read_to_string(rules_file).expect("rules"))
                .expect("YAML");
        assert_eq!(value["spec"]["groups"], plain["groups"]);
    }
    // A broken manifest is rejected by the same validator, so the check can fail.
    let bad = serde_json::json!({"apiVersion": "monitoring.coreos.com/v1", "kind": "PrometheusRule",
        "spec": {"groups": [{"name": "", "rules": [{"expr": "up", "for": "5 minutes"}]}]}});
    assert!(!validator.is_valid(&bad));
}

#[test]
fn risky_strings_read_back_unchanged() {
    let dir = scratch("risky");
    let source = dir.join("risky.slo");
    let values = [
        "on",
        "=",
        "yes",
        "null",
        "~",
        "0x1f",
        "1e3",
        "2024-01-01",
        " lead",
        "a: b",
        "#x",
        "{{ x }}",
        "it's \"q\" \\ back",
    ];
    let labels: String = values
        .iter()
        .enumerate()
        .map(|(index, value)| {
            format!(
                "l{index} = \"{}\"\n",
                value.replace('\\', "\\\\").replace('"', "\\\"")
            )
        })
        .collect();
    std::fs::write(
        &source,
        format!(
            "service \"svc\" {{\n team = \"t\"\n labels {{\n{labels} }}\n drift \"d\" {{ score = s{{f=\"{{{{x}}}}\\\"\"}} max = 0.3 }}\n}}\n"
        ),
    )
    .expect("write source");
    let out = dir.join("generated");
    let (status, _, stderr) = outcome(&mlslo(&[
        "build",
        source.to_str().expect("utf-8"),
        "-o",
        out.to_str().expect("utf-8"),
    ]));
    assert_eq!(status, 0, "{stderr}");
    let text = std::fs::read_to_string(out.join("prometheus/svc.rules.yml")).expect("rules");
    let parsed: serde_json::Value = yaml_serde::from_str(&text).expect("YAML");
    let alert = &parsed["groups"][0]["rules"][0];
    for (index, value) in values.iter().enumerate() {
        // Alert labels are Go templates in Prometheus: `{{` is escaped there.
        let expected = value.replace("{{", "{{ \"{{\" }}");
        assert_eq!(
            alert["labels"][format!("l{index}")],
            serde_json::Value::String(expected),
            "{text}"
        );
    }
    assert_eq!(alert["expr"], r#"s{f="{{x}}\""} > 0.3"#);
    if let Some(promtool) = installed(PROMTOOL) {
        run_promtool(
            promtool,
            &out,
            &["check", "rules", "prometheus/svc.rules.yml"],
        );
        run_promtool(
            promtool,
            &out.join("tests"),
            &["test", "rules", "svc.test.yml"],
        );
    }
}

#[test]
fn build_check_reports_stale_files_and_builds_are_atomic() {
    let dir = scratch("check");
    let out = dir.join("generated");
    let out_text = out.to_str().expect("utf-8");
    let (status, _, _) = outcome(&mlslo(&["build", "tests/data/sloth", "-o", out_text]));
    assert_eq!(status, 0);
    let (status, stdout, _) = outcome(&mlslo(&[
        "build",
        "tests/data/sloth",
        "-o",
        out_text,
        "--check",
    ]));
    assert_eq!((status, stdout.as_str()), (0, ""));
    // A hand edit, a stale generated file and a foreign file.
    let rules = out.join("prometheus/myservice.rules.yml");
    let original = std::fs::read_to_string(&rules).expect("rules");
    std::fs::write(&rules, original.replace("(14.4 * 0.001)", "(14 * 0.001)")).expect("edit");
    std::fs::write(
        out.join("prometheus/old.rules.yml"),
        "# Generated by mlslo from x.slo; DO NOT EDIT.\ngroups: []\n",
    )
    .expect("stale");
    std::fs::write(out.join("prometheus/mine.yml"), "groups: []\n").expect("foreign");
    // An edit that keeps the size: told apart by content, not by length.
    let tests = out.join("tests/myservice.test.yml");
    let tests_original = std::fs::read_to_string(&tests).expect("tests");
    let tests_edited =
        tests_original.replacen("evaluation_interval: 1m", "evaluation_interval: 2m", 1);
    assert_eq!(tests_edited.len(), tests_original.len());
    assert_ne!(tests_edited, tests_original);
    std::fs::write(&tests, &tests_edited).expect("same-size edit");
    let (status, stdout, _) = outcome(&mlslo(&[
        "build",
        "tests/data/sloth",
        "-o",
        out_text,
        "--check",
    ]));
    assert_eq!(status, 1);
    assert!(stdout.contains("-evaluation_interval: 2m"), "{stdout}");
    assert!(stdout.contains("-      slo:sli_error:ratio_rate5m{service=\"myservice\",slo=\"requests-availability\"} > (14 * 0.001)"), "{stdout}");
    assert!(stdout.contains("+      slo:sli_error:ratio_rate5m{service=\"myservice\",slo=\"requests-availability\"} > (14.4 * 0.001)"), "{stdout}");
    assert!(stdout.contains("+++ /dev/null"), "{stdout}");
    assert!(!stdout.contains("mine.yml"), "{stdout}");
    // A failed build changes nothing.
    let broken = dir.join("broken.slo");
    std::fs::write(&broken, "service \"x\" { team = 1 }").expect("write");
    let (status, _, _) = outcome(&mlslo(&[
        "build",
        broken.to_str().expect("utf-8"),
        "-o",
        out_text,
    ]));
    assert_eq!(status, 1);
    assert!(out.join("prometheus/old.rules.yml").exists());
    // A good build repairs the edit, removes the stale file and keeps the foreign one;
    // a file it would write unchanged is the same file as before (hard-linked).
    let manifest = out.join("kubernetes/myservice.prometheusrule.yaml");
    let manifest_before = std::fs::read_to_string(&manifest).expect("manifest");
    #[cfg(unix)]
    let inode =
        |path: &Path| std::os::unix::fs::MetadataExt::ino(&std::fs::metadata(path).expect("stat"));
    #[cfg(unix)]
    let manifest_inode = inode(&manifest);
    let (status, _, _) = outcome(&mlslo(&["build", "tests/data/sloth", "-o", out_text]));
    assert_eq!(status, 0);
    assert_eq!(std::fs::read_to_string(&rules).expect("rules"), original);
    assert_eq!(
        std::fs::read_to_string(&tests).expect("tests"),
        tests_original
    );
    assert_eq!(
        std::fs::read_to_string(&manifest).expect("manifest"),
        manifest_before
    );
    #[cfg(unix)]
    assert_eq!(inode(&manifest), manifest_inode);
    assert!(!out.join("prometheus/old.rules.yml").exists());
    assert!(out.join("prometheus/mine.yml").exists());
    assert_no_staging_left(&dir);
}

/// A file mlslo did not generate, at a path a build would write, stops the build:
/// nothing in the output changes and no staging folder is left behind.
#[test]
fn a_build_never_overwrites_a_foreign_file() {
    let folder = scratch("foreign");
    let out = build("tests/data/sloth", &folder);
    let out_text = out.to_str().expect("utf-8");
    let rules = out.join("prometheus/myservice.rules.yml");
    std::fs::write(&rules, "groups: []\n").expect("foreign");
    let before = tree_contents(&out);
    let (status, _, stderr) = outcome(&mlslo(&["build", "tests/data/sloth", "-o", out_text]));
    assert_eq!(status, 2, "{stderr}");
    assert!(
        stderr.contains("refusing to overwrite") && stderr.contains("myservice.rules.yml"),
        "{stderr}"
    );
    assert_eq!(before, tree_contents(&out));
    assert_no_staging_left(out.parent().expect("scratch folder"));
}

/// Sloth's getting-started SLO: Sloth's generated rules and ours, loaded into one
/// promtool test over the same series (a fast burn, recovery, then a slow burn),
/// fire page and ticket alerts at exactly the same evaluation steps.
#[test]
fn sloth_getting_started_alerts_fire_at_the_same_steps() {
    let Some(promtool) = installed(PROMTOOL) else {
        return;
    };
    let folder = scratch("sloth-compare");
    let out = build("tests/data/sloth", &folder);
    let dir = out.join("compare");
    std::fs::create_dir_all(&dir).expect("dir");
    std::fs::copy(
        "tests/data/sloth/sloth-getting-started.rules.yml",
        dir.join("sloth.yml"),
    )
    .expect("copy");
    std::fs::copy(
        out.join("prometheus/myservice.rules.yml"),
        dir.join("mlslo.yml"),
    )
    .expect("copy");
    // Per minute: 1000 requests; errors 0 for 6h, 2.88% for 90m, 0 for 3h, 0.45% for 10h.
    let phases: [(i64, f64); 4] = [(360, 0.0), (90, 28.8), (180, 0.0), (600, 4.5)];
    let total_minutes: i64 = phases.iter().map(|(minutes, _)| minutes).sum();
    let (mut good, mut bad) = (vec![0.0f64], vec![0.0f64]);
    for (minutes, errors) in phases {
        for _ in 0..minutes {
            good.push(good.last().copied().unwrap_or(0.0) + 1000.0 - errors);
            bad.push(bad.last().copied().unwrap_or(0.0) + errors);
        }
    }
    let join = |values: &[f64]| {
        values
            .iter()
            .map(|v| format!("{v}"))
            .collect::<Vec<_>>()
            .join(" ")
    };
    // mlslo has one alert per window pair, Sloth one per tier: a tier fires while
    // any of its pairs does.
    let ours = |severity: &str| {
        format!(
        "max(ALERTS{{alertname=\"ErrorBudgetBurn\",alertstate=\"firing\",service=\"myservice\",severity=\"{severity}\"}}) or vector(0)"
    )
    };
    let theirs = |severity: &str| {
        format!(
        "count(ALERTS{{alertname=\"MyServiceHighErrorRate\",alertstate=\"firing\",sloth_severity=\"{severity}\"}}) or vector(0)"
    )
    };
    // The one difference, an improvement: 30 minutes into the fast burn the 1h error
    // ratio is exactly 2.88% / 2 = 1.44%, equal to 14.4 × 0.1%. "Above the threshold"
    // is not met, and mlslo's exact `(14.4 * 0.001)` does not fire, while Sloth's float
    // noise (`14.4 * 0.0009999999999999432`) lowers its threshold and pages one
    // step early.
    // The other, a price of cheap long windows: mlslo's 1d ticket window is a sum of
    // recorded 5m rates, whose edge is smeared over 5 minutes, so the ticket starts
    // two steps after Sloth's `rate(x[1d])` (docs/language.md, "Long windows").
    let known_differences = BTreeMap::from([
        (("page", 390), -1),
        (("ticket", 373), -1),
        (("ticket", 374), -1),
    ]);
    let mut checks = String::new();
    for minute in 0..=total_minutes {
        for severity in ["page", "ticket"] {
            let difference = known_differences
                .get(&(severity, minute))
                .copied()
                .unwrap_or(0);
            checks.push_str(&format!(
                "  - expr: '({}) - ({})'\n    eval_time: {minute}m\n    exp_samples:\n    - labels: '{{}}'\n      value: {difference}\n",
                ours(severity),
                theirs(severity)
            ));
        }
    }
    // And the alerts do fire: a page during the fast burn, a ticket in the slow one.
    let mut fired = BTreeMap::new();
    fired.insert("page", 360 + 60);
    fired.insert("ticket", total_minutes);
    for (severity, minute) in &fired {
        checks.push_str(&format!(
            "  - expr: '{}'\n    eval_time: {minute}m\n    exp_samples:\n    - labels: '{{}}'\n      value: 1\n",
            ours(severity)
        ));
    }
    let test = format!(
        "rule_files: [sloth.yml, mlslo.yml]\nevaluation_interval: 1m\ngroup_eval_order: [sloth-slo-sli-recordings-myservice-requests-availability, sloth-slo-meta-recordings-myservice-requests-availability, sloth-slo-alerts-myservice-requests-availability, myservice/requests-availability, myservice/requests-availability/budget]\ntests:\n- interval: 1m\n  input_series:\n  - series: 'http_request_duration_seconds_count{{job=\"myservice\",code=\"200\"}}'\n    values: '{}'\n  - series: 'http_request_duration_seconds_count{{job=\"myservice\",code=\"500\"}}'\n    values: '{}'\n  promql_expr_test:\n{checks}",
        join(&good),
        join(&bad)
    );
    std::fs::write(dir.join("compare.test.yml"), test).expect("write test");
    run_promtool(promtool, &dir, &["test", "rules", "compare.test.yml"]);
}

/// The `metadata` of every manifest a build writes: `PrometheusRule`s and the
/// `AlertmanagerConfig`, each validated against its CRD schema.
fn manifest_metadata(out: &Path) -> Vec<(PathBuf, serde_json::Value)> {
    let rule_schema: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string("tests/data/schemas/prometheusrule-v1.schema.json")
            .expect("CRD schema"),
    )
    .expect("schema is JSON");
    let routing_schema: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string("tests/data/schemas/alertmanagerconfig-v1alpha1.schema.json")
            .expect("CRD schema"),
    )
    .expect("schema is JSON");
    let rule_validator = jsonschema::validator_for(&rule_schema).expect("valid schema");
    let routing_validator = jsonschema::validator_for(&routing_schema).expect("valid schema");
    let mut manifests = files_in(&out.join("kubernetes"));
    manifests.push(out.join("alertmanager/alertmanagerconfig.yaml"));
    manifests
        .into_iter()
        .map(|file| {
            let text = std::fs::read_to_string(&file).expect("manifest");
            let value: serde_json::Value = yaml_serde::from_str(&text).expect("manifest is YAML");
            let validator = if value["kind"] == "PrometheusRule" {
                &rule_validator
            } else {
                &routing_validator
            };
            let errors: Vec<String> = validator
                .iter_errors(&value)
                .map(|error| error.to_string())
                .collect();
            assert!(errors.is_empty(), "{}: {errors:?}", file.display());
            (file, value["metadata"].clone())
        })
        .collect()
}

#[test]
fn the_kubernetes_block_sets_the_namespace_labels_and_annotations_of_every_manifest() {
    let folder = scratch("kubernetes-metadata");
    let source = r#"
kubernetes {
  namespace   = "monitoring"
  labels      { release = "kube-prometheus-stack" }
  annotations { owner = "ML platform team <ml@example.com>" }
}
service "checkout" {
  team = "payments"
  availability "api" {
    errors    = http_requests_total{code=~"5.."}
    total     = http_requests_total
    objective = 99.9%
  }
}
routing {
  default_receiver = "tickets"
  receiver "tickets" { webhook { url = "https://tickets.example.com/hook" } }
  route { kind = "monitoring" } -> "tickets"
}
"#;
    std::fs::write(folder.join("input.slo"), source).expect("write input");
    let out = build(folder.join("input.slo").to_str().expect("utf-8"), &folder);
    let manifests = manifest_metadata(&out);
    assert_eq!(manifests.len(), 3, "{manifests:?}");
    for (file, metadata) in &manifests {
        assert_eq!(metadata["namespace"], "monitoring", "{}", file.display());
        assert_eq!(metadata["labels"]["release"], "kube-prometheus-stack");
        assert_eq!(metadata["labels"]["app.kubernetes.io/managed-by"], "mlslo");
        assert_eq!(
            metadata["annotations"]["owner"],
            "ML platform team <ml@example.com>"
        );
    }
    // Without the block, no namespace: `kubectl apply -n` decides.
    let plain_folder = scratch("kubernetes-metadata-none");
    let plain = build("tests/data/emit", &plain_folder);
    for (file, metadata) in manifest_metadata(&plain) {
        assert!(metadata.get("namespace").is_none(), "{}", file.display());
        assert!(metadata.get("annotations").is_none(), "{}", file.display());
    }
    // The committed example sets kube-prometheus-stack's release label.
    for (file, metadata) in manifest_metadata(Path::new("generated")) {
        assert_eq!(metadata["namespace"], "monitoring", "{}", file.display());
        assert_eq!(metadata["labels"]["release"], "kube-prometheus-stack");
    }
}
