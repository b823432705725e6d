//! Runs the built `mlslo` binary as a user would: exit codes, output streams, formats,
//! and hostile input (binary, empty, deeply nested, very large files).

use std::process::Output;

use crate::support::{mlslo, mlslo_in, scratch, status, stderr, stdout, write};

/// The panic message of a Rust binary; it must never appear.
fn assert_no_panic(output: &Output) {
    let text = stderr(output);
    assert!(!text.contains("panicked"), "mlslo panicked:\n{text}");
    assert!(
        output.status.code().is_some(),
        "mlslo was killed: {:?}",
        output.status
    );
}

const UNKNOWN_FIELD: &str = r#"service "fraud" {
  team = "risk-ml"
  latency "p99" {
    histogram = model_latency_seconds
    windw     = 28d
    threshold = 250ms
    assume_bucket = true
    objective = 99.5%
  }
}
"#;

const UNUSED_RECEIVER: &str = r##"routing {
  default_receiver = "chat"
  receiver "chat" { slack { api_url_file = "/etc/am/slack", channel = "#ml" } }
  receiver "pager" { pagerduty { routing_key_file = "/etc/am/pd" } }
}
"##;

#[test]
fn example_rules_are_clean() {
    let output = mlslo(&["check", "rules/"]);
    assert_eq!(status(&output), 0, "{}", stderr(&output));
    assert_eq!(stdout(&output), "");
    assert!(
        stderr(&output).ends_with("no problems found\n"),
        "{}",
        stderr(&output)
    );
}

#[test]
fn check_defaults_to_the_rules_folder() {
    let output = mlslo(&["check"]);
    assert_eq!(status(&output), 0, "{}", stderr(&output));
    let n_files = std::fs::read_dir("rules")
        .expect("rules/ exists")
        .filter(|entry| {
            entry
                .as_ref()
                .is_ok_and(|entry| entry.path().extension().is_some_and(|e| e == "slo"))
        })
        .count();
    assert!(n_files >= 4, "rules/ holds the example files");
    assert_eq!(
        stderr(&output),
        format!("checked {n_files} files: no problems found\n")
    );
}

#[test]
fn example_rules_use_every_objective_kind_and_a_routing_block() {
    let mut text = String::new();
    for entry in std::fs::read_dir("rules").expect("rules/ exists") {
        let path = entry.expect("rules/ is readable").path();
        if path.extension().is_none_or(|extension| extension != "slo") {
            continue; // rules/examples/ holds sample alerts, not rules.
        }
        text.push_str(&std::fs::read_to_string(path).expect("rule files are UTF-8"));
    }
    for kind in [
        "latency",
        "availability",
        "accuracy",
        "drift",
        "gpu",
        "freshness",
        "logs",
    ] {
        assert!(
            text.contains(&format!("\n  {kind} \"")),
            "no {kind} objective in rules/"
        );
    }
    assert!(text.contains("\nrouting {"), "no routing block in rules/");
}

#[test]
fn an_error_exits_1_with_a_rendered_diagnostic_on_stderr() {
    let folder = scratch("rendered_error");
    let path = write(&folder, "bad.slo", UNKNOWN_FIELD);
    let output = mlslo(&["check", &path]);
    assert_eq!(status(&output), 1);
    assert_eq!(stdout(&output), "");
    let text = stderr(&output);
    assert!(text.starts_with("error[E0202]: unknown field\n"), "{text}");
    assert!(text.contains(&format!("┌─ {path}:5:5\n")), "{text}");
    assert!(text.contains("5 │     windw     = 28d\n"), "{text}");
    assert!(text.contains("  │     ^^^^^ "), "{text}");
    assert!(text.contains("did you mean `window`?"), "{text}");
    assert!(text.ends_with("error: 1 error emitted\n"), "{text}");
    assert!(
        !text.contains('\u{1b}'),
        "no colour when stderr is not a terminal"
    );
    assert!(text.lines().all(|line| line == line.trim_end()), "{text}");
}

