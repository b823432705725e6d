//! `mlslo backtest`: reads rules (`.slo` compiled in memory, or Prometheus rule
//! files) and recorded data, runs [`crate::tools::backtest::run`] and prints the table or
//! JSON.
//!
//! Invariants: exit 0 after a completed backtest, 2 on any unreadable or invalid
//! input (with file:line where there is one); nothing is printed to stdout before
//! every input has been read; the progress bar goes to stderr only on a terminal.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};

use super::prometheus_api::PrometheusServer;
use super::{write_stderr, write_stdout, EXIT_CLEAN, EXIT_USAGE_OR_IO};
use crate::prometheus::model::duration::parse_model_duration;
use crate::prometheus::ruler::{load_rule_file, RuleGroup};
use crate::tools::backtest::data::{
    parse_openmetrics, parse_series_notation, parse_time_ms, Dataset,
};
use crate::tools::backtest::{
    render_json, render_table, run as run_backtest, BacktestOptions, RULE_FILE_OPTIONS,
};

#[derive(Debug, clap::Args)]
pub struct BacktestArgs {
    /// Rules: .slo files or folders (compiled in memory), or Prometheus rule files (.yml/.yaml).
    #[arg(value_name = "RULES", required = true)]
    pub rules: Vec<PathBuf>,
    /// Recorded data: OpenMetrics/Prometheus text with timestamps in seconds
    /// (.om, .prom, .txt), promtool series notation with a start/interval header (.series),
    /// or Prometheus API matrix JSON from query_range (.json).
    #[arg(
        long = "data",
        value_name = "FILE",
        required_unless_present = "prometheus_url"
    )]
    pub data: Vec<PathBuf>,
    /// Pull the history of the series the rules read from this Prometheus-compatible
    /// API (Prometheus, Thanos, Mimir's prometheus prefix); needs --start and --end.
    #[arg(long, value_name = "URL", requires_all = ["start", "end"])]
    pub prometheus_url: Option<String>,
    /// Time span of one request with --prometheus-url (smaller if the server refuses
    /// to load that many samples).
    #[arg(long, value_name = "DURATION", default_value = "2h")]
    pub chunk: String,
    /// Requests in flight at once with --prometheus-url.
    #[arg(long, value_name = "N", default_value_t = 4)]
    pub concurrency: usize,
    #[command(flatten)]
    pub connection: super::connection::ConnectionArgs,
    /// First evaluation: RFC 3339 or unix seconds (default: the data's first sample).
    #[arg(long)]
    pub start: Option<String>,
    /// Last evaluation: RFC 3339 or unix seconds (default: the data's last sample).
    #[arg(long)]
    pub end: Option<String>,
    /// Evaluate every group at this interval instead of its own (default: the group's
    /// interval, or 1m).
    #[arg(long)]
    pub step: Option<String>,
    /// Alertmanager configuration for routing firings (default for .slo input: the
    /// one generated from the routing block).
    #[arg(long, value_name = "FILE")]
    pub alertmanager_config: Option<PathBuf>,
    /// Also write a self-contained HTML report with SVG charts to this file.
    #[arg(long, value_name = "FILE")]
    pub report: Option<PathBuf>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = super::Format::Human)]
    pub format: super::Format,
}

pub(super) fn run(args: &BacktestArgs) -> u8 {
    match prepare_and_run(args) {
        Ok(text) => {
            write_stdout(&text);
            EXIT_CLEAN
        }
        Err(message) => {
            write_stderr(&format!("error: {message}\n"));
            EXIT_USAGE_OR_IO
        }
    }
}

fn read(path: &Path) -> Result<String, String> {
    std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))
}

