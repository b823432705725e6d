//! The commands built on the compiler and the Prometheus runtime: backtests over
//! recorded history, the rule-file linter, deploy planning and the routing report.
//! Pure: files and the clock reach them as values from `crate::cli`, servers through
//! traits the CLI implements (such as [`crate::prometheus::http_api::PrometheusApi`]);
//! no tool imports another tool or the CLI.

pub mod backtest;
pub mod deploy;
pub mod lint;
pub mod routes;
