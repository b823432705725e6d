//! Prometheus rule files and their evaluation over time: loading (strict, like
//! Prometheus' `rulefmt`), rule groups evaluated in order, and the alert state machine.
//!
//! ```text
//! rule file YAML ──load_rule_file──▶ Vec<RuleGroup> ──GroupEvaluator::evaluate(ts)──▶ Storage
//! ```
//!
//! Invariants: pure (no IO; callers hand in file text); every error names the file and,
//! where the YAML parser knows it, the line; durations follow Prometheus'
//! `model.Duration` grammar; evaluation is deterministic (sorted maps only).

pub mod file;
pub mod group;

pub use file::{load_rule_file, Rule, RuleGroup, RuleKind};
pub use group::{EvalContext, GroupEvaluator, RuleEvalError};