#[test]
fn errors_of_every_file_are_reported_in_one_run() {
    let folder = scratch("all_files");
    write(&folder, "a.slo", UNKNOWN_FIELD);
    write(&folder, "b.slo", "service \"x\" { team = \"t\" \n");
    write(&folder, "c.slo", "service \"y\" { team = 5 }\n");
    let output = mlslo(&["check", folder.to_str().expect("UTF-8 path")]);
    assert_eq!(status(&output), 1);
    let text = stderr(&output);
    let a = text.find("a.slo:").expect("a.slo reported");
    let b = text.find("b.slo:").expect("b.slo reported");
    let c = text.find("c.slo:").expect("c.slo reported");
    assert!(
        a < b && b < c,
        "files are reported in sorted order:\n{text}"
    );
    assert!(text.ends_with("error: 3 errors emitted\n"), "{text}");
}

#[test]
fn folders_are_searched_recursively_for_slo_files_only() {
    let folder = scratch("recursive");
    std::fs::create_dir_all(folder.join("nested/deeper")).expect("folders");
    write(
        &folder.join("nested/deeper"),
        "bad.slo",
        "service \"x\" { team = 5 }\n",
    );
    write(&folder, "notes.txt", "service {{{ not checked");
    write(&folder, "good.slo", "service \"y\" { team = \"t\" }\n");
    let output = mlslo(&["check", folder.to_str().expect("UTF-8 path")]);
    assert_eq!(status(&output), 1);
    let text = stderr(&output);
    assert!(text.contains("nested/deeper/bad.slo:1:"), "{text}");
    assert!(!text.contains("notes.txt"), "{text}");
}

#[test]
fn json_format_is_one_document_on_stdout_with_stable_fields() {
    let folder = scratch("json");
    let path = write(&folder, "bad.slo", UNKNOWN_FIELD);
    let output = mlslo(&["check", "--format", "json", &path]);
    assert_eq!(status(&output), 1);
    let text = stdout(&output);
    let document: serde_json::Value = serde_json::from_str(&text).expect("stdout is JSON");
    let diagnostics = document.as_array().expect("a list of diagnostics");
    assert_eq!(diagnostics.len(), 1);
    let diagnostic = diagnostics[0].as_object().expect("an object");
    let keys: Vec<&str> = diagnostic.keys().map(String::as_str).collect();
    let mut expected = vec![
        "code",
        "column",
        "end_column",
        "end_line",
        "file",
        "help",
        "labels",
        "line",
        "message",
        "notes",
        "severity",
    ];
    expected.sort_unstable();
    assert_eq!(
        keys, expected,
        "serde_json sorts keys; the order is checked below"
    );
    assert_eq!(diagnostic["code"], "E0202");
    assert_eq!(diagnostic["severity"], "error");
    assert_eq!(diagnostic["message"], "unknown field");
    assert_eq!(diagnostic["file"], path.as_str());
    assert_eq!(diagnostic["line"], 5);
    assert_eq!(diagnostic["column"], 5);
    assert_eq!(diagnostic["end_line"], 5);
    assert_eq!(diagnostic["end_column"], 10);
    assert_eq!(diagnostic["labels"][0]["primary"], true);
    assert!(diagnostic["help"][0]
        .as_str()
        .is_some_and(|help| help.contains("window")));
    // The written order of the fields is part of the interface.
    let positions: Vec<usize> = [
        "\"code\"",
        "\"severity\"",
        "\"message\"",
        "\"file\"",
        "\"line\"",
        "\"column\"",
        "\"end_line\"",
        "\"end_column\"",
        "\"labels\"",
        "\"help\"",
        "\"notes\"",
    ]
    .iter()
    .map(|key| text.find(key).expect("field present"))
    .collect();
    assert!(positions.windows(2).all(|pair| pair[0] < pair[1]), "{text}");
    assert_eq!(stderr(&output), "error: 1 error emitted\n");
}

#[test]
fn json_format_of_a_clean_run_is_an_empty_list() {
    let output = mlslo(&["check", "--format", "json", "rules"]);
    assert_eq!(status(&output), 0, "{}", stderr(&output));
    let document: serde_json::Value = serde_json::from_str(&stdout(&output)).expect("JSON");
    assert_eq!(document, serde_json::json!([]));
}

