//! Prometheus rule files and their evaluation over time: the one reader of the rule-file
//! schema (as strict as promtool 2.42's `rulefmt`), rule groups evaluated in order, and
//! the alert state machine.
//!
//! ```text
//! rule file YAML ──source::decode_rule_file──▶ RuleFileSource ──validate──▶ [SchemaError]
//!                                                  │  (lint, deploy read it here)
//!                                                  ▼ file::load_rule_file
//!                                             Vec<RuleGroup> ──GroupEvaluator::evaluate(ts)──▶ Storage
//! ```
//!
//! Invariants: pure (no IO; callers hand in file text); every tool that reads rule files
//! reads them through [`source`] and [`validate`], so all refuse the same files; every
//! error names the file and, where the YAML parser knows it, the line; durations follow
//! Prometheus' `model.Duration` grammar; evaluation is deterministic (sorted maps only).

pub mod file;
pub mod group;
pub mod source;
pub mod validate;

pub use file::{load_rule_file, read_rule_file, Rule, RuleFileOptions, RuleGroup, RuleKind};
pub use group::{EvalContext, GroupEvaluator, RuleEvalError};
pub use source::{decode_rule_file, GroupSource, RuleFileSource, RuleSource};
pub use validate::{GroupFields, GroupProblem, RuleProblem, SchemaError};
