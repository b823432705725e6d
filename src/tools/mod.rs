//! The commands built on the compiler and the Prometheus runtime: backtests over
//! recorded history, the rule-file linter, deploy planning and the routing report.
//! Pure: files, the clock and the network reach them from `crate::cli`.

pub mod backtest;
pub mod deploy;
pub mod lint;
pub mod routes;