#[test]
fn warnings_pass_unless_denied() {
    let folder = scratch("warnings");
    let path = write(&folder, "routing.slo", UNUSED_RECEIVER);
    let output = mlslo(&["check", &path]);
    assert_eq!(status(&output), 0, "{}", stderr(&output));
    let text = stderr(&output);
    assert!(text.starts_with("warning["), "{text}");
    assert!(text.ends_with("warning: 1 warning emitted\n"), "{text}");

    let denied = mlslo(&["check", "--deny-warnings", &path]);
    assert_eq!(status(&denied), 1);
    assert!(
        stderr(&denied).ends_with("error: 1 warning emitted (denied by --deny-warnings)\n"),
        "{}",
        stderr(&denied)
    );
}

#[test]
fn explain_prints_the_long_form_of_a_code() {
    let output = mlslo(&["explain", "E0101"]);
    assert_eq!(status(&output), 0);
    let text = stdout(&output);
    let info = mlslo::cli::lookup_code("E0101").expect("E0101 is registered");
    assert!(
        text.starts_with(&format!("E0101: {}\n\n", info.title)),
        "{text}"
    );
    assert!(text.contains(info.explanation.trim_end()));
    let lowercase = mlslo(&["explain", "e0101"]);
    assert_eq!(stdout(&lowercase), text);
}

#[test]
fn explain_list_names_every_code() {
    let output = mlslo(&["explain", "--list"]);
    assert_eq!(status(&output), 0);
    let text = stdout(&output);
    let codes = mlslo::cli::all_codes();
    assert_eq!(text.lines().count(), codes.len());
    for info in codes {
        assert!(text.contains(&format!("{}  {}\n", info.code, info.title)));
    }
}

#[test]
fn explain_of_an_unknown_code_exits_2_with_a_suggestion() {
    let output = mlslo(&["explain", "E0110x"]);
    assert_eq!(status(&output), 2);
    assert_eq!(stdout(&output), "");
    let text = stderr(&output);
    assert!(
        text.starts_with("error: unknown diagnostic code `E0110x`\n"),
        "{text}"
    );
    assert!(text.contains("`E0110`"), "{text}");

    let bare_number = mlslo(&["explain", "101"]);
    assert_eq!(status(&bare_number), 2);
    assert!(
        stderr(&bare_number).contains("`E0101`"),
        "{}",
        stderr(&bare_number)
    );
}

#[test]
fn usage_errors_exit_2_and_help_exits_0() {
    assert_eq!(status(&mlslo(&["check", "--no-such-flag"])), 2);
    assert_eq!(status(&mlslo(&["check", "--format", "yaml"])), 2);
    assert_eq!(status(&mlslo(&["frobnicate"])), 2);
    assert_eq!(status(&mlslo(&[])), 2);
    assert_eq!(status(&mlslo(&["explain"])), 2);
    let help = mlslo(&["--help"]);
    assert_eq!(status(&help), 0);
    assert!(stdout(&help).contains("check"));
    assert_eq!(status(&mlslo(&["--version"])), 0);
}

#[test]
fn a_missing_path_exits_2_but_other_files_are_still_checked() {
    let folder = scratch("missing");
    let bad = write(&folder, "bad.slo", UNKNOWN_FIELD);
    let output = mlslo(&["check", "no/such/path.slo", &bad]);
    assert_eq!(status(&output), 2);
    let text = stderr(&output);
    assert!(
        text.starts_with("error: cannot read `no/such/path.slo`: "),
        "{text}"
    );
    assert!(text.contains("error[E0202]"), "{text}");
}

#[test]
fn a_folder_without_slo_files_exits_2() {
    let folder = scratch("no_slo_files");
    write(&folder, "readme.md", "nothing here");
    let output = mlslo(&["check", folder.to_str().expect("UTF-8 path")]);
    assert_eq!(status(&output), 2);
    assert!(
        stderr(&output).contains("no .slo files found in"),
        "{}",
        stderr(&output)
    );
}

#[test]
fn a_file_given_twice_is_read_once() {
    let output = mlslo(&["check", "rules/routing.slo", "rules", "./rules/routing.slo"]);
    assert_eq!(status(&output), 0, "{}", stderr(&output));
}

#[test]
fn a_non_utf8_file_is_an_error_not_a_panic() {
    let folder = scratch("latin1");
    let path = write(
        &folder,
        "latin1.slo",
        b"service \"caf\xE9\" {\n  team = \"x\"\n}\n".as_slice(),
    );
    let output = mlslo(&["check", &path]);
    assert_no_panic(&output);
    assert_eq!(status(&output), 1);
    let text = stderr(&output);
    assert!(
        text.starts_with("error[E0001]: file is not valid UTF-8\n"),
        "{text}"
    );
    assert!(text.contains(&format!("{path}:1:13")), "{text}");
    assert!(text.contains("byte 0xE9 here is not UTF-8"), "{text}");
}

