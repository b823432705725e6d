//! `mlslo backtest`: reads the rules (Prometheus rule files, and `.slo` files found
//! as `mlslo check` finds them) and the recorded data, pulls history from
//! `--prometheus-url`, shows progress, and prints the report of
//! [`crate::tools::backtest::Backtest::run`] as a table or JSON.
//!
//! Only I/O lives here: what the files mean, the checks of every flag and the replay
//! are the library's ([`crate::tools::backtest`]).
//!
//! Invariants: exit 0 after a completed backtest, 2 on any unreadable or invalid
//! input (with file:line where there is one); each rule and data file goes to the
//! library as soon as it is read, so the first bad file is the one reported; nothing
//! is printed to stdout before every input has been read; the progress bar goes to
//! stderr only on a terminal.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};

use super::prometheus_api::PrometheusServer;
use super::{write_stderr, write_stdout, EXIT_CLEAN, EXIT_USAGE_OR_IO};
use crate::tools::backtest::{
    compare, fetch::fetch, render_html, render_json, render_table, Backtest, BacktestOptions,
    Dataset, RuleSet,
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
    /// The most evaluation timestamps the run may take; a longer run is refused before
    /// it starts [default: 1000000, a year at 1m steps fits].
    #[arg(long, value_name = "N")]
    pub max_steps: Option<u64>,
    /// Alertmanager configuration for routing firings (default for .slo input: the
    /// one generated from the routing block).
    #[arg(long, value_name = "FILE")]
    pub alertmanager_config: Option<PathBuf>,
    /// Labelled incident windows (YAML) to score the alerts against: precision,
    /// recall, detection and reset time (default: incidents inferred from the SLIs).
    #[arg(long, value_name = "FILE")]
    pub incidents: Option<PathBuf>,
    /// Replay these rules too (Prometheus rule files or .slo files, e.g. the rules
    /// deployed today, or another generator's) over the same data, routing and
    /// incidents, and report both side by side with the differences.
    #[arg(long, value_name = "OTHER_RULES", num_args = 1..)]
    pub compare: Vec<PathBuf>,
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
    super::input::read_text(path).map_err(|e| format!("{}: {e}", path.display()))
}

fn prepare_and_run(args: &BacktestArgs) -> Result<String, String> {
    let backtest = load_rules(&args.rules)?;
    let other = if args.compare.is_empty() {
        None
    } else {
        Some(load_rules(&args.compare)?)
    };
    // What the data must hold: the series either rule set reads.
    let both = other.as_ref().map(|other| backtest.together_with(other));
    let reading = both.as_ref().unwrap_or(&backtest);
    let mut dataset = Dataset::default();
    for path in &args.data {
        dataset.add_file(&path.display().to_string(), &read(path)?)?;
    }
    let options = BacktestOptions {
        start: args.start.as_deref(),
        end: args.end.as_deref(),
        step: args.step.as_deref(),
        alertmanager_config: None,
        max_steps: args.max_steps,
        incidents: None,
    };
    if let (Some(url), (Some(start_ms), Some(end_ms))) =
        (&args.prometheus_url, options.start_and_end_ms()?)
    {
        let fetched = fetch_history(args, url, reading, start_ms, end_ms)?;
        dataset.merge(fetched, url)?;
    }
    if args.prometheus_url.is_none() {
        for warning in reading.data_warnings(&dataset, &options)? {
            eprintln!("warning: --data: {warning}");
        }
    }
    let alertmanager_config = match &args.alertmanager_config {
        Some(path) => Some((path.display().to_string(), read(path)?)),
        None => None,
    };
    let incidents = match &args.incidents {
        Some(path) => Some((path.display().to_string(), read(path)?)),
        None => None,
    };
    let options = BacktestOptions {
        alertmanager_config: alertmanager_config
            .as_ref()
            .map(|(name, text)| (name.as_str(), text.as_str())),
        incidents: incidents
            .as_ref()
            .map(|(name, text)| (name.as_str(), text.as_str())),
        ..options
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
    if let Some(other) = &other {
        let names = |paths: &[PathBuf]| {
            paths
                .iter()
                .map(|p| p.display().to_string())
                .collect::<Vec<_>>()
                .join(" ")
        };
        let comparison = backtest.compare(
            other,
            (&names(&args.rules), &names(&args.compare)),
            &dataset,
            &options,
            &mut progress,
        );
        if let Some(bar) = bar {
            bar.finish_and_clear();
        }
        let comparison = comparison?;
        if let Some(path) = &args.report {
            super::atomic_write::write_file_atomically(path, &render_html(&comparison.base))?;
        }
        return Ok(match args.format {
            super::Format::Human => compare::render_text(&comparison),
            super::Format::Json => compare::render_json(&comparison),
        });
    }
    let report = backtest.run(&dataset, &options, &mut progress);
    if let Some(bar) = bar {
        bar.finish_and_clear();
    }
    let report = report?;
    if let Some(path) = &args.report {
        super::atomic_write::write_file_atomically(path, &render_html(&report))?;
    }
    Ok(match args.format {
        super::Format::Human => render_table(&report),
        super::Format::Json => render_json(&report),
    })
}

/// A progress bar on stderr when it is a terminal; the length is set by the caller.
pub(super) fn progress_bar(template: &str) -> Option<indicatif::ProgressBar> {
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
    backtest: &Backtest,
    start_ms: i64,
    end_ms: i64,
) -> Result<Dataset, String> {
    let plan = backtest.plan_fetch(start_ms, end_ms, &args.chunk, args.concurrency)?;
    let server = PrometheusServer::connect(&args.connection, url)?;
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
    let fetched = super::connection::block_on(fetch(&server, &plan, &mut progress))??;
    if let Some(bar) = bar {
        bar.finish_and_clear();
    }
    for warning in &fetched.warnings {
        eprintln!("warning: {url}: {warning}");
    }
    Ok(fetched.dataset)
}

/// The rules named by `paths`: `.yml`/`.yaml` files are Prometheus rule files, read in
/// order; every other path is `.slo` (a file, or a folder searched for them), and
/// those are read together and compiled as one program after the rule files.
fn load_rules(paths: &[PathBuf]) -> Result<Backtest, String> {
    let mut rules = RuleSet::default();
    let mut slo_paths = Vec::new();
    for path in paths {
        let is_rule_file = path.extension().is_some_and(|e| e == "yml" || e == "yaml");
        if is_rule_file {
            rules.add_rule_file(&path.display().to_string(), &read(path)?)?;
        } else {
            slo_paths.push(path.clone());
        }
    }
    if !slo_paths.is_empty() {
        let inputs = super::input::load(&slo_paths);
        if !inputs.io_errors.is_empty() {
            return Err(inputs.io_errors.join("\n"));
        }
        rules.add_slo_sources(&inputs.map, &inputs.parseable, inputs.diagnostics)?;
    }
    rules.finish()
}