fn prepare_and_run(args: &BacktestArgs) -> Result<String, String> {
    let (groups, generated_alertmanager) = load_rules(&args.rules)?;
    let mut dataset = Dataset::default();
    for path in &args.data {
        let name = path.display().to_string();
        let text = read(path)?;
        let parsed = if path.extension().is_some_and(|e| e == "series") {
            parse_series_notation(&name, &text)?
        } else if path.extension().is_some_and(|e| e == "json") {
            crate::tools::backtest::data::parse_matrix_json(&name, &text)?
        } else {
            parse_openmetrics(&name, &text)?
        };
        dataset.merge(parsed, &name)?;
    }
    let time_flag = |flag: &str, text: &Option<String>| -> Result<Option<i64>, String> {
        text.as_deref()
            .map(|text| parse_time_ms(text).map_err(|e| format!("{flag}: {e}")))
            .transpose()
    };
    let (start_flag, end_flag) = (
        time_flag("--start", &args.start)?,
        time_flag("--end", &args.end)?,
    );
    if let (Some(url), Some(start_ms), Some(end_ms)) = (&args.prometheus_url, start_flag, end_flag)
    {
        let fetched = fetch_history(args, url, &groups, start_ms, end_ms)?;
        dataset.merge(fetched, url)?;
    }
    let extent = dataset.extent_ms();
    let no_samples = "the data has no samples; give --start and --end";
    let start_ms = match start_flag {
        Some(ms) => ms,
        None => extent.ok_or(no_samples)?.0,
    };
    let end_ms = match end_flag {
        Some(ms) => ms,
        None => extent.ok_or(no_samples)?.1,
    };
    if end_ms < start_ms {
        return Err("--end is before --start".into());
    }
    let step_override_ms = match &args.step {
        Some(text) => Some(
            parse_model_duration(text)
                .ok()
                .filter(|ms| *ms > 0)
                .ok_or_else(|| format!("--step: bad duration {text:?}"))?,
        ),
        None => None,
    };
    let alertmanager_text = match &args.alertmanager_config {
        Some(path) => Some((path.display().to_string(), read(path)?)),
        None => generated_alertmanager.map(|text| ("generated alertmanager.yml".to_string(), text)),
    };
    let config = match alertmanager_text {
        Some((name, text)) => Some(
            crate::prometheus::alertmanager::config::load(&text)
                .map_err(|e| format!("{name}: {e}"))?,
        ),
        None => None,
    };
    let options = BacktestOptions {
        start_ms,
        end_ms,
        default_interval_ms: 60_000,
        step_override_ms,
    };
    let bar = progress_bar("backtest {bar:40} {pos}/{len} steps {eta}");
    let mut progress = |done: u64, total: u64| {
        if let Some(bar) = &bar {
            if done == 1 {
                bar.set_length(total);
            }
            if done % 64 == 0 || done == total {
                bar.set_position(done);
            }
        }
    };
    let report = run_backtest(&groups, &dataset, &options, config.as_ref(), &mut progress);
    if let Some(bar) = bar {
        bar.finish_and_clear();
    }
    if let Some(path) = &args.report {
        super::atomic_write::write_file_atomically(
            path,
            &crate::tools::backtest::render_html(&report),
        )?;
    }
    Ok(match args.format {
        super::Format::Human => render_table(&report),
        super::Format::Json => render_json(&report),
    })
}

/// A progress bar on stderr when it is a terminal; the length is set by the caller.
fn progress_bar(template: &str) -> Option<indicatif::ProgressBar> {
    std::io::stderr().is_terminal().then(|| {
        let bar = indicatif::ProgressBar::new(0);
        bar.set_style(
            indicatif::ProgressStyle::with_template(template)
                .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
        );
        bar
    })
}

/// The history the rules need from `--prometheus-url`.
fn fetch_history(
    args: &BacktestArgs,
    url: &str,
    groups: &[RuleGroup],
    start_ms: i64,
    end_ms: i64,
) -> Result<Dataset, String> {
    let chunk_ms = parse_model_duration(&args.chunk)
        .ok()
        .filter(|ms| *ms > 0)
        .ok_or_else(|| format!("--chunk: bad duration {:?}", args.chunk))?;
    if args.concurrency == 0 {
        return Err("--concurrency must be at least 1".into());
    }
    let server = PrometheusServer::connect(&args.connection, url)?;
    let plan = crate::tools::backtest::fetch::plan_fetch(groups, start_ms, end_ms, chunk_ms);
    if plan.selectors.is_empty() {
        return Ok(Dataset::default());
    }
    let bar = progress_bar("fetch {bar:40} {pos}/{len} requests {eta}");
    let mut progress = |done: usize, total: usize| {
        if let Some(bar) = &bar {
            bar.set_length(total as u64);
            bar.set_position(done as u64);
        }
    };
    let fetched = super::connection::block_on(crate::tools::backtest::fetch::fetch(
        &server,
        &plan,
        args.concurrency,
        &mut progress,
    ))??;
    if let Some(bar) = bar {
        bar.finish_and_clear();
    }
    Ok(fetched)
}

/// Rule groups from rule files, plus (for .slo input) the generated Alertmanager
/// configuration.
fn load_rules(paths: &[PathBuf]) -> Result<(Vec<RuleGroup>, Option<String>), String> {
    let mut groups = Vec::new();
    let mut slo_paths = Vec::new();
    for path in paths {
        let is_rule_file = path.extension().is_some_and(|e| e == "yml" || e == "yaml");
        if is_rule_file {
            let name = path.display().to_string();
            let text = read(path)?;
            groups.extend(
                load_rule_file(&name, &text, RULE_FILE_OPTIONS)
                    .map_err(|errors| errors.join("\n"))?,
            );
        } else {
            slo_paths.push(path.clone());
        }
    }
    let mut alertmanager = None;
    if !slo_paths.is_empty() {
        let inputs = super::input::load(&slo_paths);
        if !inputs.io_errors.is_empty() {
            return Err(inputs.io_errors.join("\n"));
        }
        let (program, mut diagnostics) =
            crate::compiler::check_files(&inputs.map, &inputs.parseable);
        diagnostics.extend(inputs.diagnostics);
        let Some(program) = program else {
            return Err(format!(
                "the .slo files have errors:\n{}",
                crate::base::render::render_human(&inputs.map, &diagnostics, false)
            ));
        };
        for (name, text) in &crate::compiler::emit::rule_files(&program, &inputs.map) {
            groups.extend(
                load_rule_file(name, text, RULE_FILE_OPTIONS)
                    .map_err(|errors| errors.join("\n"))?,
            );
        }
        alertmanager = crate::compiler::emit::alertmanager_configuration(&program, &inputs.map);
    }
    if groups.is_empty() {
        return Err("no rule groups in the given rules".into());
    }
    Ok((groups, alertmanager))
}