#[test]
fn a_binary_file_is_an_error_and_its_bytes_are_not_echoed() {
    let folder = scratch("binary");
    let mut bytes: Vec<u8> = b"\x7fELF\x02\x01\x01\x00\x1b[31m".to_vec();
    bytes.extend((0..=255u8).cycle().take(4096));
    let path = write(&folder, "a.out.slo", &bytes);
    let output = mlslo(&["check", &path]);
    assert_no_panic(&output);
    assert_eq!(status(&output), 1);
    let text = stderr(&output);
    assert!(text.contains("error[E0001]"), "{text}");
    assert!(text.contains("looks like a binary file"), "{text}");
    assert!(
        !text.contains('\u{1b}'),
        "control bytes of the file reach the terminal"
    );
}

#[test]
fn an_empty_file_is_an_error() {
    let folder = scratch("empty");
    let empty = write(&folder, "empty.slo", "");
    let blank = write(&folder, "blank.slo", "\u{feff}\n  \t\r\n");
    let comment = write(&folder, "comment.slo", "// nothing yet\n");
    for path in [&empty, &blank] {
        let output = mlslo(&["check", path]);
        assert_no_panic(&output);
        assert_eq!(status(&output), 1, "{path}");
        assert!(
            stderr(&output).starts_with("error[E0003]: empty file\n"),
            "{}",
            stderr(&output)
        );
    }
    let output = mlslo(&["check", &comment]);
    assert_eq!(
        status(&output),
        0,
        "a file of comments is written on purpose"
    );
}

#[test]
fn ten_thousand_nested_braces_are_an_error_not_a_stack_overflow() {
    let folder = scratch("nested");
    let blocks = format!("{}{}", "x { ".repeat(10_000), "}".repeat(10_000));
    let braces = format!("{}{}", "{".repeat(10_000), "}".repeat(10_000));
    let lists = format!("a = {}{}", "[".repeat(10_000), "]".repeat(10_000));
    for (name, text) in [("blocks", blocks), ("braces", braces), ("lists", lists)] {
        let path = write(&folder, &format!("{name}.slo"), text);
        let output = mlslo(&["check", &path]);
        assert_no_panic(&output);
        assert_eq!(status(&output), 1, "{name}: {}", stderr(&output));
        assert!(
            stderr(&output).contains("error[E01"),
            "{name}: {}",
            stderr(&output)
        );
    }
}

#[test]
fn unterminated_input_is_an_error() {
    let folder = scratch("unterminated");
    for (name, text) in [
        ("string", "service \"fraud {\n  team = \"x\"\n}\n"),
        ("block", "service \"fraud\" {\n  team = \"x\"\n"),
        (
            "number",
            "service \"fraud\" { team = \"x\"\n latency \"a\" { threshold = 1e400 } }\n",
        ),
        (
            "unit",
            "service \"fraud\" { team = \"x\"\n drift \"a\" { for = 5 mins } }\n",
        ),
        (
            "nan",
            "service \"fraud\" { team = \"x\"\n drift \"a\" { max = NaN } }\n",
        ),
    ] {
        let path = write(&folder, &format!("{name}.slo"), text);
        let output = mlslo(&["check", &path]);
        assert_no_panic(&output);
        assert_eq!(status(&output), 1, "{name}: {}", stderr(&output));
    }
}

#[test]
fn a_file_above_the_size_limit_is_refused_without_reading_it() {
    let folder = scratch("too_large");
    let path = folder.join("huge.slo");
    let file = std::fs::File::create(&path).expect("file can be created");
    // Sparse: the file claims 257 MiB without using the disk space.
    file.set_len(mlslo::cli::MAX_FILE_BYTES + 1024 * 1024)
        .expect("file can be extended");
    drop(file);
    let path = path.to_str().expect("UTF-8 path");
    let output = mlslo(&["check", path]);
    assert_no_panic(&output);
    assert_eq!(status(&output), 1);
    let text = stderr(&output);
    assert!(text.starts_with("error[E0002]: file too large\n"), "{text}");
    assert!(
        text.contains("this file has 269484032 bytes (257 MiB)"),
        "{text}"
    );
}

