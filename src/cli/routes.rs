//! `mlslo routes [ALERTS] [--alert LABELS]... [--config FILE] [--at TIME]`:
//! where a batch of firing alerts goes in an Alertmanager configuration, and
//! which alert inhibits which (amtool cannot say: it never evaluates inhibition).
//!
//! Invariants: the logic is `alertmanager::report` (the backtest routes with the
//! same `route_alerts`); this file only reads the files, the clock and the
//! arguments. The report goes to stdout, problems to stderr. Exit status: 0 the
//! report was printed and every alert is valid, 1 the configuration or the
//! alerts are invalid (a configuration error, unparsable alerts JSON, or an
//! alert Alertmanager would reject; the report is still printed for the latter)
//! or an alert does not route to the receivers of `--verify-receivers`
//! (amtool's `--verify.receivers`, for pinning routing in CI), 2 a usage or I/O
//! problem.

use super::{write_stderr, write_stdout, Format};
use super::{EXIT_CLEAN, EXIT_INVALID_INPUT, EXIT_USAGE_OR_IO};
use crate::prometheus::alertmanager;
use crate::tools::routes;
use std::path::{Path, PathBuf};

const DEFAULT_CONFIG: &str = "generated/alertmanager/alertmanager.yml";

#[derive(Debug, clap::Args)]
pub(super) struct RoutesArgs {
    /// Alerts as JSON, the body of Alertmanager's `POST /api/v2/alerts`
    /// (a list of {labels, annotations, startsAt, endsAt, generatorURL}); `-` reads stdin.
    #[arg(value_name = "ALERTS")]
    alerts: Option<PathBuf>,
    /// One more alert with these labels, such as 'alertname=X,severity=page' (repeatable).
    #[arg(long = "alert", value_name = "LABELS")]
    alert: Vec<String>,
    /// The Alertmanager configuration.
    #[arg(long, value_name = "FILE", default_value = DEFAULT_CONFIG)]
    config: PathBuf,
    /// Evaluation time for `endsAt` and time intervals: RFC 3339 or Unix seconds (default: now).
    #[arg(long, value_name = "TIME")]
    at: Option<String>,
    /// How to print the report.
    #[arg(long, value_enum, default_value_t = Format::Human)]
    format: Format,
    /// Fail unless every alert routes to exactly these receivers, comma-separated in
    /// routing-tree order, as `amtool config routes test --verify.receivers` does.
    #[arg(
        long = "verify-receivers",
        alias = "verify.receivers",
        value_name = "RECEIVERS"
    )]
    verify_receivers: Option<String>,
}

pub(super) fn run(args: &RoutesArgs) -> u8 {
    if args.alerts.is_none() && args.alert.is_empty() {
        write_stderr("error: give an alerts JSON file (or `-` for stdin), or `--alert LABELS`\n");
        return EXIT_USAGE_OR_IO;
    }
    let now = match &args.at {
        Some(text) => match routes::parse_evaluation_time(text) {
            Ok(milliseconds) => milliseconds,
            Err(message) => {
                write_stderr(&format!("error: --at: {message}\n"));
                return EXIT_USAGE_OR_IO;
            }
        },
        None => current_unix_milliseconds(),
    };
    let config_text = match super::input::read_text(&args.config) {
        Ok(text) => text,
        Err(error) => {
            let hint = if args.config.as_os_str() == DEFAULT_CONFIG {
                " (run `mlslo build` first, or give `--config FILE`)"
            } else {
                ""
            };
            write_stderr(&format!(
                "error: cannot read {}: {error}{hint}\n",
                args.config.display()
            ));
            return EXIT_USAGE_OR_IO;
        }
    };
    let config = match alertmanager::config::load(&config_text) {
        Ok(config) => config,
        Err(message) => {
            write_stderr(&format!(
                "error: {}: invalid Alertmanager configuration: {message}\n",
                args.config.display()
            ));
            return EXIT_INVALID_INPUT;
        }
    };
    let mut alerts = Vec::new();
    if let Some(path) = &args.alerts {
        let (name, text) = match read_alerts(path) {
            Ok(read) => read,
            Err(message) => {
                write_stderr(&format!("error: {message}\n"));
                return EXIT_USAGE_OR_IO;
            }
        };
        match alertmanager::parse_alerts(&text) {
            Ok(parsed) => alerts.extend(parsed),
            Err(message) => {
                write_stderr(&format!("error: {name}: {message}\n"));
                return EXIT_INVALID_INPUT;
            }
        }
    }
    for labels in &args.alert {
        match routes::parse_label_pairs(labels) {
            Ok(alert) => alerts.push(alert),
            Err(message) => {
                write_stderr(&format!("error: --alert: {message}\n"));
                return EXIT_USAGE_OR_IO;
            }
        }
    }
    let routes = routes::routes_report(&config, &alerts, now);
    match args.format {
        Format::Human => write_stdout(&routes::render_routes_text(&routes)),
        Format::Json => write_stdout(&routes::render_routes_json(&routes)),
    }
    if let Some(expected) = &args.verify_receivers {
        let mismatches = routes::verify_receivers(&routes, expected);
        if !mismatches.is_empty() {
            for mismatch in &mismatches {
                write_stderr(&format!("error: {mismatch}\n"));
            }
            write_stderr(&format!(
                "error: {} of {} alerts do not route to the expected receivers\n",
                mismatches.len(),
                routes.alerts.len()
            ));
            return EXIT_INVALID_INPUT;
        }
    }
    if routes.summary.invalid > 0 {
        write_stderr(&format!(
            "error: {} of the alerts would be rejected by Alertmanager\n",
            routes.summary.invalid
        ));
        EXIT_INVALID_INPUT
    } else {
        EXIT_CLEAN
    }
}

fn read_alerts(path: &Path) -> Result<(String, String), String> {
    if path.as_os_str() == "-" {
        let text = super::input::read_stdin_text()
            .map_err(|error| format!("cannot read stdin: {error}"))?;
        return Ok(("stdin".to_string(), text));
    }
    let text = super::input::read_text(path)
        .map_err(|error| format!("cannot read {}: {error}", path.display()))?;
    Ok((path.display().to_string(), text))
}

fn current_unix_milliseconds() -> i64 {
    // A clock before 1970 is a broken machine; the epoch is as good as any time then.
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|elapsed| i64::try_from(elapsed.as_millis()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}
