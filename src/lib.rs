//! mlslo: a compiler and rules engine for the service-level objectives of
//! machine-learning systems.
//!
//! The crate is four layers and a shell; each imports only the layers below it:
//!
//! ```text
//! cli         the shell: arguments, files, stdout/stderr, environment, network clients
//! tools       commands built on the layers below: backtest, lint, deploy, routes
//! compiler    .slo text ──syntax──▶ ast ──check──▶ ir ──emit──▶ rules, routes, watches
//! prometheus  a faithful Prometheus/Alertmanager runtime: PromQL, rule groups,
//!             Go templates, Alertmanager, promtool's unit tests; no SLO concept inside
//! base        spans, diagnostics and their rendering, calendar, parallel work, text diffs
//! ```
//!
//! The compiler in one call is [`compile`]: `.slo` sources in, rule files and
//! diagnostics out; the backtest in one call is [`backtest`]: `.slo` sources and
//! recorded series in, the alerts that would have fired out (the documentation of
//! each has the example).
//!
//! Architecture invariant: only `cli` touches the filesystem, the environment,
//! stdout/stderr, exit codes or the network; every other module is pure. The layers
//! and this invariant are tests (`tests/integration/architecture.rs`, `tidy.rs`), and
//! `ARCHITECTURE.md` maps every file.

pub mod base;
pub mod cli;
pub mod compiler;
pub mod prometheus;
pub mod tools;

pub use compiler::{check_files, check_sources, compile, Compilation, Outputs};
pub use tools::backtest::{backtest, Backtest, BacktestOptions, RuleSet};