#[test]
fn a_large_generated_file_is_checked_without_trouble() {
    let folder = scratch("large");
    // About 3 MB of valid services: quadratic behaviour shows as this test taking
    // minutes; speed itself is measured by benches/check.sh (to 100k objectives).
    let service = |index: usize| {
        format!(
            "service \"svc-{index}\" {{\n  team = \"t\"\n  availability \"api\" {{\n    errors = http_requests_total{{code=~\"5..\", app=\"a{index}\"}}\n    total = http_requests_total{{app=\"a{index}\"}}\n    objective = 99.9%\n  }}\n}}\n"
        )
    };
    let text: String = (0..18_000).map(service).collect();
    assert!(text.len() > 3_000_000);
    let path = write(&folder, "large.slo", &text);
    let output = mlslo(&["check", &path]);
    assert_no_panic(&output);
    assert_eq!(status(&output), 0, "{}", stderr(&output));

    // The same file with one error at the very end: found, and placed right.
    let broken = format!("{text}service \"late\" {{ team = 5 }}\n");
    let path = write(&folder, "large-broken.slo", &broken);
    let output = mlslo(&["check", &path]);
    assert_eq!(status(&output), 1);
    assert!(
        stderr(&output).contains(&format!("{path}:144001:")),
        "{}",
        stderr(&output)
    );
}

/// The fenced code blocks of the README, in order.
fn readme_code_blocks() -> Vec<String> {
    let readme = std::fs::read_to_string("README.md").expect("README.md exists");
    let mut blocks = Vec::new();
    let mut current: Option<String> = None;
    for line in readme.lines() {
        match (&mut current, line.starts_with("```")) {
            (None, true) => current = Some(String::new()),
            (Some(block), true) => {
                blocks.push(std::mem::take(block));
                current = None;
            }
            (Some(block), false) => {
                block.push_str(line);
                block.push('\n');
            }
            (None, false) => {}
        }
    }
    blocks
}

#[test]
fn the_readme_shows_real_output() {
    let blocks = readme_code_blocks();
    let session = blocks
        .iter()
        .position(|block| block.starts_with("$ mlslo check rules/checkout.slo\n"))
        .expect("the README shows a check session");
    let folder = scratch("readme");
    std::fs::create_dir_all(folder.join("rules")).expect("folder");
    write(&folder.join("rules"), "checkout.slo", &blocks[session - 1]);
    let output = mlslo_in(&folder, &["check", "rules/checkout.slo"], &[]);
    let shown = blocks[session].trim_start_matches("$ mlslo check rules/checkout.slo\n");
    assert_eq!(stderr(&output), shown, "update the README's check session");
    assert_eq!(status(&output), 1);

    let explain = blocks
        .iter()
        .find_map(|block| block.strip_prefix("$ mlslo explain E0301\n"))
        .expect("the README shows an explain session");
    let output = mlslo(&["explain", "E0301"]);
    let shown = explain.trim_end_matches("...\n");
    assert!(
        stdout(&output).starts_with(shown),
        "update the README's explain session"
    );

    let example = blocks
        .iter()
        .find(|block| block.starts_with("service \"fraud-detector\""))
        .expect("the README shows a .slo example");
    let path = write(&folder, "example.slo", example);
    let output = mlslo(&["check", &path]);
    assert_eq!(
        status(&output),
        0,
        "the README example is clean: {}",
        stderr(&output)
    );
    assert!(
        stderr(&output).ends_with("no problems found\n"),
        "{}",
        stderr(&output)
    );
}

#[test]
fn the_readme_shows_a_real_routes_session() {
    // At the alerts' own time: maintenance windows make the answer depend on it.
    let command = "$ mlslo routes rules/examples/firing-alerts.json --at 2026-05-04T09:30:00Z\n";
    let session = readme_code_blocks()
        .into_iter()
        .find_map(|block| block.strip_prefix(command).map(str::to_owned))
        .expect("the README shows a routes session");
    // Runs on a fresh clone: the example alerts and the committed generated/.
    let output = mlslo(&[
        "routes",
        "rules/examples/firing-alerts.json",
        "--at",
        "2026-05-04T09:30:00Z",
    ]);
    assert_eq!(status(&output), 0, "{}", stderr(&output));
    assert_eq!(
        stdout(&output),
        session,
        "update the README's routes session"
    );
}

