//! The command line: argument parsing and dispatch to one file per subcommand.
//!
//! Architecture invariant: `cli` is the only module that touches the filesystem, the
//! environment, stdout/stderr and exit codes. Exit status: 0 clean, 1 the input has
//! errors (or warnings under `--deny-warnings`), 2 a usage or I/O problem.

mod atomic_write;
mod backtest;
mod build;
mod check;
pub mod connection;
mod deploy;
mod explain;
pub mod http;
mod input;
mod lint;
mod process_lock;
mod prometheus_api;
mod routes;
mod test;

pub use explain::{all_codes, lookup_code};
pub use input::MAX_FILE_BYTES;

use clap::{Parser, Subcommand, ValueEnum};
use std::ffi::OsString;
use std::path::PathBuf;
use std::process::ExitCode;

/// Exit status when every input is clean.
pub const EXIT_CLEAN: u8 = 0;
/// Exit status when the input has errors, or warnings under `--deny-warnings`.
pub const EXIT_INVALID_INPUT: u8 = 1;
/// Exit status for a usage problem (bad arguments, unknown code) or an I/O problem.
pub const EXIT_USAGE_OR_IO: u8 = 2;

/// Compiler and rules engine for the service-level objectives of ML systems.
#[derive(Debug, Parser)]
#[command(name = "mlslo", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Parse and type-check .slo files, reporting every problem at once.
    Check(CheckArgs),
    /// Print the long explanation of a diagnostic code, such as E0101.
    Explain(ExplainArgs),
    /// Compile .slo files into generated rule files (or check that they are fresh).
    Build(build::BuildArgs),
    /// Run promtool rule unit-test files (`promtool test rules` format).
    Test(test::TestArgs),
    /// Show what `deploy` would change on a target (exit 1 when something would).
    Diff(deploy::DiffArgs),
    /// Apply the generated configuration to a target: exactly the plan `diff` shows.
    Deploy(deploy::DeployArgs),
    /// Show where firing alerts go in an Alertmanager configuration and which alert inhibits which.
    Routes(routes::RoutesArgs),
    /// Evaluate rules over recorded data: when each alert would have fired and who was paged.
    Backtest(backtest::BacktestArgs),
    /// Lint Prometheus rule files, PrometheusRule manifests and .slo files.
    Lint(lint::LintArgs),
}

#[derive(Debug, clap::Args)]
struct CheckArgs {
    /// Files or folders to check; folders are searched recursively for *.slo files.
    #[arg(value_name = "PATHS", default_value = "rules/")]
    paths: Vec<PathBuf>,
    /// How to print diagnostics: for people (stderr) or as one JSON document (stdout).
    #[arg(long, value_enum, default_value_t = Format::Human)]
    format: Format,
    /// Treat warnings as errors for the exit status.
    #[arg(long)]
    deny_warnings: bool,
    /// Also show the series each objective's recording rules write, per group
    /// (stdout; with `--format json`, stdout is one object holding both).
    #[arg(long)]
    explain_cardinality: bool,
}

#[derive(Debug, clap::Args)]
struct ExplainArgs {
    /// The code to explain, such as E0101 (case does not matter).
    #[arg(required_unless_present = "list")]
    code: Option<String>,
    /// List every code with its title instead.
    #[arg(long, conflicts_with = "code")]
    list: bool,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum Format {
    Human,
    Json,
}

/// Runs the command line given by the process arguments.
pub fn run() -> ExitCode {
    run_with_args(std::env::args_os())
}

fn run_with_args(args: impl IntoIterator<Item = OsString>) -> ExitCode {
    let cli = match Cli::try_parse_from(args) {
        Ok(cli) => cli,
        Err(error) => {
            // `--help` and `--version` arrive here too, as "errors" bound for stdout.
            let status = if error.use_stderr() {
                EXIT_USAGE_OR_IO
            } else {
                EXIT_CLEAN
            };
            // Nothing sensible is left to do when stdout/stderr are closed.
            let _ = error.print();
            return ExitCode::from(status);
        }
    };
    let status = match cli.command {
        Command::Check(args) => check::run(
            &args.paths,
            args.format,
            args.deny_warnings,
            args.explain_cardinality,
        ),
        Command::Explain(args) => explain::run(args.code.as_deref(), args.list),
        Command::Build(args) => build::run(&args),
        Command::Test(args) => test::run(&args),
        Command::Diff(args) => deploy::run_diff(&args),
        Command::Deploy(args) => deploy::run_deploy(&args),
        Command::Routes(args) => routes::run(&args),
        Command::Backtest(args) => backtest::run(&args),
        Command::Lint(args) => lint::run(&args),
    };
    ExitCode::from(status)
}

/// Writes to stdout, ignoring a closed pipe (`mlslo explain --list | head -1`):
/// `println!` would panic there.
fn write_stdout(text: &str) {
    use std::io::Write;
    let mut stdout = std::io::stdout().lock();
    let _ = stdout
        .write_all(text.as_bytes())
        .and_then(|()| stdout.flush());
}

/// Writes to stderr, ignoring failures for the same reason as [`write_stdout`].
fn write_stderr(text: &str) {
    use std::io::Write;
    let mut stderr = std::io::stderr().lock();
    let _ = stderr
        .write_all(text.as_bytes())
        .and_then(|()| stderr.flush());
}
