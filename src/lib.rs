//! mlslo: a compiler and rules engine for the service-level objectives of
//! machine-learning systems.
//!
//! ```text
//! .slo text ──syntax::parse──▶ ast ──check::check──▶ ir::Program
//!    ir ──emit──▶ prometheus rules │ PrometheusRule │ alertmanager.yml │ watcher JSON
//!    rule files + recorded series ──eval (PromQL)──▶ alert timeline, reports
//! ```
//!
//! Architecture invariant: only `cli` touches the filesystem, the environment,
//! stdout/stderr or exit codes; every other module is pure.

pub mod alertmanager;
pub mod check;
pub mod cli;
pub mod diagnostic;
pub mod eval;
pub mod ir;
pub mod syntax;