#[test]
fn the_readme_shows_real_backtests() {
    let sessions: Vec<(String, String)> = readme_code_blocks()
        .into_iter()
        .filter_map(|block| {
            let rest = block.strip_prefix("$ mlslo backtest ")?;
            let (arguments, shown) = rest.split_once('\n')?;
            Some((arguments.to_string(), shown.to_string()))
        })
        .collect();
    assert!(
        sessions.len() >= 2,
        "the README shows a backtest of the fraud detector and one of the grouped model-serving objectives"
    );
    for (arguments, shown) in sessions {
        let mut command = vec!["backtest"];
        command.extend(arguments.split_whitespace());
        let output = mlslo(&command);
        assert_eq!(status(&output), 0, "{}", stderr(&output));
        assert_eq!(
            stdout(&output),
            shown,
            "update the README's session `mlslo backtest {arguments}`"
        );
    }
}

#[test]
fn the_readme_shows_a_real_cost_report_and_its_json_agrees() {
    const COMMAND: &str = "$ mlslo build --cost --scrape-interval 15s --series-per-selector 4\n";
    let shown = readme_code_blocks()
        .into_iter()
        .find_map(|block| block.strip_prefix(COMMAND).map(str::to_owned))
        .expect("the README shows a cost report");
    let folder = scratch("cost-report");
    let out = folder.join("generated");
    let out = out.to_str().expect("a UTF-8 path");
    let flags = [
        "--scrape-interval",
        "15s",
        "--series-per-selector",
        "4",
        "-o",
        out,
    ];
    let mut text_command = vec!["build", "--cost"];
    text_command.extend(flags);
    let output = mlslo(&text_command);
    assert_eq!(status(&output), 0, "{}", stderr(&output));
    assert_eq!(stdout(&output), shown, "update the README's cost report");

    let mut json_command = vec!["build", "--cost=json"];
    json_command.extend(flags);
    let output = mlslo(&json_command);
    assert_eq!(status(&output), 0, "{}", stderr(&output));
    let report: serde_json::Value =
        serde_json::from_str(&stdout(&output)).expect("--cost=json prints JSON");
    let total_row = shown
        .lines()
        .find(|line| line.starts_with("total "))
        .expect("the table has a total row");
    let figures: Vec<u64> = total_row
        .split_whitespace()
        .skip(1)
        .map(|figure| figure.parse().expect("a count"))
        .collect();
    let total = &report["total"];
    assert_eq!(
        figures,
        [
            total["rules"].as_u64().unwrap(),
            total["samples_raw_long_windows"].as_u64().unwrap(),
            total["samples_chained"].as_u64().unwrap(),
        ]
    );
    let services = report["services"].as_array().expect("services");
    let service_rows = shown
        .lines()
        .skip_while(|line| !line.starts_with("service "))
        .skip(1)
        .take_while(|line| !line.starts_with("total "))
        .count();
    assert_eq!(services.len(), service_rows);
    let chained: u64 = services
        .iter()
        .map(|service| service["samples_chained"].as_u64().unwrap())
        .sum();
    assert_eq!(chained, figures[2]);
    let saving = report["saving"].as_f64().expect("a share");
    let percent = format!("saves {:.0}% of the samples read", saving * 100.0);
    assert!(shown.contains(&percent), "{percent} not in {shown}");
    assert_eq!(report["assumptions"]["scrape_interval"], "15s");
}

#[test]
fn a_100_megabyte_file_gets_its_diagnostic_at_the_right_line() {
    let folder = scratch("hundred_megabytes");
    let comment_line = format!("# {}\n", "x".repeat(97));
    let mut text = comment_line.repeat(1_000_000);
    text.push_str("service \"x\" { team = 5 }\n");
    assert!(text.len() >= 100_000_000);
    let path = write(&folder, "huge.slo", &text);
    drop(text);
    let output = mlslo(&["check", &path]);
    assert_no_panic(&output);
    assert_eq!(status(&output), 1);
    let rendered = stderr(&output);
    assert!(
        rendered.contains(&format!("{path}:1000001:22\n")),
        "{rendered}"
    );
    let _ = std::fs::remove_dir_all(&folder);
}
